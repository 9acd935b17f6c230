#!/usr/bin/env bats
# tls-ops.bats - TLS (SPEC section 12) where it is run for real: behind
# HAProxy in TCP mode with send-proxy-v2 (the handler sees the client and
# SSL_PROTOCOL); a key file only root can read with -u and with -c (the
# handler can neither open it nor holds a descriptor but 0, 1 and 2);
# renewal by SIGHUP under continuous load (no failure, new handshakes get
# the new certificate) and a session opened before it that outlives three
# more re-executions; stream mode under systemd-socket-activate --inetd
# and under a private openbsd-inetd (served, the handler's exit status
# passed on, a failed handshake ends without a handler).
#
# The clients are t/tls-ops.py (python's ssl module): they compare the
# server's certificate by its SHA-256 fingerprint (t/tls.bash's
# tls_fingerprint) instead of verifying it. Certificates are made by
# t/tls.bash in each test's temporary directory.

bats_require_minimum_version 1.5.0

load helper
load tls

# openbsd-inetd, unpacked by "./dev deps" (see t/examples.bats)
OPENBSD_INETD=${OPENBSD_INETD:-/usr/local/lib/single-server-test/openbsd-inetd/usr/sbin/inetd}

setup() {
	need_tls
	TLS=$BATS_TEST_TMPDIR/tls
	RAN=$BATS_TEST_TMPDIR/ran
	mkdir -p "$TLS"
	tls_ca "$TLS"
	tls_cert "$TLS" server
}

# supervisors started by a test, stopped with the processes they spawned
TREE_PIDS=()

teardown() {
	local p
	[ ! -d "${D:-/nonexistent}" ] || : >"$D/go"
	for p in "${TREE_PIDS[@]}"; do
		kill_tree "$p"
	done
	cleanup_bg
	[ -z "${PRIV_DIR:-}" ] || rm -rf "$PRIV_DIR"
}

# ops ARGS...: the test client (see t/tls-ops.py)
ops() {
	python3 "$SRC/t/tls-ops.py" "$@"
}

# tls_args: TLS_ARGS, the parameters for $TLS/server.pem and its key
tls_args() {
	TLS_ARGS=(-o "tls_cert_file=$TLS/server.pem" -o "tls_key_file=$TLS/server.key")
}

# env_handler FILE STATUS: a handler that appends "ran" to $RAN, prints
# its TCP*, PROXY*, SSL_* and HTTPS variables sorted, "--", "got LINE"
# for the first line it reads, and exits with STATUS
env_handler() {
	cat >"$1" <<-EOF
		#!/bin/sh
		echo ran >>"$RAN"
		env | grep -E '^(TCP|PROXY|SSL_|HTTPS=)' | sort
		echo --
		IFS= read -r line
		printf 'got %s\n' "\$line"
		exit $2
	EOF
	chmod 0755 "$1"
}

# reply: what the handler wrote, after tls-ops.py's "--"
reply() {
	sed '1,/^--$/d' <<<"$output"
}

# wait_lines FILE PATTERN N [SECONDS]: wait (bounded) until N lines of
# FILE match the extended regular expression PATTERN
wait_lines() {
	local i limit=${4:-20}
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
	done
	echo "$1 never had $3 lines matching $2:" >&2
	cat "$1" >&2
	return 1
}

# ---- HAProxy -----------------------------------------------------------

# start_haproxy BACKEND: HAProxy in TCP mode in the foreground, its
# frontend on a free port and its one server BACKEND with send-proxy-v2;
# retried (bounded) when the port was taken meanwhile. Sets FRONT,
# HAPROXY_PID, HAPROXY_LOG. Returns once HAProxy listens.
start_haproxy() {
	local try port conf=$BATS_TEST_TMPDIR/haproxy.cfg
	HAPROXY_LOG=$BATS_TEST_TMPDIR/haproxy.log
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		cat >"$conf" <<-EOF
			global
			    log stderr format raw local0
			    noreuseport
			defaults
			    mode tcp
			    log global
			    timeout connect 5s
			    timeout client 30s
			    timeout server 30s
			frontend tls_in
			    bind 127.0.0.1:$port
			    default_backend app
			backend app
			    server app1 $1 send-proxy-v2
		EOF
		: >"$HAPROXY_LOG"
		bg "$HAPROXY" -db -f "$conf" </dev/null >>"$HAPROXY_LOG" 2>&1
		HAPROXY_PID=$BG_PID
		if wait_listening "$port" "$HAPROXY_PID" 5; then
			FRONT=127.0.0.1:$port
			return 0
		fi
		kill_pids "$HAPROXY_PID"
	done
	echo "haproxy never listened" >&2
	cat "$conf" "$HAPROXY_LOG" >&2
	return 1
}

# the handler's variables through HAProxy: the client (127.0.0.2 and its
# port), the frontend, HAProxy as the proxy, TLS of version $1
sees_client_through_haproxy() {
	local cport
	cport=$(sed -n 's/^port //p' <<<"$output")
	[ -n "$cport" ]
	[ "$(sed -n 's/^fp //p' <<<"$output")" = "$(tls_fingerprint "$TLS/server.pem")" ]
	[ "$(sed -n 's/^version //p' <<<"$output")" = "$1" ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	[ "$(var TCPREMOTEPORT)" = "$cport" ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = "${FRONT##*:}" ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.1 ]
	[ -n "$(var PROXYREMOTEPORT)" ]
	[ "$(var PROXYREMOTEPORT)" != "$cport" ]
	[ "$(var SSL_PROTOCOL)" = "$1" ]
	[ -n "$(var SSL_CIPHER)" ]
	[ "$(var HTTPS)" = on ]
	[ "$(reply | tail -1)" = "got hello through haproxy" ]
}

@test "HAProxy (mode tcp, send-proxy-v2) before a TLS port: the handler sees the client, the frontend, HAProxy and SSL_PROTOCOL" {
	HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
	[ -x "$HAPROXY" ] || skip "haproxy not installed (./dev deps installs it)"
	env_handler "$BATS_TEST_TMPDIR/handler" 0
	tls_args
	start_server -L 127.0.0.1:0 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=127.0.0.1/32 "${TLS_ARGS[@]}" \
		-- "$BATS_TEST_TMPDIR/handler"
	start_haproxy "$ADDR"
	run -0 ops once "$FRONT" --bind 127.0.0.2 --tls 1.3 --send 'hello through haproxy\n'
	echo "$output"
	sees_client_through_haproxy TLSv1.3
	run -0 ops once "$FRONT" --bind 127.0.0.2 --tls 1.2 --send 'hello through haproxy\n'
	echo "$output"
	sees_client_through_haproxy TLSv1.2
	[ "$(ran_count)" -eq 2 ]
	! grep -E 'refuse|warning|error' "$LOG" || false
}

# ---- the key out of the handler's reach ----------------------------------

# private_tls: PRIV_DIR (under /tmp, traversable by nobody, removed in
# teardown) with the server's certificate (0444) and its key (root's,
# 0400) and a copy of t/inspect that nobody may run; sets KEY, CERT, INSPECT
private_tls() {
	PRIV_DIR=$(mktemp -d /tmp/ss-tlsops.XXXXXX)
	chmod 0711 "$PRIV_DIR"
	CERT=$PRIV_DIR/server.pem
	KEY=$PRIV_DIR/server.key
	INSPECT=$PRIV_DIR/inspect
	cp "$TLS/server.pem" "$CERT"
	cp "$TLS/server.key" "$KEY"
	chown root:root "$CERT" "$KEY"
	chmod 0444 "$CERT"
	chmod 0400 "$KEY"
	[ -x "$BUILD/t/inspect" ] || {
		echo "t/inspect is not built: make check builds it" >&2
		return 1
	}
	cp "$BUILD/t/inspect" "$INSPECT"
	chmod 0755 "$INSPECT"
}

# inspected KEY REASON: the last reply (t/inspect's, KEY given as its
# argument) came over TLS with the server's certificate, from a handler
# holding fds 0, 1 and 2 only, which could not open KEY for REASON
inspected() {
	echo "$output"
	[ "$(sed -n 's/^fp //p' <<<"$output")" = "$(tls_fingerprint "$TLS/server.pem")" ]
	run -0 reply
	[ "${lines[0]}" = "fds: 0 1 2" ]
	[ "${lines[3]}" = "open $1: $2" ]
}

@test "-u: a key only root can read works; the handler (nobody) cannot open it and holds only fds 0, 1 and 2" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	private_tls
	start_server -v -u -o user=nobody -L 127.0.0.1:0 \
		-o "tls_cert_file=$CERT" -o "tls_key_file=$KEY" -- "$INSPECT" "$KEY"
	[ "$(ps -o user= -p "$SERVER_PID")" = nobody ]	# the server dropped too
	run -0 ops once "$ADDR"
	inspected "$KEY" "Permission denied"
	# the control: root could, so the key is where the handler looked
	run -0 "$INSPECT" "$KEY" </dev/null
	[ "${lines[3]}" = "open $KEY: ok" ]
}

@test "-u: with a key only root can read, every client across max_use re-executions is served" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	private_tls
	local n
	start_server -v -m 2 -u -o user=nobody -L 127.0.0.1:0 \
		-o "tls_cert_file=$CERT" -o "tls_key_file=$KEY" -- "$INSPECT" "$KEY"
	wait_log_count ': ready: ' 1
	# the second client of each image is the one its re-execution hands over
	for ((n = 1; n <= 5; n++)); do
		run -0 ops once "$ADDR"
		inspected "$KEY" "Permission denied"
		[ $((n % 2)) -eq 1 ] || wait_log_count ': ready: ' $((n / 2 + 1))
	done
	[ "$(grep -c 'handler pid [0-9]* exit status 0' "$LOG")" -eq 5 ]
	! grep -E 'fatal|refuse' "$LOG" || false
}

@test "-u: with a key only root can read, SIGHUP re-executes (a new program is taken up) and TLS is served on" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	private_tls
	start_server -v -u -o user=nobody -L 127.0.0.1:0 \
		-o "tls_cert_file=$CERT" -o "tls_key_file=$KEY" -- "$INSPECT" "$KEY"
	wait_log_count ': ready: ' 1
	kill -HUP "$SERVER_PID"
	wait_log_count ': re-executing ' 1
	wait_log_count ': ready: ' 2
	run -0 ops once "$ADDR"
	inspected "$KEY" "Permission denied"
	alive "$SERVER_PID"
}

@test "-c: a key outside the chroot works; the handler inside cannot open it and holds only fds 0, 1 and 2" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -x "$BUILD/t/inspect-static" ] || {
		echo "t/inspect-static is not built: make check builds it" >&2
		return 1
	}
	local root=$BATS_TEST_TMPDIR/root
	no_leak_check
	mkdir -p "$root/bin"
	cp "$BUILD/t/inspect-static" "$root/bin/inspect"
	chmod 0400 "$TLS/server.key"
	tls_args
	start_server -c -o chroot_directory="$root" -L 127.0.0.1:0 "${TLS_ARGS[@]}" \
		-- /bin/inspect "$TLS/server.key"
	run -0 ops once "$ADDR"
	inspected "$TLS/server.key" "No such file or directory"
	# and with -u nobody as well
	cleanup_bg
	start_server -c -o chroot_directory="$root" -u -o user=nobody \
		-L 127.0.0.1:0 "${TLS_ARGS[@]}" -- /bin/inspect "$TLS/server.key"
	run -0 ops once "$ADDR"
	inspected "$TLS/server.key" "No such file or directory"
}

# ---- renewal -------------------------------------------------------------

# renew NAME: a new key and certificate for NAME (the same CA), written
# over the old files by rename, as a renewal tool does; sets OLD_FP and
# NEW_FP
renew() {
	OLD_FP=$(tls_fingerprint "$TLS/$1.pem")
	tls_cert "$TLS" renewed
	mv "$TLS/renewed.key" "$TLS/$1.key"
	mv "$TLS/renewed.pem" "$TLS/$1.pem"
	NEW_FP=$(tls_fingerprint "$TLS/$1.pem")
	[ "$OLD_FP" != "$NEW_FP" ]
}

@test "renewal: new certificate and key files and SIGHUP under continuous load: no failure, new handshakes get the new certificate" {
	local out=$BATS_TEST_TMPDIR/load.out stop=$BATS_TEST_TMPDIR/stop load
	tls_args
	start_server -v -L 127.0.0.1:0 "${TLS_ARGS[@]}" -- "$H/echo-line"
	wait_log_count ': ready: ' 1
	: >"$out"
	bg ops load "$ADDR" "$stop" "$out"
	load=$BG_PID
	wait_lines "$out" '^ok ' 10
	renew server
	kill -HUP "$SERVER_PID"
	wait_log_count ': ready: ' 2
	# a handshake begun now is the new image's
	run -0 ops once "$ADDR" --send 'after\n'
	[ "$(sed -n 's/^fp //p' <<<"$output")" = "$NEW_FP" ]
	[ "$(reply)" = after ]
	wait_lines "$out" "^ok $NEW_FP\$" 10
	: >"$stop"
	wait_status "$load" 20
	echo "load: $(grep -c '^ok ' "$out") ok, $(grep -vc '^ok ' "$out") other"
	grep -v '^ok ' "$out" >&2 || true
	[ "$STATUS" -eq 0 ]
	! grep -v '^ok ' "$out" || false
	# one client after the other: the old certificate, then only the new
	[ "$(uniq "$out")" = "$(printf 'ok %s\nok %s' "$OLD_FP" "$NEW_FP")" ]
	[ "$(grep -c "^ok $OLD_FP\$" "$out")" -ge 10 ]
	! grep -E 'refuse|fatal|warning' "$LOG" || false
}

@test "renewal: a session opened before SIGHUP is intact after three more max_use re-executions, both ways" {
	D=$BATS_TEST_TMPDIR/session
	mkdir -p "$D"
	local n session
	# "session": echo it, then everything (cat); any other line: echo it
	cat >"$BATS_TEST_TMPDIR/handler" <<-'EOF'
		#!/bin/sh
		IFS= read -r line
		printf '%s\n' "$line"
		[ "$line" != session ] || exec cat
	EOF
	chmod 0755 "$BATS_TEST_TMPDIR/handler"
	tls_args
	start_server -v -m 2 -L 127.0.0.1:0 "${TLS_ARGS[@]}" -- "$BATS_TEST_TMPDIR/handler"
	wait_log_count ': ready: ' 1
	bg ops session "$ADDR" "$D" >"$D/out"
	session=$BG_PID
	wait_for_file "$D/phase1" 20
	renew server
	[ "$(cat "$D/session.fp")" = "fp $OLD_FP" ]
	kill -HUP "$SERVER_PID"
	wait_log_count ': re-executing ' 1
	wait_log_count ': ready: ' 2
	# two clients for each image: max_use re-executes it, three times
	for ((n = 1; n <= 6; n++)); do
		run -0 ops once "$ADDR" --send "c$n\n"
		[ "$(sed -n 's/^fp //p' <<<"$output")" = "$NEW_FP" ]
		[ "$(reply)" = "c$n" ]
		[ $((n % 2)) -eq 1 ] || wait_log_count ': ready: ' $((n / 2 + 2))
	done
	[ "$(grep -c ': re-executing ' "$LOG")" -eq 4 ]
	kill -0 "$session"	# still in its session, waiting
	: >"$D/go"
	wait_status "$session" 30
	cat "$D/out"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out")" = "ok 1114120 1114120" ]
	# the sessions are over: only the relay of the image that serves is left
	no_old_relays "$SERVER_PID"
	! grep -E 'refuse|fatal' "$LOG" || false
}

# no_old_relays PID: wait (bounded) until PID has one child at most (the
# relay of the image now serving; every older one ended with its sessions)
no_old_relays() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(ps -o pid= --ppid "$1" | wc -l)" -le 1 ] && return 0
		sleep 0.05
	done
	echo "children of $1 still there:" >&2
	ps -o pid,stat,args --ppid "$1" >&2
	return 1
}

# ---- stream mode under supervisors ---------------------------------------

need_activate() {
	command -v systemd-socket-activate >/dev/null ||
		skip "no systemd-socket-activate"
}

need_inetd() {
	[ -x "$OPENBSD_INETD" ] ||
		skip "no openbsd-inetd at $OPENBSD_INETD (run ./dev deps as root)"
}

# plaintext_client ADDR: an HTTP request where TLS is expected; prints
# what came back (as od -c) until the server closed
plaintext_client() {
	python3 - "$1" <<-'PY'
	import socket, sys
	host, port = sys.argv[1].rsplit(":", 1)
	s = socket.create_connection((host, int(port)), timeout=10)
	s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	got = b""
	try:
	    while True:
	        b = s.recv(4096)
	        if not b:
	            break
	        got += b
	except ConnectionResetError:
	    got += b"<reset>"
	print(repr(got))
	PY
}

# served_in_stream_mode: the last reply came over TLS, from the handler
served_in_stream_mode() {
	echo "$output"
	[ "$(sed -n 's/^fp //p' <<<"$output")" = "$(tls_fingerprint "$TLS/server.pem")" ]
	[ "$(var SSL_PROTOCOL)" = TLSv1.3 ]
	[ "$(var HTTPS)" = on ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ "$(reply | tail -1)" = "got stream" ]
}

@test "stream mode under systemd-socket-activate --inetd -a: TLS served, the handler's exit status passed on, a failed handshake ends without a handler" {
	need_activate
	env_handler "$BATS_TEST_TMPDIR/handler" 7
	tls_args
	start_socket_activate -a --inetd -- "$SS" -S -V "${TLS_ARGS[@]}" \
		-- "$BATS_TEST_TMPDIR/handler"
	run -0 ops once "$ADDR" --send 'stream\n'
	served_in_stream_mode
	wait_for_log 'died with code 7'
	[ "$(ran_count)" -eq 1 ]
	# plaintext on the TLS port: no handler, status 0, the reason logged
	run -0 plaintext_client "$ADDR"
	echo "$output"
	[[ $output != *HTTP* ]]
	wait_for_log 'died with code 0'
	[ "$(ran_count)" -eq 1 ]
	grep -E 'refuse 127\.0\.0\.1 \(TLS handshake: .+\)' "$LOG"
	# and serves again
	run -0 ops once "$ADDR" --send 'stream\n'
	served_in_stream_mode
	[ "$(ran_count)" -eq 2 ]
	wait_log_count 'died with code 7' 2
}

# start_inetd LINE...: a private openbsd-inetd in the foreground (-d) with
# one nowait service on 127.0.0.1 and a free port running LINE (program,
# then argv[0] and arguments: no white space in any), as root; retried
# (bounded) when the port was taken meanwhile. Sets ADDR, INETD_LOG.
start_inetd() {
	local try port conf=$BATS_TEST_TMPDIR/inetd.conf pid
	INETD_LOG=$BATS_TEST_TMPDIR/inetd.log
	for ((try = 0; try < 3; try++)); do
		port=$(free_port)
		printf '127.0.0.1:%s\tstream\ttcp\tnowait\troot\t%s\n' "$port" "$*" >"$conf"
		: >"$INETD_LOG"
		bg "$OPENBSD_INETD" -d "$conf" </dev/null >>"$INETD_LOG" 2>&1
		pid=$BG_PID
		if wait_listening "$port" "$pid" 3; then
			TREE_PIDS+=("$pid")
			ADDR=127.0.0.1:$port
			return 0
		fi
		kill_tree "$pid"
	done
	echo "inetd never listened" >&2
	cat "$conf" "$INETD_LOG" >&2
	return 1
}

# inetd_status N STATUS: wait (bounded) until the private inetd reaped N
# children in all, the last with wait status STATUS (as inetd -d prints
# it, in hex: 700 for exit 7, 0 for exit 0)
inetd_status() {
	wait_lines "$INETD_LOG" ' reaped, status ' "$1" 10 &&
		[ "$(grep ' reaped, status ' "$INETD_LOG" | tail -1 | sed 's/.*status //')" = "$2" ]
}

@test "stream mode under openbsd-inetd (nowait): TLS served, the handler's exit status passed on, a failed handshake ends without a handler" {
	need_inetd
	[ "$(id -u)" -eq 0 ] || skip "needs root (the inetd.conf user)"
	env_handler "$BATS_TEST_TMPDIR/handler" 7
	tls_args
	[[ $BATS_TEST_TMPDIR != *[[:space:]]* ]]	# inetd.conf has no quoting
	start_inetd "$SS" single-server -S "${TLS_ARGS[@]}" "$BATS_TEST_TMPDIR/handler"
	run -0 ops once "$ADDR" --send 'stream\n'
	served_in_stream_mode
	inetd_status 1 700
	[ "$(ran_count)" -eq 1 ]
	run -0 plaintext_client "$ADDR"
	echo "$output"
	[[ $output != *HTTP* ]]
	inetd_status 2 0
	[ "$(ran_count)" -eq 1 ]
	run -0 ops once "$ADDR" --tls 1.2 --send 'stream\n'
	echo "$output"
	[ "$(var SSL_PROTOCOL)" = TLSv1.2 ]
	[ "$(reply | tail -1)" = "got stream" ]
	inetd_status 3 700
	[ "$(ran_count)" -eq 2 ]
}

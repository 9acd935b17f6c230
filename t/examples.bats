#!/usr/bin/env bats
# examples.bats - every file of examples/ runs for real and answers a
# client, so that none of them can rot: the systemd units through
# systemd-socket-activate with the unit's own ExecStart= line, the
# inetd.conf lines under a private openbsd-inetd, the xinetd service under
# a private xinetd, each on a free loopback port, with the installed paths
# the files name replaced by the build tree's.

load helper
load tls
bats_require_minimum_version 1.5.0

EX=$SRC/examples
# the paths the examples assume (each says so in its header comment)
INSTALLED_SS=/usr/local/bin/single-server
INSTALLED_EX=/usr/local/share/doc/single-server/examples
# openbsd-inetd, unpacked (not installed: it conflicts with xinetd) by
# "./dev deps"
OPENBSD_INETD=${OPENBSD_INETD:-/usr/local/lib/single-server-test/openbsd-inetd/usr/sbin/inetd}

# supervisors started by a test, stopped with the servers they spawned
TREE_PIDS=()

teardown() {
	local p
	for p in "${TREE_PIDS[@]}"; do
		kill_tree "$p"
	done
	cleanup_bg
}

need_activate() {
	command -v systemd-socket-activate >/dev/null ||
		skip "no systemd-socket-activate"
}

need_inetd() {
	[ -x "$OPENBSD_INETD" ] ||
		skip "no openbsd-inetd at $OPENBSD_INETD (run ./dev deps as root)"
}

need_xinetd() {
	command -v xinetd >/dev/null || skip "no xinetd"
}

# localize FILE: FILE with the installed paths replaced by the build tree's
localize() {
	sed -e "s|$INSTALLED_SS|$SS|g" -e "s|$INSTALLED_EX|$EX|g" "$1"
}

# unit_value FILE KEY: the value of KEY= in a systemd unit file
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -1
}

# exec_start FILE: the ExecStart= command of a service file, localized, in
# the array CMD; fails on quoting or specifiers this test does not expand
exec_start() {
	local line
	line=$(localize "$1" | sed -n 's/^ExecStart=//p')
	if [ -z "$line" ] || [[ $line == *[%\$\"\'\\]* ]]; then
		echo "ExecStart= missing or not a plain command: $line" >&2
		return 1
	fi
	read -ra CMD <<<"$line"
}

# has_arg WORD WORDS...: WORD is one of WORDS
has_arg() {
	local w=$1
	shift
	[[ " $* " == *" $w "* ]]
}

# start_supervisor PORTFILE COMMAND...: run COMMAND (a superserver whose
# configuration was made for the port in PORTFILE) in the background, in
# the syslog namespace when syslog_start was called; returns once it
# listens on that port, fails (stopping it) when it does not within 3 s
start_supervisor() {
	local port
	port=$(cat "$1")
	shift
	LOG=$BATS_TEST_TMPDIR/supervisor.log
	if [ -n "${SYSLOG_SOCK:-}" ]; then
		syslog_bg "$@" </dev/null >>"$LOG" 2>&1
	else
		bg "$@" </dev/null >>"$LOG" 2>&1
	fi
	SERVER_PID=$BG_PID
	if wait_listening "$port" "$SERVER_PID" 3; then
		TREE_PIDS+=("$SERVER_PID")
		ADDR=127.0.0.1:$port
		return 0
	fi
	kill_tree "$SERVER_PID"
	return 1
}

# start_openbsd_inetd nowait|wait: the line of examples/inetd.conf of that
# kind, on 127.0.0.1 and a free port, run as the current user, under a
# private inetd in the foreground (-d); retried (bounded) when the port
# was taken meanwhile. Sets ADDR, SERVER_PID (inetd), LOG.
start_openbsd_inetd() {
	local kind=$1 try conf=$BATS_TEST_TMPDIR/inetd.conf
	for ((try = 0; try < 3; try++)); do
		free_port >"$BATS_TEST_TMPDIR/port"
		localize "$EX/inetd.conf" | awk -v kind="$kind" \
			-v port="$(cat "$BATS_TEST_TMPDIR/port")" -v user="$(id -un)" '
			!/^#/ && $4 == kind { $1 = "127.0.0.1:" port; $5 = user; print }' >"$conf"
		[ "$(wc -l <"$conf")" -eq 1 ] || {
			echo "examples/inetd.conf has no single $kind line" >&2
			return 1
		}
		start_supervisor "$BATS_TEST_TMPDIR/port" "$OPENBSD_INETD" -d "$conf" &&
			return 0
	done
	echo "inetd never listened" >&2
	cat "$conf" "$LOG" >&2
	return 1
}

# start_xinetd FILE: the xinetd service FILE, on 127.0.0.1 and a free
# port, run as the current user, under a private xinetd in the
# foreground; retried (bounded). Sets ADDR, SERVER_PID (xinetd), LOG.
start_xinetd() {
	local try conf=$BATS_TEST_TMPDIR/xinetd.conf port
	for ((try = 0; try < 3; try++)); do
		port=$(free_port)
		echo "$port" >"$BATS_TEST_TMPDIR/port"
		{
			printf 'defaults\n{\n}\n'
			localize "$1" | sed -E \
				-e "s/^([[:space:]]*port[[:space:]]*=[[:space:]]*).*/\\1$port/" \
				-e "s/^([[:space:]]*user[[:space:]]*=[[:space:]]*).*/\\1$(id -un)/" \
				-e "s/^([[:space:]]*)(socket_type[[:space:]]*=.*)/\\1bind = 127.0.0.1\\n\\1\\2/"
		} >"$conf"
		grep -q "port.*= $port\$" "$conf" || {
			echo "$1 has no port line" >&2
			return 1
		}
		start_supervisor "$BATS_TEST_TMPDIR/port" xinetd -dontfork \
			-f "$conf" -filelog "$BATS_TEST_TMPDIR/xinetd.log" && return 0
	done
	echo "xinetd never listened" >&2
	cat "$conf" "$LOG" "$BATS_TEST_TMPDIR/xinetd.log" >&2
	return 1
}

@test "examples: each handler is an executable POSIX sh script" {
	local f
	for f in greet-echo http-hello line-protocol stderr-diag policy-dunno hello; do
		[ -x "$EX/$f" ]
		[ "$(head -1 "$EX/$f")" = "#!/bin/sh" ]
		sh -n "$EX/$f"
	done
}

@test "examples: the systemd Accept=no pair runs one resident single-server (Type=notify) for the greeting echo" {
	need_activate
	local sock=$EX/single-server-greet.socket svc=$EX/single-server-greet.service
	local notify=$BATS_TEST_TMPDIR/notify first
	[ "$(unit_value "$sock" Accept)" = no ]
	[ -n "$(unit_value "$sock" ListenStream)" ]
	[ "$(unit_value "$svc" Type)" = notify ]
	exec_start "$svc"
	! has_arg -S "${CMD[@]}"
	notify_listen "$notify" "$notify.out"
	start_socket_activate -E NOTIFY_SOCKET="$notify" -- "${CMD[@]}"
	run -0 client "$ADDR" --send 'one\ntwo'
	[ "${lines[0]}" = "hello 127.0.0.1, this is $(uname -n)" ]
	[ "${lines[1]}" = one ]
	[ "${lines[2]}" = two ]
	[ "${#lines[@]}" -eq 3 ]
	# resident: the process systemd started (its pid) serves the next one
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$(readlink -f "$SS")" ]
	run -0 client "$ADDR" --send 'three\n'
	[ "${lines[1]}" = three ]
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$(readlink -f "$SS")" ]
	LOG=$notify.out wait_for_log READY=1 5
}

@test "examples: the systemd Accept=yes pair runs single-server -S per connection; curl gets the HTTP responder's answers" {
	need_activate
	command -v curl >/dev/null || skip "no curl"
	local sock=$EX/single-server-http.socket svc=$EX/single-server-http@.service
	local body=$BATS_TEST_TMPDIR/body
	[ "$(unit_value "$sock" Accept)" = yes ]
	[ "$(unit_value "$svc" StandardInput)" = socket ]
	exec_start "$svc"
	has_arg -S "${CMD[@]}"
	start_socket_activate -a --inetd -- "${CMD[@]}"
	run -0 curl -sS --max-time 5 -o "$body" -w '%{http_code} %{content_type}' \
		"http://$ADDR/hello?x=1"
	[ "$output" = "200 text/plain" ]
	[ "$(cat "$body")" = "hello 127.0.0.1, you asked for /hello?x=1" ]
	# HEAD: headers only; another method: 501
	run -0 curl -sS --max-time 5 -I "http://$ADDR/"
	[[ ${lines[0]} == "HTTP/1.0 200 OK"* ]]
	run -0 curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -X DELETE "http://$ADDR/"
	[ "$output" = 501 ]
}

@test "examples: the inetd.conf nowait line runs the line protocol under openbsd-inetd, until QUIT" {
	need_inetd
	start_openbsd_inetd nowait
	# no half-close: the connection ends because the handler quits
	run -0 client "$ADDR" --no-shutdown --timeout 5 \
		--send 'HELLO tester\r\nECHO some text\nhelp\nBOGUS\nquit\r\n'
	[ "${lines[0]}" = "220 $(uname -n) line-protocol ready" ]
	[ "${lines[1]}" = "250 hello tester" ]
	[ "${lines[2]}" = "250 some text" ]
	[[ ${lines[3]} == "214 "*QUIT* ]]
	[ "${lines[4]}" = "500 unknown command" ]
	[ "${lines[5]}" = "221 bye" ]
	[ "${#lines[@]}" -eq 6 ]
}

@test "examples: the inetd.conf wait line runs the resident stderr handler under openbsd-inetd; its line is in syslog" {
	need_inetd
	syslog_start
	start_openbsd_inetd wait
	run -0 client "$ADDR"
	[[ $output =~ ^hello\ 127\.0\.0\.1,\ process\ ([0-9]+)\ serves\ you$ ]]
	local pid=${BASH_REMATCH[1]}
	wait_for_syslog "^daemon\.warning single-server/diag\[[0-9]+\]: warning: handler $pid: stderr-diag: client 127\.0\.0\.1 port [0-9]+, pid $pid\$"
	# the resident server goes on serving
	run -0 client "$ADDR"
	[[ $output == "hello 127.0.0.1, process "*" serves you" ]]
}

@test "examples: the xinetd service runs the greeting echo under a private xinetd" {
	need_xinetd
	start_xinetd "$EX/greet.xinetd"
	run -0 client "$ADDR" --send 'ping\npong\n'
	[ "${lines[0]}" = "hello 127.0.0.1, this is $(uname -n)" ]
	[ "${lines[1]}" = ping ]
	[ "${lines[2]}" = pong ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "examples: tls-selfsigned makes a certificate for localhost; http-hello over TLS answers curl --cacert" {
	need_tls
	command -v curl >/dev/null || skip "no curl"
	local tls=$BATS_TEST_TMPDIR/tls body=$BATS_TEST_TMPDIR/body
	[ -x "$EX/tls-selfsigned" ]
	[ "$(head -1 "$EX/tls-selfsigned")" = "#!/bin/sh" ]
	run -0 "$EX/tls-selfsigned" localhost "$tls"
	[ -z "$output" ]
	[ "$(stat -c %a "$tls/key.pem")" = 600 ]
	[ "$(stat -c %a "$tls/cert.pem")" = 644 ]
	[ -z "$(find "$tls" -name '.*.pem.*')" ]
	# the command line of examples/README
	start_server -L 127.0.0.1:0 -o tls_cert_file="$tls/cert.pem" \
		-o tls_key_file="$tls/key.pem" -- "$EX/http-hello"
	run -0 curl -sS --max-time 10 --cacert "$tls/cert.pem" -o "$body" \
		-w '%{http_code} %{ssl_verify_result}' "https://localhost:${ADDR##*:}/hello"
	[ "$output" = "200 0" ]
	[ "$(cat "$body")" = "hello 127.0.0.1, you asked for /hello" ]
	# without the certificate, curl does not trust it: the handshake fails
	run curl -sS --max-time 10 -o /dev/null "https://localhost:${ADDR##*:}/"
	[ "$status" -eq 60 ]
	# still serving
	run -0 curl -sS --max-time 10 --cacert "$tls/cert.pem" "https://localhost:${ADDR##*:}/again"
	[ "$output" = "hello 127.0.0.1, you asked for /again" ]
}

#!/usr/bin/env bats
# haproxy.bats - single-server behind a real HAProxy (Debian's haproxy
# package), run in the foreground from examples/haproxy.cfg itself, on
# 127.0.0.1: the frontend on a free port, the backend the example's first
# server line pointed at the single-server under test. send-proxy-v2 and
# send-proxy (v1) both give the handler the client's address and the
# frontend's, and HAProxy's own as PROXYREMOTEIP; the client's bytes pass
# intact; HAProxy outside upstream_proxy_networks gets no handler; health
# checks (send-proxy-v2: the LOCAL command) reach the handler with
# HAProxy's own addresses, keep the server up, and the example's line for
# telling them apart works.
#
# The handler is t/handlers/proxy-show (see t/proxy.bats); the clients are
# t/proxy-client.py writing no header of their own, from 127.0.0.2.

bats_require_minimum_version 1.5.0

load helper

EX=$SRC/examples

setup() {
	HAPROXY=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
	[ -x "$HAPROXY" ] || skip "haproxy not installed (./dev deps installs it)"
	RAN=$BATS_TEST_TMPDIR/ran
}

# serve [ARGS...]: single-server on 127.0.0.1 expecting PROXY headers,
# proxy-show as the handler (ARGS go before the handler)
serve() {
	start_server -L 127.0.0.1:0 -o upstream_proxy_protocol=haproxy "$@" \
		-- "$H/proxy-show" "$RAN"
}

# haproxy_conf PORT SERVER [SED-EXPRESSION...]: examples/haproxy.cfg with
# its frontend bound to 127.0.0.1:PORT and its first server line pointed
# at SERVER (the other server lines dropped), then edited by each
# SED-EXPRESSION; a global section first that logs to stderr and does not
# share the port (HAProxy binds with SO_REUSEPORT unless told not to).
# Fails when the example has no such lines or an expression changed nothing.
haproxy_conf() {
	local port=$1 server=$2 expr conf
	shift 2
	conf=$(awk -v port="$port" -v server="$server" '
		/^[[:space:]]*bind[[:space:]]/ { sub(/bind[[:space:]].*/, "bind 127.0.0.1:" port); binds++ }
		/^[[:space:]]*server[[:space:]]/ {
			if (servers++) next
			$3 = server
			$0 = "    " $0
		}
		{ print }
		END { if (binds != 1 || servers < 1) exit 1 }' "$EX/haproxy.cfg") || {
		echo "examples/haproxy.cfg: not one bind line and a server line" >&2
		return 1
	}
	for expr in "$@"; do
		[ "$(sed -e "$expr" <<<"$conf")" != "$conf" ] || {
			echo "examples/haproxy.cfg: sed $expr changes nothing" >&2
			return 1
		}
		conf=$(sed -e "$expr" <<<"$conf")
	done
	printf 'global\n    log stderr format raw local0\n    noreuseport\n\n%s\n' "$conf"
}

# start_haproxy [SED-EXPRESSION...]: HAProxy in the foreground from
# haproxy_conf for a free port and $ADDR (start_server's), in the
# background; retried (bounded) when the port was taken meanwhile. Returns
# once HAProxy itself listens (a test connection would run a handler).
# Sets FRONT (127.0.0.1:PORT), HAPROXY_PID, HAPROXY_LOG (its stderr).
start_haproxy() {
	local try port conf=$BATS_TEST_TMPDIR/haproxy.cfg
	HAPROXY_LOG=$BATS_TEST_TMPDIR/haproxy.log
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		haproxy_conf "$port" "$ADDR" "$@" >"$conf" || return 1
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

# via_haproxy [proxy-client.py options]: a client of the frontend from
# 127.0.0.2 that writes no header itself; prints "port N" (its own port)
# first
via_haproxy() {
	python3 "$SRC/t/proxy-client.py" "$FRONT" hex: --bind 127.0.0.2 \
		--print-port "$@"
}

# reply [proxy-client.py options]: via_haproxy, its output kept in
# $REPLY_FILE (NUL bytes and all) and, without NUL bytes, in $output
reply() {
	REPLY_FILE=$BATS_TEST_TMPDIR/reply
	via_haproxy "$@" >"$REPLY_FILE"
	output=$(tr -d '\0' <"$REPLY_FILE")
}

# the checks of the example's server lines run handlers: off, except
# where a test looks at them
NO_CHECKS='s/ check\( inter [^ ]*\)\{0,1\}$//'

# what a client sends: it looks like a header itself, and holds CRLFs
# and a NUL (proxy-client.py and printf %b write \r, \n and \0 as such)
PAYLOAD='PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\nline two\r\n\0end\n'

# client_sees_itself: the last reply names the client (127.0.0.2 and the
# port it printed), the frontend it connected to, and HAProxy (127.0.0.1,
# another port); PAYLOAD came through intact; one handler ran
client_sees_itself() {
	local cport
	cport=$(sed -n 's/^port //p' <<<"$output")
	[ -n "$cport" ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	[ "$(var TCPREMOTEPORT)" = "$cport" ]
	[ "$(var REMOTE_ADDR)" = 127.0.0.2 ]
	[ "$(var REMOTE_PORT)" = "$cport" ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = "${FRONT##*:}" ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.1 ]
	[ -n "$(var PROXYREMOTEPORT)" ]
	[ "$(var PROXYREMOTEPORT)" != "$cport" ]
	[ "$(var PROXYREMOTEPORT)" != "${FRONT##*:}" ]
	[ "$(var PROXYREMOTEPORT)" != "${ADDR##*:}" ]
	sed '1,/^--$/d' "$REPLY_FILE" | od -c >"$BATS_TEST_TMPDIR/got"
	printf '%b' "$PAYLOAD" | od -c >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[ "$(ran_count)" -eq 1 ]
}

@test "send-proxy-v2: the handler sees the client's address, the frontend's and HAProxy's" {
	serve -o upstream_proxy_networks=127.0.0.1/32
	start_haproxy "$NO_CHECKS"
	grep -q "^    server app1 $ADDR send-proxy-v2\$" "$BATS_TEST_TMPDIR/haproxy.cfg"
	reply --send "$PAYLOAD"
	client_sees_itself
}

@test "send-proxy (version 1): the same" {
	serve -o upstream_proxy_networks=127.0.0.1/32
	start_haproxy "$NO_CHECKS" 's/ send-proxy-v2/ send-proxy/'
	grep -q "^    server app1 $ADDR send-proxy\$" "$BATS_TEST_TMPDIR/haproxy.cfg"
	reply --send "$PAYLOAD"
	client_sees_itself
}

@test "HAProxy outside upstream_proxy_networks: its clients get no handler" {
	serve -o upstream_proxy_networks=127.0.0.2/32
	start_haproxy "$NO_CHECKS"
	run -0 via_haproxy --send 'hello\n'
	# no answer: only "port N", and perhaps a reset
	[ -z "$(sed -e '/^port /d' -e '/^error: /d' <<<"$output")" ]
	wait_for_log "refuse 127.0.0.1 (PROXY header: peer not in upstream_proxy_networks)"
	[ "$(ran_count)" -eq 0 ]
}

@test "health checks (send-proxy-v2: LOCAL) run the handler with HAProxy's own addresses, and keep the server up" {
	local runs=$BATS_TEST_TMPDIR/runs i line f
	# the example's line for telling a check from a client, then
	# proxy-show's answer for clients
	cat >"$BATS_TEST_TMPDIR/handler" <<EOF
#!/bin/sh
echo "\$TCPREMOTEIP:\$TCPREMOTEPORT \$PROXYREMOTEIP:\$PROXYREMOTEPORT \$TCPLOCALIP:\$TCPLOCALPORT" >>"$runs"
$(sed -n 's/^ *# *\(\[ "\$TCPREMOTEIP.*||\)$/\1/p' "$EX/haproxy.cfg")
$(sed -n 's/^ *# *\(  *exit 0\)$/\1/p' "$EX/haproxy.cfg")
exec "$H/proxy-show"
EOF
	chmod +x "$BATS_TEST_TMPDIR/handler"
	[ "$(grep -c . "$BATS_TEST_TMPDIR/handler")" -eq 5 ]
	start_server -L 127.0.0.1:0 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=127.0.0.1/32 -- "$BATS_TEST_TMPDIR/handler"
	start_haproxy 's/ inter 10s$/ inter 200ms/'
	# three checks (bounded wait), then a client
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c . "$runs" 2>/dev/null)" -lt 3 ] || break
		sleep 0.05
	done
	[ "$(grep -c . "$runs")" -ge 3 ]
	run -0 via_haproxy --send 'between checks\n'
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	[ "$(sed '1,/^--$/d' <<<"$output")" = "between checks" ]
	# every run but the client's was a check: from HAProxy, as itself
	[ "$(grep -c "^127.0.0.2:" "$runs")" -eq 1 ]
	while read -r line; do
		[[ $line == 127.0.0.2:* ]] && continue
		read -ra f <<<"$line"
		[[ ${f[0]} == 127.0.0.1:* ]]
		[ "${f[0]}" = "${f[1]}" ]
		[ "${f[2]}" = "$ADDR" ]
	done <"$runs"
	# no check failed, no handler or header trouble
	run ! grep -E 'DOWN|Layer4|Layer7' "$HAPROXY_LOG"
	run ! grep -E 'warning|refuse|error' "$LOG"
}

@test "the example, after Debian's /etc/haproxy/haproxy.cfg, is a valid configuration" {
	[ -r /etc/haproxy/haproxy.cfg ] || skip "no /etc/haproxy/haproxy.cfg"
	cat /etc/haproxy/haproxy.cfg "$EX/haproxy.cfg" >"$BATS_TEST_TMPDIR/full.cfg"
	run "$HAPROXY" -c -f "$BATS_TEST_TMPDIR/full.cfg"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *WARNING* ]]
	[[ $output != *ALERT* ]]
}

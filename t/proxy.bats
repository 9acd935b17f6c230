#!/usr/bin/env bats
# proxy.bats - the PROXY protocol (SPEC section 11) with a test client that
# writes the headers itself (t/proxy-client.py): v1 and v2 set the client's
# variables and the proxy's; TLVs are skipped; LOCAL and UNKNOWN keep the
# connection's addresses; the handler gets the bytes after the header
# intact, sent in one write or split; a bad header, a timeout and a proxy
# outside upstream_proxy_networks close the connection without a handler
# while others are served; access rules and per-source limits judge the
# address the header claims; a client sending its header counts toward
# process_limit; a re-execution hands it over; stream mode reads the
# header from fd 0; bad parameters are exit 100.
#
# The handler is t/handlers/proxy-show: it appends "ran ADDRESS" to $RAN,
# prints the variables, "--", and then what it reads, byte for byte.

bats_require_minimum_version 1.5.0

load helper

setup() {
	RAN=$BATS_TEST_TMPDIR/ran
}

# pc ADDRESS HEADER [OPTIONS]: the PROXY test client
pc() {
	python3 "$SRC/t/proxy-client.py" "$@"
}

# serve [ARGS...]: start_server on 127.0.0.1 expecting PROXY headers,
# proxy-show as the handler (ARGS go before the handler)
serve() {
	start_server -L 127.0.0.1:0 -o upstream_proxy_protocol=haproxy "$@" \
		-- "$H/proxy-show" "$RAN"
}

# wait_port FILE: until a --print-port client says it connected (bounded)
wait_port() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ ! -s "$1" ] || return 0
		sleep 0.05
	done
	return 1
}

# The v1 header most tests send: 203.0.113.7:5555 to 198.51.100.1:443
V1='v1:TCP4 203.0.113.7 198.51.100.1 5555 443'

# held_client OUT GO [OPTIONS...]: in the background (BG_PID), a client
# that sends ten bytes of $V1 and the rest once the file GO exists, then
# what OPTIONS say; its output in OUT. Returns once it is connected.
held_client() {
	local out=$1 go=$2
	shift 2
	bg pc "$ADDR" "$V1" --split 10 --until "$go" --print-port "$@" >"$out"
	wait_port "$out"
}

# payload: what proxy-show printed after "--"
payload() {
	sed -n '/^--$/,$p' <<<"$output" | tail -n +2
}

@test "v1 TCP4: the client's and the destination's addresses, and the proxy's" {
	serve
	run pc "$ADDR" "$V1" --bind 127.0.0.2 \
		--print-port --send 'hello\n'
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(var TCPREMOTEPORT)" = 5555 ]
	[ "$(var REMOTE_ADDR)" = 203.0.113.7 ]
	[ "$(var REMOTE_PORT)" = 5555 ]
	[ "$(var TCPLOCALIP)" = 198.51.100.1 ]
	[ "$(var TCPLOCALPORT)" = 443 ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.2 ]
	[ "$(var PROXYREMOTEPORT)" = "$(sed -n 's/^port //p' <<<"$output")" ]
	[ "$(payload)" = hello ]
}

@test "v2 TCP6 sets the variables (addresses without brackets)" {
	serve
	run pc "$ADDR" 'v2:tcp6:[2001:db8::1]:1234:[2001:db8::2]:25' --send 'hi\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 2001:db8::1 ]
	[ "$(var TCPREMOTEPORT)" = 1234 ]
	[ "$(var REMOTE_ADDR)" = 2001:db8::1 ]
	[ "$(var TCPLOCALIP)" = 2001:db8::2 ]
	[ "$(var TCPLOCALPORT)" = 25 ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.1 ]
	[ "$(payload)" = hi ]
}

@test "v2 TCP4 with TLVs (a header longer than any v1 one): skipped, payload intact" {
	serve
	run pc "$ADDR" v2:tcp4:192.0.2.9:40000:192.0.2.10:8080,tlv --send 'after tlvs\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 192.0.2.9 ]
	[ "$(var TCPREMOTEPORT)" = 40000 ]
	[ "$(var TCPLOCALPORT)" = 8080 ]
	[ "$(payload)" = "after tlvs" ]
}

@test "v2 LOCAL (a health check) keeps the connection's own addresses" {
	serve
	local port=${ADDR##*:}
	run pc "$ADDR" v2:local,tlv --bind 127.0.0.3 --print-port --send 'check\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	[ "$(var TCPREMOTEPORT)" = "$(sed -n 's/^port //p' <<<"$output")" ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = "$port" ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.3 ]
	[ "$(payload)" = check ]
}

@test "v1 UNKNOWN keeps the connection's own addresses" {
	serve
	run pc "$ADDR" v1:"UNKNOWN ffff::1 ffff::2 1 2" --bind 127.0.0.4 --send 'x\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.4 ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.4 ]
	[ "$(payload)" = x ]
}

@test "header and payload in one write: the handler gets every byte after the header" {
	serve
	# the payload looks like a header itself, and holds CRLFs and a NUL
	pc "$ADDR" "$V1" \
		--send 'PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\nline two\r\n\0end' \
		>"$BATS_TEST_TMPDIR/out"
	sed '1,/^--$/d' "$BATS_TEST_TMPDIR/out" | od -c >"$BATS_TEST_TMPDIR/got"
	printf 'PROXY TCP4 1.1.1.1 2.2.2.2 1 2\r\nline two\r\n\0end' | od -c \
		>"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	pc "$ADDR" v2:tcp4:192.0.2.9:1:192.0.2.10:2,tlv --send '\r\n\r\n\0\r\nQUIT\nmore' \
		>"$BATS_TEST_TMPDIR/out"
	sed '1,/^--$/d' "$BATS_TEST_TMPDIR/out" | od -c >"$BATS_TEST_TMPDIR/got"
	printf '\r\n\r\n\0\r\nQUIT\nmore' | od -c >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "a header split over several writes with pauses works (v1 and v2)" {
	serve
	run pc "$ADDR" "$V1" --split 5 \
		--pause 0.05 --send 'split v1\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = "split v1" ]
	run pc "$ADDR" 'v2:tcp6:[2001:db8::7]:7:[2001:db8::8]:8,tlv' --split 7 \
		--pause 0.01 --send 'split v2\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 2001:db8::7 ]
	[ "$(payload)" = "split v2" ]
}

@test "a malformed header closes the connection without a handler; others are served meanwhile" {
	serve
	local go=$BATS_TEST_TMPDIR/go
	# a valid beginning, then nothing until the test says, then a bad address
	bg pc "$ADDR" hex:"50524f585920544350342031302e302e302e312058203120320d0a" \
		--split 20 --until "$go" >"$BATS_TEST_TMPDIR/bad" 2>&1
	local bad=$BG_PID
	run pc "$ADDR" "$V1" --send 'meanwhile\n'
	[ "$(payload)" = meanwhile ]
	! grep -q "refuse" "$LOG" || false	# the bad one still waits
	touch "$go"
	wait_for_log "refuse 127.0.0.1 (PROXY header: v1: bad address)" 5
	wait "$bad"
	[ ! -s "$BATS_TEST_TMPDIR/bad" ] || grep -q '^error:' "$BATS_TEST_TMPDIR/bad"
	# other sources: each is logged (a second one from 127.0.0.1 within
	# the second would only be counted)
	run pc "$ADDR" hex:"474554202f20485454502f312e300d0a0d0a" --bind 127.0.0.5
	[ -z "$output" ] || [[ "$output" == error:* ]]
	wait_for_log "refuse 127.0.0.5 (PROXY header: not a PROXY header)"
	run pc "$ADDR" hex:"0d0a0d0a000d0a515549540a2300000c" --bind 127.0.0.6
	wait_for_log "refuse 127.0.0.6 (PROXY header: v2: bad command)"
	[ "$(ran_count)" -eq 1 ]
	grep -q "^ran 203.0.113.7" "$RAN"
}

@test "a header that does not come in upstream_proxy_timeout: closed, no handler; others are served meanwhile" {
	serve -o upstream_proxy_timeout=4s
	local t0 t1
	t0=$(now_ms)
	# ten bytes of a header, then nothing
	bg pc "$ADDR" "$V1" --split 10 \
		--until "$BATS_TEST_TMPDIR/never" --timeout 40 >/dev/null 2>&1
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'fast\n'
	[ "$(payload)" = fast ]
	! grep -q "refuse" "$LOG" || false	# served while the slow one waits
	wait_for_log "refuse 127.0.0.1 (PROXY header: timeout)" 8
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 3900 ]
	[ "$(ran_count)" -eq 1 ]
	grep -q "^ran 203.0.113.8" "$RAN"
}

@test "upstream_proxy_timeout counts from the accept: bytes that trickle in do not restart it" {
	serve -o upstream_proxy_timeout=2s
	local t0 t1 connected
	t0=$(now_ms)
	# six bytes every 1.5 s: each would restart a timer that is restarted
	bg pc "$ADDR" "$V1" --split 6 --print-port \
		--pause 1.5 --timeout 40 >"$BATS_TEST_TMPDIR/port" 2>/dev/null
	wait_port "$BATS_TEST_TMPDIR/port"
	connected=$(now_ms)	# the upper bound does not count the client's start
	wait_for_log "refuse 127.0.0.1 (PROXY header: timeout)" 8
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 1900 ]
	[ $((t1 - connected)) -lt 3400 ]	# not 2 s after the byte at 1.5 s or 3 s
	[ "$(ran_count)" -eq 0 ]
}

@test "a client that closes or resets in the middle of its header is refused at once" {
	serve -o upstream_proxy_timeout=30s
	local t0
	t0=$(now_ms)
	run pc "$ADDR" hex:"50524f5859205443503420" --timeout 5
	wait_for_log "refuse 127.0.0.1 (PROXY header: connection closed before the header ended)" 10
	run python3 -c '
import socket, struct, sys, time
h, p = sys.argv[1].rsplit(":", 1)
s = socket.socket()
s.bind(("127.0.0.7", 0))
s.connect((h, int(p)))
s.sendall(b"PROXY TCP4 1.2")
time.sleep(0.2)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()' "$ADDR"
	wait_for_log "refuse 127.0.0.7 (PROXY header: connection closed before the header ended)" 10
	# long before the 30 s timeout
	[ $(($(now_ms) - t0)) -lt 10000 ]
	[ "$(ran_count)" -eq 0 ]
}

@test "a proxy outside upstream_proxy_networks is closed without a handler; one inside is served" {
	serve -o upstream_proxy_networks="192.0.2.0/24, 127.0.0.2"
	local go=$BATS_TEST_TMPDIR/go
	# a trusted proxy, slow with its header, is being served meanwhile
	bg pc "$ADDR" "$V1" --bind 127.0.0.2 \
		--split 10 --until "$go" --send 'yes\n' >"$BATS_TEST_TMPDIR/slow"
	local slow=$BG_PID
	run pc "$ADDR" v1:"TCP4 203.0.113.9 198.51.100.1 5555 443" --send 'no\n'
	[ -z "$output" ] || [[ "$output" == error:* ]]
	wait_for_log "refuse 127.0.0.1 (PROXY header: peer not in upstream_proxy_networks)"
	[ ! -s "$BATS_TEST_TMPDIR/slow" ]	# still sending its header
	touch "$go"
	wait "$slow"
	run cat "$BATS_TEST_TMPDIR/slow"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.2 ]
	[ "$(payload)" = yes ]
	[ "$(ran_count)" -eq 1 ]
}

@test "a unix-socket proxy is trusted whatever upstream_proxy_networks says" {
	start_server -L "unix:$BATS_TEST_TMPDIR/s.sock" -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=10.0.0.0/8 -- "$H/proxy-show" "$RAN"
	run client "$ADDR" --send 'PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\nhi\n'
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ -z "$(var PROXYREMOTEIP)" ]
	[ "$(payload)" = hi ]
}

@test "PROXYREMOTEIP and PROXYREMOTEPORT inherited by the server never reach a handler" {
	PROXYREMOTEIP=6.6.6.6 PROXYREMOTEPORT=66 start_server -L 127.0.0.1:0 \
		-- "$H/proxy-show" "$RAN"
	run client "$ADDR" --send 'x\n'
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ -z "$(var PROXYREMOTEIP)" ]
	[ -z "$(var PROXYREMOTEPORT)" ]
}

@test "an access rule denies the address the header claims, and the log names both" {
	printf '203.0.113.7 deny go away\n203.0.113.0/24 allow RULE=lan\n127.0.0.1 deny proxy itself\n' \
		>"$BATS_TEST_TMPDIR/rules"
	serve -o access_rules="$BATS_TEST_TMPDIR/rules"
	run pc "$ADDR" "$V1" --send 'x\n'
	[ "$output" = $'go away\r' ]
	wait_for_log "deny 203.0.113.7 via 127.0.0.1 (rule on line 1)"
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'y\n'
	[ "$(var RULE)" = lan ]
	[ "$(var TCPREMOTEIP)" = 203.0.113.8 ]
	[ "$(ran_count)" -eq 1 ]
}

@test "per_source_limit counts the address the header claims" {
	serve -o per_source_limit=1 -o per_source_message=busy
	# one handler from 203.0.113.7 holds its slot while its client is open
	bg pc "$ADDR" "$V1" --hold 3 \
		--send 'first\n' >"$BATS_TEST_TMPDIR/first"
	local first=$BG_PID
	wait_for_file "$RAN"
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5556 443" --send 'second\n'
	[ "$output" = $'busy\r' ]
	wait_for_log "refuse 203.0.113.7 via 127.0.0.1 (per_source_limit 1 reached)"
	run pc "$ADDR" v1:"TCP4 203.0.113.9 198.51.100.1 5555 443" --send 'other\n'
	[ "$(payload)" = other ]
	wait "$first"
}

@test "a client still sending its header counts toward process_limit" {
	serve -o process_limit=1 -o upstream_proxy_timeout=2s
	local t0 t1
	# connected (and so first in the backlog) once it says its port
	held_client "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/never" --timeout 40
	t0=$(now_ms)
	# the next one waits in the backlog until the first one's time is up
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'next\n'
	[ "$(payload)" = next ]
	t1=$(now_ms)
	grep -q "refuse 127.0.0.1 (PROXY header: timeout)" "$LOG"
	[ $((t1 - t0)) -ge 1000 ]
}

@test "STATUS= counts a bad header as refused" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	notify_listen "$sock" "$out"
	NOTIFY_SOCKET=$sock serve
	run pc "$ADDR" hex:"00"
	run pc "$ADDR" "$V1" --send 'ok\n'
	LOG=$out wait_for_log "refused 1" 5
	LOG=$out wait_for_log "served 1," 5
}

@test "a re-execution hands over a client still sending its header" {
	serve -o upstream_proxy_timeout=10s
	held_client "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/go" --send 'across\n'
	local client=$BG_PID
	# accepted in order: once a later client is served, the first one
	# was accepted and is waiting for the rest of its header
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'later\n'
	[ "$(payload)" = later ]
	kill -HUP "$SERVER_PID"
	wait_for_log "and 1 still sending a PROXY header handed over"
	touch "$BATS_TEST_TMPDIR/go"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = across ]
}

@test "a re-execution judges a handed-over client by the upstream_proxy_networks it reads" {
	local cf=$BATS_TEST_TMPDIR/main.cf go=$BATS_TEST_TMPDIR/go
	printf 'upstream_proxy_protocol = haproxy\nupstream_proxy_timeout = 20s\n' >"$cf"
	start_server -f "$cf" -L 127.0.0.1:0 -- "$H/proxy-show" "$RAN"
	held_client "$BATS_TEST_TMPDIR/a" "$go" --send 'A\n'
	local a=$BG_PID
	# served in order: once it is, the first one was accepted
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'B\n'
	[ "$(payload)" = B ]
	printf 'upstream_proxy_networks = 192.0.2.0/24\n' >>"$cf"
	kill -HUP "$SERVER_PID"
	wait_for_log "and 1 still sending a PROXY header handed over"
	wait_for_log "refuse 127.0.0.1 (PROXY header: peer not in upstream_proxy_networks)"
	touch "$go"
	wait "$a" || true
	run cat "$BATS_TEST_TMPDIR/a"
	[ -z "$(var TCPREMOTEIP)" ]
	[ "$(ran_count)" -eq 1 ]
}

@test "a header that ends during the re-execution, at max_use, re-executes again: nobody waits" {
	local d=$BATS_TEST_TMPDIR go=$BATS_TEST_TMPDIR/go
	cp "$SS" "$d/ss"
	SS=$d/ss start_server -L 127.0.0.1:0 -o max_use=1 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_timeout=20s -- "$H/proxy-show" "$RAN"
	held_client "$d/a" "$go" --send 'A\n'
	local a=$BG_PID
	# the next image takes its time to start: A's header ends meanwhile
	printf '#!/bin/sh\ncase "$*" in *--check*) ;; *) touch "%s"; sleep 1 ;; esac\nexec %s "$@"\n' \
		"$go" "$SS" >"$d/ss.new"
	chmod +x "$d/ss.new"
	mv "$d/ss.new" "$d/ss"
	# B reaches max_use (A, accepted first, is still in its header)
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'B\n'
	[ "$(payload)" = B ]
	wait "$a"
	run cat "$d/a"
	[ "$(payload)" = A ]
	# A was the new image's max_use: it re-executes again and serves on
	run pc "$ADDR" v1:"TCP4 203.0.113.9 198.51.100.1 5555 443" --send 'C\n' --timeout 10
	[ "$(payload)" = C ]
}

@test "a proxied client in its in-flow pause keeps its header's address across a re-execution" {
	serve -v -n "proxyflow-$$" -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=3 -o state_directory="$BATS_TEST_TMPDIR/state"
	bg pc "$ADDR" "$V1" --send 'one\n' \
		>"$BATS_TEST_TMPDIR/one"
	local c1=$BG_PID
	wait_for_file "$RAN"
	bg pc "$ADDR" "$V1" --send 'two\n' \
		>"$BATS_TEST_TMPDIR/two"
	local c2=$BG_PID
	wait_for_log "no in-flow token"
	kill -HUP "$SERVER_PID"
	wait_for_log "re-executing"
	wait "$c1"
	wait "$c2"
	run cat "$BATS_TEST_TMPDIR/two"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = two ]
}

@test "at the end of the drain a client still sending its header is closed, and the server leaves" {
	serve -o upstream_proxy_timeout=30s -o drain_timeout=1
	held_client "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/never" --timeout 30
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'B\n'
	kill -TERM "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -q "closing a client of .* still sending its PROXY header" "$LOG"
}

@test "SIGTERM: a client still sending its header is served, then the server leaves" {
	serve -o upstream_proxy_timeout=10s
	held_client "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/go" --send 'late\n'
	local client=$BG_PID
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'first\n'
	[ "$(payload)" = first ]
	kill -TERM "$SERVER_PID"
	wait_for_log "exiting after 1 running handler(s)"
	touch "$BATS_TEST_TMPDIR/go"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = late ]
	wait_exit "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "stream mode reads the header from fd 0, and not a byte more" {
	run bash -c "printf 'PROXY TCP6 2001:db8::5 2001:db8::6 1 2\r\nrest\n' |
		'$SS' -S -o upstream_proxy_protocol=haproxy '$H/proxy-show'"
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 2001:db8::5 ]
	[ "$(var TCPLOCALPORT)" = 2 ]
	[ "$(payload)" = rest ]
	run bash -c "printf '\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02next\n' |
		'$SS' -S -o upstream_proxy_protocol=haproxy '$H/proxy-show'"
	[ "$(var TCPREMOTEIP)" = 192.0.2.1 ]
	[ "$(payload)" = next ]
}

@test "without epoll (EVENT_NOEPOLL: poll, level-triggered) the header is read exactly, in both modes" {
	SS_WRAP="env EVENT_NOEPOLL=1" serve -o upstream_proxy_timeout=30s
	run pc "$ADDR" "$V1" --split 5 --pause 0.05 --send 'poll v1\n'
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = "poll v1" ]
	run pc "$ADDR" hex:"50524f5859205443503420" --timeout 5
	wait_for_log "refuse 127.0.0.1 (PROXY header: connection closed before the header ended)" 10
	run bash -c "printf 'PROXY TCP6 2001:db8::5 2001:db8::6 1 2\r\nrest\n' |
		EVENT_NOEPOLL=1 '$SS' -S -o upstream_proxy_protocol=haproxy '$H/proxy-show'"
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 2001:db8::5 ]
	[ "$(payload)" = rest ]
}

@test "stream mode: a peer outside upstream_proxy_networks is refused, one inside is served" {
	run bash -c "printf 'PROXY TCP4 203.0.113.7 198.51.100.1 1 2\r\nrest\n' |
		'$SS' -S -V --remote=192.0.2.9:5 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=10.0.0.0/8 '$H/proxy-show' '$RAN'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"refuse 192.0.2.9 (PROXY header: peer not in upstream_proxy_networks)"* ]]
	[ "$(ran_count)" -eq 0 ]
	run bash -c "printf 'PROXY TCP4 203.0.113.7 198.51.100.1 1 2\r\nrest\n' |
		'$SS' -S --remote=10.1.2.3:5 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=10.0.0.0/8 '$H/proxy-show' '$RAN'"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(var PROXYREMOTEIP)" = 10.1.2.3 ]
	[ "$(payload)" = rest ]
}

@test "stream mode: a bad header or a timeout starts no handler, exit 0, logged" {
	run bash -c "printf 'PROXY TCP4 1.2.3.4\r\nrest\n' |
		'$SS' -S -V -o upstream_proxy_protocol=haproxy '$H/proxy-show' '$RAN'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(PROXY header: v1: missing fields)"* ]]
	run bash -c "sleep 3 | '$SS' -S -V -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_timeout=1s '$H/proxy-show' '$RAN'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(PROXY header: timeout)"* ]]
	[ "$(ran_count)" -eq 0 ]
}

# stream_fifo ARGS...: single-server -S -V, expecting a PROXY header, in
# the background (SERVER_PID), ARGS before the handler proxy-show; its
# stream_served IP PAYLOAD: the input ends (fd 8 closed); the server exits
# 0, its handler having seen the client IP and, after the header, PAYLOAD
stream_served() {
	exec 8>&-
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	output=$(cat "$OUT")
	[ "$(var TCPREMOTEIP)" = "$1" ]
	[ "$(payload)" = "$2" ]
}

# stdin a pipe that the test writes on fd 8 (and closes with "exec 8>&-"),
# its stdout in $OUT, its stderr in $LOG
stream_fifo() {
	local fifo=$BATS_TEST_TMPDIR/in.fifo
	OUT=$BATS_TEST_TMPDIR/out
	LOG=$BATS_TEST_TMPDIR/server.log
	mkfifo "$fifo"
	exec 8<>"$fifo"                 # read-write: this open does not block
	# Not through bg: an explicit < keeps "&" from giving it /dev/null.
	"$SS" -S -V -o upstream_proxy_protocol=haproxy "$@" "$H/proxy-show" \
		"$RAN" <"$fifo" >"$OUT" 2>"$LOG" 8>&- 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
}

# in_loop PID: wait (bounded) until PID waits in its event loop (epoll),
# not in a poll() or a sleep of its own
in_loop() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(cat "/proc/$1/wchan" 2>/dev/null)" != do_epoll_wait ] || return 0
		sleep 0.05
	done
	echo "process $1 never waited in epoll: $(cat "/proc/$1/wchan")" >&2
	return 1
}

@test "stream mode: a header from a pipe in two writes is read in the event loop, and not a byte more" {
	stream_fifo
	printf 'PROXY TCP4 203.0.113.7 198.5' >&8
	in_loop "$SERVER_PID"
	printf '1.100.1 5555 443\r\nrest\n' >&8
	stream_served 203.0.113.7 rest
	rm "$BATS_TEST_TMPDIR/in.fifo"
	stream_fifo
	printf '\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00' >&8
	in_loop "$SERVER_PID"
	printf '\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02next\n' >&8
	stream_served 192.0.2.1 next
}

@test "stream mode: a v2 header from a regular file is read without waiting for the file, and not a byte more" {
	command -v strace >/dev/null || skip "no strace"
	no_leak_check
	local in=$BATS_TEST_TMPDIR/in trace=$BATS_TEST_TMPDIR/trace
	# TCP4 192.0.2.1:1 -> 192.0.2.2:2 with a TLV of 200 bytes: 231 in all
	{
		printf '\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\xd7'
		printf '\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02\xee\x00\xc8'
		head -c 200 /dev/zero | tr '\0' x
		printf 'after\n'
	} >"$in"
	run strace -qq -o "$trace" -e trace=poll,ppoll,epoll_ctl \
		"$SS" -S -o upstream_proxy_protocol=haproxy "$H/proxy-show" <"$in"
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 192.0.2.1 ]
	[ "$(var TCPLOCALPORT)" = 2 ]
	[ "$(payload)" = after ]
	# fd 0 was neither polled nor added to the event loop
	! grep -E '^(p?poll\(\[\{fd=0,|epoll_ctl\([0-9]+, EPOLL_CTL_ADD, 0,)' "$trace"
}

@test "stream mode: a header that stops coming on a pipe that stays open is refused at upstream_proxy_timeout" {
	stream_fifo -o upstream_proxy_timeout=1s
	local t0 hdr='PROXY TCP4 203.0.113.7 198.51.100.1 5555 443' k
	t0=$(now_ms)
	printf 'PROXY' >&8
	in_loop "$SERVER_PID"
	# a byte every 0.1 s, never the CRLF: the time is counted from the start
	for ((k = 5; k < ${#hdr} && $(now_ms) - t0 < 3000; k++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		printf '%s' "${hdr:k:1}" >&8
		sleep 0.1
	done
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ $(($(now_ms) - t0)) -lt 2500 ]
	grep -q '(PROXY header: timeout)' "$LOG"
	[ "$(ran_count)" -eq 0 ]
	exec 8>&-
}

@test "stream mode: SIGTERM while the header is awaited: one that comes within drain_timeout is served" {
	stream_fifo -o drain_timeout=10
	printf 'PROXY TCP4 203.0.113.7 ' >&8
	in_loop "$SERVER_PID"
	kill -TERM "$SERVER_PID"
	wait_for_log "signal 15 -- exiting after the client's PROXY header, 10s at most"
	printf '198.51.100.1 5555 443\r\nlate\n' >&8
	stream_served 203.0.113.7 late
}

@test "stream mode: at the end of the drain a client still sending its header is closed, exit 0" {
	stream_fifo -o drain_timeout=1 -o upstream_proxy_timeout=30s
	printf 'PROXY TCP4 203.0.113.7 ' >&8
	in_loop "$SERVER_PID"
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -q 'leaving: closing the client still sending its PROXY header' "$LOG"
	[ "$(ran_count)" -eq 0 ]
	exec 8>&-
}

@test "bad upstream_proxy_ parameters are exit 100 naming the parameter" {
	run "$SS" -S -o upstream_proxy_protocol=proxy "$H/proxy-show" </dev/null
	[ "$status" -eq 100 ]
	[[ "$output" == *'parameter upstream_proxy_protocol: unknown value "proxy"'* ]]
	run "$SS" -S -o upstream_proxy_networks='10.0.0.0/8 10.1.2.3/8' "$H/proxy-show" </dev/null
	[ "$status" -eq 100 ]
	[[ "$output" == *'parameter upstream_proxy_networks: network "10.1.2.3/8" has host bits set'* ]]
	run "$SS" -S -o upstream_proxy_networks='uid:0' "$H/proxy-show" </dev/null
	[ "$status" -eq 100 ]
	[[ "$output" == *'parameter upstream_proxy_networks: bad address "uid:0"'* ]]
	run "$SS" -S -o upstream_proxy_timeout=0 "$H/proxy-show" </dev/null
	[ "$status" -eq 100 ]
	[[ "$output" == *upstream_proxy_timeout* ]]
}

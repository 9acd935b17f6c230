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

# var NAME: the value of NAME in a proxy-show reply held in $output
var() {
	sed -n "s/^$1=//p" <<<"$output"
}

# payload: what proxy-show printed after "--"
payload() {
	sed -n '/^--$/,$p' <<<"$output" | tail -n +2
}

@test "v1 TCP4: the client's and the destination's addresses, and the proxy's" {
	serve
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --bind 127.0.0.2 \
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
	pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" \
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
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 5 \
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
	local t0 t1
	t0=$(now_ms)
	# a valid beginning, two seconds of nothing, then a bad address
	bg pc "$ADDR" hex:"50524f585920544350342031302e302e302e312058203120320d0a" \
		--split 20 --hold 2 >"$BATS_TEST_TMPDIR/bad" 2>&1
	local bad=$BG_PID
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --send 'meanwhile\n'
	[ "$(payload)" = meanwhile ]
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1500 ]
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
	serve -o upstream_proxy_timeout=2s
	local t0 t1
	t0=$(now_ms)
	# ten bytes of a header, then nothing for longer than the timeout
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 10 \
		--hold 30 --timeout 40 >/dev/null 2>&1
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'fast\n'
	[ "$(payload)" = fast ]
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1500 ]
	wait_for_log "refuse 127.0.0.1 (PROXY header: timeout)" 5
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 1900 ]
	[ "$(ran_count)" -eq 1 ]
	grep -q "^ran 203.0.113.8" "$RAN"
}

@test "a proxy outside upstream_proxy_networks is closed without a handler; one inside is served" {
	serve -o upstream_proxy_networks="192.0.2.0/24, 127.0.0.2"
	local t0 t1
	t0=$(now_ms)
	# a trusted proxy, slow with its header, is being served meanwhile
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --bind 127.0.0.2 \
		--split 10 --hold 2 --send 'yes\n' >"$BATS_TEST_TMPDIR/slow"
	local slow=$BG_PID
	run pc "$ADDR" v1:"TCP4 203.0.113.9 198.51.100.1 5555 443" --send 'no\n'
	[ -z "$output" ] || [[ "$output" == error:* ]]
	wait_for_log "refuse 127.0.0.1 (PROXY header: peer not in upstream_proxy_networks)"
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1500 ]
	wait "$slow"
	run cat "$BATS_TEST_TMPDIR/slow"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(var PROXYREMOTEIP)" = 127.0.0.2 ]
	[ "$(payload)" = yes ]
	[ "$(ran_count)" -eq 1 ]
}

@test "an access rule denies the address the header claims, and the log names both" {
	printf '203.0.113.7 deny go away\n203.0.113.0/24 allow RULE=lan\n127.0.0.1 deny proxy itself\n' \
		>"$BATS_TEST_TMPDIR/rules"
	serve -o access_rules="$BATS_TEST_TMPDIR/rules"
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --send 'x\n'
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
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --hold 3 \
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
	local t0 t1 i
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 10 \
		--hold 30 --timeout 40 --print-port >"$BATS_TEST_TMPDIR/first" 2>&1
	# connected (and so first in the backlog) once it says its port
	for ((i = 0; i < 100; i++)); do
		[ ! -s "$BATS_TEST_TMPDIR/first" ] || break
		sleep 0.05
	done
	[ -s "$BATS_TEST_TMPDIR/first" ]
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
	run pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --send 'ok\n'
	LOG=$out wait_for_log "refused 1" 5
	LOG=$out wait_for_log "served 1," 5
}

@test "a re-execution hands over a client still sending its header" {
	serve -o upstream_proxy_timeout=10s
	local i
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 10 \
		--hold 3 --print-port --send 'across\n' >"$BATS_TEST_TMPDIR/out"
	local client=$BG_PID
	for ((i = 0; i < 100; i++)); do
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || break
		sleep 0.05
	done
	# accepted in order: once a later client is served, the first one
	# was accepted and is waiting for the rest of its header
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'later\n'
	[ "$(payload)" = later ]
	kill -HUP "$SERVER_PID"
	wait_for_log "and 1 still sending a PROXY header handed over"
	wait "$client"
	run cat "$BATS_TEST_TMPDIR/out"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(payload)" = across ]
}

@test "SIGTERM: a client still sending its header is served, then the server leaves" {
	serve -o upstream_proxy_timeout=10s
	local i
	bg pc "$ADDR" v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 10 \
		--hold 2 --print-port --send 'late\n' >"$BATS_TEST_TMPDIR/out"
	local client=$BG_PID
	for ((i = 0; i < 100; i++)); do
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || break
		sleep 0.05
	done
	run pc "$ADDR" v1:"TCP4 203.0.113.8 198.51.100.1 5555 443" --send 'first\n'
	[ "$(payload)" = first ]
	kill -TERM "$SERVER_PID"
	wait_for_log "exiting after 1 running handler(s)"
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

@test "stream mode: a bad header or a timeout starts no handler, exit 0, logged" {
	run bash -c "printf 'PROXY TCP4 1.2.3.4\r\nrest\n' |
		'$SS' -S -o upstream_proxy_protocol=haproxy '$H/proxy-show' '$RAN'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(PROXY header: v1: missing fields)"* ]]
	run bash -c "sleep 3 | '$SS' -S -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_timeout=1s '$H/proxy-show' '$RAN'"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(PROXY header: timeout)"* ]]
	[ "$(ran_count)" -eq 0 ]
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

#!/usr/bin/env bats
# persource.bats - per_source_limit (SPEC section 10): handlers at once for
# one source, in resident mode; the slot comes back when the handler is
# reaped, however it ended (systemd's bug #20685, where a killed
# connection kept its slot, is the counter-example).

load helper
bats_require_minimum_version 1.5.0

setup() {
	D=$BATS_TEST_TMPDIR/hold
	mkdir -p "$D"
}

@test "per_source_limit=1: a second client from the same address is refused with per_source_message while the first completes" {
	start_server -v -o per_source_limit=1 -o "per_source_message=busy, try later" \
		-L 127.0.0.1:0 "$H/hold" "$D" 10
	bg client "$ADDR" --send 'a\n' >"$BATS_TEST_TMPDIR/a.out"
	local a=$BG_PID
	wait_for_file "$D/start.a"
	run -0 client "$ADDR" --send 'b\n' --timeout 5
	[ "$output" = $'busy, try later\r' ]	# the line ends with CR LF
	[ ! -e "$D/start.b" ]
	wait_for_log "refuse 127.0.0.1 (per_source_limit 1 reached)"
	: >"$D/release.a"
	wait_status "$a"
	[ "$(cat "$BATS_TEST_TMPDIR/a.out")" = "released a" ]
	# the first one's slot is free again once its handler was reaped
	wait_for_log "handler pid $(cat "$D/start.a") exit status 0"
	: >"$D/release.c"
	run -0 client "$ADDR" --send 'c\n' --timeout 5
	[ "$output" = "released c" ]
}

@test "per_source_limit=1: after a handler is killed by command_time_limit the source may connect again" {
	start_server -v -o per_source_limit=1 -o command_time_limit=1 \
		-L 127.0.0.1:0 "$H/hold" "$D" 10
	bg client "$ADDR" --send 'a\n' >/dev/null
	wait_for_file "$D/start.a"
	local hpid
	hpid=$(cat "$D/start.a")
	wait_for_log "handler pid $hpid killed by signal 15" 5
	: >"$D/release.b"
	run -0 client "$ADDR" --send 'b\n' --timeout 5
	[ "$output" = "released b" ]
	! grep -q "per_source_limit 1 reached" "$LOG"
}

@test "per_source_limit=2: two clients of one source run at once, the third is refused, without a word when per_source_message is empty" {
	start_server -o per_source_limit=2 -L 127.0.0.1:0 "$H/hold" "$D" 10
	bg client "$ADDR" --send 'a\n' >/dev/null
	wait_for_file "$D/start.a"
	bg client "$ADDR" --send 'b\n' >/dev/null
	wait_for_file "$D/start.b"
	run -0 client "$ADDR" --send 'c\n' --timeout 5
	[ -z "$output" ]	# no per_source_message: refused without a word
	[ ! -e "$D/start.c" ]
	: >"$D/release"
}

@test "per_source_limit and per_source_ipv6_prefix are checked: out of range is exit 100 naming them" {
	run --separate-stderr "$SS" -d -L 127.0.0.1:0 -o per_source_ipv6_prefix=129 -- "$H/echo-line" </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *per_source_ipv6_prefix* ]]
	run --separate-stderr "$SS" -d -L 127.0.0.1:0 -o per_source_limit=-1 -- "$H/echo-line" </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *per_source_limit* ]]
}

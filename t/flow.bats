#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# In-flow delay: a token bucket shared by every process of a service.
# A client without a token is served after in_flow_delay, never refused.

load helper

setup() {
	STATE=$BATS_TEST_TMPDIR/state
	FLOW=(-n svc -o state_directory="$STATE")
}

# stream_run EXTRA...: one stream-mode run of service svc, logging with -v
stream_run() {
	echo x | "$SS" -S -V -v "${FLOW[@]}" "$@" -- cat 2>>"$BATS_TEST_TMPDIR/stream.log"
}

@test "rate 1, burst 1, delay 1s: three back-to-back stream runs are paused, not refused" {
	local t0 t1 i
	t0=$(now_ms)
	for i in 1 2 3; do
		run stream_run -o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=1s
		[ "$status" -eq 0 ]
		[ "$output" = x ]
	done
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 1500 ]
	[ $((t1 - t0)) -le 4500 ]
	[ "$(grep -c 'no in-flow token -- pausing 1s' "$BATS_TEST_TMPDIR/stream.log")" -eq 2 ]
}

@test "in_flow_delay=0: clients without a token are not paused" {
	local t0 t1 i
	t0=$(now_ms)
	for i in 1 2 3; do
		run stream_run -o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=0
		[ "$status" -eq 0 ]
		[ "$output" = x ]
	done
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1500 ]
	[ "$(grep -c pausing "$BATS_TEST_TMPDIR/stream.log")" -eq 0 ]
}

@test "in_flow_rate=0 (the default): no pause and no state file touched" {
	local t0 t1 i
	t0=$(now_ms)
	for i in 1 2 3 4; do
		run stream_run
		[ "$status" -eq 0 ]
		[ "$output" = x ]
	done
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1000 ]
	[ ! -e "$STATE" ]
}

@test "twenty simultaneous stream runs at rate 5, burst 5: all served, the paused count fits the rate" {
	local pids=() p i t0 t1 paused served=0
	t0=$(now_ms)
	for i in $(seq 20); do
		echo "c$i" | "$SS" -S -V -v "${FLOW[@]}" -o in_flow_rate=5 -o in_flow_burst=5 \
			-o in_flow_delay=1s -- cat >"$BATS_TEST_TMPDIR/out.$i" \
			2>>"$BATS_TEST_TMPDIR/stream.log" 3>&- &
		pids+=($!)
		BG_PIDS+=($!)
	done
	for p in "${pids[@]}"; do
		wait_exit "$p" 15
		[ "$STATUS" -eq 0 ]
	done
	t1=$(now_ms)
	for i in $(seq 20); do
		[ "$(cat "$BATS_TEST_TMPDIR/out.$i")" = "c$i" ] && served=$((served + 1))
	done
	[ "$served" -eq 20 ]
	paused=$(grep -c 'no in-flow token -- pausing' "$BATS_TEST_TMPDIR/stream.log")
	# Unpaused clients: the burst of 5, plus at most 5 per second of the
	# run (rounded up, plus one for the partly elapsed second).
	local unpaused=$((20 - paused)) budget=$((5 + 5 * ((t1 - t0) / 1000 + 2)))
	echo "paused=$paused unpaused=$unpaused budget=$budget ms=$((t1 - t0))"
	[ "$unpaused" -ge 5 ]
	[ "$unpaused" -le "$budget" ]
	[ "$paused" -ge 5 ]
}

@test "a resident server and stream runs of one service share the bucket" {
	start_server -v "${FLOW[@]}" -z -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=1s -L 127.0.0.1:0 -- "$H/echo-line"
	# The stream run takes the only token of the fresh bucket...
	run stream_run -o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=1s
	[ "$status" -eq 0 ]
	[ "$(grep -c pausing "$BATS_TEST_TMPDIR/stream.log")" -eq 0 ]
	# ...so the resident server's next client has to wait.
	run client "$ADDR" --send 'hi\n'
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	grep -q 'service svc: no in-flow token -- pausing 1s' "$LOG"
}

@test "during a resident pause, other clients' handlers run and finish" {
	local d=$BATS_TEST_TMPDIR/hold
	mkdir -p "$d"
	start_server -v "${FLOW[@]}" -z -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=3s -L 127.0.0.1:0 -- "$H/hold" "$d"
	# First client: takes the token, its handler runs until released.
	bg sh -c "python3 '$SRC/t/client.py' '$ADDR' --send 'first\n' >'$d/first'"
	local first=$BG_PID
	wait_for_file "$d/start.first"
	# Second client: no token, paused for 3 s.
	bg sh -c "python3 '$SRC/t/client.py' '$ADDR' --send 'second\n' >'$d/second'"
	local second=$BG_PID
	wait_for_log 'pausing 3s'
	# While it waits, the first handler is released and finishes.
	: >"$d/release.first"
	wait_exit "$first" 5
	[ "$(cat "$d/first")" = "released first" ]
	[ ! -e "$d/start.second" ]      # the second handler has not started
	kill -0 "$second"               # and its client still waits
	: >"$d/release.second"
	wait_exit "$second" 10
	[ "$(cat "$d/second")" = "released second" ]
	[ "$(cat "$d/events")" = "$(printf 'start first\nend first\nstart second\nend second')" ]
}

@test "a state file that is a symbolic link is refused, not followed" {
	mkdir -m 700 "$STATE"
	echo precious >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$STATE/svc.flow"
	run --separate-stderr "$SS" -S "${FLOW[@]}" -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"svc.flow"*"symbolic link"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/target")" = precious ]
}

@test "a state file that is not a regular file is refused" {
	mkdir -m 700 "$STATE"
	mkfifo "$STATE/svc.flow"
	run --separate-stderr "$SS" -S "${FLOW[@]}" -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"svc.flow"*"not a regular file"* ]]
}

@test "a state directory owned by another user is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to chown"
	mkdir -m 700 "$STATE"
	chown nobody "$STATE"
	run --separate-stderr "$SS" -S "${FLOW[@]}" -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"fatal: -o state_directory=$STATE: parameter state_directory: $STATE: owned by uid"* ]]
}

@test "a state directory writable by others is refused" {
	mkdir -m 777 "$STATE"
	run --separate-stderr "$SS" -S "${FLOW[@]}" -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"writable by group or others"* ]]
}

@test "a state directory that cannot be made: exit 111, the error names where state_directory was set" {
	local bad=$BATS_TEST_TMPDIR/file/state cf=$BATS_TEST_TMPDIR/main.cf
	: >"$BATS_TEST_TMPDIR/file"	# a file where a directory should be
	run --separate-stderr "$SS" -S -n svc -o state_directory="$bad" -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"fatal: -o state_directory=$bad: parameter state_directory: $bad: cannot create: Not a directory" ]]
	printf '# the bucket\nstate_directory = %s\nin_flow_rate = 1\n' "$bad" >"$cf"
	run --separate-stderr "$SS" -S -n svc -f "$cf" -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"fatal: $cf, line 2: parameter state_directory: $bad: cannot create: Not a directory" ]]
}

@test "a relative state_directory is a configuration error (100), found by --check and --print-config" {
	local cf=$BATS_TEST_TMPDIR/main.cf
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr "$SS" --check -L 127.0.0.1:0 -o state_directory=relative -- true
	[ "$status" -eq 100 ]
	[[ "$stderr" == *'fatal: -o state_directory=relative: parameter state_directory: must be an absolute path, not "relative"' ]]
	printf 'state_directory = relative\n' >"$cf"
	run --separate-stderr "$SS" --print-config -f "$cf" -L 127.0.0.1:0 -- true
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"fatal: $cf, line 1: parameter state_directory: must be an absolute path"* ]]
	# and nothing was made in the current directory, not even with flow on
	run --separate-stderr "$SS" -S -o state_directory=relative -o in_flow_rate=1 -- true </dev/null
	[ "$status" -eq 100 ]
	[ ! -e relative ]
}

@test "a missing state directory is created with mode 0700" {
	run stream_run -o in_flow_rate=5
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$STATE")" = 700 ]
	[ -f "$STATE/svc.flow" ]
	[ "$(stat -c %a "$STATE/svc.flow")" = 600 ]
}

@test "in_flow_burst must be at least 1 when in_flow_rate is set" {
	run --separate-stderr "$SS" -S "${FLOW[@]}" -o in_flow_rate=2 -o in_flow_burst=0 -- true </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"in_flow_burst"* ]]
}

@test "a resident client served after its pause still gets its UCSPI variables" {
	start_server -v "${FLOW[@]}" -z -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=1s -L 127.0.0.1:0 -- "$H/env-dump"
	run client "$ADDR"
	[[ "$output" == *"TCPREMOTEIP=127.0.0.1"* ]]
	run client "$ADDR"
	grep -q 'pausing 1s' "$LOG"
	[[ "$output" == *"PROTO=TCP"* ]]
	[[ "$output" == *"TCPREMOTEIP=127.0.0.1"* ]]
	[[ "$output" == *"TCPLOCALPORT=${ADDR##*:}"* ]]
}

@test "SIGTERM during a client's in-flow pause: it is served at once, then the server exits 0" {
	start_server -v "${FLOW[@]}" -z -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=10s -L 127.0.0.1:0 -- "$H/echo-line"
	run client "$ADDR" --send 'first\n'
	[ "$output" = first ]
	bg sh -c "python3 '$SRC/t/client.py' '$ADDR' --send 'paused\\n' >'$BATS_TEST_TMPDIR/paused'"
	local paused=$BG_PID t0
	wait_for_log 'pausing 10s'
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	wait_exit "$paused" 5
	[ "$(cat "$BATS_TEST_TMPDIR/paused")" = paused ]
	[ $(($(now_ms) - t0)) -lt 5000 ]        # not after the 10 s pause
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

# since_handler: a handler that prints the milliseconds from its parent's
# start (the server's) to its own: how long the server made it wait
since_handler() {
	local h=$BATS_TEST_TMPDIR/since
	cat >"$h" <<'SH'
#!/bin/sh
start=$(sed 's/.*) //' "/proc/$PPID/stat" | cut -d' ' -f20)
awk -v s="$start" -v hz="$(getconf CLK_TCK)" -v u="$(cut -d' ' -f1 /proc/uptime)" \
	'BEGIN { printf "%d\n", (u - s / hz) * 1000 }'
SH
	chmod +x "$h"
	echo "$h"
}

@test "stream mode: the in-flow pause lasts in_flow_delay, as the handler sees it, and is a timer in the loop, not a sleep" {
	command -v strace >/dev/null || skip "no strace"
	no_leak_check
	local since trace=$BATS_TEST_TMPDIR/trace
	since=$(since_handler)
	run stream_run -o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=2s
	[ "$output" = x ]
	run --separate-stderr strace -qq -e signal=none -o "$trace" \
		-e trace=nanosleep,clock_nanosleep \
		"$SS" -S -V -v "${FLOW[@]}" -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=2s -- "$since" </dev/null
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"no in-flow token -- pausing 2s"* ]]
	[ "$output" -ge 1990 ]
	[ "$output" -le 4000 ]
	# strace without -f: the server's own calls, not the handler's
	[ ! -s "$trace" ]
}

@test "SIGTERM during a stream-mode in-flow pause: the client is served at once" {
	local in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out t0
	LOG=$BATS_TEST_TMPDIR/server.log
	run stream_run -o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=10s
	[ "$output" = x ]
	echo paused >"$in"
	"$SS" -S -V -v "${FLOW[@]}" -o in_flow_rate=1 -o in_flow_burst=1 \
		-o in_flow_delay=10s -- cat <"$in" >"$out" 2>"$LOG" 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	wait_for_log 'pausing 10s'
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$out")" = paused ]
	[ $(($(now_ms) - t0)) -lt 5000 ]        # not after the 10 s pause
	grep -q 'signal 15 -- serving the paused client now' "$LOG"
}

#!/usr/bin/env bats
# limits.bats - single-server(8) resident-mode limits: max_use, max_idle,
# process_limit, and running out of descriptors while accepting.
#
# Handlers that must stay busy run t/handlers/hold: it marks DIR/start.NAME
# and waits for DIR/release or DIR/release.NAME, so a test decides when
# each one ends, and DIR/events records the order things happened in.

load helper

setup() {
	hold_setup
}

teardown() {
	hold_teardown
}

# backlog PORT: connections waiting in the accept queue of the TCP
# listener on 127.0.0.1:PORT (ss shows it as Recv-Q of a LISTEN socket)
backlog() {
	ss -Hltn "sport = :$1" | awk '{ print $2; exit }'
}

# wait_backlog PORT N [SECONDS]: wait (bounded) until N clients are queued
wait_backlog() {
	local port=$1 n=$2 limit=${3:-5} i
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(backlog "$port")" = "$n" ] && return 0
		sleep 0.05
	done
	echo "backlog of port $port never reached $n (now: $(backlog "$port"))" >&2
	return 1
}

# cpu_ticks PID: user plus system CPU time of PID, in clock ticks
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# lowest_free_fd PID: the lowest descriptor number PID has not open
lowest_free_fd() {
	local fd=0
	while [ -e "/proc/$1/fd/$fd" ] && [ "$fd" -lt 4096 ]; do
		fd=$((fd + 1))
	done
	echo "$fd"
}

# hold_clients NAME...: one background client per NAME, sending NAME to
# t/handlers/hold; its reply goes to $D/out.NAME, its pid to PIDS[NAME]
declare -gA PIDS
hold_clients() {
	local name
	for name; do
		bg client "$ADDR" --send "$name\\n" >"$D/out.$name"
		PIDS[$name]=$BG_PID
	done
}

# check_released NAME...: each client ended well and got "released NAME"
check_released() {
	local name
	for name; do
		wait_status "${PIDS[$name]}" 10
		[ "$STATUS" -eq 0 ]
		[ "$(cat "$D/out.$name")" = "released $name" ]
	done
}

# --- max_use -------------------------------------------------------------------

# serve_three_then_exit OPTION...: a server with OPTION serves exactly
# three clients, exits 0, and a fourth connection is refused
serve_three_then_exit() {
	local i
	start_held_server "$@" "$H/echo-line"
	for i in 1 2 3; do
		run client "$ADDR" --send "client $i\\n"
		[ "$status" -eq 0 ]
		[ "$output" = "client $i" ]
	done
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
}

@test "max_use=3: exactly three clients are served, then the server exits 0" {
	serve_three_then_exit -o max_use=3
}

@test "-m 3 is max_use=3" {
	serve_three_then_exit -m 3
}

@test "max_use reached: no more connections, running handlers finish before the exit" {
	start_held_server -m 2 -o process_limit=2 "$H/hold" "$D"
	hold_clients A B
	wait_for_file "$D/start.A"
	wait_for_file "$D/start.B"
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
	kill -0 "$SERVER_PID"	# still waiting for its two handlers
	: >"$D/release"
	check_released A B
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

# --- max_idle ------------------------------------------------------------------

@test "-v: reaching max_use is logged with the number of handlers still running" {
	start_held_server -v -m 1 "$H/echo-line"
	run client "$ADDR" --send 'one\n'
	[ "$output" = one ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -qE 'use limit reached -- exiting after [01] running handler\(s\)' "$LOG"
}

@test "max_idle=1: with nothing to do the server exits 0 after about a second" {
	local t0 elapsed
	start_held_server -o max_idle=1 "$H/echo-line"
	t0=$(now_ms)
	wait_status "$SERVER_PID" 5
	elapsed=$(($(now_ms) - t0))
	[ "$STATUS" -eq 0 ]
	grep -qF "idle timeout -- exiting" "$LOG"
	echo "exited after ${elapsed}ms"
	[ "$elapsed" -ge 800 ]
	[ "$elapsed" -le 3000 ]
}

@test "-i 1: the idle clock stops during a session and restarts when it ends" {
	local t0 elapsed
	start_held_server -i 1 sh -c 'sleep 1.5; echo done'
	run client "$ADDR"	# a session longer than max_idle
	[ "$output" = done ]
	t0=$(now_ms)
	# still there, still listening, no idle timeout logged
	kill -0 "$SERVER_PID"
	[ -n "$(ss -Hltn "sport = :${ADDR##*:}")" ]
	run grep -c "idle timeout" "$LOG"
	[ "$output" = 0 ]
	wait_status "$SERVER_PID" 5
	elapsed=$(($(now_ms) - t0))
	[ "$STATUS" -eq 0 ]
	grep -qF "idle timeout -- exiting" "$LOG"
	echo "exited ${elapsed}ms after the session"
	[ "$elapsed" -ge 500 ]
	[ "$elapsed" -le 3000 ]
}

# --- process_limit -------------------------------------------------------------

@test "by default clients are served at once: 5 clients of a 1-second handler finish in under 2 s" {
	start_server -L 127.0.0.1:0 sh -c 'sleep 1; echo done'
	# one process opens the 5 connections and times each reply
	run burst "$ADDR" 5 --timeout 8
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	[ "$(grep -c '^[0-9]* done$' <<<"$output")" -eq 5 ]
	[ "${lines[5]#max }" -lt 2000 ]
}

@test "process_limit=1: simultaneous clients are served one after the other, none refused" {
	start_server -o process_limit=1 -L 127.0.0.1:0 "$H/hold" "$D"
	hold_clients A
	wait_for_file "$D/start.A"
	hold_clients B
	# B waits in the kernel's backlog: not accepted, no handler
	wait_backlog "${ADDR##*:}" 1
	[ ! -e "$D/start.B" ]
	: >"$D/release.A"
	wait_for_file "$D/start.B"
	[ -e "$D/end.A" ]
	: >"$D/release.B"
	check_released A B
	[ "$(cat "$D/events")" = "$(printf 'start A\nend A\nstart B\nend B')" ]
}

@test "process_limit=3: three handlers run at once, a fourth client waits in the backlog" {
	local n
	start_server -o process_limit=3 -L 127.0.0.1:0 "$H/hold" "$D" 8
	hold_clients A B C
	for n in A B C; do
		wait_for_file "$D/start.$n" 4
	done
	for n in A B C; do
		[ ! -e "$D/end.$n" ]	# all three are still held
	done
	hold_clients late
	wait_backlog "${ADDR##*:}" 1
	[ ! -e "$D/start.late" ]
	: >"$D/release"
	check_released A B C late
}

@test "-z: no limit on handlers running at once" {
	local n
	start_server -z -L 127.0.0.1:0 "$H/hold" "$D" 8
	hold_clients A B C D E
	for n in A B C D E; do
		wait_for_file "$D/start.$n" 4
	done
	for n in A B C D E; do
		[ ! -e "$D/end.$n" ]
	done
	: >"$D/release"
	check_released A B C D E
}

# paused_pair ARGS...: start_server ARGS with an in-flow bucket of one
# token (a 4 s pause without one), then two clients from one process
# (BG_PID, its output in $D/pair): the first takes the token, the second
# is paused; returns once it is
paused_pair() {
	start_server -v -n "limits-$BATS_TEST_NUMBER-$$" \
		-o state_directory="$BATS_TEST_TMPDIR/state" -o in_flow_rate=1 \
		-o in_flow_burst=1 -o in_flow_delay=4s "$@" "$H/echo-line"
	bg burst "$ADDR" 2 --send 'x\n' --timeout 15 >"$D/pair"
	wait_for_log 'no in-flow token'
}

# pair_served: both clients of paused_pair got their line, the second
# after its pause
pair_served() {
	wait_status "$1" 15
	cat "$D/pair"
	[ "$STATUS" -eq 0 ]
	[ "$(grep -c '^[0-9]* x$' "$D/pair")" -eq 2 ]
	[ "$(sed -n 's/^max //p' "$D/pair")" -ge 3500 ]
}

@test "process_limit=1: a client in its in-flow pause counts toward it, the next one waits in the backlog" {
	local pair next
	paused_pair -o process_limit=1 -L 127.0.0.1:0
	pair=$BG_PID
	bg client "$ADDR" --send 'next\n' --timeout 15 >"$D/next"
	next=$BG_PID
	wait_backlog "${ADDR##*:}" 1
	[ "$(grep -c 'no in-flow token' "$LOG")" -eq 1 ]
	pair_served "$pair"
	wait_status "$next" 15
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/next")" = next ]
}

@test "max_idle=1: a client in its in-flow pause is something to do, the idle clock waits for its handler" {
	local pair
	SS_WRAP="python3 $SRC/t/held.py --" paused_pair -o max_idle=1
	pair=$BG_PID
	pair_served "$pair"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -qF "idle timeout -- exiting" "$LOG"
}

# --- running out of descriptors ------------------------------------------------

@test "out of descriptors: accept pauses without spinning and recovers when fds free up" {
	local n soft hard i t0 used
	start_server -z -L 127.0.0.1:0 "$H/echo-line"
	# The soft limit becomes the lowest descriptor number not in use, so
	# that the next accept() needs one the limit forbids. (The count of
	# open fds is not enough: the server may hold fds it inherited above
	# a hole.)
	n=$(lowest_free_fd "$SERVER_PID")
	read -r soft hard < <(prlimit --pid "$SERVER_PID" --nofile --raw \
		--noheadings -o SOFT,HARD)
	prlimit --pid "$SERVER_PID" --nofile="$n:$hard"
	for i in 1 2 3 4 5; do
		bg client "$ADDR" --send "client $i\\n" >"$D/out.$i"
		PIDS[$i]=$BG_PID
	done
	wait_for_log "Too many open files -- pausing"
	t0=$(cpu_ticks "$SERVER_PID")
	sleep 1	# a measuring window, not a wait for readiness
	used=$(($(cpu_ticks "$SERVER_PID") - t0))
	echo "CPU ticks used while paused: $used"
	[ "$used" -lt 50 ]
	for i in 1 2 3 4 5; do
		[ ! -s "$D/out.$i" ]	# nobody served yet
	done
	prlimit --pid "$SERVER_PID" --nofile="$soft:$hard"
	for i in 1 2 3 4 5; do
		wait_status "${PIDS[$i]}" 10
		[ "$STATUS" -eq 0 ]
		[ "$(cat "$D/out.$i")" = "client $i" ]
	done
	kill -0 "$SERVER_PID"
	# Said once per episode, not every 100 ms, and the end is said too.
	[ "$(grep -c 'Too many open files -- pausing' "$LOG")" -eq 1 ]
	grep -q "accept on $ADDR works again" "$LOG"
}

@test "handler_stderr=log at the descriptor limit: clients are served, their stderr goes to /dev/null meanwhile" {
	local n hard i
	start_server -z -o handler_stderr=log -L 127.0.0.1:0 \
		sh -c 'IFS= read -r l; echo "$l"; echo "diag $l" >&2'
	# room for one accepted client, not for its two pipe ends (the handler
	# inherits the limit too: its redirection of stderr fails meanwhile)
	n=$(lowest_free_fd "$SERVER_PID")
	read -r _ hard < <(prlimit --pid "$SERVER_PID" --nofile --raw \
		--noheadings -o SOFT,HARD)
	prlimit --pid "$SERVER_PID" --nofile="$((n + 1)):$hard"
	for i in 1 2 3; do
		run client "$ADDR" --send "client $i\\n" --timeout 5
		[ "$status" -eq 0 ]
		[ "$output" = "client $i" ]
	done
	[ "$(grep -c 'no pipe for a handler.s stderr' "$LOG")" -eq 1 ]
	prlimit --pid "$SERVER_PID" --nofile="1024:$hard"
	run client "$ADDR" --send 'again\n'
	[ "$output" = again ]
	wait_for_log ": diag again"	# a pipe again: the line is logged
}

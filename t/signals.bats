#!/usr/bin/env bats
# signals.bats - single-server(8) resident mode leaving on a signal,
# drain_timeout, command_time_limit, and the sd_notify messages.

load helper

setup() {
	hold_setup
}

teardown() {
	hold_teardown
}

# track_handler FILE: the pid a handler wrote to FILE is killed in teardown
track_handler() {
	wait_for_file "$1"
	HANDLER_PID=$(cat "$1")
	BG_PIDS+=("$HANDLER_PID")
}

# leave_on_signal NAME NUMBER: the server stops accepting at once, lets the
# running handler finish its reply, and exits 0
leave_on_signal() {
	local sig=$1 num=$2 client_pid
	start_held_server "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	client_pid=$BG_PID
	wait_for_file "$D/start.A"
	kill -"$sig" "$SERVER_PID"
	wait_for_log "signal $num -- exiting"
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
	# nothing already accepted is cut short: the handler is still held
	kill -0 "$SERVER_PID"
	[ ! -e "$D/end.A" ]
	: >"$D/release"
	wait_status "$client_pid"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out.A")" = "released A" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "SIGTERM: no new connections, the running handler's reply reaches its client, exit 0" {
	leave_on_signal TERM 15
}

@test "SIGINT: no new connections, the running handler's reply reaches its client, exit 0" {
	leave_on_signal INT 2
}

@test "SIGHUP: no new connections, the running handler's reply reaches its client, exit 0" {
	leave_on_signal HUP 1
}

@test "SIGTERM with no handler running: the server exits 0 at once" {
	start_server -L 127.0.0.1:0 "$H/echo-line"
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 2
	[ "$STATUS" -eq 0 ]
}

@test "drain_timeout=1: a handler still running a second after SIGTERM is terminated" {
	local t0 elapsed client_pid
	start_server -o drain_timeout=1 -L 127.0.0.1:0 \
		sh -c 'echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8 >"$D/out"
	client_pid=$BG_PID
	track_handler "$D/pid"
	kill -TERM "$SERVER_PID"
	t0=$(now_ms)
	wait_status "$SERVER_PID" 6
	elapsed=$(($(now_ms) - t0))
	[ "$STATUS" -eq 0 ]
	echo "exited ${elapsed}ms after SIGTERM"
	[ "$elapsed" -ge 800 ]
	[ "$elapsed" -le 4000 ]
	grep -qF "drain timeout" "$LOG"
	grep -qF "handler pid $HANDLER_PID killed by signal 15" "$LOG"
	run kill -0 "$HANDLER_PID"
	[ "$status" -ne 0 ]
	wait_status "$client_pid" 5	# the connection was closed
	[ "$STATUS" -eq 0 ]
}

@test "drain_timeout=1: a handler that ignores SIGTERM is killed a second later" {
	local t0 elapsed
	start_server -o drain_timeout=1 -L 127.0.0.1:0 \
		sh -c 'trap "" TERM; echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8 >"$D/out"
	track_handler "$D/pid"
	kill -TERM "$SERVER_PID"
	t0=$(now_ms)
	wait_status "$SERVER_PID" 8
	elapsed=$(($(now_ms) - t0))
	[ "$STATUS" -eq 0 ]
	echo "exited ${elapsed}ms after SIGTERM"
	[ "$elapsed" -ge 1800 ]
	[ "$elapsed" -le 5000 ]
	grep -qF "drain timeout" "$LOG"
	grep -qF "handler pid $HANDLER_PID still running -- sending SIGKILL" "$LOG"
	grep -qF "handler pid $HANDLER_PID killed by signal 9" "$LOG"
}

# a handler that echoes a line, or sleeps when the line is "slow"
SLOW='IFS= read -r l; if [ "$l" = slow ]; then echo $$ >"$1"; exec sleep 30; fi; echo "$l"'

@test "command_time_limit=1: a long handler is terminated and the server goes on serving" {
	local t0 elapsed
	start_server -o command_time_limit=1 -L 127.0.0.1:0 \
		sh -c "$SLOW" sh "$D/pid"
	# timed from the connect, not from the client's start
	run burst "$ADDR" 1 --send 'slow\n' --timeout 6
	[ "$status" -eq 0 ]	# end of file, not the client's timeout
	[ "${lines[0]}" = "${lines[1]#max } " ]	# and nothing read
	elapsed=${lines[1]#max }
	echo "handler ended after ${elapsed}ms"
	[ "$elapsed" -ge 800 ]
	[ "$elapsed" -le 4000 ]
	HANDLER_PID=$(cat "$D/pid")
	wait_for_log "handler pid $HANDLER_PID killed by signal 15"
	grep -qF "time limit" "$LOG"
	run client "$ADDR" --send 'next\n'
	[ "$status" -eq 0 ]
	[ "$output" = next ]
	kill -0 "$SERVER_PID"
}

@test "command_time_limit=1: a handler that ignores SIGTERM is killed a second later" {
	start_server -o command_time_limit=1 -L 127.0.0.1:0 \
		sh -c "trap '' TERM; $SLOW" sh "$D/pid"
	run client "$ADDR" --send 'slow\n' --timeout 6
	[ "$status" -eq 0 ]
	HANDLER_PID=$(cat "$D/pid")
	wait_for_log "handler pid $HANDLER_PID killed by signal 9"
	grep -qF "time limit" "$LOG"
	grep -qF "handler pid $HANDLER_PID still running -- sending SIGKILL" "$LOG"
	run client "$ADDR" --send 'next\n'
	[ "$output" = next ]
}

@test "NOTIFY_SOCKET: the server sends READY=1 once listening and STOPPING=1 when leaving" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	notify_listen "$sock" "$out"
	export NOTIFY_SOCKET=$sock
	start_server -L 127.0.0.1:0 "$H/echo-line"
	unset NOTIFY_SOCKET
	LOG=$out wait_for_log "READY=1"
	run client "$ADDR" --send 'ready\n'
	[ "$output" = ready ]
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	LOG=$out wait_for_log "STOPPING=1"
	[ "$(grep -v '^STATUS=' "$out")" = "$(printf 'READY=1\nSTOPPING=1')" ]
}

@test "NOTIFY_SOCKET: STOPPING=1 is sent when max_use ends the server too" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	notify_listen "$sock" "$out"
	export NOTIFY_SOCKET=$sock
	start_held_server -m 1 "$H/echo-line"
	unset NOTIFY_SOCKET
	run client "$ADDR" --send 'only\n'
	[ "$output" = only ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	LOG=$out wait_for_log "STOPPING=1"
	[ "$(grep -v '^STATUS=' "$out")" = "$(printf 'READY=1\nSTOPPING=1')" ]
}

@test "daemon_timeout: a server whose loop stood still that long exits 111, logged" {
	start_server -o daemon_timeout=1 -L 127.0.0.1:0 -- "$H/echo-line"
	# A stopped process cannot pat its watchdog; the alarm is delivered
	# as soon as it runs again.
	kill -STOP "$SERVER_PID"
	sleep 1.5	# the timeout itself is what is measured
	kill -CONT "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 111 ]
	grep -q "fatal: watchdog timeout -- exiting" "$LOG"
}

@test "daemon_timeout: a loop wedged on a full stderr pipe is still ended (killed by SIGALRM: the last words cannot be written)" {
	local err=$BATS_TEST_TMPDIR/err t0
	# stderr a pipe that nobody reads: this shell holds its read end
	mkfifo "$err"
	exec {held}<>"$err"
	printf '#!/bin/sh\nexec "$@" 2>"%s"\n' "$err" >"$BATS_TEST_TMPDIR/wrap"
	chmod +x "$BATS_TEST_TMPDIR/wrap"
	SS_WRAP=$BATS_TEST_TMPDIR/wrap start_server -o daemon_timeout=1 \
		-o handler_stderr=log -L 127.0.0.1:0 -- sh -c 'echo noise >&2'
	# the pipe filled to the last byte: the next write waits, even
	# the watchdog's short last line
	python3 -c '
import os, sys
fd = int(sys.argv[1])
os.set_blocking(fd, False)
for size in (4096, 1):
    try:
        while True:
            os.write(fd, b"x" * size)
    except BlockingIOError:
        pass
' "$held"
	bg client "$ADDR" --timeout 20
	t0=$(now_ms)
	wait_status "$SERVER_PID" 10 || { exec {held}<&-; return 1; }
	echo "gone after $(($(now_ms) - t0)) ms, status $STATUS"
	exec {held}<&-
	[ "$STATUS" -eq $((128 + 14)) ]
}

@test "drain_timeout=0: running handlers get SIGTERM at once" {
	local t0
	start_server -o drain_timeout=0 -L 127.0.0.1:0 \
		sh -c 'echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8 >"$D/out"
	track_handler "$D/pid"
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ $(($(now_ms) - t0)) -lt 900 ]
	grep -qF "handler pid $HANDLER_PID killed by signal 15" "$LOG"
	[ "$(grep -c 'drain timeout' "$LOG")" -eq 0 ]
}

@test "NOTIFY_SOCKET: STATUS= counts served and running clients, within a second of a change" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	notify_listen "$sock" "$out"
	export NOTIFY_SOCKET=$sock
	start_server -L 127.0.0.1:0 "$H/hold" "$D"
	unset NOTIFY_SOCKET
	bg client "$ADDR" --send 'A\n'
	wait_for_file "$D/start.A"
	LOG=$out wait_for_log "STATUS=served 1, running 1, paused 0, refused 0" 2
	: >"$D/release"
	LOG=$out wait_for_log "STATUS=served 1, running 0, paused 0, refused 0" 2
}

@test "NOTIFY_SOCKET: STATUS= goes out at most once a second, and only when it changed" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out n t0 secs
	notify_listen "$sock" "$out"
	export NOTIFY_SOCKET=$sock
	start_server -L 127.0.0.1:0 "$H/echo-line"
	unset NOTIFY_SOCKET
	t0=$(now_ms)
	for ((n = 0; n < 40; n++)); do
		client "$ADDR" --send 'x\n' >/dev/null
	done
	LOG=$out wait_for_log "STATUS=served 40, running 0" 3
	secs=$(( ($(now_ms) - t0 + 999) / 1000 ))
	n=$(grep -c '^STATUS=' "$out")
	echo "$n STATUS= lines in ${secs}s"
	[ "$n" -le $((secs + 1)) ]
	[ "$(grep '^STATUS=' "$out" | sort | uniq -d)" = "" ]	# no repeats
}

# --- process groups -------------------------------------------------------------
# A shell handler that starts a child of its own: both hold the client's
# connection, so the client sees end-of-file only when both are gone.
FAMILY='echo $$ >"$1"; sleep 30 & sleep 30'

# group_gone PGID: wait (bounded) until no process is left in that group
group_gone() {
	local i
	for ((i = 0; i < 60; i++)); do
		pgrep -g "$1" >/dev/null || return 0
		sleep 0.05
	done
	echo "still in process group $1:" >&2
	ps -o pid,pgid,stat,args -g "$1" >&2
	return 1
}

# family_ends_within LIMIT_MS CLIENT_PID T0: the client saw end-of-file
# by then, and the handler's whole process group is gone
family_ends_within() {
	wait_status "$2" 6
	[ "$STATUS" -eq 0 ]	# end of file, not the client's timeout
	local elapsed=$(($(now_ms) - $3))
	echo "client saw end-of-file after ${elapsed}ms"
	[ "$elapsed" -le "$1" ]
	group_gone "$(cat "$D/pid")"
}

@test "a handler leads its own process group" {
	start_server -L 127.0.0.1:0 sh -c 'ps -o pgid= -p $$; echo $$'
	run client "$ADDR"
	[ "$status" -eq 0 ]
	read -r pgid pid <<<"$(echo $output)"
	[ "$pgid" = "$pid" ]
	[ "$pgid" != "$(ps -o pgid= -p "$SERVER_PID" | tr -d ' ')" ]
}

@test "command_time_limit=1 ends the handler's whole process group: EOF within 3s, nothing left" {
	local t0
	start_server -o command_time_limit=1 -L 127.0.0.1:0 sh -c "$FAMILY" sh "$D/pid"
	bg client "$ADDR" --timeout 8
	wait_for_file "$D/pid"	# the clock starts with the handler
	t0=$(now_ms)
	family_ends_within 3000 "$BG_PID" "$t0"
	kill -0 "$SERVER_PID"
}

@test "the drain after SIGTERM ends the handler's whole process group: EOF within 3s, nothing left" {
	local t0 client_pid
	start_server -o drain_timeout=1 -L 127.0.0.1:0 sh -c "$FAMILY" sh "$D/pid"
	bg client "$ADDR" --timeout 8
	client_pid=$BG_PID
	wait_for_file "$D/pid"
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	family_ends_within 3000 "$client_pid" "$t0"
	wait_status "$SERVER_PID" 3
	[ "$STATUS" -eq 0 ]
}

@test "stream mode: SIGTERM reaches the handler's whole process group: EOF within 3s, nothing left" {
	local t0 client_pid
	# the client's end of a socket pair; the other end is the tool's fds 0, 1
	bg python3 -c '
import os, socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdin=b, stdout=b)
b.close()
print(p.pid, flush=True)
a.settimeout(8)
while a.recv(4096):
    pass
print("eof", flush=True)
p.wait()
' "$SS" -S sh -c "$FAMILY" sh "$D/pid" >"$D/out"
	client_pid=$BG_PID
	wait_for_file "$D/pid"
	t0=$(now_ms)
	kill -TERM "$(head -n 1 "$D/out")"
	family_ends_within 3000 "$client_pid" "$t0"
	[ "$(tail -n 1 "$D/out")" = eof ]
}

@test "stream mode with a terminal on stdin: the handler stays in the terminal's process group" {
	command -v script >/dev/null || skip "no script(1)"
	run script -qec "\"$SS\" -S -- sh -c 'echo \$(ps -o pgid= -p \$\$) \$(ps -o pgid= -p \$PPID)'" /dev/null
	[ "$status" -eq 0 ]
	read -r mine parent <<<"$(tr -d '\r' <<<"$output")"
	[ -n "$mine" ]
	[ "$mine" = "$parent" ]
}

@test "what a handler left running when it exited is left alone" {
	start_server -L 127.0.0.1:0 sh -c 'sleep 30 >/dev/null 2>&1 </dev/null & echo $!'
	run client "$ADDR"
	[ "$status" -eq 0 ]
	BG_PIDS+=("$output")	# killed in teardown
	kill -0 "$output"
}

@test "command_time_limit: a group member that ignores SIGTERM is killed a second later, even after the handler itself ended" {
	local t0
	start_server -o command_time_limit=1 -L 127.0.0.1:0 \
		sh -c '(trap "" TERM; exec sleep 8) & echo $$ >"$1"; sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8
	wait_for_file "$D/pid"	# the clock starts with the handler
	t0=$(now_ms)
	family_ends_within 3000 "$BG_PID" "$t0"
	wait_for_log "process group $(cat "$D/pid") still running -- sending SIGKILL"
}

# --- SIGUSR1, SIGUSR2 -------------------------------------------------------------

# The SIGUSR1 line: the counters as STATUS= has them, this image's start
# (RFC 3339) and the re-executions before it
STARTED='this image started [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}'

# wait_for_log_re REGEX [COUNT]: wait (bounded) until the log has COUNT
# (default 1) lines matching REGEX
wait_for_log_re() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -cE -- "$1" "$LOG")" -ge "${2:-1}" ] && return 0
		sleep 0.05
	done
	echo "never logged: $1" >&2
	cat "$LOG" >&2
	return 1
}

@test "SIGUSR1 logs the counters, the image's start and its re-executions; the server serves on" {
	start_server -v -m 2 -L 127.0.0.1:0 "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	wait_for_file "$D/start.A"
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 1, paused 0, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	# nothing else changed: same process, the handler runs, the next is served
	alive "$SERVER_PID"
	[ ! -e "$D/end.A" ]
	: >"$D/release"
	run client "$ADDR" --send 'B\n'	# the second: max_use, re-execute
	[ "$output" = "released B" ]
	[ "$(grep -c 'signal 10' "$LOG")" -eq 0 ]
	# the count goes across a max_use re-execution and a reload
	wait_for_log_re ': ready: ' 2
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 2, running 0, paused 0, refused 0; $STARTED, 1 re-execution\(s\) before it\$"
	kill -HUP "$SERVER_PID"
	wait_for_log_re ': ready: ' 3
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 2, running 0, paused 0, refused 0; $STARTED, 2 re-execution\(s\) before it\$"
	run client "$ADDR" --send 'C\n'
	[ "$output" = "released C" ]
	alive "$SERVER_PID"
}

@test "SIGUSR1 counts a client in its in-flow pause, and a handler and a paused client that a re-execution handed over" {
	start_server -v -n "signals-$BATS_TEST_NUMBER-$$" \
		-o state_directory="$BATS_TEST_TMPDIR/state" -o in_flow_rate=1 \
		-o in_flow_burst=1 -o in_flow_delay=10s -L 127.0.0.1:0 "$H/hold" "$D"
	# one process, two connections: the first takes the only token and
	# its handler is held, the second is paused
	bg burst "$ADDR" 2 --send 'A\n' --timeout 30 >"$D/out"
	wait_for_file "$D/start.A"
	wait_for_log 'no in-flow token'
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 1, paused 1, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	kill -HUP "$SERVER_PID"
	wait_for_log_re ': ready: ' 2
	grep -q ': 1 handler(s), 1 paused client(s) ' "$LOG"
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 1, paused 1, refused 0; $STARTED, 1 re-execution\(s\) before it\$"
}

# A re-execution keeps the pid, so "the server serves on" does not tell
# SIGUSR2 from a reload: what must not happen is looked for in the log. A
# reload is logged when it starts (at -v), in the signal's own callback;
# a client served after that callback proves the log has all it wrote.
RELOADED='re-executing|--check|reload'

@test "SIGUSR2 changes nothing: the server serves on, and says so only with -v" {
	start_server -L 127.0.0.1:0 "$H/echo-line"
	kill -USR2 "$SERVER_PID"
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ': status: served 0, '
	run client "$ADDR" --send 'after\n'
	[ "$output" = after ]
	alive "$SERVER_PID"
	# one status line (SIGUSR1's), nothing from SIGUSR2
	[ "$(grep -c ': status: ' "$LOG")" -eq 1 ]
	[ "$(grep -c 'SIGUSR2' "$LOG")" -eq 0 ]
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 0, paused 0, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	[ "$(grep -c ': status: ' "$LOG")" -eq 2 ]
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	start_server -v -L 127.0.0.1:0 "$H/echo-line"
	kill -USR2 "$SERVER_PID"
	wait_for_log 'signal 12 (SIGUSR2) -- ignored'
	run client "$ADDR" --send 'after\n'
	[ "$output" = after ]
	alive "$SERVER_PID"
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 0, paused 0, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	# still the first image: one start, no reload, one status line
	[ "$(grep -c ': ready: ' "$LOG")" -eq 1 ]
	[ "$(grep -cE -- "$RELOADED" "$LOG")" -eq 0 ]
	[ "$(grep -c ': status: ' "$LOG")" -eq 1 ]
}

@test "SIGUSR2 while a handler runs: no handover, the same handler finishes its reply" {
	local handler stat ppid
	start_server -v -L 127.0.0.1:0 "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	local client_pid=$BG_PID
	wait_for_file "$D/start.A"
	handler=$(cat "$D/start.A")
	kill -USR2 "$SERVER_PID"
	wait_for_log 'signal 12 (SIGUSR2) -- ignored'
	kill -USR1 "$SERVER_PID"
	wait_for_log_re ": status: served 1, running 1, paused 0, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	[ "$(grep -cE -- "$RELOADED" "$LOG")" -eq 0 ]
	[ "$(grep -c ': ready: ' "$LOG")" -eq 1 ]
	# the handler is the one started for A, still the server's child
	alive "$handler"
	stat=$(cat "/proc/$handler/stat")
	read -r _ ppid _ <<<"${stat##*) }"
	[ "$ppid" = "$SERVER_PID" ]
	[ ! -e "$D/end.A" ]
	: >"$D/release"
	wait_status "$client_pid" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out.A")" = "released A" ]
	wait_for_log "handler pid $handler exit status 0"
	[ "$(grep -cE -- "$RELOADED" "$LOG")" -eq 0 ]
}

@test "handlers start with SIGUSR1, SIGUSR2 and SIGPIPE at their default, not ignored" {
	start_server -L 127.0.0.1:0 grep '^SigIgn:' /proc/self/status
	run client "$ADDR"
	[ "$status" -eq 0 ]
	echo "$output"
	# bits 9, 11 and 12 of the mask: signals 10 (USR1), 12 (USR2), 13 (PIPE)
	[ $((16#${output##*[[:space:]]} & 16#1a00)) -eq 0 ]
}

@test "stream mode: SIGUSR1 logs the counters and the handler runs on; SIGUSR2 is ignored" {
	bg "$SS" -S -V -v -- sh -c 'echo $$ >"$1/pid"; while [ ! -e "$1/release" ]; do sleep 0.05; done; echo done' \
		sh "$D" </dev/null >"$D/out" 2>"$D/log"
	local tool=$BG_PID
	wait_for_file "$D/pid"
	kill -USR1 "$tool"
	kill -USR2 "$tool"
	LOG=$D/log wait_for_log 'signal 12 (SIGUSR2) -- ignored'
	LOG=$D/log wait_for_log_re ": status: served 1, running 1, paused 0, refused 0; $STARTED, 0 re-execution\(s\) before it\$"
	alive "$tool"
	: >"$D/release"
	wait_status "$tool" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out")" = done ]
}

@test "a handover from an image that passed no re-execution count is taken: served on, SIGUSR1 says 1" {
	# what an older image passes: the handover line alone, for this pid
	# (sh execs the server), and the listener as LISTEN_FDS
	local older=$BATS_TEST_TMPDIR/older
	printf '#!/bin/sh\nSINGLE_SERVER_HANDOVER="v1 pid=$$ served=5" exec "$@"\n' >"$older"
	chmod +x "$older"
	SS_WRAP="python3 $SRC/t/held.py -- $older" start_server "$H/echo-line"
	run client "$ADDR" --send 'new image\n'
	[ "$output" = "new image" ]
	# The client has its answer before the handler is reaped: ask again
	# (bounded) until the count says so, then look at the whole line.
	local i
	for ((i = 0; i < 100; i++)); do
		kill -USR1 "$SERVER_PID"
		grep -q ': status: served 6, running 0,' "$LOG" && break
		sleep 0.05
	done
	wait_for_log_re ": status: served 6, running 0, paused 0, refused 0; $STARTED, 1 re-execution\(s\) before it\$"
}

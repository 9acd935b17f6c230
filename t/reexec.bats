#!/usr/bin/env bats
# reexec.bats - own listeners never drop a client: with only -L sockets,
# single-server(8) re-executes itself (same pid) at max_use and on SIGHUP
# instead of exiting, hands over what is in flight, checks the new
# program with --check first; max_idle does not apply. And --check alone.

bats_require_minimum_version 1.5.0

load helper

setup() {
	hold_setup
}

teardown() {
	hold_teardown
}

# fd_count PID: how many descriptors PID has open
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# zombies PID: the zombie children of PID, one pid per line
zombies() {
	ps -o pid=,stat= --ppid "$1" | awk '$2 ~ /^Z/ { print $1 }'
}

# reexecs: how many times the server in $LOG re-executed so far
reexecs() {
	grep -c ': re-executing ' "$LOG" || true
}

# burst_done PID SECONDS [LINE]: the burst client PID (its report in
# $D/out) ended, bounded, with status 0; sets elapsed, the ms from its
# connect to the end of its reply; with LINE, the reply was that line
# (burst prints it after the ms)
burst_done() {
	wait_status "$1" "$2"
	[ "$STATUS" -eq 0 ]
	elapsed=$(sed -n 's/^max //p' "$D/out")
	[ -z "${3:-}" ] || [ "$(sed -n 1p "$D/out")" = "$elapsed $3" ]
}

# wait_reexecs N: wait (bounded) until the server re-executed N times
# and the new image is ready again (its "ready:" line: servers here run
# with -v)
wait_reexecs() {
	wait_log_count ': re-executing ' "$1" &&
		wait_log_count ': ready: ' "$(($1 + 1))"
}

@test "-L, -m 20, -z: 2000 connections at concurrency 8 all get their reply; same pid, no zombie, no fd leak" {
	local before after
	start_server -v -m 20 -z -L 127.0.0.1:0 "$H/echo-line"
	# counted after a first re-execution: descriptors inherited from the
	# test harness may be close-on-exec (without close_range: spawn_cmd_closes_all)
	run -0 python3 "$SRC/t/load.py" "$ADDR" 20 1
	wait_reexecs 1
	before=$(fd_count "$SERVER_PID")
	run -0 python3 "$SRC/t/load.py" "$ADDR" 2000 8
	echo "$output"
	[ "${lines[0]}" = "ok 2000 failed 0" ]
	alive "$SERVER_PID"
	[ "$(reexecs)" -ge 100 ]		# 2020 / 20, the last one may be due
	wait_reexecs "$(reexecs)"
	after=$(fd_count "$SERVER_PID")
	echo "fds before $before, after $after"
	[ "$after" -eq "$before" ]
	[ -z "$(zombies "$SERVER_PID")" ]
	[ "$(grep -c 'use limit reached' "$LOG")" -ge 99 ]
	! grep -q 'exiting' "$LOG"
}

@test "a handler running across a re-execution is reaped by the new image and its client gets the whole reply" {
	start_server -v -L 127.0.0.1:0 "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	local client_pid=$BG_PID handler
	wait_for_file "$D/start.A"
	handler=$(cat "$D/start.A")
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	grep -q "1 handler(s), 0 paused client(s) and 0 still sending a PROXY header handed over" "$LOG"
	: >"$D/release"
	wait_status "$client_pid" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out.A")" = "released A" ]
	wait_for_log "handler pid $handler exit status 0"
	[ -z "$(zombies "$SERVER_PID")" ]
}

@test "command_time_limit still ends a handler that was handed over, on time" {
	local t0 elapsed client_pid
	start_server -v -o command_time_limit=2 -L 127.0.0.1:0 \
		sh -c 'echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	# timed by the client from its connect to end of file
	bg burst "$ADDR" 1 --timeout 8 >"$D/out"
	client_pid=$BG_PID
	wait_for_file "$D/pid"
	sleep 1		# half the limit gone: the new image must not restart it
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	burst_done "$client_pid" 6
	echo "handler ended ${elapsed}ms after it started"
	[ "$elapsed" -ge 1800 ]
	[ "$elapsed" -le 2700 ]
	wait_for_log "handler pid $(cat "$D/pid") killed by signal 15"
}

@test "a client in its in-flow pause is handed over and served after its pause" {
	local client_pid
	start_server -v -n "reexec-flow-$BATS_TEST_NUMBER-$$" -o in_flow_rate=1 \
		-o in_flow_burst=1 -o in_flow_delay=2 \
		-o state_directory="$BATS_TEST_TMPDIR/state" -L 127.0.0.1:0 "$H/echo-line"
	run client "$ADDR" --send 'first\n'
	[ "$output" = first ]
	local elapsed
	# timed by the client from its connect to end of file
	bg burst "$ADDR" 1 --send 'second\n' >"$D/out"
	client_pid=$BG_PID
	wait_for_log "no in-flow token"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	grep -q "0 handler(s), 1 paused client(s) and 0 still sending a PROXY header handed over" "$LOG"
	burst_done "$client_pid" 5 second
	echo "served ${elapsed}ms after it connected"
	[ "$elapsed" -ge 1800 ]		# what was left of its pause, no less
}

@test "SIGHUP with a changed parameter file: clients after the reload see the new value; load sees no failure" {
	local cf=$BATS_TEST_TMPDIR/p.cf load_pid
	echo "command_time_limit = 30" >"$cf"
	start_server -v -f "$cf" -z -L 127.0.0.1:0 sh -c 'IFS= read -r l; case $l in slow) sleep 3;; esac; echo "$l"'
	run client "$ADDR" --send 'slow\n'	# before: 3 s are allowed
	[ "$output" = slow ]
	bg python3 "$SRC/t/load.py" "$ADDR" 600 4 >"$D/load"
	load_pid=$BG_PID
	echo "command_time_limit = 1" >"$cf"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	run client "$ADDR" --send 'slow\n' --timeout 6
	[ "$status" -eq 0 ]
	[ "$output" = "" ]			# after: cut off at 1 s
	wait_status "$load_pid" 60
	cat "$D/load"
	[ "$STATUS" -eq 0 ]
	[ "$(head -n 1 "$D/load")" = "ok 600 failed 0" ]
}

@test "SIGHUP after the binary was replaced runs the new binary: /proc/PID/exe changes, the pid does not" {
	local bin=$BATS_TEST_TMPDIR/single-server
	cp "$SS" "$bin"
	SS=$bin start_server -v -L 127.0.0.1:0 "$H/echo-line"
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == "$bin" ]]
	cp "$SS" "$bin.new"
	mv "$bin.new" "$bin"			# an upgrade: a new file at the path
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == *"(deleted)" ]]
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$bin" ]
	[ "$(stat -L -c %i "/proc/$SERVER_PID/exe")" = "$(stat -c %i "$bin")" ]
	run client "$ADDR" --send 'upgraded\n'
	[ "$output" = upgraded ]
}

@test "SIGHUP with a broken parameter file logs the error and serves on with the old configuration" {
	local cf=$BATS_TEST_TMPDIR/p.cf
	echo "max_use = 1000" >"$cf"
	start_server -v -f "$cf" -L 127.0.0.1:0 "$H/echo-line"
	echo "max_usr = 3" >"$cf"
	kill -HUP "$SERVER_PID"
	wait_for_log "--check failed (exit status 100)"
	grep -q "unknown parameter \"max_usr\"" "$LOG"
	[ "$(reexecs)" -eq 0 ]
	run client "$ADDR" --send 'still here\n'
	[ "$output" = "still here" ]
}

@test "a broken binary at the start-up path is not run: the old one serves on" {
	local bin=$BATS_TEST_TMPDIR/single-server
	cp "$SS" "$bin"
	SS=$bin start_server -v -m 2 -L 127.0.0.1:0 "$H/echo-line"
	printf '#!/bin/sh\nexit 1\n' >"$bin.new"
	chmod +x "$bin.new"
	mv "$bin.new" "$bin"
	run client "$ADDR" --send 'one\n'
	run client "$ADDR" --send 'two\n'	# max_use: a re-execution is due
	[ "$output" = two ]
	wait_for_log "--check failed (exit status 1)"
	run client "$ADDR" --send 'three\n'
	[ "$output" = three ]
	[ "$(reexecs)" -eq 0 ]
}

@test "max_idle=1 with only -L listeners: still serving after 3 s" {
	start_server -v -o max_idle=1 -L 127.0.0.1:0 "$H/echo-line"
	sleep 3			# what is tested is that nothing happens in this time
	alive "$SERVER_PID"
	run client "$ADDR" --send 'awake\n'
	[ "$output" = awake ]
	! grep -q "idle timeout" "$LOG"
}

@test "max_idle set with only -L listeners (-i, -o, -f): one warning at start, none again after a re-execution; the default says nothing" {
	local cf=$BATS_TEST_TMPDIR/p.cf how
	printf 'max_idle = 30s\n' >"$cf"
	for how in "-i 30" "-o max_idle=30s" "-f $cf"; do
		# shellcheck disable=SC2086
		start_server -v $how -L 127.0.0.1:0 "$H/echo-line"
		grep -q 'warning: max_idle 30s has no effect: every listener is our own' "$LOG"
		kill -HUP "$SERVER_PID"
		wait_reexecs 1
		[ "$(grep -c 'max_idle 30s has no effect' "$LOG")" -eq 1 ]
		kill -TERM "$SERVER_PID"
		wait_status "$SERVER_PID" 5
	done
	start_server -v -L 127.0.0.1:0 "$H/echo-line"
	! grep -q 'no effect' "$LOG"
	# nor with a supervisor's socket, where max_idle applies
	start_held_server -v -i 30 "$H/echo-line"
	! grep -q 'no effect' "$LOG"
}

@test "the start line with only -L listeners says what happens: re-execute at max_use, max_idle off; -m 0 is no limit" {
	# (logged just after -1 printed the address: waited for)
	start_server -v -L 127.0.0.1:0 "$H/echo-line"
	wait_for_log 'ready: 1 listener(s) of our own, max_use 100 (then re-execute), max_idle off (own listeners), process_limit 100'
	start_server -v -m 0 -L 127.0.0.1:0 "$H/echo-line"
	wait_for_log 'ready: 1 listener(s) of our own, max_use 0 (no limit), max_idle off (own listeners), process_limit 100'
	! grep -q 'max_use 0 (then re-execute)' "$LOG"
}

@test "SIGTERM with only -L listeners: stops accepting, lets the handler finish, exits 0" {
	start_server -v -L 127.0.0.1:0 "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	local client_pid=$BG_PID
	wait_for_file "$D/start.A"
	kill -TERM "$SERVER_PID"
	wait_for_log "signal 15 -- exiting"
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
	: >"$D/release"
	wait_status "$client_pid" 5
	[ "$(cat "$D/out.A")" = "released A" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "NOTIFY_SOCKET: a re-execution sends RELOADING=1 with MONOTONIC_USEC, then READY=1" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	notify_listen "$sock" "$out"
	export NOTIFY_SOCKET=$sock
	start_server -v -L 127.0.0.1:0 "$H/echo-line"
	unset NOTIFY_SOCKET
	LOG=$out wait_for_log "READY=1"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	LOG=$out wait_for_log "MONOTONIC_USEC="
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^READY=1' "$out")" -ge 2 ] && break
		sleep 0.05
	done
	run grep -Ev '^STATUS=' "$out"
	[ "${lines[0]}" = READY=1 ]
	[ "${lines[1]}" = RELOADING=1 ]
	[[ "${lines[2]}" =~ ^MONOTONIC_USEC=[0-9]+$ ]]
	[ "${lines[3]}" = READY=1 ]
	! grep -q STOPPING "$out"
}

@test "a listener from a supervisor: SIGHUP drains and exits instead" {
	start_held_server "$H/echo-line"
	kill -HUP "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ "$(reexecs)" -eq 0 ]
}

# --- --check ---------------------------------------------------------------------

@test "--check accepts a good configuration: exit 0, nothing bound, the handler not run" {
	local port sock=$BATS_TEST_TMPDIR/check.sock
	port=$(free_port)
	run --separate-stderr "$SS" --check -L "127.0.0.1:$port" -L "unix:$sock" \
		-o max_use=5 -- sh -c 'touch "$1"' sh "$D/ran"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ ! -e "$sock" ]			# no unix socket was made
	[ -z "$(ss -Hltn "sport = :$port")" ]
	[ ! -e "$D/ran" ]
}

# check_refuses TEXT ARGS...: --check with ARGS exits 100 naming TEXT
check_refuses() {
	local text=$1
	shift
	run --separate-stderr "$SS" --check "$@"
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"$text"* ]]
}

@test "--check refuses a bad parameter, naming it: exit 100" {
	local cf=$BATS_TEST_TMPDIR/p.cf
	echo "process_limit = lots" >"$cf"
	check_refuses 'process_limit' -f "$cf" -L 127.0.0.1:0 -- "$H/echo-line"
	[[ "$stderr" == *"$cf, line 1"* ]]
}

@test "--check refuses a missing handler, naming it: exit 100" {
	check_refuses '/nonexistent/handler: not found' -L 127.0.0.1:0 -- /nonexistent/handler
}

@test "--check refuses a bad listen address, naming it: exit 100" {
	check_refuses 'nosuchsvc' -L 127.0.0.1:nosuchsvc -- "$H/echo-line"
}

@test "--check with -S checks the handler as resident mode does: exit 100, not 127" {
	check_refuses 'not found' -S -- /nonexistent/handler
}

# --- the systemd unit example with ExecReload ---------------------------------------

@test "examples/single-server-own.service: ExecStart serves, ExecReload (kill -HUP \$MAINPID) re-executes it" {
	local unit=$SRC/examples/single-server-own.service start reload port
	port=$(free_port)
	start=$(sed -n 's/^ExecStart=//p' "$unit" |
		sed "s|/usr/local/bin/single-server|$SS|; s|/usr/local/share/doc/single-server/examples/|$SRC/examples/|; s|:8072|:$port|")
	reload=$(sed -n 's/^ExecReload=//p' "$unit")
	[ "$reload" = 'kill -HUP $MAINPID' ]
	# with a syslog socket, as under systemd: the log is there, not on
	# stderr
	syslog_start
	LOG=$BATS_TEST_TMPDIR/server.log
	syslog_bg bash -c "exec $start" </dev/null >/dev/null 2>"$LOG"
	SERVER_PID=$BG_PID
	run client "127.0.0.1:$port" --send 'hi\n'
	for ((i = 0; i < 100 && status != 0; i++)); do
		sleep 0.05
		run client "127.0.0.1:$port" --send 'hi\n'
	done
	[[ "$output" == *hi* ]]
	MAINPID=$SERVER_PID bash -c "$reload"
	wait_for_syslog "greet-own\[$SERVER_PID\]: re-executing"
	run client "127.0.0.1:$port" --send 'again\n'
	[[ "$output" == *again* ]]
	alive "$SERVER_PID"
}

# need_nobody_exec: skip unless root, and nobody may run the built binary
# (a build tree under a private directory is out of nobody's reach)
need_nobody_exec() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	runuser -u nobody -- test -x "$SS" || skip "nobody cannot execute $SS"
}

@test "-u: a server that dropped privileges re-executes as that user, its flow file handed over" {
	need_nobody_exec
	start_server -v -u -o user=nobody -m 2 -o in_flow_rate=100 \
		-o state_directory="$BATS_TEST_TMPDIR/state" \
		-n "reexec-u-$$" -L 127.0.0.1:0 "$H/echo-line"
	for n in 1 2 3 4 5; do
		run client "$ADDR" --send "as nobody $n\\n"
		[ "$output" = "as nobody $n" ]
	done
	wait_reexecs 2
	[ "$(ps -o user= -p "$SERVER_PID")" = nobody ]
	! grep -q "fatal" "$LOG"
}

@test "a stray SINGLE_SERVER_HANDOVER meant for another pid is ignored: -L is bound, handlers never see it" {
	SINGLE_SERVER_HANDOVER="v1 pid=999999 served=7 h=4242,0,0,-1" \
		start_server -v -L 127.0.0.1:0 "$H/env-dump"
	grep -q "SINGLE_SERVER_HANDOVER is meant for pid 999999, not for us -- ignored" "$LOG"
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[[ "$output" == *PROTO=TCP* ]]
	run -0 --separate-stderr env SINGLE_SERVER_HANDOVER="v1 pid=999999 served=0" "$SS" -S -- env </dev/null
	[[ "$output" != *SINGLE_SERVER_HANDOVER* ]]
}

# alive PID: PID exists and is not a zombie
alive() {
	[ -r "/proc/$1/stat" ] && ! sed 's/^.*) //' "/proc/$1/stat" | grep -q '^Z'
}

@test "SIGTERM during re-executions under load is never lost: the server leaves within the drain" {
	local round load_pid
	for round in 1 2 3 4 5; do
		start_server -m 1 -z -L 127.0.0.1:0 "$H/echo-line"
		bg python3 "$SRC/t/load.py" "$ADDR" 100000 8 --seconds 10
		load_pid=$BG_PID
		wait_for_log ": re-executing "
		kill -TERM "$SERVER_PID"
		wait_status "$SERVER_PID" 5 || { echo "round $round: still running" >&2; return 1; }
		[ "$STATUS" -eq 0 ]
		kill "$load_pid" 2>/dev/null || true
		wait_exit "$load_pid" 5 || true
	done
}

@test "handed-over handlers count toward process_limit" {
	start_server -v -o process_limit=1 -L 127.0.0.1:0 "$H/hold" "$D"
	bg client "$ADDR" --send 'A\n' >"$D/out.A"
	wait_for_file "$D/start.A"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	bg client "$ADDR" --send 'B\n' >"$D/out.B"
	local b_pid=$BG_PID
	sleep 0.5	# B must not start while A runs: that is what is tested
	[ ! -e "$D/start.B" ]
	: >"$D/release.A"
	wait_for_file "$D/start.B"
	: >"$D/release"
	wait_status "$b_pid" 5
	[ "$(cat "$D/out.B")" = "released B" ]
}

@test "a handler's stderr pipe goes on being logged across a re-execution" {
	start_server -v -o handler_stderr=log -L 127.0.0.1:0 \
		sh -c 'IFS= read -r l; echo "before $l" >&2; while [ ! -e "$1" ]; do sleep 0.05; done; echo "after $l" >&2; echo done' sh "$D/release"
	bg client "$ADDR" --send 'X\n' >"$D/out"
	local client_pid=$BG_PID
	wait_for_log ": before X"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	: >"$D/release"
	wait_status "$client_pid" 5
	[ "$(cat "$D/out")" = done ]
	wait_for_log ": after X"
}

@test "SIGTERM after the time limit's SIGTERM: the group's SIGKILL still comes across a re-execution" {
	local t0
	start_server -v -o command_time_limit=1 -L 127.0.0.1:0 \
		sh -c '(trap "" TERM; exec sleep 30) & echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8
	local client_pid=$BG_PID
	wait_for_file "$D/pid"	# the clock starts with the handler
	t0=$(now_ms)
	wait_for_log "time limit of 1s exceeded -- sending SIGTERM"
	kill -HUP "$SERVER_PID"
	wait_status "$client_pid" 6
	[ "$STATUS" -eq 0 ]
	echo "EOF after $(($(now_ms) - t0))ms"
	[ $(($(now_ms) - t0)) -le 3000 ]
	wait_for_log "process group $(cat "$D/pid") still running -- sending SIGKILL"
}

@test "leaving after the drain: the group's SIGKILL comes before the exit" {
	start_server -o drain_timeout=1 -L 127.0.0.1:0 \
		sh -c '(trap "" TERM; exec sleep 30) & echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg client "$ADDR" --timeout 8
	local client_pid=$BG_PID t0
	wait_for_file "$D/pid"
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	wait_status "$client_pid" 6
	[ "$STATUS" -eq 0 ]
	[ $(($(now_ms) - t0)) -le 3500 ]
	wait_status "$SERVER_PID" 3
	grep -q "process group $(cat "$D/pid") still running -- sending SIGKILL" "$LOG"
}

@test "-u with a parameter file that user cannot read: no re-execution, the server leaves at max_use" {
	need_nobody_exec
	local cf=$BATS_TEST_TMPDIR/p.cf
	echo "max_use = 2" >"$cf"
	chmod 600 "$cf"
	start_server -u -o user=nobody -f "$cf" -L 127.0.0.1:0 "$H/echo-line"
	grep -q "cannot read the parameter file again" "$LOG"
	run client "$ADDR" --send 'one\n'
	run client "$ADDR" --send 'two\n'
	[ "$output" = two ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	! grep -q fatal "$LOG"
}

@test "a handler's per-source slot is handed over: its source stays at per_source_limit until it is reaped" {
	local a
	start_server -v -o per_source_limit=1 -o per_source_message=busy \
		-L 127.0.0.1:0 "$H/hold" "$D" 10
	bg client "$ADDR" --send 'a\n' >"$D/a.out"
	a=$BG_PID
	wait_for_file "$D/start.a"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	run -0 client "$ADDR" --send 'b\n' --timeout 5
	[ "$output" = $'busy\r' ]
	[ ! -e "$D/start.b" ]
	: >"$D/release.a"
	wait_status "$a"
	[ "$(cat "$D/a.out")" = "released a" ]
	wait_for_log "handler pid $(cat "$D/start.a") exit status 0"
	: >"$D/release.c"
	run -0 client "$ADDR" --send 'c\n' --timeout 5
	[ "$output" = "released c" ]
}

@test "an access_rules file broken before max_use: the check fails, the server serves on" {
	local rules=$D/rules n
	printf '* allow\n' >"$rules"
	start_server -v -m 2 -L 127.0.0.1:0 -o access_rules="$rules" "$H/echo-line"
	printf '* permit\n' >"$rules"
	for n in 1 2 3 4; do
		run -0 client "$ADDR" --send "c$n\\n"
		[ "$output" = "c$n" ]
	done
	wait_for_log "--check failed"
	grep -q 'unknown action "permit"' "$LOG"
	kill -0 "$SERVER_PID"
	[ "$(reexecs)" -eq 0 ]
}

# start_low_fd_server ARGS...: start_server_syslog with only fds 0-2
# inherited (bats leaves more open): the tool's first fds (/dev/null, the
# syslog socket, libevent's) are then 3 and up, where the listeners go for
# a re-execution
start_low_fd_server() {
	cat >"$BATS_TEST_TMPDIR/fds012" <<-EOF
	#!/bin/sh
	exec python3 -c 'import os, sys; os.closerange(3, 1 << 16); os.execv(sys.argv[1], sys.argv[1:])' "$SS" "\$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/fds012"
	SS=$BATS_TEST_TMPDIR/fds012 start_server_syslog "$@"
}

# fail_next_execve ERRNO TRACE: strace, attached to the server, makes its
# next execve() fail with ERRNO; TRACE the trace. Not -f: the --check
# child's execve() must not fail.
fail_next_execve() {
	bg strace -qq -o "$2" -e trace=execve \
		-e inject=execve:error="$1":when=1 -p "$SERVER_PID"
	traced_by "$SERVER_PID" "$BG_PID"
}

@test "the first execve() of a re-execution fails: the running program takes over, both listeners and the handler survive, syslog too" {
	command -v strace >/dev/null || skip "no strace"
	no_leak_check	# the server exits traced: no LeakSanitizer there
	local sock=$BATS_TEST_TMPDIR/u.sock trace=$BATS_TEST_TMPDIR/trace a
	syslog_start
	# the two listeners go where /dev/null and the syslog socket were
	start_low_fd_server -v -L 127.0.0.1:0 -L "unix:$sock" "$H/hold" "$D" 10
	bg client "$ADDR" --send 'a\n' >"$D/a.out"
	a=$BG_PID
	wait_for_file "$D/start.a"
	fail_next_execve ENOENT "$trace"
	kill -HUP "$SERVER_PID"
	wait_for_syslog ": warning: re-execute .*: No such file or directory -- trying the running program again"
	wait_for_syslog "\[$SERVER_PID\]: re-executing .*: 1 handler"
	LOG="$SYSLOG" wait_log_count "[$SERVER_PID]: ready: " 2 5
	grep -q 'ENOENT.*(INJECTED)' "$trace"
	! grep -E 'fatal|panic' "$SYSLOG"
	: >"$D/release.b"
	run -0 client "$ADDR" --send 'b\n' --timeout 5
	[ "$output" = "released b" ]
	: >"$D/release.c"
	run -0 client "unix:$sock" --send 'c\n' --timeout 5
	[ "$output" = "released c" ]
	: >"$D/release.a"
	wait_status "$a" 5
	[ "$(cat "$D/a.out")" = "released a" ]
	wait_for_syslog "handler pid $(cat "$D/start.a") exit status 0"
	[ -z "$(zombies "$SERVER_PID")" ]
	kill -0 "$SERVER_PID"
}

# etxtbsy_at_max_use: three listeners of its own (TCP, TCP, unix), each
# on a low fd (only fds 0-2 inherited), max_use=2, a handler running;
# the first execve() of the re-execution at max_use fails (ETXTBSY,
# injected by strace). Every listener survives, the fallback image reaps
# the handler and serves on with the same pid. Logs go to $SYSLOG, or
# with SYSLOG_SOCK=- (no /dev/log) to the server's stderr only.
etxtbsy_at_max_use() {
	command -v strace >/dev/null || skip "no strace"
	no_leak_check	# the server exits traced: no LeakSanitizer there
	local sock=$BATS_TEST_TMPDIR/u.sock trace=$BATS_TEST_TMPDIR/trace a
	local log=${SYSLOG:-$BATS_TEST_TMPDIR/server.log} name
	start_low_fd_server -v -o max_use=2 \
		-L 127.0.0.1:0 -L 127.0.0.1:0 -L "unix:$sock" "$H/hold" "$D" 10
	[ "${#ADDRS[@]}" -eq 3 ]
	bg client "$ADDR" --send 'a\n' >"$D/a.out"
	a=$BG_PID
	wait_for_file "$D/start.a"
	fail_next_execve ETXTBSY "$trace"
	: >"$D/release.b"
	run -0 client "${ADDRS[1]}" --send 'b\n' --timeout 5	# the second use
	[ "$output" = "released b" ]
	LOG="$log" wait_log_count "[$SERVER_PID]: ready: " 2 5
	grep -qE ": warning: re-execute .*: Text file busy -- trying the running program again" "$log"
	grep -qE "\[$SERVER_PID\]: re-executing .*: [12] handler" "$log"	# b may not be reaped yet
	grep -q 'ETXTBSY.*(INJECTED)' "$trace"
	! grep -E 'fatal|panic' "$log"
	for name in c d e; do
		: >"$D/release.$name"
	done
	run -0 client "${ADDRS[0]}" --send 'c\n' --timeout 5
	[ "$output" = "released c" ]
	run -0 client "${ADDRS[1]}" --send 'd\n' --timeout 5
	[ "$output" = "released d" ]
	run -0 client "unix:$sock" --send 'e\n' --timeout 5
	[ "$output" = "released e" ]
	: >"$D/release.a"
	wait_status "$a" 5
	[ "$(cat "$D/a.out")" = "released a" ]
	for ((i = 0; i < 100; i++)); do
		grep -q "handler pid $(cat "$D/start.a") exit status 0" "$log" && break
		sleep 0.05
	done
	grep -q "handler pid $(cat "$D/start.a") exit status 0" "$log"
	[ -z "$(zombies "$SERVER_PID")" ]
	kill -0 "$SERVER_PID"
}

@test "three listeners, max_use=2, the first execve() fails with ETXTBSY, no /dev/log: every listener survives, the handler is reaped, same pid" {
	syslog_none
	etxtbsy_at_max_use
}

@test "three listeners, max_use=2, the first execve() fails with ETXTBSY, syslog: every listener survives, the handler is reaped, same pid" {
	syslog_start
	etxtbsy_at_max_use
}

# fd_layout PID: each descriptor of PID as "FD KIND TARGET", KIND
# "listener" (a listening TCP or unix socket), "client" (a connected TCP
# socket) or "own" (anything else: what the server opened for itself),
# from /proc/PID/fd and the socket tables of PID's network namespace
fd_layout() {
	python3 - "$1" <<-'PY'
	import os, sys
	pid = sys.argv[1]
	listen, client = set(), set()
	for name in ("tcp", "tcp6"):
	    with open(f"/proc/{pid}/net/{name}") as f:
	        next(f)
	        for line in f:
	            col = line.split()
	            if col[3] == "0A":
	                listen.add(col[9])
	            elif col[3] == "01":
	                client.add(col[9])
	with open(f"/proc/{pid}/net/unix") as f:
	    next(f)
	    for line in f:
	        col = line.split()
	        if int(col[3], 16) & 0x10000:  # __SO_ACCEPTCON
	            listen.add(col[6])
	for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
	    try:
	        target = os.readlink(f"/proc/{pid}/fd/{fd}")
	    except FileNotFoundError:
	        continue
	    ino = target[8:-1] if target.startswith("socket:[") else ""
	    kind = "listener" if ino in listen else "client" if ino in client else "own"
	    print(fd, kind, target)
	PY
}

# FD_BASE: where the server's own descriptors start (single-server(8),
# IMPLEMENTATION NOTES: 64 for a command line as short as these)
FD_BASE=64

# own_fds_above PID LISTENERS [PIPES SOCKETS]: below $FD_BASE, PID has
# only fds 0-2, LISTENERS listeners and clients; at or above it, what the
# server opened for itself: /dev/null, the epoll instance, at least PIPES
# pipes (libevent's signal pipe: 2, plus a stderr pipe per handler) and
# SOCKETS sockets of its own (the log socket, NOTIFY_SOCKET's)
own_fds_above() {
	local layout
	layout=$(fd_layout "$1")
	echo "$layout"
	[ -z "$(awk -v b="$FD_BASE" '$1 >= 3 && $1 < b && $2 == "own"' <<<"$layout")" ]
	[ "$(awk '$2 == "listener"' <<<"$layout" | wc -l)" -eq "$2" ]
	# (t/syslog-ns shows the host's /dev/null as /dev/.host/null, and
	# /dev/.host/.host/null when one runs inside another)
	awk -v b="$FD_BASE" '$1 >= b && $3 ~ /^\/dev\/(\.host\/)*null$/' <<<"$layout" | grep -q .
	awk -v b="$FD_BASE" '$1 >= b && $3 == "anon_inode:[eventpoll]"' <<<"$layout" | grep -q .
	[ "$(awk -v b="$FD_BASE" '$1 >= b && $3 ~ /^pipe:/' <<<"$layout" | wc -l)" -ge "${3:-2}" ]
	[ "$(awk -v b="$FD_BASE" '$1 >= b && $2 == "own" && $3 ~ /^socket:/' <<<"$layout" | wc -l)" -ge "${4:-0}" ]
}

# serves ADDRESS NAME: a client of ADDRESS gets its handler, hold, which
# is released at once
serves() {
	: >"$D/release.$2"
	run -0 client "$1" --send "$2\n" --timeout 5
	[ "$output" = "released $2" ]
}

@test "own descriptors live above the base, at start and after a re-execution: below it only fds 0-2, the listeners and clients" {
	local sock=$BATS_TEST_TMPDIR/u.sock notify=$BATS_TEST_TMPDIR/notify a
	syslog_start
	notify_listen "$notify" "$D/notify.out"
	NOTIFY_SOCKET=$notify start_low_fd_server -v -o handler_stderr=log \
		-L 127.0.0.1:0 -L 127.0.0.1:0 -L "unix:$sock" "$H/hold" "$D" 10
	[ "${#ADDRS[@]}" -eq 3 ]
	bg client "$ADDR" --send 'a\n' >"$D/a.out"
	a=$BG_PID
	wait_for_file "$D/start.a"
	# the log socket, NOTIFY_SOCKET's; libevent's pipe and a's stderr pipe
	own_fds_above "$SERVER_PID" 3 3 2
	kill -HUP "$SERVER_PID"
	LOG="$SYSLOG" wait_log_count "[$SERVER_PID]: ready: " 2 5
	own_fds_above "$SERVER_PID" 3 3 2
	# the listeners are where LISTEN_FDS put them
	[ "$(fd_layout "$SERVER_PID" | awk '$2 == "listener" { print $1 }' | xargs)" = "3 4 5" ]
	: >"$D/release.a"
	wait_status "$a" 5
	[ "$(cat "$D/a.out")" = "released a" ]
	serves "${ADDRS[1]}" b
	serves "unix:$sock" c
	! grep -E 'fatal|panic' "$SYSLOG"
}

@test "three listeners, max_use=2, the first execve() fails with ETXTBSY: every listener survives, and the image that carries on keeps its own descriptors above the base" {
	syslog_start
	etxtbsy_at_max_use
	own_fds_above "$SERVER_PID" 3 2 1
}

# A wall clock step across a re-execution (t/shim-clockstep.c moves the
# server's gettimeofday(), time() and CLOCK_REALTIME by STEP seconds once
# $D/step exists; a time namespace cannot: unshare -T moves only the
# monotonic clocks). Handed-over deadlines are monotonic: the step moves
# none of them. Timed by the client (burst: the monotonic clock).

# start_stepped_server STEP ARGS...: start_server, its wall clock to move
# by STEP seconds at ": >$D/step"
start_stepped_server() {
	local step=$1
	shift
	start_preloaded_server shim-clockstep SHIM_CLOCK_STEP="$step" \
		SHIM_CLOCK_FILE="$D/step" -- "$@"
}

# log_time TEXT: the wall clock time (seconds) of the first log line with TEXT
log_time() {
	date -d "$(grep -F -m1 -- "$1" "$LOG" | cut -d' ' -f1)" +%s
}

# stepped STEP: the server's log shows its wall clock moved by about STEP
# between its start and the re-execution (the shim was at work)
stepped() {
	local moved=$(($(log_time ': re-executing ') - $(log_time ': ready: ')))
	echo "wall clock moved ${moved}s"
	[ "$moved" -ge $(($1 - 30)) ] && [ "$moved" -le $(($1 + 30)) ]
}

# time_limit_across_step STEP: a handler's 3 s time limit, handed over
# after a step of STEP seconds, still ends it 3 s after it started
time_limit_across_step() {
	local elapsed client_pid
	start_stepped_server "$1" -v -o command_time_limit=3 -L 127.0.0.1:0 \
		sh -c 'echo $$ >"$1"; exec sleep 30' sh "$D/pid"
	bg burst "$ADDR" 1 --timeout 10 >"$D/out"
	client_pid=$BG_PID
	wait_for_file "$D/pid"
	: >"$D/step"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	stepped "$1"
	grep -q ": 1 handler(s), 0 paused client(s)" "$LOG"
	burst_done "$client_pid" 12
	echo "handler ended ${elapsed}ms after its client connected"
	[ "$elapsed" -ge 2800 ]
	[ "$elapsed" -le 4500 ]
	wait_for_log "handler pid $(cat "$D/pid") killed by signal 15"
}

@test "the wall clock stepped 1000 s ahead before a re-execution: a handed-over time limit still ends the handler on time, not at once" {
	time_limit_across_step 1000
}

@test "the wall clock stepped 1000 s back before a re-execution: a handed-over time limit still ends the handler on time, not 1000 s late" {
	time_limit_across_step -1000
}

# pause_across_step STEP: a client's 3 s in-flow pause, handed over after
# a step of STEP seconds, still ends 3 s after it connected
pause_across_step() {
	local elapsed client_pid
	start_stepped_server "$1" -v -n "reexec-step-$BATS_TEST_NUMBER-$$" \
		-o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=3 \
		-o state_directory="$BATS_TEST_TMPDIR/state" -L 127.0.0.1:0 "$H/echo-line"
	run -0 client "$ADDR" --send 'first\n'
	[ "$output" = first ]
	bg burst "$ADDR" 1 --send 'second\n' --timeout 10 >"$D/out"
	client_pid=$BG_PID
	wait_for_log "no in-flow token"
	: >"$D/step"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	stepped "$1"
	grep -q ": 0 handler(s), 1 paused client(s)" "$LOG"
	burst_done "$client_pid" 12 second
	echo "served ${elapsed}ms after it connected"
	[ "$elapsed" -ge 2800 ]
	[ "$elapsed" -le 4500 ]
}

@test "the wall clock stepped 1000 s ahead before a re-execution: a handed-over in-flow pause still lasts its time, not none" {
	pause_across_step 1000
}

@test "the wall clock stepped 1000 s back before a re-execution: a handed-over in-flow pause still lasts its time, not 1000 s more" {
	pause_across_step -1000
}

# linger_client ADDR DIR: connect, read the refusal message (then
# DIR/refused), wait for DIR/go, send a line, and tell whether the server
# end still took it ("acked": the kernel acknowledged it and the socket
# is still open on our side) or reset the connection ("reset"); then
# read on to the end: the message and "eof", or the error
linger_client() {
	python3 - "$1" "$2" <<-'PY'
	import os, socket, struct, sys, time
	host, port = sys.argv[1].rsplit(":", 1)
	d = sys.argv[2]
	s = socket.create_connection((host, int(port)), timeout=10)
	got = b""
	while not got.endswith(b"\r\n"):
	    got += s.recv(100)
	open(d + "/refused", "w").close()
	end = time.monotonic() + 10
	while not os.path.exists(d + "/go") and time.monotonic() < end:
	    time.sleep(0.01)
	s.send(b"more\n")
	# the server's kernel either acknowledges the line (the socket is
	# still someone's) or answers with a reset (closed): wait for either
	state = "timeout"
	while time.monotonic() < end:
	    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
	    if info[0] == 7:                            # TCP_CLOSE: reset
	        state = "reset"
	        break
	    if struct.unpack_from("I", info, 24)[0] == 0:   # tcpi_unacked
	        state = "acked"
	        break
	    time.sleep(0.001)
	print(state)
	try:
	    while True:
	        b = s.recv(100)
	        if not b:
	            break
	        got += b
	    print(got.decode().strip(), "eof")
	except OSError as e:
	    print(got.decode().strip(), type(e).__name__)
	PY
}

@test "a refused client lingering across a re-execution gets its message and a clean end of file, not a reset" {
	local rules=$BATS_TEST_TMPDIR/rules
	printf '127.0.0.1 deny go away\n' >"$rules"
	start_server -v -L 127.0.0.1:0 -o access_rules="$rules" "$H/echo-line"
	bg linger_client "$ADDR" "$D" >"$D/out"
	local c=$BG_PID
	wait_for_file "$D/refused"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	grep -q "PROXY header handed over, with 1 refused client(s) lingering" "$LOG"
	: >"$D/go"
	wait_status "$c" 5
	cat "$D/out"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out")" = "acked
go away eof" ]
}

@test "a refused client lingering across a re-execution, the wall clock stepped 1000 s back: its linger still ends 2 s after the refusal" {
	local rules=$BATS_TEST_TMPDIR/rules c elapsed
	printf '127.0.0.1 deny go away\n' >"$rules"
	start_stepped_server -1000 -v -L 127.0.0.1:0 -o access_rules="$rules" \
		"$H/echo-line"
	bg drip_client "$ADDR" "$D/refused" >"$D/out"
	c=$BG_PID
	wait_for_file "$D/refused"
	: >"$D/step"
	kill -HUP "$SERVER_PID"
	wait_reexecs 1
	stepped -1000
	grep -q "with 1 refused client(s) lingering" "$LOG"
	wait_status "$c" 12
	cat "$D/out"
	[ "$STATUS" -eq 0 ]
	[ "$(sed -n 1p "$D/out")" = "go away" ]
	# 2 s of linger from the refusal, not 1000 s more (nor none)
	[[ "$(sed -n 2p "$D/out")" =~ ^closed\ after\ ([0-9]+)\.([0-9])\ s$ ]]
	elapsed=$((BASH_REMATCH[1] * 1000 + BASH_REMATCH[2] * 100))
	[ "$elapsed" -ge 1500 ]
	[ "$elapsed" -le 4000 ]
}

#!/usr/bin/env bats
# logging.bats - where single-server(8)'s messages and its handlers'
# stderr go (SPEC sections 3 and 9): syslog always, stderr where a person
# or a collector reads it, never a socket; handler_stderr.
#
# Syslog is a private /dev/log in a mount namespace (t/syslog-ns) read by
# t/syslogd.py: $SYSLOG has one "FACILITY.SEVERITY TAG[PID]: TEXT" line per
# message. inetd is emulated by t/inetd.py: "nowait" runs the tool with
# fds 0, 1 and 2 the accepted socket, "wait" with fds 0, 1 and 2 the
# listening socket, as inetd does.

load helper
bats_require_minimum_version 1.5.0

# TAG: the tool's syslog tag before and after the service name is known
TAG='single-server(/[^[ ]+)?'

# handler lines, as the shell handlers below print them
HANDLER_PID='echo "pid $$"'

# hpid: the handler's pid, from the "pid N" line of a reply in $output
hpid() {
	sed -n 's/^pid //p' <<<"$output" | head -1
}

@test "inetd nowait: an unknown option sends nothing to the client, even with -V, and is logged to syslog" {
	syslog_start
	inetd_start nowait -- "$SS" -V -S --no-such-option -- "$H/echo-line"
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 100 ]
	wait_for_syslog "^daemon\.[a-z]+ $TAG\[$TOOL_PID\]: fatal: .*no-such-option"
}

@test "inetd nowait: a configuration error sends nothing to the client and is logged to syslog" {
	syslog_start
	inetd_start nowait -- "$SS" -S -o max_usr=3 -- "$H/echo-line"
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 100 ]
	wait_for_syslog "^daemon\.[a-z]+ $TAG\[$TOOL_PID\]: fatal: .*max_usr"
}

@test "inetd nowait with stderr a pipe: a configuration error is on the pipe and in syslog, not sent to the client" {
	local err=$BATS_TEST_TMPDIR/stderr
	syslog_start
	inetd_start nowait --stderr "$err" -- "$SS" -S -o max_usr=3 -- "$H/echo-line"
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 100 ]
	grep -E "^$STAMP$TAG\[$TOOL_PID\]: fatal: .*max_usr" "$err"
	wait_for_syslog "^daemon\.[a-z]+ $TAG\[$TOOL_PID\]: fatal: .*max_usr"
}

@test "inetd nowait: a missing handler exits 127, sends nothing to the client and is logged to syslog" {
	syslog_start
	inetd_start nowait -- "$SS" -S -- /nonexistent/handler
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 127 ]
	wait_for_syslog "^daemon\.[a-z]+ $TAG\[$TOOL_PID\]: fatal: .*/nonexistent/handler.*not found"
}

@test "inetd nowait with stderr a pipe: a missing handler is on the pipe and in syslog, not sent to the client" {
	local err=$BATS_TEST_TMPDIR/stderr
	syslog_start
	inetd_start nowait --stderr "$err" -- "$SS" -S -- /nonexistent/handler
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 127 ]
	grep -E "^$STAMP$TAG\[$TOOL_PID\]: fatal: .*/nonexistent/handler.*not found" "$err"
	wait_for_syslog "^daemon\.[a-z]+ $TAG\[$TOOL_PID\]: fatal: .*/nonexistent/handler.*not found"
}

@test "inetd nowait without a syslog socket: a usage error still sends nothing to the client" {
	syslog_none
	inetd_start nowait -- "$SS" -S -o max_usr=3 -- "$H/echo-line"
	run -0 client "$INETD_ADDR"
	[ -z "$output" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 100 ]
}

@test "inetd nowait: the handler's stderr is the client, as inetd handlers expect (handler_stderr=auto)" {
	syslog_start
	inetd_start nowait -- "$SS" -S -- sh -c 'echo "to stderr" >&2; echo "to stdout"'
	run -0 client "$INETD_ADDR"
	[ "$output" = $'to stderr\nto stdout' ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 0 ]
}

@test "inetd wait: a handler writing to stderr still answers, and its line is logged with its pid" {
	syslog_start
	inetd_start wait -- "$SS" -n diag -m 1 -- \
		sh -c "$HANDLER_PID"'; echo "diagnostic from $$" >&2; echo done'
	run -0 client "$INETD_ADDR"
	[ "${lines[1]}" = done ]
	local pid
	pid=$(hpid)
	[ -n "$pid" ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 0 ]
	wait_for_syslog "^daemon\.warning single-server/diag\[$TOOL_PID\]: warning: handler $pid: diagnostic from $pid\$"
}

@test "stream mode with fd 2 closed: the handler's stderr is logged (handler_stderr=auto)" {
	syslog_start
	inetd_start nowait --stderr closed -- "$SS" -S -n diag -- \
		sh -c "$HANDLER_PID"'; echo "no stderr here" >&2; echo done'
	run -0 client "$INETD_ADDR"
	[ "${lines[1]}" = done ]
	local pid
	pid=$(hpid)
	inetd_wait
	[ "$TOOL_STATUS" -eq 0 ]
	wait_for_syslog "^daemon\.warning single-server/diag\[$TOOL_PID\]: warning: handler $pid: no stderr here\$"
}

@test "handler_stderr=null: the handler's stderr is /dev/null, nothing is logged, the client is answered" {
	syslog_start
	inetd_start wait -- "$SS" -n diag -m 1 -o handler_stderr=null -- \
		sh -c "$HANDLER_PID"'; echo "fd2 $(stat -L -c %t:%T /proc/$$/fd/2)"; echo "into the void" >&2; echo done'
	run -0 client "$INETD_ADDR"
	[ "${lines[1]}" = "fd2 1:3" ]	# the null device
	[ "${lines[2]}" = done ]
	inetd_wait
	[ "$TOOL_STATUS" -eq 0 ]
	! grep -q "into the void" "$SYSLOG"
}

@test "handler_stderr=inherit: the handler writes to the tool's own stderr, not to syslog" {
	syslog_start
	start_server_syslog -m 1 -o handler_stderr=inherit -L 127.0.0.1:0 -- \
		sh -c "$HANDLER_PID"'; echo "inherited line" >&2; echo done'
	run -0 client "$ADDR"
	[ "${lines[1]}" = done ]	# written after the line below
	grep -qx "inherited line" "$LOG"
	! grep -q "inherited line" "$SYSLOG"
}

@test "handler_stderr=auto with the tool's stderr a file: the handler inherits it" {
	syslog_start
	start_server_syslog -m 1 -L 127.0.0.1:0 -- \
		sh -c "$HANDLER_PID"'; echo "inherited line" >&2; echo done'
	run -0 client "$ADDR"
	[ "${lines[1]}" = done ]	# written after the line below
	grep -qx "inherited line" "$LOG"
	! grep -q "inherited line" "$SYSLOG"
}

@test "handler_stderr=log: each stderr line is logged at warning level with the handler's pid" {
	syslog_start
	start_server_syslog -n diag -m 1 -o handler_stderr=log -L 127.0.0.1:0 -- \
		sh -c "$HANDLER_PID"'; printf "first line\nsecond line\n" >&2; echo done'
	run -0 client "$ADDR"
	[ "${lines[1]}" = done ]
	local pid
	pid=$(hpid)
	wait_for_syslog "^daemon\.warning single-server/diag\[$SERVER_PID\]: warning: handler $pid: second line\$"
	# in order, each once
	run grep -E "handler $pid: " "$SYSLOG"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == *": warning: handler $pid: first line" ]]
	# not inherited: the tool's stderr never got the raw lines
	! grep -qx "first line" "$LOG"
}

# log_pieces LINE: a handler writes LINE and then "after" to its stderr
# (handler_stderr=log); sets PIECES to what syslog got of them, in order
log_pieces() {
	syslog_start
	start_server_syslog -n diag -m 1 -o handler_stderr=log -L 127.0.0.1:0 -- \
		sh -c "$HANDLER_PID"'; printf "%s\n" "$1" >&2; echo after >&2; echo done' sh "$1"
	run -0 client "$ADDR"
	[ "${lines[1]}" = done ]
	local pid
	pid=$(hpid)
	wait_for_syslog "handler $pid: after\$"
	mapfile -t PIECES < <(sed -n "s/^.*: warning: handler $pid: //p" "$SYSLOG")
}

@test "handler_stderr=log: a line over 1 kB is logged in pieces of at most 1 kB, nothing lost" {
	local long k joined=
	long=$(printf '%02500d' 0 | tr 0 x)
	log_pieces "$long"
	local n=${#PIECES[@]}
	[ "$n" -ge 4 ]			# 2500 bytes: at least three pieces
	[ "${PIECES[n - 1]}" = after ]
	for ((k = 0; k < n - 1; k++)); do
		[ "${#PIECES[k]}" -ge 1 ]
		[ "${#PIECES[k]}" -le 1024 ]
		joined+=${PIECES[k]}
	done
	[ "$joined" = "$long" ]
}

@test "handler_stderr=log: a line of exactly 1 kB is one log line, with no empty line after it" {
	local exact
	exact=$(printf '%01024d' 0 | tr 0 y)
	log_pieces "$exact"
	[ "${#PIECES[@]}" -eq 2 ]
	[ "${PIECES[0]}" = "$exact" ]
	[ "${PIECES[1]}" = after ]
}

@test "handler_stderr=log: a handler flooding its stderr does not keep another client waiting" {
	syslog_start
	start_server_syslog -n flood -o handler_stderr=log -o process_limit=10 -L 127.0.0.1:0 -- \
		sh -c 'read -r what; [ "$what" != flood ] || timeout 2 yes "flood flood flood" >&2; echo "served $what"'
	bg client "$ADDR" --send 'flood\n' >"$BATS_TEST_TMPDIR/flood.out"
	local flooder=$BG_PID t1
	wait_for_syslog "handler [0-9]+: flood flood flood\$"
	# timed by the client from its connect to end of file
	run -0 burst "$ADDR" 1 --send 'quick\n' --timeout 5
	t1=${lines[1]#max }
	[ "${lines[0]}" = "$t1 served quick" ]
	echo "answered in $t1 ms during the flood ($(wc -l <"$SYSLOG") lines logged)"
	[ "$t1" -lt 1000 ]
	# and it was during the flood: the flooding client is still waiting
	kill -0 "$flooder"
	[ ! -s "$BATS_TEST_TMPDIR/flood.out" ]
}

@test "no syslog socket: -v without -V logs to a stderr that is a file" {
	local err=$BATS_TEST_TMPDIR/stderr
	syslog_none
	local pid
	pid=$(in_nosyslog_ns "$SS" -S -v -- sh -c 'echo $PPID' </dev/null 2>"$err")
	cat "$err"
	grep -qE "^${STAMP}single-server/sh\[$pid\]: " "$err"
	! grep -qE ": (warning|error|fatal): " "$err"
}

@test "a syslog socket: -v without -V logs to syslog only, a stderr file stays empty" {
	local err=$BATS_TEST_TMPDIR/stderr
	syslog_start
	local pid
	pid=$(in_syslog_ns "$SS" -S -v -- sh -c 'echo $PPID' </dev/null 2>"$err")
	wait_for_syslog "^daemon\.info single-server/sh\[$pid\]: "
	[ ! -s "$err" ]
}

@test "-V copies every message to stderr as well as to syslog" {
	local err=$BATS_TEST_TMPDIR/stderr
	syslog_start
	local pid
	pid=$(in_syslog_ns "$SS" -S -v -V -- sh -c 'echo $PPID' </dev/null 2>"$err")
	wait_for_syslog "^daemon\.info single-server/sh\[$pid\]: "
	local text
	text=$(sed -n "s/^daemon\.info single-server\/sh\[$pid\]: //p" "$SYSLOG" | head -1)
	sed -nE "s/^$STAMP//p" "$err" | grep -qxF "single-server/sh[$pid]: $text"
}

@test "syslog tag: syslog_name alone when it equals the service name, else syslog_name/service; syslog_facility" {
	syslog_start
	local pid
	pid=$(in_syslog_ns "$SS" -S -v -n demo -o syslog_name=demo -- \
		sh -c 'echo $PPID' </dev/null)
	wait_for_syslog "^daemon\.info demo\[$pid\]: "
	pid=$(in_syslog_ns "$SS" -S -v -n demo -o syslog_name=acme \
		-o syslog_facility=local3 -- sh -c 'echo $PPID' </dev/null)
	wait_for_syslog "^local3\.info acme/demo\[$pid\]: "
}

@test "handler_stderr=log: at most 100 lines a second per handler are logged, the rest counted" {
	start_server -o handler_stderr=log -L 127.0.0.1:0 \
		sh -c 'i=0; while [ $i -lt 300 ]; do echo "line $i" >&2; i=$((i + 1)); done; echo $$'
	run -0 client "$ADDR"
	local pid=$output logged suppressed
	wait_for_log "handler $pid: "
	wait_for_log "more line(s) not logged (at most 100 a second)"
	logged=$(grep -c "handler $pid: line " "$LOG")
	suppressed=$(sed -n "s/.*handler $pid: \([0-9]*\) more line(s) not logged.*/\1/p" "$LOG" |
		awk '{ n += $1 } END { print n + 0 }')
	echo "logged $logged, suppressed $suppressed"
	[ "$logged" -le 200 ]		# two seconds at the most
	[ $((logged + suppressed)) -eq 300 ]
}

# ---- a syslog daemon that does not read (SPEC 9: logging never blocks) ----

# NOISY: a handler that reads a number N, writes 10 lines to its stderr
# (handler_stderr=log: 10 log lines), then answers N
NOISY='read -r n; for k in 0 1 2 3 4 5 6 7 8 9; do echo "noise $n $k" >&2; done; echo "$n"'

# dropped_total: the sum of the "N log line(s) dropped" counts in $SYSLOG
dropped_total() {
	sed -nE 's/.*: warning: ([0-9]+) log line\(s\) dropped: syslog is not reading$/\1/p' \
		"$SYSLOG" | awk '{ n += $1 } END { print n + 0 }'
}

@test "a syslog that does not read: clients of a handler logging 10 lines each are served at the usual rate" {
	syslog_start --paused
	start_server_syslog -n stuck -o handler_stderr=log -L 127.0.0.1:0 -- sh -c "$NOISY"
	local stuck usual
	# one client process, 10 connections at a time, timed from its first
	# connect; glibc's syslog() would block the loop at the 11th line
	# (max_dgram_qlen is 10), and a wait for each line dropped would show
	run -0 timeout 30 python3 "$SRC/t/load.py" "$ADDR" 100 10 --seconds 20 --time
	[ "${lines[0]}" = "ok 100 failed 0" ]
	stuck=${lines[-1]#elapsed }
	# the usual rate: the same load once syslog reads
	kill -USR1 "$SYSLOG_PID"
	run -0 timeout 30 python3 "$SRC/t/load.py" "$ADDR" 100 10 --seconds 20 --time
	[ "${lines[0]}" = "ok 100 failed 0" ]
	usual=${lines[-1]#elapsed }
	# the first run was served with syslog stuck: it lost lines
	wait_for_syslog 'log line\(s\) dropped: syslog is not reading$'
	echo "100 clients: ${stuck}ms with syslog stuck, ${usual}ms with syslog reading"
	[ "$stuck" -le $((3 * usual + 500)) ]
	kill -0 "$SERVER_PID"
}

@test "a syslog that does not read: lines dropped are counted, and the count is logged once it reads again" {
	syslog_start --paused
	start_server_syslog -n stuck -o handler_stderr=log -L 127.0.0.1:0 -- sh -c "$NOISY"
	run -0 timeout 30 python3 "$SRC/t/load.py" "$ADDR" 20 5 --seconds 20
	[ "${lines[0]}" = "ok 20 failed 0" ]
	# every handler has ended and its stderr pipe was read to the end
	no_children "$SERVER_PID"
	kill -USR1 "$SYSLOG_PID"		# it reads from now on
	wait_for_syslog "noise"
	# the next line that gets through is preceded by the count
	run -0 client "$ADDR" --send '999\n'
	[ "$output" = 999 ]
	wait_for_syslog "handler [0-9]+: noise 999 9\$"
	grep -E "warning: [0-9]+ log line\(s\) dropped: syslog is not reading\$" "$SYSLOG"
	# each of the 210 lines is either in syslog or counted as dropped
	local got dropped
	got=$(grep -c ': warning: handler [0-9]*: noise ' "$SYSLOG")
	dropped=$(dropped_total)
	echo "received $got, dropped $dropped"
	[ "$dropped" -gt 0 ]
	[ $((got + dropped)) -eq 210 ]
	# the count comes before the first line of the last client
	[ "$(grep -nE 'dropped: syslog|noise 999 0$' "$SYSLOG" | head -1 | grep -c dropped)" -eq 1 ]
}

@test "a syslog that does not read: the watchdog still ends a process whose loop stood still" {
	syslog_start --paused
	start_server_syslog -n stuck -o handler_stderr=log -o daemon_timeout=1 \
		-L 127.0.0.1:0 -- sh -c "$NOISY"
	run -0 timeout 30 python3 "$SRC/t/load.py" "$ADDR" 5 5 --seconds 10
	[ "${lines[0]}" = "ok 5 failed 0" ]
	# the syslog socket is full; a stopped process cannot pat its
	# watchdog, and the alarm is delivered as soon as it runs again
	kill -STOP "$SERVER_PID"
	sleep 1.5	# the timeout itself is what is measured
	kill -CONT "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 111 ]
}

@test "a syslog daemon that restarted: lines reach the new one" {
	syslog_start
	start_server_syslog -v -n restart -L 127.0.0.1:0 -- "$H/echo-line"
	run -0 client "$ADDR" --send 'one\n'
	wait_for_syslog "connect from .*: handler pid"
	kill "$SYSLOG_PID"
	wait_exit "$SYSLOG_PID" 5
	syslog_start			# a new receiver, bound at the same path
	# a refused line is followed by at most a second without trying again
	local k
	for ((k = 0; k < 40; k++)); do
		run -0 client "$ADDR" --send 'two\n'
		[ "$output" = two ]
		grep -q "connect from" "$SYSLOG" && break
		sleep 0.1
	done
	wait_for_syslog "^daemon\.info single-server/restart\[$SERVER_PID\]: connect from "
}

@test "a stream /dev/log: each line arrives whole, ended by a NUL, as syslog(3) sends it" {
	syslog_start --stream
	start_server_syslog -v -n stream -o handler_stderr=log -L 127.0.0.1:0 -- sh -c "$NOISY"
	run -0 timeout 30 python3 "$SRC/t/load.py" "$ADDR" 10 5 --seconds 20
	[ "${lines[0]}" = "ok 10 failed 0" ]
	run -0 client "$ADDR" --send '999\n'
	wait_for_syslog "^daemon\.warning single-server/stream\[$SERVER_PID\]: warning: handler [0-9]+: noise 999 9\$"
	wait_for_syslog "^daemon\.info single-server/stream\[$SERVER_PID\]: connect from 127\.0\.0\.1:"
	# no line cut short or run into the next one
	! grep -v -E "^daemon\.(info|warning) single-server/stream\[$SERVER_PID\]: ([a-z]+: |handler [0-9]+: noise [0-9]+ [0-9]\$|connect from|handler pid)" "$SYSLOG"
	[ "$(grep -c ': noise ' "$SYSLOG")" -eq 110 ]
}

# ---- what a copy on stderr starts with (SPEC 9) ----

@test "stderr a file: each copied line starts with the local time, RFC 3339 with milliseconds and the offset" {
	local err=$BATS_TEST_TMPDIR/stderr t0 t1 stamp s
	t0=$(date +%s)
	TZ=XYZ-5:30 "$SS" -S -v -V -- true </dev/null 2>"$err"
	TZ=XYZ-5:30 "$SS" -S -v -V -- sh -c 'exit 3' </dev/null 2>>"$err" || true
	t1=$(date +%s)
	cat "$err"
	# every line, info and warning alike
	grep -qE "^${STAMP}single-server/true\[[0-9]+\]: handler pid [0-9]+ exit status 0\$" "$err"
	grep -qE "^${STAMP}single-server/sh\[[0-9]+\]: warning: handler pid [0-9]+ exit status 3\$" "$err"
	! grep -vE "^${STAMP}single-server/(true|sh)\[[0-9]+\]: " "$err"
	# the zone's offset, and the time is now
	stamp=$(head -1 "$err" | cut -d' ' -f1)
	[[ $stamp == *+05:30 ]]
	s=$(date -d "$stamp" +%s)
	[ "$s" -ge "$t0" ] && [ "$s" -le "$t1" ]
}

@test "JOURNAL_STREAM naming stderr: each line starts with its sd-daemon priority, without a time" {
	local err=$BATS_TEST_TMPDIR/stderr js
	: >"$err"
	js=$(stat -c '%d:%i' "$err")
	JOURNAL_STREAM=$js "$SS" -S -v -V -- true </dev/null 2>>"$err"
	JOURNAL_STREAM=$js "$SS" -S -v -V -- sh -c 'exit 3' </dev/null 2>>"$err" || true
	JOURNAL_STREAM=$js "$SS" -S -o max_usr=3 -- true </dev/null 2>>"$err" || true
	cat "$err"
	grep -qE '^<6>single-server/true\[[0-9]+\]: handler pid [0-9]+ exit status 0$' "$err"
	grep -qE '^<4>single-server/sh\[[0-9]+\]: warning: handler pid [0-9]+ exit status 3$' "$err"
	grep -qE '^<2>single-server\[[0-9]+\]: fatal: .*max_usr' "$err"
	# every line: a priority, never a time
	! grep -vE '^<[0-7]>single-server' "$err"
	! grep -qE "$STAMP" "$err"
}

@test "JOURNAL_STREAM naming another file than stderr: times, not priorities" {
	local err=$BATS_TEST_TMPDIR/stderr other=$BATS_TEST_TMPDIR/other
	: >"$other"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$other") \
		"$SS" -S -v -V -- true </dev/null 2>"$err"
	cat "$err"
	grep -qE "^${STAMP}single-server/true\[[0-9]+\]: " "$err"
	! grep -q '^<' "$err"
}

@test "stderr a terminal: lines start with the tag, neither a time nor a priority" {
	command -v script >/dev/null || skip "no script(1)"
	run -0 script -qec "$SS -S -v -V -- true </dev/null" /dev/null
	echo "$output"
	[[ ${lines[0]} == "single-server/true["*"]: "* ]]
}

#!/usr/bin/env bats
# master-proto.bats - master(8) mode as Postfix's master sees it: the
# 12-byte status messages on fd 5, GENERATION, the accept lock shared by
# sibling processes, end of file on fd 5 (the master is gone), the inet,
# unix and pass transports, a pipe instead of a socketpair. t/master.py
# plays the master: it writes each status message it reads, and each
# child's end, as a line of $REPORT.

bats_require_minimum_version 1.5.0

load helper

setup() {
	STATE=$BATS_TEST_TMPDIR/state
	REPORT=$BATS_TEST_TMPDIR/report
	D=$BATS_TEST_TMPDIR/hold
	mkdir -p "$STATE" "$D"
	SS_EXTRA=(-V)
}

teardown() {
	[ -z "${STOPPED:-}" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	hold_teardown
}

# master_start TRANSPORT [master.py options] -- [single-server options]
#	HANDLER [ARG ...]: start t/master.py in the background running
#	"single-server -n test -t TRANSPORT ${SS_EXTRA[@]} -o
#	state_directory=$STATE ..." (no -t when NO_T is set); sets MASTER_PID,
#	ADDRS and ADDR (the listeners), PIDS (the single-server processes) and
#	LOG (their stderr). Returns once they all run: master.py closes its
#	stdout then.
master_start() {
	local transport=$1 opts=() t=() line got
	local fifo=$BATS_TEST_TMPDIR/master.fifo
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	[ -n "${NO_T:-}" ] || t=(-t "$transport")
	LOG=$BATS_TEST_TMPDIR/server.log
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$REPORT"
	python3 "$SRC/t/master.py" --report "$REPORT" --transport "$transport" \
		"${opts[@]}" -- "$SS" -n test "${t[@]}" "${SS_EXTRA[@]}" \
		-o "state_directory=$STATE" "$@" \
		</dev/null >"$fifo" 2>"$LOG" 3>&- &
	MASTER_PID=$!
	BG_PIDS+=("$MASTER_PID")
	mapfile -t got <"$fifo"
	ADDRS=()
	PIDS=()
	for line in "${got[@]}"; do
		if [[ $line == *:* ]]; then
			ADDRS+=("$line")
		else
			PIDS+=("$line")
		fi
	done
	ADDR=${ADDRS[0]:-}
	if [ -z "$ADDR" ] || [ "${#PIDS[@]}" -eq 0 ]; then
		cat "$LOG" >&2
		return 1
	fi
}

# wait_report PATTERN [COUNT [SECONDS]]: wait (bounded) until COUNT
# (default 1) or more lines of $REPORT match the extended regular
# expression PATTERN
wait_report() {
	local pattern=$1 count=${2:-1} limit=${3:-10} k
	for ((k = 0; k < limit * 20; k++)); do
		[ "$(grep -cE -- "$pattern" "$REPORT")" -ge "$count" ] && return 0
		sleep 0.05
	done
	echo "report never had $count line(s) matching: $pattern" >&2
	cat "$REPORT" >&2
	return 1
}

# report_is LINE...: $REPORT holds exactly these lines, in this order
report_is() {
	local want
	run cat "$REPORT"
	[ "${#lines[@]}" -eq $# ] || { cat "$REPORT" >&2; return 1; }
	for want in "$@"; do
		[ "${lines[0]}" = "$want" ] || { cat "$REPORT" >&2; return 1; }
		lines=("${lines[@]:1}")
	done
}

# protocol_ok: every status message in $REPORT comes from one of $PIDS
# with generation 15 (master.py's GENERATION=17 is octal), and each
# process's messages go taken, available, taken, available ... and end
# with available (one client at a time, each handler's end reported)
protocol_ok() {
	awk -v pids="${PIDS[*]}" -v gen=15 '
	BEGIN { n = split(pids, p, " "); for (k = 1; k <= n; k++) ours[p[k]] = 1 }
	$1 == "exit" { next }
	NF != 3 || !($1 in ours) || $2 != gen || ($3 != 0 && $3 != 1) {
		print "bad line: " $0; bad = 1; next
	}
	{
		want = ($1 in last) ? 1 - last[$1] : 0
		if ($3 != want) { print "out of order: " $0; bad = 1 }
		last[$1] = $3
	}
	END {
		for (q in last) if (last[q] != 1) { print q " left taken"; bad = 1 }
		exit bad
	}' "$REPORT" >&2
}

# disconnect_exits MS [PID ...]: after the master's SIGUSR1, each PID
# (default: every one of $PIDS) has an "exit PID 0 T" line in $REPORT with
# T at most MS milliseconds after the disconnect
disconnect_exits() {
	local ms=$1 pid line st t
	shift
	[ $# -gt 0 ] || set -- "${PIDS[@]}"
	for pid in "$@"; do
		line=$(grep "^exit $pid " "$REPORT") || {
			echo "no exit for $pid" >&2
			cat "$REPORT" >&2
			return 1
		}
		read -r _ _ st t <<<"$line"
		if [ "$st" != 0 ] || [ "$t" = - ] || [ "$t" -gt "$ms" ]; then
			echo "$pid: $line (want status 0 within $ms ms)" >&2
			return 1
		fi
	done
}

# lock_owners DIR: the owner's pid (-1 for an OFD lock) of each lock held
# (not waited for) on a file under DIR, as /proc/locks shows them
lock_owners() {
	python3 -c '
import os, sys
inodes = set()
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        inodes.add(str(os.lstat(os.path.join(root, f)).st_ino))
for line in open("/proc/locks"):
    w = line.split()
    if w[1] != "->" and w[5].rsplit(":", 1)[1] in inodes:
        print(w[4])' "$1"
}

# locks_held DIR: how many locks are held on files under DIR
locks_held() {
	lock_owners "$1" | wc -l
}

# stop_lock_holder: SIGSTOP the holder of the accept lock (a process in
# $PIDS, or a helper of one); sets HOLDER (the process in $PIDS) and
# WAITERS (the others). Skips when /proc/locks does not name the owner.
stop_lock_holder() {
	local owner pid
	wait_locks_held "$STATE" 1
	owner=$(lock_owners "$STATE")
	[ "$owner" -gt 0 ] || skip "/proc/locks does not show the lock's owner"
	HOLDER=$owner
	[[ " ${PIDS[*]} " == *" $HOLDER "* ]] ||
		HOLDER=$(ps -o ppid= -p "$owner" | tr -d ' ')
	[[ " ${PIDS[*]} " == *" $HOLDER "* ]]
	kill -STOP "$owner"
	STOPPED=$owner
	WAITERS=()
	for pid in "${PIDS[@]}"; do
		[ "$pid" = "$HOLDER" ] || WAITERS+=("$pid")
	done
}

# wait_locks_held DIR N [SECONDS]: wait (bounded) until locks_held DIR is N
wait_locks_held() {
	local k
	for ((k = 0; k < ${3:-5} * 20; k++)); do
		[ "$(locks_held "$1")" -eq "$2" ] && return 0
		sleep 0.05
	done
	echo "locks held under $1: $(locks_held "$1"), not $2" >&2
	cat /proc/locks >&2
	return 1
}

# --- the status messages ------------------------------------------------------

@test "each client: {pid, gen, 0} after the accept, {pid, gen, 1} when its handler ended; max_use then exit 0" {
	master_start inet --generation 17 -- -o max_use=2 "$H/echo-line"
	local pid=${PIDS[0]}
	run client "$ADDR" --send 'one\n'
	[ "$status" -eq 0 ]
	[ "$output" = one ]
	run client "$ADDR" --send 'two\n'
	[ "$status" -eq 0 ]
	[ "$output" = two ]
	# master.py leaves once its only child has
	wait_exit "$MASTER_PID"
	report_is "$pid 15 0" "$pid 15 1" "$pid 15 0" "$pid 15 1" "exit $pid 0 -"
}

@test "nothing is written to fd 5 before the first accept" {
	master_start inet --procs 2 -- -v "$H/echo-line"
	local pid
	for pid in "${PIDS[@]}"; do
		wait_for_log "[$pid]: ready"
	done
	[ ! -s "$REPORT" ]
	run client "$ADDR" --send 'first\n'
	[ "$output" = first ]
	wait_report ' 1$'
	# the first thing either process wrote is the taken message
	run cat "$REPORT"
	[ "${#lines[@]}" -eq 2 ]
	pid=${lines[0]%% *}
	[[ " ${PIDS[*]} " == *" $pid "* ]]
	[ "${lines[0]}" = "$pid 15 0" ]
	[ "${lines[1]}" = "$pid 15 1" ]
}

@test "the available message comes when the handler has ended, not before" {
	master_start inet -- "$H/hold" "$D" 10
	local pid=${PIDS[0]} out=$BATS_TEST_TMPDIR/one.out
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'one\n' >"$out"
	local client_pid=$BG_PID
	wait_for_file "$D/start.one"
	wait_report "^$pid 15 0\$"
	# the handler runs: the process is taken, and says nothing more
	run cat "$REPORT"
	[ "${#lines[@]}" -eq 1 ]
	: >"$D/release.one"
	wait_report "^$pid 15 1\$"
	wait_status "$client_pid"
	[ "$(cat "$out")" = "released one" ]
	run cat "$REPORT"
	[ "${#lines[@]}" -eq 2 ]
}

@test "one client at a time: a second client waits until the first one's handler has ended, with -l and -z too" {
	local flag k a b ca cb
	# -l (maxproc 1: no lock) leaves the one-at-a-time rule alone to hold
	for flag in "" -l -z; do
		rm -f "$D"/*
		master_start inet -- ${flag:+"$flag"} "$H/hold" "$D" 10
		a=$BATS_TEST_TMPDIR/a.out b=$BATS_TEST_TMPDIR/b.out
		bg python3 "$SRC/t/client.py" "$ADDR" --send 'a\n' >"$a"
		ca=$BG_PID
		wait_for_file "$D/start.a"
		bg python3 "$SRC/t/client.py" "$ADDR" --send 'b\n' >"$b"
		cb=$BG_PID
		# b is connected (the kernel queues it) but not served meanwhile
		for ((k = 0; k < 20; k++)); do
			[ ! -e "$D/start.b" ]
			sleep 0.05
		done
		: >"$D/release.a"
		wait_for_file "$D/start.b"
		: >"$D/release.b"
		wait_status "$ca"
		wait_status "$cb"
		[ "$(cat "$a")" = "released a" ]
		[ "$(cat "$b")" = "released b" ]
		[ "$(tr '\n' , <"$D/events")" = "start a,end a,start b,end b," ]
		wait_report ' 1$' 2
		protocol_ok
		kill -USR1 "$MASTER_PID"
		wait_exit "$MASTER_PID"
	done
}

@test "a handler killed by command_time_limit is reported available too" {
	master_start inet -- -o command_time_limit=1 "$H/hold" "$D" 10
	local pid=${PIDS[0]}
	run client "$ADDR" --send 'slow\n'
	[ -e "$D/start.slow" ]
	[ "$output" != "released slow" ]
	wait_report "^$pid 15 1\$"
	report_is "$pid 15 0" "$pid 15 1"
}

@test "a handler that cannot be run costs one client a clean end of file; the process says available again and serves the next" {
	local prog=$BATS_TEST_TMPDIR/handler
	cp "$H/echo-line" "$prog"
	master_start inet -- "$prog"
	local pid=${PIDS[0]}
	run client "$ADDR" --send 'one\n'
	[ "$output" = one ]
	mv "$prog" "$prog.away"	# the rm + install window of an upgrade
	run client "$ADDR" --send 'two\n'
	[ "$status" -eq 0 ]	# end of file: not "connection reset by peer"
	[ "$output" = "" ]
	wait_report "^$pid 15 1\$" 2
	mv "$prog.away" "$prog"
	run client "$ADDR" --send 'three\n'
	[ "$output" = three ]
	wait_report "^$pid 15 1\$" 3
	report_is "$pid 15 0" "$pid 15 1" "$pid 15 0" "$pid 15 1" "$pid 15 0" "$pid 15 1"
	grep -F "[$pid]: warning: cannot start handler $prog for a client of " "$LOG" |
		grep -F ": No such file or directory -- closing the connection"
	kill -0 "$pid"
}

# --- GENERATION ---------------------------------------------------------------

@test "a bad GENERATION (not octal) is refused: exit 100, one line naming GENERATION" {
	local gen pid
	SS_EXTRA=()
	for gen in 12x 8 ''; do
		master_start inet --generation "$gen" -- "$H/echo-line"
		pid=${PIDS[0]}
		wait_exit "$MASTER_PID"
		run cat "$REPORT"
		[ "${#lines[@]}" -eq 1 ]
		[ "${lines[0]}" = "exit $pid 100 -" ]
		run cat "$LOG"
		[ "${#lines[@]}" -eq 1 ]
		[[ ${lines[0]} == *GENERATION* ]]
	done
}

@test "GENERATION is octal and is sent back as it is: 0 and 37777777777" {
	local gen want
	for gen in 0 37777777777; do
		want=$((8#$gen))
		master_start inet --generation "$gen" -- -o max_use=1 "$H/echo-line"
		run client "$ADDR" --send 'gen\n'
		[ "$output" = gen ]
		wait_exit "$MASTER_PID"
		run cat "$REPORT"
		[ "${lines[0]}" = "${PIDS[0]} $want 0" ]
		[ "${lines[1]}" = "${PIDS[0]} $want 1" ]
		[ "${lines[2]}" = "exit ${PIDS[0]} 0 -" ]
	done
}

# --- sibling processes and the accept lock ------------------------------------

@test "4 processes with the accept lock: 50 clients, 8 at a time, each served once; all leave at end of file" {
	local served=$BATS_TEST_TMPDIR/served pid
	: >"$served"
	master_start inet --procs 4 -- "$H/master-id" "$served"
	[ "${#PIDS[@]}" -eq 4 ]
	run python3 "$SRC/t/load.py" "$ADDR" 50 8 --seconds 60
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ok 50 failed 0" ]
	# every id exactly once, each served by one of our processes
	[ "$(wc -l <"$served")" -eq 50 ]
	[ "$(cut -d' ' -f1 "$served" | sort -n | uniq | tr '\n' ' ')" = \
		"$(seq 0 49 | tr '\n' ' ')" ]
	while read -r _ pid; do
		[[ " ${PIDS[*]} " == *" $pid "* ]]
	done <"$served"
	# the lock is passed on: more than one process took clients
	[ "$(cut -d' ' -f2 "$served" | sort -u | wc -l)" -ge 2 ]
	wait_report ' 1$' 50
	[ "$(grep -c ' 0$' "$REPORT")" -eq 50 ]
	[ "$(grep -c ' 1$' "$REPORT")" -eq 50 ]
	protocol_ok
	run ! grep -iE '(warning|error|fatal): .*accept' "$LOG"
	kill -USR1 "$MASTER_PID"
	wait_exit "$MASTER_PID"
	disconnect_exits 1000
	for pid in "${PIDS[@]}"; do
		grep -qF "[$pid]: master disconnect -- exiting" "$LOG"
	done
}

@test "the accept lock is a lock on a file in state_directory, held by an idle process, never by a busy one" {
	master_start inet --procs 2 -- "$H/hold" "$D" 10
	# two idle processes: one holds the lock (the other waits or retries)
	wait_locks_held "$STATE" 1
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'a\n' >/dev/null
	wait_for_file "$D/start.a"
	# one busy, one idle: the idle one holds it
	wait_locks_held "$STATE" 1
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'b\n' >/dev/null
	wait_for_file "$D/start.b"
	# both busy: nobody holds it
	wait_locks_held "$STATE" 0
	: >"$D/release.a"
	wait_report ' 1$'
	wait_locks_held "$STATE" 1
	: >"$D/release"
	wait_report ' 1$' 2
	protocol_ok
}

@test "the accept lock file is named after MAIL_CONFIG, service and transport: two Postfix instances never share one" {
	MAIL_CONFIG=/etc/postfix-out master_start inet -- "$H/echo-line"
	wait_locks_held "$STATE" 1
	[ -f "$STATE/_etc_postfix-out.test.inet.lock" ]
	[ "$(ls "$STATE")" = "_etc_postfix-out.test.inet.lock" ]
}

@test "-l (a single process): no accept lock is taken" {
	master_start inet -- -l "$H/echo-line"
	run client "$ADDR" --send 'alone\n'
	[ "$output" = alone ]
	wait_report ' 1$'
	# served once, idle again, back in accept: still no lock
	run client "$ADDR" --send 'again\n'
	[ "$output" = again ]
	wait_report ' 1$' 2
	[ "$(locks_held "$STATE")" -eq 0 ]
}

# --- end of file on fd 5: the master is gone ------------------------------------

@test "end of file on fd 5: idle processes (with and without the lock) leave at once, a busy one when its handler ends" {
	master_start inet --procs 3 -- "$H/hold" "$D" 10
	local out=$BATS_TEST_TMPDIR/one.out busy pid idle=()
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'one\n' >"$out"
	local client_pid=$BG_PID
	wait_for_file "$D/start.one"
	wait_report ' 0$'
	busy=$(awk '$3 == 0 { print $1 }' "$REPORT")
	for pid in "${PIDS[@]}"; do
		[ "$pid" = "$busy" ] || idle+=("$pid")
	done
	[ "${#idle[@]}" -eq 2 ]
	kill -USR1 "$MASTER_PID"
	wait_report '^exit ' 2 5
	disconnect_exits 1000 "${idle[@]}"
	# the busy one is still there, its handler running
	run ! grep -q "^exit $busy " "$REPORT"
	kill -0 "$busy"
	[ ! -e "$D/end.one" ]
	: >"$D/release.one"
	wait_exit "$MASTER_PID"
	# its client got the whole reply, and the process left with status 0
	# (its "available" message had nowhere to go: no SIGPIPE death)
	wait_status "$client_pid"
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$out")" = "released one" ]
	grep -q "^exit $busy 0 [0-9]" "$REPORT"
	for pid in "${PIDS[@]}"; do
		grep -qF "[$pid]: master disconnect -- exiting" "$LOG"
	done
}

# --- transports -----------------------------------------------------------------

@test "-t unix: a client of the unix listener is served with PROTO=UNIX" {
	local path=$BATS_TEST_TMPDIR/unix.sock
	master_start unix --path "$path" -- "$H/env-dump"
	[ "$ADDR" = "unix:$path" ]
	run client "$ADDR"
	[ "$status" -eq 0 ]
	grep -qx PROTO=UNIX <<<"$output"
	grep -qx "UNIXLOCALPATH=$path" <<<"$output"
	wait_report ' 1$'
	protocol_ok
}

# Postfix 3.7's postscreen passes a connection this way (master.py --pass
# does the same): the descriptor with one byte "\0" (unix_send_fd), then
# an attribute list in attr_print0's format, "NAME\0VALUE\0"... and a
# "\0" that ends it; then it waits for the service to close the
# connection. The service reads the list with attr_scan0 (recv_pass_attr).

@test "-t pass: a TCP connection passed with an empty attribute list is served, with PROTO=TCP" {
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- "$H/env-dump"
	run python3 "$SRC/t/master.py" --pass "$ADDR" --expect-close
	[ "$status" -eq 0 ]
	grep -qx PROTO=TCP <<<"$output"
	grep -qx TCPREMOTEIP=127.0.0.1 <<<"$output"
	grep -qx TCPLOCALIP=127.0.0.1 <<<"$output"
	grep -qx REMOTE_ADDR=127.0.0.1 <<<"$output"
	run ! grep -E ': (warning|error|fatal): ' "$LOG"
	wait_report ' 1$'
	report_is "${PIDS[0]} 15 0" "${PIDS[0]} 15 1"
}

@test "-t pass: the attributes postscreen sends along are read, the pass connection closed, the client served" {
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- "$H/echo-line"
	run python3 "$SRC/t/master.py" --pass "$ADDR" --expect-close \
		--attr client_address=192.0.2.1 --attr client_port=50000 \
		--attr server_address=192.0.2.2 --attr server_port=25 \
		--send 'screened\n'
	[ "$status" -eq 0 ]
	[ "$output" = screened ]
	run ! grep -E ': (warning|error|fatal): ' "$LOG"
	wait_report ' 1$'
	protocol_ok
}

@test "-t pass: the same process serves passed connections one after another, unix ones too" {
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- "$H/echo-line"
	run python3 "$SRC/t/master.py" --pass "$ADDR" --send 'tcp\n'
	[ "$status" -eq 0 ]
	[ "$output" = tcp ]
	run python3 "$SRC/t/master.py" --pass "$ADDR" --unix --send 'unix\n'
	[ "$status" -eq 0 ]
	[ "$output" = unix ]
	wait_report ' 1$' 2
	protocol_ok
}

@test "-t pass: a sender that closes without passing anything costs nothing; the next one is served" {
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- "$H/echo-line"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.close()' "${ADDR#unix:}"
	run python3 "$SRC/t/master.py" --pass "$ADDR" --send 'next\n'
	[ "$status" -eq 0 ]
	[ "$output" = next ]
	wait_report "^${PIDS[0]} 15 1\$"
	protocol_ok
	kill -0 "${PIDS[0]}"
}

@test "-t pass: the passed socket is blocking for the handler, though the sender's was not" {
	local h=$BATS_TEST_TMPDIR/greet-read flags
	# fd 0's file status flags (octal) first, then a read before the
	# client has sent anything
	printf '#!/bin/sh\nsed -n "s/^flags:[[:space:]]*//p" /proc/self/fdinfo/0\nIFS= read -r line || echo "read failed"\necho "got $line"\n' >"$h"
	chmod 755 "$h"
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- "$h"
	run python3 "$SRC/t/master.py" --pass "$ADDR" --greeted --send 'hello\n'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	flags=${lines[0]}
	[ $((8#$flags & 8#4000)) -eq 0 ]	# O_NONBLOCK
	[ "${lines[1]}" = "got hello" ]
}

@test "-t pass: descriptors beyond the first one are closed, not kept" {
	# the handler must not read the pipe passed to it: the sender holds
	# its other end
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- /bin/true
	local pid=${PIDS[0]} before after
	# started: it holds the accept lock (its thread and socket pair exist)
	wait_locks_held "$STATE" 1
	before=$(ls /proc/"$pid"/fd | wc -l)
	python3 -c '
import os, socket, sys
for _ in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    r, w = os.pipe()
    socket.send_fds(s, [b"\0"], [r, w, r])
    s.sendall(b"\0")
    s.recv(1)           # until the service closes it
    s.close()' "${ADDR#unix:}"
	wait_report "^$pid 15 1\$" 5
	protocol_ok
	after=$(ls /proc/"$pid"/fd | wc -l)
	[ "$after" -eq "$before" ]
}

@test "-t pass: max_idle still applies after a sender that passed nothing" {
	master_start pass --path "$BATS_TEST_TMPDIR/pass.sock" -- -o max_idle=1 "$H/echo-line"
	local pid=${PIDS[0]}
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.close()' "${ADDR#unix:}"
	wait_report "^$pid 15 1\$"
	# master.py ends when its only child has exited
	wait_exit "$MASTER_PID" 5
	run cat "$REPORT"
	[ "${lines[2]}" = "exit $pid 0 -" ]
}

@test "-s 2: both listeners, fd 6 and fd 7, are served" {
	master_start inet --listeners 2 -- -s 2 "$H/echo-line"
	[ "${#ADDRS[@]}" -eq 2 ]
	run client "${ADDRS[1]}" --send 'second\n'
	[ "$output" = second ]
	run client "${ADDRS[0]}" --send 'first\n'
	[ "$output" = first ]
	wait_report ' 1$' 2
	protocol_ok
}

@test "master(8) mode without -s and -t: found from fd 5 and the listener on fd 6" {
	NO_T=1 master_start inet -- "$H/echo-line"
	run client "$ADDR" --send 'found\n'
	[ "$output" = found ]
	wait_report ' 1$'
	run cat "$REPORT"
	[ "${lines[0]}" = "${PIDS[0]} 15 0" ]
	[ "${lines[1]}" = "${PIDS[0]} 15 1" ]
}

@test "-t with an unknown transport is refused with exit 100" {
	SS_EXTRA=()
	NO_T=1 master_start inet -- -t fifo "$H/echo-line"
	wait_exit "$MASTER_PID"
	grep -qx "exit ${PIDS[0]} 100 -" "$REPORT"
	grep -q fifo "$LOG"
}

@test "end of file on fd 5: processes waiting for the accept lock leave while its holder keeps it" {
	master_start inet --procs 3 -- "$H/echo-line"
	stop_lock_holder
	kill -USR1 "$MASTER_PID"
	wait_report '^exit ' 2 5
	disconnect_exits 1000 "${WAITERS[@]}"
	kill -CONT "$STOPPED"
	wait_exit "$MASTER_PID"
	grep -q "^exit $HOLDER 0 [0-9]" "$REPORT"
}

@test "only the holder of the accept lock accepts: while it is stopped, a client waits in the backlog" {
	master_start inet --procs 4 -- "$H/echo-line"
	stop_lock_holder
	# three idle processes could accept it, but have no lock
	run client "$ADDR" --send 'first\n' --timeout 1
	[ "$output" != first ]
	run cat "$REPORT"
	[ "${#lines[@]}" -eq 0 ]
	kill -CONT "$STOPPED"
	STOPPED=
	run client "$ADDR" --send 'second\n'
	[ "$output" = second ]
}

@test "handlers get no descriptor of ours: only 0, 1 and 2 (not fd 5, the lock or the listener)" {
	master_start inet -- /bin/ls /proc/self/fd
	run client "$ADDR"
	# ls has one more open: its own directory stream
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = 0 ] && [ "${lines[1]}" = 1 ] && [ "${lines[2]}" = 2 ]
}

@test "max_idle applies to a process waiting for the accept lock" {
	master_start inet --procs 2 -- -o max_idle=2 "$H/echo-line"
	stop_lock_holder
	wait_report "^exit ${WAITERS[0]} 0 -\$" 1 8
	kill -CONT "$STOPPED"
	wait_exit "$MASTER_PID"
	grep -q "^exit $HOLDER 0 -" "$REPORT"
}

@test "--pipe: fd 5 a plain pipe; status messages arrive, and closing its read end makes the process leave" {
	master_start inet --pipe -- "$H/echo-line"
	local pid=${PIDS[0]}
	run client "$ADDR" --send 'piped\n'
	[ "$output" = piped ]
	wait_report ' 1$'
	run cat "$REPORT"
	[ "${lines[0]}" = "$pid 15 0" ]
	[ "${lines[1]}" = "$pid 15 1" ]
	kill -USR1 "$MASTER_PID"
	wait_exit "$MASTER_PID"
	disconnect_exits 1000
	grep -qF "[$pid]: master disconnect -- exiting" "$LOG"
}

@test "--pipe with the accept lock: every process leaves when the pipe is closed" {
	master_start inet --pipe --procs 3 -- "$H/echo-line"
	kill -USR1 "$MASTER_PID"
	wait_exit "$MASTER_PID"
	disconnect_exits 1000
}

# --- limits and the handler's stderr ----------------------------------------------

@test "max_idle: an idle process exits 0 without a word on fd 5" {
	local t0 t1
	t0=$(now_ms)
	master_start inet -- -o max_idle=1 "$H/echo-line"
	wait_exit "$MASTER_PID"
	t1=$(now_ms)
	[ $((t1 - t0)) -ge 900 ]
	run cat "$REPORT"
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "exit ${PIDS[0]} 0 -" ]
}

@test "handler_stderr=auto: the handler's stderr is logged, not written to fd 2 as it is" {
	master_start inet -- "$H/master-stderr"
	run client "$ADDR"
	[ "$output" = ok ]
	wait_report ' 1$'
	wait_for_log "diagnostic from the handler"
	grep -qE "\[${PIDS[0]}\]: .*diagnostic from the handler" "$LOG"
	run ! grep -qx "diagnostic from the handler" "$LOG"
}

@test "listeners left blocking by the master: no process hangs in accept, all leave at end of file" {
	local served=$BATS_TEST_TMPDIR/served
	: >"$served"
	master_start inet --blocking --procs 3 -- "$H/master-id" "$served"
	run python3 "$SRC/t/load.py" "$ADDR" 20 6 --seconds 60
	[ "${lines[0]}" = "ok 20 failed 0" ]
	wait_report ' 1$' 20
	protocol_ok
	kill -USR1 "$MASTER_PID"
	wait_exit "$MASTER_PID"
	disconnect_exits 1000
}

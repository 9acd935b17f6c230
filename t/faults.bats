#!/usr/bin/env bats
# faults.bats - single-server(8) resident mode when things go wrong: a
# handler that cannot be started (EAGAIN, EMFILE, ENOMEM, ENFILE, a real
# RLIMIT_NPROC; ETXTBSY, ENOEXEC, ENOENT, EACCES), a handler that closes
# its connection early, clients that half-close, never read or reset
# while they wait, an in-flow state file locked by a stopped process,
# and SIGTERM in the middle of a burst. Nothing accepted is lost: every
# accepted client gets its reply or a clean end of file, and after each
# fault that is not meant to end the server (SIGTERM) a normal client is
# still served. A handler that cannot be run (held open for writing,
# half-written, removed, not executable) costs its client only, in
# resident mode, master(8) mode (master-proto.bats) and stream mode.
#
# Faults tested elsewhere, not repeated here:
#   a handler that crashes     resident.bats "a handler killed by a signal
#                              is logged as killed by signal 11 and the
#                              next client is served"
#   a handler that hangs       signals.bats "command_time_limit=1: a long
#                              handler is terminated and the server goes on
#                              serving" (and the SIGKILL and process-group
#                              tests after it); limits.bats "by default
#                              clients are served at once"
#   a handler flooding stderr  logging.bats "handler_stderr=log: a handler
#                              flooding its stderr does not keep another
#                              client waiting", "... at most 100 lines a
#                              second per handler are logged"
#   clients that reset at once resident.bats "clients that reset at once
#                              disturb nothing"
#   EMFILE on accept           limits.bats "out of descriptors: accept
#                              pauses without spinning and recovers";
#                              EMFILE on a handler's stderr pipe: limits.bats
#                              "handler_stderr=log at the descriptor limit"
#   SIGTERM under load while   reexec.bats "SIGTERM during re-executions
#   re-executing               under load is never lost"
#   a stopped accept-lock      master-proto.bats (the master(8) accept
#   holder                     lock, not the in-flow state file)
#
# Failing spawns come from t/shim-spawnfail.c, an LD_PRELOAD shim that
# makes execve() fail the first N times with a given error (in the vfork
# child: the server sees the error as the spawn's), and from a real
# RLIMIT_NPROC under -u (vfork's own EAGAIN).

bats_require_minimum_version 1.5.0

load helper

SHIM=$BUILD/t/.libs/shim-spawnfail.so

setup() {
	hold_setup
	STOPPED=
}

teardown() {
	# a stopped process ignores SIGTERM until it runs again
	[ -z "$STOPPED" ] || kill -KILL "$STOPPED" 2>/dev/null || true
	hold_teardown
}

# start_shim_server FAILS ERRNO ARGS...: start_server with execve()
# failing the first FAILS times with ERRNO
start_shim_server() {
	local fails=$1 err=$2
	shift 2
	start_preloaded_server shim-spawnfail SHIM_SPAWN_FAILS="$fails" \
		SHIM_SPAWN_ERRNO="$err" -- "$@"
}

# retries: how many "retrying" warnings the server logged
retries() {
	grep -c 'cannot start handler for a client of .* -- retrying in 1s' "$LOG" || true
}

# served_after_spawn_failures ERRNO N TEXT: the exec fails N times
# with ERRNO (strerror TEXT); the client is kept, retried a second
# apart, and gets its reply; the next client needs no retry; no child
# is left behind (neither a failed one nor a handler)
served_after_spawn_failures() {
	local err=$1 n=$2 text=$3 elapsed
	start_shim_server "$n" "$err" -L 127.0.0.1:0 "$H/echo-line"
	# timed by the client from its connect to end of file
	run burst "$ADDR" 1 --send 'kept\n' --timeout $((n + 8))
	elapsed=${lines[1]#max }
	echo "served after ${elapsed}ms"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$elapsed kept" ]
	[ "$(grep -cF "cannot start handler for a client of $ADDR: $text -- retrying in 1s" "$LOG")" -eq "$n" ]
	[ "$elapsed" -ge $((n * 1000 - 100)) ]	# a second per retry, not at once
	run client "$ADDR" --send 'next\n'
	[ "$status" -eq 0 ]
	[ "$output" = next ]
	[ "$(retries)" -eq "$n" ]
	kill -0 "$SERVER_PID"
	no_children "$SERVER_PID" 5	# the children whose exec failed were reaped
}

# --- a handler that cannot be started ------------------------------------------

@test "the handler's exec fails twice with EAGAIN: the client is kept, retried a second apart, and served" {
	served_after_spawn_failures EAGAIN 2 "Resource temporarily unavailable"
}

@test "the handler's exec fails with EMFILE: the client is kept and served after the retry" {
	served_after_spawn_failures EMFILE 1 "Too many open files"
}

@test "the handler's exec fails with ENFILE: the client is kept and served after the retry" {
	served_after_spawn_failures ENFILE 1 "Too many open files in system"
}

@test "the handler's exec fails with ENOMEM: the client is kept and served after the retry" {
	served_after_spawn_failures ENOMEM 1 "Cannot allocate memory"
}

@test "-u at RLIMIT_NPROC: the kernel's EAGAIN is retried until a process slot frees up, then the client is served" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "no setpriv(1)"
	local client_pid
	# Another process of nobody fills the limit of 2 with the server
	# itself (which becomes nobody with -u): no handler can start. Root
	# is exempt, so the limit bites only once privileges are dropped.
	bg setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 60
	local blocker=$BG_PID
	SS_WRAP="prlimit --nproc=2 --" start_server -u -o user=nobody \
		-L 127.0.0.1:0 "$H/echo-line"
	bg client "$ADDR" --send 'waits\n' --timeout 20 >"$D/out"
	client_pid=$BG_PID
	wait_for_log "Resource temporarily unavailable -- retrying in 1s"
	[ ! -s "$D/out" ]
	kill -0 "$client_pid"	# kept: neither served nor closed
	kill -KILL "$blocker"
	wait_exit "$blocker" 5
	wait_status "$client_pid" 15
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/out")" = waits ]
	run client "$ADDR" --send 'next\n'
	[ "$output" = next ]
	kill -0 "$SERVER_PID"
}

# --- a handler that cannot be run: that client only ----------------------------
#
# The handler is a copy of t/handlers/hold in $BATS_TEST_TMPDIR, broken
# and mended while the server runs. Broken by renaming a new file over
# it, never by writing into it: a running sh reads its script as it goes.

# break_etxtbsy, mend_etxtbsy PROGRAM: a writer holds PROGRAM open (fd 4:
# bats has 3), as a copy in place would; killed by its saved pid
break_etxtbsy() {
	bg sleep 60 4>>"$1"
	WRITER=$BG_PID
}
mend_etxtbsy() {
	kill "$WRITER"
	wait_exit "$WRITER" 5
}

# break_enoexec, mend_enoexec PROGRAM: half-written, no "#!" yet
break_enoexec() {
	cp -p "$1" "$1.good"
	printf 'half-written\0\1\2' >"$1.new"
	chmod 755 "$1.new"
	mv "$1.new" "$1"
}
mend_enoexec() {
	mv "$1.good" "$1"
}

# break_enoent, mend_enoent PROGRAM: the rm + install window of an upgrade
break_enoent() {
	mv "$1" "$1.away"
}
mend_enoent() {
	mv "$1.away" "$1"
}

# break_eacces, mend_eacces PROGRAM: the execute bits gone
break_eacces() {
	chmod a-x "$1"
}
mend_eacces() {
	chmod 755 "$1"
}

# one_client_pays ERR TEXT: with the handler broken as break_ERR does,
# one client is closed with a clean end of file (it sent a line first,
# and is accepted only after that line arrived, so that a plain close
# would reset it), the error is logged naming the program; mended, the
# same server serves the next client
one_client_pays() {
	local err=$1 text=$2 prog=$BATS_TEST_TMPDIR/handler holder doomed
	cp "$H/hold" "$prog"
	# process_limit=1: the doomed client waits in the listen queue while
	# the holder's handler runs
	start_server -o process_limit=1 -L 127.0.0.1:0 "$prog" "$D" 10
	: >"$D/release.first"
	run client "$ADDR" --send 'first\n'
	[ "$output" = "released first" ]
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'holder\n' >"$D/holder.out"
	holder=$BG_PID
	wait_for_file "$D/start.holder"
	"break_$err" "$prog"
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'doomed\n' --sent "$D/sent" \
		>"$D/doomed.out" 2>"$D/doomed.err"
	doomed=$BG_PID
	wait_for_file "$D/sent"
	: >"$D/release.holder"
	wait_status "$holder" 10
	[ "$(cat "$D/holder.out")" = "released holder" ]
	wait_status "$doomed" 10
	cat "$D/doomed.err"
	[ "$STATUS" -eq 0 ]	# end of file: not "connection reset by peer"
	[ ! -s "$D/doomed.out" ]
	[ ! -s "$D/doomed.err" ]
	grep -F "warning: cannot start handler $prog for a client of $ADDR: $text -- closing the connection" "$LOG"
	"mend_$err" "$prog"
	: >"$D/release.next"
	run client "$ADDR" --send 'next\n'
	[ "$status" -eq 0 ]
	[ "$output" = "released next" ]	# the program is used again at once
	kill -0 "$SERVER_PID"
	[ "$(grep -c 'cannot start handler' "$LOG")" -eq 1 ]
	[ "$(grep -cE 'fatal|panic|retrying' "$LOG")" -eq 0 ]
}

@test "a handler held open for writing (ETXTBSY) costs one client a clean end of file and a log line; the next is served" {
	one_client_pays etxtbsy "Text file busy"
}

@test "a half-written handler (ENOEXEC) costs one client a clean end of file and a log line; the next is served" {
	one_client_pays enoexec "Exec format error"
}

@test "a handler removed for an upgrade (ENOENT) costs one client a clean end of file and a log line; the next is served" {
	one_client_pays enoent "No such file or directory"
}

@test "a handler without its execute bit (EACCES) costs one client a clean end of file and a log line; the next is served" {
	one_client_pays eacces "Permission denied"
}

@test "five clients of a removed handler in a second: one line, then the count of the four others; counted as refused, their slots given back" {
	local prog=$BATS_TEST_TMPDIR/handler sock=$BATS_TEST_TMPDIR/notify
	local out=$BATS_TEST_TMPDIR/notify.out
	cp "$H/echo-line" "$prog"
	notify_listen "$sock" "$out"
	# per_source_limit=1: a slot not given back would refuse the next one
	NOTIFY_SOCKET=$sock start_server -o per_source_limit=1 -L 127.0.0.1:0 "$prog"
	run client "$ADDR" --send 'before\n'
	[ "$output" = before ]
	rm "$prog"
	# one after the other, from one process: within a second
	run python3 "$SRC/t/load.py" "$ADDR" 5 1 --seconds 10
	echo "$output"
	[ "${lines[0]}" = "ok 0 failed 5" ]
	[ "${lines[1]}" = "     5 bad reply: b''" ]	# end of file, no reset
	wait_for_log "cannot start handler $prog: No such file or directory -- 4 more connection(s) closed since, not logged" 5
	[ "$(grep -c "cannot start handler $prog for a client of $ADDR: No such file or directory -- closing the connection" "$LOG")" -eq 1 ]
	[ "$(grep -c 'refuse' "$LOG")" -eq 0 ]
	LOG=$out wait_for_log "STATUS=served 1, running 0, paused 0, refused 5" 3
	cp "$H/echo-line" "$prog"
	run client "$ADDR" --send 'after\n'
	[ "$output" = after ]
	kill -0 "$SERVER_PID"
	# a second without failures: the next one is logged at once again
	sleep 1.1
	rm "$prog"
	run client "$ADDR" --send 'again\n'
	[ "$output" = "" ]
	[ "$(grep -c 'closing the connection' "$LOG")" -eq 2 ]
}

@test "stream mode: a handler held open for writing (ETXTBSY): exit 126 naming it; the client gets end of file, not a reset" {
	local prog=$BATS_TEST_TMPDIR/handler err=$BATS_TEST_TMPDIR/stderr
	cp "$H/echo-line" "$prog"
	break_etxtbsy "$prog"
	inetd_start nowait --stderr "$err" -- "$SS" -S -- "$prog"
	run client "$INETD_ADDR" --send 'doomed\n'
	[ "$status" -eq 0 ]	# end of file: not "connection reset by peer"
	[ "$output" = "" ]
	inetd_wait
	cat "$err"
	[ "$TOOL_STATUS" -eq 126 ]
	grep -F "fatal: cannot start handler $prog: Text file busy" "$err"
	mend_etxtbsy "$prog"
}

@test "stream mode: a half-written handler (ENOEXEC) gives 126, naming it" {
	local prog=$BATS_TEST_TMPDIR/handler
	cp "$H/echo-line" "$prog"
	break_enoexec "$prog"
	run -126 --separate-stderr "$SS" -S -- "$prog" <<<line
	[ "$output" = "" ]
	[[ $stderr == *"fatal: cannot start handler $prog: Exec format error"* ]]
}

@test "stream mode: an exec that fails at run time gives 127 for ENOENT, 126 for EACCES and ETXTBSY, 111 for EAGAIN, naming the program" {
	local prog=$BATS_TEST_TMPDIR/handler e want text
	[ -f "$SHIM" ] || skip "$SHIM is not built"
	cp "$H/echo-line" "$prog"
	for e in ENOENT:127 EACCES:126 ETXTBSY:126 EAGAIN:111; do
		want=${e#*:}
		e=${e%:*}
		run "-$want" --separate-stderr env LD_PRELOAD="$SHIM" \
			SHIM_SPAWN_ERRNO="$e" "$SS" -S -- "$prog" <<<line
		[ "$output" = "" ]
		text=$(python3 -c 'import errno, os, sys; print(os.strerror(getattr(errno, sys.argv[1])))' "$e")
		[[ $stderr == *"fatal: cannot start handler $prog: $text"* ]]
	done
}

@test "leaving while a client's handler can never start: after the drain it gets a clean end of file, no reset" {
	local client_pid t0
	start_shim_server 1000000 EAGAIN -o drain_timeout=1 -L 127.0.0.1:0 "$H/echo-line"
	bg client "$ADDR" --send 'never\n' --timeout 10 >"$D/out" 2>"$D/err"
	client_pid=$BG_PID
	wait_for_log "retrying in 1s"
	t0=$(now_ms)
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 6
	[ "$STATUS" -eq 0 ]
	echo "exited $(($(now_ms) - t0))ms after SIGTERM"
	grep -qF "leaving: closing a client of $ADDR that no handler could be started for" "$LOG"
	wait_status "$client_pid" 5
	cat "$D/err"
	[ "$STATUS" -eq 0 ]	# end of file: not "connection reset by peer"
	[ ! -s "$D/out" ]
}

# --- a handler that closes its connection early --------------------------------

@test "a handler that closes stdin and stdout early: its client gets the reply and end of file while it runs on" {
	local pid
	start_server -v -L 127.0.0.1:0 sh -c 'IFS= read -r l; echo "$l"; exec >&- <&-
		echo $$ >"$1/pid"; i=0
		while [ ! -e "$1/release" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done' sh "$D"
	run client "$ADDR" --send 'early\n' --timeout 5
	[ "$status" -eq 0 ]	# end of file, not the client's timeout
	[ "$output" = early ]
	wait_for_file "$D/pid"
	pid=$(cat "$D/pid")
	alive "$pid"	# the end of file came from the close, not the exit
	: >"$D/release"
	wait_for_log "handler pid $pid exit status 0"
	run client "$ADDR" --send 'next\n'
	[ "$output" = next ]
}

# --- clients that misbehave ----------------------------------------------------

@test "a client that half-closes at once gets the whole reply written after its end of file (1 MB)" {
	start_server -L 127.0.0.1:0 sh -c \
		'n=$(wc -c); head -c 1000000 /dev/zero | tr "\0" x; echo " after $n bytes"'
	run client "$ADDR" --timeout 10	# sends nothing, half-closes at once
	[ "$status" -eq 0 ]
	[ "${#output}" -eq $((1000000 + 14)) ]
	[[ $output == xxxx*"x after 0 bytes" ]]
	run client "$ADDR" --send 'abc\n' --timeout 10
	[[ $output == *"x after 4 bytes" ]]
}

# send_queue PORT: the largest Send-Q of the TCP connections whose local
# port is PORT (the handlers' ends; CLOSE-WAIT once a client half-closed)
send_queue() {
	ss -Htn state connected "sport = :$1" | awk '$3 > m { m = $3 } END { print m + 0 }'
}

@test "a client that never reads: its handler blocks on the full socket, others are served meanwhile, and it ends when that client goes" {
	local reader pid i
	start_server -L 127.0.0.1:0 sh -c \
		'IFS= read -r l; [ "$l" = flood ] || { echo "$l"; exit; }; echo $$ >"$1"; exec yes' sh "$D/pid"
	# python3 itself, not the shell function, so that killing BG_PID
	# closes the connection
	bg python3 "$SRC/t/client.py" "$ADDR" --send 'flood\n' --no-read --timeout 30
	reader=$BG_PID
	wait_for_file "$D/pid"
	pid=$(cat "$D/pid")
	# the client's receive buffer is full: the handler's writes wait
	for ((i = 0; i < 100; i++)); do
		[ "$(send_queue "${ADDR##*:}")" -gt 0 ] && break
		sleep 0.05
	done
	[ "$(send_queue "${ADDR##*:}")" -gt 0 ]
	run client "$ADDR" --send 'meanwhile\n' --timeout 5
	[ "$status" -eq 0 ]
	[ "$output" = meanwhile ]
	alive "$pid"
	kill -TERM "$reader"
	wait_exit "$reader" 5
	# unread data: the kernel resets the connection, and the handler's
	# next write fails (SIGPIPE, or ECONNRESET when that came first)
	wait_for_log "handler pid $pid "
	grep -qE "handler pid $pid (killed by signal 13|exit status 1)$" "$LOG"
	run client "$ADDR" --send 'after\n'
	[ "$output" = after ]
	kill -0 "$SERVER_PID"
}

@test "a client that resets during its in-flow pause: its handler meets a dead connection, the server serves on" {
	local n pid doomed
	start_server -v -n svc -o state_directory="$BATS_TEST_TMPDIR/state" \
		-o in_flow_rate=1 -o in_flow_burst=1 -o in_flow_delay=2s \
		-L 127.0.0.1:0 "$H/echo-line"
	# Two connections at once, so that the second surely finds the
	# bucket's only token taken (however slow this machine is): the
	# first is served, the second waits; it resets when told to ($D/go).
	bg python3 -c '
import os, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
from client import connect
a = connect(sys.argv[2], 10)
b = connect(sys.argv[2], 10)
a.sendall(b"first\n")
a.shutdown(socket.SHUT_WR)
b.sendall(b"doomed\n")
reply = b""
while True:
    chunk = a.recv(4096)
    if not chunk:
        break
    reply += chunk
sys.stdout.buffer.write(reply)
sys.stdout.flush()
for _ in range(200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
b.close()
' "$SRC/t" "$ADDR" "$D/go" >"$D/first"
	doomed=$BG_PID
	wait_for_log "no in-flow token -- pausing 2s"
	: >"$D/go"
	wait_status "$doomed" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/first")" = first ]
	# after its pause the handler starts on the reset connection and ends
	for ((n = 0; n < 120; n++)); do
		[ "$(grep -c ': connect from ' "$LOG")" -ge 2 ] && break
		sleep 0.05
	done
	pid=$(sed -n 's/.*: connect from .*: handler pid //p' "$LOG" | sed -n 2p)
	[ -n "$pid" ]
	wait_for_log "handler pid $pid exit status"
	run client "$ADDR" --send 'after\n' --timeout 8
	[ "$status" -eq 0 ]
	[ "$output" = after ]
	kill -0 "$SERVER_PID"
	[ "$(grep -cE 'fatal|panic' "$LOG")" -eq 0 ]
}

# --- the in-flow state file locked by a stopped process ------------------------

# lock_and_stop FILE: a process takes the flock(2) lock on FILE and stops
# itself with SIGSTOP; returns once it is stopped. Sets STOPPED.
lock_and_stop() {
	bg python3 -c '
import fcntl, os, signal, sys
f = open(sys.argv[1], "r+")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
os.kill(os.getpid(), signal.SIGSTOP)
' "$1" "$D/locked"
	STOPPED=$BG_PID
	wait_for_file "$D/locked"
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(sed 's/^.*) //' "/proc/$STOPPED/stat" | cut -c1)" = T ] && return 0
		sleep 0.05
	done
	echo "process $STOPPED never stopped" >&2
	return 1
}

@test "the in-flow state file locked by a stopped process: clients are served without the pause, warned, and the bucket works again once it is gone" {
	local state=$BATS_TEST_TMPDIR/state n elapsed
	local flow=(-n svc -o state_directory="$state" -o in_flow_rate=1
		-o in_flow_burst=1 -o in_flow_delay=3s)
	# -m 0: no re-execution at 100 clients (a new image would say it again)
	start_server -v -m 0 "${flow[@]}" -L 127.0.0.1:0 "$H/echo-line"
	lock_and_stop "$state/svc.flow"
	# With the lock, the second and third client would wait 3 s each.
	for n in 1 2 3; do
		# timed by the client from its connect to end of file
		run burst "$ADDR" 1 --send "client $n\\n" --timeout 5
		elapsed=${lines[1]#max }
		echo "client $n: ${elapsed}ms"
		[ "$status" -eq 0 ]
		[ "${lines[0]}" = "$elapsed client $n" ]
		[ "$elapsed" -lt 2500 ]
	done
	# said once for the whole stall, not once a client
	[ "$(grep -cF "lock $state/svc.flow: Resource temporarily unavailable -- serving without in-flow delay" "$LOG")" -eq 1 ]
	[ "$(grep -c pausing "$LOG")" -eq 0 ]
	# and not a 50 ms wait a client: 100 clients are not 5 s late (timed
	# by the client from its first connect, not counting its own start)
	run python3 "$SRC/t/load.py" "$ADDR" 100 4 --seconds 20 --time
	[ "${lines[0]}" = "ok 100 failed 0" ]
	elapsed=${lines[-1]#elapsed }
	echo "100 clients with the lock stuck: ${elapsed}ms"
	[ "$elapsed" -lt 4000 ]
	# stream mode, a process of the same service, does not hang either
	run --separate-stderr timeout 10 "$SS" -S -V "${flow[@]}" -- cat <<<stream
	[ "$status" -eq 0 ]
	[ "$output" = stream ]
	[[ $stderr == *"lock $state/svc.flow: Resource temporarily unavailable -- serving without in-flow delay"* ]]
	# The holder is gone: its lock with it. The bucket was never updated
	# meanwhile, so it holds its one token: of two clients at once, one
	# is served at once and the other after a pause.
	kill -KILL "$STOPPED"
	wait_exit "$STOPPED" 5
	STOPPED=
	run python3 "$SRC/t/load.py" "$ADDR" 2 2 --seconds 20
	[ "${lines[0]}" = "ok 2 failed 0" ]
	grep -q "lock $state/svc.flow works again -- in-flow delay back on" "$LOG"
	[ "$(grep -c 'no in-flow token -- pausing 3s' "$LOG")" -eq 1 ]
	[ "$(grep -c 'serving without in-flow delay' "$LOG")" -eq 1 ]
}

# --- SIGTERM in the middle of a burst ------------------------------------------

@test "SIGTERM during a burst: every client accepted gets its whole reply, the others are refused or reset, exit 0" {
	local load_pid accepted bad n
	# a handler that takes a moment: the signal finds several running
	start_server -v -z -L 127.0.0.1:0 sh -c 'IFS= read -r l; sleep 0.1; echo "$l"'
	bg python3 "$SRC/t/load.py" "$ADDR" 5000 16 --seconds 40 \
		--report "$D/report" >"$D/load.out"
	load_pid=$BG_PID
	# mid-burst: once 100 clients were accepted
	for ((n = 0; n < 400; n++)); do
		[ "$(grep -c ': connect from ' "$LOG")" -ge 100 ] && break
		sleep 0.05
	done
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 15
	[ "$STATUS" -eq 0 ]
	wait_status "$load_pid" 40
	cat "$D/load.out"
	grep -E 'signal 15 -- exiting after [1-9][0-9]* running handler' "$LOG"
	accepted=$(grep -c ': connect from ' "$LOG")
	echo "accepted $accepted of 5000"
	[ "$accepted" -ge 100 ]
	[ "$accepted" -lt 5000 ]	# the signal did cut the burst short
	# Each port the server accepted a client from got the whole reply
	# (counted, in case the kernel used a port twice).
	bad=$(awk '
		FNR == NR { if (sub(/.*: connect from 127\.0\.0\.1:/, "")) { sub(/ .*/, ""); acc[$0]++ }; next }
		$2 == "ok" { ok[$1]++ }
		END { for (p in acc) if (ok[p] < acc[p]) print p }
	' "$LOG" "$D/report")
	[ -z "$bad" ] || { echo "accepted but not answered: $bad" >&2; return 1; }
	[ "$(grep -c ' ok$' "$D/report")" -eq "$accepted" ]
	# The rest never reached a handler: refused after the listener
	# closed, or reset in its listen queue; no partial reply, no timeout.
	run grep -vE ' (ok|connect: ConnectionRefusedError|io: ConnectionResetError|io: BrokenPipeError)$' "$D/report"
	[ "$output" = "" ]
	grep -q ' connect: ConnectionRefusedError$' "$D/report"
}

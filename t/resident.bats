#!/usr/bin/env bats
# resident.bats - single-server(8) resident mode: listening addresses, what
# -1 prints, the environment and descriptors a handler gets, and how the
# server goes on when a handler or a client misbehaves.

bats_require_minimum_version 1.5.0

load helper

# --- listening addresses and -1 ---------------------------------------------

@test "-L 127.0.0.1:0 -1 prints the bound address and a client gets the reply" {
	start_server -L 127.0.0.1:0 "$H/echo-line"
	[[ $ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]]
	[ "${ADDR##*:}" -gt 0 ]
	run client "$ADDR" --send 'ping\n'
	[ "$status" -eq 0 ]
	[ "$output" = ping ]
}

@test "-L [::1]:0 listens on the IPv6 loopback and -1 prints it in brackets" {
	have_ipv6 || skip "no IPv6 loopback"
	start_server -L '[::1]:0' "$H/echo-line"
	[[ $ADDR =~ ^\[::1\]:[0-9]+$ ]]
	[ "${ADDR##*:}" -gt 0 ]
	run client "$ADDR" --send 'ping6\n'
	[ "$status" -eq 0 ]
	[ "$output" = ping6 ]
}

# wildcard_serves SPEC: -L SPEC binds every address on a free port, and a
# client on 127.0.0.1 (and ::1 where the host has IPv6) is answered
wildcard_serves() {
	local port
	start_server -L "$1" "$H/echo-line"
	[[ "$ADDR" == "[::]:"* || "$ADDR" == "0.0.0.0:"* ]]
	port=${ADDR##*:}
	[ "$port" -gt 0 ]
	run client "127.0.0.1:$port" --send 'four\n'
	[ "$output" = four ]
	if [[ "$ADDR" == "[::]:"* ]]; then
		run client "[::1]:$port" --send 'six\n'
		[ "$output" = six ]
	fi
}

@test "-L 0 (a port alone) listens on every address, IPv4 and IPv6" {
	wildcard_serves 0
}

@test "-L :0 listens on every address" {
	wildcard_serves :0
}

@test "-L '*:0' listens on every address" {
	wildcard_serves '*:0'
}

@test "-L unix:PATH listens on a unix socket and -1 prints unix:PATH" {
	local path=$BATS_TEST_TMPDIR/s
	start_server -L "unix:$path" "$H/echo-line"
	[ "$ADDR" = "unix:$path" ]
	[ -S "$path" ]
	run client "$ADDR" --send 'over unix\n'
	[ "$status" -eq 0 ]
	[ "$output" = "over unix" ]
}

@test "-L with an absolute path listens on a unix socket" {
	local path=$BATS_TEST_TMPDIR/abs.sock
	start_server -L "$path" "$H/echo-line"
	[ "$ADDR" = "unix:$path" ]
	[ -S "$path" ]
	run client "$ADDR" --send 'absolute\n'
	[ "$status" -eq 0 ]
	[ "$output" = absolute ]
}

@test "several -L are all served and -1 prints them in command-line order" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b i
	start_server -L "unix:$a" -L 127.0.0.1:0 -L "$b" -L 127.0.0.1:0 \
		"$H/echo-line"
	[ "${#ADDRS[@]}" -eq 4 ]
	[ "${ADDRS[0]}" = "unix:$a" ]
	[[ ${ADDRS[1]} =~ ^127\.0\.0\.1:[0-9]+$ ]]
	[ "${ADDRS[2]}" = "unix:$b" ]
	[[ ${ADDRS[3]} =~ ^127\.0\.0\.1:[0-9]+$ ]]
	[ "${ADDRS[1]}" != "${ADDRS[3]}" ]
	for i in 3 2 1 0; do
		run client "${ADDRS[$i]}" --send "to $i\\n"
		[ "$status" -eq 0 ]
		[ "$output" = "to $i" ]
	done
}

# --- the handler's environment ------------------------------------------------

@test "a TCP handler gets PROTO=TCP, TCPLOCAL*, TCPREMOTE*, REMOTE_ADDR and REMOTE_PORT" {
	start_server -L 127.0.0.1:0 "$H/env-dump"
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[[ $(var TCPREMOTEPORT) =~ ^[0-9]+$ ]]
	[ "$(var TCPREMOTEPORT)" -gt 0 ]
	[ "$(var TCPREMOTEPORT)" != "${ADDR##*:}" ]
	[ "$(var REMOTE_ADDR)" = 127.0.0.1 ]
	[ "$(var REMOTE_PORT)" = "$(var TCPREMOTEPORT)" ]
	[ -z "$(var UNIXLOCALPATH)" ]
}

@test "an IPv6 handler gets its addresses without brackets" {
	have_ipv6 || skip "no IPv6 loopback"
	start_server -L '[::1]:0' "$H/env-dump"
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPLOCALIP)" = ::1 ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	[ "$(var TCPREMOTEIP)" = ::1 ]
	[ "$(var REMOTE_ADDR)" = ::1 ]
	[[ $(var TCPREMOTEPORT) =~ ^[0-9]+$ ]]
	[ "$(var REMOTE_PORT)" = "$(var TCPREMOTEPORT)" ]
}

@test "a unix-socket handler gets PROTO=UNIX, UNIXLOCALPATH and the peer's credentials" {
	local path=$BATS_TEST_TMPDIR/cred.sock out=$BATS_TEST_TMPDIR/out
	start_server -L "unix:$path" "$H/env-dump"
	# python3 itself, not a shell function, so that BG_PID is the client
	bg python3 "$SRC/t/client.py" "$ADDR" >"$out"
	local client_pid=$BG_PID
	wait_status "$client_pid"
	[ "$STATUS" -eq 0 ]
	output=$(cat "$out")
	[ "$(var PROTO)" = UNIX ]
	[ "$(var UNIXLOCALPATH)" = "$path" ]
	[ "$(var UNIXREMOTEEUID)" = "$(id -u)" ]
	[ "$(var UNIXREMOTEEGID)" = "$(id -g)" ]
	[[ $(var UNIXREMOTEPID) =~ ^[0-9]+$ ]]
	[ "$(var UNIXREMOTEPID)" -gt 0 ]
	[ "$(var UNIXREMOTEPID)" != "$SERVER_PID" ]
	[ "$(var UNIXREMOTEPID)" = "$client_pid" ]
	[ -z "$(var TCPREMOTEIP)" ]
	[ -z "$(var REMOTE_ADDR)" ]
}

@test "handlers get only fds 0-2, default signal dispositions and an empty mask" {
	# Start the server with an extra inheritable descriptor, ignored
	# signals (SIGPIPE, SIGUSR2) and blocked ones (SIGUSR1, SIGWINCH): the
	# handler must inherit none of that.
	local w=$BATS_TEST_TMPDIR/ss-dirty
	cat >"$w" <<-'EOF'
		#!/usr/bin/env python3
		import os, signal, sys
		signal.signal(signal.SIGPIPE, signal.SIG_IGN)
		signal.signal(signal.SIGUSR2, signal.SIG_IGN)
		signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGWINCH})
		os.dup2(os.open("/dev/null", os.O_RDONLY), 7)
		ss = os.environ["REAL_SS"]
		os.execv(ss, [ss] + sys.argv[1:])
	EOF
	chmod +x "$w"
	[ -x "$BUILD/t/inspect" ] || {
		echo "t/inspect is not built: make t/inspect" >&2
		return 1
	}
	export REAL_SS=$SS
	SS=$w start_server -L 127.0.0.1:0 "$BUILD/t/inspect"
	# the server itself does hold fd 7, so the handler's list is a real check
	[ -e "/proc/$SERVER_PID/fd/7" ]
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fds: 0 1 2" ]
	[ "${lines[1]}" = "not default:" ]
	[ "${lines[2]}" = "blocked:" ]
}

@test "handlers see no LISTEN_* or NOTIFY_SOCKET even when the server has them" {
	export LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=web LISTEN_PIDFDID=42
	export NOTIFY_SOCKET=$BATS_TEST_TMPDIR/no-such-notify-socket
	start_server -L 127.0.0.1:0 "$H/env-dump"
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = TCP ]	# the handler did run
	run grep -cE '^(LISTEN_|NOTIFY_SOCKET)' <<<"$output"
	[ "$output" = 0 ]
}

# --- unix socket files --------------------------------------------------------

@test "a stale unix socket file left by a killed server is replaced" {
	local path=$BATS_TEST_TMPDIR/stale.sock
	start_server -L "unix:$path" "$H/echo-line"
	kill -KILL "$SERVER_PID"
	wait_status "$SERVER_PID"
	[ -S "$path" ]	# left behind: nobody listens on it now
	start_server -L "unix:$path" "$H/echo-line"
	[ "$ADDR" = "unix:$path" ]
	run client "$ADDR" --send 'fresh\n'
	[ "$status" -eq 0 ]
	[ "$output" = fresh ]
}

@test "a unix socket another server listens on is not taken over: exit 111" {
	local path=$BATS_TEST_TMPDIR/live.sock
	start_server -L "unix:$path" "$H/echo-line"
	run timeout 10 "$SS" -d -L "unix:$path" "$H/echo-line" </dev/null
	[ "$status" -eq 111 ]
	[[ $output == *"$path"* ]]
	run client "$ADDR" --send 'still mine\n'
	[ "$output" = "still mine" ]
}

@test "a regular file at the unix socket path is not removed: exit 100, not a socket" {
	local path=$BATS_TEST_TMPDIR/regular
	echo keep >"$path"
	run timeout 10 "$SS" -d -L "unix:$path" "$H/echo-line" </dev/null
	[ "$status" -eq 100 ]
	[[ $output == *"$path exists and is not a socket"* ]]
	[ -f "$path" ]
	[ "$(cat "$path")" = keep ]
}

@test "unix_socket_mode sets the mode of the socket file" {
	local path=$BATS_TEST_TMPDIR/mode.sock
	start_server -o unix_socket_mode=0640 -L "unix:$path" "$H/echo-line"
	[ "$(stat -c %a "$path")" = 640 ]
	kill -KILL "$SERVER_PID"
	wait_status "$SERVER_PID"
	start_server -o unix_socket_mode=0602 -L "unix:$path" "$H/echo-line"
	[ "$(stat -c %a "$path")" = 602 ]
}

@test "unix_socket_mode: the file is made with its mode, never changed by path afterwards" {
	command -v strace >/dev/null || skip "no strace"
	local path=$BATS_TEST_TMPDIR/nochmod.sock
	# a chmod() by path after bind() could hit a file swapped in meanwhile
	# (under ASan, LeakSanitizer cannot run in a traced process: off here)
	no_leak_check
	SS_WRAP="strace -f -qq -e trace=chmod,fchmodat,umask -o $BATS_TEST_TMPDIR/trace" \
		start_server -o unix_socket_mode=0640 -L "unix:$path" "$H/echo-line"
	# SERVER_PID is strace's: killed, it would leave the server running
	local server
	server=$(pgrep -P "$SERVER_PID")
	[ -n "$server" ]
	BG_PIDS+=("$server")
	[ "$(stat -c %a "$path")" = 640 ]
	cat "$BATS_TEST_TMPDIR/trace"
	! grep -E 'chmod' "$BATS_TEST_TMPDIR/trace" || false
	grep -q 'umask(0137)' "$BATS_TEST_TMPDIR/trace"
	run client "$ADDR" --send 'moded\n'
	[ "$output" = moded ]
}

@test "a stale unix socket file is replaced only under the directory's lock" {
	local dir=$BATS_TEST_TMPDIR/locked path=$BATS_TEST_TMPDIR/locked/s.sock
	mkdir "$dir"
	start_server -L "unix:$path" "$H/echo-line"
	kill -KILL "$SERVER_PID"
	wait_status "$SERVER_PID"
	local inode
	inode=$(stat -c %i "$path")
	# another server is binding there: it holds the lock for a moment
	bg python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
' "$dir" "$BATS_TEST_TMPDIR/held" "$BATS_TEST_TMPDIR/release"
	wait_for_file "$BATS_TEST_TMPDIR/held"
	LOG=$BATS_TEST_TMPDIR/server.log
	local fifo=$BATS_TEST_TMPDIR/addr.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 4<>"$fifo"	# read-write: opening it does not wait for the writer
	bg "$SS" -d -1 -V -L "unix:$path" "$H/echo-line" >"$fifo" 2>"$LOG" </dev/null
	SERVER_PID=$BG_PID
	wait_for_log "is locked by another server binding there -- waiting"
	# waiting: the stale file is still there, not yet unlinked
	[ "$(stat -c %i "$path")" = "$inode" ]
	touch "$BATS_TEST_TMPDIR/release"
	read -r -t 10 ADDR <&4
	exec 4<&-
	[ "$ADDR" = "unix:$path" ]
	run client "$ADDR" --send 'after the lock\n'
	[ "$output" = "after the lock" ]
}

# --- starting ------------------------------------------------------------------

@test "without -d a terminal on stdin is refused: do not run this command by hand" {
	command -v script >/dev/null || skip "no script(1)"
	run timeout 10 script -qec "$SS -L 127.0.0.1:0 $H/echo-line" /dev/null \
		</dev/null
	[ "$status" -eq 100 ]
	[[ $output == *"do not run this command by hand"* ]]
}

@test "with -d a terminal on stdin is accepted" {
	command -v script >/dev/null || skip "no script(1)"
	run timeout 10 script -qec "python3 $SRC/t/held.py -- $SS -d -i 1 $H/echo-line" \
		/dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ $output != *"do not run this command by hand"* ]]
}

@test "no listening socket and no -S is a usage error: exit 100" {
	run timeout 10 env -u LISTEN_FDS -u LISTEN_PID "$SS" -d "$H/echo-line" </dev/null
	[ "$status" -eq 100 ]
	[[ $output == *"no listening socket"* ]]
	[[ $output == *"-L"* ]]
}

# --- handlers and clients -----------------------------------------------------

@test "the bundled example handler examples/hello greets the client" {
	start_server -L 127.0.0.1:0 "$SRC/examples/hello"
	run client "$ADDR" --send 'hi there\n'
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "hello 127.0.0.1, this is "* ]]
	[ "${lines[1]}" = "you said: hi there" ]
}

@test "a handler killed by a signal is logged as killed by signal 11 and the next client is served" {
	start_server -L 127.0.0.1:0 sh -c \
		'ulimit -c 0; IFS= read -r l; [ "$l" = crash ] && kill -SEGV $$; echo "$l"'
	run client "$ADDR" --send 'crash\n'
	[ "$output" = "" ]
	wait_for_log "killed by signal 11"
	run client "$ADDR" --send 'after crash\n'
	[ "$status" -eq 0 ]
	[ "$output" = "after crash" ]
	kill -0 "$SERVER_PID"
}

@test "a handler's exit status 3 is logged and the server goes on" {
	start_server -L 127.0.0.1:0 sh -c 'IFS= read -r l; echo "$l"; exit 3'
	run client "$ADDR" --send 'one\n'
	[ "$output" = one ]
	wait_for_log "exit status 3"
	run client "$ADDR" --send 'two\n'
	[ "$status" -eq 0 ]
	[ "$output" = two ]
	kill -0 "$SERVER_PID"
}

@test "clients that reset at once disturb nothing: the next client is served" {
	local i
	start_server -L 127.0.0.1:0 "$H/echo-line"
	for i in 1 2 3 4 5; do
		run client "$ADDR" --reset
		[ "$status" -eq 0 ]
	done
	run client "$ADDR" --send 'after resets\n'
	[ "$status" -eq 0 ]
	[ "$output" = "after resets" ]
	kill -0 "$SERVER_PID"
	run grep -cE 'fatal:|error:' "$LOG"
	[ "$output" = 0 ]
}

@test "a unix socket path with a live server whose queue is full: exit 111 at once, no hang" {
	local path=$BATS_TEST_TMPDIR/busy.sock
	# A live server that never accepts, its backlog filled.
	bg python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(0)
held = []
for i in range(8):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.setblocking(False)
    try: c.connect(sys.argv[1])
    except OSError: pass
    held.append(c)
open(sys.argv[1] + ".full", "w").close()
time.sleep(30)
' "$path"
	wait_for_file "$path.full"
	run --separate-stderr timeout 5 "$SS" -d -L "unix:$path" -- cat </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"$path"*"in use"* ]]
	[ -S "$path" ]
}

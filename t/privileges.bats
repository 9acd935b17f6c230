#!/usr/bin/env bats
# -u (run as $user), -c (chroot to $chroot_directory), -D ($debugger_command)
bats_require_minimum_version 1.5.0

load helper

@test "-u runs the handler as \$user with that user's groups" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	run "$SS" -S -u -o user=nobody -- id </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == "uid=$(id -u nobody)(nobody) gid=$(id -g nobody)"* ]]
	[[ "$output" != *"(root)"* ]]
}

@test "-u with user:group uses that group alone" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	run "$SS" -S -u -o user=nobody:daemon -- id </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = "uid=$(id -u nobody)(nobody) gid=$(getent group daemon | cut -d: -f3)(daemon) groups=$(getent group daemon | cut -d: -f3)(daemon)" ]
}

@test "-u: resident handlers run as \$user, listeners were bound before the drop" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	start_server -u -o user=nobody -L 127.0.0.1:0 -- id -un
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$output" = nobody ]
}

# trace_as_nobody PID: PTRACE_SEIZE on PID as nobody (it would not stop
# PID; the attach ends with this process): "attached", or the error
trace_as_nobody() {
	# (a PATH of our own: a python in a home of root's is out of reach)
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PATH=/usr/local/bin:/usr/bin:/bin python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE = 0x4206
if libc.ptrace(PTRACE_SEIZE, int(sys.argv[1]), None, None) == 0:
    print("attached")
else:
    print(os.strerror(ctypes.get_errno()))' "$1"
}

# untraceable PID: nobody may not ptrace PID, and PID's /proc files are
# root's (what a non-dumpable process shows)
untraceable() {
	run trace_as_nobody "$1"
	echo "ptrace as nobody: $output"
	[ "$output" = "Operation not permitted" ]
	[ "$(stat -c %U "/proc/$1/environ")" = root ]
}

@test "-u: \$user cannot ptrace the server, before and after SIGHUP and after a max_use re-execution" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "no setpriv"
	# a re-execution runs the program again as nobody
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$SS" ||
		skip "nobody cannot run $SS"
	start_server -v -u -o user=nobody -m 2 -L 127.0.0.1:0 -- "$H/echo-line"
	[ "$(ps -o user= -p "$SERVER_PID")" = nobody ]	# the server itself drops
	untraceable "$SERVER_PID"
	kill -HUP "$SERVER_PID"
	wait_log_count ': ready: ' 2
	untraceable "$SERVER_PID"
	run client "$ADDR" --send 'one\n'
	run client "$ADDR" --send 'two\n'	# max_use 2: re-execute
	[ "$output" = two ]
	wait_log_count ': ready: ' 3
	grep -qF 'use limit reached -- re-executing' "$LOG"
	untraceable "$SERVER_PID"
	run client "$ADDR" --send 'three\n'
	[ "$output" = three ]
}

# The window of a re-execution: execve() of a program its caller (the
# server, as nobody) can read leaves the new image dumpable until it says
# otherwise. t/shim-slowstart.c makes that time (dynamic loader, C library
# start) last SHIM_SLOW_MS in every re-executed image, so that a process
# of the same user trying PTRACE_SEIZE all along would get in for sure.
SLOW=$BUILD/t/.libs/shim-slowstart.so

teardown() {
	cleanup_bg
	[ -z "${PRIV_DIR:-}" ] || rm -rf "$PRIV_DIR"
}

# private_copy MODE: a copy of $SS with that mode in PRIV_DIR (traversable
# by nobody, removed in teardown), with the shim (PSLOW), the handler
# (ECHO) and a file for the shim's marks (MARK) that nobody may use even
# when the build tree is out of its reach; sets PROG
private_copy() {
	PRIV_DIR=$(mktemp -d /tmp/ss-priv.XXXXXX)
	chmod 0711 "$PRIV_DIR"
	PROG=$PRIV_DIR/single-server
	cp "$SS" "$PROG"
	chmod "$1" "$PROG"
	PSLOW=$PRIV_DIR/shim-slowstart.so
	ECHO=$PRIV_DIR/echo-line
	MARK=$PRIV_DIR/marks
	[ ! -f "$SLOW" ] || cp "$SLOW" "$PSLOW"
	cp "$H/echo-line" "$ECHO"
	: >"$MARK"
	chmod 0755 "$ECHO" "$PSLOW" 2>/dev/null || true
	chmod 0666 "$MARK"
}

# slowed_start ARGS...: start_server with every re-executed image slowed
# down by the shim (copied by private_copy) and marking $MARK
slowed_start() {
	[ -f "$PSLOW" ] || {
		echo "$SLOW is not built: make check builds it" >&2
		return 1
	}
	SS_WRAP="env LD_PRELOAD=$PSLOW SHIM_SLOW_MS=50 SHIM_MARK=$MARK" \
		start_server "$@"
}

# spin_trace PID: in the background (BG_PID), as nobody, PTRACE_SEIZE on
# PID again and again (60 s at most) until one works: then "attached" in
# $SPIN_OUT and the end of the spinner, which ends the attach (SEIZE
# never stops PID). Returns once it spins.
spin_trace() {
	SPIN_OUT=$BATS_TEST_TMPDIR/spin.out
	bg setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PATH=/usr/local/bin:/usr/bin:/bin python3 -c '
import ctypes, sys, time
seize, pid = ctypes.CDLL(None).ptrace, int(sys.argv[1])
end, tries = time.monotonic() + 60, 0
print("spinning", flush=True)
while time.monotonic() < end:
    for _ in range(100):
        tries += 1
        if seize(0x4206, pid, None, None) == 0:
            print("attached after", tries, "tries", flush=True)
            sys.exit(0)
    time.sleep(0.001)   # a 50 ms window is still tried in often
' "$1" >"$SPIN_OUT"
	wait_for_file "$SPIN_OUT"
	local i
	for ((i = 0; i < 200; i++)); do
		[ -s "$SPIN_OUT" ] && return 0
		sleep 0.05
	done
	return 1
}

# reexec_untraced PROGRAM: 20 max_use re-executions of a -u server run
# from PROGRAM (in PRIV_DIR), each slowed by the shim, while nobody spins
# on ptrace: never attached, every client served, the shim ran each time
reexec_untraced() {
	local n
	SS=$1 slowed_start -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$ECHO"
	spin_trace "$SERVER_PID"
	for ((n = 1; n <= 20; n++)); do
		run client "$ADDR" --send "x$n\n"
		[ "$output" = "x$n" ]
		wait_log_count ': ready: ' $((n + 1))
		stat -L -c %i "/proc/$SERVER_PID/exe" >>"$BATS_TEST_TMPDIR/exe"
	done
	cat "$SPIN_OUT"
	! grep -q attached "$SPIN_OUT" || false
	kill -0 "$BG_PID"	# still spinning: it did try all along
	[ "$(ps -o comm= -p "$SERVER_PID")" = single-server ]
	[ "$(grep -c slowed "$MARK")" -eq 20 ]	# each window was made wide
}

# need_nobody_trace: root, and a kernel where a process may ptrace another
# of its user that is not its child (else "never attached" proves nothing)
need_nobody_trace() {
	local scope=/proc/sys/kernel/yama/ptrace_scope
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "no setpriv"
	[ ! -e "$scope" ] || [ "$(cat "$scope")" = 0 ] ||
		skip "kernel.yama.ptrace_scope is $(cat "$scope"): nobody could not ptrace the server anyway"
}

@test "-u: no re-execution can be ptraced by \$user from its exec on, with the program readable by \$user" {
	need_nobody_trace
	private_copy 0755
	reexec_untraced "$PROG"
	# it ran from a copy nobody can read, and said nothing about it
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == /memfd:single-server* ]]
	! grep -q 'cannot run a copy' "$LOG" || false
	# one copy, made at the first re-execution, ran again each time since
	[ "$(sort -u "$BATS_TEST_TMPDIR/exe" | wc -l)" -eq 1 ]
}

@test "-u: no re-execution can be ptraced by \$user from its exec on, with the program installed mode 0711" {
	need_nobody_trace
	private_copy 0711
	reexec_untraced "$PROG"
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$PROG" ]	# no copy needed
	! grep -q 'cannot run a copy' "$LOG" || false
}

@test "-u: a program that cannot run from a copy (a script) re-executes from its path, with one warning naming the fix" {
	need_nobody_trace
	private_copy 0755
	# a wrapper that keeps its own path as argv[0]: what re-executes
	printf '#!/bin/bash\nexec -a "$0" %q "$@"\n' "$PROG" >"$PRIV_DIR/wrapper"
	chmod 0755 "$PRIV_DIR/wrapper"
	local n
	SS=$PRIV_DIR/wrapper slowed_start -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$ECHO"
	spin_trace "$SERVER_PID"
	for n in 1 2 3; do
		run client "$ADDR" --send "x$n\n"
		[ "$output" = "x$n" ]
		wait_log_count ': ready: ' $((n + 1))
	done
	# The control: each new image is dumpable while it starts, and the
	# spinner gets in. Were it kept out anyway, "never attached" in the
	# tests above would prove nothing.
	cat "$SPIN_OUT"
	grep -q attached "$SPIN_OUT"
	[ "$(grep -c slowed "$MARK")" -ge 3 ]
	grep -F "warning: re-execute: cannot run a copy of $PRIV_DIR/wrapper that the user we run as cannot read (not an ELF program of this machine)" "$LOG"
	grep -qF 'install the program mode 0711' "$LOG"
	[ "$(grep -c 'cannot run a copy' "$LOG")" -eq 1 ]	# once, not per re-execution
}

@test "-u: the program written over in place while the server runs from a copy is copied again at the next re-execution" {
	need_nobody_trace
	private_copy 0755
	local n ino
	SS=$PROG start_server -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$H/echo-line"
	for ((n = 1; n <= 2; n++)); do
		run client "$ADDR" --send "x$n\n"
		wait_log_count ': ready: ' $((n + 1))
	done
	ino=$(stat -L -c %i "/proc/$SERVER_PID/exe")
	# not "text busy": what runs is a copy; an upgrade by cp (in place)
	cat "$SS" >"$PROG"
	run client "$ADDR" --send 'x3\n'
	[ "$output" = x3 ]
	wait_log_count ': ready: ' 4
	grep -qF 'use limit reached -- checking' "$LOG"
	[ "$(stat -L -c %i "/proc/$SERVER_PID/exe")" != "$ino" ]
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == /memfd:single-server* ]]
	run client "$ADDR" --send 'x4\n'
	[ "$output" = x4 ]
}

@test "-u: started by a name that is neither a path nor on PATH (exec -a), the server re-executes its program again and again" {
	need_nobody_trace
	private_copy 0755
	# what `exec -a mysvc` or systemd's ExecStart=@PROGRAM mysvc do
	printf '#!/bin/bash\nexec -a mysvc %q "$@"\n' "$PROG" >"$PRIV_DIR/as-mysvc"
	chmod 0755 "$PRIV_DIR/as-mysvc"
	local n
	SS=$PRIV_DIR/as-mysvc start_server -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$H/echo-line"
	for ((n = 1; n <= 4; n++)); do
		run client "$ADDR" --send "x$n\n"
		[ "$output" = "x$n" ]
		wait_log_count ': ready: ' $((n + 1))
	done
	grep -F "re-executing $PROG:" "$LOG"
	! grep -E 'warning|cannot execute' "$LOG" || false
	[ "$(ps -o comm= -p "$SERVER_PID")" = single-server ]
	kill -0 "$SERVER_PID"
}

@test "-u refuses root as \$user with exit 100" {
	run --separate-stderr "$SS" -S -u -o user=root -- true </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"parameter user"*"root"* ]]
}

@test "-u with an unknown user exits 100 naming it" {
	run --separate-stderr "$SS" -S -u -o user=no-such-user-here -- true </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *'unknown user "no-such-user-here"'* ]]
}

@test "-c chroots to \$chroot_directory before the handler is resolved" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local root=$BATS_TEST_TMPDIR/root
	no_leak_check
	mkdir -p "$root/bin"
	# A handler that exists only inside the chroot: a copy of the static-free
	# shell is not possible without its libraries, so check resolution:
	# /bin/sh outside exists, inside it does not -> resident mode exits 100.
	run --separate-stderr "$SS" -d -c -o chroot_directory="$root" -L 127.0.0.1:0 -- /bin/sh </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"handler /bin/sh: not found"* ]]
}

@test "-c with a missing chroot directory is a system failure (111)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	run --separate-stderr "$SS" -S -c -o chroot_directory=/nonexistent/dir -- true </dev/null
	[ "$status" -eq 111 ]
	[[ "$stderr" == *"chroot /nonexistent/dir"* ]]
}

@test "-D runs \$debugger_command with \$process_id expanded, then serves" {
	local out=$BATS_TEST_TMPDIR/dbg
	run --separate-stderr "$SS" -S -D -o "debugger_command=echo \$process_id \$process_name >$out" -- echo served </dev/null
	[ "$status" -eq 0 ]
	[ "$output" = served ]
	read -r pid name <"$out"
	[ "$name" = echo ]
	[ "$pid" -gt 1 ]
}

@test "-u: a handler that \$user may not execute is refused at start (exit 100)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	cp "$H/echo-line" "$BATS_TEST_TMPDIR/private"
	chmod 700 "$BATS_TEST_TMPDIR/private"
	chmod 755 "$BATS_TEST_TMPDIR"
	run --separate-stderr "$SS" -d -u -o user=nobody -L 127.0.0.1:0 -- "$BATS_TEST_TMPDIR/private" </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"private: not executable"* ]]
	run --separate-stderr "$SS" -S -u -o user=nobody -- "$BATS_TEST_TMPDIR/private" </dev/null
	[ "$status" -eq 126 ]
}

# chroot_with_handler: a directory with nothing but a static handler in it
# (and no leak check at exit under ASan: see no_leak_check)
chroot_with_handler() {
	ROOT=$BATS_TEST_TMPDIR/root
	no_leak_check
	mkdir -p "$ROOT/bin"
	cp "$BUILD/t/static-echo" "$ROOT/bin/"
}

@test "-c: stream mode in a chroot without /dev passes the handler's status on" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	chroot_with_handler
	run --separate-stderr sh -c "echo hi | '$SS' -S -c -o chroot_directory='$ROOT' -- /bin/static-echo 3"
	[ "$status" -eq 3 ]
	[ "$output" = "static: hi" ]
}

@test "-c with -1: resident mode in a chroot without /dev prints its address and serves" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	chroot_with_handler
	start_server -c -o chroot_directory="$ROOT" -L 127.0.0.1:0 -- /bin/static-echo
	run client "$ADDR" --send 'in jail\n'
	[ "$status" -eq 0 ]
	[ "$output" = "static: in jail" ]
}

@test "-c: the watchdog's last words reach syslog from inside the chroot" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	syslog_start
	chroot_with_handler
	# no -V: stderr is off once serving, syslog is the only witness
	start_server_syslog -c -o chroot_directory="$ROOT" -o daemon_timeout=1 \
		-L 127.0.0.1:0 -- /bin/static-echo
	# A stopped process cannot pat its watchdog; the alarm is delivered
	# as soon as it runs again.
	kill -STOP "$SERVER_PID"
	sleep 1.5	# the timeout itself is what is measured
	kill -CONT "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	[ "$STATUS" -eq 111 ]
	wait_for_syslog "fatal: watchdog timeout -- exiting"
}

@test "-c: READY=1 reaches a NOTIFY_SOCKET outside the chroot" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	chroot_with_handler
	notify_listen "$BATS_TEST_TMPDIR/notify" "$BATS_TEST_TMPDIR/notify.out"
	NOTIFY_SOCKET=$BATS_TEST_TMPDIR/notify start_server -c -o chroot_directory="$ROOT" \
		-L 127.0.0.1:0 -- /bin/static-echo
	wait_for_file "$BATS_TEST_TMPDIR/notify.out"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qx 'READY=1' "$BATS_TEST_TMPDIR/notify.out" && break
		sleep 0.05
	done
	grep -qx 'READY=1' "$BATS_TEST_TMPDIR/notify.out"
	# the one warning: with -c, -L sockets are not re-executed for
	! grep warning "$LOG" | grep -v "in a chroot the program is out of reach" || false
}

@test "-c: log times keep the local time zone (TZ) inside the chroot, stream and resident mode" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -f /usr/share/zoneinfo/Asia/Kolkata ] || skip "no Asia/Kolkata zone file"
	chroot_with_handler
	local err=$BATS_TEST_TMPDIR/err
	# the zone file is not in the chroot: read before it, or lines say UTC
	echo hi | TZ=Asia/Kolkata "$SS" -S -v -V -c -o chroot_directory="$ROOT" \
		-- /bin/static-echo 2>"$err"
	cat "$err"
	grep -q 'exit status 0' "$err"
	! grep -v '^[0-9-]*T[0-9:.]*+05:30 ' "$err" || false
	TZ=Asia/Kolkata start_server -v -c -o chroot_directory="$ROOT" \
		-L 127.0.0.1:0 -- /bin/static-echo
	run client "$ADDR" --send 'x\n'
	[ "$output" = "static: x" ]
	kill -USR1 "$SERVER_PID"
	wait_log_count ': status: ' 1
	grep -E 'this image started [0-9-]+T[0-9:]+\+05:30' "$LOG"
	! grep -v '^[0-9-]*T[0-9:.]*+05:30 ' "$LOG" || false
}

# reexec_served N: N clients, each followed by a max_use re-execution.
# The image serving now logs its ready: line after -1 printed the
# addresses (start_server's signal): wait for it before counting.
reexec_served() {
	local n ready
	wait_log_count ': ready: ' 1
	ready=$(grep -c ': ready: ' "$LOG")
	for ((n = 1; n <= $1; n++)); do
		run client "$ADDR" --send "y$n\n"
		[ "$output" = "y$n" ]
		wait_log_count ': ready: ' $((ready + n))
	done
}

@test "-u: memfd_create() refused (vm.memfd_noexec=2): one warning naming the sysctl, re-executions from the program file, no descriptor lost" {
	need_nobody_trace
	command -v strace >/dev/null || skip "no strace"
	no_leak_check	# the server exits traced: no LeakSanitizer there
	private_copy 0755
	local trace=$BATS_TEST_TMPDIR/trace fds
	SS=$PROG start_server -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$ECHO"
	bg strace -qq -o "$trace" -e trace=memfd_create \
		-e inject=memfd_create:error=EACCES -p "$SERVER_PID"
	traced_by "$SERVER_PID" "$BG_PID"
	# counted after a first re-execution: a build without close_range()
	# makes what the first image inherited close-on-exec (gone after it)
	reexec_served 1
	fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
	reexec_served 2
	grep -q 'EACCES (Permission denied) (INJECTED)' "$trace"
	grep -F "cannot run a copy of $PROG that the user we run as cannot read (memfd_create: Permission denied; see sysctl vm.memfd_noexec)" "$LOG"
	[ "$(grep -c 'cannot run a copy' "$LOG")" -eq 1 ]
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$PROG" ]
	[ "$(ls "/proc/$SERVER_PID/fd" | wc -l)" -eq "$fds" ]
	! grep -E 'fatal|panic' "$LOG" || false
}

@test "-u: running the copy fails after the first re-execution: the program file is run instead, with a warning" {
	need_nobody_trace
	command -v strace >/dev/null || skip "no strace"
	no_leak_check	# the server exits traced: no LeakSanitizer there
	private_copy 0755
	local trace=$BATS_TEST_TMPDIR/trace
	SS=$PROG start_server -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$ECHO"
	reexec_served 2		# from a copy, then from the same copy again
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == /memfd:* ]]
	# glibc's fexecve() is execveat(fd, "", AT_EMPTY_PATH)
	bg strace -qq -o "$trace" -e trace=execveat \
		-e inject=execveat:error=EACCES:when=1 -p "$SERVER_PID"
	traced_by "$SERVER_PID" "$BG_PID"
	reexec_served 2
	grep -q 'EACCES (Permission denied) (INJECTED)' "$trace"
	grep -F "cannot run a copy of $PROG that the user we run as cannot read (running it: Permission denied)" "$LOG"
	[ "$(grep -c 'cannot run a copy' "$LOG")" -eq 1 ]
	! grep -E 'fatal|panic' "$LOG" || false
}

@test "-u: a program with a 255-byte name still re-executes from a copy (its name shortened)" {
	need_nobody_trace
	private_copy 0755
	local long
	long=$PRIV_DIR/$(printf 's%.0s' {1..255})
	mv "$PROG" "$long"
	SS=$long start_server -v -u -o user=nobody -m 1 -L 127.0.0.1:0 -- "$ECHO"
	reexec_served 2
	[[ "$(readlink "/proc/$SERVER_PID/exe")" == /memfd:sss* ]]
	! grep -q 'cannot run a copy' "$LOG" || false
}

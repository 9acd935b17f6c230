#!/usr/bin/env bats
# stream.bats - stream mode (-S): the client is already on stdin/stdout
# (a pipe, inetd nowait, systemd Accept=yes) or is the connected socket
# systemd passes as fd 3; the handler runs once and its status is ours.

bats_require_minimum_version 1.5.0

load helper

# show: what the last "run" gave, for the failure report
show() {
	echo "status: $status" >&2
	echo "stdout: $output" >&2
	echo "stderr: ${stderr:-}" >&2
}

# on_socket tcp|tcp6|unix [--term-at-eof] CMD...: run CMD with one
# accepted connection on its fds 0 and 1 (127.0.0.1 or ::1 port 0, or a
# unix socket in the test's directory). The client end sends "ping\n", half-closes, and reads
# to end-of-file. Prints "server=ADDRESS", "client=..." (TCP: its address;
# unix: its euid:egid:pid), what the client received, "running at eof:
# yes|no" (was CMD still running when the client saw end-of-file), and
# "status=N" (CMD's status, 128+N for signal N). --term-at-eof sends
# SIGTERM to CMD once the client has seen end-of-file.
on_socket() {
	python3 -c "$ON_SOCKET_PY" "$BATS_TEST_TMPDIR" "$@"
}

ON_SOCKET_PY=$(cat <<'EOF'
import os, signal, socket, subprocess, sys
tmp, kind, args = sys.argv[1], sys.argv[2], sys.argv[3:]
term = args[0] == "--term-at-eof"
if term:
    args = args[1:]
if kind == "tcp":
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
elif kind == "tcp6":
    lst = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    lst.bind(("::1", 0))
elif kind == "unix108":
    # a path of all 108 bytes of sun_path, no null byte (Python refuses
    # one that long: the system calls are made here directly)
    import ctypes
    os.chdir(tmp)
    path = "s" * 108
    libc = ctypes.CDLL(None, use_errno=True)
    sun = ctypes.create_string_buffer(2 + 108)
    sun[0:2] = socket.AF_UNIX.to_bytes(2, sys.byteorder)
    sun[2:110] = path.encode()
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if libc.bind(lst.fileno(), sun, 110) < 0:
        sys.exit("bind: %s" % os.strerror(ctypes.get_errno()))
else:
    path = os.path.join(tmp, "listen.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
lst.listen(1)
cli = socket.socket(lst.family, socket.SOCK_STREAM)
cli.settimeout(5)
if kind == "unix108":
    if libc.connect(cli.fileno(), sun, 110) < 0:
        sys.exit("connect: %s" % os.strerror(ctypes.get_errno()))
else:
    cli.connect(lst.getsockname())
conn, _ = lst.accept()
lst.close()
if kind == "tcp":
    print("server=%s:%d" % conn.getsockname())
    print("client=%s:%d" % cli.getsockname())
elif kind == "tcp6":
    print("server=[%s]:%d" % conn.getsockname()[:2])
    print("client=[%s]:%d" % cli.getsockname()[:2])
else:
    print("server=unix:%s" % path)
    print("client=%d:%d:%d" % (os.geteuid(), os.getegid(), os.getpid()))
sys.stdout.flush()
proc = subprocess.Popen(args, stdin=conn, stdout=conn)
conn.close()
data = b""
try:
    cli.sendall(b"ping\n")
    cli.shutdown(socket.SHUT_WR)
    while True:
        chunk = cli.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError as e:
    print("client: %s" % e)
running = proc.poll() is None
sys.stdout.write(data.decode(errors="replace"))
print("running at eof: %s" % ("yes" if running else "no"))
sys.stdout.flush()
if term and running:
    proc.send_signal(signal.SIGTERM)
try:
    status = proc.wait(timeout=10)
except subprocess.TimeoutExpired:
    proc.kill()
    status = proc.wait()
print("status=%d" % (status if status >= 0 else 128 - status))
EOF
)

# has_line TEXT: $output has a line that is exactly TEXT
has_line() {
	local l
	for l in "${lines[@]}"; do
		[ "$l" = "$1" ] && return 0
	done
	echo "no line \"$1\" in:" >&2
	printf '%s\n' "${lines[@]}" >&2
	return 1
}

# no_line_matching REGEX: $output has no line matching REGEX
no_line_matching() {
	local l
	for l in "${lines[@]}"; do
		if [[ "$l" =~ $1 ]]; then
			echo "unexpected line: $l" >&2
			return 1
		fi
	done
}

# need_socket_activate: skip without systemd-socket-activate
need_socket_activate() {
	command -v systemd-socket-activate >/dev/null ||
		skip "systemd-socket-activate is not installed"
}

# --- the client on stdin and stdout -------------------------------------

@test "the handler reads the client on stdin and writes it on stdout" {
	run --separate-stderr "$SS" -S -- cat <<<hello
	show
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	[ -z "$stderr" ]
}

@test "the handler's stderr is single-server's stderr" {
	run --separate-stderr "$SS" -S -- sh -c 'echo to-stderr >&2' </dev/null
	show
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$stderr" = to-stderr ]
}

@test "the exit status is the handler's" {
	run "$SS" -S -- sh -c 'exit 3' </dev/null
	show
	[ "$status" -eq 3 ]
}

@test "a handler killed by SIGKILL gives status 137 (128+9)" {
	run "$SS" -S -- sh -c 'kill -9 $$' </dev/null
	show
	[ "$status" -eq 137 ]
}

@test "a handler killed by SIGTERM gives status 143 (128+15)" {
	run "$SS" -S -- sh -c 'kill -TERM $$' </dev/null
	show
	[ "$status" -eq 143 ]
}

@test "a handler that is not found gives status 127 and a message" {
	run -127 --separate-stderr "$SS" -S -- no-such-handler-xyz </dev/null
	show
	[[ "$stderr" == *no-such-handler-xyz*"not found"* ]]
}

@test "a handler path that does not exist gives status 127" {
	run -127 --separate-stderr "$SS" -S -- "$BATS_TEST_TMPDIR/nowhere/handler" </dev/null
	show
	[[ "$stderr" == *"$BATS_TEST_TMPDIR/nowhere/handler"* ]]
}

@test "a handler without the execute bit gives status 126 and a message" {
	local f=$BATS_TEST_TMPDIR/not-executable
	printf '#!/bin/sh\necho ran\n' >"$f"
	chmod 644 "$f"
	run --separate-stderr "$SS" -S -- "$f" </dev/null
	show
	[ "$status" -eq 126 ]
	[ -z "$output" ]
	[[ "$stderr" == *not-executable* ]]
}

@test "a directory as the handler gives status 126" {
	run --separate-stderr "$SS" -S -- "$BATS_TEST_TMPDIR" </dev/null
	show
	[ "$status" -eq 126 ]
	[[ "$stderr" == *"$BATS_TEST_TMPDIR"* ]]
}

@test "the handler is found through PATH" {
	local dir=$BATS_TEST_TMPDIR/bin
	mkdir "$dir"
	printf '#!/bin/sh\necho "found $0"\n' >"$dir/my-handler"
	chmod 755 "$dir/my-handler"
	PATH=$dir:$PATH run "$SS" -S -- my-handler </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = "found $dir/my-handler" ]
}

@test "a handler found in PATH only without the execute bit gives 126" {
	local dir=$BATS_TEST_TMPDIR/bin
	mkdir "$dir"
	printf '#!/bin/sh\necho ran\n' >"$dir/my-handler"
	chmod 644 "$dir/my-handler"
	PATH=$dir:$PATH run "$SS" -S -- my-handler </dev/null
	show
	[ "$status" -eq 126 ]
	[[ "$output" != *ran* ]]
}

# --- environment ----------------------------------------------------------

@test "on a pipe the handler gets no PROTO, TCP* or UNIX* variables, not even the caller's" {
	run env PROTO=TCP TCPREMOTEIP=1.2.3.4 TCPREMOTEPORT=9 REMOTE_ADDR=1.2.3.4 \
		UNIXREMOTEPID=1 KEEP=me "$SS" -S -- env </dev/null
	show
	[ "$status" -eq 0 ]
	has_line KEEP=me
	no_line_matching '^(PROTO|TCP[A-Z]*|UNIX[A-Z]*|REMOTE_ADDR|REMOTE_PORT)='
}

@test "LISTEN_*, NOTIFY_SOCKET and GENERATION are removed from the handler's environment" {
	run env LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=x LISTEN_PIDFDID=7 \
		NOTIFY_SOCKET="$BATS_TEST_TMPDIR/notify" GENERATION=5 KEEP=me \
		"$SS" -S -- env </dev/null
	show
	[ "$status" -eq 0 ]
	has_line KEEP=me
	no_line_matching '^(LISTEN_[A-Z]*|NOTIFY_SOCKET|GENERATION)='
}

@test "on a TCP socket the handler gets PROTO=TCP and both addresses" {
	run env TCPREMOTEIP=1.2.3.4 UNIXREMOTEPID=1 \
		python3 -c "$ON_SOCKET_PY" "$BATS_TEST_TMPDIR" tcp "$SS" -S -- "$H/env-dump"
	show
	[ "$status" -eq 0 ]
	local server=${lines[0]#server=} client=${lines[1]#client=}
	has_line PROTO=TCP
	has_line "TCPLOCALIP=${server%:*}"
	has_line "TCPLOCALPORT=${server##*:}"
	has_line "TCPREMOTEIP=${client%:*}"
	has_line "TCPREMOTEPORT=${client##*:}"
	has_line "REMOTE_ADDR=${client%:*}"
	has_line "REMOTE_PORT=${client##*:}"
	no_line_matching '^TCPREMOTEIP=1\.2\.3\.4$'
	no_line_matching '^UNIX'
	has_line status=0
}

@test "on an IPv6 socket the addresses are written without brackets" {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback"
	run on_socket tcp6 "$SS" -S -- "$H/env-dump"
	show
	[ "$status" -eq 0 ]
	local server=${lines[0]#server=} client=${lines[1]#client=}
	has_line PROTO=TCP
	has_line TCPLOCALIP=::1
	has_line "TCPLOCALPORT=${server##*:}"
	has_line TCPREMOTEIP=::1
	has_line "TCPREMOTEPORT=${client##*:}"
	has_line REMOTE_ADDR=::1
	has_line status=0
}

@test "on a TCP socket the handler talks to the client through fds 0 and 1" {
	run on_socket tcp "$SS" -S -- "$H/echo-line"
	show
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = ping ]
	has_line status=0
}

@test "on a unix socket the handler gets PROTO=UNIX and the client's credentials" {
	run env TCPREMOTEIP=1.2.3.4 \
		python3 -c "$ON_SOCKET_PY" "$BATS_TEST_TMPDIR" unix "$SS" -S -- "$H/env-dump"
	show
	[ "$status" -eq 0 ]
	local server=${lines[0]#server=unix:} client=${lines[1]#client=}
	has_line PROTO=UNIX
	has_line "UNIXLOCALPATH=$server"
	has_line "UNIXREMOTEEUID=${client%%:*}"
	has_line "UNIXREMOTEEGID=$(cut -d: -f2 <<<"$client")"
	has_line "UNIXREMOTEPID=${client##*:}"
	no_line_matching '^(TCP|REMOTE_)'
	has_line status=0
}

@test "a unix socket path of all 108 bytes (no null byte) is UNIXLOCALPATH whole, and no more" {
	run python3 -c "$ON_SOCKET_PY" "$BATS_TEST_TMPDIR" unix108 "$SS" -S -- "$H/env-dump"
	show
	[ "$status" -eq 0 ]
	has_line PROTO=UNIX
	has_line "UNIXLOCALPATH=$(printf 's%.0s' {1..108})"
	has_line status=0
}

@test "the client sees end-of-file when the handler closes stdout, not when it exits" {
	run on_socket tcp --term-at-eof "$SS" -S -- \
		sh -c 'read -r line; echo bye; exec >&- <&-; exec sleep 10'
	show
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = bye ]
	has_line "running at eof: yes"
	has_line status=143
	no_line_matching '^client:'
}

# --- systemd Accept=yes -------------------------------------------------

@test "systemd Accept=yes: the connection passed as fd 3 with LISTEN_FDS=1 is the client" {
	need_socket_activate
	start_socket_activate -a -- "$SS" -S -- "$H/echo-line"
	run client "$ADDR" --send 'over fd 3\n'
	show
	[ "$status" -eq 0 ]
	[ "$output" = "over fd 3" ]
}

@test "systemd Accept=yes: with fd 3 the handler gets PROTO=TCP and no LISTEN_* variables" {
	need_socket_activate
	start_socket_activate -a -- "$SS" -S -- "$H/env-dump"
	run client "$ADDR"
	show
	[ "$status" -eq 0 ]
	has_line PROTO=TCP
	has_line TCPLOCALIP=127.0.0.1
	has_line "TCPLOCALPORT=${ADDR##*:}"
	has_line TCPREMOTEIP=127.0.0.1
	no_line_matching '^LISTEN_'
}

@test "systemd Accept=yes: with fd 3 the handler has only fds 0, 1 and 2" {
	need_socket_activate
	start_socket_activate -a -- "$SS" -S -- "$BUILD/t/inspect"
	run client "$ADDR"
	show
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fds: 0 1 2" ]
}

@test "systemd Accept=yes with --inetd: the client is on fds 0 and 1" {
	need_socket_activate
	start_socket_activate -a --inetd -- "$SS" -S -- "$H/env-dump"
	run client "$ADDR"
	show
	[ "$status" -eq 0 ]
	has_line PROTO=TCP
	has_line "TCPLOCALPORT=${ADDR##*:}"
	has_line TCPREMOTEIP=127.0.0.1
}

# --- what the handler inherits ------------------------------------------

@test "the handler has only fds 0, 1 and 2, default signals and an empty mask" {
	run "$SS" -S -- "$BUILD/t/inspect" </dev/null
	show
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fds: 0 1 2" ]
	[ "${lines[1]}" = "not default:" ]
	[ "${lines[2]}" = "blocked:" ]
}

@test "the handler gets default SIGPIPE, SIGHUP, SIGUSR1 and SIGQUIT even when the caller ignored them" {
	run bash -c 'trap "" PIPE HUP USR1 QUIT; exec "$@"' sh "$SS" -S -- "$BUILD/t/inspect" </dev/null
	show
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "not default:" ]
}

@test "the handler gets an empty signal mask even when the caller blocked signals" {
	run python3 -c '
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGHUP, signal.SIGALRM})
os.execv(sys.argv[1], sys.argv[1:])' "$SS" -S -- "$BUILD/t/inspect" </dev/null
	show
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = "blocked:" ]
}

@test "the handler does not inherit the caller's other open fds" {
	run "$SS" -S -- "$BUILD/t/inspect" </dev/null 5</dev/null 7>"$BATS_TEST_TMPDIR/seven"
	show
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fds: 0 1 2" ]
}

# no_close_range ERRNO: the handler's fds when close_range(2) fails with
# ERRNO (a seccomp filter; ENOSYS as before Linux 5.9): what was
# inherited is made close-on-exec at start instead, and the handler starts
no_close_range() {
	run python3 "$SRC/t/no-close-range.py" "$1" -- \
		"$SS" -S -- "$BUILD/t/inspect" </dev/null 5</dev/null 7>"$BATS_TEST_TMPDIR/seven"
	show
	[ "$status" -ne 77 ] || skip "seccomp filter for x86_64 only"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fds: 0 1 2" ]
}

@test "close_range refused by a seccomp filter (EPERM): the handler starts, without the caller's other fds" {
	no_close_range EPERM
}

@test "no close_range in the kernel (ENOSYS): the handler starts, without the caller's other fds" {
	no_close_range ENOSYS
}

# --- time limit and signals ---------------------------------------------

@test "command_time_limit: a handler still running gets SIGTERM (status 143)" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr "$SS" -S -V -o command_time_limit=1 -- sleep 10 </dev/null
	t1=$(now_ms)
	show
	echo "elapsed: $((t1 - t0)) ms" >&2
	[ "$status" -eq 143 ]
	[ $((t1 - t0)) -ge 900 ]
	[ $((t1 - t0)) -lt 3000 ]
	[[ "$stderr" == *"time limit"* ]]
}

@test "command_time_limit: a handler that ignores SIGTERM gets SIGKILL one second later (137)" {
	local t0 t1
	t0=$(now_ms)
	run --separate-stderr "$SS" -S -V -o command_time_limit=1 -- \
		sh -c 'trap "" TERM; exec sleep 10' </dev/null
	t1=$(now_ms)
	show
	echo "elapsed: $((t1 - t0)) ms" >&2
	[ "$status" -eq 137 ]
	[ $((t1 - t0)) -ge 1900 ]
	[ $((t1 - t0)) -lt 4000 ]
	[[ "$stderr" == *SIGKILL* ]]
}

@test "command_time_limit = 0 means no limit" {
	run "$SS" -S -o command_time_limit=0 -- sh -c 'sleep 0.3; echo done' </dev/null
	show
	[ "$status" -eq 0 ]
	[ "$output" = done ]
}

@test "SIGTERM to single-server is passed to the handler" {
	local marker=$BATS_TEST_TMPDIR/running
	# the handler leaves with 7 on SIGTERM: 143 would be ours, not its
	bg "$SS" -S -- sh -c 'trap "kill \$!; exit 7" TERM; touch "$0"; sleep 10 & wait' \
		"$marker" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	local pid=$BG_PID
	wait_for_file "$marker"
	kill -TERM "$pid"
	wait_exit "$pid" 5 || false
	echo "status: $STATUS" >&2
	[ "$STATUS" -eq 7 ]
}

@test "a handler killed by the SIGTERM passed on gives status 143" {
	local marker=$BATS_TEST_TMPDIR/handler.pid hpid
	bg "$SS" -S -- sh -c 'echo $$ >"$0.new"; mv "$0.new" "$0"; exec sleep 10' \
		"$marker" </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	local pid=$BG_PID
	wait_for_file "$marker"
	hpid=$(cat "$marker")
	BG_PIDS+=("$hpid")
	kill -TERM "$pid"
	wait_exit "$pid" 5 || false
	echo "status: $STATUS" >&2
	[ "$STATUS" -eq 143 ]
	# the handler is gone: it was killed, not left behind
	if kill -0 "$hpid" 2>/dev/null; then
		echo "handler $hpid still running" >&2
		false
	fi
}

# --- logging ------------------------------------------------------------

@test "-V logs a handler's non-zero exit decoded: exit status 3" {
	run --separate-stderr "$SS" -S -V -- sh -c 'exit 3' </dev/null
	show
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"warning: "*"exit status 3"* ]]
}

@test "-V logs a handler killed by a signal decoded: killed by signal 9" {
	run --separate-stderr "$SS" -S -V -- sh -c 'kill -9 $$' </dev/null
	show
	[ "$status" -eq 137 ]
	[[ "$stderr" == *"warning: "*"killed by signal 9"* ]]
}

@test "-V logs nothing abnormal for a handler that exits 0" {
	run --separate-stderr "$SS" -S -V -- true </dev/null
	show
	[ "$status" -eq 0 ]
	[[ "$stderr" != *warning:* ]]
	[[ "$stderr" != *error:* ]]
	[[ "$stderr" != *fatal:* ]]
}

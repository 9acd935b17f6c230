# t/helper.bash - shared by every bats file: paths, a server started in
# the background and found through -1, a client, bounded waits.
#
# Every background process is started with 3>&- (bats waits for whatever
# holds fd 3) and killed by its saved pid in teardown, never by name.

SRC=${abs_top_srcdir:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)}
BUILD=${abs_top_builddir:-$SRC}
SS=$BUILD/bin/single-server
H=$SRC/t/handlers

BG_PIDS=()

# STAMP: the RFC 3339 time (local, milliseconds, offset) and space that
# start a log line copied to a stderr that is a file or a pipe (an ERE)
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} '

# client ADDRESS [client.py options]: connect, print what the server says
client() {
	python3 "$SRC/t/client.py" "$@"
}

# burst ADDRESS N [burst.py options]: N connections at once from one
# process, each timed from the first connect (t/burst.py): what timing
# assertions measure, so that the time a test takes to start its clients
# is not counted
burst() {
	python3 "$SRC/t/burst.py" "$@"
}

# start_server ARGS...: run "single-server -d -1 -V ARGS" in the
# background; sets SERVER_PID, ADDR (the first address) and ADDRS (all),
# and LOG (its stderr). Returns once every listener is ready: -1 closes
# stdout after printing, so reading to end-of-file is the readiness signal.
start_server() {
	LOG=$BATS_TEST_TMPDIR/server.log
	local fifo=$BATS_TEST_TMPDIR/addr.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	${SS_WRAP:+$SS_WRAP} "$SS" -d -1 -V "$@" >"$fifo" 2>"$LOG" </dev/null 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	mapfile -t ADDRS <"$fifo"
	ADDR=${ADDRS[0]:-}
	[ -n "$ADDR" ] || { cat "$LOG" >&2; return 1; }
}

# start_preloaded_server SHIM VAR=VALUE... -- ARGS...: start_server with SHIM
# (an LD_PRELOAD shim, t/shim-*.c, that make check builds in t/.libs)
# preloaded and those variables set
start_preloaded_server() {
	local shim=$BUILD/t/.libs/$1.so env=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		env+=("$1")
		shift
	done
	shift
	[ -f "$shim" ] || {
		echo "$shim is not built: make check builds it" >&2
		return 1
	}
	SS_WRAP="env LD_PRELOAD=$shim ${env[*]}" start_server "$@"
}

# start_held_server ARGS...: start_server with a listening socket on
# 127.0.0.1 (a free port) that the server does not own: t/held.py binds it
# and passes it as systemd does. At max_use, max_idle or SIGHUP such a
# server exits (its supervisor holds the socket); with -L it would
# re-execute itself instead.
start_held_server() {
	SS_WRAP="python3 $SRC/t/held.py --" start_server "$@"
}

# bg CMD...: run a command in the background, remember its pid in BG_PID
bg() {
	"$@" 3>&- &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# wait_exit PID [SECONDS]: wait (bounded) for a process to end; sets STATUS
wait_exit() {
	local pid=$1 limit=${2:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			# bats runs with errexit: a failing wait must not end the test
			STATUS=0
			wait "$pid" 2>/dev/null || STATUS=$?
			return 0
		fi
		sleep 0.05
	done
	echo "process $pid still running after ${limit}s" >&2
	return 1
}

# wait_for_log TEXT [SECONDS]: wait (bounded) until the server log has TEXT
wait_for_log() {
	local text=$1 limit=${2:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		grep -qF -- "$text" "$LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "log never showed: $text" >&2
	cat "$LOG" >&2
	return 1
}

# wait_log_count TEXT N [SECONDS]: wait (bounded) until N lines of the
# server log have TEXT (the second "ready: " after a re-execution)
wait_log_count() {
	local text=$1 count=$2 limit=${3:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(grep -cF -- "$text" "$LOG" 2>/dev/null)" -ge "$count" ] && return 0
		sleep 0.05
	done
	echo "log never showed $count line(s) with: $text" >&2
	cat "$LOG" >&2
	return 1
}

# wait_for_file PATH [SECONDS]: wait (bounded) until PATH exists
wait_for_file() {
	local path=$1 limit=${2:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		[ -e "$path" ] && return 0
		sleep 0.05
	done
	echo "file never appeared: $path" >&2
	return 1
}

# cleanup_bg: kill every background process we started, by saved pid
cleanup_bg() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait_exit "$p" 3 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	BG_PIDS=()
}

teardown() {
	cleanup_bg
}

# ---- the sanitizer build -------------------------------------------------
#
# .ci/sanitize runs the suite against a build made with -fsanitize=...:
# SS_SANITIZE holds those flags (unset otherwise), for a test that builds
# a program of its own against the library.

# no_leak_check: under the sanitizer build, no LeakSanitizer check at exit
# for what this test runs (errors are still reported). LeakSanitizer
# stops the process's threads through /proc, which a chroot hides: the
# process then spins at exit instead of leaving; nor can it run in a
# process that strace is attached to ("does not work under ptrace").
no_leak_check() {
	[ -z "${SS_SANITIZE:-}" ] || export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
}

# have_ipv6: can we bind the IPv6 loopback address?
have_ipv6() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
		2>/dev/null
}

# ran_count: how many handlers have run, for handlers that append a line
# to the file $RAN each (t/handlers/access-show, proxy-show)
ran_count() {
	if [ -e "$RAN" ]; then
		wc -l <"$RAN"
	else
		echo 0
	fi
}

# free_port: print a TCP port on 127.0.0.1 that was free a moment ago (the
# kernel picks it; whoever binds it next may race, so callers retry)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_socket_activate ARGS...: run "systemd-socket-activate
# -l 127.0.0.1:PORT ARGS..." in the background on a free port, retrying
# (bounded) when that port was taken meanwhile. Sets SERVER_PID, ADDR and
# LOG (its stderr, which its children share). Returns once it listens.
start_socket_activate() {
	local try i port
	LOG=$BATS_TEST_TMPDIR/server.log
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		: >"$LOG"
		systemd-socket-activate -l "127.0.0.1:$port" "$@" \
			</dev/null >/dev/null 2>>"$LOG" 3>&- &
		SERVER_PID=$!
		BG_PIDS+=("$SERVER_PID")
		if activate_listening "127.0.0.1:$port"; then
			ADDR=127.0.0.1:$port
			return 0
		fi
	done
	echo "systemd-socket-activate never listened" >&2
	cat "$LOG" >&2
	return 1
}

# activate_listening ADDRESS: wait (bounded) until the activator started
# as SERVER_PID logs that it listens on ADDRESS; fails if it died
activate_listening() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q "^Listening on $1 " "$LOG" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# now_ms: the wall clock in milliseconds
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# wait_status PID [SECONDS]: wait_exit that survives bats' "set -e". When
# the process exits non-zero, wait_exit's own "wait" fails and errexit
# ends the test right there; inside a || list errexit is off, so STATUS
# gets set and the caller can check it.
wait_status() {
	wait_exit "$@" || return 1
}

# notify_listen SOCKET OUT: receive sd_notify datagrams on SOCKET in the
# background, one line each in OUT; returns once SOCKET exists
notify_listen() {
	bg python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode(), flush=True)
' "$1" >"$2"
	wait_for_file "$1"
}

# hold_setup, hold_teardown: for tests whose handlers are t/handlers/hold
# in $D; teardown releases every held handler before stopping the server
hold_setup() {
	D=$BATS_TEST_TMPDIR/hold
	mkdir -p "$D"
}

hold_teardown() {
	: >"$D/release"
	cleanup_bg
}

# ---- syslog, inetd and supervisors (t/logging.bats, t/examples.bats) -----
#
# A private /dev/log: t/syslog-ns runs a command in its own mount namespace
# whose /dev/log points at a socket in the test's temporary directory,
# where t/syslogd.py writes each message as one line of $SYSLOG:
# "FACILITY.SEVERITY TAG[PID]: TEXT". The host's /dev is not touched.

SYSLOG_NS=$SRC/t/syslog-ns

# need_syslog_ns: skip unless a mount namespace with a private /dev works
# here (root, and unshare and mount permitted); checked once per test
need_syslog_ns() {
	if [ -z "${SYSLOG_NS_OK:-}" ]; then
		if "$SYSLOG_NS" - sh -c '[ ! -e /dev/log ] && [ -c /dev/null ]' \
			</dev/null >/dev/null 2>&1; then
			SYSLOG_NS_OK=yes
		else
			SYSLOG_NS_OK=no
		fi
	fi
	[ "$SYSLOG_NS_OK" = yes ] ||
		skip "no private mount namespace (unshare -m not permitted)"
}

# syslog_start [syslogd.py options]: start the receiver in the background;
# sets SYSLOG (the messages, one a line), SYSLOG_SOCK and SYSLOG_PID.
# Returns once the socket is bound (it is renamed into place only then).
syslog_start() {
	need_syslog_ns
	SYSLOG=$BATS_TEST_TMPDIR/syslog
	SYSLOG_SOCK=$BATS_TEST_TMPDIR/log.sock
	if [ ${#SYSLOG_SOCK} -gt 100 ]; then	# sun_path holds 108 bytes
		SYSLOG_SOCK=$(mktemp -u /tmp/ss-log.XXXXXX)
	fi
	: >"$SYSLOG"
	bg python3 "$SRC/t/syslogd.py" "$SYSLOG_SOCK" "$SYSLOG" --idle 120 "$@" \
		</dev/null >/dev/null
	SYSLOG_PID=$BG_PID
	wait_for_file "$SYSLOG_SOCK" 5
}

# syslog_none: from now on inetd_start and syslog_bg run their command
# where /dev/log does not exist (SYSLOG_SOCK=-)
syslog_none() {
	need_syslog_ns
	SYSLOG_SOCK=-
}

# in_syslog_ns CMD...: run CMD (in the foreground) where /dev/log is the
# receiver's socket. CMD keeps the pid of this call's child: unshare and
# t/syslog-ns exec in place.
in_syslog_ns() {
	"$SYSLOG_NS" "$SYSLOG_SOCK" "$@"
}

# in_nosyslog_ns CMD...: run CMD where /dev/log does not exist, as on a
# machine (or container) without a syslog daemon
in_nosyslog_ns() {
	need_syslog_ns
	"$SYSLOG_NS" - "$@"
}

# syslog_bg CMD...: bg, with /dev/log the receiver's socket; BG_PID is
# CMD's own pid
syslog_bg() {
	bg "$SYSLOG_NS" "$SYSLOG_SOCK" "$@"
}

# start_server_syslog ARGS...: start_server's twin inside the syslog
# namespace and without -V: "single-server -d -1 ARGS" in the background,
# SERVER_PID its pid, ADDR and ADDRS what -1 printed, LOG its stderr (a
# file)
start_server_syslog() {
	LOG=$BATS_TEST_TMPDIR/server.log
	local fifo=$BATS_TEST_TMPDIR/addr.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	# the fifo is opened by the background process, as in start_server
	"$SYSLOG_NS" "$SYSLOG_SOCK" "$SS" -d -1 "$@" \
		>"$fifo" 2>"$LOG" </dev/null 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	mapfile -t ADDRS <"$fifo"
	ADDR=${ADDRS[0]:-}
	[ -n "$ADDR" ] || { cat "$LOG" >&2; return 1; }
}

# wait_for_syslog PATTERN [SECONDS]: wait (bounded) until a line of
# $SYSLOG matches the extended regular expression PATTERN
wait_for_syslog() {
	local pattern=$1 limit=${2:-5} i
	for ((i = 0; i < limit * 20; i++)); do
		grep -qE -- "$pattern" "$SYSLOG" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "syslog never showed: $pattern" >&2
	cat "$SYSLOG" >&2
	return 1
}

# inetd_start nowait|wait [inetd.py options] -- CMD...: run CMD as inetd
# would (t/inetd.py), inside the syslog namespace when syslog_start was
# called. Sets INETD_PID, INETD_OUT (inetd.py's report) and INETD_ADDR
# (127.0.0.1:PORT, read once inetd.py listens).
inetd_start() {
	local i
	INETD_OUT=$BATS_TEST_TMPDIR/inetd.out
	: >"$INETD_OUT"
	if [ -n "${SYSLOG_SOCK:-}" ]; then
		syslog_bg python3 "$SRC/t/inetd.py" "$@" </dev/null >"$INETD_OUT"
	else
		bg python3 "$SRC/t/inetd.py" "$@" </dev/null >"$INETD_OUT"
	fi
	INETD_PID=$BG_PID
	for ((i = 0; i < 200; i++)); do
		INETD_ADDR=$(head -1 "$INETD_OUT")
		[[ $INETD_ADDR == 127.0.0.1:* ]] && return 0
		kill -0 "$INETD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "inetd.py never listened" >&2
	return 1
}

# inetd_wait [SECONDS]: wait (bounded) until inetd.py has reported the
# end of its command; sets TOOL_PID and TOOL_STATUS (128+N if killed by
# signal N)
inetd_wait() {
	wait_exit "$INETD_PID" "${1:-10}" || return 1
	TOOL_PID=$(sed -n 's/^pid //p' "$INETD_OUT")
	TOOL_STATUS=$(sed -n 's/^exit //p' "$INETD_OUT")
	if [ -z "$TOOL_STATUS" ]; then
		TOOL_STATUS=$(sed -n 's/^signal //p' "$INETD_OUT")
		[ -n "$TOOL_STATUS" ] && TOOL_STATUS=$((128 + TOOL_STATUS))
	fi
	if [ -z "$TOOL_PID" ] || [ -z "$TOOL_STATUS" ]; then
		cat "$INETD_OUT" >&2
		return 1
	fi
}

# listening_pid PORT PID: PID (itself) holds a listening TCP socket on
# 127.0.0.1:PORT
listening_pid() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2,"
}

# wait_listening PORT PID [SECONDS]: wait (bounded) until PID listens on
# PORT; fails at once if PID died
wait_listening() {
	local i limit=${3:-3}
	for ((i = 0; i < limit * 20; i++)); do
		listening_pid "$1" "$2" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# descendants PID: the pids of every descendant of PID, one a line
descendants() {
	local k
	for k in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$k"
		descendants "$k"
	done
}

# alive PID: PID exists and is not a zombie
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# kill_tree PID: SIGTERM a process we started in the background and every
# descendant of it (the servers a supervisor spawned, found through their
# parent pids, never by name); bounded, then SIGKILL for what is left
kill_tree() {
	local pid=$1 all
	all=$(descendants "$pid")
	# shellcheck disable=SC2086
	kill -TERM $all "$pid" 2>/dev/null || true
	wait_exit "$pid" 3 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	kill_pids $all
}

# kill_pids PID...: SIGTERM each (bounded wait, 3 s in all at most each),
# then SIGKILL what is left; pids that are gone already are skipped
kill_pids() {
	local k i
	[ $# -eq 0 ] || kill -TERM "$@" 2>/dev/null || true
	for k in "$@"; do
		for ((i = 0; i < 60; i++)); do
			alive "$k" || break
			sleep 0.05
		done
		! alive "$k" || kill -KILL "$k" 2>/dev/null || true
	done
}

# no_children PID [SECONDS]: wait (bounded) until PID has no child left,
# running or zombie: every handler ended and was reaped
no_children() {
	local i limit=${2:-10}
	for ((i = 0; i < limit * 20; i++)); do
		[ -z "$(ps -o pid= --ppid "$1")" ] && return 0
		sleep 0.05
	done
	echo "children of $1 still there:" >&2
	ps -o pid,stat,args --ppid "$1" >&2
	return 1
}

# var NAME: the value of NAME=value in the output of the last run (a
# handler that prints its environment: env-dump, proxy-show, access-show)
var() {
	sed -n "s/^$1=//p" <<<"$output"
}

# traced_by PID TRACER: wait (bounded) until TRACER has attached to PID
traced_by() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "^TracerPid:[[:space:]]*$2\$" "/proc/$1/status" && return 0
		sleep 0.05
	done
	echo "$2 never attached to $1" >&2
	return 1
}

# drip_client ADDR [MARK]: connect, read the refusal message (then create
# the file MARK, if given), then send a byte every 0.1 s until the
# server's end is gone (10 s at most): a client that never sends its end
# of file. Prints the message, then "closed after N.N s" from the connect.
drip_client() {
	python3 - "$1" "${2:-}" <<-'PY'
	import socket, sys, time
	host, port = sys.argv[1].rsplit(":", 1)
	start = time.monotonic()
	s = socket.create_connection((host, int(port)), timeout=10)
	got = b""
	while not got.endswith(b"\r\n"):
	    b = s.recv(100)
	    if not b:
	        break
	    got += b
	if sys.argv[2]:
	    open(sys.argv[2], "w").close()
	print(got.decode().strip())
	try:
	    while time.monotonic() - start < 10:
	        s.send(b"x")            # a drip: never our end of file
	        time.sleep(0.1)
	except OSError:
	    pass
	print("closed after %.1f s" % (time.monotonic() - start))
	PY
}

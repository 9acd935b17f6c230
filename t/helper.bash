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

# client ADDRESS [client.py options]: connect, print what the server says
client() {
	python3 "$SRC/t/client.py" "$@"
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
	"$SS" -d -1 -V "$@" >"$fifo" 2>"$LOG" </dev/null 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	mapfile -t ADDRS <"$fifo"
	ADDR=${ADDRS[0]:-}
	[ -n "$ADDR" ] || { cat "$LOG" >&2; return 1; }
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

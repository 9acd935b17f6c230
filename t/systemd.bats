#!/usr/bin/env bats
# systemd.bats - single-server(8) given its listening sockets: by systemd
# socket activation (Accept=no, through systemd-socket-activate), or on
# fd 0 the way inetd "wait" services get them.

load helper

# need_activate: skip unless systemd-socket-activate is installed
need_activate() {
	command -v systemd-socket-activate >/dev/null ||
		skip "no systemd-socket-activate"
}

# no_listen_vars: the env-dump reply in $output has no LISTEN_* variable
no_listen_vars() {
	[[ $'\n'$output != *$'\n'LISTEN_* ]]
}

# start_activate2 ARGS...: systemd-socket-activate on two free ports,
# ADDR and ADDR2; retried (bounded) when a port was taken meanwhile
start_activate2() {
	local try port2
	for ((try = 0; try < 3; try++)); do
		port2=$(free_port)
		start_socket_activate -l "127.0.0.1:$port2" "$@" || continue
		if activate_listening "127.0.0.1:$port2"; then
			ADDR2=127.0.0.1:$port2
			return 0
		fi
	done
	echo "systemd-socket-activate never listened on two ports" >&2
	return 1
}

# PPID_DUMP: a handler that prints its parent's pid, then its environment
PPID_DUMP='echo "PPID=$PPID"; exec "$1"'

@test "systemd Accept=no: started on the first connection, the server serves it" {
	need_activate
	start_socket_activate -- "$SS" -V -m 2 \
		sh -c "$PPID_DUMP" sh "$H/env-dump"
	# nothing started yet: the activator itself holds the socket
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$(command -v systemd-socket-activate)" ]
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PPID)" = "$SERVER_PID" ]
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$(readlink -f "$SS")" ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	no_listen_vars
}

@test "systemd Accept=no: max_use clients later the server exits 0 and the socket is gone" {
	need_activate
	start_socket_activate -- "$SS" -V -m 2 \
		sh -c "$PPID_DUMP" sh "$H/env-dump"
	run client "$ADDR"
	[ "$(var PPID)" = "$SERVER_PID" ]
	run client "$ADDR"
	[ "$(var PPID)" = "$SERVER_PID" ]	# the same process served both
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
}

@test "systemd Accept=no: two sockets with LISTEN_FDNAMES are served by one process" {
	need_activate
	start_activate2 --fdname=first:second -- "$SS" -V -m 2 \
		sh -c "$PPID_DUMP" sh "$H/env-dump"
	grep -q "as 4\\.\$" "$LOG"
	run client "$ADDR2"
	[ "$status" -eq 0 ]
	[ "$(var PPID)" = "$SERVER_PID" ]
	[ "$(var TCPLOCALPORT)" = "${ADDR2##*:}" ]
	no_listen_vars
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PPID)" = "$SERVER_PID" ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	no_listen_vars
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "inetd wait: a listening socket on fd 0 is served and max_use honoured" {
	local portfile=$BATS_TEST_TMPDIR/port i
	LOG=$BATS_TEST_TMPDIR/server.log
	bg python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
os.dup2(s.fileno(), 0)
os.execv(sys.argv[1], sys.argv[1:])
' "$SS" -V -m 2 sh -c "$PPID_DUMP" sh "$H/env-dump" >"$portfile" 2>"$LOG"
	SERVER_PID=$BG_PID
	for ((i = 0; i < 100; i++)); do
		[ -s "$portfile" ] && break
		sleep 0.05
	done
	ADDR=127.0.0.1:$(head -1 "$portfile")
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PPID)" = "$SERVER_PID" ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	run client "$ADDR"
	[ "$(var PPID)" = "$SERVER_PID" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	run client "$ADDR" --connect-only
	[ "$output" = refused ]
}

@test "LISTEN_FDS naming a connected socket without -S is refused: exit 100, hint to use -S" {
	run timeout 10 python3 -c '
import os, socket, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen()
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
os.dup2(a.fileno(), 3)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_FDNAMES"] = "connection"
os.execv(sys.argv[1], sys.argv[1:])
' "$SS" -V "$H/echo-line" </dev/null
	[ "$status" -eq 100 ]
	[[ $output == *"not a listening"* ]]
	[[ $output == *"-S"* ]]
}

@test "systemd Accept=yes without -S: the per-connection server refuses, hinting at -S" {
	need_activate
	start_socket_activate -a -- "$SS" -V "$H/echo-line"
	run client "$ADDR" --send 'hello\n'
	[[ $output != *hello* ]]	# no handler ran
	wait_for_log "died with code 100"
	grep -qF "for Accept=yes use -S" "$LOG"
}

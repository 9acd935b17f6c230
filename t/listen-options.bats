#!/usr/bin/env bats
# listen-options.bats - the listener parameters of single-server(8): a unix
# socket's owner and group (never seen with another), SO_REUSEPORT,
# TCP_NODELAY and SO_KEEPALIVE on accepted connections (own, inherited and
# stream-mode sockets), TCP_DEFER_ACCEPT, and their configuration errors.

bats_require_minimum_version 1.5.0

load helper

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (chown to another user)"
}

# owner_of PATH: "USER:GROUP MODE" of a file, as names
owner_of() {
	stat -c '%U:%G %a' "$1"
}

# config_error TEXT...: the last "run" exited 100 with one line on stderr
# that has every TEXT in it
config_error() {
	local text
	echo "status $status, stderr: ${stderr:-}" >&2
	[ "$status" -eq 100 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	for text; do
		[[ "${stderr_lines[0]}" == *"$text"* ]]
	done
}

# --- unix socket owner and group ---------------------------------------------

@test "unix_socket_owner and unix_socket_group by name: the socket file has them and its mode; -1 and UNIXLOCALPATH show its path" {
	need_root
	local dir=$BATS_TEST_TMPDIR/own path=$BATS_TEST_TMPDIR/own/s.sock
	mkdir "$dir"
	start_server -o unix_socket_owner=nobody -o unix_socket_group=nogroup \
		-o unix_socket_mode=0660 -L "unix:$path" "$H/env-dump"
	[ "$ADDR" = "unix:$path" ]
	[ "$(owner_of "$path")" = "nobody:nogroup 660" ]
	# bound under a temporary name in a directory of its own: gone now
	[ "$(ls -A "$dir")" = s.sock ]
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = UNIX ]
	[ "$(var UNIXLOCALPATH)" = "$path" ]
}

@test "unix_socket_owner and unix_socket_group by number, and a group alone" {
	need_root
	local path=$BATS_TEST_TMPDIR/num.sock
	start_server -o unix_socket_owner=65534 -o unix_socket_group=12345 \
		-L "unix:$path" "$H/echo-line"
	[ "$(stat -c '%u:%g %a' "$path")" = "65534:12345 666" ]
	run client "$ADDR" --send 'numeric\n'
	[ "$output" = numeric ]
	kill "$SERVER_PID"
	wait_status "$SERVER_PID"
	start_server -o unix_socket_group=nogroup -o unix_socket_mode=0620 \
		-L "unix:$path" "$H/echo-line"
	[ "$(owner_of "$path")" = "root:nogroup 620" ]
}

@test "unix_socket_owner: the socket path is never seen with another owner, group or mode, over 50 starts" {
	need_root
	local path=$BATS_TEST_TMPDIR/watched.sock n
	# stat() the path in a tight loop; report every owner, group and mode
	# seen, and how many times the path was found
	bg python3 -c '
import os, sys
path, stop, out = sys.argv[1:4]
seen, found, n = set(), 0, 0
while True:
    n += 1
    if n % 4096 == 0 and os.path.exists(stop):
        break
    try:
        st = os.stat(path)
    except FileNotFoundError:
        continue
    found += 1
    seen.add("%d:%d %o" % (st.st_uid, st.st_gid, st.st_mode & 0o7777))
with open(out, "w") as f:
    f.write("found %d\n" % found)
    for s in sorted(seen):
        f.write(s + "\n")
' "$path" "$BATS_TEST_TMPDIR/stop" "$BATS_TEST_TMPDIR/seen"
	local poller=$BG_PID
	for ((n = 0; n < 50; n++)); do
		start_server -o unix_socket_owner=nobody -o unix_socket_group=nogroup \
			-o unix_socket_mode=0660 -L "unix:$path" "$H/echo-line"
		kill -KILL "$SERVER_PID"	# leaves the file: the next one replaces it
		wait_status "$SERVER_PID"
		rm -f "$path"		# and now it must appear afresh
	done
	touch "$BATS_TEST_TMPDIR/stop"
	wait_exit "$poller" 10
	cat "$BATS_TEST_TMPDIR/seen"
	[ "$(head -1 "$BATS_TEST_TMPDIR/seen" | cut -d' ' -f2)" -gt 0 ]
	[ "$(sed 1d "$BATS_TEST_TMPDIR/seen")" = "65534:65534 660" ]
}

@test "unix_socket_owner: a live socket at the path is not taken over (exit 111), and no temporary directory is left" {
	need_root
	local dir=$BATS_TEST_TMPDIR/live path=$BATS_TEST_TMPDIR/live/s.sock
	mkdir "$dir"
	start_server -L "unix:$path" "$H/echo-line"
	run timeout 10 "$SS" -d -o unix_socket_owner=nobody -L "unix:$path" \
		"$H/echo-line" </dev/null
	[ "$status" -eq 111 ]
	[[ $output == *"$path"*"Address already in use"* ]]
	[ "$(ls -A "$dir")" = s.sock ]
	[ "$(owner_of "$path")" = "root:root 666" ]
	run client "$ADDR" --send 'still mine\n'
	[ "$output" = "still mine" ]
}

@test "unix_socket_owner: a user who may not give the socket away gets exit 111 naming the step" {
	need_root
	command -v setpriv >/dev/null || skip "no setpriv"
	# a directory that nobody can reach (the test's own may not be)
	local dir
	dir=$(mktemp -d /tmp/ss-nobody.XXXXXX)
	chown nobody "$dir"
	run timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SS" -d -o unix_socket_owner=root -L "unix:$dir/s.sock" \
		/bin/cat </dev/null
	local left
	left=$(ls -A "$dir")
	rm -rf "$dir"
	echo "$output"
	[ "$status" -eq 111 ]
	[[ $output == *"cannot give it unix_socket_owner and unix_socket_group: Operation not permitted"* ]]
	[ -z "$left" ]
}

@test "unix_socket_owner after a re-execution: same file, and UNIXLOCALPATH is still its path" {
	need_root
	local path=$BATS_TEST_TMPDIR/reexec.sock
	start_server -v -o unix_socket_owner=nobody -L "unix:$path" "$H/env-dump"
	local inode
	inode=$(stat -c %i "$path")
	kill -HUP "$SERVER_PID"
	wait_for_log "re-executing"
	wait_log_count ': ready: ' 2
	[ "$(stat -c '%i %U' "$path")" = "$inode nobody" ]
	run client "$ADDR"
	[ "$status" -eq 0 ]
	[ "$(var UNIXLOCALPATH)" = "$path" ]
}

@test "unknown unix_socket_owner or unix_socket_group: exit 100 naming the parameter and where it was set" {
	run --separate-stderr timeout 10 "$SS" -d -o unix_socket_owner=no-such-user-here \
		-L "unix:$BATS_TEST_TMPDIR/x.sock" -- "$H/echo-line" </dev/null
	config_error "-o unix_socket_owner=no-such-user-here" \
		'parameter unix_socket_owner: unknown user "no-such-user-here"'
	[ ! -e "$BATS_TEST_TMPDIR/x.sock" ]
	printf 'unix_socket_mode = 0600\nunix_socket_group = no-such-group-here\n' \
		>"$BATS_TEST_TMPDIR/main.cf"
	run --separate-stderr timeout 10 "$SS" --check -f "$BATS_TEST_TMPDIR/main.cf" \
		-L "unix:$BATS_TEST_TMPDIR/x.sock" -- "$H/echo-line" </dev/null
	config_error "$BATS_TEST_TMPDIR/main.cf, line 2" \
		'parameter unix_socket_group: unknown group "no-such-group-here"'
	run --separate-stderr timeout 10 "$SS" -d -o unix_socket_owner=-1 \
		-L "unix:$BATS_TEST_TMPDIR/x.sock" -- "$H/echo-line" </dev/null
	config_error "-o unix_socket_owner=-1" "unknown user"
}

@test "bad listener option values: exit 100 naming the parameter" {
	run --separate-stderr timeout 10 "$SS" -d -o tcp_nodelay=maybe -L 127.0.0.1:0 \
		-- "$H/echo-line" </dev/null
	config_error "-o tcp_nodelay=maybe" "parameter tcp_nodelay" "yes or no"
	run --separate-stderr timeout 10 "$SS" -d -o listen_reuseport=2 -L 127.0.0.1:0 \
		-- "$H/echo-line" </dev/null
	config_error "parameter listen_reuseport"
	run --separate-stderr timeout 10 "$SS" -d -o tcp_keepalive=sometimes -L 127.0.0.1:0 \
		-- "$H/echo-line" </dev/null
	config_error "parameter tcp_keepalive"
	run --separate-stderr timeout 10 "$SS" -d -o tcp_keepalive_time=10h -L 127.0.0.1:0 \
		-- "$H/echo-line" </dev/null
	config_error "parameter tcp_keepalive_time" "out of range"
	run --separate-stderr timeout 10 "$SS" -d -o tcp_defer_accept=soon -L 127.0.0.1:0 \
		-- "$H/echo-line" </dev/null
	config_error "parameter tcp_defer_accept" "a time"
}

# --- SO_REUSEPORT -----------------------------------------------------------------

@test "listen_reuseport: two servers on one port both serve; without it the second cannot bind" {
	local h=$BATS_TEST_TMPDIR/whoami
	printf '#!/bin/sh\necho "$PPID"\n' >"$h"	# the server that ran it
	chmod +x "$h"
	start_server -o listen_reuseport=yes -L 127.0.0.1:0 "$h"
	local first=$SERVER_PID port=${ADDR##*:}
	run timeout 10 "$SS" -d -L "127.0.0.1:$port" "$h" </dev/null
	[ "$status" -eq 111 ]
	[[ $output == *"Address already in use"* ]]
	start_server -o listen_reuseport=yes -L "127.0.0.1:$port" "$h"
	local second=$SERVER_PID
	[ "$ADDR" = "127.0.0.1:$port" ]
	# one client process, up to 200 connections, until both have answered
	run python3 -c '
import socket, sys
want, seen = set(sys.argv[2:]), set()
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    seen.add(s.makefile().read().strip())
    s.close()
    if want <= seen:
        break
print(" ".join(sorted(seen)))
' "$port" "$first" "$second"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ " $output " == *" $first "* ]]
	[[ " $output " == *" $second "* ]]
}

# --- TCP_NODELAY and SO_KEEPALIVE --------------------------------------------------

# kernel_keepidle: the kernel's own keepalive idle time
kernel_keepidle() {
	cat /proc/sys/net/ipv4/tcp_keepalive_time
}

@test "tcp_nodelay, tcp_keepalive and tcp_keepalive_time: a handler's connection (-L) has them; by default it has none" {
	start_server -L 127.0.0.1:0 "$H/sockopts"
	run client "$ADDR"
	[ "$output" = "nodelay=0 keepalive=0 keepidle=$(kernel_keepidle)" ]
	kill "$SERVER_PID"
	wait_status "$SERVER_PID"
	start_server -o tcp_nodelay=yes -o tcp_keepalive=yes \
		-o tcp_keepalive_time=77s -L 127.0.0.1:0 "$H/sockopts"
	run client "$ADDR"
	[ "$output" = "nodelay=1 keepalive=1 keepidle=77" ]
}

@test "tcp_nodelay and tcp_keepalive are set once on the listener: accepting a client costs no setsockopt" {
	command -v strace >/dev/null || skip "no strace"
	no_leak_check
	local trace=$BATS_TEST_TMPDIR/trace n
	SS_WRAP="strace -qq -e trace=setsockopt -o $trace" \
		start_server -o tcp_nodelay=yes -o tcp_keepalive=yes \
		-o tcp_keepalive_time=60 -L 127.0.0.1:0 "$H/echo-line"
	local server
	server=$(pgrep -P "$SERVER_PID")	# SERVER_PID is strace's
	[ -n "$server" ]
	BG_PIDS+=("$server")
	local before
	before=$(grep -c ^setsockopt "$trace")
	grep -q TCP_NODELAY "$trace"
	for ((n = 0; n < 5; n++)); do
		run client "$ADDR" --send 'x\n'
		[ "$output" = x ]
	done
	cat "$trace"
	[ "$(grep -c ^setsockopt "$trace")" -eq "$before" ]
}

@test "tcp_nodelay and tcp_keepalive on an inherited listener (systemd's LISTEN_FDS)" {
	start_held_server -o tcp_nodelay=yes -o tcp_keepalive=yes \
		-o tcp_keepalive_time=2m "$H/sockopts"
	run client "$ADDR"
	[ "$output" = "nodelay=1 keepalive=1 keepidle=120" ]
}

@test "tcp_nodelay and tcp_keepalive: the connection that started the server (systemd Accept=no) has them too" {
	start_socket_activate -- "$SS" -m 1 -o tcp_nodelay=yes -o tcp_keepalive=yes \
		-o tcp_keepalive_time=99 "$H/sockopts"
	# this client is in the backlog before single-server even starts
	run client "$ADDR"
	[ "$output" = "nodelay=1 keepalive=1 keepidle=99" ]
}

@test "tcp_nodelay and tcp_keepalive in stream mode (systemd Accept=yes, --inetd)" {
	start_socket_activate -a --inetd -- "$SS" -S -o tcp_nodelay=yes \
		-o tcp_keepalive=yes -o tcp_keepalive_time=55 -- "$H/sockopts"
	run client "$ADDR"
	[ "$output" = "nodelay=1 keepalive=1 keepidle=55" ]
}

@test "a re-execution re-applies the options as the parameter file now says" {
	local cf=$BATS_TEST_TMPDIR/main.cf
	printf 'tcp_nodelay = yes\ntcp_keepalive = yes\n' >"$cf"
	start_server -v -f "$cf" -L 127.0.0.1:0 "$H/sockopts"
	run client "$ADDR"
	[ "$output" = "nodelay=1 keepalive=1 keepidle=$(kernel_keepidle)" ]
	printf 'tcp_nodelay = no\ntcp_keepalive = yes\ntcp_keepalive_time = 33\n' >"$cf"
	kill -HUP "$SERVER_PID"
	wait_log_count ': ready: ' 2
	run client "$ADDR"
	[ "$output" = "nodelay=0 keepalive=1 keepidle=33" ]
	! grep -q 'serving on without it' "$LOG" || false
}

# --- TCP_DEFER_ACCEPT -----------------------------------------------------------------

# silent_client ADDR RAN: connect, send nothing for 1.5 s and say whether a
# handler ran meanwhile (the file RAN appeared); then send a line and print
# the reply
silent_client() {
	python3 -c '
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
end = time.time() + 1.5
while time.time() < end and not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
print("ran while silent" if os.path.exists(sys.argv[2]) else "not run while silent")
s.sendall(b"hello\n")
s.shutdown(socket.SHUT_WR)
print(s.makefile().read().strip())
' "$1" "$2"
}

@test "tcp_defer_accept: a client that sends nothing gets no handler; once it sends, it is served" {
	local h=$BATS_TEST_TMPDIR/mark ran=$BATS_TEST_TMPDIR/ran
	printf '#!/bin/sh\n: >"%s"\nread -r line\necho "got $line"\n' "$ran" >"$h"
	chmod +x "$h"
	start_server -o tcp_defer_accept=30s -L 127.0.0.1:0 "$h"
	run silent_client "$ADDR" "$ran"
	echo "$output"
	[ "${lines[0]}" = "not run while silent" ]
	[ "${lines[1]}" = "got hello" ]
}

@test "tcp_defer_accept off (the default): a silent client's handler runs at once" {
	local h=$BATS_TEST_TMPDIR/mark ran=$BATS_TEST_TMPDIR/ran
	printf '#!/bin/sh\n: >"%s"\nread -r line\necho "got $line"\n' "$ran" >"$h"
	chmod +x "$h"
	start_server -L 127.0.0.1:0 "$h"
	run silent_client "$ADDR" "$ran"
	echo "$output"
	[ "${lines[0]}" = "ran while silent" ]
	[ "${lines[1]}" = "got hello" ]
}

@test "TCP options on a unix listener are skipped without a word" {
	local path=$BATS_TEST_TMPDIR/u.sock
	start_server -o tcp_nodelay=yes -o tcp_keepalive=yes -o tcp_defer_accept=5 \
		-o listen_reuseport=yes -L "unix:$path" "$H/echo-line"
	run client "$ADDR" --send 'unix\n'
	[ "$output" = unix ]
	! grep -qiE 'warn|setsockopt' "$LOG" || false
}

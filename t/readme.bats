#!/usr/bin/env bats
# readme.bats - the examples of README.md run from the README's own text,
# so that none of them can stop working unnoticed (there is no copy here
# to drift).
#
# Each fenced block of README.md follows an HTML comment line, invisible
# once rendered: "<!-- test: NAME -->" (a test below reads the block with
# readme_block NAME and runs it) or "<!-- not tested: REASON -->". The
# first test checks that every block is marked and every NAME is run.
#
# The blocks run as a reader runs them, with bash, from a directory that
# stands for the top of a built clone ($CLONE: bin/ the build tree's,
# examples/ the source tree's). A test changes a block's text only by
# these mechanical substitutions, and each says which it makes:
#   - a fixed port the README names (8080, 8443, 7000, 10040) becomes a free
#     port on 127.0.0.1 (free_port; a port taken meanwhile fails the test);
#   - "/tmp/" becomes the test's temporary directory (not in the Postfix
#     recipe: its directory must be traversable by user postfix);
# and HOME is a temporary directory (the prefix recipe installs there,
# from a clean source tree made by "make distdir", as a release unpacks;
# it runs without this build's CFLAGS or make flags). A block that leaves a server in the
# background saves its pid (server=$!, master=$!), as the README shows:
# the test reads it back and kills that pid. Scripts run in a process
# group of their own (setsid), whose id is saved too: teardown kills that
# group and, by parent pids, whatever the script started.

load helper
load postfix
load tls
bats_require_minimum_version 1.5.0

README=$SRC/README.md

setup() {
	CLONE=$BATS_TEST_TMPDIR/clone
	mkdir -p "$CLONE"
	ln -s "$BUILD/bin" "$CLONE/bin"
	ln -s "$SRC/examples" "$CLONE/examples"
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	SCRIPT_PIDS=()
	MASTER_PID=
	PF=
}

teardown() {
	local p
	postfix_kill
	for p in "${SCRIPT_PIDS[@]}"; do
		kill_tree "$p"
		kill -TERM -- "-$p" 2>/dev/null || true
	done
	cleanup_bg
	if [[ $PF == /tmp/pf.?????? ]]; then
		# the accept lock of the service, named after MAIL_CONFIG
		rm -f /run/single-server/"$(tr -c 'A-Za-z0-9._\n-' _ <<<"$PF/etc")".*.lock
		rm -rf "$PF"
	fi
}

# readme_block NAME: print the fenced block of README.md marked
# "<!-- test: NAME -->"; fails when there is none, or no fence follows
readme_block() {
	awk -v name="$1" '
		inblk && /^```/ { found = 1; exit }
		inblk { print; next }
		want { if (/^```/) { inblk = 1; next } exit }
		$0 == "<!-- test: " name " -->" { want = 1 }
		END { exit !found }' "$README"
}

# script NAME [SED-SCRIPT]: the block NAME, the mechanical substitutions
# of SED-SCRIPT applied, in $BATS_TEST_TMPDIR/NAME.sh
script() {
	local f=$BATS_TEST_TMPDIR/$1.sh
	readme_block "$1" | sed -e "${2:-}" >"$f"
	[ -s "$f" ] || { echo "README block $1 is empty" >&2; return 1; }
}

# run_script NAME [SECONDS]: run the script NAME in the foreground in
# $CLONE (bounded: 60 s by default), as bats' run --separate-stderr
run_script() {
	run --separate-stderr timeout "${2:-60}" bash -c 'cd "$1" && . "$2"' _ \
		"$CLONE" "$BATS_TEST_TMPDIR/$1.sh" </dev/null
	printf '%s\n' "--- $1: status $status, stdout:" "$output" "--- stderr:" "$stderr"
}

# start_script NAME [DIR]: run the script NAME in the background in DIR
# ($CLONE by default), as the leader of a process group of its own, its
# stdout in $F.out and stderr in $F.err ($F: $BATS_TEST_TMPDIR/NAME).
# SCRIPT_WRAP, when set, is a command put before bash (t/syslog-ns -).
# Once the block's commands are done, the values it gave server, master
# and pf are written to $F.vars and the script waits for its background
# children, staying their parent. Sets SCRIPT_PID.
start_script() {
	local f=$BATS_TEST_TMPDIR/$1
	rm -f "$f.vars"
	setsid ${SCRIPT_WRAP:-} bash -c '
		cd "$1" || exit 1
		. "$2.sh"
		for v in server master pf; do
			[ -z "${!v:-}" ] || printf "%s=%q\n" "$v" "${!v}"
		done >"$2.vars.tmp"
		mv "$2.vars.tmp" "$2.vars"
		wait' _ "${2:-$CLONE}" "$f" </dev/null >"$f.out" 2>"$f.err" 3>&- &
	SCRIPT_PID=$!
	SCRIPT_PIDS+=("$SCRIPT_PID")
	# setsid makes it a group leader in place (no fork): its pid is the
	# group's once setsid has run in the child, which may take a moment
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(ps -o pgid= -p "$SCRIPT_PID" | tr -d ' ')" = "$SCRIPT_PID" ] && break
		sleep 0.05
	done
	[ "$(ps -o pgid= -p "$SCRIPT_PID" | tr -d ' ')" = "$SCRIPT_PID" ]
}

# script_vars NAME [SECONDS]: wait (bounded, 30 s by default) until the
# script NAME has run its block, then read the variables it saved
script_vars() {
	local f=$BATS_TEST_TMPDIR/$1 i
	for ((i = 0; i < ${2:-30} * 20; i++)); do
		if [ -e "$f.vars" ]; then
			. "$f.vars"
			return 0
		fi
		kill -0 "$SCRIPT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "the block $1 never finished; stdout, stderr:" >&2
	cat "$f.out" "$f.err" >&2
	return 1
}

# wait_lines FILE N [SECONDS]: wait (bounded) until FILE has N lines
wait_lines() {
	local i
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		kill -0 "$SCRIPT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "$1 never had $2 line(s):" >&2
	cat "$1" >&2
	return 1
}

# activated NAME PORT: wait (bounded) until the systemd-socket-activate
# that the script NAME runs says it listens on 127.0.0.1:PORT
activated() {
	local f=$BATS_TEST_TMPDIR/$1.err
	LOG=$f SERVER_PID=$SCRIPT_PID activate_listening "127.0.0.1:$2" && return 0
	echo "systemd-socket-activate never listened:" >&2
	cat "$f" >&2
	return 1
}

# port_listening PORT: wait (bounded) until something listens on
# 127.0.0.1:PORT; fails as soon as the running script has ended
port_listening() {
	local i
	for ((i = 0; i < 200; i++)); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$SCRIPT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# gone PID: wait (bounded, 5 s) until PID has exited
gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		alive "$1" || return 0
		sleep 0.05
	done
	echo "process $1 still running" >&2
	return 1
}

need_activate() {
	command -v systemd-socket-activate >/dev/null ||
		skip "no systemd-socket-activate"
}

@test "README: every fenced block is marked tested or not, and every tested one is run here" {
	run awk '
		/^```/ {
			if (inblk) { inblk = 0; next }
			inblk = 1
			if (prev !~ /^<!-- (test: [a-z0-9-]+|not tested: .+) -->$/)
				print "line " NR ": block without a test: or not tested: line"
			next
		}
		!inblk { prev = $0 }
		END { if (inblk) print "an unclosed block" }' "$README"
	[ -z "$output" ] || { echo "$output"; return 1; }
	local names name
	names=$(sed -n 's/^<!-- test: \([a-z0-9-]*\) -->$/\1/p' "$README")
	[ "$(wc -l <<<"$names")" -ge 15 ]
	[ -z "$(sort <<<"$names" | uniq -d)" ]
	for name in $names; do
		grep -Eq "(script|readme_block) $name( |\$)" "$BATS_TEST_FILENAME" ||
			{ echo "README block $name is run by no test" >&2; return 1; }
	done
}

@test "README: the stream-mode examples print what they say" {
	script stream
	run_script stream
	[ "$status" -eq 0 ]
	[ "$output" = "hello
3
220 $(uname -n) line-protocol ready
250 hello you
221 bye" ]
}

@test "README: -1 prints the TCP and the unix address; both serve examples/hello" {
	# /tmp/ -> this test's directory
	script listen "s|/tmp/|$BATS_TEST_TMPDIR/|g"
	start_script listen
	local out=$BATS_TEST_TMPDIR/listen.out
	wait_lines "$out" 2
	run -0 sed -n 1p "$out"
	[[ $output == 127.0.0.1:* ]]
	run -0 client "$output" --send 'hi\n'
	[ "$output" = "hello 127.0.0.1, this is $(uname -n)
you said: hi" ]
	run -0 sed -n 2p "$out"
	[ "$output" = "unix:$BATS_TEST_TMPDIR/hello.sock" ]
	run -0 client "$output" --send 'hi\n'
	[ "$output" = "hello there, this is $(uname -n)
you said: hi" ]
}

@test "README: the HTTP responder (-L) answers curl and serves on; killed by its saved pid" {
	local port
	port=$(free_port)
	# 8080 -> a free port
	script http "s/8080/$port/g"
	start_script http
	script_vars http
	[ -n "$server" ]
	run -0 cat "$BATS_TEST_TMPDIR/http.out"
	[ "$output" = "hello 127.0.0.1, you asked for /hello" ]
	# it did not exit after its client, and serves the next one
	alive "$server"
	run -0 curl -s "http://127.0.0.1:$port/again"
	[ "$output" = "hello 127.0.0.1, you asked for /again" ]
	alive "$server"
	kill "$server"
	wait_exit "$SCRIPT_PID" 15
	! alive "$server"
}

@test "README: under systemd-socket-activate, -m 50 exits after the 50th client (status 0)" {
	need_activate
	local port
	port=$(free_port)
	# 8080 -> a free port
	script limits "s/8080/$port/g"
	start_script limits
	activated limits "$port"
	# one client process, 49 connections one after the other: still there
	run -0 python3 -c '
import socket, sys
for n in range(49):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(b"line %d\n" % n)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    assert data.endswith(b"line %d\n" % n), data
    s.close()
' "$port"
	kill -0 "$SCRIPT_PID"
	run -0 client "127.0.0.1:$port" --send 'fifty\n'
	[[ $output == *fifty ]]
	wait_exit "$SCRIPT_PID" 10
	[ "$STATUS" -eq 0 ]
	grep -q 'use limit reached' "$BATS_TEST_TMPDIR/limits.err"
}

@test "README: under systemd-socket-activate, -i 3s exits 3 idle seconds after the last client (status 0)" {
	need_activate
	local port t0 t1
	port=$(free_port)
	# 8080 -> a free port
	script limits "s/8080/$port/g"
	start_script limits
	activated limits "$port"
	run -0 client "127.0.0.1:$port" --send 'one\n'
	[[ $output == *one ]]
	t0=$(now_ms)
	wait_exit "$SCRIPT_PID" 15
	t1=$(now_ms)
	[ "$STATUS" -eq 0 ]
	grep -q 'idle timeout -- exiting' "$BATS_TEST_TMPDIR/limits.err"
	# not before the idle time (the client's end is measured after it)
	[ $((t1 - t0)) -ge 2500 ]
}

@test "README: with -L, -m 2 re-executes instead of exiting: five clients answered by one process that serves on" {
	local port
	port=$(free_port)
	# 8080 -> a free port
	script own-socket "s/8080/$port/g"
	# no /dev/log in its namespace: the server logs to stderr, here as on
	# a machine with a syslog socket
	SCRIPT_WRAP="$SRC/t/syslog-ns -" start_script own-socket
	script_vars own-socket 60
	[ -n "$server" ]
	run -0 cat "$BATS_TEST_TMPDIR/own-socket.out"
	[ "$output" = "hello 127.0.0.1, you asked for /1
hello 127.0.0.1, you asked for /2
hello 127.0.0.1, you asked for /3
hello 127.0.0.1, you asked for /4
hello 127.0.0.1, you asked for /5" ]
	alive "$server"
	[ "$(readlink "/proc/$server/exe")" = "$(readlink -f "$BUILD/bin/single-server")" ]
	# and it did re-execute: SIGUSR1's line (on stderr, where the server
	# logs without a syslog socket) counts at least two for five clients
	local err=$BATS_TEST_TMPDIR/own-socket.err n i
	kill -USR1 "$server"
	for ((i = 0; i < 100; i++)); do
		n=$(sed -nE 's/.*: status: served [0-9]+, .*, ([0-9]+) re-execution\(s\) before it$/\1/p' "$err")
		[ -z "$n" ] || break
		sleep 0.05
	done
	cat "$err"
	[ -n "$n" ]
	[ "$n" -ge 2 ]
	kill "$server"
	wait_exit "$SCRIPT_PID" 15
}

@test "README: Serving TLS: http-hello answers curl --cacert; after the renewal and SIGHUP the same process serves the new certificate" {
	need_tls
	local port i tls=$BATS_TEST_TMPDIR/tls
	port=$(free_port)
	# 8443 -> a free port; /tmp/ -> this test's directory
	script tls "s/8443/$port/g; s|/tmp/|$BATS_TEST_TMPDIR/|g"
	start_script tls
	script_vars tls
	[ -n "$server" ]
	run -0 cat "$BATS_TEST_TMPDIR/tls.out"
	[ "$output" = "hello 127.0.0.1, you asked for /hello" ]
	[ "$(stat -c %a "$tls/key.pem")" = 600 ]
	cp "$tls/cert.pem" "$BATS_TEST_TMPDIR/old.pem"
	# the renewal block, in a shell of its own: it needs only $server
	script tls-renew "s|/tmp/|$BATS_TEST_TMPDIR/|g"
	export server
	run_script tls-renew
	[ "$status" -eq 0 ]
	! cmp -s "$tls/cert.pem" "$BATS_TEST_TMPDIR/old.pem"
	# the new image is ready once a client trusting only the new
	# certificate gets its answer (the old one fails verification)
	for ((i = 0; i < 200; i++)); do
		curl -s --max-time 5 --cacert "$tls/cert.pem" -o /dev/null \
			"https://localhost:$port/" && break
		alive "$server"
		sleep 0.05
	done
	run -0 curl -sS --max-time 5 --cacert "$tls/cert.pem" "https://localhost:$port/new"
	[ "$output" = "hello 127.0.0.1, you asked for /new" ]
	run curl -sS --max-time 5 --cacert "$BATS_TEST_TMPDIR/old.pem" "https://localhost:$port/"
	[ "$status" -eq 60 ]
	# by the same process, re-executed
	alive "$server"
	[ "$(readlink "/proc/$server/exe")" = "$(readlink -f "$BUILD/bin/single-server")" ]
	kill "$server"
	wait_exit "$SCRIPT_PID" 15
}

@test "README: --check says 0 for a good command line and 100 for a misspelt parameter" {
	script check
	run_script check
	[ "$output" = "0
100" ]
	[[ $stderr == *max_usr* ]]
}

@test "README: --print-config prints what -f and -o add up to, as written" {
	script print-config "s|/tmp/|$BATS_TEST_TMPDIR/|g"
	run_script print-config
	[ "$status" -eq 0 ]
	[ "$output" = 'max_use = 50
syslog_name = $process_name' ]
	grep -qF 'prints `max_use = 50` and `syslog_name = $process_name`.' "$README"
}

@test "README: the in-flow example serves its client" {
	script in-flow
	run_script in-flow
	[ "$status" -eq 0 ]
	[ "$output" = "hello stranger, this is $(uname -n)
hi" ]
}

@test "README: the rules shown are a valid rules file: the most specific wins, allow adds variables" {
	local rules=$BATS_TEST_TMPDIR/rules
	readme_block rules-file >"$rules"
	[ -s "$rules" ]
	run -0 "$SS" --check -o access_rules="$rules" -- cat
	run -0 --separate-stderr "$SS" -S --remote='[2001:db8::1]:5555' -o access_rules="$rules" -- env </dev/null
	[[ $output == *TIER=gold* ]]
	[[ $output == *"GREETING=hello there"* ]]
	# a deny message ends with CR LF
	run -0 --separate-stderr "$SS" -S --remote=10.1.2.3:5555 -o access_rules="$rules" -- cat <<<hi
	[ "$output" = $'sorry, not you\r' ]
	run -0 --separate-stderr "$SS" -S --remote=10.1.2.4:5555 -o access_rules="$rules" -- cat <<<hi
	[ "$output" = hi ]
}

@test "README: the host-name rules pass --check; an address rule needs no DNS, a nameless client is left to *" {
	local rules=$BATS_TEST_TMPDIR/host.rules port t0 t1
	readme_block host-rules >"$rules"
	[ -s "$rules" ]
	run -0 "$SS" --check -o access_rules="$rules" -- cat
	# a UDP port that nobody answers on: a lookup can only time out
	port=$(free_port)
	# the office network: decided by its address rule, at once
	t0=$(now_ms)
	run -0 --separate-stderr "$SS" -S --remote=192.168.10.7:5555 -o access_rules="$rules" \
		-o dns_servers="127.0.0.1:$port" -o dns_timeout=5s -- env </dev/null
	t1=$(now_ms)
	[[ $output == *LAN=office* ]]
	[[ $output != *TCPREMOTEHOST* ]]
	[ $((t1 - t0)) -lt 2500 ]
	# anyone else is looked up for the name rules: no answer within
	# dns_timeout, no name, and "*" denies
	t0=$(now_ms)
	run -0 --separate-stderr "$SS" -S --remote=198.51.100.7:5555 -o access_rules="$rules" \
		-o dns_servers="127.0.0.1:$port" -o dns_timeout=1s -- cat <<<hi
	t1=$(now_ms)
	[ "$output" = $'554 not from here\r' ]
	[ $((t1 - t0)) -ge 900 ]
}

@test "README: --remote tries the rules from a pipe: denied with the message, then allowed" {
	# /tmp/ -> this test's directory
	script rules-remote "s|/tmp/|$BATS_TEST_TMPDIR/|g"
	run_script rules-remote
	[ "$status" -eq 0 ]
	# a deny message ends with CR LF
	[ "$output" = $'sorry, not you\r\nhi' ]
}

@test "README: the PROXY protocol server sees the client the header names; the pipe shows it in the environment" {
	local port
	port=$(free_port)
	# 7000 -> a free port
	script proxy-server "s/7000/$port/g"
	start_script proxy-server
	port_listening "$port"
	run -0 client "127.0.0.1:$port" \
		--send 'PROXY TCP4 192.0.2.7 198.51.100.1 5555 25\r\nhi\n'
	[ "$output" = "hello 192.0.2.7, this is $(uname -n)
you said: hi" ]
	# no header: closed without a handler
	run client "127.0.0.1:$port" --send 'hi\n'
	[ -z "$output" ]
	script proxy-pipe
	run_script proxy-pipe
	[ "$status" -eq 0 ]
	grep -qx 'TCPREMOTEIP=192.0.2.7' <<<"$output"
	grep -qx 'TCPREMOTEPORT=5555' <<<"$output"
}

@test "README: the Accept=no try-out serves one client and exits (status 0)" {
	need_activate
	local port
	port=$(free_port)
	# 8080 -> a free port
	script accept-no "s/8080/$port/g"
	start_script accept-no
	activated accept-no "$port"
	run -0 client "127.0.0.1:$port" --send 'hi\n'
	[ "$output" = "hello 127.0.0.1, this is $(uname -n)
hi" ]
	wait_exit "$SCRIPT_PID" 10
	[ "$STATUS" -eq 0 ]
}

@test "README: the master.cf lines shown are those of examples/master.cf" {
	run -0 readme_block master-cf
	[ "$output" = "$(grep -v '^#' "$SRC/examples/master.cf")" ]
}

@test "README: the private Postfix recipe runs policy-dunno under a real master(8)" {
	need_postfix
	[ "$(id -u)" -eq 0 ] || skip "the recipe runs as root"
	local port
	port=$(free_port)
	# 10040 -> a free port
	script postfix-private "s/10040/$port/g"
	start_script postfix-private
	script_vars postfix-private 30
	PF=$pf
	MASTER_PID=$master
	[[ $PF == /tmp/pf.?????? ]]
	[ -n "$MASTER_PID" ]
	run -0 cat "$BATS_TEST_TMPDIR/postfix-private.out"
	[ "$output" = "action=dunno" ]
	# the master serves on (a single-server of its own session did the work)
	alive "$MASTER_PID"
	run -0 client "127.0.0.1:$port" --send 'request=smtpd_access_policy\n\n'
	[ "$output" = "action=dunno" ]
	# stopped by its saved pid, with the processes it ran
	local procs p
	procs=$(postfix_procs)
	[ -n "$procs" ]
	postfix_stop
	wait_exit "$SCRIPT_PID" 10
	for p in $procs; do
		gone "$p"
	done
}

@test "README: the library's include line is examples/echo-server.c's" {
	run -0 readme_block library-include
	grep -qxF -- "$output" "$SRC/examples/echo-server.c"
}

@test "README: a prefix install: pkg-config and -rpath link echo-server.c; without the rpath, LD_LIBRARY_PATH; make uninstall leaves nothing of ours" {
	local src=$BATS_TEST_TMPDIR/src
	# a clean source tree, as a release unpacks: the build tree's distdir
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -C "$BUILD" distdir distdir="$src" >/dev/null
	[ -x "$src/configure" ]
	script prefix
	# the reader's environment: no flags of this build, no make jobserver
	run --separate-stderr env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS \
		-u CPPFLAGS -u LDFLAGS -u CC -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH \
		timeout 600 bash -c 'cd "$1" && . "$2"' _ "$src" "$BATS_TEST_TMPDIR/prefix.sh" \
		</dev/null
	[ "$status" -eq 0 ] || { echo "$output" "$stderr" | tail -30; return 1; }
	[ "$(tail -2 <<<"$output")" = "echo service ready
hi" ]
	[ -f "$HOME/ss/share/doc/single-server/examples/echo-server.c" ]
	[ -f "$HOME/ss/share/doc/single-server/examples/line-echo.c" ]
	# built as the library-cc block says, the program does not find the
	# library under this prefix, unless LD_LIBRARY_PATH says where
	script library-cc
	run -127 env -u LD_LIBRARY_PATH PKG_CONFIG_PATH="$HOME/ss/lib/pkgconfig" \
		bash -c 'cd "$1" && . "$2" && ./echo-server -S' _ "$src" \
		"$BATS_TEST_TMPDIR/library-cc.sh" <<<hi
	[[ $output == *"libsingleserver.so.2: cannot open shared object file"* ]]
	run -0 env LD_LIBRARY_PATH="$HOME/ss/lib" "$src/echo-server" -S <<<hi
	[ "$output" = "echo service ready
hi" ]
	# make uninstall: no file left, and no directory of this package
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$src" uninstall >/dev/null
	run -0 find "$HOME/ss" -type f
	[ -z "$output" ]
	run -0 find "$HOME/ss" -name '*single*'
	[ -z "$output" ]
}

#!/usr/bin/env bats
# library.bats - libsingleserver(3) used in-process: examples/echo-server
# gives only a service callback and hooks; the skeleton does the rest.
bats_require_minimum_version 1.5.0

load helper

ECHO=$BUILD/examples/echo-server
LINE_ECHO=$BUILD/examples/line-echo

@test "in-process stream mode: the service gets the client on stdin/stdout" {
	run "$ECHO" -S -o echo_banner=hello <<<"hi"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'hello\nhi')" ]
}

@test "in-process resident mode: clients are served, max_use ends the server with status 0" {
	SS=$ECHO start_held_server -v -m 2
	run client "$ADDR" --send 'one\n'
	[ "$output" = "$(printf 'echo service ready\none')" ]
	run client "$ADDR" --send 'two\n'
	[ "$output" = "$(printf 'echo service ready\ntwo')" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "the hooks run in order: pre_init, post_init, then pre_accept and loop per client, pre_exit" {
	SS=$ECHO start_held_server -v -m 2 -- word
	client "$ADDR" >/dev/null
	client "$ADDR" >/dev/null
	wait_status "$SERVER_PID" 5
	run sed -nE "s/^${STAMP}echo-server\[[0-9]+\]: hook //p" "$LOG"
	# pre_accept runs before each accept() call, so it may run more
	# often than clients come; squeeze repeats to compare the order.
	[ "$(uniq <<<"$output")" = "$(printf '%s\n' \
		'pre_init: 1 operand(s) starting with word, resident mode' \
		'post_init' 'pre_accept' 'loop: 1 served' 'pre_accept' \
		'loop: 2 served' 'pre_exit: 2 served')" ]
}

@test "an in-process server honours max_idle and logs its way out" {
	SS=$ECHO start_held_server -v -i 1
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -q 'idle timeout -- exiting' "$LOG"
	grep -q 'hook pre_exit: 0 served' "$LOG"
}

@test "an in-process server leaves on SIGTERM with status 0" {
	SS=$ECHO start_server -v -L 127.0.0.1:0
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -q 'hook pre_exit' "$LOG"
}

@test "the application's own parameters are read like the skeleton's" {
	printf 'echo_banner = from\n  the file\n' >"$BATS_TEST_TMPDIR/echo.cf"
	run "$ECHO" -S -f "$BATS_TEST_TMPDIR/echo.cf" <<<"x"
	[ "$output" = "$(printf 'from the file\nx')" ]
	run --separate-stderr "$ECHO" -S -o echo_baner=x </dev/null
	[ "$status" -eq 100 ]
	[[ "$stderr" == *'unknown parameter "echo_baner"'* ]]
}

@test "--print-config prints the application's own parameters with the skeleton's" {
	run -0 --separate-stderr "$ECHO" --print-config -o echo_banner='hi $syslog_name' -m 3
	[ "$output" = "$(printf '%s\n' 'max_use = 3' 'echo_banner = hi $syslog_name')" ]
	run -0 --separate-stderr "$ECHO" --print-config=all
	[[ "$output" == *$'\nsyslog_name = echo-server\n'*'echo_banner = echo service ready' ]]
}

@test "logs carry the application's name as the syslog tag" {
	run --separate-stderr "$ECHO" -S -V -v </dev/null
	[[ $stderr =~ ^${STAMP}echo-server\[[0-9]+\]:\ hook\ pre_init ]]
}

# --- the installed library ------------------------------------------------------

# install_lib: "make install" into a private DESTDIR, once for this file;
# sets ROOT, PREFIX (as configured) and PCDIR
install_lib() {
	ROOT=$BATS_FILE_TMPDIR/root
	if [ ! -d "$ROOT" ]; then
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILD" \
			install DESTDIR="$ROOT" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
			{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
	fi
	PCDIR=$(dirname "$(find "$ROOT" -name libsingleserver.pc | head -n 1)")
	[ -d "$PCDIR" ]
	PREFIX=$(sed -n 's/^prefix=//p' "$PCDIR/libsingleserver.pc")
}

# The programs built here link the installed library: under the sanitizer
# build it is instrumented, and a program linking it must be compiled by
# the same compiler ($CC) with the same -fsanitize flags (SS_SANITIZE), or
# the ASan runtime would be missing, or not the first library loaded.

# pc ARGS...: pkg-config on the privately installed library
pc() {
	PKG_CONFIG_PATH=$PCDIR pkg-config --define-variable=prefix="$ROOT$PREFIX" "$@"
}

# make_var NAME: the value of the build's make variable NAME
make_var() {
	printf 'print-%%:\n\t@echo $($*)\n' >"$BATS_TEST_TMPDIR/print.mk"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$BUILD" \
		-f Makefile -f "$BATS_TEST_TMPDIR/print.mk" "print-$1"
}

@test "make install, then make uninstall, into a prefix: its file list is what it was before" {
	local dest=$BATS_TEST_TMPDIR/dest var dir
	# the directories a prefix shares with other software exist already
	# (as under /usr/local): uninstall leaves those, and only those
	for var in bindir libdir pkgconfigdir includedir man3dir man8dir docdir; do
		dir=$(make_var "$var")
		[[ $dir == /* ]]
		[ "$var" != docdir ] || dir=${dir%/*}	# share/doc; docdir is ours
		mkdir -p "$dest$dir"
	done
	find "$dest" | sort >"$BATS_TEST_TMPDIR/before"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILD" install DESTDIR="$dest" \
		>"$BATS_TEST_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_TEST_TMPDIR/install.log" >&2; return 1; }
	find "$dest" | sort >"$BATS_TEST_TMPDIR/installed"
	# it did install: the tool, the library, the header, the pages, the examples
	[ -x "$dest$(make_var bindir)/single-server" ]
	[ -f "$dest$(make_var pkgincludedir)/single_server.h" ]
	[ -x "$dest$(make_var exampledir)/hello" ]
	[ "$(comm -13 "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/installed" | wc -l)" -gt 30 ]
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILD" uninstall DESTDIR="$dest" \
		>"$BATS_TEST_TMPDIR/uninstall.log" 2>&1 ||
		{ cat "$BATS_TEST_TMPDIR/uninstall.log" >&2; return 1; }
	find "$dest" | sort >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "the installed shared library exports only prefixed names: single_server_, ss_" {
	install_lib
	local so
	so=$(find "$ROOT" -name 'libsingleserver.so.*' -type f | head -n 1)
	[ -n "$so" ]
	run nm -D --defined-only "$so"
	[ "$status" -eq 0 ]
	echo "$output"
	run bash -c "nm -D --defined-only '$so' | awk '{ print \$3 }' |
		grep -Ev '^(single_server_|ss_)' | grep -v '^_' || true"
	[ -z "$output" ]
	nm -D --defined-only "$so" | grep -qw single_server_main
	nm -D --defined-only "$so" | grep -qw ss_msg_info
}

@test "only <single-server/single_server.h> is installed, reached by that path" {
	install_lib
	[ -f "$ROOT$PREFIX/include/single-server/single_server.h" ]
	[ "$(find "$ROOT$PREFIX/include" -type f | wc -l)" -eq 1 ]
	[[ "$(pc --cflags libsingleserver)" != *"/include/single-server"* ]]
}

@test "a program with its own msg_info, mymalloc, notify_init, options_parse and param.h links and serves" {
	install_lib
	local prog=$BATS_TEST_TMPDIR/clash
	${CC:-cc} -std=c11 -Wall -Wextra -Werror ${SS_SANITIZE:-} -I"$SRC/t/clash" \
		-o "$prog" "$SRC/t/clash/clash.c" $(pc --cflags --libs libsingleserver)
	export LD_LIBRARY_PATH=$ROOT$PREFIX/lib
	# the program's names are its own: the library called none of them
	run -0 --separate-stderr "$prog" -S <<<"hi"
	[ "$output" = "hi
own param.h calls=6" ]
	SS=$prog start_held_server -m 1 -o clash_greeting=hello
	run client "$ADDR" --send 'there\n'
	[ "$output" = "there
hello calls=6" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
}

@test "a child that pre_init started is the application's: its own waitpid gets the status, nothing is logged" {
	SS=$BUILD/t/own-child start_held_server -v -m 1
	run client "$ADDR"
	[[ "$output" =~ ^child\ ([0-9]+)\ exit\ 7$ ]]
	local pid=${BASH_REMATCH[1]}
	wait_status "$SERVER_PID" 5
	! grep -q "pid $pid" "$LOG"
}

@test "the example of libsingleserver(3) builds from the page and greets in stream and resident mode" {
	install_lib
	local prog=$BATS_TEST_TMPDIR/greet
	# the lines between the markers, without .Bd/.Ed, "\e" back to "\"
	sed -n '/^\.\\" example begin$/,/^\.\\" example end$/p' \
		"$SRC/man/libsingleserver.3" |
		sed -e '/^\.\\" example /d' -e '/^\.Bd /d' -e '/^\.Ed$/d' \
			-e 's/\\e/\\/g' >"$prog.c"
	grep -q 'single_server_main' "$prog.c"
	${CC:-cc} -std=c11 -Wall -Wextra -Werror ${SS_SANITIZE:-} -o "$prog" "$prog.c" \
		$(pc --cflags --libs libsingleserver)
	export LD_LIBRARY_PATH=$ROOT$PREFIX/lib
	run -0 --separate-stderr "$prog" -S <<<"world"
	[ "$output" = "Hello, world!" ]
	SS=$prog start_held_server -m 1 -o greet_greeting=Welcome
	run client "$ADDR" --send 'world\n'
	[ "$output" = "Welcome, world!" ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	grep -q 'greet\[[0-9]*\]: greeting world from 127\.0\.0\.1$' "$LOG"
}

@test "examples/line-echo answers each client's first line in-process, and nothing more" {
	SS=$LINE_ECHO start_server -L 127.0.0.1:0 -o max_use=0
	run client "$ADDR" --send 'ping\nmore\n'
	[ "$output" = ping ]
	run client "$ADDR" --send 'pong\n'
	[ "$output" = pong ]
	[ -z "$(pgrep -P "$SERVER_PID")" ]
	run "$LINE_ECHO" -S <<<"hi"
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "in-process stream mode: SIGTERM during the in-flow pause serves the client, then the process exits" {
	local state=$BATS_TEST_TMPDIR/state in=$BATS_TEST_TMPDIR/in
	local out=$BATS_TEST_TMPDIR/out flow
	mkdir -p "$state"
	flow=(-n svc -o state_directory="$state" -o in_flow_rate=1
		-o in_flow_burst=1 -o in_flow_delay=10s)
	run "$ECHO" -S "${flow[@]}" -o echo_banner=first <<<"x"
	[ "$status" -eq 0 ]
	echo paused >"$in"
	LOG=$BATS_TEST_TMPDIR/server.log
	"$ECHO" -S -v -V "${flow[@]}" -o echo_banner=second <"$in" >"$out" \
		2>"$LOG" 3>&- &
	SERVER_PID=$!
	BG_PIDS+=("$SERVER_PID")
	wait_for_log 'pausing 10s'
	kill -TERM "$SERVER_PID"
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$out")" = "$(printf 'second\npaused')" ]
}

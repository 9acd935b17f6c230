#!/usr/bin/env bats
# library.bats - libsingleserver(3) used in-process: examples/echo-server
# gives only a service callback and hooks; the skeleton does the rest.
bats_require_minimum_version 1.5.0

load helper

ECHO=$BUILD/examples/echo-server

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
	run sed -n 's/^echo-server\[[0-9]*\]: hook //p' "$LOG"
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

@test "logs carry the application's name as the syslog tag" {
	run --separate-stderr "$ECHO" -S -V -v </dev/null
	[[ "$stderr" == "echo-server["*"]: hook pre_init"* ]]
}

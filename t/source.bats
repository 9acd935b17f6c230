#!/usr/bin/env bats
# source.bats - rules of the source that no behaviour test can force: a
# failure that libevent reports only when memory runs out must not be
# ignored (a timer that silently failed to arm would leave a handler
# running past its limit, or a server that never leaves).

load helper

@test "every event_add() and evtimer_add() result is checked (timers through timer_arm)" {
	# a call as a statement of its own throws the result away
	run grep -nE '^[[:space:]]*(\(void\)[[:space:]]*)?(evtimer_add|event_add)[[:space:]]*\(' \
		"$SRC"/lib/*.c
	echo "$output"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

#!/usr/bin/env bats
# load.bats - single-server(8) resident mode under a bounded load: many
# short connections, each to a fresh handler process, lose nothing and
# leave nothing behind (no zombie, no descriptor, no memory growth).
#
# Related: reexec.bats runs 2,000 connections at concurrency 8 across
# some 100 re-executions (-m 20); here -m 0 keeps one image throughout,
# so that whatever one connection leaks adds up.

bats_require_minimum_version 1.5.0

load helper

# fd_count PID: how many descriptors PID has open
fd_count() {
	ls "/proc/$1/fd" | wc -l
}

# rss_kb PID: the resident set size of PID in kB
rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

@test "20,000 connections at concurrency 32, -z -m 0, a C handler: every reply arrives; no zombie, no fd leaked, RSS within 10%" {
	local handler=$BUILD/t/static-echo fds0 fds1 rss0 rss1 t0 secs
	[ -x "$handler" ] || {
		echo "$handler is not built: make check builds it" >&2
		return 1
	}
	start_server -z -m 0 -L 127.0.0.1:0 "$handler"
	# A warm-up at the same concurrency: the tables of handlers and
	# libevent's and malloc's structures reach their working size.
	run -0 python3 "$SRC/t/load.py" "$ADDR" 1000 32 --seconds 30
	no_children "$SERVER_PID"
	fds0=$(fd_count "$SERVER_PID")
	rss0=$(rss_kb "$SERVER_PID")
	t0=$(now_ms)
	# bounded: no new connection after 50 s (then the count falls short)
	run python3 "$SRC/t/load.py" "$ADDR" 20000 32 --seconds 50
	secs=$(( ($(now_ms) - t0) / 1000 ))
	echo "$output"
	[ "${lines[0]}" = "ok 20000 failed 0" ]
	[ "$status" -eq 0 ]
	no_children "$SERVER_PID"
	fds1=$(fd_count "$SERVER_PID")
	rss1=$(rss_kb "$SERVER_PID")
	echo "${secs}s; fds $fds0 -> $fds1; RSS ${rss0} kB -> ${rss1} kB"
	[ "$fds1" -eq "$fds0" ]
	# Under ASan (.ci/sanitize) freed memory waits in its quarantine, so
	# RSS says nothing there; LeakSanitizer checks the leaks instead.
	if [ -n "${SS_SANITIZE:-}" ]; then
		echo "# RSS not compared under ASan: its quarantine keeps freed memory" >&3
	else
		[ $((rss1 * 10)) -le $((rss0 * 11)) ]
		[ $((rss1 * 10)) -ge $((rss0 * 9)) ]
	fi
	# and it goes on serving
	run client "$ADDR" --send 'after\n'
	[ "$output" = "static: after" ]
	[ "$(grep -cE 'warning|fatal' "$LOG")" -eq 0 ]
}

#!/usr/bin/env bats
# upgrade.bats - an upgrade from the previous release to this program,
# under load, loses no client. The server runs the previous release's
# program (./dev old-release builds it from git history, once) from a
# copy in a temporary directory; the test puts this build's program in
# its place as a package manager does (a new file renamed over the path)
# and sends SIGHUP: the old image must hand everything over to the new
# one in the same process, which then re-executes itself again.
#
# SS_OLD_RELEASE, when set, names that program instead (.ci/run builds it
# once and sets it, so that its runs on copies without git history run
# these tests too). Without either, only a tree without git history (a
# tarball, make distcheck) skips them; a failed build fails them.

bats_require_minimum_version 1.5.0

load helper

# OLD_SS: the previous release's program; OLD_WHY: why there is none
setup_file() {
	local status=0
	export OLD_SS=${SS_OLD_RELEASE:-} OLD_WHY=
	[ -z "$OLD_SS" ] || return 0
	OLD_SS=$("$SRC/dev" old-release "$BUILD/t/old-release") || status=$?
	case $status in
	0) ;;
	2) OLD_WHY="no git history here (a tarball build): the previous release cannot be built" ;;
	*) echo "upgrade.bats: ./dev old-release failed (status $status)" >&2; return 1 ;;
	esac
}

setup() {
	[ -z "$OLD_WHY" ] || skip "$OLD_WHY"
	[ -x "$OLD_SS" ] || { echo "no program at $OLD_SS" >&2; return 1; }
	D=$BATS_TEST_TMPDIR/d
	mkdir -p "$D"
	BIN=$BATS_TEST_TMPDIR/sbin/single-server
	mkdir -p "${BIN%/*}"
	cp "$OLD_SS" "$BIN"
}

teardown() {
	: >"$D/release"
	cleanup_bg
}

# upgrade: this build's program renamed over $BIN, as a package manager
# installs it, then SIGHUP
upgrade() {
	cp "$SS" "$BIN.new"
	mv "$BIN.new" "$BIN"
	kill -HUP "$SERVER_PID"
}

# runs_new: the server's program is the file now at $BIN (the new one)
runs_new() {
	[ "$(stat -L -c %i "/proc/$SERVER_PID/exe")" = "$(stat -c %i "$BIN")" ]
}

# load_done NAME PID COUNT: wait for the load.py started as PID, its report
# in $D/load.NAME: every one of its COUNT clients got its whole answer
load_done() {
	wait_status "$2" 120
	cat "$D/load.$1"
	[ "$STATUS" -eq 0 ]
	[ "$(head -n 1 "$D/load.$1")" = "ok $3 failed 0" ]
}

# count TEXT: how many lines of the server log have TEXT
count() {
	grep -cF -- "$1" "$LOG" || true
}

# reexec_after N: wait (bounded) until the server re-executed more than N
# times and the image of its latest re-execution is ready
reexec_after() {
	wait_log_count ': re-executing ' $(($1 + 1)) 20 &&
		wait_log_count ': ready: ' $(($(count ': re-executing ') + 1)) 20
}

# reload_line: the line of the first re-execution after the first SIGHUP
# since the line numbered $1 of the log: what the old image handed over
reload_line() {
	tail -n +"$1" "$LOG" | sed -n '/signal 1 (reload)/,$p' |
		grep -m 1 ': re-executing .* handed over'
}

# A handler that takes some time (0.2 s); "hold" writes its pid to
# $1/held and waits for $1/release
SLOW='IFS= read -r l
case $l in
hold)	echo $$ >"$1/held.new"
	mv "$1/held.new" "$1/held"
	i=0
	while [ ! -e "$1/release" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done ;;
*)	sleep 0.2 ;;
esac
echo "$l"'

@test "an upgrade from the previous release under load: same pid, new program, no client lost or reset over TCP and unix, handlers and paused clients handed over; a second SIGHUP too" {
	local sock=$BATS_TEST_TMPDIR/s.sock tcp unix hold n from line
	SS=$BIN start_server -v -m 30 -n "upgrade-$BATS_TEST_NUMBER-$$" \
		-o in_flow_rate=10 -o in_flow_burst=10 -o in_flow_delay=2 \
		-o state_directory="$BATS_TEST_TMPDIR/state" \
		-L 127.0.0.1:0 -L "unix:$sock" sh -c "$SLOW" sh "$D"
	[ "$(readlink "/proc/$SERVER_PID/exe")" = "$BIN" ]
	# one process each, many connections; each must get its whole answer
	bg python3 "$SRC/t/load.py" "$ADDR" 120 6 >"$D/load.tcp"
	tcp=$BG_PID
	bg python3 "$SRC/t/load.py" "${ADDRS[1]}" 50 3 >"$D/load.unix"
	unix=$BG_PID
	# a handler running across both re-executions
	bg client "$ADDR" --send 'hold\n' --timeout 40 >"$D/hold"
	hold=$BG_PID
	wait_for_file "$D/held"
	# the old image under load: re-executed at max_use, clients paused
	wait_log_count ': re-executing ' 1 30
	# a client has just begun its 2 s pause: it is paused at the handover
	n=$(count 'no in-flow token')
	wait_log_count 'no in-flow token' $((n + 1)) 30
	from=$(($(wc -l <"$LOG") + 1))
	n=$(count ': re-executing ')
	upgrade
	reexec_after "$n"
	runs_new
	line=$(reload_line "$from")
	echo "$line"
	[[ $line =~ \ ([0-9]+)\ handler\(s\),\ ([0-9]+)\ paused ]]
	[ "${BASH_REMATCH[1]}" -ge 1 ]
	[ "${BASH_REMATCH[2]}" -ge 1 ]
	# the new program re-executes itself on SIGHUP, still under load
	from=$(($(wc -l <"$LOG") + 1))
	n=$(count ': re-executing ')
	kill -HUP "$SERVER_PID"
	reexec_after "$n"
	reload_line "$from"
	runs_new
	: >"$D/release"
	wait_status "$hold" 20
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$D/hold")" = hold ]
	wait_for_log "handler pid $(cat "$D/held") exit status 0"
	load_done tcp "$tcp" 120
	load_done unix "$unix" 50
	# one process all along; every handler reaped
	[ "$(grep -c ': ready: ' "$LOG")" -eq "$(grep -c "\[$SERVER_PID\]: ready: " "$LOG")" ]
	alive "$SERVER_PID"
	no_children "$SERVER_PID" 10
	! grep -qE 'fatal|panic|exiting' "$LOG"
}

# PROXY: the header and what follows it, as a proxy sends them
HEADER='PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\n'

# held_client OUT GO: a client that sends half its PROXY header, the rest
# once GO exists; returns once it is connected (BG_PID: its pid)
held_client() {
	local i
	bg python3 "$SRC/t/proxy-client.py" "$ADDR" \
		v1:"TCP4 203.0.113.7 198.51.100.1 5555 443" --split 10 \
		--until "$2" --print-port --send 'across\n' --timeout 30 >"$1"
	for ((i = 0; i < 200; i++)); do
		[ ! -s "$1" ] || return 0
		sleep 0.05
	done
	return 1
}

@test "an upgrade from the previous release behind PROXY headers: a burst and clients halfway through their header are all served, twice" {
	local held burst n
	SS=$BIN start_server -v -m 15 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_timeout=30s -L 127.0.0.1:0 -- "$H/proxy-show"
	held_client "$D/a" "$D/go.a"
	held=$BG_PID
	# accepted in order: once a later client is served, the first one
	# was accepted and waits for the rest of its header
	run -0 burst "$ADDR" 1 --send "${HEADER}later\n"
	[[ $output == *"|--|later"* ]]
	bg burst "$ADDR" 60 --send "${HEADER}many\n" --timeout 30 >"$D/burst"
	burst=$BG_PID
	n=$(count ': re-executing ')
	upgrade
	reexec_after "$n"
	runs_new
	grep -qE 'handler\(s\), [0-9]+ paused client\(s\) and [1-9][0-9]* still sending a PROXY header handed over' "$LOG"
	: >"$D/go.a"
	wait_status "$held" 20
	[ "$STATUS" -eq 0 ]
	run cat "$D/a"
	[ "$(var TCPREMOTEIP)" = 203.0.113.7 ]
	[ "$(tail -n 1 "$D/a")" = across ]
	# the new program hands such a client over to itself
	held_client "$D/b" "$D/go.b"
	held=$BG_PID
	run -0 burst "$ADDR" 1 --send "${HEADER}later\n"
	n=$(count ': re-executing ')
	kill -HUP "$SERVER_PID"
	reexec_after "$n"
	: >"$D/go.b"
	wait_status "$held" 20
	[ "$STATUS" -eq 0 ]
	[ "$(tail -n 1 "$D/b")" = across ]
	wait_status "$burst" 30
	[ "$STATUS" -eq 0 ]
	[ "$(grep -c 'TCPREMOTEIP=203.0.113.7|.*|--|many$' "$D/burst")" -eq 60 ]
}

# downgrade: the previous release's program renamed over $BIN, then SIGHUP
downgrade() {
	cp "$OLD_SS" "$BIN.old"
	mv "$BIN.old" "$BIN"
	kill -HUP "$SERVER_PID"
}

@test "a downgrade to the previous release while a refused client lingers: the old program takes over and serves on" {
	local rules=$BATS_TEST_TMPDIR/rules
	printf '127.0.0.2 deny go away\n* allow\n' >"$rules"
	cp "$SS" "$BIN"
	SS=$BIN start_server -v -L 127.0.0.1:0 -o access_rules="$rules" \
		"$H/echo-line"
	# refused, and still connected: it lingers (2 s) while the exec comes
	bg client "$ADDR" --bind 127.0.0.2 --hold 5 >"$D/refused.out"
	wait_for_log "deny 127.0.0.2"
	downgrade
	reexec_after 0
	grep -q "with 1 refused client(s) lingering" "$LOG"
	! grep -E 'fatal|panic' "$LOG" || false
	runs_new		# the file at $BIN: the old program now
	run -0 client "$ADDR" --send 'after\n'
	[ "$output" = after ]
}

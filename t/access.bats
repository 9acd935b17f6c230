#!/usr/bin/env bats
# access.bats - access rules (SPEC section 10): allow and deny by address,
# network, IPv6 and unix peer uid, in resident and stream mode (--remote);
# the most specific rule wins whatever the order; no match denies; allow
# assignments reach the handler; a deny message reaches the client and no
# handler runs; denials are logged, counted in STATUS= and not toward
# max_use; a bad rules file is exit 100 naming the file and the line
# (bad and duplicate host names too); examples/access.rules loads and
# decides.
#
# The handler is t/handlers/access-show: it appends "ran ADDRESS" to $RAN
# and prints the connection's variables and the rules' assignments.

bats_require_minimum_version 1.5.0

load helper

setup() {
	RAN=$BATS_TEST_TMPDIR/ran
	OUT=$BATS_TEST_TMPDIR/out
	ERR=$BATS_TEST_TMPDIR/err
	PUBLIC_DIR=
}

teardown() {
	cleanup_bg
	if [ -n "$PUBLIC_DIR" ]; then
		rm -rf "$PUBLIC_DIR"
	fi
}

# rules NAME: write stdin to the rules file $BATS_TEST_TMPDIR/NAME; sets R
rules() {
	R=$BATS_TEST_TMPDIR/$1
	cat >"$R"
}

# no_handler_ran: fail (showing what ran) if any handler ran
no_handler_ran() {
	if [ -e "$RAN" ]; then
		echo "a handler ran:" >&2
		cat "$RAN" >&2
		return 1
	fi
}

# serve RULES [ARGS...]: start_server on 127.0.0.1 with the rules and
# access-show as the handler (ARGS go before the handler)
serve() {
	local r=$1
	shift
	start_server -L 127.0.0.1:0 -o access_rules="$r" "$@" \
		-- "$H/access-show" "$RAN"
}

# stop_server: end the server started last (by its saved pid), bounded
stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait_exit "$SERVER_PID" 5
}

# client_from SOURCE ADDRESS [client.py options]: a client from the IPv4
# address SOURCE (Linux routes all of 127.0.0.0/8 to the loopback
# interface), so one test has clients at several addresses
client_from() {
	local src=$1
	shift
	client "$@" --bind "$src"
}

# stream REMOTE RULES [OPTION...]: "echo hi | single-server -S -V
# --remote=REMOTE -o access_rules=RULES OPTION... -- access-show $RAN"
# (bounded); its stdout (the client's side) in $OUT and $output, its
# stderr in $ERR, its exit status in $status
stream() {
	local remote=$1 r=$2
	shift 2
	status=0
	echo hi | timeout 10 "$SS" -S -V --remote="$remote" -o access_rules="$r" \
		"$@" -- "$H/access-show" "$RAN" >"$OUT" 2>"$ERR" || status=$?
	output=$(cat "$OUT")
	if [ "$status" -ne 0 ]; then
		echo "exit $status; stderr:" >&2
		cat "$ERR" >&2
	fi
}

# sent_exactly TEXT: the client (stream mode's stdout, $OUT) got exactly
# TEXT followed by CR LF
sent_exactly() {
	printf '%s\r\n' "$1" >"$BATS_TEST_TMPDIR/expected"
	if ! cmp -s "$BATS_TEST_TMPDIR/expected" "$OUT"; then
		printf 'expected "%s\\r\\n", the client got:\n' "$1" >&2
		od -c "$OUT" >&2
		return 1
	fi
}

# logged_denial FILE ADDRESS: wait (bounded) until FILE (a log) has a
# denial naming ADDRESS
logged_denial() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -iE 'deny|denied' "$1" 2>/dev/null | grep -qF -- "$2" && return 0
		sleep 0.05
	done
	echo "no denial of $2 logged in $1:" >&2
	cat "$1" >&2
	return 1
}

# --- resident mode: by address and by network ----------------------------

@test "resident: an allowed address runs the handler with the rule's assignments" {
	rules r <<-'EOF'
		127.0.0.1   allow RULE=host
		*           deny nobody else
	EOF
	serve "$R"
	run -0 client "$ADDR"
	[ "$(var RULE)" = host ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ "$(cat "$RAN")" = "ran 127.0.0.1" ]
}

@test "resident: a denied address gets the message and CR LF at once, no handler runs, the denial is logged" {
	rules r <<-'EOF'
		127.0.0.1   deny go away, 127.0.0.1
		*           allow
	EOF
	serve "$R"
	# --no-shutdown: the server must not wait for the client to finish
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ "$output" = $'go away, 127.0.0.1\r' ]
	logged_denial "$LOG" 127.0.0.1
	no_handler_ran
	# the server goes on: a denial is not the end of it
	kill -0 "$SERVER_PID"
}

@test "denials of one source are logged at most once a second, a later line counting those held back" {
	rules r <<-'EOF'
		127.0.0.1   deny
		*           allow
	EOF
	serve "$R"
	local k lines
	for k in 1 2 3 4 5 6 7 8 9 10; do
		client "$ADDR" --timeout 5 >/dev/null
	done
	wait_for_log "deny 127.0.0.1"
	lines=$(grep -c 'deny 127.0.0.1' "$LOG")
	[ "$lines" -lt 10 ]	# ten within a few seconds at most
	# a denial in a later second logs again, with the count held back
	for ((k = 0; k < 20; k++)); do
		grep -q 'deny 127.0.0.1 .*more since, not logged' "$LOG" && break
		sleep 0.2
		client "$ADDR" --timeout 5 >/dev/null
	done
	grep -qE 'deny 127\.0\.0\.1 \(rule on line 1\); [0-9]+ more since, not logged' "$LOG"
}

@test "a denied client that keeps sending is closed within the linger limit (2 s), not kept open" {
	rules r <<-'EOF'
		127.0.0.1   deny go away
	EOF
	serve "$R"
	run -0 drip_client "$ADDR"
	[ "${lines[0]}" = "go away" ]
	# 2 s of linger, then the server closes: the next sends fail
	[[ "${lines[1]}" =~ ^closed\ after\ [23]\. ]]
}

@test "the wall clock stepped 1000 s back: denied clients that keep sending are still closed after 2 s" {
	# t/shim-clockstep.c moves the server's wall clock once $step exists;
	# libevent takes a step in only at its next resync (within 6 s), so
	# denied clients drip for 7 s, a new one every 0.5 s: some linger
	# across that moment, and each must be closed about 2 s after it
	# connected, as without the step.
	local step=$BATS_TEST_TMPDIR/step
	rules r <<-'EOF'
		127.0.0.1   deny go away
	EOF
	start_preloaded_server shim-clockstep SHIM_CLOCK_STEP=-1000 \
		SHIM_CLOCK_FILE="$step" -- -L 127.0.0.1:0 -o access_rules="$R" \
		-- "$H/access-show" "$RAN"
	run -0 python3 -c '
import selectors, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
open(sys.argv[2], "w").close()
sel = selectors.DefaultSelector()
start = time.monotonic()
opened, longest, kept = 0, 0.0, 0
while time.monotonic() - start < 7 or sel.get_map():
    now = time.monotonic()
    if now - start < 7 and now - start >= opened * 0.5:
        s = socket.create_connection((host, int(port)), 5)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, [now, b""])
        opened += 1
    for key, _ in sel.select(0.05):
        try:
            key.data[1] += key.fileobj.recv(100)
        except BlockingIOError:
            pass
    for key in list(sel.get_map().values()):
        s, (t0, got) = key.fileobj, key.data
        try:
            if got.endswith(b"\r\n"):
                s.send(b"x")    # a drip: never our end of file
            if time.monotonic() - t0 < 4:
                continue
            kept += 1
        except OSError:
            longest = max(longest, time.monotonic() - t0)
        sel.unregister(s)
        s.close()
    time.sleep(0.05)
print("%d clients, %d kept open 4 s, the longest closed after %.1f s" % (opened, kept, longest))' "$ADDR" "$step"
	echo "$output"
	[[ "$output" =~ ^1[0-9]\ clients,\ 0\ kept\ open\ 4\ s,\ the\ longest\ closed\ after\ [23]\. ]]
	grep -q "go away" <<<"$(client "$ADDR" --timeout 5)"
}

@test "allow variables replace inherited ones of the same name, never the client's own" {
	rules r <<-'EOF'
		127.0.0.1   allow TIER=gold TCPREMOTEIP=6.6.6.6 PROTO=UDP
	EOF
	TIER=inherited start_server -L 127.0.0.1:0 -o access_rules="$R" -- /usr/bin/env
	run -0 client "$ADDR"
	[ "$(grep -c '^TIER=' <<<"$output")" -eq 1 ]
	grep -qx 'TIER=gold' <<<"$output"
	[ "$(grep -c '^TCPREMOTEIP=' <<<"$output")" -eq 1 ]
	grep -qx 'TCPREMOTEIP=127.0.0.1' <<<"$output"
	grep -qx 'PROTO=TCP' <<<"$output"
}

@test "resident: deny without a message closes the connection and writes nothing" {
	rules r <<-'EOF'
		127.0.0.0/8 deny
		*           allow
	EOF
	serve "$R"
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ -z "$output" ]
	no_handler_ran
	kill -0 "$SERVER_PID"
}

@test "resident: networks, and the most specific rule wins (127.0.0.1, .2, .9 from one listener)" {
	rules r <<-'EOF'
		127.0.0.0/8     allow RULE=net8
		127.0.0.0/30    deny small net
		127.0.0.2       allow RULE=host
		0.0.0.0/0       deny any4
		*               deny star
	EOF
	serve "$R"
	run -0 client_from 127.0.0.1 "$ADDR"
	[ "$output" = $'small net\r' ]
	run -0 client_from 127.0.0.2 "$ADDR"
	[ "$(var RULE)" = host ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	run -0 client_from 127.0.0.9 "$ADDR"
	[ "$(var RULE)" = net8 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.9 ]
	# only the winning rule's assignments: one RULE= line each time
	[ "$(grep -c '^RULE' <<<"$output")" -eq 1 ]
	[ "$(cat "$RAN")" = $'ran 127.0.0.2\nran 127.0.0.9' ]
}

# decide SOURCE: one client from SOURCE; prints "allow RULE" or "deny MESSAGE"
decide() {
	local out
	out=$(client_from "$1" "$ADDR") || return 1
	if [[ $out == *RULE=* ]]; then
		echo "allow $(sed -n 's/^RULE=//p' <<<"$out")"
	else
		echo "deny ${out%$'\r'}"
	fi
}

ORDER_RULES=$(cat <<'EOF'
*               deny star
0.0.0.0/0       deny any4
127.0.0.0/8     allow RULE=net8
# a comment in the middle
127.0.0.0/30    deny small
127.0.0.2       allow RULE=host
::/0            deny any6
EOF
)

# order_rules forward|reverse|shuffled: $ORDER_RULES in that line order
order_rules() {
	case $1 in
	forward) printf '%s\n' "$ORDER_RULES" ;;
	reverse) printf '%s\n' "$ORDER_RULES" | tac ;;
	shuffled) printf '%s\n' "$ORDER_RULES" |
		awk '{ l[NR] = $0 } END { n = split("5 1 6 3 7 2 4", o, " ");
			for (k = 1; k <= n; k++) print l[o[k]] }' ;;
	esac
}

@test "resident: the same rules in three line orders decide the same" {
	local order got
	for order in forward reverse shuffled; do
		rules "$order" < <(order_rules "$order")
		[ "$(grep -vc '^#' "$R")" -eq 6 ]
		rm -f "$RAN"
		serve "$R"
		got=$(decide 127.0.0.1)
		[ "$got" = "deny small" ] || { echo "$order, 127.0.0.1: $got" >&2; false; }
		got=$(decide 127.0.0.2)
		[ "$got" = "allow host" ] || { echo "$order, 127.0.0.2: $got" >&2; false; }
		got=$(decide 127.0.0.9)
		[ "$got" = "allow net8" ] || { echo "$order, 127.0.0.9: $got" >&2; false; }
		[ "$(ran_count)" -eq 2 ]
		stop_server
	done
}

@test "resident: a client no rule matches is denied silently" {
	rules r <<-'EOF'
		# only these two networks
		10.0.0.0/8       allow RULE=ten
		192.168.0.0/16   allow RULE=lan
		::/0             allow RULE=six
	EOF
	serve "$R"
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ -z "$output" ]
	logged_denial "$LOG" 127.0.0.1
	no_handler_ran
}

@test "resident: uid rules do not match TCP clients" {
	rules r <<-EOF
		uid:$(id -u)   allow RULE=uid
		*              deny tcp is not a uid
	EOF
	serve "$R"
	run -0 client "$ADDR"
	[ "$output" = $'tcp is not a uid\r' ]
	no_handler_ran
}

@test "allow assignments, one double-quoted with spaces, are in the handler's environment" {
	rules r <<-'EOF'
		127.0.0.1   allow RULE_TIER=gold RULE_GREETING="hello there,  two spaces" RULE_X=1
		*           deny
	EOF
	serve "$R"
	run -0 client "$ADDR"
	[ "$(var RULE_TIER)" = gold ]
	[ "$(var RULE_GREETING)" = "hello there,  two spaces" ]
	[ "$(var RULE_X)" = 1 ]
	# the connection's own variables are still there
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = "${ADDR##*:}" ]
	# and nothing leaks to the next client's handler from another rule
	stop_server
	rules r2 <<-'EOF'
		127.0.0.1   allow
		*           deny
	EOF
	serve "$R"
	run -0 client "$ADDR"
	[ "$(var PROTO)" = TCP ]
	[ -z "$(var RULE_TIER)" ]
}

@test "a deny message may hold '#' and is sent as written" {
	rules r <<-'EOF'
		  # an indented comment
		127.0.0.1   deny 554 5.7.1 sorry # not you
		*           allow
	EOF
	serve "$R"
	run -0 client "$ADDR"
	[ "$output" = $'554 5.7.1 sorry # not you\r' ]
	no_handler_ran
}

# --- IPv6 ----------------------------------------------------------------------

@test "IPv6: an address rule (written long) and a network rule on [::1]" {
	have_ipv6 || skip "no IPv6 loopback"
	rules r <<-'EOF'
		0:0:0:0:0:0:0:1   allow RULE=v6host
		::/0              deny any6
		127.0.0.1         deny v4
		*                 deny star
	EOF
	start_server -L '[::1]:0' -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "$ADDR"
	[ "$(var RULE)" = v6host ]
	[ "$(var TCPREMOTEIP)" = ::1 ]
	stop_server
	rules r2 <<-'EOF'
		::/64             deny not from the loopback net
		::/0              allow RULE=any6
		*                 allow RULE=star
	EOF
	rm -f "$RAN"
	start_server -L '[::1]:0' -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ "$output" = $'not from the loopback net\r' ]
	no_handler_ran
	logged_denial "$LOG" "::1"
}

@test "IPv4-mapped: an IPv4 client of a dual-stack listener matches the IPv4 rules and is shown as IPv4" {
	have_ipv6 || skip "no IPv6 loopback"
	rules r <<-'EOF'
		127.0.0.1   allow RULE=v4rule
		::/0        deny matched as IPv6
		*           deny star
	EOF
	start_server -L :0 -o access_rules="$R" -- "$H/access-show" "$RAN"
	[[ $ADDR == "[::]:"* ]] || skip "-L :0 is not dual-stack here ($ADDR)"
	run -0 client "127.0.0.1:${ADDR##*:}"
	[ "$(var RULE)" = v4rule ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ "$(var REMOTE_ADDR)" = 127.0.0.1 ]
	# an IPv6 client of the same listener is judged as IPv6
	run -0 client "[::1]:${ADDR##*:}"
	[ "$output" = $'matched as IPv6\r' ]
}

@test "IPv4-mapped: a denied IPv4 client of a dual-stack listener is logged in the IPv4 form" {
	have_ipv6 || skip "no IPv6 loopback"
	rules r <<-'EOF'
		127.0.0.0/8  deny no loopback
		*            allow
	EOF
	start_server -L :0 -o access_rules="$R" -- "$H/access-show" "$RAN"
	[[ $ADDR == "[::]:"* ]] || skip "-L :0 is not dual-stack here ($ADDR)"
	run -0 client "127.0.0.1:${ADDR##*:}"
	[ "$output" = $'no loopback\r' ]
	no_handler_ran
	logged_denial "$LOG" 127.0.0.1
	! grep -i ffff "$LOG" || false
}

# --- unix sockets: uid rules ------------------------------------------------------

@test "unix socket: uid:N and uid:NAME rules decide by the peer's uid; address rules do not match" {
	local sock=$BATS_TEST_TMPDIR/s.sock
	rules r <<-EOF
		uid:$(id -u)     allow RULE=me
		127.0.0.1        allow RULE=addr
		0.0.0.0/0        allow RULE=any4
		*                deny star
	EOF
	start_server -L "unix:$sock" -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "$ADDR"
	[ "$(var RULE)" = me ]
	[ "$(var PROTO)" = UNIX ]
	[ "$(var UNIXREMOTEEUID)" = "$(id -u)" ]
	stop_server

	# the same uid by name, denied with a message
	rules r2 <<-EOF
		uid:$(id -un)    deny no $(id -un) here
		*                allow RULE=star
	EOF
	rm -f "$sock" "$RAN"
	start_server -L "unix:$sock" -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ "$output" = "no $(id -un) here"$'\r' ]
	no_handler_ran
	stop_server

	# no uid rule for us, no "*": address rules are no match for a unix peer
	rules r3 <<-'EOF'
		127.0.0.1        allow RULE=addr
		::/0             allow RULE=any6
		0.0.0.0/0        allow RULE=any4
	EOF
	rm -f "$sock"
	start_server -L "unix:$sock" -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "$ADDR" --no-shutdown --timeout 5
	[ -z "$output" ]
	no_handler_ran
}

@test "unix socket as root: uid:0 allow, another uid denied (setpriv)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "no setpriv"
	getent passwd nobody >/dev/null || skip "no user nobody"
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
	local sock
	# a directory the other user can reach (the bats one is private);
	# teardown removes it
	PUBLIC_DIR=$(mktemp -d /tmp/ss-access.XXXXXX)
	chmod 755 "$PUBLIC_DIR"
	sock=$PUBLIC_DIR/s.sock
	rules r <<-'EOF'
		uid:0         allow RULE=root
		uid:nobody    deny no nobody
		*             deny star
	EOF
	start_server -L "unix:$sock" -o access_rules="$R" -- "$H/access-show" "$RAN"
	chmod 666 "$sock"
	run -0 client "$ADDR"
	[ "$(var RULE)" = root ]
	# client.py's text on the command line, the system's python: the
	# source tree and a python3 found in root's PATH (pyenv shims in
	# /root) may be out of nobody's reach
	run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 -c "$(cat "$SRC/t/client.py")" "$ADDR"
	[ "$status" -eq 0 ]
	[ "$output" = $'no nobody\r' ]
	[ "$(ran_count)" -eq 1 ]
}

# --- stream mode (--remote) ------------------------------------------------------

@test "stream --remote: the handler gets PROTO=TCP and the pretended addresses" {
	rules r <<-'EOF'
		10.0.0.0/8   allow RULE=ten
		*            deny
	EOF
	stream 10.1.2.3:5555 "$R"
	[ "$status" -eq 0 ]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 10.1.2.3 ]
	[ "$(var TCPREMOTEPORT)" = 5555 ]
	[ "$(var REMOTE_ADDR)" = 10.1.2.3 ]
	[ "$(var REMOTE_PORT)" = 5555 ]
	[ "$(var TCPLOCALIP)" = 127.0.0.1 ]
	[ "$(var TCPLOCALPORT)" = 0 ]
	[ "$(var RULE)" = ten ]
	[ "$(cat "$RAN")" = "ran 10.1.2.3" ]
	stream 10.1.2.3:5555 "$R" --local=192.0.2.7:25
	[ "$status" -eq 0 ]
	[ "$(var TCPLOCALIP)" = 192.0.2.7 ]
	[ "$(var TCPLOCALPORT)" = 25 ]
	[ "$(var TCPREMOTEIP)" = 10.1.2.3 ]
}

@test "stream --remote: a denied client gets the message on stdout, exit 0, no handler" {
	rules r <<-'EOF'
		10.0.0.0/8   allow RULE=ten
		10.1.2.3     deny sorry # not you
		*            deny
	EOF
	stream 10.1.2.3:5555 "$R"
	[ "$status" -eq 0 ]
	sent_exactly "sorry # not you"
	no_handler_ran
	logged_denial "$ERR" 10.1.2.3
	# no match (an address outside every rule but "*"'s silent deny)
	rules r2 <<-'EOF'
		10.0.0.0/8   allow RULE=ten
	EOF
	stream 192.0.2.1:1 "$R"
	[ "$status" -eq 0 ]
	[ ! -s "$OUT" ]
	no_handler_ran
	# and an allowed neighbour does run
	stream 10.1.2.4:1 "$R"
	[ "$status" -eq 0 ]
	[ "$(var RULE)" = ten ]
}

@test "stream --remote: the same rules in either order decide the same" {
	local order got remote
	local -A want=(
		[127.0.0.1:1]="deny small"
		[127.0.0.2:1]="allow host"
		[127.0.0.9:1]="allow net8"
		[10.1.2.3:1]="deny any4"
		["[::1]:1"]="deny any6"
		["[2001:db8::1]:1"]="deny any6"
	)
	for order in forward reverse; do
		rules "$order" < <(order_rules "$order")
		for remote in "${!want[@]}"; do
			stream "$remote" "$R"
			[ "$status" -eq 0 ]
			if [[ $output == *RULE=* ]]; then
				got="allow $(var RULE)"
			else
				got="deny ${output%$'\r'}"
			fi
			[ "$got" = "${want[$remote]}" ] ||
				{ echo "$order, $remote: $got" >&2; false; }
		done
	done
}

@test "stream --remote: IPv6 addresses and networks" {
	rules r <<-'EOF'
		2001:db8::/32       allow RULE=doc
		2001:db8:ff::/48    deny lab
		*                   deny star
	EOF
	stream '[2001:db8::5]:4444' "$R"
	[ "$status" -eq 0 ]
	[ "$(var RULE)" = doc ]
	[ "$(var TCPREMOTEIP)" = 2001:db8::5 ]
	[ "$(var TCPREMOTEPORT)" = 4444 ]
	stream '[2001:db8:ff::1]:4444' "$R"
	[ "$status" -eq 0 ]
	sent_exactly lab
	stream '[2001:db9::1]:4444' "$R"
	[ "$status" -eq 0 ]
	sent_exactly star
	[ "$(ran_count)" -eq 1 ]
}

@test "stream --remote: an IPv4-mapped address matches the IPv4 rules and is shown as IPv4" {
	rules r <<-'EOF'
		10.1.2.3   allow RULE=v4
		::/0       deny as v6
		*          deny star
	EOF
	stream '[::ffff:10.1.2.3]:7' "$R"
	[ "$status" -eq 0 ]
	[ "$(var RULE)" = v4 ]
	[ "$(var TCPREMOTEIP)" = 10.1.2.3 ]
}

@test "--remote without -S is a usage error" {
	rules r <<<'* allow'
	run -100 --separate-stderr timeout 10 "$SS" -d -L 127.0.0.1:0 --remote=10.1.2.3:5555 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
	[ -z "$output" ]
	[[ $stderr == *remote* ]]
	no_handler_ran
}

# on_tcp CMD...: run CMD with an accepted TCP connection (127.0.0.1) on
# fds 0 and 1; the client half-closes at once and prints what it got.
# Exits with CMD's status.
ON_TCP_PY=$(cat <<'EOF'
import socket, subprocess, sys
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 0))
lst.listen(1)
cli = socket.create_connection(lst.getsockname(), timeout=10)
conn, _ = lst.accept()
lst.close()
proc = subprocess.Popen(sys.argv[1:], stdin=conn, stdout=conn)
conn.close()
cli.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = cli.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
sys.stdout.flush()
try:
    sys.exit(proc.wait(timeout=10))
except subprocess.TimeoutExpired:
    proc.kill()
    sys.exit(124)
EOF
)

@test "stream --remote on a real socket: ignored with a warning, the real address is judged" {
	rules r <<-'EOF'
		127.0.0.1   allow RULE=real
		10.9.9.9    allow RULE=pretended
		*           deny
	EOF
	run -0 --separate-stderr python3 -c "$ON_TCP_PY" \
		"$SS" -S -V --remote=10.9.9.9:1 -o access_rules="$R" -- "$H/access-show" "$RAN"
	[ "$(var RULE)" = real ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	grep -q 'warning: .*remote' <<<"$stderr"
}

# --- max_use and STATUS= -------------------------------------------------------

@test "a denied client does not count toward max_use" {
	rules r <<-'EOF'
		127.0.0.2   deny blocked
		*           allow RULE=ok
	EOF
	# a supervisor's socket: at max_use the server exits instead of
	# re-executing itself
	start_held_server -m 2 -o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client_from 127.0.0.2 "$ADDR"
	[ "$output" = $'blocked\r' ]
	run -0 client_from 127.0.0.1 "$ADDR"
	[ "$(var RULE)" = ok ]
	# one served so far: still there for the second
	kill -0 "$SERVER_PID"
	run -0 client_from 127.0.0.3 "$ADDR"
	[ "$(var RULE)" = ok ]
	wait_status "$SERVER_PID" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$RAN")" = $'ran 127.0.0.1\nran 127.0.0.3' ]
}

@test "STATUS= counts denials as refused" {
	local sock=$BATS_TEST_TMPDIR/notify out=$BATS_TEST_TMPDIR/notify.out
	rules r <<-'EOF'
		127.0.0.1   allow
		*           deny
	EOF
	notify_listen "$sock" "$out"
	NOTIFY_SOCKET=$sock serve "$R"
	run -0 client_from 127.0.0.2 "$ADDR"
	run -0 client_from 127.0.0.3 "$ADDR"
	run -0 client_from 127.0.0.1 "$ADDR"
	LOG=$out wait_for_log "refused 2" 5
	LOG=$out wait_for_log "served 1," 5
	# the allowed client is not among the refused
	! grep -q 'refused 3' "$out" || false
}

# --- a bad rules file ------------------------------------------------------------

# bad_rules CULPRIT LINE...: with the rules file $R, single-server exits 100
# before serving anyone, in resident mode, with --check and in stream mode
# (where nothing reaches stdout, the client); stderr is one line naming $R,
# CULPRIT (unless empty) and each LINE number
bad_rules() {
	local culprit=$1 rest n
	shift
	rm -f "$RAN"
	run -100 --separate-stderr timeout 10 "$SS" -d -L 127.0.0.1:0 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr" >&2; false; }
	[[ $stderr == *"$R"* ]] || { echo "no file name: $stderr" >&2; false; }
	[[ $stderr == *"$culprit"* ]] || { echo "no \"$culprit\": $stderr" >&2; false; }
	# the line numbers: look for them without the file name, the culprit
	# and the program's own "name[pid]"
	rest=${stderr//"$R"/}
	rest=${rest//"$culprit"/}
	rest=$(sed -E "s/^$STAMP[^ ]*\[[0-9]+\]//" <<<"$rest")
	for n in "$@"; do
		grep -qE "(^|[^0-9])$n([^0-9]|$)" <<<"$rest" ||
			{ echo "line $n not named: $stderr" >&2; false; }
	done
	run -100 --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
	[[ $stderr == *"$R"* ]]
	status=0
	echo hi | timeout 10 "$SS" -S --remote=10.1.2.3:1 -o access_rules="$R" \
		-- "$H/access-show" "$RAN" >"$OUT" 2>"$ERR" || status=$?
	[ "$status" -eq 100 ] || { echo "stream: exit $status" >&2; false; }
	[ ! -s "$OUT" ]
	no_handler_ran
}

@test "bad rules: the same pattern twice is exit 100 naming both lines" {
	rules r <<-'EOF'
		# rules with a duplicate
		10.0.0.0/8       allow
		
		172.16.0.0/12    deny
		10.0.0.0/8       deny go away
		*                deny
	EOF
	bad_rules 10.0.0.0/8 2 5
}

@test "bad rules: a network with host bits set is exit 100 naming the line" {
	rules r <<-'EOF'
		# host bits
		*                deny
		10.1.2.3/8       allow
	EOF
	bad_rules 10.1.2.3/8 3
	rules r6 <<-'EOF'
		2001:db8::1/32   allow
	EOF
	bad_rules 2001:db8::1/32 1
}

@test "bad rules: a bad action is exit 100 naming the line" {
	rules r <<-'EOF'
		*                deny
		# a typo
		10.0.0.1         permit
	EOF
	bad_rules permit 3
	# no action at all (the culprit is not checked: the whole line?)
	rules r2 <<-'EOF'
		10.0.0.1
	EOF
	bad_rules "" 1
}

@test "bad rules: bad addresses, prefixes and unknown users are exit 100 naming the line" {
	rules a <<<'10.0.0.256     allow'
	bad_rules 10.0.0.256 1
	rules b <<-'EOF'
		*                allow
		10.0.0.0/33      allow
	EOF
	bad_rules 10.0.0.0/33 2
	rules c <<-'EOF'
		# one
		# two
		fe80::zz         allow
	EOF
	bad_rules fe80::zz 3
	rules d <<<'uid:no-such-user-here   allow'
	bad_rules no-such-user-here 1
}

@test "bad rules: a bad host name is exit 100 naming the line and the pattern" {
	rules r <<-'EOF'
		*                deny
		=client.test     allow
		=exa!mple.org    allow
	EOF
	bad_rules '"=exa!mple.org"' 3
	[[ $stderr == *"bad host name"* ]] || { echo "stderr: $stderr" >&2; false; }
	rules r2 <<-'EOF'
		=.               deny
	EOF
	bad_rules '"=."' 1
	rules r3 <<-'EOF'
		# an empty label
		=a..example.org  deny
	EOF
	bad_rules '"=a..example.org"' 2
}

@test "bad rules: the same host name twice, in any case and with a final dot, names both lines" {
	rules r <<-'EOF'
		=client.test     allow
		=.client.test    allow
		
		=Client.TEST.    deny
	EOF
	bad_rules '"=Client.TEST."' 1 4
	[[ $stderr == *"duplicate pattern"* ]] || { echo "stderr: $stderr" >&2; false; }
}

@test "name rules (=host, =.domain) pass --check beside address rules" {
	rules r <<-'EOF'
		=client.test       deny by name
		=.Test.            allow V=x
		127.0.0.1          allow
		*                  deny
	EOF
	run -0 --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
}

@test "bad rules: a missing rules file is exit 100 naming it" {
	R=$BATS_TEST_TMPDIR/no-such-rules
	run -100 --separate-stderr timeout 10 "$SS" -d -L 127.0.0.1:0 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"$R"* ]]
	# about the file itself (not, say, an unknown parameter)
	grep -qiE 'no such file|open' <<<"$stderr"
	no_handler_ran
}

# no_rules: with the rules file $R, which holds no rule, single-server
# exits 100 before serving anyone, in resident mode, with --check and in
# stream mode, with one line that says so and how to refuse everyone
no_rules() {
	local want="$R: no rules; write \"* deny\" to refuse everyone"
	bad_rules "$want"
	# the last run was --check's: the line names where the file was set
	[[ $stderr == *"-o access_rules=$R: parameter access_rules: $want" ]] ||
		{ echo "stderr: $stderr" >&2; false; }
}

@test "bad rules: an empty file would deny everyone: exit 100, saying to write \"* deny\"" {
	rules r </dev/null
	no_rules
}

@test "bad rules: a file of comments and blank lines only is refused the same way" {
	rules r <<-'EOF'
		# every rule commented out
		#10.0.0.0/8      allow

		   # *             deny
	EOF
	no_rules
	# "* deny" is the way to refuse everyone: it passes
	rules r2 <<<'*   deny'
	run -0 --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
}

# --- examples/access.rules ---------------------------------------------------------

@test "examples/access.rules passes --check and decides as its comments say" {
	R=$SRC/examples/access.rules
	run -0 --separate-stderr "$SS" --check -L 127.0.0.1:0 -o access_rules="$R" \
		-- "$H/access-show"
	# the office LAN, with its variable
	stream 192.168.10.20:40000 "$R"
	[ "$status" -eq 0 ]
	[ "$(var LAN)" = office ]
	# the blocklisted host on it, with its message ("#" and all)
	stream 192.168.10.13:40000 "$R"
	[ "$status" -eq 0 ]
	sent_exactly "554 blocklisted host, see ticket #4711"
	# the VPN, with a quoted value
	stream 10.8.3.4:40000 "$R"
	[ "$(var LAN)" = vpn ]
	[ "$(var GREETING)" = "welcome, remote user" ]
	# IPv6: the office prefix, and the lab inside it
	stream '[2001:db8:10:1::7]:40000' "$R"
	[ "$(var LAN)" = office ]
	stream '[2001:db8:10:ff::7]:40000' "$R"
	sent_exactly "554 not from the lab network"
	# anybody else
	stream 198.51.100.7:40000 "$R"
	[ "$status" -eq 0 ]
	sent_exactly "421 service not available to you"
	[ "$(ran_count)" -eq 3 ]
	# a resident server with it: loopback allowed, and root on a unix socket
	start_server -L 127.0.0.1:0 -L "unix:$BATS_TEST_TMPDIR/s.sock" \
		-o access_rules="$R" -- "$H/access-show" "$RAN"
	run -0 client "${ADDRS[0]}"
	[ "$(var LAN)" = local ]
	if [ "$(id -u)" -eq 0 ]; then
		run -0 client "${ADDRS[1]}"
		[ "$(var LAN)" = local ]
		[ "$(var PROTO)" = UNIX ]
	fi
}

# --- examples/rules-by-name -------------------------------------------------------

@test "examples/rules-by-name passes --check; its address rules decide without DNS, a client without a name meets *" {
	R=$SRC/examples/rules-by-name
	run -0 --separate-stderr "$SS" --check -L 127.0.0.1:0 -o access_rules="$R" \
		-- "$H/access-show"
	# a UDP port nobody answers on: a lookup could only time out
	local dns=127.0.0.1:$(free_port)
	# the office network, by address, with its variable
	stream 192.168.10.20:40000 "$R" -o dns_servers="$dns" -o dns_timeout=1s
	[ "$status" -eq 0 ]
	[ "$(var LAN)" = office ]
	# a network denied by address: its message, no lookup needed
	stream 203.0.113.9:40000 "$R" -o dns_servers="$dns" -o dns_timeout=1s
	sent_exactly "554 not from this network"
	# anybody else is looked up, finds no name within dns_timeout: "*"
	stream 198.51.100.7:40000 "$R" -o dns_servers="$dns" -o dns_timeout=1s
	[ "$status" -eq 0 ]
	sent_exactly "554 not from here"
	[ "$(ran_count)" -eq 1 ]
}

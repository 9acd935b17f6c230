#!/usr/bin/env bats
# master.bats - single-server as a service of the real Postfix master(8)
# (SPEC section 8): master.cf lines "127.0.0.1:PORT inet n n n - N
# single-server ... handler", a private master per test (t/postfix.bash),
# on a free loopback port, logging to the private syslog receiver.
# Skipped where Postfix is not installed (./dev deps installs it).

load helper
load postfix
load dns
bats_require_minimum_version 1.5.0

# TAG: single-server's syslog tag (the master names the service after its
# address: "single-server/127.0.0.1:PORT")
TAG='single-server(/[^[ ]+)?'

setup() {
	need_postfix
	syslog_start
	postfix_setup
}

teardown() {
	postfix_teardown
}

# handler NAME: an executable sh script $PF_DIR/NAME with the body read
# from stdin; prints its path
handler() {
	{
		echo '#!/bin/sh'
		cat
	} >"$PF_DIR/$1"
	chmod 755 "$PF_DIR/$1"
	echo "$PF_DIR/$1"
}

# field NAME: the value of the "NAME VALUE" line of $output
field() {
	sed -n "s/^$1 //p" <<<"$output" | head -1
}

# is_ss PID: PID is a running single-server (the build's)
is_ss() {
	[ "$(readlink "/proc/$1/exe")" = "$(readlink -f "$SS")" ]
}

# gone PID [SECONDS]: wait (bounded, default 2 s) until PID has exited
gone() {
	local i limit=${2:-2}
	for ((i = 0; i < limit * 20; i++)); do
		alive "$1" || return 0
		sleep 0.05
	done
	echo "process $1 still running after ${limit}s" >&2
	return 1
}

@test "master(8): a service answers a client; the handler sees PROTO=TCP and the addresses, not GENERATION" {
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $H/env-dump"
	run -0 client "$PF_ADDR" --timeout 5
	[[ $output == *PROTO=TCP* ]]
	[[ $output == *TCPREMOTEIP=127.0.0.1* ]]
	[[ $output == *TCPLOCALIP=127.0.0.1* ]]
	[[ $output == *TCPLOCALPORT=$PF_PORT* ]]
	[[ $output == *REMOTE_ADDR=127.0.0.1* ]]
	[[ $output != *GENERATION* ]]
	[[ $output != *LISTEN_* ]]
	# a second client is served too (by the same process or another)
	run -0 client "$PF_ADDR" --timeout 5
	[[ $output == *PROTO=TCP* ]]
}

@test "master(8): remote_host_lookup, dns_servers and local_host_name: TCPREMOTEHOST from the PTR record (checked forward), TCPLOCALHOST" {
	# the PTR and A records of 127.0.0.2; 127.0.0.3 has none
	dns_start --host-record=client.test,127.0.0.2
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server -o remote_host_lookup=paranoid -o dns_servers=$DNS_ADDR -o dns_timeout=10s -o local_host_name=server.example $H/host-show"
	run -0 client "$PF_ADDR" --bind 127.0.0.2 --timeout 5
	echo "$output"
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	[ "$(var TCPREMOTEHOST)" = client.test ]
	[ "$(var TCPLOCALHOST)" = server.example ]
	run -0 client "$PF_ADDR" --bind 127.0.0.3 --timeout 5
	echo "$output"
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	[ "$(var TCPLOCALHOST)" = server.example ]
	! grep -q '^TCPREMOTEHOST=' <<<"$output"
	# the names came from the test's dnsmasq, PTR and forward
	dns_sync
	[ "$(dns_queries 'PTR\] 2\.0\.0\.127\.in-addr\.arpa ')" -ge 1 ]
	[ "$(dns_queries 'A\] client\.test ')" -ge 1 ]
	[ "$(dns_queries 'PTR\] 3\.0\.0\.127\.in-addr\.arpa ')" -ge 1 ]
}

@test "master(8): -o max_use=2 with maxproc 1: two clients per process, then the master runs a new one" {
	local ppid
	ppid=$(handler ppid <<<'echo "ppid $PPID"')
	postfix_start "127.0.0.1:@PORT@ inet n n n - 1 single-server -o max_use=2 $ppid"
	run -0 client "$PF_ADDR" --timeout 5
	local p1
	p1=$(field ppid)
	[ -n "$p1" ]
	# the handler's parent is a single-server that the master spawned
	is_ss "$p1"
	[ "$(ps -o ppid= -p "$p1" | tr -d ' ')" = "$MASTER_PID" ]
	run -0 client "$PF_ADDR" --timeout 5
	[ "$(field ppid)" = "$p1" ]
	# its second client was its last: it exits by itself
	gone "$p1" 5
	run -0 client "$PF_ADDR" --timeout 5
	local p3
	p3=$(field ppid)
	[ -n "$p3" ]
	[ "$p3" != "$p1" ]
	is_ss "$p3"
}

@test "master(8): maxproc 2 serves two simultaneous 1-second clients at once, in two processes" {
	local slow
	slow=$(handler slow <<<'sleep 1; echo "ppid $PPID"')
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $slow"
	# one process opens both connections and times each reply
	run burst "$PF_ADDR" 2 --timeout 5
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[2]#max }" -lt 2000 ]
	local p1 p2
	p1=$(sed -n 's/^[0-9]* ppid //p' <<<"${lines[0]}")
	p2=$(sed -n 's/^[0-9]* ppid //p' <<<"${lines[1]}")
	[ -n "$p1" ] && [ -n "$p2" ]
	[ "$p1" != "$p2" ]
}

@test "master(8): stopping the master (SIGTERM, which it passes to its process group) makes its idle single-server processes exit at once" {
	local ppid
	ppid=$(handler ppid <<<'echo "ppid $PPID"')
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $ppid"
	run -0 client "$PF_ADDR" --timeout 5
	local p1 procs p
	p1=$(field ppid)
	[ -n "$p1" ]
	is_ss "$p1"
	procs=$(postfix_procs)
	grep -qx "$p1" <<<"$procs"
	postfix_stop TERM
	for p in $procs; do
		gone "$p" 2
	done
}

@test "master(8): postfix reload (SIGHUP): an idle process leaves at the end of its status channel, a new one serves the next client" {
	local ppid p1 p2
	ppid=$(handler ppid <<<'echo "ppid $PPID"')
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $ppid"
	run -0 client "$PF_ADDR" --timeout 5
	p1=$(field ppid)
	is_ss "$p1"
	kill -HUP "$MASTER_PID"
	gone "$p1" 3
	wait_for_syslog "^[a-z]+\.[a-z]+ $TAG\[$p1\]: master disconnect -- exiting"
	run -0 client "$PF_ADDR" --timeout 5
	p2=$(field ppid)
	is_ss "$p2"
	[ "$p2" != "$p1" ]
}

@test "master(8): when the master dies (SIGKILL), a process finishes its client, logs the disconnect and exits" {
	local hold=$BATS_TEST_TMPDIR/hold
	mkdir -p "$hold"
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $H/hold $hold 10"
	bg client "$PF_ADDR" --send 'a\n' --timeout 10 >"$BATS_TEST_TMPDIR/out"
	local c=$BG_PID hpid p1
	wait_for_file "$hold/start.a" 5
	hpid=$(cat "$hold/start.a")
	p1=$(ps -o ppid= -p "$hpid" | tr -d ' ')
	is_ss "$p1"
	kill -KILL "$MASTER_PID"
	wait_exit "$MASTER_PID" 5
	# the running handler is not cut short
	alive "$p1"
	alive "$hpid"
	: >"$hold/release"
	wait_status "$c" 5
	[ "$STATUS" -eq 0 ]
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "released a" ]
	gone "$p1" 3
	wait_for_syslog "^[a-z]+\.[a-z]+ $TAG\[$p1\]: .*master disconnect -- exiting"
	# said once, though both the end of file and the failed "available"
	# message tell it
	[ "$(grep -c "\[$p1\]: .*master disconnect" "$SYSLOG")" -eq 1 ]
}

@test "master(8): a handler's stderr line is logged with its pid, not sent to the client or the master's stderr" {
	local diag
	diag=$(handler diag <<'EOF'
echo "pid $$"
echo "ppid $PPID"
echo "diagnostic from $$" >&2
echo done
EOF
)
	postfix_start "127.0.0.1:@PORT@ inet n n n - 2 single-server $diag"
	run -0 client "$PF_ADDR" --timeout 5
	local pid ppid
	pid=$(field pid)
	ppid=$(field ppid)
	[ -n "$pid" ] && [ -n "$ppid" ]
	[ "${lines[2]}" = done ]
	[ "${#lines[@]}" -eq 3 ]
	# in the mail log, with Postfix's own messages
	wait_for_syslog "^mail\.warning $TAG\[$ppid\]: warning: handler $pid: diagnostic from $pid\$"
	! grep -q diagnostic "$PF_OUT"
}

# policy_exchange ADDRESS: speak Postfix's policy delegation protocol as
# smtpd does: two requests on one connection, each sent only once the
# previous answer (ended by an empty line) arrived; print the answers,
# then "eof" when the service closes the connection after ours
policy_exchange() {
	python3 - "$1" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
f = s.makefile("rb")
for rcpt in ("a@example.com", "b@example.com"):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "protocol_name=ESMTP\nclient_address=192.0.2.1\n"
               "client_name=client.example.com\nhelo_name=client.example.com\n"
               "sender=sender@example.org\nrecipient=%s\n"
               "recipient_count=0\n\n" % rcpt).encode())
    while True:
        line = f.readline()
        if not line:
            print("early eof")
            sys.exit(1)
        sys.stdout.write(repr(line.decode()) + "\n")
        if line == b"\n":
            break
s.shutdown(socket.SHUT_WR)
print("eof" if f.read() == b"" else "more")
EOF
}

@test "master(8): examples/master.cf runs the policy-dunno example, which answers each request with action=dunno" {
	local ex=$SRC/examples policy line
	[ "$(head -1 "$ex/policy-dunno")" = "#!/bin/sh" ]
	[ -x "$ex/policy-dunno" ]
	sh -n "$ex/policy-dunno"
	grep -q 'check_policy_service inet:127\.0\.0\.1:10040' "$ex/master.cf"
	# the example as installed, moved where every user can read it
	# (the unpriv column runs the handler as nobody)
	cp "$ex/policy-dunno" "$PF_DIR/policy-dunno"
	chmod 755 "$PF_DIR/policy-dunno"
	# its service line, continuation lines joined, on a free port
	line=$(sed -e '/^#/d' -e '/^[[:space:]]*$/d' "$ex/master.cf" |
		sed -e ':a' -e '$!N' -e 's/\n[[:space:]]\{1,\}/ /' -e 'ta' -e 'P;D' |
		tr -s '[:blank:]' ' ')
	[ "$(wc -l <<<"$line")" -eq 1 ]
	[[ $line == "127.0.0.1:10040 inet "* ]]
	line=${line/127.0.0.1:10040/127.0.0.1:@PORT@}
	line=${line//\/usr\/local\/share\/doc\/single-server\/examples\/policy-dunno/$PF_DIR/policy-dunno}
	[[ $line == *" single-server "*" $PF_DIR/policy-dunno"* ]]
	postfix_start "$line"
	run -0 policy_exchange "$PF_ADDR"
	[ "$output" = "$(printf '%s\n' "'action=dunno\n'" "'\n'" "'action=dunno\n'" "'\n'" eof)" ]
}

@test "postscreen passes its clients to a pass service: the handler answers them" {
	# Postfix's own pass sender: postscreen hands each client that it
	# lets through to the "smtpd" pass service, with its attribute list
	ln -s /usr/lib/postfix/sbin/postscreen "$PF_DIR/libexec/postscreen"
	h=$(handler greet <<-'EOF2'
		echo "220 greeting from $PROTO $TCPREMOTEIP"
	EOF2
	)
	postfix_start "127.0.0.1:@PORT@ inet n - n - 1 postscreen" \
		"smtpd pass - n n - - single-server $h"
	run -0 client "$PF_ADDR" --timeout 15
	[ "$output" = "220 greeting from TCP 127.0.0.1" ]
	! grep -q "pass connection" "$SYSLOG"
}

@test "master(8) with maillog_file: the tool's lines and its handlers' stderr reach the mail log file through postlogd(8)" {
	local diag
	diag=$(handler diag <<'EOF2'
echo "pid $$"
echo "ppid $PPID"
echo "diagnostic from $$" >&2
echo done
EOF2
)
	postfix_maillog
	postfix_start "$POSTLOG_LINE" \
		"127.0.0.1:@PORT@ inet n n n - 2 single-server -v $diag"
	run -0 client "$PF_ADDR" --timeout 5
	local pid ppid
	pid=$(field pid)
	ppid=$(field ppid)
	[ -n "$pid" ] && [ -n "$ppid" ]
	[ "${lines[2]}" = done ]
	# the file has what Postfix's own daemons write there: the time, the
	# host name's first label, TAG[PID]: text
	LOG=$PF_MAILLOG wait_for_log "]: warning: handler $pid: diagnostic from $pid"
	cat "$PF_MAILLOG" >&2
	grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} localhost $TAG\[$ppid\]: warning: handler $pid: diagnostic from $pid\$" "$PF_MAILLOG"
	grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} localhost $TAG\[$ppid\]: connect from 127\.0\.0\.1:[0-9]+ " "$PF_MAILLOG"
	# and not in syslog: one logger at a time, as Postfix's daemons
	! grep -q "\[$ppid\]" "$SYSLOG"
}

@test "master(8) with maillog_file, a chrooted service: its lines reach the mail log file from inside the chroot" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	local root=$PF_DIR/root
	mkdir -p "$root/bin"
	cp "$BUILD/t/static-echo" "$root/bin/"
	postfix_maillog
	# chroot column y: the master adds -c
	postfix_start "$POSTLOG_LINE" \
		"127.0.0.1:@PORT@ inet n n y - 1 single-server -o chroot_directory=$root /bin/static-echo 3"
	run -0 client "$PF_ADDR" --send 'jailed\n' --timeout 5
	[ "$output" = "static: jailed" ]
	LOG=$PF_MAILLOG wait_for_log "exit status 3"
	grep -qE "^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} localhost $TAG\[[0-9]+\]: warning: handler pid [0-9]+ exit status 3\$" "$PF_MAILLOG"
}

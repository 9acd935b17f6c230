#!/usr/bin/env bats
# dns.bats - host names (SPEC section 13): TCPREMOTEHOST with
# remote_host_lookup=yes and paranoid, over IPv4 and IPv6; TCPLOCALHOST
# from local_host_name; name rules (=host, =.domain) consulted only when no
# address rule but "*" decides, and only for names that pass the forward
# check; no query at all when nothing needs a name; a name server that
# never answers (dns_timeout bounds one client's wait and nobody else's),
# one that answers SERVFAIL, hostile names; a client waiting for its name
# across a re-execution and within process_limit; stream mode.
#
# The name servers run on loopback (t/dns.bash): a private dnsmasq with
# the records each test gives, or t/dns-fake.py (a black hole, SERVFAIL,
# hostile names). Clients come from 127.0.0.2 and other 127/8 addresses
# (client.py --bind, burst.py --bind). The handler is t/handlers/host-show:
# it appends "MS ADDRESS" to $RAN when it starts (server-side times) and
# prints TCP* and RULE variables.

bats_require_minimum_version 1.5.0

load helper
load dns

setup() {
	RAN=$BATS_TEST_TMPDIR/ran
	OUT=$BATS_TEST_TMPDIR/out
	ERR=$BATS_TEST_TMPDIR/err
}

# serve [ARGS...]: start_server on 127.0.0.1 with host-show as the handler
# (ARGS go before it)
serve() {
	start_server -L 127.0.0.1:0 "$@" -- "$H/host-show" "$RAN"
}

# rules: write stdin to the rules file $BATS_TEST_TMPDIR/rules; sets R
rules() {
	R=$BATS_TEST_TMPDIR/rules
	cat >"$R"
}

# from SOURCE [client.py options]: run a client of $ADDR from the address
# SOURCE; its output in $output
from() {
	local src=$1
	shift
	run client "$ADDR" --bind "$src" "$@"
	echo "from $src: status $status"
	echo "$output"
}

# unset_var NAME: the last output (host-show's) has no NAME= line
unset_var() {
	if grep -q "^$1=" <<<"$output"; then
		echo "$1 is set: $(grep "^$1=" <<<"$output")" >&2
		return 1
	fi
}

# ran_from ADDRESS: how many handlers ran for clients of ADDRESS
ran_from() {
	local n
	n=$(grep -c " $1\$" "$RAN" 2>/dev/null || true)
	echo "${n:-0}"
}

# start_ms ADDRESS: the start time (ms) of the first handler that ran for
# ADDRESS (host-show's line in $RAN)
start_ms() {
	awk -v a="$1" '$2 == a { print $1; exit }' "$RAN"
}

# ZONE: dnsmasq records most tests share (--host-record makes the PTR and
# the A record; --ptr-record only the PTR). 127.0.0.3 has no name at all.
# 127.0.0.4 says it is liar.test, whose A record is another address.
ZONE=(--host-record=client.test,127.0.0.2
	--ptr-record=4.0.0.127.in-addr.arpa,liar.test
	--host-record=liar.test,127.0.0.99
	--host-record=x.b.test,127.0.0.5
	--host-record=b.test,127.0.0.6
	--host-record=six.test,::1)

# zone_start: dnsmasq with ZONE, and other.test (127.0.0.7) from the
# --addn-hosts file
zone_start() {
	dns_host 127.0.0.7 other.test
	dns_start "${ZONE[@]}"
}

# --- TCPREMOTEHOST --------------------------------------------------------

@test "yes: TCPREMOTEHOST is the PTR name (127.0.0.2 is client.test; from the hosts file too); unset without a PTR record, at once (NXDOMAIN)" {
	zone_start
	serve -o remote_host_lookup=yes -o dns_servers="$DNS_ADDR" -o dns_timeout=10s
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	from 127.0.0.7
	[ "$(var TCPREMOTEHOST)" = other.test ]
	from 127.0.0.3
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	unset_var TCPREMOTEHOST
	dns_sync
	[ "$(dns_queries "PTR\] $(rev4 127.0.0.3 | sed 's/\./\\./g')")" -ge 1 ]
	# NXDOMAIN is a definite answer: no wait for dns_timeout (10 s)
	run burst "$ADDR" 1 --bind 127.0.0.3 --timeout 12
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *TCPREMOTEHOST* ]]
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2000 ]
}

@test "yes takes the PTR name as found; paranoid only when the name's A record is the client's address" {
	zone_start
	serve -o remote_host_lookup=yes -o dns_servers="$DNS_ADDR"
	from 127.0.0.4
	[ "$(var TCPREMOTEHOST)" = liar.test ]		# no forward check
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	serve -o remote_host_lookup=paranoid -o dns_servers="$DNS_ADDR"
	from 127.0.0.4
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.4 ]
	unset_var TCPREMOTEHOST				# liar.test is 127.0.0.99
	dns_sync
	[ "$(dns_queries 'A\] liar\.test ')" -ge 1 ]	# it was asked
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]	# client.test is 127.0.0.2
	from 127.0.0.3
	unset_var TCPREMOTEHOST
}

# paranoid6 ANSWER...: t/dns-fake.py on ::1 answering as told, a server
# on [::1] with remote_host_lookup=paranoid asking it, and one client
paranoid6() {
	fake_start answer --bind ::1 "$@"
	start_server -L '[::1]:0' -o remote_host_lookup=paranoid \
		-o dns_servers="$FAKE_ADDR" -- "$H/host-show" "$RAN"
	run client "$ADDR"
}

@test "IPv6: a client of ::1 gets its PTR name (yes) and its AAAA-checked name (paranoid), asking a name server at [::1]:PORT" {
	have_ipv6 || skip "no IPv6 loopback"
	zone_start
	[ -n "$DNS_ADDR6" ]
	start_server -L '[::1]:0' -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR6" -- "$H/host-show" "$RAN"
	run client "$ADDR"
	[ "$(var TCPREMOTEIP)" = ::1 ]
	[ "$(var TCPREMOTEHOST)" = six.test ]
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	start_server -L '[::1]:0' -o remote_host_lookup=paranoid \
		-o dns_servers="$DNS_ADDR6" -- "$H/host-show" "$RAN"
	run client "$ADDR"
	[ "$(var TCPREMOTEHOST)" = six.test ]
	dns_sync
	[ "$(dns_queries 'PTR\] 1\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.0\.ip6\.arpa from ::1')" -ge 1 ]
	[ "$(dns_queries 'AAAA\] six\.test ')" -ge 1 ]
	grep -qiE 'query\[AAAA\] six\.test from ::1$' "$DNS_LOG"	# over IPv6
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	# paranoid: a PTR name whose AAAA records are other addresses is no
	# name; one of several AAAA records being ::1 is enough
	paranoid6 --ptr liar6.test --aaaa liar6.test=2001:db8::1 \
		--aaaa liar6.test=::2
	[ "$(var TCPREMOTEIP)" = ::1 ]
	unset_var TCPREMOTEHOST
	grep -qix 'AAAA liar6\.test' "$FAKE_LOG"		# it was asked
	kill "$SERVER_PID" "$FAKE_PID"
	wait_exit "$SERVER_PID" 5
	paranoid6 --ptr many6.test --aaaa many6.test=2001:db8::2 \
		--aaaa many6.test=::1
	[ "$(var TCPREMOTEHOST)" = many6.test ]
}

@test "no (the default): no TCPREMOTEHOST and not one query, though a name server with the PTR is given" {
	zone_start
	serve -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	unset_var TCPREMOTEHOST
	unset_var TCPLOCALHOST
	dns_sync
	[ "$(dns_queries)" -eq 0 ]
}

@test "an inherited TCPREMOTEHOST or TCPLOCALHOST never reaches the handler (no, yes without a name, yes with one)" {
	zone_start
	TCPREMOTEHOST=inherited.example TCPLOCALHOST=inherited.example \
		serve -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	unset_var TCPREMOTEHOST
	unset_var TCPLOCALHOST
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	TCPREMOTEHOST=inherited.example TCPLOCALHOST=inherited.example \
		serve -o remote_host_lookup=yes -o dns_servers="$DNS_ADDR"
	from 127.0.0.3				# no PTR record
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	unset_var TCPREMOTEHOST
	unset_var TCPLOCALHOST
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
	unset_var TCPLOCALHOST
}

@test "TCPLOCALHOST is local_host_name, without a lookup; only the client's address is looked up" {
	zone_start
	serve -o local_host_name=server.example -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$(var TCPLOCALHOST)" = server.example ]
	unset_var TCPREMOTEHOST
	dns_sync
	[ "$(dns_queries)" -eq 0 ]
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	serve -o local_host_name=server.example -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$(var TCPLOCALHOST)" = server.example ]
	[ "$(var TCPREMOTEHOST)" = client.test ]
	dns_sync
	[ "$(dns_queries)" -eq 1 ]		# the client's PTR, nothing for 127.0.0.1
	[ "$(dns_queries "PTR\] 2\.0\.0\.127\.in-addr\.arpa ")" -eq 1 ]
}

@test "in-process service (libsingleserver, no handler process): client->env carries TCPREMOTEHOST and TCPLOCALHOST" {
	zone_start
	SS=$BUILD/t/env-service start_server -L 127.0.0.1:0 \
		-o remote_host_lookup=yes -o dns_servers="$DNS_ADDR" \
		-o local_host_name=server.example
	from 127.0.0.2
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.2 ]
	[ "$(var TCPREMOTEHOST)" = client.test ]
	[ "$(var TCPLOCALHOST)" = server.example ]
	[ -z "$(pgrep -P "$SERVER_PID")" ]		# served in-process
	from 127.0.0.3					# no PTR record
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	[ "$(var TCPLOCALHOST)" = server.example ]
	unset_var TCPREMOTEHOST
	dns_sync
	[ "$(dns_queries "PTR\] 2\.0\.0\.127\.in-addr\.arpa ")" -eq 1 ]
}

# --- name rules -----------------------------------------------------------

@test "name rules: =client.test deny (its message, no handler), =.test allow with its variable, no name: * decides" {
	zone_start
	rules <<-'EOF'
		=client.test    deny not you, client.test
		=.test          allow RULE=domain
		*               deny nameless
	EOF
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$output" = "not you, client.test"$'\r' ]
	[ "$(ran_from 127.0.0.2)" -eq 0 ]
	from 127.0.0.7					# other.test
	[ "$(var RULE)" = domain ]
	unset_var TCPREMOTEHOST		# remote_host_lookup=no: rules looked, no variable
	from 127.0.0.3					# no PTR record
	[ "$output" = "nameless"$'\r' ]
	[ "$(ran_from 127.0.0.3)" -eq 0 ]
}

@test "name rules: =host beats =.domain, a longer domain beats a shorter one, =.b.test does not match b.test, case is ignored" {
	zone_start
	rules <<-'EOF'
		=.test          allow RULE=test
		=.B.Test        allow RULE=b.test
		=Client.TEST    allow RULE=host
		*               allow RULE=star
	EOF
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR"
	from 127.0.0.2					# client.test
	[ "$(var RULE)" = host ]
	from 127.0.0.5					# x.b.test
	[ "$(var RULE)" = b.test ]
	from 127.0.0.6					# b.test itself
	[ "$(var RULE)" = test ]
	from 127.0.0.7					# other.test
	[ "$(var RULE)" = test ]
}

@test "an address rule wins over a name rule, and the client it decides is not looked up" {
	zone_start
	rules <<-'EOF'
		127.0.0.2       allow RULE=address
		=client.test    deny by name
		127.0.0.5       deny by address
		=.test          allow RULE=name
		*               deny
	EOF
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$(var RULE)" = address ]
	from 127.0.0.5
	[ "$output" = "by address"$'\r' ]
	dns_sync
	[ "$(dns_queries)" -eq 0 ]
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	# remote_host_lookup=yes: the allowed client is looked up for
	# TCPREMOTEHOST, still judged by its address; the denied one is not
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR" -o remote_host_lookup=yes
	from 127.0.0.2
	[ "$(var RULE)" = address ]
	[ "$(var TCPREMOTEHOST)" = client.test ]
	from 127.0.0.5
	[ "$output" = "by address"$'\r' ]
	dns_sync
	[ "$(dns_queries "$(rev4 127.0.0.5 | sed 's/\./\\./g')")" -eq 0 ]
}

@test "a name that fails the forward check matches no name rule: * decides, whatever remote_host_lookup says" {
	zone_start
	rules <<-'EOF'
		=liar.test      deny by host name
		=.test          deny by domain
		*               allow RULE=star
	EOF
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR"
	from 127.0.0.4					# liar.test is 127.0.0.99
	[ "$(var RULE)" = star ]
	unset_var TCPREMOTEHOST
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR" -o remote_host_lookup=yes
	from 127.0.0.4
	[ "$(var RULE)" = star ]
	[ "$(var TCPREMOTEHOST)" = liar.test ]	# yes: the PTR as found
	dns_sync
	[ "$(dns_queries 'A\] liar\.test ')" -ge 1 ]
}

@test "no name rule and lookups off: not one query for any client, allowed or denied" {
	zone_start
	rules <<-'EOF'
		127.0.0.2       allow RULE=two
		127.0.0.0/8     allow RULE=loopback
		127.0.0.9       deny
		*               deny
	EOF
	serve -o access_rules="$R" -o dns_servers="$DNS_ADDR"
	from 127.0.0.2
	[ "$(var RULE)" = two ]
	from 127.0.0.3
	[ "$(var RULE)" = loopback ]
	from 127.0.0.9
	[ "$output" = "" ]
	run burst "$ADDR" 10 --bind 127.0.0.7
	[ "$status" -eq 0 ]
	dns_sync
	[ "$(dns_queries)" -eq 0 ]
}

# --- name servers that do not help ---------------------------------------

@test "black hole, dns_timeout=1s: the client needing a name is served after ~1 s, by *, while 20 clients with address rules are served at once" {
	local first slow fast_last
	fake_start blackhole
	rules <<-'EOF'
		127.0.0.3       allow RULE=address
		=.test          allow RULE=name
		*               allow RULE=star
	EOF
	serve -z -o access_rules="$R" -o dns_servers="$FAKE_ADDR" -o dns_timeout=1s
	# one process: the first connection from 127.0.0.2, 20 from 127.0.0.3
	run burst "$ADDR" 21 --bind 127.0.0.2,127.0.0.3 --timeout 10
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]#* }" = "PROTO=TCP|RULE=star|TCPLOCALIP=127.0.0.1|TCPLOCALPORT=${ADDR##*:}|TCPREMOTEIP=127.0.0.2|TCPREMOTEPORT=${lines[0]##*TCPREMOTEPORT=}" ]
	[[ ${lines[1]} == *RULE=address* ]]
	[[ ${lines[0]} != *TCPREMOTEHOST* ]]
	# server side: when each handler started
	cat "$RAN"
	[ "$(ran_from 127.0.0.3)" -eq 20 ]
	[ "$(ran_from 127.0.0.2)" -eq 1 ]
	first=$(sort -n "$RAN" | head -1 | cut -d' ' -f1)
	slow=$(start_ms 127.0.0.2)
	fast_last=$(awk '$2 == "127.0.0.3" { t = $1 } END { print t }' "$RAN")
	echo "127.0.0.2 started $((slow - first)) ms after the first handler; the 20th from .3 at $((fast_last - first)) ms"
	[ $((fast_last - first)) -lt 700 ]		# at once, all 20
	[ "$fast_last" -lt "$slow" ]			# before the one waiting
	[ $((slow - first)) -ge 900 ]			# dns_timeout...
	[ $((slow - first)) -le 2000 ]			# ...and not much more
	[ "$(fake_queries)" -ge 1 ]			# it was asked (and never said)
}

@test "black hole, remote_host_lookup=yes: 10 clients all waiting for names are served after ~1 s together, not one after another" {
	local first last
	fake_start blackhole
	serve -z -o remote_host_lookup=yes -o dns_servers="$FAKE_ADDR" -o dns_timeout=1s
	run burst "$ADDR" 10 --bind 127.0.0.2 --timeout 15
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *TCPREMOTEHOST* ]]
	cat "$RAN"
	[ "$(ran_from 127.0.0.2)" -eq 10 ]
	first=$(sort -n "$RAN" | head -1 | cut -d' ' -f1)
	last=$(sort -n "$RAN" | tail -1 | cut -d' ' -f1)
	[ $((last - first)) -lt 700 ]
	# from the first connect to the last end of file (burst's clock)
	[ "$(sed -n 's/^max //p' <<<"$output")" -ge 900 ]
	[ "$(sed -n 's/^max //p' <<<"$output")" -le 2500 ]
	[ "$(fake_queries)" -ge 10 ]
}

@test "dns_timeout bounds PTR and forward together: a PTR answered after 1.2 s and an A query never answered end at dns_timeout=2s, not 2 s later" {
	local ms
	fake_start answer --ptr client.test --a client.test=127.0.0.2 \
		--delay 1.2 --silent A
	rules <<-'EOF'
		=.test          allow RULE=name
		*               allow RULE=star
	EOF
	serve -o remote_host_lookup=paranoid -o access_rules="$R" \
		-o dns_servers="$FAKE_ADDR" -o dns_timeout=2s
	run burst "$ADDR" 1 --bind 127.0.0.2 --timeout 10
	echo "$output"
	cat "$FAKE_LOG"
	[ "$status" -eq 0 ]
	[[ $output == *RULE=star* ]]			# never checked: no name
	[[ $output != *TCPREMOTEHOST* ]]
	grep -qix 'A client\.test' "$FAKE_LOG"		# the forward query was sent
	ms=$(sed -n 's/^max //p' <<<"$output")
	[ "$ms" -ge 1800 ]
	[ "$ms" -le 2700 ]				# 1.2 s + a fresh 2 s: 3.2 s
}

@test "SERVFAIL: the client is served without a name at once, well before dns_timeout" {
	fake_start servfail
	rules <<-'EOF'
		=.test          deny
		*               allow RULE=star
	EOF
	serve -o remote_host_lookup=yes -o access_rules="$R" \
		-o dns_servers="$FAKE_ADDR" -o dns_timeout=10s
	run burst "$ADDR" 1 --bind 127.0.0.2 --timeout 12
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *RULE=star* ]]
	[[ $output != *TCPREMOTEHOST* ]]
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2000 ]
	[ "$(fake_queries)" -ge 1 ]
}

@test "dns_servers with a black hole and dnsmasq (a comma and a space): the name comes from the one that answers, within dns_timeout" {
	zone_start
	fake_start blackhole
	serve -o remote_host_lookup=yes -o dns_servers="$FAKE_ADDR, $DNS_ADDR" \
		-o dns_timeout=3s
	run burst "$ADDR" 2 --bind 127.0.0.2 --timeout 10
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'TCPREMOTEHOST=client.test|' <<<"$output")" -eq 2 ]
	# a try every third of dns_timeout, the servers taken in turn: the
	# last try (at 2 s) may be the first to reach dnsmasq
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2800 ]
}

# --- hostile names --------------------------------------------------------

# hostile NAME: serve with remote_host_lookup=yes against t/dns-fake.py
# answering every PTR query with NAME (its escapes: t/dns-fake.py), and
# name rules that would take any name under .test; run one client from
# 127.0.0.2 (burst: its output in $output, "max MS" its time)
hostile() {
	fake_start answer --ptr "$1" --a client.test=127.0.0.2
	rules <<-'EOF'
		=.test          allow RULE=name
		*               allow RULE=star
	EOF
	serve -o remote_host_lookup=yes -o access_rules="$R" \
		-o dns_servers="$FAKE_ADDR" -o dns_timeout=10s
	run burst "$ADDR" 1 --bind 127.0.0.2 --timeout 12
	echo "$output"
	[ "$status" -eq 0 ]
}

# refused_name: the last hostile client was served by *, without a name,
# at once, and one line naming 127.0.0.2 says its PTR name was refused,
# with no byte from the name that a log line must not carry
refused_name() {
	[[ $output == *RULE=star* ]]
	[[ $output != *TCPREMOTEHOST* ]]
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2000 ]
	wait_for_log 'no host name for 127.0.0.2'
	[ "$(grep -c 'no host name for 127.0.0.2' "$LOG")" -eq 1 ]
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f-\xff]' "$LOG"; then
		echo "a control or 8-bit byte in the log:" >&2
		od -c "$LOG" >&2
		return 1
	fi
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	kill "$FAKE_PID"
	wait_exit "$FAKE_PID" 5
	rm -f "$LOG" "$RAN"
}

@test "hostile names: a space, a slash, the byte 0x80, a newline and an escape are no name at all, logged once with the client's address" {
	hostile 'bad name.test'
	refused_name
	hostile 'a/b.test'
	refused_name
	hostile '\x80x.test'
	refused_name
	hostile 'x\x0afake: line.test'
	refused_name
	! grep -q '^fake: line' "$LOG"
	hostile 'x\x1b[31mred.test'
	refused_name
}

@test "hostile names: a refused name is logged at most once a second for one source" {
	fake_start answer --ptr 'bad name.test'
	serve -o remote_host_lookup=yes -o dns_servers="$FAKE_ADDR"
	run burst "$ADDR" 5 --bind 127.0.0.2
	[ "$status" -eq 0 ]
	[ "$(ran_from 127.0.0.2)" -eq 5 ]
	wait_for_log 'no host name for 127.0.0.2'
	grep 'no host name' "$LOG"
	[ "$(grep -c 'no host name for 127.0.0.2' "$LOG")" -eq 1 ]
}

@test "a 320-byte name (five 63-byte labels: over DNS's 255) is no name, at once; a 63-byte name is kept whole" {
	local l63 name
	l63=$(printf 'a%.0s' {1..63})
	hostile "$l63.$l63.$l63.$l63.$l63"
	[[ $output == *RULE=star* ]]
	[[ $output != *TCPREMOTEHOST* ]]
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2000 ]
	kill "$SERVER_PID" "$FAKE_PID"
	wait_exit "$SERVER_PID" 5
	name=${l63:0:58}.test				# 63 bytes in all
	hostile "$name"
	[[ $output == *"TCPREMOTEHOST=$name|"* ]]
}

# A name of valid labels may be up to 253 bytes, but libevent 2.1's evdns
# copies a PTR name into a buffer of HOST_NAME_MAX bytes (64 with glibc):
# a name of 64 bytes or more is an error there (DNS_ERR_UNKNOWN, at once),
# before our checks see it. No name then, and one line that says why.
@test "a 204-byte name of valid labels is no name (libevent reads 63 bytes at most), logged as unreadable" {
	local l49 name
	l49=$(printf 'b%.0s' {1..49})
	name=$l49.$l49.$l49.$l49.test			# 4 * 50 + 4 = 204 bytes
	hostile "$name"
	[[ $output == *RULE=star* ]]
	[[ $output != *TCPREMOTEHOST* ]]
	[ "$(sed -n 's/^max //p' <<<"$output")" -lt 2000 ]
	wait_for_log 'no host name for 127.0.0.2 (PTR name (unreadable: longer than 63 bytes?))'
}

@test "capitals and a final dot: Client.TEST. is client.test, for TCPREMOTEHOST, the forward check and name rules" {
	# the last label is "TEST." (a dot inside it): the text a resolver
	# makes of it ends in a dot
	fake_start answer --ptr 'Client.TEST\.' --a client.test=127.0.0.2
	rules <<-'EOF'
		=client.test    allow RULE=host
		*               allow RULE=star
	EOF
	serve -o remote_host_lookup=paranoid -o access_rules="$R" \
		-o dns_servers="$FAKE_ADDR"
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
	[ "$(var RULE)" = host ]
	cat "$FAKE_LOG"
	grep -qix 'A client\.test' "$FAKE_LOG"		# asked forward, cleaned
	kill "$SERVER_PID" "$FAKE_PID"
	wait_exit "$SERVER_PID" 5
	# capitals in plain labels, as a name server may keep them
	fake_start answer --ptr 'CLIENT.Test.' --a client.test=127.0.0.2
	serve -o remote_host_lookup=yes -o dns_servers="$FAKE_ADDR"
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
}

# --- waiting clients, re-execution, limits --------------------------------

@test "a client waiting for its name across a re-execution (max_use) is served by the new image within its dns_timeout" {
	local w_pid elapsed
	fake_start blackhole
	rules <<-'EOF'
		127.0.0.3       allow RULE=address
		=.test          allow RULE=name
		*               allow RULE=star
	EOF
	serve -v -m 1 -o access_rules="$R" -o dns_servers="$FAKE_ADDR" -o dns_timeout=3s
	bg burst "$ADDR" 1 --bind 127.0.0.2 --timeout 10 >"$OUT"
	w_pid=$BG_PID
	# evdns sends its query again each third of dns_timeout: the third
	# query means 2 s of the client's 3 s are gone (the server's clock)
	wait_fake_queries 3
	from 127.0.0.3					# max_use reached: re-execution
	[ "$(var RULE)" = address ]
	wait_log_count ': re-executing ' 1
	wait_log_count ': ready: ' 2
	[ "$(ran_from 127.0.0.2)" -eq 0 ]		# not served by the old image
	wait_status "$w_pid" 8
	cat "$OUT"
	[ "$STATUS" -eq 0 ]
	[[ $(cat "$OUT") == *RULE=star* ]]
	[ "$(ran_from 127.0.0.2)" -eq 1 ]
	elapsed=$(sed -n 's/^max //p' "$OUT")
	[ "$elapsed" -ge 2500 ]				# looked up again, for the time
	[ "$elapsed" -le 4000 ]				# it had left (1 s), not 3 s more
	alive "$SERVER_PID"
}

@test "a client behind a PROXY header waiting for its name at a re-execution (max_use) is served at once by the old image, without a name, as its header said" {
	local w_pid t_trigger t_done
	# dnsmasq answers 192.0.2.8's PTR at once and sends 192.0.2.7's to
	# a black hole: one name server, one client waiting, one not
	fake_start blackhole
	dns_start --host-record=two.test,192.0.2.8 \
		--server="/$(rev4 192.0.2.7)/127.0.0.1#$FAKE_PORT"
	serve -v -m 1 -o upstream_proxy_protocol=haproxy \
		-o upstream_proxy_networks=127.0.0.0/8 -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR" -o dns_timeout=10s \
		-o local_host_name=server.example
	bg python3 "$SRC/t/proxy-client.py" "$ADDR" \
		v1:"TCP4 192.0.2.7 127.0.0.1 5555 ${ADDR##*:}" --timeout 15 >"$OUT"
	w_pid=$BG_PID
	wait_fake_queries 1			# its lookup is under way
	[ "$(ran_from 192.0.2.7)" -eq 0 ]
	t_trigger=$(now_ms)
	# a client needing no wait reaches max_use: re-execution
	run python3 "$SRC/t/proxy-client.py" "$ADDR" \
		v1:"TCP4 192.0.2.8 127.0.0.1 5556 ${ADDR##*:}" --timeout 5
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEHOST)" = two.test ]
	wait_status "$w_pid" 8
	t_done=$(now_ms)
	cat "$OUT"
	cat "$LOG"
	[ "$STATUS" -eq 0 ]
	output=$(cat "$OUT")
	[ "$(var TCPREMOTEIP)" = 192.0.2.7 ]	# the header's address
	[ "$(var TCPLOCALHOST)" = server.example ]
	unset_var TCPREMOTEHOST
	[ "$(ran_from 192.0.2.7)" -eq 1 ]
	echo "served $((t_done - t_trigger)) ms after the second client began"
	[ $((t_done - t_trigger)) -lt 2500 ]	# not at dns_timeout (10 s)
	wait_log_count ': re-executing ' 1
	! grep -q 'waiting for a host name' "$LOG"	# not handed over
	wait_log_count ': ready: ' 2
	alive "$SERVER_PID"
}

@test "process_limit=1: a client waiting for its name holds the place; a client needing no name waits for it" {
	local t_wait t_addr
	fake_start blackhole
	rules <<-'EOF'
		127.0.0.3       allow RULE=address
		=.test          allow RULE=name
		*               allow RULE=star
	EOF
	serve -o process_limit=1 -o access_rules="$R" -o dns_servers="$FAKE_ADDR" \
		-o dns_timeout=2s
	run burst "$ADDR" 2 --bind 127.0.0.2,127.0.0.3 --timeout 10
	echo "$output"
	[ "$status" -eq 0 ]
	cat "$RAN"
	t_wait=$(start_ms 127.0.0.2)
	t_addr=$(start_ms 127.0.0.3)
	[ -n "$t_wait" ] && [ -n "$t_addr" ]
	[ "$t_addr" -ge "$t_wait" ]			# not before the waiting one
	[ "$(sed -n 's/^max //p' <<<"$output")" -ge 1800 ]
}

# --- stream mode ----------------------------------------------------------

@test "stream mode (-S under systemd-socket-activate): TCPREMOTEHOST as in resident mode; yes, paranoid, none" {
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	zone_start
	start_socket_activate -a -- "$SS" -S -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR" -o local_host_name=server.example \
		-- "$H/host-show"
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
	[ "$(var TCPLOCALHOST)" = server.example ]
	from 127.0.0.4
	[ "$(var TCPREMOTEHOST)" = liar.test ]
	from 127.0.0.3
	[ "$(var TCPREMOTEIP)" = 127.0.0.3 ]
	unset_var TCPREMOTEHOST
	kill "$SERVER_PID"
	wait_exit "$SERVER_PID" 5
	start_socket_activate -a -- "$SS" -S -o remote_host_lookup=paranoid \
		-o dns_servers="$DNS_ADDR" -- "$H/host-show"
	from 127.0.0.2
	[ "$(var TCPREMOTEHOST)" = client.test ]
	from 127.0.0.4
	[ "$(var TCPREMOTEIP)" = 127.0.0.4 ]
	unset_var TCPREMOTEHOST
}

@test "stream mode with --remote: the pretended client is looked up; a name rule denies it with its message; no inherited TCPREMOTEHOST" {
	zone_start
	rules <<-'EOF'
		=client.test    deny not you
		*               allow RULE=star
	EOF
	status=0
	echo hi | TCPREMOTEHOST=inherited.example timeout 10 "$SS" -S \
		--remote=127.0.0.7:1234 -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR" -o access_rules="$R" \
		-- "$H/host-show" >"$OUT" 2>"$ERR" || status=$?
	output=$(cat "$OUT")
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(var TCPREMOTEHOST)" = other.test ]
	status=0
	echo hi | TCPREMOTEHOST=inherited.example timeout 10 "$SS" -S \
		--remote=127.0.0.3:1234 -o remote_host_lookup=yes \
		-o dns_servers="$DNS_ADDR" -o access_rules="$R" \
		-- "$H/host-show" >"$OUT" 2>"$ERR" || status=$?
	output=$(cat "$OUT")
	[ "$status" -eq 0 ]
	[ "$(var RULE)" = star ]
	unset_var TCPREMOTEHOST
	status=0
	echo hi | timeout 10 "$SS" -S --remote=127.0.0.2:1234 \
		-o dns_servers="$DNS_ADDR" -o access_rules="$R" \
		-- "$H/host-show" "$RAN" >"$OUT" 2>"$ERR" || status=$?
	[ "$status" -eq 0 ]
	printf 'not you\r\n' | cmp - "$OUT"
	[ ! -e "$RAN" ]
}

# --- configuration --------------------------------------------------------

@test "bad host-name parameters and name rules: exit 100, one line naming the culprit" {
	local bad
	for bad in remote_host_lookup=maybe dns_timeout=0 dns_timeout=61s \
		dns_timeout=soon dns_servers=not-an-address \
		'dns_servers=127.0.0.1:99999' 'dns_servers=[::1]:x'; do
		run -100 --separate-stderr "$SS" --check -L 127.0.0.1:0 -o "$bad" -- "$H/host-show"
		echo "$bad: $stderr"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == *"${bad%%=*}"* ]]
	done
	rules <<-'EOF'
		=client.test    allow
		=client.test    deny
		*               deny
	EOF
	run -100 --separate-stderr "$SS" --check -L 127.0.0.1:0 -o access_rules="$R" -- "$H/host-show"
	echo "$stderr"
	[[ $stderr == *"$R"* ]]
	[[ $stderr == *client.test* ]]
	for bad in '=' '=.' '=bad/name.test' '=a..b'; do
		printf '%s allow\n* deny\n' "$bad" >"$R"
		run -100 --separate-stderr "$SS" --check -L 127.0.0.1:0 -o access_rules="$R" -- "$H/host-show"
		echo "$bad: $stderr"
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == *"$R"*"line 1"* ]]
	done
}

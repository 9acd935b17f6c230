# t/dns.bash - name servers on loopback for t/dns.bats (SPEC section 13):
# a private dnsmasq (Debian's dnsmasq-base: the binary, no system service)
# with the records a test gives, and t/dns-fake.py for the servers that
# misbehave (a black hole, SERVFAIL, hostile names). Load after helper.
# Nothing here reads the machine's resolver or /etc/hosts.
#
# dnsmasq, as this file runs it (dnsmasq 2.90, Debian 12), checked here:
# - --no-daemon is its debug mode: it stays in the foreground, keeps the
#   pid $! gives us, writes no pid file and, even as root, does not change
#   user. --keep-in-foreground would instead drop to nobody:dip (the
#   compiled-in defaults; Debian's own service passes -u dnsmasq), chown
#   the log file to nobody and write /var/run/dnsmasq.pid, a path shared
#   with the machine's own dnsmasq. So: --no-daemon, and --pid-file and
#   --user pointing nowhere shared, in case of an option that forks.
# - --conf-file=/dev/null: without it /etc/dnsmasq.conf is read when it
#   exists (the full dnsmasq package installs one, with conf-dir
#   /etc/dnsmasq.d). --no-resolv: no /etc/resolv.conf, so no upstream
#   server at all; --no-hosts: no /etc/hosts.
# - --bind-interfaces with --listen-address: binds exactly 127.0.0.1 (and
#   ::1), UDP and TCP on the same port. Without it dnsmasq binds the
#   wildcard address and filters, and a port free on 127.0.0.1 may still
#   clash. Binding failure ("failed to create listening socket for port
#   N: Address already in use") ends it at once with status 2: the start
#   is retried on another port (bounded).
# - A name it has no record for is REFUSED when no upstream server
#   exists (logged "config error is REFUSED (EDE: not ready)"), which
#   resolvers treat as a broken server (libevent's evdns marks it failed
#   and probes it with "google.com" queries). --local=/test/,
#   --local=/in-addr.arpa/ and --local=/ip6.arpa/ make it answer NXDOMAIN
#   for those instead: "no such name", a definite answer.
# - --host-record=NAME,ADDR makes both the A/AAAA and the PTR record;
#   --ptr-record=REVNAME,NAME only the PTR (for names whose forward lookup
#   says something else). A line "ADDR NAME" of the --addn-hosts file does
#   as --host-record. dnsmasq lower-cases the names it is given and drops
#   a final dot: "Client.TEST." is served as "client.test" (hostile names
#   come from t/dns-fake.py).
# - --log-queries with --log-facility=FILE: one line "query[TYPE] NAME from
#   ADDR" per query, then how it was answered; written before the answer
#   is sent. NAME is the question as sent: evdns randomizes the case of
#   its queries ("2.0.0.127.In-ADdr.arPA"), so match names ignoring case.
#   --no-daemon also copies the log to stderr.

DNS_READY_NAME=ready.dns-helper.test

# dns_port: print a port that was free a moment ago for UDP and TCP on
# 127.0.0.1 and (when the host has it) ::1, as dnsmasq binds all four
dns_port() {
	python3 - <<-'PY'
	import socket
	for _ in range(50):
	    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    u.bind(("127.0.0.1", 0))
	    port, held = u.getsockname()[1], [u]
	    try:
	        for fam, host, typ in ((socket.AF_INET, "127.0.0.1", socket.SOCK_STREAM),
	                               (socket.AF_INET6, "::1", socket.SOCK_DGRAM),
	                               (socket.AF_INET6, "::1", socket.SOCK_STREAM)):
	            s = socket.socket(fam, typ)
	            held.append(s)
	            try:
	                s.bind((host, port))
	            except OSError as e:
	                if fam == socket.AF_INET6 and e.errno == 99:
	                    continue    # no IPv6 loopback here: fine
	                raise
	    except OSError:
	        continue
	    print(port)
	    break
	PY
}

# dns_host ADDR NAME: a line of the --addn-hosts file (before dns_start)
dns_host() {
	mkdir -p "$BATS_TEST_TMPDIR/dns"
	echo "$1 $2" >>"$BATS_TEST_TMPDIR/dns/hosts"
}

# dns_start [dnsmasq options]...: start a private dnsmasq on 127.0.0.1 (and
# ::1 when the host has it) on a free port, answering from the --addn-hosts
# file that dns_host wrote and the options given (--host-record=NAME,ADDR,
# --ptr-record=REVNAME,NAME, ...), and from nothing else. Sets DNS_PID,
# DNS_PORT, DNS_ADDR (127.0.0.1:PORT), DNS_ADDR6 ([::1]:PORT, or empty),
# DNS_LOG (its query log). Returns once a query was answered.
dns_start() {
	local dir=$BATS_TEST_TMPDIR/dns try i listen=(--listen-address=127.0.0.1)
	command -v dnsmasq >/dev/null || {
		echo "no dnsmasq: ./dev deps installs dnsmasq-base" >&2
		return 1
	}
	mkdir -p "$dir"
	echo "127.0.0.1 $DNS_READY_NAME" >>"$dir/hosts"
	DNS_LOG=$dir/dnsmasq.log
	DNS_ADDR6=
	! have_ipv6 || listen+=(--listen-address=::1)
	for ((try = 0; try < 5; try++)); do
		DNS_PORT=$(dns_port)
		[ -n "$DNS_PORT" ] || return 1
		: >"$DNS_LOG"
		dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
			--pid-file="$dir/dnsmasq.pid" --user="$(id -un)" \
			--bind-interfaces "${listen[@]}" --port="$DNS_PORT" \
			--local=/test/ --local=/in-addr.arpa/ --local=/ip6.arpa/ \
			--addn-hosts="$dir/hosts" \
			--log-queries --log-facility="$DNS_LOG" "$@" \
			</dev/null >/dev/null 2>"$dir/dnsmasq.err" 3>&- &
		DNS_PID=$!
		BG_PIDS+=("$DNS_PID")
		DNS_ADDR=127.0.0.1:$DNS_PORT
		for ((i = 0; i < 50; i++)); do
			if ! kill -0 "$DNS_PID" 2>/dev/null; then
				break		# could not bind: another port
			fi
			if dns_query "$DNS_ADDR" A "$DNS_READY_NAME" --timeout 0.2 2>/dev/null |
				grep -qx 'A 127.0.0.1'; then
				[ ${#listen[@]} -eq 1 ] || DNS_ADDR6="[::1]:$DNS_PORT"
				return 0
			fi
		done
		kill "$DNS_PID" 2>/dev/null || true
	done
	echo "dnsmasq never answered:" >&2
	cat "$dir/dnsmasq.err" >&2
	return 1
}

# dns_query SERVER TYPE NAME [--timeout S]: one query (t/dns-fake.py
# query): prints "rcode N", then "TYPE VALUE" per answer record
dns_query() {
	python3 "$SRC/t/dns-fake.py" query "$@"
}

# dns_queries [PATTERN]: how many queries dnsmasq logged so far (those
# of dns_start's readiness check not counted); with PATTERN (an ERE, case
# ignored), only those whose "TYPE] NAME" matches it, e.g. 'PTR\] 2\.0\.0\.127\.'
dns_queries() {
	local n
	n=$(grep -F 'query[' "$DNS_LOG" | grep -viF " $DNS_READY_NAME from " |
		grep -ciE -- "query\[${1:-.*}" || true)
	echo "${n:-0}"
}

# dns_sync: return once dnsmasq has logged every query it received before
# now: it handles queries in order and logs each before answering, so
# once one more query of ours is answered the log holds the earlier ones
dns_sync() {
	dns_query "$DNS_ADDR" A "$DNS_READY_NAME" --timeout 2 >/dev/null
}

# fake_start MODE [dns-fake.py options]: run t/dns-fake.py MODE (blackhole,
# servfail, answer) in the background, its queries logged one a line in
# FAKE_LOG; sets FAKE_PID, FAKE_PORT and FAKE_ADDR (127.0.0.1:PORT, or
# [::1]:PORT with --bind ::1). Returns once it is bound: it prints its
# port and closes stdout, so reading stdout to end of file is the signal.
fake_start() {
	local fifo=$BATS_TEST_TMPDIR/fake.fifo host=127.0.0.1 a
	FAKE_LOG=$BATS_TEST_TMPDIR/fake.log
	for a in "$@"; do
		[ "$a" != ::1 ] || host=::1
	done
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$FAKE_LOG"
	python3 "$SRC/t/dns-fake.py" "$@" --log "$FAKE_LOG" \
		</dev/null >"$fifo" 2>"$BATS_TEST_TMPDIR/fake.err" 3>&- &
	FAKE_PID=$!
	BG_PIDS+=("$FAKE_PID")
	FAKE_PORT=$(cat "$fifo")
	[ -n "$FAKE_PORT" ] || {
		cat "$BATS_TEST_TMPDIR/fake.err" >&2
		return 1
	}
	if [ "$host" = ::1 ]; then
		FAKE_ADDR="[::1]:$FAKE_PORT"
	else
		FAKE_ADDR=127.0.0.1:$FAKE_PORT
	fi
}

# fake_queries: how many queries t/dns-fake.py has received so far
fake_queries() {
	wc -l <"$FAKE_LOG"
}

# wait_fake_queries N [SECONDS]: wait (bounded) until t/dns-fake.py has
# received N queries
wait_fake_queries() {
	local i limit=${2:-5}
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(fake_queries)" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "dns-fake.py received $(fake_queries) queries, not $1" >&2
	return 1
}

# rev4 A.B.C.D: the PTR name of an IPv4 address (D.C.B.A.in-addr.arpa)
rev4() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	echo "$4.$3.$2.$1.in-addr.arpa"
}

#!/usr/bin/env bats
# tls.bats - TLS (SPEC section 12) with real clients: openssl s_client and
# curl (TLS 1.2 and 1.3), and t/tls-client.py where a test needs precise
# control (close_notify or a plain end of file, half-closes, stalls,
# fingerprints). The handler's bytes both ways, the ends of the
# conversation, certificates chosen by SNI, client certificates, ALPN, the
# environment, bad input refused without a handler and logged, a denied
# client given no handshake, configuration errors, stream mode, and a
# build without TLS. HAProxy, inetd, -u/-c and renewal: t/tls-ops.bats.
#
# Certificates are made at test time by t/tls.bash (nothing secret is
# committed). t/handlers/tls-env appends "ran ADDRESS" to $RAN and prints
# HTTPS, SSL_*, PROTO and TCPREMOTEIP; tls-client.py prints what it
# received on stdout and its report ("end: close_notify", "alpn: h2") on
# stderr.

bats_require_minimum_version 1.5.0

load helper
load tls

setup_file() {
	tls_setup_file
	tls_cert "$TLS_DIR" other.example 30
	tls_cert "$TLS_DIR" soon.example 5
	tls_cert_expired "$TLS_DIR" old.example
	tls_client_cert "$TLS_DIR" alice
	# a client certificate from a CA the server does not trust
	tls_ca "$TLS_DIR/rogue"
	tls_client_cert "$TLS_DIR/rogue" mallory
}

setup() {
	RAN=$BATS_TEST_TMPDIR/ran
	PUBLIC_DIR=
	[[ $BATS_TEST_DESCRIPTION == *"built without TLS"* ]] || need_tls
}

teardown() {
	cleanup_bg
	if [ -n "$PUBLIC_DIR" ]; then
		rm -rf "$PUBLIC_DIR"
	fi
}

# show: what the last "run" gave, for the failure report
show() {
	echo "status: $status" >&2
	echo "stdout: $output" >&2
	echo "stderr: ${stderr:-}" >&2
}

# report KEY: the value of the line "KEY: value" of the last tls-client
# report (its stderr, with run --separate-stderr)
report() {
	sed -n "s/^$1: //p" <<<"$stderr"
}

# serve ARGS...: a TLS server on 127.0.0.1 with the default certificate
# and tls-env as the handler (ARGS go before the handler)
serve() {
	start_tls_server -L 127.0.0.1:0 "$@" -- "$H/tls-env" "$RAN"
}

# env_client ARGS...: a tls-client that sends nothing and reads the
# handler's answer (the environment), as "run": $output, $stderr, $status
env_client() {
	run --separate-stderr tls_client "$ADDR" --recv-all "$@"
	show
}

# no_var NAME: the last output has no NAME= line
no_var() {
	if grep -q "^$1=" <<<"$output"; then
		echo "unexpected: $(grep "^$1=" <<<"$output")" >&2
		return 1
	fi
}

# handshake_refused REGEX: the log gets a line "refuse 127.0.0.1 (TLS
# handshake: REASON)" with REASON matching REGEX (an ERE), and it is the
# only line about a TLS handshake in the log
handshake_refused() {
	local re="refuse 127\.0\.0\.1 \(TLS handshake: ($1)\)" i
	for ((i = 0; i < 100; i++)); do
		grep -qE -- "$re" "$LOG" && break
		sleep 0.05
	done
	if ! grep -qE -- "$re" "$LOG" ||
		[ "$(grep -c 'TLS handshake' "$LOG")" -ne 1 ]; then
		echo "wanted one line matching: $re" >&2
		cat "$LOG" >&2
		return 1
	fi
}

# only_good_served [tls-client options]: a good client is served now, and
# its handler is the only one that ran (none for the refused before it)
only_good_served() {
	env_client "$@"
	[ "$status" -eq 0 ]
	[ "$(var HTTPS)" = on ]
	if [ "$(ran_count)" -ne 1 ]; then
		echo "handlers that ran:" >&2
		cat "$RAN" >&2
		return 1
	fi
}

# wait_for_content FILE TEXT [SECONDS]: wait (bounded) until FILE holds
# exactly TEXT (and a newline)
wait_for_content() {
	local i limit=${3:-5}
	for ((i = 0; i < limit * 20; i++)); do
		[ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	echo "$1 never held \"$2\", but: $(cat "$1" 2>&1)" >&2
	return 1
}

# wait_for_line FILE REGEX [SECONDS]: wait (bounded) until a line of FILE
# matches REGEX (an ERE)
wait_for_line() {
	local i limit=${3:-5}
	for ((i = 0; i < limit * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$1 never had a line matching $2:" >&2
	cat "$1" >&2
	return 1
}

# peer_fp ADDRESS [SNI]: the SHA-256 fingerprint (lower hex) of the
# certificate the server at ADDRESS presents, with SNI or without any
# (openssl s_client: a fraction of a python client's start-up)
peer_fp() {
	local sni=(-noservername)
	[ -z "${2:-}" ] || sni=(-servername "$2")
	openssl s_client -connect "$1" "${sni[@]}" </dev/null 2>/dev/null |
		tls_fingerprint /dev/stdin
}

# rfc2253 subject|issuer FILE: the certificate's name as OpenSSL writes
# it in RFC 2253 form (SSL_CLIENT_S_DN, SSL_CLIENT_I_DN)
rfc2253() {
	local n
	n=$(openssl x509 -in "$2" -noout "-$1" -nameopt RFC2253)
	echo "${n#*=}"
}

# ---- the bytes and the ends of the conversation -------------------------

@test "openssl s_client, TLS 1.3 and 1.2: the handler gets the client's bytes and the client the handler's, exactly" {
	local in=$BATS_TEST_TMPDIR/in blob=$BATS_TEST_TMPDIR/blob
	local got=$BATS_TEST_TMPDIR/got recv=$BATS_TEST_TMPDIR/recv v
	head -c 300000 /dev/urandom >"$in"
	head -c 300000 /dev/urandom >"$blob"
	# reads exactly what the client sends (no end of file needed), then
	# answers and exits
	start_tls_server -L 127.0.0.1:0 -- \
		sh -c 'head -c 300000 >"$1"; cat "$2"' sh "$recv" "$blob"
	for v in 1_3 1_2; do
		rm -f "$recv" "$got"
		status=0
		timeout 10 openssl s_client -connect "$ADDR" \
			-servername localhost -CAfile "$TLS_CA" -verify_return_error \
			-quiet -nocommands "-tls$v" <"$in" >"$got" \
			2>"$BATS_TEST_TMPDIR/err" || status=$?
		echo "TLS $v: status $status: $(cat "$BATS_TEST_TMPDIR/err")" >&2
		[ "$status" -eq 0 ]
		cmp "$blob" "$got"
		cmp "$in" "$recv"
	done
}

@test "curl, TLS 1.2 and 1.3: an HTTP request body up and the reply down, byte for byte" {
	local in=$BATS_TEST_TMPDIR/in blob=$BATS_TEST_TMPDIR/blob
	local got=$BATS_TEST_TMPDIR/got body=$BATS_TEST_TMPDIR/body port v
	head -c 1000000 /dev/urandom >"$in"
	head -c 1000000 /dev/urandom >"$blob"
	start_tls_server -L 127.0.0.1:0 -- "$H/tls-http" "$body" "$blob"
	port=${ADDR##*:}
	for v in 1.2 1.3; do
		rm -f "$body" "$got"
		run --separate-stderr curl -sS -v --fail --max-time 10 \
			"--tlsv$v" --tls-max "$v" --cacert "$TLS_CA" \
			--resolve "localhost:$port:127.0.0.1" -H 'Expect:' \
			--data-binary "@$in" -o "$got" -w '%{http_code}' \
			"https://localhost:$port/"
		[ "$status" -eq 0 ] || { show; false; }
		[ "$output" = 200 ]
		grep -q "SSL connection using TLSv$v" <<<"$stderr" || { show; false; }
		cmp "$blob" "$got"
		cmp "$in" "$body"
	done
}

@test "10 MB each way through cat (reading and writing at once): the same bytes back, then close_notify" {
	local big=$BATS_TEST_TMPDIR/big got=$BATS_TEST_TMPDIR/got
	head -c 10000000 /dev/urandom >"$big"
	start_tls_server -L 127.0.0.1:0 -- cat
	run --separate-stderr tls_client "$ADDR" --send-file "$big" \
		--half-close --recv-all --out "$got" --timeout 20
	show
	[ "$status" -eq 0 ]
	[ "$(report received)" = 10000000 ]
	[ "$(report end)" = close_notify ]
	[ "$(sha256sum <"$big")" = "$(sha256sum <"$got")" ]
}

@test "the client gets close_notify, then end of file, when the handler exits" {
	start_tls_server -L 127.0.0.1:0 -- echo hello
	run --separate-stderr tls_client "$ADDR" --recv-all --timeout 5
	show
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	# "eof" would be a TCP end of file without close_notify (truncation)
	[ "$(report end)" = close_notify ]
}

@test "a handler that closes its output gets the client close_notify at once, and still reads what the client sends then" {
	local f=$BATS_TEST_TMPDIR/late
	start_tls_server -L 127.0.0.1:0 -- \
		sh -c 'echo early; exec >&-; cat >"$1"' sh "$f"
	# the client sends only once the server's side has ended: a relay
	# that waited for the handler's exit to send close_notify would keep
	# both waiting until the client's timeout
	run --separate-stderr tls_client "$ADDR" --after-end --send late-data \
		--half-close --recv-all --timeout 5
	show
	[ "$status" -eq 0 ]
	[ "$output" = early ]
	[ "$(report end)" = close_notify ]
	wait_for_content "$f" late-data
}

@test "a handler that shuts down fd 1 (shutdown SHUT_WR) gets the client close_notify at once, and still reads" {
	local f=$BATS_TEST_TMPDIR/late
	start_tls_server -L 127.0.0.1:0 -- python3 -c '
import socket, sys
sys.stdout.write("early\n")
sys.stdout.flush()
out = socket.socket(fileno=1)
out.shutdown(socket.SHUT_WR)
out.detach()
with open(sys.argv[1], "wb") as f:
    f.write(sys.stdin.buffer.read())
' "$f"
	run --separate-stderr tls_client "$ADDR" --after-end --send late-data \
		--half-close --recv-all --timeout 5
	show
	[ "$status" -eq 0 ]
	[ "$output" = early ]
	[ "$(report end)" = close_notify ]
	wait_for_content "$f" late-data
}

@test "all a handler wrote before it exited reaches a client that starts reading a second later, then close_notify" {
	local big=$BATS_TEST_TMPDIR/big got=$BATS_TEST_TMPDIR/got
	local done=$BATS_TEST_TMPDIR/exited
	head -c 100000 /dev/urandom >"$big"
	start_tls_server -L 127.0.0.1:0 -- \
		sh -c 'cat "$1"; echo exited >"$2"' sh "$big" "$done"
	run --separate-stderr tls_client "$ADDR" --hold 1 --recv-all \
		--out "$got" --timeout 10
	show
	[ "$status" -eq 0 ]
	[ "$(report end)" = close_notify ]
	[ "$(sha256sum <"$big")" = "$(sha256sum <"$got")" ]
	[ -e "$done" ]
}

@test "the handler reads end of file when the client sends close_notify, and its answer still reaches the client" {
	start_tls_server -L 127.0.0.1:0 -- sh -c 'cat >/dev/null; echo got-eof'
	run --separate-stderr tls_client "$ADDR" --send some-data --half-close \
		--recv-all --timeout 5
	show
	[ "$status" -eq 0 ]
	[ "$output" = got-eof ]
	[ "$(report end)" = close_notify ]
}

@test "the handler reads end of file when the client just closes or shuts down its side (no close_notify)" {
	local f=$BATS_TEST_TMPDIR/eofs
	start_tls_server -L 127.0.0.1:0 -- \
		sh -c 'cat >/dev/null; echo eof >>"$1"' sh "$f"
	run --separate-stderr tls_client "$ADDR" --send some-data --close
	show
	[ "$status" -eq 0 ]
	wait_for_content "$f" eof
	run --separate-stderr tls_client "$ADDR" --send some-data --shut-wr
	show
	[ "$status" -eq 0 ]
	wait_for_content "$f" "eof
eof"
}

# ---- certificates ---------------------------------------------------------

@test "two certificates: SNI chooses by name; no SNI or an unknown name gets the first; SSL_TLS_SNI when sent" {
	local first second
	first=$(tls_fingerprint "$TLS_CERT")
	second=$(tls_fingerprint "$TLS_DIR/other.example.pem")
	start_server -L 127.0.0.1:0 \
		-o tls_cert_file="$TLS_CERT,$TLS_DIR/other.example.pem" \
		-o tls_key_file="$TLS_KEY,$TLS_DIR/other.example.key" \
		-- "$H/tls-env" "$RAN"
	[ "$(peer_fp "$ADDR" other.example)" = "$second" ]
	[ "$(peer_fp "$ADDR" localhost)" = "$first" ]
	[ "$(peer_fp "$ADDR")" = "$first" ]
	[ "$(peer_fp "$ADDR" unknown.example)" = "$first" ]
	# the chain verifies against the CA for the name asked
	env_client --sni other.example --ca "$TLS_CA"
	[ "$status" -eq 0 ]
	[ "$(var SSL_TLS_SNI)" = other.example ]
	env_client
	[ "$status" -eq 0 ]
	no_var SSL_TLS_SNI
}

@test "the first certificate listed is the default: the other order (white space between) gives other.example without SNI" {
	local second
	second=$(tls_fingerprint "$TLS_DIR/other.example.pem")
	start_server -L 127.0.0.1:0 \
		-o tls_cert_file="$TLS_DIR/other.example.pem $TLS_CERT" \
		-o tls_key_file="$TLS_DIR/other.example.key $TLS_KEY" \
		-- "$H/tls-env" "$RAN"
	[ "$(peer_fp "$ADDR")" = "$second" ]
	[ "$(peer_fp "$ADDR" localhost)" = "$(tls_fingerprint "$TLS_CERT")" ]
}

@test "a certificate file that holds its key too needs no tls_key_file" {
	local both=$BATS_TEST_TMPDIR/both.pem
	cat "$TLS_CERT" "$TLS_KEY" >"$both"
	start_server -L 127.0.0.1:0 -o tls_cert_file="$both" -- "$H/tls-env"
	[ "$(peer_fp "$ADDR")" = "$(tls_fingerprint "$TLS_CERT")" ]
}

# ---- client certificates ---------------------------------------------------

@test "tls_verify_client=none: no certificate asked for, SSL_CLIENT_VERIFY=NONE and no SSL_CLIENT_* from a client that has one" {
	serve -o tls_verify_client=none -o tls_ca_file="$TLS_CA"
	env_client --cert "$TLS_DIR/alice.pem" --key "$TLS_DIR/alice.key"
	[ "$status" -eq 0 ]
	[ "$(var SSL_CLIENT_VERIFY)" = NONE ]
	no_var SSL_CLIENT_S_DN
	no_var SSL_CLIENT_CERT_SHA256
}

@test "tls_verify_client=optional: without a certificate served with NONE; a valid one SUCCESS with its subject, issuer, serial and fingerprint" {
	local c=$TLS_DIR/alice.pem
	serve -o tls_verify_client=optional -o tls_ca_file="$TLS_CA"
	env_client
	[ "$status" -eq 0 ]
	[ "$(var SSL_CLIENT_VERIFY)" = NONE ]
	no_var SSL_CLIENT_S_DN
	env_client --cert "$c" --key "$TLS_DIR/alice.key"
	[ "$status" -eq 0 ]
	[ "$(var SSL_CLIENT_VERIFY)" = SUCCESS ]
	[ "$(var SSL_CLIENT_S_DN)" = "$(rfc2253 subject "$c")" ]
	[ "$(var SSL_CLIENT_S_DN)" = "CN=alice,O=single-server tests" ]
	[ "$(var SSL_CLIENT_I_DN)" = "$(rfc2253 issuer "$c")" ]
	[ "$(var SSL_CLIENT_M_SERIAL)" = "$(tls_serial "$c")" ]
	[[ "$(var SSL_CLIENT_M_SERIAL)" =~ ^[0-9A-F]+$ ]]
	[ "$(var SSL_CLIENT_CERT_SHA256)" = "$(tls_fingerprint "$c")" ]
	[ "$(ran_count)" -eq 2 ]
}

@test "tls_verify_client=optional: a certificate from an unknown CA is served with SSL_CLIENT_VERIFY=FAILED:reason" {
	local c=$TLS_DIR/rogue/mallory.pem
	serve -o tls_verify_client=optional -o tls_ca_file="$TLS_CA"
	env_client --cert "$c" --key "$TLS_DIR/rogue/mallory.key"
	[ "$status" -eq 0 ]
	[[ "$(var SSL_CLIENT_VERIFY)" =~ ^FAILED:.+ ]]
	[ "$(var SSL_CLIENT_S_DN)" = "$(rfc2253 subject "$c")" ]
	[ "$(var SSL_CLIENT_CERT_SHA256)" = "$(tls_fingerprint "$c")" ]
}

@test "tls_verify_client=require: a valid certificate is served with SUCCESS" {
	serve -o tls_verify_client=require -o tls_ca_file="$TLS_CA"
	env_client --cert "$TLS_DIR/alice.pem" --key "$TLS_DIR/alice.key"
	[ "$status" -eq 0 ]
	[ "$(var SSL_CLIENT_VERIFY)" = SUCCESS ]
	[ "$(var SSL_CLIENT_S_DN)" = "CN=alice,O=single-server tests" ]
}

@test "tls_verify_client=require: a client without a certificate is refused, no handler, logged \"peer did not return a certificate\"" {
	serve -o tls_verify_client=require -o tls_ca_file="$TLS_CA"
	# TLS 1.3: the client's side of the handshake ends before the server
	# has decided; the refusal is an alert or the close, and no data
	env_client --timeout 5
	[ -z "$output" ]
	handshake_refused "peer did not return a certificate"
	only_good_served --cert "$TLS_DIR/alice.pem" --key "$TLS_DIR/alice.key"
}

@test "tls_verify_client=require: a certificate from an unknown CA is refused, no handler, logged \"certificate verify failed\"" {
	serve -o tls_verify_client=require -o tls_ca_file="$TLS_CA"
	env_client --timeout 5 --cert "$TLS_DIR/rogue/mallory.pem" \
		--key "$TLS_DIR/rogue/mallory.key"
	[ -z "$output" ]
	handshake_refused "certificate verify failed"
	only_good_served --cert "$TLS_DIR/alice.pem" --key "$TLS_DIR/alice.key"
}

# ---- ALPN ------------------------------------------------------------------

@test "ALPN: the server's first choice among the client's, in SSL_ALPN; a client without ALPN has no SSL_ALPN" {
	serve -o tls_alpn=h2,http/1.1
	env_client --alpn http/1.1,h2
	[ "$status" -eq 0 ]
	[ "$(report alpn)" = h2 ]
	[ "$(var SSL_ALPN)" = h2 ]
	env_client --alpn foo,http/1.1
	[ "$status" -eq 0 ]
	[ "$(report alpn)" = http/1.1 ]
	[ "$(var SSL_ALPN)" = http/1.1 ]
	env_client
	[ "$status" -eq 0 ]
	[ "$(report alpn)" = none ]
	no_var SSL_ALPN
}

@test "ALPN: no protocol in common, the handshake fails and no handler runs" {
	serve -o tls_alpn=h2,http/1.1
	env_client --alpn spdy/3 --timeout 5
	[ "$status" -eq 1 ]
	[[ "$(report handshake)" == failed:* ]]
	handshake_refused ".+"
	only_good_served --alpn h2
}

# ---- the environment -------------------------------------------------------

@test "TLS 1.3: HTTPS=on, SSL_PROTOCOL=TLSv1.3, SSL_CIPHER the suite agreed, section 3's variables too, no SSL_CLIENT_*" {
	serve
	env_client --min 1.3
	[ "$status" -eq 0 ]
	[ "$(var HTTPS)" = on ]
	[ "$(var SSL_PROTOCOL)" = TLSv1.3 ]
	[ "$(var SSL_CIPHER)" = "$(report cipher)" ]
	[[ "$(var SSL_CIPHER)" == TLS_* ]]
	[ "$(var PROTO)" = TCP ]
	[ "$(var TCPREMOTEIP)" = 127.0.0.1 ]
	[ "$(var SSL_CLIENT_VERIFY)" = NONE ]
	no_var SSL_CLIENT_S_DN
	no_var SSL_CLIENT_M_SERIAL
}

@test "TLS 1.2: SSL_PROTOCOL=TLSv1.2 and SSL_CIPHER is OpenSSL's name of the cipher agreed" {
	serve
	env_client --max 1.2
	[ "$status" -eq 0 ]
	[ "$(report protocol)" = TLSv1.2 ]
	[ "$(var SSL_PROTOCOL)" = TLSv1.2 ]
	[ "$(var SSL_CIPHER)" = "$(report cipher)" ]
	[[ "$(var SSL_CIPHER)" == ECDHE-ECDSA-* ]]
}

@test "tls_ciphers sets the TLS 1.2 cipher: ECDHE-ECDSA-CHACHA20-POLY1305" {
	serve -o tls_ciphers=ECDHE-ECDSA-CHACHA20-POLY1305
	env_client --max 1.2
	[ "$status" -eq 0 ]
	[ "$(var SSL_CIPHER)" = ECDHE-ECDSA-CHACHA20-POLY1305 ]
}

# ---- bad input ---------------------------------------------------------------

@test "plaintext HTTP requests on a TLS port: closed, no HTTP answer, no handler, one log line for three of them" {
	serve
	# three from one process: well within the second of the rate limit
	run --separate-stderr tls_client "$ADDR" --plain --count 3 --timeout 5 \
		--send 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'
	show
	[ "$status" -eq 0 ]
	[ "$(grep -c '^end: ' <<<"$stderr")" -eq 3 ]
	[[ "$output" != *HTTP* ]]
	# OpenSSL 3 names a plaintext HTTP request "http request"
	handshake_refused "http request|wrong version number"
	only_good_served
}

@test "random bytes on a TLS port: closed at once, no handler, logged with OpenSSL's reason" {
	local junk=$BATS_TEST_TMPDIR/junk
	# fixed bytes that start like no TLS record (0x16 would wait for more)
	python3 -c '
import random, sys
r = random.Random(22)
sys.stdout.buffer.write(b"\x9f\x03" + bytes(r.randrange(256) for _ in range(2000)))
' >"$junk"
	serve -o tls_handshake_timeout=10s
	run --separate-stderr tls_client "$ADDR" --plain --send-file "$junk" --timeout 5
	show
	[ "$status" -eq 0 ]
	handshake_refused "[a-z][a-z0-9 ]*"
	! grep -q 'TLS handshake: timeout' "$LOG"
	only_good_served
}

@test "a client that stops mid-handshake is closed at tls_handshake_timeout=1s, no handler, while another is served" {
	local partial=$BATS_TEST_TMPDIR/partial silent=$BATS_TEST_TMPDIR/silent
	local go=$BATS_TEST_TMPDIR/go good=$BATS_TEST_TMPDIR/good
	serve -o tls_handshake_timeout=1s
	# the good client starts first and waits for "go", so that its own
	# start-up is not counted in the stalled clients' second
	bg tls_client "$ADDR" --after-file "$go" --recv-all --timeout 8 \
		--report "$good.report" --out "$good"
	local pg=$BG_PID
	bg tls_client "$ADDR" --stall partial --timeout 8 --report "$partial"
	local p1=$BG_PID
	bg tls_client "$ADDR" --stall nothing --timeout 8 --report "$silent"
	local p2=$BG_PID
	wait_for_line "$partial" '^sent [0-9]+ bytes'
	wait_for_line "$silent" '^sent 0 bytes'
	: >"$go"
	wait_exit "$pg" 8
	# served meanwhile: before the stalled ones were closed
	! grep -q closed "$partial" "$silent"
	cat "$good.report" "$good" >&2
	[ "$STATUS" -eq 0 ]
	grep -qx 'HTTPS=on' "$good"
	wait_exit "$p1" 8
	wait_exit "$p2" 8
	cat "$partial" "$silent" >&2
	grep -qE '^closed after (0\.[89]|1\.[0-9]|2\.[0-9]) s' "$partial"
	grep -qE '^closed after (0\.[89]|1\.[0-9]|2\.[0-9]) s' "$silent"
	! grep -q '^got' "$partial" "$silent"
	wait_for_log "(TLS handshake: timeout)"
	[ "$(ran_count)" -eq 1 ]
}

@test "a client whose highest version is below tls_protocols=TLSv1.3 is refused, logged \"unsupported protocol\"; TLS 1.3 is served" {
	serve -o tls_protocols=TLSv1.3
	env_client --max 1.2 --timeout 5
	[ "$status" -eq 1 ]
	[[ "$(report handshake)" == failed:* ]]
	handshake_refused "unsupported protocol"
	only_good_served --min 1.3
	[ "$(var SSL_PROTOCOL)" = TLSv1.3 ]
}

@test "a client denied by the access rules gets no handshake: its ClientHello is answered by the close alone, no deny message" {
	local r=$BATS_TEST_TMPDIR/rules
	printf '127.0.0.1 deny go away\n* allow\n' >"$r"
	serve -o access_rules="$r"
	run --separate-stderr tls_client "$ADDR" --stall hello --timeout 5
	show
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"closed after"* ]]
	[[ "$stderr" != *got* ]]
	wait_for_log "deny 127.0.0.1"
	! grep -q 'TLS handshake' "$LOG"
	[ "$(ran_count)" -eq 0 ]
}

# ---- configuration errors -----------------------------------------------------

# sound_config: the default certificate and key pass --check (so that an
# error below is the one the test names, not TLS unknown altogether)
sound_config() {
	run --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o tls_cert_file="$TLS_CERT" -o tls_key_file="$TLS_KEY" -- true </dev/null
	show
	[ "$status" -eq 0 ]
}

# tls_error FILE TEXT ARGS...: with ARGS, both --check and a start exit
# 100 with a fatal message that names FILE and has TEXT (an ERE, any
# case); nothing is served
tls_error() {
	local file=$1 text=$2 how
	shift 2
	sound_config
	for how in --check start; do
		if [ "$how" = start ]; then
			run --separate-stderr timeout 10 "$SS" -L 127.0.0.1:0 "$@" \
				-- true </dev/null
		else
			run --separate-stderr timeout 10 "$SS" --check -L 127.0.0.1:0 \
				"$@" -- true </dev/null
		fi
		echo "$how:" >&2
		show
		[ "$status" -eq 100 ]
		[[ "$stderr" == *fatal:* ]]
		[[ "$stderr" == *"$file"* ]]
		[[ "$stderr" != *"unknown parameter"* ]]
		grep -qiE -- "$text" <<<"$stderr"
	done
}

@test "a missing certificate or key file: exit 100 naming it, at start and with --check" {
	local nope=$BATS_TEST_TMPDIR/nope.pem
	tls_error "$nope" "no such file|not found|missing|exist" -o tls_cert_file="$nope" -o tls_key_file="$TLS_KEY"
	tls_error "$nope" "no such file|not found|missing|exist" \
		-o tls_cert_file="$TLS_CERT" -o tls_key_file="$nope"
	tls_error "$nope" "no such file|not found|missing|exist" -o tls_cert_file="$TLS_CERT" -o tls_key_file="$TLS_KEY" \
		-o tls_verify_client=optional -o tls_ca_file="$nope"
}

@test "an unreadable key file (a directory; mode 0600 of root for another user): exit 100 naming it" {
	tls_error "$BATS_TEST_TMPDIR" "." -o tls_cert_file="$TLS_CERT" \
		-o tls_key_file="$BATS_TEST_TMPDIR"
	# as nobody, with a key only root may read (the files in a directory
	# nobody can enter: the test's own is private)
	PUBLIC_DIR=$(mktemp -d /tmp/ss-tls.XXXXXX)
	chmod 755 "$PUBLIC_DIR"
	cp "$TLS_CERT" "$TLS_KEY" "$PUBLIC_DIR/"
	chmod 644 "$PUBLIC_DIR/localhost.pem"
	chmod 600 "$PUBLIC_DIR/localhost.key"
	run --separate-stderr setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$SS" --check -L 127.0.0.1:0 \
		-o tls_cert_file="$PUBLIC_DIR/localhost.pem" \
		-o tls_key_file="$PUBLIC_DIR/localhost.key" -- true </dev/null
	show
	[ "$status" -eq 100 ]
	[[ "$stderr" == *fatal:*"$PUBLIC_DIR/localhost.key"* ]]
	[[ "$stderr" != *"unknown parameter"* ]]
}

@test "a key that does not match its certificate: exit 100 naming the file, at start and with --check" {
	sound_config
	run --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o tls_cert_file="$TLS_CERT" \
		-o tls_key_file="$TLS_DIR/other.example.key" -- true </dev/null
	show
	[ "$status" -eq 100 ]
	[[ "$stderr" == *fatal:* ]]
	[[ "$stderr" == *localhost.pem* || "$stderr" == *other.example.key* ]]
	grep -qi match <<<"$stderr"
	run --separate-stderr timeout 10 "$SS" -L 127.0.0.1:0 \
		-o tls_cert_file="$TLS_CERT" \
		-o tls_key_file="$TLS_DIR/other.example.key" -- true </dev/null
	show
	[ "$status" -eq 100 ]
	[[ "$stderr" == *localhost.pem* || "$stderr" == *other.example.key* ]]
	grep -qi match <<<"$stderr"
}

@test "an expired certificate: exit 100 naming the file, at start and with --check" {
	tls_error "$TLS_DIR/old.example.pem" "expire" \
		-o tls_cert_file="$TLS_DIR/old.example.pem" \
		-o tls_key_file="$TLS_DIR/old.example.key"
}

@test "a certificate that expires within 14 days: a warning naming it, from --check and at start, and it is served" {
	local soon=$TLS_DIR/soon.example.pem
	run --separate-stderr "$SS" --check -L 127.0.0.1:0 \
		-o tls_cert_file="$soon" -o tls_key_file="$TLS_DIR/soon.example.key" \
		-- true </dev/null
	show
	[ "$status" -eq 0 ]
	[[ "$stderr" == *warning:*soon.example.pem* ]]
	grep -qi expire <<<"$stderr"
	start_server -L 127.0.0.1:0 -o tls_cert_file="$soon" \
		-o tls_key_file="$TLS_DIR/soon.example.key" -- "$H/tls-env"
	grep -q "warning:.*soon.example.pem" "$LOG"
	[ "$(peer_fp "$ADDR")" = "$(tls_fingerprint "$soon")" ]
}

@test "tls_verify_client=optional or require without tls_ca_file: exit 100" {
	local v
	sound_config
	for v in optional require; do
		run --separate-stderr "$SS" --check -L 127.0.0.1:0 \
			-o tls_cert_file="$TLS_CERT" -o tls_key_file="$TLS_KEY" \
			-o tls_verify_client=$v -- true </dev/null
		show
		[ "$status" -eq 100 ]
		[[ "$stderr" == *tls_ca_file* ]]
	done
}

# ---- stream mode ---------------------------------------------------------------

# stream_start ARGS...: "single-server -S -V ARGS" with the TLS options,
# run by t/tls.bats's acceptor on one TCP connection (its fds 0 and 1)
# from a client the test then connects to ADDR; STREAM_PID is the
# acceptor's pid, its report "status=N" goes to $BATS_TEST_TMPDIR/stream
# and single-server's stderr to $LOG
stream_start() {
	local a=$BATS_TEST_TMPDIR/stream.addr i
	LOG=$BATS_TEST_TMPDIR/stream.log
	bg python3 -c "$ACCEPT_ONE_PY" "$a" "$SS" -S -V \
		-o tls_cert_file="$TLS_CERT" -o tls_key_file="$TLS_KEY" "$@" \
		</dev/null >"$BATS_TEST_TMPDIR/stream" 2>"$LOG"
	STREAM_PID=$BG_PID
	wait_for_file "$a" 5
	ADDR=$(cat "$a")
}

# stream_status: wait for the acceptor; STREAM_STATUS is single-server's
# exit status
stream_status() {
	wait_exit "$STREAM_PID" 10
	cat "$BATS_TEST_TMPDIR/stream" "$LOG" >&2
	STREAM_STATUS=$(sed -n 's/^status=//p' "$BATS_TEST_TMPDIR/stream")
}

ACCEPT_ONE_PY=$(cat <<'EOF'
import os, socket, subprocess, sys
addr_file, cmd = sys.argv[1], sys.argv[2:]
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(1)
lst.settimeout(10)
with open(addr_file + ".tmp", "w") as f:
    f.write("127.0.0.1:%d\n" % lst.getsockname()[1])
os.rename(addr_file + ".tmp", addr_file)
conn, _ = lst.accept()
lst.close()
proc = subprocess.Popen(cmd, stdin=conn, stdout=conn)
conn.close()
try:
    status = proc.wait(timeout=15)
except subprocess.TimeoutExpired:
    proc.kill()
    status = proc.wait()
print("status=%d" % (status if status >= 0 else 128 - status), flush=True)
EOF
)

@test "stream mode (-S, the connection on fd 0): TLS served, the handler's exit status passed through" {
	stream_start -- sh -c '"$1" "$2"; cat; exit 7' sh "$H/tls-env" "$RAN"
	run --separate-stderr tls_client "$ADDR" --send 'hello\n' --half-close \
		--recv-all --timeout 5
	show
	[ "$status" -eq 0 ]
	[ "$(var HTTPS)" = on ]
	[ "$(var SSL_PROTOCOL)" = TLSv1.3 ]
	[ "$(tail -1 <<<"$output")" = hello ]
	[ "$(report end)" = close_notify ]
	stream_status
	[ "$STREAM_STATUS" = 7 ]
}

@test "stream mode: a failed handshake (a plaintext client) exits 0, no handler, logged" {
	stream_start -- "$H/tls-env" "$RAN"
	run --separate-stderr tls_client "$ADDR" --plain --timeout 5 \
		--send 'GET / HTTP/1.0\r\n\r\n'
	show
	[[ "$output" != *HTTP* ]]
	stream_status
	[ "$STREAM_STATUS" = 0 ]
	[ "$(ran_count)" -eq 0 ]
	grep -qE 'TLS handshake: (http request|wrong version number)' "$LOG"
}

# ---- a build without TLS --------------------------------------------------------

@test "built without TLS (configure --without-tls): tls_cert_file is a configuration error (100)" {
	tls_built_without || skip "built with TLS"
	run --separate-stderr "$SS" -S -o tls_cert_file="$TLS_CERT" \
		-o tls_key_file="$TLS_KEY" -- true </dev/null
	show
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"built without TLS"* ]]
}

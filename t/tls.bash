# t/tls.bash - certificates made by the tests and a TLS server, for the
# bats files about TLS (t/tls.bats, t/tls-ops.bats). Load after helper:
#
#   load helper
#   load tls
#   setup_file() { tls_setup_file; }
#
# Every key and certificate is made here with openssl req/x509/ca (EC
# P-256, fast) in the file's temporary directory: nothing secret is
# committed. tls_setup_file makes a CA and a default server certificate
# once per bats file:
#
#   TLS_DIR   $BATS_FILE_TMPDIR/tls, where they are
#   TLS_CA    $TLS_DIR/ca.pem (its key: $TLS_DIR/ca.key)
#   TLS_CERT  $TLS_DIR/localhost.pem, names localhost and IP 127.0.0.1
#   TLS_KEY   $TLS_DIR/localhost.key
#
# TLS_DIR is derived from BATS_FILE_TMPDIR, so the names hold in every
# test even where a variable set in setup_file would not.

TLS_CLIENT=$SRC/t/tls-client.py
TLS_DIR=${BATS_FILE_TMPDIR:-${BATS_TMPDIR:-/tmp}}/tls
TLS_CA=$TLS_DIR/ca.pem
TLS_CERT=$TLS_DIR/localhost.pem
TLS_KEY=$TLS_DIR/localhost.key

# tls_ca DIR: a test CA, DIR/ca.pem and DIR/ca.key (self-signed, EC
# P-256, 30 days, CN=single-server test CA)
tls_ca() {
	local dir=$1
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 \
		-subj "/O=single-server tests/CN=single-server test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>/dev/null || {
		echo "tls_ca: openssl req failed" >&2
		return 1
	}
}

# _tls_san NAME [SAN...]: the subjectAltName value: DNS:NAME, then each
# SAN as given when it has a type (DNS:, IP:, email:), else as DNS:SAN
_tls_san() {
	local san="DNS:$1" s
	shift
	for s; do
		case $s in
		*:*) san+=",$s" ;;
		*) san+=",DNS:$s" ;;
		esac
	done
	echo "$san"
}

# _tls_sign DIR NAME DAYS SUBJECT EXTENSIONS: a new key DIR/NAME.key and
# DIR/NAME.pem for SUBJECT signed by DIR/ca for DAYS days, with the
# extension lines EXTENSIONS (an x509 -extfile); a random serial of 16
# hex digits whose first is 5 (no leading zero, positive: one way to
# write it)
_tls_sign() {
	local dir=$1 name=$2 days=$3 subj=$4 ext=$5
	printf '%s\n' "$ext" >"$dir/$name.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" \
		2>/dev/null &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" \
			-CAkey "$dir/ca.key" -days "$days" -sha256 \
			-set_serial "0x5$(openssl rand -hex 8 | cut -c2-)" \
			-extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null || {
		echo "tls: cannot make $dir/$name.pem" >&2
		return 1
	}
	rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# tls_cert DIR NAME [DAYS] [SAN...]: a server certificate DIR/NAME.pem and
# its key DIR/NAME.key signed by DIR/ca: CN=NAME, subjectAltName DNS:NAME
# plus each SAN (IP:127.0.0.1, DNS:other, or a bare name), valid from now
# for DAYS days (default 30; 5 makes one that expires within 14 days;
# DAYS must be given when SANs are)
tls_cert() {
	local dir=$1 name=$2 days=${3:-30}
	shift 2
	[ $# -eq 0 ] || shift
	_tls_sign "$dir" "$name" "$days" "/CN=$name" "$(printf '%s\n' \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth" \
		"subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid" \
		"subjectAltName=$(_tls_san "$name" "$@")")"
}

# tls_cert_expired DIR NAME: like tls_cert, but valid only in January
# 2020 (openssl ca sets both dates; x509 -days can only move the end)
tls_cert_expired() {
	local dir=$1 name=$2 db
	db=$(mktemp -d "$dir/ca-db.XXXXXX") || return 1
	: >"$db/index"
	cat >"$db/ca.cnf" <<-EOF
	[ca]
	default_ca = test_ca
	[test_ca]
	database = $db/index
	new_certs_dir = $db
	default_md = sha256
	policy = any
	rand_serial = yes
	unique_subject = no
	copy_extensions = copy
	[any]
	commonName = supplied
	EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -subj "/CN=$name" \
		-addext "subjectAltName=DNS:$name" -out "$db/req.csr" 2>/dev/null &&
		openssl ca -batch -config "$db/ca.cnf" -cert "$dir/ca.pem" \
			-keyfile "$dir/ca.key" -in "$db/req.csr" -out "$dir/$name.pem" \
			-startdate 20200101000000Z -enddate 20200201000000Z -notext \
			2>/dev/null || {
		echo "tls_cert_expired: cannot make $dir/$name.pem" >&2
		return 1
	}
	rm -rf "$db"
}

# tls_client_cert DIR NAME: a client certificate DIR/NAME.pem and key
# DIR/NAME.key signed by DIR/ca: CN=NAME, O=single-server tests,
# extendedKeyUsage clientAuth, 30 days
tls_client_cert() {
	local dir=$1 name=$2
	_tls_sign "$dir" "$name" 30 "/O=single-server tests/CN=$name" "$(printf '%s\n' \
		"basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=clientAuth" \
		"subjectKeyIdentifier=hash" \
		"authorityKeyIdentifier=keyid")"
}

# tls_fingerprint FILE: the SHA-256 fingerprint of the PEM certificate
# FILE, lower-case hex without colons (SSL_CLIENT_CERT_SHA256's form)
tls_fingerprint() {
	local fp
	fp=$(openssl x509 -in "$1" -noout -fingerprint -sha256) || return 1
	fp=${fp#*=}
	fp=${fp//:/}
	echo "${fp,,}"
}

# tls_serial FILE: the serial number of the PEM certificate FILE,
# upper-case hex without colons (SSL_CLIENT_M_SERIAL's form)
tls_serial() {
	local s
	s=$(openssl x509 -in "$1" -noout -serial) || return 1
	s=${s#serial=}
	echo "${s^^}"
}

# tls_setup_file: once per bats file (from setup_file): the CA and the
# default server certificate, TLS_DIR/ca and TLS_DIR/localhost
tls_setup_file() {
	[ -n "${BATS_FILE_TMPDIR:-}" ] && TLS_DIR=$BATS_FILE_TMPDIR/tls
	TLS_CA=$TLS_DIR/ca.pem
	TLS_CERT=$TLS_DIR/localhost.pem
	TLS_KEY=$TLS_DIR/localhost.key
	export TLS_DIR TLS_CA TLS_CERT TLS_KEY
	tls_ca "$TLS_DIR" && tls_cert "$TLS_DIR" localhost 30 IP:127.0.0.1
}

# tls_built_without: true when the program was built without TLS
# (configure --without-tls: a tls_cert_file is then refused as "built
# without TLS"); probed once, the answer kept in TLS_DIR
tls_built_without() {
	local f=$TLS_DIR/built-without-tls
	if [ ! -e "$f" ]; then
		mkdir -p "$TLS_DIR"
		if "$SS" --check -L 127.0.0.1:0 -o tls_cert_file="$TLS_CERT" \
			-o tls_key_file="$TLS_KEY" -- true 2>&1 </dev/null |
			grep -q "built without TLS"; then
			echo yes >"$f"
		else
			echo no >"$f"
		fi
	fi
	[ "$(cat "$f")" = yes ]
}

# need_tls: skip the test when the program was built without TLS
need_tls() {
	! tls_built_without || skip "built without TLS"
}

# start_tls_server ARGS...: start_server with TLS on, with the default
# certificate (TLS_CERT, TLS_KEY); ARGS as for start_server (a later
# -o tls_cert_file=... replaces it). Sets SERVER_PID, ADDR, ADDRS, LOG.
start_tls_server() {
	start_server -o tls_cert_file="$TLS_CERT" -o tls_key_file="$TLS_KEY" "$@"
}

# tls_client ARGS...: t/tls-client.py (see its top for the options)
tls_client() {
	python3 "$TLS_CLIENT" "$@"
}

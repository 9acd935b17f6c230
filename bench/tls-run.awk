# tls-run.awk: bench/tls-run's summary, from conn.tsv (server conc round cps
# p50_us p99_us ok err dirty cpu_us cli_cpu_us), bulk.tsv (server round mbps
# ok cpu_ms dirty) and idle.tsv (server round ok rss0 rss1 kb_rss kb_pss procs
# dropped). Cells are medians over the rounds; ratios are to stunnel4 and to
# the best peer (the better of stunnel4 and socat in the same row).
# Variables: names, concs, lab ("name=label ..."), head, load, ceil0, ceil1,
# cmd, n, rounds, bytes, idle.

function median(key,    m, i, j, t, v) {
	m = cnt[key]
	if (m == 0) return "NA"
	for (i = 1; i <= m; i++) v[i] = val[key, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
function add(key, x) { if (x != "NA" && x != "") val[key, ++cnt[key]] = x + 0 }
function ratio(a, b) { return (a == "NA" || b == "NA" || b + 0 == 0) ? "" : sprintf("%.2fx", a / b) }
function fmt(x, f) { return x == "NA" ? "NA" : sprintf(f, x) }
function fmtd(x, d, f) { return x == "NA" ? "NA" : sprintf(f, x / d) }
function kvs(str, arr,    i, k, w, nw) {
	nw = split(str, w, " ")
	for (i = 1; i <= nw; i++) { k = index(w[i], "="); if (k) arr[substr(w[i], 1, k - 1)] = substr(w[i], k + 1) }
}
function verdict(ok) { return ok ? "met" : "**not met**" }
# best(metric key suffix, hi): the best peer's median (hi: larger is better)
function best(pre, post, hi,    k, s, v, b) {
	b = "NA"
	for (k = 1; k <= ns; k++) {
		s = N[k]
		if (s == "ss") continue
		v = M[pre, s, post]
		if (v == "NA") continue
		if (b == "NA" || (hi ? v > b : v < b)) b = v
	}
	return b
}
function bold(s, t) { return s == "ss" ? "**" t "**" : t }

FILENAME ~ /conn\.tsv$/ && FNR > 1 {
	k = $1 SUBSEP $2
	add("c" SUBSEP k SUBSEP "cps", $4); add("c" SUBSEP k SUBSEP "p50", $5); add("c" SUBSEP k SUBSEP "p99", $6)
	add("c" SUBSEP k SUBSEP "cpu", $10); add("c" SUBSEP k SUBSEP "cli", $11)
	cerr[k] += ($8 == "NA" ? 1 : $8); cruns[k]++; cdirty[k] += $9
}
FILENAME ~ /bulk\.tsv$/ && FNR > 1 {
	add("b" SUBSEP $1 SUBSEP "mbps", $4 == 1 ? $3 : "NA"); add("b" SUBSEP $1 SUBSEP "cpu", $5)
	bfail[$1] += ($4 == 1 ? 0 : 1); bruns[$1]++
}
FILENAME ~ /idle\.tsv$/ && FNR > 1 {
	add("i" SUBSEP $1 SUBSEP "rss", $6); add("i" SUBSEP $1 SUBSEP "pss", $7); add("i" SUBSEP $1 SUBSEP "procs", $8)
	ifail[$1] += ($3 == idle && $9 == 0) ? 0 : 1; iruns[$1]++
}

END {
	ns = split(names, N, " ")
	kvs(lab, LAB)
	for (s in LAB) gsub(/\+/, " ", LAB[s])
	nc = split(concs, C, " ")
	for (k = 1; k <= ns; k++) {
		s = N[k]
		for (i = 1; i <= nc; i++) {
			c = C[i]
			split("cps p50 p99 cpu cli", F, " ")
			for (f = 1; f <= 5; f++) M["c" SUBSEP c, s, F[f]] = median("c" SUBSEP s SUBSEP c SUBSEP F[f])
		}
		M["b", s, "mbps"] = median("b" SUBSEP s SUBSEP "mbps"); M["b", s, "cpu"] = median("b" SUBSEP s SUBSEP "cpu")
		M["i", s, "rss"] = median("i" SUBSEP s SUBSEP "rss"); M["i", s, "pss"] = median("i" SUBSEP s SUBSEP "pss")
		M["i", s, "procs"] = median("i" SUBSEP s SUBSEP "procs")
		has[s] = 1
	}

	print "## TLS benchmark (`" cmd "`)"
	print ""
	print "- " head
	print "- machine load: " load
	print "- every connection a new TLS 1.3 session (full handshake, X25519, the server's ECDSA P-256 certificate verified by the client), TLS_AES_128_GCM_SHA256"
	print "- " n " connections per conn run (C at a time, fewer when the time cap ends a run), " rounds " rounds, the servers interleaved (order rotated every round); cells are medians over the rounds"
	print "- ratios: to stunnel4, and to the best peer (the better of stunnel4 and socat) of the same row"
	print "- server CPU: every process of the server's tree (server, relays, handlers), from /proc/PID/stat (10 ms ticks); client CPU: tlsload's own"
	print ""
	print "| clients | server | conn/s | × stunnel | × best peer | p50 ms | p99 ms | server CPU µs/conn | client CPU µs/conn | errors (runs) |"
	print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nc; i++) {
		c = C[i]; bp = best("c" SUBSEP c, "cps", 1)
		for (k = 1; k <= ns; k++) {
			s = N[k]; v = M["c" SUBSEP c, s, "cps"]
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d (%d) |\n", c, bold(s, LAB[s]), bold(s, fmt(v, "%.0f")),
				(s != "stunnel" && has["stunnel"]) ? ratio(v, M["c" SUBSEP c, "stunnel", "cps"]) : "",
				s == "ss" ? ratio(v, bp) : "",
				fmtd(M["c" SUBSEP c, s, "p50"], 1000, "%.1f"), fmtd(M["c" SUBSEP c, s, "p99"], 1000, "%.1f"),
				fmt(M["c" SUBSEP c, s, "cpu"], "%.0f"), fmt(M["c" SUBSEP c, s, "cli"], "%.0f"), cerr[s, c], cruns[s, c]
		}
	}
	print ""
	printf "| bulk: %s each way at once, one connection, handler cat | MB/s each way | × stunnel | × best peer | of the ceiling | server CPU s | failed (runs) |\n",
		(bytes % 1048576) ? sprintf("%.0f MB", bytes / 1e6) : sprintf("%d MiB", bytes / 1048576)
	print "|---|---:|---:|---:|---:|---:|---:|"
	bp = best("b", "mbps", 1)
	for (k = 1; k <= ns; k++) {
		s = N[k]; v = M["b", s, "mbps"]
		printf "| %s | %s | %s | %s | %s | %s | %d (%d) |\n", bold(s, LAB[s]), bold(s, fmt(v, "%.0f")),
			(s != "stunnel" && has["stunnel"]) ? ratio(v, M["b", "stunnel", "mbps"]) : "", s == "ss" ? ratio(v, bp) : "",
			(ceil0 + 0 > 0 && v != "NA") ? sprintf("%.0f%%", 100 * v / ceil0) : "NA",
			fmtd(M["b", s, "cpu"], 1000, "%.2f"), bfail[s], bruns[s]
	}
	printf "| ceiling: `openssl speed -evp aes-128-gcm -seconds 1`, 16384-byte blocks, one core | %s (after: %s) | | | | | |\n", ceil0, ceil1
	print ""
	printf "| idle: %d clients held, handler cat | kB RSS per client | × stunnel | × best peer | kB PSS per client | processes per client | failed (runs) |\n", idle
	print "|---|---:|---:|---:|---:|---:|---:|"
	bp = best("i", "rss", 0)
	for (k = 1; k <= ns; k++) {
		s = N[k]; v = M["i", s, "rss"]
		printf "| %s | %s | %s | %s | %s | %s | %d (%d) |\n", bold(s, LAB[s]), bold(s, fmt(v, "%.0f")),
			(s != "stunnel" && has["stunnel"]) ? ratio(v, M["i", "stunnel", "rss"]) : "", s == "ss" ? ratio(v, bp) : "",
			fmt(M["i", s, "pss"], "%.0f"), fmt(M["i", s, "procs"], "%.2f"), ifail[s], iruns[s]
	}
	if (!has["ss"] || !has["stunnel"]) exit
	print ""
	print "Targets of issue 22:"
	print ""
	for (i = 1; i <= nc; i++) if (C[i] == 1 || C[i] == 16) {
		c = C[i]; v = M["c" SUBSEP c, "ss", "cps"]; x = M["c" SUBSEP c, "stunnel", "cps"]; b = best("c" SUBSEP c, "cps", 1)
		if (v == "NA" || x == "NA" || b == "NA") { printf "- %s client(s): no figures\n", c; continue }
		printf "- conn/s, %s client(s): %.2fx stunnel (≥ 1.2x: %s), %.2fx the best peer (≥ 1.0x: %s)\n", c,
			v / x, verdict(v / x >= 1.2), v / b, verdict(v / b >= 1.0)
	}
	v = M["b", "ss", "mbps"]; x = M["b", "stunnel", "mbps"]
	if (v != "NA" && x != "NA")
		printf "- bulk: %.2fx stunnel (≥ 1.0x: %s); %.0f MB/s each way against a ceiling of %s MB/s\n", v / x, verdict(v / x >= 1), v, ceil0
	v = M["i", "ss", "rss"]; x = M["i", "stunnel", "rss"]
	if (v != "NA" && x != "NA")
		printf "- idle: %.0f kB per client against stunnel's %.0f kB (≤: %s)\n", v, x, verdict(v <= x)
}

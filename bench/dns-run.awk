# dns-run.awk: bench/dns-run's summary, from runs.tsv (server conc round cps
# p50_us p99_us ok err cpu_us dns_cpu_us queries). Cells are medians over the
# rounds. Ratios are paired: each round's figure over its base's in the same
# round (no over old, every other server over no), the median of those, and
# their least and greatest. The noise is the A/A pair: aa over no.
# Variables: names, concs, lab ("name=label ..."), head, load, checks, cmd,
# n, rounds.

function sortv(v, m,    i, j, t) {
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
}
function median(key,    m, i, v) {
	m = cnt[key]
	if (m == 0) return "NA"
	for (i = 1; i <= m; i++) v[i] = val[key, i]
	sortv(v, m)
	return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
}
function add(key, x) { if (x != "NA" && x != "") val[key, ++cnt[key]] = x + 0 }
function fmt(x, f) { return x == "NA" ? "NA" : sprintf(f, x) }
function fmtd(x, d, f) { return x == "NA" ? "NA" : sprintf(f, x / d) }
function kvs(str, arr,    i, k, w, nw) {
	nw = split(str, w, " ")
	for (i = 1; i <= nw; i++) { k = index(w[i], "="); if (k) arr[substr(w[i], 1, k - 1)] = substr(w[i], k + 1) }
}
function verdict(ok) { return ok ? "met" : "**not met**" }
# paired S C: sets PM (median), PLO, PHI of the per-round ratios S/base(S)
# at C; returns the number of rounds paired
function paired(s, c,    b, r, m, v, i) {
	b = base[s]; m = 0; PM = PLO = PHI = "NA"
	if (b == "") return 0
	for (r = 1; r <= maxround; r++)
		if ((s, c, r) in cps && (b, c, r) in cps && cps[b, c, r] > 0) v[++m] = cps[s, c, r] / cps[b, c, r]
	if (m == 0) return 0
	sortv(v, m)
	PM = (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	PLO = v[1]; PHI = v[m]
	return m
}
function dev(x) { return x > 1 ? x - 1 : 1 - x }

FNR > 1 {
	k = $1 SUBSEP $2
	add(k SUBSEP "cps", $4); add(k SUBSEP "p50", $5); add(k SUBSEP "p99", $6)
	add(k SUBSEP "cpu", $9); add(k SUBSEP "dns", $10)
	if ($7 + 0 > 0) add(k SUBSEP "qpc", $11 / $7)
	if ($4 != "NA") cps[$1, $2, $3] = $4 + 0
	if ($3 + 0 > maxround) maxround = $3 + 0
	errs[k] += ($8 == "NA" ? 1 : $8); runs[k]++
}

END {
	ns = split(names, NM, " ")
	nc = split(concs, C, " ")
	kvs(lab, LAB)
	for (s in LAB) gsub(/\+/, " ", LAB[s])
	for (k = 1; k <= ns; k++) { has[NM[k]] = 1; if (NM[k] != "old" && NM[k] != "no") base[NM[k]] = "no" }
	if (has["old"]) base["no"] = "old"

	print "## Host-name lookups (`" cmd "`)"
	print ""
	print "- " head
	print "- machine load: " load
	print "- single-server resident mode, handler bench/bin/echo1; lookups against a private dnsmasq on 127.0.0.1 (PTR bench.test for 127.0.0.1, A 127.0.0.1), no cache in single-server: every connection asks"
	print "- " n " connections per run, " rounds " rounds, the servers interleaved (order rotated every round); cells are medians over the rounds"
	print "- ratio: the median of the rounds' paired ratios (a run over its base's run in the same round: no over old, the rest over no), and their range; aa/no is the A/A pair, the noise"
	print "- CPU: the server and its reaped handlers (/proc/PID/stat, 10 ms ticks); dnsmasq's apart; queries: answered by dnsmasq during the run (its SIGUSR1 statistics), per connection"
	print ""
	print "| clients | server | conn/s | ratio | range | p50 ms | p99 ms | server CPU µs/conn | dnsmasq CPU µs/conn | queries/conn | errors (runs) |"
	print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nc; i++) {
		c = C[i]
		for (k = 1; k <= ns; k++) {
			s = NM[k]; key = s SUBSEP c
			rt = rg = ""
			if (paired(s, c)) { rt = sprintf("%.3f (%s/%s)", PM, s, base[s]); rg = sprintf("%.3f–%.3f", PLO, PHI) }
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d (%d) |\n", c, LAB[s],
				fmt(median(key SUBSEP "cps"), "%.0f"), rt, rg,
				fmtd(median(key SUBSEP "p50"), 1000, "%.2f"), fmtd(median(key SUBSEP "p99"), 1000, "%.1f"),
				fmt(median(key SUBSEP "cpu"), "%.0f"), fmt(median(key SUBSEP "dns"), "%.0f"),
				fmt(median(key SUBSEP "qpc"), "%.2f"), errs[key], runs[key]
		}
	}
	print ""
	print "Targets of issue 23:"
	print ""
	for (i = 1; i <= nc; i++) {
		c = C[i]
		if (!has["old"] || !has["aa"]) { print "- no/old: needs the servers old and aa"; break }
		noise = 0
		for (r = 1; r <= maxround; r++)
			if (("aa", c, r) in cps && ("no", c, r) in cps && cps["no", c, r] > 0) {
				d = dev(cps["aa", c, r] / cps["no", c, r]); if (d > noise) noise = d
			}
		if (!paired("no", c)) { printf "- no/old at %s client(s): no figures\n", c; continue }
		printf "- remote_host_lookup=no against the program before host names, %s client(s): no/old %.3f (rounds %.3f–%.3f); the noise (the widest A/A deviation of a round, |aa/no - 1|) ±%.1f%%: no slower than old beyond the noise: %s%s\n",
			c, PM, PLO, PHI, 100 * noise, verdict(PM >= 1 - noise), (PM > 1 + noise) ? " (faster than the noise)" : ""
	}
	for (i = 1; i <= nc; i++) if (C[i] == 16) {
		if (!has["yes"]) { print "- yes/no at 16 clients: needs the server yes"; break }
		if (!paired("yes", 16)) { print "- yes/no at 16 clients: no figures"; break }
		printf "- remote_host_lookup=yes at 16 clients: yes/no %.3f (rounds %.3f–%.3f; medians %.0f against %.0f conn/s): ≥ 0.9: %s\n",
			PM, PLO, PHI, median("yes" SUBSEP 16 SUBSEP "cps"), median("no" SUBSEP 16 SUBSEP "cps"), verdict(PM >= 0.9)
	}
	printf "- the lookups were made (TCPREMOTEHOST seen by a handler, dnsmasq's query counts, none without lookups): %s\n",
		checks == 1 ? "yes" : "**NO: the figures do not measure lookups**"
}

# run.awk: bench/run's summary, from runs.tsv (server conc round cps p50_us
# p99_us ok err cpu_us). Cells are medians over the rounds; ratios are
# single-server to the posix_spawn baseline, in-process to inline.
# Variables: concs, rss ("name=kB ..."), lab ("name=label ..."), startup (the
# output of bench/bin/startup), head, load, cmd, n, rounds, chartdat.

function median(key,    m, i, j, t, v) {
	m = cnt[key]
	if (m == 0) return "NA"
	for (i = 1; i <= m; i++) v[i] = val[key, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return sprintf("%.0f", (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2)
}
function add(key, x) { if (x != "NA" && x != "") val[key, ++cnt[key]] = x + 0 }
function ratio(a, b) { return (a == "NA" || b == "NA" || b + 0 == 0) ? "NA" : sprintf("%.2fx", a / b) }
function kvs(str, arr,    i, k, w, nw) {
	nw = split(str, w, " ")
	for (i = 1; i <= nw; i++) { k = index(w[i], "="); if (k) arr[substr(w[i], 1, k - 1)] = substr(w[i], k + 1) }
}
function verdict(ok) { return ok ? "met" : "**not met**" }

NR > 1 {
	add($1 SUBSEP $2 SUBSEP "cps", $4); add($1 SUBSEP $2 SUBSEP "p50", $5)
	add($1 SUBSEP $2 SUBSEP "p99", $6); add($1 SUBSEP $2 SUBSEP "cpu", $9)
	err[$1, $2] += $8; runs[$1, $2]++
}

END {
	split("ss spawn inproc inline", names, " ")
	ref["ss"] = "spawn"; ref["inproc"] = "inline"
	kvs(rss, RSS); kvs(lab, LAB)
	for (s in LAB) gsub(/\+/, " ", LAB[s])
	nc = split(concs, C, " ")
	for (i = 1; i <= nc; i++) for (k = 1; k <= 4; k++) {
		s = names[k]; c = C[i]
		for (f = 1; f <= 4; f++) { split("cps p50 p99 cpu", F, " "); M[s, c, F[f]] = median(s SUBSEP c SUBSEP F[f]) }
	}

	print "## single-server benchmark (`" cmd "`)"
	print ""
	print "- " head
	print "- machine load: " load
	print "- " n " connections per run, " rounds " rounds, the servers interleaved (order rotated every round); cells are medians over the rounds"
	print "- ratios: single-server to the posix_spawn baseline, in-process to the inline baseline (same concurrency, same run)"
	print ""
	print "| clients | server | conn/s | × | p50 µs | p99 µs | p99 × | CPU µs/conn | CPU × | errors (runs) |"
	print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
	for (i = 1; i <= nc; i++) for (k = 1; k <= 4; k++) {
		s = names[k]; c = C[i]; r = (s in ref) ? ref[s] : ""
		printf "| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %d (%d) |\n", c,
			(r != "" ? "**" LAB[s] "**" : LAB[s]), M[s, c, "cps"],
			(r != "" ? ratio(M[s, c, "cps"], M[r, c, "cps"]) : ""), M[s, c, "p50"], M[s, c, "p99"],
			(r != "" ? ratio(M[s, c, "p99"], M[r, c, "p99"]) : ""), M[s, c, "cpu"],
			(r != "" ? ratio(M[s, c, "cpu"], M[r, c, "cpu"]) : ""), err[s, c], runs[s, c]
	}
	print ""
	print "| server | idle RSS kB | × |"
	print "|---|---:|---:|"
	for (k = 1; k <= 4; k++) {
		s = names[k]
		printf "| %s | %s | %s |\n", LAB[s], RSS[s], (s in ref) ? ratio(RSS[s], RSS[ref[s]]) : ""
	}
	# startup: "cmd=a runs= err= p50_us= mean_us= p99_us= cmd=b ... ratio_p50= ratio_mean="
	ns = split(startup, w, "cmd=")
	for (i = 2; i <= ns; i++) { delete T; kvs("cmd=" w[i], T); ST[T["cmd"], "p50"] = T["p50_us"]; ST[T["cmd"], "mean"] = T["mean_us"]; ST[T["cmd"], "runs"] = T["runs"]; ST[T["cmd"], "err"] = T["err"] }
	print ""
	print "| stream-mode start-up (runs alternated) | runs | p50 µs | mean µs | × (mean) |"
	print "|---|---:|---:|---:|---:|"
	printf "| `env true` | %s | %s | %s | |\n", ST["a", "runs"], ST["a", "p50"], ST["a", "mean"]
	printf "| **`single-server -S -- true`** | %s | %s | %s | %s |\n", ST["b", "runs"], ST["b", "p50"], ST["b", "mean"],
		ratio(ST["b", "mean"], ST["a", "mean"])
	print ""
	print "Targets of issue 14:"
	print ""
	for (i = 1; i <= nc; i++) if (C[i] == 1 || C[i] == 16) {
		c = C[i]; x = M["ss", c, "cps"] / M["spawn", c, "cps"]; y = M["ss", c, "p99"] / M["spawn", c, "p99"]
		printf "- resident, %s client(s): conn/s %.2fx posix_spawn (≥ 1.0x: %s), p99 %.2fx (≤ 1.0x: %s)\n", c, x, verdict(x >= 1), y, verdict(y <= 1)
	}
	printf "- idle RSS %s kB (≤ 1536 kB: %s)\n", RSS["ss"], verdict(RSS["ss"] + 0 <= 1536)
	for (i = 1; i <= nc; i++) {
		c = C[i]; x = M["inproc", c, "cps"] / M["inline", c, "cps"]
		printf "- in-process, %s client(s): %.2fx inline (≥ 0.9x: %s)\n", c, x, verdict(x >= 0.9)
	}
	if (ST["a", "mean"] > 0) {
		x = ST["b", "mean"] / ST["a", "mean"]
		printf "- `single-server -S -- true`: %.2fx `env true` (≤ 1.1x: %s)\n", x, verdict(x <= 1.1)
	}

	# the chart's data: concurrency, then conn/s and p99 of each server
	printf "# clients" > chartdat
	for (k = 1; k <= 4; k++) printf " %s_cps %s_p99", names[k], names[k] > chartdat
	printf "\n" > chartdat
	for (i = 1; i <= nc; i++) {
		printf "%s", C[i] > chartdat
		for (k = 1; k <= 4; k++) printf " %s %s", M[names[k], C[i], "cps"], M[names[k], C[i], "p99"] > chartdat
		printf "\n" > chartdat
	}
}

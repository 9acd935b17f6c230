#!/bin/bash
# proxy.sh: what the PROXY protocol header costs single-server, in conn/s.
# Two single-server instances run at once on 127.0.0.1 (a port of the kernel's
# choosing each, learnt from -1), both with max_use=0 and process_limit=0 and
# the echo1 handler: "plain" as is, "header" with -o upstream_proxy_protocol=haproxy.
# bin/loadgen runs against them in turn, round after round (the order flips
# every round), at each concurrency level; against "header" with -x, so every
# connection sends a PROXY v2 header and "ping\n" in one write, and the reply
# must be "ping\n" (the server takes the header off before the handler runs).
# Prints the median conn/s of each path, the ratio header/plain, and whether it
# is within 5% (information only: the exit status does not depend on it); also
# p50 latency, CPU time per connection (server + handlers), and how busy the
# machine was without us, just before and after the runs.
#
# usage: SS_BIN=/abs/bin/single-server bench/proxy.sh [options]
#   SS_BIN        the single-server binary       (default $PWD/bin/single-server)
#   -n N          connections per run              (default 2000)
#   -r ROUNDS     runs of each path per concurrency level (default 5)
#   -C "1 16"     concurrency levels               (default "1 16")
#   -t SECS       time cap per run: no new connections after SECS (default 5)
#   -o OPTION     the server option of the header path (default upstream_proxy_protocol=haproxy)
#   -w N          warm-up connections per server   (default 50)
#   -A            A/A run: "header" gets no option and loadgen no -x, so the
#                 ratio shows the noise of the machine, not the header
# Exit status: 0 when every run was clean (ok = n), 1 when one was not,
# 2 when a server did not start or failed its warm-up, 64 on a usage error.
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
SS_BIN=${SS_BIN:-$PWD/bin/single-server}
N=2000 ROUNDS=5 CONCS="1 16" TCAP=5 OPT=upstream_proxy_protocol=haproxy WARM=50
AA=0
while getopts "n:r:C:t:o:w:Ah" o; do
	case $o in
	n) N=$OPTARG ;; r) ROUNDS=$OPTARG ;; C) CONCS=$OPTARG ;; t) TCAP=$OPTARG ;;
	o) OPT=$OPTARG ;; w) WARM=$OPTARG ;; A) AA=1 ;;
	*) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || { echo "proxy.sh: no arguments expected (see -h)" >&2; exit 64; }
[ -x "$SS_BIN" ] || { echo "proxy.sh: $SS_BIN is not executable (set SS_BIN)" >&2; exit 64; }
LOADGEN=$BENCH/bin/loadgen HANDLER=$BENCH/bin/echo1
CONN_TMO_MS=3000
LG_TMO=$((${TCAP%.*} + 1 + CONN_TMO_MS / 1000 + 10)) # outer bound on one loadgen run, s

# The C programs: bench/Makefile when there is one, else the same cc line.
if [ -f "$BENCH/Makefile" ]; then
	make -s -C "$BENCH" bin/loadgen bin/echo1
else
	mkdir -p "$BENCH/bin"
	for p in loadgen echo1; do
		[ "$BENCH/bin/$p" -nt "$BENCH/$p.c" ] || ${CC:-cc} -O2 -Wall -Wextra -o "$BENCH/bin/$p" "$BENCH/$p.c"
	done
fi

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p alive
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for _ in $(seq 30); do
		alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	# each server leads its own session (setsid): its group is its handlers
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "proxy.sh: interrupted" >&2; exit 130' INT TERM HUP

kv() { # kv KEY LINE -> value of KEY=... in a loadgen line
	local k=$1 w
	for w in $2; do [ "${w%%=*}" = "$k" ] && { echo "${w#*=}"; return; }; done
	echo NA
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# CPU ticks of a server and of its handlers once reaped (utime stime cutime cstime)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)
# busy SECS: percent of the machine's CPU time in use over SECS (/proc/stat),
# whoever uses it; measured while our servers are idle, it is others' load
busy() {
	local a b
	a=$(head -n 1 /proc/stat) && sleep "$1" && b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x); split(b, y)
		for (i = 2; i <= n && i <= 9; i++) { d = y[i] - x[i]; t += d; if (i != 5 && i != 6) u += d }
		printf "%.0f%%", (t > 0 ? 100 * u / t : 0) }'
}

# settle PID: wait (max 2 s) until the handlers of the last run have exited
settle() {
	for _ in $(seq 40); do
		[ -z "$(pgrep -P "$1" || true)" ] && return 0
		sleep 0.05
	done
	return 1
}

# start NAME [option ...]: start a server, set ADDR[NAME], PID[NAME], PORT[NAME]
declare -A ADDR PID PORT
start() {
	local name=$1 line="" pid
	shift
	setsid "$SS_BIN" -d -1 -L 127.0.0.1:0 -o max_use=0 -o process_limit=0 "$@" -- "$HANDLER" \
		</dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 100); do # -1 prints the address once it is listening (max 5 s)
		line=$(head -n 1 "$TMP/$name.out" 2>/dev/null || true)
		[ -n "$line" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [[ ! $line =~ ^127\.0\.0\.1:([0-9]+)$ ]]; then
		echo "proxy.sh: $name server did not start (pid $pid; stdout '$line'): $(head -c 400 "$TMP/$name.err")" >&2
		exit 2
	fi
	ADDR[$name]=$line PID[$name]=$pid PORT[$name]=${BASH_REMATCH[1]}
}

# run NAME CONC [loadgen option ...]: one loadgen run, its line in $r
run() {
	local name=$1 c=$2
	shift 2
	r=$(timeout "$LG_TMO" "$LOADGEN" -p "${PORT[$name]}" -c "$c" -T $CONN_TMO_MS "$@" 2>&1) ||
		r="loadgen failed (status $?): $r"
}

start plain
if [ $AA = 1 ]; then
	LABEL="no option: A/A run" XOPT=()
	start header
else
	start header -o "$OPT"
	LABEL="-o $OPT, loadgen -x" XOPT=(-x)
fi

echo "proxy.sh: $("$SS_BIN" --version 2>&1 | head -n 1) ($SS_BIN), nproc $(nproc)"
echo "proxy.sh: plain pid ${PID[plain]} on ${ADDR[plain]}; header ($LABEL) pid ${PID[header]} on ${ADDR[header]}"

# warm-up, and the checks that make the figures mean something
run plain 4 -n "$WARM" -t 10
[ "$(kv ok "$r")" = "$WARM" ] || { echo "proxy.sh: plain warm-up failed: $r" >&2; exit 2; }
run header 4 -n "$WARM" -t 10 "${XOPT[@]}"
[ "$(kv ok "$r")" = "$WARM" ] || { echo "proxy.sh: header warm-up (loadgen -x) failed: $r" >&2; exit 2; }
run header 1 -n 5 -t 5 -T 1000
if [ $AA = 1 ]; then
	:
elif [ "$(kv ok "$r")" = 0 ]; then
	echo "proxy.sh: check: the header server turns away clients without a header: yes"
else
	echo "proxy.sh: check: the header server turns away clients without a header: NO ($r)"
fi
settle "${PID[plain]}" || true
settle "${PID[header]}" || true

clean=1
echo "proxy.sh: CPU time in use on the machine before the runs (ours idle): $(busy 1) of $(nproc) CPUs"
echo "proxy.sh: $ROUNDS rounds x [$CONCS] x 2 paths, n=$N, time cap ${TCAP}s"
for ((rd = 1; rd <= ROUNDS; rd++)); do
	if ((rd % 2)); then order="plain header"; else order="header plain"; fi
	for c in $CONCS; do
		for p in $order; do
			x=(); [ "$p" = header ] && x=("${XOPT[@]}")
			c0=$(cpu_ticks "${PID[$p]}")
			run $p "$c" -n "$N" -t "$TCAP" "${x[@]}"
			ok=$(kv ok "$r")
			kill -0 "${PID[$p]}" 2>/dev/null || { echo "proxy.sh: the $p server died: $r" >&2; exit 2; }
			settle "${PID[$p]}" || echo "proxy.sh: note: $p: handlers still running 2 s after the run" >&2
			c1=$(cpu_ticks "${PID[$p]}")
			cpu=$(awk -v a="$c0" -v b="$c1" -v ok="$ok" -v hz="$CLK_TCK" \
				'BEGIN { if (ok + 0 > 0) printf "%.0f", (b - a) * 1e6 / hz / ok; else print "NA" }')
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$c" "$(kv cps "$r")" "$(kv p50_us "$r")" "$cpu" "$rd" >>"$TMP/runs.tsv"
			printf 'round %s c=%-3s %-6s %9s conn/s  p50 %6s us  p99 %7s us  err %s  CPU %s us/conn\n' \
				"$rd" "$c" "$p" "$(kv cps "$r")" "$(kv p50_us "$r")" "$(kv p99_us "$r")" "$(kv err "$r")" "$cpu" >&2
			if [ "$ok" != "$N" ] || [ "$(kv err "$r")" != 0 ]; then
				clean=0
				echo "proxy.sh: not clean: $p c=$c: $r" >&2
			fi
		done
	done
done

echo "proxy.sh: CPU time in use on the machine after the runs (ours idle): $(busy 1) of $(nproc) CPUs"

# Medians.  "paired": the median of each round's header/plain (two runs next
# to each other), less sensitive to drift.  "CPU us/conn": the server's and its
# handlers' CPU time per connection (10 ms ticks), which other processes on the
# machine disturb less than conn/s; "CPU h/p" its ratio header/plain.
printf '\n%-5s %13s %14s %13s %10s %7s %15s %15s %8s\n' conc "plain conn/s" "header conn/s" header/plain "within 5%" \
	paired "p50 us p/h" "CPU us/conn p/h" "CPU h/p"
col() { # col PATH CONC FIELD -> median of that column of runs.tsv
	awk -F'\t' -v p="$1" -v c="$2" -v k="$3" '$1 == p && $2 == c && $k != "NA" { print $k }' "$TMP/runs.tsv" | median
}
for c in $CONCS; do
	pc=$(col plain "$c" 3) hc=$(col header "$c" 3)
	read -r pct within < <(awk -v p="$pc" -v h="$hc" 'BEGIN {
		if (p + 0 <= 0 || h == "NA") { print "NA no"; exit }
		r = 100 * h / p; printf "%.1f%% %s\n", r, (r >= 95 ? "yes" : "no") }')
	paired=$(awk -F'\t' -v c="$c" '$2 == c && $3 != "NA" { v[$1, $6] = $3 }
		END { for (k in v) { split(k, a, SUBSEP); if (a[1] == "header" && v["plain", a[2]] > 0) print 100 * v[k] / v["plain", a[2]] } }' \
		"$TMP/runs.tsv" | median | awk '$1 != "NA" { printf "%.1f%%", $1; next } { print }')
	pu=$(col plain "$c" 5) hu=$(col header "$c" 5)
	printf '%-5s %13s %14s %13s %10s %7s %15s %15s %8s\n' "$c" "$pc" "$hc" "$pct" "$within" "$paired" \
		"$(col plain "$c" 4)/$(col header "$c" 4)" "$pu/$hu" \
		"$(awk -v p="$pu" -v h="$hu" 'BEGIN { if (p + 0 > 0 && h != "NA") printf "%.1f%%", 100 * h / p; else print "NA" }')"
done
[ $clean = 1 ] || { echo "proxy.sh: some runs were not clean (see above)" >&2; exit 1; }

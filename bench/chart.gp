# chart.gp: bench/run's chart, conn/s and p99 against concurrency.
# gnuplot -e "dat='chart.dat'; out='chart.svg'" chart.gp
# chart.dat columns: clients, then conn/s and p99 (µs) of single-server,
# the posix_spawn baseline, the in-process service and the inline baseline.
set terminal svg size 900,380 dynamic font "sans,12" background rgb "white"
set output out
set multiplot layout 1,2
set logscale x 2
set xtics (1, 4, 16, 64)
set xlabel "concurrent clients"
set grid
set key top left font ",10"
set style data linespoints
set logscale y
set title "connections per second (log)"
plot dat using 1:2 title "single-server (echo1 spawned)" lw 2 pt 7 lc rgb "#1f77b4", \
     dat using 1:4 title "posix\\_spawn baseline" lw 2 pt 5 dt 2 lc rgb "#7f7f7f", \
     dat using 1:6 title "in-process (line-echo)" lw 2 pt 9 lc rgb "#d62728", \
     dat using 1:8 title "inline baseline" lw 2 pt 11 dt 2 lc rgb "#ff7f0e"
set title "p99 latency, ms (log)"
plot dat using 1:($3/1000) title "single-server (echo1 spawned)" lw 2 pt 7 lc rgb "#1f77b4", \
     dat using 1:($5/1000) title "posix\\_spawn baseline" lw 2 pt 5 dt 2 lc rgb "#7f7f7f", \
     dat using 1:($7/1000) title "in-process (line-echo)" lw 2 pt 9 lc rgb "#d62728", \
     dat using 1:($9/1000) title "inline baseline" lw 2 pt 11 dt 2 lc rgb "#ff7f0e"
unset multiplot

# (d) Latency distributions from the samples files (PTBENCH_SAMPLES_DIR):
# interrupt/latency and switch/* as the fraction of samples at or above a
# latency (1 - CDF), log-log: p99 is at 1e-2, p99.9 at 1e-3, and each
# curve ends at its largest sample, which the x axis reaches.
# Data (data): one block per series, separated by two blank lines, columns
# latency_us fraction_at_or_above. Variables: nseries, t1..tN (the series
# titles, in block order), xmin, xmax (us), xtics_list, ymin.
load plotdir.'/common.gp'

set title "Latency distribution (fraction of samples at or above a latency; one sample per round trip or interrupt)\n".subtitle
set xlabel 'latency (us, log scale)'
set ylabel 'fraction of samples >= latency (log scale)'
set logscale x 10
set logscale y 10
set xrange [xmin:xmax]
set yrange [ymin:1.5]
eval('set xtics ('.xtics_list.')')
set ytics ('1' 1, '0.1' 0.1, '0.01 (p99)' 0.01, '0.001 (p99.9)' 0.001, '1e-4' 1e-4, '1e-5' 1e-5, '1e-6' 1e-6, '1e-7' 1e-7)
unset mxtics
set key top right box opaque
set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 3 lc rgb '#888888'
set arrow 2 from graph 0, first 0.01 to graph 1, first 0.01 nohead dt 3 lc rgb '#888888'
set arrow 3 from graph 0, first 0.001 to graph 1, first 0.001 nohead dt 3 lc rgb '#888888'
set label 1 'p50' at graph 0.01, first 0.5 offset 0,0.6 tc rgb '#666666'
plot for [i = 1:nseries] data index (i - 1) using 1:2 with steps lw 2 \
	title value(sprintf('t%d', i))

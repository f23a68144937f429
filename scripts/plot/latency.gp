# (d) Latency distributions from the samples files (PTBENCH_SAMPLES_DIR):
# interrupt/latency and switch/* as cumulative distributions, log x.
# Data (data): one block per series, separated by two blank lines, columns
# latency_ns cumulative_fraction. Variables: nseries, t1..tN (the series
# titles, in block order), xmin, xmax (ns; samples beyond xmax are off the
# axis, their titles give the maximum).
load plotdir.'/common.gp'

set title "Latency distribution (cumulative; one sample per round trip or interrupt)\n".subtitle
set xlabel 'latency (us, log scale)'
set ylabel 'fraction of samples <= latency'
set logscale x
set xrange [xmin / 1000.0:xmax / 1000.0]
set yrange [0:1]
set ytics 0.1
set format x '%g'
set key bottom right box opaque
set arrow 1 from graph 0, first 0.5 to graph 1, first 0.5 nohead dt 3 lc rgb '#888888'
set arrow 2 from graph 0, first 0.99 to graph 1, first 0.99 nohead dt 3 lc rgb '#888888'
set label 1 'p50' at graph 0.01, first 0.5 offset 0,0.6 tc rgb '#666666'
set label 2 'p99' at graph 0.01, first 0.99 offset 0,-0.7 tc rgb '#666666'
plot for [i = 1:nseries] data index (i - 1) using ($1 / 1000.0):2 with lines lw 2 \
	title value(sprintf('t%d', i))

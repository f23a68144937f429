# The kernel matrix (scripts/kernels_report.py): one cluster of bars per
# benchmark, one bar per kernel.
# Variables (gnuplot -e): fmt, out (see common.gp); dat, the data file (a
# header line naming the kernels, then "figure" v1 v2 ...; ? = missing);
# ncols, the number of kernels; ylab, ttl; ratio, 1 for ratios (a dashed
# line at 1). The y axis is logarithmic: one kernel's figure can be 100
# times another's (a wait for a timer tick) and the rest must stay legible.
w = 1200
h = 600
load plotdir.'/common.gp'
set title ttl
set ylabel ylab
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 left
set key outside right top vertical autotitle columnheader
set bmargin 9
set logscale y
if (ratio) {
	set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#888888' dt 2
}
plot for [i=2:ncols+1] dat using i:xtic(1)

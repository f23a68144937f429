# The point-release bisection (scripts/kernels_bisect.py): one figure
# against the builds of a kernel series, oldest left; the bar spans the
# boots' min to max, a red circle marks the first build that moved.
# Variables (gnuplot -e): fmt, out (see common.gp); dat, the data file
# (x "label" median min max step; ? = not booted or GONE); ttl, ylab.
w = 1100
h = 560
load plotdir.'/common.gp'
set title ttl
set ylabel ylab
set xtics rotate by -40 left
set bmargin 8
set offsets 0.5, 0.5, 0, 0
plot dat using 1:3:4:5:xtic(2) with yerrorlines lc rgb '#1f77b4' pt 7 ps 1, \
	'' using 1:($6 > 0 ? $3 : 1/0) with points lc rgb '#d62728' pt 6 ps 3

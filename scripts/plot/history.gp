# (history) The trend of one benchmark family over the recorded runs:
# one line per benchmark, x = the runs in date order (labels: commit, date).
# Data (data): a header "idx label NAME..." then one row per run, '?' where
# a benchmark is missing. Variables: ncol (columns), nrec (rows), logy
# (1: log scale), title, ylabel, plus common.gp's. Drawn by
# scripts/history.py.
load plotdir.'/common.gp'

set title title."\n".subtitle
set ylabel ylabel
set xlabel 'run (commit, date UTC)'
set xrange [-0.5:nrec - 0.5]
set xtics rotate by -35 font ',8'
unset mxtics
set bmargin 8
set key outside right top vertical Left reverse
if (logy) {
	set logscale y 10
	set format y '%g'
} else {
	set yrange [0:*]
}
# 12 distinct colours and point shapes (gnuplot's default cycle has 8).
colors = '#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #000000 #aec7e8'
plot for [i=3:ncol] data using 1:i:xtic(2) with linespoints lw 2 \
	lc rgb word(colors, (i - 3) % 12 + 1) pt ((i - 3) % 6) + 4 ps 1 title columnheader(i)

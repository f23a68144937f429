# (b) Map + unmap cost against the number of pages: native (the process
# maps its own memory) against inject (the tracer makes the stub do it),
# log-log. Data (data): pages native_ns inject_ns ('?' = missing).
# Variables: pmin, pmax (the page counts measured).
load plotdir.'/common.gp'

set title "mmap + munmap cost against size (median over repetitions; log-log)\n".subtitle
set xlabel 'pages mapped (log scale)'
set ylabel 'time per map + unmap (us, log scale)'
set logscale x 2
set logscale y 10
set xrange [pmin / 1.3:pmax * 1.3]
set xtics 1, 2
set format x '%g'
set format y '%g'
set key top left box opaque
plot data using 1:($2 / 1000) with linespoints lw 2 pt 7 ps 0.9 lc rgb '#2f7f2f' title 'map/native', \
	'' using 1:($3 / 1000) with linespoints lw 2 pt 5 ps 0.9 lc rgb '#3465a4' title 'map/inject (in the traced process)'

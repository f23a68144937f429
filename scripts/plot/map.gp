# (b) Map + unmap cost against the number of pages, log-log: native (the
# process maps its own memory) against inject (the tracer makes the stub
# do it), each without and with MAP_POPULATE (the kernel fills the page
# table of every page at map time, so that cost grows with the pages;
# without it no page is touched and the cost is flat). Whiskers: min to
# max over the repetitions.
# Data (data): pages, then median_us min_us max_us for map/native,
# map/inject, map/native_populate, map/inject_populate ('?' = missing).
# Variables: pmin, pmax, ymin, ymax, ytics_list, has_KIND (the key lists
# only the series present).
load plotdir.'/common.gp'

set title "mmap + munmap cost against size (median, whiskers min to max over repetitions; log-log)\n".subtitle
set xlabel 'pages mapped (log scale)'
set ylabel 'time per map + unmap (us, log scale)'
set logscale x 2
set logscale y 10
set xrange [pmin / 1.3:pmax * 1.3]
set yrange [ymin:ymax]
set xtics 1, 2
set format x '%g'
eval('set ytics ('.ytics_list.')')
unset mytics
set key top left box opaque
plot data using 1:2:3:4 with yerrorlines lw 2 pt 7 ps 0.9 lc rgb '#2f7f2f' \
		title (has_native ? 'map/native' : ''), \
	'' using 1:5:6:7 with yerrorlines lw 2 pt 5 ps 0.9 lc rgb '#3465a4' \
		title (has_inject ? 'map/inject (in the traced process)' : ''), \
	'' using 1:8:9:10 with yerrorlines lw 2 dt 2 pt 6 ps 0.9 lc rgb '#2f7f2f' \
		title (has_native_populate ? 'map/native_populate (MAP_POPULATE)' : ''), \
	'' using 1:11:12:13 with yerrorlines lw 2 dt 2 pt 4 ps 0.9 lc rgb '#3465a4' \
		title (has_inject_populate ? 'map/inject_populate (MAP_POPULATE)' : '')

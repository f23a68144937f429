# (c) Thread-pool scaling: aggregate round trips per second against the
# number of threads, one traced thread per tracer thread; private = one
# address space per thread, shared = all threads in one address space.
# Whiskers: min to max over the repetitions. The dashed lines are N x the
# 1-thread figure. Data (data): threads, private rt_per_s median min max,
# shared rt_per_s median min max, private_linear, shared_linear ('?' =
# missing). Variables: nproc, maxthreads, ymax, ytics_list (thousands
# separated), has_private, has_shared.
load plotdir.'/common.gp'

set title "Thread-pool scaling (median round trips per second, all threads; whiskers min to max)\n".subtitle
set xlabel 'threads'
set ylabel 'round trips per second (all threads)'
set xrange [0.5:maxthreads + 0.5]
set yrange [0:ymax]
set xtics 1
eval('set ytics ('.ytics_list.')')
set lmargin 12
set key top left box opaque
set arrow 1 from nproc, graph 0 to nproc, graph 1 nohead dt 3 lw 1.5 lc rgb '#888888'
set label 1 sprintf('nproc = %d', nproc) at nproc, graph 0.04 offset 0.5,0 left tc rgb '#666666'
plot data using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#3465a4' \
		title (has_private ? 'pool/private' : ''), \
	'' using 1:5:6:7 with yerrorlines lw 2 pt 5 lc rgb '#e07b00' \
		title (has_shared ? 'pool/shared' : ''), \
	'' using 1:8 with lines dt 2 lw 1.5 lc rgb '#3465a4' \
		title (has_private ? 'private: linear (N x 1 thread)' : ''), \
	'' using 1:9 with lines dt 2 lw 1.5 lc rgb '#e07b00' \
		title (has_shared ? 'shared: linear (N x 1 thread)' : '')

# (e) Real programs (the app family): median wall time of one run of each
# workload, natively and through ptbench-exec on each backend and mode,
# clustered per workload, log scale; whiskers min to max over the
# repetitions. Data (data): workload, then median min max (ms) of each
# variant in the order of titles ('?' = missing). Variables: nvar,
# titles (space-separated variant names), ymin, ymax, ytics_list.
load plotdir.'/common.gp'

set title "Real programs natively and through ptbench-exec (median ms per run, log scale; whiskers min to max)\n".subtitle
set ylabel 'ms per run'
set logscale y
set yrange [ymin:ymax]
eval('set ytics ('.ytics_list.')')
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left box opaque
set grid noxtics
colors = '#888888 #3465a4 #e07b00 #4e9a06 #75507b'
plot for [i=1:nvar] data using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) \
	lc rgb word(colors, i) title word(titles, i)

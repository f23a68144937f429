# (a) The mechanism ladder: median round trip of native/getpid, every
# floor/*, mechanism/* and switch/* (the core on each backend in its own
# colour), one dot per benchmark on a log axis with whiskers from the
# fastest to the slowest repetition, in us; the futex floor (ping-pong
# between two processes on one CPU) also as a dashed line, named in the
# key. The values, and the CPU time per round trip (tracer + stub) where
# the benchmark reports it, are in the row labels, so the floor line
# crosses no text.
# Data (data): idx "name  median (CPU t + s us)" median_us min_us max_us
# group; group 0 native, 1 mechanism, 2 switch on ptrace, 3 switch on
# systrap, 4 floor. Variables: xmin, xmax, xtics_list, nrows, lmargin
# (characters: the longest row label), has_native, has_mechanism,
# has_switch, has_systrap, has_floor (the legend lists only those), floor
# (us, < 0 if missing), floorlabel, note, plus common.gp's.
load plotdir.'/common.gp'

head = "Round trip per intercepted system call\n(dot: median; whiskers: min to max over repetitions; CPU: tracer + stub per round trip)\n".subtitle
set title head
set xlabel 'round trip (us, log scale)'
set logscale x 10
set xrange [xmin:xmax]
eval('set xtics ('.xtics_list.')')
set yrange [-0.7:nrows - 0.3]
set ytics scale 0
unset mxtics
set grid noytics
# The key below the axis label, one entry a line (entries: how many).
entries = has_native + has_mechanism + has_switch + has_systrap + has_floor + (floor > 0)
set key at screen 0.5, screen 0.01 center bottom vertical box
set bmargin 4 + entries * 1.2
set lmargin lmargin

if (strlen(note) > 0) {
	set title head."\n".note
}

color(g) = g == 0 ? 0x2f7f2f : (g == 1 ? 0x3465a4 : (g == 2 ? 0xe07b00 : (g == 3 ? 0x75507b : 0x555753)))
if (floor > 0) {
	set arrow 1 from floor, graph 0 to floor, graph 1 nohead dt 2 lw 2 lc rgb '#c00000' back
}
# An empty title leaves a series out of the key.
plot data using 3:1:4:5:(color($6)):ytic(2) with xerrorbars lc rgb variable pt 7 ps 1.2 lw 1.5, \
	NaN with points lc rgb '#2f7f2f' pt 7 title (has_native ? 'native' : ''), \
	NaN with points lc rgb '#3465a4' pt 7 title (has_mechanism ? 'mechanism/*' : ''), \
	NaN with points lc rgb '#e07b00' pt 7 title (has_switch ? 'switch/* on ptrace (the core)' : ''), \
	NaN with points lc rgb '#75507b' pt 7 title (has_systrap ? 'switch/* on systrap (the core)' : ''), \
	NaN with points lc rgb '#555753' pt 7 title (has_floor ? 'floor/*' : ''), \
	NaN with lines dt 2 lw 2 lc rgb '#c00000' title (floor > 0 ? floorlabel : '')

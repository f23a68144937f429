# (a) The mechanism ladder: median round trip of native/getpid, every
# mechanism/* and switch/*, horizontal bars on a log scale, with the floor
# (futex ping-pong between two processes on one CPU) as a dashed line.
# Data (data): idx name median_ns group shown; group 0 native, 1 mechanism,
# 2 switch. Variables: xmin, xmax, nrows, floor (ns, < 0 if missing),
# floorlabel, note, plus common.gp's.
load plotdir.'/common.gp'

set title "Round trip per intercepted system call (median over repetitions; ns, log scale)\n".subtitle
set xlabel 'round trip (ns, log scale)'
set logscale x 10
set xrange [xmin:xmax]
set yrange [-0.7:nrows - 0.3 + (floor > 0 ? 0.8 : 0)]
set format x '%g'
set ytics scale 0
unset mxtics
set grid noytics
set style fill solid 0.85 border rgb '#333333'
set key bottom right opaque box

if (floor > 0) {
	set arrow 1 from floor, graph 0 to floor, graph 1 nohead dt 2 lw 2 lc rgb '#c00000' front
	set label 1 floorlabel at floor, graph 1 offset 0.5,-1 left tc rgb '#c00000' front
}
if (strlen(note) > 0) {
	set bmargin 5
	set label 2 note at screen 0.99, screen 0.02 right tc rgb '#666666' font ',9'
}

color(g) = g == 0 ? 0x2f7f2f : (g == 1 ? 0x3465a4 : 0xe07b00)
plot data using 3:1:(xmin):3:($1 - 0.35):($1 + 0.35):(color($4)):ytic(2) \
	with boxxyerror lc rgb variable, \
	'' using 3:1:5 with labels left offset 0.6,0 font ',9' tc rgb '#222222', \
	NaN with boxes lc rgb '#2f7f2f' fs solid title 'native', \
	NaN with boxes lc rgb '#3465a4' fs solid title 'mechanism/*', \
	NaN with boxes lc rgb '#e07b00' fs solid title 'switch/* (the core)'

# Shared by scripts/plot/*.gp: the terminal and the look.
# Variables set by the caller (scripts/bench_report.py, gnuplot -e):
#   fmt       'png' or 'svg'
#   out       output file
#   w, h      size in pixels (optional; 960 x 600)
#   subtitle  host, kernel, pinning, commit, date (second title line)
if (!exists("w")) w = 960
if (!exists("h")) h = 600
if (fmt eq 'svg') {
	set terminal svg size w,h dynamic noenhanced font 'DejaVu Sans,12' background rgb 'white'
} else {
	# pngcairo draws with anti-aliasing; plain png (libgd) is the fallback.
	if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {
		set terminal pngcairo size w,h noenhanced font 'DejaVu Sans,10' background rgb 'white'
	} else {
		set terminal png size w,h noenhanced background rgb 'white'
	}
}
set output out
set encoding utf8
set datafile missing '?'
set datafile separator whitespace
set grid xtics ytics mxtics lc rgb '#dddddd' lw 1 dt 1
set border 3 lc rgb '#555555'
set tics nomirror
set key noautotitle

# Shell helpers shared by the dotm-beside-R benchmarks (sourced, not run).

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# timed FILE CMD...: runs CMD, writes "wall cpu" seconds (cpu = user + sys) to FILE.
timed() {
  local f=$1; shift
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>&3; } 3>&2 2> "$f.raw"
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$f.raw" > "$f"
}

# timed_median FILE N CMD...: runs CMD N times (DOTM_RUNS overrides N) and
# writes the "wall cpu" of the run with the median wall time to FILE. dotm's
# runs take about a second or less, so one run is at the mercy of any other
# process's burst on the machine; R's take 17–90 s and run once.
timed_median() {
  local f=$1 n=${DOTM_RUNS:-$2}; shift 2
  local i
  : > "$f.all"
  for i in $(seq "$n"); do
    timed "$f.one" "$@"
    cat "$f.one" >> "$f.all"
  done
  sort -n "$f.all" | awk -v n="$n" 'NR == int((n + 1) / 2)' > "$f"
}

# ratio R GO: R/GO to one decimal.
ratio() { awk -v r="$1" -v g="$2" 'BEGIN { printf "%.1f", r / g }'; }

# compare DOTM.csv R.csv [TOL]: both id,item,estimate,se; every row of dotm's
# must be in R's with estimate and SE equal to TOL relative (default 1e-9).
# Prints the count and the largest relative difference; fails on any miss.
compare() {
  awk -F, -v tol="${3:-1e-9}" 'NR == FNR { if (FNR > 1) { est[$1 "," $2] = $3; se[$1 "," $2] = $4 }; next }
    FNR > 1 { k = $1 "," $2; if (!(k in est)) { print "missing in R: " k; bad = 1; next }
      n++
      for (j = 0; j < 2; j++) { g = (j ? $4 : $3); r = (j ? se[k] : est[k])
        d = g - r; if (d < 0) d = -d; a = r < 0 ? -r : r; rel = a > 0 ? d / a : d
        if (rel > max) max = rel; if (rel > tol) { print "differs: " k " dotm " g " R " r; bad = 1 } } }
    END { printf "  %d estimates and SEs compared, max relative difference %.3g\n", n, max; exit bad }' "$2" "$1"
}

# have_r PKG...: true when Rscript runs and has every package named.
have_r() {
  command -v Rscript > /dev/null || return 1
  local q="TRUE" p
  for p in "$@"; do q="$q && requireNamespace(\"$p\", quietly = TRUE)"; done
  Rscript -e "quit(status = !($q))" > /dev/null 2>&1
}

# R_MEANS: R code appended to a script that has vars, des and outfile: one
# svymean over the variables and one svyby by migrant, written as
# id,item,estimate,se in the ids of a plan of m_VAR and b_VAR estimates.
R_MEANS='
f <- as.formula(paste("~", paste(vars, collapse = " + ")))
m <- svymean(f, des, na.rm = TRUE)
b <- svyby(f, ~migrant, des, svymean, na.rm = TRUE)
rows <- sprintf("m_%s,%s,%.17g,%.17g", vars, vars, coef(m), SE(m))
for (i in seq_len(nrow(b))) for (j in seq_along(vars))
  rows <- c(rows, sprintf("b_%s,%s | migrant=%s,%.17g,%.17g", vars[j], vars[j], b$migrant[i], b[i, 1 + j], b[i, 1 + length(vars) + j]))
writeLines(c("id,item,estimate,se", rows), outfile)
'

#!/usr/bin/env bash
# Compares `dotm analyze` with R's survey package on the same 1,000,000-household
# CSV: overall means and means by migrant status (svyby) of 5 variables under a
# stratified cluster design with fpc. Prints whole-process wall and CPU
# (user + sys) times, reading the CSV included, the speed ratios, and checks
# the estimates and standard errors agree to 1e-9 relative. On a loaded
# machine the CPU ratio is the steadier number.
#
#   bench/analyze_vs_r.sh            # N=1000000
#   N=200000 bench/analyze_vs_r.sh   # smaller
#
# R runs twice when data.table is installed: with base read.csv (the reference
# ratio) and with data.table::fread (to show how much of R's time is reading).
set -euo pipefail
N=${N:-1000000}
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dotm-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# timed FILE CMD...: runs CMD, writes "wall cpu" seconds (cpu = user + sys) to FILE.
timed() {
  local f=$1; shift
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>&3; } 3>&2 2> "$f.raw"
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$f.raw" > "$f"
}

"$GO" build -o "$WORK/dotm" "$ROOT/cmd/dotm"
echo "synthesizing $N households ..."
t0=$(now)
"$WORK/dotm" synth households --n "$N" --seed 1 --out "$WORK/households.csv"
t1=$(now)
echo "  $(elapsed "$t0" "$t1") s, $(du -h "$WORK/households.csv" | cut -f1)"

VARS="remit_amount cons_pc bank_account health_exp women_decide"
{
  echo "data: households.csv"
  echo "design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}"
  echo "estimates:"
  for v in $VARS; do
    echo "  - {id: m_$v, mean: $v, na_rm: true}"
    echo "  - {id: b_$v, mean: $v, by: migrant, na_rm: true}"
  done
} > "$WORK/plan.yaml"

# Warm the page cache so both tools read the file from memory.
cat "$WORK/households.csv" > /dev/null

timed "$WORK/go.t" "$WORK/dotm" analyze --format csv --out "$WORK/dotm.csv" "$WORK/plan.yaml"
read -r GO_S GO_CPU < "$WORK/go.t"
echo "dotm analyze:              $GO_S s wall, $GO_CPU s CPU"

if ! command -v Rscript > /dev/null || ! Rscript -e 'suppressMessages(library(survey))' > /dev/null 2>&1; then
  echo "Rscript with the survey package not found: skipping the R comparison"
  exit 0
fi

cat > "$WORK/bench.R" <<'REOF'
args <- commandArgs(TRUE)
reader <- args[1]; infile <- args[2]; outfile <- args[3]
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
vars <- c("remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
d <- if (reader == "fread") as.data.frame(data.table::fread(infile)) else read.csv(infile)
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, data = d)
rows <- character()
for (v in vars) {
  f <- as.formula(paste0("~", v))
  e <- svymean(f, des, na.rm = TRUE)
  rows <- c(rows, sprintf("m_%s,%s,%.17g,%.17g", v, v, coef(e), SE(e)))
  b <- svyby(f, ~migrant, des, svymean, na.rm = TRUE)
  for (i in seq_len(nrow(b)))
    rows <- c(rows, sprintf("b_%s,%s | migrant=%s,%.17g,%.17g", v, v, b$migrant[i], b[i, 2], b[i, 3]))
}
writeLines(c("id,item,estimate,se", rows), outfile)
REOF

compare() { # go.csv r.csv
  awk -F, 'NR == FNR { if (FNR > 1) { est[$1 "," $2] = $3; se[$1 "," $2] = $4 }; next }
    FNR > 1 { k = $1 "," $2; if (!(k in est)) { print "missing in R: " k; bad = 1; next }
      n++
      for (j = 0; j < 2; j++) { g = (j ? $4 : $3); r = (j ? se[k] : est[k])
        d = g - r; if (d < 0) d = -d; a = r < 0 ? -r : r; rel = a > 0 ? d / a : d
        if (rel > max) max = rel; if (rel > 1e-9) { print "differs: " k " dotm " g " R " r; bad = 1 } } }
    END { printf "  %d estimates and SEs compared, max relative difference %.3g\n", n, max; exit bad }' "$2" "$1"
}

readers="read.csv"
if Rscript -e 'quit(status = !requireNamespace("data.table", quietly = TRUE))' > /dev/null 2>&1; then
  readers="read.csv fread"
fi
status=0
for rd in $readers; do
  timed "$WORK/r.t" Rscript "$WORK/bench.R" "$rd" "$WORK/households.csv" "$WORK/r-$rd.csv"
  read -r R_S R_CPU < "$WORK/r.t"
  printf "R survey (%-8s):        %s s wall, %s s CPU   ratio R/dotm: wall %sx, CPU %sx\n" "$rd" "$R_S" "$R_CPU" \
    "$(awk -v r="$R_S" -v g="$GO_S" 'BEGIN { printf "%.1f", r / g }')" "$(awk -v r="$R_CPU" -v g="$GO_CPU" 'BEGIN { printf "%.1f", r / g }')"
  compare "$WORK/dotm.csv" "$WORK/r-$rd.csv" || status=1
done
exit $status

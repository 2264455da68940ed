#!/usr/bin/env bash
# Compares `dotm analyze` with R's survey package on the same 1,000,000-household
# data: overall means and means by migrant status of 5 variables under a
# stratified cluster design with fpc. Whole processes, wall clock and CPU
# (user + sys), reading the data included (dotm: the median of 5 runs, see
# timed_median in lib.sh; R: one run); checks that the estimates and
# standard errors agree to 1e-9 relative. On a loaded machine the CPU ratio is
# the steadier number.
#
# R at its best (the headline ratio): data.table::fread, one svydesign, one
# svymean over the five variables, one svyby over the five variables by
# migrant status. With na.rm = TRUE one call over several variables keeps the
# households that have all five (cons_pc is missing for 0.5%), so dotm's plan
# for this comparison takes the same complete cases (subset: cons_pc >= 0,
# which every non-missing cons_pc meets). dotm runs on the CSV and on the
# Parquet form of the same data (R's arrow package is not packaged here, so R
# reads the CSV in both ratios).
#
# The earlier formulation (read.csv, svymean and svyby once per variable,
# each variable's own missing values dropped) is kept as a second, labelled
# row, against dotm's per-variable plan.
#
#   bench/analyze_vs_r.sh            # N=1000000
#   N=200000 bench/analyze_vs_r.sh   # smaller
set -euo pipefail
N=${N:-1000000}
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dotm-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

. "$ROOT/bench/lib.sh"

"$GO" build -o "$WORK/dotm" "$ROOT/cmd/dotm"
echo "synthesizing $N households ..."
t0=$(now)
"$WORK/dotm" synth households --n "$N" --seed 1 --out "$WORK/households.csv"
t1=$(now)
echo "  $(elapsed "$t0" "$t1") s, $(du -h "$WORK/households.csv" | cut -f1)"

VARS="remit_amount cons_pc bank_account health_exp women_decide"
"$WORK/dotm" synth households --n "$N" --seed 1 --out "$WORK/households.parquet"
# plan DATA SUBSET: the 10 estimates, each on the rows SUBSET keeps ("" = all).
plan() {
  local sub=""
  [ -n "$2" ] && sub=", subset: \"$2\""
  echo "data: $1"
  echo "design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}"
  echo "estimates:"
  for v in $VARS; do
    echo "  - {id: m_$v, mean: $v, na_rm: true$sub}"
    echo "  - {id: b_$v, mean: $v, by: migrant, na_rm: true$sub}"
  done
}
plan households.csv "cons_pc >= 0" > "$WORK/plan-best.yaml"
plan households.parquet "cons_pc >= 0" > "$WORK/plan-best-parquet.yaml"
plan households.csv "" > "$WORK/plan-per-variable.yaml"

# Warm the page cache so both tools read the file from memory.
cat "$WORK/households.csv" > /dev/null

for p in best best-parquet per-variable; do
  timed_median "$WORK/go-$p.t" 5 "$WORK/dotm" analyze --format csv --out "$WORK/dotm-$p.csv" "$WORK/plan-$p.yaml"
  read -r s cpu < "$WORK/go-$p.t"
  printf "dotm analyze (%-13s): %s s wall, %s s CPU (the median run of ${DOTM_RUNS:-5})\n" "$p" "$s" "$cpu"
done

if ! command -v Rscript > /dev/null || ! Rscript -e 'suppressMessages(library(survey))' > /dev/null 2>&1; then
  echo "Rscript with the survey package not found: skipping the R comparison"
  exit 0
fi

cat > "$WORK/best.R" <<'REOF'
args <- commandArgs(TRUE)
infile <- args[1]; outfile <- args[2]
suppressMessages({ library(survey); library(data.table) })
options(survey.lonely.psu = "adjust")
vars <- c("remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
d <- fread(infile)
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, data = d)
f <- as.formula(paste("~", paste(vars, collapse = " + ")))
m <- svymean(f, des, na.rm = TRUE)
b <- svyby(f, ~migrant, des, svymean, na.rm = TRUE)
rows <- sprintf("m_%s,%s,%.17g,%.17g", vars, vars, coef(m), SE(m))
for (i in seq_len(nrow(b))) for (j in seq_along(vars))
  rows <- c(rows, sprintf("b_%s,%s | migrant=%s,%.17g,%.17g", vars[j], vars[j], b$migrant[i], b[i, 1 + j], b[i, 1 + length(vars) + j]))
writeLines(c("id,item,estimate,se", rows), outfile)
REOF

cat > "$WORK/per-variable.R" <<'REOF'
args <- commandArgs(TRUE)
infile <- args[1]; outfile <- args[2]
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
vars <- c("remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
d <- read.csv(infile)
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

status=0
if Rscript -e 'quit(status = !requireNamespace("data.table", quietly = TRUE))' > /dev/null 2>&1; then
  timed "$WORK/r-best.t" Rscript "$WORK/best.R" "$WORK/households.csv" "$WORK/r-best.csv"
  read -r R_S R_CPU < "$WORK/r-best.t"
  echo "R survey at its best (fread, one svydesign, one svymean, one svyby over 5 variables): $R_S s wall, $R_CPU s CPU"
  for p in best best-parquet; do
    read -r G_S G_CPU < "$WORK/go-$p.t"
    printf "  ratio R/dotm, dotm on %-8s wall %sx, CPU %sx\n" "$([ $p = best ] && echo CSV: || echo Parquet:)" "$(ratio "$R_S" "$G_S")" "$(ratio "$R_CPU" "$G_CPU")"
    compare "$WORK/dotm-$p.csv" "$WORK/r-best.csv" || status=1
  done
else
  echo "R's data.table is not installed (apt-get install r-cran-data.table): skipping R at its best"
fi
timed "$WORK/r-pv.t" Rscript "$WORK/per-variable.R" "$WORK/households.csv" "$WORK/r-pv.csv"
read -r R_S R_CPU < "$WORK/r-pv.t"
read -r G_S G_CPU < "$WORK/go-per-variable.t"
echo "second row, the earlier formulation: R read.csv, svymean and svyby per variable: $R_S s wall, $R_CPU s CPU"
printf "  ratio R/dotm (per-variable plan, CSV): wall %sx, CPU %sx\n" "$(ratio "$R_S" "$G_S")" "$(ratio "$R_CPU" "$G_CPU")"
compare "$WORK/dotm-per-variable.csv" "$WORK/r-pv.csv" || status=1
exit $status

#!/usr/bin/env bash
# Compares `dotm analyze` with R's survey package on a replicate-weight design:
# N households (default 1,000,000) with 80 Rao–Wu bootstrap replicate weights,
# 5 means overall and by migrant status. Whole processes, wall clock and CPU
# (user + sys), reading the data included; checks that the estimates and
# standard errors agree to 1e-9 relative.
#
# The replicate weights are made once, untimed, by R (as.svrepdesign(type =
# "subbootstrap", replicates = 80) on the synthetic stratified cluster design)
# and written with the data (rw_1 … rw_80, whole weights), so that both tools
# read the same file. R is written as an expert writes it: data.table::fread,
# one svrepdesign, one svymean over the five variables and one svyby by
# migrant status; dotm's plan takes the same complete cases (subset: cons_pc
# >= 0, as bench/analyze_vs_r.sh explains).
#
#   bench/replicate_vs_r.sh            # N=1000000
#   N=100000 bench/replicate_vs_r.sh   # smaller
set -euo pipefail
N=${N:-1000000}
R_REPS=80
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dotm-bench-rep.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

. "$ROOT/bench/lib.sh"

if ! command -v Rscript > /dev/null || ! Rscript -e 'quit(status = !(requireNamespace("survey", quietly = TRUE) && requireNamespace("data.table", quietly = TRUE)))' > /dev/null 2>&1; then
  echo "Rscript with the survey and data.table packages not found: the replicate benchmark needs R to make its replicate weights; skipped"
  exit 0
fi

"$GO" build -o "$WORK/dotm" "$ROOT/cmd/dotm"
echo "synthesizing $N households and $R_REPS bootstrap replicate weights (untimed) ..."
"$WORK/dotm" synth households --n "$N" --seed 1 --out "$WORK/base.csv"
cat > "$WORK/make.R" <<'REOF'
args <- commandArgs(TRUE)
suppressMessages({ library(survey); library(data.table) })
set.seed(1)
d <- fread(args[1])
reps <- as.integer(args[3])
des <- as.svrepdesign(svydesign(id = ~psu, strata = ~stratum, weights = ~weight, data = d),
  type = "subbootstrap", replicates = reps)
rw <- weights(des, "analysis")
keep <- c("stratum", "psu", "weight", "migrant", "remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
out <- d[, ..keep]
for (r in seq_len(reps)) set(out, j = paste0("rw_", r), value = signif(rw[, r], 10))
fwrite(out, args[2])
cat(sprintf("%.17g\n", des$scale), file = args[4])
REOF
Rscript "$WORK/make.R" "$WORK/base.csv" "$WORK/households.csv" "$R_REPS" "$WORK/scale.txt"
SCALE=$(cat "$WORK/scale.txt")
echo "  $(du -h "$WORK/households.csv" | cut -f1) CSV, scale $SCALE"

VARS="remit_amount cons_pc bank_account health_exp women_decide"
COLS=$(seq -f "rw_%g" 1 "$R_REPS" | paste -sd, - | sed 's/,/, /g')
{
  echo "data: households.csv"
  echo "design: {weight: weight, replicates: {columns: [$COLS], type: bootstrap, scale: $SCALE}}"
  echo "estimates:"
  for v in $VARS; do
    echo "  - {id: m_$v, mean: $v, na_rm: true, subset: \"cons_pc >= 0\"}"
    echo "  - {id: b_$v, mean: $v, by: migrant, na_rm: true, subset: \"cons_pc >= 0\"}"
  done
} > "$WORK/plan.yaml"

cat > "$WORK/rep.R" <<'REOF'
args <- commandArgs(TRUE)
suppressMessages({ library(survey); library(data.table) })
vars <- c("remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
d <- fread(args[1])
des <- svrepdesign(data = d, weights = ~weight, repweights = "^rw_[0-9]+$", type = "bootstrap",
  scale = as.numeric(args[3]), rscales = 1, combined.weights = TRUE)
f <- as.formula(paste("~", paste(vars, collapse = " + ")))
m <- svymean(f, des, na.rm = TRUE)
b <- svyby(f, ~migrant, des, svymean, na.rm = TRUE)
rows <- sprintf("m_%s,%s,%.17g,%.17g", vars, vars, coef(m), SE(m))
for (i in seq_len(nrow(b))) for (j in seq_along(vars))
  rows <- c(rows, sprintf("b_%s,%s | migrant=%s,%.17g,%.17g", vars[j], vars[j], b$migrant[i], b[i, 1 + j], b[i, 1 + length(vars) + j]))
writeLines(c("id,item,estimate,se", rows), args[2])
REOF

cat "$WORK/households.csv" > /dev/null
timed_median "$WORK/go.t" 3 "$WORK/dotm" analyze --format csv --out "$WORK/dotm.csv" "$WORK/plan.yaml"
read -r G_S G_CPU < "$WORK/go.t"
echo "dotm analyze, $R_REPS replicates: $G_S s wall, $G_CPU s CPU (the median run of ${DOTM_RUNS:-3})"
timed "$WORK/r.t" Rscript "$WORK/rep.R" "$WORK/households.csv" "$WORK/r.csv" "$SCALE"
read -r R_S R_CPU < "$WORK/r.t"
echo "R survey (fread, one svrepdesign, one svymean, one svyby over 5 variables): $R_S s wall, $R_CPU s CPU"
printf "  ratio R/dotm: wall %sx, CPU %sx\n" "$(ratio "$R_S" "$G_S")" "$(ratio "$R_CPU" "$G_CPU")"

compare "$WORK/dotm.csv" "$WORK/r.csv"

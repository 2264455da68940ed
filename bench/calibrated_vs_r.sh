#!/usr/bin/env bash
# Compares dotm with R's survey package on a calibrated design: N households
# (default 1,000,000), stratified cluster design with fpc raked to region and
# urban margins, 5 means overall and by migrant status with the calibrated
# design's standard errors (R: svyrecvar with the raking's postStrata; dotm:
# the plan's design.calibration). Whole processes, wall clock and CPU (user +
# sys), reading the data included; checks that the estimates and standard
# errors agree to 1e-9 relative.
#
# The population margins are made from the data (untimed) and written to one
# file both tools read: region totals are the weighted totals times 1.01 …
# 1.05 (one factor per region, in name order), urban = 1 gets its weighted
# total times 1.08 and urban = 0 the rest of the same grand total, so that
# the raking has work to do (one common factor would converge at once).
#
# dotm is one process, as R is: `dotm analyze` with a plan whose
# calibration names the margins rakes the weights (to a relative 1e-12)
# and runs the calibrated design's estimates. R is written as an expert writes it: data.table::fread, one
# svydesign, one rake() (epsilon 1e-12 of the weight total), one svymean over
# the five variables and one svyby by migrant status; dotm's plan takes the
# same complete cases (subset: cons_pc >= 0, as bench/analyze_vs_r.sh
# explains).
#
#   bench/calibrated_vs_r.sh            # N=1000000
#   N=200000 bench/calibrated_vs_r.sh   # smaller
set -euo pipefail
N=${N:-1000000}
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dotm-bench-cal.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
. "$ROOT/bench/lib.sh"

"$GO" build -o "$WORK/dotm" "$ROOT/cmd/dotm"
echo "synthesizing $N households and their population margins (untimed) ..."
"$WORK/dotm" synth households --n "$N" --seed 1 --out "$WORK/households.csv"
head -1 "$WORK/households.csv" | tr , '\n' | grep -nx -e weight -e region -e urban | paste -sd' ' - \
  | grep -qx '4:weight 6:region 7:urban' || { echo "households.csv: expected weight, region, urban in columns 4, 6, 7" >&2; exit 1; }
{
  echo "variable,category,total"
  awk -F, 'NR > 1 { r[$6] += $4; u[$7] += $4 }
    END { for (k in r) print k, r[k] }' "$WORK/households.csv" | sort \
    | awk '{ f = 1 + 0.01 * NR; t = $2 * f; g += t; printf "region,%s,%.17g\n", $1, t } END { printf "%.17g\n", g > "/dev/stderr" }' 2> "$WORK/grand"
  awk -F, -v g="$(cat "$WORK/grand")" 'NR > 1 { u[$7] += $4 }
    END { printf "urban,0,%.17g\nurban,1,%.17g\n", g - 1.08 * u[1], 1.08 * u[1] }' "$WORK/households.csv"
} > "$WORK/margins.csv"
cat "$WORK/margins.csv" | sed 's/^/  /'

VARS="remit_amount cons_pc bank_account health_exp women_decide"
{
  echo "data: households.csv"
  echo "design: {strata: stratum, psu: psu, weight: wcal, fpc: fpc, lonely_psu: adjust,"
  echo "         calibration: {method: rake, variables: [region, urban], before: weight, margins: margins.csv, tol: 1e-12}}"
  echo "estimates:"
  for v in $VARS; do
    echo "  - {id: m_$v, mean: $v, na_rm: true, subset: \"cons_pc >= 0\"}"
    echo "  - {id: b_$v, mean: $v, by: migrant, na_rm: true, subset: \"cons_pc >= 0\"}"
  done
} > "$WORK/plan.yaml"

# Warm the page cache so both tools read the file from memory.
cat "$WORK/households.csv" > /dev/null
timed_median "$WORK/an.t" 3 "$WORK/dotm" analyze --format csv --out "$WORK/dotm.csv" "$WORK/plan.yaml"
read -r G_S G_CPU < "$WORK/an.t"
echo "dotm analyze (rakes to the margins, then the calibrated design's estimates): $G_S s wall, $G_CPU s CPU (the median run of ${DOTM_RUNS:-3})"

if ! have_r survey data.table; then
  echo "Rscript with the survey and data.table packages not found: skipping the R comparison"
  exit 0
fi
cat > "$WORK/cal.R" <<REOF
args <- commandArgs(TRUE)
infile <- args[1]; marginsfile <- args[2]; outfile <- args[3]
suppressMessages({ library(survey); library(data.table) })
options(survey.lonely.psu = "adjust")
vars <- c("remit_amount", "cons_pc", "bank_account", "health_exp", "women_decide")
d <- fread(infile)
mg <- fread(marginsfile, colClasses = list(character = "category"))
pop <- lapply(c("region", "urban"), function(v) {
  p <- data.frame(x = type.convert(mg[variable == v, category], as.is = TRUE), Freq = mg[variable == v, total])
  names(p)[1] <- v
  p
})
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc, data = d)
des <- rake(des, list(~region, ~urban), pop, control = list(maxit = 100, epsilon = 1e-12))
$R_MEANS
REOF
timed "$WORK/r.t" Rscript "$WORK/cal.R" "$WORK/households.csv" "$WORK/margins.csv" "$WORK/r.csv"
read -r R_S R_CPU < "$WORK/r.t"
echo "R survey (fread, one svydesign, one rake, one svymean, one svyby over 5 variables): $R_S s wall, $R_CPU s CPU"
printf "  ratio R/dotm: wall %sx, CPU %sx\n" "$(ratio "$R_S" "$G_S")" "$(ratio "$R_CPU" "$G_CPU")"
compare "$WORK/dotm.csv" "$WORK/r.csv"

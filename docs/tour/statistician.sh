#!/bin/sh
# The statistician: a sample from a census frame, its weights, an analysis.
# Run it in an empty folder; DOTM names the dotm binary (default: dotm).
set -eu
DOTM=${DOTM:-dotm}

# First stage: 80 enumeration areas, PPS within strata, from a census frame.
$DOTM synth frame --eas 600 --seed 2026 --out frame.csv --margins margins.csv
$DOTM sample psus --frame frame.csv --n 80 --allocation proportional --seed 1 --out psus.csv --all
# Second stage: the field teams list and screen the areas; 6/3/6 households per area.
$DOTM synth listing --eas 600 --seed 2026 --psus psus.csv --out listing.csv
$DOTM sample households --listing listing.csv --quota current_migrant=6,return_migrant=3,non_migrant=6 --seed 1 --out households.csv
# Weights: base 1/(pi1*pi2), then raked to the census totals of region and urban.
$DOTM weights base --psus psus.csv --households households.csv --out weights.csv
$DOTM weights calibrate --data weights.csv --weight weight --method rake --margins margins.csv --as weight_cal --out calibrated.csv
# Design-based estimates from a plan (R survey's svydesign + svymean, by migration status).
$DOTM synth households --n 5000 --seed 1 --out survey.csv
cat > plan.yaml <<'PLAN'
data: survey.csv
design: {strata: stratum, psu: psu, weight: weight, fpc: fpc, lonely_psu: adjust}
estimates:
  - {id: bank, mean: bank_account, by: migrant}
  - {id: remittances, mean: remit_received, by: migrant}
PLAN
$DOTM analyze --format table plan.yaml

#!/usr/bin/env bash
# Times package sampling against R on the same two jobs and prints the ratio:
#   1. select 1,000 PSUs (PPS systematic with certainty units, 100 strata) from
#      a 1,000,000-unit frame: sampling.SelectPSUs vs
#      sampling::inclusionprobabilities + sampling::UPsystematic per stratum;
#   2. rake 1,000,000 households to 3 margins (10 + 2 + 6 categories) to a
#      relative 1e-10: sampling.Rake vs survey::rake.
# Go times are testing.B ns/op (BenchmarkSelectPSUs, BenchmarkRake); R times
# are system.time() elapsed on data of the same shape (frame and households
# generated in R). Data generation is excluded on both sides.
#
#   bench/sampling_vs_r.sh
set -euo pipefail
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
go_out=$("$GO" test -run '^$' -bench 'BenchmarkSelectPSUs|BenchmarkRake' -benchtime 3x ./sampling/)
echo "$go_out" | grep '^Benchmark'
go_select=$(echo "$go_out" | awk '/^BenchmarkSelectPSUs/ { print $3 / 1e9 }')
go_rake=$(echo "$go_out" | awk '/^BenchmarkRake/ { print $3 / 1e9 }')
r_out=$(Rscript bench/sampling.R)
echo "$r_out"
r_select=$(echo "$r_out" | awk '/^select/ { print $2 }')
r_rake=$(echo "$r_out" | awk '/^rake/ { print $2 }')
printf '%-28s %10s %10s %8s\n' job "Go (s)" "R (s)" "R/Go"
printf '%-28s %10.3f %10.3f %8.1f\n' "select PSUs, 1M frame" "$go_select" "$r_select" "$(awk -v a="$r_select" -v b="$go_select" 'BEGIN{print a/b}')"
printf '%-28s %10.3f %10.3f %8.1f\n' "rake 1M households, 3 margins" "$go_rake" "$r_rake" "$(awk -v a="$r_rake" -v b="$go_rake" 'BEGIN{print a/b}')"

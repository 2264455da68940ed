#!/usr/bin/env bash
# The release curve: the demo's release (households, persons, migrants and
# return migrants made from simulated interviews by the dataset package; the
# demo's profile, disclosure control on the linked tables; Parquet, Stata,
# codebooks, DDI, reports, manifest) at 10,000, 30,000, 100,000 and 1,000,000
# households, in one process (exports.BenchmarkReleaseCurve). Prints, per
# size, households/s, wall and CPU (user + sys) of the release, and the
# process's peak RSS during it (the input tables included), then the load.
#
#   bench/release_curve.sh                 # 10k, 30k, 100k, 1M
#   MAX=100000 bench/release_curve.sh      # up to 100k
set -euo pipefail
GO=${GO:-go}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
progress=
[ -t 2 ] && progress=1
echo "release curve (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
cd "$ROOT"
DOTM_BENCH_PROGRESS=$progress DOTM_BENCH_RELEASE_MAX=${MAX:-1000000} \
  "$GO" test -run '^$' -bench '^BenchmarkReleaseCurve$' -benchtime 1x -timeout 60m ./exports |
  awk '/^BenchmarkReleaseCurve\// {
      n = $1; sub(/.*households=/, "", n); sub(/-[0-9]+$/, "", n)
      for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
      printf "  %9d households  %8.0f households/s  %7.2f s wall  %7.2f s CPU  peak RSS %6.0f MiB (input %5.0f MiB)\n",
        n, v["households/s"], v["ns/op"] / 1e9, v["cpu-s/op"], v["peak-RSS-MiB"], v["input-RSS-MiB"]
      next }
    /^(FAIL|---|panic|ok|release curve)/ || /curve_test/ { print; fflush() }'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

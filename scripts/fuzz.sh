#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 10s).
# Crashers land in the package's testdata/fuzz/ and become regression tests.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10s}
status=0
while IFS= read -r file; do
  pkg=./$(dirname "${file#./}")
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    t=$fuzztime
    # The expression language and form importers get at least 20s (issue: questionnaire fuzzing).
    if [ "$pkg" = "./questionnaire" ] && [ "$fuzztime" = "10s" ]; then t=20s; fi
    echo "fuzz $pkg $target for $t"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg"; then
      status=1
    fi
  done
done < <(grep -rl --include='*_test.go' -E '^func Fuzz' . | sort)
exit $status

#!/usr/bin/env bash
# Runs every fuzz target for a set time each: scripts/fuzz.sh [duration]
# (default 1m). A failing input is written to the package's
# testdata/fuzz/<Target>/ and, once committed, replays in `go test ./...`.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-1m}
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u)
status=0
for dir in $targets; do
  for fn in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //'); do
    echo "== $dir $fn ($time)"
    go test "$dir" -run '^$' -fuzz "^$fn\$" -fuzztime "$time" || status=1
  done
done
exit $status

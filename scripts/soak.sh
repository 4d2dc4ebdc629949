#!/usr/bin/env bash
# Holds a steady load on `profileapi serve --demo` for a set time and prints
# the server's RSS, heap, goroutines and open files every few seconds:
#
#   scripts/soak.sh [duration] [soak flags]    # default 10m; scripts/soak -h lists the flags
#
# It fails if, after the warm-up, the last third of the samples has grown
# beyond a tolerance over the first third, or if any call got an answer it
# should not have. The load: the demo's four reads with its token (a few
# with a forged one), and an admin client creating and deleting customers.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
shift || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/profileapi" ./cmd/profileapi
go build -o "$tmp/soak" ./scripts/soak
"$tmp/soak" -bin "$tmp/profileapi" -duration "$duration" "$@"

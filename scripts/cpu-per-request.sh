#!/bin/sh
# cpu-per-request.sh measures how much CPU the public API spends per
# request beyond the constant-body net/http ceiling: both servers are
# loaded at the same time by their own wrk, so a change in the machine's
# load hits both alike, and each one's CPU (utime+stime from /proc) is
# divided by the requests it answered. On a shared 2-core machine this
# "gap" is steadier than a throughput ratio, which makes it the number to
# watch while changing the hot path.
#
#   WORK=/tmp/plt scripts/cpu-per-request.sh [duration] [rounds] [serve flags...]
#
# Use an even number of rounds: the order alternates.
#
# WORK must hold a prepared data directory and tokens, made with
#   profileapi loadtest --prepare --addr 127.0.0.1:18080 --work-dir $WORK --tokens-out $WORK/tokens.txt
# The tokens live a day (the longest a token may): prepare again after.
# Needs wrk. Uses ports 18080, 18081 and 18090.
set -eu

duration=${1:-8s}
rounds=${2:-4}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
work=${WORK:?set WORK to a directory prepared by profileapi loadtest --prepare}
bin=$work/profileapi
cd "$(dirname "$0")/.."
go build -o "$bin" ./cmd/profileapi

. scripts/servers.sh
start_servers "$bin" "$work" cpu-per-request-admin-key "$@"

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
load() { # url duration out
	TOKENS=$work/tokens.txt wrk -t1 -c32 -d"$2" -s scripts/wrk-random.lua "$1" >"$3"
}

load_api() { load http://127.0.0.1:18080 "$duration" "$work/api.wrk"; }
load_ceiling() { load http://127.0.0.1:18090 "$duration" "$work/ceiling.wrk"; }

load http://127.0.0.1:18080 2s /dev/null & load http://127.0.0.1:18090 2s /dev/null; wait $!
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$rounds"); do
	a0=$(cpu $server) c0=$(cpu $ceiling)
	at_once "$round" load_api load_ceiling
	a1=$(cpu $server) c1=$(cpu $ceiling)
	wrk_healthy "$work/api.wrk" profileapi
	wrk_healthy "$work/ceiling.wrk" ceiling
	na=$(awk '/requests in/ {print $1}' "$work/api.wrk")
	nc=$(awk '/requests in/ {print $1}' "$work/ceiling.wrk")
	awk -v a=$((a1 - a0)) -v c=$((c1 - c0)) -v na="$na" -v nc="$nc" -v hz="$hz" -v r="$round" 'BEGIN {
		x = a * 1e6 / hz / na; y = c * 1e6 / hz / nc
		printf "round %d  profileapi %.1f µs/request  ceiling %.1f µs/request  gap %.1f µs\n", r, x, y, x - y }'
done

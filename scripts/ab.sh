#!/bin/sh
# ab.sh compares two builds of the server by the CPU each spends per
# request, both loaded at once by their own wrk (as cpu-per-request.sh
# loads the server and the ceiling), on copies of one prepared data
# directory, which one starts first alternating. On a shared machine this
# is steadier than two runs of loadtest: a change in the machine's load
# hits both builds alike.
#
#   WORK=/tmp/plt scripts/ab.sh BIN_A BIN_B [duration] [rounds]
#
# WORK must hold a data directory and tokens prepared as for
# cpu-per-request.sh (loadtest --prepare --addr 127.0.0.1:18080 ...); B
# serves a copy of its database, made in WORK/b. Needs wrk.
# Uses ports 18080 to 18083.
set -eu

a=${1:?usage: ab.sh BIN_A BIN_B [duration] [rounds]}
b=${2:?usage: ab.sh BIN_A BIN_B [duration] [rounds]}
duration=${3:-6s}
rounds=${4:-8}
work=${WORK:?set WORK to a directory prepared by profileapi loadtest --prepare}
key=ab-admin-key-0123456789
cd "$(dirname "$0")/.."
. scripts/servers.sh

mkdir -p "$work/b"
# Again once WORK is prepared again: the tokens' signing keys are in it.
if [ ! -f "$work/b/profileapi.db" ] || [ "$work/profileapi.db" -nt "$work/b/profileapi.db" ]; then
	cp "$work/profileapi.db" "$work/b/"
fi
# Both serve the endpoints the tokens were issued for; B listens on 18082,
# and every request names the endpoint's host (HOST, in wrk-random.lua).
endpoints="--endpoint-na http://127.0.0.1:18080 --endpoint-eu http://127.0.0.1:18080/eu --endpoint-fe http://127.0.0.1:18080/fe"
# shellcheck disable=SC2086
"$a" serve --data-dir "$work" --addr 127.0.0.1:18080 --admin-addr 127.0.0.1:18081 --admin-key "$key" $endpoints \
	>"$work/a.out" 2>"$work/a.log" &
pa=$!
# shellcheck disable=SC2086
"$b" serve --data-dir "$work/b" --addr 127.0.0.1:18082 --admin-addr 127.0.0.1:18083 --admin-key "$key" $endpoints \
	>"$work/b.out" 2>"$work/b.log" &
pb=$!
trap 'kill $pa $pb 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
	grep -q 'cache warm' "$work/a.log" 2>/dev/null && grep -q 'cache warm' "$work/b.log" 2>/dev/null && break
	sleep 1
done
for pid in $pa $pb; do
	kill -0 "$pid" 2>/dev/null || { echo "a server did not start: see $work/a.log and $work/b.log" >&2; exit 1; }
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks
load() { # port duration out
	HOST=127.0.0.1:18080 TOKENS=$work/tokens.txt wrk -t1 -c32 -d"$2" -s scripts/wrk-random.lua "http://127.0.0.1:$1" >"$3"
}

load_a() { load 18080 "$duration" "$work/a.wrk"; }
load_b() { load 18082 "$duration" "$work/b.wrk"; }

load 18080 2s /dev/null & load 18082 2s /dev/null; wait $!
hz=$(getconf CLK_TCK)
ta=0 tb=0 na=0 nb=0
for round in $(seq 1 "$rounds"); do
	a0=$(cpu $pa) b0=$(cpu $pb)
	at_once "$round" load_a load_b
	a1=$(cpu $pa) b1=$(cpu $pb)
	wrk_healthy "$work/a.wrk" A
	wrk_healthy "$work/b.wrk" B
	ra=$(awk '/requests in/ {print $1}' "$work/a.wrk")
	rb=$(awk '/requests in/ {print $1}' "$work/b.wrk")
	awk -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v ra="$ra" -v rb="$rb" -v hz="$hz" -v r="$round" 'BEGIN {
		x = a * 1e6 / hz / ra; y = b * 1e6 / hz / rb
		printf "round %d  A %.2f µs/request  B %.2f µs/request  B/A %.3f\n", r, x, y, y / x }'
	ta=$((ta + a1 - a0)) tb=$((tb + b1 - b0)) na=$((na + ra)) nb=$((nb + rb))
done
awk -v a="$ta" -v b="$tb" -v ra="$na" -v rb="$nb" -v hz="$hz" 'BEGIN {
	x = a * 1e6 / hz / ra; y = b * 1e6 / hz / rb
	printf "all      A %.2f µs/request  B %.2f µs/request  B/A %.3f  B−A %.2f µs\n", x, y, y / x, y - x }'

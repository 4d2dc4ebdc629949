#!/bin/sh
# wrk.sh measures the public API with wrk, independently of
# `profileapi loadtest`: N customers imported, one token each, every request
# a random token and a random setting (scripts/wrk-random.lua), against the
# same constant-body net/http server as the ceiling, in turns.
#
#   scripts/wrk.sh [customers] [duration] [connections] [rounds]
#   scripts/wrk.sh 1000000 30s 64 3
#
# Needs wrk (apt-get install wrk) and Go. Uses ports 18080, 18081 and 18090.
set -eu

customers=${1:-1000000}
duration=${2:-30s}
connections=${3:-64}
rounds=${4:-3}
threads=${THREADS:-2}
work=${WORK:-$(mktemp -d /tmp/profileapi-wrk.XXXXXX)}
bin=$work/profileapi
key=wrk-admin-key-0123456789

cd "$(dirname "$0")/.."
go build -o "$bin" ./cmd/profileapi

echo "preparing $customers customers in $work"
"$bin" loadtest --prepare --customers "$customers" --addr 127.0.0.1:18080 \
	--work-dir "$work" --tokens-out "$work/tokens.txt" 2>"$work/prepare.log"

. scripts/servers.sh
start_servers "$bin" "$work" "$key"

run() { # url out → "req/s p99 non-2xx"
	TOKENS=$work/tokens.txt wrk -t"$threads" -c"$connections" -d"$duration" --latency \
		-s scripts/wrk-random.lua "$1" >"$2"
	rate=$(awk '/^Requests\/sec:/ {print $2}' "$2")
	p99=$(awk '$1 == "99%" {print $2}' "$2")
	errors=$(awk '/Non-2xx/ {print $5}' "$2")
	echo "$rate $p99 ${errors:-0}"
}

ms() { # wrk latency (e.g. 812.00us, 7.19ms, 1.02s) → milliseconds
	echo "$1" | awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}'
}

echo "round  profileapi req/s  p99      non-2xx   ceiling req/s  p99      ratio  p99 ratio"
total_api=0
total_ceiling=0
for round in $(seq 1 "$rounds"); do
	# Which server is loaded first alternates, as in loadtest.
	if [ $((round % 2)) = 1 ]; then
		set -- $(run http://127.0.0.1:18080 "$work/api.wrk") $(run http://127.0.0.1:18090 "$work/ceiling.wrk")
	else
		set -- $(run http://127.0.0.1:18090 "$work/ceiling.wrk") $(run http://127.0.0.1:18080 "$work/api.wrk")
		set -- $4 $5 $6 $1 $2 $3
	fi
	api_rate=$1 api_p99=$2 api_errors=$3
	ceiling_rate=$4 ceiling_p99=$5
	wrk_healthy "$work/api.wrk" profileapi
	wrk_healthy "$work/ceiling.wrk" ceiling
	printf '%-6s %-17s %-8s %-9s %-14s %-8s %-6s %s\n' "$round" "$api_rate" "$api_p99" "$api_errors" "$ceiling_rate" "$ceiling_p99" \
		"$(echo "$api_rate $ceiling_rate" | awk '{printf "%.3f", $1/$2}')" \
		"$(echo "$(ms "$api_p99") $(ms "$ceiling_p99")" | awk '{printf "%.2f", $1/$2}')"
	total_api=$(echo "$total_api $api_rate" | awk '{print $1+$2}')
	total_ceiling=$(echo "$total_ceiling $ceiling_rate" | awk '{print $1+$2}')
done
echo "throughput ratio over all rounds: $(echo "$total_api $total_ceiling" | awk '{printf "%.3f", $1/$2}')"
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$server/status) with $customers customers"
grep 'cache warm' "$work/serve.log" || true

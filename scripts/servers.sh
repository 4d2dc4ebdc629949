# servers.sh is sourced by wrk.sh, cpu-per-request.sh and ab.sh: start_servers
# BIN WORK ADMIN_KEY [serve flags] starts profileapi serve on WORK's data
# (127.0.0.1:18080, admin :18081) and the constant-body ceiling
# (127.0.0.1:18090), stops both on exit, and returns once the server's
# cache is warm. It sets $server and $ceiling to their pids.
start_servers() {
	local bin=$1 work=$2 key=$3
	shift 3
	"$bin" serve --data-dir "$work" --addr 127.0.0.1:18080 --admin-addr 127.0.0.1:18081 \
		--admin-key "$key" "$@" >"$work/serve.out" 2>"$work/serve.log" &
	server=$!
	"$bin" loadtest-ceiling --addr 127.0.0.1:18090 >"$work/ceiling.out" 2>&1 &
	ceiling=$!
	trap 'kill $server $ceiling 2>/dev/null || true' EXIT
	# The server answers at once; wait for its cache to be warm as well.
	for _ in $(seq 1 120); do
		grep -q 'cache warm' "$work/serve.log" 2>/dev/null && break
		sleep 1
	done
	for pid in $server $ceiling; do
		kill -0 "$pid" 2>/dev/null || { echo "a server did not start: see $work/serve.log and $work/ceiling.out" >&2; exit 1; }
	done
}

# wrk_healthy FILE NAME stops the script if wrk's run in FILE had answers
# that were not 2xx or socket errors: an error answer (401 for a token that
# expired, 429) is cheaper than a profile, so such a run measures
# something else, however good its numbers look.
wrk_healthy() {
	if grep -Eq 'Non-2xx|Socket errors' "$1"; then
		echo "$2: $(grep -E 'Non-2xx|Socket errors' "$1" | tr -s ' ')" >&2
		echo "$2: not a measure of profile reads (tokens older than a day have expired: prepare again)" >&2
		exit 1
	fi
}

# at_once ROUND FIRST SECOND runs the commands (functions) FIRST and SECOND
# at once, FIRST started first in odd rounds and SECOND in even ones: in
# runs of one build against itself, the server loaded second came out
# cheaper per request.
at_once() {
	if [ $(($1 % 2)) = 1 ]; then
		$2 &
		at_once_pid=$!
		$3
	else
		$3 &
		at_once_pid=$!
		$2
	fi
	wait $at_once_pid
}

# servers.sh is sourced by wrk.sh and cpu-per-request.sh: start_servers
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
		grep -q 'cache warm' "$work/serve.log" 2>/dev/null && return
		sleep 1
	done
}

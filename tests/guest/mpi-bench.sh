# ucx_perftest over rxe0 in one VM (loopback: its server and client
# processes), with every registration an implicit ODP MR and with UCX's
# pinned registration cache, and the ratios ODP/pinned of the bandwidth of
# ucp_put_bw and ucp_get with 1 MiB messages. Prints figures; asserts
# nothing about them. The UCX settings: ucx_env in lib.sh.
#
# usage: mpi-bench.sh [--quick] [ROUNDS]
#   ROUNDS (default 1): this many rounds of one ODP and one pinned run of
#   each test, the first of each round alternating; the figures are the
#   medians. --quick: one round of 5 iterations, for the test suite on the
#   test kernel (a broken benchmark fails; its figures mean nothing).
. "$(dirname "$0")/lib.sh"

quick=
[ "${1:-}" != --quick ] || { quick=yes; shift; }
[ $# -le 1 ] || fail "usage: mpi-bench.sh [--quick] [ROUNDS]"
rounds=${1:-1}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS wants a number, not '$rounds'"
iters=$([ -n "$quick" ] && echo 5 || echo 20)
command -v ucx_perftest >/dev/null || fail "ucx_perftest is not installed (scripts/install-deps)"
tests=(ucp_put_bw ucp_get)

logs=/run/mpi-bench
mkdir -p "$logs"
port=13400
# args: registration, test, log
run_ucx_perftest() {
	local i rc=1 server
	read -r -a env <<<"$(ucx_env "$1")"
	port=$((port + 1))
	env "${env[@]}" ucx_perftest -p "$port" >"$3.server" 2>&1 &
	server=$!
	for ((i = 0; i < 50; i++)); do
		env "${env[@]}" ucx_perftest 127.0.0.1 -p "$port" -t "$2" -s 1048576 -n "$iters" >"$3" 2>&1 && { rc=0; break; }
		grep -q "Connection refused" "$3" || break
		sleep 0.2
	done
	wait "$server" || { cat "$3.server"; return 1; }
	return "$rc"
}

for ((r = 1; r <= rounds; r++)); do
	for reg in $(round_order "$r" rcache odp); do
		for t in "${tests[@]}"; do
			log=$logs/$t-$reg-$r.log
			run_ucx_perftest "$reg" "$t" "$log" || { cat "$log"; fail "ucx_perftest $t with $reg failed"; }
			echo "$reg round $r: RESULT $t MB/s: $(ucx_perftest_bw "$log") MB/s"
		done
	done
done

# The figure of one test and registration in each round, one line per
# round ("-" for a round without one). args: test, registration
test_figures() {
	local r f
	for ((r = 1; r <= rounds; r++)); do
		f=$(ucx_perftest_bw "$logs/$1-$2-$r.log")
		echo "${f:--}"
	done
}

echo "== ucx benchmark ($rounds round(s), 1 MiB messages, $iters iterations, loopback over rxe0)"
printf '%-12s %12s %12s %10s %19s\n' test pinned odp odp/pinned "95 % interval"
for t in "${tests[@]}"; do
	test_figures "$t" rcache >"$logs/$t.pinned"
	test_figures "$t" odp >"$logs/$t.odp"
	paired_row "$t" MB/s "$logs/$t.pinned" "$logs/$t.odp"
done
echo "(bandwidth: higher is better; ODP pays its page faults on first touch only)"

# ib_send_lat and ib_write_bw over rxe0 (loopback), with the stock provider
# and with msrxe in one boot, and the ratios msrxe/stock. Prints figures;
# asserts nothing about them.
#
# usage: provider-bench.sh [--quick] PROVIDER_DIR [ROUNDS [PERFTEST OPTIONS...]]
#   ROUNDS (default 1): this many rounds of one stock and one msrxe run,
#   the first of each round alternating; the figures are the medians.
#   --quick: one round of -n 20 unless told otherwise, for the test suite
#   on the test kernel (a broken benchmark fails; its figures mean nothing).
#
# ib_send_lat runs with poll_yield.so preloaded (providers/tests): a poll
# that finds no completion gives up the CPU. provider.bench boots one vCPU
# counting instructions (run-vm --icount), where without it server, client
# and rxe's worker pass the CPU on only at timer ticks, so every round trip
# takes one tick (999.7 us) with either provider. The same library serves
# both providers; it calls the provider's own poll each time.
. "$(dirname "$0")/provider-lib.sh"

quick=
[ "${1:-}" != --quick ] || { quick=yes; shift; }
[ $# -ge 1 ] || fail "usage: provider-bench.sh [--quick] PROVIDER_DIR [ROUNDS [OPTIONS...]]"
provider_paths "$1"
rounds=${2:-1}
shift $(($# >= 2 ? 2 : 1))
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS wants a number, not '$rounds'"
[ $# -gt 0 ] || set -- -n "$([ -n "$quick" ] && echo 20 || echo 1000)"

logs=/run/provider-bench
yield_lib=$PROVIDER_DIR/tests/poll_yield.so
[ -f "$yield_lib" ] || fail "no $yield_lib: build the providers first"
mkdir -p "$logs"
for ((r = 1; r <= rounds; r++)); do
	for p in $(round_order "$r" stock ours); do
		use_provider "$p"
		for t in ib_send_lat ib_write_bw; do
			log=$logs/$t-$p-$r.log
			preload=
			[ "$t" != ib_send_lat ] || preload=$yield_lib
			PERFTEST_PRELOAD=$preload run_perftest "$log" "$t" "$@" ||
				{ cat "$log"; fail "$t with $p failed"; }
			# a preload ld.so could not load, or one that refused, would
			# leave the latency tick-bound without failing the run
			! grep -E "cannot be preloaded|^poll_yield:" "$log" ||
				fail "$t with $p: $yield_lib did not work (above)"
			grep '^RESULT' "$log" | sed "s/^/$p round $r: /"
		done
	done
done

# The figure of one tool and provider in each round, one line per round,
# in round order ("-" for a round without one: perftest prints "inf" when
# its clock calibration failed). The logs are named, not globbed: readdir
# on the guest's overlay /tmp (host /tmp below it, changing) missed files.
# args: tool, ours | stock
tool_figures() {
	local r
	for ((r = 1; r <= rounds; r++)); do
		awk -v t="$1" '$1 == "RESULT" && $2 == t && $4 ~ /^[0-9.]+$/ { f = $4 } END { print (f == "" ? "-" : f) }' \
			"$logs/$1-$2-$r.log"
	done
}

# Each round's ratio msrxe/stock is taken from two runs next to each other;
# the ratio reported is the median of those, with its 95 % interval
# (paired_row in lib.sh).
echo "== provider benchmark ($rounds round(s), perftest options: $*; ib_send_lat with poll_yield.so)"
printf '%-12s %12s %12s %10s %19s\n' tool stock msrxe msrxe/stock "95 % interval"
for t in ib_send_lat ib_write_bw; do
	tool_figures "$t" stock >"$logs/$t.stock"
	tool_figures "$t" ours >"$logs/$t.ours"
	paired_row "$t" "$([ "$t" = ib_send_lat ] && echo usec || echo MB/s)" "$logs/$t.stock" "$logs/$t.ours"
done
echo "(latency: lower is better, ratio <= 1.02 wanted; bandwidth: higher is better, ratio >= 0.98 wanted)"

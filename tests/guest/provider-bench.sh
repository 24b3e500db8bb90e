# ib_send_lat and ib_write_bw over rxe0 (loopback), with the stock provider
# and with msrxe in one boot, and the ratios msrxe/stock. Prints figures;
# asserts nothing about them.
#
# usage: provider-bench.sh PROVIDER_DIR [ROUNDS [PERFTEST OPTIONS...]]
#   ROUNDS (default 1): this many rounds of one stock and one msrxe run,
#   the first of each round alternating; the figures are the medians.
. "$(dirname "$0")/provider-lib.sh"

[ $# -ge 1 ] || fail "usage: provider-bench.sh PROVIDER_DIR [ROUNDS [OPTIONS...]]"
provider_paths "$1"
rounds=${2:-1}
shift $(($# >= 2 ? 2 : 1))
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS wants a number, not '$rounds'"
[ $# -gt 0 ] || set -- -n 1000

logs=/run/provider-bench
mkdir -p "$logs"
for ((r = 1; r <= rounds; r++)); do
	# alternate which provider goes first, so order effects cancel
	order="stock ours"
	[ $((r % 2)) = 1 ] || order="ours stock"
	for p in $order; do
		use_provider "$p"
		run_perftest "$logs/bench-$p-$r.log" ib_send_lat,ib_write_bw "$@" ||
			{ cat "$logs/bench-$p-$r.log"; fail "perftest with $p failed"; }
		grep '^RESULT' "$logs/bench-$p-$r.log" | sed "s/^/$p round $r: /"
	done
done

# The figures of one tool and provider, one line per round, in round
# order ("-" for a round without one: perftest prints "inf" when its clock
# calibration failed). The logs are named, not globbed: readdir on the
# guest's overlay /tmp (host /tmp below it, changing) missed files.
# args: tool, ours | stock
tool_figures() {
	local r
	for ((r = 1; r <= rounds; r++)); do
		awk -v t="$1" '$1 == "RESULT" && $2 == t && $4 ~ /^[0-9.]+$/ { f = $4 } END { print (f == "" ? "-" : f) }' \
			"$logs/bench-$2-$r.log"
	done
}

# Each round's ratio msrxe/stock is taken from two runs next to each other,
# so a slow spell of the host shows in both; the ratio reported is the
# median of those, with its 95 % interval (median_interval in lib.sh).
echo "== provider benchmark ($rounds round(s), perftest options: $*)"
printf '%-12s %12s %12s %10s %19s\n' tool stock msrxe msrxe/stock "95 % interval"
for t in ib_send_lat ib_write_bw; do
	tool_figures "$t" stock >"$logs/$t.stock"
	tool_figures "$t" ours >"$logs/$t.ours"
	s=$(grep -v '^-' "$logs/$t.stock" | median) o=$(grep -v '^-' "$logs/$t.ours" | median)
	[ -n "$s" ] && [ -n "$o" ] || fail "no figure for $t"
	read -r ratio low high n < <(paste "$logs/$t.stock" "$logs/$t.ours" |
		awk '$1 != "-" && $2 != "-" { print $2 / $1 }' | median_interval)
	unit=$([ "$t" = ib_send_lat ] && echo usec || echo MB/s)
	awk -v t="$t" -v s="$s" -v o="$o" -v u="$unit" -v r="$ratio" -v l="$low" -v h="$high" -v n="$n" '
		function f(x) { return x == "-" ? x : sprintf("%.3f", x) }
		BEGIN { printf "%-12s %7.2f %-4s %7.2f %-4s %10.3f %9s..%-8s (%d rounds)\n", t, s, u, o, u, r, f(l), f(h), n }'
done
echo "(latency: lower is better, ratio <= 1.02 wanted; bandwidth: higher is better, ratio >= 0.98 wanted)"
# Under run-vm --icount (one vCPU, as provider.bench runs) each
# ib_send_lat round trip waits for a timer tick, with either provider.
if [ "$(nproc)" = 1 ]; then
	echo "(one vCPU: ib_send_lat's round trips wait for the timer tick, so its latency is the tick's"
	echo " length for either provider; that ratio says nothing about the provider)"
fi

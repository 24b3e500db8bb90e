# ib_send_lat and ib_write_bw over rxe0 (loopback), with the stock provider
# and with msrxe in one boot, and the ratios msrxe/stock. Prints figures;
# asserts nothing about them (TCG timing is noisy).
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

# Median of the figures of one tool and provider over the rounds (perftest
# prints "inf" when its clock calibration failed; such figures are left out). The
# logs are named, not globbed: readdir on the guest's overlay /tmp (host
# /tmp below it, changing) missed files.
tool_median() {
	local r
	for ((r = 1; r <= rounds; r++)); do cat "$logs/bench-$2-$r.log"; done | awk -v t="$1" '$1 == "RESULT" && $2 == t && $4 ~ /^[0-9.]+$/ { print $4 }' |
		median
}

echo "== provider benchmark ($rounds round(s), perftest options: $*)"
printf '%-12s %14s %14s %10s\n' tool stock msrxe msrxe/stock
for t in ib_send_lat ib_write_bw; do
	s=$(tool_median "$t" stock) o=$(tool_median "$t" ours)
	[ -n "$s" ] && [ -n "$o" ] || fail "no figure for $t"
	unit=$([ "$t" = ib_send_lat ] && echo usec || echo MB/s)
	awk -v t="$t" -v s="$s" -v o="$o" -v u="$unit" \
		'BEGIN { printf "%-12s %9.2f %-4s %9.2f %-4s %10.3f\n", t, s, u, o, u, o / s }'
done
echo "(latency: lower is better, ratio <= 1.02 wanted; bandwidth: higher is better, ratio >= 0.98 wanted)"

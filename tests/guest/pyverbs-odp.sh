# rdma-core's pyverbs ODP tests (tests.test_odp.OdpTestCase) on rxe0, in
# each rxe ODP mode (virt, iommu: rxe_odp_mode in lib.sh), with the stock
# rxe provider and with msrxe, in one boot. Strict: every test must pass
# but those tests/pyverbs/odp-not-applicable.txt names for the provider,
# which must skip with the message it gives (run-suite --expect-skips).
# Then, with msrxe, test_odp_async_prefetch_rc_traffic runs REPEAT times
# (default 50) in one process, and every run must pass. msrxe's prefetch
# must raise rxe0's odp_prefetches counter.
#
# Results land in the job directory: pyverbs-odp-MODE-PROVIDER.txt, and the
# suite's output in pyverbs-odp-MODE-PROVIDER.log (PROVIDER: rxe, msrxe,
# msrxe-repeat).
#
# usage: pyverbs-odp.sh PROVIDER_DIR [REPEAT [MODE[,MODE...] [STOCK_MODE[,...]]]]
#   STOCK_MODE: the modes that also run with the stock provider (default:
#   all). The test suite leaves out virt, the default mode: pyverbs.suite
#   runs every test_odp test there with the stock provider, and a test
#   that passes in the baseline must pass.
. "$(dirname "$0")/provider-lib.sh"

[ $# -ge 1 ] || fail "usage: pyverbs-odp.sh PROVIDER_DIR [REPEAT [MODE[,MODE...] [STOCK_MODE[,...]]]]"
provider_paths "$1"
repeat=${2:-50}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || fail "REPEAT wants a number above 0, not '$repeat'"
IFS=, read -r -a modes <<<"${3:-virt,iommu}"
stock_modes=",${4:-${3:-virt,iommu}},"
not_applicable=$PROJECT_DIR/tests/pyverbs/odp-not-applicable.txt
repeat_test=tests.test_odp.OdpTestCase.test_odp_async_prefetch_rc_traffic
pyverbs_hugepages

failures=()
# One strict run of run-suite with the current provider.
# args: tag (MODE-PROVIDER), then run-suite options
run_strict() {
	local tag=$1 start=$SECONDS rc=0
	shift
	run_pyverbs_suite \
		--baseline "$PROJECT_DIR/tests/pyverbs/baseline.txt" \
		--results "/job/pyverbs-odp-$tag.txt" \
		--expect-skips "$not_applicable" --provider "$PROVIDER_NAME" "$@" \
		>"/job/pyverbs-odp-$tag.log" 2>&1 || rc=$?
	sed -n '/^repeat: /p; /^pyverbs: [0-9]* tests/,$p' "/job/pyverbs-odp-$tag.log"
	echo "== $tag: run-suite exited $rc after $((SECONDS - start)) s"
	if [ "$rc" != 0 ]; then
		failures+=("$tag (/job/pyverbs-odp-$tag.log)")
		return 1
	fi
}

for mode in "${modes[@]}"; do
	echo "======== rxe0 ODP mode: $mode"
	rxe_odp_mode "$mode"
	for p in stock ours; do
		if [ "$p" = stock ] && [[ $stock_modes != *",$mode,"* ]]; then
			echo "== $mode-rxe: not run (stock provider only in modes ${stock_modes//,/ })"
			continue
		fi
		use_provider "$p"
		check_pyverbs_provider
		prefetches=$(rxe_counter odp_prefetches)
		run_strict "$mode-$PROVIDER_NAME" -k test_odp.OdpTestCase || true
		prefetches=$(($(rxe_counter odp_prefetches) - prefetches))
		echo "== $mode-$PROVIDER_NAME: odp_prefetches +$prefetches"
		if [ "$p" = ours ] && [ "$prefetches" -le 0 ]; then
			failures+=("$mode-msrxe: the prefetch tests did not raise odp_prefetches")
		fi
	done
	# msrxe is still the provider
	run_strict "$mode-msrxe-repeat" --repeat "$repeat" -k "$repeat_test" || true
	echo "== rxe0 counters after mode $mode: $(rxe_counters)"
done

echo "======== test_odp results (skip: see $not_applicable)"
header="test"
files=()
for mode in "${modes[@]}"; do
	for p in rxe msrxe; do
		[ "$p" = msrxe ] || [[ $stock_modes == *",$mode,"* ]] || continue
		header+=" $mode/$p"
		f=/job/pyverbs-odp-$mode-$p.txt
		[ -f "$f" ] || echo "# no results: the run failed" >"$f"
		files+=("$f")
	done
done
# one column per results file, "-" where a test has no result
awk -v header="$header" '
	FNR == 1 { nf++ }
	!/^#/ && $1 ~ /test_odp\.OdpTestCase/ {
		t = $1; sub(/.*\./, "", t)
		if (!(t in seen)) { seen[t] = 1; order[++n] = t }
		st[t, nf] = $2
	}
	END {
		print header
		for (i = 1; i <= n; i++) {
			line = order[i]
			for (f = 1; f <= nf; f++) line = line " " ((order[i], f) in st ? st[order[i], f] : "-")
			print line
		}
	}' "${files[@]}" | column -t

if [ ${#failures[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failures[@]}"
	fail "pyverbs ODP tests: ${#failures[@]} run(s) failed"
fi
echo "pyverbs-odp: every test_odp test passes or skips as listed, in modes ${modes[*]} with msrxe and in modes ${stock_modes//,/ } with rxe; $repeat_test passed $repeat times with msrxe in each mode"

# Upstream perftest with perftest-patches/ (build/perftest/src) with --odp
# (every MR On-Demand Paging) over rxe0, in each rxe ODP mode (virt, iommu:
# rxe_odp_mode in lib.sh) in one boot, loopback or in a VM pair.
# perftest.sh runs each tool and checks it (both sides exit 0, the client
# reports a figure above 0); each tool, in each mode, gets a TCP port of
# its own. Proof that the MRs were ODP MRs: the tool raises rxe0's
# odp_faults counter in this VM, and each side in this VM prints its MR's
# ODP statistics (patch 0003) with faults and no fault error.
#
# Upstream perftest runs ib_atomic_bw with --odp; Debian 12's perftest
# 4.5+0.17 refuses it ("ODP does not support ATOMICS for now"), which is
# one reason the tests use upstream's.
#
# usage: perftest-odp.sh [--deal OFFSET] [--msrxe PROVIDER_DIR] MODE[,MODE...] TOOL[,TOOL...] [PERFTEST OPTIONS...]
#   --deal: each tool runs once, the tools dealt to the modes in turn
#   (tool i in mode i + OFFSET, modulo the number of modes), instead of
#   every tool in every mode. The suite deals with offset 0 in one VM and
#   1 in a VM pair, so that between them every tool runs in every mode.
#   --msrxe: with the msrxe provider instead of the stock librxe.
. "$(dirname "$0")/provider-lib.sh"

usage="usage: perftest-odp.sh [--deal OFFSET] [--msrxe PROVIDER_DIR] MODE[,MODE...] TOOL[,TOOL...] [OPTIONS...]"
deal=
if [ "${1:-}" = --deal ]; then
	[[ ${2:-} =~ ^[0-9]+$ ]] || fail "--deal wants an offset (a number), not '${2:-}'"
	deal=$2
	shift 2
fi
if [ "${1:-}" = --msrxe ]; then
	[ $# -ge 2 ] || fail "$usage"
	provider_paths "$2"
	use_provider ours
	shift 2
fi
[ $# -ge 2 ] || fail "$usage"
IFS=, read -r -a modes <<<"$1"
IFS=, read -r -a tools <<<"$2"
shift 2
use_upstream_perftest

# The statistics lines of this VM's side(s) in a tool's output (printed
# with it): there must be one, and each must show faults and no fault
# error. args: log
check_odp_stats() {
	local stats
	stats=$(perftest_odp_stats "$1")
	[ -n "$stats" ] || { echo "no ODP statistics line in the output"; return 1; }
	! awk '$1 == 0 || $3 != 0 { bad = 1 } END { exit !bad }' <<<"$stats" || {
		echo "an MR without faults or with fault errors"
		return 1
	}
}

port=18600
results=()
for m in "${!modes[@]}"; do
	mode=${modes[m]}
	echo "======== rxe0 ODP mode: $mode"
	rxe_odp_mode "$mode"
	for t in "${!tools[@]}"; do
		tool=${tools[t]}
		[ -z "$deal" ] || [ $(((t + deal) % ${#modes[@]})) = "$m" ] || continue
		log=/tmp/perftest-odp-$mode-$tool.log
		faults=$(rxe_counter odp_faults)
		errors=$(rxe_counter odp_fault_errors)
		status=0
		PERFTEST_PORT=$port run_perftest "$log" "$tool" --odp "$@" || status=$?
		cat "$log"
		[ "$status" = 0 ] || fail "$tool --odp failed in ODP mode $mode (see its output above)"
		faults=$(($(rxe_counter odp_faults) - faults))
		errors=$(($(rxe_counter odp_fault_errors) - errors))
		echo "ODP $mode $tool $VM_ROLE: odp_faults +$faults, odp_fault_errors +$errors"
		[ "$faults" -gt 0 ] ||
			fail "$tool --odp in ODP mode $mode: rxe0's odp_faults did not rise in this VM ($VM_ROLE): were its MRs ODP?"
		check_odp_stats "$log" || fail "$tool --odp in ODP mode $mode: its per-MR ODP statistics (above)"
		figure=$(sed -n 's/^RESULT [^ ]* [^ ]* //p' "$log")
		results+=("RESULT-ODP $mode $tool $VM_ROLE: ${figure:-(server side)}, odp_faults +$faults")
		port=$((port + 1))
	done
	echo "== rxe0 counters after mode $mode: $(rxe_counters odp_faults odp_fault_errors odp_invalidations)"
done
echo "======== summary"
printf '%s\n' "${results[@]}"

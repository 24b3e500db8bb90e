# The two-step IOVA API's KUnit suite on the edu device.
# usage: dma-iova-kunit.sh SUITE [MODE...]
#   SUITE  dma_iova_edu (the device translates through the IOMMU) or
#          dma_iova_edu_no_iommu (boot with intel_iommu=off)
#   MODE   strict or lazy: IOTLB invalidation of the device's IOMMU group;
#          the suite runs once per mode given
# Every test of the suite must pass (a skipped test fails the run), and
# each DMAR fault the suite announces must be in the kernel log.
. "$(dirname "$0")/lib.sh"

suite=${1:?usage: dma-iova-kunit.sh SUITE [MODE...]}
shift
case $suite in
dma_iova_edu)
	tests="link_1_page link_512_pages link_1_gib bad_ranges unaligned double_link_unlink untrusted_declined device_dma"
	nfaults=2 ;;
dma_iova_edu_no_iommu) tests="declines_without_iommu" nfaults=0 ;;
*) fail "unknown suite '$suite'" ;;
esac
edu=$(edu_bdf)

run_suite() {
	local results=/tmp/kunit-$suite.txt faults kind addr before
	before=$(dmesg | wc -l)
	# shellcheck disable=SC2086 # one word per test name
	KUNIT_SUBCASE_PREFIX=$1. kunit_run kernel/dma/iova_edu_kunit.ko "$suite" $tests

	# Faults are reported by an interrupt: give it a moment
	sleep 1
	faults=$(dmesg | tail -n +"$((before + 1))")
	{ grep -oE 'DMAR fault expected: DMA (Read|Write) at 0x[0-9a-f]+' "$results" || true; } |
		awk '{print $5, $7}' >/tmp/expected-faults
	[ "$(wc -l </tmp/expected-faults)" = "$nfaults" ] ||
		fail "$1: the suite announced $(wc -l </tmp/expected-faults) DMAR faults, not $nfaults"
	while read -r kind addr; do
		echo "$faults" | grep -E "DMAR: \[DMA $kind NO_PASID\] Request device \[${edu#0000:}\] fault addr" |
			grep -oE 'fault addr 0x[0-9a-f]+' | grep -q "0x$(printf '%x' "$addr")\$" ||
			fail "$1: no DMAR fault for the DMA $kind at $addr by $edu in the kernel log"
		echo "$1: DMAR fault logged for the DMA $kind at $addr"
	done </tmp/expected-faults
	echo "$1: suite $suite passed ($(wc -w <<<"$tests") tests)"
}

if [ $# -eq 0 ]; then
	run_suite default
fi
for mode in "$@"; do
	case $mode in
	strict) type=DMA ;;
	lazy) type=DMA-FQ ;;
	*) fail "unknown mode '$mode' (strict or lazy)" ;;
	esac
	edu_iommu_group_type "$type"
	run_suite "$mode"
done

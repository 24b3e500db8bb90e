# KUnit suite umem_odp_iova: ODP umems whose faults link pages into IOVA
# held per umem (edu behind VT-d), the virt-DMA case (rxe0), bad input, the
# memory figures (printed as a table), and faults against invalidations
# from two threads for STRESS_SECONDS.
# usage: umem-odp-kunit.sh [STRESS_SECONDS]    (default 60)
#        umem-odp-kunit.sh bounce | direct
# "bounce" runs the suite umem_odp_bounce instead, in a guest booted with
# swiotlb=force intel_iommu=off: an ODP umem on edu is refused
# (EOPNOTSUPP), a pinned one is mapped. "direct" runs umem_odp_direct with
# edu's IOMMU group in an identity domain (dma-direct, unmapping a no-op):
# the umem keeps no DMA address list.
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = bounce ]; then
	kunit_run drivers/infiniband/core/umem_odp_kunit.ko umem_odp_bounce odp_bounce_refused
	exit 0
fi
if [ "${1:-}" = direct ]; then
	old_type=$(cat "/sys/bus/pci/devices/$(edu_bdf)/iommu_group/type")
	trap 'edu_iommu_group_type "$old_type"' EXIT
	edu_iommu_group_type identity
	kunit_run drivers/infiniband/core/umem_odp_kunit.ko umem_odp_direct odp_direct_no_dma_list
	exit 0
fi
seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || fail "STRESS_SECONDS wants a number, not '$seconds'"
# odp_hugetlb's umem: 4 huge pages of a hugetlbfs file (the shared boot's
# reset frees the pool; the file goes here)
echo 4 >/proc/sys/vm/nr_hugepages
trap 'rm -f /dev/hugepages/umem_odp_kunit' EXIT
KUNIT_PARAMS="stress_seconds=$seconds" kunit_run drivers/infiniband/core/umem_odp_kunit.ko \
	umem_odp_iova odp_fault_invalidate odp_virt_dma odp_implicit_child odp_p2p odp_read_keeps_write odp_bad_input odp_memory odp_sparse odp_dma_addrs_kept odp_hugetlb odp_hugetlb_base_entries odp_stress

echo
echo "ODP bookkeeping of a 4096-page umem, faulted in completely (edu behind VT-d):"
printf '%-44s %15s %20s\n' scheme "bytes per page" "IOVA allocs per MR"
grep -oE 'RESULT odp-memory .*' /tmp/kunit-umem_odp_iova.txt |
	sed -E 's/.*scheme=([a-z]+) pages=[0-9]+ bytes_per_page=([0-9]+) iova_allocs_per_mr=([0-9]+)/\1 \2 \3/' |
	while read -r scheme bytes allocs; do
		case $scheme in
		base) name="6.12 base (pfn + dma_addr_t, map per page)" ;;
		patched) name="patched (pfn list, IOVA held per umem)" ;;
		*) name=$scheme ;;
		esac
		printf '%-44s %15s %20s\n' "$name" "$bytes" "$allocs"
	done
grep -oE 'RESULT odp-memory .*' /tmp/kunit-umem_odp_iova.txt

# rxe's ODP modes, proven by the kernel functions they call (kprobe counts
# while ib_write_bw --odp runs in loopback):
#   virt   no page is linked into IOVA (dma_iova_link never called)
#   iommu  faults link pages into IOVA (dma_iova_link), the data path
#          translates through the IOMMU (iommu_iova_to_phys), and freeing
#          the MRs unlinks them (dma_iova_unlink)
# and the mode's bad input: odp_iommu=1 on a network device without a PCI
# function (lo) refuses to make the device, with a message that says why;
# odp_fault_ahead (patch 0025) refuses values above 16 MiB and non-numbers.
#
# usage: rxe-odp-mode.sh
. "$(dirname "$0")/lib.sh"

probes=dma_iova_link,dma_iova_unlink,iommu_iova_to_phys

# args: mode. Prints "function count" lines and the counter deltas.
odp_traffic() {
	local faults gid
	faults=$(rxe_counter odp_faults)
	gid=$(rxe_ipv4_gid_index)
	count_calls "$probes" bash -c "
		ib_write_bw -d rxe0 -x $gid --odp -n 100 -p 18700 >/tmp/s.log 2>&1 &
		sleep 1
		ib_write_bw -d rxe0 -x $gid --odp -n 100 -p 18700 127.0.0.1 >/tmp/c.log 2>&1 || { cat /tmp/c.log; exit 1; }
		wait \$! || { cat /tmp/s.log; exit 1; }" >/tmp/calls.txt
	cat /tmp/calls.txt
	echo "odp_faults +$(($(rxe_counter odp_faults) - faults))"
	[ "$(rxe_counter odp_faults)" -gt "$faults" ] || fail "$1: odp_faults did not rise: the MRs were not ODP"
}

calls() { awk -v f="$1" '$1 == f { print $2 }' /tmp/calls.txt; }

echo "==== virt"
rxe_odp_mode virt
odp_traffic virt
[ "$(calls dma_iova_link)" = 0 ] || fail "virt: ODP pages were linked into IOVA ($(calls dma_iova_link) calls)"

echo "==== iommu"
dmesg -C
rxe_odp_mode iommu
dmesg | grep -q "ODP MRs on eth0 are linked into IOVA of" ||
	fail "iommu: rxe0 did not announce the IOMMU-translated mode"
odp_traffic iommu
for f in dma_iova_link dma_iova_unlink iommu_iova_to_phys; do
	[ "$(calls "$f")" -gt 0 ] || fail "iommu: $f was never called"
done

echo "==== bad input: odp_iommu=1 on lo (no PCI function)"
dmesg -C
if rdma link add rxelo type rxe netdev lo 2>/tmp/lo.err; then
	rdma link del rxelo
	fail "rxe on lo was made with odp_iommu=1"
fi
cat /tmp/lo.err
dmesg | grep "odp_iommu=1 needs a network device on a PCI function; lo has none" ||
	fail "no message saying why rxe on lo was refused"
rxe_odp_mode virt

echo "==== bad input: odp_fault_ahead above its 16 MiB bound, or not a number"
param=/sys/module/rdma_rxe/parameters/odp_fault_ahead
saved=$(cat "$param")
for bad in $((16 * 1024 * 1024 + 1)) 4294967295 lots -1; do
	if echo "$bad" >"$param" 2>/dev/null; then
		fail "odp_fault_ahead took '$bad'"
	fi
	[ "$(cat "$param")" = "$saved" ] || fail "odp_fault_ahead changed to $(cat "$param") on '$bad'"
done
echo $((16 * 1024 * 1024)) >"$param" || fail "odp_fault_ahead refused its bound, 16 MiB"
echo "$saved" >"$param"
echo "odp_fault_ahead: 16 MiB + 1, 4 GiB - 1, 'lots' and -1 refused; 16 MiB taken; back to $saved"
echo "rxe-odp-mode: both modes proven, bad input refused"

# The demo (scripts/demo), in a VM pair: Debian's ib_write_bw from the
# client VM into the server VM, first into a pinned memory region, then
# into an ODP one (--odp), with the server's rxe0 in the IOMMU-translated
# ODP mode: each page the client's writes reach is faulted in and linked
# into the IOVA the MR holds (dma_iova_link) on first touch. The server
# prints, for each run, rxe0's ODP counters before and after and the calls
# of dma_iova_link/dma_iova_unlink during it ("DEMO" lines); the client
# prints the figures (perftest.sh's "RESULT" lines). scripts/demo puts them
# side by side.
#
# usage: demo.sh [PERFTEST OPTIONS...]   (default -n 100)
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- -n 100
if [ "$VM_ROLE" = server ]; then
	rxe_odp_mode iommu
fi
port=18900
for kind in pinned odp; do
	flag=()
	[ "$kind" = pinned ] || flag=(--odp)
	if [ "$VM_ROLE" != server ]; then
		PERFTEST_PORT=$port bash "$(dirname "$0")/perftest.sh" ib_write_bw "${flag[@]}" "$@"
	else
		before=$(rxe_counters odp_faults odp_invalidations)
		calls=$(PERFTEST_PORT=$port count_calls dma_iova_link,dma_iova_unlink \
			bash "$(dirname "$0")/perftest.sh" ib_write_bw "${flag[@]}" "$@" | tail -n 2 | tr '\n' ' ')
		echo "DEMO $kind before: $before"
		echo "DEMO $kind after: $(rxe_counters odp_faults odp_invalidations)"
		echo "DEMO $kind calls: $calls"
	fi
	port=$((port + 10))
done

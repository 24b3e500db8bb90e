# The demo (scripts/demo), in a VM pair: Debian's ib_write_bw from the
# client VM into the server VM, first into a pinned memory region, then
# into an ODP one (--odp), with the server's rxe0 in the IOMMU-translated
# ODP mode: each page the client's writes reach is faulted in and linked
# into the IOVA the MR holds (dma_iova_link) on first touch. The server
# prints, for each run, rxe0's ODP counters before and after and the calls
# of dma_iova_link/dma_iova_unlink during it ("DEMO" lines), and the ODP
# MR's own state as the rdma tool shows it (kernel patch 0023), sampled
# while ib_write_bw runs; the client prints the figures (perftest.sh's
# "RESULT" lines). scripts/demo puts them side by side.
#
# usage: demo.sh [PERFTEST OPTIONS...]   (default -n 100)
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || set -- -n 100
if [ "$VM_ROLE" = server ]; then
	rxe_odp_mode iommu
fi
# Every 0.2 s, the last MR of an ib_write_bw process with ODP state in
# "rdma -j -dd resource show mr" goes to /run/demo-mr: what the MR mapped
# just before ib_write_bw deregistered it.
sample_odp_mr() {
	local now
	: >/run/demo-mr
	while :; do
		now=$(rdma -j -dd resource show mr 2>/dev/null |
			grep -o '{[^}]*"comm":"ib_write_bw"[^}]*"drv_odp_pages_mapped"[^}]*}' |
			tail -n 1) || true
		[ -z "$now" ] || echo "$now" >/run/demo-mr
		sleep 0.2
	done
}

# args: the field of /run/demo-mr (mrlen, drv_odp_pages_mapped, ...)
odp_mr_field() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" /run/demo-mr
}

port=18900
for kind in pinned odp; do
	flag=()
	[ "$kind" = pinned ] || flag=(--odp)
	if [ "$VM_ROLE" != server ]; then
		PERFTEST_PORT=$port bash "$(dirname "$0")/perftest.sh" ib_write_bw "${flag[@]}" "$@"
	else
		before=$(rxe_counters odp_faults odp_invalidations)
		sample_odp_mr &
		sampler=$!
		calls=$(PERFTEST_PORT=$port count_calls dma_iova_link,dma_iova_unlink \
			bash "$(dirname "$0")/perftest.sh" ib_write_bw "${flag[@]}" "$@" | tail -n 2 | tr '\n' ' ')
		kill "$sampler"
		wait "$sampler" 2>/dev/null || true
		echo "DEMO $kind before: $before"
		echo "DEMO $kind after: $(rxe_counters odp_faults odp_invalidations)"
		echo "DEMO $kind calls: $calls"
		if [ -s /run/demo-mr ]; then
			echo "DEMO $kind mr: mrlen $(odp_mr_field mrlen)" \
				"pages_mapped $(odp_mr_field drv_odp_pages_mapped)" \
				"faults $(odp_mr_field drv_odp_faults)" \
				"bookkeeping $(odp_mr_field drv_odp_bookkeeping_bytes)" \
				"iova $(odp_mr_field drv_odp_iova_bytes)"
		fi
	fi
	port=$((port + 10))
done

# The pci_bar_dmabuf driver (kernel patches 0034-0035) and rxe's dma-buf
# MRs over BAR memory (0036-0037) on QEMU's
# ivshmem-plain, whose BAR 2 is the file p2pmem of the VM's job directory
# (tests/vm/run-vm), read here through /job as the host has it: refused bad
# exports; bytes written through an mmap of an exported range found in the
# host's file, neighbours untouched; a read-only export; the memory revoked
# (mappings fault) when the exporting file is closed, when the device is
# unbound and when it is reset; KUnit suite pci_bar_dmabuf (importers
# refused, get_phys, mappings, revocation, the bus-address path from
# virtio-net behind the same switch); rxe-odp-test dmabuf-p2p (msrxe: the
# stock provider has no ibv_reg_dmabuf_mr) in both rxe ODP modes: RDMA
# into and out of a BAR range, bytes in the host's file, revocation under
# the MR, bad registrations. The kernel's checks (KASAN, kmemleak) judge
# the rest; every step is a sub-case. KUnit suite ib_umem_dmabuf_p2p: an
# RDMA umem over the BAR as mlx5 imports it. libibverbs-ext's
# ibvx_open_bar_dmabuf(): exports and bad input.
# usage: p2p-bar.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/provider-lib.sh"

[ $# = 0 ] || fail "usage: p2p-bar.sh"
prog=$BUILD_DIR/tests/p2p/bar-dmabuf-test
odp_test=$BUILD_DIR/tests/odp/rxe-odp-test
ext_test=$BUILD_DIR/tests/ext/ibvx-test
for p in "$prog" "$odp_test" "$ext_test"; do
	[ -x "$p" ] || fail "no $p: build the project first (cmake --build build)"
done
provider_paths "$BUILD_DIR/providers"
bdf=$(ivshmem_bdf)
sysdev=/sys/bus/pci/devices/$bdf
dev=/dev/pci-bar-dmabuf/$bdf
bar=2
load_module drivers/pci/bar_dmabuf.ko

# revoke-wait exports and maps a page, then waits (a line on its stdin)
# while ACTION takes the memory away. args: what the action is, action...
revoke_while_mapped() {
	local what=$1 rc=0 fifo=/tmp/p2p-bar-go out=/tmp/p2p-bar-wait.log pid i
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	"$prog" "$dev" revoke-wait "$bar" <"$fifo" >"$out" 2>&1 &
	pid=$!
	exec 7>"$fifo"
	for ((i = 0; i < 100; i++)); do
		grep -qx exported "$out" && break
		sleep 0.1
	done
	if grep -qx exported "$out"; then
		"$@" || { echo "FAIL: $what failed"; rc=1; }
	else
		echo "FAIL: revoke-wait did not export"
		rc=1
	fi
	echo go >&7
	exec 7>&-
	wait "$pid" || rc=1
	cat "$out"
	return $rc
}

reset_device() {
	[ -e "$sysdev/reset" ] || { echo "FAIL: $bdf has no reset method"; return 1; }
	echo 1 >"$sysdev/reset"
}

# rxe-odp-test dmabuf-p2p on rxe0 made in ODP mode MODE. args: mode
rdma_through_bar() {
	rxe_odp_mode "$1"
	"$odp_test" -d rxe0 -g "$(rxe_ipv4_gid_index)" dmabuf-p2p "$bdf" /job/p2pmem
}

# Upstream perftest's --use_p2p_dmabuf (perftest-patches 0004) refuses:
# --odp, a device not bound to pci_bar_dmabuf, a buffer larger than any
# BAR (against a server in this VM on host memory). Each: exit status not
# 0 and the message.
perftest_bad_input() {
	local tool=$BUILD_DIR/perftest/src/ib_write_bw log=/tmp/p2p-perftest.log rc=0 what dev size port want
	local -a options=(-d rxe0 -x "$(rxe_ipv4_gid_index)" -n 5)
	if "$tool" "${options[@]}" --odp --use_p2p_dmabuf="$bdf" >"$log" 2>&1; then
		echo "FAIL: ib_write_bw --odp --use_p2p_dmabuf ran"
		return 1
	fi
	grep -q "cannot be used with --odp" "$log" ||
		{ cat "$log"; echo "FAIL: no message for --odp with --use_p2p_dmabuf"; return 1; }
	echo "--odp with --use_p2p_dmabuf: $(grep "cannot be used" "$log")"
	for what in unknown too-large; do
		case $what in
		unknown) dev=0000:7f:00.0 size=65536 port=18990
			want="Couldn't open /dev/pci-bar-dmabuf/0000:7f:00.0" ;;
		too-large) dev=$bdf size=16777216 port=18991
			want="No memory BAR of the device holds the buffer" ;;
		esac
		"$tool" "${options[@]}" -p "$port" -s "$size" >/dev/null 2>&1 &
		wait_listen "$port" 30
		if "$tool" "${options[@]}" -p "$port" -s "$size" --use_p2p_dmabuf="$dev" 127.0.0.1 >"$log" 2>&1; then
			echo "FAIL: ib_write_bw with $what P2P memory ran"
			rc=1
		fi
		kill %% 2>/dev/null || true
		wait || true
		grep -qF "$want" "$log" || { cat "$log"; echo "FAIL: no message for $what P2P memory"; rc=1; }
		echo "$what P2P memory: $(grep -E "Couldn't open|No memory BAR" "$log" | tail -1)"
	done
	return $rc
}

rebind_and_export() {
	bar_dmabuf_bind "$bdf" && "$prog" "$dev" revoke-close "$bar"
}

failures=()
bar_dmabuf_bind "$bdf" || fail "cannot bind $bdf"
# the importer's side, in the kernel (kernel patch 0038): sub-cases kunit.TEST
KUNIT_SUBCASE_PREFIX=kunit. kunit_run drivers/pci/bar_dmabuf_kunit.ko pci_bar_dmabuf \
	importers_refused pin_refused phys_ranges map_for_device revoke read_only classify_paths
# an RDMA umem over the BAR, as mlx5 imports it (kernel patch 0040):
# sub-cases kunit_umem.TEST
KUNIT_SUBCASE_PREFIX=kunit_umem. kunit_run drivers/infiniband/core/umem_dmabuf_kunit.ko \
	ib_umem_dmabuf_p2p maps_umem_pages unreachable_device revoked_by_exporter \
	read_only_export bad_ranges
run_step bad-input "$prog" "$dev" bad-input "$bar"
# two ranges: pages 3 to 7, and the last page of the 16 MiB BAR
run_step cpu "$prog" "$dev" cpu "$bar" 0x3000 0x5000 /job/p2pmem
run_step cpu.last_page "$prog" "$dev" cpu "$bar" 0xfff000 0x1000 /job/p2pmem
run_step revoke.close "$prog" "$dev" revoke-close "$bar"
# libibverbs-ext's ibvx_open_bar_dmabuf(); edu is bound to no driver,
# virtio-net to virtio-pci
run_step library "$ext_test" bar-dmabuf "$bdf" "$(edu_bdf)" "$(pci_bdf 0x1af4 0x1041)" /job/p2pmem
use_provider ours
run_step rdma.virt rdma_through_bar virt
run_step rdma.iommu rdma_through_bar iommu
run_step perftest.bad_input perftest_bad_input
run_step revoke.reset revoke_while_mapped "a reset of $bdf" reset_device
run_step revoke.unbind revoke_while_mapped "unbinding $bdf" bar_dmabuf_unbind "$bdf"
# bound again, the device exports again
run_step rebind rebind_and_export
bar_dmabuf_unbind "$bdf"
rmmod bar_dmabuf || failures+=(rmmod)
[ ${#failures[@]} = 0 ] || fail "failed: ${failures[*]}"
echo "p2p-bar: all passed"

# RDMA between two VMs into P2P memory: upstream perftest's ib_write_bw
# (perftest-patches 0004, --use_p2p_dmabuf) in the client VM writes a
# known pattern (--payload_file_path) into a buffer of the server VM that
# is 64 KiB of ivshmem's BAR 2, exported by pci_bar_dmabuf and registered
# as a dma-buf MR on rxe0 (kernel patches 0030-0037; msrxe in both VMs).
# The server then finds the pattern in /job/p2pmem, the BAR's backing file
# as the host has it, where perftest had put random bytes: perftest's
# buffer is twice the message size, and peers write into its second half.
#
# perftest may fail only to report (clock calibration on a busy host, see
# perftest.sh); that is reported and accepted, the bytes are what counts.
# usage: p2p-pair.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/provider-lib.sh"

[ $# = 0 ] || fail "usage: p2p-pair.sh"
[ -n "${PEER_IP:-}" ] || fail "p2p-pair.sh runs in a VM pair (run-vm --pair)"
provider_paths "$BUILD_DIR/providers"
use_provider ours
use_upstream_perftest
size=65536 iters=200 port=18900
options=(-d rxe0 -x "$(rxe_ipv4_gid_index)" -p "$port" -s "$size" -n "$iters")
log=/job/p2p-pair-ib_write_bw.log

if [ "$VM_ROLE" = server ]; then
	bdf=$(ivshmem_bdf)
	load_module drivers/pci/bar_dmabuf.ko
	bar_dmabuf_bind "$bdf" || fail "cannot bind $bdf"
	rc=0
	timeout 900 ib_write_bw "${options[@]}" --use_p2p_dmabuf="$bdf" >"$log" 2>&1 || rc=$?
	cat "$log"
	grep -q "^P2P buffer: .* BAR 2 at offset 0 of " "$log" || fail "the server's buffer was not in BAR 2 of $bdf"
	[ "$rc" = 0 ] || calibration_failure "$log" || fail "ib_write_bw server exited $rc"
	python3 - "$size" <<'PY' || fail "the client's pattern is not in the server's BAR (above)"
import sys
size = int(sys.argv[1])
want = bytes(range(64)) * (size // 64)
with open("/job/p2pmem", "rb") as f:
    f.seek(size)
    got = f.read(size)
bad = [i for i in range(size) if got[i] != want[i]]
if bad:
    print(f"{len(bad)} of {size} bytes differ, the first at {bad[0]}: {got[bad[0]]:#x}, want {want[bad[0]]:#x}")
    sys.exit(1)
print(f"the BAR's backing file holds the client's pattern in all {size} bytes at {size}")
PY
	echo "p2p-pair: server passed"
	exit 0
fi

# 64 bytes 00 01 .. 3f, as little-endian DWORDs
payload=/tmp/p2p-payload.txt
python3 -c 'print(",".join("0x%02x%02x%02x%02x" % (i + 3, i + 2, i + 1, i) for i in range(0, 64, 4)))' >"$payload"
rc=1
for ((i = 0; i < 60; i++)); do
	rc=0
	ib_write_bw "${options[@]}" --payload_file_path="$payload" "$PEER_IP" >"$log" 2>&1 || rc=$?
	if [ "$rc" = 0 ] || ! grep -q "Couldn't connect" "$log"; then
		break
	fi
	sleep 1
done
cat "$log"
if [ "$rc" != 0 ]; then
	calibration_failure "$log" || fail "ib_write_bw client exited $rc"
	echo "ib_write_bw could not report its figure (clock calibration); the data moved"
else
	awk '$1 == '"$size"' { print "RESULT ib_write_bw into the server VM'"'"'s BAR: " $4 " MiB/s" }' "$log"
fi
echo "p2p-pair: client passed"

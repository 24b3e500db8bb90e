# RDMA WRITE bandwidth into P2P memory against system memory, in one VM:
# upstream perftest's ib_write_bw over rxe0 (loopback), the server's
# buffer in ivshmem's BAR 2 exported by pci_bar_dmabuf (--use_p2p_dmabuf,
# perftest-patches 0004; a dma-buf MR reached through a kernel mapping of
# the BAR, kernel patch 0037) or in system memory (a pinned MR), the client
# on system memory; msrxe. Prints the figures and the ratio P2P/system;
# asserts nothing about them.
#
# usage: p2p-bench.sh [--quick] [ROUNDS]
#   ROUNDS (default 1): this many rounds of one system-memory and one P2P
#   run, the first of each round alternating; the figures are the
#   medians. --quick: one round of 20 iterations, for the test suite on
#   the test kernel (a broken benchmark fails; its figures mean nothing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/provider-lib.sh"

quick=
[ "${1:-}" != --quick ] || { quick=yes; shift; }
[ $# -le 1 ] || fail "usage: p2p-bench.sh [--quick] [ROUNDS]"
rounds=${1:-1}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS wants a number, not '$rounds'"
iters=$([ -n "$quick" ] && echo 20 || echo 500)
size=65536
provider_paths "$BUILD_DIR/providers"
use_provider ours >/dev/null
use_upstream_perftest
bdf=$(ivshmem_bdf)
load_module drivers/pci/bar_dmabuf.ko
bar_dmabuf_bind "$bdf" || fail "cannot bind $bdf"
# as booted again for the next case of a shared boot
trap 'bar_dmabuf_unbind "$bdf"; rmmod bar_dmabuf' EXIT
options=(-d rxe0 -x "$(rxe_ipv4_gid_index)" -s "$size" -n "$iters")

logs=/run/p2p-bench
mkdir -p "$logs"
port=18600
# The client's bandwidth in MiB/s (its size row, 4th column), or nothing
bw() {
	awk -v s="$size" '$1 == s && $4 ~ /^[0-9.]+$/ { print $4 }' "$1"
}

# One run, the server's buffer in MEMORY (system | p2p). args: memory, log
write_bw_once() {
	local -a server_mem=()
	local server rc=1 i
	[ "$1" = system ] || server_mem=(--use_p2p_dmabuf="$bdf")
	port=$((port + 1))
	ib_write_bw "${options[@]}" -p "$port" "${server_mem[@]}" >"$2.server" 2>&1 &
	server=$!
	wait_listen "$port" 30
	for ((i = 0; i < 3; i++)); do
		ib_write_bw "${options[@]}" -p "$port" 127.0.0.1 >"$2" 2>&1 && { rc=0; break; }
		grep -q "Couldn't connect" "$2" || break
		sleep 1
	done
	wait "$server" || { cat "$2.server"; return 1; }
	return "$rc"
}

# write_bw_once, again when perftest only could not report (its clock
# calibration on a busy host, as in perftest.sh), up to 3 times
run_write_bw() {
	local attempt
	for attempt in 1 2 3; do
		write_bw_once "$1" "$2" && return 0
		calibration_failure "$2" "$2.server" || return 1
		echo "ib_write_bw could not report (attempt $attempt: clock calibration)"
	done
	return 1
}

for ((r = 1; r <= rounds; r++)); do
	for mem in $(round_order "$r" system p2p); do
		log=$logs/$mem-$r.log
		run_write_bw "$mem" "$log" || { cat "$log"; fail "ib_write_bw into $mem memory failed"; }
		[ "$mem" = system ] || grep -q "^P2P buffer: " "$log.server" ||
			fail "the P2P run's server buffer was not in the BAR"
		echo "$mem round $r: RESULT ib_write_bw MiB/s: $(bw "$log") MiB/s"
	done
done

for mem in system p2p; do
	for ((r = 1; r <= rounds; r++)); do
		f=$(bw "$logs/$mem-$r.log")
		echo "${f:--}"
	done >"$logs/$mem.figures"
done
echo "== p2p benchmark ($rounds round(s), $size-byte RDMA WRITEs, $iters iterations, loopback over rxe0)"
printf '%-12s %12s %12s %10s %19s\n' test system p2p p2p/system "95 % interval"
paired_row ib_write_bw MiB/s "$logs/system.figures" "$logs/p2p.figures"
echo "(bandwidth: higher is better; the P2P buffer is BAR memory reached through a write-combined kernel mapping)"

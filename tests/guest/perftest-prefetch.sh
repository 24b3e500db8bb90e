# Upstream perftest built with perftest-patches/ (build/perftest/src):
# --odp_prefetch (patch 0002) and the per-MR ODP statistics its tools print
# with --odp (patch 0003), over rxe0, loopback:
#   MODE.prefetch   per rxe ODP mode, with msrxe (it has ibv_advise_mr):
#                   ib_write_bw (virt) or ib_read_bw (iommu) with --odp
#                   --odp_prefetch; both sides print their MR's statistics,
#                   with at least one prefetch and no fault in the test
#   rdma-tool       an ib_write_bw --odp server held by --wait_destroy: the
#                   statistics it prints equal what "rdma -j -dd resource
#                   show mr" says of the same MR (its pid and rkey)
#   stock-provider  the stock librxe has no ibv_advise_mr: --odp_prefetch
#                   makes both sides fail, saying so
#   bad-input       --odp_prefetch without --odp, and an unknown value:
#                   refused with a message, exit status non-zero
# Every step runs; the job fails when any failed.
#
# usage: perftest-prefetch.sh PROVIDER_DIR
. "$(dirname "$0")/provider-lib.sh"

[ $# = 1 ] || fail "usage: perftest-prefetch.sh PROVIDER_DIR"
provider_paths "$1"
use_upstream_perftest
port=18800

failures=()  # run_step (lib.sh) adds the failed steps

# A prefetched ODP run, loopback: both sides report a figure (perftest.sh)
# and one statistics line each, with a prefetch and no fault in the test.
# args: tool
prefetched_run() {
	local log=/tmp/perftest-prefetch-$1.log stats n=0 line rc=0
	PERFTEST_PORT=$port run_perftest "$log" "$1" --odp --odp_prefetch -n 20 || rc=$?
	port=$((port + 1))
	cat "$log"
	[ "$rc" = 0 ] || { echo "$1 --odp --odp_prefetch failed"; return 1; }
	stats=$(perftest_odp_stats "$log")
	while read -r line; do
		[ -n "$line" ] || continue
		n=$((n + 1))
		read -r faults in_test errors _ prefetches pages _ _ <<<"$line"
		echo "statistics $n: faults $faults, in the test $in_test, fault errors $errors, prefetches $prefetches, pages mapped $pages"
		[ "$prefetches" -ge 1 ] || { echo "no prefetch counted"; return 1; }
		[ "$faults" -ge 1 ] || { echo "the prefetch mapped nothing (faults 0)"; return 1; }
		[ "$in_test" = 0 ] || { echo "$in_test faults in the test despite the prefetch"; return 1; }
		[ "$errors" = 0 ] || { echo "$errors fault errors"; return 1; }
		[ "$pages" -ge 16 ] || { echo "only $pages pages mapped (a 64 KiB message is 16)"; return 1; }
	done <<<"$stats"
	[ "$n" = 2 ] || { echo "expected a statistics line from the server and the client, found $n"; return 1; }
}

# The server's statistics against the rdma tool's, read while the server
# waits (--wait_destroy) before it prints them and deregisters: no traffic
# moves them in between.
stats_match_rdma_tool() {
	local gid slog=/tmp/rdma-tool.server.log clog=/tmp/rdma-tool.client.log pid rkey i json
	gid=$(rxe_ipv4_gid_index)
	# line-buffered: the "Waiting" line must reach the file before the wait
	stdbuf -oL ib_write_bw -d rxe0 -x "$gid" --odp -n 20 --wait_destroy 4 -p "$port" >"$slog" 2>&1 &
	pid=$!
	wait_listen "$port" 30
	port=$((port + 1))
	ib_write_bw -d rxe0 -x "$gid" --odp -n 20 -p $((port - 1)) 127.0.0.1 >"$clog" 2>&1 || {
		cat "$clog"
		echo "client failed"
		return 1
	}
	for ((i = 0; i < 100; i++)); do
		grep -q "Waiting 4 seconds" "$slog" && break
		sleep 0.1
	done
	json=$(rdma -j -dd resource show mr)
	wait "$pid" || { cat "$slog"; echo "server failed"; return 1; }
	cat "$slog"
	rkey=$(sed -n 's/^ *local address: .* RKey \(0x[0-9a-f]*\) .*/\1/p' "$slog")
	[ -n "$rkey" ] || { echo "no RKey in the server's output"; return 1; }
	# "FAULTS ... BOOKKEEPING" as perftest_odp_stats prints them, from the tool
	python3 - "$pid" "$rkey" "$(perftest_odp_stats "$slog")" "$json" <<'PY'
import json, sys
pid, rkey, printed, dump = int(sys.argv[1]), int(sys.argv[2], 16), sys.argv[3], sys.argv[4]
# iproute2 prints keys in hex without 0x
mrs = [m for m in json.loads(dump)
       if m.get("pid") == pid and int(str(m.get("rkey", "-1")), 16) == rkey]
if len(mrs) != 1:
    sys.exit(f"rdma tool: {len(mrs)} MRs of pid {pid} with rkey {rkey:#x}")
m = mrs[0]
tool = {k: m["drv_odp_" + k] for k in
        ("faults", "fault_errors", "invalidations", "prefetches", "pages_mapped", "page_size", "bookkeeping_bytes")}
f = printed.split()
if len(f) != 8:
    sys.exit(f"perftest printed no statistics line for its MR: {printed!r}")
perftest = dict(zip(("faults", "in_test", "fault_errors", "invalidations", "prefetches",
                     "pages_mapped", "page_size", "bookkeeping_bytes"), map(int, f)))
print("rdma tool:", tool)
print("perftest: ", perftest)
bad = [k for k in tool if tool[k] != perftest[k]]
if bad:
    sys.exit("differ: " + ", ".join(bad))
if tool["faults"] < 1:
    sys.exit("the server's MR took no fault: was it ODP?")
PY
}

# Both sides of a run that must fail, each with the message. args: message
# perftest options...
both_fail_with() {
	local message=$1 slog=/tmp/fail.server.log clog=/tmp/fail.client.log pid s=0 c=0 gid
	shift
	gid=$(rxe_ipv4_gid_index)
	ib_write_bw -d rxe0 -x "$gid" "$@" -p "$port" >"$slog" 2>&1 &
	pid=$!
	wait_listen "$port" 30
	timeout 60 ib_write_bw -d rxe0 -x "$gid" "$@" -p "$port" 127.0.0.1 >"$clog" 2>&1 || c=$?
	wait "$pid" || s=$?
	port=$((port + 1))
	echo "== server (exit status $s)"
	cat "$slog"
	echo "== client (exit status $c)"
	cat "$clog"
	if [ "$s" = 0 ] || [ "$c" = 0 ]; then
		echo "expected both sides to fail"
		return 1
	fi
	if ! grep -q "$message" "$slog" || ! grep -q "$message" "$clog"; then
		echo "expected '$message' on both sides"
		return 1
	fi
}

# One invocation refused before it opens anything. args: message options...
refused() {
	local message=$1 out rc=0
	shift
	out=$(timeout 30 ib_write_bw -d rxe0 "$@" 2>&1) || rc=$?
	echo "ib_write_bw $*: exit status $rc: $out"
	[ "$rc" != 0 ] || { echo "accepted"; return 1; }
	grep -q -- "$message" <<<"$out" || { echo "expected '$message'"; return 1; }
}

bad_input() {
	refused "it needs --odp" --odp_prefetch &&
		refused "Invalid --odp_prefetch value 'sometimes'" --odp --odp_prefetch=sometimes
}

use_provider ours
rxe_odp_mode virt
run_step virt.prefetch prefetched_run ib_write_bw
rxe_odp_mode iommu
run_step iommu.prefetch prefetched_run ib_read_bw
run_step rdma-tool stats_match_rdma_tool
run_step bad-input bad_input
use_provider stock
run_step stock-provider both_fail_with "ibv_advise_mr() is not supported on rxe0" --odp --odp_prefetch -n 20

[ ${#failures[@]} = 0 ] || fail "perftest-prefetch: failed: ${failures[*]}"
echo "perftest-prefetch: PASS: prefetched runs without faults (virt, iommu), statistics equal the rdma tool's, bad input and the stock provider refused"

# MPI over rxe0 between the two VMs of a pair, one rank in each, with
# Debian's Open MPI 4.1 over UCX 1.13, every registration an implicit ODP
# MR (UCX_IB_REG_METHODS=odp: one MR over the whole address space, kernel
# patch 0029) and, as the reference, UCX's default registration cache
# (pinned MRs). The client VM runs mpirun; Open MPI starts its daemon in
# the server VM through tests/mpi/rsh-agent, which the server serves
# (tests/mpi/rsh-serve) until the client is done; the client also reads
# the server's counters and runs the server side of ucx_perftest through
# it. Sub-cases (reported by both VMs, the client's verdicts):
#   transports       ucx_info -d lists rc_verbs and ud_verbs on rxe0:1
#   exchange.odp     tests/mpi/mpi-exchange (send/recv, put/get and
#   exchange.pinned  allreduce, 1 MiB, two rounds, every byte checked); with ODP
#                    rxe0's odp_faults rise in both VMs and
#                    odp_fault_errors do not, pinned they do not move
#   perftest.odp     ucx_perftest ucp_put_bw and ucp_get, 1 MiB messages:
#   perftest.pinned  both sides exit 0, a bandwidth above 0; faults as
#                    above; the ODP/pinned ratios are printed
#   no-implicit      on a device without implicit ODP
#                    (tests/mpi/hide-implicit-odp.so) UCX refuses ODP
#                    registration with its own message and the job fails
# With --hpcc, hpcc.odp and hpcc.pinned too: Debian's hpcc with a small
# input (N 500, a 1x2 process grid) must pass its own checks (HPL
# residual, PTRANS, MPI RandomAccess errors 0, Success=1), faults as
# above. Not in scripts/test: between two TCG VMs its latency-bandwidth
# section alone takes over 15 minutes (kernel/README.md, "MPI over UCX").
#
# UCX settings (ucx_env in lib.sh), and why:
#   UCX_TLS=rc_verbs,ud_verbs,self, UCX_NET_DEVICES=rxe0:1: RDMA only, no
#     TCP or shared-memory fallback that would hide a failure of rxe0
#   UCX_UD_ETH_DGID_CHECK=n: UCX 1.11-1.18 check a UD packet's GID by the
#     work completion's sl, which only Mellanox devices fill, and drop
#     every packet over an IPv4 RoCE v2 GID (rxe0's); its endpoints then
#     time out ("unhandled timeout error")
#   UCX_RC_TIMEOUT=10s (UCX's default: 1 s): between two TCG VMs rxe's
#     responder, sharing its one vCPU with a busy-polling rank, may answer
#     later than 1 s; the requester then sends an RDMA READ again, and when
#     the application freed the memory after the first answer completed
#     the READ, the responder faults on unmapped ODP memory, NAKs with a
#     remote access error and its QP goes to the error state, as a device
#     would (pinned memory hides it: freed pages stay in the MR)
#   LD_PRELOAD=ucx-keep-ib-md.so: UCX 1.13 crashes in its own cleanup when
#     it closes a memory domain that holds an implicit ODP MR
#     (tests/mpi/ucx-keep-ib-md.c)
#
# usage: mpi.sh [--hpcc] [MODE]   rxe ODP mode, virt (default) or iommu
. "$(dirname "$0")/lib.sh"

hpcc=
[ "${1:-}" != --hpcc ] || { hpcc=yes; shift; }
[ $# -le 1 ] || fail "usage: mpi.sh [--hpcc] [MODE]"
[ -n "${PEER_IP:-}" ] || fail "mpi.sh runs in a VM pair (run-vm --pair)"
for tool in mpirun hpcc ucx_info ucx_perftest; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps)"
done
mode=${1:-virt}
rxe_odp_mode "$mode"
mpi_dir=$PROJECT_DIR/tests/mpi
ucx_env odp >/dev/null
rsh_port=7400
done_file=/tmp/mpi-done verdicts=/tmp/mpi-verdicts
subcases=(transports exchange.odp exchange.pinned perftest.odp perftest.pinned no-implicit)
[ -z "$hpcc" ] || subcases+=(hpcc.odp hpcc.pinned)
exchange=$BUILD_DIR/tests/mpi/mpi-exchange
hide_implicit=$BUILD_DIR/tests/mpi/hide-implicit-odp.so
{ [ -x "$exchange" ] && [ -f "$hide_implicit" ]; } ||
	fail "no $exchange or $hide_implicit: build the project first (cmake --build build)"

if [ "$VM_ROLE" = server ]; then
	rm -f "$done_file" "$verdicts"
	busybox nc -ll -p "$rsh_port" -e "$mpi_dir/rsh-serve" &
	nc_pid=$!
	# the client's last call writes its verdicts, then the done file; the
	# case's time limit (tests/CMakeLists.txt) ends a client that hangs
	while [ ! -e "$done_file" ] && [ "$SECONDS" -lt 1150 ]; do
		sleep 1
	done
	kill "$nc_pid"
	[ -e "$done_file" ] || fail "the client did not finish within 1150 s"
	failed=0
	for name in "${subcases[@]}"; do
		verdict=$(tr ' ' '\n' <"$verdicts" | awk -F= -v n="$name" '$1 == n { print $2 }')
		report_subcase "$name" "${verdict:-1}" "$([ "${verdict:-1}" = 0 ] || echo "failed in the client VM")"
		[ "${verdict:-1}" = 0 ] || failed=1
	done
	exit "$failed"
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 RSH_PORT=$rsh_port
rsh() {
	"$mpi_dir/rsh-agent" "$PEER_IP" "$@"
}
for ((i = 0; i < 150; i++)); do
	rsh true 2>/dev/null && break
	sleep 0.2
done
rsh true || fail "the server VM's remote shell does not answer"

# rxe0's ODP fault counters here and in the server VM: "FAULTS ERRORS"
# for each, on one line.
counters=/sys/class/infiniband/rxe0/ports/1/hw_counters
fault_counters() {
	sleep 0.02
	echo "$(cat $counters/odp_faults) $(cat $counters/odp_fault_errors)" \
		"$(rsh "sleep 0.02; cat $counters/odp_faults $counters/odp_fault_errors" | tr '\n' ' ')"
}

# rxe0's counters that are not 0, here and in the server VM (one line
# each): what a failed MPI job left behind (retries, sequence errors, ...).
nonzero_counters() {
	# shellcheck disable=SC2016 # expanded by the sh that runs it, in each VM
	local cmd='for f in /sys/class/infiniband/rxe0/ports/1/hw_counters/*; do v=$(cat $f); [ "$v" = 0 ] || printf "%s=%s " ${f##*/} $v; done; echo'
	echo "rxe0 counters, client: $(sh -c "$cmd")"
	echo "rxe0 counters, server: $(rsh "$cmd")"
}

# Check the fault counters moved as the registration says: with ODP faults
# rose and fault errors did not, in both VMs; pinned nothing moved.
# args: registration (odp | rcache), counters before, after
check_faults() {
	local -a b a
	read -r -a b <<<"$2"
	read -r -a a <<<"$3"
	echo "odp_faults client $((a[0] - b[0])) server $((a[2] - b[2])), odp_fault_errors client $((a[1] - b[1])) server $((a[3] - b[3]))"
	if [ "${a[1]}" != "${b[1]}" ] || [ "${a[3]}" != "${b[3]}" ]; then
		echo "FAIL: ODP faults failed"
		return 1
	fi
	if [ "$1" = odp ] && { [ "${a[0]}" = "${b[0]}" ] || [ "${a[2]}" = "${b[2]}" ]; }; then
		echo "FAIL: no ODP fault in one of the VMs: the memory was not ODP"
		return 1
	fi
	if [ "$1" != odp ] && { [ "${a[0]}" != "${b[0]}" ] || [ "${a[2]}" != "${b[2]}" ]; }; then
		echo "FAIL: ODP faults with pinned registration"
		return 1
	fi
}

check_transports() {
	local info
	info=$(ucx_info -d) || return 1
	for tl in rc_verbs ud_verbs; do
		grep -A1 "Transport: $tl\$" <<<"$info" | grep -q "Device: rxe0:1" ||
			{ echo "FAIL: ucx_info -d lists no $tl on rxe0:1"; return 1; }
		echo "$tl on rxe0:1"
	done
}

# mpirun of one rank here and one in the server VM, in DIR (made in both)
# with registration REG; output in LOG. args: reg, dir, log, program...
mpirun_pair() {
	local reg=$1 dir=$2 log=$3 e
	local -a env_args=()
	shift 3
	for e in $(ucx_env "$reg"); do
		env_args+=(-x "$e")
	done
	mkdir -p "$dir"
	rsh "mkdir -p $dir"
	mpirun -np 2 --host "$VM_IP,$PEER_IP" --wdir "$dir" \
		--mca plm_rsh_agent "$mpi_dir/rsh-agent" --mca plm_rsh_no_tree_spawn 1 \
		--mca oob_tcp_if_include eth0 --mca btl_tcp_if_include eth0 \
		--mca pml ucx --mca osc ucx --mca btl ^openib,uct \
		"${env_args[@]}" "$@" >"$log" 2>&1
}

# mpi-exchange over both VMs. args: registration (odp | rcache)
run_exchange() {
	local reg=$1 before after rc=0 log=/job/mpi-exchange-$1.log
	before=$(fault_counters)
	mpirun_pair "$reg" /tmp/mpi-exchange "$log" "$exchange" 1 2 || rc=$?
	after=$(fault_counters)
	cat "$log"
	if [ "$rc" != 0 ]; then
		nonzero_counters
		echo "FAIL: mpirun mpi-exchange exited $rc"
		return 1
	fi
	[ "$(grep -c 'every byte matched; allreduce .* as expected$' "$log")" = 2 ] ||
		{ echo "FAIL: mpi-exchange did not report both rounds"; return 1; }
	check_faults "$reg" "$before" "$after"
}

# hpcc over both VMs with a small input (N 500, a 1x2 process grid),
# generated from the example Debian ships; its output file is checked.
# args: registration (odp | rcache)
run_hpcc() {
	local reg=$1 dir=/tmp/mpi-hpcc-$1 before after summary rc=0
	mkdir -p "$dir"
	sed -e '6s/^[0-9]* /500 /' -e '8s/^[0-9]* /80 /' -e '11s/^[0-9]* /1 /' -e '12s/^[0-9]* /2 /' \
		/usr/share/doc/hpcc/examples/_hpccinf.txt >"$dir/hpccinf.txt"
	before=$(fault_counters)
	mpirun_pair "$reg" "$dir" "/job/mpi-hpcc-$reg.log" hpcc || rc=$?
	after=$(fault_counters)
	cat "/job/mpi-hpcc-$reg.log"
	[ -f "$dir/hpccoutf.txt" ] && cp "$dir/hpccoutf.txt" "/job/mpi-hpccoutf-$reg.txt"
	if [ "$rc" != 0 ]; then
		nonzero_counters
		echo "FAIL: mpirun hpcc exited $rc"
		return 1
	fi
	summary=$(sed -n '/Begin of Summary section/,/End of Summary section/p' "$dir/hpccoutf.txt")
	grep -E '^(Success|CommWorldProcs|HPL_Tflops|PTRANS_GBs|MPIRandomAccess_Errors|MPIRandomAccess_GUPs)=' <<<"$summary"
	for want in Success=1 CommWorldProcs=2 MPIRandomAccess_Errors=0 MPIRandomAccess_LCG_Errors=0; do
		grep -qx "$want" <<<"$summary" || { echo "FAIL: hpcc's summary lacks $want"; return 1; }
	done
	grep -q 'PASSED$' <(grep -F '||Ax-b||' "$dir/hpccoutf.txt") ||
		{ echo "FAIL: HPL's residual check did not pass"; return 1; }
	grep -q ' 0 tests completed and failed residual checks' <(sed -n '/Begin of PTRANS/,/End of PTRANS/p' "$dir/hpccoutf.txt") ||
		{ echo "FAIL: a PTRANS residual check failed"; return 1; }
	check_faults "$reg" "$before" "$after"
}

# On a device without implicit ODP, UCX asked for ODP registration must
# refuse with its own message: a loopback ucx_perftest in this VM.
run_no_implicit() {
	local log=/job/mpi-no-implicit.log rc=0
	local -a env
	read -r -a env <<<"$(ucx_env odp)"
	env "${env[@]}" LD_PRELOAD="$hide_implicit" ucx_perftest -p 13500 >"$log.server" 2>&1 &
	sleep 1
	env "${env[@]}" LD_PRELOAD="$hide_implicit" timeout 60 ucx_perftest 127.0.0.1 -p 13500 \
		-t ucp_put_bw -s 65536 -n 5 >"$log" 2>&1 || rc=$?
	kill %% 2>/dev/null || true
	wait || true
	cat "$log"
	[ "$rc" != 0 ] || { echo "FAIL: ucx_perftest ran without implicit ODP"; return 1; }
	grep -q "hide-implicit-odp:" "$log" "$log.server" &&
		{ echo "FAIL: hide-implicit-odp.so did not work (above)"; return 1; }
	grep -q "transports 'rc_verbs','ud_verbs' are not available" "$log" ||
		{ echo "FAIL: no message from UCX that its transports are not available"; return 1; }
}

# ucx_perftest between the VMs (server side in the server VM, through the
# remote shell); prints "TEST MB/s" for each test. args: registration
perftest_figures=()
run_ucx_perftest() {
	local reg=$1 test port=13337 log figure before after rc
	local -a env
	read -r -a env <<<"$(ucx_env "$reg")"
	before=$(fault_counters)
	for test in ucp_put_bw ucp_get; do
		port=$((port + 1))
		log=/job/mpi-ucx-perftest-$test-$reg.log
		rsh "env ${env[*]} ucx_perftest -p $port" >"$log.server" 2>&1 &
		rc=1
		for ((i = 0; i < 50; i++)); do
			env "${env[@]}" ucx_perftest "$PEER_IP" -p "$port" -t "$test" -s 1048576 -n 5 >"$log" 2>&1 && { rc=0; break; }
			grep -q "Connection refused" "$log" || break
			sleep 0.2
		done
		wait $! || { cat "$log.server"; echo "FAIL: the server side of ucx_perftest $test failed"; return 1; }
		cat "$log"
		[ "$rc" = 0 ] || { echo "FAIL: ucx_perftest $test exited non-zero"; return 1; }
		figure=$(ucx_perftest_bw "$log")
		awk -v f="${figure:-0}" 'BEGIN { exit !(f > 0) }' ||
			{ echo "FAIL: ucx_perftest $test reported no bandwidth"; return 1; }
		perftest_figures+=("$test $reg $figure")
	done
	after=$(fault_counters)
	check_faults "$reg" "$before" "$after"
}

failures=()
run_step transports check_transports
run_step exchange.odp run_exchange odp
run_step exchange.pinned run_exchange rcache
run_step perftest.odp run_ucx_perftest odp
run_step perftest.pinned run_ucx_perftest rcache
run_step no-implicit run_no_implicit
if [ -n "$hpcc" ]; then
	run_step hpcc.odp run_hpcc odp
	run_step hpcc.pinned run_hpcc rcache
fi
for t in ucp_put_bw ucp_get; do
	odp=$(printf '%s\n' "${perftest_figures[@]}" | awk -v t="$t" '$1 == t && $2 == "odp" { print $3 }')
	pinned=$(printf '%s\n' "${perftest_figures[@]}" | awk -v t="$t" '$1 == t && $2 == "rcache" { print $3 }')
	[ -n "$odp" ] && [ -n "$pinned" ] &&
		awk -v t="$t" -v o="$odp" -v p="$pinned" 'BEGIN { printf "ucx_perftest %s between the VMs, 1 MiB: ODP %s MB/s, pinned %s MB/s, ratio %.2f\n", t, o, p, o / p }'
done

# the verdicts, "NAME=STATUS ..." on one line (rsh-serve reads one)
verdict_line=''
for name in "${subcases[@]}"; do
	status=0
	for f in "${failures[@]}"; do
		[ "$f" != "$name" ] || status=1
	done
	verdict_line+="$name=$status "
done
rsh "echo '$verdict_line' >$verdicts && touch $done_file" ||
	fail "could not hand the verdicts to the server VM"
[ ${#failures[@]} = 0 ] || fail "failed: ${failures[*]}"
echo "mpi: all passed"

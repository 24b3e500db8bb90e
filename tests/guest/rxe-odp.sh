# Functional tests of ODP and dma-buf memory regions on rxe0 (kernel patches
# 0014-0020):
# tests/odp/rxe-odp-test, every subcommand in each rxe ODP mode (virt, then
# iommu: rxe_odp_mode in lib.sh), in one boot.
#
#   stock provider (librxe):  traffic, races, readonly, implicit, then
#                             bad-input, which
#                             must exit 77: its checks pass and advise_mr is
#                             refused (EOPNOTSUPP), so its advise checks do
#                             not run there
#   msrxe (use_provider ours): bad-input, prefetch --repeat REPEAT,
#                             dmabuf and prefetch-teardown (the stock provider has neither
#                             ibv_advise_mr nor ibv_reg_dmabuf_mr), which
#                             must exit 0 (77 = advise_mr checks not run =
#                             failure); then rxe0 is deleted while
#                             prefetch-hold's prefetch runs
#
# Every step runs, even after a failure; the job fails when any step did
# not exit as required. Each step's output lands in the job directory
# (rxe-odp-MODE-PROVIDER-STEP.log) and is shown here.
#
# usage: rxe-odp.sh [PROVIDER_DIR [MODE[,MODE...] [REPEAT]]]
#   PROVIDER_DIR  the providers build directory (default $BUILD_DIR/providers)
#   MODE          virt, iommu (default virt,iommu)
#   REPEAT        runs of the async prefetch + RC traffic test (default 50)
. "$(dirname "$0")/provider-lib.sh"

[ $# -le 3 ] || fail "usage: rxe-odp.sh [PROVIDER_DIR [MODE[,MODE...] [REPEAT]]]"
provider_paths "${1:-$BUILD_DIR/providers}"
IFS=, read -r -a modes <<<"${2:-virt,iommu}"
repeat=${3:-50}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || fail "REPEAT wants a number above 0, not '$repeat'"
prog=$BUILD_DIR/tests/odp/rxe-odp-test
[ -x "$prog" ] || fail "no $prog: build the project first (cmake --build build)"
# what rxe-odp-test exits with when the provider has no advise_mr
no_advise=77

failures=()
results=()
# Run one subcommand and require an exit status.
# args: mode, expected status, subcommand and its arguments
step() {
	local mode=$1 want=$2 tag log start why rc=0
	shift 2
	tag="$mode-$PROVIDER_NAME-$1"
	log=/job/rxe-odp-$tag.log
	start=$SECONDS
	echo "==== $tag: rxe-odp-test -g $gid $* (must exit $want)"
	"$prog" -d rxe0 -g "$gid" "$@" >"$log" 2>&1 || rc=$?
	cat "$log"
	echo "==== $tag: exit status $rc after $((SECONDS - start)) s"
	if [ "$rc" = "$want" ]; then
		report_subcase "$mode.$PROVIDER_NAME.$1" 0
		if [ "$want" = "$no_advise" ]; then
			results+=("PASS $tag ($((SECONDS - start)) s; exit $no_advise as required: its checks passed, advise_mr refused by $PROVIDER_NAME; the advise_mr checks run with msrxe)")
		else
			results+=("PASS $tag ($((SECONDS - start)) s)")
		fi
		return 0
	fi
	case $rc in
	"$no_advise") why="advise_mr checks did not run (provider without advise_mr): counted as a failure" ;;
	2) why="bad usage" ;;
	*) why="exit status $rc, expected $want" ;;
	esac
	report_subcase "$mode.$PROVIDER_NAME.$1" 1 "$why"
	results+=("FAIL $tag: $why")
	failures+=("$tag: $why")
}

# Delete rxe0 while a process's asynchronous prefetch of 1 GiB runs
# (rxe-odp-test prefetch-hold): the removal waits for the process, which is
# killed, and its MR is torn down with the prefetch in flight. The kernel
# log of the case must stay clean; rxe0 is made again in the same mode.
# args: mode
prefetch_device_removal() {
	local mode=$1 tag log pid i why='' rc=0
	tag="$mode-$PROVIDER_NAME-prefetch-device-removal"
	log=/job/rxe-odp-$tag.log
	echo "==== $tag: rxe-odp-test prefetch-hold, then rdma link delete rxe0 and kill it"
	"$prog" -d rxe0 -g "$gid" prefetch-hold >"$log" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^HOLD in flight' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^HOLD in flight' "$log"; then
		why="prefetch-hold did not report its prefetch in flight"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	else
		timeout 120 rdma link delete rxe0 &
		local del=$!
		sleep 0.5
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		wait "$del" || rc=$?
		if [ "$rc" != 0 ]; then
			why="rdma link delete rxe0 exited $rc (124: still waiting after 120 s)"
		elif [ -e /sys/class/infiniband/rxe0 ]; then
			why="rxe0 is still there after rdma link delete"
		fi
	fi
	cat "$log"
	rxe_odp_mode "$mode"
	if [ -z "$why" ]; then
		report_subcase "$mode.$PROVIDER_NAME.prefetch-device-removal" 0
		results+=("PASS $tag")
	else
		report_subcase "$mode.$PROVIDER_NAME.prefetch-device-removal" 1 "$why"
		results+=("FAIL $tag: $why")
		failures+=("$tag: $why")
	fi
}

# traffic's hugetlb case: 2 huge pages (the shared boot's reset frees them)
echo 2 >/proc/sys/vm/nr_hugepages
for mode in "${modes[@]}"; do
	echo "======== rxe0 ODP mode: $mode"
	rxe_odp_mode "$mode"
	gid=$(rxe_ipv4_gid_index)
	use_provider stock
	step "$mode" 0 traffic
	step "$mode" 0 races
	step "$mode" 0 readonly
	step "$mode" 0 implicit
	step "$mode" "$no_advise" bad-input
	use_provider ours
	step "$mode" 0 bad-input
	step "$mode" 0 prefetch --repeat "$repeat"
	step "$mode" 0 dmabuf
	step "$mode" 0 prefetch-teardown
	prefetch_device_removal "$mode"
	echo "== rxe0 counters: $(rxe_counters)"
done

echo "======== rxe-odp results"
printf '%s\n' "${results[@]}"
if [ ${#failures[@]} -gt 0 ]; then
	fail "rxe-odp: ${#failures[@]} step(s) failed: $(printf '%s; ' "${failures[@]}")"
fi
echo "rxe-odp: PASS: traffic, races, readonly (stock provider), bad-input (stock and msrxe), prefetch with $repeat async runs, dmabuf, prefetch-teardown and the device removed under a prefetch (msrxe), in modes ${modes[*]}"

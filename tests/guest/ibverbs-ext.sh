# libibverbs-ext on rxe0 with msrxe (tests/ext/ibvx-test; the library needs
# ibv_advise_mr for its prefetch, which the stock librxe lacks):
#   MODE.state     per rxe ODP mode (virt, iommu): the per-MR ODP state moves
#                  as traffic, munmap, prefetch and a failed fault script it,
#                  and "rdma -j -dd resource show mr" prints the same figures
#   bad-input      every entry point with bad input, a process per case
#   no-extension   the kernel made to answer as one without the ODP MR query
#                  (tests/ext/no-ext-shim.so): EOPNOTSUPP with its message
#   example        the installed example program prints the state before
#                  and after its RDMA WRITE
# Every step runs; the job fails when any failed.
#
# usage: ibverbs-ext.sh [PROVIDER_DIR]
. "$(dirname "$0")/provider-lib.sh"

[ $# -le 1 ] || fail "usage: ibverbs-ext.sh [PROVIDER_DIR]"
provider_paths "${1:-$BUILD_DIR/providers}"
prog=$BUILD_DIR/tests/ext/ibvx-test
shim=$BUILD_DIR/tests/ext/no-ext-shim.so
example=$BUILD_DIR/libibverbs-ext/ibvx-odp-example
for f in "$prog" "$shim" "$example"; do
	[ -e "$f" ] || fail "no $f: build the project first (cmake --build build)"
done

failures=()  # run_step (lib.sh) adds the failed steps

# The example's two state lines: nothing mapped before, 64 pages after
example_prints_state() {
	local out
	out=$("$example" -d rxe0 -g "$gid" -s 4 -w 256) || return 1
	echo "$out"
	grep -q '^before: 0 of 1024 pages mapped' <<<"$out" &&
		grep -q '^after:  64 of 1024 pages mapped' <<<"$out"
}

for mode in virt iommu; do
	rxe_odp_mode "$mode"
	gid=$(rxe_ipv4_gid_index)
	use_provider ours
	run_step "$mode.state" "$prog" -d rxe0 -g "$gid" state "$mode"
done
run_step bad-input "$prog" -d rxe0 -g "$gid" bad-input
run_step no-extension env LD_PRELOAD="$shim" "$prog" -d rxe0 -g "$gid" no-extension
run_step example example_prints_state

[ ${#failures[@]} = 0 ] || fail "ibverbs-ext: failed: ${failures[*]}"
echo "ibverbs-ext: PASS: state in modes virt and iommu (library and rdma tool agree), bad input, no extension, example"

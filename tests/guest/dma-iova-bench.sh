# The two-step IOVA benchmark: load the kernel module, run the userspace
# driver, which prints the table. Arguments go to the driver
# (dma-iova-bench [--pages N,N,...] [--modes strict,lazy]
# [--layouts scattered,contiguous]).
#
# usage: dma-iova-bench.sh [--quick] [DRIVER OPTIONS...]
#   --quick: every method in both modes and layouts once, at one region size (16
#   pages), for the test suite on the test kernel (a broken benchmark
#   fails; its figures mean nothing). Options after it still apply.
. "$(dirname "$0")/lib.sh"

bench="$BUILD_DIR/tests/bench/dma-iova-bench"
[ -x "$bench" ] || fail "no $bench: build the project first (cmake --build build)"
if [ "${1:-}" = --quick ]; then
	shift
	set -- --pages 16 "$@"
fi
load_module kernel/dma/iova_benchmark.ko
"$bench" "$@" || fail "dma-iova-bench exited with $?"
rmmod iova_benchmark

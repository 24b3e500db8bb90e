# The two-step IOVA benchmark: load the kernel module, run the userspace
# driver, which prints the table. Arguments go to the driver
# (dma-iova-bench [--pages N,N,...] [--modes strict,lazy]).
. "$(dirname "$0")/lib.sh"

bench="$BUILD_DIR/tests/bench/dma-iova-bench"
[ -x "$bench" ] || fail "no $bench: build the project first (cmake --build build)"
load_module kernel/dma/iova_benchmark.ko
"$bench" "$@" || fail "dma-iova-bench exited with $?"
rmmod iova_benchmark

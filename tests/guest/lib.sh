# Helpers for scripts that run inside the test VM (tests/vm/run-vm sets
# VM_ROLE, VM_IP, PEER_IP, PROJECT_DIR, BUILD_DIR). Sourced, not run.
# rxe_add and tcp_wait_listen return a status and never exit, whatever
# set -e says: stage 2 init (tests/vm/guest-init) sources this file for
# rxe_add and turns set -e off again.
set -euo pipefail

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The GID index of rxe0's RoCE v2 GID for this VM's IPv4 address.
rxe_ipv4_gid_index() {
	local f
	for f in /sys/class/infiniband/rxe0/ports/1/gids/*; do
		if [ "$(cat "$f")" = "$(ipv4_mapped_gid "$VM_IP")" ]; then
			basename "$f"
			return 0
		fi
	done
	fail "rxe0 has no GID for $VM_IP"
}

# The IPv4-mapped IPv6 GID of an address, as sysfs prints it.
ipv4_mapped_gid() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x\n' "$a" "$b" "$c" "$d"
}

# The median of the numbers on standard input, one per line, with a 95 %
# confidence interval for it that assumes nothing about their distribution
# (the k-th smallest and k-th largest, k from the binomial distribution):
# prints "MEDIAN LOW HIGH COUNT", LOW and HIGH "-" below 6 numbers; nothing
# when there are none. Used by the benchmarks, whose single TCG runs are
# too noisy for a mean of a few.
median_interval() {
	sort -g | awk '
		{ v[NR] = $1 }
		END {
			n = NR
			if (!n) exit
			med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			# the largest k with P(Binomial(n, 1/2) < k) <= 2.5 %
			k = 0; below = 0; p = 0.5 ^ n
			for (j = 0; j < n; j++) {
				below += p
				if (below > 0.025)
					break
				k = j + 1
				p = p * (n - j) / (j + 1)
			}
			printf "%s %s %s %d\n", med, k ? v[k] : "-", k ? v[n + 1 - k] : "-", n
		}'
}

# The median alone of the numbers on standard input (median_interval).
median() {
	median_interval | awk '{ print $1 }'
}

# The ratios B/A of paired figures, each pair from two runs next to each
# other (a slow spell of the host shows in both): "A B" lines on standard
# input, "-" for a run without a figure (that pair is left out); prints
# their median_interval.
ratio_interval() {
	awk '$1 != "-" && $2 != "-" && $1 > 0 { print $2 / $1 }' | median_interval
}

# One row of a benchmark's table of two kinds of run, A and B: the median
# figure of each (one figure a round in A_FILE and B_FILE, "-" for a round
# without one) and the median of the rounds' ratios B/A with its 95 %
# interval (ratio_interval). args: name, unit, A_FILE, B_FILE
paired_row() {
	local a b ratio low high n
	a=$(grep -v '^-' "$3" | median) b=$(grep -v '^-' "$4" | median)
	{ [ -n "$a" ] && [ -n "$b" ]; } || fail "no figure for $1"
	read -r ratio low high n < <(paste "$3" "$4" | ratio_interval) ||
		fail "no round with a $1 figure from both kinds of run"
	awk -v t="$1" -v a="$a" -v b="$b" -v u="$2" -v r="$ratio" -v l="$low" -v h="$high" -v n="$n" '
		function f(x) { return x == "-" ? x : sprintf("%.3f", x) }
		BEGIN { printf "%-12s %7.2f %-4s %7.2f %-4s %10.3f %9s..%-8s (%d rounds)\n", t, a, u, b, u, r, f(l), f(h), n }'
}

# The order of a benchmark round's two runs: "A B" in odd rounds, "B A" in
# even ones, so that an effect of going first or second cancels.
# args: round A B
round_order() {
	if [ $(($1 % 2)) = 1 ]; then echo "$2 $3"; else echo "$3 $2"; fi
}

# Wait until something listens on a local TCP port; returns 1 when nothing
# does in time. args: port seconds
tcp_wait_listen() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		ss -ltnH "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.2
	done
	return 1
}

# tcp_wait_listen, failing the test when nothing listens. args: port seconds
wait_listen() {
	tcp_wait_listen "$1" "$2" || fail "nothing listens on TCP port $1 after $2 s"
}

# The PCI address of the first device with this vendor and device ID, or
# status 1. args: vendor, device (0x....)
pci_bdf() {
	local d
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

# The PCI address of QEMU's edu device (1234:11e8).
edu_bdf() {
	pci_bdf 0x1234 0x11e8 || fail "no edu PCI device (1234:11e8) in the guest"
}

# The PCI address of the VM's ivshmem-plain (1af4:1110), whose BAR 2 is
# the file p2pmem of the VM's job directory (tests/vm/run-vm).
ivshmem_bdf() {
	pci_bdf 0x1af4 0x1110 || fail "no ivshmem-plain PCI device (1af4:1110) in the guest"
}

# Bind a PCI function to pci_bar_dmabuf (driver_override; the module must
# be loaded) and wait up to 5 s for its /dev/pci-bar-dmabuf/ADDR; returns
# 1, with a message, when it does not come. args: PCI address
bar_dmabuf_bind() {
	local i
	echo pci_bar_dmabuf >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	for ((i = 0; i < 50; i++)); do
		[ -c "/dev/pci-bar-dmabuf/$1" ] && return 0
		sleep 0.1
	done
	echo "FAIL: no /dev/pci-bar-dmabuf/$1 after binding $1 to pci_bar_dmabuf"
	return 1
}

# Unbind a PCI function from pci_bar_dmabuf and clear its driver_override.
# args: PCI address
bar_dmabuf_unbind() {
	echo "$1" >/sys/bus/pci/drivers/pci_bar_dmabuf/unbind
	echo >"/sys/bus/pci/devices/$1/driver_override"
}

# A failed perftest run whose logs say only that it could not report: it
# calibrates its cycle counter when it reports and gives up ("Can't produce
# a report") when the (virtual) CPU was too busy for a clean fit, and its
# peer then fails the final exchange. args: log...
calibration_failure() {
	grep -qsE "Can't produce a report|Failed to exchange data between server and clients" "$@"
}

# Put the IOMMU group of edu in a domain of another type (DMA, DMA-FQ,
# identity; no driver may be bound to edu) and check that it took.
# args: type
edu_iommu_group_type() {
	local type_file
	type_file=/sys/bus/pci/devices/$(edu_bdf)/iommu_group/type
	echo "$1" >"$type_file" || fail "cannot set the IOMMU group of edu to $1"
	[ "$(cat "$type_file")" = "$1" ] ||
		fail "the IOMMU group of edu is $(cat "$type_file"), not $1"
}

# Load a module of the test kernel by its path under KERNEL_OBJ.
# args: path, then module parameters (name=value)
load_module() {
	local ko="$KERNEL_OBJ/$1"
	shift
	[ -f "$ko" ] || fail "no $ko: the test kernel was built without it (kernel/config/vm.config)"
	insmod "$ko" "$@" || fail "insmod $ko failed"
}

# Run a KUnit suite of a test module and require every listed test to pass
# (a skip fails). The suite's results are left in /tmp/kunit-SUITE.txt.
# KUNIT_PARAMS holds module parameters, if any.
# args: module path under KERNEL_OBJ, suite, then the test names
kunit_run() {
	local ko=$1 suite=$2 results="/tmp/kunit-$2.txt" t failed=
	shift 2
	# printf, not echo: the parameter would keep the newline and match nothing
	printf %s "$suite" >/sys/module/kunit/parameters/filter_glob
	# shellcheck disable=SC2086 # one word per parameter
	load_module "$ko" ${KUNIT_PARAMS:-}
	cat "/sys/kernel/debug/kunit/$suite/results" >"$results" ||
		fail "no KUnit results for suite $suite"
	rmmod "$(basename "$ko" .ko)"
	cat "$results"
	# each test is a sub-case of a shared boot (report_subcase), named
	# KUNIT_SUBCASE_PREFIX + test
	for t in "$@"; do
		if grep -qE "^[[:space:]]+ok [0-9]+ $t\$" "$results"; then
			report_subcase "${KUNIT_SUBCASE_PREFIX:-}$t" 0
		else
			report_subcase "${KUNIT_SUBCASE_PREFIX:-}$t" 1 "did not pass (a skip counts as a failure)"
			failed+=" $t"
		fi
	done
	[ -z "$failed" ] || fail "$suite: test(s)$failed did not pass (a skip counts as a failure)"
	[ "$(grep -cE '^[[:space:]]+(not )?ok [0-9]+ ' "$results")" = $# ] ||
		fail "$suite: the suite ran other tests than: $*"
	grep -qE "^ok [0-9]+ $suite\$" "$results" || fail "suite $suite did not pass"
}

# Create an rxe device on a network device and wait up to 10 s for its
# port to be ACTIVE; returns 1, with a message, when either fails.
# args: rxe device, network device
rxe_add() {
	local i
	rdma link add "$1" type rxe netdev "$2" || return 1
	for ((i = 0; i < 50; i++)); do
		grep -q ACTIVE "/sys/class/infiniband/$1/ports/1/state" 2>/dev/null && return 0
		sleep 0.2
	done
	echo "$1 port did not become ACTIVE" >&2
	return 1
}

# Re-create rxe0 with its ODP MRs in one mode (kernel patches 0014-0019):
#   virt   pages reached through the CPU (the default)
#   iommu  pages linked into IOVA of eth0's PCI device and reached by
#          translating through its IOMMU domain (rdma_rxe.odp_iommu=1)
# The mode is read when an rxe device is created, so rxe0 is made again.
# args: virt | iommu
rxe_odp_mode() {
	local param=/sys/module/rdma_rxe/parameters/odp_iommu
	[ -w "$param" ] || fail "no $param: the test kernel lacks the rxe ODP patches"
	case $1 in
	virt) echo 0 >"$param" ;;
	iommu) echo 1 >"$param" ;;
	*) fail "rxe_odp_mode: unknown mode '$1' (virt | iommu)" ;;
	esac
	rdma link del rxe0 2>/dev/null || true
	rxe_add rxe0 eth0 || fail "rxe0 not brought up in ODP mode $1 (above)"
}

# Read one of rxe0's hardware counters (odp_faults, odp_fault_errors,
# odp_invalidations, odp_prefetches, ...). The RDMA core caches counter
# values for the port's lifespan (10 ms): wait that out, so an event just
# before is seen. args: name
rxe_counter() {
	sleep 0.02
	cat "/sys/class/infiniband/rxe0/ports/1/hw_counters/$1" ||
		fail "rxe0 has no counter $1"
}

# rxe0's counters on one line, "NAME VALUE NAME VALUE ..." (rxe_counter
# each); odp_faults, odp_fault_errors, odp_invalidations and odp_prefetches
# when no name is given. args: [name...]
rxe_counters() {
	local n sep=
	[ $# -gt 0 ] || set -- odp_faults odp_fault_errors odp_invalidations odp_prefetches
	for n in "$@"; do
		printf '%s%s %s' "$sep" "$n" "$(rxe_counter "$n")"
		sep=' '
	done
	echo
}

# The 2 MiB huge pages pyverbs' huge-page tests need (tests/pyverbs/run-suite).
pyverbs_hugepages() {
	echo 64 >/proc/sys/vm/nr_hugepages
}

# Run tests/pyverbs/run-suite on rxe0 and its IPv4 RoCE GID, with the
# suite unpacked once per boot in /run (a boot's /run is new) and reused.
# args: run-suite options (--baseline, --results, ...)
run_pyverbs_suite() {
	/usr/bin/python3 "$PROJECT_DIR/tests/pyverbs/run-suite" --dev rxe0 \
		--gid "$(rxe_ipv4_gid_index)" --unpacked /run/pyverbs-suite "$@"
}

# Count the calls of kernel functions while a command runs, with kprobe
# events. Prints one "function count" line per function; fails when a
# probe cannot be placed or the command fails.
# args: function[,function...] command...
count_calls() {
	local tracefs=/sys/kernel/tracing funcs f n rc=0
	IFS=, read -r -a funcs <<<"$1"
	shift
	[ -w "$tracefs/kprobe_events" ] || mount -t tracefs nodev "$tracefs"
	for f in "${funcs[@]}"; do
		echo "p:cc_$f $f" >>"$tracefs/kprobe_events" ||
			fail "cannot place a kprobe on $f"
	done
	for f in "${funcs[@]}"; do
		echo 1 >"$tracefs/events/kprobes/cc_$f/enable"
	done
	"$@" || rc=$?
	for f in "${funcs[@]}"; do
		echo 0 >"$tracefs/events/kprobes/cc_$f/enable"
		n=$(awk '{ print $2 }' <<<"$(grep -w "cc_$f" "$tracefs/kprobe_profile")")
		echo "$f ${n:-0}"
		echo "-:cc_$f" >>"$tracefs/kprobe_events"
	done
	[ "$rc" = 0 ] || fail "command under count_calls failed ($rc): $*"
}

# The UCX settings of the MPI tests and benchmark over rxe0, as NAME=VALUE
# words for env; tests/guest/mpi.sh says why each. Registration: odp
# (every registration one implicit ODP MR) or rcache (UCX's default
# registration cache: pinned MRs). args: odp | rcache
ucx_env() {
	local keep_md=$BUILD_DIR/tests/mpi/ucx-keep-ib-md.so
	[ -f "$keep_md" ] || fail "no $keep_md: build the project first (cmake --build build)"
	echo UCX_TLS=rc_verbs,ud_verbs,self UCX_NET_DEVICES=rxe0:1 UCX_UD_ETH_DGID_CHECK=n \
		UCX_RC_TIMEOUT=10s UCX_IB_REG_METHODS="$1" LD_PRELOAD="$keep_md"
}

# The overall bandwidth in MB/s of a ucx_perftest run from its log ("Final:"
# line), or nothing. args: log
ucx_perftest_bw() {
	awk '$1 == "Final:" && $7 ~ /^[0-9.]+$/ { print $7 }' "$1"
}

# --- cases: shared boots (tests/guest/suite.sh)

# Put the guest back as it booted, between two cases of a shared boot: the
# stock provider configuration, rxe0 in its default ODP mode, no huge pages
# reserved.
guest_reset() {
	local param=/sys/module/rdma_rxe/parameters/odp_iommu
	if [ -d /run/libibverbs.d.orig ]; then
		rm -rf /etc/libibverbs.d
		cp -a /run/libibverbs.d.orig /etc/libibverbs.d
	fi
	if [ -n "${VM_RXE:-yes}" ] && { [ "$(cat "$param" 2>/dev/null)" != 0 ] ||
		[ ! -e /sys/class/infiniband/rxe0 ]; }; then
		rxe_odp_mode virt
	fi
	echo 0 >/proc/sys/vm/nr_hugepages
}

# Report one sub-case of the running case (a step of a script that checks
# several things) to the shared boot's results, as a KTAP line named
# CASE.SUBCASE; ctest has a test of that name (add_vm_suite SUBCASES).
# Does nothing outside a shared boot. args: subcase status(0 = pass) [why]
report_subcase() {
	[ -n "${CASE_NAME:-}" ] && [ -w /job/results ] || return 0
	SUBCASE_COUNT=$((${SUBCASE_COUNT:-0} + 1))
	printf '    %sok %d %s.%s%s\n' "$([ "$2" = 0 ] || echo 'not ')" "$SUBCASE_COUNT" \
		"$CASE_NAME" "$1" "${3:+ # $3}" >>/job/results
}

# Run one step of a case that checks several things and go on whatever it
# gives: its exit status and time, and its sub-case line (report_subcase);
# a failed step's name is added to the caller's array failures.
# args: subcase name, command...
run_step() {
	local name=$1 rc=0 start=$SECONDS
	shift
	echo "==== $name: $*"
	"$@" || rc=$?
	echo "==== $name: exit status $rc after $((SECONDS - start)) s"
	if [ "$rc" = 0 ]; then
		report_subcase "$name" 0
	else
		report_subcase "$name" 1 "exit status $rc"
		failures+=("$name")
	fi
}

# The per-MR ODP statistics lines upstream perftest prints with --odp
# (perftest-patches 0003: " ODP MR #1: faults ..."), one line per MR as
# "FAULTS IN_TEST FAULT_ERRORS INVALIDATIONS PREFETCHES PAGES PAGE_SIZE
# BOOKKEEPING". args: perftest output
perftest_odp_stats() {
	sed -n 's/^ ODP MR #[0-9]*: faults \([0-9]*\) (in the test \([0-9]*\)), fault errors \([0-9]*\), invalidations \([0-9]*\), prefetches \([0-9]*\), pages mapped \([0-9]*\), page size \([0-9]*\), bookkeeping \([0-9]*\) bytes$/\1 \2 \3 \4 \5 \6 \7 \8/p' "$1"
}

# Put upstream perftest built with perftest-patches/ first in PATH, for
# the scripts (perftest.sh) that run the tools by name.
use_upstream_perftest() {
	local dir=$BUILD_DIR/perftest/src
	[ -x "$dir/ib_write_bw" ] || fail "no $dir/ib_write_bw: build the project first (cmake --build build)"
	export PATH=$dir:$PATH
}

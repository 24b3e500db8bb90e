# Debian's perftest tools with --odp (every MR On-Demand Paging) over rxe0,
# in each rxe ODP mode (virt, iommu: rxe_odp_mode in lib.sh) in one boot,
# loopback or in a VM pair. perftest.sh runs each tool and checks it (both
# sides exit 0, the client reports a figure above 0); each tool, in each
# mode, gets a TCP port of its own. A tool must also raise rxe0's odp_faults
# counter in this VM: the proof that perftest's MRs were ODP MRs.
#
# Debian 12's perftest (4.5+0.17) refuses ATOMIC with --odp in its own
# option checks, before it opens a device ("ODP does not support ATOMICS
# for now"); upstream perftest dropped that check in 23.04. Its source is
# not in the archive we reach, so it cannot be patched: a tool it refuses
# so runs without --odp, with every MR it registers made ODP by the
# LD_PRELOAD library tests/odp/force-odp.c, and the same checks (odp_faults
# must rise). Its result line says "RESULT-ODP-FORCED".
#
# usage: perftest-odp.sh MODE[,MODE...] TOOL[,TOOL...] [PERFTEST OPTIONS...]
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || fail "usage: perftest-odp.sh MODE[,MODE...] TOOL[,TOOL...] [OPTIONS...]"
IFS=, read -r -a modes <<<"$1"
IFS=, read -r -a tools <<<"$2"
shift 2

# Run perftest.sh for one tool (it repeats a run that could not report).
# args: log tool port force perftest options... (force: yes = ODP through
# force-odp.so instead of --odp)
run_odp_tool() {
	local log=$1 tool=$2 port=$3 force=$4 odp=(--odp) preload=
	shift 4
	if [ "$force" = yes ]; then
		odp=()
		preload=$force_odp_lib
	fi
	PERFTEST_PORT=$port PERFTEST_PRELOAD=$preload \
		bash "$(dirname "$0")/perftest.sh" "$tool" "${odp[@]}" "$@" >"$log" 2>&1
}

# Prints perftest's message when it refuses --odp for a tool in its option
# checks, nothing otherwise: a client aimed at a port where nothing listens
# gets past them to its connect. args: tool
odp_refusal() {
	{ timeout 30 "$1" -d rxe0 --odp -p 9 127.0.0.1 2>&1 || true; } |
		sed -n 's/^ *\(ODP does not support.*\)/\1/p'
}

force_odp_lib=$BUILD_DIR/tests/odp/force-odp.so
# force-odp.so names each registration it made ODP in the tool's output
export FORCE_ODP_VERBOSE=1
port=18600
results=()
for mode in "${modes[@]}"; do
	echo "======== rxe0 ODP mode: $mode"
	rxe_odp_mode "$mode"
	for tool in "${tools[@]}"; do
		refusal=$(odp_refusal "$tool")
		force=no how=--odp tag=RESULT-ODP
		if [ -n "$refusal" ]; then
			[ -f "$force_odp_lib" ] || fail "no $force_odp_lib: build the project first"
			force=yes how="ODP MRs forced by force-odp.so" tag=RESULT-ODP-FORCED
			echo "==== $tool: perftest $(dpkg-query -W -f '${Version}' perftest) refuses --odp for it" \
				"(\"$refusal\"): run without --odp, every MR made ODP by $force_odp_lib (LD_PRELOAD)"
		fi
		log=/tmp/perftest-odp-$mode-$tool.log
		faults=$(rxe_counter odp_faults)
		errors=$(rxe_counter odp_fault_errors)
		status=0
		run_odp_tool "$log" "$tool" "$port" "$force" "$@" || status=$?
		cat "$log"
		[ "$status" = 0 ] || fail "$tool ($how) failed in ODP mode $mode (see its output above)"
		faults=$(($(rxe_counter odp_faults) - faults))
		errors=$(($(rxe_counter odp_fault_errors) - errors))
		echo "ODP $mode $tool $VM_ROLE: odp_faults +$faults, odp_fault_errors +$errors"
		[ "$faults" -gt 0 ] ||
			fail "$tool ($how) in ODP mode $mode: rxe0's odp_faults did not rise in this VM ($VM_ROLE): were its MRs ODP?"
		figure=$(sed -n 's/^RESULT [^ ]* [^ ]* //p' "$log")
		results+=("$tag $mode $tool $VM_ROLE: ${figure:-(server side)}, odp_faults +$faults")
		port=$((port + 1))
	done
	echo "== rxe0 counters after mode $mode: $(rxe_counters odp_faults odp_fault_errors odp_invalidations)"
done
echo "======== summary"
printf '%s\n' "${results[@]}"

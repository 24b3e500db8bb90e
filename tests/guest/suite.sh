# A shared boot: several guest test scripts, one after the other, in one
# VM. Each line of the suite file (written by add_vm_suite in
# tests/CMakeLists.txt) is one case, tab-separated:
#
#   NAME  TIMEOUT  SCRIPT  ARGS...
#
# Each case runs tests/guest/SCRIPT.sh ARGS with CASE_NAME=NAME, its output
# in /job/cases/NAME.log (and here), for at most TIMEOUT seconds. Its
# result goes to /job/results as a KTAP line ("ok N NAME" or "not ok N
# NAME # why"), after the sub-cases the script reported (report_subcase in
# lib.sh). The kernel log gets "rdmavm: case NAME begin" and "... end", so
# that a kernel report is laid at the door of the case it came in.
# Between cases the guest is put back as it booted (guest_reset).
# Exits 0 when every case passed, 1 otherwise; a failing case does not stop
# the ones after it.
#
# usage: suite.sh SUITE_FILE
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || fail "usage: suite.sh SUITE_FILE"
suite=$1
[ -f "$suite" ] || fail "no suite file $suite"
mkdir -p /job/cases
cases=$(grep -cv '^#' "$suite" || true)
{
	echo "KTAP version 1"
	echo "1..$cases"
} >/job/results

n=0 failed=0
while IFS=$'\t' read -r -a fields; do
	[[ ${fields[0]:-#} != \#* ]] || continue
	n=$((n + 1))
	name=${fields[0]} limit=${fields[1]} script=${fields[2]}
	args=("${fields[@]:3}")
	log=/job/cases/$name.log
	guest_reset
	echo "rdmavm: case $name begin" >/dev/kmsg
	echo "======== case $n/$cases: $name (tests/guest/$script.sh ${args[*]}; at most $limit s)"
	start=$SECONDS rc=0
	CASE_NAME=$name timeout -k 10 "$limit" bash "$(dirname "$0")/$script.sh" "${args[@]}" \
		</dev/null >"$log" 2>&1 || rc=$?
	took=$((SECONDS - start))
	echo "rdmavm: case $name end" >/dev/kmsg
	cat "$log"
	case $rc in
	0) echo "ok $n $name # time=${took}s" >>/job/results ;;
	124 | 137) echo "not ok $n $name # timed out after $limit s" >>/job/results ;;
	*) echo "not ok $n $name # exit status $rc, time=${took}s" >>/job/results ;;
	esac
	[ "$rc" = 0 ] || failed=$((failed + 1))
	echo "======== case $name: exit status $rc after $took s"
done <"$suite"

echo "suite: $((n - failed)) of $n cases passed"
[ "$failed" = 0 ]

# The rxe ODP benchmark (tests/bench/rxe-odp-bench.c) in each rxe ODP mode
# (virt, iommu: rxe_odp_mode in lib.sh), in one boot, then one table with
# the modes side by side; after the program, Debian's ib_write_bw with and
# without --odp (figures "perftest.write_bw.*"). Prints figures; asserts
# nothing about them: it fails only when the program fails. Then the
# first-touch part with the kernel's fault-ahead off, beside it on
# (section (d)). Each mode's own output lands in the job directory
# (rxe-odp-bench-MODE.txt).
#
# usage: rxe-odp-bench.sh [--quick] [MODE[,MODE...] [BENCH OPTIONS...]]
#   e.g. rxe-odp-bench.sh virt,iommu --pages 4096 --rounds 5
#   --quick: every part once and as small as it goes, for the test suite
#   on the test kernel (a broken benchmark fails; its figures mean
#   nothing): one round of 16 4-KiB messages, 16 atomics, 4 pages, and one
#   pinned and one --odp ib_write_bw of 1 s, each of which must succeed.
#   Options after it still apply.
. "$(dirname "$0")/lib.sh"

bench="$BUILD_DIR/tests/bench/rxe-odp-bench"
[ -x "$bench" ] || fail "no $bench: build the project first (cmake --build build)"
quick=
[ "${1:-}" != --quick ] || { quick=yes; shift; }
IFS=, read -r -a modes <<<"${1:-virt,iommu}"
shift $(($# > 0 ? 1 : 0))
[ -z "$quick" ] || set -- --rounds 1 --iters 16 --atomics 16 --size 4096 --pages 4 "$@"

# Debian's ib_write_bw itself, loopback, pinned against --odp in the same
# boot: PERFTEST_ROUNDS rounds of one run of each, the order swapped every
# round, appended to the mode's output as figure lines and the single
# figures as a comment. The ratio is the median of the rounds' ratios, each
# from two runs next to each other (a slow spell of the host shows in
# both), with its 95 % interval (median_interval in lib.sh). Each run lasts
# PERFTEST_SECONDS and perftest measures only after the first and before
# the last PERFTEST_MARGIN seconds (-D, --margin), so the faults of its
# first messages, when it touches its buffer, fall outside the figure: ODP
# after warm-up against pinned. The faults are counted over the whole run.
# A run that fails (perftest gives up when it cannot calibrate its clock on
# a busy host) is left out and said so; ib_write_bw --odp itself is tested
# by perftest.odp.*. args: output file
write_bw_compare() {
	local out=$1 round kind log figure before port=18700 ratio low high n
	local -A figures=([pinned]="" [odp]="") faults=([pinned]=0 [odp]=0) this=()
	local -A flag=([pinned]="" [odp]=--odp)
	local pairs=()
	echo "== (c) Debian ib_write_bw, loopback, 65536-byte messages, -D $PERFTEST_SECONDS --margin $PERFTEST_MARGIN (warm: the middle measured), $PERFTEST_ROUNDS rounds, alternating; ratio: median of the rounds' ratios" >>"$out"
	for ((round = 1; round <= PERFTEST_ROUNDS; round++)); do
		this=([pinned]=- [odp]=-)
		for kind in $(round_order "$round" pinned odp); do
			log=/job/ib_write_bw-$mode-$kind-$round.log
			before=$(rxe_counter odp_faults)
			if PERFTEST_PORT=$port bash "$(dirname "$0")/perftest.sh" ib_write_bw \
				-D "$PERFTEST_SECONDS" --margin "$PERFTEST_MARGIN" ${flag[$kind]:+"${flag[$kind]}"} >"$log" 2>&1; then
				figure=$(sed -n 's/^RESULT ib_write_bw single: \([0-9.]*\) MB\/s$/\1/p' "$log")
				figures[$kind]+="$figure "
				this[$kind]=${figure:--}
				faults[$kind]=$((faults[$kind] + $(rxe_counter odp_faults) - before))
			else
				[ -z "$quick" ] || { cat "$log"; fail "ib_write_bw ($kind) failed in ODP mode $mode"; }
				echo "#  ib_write_bw $kind run $round failed, left out (its output: $log):" >>"$out"
				grep -m 3 -iE "can't|fail|error" "$log" | sed 's/^/#    /' >>"$out"
			fi
			port=$((port + 1))
		done
		pairs+=("${this[pinned]} ${this[odp]}")
	done
	for kind in pinned odp; do
		[ -n "${figures[$kind]}" ] || continue
		echo "# ib_write_bw $kind runs, MB/s: ${figures[$kind]}" >>"$out"
		# shellcheck disable=SC2086 # one figure per word
		printf '%-40s %14.3f  MB/s\n' "perftest.write_bw.$kind" \
			"$(printf '%s\n' ${figures[$kind]} | median)" >>"$out"
	done
	read -r ratio low high n < <(printf '%s\n' "${pairs[@]}" | ratio_interval) || true
	if [ -n "${ratio:-}" ]; then
		echo "# ib_write_bw odp/pinned of each round: $(printf '%s\n' "${pairs[@]}" |
			awk '{ printf "%s ", $1 == "-" || $2 == "-" ? "-" : $2 / $1 }')" >>"$out"
		printf '%-40s %14.3f  ratio\n' perftest.write_bw.odp/pinned "$ratio" >>"$out"
		[ "$low" = - ] || printf '%-40s %14.3f  ratio\n%-40s %14.3f  ratio\n' \
			perftest.write_bw.odp/pinned.low95 "$low" perftest.write_bw.odp/pinned.high95 "$high" >>"$out"
	fi
	printf '%-40s %14d  count\n' perftest.write_bw.odp.faults "${faults[odp]}" >>"$out"
	[ "${faults[odp]}" -gt 0 ] || echo "#  no ODP fault during the --odp runs: were its MRs ODP?" >>"$out"
}
# Fault-ahead (kernel patch 0025) off against on: the program's first-touch
# part again, untouched case only, with rdma_rxe.odp_fault_ahead=0 (an
# access faults only its own page, the behaviour before the patch),
# beside (b)'s figures at the parameter's value; the parameter is put
# back. Appended to the mode's output as section (d) with off/on ratios
# and each first touch against the CPU's own of the same run (X/cpu).
# Skipped when (b) did not run its untouched case. args: output file, the
# program's options
fault_ahead_compare() {
	local out=$1 param=/sys/module/rdma_rxe/parameters/odp_fault_ahead saved log rc=0
	shift
	grep -q '^ft\.untouched\.write\.first_touch ' "$out" || return 0
	[ -w "$param" ] || fail "no $param: the test kernel lacks the fault-ahead patch (0025)"
	saved=$(cat "$param")
	log=/job/rxe-odp-bench-$mode-noahead.txt
	echo 0 >"$param"
	"$bench" --gid "$(rxe_ipv4_gid_index)" "$@" --parts ft --cases untouched >"$log" 2>&1 || rc=$?
	echo "$saved" >"$param"
	if [ "$rc" != 0 ]; then
		cat "$log"
		fail "rxe-odp-bench with odp_fault_ahead=0 failed in ODP mode $mode (exit status $rc)"
	fi
	local section header
	header="== (d) fault-ahead: (b)'s untouched case with rdma_rxe.odp_fault_ahead=0 (off: an access faults only its own page) and at $saved bytes, as (b) ran (on: (b)'s figures); off/on > 1: fault-ahead is cheaper; X/cpu: a device first touch in CPU first touches of the same run (1: the floor, the page's fault, allocation and zeroing)"
	section=$(awk '
		match($1, /^ft\.untouched\.[a-z0-9]+\.(first_touch|faults_cold)$/) {
			k = substr($1, 14)
			if (FNR == NR) off[k] = $2; else on[k] = $2
			unit[k] = $3
			if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		}
		END {
			for (i = 1; i <= n; i++) {
				k = order[i]
				printf "%-36s %14.3f  %s\n", "fa." k ".off", off[k], unit[k]
				printf "%-36s %14.3f  %s\n", "fa." k ".on", on[k], unit[k]
				if (on[k] > 0)
					printf "%-36s %14.3f  ratio\n", "fa." k ".off/on", off[k] / on[k]
			}
			# against the floor: the CPU first touch of the same run
			for (i = 1; i <= n; i++) {
				k = order[i]
				if (k !~ /first_touch$/ || k == cpu) continue
				if (off[cpu] > 0)
					printf "%-36s %14.3f  ratio\n", "fa." k ".off/cpu", off[k] / off[cpu]
				if (on[cpu] > 0)
					printf "%-36s %14.3f  ratio\n", "fa." k ".on/cpu", on[k] / on[cpu]
			}
		}' cpu=cpu.first_touch "$log" "$out")
	printf '%s\n%s\n' "$header" "$section" >>"$out"
}

PERFTEST_ROUNDS=${PERFTEST_ROUNDS:-6}
PERFTEST_SECONDS=${PERFTEST_SECONDS:-5}
PERFTEST_MARGIN=${PERFTEST_MARGIN:-1}
[ -z "$quick" ] || PERFTEST_ROUNDS=1 PERFTEST_SECONDS=1 PERFTEST_MARGIN=0

# Part (e)'s hugetlb MR: 64 MiB of 2 MiB pages (a shared boot's reset frees them)
echo 32 >/proc/sys/vm/nr_hugepages
files=()
for mode in "${modes[@]}"; do
	echo "======== rxe0 ODP mode: $mode"
	rxe_odp_mode "$mode"
	out=/job/rxe-odp-bench-$mode.txt
	start=$SECONDS
	rc=0
	"$bench" --gid "$(rxe_ipv4_gid_index)" "$@" >"$out" 2>&1 || rc=$?
	cat "$out"
	if [ "$rc" != 0 ]; then
		echo "== rxe0 hw_counters:"
		grep . /sys/class/infiniband/rxe0/ports/1/hw_counters/* | sed 's|.*/||'
		echo "== kernel log, last lines:"
		dmesg | tail -n 30
		fail "rxe-odp-bench failed in ODP mode $mode (exit status $rc)"
	fi
	write_bw_compare "$out"
	fault_ahead_compare "$out" "$@"
	sed -n '/^== (c)/,$p' "$out"
	echo "== mode $mode: $((SECONDS - start)) s; rxe0 counters: odp_faults $(rxe_counter odp_faults)" \
		"odp_fault_errors $(rxe_counter odp_fault_errors) odp_invalidations $(rxe_counter odp_invalidations)"
	files+=("$out")
done

# The first mode's output gives the order, its "==" and "#" lines the
# sections; figure lines ("KEY VALUE UNIT") are joined by KEY. Per-MR
# values ("# ... of each MR: ...") stay in each mode's own output above.
echo "======== rxe ODP benchmark, modes side by side (options: ${*:-defaults})"
awk -v modes="${modes[*]}" '
	FNR == 1 { nf++ }
	/^[a-z][a-z0-9_.\/]* +-?[0-9.]+ / {
		if (nf == 1) { order[++n] = $1; unit[$1] = $3 }
		v[$1, nf] = $2
		next
	}
	/ of each MR: / { next }
	nf == 1 && /^(==|#  )/ { order[++n] = "\t" $0 }
	END {
		nm = split(modes, m, " ")
		printf "%-36s", "figure"
		for (f = 1; f <= nm; f++) printf " %12s", m[f]
		printf "  %-8s%s\n", "unit", (nm == 2 ? sprintf("  %s/%s", m[2], m[1]) : "")
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (substr(k, 1, 1) == "\t") { print substr(k, 2); continue }
			printf "%-36s", k
			for (f = 1; f <= nm; f++) printf " %12s", ((k, f) in v ? v[k, f] : "-")
			printf "  %-8s", unit[k]
			if (nm == 2 && (k, 1) in v && (k, 2) in v && v[k, 1] != 0 && unit[k] != "count")
				printf "  %.2f", v[k, 2] / v[k, 1]
			printf "\n"
		}
	}' "${files[@]}"

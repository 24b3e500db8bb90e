# The rxe ODP benchmark (tests/bench/rxe-odp-bench.c) in each rxe ODP mode
# (virt, iommu: rxe_odp_mode in lib.sh), in one boot, then one table with
# the modes side by side. Prints figures; asserts nothing about them: it
# fails only when the program fails. Each mode's own output lands in the job
# directory (rxe-odp-bench-MODE.txt).
#
# usage: rxe-odp-bench.sh [MODE[,MODE...] [BENCH OPTIONS...]]
#   e.g. rxe-odp-bench.sh virt,iommu --pages 4096 --rounds 5
. "$(dirname "$0")/lib.sh"

bench="$BUILD_DIR/tests/bench/rxe-odp-bench"
[ -x "$bench" ] || fail "no $bench: build the project first (cmake --build build)"
IFS=, read -r -a modes <<<"${1:-virt,iommu}"
shift $(($# > 0 ? 1 : 0))

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
	echo "== mode $mode: $((SECONDS - start)) s; rxe0 counters: odp_faults $(rxe_counter odp_faults)" \
		"odp_fault_errors $(rxe_counter odp_fault_errors) odp_invalidations $(rxe_counter odp_invalidations)"
	files+=("$out")
done

# The first mode's output gives the order, its "==" and "#" lines the
# sections; figure lines ("KEY VALUE UNIT") are joined by KEY.
echo "======== rxe ODP benchmark, modes side by side (options: ${*:-defaults})"
awk -v modes="${modes[*]}" '
	FNR == 1 { nf++ }
	/^[a-z][a-z0-9_.\/]* +-?[0-9.]+ / {
		if (nf == 1) { order[++n] = $1; unit[$1] = $3 }
		v[$1, nf] = $2
		next
	}
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

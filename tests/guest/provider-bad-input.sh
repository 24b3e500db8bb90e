# Verbs on invalid objects and attributes: every case must fail cleanly
# (an error, no crash) with msrxe. The stock provider runs the same cases
# first, for comparison; its results are shown, not judged.
#
# usage: provider-bad-input.sh PROVIDER_DIR
. "$(dirname "$0")/provider-lib.sh"

[ $# -eq 1 ] || fail "usage: provider-bad-input.sh PROVIDER_DIR"
provider_paths "$1"

use_provider stock
"$MSRXE_BAD_INPUT" rxe0 rxe >/run/bad-input.stock || true
use_provider ours
status=0
"$MSRXE_BAD_INPUT" rxe0 msrxe >/run/bad-input.ours || status=$?

echo "== per case: stock | msrxe"
join -t '|' \
	<(sed -n 's/^case \([a-z_0-9]*\): /\1|/p' /run/bad-input.stock | sort) \
	<(sed -n 's/^case \([a-z_0-9]*\): /\1|/p' /run/bad-input.ours | sort) |
	awk -F'|' '{ printf "%-36s %-34s %s\n", $1, $2, $3 }'
echo "== msrxe run"
cat /run/bad-input.ours
[ "$status" = 0 ] || fail "msrxe: a bad-input case succeeded or crashed (status $status)"

# advise_mr and reg_dmabuf_mr reach the kernel with msrxe (stock answers
# EOPNOTSUPP in libibverbs itself): the probe calls each once with input
# the kernel refuses (advise_mr on a non-ODP MR: EINVAL; dmabuf fd -1:
# EBADF), and those refusals show up as failed uverbs ioctls.
command -v strace >/dev/null || fail "strace is not installed (scripts/install-deps)"
echo "== msrxe passes advise_mr and reg_dmabuf_mr to the kernel"
declare -A refused
for p in stock ours; do
	use_provider "$p" >/dev/null
	strace -f -e trace=ioctl -o "/run/probe-$p.strace" "$MSRXE_PROBE" rxe0 "$PROVIDER_NAME" >/dev/null
	n=$(grep -c '^[0-9]* *ioctl(.*= -1 E' "/run/probe-$p.strace" || true)
	echo "$p: $n uverbs ioctls refused by the kernel"
	refused[$p]=$n
done
grep '^[0-9]* *ioctl(.*= -1 E' /run/probe-ours.strace | sed 's/^/  /'
[ "${refused[ours]}" -ge $((refused[stock] + 2)) ] ||
	fail "msrxe did not pass advise_mr and reg_dmabuf_mr to the kernel"
echo "provider-bad-input: PASS"

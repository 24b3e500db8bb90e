# The ABI guard. 1) msrxe loads into the installed libibverbs without its
# version guard firing (if the installed libibverbs is not the one msrxe
# was built for, this fails with the guard's message). 2) The guard works:
# with a libibverbs whose file name says rdma-core 45 (a copy of the real
# one), msrxe must refuse to register with a clear message, and rxe0 must
# not silently fall back to another provider.
#
# usage: provider-abi-guard.sh PROVIDER_DIR
. "$(dirname "$0")/provider-lib.sh"

[ $# -eq 1 ] || fail "usage: provider-abi-guard.sh PROVIDER_DIR"
provider_paths "$1"
use_provider ours

echo "== 1: the installed libibverbs"
real=$(readlink -f "$(ldconfig -p | awk '/libibverbs.so.1 .*x86-64/ { print $NF; exit }')")
echo "installed: $real"
"$MSRXE_PROBE" rxe0 msrxe >/run/guard.out 2>&1 || true
cat /run/guard.out
if grep -q 'msrxe: FATAL' /run/guard.out; then
	fail "ABI GUARD: msrxe does not match the installed libibverbs ($real): $(grep 'msrxe: FATAL' /run/guard.out)"
fi
grep -q 'expected provider msrxe: yes' /run/guard.out || fail "msrxe did not serve rxe0 with the installed libibverbs"

echo "== 2: a libibverbs of another release"
fake=/run/fake-libibverbs
rm -rf "$fake" && mkdir -p "$fake"
cp "$real" "$fake/libibverbs.so.1.14.45.0"
ln -s libibverbs.so.1.14.45.0 "$fake/libibverbs.so.1"
status=0
LD_LIBRARY_PATH=$fake "$MSRXE_PROBE" rxe0 msrxe >/run/guard-fake.out 2>&1 || status=$?
cat /run/guard-fake.out
grep -q 'msrxe: FATAL: libibverbs version mismatch: .*libibverbs.so.1.14.45.0' /run/guard-fake.out ||
	fail "the version guard did not fire against $fake/libibverbs.so.1.14.45.0"
[ "$status" = 2 ] || fail "rxe0 was still opened (probe status $status) although msrxe refused to register"
echo "provider-abi-guard: PASS (guard silent on the installed library, loud on a mismatch)"

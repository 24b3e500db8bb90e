# Work-completion flags: with msrxe, a SEND_WITH_INV's receive completion
# says IBV_WC_WITH_INV with the invalidated rkey, through ibv_poll_cq and
# the extended CQ, and no completion shows IBV_WC_IP_CSUM_OK, which rxe
# never reports (providers/tests/msrxe_wc_flags.c). The stock provider
# runs the same checks first; its results are shown, not judged (it copies
# the kernel's IB_WC_* bits as they are).
#
# usage: provider-wc-flags.sh PROVIDER_DIR
. "$(dirname "$0")/provider-lib.sh"

[ $# -eq 1 ] || fail "usage: provider-wc-flags.sh PROVIDER_DIR"
provider_paths "$1"
[ -x "$MSRXE_WC_FLAGS" ] || fail "no $MSRXE_WC_FLAGS: build the providers first"

use_provider stock
echo "== stock (not judged)"
"$MSRXE_WC_FLAGS" rxe0 rxe || true
use_provider ours
echo "== msrxe"
status=0
"$MSRXE_WC_FLAGS" rxe0 msrxe || status=$?
[ "$status" = 0 ] || fail "msrxe: a work-completion flag check failed (status $status)"
echo "provider-wc-flags: PASS"

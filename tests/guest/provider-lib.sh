# Helpers for the msrxe provider tests (tests/guest/provider-*.sh): choose
# which provider libibverbs loads for rxe. Sourced, not run.
#
# The guest's root is an overlay, so /etc/libibverbs.d can be changed here
# without touching the host. "ours" leaves only msrxe's driver file there
# (rxe.driver removed), so the stock librxe is never even loaded; "stock"
# restores the original directory. RDMAV_DRIVERS is cleared so the
# environment cannot add a second provider.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "provider-lib.sh is sourced by the provider-*.sh tests, not run" >&2
	exit 2
fi

unset RDMAV_DRIVERS IBV_DRIVERS
VERBS_CONF=/etc/libibverbs.d

# args: the provider build directory (holds msrxe/ and tests/)
provider_paths() {
	PROVIDER_DIR=$1
	MSRXE_LIB=$PROVIDER_DIR/msrxe/libmsrxe-rdmav34.so
	MSRXE_PROBE=$PROVIDER_DIR/tests/msrxe_probe
	# shellcheck disable=SC2034 # used by provider-bad-input.sh
	MSRXE_BAD_INPUT=$PROVIDER_DIR/tests/msrxe_bad_input
	# shellcheck disable=SC2034 # used by provider-wc-flags.sh
	MSRXE_WC_FLAGS=$PROVIDER_DIR/tests/msrxe_wc_flags
	[ -f "$MSRXE_LIB" ] || fail "no $MSRXE_LIB: build the providers first"
	[ -x "$MSRXE_PROBE" ] || fail "no $MSRXE_PROBE: build the providers first"
	[ -d /run/libibverbs.d.orig ] || cp -a "$VERBS_CONF" /run/libibverbs.d.orig
}

# args: ours | stock. Then prove it with the probe: only that provider is
# mapped in a process that opened rxe0.
use_provider() {
	rm -rf "$VERBS_CONF"
	cp -a /run/libibverbs.d.orig "$VERBS_CONF"
	case $1 in
	ours)
		rm -f "$VERBS_CONF/rxe.driver"
		echo "driver ${MSRXE_LIB%-rdmav34.so}" >"$VERBS_CONF/msrxe.driver"
		PROVIDER_NAME=msrxe
		;;
	stock) PROVIDER_NAME=rxe ;;
	*) fail "use_provider: ours or stock, not '$1'" ;;
	esac
	echo "== provider: $1 ($PROVIDER_NAME); $VERBS_CONF holds: $(cd "$VERBS_CONF" && grep -h driver -- * | tr '\n' ' ')"
	"$MSRXE_PROBE" rxe0 "$PROVIDER_NAME" || fail "rxe0 is not served by $PROVIDER_NAME alone (see the probe above)"
}

# A Python process (pyverbs) opens rxe0: only the chosen provider is mapped.
check_pyverbs_provider() {
	/usr/bin/python3 - "$PROVIDER_NAME" <<'PY' || fail "pyverbs does not use $PROVIDER_NAME alone"
import sys
from pyverbs.device import Context
ctx = Context(name='rxe0')
maps = {l.split()[-1] for l in open('/proc/self/maps') if l.rstrip().endswith('-rdmav34.so')}
print('pyverbs maps:', ' '.join(sorted(maps)))
ours = any(m.endswith('/libmsrxe-rdmav34.so') for m in maps)
stock = any(m.endswith('/librxe-rdmav34.so') for m in maps)
sys.exit(0 if (ours, stock) == ((True, False) if sys.argv[1] == 'msrxe' else (False, True)) else 1)
PY
}

# Run tests/guest/perftest.sh (it repeats a run that could not report),
# output to LOG. args: log perftest.sh arguments...
run_perftest() {
	local log=$1
	shift
	bash "$(dirname "${BASH_SOURCE[0]}")/perftest.sh" "$@" >"$log" 2>&1
}

# Debian's perftest tools over rxe0 with the msrxe provider: the checks of
# perftest.sh (loopback or VM pair), after making msrxe the only provider.
#
# usage: provider-perftest.sh PROVIDER_DIR TOOL[,TOOL...] [PERFTEST OPTIONS...]
. "$(dirname "$0")/provider-lib.sh"

[ $# -ge 2 ] || fail "usage: provider-perftest.sh PROVIDER_DIR TOOL[,TOOL...] [OPTIONS...]"
provider_paths "$1"
shift
use_provider ours
status=0
run_perftest /run/provider-perftest.log "$@" || status=$?
cat /run/provider-perftest.log
[ "$status" = 0 ] || fail "perftest with msrxe failed"
echo "provider-perftest: all tools ran with msrxe"

# rdma-core's pyverbs suite on rxe0, compared with tests/pyverbs/baseline.txt.
# The results land in the job directory (pyverbs-results.txt) on the host.
#
# usage: pyverbs.sh [-k PATTERN]...   (a pattern runs a subset)
. "$(dirname "$0")/lib.sh"

pyverbs_hugepages
run_pyverbs_suite \
	--baseline "$PROJECT_DIR/tests/pyverbs/baseline.txt" --results /job/pyverbs-results.txt "$@"

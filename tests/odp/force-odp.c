/*
 * An LD_PRELOAD library that makes every memory region registered through
 * ibv_reg_mr() or ibv_reg_mr_iova2() an On-Demand Paging MR: it adds
 * IBV_ACCESS_ON_DEMAND to the access flags and calls libibverbs.
 *
 * Why: Debian 12's perftest (4.5+0.17) refuses --odp for ib_atomic_bw in
 * its own option checks, and its source is not in the package archive we
 * can reach, so it cannot be patched here. With this library the unchanged
 * ib_atomic_bw runs on ODP MRs; tests/guest/perftest-odp.sh proves they
 * were ODP by rxe0's odp_faults counter.
 *
 * It does not link libibverbs: in a process without it (the shell that
 * starts perftest) it finds nothing to wrap and does nothing. Each
 * registration it changes is reported on stderr when FORCE_ODP_VERBOSE is
 * set and not empty.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <infiniband/verbs.h>

/* verbs.h defines ibv_reg_mr as a macro over the exported function */
#undef ibv_reg_mr

typedef struct ibv_mr *(*reg_mr_fn)(struct ibv_pd *pd, void *addr, size_t length, int access);
typedef struct ibv_mr *(*reg_mr_iova2_fn)(struct ibv_pd *pd, void *addr, size_t length,
					  uint64_t iova, unsigned int access);

/* The libibverbs definition of @name@@@version, or NULL with a message */
static void *next_symbol(const char *name, const char *version)
{
	void *sym = dlvsym(RTLD_NEXT, name, version);

	if (!sym)
		fprintf(stderr, "force-odp: no %s@%s after this library: is libibverbs loaded?\n",
			name, version);
	return sym;
}

static void report(const char *fn, size_t length, unsigned int access)
{
	const char *verbose = getenv("FORCE_ODP_VERBOSE");

	if (verbose && *verbose)
		fprintf(stderr, "force-odp: %s of %zu bytes: access %#x | ON_DEMAND\n", fn, length,
			access);
}

struct ibv_mr *ibv_reg_mr(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	reg_mr_fn next = (reg_mr_fn)next_symbol("ibv_reg_mr", "IBVERBS_1.1");

	if (!next) {
		errno = ENOSYS;
		return NULL;
	}
	report("ibv_reg_mr", length, (unsigned int)access);
	return next(pd, addr, length, access | IBV_ACCESS_ON_DEMAND);
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length, uint64_t iova,
				unsigned int access)
{
	reg_mr_iova2_fn next = (reg_mr_iova2_fn)next_symbol("ibv_reg_mr_iova2", "IBVERBS_1.8");

	if (!next) {
		errno = ENOSYS;
		return NULL;
	}
	report("ibv_reg_mr_iova2", length, access);
	return next(pd, addr, length, iova, access | IBV_ACCESS_ON_DEMAND);
}

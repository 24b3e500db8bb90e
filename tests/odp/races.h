/*
 * rxe-odp-test races: the traffic the races run against (races.c), and
 * the cases (races-unmap.c: munmap, MADV_DONTNEED; races-protect.c:
 * mprotect, fork).
 */
#ifndef RACES_H
#define RACES_H

#include <stdatomic.h>

#include "odp-test.h"

/* Chunks (one page each, one WR each) of the target */
#define RACE_CHUNKS 16

/*
 * The traffic of a race: chunk after chunk of the target, an RDMA WRITE of
 * a fresh pattern into it, then an RDMA READ of it back, compared. Runs
 * until told to stop or a work request fails or bytes differ.
 */
struct race {
	struct rt_dev *d;
	struct rt_pair *p;
	bool zero_ok;			/* bytes read back may be 0 (MADV_DONTNEED) */
	struct rt_region *local;	/* 2 * RACE_CHUNKS pages: sources, then read-back */
	struct rt_region *target;	/* RACE_CHUNKS pages */
	uint32_t seed_base;
	uint32_t last_seed[RACE_CHUNKS];	/* the pattern last written into each chunk */
	atomic_ulong passes;		/* full passes done */
	atomic_bool stop, done;
	/* outcome */
	int err;			/* -errno: the traffic could not run (printed) */
	bool wc_failed;
	struct ibv_wc wc;
	enum ibv_wr_opcode op;
	size_t chunk;
	unsigned long pass;
	bool mismatch;
	unsigned long zero_reads;	/* READs that returned zero bytes (zero_ok) */
};

/* What happens to the target while the traffic runs */
typedef int (*race_event_fn)(struct rt_dev *d, void *arg);

/* The race's resources: pairs made ahead, the target, the traffic's local memory */
struct race_setup {
	struct pool pool;
	struct rt_region target, local;
	struct race r;
	struct rt_counters c0;
};

int race_run(struct rt_dev *d, struct race *r, race_event_fn event, void *arg,
	     unsigned long extra, unsigned long *ev_pass);
int race_setup(struct rt_dev *d, struct race_setup *s, int pairs, uint32_t seed_base);
void race_teardown(struct race_setup *s);
int check_last_written(struct rt_dev *d, struct race *r, const uint8_t *view, size_t first,
		       size_t n, const char *what);

int race_munmap(struct rt_dev *d);
int race_munmap_implicit(struct rt_dev *d);
int race_dontneed(struct rt_dev *d);
int race_mprotect(struct rt_dev *d);
int race_fork(struct rt_dev *d);

#endif

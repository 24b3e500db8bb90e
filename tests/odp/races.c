/*
 * rxe-odp-test races: a thread writes and reads back page after page of an
 * ODP MR while the main thread munmaps a part of it, drops a part with
 * madvise(MADV_DONTNEED), makes a part read-only with mprotect, or forks;
 * errors exactly where the access became illegal, right bytes everywhere
 * else. This file: the traffic thread and how a race runs; the cases are
 * in races-unmap.c and races-protect.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "races.h"

/* One RDMA WRITE or READ of chunk @c: 0, 1 when it completed in error, -errno */
static int race_wr(struct race *r, enum ibv_wr_opcode op, size_t c)
{
	size_t pg = r->d->page;
	uint8_t *laddr = r->local->addr + (op == IBV_WR_RDMA_WRITE ? c : RACE_CHUNKS + c) * pg;
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = (uint32_t)pg,
			       .lkey = r->local->mr->lkey };
	struct ibv_send_wr wr;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = c;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.rdma.remote_addr = (uintptr_t)(r->target->addr + c * pg);
	wr.wr.rdma.rkey = r->target->mr->rkey;
	err = rt_exec_wr(r->d, r->p, &wr, &r->wc, rt_op_name(op));
	if (err)
		return err;
	if (r->wc.status != IBV_WC_SUCCESS) {
		r->wc_failed = true;
		r->op = op;
		r->chunk = c;
		return 1;
	}
	return 0;
}

/* Chunk @c in pass @pass: WRITE a fresh pattern, READ it back, compare */
static int race_chunk(struct race *r, unsigned long pass, size_t c)
{
	size_t pg = r->d->page;
	uint32_t seed = r->seed_base + (uint32_t)(pass * RACE_CHUNKS + c);
	uint8_t *rb = r->local->addr + (RACE_CHUNKS + c) * pg;
	int err;

	rt_fill(r->local->addr + c * pg, pg, seed, 0);
	memset(rb, 0xa5, pg);
	r->pass = pass;
	err = race_wr(r, IBV_WR_RDMA_WRITE, c);
	if (err)
		return err;
	r->last_seed[c] = seed;
	err = race_wr(r, IBV_WR_RDMA_READ, c);
	if (err)
		return err;
	if (rt_check_pat_z(r->d, "race traffic: bytes read back", rb, pg, seed, 0, r->zero_ok)) {
		r->mismatch = true;
		r->chunk = c;
		return 1;
	}
	if (r->zero_ok && memchr(rb, 0, pg))
		r->zero_reads++;
	return 0;
}

static void *race_traffic(void *arg)
{
	struct race *r = arg;
	unsigned long pass;
	size_t c;
	int err = 0;

	for (pass = 0; !err && !atomic_load(&r->stop); pass++) {
		for (c = 0; !err && c < RACE_CHUNKS && !atomic_load(&r->stop); c++) {
			err = race_chunk(r, pass, c);
			if (err)
				break;
		}
		if (!err && c == RACE_CHUNKS)
			atomic_store(&r->passes, pass + 1);
	}
	r->err = err < 0 ? err : 0;
	atomic_store(&r->done, true);
	return NULL;
}

/* Wait until the traffic has done @n passes or stopped; false on timeout */
static bool race_wait(struct race *r, unsigned long n, uint64_t timeout_ms)
{
	uint64_t deadline = rt_now_ms() + timeout_ms;

	while (atomic_load(&r->passes) < n && !atomic_load(&r->done)) {
		if (rt_now_ms() > deadline)
			return false;
		rt_sleep_ms(2);
	}
	return true;
}

static void race_stop(struct race *r, pthread_t th)
{
	atomic_store(&r->stop, true);
	pthread_join(th, NULL);
}

/*
 * Start the traffic and wait until it is going: a first pass done (every
 * page faulted in), then a second, timed (@pass_ms).
 */
static int race_start(struct rt_dev *d, struct race *r, pthread_t *th, uint64_t budget,
		      uint64_t *pass_ms)
{
	uint64_t t0;
	int err;

	*pass_ms = 0;
	atomic_init(&r->passes, 0);
	atomic_init(&r->stop, false);
	atomic_init(&r->done, false);
	err = pthread_create(th, NULL, race_traffic, r);
	if (err)
		return rt_fail(d, -err, "pthread_create: %s", strerror(err));
	if (!race_wait(r, 1, budget))
		err = rt_fail(d, -ETIMEDOUT, "the traffic did not finish its first pass in %" PRIu64 " s",
			      budget / 1000);
	t0 = rt_now_ms();
	if (!err && !race_wait(r, 2, budget))
		err = rt_fail(d, -ETIMEDOUT, "the traffic did not finish its second pass in %" PRIu64 " s",
			      budget / 1000);
	if (!err && atomic_load(&r->done))
		err = rt_fail(d, -EIO, "the traffic stopped before the event (see its message above, or the work request status below)");
	if (err)
		race_stop(r, *th);
	*pass_ms = rt_now_ms() - t0;
	return err;
}

/*
 * Run the traffic of @r; once it is going, call @event in the middle of a
 * pass, then let the traffic run until it stops by itself or @extra more
 * passes are done. The pass the event happened in goes to @ev_pass.
 */
int race_run(struct rt_dev *d, struct race *r, race_event_fn event, void *arg,
	     unsigned long extra, unsigned long *ev_pass)
{
	uint64_t pass_ms, budget = (uint64_t)d->timeout_ms * 4;
	pthread_t th;
	int err;

	err = race_start(d, r, &th, budget, &pass_ms);
	if (err)
		return err;
	/* land in the middle of a pass */
	rt_sleep_ms((unsigned int)(pass_ms * 2 / 5));
	*ev_pass = atomic_load(&r->passes);
	err = event(d, arg);
	if (!err && !race_wait(r, *ev_pass + 1 + extra, budget))
		err = rt_fail(d, -ETIMEDOUT, "the traffic made no progress for %" PRIu64 " s after the event",
			      budget / 1000);
	race_stop(r, th);
	rt_info(d, "traffic: %lu full passes of %d chunks (RDMA WRITE + READ each, ~%" PRIu64 " ms a pass), event during pass %lu",
		(unsigned long)atomic_load(&r->passes), RACE_CHUNKS, pass_ms, *ev_pass);
	if (err)
		return err;
	if (r->err)
		return rt_fail(d, r->err, "the traffic thread failed (message above)");
	if (r->mismatch)
		return rt_fail(d, -EIO, "RDMA READ of chunk %zu in pass %lu returned bytes other than those the RDMA WRITE before it wrote (message above)",
			       r->chunk, r->pass);
	return 0;
}

int race_setup(struct rt_dev *d, struct race_setup *s, int pairs, uint32_t seed_base)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = pool_fill(d, &s->pool, pairs);
	if (!err)
		err = region_new(d, &s->target, RACE_CHUNKS, ODP_RW, -1);
	if (!err)
		err = region_new(d, &s->local, 2 * RACE_CHUNKS, ODP_RW, -1);
	if (!err)
		err = rt_counters_read(d, &s->c0);
	s->r.d = d;
	s->r.p = pool_take(&s->pool);
	s->r.local = &s->local;
	s->r.target = &s->target;
	s->r.seed_base = seed_base;
	return err;
}

void race_teardown(struct race_setup *s)
{
	pool_free(&s->pool);
	rt_region_free(&s->target);
	rt_region_free(&s->local);
}

/* Chunks [first, first + n) of the target hold the last pattern written into each */
int check_last_written(struct rt_dev *d, struct race *r, const uint8_t *view, size_t first,
		       size_t n, const char *what)
{
	size_t pg = d->page, c;
	char w[200];
	int err = 0;

	for (c = first; c < first + n && !err; c++) {
		snprintf(w, sizeof(w), "%s, chunk %zu", what, c);
		err = rt_check_pat(d, w, view + c * pg, pg, r->last_seed[c], 0);
	}
	return err;
}

int cmd_races(struct rt_dev *d, const struct options *o)
{
	int err;

	(void)o;
	rt_set_case(d, "races/caps");
	err = check_caps(d, false);
	if (!err)
		err = race_munmap(d);
	if (!err)
		err = race_munmap_implicit(d);
	if (!err)
		err = race_dontneed(d);
	if (!err)
		err = race_mprotect(d);
	if (!err)
		err = race_fork(d);
	return err;
}

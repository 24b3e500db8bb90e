/*
 * rxe-odp-test races, pages taken away under the traffic:
 * (a) munmap: the first access of the hole fails, the rest still works,
 *     the hole mapped again is followed; the same with the traffic's
 *     remote side an implicit MR (over the whole address space);
 * (b) madvise(MADV_DONTNEED): pages re-fault, no access fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "races.h"

/* (a) munmap: the hole is chunks HOLE_FIRST .. HOLE_FIRST + HOLE_CHUNKS - 1 */
#define HOLE_FIRST 5
#define HOLE_CHUNKS 4

/* (b) MADV_DONTNEED: chunks DROP_FIRST .. DROP_FIRST + DROP_CHUNKS - 1 */
#define DROP_FIRST 3
#define DROP_CHUNKS 4

/* The pages the event takes away, and odp_invalidations around it */
struct drop_ev {
	uint8_t *addr;
	size_t len;
	long long inval_before, inval_after;
};

/* The munmap race: its resources, the hole, local ODP memory with a hole too */
struct munmap_case {
	struct race_setup s;
	struct drop_ev ev;
	struct rt_region lh;
	uint8_t *hole, *lhole;
};

static int ev_munmap(struct rt_dev *d, void *arg)
{
	struct drop_ev *e = arg;
	int err = rt_counter_read(d, "odp_invalidations", &e->inval_before);

	if (!err && munmap(e->addr, e->len))
		err = rt_fail(d, -errno, "munmap(%p, %zu): %s", (void *)e->addr, e->len,
			      strerror(errno));
	if (!err)
		err = rt_counter_read(d, "odp_invalidations", &e->inval_after);
	return err;
}

/* The traffic's first access of the hole, and only that, failed */
static int munmap_first_failure(struct rt_dev *d, struct munmap_case *m, unsigned long ev_pass)
{
	const size_t h0 = HOLE_FIRST, hn = HOLE_CHUNKS;
	struct race *r = &m->s.r;
	int err;

	if (!r->wc_failed)
		return rt_fail(d, -EIO, "the traffic ran %lu passes over all chunks after chunks %zu-%zu were unmapped and no access failed",
			       (unsigned long)atomic_load(&r->passes) - ev_pass, h0, h0 + hn - 1);
	if (r->chunk < h0 || r->chunk >= h0 + hn)
		return rt_fail(d, -EIO, "%s of chunk %zu failed (%s), but only chunks %zu-%zu were unmapped",
			       rt_op_name(r->op), r->chunk, ibv_wc_status_str(r->wc.status), h0,
			       h0 + hn - 1);
	err = rt_expect_status(d, &r->wc, IBV_WC_REM_ACCESS_ERR,
			       "the traffic's first access of the unmapped part");
	if (err)
		return err;
	rt_ok(d, "munmap of chunks %zu-%zu during traffic: the first access of the hole (%s of chunk %zu, pass %lu) failed with IBV_WC_REM_ACCESS_ERR; every RDMA READ before it returned the bytes just written",
	      h0, h0 + hn - 1, rt_op_name(r->op), r->chunk, r->pass);
	if (m->ev.inval_after <= m->ev.inval_before)
		return rt_fail(d, -EIO, "odp_invalidations did not rise over the munmap of faulted-in pages (%lld before, %lld after)",
			       m->ev.inval_before, m->ev.inval_after);
	rt_ok(d, "odp_invalidations rose over the munmap (+%lld)",
	      m->ev.inval_after - m->ev.inval_before);
	if (!range_unmapped(m->hole, hn * d->page, d->page))
		return rt_fail(d, -EPROTO, "something was mapped into the hole at %p meanwhile; the checks below would mean nothing",
			       (void *)m->hole);
	return 0;
}

/* RDMA WRITE of pattern 5000 + @c into chunk @c, READ back: right bytes, for the CPU too */
static int write_read_chunk(struct rt_dev *d, struct rt_pair *p, struct race_setup *s, size_t c)
{
	size_t pg = d->page;
	uint8_t *src = s->local.addr + c * pg, *rb = s->local.addr + (RACE_CHUNKS + c) * pg;
	uint32_t seed = 5000 + (uint32_t)c;
	int err;

	rt_fill(src, pg, seed, 0);
	memset(rb, 0, pg);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, s->local.mr, src, pg, s->target.mr,
		   s->target.addr + c * pg, IBV_WC_SUCCESS, "mapped chunk");
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, s->local.mr, rb, pg, s->target.mr,
			   s->target.addr + c * pg, IBV_WC_SUCCESS, "mapped chunk");
	if (!err)
		err = rt_check_pat(d, "mapped chunk read back", rb, pg, seed, 0);
	if (!err)
		err = rt_check_pat(d, "mapped chunk as the CPU sees it", s->target.addr + c * pg, pg,
				   seed, 0);
	return err;
}

/* A new QP pair: the rest of the target still moves the right bytes; the hole fails */
static int munmap_after(struct rt_dev *d, struct munmap_case *m)
{
	struct race_setup *s = &m->s;
	struct rt_pair *p = pool_take(&s->pool);
	struct ibv_mr *lmr = s->local.mr, *tmr = s->target.mr;
	uint8_t *src = s->local.addr;
	size_t pg = d->page, c;
	int err = 0;

	for (c = 0; c < RACE_CHUNKS && !err; c++)
		if (c < HOLE_FIRST || c >= HOLE_FIRST + HOLE_CHUNKS)
			err = write_read_chunk(d, p, s, c);
	if (err)
		return err;
	rt_ok(d, "new QP pair: RDMA WRITE + READ of each of the %zu chunks still mapped: right bytes, seen by the CPU too",
	      (size_t)(RACE_CHUNKS - HOLE_CHUNKS));

	/* accesses of the hole fail, each on a new pair */
	err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_WRITE, lmr, src, pg, tmr, m->hole + pg,
		   IBV_WC_REM_ACCESS_ERR, "into the unmapped part, new QP pair");
	if (!err)
		err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_READ, lmr, src, pg, tmr,
			   m->hole + 2 * pg + 8, IBV_WC_REM_ACCESS_ERR,
			   "from the unmapped part, new QP pair");
	if (!err)
		err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_WRITE, lmr, src, pg, tmr,
			   m->hole - pg / 2, IBV_WC_REM_ACCESS_ERR,
			   "from the mapped part on into the unmapped part, new QP pair");
	return err;
}

/* Local side: an ODP MR with a hole, as the source and as the sink */
static int munmap_local(struct rt_dev *d, struct munmap_case *m)
{
	struct race_setup *s = &m->s;
	size_t pg = d->page;
	struct rt_counters c1;
	uint8_t snap[64];
	char buf[200];
	int err;

	if (munmap(m->lhole, 2 * pg))
		return rt_fail(d, -errno, "munmap: %s", strerror(errno));
	memcpy(snap, s->target.addr, sizeof(snap));
	err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_WRITE, m->lh.mr, m->lhole + 100, 64,
		   s->target.mr, s->target.addr, IBV_WC_LOC_PROT_ERR,
		   "from an unmapped part of a local ODP MR");
	if (!err)
		err = rt_check_same(d, "target of the failed RDMA WRITE (nothing written)",
				    s->target.addr, snap, sizeof(snap));
	if (!err)
		err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_READ, m->lh.mr, m->lhole + pg, 64,
			   s->target.mr, s->target.addr, IBV_WC_LOC_PROT_ERR,
			   "into an unmapped part of a local ODP MR");
	if (!err)
		err = rt_counters_read(d, &c1);
	if (err)
		return err;
	if (c1.errors <= s->c0.errors)
		return rt_fail(d, -EIO, "odp_fault_errors did not rise over the failed accesses (%s)",
			       rt_counters_delta(&s->c0, &c1, buf, sizeof(buf)));
	rt_ok(d, "odp_fault_errors rose over the failed accesses (%s)",
	      rt_counters_delta(&s->c0, &c1, buf, sizeof(buf)));
	return 0;
}

/* Map fresh memory at the hole again, exactly there */
static int remap_hole(struct rt_dev *d, uint8_t *hole, size_t len)
{
	void *m = mmap(hole, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (m == hole)
		return 0;
	rt_fail(d, -EPROTO, "mmap at the hole %p gave %p: %s", (void *)hole, m,
		m == MAP_FAILED ? strerror(errno) : "another address");
	if (m != MAP_FAILED)
		munmap(m, len);
	return -EPROTO;
}

/* Memory mapped at the hole again: the MR follows it (a new QP pair) */
static int munmap_remapped(struct rt_dev *d, struct munmap_case *m)
{
	struct race_setup *s = &m->s;
	size_t len = HOLE_CHUNKS * d->page;
	struct rt_pair *p;
	int err;

	err = remap_hole(d, m->hole, len);
	if (err)
		return err;
	p = pool_take(&s->pool);
	memset(s->local.addr, 0xa5, len);
	err = rdma(d, p, IBV_WR_RDMA_READ, s->local.mr, s->local.addr, len, s->target.mr, m->hole,
		   IBV_WC_SUCCESS, "the hole, mapped again");
	if (!err)
		err = rt_check_val(d, "the hole mapped again, read by RDMA (fresh anonymous memory)",
				   s->local.addr, len, 0);
	if (!err) {
		rt_fill(s->local.addr, s->local.len, 6000, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s->local.mr, s->local.addr + 3,
			   s->target.len - 5, s->target.mr, s->target.addr + 1, IBV_WC_SUCCESS,
			   "all of the target");
	}
	if (!err)
		err = rt_check_pat(d, "the target after one RDMA WRITE over all of it",
				   s->target.addr + 1, s->target.len - 5, 6000, 3);
	if (!err) {
		rt_fill(m->hole, len, 6001, 0);
		memset(s->local.addr, 0, len);
		err = rdma(d, p, IBV_WR_RDMA_READ, s->local.mr, s->local.addr, len, s->target.mr,
			   m->hole, IBV_WC_SUCCESS, "the hole after the CPU wrote it");
	}
	if (!err)
		err = rt_check_pat(d, "the hole written by the CPU, read by RDMA", s->local.addr, len,
				   6001, 0);
	if (!err)
		rt_ok(d, "the hole mapped again (new QP pair): RDMA READ sees fresh zero memory, an RDMA WRITE over the whole target lands, the CPU's bytes are read right");
	return err;
}

/*
 * (a), with the traffic's remote side either the target's own MR or, when
 * @implicit, an implicit ODP MR (address 0, length SIZE_MAX) in its place:
 * then the munmap invalidates the implicit MR's child range, and the local
 * side's hole (munmap_local) is left to the first run.
 */
static int munmap_race(struct rt_dev *d, bool implicit)
{
	struct munmap_case m = { .lh = { 0 } };
	struct ibv_mr *implicit_mr = NULL, *own = NULL;
	unsigned long ev_pass = 0;
	int err;

	rt_set_case(d, implicit ? "races/munmap-implicit" : "races/munmap");
	if (implicit && !(d->attr.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT))
		return rt_fail(d, -EOPNOTSUPP, "rxe0 has no implicit ODP (general ODP caps 0x%" PRIx64 ")",
			       (uint64_t)d->attr.odp_caps.general_caps);
	/* every pair is made now: a QP made later could map its rings into the hole */
	err = race_setup(d, &m.s, 8, implicit ? 7000 : 1000);
	if (!err)
		err = region_new(d, &m.lh, 8, ODP_RW, implicit ? 70 : 40);
	if (err)
		goto out;
	if (implicit) {
		implicit_mr = ibv_reg_mr(d->pd, NULL, SIZE_MAX, ODP_RW);
		if (!implicit_mr) {
			err = rt_fail(d, -errno, "ibv_reg_mr(NULL, SIZE_MAX, ON_DEMAND...): %s",
				      strerror(errno));
			goto out;
		}
		own = m.s.target.mr;
		m.s.target.mr = implicit_mr;
	}
	m.hole = m.s.target.addr + HOLE_FIRST * d->page;
	m.lhole = m.lh.addr + 2 * d->page;
	m.ev = (struct drop_ev){ .addr = m.hole, .len = HOLE_CHUNKS * d->page };
	err = race_run(d, &m.s.r, ev_munmap, &m.ev, 2, &ev_pass);
	if (!err)
		err = munmap_first_failure(d, &m, ev_pass);
	if (!err)
		err = munmap_after(d, &m);
	if (!err && !implicit)
		err = munmap_local(d, &m);
	if (!err)
		err = munmap_remapped(d, &m);
	if (!err && implicit)
		rt_ok(d, "the same through an implicit MR (rkey 0x%x) as the remote side",
		      implicit_mr->rkey);
	if (implicit) {
		m.s.target.mr = own;
		if (ibv_dereg_mr(implicit_mr) && !err)
			err = rt_fail(d, -errno, "ibv_dereg_mr of the implicit MR: %s", strerror(errno));
	}
out:
	rt_region_free(&m.lh);
	race_teardown(&m.s);
	return err;
}

int race_munmap(struct rt_dev *d)
{
	return munmap_race(d, false);
}

int race_munmap_implicit(struct rt_dev *d)
{
	return munmap_race(d, true);
}

static int ev_dontneed(struct rt_dev *d, void *arg)
{
	struct drop_ev *e = arg;
	int err = rt_counter_read(d, "odp_invalidations", &e->inval_before);

	if (!err && madvise(e->addr, e->len, MADV_DONTNEED))
		err = rt_fail(d, -errno, "madvise(%p, %zu, MADV_DONTNEED): %s", (void *)e->addr,
			      e->len, strerror(errno));
	if (!err)
		err = rt_counter_read(d, "odp_invalidations", &e->inval_after);
	return err;
}

/* During the traffic: no access failed, pages were invalidated, the last bytes stayed */
static int dontneed_outcome(struct rt_dev *d, struct race_setup *s, const struct drop_ev *ev)
{
	const size_t z0 = DROP_FIRST, zn = DROP_CHUNKS;
	int err;

	if (s->r.wc_failed)
		return rt_fail(d, -EIO, "%s of chunk %zu in pass %lu failed with %s; MADV_DONTNEED must only make pages re-fault",
			       rt_op_name(s->r.op), s->r.chunk, s->r.pass,
			       ibv_wc_status_str(s->r.wc.status));
	rt_ok(d, "MADV_DONTNEED of chunks %zu-%zu during traffic: no access failed; every byte read back was the one just written or 0 (%lu READs met zero bytes: dropped between their WRITE and READ)",
	      z0, z0 + zn - 1, s->r.zero_reads);
	if (ev->inval_after <= ev->inval_before)
		return rt_fail(d, -EIO, "odp_invalidations did not rise over MADV_DONTNEED of faulted-in pages (%lld before, %lld after)",
			       ev->inval_before, ev->inval_after);
	rt_ok(d, "odp_invalidations rose over the madvise (+%lld)",
	      ev->inval_after - ev->inval_before);
	err = check_last_written(d, &s->r, s->target.addr, 0, RACE_CHUNKS,
				 "the target as the CPU sees it after the traffic");
	if (!err)
		rt_ok(d, "after the traffic every chunk holds the bytes last written into it (CPU view)");
	return err;
}

/* Once more without traffic: dropped pages read as zero, the rest as written */
static int dontneed_again(struct rt_dev *d, struct race_setup *s, uint8_t *zone)
{
	const size_t pg = d->page, z0 = DROP_FIRST, zn = DROP_CHUNKS;
	uint8_t *rb = s->local.addr + RACE_CHUNKS * pg;
	struct rt_counters c1, c2;
	char buf[200];
	int err;

	err = rt_counters_read(d, &c1);
	if (!err && madvise(zone, zn * pg, MADV_DONTNEED))
		err = rt_fail(d, -errno, "madvise(MADV_DONTNEED): %s", strerror(errno));
	if (err)
		return err;
	memset(rb, 0xa5, s->target.len);
	err = rdma(d, s->r.p, IBV_WR_RDMA_READ, s->local.mr, rb, s->target.len, s->target.mr,
		   s->target.addr, IBV_WC_SUCCESS, "all of the target after MADV_DONTNEED");
	if (!err)
		err = check_last_written(d, &s->r, rb, 0, z0,
					 "RDMA READ after MADV_DONTNEED, kept chunk");
	if (!err)
		err = rt_check_val(d, "RDMA READ after MADV_DONTNEED, dropped chunks", rb + z0 * pg,
				   zn * pg, 0);
	if (!err)
		err = check_last_written(d, &s->r, rb, z0 + zn, RACE_CHUNKS - z0 - zn,
					 "RDMA READ after MADV_DONTNEED, kept chunk");
	if (!err)
		err = rt_counters_read(d, &c2);
	if (err)
		return err;
	if (c2.invalidations <= c1.invalidations || c2.faults <= c1.faults ||
	    c2.errors != c1.errors)
		return rt_fail(d, -EIO, "MADV_DONTNEED then RDMA READ: expected odp_invalidations and odp_faults to rise and no fault error, got %s",
			       rt_counters_delta(&c1, &c2, buf, sizeof(buf)));
	rt_ok(d, "MADV_DONTNEED without traffic, then one RDMA READ of all the target (same QP pair): dropped chunks read as zero, the others as written; %s",
	      rt_counters_delta(&c1, &c2, buf, sizeof(buf)));
	return 0;
}

int race_dontneed(struct rt_dev *d)
{
	struct race_setup s;
	struct drop_ev ev;
	unsigned long ev_pass = 0;
	uint8_t *zone;
	int err;

	rt_set_case(d, "races/madvise-dontneed");
	err = race_setup(d, &s, 1, 2000);
	if (err)
		goto out;
	zone = s.target.addr + DROP_FIRST * d->page;
	s.r.zero_ok = true;
	ev = (struct drop_ev){ .addr = zone, .len = DROP_CHUNKS * d->page };
	err = race_run(d, &s.r, ev_dontneed, &ev, 2, &ev_pass);
	if (!err)
		err = dontneed_outcome(d, &s, &ev);
	if (!err)
		err = dontneed_again(d, &s, zone);
	if (err)
		goto out;
	rt_fill(s.local.addr, s.target.len, 2999, 0);
	err = rdma(d, s.r.p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, s.target.len, s.target.mr,
		   s.target.addr, IBV_WC_SUCCESS, "all of the target");
	if (!err)
		err = rt_check_pat(d, "the target after an RDMA WRITE over all of it", s.target.addr,
				   s.target.len, 2999, 0);
	if (!err)
		rt_ok(d, "an RDMA WRITE over all of the target lands (the CPU sees it)");
out:
	race_teardown(&s);
	return err;
}

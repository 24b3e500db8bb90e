/*
 * rxe-odp-test races, pages write-protected under the traffic:
 * (c) mprotect(PROT_READ): only RDMA WRITEs into them fail;
 * (d) fork: copy-on-write; the child's copy never sees the parent's RDMA.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "races.h"

/* (c) read-only: chunks RO_FIRST .. RO_FIRST + RO_CHUNKS - 1 */
#define RO_FIRST 9
#define RO_CHUNKS 4

struct protect_ev {
	uint8_t *addr;
	size_t len;
};

/* The mprotect race: its resources, the read-only zone, local memory made read-only */
struct protect_case {
	struct race_setup s;
	struct rt_region lr;
	uint8_t *zone;
};

static int ev_mprotect(struct rt_dev *d, void *arg)
{
	struct protect_ev *e = arg;

	if (mprotect(e->addr, e->len, PROT_READ))
		return rt_fail(d, -errno, "mprotect(%p, %zu, PROT_READ): %s", (void *)e->addr,
			       e->len, strerror(errno));
	return 0;
}

/* The traffic's first RDMA WRITE into the read-only chunks, and only that, failed */
static int mprotect_first_failure(struct rt_dev *d, struct race *r, unsigned long ev_pass)
{
	const size_t z0 = RO_FIRST, zn = RO_CHUNKS;
	int err;

	if (!r->wc_failed)
		return rt_fail(d, -EIO, "the traffic ran %lu passes of RDMA WRITEs over all chunks after chunks %zu-%zu were made read-only and no write failed",
			       (unsigned long)atomic_load(&r->passes) - ev_pass, z0, z0 + zn - 1);
	if (r->op != IBV_WR_RDMA_WRITE || r->chunk < z0 || r->chunk >= z0 + zn)
		return rt_fail(d, -EIO, "%s of chunk %zu failed (%s); expected only an RDMA WRITE into chunks %zu-%zu (read-only) to fail",
			       rt_op_name(r->op), r->chunk, ibv_wc_status_str(r->wc.status), z0,
			       z0 + zn - 1);
	err = rt_expect_status(d, &r->wc, IBV_WC_REM_ACCESS_ERR,
			       "the traffic's first RDMA WRITE into read-only memory");
	if (!err)
		rt_ok(d, "mprotect(PROT_READ) of chunks %zu-%zu during traffic: the first RDMA WRITE into them (chunk %zu, pass %lu) failed with IBV_WC_REM_ACCESS_ERR; every RDMA READ before it returned the bytes just written",
		      z0, z0 + zn - 1, r->chunk, r->pass);
	return err;
}

/* A new pair: RDMA READ of everything works and matches the CPU's view */
static int mprotect_read_all(struct rt_dev *d, struct protect_case *pc)
{
	const size_t pg = d->page, z0 = RO_FIRST, zn = RO_CHUNKS;
	struct race_setup *s = &pc->s;
	struct rt_pair *p = pool_take(&s->pool);
	uint8_t *rb = s->local.addr + RACE_CHUNKS * pg;
	int err;

	memset(rb, 0xa5, s->target.len);
	err = rdma(d, p, IBV_WR_RDMA_READ, s->local.mr, rb, s->target.len, s->target.mr,
		   s->target.addr, IBV_WC_SUCCESS, "all of the target, part of it read-only");
	if (!err)
		err = rt_check_same(d, "RDMA READ of the target against the CPU's view", rb,
				    s->target.addr, s->target.len);
	if (!err)
		err = check_last_written(d, &s->r, s->target.addr, 0, z0,
					 "writable chunk (CPU view)");
	if (!err)
		err = check_last_written(d, &s->r, s->target.addr, z0 + zn, RACE_CHUNKS - z0 - zn,
					 "writable chunk (CPU view)");
	if (!err) {
		rt_fill(s->local.addr, pg, 3999, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s->local.mr, s->local.addr, pg, s->target.mr,
			   s->target.addr + 2 * pg, IBV_WC_SUCCESS, "into a writable chunk");
	}
	if (!err)
		err = rt_check_pat(d, "writable chunk after an RDMA WRITE", s->target.addr + 2 * pg,
				   pg, 3999, 0);
	if (!err)
		rt_ok(d, "new QP pair: RDMA READ of all the target (read-only part included) returns what the CPU sees; the writable chunks hold the bytes last written; an RDMA WRITE into a writable chunk lands");
	return err;
}

/* Writes and atomics into the read-only part fail and change nothing */
static int mprotect_writes_fail(struct rt_dev *d, struct protect_case *pc)
{
	const size_t pg = d->page;
	struct race_setup *s = &pc->s;
	uint8_t *word = pc->zone + 2 * pg + 8, snap[512];
	uint64_t old, now;
	int err;

	memcpy(snap, pc->zone + pg, sizeof(snap));
	err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_WRITE, s->local.mr, s->local.addr, pg,
		   s->target.mr, pc->zone + pg, IBV_WC_REM_ACCESS_ERR,
		   "into read-only memory, new QP pair");
	if (!err)
		err = rt_check_same(d, "read-only chunk after the failed RDMA WRITE (unchanged)",
				    pc->zone + pg, snap, sizeof(snap));
	if (err)
		return err;
	memcpy(&old, word, 8);
	err = rdma_atomic(d, pool_take(&s->pool), IBV_WR_ATOMIC_FETCH_AND_ADD, s->local.mr,
			  s->local.addr, s->target.mr, word, 1, 0, IBV_WC_REM_ACCESS_ERR,
			  "on read-only memory, new QP pair");
	if (err)
		return err;
	memcpy(&now, word, 8);
	if (now != old)
		return rt_fail(d, -EIO, "the failed atomic changed read-only memory: 0x%016" PRIx64 " -> 0x%016" PRIx64,
			       old, now);
	return 0;
}

/*
 * Local side: an RDMA READ into read-only memory fails; an RDMA WRITE from
 * it works (on the pair that goes to @p).
 */
static int mprotect_local(struct rt_dev *d, struct protect_case *pc, struct rt_pair **p)
{
	const size_t pg = d->page;
	struct race_setup *s = &pc->s;
	struct rt_region *lr = &pc->lr;
	int err;

	if (mprotect(lr->addr, lr->len, PROT_READ))
		return rt_fail(d, -errno, "mprotect: %s", strerror(errno));
	err = rdma(d, pool_take(&s->pool), IBV_WR_RDMA_READ, lr->mr, lr->addr + 10, 2 * pg,
		   s->target.mr, s->target.addr, IBV_WC_LOC_PROT_ERR,
		   "into a read-only part of a local ODP MR");
	if (!err)
		err = rt_check_pat(d, "the read-only local memory (unchanged)", lr->addr, lr->len, 41,
				   0);
	if (err)
		return err;
	*p = pool_take(&s->pool);
	err = rdma(d, *p, IBV_WR_RDMA_WRITE, lr->mr, lr->addr + 10, 2 * pg, s->target.mr,
		   s->target.addr + 3, IBV_WC_SUCCESS, "from read-only local memory");
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE from read-only local memory", s->target.addr + 3,
				   2 * pg, 41, 10);
	if (!err)
		rt_ok(d, "an RDMA WRITE whose source is read-only local ODP memory works");
	return err;
}

/* Writable again: an RDMA WRITE on @p lands there */
static int mprotect_writable(struct rt_dev *d, struct protect_case *pc, struct rt_pair *p)
{
	const size_t len = RO_CHUNKS * d->page;
	struct race_setup *s = &pc->s;
	int err;

	if (mprotect(pc->zone, len, PROT_READ | PROT_WRITE))
		return rt_fail(d, -errno, "mprotect(PROT_READ | PROT_WRITE): %s", strerror(errno));
	rt_fill(s->local.addr, len, 3998, 0);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, s->local.mr, s->local.addr, len, s->target.mr, pc->zone,
		   IBV_WC_SUCCESS, "into the chunks made writable again");
	if (!err)
		err = rt_check_pat(d, "chunks made writable again, after an RDMA WRITE", pc->zone, len,
				   3998, 0);
	if (!err)
		rt_ok(d, "mprotect back to PROT_READ|PROT_WRITE: an RDMA WRITE into those chunks lands");
	return err;
}

int race_mprotect(struct rt_dev *d)
{
	struct protect_case pc = { .lr = { 0 } };
	struct protect_ev ev;
	struct rt_pair *p = NULL;
	unsigned long ev_pass = 0;
	int err;

	rt_set_case(d, "races/mprotect");
	err = race_setup(d, &pc.s, 6, 3000);
	if (!err)
		err = region_new(d, &pc.lr, 4, ODP_RW, 41);
	if (err)
		goto out;
	pc.zone = pc.s.target.addr + RO_FIRST * d->page;
	ev = (struct protect_ev){ .addr = pc.zone, .len = RO_CHUNKS * d->page };
	err = race_run(d, &pc.s.r, ev_mprotect, &ev, 2, &ev_pass);
	if (!err)
		err = mprotect_first_failure(d, &pc.s.r, ev_pass);
	if (!err)
		err = mprotect_read_all(d, &pc);
	if (!err)
		err = mprotect_writes_fail(d, &pc);
	if (!err)
		err = mprotect_local(d, &pc, &p);
	if (!err)
		err = mprotect_writable(d, &pc, p);
out:
	rt_region_free(&pc.lr);
	race_teardown(&pc.s);
	return err;
}

/* (d) fork */

struct fork_ev {
	uint8_t *target;
	uint8_t *snap;		/* the child's copy of the target, as fork left it */
	size_t len;
	int child_status;
	long long inval_before, inval_after;
};

/* How long the child watches its copy while the parent's traffic goes on */
#define FORK_HOLD_MS 600

/*
 * The child: its copy of the target must not change while the parent's
 * RDMA WRITEs go on (they belong to the parent's pages only, even those
 * still shared copy-on-write); then it writes its copy, checks it and goes.
 */
static void __attribute__((noreturn)) fork_child(struct fork_ev *e)
{
	memcpy(e->snap, e->target, e->len);
	rt_sleep_ms(FORK_HOLD_MS);
	if (memcmp(e->snap, e->target, e->len))
		_exit(3);
	memset(e->target, 0xcc, e->len);
	rt_sleep_ms(50);
	memset(e->snap, 0xcc, e->len);
	_exit(memcmp(e->snap, e->target, e->len) ? 4 : 0);
}

static int ev_fork(struct rt_dev *d, void *arg)
{
	struct fork_ev *e = arg;
	pid_t pid;
	int err = rt_counter_read(d, "odp_invalidations", &e->inval_before);

	if (err)
		return err;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return rt_fail(d, -errno, "fork: %s", strerror(errno));
	if (!pid)
		fork_child(e);
	if (waitpid(pid, &e->child_status, 0) != pid)
		return rt_fail(d, -errno, "waitpid: %s", strerror(errno));
	if (WIFEXITED(e->child_status) && WEXITSTATUS(e->child_status) == 3)
		return rt_fail(d, -EIO, "the child's copy of the target changed while the parent's RDMA WRITEs went on: the device wrote into pages the child shares");
	if (!WIFEXITED(e->child_status) || WEXITSTATUS(e->child_status))
		return rt_fail(d, -EIO, "the child did not exit 0 (wait status 0x%x; exit 4: its own writes did not stick)",
			       e->child_status);
	return rt_counter_read(d, "odp_invalidations", &e->inval_after);
}

/* Over the fork: no access failed, pages were invalidated, the parent kept RDMA's bytes */
static int fork_outcome(struct rt_dev *d, struct race_setup *s, const struct fork_ev *ev)
{
	int err;

	if (s->r.wc_failed)
		return rt_fail(d, -EIO, "%s of chunk %zu in pass %lu failed with %s after fork",
			       rt_op_name(s->r.op), s->r.chunk, s->r.pass,
			       ibv_wc_status_str(s->r.wc.status));
	rt_ok(d, "fork during traffic: for %d ms the child's copy of the target did not change while the parent's RDMA WRITEs went on; then the child wrote 0xcc over it and exited 0; every RDMA READ of the parent returned the bytes just written",
	      FORK_HOLD_MS);
	if (ev->inval_after <= ev->inval_before)
		return rt_fail(d, -EIO, "odp_invalidations did not rise over the fork (copy-on-write protects the parent's faulted-in pages): %lld before, %lld after",
			       ev->inval_before, ev->inval_after);
	rt_ok(d, "odp_invalidations rose over the fork and the child's life (+%lld)",
	      ev->inval_after - ev->inval_before);
	err = check_last_written(d, &s->r, s->target.addr, 0, RACE_CHUNKS,
				 "the parent's target after the child wrote its copy (CPU view)");
	if (!err)
		rt_ok(d, "the parent's target holds the bytes last written by RDMA, none of the child's");
	return err;
}

/* The MR follows the parent's pages: the CPU's bytes are read, RDMA's are seen */
static int fork_after(struct rt_dev *d, struct race_setup *s)
{
	uint8_t *rb = s->local.addr + RACE_CHUNKS * d->page;
	int err;

	rt_fill(s->target.addr, s->target.len, 4998, 0);
	memset(rb, 0, s->target.len);
	err = rdma(d, s->r.p, IBV_WR_RDMA_READ, s->local.mr, rb, s->target.len, s->target.mr,
		   s->target.addr, IBV_WC_SUCCESS,
		   "all of the target after the parent's CPU wrote it");
	if (!err)
		err = rt_check_pat(d, "RDMA READ of what the parent's CPU wrote after fork", rb,
				   s->target.len, 4998, 0);
	if (!err) {
		rt_fill(s->local.addr, s->target.len, 4997, 0);
		err = rdma(d, s->r.p, IBV_WR_RDMA_WRITE, s->local.mr, s->local.addr, s->target.len,
			   s->target.mr, s->target.addr, IBV_WC_SUCCESS,
			   "all of the target after fork");
	}
	if (!err)
		err = rt_check_pat(d, "the parent's target after an RDMA WRITE over it",
				   s->target.addr, s->target.len, 4997, 0);
	if (!err)
		rt_ok(d, "after fork (same QP pair): RDMA READ returns what the parent's CPU wrote, an RDMA WRITE lands where the parent's CPU sees it");
	return err;
}

int race_fork(struct rt_dev *d)
{
	struct race_setup s;
	struct fork_ev ev = { 0 };
	unsigned long ev_pass = 0;
	int err;

	rt_set_case(d, "races/fork");
	err = race_setup(d, &s, 1, 4000);
	if (err)
		goto out;
	ev = (struct fork_ev){ .target = s.target.addr, .len = s.target.len,
			       .snap = malloc(s.target.len) };
	if (!ev.snap) {
		err = rt_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	err = race_run(d, &s.r, ev_fork, &ev, 2, &ev_pass);
	if (!err)
		err = fork_outcome(d, &s, &ev);
	if (!err)
		err = fork_after(d, &s);
out:
	free(ev.snap);
	race_teardown(&s);
	return err;
}

/*
 * rxe-odp-test bad-input: ODP registrations refused (tables of cases);
 * ODP MRs over unmapped memory register, and an access through them fails;
 * the QP is then in the error state and takes no new work; a new pair
 * works. ibv_advise_mr on bad input (a table of cases; needs a provider
 * with advise_mr, else EXIT_NO_ADVISE once the other checks passed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "odp-test.h"

/* The memory and pairs of bad-input */
struct bad_ctx {
	struct rt_region b, gone, good, pinned, lgone;
	struct pool pl;
};

/* An ODP registration that must be refused */
struct bad_reg {
	const char *what;
	void *addr;
	size_t len;
	int want;		/* errno */
};

/* An ibv_advise_mr call that must be refused */
struct bad_advice {
	const char *what;
	enum ibv_advise_mr_advice advice;
	bool sync;
	uint32_t lkey;
	const void *addr;
	size_t len;
	int want, also;		/* errno expected, another one accepted (0: none) */
};

static int bad_reg_one(struct rt_dev *d, const struct bad_reg *c)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(d->pd, c->addr, c->len, ODP_RW);
	if (mr) {
		ibv_dereg_mr(mr);
		return rt_fail(d, -EIO, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s) succeeded, expected %s",
			       c->addr, c->len, c->what, strerrorname_np(c->want));
	}
	if (errno != c->want)
		return rt_fail(d, -EIO, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s) failed with %s, expected %s",
			       c->addr, c->len, c->what, strerror(errno), strerrorname_np(c->want));
	rt_ok(d, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s): %s", c->addr, c->len, c->what,
	      strerrorname_np(c->want));
	return 0;
}

/*
 * Length 0, ranges that wrap around the address space, ranges at or
 * running past the end of the user address space (found at run time).
 */
static int reg_refused(struct rt_dev *d, struct rt_region *b)
{
	const size_t pg = d->page;
	bool la57 = false;
	const uintptr_t end = user_va_end(pg, &la57);
	const struct bad_reg cases[] = {
		{ "length 0", b->addr, 0, EINVAL },
		{ "starts 2 pages below the top of the address space, wraps around",
		  (void *)(uintptr_t)(0 - 2 * pg), 4 * pg, EINVAL },
		{ "a mapped buffer, a length that wraps around",
		  b->addr, (size_t)0 - (uintptr_t)b->addr + pg, EINVAL },
		{ "starts at the end of the user address space", (void *)end, 1 << 20, EINVAL },
		{ "starts 2 pages below the end of the user address space, runs past it",
		  (void *)(end - 2 * pg), 1 << 20, EINVAL },
	};
	struct ibv_mr *mr;
	size_t i;
	int err = 0;

	rt_info(d, "the user address space ends at %#" PRIxPTR " (%s-level paging)", end,
		la57 ? "5" : "4");
	for (i = 0; i < RT_ARRAY_SIZE(cases) && !err; i++)
		err = bad_reg_one(d, &cases[i]);
	if (err || !la57)
		return err;
	/* the example of 4-level paging is user address space here */
	mr = ibv_reg_mr(d->pd, (void *)(uintptr_t)0x7ffffffff000ULL, 1 << 20, ODP_RW);
	rt_info(d, "ibv_reg_mr(0x7ffffffff000, 0x100000, ON_DEMAND), inside the user address space with 5-level paging: %s",
		mr ? "registered" : strerror(errno));
	if (mr)
		ibv_dereg_mr(mr);
	return 0;
}

/*
 * Persistence (IB_UVERBS_ACCESS_FLUSH_PERSISTENT, 1 << 9; libibverbs 44 has
 * no name for it) is proven at registration, page by page, for a pinned MR
 * (rxe refuses memory that is not pmem): an ODP MR, whose pages come later,
 * must be refused as the pinned MR over the same memory is.
 */
static int reg_persistent_refused(struct rt_dev *d, struct rt_region *b)
{
	const int persistent = 1 << 9;
	struct ibv_mr *mr;
	int pinned_err;

	errno = 0;
	mr = ibv_reg_mr(d->pd, b->addr, b->len, PINNED_RW | persistent);
	if (mr) {
		ibv_dereg_mr(mr);
		return rt_fail(d, -EIO, "ibv_reg_mr(FLUSH_PERSISTENT) of anonymous memory, pinned, succeeded: it is not pmem");
	}
	pinned_err = errno;
	errno = 0;
	mr = ibv_reg_mr(d->pd, b->addr, b->len, ODP_RW | persistent);
	if (mr) {
		ibv_dereg_mr(mr);
		return rt_fail(d, -EIO, "ibv_reg_mr(ON_DEMAND | FLUSH_PERSISTENT) succeeded; pinned, the same memory is refused with %s",
			       strerrorname_np(pinned_err));
	}
	if (errno != pinned_err)
		return rt_fail(d, -EIO, "ibv_reg_mr(ON_DEMAND | FLUSH_PERSISTENT) failed with %s, pinned with %s",
			       strerrorname_np(errno), strerrorname_np(pinned_err));
	rt_ok(d, "ibv_reg_mr(FLUSH_PERSISTENT) of anonymous memory: %s, ODP and pinned",
	      strerrorname_np(pinned_err));
	return 0;
}

/* ODP MRs over unmapped memory register: nothing is faulted at registration */
static int reg_unmapped(struct rt_dev *d, struct bad_ctx *c)
{
	const size_t pg = d->page;
	int err;

	err = pool_fill(d, &c->pl, 4);
	if (!err)
		err = rt_region_map(d, &c->gone, 4 * pg);
	if (!err)
		err = region_new(d, &c->good, 4, ODP_RW, 61);
	if (!err)
		err = rt_region_map(d, &c->lgone, 4 * pg);
	if (err)
		return err;
	if (munmap(c->gone.addr, c->gone.len) || munmap(c->lgone.addr, c->lgone.len))
		return rt_fail(d, -errno, "munmap: %s", strerror(errno));
	err = rt_region_reg(d, &c->gone, ODP_RW);
	if (!err)
		err = rt_region_reg(d, &c->lgone, ODP_RW);
	if (err)
		return err;
	rt_ok(d, "ODP MRs over unmapped memory registered (nothing is faulted at registration)");
	if (!range_unmapped(c->gone.addr, c->gone.len, pg) ||
	    !range_unmapped(c->lgone.addr, c->lgone.len, pg))
		return rt_fail(d, -EPROTO, "something was mapped into the unmapped ranges meanwhile");
	return 0;
}

/*
 * After a work request of qp[0] failed: the QP is in the error state, and a
 * new work request is refused or flushed, never executed.
 */
static int post_after_error(struct rt_dev *d, struct rt_pair *p, struct rt_region *src,
			    struct rt_region *dst)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr, .length = 64, .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 99, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_RDMA_WRITE,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc;
	uint8_t snap[64];
	int err;

	err = ibv_query_qp(p->qp[0], &a, IBV_QP_STATE, &ia);
	if (err)
		return rt_fail(d, -err, "ibv_query_qp: %s", strerror(err));
	if (a.qp_state != IBV_QPS_ERR)
		return rt_fail(d, -EIO, "QP state after the failed work request: %d, expected IBV_QPS_ERR (%d)",
			       a.qp_state, IBV_QPS_ERR);
	memcpy(snap, dst->addr, sizeof(snap));
	wr.wr.rdma.remote_addr = (uintptr_t)dst->addr;
	wr.wr.rdma.rkey = dst->mr->rkey;
	err = ibv_post_send(p->qp[0], &wr, &bad);
	if (err) {
		rt_ok(d, "QP in IBV_QPS_ERR; a new RDMA WRITE on it is refused by ibv_post_send (%s)",
		      strerror(err));
	} else {
		err = rt_wait_wc(d, p, p->scq, &wc, "RDMA WRITE posted after the error");
		if (err)
			return err;
		if (wc.status != IBV_WC_WR_FLUSH_ERR)
			return rt_fail(d, -EIO, "RDMA WRITE posted to the QP in error: completed with %s, expected IBV_WC_WR_FLUSH_ERR",
				       ibv_wc_status_str(wc.status));
		rt_ok(d, "QP in IBV_QPS_ERR; a new RDMA WRITE posted to it completes with IBV_WC_WR_FLUSH_ERR");
	}
	return rt_check_same(d, "target of the RDMA WRITE posted after the error (unchanged)",
			     dst->addr, snap, sizeof(snap));
}

/* Remote and local accesses of unmapped memory fail; the QP takes no new work */
static int access_unmapped(struct rt_dev *d, struct bad_ctx *c)
{
	const size_t pg = d->page;
	struct rt_pair *p = pool_take(&c->pl);
	int err;

	err = rdma(d, p, IBV_WR_RDMA_WRITE, c->good.mr, c->good.addr, 100, c->gone.mr,
		   c->gone.addr + 7, IBV_WC_REM_ACCESS_ERR, "into an ODP MR over unmapped memory");
	if (!err)
		err = post_after_error(d, p, &c->good, &c->good);
	p = pool_take(&c->pl);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, c->lgone.mr, c->lgone.addr + 7, 100, c->good.mr,
			   c->good.addr, IBV_WC_LOC_PROT_ERR,
			   "from a local ODP MR over unmapped memory");
	if (!err)
		err = post_after_error(d, p, &c->good, &c->good);
	if (err)
		return err;

	/* the process and the device still work */
	memset(c->good.addr + 2 * pg, 0, pg);
	err = rdma(d, pool_take(&c->pl), IBV_WR_RDMA_WRITE, c->good.mr, c->good.addr + 5, pg - 10,
		   c->good.mr, c->good.addr + 2 * pg + 3, IBV_WC_SUCCESS,
		   "after the errors, new QP pair");
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE after the errors", c->good.addr + 2 * pg + 3,
				   pg - 10, 61, 5);
	if (!err)
		rt_ok(d, "after the refused registrations and the failed work requests, a new QP pair moves the right bytes");
	return err;
}

static int bad_advice_one(struct rt_dev *d, const struct bad_advice *c)
{
	const char *how = c->sync ? "FLUSH" : "async";
	int ret = advise(d, c->advice, c->sync, c->lkey, c->addr, c->len);

	if (ret && (ret == c->want || ret == c->also)) {
		rt_ok(d, "advise_mr(%s, %s) %s: %s", advice_name(c->advice), how, c->what,
		      strerrorname_np(ret));
		return 0;
	}
	return rt_fail(d, -EIO, "advise_mr(%s, %s) %s: %s, expected %s%s%s",
		       advice_name(c->advice), how, c->what, ret ? strerror(ret) : "success",
		       strerrorname_np(c->want), c->also ? " or " : "",
		       c->also ? strerrorname_np(c->also) : "");
}

/* The lkey of an ODP MR over @r that was registered and deregistered again */
static int dead_lkey(struct rt_dev *d, struct rt_region *r, uint32_t *lkey)
{
	struct ibv_mr *mr = ibv_reg_mr(d->pd, r->addr, d->page, ODP_RW);

	if (!mr)
		return rt_fail(d, -errno, "ibv_reg_mr: %s", strerror(errno));
	*lkey = mr->lkey;
	ibv_dereg_mr(mr);
	return 0;
}

/*
 * advise_mr on a pinned MR, of ranges outside an ODP MR (past its end,
 * before its start), with the lkey of a deregistered MR @dead, and of an
 * implicit MR beyond the end of the user address space.
 */
static int advise_refused(struct rt_dev *d, struct bad_ctx *c, uint32_t dead)
{
	const size_t pg = d->page;
	bool la57;
	uint8_t *beyond = (uint8_t *)user_va_end(pg, &la57);
	struct ibv_mr *imr = ibv_reg_mr(d->pd, NULL, SIZE_MAX, ODP_RW);
	const uint32_t ikey = imr ? imr->lkey : 0;
	const enum ibv_advise_mr_advice pf = IBV_ADVISE_MR_ADVICE_PREFETCH;
	const enum ibv_advise_mr_advice pfw = IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE;
	const uint32_t pin = c->pinned.mr->lkey, lkey = c->good.mr->lkey;
	uint8_t *good = c->good.addr;
	char dead_what[64];
	const struct bad_advice cases[] = {
		{ "on a pinned (not ODP) MR", pf, true, pin, c->pinned.addr, pg, EINVAL, 0 },
		{ "on a pinned (not ODP) MR", pfw, false, pin, c->pinned.addr, pg, EINVAL, 0 },
		{ "of a range running past the end of the MR", pf, true, lkey, good + 3 * pg, 2 * pg,
		  EFAULT, 0 },
		{ "of a range starting before the MR", pfw, false, lkey, good - pg, 2 * pg, EFAULT,
		  0 },
		{ dead_what, pf, true, dead, good, pg, EINVAL, ENOENT },
		{ "of an implicit MR beyond the user address space", pfw, true, ikey, beyond, pg,
		  EFAULT, 0 },
	};
	size_t i;
	int err = 0;

	if (!imr)
		return rt_fail(d, -errno, "ibv_reg_mr of an implicit ODP MR: %s", strerror(errno));
	snprintf(dead_what, sizeof(dead_what), "with the lkey 0x%x of a deregistered MR", dead);
	for (i = 0; i < RT_ARRAY_SIZE(cases) && !err; i++)
		err = bad_advice_one(d, &cases[i]);
	ibv_dereg_mr(imr);
	return err;
}

/* ibv_advise_mr on bad input is refused; the MR still works afterwards */
static int advise_bad(struct rt_dev *d, struct bad_ctx *c)
{
	const size_t pg = d->page;
	uint32_t dead = 0;
	int ret, err;

	err = advise_supported(d, &c->good);
	if (!err)
		err = region_new(d, &c->pinned, 2, PINNED_RW, -1);
	if (!err)
		err = dead_lkey(d, &c->good, &dead);
	if (!err)
		err = advise_refused(d, c, dead);
	if (err)
		return err;
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, true, c->good.mr->lkey, c->good.addr,
		     c->good.len);
	if (ret)
		return rt_fail(d, -ret, "advise_mr(PREFETCH_WRITE, FLUSH) of a whole valid ODP MR after the bad calls: %s",
			       strerror(ret));
	memset(c->good.addr + 3 * pg, 0, pg);
	err = rdma(d, pool_take(&c->pl), IBV_WR_RDMA_WRITE, c->good.mr, c->good.addr + 11, 200,
		   c->good.mr, c->good.addr + 3 * pg + 1, IBV_WC_SUCCESS,
		   "after the bad advise_mr calls");
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE after the bad advise_mr calls",
				   c->good.addr + 3 * pg + 1, 200, 61, 11);
	if (!err)
		rt_ok(d, "after the bad advise_mr calls, advise_mr and RDMA on the MR still work");
	return err;
}

int cmd_bad_input(struct rt_dev *d, const struct options *o)
{
	struct bad_ctx c;
	int err;

	(void)o;
	memset(&c, 0, sizeof(c));
	rt_set_case(d, "bad-input/caps");
	err = check_caps(d, false);
	if (err)
		return err;
	rt_set_case(d, "bad-input/reg");
	err = rt_region_map(d, &c.b, 4 * d->page);
	if (!err)
		err = reg_refused(d, &c.b);
	if (!err)
		err = reg_persistent_refused(d, &c.b);
	if (!err)
		err = reg_unmapped(d, &c);
	if (!err) {
		rt_set_case(d, "bad-input/post-after-error");
		err = access_unmapped(d, &c);
	}
	if (!err) {
		rt_set_case(d, "bad-input/advise-mr");
		err = advise_bad(d, &c);
	}
	pool_free(&c.pl);
	rt_region_free(&c.pinned);
	rt_region_free(&c.good);
	rt_region_free(&c.gone);
	rt_region_free(&c.lgone);
	rt_region_free(&c.b);
	return err;
}

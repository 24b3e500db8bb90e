/*
 * rxe-odp-test prefetch: ibv_advise_mr PREFETCH and PREFETCH_WRITE,
 * synchronous (FLUSH) and asynchronous, raise odp_prefetches by one per
 * range and spare the following transfer its faults; a read prefetch
 * leaves a WRITE to fault; PREFETCH_NO_FAULT; two ranges in one call.
 * Then --repeat runs of an asynchronous prefetch with RC traffic at once.
 * Needs a provider with advise_mr (msrxe), else EXIT_NO_ADVISE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "odp-test.h"

/* What the prefetch checks share: a pair, the pinned local side, the target */
struct pf_ctx {
	struct rt_pair p;
	struct rt_region l;	/* pinned: every ODP fault counted is the target's */
	struct rt_region t;	/* the ODP target, 8 pages, made fresh for each check */
	struct rt_counters c0, c1;	/* before the prefetch, after the transfer */
	size_t len;		/* 8 pages */
};

/*
 * Prefetch x->t (the remote side) with @a, then move x->len bytes with @op
 * through the pinned local x->l; the transfer must add no odp_faults when
 * @want_no_faults, else at least one. The counters go to x->c0, x->c1.
 */
static int prefetch_then(struct rt_dev *d, struct pf_ctx *x, enum ibv_advise_mr_advice a,
			 bool sync, enum ibv_wr_opcode op, bool want_no_faults)
{
	const char *how = sync ? "FLUSH" : "async";
	struct rt_counters mid, *c0 = &x->c0, *c1 = &x->c1;
	char buf[200];
	long long pf;
	int ret, err;

	err = rt_counters_read(d, c0);
	if (err)
		return err;
	ret = advise(d, a, sync, x->t.mr->lkey, x->t.addr, x->len);
	if (ret)
		return rt_fail(d, -ret, "advise_mr(%s, %s) of %zu bytes of an ODP MR: %s",
			       advice_name(a), how, x->len, strerror(ret));
	if (!sync)
		err = rt_counter_wait(d, "odp_prefetches", c0->prefetches + 1, &pf);
	if (!err)
		err = rt_counters_read(d, &mid);
	if (err)
		return err;
	if (mid.prefetches != c0->prefetches + 1)
		return rt_fail(d, -EIO, "advise_mr(%s, %s) of one range: odp_prefetches +%lld, expected +1",
			       advice_name(a), how, mid.prefetches - c0->prefetches);
	err = rdma(d, &x->p, op, x->l.mr, x->l.addr, x->len, x->t.mr, x->t.addr, IBV_WC_SUCCESS,
		   "after the prefetch");
	if (!err)
		err = rt_counters_read(d, c1);
	if (err)
		return err;
	if (want_no_faults && c1->faults != mid.faults)
		return rt_fail(d, -EIO, "%s of the prefetched range after advise_mr(%s, %s): odp_faults +%lld, expected +0 (%s)",
			       rt_op_name(op), advice_name(a), how, c1->faults - mid.faults,
			       rt_counters_delta(c0, c1, buf, sizeof(buf)));
	if (!want_no_faults && c1->faults == mid.faults)
		return rt_fail(d, -EIO, "%s after advise_mr(%s, %s): no odp_faults, expected the transfer to fault (%s)",
			       rt_op_name(op), advice_name(a), how,
			       rt_counters_delta(c0, c1, buf, sizeof(buf)));
	return 0;
}

/* For reading: the CPU wrote the target, RDMA READ reads it */
static int prefetch_read(struct rt_dev *d, struct pf_ctx *x, bool sync, uint32_t seed)
{
	char buf[200];
	int err;

	err = region_new(d, &x->t, 8, ODP_RW, seed);
	if (!err) {
		memset(x->l.addr, 0, x->l.len);
		err = prefetch_then(d, x, IBV_ADVISE_MR_ADVICE_PREFETCH, sync, IBV_WR_RDMA_READ,
				    true);
	}
	if (!err)
		err = rt_check_pat(d, "RDMA READ of the range prefetched for reading", x->l.addr,
				   x->len, seed, 0);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH, %s) of 8 pages the CPU wrote, then RDMA READ of them: no fault, right bytes; %s",
		      sync ? "FLUSH" : "async", rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	rt_region_free(&x->t);
	return err;
}

/* For writing: pages never touched, RDMA WRITE into them */
static int prefetch_write(struct rt_dev *d, struct pf_ctx *x, bool sync, uint32_t seed)
{
	char buf[200];
	int err;

	err = region_new(d, &x->t, 8, ODP_RW, -1);
	if (!err) {
		rt_fill(x->l.addr, x->len, seed, 0);
		err = prefetch_then(d, x, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, sync,
				    IBV_WR_RDMA_WRITE, true);
	}
	if (!err)
		err = rt_check_pat(d, "target of the RDMA WRITE into the range prefetched for writing",
				   x->t.addr, x->len, seed, 0);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH_WRITE, %s) of 8 pages never touched, then RDMA WRITE into them: no fault, right bytes; %s",
		      sync ? "FLUSH" : "async", rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	rt_region_free(&x->t);
	return err;
}

/* The counter means something: a read prefetch of untouched memory maps the zero page */
static int prefetch_read_then_write(struct rt_dev *d, struct pf_ctx *x)
{
	char buf[200];
	int err;

	rt_set_case(d, "prefetch/read-then-write");
	err = region_new(d, &x->t, 8, ODP_RW, -1);
	if (!err) {
		rt_fill(x->l.addr, x->len, 74, 0);
		err = prefetch_then(d, x, IBV_ADVISE_MR_ADVICE_PREFETCH, true, IBV_WR_RDMA_WRITE,
				    false);
	}
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE after a read prefetch", x->t.addr, x->len, 74, 0);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH, FLUSH) of pages never touched maps them for reading only: an RDMA WRITE into them faults (%s) and lands",
		      rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	rt_region_free(&x->t);
	return err;
}

/* A no-fault prefetch of pages the CPU wrote (so mapped) spares the READ its faults */
static int no_fault_mapped(struct rt_dev *d, struct pf_ctx *x)
{
	char buf[200];
	int err;

	err = region_new(d, &x->t, 8, ODP_RW, 75);
	if (!err) {
		memset(x->l.addr, 0, x->l.len);
		err = prefetch_then(d, x, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, true,
				    IBV_WR_RDMA_READ, true);
	}
	if (!err)
		err = rt_check_pat(d, "RDMA READ after a no-fault prefetch", x->l.addr, x->len, 75, 0);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages the CPU wrote (so mapped), then RDMA READ: no fault, right bytes; %s",
		      rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	rt_region_free(&x->t);
	return err;
}

/* Pages the CPU never touched: nothing to take over, the access faults */
static int no_fault_untouched(struct rt_dev *d, struct pf_ctx *x)
{
	struct rt_counters mid;
	char buf[200];
	int ret, err;

	err = region_new(d, &x->t, 8, ODP_RW, -1);
	if (!err)
		err = rt_counters_read(d, &x->c0);
	if (err)
		return err;
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, true, x->t.mr->lkey, x->t.addr,
		     x->len);
	if (ret)
		return rt_fail(d, -ret, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages never touched: %s, expected success (there is nothing to map)",
			       strerror(ret));
	err = rt_counters_read(d, &mid);
	if (err)
		return err;
	rt_info(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages never touched: odp_prefetches +%lld (nothing was mapped)",
		mid.prefetches - x->c0.prefetches);
	memset(x->l.addr, 0xa5, x->l.len);
	err = rdma(d, &x->p, IBV_WR_RDMA_READ, x->l.mr, x->l.addr, x->len, x->t.mr, x->t.addr,
		   IBV_WC_SUCCESS, "after a no-fault prefetch of pages never touched");
	if (!err)
		err = rt_counters_read(d, &x->c1);
	if (!err && x->c1.faults == mid.faults)
		err = rt_fail(d, -EIO, "RDMA READ of pages never touched after a no-fault prefetch: no odp_faults, expected the transfer to fault (%s)",
			      rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	if (!err)
		err = rt_check_val(d, "RDMA READ of pages never touched", x->l.addr, x->len, 0);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of pages never touched succeeds, maps nothing: the RDMA READ then faults and reads zeros; %s",
		      rt_counters_delta(&x->c0, &x->c1, buf, sizeof(buf)));
	return err;
}

/* Two ranges in one call: counted twice, both spared their faults */
static int prefetch_two_ranges(struct rt_dev *d, struct pf_ctx *x)
{
	const size_t pg = d->page;
	struct rt_region *t = &x->t, *l = &x->l;
	struct ibv_sge sge[2];
	int ret, err;

	rt_set_case(d, "prefetch/two-ranges");
	err = region_new(d, t, 8, ODP_RW, -1);
	if (!err)
		err = rt_counters_read(d, &x->c0);
	if (err)
		return err;
	sge[0] = (struct ibv_sge){ .addr = (uintptr_t)t->addr + 100, .length = (uint32_t)(2 * pg),
				   .lkey = t->mr->lkey };
	sge[1] = (struct ibv_sge){ .addr = (uintptr_t)t->addr + 5 * pg,
				   .length = (uint32_t)(3 * pg), .lkey = t->mr->lkey };
	ret = ibv_advise_mr(d->pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, IBV_ADVISE_MR_FLAG_FLUSH,
			    sge, 2);
	if (ret)
		return rt_fail(d, -ret, "advise_mr(PREFETCH_WRITE, FLUSH) of two ranges: %s",
			       strerror(ret));
	err = rt_counters_read(d, &x->c1);
	if (!err && x->c1.prefetches != x->c0.prefetches + 2)
		err = rt_fail(d, -EIO, "advise_mr of two ranges: odp_prefetches +%lld, expected +2",
			      x->c1.prefetches - x->c0.prefetches);
	if (!err) {
		rt_fill(l->addr, x->len, 76, 0);
		err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, l->mr, l->addr + 100, 2 * pg, t->mr,
			   t->addr + 100, IBV_WC_SUCCESS, "into the first range");
	}
	if (!err)
		err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, l->mr, l->addr + 5 * pg, 3 * pg, t->mr,
			   t->addr + 5 * pg, IBV_WC_SUCCESS, "into the second range");
	if (!err)
		err = rt_counters_read(d, &x->c0);
	if (!err && x->c0.faults != x->c1.faults)
		err = rt_fail(d, -EIO, "RDMA WRITEs into the two prefetched ranges: odp_faults +%lld, expected +0",
			      x->c0.faults - x->c1.faults);
	if (!err)
		err = rt_check_landed(d, "first prefetched range", t->addr, 5 * pg, 100, 2 * pg, 76,
				      100);
	if (!err)
		err = rt_check_pat(d, "second prefetched range", t->addr + 5 * pg, 3 * pg, 76, 5 * pg);
	if (!err)
		rt_ok(d, "advise_mr(PREFETCH_WRITE, FLUSH) of two ranges in one call: odp_prefetches +2; RDMA WRITEs into both: no fault, right bytes");
	return err;
}

static int prefetch_checks(struct rt_dev *d)
{
	struct pf_ctx x = { .len = 8 * d->page };
	int i, err;

	err = pair_new(d, &x.p, IBV_QPT_RC, false);
	if (!err)
		err = region_new(d, &x.l, 8, PINNED_RW, -1);
	for (i = 0; i < 2 && !err; i++) {
		rt_set_case(d, i ? "prefetch/async" : "prefetch/sync");
		err = prefetch_read(d, &x, !i, 70 + (uint32_t)i);
		if (!err)
			err = prefetch_write(d, &x, !i, 72 + (uint32_t)i);
	}
	if (!err)
		err = prefetch_read_then_write(d, &x);
	if (!err) {
		rt_set_case(d, "prefetch/no-fault");
		err = no_fault_mapped(d, &x);
	}
	if (!err)
		err = no_fault_untouched(d, &x);
	rt_region_free(&x.t);
	if (!err)
		err = prefetch_two_ranges(d, &x);
	rt_region_free(&x.t);
	rt_region_free(&x.l);
	rt_pair_free(&x.p);
	return err;
}

/* SEND @len bytes from @src + 13 into @dst + 7: received right */
static int send_after_prefetch(struct rt_dev *d, struct rt_pair *p, struct rt_region *src,
			       struct rt_region *dst, size_t len, uint32_t seed)
{
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr + 13, .length = (uint32_t)len,
			       .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND };
	struct ibv_wc wc;
	int err;

	err = rt_post_recv(d, p, dst->mr, dst->addr + 7, len, 41);
	if (!err)
		err = rt_exec_wr(d, p, &wr, &wc, "SEND");
	if (!err)
		err = rt_expect_status(d, &wc, IBV_WC_SUCCESS, "SEND");
	if (!err)
		err = rt_expect_recv(d, p, 41, (uint32_t)len, &wc, "RECV");
	if (!err)
		err = rt_check_pat(d, "received bytes", dst->addr + 7, len, seed, 13);
	return err;
}

/*
 * Asynchronous prefetch, then traffic at once over the same MRs (SEND,
 * RDMA WRITE, RDMA READ), every byte checked; the MRs are deregistered and
 * the memory unmapped right after, while the prefetch may still run.
 */
static int prefetch_traffic_once(struct rt_dev *d, struct rt_pair *p, unsigned long it)
{
	size_t pg = d->page, len = 5 * pg + 321;
	uint32_t seed = 100 + (uint32_t)it;
	struct rt_region src = { 0 }, dst = { 0 };
	int ret, err;

	err = region_new(d, &src, 8, ODP_RW, seed);
	if (!err)
		err = region_new(d, &dst, 16, ODP_RW, -1);
	if (err)
		goto out;
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, false, src.mr->lkey, src.addr, src.len);
	if (!ret)
		ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, false, dst.mr->lkey, dst.addr,
			     dst.len);
	if (ret) {
		err = rt_fail(d, -ret, "asynchronous advise_mr: %s", strerror(ret));
		goto out;
	}
	/* SEND into the first half of dst */
	err = send_after_prefetch(d, p, &src, &dst, len, seed);
	/* RDMA WRITE into the second half, RDMA READ back into src's tail */
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, src.mr, src.addr + 1, 7 * pg, dst.mr,
			   dst.addr + 8 * pg + 3, IBV_WC_SUCCESS, "after an async prefetch");
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE target", dst.addr + 8 * pg + 3, 7 * pg, seed, 1);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, src.mr, src.addr + 6 * pg, 2 * pg, dst.mr,
			   dst.addr + 8 * pg + 3, IBV_WC_SUCCESS, "after an async prefetch");
	if (!err)
		err = rt_check_pat(d, "RDMA READ target", src.addr + 6 * pg, 2 * pg, seed, 1);
	if (!err)
		err = rt_check_pat(d, "RDMA READ source region head (unchanged)", src.addr, 6 * pg,
				   seed, 0);
	if (!err)
		err = rt_check_val(d, "dst bytes nothing was sent to", dst.addr + 7 + len,
				   8 * pg + 3 - 7 - len, 0);
out:
	rt_region_free(&src);
	rt_region_free(&dst);
	return err;
}

/* @repeat runs of prefetch_traffic_once(); odp_prefetches rises by exactly 2 a run */
static int prefetch_traffic(struct rt_dev *d, unsigned long repeat)
{
	const long long want = 2 * (long long)repeat;
	struct rt_counters c0, c1;
	struct rt_pair p = { 0 };
	unsigned long it;
	long long pf;
	char buf[200];
	int err;

	rt_set_case(d, "prefetch/async-rc-traffic");
	err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err)
		err = rt_counters_read(d, &c0);
	for (it = 0; it < repeat && !err; it++) {
		err = prefetch_traffic_once(d, &p, it);
		if (err)
			rt_fail(d, err, "run %lu of %lu failed (above)", it + 1, repeat);
	}
	rt_pair_free(&p);
	if (err)
		return err;
	/* each run asked for two prefetches; deregistration waits for them */
	err = rt_counter_wait(d, "odp_prefetches", c0.prefetches + want, &pf);
	if (!err)
		err = rt_counters_read(d, &c1);
	if (err)
		return err;
	if (c1.prefetches != c0.prefetches + want)
		return rt_fail(d, -EIO, "odp_prefetches +%lld over %lu runs of two asynchronous prefetches, expected +%lu",
			       c1.prefetches - c0.prefetches, repeat, 2 * repeat);
	rt_ok(d, "%lu runs: asynchronous PREFETCH and PREFETCH_WRITE of fresh ODP MRs, at once SEND, RDMA WRITE and RDMA READ over them, MRs deregistered and memory unmapped right after: every byte right every time; %s",
	      repeat, rt_counters_delta(&c0, &c1, buf, sizeof(buf)));
	return 0;
}

int cmd_prefetch(struct rt_dev *d, const struct options *o)
{
	struct rt_region probe = { 0 };
	int err;

	rt_set_case(d, "prefetch/caps");
	err = check_caps(d, false);
	if (!err)
		err = region_new(d, &probe, 1, ODP_RW, 1);
	if (!err)
		err = advise_supported(d, &probe);
	rt_region_free(&probe);
	if (!err)
		err = prefetch_checks(d);
	if (!err)
		err = prefetch_traffic(d, o->repeat);
	return err;
}

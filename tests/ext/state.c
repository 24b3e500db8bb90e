/*
 * ibvx-test state MODE: the ODP state of an MR moves as traffic, munmap,
 * prefetch and a failed fault script it, and "rdma resource show mr -dd"
 * prints the same figures as the library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ibvx-test.h"

#define MR_PAGES 64
#define WRITE_PAGES 16	/* written by RDMA from page 0 */
#define HOLE_FIRST 4	/* munmapped: pages [4, 8) */
#define HOLE_PAGES 4
#define PREFETCH_FIRST 32	/* prefetched: pages [32, 40) */
#define PREFETCH_PAGES 8

static int expect(struct rt_dev *d, const char *what, unsigned long long got,
		  unsigned long long want)
{
	if (got == want)
		return 0;
	return rt_fail(d, -EPROTO, "%s is %llu, expected %llu", what, got, want);
}

/*
 * The MR's figures in "rdma -j -dd resource show mr" equal @s: iproute2
 * prints a driver attribute NAME as "drv_NAME" in the MR's object, which
 * is found by its lkey (in hex).
 */
static int netlink_agrees(struct rt_dev *d, struct ibv_mr *mr, const struct ibvx_mr_odp_state *s)
{
	const struct { const char *key; unsigned long long want; } f[] = {
		{ "odp_iova_per_mr", s->flags & IBVX_MR_ODP_IOVA_PER_MR ? 1 : 0 },
		{ "odp_iova_bytes", s->iova_bytes },
		{ "odp_page_size", s->page_size },
		{ "odp_pages_mapped", s->pages_mapped },
		{ "odp_faults", s->faults },
		{ "odp_fault_errors", s->fault_errors },
		{ "odp_invalidations", s->invalidations },
		{ "odp_prefetches", s->prefetches },
		{ "odp_bookkeeping_bytes", s->bookkeeping_bytes },
	};
	const char *cmd = "rdma -j -dd resource show mr";
	char out[8192], key[64], *obj, *end, *at;
	size_t n, i;
	FILE *p;
	int err = 0;

	p = popen(cmd, "r");
	if (!p)
		return rt_fail(d, -errno, "popen(%s): %s", cmd, strerror(errno));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p))
		return rt_fail(d, -EIO, "%s failed: %s", cmd, out);
	snprintf(key, sizeof(key), "\"lkey\":\"%x\"", mr->lkey);
	obj = strstr(out, key);
	if (!obj)
		return rt_fail(d, -EPROTO, "%s shows no MR with lkey %#x: %s", cmd, mr->lkey, out);
	end = strchr(obj, '}');
	if (end)
		*end = '\0';
	rt_info(d, "%s, MR with lkey %#x: %s", cmd, mr->lkey, obj);
	for (i = 0; i < RT_ARRAY_SIZE(f); i++) {
		snprintf(key, sizeof(key), "\"drv_%s\":", f[i].key);
		at = strstr(obj, key);
		if (!at) {
			err = rt_fail(d, -EPROTO, "%s prints no %s", cmd, key);
			continue;
		}
		if (strtoull(at + strlen(key), NULL, 10) != f[i].want)
			err = rt_fail(d, -EPROTO, "%s prints %s, the library %s %llu", cmd, at,
				      f[i].key, f[i].want);
	}
	if (!err)
		rt_ok(d, "rdma resource show mr -dd prints the library's figures");
	return err;
}

struct state_run {
	struct rt_dev *d;
	struct rt_pair pair;
	struct rt_region src, odp;
	struct ibvx_mr_odp_state s;
};

/*
 * Registered untouched: nothing mapped, and no bookkeeping yet: the kernel
 * allocates it as faults reach the MR (kernel patch 0026)
 */
static int check_fresh(struct state_run *r, bool iommu)
{
	struct rt_dev *d = r->d;
	size_t page = d->page;
	int err;

	err = ibvx_test_query(d, r->odp.mr, &r->s, "registered");
	if (err)
		return err;
	return expect(d, "pages_mapped", r->s.pages_mapped, 0) ?:
	       expect(d, "faults", r->s.faults, 0) ?:
	       expect(d, "page_size", r->s.page_size, page) ?:
	       expect(d, "bookkeeping_bytes", r->s.bookkeeping_bytes, 0) ?:
	       expect(d, "IOVA per MR flag", r->s.flags & IBVX_MR_ODP_IOVA_PER_MR, iommu) ?:
	       expect(d, "iova_bytes", r->s.iova_bytes, iommu ? MR_PAGES * page : 0);
}

/*
 * RDMA WRITE into the first WRITE_PAGES pages: as many mapped, bytes
 * arrive; the bookkeeping is the kernel's pfn list, an 8-byte entry per
 * page of the MR, in one chunk allocated whole at the first fault (a chunk
 * holds 512 entries, the MR's last only those it has left)
 */
static int check_write(struct state_run *r)
{
	struct rt_dev *d = r->d;
	size_t len = WRITE_PAGES * d->page;
	int err;

	rt_fill(r->src.addr, len, 7, 0);
	err = rt_post_rdma(d, &r->pair, IBV_WR_RDMA_WRITE, r->src.mr, 0, r->odp.mr, 0, len, 1) ?:
	      rt_poll_n(d, r->pair.scq, 1) ?:
	      rt_check_pat(d, "ODP MR after the RDMA WRITE", r->odp.addr, len, 7, 0);
	if (err)
		return err;
	err = ibvx_test_query(d, r->odp.mr, &r->s, "after WRITE");
	if (err)
		return err;
	if (!r->s.faults)
		return rt_fail(d, -EPROTO, "the RDMA WRITE into untouched ODP memory counted no fault");
	return expect(d, "pages_mapped", r->s.pages_mapped, WRITE_PAGES) ?:
	       expect(d, "fault_errors", r->s.fault_errors, 0) ?:
	       expect(d, "bookkeeping_bytes (8 per page of the MR)", r->s.bookkeeping_bytes,
		      MR_PAGES * 8) ?:
	       netlink_agrees(d, r->odp.mr, &r->s);
}

/* munmap HOLE_PAGES written pages: invalidated, as many fewer mapped */
static int check_munmap(struct state_run *r)
{
	struct rt_dev *d = r->d;
	uint8_t *hole = r->odp.addr + HOLE_FIRST * d->page;
	uint64_t before = r->s.invalidations;
	int err;

	if (munmap(hole, HOLE_PAGES * d->page))
		return rt_fail(d, -errno, "munmap: %s", strerror(errno));
	err = ibvx_test_query(d, r->odp.mr, &r->s, "after munmap");
	if (err)
		return err;
	if (r->s.invalidations <= before)
		return rt_fail(d, -EPROTO, "munmap of mapped pages counted no invalidation");
	err = expect(d, "pages_mapped", r->s.pages_mapped, WRITE_PAGES - HOLE_PAGES);
	if (mmap(hole, HOLE_PAGES * d->page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != hole)
		return rt_fail(d, -errno, "mmap over the hole: %s", strerror(errno));
	return err;
}

/* A prefetch counts once and maps its pages */
static int check_prefetch(struct state_run *r)
{
	struct rt_dev *d = r->d;
	uint64_t mapped = r->s.pages_mapped;
	struct ibv_sge sge = {
		.addr = (uintptr_t)r->odp.addr + PREFETCH_FIRST * d->page,
		.length = (uint32_t)(PREFETCH_PAGES * d->page),
		.lkey = r->odp.mr->lkey,
	};
	int err;

	err = ibv_advise_mr(d->pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, IBV_ADVISE_MR_FLAG_FLUSH,
			    &sge, 1);
	if (err)
		return rt_fail(d, -err, "ibv_advise_mr: %s (msrxe is needed)", strerror(err));
	err = ibvx_test_query(d, r->odp.mr, &r->s, "after prefetch");
	if (err)
		return err;
	return expect(d, "prefetches", r->s.prefetches, 1) ?:
	       expect(d, "pages_mapped", r->s.pages_mapped, mapped + PREFETCH_PAGES) ?:
	       netlink_agrees(d, r->odp.mr, &r->s);
}

/* An RDMA WRITE into a hole fails its fault: fault_errors counts it */
static int check_fault_error(struct state_run *r)
{
	struct rt_dev *d = r->d;
	uint8_t *hole = r->odp.addr + HOLE_FIRST * d->page;
	struct ibv_wc wc;
	int err;

	if (munmap(hole, d->page))
		return rt_fail(d, -errno, "munmap: %s", strerror(errno));
	err = rt_post_rdma(d, &r->pair, IBV_WR_RDMA_WRITE, r->src.mr, 0, r->odp.mr,
			   HOLE_FIRST * d->page, d->page, 2) ?:
	      rt_wait_wc(d, &r->pair, r->pair.scq, &wc, "RDMA WRITE into a hole");
	if (err)
		return err;
	if (wc.status == IBV_WC_SUCCESS)
		return rt_fail(d, -EPROTO, "an RDMA WRITE into unmapped memory succeeded");
	err = ibvx_test_query(d, r->odp.mr, &r->s, "after WRITE to a hole");
	if (err)
		return err;
	if (!r->s.fault_errors)
		return rt_fail(d, -EPROTO, "a failed fault (%s) counted no fault error",
			       ibv_wc_status_str(wc.status));
	return netlink_agrees(d, r->odp.mr, &r->s);
}

/* ibvx_reg_odp_mr() with a prefetch: mapped at once, one prefetch counted */
static int check_reg_prefetch(struct state_run *r)
{
	struct rt_dev *d = r->d;
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;
	struct rt_region m = { 0 };
	int err;

	err = rt_region_map(d, &m, PREFETCH_PAGES * d->page);
	if (err)
		return err;
	m.mr = ibvx_reg_odp_mr(d->pd, m.addr, m.len, IBV_ACCESS_LOCAL_WRITE,
			       IBVX_PREFETCH_WRITE, &e);
	if (!m.mr)
		err = rt_fail(d, -errno, "ibvx_reg_odp_mr with a prefetch: %s", e.message);
	else
		err = ibvx_test_query(d, m.mr, &s, "reg with prefetch") ?:
		      expect(d, "prefetches", s.prefetches, 1) ?:
		      expect(d, "pages_mapped", s.pages_mapped, PREFETCH_PAGES);
	rt_region_free(&m);
	return err;
}

int ibvx_test_state(struct rt_dev *d, const struct rt_dev_opts *o, const char *mode)
{
	/* events: rt_wait_wc() sleeps on the completion channel */
	struct rt_pair_attr pa = { .type = IBV_QPT_RC, .events = true, .cq_depth = 8,
				   .cap = { .max_send_wr = 4, .max_recv_wr = 4,
					    .max_send_sge = 1, .max_recv_sge = 1 },
				   .timeout = 14, .retry_cnt = 1 };
	struct state_run r = { .d = d };
	struct ibvx_error e;
	int err;

	err = rt_open(d, o);
	if (err)
		goto out;
	err = rt_region_map(d, &r.src, WRITE_PAGES * d->page) ?:
	      rt_region_reg(d, &r.src, IBV_ACCESS_LOCAL_WRITE) ?:
	      rt_region_map(d, &r.odp, MR_PAGES * d->page) ?:
	      rt_pair_new(d, &r.pair, &pa);
	if (err)
		goto out;
	r.odp.mr = ibvx_reg_odp_mr(d->pd, r.odp.addr, r.odp.len,
				   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
				   IBVX_PREFETCH_NONE, &e);
	if (!r.odp.mr) {
		err = rt_fail(d, -errno, "ibvx_reg_odp_mr: %s", e.message);
		goto out;
	}
	err = check_fresh(&r, !strcmp(mode, "iommu")) ?: check_write(&r) ?:
	      check_munmap(&r) ?: check_prefetch(&r) ?: check_reg_prefetch(&r) ?:
	      check_fault_error(&r);
out:
	rt_pair_free(&r.pair);
	rt_region_free(&r.odp);
	rt_region_free(&r.src);
	rt_close(d);
	return err;
}

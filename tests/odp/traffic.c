/*
 * rxe-odp-test traffic: ODP MRs on both sides of SEND/RECV, RDMA WRITE,
 * RDMA READ, atomics, SRQ receives and a UD SEND, at unaligned offsets
 * over several pages; every byte checked; odp_faults rises, and
 * odp_fault_errors does not. A 1 TiB ODP MR over reserved address space:
 * traffic at both ends, kernel bookkeeping only for what was touched. An
 * ODP MR over hugetlb pages: one entry per huge page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <infiniband/verbs_ext.h>

#include "odp-test.h"

static int traffic_send_recv(struct rt_dev *d, struct rt_region *src, uint32_t seed)
{
	size_t pg = d->page;
	size_t a_off = 123, a_len = 2 * pg + 100, b_off = 3 * pg + 7, b_len = pg + 1000;
	size_t r_off = 4001, total = a_len + b_len;
	struct ibv_sge sge[2] = {
		{ .addr = (uintptr_t)src->addr + a_off, .length = (uint32_t)a_len,
		  .lkey = src->mr->lkey },
		{ .addr = (uintptr_t)src->addr + b_off, .length = (uint32_t)b_len,
		  .lkey = src->mr->lkey },
	};
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = sge, .num_sge = 2, .opcode = IBV_WR_SEND };
	struct rt_region dst = { 0 };
	struct rt_pair p;
	struct ibv_wc wc;
	int err;

	rt_set_case(d, "traffic/send-recv");
	err = region_new(d, &dst, 8, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (err)
		goto out_mr;
	err = rt_post_recv(d, &p, dst.mr, dst.addr + r_off, total + 50, 7);
	if (!err)
		err = rt_exec_wr(d, &p, &wr, &wc, "SEND");
	if (!err)
		err = rt_expect_status(d, &wc, IBV_WC_SUCCESS, "SEND");
	if (!err)
		err = rt_expect_recv(d, &p, 7, (uint32_t)total, &wc, "RECV");
	if (!err)
		err = rt_check_pat(d, "received bytes of the first SGE", dst.addr + r_off, a_len, seed, a_off);
	if (!err)
		err = rt_check_pat(d, "received bytes of the second SGE", dst.addr + r_off + a_len, b_len,
				   seed, b_off);
	if (!err)
		err = rt_check_val(d, "bytes before the receive buffer", dst.addr, r_off, 0);
	if (!err)
		err = rt_check_val(d, "bytes after the message", dst.addr + r_off + total,
				   dst.len - r_off - total, 0);
	if (!err)
		rt_ok(d, "SEND of %zu bytes from 2 unaligned SGEs (ODP) into an unaligned receive buffer over 4 pages (ODP, never touched): every byte right",
		      total);
	rt_pair_free(&p);
out_mr:
	rt_region_free(&dst);
	return err;
}

/*
 * A message of one packet faults in no more of its receive buffer than it
 * fills: discarding the pages after it (MADV_DONTNEED) invalidates nothing,
 * as they were never mapped; discarding the page it filled does.
 */
static int traffic_recv_fault_bound(struct rt_dev *d, struct rt_region *src, uint32_t seed)
{
	size_t pg = d->page, len = 64;
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr, .length = (uint32_t)len,
			       .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 2, .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND };
	struct rt_region dst = { 0 };
	struct rt_counters c0, c1, c2;
	struct rt_pair p = { 0 };
	struct ibv_wc wc;
	char buf[200];
	int err;

	rt_set_case(d, "traffic/recv-fault-bound");
	err = region_new(d, &dst, 8, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err)
		err = rt_post_recv(d, &p, dst.mr, dst.addr, dst.len, 8);
	if (!err)
		err = rt_exec_wr(d, &p, &wr, &wc, "SEND");
	if (!err)
		err = rt_expect_status(d, &wc, IBV_WC_SUCCESS, "SEND");
	if (!err)
		err = rt_expect_recv(d, &p, 8, (uint32_t)len, &wc, "RECV");
	if (!err)
		err = rt_check_pat(d, "received bytes", dst.addr, len, seed, 0);
	if (!err)
		err = rt_counters_read(d, &c0);
	if (!err && madvise(dst.addr + pg, dst.len - pg, MADV_DONTNEED))
		err = rt_fail(d, -errno, "madvise(MADV_DONTNEED) of pages 1-7: %s", strerror(errno));
	if (!err)
		err = rt_counters_read(d, &c1);
	if (!err && madvise(dst.addr, pg, MADV_DONTNEED))
		err = rt_fail(d, -errno, "madvise(MADV_DONTNEED) of page 0: %s", strerror(errno));
	if (!err)
		err = rt_counters_read(d, &c2);
	if (!err && c1.invalidations != c0.invalidations) {
		rt_counters_delta(&c0, &c1, buf, sizeof(buf));
		err = rt_fail(d, -EIO, "a %zu-byte message mapped receive buffer pages it did not reach: discarding them invalidated the MR (%s)",
			      len, buf);
	}
	if (!err && c2.invalidations == c1.invalidations) {
		rt_counters_delta(&c1, &c2, buf, sizeof(buf));
		err = rt_fail(d, -EIO, "discarding the page the message filled invalidated nothing (%s)",
			      buf);
	}
	if (!err)
		rt_ok(d, "a %zu-byte SEND into an 8-page ODP receive buffer never touched mapped its first page only: every byte right",
		      len);
	rt_pair_free(&p);
	rt_region_free(&dst);
	return err;
}

/*
 * A READ whose fault maps pages that a WRITE mapped before leaves them
 * writable: writing them again takes no fault. The target of the WRITEs is
 * never touched by the CPU; the READ starts at one of its missing pages,
 * so that its fault reaches over the written one.
 */
static int traffic_read_keeps_write(struct rt_dev *d, struct rt_pair *p)
{
	size_t pg = d->page, w_off = 2 * pg, len = 100;
	struct rt_region src = { 0 }, target = { 0 }, copy = { 0 };
	struct rt_counters c0, c1;
	char buf[200];
	int err;

	rt_set_case(d, "traffic/read-keeps-write");
	err = region_new(d, &src, 1, ODP_RW, 14);
	if (!err)
		err = region_new(d, &target, 4, ODP_RW, -1);
	if (!err)
		err = region_new(d, &copy, 4, ODP_RW, -1);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, src.mr, src.addr, len, target.mr,
			   target.addr + w_off, IBV_WC_SUCCESS, "WRITE into page 2");
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, copy.mr, copy.addr, 4 * pg, target.mr,
			   target.addr, IBV_WC_SUCCESS, "READ of pages 0-3");
	if (!err)
		err = rt_check_landed(d, "READ of pages 0-3", copy.addr, copy.len, w_off, len, 14, 0);
	if (!err)
		err = rt_counters_read(d, &c0);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, src.mr, src.addr + 2 * len, len, target.mr,
			   target.addr + w_off + 2 * len, IBV_WC_SUCCESS, "WRITE into page 2 again");
	if (!err)
		err = rt_counters_read(d, &c1);
	if (!err)
		err = rt_check_pat(d, "second WRITE's bytes", target.addr + w_off + 2 * len, len, 14,
				   2 * len);
	if (!err) {
		rt_counters_delta(&c0, &c1, buf, sizeof(buf));
		if (c1.faults != c0.faults)
			err = rt_fail(d, -EIO, "a WRITE into a page that a WRITE mapped and a READ faulted over faulted again (%s)",
				      buf);
	}
	if (!err)
		rt_ok(d, "WRITE, READ faulting over the written page, WRITE again: no fault for the second WRITE, every byte right");
	rt_region_free(&src);
	rt_region_free(&target);
	rt_region_free(&copy);
	return err;
}

/*
 * A 1 TiB ODP MR over address space reserved with PROT_NONE, two pages
 * mapped at each end: registering it maps nothing and costs (almost) no
 * kernel memory; an RDMA WRITE into each end and an RDMA READ back move the
 * right bytes, and what the kernel keeps grows only by what they touched.
 */
static int traffic_sparse(struct rt_dev *d, struct rt_pair *p)
{
	const size_t size = (size_t)1 << 40, pg = d->page, budget = 1 << 20;
	const size_t loff = 3, roff = pg - 500, len = pg + 401, back = 7;
	struct ibvx_mr_odp_state s0, s1;
	struct rt_region a = { 0 }, b = { 0 };
	struct ibv_mr *mr = NULL;
	uint64_t t0, reg_ns = 0;
	uint8_t *base, *end[2];
	int i, err;

	rt_set_case(d, "traffic/sparse-1tib");
	base = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return rt_fail(d, -errno, "cannot reserve 1 TiB of address space: %s",
			       strerror(errno));
	end[0] = base;
	end[1] = base + size - 2 * pg;
	err = 0;
	for (i = 0; i < 2 && !err; i++)
		if (mmap(end[i], 2 * pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			err = rt_fail(d, -errno, "mmap at an end of the reservation: %s",
				      strerror(errno));
	if (!err) {
		t0 = rt_now_ns();
		mr = ibv_reg_mr(d->pd, base, size, ODP_RW);
		reg_ns = rt_now_ns() - t0;
		if (!mr)
			err = rt_fail(d, -errno, "ibv_reg_mr of a 1 TiB ODP MR: %s", strerror(errno));
	}
	if (!err)
		err = odp_state(d, mr, &s0);
	if (!err && (s0.pages_mapped || s0.bookkeeping_bytes >= budget))
		err = rt_fail(d, -EIO, "a fresh 1 TiB ODP MR: %" PRIu64 " pages mapped, %" PRIu64
			      " bytes of bookkeeping (expected 0 and under %zu)",
			      s0.pages_mapped, s0.bookkeeping_bytes, budget);
	if (!err)
		err = region_new(d, &a, 2, ODP_RW, 21);
	if (!err)
		err = region_new(d, &b, 2, ODP_RW, -1);
	for (i = 0; i < 2 && !err; i++) {
		memset(b.addr, 0, b.len);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, a.mr, a.addr + loff, len, mr, end[i] + roff,
			   IBV_WC_SUCCESS, i ? "WRITE into the last pages" : "WRITE into the first pages");
		if (!err)
			err = rt_check_landed(d, "the written end", end[i], 2 * pg, roff, len, 21, loff);
		if (!err)
			err = rdma(d, p, IBV_WR_RDMA_READ, b.mr, b.addr + back, len, mr,
				   end[i] + roff, IBV_WC_SUCCESS, "READ back from an end");
		if (!err)
			err = rt_check_landed(d, "what was read back", b.addr, b.len, back, len, 21,
					      loff);
	}
	if (!err)
		err = odp_state(d, mr, &s1);
	if (!err && (s1.pages_mapped < 4 || s1.bookkeeping_bytes >= budget))
		err = rt_fail(d, -EIO, "after traffic at both ends: %" PRIu64 " pages mapped, %" PRIu64
			      " bytes of bookkeeping (expected at least 4 and under %zu)",
			      s1.pages_mapped, s1.bookkeeping_bytes, budget);
	if (!err)
		rt_ok(d, "1 TiB ODP MR registered in %.3f ms with %" PRIu64 " bytes of bookkeeping"
		      " (IOVA held: %" PRIu64 " bytes); WRITE and READ of %zu bytes at each end right;"
		      " then %" PRIu64 " pages mapped, %" PRIu64 " bytes of bookkeeping",
		      reg_ns / 1e6, s0.bookkeeping_bytes, s0.iova_bytes, len, s1.pages_mapped,
		      s1.bookkeeping_bytes);
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the 1 TiB MR: %s", strerror(errno));
	rt_region_free(&a);
	rt_region_free(&b);
	munmap(base, size);
	return err;
}

/* Huge pages the hugetlb case maps (tests/guest/rxe-odp.sh reserves them) */
#define HUGE_PAGES 2
#define HUGE_BYTES ((size_t)2 << 20)

/*
 * An ODP MR registered with IBV_ACCESS_HUGETLB over two 2 MiB hugetlb
 * pages: an RDMA WRITE across the boundary of the huge pages and a READ
 * back move the right bytes; the MR keeps one entry per huge page (its
 * page size is 2 MiB, two entries are mapped) and its bookkeeping is one
 * chunk of entries, not a pfn per 4 KiB page (8 KiB for 4 MiB).
 */
static int traffic_hugetlb(struct rt_dev *d, struct rt_pair *p)
{
	const size_t len = HUGE_PAGES * HUGE_BYTES, pg = d->page;
	const size_t roff = HUGE_BYTES - pg - 50, n = 2 * pg + 100, back = 9;
	struct rt_region a = { 0 }, b = { 0 };
	struct ibvx_mr_odp_state s;
	struct ibv_mr *mr = NULL;
	uint8_t *buf;
	int err;

	rt_set_case(d, "traffic/hugetlb");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		   -1, 0);
	if (buf == MAP_FAILED)
		return rt_fail(d, -errno, "mmap of %d huge pages: %s (reserve them: /proc/sys/vm/nr_hugepages)",
			       HUGE_PAGES, strerror(errno));
	mr = ibv_reg_mr(d->pd, buf, len, ODP_RW | IBV_ACCESS_HUGETLB);
	err = mr ? 0 : rt_fail(d, -errno, "ibv_reg_mr of hugetlb ODP memory: %s", strerror(errno));
	if (!err)
		err = region_new(d, &a, 4, ODP_RW, 23);
	if (!err)
		err = region_new(d, &b, 4, ODP_RW, -1);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, a.mr, a.addr + 1, n, mr, buf + roff,
			   IBV_WC_SUCCESS, "WRITE across the huge pages' boundary");
	if (!err)
		err = rt_check_landed(d, "the hugetlb target", buf, len, roff, n, 23, 1);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, b.mr, b.addr + back, n, mr, buf + roff,
			   IBV_WC_SUCCESS, "READ back across the boundary");
	if (!err)
		err = rt_check_landed(d, "what was read back", b.addr, b.len, back, n, 23, 1);
	if (!err)
		err = odp_state(d, mr, &s);
	if (!err && (s.page_size != HUGE_BYTES || s.pages_mapped != HUGE_PAGES ||
		     s.bookkeeping_bytes > pg))
		err = rt_fail(d, -EIO, "hugetlb ODP MR: page size %" PRIu64 ", %" PRIu64
			      " entries mapped, %" PRIu64 " bytes of bookkeeping (expected %zu, %d, at most %zu)",
			      s.page_size, s.pages_mapped, s.bookkeeping_bytes, HUGE_BYTES, HUGE_PAGES,
			      pg);
	if (!err)
		rt_ok(d, "WRITE and READ of %zu bytes across two huge pages right; %" PRIu64
		      " entries of %" PRIu64 " bytes mapped, %" PRIu64 " bytes of bookkeeping",
		      n, s.pages_mapped, s.page_size, s.bookkeeping_bytes);
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the hugetlb MR: %s", strerror(errno));
	rt_region_free(&a);
	rt_region_free(&b);
	munmap(buf, len);
	return err;
}

static int traffic_write_read(struct rt_dev *d)
{
	size_t pg = d->page;
	size_t w_loff = 777, w_roff = pg + 2049, w_len = 50 * pg + 555;
	size_t r_roff = 4095, r_loff = 1, r_len = 4 * pg + 3;
	struct rt_region a = { 0 }, b = { 0 };
	struct rt_pair p = { 0 };
	int err;

	rt_set_case(d, "traffic/rdma-write");
	/* local ODP source written by the CPU, remote ODP target never touched */
	err = region_new(d, &a, 64, ODP_RW, 12);
	if (!err)
		err = region_new(d, &b, 64, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err)
		err = rdma(d, &p, IBV_WR_RDMA_WRITE, a.mr, a.addr + w_loff, w_len, b.mr,
			   b.addr + w_roff, IBV_WC_SUCCESS, "ODP to ODP");
	if (!err)
		err = rt_check_landed(d, "RDMA WRITE target", b.addr, b.len, w_roff, w_len, 12, w_loff);
	if (!err)
		err = rt_check_pat(d, "RDMA WRITE source (unchanged)", a.addr, a.len, 12, 0);
	if (!err)
		rt_ok(d, "RDMA WRITE of %zu bytes (51 pages) from offset %zu to offset %zu: every byte right, nothing else written",
		      w_len, w_loff, w_roff);
	rt_region_free(&a);
	rt_region_free(&b);
	if (err)
		goto out;

	rt_set_case(d, "traffic/rdma-read");
	/* remote ODP source written by the CPU, local ODP target never touched */
	err = region_new(d, &a, 8, ODP_RW, 13);
	if (!err)
		err = region_new(d, &b, 8, ODP_RW, -1);
	if (!err)
		err = rdma(d, &p, IBV_WR_RDMA_READ, b.mr, b.addr + r_loff, r_len, a.mr,
			   a.addr + r_roff, IBV_WC_SUCCESS, "ODP from ODP");
	if (!err)
		err = rt_check_landed(d, "RDMA READ target", b.addr, b.len, r_loff, r_len, 13, r_roff);
	if (!err)
		err = rt_check_pat(d, "RDMA READ source (unchanged)", a.addr, a.len, 13, 0);
	if (!err)
		rt_ok(d, "RDMA READ of %zu bytes (6 pages) from offset %zu to offset %zu: every byte right, nothing else written",
		      r_len, r_roff, r_loff);
	rt_region_free(&a);
	rt_region_free(&b);
	if (!err)
		err = traffic_read_keeps_write(d, &p);
	if (!err)
		err = traffic_sparse(d, &p);
	if (!err)
		err = traffic_hugetlb(d, &p);
	if (!err)
		err = traffic_thp(d, &p);
	if (!err)
		err = traffic_thp_reuse(d, &p);
out:
	rt_pair_free(&p);
	return err;
}

/* One atomic of traffic/atomics, and the old value it must fetch */
struct atomic_step {
	enum ibv_wr_opcode op;
	size_t loff, roff;		/* result slot (local), target word (remote) */
	uint64_t compare_add, swap, old;
	const char *what, *result;	/* for the work request, for its result */
};

static int atomic_step(struct rt_dev *d, struct rt_pair *p, struct rt_region *loc,
		       struct rt_region *rem, const struct atomic_step *s)
{
	uint64_t got;
	int err;

	err = rdma_atomic(d, p, s->op, loc->mr, loc->addr + s->loff, rem->mr, rem->addr + s->roff,
			  s->compare_add, s->swap, IBV_WC_SUCCESS, s->what);
	if (err)
		return err;
	memcpy(&got, loc->addr + s->loff, 8);
	if (got != s->old)
		return rt_fail(d, -EIO, "%s: old value 0x%016" PRIx64 " returned, expected 0x%016" PRIx64,
			       s->result, got, s->old);
	return 0;
}

/*
 * Fetch-add and compare-swap on an ODP MR: to the last word of a page, to
 * a page never touched; the old values land in unaligned, page-crossing
 * slots of a local ODP MR; the target then holds exactly the results.
 */
static int atomics_run(struct rt_dev *d, struct rt_pair *p, struct rt_region *loc,
		       struct rt_region *rem, uint8_t *expect)
{
	const uint64_t v0 = 0x1122334455667788ULL, v1 = 0x0123456789abcdefULL;
	const uint64_t add = 0x0101010101010101ULL, s = 0xfedcba9876543210ULL;
	const size_t pg = d->page;
	const size_t o0 = 2 * pg - 8, o1 = 5 * pg, o2 = 6 * pg + 64;	/* remote words */
	const size_t l0 = pg - 4, l1 = 3 * pg + 1;			/* local results */
	const struct atomic_step steps[] = {
		{ IBV_WR_ATOMIC_FETCH_AND_ADD, l0, o0, add, 0, v0, "last 8 bytes of a page",
		  "fetch-add" },
		{ IBV_WR_ATOMIC_CMP_AND_SWP, l1, o1, v1, s, v1, "compare matches",
		  "cmp-swap (match)" },
		{ IBV_WR_ATOMIC_CMP_AND_SWP, l0, o1, v1, 0x42, s, "compare does not match",
		  "cmp-swap (no match)" },
		{ IBV_WR_ATOMIC_FETCH_AND_ADD, l1, o2, add, 0, 0, "page never touched",
		  "fetch-add on a page never touched" },
	};
	uint64_t want = v0 + add;
	size_t i;
	int err = 0;

	memcpy(rem->addr + o0, &v0, 8);
	memcpy(rem->addr + o1, &v1, 8);
	for (i = 0; i < RT_ARRAY_SIZE(steps) && !err; i++)
		err = atomic_step(d, p, loc, rem, &steps[i]);
	if (err)
		return err;
	memcpy(expect + o0, &want, 8);
	memcpy(expect + o1, &s, 8);
	memcpy(expect + o2, &add, 8);
	return rt_check_same(d, "atomic target region (only the three 8-byte slots changed, to the right values)",
			     rem->addr, expect, rem->len);
}

static int traffic_atomics(struct rt_dev *d)
{
	struct rt_region rem = { 0 }, loc = { 0 };
	struct rt_pair p = { 0 };
	uint8_t *expect = NULL;
	int err;

	rt_set_case(d, "traffic/atomics");
	err = region_new(d, &rem, 8, ODP_RW, -1);
	if (!err)
		err = region_new(d, &loc, 4, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (err)
		goto out;
	expect = calloc(1, rem.len);
	if (!expect) {
		err = rt_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	err = atomics_run(d, &p, &loc, &rem, expect);
	if (!err)
		rt_ok(d, "fetch-add (to a page end and to a page never touched) and compare-swap (match, no match) on an ODP MR: old values returned right into unaligned, page-crossing local ODP buffers; target holds exactly the results");
out:
	free(expect);
	rt_pair_free(&p);
	rt_region_free(&rem);
	rt_region_free(&loc);
	return err;
}

/* SEND @n (1, 2) of @len bytes at @off of @src, into SRQ receive 20 + @n */
static int srq_send(struct rt_dev *d, struct rt_pair *p, struct rt_region *src, size_t off,
		    size_t len, unsigned int n)
{
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr + off, .length = (uint32_t)len,
			       .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = n, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND };
	struct ibv_wc wc;
	char send[16], recv[32];
	int err;

	snprintf(send, sizeof(send), "SEND %u", n);
	snprintf(recv, sizeof(recv), "SRQ receive %u", n);
	err = rt_exec_wr(d, p, &wr, &wc, send);
	if (!err)
		err = rt_expect_status(d, &wc, IBV_WC_SUCCESS, send);
	if (!err)
		err = rt_expect_recv(d, p, 20 + n, (uint32_t)len, &wc, recv);
	return err;
}

static int traffic_srq(struct rt_dev *d, struct rt_region *src, uint32_t seed)
{
	size_t pg = d->page;
	size_t r1 = 3000, r1_len = 2 * pg + 200, r2 = 3 * pg + 10, r2_len = pg;
	size_t s1 = 5, s1_len = 2 * pg - 100, s2 = 4 * pg + 99, s2_len = pg - 1;
	struct rt_region dst = { 0 };
	struct rt_pair p = { 0 };
	uint8_t *expect = NULL;
	int err;

	rt_set_case(d, "traffic/srq-recv");
	err = region_new(d, &dst, 6, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, true);
	if (!err)
		err = rt_post_recv(d, &p, dst.mr, dst.addr + r1, r1_len, 21);
	if (!err)
		err = rt_post_recv(d, &p, dst.mr, dst.addr + r2, r2_len, 22);
	if (!err)
		err = srq_send(d, &p, src, s1, s1_len, 1);
	if (!err)
		err = srq_send(d, &p, src, s2, s2_len, 2);
	if (err)
		goto out;
	expect = calloc(1, dst.len);
	if (!expect) {
		err = rt_fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	rt_fill(expect + r1, s1_len, seed, s1);
	rt_fill(expect + r2, s2_len, seed, s2);
	err = rt_check_same(d, "SRQ receive buffers", dst.addr, expect, dst.len);
	if (!err)
		rt_ok(d, "two SENDs (%zu and %zu bytes, unaligned, ODP) into two SRQ receives of one ODP MR at unaligned offsets: every byte right, nothing else written",
		      s1_len, s2_len);
out:
	free(expect);
	rt_pair_free(&p);
	rt_region_free(&dst);
	return err;
}

static int traffic_ud(struct rt_dev *d, struct rt_region *src, uint32_t seed)
{
	size_t pg = d->page, len = d->mtu_bytes;
	size_t r_off = pg - 20;			/* the GRH crosses a page boundary */
	size_t s_off = 2 * pg - 100;		/* the payload crosses one too */
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr + s_off, .length = (uint32_t)len,
			       .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 3, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND };
	struct rt_region dst = { 0 };
	struct rt_pair p = { 0 };
	struct ibv_wc wc;
	int err;

	rt_set_case(d, "traffic/ud-send");
	err = region_new(d, &dst, 4, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_UD, false);
	if (!err)
		err = rt_post_recv(d, &p, dst.mr, dst.addr + r_off, GRH_BYTES + len, 31);
	if (err)
		goto out;
	wr.wr.ud.ah = p.ah;
	wr.wr.ud.remote_qpn = p.qp[1]->qp_num;
	wr.wr.ud.remote_qkey = RT_UD_QKEY;
	err = rt_exec_wr(d, &p, &wr, &wc, "UD SEND");
	if (!err)
		err = rt_expect_status(d, &wc, IBV_WC_SUCCESS, "UD SEND");
	if (!err)
		err = rt_expect_recv(d, &p, 31, (uint32_t)(GRH_BYTES + len), &wc, "UD receive");
	if (!err && wc.src_qp != p.qp[0]->qp_num)
		err = rt_fail(d, -EIO, "UD receive: source QP %u, expected %u", wc.src_qp, p.qp[0]->qp_num);
	if (!err)
		err = rt_check_pat(d, "UD payload", dst.addr + r_off + GRH_BYTES, len, seed, s_off);
	if (!err)
		err = rt_check_val(d, "bytes before the UD receive buffer", dst.addr, r_off, 0);
	if (!err)
		err = rt_check_val(d, "bytes after the UD message", dst.addr + r_off + GRH_BYTES + len,
				   dst.len - r_off - GRH_BYTES - len, 0);
	if (!err)
		rt_ok(d, "UD SEND of %zu bytes (one path MTU) from an ODP MR into an ODP receive buffer, GRH and payload across page boundaries: every byte right",
		      len);
out:
	rt_pair_free(&p);
	rt_region_free(&dst);
	return err;
}

int cmd_traffic(struct rt_dev *d, const struct options *o)
{
	struct rt_region src = { 0 };
	struct rt_counters c0, c1;
	char buf[200];
	int err;

	(void)o;
	rt_set_case(d, "traffic/caps");
	err = check_caps(d, true);
	if (!err)
		err = rt_counters_read(d, &c0);
	/* the source of the SENDs: ODP, written by the CPU */
	if (!err)
		err = region_new(d, &src, 8, ODP_RW, 11);
	if (!err)
		err = traffic_send_recv(d, &src, 11);
	if (!err)
		err = traffic_recv_fault_bound(d, &src, 11);
	if (!err)
		err = traffic_write_read(d);
	if (!err)
		err = traffic_atomics(d);
	if (!err)
		err = traffic_srq(d, &src, 11);
	if (!err)
		err = traffic_ud(d, &src, 11);
	rt_region_free(&src);
	if (err)
		return err;

	rt_set_case(d, "traffic/counters");
	err = rt_counters_read(d, &c1);
	if (err)
		return err;
	rt_counters_delta(&c0, &c1, buf, sizeof(buf));
	if (c1.faults - c0.faults <= 0)
		return rt_fail(d, -EIO, "odp_faults did not rise over the traffic (%s)", buf);
	if (c1.errors != c0.errors)
		return rt_fail(d, -EIO, "odp_fault_errors rose over traffic that raised no error (%s)", buf);
	rt_ok(d, "page faults happened and none failed: %s", buf);
	return 0;
}


/*
 * traffic/thp: an ODP MR over transparent huge pages, split while RDMA
 * runs. The CPU maps each 2 MiB page with one page table entry, so a fault
 * maps its 512 entries together (one IOVA link per huge page in the IOMMU
 * mode, kernel patch 0047; KUnit odp_hugetlb_base_entries counts them), and
 * the kernel must unlink all of them when the huge page is split, whatever
 * part of it the split was asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <infiniband/verbs_ext.h>
#include "odp-test.h"

#define THP_BYTES RT_HUGE_BYTES
#define THP_COUNT 2
#define THP_ROUNDS 3

/*
 * Split the huge page holding @page by changing that page's protection
 * (read-write-execute: nothing the device does is refused) and back
 */
static int split_at(uint8_t *page, size_t len)
{
	if (mprotect(page, len, PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    mprotect(page, len, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

struct splitter {
	uint8_t *buf;
	size_t page;
	atomic_bool stop;
	int splits;
	int err;
};

/* Split each huge page with split_at(), at another page each time, until told to stop */
static void *split_loop(void *arg)
{
	struct splitter *s = arg;
	size_t off;

	while (!atomic_load(&s->stop)) {
		off = (s->splits % THP_COUNT) * THP_BYTES + (size_t)(s->splits * 37 % 512) * s->page;
		s->err = split_at(s->buf + off, s->page);
		if (s->err)
			break;
		s->splits++;
		rt_sleep_ms(20);
	}
	return NULL;
}

/* WRITE @seed's pattern over all of @mr from @src; the CPU finds it there */
static int write_round(struct rt_dev *d, struct rt_pair *p, struct rt_region *src,
		       struct ibv_mr *mr, uint8_t *buf, size_t len, uint32_t seed)
{
	int err;

	rt_fill(src->addr, len, seed, 0);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, src->mr, src->addr, len, mr, buf, IBV_WC_SUCCESS,
		   "WRITE of the huge pages");
	if (!err)
		err = rt_check_pat(d, "the huge pages after the WRITE", buf, len, seed, 0);
	return err;
}

/*
 * THP_COUNT huge pages that the CPU fills with @seed's pattern, checked to
 * be huge in smaps, registered as the ODP MR @mr, and ODP regions @src and
 * @dst as large; the caller frees all of them, also on failure
 */
static int thp_setup(struct rt_dev *d, struct rt_region *huge, struct ibv_mr **mr,
		     struct rt_region *src, struct rt_region *dst, uint32_t seed)
{
	const size_t len = THP_COUNT * THP_BYTES;
	long kib;
	int err;

	err = rt_region_map_thp(d, huge, len);
	if (err)
		return err;
	rt_fill(huge->addr, len, seed, 0);
	kib = rt_thp_kib(huge->addr);
	if (kib != (long)(len >> 10))
		return rt_fail(d, -EIO, "%ld KiB of the %zu KiB are transparent huge pages (AnonHugePages in /proc/self/smaps): is THP enabled (madvise) and memory free?",
			       kib, len >> 10);
	*mr = ibv_reg_mr(d->pd, huge->addr, len, ODP_RW);
	if (!*mr)
		return rt_fail(d, -errno, "ibv_reg_mr of THP ODP memory: %s", strerror(errno));
	err = region_new(d, src, len / d->page, ODP_RW, -1);
	if (!err)
		err = region_new(d, dst, len / d->page, ODP_RW, -1);
	return err;
}

/*
 * Two madvise(MADV_HUGEPAGE)d huge pages, checked to be huge in smaps, as
 * an ODP MR: a WRITE of all of it lands right; a split of the first for one
 * page's protection unmaps all its entries and none of the second's; then
 * rounds of the same while a thread splits the huge pages (the MR counts
 * invalidations) with every byte right in each round; then 64 KiB of the
 * second replaced by new memory (munmap, mmap) and a READ of the whole MR
 * returns the new bytes there and the last round's elsewhere.
 */
int traffic_thp(struct rt_dev *d, struct rt_pair *p)
{
	const size_t len = THP_COUNT * THP_BYTES, hole = 64 << 10;
	const size_t hole_off = THP_BYTES + THP_BYTES / 2;
	struct splitter s = { .page = d->page };
	struct rt_region huge = { 0 }, src = { 0 }, dst = { 0 };
	struct ibvx_mr_odp_state st0, st1;
	struct ibv_mr *mr = NULL;
	uint8_t *buf, *fresh;
	pthread_t thread;
	/* all of it huge: thp_setup() checked */
	long kib = (long)(len >> 10), kib_after;
	int err, round;

	rt_set_case(d, "traffic/thp");
	err = thp_setup(d, &huge, &mr, &src, &dst, 40);
	buf = huge.addr;
	s.buf = buf;
	if (!err)
		err = write_round(d, p, &src, mr, buf, len, 41);
	if (!err)
		err = odp_state(d, mr, &st0);
	if (!err && st0.pages_mapped != len / d->page)
		err = rt_fail(d, -EIO, "%" PRIu64 " entries mapped after the first WRITE, not %zu",
			      st0.pages_mapped, len / d->page);
	/* All entries of a huge page mapped: the kernel keeps one pfn for them */
	if (!err && st0.bookkeeping_bytes != THP_COUNT * sizeof(uint64_t))
		err = rt_fail(d, -EIO, "%" PRIu64 " bytes of bookkeeping for %d mapped huge pages, not one 8-byte pfn each",
			      st0.bookkeeping_bytes, THP_COUNT);
	/*
	 * Splitting the first huge page for one page's sake invalidates all of
	 * it (what lets the kernel link a huge page's entries as one run) and
	 * nothing of the second
	 */
	if (!err) {
		err = split_at(buf + 5 * d->page, d->page);
		if (err)
			err = rt_fail(d, err, "mprotect of a page of a huge page: %s", strerror(-err));
	}
	if (!err)
		err = odp_state(d, mr, &st0);
	if (!err && st0.pages_mapped != (len - THP_BYTES) / d->page)
		err = rt_fail(d, -EIO, "%" PRIu64 " entries mapped after the first huge page was split, not %zu: the split did not unmap exactly that huge page",
			      st0.pages_mapped, (len - THP_BYTES) / d->page);
	if (!err)
		rt_ok(d, "WRITE of %zu KiB of huge pages right, all %zu entries mapped, %zu bytes of bookkeeping; splitting the first for one page unmapped its %zu entries and no other",
		      len >> 10, len / d->page, THP_COUNT * sizeof(uint64_t), THP_BYTES / d->page);
	if (err)
		goto out;

	if (pthread_create(&thread, NULL, split_loop, &s)) {
		err = rt_fail(d, -EAGAIN, "cannot start the splitting thread");
		goto out;
	}
	for (round = 0; !err && round < THP_ROUNDS; round++)
		err = write_round(d, p, &src, mr, buf, len, 42 + round);
	atomic_store(&s.stop, true);
	pthread_join(thread, NULL);
	if (!err && s.err)
		err = rt_fail(d, s.err, "mprotect of a page of a huge page: %s", strerror(-s.err));
	kib_after = rt_thp_kib(buf);
	if (!err)
		err = odp_state(d, mr, &st1);
	if (!err && (!s.splits || st1.invalidations == st0.invalidations))
		err = rt_fail(d, -EIO, "%d splits, invalidations %" PRIu64 " -> %" PRIu64
			      ": the huge pages were not split under the MR", s.splits,
			      st0.invalidations, st1.invalidations);
	if (!err)
		rt_ok(d, "%d rounds of WRITE of %zu KiB right while %d splits ran (AnonHugePages %ld -> %ld KiB, invalidations %" PRIu64 " -> %" PRIu64 ")",
		      THP_ROUNDS, len >> 10, s.splits, kib, kib_after, st0.invalidations,
		      st1.invalidations);
	if (err)
		goto out;

	/* New memory in the middle of the second huge page */
	fresh = mmap(buf + hole_off, hole, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (fresh == MAP_FAILED) {
		err = rt_fail(d, -errno, "mmap over 64 KiB of the MR: %s", strerror(errno));
		goto out;
	}
	rt_fill(fresh, hole, 99, 0);
	memset(dst.addr, 0, len);
	err = rdma(d, p, IBV_WR_RDMA_READ, dst.mr, dst.addr, len, mr, buf, IBV_WC_SUCCESS,
		   "READ of the MR after new memory replaced part of it");
	if (!err)
		err = rt_check_pat(d, "what was read before the new memory", dst.addr, hole_off,
				   42 + THP_ROUNDS - 1, 0);
	if (!err)
		err = rt_check_pat(d, "what was read of the new memory", dst.addr + hole_off, hole,
				   99, 0);
	if (!err)
		err = rt_check_pat(d, "what was read after the new memory",
				   dst.addr + hole_off + hole, len - hole_off - hole,
				   42 + THP_ROUNDS - 1, hole_off + hole);
	if (!err)
		rt_ok(d, "a READ of the MR after 64 KiB of a split huge page were replaced returns the new bytes there and the old elsewhere");
out:
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the THP MR: %s", strerror(errno));
	rt_region_free(&src);
	rt_region_free(&dst);
	rt_region_free(&huge);
	return err;
}

/* Fork a child that leaves at once, and wait for it */
static int fork_and_reap(struct rt_dev *d)
{
	int status;
	pid_t child = fork();

	if (child < 0)
		return rt_fail(d, -errno, "fork: %s", strerror(errno));
	if (!child)
		_exit(0);
	if (waitpid(child, &status, 0) != child)
		return rt_fail(d, -errno, "waitpid: %s", strerror(errno));
	return 0;
}

/*
 * The device's write access granted to huge pages it mapped read-only and
 * keeps as one pfn each: a fork write-protects the MR's two huge pages (an
 * invalidation); the child leaves, and an RDMA READ maps them read-only.
 * An RDMA WRITE then faults for writing: the page is the parent's alone
 * again, so the kernel makes its CPU mapping writable in place, without
 * an invalidation, and the MR's kept pfn gains write access as it is. The
 * WRITE lands, no invalidation is counted, the bookkeeping stays 8 bytes
 * per huge page.
 */
int traffic_thp_reuse(struct rt_dev *d, struct rt_pair *p)
{
	const size_t len = THP_COUNT * THP_BYTES, kept = THP_COUNT * sizeof(uint64_t);
	struct rt_region huge = { 0 }, src = { 0 }, dst = { 0 };
	struct ibvx_mr_odp_state s0, s1;
	struct ibv_mr *mr = NULL;
	int err;

	rt_set_case(d, "traffic/thp-reuse");
	err = thp_setup(d, &huge, &mr, &src, &dst, 51);
	if (!err)
		err = fork_and_reap(d);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, dst.mr, dst.addr, len, mr, huge.addr,
			   IBV_WC_SUCCESS, "READ of the huge pages after a fork");
	if (!err)
		err = rt_check_pat(d, "what was read of the huge pages", dst.addr, len, 51, 0);
	if (!err)
		err = odp_state(d, mr, &s0);
	if (!err && (s0.pages_mapped != len / d->page || s0.bookkeeping_bytes != kept))
		err = rt_fail(d, -EIO, "after the READ: %" PRIu64 " entries mapped, %" PRIu64 " bytes of bookkeeping (expected %zu and %zu)",
			      s0.pages_mapped, s0.bookkeeping_bytes, len / d->page, kept);
	if (!err)
		err = write_round(d, p, &src, mr, huge.addr, len, 52);
	if (!err)
		err = odp_state(d, mr, &s1);
	if (!err && (s1.invalidations != s0.invalidations || s1.pages_mapped != len / d->page ||
		     s1.bookkeeping_bytes != kept))
		err = rt_fail(d, -EIO, "after the WRITE: invalidations %" PRIu64 " -> %" PRIu64 ", %" PRIu64 " entries mapped, %" PRIu64 " bytes of bookkeeping (expected no invalidation, %zu and %zu)",
			      s0.invalidations, s1.invalidations, s1.pages_mapped, s1.bookkeeping_bytes,
			      len / d->page, kept);
	if (!err)
		rt_ok(d, "after a fork, a READ mapped %zu KiB of huge pages read-only with %zu bytes of bookkeeping; a WRITE then landed without an invalidation (%" PRIu64 " faults), the bookkeeping unchanged",
		      len >> 10, kept, s1.faults - s0.faults);
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the THP MR: %s", strerror(errno));
	rt_region_free(&src);
	rt_region_free(&dst);
	rt_region_free(&huge);
	return err;
}

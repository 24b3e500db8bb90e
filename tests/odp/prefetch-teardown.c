/*
 * rxe-odp-test prefetch-teardown and prefetch-hold: an asynchronous
 * prefetch of a large ODP MR must not outlive the MR (kernel patch 0017).
 *
 * A read prefetch of memory the process never touched maps the zero page
 * into every page of the range, which mincore() reports as resident: that
 * shows the prefetch's progress from userspace without a counter. The
 * range has no huge pages, so that the prefetch faults 4 KiB at a time.
 *
 * prefetch-teardown: deregister the MR while its prefetch runs; when
 * ibv_dereg_mr() returns nothing may map pages of the range any more, and
 * the ranges it cancelled are not counted in odp_prefetches.
 *
 * prefetch-hold: start such a prefetch, say so ("HOLD in flight") and wait
 * to be killed, so that tests/guest/rxe-odp.sh can delete the device while
 * the prefetch runs and the process's MR is torn down under it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odp-test.h"

/*
 * Large enough that a prefetch of it runs for seconds in the test VM, in
 * ranges of 64 MiB: a prefetch that walks a range holds the mmap lock for
 * read, and the process's own calls that need it (a malloc() that mmaps,
 * the deregistration) wait for the range to end.
 */
#define TEARDOWN_BYTES (1UL << 30)
#define TEARDOWN_RANGES 16

/*
 * Pages of [addr, addr + len) that have a page table entry; -errno on
 * failure. @vec holds a byte per page and is allocated before the prefetch
 * starts: a malloc() that mmaps would wait for the mmap lock the prefetch
 * holds for read.
 */
static long resident_pages(struct rt_dev *d, const void *addr, size_t len, unsigned char *vec)
{
	size_t pages = len / d->page, i;
	long n = 0;

	if (mincore((void *)addr, len, vec))
		return rt_fail(d, -errno, "mincore() of the MR's memory: %s", strerror(errno));
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * Map TEARDOWN_BYTES without touching them, register them ODP, start an
 * asynchronous read prefetch of all of it (TEARDOWN_RANGES ranges in one
 * call) and wait until its first pages are mapped (it runs in the
 * kernel's worker now).
 */
static int start_big_prefetch(struct rt_dev *d, struct rt_region *r, unsigned char *vec)
{
	struct ibv_sge sge[TEARDOWN_RANGES];
	uint64_t t0 = rt_now_ms();
	long mapped = 0;
	int ret, err, i;

	err = rt_region_map(d, r, TEARDOWN_BYTES);
	if (err)
		return err;
	/*
	 * 4 KiB zero pages: with the huge zero page the prefetch is over at
	 * once. EINVAL: a kernel without THP, which has no huge zero page.
	 */
	if (madvise(r->addr, r->len, MADV_NOHUGEPAGE) && errno != EINVAL)
		return rt_fail(d, -errno, "madvise(MADV_NOHUGEPAGE): %s", strerror(errno));
	err = rt_region_reg(d, r, ODP_RW);
	if (err)
		return err;
	for (i = 0; i < TEARDOWN_RANGES; i++)
		sge[i] = (struct ibv_sge){
			.addr = (uintptr_t)r->addr + i * (TEARDOWN_BYTES / TEARDOWN_RANGES),
			.length = TEARDOWN_BYTES / TEARDOWN_RANGES,
			.lkey = r->mr->lkey,
		};
	ret = ibv_advise_mr(d->pd, IBV_ADVISE_MR_ADVICE_PREFETCH, 0, sge, TEARDOWN_RANGES);
	if (ret)
		return rt_fail(d, -ret, "asynchronous advise_mr(PREFETCH) of %lu MiB in %d ranges: %s",
			       TEARDOWN_BYTES >> 20, TEARDOWN_RANGES, strerror(ret));
	for (i = 0; i < d->timeout_ms / 10 && !mapped; i++) {
		mapped = resident_pages(d, r->addr, d->page, vec);
		if (mapped < 0)
			return (int)mapped;
		if (!mapped)
			rt_sleep_ms(10);
	}
	if (!mapped)
		return rt_fail(d, -ETIMEDOUT, "the asynchronous prefetch mapped no page of the MR in %d ms",
			       d->timeout_ms);
	rt_info(d, "the prefetch mapped the MR's first page within %llu ms of advise_mr",
		(unsigned long long)(rt_now_ms() - t0));
	return 0;
}

int cmd_prefetch_teardown(struct rt_dev *d, const struct options *o)
{
	const long total = (long)(TEARDOWN_BYTES / d->page);
	struct rt_region r = { 0 }, probe = { 0 };
	unsigned char *vec = malloc((size_t)total);
	struct rt_counters c0, c1;
	long at_dereg, after, later;
	uint64_t t0, ms;
	int ret, err;

	(void)o;
	rt_set_case(d, "prefetch-teardown/caps");
	if (!vec)
		return rt_fail(d, -ENOMEM, "no memory for a mincore() vector of %ld pages", total);
	err = region_new(d, &probe, 1, ODP_RW, 1);
	if (!err)
		err = advise_supported(d, &probe);
	rt_region_free(&probe);
	if (err)
		goto out;

	rt_set_case(d, "prefetch-teardown/dereg-in-flight");
	err = rt_counters_read(d, &c0);
	if (!err)
		err = start_big_prefetch(d, &r, vec);
	if (err)
		goto out;
	at_dereg = resident_pages(d, r.addr, r.len, vec);
	t0 = rt_now_ms();
	ret = ibv_dereg_mr(r.mr);
	ms = rt_now_ms() - t0;
	r.mr = NULL;
	if (ret) {
		err = rt_fail(d, -ret, "ibv_dereg_mr during the prefetch: %s", strerror(ret));
		goto out;
	}
	after = resident_pages(d, r.addr, r.len, vec);
	rt_sleep_ms(500);
	later = resident_pages(d, r.addr, r.len, vec);
	err = rt_counters_read(d, &c1);
	if (err || at_dereg < 0 || after < 0 || later < 0) {
		err = err ? err : -EIO;
		goto out;
	}
	rt_info(d, "pages mapped of %ld: %ld when ibv_dereg_mr was called, %ld when it returned (after %llu ms), %ld 500 ms later",
		total, at_dereg, after, (unsigned long long)ms, later);
	if (later != after) {
		err = rt_fail(d, -EIO, "the prefetch went on after ibv_dereg_mr returned: %ld pages mapped then, %ld 500 ms later",
			      after, later);
		goto out;
	}
	if (after == total) {
		err = rt_fail(d, -EIO, "all %ld pages were mapped when ibv_dereg_mr returned after %llu ms (%ld when it was called): deregistration waited for the whole prefetch instead of stopping it",
			      total, (unsigned long long)ms, at_dereg);
		goto out;
	}
	if (c1.prefetches - c0.prefetches >= TEARDOWN_RANGES) {
		err = rt_fail(d, -EIO, "odp_prefetches +%lld: every range was prefetched although deregistration cancelled the prefetch",
			      c1.prefetches - c0.prefetches);
		goto out;
	}
	rt_ok(d, "ibv_dereg_mr during an asynchronous prefetch of %lu MiB stopped it: %ld of %ld pages mapped, none after the call returned (%llu ms), %lld of %d ranges counted in odp_prefetches",
	      TEARDOWN_BYTES >> 20, after, total, (unsigned long long)ms,
	      c1.prefetches - c0.prefetches, TEARDOWN_RANGES);
out:
	rt_region_free(&r);
	free(vec);
	return err;
}

int cmd_prefetch_hold(struct rt_dev *d, const struct options *o)
{
	unsigned char vec[1];
	struct rt_region r = { 0 };
	int err;

	(void)o;
	rt_set_case(d, "prefetch-hold");
	err = start_big_prefetch(d, &r, vec);
	if (err) {
		rt_region_free(&r);
		return err;
	}
	printf("HOLD in flight: an asynchronous prefetch of %lu MiB runs; waiting to be killed\n",
	       TEARDOWN_BYTES >> 20);
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * rxe-odp-bench part (e): ODP MRs over sparse address space. For 1 GiB,
 * 64 GiB and 1 TiB of address space reserved with PROT_NONE and one page
 * mapped at each end, and for a one-page MR as the reference: the time of
 * ibv_reg_mr and ibv_dereg_mr (medians of the rounds), the kernel's
 * bookkeeping of the fresh MR and after one RDMA WRITE into each end page
 * (the MR's ODP state, libibverbs-ext), the IOVA space it holds; and the
 * ratio of the registration times of 1 TiB and of one page (1: the cost
 * does not grow with the size). Then the bookkeeping per MiB of a 64 MiB
 * ODP MR written all over by RDMA, over 4 KiB pages, over transparent huge
 * pages and over 2 MiB hugetlb pages (registered with IBV_ACCESS_HUGETLB;
 * tests/guest/rxe-odp-bench.sh reserves them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <infiniband/verbs_ext.h>

#include "rxe-odp-bench.h"

#define SPARSE_MAX_ROUNDS 15
/* The MR whose bookkeeping per MiB is measured, and the WRITEs that fill it */
#define FILL_BYTES ((size_t)64 << 20)
#define FILL_PIECE ((size_t)1 << 20)

struct sparse_size {
	const char *name;
	unsigned int shift;	/* log2 of the bytes */
};

/* The first is the reference: one page (its two ends are the same page) */
static const struct sparse_size sparse_sizes[] = {
	{ "page", 0 },
	{ "1gib", 30 },
	{ "64gib", 36 },
	{ "1tib", 40 },
};

/* What one registration of a sparse MR measured */
struct sparse_round {
	double reg_us, dereg_us;
	struct ibvx_mr_odp_state fresh, touched;
};

static int sparse_state(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s)
{
	struct ibvx_error e;
	int ret = ibvx_query_mr_odp(mr, s, sizeof(*s), &e);

	return ret ? rt_fail(d, -ret, "%s", e.message) : 0;
}

/* Register the @len bytes at @base, WRITE @src's page into both end pages, deregister */
static int sparse_round(struct rt_dev *d, struct rt_pair *pair, uint8_t *base, size_t len,
			struct ibv_mr *src, struct sparse_round *r)
{
	const int access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	uint64_t t0 = rt_now_ns();
	struct ibv_mr *mr = ibv_reg_mr(d->pd, base, len, access);
	int err;

	r->reg_us = (double)(rt_now_ns() - t0) / 1e3;
	if (!mr)
		return rt_fail(d, -errno, "ibv_reg_mr of %zu bytes of sparse ODP memory: %s", len,
			       strerror(errno));
	err = sparse_state(d, mr, &r->fresh);
	if (!err)
		err = rt_post_rdma(d, pair, IBV_WR_RDMA_WRITE, src, 0, mr, 0, d->page, 0);
	if (!err)
		err = rt_post_rdma(d, pair, IBV_WR_RDMA_WRITE, src, 0, mr, len - d->page, d->page,
				   1);
	if (!err)
		err = rt_poll_n(d, pair->scq, 2);
	if (!err)
		err = sparse_state(d, mr, &r->touched);
	t0 = rt_now_ns();
	if (ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr: %s", strerror(errno));
	r->dereg_us = (double)(rt_now_ns() - t0) / 1e3;
	return err;
}

/* All rounds of one size; the median registration time goes to @reg_us */
static int sparse_one(struct rt_dev *d, struct rt_pair *pair, const struct sparse_size *sz,
		      int rounds, struct ibv_mr *src, double *reg_us)
{
	const size_t pg = d->page, len = sz->shift ? (size_t)1 << sz->shift : pg;
	double reg[SPARSE_MAX_ROUNDS], dereg[SPARSE_MAX_ROUNDS];
	struct sparse_round r = { 0 };
	char key[64];
	uint8_t *base;
	int i, err = 0;

	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return rt_fail(d, -errno, "cannot reserve %zu bytes of address space: %s", len,
			       strerror(errno));
	if (mmap(base, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) == MAP_FAILED ||
	    mmap(base + len - pg, pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		err = rt_fail(d, -errno, "mmap of an end page: %s", strerror(errno));
	for (i = 0; i < rounds && !err; i++) {
		err = sparse_round(d, pair, base, len, src, &r);
		reg[i] = r.reg_us;
		dereg[i] = r.dereg_us;
	}
	munmap(base, len);
	if (err)
		return err;
	*reg_us = median(reg, rounds);
#define SPARSE_FIG(what, value, unit)                                        \
	do {                                                                 \
		snprintf(key, sizeof(key), "sparse.%s.%s", sz->name, what);  \
		fig(key, value, unit);                                       \
	} while (0)
	SPARSE_FIG("reg", *reg_us, "us");
	SPARSE_FIG("dereg", median(dereg, rounds), "us");
	SPARSE_FIG("bookkeeping_fresh", (double)r.fresh.bookkeeping_bytes, "bytes");
	SPARSE_FIG("bookkeeping_touched", (double)r.touched.bookkeeping_bytes, "bytes");
	SPARSE_FIG("pages_touched", (double)r.touched.pages_mapped, "count");
	SPARSE_FIG("iova", (double)r.fresh.iova_bytes, "bytes");
#undef SPARSE_FIG
	return 0;
}

/* The memory under the MR whose bookkeeping per MiB is measured */
enum fill_kind { FILL_4K, FILL_THP, FILL_HUGETLB };

static const char *const fill_names[] = { "4k", "thp", "hugetlb" };

/* FILL_BYTES of @kind's memory, unmapped by rt_region_free() */
static int fill_map(struct rt_dev *d, enum fill_kind kind, struct rt_region *r)
{
	if (kind == FILL_THP)
		return rt_region_map_thp(d, r, FILL_BYTES);
	if (kind == FILL_4K)
		return rt_region_map(d, r, FILL_BYTES);
	r->mr = NULL;
	r->len = FILL_BYTES;
	r->addr = mmap(NULL, FILL_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (r->addr != MAP_FAILED)
		return 0;
	r->addr = NULL;
	return rt_fail(d, -errno, "mmap of %zu MiB of hugetlb memory: %s (reserve huge pages: /proc/sys/vm/nr_hugepages)",
		       FILL_BYTES >> 20, strerror(errno));
}

/* Bookkeeping per MiB of a FILL_BYTES ODP MR that RDMA WRITEs from @src fill */
static int fill_one(struct rt_dev *d, struct rt_pair *pair, enum fill_kind kind,
		    struct ibv_mr *src)
{
	const int access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE |
			   (kind == FILL_HUGETLB ? IBV_ACCESS_HUGETLB : 0);
	struct ibvx_mr_odp_state s = { 0 };
	struct rt_region mem = { 0 };
	struct ibv_mr *mr = NULL;
	size_t off;
	char key[64];
	int err;

	err = fill_map(d, kind, &mem);
	if (err)
		return err;
	mr = ibv_reg_mr(d->pd, mem.addr, FILL_BYTES, access);
	err = mr ? 0 : rt_fail(d, -errno, "ibv_reg_mr of %s ODP memory: %s", fill_names[kind],
			       strerror(errno));
	for (off = 0; off < FILL_BYTES && !err; off += FILL_PIECE) {
		err = rt_post_rdma(d, pair, IBV_WR_RDMA_WRITE, src, 0, mr, off, FILL_PIECE, off);
		if (!err)
			err = rt_poll_n(d, pair->scq, 1);
	}
	if (!err)
		err = sparse_state(d, mr, &s);
	if (!err) {
		snprintf(key, sizeof(key), "sparse.bookkeeping_per_mib.%s", fill_names[kind]);
		fig(key, (double)s.bookkeeping_bytes / (double)(FILL_BYTES >> 20), "bytes");
		snprintf(key, sizeof(key), "sparse.entries_mapped.%s", fill_names[kind]);
		fig(key, (double)s.pages_mapped, "count");
	}
	/* what of it the kernel gave as huge pages */
	if (!err && kind == FILL_THP)
		fig("sparse.huge_share.thp", huge_share(&mem), "share");
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr: %s", strerror(errno));
	rt_region_free(&mem);
	return err;
}

int bench_sparse(struct rt_dev *d, struct rt_pair *pair, int rounds)
{
	double reg_us[RT_ARRAY_SIZE(sparse_sizes)];
	struct rt_region src = { 0 };
	size_t i;
	int err;

	if (rounds > SPARSE_MAX_ROUNDS)
		rounds = SPARSE_MAX_ROUNDS;
	printf("== (e) sparse ODP MRs: 1 GiB, 64 GiB, 1 TiB of PROT_NONE address space with a page mapped at each end, and a one-page MR; median of %d round(s)\n",
	       rounds);
	printf("#  reg, dereg: ibv_reg_mr, ibv_dereg_mr; bookkeeping: the kernel's (ODP state) of the fresh MR and after one page WRITE into each end;\n"
	       "#  iova: IOVA space held (0 in virt mode); reg_1tib_over_page: registration time ratio (1: it does not grow with the size)\n");
	err = rt_region_map(d, &src, d->page);
	if (!err)
		err = rt_region_reg(d, &src, IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < RT_ARRAY_SIZE(sparse_sizes) && !err; i++)
		err = sparse_one(d, pair, &sparse_sizes[i], rounds, src.mr, &reg_us[i]);
	rt_region_free(&src);
	if (!err)
		fig("sparse.reg_1tib_over_page",
		    reg_us[RT_ARRAY_SIZE(sparse_sizes) - 1] / reg_us[0], "ratio");
	if (err)
		return err;

	printf("#  bookkeeping_per_mib: of a %zu MiB ODP MR written all over by RDMA, over 4 KiB pages, over transparent\n"
	       "#  huge pages (madvise; huge_share: of it in huge pages, smaps) and over 2 MiB hugetlb pages (IBV_ACCESS_HUGETLB)\n",
	       FILL_BYTES >> 20);
	err = rt_region_map(d, &src, FILL_PIECE);
	if (!err)
		err = rt_region_reg(d, &src, IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < RT_ARRAY_SIZE(fill_names) && !err; i++)
		err = fill_one(d, pair, (enum fill_kind)i, src.mr);
	rt_region_free(&src);
	return err;
}

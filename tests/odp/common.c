/*
 * rxe-odp-test: helpers of several case groups: the ODP capabilities,
 * ODP regions and RC pairs as the cases use them, one RDMA transfer or
 * atomic with its expected outcome, pools of pairs, the address space,
 * and ibv_advise_mr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <infiniband/verbs_ext.h>

#include "odp-test.h"

/*
 * The ODP capabilities every command needs: ODP, and RC SEND, RECV, WRITE,
 * READ, ATOMIC, SRQ_RECV, UD SEND and RECV. With @all, also RC FLUSH and
 * ATOMIC_WRITE and implicit ODP, as the kernel patches announce.
 */
int check_caps(struct rt_dev *d, bool all)
{
	const struct ibv_odp_caps *c = &d->attr.odp_caps;
	uint32_t rc_want = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
			   IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC | IBV_ODP_SUPPORT_SRQ_RECV;
	uint32_t ud_want = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV;

	if (all)
		rc_want |= ODP_CAP_FLUSH | ODP_CAP_ATOMIC_WRITE;
	printf("# %s port %u, GID index %d, path MTU %u, page %zu bytes; ODP caps: general 0x%" PRIx64
	       ", RC 0x%x, UD 0x%x\n", d->name, d->port, d->gid_index, d->mtu_bytes, d->page,
	       c->general_caps, c->per_transport_caps.rc_odp_caps,
	       c->per_transport_caps.ud_odp_caps);
	if (!(c->general_caps & IBV_ODP_SUPPORT))
		return rt_fail(d, -EOPNOTSUPP, "%s reports no ODP (general caps 0x%" PRIx64 "): boot a kernel with the rxe ODP patches",
			       d->name, c->general_caps);
	if ((c->per_transport_caps.rc_odp_caps & rc_want) != rc_want)
		return rt_fail(d, -EOPNOTSUPP, "%s RC ODP caps 0x%x, expected at least 0x%x", d->name,
			       c->per_transport_caps.rc_odp_caps, rc_want);
	if ((c->per_transport_caps.ud_odp_caps & ud_want) != ud_want)
		return rt_fail(d, -EOPNOTSUPP, "%s UD ODP caps 0x%x, expected at least 0x%x", d->name,
			       c->per_transport_caps.ud_odp_caps, ud_want);
	if (all && !(c->general_caps & IBV_ODP_SUPPORT_IMPLICIT))
		return rt_fail(d, -EOPNOTSUPP, "%s offers no implicit ODP (general caps 0x%" PRIx64 "): boot a kernel with kernel patch 0029",
			       d->name, c->general_caps);
	if (all)
		rt_ok(d, "ODP caps: general ODP with implicit ODP; RC 0x%x (SEND RECV WRITE READ ATOMIC SRQ_RECV FLUSH ATOMIC_WRITE); UD 0x%x (SEND RECV)",
		      c->per_transport_caps.rc_odp_caps, c->per_transport_caps.ud_odp_caps);
	return 0;
}

/* Map @pages and register them with @access; @seed >= 0: CPU-fill with that pattern first */
int region_new(struct rt_dev *d, struct rt_region *r, size_t pages, int access, long seed)
{
	int err = rt_region_map(d, r, pages * d->page);

	if (!err && seed >= 0)
		rt_fill(r->addr, r->len, (uint32_t)seed, 0);
	if (!err)
		err = rt_region_reg(d, r, access);
	return err;
}

/* Two QPs of @type connected to each other; qp[1] receives from an SRQ with @srq */
int pair_new(struct rt_dev *d, struct rt_pair *p, enum ibv_qp_type type, bool srq)
{
	const struct rt_pair_attr a = {
		.type = type,
		.srq = srq,
		.events = true,
		.cq_depth = 64,
		.cap = { .max_send_wr = 32, .max_recv_wr = 16, .max_send_sge = 2,
			 .max_recv_sge = 2 },
		.timeout = 14,
		.retry_cnt = 7,
	};

	return rt_pair_new(d, p, &a);
}

/*
 * RDMA WRITE or READ of @len bytes between @laddr (in @lmr, local) and
 * @raddr (in @rmr, remote); the completion status must be @want. An
 * expected error is reported as a check.
 */
int rdma(struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
	 const void *laddr, size_t len, struct ibv_mr *rmr, const void *raddr,
	 enum ibv_wc_status want, const char *what)
{
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = (uint32_t)len,
			       .lkey = lmr->lkey };
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	char w[200];
	uint64_t t0 = rt_now_ms();
	int err;

	if (!p)
		return rt_fail(d, -ENOSPC, "internal: no QP pair left in the pool for %s", what);
	snprintf(w, sizeof(w), "%s of %zu bytes (%s)", rt_op_name(op), len, what);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 0x5000 + (uint64_t)op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.rdma.remote_addr = (uintptr_t)raddr;
	wr.wr.rdma.rkey = rmr->rkey;
	err = rt_exec_wr(d, p, &wr, &wc, w);
	if (!err)
		err = rt_expect_status(d, &wc, want, w);
	if (!err && want != IBV_WC_SUCCESS)
		rt_ok(d, "%s: %s after %" PRIu64 " ms, as expected", w, ibv_wc_status_str(want),
		      rt_now_ms() - t0);
	return err;
}

/* An atomic on the 8 bytes at @raddr; the old value lands at @laddr */
int rdma_atomic(struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		void *laddr, struct ibv_mr *rmr, void *raddr, uint64_t compare_add, uint64_t swap,
		enum ibv_wc_status want, const char *what)
{
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = 8, .lkey = lmr->lkey };
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	char w[200];
	int err;

	if (!p)
		return rt_fail(d, -ENOSPC, "internal: no QP pair left in the pool for %s", what);
	snprintf(w, sizeof(w), "%s (%s)", rt_op_name(op), what);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 0x6000 + (uint64_t)op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.atomic.remote_addr = (uintptr_t)raddr;
	wr.wr.atomic.rkey = rmr->rkey;
	wr.wr.atomic.compare_add = compare_add;
	wr.wr.atomic.swap = swap;
	err = rt_exec_wr(d, p, &wr, &wc, w);
	if (!err)
		err = rt_expect_status(d, &wc, want, w);
	if (!err && want != IBV_WC_SUCCESS)
		rt_ok(d, "%s: %s, as expected", w, ibv_wc_status_str(want));
	return err;
}

int pool_fill(struct rt_dev *d, struct pool *pl, int n)
{
	int err = 0;

	memset(pl, 0, sizeof(*pl));
	for (pl->n = 0; pl->n < n && !err; pl->n++)
		err = pair_new(d, &pl->p[pl->n], IBV_QPT_RC, false);
	if (err)
		pl->n--;
	return err;
}

struct rt_pair *pool_take(struct pool *pl)
{
	return pl->used < pl->n ? &pl->p[pl->used++] : NULL;
}

void pool_free(struct pool *pl)
{
	int i;

	for (i = 0; i < pl->n; i++)
		rt_pair_free(&pl->p[i]);
	pl->n = 0;
}

/* The rxe verbs providers this process has mapped, as text */
const char *loaded_provider(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	size_t used = 0;

	buf[0] = 0;
	if (!f) {
		snprintf(buf, len, "unknown (/proc/self/maps: %s)", strerror(errno));
		return buf;
	}
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/'), *nl;

		if (!path || !strstr(path, "-rdmav34.so") || (!strstr(path, "rxe-rdmav34.so")))
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = 0;
		if (strstr(buf, path))
			continue;
		used += (size_t)snprintf(buf + used, len > used ? len - used : 0, "%s%s",
					 used ? " " : "", path);
		if (used >= len)
			break;
	}
	fclose(f);
	if (!buf[0])
		snprintf(buf, len, "neither librxe nor libmsrxe");
	return buf;
}

/*
 * The end of the user address space (x86-64 TASK_SIZE_MAX): 2^47 - 1 page
 * with 4-level paging, 2^56 - 1 page with 5-level paging (LA57; QEMU's
 * "-cpu max" has it), told apart by mapping a page at 2^47, which only
 * 5-level paging allows.
 */
uintptr_t user_va_end(size_t page, bool *la57)
{
	void *hint = (void *)(uintptr_t)(1ULL << 47), *m;

	m = mmap(hint, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != MAP_FAILED)
		munmap(m, page);
	*la57 = m == hint;
	return (uintptr_t)((*la57 ? 1ULL << 56 : 1ULL << 47) - page);
}

/* Each page of [addr, addr + len) is unmapped (msync fails with ENOMEM) */
bool range_unmapped(void *addr, size_t len, size_t page)
{
	size_t off;

	for (off = 0; off < len; off += page)
		if (!msync((uint8_t *)addr + off, page, MS_ASYNC) || errno != ENOMEM)
			return false;
	return true;
}

/* The ODP state of @mr into @s (libibverbs-ext); -errno reported */
int odp_state(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s)
{
	struct ibvx_error e;
	int ret = ibvx_query_mr_odp(mr, s, sizeof(*s), &e);

	return ret ? rt_fail(d, -ret, "%s", e.message) : 0;
}

const char *advice_name(enum ibv_advise_mr_advice a)
{
	switch (a) {
	case IBV_ADVISE_MR_ADVICE_PREFETCH:
		return "PREFETCH";
	case IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE:
		return "PREFETCH_WRITE";
	case IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT:
		return "PREFETCH_NO_FAULT";
	default:
		return "?";
	}
}

/* ibv_advise_mr of one range; returns its result (0 or a positive errno) */
int advise(struct rt_dev *d, enum ibv_advise_mr_advice a, bool sync, uint32_t lkey,
	   const void *addr, size_t len)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = (uint32_t)len, .lkey = lkey };

	return ibv_advise_mr(d->pd, a, sync ? IBV_ADVISE_MR_FLAG_FLUSH : 0, &sge, 1);
}

/*
 * Whether the loaded provider passes advise_mr on: a synchronous prefetch
 * of @r must succeed. EXIT_NO_ADVISE: it does not (EOPNOTSUPP; the
 * provider is named), 0: it does, -errno: it failed otherwise.
 */
int advise_supported(struct rt_dev *d, struct rt_region *r)
{
	char prov[512];
	int ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, true, r->mr->lkey, r->addr, d->page);

	if (ret == EOPNOTSUPP) {
		printf("NOT RUN %s: ibv_advise_mr answers EOPNOTSUPP: the loaded provider (%s) has no advise_mr; the advise_mr checks need msrxe (tests/guest/provider-lib.sh: use_provider ours); exit status %d\n",
		       d->where, loaded_provider(prov, sizeof(prov)), EXIT_NO_ADVISE);
		fflush(stdout);
		return EXIT_NO_ADVISE;
	}
	if (ret)
		return rt_fail(d, -ret, "ibv_advise_mr(PREFETCH, FLUSH) of a page of a valid ODP MR: %s",
			       strerror(ret));
	rt_ok(d, "ibv_advise_mr works with the loaded provider (%s)", loaded_provider(prov, sizeof(prov)));
	return 0;
}

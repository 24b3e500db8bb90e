/*
 * Figures of On-Demand Paging (ODP) memory regions on an rxe device, in
 * loopback: two RC QPs of the same device connected to each other.
 *
 *  (a) RDMA WRITE bandwidth between two ODP MRs against two pinned MRs, in
 *      the same run, each after a warm-up; rounds alternate which kind goes
 *      first; medians and the ratio odp/pinned. The same for ATOMIC
 *      FETCH_AND_ADD on a word of an ODP MR against a pinned one (operations
 *      per second; the word's final value is checked).
 *  (b) First-touch cost: a fresh MR over PAGES pages of a fresh mmap, one
 *      RDMA WRITE into it (or one RDMA READ from it) that touches every page
 *      (cold), then the same transfer again (warm); microseconds per page
 *      and the odp_faults counter's deltas. The same with one 64-byte work
 *      request per page instead (every page touched, little copied, so the
 *      fault is a larger part of the time). Cases: the pages never touched
 *      (the fault allocates them), the pages populated by the CPU first
 *      (only the device's first touch is left), and a pinned MR over
 *      untouched pages for reference (registration pins them).
 *
 * Prints figures; asserts nothing about speed. It fails only when the
 * device cannot do the work (no ODP, a work request fails, ...).
 * Each figure line is "KEY VALUE UNIT" with KEY in [a-z0-9_./]; other lines
 * start with "#" or "==" (tests/guest/rxe-odp-bench.sh joins two runs by KEY).
 *
 * usage: rxe-odp-bench [--dev rxe0] [--port 1] [--gid INDEX] [--pages N]
 *                      [--size BYTES] [--iters N] [--atomics N] [--rounds N]
 *                      [--parts bw,atomic,ft]
 *                      [--cases untouched,cpu_resident,pinned_ref]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#define PROG "rxe-odp-bench"
#define MAX_ROUNDS 15
/* Work requests in flight in the bandwidth test */
#define BW_DEPTH 16
/* The bandwidth test cycles through a buffer of this many messages */
#define BW_BUF_MSGS 16
/* The sparse first-touch transfers move this much per page */
#define SPARSE_BYTES 64
/* Give up on a completion after this long */
#ifndef POLL_TIMEOUT_S
#define POLL_TIMEOUT_S 120ULL
#endif
#define POLL_TIMEOUT_NS (POLL_TIMEOUT_S * 1000000000ULL)

struct options {
	const char *dev;
	int port;
	int gid;		/* -1: the first RoCE v2 GID of an IPv4 address */
	unsigned long pages;
	size_t size;
	unsigned long iters;
	unsigned long atomics;
	int rounds;
	bool part[3];		/* bw, atomic, ft */
	bool ft_case[3];	/* as ft_cases[] */
};

static const char *const part_names[3] = { "bw", "atomic", "ft" };

struct bench {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];	/* qp[0] posts, qp[1] is its peer */
	uint8_t port;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	uint32_t max_msg;
	size_t page_size;
	char counters[256];	/* sysfs hw_counters directory */
};

/* A buffer of its own mapping and the MR over it */
struct region {
	void *addr;
	size_t len;
	struct ibv_mr *mr;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One of the device's hw counters. Returns 0 or -errno. */
static int read_counter(const struct bench *b, const char *name, long long *value)
{
	char path[320];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", b->counters, name);
	f = fopen(path, "r");
	if (!f) {
		err = -errno;
		fprintf(stderr, PROG ": cannot read %s: %s (does the kernel's rxe count ODP events?)\n",
			path, strerror(errno));
		return err;
	}
	if (fscanf(f, "%lld", value) != 1) {
		fprintf(stderr, PROG ": %s holds no number\n", path);
		err = -EPROTO;
	}
	fclose(f);
	return err;
}

static void fig(const char *key, double value, const char *unit)
{
	printf("%-40s %14.3f  %s\n", key, value, unit);
}

static void fig_count(const char *key, long long value)
{
	printf("%-40s %14lld  %s\n", key, value, "count");
}

/* The first RoCE v2 GID that maps an IPv4 address (::ffff:a.b.c.d) */
static int find_gid(struct bench *b, int table_len)
{
	static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct ibv_gid_entry e;
	int i;

	for (i = 0; i < table_len; i++) {
		if (ibv_query_gid_ex(b->ctx, b->port, i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 && !memcmp(e.gid.raw, v4_prefix, 12))
			return i;
	}
	fprintf(stderr, PROG ": %s port %u has no RoCE v2 GID of an IPv4 address; give --gid\n",
		ibv_get_device_name(b->ctx->device), b->port);
	return -ENOENT;
}

static int open_device(struct bench *b, const struct options *o)
{
	struct ibv_device **list;
	struct ibv_device_attr_ex attr;
	struct ibv_port_attr pattr;
	const uint32_t rc_needed = IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
				   IBV_ODP_SUPPORT_ATOMIC;
	int i, n, err;

	list = ibv_get_device_list(&n);
	if (!list) {
		err = -errno;
		fprintf(stderr, PROG ": ibv_get_device_list: %s\n", strerror(errno));
		return err;
	}
	for (i = 0; i < n && strcmp(ibv_get_device_name(list[i]), o->dev); i++)
		;
	if (i == n) {
		fprintf(stderr, PROG ": no RDMA device %s (rdma link add %s type rxe netdev IF)\n",
			o->dev, o->dev);
		ibv_free_device_list(list);
		return -ENODEV;
	}
	b->ctx = ibv_open_device(list[i]);
	err = b->ctx ? 0 : -errno;
	ibv_free_device_list(list);
	if (err) {
		fprintf(stderr, PROG ": cannot open %s: %s\n", o->dev, strerror(-err));
		return err;
	}

	memset(&attr, 0, sizeof(attr));
	err = ibv_query_device_ex(b->ctx, NULL, &attr);
	if (err) {
		fprintf(stderr, PROG ": ibv_query_device_ex(%s): %s\n", o->dev, strerror(err));
		return -err;
	}
	if (!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT) ||
	    (attr.odp_caps.per_transport_caps.rc_odp_caps & rc_needed) != rc_needed) {
		fprintf(stderr, PROG ": %s offers no ODP RDMA WRITE, READ and ATOMIC on RC (general caps 0x%" PRIx64
			", RC caps 0x%x): boot a kernel with the rxe ODP patches\n",
			o->dev, attr.odp_caps.general_caps, attr.odp_caps.per_transport_caps.rc_odp_caps);
		return -EOPNOTSUPP;
	}

	b->port = (uint8_t)o->port;
	err = ibv_query_port(b->ctx, b->port, &pattr);
	if (err) {
		fprintf(stderr, PROG ": ibv_query_port(%s, %u): %s\n", o->dev, b->port, strerror(err));
		return -err;
	}
	if (pattr.state != IBV_PORT_ACTIVE) {
		fprintf(stderr, PROG ": %s port %u is not active (state %d)\n", o->dev, b->port,
			pattr.state);
		return -ENETDOWN;
	}
	b->mtu = pattr.active_mtu;
	b->max_msg = pattr.max_msg_sz;
	b->gid_index = o->gid >= 0 ? o->gid : find_gid(b, pattr.gid_tbl_len);
	if (b->gid_index < 0)
		return b->gid_index;
	err = ibv_query_gid(b->ctx, b->port, b->gid_index, &b->gid);
	if (err) {
		fprintf(stderr, PROG ": ibv_query_gid(%s, %u, %d): %s\n", o->dev, b->port,
			b->gid_index, strerror(errno));
		return -errno;
	}
	snprintf(b->counters, sizeof(b->counters), "/sys/class/infiniband/%s/ports/%u/hw_counters",
		 o->dev, b->port);
	b->page_size = (size_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static int qp_to_rts(struct bench *b, struct ibv_qp *qp, uint32_t dest_qpn)
{
	struct ibv_qp_attr a;
	int err;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = b->port;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			    IBV_QP_ACCESS_FLAGS);
	if (err)
		goto fail;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = b->mtu;
	a.dest_qp_num = dest_qpn;
	a.max_dest_rd_atomic = 16;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = b->gid;
	a.ah_attr.grh.sgid_index = (uint8_t)b->gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = b->port;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (err)
		goto fail;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	/*
	 * Loopback loses no packet, but on a slow emulated machine a 4 MiB
	 * READ's responses can pause for more than 67 ms (timeout 14), and the
	 * requester then sends the READ again: 18 waits 1.07 s. retry_cnt 7
	 * would retry without end in rxe; with 6 a stuck transfer fails.
	 */
	a.timeout = 18;
	a.retry_cnt = 6;
	a.rnr_retry = 7;
	a.max_rd_atomic = 16;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			    IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (err)
		goto fail;
	return 0;
fail:
	fprintf(stderr, PROG ": cannot move QP %u to state %d: %s\n", qp->qp_num, a.qp_state,
		strerror(err));
	return -err;
}

static int setup_qps(struct bench *b)
{
	struct ibv_qp_init_attr init;
	int i, err;

	b->pd = ibv_alloc_pd(b->ctx);
	if (!b->pd) {
		err = -errno;
		fprintf(stderr, PROG ": ibv_alloc_pd: %s\n", strerror(errno));
		return err;
	}
	b->cq = ibv_create_cq(b->ctx, 4 * BW_DEPTH + 64, NULL, NULL, 0);
	if (!b->cq) {
		err = -errno;
		fprintf(stderr, PROG ": ibv_create_cq: %s\n", strerror(errno));
		return err;
	}
	for (i = 0; i < 2; i++) {
		memset(&init, 0, sizeof(init));
		init.send_cq = b->cq;
		init.recv_cq = b->cq;
		init.qp_type = IBV_QPT_RC;
		init.sq_sig_all = 1;
		init.cap.max_send_wr = BW_DEPTH + 64;
		init.cap.max_recv_wr = 1;
		init.cap.max_send_sge = 1;
		init.cap.max_recv_sge = 1;
		b->qp[i] = ibv_create_qp(b->pd, &init);
		if (!b->qp[i]) {
			err = -errno;
			fprintf(stderr, PROG ": ibv_create_qp: %s\n", strerror(errno));
			return err;
		}
	}
	err = qp_to_rts(b, b->qp[0], b->qp[1]->qp_num);
	if (!err)
		err = qp_to_rts(b, b->qp[1], b->qp[0]->qp_num);
	return err;
}

static void teardown(struct bench *b)
{
	int i;

	for (i = 0; i < 2; i++)
		if (b->qp[i])
			ibv_destroy_qp(b->qp[i]);
	if (b->cq)
		ibv_destroy_cq(b->cq);
	if (b->pd)
		ibv_dealloc_pd(b->pd);
	if (b->ctx)
		ibv_close_device(b->ctx);
}

/*
 * Map @len bytes (untouched, or written by the CPU when @populate) and
 * register them, ODP or pinned; the registration time goes to @reg_ns.
 */
static int region_make(struct bench *b, struct region *r, size_t len, bool odp, bool populate,
		       uint64_t *reg_ns)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
		     IBV_ACCESS_REMOTE_ATOMIC;
	uint64_t t0;
	int err;

	r->len = len;
	r->mr = NULL;
	r->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->addr == MAP_FAILED) {
		err = -errno;
		fprintf(stderr, PROG ": mmap of %zu bytes: %s\n", len, strerror(errno));
		r->addr = NULL;
		return err;
	}
	if (populate)
		memset(r->addr, 0x5a, len);
	if (odp)
		access |= IBV_ACCESS_ON_DEMAND;
	t0 = now_ns();
	r->mr = ibv_reg_mr(b->pd, r->addr, len, access);
	if (reg_ns)
		*reg_ns = now_ns() - t0;
	if (!r->mr) {
		err = -errno;
		fprintf(stderr, PROG ": ibv_reg_mr(%zu bytes, %s): %s\n", len,
			odp ? "IBV_ACCESS_ON_DEMAND" : "pinned", strerror(errno));
		return err;
	}
	return 0;
}

static void region_free(struct region *r)
{
	if (r->mr)
		ibv_dereg_mr(r->mr);
	if (r->addr)
		munmap(r->addr, r->len);
	r->mr = NULL;
	r->addr = NULL;
}

/* Wait for @n completions of qp[0]'s work requests */
static int poll_n(struct bench *b, unsigned long n)
{
	struct ibv_wc wc[16];
	uint64_t start = now_ns();
	int got, i;

	while (n) {
		got = ibv_poll_cq(b->cq, n < 16 ? (int)n : 16, wc);
		if (got < 0) {
			fprintf(stderr, PROG ": ibv_poll_cq failed (%d)\n", got);
			return -EIO;
		}
		for (i = 0; i < got; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, PROG ": work request %" PRIu64 " (opcode %d) completed with %s (vendor error 0x%x); see dmesg\n",
					wc[i].wr_id, wc[i].opcode, ibv_wc_status_str(wc[i].status),
					wc[i].vendor_err);
				return -EIO;
			}
		}
		n -= (unsigned long)got;
		if (!got && now_ns() - start > POLL_TIMEOUT_NS) {
			fprintf(stderr, PROG ": %lu completion(s) still missing after %llu s\n", n,
				(unsigned long long)POLL_TIMEOUT_S);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static int post_rdma(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local, size_t loff,
		     struct ibv_mr *remote, size_t roff, size_t len, uint64_t wr_id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local->addr + loff,
		.length = (uint32_t)len,
		.lkey = local->lkey,
	};
	struct ibv_send_wr wr, *bad;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = wr_id;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)remote->addr + roff;
	wr.wr.rdma.rkey = remote->rkey;
	err = ibv_post_send(b->qp[0], &wr, &bad);
	if (err) {
		fprintf(stderr, PROG ": ibv_post_send(%s, %zu bytes): %s\n",
			op == IBV_WR_RDMA_READ ? "RDMA READ" : "RDMA WRITE", len, strerror(err));
		return -err;
	}
	return 0;
}

/*
 * One transfer of all of @len bytes between @local and @remote, in pieces
 * of at most the port's max_msg_sz, BW_DEPTH at most in flight. Its
 * duration goes to @ns.
 */
static int transfer(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local,
		    struct ibv_mr *remote, size_t len, uint64_t *ns)
{
	size_t off, piece;
	unsigned long posted = 0, done = 0;
	uint64_t t0 = now_ns();
	int err;

	for (off = 0; off < len; off += piece) {
		if (posted - done == BW_DEPTH) {
			err = poll_n(b, 1);
			if (err)
				return err;
			done++;
		}
		piece = len - off < b->max_msg ? len - off : b->max_msg;
		err = post_rdma(b, op, local, off, remote, off, piece, posted);
		if (err)
			return err;
		posted++;
	}
	err = poll_n(b, posted - done);
	*ns = now_ns() - t0;
	return err;
}

/*
 * One work request of SPARSE_BYTES at the start of each of @pages pages
 * between @local and @remote, BW_DEPTH in flight: every page is touched,
 * little is copied. Its duration goes to @ns.
 */
static int transfer_sparse(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local,
			   struct ibv_mr *remote, unsigned long pages, uint64_t *ns)
{
	unsigned long posted = 0, done = 0;
	uint64_t t0 = now_ns();
	int err;

	for (posted = 0; posted < pages; posted++) {
		if (posted - done == BW_DEPTH) {
			err = poll_n(b, 1);
			if (err)
				return err;
			done++;
		}
		err = post_rdma(b, op, local, posted * b->page_size, remote,
				posted * b->page_size, SPARSE_BYTES, posted);
		if (err)
			return err;
	}
	err = poll_n(b, posted - done);
	*ns = now_ns() - t0;
	return err;
}

/* RDMA WRITEs of o->size bytes from @src to @dst, BW_DEPTH in flight */
static int bw_run(struct bench *b, const struct options *o, struct region *src,
		  struct region *dst, unsigned long iters, uint64_t *ns)
{
	unsigned long posted = 0, done = 0;
	uint64_t t0 = now_ns();
	int err;

	while (done < iters) {
		while (posted < iters && posted - done < BW_DEPTH) {
			size_t off = (posted % BW_BUF_MSGS) * o->size;

			err = post_rdma(b, IBV_WR_RDMA_WRITE, src->mr, off, dst->mr, off, o->size,
					posted);
			if (err)
				return err;
			posted++;
		}
		err = poll_n(b, 1);
		if (err)
			return err;
		done++;
	}
	*ns = now_ns() - t0;
	return 0;
}

/*
 * ATOMIC FETCH_AND_ADD of 1 on the first word of @dst, BW_DEPTH in flight;
 * the fetched values land in BW_DEPTH slots of @res.
 */
static int atomic_run(struct bench *b, struct region *res, struct region *dst,
		      unsigned long iters, uint64_t *ns)
{
	unsigned long posted = 0, done = 0;
	uint64_t t0 = now_ns();
	int err;

	while (done < iters) {
		while (posted < iters && posted - done < BW_DEPTH) {
			struct ibv_sge sge = {
				.addr = (uintptr_t)res->addr + (posted % BW_DEPTH) * sizeof(uint64_t),
				.length = sizeof(uint64_t),
				.lkey = res->mr->lkey,
			};
			struct ibv_send_wr wr, *bad;

			memset(&wr, 0, sizeof(wr));
			wr.wr_id = posted;
			wr.sg_list = &sge;
			wr.num_sge = 1;
			wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
			wr.send_flags = IBV_SEND_SIGNALED;
			wr.wr.atomic.remote_addr = (uintptr_t)dst->addr;
			wr.wr.atomic.compare_add = 1;
			wr.wr.atomic.rkey = dst->mr->rkey;
			err = ibv_post_send(b->qp[0], &wr, &bad);
			if (err) {
				fprintf(stderr, PROG ": ibv_post_send(ATOMIC FETCH_AND_ADD): %s\n",
					strerror(err));
				return -err;
			}
			posted++;
		}
		err = poll_n(b, 1);
		if (err)
			return err;
		done++;
	}
	*ns = now_ns() - t0;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (a) bandwidth, ODP MRs against pinned MRs */
static int bench_bw(struct bench *b, const struct options *o)
{
	struct region reg[2][2];	/* [odp][src, dst] */
	double mbps[2][MAX_ROUNDS];
	long long faults[2] = { 0, 0 }, before, after;
	size_t len = o->size * BW_BUF_MSGS;
	int kind, r, i, err = 0;
	uint64_t ns;

	memset(reg, 0, sizeof(reg));
	for (kind = 0; kind < 2 && !err; kind++)
		for (i = 0; i < 2 && !err; i++)
			err = region_make(b, &reg[kind][i], len, kind, true, NULL);
	/* warm-up: every message slot of both buffers, both kinds */
	for (kind = 0; kind < 2 && !err; kind++)
		err = bw_run(b, o, &reg[kind][0], &reg[kind][1], 2 * BW_BUF_MSGS, &ns);

	for (r = 0; r < o->rounds && !err; r++) {
		for (i = 0; i < 2 && !err; i++) {
			kind = (r % 2) ? 1 - i : i;	/* alternate which kind goes first */
			err = read_counter(b, "odp_faults", &before);
			if (!err)
				err = bw_run(b, o, &reg[kind][0], &reg[kind][1], o->iters, &ns);
			if (!err)
				err = read_counter(b, "odp_faults", &after);
			if (!err) {
				mbps[kind][r] = (double)o->size * (double)o->iters / ((double)ns / 1e3);
				faults[kind] += after - before;
			}
		}
	}
	for (kind = 0; kind < 2; kind++)
		for (i = 0; i < 2; i++)
			region_free(&reg[kind][i]);
	if (err)
		return err;

	printf("== (a) RDMA WRITE bandwidth, loopback, %zu-byte messages, %d in flight, %lu per round, median of %d round(s) after a warm-up\n",
	       o->size, BW_DEPTH, o->iters, o->rounds);
	printf("#  MB/s = 10^6 bytes per second; odp/pinned > 1 means ODP is faster\n");
	{
		double pinned = median(mbps[0], o->rounds), odp = median(mbps[1], o->rounds);

		fig("bw.write.pinned", pinned, "MB/s");
		fig("bw.write.odp", odp, "MB/s");
		fig("bw.write.odp/pinned", odp / pinned, "ratio");
		fig_count("bw.write.odp.faults_timed", faults[1]);
	}
	return 0;
}

/* (a) atomics, a word of an ODP MR against one of a pinned MR */
static int bench_atomic(struct bench *b, const struct options *o)
{
	struct region reg[2][2];	/* [odp][results, target] */
	double rate[2][MAX_ROUNDS];
	long long faults = 0, before, after;
	unsigned long warmup = BW_DEPTH;
	int kind, r, i, err = 0;
	uint64_t ns, want, got[2] = { 0, 0 };

	memset(reg, 0, sizeof(reg));
	for (kind = 0; kind < 2 && !err; kind++)
		for (i = 0; i < 2 && !err; i++)
			err = region_make(b, &reg[kind][i], b->page_size, kind && i, true, NULL);
	for (kind = 0; kind < 2 && !err; kind++) {
		memset(reg[kind][1].addr, 0, sizeof(uint64_t));
		err = atomic_run(b, &reg[kind][0], &reg[kind][1], warmup, &ns);
	}
	for (r = 0; r < o->rounds && !err; r++) {
		for (i = 0; i < 2 && !err; i++) {
			kind = (r % 2) ? 1 - i : i;
			err = read_counter(b, "odp_faults", &before);
			if (!err)
				err = atomic_run(b, &reg[kind][0], &reg[kind][1], o->atomics, &ns);
			if (!err)
				err = read_counter(b, "odp_faults", &after);
			if (!err) {
				rate[kind][r] = (double)o->atomics / ((double)ns / 1e9);
				if (kind)
					faults += after - before;
			}
		}
	}
	want = warmup + (uint64_t)o->rounds * o->atomics;
	for (kind = 0; kind < 2; kind++) {
		if (!err)
			memcpy(&got[kind], reg[kind][1].addr, sizeof(uint64_t));
		for (i = 0; i < 2; i++)
			region_free(&reg[kind][i]);
	}
	if (err)
		return err;
	if (got[0] != want || got[1] != want) {
		fprintf(stderr, PROG ": after %" PRIu64 " FETCH_AND_ADDs of 1 the words hold %" PRIu64
			" (pinned) and %" PRIu64 " (ODP): atomics lost or repeated\n",
			want, got[0], got[1]);
		return -EIO;
	}

	printf("== (a) ATOMIC FETCH_AND_ADD on one 8-byte word, loopback, %d in flight, %lu per round, median of %d round(s) after a warm-up\n",
	       BW_DEPTH, o->atomics, o->rounds);
	printf("#  the word is in an ODP or a pinned MR (the fetched values land in a pinned MR); final values checked\n");
	{
		double pinned = median(rate[0], o->rounds), odp = median(rate[1], o->rounds);

		fig("atomic.fadd.pinned", pinned, "ops/s");
		fig("atomic.fadd.odp", odp, "ops/s");
		fig("atomic.fadd.odp/pinned", odp / pinned, "ratio");
		fig_count("atomic.fadd.odp.faults_timed", faults);
	}
	return 0;
}

struct ft_case {
	const char *name;
	bool odp;
	bool populate;
	const char *what;
};

static const struct ft_case ft_cases[] = {
	{ "untouched", true, false, "ODP MR over pages never touched (the fault allocates them)" },
	{ "cpu_resident", true, true, "ODP MR over pages the CPU wrote first (device first touch only)" },
	{ "pinned_ref", false, false, "pinned MR over pages never touched (registration pins them)" },
};

/*
 * A small RDMA WRITE within @peer, waited for. The responder handles
 * requests in order, so when it completes, no earlier request is left
 * queued there. Needed before a target MR is deregistered: a READ that the
 * requester sent twice (its retransmit timer fired while the responses were
 * still coming) completes with the first copy's responses, and rxe answers
 * the duplicate by reading the MR again; done after the MR is gone, that
 * is a remote access error and moves the responder QP to the error state,
 * and the requester ignores the NAK of a READ it already completed.
 */
static int fence(struct bench *b, struct region *peer)
{
	uint64_t ns;

	return transfer(b, IBV_WR_RDMA_WRITE, peer->mr, peer->mr, 64, &ns);
}

/*
 * (b) one case, one operation: o->rounds times a fresh mapping and MR, one
 * cold transfer, one warm; medians of the per-page figures.
 */
static int ft_one(struct bench *b, const struct options *o, const struct ft_case *c,
		  enum ibv_wr_opcode op, bool sparse, struct region *peer)
{
	const char *opname = op == IBV_WR_RDMA_WRITE ? (sparse ? "write64" : "write") :
						       (sparse ? "read64" : "read");
	const char *phase = "registration";
	double pages = (double)o->pages, us = 1e3 * pages;
	double reg[MAX_ROUNDS], cold[MAX_ROUNDS], warm[MAX_ROUNDS], touch[MAX_ROUNDS];
	long long f0, f1, f2, faults_cold = 0, faults_warm = 0;
	uint64_t reg_ns, cold_ns = 0, warm_ns = 0;
	struct region target;
	char key[96];
	int r, err = 0;

	for (r = 0; r < o->rounds && !err; r++) {
		memset(&target, 0, sizeof(target));
		phase = "registration";
		err = region_make(b, &target, o->pages * b->page_size, c->odp, c->populate,
				  &reg_ns);
		if (!err)
			err = read_counter(b, "odp_faults", &f0);
		/* the target is the remote side: WRITE into it, READ from it */
		if (!err) {
			phase = "cold transfer";
			err = sparse ? transfer_sparse(b, op, peer->mr, target.mr, o->pages, &cold_ns) :
				       transfer(b, op, peer->mr, target.mr, target.len, &cold_ns);
		}
		if (!err)
			err = read_counter(b, "odp_faults", &f1);
		if (!err) {
			phase = "warm transfer";
			err = sparse ? transfer_sparse(b, op, peer->mr, target.mr, o->pages, &warm_ns) :
				       transfer(b, op, peer->mr, target.mr, target.len, &warm_ns);
		}
		if (!err)
			err = read_counter(b, "odp_faults", &f2);
		if (!err) {
			phase = "fence";
			err = fence(b, peer);
		}
		region_free(&target);
		if (err)
			break;
		reg[r] = (double)reg_ns / us;
		cold[r] = (double)cold_ns / us;
		warm[r] = (double)warm_ns / us;
		touch[r] = cold[r] - warm[r];
		faults_cold += f1 - f0;
		faults_warm += f2 - f1;
	}
	if (err) {
		fprintf(stderr, PROG ": first touch, case %s, RDMA %s, MR %d of %d: the %s failed\n",
			c->name, opname, r + 1, o->rounds, phase);
		return err;
	}

#define FT_FIG(suffix, v, unit) \
	do { \
		snprintf(key, sizeof(key), "ft.%s.%s.%s", c->name, opname, suffix); \
		fig(key, v, unit); \
	} while (0)
	FT_FIG("reg", median(reg, o->rounds), "us/page");
	FT_FIG("cold", median(cold, o->rounds), "us/page");
	FT_FIG("warm", median(warm, o->rounds), "us/page");
	FT_FIG("first_touch", median(touch, o->rounds), "us/page");
	FT_FIG("faults_cold", (double)faults_cold / o->rounds, "per_MR");
	FT_FIG("faults_warm", (double)faults_warm / o->rounds, "per_MR");
#undef FT_FIG
	return 0;
}

static int bench_first_touch(struct bench *b, const struct options *o)
{
	struct region peer;
	size_t i;
	int err;

	printf("== (b) first touch: one transfer over %lu pages (%lu KiB) of a fresh MR, cold then warm; median of %d MR(s)\n",
	       o->pages, o->pages * b->page_size / 1024, o->rounds);
	printf("#  write: one RDMA WRITE of all pages into the MR; read: one RDMA READ of all from it;\n"
	       "#  write64, read64: one work request of %d bytes per page (touches every page, copies little);\n"
	       "#  the other side is a pinned MR\n", SPARSE_BYTES);
	printf("#  reg: ibv_reg_mr; first_touch = cold - warm (of one MR); per page of the MR;\n"
	       "#  faults: odp_faults counted during the cold / the warm transfer, mean per MR\n");
	for (i = 0; i < sizeof(ft_cases) / sizeof(ft_cases[0]); i++)
		printf("#  %-13s %s\n", ft_cases[i].name, ft_cases[i].what);

	memset(&peer, 0, sizeof(peer));
	err = region_make(b, &peer, o->pages * b->page_size, false, true, NULL);
	for (i = 0; i < sizeof(ft_cases) / sizeof(ft_cases[0]) && !err; i++) {
		if (!o->ft_case[i])
			continue;
		err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_WRITE, false, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_READ, false, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_WRITE, true, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_READ, true, &peer);
	}
	region_free(&peer);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [--dev rxe0] [--port 1] [--gid INDEX] [--pages N] [--size BYTES]\n"
		   "                     [--iters N] [--atomics N] [--rounds N] [--parts LIST]\n"
		   "                     [--cases LIST]\n"
		   "  --gid     default: the port's first RoCE v2 GID of an IPv4 address\n"
		   "  --pages   first-touch region, in pages, up to 131072 (default 256)\n"
		   "  --size    bandwidth message size, up to 8 MiB (default 65536)\n"
		   "  --iters   bandwidth messages per round (default 200)\n"
		   "  --atomics atomic operations per round (default 500)\n"
		   "  --rounds  rounds of each figure (fresh MRs for first touch), 1 to %d (default 3)\n"
		   "  --parts   which figures: bw,atomic,ft (default all)\n"
		   "  --cases   first-touch cases: untouched,cpu_resident,pinned_ref (default all)\n",
		MAX_ROUNDS);
}

/* A number from @min to @max; -1 when @s is not one */
static long long parse_num(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max)
		return -1;
	return v;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "gid", required_argument, NULL, 'g' },
		{ "pages", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "iters", required_argument, NULL, 'i' },
		{ "atomics", required_argument, NULL, 'a' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "parts", required_argument, NULL, 'P' },
		{ "cases", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long v;
	int c, idx = 0;

	*o = (struct options){ .dev = "rxe0", .port = 1, .gid = -1, .pages = 256,
			       .size = 65536, .iters = 200, .atomics = 500,
			       .rounds = 3, .part = { true, true, true },
			       .ft_case = { true, true, true } };
	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		case 'g':
			if ((v = parse_num(optarg, 0, 255)) < 0)
				break;
			o->gid = (int)v;
			continue;
		case 'p':
			if ((v = parse_num(optarg, 1, 255)) < 0)
				break;
			o->port = (int)v;
			continue;
		case 'n':
			if ((v = parse_num(optarg, 1, 1 << 17)) < 0)
				break;
			o->pages = (unsigned long)v;
			continue;
		case 's':
			if ((v = parse_num(optarg, 1, 1 << 23)) < 0)
				break;
			o->size = (size_t)v;
			continue;
		case 'i':
			if ((v = parse_num(optarg, 1, 10000000)) < 0)
				break;
			o->iters = (unsigned long)v;
			continue;
		case 'a':
			if ((v = parse_num(optarg, 1, 10000000)) < 0)
				break;
			o->atomics = (unsigned long)v;
			continue;
		case 'P': {
			char *tok, *save;
			int k;

			memset(o->part, 0, sizeof(o->part));
			for (tok = strtok_r(optarg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < 3 && strcmp(tok, part_names[k]); k++)
					;
				if (k == 3) {
					fprintf(stderr, PROG ": --parts takes bw, atomic and ft, not '%s'\n",
						tok);
					return -EINVAL;
				}
				o->part[k] = true;
			}
			if (!o->part[0] && !o->part[1] && !o->part[2]) {
				fprintf(stderr, PROG ": --parts wants at least one of bw, atomic, ft\n");
				return -EINVAL;
			}
			continue;
		}
		case 'C': {
			char *tok, *save;
			int k, any = 0;

			memset(o->ft_case, 0, sizeof(o->ft_case));
			for (tok = strtok_r(optarg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				for (k = 0; k < 3 && strcmp(tok, ft_cases[k].name); k++)
					;
				if (k == 3) {
					fprintf(stderr, PROG ": --cases takes untouched, cpu_resident and pinned_ref, not '%s'\n",
						tok);
					return -EINVAL;
				}
				o->ft_case[k] = true;
				any = 1;
			}
			if (!any) {
				fprintf(stderr, PROG ": --cases wants at least one case\n");
				return -EINVAL;
			}
			continue;
		}
		case 'r':
			if ((v = parse_num(optarg, 1, MAX_ROUNDS)) < 0)
				break;
			o->rounds = (int)v;
			continue;
		default:
			usage(stderr);
			return -EINVAL;
		}
		fprintf(stderr, PROG ": bad value '%s' for --%s (see --help for the range)\n",
			optarg, longopts[idx].name);
		return -EINVAL;
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench b;
	struct options o;
	long long retries = 0, retries_end = 0;
	int err;

	if (parse_options(argc, argv, &o))
		return 2;
	/* figures and errors stay in order when both go to one file */
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&b, 0, sizeof(b));
	err = open_device(&b, &o);
	if (!err)
		err = setup_qps(&b);
	if (!err)
		printf("# %s port %u, GID index %d, path MTU %d, page %zu bytes\n", o.dev, b.port,
		       b.gid_index, 128 << b.mtu, b.page_size);
	if (!err)
		err = read_counter(&b, "completer_retry_err", &retries);
	if (!err && o.part[0])
		err = bench_bw(&b, &o);
	if (!err && o.part[1])
		err = bench_atomic(&b, &o);
	if (!err && o.part[2])
		err = bench_first_touch(&b, &o);
	if (!err)
		err = read_counter(&b, "completer_retry_err", &retries_end);
	if (!err) {
		printf("== the whole run\n");
		printf("#  requester retransmissions (loopback loses nothing: the responder fell behind)\n");
		fig_count("run.retransmissions", retries_end - retries);
	}
	teardown(&b);
	if (err) {
		fprintf(stderr, PROG ": failed: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

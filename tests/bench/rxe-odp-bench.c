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
 *      and the MR's faults (its ODP state, libibverbs-ext). The same with
 *      one 64-byte work request per page instead (every page touched, little
 *      copied, so the fault is a larger part of the time). Cases: the pages
 *      never touched (the fault allocates them), the same over transparent
 *      huge pages, the pages populated by the CPU first (only the device's
 *      first touch is left), and a pinned MR over untouched pages for
 *      reference (registration pins them). For the untouched cases, the
 *      CPU's own first touch of such memory beside them: the floor.
 *      (rxe-odp-bench-first-touch.c)
 *  (e) Sparse ODP MRs of 1 GiB to 1 TiB: registration time and kernel
 *      bookkeeping (rxe-odp-bench-sparse.c).
 *
 * Prints figures; asserts nothing about speed. It fails only when the
 * device cannot do the work (no ODP, a work request fails, ...).
 * Each figure line is "KEY VALUE UNIT" with KEY in [a-z0-9_./]; other lines
 * start with "#" or "==" (tests/guest/rxe-odp-bench.sh joins two runs by KEY).
 *
 * usage: rxe-odp-bench [--dev rxe0] [--port 1] [--gid INDEX] [--pages N]
 *                      [--size BYTES] [--iters N] [--atomics N] [--rounds N]
 *                      [--parts bw,atomic,ft,sparse]
 *                      [--cases untouched,untouched_thp,cpu_resident,pinned_ref]
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

#include <infiniband/verbs_ext.h>

#include "rxe-odp-bench.h"

/* Work requests in flight in the bandwidth test */
#define BW_DEPTH 16
/* The bandwidth test cycles through a buffer of this many messages */
#define BW_BUF_MSGS 16
/* Give up on a completion after this long */
#ifndef POLL_TIMEOUT_S
#define POLL_TIMEOUT_S 120ULL
#endif

void fig(const char *key, double value, const char *unit)
{
	printf("%-40s %14.3f  %s\n", key, value, unit);
}

void fig_count(const char *key, long long value)
{
	printf("%-40s %14lld  %s\n", key, value, "count");
}

/* The device must offer ODP RDMA WRITE, READ and ATOMIC on RC */
static int check_odp(struct bench *b)
{
	const struct ibv_odp_caps *c = &b->d.attr.odp_caps;
	const uint32_t rc_needed = IBV_ODP_SUPPORT_WRITE | IBV_ODP_SUPPORT_READ |
				   IBV_ODP_SUPPORT_ATOMIC;

	if ((c->general_caps & IBV_ODP_SUPPORT) &&
	    (c->per_transport_caps.rc_odp_caps & rc_needed) == rc_needed)
		return 0;
	return rt_fail(&b->d, -EOPNOTSUPP, "%s offers no ODP RDMA WRITE, READ and ATOMIC on RC (general caps 0x%" PRIx64 ", RC caps 0x%x): boot a kernel with the rxe ODP patches",
		       b->d.name, c->general_caps, c->per_transport_caps.rc_odp_caps);
}

/*
 * Open the device, check its ODP capabilities, connect the pair. Loopback
 * loses no packet, but on a slow emulated machine a 4 MiB READ's responses
 * can pause for more than 67 ms (timeout 14), and the requester then sends
 * the READ again: 18 waits 1.07 s. retry_cnt 7 would retry without end in
 * rxe; with 6 a stuck transfer fails.
 */
static int setup(struct bench *b, const struct options *o)
{
	const struct rt_dev_opts dev = {
		.name = o->dev,
		.port = o->port,
		.gid = o->gid,
		.gid_hint = "--gid",
		.timeout_s = (int)POLL_TIMEOUT_S,
	};
	const struct rt_pair_attr pair = {
		.type = IBV_QPT_RC,
		.one_cq = true,
		.cq_depth = 4 * BW_DEPTH + 64,
		.cap = { .max_send_wr = BW_DEPTH + 64, .max_recv_wr = 1, .max_send_sge = 1,
			 .max_recv_sge = 1 },
		.sq_sig_all = 1,
		.timeout = 18,
		.retry_cnt = 6,
	};
	int err;

	b->d.fail_prefix = "";
	snprintf(b->d.where, sizeof(b->d.where), PROG);
	err = rt_open(&b->d, &dev);
	if (!err)
		err = check_odp(b);
	if (!err)
		err = rt_pair_new(&b->d, &b->pair, &pair);
	return err;
}

static void teardown(struct bench *b)
{
	rt_pair_free(&b->pair);
	rt_close(&b->d);
}

/* Register all of @r, ODP or pinned; the registration time goes to @reg_ns */
int region_register(struct bench *b, struct rt_region *r, bool odp, uint64_t *reg_ns)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
		     IBV_ACCESS_REMOTE_ATOMIC;
	uint64_t t0;
	int err;

	if (odp)
		access |= IBV_ACCESS_ON_DEMAND;
	t0 = rt_now_ns();
	err = rt_region_reg(&b->d, r, access);
	if (reg_ns)
		*reg_ns = rt_now_ns() - t0;
	return err;
}

/*
 * Map @len bytes (untouched, or written by the CPU when @populate) and
 * register them, ODP or pinned; the registration time goes to @reg_ns.
 */
int region_make(struct bench *b, struct rt_region *r, size_t len, bool odp, bool populate,
		uint64_t *reg_ns)
{
	int err;

	err = rt_region_map(&b->d, r, len);
	if (err)
		return err;
	if (populate)
		memset(r->addr, 0x5a, len);
	return region_register(b, r, odp, reg_ns);
}

/*
 * @n work requests between @local and @remote, BW_DEPTH at most in flight:
 * request k moves at most @piece bytes at offset k * @stride of both, and
 * none goes past @len. Its duration goes to @ns.
 */
int transfer_series(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local,
		    struct ibv_mr *remote, unsigned long n, size_t stride, size_t piece, size_t len,
		    uint64_t *ns)
{
	unsigned long posted, done = 0;
	uint64_t t0 = rt_now_ns();
	size_t off;
	int err;

	for (posted = 0; posted < n; posted++) {
		if (posted - done == BW_DEPTH) {
			err = rt_poll_n(&b->d, b->pair.scq, 1);
			if (err)
				return err;
			done++;
		}
		off = posted * stride;
		err = rt_post_rdma(&b->d, &b->pair, op, local, off, remote, off,
				   len - off < piece ? len - off : piece, posted);
		if (err)
			return err;
	}
	err = rt_poll_n(&b->d, b->pair.scq, posted - done);
	*ns = rt_now_ns() - t0;
	return err;
}

/* One transfer of all of @len bytes, in pieces of at most the port's max_msg_sz */
int transfer(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local, struct ibv_mr *remote,
	     size_t len, uint64_t *ns)
{
	size_t max = b->d.max_msg;

	return transfer_series(b, op, local, remote, (len + max - 1) / max, max, max, len, ns);
}

/* RDMA WRITEs of o->size bytes from @src to @dst, BW_DEPTH in flight */
static int bw_run(struct bench *b, const struct options *o, struct rt_region *src,
		  struct rt_region *dst, unsigned long iters, uint64_t *ns)
{
	unsigned long posted = 0, done = 0;
	uint64_t t0 = rt_now_ns();
	int err;

	while (done < iters) {
		while (posted < iters && posted - done < BW_DEPTH) {
			size_t off = (posted % BW_BUF_MSGS) * o->size;

			err = rt_post_rdma(&b->d, &b->pair, IBV_WR_RDMA_WRITE, src->mr, off,
					   dst->mr, off, o->size, posted);
			if (err)
				return err;
			posted++;
		}
		err = rt_poll_n(&b->d, b->pair.scq, 1);
		if (err)
			return err;
		done++;
	}
	*ns = rt_now_ns() - t0;
	return 0;
}

/* ATOMIC FETCH_AND_ADD of 1 on the first word of @dst; the old value to slot @k of @res */
static int post_fadd(struct bench *b, struct rt_region *res, struct rt_region *dst,
		     unsigned long k)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)res->addr + (k % BW_DEPTH) * sizeof(uint64_t),
		.length = sizeof(uint64_t),
		.lkey = res->mr->lkey,
	};
	struct ibv_send_wr wr, *bad;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = k;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_ATOMIC_FETCH_AND_ADD;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.atomic.remote_addr = (uintptr_t)dst->addr;
	wr.wr.atomic.compare_add = 1;
	wr.wr.atomic.rkey = dst->mr->rkey;
	err = ibv_post_send(b->pair.qp[0], &wr, &bad);
	if (err)
		return rt_fail(&b->d, -err, "ibv_post_send(ATOMIC FETCH_AND_ADD): %s", strerror(err));
	return 0;
}

/*
 * @iters ATOMIC FETCH_AND_ADDs of 1 on the first word of @dst, BW_DEPTH in
 * flight; the fetched values land in BW_DEPTH slots of @res.
 */
static int atomic_run(struct bench *b, struct rt_region *res, struct rt_region *dst,
		      unsigned long iters, uint64_t *ns)
{
	unsigned long posted = 0, done = 0;
	uint64_t t0 = rt_now_ns();
	int err;

	while (done < iters) {
		while (posted < iters && posted - done < BW_DEPTH) {
			err = post_fadd(b, res, dst, posted);
			if (err)
				return err;
			posted++;
		}
		err = rt_poll_n(&b->d, b->pair.scq, 1);
		if (err)
			return err;
		done++;
	}
	*ns = rt_now_ns() - t0;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Faults served so far for the MRs of @n regions: each MR's own count
 * (its ODP state, libibverbs-ext), so that nothing else on the device is
 * counted; a pinned MR (EINVAL: not ODP) has none.
 */
int regions_faults(struct bench *b, const struct rt_region *r, int n, long long *faults)
{
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;
	int i, ret;

	*faults = 0;
	for (i = 0; i < n; i++) {
		if (!r[i].mr)
			continue;
		ret = ibvx_query_mr_odp(r[i].mr, &s, sizeof(s), &e);
		if (ret == EINVAL)
			continue;
		if (ret)
			return rt_fail(&b->d, -ret, "%s", e.message);
		*faults += (long long)s.faults;
	}
	return 0;
}

/* (a) bandwidth, ODP MRs against pinned MRs */
static int bench_bw(struct bench *b, const struct options *o)
{
	struct rt_region reg[2][2];	/* [odp][src, dst] */
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
			err = regions_faults(b, reg[kind], 2, &before);
			if (!err)
				err = bw_run(b, o, &reg[kind][0], &reg[kind][1], o->iters, &ns);
			if (!err)
				err = regions_faults(b, reg[kind], 2, &after);
			if (!err) {
				mbps[kind][r] = (double)o->size * (double)o->iters /
						((double)ns / 1e3);
				faults[kind] += after - before;
			}
		}
	}
	for (kind = 0; kind < 2; kind++)
		for (i = 0; i < 2; i++)
			rt_region_free(&reg[kind][i]);
	if (err)
		return err;

	printf("== (a) RDMA WRITE bandwidth, loopback, %lu-byte messages, %d in flight, %lu per round, median of %d round(s) after a warm-up\n",
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
	struct rt_region reg[2][2];	/* [odp][results, target] */
	double rate[2][MAX_ROUNDS];
	long long faults = 0, before, after;
	unsigned long warmup = BW_DEPTH;
	int kind, r, i, err = 0;
	uint64_t ns, want, got[2] = { 0, 0 };

	memset(reg, 0, sizeof(reg));
	for (kind = 0; kind < 2 && !err; kind++)
		for (i = 0; i < 2 && !err; i++)
			err = region_make(b, &reg[kind][i], b->d.page, kind && i, true, NULL);
	for (kind = 0; kind < 2 && !err; kind++) {
		memset(reg[kind][1].addr, 0, sizeof(uint64_t));
		err = atomic_run(b, &reg[kind][0], &reg[kind][1], warmup, &ns);
	}
	for (r = 0; r < o->rounds && !err; r++) {
		for (i = 0; i < 2 && !err; i++) {
			kind = (r % 2) ? 1 - i : i;
			err = regions_faults(b, reg[kind], 2, &before);
			if (!err)
				err = atomic_run(b, &reg[kind][0], &reg[kind][1], o->atomics, &ns);
			if (!err)
				err = regions_faults(b, reg[kind], 2, &after);
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
			rt_region_free(&reg[kind][i]);
	}
	if (err)
		return err;
	if (got[0] != want || got[1] != want)
		return rt_fail(&b->d, -EIO, "after %" PRIu64 " FETCH_AND_ADDs of 1 the words hold %" PRIu64 " (pinned) and %" PRIu64 " (ODP): atomics lost or repeated",
			       want, got[0], got[1]);

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
		   "  --parts   which figures: bw,atomic,ft,sparse (default all)\n"
		   "  --cases   first-touch cases: untouched,untouched_thp,cpu_resident,pinned_ref\n"
		   "            (default all)\n",
		MAX_ROUNDS);
}

/* Number option @key from @s, in its range, into @o; -EINVAL when it is not one */
static int set_num(struct options *o, int key, const char *s)
{
	const struct {
		int key;
		long long min, max;
		int *i;			/* where it goes: an int */
		unsigned long *ul;	/* or an unsigned long */
	} nums[] = {
		{ 'p', 1, 255, &o->port, NULL },
		{ 'g', 0, 255, &o->gid, NULL },
		{ 'r', 1, MAX_ROUNDS, &o->rounds, NULL },
		{ 'n', 1, 1 << 17, NULL, &o->pages },
		{ 's', 1, 1 << 23, NULL, &o->size },
		{ 'i', 1, 10000000, NULL, &o->iters },
		{ 'a', 1, 10000000, NULL, &o->atomics },
	};
	long long v = -1;
	size_t i;

	for (i = 0; i < RT_ARRAY_SIZE(nums) && nums[i].key != key; i++)
		;
	if (i < RT_ARRAY_SIZE(nums))
		v = rt_parse_num(s, nums[i].min, nums[i].max);
	if (v < 0)
		return -EINVAL;
	if (nums[i].i)
		*nums[i].i = (int)v;
	else
		*nums[i].ul = (unsigned long)v;
	return 0;
}

/* A list option (--parts, --cases): a comma-separated subset of @names */
struct list_opt {
	const char *opt;
	const char *names[4];	/* up to 4; NULL after the last */
	const char *empty;	/* what an empty list is told */
};

/* @arg, a list of names of @lo, into @set (one flag per name) */
static int set_list(const struct list_opt *lo, char *arg, bool *set)
{
	char *tok, *save;
	bool any = false;
	int k, n;

	for (n = 0; n < 4 && lo->names[n]; n++)
		set[n] = false;
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < n && strcmp(tok, lo->names[k]); k++)
			;
		if (k == n) {
			fprintf(stderr, PROG ": %s takes", lo->opt);
			for (k = 0; k < n; k++)
				fprintf(stderr, "%s %s", k ? "," : "", lo->names[k]);
			fprintf(stderr, ", not '%s'\n", tok);
			return -EINVAL;
		}
		set[k] = true;
		any = true;
	}
	if (!any) {
		fprintf(stderr, PROG ": %s wants %s\n", lo->opt, lo->empty);
		return -EINVAL;
	}
	return 0;
}

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

static int parse_options(int argc, char **argv, struct options *o)
{
	const struct list_opt parts = { "--parts", { "bw", "atomic", "ft", "sparse" },
					"at least one of bw, atomic, ft, sparse" };
	const struct list_opt cases = { "--cases",
					{ ft_cases[0].name, ft_cases[1].name, ft_cases[2].name,
					  ft_cases[3].name },
					"at least one case" };
	int c, idx = 0, err;

	*o = (struct options){ .dev = "rxe0", .port = 1, .gid = -1, .pages = 256,
			       .size = 65536, .iters = 200, .atomics = 500,
			       .rounds = 3, .part = { true, true, true, true },
			       .ft_case = { true, true, true, true } };
	while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		case 'P':
			err = set_list(&parts, optarg, o->part);
			break;
		case 'C':
			err = set_list(&cases, optarg, o->ft_case);
			break;
		case '?':
			usage(stderr);
			return -EINVAL;
		default:
			err = set_num(o, c, optarg);
			if (err)
				fprintf(stderr, PROG ": bad value '%s' for --%s (see --help for the range)\n",
					optarg, longopts[idx].name);
			break;
		}
		if (err)
			return err;
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
	err = setup(&b, &o);
	if (!err)
		printf("# %s port %u, GID index %d, path MTU %d, page %zu bytes\n", o.dev, b.d.port,
		       b.d.gid_index, 128 << b.d.mtu, b.d.page);
	if (!err)
		err = rt_counter_get(&b.d, "completer_retry_err", &retries);
	if (!err && o.part[0])
		err = bench_bw(&b, &o);
	if (!err && o.part[1])
		err = bench_atomic(&b, &o);
	if (!err && o.part[2])
		err = bench_first_touch(&b, &o);
	if (!err && o.part[3])
		err = bench_sparse(&b.d, &b.pair, o.rounds);
	if (!err)
		err = rt_counter_get(&b.d, "completer_retry_err", &retries_end);
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

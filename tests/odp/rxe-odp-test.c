/*
 * Functional tests of On-Demand Paging (ODP) and dma-buf memory regions on
 * an rxe device (kernel patches 0014-0020), in loopback: the QP pairs of each case
 * are two QPs of one device in this process, connected to each other.
 *
 *   traffic    ODP MRs on both sides: SEND/RECV, RDMA WRITE, RDMA READ,
 *              atomic fetch-add and compare-swap, SRQ receives and a UD
 *              send; multi-page buffers at unaligned offsets; every byte
 *              checked; the odp_faults counter rises
 *   races      a thread moves data with RDMA WRITE + READ on an ODP MR
 *              while the main thread munmaps a part of it, drops a part
 *              with madvise(MADV_DONTNEED), makes a part read-only with
 *              mprotect, or forks; errors exactly where the access became
 *              illegal, right bytes everywhere else
 *   readonly   read-only memory (a file mapping, an mprotected mapping)
 *              under an ODP MR: RDMA READ serves it, writes fail
 *   bad-input  refused registrations, posting to a QP after an ODP error,
 *              advise_mr on bad input
 *   prefetch   ibv_advise_mr: synchronous and asynchronous prefetch for
 *              reading and writing, no-fault prefetch; counters and data;
 *              then asynchronous prefetch + RC traffic, --repeat N times
 *   dmabuf     dma-buf MRs (kernel patch 0020) over a udmabuf of a memfd:
 *              RDMA READ, WRITE, SEND/RECV and an atomic through them,
 *              bytes checked through the memfd; a part of the buffer at
 *              another iova; the rights of the MR; the MR outlives the
 *              file descriptors; bad registrations refused (needs a
 *              provider with ibv_reg_dmabuf_mr: msrxe)
 *
 * Each check prints a line; the first failure prints "FAIL <case>: ..."
 * (expected, got) and ends the program. Exit status: 0 all checks passed,
 * 1 a check failed or the device could not do the work, 2 bad usage, 77
 * the loaded verbs provider has no ibv_advise_mr (the stock rxe provider;
 * msrxe has it), so the advise_mr checks did not run.
 *
 * usage: rxe-odp-test [-d DEV] [-p PORT] [-g GIDX] [-t SECONDS] COMMAND [--repeat N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <linux/udmabuf.h>

#define PROG "rxe-odp-test"

/* Exit status when the provider cannot advise_mr (see the top comment) */
#define EXIT_NO_ADVISE 77

/* ODP capability bits libibverbs 44 does not name (kernel patch 0014) */
#define ODP_CAP_FLUSH (1U << 6)
#define ODP_CAP_ATOMIC_WRITE (1U << 7)

#define ODP_RW (IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
#define PINNED_RW (ODP_RW & ~IBV_ACCESS_ON_DEMAND)

#define UD_QKEY 0x11111111U
#define GRH_BYTES 40

/* The race tests: chunks (one page each, one WR each) of the target */
#define RACE_CHUNKS 16

struct dev {
	const char *name;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_device_attr_ex attr;
	uint8_t port;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	uint32_t mtu_bytes;
	size_t page;
	int timeout_ms;		/* wait this long for a completion */
	char counters[256];	/* sysfs hw_counters directory */
	unsigned int lifespan_ms;	/* the kernel caches counter values this long */
	char where[64];		/* the case being run, for messages */
};

struct options {
	const char *dev;
	int port;
	int gid;		/* -1: the first RoCE v2 GID of an IPv4 address */
	int timeout_s;
	const char *cmd;
	unsigned long repeat;
};

/* A mapping of its own and, when registered, the MR over it */
struct region {
	uint8_t *addr;
	size_t len;
	struct ibv_mr *mr;
};

/* Two QPs connected to each other: qp[0] requests, qp[1] responds and receives */
struct pair {
	enum ibv_qp_type type;
	struct ibv_comp_channel *ch;
	struct ibv_cq *scq;	/* send completions of both QPs */
	struct ibv_cq *rcq;	/* receive completions of both QPs */
	struct ibv_srq *srq;	/* qp[1] receives from it when set */
	struct ibv_qp *qp[2];
	struct ibv_ah *ah;	/* UD: the address of qp[1] */
};

struct counters {
	long long faults, errors, invalidations, prefetches;
};

/* ------------------------------------------------------------------ */
/* messages, patterns, counters                                        */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void set_case(struct dev *d, const char *name)
{
	snprintf(d->where, sizeof(d->where), "%s", name);
	printf("== %s\n", name);
	fflush(stdout);
}

/* A check that passed */
static void ok(const struct dev *d, const char *fmt, ...)
{
	va_list ap;

	printf("  ok %s: ", d->where);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Information that is not a check */
static void info(const struct dev *d, const char *fmt, ...)
{
	va_list ap;

	printf("  info %s: ", d->where);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A failed check or a failed call: print it, return @err (negative errno) */
static int fail(const struct dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "FAIL %s: ", d->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	return err;
}

/* The byte at index @i of the pattern @seed: never 0 */
static uint8_t pat(uint32_t seed, size_t i)
{
	uint64_t x = ((uint64_t)seed + 1) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)i * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 29;
	return (uint8_t)(1 + x % 255);
}

/* @p[0..len) = pattern @seed from index @base */
static void fill(uint8_t *p, size_t len, uint32_t seed, size_t base)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(seed, base + i);
}

/*
 * Compare @p[0..len) with pattern @seed from index @base (@zero_ok: a 0
 * byte is accepted too). 0 or -EIO with a message naming the first bad
 * byte and how many are bad.
 */
static int check_pat_z(const struct dev *d, const char *what, const uint8_t *p, size_t len,
		       uint32_t seed, size_t base, bool zero_ok)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == pat(seed, base + i) || (zero_ok && !p[i]))
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return fail(d, -EIO, "%s: byte %zu of %zu (address %p) is 0x%02x, expected 0x%02x%s; %zu bytes differ",
		    what, first, len, (const void *)(p + first), p[first], pat(seed, base + first),
		    zero_ok ? " or 0" : "", bad);
}

static int check_pat(const struct dev *d, const char *what, const uint8_t *p, size_t len,
		     uint32_t seed, size_t base)
{
	return check_pat_z(d, what, p, len, seed, base, false);
}

/* Every byte of @p[0..len) is @v */
static int check_val(const struct dev *d, const char *what, const uint8_t *p, size_t len, uint8_t v)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == v)
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return fail(d, -EIO, "%s: byte %zu of %zu (address %p) is 0x%02x, expected 0x%02x; %zu bytes differ",
		    what, first, len, (const void *)(p + first), p[first], v, bad);
}

/* @a and @b are equal */
static int check_same(const struct dev *d, const char *what, const uint8_t *a, const uint8_t *b,
		      size_t len)
{
	size_t i, first = SIZE_MAX, bad = 0;

	for (i = 0; i < len; i++) {
		if (a[i] == b[i])
			continue;
		if (first == SIZE_MAX)
			first = i;
		bad++;
	}
	if (!bad)
		return 0;
	return fail(d, -EIO, "%s: byte %zu of %zu is 0x%02x, expected 0x%02x; %zu bytes differ", what,
		    first, len, a[first], b[first], bad);
}

/* A buffer of @len that was all zero, after @n bytes of pattern @seed (from @base) went to @off */
static int check_landed(const struct dev *d, const char *what, const uint8_t *buf, size_t len,
			size_t off, size_t n, uint32_t seed, size_t base)
{
	char w[160];
	int err;

	snprintf(w, sizeof(w), "%s (the transferred bytes)", what);
	err = check_pat(d, w, buf + off, n, seed, base);
	if (!err) {
		snprintf(w, sizeof(w), "%s (bytes before the target range)", what);
		err = check_val(d, w, buf, off, 0);
	}
	if (!err) {
		snprintf(w, sizeof(w), "%s (bytes after the target range)", what);
		err = check_val(d, w, buf + off + n, len - off - n, 0);
	}
	return err;
}

/*
 * The kernel reads the device's counters at most once per hw_counters
 * "lifespan" and serves cached values in between: a counter read right
 * after an event could miss it. So each read (of one counter, or of all of
 * them at once) first waits out the lifespan since any earlier read.
 */
static void counters_fresh(const struct dev *d)
{
	sleep_ms(d->lifespan_ms + 2);
}

static int read_counter_cached(const struct dev *d, const char *name, long long *value)
{
	char path[320];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", d->counters, name);
	f = fopen(path, "r");
	if (!f)
		return fail(d, -errno, "cannot read %s: %s (a kernel without the rxe ODP counters?)", path,
			    strerror(errno));
	if (fscanf(f, "%lld", value) != 1)
		err = fail(d, -EPROTO, "%s holds no number", path);
	fclose(f);
	return err;
}

static int read_counter(const struct dev *d, const char *name, long long *value)
{
	counters_fresh(d);
	return read_counter_cached(d, name, value);
}

/* All four ODP counters, from one update of the kernel's cache */
static int counters_read(const struct dev *d, struct counters *c)
{
	int err;

	counters_fresh(d);
	err = read_counter_cached(d, "odp_faults", &c->faults);
	if (!err)
		err = read_counter_cached(d, "odp_fault_errors", &c->errors);
	if (!err)
		err = read_counter_cached(d, "odp_invalidations", &c->invalidations);
	if (!err)
		err = read_counter_cached(d, "odp_prefetches", &c->prefetches);
	return err;
}

/* What changed from @a to @b, as text */
static const char *counters_delta(const struct counters *a, const struct counters *b, char *buf,
				  size_t len)
{
	snprintf(buf, len, "odp_faults +%lld, odp_fault_errors +%lld, odp_invalidations +%lld, odp_prefetches +%lld",
		 b->faults - a->faults, b->errors - a->errors, b->invalidations - a->invalidations,
		 b->prefetches - a->prefetches);
	return buf;
}

/* Wait until counter @name reaches @target; its value goes to @value */
static int wait_counter(const struct dev *d, const char *name, long long target, long long *value)
{
	uint64_t deadline = now_ms() + (uint64_t)d->timeout_ms;
	int err;

	for (;;) {
		err = read_counter(d, name, value);
		if (err || *value >= target)
			return err;
		if (now_ms() > deadline)
			return fail(d, -ETIMEDOUT, "%s is %lld after %d s, expected it to reach %lld",
				    name, *value, d->timeout_ms / 1000, target);
		sleep_ms(5);
	}
}

/* The rxe verbs providers this process has mapped, as text */
static const char *loaded_provider(char *buf, size_t len)
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
static uintptr_t user_va_end(size_t page, bool *la57)
{
	void *hint = (void *)(uintptr_t)(1ULL << 47), *m;

	m = mmap(hint, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m != MAP_FAILED)
		munmap(m, page);
	*la57 = m == hint;
	return (uintptr_t)((*la57 ? 1ULL << 56 : 1ULL << 47) - page);
}

/* Each page of [addr, addr + len) is unmapped (msync fails with ENOMEM) */
static bool range_unmapped(void *addr, size_t len, size_t page)
{
	size_t off;

	for (off = 0; off < len; off += page)
		if (!msync((uint8_t *)addr + off, page, MS_ASYNC) || errno != ENOMEM)
			return false;
	return true;
}

static const char *op_name(enum ibv_wr_opcode op)
{
	switch (op) {
	case IBV_WR_RDMA_WRITE:
		return "RDMA WRITE";
	case IBV_WR_RDMA_READ:
		return "RDMA READ";
	case IBV_WR_SEND:
		return "SEND";
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		return "ATOMIC FETCH_AND_ADD";
	case IBV_WR_ATOMIC_CMP_AND_SWP:
		return "ATOMIC CMP_AND_SWP";
	default:
		return "work request";
	}
}

/* ------------------------------------------------------------------ */
/* device                                                              */

/* The first RoCE v2 GID that maps an IPv4 address (::ffff:a.b.c.d) */
static int find_gid(struct dev *d, int table_len)
{
	static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct ibv_gid_entry e;
	int i;

	for (i = 0; i < table_len; i++) {
		if (ibv_query_gid_ex(d->ctx, d->port, (uint32_t)i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 && !memcmp(e.gid.raw, v4_prefix, 12))
			return i;
	}
	return fail(d, -ENOENT, "%s port %u has no RoCE v2 GID of an IPv4 address; give -g GIDX",
		    d->name, d->port);
}

static int open_device(struct dev *d, const struct options *o)
{
	struct ibv_device **list;
	struct ibv_port_attr pattr;
	long long lifespan;
	int i, n, err;

	d->name = o->dev;
	d->timeout_ms = o->timeout_s * 1000;
	snprintf(d->where, sizeof(d->where), "setup");
	list = ibv_get_device_list(&n);
	if (!list)
		return fail(d, -errno, "ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n && strcmp(ibv_get_device_name(list[i]), o->dev); i++)
		;
	if (i == n) {
		ibv_free_device_list(list);
		return fail(d, -ENODEV, "no RDMA device %s (rdma link add %s type rxe netdev IF; is a provider for it installed?)",
			    o->dev, o->dev);
	}
	d->ctx = ibv_open_device(list[i]);
	err = d->ctx ? 0 : -errno;
	ibv_free_device_list(list);
	if (err)
		return fail(d, err, "cannot open %s: %s", o->dev, strerror(-err));

	memset(&d->attr, 0, sizeof(d->attr));
	err = ibv_query_device_ex(d->ctx, NULL, &d->attr);
	if (err)
		return fail(d, -err, "ibv_query_device_ex(%s): %s", o->dev, strerror(err));
	d->port = (uint8_t)o->port;
	err = ibv_query_port(d->ctx, d->port, &pattr);
	if (err)
		return fail(d, -err, "ibv_query_port(%s, %u): %s", o->dev, d->port, strerror(err));
	if (pattr.state != IBV_PORT_ACTIVE)
		return fail(d, -ENETDOWN, "%s port %u is not active (state %d)", o->dev, d->port,
			    pattr.state);
	d->mtu = pattr.active_mtu;
	d->mtu_bytes = 128U << d->mtu;
	d->gid_index = o->gid >= 0 ? o->gid : find_gid(d, pattr.gid_tbl_len);
	if (d->gid_index < 0)
		return d->gid_index;
	if (ibv_query_gid(d->ctx, d->port, d->gid_index, &d->gid))
		return fail(d, -errno, "ibv_query_gid(%s, %u, %d): %s", o->dev, d->port,
			    d->gid_index, strerror(errno));
	d->pd = ibv_alloc_pd(d->ctx);
	if (!d->pd)
		return fail(d, -errno, "ibv_alloc_pd: %s", strerror(errno));
	snprintf(d->counters, sizeof(d->counters), "/sys/class/infiniband/%s/ports/%u/hw_counters",
		 o->dev, d->port);
	err = read_counter_cached(d, "lifespan", &lifespan);
	if (err)
		return err;
	if (lifespan < 0 || lifespan > 10000)
		return fail(d, -ERANGE, "%s/lifespan is %lld ms; expected 0 to 10000", d->counters, lifespan);
	d->lifespan_ms = (unsigned int)lifespan;
	d->page = (size_t)sysconf(_SC_PAGESIZE);
	return 0;
}

static void close_device(struct dev *d)
{
	if (d->pd)
		ibv_dealloc_pd(d->pd);
	if (d->ctx)
		ibv_close_device(d->ctx);
}

/*
 * The ODP capabilities every command needs: ODP, and RC SEND, RECV, WRITE,
 * READ, ATOMIC, SRQ_RECV, UD SEND and RECV. With @all, also RC FLUSH and
 * ATOMIC_WRITE and no implicit ODP, as the kernel patches announce.
 */
static int check_caps(struct dev *d, bool all)
{
	const struct ibv_odp_caps *c = &d->attr.odp_caps;
	uint32_t rc_want = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV | IBV_ODP_SUPPORT_WRITE |
			   IBV_ODP_SUPPORT_READ | IBV_ODP_SUPPORT_ATOMIC | IBV_ODP_SUPPORT_SRQ_RECV;
	uint32_t ud_want = IBV_ODP_SUPPORT_SEND | IBV_ODP_SUPPORT_RECV;

	if (all)
		rc_want |= ODP_CAP_FLUSH | ODP_CAP_ATOMIC_WRITE;
	printf("# %s port %u, GID index %d, path MTU %u, page %zu bytes; ODP caps: general 0x%" PRIx64
	       ", RC 0x%x, UD 0x%x\n", d->name, d->port, d->gid_index, d->mtu_bytes, d->page,
	       c->general_caps, c->per_transport_caps.rc_odp_caps, c->per_transport_caps.ud_odp_caps);
	if (!(c->general_caps & IBV_ODP_SUPPORT))
		return fail(d, -EOPNOTSUPP, "%s reports no ODP (general caps 0x%" PRIx64 "): boot a kernel with the rxe ODP patches",
			    d->name, c->general_caps);
	if ((c->per_transport_caps.rc_odp_caps & rc_want) != rc_want)
		return fail(d, -EOPNOTSUPP, "%s RC ODP caps 0x%x, expected at least 0x%x", d->name,
			    c->per_transport_caps.rc_odp_caps, rc_want);
	if ((c->per_transport_caps.ud_odp_caps & ud_want) != ud_want)
		return fail(d, -EOPNOTSUPP, "%s UD ODP caps 0x%x, expected at least 0x%x", d->name,
			    c->per_transport_caps.ud_odp_caps, ud_want);
	if (all && (c->general_caps & IBV_ODP_SUPPORT_IMPLICIT))
		return fail(d, -EPROTO, "%s announces implicit ODP (general caps 0x%" PRIx64 "), which rxe does not offer",
			    d->name, c->general_caps);
	if (all)
		ok(d, "ODP caps: general ODP without implicit ODP; RC 0x%x (SEND RECV WRITE READ ATOMIC SRQ_RECV FLUSH ATOMIC_WRITE); UD 0x%x (SEND RECV)",
		   c->per_transport_caps.rc_odp_caps, c->per_transport_caps.ud_odp_caps);
	return 0;
}

/* ------------------------------------------------------------------ */
/* memory                                                              */

/* Map @pages of fresh anonymous memory (zero, never touched) */
static int region_map(struct dev *d, struct region *r, size_t pages)
{
	r->mr = NULL;
	r->len = pages * d->page;
	r->addr = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return fail(d, -errno, "mmap of %zu bytes: %s", r->len, strerror(errno));
	}
	return 0;
}

static const char *access_str(int access, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", access & IBV_ACCESS_ON_DEMAND ? "ON_DEMAND" : "pinned",
		 access & IBV_ACCESS_LOCAL_WRITE ? "|LOCAL_WRITE" : "",
		 access & IBV_ACCESS_REMOTE_WRITE ? "|REMOTE_WRITE" : "",
		 access & IBV_ACCESS_REMOTE_READ ? "|REMOTE_READ" : "",
		 access & IBV_ACCESS_REMOTE_ATOMIC ? "|REMOTE_ATOMIC" : "");
	return buf;
}

static int region_reg(struct dev *d, struct region *r, int access)
{
	char a[96];

	r->mr = ibv_reg_mr(d->pd, r->addr, r->len, access);
	if (!r->mr)
		return fail(d, -errno, "ibv_reg_mr(%p, %zu bytes, %s): %s", (void *)r->addr, r->len,
			    access_str(access, a, sizeof(a)), strerror(errno));
	return 0;
}

/* Map @pages and register them with @access; @seed >= 0: CPU-fill with that pattern first */
static int region_new(struct dev *d, struct region *r, size_t pages, int access, long seed)
{
	int err = region_map(d, r, pages);

	if (!err && seed >= 0)
		fill(r->addr, r->len, (uint32_t)seed, 0);
	if (!err)
		err = region_reg(d, r, access);
	return err;
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

/* ------------------------------------------------------------------ */
/* QP pairs                                                            */

static int rc_connect(struct dev *d, struct ibv_qp *qp, uint32_t dest_qpn)
{
	uint8_t rd_atom = d->attr.orig_attr.max_qp_rd_atom < 16 ?
			  (uint8_t)d->attr.orig_attr.max_qp_rd_atom : 16;
	struct ibv_qp_attr a;
	int err;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = d->port;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			    IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			    IBV_QP_ACCESS_FLAGS);
	if (err)
		goto out;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = d->mtu;
	a.dest_qp_num = dest_qpn;
	a.max_dest_rd_atomic = rd_atom;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = d->gid;
	a.ah_attr.grh.sgid_index = (uint8_t)d->gid_index;
	a.ah_attr.grh.hop_limit = 64;
	a.ah_attr.port_num = d->port;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			    IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (err)
		goto out;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = rd_atom;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			    IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
out:
	if (err)
		return fail(d, -err, "cannot move RC QP %u to state %d: %s", qp->qp_num, a.qp_state,
			    strerror(err));
	return 0;
}

static int ud_ready(struct dev *d, struct ibv_qp *qp)
{
	struct ibv_qp_attr a;
	int err;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = d->port;
	a.qkey = UD_QKEY;
	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY);
	if (!err) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTR;
		err = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	}
	if (!err) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTS;
		err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
	}
	if (err)
		return fail(d, -err, "cannot make UD QP %u ready: %s", qp->qp_num, strerror(err));
	return 0;
}

static void pair_free(struct pair *p)
{
	int i;

	if (p->ah)
		ibv_destroy_ah(p->ah);
	for (i = 0; i < 2; i++)
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
	if (p->srq)
		ibv_destroy_srq(p->srq);
	if (p->scq)
		ibv_destroy_cq(p->scq);
	if (p->rcq)
		ibv_destroy_cq(p->rcq);
	if (p->ch)
		ibv_destroy_comp_channel(p->ch);
	memset(p, 0, sizeof(*p));
}

/* Two QPs of @type connected to each other; qp[1] receives from an SRQ with @srq */
static int pair_new(struct dev *d, struct pair *p, enum ibv_qp_type type, bool srq)
{
	struct ibv_qp_init_attr init;
	int i, err = 0;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->ch = ibv_create_comp_channel(d->ctx);
	if (!p->ch)
		return fail(d, -errno, "ibv_create_comp_channel: %s", strerror(errno));
	p->scq = ibv_create_cq(d->ctx, 64, NULL, p->ch, 0);
	p->rcq = p->scq ? ibv_create_cq(d->ctx, 64, NULL, p->ch, 0) : NULL;
	if (!p->rcq) {
		err = fail(d, -errno, "ibv_create_cq: %s", strerror(errno));
		goto out;
	}
	if (srq) {
		struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };

		p->srq = ibv_create_srq(d->pd, &sa);
		if (!p->srq) {
			err = fail(d, -errno, "ibv_create_srq: %s", strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		memset(&init, 0, sizeof(init));
		init.send_cq = p->scq;
		init.recv_cq = p->rcq;
		init.srq = i == 1 ? p->srq : NULL;
		init.qp_type = type;
		init.cap.max_send_wr = 32;
		init.cap.max_recv_wr = 16;
		init.cap.max_send_sge = 2;
		init.cap.max_recv_sge = 2;
		p->qp[i] = ibv_create_qp(d->pd, &init);
		if (!p->qp[i]) {
			err = fail(d, -errno, "ibv_create_qp(%s): %s", type == IBV_QPT_RC ? "RC" : "UD",
				   strerror(errno));
			goto out;
		}
	}
	if (type == IBV_QPT_RC) {
		err = rc_connect(d, p->qp[0], p->qp[1]->qp_num);
		if (!err)
			err = rc_connect(d, p->qp[1], p->qp[0]->qp_num);
	} else {
		struct ibv_ah_attr ah;

		err = ud_ready(d, p->qp[0]);
		if (!err)
			err = ud_ready(d, p->qp[1]);
		if (!err) {
			memset(&ah, 0, sizeof(ah));
			ah.is_global = 1;
			ah.grh.dgid = d->gid;
			ah.grh.sgid_index = (uint8_t)d->gid_index;
			ah.grh.hop_limit = 64;
			ah.port_num = d->port;
			p->ah = ibv_create_ah(d->pd, &ah);
			if (!p->ah)
				err = fail(d, -errno, "ibv_create_ah: %s", strerror(errno));
		}
	}
	for (i = 0; !err && i < 2; i++)
		if (ibv_req_notify_cq(i ? p->rcq : p->scq, 0))
			err = fail(d, -EIO, "ibv_req_notify_cq failed");
out:
	if (err)
		pair_free(p);
	return err;
}

/*
 * Wait for one completion on @cq of @p, at most d->timeout_ms: sleeps on
 * the completion channel. 0 with @wc set, or -errno.
 */
static int wait_wc(const struct dev *d, struct pair *p, struct ibv_cq *cq, struct ibv_wc *wc,
		   const char *what)
{
	uint64_t now, deadline = now_ms() + (uint64_t)d->timeout_ms;
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int n, rc;

	for (;;) {
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return fail(d, -EIO, "ibv_poll_cq failed (%d) waiting for %s", n, what);
		if (n)
			return 0;
		if (ibv_req_notify_cq(cq, 0))
			return fail(d, -EIO, "ibv_req_notify_cq failed waiting for %s", what);
		n = ibv_poll_cq(cq, 1, wc);
		if (n < 0)
			return fail(d, -EIO, "ibv_poll_cq failed (%d) waiting for %s", n, what);
		if (n)
			return 0;
		now = now_ms();
		if (now >= deadline)
			return fail(d, -ETIMEDOUT, "%s: no completion after %d s: the work request hangs (see dmesg; -t SECONDS waits longer)",
				    what, d->timeout_ms / 1000);
		{
			struct pollfd pfd = { .fd = p->ch->fd, .events = POLLIN };

			rc = poll(&pfd, 1, (int)(deadline - now) + 1);
		}
		if (rc < 0 && errno != EINTR)
			return fail(d, -errno, "poll on the completion channel: %s", strerror(errno));
		if (rc > 0) {
			if (ibv_get_cq_event(p->ch, &ev_cq, &ev_ctx))
				return fail(d, -EIO, "ibv_get_cq_event failed waiting for %s", what);
			ibv_ack_cq_events(ev_cq, 1);
		}
	}
}

/* Post @wr (signaled, alone) on qp[0] and wait for its completion; 0 with @wc set, or -errno */
static int exec_wr(const struct dev *d, struct pair *p, struct ibv_send_wr *wr, struct ibv_wc *wc,
		   const char *what)
{
	struct ibv_send_wr *bad;
	int err;

	wr->next = NULL;
	wr->send_flags |= IBV_SEND_SIGNALED;
	err = ibv_post_send(p->qp[0], wr, &bad);
	if (err)
		return fail(d, -err, "ibv_post_send(%s): %s", what, strerror(err));
	err = wait_wc(d, p, p->scq, wc, what);
	if (!err && wc->wr_id != wr->wr_id)
		err = fail(d, -EPROTO, "%s: completion of work request %" PRIu64 ", expected %" PRIu64,
			   what, wc->wr_id, wr->wr_id);
	return err;
}

/* The completion status @wc has is @want */
static int expect_status(const struct dev *d, const struct ibv_wc *wc, enum ibv_wc_status want,
			 const char *what)
{
	if (wc->status == want)
		return 0;
	return fail(d, -EIO, "%s: completed with %s (vendor error 0x%x), expected %s", what,
		    ibv_wc_status_str(wc->status), wc->vendor_err, ibv_wc_status_str(want));
}

/*
 * RDMA WRITE or READ of @len bytes between @laddr (in @lmr, local) and
 * @raddr (in @rmr, remote); the completion status must be @want. An
 * expected error is reported as a check.
 */
static int rdma(struct dev *d, struct pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		const void *laddr, size_t len, struct ibv_mr *rmr, const void *raddr,
		enum ibv_wc_status want, const char *what)
{
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = (uint32_t)len, .lkey = lmr->lkey };
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	char w[200];
	uint64_t t0 = now_ms();
	int err;

	if (!p)
		return fail(d, -ENOSPC, "internal: no QP pair left in the pool for %s", what);
	snprintf(w, sizeof(w), "%s of %zu bytes (%s)", op_name(op), len, what);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 0x5000 + (uint64_t)op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.rdma.remote_addr = (uintptr_t)raddr;
	wr.wr.rdma.rkey = rmr->rkey;
	err = exec_wr(d, p, &wr, &wc, w);
	if (!err)
		err = expect_status(d, &wc, want, w);
	if (!err && want != IBV_WC_SUCCESS)
		ok(d, "%s: %s after %" PRIu64 " ms, as expected", w, ibv_wc_status_str(want),
		   now_ms() - t0);
	return err;
}

/* An atomic on the 8 bytes at @raddr; the old value lands at @laddr */
static int atomic(struct dev *d, struct pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		  void *laddr, struct ibv_mr *rmr, void *raddr, uint64_t compare_add, uint64_t swap,
		  enum ibv_wc_status want, const char *what)
{
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = 8, .lkey = lmr->lkey };
	struct ibv_send_wr wr;
	struct ibv_wc wc;
	char w[200];
	int err;

	if (!p)
		return fail(d, -ENOSPC, "internal: no QP pair left in the pool for %s", what);
	snprintf(w, sizeof(w), "%s (%s)", op_name(op), what);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 0x6000 + (uint64_t)op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.atomic.remote_addr = (uintptr_t)raddr;
	wr.wr.atomic.rkey = rmr->rkey;
	wr.wr.atomic.compare_add = compare_add;
	wr.wr.atomic.swap = swap;
	err = exec_wr(d, p, &wr, &wc, w);
	if (!err)
		err = expect_status(d, &wc, want, w);
	if (!err && want != IBV_WC_SUCCESS)
		ok(d, "%s: %s, as expected", w, ibv_wc_status_str(want));
	return err;
}

/* Post one receive of @len bytes at @addr on qp[1] (or its SRQ) */
static int post_recv(const struct dev *d, struct pair *p, struct ibv_mr *mr, void *addr,
		     size_t len, uint64_t wr_id)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = (uint32_t)len, .lkey = mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 }, *bad;
	int err;

	err = p->srq ? ibv_post_srq_recv(p->srq, &wr, &bad) : ibv_post_recv(p->qp[1], &wr, &bad);
	if (err)
		return fail(d, -err, "ibv_post_%srecv: %s", p->srq ? "srq_" : "", strerror(err));
	return 0;
}

/* Wait for the receive completion of qp[1]: success, @wr_id, @len bytes */
static int expect_recv(struct dev *d, struct pair *p, uint64_t wr_id, uint32_t len, struct ibv_wc *wc,
		       const char *what)
{
	int err = wait_wc(d, p, p->rcq, wc, what);

	if (!err)
		err = expect_status(d, wc, IBV_WC_SUCCESS, what);
	if (!err && (wc->opcode != IBV_WC_RECV || wc->wr_id != wr_id || wc->byte_len != len))
		err = fail(d, -EIO, "%s: receive completion opcode %d, wr_id %" PRIu64 ", %u bytes; expected RECV, %" PRIu64 ", %u bytes",
			   what, wc->opcode, wc->wr_id, wc->byte_len, wr_id, len);
	return err;
}

/* A pool of pairs created ahead (see races: no mmap may land in a hole) */
struct pool {
	struct pair p[8];
	int n, used;
};

static int pool_fill(struct dev *d, struct pool *pl, int n)
{
	int err = 0;

	memset(pl, 0, sizeof(*pl));
	for (pl->n = 0; pl->n < n && !err; pl->n++)
		err = pair_new(d, &pl->p[pl->n], IBV_QPT_RC, false);
	if (err)
		pl->n--;
	return err;
}

static struct pair *pool_take(struct pool *pl)
{
	return pl->used < pl->n ? &pl->p[pl->used++] : NULL;
}

static void pool_free(struct pool *pl)
{
	int i;

	for (i = 0; i < pl->n; i++)
		pair_free(&pl->p[i]);
	pl->n = 0;
}

/* ------------------------------------------------------------------ */
/* traffic                                                             */

static int traffic_send_recv(struct dev *d, struct region *src, uint32_t seed)
{
	size_t pg = d->page;
	size_t a_off = 123, a_len = 2 * pg + 100, b_off = 3 * pg + 7, b_len = pg + 1000;
	size_t r_off = 4001, total = a_len + b_len;
	struct ibv_sge sge[2] = {
		{ .addr = (uintptr_t)src->addr + a_off, .length = (uint32_t)a_len, .lkey = src->mr->lkey },
		{ .addr = (uintptr_t)src->addr + b_off, .length = (uint32_t)b_len, .lkey = src->mr->lkey },
	};
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = sge, .num_sge = 2, .opcode = IBV_WR_SEND };
	struct region dst = { 0 };
	struct pair p;
	struct ibv_wc wc;
	int err;

	set_case(d, "traffic/send-recv");
	err = region_new(d, &dst, 8, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (err)
		goto out_mr;
	err = post_recv(d, &p, dst.mr, dst.addr + r_off, total + 50, 7);
	if (!err)
		err = exec_wr(d, &p, &wr, &wc, "SEND");
	if (!err)
		err = expect_status(d, &wc, IBV_WC_SUCCESS, "SEND");
	if (!err)
		err = expect_recv(d, &p, 7, (uint32_t)total, &wc, "RECV");
	if (!err)
		err = check_pat(d, "received bytes of the first SGE", dst.addr + r_off, a_len, seed, a_off);
	if (!err)
		err = check_pat(d, "received bytes of the second SGE", dst.addr + r_off + a_len, b_len,
				seed, b_off);
	if (!err)
		err = check_val(d, "bytes before the receive buffer", dst.addr, r_off, 0);
	if (!err)
		err = check_val(d, "bytes after the message", dst.addr + r_off + total,
				dst.len - r_off - total, 0);
	if (!err)
		ok(d, "SEND of %zu bytes from 2 unaligned SGEs (ODP) into an unaligned receive buffer over 4 pages (ODP, never touched): every byte right",
		   total);
	pair_free(&p);
out_mr:
	region_free(&dst);
	return err;
}

static int traffic_write_read(struct dev *d)
{
	size_t pg = d->page;
	size_t w_loff = 777, w_roff = pg + 2049, w_len = 50 * pg + 555;
	size_t r_roff = 4095, r_loff = 1, r_len = 4 * pg + 3;
	struct region a = { 0 }, b = { 0 };
	struct pair p = { 0 };
	int err;

	set_case(d, "traffic/rdma-write");
	/* local ODP source written by the CPU, remote ODP target never touched */
	err = region_new(d, &a, 64, ODP_RW, 12);
	if (!err)
		err = region_new(d, &b, 64, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err)
		err = rdma(d, &p, IBV_WR_RDMA_WRITE, a.mr, a.addr + w_loff, w_len, b.mr, b.addr + w_roff,
			   IBV_WC_SUCCESS, "ODP to ODP");
	if (!err)
		err = check_landed(d, "RDMA WRITE target", b.addr, b.len, w_roff, w_len, 12, w_loff);
	if (!err)
		err = check_pat(d, "RDMA WRITE source (unchanged)", a.addr, a.len, 12, 0);
	if (!err)
		ok(d, "RDMA WRITE of %zu bytes (51 pages) from offset %zu to offset %zu: every byte right, nothing else written",
		   w_len, w_loff, w_roff);
	region_free(&a);
	region_free(&b);
	if (err)
		goto out;

	set_case(d, "traffic/rdma-read");
	/* remote ODP source written by the CPU, local ODP target never touched */
	err = region_new(d, &a, 8, ODP_RW, 13);
	if (!err)
		err = region_new(d, &b, 8, ODP_RW, -1);
	if (!err)
		err = rdma(d, &p, IBV_WR_RDMA_READ, b.mr, b.addr + r_loff, r_len, a.mr, a.addr + r_roff,
			   IBV_WC_SUCCESS, "ODP from ODP");
	if (!err)
		err = check_landed(d, "RDMA READ target", b.addr, b.len, r_loff, r_len, 13, r_roff);
	if (!err)
		err = check_pat(d, "RDMA READ source (unchanged)", a.addr, a.len, 13, 0);
	if (!err)
		ok(d, "RDMA READ of %zu bytes (6 pages) from offset %zu to offset %zu: every byte right, nothing else written",
		   r_len, r_roff, r_loff);
	region_free(&a);
	region_free(&b);
out:
	pair_free(&p);
	return err;
}

static int traffic_atomics(struct dev *d)
{
	const uint64_t v0 = 0x1122334455667788ULL, v1 = 0x0123456789abcdefULL;
	const uint64_t add = 0x0101010101010101ULL, s = 0xfedcba9876543210ULL;
	size_t pg = d->page;
	size_t o0 = 2 * pg - 8, o1 = 5 * pg, o2 = 6 * pg + 64;	/* remote slots */
	size_t l0 = pg - 4, l1 = 3 * pg + 1;			/* local results, unaligned */
	struct region rem = { 0 }, loc = { 0 };
	struct pair p = { 0 };
	uint8_t *expect = NULL;
	uint64_t got, want;
	int err;

	set_case(d, "traffic/atomics");
	err = region_new(d, &rem, 8, ODP_RW, -1);
	if (!err)
		err = region_new(d, &loc, 4, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (err)
		goto out;
	expect = calloc(1, rem.len);
	if (!expect) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(rem.addr + o0, &v0, 8);
	memcpy(rem.addr + o1, &v1, 8);

#define RESULT_IS(off, value, what) \
	do { \
		memcpy(&got, loc.addr + (off), 8); \
		want = (value); \
		if (got != want) { \
			err = fail(d, -EIO, "%s: old value 0x%016" PRIx64 " returned, expected 0x%016" PRIx64, \
				   what, got, want); \
			goto out; \
		} \
	} while (0)

	err = atomic(d, &p, IBV_WR_ATOMIC_FETCH_AND_ADD, loc.mr, loc.addr + l0, rem.mr, rem.addr + o0,
		     add, 0, IBV_WC_SUCCESS, "last 8 bytes of a page");
	if (err)
		goto out;
	RESULT_IS(l0, v0, "fetch-add");
	err = atomic(d, &p, IBV_WR_ATOMIC_CMP_AND_SWP, loc.mr, loc.addr + l1, rem.mr, rem.addr + o1,
		     v1, s, IBV_WC_SUCCESS, "compare matches");
	if (err)
		goto out;
	RESULT_IS(l1, v1, "cmp-swap (match)");
	err = atomic(d, &p, IBV_WR_ATOMIC_CMP_AND_SWP, loc.mr, loc.addr + l0, rem.mr, rem.addr + o1,
		     v1, 0x42, IBV_WC_SUCCESS, "compare does not match");
	if (err)
		goto out;
	RESULT_IS(l0, s, "cmp-swap (no match)");
	err = atomic(d, &p, IBV_WR_ATOMIC_FETCH_AND_ADD, loc.mr, loc.addr + l1, rem.mr, rem.addr + o2,
		     add, 0, IBV_WC_SUCCESS, "page never touched");
	if (err)
		goto out;
	RESULT_IS(l1, 0, "fetch-add on a page never touched");
#undef RESULT_IS

	want = v0 + add;
	memcpy(expect + o0, &want, 8);
	memcpy(expect + o1, &s, 8);
	memcpy(expect + o2, &add, 8);
	err = check_same(d, "atomic target region (only the three 8-byte slots changed, to the right values)",
			 rem.addr, expect, rem.len);
	if (!err)
		ok(d, "fetch-add (to a page end and to a page never touched) and compare-swap (match, no match) on an ODP MR: old values returned right into unaligned, page-crossing local ODP buffers; target holds exactly the results");
out:
	free(expect);
	pair_free(&p);
	region_free(&rem);
	region_free(&loc);
	return err;
}

static int traffic_srq(struct dev *d, struct region *src, uint32_t seed)
{
	size_t pg = d->page;
	size_t r1 = 3000, r1_len = 2 * pg + 200, r2 = 3 * pg + 10, r2_len = pg;
	size_t s1 = 5, s1_len = 2 * pg - 100, s2 = 4 * pg + 99, s2_len = pg - 1;
	struct ibv_sge sge = { .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND };
	struct region dst = { 0 };
	struct pair p = { 0 };
	struct ibv_wc wc;
	uint8_t *expect = NULL;
	int err;

	set_case(d, "traffic/srq-recv");
	err = region_new(d, &dst, 6, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, true);
	if (!err)
		err = post_recv(d, &p, dst.mr, dst.addr + r1, r1_len, 21);
	if (!err)
		err = post_recv(d, &p, dst.mr, dst.addr + r2, r2_len, 22);
	if (err)
		goto out;

	sge.addr = (uintptr_t)src->addr + s1;
	sge.length = (uint32_t)s1_len;
	wr.wr_id = 1;
	err = exec_wr(d, &p, &wr, &wc, "SEND 1");
	if (!err)
		err = expect_status(d, &wc, IBV_WC_SUCCESS, "SEND 1");
	if (!err)
		err = expect_recv(d, &p, 21, (uint32_t)s1_len, &wc, "SRQ receive 1");
	if (err)
		goto out;
	sge.addr = (uintptr_t)src->addr + s2;
	sge.length = (uint32_t)s2_len;
	wr.wr_id = 2;
	err = exec_wr(d, &p, &wr, &wc, "SEND 2");
	if (!err)
		err = expect_status(d, &wc, IBV_WC_SUCCESS, "SEND 2");
	if (!err)
		err = expect_recv(d, &p, 22, (uint32_t)s2_len, &wc, "SRQ receive 2");
	if (err)
		goto out;

	expect = calloc(1, dst.len);
	if (!expect) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	fill(expect + r1, s1_len, seed, s1);
	fill(expect + r2, s2_len, seed, s2);
	err = check_same(d, "SRQ receive buffers", dst.addr, expect, dst.len);
	if (!err)
		ok(d, "two SENDs (%zu and %zu bytes, unaligned, ODP) into two SRQ receives of one ODP MR at unaligned offsets: every byte right, nothing else written",
		   s1_len, s2_len);
out:
	free(expect);
	pair_free(&p);
	region_free(&dst);
	return err;
}

static int traffic_ud(struct dev *d, struct region *src, uint32_t seed)
{
	size_t pg = d->page, len = d->mtu_bytes;
	size_t r_off = pg - 20;			/* the GRH crosses a page boundary */
	size_t s_off = 2 * pg - 100;		/* the payload crosses one too */
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr + s_off, .length = (uint32_t)len,
			       .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 3, .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND };
	struct region dst = { 0 };
	struct pair p = { 0 };
	struct ibv_wc wc;
	int err;

	set_case(d, "traffic/ud-send");
	err = region_new(d, &dst, 4, ODP_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_UD, false);
	if (!err)
		err = post_recv(d, &p, dst.mr, dst.addr + r_off, GRH_BYTES + len, 31);
	if (err)
		goto out;
	wr.wr.ud.ah = p.ah;
	wr.wr.ud.remote_qpn = p.qp[1]->qp_num;
	wr.wr.ud.remote_qkey = UD_QKEY;
	err = exec_wr(d, &p, &wr, &wc, "UD SEND");
	if (!err)
		err = expect_status(d, &wc, IBV_WC_SUCCESS, "UD SEND");
	if (!err)
		err = expect_recv(d, &p, 31, (uint32_t)(GRH_BYTES + len), &wc, "UD receive");
	if (!err && wc.src_qp != p.qp[0]->qp_num)
		err = fail(d, -EIO, "UD receive: source QP %u, expected %u", wc.src_qp, p.qp[0]->qp_num);
	if (!err)
		err = check_pat(d, "UD payload", dst.addr + r_off + GRH_BYTES, len, seed, s_off);
	if (!err)
		err = check_val(d, "bytes before the UD receive buffer", dst.addr, r_off, 0);
	if (!err)
		err = check_val(d, "bytes after the UD message", dst.addr + r_off + GRH_BYTES + len,
				dst.len - r_off - GRH_BYTES - len, 0);
	if (!err)
		ok(d, "UD SEND of %zu bytes (one path MTU) from an ODP MR into an ODP receive buffer, GRH and payload across page boundaries: every byte right",
		   len);
out:
	pair_free(&p);
	region_free(&dst);
	return err;
}

static int cmd_traffic(struct dev *d, const struct options *o)
{
	struct region src = { 0 };
	struct counters c0, c1;
	char buf[200];
	int err;

	(void)o;
	set_case(d, "traffic/caps");
	err = check_caps(d, true);
	if (!err)
		err = counters_read(d, &c0);
	/* the source of the SENDs: ODP, written by the CPU */
	if (!err)
		err = region_new(d, &src, 8, ODP_RW, 11);
	if (!err)
		err = traffic_send_recv(d, &src, 11);
	if (!err)
		err = traffic_write_read(d);
	if (!err)
		err = traffic_atomics(d);
	if (!err)
		err = traffic_srq(d, &src, 11);
	if (!err)
		err = traffic_ud(d, &src, 11);
	region_free(&src);
	if (err)
		return err;

	set_case(d, "traffic/counters");
	err = counters_read(d, &c1);
	if (err)
		return err;
	counters_delta(&c0, &c1, buf, sizeof(buf));
	if (c1.faults - c0.faults <= 0)
		return fail(d, -EIO, "odp_faults did not rise over the traffic (%s)", buf);
	if (c1.errors != c0.errors)
		return fail(d, -EIO, "odp_fault_errors rose over traffic that raised no error (%s)", buf);
	ok(d, "page faults happened and none failed: %s", buf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* races                                                               */

/*
 * The traffic of a race: chunk after chunk of the target, an RDMA WRITE of
 * a fresh pattern into it, then an RDMA READ of it back, compared. Runs
 * until told to stop or a work request fails or bytes differ.
 */
struct race {
	struct dev *d;
	struct pair *p;
	bool zero_ok;			/* bytes read back may be 0 (MADV_DONTNEED) */
	struct region *local;		/* 2 * RACE_CHUNKS pages: sources, then read-back */
	struct region *target;		/* RACE_CHUNKS pages */
	uint32_t seed_base;
	uint32_t last_seed[RACE_CHUNKS];	/* the pattern last written into each chunk */
	atomic_ulong passes;		/* full passes done */
	atomic_bool stop, done;
	/* outcome */
	int err;			/* -errno: the traffic could not run (printed) */
	bool wc_failed;
	struct ibv_wc wc;
	enum ibv_wr_opcode op;
	size_t chunk;
	unsigned long pass;
	bool mismatch;
	unsigned long zero_reads;	/* READs that returned zero bytes (zero_ok) */
};

static int race_wr(struct race *r, enum ibv_wr_opcode op, size_t c)
{
	size_t pg = r->d->page;
	uint8_t *laddr = r->local->addr + (op == IBV_WR_RDMA_WRITE ? c : RACE_CHUNKS + c) * pg;
	struct ibv_sge sge = { .addr = (uintptr_t)laddr, .length = (uint32_t)pg,
			       .lkey = r->local->mr->lkey };
	struct ibv_send_wr wr;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = c;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.wr.rdma.remote_addr = (uintptr_t)(r->target->addr + c * pg);
	wr.wr.rdma.rkey = r->target->mr->rkey;
	err = exec_wr(r->d, r->p, &wr, &r->wc, op_name(op));
	if (err)
		return err;
	if (r->wc.status != IBV_WC_SUCCESS) {
		r->wc_failed = true;
		r->op = op;
		r->chunk = c;
		return 1;
	}
	return 0;
}

static void *race_traffic(void *arg)
{
	struct race *r = arg;
	size_t pg = r->d->page, c;
	unsigned long pass;
	uint8_t *rb;
	uint32_t seed;
	int err = 0;

	for (pass = 0; !err && !atomic_load(&r->stop); pass++) {
		for (c = 0; !err && c < RACE_CHUNKS && !atomic_load(&r->stop); c++) {
			seed = r->seed_base + (uint32_t)(pass * RACE_CHUNKS + c);
			rb = r->local->addr + (RACE_CHUNKS + c) * pg;
			fill(r->local->addr + c * pg, pg, seed, 0);
			memset(rb, 0xa5, pg);
			r->pass = pass;
			err = race_wr(r, IBV_WR_RDMA_WRITE, c);
			if (err)
				break;
			r->last_seed[c] = seed;
			err = race_wr(r, IBV_WR_RDMA_READ, c);
			if (err)
				break;
			if (check_pat_z(r->d, "race traffic: bytes read back", rb, pg, seed, 0, r->zero_ok)) {
				r->mismatch = true;
				r->chunk = c;
				err = 1;
				break;
			}
			if (r->zero_ok && memchr(rb, 0, pg))
				r->zero_reads++;
		}
		if (!err && c == RACE_CHUNKS)
			atomic_store(&r->passes, pass + 1);
	}
	r->err = err < 0 ? err : 0;
	atomic_store(&r->done, true);
	return NULL;
}

/* Wait until the traffic has done @n passes or stopped; false on timeout */
static bool race_wait(struct race *r, unsigned long n, uint64_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	while (atomic_load(&r->passes) < n && !atomic_load(&r->done)) {
		if (now_ms() > deadline)
			return false;
		sleep_ms(2);
	}
	return true;
}

typedef int (*race_event_fn)(struct dev *d, void *arg);

/*
 * Run the traffic of @r; once it is going (a pass done, so every page was
 * faulted in), call @event in the middle of a pass, then let the traffic
 * run until it stops by itself or @extra more passes are done. The pass
 * the event happened in goes to @ev_pass.
 */
static int race_run(struct dev *d, struct race *r, race_event_fn event, void *arg,
		    unsigned long extra, unsigned long *ev_pass)
{
	uint64_t t0, pass_ms, budget = (uint64_t)d->timeout_ms * 4;
	pthread_t th;
	int err, ev_err;

	atomic_init(&r->passes, 0);
	atomic_init(&r->stop, false);
	atomic_init(&r->done, false);
	err = pthread_create(&th, NULL, race_traffic, r);
	if (err)
		return fail(d, -err, "pthread_create: %s", strerror(err));
	err = 0;
	if (!race_wait(r, 1, budget))
		err = fail(d, -ETIMEDOUT, "the traffic did not finish its first pass in %" PRIu64 " s",
			   budget / 1000);
	t0 = now_ms();
	if (!err && !race_wait(r, 2, budget))
		err = fail(d, -ETIMEDOUT, "the traffic did not finish its second pass in %" PRIu64 " s",
			   budget / 1000);
	if (!err && atomic_load(&r->done))
		err = fail(d, -EIO, "the traffic stopped before the event (see its message above, or the work request status below)");
	if (err) {
		atomic_store(&r->stop, true);
		pthread_join(th, NULL);
		return err;
	}
	pass_ms = now_ms() - t0;
	/* land in the middle of a pass */
	sleep_ms((unsigned int)(pass_ms * 2 / 5));
	*ev_pass = atomic_load(&r->passes);
	ev_err = event(d, arg);
	if (!ev_err && !race_wait(r, *ev_pass + 1 + extra, budget))
		ev_err = fail(d, -ETIMEDOUT, "the traffic made no progress for %" PRIu64 " s after the event",
			      budget / 1000);
	atomic_store(&r->stop, true);
	pthread_join(th, NULL);
	info(d, "traffic: %lu full passes of %d chunks (RDMA WRITE + READ each, ~%" PRIu64 " ms a pass), event during pass %lu",
	     (unsigned long)atomic_load(&r->passes), RACE_CHUNKS, pass_ms, *ev_pass);
	if (ev_err)
		return ev_err;
	if (r->err)
		return fail(d, r->err, "the traffic thread failed (message above)");
	if (r->mismatch)
		return fail(d, -EIO, "RDMA READ of chunk %zu in pass %lu returned bytes other than those the RDMA WRITE before it wrote (message above)",
			    r->chunk, r->pass);
	return 0;
}

/* The race's resources: pairs made ahead, the target, the traffic's local memory */
struct race_setup {
	struct pool pool;
	struct region target, local;
	struct race r;
	struct counters c0;
};

static int race_setup(struct dev *d, struct race_setup *s, int pairs, uint32_t seed_base)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = pool_fill(d, &s->pool, pairs);
	if (!err)
		err = region_new(d, &s->target, RACE_CHUNKS, ODP_RW, -1);
	if (!err)
		err = region_new(d, &s->local, 2 * RACE_CHUNKS, ODP_RW, -1);
	if (!err)
		err = counters_read(d, &s->c0);
	s->r.d = d;
	s->r.p = pool_take(&s->pool);
	s->r.local = &s->local;
	s->r.target = &s->target;
	s->r.seed_base = seed_base;
	return err;
}

static void race_teardown(struct race_setup *s)
{
	pool_free(&s->pool);
	region_free(&s->target);
	region_free(&s->local);
}

/* Chunks [first, first + n) of the target hold the last pattern written into each */
static int check_last_written(struct dev *d, struct race *r, const uint8_t *view, size_t first,
			      size_t n, const char *what)
{
	size_t pg = d->page, c;
	char w[200];
	int err = 0;

	for (c = first; c < first + n && !err; c++) {
		snprintf(w, sizeof(w), "%s, chunk %zu", what, c);
		err = check_pat(d, w, view + c * pg, pg, r->last_seed[c], 0);
	}
	return err;
}

/* (a) munmap */

struct munmap_ev {
	uint8_t *addr;
	size_t len;
	long long inval_before, inval_after;
};

static int ev_munmap(struct dev *d, void *arg)
{
	struct munmap_ev *e = arg;
	int err = read_counter(d, "odp_invalidations", &e->inval_before);

	if (!err && munmap(e->addr, e->len))
		err = fail(d, -errno, "munmap(%p, %zu): %s", (void *)e->addr, e->len, strerror(errno));
	if (!err)
		err = read_counter(d, "odp_invalidations", &e->inval_after);
	return err;
}

static int race_munmap(struct dev *d)
{
	const size_t h0 = 5, hn = 4;	/* the hole: chunks 5..8 */
	size_t pg = d->page, c;
	struct race_setup s;
	struct munmap_ev ev;
	struct region lh = { 0 };	/* local ODP memory with a hole too */
	struct pair *p;
	struct counters c1;
	unsigned long ev_pass = 0;
	uint8_t *hole, *lhole, snap[64];
	char buf[200];
	void *m;
	int err;

	set_case(d, "races/munmap");
	/* every pair is made now: a QP made later could map its rings into the hole */
	err = race_setup(d, &s, 8, 1000);
	if (!err)
		err = region_new(d, &lh, 8, ODP_RW, 40);
	if (err)
		goto out;
	hole = s.target.addr + h0 * pg;
	lhole = lh.addr + 2 * pg;
	ev = (struct munmap_ev){ .addr = hole, .len = hn * pg };
	err = race_run(d, &s.r, ev_munmap, &ev, 2, &ev_pass);
	if (err)
		goto out;
	if (!s.r.wc_failed) {
		err = fail(d, -EIO, "the traffic ran %lu passes over all chunks after chunks %zu-%zu were unmapped and no access failed",
			   (unsigned long)atomic_load(&s.r.passes) - ev_pass, h0, h0 + hn - 1);
		goto out;
	}
	if (s.r.chunk < h0 || s.r.chunk >= h0 + hn) {
		err = fail(d, -EIO, "%s of chunk %zu failed (%s), but only chunks %zu-%zu were unmapped",
			   op_name(s.r.op), s.r.chunk, ibv_wc_status_str(s.r.wc.status), h0, h0 + hn - 1);
		goto out;
	}
	err = expect_status(d, &s.r.wc, IBV_WC_REM_ACCESS_ERR, "the traffic's first access of the unmapped part");
	if (err)
		goto out;
	ok(d, "munmap of chunks %zu-%zu during traffic: the first access of the hole (%s of chunk %zu, pass %lu) failed with IBV_WC_REM_ACCESS_ERR; every RDMA READ before it returned the bytes just written",
	   h0, h0 + hn - 1, op_name(s.r.op), s.r.chunk, s.r.pass);
	if (ev.inval_after <= ev.inval_before) {
		err = fail(d, -EIO, "odp_invalidations did not rise over the munmap of faulted-in pages (%lld before, %lld after)",
			   ev.inval_before, ev.inval_after);
		goto out;
	}
	ok(d, "odp_invalidations rose over the munmap (+%lld)", ev.inval_after - ev.inval_before);
	if (!range_unmapped(hole, hn * pg, pg)) {
		err = fail(d, -EPROTO, "something was mapped into the hole at %p meanwhile; the checks below would mean nothing",
			   (void *)hole);
		goto out;
	}

	/* a new QP pair: the rest of the target still moves the right bytes */
	p = pool_take(&s.pool);
	for (c = 0; c < RACE_CHUNKS && !err; c++) {
		uint8_t *src = s.local.addr + c * pg, *rb = s.local.addr + (RACE_CHUNKS + c) * pg;

		if (c >= h0 && c < h0 + hn)
			continue;
		fill(src, pg, 5000 + (uint32_t)c, 0);
		memset(rb, 0, pg);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s.local.mr, src, pg, s.target.mr,
			   s.target.addr + c * pg, IBV_WC_SUCCESS, "mapped chunk");
		if (!err)
			err = rdma(d, p, IBV_WR_RDMA_READ, s.local.mr, rb, pg, s.target.mr,
				   s.target.addr + c * pg, IBV_WC_SUCCESS, "mapped chunk");
		if (!err)
			err = check_pat(d, "mapped chunk read back", rb, pg, 5000 + (uint32_t)c, 0);
		if (!err)
			err = check_pat(d, "mapped chunk as the CPU sees it", s.target.addr + c * pg, pg,
					5000 + (uint32_t)c, 0);
	}
	if (err)
		goto out;
	ok(d, "new QP pair: RDMA WRITE + READ of each of the %zu chunks still mapped: right bytes, seen by the CPU too",
	   RACE_CHUNKS - hn);

	/* accesses of the hole fail, each on a new pair */
	err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, pg, s.target.mr,
		   hole + pg, IBV_WC_REM_ACCESS_ERR, "into the unmapped part, new QP pair");
	if (!err)
		err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_READ, s.local.mr, s.local.addr, pg,
			   s.target.mr, hole + 2 * pg + 8, IBV_WC_REM_ACCESS_ERR,
			   "from the unmapped part, new QP pair");
	if (!err)
		err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, pg,
			   s.target.mr, hole - pg / 2, IBV_WC_REM_ACCESS_ERR,
			   "from the mapped part on into the unmapped part, new QP pair");
	if (err)
		goto out;

	/* local side: an ODP MR with a hole, as the source and as the sink */
	if (munmap(lhole, 2 * pg)) {
		err = fail(d, -errno, "munmap: %s", strerror(errno));
		goto out;
	}
	memcpy(snap, s.target.addr, sizeof(snap));
	err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_WRITE, lh.mr, lhole + 100, 64, s.target.mr,
		   s.target.addr, IBV_WC_LOC_PROT_ERR, "from an unmapped part of a local ODP MR");
	if (!err)
		err = check_same(d, "target of the failed RDMA WRITE (nothing written)", s.target.addr,
				 snap, sizeof(snap));
	if (!err)
		err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_READ, lh.mr, lhole + pg, 64, s.target.mr,
			   s.target.addr, IBV_WC_LOC_PROT_ERR, "into an unmapped part of a local ODP MR");
	if (err)
		goto out;
	err = counters_read(d, &c1);
	if (err)
		goto out;
	if (c1.errors <= s.c0.errors) {
		err = fail(d, -EIO, "odp_fault_errors did not rise over the failed accesses (%s)",
			   counters_delta(&s.c0, &c1, buf, sizeof(buf)));
		goto out;
	}
	ok(d, "odp_fault_errors rose over the failed accesses (%s)",
	   counters_delta(&s.c0, &c1, buf, sizeof(buf)));

	/* memory mapped at the hole again: the MR follows it */
	m = mmap(hole, hn * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	if (m != hole) {
		err = fail(d, -EPROTO, "mmap at the hole %p gave %p: %s", (void *)hole, m,
			   m == MAP_FAILED ? strerror(errno) : "another address");
		if (m != MAP_FAILED)
			munmap(m, hn * pg);
		goto out;
	}
	p = pool_take(&s.pool);
	memset(s.local.addr, 0xa5, hn * pg);
	err = rdma(d, p, IBV_WR_RDMA_READ, s.local.mr, s.local.addr, hn * pg, s.target.mr, hole,
		   IBV_WC_SUCCESS, "the hole, mapped again");
	if (!err)
		err = check_val(d, "the hole mapped again, read by RDMA (fresh anonymous memory)",
				s.local.addr, hn * pg, 0);
	if (!err) {
		fill(s.local.addr, s.local.len, 6000, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr + 3, s.target.len - 5,
			   s.target.mr, s.target.addr + 1, IBV_WC_SUCCESS, "all of the target");
	}
	if (!err)
		err = check_pat(d, "the target after one RDMA WRITE over all of it", s.target.addr + 1,
				s.target.len - 5, 6000, 3);
	if (!err) {
		fill(hole, hn * pg, 6001, 0);
		memset(s.local.addr, 0, hn * pg);
		err = rdma(d, p, IBV_WR_RDMA_READ, s.local.mr, s.local.addr, hn * pg, s.target.mr, hole,
			   IBV_WC_SUCCESS, "the hole after the CPU wrote it");
	}
	if (!err)
		err = check_pat(d, "the hole written by the CPU, read by RDMA", s.local.addr, hn * pg,
				6001, 0);
	if (!err)
		ok(d, "the hole mapped again (new QP pair): RDMA READ sees fresh zero memory, an RDMA WRITE over the whole target lands, the CPU's bytes are read right");
out:
	region_free(&lh);
	race_teardown(&s);
	return err;
}

/* (b) madvise(MADV_DONTNEED) */

struct advise_ev {
	uint8_t *addr;
	size_t len;
	long long inval_before, inval_after;
};

static int ev_dontneed(struct dev *d, void *arg)
{
	struct advise_ev *e = arg;
	int err = read_counter(d, "odp_invalidations", &e->inval_before);

	if (!err && madvise(e->addr, e->len, MADV_DONTNEED))
		err = fail(d, -errno, "madvise(%p, %zu, MADV_DONTNEED): %s", (void *)e->addr, e->len,
			   strerror(errno));
	if (!err)
		err = read_counter(d, "odp_invalidations", &e->inval_after);
	return err;
}

static int race_dontneed(struct dev *d)
{
	const size_t z0 = 3, zn = 4;	/* dropped: chunks 3..6 */
	size_t pg = d->page;
	struct race_setup s;
	struct advise_ev ev;
	struct counters c1, c2;
	unsigned long ev_pass = 0;
	uint8_t *zone, *rb;
	char buf[200];
	int err;

	set_case(d, "races/madvise-dontneed");
	err = race_setup(d, &s, 1, 2000);
	if (err)
		goto out;
	zone = s.target.addr + z0 * pg;
	s.r.zero_ok = true;
	ev = (struct advise_ev){ .addr = zone, .len = zn * pg };
	err = race_run(d, &s.r, ev_dontneed, &ev, 2, &ev_pass);
	if (!err && s.r.wc_failed)
		err = fail(d, -EIO, "%s of chunk %zu in pass %lu failed with %s; MADV_DONTNEED must only make pages re-fault",
			   op_name(s.r.op), s.r.chunk, s.r.pass, ibv_wc_status_str(s.r.wc.status));
	if (err)
		goto out;
	ok(d, "MADV_DONTNEED of chunks %zu-%zu during traffic: no access failed; every byte read back was the one just written or 0 (%lu READs met zero bytes: dropped between their WRITE and READ)",
	   z0, z0 + zn - 1, s.r.zero_reads);
	if (ev.inval_after <= ev.inval_before) {
		err = fail(d, -EIO, "odp_invalidations did not rise over MADV_DONTNEED of faulted-in pages (%lld before, %lld after)",
			   ev.inval_before, ev.inval_after);
		goto out;
	}
	ok(d, "odp_invalidations rose over the madvise (+%lld)", ev.inval_after - ev.inval_before);
	err = check_last_written(d, &s.r, s.target.addr, 0, RACE_CHUNKS,
				 "the target as the CPU sees it after the traffic");
	if (err)
		goto out;
	ok(d, "after the traffic every chunk holds the bytes last written into it (CPU view)");

	/* once more without traffic: dropped pages read as zero, the rest as written */
	err = counters_read(d, &c1);
	if (!err && madvise(zone, zn * pg, MADV_DONTNEED))
		err = fail(d, -errno, "madvise(MADV_DONTNEED): %s", strerror(errno));
	if (err)
		goto out;
	rb = s.local.addr + RACE_CHUNKS * pg;
	memset(rb, 0xa5, s.target.len);
	err = rdma(d, s.r.p, IBV_WR_RDMA_READ, s.local.mr, rb, s.target.len, s.target.mr,
		   s.target.addr, IBV_WC_SUCCESS, "all of the target after MADV_DONTNEED");
	if (!err)
		err = check_last_written(d, &s.r, rb, 0, z0, "RDMA READ after MADV_DONTNEED, kept chunk");
	if (!err)
		err = check_val(d, "RDMA READ after MADV_DONTNEED, dropped chunks", rb + z0 * pg,
				zn * pg, 0);
	if (!err)
		err = check_last_written(d, &s.r, rb, z0 + zn, RACE_CHUNKS - z0 - zn,
					 "RDMA READ after MADV_DONTNEED, kept chunk");
	if (!err)
		err = counters_read(d, &c2);
	if (err)
		goto out;
	if (c2.invalidations <= c1.invalidations || c2.faults <= c1.faults || c2.errors != c1.errors) {
		err = fail(d, -EIO, "MADV_DONTNEED then RDMA READ: expected odp_invalidations and odp_faults to rise and no fault error, got %s",
			   counters_delta(&c1, &c2, buf, sizeof(buf)));
		goto out;
	}
	ok(d, "MADV_DONTNEED without traffic, then one RDMA READ of all the target (same QP pair): dropped chunks read as zero, the others as written; %s",
	   counters_delta(&c1, &c2, buf, sizeof(buf)));
	fill(s.local.addr, s.target.len, 2999, 0);
	err = rdma(d, s.r.p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, s.target.len, s.target.mr,
		   s.target.addr, IBV_WC_SUCCESS, "all of the target");
	if (!err)
		err = check_pat(d, "the target after an RDMA WRITE over all of it", s.target.addr,
				s.target.len, 2999, 0);
	if (!err)
		ok(d, "an RDMA WRITE over all of the target lands (the CPU sees it)");
out:
	race_teardown(&s);
	return err;
}

/* (c) mprotect(PROT_READ) */

struct protect_ev {
	uint8_t *addr;
	size_t len;
};

static int ev_mprotect(struct dev *d, void *arg)
{
	struct protect_ev *e = arg;

	if (mprotect(e->addr, e->len, PROT_READ))
		return fail(d, -errno, "mprotect(%p, %zu, PROT_READ): %s", (void *)e->addr, e->len,
			    strerror(errno));
	return 0;
}

static int race_mprotect(struct dev *d)
{
	const size_t z0 = 9, zn = 4;	/* read-only: chunks 9..12 */
	size_t pg = d->page;
	struct race_setup s;
	struct protect_ev ev;
	struct region lr = { 0 };	/* local ODP memory made read-only */
	struct pair *p;
	unsigned long ev_pass = 0;
	uint8_t *zone, *rb, snap[512];
	uint64_t old, want;
	int err;

	set_case(d, "races/mprotect");
	err = race_setup(d, &s, 6, 3000);
	if (!err)
		err = region_new(d, &lr, 4, ODP_RW, 41);
	if (err)
		goto out;
	zone = s.target.addr + z0 * pg;
	ev = (struct protect_ev){ .addr = zone, .len = zn * pg };
	err = race_run(d, &s.r, ev_mprotect, &ev, 2, &ev_pass);
	if (err)
		goto out;
	if (!s.r.wc_failed) {
		err = fail(d, -EIO, "the traffic ran %lu passes of RDMA WRITEs over all chunks after chunks %zu-%zu were made read-only and no write failed",
			   (unsigned long)atomic_load(&s.r.passes) - ev_pass, z0, z0 + zn - 1);
		goto out;
	}
	if (s.r.op != IBV_WR_RDMA_WRITE || s.r.chunk < z0 || s.r.chunk >= z0 + zn) {
		err = fail(d, -EIO, "%s of chunk %zu failed (%s); expected only an RDMA WRITE into chunks %zu-%zu (read-only) to fail",
			   op_name(s.r.op), s.r.chunk, ibv_wc_status_str(s.r.wc.status), z0, z0 + zn - 1);
		goto out;
	}
	err = expect_status(d, &s.r.wc, IBV_WC_REM_ACCESS_ERR, "the traffic's first RDMA WRITE into read-only memory");
	if (err)
		goto out;
	ok(d, "mprotect(PROT_READ) of chunks %zu-%zu during traffic: the first RDMA WRITE into them (chunk %zu, pass %lu) failed with IBV_WC_REM_ACCESS_ERR; every RDMA READ before it returned the bytes just written",
	   z0, z0 + zn - 1, s.r.chunk, s.r.pass);

	/* new pair: RDMA READ of everything works and matches the CPU's view */
	p = pool_take(&s.pool);
	rb = s.local.addr + RACE_CHUNKS * pg;
	memset(rb, 0xa5, s.target.len);
	err = rdma(d, p, IBV_WR_RDMA_READ, s.local.mr, rb, s.target.len, s.target.mr, s.target.addr,
		   IBV_WC_SUCCESS, "all of the target, part of it read-only");
	if (!err)
		err = check_same(d, "RDMA READ of the target against the CPU's view", rb, s.target.addr,
				 s.target.len);
	if (!err)
		err = check_last_written(d, &s.r, s.target.addr, 0, z0,
					 "writable chunk (CPU view)");
	if (!err)
		err = check_last_written(d, &s.r, s.target.addr, z0 + zn, RACE_CHUNKS - z0 - zn,
					 "writable chunk (CPU view)");
	if (!err) {
		fill(s.local.addr, pg, 3999, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, pg, s.target.mr,
			   s.target.addr + 2 * pg, IBV_WC_SUCCESS, "into a writable chunk");
	}
	if (!err)
		err = check_pat(d, "writable chunk after an RDMA WRITE", s.target.addr + 2 * pg, pg, 3999, 0);
	if (err)
		goto out;
	ok(d, "new QP pair: RDMA READ of all the target (read-only part included) returns what the CPU sees; the writable chunks hold the bytes last written; an RDMA WRITE into a writable chunk lands");

	/* writes into the read-only part fail and change nothing */
	memcpy(snap, zone + pg, sizeof(snap));
	err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, pg, s.target.mr,
		   zone + pg, IBV_WC_REM_ACCESS_ERR, "into read-only memory, new QP pair");
	if (!err)
		err = check_same(d, "read-only chunk after the failed RDMA WRITE (unchanged)", zone + pg,
				 snap, sizeof(snap));
	if (!err) {
		memcpy(&old, zone + 2 * pg + 8, 8);
		err = atomic(d, pool_take(&s.pool), IBV_WR_ATOMIC_FETCH_AND_ADD, s.local.mr, s.local.addr,
			     s.target.mr, zone + 2 * pg + 8, 1, 0, IBV_WC_REM_ACCESS_ERR,
			     "on read-only memory, new QP pair");
	}
	if (!err) {
		memcpy(&want, zone + 2 * pg + 8, 8);
		if (want != old)
			err = fail(d, -EIO, "the failed atomic changed read-only memory: 0x%016" PRIx64 " -> 0x%016" PRIx64,
				   old, want);
	}
	if (err)
		goto out;

	/* local side: an RDMA READ into read-only memory fails; reading it works */
	if (mprotect(lr.addr, lr.len, PROT_READ)) {
		err = fail(d, -errno, "mprotect: %s", strerror(errno));
		goto out;
	}
	err = rdma(d, pool_take(&s.pool), IBV_WR_RDMA_READ, lr.mr, lr.addr + 10, 2 * pg, s.target.mr,
		   s.target.addr, IBV_WC_LOC_PROT_ERR, "into a read-only part of a local ODP MR");
	if (!err)
		err = check_pat(d, "the read-only local memory (unchanged)", lr.addr, lr.len, 41, 0);
	if (err)
		goto out;
	p = pool_take(&s.pool);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, lr.mr, lr.addr + 10, 2 * pg, s.target.mr,
		   s.target.addr + 3, IBV_WC_SUCCESS, "from read-only local memory");
	if (!err)
		err = check_pat(d, "RDMA WRITE from read-only local memory", s.target.addr + 3, 2 * pg,
				41, 10);
	if (!err)
		ok(d, "an RDMA WRITE whose source is read-only local ODP memory works");

	/* writable again: RDMA WRITE lands there */
	if (!err && mprotect(zone, zn * pg, PROT_READ | PROT_WRITE))
		err = fail(d, -errno, "mprotect(PROT_READ | PROT_WRITE): %s", strerror(errno));
	if (!err) {
		fill(s.local.addr, zn * pg, 3998, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, zn * pg, s.target.mr, zone,
			   IBV_WC_SUCCESS, "into the chunks made writable again");
	}
	if (!err)
		err = check_pat(d, "chunks made writable again, after an RDMA WRITE", zone, zn * pg, 3998, 0);
	if (!err)
		ok(d, "mprotect back to PROT_READ|PROT_WRITE: an RDMA WRITE into those chunks lands");
out:
	region_free(&lr);
	race_teardown(&s);
	return err;
}

/* (d) fork */

struct fork_ev {
	uint8_t *target;
	uint8_t *snap;		/* the child's copy of the target, as fork left it */
	size_t len;
	int child_status;
	long long inval_before, inval_after;
};

/* How long the child watches its copy while the parent's traffic goes on */
#define FORK_HOLD_MS 600

static int ev_fork(struct dev *d, void *arg)
{
	struct fork_ev *e = arg;
	pid_t pid;
	int err = read_counter(d, "odp_invalidations", &e->inval_before);

	if (err)
		return err;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return fail(d, -errno, "fork: %s", strerror(errno));
	if (!pid) {
		/*
		 * The child: its copy of the target must not change while the
		 * parent's RDMA WRITEs go on (they belong to the parent's pages
		 * only, even those still shared copy-on-write); then it writes
		 * its copy, checks it and goes.
		 */
		memcpy(e->snap, e->target, e->len);
		sleep_ms(FORK_HOLD_MS);
		if (memcmp(e->snap, e->target, e->len))
			_exit(3);
		memset(e->target, 0xcc, e->len);
		sleep_ms(50);
		memset(e->snap, 0xcc, e->len);
		_exit(memcmp(e->snap, e->target, e->len) ? 4 : 0);
	}
	if (waitpid(pid, &e->child_status, 0) != pid)
		return fail(d, -errno, "waitpid: %s", strerror(errno));
	if (WIFEXITED(e->child_status) && WEXITSTATUS(e->child_status) == 3)
		return fail(d, -EIO, "the child's copy of the target changed while the parent's RDMA WRITEs went on: the device wrote into pages the child shares");
	if (!WIFEXITED(e->child_status) || WEXITSTATUS(e->child_status))
		return fail(d, -EIO, "the child did not exit 0 (wait status 0x%x; exit 4: its own writes did not stick)",
			    e->child_status);
	return read_counter(d, "odp_invalidations", &e->inval_after);
}

static int race_fork(struct dev *d)
{
	size_t pg = d->page;
	struct race_setup s;
	struct fork_ev ev = { 0 };
	unsigned long ev_pass = 0;
	uint8_t *rb;
	int err;

	set_case(d, "races/fork");
	err = race_setup(d, &s, 1, 4000);
	if (err)
		goto out;
	ev = (struct fork_ev){ .target = s.target.addr, .len = s.target.len,
			       .snap = malloc(s.target.len) };
	if (!ev.snap) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	err = race_run(d, &s.r, ev_fork, &ev, 2, &ev_pass);
	if (!err && s.r.wc_failed)
		err = fail(d, -EIO, "%s of chunk %zu in pass %lu failed with %s after fork",
			   op_name(s.r.op), s.r.chunk, s.r.pass, ibv_wc_status_str(s.r.wc.status));
	if (err)
		goto out;
	ok(d, "fork during traffic: for %d ms the child's copy of the target did not change while the parent's RDMA WRITEs went on; then the child wrote 0xcc over it and exited 0; every RDMA READ of the parent returned the bytes just written",
	   FORK_HOLD_MS);
	if (ev.inval_after <= ev.inval_before) {
		err = fail(d, -EIO, "odp_invalidations did not rise over the fork (copy-on-write protects the parent's faulted-in pages): %lld before, %lld after",
			   ev.inval_before, ev.inval_after);
		goto out;
	}
	ok(d, "odp_invalidations rose over the fork and the child's life (+%lld)",
	   ev.inval_after - ev.inval_before);
	err = check_last_written(d, &s.r, s.target.addr, 0, RACE_CHUNKS,
				 "the parent's target after the child wrote its copy (CPU view)");
	if (err)
		goto out;
	ok(d, "the parent's target holds the bytes last written by RDMA, none of the child's");

	/* the MR follows the parent's pages: the CPU's bytes are read, RDMA's are seen */
	fill(s.target.addr, s.target.len, 4998, 0);
	rb = s.local.addr + RACE_CHUNKS * pg;
	memset(rb, 0, s.target.len);
	err = rdma(d, s.r.p, IBV_WR_RDMA_READ, s.local.mr, rb, s.target.len, s.target.mr,
		   s.target.addr, IBV_WC_SUCCESS, "all of the target after the parent's CPU wrote it");
	if (!err)
		err = check_pat(d, "RDMA READ of what the parent's CPU wrote after fork", rb,
				s.target.len, 4998, 0);
	if (!err) {
		fill(s.local.addr, s.target.len, 4997, 0);
		err = rdma(d, s.r.p, IBV_WR_RDMA_WRITE, s.local.mr, s.local.addr, s.target.len,
			   s.target.mr, s.target.addr, IBV_WC_SUCCESS, "all of the target after fork");
	}
	if (!err)
		err = check_pat(d, "the parent's target after an RDMA WRITE over it", s.target.addr,
				s.target.len, 4997, 0);
	if (!err)
		ok(d, "after fork (same QP pair): RDMA READ returns what the parent's CPU wrote, an RDMA WRITE lands where the parent's CPU sees it");
out:
	free(ev.snap);
	race_teardown(&s);
	return err;
}

static int cmd_races(struct dev *d, const struct options *o)
{
	int err;

	(void)o;
	set_case(d, "races/caps");
	err = check_caps(d, false);
	if (!err)
		err = race_munmap(d);
	if (!err)
		err = race_dontneed(d);
	if (!err)
		err = race_mprotect(d);
	if (!err)
		err = race_fork(d);
	return err;
}

/* ------------------------------------------------------------------ */
/* readonly                                                            */

/* @pages of read-only memory holding pattern @seed, from a file (@file) or mprotect */
static int map_readonly(struct dev *d, struct region *r, size_t pages, uint32_t seed, bool file)
{
	char path[256];
	const char *dir = getenv("TMPDIR");
	uint8_t *buf;
	ssize_t n;
	int fd, err = 0;

	r->mr = NULL;
	r->len = pages * d->page;
	if (!file) {
		err = region_map(d, r, pages);
		if (err)
			return err;
		fill(r->addr, r->len, seed, 0);
		if (mprotect(r->addr, r->len, PROT_READ))
			return fail(d, -errno, "mprotect(PROT_READ): %s", strerror(errno));
		return 0;
	}
	snprintf(path, sizeof(path), "%s/" PROG ".XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return fail(d, -errno, "mkstemp(%s): %s (set TMPDIR to a writable directory)", path,
			    strerror(errno));
	unlink(path);
	buf = malloc(r->len);
	if (!buf) {
		close(fd);
		return fail(d, -ENOMEM, "out of memory");
	}
	fill(buf, r->len, seed, 0);
	n = write(fd, buf, r->len);
	free(buf);
	if (n != (ssize_t)r->len)
		err = fail(d, n < 0 ? -errno : -EIO, "write of %zu bytes to %s: %s", r->len, path,
			   n < 0 ? strerror(errno) : "short write");
	if (!err) {
		r->addr = mmap(NULL, r->len, PROT_READ, MAP_SHARED, fd, 0);
		if (r->addr == MAP_FAILED) {
			r->addr = NULL;
			err = fail(d, -errno, "mmap(PROT_READ, MAP_SHARED) of %s: %s", path, strerror(errno));
		}
	}
	close(fd);
	return err;
}

static int readonly_case(struct dev *d, bool file)
{
	const int ro_access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_REMOTE_READ;
	const int rw_access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			      IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	const uint32_t seed = file ? 51 : 52;
	size_t pg = d->page, off = 333, len = 5 * pg + 17;
	struct region m = { 0 }, l = { 0 };
	struct ibv_mr *ro = NULL, *rw = NULL;
	struct pair p[3];
	struct counters c0, c1;
	char buf[200];
	int i, err;

	memset(p, 0, sizeof(p));
	set_case(d, file ? "readonly/file" : "readonly/mprotect");
	err = map_readonly(d, &m, 8, seed, file);
	if (!err)
		err = region_new(d, &l, 8, ODP_RW, -1);
	for (i = 0; i < 3 && !err; i++)
		err = pair_new(d, &p[i], IBV_QPT_RC, false);
	if (err)
		goto out;
	info(d, "%zu pages %s", m.len / pg,
	     file ? "of a file written first, mapped PROT_READ, MAP_SHARED" :
		    "of anonymous memory written, then mprotect(PROT_READ)");

	/* an MR that only serves remote reads */
	ro = ibv_reg_mr(d->pd, m.addr, m.len, ro_access);
	if (!ro) {
		err = fail(d, -errno, "ibv_reg_mr(read-only memory, ON_DEMAND|REMOTE_READ): %s",
			   strerror(errno));
		goto out;
	}
	ok(d, "ODP MR with REMOTE_READ only over read-only memory registered");
	err = rdma(d, &p[0], IBV_WR_RDMA_READ, l.mr, l.addr + 2, len, ro, m.addr + off, IBV_WC_SUCCESS,
		   "from the REMOTE_READ MR");
	if (!err)
		err = check_landed(d, "RDMA READ from read-only memory", l.addr, l.len, 2, len, seed, off);
	if (!err)
		ok(d, "RDMA READ of %zu bytes from it at offset %zu: every byte right", len, off);
	if (!err)
		err = rdma(d, &p[0], IBV_WR_RDMA_WRITE, l.mr, l.addr, pg, ro, m.addr + pg, IBV_WC_REM_ACCESS_ERR,
			   "into the REMOTE_READ MR (no REMOTE_WRITE)");
	if (!err)
		err = check_pat(d, "read-only memory after the refused RDMA WRITE", m.addr, m.len, seed, 0);
	if (err)
		goto out;

	/* an MR that claims write access over memory that has none */
	rw = ibv_reg_mr(d->pd, m.addr, m.len, rw_access);
	if (!rw) {
		err = fail(d, -errno, "ibv_reg_mr(read-only memory, ON_DEMAND|LOCAL_WRITE|REMOTE_WRITE|REMOTE_READ): %s; expected it to succeed (ODP checks access when it faults)",
			   strerror(errno));
		goto out;
	}
	ok(d, "ODP MR with LOCAL_WRITE|REMOTE_WRITE|REMOTE_READ over the same read-only memory registered");
	memset(l.addr, 0, l.len);
	err = rdma(d, &p[1], IBV_WR_RDMA_READ, l.mr, l.addr + 2, len, rw, m.addr + off, IBV_WC_SUCCESS,
		   "from the writable MR over read-only memory");
	if (!err)
		err = check_landed(d, "RDMA READ through the writable MR", l.addr, l.len, 2, len, seed, off);
	if (!err)
		err = counters_read(d, &c0);
	if (!err)
		err = rdma(d, &p[1], IBV_WR_RDMA_WRITE, l.mr, l.addr, 2 * pg, rw, m.addr + 3 * pg + 5,
			   IBV_WC_REM_ACCESS_ERR, "into the writable MR over read-only memory");
	if (!err)
		err = counters_read(d, &c1);
	if (!err)
		err = check_pat(d, "read-only memory after the failed RDMA WRITE", m.addr, m.len, seed, 0);
	if (!err && c1.errors <= c0.errors)
		err = fail(d, -EIO, "odp_fault_errors did not rise over the failed write fault (%s)",
			   counters_delta(&c0, &c1, buf, sizeof(buf)));
	if (err)
		goto out;
	ok(d, "the failed RDMA WRITE changed nothing; %s", counters_delta(&c0, &c1, buf, sizeof(buf)));

	/* locally: reading it works, writing into it fails */
	memset(l.addr, 0, l.len);
	err = rdma(d, &p[2], IBV_WR_RDMA_WRITE, rw, m.addr + 9, 3 * pg, l.mr, l.addr + 4001,
		   IBV_WC_SUCCESS, "from read-only memory as the local source");
	if (!err)
		err = check_landed(d, "RDMA WRITE from read-only memory", l.addr, l.len, 4001, 3 * pg, seed, 9);
	if (!err)
		ok(d, "RDMA WRITE of %zu bytes whose local source is the read-only memory: every byte right", 3 * pg);
	if (!err)
		err = rdma(d, &p[2], IBV_WR_RDMA_READ, rw, m.addr + pg, pg, l.mr, l.addr,
			   IBV_WC_LOC_PROT_ERR, "into read-only memory as the local sink");
	if (!err)
		err = check_pat(d, "read-only memory after the failed RDMA READ into it", m.addr, m.len, seed, 0);
out:
	if (ro)
		ibv_dereg_mr(ro);
	if (rw)
		ibv_dereg_mr(rw);
	for (i = 0; i < 3; i++)
		pair_free(&p[i]);
	region_free(&l);
	region_free(&m);
	return err;
}

static int cmd_readonly(struct dev *d, const struct options *o)
{
	int err;

	(void)o;
	set_case(d, "readonly/caps");
	err = check_caps(d, false);
	if (!err)
		err = readonly_case(d, true);
	if (!err)
		err = readonly_case(d, false);
	return err;
}

/* ------------------------------------------------------------------ */
/* advise_mr                                                           */

static const char *advice_name(enum ibv_advise_mr_advice a)
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
static int advise(struct dev *d, enum ibv_advise_mr_advice a, bool sync, uint32_t lkey,
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
static int advise_supported(struct dev *d, struct region *r)
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
		return fail(d, -ret, "ibv_advise_mr(PREFETCH, FLUSH) of a page of a valid ODP MR: %s",
			    strerror(ret));
	ok(d, "ibv_advise_mr works with the loaded provider (%s)", loaded_provider(prov, sizeof(prov)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* bad-input                                                           */

static int bad_reg(struct dev *d, void *addr, size_t len, const char *what)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_mr(d->pd, addr, len, ODP_RW);
	if (mr) {
		ibv_dereg_mr(mr);
		return fail(d, -EIO, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s) succeeded, expected EINVAL",
			    addr, len, what);
	}
	if (errno != EINVAL)
		return fail(d, -EIO, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s) failed with %s, expected EINVAL",
			    addr, len, what, strerror(errno));
	ok(d, "ibv_reg_mr(%p, %#zx, ON_DEMAND) (%s): EINVAL", addr, len, what);
	return 0;
}

/*
 * After a work request of qp[0] failed: the QP is in the error state, and a
 * new work request is refused or flushed, never executed.
 */
static int post_after_error(struct dev *d, struct pair *p, struct region *src, struct region *dst)
{
	struct ibv_qp_attr a;
	struct ibv_qp_init_attr ia;
	struct ibv_sge sge = { .addr = (uintptr_t)src->addr, .length = 64, .lkey = src->mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 99, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc;
	uint8_t snap[64];
	int err;

	err = ibv_query_qp(p->qp[0], &a, IBV_QP_STATE, &ia);
	if (err)
		return fail(d, -err, "ibv_query_qp: %s", strerror(err));
	if (a.qp_state != IBV_QPS_ERR)
		return fail(d, -EIO, "QP state after the failed work request: %d, expected IBV_QPS_ERR (%d)",
			    a.qp_state, IBV_QPS_ERR);
	memcpy(snap, dst->addr, sizeof(snap));
	wr.wr.rdma.remote_addr = (uintptr_t)dst->addr;
	wr.wr.rdma.rkey = dst->mr->rkey;
	err = ibv_post_send(p->qp[0], &wr, &bad);
	if (err) {
		ok(d, "QP in IBV_QPS_ERR; a new RDMA WRITE on it is refused by ibv_post_send (%s)",
		   strerror(err));
	} else {
		err = wait_wc(d, p, p->scq, &wc, "RDMA WRITE posted after the error");
		if (err)
			return err;
		if (wc.status != IBV_WC_WR_FLUSH_ERR)
			return fail(d, -EIO, "RDMA WRITE posted to the QP in error: completed with %s, expected IBV_WC_WR_FLUSH_ERR",
				    ibv_wc_status_str(wc.status));
		ok(d, "QP in IBV_QPS_ERR; a new RDMA WRITE posted to it completes with IBV_WC_WR_FLUSH_ERR");
	}
	return check_same(d, "target of the RDMA WRITE posted after the error (unchanged)", dst->addr,
			  snap, sizeof(snap));
}

static int cmd_bad_input(struct dev *d, const struct options *o)
{
	size_t pg = d->page;
	struct region b = { 0 }, gone = { 0 }, good = { 0 }, pinned = { 0 }, lgone = { 0 };
	struct ibv_mr *dead;
	struct pool pl;
	struct pair *p;
	uint32_t dead_lkey;
	uintptr_t end = 0;
	bool la57 = false;
	int ret, err;

	(void)o;
	memset(&pl, 0, sizeof(pl));
	set_case(d, "bad-input/caps");
	err = check_caps(d, false);
	if (err)
		return err;

	set_case(d, "bad-input/reg");
	err = region_map(d, &b, 4);
	if (!err)
		err = bad_reg(d, b.addr, 0, "length 0");
	if (!err)
		err = bad_reg(d, (void *)(uintptr_t)(0 - 2 * pg), 4 * pg,
			      "starts 2 pages below the top of the address space, wraps around");
	if (!err)
		err = bad_reg(d, b.addr, (size_t)0 - (uintptr_t)b.addr + pg,
			      "a mapped buffer, a length that wraps around");
	if (!err) {
		end = user_va_end(pg, &la57);
		info(d, "the user address space ends at %#" PRIxPTR " (%s-level paging)", end,
		     la57 ? "5" : "4");
		err = bad_reg(d, (void *)end, 1 << 20, "starts at the end of the user address space");
	}
	if (!err)
		err = bad_reg(d, (void *)(end - 2 * pg), 1 << 20,
			      "starts 2 pages below the end of the user address space, runs past it");
	if (!err && la57) {
		/* the example of 4-level paging is user address space here */
		struct ibv_mr *mr = ibv_reg_mr(d->pd, (void *)(uintptr_t)0x7ffffffff000ULL, 1 << 20, ODP_RW);

		info(d, "ibv_reg_mr(0x7ffffffff000, 0x100000, ON_DEMAND), inside the user address space with 5-level paging: %s",
		     mr ? "registered" : strerror(errno));
		if (mr)
			ibv_dereg_mr(mr);
	}
	if (err)
		goto out;

	/* registration over unmapped memory: fine for ODP; the access fails */
	err = pool_fill(d, &pl, 4);
	if (!err)
		err = region_map(d, &gone, 4);
	if (!err)
		err = region_new(d, &good, 4, ODP_RW, 61);
	if (!err)
		err = region_map(d, &lgone, 4);
	if (err)
		goto out;
	if (munmap(gone.addr, gone.len) || munmap(lgone.addr, lgone.len)) {
		err = fail(d, -errno, "munmap: %s", strerror(errno));
		goto out;
	}
	err = region_reg(d, &gone, ODP_RW);
	if (!err)
		err = region_reg(d, &lgone, ODP_RW);
	if (err)
		goto out;
	ok(d, "ODP MRs over unmapped memory registered (nothing is faulted at registration)");
	if (!range_unmapped(gone.addr, gone.len, pg) || !range_unmapped(lgone.addr, lgone.len, pg)) {
		err = fail(d, -EPROTO, "something was mapped into the unmapped ranges meanwhile");
		goto out;
	}

	set_case(d, "bad-input/post-after-error");
	p = pool_take(&pl);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, good.mr, good.addr, 100, gone.mr, gone.addr + 7,
		   IBV_WC_REM_ACCESS_ERR, "into an ODP MR over unmapped memory");
	if (!err)
		err = post_after_error(d, p, &good, &good);
	p = pool_take(&pl);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, lgone.mr, lgone.addr + 7, 100, good.mr, good.addr,
			   IBV_WC_LOC_PROT_ERR, "from a local ODP MR over unmapped memory");
	if (!err)
		err = post_after_error(d, p, &good, &good);
	if (err)
		goto out;

	/* the process and the device still work */
	memset(good.addr + 2 * pg, 0, pg);
	err = rdma(d, pool_take(&pl), IBV_WR_RDMA_WRITE, good.mr, good.addr + 5, pg - 10, good.mr,
		   good.addr + 2 * pg + 3, IBV_WC_SUCCESS, "after the errors, new QP pair");
	if (!err)
		err = check_pat(d, "RDMA WRITE after the errors", good.addr + 2 * pg + 3, pg - 10, 61, 5);
	if (err)
		goto out;
	ok(d, "after the refused registrations and the failed work requests, a new QP pair moves the right bytes");

	set_case(d, "bad-input/advise-mr");
	err = advise_supported(d, &good);
	if (err)
		goto out;
	err = region_new(d, &pinned, 2, PINNED_RW, -1);
	if (err)
		goto out;
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, true, pinned.mr->lkey, pinned.addr, pg);
	if (ret != EINVAL) {
		err = fail(d, -EIO, "advise_mr(PREFETCH, FLUSH) on a pinned (not ODP) MR: %s, expected EINVAL",
			   ret ? strerror(ret) : "success");
		goto out;
	}
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, false, pinned.mr->lkey, pinned.addr, pg);
	if (ret != EINVAL) {
		err = fail(d, -EIO, "advise_mr(PREFETCH_WRITE, async) on a pinned (not ODP) MR: %s, expected EINVAL",
			   ret ? strerror(ret) : "success");
		goto out;
	}
	ok(d, "advise_mr on a pinned MR: EINVAL (synchronous and asynchronous)");
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, true, good.mr->lkey, good.addr + 3 * pg, 2 * pg);
	if (ret != EFAULT) {
		err = fail(d, -EIO, "advise_mr(PREFETCH, FLUSH) of a range running past the end of the MR: %s, expected EFAULT",
			   ret ? strerror(ret) : "success");
		goto out;
	}
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, false, good.mr->lkey, good.addr - pg,
		     2 * pg);
	if (ret != EFAULT) {
		err = fail(d, -EIO, "advise_mr(PREFETCH_WRITE, async) of a range starting before the MR: %s, expected EFAULT",
			   ret ? strerror(ret) : "success");
		goto out;
	}
	ok(d, "advise_mr of a range outside the MR (past its end, before its start): EFAULT");
	dead = ibv_reg_mr(d->pd, good.addr, pg, ODP_RW);
	if (!dead) {
		err = fail(d, -errno, "ibv_reg_mr: %s", strerror(errno));
		goto out;
	}
	dead_lkey = dead->lkey;
	ibv_dereg_mr(dead);
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, true, dead_lkey, good.addr, pg);
	if (ret != EINVAL && ret != ENOENT) {
		err = fail(d, -EIO, "advise_mr(PREFETCH, FLUSH) with the lkey 0x%x of a deregistered MR: %s, expected EINVAL or ENOENT",
			   dead_lkey, ret ? strerror(ret) : "success");
		goto out;
	}
	ok(d, "advise_mr with an unknown lkey (0x%x, of a deregistered MR): %s", dead_lkey, strerror(ret));

	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, true, good.mr->lkey, good.addr, good.len);
	if (ret) {
		err = fail(d, -ret, "advise_mr(PREFETCH_WRITE, FLUSH) of a whole valid ODP MR after the bad calls: %s",
			   strerror(ret));
		goto out;
	}
	memset(good.addr + 3 * pg, 0, pg);
	err = rdma(d, pool_take(&pl), IBV_WR_RDMA_WRITE, good.mr, good.addr + 11, 200, good.mr,
		   good.addr + 3 * pg + 1, IBV_WC_SUCCESS, "after the bad advise_mr calls");
	if (!err)
		err = check_pat(d, "RDMA WRITE after the bad advise_mr calls", good.addr + 3 * pg + 1, 200,
				61, 11);
	if (!err)
		ok(d, "after the bad advise_mr calls, advise_mr and RDMA on the MR still work");
out:
	pool_free(&pl);
	region_free(&pinned);
	region_free(&good);
	region_free(&gone);
	region_free(&lgone);
	region_free(&b);
	return err;
}

/* ------------------------------------------------------------------ */
/* prefetch                                                            */

/*
 * Prefetch @t (the remote side) with @a, then move @len bytes with @op
 * through the pinned local @l; the transfer must add no odp_faults when
 * @want_no_faults, else at least one. The counter changes go to @c0, @c1.
 */
static int prefetch_then(struct dev *d, struct pair *p, enum ibv_advise_mr_advice a, bool sync,
			 struct region *t, struct region *l, enum ibv_wr_opcode op, size_t len,
			 bool want_no_faults, struct counters *c0, struct counters *c1)
{
	struct counters mid;
	char buf[200];
	long long pf;
	int ret, err;

	err = counters_read(d, c0);
	if (err)
		return err;
	ret = advise(d, a, sync, t->mr->lkey, t->addr, len);
	if (ret)
		return fail(d, -ret, "advise_mr(%s, %s) of %zu bytes of an ODP MR: %s", advice_name(a),
			    sync ? "FLUSH" : "async", len, strerror(ret));
	if (!sync)
		err = wait_counter(d, "odp_prefetches", c0->prefetches + 1, &pf);
	if (!err)
		err = counters_read(d, &mid);
	if (err)
		return err;
	if (mid.prefetches != c0->prefetches + 1)
		return fail(d, -EIO, "advise_mr(%s, %s) of one range: odp_prefetches +%lld, expected +1",
			    advice_name(a), sync ? "FLUSH" : "async", mid.prefetches - c0->prefetches);
	err = rdma(d, p, op, l->mr, l->addr, len, t->mr, t->addr, IBV_WC_SUCCESS, "after the prefetch");
	if (!err)
		err = counters_read(d, c1);
	if (err)
		return err;
	if (want_no_faults && c1->faults != mid.faults)
		return fail(d, -EIO, "%s of the prefetched range after advise_mr(%s, %s): odp_faults +%lld, expected +0 (%s)",
			    op_name(op), advice_name(a), sync ? "FLUSH" : "async", c1->faults - mid.faults,
			    counters_delta(c0, c1, buf, sizeof(buf)));
	if (!want_no_faults && c1->faults == mid.faults)
		return fail(d, -EIO, "%s after advise_mr(%s, %s): no odp_faults, expected the transfer to fault (%s)",
			    op_name(op), advice_name(a), sync ? "FLUSH" : "async",
			    counters_delta(c0, c1, buf, sizeof(buf)));
	return 0;
}

static int prefetch_checks(struct dev *d)
{
	size_t pg = d->page, len = 8 * pg;
	struct region t = { 0 }, l = { 0 };
	struct pair p = { 0 };
	struct counters c0, c1;
	struct ibv_sge sge[2];
	char buf[200];
	int i, ret, err;

	err = pair_new(d, &p, IBV_QPT_RC, false);
	/* the local side is pinned: every ODP fault counted is the target's */
	if (!err)
		err = region_new(d, &l, 8, PINNED_RW, -1);
	if (err)
		goto out;

	for (i = 0; i < 2 && !err; i++) {
		bool sync = !i;

		set_case(d, sync ? "prefetch/sync" : "prefetch/async");
		/* for reading: the CPU wrote the target, RDMA READ reads it */
		err = region_new(d, &t, 8, ODP_RW, 70 + i);
		if (!err) {
			memset(l.addr, 0, l.len);
			err = prefetch_then(d, &p, IBV_ADVISE_MR_ADVICE_PREFETCH, sync, &t, &l,
					    IBV_WR_RDMA_READ, len, true, &c0, &c1);
		}
		if (!err)
			err = check_pat(d, "RDMA READ of the range prefetched for reading", l.addr, len,
					70 + (uint32_t)i, 0);
		if (!err)
			ok(d, "advise_mr(PREFETCH, %s) of 8 pages the CPU wrote, then RDMA READ of them: no fault, right bytes; %s",
			   sync ? "FLUSH" : "async", counters_delta(&c0, &c1, buf, sizeof(buf)));
		region_free(&t);
		/* for writing: pages never touched, RDMA WRITE into them */
		if (!err)
			err = region_new(d, &t, 8, ODP_RW, -1);
		if (!err) {
			fill(l.addr, len, 72 + (uint32_t)i, 0);
			err = prefetch_then(d, &p, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, sync, &t, &l,
					    IBV_WR_RDMA_WRITE, len, true, &c0, &c1);
		}
		if (!err)
			err = check_pat(d, "target of the RDMA WRITE into the range prefetched for writing",
					t.addr, len, 72 + (uint32_t)i, 0);
		if (!err)
			ok(d, "advise_mr(PREFETCH_WRITE, %s) of 8 pages never touched, then RDMA WRITE into them: no fault, right bytes; %s",
			   sync ? "FLUSH" : "async", counters_delta(&c0, &c1, buf, sizeof(buf)));
		region_free(&t);
	}
	if (err)
		goto out;

	/* the counter means something: a read prefetch of untouched memory maps the zero page */
	set_case(d, "prefetch/read-then-write");
	err = region_new(d, &t, 8, ODP_RW, -1);
	if (!err) {
		fill(l.addr, len, 74, 0);
		err = prefetch_then(d, &p, IBV_ADVISE_MR_ADVICE_PREFETCH, true, &t, &l, IBV_WR_RDMA_WRITE,
				    len, false, &c0, &c1);
	}
	if (!err)
		err = check_pat(d, "RDMA WRITE after a read prefetch", t.addr, len, 74, 0);
	if (!err)
		ok(d, "advise_mr(PREFETCH, FLUSH) of pages never touched maps them for reading only: an RDMA WRITE into them faults (%s) and lands",
		   counters_delta(&c0, &c1, buf, sizeof(buf)));
	region_free(&t);
	if (err)
		goto out;

	set_case(d, "prefetch/no-fault");
	err = region_new(d, &t, 8, ODP_RW, 75);
	if (!err) {
		memset(l.addr, 0, l.len);
		err = prefetch_then(d, &p, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, true, &t, &l,
				    IBV_WR_RDMA_READ, len, true, &c0, &c1);
	}
	if (!err)
		err = check_pat(d, "RDMA READ after a no-fault prefetch", l.addr, len, 75, 0);
	if (!err)
		ok(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages the CPU wrote (so mapped), then RDMA READ: no fault, right bytes; %s",
		   counters_delta(&c0, &c1, buf, sizeof(buf)));
	region_free(&t);
	/* pages the CPU never touched: nothing to take over, the access faults */
	if (!err)
		err = region_new(d, &t, 8, ODP_RW, -1);
	if (!err)
		err = counters_read(d, &c0);
	if (!err) {
		ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT, true, t.mr->lkey, t.addr, len);
		if (ret)
			err = fail(d, -ret, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages never touched: %s, expected success (there is nothing to map)",
				   strerror(ret));
	}
	if (!err) {
		struct counters mid;

		err = counters_read(d, &mid);
		if (!err)
			info(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of 8 pages never touched: odp_prefetches +%lld (nothing was mapped)",
			     mid.prefetches - c0.prefetches);
		memset(l.addr, 0xa5, l.len);
		if (!err)
			err = rdma(d, &p, IBV_WR_RDMA_READ, l.mr, l.addr, len, t.mr, t.addr, IBV_WC_SUCCESS,
				   "after a no-fault prefetch of pages never touched");
		if (!err)
			err = counters_read(d, &c1);
		if (!err && c1.faults == mid.faults)
			err = fail(d, -EIO, "RDMA READ of pages never touched after a no-fault prefetch: no odp_faults, expected the transfer to fault (%s)",
				   counters_delta(&c0, &c1, buf, sizeof(buf)));
	}
	if (!err)
		err = check_val(d, "RDMA READ of pages never touched", l.addr, len, 0);
	if (!err)
		ok(d, "advise_mr(PREFETCH_NO_FAULT, FLUSH) of pages never touched succeeds, maps nothing: the RDMA READ then faults and reads zeros; %s",
		   counters_delta(&c0, &c1, buf, sizeof(buf)));
	region_free(&t);
	if (err)
		goto out;

	/* two ranges in one call */
	set_case(d, "prefetch/two-ranges");
	err = region_new(d, &t, 8, ODP_RW, -1);
	if (!err)
		err = counters_read(d, &c0);
	if (err)
		goto out;
	sge[0] = (struct ibv_sge){ .addr = (uintptr_t)t.addr + 100, .length = (uint32_t)(2 * pg),
				   .lkey = t.mr->lkey };
	sge[1] = (struct ibv_sge){ .addr = (uintptr_t)t.addr + 5 * pg, .length = (uint32_t)(3 * pg),
				   .lkey = t.mr->lkey };
	ret = ibv_advise_mr(d->pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, IBV_ADVISE_MR_FLAG_FLUSH, sge, 2);
	if (ret) {
		err = fail(d, -ret, "advise_mr(PREFETCH_WRITE, FLUSH) of two ranges: %s", strerror(ret));
		goto out;
	}
	err = counters_read(d, &c1);
	if (!err && c1.prefetches != c0.prefetches + 2)
		err = fail(d, -EIO, "advise_mr of two ranges: odp_prefetches +%lld, expected +2",
			   c1.prefetches - c0.prefetches);
	if (!err) {
		fill(l.addr, len, 76, 0);
		err = rdma(d, &p, IBV_WR_RDMA_WRITE, l.mr, l.addr + 100, 2 * pg, t.mr, t.addr + 100,
			   IBV_WC_SUCCESS, "into the first range");
	}
	if (!err)
		err = rdma(d, &p, IBV_WR_RDMA_WRITE, l.mr, l.addr + 5 * pg, 3 * pg, t.mr, t.addr + 5 * pg,
			   IBV_WC_SUCCESS, "into the second range");
	if (!err)
		err = counters_read(d, &c0);
	if (!err && c0.faults != c1.faults)
		err = fail(d, -EIO, "RDMA WRITEs into the two prefetched ranges: odp_faults +%lld, expected +0",
			   c0.faults - c1.faults);
	if (!err)
		err = check_landed(d, "first prefetched range", t.addr, 5 * pg, 100, 2 * pg, 76, 100);
	if (!err)
		err = check_pat(d, "second prefetched range", t.addr + 5 * pg, 3 * pg, 76, 5 * pg);
	if (!err)
		ok(d, "advise_mr(PREFETCH_WRITE, FLUSH) of two ranges in one call: odp_prefetches +2; RDMA WRITEs into both: no fault, right bytes");
out:
	region_free(&t);
	region_free(&l);
	pair_free(&p);
	return err;
}

/*
 * Asynchronous prefetch, then traffic at once over the same MRs (SEND,
 * RDMA WRITE, RDMA READ), every byte checked; the MRs are deregistered and
 * the memory unmapped right after, while the prefetch may still run.
 */
static int prefetch_traffic_once(struct dev *d, struct pair *p, unsigned long it)
{
	size_t pg = d->page, len = 5 * pg + 321;
	uint32_t seed = 100 + (uint32_t)it;
	struct region src = { 0 }, dst = { 0 };
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND };
	struct ibv_wc wc;
	int ret, err;

	err = region_new(d, &src, 8, ODP_RW, seed);
	if (!err)
		err = region_new(d, &dst, 16, ODP_RW, -1);
	if (err)
		goto out;
	ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH, false, src.mr->lkey, src.addr, src.len);
	if (!ret)
		ret = advise(d, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE, false, dst.mr->lkey, dst.addr, dst.len);
	if (ret) {
		err = fail(d, -ret, "asynchronous advise_mr: %s", strerror(ret));
		goto out;
	}
	/* SEND into the first half of dst */
	err = post_recv(d, p, dst.mr, dst.addr + 7, len, 41);
	if (!err) {
		sge = (struct ibv_sge){ .addr = (uintptr_t)src.addr + 13, .length = (uint32_t)len,
					.lkey = src.mr->lkey };
		err = exec_wr(d, p, &wr, &wc, "SEND");
	}
	if (!err)
		err = expect_status(d, &wc, IBV_WC_SUCCESS, "SEND");
	if (!err)
		err = expect_recv(d, p, 41, (uint32_t)len, &wc, "RECV");
	if (!err)
		err = check_pat(d, "received bytes", dst.addr + 7, len, seed, 13);
	/* RDMA WRITE into the second half, RDMA READ back into src's tail */
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, src.mr, src.addr + 1, 7 * pg, dst.mr,
			   dst.addr + 8 * pg + 3, IBV_WC_SUCCESS, "after an async prefetch");
	if (!err)
		err = check_pat(d, "RDMA WRITE target", dst.addr + 8 * pg + 3, 7 * pg, seed, 1);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, src.mr, src.addr + 6 * pg, 2 * pg, dst.mr,
			   dst.addr + 8 * pg + 3, IBV_WC_SUCCESS, "after an async prefetch");
	if (!err)
		err = check_pat(d, "RDMA READ target", src.addr + 6 * pg, 2 * pg, seed, 1);
	if (!err)
		err = check_pat(d, "RDMA READ source region head (unchanged)", src.addr, 6 * pg, seed, 0);
	if (!err)
		err = check_val(d, "dst bytes nothing was sent to", dst.addr + 7 + len,
				8 * pg + 3 - 7 - len, 0);
out:
	region_free(&src);
	region_free(&dst);
	return err;
}

static int cmd_prefetch(struct dev *d, const struct options *o)
{
	struct region probe = { 0 };
	struct counters c0, c1;
	struct pair p = { 0 };
	unsigned long it;
	long long pf;
	char buf[200];
	int err;

	set_case(d, "prefetch/caps");
	err = check_caps(d, false);
	if (!err)
		err = region_new(d, &probe, 1, ODP_RW, 1);
	if (!err)
		err = advise_supported(d, &probe);
	region_free(&probe);
	if (!err)
		err = prefetch_checks(d);
	if (err)
		return err;

	set_case(d, "prefetch/async-rc-traffic");
	err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err)
		err = counters_read(d, &c0);
	for (it = 0; it < o->repeat && !err; it++) {
		err = prefetch_traffic_once(d, &p, it);
		if (err)
			fail(d, err, "run %lu of %lu failed (above)", it + 1, o->repeat);
	}
	pair_free(&p);
	if (err)
		return err;
	/* each run asked for two prefetches; deregistration waits for them */
	err = wait_counter(d, "odp_prefetches", c0.prefetches + 2 * (long long)o->repeat, &pf);
	if (!err)
		err = counters_read(d, &c1);
	if (err)
		return err;
	if (c1.prefetches != c0.prefetches + 2 * (long long)o->repeat)
		return fail(d, -EIO, "odp_prefetches +%lld over %lu runs of two asynchronous prefetches, expected +%lu",
			    c1.prefetches - c0.prefetches, o->repeat, 2 * o->repeat);
	ok(d, "%lu runs: asynchronous PREFETCH and PREFETCH_WRITE of fresh ODP MRs, at once SEND, RDMA WRITE and RDMA READ over them, MRs deregistered and memory unmapped right after: every byte right every time; %s",
	   o->repeat, counters_delta(&c0, &c1, buf, sizeof(buf)));
	return 0;
}

/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* dmabuf                                                              */

/* The dma-buf MRs' iova: unrelated to any address of this process */
#define DMABUF_IOVA 0x10000000ULL
#define DMABUF_PAGES 8

/* A udmabuf over a memfd, and a CPU view of the memfd's pages */
struct dmabuf {
	int memfd, fd;
	uint8_t *view;
	size_t len;
};

static void dmabuf_free(struct dmabuf *b)
{
	if (b->view)
		munmap(b->view, b->len);
	if (b->fd >= 0)
		close(b->fd);
	if (b->memfd >= 0)
		close(b->memfd);
	b->view = NULL;
	b->fd = b->memfd = -1;
}

static int dmabuf_new(struct dev *d, struct dmabuf *b, size_t pages)
{
	struct udmabuf_create create = { 0 };
	int udev, err;

	b->fd = -1;
	b->view = NULL;
	b->len = pages * d->page;
	b->memfd = memfd_create(PROG, MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (b->memfd < 0)
		return fail(d, -errno, "memfd_create: %s", strerror(errno));
	/* udmabuf wants a memfd that cannot shrink */
	if (ftruncate(b->memfd, (off_t)b->len) || fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = fail(d, -errno, "sizing and sealing a memfd of %zu bytes: %s", b->len,
			   strerror(errno));
		goto out;
	}
	udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (udev < 0) {
		err = fail(d, -errno, "open /dev/udmabuf: %s (a kernel with CONFIG_UDMABUF)",
			   strerror(errno));
		goto out;
	}
	create.memfd = (uint32_t)b->memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.size = b->len;
	b->fd = ioctl(udev, UDMABUF_CREATE, &create);
	err = errno;
	close(udev);
	if (b->fd < 0) {
		err = fail(d, -err, "UDMABUF_CREATE of %zu bytes: %s", b->len, strerror(err));
		goto out;
	}
	b->view = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	if (b->view == MAP_FAILED) {
		b->view = NULL;
		err = fail(d, -errno, "mmap of the memfd: %s", strerror(errno));
		goto out;
	}
	return 0;
out:
	dmabuf_free(b);
	return err;
}

static int dmabuf_reg(struct dev *d, struct ibv_mr **mr, const struct dmabuf *b, size_t offset,
		      size_t len, uint64_t iova, int access, const char *what)
{
	char a[96], prov[512];

	*mr = ibv_reg_dmabuf_mr(d->pd, offset, len, iova, b->fd, access);
	if (!*mr)
		return fail(d, -errno, "ibv_reg_dmabuf_mr(offset %#zx, %zu bytes, iova %#" PRIx64 ", %s) of %s: %s (provider: %s)",
			    offset, len, iova, access_str(access, a, sizeof(a)), what, strerror(errno),
			    loaded_provider(prov, sizeof(prov)));
	return 0;
}

/* ibv_reg_dmabuf_mr is refused with errno @want */
static int dmabuf_bad(struct dev *d, int fd, size_t offset, size_t len, uint64_t iova, int access,
		      int want, const char *what)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_dmabuf_mr(d->pd, offset, len, iova, fd, access);
	if (mr) {
		ibv_dereg_mr(mr);
		return fail(d, -EIO, "ibv_reg_dmabuf_mr (%s) succeeded, expected %s", what,
			    strerror(want));
	}
	if (errno != want)
		return fail(d, -EIO, "ibv_reg_dmabuf_mr (%s): %s, expected %s", what, strerror(errno),
			    strerror(want));
	ok(d, "ibv_reg_dmabuf_mr (%s): %s, as expected", what, strerror(want));
	return 0;
}

/* One SEND of @len bytes at @addr (in the MR of @lkey) from qp[0], completed successfully */
static int send_one(struct dev *d, struct pair *p, uint32_t lkey, uint64_t addr, size_t len,
		    const char *what)
{
	struct ibv_sge sge = { .addr = addr, .length = (uint32_t)len, .lkey = lkey };
	struct ibv_send_wr wr = { .wr_id = 0x70, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND };
	struct ibv_wc wc;
	int err = exec_wr(d, p, &wr, &wc, what);

	return err ? err : expect_status(d, &wc, IBV_WC_SUCCESS, what);
}

/* Data through a dma-buf MR over the whole buffer, which holds pattern 101 */
static int dmabuf_data(struct dev *d, struct pair *p, struct dmabuf *b, struct ibv_mr *mr,
		       struct region *local)
{
	const size_t pg = d->page, len = b->len, woff = pg + 123, wlen = 3 * pg + 456;
	const uint64_t add = 0x1234;
	uint64_t old, now, *word;
	struct ibv_wc wc;
	int err;

	set_case(d, "dmabuf/read");
	memset(local->addr, 0, local->len);
	err = rdma(d, p, IBV_WR_RDMA_READ, local->mr, local->addr, len, mr,
		   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS, "all of a dma-buf MR");
	if (!err)
		err = check_pat(d, "RDMA READ of the dma-buf MR", local->addr, len, 101, 0);
	if (!err)
		ok(d, "RDMA READ of %zu bytes at iova %#llx: the memfd's bytes", len, DMABUF_IOVA);

	set_case(d, "dmabuf/write");
	if (!err) {
		fill(local->addr, local->len, 202, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, local->mr, local->addr, wlen, mr,
			   (void *)(uintptr_t)(DMABUF_IOVA + woff), IBV_WC_SUCCESS,
			   "into a dma-buf MR, unaligned, over 5 pages");
	}
	if (!err)
		err = check_pat(d, "memfd after RDMA WRITE (the written bytes)", b->view + woff, wlen,
				202, 0);
	if (!err)
		err = check_pat(d, "memfd after RDMA WRITE (bytes before)", b->view, woff, 101, 0);
	if (!err)
		err = check_pat(d, "memfd after RDMA WRITE (bytes after)", b->view + woff + wlen,
				len - woff - wlen, 101, woff + wlen);
	if (!err)
		ok(d, "RDMA WRITE of %zu bytes at offset %zu: landed in the memfd, neighbours intact",
		   wlen, woff);

	set_case(d, "dmabuf/send-recv");
	if (!err) {
		fill(b->view, len, 303, 0);
		memset(local->addr, 0, local->len);
		err = post_recv(d, p, local->mr, local->addr + 7, 2 * pg, 0x71);
	}
	if (!err)
		err = send_one(d, p, mr->lkey, DMABUF_IOVA + pg - 100, 2 * pg,
			       "SEND from a dma-buf MR");
	if (!err)
		err = expect_recv(d, p, 0x71, (uint32_t)(2 * pg), &wc, "RECV of a SEND from a dma-buf MR");
	if (!err)
		err = check_landed(d, "RECV of a SEND from a dma-buf MR", local->addr, local->len, 7,
				   2 * pg, 303, pg - 100);
	if (!err) {
		fill(local->addr, local->len, 404, 0);
		memset(b->view, 0, len);
		err = post_recv(d, p, mr, (void *)(uintptr_t)(DMABUF_IOVA + 2 * pg + 9), pg + 11,
				0x73);
	}
	if (!err)
		err = send_one(d, p, local->mr->lkey, (uintptr_t)local->addr, pg + 11,
			       "SEND into a dma-buf MR");
	if (!err)
		err = expect_recv(d, p, 0x73, (uint32_t)(pg + 11), &wc, "RECV into a dma-buf MR");
	if (!err)
		err = check_landed(d, "memfd after a RECV into the dma-buf MR", b->view, len,
				   2 * pg + 9, pg + 11, 404, 0);
	if (!err)
		ok(d, "SEND from and RECV into the dma-buf MR across page boundaries: bytes right");

	set_case(d, "dmabuf/atomic");
	word = (uint64_t *)(void *)(b->view + 5 * pg + 64);
	if (!err) {
		*word = 0x1111222233334444ULL;
		err = atomic(d, p, IBV_WR_ATOMIC_FETCH_AND_ADD, local->mr, local->addr, mr,
			     (void *)(uintptr_t)(DMABUF_IOVA + 5 * pg + 64), add, 0, IBV_WC_SUCCESS,
			     "on a word of a dma-buf MR");
	}
	if (!err) {
		memcpy(&old, local->addr, sizeof(old));
		now = *word;
		if (old != 0x1111222233334444ULL || now != 0x1111222233334444ULL + add)
			err = fail(d, -EIO, "FETCH_AND_ADD of %#" PRIx64 ": fetched %#" PRIx64 ", word now %#" PRIx64 "; expected %#llx and %#llx",
				   add, old, now, 0x1111222233334444ULL, 0x1111222233334444ULL + add);
	}
	if (!err)
		ok(d, "FETCH_AND_ADD on the dma-buf MR: old value fetched, the memfd's word added to");
	return err;
}

/* A registration of pages 2-4 of the buffer at another iova, and the MR's rights */
static int dmabuf_part(struct dev *d, struct pair *p, struct dmabuf *b, struct region *local)
{
	const size_t pg = d->page, off = 2 * pg + 100, len = 2 * pg;
	const uint64_t iova = 0x7770000000ULL + 100;
	struct ibv_mr *part = NULL, *ro = NULL;
	int err;

	set_case(d, "dmabuf/part");
	fill(b->view, b->len, 505, 0);
	err = dmabuf_reg(d, &part, b, off, len, iova, PINNED_RW, "a part of the udmabuf");
	if (!err) {
		memset(local->addr, 0, local->len);
		err = rdma(d, p, IBV_WR_RDMA_READ, local->mr, local->addr, len, part,
			   (void *)(uintptr_t)iova, IBV_WC_SUCCESS, "all of a part MR");
	}
	if (!err)
		err = check_pat(d, "RDMA READ of the part MR", local->addr, len, 505, off);
	if (!err)
		ok(d, "buffer offset %#zx registered at iova %#" PRIx64 ": RDMA READ there gives those bytes",
		   off, iova);
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, local->mr, local->addr, 64, part,
			   (void *)(uintptr_t)(iova + len - 32), IBV_WC_REM_ACCESS_ERR,
			   "past the end of a part MR");
	if (part)
		ibv_dereg_mr(part);
	if (err)
		return err;
	/* that error moved the QPs to the error state */
	pair_free(p);
	err = pair_new(d, p, IBV_QPT_RC, false);

	set_case(d, "dmabuf/rights");
	if (!err)
		err = dmabuf_reg(d, &ro, b, 0, b->len, DMABUF_IOVA, IBV_ACCESS_REMOTE_READ,
				 "remote read only");
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_READ, local->mr, local->addr, pg, ro,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS, "from a read-only dma-buf MR");
	if (!err)
		err = rdma(d, p, IBV_WR_RDMA_WRITE, local->mr, local->addr, pg, ro,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_REM_ACCESS_ERR,
			   "into a read-only dma-buf MR");
	if (!err)
		err = check_pat(d, "memfd after a refused RDMA WRITE", b->view, b->len, 505, 0);
	if (ro)
		ibv_dereg_mr(ro);
	if (!err) {
		pair_free(p);
		err = pair_new(d, p, IBV_QPT_RC, false);
	}
	return err;
}

/* The MR holds the buffer: it works after every file descriptor and the view are gone */
static int dmabuf_outlives(struct dev *d, struct pair *p, struct region *local)
{
	const size_t pg = d->page;
	struct dmabuf b;
	struct ibv_mr *mr = NULL;
	int err;

	set_case(d, "dmabuf/outlives-fds");
	err = dmabuf_new(d, &b, 4);
	if (!err) {
		fill(b.view, b.len, 606, 0);
		err = dmabuf_reg(d, &mr, &b, 0, b.len, DMABUF_IOVA, PINNED_RW, "a 4-page udmabuf");
	}
	dmabuf_free(&b);
	if (!err) {
		fill(local->addr, local->len, 707, 0);
		err = rdma(d, p, IBV_WR_RDMA_WRITE, local->mr, local->addr, pg, mr,
			   (void *)(uintptr_t)(DMABUF_IOVA + 2 * pg), IBV_WC_SUCCESS,
			   "into a dma-buf MR whose fds are closed");
	}
	if (!err) {
		memset(local->addr, 0, local->len);
		err = rdma(d, p, IBV_WR_RDMA_READ, local->mr, local->addr, 4 * pg, mr,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS,
			   "from a dma-buf MR whose fds are closed");
	}
	if (!err)
		err = check_pat(d, "READ after the fds closed (pages 0-1)", local->addr, 2 * pg, 606, 0);
	if (!err)
		err = check_pat(d, "READ after the fds closed (page 2, written)", local->addr + 2 * pg,
				pg, 707, 0);
	if (!err)
		err = check_pat(d, "READ after the fds closed (page 3)", local->addr + 3 * pg, pg, 606,
				3 * pg);
	if (!err)
		ok(d, "memfd, udmabuf fd and view closed: the MR still reads and writes the buffer");
	if (mr && ibv_dereg_mr(mr) && !err)
		err = fail(d, -errno, "ibv_dereg_mr of the dma-buf MR: %s", strerror(errno));
	return err;
}

static int dmabuf_bad_input(struct dev *d, struct dmabuf *b)
{
	const size_t pg = d->page, len = b->len;
	int err;

	set_case(d, "dmabuf/bad-input");
	err = dmabuf_bad(d, -1, 0, pg, DMABUF_IOVA, PINNED_RW, EBADF, "fd -1");
	if (!err)
		err = dmabuf_bad(d, b->memfd, 0, pg, DMABUF_IOVA, PINNED_RW, EINVAL,
				 "a memfd, not a dma-buf");
	if (!err)
		err = dmabuf_bad(d, b->fd, 0, len + pg, DMABUF_IOVA, PINNED_RW, EINVAL,
				 "one page more than the buffer");
	if (!err)
		err = dmabuf_bad(d, b->fd, len, 1, DMABUF_IOVA, PINNED_RW, EINVAL,
				 "offset at the end of the buffer");
	if (!err)
		err = dmabuf_bad(d, b->fd, SIZE_MAX - pg + 1, 2 * pg, DMABUF_IOVA, PINNED_RW, EINVAL,
				 "offset + length wraps");
	if (!err)
		err = dmabuf_bad(d, b->fd, 0, 0, DMABUF_IOVA, PINNED_RW, EINVAL, "length 0");
	if (!err)
		err = dmabuf_bad(d, b->fd, 0, pg, DMABUF_IOVA + 100, PINNED_RW, EINVAL,
				 "iova and offset differ within the page");
	if (!err)
		err = dmabuf_bad(d, b->fd, 0, pg, DMABUF_IOVA, ODP_RW, EINVAL,
				 "ON_DEMAND: uverbs takes no ODP flag for dma-buf MRs");
	return err;
}

static int cmd_dmabuf(struct dev *d, const struct options *o)
{
	struct dmabuf b = { .memfd = -1, .fd = -1 };
	struct region local = { 0 };
	struct ibv_mr *mr = NULL;
	struct pair p = { 0 };
	int err;

	(void)o;
	set_case(d, "dmabuf/register");
	err = dmabuf_new(d, &b, DMABUF_PAGES);
	if (!err)
		err = region_new(d, &local, DMABUF_PAGES, PINNED_RW, -1);
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err) {
		fill(b.view, b.len, 101, 0);
		err = dmabuf_reg(d, &mr, &b, 0, b.len, DMABUF_IOVA, PINNED_RW, "a udmabuf");
	}
	if (!err)
		ok(d, "a %zu-byte udmabuf registered at iova %#llx", b.len, DMABUF_IOVA);
	if (!err)
		err = dmabuf_data(d, &p, &b, mr, &local);
	if (mr && ibv_dereg_mr(mr) && !err)
		err = fail(d, -errno, "ibv_dereg_mr of the dma-buf MR: %s", strerror(errno));
	if (!err)
		err = dmabuf_part(d, &p, &b, &local);
	if (!err)
		err = dmabuf_outlives(d, &p, &local);
	if (!err)
		err = dmabuf_bad_input(d, &b);
	pair_free(&p);
	region_free(&local);
	dmabuf_free(&b);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-d DEV] [-p PORT] [-g GIDX] [-t SECONDS] COMMAND [--repeat N]\n"
		   "  COMMAND   traffic | races | readonly | bad-input | prefetch | dmabuf\n"
		   "  -d DEV    RDMA device (default rxe0)\n"
		   "  -p PORT   port (default 1)\n"
		   "  -g GIDX   GID index (default: the port's first RoCE v2 GID of an IPv4 address)\n"
		   "  -t SEC    wait this long for a completion before calling it a hang (default 60)\n"
		   "  --repeat N  prefetch only: run the async prefetch + RC traffic test N times (default 1)\n"
		   "exit status: 0 passed, 1 failed, 2 bad usage, %d ibv_advise_mr unsupported by the\n"
		   "loaded provider (bad-input, prefetch; the other bad-input checks passed)\n",
		EXIT_NO_ADVISE);
}

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
	static const char *const cmds[] = { "traffic", "races", "readonly", "bad-input", "prefetch",
					    "dmabuf" };
	long long v;
	size_t i;
	int c;

	*o = (struct options){ .dev = "rxe0", .port = 1, .gid = -1, .timeout_s = 60, .repeat = 1 };
	while ((c = getopt(argc, argv, "+d:p:g:t:h")) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			continue;
		case 'p':
			if ((v = parse_num(optarg, 1, 255)) < 0)
				break;
			o->port = (int)v;
			continue;
		case 'g':
			if ((v = parse_num(optarg, 0, 255)) < 0)
				break;
			o->gid = (int)v;
			continue;
		case 't':
			if ((v = parse_num(optarg, 1, 3600)) < 0)
				break;
			o->timeout_s = (int)v;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		fprintf(stderr, PROG ": bad value '%s' for -%c (see -h for the range)\n", optarg, c);
		return -EINVAL;
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no command given\n");
		usage(stderr);
		return -EINVAL;
	}
	o->cmd = argv[optind++];
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && strcmp(cmds[i], o->cmd); i++)
		;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, PROG ": unknown command '%s'\n", o->cmd);
		usage(stderr);
		return -EINVAL;
	}
	while (optind < argc) {
		if (!strcmp(o->cmd, "prefetch") && !strcmp(argv[optind], "--repeat") &&
		    optind + 1 < argc) {
			if ((v = parse_num(argv[optind + 1], 1, 100000)) < 0) {
				fprintf(stderr, PROG ": --repeat wants a number from 1 to 100000, not '%s'\n",
					argv[optind + 1]);
				return -EINVAL;
			}
			o->repeat = (unsigned long)v;
			optind += 2;
			continue;
		}
		fprintf(stderr, PROG ": unexpected argument '%s' for %s\n", argv[optind], o->cmd);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct dev d;
	int err;

	if (parse_options(argc, argv, &o))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&d, 0, sizeof(d));
	err = open_device(&d, &o);
	if (!err) {
		if (!strcmp(o.cmd, "traffic"))
			err = cmd_traffic(&d, &o);
		else if (!strcmp(o.cmd, "races"))
			err = cmd_races(&d, &o);
		else if (!strcmp(o.cmd, "readonly"))
			err = cmd_readonly(&d, &o);
		else if (!strcmp(o.cmd, "bad-input"))
			err = cmd_bad_input(&d, &o);
		else if (!strcmp(o.cmd, "dmabuf"))
			err = cmd_dmabuf(&d, &o);
		else
			err = cmd_prefetch(&d, &o);
	}
	close_device(&d);
	if (err == EXIT_NO_ADVISE) {
		printf(PROG " %s: the checks that ran passed; the advise_mr checks did not run (exit %d)\n",
		       o.cmd, EXIT_NO_ADVISE);
		return EXIT_NO_ADVISE;
	}
	if (err) {
		fprintf(stderr, PROG " %s: FAILED (%s)\n", o.cmd, strerror(-err));
		return 1;
	}
	printf(PROG " %s: PASS\n", o.cmd);
	return 0;
}

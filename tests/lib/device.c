/*
 * rdmatest: open a device, find its RoCE v2 GID of an IPv4 address;
 * anonymous memory (transparent huge pages too) and the MRs over it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rdmatest.h"

/* The first RoCE v2 GID that maps an IPv4 address (::ffff:a.b.c.d) */
static int find_gid(struct rt_dev *d, int table_len, const char *hint)
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
	return rt_fail(d, -ENOENT, "%s port %u has no RoCE v2 GID of an IPv4 address; give %s",
		       d->name, d->port, hint);
}

/* Open the device called d->name */
static int open_by_name(struct rt_dev *d)
{
	struct ibv_device **list;
	int i, n, err;

	list = ibv_get_device_list(&n);
	if (!list)
		return rt_fail(d, -errno, "ibv_get_device_list: %s", strerror(errno));
	for (i = 0; i < n && strcmp(ibv_get_device_name(list[i]), d->name); i++)
		;
	if (i == n) {
		ibv_free_device_list(list);
		return rt_fail(d, -ENODEV, "no RDMA device %s (rdma link add %s type rxe netdev IF; is a provider for it installed?)",
			       d->name, d->name);
	}
	d->ctx = ibv_open_device(list[i]);
	err = d->ctx ? 0 : -errno;
	ibv_free_device_list(list);
	if (err)
		return rt_fail(d, err, "cannot open %s: %s", d->name, strerror(-err));
	return 0;
}

/* The port must be active; its MTU, message size limit and GID */
static int open_port(struct rt_dev *d, const struct rt_dev_opts *o)
{
	struct ibv_port_attr pattr;
	int err;

	d->port = (uint8_t)o->port;
	err = ibv_query_port(d->ctx, d->port, &pattr);
	if (err)
		return rt_fail(d, -err, "ibv_query_port(%s, %u): %s", d->name, d->port, strerror(err));
	if (pattr.state != IBV_PORT_ACTIVE)
		return rt_fail(d, -ENETDOWN, "%s port %u is not active (state %d)", d->name, d->port,
			       pattr.state);
	d->mtu = pattr.active_mtu;
	d->mtu_bytes = 128U << d->mtu;
	d->max_msg = pattr.max_msg_sz;
	d->gid_index = o->gid >= 0 ? o->gid : find_gid(d, pattr.gid_tbl_len, o->gid_hint);
	if (d->gid_index < 0)
		return d->gid_index;
	if (ibv_query_gid(d->ctx, d->port, d->gid_index, &d->gid))
		return rt_fail(d, -errno, "ibv_query_gid(%s, %u, %d): %s", d->name, d->port,
			       d->gid_index, strerror(errno));
	return 0;
}

/*
 * Open device @o->name, query it and its port, find the GID, allocate a
 * PD. d->where and d->fail_prefix are the caller's (for messages); on
 * failure rt_close() still undoes what was done.
 */
int rt_open(struct rt_dev *d, const struct rt_dev_opts *o)
{
	int err;

	d->name = o->name;
	d->timeout_ms = o->timeout_s * 1000;
	d->page = (size_t)sysconf(_SC_PAGESIZE);
	err = open_by_name(d);
	if (err)
		return err;
	memset(&d->attr, 0, sizeof(d->attr));
	err = ibv_query_device_ex(d->ctx, NULL, &d->attr);
	if (err)
		return rt_fail(d, -err, "ibv_query_device_ex(%s): %s", d->name, strerror(err));
	err = open_port(d, o);
	if (err)
		return err;
	d->pd = ibv_alloc_pd(d->ctx);
	if (!d->pd)
		return rt_fail(d, -errno, "ibv_alloc_pd: %s", strerror(errno));
	snprintf(d->counters, sizeof(d->counters), "/sys/class/infiniband/%s/ports/%u/hw_counters",
		 d->name, d->port);
	return 0;
}

void rt_close(struct rt_dev *d)
{
	if (d->pd)
		ibv_dealloc_pd(d->pd);
	if (d->ctx)
		ibv_close_device(d->ctx);
	d->pd = NULL;
	d->ctx = NULL;
}

/* Map @len bytes of fresh anonymous memory (zero, never touched) */
int rt_region_map(struct rt_dev *d, struct rt_region *r, size_t len)
{
	r->mr = NULL;
	r->len = len;
	r->addr = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return rt_fail(d, -errno, "mmap of %zu bytes: %s", r->len, strerror(errno));
	}
	return 0;
}

/*
 * Map @len bytes (a multiple of RT_HUGE_BYTES) at an address aligned to
 * RT_HUGE_BYTES and ask for transparent huge pages there
 * (madvise(MADV_HUGEPAGE)): the first touch of each 2 MiB then faults in one
 * huge page, when the kernel has THP in madvise or always mode and free
 * memory. Freed by rt_region_free().
 */
int rt_region_map_thp(struct rt_dev *d, struct rt_region *r, size_t len)
{
	uint8_t *map, *aligned;
	size_t head;

	r->mr = NULL;
	r->addr = NULL;
	r->len = len;
	if (!len || len % RT_HUGE_BYTES)
		return rt_fail(d, -EINVAL, "a THP region of %zu bytes: not a multiple of %zu", len,
			       RT_HUGE_BYTES);
	map = mmap(NULL, len + RT_HUGE_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return rt_fail(d, -errno, "mmap of %zu bytes: %s", len + RT_HUGE_BYTES,
			       strerror(errno));
	aligned = (uint8_t *)(((uintptr_t)map + RT_HUGE_BYTES - 1) & ~(uintptr_t)(RT_HUGE_BYTES - 1));
	head = (size_t)(aligned - map);
	/* keep only the aligned part, so that rt_region_free() unmaps all */
	if (head)
		munmap(map, head);
	if (RT_HUGE_BYTES - head)
		munmap(aligned + len, RT_HUGE_BYTES - head);
	r->addr = aligned;
	if (madvise(aligned, len, MADV_HUGEPAGE)) {
		int err = -errno;

		rt_region_free(r);
		return rt_fail(d, err, "madvise(MADV_HUGEPAGE): %s (a kernel without transparent huge pages)",
			       strerror(-err));
	}
	return 0;
}

/* AnonHugePages of the mapping at @addr in /proc/self/smaps, in KiB, or -errno */
long rt_thp_kib(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, start, end;
	bool inside = false;
	char line[256];
	long kib = -ENOENT;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= start && a < end;
			continue;
		}
		if (inside && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* Register all of @r with @access */
int rt_region_reg(struct rt_dev *d, struct rt_region *r, int access)
{
	char a[96];

	r->mr = ibv_reg_mr(d->pd, r->addr, r->len, access);
	if (!r->mr)
		return rt_fail(d, -errno, "ibv_reg_mr(%p, %zu bytes, %s): %s", (void *)r->addr,
			       r->len, rt_access_str(access, a, sizeof(a)), strerror(errno));
	return 0;
}

/* Deregister and unmap what there is of @r */
void rt_region_free(struct rt_region *r)
{
	if (r->mr)
		ibv_dereg_mr(r->mr);
	if (r->addr)
		munmap(r->addr, r->len);
	r->mr = NULL;
	r->addr = NULL;
}

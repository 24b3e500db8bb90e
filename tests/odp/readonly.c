/*
 * rxe-odp-test readonly: read-only memory (a file mapped PROT_READ, and
 * anonymous memory after mprotect(PROT_READ)) under ODP MRs. RDMA READ
 * serves it; RDMA WRITEs into it fail, also through an MR that claims
 * write access (ODP checks access when it faults); as a local source it
 * works, as a local sink it fails; it never changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "odp-test.h"

/* One readonly case: the read-only memory, local ODP memory, the MRs and pairs */
struct ro_case {
	struct rt_region m, l;
	struct ibv_mr *ro, *rw;	/* REMOTE_READ only; claiming write access */
	struct rt_pair p[3];
	uint32_t seed;
};

/* A file of @r->len bytes of pattern @seed in TMPDIR, deleted, mapped PROT_READ */
static int map_file_readonly(struct rt_dev *d, struct rt_region *r, uint32_t seed)
{
	const char *dir = getenv("TMPDIR");
	char path[256];
	uint8_t *buf;
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/" PROG ".XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		return rt_fail(d, -errno, "mkstemp(%s): %s (set TMPDIR to a writable directory)",
			       path, strerror(errno));
	unlink(path);
	buf = malloc(r->len);
	if (!buf) {
		close(fd);
		return rt_fail(d, -ENOMEM, "out of memory");
	}
	rt_fill(buf, r->len, seed, 0);
	n = write(fd, buf, r->len);
	free(buf);
	if (n != (ssize_t)r->len)
		err = rt_fail(d, n < 0 ? -errno : -EIO, "write of %zu bytes to %s: %s", r->len, path,
			      n < 0 ? strerror(errno) : "short write");
	if (!err) {
		r->addr = mmap(NULL, r->len, PROT_READ, MAP_SHARED, fd, 0);
		if (r->addr == MAP_FAILED) {
			r->addr = NULL;
			err = rt_fail(d, -errno, "mmap(PROT_READ, MAP_SHARED) of %s: %s", path,
				      strerror(errno));
		}
	}
	close(fd);
	return err;
}

/* @pages of read-only memory holding pattern @seed, from a file (@file) or mprotect */
static int map_readonly(struct rt_dev *d, struct rt_region *r, size_t pages, uint32_t seed,
			bool file)
{
	int err;

	r->mr = NULL;
	r->len = pages * d->page;
	if (file)
		return map_file_readonly(d, r, seed);
	err = rt_region_map(d, r, pages * d->page);
	if (err)
		return err;
	rt_fill(r->addr, r->len, seed, 0);
	if (mprotect(r->addr, r->len, PROT_READ))
		return rt_fail(d, -errno, "mprotect(PROT_READ): %s", strerror(errno));
	return 0;
}

/* An MR that only serves remote reads: READ works, a WRITE fails */
static int ro_remote_read_only(struct rt_dev *d, struct ro_case *c)
{
	const size_t pg = d->page, off = 333, len = 5 * pg + 17;
	struct rt_region *m = &c->m, *l = &c->l;
	int err;

	c->ro = ibv_reg_mr(d->pd, m->addr, m->len, IBV_ACCESS_ON_DEMAND | IBV_ACCESS_REMOTE_READ);
	if (!c->ro)
		return rt_fail(d, -errno, "ibv_reg_mr(read-only memory, ON_DEMAND|REMOTE_READ): %s",
			       strerror(errno));
	rt_ok(d, "ODP MR with REMOTE_READ only over read-only memory registered");
	err = rdma(d, &c->p[0], IBV_WR_RDMA_READ, l->mr, l->addr + 2, len, c->ro, m->addr + off,
		   IBV_WC_SUCCESS, "from the REMOTE_READ MR");
	if (!err)
		err = rt_check_landed(d, "RDMA READ from read-only memory", l->addr, l->len, 2, len,
				      c->seed, off);
	if (!err)
		rt_ok(d, "RDMA READ of %zu bytes from it at offset %zu: every byte right", len, off);
	if (!err)
		err = rdma(d, &c->p[0], IBV_WR_RDMA_WRITE, l->mr, l->addr, pg, c->ro, m->addr + pg,
			   IBV_WC_REM_ACCESS_ERR, "into the REMOTE_READ MR (no REMOTE_WRITE)");
	if (!err)
		err = rt_check_pat(d, "read-only memory after the refused RDMA WRITE", m->addr,
				   m->len, c->seed, 0);
	return err;
}

/* An MR that claims write access over memory that has none: READ works, a WRITE faults */
static int ro_claims_write(struct rt_dev *d, struct ro_case *c)
{
	const int access = IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
	const size_t pg = d->page, off = 333, len = 5 * pg + 17;
	struct rt_region *m = &c->m, *l = &c->l;
	struct rt_counters c0, c1;
	char buf[200];
	int err;

	c->rw = ibv_reg_mr(d->pd, m->addr, m->len, access);
	if (!c->rw)
		return rt_fail(d, -errno, "ibv_reg_mr(read-only memory, ON_DEMAND|LOCAL_WRITE|REMOTE_WRITE|REMOTE_READ): %s; expected it to succeed (ODP checks access when it faults)",
			       strerror(errno));
	rt_ok(d, "ODP MR with LOCAL_WRITE|REMOTE_WRITE|REMOTE_READ over the same read-only memory registered");
	memset(l->addr, 0, l->len);
	err = rdma(d, &c->p[1], IBV_WR_RDMA_READ, l->mr, l->addr + 2, len, c->rw, m->addr + off,
		   IBV_WC_SUCCESS, "from the writable MR over read-only memory");
	if (!err)
		err = rt_check_landed(d, "RDMA READ through the writable MR", l->addr, l->len, 2, len,
				      c->seed, off);
	if (!err)
		err = rt_counters_read(d, &c0);
	if (!err)
		err = rdma(d, &c->p[1], IBV_WR_RDMA_WRITE, l->mr, l->addr, 2 * pg, c->rw,
			   m->addr + 3 * pg + 5, IBV_WC_REM_ACCESS_ERR,
			   "into the writable MR over read-only memory");
	if (!err)
		err = rt_counters_read(d, &c1);
	if (!err)
		err = rt_check_pat(d, "read-only memory after the failed RDMA WRITE", m->addr, m->len,
				   c->seed, 0);
	if (!err && c1.errors <= c0.errors)
		err = rt_fail(d, -EIO, "odp_fault_errors did not rise over the failed write fault (%s)",
			      rt_counters_delta(&c0, &c1, buf, sizeof(buf)));
	if (!err)
		rt_ok(d, "the failed RDMA WRITE changed nothing; %s",
		      rt_counters_delta(&c0, &c1, buf, sizeof(buf)));
	return err;
}

/* Locally, through the writable MR: reading it works, writing into it fails */
static int ro_local(struct rt_dev *d, struct ro_case *c)
{
	const size_t pg = d->page;
	struct rt_region *m = &c->m, *l = &c->l;
	int err;

	memset(l->addr, 0, l->len);
	err = rdma(d, &c->p[2], IBV_WR_RDMA_WRITE, c->rw, m->addr + 9, 3 * pg, l->mr,
		   l->addr + 4001, IBV_WC_SUCCESS, "from read-only memory as the local source");
	if (!err)
		err = rt_check_landed(d, "RDMA WRITE from read-only memory", l->addr, l->len, 4001,
				      3 * pg, c->seed, 9);
	if (!err)
		rt_ok(d, "RDMA WRITE of %zu bytes whose local source is the read-only memory: every byte right",
		      3 * pg);
	if (!err)
		err = rdma(d, &c->p[2], IBV_WR_RDMA_READ, c->rw, m->addr + pg, pg, l->mr, l->addr,
			   IBV_WC_LOC_PROT_ERR, "into read-only memory as the local sink");
	if (!err)
		err = rt_check_pat(d, "read-only memory after the failed RDMA READ into it", m->addr,
				   m->len, c->seed, 0);
	return err;
}

static int readonly_case(struct rt_dev *d, bool file)
{
	struct ro_case c = { .seed = file ? 51 : 52 };
	int i, err;

	rt_set_case(d, file ? "readonly/file" : "readonly/mprotect");
	err = map_readonly(d, &c.m, 8, c.seed, file);
	if (!err)
		err = region_new(d, &c.l, 8, ODP_RW, -1);
	for (i = 0; i < 3 && !err; i++)
		err = pair_new(d, &c.p[i], IBV_QPT_RC, false);
	if (err)
		goto out;
	rt_info(d, "%zu pages %s", c.m.len / d->page,
		file ? "of a file written first, mapped PROT_READ, MAP_SHARED" :
		       "of anonymous memory written, then mprotect(PROT_READ)");
	err = ro_remote_read_only(d, &c);
	if (!err)
		err = ro_claims_write(d, &c);
	if (!err)
		err = ro_local(d, &c);
out:
	if (c.ro)
		ibv_dereg_mr(c.ro);
	if (c.rw)
		ibv_dereg_mr(c.rw);
	for (i = 0; i < 3; i++)
		rt_pair_free(&c.p[i]);
	rt_region_free(&c.l);
	rt_region_free(&c.m);
	return err;
}

int cmd_readonly(struct rt_dev *d, const struct options *o)
{
	int err;

	(void)o;
	rt_set_case(d, "readonly/caps");
	err = check_caps(d, false);
	if (!err)
		err = readonly_case(d, true);
	if (!err)
		err = readonly_case(d, false);
	return err;
}

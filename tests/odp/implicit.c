/*
 * rxe-odp-test implicit: implicit ODP MRs (one MR over the whole address
 * space, address 0 and length SIZE_MAX, as MPI libraries register ODP
 * memory; kernel patch 0029). The implicit MR is the remote side of RDMA
 * WRITEs and READs and the local side of a READ, at addresses spread over
 * the address space: low, near its top, across a 1 GiB boundary between
 * two of the kernel's child ranges, next to an unmapped hole. A munmap and
 * a new mmap at the same address: the MR reads the new memory. The
 * bookkeeping the MR's ODP state reports grows with the slots touched, not
 * with the address space, and falls again when a slot's memory goes (its
 * child is freed). After a fork, whose child writes its copy, RDMA's
 * bytes land in the parent's pages only. Four processes at once, each with
 * an implicit MR of its own, move data through it. Bad registrations are
 * refused, and an access to the hole fails with a remote access error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <infiniband/verbs_ext.h>

#include "odp-test.h"

#define GIB ((uintptr_t)1 << 30)
/* How long a freed child may take to leave the MR's state (a work item) */
#define REAP_WAIT_MS 2000

/* Map @pages pages at exactly @at; NULL (reported) when that fails */
static uint8_t *map_at(struct rt_dev *d, uintptr_t at, size_t pages)
{
	void *m = mmap((void *)at, pages * d->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (m == MAP_FAILED || (uintptr_t)m != at) {
		rt_fail(d, -ENOMEM, "mmap of %zu pages at %#" PRIxPTR ": %s", pages, at,
			m == MAP_FAILED ? strerror(errno) : "placed elsewhere");
		if (m != MAP_FAILED)
			munmap(m, pages * d->page);
		return NULL;
	}
	return m;
}

/* Registrations an implicit MR must refuse, each with EINVAL */
static int implicit_bad_input(struct rt_dev *d)
{
	const struct {
		const char *what;
		uint64_t iova;
		int access;
	} bad[] = {
		{ "without ON_DEMAND", 0, PINNED_RW },
		{ "at iova 4096", 4096, ODP_RW },
		/* IB_UVERBS_ACCESS_FLUSH_PERSISTENT: no ODP MR offers it */
		{ "with FLUSH_PERSISTENT", 0, ODP_RW | (1 << 9) },
	};
	struct ibv_mr *mr;
	size_t i;

	rt_set_case(d, "implicit/bad-input");
	for (i = 0; i < RT_ARRAY_SIZE(bad); i++) {
		errno = 0;
		mr = ibv_reg_mr_iova(d->pd, NULL, SIZE_MAX, bad[i].iova, bad[i].access);
		if (mr) {
			ibv_dereg_mr(mr);
			return rt_fail(d, -EPROTO, "an MR over the whole address space %s was registered",
				       bad[i].what);
		}
		if (errno != EINVAL)
			return rt_fail(d, -EPROTO, "an MR over the whole address space %s: %s, expected EINVAL",
				       bad[i].what, strerror(errno));
		rt_ok(d, "an MR over the whole address space %s: refused with EINVAL", bad[i].what);
	}
	return 0;
}

/*
 * WRITE @n bytes of pattern @seed from @src into @at through the implicit
 * MR, then READ them back into @back, also through the implicit MR (its
 * lkey); both must land right.
 */
static int write_read(struct rt_dev *d, struct rt_pair *p, struct ibv_mr *imr,
		      struct rt_region *src, uint8_t *at, size_t span, size_t off, size_t n,
		      uint8_t *back, uint32_t seed, const char *where)
{
	int err;

	rt_fill(src->addr, src->len, seed, 0);
	err = rdma(d, p, IBV_WR_RDMA_WRITE, src->mr, src->addr, n, imr, at + off,
		   IBV_WC_SUCCESS, where);
	if (!err)
		err = rt_check_landed(d, where, at, span, off, n, seed, 0);
	if (!err) {
		memset(back, 0, n + 2);
		err = rdma(d, p, IBV_WR_RDMA_READ, imr, back + 1, n, imr, at + off,
			   IBV_WC_SUCCESS, where);
	}
	if (!err)
		err = rt_check_landed(d, "read back through the implicit MR", back, n + 2, 1, n,
				      seed, 0);
	if (!err)
		rt_ok(d, "%s: WRITE and READ of %zu bytes through the implicit MR right", where, n);
	return err;
}

/*
 * fork: the child writes 0xcc over its copy of @buf and checks it; then
 * the parent's RDMA WRITE through the implicit MR must land in the
 * parent's pages (copy-on-write broken for the device) and be read back.
 */
static int implicit_fork(struct rt_dev *d, struct rt_pair *p, struct ibv_mr *imr,
			 struct rt_region *src, uint8_t *buf, size_t len, uint8_t *back)
{
	const size_t n = len / 2;
	int status, err;
	pid_t pid;

	rt_set_case(d, "implicit/fork");
	/* Zero before the fork: the landing check wants zero around the target */
	memset(buf, 0, len);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return rt_fail(d, -errno, "fork: %s", strerror(errno));
	if (!pid) {
		memset(buf, 0xcc, len);
		_exit(buf[0] == 0xcc && buf[len - 1] == 0xcc ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return rt_fail(d, -EIO, "the forked child failed (wait status 0x%x)", status);
	err = write_read(d, p, imr, src, buf, len, 5, n, back, 36, "after a fork");
	if (!err && (buf[0] == 0xcc || buf[len - 1] == 0xcc))
		err = rt_fail(d, -EIO, "the child's writes reached the parent's pages");
	if (!err)
		rt_ok(d, "fork: the child's writes stayed in its copy, RDMA's bytes in the parent's pages");
	return err;
}

/* One of implicit_processes()'s children: exits 0 when its traffic was right */
static void __attribute__((noreturn)) process_child(const struct options *o, int k)
{
	const struct rt_dev_opts dev = {
		.name = o->dev, .port = o->port, .gid = o->gid, .gid_hint = "-g GIDX",
		.timeout_s = o->timeout_s,
	};
	struct rt_region src = { 0 };
	struct rt_pair p = { 0 };
	struct ibv_mr *imr = NULL;
	struct rt_dev cd = { 0 };
	uint8_t *buf = NULL, back[300];
	int err;

	cd.fail_prefix = "FAIL ";
	snprintf(cd.where, sizeof(cd.where), "implicit/processes[%d]", k);
	err = rt_open(&cd, &dev);
	if (!err)
		err = pair_new(&cd, &p, IBV_QPT_RC, false);
	if (!err)
		err = rt_region_map(&cd, &src, cd.page);
	if (!err)
		err = rt_region_reg(&cd, &src, PINNED_RW);
	if (!err) {
		imr = ibv_reg_mr(cd.pd, NULL, SIZE_MAX, ODP_RW);
		err = imr ? 0 : rt_fail(&cd, -errno, "implicit MR: %s", strerror(errno));
	}
	if (!err) {
		buf = map_at(&cd, (uintptr_t)(7 + k) * 64 * GIB, 1);
		err = buf ? 0 : -ENOMEM;
	}
	if (!err)
		err = write_read(&cd, &p, imr, &src, buf, cd.page, 100, sizeof(back) - 2, back,
				 40 + (uint32_t)k, "a process of its own");
	if (imr)
		ibv_dereg_mr(imr);
	rt_pair_free(&p);
	rt_region_free(&src);
	rt_close(&cd);
	fflush(NULL);
	_exit(err ? 1 : 0);
}

/* PROCESSES processes at once, each with an implicit MR: all must succeed */
#define PROCESSES 4

static int implicit_processes(struct rt_dev *d, const struct options *o)
{
	pid_t pid[PROCESSES];
	int i, status, failed = 0, started;

	rt_set_case(d, "implicit/processes");
	fflush(NULL);
	for (started = 0; started < PROCESSES; started++) {
		pid[started] = fork();
		if (pid[started] < 0)
			break;
		if (!pid[started])
			process_child(o, started);
	}
	for (i = 0; i < started; i++)
		if (waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	if (started < PROCESSES)
		return rt_fail(d, -errno, "fork of process %d: %s", started, strerror(errno));
	if (failed)
		return rt_fail(d, -EIO, "%d of %d processes with an implicit MR each failed (above)",
			       failed, PROCESSES);
	rt_ok(d, "%d processes at once, each with an implicit MR of its own: every one moved its bytes right",
	      PROCESSES);
	return 0;
}

int cmd_implicit(struct rt_dev *d, const struct options *o)
{
	const size_t pg = d->page, n = 2 * pg + 123;
	struct ibvx_mr_odp_state s0, s1, s2;
	struct rt_region src = { 0 };
	struct rt_pair p = { 0 }, q = { 0 };
	uint8_t *low = NULL, *high = NULL, *cross = NULL, *hole = NULL, *back = NULL;
	uintptr_t top, at;
	struct ibv_mr *imr = NULL;
	bool la57;
	uint64_t t0;
	int err;

	rt_set_case(d, "implicit/caps");
	if (!(d->attr.odp_caps.general_caps & IBV_ODP_SUPPORT_IMPLICIT))
		return rt_fail(d, -EOPNOTSUPP, "%s offers no implicit ODP (general caps 0x%" PRIx64 ")",
			       d->name, d->attr.odp_caps.general_caps);
	rt_ok(d, "general ODP caps 0x%" PRIx64 " include IBV_ODP_SUPPORT_IMPLICIT",
	      d->attr.odp_caps.general_caps);
	err = implicit_bad_input(d);
	if (err)
		return err;

	rt_set_case(d, "implicit/traffic");
	top = user_va_end(pg, &la57);
	low = map_at(d, 64 * GIB, 4);
	/* The highest slot below the top that is free (the stack lives up there) */
	for (at = (top & ~(GIB - 1)) - 64 * GIB; !high && at > 128 * GIB; at -= 64 * GIB)
		high = mmap((void *)at, 4 * pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == (void *)at ?
		       (uint8_t *)at : NULL;
	cross = map_at(d, 3 * 64 * GIB - 2 * pg, 4);
	hole = map_at(d, 5 * 64 * GIB, 3);
	err = low && high && cross && hole ? 0 : -ENOMEM;
	if (!err && munmap(hole + pg, pg))
		err = rt_fail(d, -errno, "munmap of the hole: %s", strerror(errno));
	if (!err)
		err = rt_region_map(d, &src, 4 * pg);
	if (!err)
		err = rt_region_reg(d, &src, PINNED_RW);
	if (!err) {
		back = malloc(n + 2);
		err = back ? 0 : rt_fail(d, -ENOMEM, "malloc");
	}
	if (!err)
		err = pair_new(d, &p, IBV_QPT_RC, false);
	if (!err) {
		t0 = rt_now_ns();
		imr = ibv_reg_mr(d->pd, NULL, SIZE_MAX, ODP_RW);
		if (!imr)
			err = rt_fail(d, -errno, "ibv_reg_mr(NULL, SIZE_MAX, ON_DEMAND...): %s",
				      strerror(errno));
		else
			rt_ok(d, "implicit ODP MR registered in %.3f ms", (rt_now_ns() - t0) / 1e6);
	}
	if (!err)
		err = odp_state(d, imr, &s0);
	if (!err && (s0.pages_mapped || s0.bookkeeping_bytes))
		err = rt_fail(d, -EIO, "a fresh implicit MR maps %" PRIu64 " pages with %" PRIu64
			      " bytes of bookkeeping, expected none", s0.pages_mapped,
			      s0.bookkeeping_bytes);
	/* The malloc'ed buffer is reached through the implicit MR too */
	if (!err)
		err = write_read(d, &p, imr, &src, low, 4 * pg, 77, n, back, 31,
				 "low memory (64 GiB)");
	if (!err)
		err = write_read(d, &p, imr, &src, high, 4 * pg, pg - 9, n, back, 32,
				 "near the top of the address space");
	if (!err)
		err = write_read(d, &p, imr, &src, cross, 4 * pg, pg + 5, n, back, 33,
				 "across a 1 GiB boundary");
	if (!err)
		err = write_read(d, &p, imr, &src, hole, pg, 0, pg, back, 34,
				 "the page before a hole");
	if (!err)
		err = odp_state(d, imr, &s1);
	if (!err && (s1.pages_mapped < 9 || s1.bookkeeping_bytes > 64 * pg))
		err = rt_fail(d, -EIO, "after traffic in 6 slots: %" PRIu64 " pages mapped, %" PRIu64
			      " bytes of bookkeeping (expected at least 9 and at most %zu)",
			      s1.pages_mapped, s1.bookkeeping_bytes, 64 * pg);
	if (!err)
		rt_ok(d, "after traffic in 6 slots of 1 GiB (one the heap's): %" PRIu64 " pages mapped, %" PRIu64
		      " bytes of bookkeeping, %" PRIu64 " faults, IOVA held %" PRIu64 " bytes",
		      s1.pages_mapped, s1.bookkeeping_bytes, s1.faults, s1.iova_bytes);

	/* A munmap frees its slot's child; new memory there reads right */
	rt_set_case(d, "implicit/remap");
	if (!err && munmap(low, 4 * pg))
		err = rt_fail(d, -errno, "munmap: %s", strerror(errno));
	if (!err) {
		t0 = rt_now_ms();
		do {
			err = odp_state(d, imr, &s2);
		} while (!err && s2.bookkeeping_bytes >= s1.bookkeeping_bytes &&
			 rt_now_ms() - t0 < REAP_WAIT_MS && !usleep(10000));
		if (!err && s2.bookkeeping_bytes >= s1.bookkeeping_bytes)
			err = rt_fail(d, -EIO, "munmap of the only memory of a slot left the bookkeeping at %" PRIu64
				      " bytes after %d ms (its child should be freed)",
				      s2.bookkeeping_bytes, REAP_WAIT_MS);
		if (!err)
			rt_ok(d, "munmap of a slot's memory: bookkeeping %" PRIu64 " -> %" PRIu64
			      " bytes, pages mapped %" PRIu64 " -> %" PRIu64, s1.bookkeeping_bytes,
			      s2.bookkeeping_bytes, s1.pages_mapped, s2.pages_mapped);
	}
	if (!err) {
		low = map_at(d, 64 * GIB, 4);
		err = low ? 0 : -ENOMEM;
	}
	if (!err) {
		rt_fill(low, 4 * pg, 35, 0);
		memset(back, 0, n + 2);
		err = rdma(d, &p, IBV_WR_RDMA_READ, src.mr, src.addr, n, imr, low + 11,
			   IBV_WC_SUCCESS, "READ of new memory");
	}
	if (!err)
		err = rt_check_pat(d, "READ of the new memory at the old address", src.addr, n, 35,
				   11);
	if (!err)
		rt_ok(d, "new memory at the munmapped address: READ through the implicit MR returns it");
	if (!err)
		err = implicit_fork(d, &p, imr, &src, low, 4 * pg, back);
	if (!err)
		err = implicit_processes(d, o);

	/* The hole: a remote access error, on a pair of its own */
	rt_set_case(d, "implicit/hole");
	if (!err)
		err = pair_new(d, &q, IBV_QPT_RC, false);
	if (!err)
		err = rdma(d, &q, IBV_WR_RDMA_WRITE, src.mr, src.addr, 64, imr, hole + pg,
			   IBV_WC_REM_ACCESS_ERR, "WRITE into the hole");

	if (imr && ibv_dereg_mr(imr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the implicit MR: %s", strerror(errno));
	rt_pair_free(&q);
	rt_pair_free(&p);
	rt_region_free(&src);
	free(back);
	if (low)
		munmap(low, 4 * pg);
	if (high)
		munmap(high, 4 * pg);
	if (cross)
		munmap(cross, 4 * pg);
	if (hole) {
		munmap(hole, pg);
		munmap(hole + 2 * pg, pg);
	}
	return err;
}

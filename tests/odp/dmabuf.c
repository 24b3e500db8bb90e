/*
 * rxe-odp-test dmabuf: dma-buf MRs (kernel patch 0020) over a udmabuf of
 * a memfd, registered at an iova unrelated to any address of the process.
 * RDMA READ, WRITE, SEND/RECV and an atomic through them, bytes checked
 * through the memfd's own mapping; a part of the buffer at another iova;
 * the rights of the MR; the MR outlives the file descriptors; bad
 * registrations refused (a table of cases). Needs a provider with
 * ibv_reg_dmabuf_mr (msrxe).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/udmabuf.h>

#include "dmabuf.h"
#include "odp-test.h"

void dmabuf_free(struct dmabuf *b)
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

static int dmabuf_new(struct rt_dev *d, struct dmabuf *b, size_t pages)
{
	struct udmabuf_create create = { 0 };
	int udev, err;

	b->fd = -1;
	b->view = NULL;
	b->len = pages * d->page;
	b->memfd = memfd_create(PROG, MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (b->memfd < 0)
		return rt_fail(d, -errno, "memfd_create: %s", strerror(errno));
	/* udmabuf wants a memfd that cannot shrink */
	if (ftruncate(b->memfd, (off_t)b->len) || fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = rt_fail(d, -errno, "sizing and sealing a memfd of %zu bytes: %s", b->len,
			      strerror(errno));
		goto out;
	}
	udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (udev < 0) {
		err = rt_fail(d, -errno, "open /dev/udmabuf: %s (a kernel with CONFIG_UDMABUF)",
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
		err = rt_fail(d, -err, "UDMABUF_CREATE of %zu bytes: %s", b->len, strerror(err));
		goto out;
	}
	b->view = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	if (b->view == MAP_FAILED) {
		b->view = NULL;
		err = rt_fail(d, -errno, "mmap of the memfd: %s", strerror(errno));
		goto out;
	}
	return 0;
out:
	dmabuf_free(b);
	return err;
}

int dmabuf_reg(struct rt_dev *d, struct ibv_mr **mr, const struct dmabuf *b, size_t offset,
		      size_t len, uint64_t iova, int access, const char *what)
{
	char a[96], prov[512];
	int err;

	*mr = ibv_reg_dmabuf_mr(d->pd, offset, len, iova, b->fd, access);
	if (*mr)
		return 0;
	err = errno;
	return rt_fail(d, -err, "ibv_reg_dmabuf_mr(offset %#zx, %zu bytes, iova %#" PRIx64 ", %s) of %s: %s (provider: %s)",
		       offset, len, iova, rt_access_str(access, a, sizeof(a)), what, strerror(err),
		       loaded_provider(prov, sizeof(prov)));
}

/* One SEND of @len bytes at @addr (in the MR of @lkey) from qp[0], completed successfully */
static int send_one(struct rt_dev *d, struct rt_pair *p, uint32_t lkey, uint64_t addr, size_t len,
		    const char *what)
{
	struct ibv_sge sge = { .addr = addr, .length = (uint32_t)len, .lkey = lkey };
	struct ibv_send_wr wr = { .wr_id = 0x70, .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND };
	struct ibv_wc wc;
	int err = rt_exec_wr(d, p, &wr, &wc, what);

	return err ? err : rt_expect_status(d, &wc, IBV_WC_SUCCESS, what);
}

/* RDMA READ of all of the MR, which holds pattern 101 */
static int dmabuf_read(struct rt_dev *d, struct dm_ctx *x)
{
	struct rt_region *local = &x->local;
	int err;

	rt_set_case(d, "dmabuf/read");
	memset(local->addr, 0, local->len);
	err = rdma(d, &x->p, IBV_WR_RDMA_READ, local->mr, local->addr, x->b.len, x->mr,
		   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS, "all of a dma-buf MR");
	if (!err)
		err = rt_check_pat(d, "RDMA READ of the dma-buf MR", local->addr, x->b.len, 101, 0);
	if (!err)
		rt_ok(d, "RDMA READ of %zu bytes at iova %#llx: the buffer's bytes", x->b.len,
		      DMABUF_IOVA);
	return err;
}

/* An unaligned RDMA WRITE over 5 pages lands in the buffer, neighbours intact */
static int dmabuf_write(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page, len = x->b.len, woff = pg + 123, wlen = 3 * pg + 456;
	struct rt_region *local = &x->local;
	uint8_t *view = x->b.view;
	int err;

	rt_set_case(d, "dmabuf/write");
	rt_fill(local->addr, local->len, 202, 0);
	err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, local->mr, local->addr, wlen, x->mr,
		   (void *)(uintptr_t)(DMABUF_IOVA + woff), IBV_WC_SUCCESS,
		   "into a dma-buf MR, unaligned, over 5 pages");
	if (!err)
		err = rt_check_pat(d, "buffer after RDMA WRITE (the written bytes)", view + woff, wlen,
				   202, 0);
	if (!err)
		err = rt_check_pat(d, "buffer after RDMA WRITE (bytes before)", view, woff, 101, 0);
	if (!err)
		err = rt_check_pat(d, "buffer after RDMA WRITE (bytes after)", view + woff + wlen,
				   len - woff - wlen, 101, woff + wlen);
	if (!err)
		rt_ok(d, "RDMA WRITE of %zu bytes at offset %zu: landed in the buffer, neighbours intact",
		      wlen, woff);
	return err;
}

/* A SEND from the dma-buf MR across page boundaries, received right */
static int dmabuf_send(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page;
	struct rt_region *local = &x->local;
	struct ibv_wc wc;
	int err;

	rt_fill(x->b.view, x->b.len, 303, 0);
	memset(local->addr, 0, local->len);
	err = rt_post_recv(d, &x->p, local->mr, local->addr + 7, 2 * pg, 0x71);
	if (!err)
		err = send_one(d, &x->p, x->mr->lkey, DMABUF_IOVA + pg - 100, 2 * pg,
			       "SEND from a dma-buf MR");
	if (!err)
		err = rt_expect_recv(d, &x->p, 0x71, (uint32_t)(2 * pg), &wc,
				     "RECV of a SEND from a dma-buf MR");
	if (!err)
		err = rt_check_landed(d, "RECV of a SEND from a dma-buf MR", local->addr, local->len,
				      7, 2 * pg, 303, pg - 100);
	return err;
}

/* A RECV into the dma-buf MR across page boundaries: the buffer holds the message */
static int dmabuf_recv(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page;
	struct rt_region *local = &x->local;
	struct ibv_wc wc;
	int err;

	rt_fill(local->addr, local->len, 404, 0);
	memset(x->b.view, 0, x->b.len);
	err = rt_post_recv(d, &x->p, x->mr, (void *)(uintptr_t)(DMABUF_IOVA + 2 * pg + 9), pg + 11,
			   0x73);
	if (!err)
		err = send_one(d, &x->p, local->mr->lkey, (uintptr_t)local->addr, pg + 11,
			       "SEND into a dma-buf MR");
	if (!err)
		err = rt_expect_recv(d, &x->p, 0x73, (uint32_t)(pg + 11), &wc,
				     "RECV into a dma-buf MR");
	if (!err)
		err = rt_check_landed(d, "buffer after a RECV into the dma-buf MR", x->b.view, x->b.len,
				      2 * pg + 9, pg + 11, 404, 0);
	return err;
}

/* FETCH_AND_ADD on a word of the dma-buf MR: old value fetched, the word added to */
static int dmabuf_atomic(struct rt_dev *d, struct dm_ctx *x)
{
	const uint64_t v = 0x1111222233334444ULL, add = 0x1234;
	const size_t off = 5 * d->page + 64;
	uint64_t old, now, *word = (uint64_t *)(void *)(x->b.view + off);
	int err;

	rt_set_case(d, "dmabuf/atomic");
	*word = v;
	err = rdma_atomic(d, &x->p, IBV_WR_ATOMIC_FETCH_AND_ADD, x->local.mr, x->local.addr, x->mr,
			  (void *)(uintptr_t)(DMABUF_IOVA + off), add, 0, IBV_WC_SUCCESS,
			  "on a word of a dma-buf MR");
	if (err)
		return err;
	memcpy(&old, x->local.addr, sizeof(old));
	now = *word;
	if (old != v || now != v + add)
		return rt_fail(d, -EIO, "FETCH_AND_ADD of %#" PRIx64 ": fetched %#" PRIx64 ", word now %#" PRIx64 "; expected %#" PRIx64 " and %#" PRIx64,
			       add, old, now, v, v + add);
	rt_ok(d, "FETCH_AND_ADD on the dma-buf MR: old value fetched, the buffer's word added to");
	return 0;
}

/* Data through the dma-buf MR over the whole buffer, which holds pattern 101 */
int dmabuf_data(struct rt_dev *d, struct dm_ctx *x)
{
	int err;

	err = dmabuf_read(d, x);
	if (!err)
		err = dmabuf_write(d, x);
	if (!err) {
		rt_set_case(d, "dmabuf/send-recv");
		err = dmabuf_send(d, x);
	}
	if (!err)
		err = dmabuf_recv(d, x);
	if (!err)
		rt_ok(d, "SEND from and RECV into the dma-buf MR across page boundaries: bytes right");
	if (!err)
		err = dmabuf_atomic(d, x);
	return err;
}

/* After a remote access error: the QPs are in the error state, make new ones */
int renew_pair(struct rt_dev *d, struct rt_pair *p)
{
	rt_pair_free(p);
	return pair_new(d, p, IBV_QPT_RC, false);
}

/* A registration of pages 2-4 of the buffer at another iova */
static int dmabuf_part(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page, off = 2 * pg + 100, len = 2 * pg;
	const uint64_t iova = 0x7770000000ULL + 100;
	struct rt_region *local = &x->local;
	struct ibv_mr *part = NULL;
	int err;

	rt_set_case(d, "dmabuf/part");
	rt_fill(x->b.view, x->b.len, 505, 0);
	err = dmabuf_reg(d, &part, &x->b, off, len, iova, PINNED_RW, "a part of the udmabuf");
	if (!err) {
		memset(local->addr, 0, local->len);
		err = rdma(d, &x->p, IBV_WR_RDMA_READ, local->mr, local->addr, len, part,
			   (void *)(uintptr_t)iova, IBV_WC_SUCCESS, "all of a part MR");
	}
	if (!err)
		err = rt_check_pat(d, "RDMA READ of the part MR", local->addr, len, 505, off);
	if (!err)
		rt_ok(d, "buffer offset %#zx registered at iova %#" PRIx64 ": RDMA READ there gives those bytes",
		      off, iova);
	if (!err)
		err = rdma(d, &x->p, IBV_WR_RDMA_READ, local->mr, local->addr, 64, part,
			   (void *)(uintptr_t)(iova + len - 32), IBV_WC_REM_ACCESS_ERR,
			   "past the end of a part MR");
	if (part)
		ibv_dereg_mr(part);
	return err ? err : renew_pair(d, &x->p);
}

/* A WRITE into a REMOTE_READ-only dma-buf MR fails and changes nothing */
static int dmabuf_rights(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page;
	struct rt_region *local = &x->local;
	struct ibv_mr *ro = NULL;
	int err;

	rt_set_case(d, "dmabuf/rights");
	err = dmabuf_reg(d, &ro, &x->b, 0, x->b.len, DMABUF_IOVA, IBV_ACCESS_REMOTE_READ,
			 "remote read only");
	if (!err)
		err = rdma(d, &x->p, IBV_WR_RDMA_READ, local->mr, local->addr, pg, ro,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS,
			   "from a read-only dma-buf MR");
	if (!err)
		err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, local->mr, local->addr, pg, ro,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_REM_ACCESS_ERR,
			   "into a read-only dma-buf MR");
	if (!err)
		err = rt_check_pat(d, "memfd after a refused RDMA WRITE", x->b.view, x->b.len, 505, 0);
	if (ro)
		ibv_dereg_mr(ro);
	return err ? err : renew_pair(d, &x->p);
}

/* The MR holds the buffer: it works after every file descriptor and the view are gone */
static int dmabuf_outlives(struct rt_dev *d, struct dm_ctx *x)
{
	const size_t pg = d->page;
	struct rt_region *local = &x->local;
	struct dmabuf b;
	struct ibv_mr *mr = NULL;
	int err;

	rt_set_case(d, "dmabuf/outlives-fds");
	err = dmabuf_new(d, &b, 4);
	if (!err) {
		rt_fill(b.view, b.len, 606, 0);
		err = dmabuf_reg(d, &mr, &b, 0, b.len, DMABUF_IOVA, PINNED_RW, "a 4-page udmabuf");
	}
	dmabuf_free(&b);
	if (!err) {
		rt_fill(local->addr, local->len, 707, 0);
		err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, local->mr, local->addr, pg, mr,
			   (void *)(uintptr_t)(DMABUF_IOVA + 2 * pg), IBV_WC_SUCCESS,
			   "into a dma-buf MR whose fds are closed");
	}
	if (!err) {
		memset(local->addr, 0, local->len);
		err = rdma(d, &x->p, IBV_WR_RDMA_READ, local->mr, local->addr, 4 * pg, mr,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS,
			   "from a dma-buf MR whose fds are closed");
	}
	if (!err)
		err = rt_check_pat(d, "READ after the fds closed (pages 0-1)", local->addr, 2 * pg,
				   606, 0);
	if (!err)
		err = rt_check_pat(d, "READ after the fds closed (page 2, written)",
				   local->addr + 2 * pg, pg, 707, 0);
	if (!err)
		err = rt_check_pat(d, "READ after the fds closed (page 3)", local->addr + 3 * pg, pg,
				   606, 3 * pg);
	if (!err)
		rt_ok(d, "memfd, udmabuf fd and view closed: the MR still reads and writes the buffer");
	if (mr && ibv_dereg_mr(mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the dma-buf MR: %s", strerror(errno));
	return err;
}

/* ibv_reg_dmabuf_mr as @c says is refused with errno c->want */
int dmabuf_bad(struct rt_dev *d, const struct bad_dmabuf *c)
{
	struct ibv_mr *mr;

	errno = 0;
	mr = ibv_reg_dmabuf_mr(d->pd, c->offset, c->len, c->iova, c->fd, c->access);
	if (mr) {
		ibv_dereg_mr(mr);
		return rt_fail(d, -EIO, "ibv_reg_dmabuf_mr (%s) succeeded, expected %s", c->what,
			       strerror(c->want));
	}
	if (errno != c->want)
		return rt_fail(d, -EIO, "ibv_reg_dmabuf_mr (%s): %s, expected %s", c->what,
			       strerror(errno), strerror(c->want));
	rt_ok(d, "ibv_reg_dmabuf_mr (%s): %s, as expected", c->what, strerror(c->want));
	return 0;
}

static int dmabuf_bad_input(struct rt_dev *d, struct dmabuf *b)
{
	const size_t pg = d->page, len = b->len;
	const uint64_t iova = DMABUF_IOVA;
	const int rw = PINNED_RW;
	const struct bad_dmabuf cases[] = {
		{ "fd -1", -1, 0, pg, iova, rw, EBADF },
		{ "a memfd, not a dma-buf", b->memfd, 0, pg, iova, rw, EINVAL },
		{ "one page more than the buffer", b->fd, 0, len + pg, iova, rw, EINVAL },
		{ "offset at the end of the buffer", b->fd, len, 1, iova, rw, EINVAL },
		{ "offset + length wraps", b->fd, SIZE_MAX - pg + 1, 2 * pg, iova, rw, EINVAL },
		{ "length 0", b->fd, 0, 0, iova, rw, EINVAL },
		{ "iova and offset differ within the page", b->fd, 0, pg, iova + 100, rw, EINVAL },
		{ "ON_DEMAND: uverbs takes no ODP flag for dma-buf MRs", b->fd, 0, pg, iova, ODP_RW,
		  EINVAL },
	};
	size_t i;
	int err = 0;

	rt_set_case(d, "dmabuf/bad-input");
	for (i = 0; i < RT_ARRAY_SIZE(cases) && !err; i++)
		err = dmabuf_bad(d, &cases[i]);
	return err;
}

/* The udmabuf of DMABUF_PAGES holding pattern 101, registered at DMABUF_IOVA */
static int dmabuf_register(struct rt_dev *d, struct dm_ctx *x)
{
	int err;

	rt_set_case(d, "dmabuf/register");
	err = dmabuf_new(d, &x->b, DMABUF_PAGES);
	if (!err)
		err = region_new(d, &x->local, DMABUF_PAGES, PINNED_RW, -1);
	if (!err)
		err = pair_new(d, &x->p, IBV_QPT_RC, false);
	if (!err) {
		rt_fill(x->b.view, x->b.len, 101, 0);
		err = dmabuf_reg(d, &x->mr, &x->b, 0, x->b.len, DMABUF_IOVA, PINNED_RW, "a udmabuf");
	}
	if (!err)
		rt_ok(d, "a %zu-byte udmabuf registered at iova %#llx", x->b.len, DMABUF_IOVA);
	return err;
}

int cmd_dmabuf(struct rt_dev *d, const struct options *o)
{
	struct dm_ctx x = { .b = { .memfd = -1, .fd = -1 } };
	int err;

	(void)o;
	err = dmabuf_register(d, &x);
	if (!err)
		err = dmabuf_data(d, &x);
	if (x.mr && ibv_dereg_mr(x.mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the dma-buf MR: %s", strerror(errno));
	if (!err)
		err = dmabuf_part(d, &x);
	if (!err)
		err = dmabuf_rights(d, &x);
	if (!err)
		err = dmabuf_outlives(d, &x);
	if (!err)
		err = dmabuf_bad_input(d, &x.b);
	rt_pair_free(&x.p);
	rt_region_free(&x.local);
	dmabuf_free(&x.b);
	return err;
}

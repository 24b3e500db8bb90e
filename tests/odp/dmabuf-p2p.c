/*
 * rxe-odp-test dmabuf-p2p: dma-buf MRs over P2P memory without struct
 * pages (kernel patches 0030-0037): DMABUF_PAGES pages of BAR 2 of the
 * function bound to pci_bar_dmabuf, exported as a dma-buf through
 * libibverbs-ext (ibvx_open_bar_dmabuf()) and registered with
 * ibv_reg_dmabuf_mr. The dmabuf data cases run over it, bytes checked
 * through the dma-buf's mmap and in the BAR's backing file on the host;
 * a read-only export refuses write access; the memory revoked under the
 * MR (the exporting file closed) makes work requests fail and keeps the
 * file unchanged; bad registrations are refused. In rxe's IOMMU mode the
 * BAR is also mapped for the network device's PCI function, which in the
 * test VM sits behind the same PCIe switch as the BAR (bus addresses).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs_ext.h>

#include "dmabuf.h"
#include "odp-test.h"

/* Where in BAR 2 the buffer is: away from its first and last pages */
#define P2P_BAR 2
#define P2P_OFFSET 0x200000ULL

/*
 * Export @pages pages of BAR 2 at P2P_OFFSET of the function at @pci_addr
 * through libibverbs-ext; the view is its mmap
 */
static int p2p_new(struct rt_dev *d, struct dmabuf *b, const char *pci_addr, size_t pages,
		   unsigned int flags)
{
	int prot = PROT_READ | (flags & IBVX_BAR_DMABUF_READ_ONLY ? 0 : PROT_WRITE);
	struct ibvx_bar_dmabuf bar;
	struct ibvx_error e;
	int ret;

	b->fd = -1;
	b->memfd = -1;
	b->view = NULL;
	b->len = pages * d->page;
	ret = ibvx_open_bar_dmabuf(&bar, pci_addr, P2P_BAR, P2P_OFFSET, b->len, flags, &e);
	if (ret)
		return rt_fail(d, -ret, "ibvx_open_bar_dmabuf: %s", e.message);
	/* the device's file: closing it revokes the dma-buf */
	b->memfd = bar.device_fd;
	b->fd = bar.fd;
	b->view = mmap(NULL, b->len, prot, MAP_SHARED, b->fd, 0);
	if (b->view == MAP_FAILED) {
		b->view = NULL;
		return rt_fail(d, -errno, "mmap of the BAR dma-buf: %s", strerror(errno));
	}
	return 0;
}

/* The host's file holds what the mapping shows */
static int check_file(struct rt_dev *d, struct dm_ctx *x, const char *file)
{
	uint8_t *host = malloc(x->b.len);
	int err;

	if (!host)
		return rt_fail(d, -ENOMEM, "no memory for a copy of the buffer");
	err = rt_read_file(d, file, P2P_OFFSET, host, x->b.len);
	if (!err)
		err = rt_check_same(d, "the backing file against the BAR mapping", host, x->b.view,
				    x->b.len);
	free(host);
	if (!err)
		rt_ok(d, "the host's file %s holds the bytes the MR moved", file);
	return err;
}

/* A read-only export: REMOTE_WRITE refused, REMOTE_READ served */
static int p2p_read_only(struct rt_dev *d, struct dm_ctx *x, const char *pci_addr)
{
	struct dmabuf ro = { .memfd = -1, .fd = -1 };
	struct ibv_mr *mr = NULL;
	struct bad_dmabuf c;
	int err;

	rt_set_case(d, "dmabuf-p2p/read-only");
	err = p2p_new(d, &ro, pci_addr, 2, IBVX_BAR_DMABUF_READ_ONLY);
	if (!err) {
		c = (struct bad_dmabuf){ "REMOTE_WRITE on a read-only export", ro.fd, 0, ro.len,
					 DMABUF_IOVA, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
					 EACCES };
		err = dmabuf_bad(d, &c);
	}
	if (!err)
		err = dmabuf_reg(d, &mr, &ro, 0, ro.len, DMABUF_IOVA, IBV_ACCESS_REMOTE_READ,
				 "a read-only BAR export");
	if (!err) {
		memset(x->local.addr, 0, ro.len);
		err = rdma(d, &x->p, IBV_WR_RDMA_READ, x->local.mr, x->local.addr, ro.len, mr,
			   (void *)(uintptr_t)DMABUF_IOVA, IBV_WC_SUCCESS,
			   "from a read-only BAR export");
	}
	if (!err)
		err = rt_check_same(d, "RDMA READ of a read-only export", x->local.addr, ro.view,
				    ro.len);
	if (!err)
		rt_ok(d, "a read-only export registers for REMOTE_READ and reads right");
	if (mr)
		ibv_dereg_mr(mr);
	dmabuf_free(&ro);
	return err;
}

/*
 * Revoke the memory under the MR: the exporting file closed while WRITEs
 * into the MR are queued, then a WRITE into and a SEND from it. Every work
 * request after the revocation fails; the backing file keeps what it held.
 */
static int p2p_revoke(struct rt_dev *d, struct dm_ctx *x, const char *file)
{
	const size_t pg = d->page, n = DMABUF_PAGES;
	uint8_t *before = malloc(x->b.len), *after = malloc(x->b.len);
	struct ibv_sge sge[DMABUF_PAGES];
	struct ibv_send_wr wr[DMABUF_PAGES], *bad;
	struct ibv_wc wc;
	size_t i, ok = 0, failed = 0;
	bool seen_error = false;
	int err;

	rt_set_case(d, "dmabuf-p2p/revoke");
	if (!before || !after) {
		err = rt_fail(d, -ENOMEM, "no memory for copies of the buffer");
		goto out;
	}
	rt_fill(x->local.addr, x->local.len, 909, 0);
	memset(wr, 0, sizeof(wr));
	for (i = 0; i < n; i++) {
		sge[i] = (struct ibv_sge){ .addr = (uintptr_t)x->local.addr + i * pg,
					   .length = (uint32_t)pg, .lkey = x->local.mr->lkey };
		wr[i].wr_id = 0x900 + i;
		wr[i].sg_list = &sge[i];
		wr[i].num_sge = 1;
		wr[i].opcode = IBV_WR_RDMA_WRITE;
		wr[i].send_flags = IBV_SEND_SIGNALED;
		wr[i].wr.rdma.remote_addr = DMABUF_IOVA + i * pg;
		wr[i].wr.rdma.rkey = x->mr->rkey;
		wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
	}
	/* pattern 909 may land before the revocation, page by page */
	if (ibv_post_send(x->p.qp[0], wr, &bad)) {
		err = rt_fail(d, -errno, "ibv_post_send of %zu WRITEs: %s", n, strerror(errno));
		goto out;
	}
	close(x->b.memfd);
	x->b.memfd = -1;
	for (i = 0; i < n; i++) {
		err = rt_wait_wc(d, &x->p, x->p.scq, &wc, "a WRITE queued across the revocation");
		if (err)
			goto out;
		if (wc.status == IBV_WC_SUCCESS && !seen_error) {
			ok++;
			continue;
		}
		seen_error = true;
		failed++;
		if (wc.status != IBV_WC_REM_ACCESS_ERR && wc.status != IBV_WC_WR_FLUSH_ERR) {
			err = rt_fail(d, -EIO, "WRITE %zu after the revocation: %s, expected remote access or flush error",
				      i, ibv_wc_status_str(wc.status));
			goto out;
		}
	}
	rt_ok(d, "%zu WRITEs queued, the exporting file closed: %zu completed before, %zu failed after",
	      n, ok, failed);
	err = renew_pair(d, &x->p);
	if (!err)
		err = rt_read_file(d, file, P2P_OFFSET, before, x->b.len);
	rt_fill(x->local.addr, x->local.len, 910, 0);
	if (!err)
		err = rdma(d, &x->p, IBV_WR_RDMA_WRITE, x->local.mr, x->local.addr, 2 * pg, x->mr,
			   (void *)(uintptr_t)(DMABUF_IOVA + 100), IBV_WC_REM_ACCESS_ERR,
			   "into a revoked BAR dma-buf MR");
	if (!err)
		err = renew_pair(d, &x->p);
	if (!err) {
		struct ibv_sge s = { .addr = DMABUF_IOVA, .length = (uint32_t)pg,
				     .lkey = x->mr->lkey };
		struct ibv_send_wr w = { .wr_id = 0x9ff, .sg_list = &s, .num_sge = 1,
					 .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED };

		err = rt_post_recv(d, &x->p, x->local.mr, x->local.addr, pg, 0x9fe);
		if (!err)
			err = rt_exec_wr(d, &x->p, &w, &wc, "SEND from a revoked BAR dma-buf MR");
		if (!err)
			err = rt_expect_status(d, &wc, IBV_WC_LOC_PROT_ERR,
					       "SEND from a revoked BAR dma-buf MR");
		if (!err)
			rt_ok(d, "SEND from the revoked MR: %s", ibv_wc_status_str(wc.status));
	}
	if (!err)
		err = rt_read_file(d, file, P2P_OFFSET, after, x->b.len);
	if (!err)
		err = rt_check_same(d, "the backing file after WRITEs into the revoked MR", after,
				    before, x->b.len);
	if (!err)
		rt_ok(d, "nothing reached the backing file after the revocation");
	if (!err)
		err = renew_pair(d, &x->p);
out:
	free(before);
	free(after);
	return err;
}

static int p2p_bad_input(struct rt_dev *d, struct dmabuf *b)
{
	const size_t pg = d->page, len = b->len;
	const uint64_t iova = DMABUF_IOVA;
	const int rw = PINNED_RW;
	int closed = dup(b->fd);
	const struct bad_dmabuf cases[] = {
		{ "fd -1", -1, 0, pg, iova, rw, EBADF },
		{ "the exporting device's file, not a dma-buf", b->memfd, 0, pg, iova, rw, EINVAL },
		{ "a closed fd", closed, 0, pg, iova, rw, EBADF },
		{ "one page more than the buffer", b->fd, 0, len + pg, iova, rw, EINVAL },
		{ "offset at the end of the buffer", b->fd, len, 1, iova, rw, EINVAL },
		{ "offset + length wraps", b->fd, SIZE_MAX - pg + 1, 2 * pg, iova, rw, EINVAL },
		{ "length 0", b->fd, 0, 0, iova, rw, EINVAL },
		{ "ON_DEMAND with a dma-buf", b->fd, 0, pg, iova, ODP_RW, EINVAL },
	};
	size_t i;
	int err = 0;

	rt_set_case(d, "dmabuf-p2p/bad-input");
	if (closed >= 0)
		close(closed);
	for (i = 0; i < RT_ARRAY_SIZE(cases) && !err; i++)
		err = dmabuf_bad(d, &cases[i]);
	return err;
}

int cmd_dmabuf_p2p(struct rt_dev *d, const struct options *o)
{
	struct dm_ctx x = { .b = { .memfd = -1, .fd = -1 } };
	int err;

	rt_set_case(d, "dmabuf-p2p/register");
	err = p2p_new(d, &x.b, o->p2p_addr, DMABUF_PAGES, 0);
	if (!err)
		err = region_new(d, &x.local, DMABUF_PAGES, PINNED_RW, -1);
	if (!err)
		err = pair_new(d, &x.p, IBV_QPT_RC, false);
	if (!err)
		err = p2p_bad_input(d, &x.b);
	if (!err) {
		rt_set_case(d, "dmabuf-p2p/register");
		rt_fill(x.b.view, x.b.len, 101, 0);
		err = dmabuf_reg(d, &x.mr, &x.b, 0, x.b.len, DMABUF_IOVA, PINNED_RW,
				 "a BAR range");
	}
	if (!err)
		rt_ok(d, "%zu bytes of BAR %d at %#llx registered at iova %#llx", x.b.len, P2P_BAR,
		      P2P_OFFSET, DMABUF_IOVA);
	if (!err)
		err = dmabuf_data(d, &x);
	if (!err)
		err = check_file(d, &x, o->p2p_file);
	if (!err)
		err = p2p_read_only(d, &x, o->p2p_addr);
	if (!err)
		err = p2p_revoke(d, &x, o->p2p_file);
	if (x.mr && ibv_dereg_mr(x.mr) && !err)
		err = rt_fail(d, -errno, "ibv_dereg_mr of the revoked MR: %s", strerror(errno));
	rt_pair_free(&x.p);
	rt_region_free(&x.local);
	dmabuf_free(&x.b);
	return err;
}

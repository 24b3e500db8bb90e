/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the dma-buf MR commands share: dmabuf.c (a udmabuf of a memfd) and
 * dmabuf-p2p.c (a BAR range exported by pci_bar_dmabuf) run the same data
 * cases over their buffers.
 */
#ifndef DMABUF_H
#define DMABUF_H

#include <stddef.h>
#include <stdint.h>

#include "rdmatest.h"

/* The dma-buf MRs' iova: unrelated to any address of this process */
#define DMABUF_IOVA 0x10000000ULL
#define DMABUF_PAGES 8

/*
 * A dma-buf and a CPU view of its bytes: a udmabuf over a memfd (memfd is
 * the memfd), or a BAR range (memfd is the exporting device's file)
 */
struct dmabuf {
	int memfd, fd;
	uint8_t *view;
	size_t len;
};

/* What the dmabuf cases share */
struct dm_ctx {
	struct dmabuf b;
	struct rt_region local;	/* pinned, the other side of every transfer */
	struct rt_pair p;
	struct ibv_mr *mr;	/* all of b at DMABUF_IOVA */
};

/* A dma-buf registration that must be refused */
struct bad_dmabuf {
	const char *what;
	int fd;
	size_t offset, len;
	uint64_t iova;
	int access;
	int want;		/* errno */
};

/* Unmap the view and close both files (the ones that are open) */
void dmabuf_free(struct dmabuf *b);
int dmabuf_reg(struct rt_dev *d, struct ibv_mr **mr, const struct dmabuf *b, size_t offset,
	       size_t len, uint64_t iova, int access, const char *what);
/* RDMA READ, WRITE, SEND/RECV and an atomic through x->mr (all of x->b) */
int dmabuf_data(struct rt_dev *d, struct dm_ctx *x);
/* ibv_reg_dmabuf_mr as @c says is refused with errno c->want */
int dmabuf_bad(struct rt_dev *d, const struct bad_dmabuf *c);
/* After a remote access error: the QPs are in the error state, make new ones */
int renew_pair(struct rt_dev *d, struct rt_pair *p);

#endif

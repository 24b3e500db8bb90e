/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libibverbs-ext: calls stock libibverbs lacks, for the uverbs extension of
 * the rdma-memstack kernel series (per-MR ODP state), ODP registration
 * helpers, and PCI BAR ranges as dma-bufs for ibv_reg_dmabuf_mr(). Works
 * with an unchanged libibverbs; see libibverbs-ext(7).
 */
#ifndef INFINIBAND_VERBS_EXT_H
#define INFINIBAND_VERBS_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Why a call failed: the errno value it returned and a sentence saying what
 * was wrong and what to do. Every call takes an optional pointer to one.
 */
struct ibvx_error {
	int code;
	char message[256];
};

enum ibvx_mr_odp_flags {
	/* IOVA space is held for the whole MR; pages are linked into it */
	IBVX_MR_ODP_IOVA_PER_MR = 1 << 0,
};

/* What an ODP MR maps and has done (see ibvx_query_mr_odp(3)) */
struct ibvx_mr_odp_state {
	uint64_t flags;			/* enum ibvx_mr_odp_flags */
	uint64_t iova_bytes;		/* IOVA space held for the MR */
	uint64_t page_size;		/* bytes per entry of the page list */
	uint64_t pages_mapped;		/* entries mapped now */
	uint64_t faults;		/* calls that mapped pages */
	uint64_t fault_errors;		/* accesses that failed to fault */
	uint64_t invalidations;		/* unmaps that found pages mapped */
	uint64_t prefetches;		/* prefetched ranges */
	uint64_t bookkeeping_bytes;	/* kernel memory tracking the MR */
};

enum ibvx_prefetch {
	IBVX_PREFETCH_NONE,
	IBVX_PREFETCH_READ,	/* fault pages in for reading */
	IBVX_PREFETCH_WRITE,	/* fault pages in for writing */
	IBVX_PREFETCH_NO_FAULT,	/* map only pages the CPU has mapped */
};

/* A range of a PCI BAR as a dma-buf (see ibvx_open_bar_dmabuf(3)) */
struct ibvx_bar_dmabuf {
	int fd;			/* the dma-buf: ibv_reg_dmabuf_mr(), mmap() */
	int device_fd;		/* the exporting device's file; closing it
				 * revokes the dma-buf */
	uint64_t length;	/* bytes in the dma-buf */
};

enum ibvx_bar_dmabuf_flags {
	IBVX_BAR_DMABUF_READ_ONLY = 1 << 0,	/* importers may only read */
};

int ibvx_probe(struct ibv_context *context, struct ibvx_error *err);
int ibvx_query_mr_odp(struct ibv_mr *mr, struct ibvx_mr_odp_state *state,
		      size_t state_size, struct ibvx_error *err);
struct ibv_mr *ibvx_reg_odp_mr(struct ibv_pd *pd, void *addr, size_t length,
			       unsigned int access, enum ibvx_prefetch prefetch,
			       struct ibvx_error *err);
int ibvx_open_bar_dmabuf(struct ibvx_bar_dmabuf *buf, const char *pci_addr,
			 unsigned int bar, uint64_t offset, uint64_t length,
			 unsigned int flags, struct ibvx_error *err);
int ibvx_close_bar_dmabuf(struct ibvx_bar_dmabuf *buf);

#ifdef __cplusplus
}
#endif

#endif /* INFINIBAND_VERBS_EXT_H */

/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The part of the kernel's uverbs ioctl ABI that Debian's headers do not
 * have yet: the method the rdma-memstack series adds to the MR object
 * (include/uapi/rdma/ib_user_ioctl_{cmds,verbs}.h of kernel/patches).
 */
#ifndef IBVX_UVERBS_H
#define IBVX_UVERBS_H

#include <stdint.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/rdma_user_ioctl_cmds.h>

/* The method comes right after UVERBS_METHOD_REG_DMABUF_MR */
_Static_assert(UVERBS_METHOD_REG_DMABUF_MR == 4, "uverbs MR method ids moved");
enum { IBVX_METHOD_QUERY_MR_ODP = 5 };

enum {
	IBVX_ATTR_QUERY_MR_ODP_HANDLE,
	IBVX_ATTR_QUERY_MR_ODP_RESP,
};

/* struct ib_uverbs_mr_odp_state */
struct ibvx_uverbs_mr_odp_state {
	uint64_t flags;
	uint64_t iova_bytes;
	uint64_t page_size;
	uint64_t pages_mapped;
	uint64_t faults;
	uint64_t fault_errors;
	uint64_t invalidations;
	uint64_t prefetches;
	uint64_t bookkeeping_bytes;
};

#endif

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

/*
 * UVERBS_METHOD_QUERY_MR_ODP: id 20 of the MR object, the last the uverbs
 * core can hold, clear of the ids mainline gives its MR methods in order
 * (5 is UVERBS_METHOD_REG_MR there). A kernel without the series answers
 * EPROTONOSUPPORT for it.
 */
enum { IBVX_METHOD_QUERY_MR_ODP = 20 };

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

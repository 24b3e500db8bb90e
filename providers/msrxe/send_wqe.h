/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Filling rxe send WQEs, shared by ibv_post_send and the ibv_wr_* API. */
#ifndef MSRXE_SEND_WQE_H
#define MSRXE_SEND_WQE_H

#include <errno.h>
#include <string.h>

#include "msrxe.h"

/*
 * What ibv_post_send and the ibv_wr_* builders both refuse (EINVAL): an
 * atomic needs an 8-byte aligned remote address and 8 local bytes (at
 * least 8 for compare-swap and fetch-add, exactly 8 for atomic write), and
 * a UD send needs an AH.
 */
static inline int check_send_target(enum ibv_qp_type type, uint32_t opcode,
				    uint64_t remote_addr, uint64_t length,
				    int has_ah)
{
	switch (opcode) {
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		if (length < 8 || (remote_addr & 7))
			return EINVAL;
		break;
	case IBV_WR_ATOMIC_WRITE:
		if (length != 8 || (remote_addr & 7))
			return EINVAL;
		break;
	default:
		break;
	}
	if (type == IBV_QPT_UD && !has_ah)
		return EINVAL;
	return 0;
}

/* Start a WQE: clear the fixed part, set what every opcode has. */
static inline void wqe_start(struct msrxe_qp *qp, struct rxe_send_wqe *wqe,
			     uint32_t opcode, uint64_t wr_id, uint32_t flags)
{
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr.wr_id = wr_id;
	wqe->wr.opcode = opcode;
	wqe->wr.send_flags = flags;
	wqe->ssn = qp->ssn++;
}

static inline void wqe_rdma(struct rxe_send_wqe *wqe, uint32_t rkey,
			    uint64_t remote_addr)
{
	wqe->wr.wr.rdma.remote_addr = remote_addr;
	wqe->wr.wr.rdma.rkey = rkey;
	wqe->iova = remote_addr;
}

static inline void wqe_atomic(struct rxe_send_wqe *wqe, uint32_t rkey,
			      uint64_t remote_addr, uint64_t compare_add,
			      uint64_t swap)
{
	wqe->wr.wr.atomic.remote_addr = remote_addr;
	wqe->wr.wr.atomic.compare_add = compare_add;
	wqe->wr.wr.atomic.swap = swap;
	wqe->wr.wr.atomic.rkey = rkey;
	wqe->iova = remote_addr;
}

static inline void wqe_bind(struct rxe_send_wqe *wqe, const struct ibv_mw *mw,
			    uint32_t new_rkey,
			    const struct ibv_mw_bind_info *info)
{
	wqe->wr.wr.mw.addr = info->addr;
	wqe->wr.wr.mw.length = info->length;
	wqe->wr.wr.mw.mr_lkey = info->mr->lkey;
	wqe->wr.wr.mw.mw_rkey = mw->rkey;
	wqe->wr.wr.mw.rkey = new_rkey;
	wqe->wr.wr.mw.access = info->mw_access_flags;
}

static inline void wqe_ud(struct rxe_send_wqe *wqe, const struct ibv_ah *ah,
			  uint32_t remote_qpn, uint32_t remote_qkey)
{
	wqe->wr.wr.ud.remote_qpn = remote_qpn;
	wqe->wr.wr.ud.remote_qkey = remote_qkey;
	wqe->wr.wr.ud.ah_num = msrxe_container_of(ah, struct msrxe_ah, ibv_ah)->ah_num;
}

static inline void wqe_set_length(struct rxe_send_wqe *wqe, uint32_t length)
{
	wqe->dma.length = length;
	wqe->dma.resid = length;
}

#endif

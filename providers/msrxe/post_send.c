// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibv_post_send: WQEs go into the SQ ring, then one empty POST_SEND command
 * tells rxe to look at the ring (the doorbell).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "msrxe.h"
#include "ring.h"
#include "send_wqe.h"

int msrxe_ring_doorbell(struct ibv_qp *qp)
{
	struct ib_uverbs_post_send_resp resp;
	struct ibv_post_send cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.command = IB_USER_VERBS_CMD_POST_SEND;
	cmd.hdr.in_words = sizeof(cmd) / 4;
	cmd.hdr.out_words = sizeof(resp) / 4;
	cmd.core_payload.response = (uintptr_t)&resp;
	cmd.core_payload.qp_handle = qp->handle;
	cmd.core_payload.wqe_size = sizeof(struct ibv_send_wr);
	if (write(qp->context->cmd_fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		return errno;
	return 0;
}

static int check_wr(const struct msrxe_qp *qp, const struct ibv_send_wr *wr,
		    uint64_t length)
{
	enum ibv_qp_type type = qp->vqp.qp.qp_type;
	uint64_t remote_addr;

	if (wr->num_sge < 0 || (uint32_t)wr->num_sge > qp->sq.max_sge)
		return EINVAL;
	if (length > UINT32_MAX)
		return EINVAL;
	if ((wr->send_flags & IBV_SEND_INLINE) && length > qp->sq.max_inline)
		return EINVAL;
	/* atomic write's payload is copied into the WQE from one SGE */
	if (wr->opcode == IBV_WR_ATOMIC_WRITE && wr->num_sge != 1)
		return EINVAL;
	if (wr->opcode == IBV_WR_BIND_MW &&
	    (length || wr->num_sge || !wr->bind_mw.mw ||
	     !wr->bind_mw.bind_info.mr ||
	     (type != IBV_QPT_RC && type != IBV_QPT_UC)))
		return EINVAL;
	remote_addr = wr->opcode == IBV_WR_ATOMIC_CMP_AND_SWP ||
			      wr->opcode == IBV_WR_ATOMIC_FETCH_AND_ADD ?
			      wr->wr.atomic.remote_addr :
			      wr->wr.rdma.remote_addr;
	return check_send_target(type, wr->opcode, remote_addr, length,
				 wr->wr.ud.ah != NULL);
}

static void fill_data(struct rxe_send_wqe *wqe, const struct ibv_send_wr *wr,
		      uint32_t length)
{
	uint8_t *p = wqe->dma.inline_data;
	int i;

	if ((wr->send_flags & IBV_SEND_INLINE) ||
	    wr->opcode == IBV_WR_ATOMIC_WRITE) {
		/* the payload travels in the WQE */
		for (i = 0; i < wr->num_sge; i++) {
			memcpy(p, (void *)(uintptr_t)wr->sg_list[i].addr,
			       wr->sg_list[i].length);
			p += wr->sg_list[i].length;
		}
	} else {
		for (i = 0; i < wr->num_sge; i++) {
			wqe->dma.sge[i].addr = wr->sg_list[i].addr;
			wqe->dma.sge[i].length = wr->sg_list[i].length;
			wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
		}
		wqe->dma.num_sge = (uint32_t)wr->num_sge;
	}
	wqe_set_length(wqe, length);
}

static int post_one(struct msrxe_qp *qp, uint32_t prod,
		    const struct ibv_send_wr *wr)
{
	struct rxe_queue_buf *q = qp->sq.ring.buf;
	struct rxe_send_wqe *wqe;
	uint64_t length = 0;
	int i, err;

	for (i = 0; i < wr->num_sge; i++)
		length += wr->sg_list[i].length;
	err = check_wr(qp, wr, length);
	if (err)
		return err;
	if (ring_full_at(q, prod))
		return ENOMEM;
	wqe = ring_slot(q, prod);
	wqe_start(qp, wqe, wr->opcode, wr->wr_id, wr->send_flags);
	wqe->wr.ex.imm_data = wr->imm_data; /* also invalidate_rkey */
	switch (wr->opcode) {
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
	case IBV_WR_RDMA_READ:
	case IBV_WR_ATOMIC_WRITE:
		wqe_rdma(wqe, wr->wr.rdma.rkey, wr->wr.rdma.remote_addr);
		break;
	case IBV_WR_ATOMIC_CMP_AND_SWP:
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		wqe_atomic(wqe, wr->wr.atomic.rkey, wr->wr.atomic.remote_addr,
			   wr->wr.atomic.compare_add, wr->wr.atomic.swap);
		break;
	case IBV_WR_BIND_MW:
		wqe_bind(wqe, wr->bind_mw.mw, wr->bind_mw.rkey,
			 &wr->bind_mw.bind_info);
		break;
	case IBV_WR_SEND:
	case IBV_WR_SEND_WITH_IMM:
		if (qp->vqp.qp.qp_type == IBV_QPT_UD)
			wqe_ud(wqe, wr->wr.ud.ah, wr->wr.ud.remote_qpn,
			       wr->wr.ud.remote_qkey);
		break;
	default:
		/* LOCAL_INV, SEND_WITH_INV; rxe rejects what it lacks */
		break;
	}
	fill_data(wqe, wr, (uint32_t)length);
	return 0;
}

int msrxe_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad)
{
	struct msrxe_qp *qp = to_mqp(ibqp);
	uint32_t prod;
	int err = 0, db;

	if (!bad || !wr)
		return EINVAL;
	*bad = NULL;
	pthread_spin_lock(&qp->sq.lock);
	prod = ring_my_prod(qp->sq.ring.buf);
	for (; wr; wr = wr->next) {
		err = post_one(qp, prod, wr);
		if (err) {
			*bad = wr;
			break;
		}
		prod = ring_step(qp->sq.ring.buf, prod);
	}
	ring_publish_prod(qp->sq.ring.buf, prod);
	pthread_spin_unlock(&qp->sq.lock);
	/* ring even after a bad WR: the ones before it are posted */
	db = msrxe_ring_doorbell(ibqp);
	return err ? err : db;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The extended send-WR interface (ibv_wr_start ... ibv_wr_complete). WQEs
 * are built in the SQ ring past the published producer index; only
 * wr_complete publishes them and rings the doorbell, so wr_abort or any
 * error drops the whole batch. The SQ lock is held from start to
 * complete/abort. Builders record the first error; wr_complete returns it.
 */
#include <errno.h>

#include "msrxe.h"
#include "ring.h"
#include "send_wqe.h"

/*
 * The WQE the last builder started is complete (a new one starts, or the
 * batch ends): check it as ibv_post_send checks a WR.
 */
static void wr_finish(struct msrxe_qp *qp)
{
	const struct rxe_send_wqe *w = qp->wr_cur;

	if (w && !qp->wr_err)
		qp->wr_err = check_send_target(qp->vqp.qp.qp_type, w->wr.opcode,
					       w->iova, w->dma.length,
					       w->wr.wr.ud.ah_num != 0);
	qp->wr_cur = NULL;
}

/* Claim the next slot for a new WQE, or record why not. */
static struct rxe_send_wqe *wr_new(struct ibv_qp_ex *ibqp, uint32_t opcode)
{
	struct msrxe_qp *qp = qpex_to_mqp(ibqp);
	struct rxe_queue_buf *q = qp->sq.ring.buf;
	struct rxe_send_wqe *wqe;

	wr_finish(qp);
	if (qp->wr_err)
		return NULL;
	if (ring_full_at(q, qp->wr_next)) {
		qp->wr_err = ENOMEM;
		return NULL;
	}
	wqe = ring_slot(q, qp->wr_next);
	wqe_start(qp, wqe, opcode, ibqp->wr_id, ibqp->wr_flags);
	qp->wr_next = ring_step(q, qp->wr_next);
	qp->wr_cur = wqe;
	return wqe;
}

static void wr_send(struct ibv_qp_ex *q)
{
	wr_new(q, IBV_WR_SEND);
}

static void wr_send_imm(struct ibv_qp_ex *q, __be32 imm)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_SEND_WITH_IMM);

	if (w)
		w->wr.ex.imm_data = imm;
}

static void wr_send_inv(struct ibv_qp_ex *q, uint32_t rkey)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_SEND_WITH_INV);

	if (w)
		w->wr.ex.invalidate_rkey = rkey;
}

static void wr_rdma_write(struct ibv_qp_ex *q, uint32_t rkey, uint64_t addr)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_RDMA_WRITE);

	if (w)
		wqe_rdma(w, rkey, addr);
}

static void wr_rdma_write_imm(struct ibv_qp_ex *q, uint32_t rkey,
			      uint64_t addr, __be32 imm)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_RDMA_WRITE_WITH_IMM);

	if (w) {
		wqe_rdma(w, rkey, addr);
		w->wr.ex.imm_data = imm;
	}
}

static void wr_rdma_read(struct ibv_qp_ex *q, uint32_t rkey, uint64_t addr)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_RDMA_READ);

	if (w)
		wqe_rdma(w, rkey, addr);
}

static void wr_atomic_cmp_swp(struct ibv_qp_ex *q, uint32_t rkey,
			      uint64_t addr, uint64_t compare, uint64_t swap)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_ATOMIC_CMP_AND_SWP);

	if (w)
		wqe_atomic(w, rkey, addr, compare, swap);
}

static void wr_atomic_fetch_add(struct ibv_qp_ex *q, uint32_t rkey,
				uint64_t addr, uint64_t add)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_ATOMIC_FETCH_AND_ADD);

	if (w)
		wqe_atomic(w, rkey, addr, add, 0);
}

static void wr_atomic_write(struct ibv_qp_ex *q, uint32_t rkey, uint64_t addr,
			    const void *data)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_ATOMIC_WRITE);

	if (w) {
		wqe_rdma(w, rkey, addr);
		memcpy(w->dma.inline_data, data, 8);
		wqe_set_length(w, 8);
	}
}

static void wr_local_inv(struct ibv_qp_ex *q, uint32_t rkey)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_LOCAL_INV);

	if (w)
		w->wr.ex.invalidate_rkey = rkey;
}

static void wr_bind_mw(struct ibv_qp_ex *q, struct ibv_mw *mw, uint32_t rkey,
		       const struct ibv_mw_bind_info *info)
{
	struct rxe_send_wqe *w = wr_new(q, IBV_WR_BIND_MW);

	if (!w)
		return;
	if (!mw || !info || !info->mr) {
		qpex_to_mqp(q)->wr_err = EINVAL;
		return;
	}
	wqe_bind(w, mw, rkey, info);
}

/* Setters complete the WQE the last builder started. */
static struct rxe_send_wqe *wr_last(struct ibv_qp_ex *ibqp)
{
	struct msrxe_qp *qp = qpex_to_mqp(ibqp);

	if (qp->wr_err)
		return NULL;
	if (!qp->wr_cur)
		qp->wr_err = EINVAL;
	return qp->wr_cur;
}

static void wr_set_ud_addr(struct ibv_qp_ex *q, struct ibv_ah *ah,
			   uint32_t remote_qpn, uint32_t remote_qkey)
{
	struct rxe_send_wqe *w = wr_last(q);

	if (!w)
		return;
	if (!ah) {
		qpex_to_mqp(q)->wr_err = EINVAL;
		return;
	}
	wqe_ud(w, ah, remote_qpn, remote_qkey);
}

static void wr_set_sge(struct ibv_qp_ex *q, uint32_t lkey, uint64_t addr,
		       uint32_t length)
{
	struct rxe_send_wqe *w = wr_last(q);

	if (!w)
		return;
	if (length) {
		w->dma.sge[0].addr = addr;
		w->dma.sge[0].length = length;
		w->dma.sge[0].lkey = lkey;
		w->dma.num_sge = 1;
	}
	wqe_set_length(w, length);
}

static void wr_set_sge_list(struct ibv_qp_ex *q, size_t n,
			    const struct ibv_sge *sge)
{
	struct msrxe_qp *qp = qpex_to_mqp(q);
	struct rxe_send_wqe *w = wr_last(q);
	uint64_t length = 0;
	size_t i;

	if (!w)
		return;
	if (n > qp->sq.max_sge) {
		qp->wr_err = EINVAL;
		return;
	}
	for (i = 0; i < n; i++) {
		w->dma.sge[i].addr = sge[i].addr;
		w->dma.sge[i].length = sge[i].length;
		w->dma.sge[i].lkey = sge[i].lkey;
		length += sge[i].length;
	}
	if (length > UINT32_MAX) {
		qp->wr_err = EINVAL;
		return;
	}
	w->dma.num_sge = (uint32_t)n;
	wqe_set_length(w, (uint32_t)length);
}

static void wr_set_inline_data_list(struct ibv_qp_ex *q, size_t n,
				    const struct ibv_data_buf *buf)
{
	struct msrxe_qp *qp = qpex_to_mqp(q);
	struct rxe_send_wqe *w = wr_last(q);
	size_t i, length = 0;

	if (!w)
		return;
	for (i = 0; i < n; i++) {
		if (buf[i].length > qp->sq.max_inline - length) {
			qp->wr_err = EINVAL;
			return;
		}
		memcpy(w->dma.inline_data + length, buf[i].addr, buf[i].length);
		length += buf[i].length;
	}
	/* rxe reads the payload from the WQE only when told so */
	w->wr.send_flags |= IBV_SEND_INLINE;
	w->dma.num_sge = 0;
	wqe_set_length(w, (uint32_t)length);
}

static void wr_set_inline_data(struct ibv_qp_ex *q, void *addr, size_t length)
{
	struct ibv_data_buf buf = { .addr = addr, .length = length };

	wr_set_inline_data_list(q, 1, &buf);
}

static void wr_start(struct ibv_qp_ex *ibqp)
{
	struct msrxe_qp *qp = qpex_to_mqp(ibqp);

	pthread_spin_lock(&qp->sq.lock);
	qp->wr_err = 0;
	qp->wr_cur = NULL;
	qp->wr_next = ring_my_prod(qp->sq.ring.buf);
}

static int wr_complete(struct ibv_qp_ex *ibqp)
{
	struct msrxe_qp *qp = qpex_to_mqp(ibqp);
	int err;

	wr_finish(qp);
	err = qp->wr_err;
	if (!err) {
		ring_publish_prod(qp->sq.ring.buf, qp->wr_next);
		err = msrxe_ring_doorbell(&qp->vqp.qp);
	}
	pthread_spin_unlock(&qp->sq.lock);
	return err;
}

static void wr_abort(struct ibv_qp_ex *ibqp)
{
	pthread_spin_unlock(&qpex_to_mqp(ibqp)->sq.lock);
}

#define OPS_UD (IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM)
#define OPS_UC                                                                 \
	(OPS_UD | IBV_QP_EX_WITH_RDMA_WRITE |                                  \
	 IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM | IBV_QP_EX_WITH_BIND_MW |         \
	 IBV_QP_EX_WITH_SEND_WITH_INV)
#define OPS_RC                                                                 \
	(OPS_UC | IBV_QP_EX_WITH_RDMA_READ |                                   \
	 IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |                                   \
	 IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD | IBV_QP_EX_WITH_LOCAL_INV |      \
	 IBV_QP_EX_WITH_ATOMIC_WRITE)

int msrxe_qp_ex_setup(struct msrxe_qp *qp, enum ibv_qp_type type,
		      uint64_t ops)
{
	struct ibv_qp_ex *x = &qp->vqp.qp_ex;
	uint64_t allowed;

	switch (type) {
	case IBV_QPT_RC:
		allowed = OPS_RC;
		break;
	case IBV_QPT_UC:
		allowed = OPS_UC;
		break;
	case IBV_QPT_UD:
		allowed = OPS_UD;
		break;
	default:
		return EOPNOTSUPP;
	}
	if (ops & ~allowed)
		return EOPNOTSUPP;

	if (ops & IBV_QP_EX_WITH_SEND)
		x->wr_send = wr_send;
	if (ops & IBV_QP_EX_WITH_SEND_WITH_IMM)
		x->wr_send_imm = wr_send_imm;
	if (ops & IBV_QP_EX_WITH_SEND_WITH_INV)
		x->wr_send_inv = wr_send_inv;
	if (ops & IBV_QP_EX_WITH_RDMA_WRITE)
		x->wr_rdma_write = wr_rdma_write;
	if (ops & IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM)
		x->wr_rdma_write_imm = wr_rdma_write_imm;
	if (ops & IBV_QP_EX_WITH_RDMA_READ)
		x->wr_rdma_read = wr_rdma_read;
	if (ops & IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP)
		x->wr_atomic_cmp_swp = wr_atomic_cmp_swp;
	if (ops & IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD)
		x->wr_atomic_fetch_add = wr_atomic_fetch_add;
	if (ops & IBV_QP_EX_WITH_ATOMIC_WRITE)
		x->wr_atomic_write = wr_atomic_write;
	if (ops & IBV_QP_EX_WITH_LOCAL_INV)
		x->wr_local_inv = wr_local_inv;
	if (ops & IBV_QP_EX_WITH_BIND_MW)
		x->wr_bind_mw = wr_bind_mw;
	x->wr_set_ud_addr = wr_set_ud_addr;
	x->wr_set_sge = wr_set_sge;
	x->wr_set_sge_list = wr_set_sge_list;
	x->wr_set_inline_data = wr_set_inline_data;
	x->wr_set_inline_data_list = wr_set_inline_data_list;
	x->wr_start = wr_start;
	x->wr_complete = wr_complete;
	x->wr_abort = wr_abort;
	return 0;
}

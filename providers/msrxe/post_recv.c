// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Receive work requests, for a QP's RQ and for an SRQ. rxe polls these
 * rings itself when a packet arrives, so no doorbell is needed.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "msrxe.h"
#include "ring.h"

static int post_one(struct msrxe_wq *rq, uint32_t prod,
		    const struct ibv_recv_wr *wr)
{
	struct rxe_queue_buf *q = rq->ring.buf;
	struct rxe_recv_wqe *wqe;
	uint64_t length = 0;
	int i;

	if (wr->num_sge < 0 || (uint32_t)wr->num_sge > rq->max_sge)
		return EINVAL;
	/* the WQE's length is 32 bits, as in post_send */
	for (i = 0; i < wr->num_sge; i++)
		length += wr->sg_list[i].length;
	if (length > UINT32_MAX)
		return EINVAL;
	if (ring_full_at(q, prod))
		return ENOMEM;
	wqe = ring_slot(q, prod);
	memset(wqe, 0, sizeof(*wqe));
	wqe->wr_id = wr->wr_id;
	for (i = 0; i < wr->num_sge; i++) {
		wqe->dma.sge[i].addr = wr->sg_list[i].addr;
		wqe->dma.sge[i].length = wr->sg_list[i].length;
		wqe->dma.sge[i].lkey = wr->sg_list[i].lkey;
	}
	wqe->dma.length = (uint32_t)length;
	wqe->dma.resid = (uint32_t)length;
	wqe->dma.num_sge = (uint32_t)wr->num_sge;
	return 0;
}

int msrxe_post_recv_list(struct msrxe_wq *rq, struct ibv_recv_wr *wr,
			 struct ibv_recv_wr **bad)
{
	uint32_t prod;
	int err = 0;

	pthread_spin_lock(&rq->lock);
	if (rq->ring.err) {
		/* an SRQ whose resize we could not follow */
		pthread_spin_unlock(&rq->lock);
		*bad = wr;
		return rq->ring.err;
	}
	prod = ring_my_prod(rq->ring.buf);
	for (; wr; wr = wr->next) {
		err = post_one(rq, prod, wr);
		if (err) {
			*bad = wr;
			break;
		}
		prod = ring_step(rq->ring.buf, prod);
	}
	/* the WRs before a bad one are posted, as the verbs API says */
	ring_publish_prod(rq->ring.buf, prod);
	pthread_spin_unlock(&rq->lock);
	return err;
}

int msrxe_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad)
{
	struct msrxe_qp *qp = to_mqp(ibqp);

	if (!bad || !wr)
		return EINVAL;
	*bad = NULL;
	/* an SRQ QP has no RQ; a RESET QP takes no receives (C10-97.2.1) */
	if (!qp->rq.ring.buf || ibqp->state == IBV_QPS_RESET) {
		*bad = wr;
		return EINVAL;
	}
	return msrxe_post_recv_list(&qp->rq, wr, bad);
}

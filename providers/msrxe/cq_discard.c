// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * When a QP goes to RESET its completions still in the CQ (typically the
 * flush errors of its trip through ERR) belong to a QP that starts over;
 * hardware providers drop them, and so do we. Entries between the consumer
 * and producer index are final (the kernel only writes past the producer),
 * so under the CQ lock we can mark them; the pollers skip marked entries.
 */
#include "msrxe.h"
#include "ring.h"

static void discard_qp_entries(struct msrxe_cq *cq, uint32_t qpn)
{
	struct rxe_queue_buf *q = cq->ring.buf;
	uint32_t i, prod;

	pthread_spin_lock(&cq->lock);
	prod = atomic_load_explicit(ring_prod(q), memory_order_acquire);
	for (i = ring_my_cons(q); i != prod; i = ring_step(q, i)) {
		struct ib_uverbs_wc *wc = ring_slot(q, i);

		if (wc->qp_num == qpn)
			wc->reserved = MSRXE_WC_DISCARDED;
	}
	pthread_spin_unlock(&cq->lock);
}

void msrxe_cq_discard_qp(struct ibv_qp *qp)
{
	if (qp->send_cq)
		discard_qp_entries(to_mcq(qp->send_cq), qp->qp_num);
	if (qp->recv_cq && qp->recv_cq != qp->send_cq)
		discard_qp_entries(to_mcq(qp->recv_cq), qp->qp_num);
}

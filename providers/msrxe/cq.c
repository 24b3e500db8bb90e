// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Completion queues. rxe writes struct ib_uverbs_wc entries into a ring
 * mapped from the kernel; its layout equals struct ibv_wc (abi_asserts.c),
 * so polling is a copy, the flags translated (msrxe_wc_flags), and a
 * consumer-index store.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"
#include "ring.h"

struct create_cq_resp {
	struct ib_uverbs_create_cq_resp ibv_resp;
	struct rxe_create_cq_resp drv;
};

struct create_cq_ex_resp {
	struct ib_uverbs_ex_create_cq_resp ibv_resp;
	struct rxe_create_cq_resp drv;
};

struct resize_cq_resp {
	struct ib_uverbs_resize_cq_resp ibv_resp;
	struct rxe_resize_cq_resp drv;
};

/*
 * Map the ring of a CQ the kernel has just made and check its entries can
 * hold a work completion; on failure the kernel's CQ is destroyed.
 */
static int cq_attach_ring(struct msrxe_cq *cq, int cmd_fd,
			  const struct mminfo *mi)
{
	int err = msrxe_ring_map(&cq->ring, cmd_fd, mi,
				 sizeof(struct ib_uverbs_wc));

	if (err) {
		ibv_cmd_destroy_cq(&cq->vcq.cq);
		return err;
	}
	pthread_spin_init(&cq->lock, PTHREAD_PROCESS_PRIVATE);
	return 0;
}

struct ibv_cq *msrxe_create_cq(struct ibv_context *ctx, int cqe,
			       struct ibv_comp_channel *channel, int vector)
{
	struct create_cq_resp resp;
	struct msrxe_cq *cq = calloc(1, sizeof(*cq));
	int err;

	if (!cq)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	err = ibv_cmd_create_cq(ctx, cqe, channel, vector, &cq->vcq.cq, NULL, 0,
				&resp.ibv_resp, sizeof(resp));
	if (err)
		goto free;
	err = cq_attach_ring(cq, ctx->cmd_fd, &resp.drv.mi);
	if (err)
		goto free;
	return &cq->vcq.cq;
free:
	free(cq);
	errno = err;
	return NULL;
}

/* Work-completion fields rxe fills; timestamps and the rest it cannot. */
#define MSRXE_WC_FLAGS                                                         \
	(IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM | IBV_WC_EX_WITH_QP_NUM | \
	 IBV_WC_EX_WITH_SRC_QP | IBV_WC_EX_WITH_SLID | IBV_WC_EX_WITH_SL |     \
	 IBV_WC_EX_WITH_DLID_PATH_BITS)

struct ibv_cq_ex *msrxe_create_cq_ex(struct ibv_context *ctx,
				     struct ibv_cq_init_attr_ex *attr)
{
	struct create_cq_ex_resp resp;
	struct msrxe_cq *cq;
	int err;

	if (attr->wc_flags & ~(uint64_t)MSRXE_WC_FLAGS) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	err = ibv_cmd_create_cq_ex(ctx, attr, &cq->vcq, NULL, 0,
				   &resp.ibv_resp, sizeof(resp), 0);
	if (err)
		goto free;
	err = cq_attach_ring(cq, ctx->cmd_fd, &resp.drv.mi);
	if (err)
		goto free;
	msrxe_cq_ex_setup(cq, attr->wc_flags);
	return &cq->vcq.cq_ex;
free:
	free(cq);
	errno = err;
	return NULL;
}

int msrxe_poll_cq(struct ibv_cq *ibcq, int ne, struct ibv_wc *wc)
{
	struct msrxe_cq *cq = to_mcq(ibcq);
	struct rxe_queue_buf *q;
	uint32_t cons;
	int n;

	pthread_spin_lock(&cq->lock);
	if (cq->ring.err) {
		pthread_spin_unlock(&cq->lock);
		errno = cq->ring.err;
		return -1;
	}
	q = cq->ring.buf;
	cons = ring_my_cons(q);
	for (n = 0; n < ne && !ring_empty_at(q, cons); cons = ring_step(q, cons)) {
		const struct ib_uverbs_wc *src = ring_slot(q, cons);

		if (src->reserved == MSRXE_WC_DISCARDED)
			continue;
		memcpy(&wc[n], src, sizeof(wc[0]));
		wc[n++].wc_flags = msrxe_wc_flags(src->wc_flags);
	}
	if (cons != ring_my_cons(q))
		ring_publish_cons(q, cons);
	pthread_spin_unlock(&cq->lock);
	return n;
}

int msrxe_resize_cq(struct ibv_cq *ibcq, int cqe)
{
	struct msrxe_cq *cq = to_mcq(ibcq);
	struct resize_cq_resp resp;
	struct ibv_resize_cq cmd;
	struct msrxe_ring res;
	int err;

	if (cqe <= 0)
		return EINVAL;
	memset(&resp, 0, sizeof(resp));
	pthread_spin_lock(&cq->lock);
	err = msrxe_ring_reserve(&res, &cq->ring, (uint32_t)cqe);
	if (err)
		goto out;
	err = ibv_cmd_resize_cq(ibcq, cqe, &cmd, sizeof(cmd), &resp.ibv_resp,
				sizeof(resp));
	if (err) {
		msrxe_ring_unmap(&res);
		goto out;
	}
	/* the kernel moved the entries into a new ring */
	err = msrxe_ring_replace(&cq->ring, &res, ibcq->context->cmd_fd,
				 &resp.drv.mi, sizeof(struct ib_uverbs_wc));
out:
	pthread_spin_unlock(&cq->lock);
	return err;
}

int msrxe_destroy_cq(struct ibv_cq *ibcq)
{
	struct msrxe_cq *cq = to_mcq(ibcq);
	int err = ibv_cmd_destroy_cq(ibcq);

	if (err)
		return err;
	msrxe_ring_unmap(&cq->ring);
	pthread_spin_destroy(&cq->lock);
	free(cq);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Queue pairs (RC, UC, UD): creation maps the SQ and, without SRQ, the RQ. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"

struct create_qp_resp {
	struct ib_uverbs_create_qp_resp ibv_resp;
	struct rxe_create_qp_resp drv;
};

struct create_qp_ex_resp {
	struct ib_uverbs_ex_create_qp_resp ibv_resp;
	struct rxe_create_qp_resp drv;
};

static void wq_init(struct msrxe_wq *wq, uint32_t max_sge, uint32_t max_inline)
{
	wq->max_sge = max_sge;
	wq->max_inline = max_inline;
	pthread_spin_init(&wq->lock, PTHREAD_PROCESS_PRIVATE);
}

/*
 * Map the rings of a QP the kernel has just made; on failure the kernel's QP
 * is destroyed. attr->cap holds what the kernel granted once the command
 * returned.
 */
static int qp_map_rings(struct msrxe_qp *qp, int cmd_fd, int has_srq,
			const struct ibv_qp_cap *cap,
			const struct rxe_create_qp_resp *resp)
{
	int err = 0;

	if (!has_srq)
		err = msrxe_ring_map(&qp->rq.ring, cmd_fd, &resp->rq_mi,
				     msrxe_recv_wqe_size(cap->max_recv_sge));
	if (!err) {
		err = msrxe_ring_map(&qp->sq.ring, cmd_fd, &resp->sq_mi,
				     msrxe_send_wqe_size(cap->max_send_sge,
							 cap->max_inline_data));
		if (err)
			msrxe_ring_unmap(&qp->rq.ring);
	}
	if (err) {
		ibv_cmd_destroy_qp(&qp->vqp.qp);
		return err;
	}
	if (!has_srq)
		wq_init(&qp->rq, cap->max_recv_sge, 0);
	wq_init(&qp->sq, cap->max_send_sge, cap->max_inline_data);
	return 0;
}

struct ibv_qp *msrxe_create_qp(struct ibv_pd *pd, struct ibv_qp_init_attr *attr)
{
	struct create_qp_resp resp;
	struct ibv_create_qp cmd;
	struct msrxe_qp *qp = calloc(1, sizeof(*qp));
	int err;

	if (!qp)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	memset(&cmd, 0, sizeof(cmd));
	err = ibv_cmd_create_qp(pd, &qp->vqp.qp, attr, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (err)
		goto free;
	err = qp_map_rings(qp, pd->context->cmd_fd, attr->srq != NULL,
			   &attr->cap, &resp.drv);
	if (err)
		goto free;
	return &qp->vqp.qp;
free:
	free(qp);
	errno = err;
	return NULL;
}

#define MSRXE_QP_COMP_MASK                                                     \
	(IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_CREATE_FLAGS |                 \
	 IBV_QP_INIT_ATTR_SEND_OPS_FLAGS)

struct ibv_qp *msrxe_create_qp_ex(struct ibv_context *ctx,
				  struct ibv_qp_init_attr_ex *attr)
{
	struct create_qp_ex_resp resp;
	struct ibv_create_qp_ex cmd;
	struct msrxe_qp *qp;
	int err = EOPNOTSUPP;

	if (attr->comp_mask & ~(uint32_t)MSRXE_QP_COMP_MASK)
		goto out;
	if ((attr->comp_mask & IBV_QP_INIT_ATTR_CREATE_FLAGS) &&
	    attr->create_flags)
		goto out;
	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return NULL;
	if (attr->comp_mask & IBV_QP_INIT_ATTR_SEND_OPS_FLAGS) {
		err = msrxe_qp_ex_setup(qp, attr->qp_type, attr->send_ops_flags);
		if (err)
			goto free;
	}
	memset(&resp, 0, sizeof(resp));
	memset(&cmd, 0, sizeof(cmd));
	err = ibv_cmd_create_qp_ex2(ctx, &qp->vqp, attr, &cmd, sizeof(cmd),
				    &resp.ibv_resp, sizeof(resp));
	if (err)
		goto free;
	qp->vqp.comp_mask |= VP_QP_EX;
	err = qp_map_rings(qp, ctx->cmd_fd, attr->srq != NULL, &attr->cap,
			   &resp.drv);
	if (err)
		goto free;
	return &qp->vqp.qp;
free:
	free(qp);
out:
	errno = err;
	return NULL;
}

int msrxe_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask,
		   struct ibv_qp_init_attr *init)
{
	struct ibv_query_qp cmd;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_query_qp(qp, attr, mask, init, &cmd, sizeof(cmd));
}

int msrxe_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask)
{
	struct ibv_modify_qp cmd;
	int err;

	memset(&cmd, 0, sizeof(cmd));
	err = ibv_cmd_modify_qp(qp, attr, mask, &cmd, sizeof(cmd));
	if (!err && (mask & IBV_QP_STATE) && attr->qp_state == IBV_QPS_RESET)
		msrxe_cq_discard_qp(qp);
	return err;
}

int msrxe_destroy_qp(struct ibv_qp *ibqp)
{
	struct msrxe_qp *qp = to_mqp(ibqp);
	int err = ibv_cmd_destroy_qp(ibqp);

	if (err)
		return err;
	if (qp->rq.ring.buf)
		pthread_spin_destroy(&qp->rq.lock);
	msrxe_ring_unmap(&qp->rq.ring);
	msrxe_ring_unmap(&qp->sq.ring);
	pthread_spin_destroy(&qp->sq.lock);
	free(qp);
	return 0;
}

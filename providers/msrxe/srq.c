// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared receive queues: a receive ring like a QP's, owned by the SRQ. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"

struct create_srq_resp {
	struct ib_uverbs_create_srq_resp ibv_resp;
	struct rxe_create_srq_resp drv;
};

struct modify_srq_cmd {
	struct ibv_modify_srq ibv_cmd;
	struct rxe_modify_srq_cmd drv;
};

static struct ibv_srq *srq_finish(struct msrxe_srq *srq, int cmd_fd,
				  const struct create_srq_resp *resp,
				  uint32_t max_sge)
{
	int err = msrxe_ring_map(&srq->rq.ring, cmd_fd, &resp->drv.mi,
				 msrxe_recv_wqe_size(max_sge));

	if (err) {
		ibv_cmd_destroy_srq(&srq->vsrq.srq);
		free(srq);
		errno = err;
		return NULL;
	}
	srq->vsrq.srq_num = resp->drv.srq_num;
	srq->rq.max_sge = max_sge;
	pthread_spin_init(&srq->rq.lock, PTHREAD_PROCESS_PRIVATE);
	return &srq->vsrq.srq;
}

struct ibv_srq *msrxe_create_srq(struct ibv_pd *pd,
				 struct ibv_srq_init_attr *attr)
{
	struct create_srq_resp resp;
	struct ibv_create_srq cmd;
	struct msrxe_srq *srq = calloc(1, sizeof(*srq));
	int err;

	if (!srq)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	err = ibv_cmd_create_srq(pd, &srq->vsrq.srq, attr, &cmd, sizeof(cmd),
				 &resp.ibv_resp, sizeof(resp));
	if (err) {
		free(srq);
		errno = err;
		return NULL;
	}
	return srq_finish(srq, pd->context->cmd_fd, &resp, attr->attr.max_sge);
}

struct ibv_srq *msrxe_create_srq_ex(struct ibv_context *ctx,
				    struct ibv_srq_init_attr_ex *attr)
{
	struct create_srq_resp resp;
	struct ibv_create_xsrq cmd;
	struct msrxe_srq *srq;
	int err;

	/* rxe has basic SRQs only: no XRC, no tag matching */
	if ((attr->comp_mask & IBV_SRQ_INIT_ATTR_TYPE) &&
	    attr->srq_type != IBV_SRQT_BASIC) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	srq = calloc(1, sizeof(*srq));
	if (!srq)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	err = ibv_cmd_create_srq_ex(ctx, &srq->vsrq, attr, &cmd, sizeof(cmd),
				    &resp.ibv_resp, sizeof(resp));
	if (err) {
		free(srq);
		errno = err;
		return NULL;
	}
	return srq_finish(srq, ctx->cmd_fd, &resp, attr->attr.max_sge);
}

int msrxe_modify_srq(struct ibv_srq *ibsrq, struct ibv_srq_attr *attr,
		     int mask)
{
	struct msrxe_srq *srq = to_msrq(ibsrq);
	struct modify_srq_cmd cmd;
	struct mminfo mi = { 0 };
	struct msrxe_ring res = { 0 };
	int err = 0;

	memset(&cmd, 0, sizeof(cmd));
	/* on a resize the kernel writes the new ring's mapping here */
	cmd.drv.mmap_info_addr = (uintptr_t)&mi;
	pthread_spin_lock(&srq->rq.lock);
	if (mask & IBV_SRQ_MAX_WR)
		err = msrxe_ring_reserve(&res, &srq->rq.ring, attr->max_wr);
	if (err)
		goto out;
	err = ibv_cmd_modify_srq(ibsrq, attr, mask, &cmd.ibv_cmd, sizeof(cmd));
	if (err) {
		msrxe_ring_unmap(&res);
		goto out;
	}
	if (mask & IBV_SRQ_MAX_WR)
		err = msrxe_ring_replace(&srq->rq.ring, &res,
					 ibsrq->context->cmd_fd, &mi,
					 msrxe_recv_wqe_size(srq->rq.max_sge));
out:
	pthread_spin_unlock(&srq->rq.lock);
	return err;
}

int msrxe_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr)
{
	struct ibv_query_srq cmd;

	return ibv_cmd_query_srq(srq, attr, &cmd, sizeof(cmd));
}

int msrxe_destroy_srq(struct ibv_srq *ibsrq)
{
	struct msrxe_srq *srq = to_msrq(ibsrq);
	int err = ibv_cmd_destroy_srq(ibsrq);

	if (err)
		return err;
	msrxe_ring_unmap(&srq->rq.ring);
	pthread_spin_destroy(&srq->rq.lock);
	free(srq);
	return 0;
}

int msrxe_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
			struct ibv_recv_wr **bad)
{
	if (!bad || !wr)
		return EINVAL;
	*bad = NULL;
	return msrxe_post_recv_list(&to_msrq(ibsrq)->rq, wr, bad);
}

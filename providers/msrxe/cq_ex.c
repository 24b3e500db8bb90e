// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The extended CQ polling interface (ibv_start_poll and friends). The lock
 * is held from a successful start_poll until end_poll; the consumer index
 * is published once, at end_poll or when the ring runs dry.
 */
#include <errno.h>

#include "msrxe.h"
#include "ring.h"

/* Point cq_ex at the entry at cq->next, or report the ring empty. */
static int load_entry(struct msrxe_cq *cq)
{
	struct rxe_queue_buf *q = cq->ring.buf;

	for (;;) {
		if (ring_empty_at(q, cq->next))
			return ENOENT;
		cq->cur = ring_slot(q, cq->next);
		if (cq->cur->reserved != MSRXE_WC_DISCARDED)
			break;
		cq->next = ring_step(q, cq->next);
	}
	cq->vcq.cq_ex.wr_id = cq->cur->wr_id;
	cq->vcq.cq_ex.status = (enum ibv_wc_status)cq->cur->status;
	cq->next = ring_step(q, cq->next);
	return 0;
}

static int start_poll(struct ibv_cq_ex *ibcq, struct ibv_poll_cq_attr *attr)
{
	struct msrxe_cq *cq = cqex_to_mcq(ibcq);

	if (attr->comp_mask)
		return EINVAL;
	pthread_spin_lock(&cq->lock);
	if (cq->ring.err) {
		pthread_spin_unlock(&cq->lock);
		return cq->ring.err;
	}
	cq->next = ring_my_cons(cq->ring.buf);
	if (load_entry(cq)) {
		/* give back any discarded entries skipped on the way */
		ring_publish_cons(cq->ring.buf, cq->next);
		pthread_spin_unlock(&cq->lock);
		return ENOENT;
	}
	return 0;
}

static int next_poll(struct ibv_cq_ex *ibcq)
{
	return load_entry(cqex_to_mcq(ibcq));
}

static void end_poll(struct ibv_cq_ex *ibcq)
{
	struct msrxe_cq *cq = cqex_to_mcq(ibcq);

	/* cq->next is one past the last entry handed out */
	ring_publish_cons(cq->ring.buf, cq->next);
	pthread_spin_unlock(&cq->lock);
}

#define CUR(ibcq) (cqex_to_mcq(ibcq)->cur)

static enum ibv_wc_opcode read_opcode(struct ibv_cq_ex *c)
{
	return (enum ibv_wc_opcode)CUR(c)->opcode;
}

static uint32_t read_vendor_err(struct ibv_cq_ex *c)
{
	return CUR(c)->vendor_err;
}

static uint32_t read_byte_len(struct ibv_cq_ex *c)
{
	return CUR(c)->byte_len;
}

static __be32 read_imm_data(struct ibv_cq_ex *c)
{
	return CUR(c)->ex.imm_data;
}

static uint32_t read_qp_num(struct ibv_cq_ex *c)
{
	return CUR(c)->qp_num;
}

static uint32_t read_src_qp(struct ibv_cq_ex *c)
{
	return CUR(c)->src_qp;
}

static unsigned int read_wc_flags(struct ibv_cq_ex *c)
{
	return msrxe_wc_flags(CUR(c)->wc_flags);
}

static uint32_t read_slid(struct ibv_cq_ex *c)
{
	return CUR(c)->slid;
}

static uint8_t read_sl(struct ibv_cq_ex *c)
{
	return CUR(c)->sl;
}

static uint8_t read_dlid_path_bits(struct ibv_cq_ex *c)
{
	return CUR(c)->dlid_path_bits;
}

int msrxe_cq_ex_setup(struct msrxe_cq *cq, uint64_t wc_flags)
{
	struct ibv_cq_ex *c = &cq->vcq.cq_ex;

	c->start_poll = start_poll;
	c->next_poll = next_poll;
	c->end_poll = end_poll;
	c->read_opcode = read_opcode;
	c->read_vendor_err = read_vendor_err;
	c->read_wc_flags = read_wc_flags;
	if (wc_flags & IBV_WC_EX_WITH_BYTE_LEN)
		c->read_byte_len = read_byte_len;
	if (wc_flags & IBV_WC_EX_WITH_IMM)
		c->read_imm_data = read_imm_data;
	if (wc_flags & IBV_WC_EX_WITH_QP_NUM)
		c->read_qp_num = read_qp_num;
	if (wc_flags & IBV_WC_EX_WITH_SRC_QP)
		c->read_src_qp = read_src_qp;
	if (wc_flags & IBV_WC_EX_WITH_SLID)
		c->read_slid = read_slid;
	if (wc_flags & IBV_WC_EX_WITH_SL)
		c->read_sl = read_sl;
	if (wc_flags & IBV_WC_EX_WITH_DLID_PATH_BITS)
		c->read_dlid_path_bits = read_dlid_path_bits;
	return 0;
}

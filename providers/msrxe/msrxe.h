/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Objects of the msrxe provider and the entry points between its files. */
#ifndef MSRXE_H
#define MSRXE_H

#include <pthread.h>
#include <stddef.h>
#include <rdma/rdma_user_rxe.h>

#include "verbs_private.h"

#define msrxe_container_of(ptr, type, member)                                  \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct msrxe_device {
	struct verbs_device vdev;
};

struct msrxe_context {
	struct verbs_context vctx;
};

/* A ring shared with the kernel: mapped once, size kept for munmap. */
struct msrxe_ring {
	struct rxe_queue_buf *buf;
	size_t map_size;
	/* nonzero: the kernel moved to a ring we could not map (ring.c) */
	int err;
};

struct msrxe_cq {
	struct verbs_cq vcq;
	struct msrxe_ring ring;
	pthread_spinlock_t lock;
	/* extended polling: the entry being read and the next index */
	struct ib_uverbs_wc *cur;
	uint32_t next;
};

struct msrxe_wq {
	struct msrxe_ring ring;
	pthread_spinlock_t lock;
	uint32_t max_sge;
	uint32_t max_inline;
};

struct msrxe_qp {
	struct verbs_qp vqp;
	struct msrxe_wq sq;
	struct msrxe_wq rq; /* unused when the QP has an SRQ */
	uint32_t ssn;
	/* extended send-WR interface: the WQE being built, the index after
	 * it, and the first error since wr_start */
	struct rxe_send_wqe *wr_cur;
	uint32_t wr_next;
	int wr_err;
};

struct msrxe_srq {
	struct verbs_srq vsrq;
	struct msrxe_wq rq;
};

struct msrxe_ah {
	struct ibv_ah ibv_ah;
	uint32_t ah_num;
};

static inline struct msrxe_cq *to_mcq(struct ibv_cq *cq)
{
	return msrxe_container_of(cq, struct msrxe_cq, vcq.cq);
}

static inline struct msrxe_cq *cqex_to_mcq(struct ibv_cq_ex *cq)
{
	return msrxe_container_of(cq, struct msrxe_cq, vcq.cq_ex);
}

static inline struct msrxe_qp *to_mqp(struct ibv_qp *qp)
{
	return msrxe_container_of(qp, struct msrxe_qp, vqp.qp);
}

static inline struct msrxe_qp *qpex_to_mqp(struct ibv_qp_ex *qp)
{
	return msrxe_container_of(qp, struct msrxe_qp, vqp.qp_ex);
}

static inline struct msrxe_srq *to_msrq(struct ibv_srq *srq)
{
	return msrxe_container_of(srq, struct msrxe_srq, vsrq.srq);
}

static inline struct msrxe_ah *to_mah(struct ibv_ah *ah)
{
	return msrxe_container_of(ah, struct msrxe_ah, ibv_ah);
}

/* ring.c */
int msrxe_ring_map(struct msrxe_ring *ring, int cmd_fd,
		   const struct mminfo *mi, size_t min_elem);
void msrxe_ring_unmap(struct msrxe_ring *ring);
int msrxe_ring_reserve(struct msrxe_ring *res, const struct msrxe_ring *old,
		       uint32_t num_elem);
int msrxe_ring_replace(struct msrxe_ring *ring, struct msrxe_ring *res,
		       int cmd_fd, const struct mminfo *mi, size_t min_elem);

/* The smallest slots a work queue can have for its limits. */
static inline size_t msrxe_recv_wqe_size(uint32_t max_sge)
{
	return sizeof(struct rxe_recv_wqe) + max_sge * sizeof(struct rxe_sge);
}

static inline size_t msrxe_send_wqe_size(uint32_t max_sge, uint32_t max_inline)
{
	size_t sges = max_sge * sizeof(struct rxe_sge);

	return sizeof(struct rxe_send_wqe) +
	       (sges > max_inline ? sges : max_inline);
}

/* device_query.c */
int msrxe_query_device_ex(struct ibv_context *ctx,
			  const struct ibv_query_device_ex_input *input,
			  struct ibv_device_attr_ex *attr, size_t attr_size);
int msrxe_query_port(struct ibv_context *ctx, uint8_t port,
		     struct ibv_port_attr *attr);

/* pd_mr.c */
struct ibv_pd *msrxe_alloc_pd(struct ibv_context *ctx);
int msrxe_dealloc_pd(struct ibv_pd *pd);
struct ibv_mr *msrxe_reg_mr(struct ibv_pd *pd, void *addr, size_t length,
			    uint64_t hca_va, int access);
struct ibv_mr *msrxe_reg_dmabuf_mr(struct ibv_pd *pd, uint64_t offset,
				   size_t length, uint64_t iova, int fd,
				   int access);
int msrxe_rereg_mr(struct verbs_mr *vmr, int flags, struct ibv_pd *pd,
		   void *addr, size_t length, int access);
int msrxe_dereg_mr(struct verbs_mr *vmr);
int msrxe_advise_mr(struct ibv_pd *pd, enum ibv_advise_mr_advice advice,
		    uint32_t flags, struct ibv_sge *sg_list, uint32_t num_sge);

/* mw.c */
struct ibv_mw *msrxe_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type);
int msrxe_dealloc_mw(struct ibv_mw *mw);
int msrxe_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw,
		  struct ibv_mw_bind *bind);

/* cq.c, cq_ex.c */
struct ibv_cq *msrxe_create_cq(struct ibv_context *ctx, int cqe,
			       struct ibv_comp_channel *channel, int vector);
struct ibv_cq_ex *msrxe_create_cq_ex(struct ibv_context *ctx,
				     struct ibv_cq_init_attr_ex *attr);
int msrxe_poll_cq(struct ibv_cq *cq, int ne, struct ibv_wc *wc);
int msrxe_resize_cq(struct ibv_cq *cq, int cqe);
int msrxe_destroy_cq(struct ibv_cq *cq);
int msrxe_cq_ex_setup(struct msrxe_cq *cq, uint64_t wc_flags);

/* srq.c */
struct ibv_srq *msrxe_create_srq(struct ibv_pd *pd,
				 struct ibv_srq_init_attr *attr);
struct ibv_srq *msrxe_create_srq_ex(struct ibv_context *ctx,
				    struct ibv_srq_init_attr_ex *attr);
int msrxe_modify_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr,
		     int mask);
int msrxe_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr);
int msrxe_destroy_srq(struct ibv_srq *srq);
int msrxe_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr,
			struct ibv_recv_wr **bad);

/*
 * rxe writes the kernel's enum ib_wc_flags (include/rdma/ib_verbs.h, not a
 * uAPI) into ib_uverbs_wc.wc_flags as they are; ibv_wc_flags number them
 * differently from bit 2 on.
 */
#define MSRXE_IB_WC_GRH (1u << 0)
#define MSRXE_IB_WC_WITH_IMM (1u << 1)
#define MSRXE_IB_WC_WITH_INVALIDATE (1u << 2)
#define MSRXE_IB_WC_IP_CSUM_OK (1u << 3)
/* WITH_SMAC, WITH_VLAN, WITH_NETWORK_HDR_TYPE (bits 4-6): no ibv_wc flag */

static inline unsigned int msrxe_wc_flags(uint32_t kflags)
{
	/* GRH and WITH_IMM have the same bits in both (abi_asserts.c) */
	return (kflags & (MSRXE_IB_WC_GRH | MSRXE_IB_WC_WITH_IMM)) |
	       (kflags & MSRXE_IB_WC_WITH_INVALIDATE ? IBV_WC_WITH_INV : 0) |
	       (kflags & MSRXE_IB_WC_IP_CSUM_OK ? IBV_WC_IP_CSUM_OK : 0);
}

/* cq_discard.c: a mark in ib_uverbs_wc.reserved (the kernel writes 0) */
#define MSRXE_WC_DISCARDED 0xd5
void msrxe_cq_discard_qp(struct ibv_qp *qp);

/* qp.c */
struct ibv_qp *msrxe_create_qp(struct ibv_pd *pd,
			       struct ibv_qp_init_attr *attr);
struct ibv_qp *msrxe_create_qp_ex(struct ibv_context *ctx,
				  struct ibv_qp_init_attr_ex *attr);
int msrxe_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask,
		   struct ibv_qp_init_attr *init);
int msrxe_modify_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask);
int msrxe_destroy_qp(struct ibv_qp *qp);

/* post_recv.c */
int msrxe_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr,
		    struct ibv_recv_wr **bad);
int msrxe_post_recv_list(struct msrxe_wq *rq, struct ibv_recv_wr *wr,
			 struct ibv_recv_wr **bad);

/* post_send.c */
int msrxe_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
		    struct ibv_send_wr **bad);
int msrxe_ring_doorbell(struct ibv_qp *qp);

/* wr_ex.c */
int msrxe_qp_ex_setup(struct msrxe_qp *qp, enum ibv_qp_type type,
		      uint64_t send_ops);

/* ah.c */
struct ibv_ah *msrxe_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr);
int msrxe_destroy_ah(struct ibv_ah *ah);

/* version_guard.c */
int msrxe_version_guard(void);

#endif

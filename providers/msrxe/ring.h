/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Index arithmetic on the rings shared with the rxe kernel driver. The
 * kernel reads what we produce and writes what we consume, so the index we
 * publish is a release store and the index we read from the kernel is an
 * acquire load. Between user threads the object's spinlock orders access.
 */
#ifndef MSRXE_RING_H
#define MSRXE_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <rdma/rdma_user_rxe.h>

static inline _Atomic uint32_t *ring_prod(struct rxe_queue_buf *q)
{
	return (_Atomic uint32_t *)&q->producer_index;
}

static inline _Atomic uint32_t *ring_cons(struct rxe_queue_buf *q)
{
	return (_Atomic uint32_t *)&q->consumer_index;
}

static inline void *ring_slot(struct rxe_queue_buf *q, uint32_t index)
{
	return q->data + ((size_t)(index & q->index_mask) << q->log2_elem_size);
}

static inline uint32_t ring_step(struct rxe_queue_buf *q, uint32_t index)
{
	return (index + 1) & q->index_mask;
}

/* Producer side (SQ, RQ, SRQ): is there room for one more entry at prod? */
static inline int ring_full_at(struct rxe_queue_buf *q, uint32_t prod)
{
	uint32_t cons = atomic_load_explicit(ring_cons(q), memory_order_acquire);

	return ring_step(q, prod) == cons;
}

static inline uint32_t ring_my_prod(struct rxe_queue_buf *q)
{
	return atomic_load_explicit(ring_prod(q), memory_order_relaxed);
}

static inline void ring_publish_prod(struct rxe_queue_buf *q, uint32_t prod)
{
	atomic_store_explicit(ring_prod(q), prod, memory_order_release);
}

/* Consumer side (CQ). */
static inline uint32_t ring_my_cons(struct rxe_queue_buf *q)
{
	return atomic_load_explicit(ring_cons(q), memory_order_relaxed);
}

static inline int ring_empty_at(struct rxe_queue_buf *q, uint32_t cons)
{
	return atomic_load_explicit(ring_prod(q), memory_order_acquire) == cons;
}

static inline void ring_publish_cons(struct rxe_queue_buf *q, uint32_t cons)
{
	atomic_store_explicit(ring_cons(q), cons, memory_order_release);
}

#endif

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Mapping the rings that rxe exposes through the uverbs file. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msrxe.h"

/*
 * Can we use the ring the kernel handed us: a power of two of slots of at
 * least min_elem bytes each, all inside the mapping? EPROTO if not.
 */
static int ring_check(const struct msrxe_ring *ring, size_t min_elem)
{
	const struct rxe_queue_buf *q = ring->buf;
	uint64_t slots = (uint64_t)q->index_mask + 1;

	if (q->log2_elem_size >= 32 ||
	    ((uint64_t)1 << q->log2_elem_size) < min_elem)
		return EPROTO;
	if (slots & (slots - 1))
		return EPROTO;
	if (sizeof(*q) + (slots << q->log2_elem_size) > ring->map_size)
		return EPROTO;
	return 0;
}

/* Make the mapping at p the ring, if it holds min_elem-byte entries. */
static int ring_take(struct msrxe_ring *ring, void *p, size_t size,
		     size_t min_elem)
{
	int err;

	ring->buf = p;
	ring->map_size = size;
	ring->err = 0;
	err = ring_check(ring, min_elem);
	if (err)
		msrxe_ring_unmap(ring);
	return err;
}

/* Map a ring the kernel made, and check it holds min_elem-byte entries. */
int msrxe_ring_map(struct msrxe_ring *ring, int cmd_fd, const struct mminfo *mi,
		   size_t min_elem)
{
	void *p;

	if (!mi->size)
		return EPROTO;
	p = mmap(NULL, mi->size, PROT_READ | PROT_WRITE, MAP_SHARED, cmd_fd,
		 (off_t)mi->offset);
	if (p == MAP_FAILED)
		return errno;
	return ring_take(ring, p, mi->size, min_elem);
}

void msrxe_ring_unmap(struct msrxe_ring *ring)
{
	if (ring->buf)
		munmap(ring->buf, ring->map_size);
	ring->buf = NULL;
	ring->map_size = 0;
}

/*
 * A resize switches the kernel to its new ring before we can map that, so
 * the address space for the mapping is reserved first: if that fails the
 * object still runs on its old ring. The size is rxe's (rxe_queue_init):
 * num_elem + 1 slots rounded up to a power of two, of the old ring's
 * element size, after the header, in whole pages.
 */
int msrxe_ring_reserve(struct msrxe_ring *res, const struct msrxe_ring *old,
		       uint32_t num_elem)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t slots = 1, size;
	void *p;

	while (slots < (uint64_t)num_elem + 1)
		slots <<= 1;
	size = sizeof(struct rxe_queue_buf) +
	       (slots << old->buf->log2_elem_size);
	size = (size + page - 1) & ~(page - 1);
	p = mmap(NULL, (size_t)size, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	res->buf = p;
	res->map_size = (size_t)size;
	res->err = 0;
	return 0;
}

/* Map the kernel's new ring over the reservation, which it consumes. */
static int map_reserved(struct msrxe_ring *ring, struct msrxe_ring *res,
			int cmd_fd, const struct mminfo *mi, size_t min_elem)
{
	void *p;
	int err;

	if (!mi->size || mi->size > res->map_size) {
		/* not what rxe_queue_init makes: map it anywhere, or refuse */
		msrxe_ring_unmap(res);
		return msrxe_ring_map(ring, cmd_fd, mi, min_elem);
	}
	p = mmap(res->buf, mi->size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, cmd_fd, (off_t)mi->offset);
	if (p == MAP_FAILED) {
		err = errno;
		msrxe_ring_unmap(res);
		return err;
	}
	if (res->map_size > mi->size)
		munmap((char *)p + mi->size, res->map_size - mi->size);
	res->buf = NULL;
	res->map_size = 0;
	return ring_take(ring, p, mi->size, min_elem);
}

/*
 * Move a resized object to the ring the kernel made, mapped into res. If
 * that fails the kernel no longer uses the old ring: it stays mapped, so
 * that nothing touches freed memory, and ring->err makes every later poll
 * and post fail; a resize that succeeds clears it.
 */
int msrxe_ring_replace(struct msrxe_ring *ring, struct msrxe_ring *res,
		       int cmd_fd, const struct mminfo *mi, size_t min_elem)
{
	struct msrxe_ring new = { 0 };
	int err = map_reserved(&new, res, cmd_fd, mi, min_elem);

	if (err) {
		ring->err = err;
		return err;
	}
	msrxe_ring_unmap(ring);
	*ring = new;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Mapping the rings that rxe exposes through the uverbs file. */
#include <errno.h>
#include <sys/mman.h>

#include "msrxe.h"

int msrxe_ring_map(struct msrxe_ring *ring, int cmd_fd, const struct mminfo *mi)
{
	void *p;

	if (!mi->size)
		return EPROTO;
	p = mmap(NULL, mi->size, PROT_READ | PROT_WRITE, MAP_SHARED, cmd_fd,
		 (off_t)mi->offset);
	if (p == MAP_FAILED)
		return errno;
	ring->buf = p;
	ring->map_size = mi->size;
	return 0;
}

void msrxe_ring_unmap(struct msrxe_ring *ring)
{
	if (ring->buf)
		munmap(ring->buf, ring->map_size);
	ring->buf = NULL;
	ring->map_size = 0;
}

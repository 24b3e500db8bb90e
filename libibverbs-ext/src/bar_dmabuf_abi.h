/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ioctl ABI of the pci_bar_dmabuf driver (kernel patch 0035,
 * include/uapi/linux/pci_bar_dmabuf.h), which Debian's headers do not
 * have: /dev/pci-bar-dmabuf/<PCI address> hands out dma-buf file
 * descriptors for ranges of the function's memory BARs. Used by the
 * library (bar_dmabuf.c) and by the tests of the driver's ABI.
 */
#ifndef IBVX_BAR_DMABUF_ABI_H
#define IBVX_BAR_DMABUF_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PCI_BAR_DMABUF_READ_ONLY	(1U << 0)

struct pci_bar_dmabuf_export {
	__u32 bar;
	__u32 flags;
	__u64 offset;	/* page aligned */
	__u64 length;	/* page aligned, not 0 */
	__s32 fd;	/* out: the dma-buf, close-on-exec */
	__u32 reserved;
};

#define PCI_BAR_DMABUF_EXPORT	_IOWR(0xB9, 0x00, struct pci_bar_dmabuf_export)

#endif

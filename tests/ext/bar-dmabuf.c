/*
 * ibvx-test bar-dmabuf PCI_ADDRESS UNBOUND_ADDRESS BOUND_ADDRESS BACKING_FILE:
 * ibvx_open_bar_dmabuf() and ibvx_close_bar_dmabuf() on BAR 2 of the
 * function at PCI_ADDRESS, bound to pci_bar_dmabuf (QEMU's ivshmem-plain in
 * the test VM, whose BAR is BACKING_FILE on the host): a page exported
 * read-write, by the full and the short address, written through its mmap
 * and found in the file; a read-only export shows the file's bytes and
 * cannot be mapped for writing; then
 * every bad input, each with its errno and a message that says what to do,
 * UNBOUND_ADDRESS being a function bound to no driver and BOUND_ADDRESS one
 * bound to another driver. RDMA through
 * such buffers is rxe-odp-test dmabuf-p2p.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ibvx-test.h"

#define TEST_BAR 2

/*
 * Export the second page of BAR 2 at @addr and map it: read-write, write
 * @seed's pattern and find it in @file; read-only, find @file's bytes.
 */
static int export_page(struct rt_dev *d, const char *addr, unsigned int flags, uint32_t seed,
		       const char *file)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	bool ro = flags & IBVX_BAR_DMABUF_READ_ONLY;
	uint8_t host[pg], *p = MAP_FAILED;
	struct ibvx_bar_dmabuf bar;
	struct ibvx_error e;
	int ret;

	ret = ibvx_open_bar_dmabuf(&bar, addr, TEST_BAR, pg, pg, flags, &e);
	if (ret)
		return rt_fail(d, -ret, "ibvx_open_bar_dmabuf(%s): %s", addr, e.message);
	if (bar.fd < 0 || bar.device_fd < 0 || bar.length != pg || e.code) {
		ret = rt_fail(d, -EPROTO, "%s: fd %d, device_fd %d, length %llu, code %d", addr,
			      bar.fd, bar.device_fd, (unsigned long long)bar.length, e.code);
		goto close;
	}
	p = mmap(NULL, pg, PROT_READ | (ro ? 0 : PROT_WRITE), MAP_SHARED, bar.fd, 0);
	if (p == MAP_FAILED) {
		ret = rt_fail(d, -errno, "mmap of %s's dma-buf: %s", addr, strerror(errno));
		goto close;
	}
	if (!ro)
		rt_fill(p, pg, seed, 0);
	ret = rt_read_file(d, file, pg, host, pg);
	if (!ret)
		ret = ro ? rt_check_same(d, "the read-only mapping against the host's file", p,
					 host, pg) :
			   rt_check_pat(d, "the host's file after a write through the mapping",
					host, pg, seed, 0);
	if (!ret && ro && mmap(NULL, pg, PROT_WRITE, MAP_SHARED, bar.fd, 0) != MAP_FAILED)
		ret = rt_fail(d, -EPROTO, "a read-only export was mapped for writing");
	if (!ret)
		rt_ok(d, "%s: a page of BAR %d exported %s and mapped: %s", addr, TEST_BAR,
		      ro ? "read-only" : "read-write",
		      ro ? "the file's bytes, not writable" : "the bytes written are in the file");
close:
	if (p != MAP_FAILED)
		munmap(p, pg);
	if (ibvx_close_bar_dmabuf(&bar) && !ret)
		ret = rt_fail(d, -errno, "ibvx_close_bar_dmabuf failed");
	if (!ret && (bar.fd != -1 || bar.device_fd != -1))
		ret = rt_fail(d, -EPROTO, "ibvx_close_bar_dmabuf left the descriptors in buf");
	return ret;
}

struct bad_open {
	const char *what;	/* what is wrong */
	const char *addr;
	unsigned int bar;
	uint64_t offset, length;
	unsigned int flags;
	int want;		/* errno */
	const char *hint;	/* part of the message */
};

static int bad_open(struct rt_dev *d, const struct bad_open *c)
{
	struct ibvx_bar_dmabuf bar;
	struct ibvx_error e;
	int ret;

	ret = ibvx_open_bar_dmabuf(&bar, c->addr, c->bar, c->offset, c->length, c->flags, &e);
	if (!ret) {
		ibvx_close_bar_dmabuf(&bar);
		return rt_fail(d, -EPROTO, "%s: exported", c->what);
	}
	if (bar.fd != -1 || bar.device_fd != -1)
		return rt_fail(d, -EPROTO, "%s: a failed call left descriptors in buf", c->what);
	return ibvx_test_expect_err(d, c->what, ret, &e, c->want, c->hint);
}

int ibvx_test_bar_dmabuf(struct rt_dev *d, const char *pci_addr, const char *unbound_addr,
			 const char *bound_addr, const char *file)
{
	const uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	const char *short_addr = pci_addr + 5;	/* BB:DD.F of DDDD:BB:DD.F */
	const struct bad_open cases[] = {
		{ "a NULL address", NULL, TEST_BAR, 0, pg, 0, EINVAL, "not a PCI address" },
		{ "an address with a space", " 00:02.0", TEST_BAR, 0, pg, 0, EINVAL,
		  "not a PCI address" },
		{ "device 0x20", "0000:00:20.0", TEST_BAR, 0, pg, 0, EINVAL, "not a PCI address" },
		{ "a word", "ivshmem", TEST_BAR, 0, pg, 0, EINVAL, "DDDD:BB:DD.F" },
		{ "BAR 6", pci_addr, 6, 0, pg, 0, EINVAL, "BARs 0 to 5" },
		{ "an unknown flag", pci_addr, TEST_BAR, 0, pg, 1U << 7, EINVAL,
		  "unknown flags 0x80" },
		{ "an empty range", pci_addr, TEST_BAR, 0, 0, 0, EINVAL, "empty or wrapping" },
		{ "a wrapping range", pci_addr, TEST_BAR, UINT64_MAX - pg + 1, 2 * pg, 0, EINVAL,
		  "empty or wrapping" },
		{ "no such function", "0000:7e:1f.7", TEST_BAR, 0, pg, 0, ENODEV,
		  "there is no PCI function 0000:7e:1f.7" },
		{ "a function bound to no driver", unbound_addr, TEST_BAR, 0, pg, 0, ENODEV,
		  "is bound to no driver: write pci_bar_dmabuf to" },
		{ "a function bound to another driver", bound_addr, TEST_BAR, 0, pg, 0, ENODEV,
		  ", not to pci_bar_dmabuf: write pci_bar_dmabuf to its driver_override" },
		{ "an unused BAR", pci_addr, 5, 0, pg, 0, EINVAL, "BAR 5 of" },
		{ "a misaligned offset", pci_addr, TEST_BAR, 1, pg, 0, EINVAL, "multiples of" },
		{ "a range past the BAR", pci_addr, TEST_BAR, 1ULL << 40, pg, 0, ERANGE,
		  "lies past the end of BAR 2" },
	};
	struct ibvx_error e;
	size_t i;
	int err;

	rt_set_case(d, "bar-dmabuf/export");
	if (strlen(pci_addr) != 12)
		return rt_fail(d, -EINVAL, "%s: give the full address, DDDD:BB:DD.F", pci_addr);
	err = export_page(d, pci_addr, 0, 77, file);
	if (!err)
		err = export_page(d, short_addr, 0, 78, file);
	if (!err)
		err = export_page(d, pci_addr, IBVX_BAR_DMABUF_READ_ONLY, 0, file);

	rt_set_case(d, "bar-dmabuf/bad-input");
	if (!err)
		err = ibvx_test_expect_err(d, "buf NULL",
					   ibvx_open_bar_dmabuf(NULL, pci_addr, TEST_BAR, 0, pg, 0,
								&e),
					   &e, EINVAL, "buf is NULL");
	for (i = 0; i < RT_ARRAY_SIZE(cases) && !err; i++)
		err = bad_open(d, &cases[i]);
	if (!err && ibvx_close_bar_dmabuf(NULL) != EINVAL)
		err = rt_fail(d, -EPROTO, "ibvx_close_bar_dmabuf(NULL) did not return EINVAL");
	return err;
}

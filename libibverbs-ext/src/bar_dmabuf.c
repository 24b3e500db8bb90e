// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibvx_open_bar_dmabuf(): a range of a PCI BAR as a dma-buf for
 * ibv_reg_dmabuf_mr(), through the pci_bar_dmabuf driver (kernel patch
 * 0035), with a message that says what to do when it cannot be had.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bar_dmabuf_abi.h"
#include "error.h"

#define DRIVER "pci_bar_dmabuf"
#define PCI_STD_NUM_BARS 6

/* Whether @s has the shape of @pattern, where 'h' is a hexadecimal digit */
static bool has_shape(const char *s, const char *pattern)
{
	for (; *pattern; s++, pattern++)
		if (*pattern == 'h' ? !isxdigit((unsigned char)*s) : *s != *pattern)
			return false;
	return !*s;
}

/*
 * "DDDD:BB:DD.F" from @addr, which may leave the domain out; false when
 * @addr is not a PCI address.
 */
static bool canonical_address(const char *addr, char *out, size_t size)
{
	unsigned int domain = 0, bus, dev, fn;

	if (has_shape(addr, "hhhh:hh:hh.h"))
		sscanf(addr, "%x:%x:%x.%x", &domain, &bus, &dev, &fn);
	else if (has_shape(addr, "hh:hh.h"))
		sscanf(addr, "%x:%x.%x", &bus, &dev, &fn);
	else
		return false;
	if (dev > 0x1f || fn > 7)
		return false;
	snprintf(out, size, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	return true;
}

/* The driver @addr is bound to, or "" */
static void bound_driver(const char *addr, char *out, size_t size)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/driver", addr);
	n = readlink(link, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n > 0) {
		const char *name;

		target[n] = '\0';
		name = strrchr(target, '/');
		snprintf(out, size, "%.*s", (int)size - 1, name ? name + 1 : target);
	}
}

/* Why /dev/pci-bar-dmabuf/@addr could not be opened (@code: errno) */
static int explain_open(const char *addr, int code, struct ibvx_error *err)
{
	char path[PATH_MAX], driver[64];

	if (code != ENOENT)
		return ibvx_fail(err, code, "cannot open /dev/pci-bar-dmabuf/%s: %s", addr,
				 strerror(code));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", addr);
	if (access(path, F_OK))
		return ibvx_fail(err, ENODEV, "there is no PCI function %s (lspci -D lists them)",
				 addr);
	bound_driver(addr, driver, sizeof(driver));
	if (access("/sys/bus/pci/drivers/" DRIVER, F_OK))
		return ibvx_fail(err, ENODEV,
				 "the kernel has no %s driver: load its module (modprobe %s) on a kernel with the rdma-memstack series",
				 DRIVER, DRIVER);
	if (!strcmp(driver, DRIVER))
		return ibvx_fail(err, ENODEV,
				 "PCI function %s is bound to %s, but /dev/pci-bar-dmabuf/%s does not exist: is devtmpfs mounted on /dev?",
				 addr, DRIVER, addr);
	if (!driver[0])
		return ibvx_fail(err, ENODEV,
				 "PCI function %s is bound to no driver: write %s to /sys/bus/pci/devices/%s/driver_override and %s to /sys/bus/pci/drivers_probe",
				 addr, DRIVER, addr, addr);
	return ibvx_fail(err, ENODEV,
			 "PCI function %s is bound to %s, not to %s: write %s to its driver_override and its address to its driver's unbind, then to /sys/bus/pci/drivers_probe",
			 addr, driver, DRIVER, DRIVER);
}

/* Size of BAR @bar of @addr from sysfs, 0 when unknown or unused */
static uint64_t bar_size(const char *addr, unsigned int bar)
{
	unsigned long long start, end, flags;
	char path[PATH_MAX];
	uint64_t size = 0;
	unsigned int i;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", addr);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (i == bar && end > start)
			size = end - start + 1;
	}
	fclose(f);
	return size;
}

/* Why the export ioctl failed (@code: errno) */
static int explain_export(const char *addr, const struct pci_bar_dmabuf_export *req,
			  int code, struct ibvx_error *err)
{
	uint64_t size = bar_size(addr, req->bar);
	long page = sysconf(_SC_PAGESIZE);

	switch (code) {
	case ERANGE:
		return ibvx_fail(err, code,
				 "%#" PRIx64 "+%#" PRIx64 " lies past the end of BAR %u of %s (%#" PRIx64 " bytes)",
				 (uint64_t)req->offset, (uint64_t)req->length, req->bar, addr,
				 size);
	case EINVAL:
		if (!size)
			return ibvx_fail(err, code, "BAR %u of %s is not in use", req->bar, addr);
		return ibvx_fail(err, code,
				 "BAR %u of %s (%#" PRIx64 " bytes) cannot be exported at %#" PRIx64 "+%#" PRIx64 ": it must be a memory BAR of a page or more, and offset and length multiples of %ld",
				 req->bar, addr, size, (uint64_t)req->offset,
				 (uint64_t)req->length, page);
	case ENOTTY:
		return ibvx_fail(err, code,
				 "/dev/pci-bar-dmabuf/%s does not take PCI_BAR_DMABUF_EXPORT: the kernel's driver is not the one of the rdma-memstack series",
				 addr);
	default:
		return ibvx_fail(err, code, "exporting %#" PRIx64 "+%#" PRIx64 " of BAR %u of %s: %s",
				 (uint64_t)req->offset, (uint64_t)req->length, req->bar, addr,
				 strerror(code));
	}
}

int ibvx_open_bar_dmabuf(struct ibvx_bar_dmabuf *buf, const char *pci_addr, unsigned int bar,
			 uint64_t offset, uint64_t length, unsigned int flags,
			 struct ibvx_error *err)
{
	struct pci_bar_dmabuf_export req = { .bar = bar, .offset = offset, .length = length };
	char addr[16], path[64];
	int fd, code;

	if (!buf)
		return ibvx_fail(err, EINVAL, "ibvx_open_bar_dmabuf: buf is NULL");
	buf->fd = -1;
	buf->device_fd = -1;
	buf->length = 0;
	if (!pci_addr || !canonical_address(pci_addr, addr, sizeof(addr)))
		return ibvx_fail(err, EINVAL,
				 "ibvx_open_bar_dmabuf: '%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, hexadecimal)",
				 pci_addr ? pci_addr : "(null)");
	if (bar >= PCI_STD_NUM_BARS)
		return ibvx_fail(err, EINVAL, "ibvx_open_bar_dmabuf: BAR %u: a function has BARs 0 to %d",
				 bar, PCI_STD_NUM_BARS - 1);
	if (flags & ~IBVX_BAR_DMABUF_READ_ONLY)
		return ibvx_fail(err, EINVAL,
				 "ibvx_open_bar_dmabuf: unknown flags %#x (IBVX_BAR_DMABUF_* only)",
				 flags & ~IBVX_BAR_DMABUF_READ_ONLY);
	if (!length || offset + length < offset)
		return ibvx_fail(err, EINVAL,
				 "ibvx_open_bar_dmabuf: %#" PRIx64 "+%#" PRIx64 " is not a range (empty or wrapping)",
				 offset, length);
	if (flags & IBVX_BAR_DMABUF_READ_ONLY)
		req.flags |= PCI_BAR_DMABUF_READ_ONLY;

	snprintf(path, sizeof(path), "/dev/pci-bar-dmabuf/%s", addr);
	/* a read-only export needs only a read-only file */
	fd = open(path, (flags & IBVX_BAR_DMABUF_READ_ONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return explain_open(addr, errno, err);
	if (ioctl(fd, PCI_BAR_DMABUF_EXPORT, &req)) {
		code = errno;
		close(fd);
		return explain_export(addr, &req, code, err);
	}
	buf->fd = req.fd;
	buf->device_fd = fd;
	buf->length = length;
	return ibvx_ok(err);
}

int ibvx_close_bar_dmabuf(struct ibvx_bar_dmabuf *buf)
{
	int ret = 0;

	if (!buf)
		return EINVAL;
	/* the dma-buf first: closing the device's file revokes it */
	if (buf->fd >= 0 && close(buf->fd))
		ret = errno;
	if (buf->device_fd >= 0 && close(buf->device_fd) && !ret)
		ret = errno;
	buf->fd = -1;
	buf->device_fd = -1;
	buf->length = 0;
	return ret;
}

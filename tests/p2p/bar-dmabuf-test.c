// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exports ranges of a PCI BAR as dma-bufs through the pci_bar_dmabuf driver
 * and checks what userspace sees: refused bad requests, bytes written
 * through an mmap of the dma-buf found in the BAR's backing file (QEMU's
 * ivshmem-plain over a memory-backend-file), and the revocation of the
 * memory (the mapping faults with SIGBUS) when the exporting file is
 * closed or, while the program waits, the device is unbound or reset.
 * RDMA through such a buffer: rxe-odp-test dmabuf-p2p.
 *
 * usage: bar-dmabuf-test DEVICE bad-input BAR
 *        bar-dmabuf-test DEVICE cpu BAR OFFSET LENGTH BACKING_FILE
 *        bar-dmabuf-test DEVICE revoke-close BAR
 *        bar-dmabuf-test DEVICE revoke-wait BAR
 * DEVICE is /dev/pci-bar-dmabuf/<PCI address>. Exit status 0 when every
 * check passed, 1 when one failed, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bar_dmabuf_abi.h"

static int failures;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "FAIL: " __VA_ARGS__);                 \
			fputc('\n', stderr);                                   \
			failures++;                                            \
		}                                                              \
	} while (0)

/* Export a range; returns the dma-buf fd, or -errno */
static int export_range(int dev, uint32_t bar, uint64_t offset,
			uint64_t length, uint32_t flags)
{
	struct pci_bar_dmabuf_export req = {
		.bar = bar, .flags = flags, .offset = offset, .length = length,
		.fd = -1,
	};

	if (ioctl(dev, PCI_BAR_DMABUF_EXPORT, &req))
		return -errno;
	return req.fd;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 31 + 7);
}

/* SIGBUS while touching a mapping: the memory was revoked */
static sigjmp_buf bus_jump;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jump, 1);
}

/* Read one byte of @p; true when that raised SIGBUS */
static bool faults(volatile uint8_t *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool bus = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jump, 1))
		bus = true;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * The device opened for reading exports read-only ranges only: a writable
 * export needs write access to the device
 */
static void read_only_open(const char *path, uint32_t bar)
{
	int dev = open(path, O_RDONLY | O_CLOEXEC), fd;

	CHECK(dev >= 0, "open %s for reading: %s", path, strerror(errno));
	if (dev < 0)
		return;
	fd = export_range(dev, bar, 0, page_size(), 0);
	CHECK(fd == -EACCES, "a writable export through a read-only open: got %s, want EACCES",
	      fd >= 0 ? "a dma-buf" : strerror(-fd));
	if (fd >= 0)
		close(fd);
	else
		printf("refused a writable export through a read-only open: %s\n", strerror(-fd));
	fd = export_range(dev, bar, 0, page_size(), PCI_BAR_DMABUF_READ_ONLY);
	CHECK(fd >= 0, "a read-only export through a read-only open: %s",
	      fd >= 0 ? "" : strerror(-fd));
	if (fd >= 0)
		close(fd);
	close(dev);
}

/* Every request the driver must refuse, with its errno */
static void bad_input(const char *path, int dev, uint32_t bar)
{
	const uint64_t pg = page_size();
	struct {
		const char *what;
		uint32_t bar, flags;
		uint64_t offset, length;
		int err;
	} bad[] = {
		{ "a BAR index past the last", 6, 0, 0, pg, EINVAL },
		{ "an unused BAR (5)", 5, 0, 0, pg, EINVAL },
		{ "a length of 0", bar, 0, 0, 0, EINVAL },
		{ "a misaligned offset", bar, 0, 1, pg, EINVAL },
		{ "a misaligned length", bar, 0, 0, pg + 1, EINVAL },
		{ "an unknown flag", bar, 1U << 7, 0, pg, EINVAL },
		{ "an offset past the BAR", bar, 0, UINT64_MAX - pg + 1, pg, ERANGE },
		{ "a length past the BAR", bar, 0, pg, UINT64_MAX - pg + 1, ERANGE },
		{ "offset + length wrapping", bar, 0, 2 * pg, UINT64_MAX - pg + 1, ERANGE },
	};
	struct pci_bar_dmabuf_export req = { .bar = bar, .length = pg, .reserved = 1 };
	size_t i;
	int fd;

	/* ivshmem's BAR 0 holds its registers, 256 bytes */
	if (bar != 0) {
		fd = export_range(dev, 0, 0, pg, 0);
		CHECK(fd == -EINVAL, "BAR 0 (smaller than a page): got %s, want EINVAL",
		      fd >= 0 ? "a dma-buf" : strerror(-fd));
		if (fd >= 0)
			close(fd);
	}

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fd = export_range(dev, bad[i].bar, bad[i].offset, bad[i].length,
				  bad[i].flags);
		CHECK(fd == -bad[i].err, "%s: got %s, want %s", bad[i].what,
		      fd >= 0 ? "a dma-buf" : strerror(-fd), strerror(bad[i].err));
		if (fd >= 0)
			close(fd);
		else
			printf("refused %s: %s\n", bad[i].what, strerror(-fd));
	}
	CHECK(ioctl(dev, PCI_BAR_DMABUF_EXPORT, &req) == -1 && errno == EINVAL,
	      "a reserved field not 0 was not refused with EINVAL");
	CHECK(ioctl(dev, _IO(0xB9, 0x0f)) == -1 && errno == ENOTTY,
	      "an unknown ioctl was not refused with ENOTTY");
	CHECK(ioctl(dev, PCI_BAR_DMABUF_EXPORT, NULL) == -1 && errno == EFAULT,
	      "a NULL argument was not refused with EFAULT");
	read_only_open(path, bar);
}

/* Compare LENGTH bytes of FILE at OFFSET with the pattern, or with 0 */
static bool file_matches(int file, uint64_t offset, uint64_t length,
			 bool zero, uint64_t first)
{
	uint8_t *buf = malloc(length);
	bool ok;
	uint64_t i;

	if (!buf || pread(file, buf, length, (off_t)offset) != (ssize_t)length) {
		free(buf);
		return false;
	}
	ok = true;
	for (i = 0; i < length && ok; i++)
		ok = buf[i] == (zero ? 0 : pattern(first + i));
	free(buf);
	return ok;
}

/* The page of @file at @offset still holds @saved */
static bool page_unchanged(int file, uint64_t offset, const uint8_t *saved, uint64_t pg)
{
	uint8_t *now = malloc(pg);
	bool same = now && pread(file, now, pg, (off_t)offset) == (ssize_t)pg &&
		    !memcmp(now, saved, pg);

	free(now);
	return same;
}

/*
 * Write the pattern through the mapping at unaligned offsets (all but the
 * first and last bytes), read it back, find it in the backing file, and
 * check the pages around the range in the file did not change.
 */
static void cpu_access(int dev, uint32_t bar, uint64_t offset,
		       uint64_t length, const char *backing)
{
	const uint64_t pg = page_size();
	uint8_t *before = NULL, *after = NULL;
	volatile uint8_t *map;
	bool check_after;
	int fd, file;
	uint64_t i;

	file = open(backing, O_RDONLY);
	if (file < 0) {
		CHECK(0, "open %s: %s", backing, strerror(errno));
		return;
	}
	before = malloc(pg);
	after = malloc(pg);
	if (!before || !after)
		goto out;
	if (offset >= pg)
		CHECK(pread(file, before, pg, (off_t)(offset - pg)) == (ssize_t)pg,
		      "read the page before the range");
	check_after = pread(file, after, pg, (off_t)(offset + length)) == (ssize_t)pg;

	fd = export_range(dev, bar, offset, length, 0);
	if (fd < 0) {
		CHECK(0, "export of BAR %u [%#" PRIx64 ", +%#" PRIx64 "): %s",
		      bar, offset, length, strerror(-fd));
		goto out;
	}
	map = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		CHECK(0, "mmap of the dma-buf: %s", strerror(errno));
		close(fd);
		goto out;
	}
	map[0] = 0;
	map[length - 1] = 0;
	for (i = 1; i < length - 1; i++)
		map[i] = pattern(i);
	for (i = 1; i < length - 1; i++)
		if (map[i] != pattern(i))
			break;
	CHECK(i == length - 1, "byte %" PRIu64 " read back through the mapping differs", i);
	CHECK(file_matches(file, offset + 1, length - 2, false, 1),
	      "the backing file does not hold the bytes written through the mapping");
	CHECK(file_matches(file, offset, 1, true, 0) &&
	      file_matches(file, offset + length - 1, 1, true, 0),
	      "the range's first or last byte in the backing file is not 0");
	printf("wrote %" PRIu64 " bytes through the mapping; found in %s\n",
	       length - 2, backing);
	munmap((void *)map, length);

	/* a private mapping is refused: the memory is the device's */
	CHECK(mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED,
	      "a private mapping of the dma-buf was allowed");
	close(fd);

	/* a read-only export maps for reading only */
	fd = export_range(dev, bar, offset, length, PCI_BAR_DMABUF_READ_ONLY);
	CHECK(fd >= 0, "read-only export: %s", fd < 0 ? strerror(-fd) : "");
	if (fd >= 0) {
		map = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
		CHECK(map != MAP_FAILED && map[1] == pattern(1),
		      "a read-only export does not map for reading");
		if (map != MAP_FAILED)
			munmap((void *)map, length);
		errno = 0;
		CHECK(mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
		      errno == EACCES,
		      "a writable mapping of a read-only export was not refused with EACCES");
		close(fd);
	}

	if (offset >= pg)
		CHECK(page_unchanged(file, offset - pg, before, pg),
		      "the page before the range changed");
	/* (the range may end the BAR) */
	if (check_after)
		CHECK(page_unchanged(file, offset + length, after, pg),
		      "the page after the range changed");
out:
	free(before);
	free(after);
	close(file);
}

/* Export a page and map it; returns the mapping, the dma-buf in *fd */
static volatile uint8_t *export_and_map(int dev, uint32_t bar, int *fd)
{
	const uint64_t pg = page_size();
	void *map;

	*fd = export_range(dev, bar, 0, pg, 0);
	if (*fd < 0) {
		CHECK(0, "export: %s", strerror(-*fd));
		return NULL;
	}
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (map == MAP_FAILED) {
		CHECK(0, "mmap: %s", strerror(errno));
		return NULL;
	}
	CHECK(!faults(map), "the mapping faulted before the revocation");
	return map;
}

/* After a revocation: the old and a new mapping fault */
static void check_revoked(int fd, volatile uint8_t *map, const char *how)
{
	void *again;

	CHECK(faults(map), "the mapping still reads after %s", how);
	again = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
	if (again != MAP_FAILED) {
		CHECK(faults(again), "a new mapping reads after %s", how);
		munmap(again, page_size());
	}
	printf("after %s the mapping faults (SIGBUS)\n", how);
}

static void revoke_close(const char *device, int dev, uint32_t bar)
{
	volatile uint8_t *map;
	int fd;

	map = export_and_map(dev, bar, &fd);
	if (!map)
		return;
	close(dev);
	check_revoked(fd, map, "closing the exporting file");
	/* another open of the device exports again */
	dev = open(device, O_RDWR);
	CHECK(dev >= 0, "open %s again: %s", device, strerror(errno));
	if (dev >= 0) {
		int fd2 = export_range(dev, bar, 0, page_size(), 0);

		CHECK(fd2 >= 0, "export after reopening: %s", fd2 < 0 ? strerror(-fd2) : "");
		if (fd2 >= 0)
			close(fd2);
		close(dev);
	}
	close(fd);
}

/* Export, then wait for the caller to unbind or reset the device */
static void revoke_wait(int dev, uint32_t bar)
{
	volatile uint8_t *map;
	char line[64];
	int fd;

	map = export_and_map(dev, bar, &fd);
	if (!map)
		return;
	printf("exported\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		CHECK(0, "no go-ahead on stdin");
		return;
	}
	check_revoked(fd, map, "the unbind or reset");
	close(fd);
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bar-dmabuf-test DEVICE bad-input BAR\n"
		"       bar-dmabuf-test DEVICE cpu BAR OFFSET LENGTH BACKING_FILE\n"
		"       bar-dmabuf-test DEVICE revoke-close BAR\n"
		"       bar-dmabuf-test DEVICE revoke-wait BAR\n");
	return 2;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && *s && !*end;
}

int main(int argc, char **argv)
{
	uint64_t bar, offset, length;
	const char *cmd;
	int dev;

	if (argc < 4 || !parse_u64(argv[3], &bar) || bar > UINT32_MAX)
		return usage();
	cmd = argv[2];
	dev = open(argv[1], O_RDWR);
	if (dev < 0) {
		fprintf(stderr, "open %s: %s (is the device bound to pci_bar_dmabuf?)\n",
			argv[1], strerror(errno));
		return 1;
	}
	if (!strcmp(cmd, "bad-input") && argc == 4) {
		bad_input(argv[1], dev, (uint32_t)bar);
	} else if (!strcmp(cmd, "cpu") && argc == 7 &&
		   parse_u64(argv[4], &offset) && parse_u64(argv[5], &length) &&
		   length >= 2) {
		cpu_access(dev, (uint32_t)bar, offset, length, argv[6]);
	} else if (!strcmp(cmd, "revoke-close") && argc == 4) {
		revoke_close(argv[1], dev, (uint32_t)bar);
		dev = -1;
	} else if (!strcmp(cmd, "revoke-wait") && argc == 4) {
		revoke_wait(dev, (uint32_t)bar);
	} else {
		close(dev);
		return usage();
	}
	if (dev >= 0)
		close(dev);
	if (failures)
		fprintf(stderr, "%s: %d check(s) failed\n", cmd, failures);
	else
		printf("%s: all checks passed\n", cmd);
	return failures ? 1 : 0;
}

/*
 * Userspace driver of the kernel's dma_iova_benchmark module: for each IOMMU
 * invalidation mode and region size, time page-by-page, scatterlist and
 * two-step IOVA (link) mapping of a region for QEMU's edu device, and print
 * one table with the link/page ratios. Runs as root inside the test VM with
 * the module loaded (tests/guest/dma-iova-bench.sh does both).
 *
 * usage: dma-iova-bench [--pages N,N,...] [--modes strict,lazy]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_FILE "/sys/kernel/debug/dma_iova_benchmark/run"
#define DRIVER_DIR "/sys/bus/pci/drivers/dma_iova_benchmark"
#define PCI_DIR "/sys/bus/pci/devices"
#define MAX_SIZES 16
/* Each measurement maps at least this many pages in all */
#define MIN_TOTAL_PAGES 8192UL

enum method { M_PAGE, M_SG, M_LINK, M_COUNT };
static const char *const method_names[M_COUNT] = { "page", "sg", "link" };

struct mode {
	const char *name;	/* as the benchmark reports it */
	const char *group_type;	/* as sysfs iommu_group/type takes it */
};
static const struct mode known_modes[] = {
	{ "strict", "DMA" },
	{ "lazy", "DMA-FQ" },
};
#define MODE_COUNT (sizeof(known_modes) / sizeof(known_modes[0]))

struct figures {
	unsigned long pages, iterations;
	uint64_t map_ns, unmap_ns;
	long iova_allocs, iotlb_flushes;
	char mode[16];
};

struct options {
	unsigned long sizes[MAX_SIZES];
	int nsizes;
	const struct mode *modes[MODE_COUNT];
	int nmodes;
};

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The PCI address of the edu device (1234:11e8) */
static int find_edu(char *bdf, size_t len)
{
	char path[512], vendor[32], device[32];
	struct dirent *de;
	DIR *dir = opendir(PCI_DIR);

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DIR "/%s/vendor", de->d_name);
		if (read_file(path, vendor, sizeof(vendor)))
			continue;
		snprintf(path, sizeof(path), PCI_DIR "/%s/device", de->d_name);
		if (read_file(path, device, sizeof(device)))
			continue;
		if (!strcmp(vendor, "0x1234") && !strcmp(device, "0x11e8")) {
			size_t n = strlen(de->d_name);
			int ret = n < len ? 0 : -ENAMETOOLONG;

			if (!ret)
				memcpy(bdf, de->d_name, n + 1);
			closedir(dir);
			return ret;
		}
	}
	closedir(dir);
	return -ENODEV;
}

/*
 * Put the device's IOMMU group in @mode: the type can only change while no
 * driver is bound, so unbind the benchmark, change it, and bind again.
 */
static int set_mode(const char *bdf, const struct mode *mode)
{
	char path[512], got[32];
	int err;

	snprintf(path, sizeof(path), PCI_DIR "/%s/driver/unbind", bdf);
	if (access(path, F_OK) == 0 && (err = write_file(path, bdf))) {
		fprintf(stderr, "dma-iova-bench: cannot unbind %s: %s\n", bdf, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), PCI_DIR "/%s/iommu_group/type", bdf);
	err = write_file(path, mode->group_type);
	if (!err)
		err = read_file(path, got, sizeof(got));
	if (err || strcmp(got, mode->group_type)) {
		fprintf(stderr, "dma-iova-bench: cannot set %s to %s (%s): is the device behind an IOMMU?\n",
			path, mode->group_type, err ? strerror(-err) : got);
		return err ? err : -EIO;
	}
	err = write_file(DRIVER_DIR "/bind", bdf);
	if (err) {
		fprintf(stderr, "dma-iova-bench: cannot bind %s to %s: %s (is the dma_iova_benchmark module loaded?)\n",
			bdf, DRIVER_DIR, strerror(-err));
		return err;
	}
	return 0;
}

static int run_one(enum method m, unsigned long pages, unsigned long iterations,
		   struct figures *f)
{
	char cmd[128], line[512];
	int fd, err = 0;
	ssize_t n;

	fd = open(RUN_FILE, O_RDWR);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "dma-iova-bench: cannot open %s: %s (is the module loaded and bound?)\n",
			RUN_FILE, strerror(errno));
		return err;
	}
	snprintf(cmd, sizeof(cmd), "%s %lu %lu", method_names[m], pages, iterations);
	if (write(fd, cmd, strlen(cmd)) < 0) {
		err = -errno;
		fprintf(stderr, "dma-iova-bench: run '%s' failed: %s\n", cmd, strerror(errno));
		goto out;
	}
	n = pread(fd, line, sizeof(line) - 1, 0);
	if (n < 0) {
		err = -errno;
		fprintf(stderr, "dma-iova-bench: reading the figures of '%s' failed: %s\n", cmd,
			strerror(errno));
		goto out;
	}
	line[n] = '\0';
	if (sscanf(line,
		   "method=%*s pages=%lu iterations=%lu mode=%15s map_ns=%" SCNu64
		   " unmap_ns=%" SCNu64 " iova_allocs=%ld iotlb_flushes=%ld",
		   &f->pages, &f->iterations, f->mode, &f->map_ns, &f->unmap_ns, &f->iova_allocs,
		   &f->iotlb_flushes) != 7) {
		fprintf(stderr, "dma-iova-bench: cannot parse the module's answer: %s\n", line);
		err = -EPROTO;
	}
out:
	close(fd);
	return err;
}

static double ns_per_page(uint64_t ns, const struct figures *f)
{
	return (double)ns / ((double)f->pages * (double)f->iterations);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const unsigned long default_sizes[] = { 1, 16, 512, 4096, 262144 };
	int i;

	o->nsizes = 0;
	for (i = 0; i < 5; i++)
		o->sizes[o->nsizes++] = default_sizes[i];
	o->nmodes = MODE_COUNT;
	for (i = 0; i < (int)MODE_COUNT; i++)
		o->modes[i] = &known_modes[i];

	for (i = 1; i < argc; i++) {
		char *list, *tok, *save, *end;

		if (i + 1 >= argc || (strcmp(argv[i], "--pages") && strcmp(argv[i], "--modes"))) {
			fprintf(stderr, "usage: dma-iova-bench [--pages N,N,...] [--modes strict,lazy]\n");
			return -EINVAL;
		}
		list = argv[i + 1];
		if (!strcmp(argv[i], "--pages")) {
			o->nsizes = 0;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				errno = 0;
				unsigned long v = strtoul(tok, &end, 10);

				if (errno || *end || !v || v > (1UL << 20) || o->nsizes == MAX_SIZES) {
					fprintf(stderr, "dma-iova-bench: --pages wants up to %d numbers from 1 to %lu, not '%s'\n",
						MAX_SIZES, 1UL << 20, tok);
					return -EINVAL;
				}
				o->sizes[o->nsizes++] = v;
			}
		} else {
			o->nmodes = 0;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				size_t k;

				for (k = 0; k < MODE_COUNT && strcmp(tok, known_modes[k].name); k++)
					;
				if (k == MODE_COUNT || o->nmodes == (int)MODE_COUNT) {
					fprintf(stderr, "dma-iova-bench: --modes takes strict and lazy, not '%s'\n", tok);
					return -EINVAL;
				}
				o->modes[o->nmodes++] = &known_modes[k];
			}
		}
		if (!o->nsizes || !o->nmodes) {
			fprintf(stderr, "dma-iova-bench: %s wants a non-empty list\n", argv[i]);
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct figures all[MODE_COUNT][MAX_SIZES][M_COUNT];
	struct options o;
	char bdf[64];
	int mi, si, m, err;

	if (parse_options(argc, argv, &o))
		return 2;
	err = find_edu(bdf, sizeof(bdf));
	if (err) {
		fprintf(stderr, "dma-iova-bench: no edu PCI device (1234:11e8): %s; start QEMU with -device edu,dma_mask=0xffffffffffffffff\n",
			strerror(-err));
		return 1;
	}

	for (mi = 0; mi < o.nmodes; mi++) {
		if (set_mode(bdf, o.modes[mi]))
			return 1;
		for (si = 0; si < o.nsizes; si++) {
			unsigned long pages = o.sizes[si];
			unsigned long iterations = pages >= MIN_TOTAL_PAGES ? 1 : MIN_TOTAL_PAGES / pages;

			for (m = 0; m < M_COUNT; m++) {
				struct figures *f = &all[mi][si][m];

				if (run_one(m, pages, iterations, f))
					return 1;
				if (strcmp(f->mode, o.modes[mi]->name)) {
					fprintf(stderr, "dma-iova-bench: the device's domain is %s, not %s\n",
						f->mode, o.modes[mi]->name);
					return 1;
				}
			}
		}
	}

	printf("DMA mapping of a region for the edu device (%s), per page = (map + unmap) / pages\n", bdf);
	printf("%-7s %7s %-6s %12s %12s %12s %14s %13s\n", "mode", "pages", "method", "map ns/pg",
	       "unmap ns/pg", "total ns/pg", "IOTLB inv/reg", "IOVA allocs");
	for (mi = 0; mi < o.nmodes; mi++)
		for (si = 0; si < o.nsizes; si++)
			for (m = 0; m < M_COUNT; m++) {
				const struct figures *f = &all[mi][si][m];

				printf("%-7s %7lu %-6s %12.0f %12.0f %12.0f %14ld %13ld\n",
				       o.modes[mi]->name, f->pages, method_names[m],
				       ns_per_page(f->map_ns, f), ns_per_page(f->unmap_ns, f),
				       ns_per_page(f->map_ns + f->unmap_ns, f), f->iotlb_flushes,
				       f->iova_allocs);
			}

	printf("\nlink / page, total ns per page (target at 512 pages or more, strict: <= 0.20)\n");
	for (mi = 0; mi < o.nmodes; mi++)
		for (si = 0; si < o.nsizes; si++) {
			const struct figures *p = &all[mi][si][M_PAGE], *l = &all[mi][si][M_LINK];
			double ratio = ns_per_page(l->map_ns + l->unmap_ns, l) /
				       ns_per_page(p->map_ns + p->unmap_ns, p);

			printf("RESULT dma-iova %s pages=%lu link/page=%.3f sg/page=%.3f\n",
			       o.modes[mi]->name, p->pages, ratio,
			       ns_per_page(all[mi][si][M_SG].map_ns + all[mi][si][M_SG].unmap_ns,
					   &all[mi][si][M_SG]) /
				       ns_per_page(p->map_ns + p->unmap_ns, p));
		}
	return 0;
}

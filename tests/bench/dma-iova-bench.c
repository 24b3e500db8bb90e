/*
 * Userspace driver of the kernel's dma_iova_benchmark module: for each IOMMU
 * invalidation mode, physical layout of the pages and region size, time
 * page-by-page, scatterlist and two-step IOVA (link) mapping of a region for
 * QEMU's edu device, and print one table with the link/page and link/sg
 * ratios. Runs as root inside the test VM with the module loaded
 * (tests/guest/dma-iova-bench.sh does both).
 *
 * usage: dma-iova-bench [--pages N,N,...] [--modes strict,lazy]
 *                       [--layouts scattered,contiguous]
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

/* Where a region's pages lie in physical memory (the module's LAYOUT) */
enum layout { L_SCATTERED, L_CONTIGUOUS, L_COUNT };
static const char *const layout_names[L_COUNT] = { "scattered", "contiguous" };

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
	enum layout layouts[L_COUNT];
	int nlayouts;
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

static int run_one(enum method m, enum layout l, unsigned long pages,
		   unsigned long iterations, struct figures *f)
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
	snprintf(cmd, sizeof(cmd), "%s %lu %lu %s", method_names[m], pages, iterations,
		 layout_names[l]);
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
		   "method=%*s layout=%*s pages=%lu iterations=%lu mode=%15s map_ns=%" SCNu64
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

/* One name of a comma-separated list: its index in names[], or -1 */
static int name_index(const char *tok, const char *const *names, int count)
{
	int k;

	for (k = 0; k < count; k++)
		if (!strcmp(tok, names[k]))
			return k;
	return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const unsigned long default_sizes[] = { 1, 16, 512, 4096, 262144 };
	const char *mode_names[MODE_COUNT];
	int i, k;

	o->nsizes = 0;
	for (i = 0; i < 5; i++)
		o->sizes[o->nsizes++] = default_sizes[i];
	o->nmodes = MODE_COUNT;
	for (i = 0; i < (int)MODE_COUNT; i++) {
		o->modes[i] = &known_modes[i];
		mode_names[i] = known_modes[i].name;
	}
	o->nlayouts = L_COUNT;
	for (i = 0; i < L_COUNT; i++)
		o->layouts[i] = i;

	for (i = 1; i < argc; i++) {
		char *list, *tok, *save, *end;
		int n = 0;

		if (i + 1 >= argc || (strcmp(argv[i], "--pages") && strcmp(argv[i], "--modes") &&
				      strcmp(argv[i], "--layouts"))) {
			fprintf(stderr, "usage: dma-iova-bench [--pages N,N,...] [--modes strict,lazy] [--layouts scattered,contiguous]\n");
			return -EINVAL;
		}
		list = argv[i + 1];
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
			if (!strcmp(argv[i], "--pages")) {
				errno = 0;
				unsigned long v = strtoul(tok, &end, 10);

				if (errno || *end || !v || v > (1UL << 20) || n == MAX_SIZES) {
					fprintf(stderr, "dma-iova-bench: --pages wants up to %d numbers from 1 to %lu, not '%s'\n",
						MAX_SIZES, 1UL << 20, tok);
					return -EINVAL;
				}
				o->sizes[n] = v;
			} else if (!strcmp(argv[i], "--modes")) {
				k = name_index(tok, mode_names, MODE_COUNT);
				if (k < 0 || n == (int)MODE_COUNT) {
					fprintf(stderr, "dma-iova-bench: --modes takes strict and lazy, not '%s'\n", tok);
					return -EINVAL;
				}
				o->modes[n] = &known_modes[k];
			} else {
				k = name_index(tok, layout_names, L_COUNT);
				if (k < 0 || n == L_COUNT) {
					fprintf(stderr, "dma-iova-bench: --layouts takes scattered and contiguous, not '%s'\n", tok);
					return -EINVAL;
				}
				o->layouts[n] = k;
			}
		}
		if (!n) {
			fprintf(stderr, "dma-iova-bench: %s wants a non-empty list\n", argv[i]);
			return -EINVAL;
		}
		if (!strcmp(argv[i], "--pages"))
			o->nsizes = n;
		else if (!strcmp(argv[i], "--modes"))
			o->nmodes = n;
		else
			o->nlayouts = n;
		i++;
	}
	return 0;
}

static double total_per_page(const struct figures *f)
{
	return ns_per_page(f->map_ns + f->unmap_ns, f);
}

int main(int argc, char **argv)
{
	static struct figures all[MODE_COUNT][L_COUNT][MAX_SIZES][M_COUNT];
	struct options o;
	char bdf[64];
	int mi, li, si, m, err;

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
		for (li = 0; li < o.nlayouts; li++)
			for (si = 0; si < o.nsizes; si++) {
				unsigned long pages = o.sizes[si];
				unsigned long iterations = pages >= MIN_TOTAL_PAGES ?
								   1 : MIN_TOTAL_PAGES / pages;

				for (m = 0; m < M_COUNT; m++) {
					struct figures *f = &all[mi][li][si][m];

					if (run_one(m, o.layouts[li], pages, iterations, f))
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
	printf("%-7s %-10s %7s %-6s %12s %12s %12s %14s %13s\n", "mode", "layout", "pages", "method",
	       "map ns/pg", "unmap ns/pg", "total ns/pg", "IOTLB inv/reg", "IOVA allocs");
	for (mi = 0; mi < o.nmodes; mi++)
		for (li = 0; li < o.nlayouts; li++)
			for (si = 0; si < o.nsizes; si++)
				for (m = 0; m < M_COUNT; m++) {
					const struct figures *f = &all[mi][li][si][m];

					printf("%-7s %-10s %7lu %-6s %12.0f %12.0f %12.0f %14ld %13ld\n",
					       o.modes[mi]->name, layout_names[o.layouts[li]], f->pages,
					       method_names[m], ns_per_page(f->map_ns, f),
					       ns_per_page(f->unmap_ns, f), total_per_page(f),
					       f->iotlb_flushes, f->iova_allocs);
				}

	printf("\nTotal ns per page: link / page (target at 512 pages or more, strict: <= 0.20),\n"
	       "link / sg (target at 512 pages or more: <= 1.25)\n");
	for (mi = 0; mi < o.nmodes; mi++)
		for (li = 0; li < o.nlayouts; li++)
			for (si = 0; si < o.nsizes; si++) {
				const struct figures *f = all[mi][li][si];
				double page = total_per_page(&f[M_PAGE]);
				double sg = total_per_page(&f[M_SG]);
				double link = total_per_page(&f[M_LINK]);

				printf("RESULT dma-iova %s layout=%s pages=%lu link/page=%.3f sg/page=%.3f link/sg=%.3f\n",
				       o.modes[mi]->name, layout_names[o.layouts[li]],
				       f[M_PAGE].pages, link / page, sg / page, link / sg);
			}
	return 0;
}

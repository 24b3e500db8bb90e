/*
 * ibvx-test [-d DEVICE] [-g GID] SUBCOMMAND
 *   state MODE     counters move as scripted; rdma resource show agrees
 *                  (MODE: virt or iommu, rxe0's ODP mode)
 *   bad-input      every entry point with bad input, each in a process
 *   no-extension   under no-ext-shim.so: EOPNOTSUPP and its message
 *   bar-dmabuf PCI_ADDRESS UNBOUND_ADDRESS BOUND_ADDRESS BACKING_FILE
 *                  BAR dma-bufs: exports checked in the BAR's file, bad
 *                  input (functions bound to no driver, to another one)
 * Exit status: 0 pass, 1 fail, 2 bad usage.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ibvx-test.h"

int ibvx_test_query(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s,
		    const char *what)
{
	struct ibvx_error err;
	int ret;

	ret = ibvx_query_mr_odp(mr, s, sizeof(*s), &err);
	if (ret)
		return rt_fail(d, -ret, "%s: ibvx_query_mr_odp: %s", what, err.message);
	rt_info(d, "%-22s flags %#llx iova %llu page %llu mapped %llu faults %llu errors %llu invalidations %llu prefetches %llu bookkeeping %llu",
		what, (unsigned long long)s->flags, (unsigned long long)s->iova_bytes,
		(unsigned long long)s->page_size, (unsigned long long)s->pages_mapped,
		(unsigned long long)s->faults, (unsigned long long)s->fault_errors,
		(unsigned long long)s->invalidations, (unsigned long long)s->prefetches,
		(unsigned long long)s->bookkeeping_bytes);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: ibvx-test [-d DEVICE] [-g GID] state virt|iommu | bad-input | no-extension\n"
			"       ibvx-test bar-dmabuf PCI_ADDRESS UNBOUND_ADDRESS BOUND_ADDRESS BACKING_FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct rt_dev_opts o = { .name = "rxe0", .port = 1, .gid = -1, .gid_hint = "-g",
				 .timeout_s = 10 };
	struct rt_dev d = { .fail_prefix = "FAIL " };
	int c, ret;

	while ((c = getopt(argc, argv, "d:g:")) != -1) {
		switch (c) {
		case 'd': o.name = optarg; break;
		case 'g': o.gid = (int)rt_parse_num(optarg, 0, 255); break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	snprintf(d.where, sizeof(d.where), "ibvx-test %s", argv[optind]);
	if (!strcmp(argv[optind], "state") && optind + 2 == argc &&
	    (!strcmp(argv[optind + 1], "virt") || !strcmp(argv[optind + 1], "iommu")))
		ret = ibvx_test_state(&d, &o, argv[optind + 1]);
	else if (!strcmp(argv[optind], "bad-input") && optind + 1 == argc)
		ret = ibvx_test_bad_input(&d, &o);
	else if (!strcmp(argv[optind], "no-extension") && optind + 1 == argc)
		ret = ibvx_test_no_extension(&d, &o);
	else if (!strcmp(argv[optind], "bar-dmabuf") && optind + 5 == argc)
		ret = ibvx_test_bar_dmabuf(&d, argv[optind + 1], argv[optind + 2],
					   argv[optind + 3], argv[optind + 4]);
	else
		return usage();
	printf("%s: %s\n", d.where, ret ? "FAIL" : "PASS");
	return ret ? 1 : 0;
}

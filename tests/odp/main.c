/*
 * Functional tests of On-Demand Paging (ODP) and dma-buf memory regions on
 * an rxe device (kernel patches 0014-0020), in loopback: the QP pairs of
 * each case are two QPs of one device in this process, connected to each
 * other. One command runs one group of cases, each group in a file of its
 * own (the table below):
 *
 *   traffic    ODP MRs on both sides: SEND/RECV, RDMA WRITE, RDMA READ,
 *              atomic fetch-add and compare-swap, SRQ receives and a UD
 *              send; multi-page buffers at unaligned offsets; every byte
 *              checked; the odp_faults counter rises
 *   races      a thread moves data with RDMA WRITE + READ on an ODP MR
 *              (and through an implicit MR for the munmap) while the main
 *              thread munmaps a part of it, drops a part
 *              with madvise(MADV_DONTNEED), makes a part read-only with
 *              mprotect, or forks; errors exactly where the access became
 *              illegal, right bytes everywhere else
 *   readonly   read-only memory (a file mapping, an mprotected mapping)
 *              under an ODP MR: RDMA READ serves it, writes fail
 *   bad-input  refused registrations, posting to a QP after an ODP error,
 *              advise_mr on bad input
 *   prefetch   ibv_advise_mr: synchronous and asynchronous prefetch for
 *              reading and writing, no-fault prefetch; counters and data;
 *              then asynchronous prefetch + RC traffic, --repeat N times
 *   dmabuf     dma-buf MRs (kernel patch 0020) over a udmabuf of a memfd:
 *              RDMA READ, WRITE, SEND/RECV and an atomic through them,
 *              bytes checked through the memfd; a part of the buffer at
 *              another iova; the rights of the MR; the MR outlives the
 *              file descriptors; bad registrations refused (needs a
 *              provider with ibv_reg_dmabuf_mr: msrxe)
 *   dmabuf-p2p PCI_ADDRESS BACKING_FILE  dma-buf MRs over a range of BAR 2
 *              of the function at PCI_ADDRESS, bound to pci_bar_dmabuf,
 *              exported through libibverbs-ext (BACKING_FILE the BAR's
 *              memory as the host has it, QEMU's ivshmem-plain backing
 *              file): the dmabuf data cases, bytes checked through the
 *              dma-buf's mmap and in the file; read-only exports; the
 *              memory revoked under the MR; bad registrations (both rxe
 *              ODP modes; in the IOMMU mode the BAR is also mapped for
 *              the network device's PCI function)
 *   implicit   implicit ODP MRs (the whole address space): traffic low,
 *              high, across a 1 GiB boundary, beside a hole; munmap and
 *              a new mmap; bookkeeping by slots touched; fork; four
 *              processes with an MR each; bad registrations
 *   prefetch-teardown  ibv_dereg_mr while an asynchronous prefetch of
 *              1 GiB runs: nothing is mapped after it returns
 *   prefetch-hold  start that prefetch and wait to be killed (the guest
 *              script deletes the device under it)
 *
 * Each check prints a line; the first failure prints "FAIL <case>: ..."
 * (expected, got) and ends the program. Exit status: 0 all checks passed,
 * 1 a check failed or the device could not do the work, 2 bad usage
 * (an unknown command too), 77 the loaded verbs provider has no
 * ibv_advise_mr (the stock rxe provider; msrxe has it), so the advise_mr
 * checks did not run.
 *
 * usage: rxe-odp-test [-d DEV] [-p PORT] [-g GIDX] [-t SECONDS] COMMAND [--repeat N]
 *        rxe-odp-test [...] dmabuf-p2p PCI_ADDRESS BACKING_FILE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odp-test.h"

struct command {
	const char *name;
	int (*run)(struct rt_dev *d, const struct options *o);
	bool repeat;		/* takes --repeat N */
	bool p2p;		/* takes PCI_ADDRESS BACKING_FILE */
};

static const struct command commands[] = {
	{ "traffic", cmd_traffic, false, false },
	{ "races", cmd_races, false, false },
	{ "readonly", cmd_readonly, false, false },
	{ "bad-input", cmd_bad_input, false, false },
	{ "prefetch", cmd_prefetch, true, false },
	{ "dmabuf", cmd_dmabuf, false, false },
	{ "dmabuf-p2p", cmd_dmabuf_p2p, false, true },
	{ "implicit", cmd_implicit, false, false },
	{ "prefetch-teardown", cmd_prefetch_teardown, false, false },
	{ "prefetch-hold", cmd_prefetch_hold, false, false },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: " PROG " [-d DEV] [-p PORT] [-g GIDX] [-t SECONDS] COMMAND [--repeat N]\n"
		   "       " PROG " [...] dmabuf-p2p PCI_ADDRESS BACKING_FILE\n"
		   "  COMMAND   ");
	for (i = 0; i < RT_ARRAY_SIZE(commands); i++)
		fprintf(f, "%s%s", i ? " | " : "", commands[i].name);
	fprintf(f, "\n"
		   "  -d DEV    RDMA device (default rxe0)\n"
		   "  -p PORT   port (default 1)\n"
		   "  -g GIDX   GID index (default: the port's first RoCE v2 GID of an IPv4 address)\n"
		   "  -t SEC    wait this long for a completion before calling it a hang (default 60)\n"
		   "  --repeat N  prefetch only: run the async prefetch + RC traffic test N times (default 1)\n"
		   "exit status: 0 passed, 1 failed, 2 bad usage, %d ibv_advise_mr unsupported by the\n"
		   "loaded provider (bad-input, prefetch; the other bad-input checks passed)\n",
		EXIT_NO_ADVISE);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < RT_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The options before the command; -EINVAL (reported) on bad usage */
static int parse_flags(int argc, char **argv, struct options *o)
{
	long long v;
	int c;

	while ((c = getopt(argc, argv, "+d:p:g:t:h")) != -1) {
		switch (c) {
		case 'd':
			o->dev = optarg;
			continue;
		case 'p':
			if ((v = rt_parse_num(optarg, 1, 255)) < 0)
				break;
			o->port = (int)v;
			continue;
		case 'g':
			if ((v = rt_parse_num(optarg, 0, 255)) < 0)
				break;
			o->gid = (int)v;
			continue;
		case 't':
			if ((v = rt_parse_num(optarg, 1, 3600)) < 0)
				break;
			o->timeout_s = (int)v;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		fprintf(stderr, PROG ": bad value '%s' for -%c (see -h for the range)\n", optarg, c);
		return -EINVAL;
	}
	return 0;
}

/* The arguments after the command @cmd (--repeat N for those that take it) */
static int parse_command_args(int argc, char **argv, const struct command *cmd,
			      struct options *o)
{
	long long v;

	if (cmd->p2p) {
		if (argc - optind != 2) {
			fprintf(stderr, PROG ": %s wants PCI_ADDRESS BACKING_FILE\n", o->cmd);
			usage(stderr);
			return -EINVAL;
		}
		o->p2p_addr = argv[optind];
		o->p2p_file = argv[optind + 1];
		optind += 2;
	}
	while (optind < argc) {
		if (cmd->repeat && !strcmp(argv[optind], "--repeat") && optind + 1 < argc) {
			v = rt_parse_num(argv[optind + 1], 1, 100000);
			if (v < 0) {
				fprintf(stderr, PROG ": --repeat wants a number from 1 to 100000, not '%s'\n",
					argv[optind + 1]);
				return -EINVAL;
			}
			o->repeat = (unsigned long)v;
			optind += 2;
			continue;
		}
		fprintf(stderr, PROG ": unexpected argument '%s' for %s\n", argv[optind], o->cmd);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* Options and command into @o, the command's entry into @cmd; -EINVAL on bad usage */
static int parse_options(int argc, char **argv, struct options *o, const struct command **cmd)
{
	int err;

	*o = (struct options){ .dev = "rxe0", .port = 1, .gid = -1, .timeout_s = 60, .repeat = 1 };
	err = parse_flags(argc, argv, o);
	if (err)
		return err;
	if (optind >= argc) {
		fprintf(stderr, PROG ": no command given\n");
		usage(stderr);
		return -EINVAL;
	}
	o->cmd = argv[optind++];
	*cmd = find_command(o->cmd);
	if (!*cmd) {
		fprintf(stderr, PROG ": unknown command '%s'\n", o->cmd);
		usage(stderr);
		return -EINVAL;
	}
	return parse_command_args(argc, argv, *cmd, o);
}

/* Open the device and learn how long its counters are cached */
static int open_dev(struct rt_dev *d, const struct options *o)
{
	const struct rt_dev_opts dev = {
		.name = o->dev,
		.port = o->port,
		.gid = o->gid,
		.gid_hint = "-g GIDX",
		.timeout_s = o->timeout_s,
	};
	int err;

	d->fail_prefix = "FAIL ";
	snprintf(d->where, sizeof(d->where), "setup");
	err = rt_open(d, &dev);
	if (!err)
		err = rt_counters_init(d);
	return err;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct options o;
	struct rt_dev d;
	int err;

	if (parse_options(argc, argv, &o, &cmd))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&d, 0, sizeof(d));
	err = open_dev(&d, &o);
	if (!err)
		err = cmd->run(&d, &o);
	rt_close(&d);
	if (err == EXIT_NO_ADVISE) {
		printf(PROG " %s: the checks that ran passed; the advise_mr checks did not run (exit %d)\n",
		       o.cmd, EXIT_NO_ADVISE);
		return EXIT_NO_ADVISE;
	}
	if (err) {
		fprintf(stderr, PROG " %s: FAILED (%s)\n", o.cmd, strerror(-err));
		return 1;
	}
	printf(PROG " %s: PASS\n", o.cmd);
	return 0;
}

/*
 * rxe-odp-bench: what its files share (rxe-odp-bench.c has the program and
 * part a, rxe-odp-bench-first-touch.c part b, rxe-odp-bench-sparse.c the
 * sparse-MR part e).
 */
#ifndef RXE_ODP_BENCH_H
#define RXE_ODP_BENCH_H

#include "rdmatest.h"

#define PROG "rxe-odp-bench"

#define MAX_ROUNDS 15
/* Part (b)'s cases (ft_cases[]) */
#define FT_CASES 4

struct options {
	const char *dev;
	int port;
	int gid;		/* -1: the first RoCE v2 GID of an IPv4 address */
	unsigned long pages;
	unsigned long size;
	unsigned long iters;
	unsigned long atomics;
	int rounds;
	bool part[4];		/* bw, atomic, ft, sparse */
	bool ft_case[FT_CASES];	/* as ft_cases[] */
};

/* The device and one RC QP pair: qp[0] posts, qp[1] is its peer; one CQ */
struct bench {
	struct rt_dev d;
	struct rt_pair pair;
};

/* A case of part (b): the kind of memory and MR first touched */
struct ft_case {
	const char *name;
	bool odp;
	bool populate;
	bool thp;	/* madvise(MADV_HUGEPAGE)d, whole 2 MiB pages */
	const char *what;
};

extern const struct ft_case ft_cases[FT_CASES];

/* A figure line: "KEY VALUE UNIT" */
void fig(const char *key, double value, const char *unit);
void fig_count(const char *key, long long value);
/* The median of @n values (sorts them) */
double median(double *v, int n);
/* Of @r's bytes, the share in transparent huge pages (smaps), or -1 */
double huge_share(const struct rt_region *r);

/* Register all of @r, ODP or pinned; the registration time goes to @reg_ns */
int region_register(struct bench *b, struct rt_region *r, bool odp, uint64_t *reg_ns);
/*
 * Map @len bytes (untouched, or written by the CPU when @populate) and
 * register them, ODP or pinned; the registration time goes to @reg_ns.
 */
int region_make(struct bench *b, struct rt_region *r, size_t len, bool odp, bool populate,
		uint64_t *reg_ns);
/*
 * @n work requests between @local and @remote, a bounded number in flight:
 * request k moves at most @piece bytes at offset k * @stride of both, none
 * past @len; the duration goes to @ns
 */
int transfer_series(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local,
		    struct ibv_mr *remote, unsigned long n, size_t stride, size_t piece, size_t len,
		    uint64_t *ns);
/* One transfer of all of @len bytes, in pieces of at most the port's max_msg_sz */
int transfer(struct bench *b, enum ibv_wr_opcode op, struct ibv_mr *local, struct ibv_mr *remote,
	     size_t len, uint64_t *ns);
/* Faults so far of the ODP MRs of @n regions (their ODP state) */
int regions_faults(struct bench *b, const struct rt_region *r, int n, long long *faults);

int bench_first_touch(struct bench *b, const struct options *o);
int bench_sparse(struct rt_dev *d, struct rt_pair *pair, int rounds);

#endif

/*
 * rxe-odp-bench: what its files share (rxe-odp-bench.c has the program and
 * its parts a-c, rxe-odp-bench-sparse.c the sparse-MR part).
 */
#ifndef RXE_ODP_BENCH_H
#define RXE_ODP_BENCH_H

#include "rdmatest.h"

#define PROG "rxe-odp-bench"

/* A figure line: "KEY VALUE UNIT" */
void fig(const char *key, double value, const char *unit);
void fig_count(const char *key, long long value);
/* The median of @n values (sorts them) */
double median(double *v, int n);
/* Of @r's bytes, the share in transparent huge pages (smaps), or -1 */
double huge_share(const struct rt_region *r);

int bench_sparse(struct rt_dev *d, struct rt_pair *pair, int rounds);

#endif

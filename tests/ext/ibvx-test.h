/*
 * ibvx-test: tests of libibverbs-ext on rxe0 (tests/guest/ibverbs-ext.sh).
 * One file per subcommand: state.c, bad-input.c, no-extension.c.
 */
#ifndef IBVX_TEST_H
#define IBVX_TEST_H

#include <infiniband/verbs_ext.h>

#include "rdmatest.h"

int ibvx_test_state(struct rt_dev *d, const struct rt_dev_opts *o, const char *mode);
int ibvx_test_bad_input(struct rt_dev *d, const struct rt_dev_opts *o);
int ibvx_test_no_extension(struct rt_dev *d, const struct rt_dev_opts *o);

/* Query @mr's ODP state into @s; print it under @what; -errno on failure */
int ibvx_test_query(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s,
		    const char *what);

#endif

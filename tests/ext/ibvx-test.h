/*
 * ibvx-test: tests of libibverbs-ext on rxe0 (tests/guest/ibverbs-ext.sh).
 * One file per subcommand: state.c, bad-input.c, no-extension.c,
 * bar-dmabuf.c.
 */
#ifndef IBVX_TEST_H
#define IBVX_TEST_H

#include <infiniband/verbs_ext.h>

#include "rdmatest.h"

int ibvx_test_state(struct rt_dev *d, const struct rt_dev_opts *o, const char *mode);
int ibvx_test_bad_input(struct rt_dev *d, const struct rt_dev_opts *o);
int ibvx_test_no_extension(struct rt_dev *d, const struct rt_dev_opts *o);

int ibvx_test_bar_dmabuf(struct rt_dev *d, const char *pci_addr, const char *unbound_addr,
			 const char *bound_addr, const char *file);

/* A call returned @got with @e; it must be @want with a message naming @hint */
int ibvx_test_expect_err(struct rt_dev *d, const char *call, int got, const struct ibvx_error *e,
			 int want, const char *hint);

/* Query @mr's ODP state into @s; print it under @what; -errno on failure */
int ibvx_test_query(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s,
		    const char *what);

#endif

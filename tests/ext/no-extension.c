/*
 * ibvx-test no-extension, run under no-ext-shim.so: the kernel answers the
 * ODP MR query as one without the method does, and the library says so
 * (EOPNOTSUPP, a message naming what is missing) without crashing; what
 * does not need the method (registration) still works.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "ibvx-test.h"

int ibvx_test_no_extension(struct rt_dev *d, const struct rt_dev_opts *o)
{
	const unsigned long *rewritten = dlsym(RTLD_DEFAULT, "no_ext_shim_rewritten");
	struct ibvx_mr_odp_state s;
	struct rt_region r = { 0 };
	struct ibvx_error e;
	int err, ret;

	if (!rewritten)
		return rt_fail(d, -ENOENT, "no-ext-shim.so is not loaded (LD_PRELOAD it)");
	err = rt_open(d, o) ?: rt_region_map(d, &r, 16 * d->page);
	if (err)
		goto out;
	ret = ibvx_probe(d->ctx, &e);
	if (ret != EOPNOTSUPP || !strstr(e.message, "UVERBS_METHOD_QUERY_MR_ODP")) {
		err = rt_fail(d, -EPROTO, "ibvx_probe: %d \"%s\", expected EOPNOTSUPP naming the method",
			      ret, ret ? e.message : "");
		goto out;
	}
	rt_ok(d, "ibvx_probe: EOPNOTSUPP: %s", e.message);
	r.mr = ibvx_reg_odp_mr(d->pd, r.addr, r.len, IBV_ACCESS_LOCAL_WRITE, IBVX_PREFETCH_NONE, &e);
	if (!r.mr) {
		err = rt_fail(d, -errno, "ibvx_reg_odp_mr: %s", e.message);
		goto out;
	}
	rt_ok(d, "ibvx_reg_odp_mr works without the extension");
	ret = ibvx_query_mr_odp(r.mr, &s, sizeof(s), &e);
	if (ret != EOPNOTSUPP || !strstr(e.message, "UVERBS_METHOD_QUERY_MR_ODP")) {
		err = rt_fail(d, -EPROTO, "ibvx_query_mr_odp: %d \"%s\", expected EOPNOTSUPP", ret,
			      ret ? e.message : "");
		goto out;
	}
	rt_ok(d, "ibvx_query_mr_odp: EOPNOTSUPP: %s", e.message);
	if (!*rewritten)
		err = rt_fail(d, -EPROTO, "the shim rewrote no query: the answers were not the kernel's");
	else
		rt_info(d, "the shim sent %lu queries to the kernel as an absent method", *rewritten);
out:
	rt_region_free(&r);
	rt_close(d);
	return err;
}

/*
 * An LD_PRELOAD library that makes every RDMA device of the process report
 * no implicit ODP (IBV_ODP_SUPPORT_IMPLICIT cleared in the general ODP caps
 * of ibv_query_device_ex()), as on a kernel without it (before patch 0029,
 * or mainline's rxe): tests/guest/mpi.sh shows with it what UCX does when
 * asked for ODP registration (UCX_IB_REG_METHODS=odp) on such a device.
 *
 * ibv_query_device_ex() is an inline call through the device context's
 * query_device_ex, which the provider fills when the device is opened;
 * this library wraps ibv_open_device() and puts its own there, one that
 * calls the provider's and clears the bit. It does not link libibverbs:
 * the real ibv_open_device() is the next one after this library or, when
 * libibverbs came with a module loaded with RTLD_LOCAL (UCX's libuct_ib),
 * the one of the loaded libibverbs.so.1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include <infiniband/verbs.h>

typedef struct ibv_context *(*open_device_fn)(struct ibv_device *device);
typedef int (*query_device_ex_fn)(struct ibv_context *context,
				  const struct ibv_query_device_ex_input *input,
				  struct ibv_device_attr_ex *attr, size_t attr_size);

/* The provider's query_device_ex (one provider: rxe0's, in the test VM). */
static query_device_ex_fn provider_query_device_ex;

static int query_device_ex_no_implicit(struct ibv_context *context,
				       const struct ibv_query_device_ex_input *input,
				       struct ibv_device_attr_ex *attr, size_t attr_size)
{
	int ret = provider_query_device_ex(context, input, attr, attr_size);

	if (!ret)
		attr->odp_caps.general_caps &= ~(uint32_t)IBV_ODP_SUPPORT_IMPLICIT;
	return ret;
}

static open_device_fn real_open_device(void)
{
	void *next = dlvsym(RTLD_NEXT, "ibv_open_device", "IBVERBS_1.1");
	void *lib;

	if (next)
		return (open_device_fn)next;
	lib = dlopen("libibverbs.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!lib)
		return NULL;
	next = dlvsym(lib, "ibv_open_device", "IBVERBS_1.1");
	dlclose(lib);
	return (open_device_fn)next;
}

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	open_device_fn next = real_open_device();
	struct ibv_context *context;
	struct verbs_context *vctx;

	if (!next) {
		fprintf(stderr, "hide-implicit-odp: no ibv_open_device@IBVERBS_1.1 after this"
				" library nor in a loaded libibverbs.so.1\n");
		errno = ENOSYS;
		return NULL;
	}
	context = next(device);
	if (!context)
		return NULL;
	vctx = verbs_get_ctx_op(context, query_device_ex);
	if (vctx && vctx->query_device_ex != query_device_ex_no_implicit) {
		provider_query_device_ex = vctx->query_device_ex;
		vctx->query_device_ex = query_device_ex_no_implicit;
	}
	return context;
}

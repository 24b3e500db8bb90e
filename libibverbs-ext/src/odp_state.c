// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibvx_probe() and ibvx_query_mr_odp(): UVERBS_METHOD_QUERY_MR_ODP on the
 * context's command fd.
 */
#include <errno.h>
#include <stdalign.h>
#include <string.h>
#include <sys/ioctl.h>

#include "error.h"
#include "uverbs.h"

/*
 * The kernel refuses an ioctl whose driver_id is not the device's, and
 * libibverbs keeps the id to itself: try them. For a handle no context
 * has, the device's id gets -ENOENT (the method exists) or -EPROTONOSUPPORT
 * (it does not); any other id gets -EINVAL before the method is looked up.
 */
enum { MAX_DRIVER_ID = 64, NO_SUCH_HANDLE = 0x7fffffff };

static int query_ioctl(int cmd_fd, uint32_t driver_id, uint32_t handle,
		       struct ibvx_uverbs_mr_odp_state *resp)
{
	alignas(8) unsigned char buf[sizeof(struct ib_uverbs_ioctl_hdr) +
				     2 * sizeof(struct ib_uverbs_attr)];
	struct ib_uverbs_ioctl_hdr *hdr = (void *)buf;
	struct ib_uverbs_attr *attr = hdr->attrs;

	memset(buf, 0, sizeof(buf));
	hdr->length = sizeof(buf);
	hdr->object_id = UVERBS_OBJECT_MR;
	hdr->method_id = IBVX_METHOD_QUERY_MR_ODP;
	hdr->num_attrs = 2;
	hdr->driver_id = driver_id;
	attr[0].attr_id = IBVX_ATTR_QUERY_MR_ODP_HANDLE;
	attr[0].flags = UVERBS_ATTR_F_MANDATORY;
	attr[0].data = handle;
	attr[1].attr_id = IBVX_ATTR_QUERY_MR_ODP_RESP;
	attr[1].flags = UVERBS_ATTR_F_MANDATORY;
	attr[1].len = sizeof(*resp);
	attr[1].data = (uintptr_t)resp;
	return ioctl(cmd_fd, RDMA_VERBS_IOCTL, hdr) ? errno : 0;
}

static int no_method(struct ibvx_error *err, struct ibv_context *context)
{
	return ibvx_fail(err, EOPNOTSUPP,
			 "the kernel driving %s has no ODP MR query (uverbs method UVERBS_METHOD_QUERY_MR_ODP): boot a kernel with the rdma-memstack series (kernel/patches)",
			 ibv_get_device_name(context->device));
}

/* The device's driver id, or a positive errno with *err filled */
static int find_driver_id(struct ibv_context *context, uint32_t *driver_id,
			  struct ibvx_error *err)
{
	struct ibvx_uverbs_mr_odp_state resp;
	uint32_t id;
	int ret;

	for (id = 0; id < MAX_DRIVER_ID; id++) {
		ret = query_ioctl(context->cmd_fd, id, NO_SUCH_HANDLE, &resp);
		if (ret == EINVAL)
			continue;
		if (ret == ENOENT) {
			*driver_id = id;
			return 0;
		}
		if (ret == EPROTONOSUPPORT)
			return no_method(err, context);
		return ibvx_fail(err, ret,
				 "uverbs ioctl on %s failed: %s",
				 ibv_get_device_name(context->device),
				 strerror(ret));
	}
	return ibvx_fail(err, EOPNOTSUPP,
			 "the kernel refuses uverbs ioctls on %s for every driver id: it has no usable ioctl interface",
			 ibv_get_device_name(context->device));
}

int ibvx_probe(struct ibv_context *context, struct ibvx_error *err)
{
	uint32_t driver_id;
	int ret;

	if (!context)
		return ibvx_fail(err, EINVAL, "ibvx_probe: context is NULL");
	ret = find_driver_id(context, &driver_id, err);
	return ret ? ret : ibvx_ok(err);
}

int ibvx_query_mr_odp(struct ibv_mr *mr, struct ibvx_mr_odp_state *state,
		      size_t state_size, struct ibvx_error *err)
{
	struct ibvx_uverbs_mr_odp_state resp = {0};
	struct ibvx_mr_odp_state full;
	const char *dev;
	uint32_t driver_id;
	int ret;

	if (!mr || !mr->context)
		return ibvx_fail(err, EINVAL, "ibvx_query_mr_odp: mr is NULL or has no context");
	if (!state || !state_size)
		return ibvx_fail(err, EINVAL,
				 "ibvx_query_mr_odp: no room for the state (state %s, state_size %zu); pass a struct ibvx_mr_odp_state and its size",
				 state ? "given" : "NULL", state_size);
	dev = ibv_get_device_name(mr->context->device);
	ret = find_driver_id(mr->context, &driver_id, err);
	if (ret)
		return ret;

	ret = query_ioctl(mr->context->cmd_fd, driver_id, mr->handle, &resp);
	switch (ret) {
	case 0:
		break;
	case ENOENT:
		return ibvx_fail(err, ENOENT,
				 "%s has no MR with handle %u in this context: it was deregistered, or belongs to another process or context",
				 dev, mr->handle);
	case EINVAL:
		return ibvx_fail(err, EINVAL,
				 "MR %u of %s is not an On-Demand-Paging MR: register it with IBV_ACCESS_ON_DEMAND",
				 mr->handle, dev);
	case EOPNOTSUPP:
		return ibvx_fail(err, EOPNOTSUPP,
				 "the driver of %s does not report the ODP state of its MRs",
				 dev);
	case EPROTONOSUPPORT:
		return no_method(err, mr->context);
	default:
		return ibvx_fail(err, ret, "querying MR %u of %s failed: %s",
				 mr->handle, dev, strerror(ret));
	}

	full = (struct ibvx_mr_odp_state){
		.flags = resp.flags,
		.iova_bytes = resp.iova_bytes,
		.page_size = resp.page_size,
		.pages_mapped = resp.pages_mapped,
		.faults = resp.faults,
		.fault_errors = resp.fault_errors,
		.invalidations = resp.invalidations,
		.prefetches = resp.prefetches,
		.bookkeeping_bytes = resp.bookkeeping_bytes,
	};
	/* A caller built against an older (shorter) or newer struct */
	if (state_size <= sizeof(full)) {
		memcpy(state, &full, state_size);
	} else {
		memcpy(state, &full, sizeof(full));
		memset((char *)state + sizeof(full), 0,
		       state_size - sizeof(full));
	}
	return ibvx_ok(err);
}

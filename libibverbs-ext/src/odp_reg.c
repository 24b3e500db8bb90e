// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibvx_reg_odp_mr(): register an ODP MR and prefetch it, in one call and
 * with one place that says why it could not.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

/* ibv_sge.length is 32 bits: prefetch in pieces of 1 GiB */
#define PREFETCH_PIECE (1ULL << 30)

static int odp_caps_allow(struct ibv_context *context, unsigned int access,
			  struct ibvx_error *err)
{
	struct ibv_device_attr_ex attr;
	const char *dev = ibv_get_device_name(context->device);
	uint32_t need = IBV_ODP_SUPPORT_READ;
	int ret;

	ret = ibv_query_device_ex(context, NULL, &attr);
	if (ret)
		return ibvx_fail(err, ret, "querying %s failed: %s", dev,
				 strerror(ret));
	if (!(attr.odp_caps.general_caps & IBV_ODP_SUPPORT))
		return ibvx_fail(err, EOPNOTSUPP,
				 "%s has no On-Demand Paging (its driver does not offer it)",
				 dev);
	if (access & (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE))
		need |= IBV_ODP_SUPPORT_WRITE;
	if (access & IBV_ACCESS_REMOTE_ATOMIC)
		need |= IBV_ODP_SUPPORT_ATOMIC;
	if ((attr.odp_caps.per_transport_caps.rc_odp_caps & need) != need)
		return ibvx_fail(err, EOPNOTSUPP,
				 "%s offers ODP on RC for 0x%x, the access asked needs 0x%x (IBV_ODP_SUPPORT_* bits)",
				 dev, attr.odp_caps.per_transport_caps.rc_odp_caps,
				 need);
	return 0;
}

static int prefetch(struct ibv_pd *pd, struct ibv_mr *mr, void *addr,
		    size_t length, enum ibvx_prefetch how,
		    struct ibvx_error *err)
{
	static const enum ibv_advise_mr_advice advice[] = {
		[IBVX_PREFETCH_READ] = IBV_ADVISE_MR_ADVICE_PREFETCH,
		[IBVX_PREFETCH_WRITE] = IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
		[IBVX_PREFETCH_NO_FAULT] = IBV_ADVISE_MR_ADVICE_PREFETCH_NO_FAULT,
	};
	uintptr_t at = (uintptr_t)addr;
	size_t left = length;
	int ret;

	while (left) {
		struct ibv_sge sge = {
			.addr = at,
			.length = left < PREFETCH_PIECE ? left : PREFETCH_PIECE,
			.lkey = mr->lkey,
		};

		/* FLUSH: return once the pages are mapped */
		ret = ibv_advise_mr(pd, advice[how], IBV_ADVISE_MR_FLAG_FLUSH,
				    &sge, 1);
		if (ret == EOPNOTSUPP)
			return ibvx_fail(err, ret,
					 "the provider of %s has no ibv_advise_mr (stock librxe has none; msrxe has): register without prefetch, or use a provider that prefetches",
					 ibv_get_device_name(pd->context->device));
		if (ret)
			return ibvx_fail(err, ret,
					 "prefetching %#zx bytes at %p failed: %s",
					 (size_t)sge.length, (void *)at,
					 strerror(ret));
		at += sge.length;
		left -= sge.length;
	}
	return 0;
}

struct ibv_mr *ibvx_reg_odp_mr(struct ibv_pd *pd, void *addr, size_t length,
			       unsigned int access, enum ibvx_prefetch how,
			       struct ibvx_error *err)
{
	struct ibv_mr *mr;
	int ret;

	if (!pd || !pd->context) {
		errno = ibvx_fail(err, EINVAL, "ibvx_reg_odp_mr: pd is NULL");
		return NULL;
	}
	if (!addr || !length || (uintptr_t)addr + length < (uintptr_t)addr) {
		errno = ibvx_fail(err, EINVAL,
				  "ibvx_reg_odp_mr: %p+%#zx is not a range of memory (NULL, empty or wrapping)",
				  addr, length);
		return NULL;
	}
	if (how > IBVX_PREFETCH_NO_FAULT) {
		errno = ibvx_fail(err, EINVAL,
				  "ibvx_reg_odp_mr: prefetch %d is not an enum ibvx_prefetch",
				  (int)how);
		return NULL;
	}
	ret = odp_caps_allow(pd->context, access, err);
	if (ret) {
		errno = ret;
		return NULL;
	}

	mr = ibv_reg_mr(pd, addr, length, access | IBV_ACCESS_ON_DEMAND);
	if (!mr) {
		ret = errno ? errno : EINVAL;
		errno = ibvx_fail(err, ret,
				  "registering %p+%#zx as an ODP MR (access 0x%x) on %s failed: %s",
				  addr, length, access,
				  ibv_get_device_name(pd->context->device),
				  strerror(ret));
		return NULL;
	}
	if (how != IBVX_PREFETCH_NONE) {
		ret = prefetch(pd, mr, addr, length, how, err);
		if (ret) {
			ibv_dereg_mr(mr);
			errno = ret;
			return NULL;
		}
	}
	ibvx_ok(err);
	return mr;
}

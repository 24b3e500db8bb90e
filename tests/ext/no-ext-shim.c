/*
 * LD_PRELOAD shim that makes this kernel look like one without the ODP MR
 * query: the query's method id (IBVX_METHOD_QUERY_MR_ODP on the MR object,
 * libibverbs-ext/src/uverbs.h) is rewritten to ABSENT_METHOD_ID,
 * which no kernel has, and the ioctl goes to the kernel, so the answers
 * (EINVAL for another driver's id, then EPROTONOSUPPORT) are the uverbs
 * framework's own for an absent method. Everything else passes unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "absent-method.h"
#include "uverbs.h"

unsigned long no_ext_shim_rewritten;

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real_ioctl)(int, unsigned long, ...);
	struct ib_uverbs_ioctl_hdr *hdr;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl)
		real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	hdr = arg;
	if (request == RDMA_VERBS_IOCTL && hdr->object_id == UVERBS_OBJECT_MR &&
	    hdr->method_id == IBVX_METHOD_QUERY_MR_ODP) {
		hdr->method_id = ABSENT_METHOD_ID;
		no_ext_shim_rewritten++;
	}
	return real_ioctl(fd, request, arg);
}

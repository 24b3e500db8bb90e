/*
 * LD_PRELOAD shim that makes this kernel look like one without the ODP MR
 * query: the query's method id (5 on the MR object) is rewritten to 0x3f,
 * which no kernel has, and the ioctl goes to the kernel, so the answers
 * (EINVAL for another driver's id, then EPROTONOSUPPORT) are the uverbs
 * framework's own for an absent method. Everything else passes unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/rdma_user_ioctl_cmds.h>

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
	    hdr->method_id == UVERBS_METHOD_REG_DMABUF_MR + 1) {
		hdr->method_id = 0x3f;
		no_ext_shim_rewritten++;
	}
	return real_ioctl(fd, request, arg);
}

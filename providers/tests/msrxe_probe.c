// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Open an RDMA device and report which provider libibverbs bound it to,
 * with the capabilities the tests care about (ODP) and the answer of the two
 * verbs msrxe adds (advise_mr, reg_dmabuf_mr).
 *
 * usage: msrxe_probe DEVICE msrxe|rxe
 * exit: 0 when DEVICE opened and only the expected provider is mapped,
 *       1 otherwise, 2 when no such device (ibv_get_device_list is empty
 *       when no provider registered).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <infiniband/verbs.h>

#include "which_provider.h"

int main(int argc, char **argv)
{
	struct ibv_device_attr_ex attr;
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	struct ibv_mr *mr, *dmr;
	struct ibv_sge sge;
	static char buf[4096];
	int i, n, err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE msrxe|rxe\n", argv[0]);
		return 2;
	}
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), argv[1]))
			ctx = ibv_open_device(list[i]);
	if (!ctx) {
		fprintf(stderr, "probe: cannot open %s (%d devices): %s\n",
			argv[1], n, strerror(errno));
		return 2;
	}
	memset(&attr, 0, sizeof(attr));
	err = ibv_query_device_ex(ctx, NULL, &attr);
	printf("query_device_ex: %s; fw_ver %s; odp general_caps 0x%llx rc 0x%x ud 0x%x\n",
	       err ? strerror(err) : "ok", attr.orig_attr.fw_ver,
	       (unsigned long long)attr.odp_caps.general_caps,
	       attr.odp_caps.per_transport_caps.rc_odp_caps,
	       attr.odp_caps.per_transport_caps.ud_odp_caps);

	pd = ibv_alloc_pd(ctx);
	mr = pd ? ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!mr) {
		fprintf(stderr, "probe: alloc_pd/reg_mr failed: %s\n", strerror(errno));
		return 1;
	}
	sge.addr = (uintptr_t)buf;
	sge.length = sizeof(buf);
	sge.lkey = mr->lkey;
	err = ibv_advise_mr(pd, IBV_ADVISE_MR_ADVICE_PREFETCH_WRITE,
			    IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1);
	printf("advise_mr(prefetch write): %s\n", err ? strerror(err) : "ok");
	errno = 0;
	dmr = ibv_reg_dmabuf_mr(pd, 0, 4096, 0, -1, IBV_ACCESS_LOCAL_WRITE);
	printf("reg_dmabuf_mr(fd -1): %s\n", dmr ? "ok" : strerror(errno));
	if (dmr)
		ibv_dereg_mr(dmr);
	ibv_dereg_mr(mr);
	ibv_dealloc_pd(pd);

	err = check_provider(argv[2]);
	printf("expected provider %s: %s\n", argv[2], err ? "NO" : "yes");
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return err ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Registration with libibverbs, device and context allocation, and the
 * table of verbs. The constructor refuses to register when the loaded
 * libibverbs is not the one this provider was built for (version_guard.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <rdma/ib_user_ioctl_verbs.h>

#include "msrxe.h"

static void msrxe_free_context(struct ibv_context *ibctx);

static const struct verbs_context_ops msrxe_ops = {
	.advise_mr = msrxe_advise_mr,
	.alloc_mw = msrxe_alloc_mw,
	.alloc_pd = msrxe_alloc_pd,
	.attach_mcast = ibv_cmd_attach_mcast,
	.bind_mw = msrxe_bind_mw,
	.create_ah = msrxe_create_ah,
	.create_cq = msrxe_create_cq,
	.create_cq_ex = msrxe_create_cq_ex,
	.create_qp = msrxe_create_qp,
	.create_qp_ex = msrxe_create_qp_ex,
	.create_srq = msrxe_create_srq,
	.create_srq_ex = msrxe_create_srq_ex,
	.dealloc_mw = msrxe_dealloc_mw,
	.dealloc_pd = msrxe_dealloc_pd,
	.dereg_mr = msrxe_dereg_mr,
	.destroy_ah = msrxe_destroy_ah,
	.destroy_cq = msrxe_destroy_cq,
	.destroy_qp = msrxe_destroy_qp,
	.destroy_srq = msrxe_destroy_srq,
	.detach_mcast = ibv_cmd_detach_mcast,
	.free_context = msrxe_free_context,
	.modify_qp = msrxe_modify_qp,
	.modify_srq = msrxe_modify_srq,
	.poll_cq = msrxe_poll_cq,
	.post_recv = msrxe_post_recv,
	.post_send = msrxe_post_send,
	.post_srq_recv = msrxe_post_srq_recv,
	.query_device_ex = msrxe_query_device_ex,
	.query_port = msrxe_query_port,
	.query_qp = msrxe_query_qp,
	.query_srq = msrxe_query_srq,
	.reg_dmabuf_mr = msrxe_reg_dmabuf_mr,
	.reg_mr = msrxe_reg_mr,
	.req_notify_cq = ibv_cmd_req_notify_cq,
	.rereg_mr = msrxe_rereg_mr,
	.resize_cq = msrxe_resize_cq,
};

static const struct verbs_device_ops msrxe_dev_ops;

/*
 * verbs_set_ops copies by offset into fields of the public ibv_context and
 * verbs_context. Reading a few back, spread over the table, proves our
 * declaration of verbs_context_ops matches the loaded library.
 */
static int ops_landed(const struct verbs_context *vctx)
{
	const struct ibv_context_ops *o = &vctx->context.ops;

	return vctx->advise_mr == msrxe_advise_mr &&
	       o->bind_mw == msrxe_bind_mw &&
	       vctx->create_qp_ex == msrxe_create_qp_ex &&
	       o->poll_cq == msrxe_poll_cq &&
	       o->post_send == msrxe_post_send &&
	       o->post_srq_recv == msrxe_post_srq_recv &&
	       vctx->query_device_ex == msrxe_query_device_ex &&
	       o->req_notify_cq == ibv_cmd_req_notify_cq;
}

static struct verbs_context *msrxe_alloc_context(struct ibv_device *ibdev,
						 int cmd_fd, void *private_data)
{
	struct verbs_device *vdev = (struct verbs_device *)ibdev;
	struct ib_uverbs_get_context_resp resp;
	struct ibv_get_context cmd;
	struct msrxe_context *ctx;
	int err;

	(void)private_data;
	/* libibverbs stored our ops in the verbs_device it got from us. */
	if (vdev->ops != &msrxe_dev_ops) {
		fprintf(stderr, "msrxe: FATAL: verbs_device layout does not match the loaded libibverbs\n");
		errno = EPROTO;
		return NULL;
	}
	ctx = _verbs_init_and_alloc_context(ibdev, cmd_fd, sizeof(*ctx),
					    &((struct msrxe_context *)NULL)->vctx,
					    RDMA_DRIVER_RXE);
	if (!ctx)
		return NULL;
	err = ibv_cmd_get_context(&ctx->vctx, &cmd, sizeof(cmd), &resp,
				  sizeof(resp));
	if (err)
		goto fail;
	verbs_set_ops(&ctx->vctx, &msrxe_ops);
	if (!ops_landed(&ctx->vctx)) {
		fprintf(stderr, "msrxe: FATAL: verbs_context_ops layout does not match the loaded libibverbs\n");
		err = EPROTO;
		goto fail;
	}
	return &ctx->vctx;

fail:
	verbs_uninit_context(&ctx->vctx);
	free(ctx);
	errno = err;
	return NULL;
}

static void msrxe_free_context(struct ibv_context *ibctx)
{
	struct msrxe_context *ctx =
		msrxe_container_of(ibctx, struct msrxe_context, vctx.context);

	verbs_uninit_context(&ctx->vctx);
	free(ctx);
}

static struct verbs_device *msrxe_alloc_device(struct verbs_sysfs_dev *sysfs)
{
	/* libibverbs fills in the rest; nothing of ours to keep per device */
	struct msrxe_device *dev = calloc(1, sizeof(*dev));

	(void)sysfs;
	return dev ? &dev->vdev : NULL;
}

static void msrxe_uninit_device(struct verbs_device *vdev)
{
	free(msrxe_container_of(vdev, struct msrxe_device, vdev));
}

static const struct verbs_match_ent msrxe_match[] = {
	{ .u.driver_id = RDMA_DRIVER_RXE, .kind = VP_MATCH_DRIVER_ID },
	{ .kind = VP_MATCH_SENTINEL },
};

/* rxe's kernel ABI 2; 1 has the same layout on 64-bit hosts. */
static const struct verbs_device_ops msrxe_dev_ops = {
	.name = "msrxe",
	.match_min_abi_version = sizeof(void *) == 8 ? 1 : 2,
	.match_max_abi_version = 2,
	.match_table = msrxe_match,
	.alloc_device = msrxe_alloc_device,
	.uninit_device = msrxe_uninit_device,
	.alloc_context = msrxe_alloc_context,
};

static void __attribute__((constructor)) msrxe_register(void)
{
	if (msrxe_version_guard())
		return;
	verbs_register_driver_34(&msrxe_dev_ops);
}

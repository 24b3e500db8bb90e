// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Compile-time pins on every layout this provider relies on (x86-64 LP64).
 * Private libibverbs 44 structs: sizes and offsets derived from their member
 * lists, so an edit to verbs_private.h that moves a member fails the build.
 * Kernel uAPI vs. verbs: structs the data path copies byte for byte.
 */
#include <assert.h>
#include <stddef.h>

#include "msrxe.h"

#define OFF(type, member, value)                                               \
	static_assert(offsetof(struct type, member) == (value),                \
		      #type "." #member " moved")
#define SIZE(type, value)                                                      \
	static_assert(sizeof(struct type) == (value), #type " size changed")
#define SAME_OFF(a, ma, b, mb)                                                 \
	static_assert(offsetof(struct a, ma) == offsetof(struct b, mb),        \
		      #a "." #ma " != " #b "." #mb)

static_assert(sizeof(void *) == 8, "these pins are for LP64 hosts");

/* libibverbs 44 private ABI */
SIZE(vp_list_node, 16);
SIZE(verbs_match_ent, 24);
OFF(verbs_match_ent, u, 8);
OFF(verbs_match_ent, vendor, 16);
OFF(verbs_match_ent, kind, 20);

OFF(verbs_sysfs_dev, provider_data, 16);
OFF(verbs_sysfs_dev, match, 24);
OFF(verbs_sysfs_dev, flags, 32);
OFF(verbs_sysfs_dev, sysfs_name, 36);
OFF(verbs_sysfs_dev, sysfs_cdev, 104);
OFF(verbs_sysfs_dev, ibdev_name, 112);
OFF(verbs_sysfs_dev, ibdev_path, 176);
OFF(verbs_sysfs_dev, modalias, 432);
OFF(verbs_sysfs_dev, node_guid, 944);
OFF(verbs_sysfs_dev, driver_id, 952);
OFF(verbs_sysfs_dev, abi_ver, 968);
OFF(verbs_sysfs_dev, time_created, 976);
SIZE(verbs_sysfs_dev, 992);

OFF(verbs_device_ops, match_min_abi_version, 8);
OFF(verbs_device_ops, match_table, 16);
OFF(verbs_device_ops, match_device, 32);
OFF(verbs_device_ops, alloc_context, 40);
OFF(verbs_device_ops, alloc_device, 56);
OFF(verbs_device_ops, uninit_device, 64);
SIZE(verbs_device_ops, 72);

OFF(verbs_device, device, 0);
OFF(verbs_device, ops, sizeof(struct ibv_device));
OFF(verbs_device, refcount, sizeof(struct ibv_device) + 8);
OFF(verbs_device, entry, sizeof(struct ibv_device) + 16);
OFF(verbs_device, sysfs, sizeof(struct ibv_device) + 32);
OFF(verbs_device, core_support, sizeof(struct ibv_device) + 40);

/* 76 members in rdma-core 44 (counted in its driver.h) */
static_assert(sizeof(struct verbs_context_ops) == 76 * sizeof(void (*)(void)),
	      "verbs_context_ops must have the 76 members of rdma-core 44");
#define OPS_SLOT(member, n)                                                    \
	static_assert(offsetof(struct verbs_context_ops, member) ==            \
			      (n) * sizeof(void (*)(void)),                    \
		      "verbs_context_ops." #member " is not slot " #n)
OPS_SLOT(advise_mr, 0);
OPS_SLOT(attach_mcast, 9);
OPS_SLOT(bind_mw, 10);
OPS_SLOT(create_cq_ex, 16);
OPS_SLOT(create_qp_ex, 20);
OPS_SLOT(dereg_mr, 28);
OPS_SLOT(free_context, 39);
OPS_SLOT(modify_qp, 47);
OPS_SLOT(poll_cq, 53);
OPS_SLOT(post_send, 55);
OPS_SLOT(post_srq_recv, 57);
OPS_SLOT(query_device_ex, 58);
OPS_SLOT(reg_dmabuf_mr, 67);
OPS_SLOT(reg_mr, 68);
OPS_SLOT(req_notify_cq, 69);
OPS_SLOT(unimport_pd, 75);

OFF(verbs_mr, ibv_mr, 0);
OFF(verbs_mr, mr_type, sizeof(struct ibv_mr));
OFF(verbs_qp, qp, 0);
OFF(verbs_qp, qp_ex, 0);
static_assert(offsetof(struct ibv_qp_ex, qp_base) == 0, "ibv_qp_ex must start with ibv_qp");
OFF(verbs_qp, comp_mask, sizeof(struct ibv_qp_ex));
OFF(verbs_cq, cq_ex, 0);
OFF(verbs_srq, srq, 0);
OFF(verbs_srq, srq_type, sizeof(struct ibv_srq));

/* command buffers: header, then the kernel's payload, nothing between */
SIZE(ibv_get_context, 8 + sizeof(struct ib_uverbs_get_context));
SIZE(ibv_create_qp_ex, 24 + sizeof(struct ib_uverbs_ex_create_qp));
SIZE(ibv_create_cq_ex, 24 + sizeof(struct ib_uverbs_ex_create_cq));
SIZE(ibv_post_send, 8 + sizeof(struct ib_uverbs_post_send));
OFF(ibv_modify_srq, core_payload, 8);

/* kernel uAPI vs verbs: poll_cq copies ib_uverbs_wc into ibv_wc */
static_assert(sizeof(struct ibv_wc) == sizeof(struct ib_uverbs_wc), "wc size");
SAME_OFF(ibv_wc, wr_id, ib_uverbs_wc, wr_id);
SAME_OFF(ibv_wc, status, ib_uverbs_wc, status);
SAME_OFF(ibv_wc, opcode, ib_uverbs_wc, opcode);
SAME_OFF(ibv_wc, vendor_err, ib_uverbs_wc, vendor_err);
SAME_OFF(ibv_wc, byte_len, ib_uverbs_wc, byte_len);
SAME_OFF(ibv_wc, imm_data, ib_uverbs_wc, ex);
SAME_OFF(ibv_wc, qp_num, ib_uverbs_wc, qp_num);
SAME_OFF(ibv_wc, src_qp, ib_uverbs_wc, src_qp);
SAME_OFF(ibv_wc, wc_flags, ib_uverbs_wc, wc_flags);
SAME_OFF(ibv_wc, pkey_index, ib_uverbs_wc, pkey_index);
SAME_OFF(ibv_wc, slid, ib_uverbs_wc, slid);
SAME_OFF(ibv_wc, sl, ib_uverbs_wc, sl);
SAME_OFF(ibv_wc, dlid_path_bits, ib_uverbs_wc, dlid_path_bits);
/* msrxe_wc_flags() passes these two through as they are */
static_assert(IBV_WC_GRH == MSRXE_IB_WC_GRH, "wc_flags GRH (IB_WC_GRH)");
static_assert(IBV_WC_WITH_IMM == MSRXE_IB_WC_WITH_IMM, "wc_flags WITH_IMM");
static_assert((int)IBV_WC_BIND_MW == (int)IB_UVERBS_WC_BIND_MW, "wc opcode BIND_MW");

/* the WQE opcode field takes ibv_wr_opcode values as they are */
static_assert((int)IBV_WR_SEND == (int)IB_UVERBS_WR_SEND, "wr opcode SEND");
static_assert((int)IBV_WR_BIND_MW == (int)IB_UVERBS_WR_BIND_MW, "wr opcode BIND_MW");
static_assert((int)IBV_WR_ATOMIC_WRITE == 15, "wr opcode ATOMIC_WRITE (IB_UVERBS_WR_ATOMIC_WRITE)");
static_assert(IBV_SEND_INLINE == 8, "send flag INLINE (IB_SEND_INLINE)");

/*
 * rxe ring entries, as in the uAPI rdma/rdma_user_rxe.h of Linux 6.12 (the
 * same in 6.1, Debian 12's linux-libc-dev, which the build includes): the
 * kernel reads the WQEs we write at these offsets, whatever header we saw.
 */
static_assert(sizeof(struct rxe_sge) == sizeof(struct ibv_sge), "sge size");
SIZE(rxe_queue_buf, 384);
OFF(rxe_queue_buf, log2_elem_size, 0);
OFF(rxe_queue_buf, index_mask, 4);
OFF(rxe_queue_buf, producer_index, 128);
OFF(rxe_queue_buf, consumer_index, 256);
OFF(rxe_queue_buf, data, 384);
SIZE(mminfo, 16);

SIZE(rxe_sge, 16);
OFF(rxe_sge, addr, 0);
OFF(rxe_sge, length, 8);
OFF(rxe_sge, lkey, 12);

SIZE(rxe_dma_info, 24);
OFF(rxe_dma_info, length, 0);
OFF(rxe_dma_info, resid, 4);
OFF(rxe_dma_info, num_sge, 12);
OFF(rxe_dma_info, inline_data, 24);
OFF(rxe_dma_info, sge, 24);

/* send_wqe.h, post_send.c, wr_ex.c: what wqe_start() clears and we fill */
SIZE(rxe_send_wr, 144);
OFF(rxe_send_wr, wr_id, 0);
OFF(rxe_send_wr, opcode, 12);
OFF(rxe_send_wr, send_flags, 16);
OFF(rxe_send_wr, ex.imm_data, 20);
OFF(rxe_send_wr, ex.invalidate_rkey, 20);
OFF(rxe_send_wr, wr.rdma.remote_addr, 24);
OFF(rxe_send_wr, wr.rdma.rkey, 32);
OFF(rxe_send_wr, wr.atomic.remote_addr, 24);
OFF(rxe_send_wr, wr.atomic.compare_add, 32);
OFF(rxe_send_wr, wr.atomic.swap, 40);
OFF(rxe_send_wr, wr.atomic.rkey, 48);
OFF(rxe_send_wr, wr.ud.remote_qpn, 24);
OFF(rxe_send_wr, wr.ud.remote_qkey, 28);
OFF(rxe_send_wr, wr.ud.ah_num, 36);
OFF(rxe_send_wr, wr.mw.addr, 24);
OFF(rxe_send_wr, wr.mw.length, 32);
OFF(rxe_send_wr, wr.mw.mr_lkey, 40);
OFF(rxe_send_wr, wr.mw.mw_rkey, 44);
OFF(rxe_send_wr, wr.mw.rkey, 48);
OFF(rxe_send_wr, wr.mw.access, 52);

SIZE(rxe_send_wqe, 208);
OFF(rxe_send_wqe, wr, 0);
OFF(rxe_send_wqe, iova, 152);
OFF(rxe_send_wqe, ssn, 176);
OFF(rxe_send_wqe, dma, 184);

/* post_recv.c */
SIZE(rxe_recv_wqe, 40);
OFF(rxe_recv_wqe, wr_id, 0);
OFF(rxe_recv_wqe, dma, 16);
/* the discard mark (cq_discard.c) sits in the wc's last, reserved byte */
static_assert(offsetof(struct ib_uverbs_wc, reserved) == 47, "wc reserved byte");

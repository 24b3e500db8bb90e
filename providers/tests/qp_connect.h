/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bringing test QPs to RTS on one rxe port: RC QPs connected to a QP of
 * the same device (or to themselves) through the port's RoCE v2 GID of an
 * IPv4 address, UD QPs as they are.
 */
#ifndef MSRXE_TEST_QP_CONNECT_H
#define MSRXE_TEST_QP_CONNECT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#define TEST_PORT 1
#define TEST_QKEY 0x11111111

struct test_gid {
	union ibv_gid gid;
	int index;
};

/* The first RoCE v2 GID of TEST_PORT that maps an IPv4 address. */
static inline int test_find_gid(struct ibv_context *ctx, struct test_gid *g)
{
	static const uint8_t v4_prefix[12] = { [10] = 0xff, [11] = 0xff };
	struct ibv_port_attr pa;
	struct ibv_gid_entry e;
	int i;

	if (ibv_query_port(ctx, TEST_PORT, &pa))
		return -1;
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(ctx, TEST_PORT, (uint32_t)i, &e, 0))
			continue;
		if (e.gid_type == IBV_GID_TYPE_ROCE_V2 &&
		    !memcmp(e.gid.raw, v4_prefix, sizeof(v4_prefix))) {
			g->gid = e.gid;
			g->index = i;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* RESET to INIT: what both QP types need; errno-style return. */
static inline int test_qp_init(struct ibv_qp *qp)
{
	struct ibv_qp_attr a;
	int mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = TEST_PORT;
	if (qp->qp_type == IBV_QPT_UD) {
		a.qkey = TEST_QKEY;
		mask |= IBV_QP_QKEY;
	} else {
		a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE |
				    IBV_ACCESS_REMOTE_READ |
				    IBV_ACCESS_REMOTE_ATOMIC;
		mask |= IBV_QP_ACCESS_FLAGS;
	}
	return ibv_modify_qp(qp, &a, mask);
}

/* RESET to RTS; an RC QP connects to dest_qpn on the same port. */
static inline int test_qp_rts(struct ibv_qp *qp, uint32_t dest_qpn,
			      const struct test_gid *g)
{
	struct ibv_qp_attr a;
	int err, rc = qp->qp_type == IBV_QPT_RC;

	err = test_qp_init(qp);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	if (rc) {
		a.path_mtu = IBV_MTU_1024;
		a.dest_qp_num = dest_qpn;
		a.max_dest_rd_atomic = 1;
		a.min_rnr_timer = 1;
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = g->gid;
		a.ah_attr.grh.sgid_index = (uint8_t)g->index;
		a.ah_attr.grh.hop_limit = 64;
		a.ah_attr.port_num = TEST_PORT;
	}
	err = ibv_modify_qp(qp, &a, rc ? IBV_QP_STATE | IBV_QP_AV |
					 IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
					 IBV_QP_RQ_PSN |
					 IBV_QP_MAX_DEST_RD_ATOMIC |
					 IBV_QP_MIN_RNR_TIMER :
					 IBV_QP_STATE);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	if (!rc)
		return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
					     IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
					     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* One completion from cq into wc: 0, or -1 after timeout_s or on error. */
static inline int test_poll_wc(struct ibv_cq *cq, struct ibv_wc *wc,
			       int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	int n;

	while ((n = ibv_poll_cq(cq, 1, wc)) == 0 && time(NULL) < end)
		usleep(100);
	return n == 1 ? 0 : -1;
}

#endif

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Verbs on invalid objects and attributes must fail with an error and must
 * not crash. Each case runs in a child process with a fresh context, so a
 * crash is reported against its case and the others still run.
 *
 * usage: msrxe_bad_input DEVICE [msrxe|rxe]
 * Prints one line per case: "case NAME: error ERRNO_NAME", "case NAME: OK"
 * (unexpected success), "case NAME: error E, expected F" (a case that
 * names its errno) or "case NAME: CRASH signal N". With a provider name,
 * also checks that provider is the one mapped. Exit 1 when any case
 * succeeded, failed with another errno than its own, or crashed.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <infiniband/verbs.h>

#include "qp_connect.h"
#include "which_provider.h"

struct fixture {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *rc;  /* RESET state */
	struct ibv_qp *ud;  /* RESET state */
	struct ibv_mr *mr;
	char buf[8192];
};

static const char *dev_name;

/* A failing verb's errno-style code: its return value or errno. */
#define FAILS_INT(expr) ((expr) ? 1 : 0)
#define FAILS_PTR(expr) ((expr) == NULL)

static int open_fixture(struct fixture *f)
{
	struct ibv_device **list;
	struct ibv_qp_init_attr qa;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !f->ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev_name))
			f->ctx = ibv_open_device(list[i]);
	if (!f->ctx)
		return -1;
	f->pd = ibv_alloc_pd(f->ctx);
	f->cq = ibv_create_cq(f->ctx, 16, NULL, NULL, 0);
	f->mr = f->pd ? ibv_reg_mr(f->pd, f->buf, sizeof(f->buf),
				   IBV_ACCESS_LOCAL_WRITE) : NULL;
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = qa.recv_cq = f->cq;
	qa.cap.max_send_wr = qa.cap.max_recv_wr = 4;
	qa.cap.max_send_sge = qa.cap.max_recv_sge = 1;
	qa.qp_type = IBV_QPT_RC;
	f->rc = f->pd && f->cq ? ibv_create_qp(f->pd, &qa) : NULL;
	qa.qp_type = IBV_QPT_UD;
	f->ud = f->pd && f->cq ? ibv_create_qp(f->pd, &qa) : NULL;
	return f->pd && f->cq && f->mr && f->rc && f->ud ? 0 : -1;
}

/* Each case returns nonzero when the verb failed (as it should). */

static int reg_mr_bad_address(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_mr(f->pd, (void *)16, 4096, IBV_ACCESS_LOCAL_WRITE));
}

static int reg_mr_remote_write_without_local(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_mr(f->pd, f->buf, 4096, IBV_ACCESS_REMOTE_WRITE));
}

/* rxe has ODP now (kernel series): bad ODP ranges must still be refused */
static int reg_mr_odp_zero_length(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_mr(f->pd, f->buf, 0,
				    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND));
}

static int reg_mr_odp_range_wraps(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_mr(f->pd, (void *)(UINTPTR_MAX & ~(uintptr_t)4095),
				    8192, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND));
}

static int reg_dmabuf_mr_bad_fd(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_dmabuf_mr(f->pd, 0, 4096, 0, -1, IBV_ACCESS_LOCAL_WRITE));
}

static int reg_dmabuf_mr_not_a_dmabuf(struct fixture *f)
{
	return FAILS_PTR(ibv_reg_dmabuf_mr(f->pd, 0, 4096, 0, 0, IBV_ACCESS_LOCAL_WRITE));
}

static int advise_mr_non_odp(struct fixture *f)
{
	struct ibv_sge sge = { (uintptr_t)f->buf, 4096, f->mr->lkey };

	return FAILS_INT(errno = ibv_advise_mr(f->pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
					       IBV_ADVISE_MR_FLAG_FLUSH, &sge, 1));
}

static int advise_mr_bad_lkey(struct fixture *f)
{
	struct ibv_sge sge = { (uintptr_t)f->buf, 4096, f->mr->lkey ^ 0xff00 };

	return FAILS_INT(errno = ibv_advise_mr(f->pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
					       0, &sge, 1));
}

static int advise_mr_no_sge(struct fixture *f)
{
	return FAILS_INT(errno = ibv_advise_mr(f->pd, IBV_ADVISE_MR_ADVICE_PREFETCH,
					       0, NULL, 0));
}

static int create_cq_huge(struct fixture *f)
{
	return FAILS_PTR(ibv_create_cq(f->ctx, 1 << 30, NULL, NULL, 0));
}

static int create_cq_ex_timestamp(struct fixture *f)
{
	struct ibv_cq_init_attr_ex a = {
		.cqe = 16, .wc_flags = IBV_WC_EX_WITH_COMPLETION_TIMESTAMP,
	};

	return FAILS_PTR(ibv_create_cq_ex(f->ctx, &a));
}

static int resize_cq_huge(struct fixture *f)
{
	return FAILS_INT(errno = ibv_resize_cq(f->cq, 1 << 30));
}

static int destroy_cq_in_use(struct fixture *f)
{
	return FAILS_INT(errno = ibv_destroy_cq(f->cq));
}

static int dealloc_pd_in_use(struct fixture *f)
{
	return FAILS_INT(errno = ibv_dealloc_pd(f->pd));
}

static int create_qp_huge(struct fixture *f)
{
	struct ibv_qp_init_attr a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 1 << 30, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return FAILS_PTR(ibv_create_qp(f->pd, &a));
}

static int create_qp_raw_packet(struct fixture *f)
{
	struct ibv_qp_init_attr a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = IBV_QPT_RAW_PACKET,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};

	return FAILS_PTR(ibv_create_qp(f->pd, &a));
}

static int create_qp_ex_bad_send_ops(struct fixture *f)
{
	struct ibv_qp_init_attr_ex a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = IBV_QPT_UD,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = f->pd,
		.send_ops_flags = IBV_QP_EX_WITH_RDMA_READ,
	};

	return FAILS_PTR(ibv_create_qp_ex(f->ctx, &a));
}

static int modify_qp_reset_to_rts(struct fixture *f)
{
	struct ibv_qp_attr a = { .qp_state = IBV_QPS_RTS };

	return FAILS_INT(errno = ibv_modify_qp(f->rc, &a, IBV_QP_STATE));
}

static int modify_qp_bad_port(struct fixture *f)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT, .port_num = 9,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE,
	};

	return FAILS_INT(errno = ibv_modify_qp(f->rc, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
					       IBV_QP_PORT | IBV_QP_ACCESS_FLAGS));
}

static int post_recv_reset_qp(struct fixture *f)
{
	struct ibv_sge sge = { (uintptr_t)f->buf, 64, f->mr->lkey };
	struct ibv_recv_wr wr = { .sg_list = &sge, .num_sge = 1 }, *bad;

	return FAILS_INT(errno = ibv_post_recv(f->rc, &wr, &bad));
}

static int post_send_too_many_sge(struct fixture *f)
{
	struct ibv_sge sge[8];
	struct ibv_send_wr wr = { .sg_list = sge, .num_sge = 8,
				  .opcode = IBV_WR_SEND }, *bad;

	memset(sge, 0, sizeof(sge));
	return FAILS_INT(errno = ibv_post_send(f->rc, &wr, &bad));
}

static int post_send_inline_too_long(struct fixture *f)
{
	struct ibv_sge sge = { (uintptr_t)f->buf, 8192, 0 };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_INLINE }, *bad;

	return FAILS_INT(errno = ibv_post_send(f->rc, &wr, &bad));
}

static int post_send_misaligned_atomic(struct fixture *f)
{
	struct ibv_sge sge = { (uintptr_t)f->buf, 8, f->mr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_ATOMIC_FETCH_AND_ADD }, *bad;

	wr.wr.atomic.remote_addr = 0x1003;
	return FAILS_INT(errno = ibv_post_send(f->rc, &wr, &bad));
}

static int create_ah_bad_port(struct fixture *f)
{
	struct ibv_ah_attr a = { .port_num = 9, .is_global = 1 };

	return FAILS_PTR(ibv_create_ah(f->pd, &a));
}

static int create_ah_bad_sgid_index(struct fixture *f)
{
	struct ibv_ah_attr a = { .port_num = 1, .is_global = 1 };

	a.grh.sgid_index = 250;
	a.grh.hop_limit = 64;
	return FAILS_PTR(ibv_create_ah(f->pd, &a));
}

static int query_port_zero(struct fixture *f)
{
	struct ibv_port_attr a;

	return FAILS_INT(errno = ibv_query_port(f->ctx, 0, &a));
}

static int attach_mcast_rc_qp(struct fixture *f)
{
	union ibv_gid gid;

	memset(&gid, 0, sizeof(gid));
	gid.raw[0] = 0xff;
	return FAILS_INT(errno = ibv_attach_mcast(f->rc, &gid, 0));
}

static int create_srq_huge(struct fixture *f)
{
	struct ibv_srq_init_attr a = { .attr = { .max_wr = 1 << 30, .max_sge = 1 } };

	return FAILS_PTR(ibv_create_srq(f->pd, &a));
}

static int modify_srq_limit_above_max(struct fixture *f)
{
	struct ibv_srq_init_attr a = { .attr = { .max_wr = 8, .max_sge = 1 } };
	struct ibv_srq_attr m = { .srq_limit = 1000 };
	struct ibv_srq *srq = ibv_create_srq(f->pd, &a);

	if (!srq)
		return 0;
	return FAILS_INT(errno = ibv_modify_srq(srq, &m, IBV_SRQ_LIMIT));
}

static int bind_mw_no_mr(struct fixture *f)
{
	struct ibv_mw *mw = ibv_alloc_mw(f->pd, IBV_MW_TYPE_1);
	struct ibv_mw_bind b = { .wr_id = 1 };

	if (!mw)
		return 0;
	b.bind_info.length = 64;
	b.bind_info.mr = NULL;
	return FAILS_INT(errno = ibv_bind_mw(f->rc, mw, &b));
}

static int wr_api_sge_list_too_long(struct fixture *f)
{
	struct ibv_qp_init_attr_ex a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = f->pd, .send_ops_flags = IBV_QP_EX_WITH_SEND,
	};
	struct ibv_sge sge[8];
	struct ibv_qp_ex *qpx;
	struct ibv_qp *qp = ibv_create_qp_ex(f->ctx, &a);
	int err;

	if (!qp)
		return 0;
	qpx = ibv_qp_to_qp_ex(qp);
	memset(sge, 0, sizeof(sge));
	ibv_wr_start(qpx);
	ibv_wr_send(qpx);
	ibv_wr_set_sge_list(qpx, 8, sge);
	err = ibv_wr_complete(qpx);
	/* the lock must have been released: a second batch must not hang */
	ibv_wr_start(qpx);
	ibv_wr_abort(qpx);
	errno = err;
	return err != 0;
}

/* An RC QP in INIT (takes receives) with two receive SGEs. */
static struct ibv_qp *init_qp(struct fixture *f)
{
	struct ibv_qp_init_attr a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 2 },
	};
	struct ibv_qp *qp = ibv_create_qp(f->pd, &a);

	if (qp && test_qp_init(qp))
		return NULL;
	return qp;
}

/* 2 x 2 GiB: the sum wraps a 32-bit length to 0 */
static int post_recv_sge_length_wraps(struct fixture *f)
{
	struct ibv_sge sge[2] = {
		{ (uintptr_t)f->buf, 0x80000000u, f->mr->lkey },
		{ (uintptr_t)f->buf, 0x80000000u, f->mr->lkey },
	};
	struct ibv_recv_wr wr = { .sg_list = sge, .num_sge = 2 }, *bad;
	struct ibv_qp *qp = init_qp(f);

	if (!qp)
		return 0;
	return FAILS_INT(errno = ibv_post_recv(qp, &wr, &bad));
}

/*
 * An extended QP in RTS (an RC QP connected to itself), so that a batch
 * the provider lets through reaches the kernel and succeeds.
 */
static struct ibv_qp_ex *rts_qp_ex(struct fixture *f, enum ibv_qp_type type,
				   uint64_t ops)
{
	struct ibv_qp_init_attr_ex a = {
		.send_cq = f->cq, .recv_cq = f->cq, .qp_type = type,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = f->pd, .send_ops_flags = ops,
	};
	struct ibv_qp *qp = ibv_create_qp_ex(f->ctx, &a);
	struct test_gid g;

	if (!qp || test_find_gid(f->ctx, &g) ||
	    (errno = test_qp_rts(qp, qp->qp_num, &g)))
		return NULL;
	return ibv_qp_to_qp_ex(qp);
}

/* wr_complete's answer; the SQ lock must be free again afterwards */
static int wr_batch_fails(struct ibv_qp_ex *qpx)
{
	int err = ibv_wr_complete(qpx);

	ibv_wr_start(qpx);
	ibv_wr_abort(qpx);
	errno = err;
	return err != 0;
}

static int wr_api_misaligned_atomic(struct fixture *f)
{
	struct ibv_qp_ex *qpx = rts_qp_ex(f, IBV_QPT_RC,
					  IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD);

	if (!qpx)
		return 0;
	ibv_wr_start(qpx);
	ibv_wr_atomic_fetch_add(qpx, f->mr->rkey, (uintptr_t)f->buf + 3, 1);
	ibv_wr_set_sge(qpx, f->mr->lkey, (uintptr_t)f->buf, 8);
	return wr_batch_fails(qpx);
}

static int wr_api_atomic_short_sge(struct fixture *f)
{
	struct ibv_qp_ex *qpx = rts_qp_ex(f, IBV_QPT_RC,
					  IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP);

	if (!qpx)
		return 0;
	ibv_wr_start(qpx);
	ibv_wr_atomic_cmp_swp(qpx, f->mr->rkey, (uintptr_t)f->buf, 0, 1);
	ibv_wr_set_sge(qpx, f->mr->lkey, (uintptr_t)f->buf, 4);
	return wr_batch_fails(qpx);
}

static int wr_api_misaligned_atomic_write(struct fixture *f)
{
	static const uint64_t data = 1;
	struct ibv_qp_ex *qpx = rts_qp_ex(f, IBV_QPT_RC,
					  IBV_QP_EX_WITH_ATOMIC_WRITE);

	if (!qpx)
		return 0;
	ibv_wr_start(qpx);
	ibv_wr_atomic_write(qpx, f->mr->rkey, (uintptr_t)f->buf + 4, &data);
	return wr_batch_fails(qpx);
}

/* a UD send whose builder was never given an address */
static int wr_api_ud_without_ah(struct fixture *f)
{
	struct ibv_qp_ex *qpx = rts_qp_ex(f, IBV_QPT_UD, IBV_QP_EX_WITH_SEND);

	if (!qpx)
		return 0;
	ibv_wr_start(qpx);
	ibv_wr_send(qpx);
	ibv_wr_set_sge(qpx, f->mr->lkey, (uintptr_t)f->buf, 64);
	return wr_batch_fails(qpx);
}

/* An RC QP on cq (and srq) in RTS, connected to itself. */
static struct ibv_qp *self_qp(struct fixture *f, struct ibv_cq *cq,
			      struct ibv_srq *srq)
{
	struct ibv_qp_init_attr a = {
		.send_cq = cq, .recv_cq = cq, .srq = srq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = ibv_create_qp(f->pd, &a);
	struct test_gid g;

	if (!qp || test_find_gid(f->ctx, &g) ||
	    (errno = test_qp_rts(qp, qp->qp_num, &g)))
		return NULL;
	return qp;
}

/* A SEND from qp to itself: both completions arrive on cq, successful. */
static int self_send(struct fixture *f, struct ibv_qp *qp, struct ibv_srq *srq,
		     struct ibv_cq *cq)
{
	struct ibv_sge rsge = { (uintptr_t)f->buf + 4096, 64, f->mr->lkey };
	struct ibv_sge ssge = { (uintptr_t)f->buf, 16, f->mr->lkey };
	struct ibv_recv_wr rwr = { .wr_id = 1, .sg_list = &rsge, .num_sge = 1 };
	struct ibv_send_wr swr = {
		.wr_id = 2, .sg_list = &ssge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	};
	struct ibv_recv_wr *rbad;
	struct ibv_send_wr *sbad;
	struct ibv_wc wc;
	int i;

	if (srq ? ibv_post_srq_recv(srq, &rwr, &rbad) :
		  ibv_post_recv(qp, &rwr, &rbad))
		return -1;
	if (ibv_post_send(qp, &swr, &sbad))
		return -1;
	for (i = 0; i < 2; i++)
		if (test_poll_wc(cq, &wc, 20) || wc.status != IBV_WC_SUCCESS)
			return -1;
	return 0;
}

/*
 * Cap the address space at what the process maps now, with room for its
 * stack to grow, so that mapping a ring of a few hundred KiB fails.
 */
static int limit_address_space(struct rlimit *old)
{
	unsigned long pages;
	struct rlimit r;
	FILE *fp = fopen("/proc/self/statm", "r");
	int n = fp ? fscanf(fp, "%lu", &pages) : 0;

	if (fp)
		fclose(fp);
	if (n != 1 || getrlimit(RLIMIT_AS, old))
		return -1;
	r.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + 64 * 1024;
	r.rlim_max = old->rlim_max;
	return setrlimit(RLIMIT_AS, &r);
}

/*
 * The resize's ring cannot be mapped: the resize fails, and the CQ still
 * works (a SEND completes through it), as it does after a resize that
 * succeeds.
 */
static int resize_cq_without_address_space(struct fixture *f)
{
	struct ibv_cq *cq = ibv_create_cq(f->ctx, 16, NULL, NULL, 0);
	struct ibv_qp *qp = cq ? self_qp(f, cq, NULL) : NULL;
	struct rlimit old;
	int err;

	if (!qp || limit_address_space(&old))
		return 0;
	err = ibv_resize_cq(cq, 4096);
	setrlimit(RLIMIT_AS, &old);
	if (!err)
		return 0;
	if (self_send(f, qp, NULL, cq) || ibv_resize_cq(cq, 4096) ||
	    self_send(f, qp, NULL, cq)) {
		printf("case %s: the CQ does not work after the failed resize\n",
		       __func__);
		errno = ENOTRECOVERABLE;
		return 1;
	}
	errno = err;
	return 1;
}

/* The same for an SRQ: its receives still complete. */
static int modify_srq_without_address_space(struct fixture *f)
{
	struct ibv_srq_init_attr a = { .attr = { .max_wr = 8, .max_sge = 1 } };
	struct ibv_srq_attr m = { .max_wr = 2048 };
	struct ibv_srq *srq = ibv_create_srq(f->pd, &a);
	struct ibv_qp *qp = srq ? self_qp(f, f->cq, srq) : NULL;
	struct rlimit old;
	int err;

	if (!qp || limit_address_space(&old))
		return 0;
	err = ibv_modify_srq(srq, &m, IBV_SRQ_MAX_WR);
	setrlimit(RLIMIT_AS, &old);
	if (!err)
		return 0;
	if (self_send(f, qp, srq, f->cq) ||
	    ibv_modify_srq(srq, &m, IBV_SRQ_MAX_WR) ||
	    self_send(f, qp, srq, f->cq)) {
		printf("case %s: the SRQ does not work after the failed resize\n",
		       __func__);
		errno = ENOTRECOVERABLE;
		return 1;
	}
	errno = err;
	return 1;
}

static const struct {
	const char *name;
	int (*run)(struct fixture *f);
	int expect; /* the errno it must fail with; 0: any */
} cases[] = {
#define CASE(fn) { #fn, fn, 0 }
#define CASE_ERRNO(fn, e) { #fn, fn, e }
	CASE(reg_mr_bad_address),
	CASE(reg_mr_remote_write_without_local),
	CASE(reg_mr_odp_zero_length),
	CASE(reg_mr_odp_range_wraps),
	CASE(reg_dmabuf_mr_bad_fd),
	CASE(reg_dmabuf_mr_not_a_dmabuf),
	CASE(advise_mr_non_odp),
	CASE(advise_mr_bad_lkey),
	CASE(advise_mr_no_sge),
	CASE(create_cq_huge),
	CASE(create_cq_ex_timestamp),
	CASE(resize_cq_huge),
	CASE(destroy_cq_in_use),
	CASE(dealloc_pd_in_use),
	CASE(create_qp_huge),
	CASE(create_qp_raw_packet),
	CASE(create_qp_ex_bad_send_ops),
	CASE(modify_qp_reset_to_rts),
	CASE(modify_qp_bad_port),
	CASE(post_recv_reset_qp),
	CASE(post_send_too_many_sge),
	CASE(post_send_inline_too_long),
	CASE(post_send_misaligned_atomic),
	CASE(create_ah_bad_port),
	CASE(create_ah_bad_sgid_index),
	CASE(query_port_zero),
	CASE(attach_mcast_rc_qp),
	CASE(create_srq_huge),
	CASE(modify_srq_limit_above_max),
	CASE(bind_mw_no_mr),
	CASE(wr_api_sge_list_too_long),
	CASE_ERRNO(post_recv_sge_length_wraps, EINVAL),
	CASE_ERRNO(wr_api_misaligned_atomic, EINVAL),
	CASE_ERRNO(wr_api_atomic_short_sge, EINVAL),
	CASE_ERRNO(wr_api_misaligned_atomic_write, EINVAL),
	CASE_ERRNO(wr_api_ud_without_ah, EINVAL),
	CASE_ERRNO(resize_cq_without_address_space, ENOMEM),
	CASE_ERRNO(modify_srq_without_address_space, ENOMEM),
#undef CASE_ERRNO
#undef CASE
};

/*
 * Child: 0 = failed as it should, 1 = succeeded or failed with another
 * errno than the case names, 3 = fixture failed.
 */
static int child(int i)
{
	static struct fixture f;

	if (open_fixture(&f)) {
		printf("case %s: fixture setup failed: %s\n", cases[i].name,
		       strerror(errno));
		return 3;
	}
	errno = 0;
	if (!cases[i].run(&f)) {
		printf("case %s: OK (should have failed)\n", cases[i].name);
		return 1;
	}
	if (cases[i].expect && errno != cases[i].expect) {
		printf("case %s: error %s, expected %s\n", cases[i].name,
		       errno ? strerrorname_np(errno) : "(errno not set)",
		       strerrorname_np(cases[i].expect));
		return 1;
	}
	printf("case %s: error %s\n", cases[i].name,
	       errno ? strerrorname_np(errno) : "(errno not set)");
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;
	int bad = 0, status;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DEVICE [msrxe|rxe]\n", argv[0]);
		return 2;
	}
	dev_name = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(child((int)i));
		if (pid < 0 || waitpid(pid, &status, 0) < 0) {
			perror("fork/wait");
			return 2;
		}
		if (WIFSIGNALED(status)) {
			printf("case %s: CRASH signal %d\n", cases[i].name,
			       WTERMSIG(status));
			bad = 1;
		} else if (WEXITSTATUS(status)) {
			bad = 1;
		}
	}
	if (argc > 2) {
		struct fixture f;

		memset(&f, 0, sizeof(f));
		if (open_fixture(&f) || check_provider(argv[2])) {
			printf("provider check: %s is not the provider in use\n", argv[2]);
			bad = 1;
		}
	}
	printf("bad input: %s\n", bad ? "FAIL" : "all cases failed cleanly");
	return bad;
}

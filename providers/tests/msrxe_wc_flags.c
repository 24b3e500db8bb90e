// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The work-completion flags a provider reports are ibv_wc_flags, not the
 * kernel's ib_wc_flags that rxe writes into its CQ ring (the two differ
 * from bit 2 on). Two RC QPs on DEVICE, connected to each other through
 * the port's RoCE v2 GID of an IPv4 address:
 *
 *   send_inv.poll_cq  SEND_WITH_INV of a bound type 2 MW's rkey; the receive
 *                     completion read with ibv_poll_cq has IBV_WC_WITH_INV
 *                     and invalidated_rkey == that rkey
 *   send_inv.cq_ex    the same read with ibv_start_poll, ibv_wc_read_wc_flags
 *                     and ibv_wc_read_invalidated_rkey
 *   send_imm          SEND_WITH_IMM: the receive has IBV_WC_WITH_IMM and the
 *                     immediate, not IBV_WC_WITH_INV; the send has WITH_IMM
 *
 * No completion may have IBV_WC_IP_CSUM_OK (rxe never reports a checksum
 * to a user CQ) or a bit no ibv_wc_flags of rxe's can have (tag matching).
 *
 * usage: msrxe_wc_flags DEVICE [msrxe|rxe]
 * Prints "ok NAME" or "FAIL NAME: ..." per check. Exit 0 when all passed,
 * 1 when a check failed, 2 on bad usage or when the QPs could not be set
 * up. With a provider name, also checks that provider is the one mapped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <infiniband/verbs.h>

#include "qp_connect.h"
#include "which_provider.h"

#define MSG_LEN 16
#define TIMEOUT_S 20

/* the ibv_wc_flags an rxe completion can carry */
#define RXE_IBV_WC_FLAGS                                                       \
	(IBV_WC_GRH | IBV_WC_WITH_IMM | IBV_WC_IP_CSUM_OK | IBV_WC_WITH_INV)

struct fixture {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *scq;     /* both QPs' sends, the sender's receives */
	struct ibv_cq_ex *rcq;  /* the receiver's receives */
	struct ibv_qp *snd, *rcv;
	struct test_gid gid;
	char buf[3 * 4096];     /* the receiver's MW window, send, receive */
};

static int failed;

static void fail(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed = 1;
}

static struct ibv_qp *make_qp(struct fixture *f, struct ibv_cq *rcq)
{
	struct ibv_qp_init_attr qa;

	memset(&qa, 0, sizeof(qa));
	qa.send_cq = f->scq;
	qa.recv_cq = rcq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = qa.cap.max_recv_wr = 8;
	qa.cap.max_send_sge = qa.cap.max_recv_sge = 1;
	return ibv_create_qp(f->pd, &qa);
}

static int setup(struct fixture *f, const char *dev)
{
	struct ibv_cq_init_attr_ex ca = {
		.cqe = 16,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_IMM |
			    IBV_WC_EX_WITH_QP_NUM,
	};
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n && !f->ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), dev))
			f->ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!f->ctx || test_find_gid(f->ctx, &f->gid))
		return -1;
	f->pd = ibv_alloc_pd(f->ctx);
	if (!f->pd)
		return -1;
	f->mr = ibv_reg_mr(f->pd, f->buf, sizeof(f->buf),
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_MW_BIND);
	f->scq = ibv_create_cq(f->ctx, 32, NULL, NULL, 0);
	f->rcq = ibv_create_cq_ex(f->ctx, &ca);
	if (!f->mr || !f->scq || !f->rcq)
		return -1;
	f->snd = make_qp(f, f->scq);
	f->rcv = make_qp(f, ibv_cq_ex_to_cq(f->rcq));
	if (!f->snd || !f->rcv)
		return -1;
	errno = test_qp_rts(f->snd, f->rcv->qp_num, &f->gid);
	if (!errno)
		errno = test_qp_rts(f->rcv, f->snd->qp_num, &f->gid);
	if (errno)
		return -1;
	return 0;
}

/* The completion of a signaled send: success, else FAIL. */
static int wait_send(const char *name, struct fixture *f, uint64_t wr_id,
		     struct ibv_wc *wc)
{
	if (test_poll_wc(f->scq, wc, TIMEOUT_S)) {
		fail(name, "no send completion in %d s", TIMEOUT_S);
		return -1;
	}
	if (wc->status != IBV_WC_SUCCESS || wc->wr_id != wr_id) {
		fail(name, "send completion wr_id %llu status %s, expected %llu success",
		     (unsigned long long)wc->wr_id,
		     ibv_wc_status_str(wc->status), (unsigned long long)wr_id);
		return -1;
	}
	return 0;
}

/* Bind a fresh type 2 MW over the first page, on the receiver's QP. */
static int bind_mw(struct fixture *f, const char *name, uint32_t *rkey)
{
	struct ibv_mw *mw = ibv_alloc_mw(f->pd, IBV_MW_TYPE_2);
	struct ibv_send_wr wr, *bad;
	struct ibv_wc wc;
	int err;

	if (!mw) {
		fail(name, "ibv_alloc_mw(type 2): %s", strerror(errno));
		return -1;
	}
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 100;
	wr.opcode = IBV_WR_BIND_MW;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = ibv_inc_rkey(mw->rkey);
	wr.bind_mw.bind_info.mr = f->mr;
	wr.bind_mw.bind_info.addr = (uintptr_t)f->buf;
	wr.bind_mw.bind_info.length = 4096;
	wr.bind_mw.bind_info.mw_access_flags = IBV_ACCESS_REMOTE_WRITE;
	err = ibv_post_send(f->rcv, &wr, &bad);
	if (err) {
		fail(name, "bind type 2 MW: %s", strerror(err));
		return -1;
	}
	if (wait_send(name, f, wr.wr_id, &wc))
		return -1;
	*rkey = wr.bind_mw.rkey;
	return 0;
}

static int post_recv(struct fixture *f, const char *name, uint64_t wr_id)
{
	struct ibv_sge sge = {
		(uintptr_t)f->buf + 2 * 4096, 4096, f->mr->lkey
	};
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int err = ibv_post_recv(f->rcv, &wr, &bad);

	if (err)
		fail(name, "ibv_post_recv: %s", strerror(err));
	return err ? -1 : 0;
}

static int post_send(struct fixture *f, const char *name, uint64_t wr_id,
		     enum ibv_wr_opcode op, uint32_t ex)
{
	struct ibv_sge sge = { (uintptr_t)f->buf + 4096, MSG_LEN, f->mr->lkey };
	struct ibv_send_wr wr, *bad;
	int err;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = wr_id;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	if (op == IBV_WR_SEND_WITH_INV)
		wr.invalidate_rkey = ex;
	else
		wr.imm_data = htonl(ex);
	err = ibv_post_send(f->snd, &wr, &bad);
	if (err)
		fail(name, "ibv_post_send: %s", strerror(err));
	return err ? -1 : 0;
}

/* flags must hold all of want and none of refuse nor a bit rxe cannot set */
static int check_flags(const char *name, const char *what, unsigned int flags,
		       unsigned int want, unsigned int refuse)
{
	refuse |= ~(unsigned int)RXE_IBV_WC_FLAGS;
	if ((flags & want) == want && !(flags & refuse))
		return 0;
	fail(name, "%s wc_flags 0x%x: want 0x%x set and 0x%x clear (IBV_WC_GRH 0x%x, WITH_IMM 0x%x, IP_CSUM_OK 0x%x, WITH_INV 0x%x)",
	     what, flags, want, refuse & RXE_IBV_WC_FLAGS, IBV_WC_GRH,
	     IBV_WC_WITH_IMM, IBV_WC_IP_CSUM_OK, IBV_WC_WITH_INV);
	return -1;
}

static int check_recv(const char *name, uint64_t wr_id, uint64_t got_id,
		      int status, int opcode, uint32_t byte_len)
{
	if (got_id == wr_id && status == IBV_WC_SUCCESS &&
	    opcode == IBV_WC_RECV && byte_len == MSG_LEN)
		return 0;
	fail(name, "receive completion wr_id %llu status %s opcode %d byte_len %u, expected %llu success RECV %d",
	     (unsigned long long)got_id,
	     ibv_wc_status_str((enum ibv_wc_status)status), opcode, byte_len,
	     (unsigned long long)wr_id, MSG_LEN);
	return -1;
}

static void send_inv_poll_cq(struct fixture *f)
{
	const char *name = "send_inv.poll_cq";
	struct ibv_wc wc, swc;
	uint32_t rkey;

	if (bind_mw(f, name, &rkey) || post_recv(f, name, 1) ||
	    post_send(f, name, 2, IBV_WR_SEND_WITH_INV, rkey))
		return;
	/* both completions first, so that a failed check leaves none behind */
	if (test_poll_wc(ibv_cq_ex_to_cq(f->rcq), &wc, TIMEOUT_S)) {
		fail(name, "no receive completion in %d s", TIMEOUT_S);
		return;
	}
	if (wait_send(name, f, 2, &swc))
		return;
	if (check_recv(name, 1, wc.wr_id, wc.status, wc.opcode, wc.byte_len) ||
	    check_flags(name, "receive", wc.wc_flags, IBV_WC_WITH_INV,
			IBV_WC_WITH_IMM | IBV_WC_IP_CSUM_OK) ||
	    check_flags(name, "send", swc.wc_flags, 0,
			IBV_WC_WITH_INV | IBV_WC_WITH_IMM | IBV_WC_IP_CSUM_OK))
		return;
	if (wc.invalidated_rkey != rkey) {
		fail(name, "invalidated_rkey 0x%x, expected 0x%x",
		     wc.invalidated_rkey, rkey);
		return;
	}
	printf("ok %s (rkey 0x%x)\n", name, rkey);
}

static void send_inv_cq_ex(struct fixture *f)
{
	const char *name = "send_inv.cq_ex";
	struct ibv_poll_cq_attr pa = { 0 };
	time_t end = time(NULL) + TIMEOUT_S;
	unsigned int flags;
	uint32_t rkey, inv;
	struct ibv_wc wc;
	int err, status, opcode;
	uint64_t wr_id;
	uint32_t len;

	if (bind_mw(f, name, &rkey) || post_recv(f, name, 3) ||
	    post_send(f, name, 4, IBV_WR_SEND_WITH_INV, rkey))
		return;
	while ((err = ibv_start_poll(f->rcq, &pa)) == ENOENT && time(NULL) < end)
		usleep(100);
	if (err) {
		fail(name, "ibv_start_poll: %s", strerror(err));
		return;
	}
	wr_id = f->rcq->wr_id;
	status = f->rcq->status;
	opcode = ibv_wc_read_opcode(f->rcq);
	len = ibv_wc_read_byte_len(f->rcq);
	flags = ibv_wc_read_wc_flags(f->rcq);
	inv = ibv_wc_read_invalidated_rkey(f->rcq);
	ibv_end_poll(f->rcq);
	if (wait_send(name, f, 4, &wc))
		return;
	if (check_recv(name, 3, wr_id, status, opcode, len) ||
	    check_flags(name, "receive", flags, IBV_WC_WITH_INV,
			IBV_WC_WITH_IMM | IBV_WC_IP_CSUM_OK))
		return;
	if (inv != rkey) {
		fail(name, "invalidated_rkey 0x%x, expected 0x%x", inv, rkey);
		return;
	}
	printf("ok %s (rkey 0x%x)\n", name, rkey);
}

static void send_imm(struct fixture *f)
{
	const char *name = "send_imm";
	const uint32_t imm = 0x12345678;
	struct ibv_wc wc, swc;

	if (post_recv(f, name, 5) ||
	    post_send(f, name, 6, IBV_WR_SEND_WITH_IMM, imm))
		return;
	if (test_poll_wc(ibv_cq_ex_to_cq(f->rcq), &wc, TIMEOUT_S)) {
		fail(name, "no receive completion in %d s", TIMEOUT_S);
		return;
	}
	if (wait_send(name, f, 6, &swc))
		return;
	if (check_recv(name, 5, wc.wr_id, wc.status, wc.opcode, wc.byte_len) ||
	    check_flags(name, "receive", wc.wc_flags, IBV_WC_WITH_IMM,
			IBV_WC_WITH_INV | IBV_WC_IP_CSUM_OK) ||
	    check_flags(name, "send", swc.wc_flags, IBV_WC_WITH_IMM,
			IBV_WC_WITH_INV | IBV_WC_IP_CSUM_OK))
		return;
	if (ntohl(wc.imm_data) != imm) {
		fail(name, "imm_data 0x%x, expected 0x%x", ntohl(wc.imm_data), imm);
		return;
	}
	printf("ok %s\n", name);
}

int main(int argc, char **argv)
{
	static struct fixture f;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DEVICE [msrxe|rxe]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup(&f, argv[1])) {
		printf("FAIL setup: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	send_inv_poll_cq(&f);
	send_inv_cq_ex(&f);
	send_imm(&f);
	if (argc > 2 && check_provider(argv[2])) {
		printf("FAIL provider: %s is not the provider in use\n", argv[2]);
		failed = 1;
	}
	printf("wc flags: %s\n", failed ? "FAIL" : "all checks passed");
	return failed;
}

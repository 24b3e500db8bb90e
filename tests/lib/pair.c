/*
 * rdmatest: loopback QP pairs (two QPs of one device connected to each
 * other), posting work requests and waiting for their completions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <string.h>

#include "rdmatest.h"

static int rc_to_init(const struct rt_dev *d, struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = d->port,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
				   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT |
			     IBV_QP_ACCESS_FLAGS);
}

static int rc_to_rtr(const struct rt_dev *d, struct ibv_qp *qp, uint32_t dest_qpn,
		     uint8_t rd_atom)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = d->mtu,
		.dest_qp_num = dest_qpn,
		.max_dest_rd_atomic = rd_atom,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.grh = { .dgid = d->gid, .sgid_index = (uint8_t)d->gid_index,
				 .hop_limit = 64 },
			.port_num = d->port,
		},
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
			     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
}

static int rc_to_rts(struct ibv_qp *qp, const struct rt_pair_attr *pa, uint8_t rd_atom)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS,
		.timeout = pa->timeout,
		.retry_cnt = pa->retry_cnt,
		.rnr_retry = 7,
		.max_rd_atomic = rd_atom,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

/* Move RC @qp to RTS, connected to @dest_qpn of the same port and GID */
static int rc_connect(const struct rt_dev *d, struct ibv_qp *qp, uint32_t dest_qpn,
		      const struct rt_pair_attr *pa)
{
	uint8_t rd_atom = d->attr.orig_attr.max_qp_rd_atom < 16 ?
			  (uint8_t)d->attr.orig_attr.max_qp_rd_atom : 16;
	enum ibv_qp_state state = IBV_QPS_INIT;
	int err;

	err = rc_to_init(d, qp);
	if (!err) {
		state = IBV_QPS_RTR;
		err = rc_to_rtr(d, qp, dest_qpn, rd_atom);
	}
	if (!err) {
		state = IBV_QPS_RTS;
		err = rc_to_rts(qp, pa, rd_atom);
	}
	if (err)
		return rt_fail(d, -err, "cannot move RC QP %u to state %d: %s", qp->qp_num, state,
			       strerror(err));
	return 0;
}

static int ud_ready(const struct rt_dev *d, struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = d->port,
		.qkey = RT_UD_QKEY,
	};
	int err;

	err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_QKEY);
	if (!err) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTR;
		err = ibv_modify_qp(qp, &a, IBV_QP_STATE);
	}
	if (!err) {
		memset(&a, 0, sizeof(a));
		a.qp_state = IBV_QPS_RTS;
		err = ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
	}
	if (err)
		return rt_fail(d, -err, "cannot make UD QP %u ready: %s", qp->qp_num, strerror(err));
	return 0;
}

/* UD: both QPs ready, and the address of qp[1] (GRH: RoCE needs one) */
static int ud_connect(struct rt_dev *d, struct rt_pair *p)
{
	struct ibv_ah_attr ah = {
		.is_global = 1,
		.grh = { .dgid = d->gid, .sgid_index = (uint8_t)d->gid_index, .hop_limit = 64 },
		.port_num = d->port,
	};
	int err;

	err = ud_ready(d, p->qp[0]);
	if (!err)
		err = ud_ready(d, p->qp[1]);
	if (err)
		return err;
	p->ah = ibv_create_ah(d->pd, &ah);
	if (!p->ah)
		return rt_fail(d, -errno, "ibv_create_ah: %s", strerror(errno));
	return 0;
}

void rt_pair_free(struct rt_pair *p)
{
	int i;

	if (p->ah)
		ibv_destroy_ah(p->ah);
	for (i = 0; i < 2; i++)
		if (p->qp[i])
			ibv_destroy_qp(p->qp[i]);
	if (p->srq)
		ibv_destroy_srq(p->srq);
	if (p->scq)
		ibv_destroy_cq(p->scq);
	if (p->rcq && p->rcq != p->scq)
		ibv_destroy_cq(p->rcq);
	if (p->ch)
		ibv_destroy_comp_channel(p->ch);
	memset(p, 0, sizeof(*p));
}

/* The completion channel, the CQs and the SRQ the pair's QPs use */
static int pair_queues(struct rt_dev *d, struct rt_pair *p, const struct rt_pair_attr *a)
{
	if (a->events) {
		p->ch = ibv_create_comp_channel(d->ctx);
		if (!p->ch)
			return rt_fail(d, -errno, "ibv_create_comp_channel: %s", strerror(errno));
	}
	p->scq = ibv_create_cq(d->ctx, a->cq_depth, NULL, p->ch, 0);
	if (p->scq && a->one_cq)
		p->rcq = p->scq;
	else if (p->scq)
		p->rcq = ibv_create_cq(d->ctx, a->cq_depth, NULL, p->ch, 0);
	if (!p->rcq)
		return rt_fail(d, -errno, "ibv_create_cq: %s", strerror(errno));
	if (a->srq) {
		struct ibv_srq_init_attr sa = { .attr = { .max_wr = 16, .max_sge = 1 } };

		p->srq = ibv_create_srq(d->pd, &sa);
		if (!p->srq)
			return rt_fail(d, -errno, "ibv_create_srq: %s", strerror(errno));
	}
	return 0;
}

static int pair_qps(struct rt_dev *d, struct rt_pair *p, const struct rt_pair_attr *a)
{
	struct ibv_qp_init_attr init;
	int i;

	for (i = 0; i < 2; i++) {
		memset(&init, 0, sizeof(init));
		init.send_cq = p->scq;
		init.recv_cq = p->rcq;
		init.srq = i == 1 ? p->srq : NULL;
		init.qp_type = a->type;
		init.sq_sig_all = a->sq_sig_all;
		init.cap = a->cap;
		p->qp[i] = ibv_create_qp(d->pd, &init);
		if (!p->qp[i])
			return rt_fail(d, -errno, "ibv_create_qp(%s): %s",
				       a->type == IBV_QPT_RC ? "RC" : "UD", strerror(errno));
	}
	return 0;
}

/* Two QPs as @a says, connected to each other (RC) or ready, with an AH (UD) */
int rt_pair_new(struct rt_dev *d, struct rt_pair *p, const struct rt_pair_attr *a)
{
	int i, err;

	memset(p, 0, sizeof(*p));
	p->type = a->type;
	err = pair_queues(d, p, a);
	if (!err)
		err = pair_qps(d, p, a);
	if (!err && a->type == IBV_QPT_RC) {
		err = rc_connect(d, p->qp[0], p->qp[1]->qp_num, a);
		if (!err)
			err = rc_connect(d, p->qp[1], p->qp[0]->qp_num, a);
	} else if (!err) {
		err = ud_connect(d, p);
	}
	for (i = 0; !err && p->ch && i < 2; i++)
		if (ibv_req_notify_cq(i ? p->rcq : p->scq, 0))
			err = rt_fail(d, -EIO, "ibv_req_notify_cq failed");
	if (err)
		rt_pair_free(p);
	return err;
}

/* One poll of @cq: 1 with @wc set, 0 when empty, -EIO */
static int poll_one(const struct rt_dev *d, struct ibv_cq *cq, struct ibv_wc *wc,
		    const char *what)
{
	int n = ibv_poll_cq(cq, 1, wc);

	if (n < 0)
		return rt_fail(d, -EIO, "ibv_poll_cq failed (%d) waiting for %s", n, what);
	return n;
}

/* Sleep on the completion channel of @p until an event or @ms pass */
static int wait_event(const struct rt_dev *d, struct rt_pair *p, int ms, const char *what)
{
	struct pollfd pfd = { .fd = p->ch->fd, .events = POLLIN };
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int rc = poll(&pfd, 1, ms);

	if (rc < 0 && errno != EINTR)
		return rt_fail(d, -errno, "poll on the completion channel: %s", strerror(errno));
	if (rc > 0) {
		if (ibv_get_cq_event(p->ch, &ev_cq, &ev_ctx))
			return rt_fail(d, -EIO, "ibv_get_cq_event failed waiting for %s", what);
		ibv_ack_cq_events(ev_cq, 1);
	}
	return 0;
}

/*
 * Wait for one completion on @cq of @p (made with events), at most
 * d->timeout_ms: sleeps on the completion channel. 0 with @wc set, or
 * -errno.
 */
int rt_wait_wc(const struct rt_dev *d, struct rt_pair *p, struct ibv_cq *cq, struct ibv_wc *wc,
	       const char *what)
{
	uint64_t now, deadline = rt_now_ms() + (uint64_t)d->timeout_ms;
	int n;

	for (;;) {
		n = poll_one(d, cq, wc, what);
		if (n)
			return n < 0 ? n : 0;
		/* armed, then polled again: a completion in between is not missed */
		if (ibv_req_notify_cq(cq, 0))
			return rt_fail(d, -EIO, "ibv_req_notify_cq failed waiting for %s", what);
		n = poll_one(d, cq, wc, what);
		if (n)
			return n < 0 ? n : 0;
		now = rt_now_ms();
		if (now >= deadline)
			return rt_fail(d, -ETIMEDOUT, "%s: no completion after %d s: the work request hangs (see dmesg; -t SECONDS waits longer)",
				       what, d->timeout_ms / 1000);
		n = wait_event(d, p, (int)(deadline - now) + 1, what);
		if (n)
			return n;
	}
}

/* Post @wr (signaled, alone) on qp[0] and wait for its completion; 0 with @wc set, or -errno */
int rt_exec_wr(const struct rt_dev *d, struct rt_pair *p, struct ibv_send_wr *wr,
	       struct ibv_wc *wc, const char *what)
{
	struct ibv_send_wr *bad;
	int err;

	wr->next = NULL;
	wr->send_flags |= IBV_SEND_SIGNALED;
	err = ibv_post_send(p->qp[0], wr, &bad);
	if (err)
		return rt_fail(d, -err, "ibv_post_send(%s): %s", what, strerror(err));
	err = rt_wait_wc(d, p, p->scq, wc, what);
	if (!err && wc->wr_id != wr->wr_id)
		err = rt_fail(d, -EPROTO, "%s: completion of work request %" PRIu64 ", expected %" PRIu64,
			      what, wc->wr_id, wr->wr_id);
	return err;
}

/* The completion status @wc has is @want */
int rt_expect_status(const struct rt_dev *d, const struct ibv_wc *wc, enum ibv_wc_status want,
		     const char *what)
{
	if (wc->status == want)
		return 0;
	return rt_fail(d, -EIO, "%s: completed with %s (vendor error 0x%x), expected %s", what,
		       ibv_wc_status_str(wc->status), wc->vendor_err, ibv_wc_status_str(want));
}

/* Post one receive of @len bytes at @addr on qp[1] (or its SRQ) */
int rt_post_recv(const struct rt_dev *d, struct rt_pair *p, struct ibv_mr *mr, void *addr,
		 size_t len, uint64_t wr_id)
{
	struct ibv_sge sge = { .addr = (uintptr_t)addr, .length = (uint32_t)len, .lkey = mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = wr_id, .sg_list = &sge, .num_sge = 1 }, *bad;
	int err;

	err = p->srq ? ibv_post_srq_recv(p->srq, &wr, &bad) : ibv_post_recv(p->qp[1], &wr, &bad);
	if (err)
		return rt_fail(d, -err, "ibv_post_%srecv: %s", p->srq ? "srq_" : "", strerror(err));
	return 0;
}

/* Wait for the receive completion of qp[1]: success, @wr_id, @len bytes */
int rt_expect_recv(const struct rt_dev *d, struct rt_pair *p, uint64_t wr_id, uint32_t len,
		   struct ibv_wc *wc, const char *what)
{
	int err = rt_wait_wc(d, p, p->rcq, wc, what);

	if (!err)
		err = rt_expect_status(d, wc, IBV_WC_SUCCESS, what);
	if (!err && (wc->opcode != IBV_WC_RECV || wc->wr_id != wr_id || wc->byte_len != len))
		err = rt_fail(d, -EIO, "%s: receive completion opcode %d, wr_id %" PRIu64 ", %u bytes; expected RECV, %" PRIu64 ", %u bytes",
			      what, wc->opcode, wc->wr_id, wc->byte_len, wr_id, len);
	return err;
}

/*
 * Busy-poll @cq for @n completions, each of which must be a success, for
 * at most d->timeout_ms: no sleep, for measurements. An empty poll yields
 * the CPU: rxe completes requests in kernel work, which on a machine with
 * no CPU to spare (the benchmarks' one vCPU) runs only when the poller lets
 * it, so a poller that spins until its time slice ends makes a transfer
 * take whole slices more or less from one run to the next.
 */
int rt_poll_n(const struct rt_dev *d, struct ibv_cq *cq, unsigned long n)
{
	uint64_t start = rt_now_ns(), limit = (uint64_t)d->timeout_ms * 1000000;
	struct ibv_wc wc[16];
	int got, i;

	while (n) {
		got = ibv_poll_cq(cq, n < 16 ? (int)n : 16, wc);
		if (got < 0)
			return rt_fail(d, -EIO, "ibv_poll_cq failed (%d)", got);
		for (i = 0; i < got; i++)
			if (wc[i].status != IBV_WC_SUCCESS)
				return rt_fail(d, -EIO, "work request %" PRIu64 " (opcode %d) completed with %s (vendor error 0x%x); see dmesg",
					       wc[i].wr_id, wc[i].opcode,
					       ibv_wc_status_str(wc[i].status), wc[i].vendor_err);
		n -= (unsigned long)got;
		if (got)
			continue;
		sched_yield();
		if (rt_now_ns() - start > limit)
			return rt_fail(d, -ETIMEDOUT, "%lu completion(s) still missing after %d s", n,
				       d->timeout_ms / 1000);
	}
	return 0;
}

/*
 * Post a signaled RDMA WRITE or READ of @len bytes on qp[0], between
 * offset @loff of @local and offset @roff of @remote; does not wait.
 */
int rt_post_rdma(const struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op,
		 struct ibv_mr *local, size_t loff, struct ibv_mr *remote, size_t roff,
		 size_t len, uint64_t wr_id)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local->addr + loff,
		.length = (uint32_t)len,
		.lkey = local->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = wr_id,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = op,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { .remote_addr = (uintptr_t)remote->addr + roff, .rkey = remote->rkey },
	}, *bad;
	int err = ibv_post_send(p->qp[0], &wr, &bad);

	if (err)
		return rt_fail(d, -err, "ibv_post_send(%s, %zu bytes): %s", rt_op_name(op), len,
			       strerror(err));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ibvx-odp-example: register an ODP MR, RDMA WRITE into part of it through
 * a loopback RC QP, and print what the MR maps before and after.
 *
 * usage: ibvx-odp-example [-d DEVICE] [-g GID_INDEX] [-s MR_MIB] [-w WRITE_KIB]
 */
#define _DEFAULT_SOURCE /* getopt, MAP_ANONYMOUS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs_ext.h>

struct opts {
	const char *device;
	int gid_index;
	size_t mr_bytes;
	size_t write_bytes;
};

static void print_state(const char *when, struct ibv_mr *mr)
{
	struct ibvx_mr_odp_state s;
	struct ibvx_error err;

	if (ibvx_query_mr_odp(mr, &s, sizeof(s), &err)) {
		printf("%-7s (no ODP state: %s)\n", when, err.message);
		return;
	}
	printf("%-7s %llu of %llu pages mapped, %llu faults (%llu failed), %llu invalidations, %llu prefetches; kernel bookkeeping %llu bytes%s\n",
	       when, (unsigned long long)s.pages_mapped,
	       (unsigned long long)(mr->length / s.page_size),
	       (unsigned long long)s.faults, (unsigned long long)s.fault_errors,
	       (unsigned long long)s.invalidations,
	       (unsigned long long)s.prefetches,
	       (unsigned long long)s.bookkeeping_bytes,
	       s.flags & IBVX_MR_ODP_IOVA_PER_MR ? ", IOVA held for the whole MR" : "");
}

/* Connect an RC QP to itself */
static int connect_self(struct ibv_qp *qp, int gid_index)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};
	union ibv_gid gid;

	if (ibv_query_gid(qp->context, 1, gid_index, &gid))
		return errno;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return errno;
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTR,
		.path_mtu = IBV_MTU_1024,
		.dest_qp_num = qp->qp_num,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.port_num = 1,
			.grh = { .dgid = gid, .sgid_index = gid_index,
				 .hop_limit = 1 },
		},
	};
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return errno;
	a = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTS, .timeout = 14, .retry_cnt = 7,
		.rnr_retry = 7, .max_rd_atomic = 1,
	};
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return errno;
	return 0;
}

static int write_and_wait(struct ibv_qp *qp, struct ibv_cq *cq,
			  struct ibv_mr *src, struct ibv_mr *dst, size_t len)
{
	struct ibv_sge sge = { (uintptr_t)src->addr, (uint32_t)len, src->lkey };
	struct ibv_send_wr wr = {
		.sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
		.send_flags = IBV_SEND_SIGNALED,
		.wr.rdma = { (uintptr_t)dst->addr, dst->rkey },
	}, *bad;
	struct ibv_wc wc;
	int n;

	if (ibv_post_send(qp, &wr, &bad))
		return errno;
	while ((n = ibv_poll_cq(cq, 1, &wc)) == 0)
		;
	if (n < 0)
		return EIO;
	if (wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "RDMA WRITE completed with %s\n",
			ibv_wc_status_str(wc.status));
		return EIO;
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ NULL, 1, 16 << 20, 1 << 20 };
	while ((c = getopt(argc, argv, "d:g:s:w:")) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'g': o->gid_index = atoi(optarg); break;
		case 's': o->mr_bytes = strtoull(optarg, NULL, 0) << 20; break;
		case 'w': o->write_bytes = strtoull(optarg, NULL, 0) << 10; break;
		default: return EINVAL;
		}
	}
	if (!o->mr_bytes || !o->write_bytes || o->write_bytes > o->mr_bytes ||
	    o->write_bytes > (1U << 31)) {
		fprintf(stderr, "-w (KiB written) must be at least 1, at most -s (MiB of the MR) and 2 GiB\n");
		return EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ibv_device **list = NULL;
	struct ibv_context *ctx = NULL;
	struct ibv_mr *src = NULL, *dst = NULL;
	struct ibv_qp_init_attr qa = { 0 };
	struct ibv_qp *qp = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_pd *pd = NULL;
	struct ibvx_error err;
	unsigned char *buf = MAP_FAILED, *mem = MAP_FAILED;
	struct opts o;
	int i, n, ret = 1;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: %s [-d DEVICE] [-g GID_INDEX] [-s MR_MIB] [-w WRITE_KIB]\n", argv[0]);
		return 2;
	}
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!o.device || !strcmp(ibv_get_device_name(list[i]), o.device))
			break;
	if (!list || i == n) {
		fprintf(stderr, "no RDMA device%s%s\n", o.device ? " named " : "",
			o.device ? o.device : "");
		goto out;
	}
	ctx = ibv_open_device(list[i]);
	if (!ctx || !(pd = ibv_alloc_pd(ctx)) ||
	    !(cq = ibv_create_cq(ctx, 4, NULL, NULL, 0))) {
		perror("opening the device");
		goto out;
	}
	if (ibvx_probe(ctx, &err)) {
		fprintf(stderr, "%s\n", err.message);
		goto out;
	}
	qa = (struct ibv_qp_init_attr){ .send_cq = cq, .recv_cq = cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 2, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 } };
	qp = ibv_create_qp(pd, &qa);
	if (!qp || connect_self(qp, o.gid_index)) {
		perror("making a loopback RC QP");
		goto out;
	}

	buf = mmap(NULL, o.write_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem = mmap(NULL, o.mr_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || mem == MAP_FAILED) {
		perror("mmap");
		goto out;
	}
	memset(buf, 0xa5, o.write_bytes);
	src = ibv_reg_mr(pd, buf, o.write_bytes, IBV_ACCESS_LOCAL_WRITE);
	dst = ibvx_reg_odp_mr(pd, mem, o.mr_bytes,
			      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
			      IBVX_PREFETCH_NONE, &err);
	if (!src || !dst) {
		fprintf(stderr, "%s\n", src ? err.message : "registering the source failed");
		goto out;
	}

	printf("ODP MR of %zu MiB on %s; RDMA WRITE of %zu KiB into its start\n",
	       o.mr_bytes >> 20, ibv_get_device_name(ctx->device),
	       o.write_bytes >> 10);
	print_state("before:", dst);
	if (write_and_wait(qp, cq, src, dst, o.write_bytes))
		goto out;
	print_state("after:", dst);
	if (memcmp(mem, buf, o.write_bytes)) {
		fprintf(stderr, "the bytes written did not arrive\n");
		goto out;
	}
	ret = 0;
out:
	if (dst)
		ibv_dereg_mr(dst);
	if (src)
		ibv_dereg_mr(src);
	if (mem != MAP_FAILED)
		munmap(mem, o.mr_bytes);
	if (buf != MAP_FAILED)
		munmap(buf, o.write_bytes);
	if (qp)
		ibv_destroy_qp(qp);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ctx)
		ibv_close_device(ctx);
	if (list)
		ibv_free_device_list(list);
	return ret;
}

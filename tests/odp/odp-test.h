/*
 * rxe-odp-test: what its files share (see main.c for the program, and
 * tests/lib/rdmatest.h for the device, QP pair, pattern and counter
 * helpers).
 */
#ifndef ODP_TEST_H
#define ODP_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "rdmatest.h"

#define PROG "rxe-odp-test"

/* Exit status when the provider cannot advise_mr (see main.c) */
#define EXIT_NO_ADVISE 77

/* ODP capability bits libibverbs 44 does not name (kernel patch 0014) */
#define ODP_CAP_FLUSH (1U << 6)
#define ODP_CAP_ATOMIC_WRITE (1U << 7)

#define ODP_RW (IBV_ACCESS_ON_DEMAND | IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
#define PINNED_RW (ODP_RW & ~IBV_ACCESS_ON_DEMAND)

#define GRH_BYTES 40

struct options {
	const char *dev;
	int port;
	int gid;		/* -1: the first RoCE v2 GID of an IPv4 address */
	int timeout_s;
	const char *cmd;
	unsigned long repeat;
	const char *p2p_addr;	/* dmabuf-p2p: PCI address of the BAR's function */
	const char *p2p_file;	/* dmabuf-p2p: the BAR's backing file */
};

/* RC pairs made ahead (races: no mmap may land in a hole made later) */
struct pool {
	struct rt_pair p[8];
	int n, used;
};

/* common.c */
int check_caps(struct rt_dev *d, bool all);
int region_new(struct rt_dev *d, struct rt_region *r, size_t pages, int access, long seed);
int pair_new(struct rt_dev *d, struct rt_pair *p, enum ibv_qp_type type, bool srq);
int rdma(struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
	 const void *laddr, size_t len, struct ibv_mr *rmr, const void *raddr,
	 enum ibv_wc_status want, const char *what);
int rdma_atomic(struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op, struct ibv_mr *lmr,
		void *laddr, struct ibv_mr *rmr, void *raddr, uint64_t compare_add, uint64_t swap,
		enum ibv_wc_status want, const char *what);
int pool_fill(struct rt_dev *d, struct pool *pl, int n);
struct rt_pair *pool_take(struct pool *pl);
void pool_free(struct pool *pl);
const char *loaded_provider(char *buf, size_t len);
uintptr_t user_va_end(size_t page, bool *la57);
bool range_unmapped(void *addr, size_t len, size_t page);
const char *advice_name(enum ibv_advise_mr_advice a);
int advise(struct rt_dev *d, enum ibv_advise_mr_advice a, bool sync, uint32_t lkey,
	   const void *addr, size_t len);
int advise_supported(struct rt_dev *d, struct rt_region *r);
struct ibvx_mr_odp_state;
int odp_state(struct rt_dev *d, struct ibv_mr *mr, struct ibvx_mr_odp_state *s);

/* thp.c: traffic's case over transparent huge pages */
int traffic_thp(struct rt_dev *d, struct rt_pair *p);
int traffic_thp_reuse(struct rt_dev *d, struct rt_pair *p);
/* The case groups, one file each: 0, -errno (reported) or EXIT_NO_ADVISE */
int cmd_traffic(struct rt_dev *d, const struct options *o);
int cmd_races(struct rt_dev *d, const struct options *o);
int cmd_readonly(struct rt_dev *d, const struct options *o);
int cmd_bad_input(struct rt_dev *d, const struct options *o);
int cmd_prefetch(struct rt_dev *d, const struct options *o);
int cmd_dmabuf(struct rt_dev *d, const struct options *o);
int cmd_dmabuf_p2p(struct rt_dev *d, const struct options *o);
int cmd_implicit(struct rt_dev *d, const struct options *o);
int cmd_prefetch_teardown(struct rt_dev *d, const struct options *o);
int cmd_prefetch_hold(struct rt_dev *d, const struct options *o);

#endif

/*
 * rdmatest: the helpers the rxe test and benchmark programs share (device,
 * GID, loopback QP pairs, waiting for a completion, byte patterns, the
 * device's hw counters, messages).
 *
 * Every call that can fail prints why on stderr ("<fail_prefix><where>:
 * message") and returns a negative errno; nothing here exits.
 */
#ifndef RDMATEST_H
#define RDMATEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <infiniband/verbs.h>

#define RT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A PMD-sized (transparent) huge page on x86-64 */
#define RT_HUGE_BYTES ((size_t)2 << 20)

/* One opened RDMA device, its port and GID, and a PD */
struct rt_dev {
	const char *name;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_device_attr_ex attr;
	uint8_t port;
	int gid_index;
	union ibv_gid gid;
	enum ibv_mtu mtu;
	uint32_t mtu_bytes;
	uint32_t max_msg;	/* the port's max_msg_sz */
	size_t page;
	int timeout_ms;		/* wait this long for a completion or a counter */
	char counters[256];	/* sysfs hw_counters directory */
	unsigned int lifespan_ms;	/* the kernel caches counter values this long */
	const char *fail_prefix;	/* starts every failure message ("FAIL ", "") */
	char where[64];		/* the case being run (or the program), for messages */
};

/* What rt_open() opens */
struct rt_dev_opts {
	const char *name;
	int port;
	int gid;		/* -1: the first RoCE v2 GID of an IPv4 address */
	const char *gid_hint;	/* the option that names a GID index, for messages */
	int timeout_s;
};

/* A mapping of its own and, when registered, the MR over it */
struct rt_region {
	uint8_t *addr;
	size_t len;
	struct ibv_mr *mr;
};

/* What rt_pair_new() makes */
struct rt_pair_attr {
	enum ibv_qp_type type;
	bool srq;		/* qp[1] receives from an SRQ */
	bool events;		/* a completion channel, for rt_wait_wc() */
	bool one_cq;		/* one CQ for send and receive completions */
	int cq_depth;
	struct ibv_qp_cap cap;
	int sq_sig_all;
	uint8_t timeout;	/* RC: local ACK timeout (4.096 us * 2^timeout) */
	uint8_t retry_cnt;	/* RC: transport retries */
};

/* Two QPs connected to each other: qp[0] requests, qp[1] responds and receives */
struct rt_pair {
	enum ibv_qp_type type;
	struct ibv_comp_channel *ch;
	struct ibv_cq *scq;	/* send completions of both QPs */
	struct ibv_cq *rcq;	/* receive completions of both QPs (may be scq) */
	struct ibv_srq *srq;	/* qp[1] receives from it when set */
	struct ibv_qp *qp[2];
	struct ibv_ah *ah;	/* UD: the address of qp[1] */
};

/* The rxe ODP counters */
struct rt_counters {
	long long faults, errors, invalidations, prefetches;
};

#define RT_UD_QKEY 0x11111111U

/* report.c: messages, time, names, numbers */
void rt_set_case(struct rt_dev *d, const char *name);
void rt_ok(const struct rt_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_info(const struct rt_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rt_fail(const struct rt_dev *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t rt_now_ns(void);
uint64_t rt_now_ms(void);
void rt_sleep_ms(unsigned int ms);
const char *rt_op_name(enum ibv_wr_opcode op);
const char *rt_access_str(int access, char *buf, size_t len);
long long rt_parse_num(const char *s, long long min, long long max);

/* device.c: the device, its port, GID and PD; memory regions */
int rt_open(struct rt_dev *d, const struct rt_dev_opts *o);
void rt_close(struct rt_dev *d);
int rt_region_map(struct rt_dev *d, struct rt_region *r, size_t len);
int rt_region_map_thp(struct rt_dev *d, struct rt_region *r, size_t len);
long rt_thp_kib(const void *addr);
int rt_region_reg(struct rt_dev *d, struct rt_region *r, int access);
void rt_region_free(struct rt_region *r);

/* pair.c: loopback QP pairs, work requests, completions */
int rt_pair_new(struct rt_dev *d, struct rt_pair *p, const struct rt_pair_attr *a);
void rt_pair_free(struct rt_pair *p);
int rt_wait_wc(const struct rt_dev *d, struct rt_pair *p, struct ibv_cq *cq, struct ibv_wc *wc,
	       const char *what);
int rt_exec_wr(const struct rt_dev *d, struct rt_pair *p, struct ibv_send_wr *wr,
	       struct ibv_wc *wc, const char *what);
int rt_expect_status(const struct rt_dev *d, const struct ibv_wc *wc, enum ibv_wc_status want,
		     const char *what);
int rt_post_recv(const struct rt_dev *d, struct rt_pair *p, struct ibv_mr *mr, void *addr,
		 size_t len, uint64_t wr_id);
int rt_expect_recv(const struct rt_dev *d, struct rt_pair *p, uint64_t wr_id, uint32_t len,
		   struct ibv_wc *wc, const char *what);
int rt_poll_n(const struct rt_dev *d, struct ibv_cq *cq, unsigned long n);
int rt_post_rdma(const struct rt_dev *d, struct rt_pair *p, enum ibv_wr_opcode op,
		 struct ibv_mr *local, size_t loff, struct ibv_mr *remote, size_t roff,
		 size_t len, uint64_t wr_id);

/* pattern.c: byte patterns and comparisons */
uint8_t rt_pat(uint32_t seed, size_t i);
void rt_fill(uint8_t *p, size_t len, uint32_t seed, size_t base);
int rt_check_pat_z(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		   uint32_t seed, size_t base, bool zero_ok);
int rt_check_pat(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		 uint32_t seed, size_t base);
int rt_check_val(const struct rt_dev *d, const char *what, const uint8_t *p, size_t len,
		 uint8_t v);
int rt_check_same(const struct rt_dev *d, const char *what, const uint8_t *a, const uint8_t *b,
		  size_t len);
int rt_check_landed(const struct rt_dev *d, const char *what, const uint8_t *buf, size_t len,
		    size_t off, size_t n, uint32_t seed, size_t base);
/* @len bytes of the file @path at @off into @buf (e.g. a BAR's backing file) */
int rt_read_file(const struct rt_dev *d, const char *path, uint64_t off, uint8_t *buf,
		 size_t len);

/* counters.c: the device's hw counters */
int rt_counter_get(const struct rt_dev *d, const char *name, long long *value);
int rt_counters_init(struct rt_dev *d);
int rt_counter_read(const struct rt_dev *d, const char *name, long long *value);
int rt_counters_read(const struct rt_dev *d, struct rt_counters *c);
const char *rt_counters_delta(const struct rt_counters *a, const struct rt_counters *b,
			      char *buf, size_t len);
int rt_counter_wait(const struct rt_dev *d, const char *name, long long target,
		    long long *value);

#endif

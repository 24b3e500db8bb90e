/*
 * ibvx-test bad-input: every entry point of libibverbs-ext with bad input,
 * each case in a child process of its own, so that a crash shows as one
 * (a signal) instead of ending the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/rdma_user_ioctl_cmds.h>

#include "absent-method.h"
#include "ibvx-test.h"

int ibvx_test_expect_err(struct rt_dev *d, const char *call, int got, const struct ibvx_error *e,
			 int want, const char *hint)
{
	if (got != want)
		return rt_fail(d, -EPROTO, "%s returned %d (%s), expected %d (%s)", call, got,
			       strerror(got), want, strerror(want));
	if (e && (e->code != want || !strstr(e->message, hint)))
		return rt_fail(d, -EPROTO, "%s: error %d \"%s\", expected %d and a message naming \"%s\"",
			       call, e->code, e->message, want, hint);
	rt_ok(d, "%s: %s%s", call, strerror(got), e ? "" : " (no error struct)");
	if (e)
		rt_info(d, "  message: %s", e->message);
	return 0;
}

static int query_null_args(struct rt_dev *d, struct ibv_mr *mr)
{
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;

	return ibvx_test_expect_err(d, "query(mr NULL)", ibvx_query_mr_odp(NULL, &s, sizeof(s), &e), &e,
			  EINVAL, "mr is NULL") ?:
	       ibvx_test_expect_err(d, "query(mr NULL, err NULL)",
			  ibvx_query_mr_odp(NULL, &s, sizeof(s), NULL), NULL, EINVAL, "") ?:
	       ibvx_test_expect_err(d, "query(state NULL)", ibvx_query_mr_odp(mr, NULL, sizeof(s), &e), &e,
			  EINVAL, "state NULL") ?:
	       ibvx_test_expect_err(d, "query(state_size 0)", ibvx_query_mr_odp(mr, &s, 0, &e), &e,
			  EINVAL, "state_size 0") ?:
	       ibvx_test_expect_err(d, "probe(NULL)", ibvx_probe(NULL, &e), &e, EINVAL, "context is NULL");
}

/* A short buffer gets what fits and nothing past it; a long one zeros beyond */
static int query_sizes(struct rt_dev *d, struct ibv_mr *mr)
{
	unsigned char buf[sizeof(struct ibvx_mr_odp_state) + 16];
	struct ibvx_mr_odp_state *s = (void *)buf, full;
	struct ibvx_error e;
	size_t i;
	int ret;

	ret = ibvx_query_mr_odp(mr, &full, sizeof(full), &e);
	if (ret)
		return rt_fail(d, -ret, "query: %s", e.message);
	memset(buf, 0xee, sizeof(buf));
	ret = ibvx_query_mr_odp(mr, s, 12, &e);
	if (ret)
		return rt_fail(d, -ret, "query with 12 bytes: %s", e.message);
	if (memcmp(buf, &full, 12))
		return rt_fail(d, -EPROTO, "query with 12 bytes: not the state's first 12 bytes");
	for (i = 12; i < sizeof(buf); i++)
		if (buf[i] != 0xee)
			return rt_fail(d, -EPROTO, "query with 12 bytes wrote byte %zu", i);
	memset(buf, 0xee, sizeof(buf));
	ret = ibvx_query_mr_odp(mr, s, sizeof(buf), &e);
	if (ret)
		return rt_fail(d, -ret, "query with %zu bytes: %s", sizeof(buf), e.message);
	for (i = sizeof(*s); i < sizeof(buf); i++)
		if (buf[i])
			return rt_fail(d, -EPROTO, "query with a longer buffer left byte %zu unset", i);
	if (s->page_size != d->page)
		return rt_fail(d, -EPROTO, "page_size %llu", (unsigned long long)s->page_size);
	rt_ok(d, "short (12 bytes) and long (%zu bytes) state buffers", sizeof(buf));
	return 0;
}

static int query_not_odp(struct rt_dev *d, struct rt_region *pinned)
{
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;

	return ibvx_test_expect_err(d, "query(MR without ON_DEMAND)",
			  ibvx_query_mr_odp(pinned->mr, &s, sizeof(s), &e), &e, EINVAL,
			  "IBV_ACCESS_ON_DEMAND");
}

static int query_no_such_handle(struct rt_dev *d, struct ibv_mr *mr)
{
	struct ibv_mr fake = *mr;
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;

	fake.handle = 123456;
	return ibvx_test_expect_err(d, "query(handle 123456)", ibvx_query_mr_odp(&fake, &s, sizeof(s), &e),
			  &e, ENOENT, "no MR with handle");
}

static int reg_bad(struct rt_dev *d, struct rt_region *r)
{
	struct ibvx_error e;
	struct ibv_mr *mr;
	int ret = 0;

#define REG_EXPECT(what, call, want, hint)                                            \
	do {                                                                          \
		errno = 0;                                                            \
		mr = (call);                                                          \
		if (mr) {                                                             \
			ibv_dereg_mr(mr);                                             \
			return rt_fail(d, -EPROTO, "%s registered an MR", what);     \
		}                                                                     \
		ret = ibvx_test_expect_err(d, what, errno, &e, want, hint);                     \
		if (ret)                                                              \
			return ret;                                                   \
	} while (0)

	REG_EXPECT("reg(pd NULL)", ibvx_reg_odp_mr(NULL, r->addr, r->len, 0, 0, &e), EINVAL,
		   "pd is NULL");
	REG_EXPECT("reg(addr NULL)", ibvx_reg_odp_mr(d->pd, NULL, r->len, 0, 0, &e), EINVAL,
		   "not a range");
	REG_EXPECT("reg(length 0)", ibvx_reg_odp_mr(d->pd, r->addr, 0, 0, 0, &e), EINVAL,
		   "not a range");
	REG_EXPECT("reg(wrapping range)", ibvx_reg_odp_mr(d->pd, r->addr, SIZE_MAX, 0, 0, &e),
		   EINVAL, "not a range");
	REG_EXPECT("reg(prefetch 99)",
		   ibvx_reg_odp_mr(d->pd, r->addr, r->len, 0, (enum ibvx_prefetch)99, &e), EINVAL,
		   "not an enum ibvx_prefetch");
	REG_EXPECT("reg(unknown access bit)",
		   ibvx_reg_odp_mr(d->pd, r->addr, r->len, 1U << 30, IBVX_PREFETCH_NONE, &e),
		   EINVAL, "ODP MR");
#undef REG_EXPECT
	return 0;
}

/*
 * What a kernel without the method answers: a method id the MR object does
 * not have gets EPROTONOSUPPORT from the uverbs ioctl framework (what the
 * no-extension subcommand's shim makes of the query's method id).
 */
static int absent_method(struct rt_dev *d)
{
	struct ib_uverbs_ioctl_hdr hdr = { .length = sizeof(hdr), .object_id = UVERBS_OBJECT_MR,
					   .method_id = ABSENT_METHOD_ID, .driver_id = RDMA_DRIVER_RXE };

	if (!ioctl(d->ctx->cmd_fd, RDMA_VERBS_IOCTL, &hdr))
		return rt_fail(d, -EPROTO, "the MR object's method %#x exists",
			       ABSENT_METHOD_ID);
	if (errno != EPROTONOSUPPORT)
		return rt_fail(d, -EPROTO, "an absent method gets %s, not EPROTONOSUPPORT",
			       strerror(errno));
	rt_ok(d, "an absent uverbs method gets EPROTONOSUPPORT from this kernel");
	return 0;
}

/* Another process's MR: its handle means nothing in this context */
static int query_other_process(struct rt_dev *d, const struct rt_dev_opts *o)
{
	struct ibvx_mr_odp_state s;
	struct ibvx_error e;
	struct rt_region r = { 0 };
	struct ibv_mr fake;
	int to_parent[2], to_child[2], err, status;
	uint32_t handle = 0;
	char go = 0;
	pid_t pid;

	if (pipe(to_parent) || pipe(to_child))
		return rt_fail(d, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return rt_fail(d, -errno, "fork: %s", strerror(errno));
	if (!pid) {
		struct rt_dev cd = *d;

		err = rt_open(&cd, o) ?: rt_region_map(&cd, &r, 16 * cd.page) ?:
		      rt_region_reg(&cd, &r, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND);
		handle = err ? UINT32_MAX : r.mr->handle;
		if (write(to_parent[1], &handle, sizeof(handle)) != sizeof(handle) ||
		    read(to_child[0], &go, 1) != 1)
			err = -EIO;
		rt_region_free(&r);
		rt_close(&cd);
		_exit(err ? 1 : 0);
	}
	err = read(to_parent[0], &handle, sizeof(handle)) == sizeof(handle) ? 0 : -EIO;
	if (!err && handle == UINT32_MAX)
		err = rt_fail(d, -EIO, "the other process could not register its MR");
	if (!err) {
		/* this context has no MR at all: any handle is someone else's */
		fake = (struct ibv_mr){ .context = d->ctx, .pd = d->pd, .handle = handle };
		err = ibvx_test_expect_err(d, "query(another process's MR handle)",
				 ibvx_query_mr_odp(&fake, &s, sizeof(s), &e), &e, ENOENT,
				 "another process");
	}
	if (write(to_child[1], &go, 1) != 1)
		err = err ?: -EIO;
	waitpid(pid, &status, 0);
	return err;
}

/* One bad-input case, in a child process that opens the device itself */
static int run_case(struct rt_dev *d, const struct rt_dev_opts *o, const char *name,
		    int (*fn)(struct rt_dev *d, const struct rt_dev_opts *o))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return rt_fail(d, -errno, "fork: %s", strerror(errno));
	if (!pid) {
		struct rt_dev cd = *d;

		rt_set_case(&cd, name);
		_exit(rt_open(&cd, o) || fn(&cd, o) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0)
		return rt_fail(d, -errno, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return rt_fail(d, -EFAULT, "%s: killed by signal %d", name, WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return rt_fail(d, -EPROTO, "%s failed", name);
	return 0;
}

static int with_odp_mr(struct rt_dev *d, int (*fn)(struct rt_dev *, struct ibv_mr *))
{
	struct rt_region r = { 0 };
	int err;

	err = rt_region_map(d, &r, 16 * d->page) ?:
	      rt_region_reg(d, &r, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_ON_DEMAND) ?: fn(d, r.mr);
	rt_region_free(&r);
	return err;
}

static int case_null_args(struct rt_dev *d, const struct rt_dev_opts *o)
{
	(void)o;
	return with_odp_mr(d, query_null_args);
}

static int case_sizes(struct rt_dev *d, const struct rt_dev_opts *o)
{
	(void)o;
	return with_odp_mr(d, query_sizes);
}

static int case_no_such_handle(struct rt_dev *d, const struct rt_dev_opts *o)
{
	(void)o;
	return with_odp_mr(d, query_no_such_handle);
}

static int case_not_odp(struct rt_dev *d, const struct rt_dev_opts *o)
{
	struct rt_region r = { 0 };
	int err;

	(void)o;
	err = rt_region_map(d, &r, 16 * d->page) ?:
	      rt_region_reg(d, &r, IBV_ACCESS_LOCAL_WRITE) ?: query_not_odp(d, &r);
	rt_region_free(&r);
	return err;
}

static int case_reg(struct rt_dev *d, const struct rt_dev_opts *o)
{
	struct rt_region r = { 0 };
	int err;

	(void)o;
	err = rt_region_map(d, &r, 16 * d->page) ?: reg_bad(d, &r);
	rt_region_free(&r);
	return err;
}

static int case_absent_method(struct rt_dev *d, const struct rt_dev_opts *o)
{
	(void)o;
	return absent_method(d);
}

int ibvx_test_bad_input(struct rt_dev *d, const struct rt_dev_opts *o)
{
	static const struct {
		const char *name;
		int (*fn)(struct rt_dev *d, const struct rt_dev_opts *o);
	} cases[] = {
		{ "null-arguments", case_null_args },
		{ "state-sizes", case_sizes },
		{ "no-such-handle", case_no_such_handle },
		{ "not-odp", case_not_odp },
		{ "other-process", query_other_process },
		{ "reg-odp-mr", case_reg },
		{ "absent-method", case_absent_method },
	};
	size_t i;
	int err = 0;

	for (i = 0; i < RT_ARRAY_SIZE(cases); i++)
		err = run_case(d, o, cases[i].name, cases[i].fn) ?: err;
	return err;
}

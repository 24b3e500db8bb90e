/*
 * rdmatest: messages (one line per check, failures on stderr), time and
 * names of verbs constants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "rdmatest.h"

uint64_t rt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t rt_now_ms(void)
{
	return rt_now_ns() / 1000000;
}

void rt_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Name the case being run: its messages carry the name */
void rt_set_case(struct rt_dev *d, const char *name)
{
	snprintf(d->where, sizeof(d->where), "%s", name);
	printf("== %s\n", name);
	fflush(stdout);
}

static void line(const char *kind, const struct rt_dev *d, const char *fmt, va_list ap)
{
	printf("  %s %s: ", kind, d->where);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

/* A check that passed */
void rt_ok(const struct rt_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("ok", d, fmt, ap);
	va_end(ap);
}

/* Information that is not a check */
void rt_info(const struct rt_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("info", d, fmt, ap);
	va_end(ap);
}

/* A failed check or a failed call: print it, return @err (negative errno) */
int rt_fail(const struct rt_dev *d, int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s%s: ", d->fail_prefix ? d->fail_prefix : "", d->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	return err;
}

const char *rt_op_name(enum ibv_wr_opcode op)
{
	switch (op) {
	case IBV_WR_RDMA_WRITE:
		return "RDMA WRITE";
	case IBV_WR_RDMA_READ:
		return "RDMA READ";
	case IBV_WR_SEND:
		return "SEND";
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		return "ATOMIC FETCH_AND_ADD";
	case IBV_WR_ATOMIC_CMP_AND_SWP:
		return "ATOMIC CMP_AND_SWP";
	default:
		return "work request";
	}
}

/* Access flags as text: "ON_DEMAND|LOCAL_WRITE|..." or "pinned|..." */
const char *rt_access_str(int access, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", access & IBV_ACCESS_ON_DEMAND ? "ON_DEMAND" : "pinned",
		 access & IBV_ACCESS_LOCAL_WRITE ? "|LOCAL_WRITE" : "",
		 access & IBV_ACCESS_REMOTE_WRITE ? "|REMOTE_WRITE" : "",
		 access & IBV_ACCESS_REMOTE_READ ? "|REMOTE_READ" : "",
		 access & IBV_ACCESS_REMOTE_ATOMIC ? "|REMOTE_ATOMIC" : "");
	return buf;
}

/* The decimal number @s if it is one from @min to @max, else -1 (@min >= 0) */
long long rt_parse_num(const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max)
		return -1;
	return v;
}

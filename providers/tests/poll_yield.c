/*
 * An LD_PRELOAD library for latency benchmarks on one CPU: a process that
 * polls a completion queue and finds nothing gives up the CPU at once.
 *
 * Why: provider.bench runs in a VM with one vCPU whose clock counts the
 * instructions it executes (run-vm --icount), the one setting here whose
 * figures repeat to a half percent. There ib_send_lat's server and client,
 * both busy-polling, and rxe's worker share that CPU, and a poller that
 * spins gives it up only when its time slice ends, at a timer tick: each
 * round trip then takes a tick, whichever provider serves it. Yielding on
 * an empty poll passes the CPU on at once, so a round trip costs what the
 * provider, rxe and the context switches cost, and nothing waits for time.
 *
 * ibv_poll_cq() is an inline call through the context's ops.poll_cq, which
 * the provider fills when the device is opened; so this library wraps
 * ibv_open_device() and puts its own poll_cq there, one that calls the
 * provider's and yields when that returns no completion. Each poll still
 * runs the provider's code: only the empty ones cost a sched_yield() more,
 * the same with any provider.
 *
 * It does not link libibverbs: in a process without it (the shell that
 * starts perftest) it finds nothing to wrap and does nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include <infiniband/verbs.h>

typedef struct ibv_context *(*open_device_fn)(struct ibv_device *device);
typedef int (*close_device_fn)(struct ibv_context *context);
typedef int (*poll_cq_fn)(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc);

/*
 * The provider's poll_cq. One provider serves the process (perftest opens
 * one device); a second, different one is refused at open.
 */
static poll_cq_fn provider_poll_cq;

static int poll_cq_or_yield(struct ibv_cq *cq, int num_entries, struct ibv_wc *wc)
{
	int ret = provider_poll_cq(cq, num_entries, wc);

	if (ret == 0)
		sched_yield();
	return ret;
}

struct ibv_context *ibv_open_device(struct ibv_device *device)
{
	open_device_fn next = (open_device_fn)dlvsym(RTLD_NEXT, "ibv_open_device", "IBVERBS_1.1");
	struct ibv_context *context;

	if (!next) {
		fprintf(stderr, "poll_yield: no ibv_open_device@IBVERBS_1.1 after this library:"
				" is libibverbs loaded?\n");
		errno = ENOSYS;
		return NULL;
	}
	context = next(device);
	if (!context)
		return NULL;
	if (provider_poll_cq && provider_poll_cq != context->ops.poll_cq) {
		close_device_fn close_device =
			(close_device_fn)dlvsym(RTLD_NEXT, "ibv_close_device", "IBVERBS_1.1");

		fprintf(stderr, "poll_yield: a second provider; this library wraps the first only\n");
		if (close_device)
			close_device(context);
		errno = EOPNOTSUPP;
		return NULL;
	}
	provider_poll_cq = context->ops.poll_cq;
	context->ops.poll_cq = poll_cq_or_yield;
	return context;
}

/*
 * rdmatest: the device's hw counters (sysfs hw_counters of the port),
 * among them rxe's ODP counters.
 *
 * The kernel reads the device's counters at most once per hw_counters
 * "lifespan" and serves cached values in between: a counter read right
 * after an event could miss it. So rt_counter_read() and rt_counters_read()
 * first wait out the lifespan since any earlier read (rt_counters_init()
 * reads it); rt_counter_get() reads at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "rdmatest.h"

/* Counter @name as the kernel has it now (maybe cached) */
int rt_counter_get(const struct rt_dev *d, const char *name, long long *value)
{
	char path[320];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), "%s/%s", d->counters, name);
	f = fopen(path, "r");
	if (!f)
		return rt_fail(d, -errno, "cannot read %s: %s (a kernel without the rxe ODP counters?)",
			       path, strerror(errno));
	if (fscanf(f, "%lld", value) != 1)
		err = rt_fail(d, -EPROTO, "%s holds no number", path);
	fclose(f);
	return err;
}

/* Learn how long the kernel caches counter values */
int rt_counters_init(struct rt_dev *d)
{
	long long lifespan;
	int err = rt_counter_get(d, "lifespan", &lifespan);

	if (err)
		return err;
	if (lifespan < 0 || lifespan > 10000)
		return rt_fail(d, -ERANGE, "%s/lifespan is %lld ms; expected 0 to 10000", d->counters,
			       lifespan);
	d->lifespan_ms = (unsigned int)lifespan;
	return 0;
}

static void counters_fresh(const struct rt_dev *d)
{
	rt_sleep_ms(d->lifespan_ms + 2);
}

/* Counter @name, fresh */
int rt_counter_read(const struct rt_dev *d, const char *name, long long *value)
{
	counters_fresh(d);
	return rt_counter_get(d, name, value);
}

/* All four ODP counters, from one update of the kernel's cache */
int rt_counters_read(const struct rt_dev *d, struct rt_counters *c)
{
	int err;

	counters_fresh(d);
	err = rt_counter_get(d, "odp_faults", &c->faults);
	if (!err)
		err = rt_counter_get(d, "odp_fault_errors", &c->errors);
	if (!err)
		err = rt_counter_get(d, "odp_invalidations", &c->invalidations);
	if (!err)
		err = rt_counter_get(d, "odp_prefetches", &c->prefetches);
	return err;
}

/* What changed from @a to @b, as text */
const char *rt_counters_delta(const struct rt_counters *a, const struct rt_counters *b,
			      char *buf, size_t len)
{
	snprintf(buf, len, "odp_faults +%lld, odp_fault_errors +%lld, odp_invalidations +%lld, odp_prefetches +%lld",
		 b->faults - a->faults, b->errors - a->errors, b->invalidations - a->invalidations,
		 b->prefetches - a->prefetches);
	return buf;
}

/* Wait until counter @name reaches @target; its value goes to @value */
int rt_counter_wait(const struct rt_dev *d, const char *name, long long target,
		    long long *value)
{
	uint64_t deadline = rt_now_ms() + (uint64_t)d->timeout_ms;
	int err;

	for (;;) {
		err = rt_counter_read(d, name, value);
		if (err || *value >= target)
			return err;
		if (rt_now_ms() > deadline)
			return rt_fail(d, -ETIMEDOUT, "%s is %lld after %d s, expected it to reach %lld",
				       name, *value, d->timeout_ms / 1000, target);
		rt_sleep_ms(5);
	}
}

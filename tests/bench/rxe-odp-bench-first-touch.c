/*
 * rxe-odp-bench part (b): the first touch of fresh ODP memory by the device,
 * beside a pinned MR and the CPU's own first touch of the same memory.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <infiniband/verbs_ext.h>

#include "rxe-odp-bench.h"

/* The sparse first-touch transfers move this much per page */
#define SPARSE_BYTES 64

const struct ft_case ft_cases[FT_CASES] = {
	{ "untouched", true, false, false,
	  "ODP MR over pages never touched (the fault allocates them)" },
	{ "untouched_thp", true, false, true,
	  "the same over transparent huge pages (PAGES rounded up to whole 2 MiB pages)" },
	{ "cpu_resident", true, true, false,
	  "ODP MR over pages the CPU wrote first (device first touch only)" },
	{ "pinned_ref", false, false, false,
	  "pinned MR over pages never touched (registration pins them)" },
};

/* Pages of case @c's regions: --pages, for THP rounded up to huge pages */
static unsigned long ft_pages(const struct bench *b, const struct options *o,
			      const struct ft_case *c)
{
	unsigned long per_huge = RT_HUGE_BYTES / b->d.page;

	return c->thp ? (o->pages + per_huge - 1) / per_huge * per_huge : o->pages;
}

/* Map @len bytes of case @c's kind (THP or not; written by the CPU when it populates) */
static int ft_map(struct bench *b, const struct ft_case *c, struct rt_region *r, size_t len)
{
	int err = c->thp ? rt_region_map_thp(&b->d, r, len) : rt_region_map(&b->d, r, len);

	if (!err && c->populate)
		memset(r->addr, 0x5a, len);
	return err;
}

double huge_share(const struct rt_region *r)
{
	long kib = rt_thp_kib(r->addr);

	return kib < 0 ? -1.0 : (double)kib * 1024 / (double)r->len;
}

/*
 * A small RDMA WRITE within @peer, waited for. The responder handles
 * requests in order, so when it completes, no earlier request is left
 * queued there. Needed before a target MR is deregistered: a READ that the
 * requester sent twice (its retransmit timer fired while the responses were
 * still coming) completes with the first copy's responses, and rxe answers
 * the duplicate by reading the MR again; done after the MR is gone, that
 * is a remote access error and moves the responder QP to the error state,
 * and the requester ignores the NAK of a READ it already completed.
 */
static int fence(struct bench *b, struct rt_region *peer)
{
	uint64_t ns;

	return transfer(b, IBV_WR_RDMA_WRITE, peer->mr, peer->mr, 64, &ns);
}

/*
 * One transfer of (b) over @target (the remote side: WRITE into it, READ
 * from it): all of it, or SPARSE_BYTES at the start of each page (every
 * page touched, little copied).
 */
static int ft_transfer(struct bench *b, enum ibv_wr_opcode op, bool sparse,
		       struct rt_region *peer, struct rt_region *target, uint64_t *ns)
{
	unsigned long pages = target->len / b->d.page;

	if (sparse)
		return transfer_series(b, op, peer->mr, target->mr, pages, b->d.page, SPARSE_BYTES,
				       target->len, ns);
	return transfer(b, op, peer->mr, target->mr, target->len, ns);
}

/* Figure "ft.CASE.OP.SUFFIX" of (b) */
static void ft_fig(const struct ft_case *c, const char *op, const char *suffix, double value,
		   const char *unit)
{
	char key[96];

	snprintf(key, sizeof(key), "ft.%s.%s.%s", c->name, op, suffix);
	fig(key, value, unit);
}

/*
 * The cold, warm and first-touch figures of (b) (medians of @rounds, us
 * per page), and each round's first touch as a comment
 */
static void ft_touch_figs(const struct ft_case *c, const char *op, double *cold, double *warm,
			  double *touch, int rounds)
{
	int r;

	ft_fig(c, op, "cold", median(cold, rounds), "us/page");
	ft_fig(c, op, "warm", median(warm, rounds), "us/page");
	ft_fig(c, op, "first_touch", median(touch, rounds), "us/page");
	printf("#  ft.%s.%s.first_touch of each MR:", c->name, op);
	for (r = 0; r < rounds; r++)
		printf(" %.3f", touch[r]);
	printf("\n");
}

/*
 * (b) one case, one operation: o->rounds times a fresh mapping and MR, one
 * cold transfer, one warm; medians of the per-page figures.
 */
static int ft_one(struct bench *b, const struct options *o, const struct ft_case *c,
		  enum ibv_wr_opcode op, bool sparse, struct rt_region *peer)
{
	const char *opname = op == IBV_WR_RDMA_WRITE ? (sparse ? "write64" : "write") :
						       (sparse ? "read64" : "read");
	const char *phase = "registration";
	unsigned long pages = ft_pages(b, o, c);
	double us = 1e3 * (double)pages, huge = 0;
	double reg[MAX_ROUNDS], cold[MAX_ROUNDS], warm[MAX_ROUNDS], touch[MAX_ROUNDS];
	long long f0, f1, f2, faults_cold = 0, faults_warm = 0;
	uint64_t reg_ns, cold_ns = 0, warm_ns = 0;
	struct rt_region target = { 0 };
	int r, err = 0;

	for (r = 0; r < o->rounds && !err; r++) {
		phase = "registration";
		err = ft_map(b, c, &target, pages * b->d.page);
		if (!err)
			err = region_register(b, &target, c->odp, &reg_ns);
		if (!err)
			err = regions_faults(b, &target, 1, &f0);
		if (!err) {
			phase = "cold transfer";
			err = ft_transfer(b, op, sparse, peer, &target, &cold_ns);
		}
		if (!err)
			err = regions_faults(b, &target, 1, &f1);
		if (!err && c->thp)
			huge += huge_share(&target) / o->rounds;
		if (!err) {
			phase = "warm transfer";
			err = ft_transfer(b, op, sparse, peer, &target, &warm_ns);
		}
		if (!err)
			err = regions_faults(b, &target, 1, &f2);
		if (!err) {
			phase = "fence";
			err = fence(b, peer);
		}
		rt_region_free(&target);
		if (err)
			return rt_fail(&b->d, err, "first touch, case %s, RDMA %s, MR %d of %d: the %s failed",
				       c->name, opname, r + 1, o->rounds, phase);
		reg[r] = (double)reg_ns / us;
		cold[r] = (double)cold_ns / us;
		warm[r] = (double)warm_ns / us;
		touch[r] = cold[r] - warm[r];
		faults_cold += f1 - f0;
		faults_warm += f2 - f1;
	}

	ft_fig(c, opname, "reg", median(reg, o->rounds), "us/page");
	ft_touch_figs(c, opname, cold, warm, touch, o->rounds);
	ft_fig(c, opname, "faults_cold", (double)faults_cold / o->rounds, "per_MR");
	ft_fig(c, opname, "faults_warm", (double)faults_warm / o->rounds, "per_MR");
	if (c->thp)
		ft_fig(c, opname, "huge_share", huge, "share");
	return 0;
}

/*
 * (b)'s reference for an untouched case @c: the CPU's own first touch of
 * the same kind of memory, one store per page of a fresh mapping (cold),
 * then the same stores again (warm). Any first touch pays this page fault,
 * the page's allocation and its zeroing, whoever makes it.
 */
static int ft_cpu(struct bench *b, const struct options *o, const struct ft_case *c)
{
	unsigned long pages = ft_pages(b, o, c), i;
	double us = 1e3 * (double)pages, huge = 0;
	double cold[MAX_ROUNDS], warm[MAX_ROUNDS], touch[MAX_ROUNDS];
	struct rt_region mem = { 0 };
	uint64_t t0, t1, t2;
	int r, err = 0;

	for (r = 0; r < o->rounds && !err; r++) {
		err = ft_map(b, c, &mem, pages * b->d.page);
		if (err)
			return err;
		t0 = rt_now_ns();
		for (i = 0; i < pages; i++)
			((volatile uint8_t *)mem.addr)[i * b->d.page] = 1;
		t1 = rt_now_ns();
		for (i = 0; i < pages; i++)
			((volatile uint8_t *)mem.addr)[i * b->d.page] = 2;
		t2 = rt_now_ns();
		if (c->thp)
			huge += huge_share(&mem) / o->rounds;
		rt_region_free(&mem);
		cold[r] = (double)(t1 - t0) / us;
		warm[r] = (double)(t2 - t1) / us;
		touch[r] = cold[r] - warm[r];
	}
	ft_touch_figs(c, "cpu", cold, warm, touch, o->rounds);
	if (c->thp)
		ft_fig(c, "cpu", "huge_share", huge, "share");
	return 0;
}

int bench_first_touch(struct bench *b, const struct options *o)
{
	unsigned long peer_pages = 0;
	struct rt_region peer;
	size_t i;
	int err;

	printf("== (b) first touch: one transfer over %lu pages (%lu KiB) of a fresh MR, cold then warm; median of %d MR(s)\n",
	       o->pages, o->pages * b->d.page / 1024, o->rounds);
	printf("#  write: one RDMA WRITE of all pages into the MR; read: one RDMA READ of all from it;\n"
	       "#  write64, read64: one work request of %d bytes per page (touches every page, copies little);\n"
	       "#  the other side is a pinned MR\n", SPARSE_BYTES);
	printf("#  reg: ibv_reg_mr; first_touch = cold - warm (of one MR); per page of the MR;\n"
	       "#  faults: the MR's own faults (ibvx_query_mr_odp) during the cold / the warm transfer, mean per MR;\n"
	       "#  huge_share: of the MR's bytes, the share in huge pages after the cold transfer (smaps)\n"
	       "#  cpu: no MR, the CPU stores one byte per page of the same kind of fresh memory, cold then\n"
	       "#  warm: the fault, allocation and zeroing that any first touch pays\n");
	for (i = 0; i < RT_ARRAY_SIZE(ft_cases); i++)
		printf("#  %-13s %s\n", ft_cases[i].name, ft_cases[i].what);

	memset(&peer, 0, sizeof(peer));
	/* as large as the largest case's regions */
	for (i = 0; i < RT_ARRAY_SIZE(ft_cases); i++)
		if (ft_pages(b, o, &ft_cases[i]) > peer_pages)
			peer_pages = ft_pages(b, o, &ft_cases[i]);
	err = region_make(b, &peer, peer_pages * b->d.page, false, true, NULL);
	for (i = 0; i < RT_ARRAY_SIZE(ft_cases) && !err; i++) {
		if (!o->ft_case[i])
			continue;
		err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_WRITE, false, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_READ, false, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_WRITE, true, &peer);
		if (!err)
			err = ft_one(b, o, &ft_cases[i], IBV_WR_RDMA_READ, true, &peer);
		if (!err && ft_cases[i].odp && !ft_cases[i].populate)
			err = ft_cpu(b, o, &ft_cases[i]);
	}
	rt_region_free(&peer);
	return err;
}

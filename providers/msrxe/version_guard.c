// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rdma-core keeps the private symbol version IBVERBS_PRIVATE_34 from
 * release 44 to 56, but what we share with libibverbs changes under it:
 * - 45 adds wr_flush to struct ibv_qp_ex, which moves verbs_qp.comp_mask,
 *   where libibverbs' ibv_qp_to_qp_ex() looks for our VP_QP_EX;
 * - 54 gives ibv_cmd_reg_dmabuf_mr() a driver command buffer argument,
 *   which our reg_dmabuf_mr does not pass.
 * (verbs_context_ops keeps its 76 members in all of them.) The dynamic linker
 * would bind us to any of those libraries, so check the real file name of
 * the libibverbs we are bound to against the one we were built for, and
 * refuse loudly on a mismatch.
 */
#undef _POSIX_C_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"

#ifndef MSRXE_LIBIBVERBS_SERIES
#error "the build must define MSRXE_LIBIBVERBS_SERIES, e.g. libibverbs.so.1.14.44"
#endif

static int series_matches(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t n = strlen(MSRXE_LIBIBVERBS_SERIES);

	base = base ? base + 1 : file;
	/* "libibverbs.so.1.14.44" matches itself and "....44.<patch>" */
	return strncmp(base, MSRXE_LIBIBVERBS_SERIES, n) == 0 &&
	       (base[n] == '\0' || base[n] == '.');
}

int msrxe_version_guard(void)
{
	char real[PATH_MAX];
	Dl_info info;

	if (!dladdr((void *)verbs_register_driver_34, &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, real)) {
		fprintf(stderr, "msrxe: FATAL: cannot find which libibverbs is loaded; refusing to register (built for %s.*)\n",
			MSRXE_LIBIBVERBS_SERIES);
		return EPROTO;
	}
	if (series_matches(real))
		return 0;
	fprintf(stderr,
		"msrxe: FATAL: libibverbs version mismatch: this provider was built for %s.* "
		"(private provider ABI IBVERBS_PRIVATE_%d of that release), but the loaded "
		"libibverbs is %s. The private structs may differ, so msrxe does not register "
		"and serves no device. Rebuild msrxe against the installed libibverbs.\n",
		MSRXE_LIBIBVERBS_SERIES, MSRXE_PABI_VERSION, real);
	return EPROTO;
}

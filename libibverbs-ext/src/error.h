/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef IBVX_ERROR_H
#define IBVX_ERROR_H

#include <infiniband/verbs_ext.h>

/* Fill *err (when given) and return code */
int ibvx_fail(struct ibvx_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Clear *err (when given) and return 0 */
int ibvx_ok(struct ibvx_error *err);

#endif

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

int ibvx_fail(struct ibvx_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

int ibvx_ok(struct ibvx_error *err)
{
	if (err) {
		err->code = 0;
		err->message[0] = '\0';
	}
	return 0;
}

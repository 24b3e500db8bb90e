/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Which verbs provider libraries this process has mapped. */
#ifndef MSRXE_TEST_WHICH_PROVIDER_H
#define MSRXE_TEST_WHICH_PROVIDER_H

#include <stdio.h>
#include <string.h>

/*
 * Print the rxe providers (stock librxe, our libmsrxe) in /proc/self/maps
 * and return 0 when `want` ("msrxe" or "rxe") is mapped and the other is
 * not. Providers for other hardware may be loaded too; they match no rxe
 * device.
 */
static inline int check_provider(const char *want)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], last[4096] = "";
	int ours = 0, stock = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/');

		if (!path || (!strstr(path, "/libmsrxe-rdmav34.so") &&
			      !strstr(path, "/librxe-rdmav34.so")))
			continue;
		if (strcmp(path, last)) {
			printf("provider mapped: %s", path);
			snprintf(last, sizeof(last), "%s", path);
		}
		if (strstr(path, "/libmsrxe-rdmav34.so"))
			ours = 1;
		if (strstr(path, "/librxe-rdmav34.so"))
			stock = 1;
	}
	fclose(f);
	if (!strcmp(want, "msrxe"))
		return ours && !stock ? 0 : 1;
	return stock && !ours ? 0 : 1;
}

#endif

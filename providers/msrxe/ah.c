// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Address handles. The kernel keeps the address vector and returns an AH
 * number that UD WQEs carry; kernels before 5.11 returned none and wanted
 * the AV in each WQE, which this provider does not support.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"

struct create_ah_resp {
	struct ib_uverbs_create_ah_resp ibv_resp;
	struct rxe_create_ah_resp drv;
};

struct ibv_ah *msrxe_create_ah(struct ibv_pd *pd, struct ibv_ah_attr *attr)
{
	struct create_ah_resp resp;
	struct msrxe_ah *ah = calloc(1, sizeof(*ah));
	int err;

	if (!ah)
		return NULL;
	memset(&resp, 0, sizeof(resp));
	err = ibv_cmd_create_ah(pd, &ah->ibv_ah, attr, &resp.ibv_resp,
				sizeof(resp));
	if (err)
		goto free;
	if (!resp.drv.ah_num) {
		ibv_cmd_destroy_ah(&ah->ibv_ah);
		err = EPROTONOSUPPORT;
		goto free;
	}
	ah->ah_num = resp.drv.ah_num;
	return &ah->ibv_ah;
free:
	free(ah);
	errno = err;
	return NULL;
}

int msrxe_destroy_ah(struct ibv_ah *ibah)
{
	int err = ibv_cmd_destroy_ah(ibah);

	if (!err)
		free(to_mah(ibah));
	return err;
}

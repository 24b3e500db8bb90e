// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Memory windows: allocation is a command, binding is a send WQE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msrxe.h"

struct ibv_mw *msrxe_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type)
{
	struct ib_uverbs_alloc_mw_resp resp;
	struct ibv_alloc_mw cmd;
	struct ibv_mw *mw = calloc(1, sizeof(*mw));
	int err;

	if (!mw)
		return NULL;
	err = ibv_cmd_alloc_mw(pd, type, mw, &cmd, sizeof(cmd), &resp,
			       sizeof(resp));
	if (err) {
		free(mw);
		errno = err;
		return NULL;
	}
	return mw;
}

int msrxe_dealloc_mw(struct ibv_mw *mw)
{
	int err = ibv_cmd_dealloc_mw(mw);

	if (!err)
		free(mw);
	return err;
}

/* The low byte of an rkey is the consumer's key; a bind bumps it. */
static uint32_t next_rkey(uint32_t rkey)
{
	return (rkey & 0xffffff00u) | ((rkey + 1) & 0xffu);
}

int msrxe_bind_mw(struct ibv_qp *qp, struct ibv_mw *mw,
		  struct ibv_mw_bind *bind)
{
	struct ibv_send_wr wr, *bad;
	int err;

	if (!mw || !bind || !bind->bind_info.mr)
		return EINVAL;
	if (bind->bind_info.mw_access_flags & IBV_ACCESS_ZERO_BASED)
		return EINVAL;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = bind->wr_id;
	wr.opcode = IBV_WR_BIND_MW;
	wr.send_flags = bind->send_flags;
	wr.bind_mw.mw = mw;
	wr.bind_mw.rkey = next_rkey(mw->rkey);
	wr.bind_mw.bind_info = bind->bind_info;
	err = msrxe_post_send(qp, &wr, &bad);
	if (err)
		return err;
	/* the caller undoes this if the bind completes in error */
	mw->rkey = wr.bind_mw.rkey;
	return 0;
}

/*
 * Preloaded (LD_PRELOAD) into UCX and Open MPI processes that register
 * memory with implicit ODP (UCX_IB_REG_METHODS=odp) under Debian 12's
 * UCX 1.13.
 *
 * When UCX 1.11 to 1.14 close an IB memory domain that holds an implicit
 * ODP MR, they pass the MR's handle to uct_ib_mem_dereg(), which since
 * 1.11 takes a parameter struct and so reads the handle as one: with an
 * odd lkey the process faults in ucp_cleanup() (MPI_Finalize()), with an
 * even one the MR is leaked. UCX 1.15 removed implicit ODP; the call was
 * never fixed (kernel/README.md, "MPI over UCX").
 *
 * UCX reaches uct_ib_md_close() through the domain's ops table by an
 * interposable symbol; this one leaves the domain open. Nothing is lost:
 * UCX closes its domains only when the process ends, and then the kernel
 * releases the MRs, the PD and the device context with the process's
 * files.
 */

void uct_ib_md_close(void *md);

void uct_ib_md_close(void *md)
{
	(void)md;
}

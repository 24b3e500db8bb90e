/*
 * mpi-exchange: an MPI job of two ranks that moves data both ways and
 * checks every byte, for tests/guest/mpi.sh (one rank in each VM of a
 * pair, over UCX on rxe0). Each round uses buffers freshly allocated and
 * never touched by the CPU of the receiving side before the transfer, so
 * that with ODP registration RDMA reaches pages that are not mapped yet:
 *
 *   send/recv    MPI_Sendrecv of SIZE bytes each way (UCX's rendezvous
 *                protocol: RDMA to or from the buffers) and 8-byte
 *                messages (eager)
 *   put/get      MPI_Put into the peer's window and MPI_Get from it
 *                (UCX's one-sided path), with fences
 *   allreduce    MPI_Allreduce of the byte sums of what each rank received,
 *                against the sum of both ranks' patterns
 *
 * Prints one line per check; exits 0 when every byte matched, 1 (through
 * MPI_Abort on the first mismatch) otherwise, 2 on bad usage.
 *
 * usage: mpi-exchange [SIZE_MIB [ROUNDS]]   (default 4 MiB, 2 rounds)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

/* The byte a rank writes at an offset in a round: differs per rank, round
 * and offset, so a misplaced or stale byte shows. */
static unsigned char pattern(int rank, int round, size_t offset)
{
	return (unsigned char)(offset * 131 + (size_t)round * 17 + (size_t)rank * 89 + 1);
}

static void fill(unsigned char *buf, size_t size, int rank, int round)
{
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(rank, round, i);
}

/* Abort the job on the first byte that is not the sender's pattern. */
static void check(const char *what, const unsigned char *buf, size_t size,
		  int sender, int round, int rank)
{
	for (size_t i = 0; i < size; i++) {
		if (buf[i] != pattern(sender, round, i)) {
			fprintf(stderr, "mpi-exchange: FAIL %s round %d rank %d: byte %zu is 0x%02x,"
				" expected 0x%02x\n", what, round, rank, i, buf[i],
				pattern(sender, round, i));
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
	}
}

static uint64_t byte_sum(const unsigned char *buf, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i++)
		sum += buf[i];
	return sum;
}

static uint64_t pattern_sum(int rank, int round, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < size; i++)
		sum += pattern(rank, round, i);
	return sum;
}

static unsigned char *alloc_or_abort(size_t size)
{
	unsigned char *buf = malloc(size);

	if (!buf) {
		fprintf(stderr, "mpi-exchange: cannot allocate %zu bytes\n", size);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	return buf;
}

/* One round of send/recv, put/get and allreduce. */
static void exchange(size_t size, int round, int rank, int peer)
{
	unsigned char *out = alloc_or_abort(size), *in = alloc_or_abort(size);
	unsigned char *win_buf, *got = alloc_or_abort(size);
	unsigned char small_out[8], small_in[8];
	uint64_t sum, total, expected;
	MPI_Win win;

	fill(out, size, rank, round);
	MPI_Sendrecv(out, (int)size, MPI_BYTE, peer, round, in, (int)size, MPI_BYTE, peer, round,
		     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	check("send/recv", in, size, peer, round, rank);
	fill(small_out, sizeof(small_out), rank, round);
	MPI_Sendrecv(small_out, 8, MPI_BYTE, peer, round + 1000, small_in, 8, MPI_BYTE, peer,
		     round + 1000, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	check("send/recv 8 bytes", small_in, sizeof(small_in), peer, round, rank);

	/* the peer puts its pattern here; then each gets the other's window */
	MPI_Win_allocate((MPI_Aint)size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win_buf, &win);
	MPI_Win_fence(0, win);
	MPI_Put(out, (int)size, MPI_BYTE, peer, 0, (int)size, MPI_BYTE, win);
	MPI_Win_fence(0, win);
	check("put", win_buf, size, peer, round, rank);
	MPI_Get(got, (int)size, MPI_BYTE, peer, 0, (int)size, MPI_BYTE, win);
	MPI_Win_fence(0, win);
	/* the peer's window holds what this rank put there */
	check("get", got, size, rank, round, rank);
	MPI_Win_free(&win);

	/* each rank received the peer's pattern (in) and got its own (got) */
	sum = byte_sum(in, size) + byte_sum(got, size);
	MPI_Allreduce(&sum, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
	expected = 2 * (pattern_sum(0, round, size) + pattern_sum(1, round, size));
	if (total != expected) {
		fprintf(stderr, "mpi-exchange: FAIL allreduce round %d: sum %" PRIu64 ", expected %"
			PRIu64 "\n", round, total, expected);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	if (rank == 0)
		printf("mpi-exchange: round %d: %zu bytes each way by send/recv, put and get,"
		       " every byte matched; allreduce %" PRIu64 " as expected\n",
		       round, size, total);
	free(out);
	free(in);
	free(got);
}

int main(int argc, char **argv)
{
	long size_mib = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
	long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
	int rank, ranks;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &ranks);
	if (argc > 3 || size_mib < 1 || size_mib > 1024 || rounds < 1 || rounds > 100) {
		if (rank == 0)
			fprintf(stderr, "usage: mpi-exchange [SIZE_MIB (1-1024) [ROUNDS (1-100)]]\n");
		MPI_Finalize();
		return 2;
	}
	if (ranks != 2) {
		if (rank == 0)
			fprintf(stderr, "mpi-exchange: needs 2 ranks, got %d\n", ranks);
		MPI_Finalize();
		return 2;
	}
	for (int round = 1; round <= rounds; round++)
		exchange((size_t)size_mib << 20, round, rank, 1 - rank);
	MPI_Finalize();
	return 0;
}

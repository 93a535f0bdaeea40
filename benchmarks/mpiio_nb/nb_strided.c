/* nb_strided: blocking vs nonblocking noncontiguous MPI-IO (issue 13 item 7).
 *
 * An unmodified MPI-IO program (run it under LD_PRELOAD=libedaos_mpio.so for daos: names).
 * Every rank accesses every nprocs-th int of the file (ROMIO's i_noncontig pattern, scaled):
 * the file view is a vector of `ints` blocks of one int, stride nprocs, and the memory buffer
 * is strided too (every other int). For each of write, iwrite+wait, read, iread+wait (and the
 * explicit-offset forms) it reports the slowest rank's seconds, and verifies every value read.
 *
 *   mpiexec -n 2 nb_strided FILE [ints per rank, default 100000] [repetitions, default 3]
 *
 * Output: one line per operation, "op <name> seconds <median of the repetitions> ints <n>";
 * exit status 1 if a value read back is wrong. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_rank, g_n;

static double slowest(double t) {
  double m = 0;
  MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return m;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_n);
  if (argc < 2) {
    if (g_rank == 0) fprintf(stderr, "usage: nb_strided FILE [ints] [reps]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const char* name = argv[1];
  int ints = argc > 2 ? atoi(argv[2]) : 100000;
  int reps = argc > 3 ? atoi(argv[3]) : 3;
  if (ints < 1 || reps < 1) MPI_Abort(MPI_COMM_WORLD, 2);
  /* File view: ints blocks of 1 int, stride g_n ints, starting at this rank's int. */
  MPI_Datatype fv, mem;
  MPI_Type_vector(ints, 1, g_n, MPI_INT, &fv);
  MPI_Type_commit(&fv);
  /* Memory: every other int of a buffer of 2*ints. */
  MPI_Type_vector(ints, 1, 2, MPI_INT, &mem);
  MPI_Type_commit(&mem);
  int* buf = malloc(sizeof(int) * 2 * (size_t)ints);
  int bad = 0;
  const char* ops[] = {"write",    "iwrite",    "read",    "iread",
                       "write_at", "iwrite_at", "read_at", "iread_at"};
  double* t = malloc(sizeof(double) * reps);
  for (int op = 0; op < 8; ++op) {
    int is_write = op == 0 || op == 1 || op == 4 || op == 5;
    int nonblocking = op % 2 == 1;
    int explicit_off = op >= 4;
    for (int r = 0; r < reps; ++r) {
      MPI_File fh;
      int rc =
          MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh);
      if (rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int l;
        MPI_Error_string(rc, s, &l);
        fprintf(stderr, "open %s: %s\n", name, s);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      MPI_File_set_view(fh, (MPI_Offset)g_rank * sizeof(int), MPI_INT, fv, "native", MPI_INFO_NULL);
      for (int i = 0; i < 2 * ints; ++i)
        buf[i] = is_write ? (i % 2 == 0 ? g_rank * 1000000 + i / 2 + r : -7) : -1;
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      MPI_Request rq;
      MPI_Status st;
      if (is_write) {
        if (explicit_off)
          rc = nonblocking ? MPI_File_iwrite_at(fh, 0, buf, 1, mem, &rq)
                           : MPI_File_write_at(fh, 0, buf, 1, mem, &st);
        else
          rc = nonblocking ? MPI_File_iwrite(fh, buf, 1, mem, &rq)
                           : MPI_File_write(fh, buf, 1, mem, &st);
      } else {
        if (explicit_off)
          rc = nonblocking ? MPI_File_iread_at(fh, 0, buf, 1, mem, &rq)
                           : MPI_File_read_at(fh, 0, buf, 1, mem, &st);
        else
          rc = nonblocking ? MPI_File_iread(fh, buf, 1, mem, &rq)
                           : MPI_File_read(fh, buf, 1, mem, &st);
      }
      if (rc == MPI_SUCCESS && nonblocking) rc = MPI_Wait(&rq, &st);
      t[r] = slowest(MPI_Wtime() - t0);
      if (rc != MPI_SUCCESS) bad = 1;
      if (!is_write) /* the last write of the pattern was repetition reps-1 */
        for (int i = 0; i < 2 * ints; ++i)
          if (buf[i] != (i % 2 == 0 ? g_rank * 1000000 + i / 2 + (reps - 1) : -1)) bad = 1;
      MPI_File_close(&fh);
    }
    qsort(t, (size_t)reps, sizeof(double), cmp);
    if (g_rank == 0) printf("op %-9s seconds %.4f ints %d\n", ops[op], t[reps / 2], ints);
  }
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (g_rank == 0) printf("verify %s\n", any ? "FAILED" : "ok");
  MPI_Type_free(&fv);
  MPI_Type_free(&mem);
  free(buf);
  free(t);
  MPI_Finalize();
  return any;
}

/* An unmodified MPI-IO program: knows nothing of edaos. Writes a strided pattern with a
 * collective write through a vector view, reads it back independently, verifies, and prints
 * the file system type its MPI-IO reports ("EDAOS: ..." when libedaos_mpio is preloaded).
 * Usage: preload_app <file name>. Exit 0 on success. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, n, bad = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  if (argc < 2) MPI_Abort(MPI_COMM_WORLD, 2);
  MPI_File fh;
  int rc =
      MPI_File_open(MPI_COMM_WORLD, argv[1], MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh);
  if (rc != MPI_SUCCESS) {
    char s[MPI_MAX_ERROR_STRING];
    int l;
    MPI_Error_string(rc, s, &l);
    fprintf(stderr, "open %s: %s\n", argv[1], s);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  enum { kBlk = 16, kCount = 64 };
  MPI_Datatype vec;
  MPI_Type_vector(kCount, kBlk, kBlk * n, MPI_INT, &vec);
  MPI_Type_commit(&vec);
  MPI_File_set_view(fh, (MPI_Offset)rank * kBlk * sizeof(int), MPI_INT, vec, "native",
                    MPI_INFO_NULL);
  int* w = malloc(sizeof(int) * kBlk * kCount);
  int* r = malloc(sizeof(int) * kBlk * kCount);
  for (int i = 0; i < kBlk * kCount; ++i) w[i] = rank * 1000000 + i;
  MPI_File_write_all(fh, w, kBlk * kCount, MPI_INT, MPI_STATUS_IGNORE);
  MPI_File_sync(fh);
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_File_sync(fh);
  MPI_File_read_at(fh, 0, r, kBlk * kCount, MPI_INT, MPI_STATUS_IGNORE);
  for (int i = 0; i < kBlk * kCount; ++i)
    if (r[i] != w[i]) bad = 1;
  MPI_Info info;
  char v[MPI_MAX_INFO_VAL + 1] = "";
  int flag = 0;
  MPI_File_get_info(fh, &info);
  MPI_Info_get(info, "romio_filesystem_type", MPI_MAX_INFO_VAL, v, &flag);
  MPI_Info_free(&info);
  MPI_File_close(&fh);
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf("fstype: %s\nverify: %s\n", flag ? v : "(none)", any ? "FAILED" : "ok");
  MPI_Type_free(&vec);
  free(w);
  free(r);
  MPI_Finalize();
  return any;
}

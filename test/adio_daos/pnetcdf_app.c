/* PnetCDF on whatever file name it is given (libedaos_mpio linked: daos: names go to edaos).
 *   pnetcdf_app write <file>   defines a 2-D int variable and a 1-D double variable with an
 *                              attribute and writes them collectively (each rank a block of
 *                              rows; the doubles with a strided put_vars)
 *   pnetcdf_app read <file>    reopens read-only and verifies everything
 *   pnetcdf_app missing <file> ncmpi_open of a file that does not exist must say NC_ENOENT
 *   pnetcdf_app cmp <a> <b>    reads both files whole through MPI-IO and compares the bytes
 *   pnetcdf_app noclobber <file>  ncmpi_create(NC_NOCLOBBER) of an existing file must say
 *                              NC_EEXIST (and leave it alone: a later "read" checks it)
 *   pnetcdf_app small <file>   ncmpi_create(NC_CLOBBER) of a smaller dataset over an existing
 *                              file; "readsmall" verifies it and that the file has exactly
 *                              the size of the new dataset (no tail of the old file)
 * PnetCDF 1.12 looks at the name without its prefix with POSIX calls: ncmpi_open reads the
 * signature with open()/read(), ncmpi_create calls access() (NC_NOCLOBBER: does it exist?) and
 * truncate() (NC_CLOBBER); for a daos: file libedaos_mpio's POSIX view serves them
 * (adio_daos/src/posix.cpp). Exit 0 on success. */
#include <errno.h>
#include <mpi.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 6
#define COLS 30
#define CHECK(x)                                                                      \
  do {                                                                                \
    int e_ = (x);                                                                     \
    if (e_ != NC_NOERR) {                                                             \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, ncmpi_strerror(e_)); \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                   \
    }                                                                                 \
  } while (0)

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, n, bad = 0, ncid, dims[2], v, w;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  if (argc < 3) MPI_Abort(MPI_COMM_WORLD, 2);
  const char* mode = argv[1];
  argv++;
  if (strcmp(mode, "cmp") == 0) {
    MPI_File a, b;
    MPI_Offset sa = -1, sb = -2;
    if (MPI_File_open(MPI_COMM_WORLD, argv[1], MPI_MODE_RDONLY, MPI_INFO_NULL, &a) != MPI_SUCCESS ||
        MPI_File_open(MPI_COMM_WORLD, argv[2], MPI_MODE_RDONLY, MPI_INFO_NULL, &b) != MPI_SUCCESS)
      MPI_Abort(MPI_COMM_WORLD, 5);
    MPI_File_get_size(a, &sa);
    MPI_File_get_size(b, &sb);
    if (sa != sb) bad = 1;
    if (!bad && sa > 0) {
      char* x = malloc((size_t)sa);
      char* y = malloc((size_t)sa);
      MPI_File_read_at_all(a, 0, x, (int)sa, MPI_BYTE, MPI_STATUS_IGNORE);
      MPI_File_read_at_all(b, 0, y, (int)sa, MPI_BYTE, MPI_STATUS_IGNORE);
      if (memcmp(x, y, (size_t)sa) != 0) bad = 1;
      free(x);
      free(y);
    }
    MPI_File_close(&a);
    MPI_File_close(&b);
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("pnetcdf cmp %lld bytes: %s\n", (long long)sa, any ? "DIFFER" : "same");
    MPI_Finalize();
    return any;
  }
  if (strcmp(mode, "missing") == 0) {
    int e = ncmpi_open(MPI_COMM_WORLD, argv[1], NC_NOWRITE, MPI_INFO_NULL, &ncid);
    int wrong = e != NC_ENOENT, any = 0;
    if (wrong)
      fprintf(stderr, "ncmpi_open(%s): %s, expected NC_ENOENT\n", argv[1], ncmpi_strerror(e));
    MPI_Allreduce(&wrong, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("pnetcdf missing %s: %s\n", argv[1], any ? "FAILED" : "ok");
    MPI_Finalize();
    return any;
  }
  if (strcmp(mode, "strip-unlink") == 0) {
    /* PnetCDF's own tests (testutils, modes.c) remove the file system prefix and unlink the
     * rest from the program itself: that must remove the daos: file (this program links
     * PnetCDF), after which access() says ENOENT and ncmpi_open says NC_ENOENT. */
    const char* path = strchr(argv[1], ':');
    path = path ? path + 1 : argv[1];
    int wrong = 0, any = 0;
    if (rank == 0) {
      if (access(path, F_OK) != 0) {
        fprintf(stderr, "access(%s) before unlink: %s\n", path, strerror(errno));
        wrong = 1;
      } else if (unlink(path) != 0) {
        fprintf(stderr, "unlink(%s): %s\n", path, strerror(errno));
        wrong = 1;
      } else if (access(path, F_OK) == 0 || errno != ENOENT) {
        fprintf(stderr, "access(%s) after unlink: still there\n", path);
        wrong = 1;
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int e = ncmpi_open(MPI_COMM_WORLD, argv[1], NC_NOWRITE, MPI_INFO_NULL, &ncid);
    if (e != NC_ENOENT) {
      fprintf(stderr, "ncmpi_open(%s) after unlink: %s, expected NC_ENOENT\n", argv[1],
              ncmpi_strerror(e));
      wrong = 1;
      if (e == NC_NOERR) ncmpi_close(ncid);
    }
    MPI_Allreduce(&wrong, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("pnetcdf strip-unlink %s: %s\n", argv[1], any ? "FAILED" : "ok");
    MPI_Finalize();
    return any;
  }
  if (strcmp(mode, "noclobber") == 0) {
    int e =
        ncmpi_create(MPI_COMM_WORLD, argv[1], NC_NOCLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &ncid);
    int wrong = e != NC_EEXIST, any = 0;
    if (wrong)
      fprintf(stderr, "ncmpi_create(%s, NC_NOCLOBBER): %s, expected NC_EEXIST\n", argv[1],
              ncmpi_strerror(e));
    if (e == NC_NOERR) ncmpi_close(ncid);
    MPI_Allreduce(&wrong, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("pnetcdf noclobber %s: %s\n", argv[1], any ? "FAILED" : "ok");
    MPI_Finalize();
    return any;
  }
  if (strcmp(mode, "small") == 0 || strcmp(mode, "readsmall") == 0) {
    /* One int per rank in a 1-D variable. */
    int val = 7 * rank + 1;
    MPI_Offset start = rank, one = 1;
    if (mode[0] == 's') {
      CHECK(ncmpi_create(MPI_COMM_WORLD, argv[1], NC_CLOBBER, MPI_INFO_NULL, &ncid));
      CHECK(ncmpi_def_dim(ncid, "r", n, &dims[0]));
      CHECK(ncmpi_def_var(ncid, "small", NC_INT, 1, dims, &v));
      CHECK(ncmpi_enddef(ncid));
      CHECK(ncmpi_put_vara_int_all(ncid, v, &start, &one, &val));
      CHECK(ncmpi_close(ncid));
    } else {
      CHECK(ncmpi_open(MPI_COMM_WORLD, argv[1], NC_NOWRITE, MPI_INFO_NULL, &ncid));
      CHECK(ncmpi_inq_varid(ncid, "small", &v));
      int got = -1, nvars = 0;
      CHECK(ncmpi_get_vara_int_all(ncid, v, &start, &one, &got));
      CHECK(ncmpi_inq_nvars(ncid, &nvars));
      MPI_Offset header = 0, extent = 0;
      CHECK(ncmpi_inq_header_extent(ncid, &header));
      CHECK(ncmpi_close(ncid));
      if (got != val || nvars != 1) bad = 1;
      /* The file ends where the dataset ends: the header extent plus the variable's ints. */
      MPI_File fh;
      if (MPI_File_open(MPI_COMM_WORLD, argv[1], MPI_MODE_RDONLY, MPI_INFO_NULL, &fh) !=
          MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 6);
      MPI_File_get_size(fh, &extent);
      MPI_File_close(&fh);
      if (extent != header + (MPI_Offset)n * 4) {
        bad = 1;
        if (rank == 0)
          fprintf(stderr, "%s: %lld bytes, expected %lld (an old file's tail is left)\n", argv[1],
                  (long long)extent, (long long)(header + (MPI_Offset)n * 4));
      }
    }
    int any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("pnetcdf %s %s: %s\n", mode, argv[1], any ? "FAILED" : "ok");
    MPI_Finalize();
    return any;
  }
  int writing = strcmp(mode, "write") == 0;
  int* buf = malloc(sizeof(int) * ROWS * COLS);
  double* d = malloc(sizeof(double) * COLS);
  if (writing) {
    CHECK(ncmpi_create(MPI_COMM_WORLD, argv[1], NC_CLOBBER | NC_64BIT_DATA, MPI_INFO_NULL, &ncid));
    CHECK(ncmpi_def_dim(ncid, "y", (MPI_Offset)ROWS * n, &dims[0]));
    CHECK(ncmpi_def_dim(ncid, "x", COLS, &dims[1]));
    CHECK(ncmpi_def_var(ncid, "grid", NC_INT, 2, dims, &v));
    CHECK(ncmpi_def_var(ncid, "line", NC_DOUBLE, 1, &dims[1], &w));
    CHECK(ncmpi_put_att_text(ncid, v, "units", 6, "meters"));
    CHECK(ncmpi_enddef(ncid));
    for (int i = 0; i < ROWS * COLS; ++i) buf[i] = (rank * ROWS + i / COLS) * 1000 + i % COLS;
    MPI_Offset start[2] = {(MPI_Offset)rank * ROWS, 0}, count[2] = {ROWS, COLS};
    CHECK(ncmpi_put_vara_int_all(ncid, v, start, count, buf));
    /* line[rank + k*n] = rank + k*n, strided. */
    MPI_Offset ls = rank, lc = COLS / n, lst = n;
    for (int k = 0; k < COLS / n; ++k) d[k] = rank + k * n;
    CHECK(ncmpi_put_vars_double_all(ncid, w, &ls, &lc, &lst, d));
    CHECK(ncmpi_close(ncid));
  } else {
    CHECK(ncmpi_open(MPI_COMM_WORLD, argv[1], NC_NOWRITE, MPI_INFO_NULL, &ncid));
    CHECK(ncmpi_inq_varid(ncid, "grid", &v));
    CHECK(ncmpi_inq_varid(ncid, "line", &w));
    int* all = malloc(sizeof(int) * ROWS * n * COLS);
    MPI_Offset s0[2] = {0, 0}, c0[2] = {(MPI_Offset)ROWS * n, COLS};
    CHECK(ncmpi_get_vara_int_all(ncid, v, s0, c0, all));
    for (int i = 0; i < ROWS * n * COLS; ++i)
      if (all[i] != (i / COLS) * 1000 + i % COLS) bad = 1;
    MPI_Offset z = 0, cl = (COLS / n) * n;
    CHECK(ncmpi_get_vara_double_all(ncid, w, &z, &cl, d));
    for (int i = 0; i < cl; ++i)
      if (d[i] != (double)i) bad = 1;
    char units[16] = {0};
    CHECK(ncmpi_get_att_text(ncid, v, "units", units));
    if (units[0] != 'm') bad = 1;
    CHECK(ncmpi_close(ncid));
    free(all);
  }
  free(buf);
  free(d);
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf("pnetcdf %s %s: %s\n", mode, argv[1], any ? "FAILED" : "ok");
  MPI_Finalize();
  return any;
}

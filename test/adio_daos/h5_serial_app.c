/* HDF5 serially and in parallel on one file name (issue 13 item 9): with libedaos_mpio linked,
 * a daos: name goes to edaos both through HDF5's serial sec2 driver (POSIX open/pread/pwrite,
 * served by libedaos_mpio's POSIX view) and through its MPI-IO driver.
 *   1. rank 0 creates the file with the default (sec2) driver, writes dataset "serial" and an
 *      attribute, closes it;
 *   2. every rank opens it with H5Pset_fapl_mpio, reads and verifies "serial", writes dataset
 *      "parallel" collectively (a block of rows per rank), closes;
 *   3. rank 0 reopens it serially read-write, verifies both datasets, adds attribute "seen";
 *   4. every rank reopens it in parallel read-only and verifies everything.
 * Usage: h5_serial_app <file>. Prints "h5 serial+parallel <file>: ok" (rank 0); exit 0 on
 * success. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define N 100
#define ROWS 4
#define COLS 25

static int g_bad;
#define CHECK(x)                                                     \
  do {                                                               \
    if ((x) < 0) {                                                   \
      fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #x); \
      g_bad = 1;                                                     \
    }                                                                \
  } while (0)

static void check_serial(hid_t f) {
  int v[N] = {0};
  hid_t d = H5Dopen2(f, "serial", H5P_DEFAULT);
  CHECK(d);
  CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  for (int i = 0; i < N; ++i)
    if (v[i] != i * i) g_bad = 1;
  double a = 0;
  hid_t at = H5Aopen(d, "scale", H5P_DEFAULT);
  CHECK(at);
  CHECK(H5Aread(at, H5T_NATIVE_DOUBLE, &a));
  if (a != 2.5) g_bad = 1;
  H5Aclose(at);
  H5Dclose(d);
}

static void check_parallel(hid_t f, int n) {
  int* all = malloc(sizeof(int) * ROWS * COLS * n);
  hid_t d = H5Dopen2(f, "parallel", H5P_DEFAULT);
  CHECK(d);
  CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all));
  for (int i = 0; i < ROWS * COLS * n; ++i)
    if (all[i] != 3 * i + 1) g_bad = 1;
  H5Dclose(d);
  free(all);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, n;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  if (argc < 2) MPI_Abort(MPI_COMM_WORLD, 2);
  const char* name = argv[1];
  /* 1. serial create */
  if (rank == 0) {
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f);
    hsize_t dim = N;
    hid_t s = H5Screate_simple(1, &dim, NULL);
    hid_t d = H5Dcreate2(f, "serial", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d);
    int v[N];
    for (int i = 0; i < N; ++i) v[i] = i * i;
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    hid_t as = H5Screate(H5S_SCALAR);
    hid_t at = H5Acreate2(d, "scale", H5T_NATIVE_DOUBLE, as, H5P_DEFAULT, H5P_DEFAULT);
    double a = 2.5;
    CHECK(H5Awrite(at, H5T_NATIVE_DOUBLE, &a));
    H5Aclose(at);
    H5Sclose(as);
    H5Dclose(d);
    H5Sclose(s);
    CHECK(H5Fclose(f));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  /* 2. parallel open, read, write */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t f = H5Fopen(name, H5F_ACC_RDWR, fapl);
  CHECK(f);
  check_serial(f);
  hsize_t dims[2] = {(hsize_t)ROWS * n, COLS};
  hid_t s = H5Screate_simple(2, dims, NULL);
  hid_t d = H5Dcreate2(f, "parallel", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  CHECK(d);
  int buf[ROWS * COLS];
  for (int i = 0; i < ROWS * COLS; ++i) buf[i] = 3 * (rank * ROWS * COLS + i) + 1;
  hsize_t start[2] = {(hsize_t)rank * ROWS, 0}, count[2] = {ROWS, COLS};
  hid_t fs = H5Dget_space(d);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(2, count, NULL);
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, dxpl, buf));
  H5Pclose(dxpl);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(d);
  H5Sclose(s);
  CHECK(H5Fclose(f));
  MPI_Barrier(MPI_COMM_WORLD);
  /* 3. serial reopen read-write */
  if (rank == 0) {
    hid_t g = H5Fopen(name, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(g);
    check_serial(g);
    check_parallel(g, n);
    hid_t as = H5Screate(H5S_SCALAR);
    hid_t at = H5Acreate2(g, "seen", H5T_NATIVE_INT, as, H5P_DEFAULT, H5P_DEFAULT);
    int one = 1;
    CHECK(H5Awrite(at, H5T_NATIVE_INT, &one));
    H5Aclose(at);
    H5Sclose(as);
    CHECK(H5Fclose(g));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  /* 4. parallel reopen read-only */
  f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
  CHECK(f);
  check_serial(f);
  check_parallel(f, n);
  int seen = 0;
  hid_t at = H5Aopen(f, "seen", H5P_DEFAULT);
  CHECK(at);
  CHECK(H5Aread(at, H5T_NATIVE_INT, &seen));
  if (seen != 1) g_bad = 1;
  H5Aclose(at);
  CHECK(H5Fclose(f));
  H5Pclose(fapl);
  int any = 0;
  MPI_Allreduce(&g_bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf("h5 serial+parallel %s: %s\n", name, any ? "FAILED" : "ok");
  MPI_Finalize();
  return any;
}

/* HDF5's own MPI-IO driver (H5Pset_fapl_mpio) on whatever file name it is given: with
 * libedaos_mpio linked, a daos: name goes to edaos. Writes a 2-D dataset (each rank a block of
 * rows, collective transfer), a strided hyperslab (independent), an attribute; reopens read-only,
 * reads everything back and verifies. Usage: h5_mpio_app <file>. Exit 0 on success. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define ROWS 8
#define COLS 40

static int value(int r, int c) { return r * 1000 + c; }

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, n, bad = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  if (argc < 2) MPI_Abort(MPI_COMM_WORLD, 2);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL);
  hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (f < 0) MPI_Abort(MPI_COMM_WORLD, 3);
  hsize_t dims[2] = {(hsize_t)(ROWS * n), COLS};
  hid_t space = H5Screate_simple(2, dims, NULL);
  hid_t dset = H5Dcreate2(f, "data", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t dset2 =
      H5Dcreate2(f, "strided", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int* buf = malloc(sizeof(int) * ROWS * COLS);
  for (int r = 0; r < ROWS; ++r)
    for (int c = 0; c < COLS; ++c) buf[r * COLS + c] = value(rank * ROWS + r, c);
  hsize_t start[2] = {(hsize_t)(rank * ROWS), 0}, count[2] = {ROWS, COLS};
  hid_t fs = H5Dget_space(dset);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(2, count, NULL);
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  if (H5Dwrite(dset, H5T_NATIVE_INT, ms, fs, dxpl, buf) < 0) bad = 1;
  /* Strided: every n-th column from column rank, all rows, independent. */
  hsize_t s2[2] = {0, (hsize_t)rank}, st2[2] = {1, (hsize_t)n},
          c2[2] = {(hsize_t)(ROWS * n), (hsize_t)(COLS / n)};
  hid_t fs2 = H5Dget_space(dset2);
  H5Sselect_hyperslab(fs2, H5S_SELECT_SET, s2, st2, c2, NULL);
  hsize_t m2 = c2[0] * c2[1];
  hid_t ms2 = H5Screate_simple(1, &m2, NULL);
  int* b2 = malloc(sizeof(int) * m2);
  for (hsize_t i = 0; i < m2; ++i) b2[i] = value((int)(i / c2[1]), (int)(rank + n * (i % c2[1])));
  if (H5Dwrite(dset2, H5T_NATIVE_INT, ms2, fs2, H5P_DEFAULT, b2) < 0) bad = 1;
  int attr_val = 4242;
  hid_t as = H5Screate(H5S_SCALAR);
  hid_t at = H5Acreate2(dset, "answer", H5T_NATIVE_INT, as, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(at, H5T_NATIVE_INT, &attr_val);
  H5Aclose(at);
  H5Sclose(as);
  H5Sclose(ms2);
  H5Sclose(fs2);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(dset2);
  H5Dclose(dset);
  H5Sclose(space);
  if (H5Fclose(f) < 0) bad = 1;

  f = H5Fopen(argv[1], H5F_ACC_RDONLY, fapl);
  if (f < 0) MPI_Abort(MPI_COMM_WORLD, 4);
  int* all = malloc(sizeof(int) * ROWS * n * COLS);
  dset = H5Dopen2(f, "data", H5P_DEFAULT);
  if (H5Dread(dset, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, dxpl, all) < 0) bad = 1;
  for (int r = 0; r < ROWS * n; ++r)
    for (int c = 0; c < COLS; ++c)
      if (all[r * COLS + c] != value(r, c)) bad = 1;
  at = H5Aopen(dset, "answer", H5P_DEFAULT);
  attr_val = 0;
  H5Aread(at, H5T_NATIVE_INT, &attr_val);
  if (attr_val != 4242) bad = 1;
  H5Aclose(at);
  H5Dclose(dset);
  dset2 = H5Dopen2(f, "strided", H5P_DEFAULT);
  if (H5Dread(dset2, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0) bad = 1;
  for (int r = 0; r < ROWS * n; ++r)
    for (int c = 0; c < (COLS / n) * n; ++c)
      if (all[r * COLS + c] != value(r, c)) bad = 1;
  H5Dclose(dset2);
  H5Fclose(f);
  H5Pclose(dxpl);
  H5Pclose(fapl);
  free(all);
  free(b2);
  free(buf);
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf("hdf5 mpio %s: %s\n", argv[1], any ? "FAILED" : "ok");
  MPI_Finalize();
  return any;
}

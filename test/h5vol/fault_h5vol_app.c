/* An HDF5 program for the connector's fault drill (fault_h5vol.sh), run with
 * HDF5_VOL_CONNECTOR=edaos:
 *   fault_h5vol_app create <file>   creates an empty file (its container gets properties next)
 *   fault_h5vol_app write <file>    creates /d and writes 262144 ints (1 MiB), value 7*i+1
 *   fault_h5vol_app rewrite <file>  writes the same values into the existing /d
 *   fault_h5vol_app read <file>     reads /d back: exit 0 = right values, 10 = open failed,
 *                                   11 = read failed (an error on HDF5's stack), 3 = WRONG
 *                                   VALUES returned with success */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 262144

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* mode = argv[1];
  const char* name = argv[2];
  hsize_t dims[1] = {N};
  int* buf = malloc(sizeof(int) * N);
  if (!buf) return 2;
  if (strcmp(mode, "create") == 0) {
    hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    return f < 0 || H5Fclose(f) < 0 ? 1 : 0;
  }
  if (strcmp(mode, "write") == 0 || strcmp(mode, "rewrite") == 0) {
    for (int i = 0; i < N; ++i) buf[i] = 7 * i + 1;
    hid_t f = H5Fopen(name, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 1;
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t d = strcmp(mode, "write") == 0
                  ? H5Dcreate2(f, "d", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                  : H5Dopen2(f, "d", H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return 1;
    H5Dclose(d);
    H5Sclose(s);
    return H5Fclose(f) < 0 ? 1 : 0;
  }
  if (strcmp(mode, "read") == 0) {
    memset(buf, 0, sizeof(int) * N);
    hid_t f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 10;
    hid_t d = H5Dopen2(f, "d", H5P_DEFAULT);
    if (d < 0) return 10;
    if (H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return 11;
    for (int i = 0; i < N; ++i)
      if (buf[i] != 7 * i + 1) {
        fprintf(stderr, "fault_h5vol_app: WRONG value %d at %d\n", buf[i], i);
        return 3;
      }
    H5Dclose(d);
    H5Fclose(f);
    return 0;
  }
  return 2;
}

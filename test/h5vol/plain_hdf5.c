/* An unmodified HDF5 program (no edaos calls): writes /data (2x3 ints), an attribute and a
 * group, reads them back. Run with HDF5_VOL_CONNECTOR=edaos to go through the connector. */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "plain.h5";
  int data[2][3] = {{1, 2, 3}, {4, 5, 6}}, back[2][3];
  hsize_t dims[2] = {2, 3}, one = 1;
  int units = 42, units_back = 0;
  hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return 1;
  hid_t s = H5Screate_simple(2, dims, NULL);
  hid_t d = H5Dcreate2(f, "data", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0 || H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) return 2;
  hid_t as = H5Screate_simple(1, &one, NULL);
  hid_t a = H5Acreate2(d, "units", H5T_STD_I32LE, as, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || H5Awrite(a, H5T_NATIVE_INT, &units) < 0) return 3;
  hid_t g = H5Gcreate2(f, "group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return 4;
  H5Gclose(g);
  H5Aclose(a);
  H5Sclose(as);
  H5Dclose(d);
  H5Sclose(s);
  H5Fclose(f);

  f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return 5;
  d = H5Dopen2(f, "data", H5P_DEFAULT);
  if (d < 0 || H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) < 0) return 6;
  if (memcmp(data, back, sizeof data) != 0) return 7;
  a = H5Aopen(d, "units", H5P_DEFAULT);
  if (a < 0 || H5Aread(a, H5T_NATIVE_INT, &units_back) < 0 || units_back != 42) return 8;
  if (H5Lexists(f, "group", H5P_DEFAULT) <= 0) return 9;
  H5Aclose(a);
  H5Dclose(d);
  H5Fclose(f);
  printf("plain_hdf5: ok\n");
  return 0;
}

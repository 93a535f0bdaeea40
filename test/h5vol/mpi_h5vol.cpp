// Multi-rank tests of the edaos VOL connector through HDF5's public API (H5Pset_fapl_edaos).
#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../objstore/mpi_support.hpp"
#include "edaos/h5vol/h5vol.h"

using namespace edaos::test;

namespace {

SharedTmpDir* g_dir = nullptr;

class H5volEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_TRUE(edaos::objstore::init(MPI_COMM_WORLD).ok());
    g_dir = new SharedTmpDir("h5vol");
    setenv("EDAOS_POOL", (g_dir->path() + "/pool").c_str(), 1);
  }
  void TearDown() override {
    H5close();  // the connector disconnects its pool before the store goes
    delete g_dir;
    (void)edaos::objstore::finalize();
  }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new H5volEnv);

hid_t fapl() {
  hid_t p = H5Pcreate(H5P_FILE_ACCESS);
  EXPECT_GE(H5Pset_fapl_edaos(p, MPI_COMM_WORLD, MPI_INFO_NULL), 0);
  return p;
}

hid_t create(const char* name) {
  hid_t p = fapl();
  hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, p);
  H5Pclose(p);
  return f;
}
hid_t open(const char* name, unsigned flags) {
  hid_t p = fapl();
  hid_t f = H5Fopen(name, flags, p);
  H5Pclose(p);
  return f;
}

int value(hsize_t r, hsize_t c) { return static_cast<int>(r * 1000 + c + 1); }

// Each rank writes its band of rows through a hyperslab; every rank reads it all back, also
// converted to double and through a point selection.
TEST(H5vol, DatasetHyperslabPerRank) {
  const hsize_t rows_per = 5, cols = 7, rows = rows_per * static_cast<hsize_t>(nranks());
  for (bool chunked : {false, true}) {
    hid_t f = create(chunked ? "hs_chunked.h5" : "hs_contig.h5");
    ASSERT_GE(f, 0);
    hsize_t dims[2] = {rows, cols}, chunk[2] = {3, 4};
    hid_t sp = H5Screate_simple(2, dims, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = H5Dcreate2(f, "grid", H5T_STD_I32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    std::vector<int> mine(rows_per * cols);
    hsize_t r0 = rows_per * static_cast<hsize_t>(rank());
    for (hsize_t r = 0; r < rows_per; ++r)
      for (hsize_t c = 0; c < cols; ++c) mine[r * cols + c] = value(r0 + r, c);
    hsize_t start[2] = {r0, 0}, count[2] = {rows_per, cols};
    hid_t fs = H5Scopy(sp);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t ms = H5Screate_simple(2, count, nullptr);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, dxpl, mine.data()), 0);
    H5Pclose(dxpl);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    ASSERT_GE(H5Fclose(f), 0);
    MPI_Barrier(MPI_COMM_WORLD);

    f = open(chunked ? "hs_chunked.h5" : "hs_contig.h5", H5F_ACC_RDONLY);
    ASSERT_GE(f, 0);
    d = H5Dopen2(f, "grid", H5P_DEFAULT);
    ASSERT_GE(d, 0);
    std::vector<double> all(rows * cols);
    ASSERT_GE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), 0);
    for (hsize_t r = 0; r < rows; ++r)
      for (hsize_t c = 0; c < cols; ++c)
        ASSERT_EQ(all[r * cols + c], value(r, c)) << "r=" << r << " c=" << c;
    // Points in reverse order land in memory in selection order.
    hsize_t pts[3][2] = {{rows - 1, cols - 1}, {1, 2}, {0, 0}};
    fs = H5Dget_space(d);
    H5Sselect_elements(fs, H5S_SELECT_SET, 3, &pts[0][0]);
    hsize_t three = 3;
    ms = H5Screate_simple(1, &three, nullptr);
    int got[3] = {};
    ASSERT_GE(H5Dread(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, got), 0);
    EXPECT_EQ(got[0], value(rows - 1, cols - 1));
    EXPECT_EQ(got[1], value(1, 2));
    EXPECT_EQ(got[2], value(0, 0));
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(d);
    H5Fclose(f);
  }
}

// Unlimited dimension: extend, shrink (data dropped), regrow (fill value back).
TEST(H5vol, UnlimitedExtentAndFill) {
  hid_t f = create("extent.h5");
  ASSERT_GE(f, 0);
  hsize_t dims = 4, maxd = H5S_UNLIMITED, chunk = 3;
  hid_t sp = H5Screate_simple(1, &dims, &maxd);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  int fill = -7;
  H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &fill);
  hid_t d = H5Dcreate2(f, "v", H5T_NATIVE_INT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  hsize_t n = 10;
  ASSERT_GE(H5Dset_extent(d, &n), 0);
  std::vector<int> v(10);
  for (int i = 0; i < 10; ++i) v[static_cast<size_t>(i)] = i;
  if (rank() == 0) {
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  hsize_t small = 5;
  ASSERT_GE(H5Dset_extent(d, &small), 0);
  ASSERT_GE(H5Dset_extent(d, &n), 0);
  std::vector<int> back(10, 0);
  ASSERT_GE(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(back[static_cast<size_t>(i)], i < 5 ? i : fill) << i;
  hid_t s2 = H5Dget_space(d);
  hsize_t cur = 0;
  H5Sget_simple_extent_dims(s2, &cur, nullptr);
  EXPECT_EQ(cur, 10u);
  H5Sclose(s2);
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
}

herr_t collect(hid_t, const char* name, const H5L_info2_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

TEST(H5vol, GroupsAndLinks) {
  hid_t f = create("groups.h5");
  ASSERT_GE(f, 0);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t g = H5Gcreate2(f, "/a/b/c", lcpl, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(g, 0);
  H5Gclose(g);
  H5Pclose(lcpl);
  ASSERT_GE(H5Lcreate_soft("/a/b", f, "shortcut", H5P_DEFAULT, H5P_DEFAULT), 0);
  ASSERT_GE(H5Lcreate_hard(f, "/a/b/c", f, "c_again", H5P_DEFAULT, H5P_DEFAULT), 0);
  g = H5Gopen2(f, "shortcut/c", H5P_DEFAULT);
  EXPECT_GE(g, 0);
  H5O_info2_t i1, i2;
  H5Oget_info3(g, &i1, H5O_INFO_BASIC);
  H5Oget_info_by_name3(f, "c_again", &i2, H5O_INFO_BASIC, H5P_DEFAULT);
  int cmp = 1;
  H5Otoken_cmp(f, &i1.token, &i2.token, &cmp);
  EXPECT_EQ(cmp, 0);
  EXPECT_EQ(i1.rc, 2u);
  char nm[64] = {};
  EXPECT_EQ(H5Iget_name(g, nm, sizeof nm), 11);  // the path it was opened by
  EXPECT_STREQ(nm, "/shortcut/c");
  H5Gclose(g);
  std::vector<std::string> names;
  hsize_t idx = 0;
  ASSERT_GE(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "c_again", "shortcut"}));
  names.clear();
  ASSERT_GE(H5Lvisit2(f, H5_INDEX_NAME, H5_ITER_INC, collect, &names), 0);
  EXPECT_EQ(names.size(), 5u);  // a, a/b, a/b/c, c_again, shortcut
  EXPECT_GT(H5Lexists(f, "c_again", H5P_DEFAULT), 0);
  if (nranks() > 1) {
    // Errors are agreed: a target only rank 0 can resolve fails the call on every rank, and
    // nothing is created.
    const char* target = rank() == 0 ? "/a/b/c" : "/a/no_such";
    H5E_BEGIN_TRY { EXPECT_LT(H5Lcreate_hard(f, target, f, "half", H5P_DEFAULT, H5P_DEFAULT), 0); }
    H5E_END_TRY
    EXPECT_EQ(H5Lexists(f, "half", H5P_DEFAULT), 0);
  }
  ASSERT_GE(H5Ldelete(f, "c_again", H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, "c_again", H5P_DEFAULT), 0);
  H5E_BEGIN_TRY { EXPECT_LT(H5Gcreate2(f, "a", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), 0); }
  H5E_END_TRY
  H5Fclose(f);
}

herr_t attr_names(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

TEST(H5vol, AttributesAndStrings) {
  hid_t f = create("attrs.h5");
  ASSERT_GE(f, 0);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f, "count", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  int v = 17;
  ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT, &v), 0);
  H5Aclose(a);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  const char* words[2] = {"hello", "edaos"};
  hsize_t two = 2;
  hid_t s2 = H5Screate_simple(1, &two, nullptr);
  a = H5Acreate2(f, "words", str, s2, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(H5Awrite(a, str, words), 0);
  H5Aclose(a);
  ASSERT_GE(H5Arename(f, "count", "total"), 0);
  std::vector<std::string> names;
  ASSERT_GE(H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, nullptr, attr_names, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{"total", "words"}));
  a = H5Aopen(f, "total", H5P_DEFAULT);
  double dv = 0;
  ASSERT_GE(H5Aread(a, H5T_NATIVE_DOUBLE, &dv), 0);
  EXPECT_EQ(dv, 17.0);
  H5Aclose(a);
  a = H5Aopen(f, "words", H5P_DEFAULT);
  char* back[2] = {};
  ASSERT_GE(H5Aread(a, str, back), 0);
  EXPECT_STREQ(back[0], "hello");
  EXPECT_STREQ(back[1], "edaos");
  H5Treclaim(str, s2, H5P_DEFAULT, back);
  H5Aclose(a);
  ASSERT_GE(H5Adelete(f, "total"), 0);
  EXPECT_EQ(H5Aexists(f, "total"), 0);

  // Variable-length string dataset: every rank writes its own element.
  hsize_t n = static_cast<hsize_t>(nranks());
  hid_t sp = H5Screate_simple(1, &n, nullptr);
  hid_t d = H5Dcreate2(f, "names", str, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  std::string mine =
      "rank-" + std::to_string(rank()) + std::string(static_cast<size_t>(rank()) * 3, 'x');
  const char* p = mine.c_str();
  hsize_t at = static_cast<hsize_t>(rank()), one = 1;
  hid_t fs = H5Scopy(sp);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, nullptr, &one, nullptr);
  hid_t ms = H5Screate_simple(1, &one, nullptr);
  ASSERT_GE(H5Dwrite(d, str, ms, fs, H5P_DEFAULT, &p), 0);
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<char*> all(n, nullptr);
  ASSERT_GE(H5Dread(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), 0);
  for (int r = 0; r < nranks(); ++r)
    EXPECT_EQ(std::string(all[static_cast<size_t>(r)]),
              "rank-" + std::to_string(r) + std::string(static_cast<size_t>(r) * 3, 'x'));
  H5Treclaim(str, sp, H5P_DEFAULT, all.data());
  H5Sclose(ms);
  H5Sclose(fs);
  H5Dclose(d);
  H5Sclose(sp);
  H5Sclose(s2);
  H5Sclose(scalar);
  H5Tclose(str);
  H5Fclose(f);
}

// Names of 64 KiB (as in HDF5's API tests; the store keeps keys over LMDB's 511-byte limit under
// derived keys): links and attributes are created, iterated in name order among short names,
// opened, renamed and deleted, by every rank.
TEST(H5vol, LongLinkAndAttributeNames) {
  const std::string lg(64 * 1024, 'l');       // group (hard link)
  const std::string ls = lg.substr(1) + "s";  // soft link: shares the first 64 KiB - 1 bytes
  const std::string la(64 * 1024, 'a');       // attribute
  hid_t f = create("long_names.h5");
  ASSERT_GE(f, 0);
  hid_t g = H5Gcreate2(f, lg.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(g, 0);
  ASSERT_GE(H5Gclose(H5Gcreate2(f, "m", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)), 0);
  ASSERT_GE(H5Lcreate_soft("/m", f, ls.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
  ASSERT_GE(H5Lcreate_hard(f, "m", g, la.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
  EXPECT_GT(H5Lexists(f, lg.c_str(), H5P_DEFAULT), 0);
  EXPECT_GT(H5Lexists(f, ls.c_str(), H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, (lg + "x").c_str(), H5P_DEFAULT), 0);

  std::vector<std::string> names;
  hsize_t idx = 0;
  ASSERT_GE(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{lg, ls, "m"}));
  names.clear();
  idx = 0;
  ASSERT_GE(H5Literate2(f, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{lg, "m", ls}));

  // Open through the long names (soft link resolves to /m, hard link in the long group too).
  H5O_info2_t im, is, ih;
  ASSERT_GE(H5Oget_info_by_name3(f, "m", &im, H5O_INFO_BASIC, H5P_DEFAULT), 0);
  ASSERT_GE(H5Oget_info_by_name3(f, ls.c_str(), &is, H5O_INFO_BASIC, H5P_DEFAULT), 0);
  ASSERT_GE(
      H5Oget_info_by_name3(f, ("/" + lg + "/" + la).c_str(), &ih, H5O_INFO_BASIC, H5P_DEFAULT), 0);
  int cmp = 1;
  H5Otoken_cmp(f, &im.token, &is.token, &cmp);
  EXPECT_EQ(cmp, 0);
  H5Otoken_cmp(f, &im.token, &ih.token, &cmp);
  EXPECT_EQ(cmp, 0);
  hid_t g2 = H5Gopen2(f, lg.c_str(), H5P_DEFAULT);
  ASSERT_GE(g2, 0);

  // Attribute with a 64 KiB name next to a short one.
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(g2, la.c_str(), H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  int v = 4242;
  ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT, &v), 0);
  H5Aclose(a);
  a = H5Acreate2(g2, "b", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  H5Aclose(a);
  EXPECT_GT(H5Aexists(g2, la.c_str()), 0);
  names.clear();
  ASSERT_GE(H5Aiterate2(g2, H5_INDEX_NAME, H5_ITER_INC, nullptr, attr_names, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{la, "b"}));
  a = H5Aopen(g2, la.c_str(), H5P_DEFAULT);
  ASSERT_GE(a, 0);
  int back = 0;
  ASSERT_GE(H5Aread(a, H5T_NATIVE_INT, &back), 0);
  EXPECT_EQ(back, 4242);
  char nm[8] = {};
  EXPECT_EQ(H5Aget_name(a, sizeof nm, nm), static_cast<ssize_t>(la.size()));
  H5Aclose(a);
  const std::string la2 = la + "2";
  ASSERT_GE(H5Arename(g2, la.c_str(), la2.c_str()), 0);
  EXPECT_EQ(H5Aexists(g2, la.c_str()), 0);
  a = H5Aopen(g2, la2.c_str(), H5P_DEFAULT);
  ASSERT_GE(a, 0);
  back = 0;
  ASSERT_GE(H5Aread(a, H5T_NATIVE_INT, &back), 0);
  EXPECT_EQ(back, 4242);
  H5Aclose(a);
  ASSERT_GE(H5Adelete(g2, la2.c_str()), 0);
  EXPECT_EQ(H5Aexists(g2, la2.c_str()), 0);
  names.clear();
  ASSERT_GE(H5Aiterate2(g2, H5_INDEX_NAME, H5_ITER_INC, nullptr, attr_names, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{"b"}));
  H5Gclose(g2);
  H5Gclose(g);

  // Delete the long links; the short one stays.
  ASSERT_GE(H5Ldelete(f, ls.c_str(), H5P_DEFAULT), 0);
  ASSERT_GE(H5Ldelete(f, lg.c_str(), H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, lg.c_str(), H5P_DEFAULT), 0);
  EXPECT_EQ(H5Lexists(f, ls.c_str(), H5P_DEFAULT), 0);
  names.clear();
  idx = 0;
  ASSERT_GE(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names), 0);
  EXPECT_EQ(names, (std::vector<std::string>{"m"}));
  H5Sclose(scalar);
  H5Fclose(f);

  // Beyond the store's limit (1 MiB of dkey + akey) a name fails cleanly on every rank.
  f = open("long_names.h5", H5F_ACC_RDWR);
  ASSERT_GE(f, 0);
  const std::string huge(2 * 1024 * 1024, 'h');
  H5E_BEGIN_TRY {
    EXPECT_LT(H5Gcreate2(f, huge.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), 0);
  }
  H5E_END_TRY
  EXPECT_GE(H5Fclose(f), 0);
}

TEST(H5vol, CreateSemanticsAndUnsupported) {
  hid_t f = create("excl.h5");
  ASSERT_GE(f, 0);
  H5Fclose(f);
  hid_t p = fapl();
  H5E_BEGIN_TRY {
    EXPECT_LT(H5Fcreate("excl.h5", H5F_ACC_EXCL, H5P_DEFAULT, p), 0);
    EXPECT_LT(H5Fopen("missing.h5", H5F_ACC_RDONLY, p), 0);
  }
  H5E_END_TRY
  H5Pclose(p);
  f = open("excl.h5", H5F_ACC_RDWR);
  ASSERT_GE(f, 0);
  hsize_t dims = 8, chunk = 4;
  hid_t sp = H5Screate_simple(1, &dims, nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_deflate(dcpl, 6);
  H5E_BEGIN_TRY {
    EXPECT_LT(H5Dcreate2(f, "zipped", H5T_NATIVE_INT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT), 0);
  }
  H5E_END_TRY
  size_t count = H5Fget_obj_count(f, H5F_OBJ_ALL);
  EXPECT_EQ(count, 1u);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
}

// H5Ocopy (collective): a group with a chunked dataset, its attribute and a hard link to the
// dataset, copied deep; every rank reads the copy; the copy is independent of the source.
TEST(H5vol, ObjectCopy) {
  hid_t f = create("copy.h5");
  ASSERT_GE(f, 0);
  hid_t g = H5Gcreate2(f, "src", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t n = 10, chunk = 4;
  hid_t sp = H5Screate_simple(1, &n, nullptr);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  hid_t d = H5Dcreate2(g, "v", H5T_NATIVE_INT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  std::vector<int> v(10);
  for (int i = 0; i < 10; ++i) v[static_cast<size_t>(i)] = 3 * i + 1;
  if (rank() == 0) {
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  }
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(d, "unit", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5P_DEFAULT);
  int unit = 42;
  ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT, &unit), 0);
  H5Aclose(a);
  H5Dclose(d);
  ASSERT_GE(H5Lcreate_hard(g, "v", g, "v_too", H5P_DEFAULT, H5P_DEFAULT), 0);
  MPI_Barrier(MPI_COMM_WORLD);
  ASSERT_GE(H5Ocopy(f, "src", f, "dst", H5P_DEFAULT, H5P_DEFAULT), 0);
  // The source changes afterwards; the copy keeps the old values.
  std::vector<int> zeros(10, 0);
  d = H5Dopen2(f, "src/v", H5P_DEFAULT);
  if (rank() == 0) {
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()), 0);
  }
  H5Dclose(d);
  MPI_Barrier(MPI_COMM_WORLD);
  d = H5Dopen2(f, "dst/v", H5P_DEFAULT);
  ASSERT_GE(d, 0);
  std::vector<int> back(10, -1);
  ASSERT_GE(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
  EXPECT_EQ(back, v);
  int got = 0;
  a = H5Aopen(d, "unit", H5P_DEFAULT);
  ASSERT_GE(H5Aread(a, H5T_NATIVE_INT, &got), 0);
  EXPECT_EQ(got, 42);
  H5Aclose(a);
  H5O_info2_t i1, i2;
  H5Oget_info3(d, &i1, H5O_INFO_BASIC);
  H5Oget_info_by_name3(f, "dst/v_too", &i2, H5O_INFO_BASIC, H5P_DEFAULT);
  int cmp = 1;
  H5Otoken_cmp(f, &i1.token, &i2.token, &cmp);
  EXPECT_EQ(cmp, 0);  // the two links still share one (copied) dataset
  EXPECT_EQ(i1.rc, 2u);
  H5Dclose(d);
  H5Sclose(scalar);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Gclose(g);
  H5Fclose(f);
}

// Open-object counts see only the application's IDs (the connector holds no datatype IDs),
// H5F_OBJ_LOCAL limits them to one file handle, and H5Iget_file_id reuses an open file ID.
// (Under ASan, a File leaked by that reuse shows as a leak at exit.)
TEST(H5vol, ObjectCountsAndFileIds) {
  hid_t f = create("counts.h5");
  ASSERT_GE(f, 0);
  hid_t t = H5Tcopy(H5T_NATIVE_INT);
  ASSERT_GE(H5Tcommit2(f, "t", t, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), 0);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f, "a", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT);
  hid_t d = H5Dcreate2(f, "d", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(a, 0);
  ASSERT_GE(d, 0);
  EXPECT_EQ(H5Fget_obj_count(f, H5F_OBJ_DATATYPE), 1);
  EXPECT_EQ(H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_DATATYPE), 1);
  // An attribute of the committed type holds a reference to it until it is deleted.
  H5O_info2_t ti;
  hid_t ta = H5Acreate2(f, "typed", t, sp, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(ta, 0);
  H5Aclose(ta);
  ASSERT_GE(H5Oget_info3(t, &ti, H5O_INFO_BASIC), 0);
  EXPECT_EQ(ti.rc, 2u);
  ASSERT_GE(H5Adelete(f, "typed"), 0);
  ASSERT_GE(H5Oget_info3(t, &ti, H5O_INFO_BASIC), 0);
  EXPECT_EQ(ti.rc, 1u);
  hid_t f2 = open("counts.h5", H5F_ACC_RDWR);
  ASSERT_GE(f2, 0);
  EXPECT_EQ(H5Fget_obj_count(f, H5F_OBJ_LOCAL | H5F_OBJ_ALL), 4);  // f, t, a, d
  EXPECT_EQ(H5Fget_obj_count(f, H5F_OBJ_ALL), 5);                  // and f2
  EXPECT_EQ(H5Fget_obj_count(f2, H5F_OBJ_LOCAL | H5F_OBJ_ALL), 1);
  hid_t fid = H5Iget_file_id(d);
  EXPECT_EQ(fid, f);
  H5Fclose(fid);
  H5Fclose(f2);
  H5Fclose(f);              // d, a and t keep the file open
  fid = H5Iget_file_id(d);  // a new ID for the same file
  ASSERT_GE(fid, 0);
  EXPECT_EQ(H5Fget_obj_count(fid, H5F_OBJ_LOCAL | H5F_OBJ_ALL), 4);
  H5Fclose(fid);
  H5Dclose(d);
  H5Aclose(a);
  H5Tclose(t);
  H5Sclose(sp);
  EXPECT_EQ(H5Fget_obj_count(static_cast<hid_t>(H5F_OBJ_ALL), H5F_OBJ_ALL), 0);
}

// metadata, session 6 (issue 17): iterating links and attributes reads the records of a page
// of names with one vector get (one message per server rank), not one round trip per name, and
// opening a dataset reads its four metadata values with one. Store counters of this rank.
TEST(H5vol, IterationAndOpenReadMetadataWithVectors) {
  constexpr int kN = 60;
  hid_t f = create("vectors.h5");
  ASSERT_GE(f, 0);
  hid_t g = H5Gcreate2(f, "many", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(g, 0);
  hsize_t one = 1;
  hid_t sp = H5Screate_simple(1, &one, nullptr);
  for (int i = 0; i < kN; ++i) {
    const std::string n = "g" + std::to_string(100 + i);
    hid_t c = H5Gcreate2(g, n.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(c, 0);
    H5Gclose(c);
    hid_t a = H5Acreate2(g, ("a" + std::to_string(100 + i)).c_str(), H5T_STD_I32LE, sp, H5P_DEFAULT,
                         H5P_DEFAULT);
    ASSERT_GE(a, 0);
    H5Aclose(a);
  }
  hid_t d = H5Dcreate2(g, "data", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  H5Dclose(d);
  MPI_Barrier(MPI_COMM_WORLD);
  const uint64_t nservers = edaos::objstore::server_ranks().size();
  auto rpcs = [] { return edaos::objstore::stats().rpcs; };

  std::vector<std::string> names;
  hsize_t idx = 0;
  uint64_t before = rpcs();
  ASSERT_GE(H5Literate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names), 0);
  const uint64_t links = rpcs() - before;
  ASSERT_EQ(names.size(), static_cast<size_t>(kN + 1));
  EXPECT_EQ(names.front(), "data");
  EXPECT_EQ(names[1], "g100");
  // A listing and a vector get per page of 256 names (one message per server rank each), plus
  // a few reads of the group itself; one per name before (61 and more).
  EXPECT_LE(links, 8 + 2 * nservers) << "RPCs of H5Literate2 over " << kN + 1 << " links";

  std::vector<std::string> attrs;
  idx = 0;
  before = rpcs();
  ASSERT_GE(H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_names, &attrs), 0);
  const uint64_t attr_rpcs = rpcs() - before;
  ASSERT_EQ(attrs.size(), static_cast<size_t>(kN));
  EXPECT_EQ(attrs.front(), "a100");
  EXPECT_LE(attr_rpcs, 8 + 2 * nservers) << "RPCs of H5Aiterate2 over " << kN << " attributes";

  before = rpcs();
  d = H5Dopen2(g, "data", H5P_DEFAULT);
  ASSERT_GE(d, 0);
  const uint64_t open_rpcs = rpcs() - before;
  EXPECT_LE(open_rpcs, 4u) << "RPCs of H5Dopen2";  // 6 with one get per metadata value
  int v = 7;
  ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), 0);
  v = 0;
  ASSERT_GE(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v), 0);
  EXPECT_EQ(v, 7);
  H5Dclose(d);
  std::printf(
      "[rank %d] RPCs: H5Literate2 over %d links %llu, H5Aiterate2 over %d attributes "
      "%llu, H5Dopen2 %llu\n",
      rank(), kN + 1, static_cast<unsigned long long>(links), kN,
      static_cast<unsigned long long>(attr_rpcs), static_cast<unsigned long long>(open_rpcs));
  H5Sclose(sp);
  H5Gclose(g);
  H5Fclose(f);
}

}  // namespace

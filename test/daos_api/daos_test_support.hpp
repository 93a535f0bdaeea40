// Helpers of the DAOS API tests: a fresh pool per test, created with the native API on every
// rank's behalf, and assertion helpers that print DER codes and errno values by name.
#pragma once

#include <daos.h>
#include <daos_fs.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstring>
#include <string>

#include "../objstore/mpi_support.hpp"
#include "edaos/objstore/objstore.hpp"

extern "C" const char* edaos_daos_last_error(void);

namespace edaos::test {

// "-DER_NONEXIST" style text for a daos_* return code.
inline std::string der(int rc) {
  return rc == 0 ? std::string("0") : std::string(rc < 0 ? "-" : "+") + d_errstr(rc);
}
// errno name for a dfs_* return code.
inline std::string eno(int rc) { return rc == 0 ? "0" : std::string(strerrorname_np(rc)); }

#define EXPECT_DER(expr, want)                                                                   \
  do {                                                                                           \
    const int rc_ = (expr);                                                                      \
    EXPECT_EQ(rc_, want) << #expr << " gave " << ::edaos::test::der(rc_) << " ("                 \
                         << edaos_daos_last_error() << "), wanted " << ::edaos::test::der(want); \
  } while (0)
#define ASSERT_DER_OK(expr)                                                   \
  do {                                                                        \
    const int rc_ = (expr);                                                   \
    ASSERT_EQ(rc_, 0) << #expr << " gave " << ::edaos::test::der(rc_) << " (" \
                      << edaos_daos_last_error() << ")";                      \
  } while (0)
#define EXPECT_ERRNO(expr, want)                                                                 \
  do {                                                                                           \
    const int rc_ = (expr);                                                                      \
    EXPECT_EQ(rc_, want) << #expr << " gave " << ::edaos::test::eno(rc_) << " ("                 \
                         << edaos_daos_last_error() << "), wanted " << ::edaos::test::eno(want); \
  } while (0)
#define ASSERT_ERRNO_OK(expr)                                                 \
  do {                                                                        \
    const int rc_ = (expr);                                                   \
    ASSERT_EQ(rc_, 0) << #expr << " gave " << ::edaos::test::eno(rc_) << " (" \
                      << edaos_daos_last_error() << ")";                      \
  } while (0)

// daos_init for the whole binary (the store itself was started by the MPI_Init wrapper that
// libedaos_daos carries).
class DaosEnv : public ::testing::Environment {
 public:
  void SetUp() override { ASSERT_EQ(daos_init(), 0) << edaos_daos_last_error(); }
  void TearDown() override { EXPECT_EQ(daos_fini(), 0) << edaos_daos_last_error(); }
};

// A fresh pool of `kEngines` engines in a shared temporary directory, with label `label()`.
// $EDAOS_POOL points into the directory, so the label resolves as the tool resolves it.
class PoolTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kEngines = 4;
  void SetUp() override {
    dir_ = std::make_unique<SharedTmpDir>("daosapi");
    ASSERT_FALSE(dir_->path().empty());
    label_ = "pool_" + std::to_string(++counter_);
    path_ = dir_->path() + "/" + label_;
    objstore::PoolCreateOptions o;
    o.engines = kEngines;
    o.targets = 2;
    Status st = objstore::Pool::create(path_, o, MPI_COMM_WORLD);
    ASSERT_TRUE(st.ok()) << st.to_string();
    setenv("EDAOS_POOL", (dir_->path() + "/default").c_str(), 1);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    unsetenv("EDAOS_POOL");
    dir_.reset();
  }
  const std::string& label() const { return label_; }
  const std::string& path() const { return path_; }

  // Rank 0 runs `f` (which returns 0 or an error code); every rank gets its result.
  template <typename F>
  int on_root(F&& f) {
    int rc = rank() == 0 ? f() : 0;
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
  }

  // Broadcasts a global handle from rank 0 (DAOS's local2global / global2local pattern).
  template <typename L2G>
  std::string share(L2G&& l2g) {
    d_iov_t g = {nullptr, 0, 0};
    std::string buf;
    uint64_t n = 0;
    if (rank() == 0) {
      EXPECT_EQ(l2g(&g), 0);
      n = g.iov_buf_len;
    }
    MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    buf.resize(n);
    if (rank() == 0) {
      d_iov_set(&g, buf.data(), n);
      EXPECT_EQ(l2g(&g), 0);
    }
    MPI_Bcast(buf.data(), static_cast<int>(n), MPI_BYTE, 0, MPI_COMM_WORLD);
    return buf;
  }

 private:
  static inline int counter_ = 0;
  std::unique_ptr<SharedTmpDir> dir_;
  std::string label_, path_;
};

}  // namespace edaos::test

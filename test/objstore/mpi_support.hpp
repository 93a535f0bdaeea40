// Helpers shared by the multi-rank objstore tests.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

namespace edaos::test {

inline int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline int nranks() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Deterministic non-zero-ish bytes: the value at logical offset x of object `seed`.
// Not XOR-linear in the seed (the multiplications carry): with a linear mix, rewriting a range
// with another seed changed every byte by the same mask, so XOR parity (EC_2P1) came out
// unchanged and a test could not see a parity cell left stale.
inline uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t v = (x + 1) * 0x9E3779B97F4A7C15ull + (seed + 1) * 0xC2B2AE3D27D4EB4Full;
  v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ull;
  v = (v ^ (v >> 27)) * 0x94D049BB133111EBull;
  v ^= v >> 31;
  return static_cast<uint8_t>(v | 1);
}
inline void fill(std::vector<uint8_t>& b, uint64_t off, uint64_t seed) {
  for (size_t i = 0; i < b.size(); ++i) b[i] = pattern(off + i, seed);
}
// Index of the first byte that differs from the pattern, or -1.
inline int64_t first_mismatch(const std::vector<uint8_t>& b, uint64_t off, uint64_t seed) {
  for (size_t i = 0; i < b.size(); ++i)
    if (b[i] != pattern(off + i, seed)) return static_cast<int64_t>(i);
  return -1;
}

// GoogleTest environment of a multi-rank objstore test: init() before the tests, finalize()
// after. Register with ::testing::AddGlobalTestEnvironment(new ObjstoreEnv).
class ObjstoreEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    ::edaos::Status st = objstore::init(MPI_COMM_WORLD);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void TearDown() override { (void)objstore::finalize(); }
};

// A fresh directory made by rank 0 and shared with every rank; removed at the end.
class SharedTmpDir {
 public:
  explicit SharedTmpDir(const char* tag) {
    char buf[4096] = {};
    if (rank() == 0) {
      const char* base = getenv("TMPDIR");
      std::string t = std::string(base && *base ? base : "/tmp") + "/edaos-" + tag + "-XXXXXX";
      std::snprintf(buf, sizeof buf, "%s", t.c_str());
      if (!mkdtemp(buf)) buf[0] = '\0';
    }
    MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = buf;
  }
  ~SharedTmpDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0 && !path_.empty() && !getenv("EDAOS_TEST_KEEP")) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

#define EDAOS_ASSERT_OK(expr)                                  \
  do {                                                         \
    ::edaos::Status st_ = (expr);                              \
    ASSERT_TRUE(st_.ok()) << #expr << ": " << st_.to_string(); \
  } while (0)
#define EDAOS_EXPECT_OK(expr)                                  \
  do {                                                         \
    ::edaos::Status st_ = (expr);                              \
    EXPECT_TRUE(st_.ok()) << #expr << ": " << st_.to_string(); \
  } while (0)

// Broadcasts an object ID from rank 0.
inline objstore::ObjectId bcast_oid(objstore::ObjectId o) {
  uint64_t v[2] = {o.hi, o.lo};
  MPI_Bcast(v, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  return objstore::ObjectId{v[0], v[1]};
}

// Every rank's boolean, AND-ed.
inline bool all_true(bool b) {
  int in = b ? 1 : 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out != 0;
}

// The simulated two-node run (test/CMakeLists.txt HOSTS): ranks see different processor names
// (as the runtime does), so some engines are remote to the direct path. Collective.
inline bool two_nodes() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  std::vector<char> all(static_cast<size_t>(MPI_MAX_PROCESSOR_NAME) * nranks());
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                MPI_CHAR, MPI_COMM_WORLD);
  for (int r = 1; r < nranks(); ++r)
    if (std::strncmp(all.data(), all.data() + r * MPI_MAX_PROCESSOR_NAME, MPI_MAX_PROCESSOR_NAME))
      return true;
  return false;
}

// The sum of v over every rank. Collective.
inline uint64_t all_ranks_sum(uint64_t v) {
  uint64_t s = 0;
  MPI_Allreduce(&v, &s, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  return s;
}

}  // namespace edaos::test

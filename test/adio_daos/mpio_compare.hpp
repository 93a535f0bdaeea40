// The daos-vs-ufs comparison harness of the MPI-IO driver's multi-rank tests.
//
// Every scenario runs twice: on a `daos:` file (served by edaos) and on a file in a temp
// directory (served by MPICH's own ROMIO through the pass-through), and records what it saw
// (byte counts, error classes, positions, a checksum of the file's bytes) in a Log. The two
// logs must be equal, then scenario-specific expectations are checked.
//
// Pool: one per test binary run in a temp dir (DAOS_POOL); container: one per test
// (DAOS_CONT = the test's name), so tests never see each other's files. Include this header
// in exactly one source file of a test binary (it registers the gtest environment).
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "../objstore/mpi_support.hpp"

namespace {

using edaos::test::nranks;
using edaos::test::rank;

inline int cls(int rc) {
  int c = 0;
  MPI_Error_class(rc, &c);
  return c;
}
inline std::string errstr(int rc) {
  char s[MPI_MAX_ERROR_STRING];
  int l = 0;
  MPI_Error_string(rc, s, &l);
  return std::string(s, static_cast<size_t>(l));
}
inline uint8_t pat(int64_t x, int seed) {
  uint64_t v = static_cast<uint64_t>(x + 1) * 0x9E3779B97F4A7C15ull ^
               (static_cast<uint64_t>(seed) * 0xC2B2AE3D27D4EB4Full);
  v ^= v >> 29;
  return static_cast<uint8_t>(v | 1);
}
inline std::vector<uint8_t> pattern(size_t n, int64_t off, int seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = pat(off + static_cast<int64_t>(i), seed);
  return b;
}
inline int64_t count_of(const MPI_Status& st) {
  MPI_Count c = 0;
  MPI_Get_elements_x(&st, MPI_BYTE, &c);
  return c;
}

// Temp dir shared by the ranks (ufs files and the pool).
std::string g_tmp;

class Env : public ::testing::Environment {
 public:
  void SetUp() override {
    char buf[4096] = {};
    if (rank() == 0) {
      const char* base = getenv("TMPDIR");
      std::string t = std::string(base && *base ? base : "/tmp") + "/edaos-mpio-XXXXXX";
      std::snprintf(buf, sizeof buf, "%s", t.c_str());
      if (!mkdtemp(buf)) buf[0] = '\0';
    }
    MPI_Bcast(buf, sizeof buf, MPI_CHAR, 0, MPI_COMM_WORLD);
    g_tmp = buf;
    ASSERT_FALSE(g_tmp.empty());
    unsetenv("EDAOS_POOL");
    setenv("DAOS_POOL", (g_tmp + "/pool").c_str(), 1);
    MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0 && !getenv("EDAOS_TEST_KEEP")) {
      std::error_code ec;
      std::filesystem::remove_all(g_tmp, ec);
    }
  }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new Env);

struct Log {
  std::vector<int64_t> v;
  std::vector<std::string> what;
  void add(const std::string& w, int64_t x) {
    what.push_back(w);
    v.push_back(x);
  }
};

// File names of one test on each backend.
struct Names {
  bool daos;
  std::string operator()(const std::string& base) const {
    return daos ? "daos:/" + base : g_tmp + "/ufs-" + base;
  }
};

// Appends the file's size and a checksum of its bytes (read on every rank).
inline void log_file(const std::string& name, Log& log) {
  MPI_File fh;
  int rc = MPI_File_open(MPI_COMM_WORLD, name.c_str(), MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
  log.add("final open", cls(rc));
  if (rc != MPI_SUCCESS) return;
  MPI_Offset size = 0;
  MPI_File_get_size(fh, &size);
  std::vector<uint8_t> b(static_cast<size_t>(size));
  MPI_Status st;
  if (size > 0) MPI_File_read_at(fh, 0, b.data(), static_cast<int>(size), MPI_BYTE, &st);
  uint64_t h = 1469598103934665603ull;
  for (uint8_t c : b) h = (h ^ c) * 1099511628211ull;
  log.add("final size", size);
  log.add("final hash", static_cast<int64_t>(h & 0x7fffffffffffffff));
  MPI_File_close(&fh);
}

using Scenario = std::function<void(const Names&, Log&)>;

// Runs `s` on daos and on ufs; the logs must agree. Returns the daos log.
inline Log both(const std::string& test, const Scenario& s, const std::vector<std::string>& files) {
  setenv("DAOS_CONT", test.c_str(), 1);
  Log d, u;
  s(Names{true}, d);
  for (const auto& f : files) log_file(Names{true}(f), d);
  s(Names{false}, u);
  for (const auto& f : files) log_file(Names{false}(f), u);
  EXPECT_EQ(d.v.size(), u.v.size());
  for (size_t i = 0; i < std::min(d.v.size(), u.v.size()); ++i)
    EXPECT_EQ(d.v[i], u.v[i]) << "step " << i << " (" << d.what[i] << "): daos vs ufs";
  return d;
}

inline int open_rw(const std::string& name, MPI_File* fh, MPI_Info info = MPI_INFO_NULL) {
  return MPI_File_open(MPI_COMM_WORLD, name.c_str(), MPI_MODE_CREATE | MPI_MODE_RDWR, info, fh);
}

}  // namespace

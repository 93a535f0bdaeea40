// Helpers of the objstore tests that work on files directly (no MPI): damaging shard files
// and sidecars the ways a storage engineer would, and a test checksum for the engine.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "edaos/objstore/types.hpp"

namespace edaos::test {

// The whole file ("" when it does not exist).
inline std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
// Replaces the file's contents.
inline void put_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}
// Overwrites `bytes.size()` bytes at `off` in place (as `dd conv=notrunc` does).
inline void pwrite_at(const std::string& path, uint64_t off, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(off)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// Test checksum for vos::CsumSpec::fn: FNV-1a 64 mixed with the type, chaining through `seed`.
inline uint64_t test_csum(objstore::CsumType t, const void* p, size_t n, uint64_t seed) {
  uint64_t h = seed ? seed : 0xcbf29ce484222325ull ^ static_cast<uint64_t>(t);
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

}  // namespace edaos::test

// Helpers shared by the unit_vos_*.cpp tests: a fresh directory per test and a pipe pair that
// steps an engine in a child process and a reader in the test process in turns.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace edaos::objstore::vos::testing {

// A new directory $TMPDIR/edaos-vos-<tag>-XXXXXX (or under /tmp); "" when it cannot be made.
inline std::string make_test_dir(const char* tag) {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-" + tag + "-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
}

// A pipe pair to step a child engine and this process's reader in turns.
struct Steps {
  int to_child[2], to_parent[2];
  Steps() {
    EXPECT_EQ(::pipe(to_child), 0);
    EXPECT_EQ(::pipe(to_parent), 0);
  }
  static void send(int fd) {
    char c = 1;
    EXPECT_EQ(::write(fd, &c, 1), 1);
  }
  static bool wait(int fd) {
    char c;
    return ::read(fd, &c, 1) == 1;
  }
};

}  // namespace edaos::objstore::vos::testing

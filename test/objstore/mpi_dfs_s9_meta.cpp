// Metadata, session 9 (issue 17): removals are guarded. A removal that read an entry removes
// it only while it still names the object read (the engine decides, in the removal's
// transaction), so a rename that put another entry under the name meanwhile always keeps it.
// Part of test_objstore_dfs_mpi (every entry with 2 or more ranks).
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S9MetaEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s9meta_env = ::testing::AddGlobalTestEnvironment(new S9MetaEnv);

class S9MetaTest : public MountedPoolTest {
 protected:
  void SetUp() override { mount_fresh("s9meta", "s9", 4); }
};

// Rank 0 unlinks a symbolic link (read, then removed: the read-then-remove path of links and
// directories), held between its read and its removal (EDAOS_TEST_FAULT=dfs-remove-pause: 1 s);
// rank 1 renames a file onto the name meanwhile. The unlink succeeds (it took effect just
// before the rename) and the renamed file keeps the name. Before session 9 the removal took the
// name whatever it named by then: the renamed file lost its name (and leaked).
TEST_F(S9MetaTest, RenameOntoANameBeingRemovedKeepsIt) {
  if (nranks() < 2) GTEST_SKIP() << "needs two ranks";
  for (int i = 0; i < 2; ++i) {
    const std::string name = "/race" + std::to_string(i), src = "/src" + std::to_string(i);
    if (rank() == 0) EDAOS_ASSERT_OK(dfs_->symlink(name, "target"));
    if (rank() == 1) {
      auto f = dfs_->open(src, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      EDAOS_ASSERT_OK(f.value()->write(0, "renamed", 7));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0) {
      ::setenv("EDAOS_TEST_FAULT", "dfs-remove-pause", 1);
      Status st = dfs_->unlink(name);
      ::unsetenv("EDAOS_TEST_FAULT");
      EDAOS_EXPECT_OK(st);
    } else if (rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // inside rank 0's pause
      EDAOS_EXPECT_OK(dfs_->rename(src, name));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    auto s = dfs_->stat(name, false);
    ASSERT_TRUE(s.ok()) << name << " lost its renamed entry: " << s.status().to_string();
    EXPECT_TRUE(S_ISREG(s->mode));
    EXPECT_EQ(s->size, 7u);
    EXPECT_EQ(dfs_->stat(src, false).status().code(), EDAOS_NONEXIST);
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// The same through the asynchronous namespace calls (DfsEq::remove: entries read, then
// removed with one KV::run).
TEST_F(S9MetaTest, RenameOntoANameBeingRemovedAsynchronouslyKeepsIt) {
  if (nranks() < 2) GTEST_SKIP() << "needs two ranks";
  const std::string name = "race", src = "/asrc";
  if (rank() == 0) EDAOS_ASSERT_OK(dfs_->symlink("/" + name, "target"));
  if (rank() == 1) {
    auto f = dfs_->open(src, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EDAOS_ASSERT_OK(f.value()->write(0, "renamed", 7));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {
    ::setenv("EDAOS_TEST_FAULT", "dfs-remove-pause", 1);
    {
      DfsEq eq(*dfs_, 4);
      auto ev = eq.remove(nullptr, name);
      EDAOS_EXPECT_OK(ev->wait());
    }
    ::unsetenv("EDAOS_TEST_FAULT");
  } else if (rank() == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // inside rank 0's pause
    EDAOS_EXPECT_OK(dfs_->rename(src, "/" + name));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto s = dfs_->stat("/" + name, false);
  ASSERT_TRUE(s.ok()) << name << " lost its renamed entry: " << s.status().to_string();
  EXPECT_TRUE(S_ISREG(s->mode));
  EXPECT_EQ(s->size, 7u);
  MPI_Barrier(MPI_COMM_WORLD);
}

// A removal whose entry is unchanged still removes it, and concurrent removals of one link:
// exactly one succeeds.
TEST_F(S9MetaTest, GuardedRemovalsOfOneNameOneWins) {
  if (rank() == 0) EDAOS_ASSERT_OK(dfs_->symlink("/l", "t"));
  MPI_Barrier(MPI_COMM_WORLD);
  Status st = dfs_->unlink("/l");
  int ok = st.ok() ? 1 : 0, oks = 0;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), EDAOS_NONEXIST) << st.to_string();
  }
  MPI_Allreduce(&ok, &oks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(oks, 1);
  EXPECT_EQ(dfs_->stat("/l", false).status().code(), EDAOS_NONEXIST);
}

}  // namespace

// File removal (session 12, issue 17) and a loose end of issue 15 in the namespace:
// - the background destroyer sends the removals of the objects queued meanwhile together (one
//   kShardVec per server rank for all of them, each engine removing their shards in one write
//   transaction), and every removed object is gone;
// - edaos_dfs_release reports a pipelined direct write's late error (as Container::close_object
//   does), instead of releasing the handle with it.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.h"
#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.h"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S12RmvEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s12_env = ::testing::AddGlobalTestEnvironment(new S12RmvEnv);

bool background_destroys() {
  const char* v = std::getenv("EDAOS_DFS_BACKGROUND_DESTROY");
  return !(v && std::string(v) == "0");
}

class S12RmvTest : public MountedPoolTest {};

// 64 SX files (8 shards each, one server rank) removed by rank 0 while the destroyer gathers
// for up to a second: their objects go in a few messages (before session 12: one kShardVec per
// file, 64), and none of them is left on any engine.
TEST_F(S12RmvTest, BackgroundDestroysOfManyFilesShareMessages) {
  mount_fresh("s12rmv", "s12", 8);
  constexpr int kFiles = 64;
  std::vector<ObjectId> oids;
  if (rank() == 0) {
    EDAOS_ASSERT_OK(dfs_->mkdir("/d", 0755));
    for (int i = 0; i < kFiles; ++i) {
      auto f =
          dfs_->open("/d/f" + std::to_string(i), S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, "SX");
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      const std::string data(100 + i, static_cast<char>('a' + i % 26));
      EDAOS_ASSERT_OK(f.value()->write(0, data.data(), data.size()));
      oids.push_back(f.value()->oid());
    }
    EDAOS_ASSERT_OK(cont_->sync());
    setenv("EDAOS_DFS_REAP_GATHER_US", "1000000", 1);
    const uint64_t r0 = stats().rpcs;
    for (int i = 0; i < kFiles; ++i) EDAOS_ASSERT_OK(dfs_->remove("/d/f" + std::to_string(i)));
    const uint64_t r1 = stats().rpcs;
    EDAOS_ASSERT_OK(dfs_->umount());  // waits for the destroys
    const uint64_t r2 = stats().rpcs;
    unsetenv("EDAOS_DFS_REAP_GATHER_US");
    EXPECT_GE(r1 - r0, static_cast<uint64_t>(kFiles)) << "a removal is one message";
    if (background_destroys()) {
      EXPECT_LE(r2 - r0 - kFiles, 8u) << "destroy messages for " << kFiles << " files";
    }
    auto left = cont_->list_objects();
    ASSERT_TRUE(left.ok()) << left.status().to_string();
    for (const ObjectId& o : oids)
      EXPECT_EQ(std::count(left->begin(), left->end(), o), 0) << o.to_string() << " left";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

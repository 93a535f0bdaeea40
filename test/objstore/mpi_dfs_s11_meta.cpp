// Local stats without system calls (session 11, issue 17): with the servers' metadata page
// (vos/meta_reader.hpp) a stat on the engines' node probes only the shard files whose slot counts
// a live direct-path write lease, and reads an engine's sizes.log only when the engine's
// generation moved since the reader last read it. Counts, not times: shard-file probes and log
// reads per stat of an SX file, and the sizes they give after changes from another rank. Runs
// in every test_objstore_dfs_mpi entry (one server rank, one node).
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

namespace edaos::objstore::client {
// Exported test hooks of client/local_meta.hpp.
void set_local_meta_for_testing(int on);
void set_meta_page_for_testing(int on);
uint64_t local_meta_gets_for_testing();
uint64_t local_meta_probes_for_testing();
uint64_t local_meta_log_reads_for_testing();
}  // namespace edaos::objstore::client

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S11MetaEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s11_env = ::testing::AddGlobalTestEnvironment(new S11MetaEnv);

bool local_meta_env() {
  const char* v = std::getenv("EDAOS_LOCAL_META");
  return !(v && std::string(v) == "0");
}

class S11MetaTest : public MountedPoolTest {
 protected:
  void SetUp() override {
    mount_fresh("s11meta", "s11", 8);
    EDAOS_ASSERT_OK(pool_->query().status());  // every engine open (readers in the server rank)
  }
  void TearDown() override {
    client::set_meta_page_for_testing(-1);
    client::set_local_meta_for_testing(-1);
    MountedPoolTest::TearDown();
  }
  struct Counts {
    uint64_t gets = 0, probes = 0, log_reads = 0;
  };
  static Counts now() {
    return {client::local_meta_gets_for_testing(), client::local_meta_probes_for_testing(),
            client::local_meta_log_reads_for_testing()};
  }
  // n stats of `path` through mount m, each expected to give `size`; the counts they cost.
  static Counts stats(Dfs* m, const std::string& path, int n, uint64_t size) {
    const Counts a = now();
    for (int i = 0; i < n; ++i) {
      auto st = m->stat(path);
      EXPECT_TRUE(st.ok()) << st.status().to_string();
      if (st.ok()) {
        EXPECT_EQ(st->size, size) << path << " stat " << i;
      }
    }
    const Counts b = now();
    return {b.gets - a.gets, b.probes - a.probes, b.log_reads - a.log_reads};
  }
};

// An SX file (8 shards on 8 engines of this node) written by the last rank, whose write lease on
// its one written shard stays cached: every rank's stats probe at most that shard (was all 8)
// and, once warm, read no sizes.log (was one per stat); after the last rank extends the file and
// after it truncates it, the next stats read the changed engine's log again and give the new
// size. With the page off (a fresh mount), every shard is probed again: what this test catches.
TEST_F(S11MetaTest, SxStatProbesOnlyLeasedShardsAndRereadsLogsOnlyAfterAChange) {
  if (!local_meta_env()) GTEST_SKIP() << "local metadata reads are off";
  const bool writer = rank() == nranks() - 1;
  const std::string dir = "/sx", path = dir + "/f";
  if (writer) {
    EDAOS_ASSERT_OK(dfs_->mkdir(dir, 0755));
    EDAOS_ASSERT_OK(dfs_->set_dir_attr(dir, "SX"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  std::shared_ptr<DfsObj> f;
  const std::string data(3901, 'a');
  if (writer) {
    auto o = dfs_->open(path, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    f = std::move(o).value();
    EDAOS_ASSERT_OK(f->write(0, data.data(), data.size()));
    // With commit pipelining on, the commit may still be in flight (the stats below would go to
    // the server until it is applied): the counts are of stats answered here.
    EDAOS_ASSERT_OK(f->sync());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  const int kStats = 20;
  (void)stats(dfs_.get(), path, 1, data.size());  // warm: readers, pages, logs read once
  Counts c = stats(dfs_.get(), path, kStats, data.size());
  EXPECT_GE(c.gets, static_cast<uint64_t>(kStats)) << "the stats were not answered here";
  // At most the leased shard per stat (a slot shared with another leased shard would add one).
  EXPECT_LE(c.probes, static_cast<uint64_t>(kStats)) << "probes of " << kStats << " stats";
  EXPECT_EQ(c.log_reads, 0u) << "log reads of " << kStats << " stats with nothing changed";
  MPI_Barrier(MPI_COMM_WORLD);

  // A change through the engines' path bumps the generation: the next stat reads the log.
  const uint64_t big = 5u << 20;  // past the first chunk: another shard's engine
  if (writer) EDAOS_ASSERT_OK(f->set_size(big));
  MPI_Barrier(MPI_COMM_WORLD);
  c = stats(dfs_.get(), path, 1, big);
  EXPECT_GE(c.log_reads, 1u);
  c = stats(dfs_.get(), path, kStats, big);
  EXPECT_EQ(c.log_reads, 0u);
  MPI_Barrier(MPI_COMM_WORLD);
  // The truncate recalled the writer's lease, which it does not know yet: its next write goes
  // through the recalled lease (with commit pipelining on, the call returns before its commit,
  // which is refused and redone through the engine while the writer holds its lock). The slot
  // stays counted, so the stats probe, find the lock and get the size from the server once the
  // redo is applied: 110, never 10 (seen before the recalled slots were kept counted).
  if (writer) {
    EDAOS_ASSERT_OK(f->set_size(10));
    EDAOS_ASSERT_OK(f->write(10, data.data(), 100));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  c = stats(dfs_.get(), path, 2, 110);
  MPI_Barrier(MPI_COMM_WORLD);
  if (writer) EDAOS_ASSERT_OK(f->sync());
  MPI_Barrier(MPI_COMM_WORLD);
  const uint64_t reads = c.log_reads;
  c = stats(dfs_.get(), path, 2, 110);
  EXPECT_GE(reads + c.log_reads, 1u);  // the change moved the generation: read once
  MPI_Barrier(MPI_COMM_WORLD);

  // The page off (applies to a new connection's readers): every local shard probed per stat.
  client::set_meta_page_for_testing(0);
  {
    auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
    ASSERT_TRUE(fresh.ok());
    (void)stats(fresh.value().get(), path, 1, 110);
    c = stats(fresh.value().get(), path, kStats, 110);
  }
  client::set_meta_page_for_testing(-1);
  EXPECT_GE(c.probes, static_cast<uint64_t>(kStats) * 8) << "page off: every shard probed";
  if (writer) f.reset();
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

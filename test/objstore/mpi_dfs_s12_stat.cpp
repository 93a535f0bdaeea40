// Repeated local stats of an unchanged file (session 12, issue 17; client/local_meta.hpp): a
// connection keeps the size it settled for an object with the sum of its engines' generations,
// and answers the next stats from it while that sum is unchanged and no shard is write-leased.
// Every change through the engines bumps a generation before its reply, so after a completed
// change + barrier every rank sees the exact new size and OID, then caches again. Runs in every
// test_objstore_dfs_mpi entry (one server rank, one node).
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

namespace edaos::objstore::client {
// Exported test hooks of client/local_meta.hpp.
void set_meta_page_for_testing(int on);
uint64_t local_meta_gets_for_testing();
uint64_t local_meta_cached_sizes_for_testing();
}  // namespace edaos::objstore::client

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S12StatEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s12_env = ::testing::AddGlobalTestEnvironment(new S12StatEnv);

bool local_meta_env() {
  const char* v = std::getenv("EDAOS_LOCAL_META");
  return !(v && std::string(v) == "0");
}

// Direct-path writers (the default on one node) keep their write leases until the pool's close,
// so their files' shards stay leased for the whole connection; with EDAOS_DIRECT=0
// (test_objstore_dfs_mpi_remote) no lease is ever taken.
bool direct_env() {
  const char* v = std::getenv("EDAOS_DIRECT");
  return !(v && std::string(v) == "0");
}

class S12StatTest : public MountedPoolTest {
 protected:
  void SetUp() override {
    mount_fresh("s12stat", "s12", 8);
    EDAOS_ASSERT_OK(pool_->query().status());  // every engine open (readers in the server rank)
  }
  void TearDown() override {
    client::set_meta_page_for_testing(-1);
    MountedPoolTest::TearDown();
  }
  // n stats of `path`, each expected to give `size` and `oid`; how many were answered from the
  // connection's per-object cache.
  static uint64_t stats(const std::string& path, int n, uint64_t size, ObjectId oid, Dfs* m) {
    const uint64_t c0 = client::local_meta_cached_sizes_for_testing();
    for (int i = 0; i < n; ++i) {
      auto st = m->stat(path);
      EXPECT_TRUE(st.ok()) << st.status().to_string();
      if (!st.ok()) continue;
      EXPECT_EQ(st->size, size) << path << " stat " << i;
      EXPECT_TRUE(st->oid == oid) << st->oid.to_string() << " vs " << oid.to_string();
    }
    return client::local_meta_cached_sizes_for_testing() - c0;
  }
  // The writer's OID of `path`, on every rank.
  ObjectId oid_of(const std::string& path, bool writer) {
    ObjectId o;
    if (writer) {
      auto st = dfs_->stat(path);
      EXPECT_TRUE(st.ok());
      if (st.ok()) o = st->oid;
    }
    uint64_t w[2] = {o.hi, o.lo};
    MPI_Bcast(w, 2, MPI_UINT64_T, nranks() - 1, MPI_COMM_WORLD);
    return ObjectId{w[0], w[1]};
  }
};

// An SX file (8 shards on 8 engines of this node) whose size the last rank sets: after the first
// stat, every further stat of every rank comes from the cache when no shard is write-leased
// (EDAOS_DIRECT=0), none does while the writer's leases are live (the direct path: set_size
// leases the shards it truncates); after the writer extends it past the first chunk, lowers it,
// and removes and re-creates the name, the first stat after the barrier gives the new size and
// the new OID (never the cached one), and the cache takes over again. Without the generation
// check the stats after each change give the old size (what this test catches in the remote
// entry); with the page off, no stat is cached.
TEST_F(S12StatTest, RepeatedStatsComeFromTheCacheAndEveryCompletedChangeIsSeen) {
  if (!local_meta_env()) GTEST_SKIP() << "local metadata reads are off";
  const bool writer = rank() == nranks() - 1;
  const std::string dir = "/s12", path = dir + "/f";
  if (writer) {
    EDAOS_ASSERT_OK(dfs_->mkdir(dir, 0755));
    EDAOS_ASSERT_OK(dfs_->set_dir_attr(dir, "SX"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto create = [&](uint64_t size) {
    auto o = dfs_->open(path, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    EDAOS_ASSERT_OK(o.value()->set_size(size));
  };
  if (writer) create(3901);
  MPI_Barrier(MPI_COMM_WORLD);
  const int kStats = 20;
  struct Step {
    const char* what;
    uint64_t size;
  };
  const Step steps[] = {{"created", 3901},
                        {"extended past the first chunk", 5u << 20},
                        {"lowered", 10},
                        {"removed and re-created", 77}};
  ObjectId first;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; ++i) {
    SCOPED_TRACE(steps[i].what);
    if (writer && i == 1) {
      auto f = dfs_->open(path, 0, O_RDWR);
      ASSERT_TRUE(f.ok());
      EDAOS_ASSERT_OK(f.value()->set_size(steps[i].size));
    }
    if (writer && i == 2) {
      auto f = dfs_->open(path, 0, O_RDWR);
      ASSERT_TRUE(f.ok());
      EDAOS_ASSERT_OK(f.value()->set_size(steps[i].size));
    }
    if (writer && i == 3) {
      EDAOS_ASSERT_OK(dfs_->remove(path));
      create(steps[i].size);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const ObjectId oid = oid_of(path, writer);
    if (i == 0) first = oid;
    if (i == 3) {
      EXPECT_FALSE(oid == first) << "a re-created file has a new object";
    }
    (void)stats(path, 1, steps[i].size, oid, dfs_.get());  // the change read
    const uint64_t cached = stats(path, kStats, steps[i].size, oid, dfs_.get());
    EXPECT_EQ(cached, direct_env() ? 0u : static_cast<uint64_t>(kStats))
        << "stats of an unchanged file";
    MPI_Barrier(MPI_COMM_WORLD);
  }
  // The page off (applies to a new connection's readers and to the cache at once): nothing is
  // answered from the cache, the sizes stay right.
  client::set_meta_page_for_testing(0);
  {
    auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
    ASSERT_TRUE(fresh.ok());
    const ObjectId oid = oid_of(path, writer);
    EXPECT_EQ(stats(path, kStats, 77, oid, fresh.value().get()), 0u);
  }
  client::set_meta_page_for_testing(-1);
  MPI_Barrier(MPI_COMM_WORLD);
}

// A file written through the direct path keeps its writer's lease (counted in the page): stats
// of it are never answered from the cache while the lease is live, and give every size the
// writer's completed writes made (a returned write's commit may be in flight: the probe of the
// leased shard finds the writer's lock and asks the server).
TEST_F(S12StatTest, StatsOfALeasedFileAreNotCachedAndSeeEveryWrite) {
  if (!local_meta_env()) GTEST_SKIP() << "local metadata reads are off";
  const bool writer = rank() == nranks() - 1;
  const std::string path = "/leased";
  std::shared_ptr<DfsObj> f;
  if (writer) {
    auto o = dfs_->open(path, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    f = std::move(o).value();
  }
  const std::string data(4096, 'q');
  for (uint64_t end : {uint64_t{100}, uint64_t{4096}, uint64_t{3} << 20}) {
    if (writer) EDAOS_ASSERT_OK(f->write(end - 100, data.data(), 100));
    MPI_Barrier(MPI_COMM_WORLD);
    const ObjectId oid = oid_of(path, writer);
    (void)stats(path, 3, end, oid, dfs_.get());
    MPI_Barrier(MPI_COMM_WORLD);
  }
  if (writer) f.reset();
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

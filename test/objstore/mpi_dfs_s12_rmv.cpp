// File removal (session 12, issue 17) and a loose end of issue 15 in the namespace:
// - the background destroyer sends the removals of the objects queued meanwhile together (one
//   kShardVec per server rank for all of them, each engine removing their shards in one write
//   transaction), and every removed object is gone;
// - edaos_dfs_release reports a pipelined direct write's late error (as Container::close_object
//   does), instead of releasing the handle with it.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
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
// for 0.3 s at a time: their objects go in a few messages (before session 12: one kShardVec per
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
    setenv("EDAOS_DFS_REAP_GATHER_US", "300000", 1);
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

// A DfsEq batch of removes of 16 SX files and 4 directories destroys every object of the batch
// with one message per server rank (before session 12: up to 8 destroys of one object each at a
// time, 20 messages), and leaves none of them.
TEST_F(S12RmvTest, AsyncRemovesDestroyTheirObjectsInOneMessage) {
  mount_fresh("s12eq", "s12", 8);
  if (rank() == 0) {
    std::vector<ObjectId> oids;
    std::vector<std::string> names;
    for (int i = 0; i < 16; ++i) {
      names.push_back("f" + std::to_string(i));
      auto f = dfs_->open("/" + names.back(), S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, "SX");
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      EDAOS_ASSERT_OK(f.value()->write(0, "data", 4));
      oids.push_back(f.value()->oid());
    }
    for (int i = 0; i < 4; ++i) {
      names.push_back("d" + std::to_string(i));
      EDAOS_ASSERT_OK(dfs_->mkdir("/" + names.back(), 0755));
      auto d = dfs_->lookup("/" + names.back(), O_RDONLY);
      ASSERT_TRUE(d.ok()) << d.status().to_string();
      oids.push_back(d.value()->oid());
    }
    EDAOS_ASSERT_OK(cont_->sync());
    DfsEq eq(*dfs_, 64);
    std::vector<DfsEventPtr> evs;
    for (const std::string& n : names) evs.push_back(eq.remove(nullptr, n));
    const uint64_t r0 = stats().rpcs;
    EDAOS_ASSERT_OK(eq.wait_all());
    const uint64_t r1 = stats().rpcs;
    for (auto& ev : evs) EDAOS_EXPECT_OK(ev->status());
    // Entries read (0 or 1 message: local reads), emptiness of the 4 directories (at most 4),
    // the removals (1), the destroys (1: one server rank).
    EXPECT_LE(r1 - r0, 7u) << "messages of one batch of 20 removes";
    auto left = cont_->list_objects();
    ASSERT_TRUE(left.ok()) << left.status().to_string();
    for (const ObjectId& o : oids)
      EXPECT_EQ(std::count(left->begin(), left->end(), o), 0) << o.to_string() << " left";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A late error (EDAOS_TEST_FAULT=direct-late-error: the engine's answer to a pipelined call's
// first commit taken as EDAOS_IO) of a write through a C API handle is what edaos_dfs_release
// returns, once; a handle of another file and a read-only handle of the same file release OK.
// Before session 12 edaos_dfs_release always returned EDAOS_OK (only the next sync saw it).
TEST_F(S12RmvTest, ReleaseReportsAPipelinedWritesLateError) {
  const bool named = std::getenv("EDAOS_DIRECT_PIPELINE") != nullptr;
  if (!named) setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
  mount_fresh("s12late", "s12", 4);
  edaos_os_pool_t* pool = nullptr;
  ASSERT_EQ(edaos_os_pool_connect((dir_->path() + "/pool").c_str(), MPI_COMM_WORLD, &pool),
            EDAOS_OK)
      << edaos_os_last_error();
  edaos_os_cont_t* cont = nullptr;
  ASSERT_EQ(edaos_os_cont_open(pool, "s12", &cont), EDAOS_OK) << edaos_os_last_error();
  edaos_dfs_t* dfs = nullptr;
  ASSERT_EQ(edaos_dfs_mount(cont, MPI_COMM_WORLD, O_RDWR, &dfs), EDAOS_OK) << edaos_os_last_error();
  const std::string me = "late" + std::to_string(rank());
  const std::string other = "other" + std::to_string(rank());
  edaos_dfs_obj_t *f = nullptr, *g = nullptr;
  ASSERT_EQ(edaos_dfs_open(dfs, nullptr, me.c_str(), S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL,
                           "S1", 0, nullptr, &f),
            EDAOS_OK)
      << edaos_os_last_error();
  ASSERT_EQ(edaos_dfs_open(dfs, nullptr, other.c_str(), S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL,
                           "S1", 0, nullptr, &g),
            EDAOS_OK)
      << edaos_os_last_error();
  std::string x(47008, 'q');
  edaos_iov_t iov{x.data(), x.size()};
  ASSERT_EQ(edaos_dfs_write(f, 0, &iov, 1), EDAOS_OK);  // leases taken
  ASSERT_EQ(edaos_dfs_write(g, 0, &iov, 1), EDAOS_OK);
  if (!named) unsetenv("EDAOS_DIRECT_PIPELINE");  // the connections' windows are set by now
  // This connection's commits all answered (the C handles may have a connection of their own).
  ASSERT_EQ(edaos_dfs_sync(f), EDAOS_OK) << edaos_os_last_error();
  ASSERT_EQ(edaos_dfs_sync(g), EDAOS_OK) << edaos_os_last_error();
  const char* win = std::getenv("EDAOS_DIRECT_PIPELINE");
  const bool window_on = !win || std::atoi(win) >= 2;
  const uint64_t direct = direct_stats().writes;
  setenv("EDAOS_TEST_FAULT", "direct-late-error", 1);
  const int w = edaos_dfs_write(f, x.size(), &iov, 1);
  const int rg = edaos_dfs_release(g);  // another file: OK (drains: f's commit is answered)
  const int rf = edaos_dfs_release(f);
  unsetenv("EDAOS_TEST_FAULT");
  EXPECT_EQ(w, EDAOS_OK);
  EXPECT_EQ(rg, EDAOS_OK) << "another file's release: " << edaos_os_last_error();
  if (window_on && direct_stats().writes > direct) {  // pipelined: direct, window on
    EXPECT_EQ(rf, EDAOS_IO) << "the late error went away with the handle";
  } else {
    EXPECT_EQ(rf, EDAOS_OK) << edaos_os_last_error();
  }
  EXPECT_EQ(edaos_os_cont_sync(cont), EDAOS_OK)
      << "taken by the release: " << edaos_os_last_error();
  // Reported once: a new handle of the same file releases OK, read-only or not.
  edaos_dfs_obj_t *r = nullptr, *rw = nullptr;
  ASSERT_EQ(edaos_dfs_lookup(dfs, ("/" + me).c_str(), O_RDONLY, &r, nullptr), EDAOS_OK);
  ASSERT_EQ(edaos_dfs_lookup(dfs, ("/" + me).c_str(), O_RDWR, &rw, nullptr), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_release(r), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_release(rw), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_release(nullptr), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_umount(dfs), EDAOS_OK);
  EXPECT_EQ(edaos_os_cont_close(cont), EDAOS_OK);
  EXPECT_EQ(edaos_os_pool_disconnect(pool), EDAOS_OK);
  MPI_Barrier(MPI_COMM_WORLD);
}

// The C API's array close reports a pipelined direct write's late error (EDAOS_IO), once, as
// Array::close does; before session 12 edaos_os_array_close always returned EDAOS_OK.
TEST_F(S12RmvTest, ArrayCloseReportsAPipelinedWritesLateError) {
  const bool named = std::getenv("EDAOS_DIRECT_PIPELINE") != nullptr;
  if (!named) setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
  mount_fresh("s12arr", "s12", 4);
  edaos_os_pool_t* pool = nullptr;
  ASSERT_EQ(edaos_os_pool_connect((dir_->path() + "/pool").c_str(), MPI_COMM_WORLD, &pool),
            EDAOS_OK)
      << edaos_os_last_error();
  if (!named) unsetenv("EDAOS_DIRECT_PIPELINE");
  edaos_os_cont_t* cont = nullptr;
  ASSERT_EQ(edaos_os_cont_open(pool, "s12", &cont), EDAOS_OK) << edaos_os_last_error();
  edaos_oid_t oid{};
  ASSERT_EQ(edaos_os_oid_alloc(cont, "S1", EDAOS_OTYPE_ARRAY, &oid), EDAOS_OK)
      << edaos_os_last_error();
  edaos_os_array_t* a = nullptr;
  ASSERT_EQ(edaos_os_array_open(cont, oid, 0, &a), EDAOS_OK) << edaos_os_last_error();
  std::string x(47008, 'r');
  edaos_iov_t iov{x.data(), x.size()};
  ASSERT_EQ(edaos_os_array_write(a, 0, &iov, 1), EDAOS_OK);  // lease taken
  ASSERT_EQ(edaos_os_cont_sync(cont), EDAOS_OK) << edaos_os_last_error();
  const char* win = std::getenv("EDAOS_DIRECT_PIPELINE");
  const bool window_on = !win || std::atoi(win) >= 2;
  const uint64_t direct = direct_stats().writes;
  setenv("EDAOS_TEST_FAULT", "direct-late-error", 1);
  const int w = edaos_os_array_write(a, x.size(), &iov, 1);
  const int rc = edaos_os_array_close(a);
  unsetenv("EDAOS_TEST_FAULT");
  EXPECT_EQ(w, EDAOS_OK);
  if (window_on && direct_stats().writes > direct) {
    EXPECT_EQ(rc, EDAOS_IO) << "the late error went away with the handle";
  } else {
    EXPECT_EQ(rc, EDAOS_OK) << edaos_os_last_error();
  }
  EXPECT_EQ(edaos_os_cont_sync(cont), EDAOS_OK) << "reported twice: " << edaos_os_last_error();
  EXPECT_EQ(edaos_os_array_close(nullptr), EDAOS_OK);
  EXPECT_EQ(edaos_os_cont_close(cont), EDAOS_OK);
  EXPECT_EQ(edaos_os_pool_disconnect(pool), EDAOS_OK);
  MPI_Barrier(MPI_COMM_WORLD);
}

// A sync right after a removal does not wait out the destroyer's gathering pause: drain()
// ends it (before: DfsObj::sync slept the whole pause, here 5 s; with the default 2 ms every
// sync after removes paid up to 2 ms). The object is gone when the sync returns.
TEST_F(S12RmvTest, ASyncAfterARemovalEndsTheDestroyersPause) {
  mount_fresh("s12drain", "s12", 4);
  if (rank() == 0) {
    auto keep = dfs_->open("/keep", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, "SX");
    ASSERT_TRUE(keep.ok()) << keep.status().to_string();
    auto f = dfs_->open("/gone", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, "SX");
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EDAOS_ASSERT_OK(f.value()->write(0, "abc", 3));
    const ObjectId oid = f.value()->oid();
    f.value().reset();
    EDAOS_ASSERT_OK(cont_->sync());
    setenv("EDAOS_DFS_REAP_GATHER_US", "5000000", 1);
    EDAOS_ASSERT_OK(dfs_->remove("/gone"));
    const auto t0 = std::chrono::steady_clock::now();
    EDAOS_ASSERT_OK(keep.value()->sync());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    unsetenv("EDAOS_DFS_REAP_GATHER_US");
    if (background_destroys()) {
      EXPECT_LT(s, 2.5) << "the sync waited out the destroyer's 5 s pause";
    }
    auto left = cont_->list_objects();
    ASSERT_TRUE(left.ok()) << left.status().to_string();
    EXPECT_EQ(std::count(left->begin(), left->end(), oid), 0) << "destroyed before the sync";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

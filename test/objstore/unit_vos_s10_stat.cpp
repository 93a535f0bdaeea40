// Metadata reads without the server (session 10, issue 17): vos::MetaReader reads an engine's KV
// values and array sizes from meta.mdb and sizes.log in another process while the engine runs
// (its LMDB environment now has a lock file). The engine lives in a forked child here, so the
// reader opens its own read-only environment, as a client process of the node does.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"
#include "vos/meta_reader.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

uint64_t test_csum(CsumType, const void* p, size_t n, uint64_t seed) {
  uint64_t h = seed ^ 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 0x100000001b3ull;
  return h;
}

class MetaReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("s10");
    ASSERT_FALSE(root_.empty());
    dir_ = root_ + "/engine-0000";
    cont_ = Uuid::generate();
    kv_ = ShardRef{cont_, ObjectId{0x300000000000ull, 3}, 0, 0};
    arr_ = ShardRef{cont_, ObjectId{0x100000000000ull, 9}, 2, 0};
    cs_.type = CsumType::kCrc32;
    cs_.fn = &test_csum;
    // Create the engine once (a child: this process must never hold it, see the header).
    EXPECT_EQ(in_child([&] {
                Engine::Options o;
                o.dir = dir_;
                o.ntargets = 1;
                o.create = true;
                return Engine::open(o).ok() ? 0 : 1;
              }),
              0);
  }
  void TearDown() override {
    set_fold_hook_for_testing(nullptr);
    fs::remove_all(root_);
  }
  // Runs fn in a forked child; its exit status (or 128 + the signal that killed it).
  template <typename Fn>
  static int in_child(Fn fn) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(fn());
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  std::unique_ptr<Engine> open_engine() {
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 0;
    auto e = Engine::open(o);
    return e.ok() ? std::move(e).value() : nullptr;
  }
  Status write_to(Engine* e, uint64_t end) {
    std::string b(16, 'z');
    return e->array_write(arr_, end - b.size(), b.data(), b.size(), CsumSpec{}, nullptr, end);
  }
  std::unique_ptr<MetaReader> reader() {
    auto r = MetaReader::open(dir_, false);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  uint64_t size_of(MetaReader* r) {
    std::vector<uint64_t> ends;
    Status st = r->logical_ends({arr_}, &ends);
    EXPECT_TRUE(st.ok()) << st.to_string();
    return st.ok() ? ends[0] : ~uint64_t{0};
  }

  std::string root_, dir_;
  Uuid cont_;
  ShardRef kv_, arr_;
  CsumSpec cs_;
};

using testing::Steps;

// Values and sizes as the live engine in another process has them after each change: sizes in
// the log only, folded into LMDB, lowered by a truncate, removed (a removal record), re-created.
TEST_F(MetaReaderTest, ReadsWhatTheEngineInAnotherProcessAcknowledged) {
  Steps s;
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto e = open_engine();
    if (!e) ::_exit(2);
    auto step = [&](bool ok) {
      if (!ok) ::_exit(3);
      Steps::send(s.to_parent[1]);
      if (!Steps::wait(s.to_child[0])) ::_exit(4);
    };
    step(e->kv_put(kv_, "name", "e", "value-1", 0, cs_).ok());  // 1
    step(write_to(e.get(), 1000).ok());                         // 2: the log only
    step(e->sync().ok() && write_to(e.get(), 5000).ok());       // 3: folded 1000, log 5000
    step(e->array_truncate(arr_, 10, 10).ok());                 // 4: fold, then exact 10
    step(e->obj_punch(arr_).ok());                              // 5: removed
    step(write_to(e.get(), 64).ok());                           // 6: re-created after removal
    step(e->kv_put(kv_, "name", "e", "value-2", 0, cs_).ok());  // 7
    ::_exit(0);
  }
  auto r = reader();
  ASSERT_TRUE(r);
  std::string v;
  const uint64_t want[] = {0, 1000, 5000, 10, 0, 64, 64};
  for (int i = 0; i < 7; ++i) {
    SCOPED_TRACE(i + 1);
    ASSERT_TRUE(Steps::wait(s.to_parent[0]));
    Status st = r->kv_get(kv_, "name", "e", &test_csum, &v);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(v, i == 6 ? "value-2" : "value-1");
    EXPECT_EQ(r->kv_get(kv_, "missing", "e", &test_csum, &v).code(), EDAOS_NONEXIST);
    EXPECT_EQ(size_of(r.get()), want[i]);
    EXPECT_EQ(r->probe_file(arr_),
              i == 0 || i == 4 ? MetaReader::ShardFile::kAbsent : MetaReader::ShardFile::kPresent);
    Steps::send(s.to_child[1]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The engine closed (its close folds the log): the same answers from LMDB alone.
  EXPECT_EQ(size_of(r.get()), 64u);
  // A direct writer's lock anywhere on the data file (a commit that may be in flight).
  {
    const int fd = ::open(shard_data_path(dir_, arr_).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 4096;
    fl.l_len = 10;
    ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
    EXPECT_EQ(r->probe_file(arr_), MetaReader::ShardFile::kLocked);
    ::close(fd);
    EXPECT_EQ(r->probe_file(arr_), MetaReader::ShardFile::kPresent);
  }
  // A record failing its checksum is never answered: the caller asks the engine.
  EXPECT_EQ(r->kv_get(
                 kv_, "name", "e",
                 [](CsumType, const void*, size_t, uint64_t) -> uint64_t { return 1; }, &v)
                .code(),
            EDAOS_CSUM);
  // Long keys are the engine's.
  EXPECT_EQ(r->kv_get(kv_, std::string(600, 'k'), "e", &test_csum, &v).code(), EDAOS_NOTSUP);
}

// The engine runs LMDB with its lock file now: meta.mdb-lock exists next to meta.mdb. A build
// that runs MDB_NOLOCK (all earlier ones) opens the environment without looking at it.
TEST_F(MetaReaderTest, LockFileIsThereAndABuildWithoutLocksIgnoresIt) {
  EXPECT_EQ(in_child([&] {
              auto e = open_engine();
              return e && e->kv_put(kv_, "k", "e", "v", 0, cs_).ok() ? 0 : 1;
            }),
            0);
  EXPECT_TRUE(fs::exists(dir_ + "/meta.mdb-lock"));
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
  ASSERT_EQ(mdb_env_open(env, (dir_ + "/meta.mdb").c_str(), MDB_NOSUBDIR | MDB_NOLOCK, 0644), 0);
  MDB_txn* t = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &t), 0);
  MDB_dbi d;
  EXPECT_EQ(mdb_dbi_open(t, "akeys", 0, &d), 0);
  EXPECT_EQ(mdb_txn_commit(t), 0);
  mdb_env_close(env);
  // And the engine opens again after it.
  EXPECT_EQ(in_child([&] { return open_engine() ? 0 : 1; }), 0);
}

// A reader killed inside its read transaction leaves its slot in the lock file, pinning that
// snapshot's pages. The engine clears slots of dead processes at open, every 256 commits and at
// close, so a long run of commits does not grow meta.mdb without bound. Without the periodic
// check (kReaderCheckEvery) this run grows the file to ~100 MiB; with it, a few MiB.
TEST_F(MetaReaderTest, AKilledReadersSlotDoesNotGrowTheFileWithoutBound) {
  Steps s;
  const pid_t engine = ::fork();
  if (engine == 0) {
    auto e = open_engine();
    if (!e) ::_exit(2);
    Steps::send(s.to_parent[1]);
    if (!Steps::wait(s.to_child[0])) ::_exit(4);
    const std::string big(6000, 'b');  // an overflow page or two per commit, freed by the next
    for (int i = 0; i < 6000; ++i)
      if (!e->kv_put(kv_, "big", "e", big + std::to_string(i), 0, CsumSpec{}).ok()) ::_exit(3);
    ::_exit(0);
  }
  ASSERT_TRUE(Steps::wait(s.to_parent[0]));
  // The reader: a read transaction held when the process is killed.
  const int rc = in_child([&] {
    MDB_env* env = nullptr;
    if (mdb_env_create(&env) || mdb_env_set_maxreaders(env, 1024) ||
        mdb_env_open(env, (dir_ + "/meta.mdb").c_str(), MDB_RDONLY | MDB_NOSUBDIR | MDB_NOTLS,
                     0644))
      return 1;
    MDB_txn* t = nullptr;
    if (mdb_txn_begin(env, nullptr, MDB_RDONLY, &t)) return 1;
    ::kill(::getpid(), SIGKILL);
    return 1;
  });
  EXPECT_EQ(rc, 128 + SIGKILL);
  Steps::send(s.to_child[1]);
  int status = 0;
  ::waitpid(engine, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  const auto size = fs::file_size(dir_ + "/meta.mdb");
  EXPECT_LT(size, uint64_t{24} << 20) << "meta.mdb grew to " << size << " bytes";
}

// The server killed while it holds LMDB's writer mutex (inside a fold's transaction) while a
// reader of another process keeps the lock file in use (so the next opener cannot reset it):
// the next engine open and its writes go through (the mutex is robust: LMDB recovers it), and the
// reader answers the sizes the log still holds. Then a kill after the fold's commit and before
// the log is emptied: the next job's reader and engine both answer the acknowledged size.
TEST_F(MetaReaderTest, KillsInsideAFoldLeaveEveryoneTheRightSize) {
  auto r = reader();  // holds the lock file in use from here on
  ASSERT_TRUE(r);
  for (const char* point : {"fold:in-transaction", "fold:committed"}) {
    SCOPED_TRACE(point);
    static const char* g_point;
    g_point = point;
    const uint64_t end = std::string(point) == "fold:committed" ? 9000 : 7000;
    EXPECT_EQ(in_child([&] {
                auto e = open_engine();
                if (!e || !write_to(e.get(), end).ok()) return 1;
                set_fold_hook_for_testing([](const char* p) {
                  if (std::strcmp(p, g_point) == 0) ::kill(::getpid(), SIGKILL);
                });
                (void)e->sync();  // folds: killed at the point
                return 2;
              }),
              128 + SIGKILL);
    EXPECT_EQ(size_of(r.get()), end);
    // The next job: the engine opens (replays the log), writes, and everyone agrees.
    EXPECT_EQ(in_child([&] {
                auto e = open_engine();
                if (!e) return 1;
                auto v = e->array_logical_end(arr_);
                if (!v.ok() || v.value() != end) return 2;
                return e->kv_put(kv_, "after", "e", point, 0, cs_).ok() ? 0 : 3;
              }),
              0);
    EXPECT_EQ(size_of(r.get()), end);
    std::string v;
    EXPECT_TRUE(r->kv_get(kv_, "after", "e", &test_csum, &v).ok());
    EXPECT_EQ(v, point);
  }
}

}  // namespace
}  // namespace edaos::objstore::vos

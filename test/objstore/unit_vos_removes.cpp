// What a removal costs an engine and what a kill leaves (issue 17): array_truncate folds the
// size log only when it holds a record of that shard (a record of any other shard replayed
// after the change only raises that shard's own size); obj_punch of such a shard appends a
// removal record instead of folding (session 6); a removed shard never comes back after a
// kill, whatever was in the log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class RemoveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("rm");
    ASSERT_FALSE(root_.empty());
    const Uuid cont = Uuid::generate();
    for (int i = 0; i < 3; ++i) ref_[i] = ShardRef{cont, ObjectId{0x300000000000ull, 1u + i}, 0, 0};
  }
  void TearDown() override { fs::remove_all(root_); }
  Engine::Options opts() const {
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.create = true;
    return o;
  }
  static Status write(Engine& e, const ShardRef& r, size_t n) {
    std::string d(n, 'x');
    return e.array_write(r, 0, d.data(), d.size(), CsumSpec{}, nullptr, n);
  }
  uint64_t log_size() const {
    struct stat st;
    return ::stat((root_ + "/engine-0000/sizes.log").c_str(), &st) == 0
               ? static_cast<uint64_t>(st.st_size)
               : 0;
  }
  // Runs `steps` on the engine in a child that then exits without closing it (like kill -9:
  // the log not folded); true when every step succeeded.
  template <typename F>
  bool in_killed_child(F&& steps) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      auto e = Engine::open(opts());
      if (!e.ok()) ::_exit(2);
      ::_exit(steps(*e.value()) ? 0 : 3);
    }
    int ws = 0;
    return ::waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
  }
  std::string root_;
  ShardRef ref_[3];
};

TEST_F(RemoveTest, PunchOfAShardWithoutALogRecordLeavesTheLogAlone) {
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ASSERT_TRUE(write(*e.value(), ref_[1], 100).ok());
  ASSERT_TRUE(e.value()->sync().ok());  // folded: no record of shard 1 left in the log
  ASSERT_TRUE(write(*e.value(), ref_[0], 200).ok());
  const uint64_t before = log_size();
  ASSERT_GT(before, 0u);
  ASSERT_TRUE(e.value()->obj_punch(ref_[1]).ok());
  EXPECT_EQ(log_size(), before) << "the log was folded for a shard it held no record of";
  // An exact size of a shard without one: not folded either; since session 11 one size record
  // follows (the log might hold a removal record of it: unit_vos_s11_replay.cpp).
  ASSERT_TRUE(e.value()->array_truncate(ref_[2], 0, 0).ok());
  EXPECT_EQ(log_size(), before + 64) << "folded, or no size record after the log's records";
  EXPECT_EQ(e.value()->array_logical_end(ref_[1]).value(), 0u);
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 200u);
  // A shard whose record is in the log (session 6): a removal record follows it, the log is
  // not folded (no LMDB commit, no truncation).
  ASSERT_TRUE(e.value()->obj_punch(ref_[0]).ok());
  EXPECT_EQ(log_size(), before + 128) << "the removal folded the log instead of logging";
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 0u);
  // Written again after its removal: a new size from zero.
  ASSERT_TRUE(write(*e.value(), ref_[0], 30).ok());
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 30u);
  ASSERT_TRUE(e.value()->sync().ok());
  EXPECT_EQ(log_size(), 0u);
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 30u);
}

// Removal records (session 6) and a kill: a shard whose size was folded into LMDB and then
// raised in the log, removed (a removal record, its LMDB record deleted), stays removed; one
// removed and written again smaller replays its new size exactly; one removed twice, with a
// write between, likewise; an untouched shard keeps its size.
TEST_F(RemoveTest, RemovalRecordsReplayAfterAKill) {
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[0], 100).ok() && eng.sync().ok();  // shard 0: folded, 100
    ok = ok && write(eng, ref_[0], 400).ok();                    // raised in the log
    ok = ok && write(eng, ref_[1], 900).ok();                    // shard 1: in the log
    ok = ok && write(eng, ref_[2], 700).ok();                    // shard 2: in the log
    ok = ok && eng.obj_punch(ref_[0]).ok();                      // removal record
    ok = ok && eng.obj_punch(ref_[1]).ok();                      // removal record
    ok = ok && write(eng, ref_[1], 20).ok();                     // recreated, smaller
    ok = ok && eng.obj_punch(ref_[1]).ok();                      // removed again
    ok = ok && write(eng, ref_[1], 10).ok();                     // and recreated
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 0u) << "a removed shard came back";
  EXPECT_EQ(e.value()->array_logical_end(ref_[1]).value(), 10u) << "an old size came back";
  EXPECT_EQ(e.value()->array_logical_end(ref_[2]).value(), 700u);
  auto objs = e.value()->list_objects(ref_[0].cont);
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(std::count(objs->begin(), objs->end(), ref_[0].oid), 0);
  EXPECT_EQ(std::count(objs->begin(), objs->end(), ref_[1].oid), 1);
  EXPECT_EQ(log_size(), 0u) << "the replayed log was not emptied";
}

// A child writes and removes shards in every order around the log and is killed (_exit, no
// close): the next open replays the log, and no removed shard comes back.
TEST_F(RemoveTest, RemovedShardsNeverComeBackAfterAKill) {
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[1], 100).ok() && eng.sync().ok();  // shard 1: folded
    ok = ok && write(eng, ref_[0], 300).ok();                    // shard 0: in the log
    ok = ok && eng.obj_punch(ref_[1]).ok();                      // no fold needed
    ok = ok && write(eng, ref_[2], 500).ok();                    // shard 2: in the log
    ok = ok && eng.obj_punch(ref_[2]).ok();                      // folds (its record)
    ok = ok && write(eng, ref_[2], 50).ok();                     // recreated, smaller
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->array_logical_end(ref_[0]).value(), 300u);
  EXPECT_EQ(e.value()->array_logical_end(ref_[1]).value(), 0u) << "a removed shard came back";
  EXPECT_EQ(e.value()->array_logical_end(ref_[2]).value(), 50u) << "the old size came back";
  auto objs = e.value()->list_objects(ref_[0].cont);
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(std::count(objs->begin(), objs->end(), ref_[1].oid), 0);
  EXPECT_EQ(std::count(objs->begin(), objs->end(), ref_[0].oid), 1);
}

}  // namespace
}  // namespace edaos::objstore::vos

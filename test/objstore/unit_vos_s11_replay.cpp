// Session 11: exact size changes and the size log's removal records (vos/README.md "Exact
// sizes and the log"). A shard removed while its size was pending in sizes.log leaves a
// removal record; a later change that writes its `arrays` record straight to LMDB (an
// array_truncate that extends or sets it, no size record after the removal) must not be
// undone by the replay of that removal after a kill: the acknowledged size must survive.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"
#include "vos/meta_reader.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class S11ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("s11");
    ASSERT_FALSE(root_.empty());
    cont_ = Uuid::generate();
    for (int i = 0; i < 3; ++i)
      ref_[i] = ShardRef{cont_, ObjectId{0x500000000000ull, 1u + i}, 0, 0};
  }
  void TearDown() override { fs::remove_all(root_); }
  Engine::Options opts() const {
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.create = true;
    return o;
  }
  static Status write(Engine& e, const ShardRef& r, size_t n, char c = 'x') {
    std::string d(n, c);
    return e.array_write(r, 0, d.data(), d.size(), CsumSpec{}, nullptr, n);
  }
  uint64_t log_size() const {
    struct stat st;
    return ::stat((root_ + "/engine-0000/sizes.log").c_str(), &st) == 0
               ? static_cast<uint64_t>(st.st_size)
               : 0;
  }
  // Runs `steps` on the engine in a child that is then killed with SIGKILL while it still
  // holds the engine (no close, no fold); true when every step succeeded and the kill did.
  template <typename F>
  bool in_killed_child(F&& steps) {
    bool killed = false;
    return with_live_child(
               steps, [] { return true; }, &killed) &&
           killed;
  }
  // Runs `steps` on the engine in a child, then `look` here while the child still holds the
  // engine open (a reader of another process), then kills the child; true when both succeeded.
  // *killed: the child ended by the signal.
  template <typename F, typename G>
  bool with_live_child(F&& steps, G&& look, bool* killed = nullptr) {
    int pfd[2];
    if (::pipe(pfd) != 0) return false;
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::close(pfd[0]);
      auto e = Engine::open(opts());
      char r = !e.ok() ? '2' : steps(*e.value()) ? '0' : '3';
      if (::write(pfd[1], &r, 1) != 1) ::_exit(4);
      for (;;) ::pause();  // killed here, the engine open
    }
    ::close(pfd[1]);
    char r = 'x';
    const bool got = ::read(pfd[0], &r, 1) == 1;
    ::close(pfd[0]);
    const bool looked = got && r == '0' && look();
    ::kill(pid, SIGKILL);
    int ws = 0;
    const bool ended = ::waitpid(pid, &ws, 0) == pid && WIFSIGNALED(ws);
    if (killed) *killed = ended;
    return looked;
  }
  // Reads [0, n) of `r` and the logical end: both must be the acknowledged ones.
  static void expect_shard(Engine& e, const ShardRef& r, uint64_t end, size_t n, char c,
                           const char* what) {
    auto got = e.array_logical_end(r);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got.value(), end) << what << ": the acknowledged size was lost";
    if (n == 0) return;
    std::string buf(n, '?');
    Status st = e.array_read(r, 0, n, buf.data(), CsumSpec{}, nullptr);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(buf, std::string(n, c)) << what;
  }
  std::string root_;
  Uuid cont_;
  ShardRef ref_[3];
};

// The reported case: written (size in the log), removed (a removal record), then extended by a
// truncate without a write (the size goes straight to `arrays`), killed.
TEST_F(S11ReplayTest, ExtendAfterARemovalSurvivesAKill) {
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[0], 100).ok();               // size 100 pending in the log
    ok = ok && eng.obj_punch(ref_[0]).ok();                // a removal record follows it
    ok = ok && eng.array_truncate(ref_[0], 0, 5000).ok();  // a hole of 5000 bytes, exact size
    ok = ok && eng.array_logical_end(ref_[0]).value() == 5000;
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  expect_shard(*e.value(), ref_[0], 5000, 0, 0, "truncate-extend after a removal");
  auto objs = e.value()->list_objects(cont_);
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(std::count(objs->begin(), objs->end(), ref_[0].oid), 1) << "the object vanished";
  EXPECT_EQ(log_size(), 0u);
}

// The same with data: removed, written again (a size record after the removal), extended by a
// truncate (exact), the local bytes kept; and shrunk by a truncate after a removal and a write.
TEST_F(S11ReplayTest, TruncatesAfterRemovalsAndRewritesSurviveAKill) {
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[0], 300).ok() && eng.obj_punch(ref_[0]).ok();
    ok = ok && write(eng, ref_[0], 40, 'a').ok();           // size 40 after the removal
    ok = ok && eng.array_truncate(ref_[0], 40, 9000).ok();  // logical 9000, local 40
    ok = ok && write(eng, ref_[1], 800).ok() && eng.obj_punch(ref_[1]).ok();
    ok = ok && write(eng, ref_[1], 600, 'b').ok();          // after the removal
    ok = ok && eng.array_truncate(ref_[1], 200, 200).ok();  // shrunk: exact 200
    ok = ok && write(eng, ref_[2], 700).ok() && eng.obj_punch(ref_[2]).ok();
    ok = ok && eng.array_truncate(ref_[2], 0, 0).ok();  // exact 0 after a removal
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  expect_shard(*e.value(), ref_[0], 9000, 40, 'a', "extend after removal and rewrite");
  expect_shard(*e.value(), ref_[1], 200, 200, 'b', "shrink after removal and rewrite");
  expect_shard(*e.value(), ref_[2], 0, 0, 0, "truncate to zero after a removal");
}

// Two removals of the same shard around an extension: the removal after it must hold; an
// extension after a removal of another shard must survive.
TEST_F(S11ReplayTest, RemovalAfterAnExtensionStillRemoves) {
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[0], 100).ok() && eng.obj_punch(ref_[0]).ok();
    ok = ok && eng.array_truncate(ref_[0], 0, 4096).ok();  // exact, after a removal record
    ok = ok && eng.obj_punch(ref_[0]).ok();                // removed again
    ok = ok && write(eng, ref_[1], 100).ok() && eng.obj_punch(ref_[1]).ok();
    ok = ok && eng.array_truncate(ref_[1], 0, 777).ok();  // kept
    ok = ok && write(eng, ref_[2], 64).ok();              // pending, in another container
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  expect_shard(*e.value(), ref_[0], 0, 0, 0, "removed after an extension");
  expect_shard(*e.value(), ref_[1], 777, 0, 0, "extended after a removal");
  expect_shard(*e.value(), ref_[2], 64, 64, 'x', "untouched");
}

// The same path in a live engine: a shard without a size (never sized, or removed) gets its
// exact size in `arrays` and, while the log is not empty, a size record after whatever the log
// holds of it (one pwrite, no fold); a shard with a pending record folds first (its record
// would undo a shrink); a shard sized in LMDB with nothing in the log is set there only.
TEST_F(S11ReplayTest, ExactSizeOfAShardWithoutASizeIsAlsoLogged) {
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  Engine& eng = *e.value();
  ASSERT_TRUE(write(eng, ref_[0], 100).ok());
  ASSERT_TRUE(write(eng, ref_[1], 100).ok());
  ASSERT_TRUE(eng.obj_punch(ref_[0]).ok());
  ASSERT_EQ(log_size(), 3u * 64);
  ASSERT_TRUE(eng.array_truncate(ref_[2], 0, 123).ok());  // never sized
  EXPECT_EQ(log_size(), 4u * 64);
  ASSERT_TRUE(eng.array_truncate(ref_[0], 0, 321).ok());  // removed: after its removal record
  EXPECT_EQ(log_size(), 5u * 64);
  EXPECT_EQ(eng.array_logical_end(ref_[0]).value(), 321u);
  EXPECT_EQ(eng.array_logical_end(ref_[1]).value(), 100u);
  EXPECT_EQ(eng.array_logical_end(ref_[2]).value(), 123u);
  ASSERT_TRUE(eng.array_truncate(ref_[0], 0, 20).ok());  // pending: folded, then set
  EXPECT_EQ(log_size(), 0u);
  EXPECT_EQ(eng.array_logical_end(ref_[0]).value(), 20u);
  ASSERT_TRUE(eng.array_truncate(ref_[1], 0, 7).ok());  // in LMDB only: no log record
  EXPECT_EQ(log_size(), 0u);
  auto objs = eng.list_objects(cont_);
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(objs->size(), 3u);
  e.value().reset();  // closed: folded
  auto again = Engine::open(opts());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again.value()->array_logical_end(ref_[0]).value(), 20u);
  EXPECT_EQ(again.value()->array_logical_end(ref_[1]).value(), 7u);
  EXPECT_EQ(again.value()->array_logical_end(ref_[2]).value(), 123u);
}

// A reader of another process (MetaReader, local metadata reads) of a shard extended by a
// truncate after its removal: the shard has no data file, so the reader skips the log and reads
// only `arrays` (meta_reader.hpp, skip_log): the exact size must be there as well as in the
// log. Fails when the fix puts the size into the log only.
TEST_F(S11ReplayTest, AReaderOfAnotherProcessSeesTheExtensionAfterARemoval) {
  ASSERT_TRUE(with_live_child(
      [&](Engine& eng) {
        bool ok = write(eng, ref_[0], 100).ok() && eng.obj_punch(ref_[0]).ok();
        ok = ok && write(eng, ref_[1], 64).ok();  // the log keeps a record of another shard
        return ok && eng.array_truncate(ref_[0], 0, 5000).ok();
      },
      [&] {
        auto r = MetaReader::open(root_ + "/engine-0000", false);
        EXPECT_TRUE(r.ok()) << r.status().to_string();
        if (!r.ok()) return false;
        EXPECT_EQ(r.value()->probe_file(ref_[0]), MetaReader::ShardFile::kAbsent);
        std::vector<uint64_t> ends;
        const std::vector<char> skip{1};
        Status st = r.value()->logical_ends({ref_[0]}, &ends, &skip);
        EXPECT_TRUE(st.ok()) << st.to_string();
        EXPECT_EQ(st.ok() ? ends[0] : 0, 5000u) << "the reader lost the exact size";
        st = r.value()->logical_ends({ref_[0]}, &ends);
        EXPECT_TRUE(st.ok()) << st.to_string();
        EXPECT_EQ(st.ok() ? ends[0] : 0, 5000u);
        return true;
      }));
}

// Siblings checked (they pass before and after the fix, kept as guards): a container destroy
// after a removal record folds the log first, so a shard written again after the destroy
// replays its new size only and the destroyed ones stay gone.
TEST_F(S11ReplayTest, DestroyAfterARemovalRecordThenRewriteSurvivesAKill) {
  const ShardRef other{Uuid::generate(), ObjectId{0x500000000000ull, 9u}, 0, 0};
  ASSERT_TRUE(in_killed_child([&](Engine& eng) {
    bool ok = write(eng, ref_[0], 100).ok() && eng.obj_punch(ref_[0]).ok();
    ok = ok && write(eng, ref_[1], 500).ok() && write(eng, other, 64).ok();
    ok = ok && eng.cont_destroy(cont_).ok();
    ok = ok && write(eng, ref_[0], 30, 'n').ok();
    return ok;
  }));
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  expect_shard(*e.value(), ref_[0], 30, 30, 'n', "rewritten after the destroy");
  expect_shard(*e.value(), ref_[1], 0, 0, 0, "destroyed");
  expect_shard(*e.value(), other, 64, 64, 'x', "another container");
}

}  // namespace
}  // namespace edaos::objstore::vos

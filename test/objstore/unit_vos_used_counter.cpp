// The engine's persisted used-bytes counter (issue 17): a clean close saves it, the next open
// uses it instead of walking the target directories (a close with unsynced changes syncs them
// first, session 9); any other ending (kill -9) makes the next open recount. A file placed in a
// target directory behind the engine's back shows which of the two happened: a walk counts it, the
// counter does not.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMiB = size_t{1} << 20;

class UsedCounterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-used-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/engine-0000";
    ref_ = ShardRef{Uuid::generate(), ObjectId{0x100000000000ull, 7}, 0, 1};
  }
  void TearDown() override { fs::remove_all(root_); }
  std::unique_ptr<Engine> open() {
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 2;
    o.create = true;
    auto e = Engine::open(o);
    EXPECT_TRUE(e.ok()) << e.status().to_string();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  static Status write(Engine& e, const ShardRef& r, uint64_t off, size_t n) {
    std::string d(n, 'x');
    return e.array_write(r, off, d.data(), d.size(), CsumSpec{}, nullptr, off + n);
  }
  // A 1 MiB file with data blocks in target 0 that the engine did not write.
  void plant_foreign_file() {
    std::string p = dir_ + "/tgt-0/foreign.bin";
    int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    std::string d(kMiB, 'f');
    ASSERT_EQ(::write(fd, d.data(), d.size()), static_cast<ssize_t>(d.size()));
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
  }
  // Opens the engine, writes `n` bytes at 0, syncs, closes (a clean close); the used bytes.
  uint64_t write_synced_and_close(size_t n) {
    auto e = open();
    EXPECT_TRUE(e);
    if (!e) return 0;
    EXPECT_TRUE(write(*e, ref_, 0, n).ok());
    EXPECT_TRUE(e->sync().ok());
    return e->space().used;
  }
  // A child process opens the engine, writes a MiB at 1 MiB (and syncs when asked) and dies
  // without closing, like kill -9.
  void child_writes_and_dies(bool sync) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Engine::Options o;
      o.dir = dir_;
      o.ntargets = 2;
      auto e = Engine::open(o);
      if (!e.ok()) ::_exit(2);
      std::string d(kMiB, 'y');
      if (!e.value()
               ->array_write(ref_, kMiB, d.data(), d.size(), CsumSpec{}, nullptr, 2 * kMiB)
               .ok())
        ::_exit(3);
      if (sync && !e.value()->sync().ok()) ::_exit(4);
      ::_exit(0);  // no destructor: like kill -9
    }
    int ws = 0;
    ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
    ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  }
  std::string root_, dir_;
  ShardRef ref_;
};

TEST_F(UsedCounterTest, CleanCloseIsTrustedWithoutAWalk) {
  const uint64_t used = write_synced_and_close(2 * kMiB);
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  // The counter, not a walk: the foreign MiB is not in it (LMDB may have grown a page or two).
  EXPECT_LT(e->space().used, used + kMiB / 2);
  EXPECT_GE(e->space().used, used);
  // And it keeps counting from there.
  ASSERT_TRUE(write(*e, ref_, 2 * kMiB, kMiB).ok());
  EXPECT_GE(e->space().used, used + kMiB);
}

TEST_F(UsedCounterTest, KillAfterOpenMakesTheNextOpenRecount) {
  const uint64_t used = write_synced_and_close(kMiB);
  // A process opens the engine (using the clean counter), writes and syncs, and dies without
  // closing: the counter it found must not be trusted again.
  child_writes_and_dies(true);
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  // Recounted: the child's MiB and the foreign MiB are both there.
  EXPECT_GE(e->space().used, used + 2 * kMiB);
}

// Session 9: an engine closed by its owner with changes not synced (a server stopping with a
// pool whose connection was never closed) syncs them at its close and saves the counter: the
// next open needs no walk, and the counter holds the unsynced write. Before, such a close left
// the counter dirty and the next open walked every target directory (seconds for a pool of
// 100,000 files, seen after 4-rank jobs).
TEST_F(UsedCounterTest, CloseWithUnsyncedChangesSyncsAndSavesTheCounter) {
  uint64_t used = write_synced_and_close(kMiB);
  {
    auto e = open();
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->used_counter_trusted_at_open());
    ASSERT_TRUE(write(*e, ref_, kMiB, kMiB).ok());  // a new extent: a changed file
    ASSERT_TRUE(write(*e, ShardRef{ref_.cont, ObjectId{0x100000000000ull, 8}, 0, 1}, 0, kMiB / 2)
                    .ok());  // and a new file (a changed directory)
    used = e->space().used;
  }  // closed without sync
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->used_counter_trusted_at_open());
  // The counter, not a walk: the foreign MiB is not in it, the unsynced MiB and a half are.
  EXPECT_GE(e->space().used, used);
  EXPECT_LT(e->space().used, used + kMiB / 2);
}

// A close that cannot save the counter (here: the process dies, as with kill -9, with changes
// unsynced) still makes the next open recount.
TEST_F(UsedCounterTest, DeathWithUnsyncedChangesMakesTheNextOpenRecount) {
  const uint64_t used = write_synced_and_close(kMiB);
  child_writes_and_dies(false);
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->used_counter_trusted_at_open());
  EXPECT_GE(e->space().used, used + 2 * kMiB);
}

// A build that keeps no counter releases LOCK empty: the seal is gone, the counter (clean as it
// may be) is not trusted.
TEST_F(UsedCounterTest, ReleaseWithoutSealMakesTheNextOpenRecount) {
  const uint64_t used = write_synced_and_close(kMiB);
  ASSERT_EQ(::truncate((dir_ + "/LOCK").c_str(), 0), 0);
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_GE(e->space().used, used + kMiB);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Opening, reading and closing an engine whose counter was trusted writes nothing into
// meta.mdb (pool fingerprints stay the same across reads), and the counter stays trusted.
TEST_F(UsedCounterTest, ReadOnlyUseLeavesMetaUntouchedAndTheCounterTrusted) {
  const uint64_t used = write_synced_and_close(kMiB);
  const std::string meta = slurp(dir_ + "/meta.mdb");
  for (int i = 0; i < 2; ++i) {
    auto e = open();
    ASSERT_TRUE(e);
    std::string buf(kMiB, '\0');
    ASSERT_TRUE(e->array_read(ref_, 0, buf.size(), buf.data(), CsumSpec{}, nullptr).ok());
    EXPECT_EQ(buf, std::string(kMiB, 'x'));
  }
  EXPECT_TRUE(slurp(dir_ + "/meta.mdb") == meta) << "a read-only use rewrote meta.mdb";
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_LT(e->space().used, used + kMiB / 2) << "the counter was not trusted after reads";
}

// The first change marks the counter dirty in meta.mdb before it happens: a power loss can lose
// our name in LOCK (never synced) and leave the last seal there, and the mark must still force
// the recount. Simulated: a process writes and dies, then LOCK is given back the old seal.
TEST_F(UsedCounterTest, FirstChangeMarksTheCounterDirtyEvenIfLockKeepsTheSeal) {
  const uint64_t used = write_synced_and_close(kMiB);
  const std::string seal = slurp(dir_ + "/LOCK");
  ASSERT_EQ(seal.compare(0, 5, "seal "), 0) << seal;
  child_writes_and_dies(false);
  {
    std::ofstream f(dir_ + "/LOCK", std::ios::binary | std::ios::trunc);
    f << seal;
  }
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_GE(e->space().used, used + 2 * kMiB);
}

// LOCK is rewritten in place at a fixed size (no truncation to 0, which ext4 journals: half of
// a 20-engine pool connection): its size never changes across opens and closes, its text up to
// the first NUL is the owner or the seal, and the unpadded seal an older build left is trusted.
TEST_F(UsedCounterTest, LockIsRewrittenInPlaceAndReadsAsText) {
  const uint64_t used = write_synced_and_close(kMiB);
  const std::string lock = dir_ + "/LOCK";
  auto text = [&] {
    std::string s = slurp(lock);
    return s.substr(0, s.find('\0'));
  };
  const std::string seal = text();
  ASSERT_EQ(seal.compare(0, 5, "seal "), 0) << seal;
  const auto size = fs::file_size(lock);
  EXPECT_GE(size, seal.size());
  {
    auto e = open();
    ASSERT_TRUE(e);
    EXPECT_EQ(fs::file_size(lock), size);
    char host[256] = {};
    ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
    EXPECT_EQ(text(), std::string(host) + ":" + std::to_string(::getpid()) + "\n");
    // A second opener is told who holds it (the padding is not part of the message).
    Engine::Options o;
    o.dir = dir_;
    auto busy = Engine::open(o);
    ASSERT_EQ(busy.status().code(), EDAOS_BUSY);
    EXPECT_NE(busy.status().message().find(std::string(host) + ":"), std::string::npos);
    EXPECT_EQ(busy.status().message().find('\0'), std::string::npos);
  }
  EXPECT_EQ(fs::file_size(lock), size);
  EXPECT_EQ(text(), seal) << "unchanged since a trusted open: the same seal comes back";
  {  // The seal as an older build leaves it: unpadded.
    std::ofstream f(lock, std::ios::binary | std::ios::trunc);
    f << seal;
  }
  plant_foreign_file();
  auto e = open();
  ASSERT_TRUE(e);
  EXPECT_LT(e->space().used, used + kMiB / 2) << "an unpadded seal must be trusted";
}

}  // namespace
}  // namespace edaos::objstore::vos

// Local sizes without a transaction per shard (session 12, issue 17; vos/meta_reader.hpp): under
// one generation a reader reads an engine's whole `arrays` database once and then answers every
// shard of it from memory (cached_end), absent records included; the ends equal those of the
// reads without a generation (one record per shard) after each kind of change, and a change the
// generation announces is seen. The engine lives in a forked child, as in unit_vos_s11_meta.cpp.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"
#include "vos/meta_reader.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;
using testing::Steps;

class S12MetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("s12");
    ASSERT_FALSE(root_.empty());
    dir_ = root_ + "/engine-0000";
    const Uuid cont = Uuid::generate();
    // 12 objects x 3 shards: some written, some never, on targets 0 and 1.
    for (uint32_t o = 0; o < 12; ++o)
      for (uint32_t s = 0; s < 3; ++s)
        refs_.push_back(ShardRef{cont, ObjectId{0x100000000000ull, 100 + o}, s, o % 2});
    const pid_t pid = ::fork();
    if (pid == 0) {
      Engine::Options o;
      o.dir = dir_;
      o.ntargets = 2;
      o.create = true;
      ::_exit(Engine::open(o).ok() ? 0 : 1);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_, dir_;
  std::vector<ShardRef> refs_;
};

// Each step changes the engine in the child and bumps the generation; the reader in the test
// process then gives every shard's end three ways: logical_ends without a generation (the
// session-10 reads: the log and one record per shard), logical_ends with it, and cached_end.
// All three agree at every step: written in the log only, folded into `arrays` (so the whole
// database is read), raised again in the log over a folded record, lowered by a truncate,
// removed, re-created. Under an unchanged generation the second pass reads no record and no
// log; the whole database is read at most once per generation.
TEST_F(S12MetaTest, WholeArraysReadOncePerGenerationGiveTheEndsOfOneByOneReads) {
  auto* gen = static_cast<uint64_t*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(gen, MAP_FAILED);
  *gen = 0;
  Steps s;
  const std::vector<ShardRef> refs = refs_;
  const pid_t pid = ::fork();
  if (pid == 0) {
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 0;
    auto e = Engine::open(o);
    if (!e.ok()) ::_exit(2);
    Engine& eng = *e.value();
    auto write_to = [&](const ShardRef& r, uint64_t end) {
      std::string b(16, 'z');
      return eng.array_write(r, end - b.size(), b.data(), b.size(), CsumSpec{}, nullptr, end).ok();
    };
    auto step = [&](bool ok) {
      if (!ok) ::_exit(3);
      __atomic_fetch_add(gen, 1, __ATOMIC_SEQ_CST);
      Steps::send(s.to_parent[1]);
      if (!Steps::wait(s.to_child[0])) ::_exit(4);
    };
    bool ok = true;
    for (size_t i = 0; i < refs.size(); i += 2) ok = ok && write_to(refs[i], 1000 + 16 * i);
    step(ok);                                                          // 1: sizes in the log only
    step(eng.sync().ok());                                             // 2: folded into `arrays`
    step(write_to(refs[0], 9000) && write_to(refs[1], 77));            // 3: raised over a fold, new
    step(eng.array_truncate(refs[2], 10, 10).ok());                    // 4: lowered
    step(eng.obj_punch(refs[4]).ok() && eng.obj_punch(refs[5]).ok());  // 5: removed
    step(write_to(refs[4], 64) && eng.sync().ok());                    // 6: re-created, folded
    ::_exit(0);
  }
  auto r = MetaReader::open(dir_, false);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  MetaReader& rd = *r.value();
  for (int i = 0; i < 6; ++i) {
    SCOPED_TRACE(i + 1);
    ASSERT_TRUE(Steps::wait(s.to_parent[0]));
    std::vector<uint64_t> plain, with_gen, again;
    Status st = rd.logical_ends(refs_, &plain);
    ASSERT_TRUE(st.ok()) << st.to_string();
    const MetaReaderCounts c0 = meta_reader_counts_for_testing();
    st = rd.logical_ends(refs_, &with_gen, nullptr, gen);
    ASSERT_TRUE(st.ok()) << st.to_string();
    const MetaReaderCounts c1 = meta_reader_counts_for_testing();
    // A small database is read whole at the first miss of a generation, never record by record.
    EXPECT_EQ(c1.array_scans - c0.array_scans, 1u);
    EXPECT_EQ(c1.array_gets - c0.array_gets, 0u);
    EXPECT_EQ(with_gen, plain);
    const uint64_t logs = meta_reader_log_reads_for_testing();
    st = rd.logical_ends(refs_, &again, nullptr, gen);
    ASSERT_TRUE(st.ok()) << st.to_string();
    const MetaReaderCounts c2 = meta_reader_counts_for_testing();
    EXPECT_EQ(again, plain);
    EXPECT_EQ(c2.txns - c1.txns, 0u) << "an unchanged generation needs no transaction";
    EXPECT_EQ(meta_reader_log_reads_for_testing() - logs, 0u);
    for (size_t k = 0; k < refs_.size(); ++k) {
      uint64_t end = ~uint64_t{0};
      ASSERT_TRUE(rd.cached_end(refs_[k], gen, &end)) << k;
      EXPECT_EQ(end, plain[k]) << k;
    }
    if (i == 2) {
      EXPECT_EQ(plain[0], 9000u);
      EXPECT_EQ(plain[1], 77u);
    }
    if (i == 3) {
      EXPECT_EQ(plain[2], 10u);
    }
    if (i == 4) {
      EXPECT_EQ(plain[4], 0u);
    }
    if (i == 5) {
      EXPECT_EQ(plain[4], 64u);
    }
    Steps::send(s.to_child[1]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // A generation the reader has not read under settles nothing from memory.
  uint64_t end = 0;
  __atomic_fetch_add(gen, 1, __ATOMIC_SEQ_CST);
  EXPECT_FALSE(rd.cached_end(refs_[0], gen, &end));
  ::munmap(gen, 4096);
}

// The reader's shard file name (built without printf since session 12) is the engine's.
TEST_F(S12MetaTest, ShardFileNamesAreTheEnginesNames) {
  Engine::Options o;
  o.dir = dir_;
  o.ntargets = 0;
  std::vector<ShardRef> refs = refs_;
  refs.push_back(ShardRef{Uuid::generate(), ObjectId{0, 0}, 0, 0});
  refs.push_back(ShardRef{Uuid::generate(), ObjectId{~0ull, 0x123456789abcdefull}, 19, 1});
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto e = Engine::open(o);
    if (!e.ok()) ::_exit(2);
    for (const ShardRef& r : refs)
      if (e.value()->shard_data_path(r) != shard_data_path(dir_, r)) ::_exit(3);
    ::_exit(0);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

}  // namespace
}  // namespace edaos::objstore::vos

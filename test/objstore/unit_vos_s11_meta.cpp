// The metadata page (session 11, issue 17; vos/meta_reader.hpp): a server's per-engine
// size-change generations and per-slot write-lease counts, published in the pool directory and
// mapped by the readers of its node; and MetaReader::logical_ends reading sizes.log only when
// the engine's generation moved. The engine lives in a forked child (as a client process of the
// node reads it); the generation is a word of shared memory both processes see.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"
#include "vos/meta_reader.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class MetaPageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("s11");
    ASSERT_FALSE(root_.empty());
    dir_ = root_ + "/engine-0000";
    arr_ = ShardRef{Uuid::generate(), ObjectId{0x100000000000ull, 9}, 2, 0};
    const pid_t pid = ::fork();
    if (pid == 0) {
      Engine::Options o;
      o.dir = dir_;
      o.ntargets = 1;
      o.create = true;
      ::_exit(Engine::open(o).ok() ? 0 : 1);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_, dir_;
  ShardRef arr_;
};

using testing::Steps;

// With a generation the reader reads sizes.log (and the `arrays` records) once per value of it:
// unchanged, the sizes come from the records kept from the last read (no read); a change the
// engine made without a new generation is therefore not seen (why the server bumps it after
// every change and before its reply), and every bumped change is: raised in the log, lowered
// by a truncate (which folds and empties the log), removed, re-created; a fold alone changes no
// answer. Without a generation every call reads the log.
TEST_F(MetaPageTest, TheLogIsReadAgainOnlyWhenTheGenerationMoves) {
  auto* gen = static_cast<uint64_t*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(gen, MAP_FAILED);
  *gen = 0;
  Steps s;
  const pid_t pid = ::fork();
  if (pid == 0) {
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 0;
    auto e = Engine::open(o);
    if (!e.ok()) ::_exit(2);
    auto write_to = [&](uint64_t end) {
      std::string b(16, 'z');
      return e.value()->array_write(arr_, end - b.size(), b.data(), b.size(), CsumSpec{}, nullptr,
                                    end);
    };
    auto step = [&](bool ok, bool bump) {
      if (!ok) ::_exit(3);
      if (bump) __atomic_fetch_add(gen, 1, __ATOMIC_SEQ_CST);
      Steps::send(s.to_parent[1]);
      if (!Steps::wait(s.to_child[0])) ::_exit(4);
    };
    step(write_to(1000).ok(), true);                           // 1: the log only
    step(true, false);                                         // 2: nothing
    step(write_to(5000).ok(), false);                          // 3: raised, no new generation
    step(true, true);                                          // 4: the generation moves
    step(e.value()->array_truncate(arr_, 10, 10).ok(), true);  // 5: folded, then exact 10
    step(e.value()->obj_punch(arr_).ok(), true);               // 6: removed
    step(write_to(64).ok(), true);                             // 7: re-created
    step(e.value()->sync().ok(), false);                       // 8: folded, same generation
    ::_exit(0);
  }
  auto r = MetaReader::open(dir_, false);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  // Step 8: a fold moves the size from the log into `arrays` without a new generation; the
  // records kept (log and `arrays` as read under the generation) still give the same size.
  const uint64_t want_gen[] = {1000, 1000, 1000, 5000, 10, 0, 64, 64};
  const uint64_t want_plain[] = {1000, 1000, 5000, 5000, 10, 0, 64, 64};
  const uint64_t reads_gen[] = {1, 0, 0, 1, 1, 1, 1, 0};
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(i + 1);
    ASSERT_TRUE(Steps::wait(s.to_parent[0]));
    std::vector<uint64_t> ends;
    const uint64_t r0 = meta_reader_log_reads_for_testing();
    Status st = r.value()->logical_ends({arr_}, &ends, nullptr, gen);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(meta_reader_log_reads_for_testing() - r0, reads_gen[i]);
    EXPECT_EQ(ends[0], want_gen[i]);
    const uint64_t r1 = meta_reader_log_reads_for_testing();
    st = r.value()->logical_ends({arr_}, &ends);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(meta_reader_log_reads_for_testing() - r1, 1u);
    EXPECT_EQ(ends[0], want_plain[i]);
    Steps::send(s.to_child[1]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ::munmap(gen, 4096);
}

// The page a server publishes is found by the readers of its node, and shows its lease counts
// and generations as they change; a published name of another host, of another page (a dead
// server's: the token differs) or of something that is not a page (a FIFO, which must not
// block the open) is refused, so the reader probes and reads the logs as before.
TEST_F(MetaPageTest, PublishedPageIsFoundAndStaleNamesAreRefused) {
  auto w = MetaPageWriter::create();
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->publish(root_, 3, "hostA").ok());
  auto v = MetaPageView::open(root_, 3, "hostA");
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const uint32_t slot = meta_page_slot(Uuid::generate(), 5, arr_.cont, arr_.oid, 7);
  EXPECT_EQ(meta_page_slot(Uuid(), 5, arr_.cont, arr_.oid, 7),
            meta_page_slot(Uuid(), 5, arr_.cont, arr_.oid, 7));
  EXPECT_EQ(v.value()->leases(slot), 0u);
  w->add_lease(slot, 1);
  w->add_lease(slot, 1);
  EXPECT_EQ(v.value()->leases(slot), 2u);
  w->add_lease(slot, -1);
  EXPECT_EQ(v.value()->leases(slot), 1u);
  const uint64_t g0 = *v.value()->engine_gen(5);
  w->bump_engine(5);
  EXPECT_EQ(*v.value()->engine_gen(5), g0 + 1);
  EXPECT_EQ(*v.value()->engine_gen(6), 0u);
  EXPECT_EQ(MetaPageView::open(root_, 3, "hostB").status().code(), EDAOS_NOTSUP);
  EXPECT_FALSE(MetaPageView::open(root_, 4, "hostA").ok());  // nothing published
  // Another page's name with this page's line shape: the token differs.
  auto other = MetaPageWriter::create();
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->publish(root_, 4, "hostA").ok());
  std::string line;
  {
    std::ifstream in(root_ + "/metapage.4");
    std::getline(in, line);
  }
  const auto cut = line.rfind(' ');
  {
    std::ofstream out(root_ + "/metapage.4");
    out << line.substr(0, cut) << " 0123456789abcdef\n";
  }
  EXPECT_EQ(MetaPageView::open(root_, 4, "hostA").status().code(), EDAOS_FORMAT);
  // A stale name of a FIFO: refused at once (non-blocking open, not a regular file).
  const std::string fifo = root_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  {
    std::ofstream out(root_ + "/metapage.5");
    out << line.substr(0, line.find(' ')) << " hostA " << fifo << " 0 0\n";
  }
  EXPECT_FALSE(MetaPageView::open(root_, 5, "hostA").ok());
}

}  // namespace
}  // namespace edaos::objstore::vos

// Commit coalescing of pipelined direct writes (issue 15, client/README.md "Commit coalescing",
// session 10): the calls queued while the connection's completion thread waits for earlier
// commits go to the engines together, one kShardCommit per server rank, with one entry per
// shard. These tests pin the message count (IOR-hard pieces: 8 calls, 2 messages) and the redo
// of every call of a coalesced entry that comes back stale.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "direct_pair.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

constexpr uint64_t kPiece = 47008;  // IOR-hard's transfer size

// The completion thread held at "direct:commit-answered" (replies of its first message in, the
// locks of those calls still held) until the test releases it, at most 20 s.
std::atomic<bool> g_armed{false}, g_release{false};
std::atomic<int> g_held{0};
void hold_completion(const char* point) {
  if (std::strcmp(point, "direct:commit-answered") != 0 || !g_armed.exchange(false)) return;
  g_held = 1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!g_release.load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  g_held = 2;
}
void arm_hold() {
  g_release = false;
  g_held = 0;
  g_armed = true;
  set_direct_hook_for_testing(hold_completion);
}
// Waits until the completion thread is in the hook (the first call's commit answered).
bool wait_held() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (g_held.load() != 1 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return g_held.load() == 1;
}

class S10HardTest : public DirectPairTest {
 protected:
  // These tests open their connections with a window of 8 (the default is 1: every call waits
  // for its commit, and nothing is coalesced).
  void SetUp() override {
    const bool named = std::getenv("EDAOS_DIRECT_PIPELINE") != nullptr;
    if (!named) setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
    open_pools("s10hard", 4, 2);
    if (!named) unsetenv("EDAOS_DIRECT_PIPELINE");
  }
  void TearDown() override {
    g_release = true;
    DirectPairTest::TearDown();
  }
  bool window_on() const {
    const char* v = std::getenv("EDAOS_DIRECT_PIPELINE");
    return !v || std::atoi(v) >= 8;
  }
  // Every byte of [off, off + len) of o through both connections is pattern `seed`.
  void expect_bytes(ObjectId o, uint64_t off, uint64_t len, uint64_t seed) {
    for (auto* c : {dc_.get(), rc_.get()}) {
      auto a = c->open_array(o);
      ASSERT_TRUE(a.ok());
      std::vector<uint8_t> got(len);
      EDAOS_ASSERT_OK(a.value()->read(off, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, off, seed), -1)
          << (c == dc_.get() ? "direct" : "remote") << " at " << off;
    }
  }
};

// IOR-hard pieces (47008 bytes, 32 KiB checksum units) of one rank: the first call's commit is
// held answered in the completion thread while the rank issues 7 more calls (the window is 8):
// those 7 go in ONE kShardCommit (one entry for the shard), so 8 calls cost 2 commit messages
// (without coalescing: 8, one per call). Every byte reads back through both paths.
TEST_F(S10HardTest, CommitsOfCallsQueuedMeanwhileGoInOneMessage) {
  make_cont("coal", "cksum:crc32,cksum_size:32768");
  std::vector<ObjectId> oids;
  for (int r = 0; r < nranks(); ++r) oids.push_back(new_oid("S1"));
  const ObjectId o = oids[static_cast<size_t>(rank())];
  auto a = dc_->open_array(o);
  ASSERT_TRUE(a.ok());
  std::vector<uint8_t> head(kPiece);
  fill(head, 0, 70);
  const uint64_t w0 = direct_stats().writes;
  EDAOS_ASSERT_OK(a.value()->write(0, head.data(), head.size()));  // the lease
  EDAOS_ASSERT_OK(dc_->sync());
  const bool direct = direct_stats().writes > w0;
  const uint64_t c0 = direct_stats().commits;
  arm_hold();
  std::vector<uint8_t> buf(kPiece);
  bool held = true;
  for (uint64_t i = 1; i <= 8; ++i) {
    const uint64_t at = 2 * i * kPiece;  // this rank's pieces of IOR-hard with 2 ranks
    fill(buf, at, 70);
    EDAOS_ASSERT_OK(a.value()->write(at, buf.data(), buf.size()));
    if (i == 1 && direct && window_on()) held = wait_held();
  }
  g_release = true;
  EDAOS_ASSERT_OK(dc_->sync());  // drains: every commit answered
  set_direct_hook_for_testing(nullptr);
  const uint64_t msgs = direct_stats().commits - c0;
  std::printf("rank %d: 8 pipelined IOR-hard calls, %llu kShardCommit messages\n", rank(),
              static_cast<unsigned long long>(msgs));
  if (direct && window_on()) {
    EXPECT_TRUE(held) << "the first call's commit never reached the completion thread";
    EXPECT_EQ(msgs, 2u) << "the 7 calls queued behind the first one go in one message";
  }
  expect_bytes(o, 0, kPiece, 70);
  for (uint64_t i = 1; i <= 8; ++i) expect_bytes(o, 2 * i * kPiece, kPiece, 70);
  MPI_Barrier(MPI_COMM_WORLD);
}

// A write through the engine (another connection) recalls the lease while three calls are
// queued behind a held commit: their coalesced entry comes back stale once, and every one of
// the three is redone from its own copy (the caller overwrote its buffers after each call),
// after the recalling write; the recalling write's bytes and the first call's stay.
TEST_F(S10HardTest, AStaleCoalescedEntryRedoesEveryCallFromItsCopy) {
  make_cont("coalstale", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  if (rank() == 0) {
    auto a = dc_->open_array(o);
    auto b = rc_->open_array(o);
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<uint8_t> x(100000), y(60000);
    fill(x, 0, 81);
    const uint64_t w0 = direct_stats().writes;
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));  // lease taken
    EDAOS_ASSERT_OK(dc_->sync());
    const bool direct = direct_stats().writes > w0 && window_on();
    const DirectStats before = direct_stats();
    arm_hold();
    std::vector<uint8_t> buf(kPiece);
    const uint64_t at[4] = {200000, 300000, 400000, 500000};
    fill(buf, at[0], 82);
    EDAOS_ASSERT_OK(a.value()->write(at[0], buf.data(), buf.size()));
    const bool held = direct ? wait_held() : false;
    for (int i = 1; i < 4; ++i) {
      fill(buf, at[i], 82);
      EDAOS_ASSERT_OK(a.value()->write(at[i], buf.data(), buf.size()));
      std::memset(buf.data(), 0xEE, buf.size());  // the caller reuses its buffer at once
    }
    fill(y, 20000, 83);
    EDAOS_ASSERT_OK(b.value()->write(20000, y.data(), y.size()));  // recalls the lease
    g_release = true;
    EDAOS_ASSERT_OK(dc_->sync());
    set_direct_hook_for_testing(nullptr);
    if (direct) {
      EXPECT_TRUE(held);
      EXPECT_EQ(direct_stats().stale - before.stale, 3u) << "the three queued calls, redone";
    }
    for (Array* arr : {a.value().get(), b.value().get()}) {
      std::vector<uint8_t> got(20000), mid(60000), tail(20000), p(kPiece);
      EDAOS_ASSERT_OK(arr->read(0, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, 0, 81), -1);
      EDAOS_ASSERT_OK(arr->read(20000, mid.data(), mid.size()));
      EXPECT_EQ(first_mismatch(mid, 20000, 83), -1) << "the recalling write";
      EDAOS_ASSERT_OK(arr->read(80000, tail.data(), tail.size()));
      EXPECT_EQ(first_mismatch(tail, 80000, 81), -1);
      for (uint64_t off : at) {
        EDAOS_ASSERT_OK(arr->read(off, p.data(), p.size()));
        EXPECT_EQ(first_mismatch(p, off, 82), -1) << "piece at " << off;
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A write to an object whose lease's descriptors were closed under the connection's budget (a
// quarter of RLIMIT_NOFILE, client/README.md "Leases") reopens them: before session 10 the write
// failed (the range lock on a closed descriptor: EBADF). Run by the last rank when it serves no
// engine (its descriptors are the client's alone), on one node.
TEST_F(S10HardTest, AWriterReopensDescriptorsClosedUnderTheBudget) {
  make_cont("fds10", "cksum:crc32");
  LowFdLimit fds(200);
  const rlim_t lim = fds.lim;
  const bool run = fds.run;
  auto p = connect("1");  // its budget is read from the lowered limit
  ASSERT_TRUE(p);
  auto opened = p->cont_open("fds10");
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<Container> c = opened.value();
  auto work = [&] {
    const DirectStats d0 = direct_stats();
    const size_t n = static_cast<size_t>(lim) / 2;  // 2 descriptors per lease: 4x the budget
    std::vector<ObjectId> objs;
    std::vector<uint8_t> buf(4096);
    for (size_t i = 0; i < n; ++i) {
      auto o = c->alloc_oid(ObjClass::parse("S1").value(), ObjType::kArray);
      ASSERT_TRUE(o.ok()) << o.status().to_string();
      auto a = c->open_array(o.value());
      ASSERT_TRUE(a.ok());
      fill(buf, 0, o.value().lo);
      EDAOS_ASSERT_OK(a.value()->write(0, buf.data(), buf.size()));
      objs.push_back(o.value());
    }
    ASSERT_GT(direct_stats().fds_closed - d0.fds_closed, 0u) << "the budget closed some";
    // The first objects' leases are the least recently used: closed. Written again, directly.
    const uint64_t w0 = direct_stats().writes;
    for (size_t i = 0; i < 8; ++i) {
      auto a = c->open_array(objs[i]);
      ASSERT_TRUE(a.ok());
      fill(buf, 0, objs[i].lo + 1);
      const Status w = a.value()->write(0, buf.data(), buf.size());
      ASSERT_TRUE(w.ok()) << "object " << i << " written again: " << w.to_string();
      std::vector<uint8_t> got(buf.size());
      EDAOS_ASSERT_OK(a.value()->read(0, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, 0, objs[i].lo + 1), -1) << "object " << i;
    }
    EXPECT_GE(direct_stats().writes - w0, 8u) << "written again directly";
  };
  if (run) work();  // failures return here, so every rank still disconnects
  c.reset();
  EDAOS_EXPECT_OK(p->disconnect());
  fds.restore();
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

// Commit pipelining of direct writes (issue 15, client/README.md "Commit pipelining", session 9):
// a call of direct writes returns once its kShardCommit messages are sent; the connection's
// completion thread collects the replies, then releases the call's unit locks. These tests check
// that IOR-hard pieces wait for no commit, that every byte of interleaved pieces reads back, that
// a reader through the engine never fails while commits are in flight, that a commit recalled
// after its call returned is redone from the call's copy of the bytes, and that an error met
// after the call returned is the next sync's error.
#include <sys/resource.h>
#include <unistd.h>

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

class S9PipeTest : public DirectPairTest {
 protected:
  // The window is off by default (EDAOS_DIRECT_PIPELINE=1): these tests open their
  // connections with a window of 8 unless the environment names one.
  void SetUp() override {
    const bool named = std::getenv("EDAOS_DIRECT_PIPELINE") != nullptr;
    if (!named) setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
    open_pools("s9pipe", 4, 2);
    if (!named) unsetenv("EDAOS_DIRECT_PIPELINE");
  }

  // A connection like direct_ with $EDAOS_DIRECT_PIPELINE = `depth` (read when the connection's
  // shard path is made), with the container `label` open through it.
  std::shared_ptr<Container> cont_with_depth(const char* depth, const std::string& label,
                                             std::shared_ptr<Pool>* pool) {
    const char* old = std::getenv("EDAOS_DIRECT_PIPELINE");
    const std::string keep = old ? old : "";
    setenv("EDAOS_DIRECT_PIPELINE", depth, 1);
    *pool = connect("1");
    std::shared_ptr<Container> c;
    if (*pool) {
      auto r = (*pool)->cont_open(label);
      EXPECT_TRUE(r.ok());
      if (r.ok()) c = r.value();
      // The shard path is made at the first use: make it now, under this depth.
      if (c) EDAOS_EXPECT_OK(c->sync());
    }
    if (old)
      setenv("EDAOS_DIRECT_PIPELINE", keep.c_str(), 1);
    else
      unsetenv("EDAOS_DIRECT_PIPELINE");
    return c;
  }

  struct Cost {
    uint64_t waits = 0, switches = 0, direct_writes = 0;
  };
  // Rank r writes pieces r, r + n, r + 2n, ... (`per` of them, IOR-hard's interleaving) of
  // object o through c, all from one buffer refilled before each call (as IOR does); the first
  // piece (which takes the lease) is not counted.
  Cost write_pieces(Container& c, ObjectId o, uint64_t per, uint64_t seed) {
    Cost cost;
    auto a = c.open_array(o);
    EXPECT_TRUE(a.ok());
    if (!a.ok()) return cost;
    const uint64_t n = static_cast<uint64_t>(nranks()), me = static_cast<uint64_t>(rank());
    std::vector<uint8_t> buf(kPiece);
    auto piece = [&](uint64_t i) {
      const uint64_t at = (i * n + me) * kPiece;
      fill(buf, at, seed);
      return a.value()->write(at, buf.data(), buf.size());
    };
    EDAOS_EXPECT_OK(piece(0));
    const uint64_t w0 = direct_stats().writes, rt0 = rpc_round_trips_for_testing();
    struct rusage r0 {
    }, r1{};
    getrusage(RUSAGE_THREAD, &r0);
    for (uint64_t i = 1; i < per; ++i) EDAOS_EXPECT_OK(piece(i));
    getrusage(RUSAGE_THREAD, &r1);
    cost.waits = rpc_round_trips_for_testing() - rt0;
    cost.direct_writes = direct_stats().writes - w0;
    cost.switches =
        static_cast<uint64_t>((r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw));
    return cost;
  }

  // Every byte of [0, len) of o through both connections is pattern `seed`.
  void expect_bytes(ObjectId o, uint64_t len, uint64_t seed) {
    for (auto* c : {dc_.get(), rc_.get()}) {
      auto a = c->open_array(o);
      ASSERT_TRUE(a.ok());
      std::vector<uint8_t> got(len);
      EDAOS_ASSERT_OK(a.value()->read(0, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, 0, seed), -1) << (c == dc_.get() ? "direct" : "remote");
    }
  }
};

// IOR-hard S1 with 32 KiB checksum units (each piece shares a unit with the next rank's): with
// the window on, a piece waits for no commit (0 round trips waited in the writer's thread
// after the lease); with EDAOS_DIRECT_PIPELINE=1 each waits for its commit (one round trip per
// piece). Every byte of the interleaved pieces reads back through both paths after a sync.
TEST_F(S9PipeTest, HardWritesWaitForNoCommitAndEveryByteReadsBack) {
  make_cont("hard", "cksum:crc32,cksum_size:32768");
  const uint64_t per = 64;
  const uint64_t len = per * static_cast<uint64_t>(nranks()) * kPiece;
  ObjectId o = new_oid("S1"), o1 = new_oid("S1");

  const Cost piped = write_pieces(*dc_, o, per, 31);
  EDAOS_ASSERT_OK(dc_->sync());
  MPI_Barrier(MPI_COMM_WORLD);
  expect_bytes(o, len, 31);

  std::shared_ptr<Pool> p1;
  std::shared_ptr<Container> c1 = cont_with_depth("1", "hard", &p1);
  ASSERT_TRUE(c1);
  const Cost waited = write_pieces(*c1, o1, per, 32);
  EDAOS_ASSERT_OK(c1->sync());
  MPI_Barrier(MPI_COMM_WORLD);
  expect_bytes(o1, len, 32);
  c1.reset();
  EDAOS_EXPECT_OK(p1->disconnect());

  std::printf(
      "rank %d: %llu pieces of %llu B: pipelined %llu round trips waited, %llu context "
      "switches; EDAOS_DIRECT_PIPELINE=1: %llu round trips, %llu context switches\n",
      rank(), static_cast<unsigned long long>(per - 1), static_cast<unsigned long long>(kPiece),
      static_cast<unsigned long long>(piped.waits), static_cast<unsigned long long>(piped.switches),
      static_cast<unsigned long long>(waited.waits),
      static_cast<unsigned long long>(waited.switches));
  const bool mixed = two_nodes();  // collective: every rank asks
  if (piped.direct_writes < per - 1 || mixed) {
    // Two nodes: the other node's ranks write the same shard through the engine, recalling
    // this rank's lease again and again (a lease and a redo each time): bytes checked only.
    std::printf("rank %d: not every writer of the object is direct: bytes checked only\n", rank());
    return;
  }
  EXPECT_LE(piped.waits, 2u) << "a pipelined piece waits for no commit";
  EXPECT_GE(waited.waits, per - 1) << "without the window each piece waits for its commit";
}

// Rank 1 writes pieces of an object whose old bytes are committed, pipelined; the last call is
// held between its data and its commit (direct:before-commit) for a second while rank 0 reads
// the object through the engine: no error, every unit of the held call old or new, every other
// piece new (its call returned before the hold: committed, or in flight with its units locked, so
// the reader waits). Then, with no sync, a barrier and a read of every byte: new everywhere.
MPI_Comm g_side = MPI_COMM_NULL;
int g_calls = 0;
int g_hold_at = 0;
void hold_last(const char* point) {
  if (std::strcmp(point, "direct:before-commit") != 0 || ++g_calls != g_hold_at) return;
  int x = 0;
  MPI_Send(&x, 1, MPI_INT, 0, 1, g_side);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
}

TEST_F(S9PipeTest, ReaderThroughTheEngineNeverFailsWhileCommitsAreInFlight) {
  if (nranks() < 2) GTEST_SKIP() << "needs a writer and a reader rank";
  make_cont("race", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  const uint64_t pieces = 24, len = pieces * kPiece;
  if (rank() == 1) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> b(len);
    fill(b, 0, 41);
    EDAOS_ASSERT_OK(a.value()->write(0, b.data(), b.size()));
    EDAOS_ASSERT_OK(dc_->sync());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_side);
  if (rank() == 1) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> buf(kPiece);
    g_calls = 0;
    g_hold_at = static_cast<int>(pieces);
    set_direct_hook_for_testing(hold_last);
    for (uint64_t i = 0; i < pieces; ++i) {
      fill(buf, i * kPiece, 42);
      EDAOS_EXPECT_OK(a.value()->write(i * kPiece, buf.data(), buf.size()));
    }
    set_direct_hook_for_testing(nullptr);
    if (g_calls < g_hold_at) {  // not direct (two nodes): release the reader
      int x = 0;
      MPI_Send(&x, 1, MPI_INT, 0, 2, g_side);
    }
  } else if (rank() == 0) {
    auto r = rc_->open_array(o);
    ASSERT_TRUE(r.ok());
    int x = 0;
    MPI_Status ms;
    MPI_Recv(&x, 1, MPI_INT, 1, MPI_ANY_TAG, g_side, &ms);
    if (ms.MPI_TAG == 1) {
      std::vector<uint8_t> got(len);
      EDAOS_EXPECT_OK(r.value()->read(0, got.data(), got.size()));
      std::vector<uint8_t> old_b(len), new_b(len);
      fill(old_b, 0, 41);
      fill(new_b, 0, 42);
      const uint64_t held_from = (pieces - 1) * kPiece / 32768 * 32768;
      for (uint64_t u = 0; u * 32768 < len; ++u) {
        const uint64_t at = u * 32768, n = std::min<uint64_t>(32768, len - at);
        const bool is_new = std::memcmp(got.data() + at, new_b.data() + at, n) == 0;
        const bool is_old = std::memcmp(got.data() + at, old_b.data() + at, n) == 0;
        if (at + n <= held_from)
          EXPECT_TRUE(is_new) << "unit " << u << " of a call that returned before the hold";
        else
          EXPECT_TRUE(is_new || is_old) << "unit " << u << " of the held call is mixed";
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);  // no sync: the reader waits for what is still in flight
  if (rank() == 0) {
    auto r = rc_->open_array(o);
    ASSERT_TRUE(r.ok());
    std::vector<uint8_t> got(len);
    EDAOS_EXPECT_OK(r.value()->read(0, got.data(), got.size()));
    EXPECT_EQ(first_mismatch(got, 0, 42), -1);
  }
  MPI_Comm_free(&g_side);
  MPI_Barrier(MPI_COMM_WORLD);
}

// A write through the engine (another connection) between a pipelined call's data and its commit
// recalls the lease: the commit comes back stale after the call returned, and the caller has
// overwritten its buffer since. The completion thread redoes the write from the call's copy,
// after the recalling write (last writer wins), before its locks go.
Array* g_remote = nullptr;
std::vector<uint8_t>* g_remote_buf = nullptr;
int g_recalls = 0;
void recall_in_hook(const char* point) {
  if (std::strcmp(point, "direct:before-commit") != 0 || g_recalls++ > 0) return;
  Status st = g_remote->write(20000, g_remote_buf->data(), g_remote_buf->size());
  if (!st.ok()) std::fprintf(stderr, "remote write in hook: %s\n", st.to_string().c_str());
}

TEST_F(S9PipeTest, RecallAfterTheCallReturnedRedoesFromTheCopy) {
  make_cont("recall", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  if (rank() == 0) {
    auto a = dc_->open_array(o);
    auto b = rc_->open_array(o);
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<uint8_t> x(100000), y(60000), z(100000);
    fill(x, 0, 51);
    const uint64_t w0 = direct_stats().writes;
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));  // lease taken
    EDAOS_ASSERT_OK(dc_->sync());
    const DirectStats before = direct_stats();
    const bool direct = before.writes > w0;
    fill(y, 20000, 52);
    fill(z, 0, 53);
    g_remote = b.value().get();
    g_remote_buf = &y;
    g_recalls = 0;
    set_direct_hook_for_testing(recall_in_hook);
    EDAOS_ASSERT_OK(a.value()->write(0, z.data(), z.size()));
    set_direct_hook_for_testing(nullptr);
    std::memset(z.data(), 0xEE, z.size());  // the caller reuses its buffer at once
    EDAOS_ASSERT_OK(dc_->sync());
    g_remote = nullptr;
    if (direct) {
      EXPECT_EQ(g_recalls, 1);
      EXPECT_GT(direct_stats().stale, before.stale) << "the commit was recalled";
    }
    for (Array* arr : {a.value().get(), b.value().get()}) {
      std::vector<uint8_t> got(100000);
      EDAOS_ASSERT_OK(arr->read(0, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, 0, 53), -1) << (arr == a.value().get() ? "direct" : "remote");
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// An error a pipelined call meets after it returned (its commit failed: injected with
// EDAOS_TEST_FAULT=direct-late-error, the engine's answer to the call's first commit taken as
// EDAOS_IO) is kept and returned by the next sync of the connection, once; the next sync after it
// succeeds.
TEST_F(S9PipeTest, AnErrorAfterTheCallReturnedFailsTheNextSync) {
  make_cont("late", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  if (rank() == 0) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> x(kPiece);
    fill(x, 0, 61);
    const uint64_t w0 = direct_stats().writes;
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));
    EDAOS_ASSERT_OK(dc_->sync());  // nothing in flight now: the variable is read by no thread
    const bool direct = direct_stats().writes > w0;
    setenv("EDAOS_TEST_FAULT", "direct-late-error", 1);
    Status w = a.value()->write(kPiece, x.data(), x.size());
    Status st = dc_->sync();
    unsetenv("EDAOS_TEST_FAULT");
    EXPECT_TRUE(w.ok()) << "the call returned before its commit was answered: " << w.to_string();
    if (direct) {
      EXPECT_EQ(st.code(), EDAOS_IO) << st.to_string();
      EXPECT_NE(st.message().find("direct-late-error"), std::string::npos) << st.to_string();
    }
    Status again = dc_->sync();
    EXPECT_TRUE(again.ok()) << "reported once: " << again.to_string();
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

// The direct path, session 5 (issue 15; objstore/src/client/README.md "Size bound" and
// "Direct path"): direct reads carry a size bound that is never stale, and the servers do not
// keep leases whose holder will never come back.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "direct_pair.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class DirectBoundTest : public DirectPairTest {
 protected:
  // EC_4P2G1 needs six engines.
  void SetUp() override { open_pools("dbound", 6, 1); }
};

// Rank 0 reads through the direct connection while rank 1 (through the engine) extends,
// truncates and extends the object again. The bound a read reports is never above the size
// the object had when it was read (a stale bound would turn bytes past a truncation into data
// or a short read into a long one), and a read past an old end returns the new bytes. With no
// change in between, a direct read reports the whole size (so MPI-IO asks no size).
TEST_F(DirectBoundTest, ReadBoundIsNeverStale) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank";
  make_cont("bnd", "cksum:crc32,cksum_size:32768");
  for (const char* cls : {"S1", "SX", "RP_2G1", "EC_2P1G1"}) {
    SCOPED_TRACE(cls);
    ObjectId o = new_oid(cls);
    auto a = dc_->open_array(o);
    auto b = rc_->open_array(o);
    ASSERT_TRUE(a.ok() && b.ok());
    const uint64_t e1 = 300000, e2 = 700000, t = 100000;
    std::vector<uint8_t> buf(e2);
    fill(buf, 0, o.lo);
    if (rank() == 0) EDAOS_ASSERT_OK(a.value()->write(0, buf.data(), e1));
    MPI_Barrier(MPI_COMM_WORLD);
    std::vector<uint8_t> got(e2);
    auto hint = [&](uint64_t len) {
      IoVec v{got.data(), len};
      auto h = a.value()->read_size_hint(0, &v, 1);
      EXPECT_TRUE(h.ok()) << h.status().to_string();
      return h.ok() ? h.value() : 0;
    };
    const uint64_t d0 = direct_stats().reads;
    if (rank() == 0) {
      const uint64_t h1 = hint(e1);
      EXPECT_LE(h1, e1);
      EXPECT_EQ(first_mismatch(std::vector<uint8_t>(got.begin(), got.begin() + e1), 0, o.lo), -1);
      if (direct_stats().reads != d0 && std::string(cls) == "S1") {
        // All read directly from the one shard: the bound is the whole size.
        EXPECT_EQ(h1, e1);
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    // Extended through the engine: the old bound is still a lower bound; the new bytes read.
    if (rank() == 1) EDAOS_ASSERT_OK(b.value()->write(e1, buf.data() + e1, e2 - e1));
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0) {
      const uint64_t h2 = hint(e2);
      EXPECT_LE(h2, e2);
      EXPECT_EQ(first_mismatch(got, 0, o.lo), -1) << "the bytes past the old end";
    }
    MPI_Barrier(MPI_COMM_WORLD);
    // Truncated through the engine: no bound above the new size, ever.
    if (rank() == 1) EDAOS_ASSERT_OK(b.value()->set_size(t));
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0) {
      const uint64_t h3 = hint(e2);
      EXPECT_LE(h3, t) << "a bound from before the truncate";
      EXPECT_EQ(first_mismatch(std::vector<uint8_t>(got.begin(), got.begin() + t), 0, o.lo), -1);
      for (uint64_t i = t; i < e2; ++i)
        if (got[i] != 0) {
          ADD_FAILURE() << "byte " << i << " past the truncation is " << int(got[i]);
          break;
        }
      // Renewed: the next read knows the new end again (S1: one shard holds it).
      const uint64_t h4 = hint(t);
      if (direct_stats().reads != d0 && std::string(cls) == "S1") {
        EXPECT_EQ(h4, t);
      }
      EXPECT_LE(h4, t);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    // Extended again by rank 1 through the engine: a read past the old end sees the bytes.
    if (rank() == 1) EDAOS_ASSERT_OK(b.value()->write(t, buf.data() + t, e2 - t));
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank() == 0) {
      const uint64_t h5 = hint(e2);
      EXPECT_LE(h5, e2);
      EXPECT_EQ(first_mismatch(got, 0, o.lo), -1);
      auto sz = a.value()->get_size();
      ASSERT_TRUE(sz.ok());
      EXPECT_EQ(sz.value(), e2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// EC cells on the direct path (session 5): full stripes are written directly (data and parity
// cells, one commit per server rank), partial stripes through the engines under the stripe
// lock, data cells read directly; everything reads back exactly through both paths, with and
// without container checksums (EC cells are always recorded). Also run with an engine drilled
// down (test_objstore_direct_ec_down): its cells are still written and rebuilt on read.
TEST_F(DirectBoundTest, EcCellsGoDirect) {
  const bool down = std::getenv("EDAOS_ENGINES_DOWN") != nullptr;
  int n = 0;
  for (const char* props : {"ec_cell_sz:8192,chunk_size:65536,cksum:crc32,srv_cksum:on",
                            "ec_cell_sz:8192,chunk_size:65536"}) {
    SCOPED_TRACE(props);
    make_cont("ec" + std::to_string(n++), props);
    for (const char* cls : {"EC_2P1G1", "EC_4P2G1"}) {
      SCOPED_TRACE(cls);
      ObjectId o = new_oid(cls);
      auto a = dc_->open_array(o);
      ASSERT_TRUE(a.ok());
      // Regions that start and end inside stripes: partial stripes at both ends, full ones
      // (several chunks) in between.
      const uint64_t region = 3 * 65536 + 3 * 8192 + 100;
      const uint64_t total = region * static_cast<uint64_t>(nranks());
      std::vector<uint8_t> buf(total);
      fill(buf, 0, o.lo);
      const DirectStats d0 = direct_stats();
      // One rank at a time: concurrent partial-stripe writes of the neighbours (through the
      // engines) would recall the direct writers' leases, and a recalled write is redone
      // through the engine (correct, but then nothing here would count as direct).
      const uint64_t off = region * static_cast<uint64_t>(rank());
      for (int w = 0; w < nranks(); ++w) {
        if (w == rank()) EDAOS_EXPECT_OK(a.value()->write(off, buf.data() + off, region));
        MPI_Barrier(MPI_COMM_WORLD);
      }
      for (auto* c : {dc_.get(), rc_.get()}) {
        auto r = c->open_array(o);
        ASSERT_TRUE(r.ok());
        std::vector<uint8_t> got(total);
        EDAOS_ASSERT_OK(r.value()->read(0, got.data(), got.size()));
        EXPECT_EQ(first_mismatch(got, 0, o.lo), -1) << (c == dc_.get() ? "direct" : "engine");
        auto sz = r.value()->get_size();
        ASSERT_TRUE(sz.ok());
        EXPECT_EQ(sz.value(), total);
      }
      const DirectStats d1 = direct_stats();
      EXPECT_GT(all_ranks_sum(d1.writes - d0.writes), 0u) << "EC cells written directly";
      EXPECT_GT(all_ranks_sum(d1.reads - d0.reads), 0u) << "EC data cells read directly";
      MPI_Barrier(MPI_COMM_WORLD);
      // Rank 0 overwrites the middle of every region: through the engines where the stripes
      // are partial (recalling the direct writers' leases), directly where they are full.
      if (rank() == 0) {
        std::vector<uint8_t> mid(total);
        fill(mid, 0, o.lo + 1);
        for (int r = 0; r < nranks(); ++r) {
          const uint64_t b = region * static_cast<uint64_t>(r) + 5000, len = region - 20000;
          EDAOS_ASSERT_OK(a.value()->write(b, mid.data() + b, len));
          std::memcpy(buf.data() + b, mid.data() + b, len);
        }
        // Session 9: the full stripes' commits are answered after the calls return; the other
        // ranks' direct reads below would find their cells uncommitted and ask the engine
        // (right bytes, counted as fallbacks). MPI-IO's rule: sync, then the barrier.
        EDAOS_ASSERT_OK(dc_->sync());
      }
      MPI_Bcast(buf.data(), static_cast<int>(total), MPI_BYTE, 0, MPI_COMM_WORLD);
      for (auto* c : {dc_.get(), rc_.get()}) {
        auto r = c->open_array(o);
        std::vector<uint8_t> got(total);
        EDAOS_ASSERT_OK(r.value()->read(0, got.data(), got.size()));
        EXPECT_TRUE(got == buf) << (c == dc_.get() ? "direct" : "engine");
      }
      if (!down && !two_nodes()) {
        // One node, all engines up: no direct read had to fall back.
        EXPECT_EQ(direct_stats().read_fallbacks - d0.read_fallbacks, 0u);
      }
      MPI_Barrier(MPI_COMM_WORLD);
    }
  }
}

// A recalled write lease is forgotten by the server at the recall (its holder's next commit is
// answered stale either way), so a holder that never comes back leaves nothing behind.
TEST_F(DirectBoundTest, RecallFreesTheLease) {
  make_cont("rcl", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  auto a = dc_->open_array(o);
  auto b = rc_->open_array(o);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<uint8_t> buf(100000);
  fill(buf, 0, 31);
  const uint64_t w0 = direct_stats().writes;
  const uint64_t l0 = all_ranks_sum(server_leases_for_testing());
  if (rank() == 0) EDAOS_ASSERT_OK(a.value()->write(0, buf.data(), buf.size()));
  const bool direct = all_ranks_sum(direct_stats().writes - w0) > 0;
  const uint64_t l1 = all_ranks_sum(server_leases_for_testing());
  if (direct) {
    EXPECT_EQ(l1, l0 + 1) << "rank 0's write lease";
  }
  if (rank() == 0) EDAOS_ASSERT_OK(b.value()->write(1000, buf.data(), 5000));  // recalls it
  const uint64_t l2 = all_ranks_sum(server_leases_for_testing());
  EXPECT_EQ(l2, l0) << "the recalled lease is still held";
  // The holder's next write is redone through the engine, then takes a new lease.
  if (rank() == 0) {
    EDAOS_ASSERT_OK(a.value()->write(0, buf.data(), buf.size()));
    std::vector<uint8_t> got(buf.size());
    EDAOS_ASSERT_OK(b.value()->read(0, got.data(), got.size()));
    EXPECT_EQ(first_mismatch(got, 0, 31), -1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// With EDAOS_TEST_FAULT=direct-no-release (its own ctest entry) the holders never give their
// leases back at disconnect; the servers drop them when the pool closes.
TEST_F(DirectBoundTest, PoolCloseEndsLeases) {
  const char* f = std::getenv("EDAOS_TEST_FAULT");
  const bool no_release = f && std::strcmp(f, "direct-no-release") == 0;
  make_cont("pcl", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("SX");
  const uint64_t w0 = direct_stats().writes;
  {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> buf(1 << 20);
    fill(buf, 0, 41);
    EDAOS_ASSERT_OK(a.value()->write(static_cast<uint64_t>(rank()) << 20, buf.data(), buf.size()));
  }
  const bool direct = all_ranks_sum(direct_stats().writes - w0) > 0;
  const uint64_t held = all_ranks_sum(server_leases_for_testing());
  if (direct) {
    EXPECT_GT(held, 0u);
  }
  dc_.reset();
  rc_.reset();
  EDAOS_EXPECT_OK(direct_->disconnect());
  EDAOS_EXPECT_OK(remote_->disconnect());
  direct_.reset();
  remote_.reset();
  EXPECT_EQ(all_ranks_sum(server_leases_for_testing()), 0u)
      << (no_release ? "leases never released outlive their pool" : "released leases");
}

}  // namespace

// Partial EC stripes on the direct path (session 8, issue 15; client/README.md "Partial stripes
// on the direct path"): a partial-stripe write whose engines are all on this node reads the
// stripe's data cells from the shard files, stores the new records pending at the engines,
// writes the touched bytes and the parity into the shard files itself and finishes with the
// unlock: lock + prepare + finish/unlock, no payload over the transport. Checked here: the
// round trips of IOR-hard-sized writes, every byte after interleaved writers of shared stripes
// (direct and through the engines), and that a drilled engine keeps the stripe off the direct
// path. The kill drills are objstore_fault.* and objstore_s8_ec_fault.* (fault_s8_ec.sh).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "direct_pair.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

constexpr uint64_t kPiece = 47008;  // IOR-hard's transfer size
constexpr const char* kProps = "cksum:crc32,ec_cell_sz:131072,chunk_size:1048576";

class S8EcPartial : public DirectPairTest {
 protected:
  void SetUp() override { open_pools("s8ec", 6, 2); }

  // Every rank writes its pieces (piece j belongs to rank j % nranks, bytes of seed j % 3 + 1
  // at their own offsets, so the ranks' pieces share cells and stripes) through `c`, `rounds`
  // times over the same n pieces (seed + round), then every rank checks every byte through
  // both connections. Returns what this rank's writes cost after the first round.
  struct Cost {
    uint64_t partial = 0, trips = 0, direct_cells = 0;
    uint64_t steps = 0;  // direct steps the pieces need: per stripe, ceil(data cells / p)
  };
  // Steps of a piece (stripes of k cells of 128 KiB, p parity).
  static uint64_t steps_of(uint64_t off, uint64_t len, uint64_t k, uint64_t p) {
    constexpr uint64_t kCell = 131072;
    uint64_t steps = 0;
    for (uint64_t at = off; at < off + len;) {
      const uint64_t stripe_end = (at / (k * kCell) + 1) * k * kCell;
      const uint64_t end = std::min(off + len, stripe_end);
      const uint64_t cells = (end - 1) / kCell - at / kCell + 1;
      steps += (cells + p - 1) / p;
      at = end;
    }
    return steps;
  }
  Cost interleaved(const ObjectId& o, uint64_t n, int rounds,
                   const std::shared_ptr<Container>& mine, uint64_t k = 2, uint64_t p = 1) {
    Cost cost;
    auto a = mine->open_array(o);
    EXPECT_TRUE(a.ok());
    if (!a.ok()) return cost;
    std::vector<uint8_t> b(kPiece);
    for (int r = 0; r < rounds; ++r) {
      const Stats s0 = stats();
      const DirectStats d0 = direct_stats();
      const uint64_t t0 = rpc_round_trips_for_testing();
      for (uint64_t j = static_cast<uint64_t>(rank()); j < n;
           j += static_cast<uint64_t>(nranks())) {
        fill(b, j * kPiece, j % 3 + 1 + static_cast<uint64_t>(r));
        EDAOS_EXPECT_OK(a.value()->write(j * kPiece, b.data(), b.size()));
      }
      if (r == 0) continue;  // leases taken
      for (uint64_t j = static_cast<uint64_t>(rank()); j < n; j += static_cast<uint64_t>(nranks()))
        cost.steps += steps_of(j * kPiece, kPiece, k, p);
      cost.partial += stats().partial_stripe_writes - s0.partial_stripe_writes;
      cost.trips += rpc_round_trips_for_testing() - t0;
      cost.direct_cells += direct_stats().writes - d0.writes;
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (const auto& c : {dc_, rc_}) {
      auto rd = c->open_array(o);
      EXPECT_TRUE(rd.ok());
      if (!rd.ok()) continue;
      std::vector<uint8_t> all(n * kPiece);
      EDAOS_EXPECT_OK(rd.value()->read(0, all.data(), all.size()));
      for (uint64_t j = 0; j < n; ++j) {
        std::vector<uint8_t> got(all.begin() + static_cast<int64_t>(j * kPiece),
                                 all.begin() + static_cast<int64_t>((j + 1) * kPiece));
        const int64_t bad = first_mismatch(got, j * kPiece, j % 3 + 1 + (rounds - 1));
        EXPECT_EQ(bad, -1) << "piece " << j << " byte " << bad << " ("
                           << (c == dc_ ? "direct" : "remote") << " read)";
        if (bad != -1) break;
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return cost;
  }
};

// IOR-hard EC writes on the engine's node: each partial-stripe write is the stripe lock, one
// prepare and one finish sent with the unlock (the lock's wait is not counted by
// rpc_round_trips_for_testing: 2 counted round trips per partial stripe; a piece across more
// than p data cells of a stripe goes in steps of p cells, 2 each), and the cells are written
// by this process (direct_stats().writes). Through the engines it was lock + stripe read +
// cell writes + unlock (3 counted per partial stripe). Every byte is checked through both
// connections after the ranks' interleaved pieces (shared cells and stripes, contention on the
// locks).
TEST_F(S8EcPartial, IorHardPiecesCostThreeRoundTripsAndEveryByteIsRight) {
  const bool on_one_node = !two_nodes();
  for (const char* cls : {"EC_2P1G1", "EC_4P2G1"}) {
    SCOPED_TRACE(cls);
    make_cont(std::string("hard-") + cls, kProps);
    const ObjectId o = new_oid(cls);
    const uint64_t k = std::strcmp(cls, "EC_2P1G1") == 0 ? 2 : 4;
    const uint64_t p = k / 2;
    const Cost c = interleaved(o, 48, 3, dc_, k, p);
    std::printf(
        "rank %d %s: %llu partial stripes in %llu steps, %llu round trips, %llu cells "
        "direct\n",
        rank(), cls, static_cast<unsigned long long>(c.partial),
        static_cast<unsigned long long>(c.steps), static_cast<unsigned long long>(c.trips),
        static_cast<unsigned long long>(c.direct_cells));
    if (!on_one_node) continue;  // half the engines are remote: those stripes keep the RPCs
    ASSERT_GT(c.partial, 0u);
    EXPECT_EQ(c.trips, 2 * c.steps) << c.trips << " round trips for " << c.partial
                                    << " partial stripes in " << c.steps << " steps";
    // Each step writes at least one data cell and every parity cell directly.
    EXPECT_GE(c.direct_cells, (1 + p) * c.steps);
  }
}

// Writers of the same stripes, one direct and the others through the engines (their writes
// recall the direct writer's leases; the stripe lock orders them): every byte is the last
// writer's.
TEST_F(S8EcPartial, DirectAndRemoteWritersOfSharedStripes) {
  if (nranks() < 2) GTEST_SKIP() << "needs two ranks";
  for (const char* cls : {"EC_2P1G1", "EC_4P2G1"}) {
    SCOPED_TRACE(cls);
    make_cont(std::string("mixed-") + cls, kProps);
    const ObjectId o = new_oid(cls);
    (void)interleaved(o, 40, 3, rank() == 0 ? dc_ : rc_);
  }
}

// An engine drilled down ($EDAOS_ENGINES_DOWN, read at connect) keeps its stripes off the
// direct path (the engines' path rebuilds the stripe and skips nothing: writes still reach the
// drilled engine): with each of the 6 engines drilled in turn, a partial write of an EC_2P1G1
// object (one group of 3 engines) writes no cell directly exactly when the drilled engine is in
// its group, and the bytes read back through a connection with no drill.
TEST_F(S8EcPartial, DrilledEngineKeepsTheStripeOffTheDirectPath) {
  if (two_nodes()) GTEST_SKIP() << "needs every engine on this node";
  make_cont("drill", kProps);
  const ObjectId o = new_oid("EC_2P1G1");
  int off_direct = 0;
  for (uint32_t e = 0; e < 6; ++e) {
    const std::string down = std::to_string(e);
    const char* old = std::getenv("EDAOS_ENGINES_DOWN");
    const std::string keep = old ? old : "";
    setenv("EDAOS_ENGINES_DOWN", down.c_str(), 1);
    std::shared_ptr<Pool> drilled = connect("1");
    if (old)
      setenv("EDAOS_ENGINES_DOWN", keep.c_str(), 1);
    else
      unsetenv("EDAOS_ENGINES_DOWN");
    ASSERT_TRUE(drilled);
    auto c = drilled->cont_open("drill");
    ASSERT_TRUE(c.ok());
    uint64_t cells = 0;
    if (rank() == 0) {
      auto a = c.value()->open_array(o);
      ASSERT_TRUE(a.ok());
      std::vector<uint8_t> b(kPiece);
      fill(b, 1000 + e * 7, e + 1);
      const DirectStats d0 = direct_stats();
      EDAOS_EXPECT_OK(a.value()->write(1000 + e * 7, b.data(), b.size()));
      cells = direct_stats().writes - d0.writes;
      auto rd = rc_->open_array(o);
      ASSERT_TRUE(rd.ok());
      std::vector<uint8_t> got(kPiece);
      EDAOS_EXPECT_OK(rd.value()->read(1000 + e * 7, got.data(), got.size()));
      EXPECT_EQ(first_mismatch(got, 1000 + e * 7, e + 1), -1) << "engine " << e << " drilled";
    }
    if (cells == 0) ++off_direct;
    MPI_Barrier(MPI_COMM_WORLD);
    EDAOS_EXPECT_OK(drilled->disconnect());
  }
  if (rank() == 0) {
    EXPECT_EQ(off_direct, 3) << "of 6 drills, the group's 3 engines";
  }
}

}  // namespace

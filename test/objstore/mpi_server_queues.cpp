// The server's queues and service threads (src/server/README.md): many ranks on one stripe
// (stripe-lock waiters answered by the thread that serves the unlock), exclusive inserts from
// every rank (one engine queue decides in arrival order), ranks interleaving requests over many
// engines. Run in the default suite and again with EDAOS_SERVER_THREADS=1 and =8 (CMakeLists).
#include <algorithm>
#include <string>
#include <vector>

#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class ServerQueues : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<SharedTmpDir>("queues");
    ASSERT_FALSE(dir_->path().empty());
    path_ = dir_->path() + "/pool";
    PoolCreateOptions o;
    o.engines = 8;
    o.targets = 2;
    EDAOS_ASSERT_OK(Pool::create(path_, o, MPI_COMM_WORLD));
    auto p = Pool::connect(path_, MPI_COMM_WORLD);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool_ = p.value();
  }
  void TearDown() override {
    if (pool_) EDAOS_EXPECT_OK(pool_->disconnect());
    pool_.reset();
    dir_.reset();
  }
  std::shared_ptr<Container> make_cont(const std::string& label, const std::string& props) {
    Status st;
    if (rank() == 0) {
      ContainerProps p;
      st = apply_properties(&p, props);
      if (st.ok()) st = pool_->cont_create(label, p).status();
    }
    int code = st.code();
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    EXPECT_EQ(code, EDAOS_OK) << st.to_string();
    if (code != EDAOS_OK) return nullptr;
    auto c = pool_->cont_open(label);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? c.value() : nullptr;
  }
  ObjectId new_oid(Container& c, const std::string& cls, ObjType type) {
    ObjectId o;
    if (rank() == 0) {
      auto oc = ObjClass::parse(cls);
      EXPECT_TRUE(oc.ok()) << oc.status().to_string();
      auto r = c.alloc_oid(oc.value(), type);
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (r.ok()) o = r.value();
    }
    return bcast_oid(o);
  }
  std::unique_ptr<SharedTmpDir> dir_;
  std::string path_;
  std::shared_ptr<Pool> pool_;
};

// Every rank writes interleaved pieces of the same two EC stripes, three rounds with different
// contents: each piece is a partial-stripe write under the stripe lock, so nearly every lock
// request waits for another rank's unlock. A waiter never answered hangs the test (its
// timeout); a lock granted twice or an unlock lost mixes rounds and fails the comparison.
TEST_F(ServerQueues, ManyRanksOnOneStripe) {
  auto c = make_cont("onestripe", "ec_cell_sz:4096,chunk_size:65536");
  ASSERT_TRUE(c);
  ObjectId oid = new_oid(*c, "EC_4P2G1", ObjType::kArray);
  auto arr = c->open_array(oid);
  ASSERT_TRUE(arr.ok()) << arr.status().to_string();
  const uint64_t piece = 700, pieces = 46;  // 32,200 bytes: two 16 KiB stripes
  const uint64_t before = stats().partial_stripe_writes;
  for (uint64_t round = 0; round < 3; ++round) {
    const uint64_t seed = 500 + round;
    std::vector<uint8_t> buf(piece);
    for (uint64_t j = static_cast<uint64_t>(rank()); j < pieces;
         j += static_cast<uint64_t>(nranks())) {
      fill(buf, j * piece, seed);
      EDAOS_ASSERT_OK(arr.value()->write(j * piece, buf.data(), piece));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    std::vector<uint8_t> all(piece * pieces);
    EDAOS_ASSERT_OK(arr.value()->read(0, all.data(), all.size()));
    EXPECT_EQ(first_mismatch(all, 0, seed), -1) << "round " << round;
    MPI_Barrier(MPI_COMM_WORLD);
  }
  EXPECT_GT(stats().partial_stripe_writes, before);
}

// Every rank inserts the same keys (spread over every engine) with kInsertOnly: each key has
// exactly one winner, and the value stored is the winner's.
TEST_F(ServerQueues, ExclusiveInsertsFromEveryRank) {
  auto c = make_cont("excl", "rd_fac:1");
  ASSERT_TRUE(c);
  ObjectId o = new_oid(*c, "RP_2GX", ObjType::kMultiLevel);
  auto kv = c->open_kv(o);
  ASSERT_TRUE(kv.ok()) << kv.status().to_string();
  constexpr int kKeys = 60;
  std::vector<int> won(kKeys, 0), total(kKeys, 0);
  const std::string me = "rank " + std::to_string(rank());
  for (int i = 0; i < kKeys; ++i) {
    // Ranks walk the keys in different orders so that they meet on every key.
    int k = (i * 7 + rank() * 13) % kKeys;
    Status st = kv.value()->put("key" + std::to_string(k), "a", me, KV::kInsertOnly);
    EXPECT_TRUE(st.ok() || st.code() == EDAOS_EXIST) << st.to_string();
    won[k] = st.ok() ? 1 : 0;
  }
  MPI_Allreduce(won.data(), total.data(), kKeys, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int k = 0; k < kKeys; ++k) {
    EXPECT_EQ(total[k], 1) << "key" << k;
    auto v = kv.value()->get("key" + std::to_string(k), "a");
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    if (won[k]) {
      EXPECT_EQ(v.value(), me) << "key" << k;
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Ranks interleave writes, reads and size queries over objects on every engine (so every
// engine queue holds requests of several ranks at once); each read-back and, at the end,
// every rank's check of every object must see exactly the acknowledged bytes.
TEST_F(ServerQueues, RanksInterleavedOverEveryEngine) {
  auto c = make_cont("inter", "");
  ASSERT_TRUE(c);
  constexpr int kObjs = 16;
  std::vector<ObjectId> oids;
  for (int i = 0; i < kObjs; ++i) oids.push_back(new_oid(*c, "S1", ObjType::kArray));
  const uint64_t region = 20000;
  std::vector<uint8_t> buf(region), back(region);
  for (int i = 0; i < kObjs; ++i) {
    auto arr = c->open_array(oids[(i + rank()) % kObjs]);
    ASSERT_TRUE(arr.ok()) << arr.status().to_string();
    const uint64_t off = static_cast<uint64_t>(rank()) * region;
    fill(buf, off, 900 + static_cast<uint64_t>((i + rank()) % kObjs));
    EDAOS_ASSERT_OK(arr.value()->write(off, buf.data(), region));
    EDAOS_ASSERT_OK(arr.value()->read(off, back.data(), region));
    EXPECT_EQ(back, buf) << "object " << (i + rank()) % kObjs;
    auto sz = arr.value()->get_size();
    ASSERT_TRUE(sz.ok()) << sz.status().to_string();
    EXPECT_GE(sz.value(), off + region);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < kObjs; ++i) {
    auto arr = c->open_array(oids[i]);
    ASSERT_TRUE(arr.ok());
    for (int r = 0; r < nranks(); ++r) {
      const uint64_t off = static_cast<uint64_t>(r) * region;
      EDAOS_ASSERT_OK(arr.value()->read(off, back.data(), region));
      EXPECT_EQ(first_mismatch(back, off, 900 + static_cast<uint64_t>(i)), -1)
          << "object " << i << " rank " << r;
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

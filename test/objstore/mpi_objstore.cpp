// Multi-rank tests of the object store through its C++ API: pools, containers, every object
// class, concurrent partial-stripe writers, engines down, corrupted cells, KV semantics.
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>

#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class ObjstoreEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    Status st = init(MPI_COMM_WORLD);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void TearDown() override { (void)finalize(); }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new ObjstoreEnv);

constexpr uint32_t kEngines = 6;
constexpr uint32_t kTargets = 2;

// A pool of kEngines engines in a fresh directory, connected by every rank.
class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<SharedTmpDir>("pool");
    ASSERT_FALSE(dir_->path().empty());
    path_ = dir_->path() + "/pool";
    PoolCreateOptions o;
    o.engines = kEngines;
    o.targets = kTargets;
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

  // Rank 0 creates, then every rank opens, a container with `props`.
  std::shared_ptr<Container> make_cont(const std::string& label, const std::string& props) {
    Status st;
    if (rank() == 0) {
      ContainerProps p;
      st = apply_properties(&p, props);
      if (st.ok()) {
        auto c = pool_->cont_create(label, p);
        st = c.status();
      }
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

TEST_F(PoolTest, CreateConnectQuery) {
  auto q = pool_->query();
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->engines, kEngines);
  EXPECT_EQ(q->targets, kEngines * kTargets);
  EXPECT_EQ(q->engines_down, 0u);
  EXPECT_GT(q->total, 0u);
  EXPECT_LE(q->free, q->total);
  // A second create over an existing pool is refused.
  Status st = Pool::create(path_, PoolCreateOptions{}, MPI_COMM_WORLD);
  EXPECT_EQ(st.code(), EDAOS_EXIST) << st.to_string();
  // Connecting to a directory with no pool names the path.
  auto none = Pool::connect(dir_->path() + "/nothing-here", MPI_COMM_WORLD);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), EDAOS_NONEXIST);
  EXPECT_NE(none.status().message().find("nothing-here"), std::string::npos);
}

TEST_F(PoolTest, ContainerLifecycleAndProperties) {
  auto c = make_cont("c1", "rd_fac:1,ec_cell_sz:4096,cksum:crc32,srv_cksum:on");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->props().rd_fac, 1u);
  EXPECT_EQ(c->props().ec_cell_sz, 4096u);
  EXPECT_EQ(c->props().cksum, CsumType::kCrc32);
  EXPECT_TRUE(c->props().srv_cksum);
  EXPECT_EQ(c->props().owner.back(), '@');
  EXPECT_EQ(c->props().group.back(), '@');
  EXPECT_NE(c->props().acl.find("OWNER@"), std::string::npos);
  EXPECT_EQ(c->props().status, ContStatus::kHealthy);
  auto by_uuid = pool_->cont_open(c->uuid().to_string());
  ASSERT_TRUE(by_uuid.ok()) << by_uuid.status().to_string();
  EXPECT_EQ(by_uuid.value()->props().label, "c1");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {
    // Label taken.
    auto dup = pool_->cont_create("c1", ContainerProps{});
    EXPECT_EQ(dup.status().code(), EDAOS_EXIST) << dup.status().to_string();
    // Bad properties name the key and value.
    ContainerProps p;
    Status st = apply_properties(&p, "rd_fac:9");
    EXPECT_EQ(st.code(), EDAOS_INVAL);
    EXPECT_NE(st.message().find("rd_fac"), std::string::npos) << st.message();
    st = apply_properties(&p, "bogus:1");
    EXPECT_EQ(st.code(), EDAOS_INVAL);
    EXPECT_NE(st.message().find("bogus"), std::string::npos) << st.message();
    // A file class wider than the pool is refused at creation, naming both numbers.
    ContainerProps wide;
    ASSERT_TRUE(apply_properties(&wide, "rd_fac:2").ok());
    wide.file_oclass = "EC_8P2GX";
    auto w = pool_->cont_create("wide", wide);
    ASSERT_EQ(w.status().code(), EDAOS_NOENGINE) << w.status().to_string();
    EXPECT_NE(w.status().message().find("10"), std::string::npos) << w.status().message();
    EXPECT_NE(w.status().message().find("6"), std::string::npos) << w.status().message();
    // A class weaker than rd_fac is refused.
    ContainerProps weak;
    ASSERT_TRUE(apply_properties(&weak, "rd_fac:2").ok());
    weak.file_oclass = "RP_2G1";
    EXPECT_EQ(pool_->cont_create("weak", weak).status().code(), EDAOS_INVAL);
    // set-prop persists.
    EDAOS_EXPECT_OK(c->set_prop("label", "renamed"));
    auto again = pool_->cont_open("renamed");
    ASSERT_TRUE(again.ok()) << again.status().to_string();
    EXPECT_EQ(pool_->cont_open("c1").status().code(), EDAOS_NONEXIST);
    auto l = pool_->cont_list();
    ASSERT_TRUE(l.ok());
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ(l->at(0).second, "renamed");
    EDAOS_EXPECT_OK(c->attr_set("user.a", "1"));
    auto a = c->attr_get("user.a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.value(), "1");
    EDAOS_EXPECT_OK(pool_->cont_destroy("renamed"));
    EXPECT_EQ(pool_->cont_open("renamed").status().code(), EDAOS_NONEXIST);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Every rank writes its own region in odd-sized pieces (full and partial stripes, chunk
// boundaries), then every rank reads the whole object back.
class ClassTest : public PoolTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ClassTest, WriteReadEveryRankRegion) {
  auto c = make_cont("cls", "ec_cell_sz:4096,chunk_size:32768,cksum:crc32c,srv_cksum:on");
  ASSERT_TRUE(c);
  ObjectId oid = new_oid(*c, GetParam(), ObjType::kArray);
  auto arr = c->open_array(oid);
  ASSERT_TRUE(arr.ok()) << arr.status().to_string();
  const uint64_t region = 3 * 32768 + 12345;
  const uint64_t seed = oid.lo;
  uint64_t base = static_cast<uint64_t>(rank()) * region;
  std::vector<uint8_t> buf(region);
  fill(buf, base, seed);
  // Pieces: 1 byte, 7000, a 3-iovec piece, then the rest.
  size_t pos = 0;
  EDAOS_ASSERT_OK(arr.value()->write(base, buf.data(), 1));
  pos = 1;
  EDAOS_ASSERT_OK(arr.value()->write(base + pos, buf.data() + pos, 7000));
  pos += 7000;
  ConstIoVec three[3] = {
      {buf.data() + pos, 100}, {buf.data() + pos + 100, 20000}, {buf.data() + pos + 20100, 3}};
  EDAOS_ASSERT_OK(arr.value()->write(base + pos, three, 3));
  pos += 20103;
  EDAOS_ASSERT_OK(arr.value()->write(base + pos, buf.data() + pos, region - pos));
  MPI_Barrier(MPI_COMM_WORLD);

  uint64_t total = region * static_cast<uint64_t>(nranks());
  auto size = arr.value()->get_size();
  ASSERT_TRUE(size.ok()) << size.status().to_string();
  EXPECT_EQ(size.value(), total);
  std::vector<uint8_t> all(total);
  EDAOS_ASSERT_OK(arr.value()->read(0, all.data(), all.size()));
  EXPECT_EQ(first_mismatch(all, 0, seed), -1);
  // Scattered read into two iovecs crossing a cell boundary.
  std::vector<uint8_t> a(5000), b(3000);
  IoVec two[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
  EDAOS_ASSERT_OK(arr.value()->read(4000, two, 2));
  EXPECT_EQ(first_mismatch(a, 4000, seed), -1);
  EXPECT_EQ(first_mismatch(b, 9000, seed), -1);
  // Beyond the end reads zeros.
  std::vector<uint8_t> z(100, 0xff);
  EDAOS_ASSERT_OK(arr.value()->read(total + 5, z.data(), z.size()));
  EXPECT_EQ(std::count(z.begin(), z.end(), 0), 100);
}

INSTANTIATE_TEST_SUITE_P(Classes, ClassTest,
                         ::testing::Values("S1", "S2", "SX", "RP_2G1", "RP_3G1", "RP_2GX",
                                           "EC_2P1G1", "EC_2P2G1", "EC_2P1GX", "EC_4P1G1",
                                           "EC_4P2G1", "EC_4P2GX"),
                         [](const auto& p) { return std::string(p.param); });

// Ranks write interleaved 1000-byte pieces of the same stripes concurrently: every write is
// a partial stripe of another rank's stripe. The data and the parity must both be right
// (checked by reading again with two engines treated as down).
// Object IDs come from ranges each handle reserves at the pool service: every ID handed out,
// by any rank and any handle, is distinct, and a handle does not pay a pool-service call per ID.
TEST_F(PoolTest, ObjectIdsAreUniqueAcrossHandlesAndRanksAndAllocatedInRanges) {
  auto c1 = make_cont("oids", "");
  ASSERT_TRUE(c1);
  auto c2 = pool_->cont_open("oids");  // a second handle of this rank
  ASSERT_TRUE(c2.ok()) << c2.status().to_string();
  const ObjClass oc = ObjClass::parse("S1").value();
  constexpr int kPerHandle = 1500;
  std::vector<uint64_t> mine;
  const uint64_t rpcs0 = stats().rpcs;
  for (int i = 0; i < kPerHandle; ++i) {
    for (Container* c : {c1.get(), c2.value().get()}) {
      auto o = c->alloc_oid(oc, ObjType::kArray);
      ASSERT_TRUE(o.ok()) << o.status().to_string();
      EXPECT_EQ(oclass_of(o.value()).name(), "S1");
      mine.push_back(o.value().lo);
    }
  }
  const uint64_t calls = stats().rpcs - rpcs0;
  // Ranges of 1, 2, 4, ... 1024, then 1024 each: 11 + 1 calls per handle for 1500 IDs.
  EXPECT_LE(calls, 2u * 12u) << "pool-service calls for " << 2 * kPerHandle << " object IDs";
  std::vector<uint64_t> all(mine.size() * static_cast<size_t>(nranks()));
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T, all.data(),
                static_cast<int>(mine.size()), MPI_UINT64_T, MPI_COMM_WORLD);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end())
      << "an object ID was handed out twice";
}

TEST_F(PoolTest, ConcurrentPartialStripeWriters) {
  auto c = make_cont("pstripe", "ec_cell_sz:4096,chunk_size:65536");
  ASSERT_TRUE(c);
  ObjectId oid = new_oid(*c, "EC_4P2G1", ObjType::kArray);
  auto arr = c->open_array(oid);
  ASSERT_TRUE(arr.ok());
  const uint64_t piece = 1000, pieces = 200;
  const uint64_t seed = 77;
  std::vector<uint8_t> buf(piece);
  for (uint64_t j = static_cast<uint64_t>(rank()); j < pieces;
       j += static_cast<uint64_t>(nranks())) {
    fill(buf, j * piece, seed);
    EDAOS_ASSERT_OK(arr.value()->write(j * piece, buf.data(), piece));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<uint8_t> all(piece * pieces);
  EDAOS_ASSERT_OK(arr.value()->read(0, all.data(), all.size()));
  EXPECT_EQ(first_mismatch(all, 0, seed), -1);
  EXPECT_GT(stats().partial_stripe_writes, 0u);

  // Parity check: a second connection that treats two engines as down must rebuild the same
  // bytes from parity.
  MPI_Barrier(MPI_COMM_WORLD);
  setenv("EDAOS_ENGINES_DOWN", "0,3", 1);
  auto p2 = Pool::connect(path_, MPI_COMM_WORLD);
  unsetenv("EDAOS_ENGINES_DOWN");
  ASSERT_TRUE(p2.ok()) << p2.status().to_string();
  auto q = p2.value()->query();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->engines_down, 2u);
  auto c2 = p2.value()->cont_open("pstripe");
  ASSERT_TRUE(c2.ok());
  auto arr2 = c2.value()->open_array(oid);
  ASSERT_TRUE(arr2.ok());
  std::vector<uint8_t> again(all.size());
  uint64_t degraded_before = stats().degraded_reads;
  EDAOS_ASSERT_OK(arr2.value()->read(0, again.data(), again.size()));
  EXPECT_EQ(first_mismatch(again, 0, seed), -1);
  EXPECT_GT(stats().degraded_reads, degraded_before);
  EDAOS_EXPECT_OK(p2.value()->disconnect());
}

// p engines down: reads rebuild; p+1 down: a clear DEGRADED error, never wrong data.
TEST_F(PoolTest, ReadsSurviveParityCountEnginesDown) {
  auto c = make_cont("down", "ec_cell_sz:8192,chunk_size:65536");
  ASSERT_TRUE(c);
  ObjectId ec = new_oid(*c, "EC_4P2G1", ObjType::kArray);
  ObjectId rp = new_oid(*c, "RP_3G1", ObjType::kArray);
  const uint64_t len = 300000, seed = 5;
  std::vector<uint8_t> data(len);
  fill(data, 0, seed);
  if (rank() == 0) {
    for (ObjectId o : {ec, rp}) {
      auto a = c->open_array(o);
      ASSERT_TRUE(a.ok());
      EDAOS_ASSERT_OK(a.value()->write(0, data.data(), len));
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  struct Case {
    const char* down;
    bool ec_ok, rp_ok;
  } cases[] = {{"1", true, true},
               {"2,5", true, true},
               {"0,1,2", false, true},
               {"0,1,2,3,4,5", false, false}};
  for (const Case& k : cases) {
    setenv("EDAOS_ENGINES_DOWN", k.down, 1);
    auto p2 = Pool::connect(path_, MPI_COMM_WORLD);
    unsetenv("EDAOS_ENGINES_DOWN");
    ASSERT_TRUE(p2.ok()) << p2.status().to_string();
    auto c2 = p2.value()->cont_open("down");
    ASSERT_TRUE(c2.ok());
    for (auto [o, expect_ok] : {std::pair{ec, k.ec_ok}, std::pair{rp, k.rp_ok}}) {
      auto a = c2.value()->open_array(o);
      ASSERT_TRUE(a.ok());
      std::vector<uint8_t> got(len);
      Status st = a.value()->read(0, got.data(), len);
      if (expect_ok) {
        EXPECT_TRUE(st.ok()) << "down=" << k.down << " " << o.to_string() << ": " << st.to_string();
        EXPECT_EQ(first_mismatch(got, 0, seed), -1) << "down=" << k.down;
      } else {
        EXPECT_EQ(st.code(), EDAOS_DEGRADED) << "down=" << k.down << ": " << st.to_string();
      }
    }
    EDAOS_EXPECT_OK(p2.value()->disconnect());
  }
}

// A degraded read that rebuilds many stripes reads them together: every stripe of a call whose
// data cell is on a down engine is fetched in one round of calls (data and parity cells in the
// same round, since the engine is known down), not two serial round trips per stripe, and every
// byte is right. 32 stripes of EC_2P1G1 (8 KiB cells) in one read: 64 round trips before.
TEST_F(PoolTest, DegradedReadOfManyStripesIsOneRoundOfCalls) {
  auto c = make_cont("down_many", "ec_cell_sz:8192,chunk_size:65536");
  ASSERT_TRUE(c);
  ObjectId ec = new_oid(*c, "EC_2P1G1", ObjType::kArray);
  const uint64_t len = 32 * 16384, seed = 11;
  std::vector<uint8_t> data(len);
  fill(data, 0, seed);
  if (rank() == 0) {
    auto a = c->open_array(ec);
    ASSERT_TRUE(a.ok());
    EDAOS_ASSERT_OK(a.value()->write(0, data.data(), len));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  // Which engines hold this object's data cells depends on placement: take each engine down in
  // turn until the read rebuilds stripes (the first may hold only parity).
  bool rebuilt = false;
  for (int e = 0; e < 8 && !rebuilt; ++e) {
    const std::string down = std::to_string(e);
    setenv("EDAOS_ENGINES_DOWN", down.c_str(), 1);
    auto p2 = Pool::connect(path_, MPI_COMM_WORLD);
    unsetenv("EDAOS_ENGINES_DOWN");
    ASSERT_TRUE(p2.ok()) << p2.status().to_string();
    auto c2 = p2.value()->cont_open("down_many");
    ASSERT_TRUE(c2.ok());
    auto a = c2.value()->open_array(ec);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> got(len);
    const uint64_t deg0 = stats().degraded_reads, rt0 = rpc_round_trips_for_testing();
    const Status st = a.value()->read(0, got.data(), len);
    EXPECT_TRUE(st.ok()) << "down=" << down << ": " << st.to_string();
    const uint64_t deg = stats().degraded_reads - deg0, rt = rpc_round_trips_for_testing() - rt0;
    EXPECT_EQ(first_mismatch(got, 0, seed), -1) << "down=" << down;
    if (deg > 0) {
      rebuilt = true;
      EXPECT_EQ(deg, 32u) << "down=" << down << ": every stripe has a cell on each engine";
      // One round of calls for the live cells, one for the rebuild (two rounds per stripe
      // before: 65 round trips). A round may cost two round trips where the reader takes the
      // direct path's leases first (the shards on its node) and reads the other node's shards
      // through their engines (two simulated nodes).
      EXPECT_LE(rt, 4u) << "down=" << down << ": " << deg << " stripes rebuilt";
      if (rank() == 0)
        std::printf("[degraded] engine %s down: %llu stripes rebuilt in %llu round trips\n",
                    down.c_str(), static_cast<unsigned long long>(deg),
                    static_cast<unsigned long long>(rt));
    }
    EDAOS_EXPECT_OK(p2.value()->disconnect());
  }
  EXPECT_TRUE(rebuilt) << "no single engine down made the read rebuild a stripe";
}

// An engine whose directory is gone is down: reads rebuild, a write in that state excludes the
// engine in the pool map, and when the directory comes back the engine stays excluded, so it
// never serves the cells it missed.
TEST_F(PoolTest, MissingEngineDirectoryIsDownAndExcludedAfterDegradedWrite) {
  auto c = make_cont("gone", "ec_cell_sz:4096,chunk_size:65536");
  ASSERT_TRUE(c);
  ObjectId oid = new_oid(*c, "EC_2P1G1", ObjType::kArray);
  const uint64_t len = 100000;
  std::vector<uint8_t> v1(len), v2(len);
  fill(v1, 0, 1);
  fill(v2, 0, 2);
  if (rank() == 0) {
    auto a = c->open_array(oid);
    EDAOS_ASSERT_OK(a.value()->write(0, v1.data(), len));
  }
  c.reset();
  EDAOS_ASSERT_OK(pool_->disconnect());
  pool_.reset();
  std::string eng = path_ + "/engine-0002", moved = path_ + "/engine-0002.away";
  if (rank() == 0) {
    ASSERT_EQ(rename(eng.c_str(), moved.c_str()), 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  auto p = Pool::connect(path_, MPI_COMM_WORLD);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  auto q = p.value()->query();
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->engines_down, 1u);
  EXPECT_FALSE(q->engine_status[2].up);
  EXPECT_FALSE(q->engine_status[2].why_down.empty());
  auto c2 = p.value()->cont_open("gone");
  ASSERT_TRUE(c2.ok());
  auto a2 = c2.value()->open_array(oid);
  std::vector<uint8_t> got(len);
  EDAOS_ASSERT_OK(a2.value()->read(0, got.data(), len));
  EXPECT_EQ(first_mismatch(got, 0, 1), -1);
  MPI_Barrier(MPI_COMM_WORLD);
  // A degraded write: engine 2 misses it.
  if (rank() == 0) {
    EDAOS_ASSERT_OK(a2.value()->write(0, v2.data(), len));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EDAOS_ASSERT_OK(a2.value()->read(0, got.data(), len));
  EXPECT_EQ(first_mismatch(got, 0, 2), -1);
  a2.value().reset();
  c2.value().reset();
  EDAOS_ASSERT_OK(p.value()->disconnect());

  // The directory is back, but the engine stays excluded: the data read is the new data.
  if (rank() == 0) {
    ASSERT_EQ(rename(moved.c_str(), eng.c_str()), 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto p3 = Pool::connect(path_, MPI_COMM_WORLD);
  ASSERT_TRUE(p3.ok()) << p3.status().to_string();
  auto q3 = p3.value()->query();
  ASSERT_TRUE(q3.ok());
  EXPECT_FALSE(q3->engine_status[2].up);
  EXPECT_GT(q3->map_version, 1u);
  auto c3 = p3.value()->cont_open("gone");
  auto a3 = c3.value()->open_array(oid);
  std::fill(got.begin(), got.end(), 0);
  EDAOS_ASSERT_OK(a3.value()->read(0, got.data(), len));
  EXPECT_EQ(first_mismatch(got, 0, 2), -1);
  pool_ = p3.value();
}

// A pool with a small quota fills up: the write that does not fit fails with EDAOS_NOSPACE and
// a message saying so; what was written before stays readable.
TEST(PoolQuota, FullPoolIsNoSpaceAndKeepsData) {
  SharedTmpDir dir("quota");
  std::string path = dir.path() + "/pool";
  PoolCreateOptions o;
  o.engines = 3;
  o.targets = 1;
  o.size_bytes = 3 << 20;  // 1 MiB per engine
  EDAOS_ASSERT_OK(Pool::create(path, o, MPI_COMM_WORLD));
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  ASSERT_TRUE(pool.ok()) << pool.status().to_string();
  if (rank() == 0) {
    ContainerProps p;
    ASSERT_TRUE(apply_properties(&p, "ec_cell_sz:4096").ok());
    auto c = pool.value()->cont_create("q", p);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto oid = c.value()->alloc_oid(ObjClass::parse("EC_2P1G1").value(), ObjType::kArray);
    auto a = c.value()->open_array(oid.value());
    std::vector<uint8_t> small(200000), big(4 << 20);
    fill(small, 0, 4);
    fill(big, small.size(), 4);
    EDAOS_ASSERT_OK(a.value()->write(0, small.data(), small.size()));
    Status st = a.value()->write(small.size(), big.data(), big.size());
    EXPECT_EQ(st.code(), EDAOS_NOSPACE) << st.to_string();
    EXPECT_NE(st.message().find("quota"), std::string::npos) << st.message();
    std::vector<uint8_t> back(small.size());
    EDAOS_ASSERT_OK(a.value()->read(0, back.data(), back.size()));
    EXPECT_EQ(first_mismatch(back, 0, 4), -1);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EDAOS_EXPECT_OK(pool.value()->disconnect());
}

// Finds the file holding shard `shard` of `oid` under the pool directory.
std::string find_shard_file(const std::string& pool, ObjectId oid, uint32_t shard) {
  std::string name = oid.to_string() + "." + std::to_string(shard);
  for (auto& e : std::filesystem::recursive_directory_iterator(pool))
    if (e.is_regular_file() && e.path().filename() == name) return e.path().string();
  return {};
}

void flip_byte(const std::string& file, off_t off) {
  int fd = open(file.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << file;
  unsigned char b = 0;
  ASSERT_EQ(pread(fd, &b, 1, off), 1);
  b ^= 0x5a;
  ASSERT_EQ(pwrite(fd, &b, 1, off), 1);
  close(fd);
}

// A corrupted cell on disk is detected, rebuilt from parity and repaired; without redundancy
// it is an error, never wrong data.
TEST_F(PoolTest, CorruptedCellDetectedRebuiltRepaired) {
  auto c = make_cont("csum", "ec_cell_sz:4096,chunk_size:65536,cksum:crc32,srv_cksum:on");
  ASSERT_TRUE(c);
  ObjectId ec = new_oid(*c, "EC_2P1G1", ObjType::kArray);
  ObjectId s1 = new_oid(*c, "S1", ObjType::kArray);
  const uint64_t len = 40000, seed = 9;
  std::vector<uint8_t> data(len);
  fill(data, 0, seed);
  if (rank() == 0) {
    for (ObjectId o : {ec, s1}) {
      auto a = c->open_array(o);
      ASSERT_TRUE(a.ok());
      EDAOS_ASSERT_OK(a.value()->write(0, data.data(), len));
    }
    EDAOS_ASSERT_OK(c->sync());
    std::string f = find_shard_file(path_, ec, 0);
    ASSERT_FALSE(f.empty()) << "no shard file for " << ec.to_string();
    flip_byte(f, 100);
    std::string g = find_shard_file(path_, s1, 0);
    ASSERT_FALSE(g.empty());
    flip_byte(g, 100);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {
    Stats before = stats();
    auto a = c->open_array(ec);
    std::vector<uint8_t> got(len);
    EDAOS_ASSERT_OK(a.value()->read(0, got.data(), len));
    EXPECT_EQ(first_mismatch(got, 0, seed), -1);
    Stats after = stats();
    EXPECT_GT(after.repairs, before.repairs);
    // Repaired: a second read needs no rebuild.
    std::fill(got.begin(), got.end(), 0);
    EDAOS_ASSERT_OK(a.value()->read(0, got.data(), len));
    EXPECT_EQ(first_mismatch(got, 0, seed), -1);
    EXPECT_EQ(stats().repairs, after.repairs);

    auto b = c->open_array(s1);
    Status st = b.value()->read(0, got.data(), len);
    EXPECT_FALSE(st.ok());
    EXPECT_TRUE(st.code() == EDAOS_CSUM || st.code() == EDAOS_DEGRADED) << st.to_string();
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(PoolTest, PunchTruncateExtend) {
  auto c = make_cont("sz", "ec_cell_sz:4096,chunk_size:32768");
  ASSERT_TRUE(c);
  for (const char* cls : {"EC_2P1G1", "RP_2G1", "S2"}) {
    ObjectId o = new_oid(*c, cls, ObjType::kArray);
    if (rank() != 0) continue;
    auto a = c->open_array(o);
    ASSERT_TRUE(a.ok());
    const uint64_t len = 100000;
    std::vector<uint8_t> data(len);
    fill(data, 0, 3);
    EDAOS_ASSERT_OK(a.value()->write(0, data.data(), len));
    EDAOS_ASSERT_OK(a.value()->punch(1000, 50000));
    std::vector<uint8_t> got(len);
    EDAOS_ASSERT_OK(a.value()->read(0, got.data(), len));
    for (uint64_t i = 0; i < len; ++i) {
      uint8_t want = i >= 1000 && i < 51000 ? 0 : data[i];
      ASSERT_EQ(got[i], want) << cls << " at " << i;
    }
    EDAOS_ASSERT_OK(a.value()->set_size(70001));
    EXPECT_EQ(a.value()->get_size().value(), 70001u) << cls;
    EDAOS_ASSERT_OK(a.value()->set_size(200000));
    EXPECT_EQ(a.value()->get_size().value(), 200000u) << cls;
    std::vector<uint8_t> tail(200000 - 70001, 0xee);
    EDAOS_ASSERT_OK(a.value()->read(70001, tail.data(), tail.size()));
    EXPECT_EQ(static_cast<size_t>(std::count(tail.begin(), tail.end(), 0)), tail.size()) << cls;
    EDAOS_ASSERT_OK(a.value()->destroy());
    EXPECT_EQ(a.value()->get_size().value(), 0u) << cls;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Issues 15 (item 3) and 17: the shard ops of one call reach each server rank in one message
// (before: one RPC per chunk written or read, one per shard for a size or a removal). Counted
// with the store's counters, on rank 0 alone.
TEST_F(PoolTest, ShardOpsOfOneCallAreOneMessagePerServerRank) {
  // The remote path (the direct path's counts: DirectTest.DirectCallsCostOneCommitPerServer).
  EDAOS_ASSERT_OK(pool_->disconnect());
  setenv("EDAOS_DIRECT", "0", 1);
  auto remote = Pool::connect(path_, MPI_COMM_WORLD);
  unsetenv("EDAOS_DIRECT");
  ASSERT_TRUE(remote.ok()) << remote.status().to_string();
  pool_ = remote.value();
  auto c = make_cont("vec", "ec_cell_sz:4096,chunk_size:32768");
  ASSERT_TRUE(c);
  ObjectId o = new_oid(*c, "SX", ObjType::kArray);
  if (rank() == 0) {
    const uint64_t nserv = server_ranks().size();
    ASSERT_LT(nserv, kEngines);  // else the counts below would not tell shards from servers
    auto a = c->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> data(32768 * 12 + 100);  // 13 chunks over the 6 single-shard groups
    fill(data, 0, 7);
    uint64_t r0 = stats().rpcs;
    EDAOS_ASSERT_OK(a.value()->write(0, data.data(), data.size()));
    EXPECT_LE(stats().rpcs - r0, nserv) << "write of 13 chunks";
    r0 = stats().rpcs;
    auto sz = a.value()->get_size();
    ASSERT_TRUE(sz.ok()) << sz.status().to_string();
    EXPECT_EQ(sz.value(), data.size());
    EXPECT_LE(stats().rpcs - r0, nserv) << "size of an SX object";
    std::vector<uint8_t> got(data.size());
    r0 = stats().rpcs;
    EDAOS_ASSERT_OK(a.value()->read(0, got.data(), got.size()));
    EXPECT_LE(stats().rpcs - r0, nserv) << "read of 13 chunks";
    EXPECT_EQ(first_mismatch(got, 0, 7), -1);
    r0 = stats().rpcs;
    EDAOS_ASSERT_OK(a.value()->destroy());
    EXPECT_LE(stats().rpcs - r0, nserv) << "removal of an SX object";
    EXPECT_EQ(a.value()->get_size().value(), 0u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Issue 15 item 3: a sync asks only the engines written since the last sync (before: every
// engine of the pool, once per server rank, written or not).
TEST_F(PoolTest, SyncAsksOnlyEnginesWrittenSinceTheLastSync) {
  auto c = make_cont("sync", "");
  ASSERT_TRUE(c);
  ObjectId o = new_oid(*c, "S1", ObjType::kArray);
  ObjectId k = new_oid(*c, "S1", ObjType::kFlatKV);
  if (rank() == 0) {
    EDAOS_ASSERT_OK(c->sync());  // whatever this process wrote before
    uint64_t r0 = stats().rpcs;
    EDAOS_ASSERT_OK(c->sync());
    EXPECT_EQ(stats().rpcs - r0, 0u) << "nothing written since the last sync";
    auto a = c->open_array(o);
    ASSERT_TRUE(a.ok());
    EDAOS_ASSERT_OK(a.value()->write(0, "synced", 6));
    r0 = stats().rpcs;
    EDAOS_ASSERT_OK(c->sync());
    EXPECT_EQ(stats().rpcs - r0, 1u) << "one S1 object: one engine on one server";
    auto kv = c->open_kv(k);
    ASSERT_TRUE(kv.ok());
    EDAOS_ASSERT_OK(kv.value()->put("d", "", "v"));
    r0 = stats().rpcs;
    EDAOS_ASSERT_OK(c->sync());
    EXPECT_EQ(stats().rpcs - r0, 1u) << "a KV put is synced too";
    r0 = stats().rpcs;
    EDAOS_ASSERT_OK(c->sync());
    EXPECT_EQ(stats().rpcs - r0, 0u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(PoolTest, KvSemanticsAndExclusiveInsert) {
  auto c = make_cont("kv", "rd_fac:1");
  ASSERT_TRUE(c);
  ObjectId o = new_oid(*c, "RP_2GX", ObjType::kMultiLevel);
  auto kv = c->open_kv(o);
  ASSERT_TRUE(kv.ok()) << kv.status().to_string();
  // All ranks insert the same key: exactly one wins, the rest see EXIST.
  Status st = kv.value()->put("shared", "a", "from " + std::to_string(rank()), KV::kInsertOnly);
  int won = st.ok() ? 1 : 0, total = 0;
  EXPECT_TRUE(st.ok() || st.code() == EDAOS_EXIST) << st.to_string();
  MPI_Allreduce(&won, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 1);
  // Each rank writes its own keys; everyone lists them with small pages.
  for (int i = 0; i < 25; ++i)
    EDAOS_ASSERT_OK(kv.value()->put("k" + std::to_string(rank()) + "_" + std::to_string(i), "v",
                                    std::to_string(i)));
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<std::string> keys;
  std::string anchor;
  for (bool eof = false; !eof;) {
    auto page = kv.value()->list_dkeys(anchor, 7, &eof);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    ASSERT_LE(page->size(), 7u);
    for (auto& k : page.value()) keys.push_back(k);
    if (!page->empty()) anchor = page->back();
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(25 * nranks() + 1));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  auto v = kv.value()->get("k0_3", "v");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), "3");
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {
    EDAOS_EXPECT_OK(kv.value()->remove("k0_3", ""));
    EXPECT_EQ(kv.value()->get("k0_3", "v").status().code(), EDAOS_NONEXIST);
    EXPECT_EQ(kv.value()->remove("k0_3", "").code(), EDAOS_NONEXIST);
    EXPECT_EQ(kv.value()->put("new", "a", "x", KV::kUpdateOnly).code(), EDAOS_NONEXIST);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// An idle server rank sleeps: over 1.5 s of idleness its process uses well under half a core
// (a spinning progress thread would use a whole one). A behaviour check, not a timing one.
TEST(Runtime, IdleServerDoesNotBurnACore) {
  auto servers = server_ranks();
  MPI_Barrier(MPI_COMM_WORLD);
  usleep(100000);  // let in-flight work finish
  rusage a{}, b{};
  getrusage(RUSAGE_SELF, &a);
  timespec t0{}, t1{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  usleep(1500000);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  getrusage(RUSAGE_SELF, &b);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  double cpu = secs(b.ru_utime) - secs(a.ru_utime) + secs(b.ru_stime) - secs(a.ru_stime);
  double wall = static_cast<double>(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  bool is_server = std::find(servers.begin(), servers.end(), rank()) != servers.end();
  EXPECT_LT(cpu / wall, 0.4) << (is_server ? "server" : "client") << " rank used " << cpu
                             << " s of CPU in " << wall << " s idle";
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

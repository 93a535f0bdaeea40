// The client, RPC and server logic in one process over the loopback transport: no mpiexec, no
// MPI call carries an RPC (MPI is initialised as a singleton only because the API takes
// communicators, at the lowest thread level: the loopback transport does not need
// MPI_THREAD_MULTIPLE). ctest runs it with EDAOS_TRANSPORT=loopback and three in-process
// servers, so shards of one object live on different servers.
#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"
#include "edaos/objstore/props.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

std::string g_dir;

class LoopbackPool : public ::testing::Test {
 protected:
  void SetUp() override {
    static int n = 0;
    path_ = g_dir + "/pool" + std::to_string(n++);
    PoolCreateOptions o;
    o.engines = 6;
    o.targets = 2;
    Status st = Pool::create(path_, o, MPI_COMM_SELF);
    ASSERT_TRUE(st.ok()) << st.to_string();
    auto p = Pool::connect(path_, MPI_COMM_SELF);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool_ = p.value();
  }
  void TearDown() override {
    if (pool_) {
      EXPECT_TRUE(pool_->disconnect().ok());
    }
  }
  std::shared_ptr<Container> cont(const std::string& label, const std::string& props) {
    ContainerProps p;
    Status st = apply_properties(&p, props);
    EXPECT_TRUE(st.ok()) << st.to_string();
    auto c = pool_->cont_create(label, p);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? c.value() : nullptr;
  }
  std::string path_;
  std::shared_ptr<Pool> pool_;
};

std::vector<uint8_t> pattern(size_t n, uint64_t seed) {
  std::vector<uint8_t> b(n);
  uint64_t v = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& x : b) {
    v ^= v << 13;
    v ^= v >> 7;
    v ^= v << 17;
    x = static_cast<uint8_t>(v | 1);
  }
  return b;
}

}  // namespace

TEST_F(LoopbackPool, RunsOverLoopbackWithServersInProcess) {
  EXPECT_TRUE(is_initialized());
  EXPECT_EQ(server_ranks(), std::vector<int>{0});  // this one process serves
  auto q = pool_->query();
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  EXPECT_EQ(q->engines, 6u);
  EXPECT_EQ(q->engines_down, 0u);
}

TEST_F(LoopbackPool, ArrayWriteReadAcrossShardsAndServers) {
  for (const char* cls : {"S2", "RP_2G1", "EC_2P1G1", "EC_4P2G1"}) {
    SCOPED_TRACE(cls);
    auto c = cont(std::string("a-") + cls, std::string("ec_cell_sz:4096,cksum:crc32"));
    ASSERT_TRUE(c);
    auto oc = ObjClass::parse(cls);
    ASSERT_TRUE(oc.ok()) << oc.status().to_string();
    auto oid = c->alloc_oid(oc.value(), ObjType::kArray);
    ASSERT_TRUE(oid.ok()) << oid.status().to_string();
    auto a = c->open_array(oid.value(), 16384);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    // Unaligned, several chunks (so several shards on several servers), two iovecs.
    auto x = pattern(100000, 1), y = pattern(23456, 2);
    ConstIoVec w[] = {{x.data(), x.size()}, {y.data(), y.size()}};
    Status st = (*a)->write(777, w, 2);
    ASSERT_TRUE(st.ok()) << st.to_string();
    std::vector<uint8_t> back(x.size() + y.size() + 1000, 0xEE);
    st = (*a)->read(0, back.data(), back.size());
    ASSERT_TRUE(st.ok()) << st.to_string();
    for (size_t i = 0; i < 777; ++i) ASSERT_EQ(back[i], 0) << i;  // hole reads as zeros
    EXPECT_TRUE(std::equal(x.begin(), x.end(), back.begin() + 777));
    EXPECT_TRUE(std::equal(y.begin(), y.end(), back.begin() + 777 + x.size()));
    auto size = (*a)->get_size();
    ASSERT_TRUE(size.ok()) << size.status().to_string();
    EXPECT_EQ(size.value(), 777 + x.size() + y.size());
  }
  EXPECT_GT(stats().rpcs, 0u);
}

TEST_F(LoopbackPool, KvPutGetAndMissingKey) {
  auto c = cont("kv", "");
  ASSERT_TRUE(c);
  auto oc = ObjClass::parse("RP_3G1");
  ASSERT_TRUE(oc.ok());
  auto oid = c->alloc_oid(oc.value(), ObjType::kMultiLevel);
  ASSERT_TRUE(oid.ok()) << oid.status().to_string();
  auto kv = c->open_kv(oid.value());
  ASSERT_TRUE(kv.ok()) << kv.status().to_string();
  std::string big(300000, 'v');
  big[12345] = 'W';
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(
        (*kv)->put("d" + std::to_string(i), "a", i == 7 ? big : "v" + std::to_string(i)).ok());
  for (int i = 0; i < 20; ++i) {
    auto v = (*kv)->get("d" + std::to_string(i), "a");
    ASSERT_TRUE(v.ok()) << v.status().to_string();
    EXPECT_EQ(v.value(), i == 7 ? big : "v" + std::to_string(i));
  }
  auto none = (*kv)->get("nope", "a");
  EXPECT_EQ(none.status().code(), EDAOS_NONEXIST) << none.status().to_string();
  EXPECT_EQ((*kv)->put("d1", "a", "x", KV::kInsertOnly).code(), EDAOS_EXIST);
}

TEST_F(LoopbackPool, ServerErrorRepliesReachTheCaller) {
  // Errors made by the server (not by the client) and carried back in the reply.
  auto missing = pool_->cont_open("no-such-container");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), EDAOS_NONEXIST) << missing.status().to_string();
  ASSERT_TRUE(cont("dup", ""));
  auto dup = pool_->cont_create("dup", ContainerProps{});
  EXPECT_EQ(dup.status().code(), EDAOS_EXIST) << dup.status().to_string();
  auto none = Pool::connect(g_dir + "/nothing-here", MPI_COMM_SELF);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), EDAOS_NONEXIST) << none.status().to_string();
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  MPI_Init(&argc, &argv);
  const char* base = getenv("TMPDIR");
  std::string t = std::string(base && *base ? base : "/tmp") + "/edaos-loopback-XXXXXX";
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return 1;
  g_dir = buf.data();
  int rc = 1;
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) {
    std::fprintf(stderr, "init: %s\n", st.to_string().c_str());
  } else {
    rc = RUN_ALL_TESTS();
    st = finalize();
    if (!st.ok()) rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
  MPI_Finalize();
  return rc;
}

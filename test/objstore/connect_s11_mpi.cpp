// Pool connections do not synchronize the ranks (runtime/README.md "The store's own
// collectives"): the connect root returns once it has sent the pool map, without waiting for
// the other ranks to arrive; disconnect still waits for every rank.
#include <time.h>

#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class ConnectEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    Status st = init(MPI_COMM_WORLD);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void TearDown() override { (void)finalize(); }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new ConnectEnv);

constexpr int kConnectedTag = 4711;

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// The other ranks call Pool::connect only after rank 0's connect returned (rank 0 tells them
// by a message): a connect that waits for every rank (a blocking MPI_Comm_dup, as before
// session 11) never returns on rank 0, and the others give up after 30 s and fail.
TEST(ConnectTest, RootReturnsBeforeTheOtherRanksArrive) {
  if (nranks() < 2) GTEST_SKIP() << "needs 2 ranks";
  SharedTmpDir dir("s11-connect");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/pool";
  PoolCreateOptions o;
  o.engines = 4;
  o.targets = 1;
  EDAOS_ASSERT_OK(Pool::create(path, o, MPI_COMM_WORLD));

  std::shared_ptr<Pool> pool;
  int heard = 1;
  if (rank() == 0) {
    auto p = Pool::connect(path, MPI_COMM_WORLD);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool = p.value();
    int one = 1;
    for (int r = 1; r < nranks(); ++r) MPI_Send(&one, 1, MPI_INT, r, kConnectedTag, MPI_COMM_WORLD);
  } else {
    heard = 0;
    for (int waited = 0; waited < 30000 && !heard; waited += 2) {
      MPI_Iprobe(0, kConnectedTag, MPI_COMM_WORLD, &heard, MPI_STATUS_IGNORE);
      if (!heard) sleep_ms(2);
    }
    EXPECT_TRUE(heard) << "rank 0's Pool::connect did not return within 30 s while this rank "
                          "had not called it yet: the connect synchronizes the ranks";
    auto p = Pool::connect(path, MPI_COMM_WORLD);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool = p.value();
    if (heard) {
      int one = 0;
      MPI_Recv(&one, 1, MPI_INT, 0, kConnectedTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      EXPECT_EQ(one, 1);
    }
  }
  // Every rank sees the same map, and the connection works from each.
  EXPECT_EQ(pool->map().engines.size(), 4u);
  auto q = pool->query();
  EDAOS_EXPECT_OK(q.status());
  EDAOS_EXPECT_OK(pool->disconnect());
  if (!heard) {  // rank 0 is still inside connect: let the late message go (test failed)
    int one = 0;
    MPI_Recv(&one, 1, MPI_INT, 0, kConnectedTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
}

// Disconnect waits for every rank: no rank returns from it before the last one called it.
TEST(ConnectTest, DisconnectWaitsForEveryRank) {
  if (nranks() < 2) GTEST_SKIP() << "needs 2 ranks";
  SharedTmpDir dir("s11-disconnect");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/pool";
  PoolCreateOptions o;
  o.engines = 2;
  o.targets = 1;
  EDAOS_ASSERT_OK(Pool::create(path, o, MPI_COMM_WORLD));
  auto p = Pool::connect(path, MPI_COMM_WORLD);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  // The last rank arrives 1 s late; the others must still be inside disconnect then (the
  // ranks leave connect within a few milliseconds of each other, so 0.5 s is a wide margin).
  const bool late = rank() == nranks() - 1;
  if (late) sleep_ms(1000);
  const double t0 = MPI_Wtime();
  EDAOS_EXPECT_OK(p.value()->disconnect());
  const double waited = MPI_Wtime() - t0;
  if (!late) {
    EXPECT_GE(waited, 0.5) << "disconnect returned before the last rank called it";
  }
}

}  // namespace

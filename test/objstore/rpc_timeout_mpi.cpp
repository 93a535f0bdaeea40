// A silent server rank is reported as EDAOS_UNREACH after EDAOS_RPC_TIMEOUT instead of a hang.
// Two ranks, both servers (EDAOS_SERVER_RANKS=*:2, EDAOS_RPC_TIMEOUT=3 from ctest). Rank 0
// stops rank 1 (SIGSTOP: the process, its server thread included, goes silent without dying,
// so the MPI job survives), connects to the pool alone and must get EDAOS_UNREACH, then lets
// rank 1 continue; the job then finishes normally.
#include <gtest/gtest.h>
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "edaos/objstore/objstore.hpp"
#include "mpi_support.hpp"

using namespace edaos::objstore;
using edaos::test::rank;
using edaos::test::SharedTmpDir;

namespace {
struct Env : ::testing::Environment {
  void SetUp() override { ASSERT_TRUE(init(MPI_COMM_WORLD).ok()); }
  void TearDown() override { EXPECT_TRUE(finalize().ok()); }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new Env);
}  // namespace

TEST(RpcTimeout, SilentServerRankIsUnreachableWithinTheTimeout) {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  ASSERT_EQ(n, 2);
  ASSERT_EQ(server_ranks(), (std::vector<int>{0, 1}));
  const char* to = std::getenv("EDAOS_RPC_TIMEOUT");
  ASSERT_TRUE(to && std::atof(to) > 0) << "run with EDAOS_RPC_TIMEOUT set";
  SharedTmpDir dir("timeout");
  const std::string path = dir.path() + "/pool";
  PoolCreateOptions o;
  o.engines = 4;
  o.targets = 1;
  ASSERT_TRUE(Pool::create(path, o, MPI_COMM_WORLD).ok());
  int pids[2] = {0, 0};
  int me = static_cast<int>(getpid());
  MPI_Allgather(&me, 1, MPI_INT, pids, 1, MPI_INT, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {
    ASSERT_EQ(kill(pids[1], SIGSTOP), 0);
    const auto t0 = std::chrono::steady_clock::now();
    auto p = Pool::connect(path, MPI_COMM_SELF);
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    kill(pids[1], SIGCONT);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), EDAOS_UNREACH) << p.status().to_string();
    EXPECT_NE(p.status().message().find("EDAOS_RPC_TIMEOUT"), std::string::npos)
        << p.status().message();
    EXPECT_GE(waited, std::atof(to) * 0.99);  // it waited for the peer, it did not fail early
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

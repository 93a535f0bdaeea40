// Session 9 (issue 17): a job that ends with its pool connection still open (a handle kept
// past objstore::finalize, as a leaked handle or a static does) stops its servers with the
// engines' changes unsynced. Each engine now syncs them at its close and saves the used-bytes
// counter: every engine's LOCK is left holding its seal, so the next job's connection trusts
// the counter instead of walking every target directory (vos/README.md "Used-bytes counter").
// Before, the engines that held this job's writes were released without a seal (the next open
// walked: 1.6-2.9 s for a pool of 100,000 files). One test per process: it finalizes.
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>

#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

constexpr uint32_t kEngines = 8;

TEST(S9MetaUnclosed, ServersStoppingWithAnOpenPoolSealEveryEngine) {
  if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  SharedTmpDir dir("s9unclosed");
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/pool";
  PoolCreateOptions o;
  o.engines = kEngines;
  o.targets = 1;
  EDAOS_ASSERT_OK(Pool::create(path, o, MPI_COMM_WORLD));
  auto p = Pool::connect(path, MPI_COMM_WORLD);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  Status st;
  if (rank() == 0) st = p.value()->cont_create("c", ContainerProps{}).status();
  int code = st.code();
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  ASSERT_EQ(code, EDAOS_OK) << st.to_string();
  {
    auto c = p.value()->cont_open("c");
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto d = Dfs::mount(c.value(), MPI_COMM_WORLD, O_RDWR);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    // Every rank writes files (through the direct path where it applies) and removes some.
    const std::string data(256 * 1024, static_cast<char>('a' + rank()));
    for (int i = 0; i < 8; ++i) {
      const std::string name = "/f" + std::to_string(rank()) + "." + std::to_string(i);
      auto f = d.value()->open(name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      EDAOS_ASSERT_OK(f.value()->write(0, data.data(), data.size()));
      if (i % 3 == 0) {
        f.value().reset();
        EDAOS_ASSERT_OK(d.value()->unlink(name));
      }
    }
    EDAOS_ASSERT_OK(d.value()->umount());
    MPI_Barrier(MPI_COMM_WORLD);
  }
  // The connection is never closed: this reference outlives finalize (the servers stop first).
  new std::shared_ptr<Pool>(p.value());
  MPI_Barrier(MPI_COMM_WORLD);
  EDAOS_ASSERT_OK(finalize());
  if (rank() == 0) {
    for (uint32_t e = 0; e < kEngines; ++e) {
      char name[32];
      std::snprintf(name, sizeof name, "/engine-%04u/LOCK", e);
      std::ifstream in(path + name, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(text.compare(0, 5, "seal "), 0)
          << path << name << " holds no seal: the next open walks the targets";
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

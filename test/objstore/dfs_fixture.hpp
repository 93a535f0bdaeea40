// The fixture of the multi-rank namespace tests that need a fresh pool of their own: rank 0
// creates a pool of `engines` x 1 in a fresh shared directory, every rank connects, rank 0
// creates a POSIX container, every rank opens and mounts it.
#pragma once

#include <fcntl.h>

#include <memory>
#include <string>

#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

namespace edaos::test {

class MountedPoolTest : public ::testing::Test {
 protected:
  // Called from SetUp; `tag` names the directory, `label` the container.
  void mount_fresh(const char* tag, const char* label, uint32_t engines) {
    dir_ = std::make_unique<SharedTmpDir>(tag);
    ASSERT_FALSE(dir_->path().empty());
    const std::string path = dir_->path() + "/pool";
    objstore::PoolCreateOptions o;
    o.engines = engines;
    o.targets = 1;
    EDAOS_ASSERT_OK(objstore::Pool::create(path, o, MPI_COMM_WORLD));
    auto p = objstore::Pool::connect(path, MPI_COMM_WORLD);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool_ = p.value();
    Status st;
    if (rank() == 0) st = pool_->cont_create(label, objstore::ContainerProps{}).status();
    int code = st.code();
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ASSERT_EQ(code, EDAOS_OK) << st.to_string();
    auto c = pool_->cont_open(label);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    cont_ = c.value();
    auto d = objstore::Dfs::mount(cont_, MPI_COMM_WORLD, O_RDWR);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    dfs_ = std::move(d).value();
  }
  void TearDown() override {
    dfs_.reset();
    cont_.reset();
    if (pool_) EDAOS_EXPECT_OK(pool_->disconnect());
    pool_.reset();
    dir_.reset();
  }

  std::unique_ptr<SharedTmpDir> dir_;
  std::shared_ptr<objstore::Pool> pool_;
  std::shared_ptr<objstore::Container> cont_;
  std::unique_ptr<objstore::Dfs> dfs_;
};

}  // namespace edaos::test

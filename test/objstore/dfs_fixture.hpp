// The fixture of the multi-rank namespace tests that need a fresh pool of their own: rank 0
// creates a pool of `engines` x 1 in a fresh shared directory, every rank connects, rank 0
// creates a POSIX container, every rank opens and mounts it.
#pragma once

#include <fcntl.h>

#include <memory>
#include <string>
#include <vector>

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
  // The tree of the stat-by-class tests (S8MetaTest, S10StatTest): rank 0 makes /<class> for
  // each of kTreeClasses (the class of its files), /S1/sub and the symlink /S1/link to it; then
  // every rank creates /<class>/f<rank>.<i> with tree_file_sizes(rank)[i] bytes of 'a' + i.
  // Barriers before and after.
  static constexpr const char* kTreeClasses[] = {"S1", "SX", "RP_2G1", "EC_2P1G1"};
  // Sizes that end inside a cell, on a chunk boundary and past the first chunk.
  static std::vector<size_t> tree_file_sizes(int r) {
    return {1, 1000 + static_cast<size_t>(r), 1u << 20, (3u << 20) + 17};
  }
  void make_class_tree() {
    if (rank() == 0) {
      for (const char* oc : kTreeClasses) {
        const std::string d = std::string("/") + oc;
        EDAOS_ASSERT_OK(dfs_->mkdir(d, 0755));
        EDAOS_ASSERT_OK(dfs_->set_dir_attr(d, oc));
      }
      EDAOS_ASSERT_OK(dfs_->mkdir("/S1/sub", 0755));
      EDAOS_ASSERT_OK(dfs_->symlink("/S1/link", "/S1/sub"));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    const std::vector<size_t> sizes = tree_file_sizes(rank());
    for (const char* oc : kTreeClasses)
      for (size_t i = 0; i < sizes.size(); ++i) {
        const std::string path =
            std::string("/") + oc + "/f" + std::to_string(rank()) + "." + std::to_string(i);
        auto f = dfs_->open(path, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
        ASSERT_TRUE(f.ok()) << path << ": " << f.status().to_string();
        const std::string data(sizes[i], static_cast<char>('a' + i));
        EDAOS_ASSERT_OK(f.value()->write(0, data.data(), data.size()));
      }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  std::shared_ptr<objstore::Pool> pool_;
  std::shared_ptr<objstore::Container> cont_;
  std::unique_ptr<objstore::Dfs> dfs_;
};

}  // namespace edaos::test

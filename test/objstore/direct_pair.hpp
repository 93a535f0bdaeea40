// The fixture of the direct-path tests (mpi_direct.cpp, mpi_direct_bound.cpp): one pool reached
// through two connections, one whose shard I/O goes direct where it can (EDAOS_DIRECT=1) and one
// that goes through the engines (EDAOS_DIRECT=0), so every byte can be checked through both.
#pragma once

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>

#include "mpi_support.hpp"

namespace edaos::test {

class DirectPairTest : public ::testing::Test {
 protected:
  // Rank 0 creates a pool of `engines` x `targets` in a fresh shared directory named by `tag`;
  // every rank connects to it twice (direct_, remote_). Called from SetUp.
  void open_pools(const char* tag, uint32_t engines, uint32_t targets) {
    dir_ = std::make_unique<SharedTmpDir>(tag);
    ASSERT_FALSE(dir_->path().empty());
    path_ = dir_->path() + "/pool";
    objstore::PoolCreateOptions o;
    o.engines = engines;
    o.targets = targets;
    EDAOS_ASSERT_OK(objstore::Pool::create(path_, o, MPI_COMM_WORLD));
    direct_ = connect("1");
    remote_ = connect("0");
    ASSERT_TRUE(direct_ && remote_);
  }
  void TearDown() override {
    objstore::set_direct_hook_for_testing(nullptr);
    if (direct_) EDAOS_EXPECT_OK(direct_->disconnect());
    if (remote_) EDAOS_EXPECT_OK(remote_->disconnect());
    direct_.reset();
    remote_.reset();
    dir_.reset();
  }
  // Descriptors open in this process.
  static int open_fds() {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++n;
      closedir(d);
    }
    return n;
  }
  // The descriptor-budget tests: the last rank, when it serves no engine (its descriptors are
  // the client's alone) on one node, runs with RLIMIT_NOFILE lowered to the descriptors open now
  // + `headroom`; restore() puts the old limit back. `run` says whether this rank is that one.
  struct LowFdLimit {
    bool run = false;
    rlim_t lim = 0;
    struct rlimit old {};
    explicit LowFdLimit(rlim_t headroom) {
      const int me = nranks() - 1;
      bool client_only = !two_nodes();
      for (int s : objstore::server_ranks()) client_only = client_only && s != me;
      EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
      lim = std::min<rlim_t>(static_cast<rlim_t>(open_fds()) + headroom, old.rlim_cur);
      run = rank() == me && client_only;
      if (run) {
        struct rlimit low = old;
        low.rlim_cur = lim;
        EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
      }
    }
    void restore() {
      if (run) {
        EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
      }
    }
  };
  // A connection whose shard path is chosen with $EDAOS_DIRECT = `mode` (read at connect,
  // client/README.md "Direct path"); the variable is restored afterwards.
  std::shared_ptr<objstore::Pool> connect(const char* mode) {
    const char* old = std::getenv("EDAOS_DIRECT");
    const std::string keep = old ? old : "";
    setenv("EDAOS_DIRECT", mode, 1);
    auto p = objstore::Pool::connect(path_, MPI_COMM_WORLD);
    if (old)
      setenv("EDAOS_DIRECT", keep.c_str(), 1);
    else
      unsetenv("EDAOS_DIRECT");
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return p.ok() ? p.value() : nullptr;
  }
  // Rank 0 creates the container; every rank opens it through both connections (dc_, rc_).
  void make_cont(const std::string& label, const std::string& props) {
    Status st;
    if (rank() == 0) {
      objstore::ContainerProps p;
      st = objstore::apply_properties(&p, props);
      if (st.ok()) st = direct_->cont_create(label, p).status();
    }
    int code = st.code();
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    ASSERT_EQ(code, EDAOS_OK) << st.to_string();
    auto a = direct_->cont_open(label);
    auto b = remote_->cont_open(label);
    ASSERT_TRUE(a.ok() && b.ok());
    dc_ = a.value();
    rc_ = b.value();
  }
  // A new array object of class `cls`, allocated by rank 0 and known to every rank.
  objstore::ObjectId new_oid(const std::string& cls) {
    objstore::ObjectId o;
    if (rank() == 0) {
      auto r = dc_->alloc_oid(objstore::ObjClass::parse(cls).value(), objstore::ObjType::kArray);
      EXPECT_TRUE(r.ok()) << r.status().to_string();
      if (r.ok()) o = r.value();
    }
    return bcast_oid(o);
  }

  std::unique_ptr<SharedTmpDir> dir_;
  std::string path_;
  std::shared_ptr<objstore::Pool> direct_, remote_;
  std::shared_ptr<objstore::Container> dc_, rc_;
};

}  // namespace edaos::test

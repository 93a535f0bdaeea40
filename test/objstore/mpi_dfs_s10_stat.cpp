// Metadata reads without the server (session 10, issue 17): a stat by name on the node of the
// engines reads the entry and the file's size from the engines' meta.mdb and sizes.log itself
// (client/local_meta.hpp, vos::MetaReader): no message. The sizes and objects it reports are
// checked against the store while other ranks change the name: after every completed change and
// a barrier (exact), and racing the changes (never another object's size). Runs in every
// test_objstore_dfs_mpi entry and in the session 10 entries (two server ranks, commit
// pipelining on, two simulated nodes, the local reads off).
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

namespace edaos::objstore::client {
// Exported test hooks of client/local_meta.hpp.
void set_local_meta_for_testing(int on);
uint64_t local_meta_gets_for_testing();
}  // namespace edaos::objstore::client

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S10StatEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s10_env = ::testing::AddGlobalTestEnvironment(new S10StatEnv);

bool local_meta_env() {
  const char* v = std::getenv("EDAOS_LOCAL_META");
  return !(v && std::string(v) == "0");
}

class S10StatTest : public MountedPoolTest {
 protected:
  void SetUp() override {
    mount_fresh("s10stat", "s10", 8);
    // Engines open at their first use (session 10) and the process of an engine's server reads
    // its metadata only through the open engine, so the round trips counted below start with
    // every engine open (a pool query opens them all).
    EDAOS_ASSERT_OK(pool_->query().status());
    two_ = two_nodes();
  }
  void TearDown() override {
    client::set_local_meta_for_testing(-1);
    MountedPoolTest::TearDown();
  }
  void write_at(const std::string& path, uint64_t off, size_t len, char c, int flags,
                ObjectId* oid = nullptr) {
    auto f = dfs_->open(path, S_IFREG | 0644, O_RDWR | flags);
    ASSERT_TRUE(f.ok()) << path << ": " << f.status().to_string();
    std::string data(len, c);
    if (len) EDAOS_ASSERT_OK(f.value()->write(off, data.data(), data.size()));
    if (oid) *oid = f.value()->oid();
  }
  struct Counted {
    Result<DfsStat> st = Status(EDAOS_INVAL, "not run");
    uint64_t waits = 0, local = 0;
  };
  static Counted counted(Dfs* m, const DfsObj* dir, const std::string& name) {
    Counted c;
    const uint64_t w0 = rpc_round_trips_for_testing();
    const uint64_t l0 = client::local_meta_gets_for_testing();
    c.st = m->stat(dir, name);
    c.waits = rpc_round_trips_for_testing() - w0;
    c.local = client::local_meta_gets_for_testing() - l0;
    return c;
  }
  bool two_ = false;
};

// Files of several classes stat'ed by name (handle form, path form, stat_names) through a fresh
// mount, with the local reads on and then off: on one node every stat with them on is 0 round
// trips (the entry and all of the file's shards are on this node); with two simulated nodes a
// stat is 0 when everything it reads is here, else exactly what the servers' path costs (1 when
// the entry's server holds the file). Sizes equal Array::get_size either way.
TEST_F(S10StatTest, StatOnTheEnginesNodeSendsNoMessage) {
  make_class_tree();
  const int peer = (rank() + 1) % nranks();
  const std::vector<size_t> peer_sizes = tree_file_sizes(peer);
  const bool on = local_meta_env();
  uint64_t zero = 0, nonzero = 0;
  for (const char* oc : kTreeClasses) {
    SCOPED_TRACE(oc);
    for (size_t i = 0; i < peer_sizes.size(); ++i) {
      const std::string name = "f" + std::to_string(peer) + "." + std::to_string(i);
      SCOPED_TRACE(name);
      Counted c[2];
      for (int off = 0; off < 2; ++off) {  // local reads as configured, then off
        client::set_local_meta_for_testing(off ? 0 : -1);
        auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
        ASSERT_TRUE(fresh.ok());
        auto dh = fresh.value()->lookup(std::string("/") + oc, O_RDONLY);
        ASSERT_TRUE(dh.ok()) << dh.status().to_string();
        c[off] = counted(fresh.value().get(), dh.value().get(), name);
        ASSERT_TRUE(c[off].st.ok()) << c[off].st.status().to_string();
        EXPECT_EQ(c[off].st->size, peer_sizes[i]);
        auto a = cont_->open_array(c[off].st->oid, c[off].st->chunk_size);
        ASSERT_TRUE(a.ok());
        auto sz = a.value()->get_size();
        ASSERT_TRUE(sz.ok());
        EXPECT_EQ(sz.value(), c[off].st->size);
      }
      client::set_local_meta_for_testing(-1);
      EXPECT_EQ(c[1].local, 0u);
      EXPECT_GE(c[1].waits, 1u);
      if (!on) {
        EXPECT_EQ(c[0].waits, c[1].waits);
      } else if (!two_) {
        EXPECT_EQ(c[0].waits, 0u);
        EXPECT_GE(c[0].local, 1u);
      } else {
        EXPECT_TRUE(c[0].waits == 0 || c[0].waits == c[1].waits)
            << c[0].waits << " vs " << c[1].waits;
      }
      (c[0].waits == 0 ? zero : nonzero)++;
    }
    // The vector form: every name of the class at once, and a missing one.
    auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
    ASSERT_TRUE(fresh.ok());
    auto dh = fresh.value()->lookup(std::string("/") + oc, O_RDONLY);
    ASSERT_TRUE(dh.ok());
    std::vector<std::string> names;
    for (size_t i = 0; i < peer_sizes.size(); ++i)
      names.push_back("f" + std::to_string(peer) + "." + std::to_string(i));
    names.push_back("missing");
    std::vector<DfsStat> st;
    std::vector<Status> sts;
    const uint64_t w0 = rpc_round_trips_for_testing();
    EXPECT_EQ(fresh.value()->stat_names(dh.value().get(), names, &st, &sts).code(), EDAOS_NONEXIST);
    const uint64_t waits = rpc_round_trips_for_testing() - w0;
    for (size_t i = 0; i < peer_sizes.size(); ++i) {
      EDAOS_EXPECT_OK(sts[i]);
      EXPECT_EQ(st[i].size, peer_sizes[i]) << names[i];
    }
    EXPECT_EQ(sts.back().code(), EDAOS_NONEXIST);
    if (on && !two_) {
      EXPECT_EQ(waits, 0u);
    }
  }
  // A directory, a link, a missing name, the path form.
  auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(fresh.ok());
  auto s1 = fresh.value()->lookup("/S1", O_RDONLY);
  ASSERT_TRUE(s1.ok());
  for (const char* n : {"sub", "link", "missing"}) {
    Counted c = counted(fresh.value().get(), s1.value().get(), n);
    EXPECT_EQ(c.st.ok(), std::string(n) != "missing") << n;
    if (on && !two_) {
      EXPECT_EQ(c.waits, 0u) << n;
    }
  }
  const uint64_t w0 = rpc_round_trips_for_testing();
  auto ps = fresh.value()->stat("/S1/f" + std::to_string(peer) + ".1");
  ASSERT_TRUE(ps.ok()) << ps.status().to_string();
  EXPECT_EQ(ps->size, peer_sizes[1]);
  if (on && !two_) {
    EXPECT_EQ(rpc_round_trips_for_testing() - w0, 0u);
  }
  // Two simulated nodes: some stats were answered here and some went to a server.
  const uint64_t all_zero = all_ranks_sum(zero), all_nonzero = all_ranks_sum(nonzero);
  if (on && two_) {
    EXPECT_GT(all_zero, 0u);
    EXPECT_GT(all_nonzero, 0u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// The last rank changes "x" (created, extended inside and past its chunk, truncated, renamed
// over, removed and re-created, removed) in a directory of each class; after every completed
// change and a barrier every other rank's stat reports exactly the object the entry names and
// the size the change made (never a smaller one: a size still in sizes.log, or a direct write
// whose commit is pipelined, is seen).
TEST_F(S10StatTest, SizeAfterACompletedChangeAndABarrierIsExact) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank to change the name";
  const bool changer = rank() == nranks() - 1;
  for (const char* oc : {"S1", "SX", "RP_2G1", "EC_2P1G1"}) {
    SCOPED_TRACE(oc);
    const std::string d = std::string("/") + oc;
    if (changer) {
      EDAOS_ASSERT_OK(dfs_->mkdir(d, 0755));
      EDAOS_ASSERT_OK(dfs_->set_dir_attr(d, oc));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    auto check = [&](const char* what, ObjectId oid, uint64_t size, bool exists) {
      MPI_Bcast(&oid, sizeof oid, MPI_BYTE, nranks() - 1, MPI_COMM_WORLD);
      if (!changer) {
        SCOPED_TRACE(what);
        auto dh = dfs_->lookup(d, O_RDONLY);
        ASSERT_TRUE(dh.ok());
        Counted c = counted(dfs_.get(), dh.value().get(), "x");
        if (!exists) {
          EXPECT_EQ(c.st.status().code(), EDAOS_NONEXIST) << c.st.status().to_string();
        } else {
          ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
          EXPECT_EQ(c.st->oid, oid);
          EXPECT_EQ(c.st->size, size);
        }
        auto p = dfs_->stat(d + "/x");
        EXPECT_EQ(p.ok(), exists);
        if (p.ok()) {
          EXPECT_EQ(p->size, size);
        }
      }
      MPI_Barrier(MPI_COMM_WORLD);
    };
    const std::string x = d + "/x";
    ObjectId oid;
    if (changer) write_at(x, 0, 100, 'a', O_CREAT | O_EXCL, &oid);
    check("created", oid, 100, true);
    if (changer) write_at(x, 5000, 10, 'b', 0);
    check("extended", oid, 5010, true);
    if (changer) write_at(x, (1u << 20) + 3, 7, 'c', 0);
    check("extended past the first chunk", oid, (1u << 20) + 10, true);
    if (changer) {
      auto f = dfs_->open(x, S_IFREG, O_RDWR);
      ASSERT_TRUE(f.ok());
      EDAOS_ASSERT_OK(f.value()->set_size(3));
    }
    check("truncated", oid, 3, true);
    if (changer) write_at(x, 70000, 1, 'd', 0);
    check("extended after the truncate", oid, 70001, true);
    if (changer) {
      write_at(d + "/y", 0, 300, 'e', O_CREAT | O_EXCL, &oid);
      EDAOS_ASSERT_OK(dfs_->rename(d + "/y", x));
    }
    check("renamed over", oid, 300, true);
    if (changer) {
      EDAOS_ASSERT_OK(dfs_->remove(x));
      write_at(x, 0, 20, 'f', O_CREAT | O_EXCL, &oid);
    }
    check("removed and re-created", oid, 20, true);
    if (changer) EDAOS_ASSERT_OK(dfs_->remove(x));
    check("removed", oid, 0, false);
  }
}

// The last rank creates, renames over, extends, truncates and removes "x" in a loop while the
// other ranks stat it as fast as they can. Object k has the sizes 100k + {1, 3, 2} and holds the
// byte 'A' + k % 50: every size a stat reports must be one of its own object's (a size of another
// object would name another k than the object's byte), or 0.
TEST_F(S10StatTest, StatRacingChangesNeverGivesAnotherObjectsSize) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank to change the name";
  const bool changer = rank() == nranks() - 1;
  MPI_Request req;
  uint64_t stats = 0, sized = 0, checked = 0;
  if (changer) {
    constexpr int kIters = 60;
    for (int k = 1; k <= kIters; ++k) {
      const char c = static_cast<char>('A' + k % 50);
      write_at("/t", 0, 100 * k + 1, c, O_CREAT | O_EXCL);
      EDAOS_ASSERT_OK(dfs_->rename("/t", "/x"));
      write_at("/x", 100 * k + 1, 2, c, 0);
      auto f = dfs_->open("/x", S_IFREG, O_RDWR);
      ASSERT_TRUE(f.ok());
      EDAOS_ASSERT_OK(f.value()->set_size(100 * k + 2));
      if (k % 4 == 0) EDAOS_ASSERT_OK(dfs_->remove("/x"));
    }
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  } else {
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    for (int done = 0; !done;) {
      auto s = dfs_->stat(nullptr, "x");
      ++stats;
      if (s.ok()) {
        ASSERT_TRUE(S_ISREG(s->mode));
        if (s->size) {
          ++sized;
          const uint64_t k = s->size / 100, r = s->size % 100;
          ASSERT_TRUE(r >= 1 && r <= 3) << s->size;
          auto a = cont_->open_array(s->oid, s->chunk_size);
          ASSERT_TRUE(a.ok());
          char b = 0;
          Status rs = a.value()->read(0, &b, 1);
          // Destroyed meanwhile (a hole, or gone): nothing to compare.
          if (rs.ok() && b != 0) {
            ++checked;
            EXPECT_EQ(b, static_cast<char>('A' + k % 50))
                << "size " << s->size << " reported for an object of another iteration";
          }
        }
      } else {
        ASSERT_EQ(s.status().code(), EDAOS_NONEXIST) << s.status().to_string();
      }
      MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    }
  }
  const uint64_t all_checked = all_ranks_sum(checked);
  if (rank() == 0) {
    std::printf("[s10] race: %lu stats, %lu sized, %lu checked against their object (rank 0)\n",
                static_cast<unsigned long>(stats), static_cast<unsigned long>(sized),
                static_cast<unsigned long>(checked));
    EXPECT_GT(all_checked, 0u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

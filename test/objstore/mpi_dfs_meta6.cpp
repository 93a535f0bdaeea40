// Metadata, session 6 (issue 17): the vector KV call travels as one kKvVec message per server
// rank (one LMDB transaction per engine for its changes), and the namespace's vector calls keep
// POSIX semantics on top of it: exclusive create of a name twice in one vector and from every
// rank at once, per-entry errors, readdir and stat of a vector create from another rank.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class Meta6Env : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_meta6_env = ::testing::AddGlobalTestEnvironment(new Meta6Env);

// A pool of 8 engines (spread over every server rank), one POSIX container, mounted.
class Meta6Test : public MountedPoolTest {
 protected:
  void SetUp() override { mount_fresh("meta6", "m6", 8); }
  // A KV object of class `cls`, made by rank 0 and opened by every rank.
  std::unique_ptr<KV> shared_kv(const char* cls) {
    auto oc = ObjClass::parse(cls);
    EXPECT_TRUE(oc.ok());
    ObjectId oid;
    if (rank() == 0) {
      auto o = cont_->alloc_oid(oc.value(), ObjType::kMultiLevel);
      EXPECT_TRUE(o.ok());
      if (o.ok()) oid = o.value();
    }
    MPI_Bcast(&oid, sizeof oid, MPI_BYTE, 0, MPI_COMM_WORLD);
    auto k = cont_->open_kv(oid);
    EXPECT_TRUE(k.ok()) << k.status().to_string();
    return k.ok() ? std::move(k).value() : nullptr;
  }
  static KvOp op(KvOp::Kind kind, const std::string& dkey, const std::string& value = "",
                 uint32_t flags = 0) {
    KvOp o;
    o.kind = kind;
    o.dkey = dkey;
    o.akey = "a";
    o.value = value;
    o.flags = flags;
    return o;
  }
  static uint64_t rpcs() { return stats().rpcs; }
};

// The vector call costs one message per server rank holding its keys (plus one per rank for
// the other copies of replicated changes), not one per op. Before session 6 each op was its
// own message: 300 here.
TEST_F(Meta6Test, KvRunIsOneMessagePerServerRank) {
  const uint64_t nservers = server_ranks().size();
  ASSERT_GT(nservers, 0u);
  struct Case {
    const char* cls;
    uint64_t max_put, max_get;
  };
  // S1: one engine, one message. SX: keys on every engine. RP_2G1: first copies, then the
  // second copies (at most one message per server rank each round).
  for (const Case& c :
       {Case{"S1", 1, 1}, Case{"SX", nservers, nservers}, Case{"RP_2G1", 2 * nservers, nservers}}) {
    SCOPED_TRACE(c.cls);
    auto kv = shared_kv(c.cls);
    ASSERT_TRUE(kv);
    std::vector<KvOp> ops;
    for (int i = 0; i < 300; ++i)
      ops.push_back(op(KvOp::kPut, "r" + std::to_string(rank()) + "k" + std::to_string(i),
                       "value " + std::to_string(i)));
    uint64_t before = rpcs();
    EDAOS_ASSERT_OK(kv->run(&ops));
    EXPECT_LE(rpcs() - before, c.max_put);
    for (KvOp& o : ops) {
      o.kind = KvOp::kGet;
      o.value.clear();
    }
    before = rpcs();
    EDAOS_ASSERT_OK(kv->run(&ops));
    EXPECT_LE(rpcs() - before, c.max_get);
    for (int i = 0; i < 300; ++i) EXPECT_EQ(ops[i].value, "value " + std::to_string(i));
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// Every op of a vector gets exactly the outcome its single call would have had, in order:
// an insert-only put of a name twice in one vector wins once, a get after a put in the same
// vector sees it, a remove of a missing key, an update-only put of a missing key and a bad key
// fail alone.
TEST_F(Meta6Test, VectorOpsKeepTheirOrderAndOwnErrors) {
  for (const char* cls : {"S1", "SX", "RP_2G1"}) {
    SCOPED_TRACE(cls);
    auto kv = shared_kv(cls);
    ASSERT_TRUE(kv);
    const std::string me = "r" + std::to_string(rank());
    std::vector<KvOp> ops = {
        op(KvOp::kPut, me + "x", "first", KV::kInsertOnly),
        op(KvOp::kPut, me + "x", "second", KV::kInsertOnly),
        op(KvOp::kGet, me + "x"),
        op(KvOp::kRemove, me + "missing"),
        op(KvOp::kPut, me + "y", "upd", KV::kUpdateOnly),
        op(KvOp::kPut, "", "no key"),
        op(KvOp::kPut, me + "z", "plain"),
        op(KvOp::kRemove, me + "z"),
        op(KvOp::kGet, me + "z"),
        op(KvOp::kPut, me + "z", "again", KV::kInsertOnly),
    };
    Status st = kv->run(&ops);
    EXPECT_EQ(st.code(), EDAOS_EXIST) << st.to_string();  // the first failure
    EDAOS_EXPECT_OK(ops[0].status);
    EXPECT_EQ(ops[1].status.code(), EDAOS_EXIST) << ops[1].status.to_string();
    EDAOS_EXPECT_OK(ops[2].status);
    EXPECT_EQ(ops[2].value, "first");
    EXPECT_EQ(ops[3].status.code(), EDAOS_NONEXIST);
    EXPECT_EQ(ops[4].status.code(), EDAOS_NONEXIST);
    EXPECT_EQ(ops[5].status.code(), EDAOS_INVAL);
    EDAOS_EXPECT_OK(ops[6].status);
    EDAOS_EXPECT_OK(ops[7].status);
    EXPECT_EQ(ops[8].status.code(), EDAOS_NONEXIST);
    EDAOS_EXPECT_OK(ops[9].status);
    auto x = kv->get(me + "x", "a");
    ASSERT_TRUE(x.ok());
    EXPECT_EQ(x.value(), "first");
    auto z = kv->get(me + "z", "a");
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(z.value(), "again");
    EXPECT_EQ(kv->get(me + "y", "a").status().code(), EDAOS_NONEXIST);
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// Every rank inserts the same 200 keys (insert-only, its rank as value) in one vector at once:
// each key has exactly one winner across ranks, and every copy holds the winner's value.
TEST_F(Meta6Test, ExclusiveInsertsFromEveryRankHaveOneWinner) {
  for (const char* cls : {"SX", "RP_2G1"}) {
    SCOPED_TRACE(cls);
    auto kv = shared_kv(cls);
    ASSERT_TRUE(kv);
    constexpr int kKeys = 200;
    std::vector<KvOp> ops;
    for (int i = 0; i < kKeys; ++i)
      ops.push_back(
          op(KvOp::kPut, "key" + std::to_string(i), std::to_string(rank()), KV::kInsertOnly));
    MPI_Barrier(MPI_COMM_WORLD);
    (void)kv->run(&ops);
    std::vector<int> won(kKeys), all(kKeys);
    for (int i = 0; i < kKeys; ++i) {
      if (ops[i].status.ok()) {
        won[i] = 1;
      } else {
        EXPECT_EQ(ops[i].status.code(), EDAOS_EXIST) << ops[i].status.to_string();
      }
    }
    MPI_Allreduce(won.data(), all.data(), kKeys, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    std::vector<KvOp> gets;
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(all[i], 1) << "key" << i;
      gets.push_back(op(KvOp::kGet, "key" + std::to_string(i)));
    }
    EDAOS_ASSERT_OK(kv->run(&gets));
    // The winner's value, the same on every rank.
    std::vector<int> owner(kKeys), max_owner(kKeys), min_owner(kKeys);
    for (int i = 0; i < kKeys; ++i) {
      owner[i] = std::stoi(gets[i].value);
      if (won[i]) {
        EXPECT_EQ(owner[i], rank());
      }
    }
    MPI_Allreduce(owner.data(), max_owner.data(), kKeys, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(owner.data(), min_owner.data(), kKeys, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    EXPECT_EQ(max_owner, min_owner);
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// A vector create on one rank is seen whole by readdir and stat_names on every other rank
// once it returned; creating the same names again from every rank at once leaves one winner
// per name, holding its own bytes.
TEST_F(Meta6Test, VectorCreateIsSeenByReaddirAndStatOnOtherRanks) {
  const int n = nranks();
  constexpr int kFiles = 60;
  if (rank() == 0) EDAOS_ASSERT_OK(dfs_->mkdir("/vc", 0755));
  MPI_Barrier(MPI_COMM_WORLD);
  auto dir = dfs_->lookup("/vc", O_RDWR);
  ASSERT_TRUE(dir.ok()) << dir.status().to_string();
  // Rank r creates "r<r>f<i>" with i+r bytes.
  std::vector<std::string> data(kFiles);
  std::vector<DfsNewFile> files(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    files[i].name = "r" + std::to_string(rank()) + "f" + std::to_string(i);
    data[i].assign(static_cast<size_t>(i + rank()), static_cast<char>('a' + i % 26));
    files[i].data = data[i].data();
    files[i].len = data[i].size();
  }
  EDAOS_ASSERT_OK(dfs_->create_files(dir.value().get(), &files));
  MPI_Barrier(MPI_COMM_WORLD);
  // Every rank lists everything and stats the next rank's files.
  std::set<std::string> seen;
  DfsAnchor anchor;
  while (!anchor.eof) {
    auto page = dfs_->readdir(dir.value().get(), &anchor, 17);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    for (auto& e : page.value()) seen.insert(e.name);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kFiles * n));
  const int peer = (rank() + 1) % n;
  std::vector<std::string> names;
  for (int i = 0; i < kFiles; ++i)
    names.push_back("r" + std::to_string(peer) + "f" + std::to_string(i));
  names.push_back("nobody");
  std::vector<DfsStat> st;
  std::vector<Status> sts;
  EXPECT_EQ(dfs_->stat_names(dir.value().get(), names, &st, &sts).code(), EDAOS_NONEXIST);
  ASSERT_EQ(st.size(), names.size());
  ASSERT_EQ(sts.size(), names.size());
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(sts[i].ok()) << names[i] << ": " << sts[i].to_string();
    EXPECT_TRUE(S_ISREG(st[i].mode));
    EXPECT_EQ(st[i].size, static_cast<uint64_t>(i + peer)) << names[i];
  }
  EXPECT_EQ(sts[kFiles].code(), EDAOS_NONEXIST);
  MPI_Barrier(MPI_COMM_WORLD);
  // The same 40 new names from every rank at once: one winner each, whose bytes the file holds.
  std::vector<std::string> rdata(40);
  std::vector<DfsNewFile> race(40);
  for (int i = 0; i < 40; ++i) {
    race[i].name = "race" + std::to_string(i);
    rdata[i] = "rank " + std::to_string(rank()) + " file " + std::to_string(i);
    race[i].data = rdata[i].data();
    race[i].len = rdata[i].size();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  (void)dfs_->create_files(dir.value().get(), &race);
  std::vector<int> won(40), all(40);
  for (int i = 0; i < 40; ++i) {
    won[i] = race[i].status.ok() ? 1 : 0;
    if (!won[i]) {
      EXPECT_EQ(race[i].status.code(), EDAOS_EXIST) << race[i].status.to_string();
    }
  }
  MPI_Allreduce(won.data(), all.data(), 40, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(all[i], 1) << race[i].name;
    if (!won[i]) continue;
    auto f = dfs_->lookup(dir.value().get(), race[i].name, O_RDONLY);
    ASSERT_TRUE(f.ok());
    std::string buf(rdata[i].size() + 8, '\0');
    auto got = f.value()->read(0, buf.data(), buf.size());
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(buf.substr(0, got.value()), rdata[i]);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// The data of a vector create goes in shared messages (Container::write_arrays): 64 small files
// of a replica or single-shard class cost a handful of messages per server rank, not one or two
// per file (before session 8: a lease and a commit per file on the direct path, a write per
// file through the engines, >= 64 here), and every file holds its own bytes, read back by
// another rank too. EC files still go one by one (their stripe logic), also checked.
TEST_F(Meta6Test, VectorCreateSendsTheDataOfManyFilesTogether) {
  const uint64_t nservers = server_ranks().size();
  const int n = nranks();
  constexpr int kFiles = 24;  // per rank; one message per file would be 48+ per class
  for (const char* cls : {"S1", "SX", "RP_2G1", "EC_2P1G1"}) {
    SCOPED_TRACE(cls);
    const std::string d = std::string("/wa_") + cls;
    if (rank() == 0) EDAOS_ASSERT_OK(dfs_->mkdir(d, 0755));
    MPI_Barrier(MPI_COMM_WORLD);
    auto dir = dfs_->lookup(d, O_RDWR);
    ASSERT_TRUE(dir.ok()) << dir.status().to_string();
    auto bytes_of = [](int r, int i) {
      std::string b(static_cast<size_t>(1 + (i * 997 + r * 131) % 6000), '\0');
      for (size_t j = 0; j < b.size(); ++j)
        b[j] =
            static_cast<char>((j * 31 + static_cast<size_t>(i) * 7 + static_cast<size_t>(r)) % 251);
      return b;
    };
    std::vector<std::string> data(kFiles);
    std::vector<DfsNewFile> files(kFiles);
    for (int i = 0; i < kFiles; ++i) {
      files[i].name = "r" + std::to_string(rank()) + "f" + std::to_string(i);
      data[i] = bytes_of(rank(), i);
      files[i].data = data[i].data();
      files[i].len = data[i].size();
    }
    const uint64_t before = rpcs();
    EDAOS_ASSERT_OK(dfs_->create_files(dir.value().get(), &files, cls));
    const uint64_t spent = rpcs() - before;
    if (rank() == 0)
      std::printf("[%s] %d files: %llu messages\n", cls, kFiles,
                  static_cast<unsigned long long>(spent));
    if (std::string(cls) != "EC_2P1G1") {
      EXPECT_LE(spent, 8 + 8 * nservers) << "messages";
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int r : {rank(), (rank() + 1) % n}) {
      for (int i = 0; i < kFiles; ++i) {
        const std::string name = "r" + std::to_string(r) + "f" + std::to_string(i);
        auto f = dfs_->lookup(dir.value().get(), name, O_RDONLY);
        ASSERT_TRUE(f.ok()) << name << ": " << f.status().to_string();
        const std::string want = bytes_of(r, i);
        std::string buf(want.size() + 16, '\0');
        auto got = f.value()->read(0, buf.data(), buf.size());
        ASSERT_TRUE(got.ok()) << name << ": " << got.status().to_string();
        ASSERT_EQ(got.value(), want.size()) << name;
        ASSERT_EQ(buf.substr(0, got.value()), want) << name;
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

// A directory of class SX (a shard on every engine): its emptiness check (a listing of every
// shard) and its removal (a punch of every shard) are one message per server rank each, not
// one per shard (8 engines here, 20 in a default pool): mkdir, stat and rmdir cost a handful.
TEST_F(Meta6Test, SxDirectoryCostsOneMessagePerServerRank) {
  const uint64_t nservers = server_ranks().size();
  const std::string me = "/sx" + std::to_string(rank());
  uint64_t before = rpcs();
  EDAOS_ASSERT_OK(dfs_->mkdir(me, 0755, "SX"));
  const uint64_t mkdir_rpcs = rpcs() - before;
  auto st = dfs_->stat(me);
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_TRUE(S_ISDIR(st.value().mode));
  // Not empty: refused after one listing round.
  EDAOS_ASSERT_OK(dfs_->mkdir(me + "/child", 0755));
  EXPECT_EQ(dfs_->remove(me).code(), EDAOS_NOTEMPTY);
  EDAOS_ASSERT_OK(dfs_->remove(me + "/child"));
  before = rpcs();
  EDAOS_ASSERT_OK(dfs_->remove(me));
  const uint64_t rmdir_rpcs = rpcs() - before;
  EXPECT_EQ(dfs_->stat(me).status().code(), EDAOS_NONEXIST);
  // rmdir: the entry (path walk and get), the listing, the entry's removal, the punches.
  EXPECT_LE(rmdir_rpcs, 4 + 2 * nservers) << "rmdir of an SX directory";
  EXPECT_LE(mkdir_rpcs, 6u) << "mkdir of an SX directory";
  std::printf("[rank %d] RPCs: mkdir SX %llu, rmdir SX %llu (%llu server ranks)\n", rank(),
              static_cast<unsigned long long>(mkdir_rpcs),
              static_cast<unsigned long long>(rmdir_rpcs),
              static_cast<unsigned long long>(nservers));
  MPI_Barrier(MPI_COMM_WORLD);
}

// A vector's changes to one engine are one LMDB transaction: when that commit fails, every
// change of it reports the failure and none took effect.
TEST_F(Meta6Test, FailedGroupCommitAcknowledgesNoneOfTheVector) {
  auto kv = shared_kv("S1");
  ASSERT_TRUE(kv);
  // Every process: whichever server rank hosts the engine fails its next group commit.
  fail_kv_group_commits_for_testing(1);
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<KvOp> ops;
  for (int i = 0; i < 10; ++i) ops.push_back(op(KvOp::kPut, "g" + std::to_string(i), "v"));
  if (rank() == 0) {
    Status st = kv->run(&ops);
    EXPECT_EQ(st.code(), EDAOS_IO) << st.to_string();
    for (const KvOp& o : ops) EXPECT_EQ(o.status.code(), EDAOS_IO) << o.status.to_string();
    for (const KvOp& o : ops)
      EXPECT_EQ(kv->get(o.dkey, "a").status().code(), EDAOS_NONEXIST) << o.dkey;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  fail_kv_group_commits_for_testing(0);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank() == 0) {  // afterwards the same vector applies whole
    EDAOS_EXPECT_OK(kv->run(&ops));
    for (const KvOp& o : ops) EXPECT_TRUE(kv->get(o.dkey, "a").ok()) << o.dkey;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

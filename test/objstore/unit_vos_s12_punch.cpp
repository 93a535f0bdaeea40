// Removals of shards that hold nothing (session 12, issue 17): Engine::obj_punch answers a shard
// without a data file, a sidecar, a size or a KV entry on this engine without a change (no
// used-bytes mark, no removal record, no write transaction), and obj_punch_many removes the
// shards of several objects in one write transaction. What must stay exact: every way a shard
// can hold something is still found (files of an earlier open, files planted before the open
// as an older build or a killed job leaves them, a file a direct writer's grant created after
// the directory was indexed, a sidecar alone, a size without a file, KV entries, another
// target), and a kill after batched removals leaves them removed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "unit_vos_support.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class S12PunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::make_test_dir("s12punch");
    ASSERT_FALSE(root_.empty());
    cont_ = Uuid::generate();
  }
  void TearDown() override { fs::remove_all(root_); }
  Engine::Options opts() const {
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.ntargets = 2;
    o.create = true;
    return o;
  }
  ShardRef ref(uint64_t lo, uint32_t target = 0) const {
    return ShardRef{cont_, ObjectId{0x300000000000ull, lo}, 0, target};
  }
  static Status write(Engine& e, const ShardRef& r, size_t n) {
    std::string d(n, 'x');
    return e.array_write(r, 0, d.data(), d.size(), CsumSpec{}, nullptr, n);
  }
  std::string data_path(const ShardRef& r) const {
    return root_ + "/engine-0000/tgt-" + std::to_string(r.target) + "/" + cont_.to_string() + "/" +
           r.oid.to_string() + "." + std::to_string(r.shard);
  }
  static bool exists(const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0;
  }
  static std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  static void plant(const std::string& p, size_t n) {
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << std::string(n, 'p');
  }
  std::string root_;
  Uuid cont_;
};

// A punch of shards that never held anything changes nothing: no write transaction, no mark
// of the used-bytes counter (so the close writes nothing either: meta.mdb and sizes.log stay
// byte-identical), and the engine counts them as empty. Before session 12 each such punch
// marked the counter dirty (an LMDB commit and a sync at the first one) and ran a write
// transaction: meta.mdb changed and write_txns counted every punch.
TEST_F(S12PunchTest, ShardsThatHoldNothingCostNoChange) {
  {
    auto e = Engine::open(opts());
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    ASSERT_TRUE(write(*e.value(), ref(1), 100).ok());
  }  // closed clean: the next open trusts the counter
  const std::string meta = root_ + "/engine-0000/meta.mdb";
  const std::string before = slurp(meta);
  ASSERT_FALSE(before.empty());
  {
    auto e = Engine::open(opts());
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    ASSERT_TRUE(e.value()->used_counter_trusted_at_open());
    std::vector<ShardRef> refs;
    for (uint64_t i = 10; i < 30; ++i) refs.push_back(ref(i, i % 2));
    std::vector<Status> res;
    e.value()->obj_punch_many(refs, &res);
    ASSERT_EQ(res.size(), refs.size());
    for (const Status& st : res) EXPECT_TRUE(st.ok()) << st.to_string();
    EXPECT_TRUE(e.value()->obj_punch(ref(99)).ok());
    const Engine::PunchStats ps = e.value()->punch_stats();
    EXPECT_EQ(ps.shards, 21u);
    EXPECT_EQ(ps.empty, 21u);
    EXPECT_EQ(ps.write_txns, 0u);
    EXPECT_EQ(ps.stats, 0u) << "stat calls on shard files of an indexed directory";
    EXPECT_LE(ps.dir_scans, 2u) << "one read per target directory per open";
    EXPECT_EQ(e.value()->array_logical_end(ref(1)).value(), 100u);
  }
  EXPECT_TRUE(slurp(meta) == before) << "a removal of nothing changed meta.mdb";
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e.value()->used_counter_trusted_at_open());
  EXPECT_EQ(e.value()->array_logical_end(ref(1)).value(), 100u);
}

// Every way a shard can hold something on the engine is still found and removed, in one
// write transaction for the whole batch; the empty ones in the batch cost nothing.
TEST_F(S12PunchTest, EveryWayAShardHoldsSomethingIsFound) {
  const ShardRef earlier = ref(1);          // written by an earlier open
  const ShardRef planted = ref(2);          // a data file nobody recorded (killed job, old build)
  const ShardRef sidecar = ref(3);          // a sidecar alone
  const ShardRef kv = ref(4);               // KV entries only
  const ShardRef sized = ref(5);            // a size without a file (extended by a truncate)
  const ShardRef pending = ref(6);          // written in this open: its size is in the log
  const ShardRef granted = ref(7);          // a direct writer's grant made the file after indexing
  const ShardRef other_target = ref(8, 1);  // on target 1, punched through target 0's ref
  const ShardRef folded = ref(9);           // written in this open, then folded by a sync
  {
    auto e = Engine::open(opts());
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE(write(*e.value(), earlier, 300).ok());
  }
  plant(data_path(planted), 50);
  plant(data_path(sidecar) + ".csum", 64);
  auto eo = Engine::open(opts());
  ASSERT_TRUE(eo.ok()) << eo.status().to_string();
  Engine& e = *eo.value();
  // Index both target directories before the next files appear.
  std::vector<Status> res;
  e.obj_punch_many({ref(50), ref(51, 1)}, &res);
  ASSERT_TRUE(res[0].ok() && res[1].ok());
  ASSERT_EQ(e.punch_stats().empty, 2u);
  ASSERT_TRUE(e.kv_put(kv, "d", "a", "value", 0, CsumSpec{}).ok());
  ASSERT_TRUE(e.array_truncate(sized, 0, 4096).ok());
  ASSERT_TRUE(write(e, pending, 70).ok());
  ASSERT_TRUE(write(e, folded, 80).ok());
  ASSERT_TRUE(e.sync().ok());
  Engine::DirectGrant g;
  ASSERT_TRUE(e.direct_grant(granted, CsumSpec{}, RecordSpec{}, true, &g).ok());
  ASSERT_TRUE(exists(g.path));
  ASSERT_TRUE(write(e, other_target, 90).ok());
  ASSERT_TRUE(exists(data_path(other_target)));

  ShardRef other_via_0 = other_target;
  other_via_0.target = 0;  // a punch removes the shard on every target
  const std::vector<ShardRef> all = {earlier, ref(60), planted, sidecar,     kv,     ref(61),
                                     sized,   pending, granted, other_via_0, folded, ref(62)};
  const Engine::PunchStats before = e.punch_stats();
  e.obj_punch_many(all, &res);
  ASSERT_EQ(res.size(), all.size());
  for (size_t i = 0; i < res.size(); ++i) EXPECT_TRUE(res[i].ok()) << i << res[i].to_string();
  const Engine::PunchStats after = e.punch_stats();
  EXPECT_EQ(after.empty - before.empty, 3u) << "only ref(60), ref(61), ref(62) hold nothing";
  EXPECT_EQ(after.write_txns - before.write_txns, 1u) << "one write transaction per batch";

  for (const ShardRef& r : {earlier, planted, sidecar, kv, sized, pending, granted, folded}) {
    EXPECT_FALSE(exists(data_path(r))) << r.oid.to_string();
    EXPECT_FALSE(exists(data_path(r) + ".csum")) << r.oid.to_string();
    EXPECT_EQ(e.array_logical_end(r).value(), 0u) << r.oid.to_string();
  }
  EXPECT_FALSE(exists(data_path(other_target)));
  EXPECT_EQ(e.array_logical_end(other_target).value(), 0u);
  EXPECT_EQ(e.kv_get(kv, "d", "a", CsumSpec{}).status().code(), EDAOS_NONEXIST);
  auto objs = e.list_objects(cont_);
  ASSERT_TRUE(objs.ok());
  EXPECT_TRUE(objs->empty()) << objs->size() << " objects left, first " << objs->at(0).to_string();

  // Written again after the removal: found by the next punch (the index follows creations).
  ASSERT_TRUE(write(e, planted, 10).ok());
  ASSERT_TRUE(e.obj_punch(planted).ok());
  EXPECT_FALSE(exists(data_path(planted)));
  EXPECT_EQ(e.array_logical_end(planted).value(), 0u);
}

// A container destroy drops the index of its directories: shards written after it are found.
TEST_F(S12PunchTest, ShardsWrittenAfterAContainerDestroyAreFound) {
  auto eo = Engine::open(opts());
  ASSERT_TRUE(eo.ok());
  Engine& e = *eo.value();
  ASSERT_TRUE(write(e, ref(1), 100).ok());
  ASSERT_TRUE(e.obj_punch(ref(2)).ok());  // indexes target 0's directory
  ASSERT_TRUE(e.cont_destroy(cont_).ok());
  ASSERT_TRUE(write(e, ref(3), 100).ok());
  ASSERT_TRUE(e.obj_punch(ref(3)).ok());
  EXPECT_FALSE(exists(data_path(ref(3))));
  EXPECT_EQ(e.array_logical_end(ref(3)).value(), 0u);
  EXPECT_EQ(e.punch_stats().empty, 1u);
}

// Batched removals and kill -9: a child removes shards with sizes folded into LMDB, pending in
// the log, KV entries, and empty ones in one obj_punch_many, writes one of them again smaller,
// and exits without closing the engine. The next open finds every removed shard removed, the
// rewritten one at its new size and the untouched one as it was.
TEST_F(S12PunchTest, BatchedRemovalsSurviveAKill) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto e = Engine::open(opts());
    if (!e.ok()) ::_exit(2);
    Engine& eng = *e.value();
    bool ok = write(eng, ref(1), 100).ok() && write(eng, ref(2), 200).ok() && eng.sync().ok();
    ok = ok && write(eng, ref(2), 400).ok();  // raised in the log over a folded size
    ok = ok && write(eng, ref(3), 300).ok() && write(eng, ref(4), 500).ok();  // in the log
    ok = ok && eng.kv_put(ref(5), "d", "a", "v", 0, CsumSpec{}).ok();
    std::vector<Status> res;
    eng.obj_punch_many({ref(1), ref(2), ref(40), ref(3), ref(5), ref(41)}, &res);
    for (const Status& st : res) ok = ok && st.ok();
    ok = ok && write(eng, ref(3), 30).ok();  // re-created, smaller
    ::_exit(ok ? 0 : 3);                     // no close: nothing folded, nothing synced
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->array_logical_end(ref(1)).value(), 0u) << "a removed folded size came back";
  EXPECT_EQ(e.value()->array_logical_end(ref(2)).value(), 0u) << "a removed size came back";
  EXPECT_EQ(e.value()->array_logical_end(ref(3)).value(), 30u) << "an old size came back";
  EXPECT_EQ(e.value()->array_logical_end(ref(4)).value(), 500u);
  EXPECT_EQ(e.value()->kv_get(ref(5), "d", "a", CsumSpec{}).status().code(), EDAOS_NONEXIST);
  for (uint64_t lo : {1, 2}) EXPECT_FALSE(exists(data_path(ref(lo))));
  auto objs = e.value()->list_objects(cont_);
  ASSERT_TRUE(objs.ok());
  std::vector<ObjectId> want = {ref(3).oid, ref(4).oid};
  EXPECT_EQ(*objs, want);
}

}  // namespace
}  // namespace edaos::objstore::vos

// Metadata, session 8 (issue 17): a stat of a name the mount never saw is one round trip when
// the server rank holding the entry holds every shard of the file it names (KvOp::
// kGetArraySize: the server reads the entry, then the file's shard sizes, in one pass), and two
// otherwise; the size given is always the size of the object the entry names, also while
// another rank removes, re-creates, renames over and truncates the name.
// Part of test_objstore_dfs_mpi: the np 1-4 entries run it with one server rank (every engine
// in one process: one round trip), test_objstore_s8_meta with two (objects spanning them: two).
// These count the servers' round trips, so the fixture turns session 10's local metadata reads
// off (client/local_meta.hpp; S10StatTest covers those: 0 round trips on the engines' node).
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

namespace edaos::objstore::client {
void set_local_meta_for_testing(int on);  // exported test hook of client/local_meta.hpp
}  // namespace edaos::objstore::client

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S8MetaEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s8meta_env = ::testing::AddGlobalTestEnvironment(new S8MetaEnv);

bool one_server_rank() { return server_ranks().size() == 1; }

// The OID of a DFS entry record (u8 version, u32 mode, then u64 hi, u64 lo, little-endian).
ObjectId entry_oid(const std::string& v) {
  ObjectId o;
  if (v.size() < 21) return o;
  for (int b = 7; b >= 0; --b) {
    o.hi = (o.hi << 8) | static_cast<unsigned char>(v[5 + b]);
    o.lo = (o.lo << 8) | static_cast<unsigned char>(v[13 + b]);
  }
  return o;
}

// A pool of 8 engines (spread over every server rank), one POSIX container, mounted.
class S8MetaTest : public MountedPoolTest {
 protected:
  void SetUp() override {
    client::set_local_meta_for_testing(0);  // the servers' path, whose round trips are counted
    mount_fresh("s8meta", "s8", 8);
  }
  void TearDown() override {
    MountedPoolTest::TearDown();
    client::set_local_meta_for_testing(-1);
  }
  void write_file(const std::string& path, size_t len, char c, ObjectId* oid = nullptr) {
    auto f = dfs_->open(path, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << path << ": " << f.status().to_string();
    std::string data(len, c);
    if (len) EDAOS_ASSERT_OK(f.value()->write(0, data.data(), data.size()));
    if (oid) *oid = f.value()->oid();
  }
  struct Counted {
    Result<DfsStat> st = Status(EDAOS_INVAL, "not run");
    uint64_t waits = 0, sized = 0, hits = 0, misses = 0;
  };
  static Counted counted(Dfs* dfs, const DfsObj* dir, const std::string& name) {
    Counted c;
    const uint64_t w0 = rpc_round_trips_for_testing();
    const DfsMetaStats m0 = dfs_meta_stats();
    c.st = dfs->stat(dir, name);
    c.waits = rpc_round_trips_for_testing() - w0;
    const DfsMetaStats m1 = dfs_meta_stats();
    c.sized = m1.stat_sized - m0.stat_sized;
    c.hits = m1.stat_hits - m0.stat_hits;
    c.misses = m1.stat_misses - m0.stat_misses;
    return c;
  }
};

// Files of several classes, each stat'ed by a rank that never saw it: one round trip and the
// right size with one server rank; with two, one exactly when the size came with the entry
// (an SX file on 8 engines spans both server ranks: always two).
TEST_F(S8MetaTest, StatOfAnUnseenNameIsOneRoundTrip) {
  make_class_tree();

  // A second mount of this rank never saw any name: every stat below is of an unseen name.
  auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
  Dfs* m = fresh.value().get();
  const int peer = (rank() + 1) % nranks();
  const std::vector<size_t> peer_sizes = tree_file_sizes(peer);
  for (const char* oc : kTreeClasses) {
    SCOPED_TRACE(oc);
    auto dh = m->lookup(std::string("/") + oc, O_RDONLY);
    ASSERT_TRUE(dh.ok()) << dh.status().to_string();
    for (size_t i = 0; i < peer_sizes.size(); ++i) {
      const std::string name = "f" + std::to_string(peer) + "." + std::to_string(i);
      SCOPED_TRACE(name);
      Counted c = counted(m, dh.value().get(), name);
      ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
      EXPECT_TRUE(S_ISREG(c.st->mode));
      EXPECT_EQ(c.st->size, peer_sizes[i]);
      EXPECT_EQ(c.hits + c.misses, 0u);
      if (one_server_rank()) {
        EXPECT_EQ(c.sized, 1u);
        EXPECT_EQ(c.waits, 1u);
      } else {
        EXPECT_EQ(c.waits, c.sized ? 1u : 2u);
        if (std::string(oc) == "SX") {
          EXPECT_EQ(c.sized, 0u);
        }
      }
      // The size given equals the array's own answer.
      auto a = cont_->open_array(c.st->oid, c.st->chunk_size);
      ASSERT_TRUE(a.ok());
      auto sz = a.value()->get_size();
      ASSERT_TRUE(sz.ok());
      EXPECT_EQ(sz.value(), c.st->size);
    }
  }
  // The vector form through a third mount: every peer file of a class, one round trip in all
  // with one server rank, every size given with its entry.
  auto third = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(third.ok());
  for (const char* oc : kTreeClasses) {
    SCOPED_TRACE(oc);
    auto dh = third.value()->lookup(std::string("/") + oc, O_RDONLY);
    ASSERT_TRUE(dh.ok());
    std::vector<std::string> names;
    for (size_t i = 0; i < peer_sizes.size(); ++i)
      names.push_back("f" + std::to_string(peer) + "." + std::to_string(i));
    names.push_back("missing");
    std::vector<DfsStat> st;
    std::vector<Status> sts;
    const uint64_t w0 = rpc_round_trips_for_testing();
    const uint64_t s0 = dfs_meta_stats().stat_sized;
    // The first failure is returned: the missing name's.
    EXPECT_EQ(third.value()->stat_names(dh.value().get(), names, &st, &sts).code(), EDAOS_NONEXIST);
    const uint64_t waits = rpc_round_trips_for_testing() - w0;
    const uint64_t sized = dfs_meta_stats().stat_sized - s0;
    for (size_t i = 0; i < peer_sizes.size(); ++i) {
      EDAOS_EXPECT_OK(sts[i]);
      EXPECT_EQ(st[i].size, peer_sizes[i]) << names[i];
    }
    EXPECT_EQ(sts.back().code(), EDAOS_NONEXIST);
    if (one_server_rank()) {
      EXPECT_EQ(waits, 1u);
      EXPECT_EQ(sized, peer_sizes.size());
    }
  }
  EDAOS_EXPECT_OK(third.value()->umount());
  // A directory and a symbolic link have no size to ask: one round trip, nothing sized.
  auto s1 = m->lookup("/S1", O_RDONLY);
  ASSERT_TRUE(s1.ok());
  for (const char* n : {"sub", "link"}) {
    Counted c = counted(m, s1.value().get(), n);
    ASSERT_TRUE(c.st.ok()) << n << ": " << c.st.status().to_string();
    EXPECT_EQ(c.waits, 1u) << n;
    EXPECT_EQ(c.sized, 0u) << n;
  }
  // A missing name: one round trip, EDAOS_NONEXIST.
  Counted c = counted(m, s1.value().get(), "missing");
  EXPECT_EQ(c.st.status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(c.waits, 1u);
  // The path form: the walk of "/S1" is cached by the lookup above only in the handle, so
  // count the last component alone through a name in the root.
  if (rank() == 0) write_file("/top", 4321, 't');
  MPI_Barrier(MPI_COMM_WORLD);
  auto other = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(other.ok());
  const uint64_t w0 = rpc_round_trips_for_testing();
  auto ps = other.value()->stat("/top");
  ASSERT_TRUE(ps.ok()) << ps.status().to_string();
  EXPECT_EQ(ps->size, 4321u);
  if (one_server_rank()) {
    EXPECT_EQ(rpc_round_trips_for_testing() - w0, 1u);
  }
  EDAOS_EXPECT_OK(m->umount());
  EDAOS_EXPECT_OK(other.value()->umount());
  MPI_Barrier(MPI_COMM_WORLD);
}

// The last rank changes what "x" is between the stats of rank 0, which always stats through a
// fresh mount (the name is never seen): removed and re-created, renamed over, truncated,
// replaced by a directory, removed. Every stat gives the object the entry names (its OID, as
// the changer reports it) with that object's size.
TEST_F(S8MetaTest, UnseenStatGivesTheNamedObjectsSize) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank to change the name";
  const bool observer = rank() == 0, changer = rank() == nranks() - 1;
  auto check = [&](const char* what, ObjectId oid, uint64_t size, bool dir) {
    MPI_Bcast(&oid, sizeof oid, MPI_BYTE, nranks() - 1, MPI_COMM_WORLD);
    if (observer) {
      SCOPED_TRACE(what);
      auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
      ASSERT_TRUE(fresh.ok());
      Counted c = counted(fresh.value().get(), nullptr, "x");
      ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
      EXPECT_EQ(S_ISDIR(c.st->mode), dir);
      EXPECT_EQ(c.st->oid, oid);
      EXPECT_EQ(c.st->size, size);
      if (one_server_rank()) {
        EXPECT_EQ(c.waits, 1u);
      }
      if (one_server_rank()) {
        EXPECT_EQ(c.sized, dir ? 0u : 1u);
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
  };
  ObjectId oid;
  if (changer) write_file("/x", 100, 'a', &oid);
  MPI_Barrier(MPI_COMM_WORLD);
  check("created", oid, 100, false);
  if (changer) {
    EDAOS_ASSERT_OK(dfs_->remove("/x"));
    write_file("/x", 200, 'b', &oid);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("removed and re-created", oid, 200, false);
  if (changer) {
    write_file("/y", 300, 'c', &oid);
    EDAOS_ASSERT_OK(dfs_->rename("/y", "/x"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("renamed over", oid, 300, false);
  if (changer) {
    auto f = dfs_->open("/x", S_IFREG, O_RDWR);
    ASSERT_TRUE(f.ok());
    EDAOS_ASSERT_OK(f.value()->set_size(7));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("truncated", oid, 7, false);
  if (changer) {
    EDAOS_ASSERT_OK(dfs_->remove("/x"));
    EDAOS_ASSERT_OK(dfs_->mkdir("/x", 0755));
    auto d = dfs_->lookup("/x", O_RDONLY);
    ASSERT_TRUE(d.ok());
    oid = d.value()->oid();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("replaced by a directory", oid, 0, true);
  if (changer) EDAOS_ASSERT_OK(dfs_->remove("/x"));
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
    ASSERT_TRUE(fresh.ok());
    Counted c = counted(fresh.value().get(), nullptr, "x");
    EXPECT_EQ(c.st.status().code(), EDAOS_NONEXIST);
    EXPECT_EQ(c.waits, 1u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A file's removal is one round trip (entry read and removed in one request, the object
// destroyed in the background; two with $EDAOS_DFS_BACKGROUND_DESTROY=0). Exactly one of the
// ranks removing one name at once succeeds; directories and links still go the checked way;
// rmdir of a file and unlink of a directory change nothing; every rank sees the removals, and no
// removed file's object is left once the removers synced.
TEST_F(S8MetaTest, FileRemovalIsOneRoundTrip) {
  const char* bg = std::getenv("EDAOS_DFS_BACKGROUND_DESTROY");
  const uint64_t destroy = bg && std::string(bg) == "0" ? 1 : 0;
  const std::string mine = "/rm" + std::to_string(rank());
  EDAOS_ASSERT_OK(dfs_->mkdir(mine, 0755));
  constexpr int kFiles = 10;
  std::vector<ObjectId> oids(kFiles);
  for (int i = 0; i < kFiles; ++i)
    write_file(mine + "/f" + std::to_string(i), 100 + static_cast<size_t>(i), 'r', &oids[i]);
  EDAOS_ASSERT_OK(dfs_->mkdir(mine + "/d", 0755));
  EDAOS_ASSERT_OK(dfs_->symlink(mine + "/l", mine + "/f0"));
  auto dh = dfs_->lookup(mine, O_RDWR);
  ASSERT_TRUE(dh.ok());
  for (int i = 0; i < kFiles; ++i) {
    const uint64_t w0 = rpc_round_trips_for_testing();
    ObjectId gone;
    EDAOS_ASSERT_OK(dfs_->remove(dh.value().get(), "f" + std::to_string(i), false, &gone));
    EXPECT_EQ(rpc_round_trips_for_testing() - w0, 1u + destroy) << i;
    EXPECT_EQ(gone, oids[i]);
  }
  // rmdir of a link, unlink of a directory: refused, nothing removed.
  EXPECT_EQ(dfs_->rmdir(mine + "/l").code(), EDAOS_NOTDIR);
  EXPECT_EQ(dfs_->unlink(mine + "/d").code(), EDAOS_ISDIR);
  EXPECT_TRUE(dfs_->stat(mine + "/l", false).ok());
  EXPECT_TRUE(dfs_->stat(mine + "/d").ok());
  EDAOS_EXPECT_OK(dfs_->remove(mine + "/l"));
  EDAOS_EXPECT_OK(dfs_->remove(mine + "/d"));
  // One name removed by every rank at once: one winner.
  if (rank() == 0) write_file("/shared", 5, 's');
  MPI_Barrier(MPI_COMM_WORLD);
  Status st = dfs_->remove("/shared");
  int won = st.ok() ? 1 : 0, total = 0;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), EDAOS_NONEXIST) << st.to_string();
  }
  MPI_Allreduce(&won, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 1);
  // Every rank's removals, seen by every rank; the objects are gone after the removers' sync.
  EDAOS_EXPECT_OK(dfs_->umount());  // drains this mount's background destroys
  MPI_Barrier(MPI_COMM_WORLD);
  auto fresh = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(fresh.ok());
  for (int r = 0; r < nranks(); ++r) {
    const std::string d = "/rm" + std::to_string(r);
    DfsAnchor a;
    auto ents = fresh.value()->readdir(d, &a, 100);
    ASSERT_TRUE(ents.ok()) << ents.status().to_string();
    EXPECT_TRUE(ents->empty()) << d << ": " << ents->size() << " entries left";
    EXPECT_EQ(fresh.value()->stat(d + "/f0").status().code(), EDAOS_NONEXIST);
  }
  EXPECT_EQ(fresh.value()->stat("/shared").status().code(), EDAOS_NONEXIST);
  auto objs = cont_->list_objects();
  ASSERT_TRUE(objs.ok());
  for (const ObjectId& o : oids) EXPECT_FALSE(std::binary_search(objs->begin(), objs->end(), o));
  MPI_Barrier(MPI_COMM_WORLD);
}

// The KV call underneath, racing: the last rank re-creates "r" over and over (each incarnation
// a new file of its own size, written in one write, then removed) while every other rank reads
// the entry with kGetArraySize. The server reads the entry first, then the sizes: a size given
// is that of the OID in the value read, so it is 0 (not written yet, or already destroyed) or
// that incarnation's own size, never another incarnation's.
TEST_F(S8MetaTest, RacingGetWithSizeNeverMixesObjects) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank to change the name";
  const bool changer = rank() == nranks() - 1;
  constexpr int kRounds = 60;
  std::vector<uint64_t> made;  // changer: hi, lo, size of every incarnation
  MPI_Request req;
  if (changer) {
    for (int i = 0; i < kRounds; ++i) {
      ObjectId oid;
      const size_t len = 10 * static_cast<size_t>(i + 1);
      write_file("/r", len, static_cast<char>('a' + i % 26), &oid);
      if (HasFatalFailure()) break;
      made.insert(made.end(), {oid.hi, oid.lo, len});
      EDAOS_EXPECT_OK(dfs_->remove("/r"));
    }
    MPI_Ibarrier(MPI_COMM_WORLD, &req);  // "done", to the readers
    MPI_Wait(&req, MPI_STATUS_IGNORE);
  }
  std::map<std::pair<uint64_t, uint64_t>, std::vector<uint64_t>> seen;
  uint64_t given = 0, reads = 0;
  if (!changer) {
    auto root = cont_->open_kv(dfs_->root_oid());
    ASSERT_TRUE(root.ok());
    // Read until the changer says it is done (a non-blocking barrier).
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    int flag = 0;
    while (!flag) {
      std::vector<KvOp> ops(1);
      ops[0].kind = KvOp::kGetArraySize;
      ops[0].dkey = "r";
      ops[0].akey = "e";
      ops[0].oid_off = 5;
      Status st = root.value()->run(&ops);
      ++reads;
      if (st.ok()) {
        const ObjectId o = entry_oid(ops[0].value);
        if (ops[0].size_known) {
          ++given;
          seen[{o.hi, o.lo}].push_back(ops[0].size);
        }
      } else {
        EXPECT_EQ(st.code(), EDAOS_NONEXIST) << st.to_string();
      }
      MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
    }
  }
  // Every incarnation's size, to every rank.
  int n = static_cast<int>(made.size());
  MPI_Bcast(&n, 1, MPI_INT, nranks() - 1, MPI_COMM_WORLD);
  made.resize(static_cast<size_t>(n));
  MPI_Bcast(made.data(), n, MPI_UINT64_T, nranks() - 1, MPI_COMM_WORLD);
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> size_of;
  for (size_t i = 0; i + 2 < made.size(); i += 3) size_of[{made[i], made[i + 1]}] = made[i + 2];
  for (auto& [o, sizes] : seen) {
    auto it = size_of.find(o);
    ASSERT_NE(it, size_of.end()) << "an entry named an OID the changer never made";
    for (uint64_t s : sizes) EXPECT_TRUE(s == 0 || s == it->second) << s << " vs " << it->second;
  }
  if (!changer && one_server_rank()) {
    EXPECT_GT(given, 0u) << reads << " reads";
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// The KV call on values that name no byte array, and on an array that was never written.
TEST_F(S8MetaTest, GetWithSizeOfOtherValues) {
  if (rank() != 0) return;
  auto oid = cont_->alloc_oid(ObjClass::parse("S1").value(), ObjType::kMultiLevel);
  ASSERT_TRUE(oid.ok());
  auto kv = cont_->open_kv(oid.value());
  ASSERT_TRUE(kv.ok());
  auto arr = cont_->alloc_oid(ObjClass::parse("SX").value(), ObjType::kArray);
  ASSERT_TRUE(arr.ok());
  std::string names_array(16, '\0');
  for (int b = 0; b < 8; ++b) {
    names_array[b] = static_cast<char>(arr->hi >> (8 * b));
    names_array[8 + b] = static_cast<char>(arr->lo >> (8 * b));
  }
  std::string names_kv = names_array;
  for (int b = 0; b < 8; ++b) {
    names_kv[b] = static_cast<char>(oid->hi >> (8 * b));
    names_kv[8 + b] = static_cast<char>(oid->lo >> (8 * b));
  }
  EDAOS_ASSERT_OK(kv.value()->put("short", "", "abc"));
  EDAOS_ASSERT_OK(kv.value()->put("array", "", "xy" + names_array));
  EDAOS_ASSERT_OK(kv.value()->put("kv", "", names_kv));
  std::vector<KvOp> ops(5);
  const char* keys[] = {"short", "array", "kv", "array", "missing"};
  const uint32_t offs[] = {0, 2, 0, 3, 0};
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].kind = KvOp::kGetArraySize;
    ops[i].dkey = keys[i];
    ops[i].oid_off = offs[i];
    ops[i].size_known = true;  // reset by the call
  }
  Status st = kv.value()->run(&ops);
  EXPECT_EQ(st.code(), EDAOS_NONEXIST);
  EDAOS_EXPECT_OK(ops[0].status);
  EXPECT_EQ(ops[0].value, "abc");
  EXPECT_FALSE(ops[0].size_known);  // too short to hold an OID
  EDAOS_EXPECT_OK(ops[1].status);
  EXPECT_EQ(ops[1].value, "xy" + names_array);
  // A never-written SX array: size 0, given only when its every shard is on this server.
  EXPECT_EQ(ops[1].size_known, one_server_rank());
  EXPECT_EQ(ops[1].size, 0u);
  EDAOS_EXPECT_OK(ops[2].status);
  EXPECT_FALSE(ops[2].size_known);  // a KV's OID
  EXPECT_FALSE(ops[3].size_known);  // 16 bytes from offset 3 do not fit in 18
  EXPECT_EQ(ops[4].status.code(), EDAOS_NONEXIST);
  EXPECT_FALSE(ops[4].size_known);
  // After a write, the size given is the array's own.
  auto a = cont_->open_array(arr.value());
  ASSERT_TRUE(a.ok());
  std::string data(70000, 'q');
  EDAOS_ASSERT_OK(a.value()->write(0, data.data(), data.size()));
  std::vector<KvOp> again(1);
  again[0].kind = KvOp::kGetArraySize;
  again[0].dkey = "array";
  again[0].oid_off = 2;
  EDAOS_ASSERT_OK(kv.value()->run(&again));
  EXPECT_EQ(again[0].size_known, one_server_rank());
  if (again[0].size_known) {
    EXPECT_EQ(again[0].size, 70000u);
  }
}

}  // namespace

// Metadata, session 7 (issue 17): a stat of a file this mount knows is one round trip (entry
// get and size query sent together), and never reports the size of another object when the
// name was removed and re-created, renamed over or truncated by another rank in between; the
// asynchronous namespace calls (DfsEq) keep order, per-operation errors and every result.
// Two server ranks in the ctest entry, so entry and size may live on different server ranks.
// Session 10: with the local metadata reads on (the default) a stat by name on the engines' node
// sends no message; the waits expected are 0 then, the sizes and objects checked the same.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "dfs_fixture.hpp"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class S7MetaEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!is_initialized()) EDAOS_ASSERT_OK(init(MPI_COMM_WORLD));
  }
};
[[maybe_unused]] auto* const g_s7meta_env = ::testing::AddGlobalTestEnvironment(new S7MetaEnv);

// A pool of 8 engines (spread over every server rank), one POSIX container, mounted.
class S7MetaTest : public MountedPoolTest {
 protected:
  void SetUp() override {
    mount_fresh("s7meta", "s7", 8);
    // Engines open at their first use (session 10) and the process of an engine's server reads
    // its metadata only through the open engine, so the round trips counted below start with
    // every engine open (a pool query opens them all).
    EDAOS_ASSERT_OK(pool_->query().status());
    mixed_ = local_meta_on() && two_nodes();
    local_ = local_meta_on() && !mixed_;
  }
  // Session 10: with the local metadata reads on ($EDAOS_LOCAL_META, default on) and every
  // engine on this node, a stat by name reads the entry and the file's size from the engines'
  // metadata itself: no wait and no name-cache outcome (the sizes are checked all the same).
  static bool local_meta_on() {
    const char* v = std::getenv("EDAOS_LOCAL_META");
    return !(v && std::string(v) == "0");
  }
  // local_: every engine on this node, every stat by name answered here. mixed_: two simulated
  // nodes, a stat is answered here (0 waits) when its entry and file are on this node, else as
  // the servers answer it.
  bool local_ = false, mixed_ = false;
  bool here(uint64_t waits) const { return local_ || (mixed_ && waits == 0); }
  // Creates (or replaces the contents of) `path` with `len` bytes of `c`.
  void write_file(const std::string& path, size_t len, char c, int flags = O_CREAT | O_EXCL) {
    auto f = dfs_->open(path, S_IFREG | 0644, O_RDWR | flags);
    ASSERT_TRUE(f.ok()) << path << ": " << f.status().to_string();
    std::string data(len, c);
    if (len) EDAOS_ASSERT_OK(f.value()->write(0, data.data(), data.size()));
  }
  // stat of `name` in the root through the handle form, with the waits and the cache outcome
  // it cost this process.
  struct Counted {
    Result<DfsStat> st = Status(EDAOS_INVAL, "not run");
    uint64_t waits = 0, hits = 0, misses = 0;
    uint64_t sized = 0;  // session 8: a name never seen, its size given with its entry
  };
  // The waits of a stat of a name this mount never saw (session 8): one when the server holding
  // the entry holds every shard of the file too (always so with one server rank), else two.
  uint64_t unseen_waits(const Counted& c) const {
    if (here(c.waits)) return 0;
    if (server_ranks().size() == 1) {
      EXPECT_EQ(c.sized, 1u);
    }
    return c.sized ? 1u : 2u;
  }
  Counted counted_stat(const std::string& name) {
    Counted c;
    const uint64_t w0 = rpc_round_trips_for_testing();
    const DfsMetaStats m0 = dfs_meta_stats();
    c.st = dfs_->stat(nullptr, name);
    c.waits = rpc_round_trips_for_testing() - w0;
    c.hits = dfs_meta_stats().stat_hits - m0.stat_hits;
    c.misses = dfs_meta_stats().stat_misses - m0.stat_misses;
    c.sized = dfs_meta_stats().stat_sized - m0.stat_sized;
    return c;
  }
};

// A file this mount created, or stat'ed once, is one wait per stat; a name it never saw is two
// (entry, then size), as before.
TEST_F(S7MetaTest, StatOfAKnownFileIsOneWait) {
  const std::string me = "own" + std::to_string(rank());
  write_file("/" + me, 1000 + static_cast<size_t>(rank()), 'a');
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < 3; ++i) {
    Counted c = counted_stat(me);
    ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
    EXPECT_EQ(c.st->size, 1000u + static_cast<uint64_t>(rank()));
    EXPECT_TRUE(S_ISREG(c.st->mode));
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : 1u);
    EXPECT_EQ(c.hits, here(c.waits) ? 0u : 1u);
  }
  // A peer's file: unknown to this mount, two waits (one when the entry's server holds the
  // file, session 8); then known, one.
  const int peer = (rank() + 1) % nranks();
  const std::string theirs = "own" + std::to_string(peer);
  if (peer != rank()) {
    Counted c = counted_stat(theirs);
    ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
    EXPECT_EQ(c.st->size, 1000u + static_cast<uint64_t>(peer));
    EXPECT_EQ(c.waits, unseen_waits(c));
    EXPECT_EQ(c.hits + c.misses, 0u);
    c = counted_stat(theirs);
    ASSERT_TRUE(c.st.ok());
    EXPECT_EQ(c.st->size, 1000u + static_cast<uint64_t>(peer));
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : 1u);
    EXPECT_EQ(c.hits, here(c.waits) ? 0u : 1u);
  }
  // The path form and an open handle: one wait each.
  uint64_t w0 = rpc_round_trips_for_testing();
  auto ps = dfs_->stat("/" + me);
  ASSERT_TRUE(ps.ok()) << ps.status().to_string();
  EXPECT_EQ(ps->size, 1000u + static_cast<uint64_t>(rank()));
  {
    const uint64_t w = rpc_round_trips_for_testing() - w0;
    EXPECT_EQ(w, here(w) ? 0u : 1u);
  }  // the root's: no walk
  auto h = dfs_->lookup("/" + me, O_RDONLY);
  ASSERT_TRUE(h.ok());
  w0 = rpc_round_trips_for_testing();
  auto hs = h.value()->stat();
  ASSERT_TRUE(hs.ok()) << hs.status().to_string();
  EXPECT_EQ(hs->size, 1000u + static_cast<uint64_t>(rank()));
  EXPECT_EQ(rpc_round_trips_for_testing() - w0, 1u);
  // Directories and symbolic links have no size to ask: one wait, as before.
  if (rank() == 0) {
    EDAOS_ASSERT_OK(dfs_->mkdir("/d", 0755));
    EDAOS_ASSERT_OK(dfs_->symlink("/l", "/d"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (const char* n : {"d", "l"}) {
    Counted c = counted_stat(n);
    ASSERT_TRUE(c.st.ok()) << n << ": " << c.st.status().to_string();
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : 1u) << n;
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Rank 0 stats "x" while the last rank changes what "x" is between its stats: removed and
// re-created (another OID), renamed over by another file, truncated, removed, replaced by a
// directory. Every stat reports the size of the object the entry names at that moment: a size
// asked of the object rank 0 saw before is never kept for another one. Waits: 1 when the entry
// still names the object rank 0 knew, 2 when it does not.
TEST_F(S7MetaTest, StatNeverReturnsTheSizeOfAnotherObject) {
  if (nranks() < 2) GTEST_SKIP() << "needs a second rank to change the name";
  const bool observer = rank() == 0, changer = rank() == nranks() - 1;
  struct Step {
    const char* what;
    uint64_t size;  // expected size (files)
    bool same_object;
  };
  auto expect_stat = [&](const Step& s) {
    if (!observer) return;
    SCOPED_TRACE(s.what);
    Counted c = counted_stat("x");
    ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
    EXPECT_TRUE(S_ISREG(c.st->mode));
    EXPECT_EQ(c.st->size, s.size);
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : s.same_object ? 1u : 2u);
    EXPECT_EQ(c.hits, !here(c.waits) && s.same_object ? 1u : 0u);
    EXPECT_EQ(c.misses, !here(c.waits) && !s.same_object ? 1u : 0u);
    // Known now: the next stat is one wait and the same size.
    Counted again = counted_stat("x");
    ASSERT_TRUE(again.st.ok());
    EXPECT_EQ(again.st->size, s.size);
    EXPECT_EQ(again.waits, here(again.waits) ? 0u : 1u);
    auto byp = dfs_->stat("/x");
    ASSERT_TRUE(byp.ok());
    EXPECT_EQ(byp->size, s.size);
  };
  if (changer) {
    write_file("/x", 100, 'a');
    write_file("/warm", 1, 'w');
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    // Warm-up: the first array open of a pool connection costs one more round trip (the
    // orphan-intent listing); a stat of a name never seen opens no array since session 8.
    auto warm = dfs_->stat(nullptr, "warm");
    ASSERT_TRUE(warm.ok());
    ASSERT_TRUE(cont_->open_array(warm->oid, warm->chunk_size).ok());
    Counted c = counted_stat("x");  // never seen: entry, then size (or both at once)
    ASSERT_TRUE(c.st.ok()) << c.st.status().to_string();
    EXPECT_EQ(c.st->size, 100u);
    EXPECT_EQ(c.waits, unseen_waits(c));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_stat({"unchanged", 100, true});
  MPI_Barrier(MPI_COMM_WORLD);

  if (changer) {
    EDAOS_ASSERT_OK(dfs_->remove("/x"));
    write_file("/x", 200, 'b');
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_stat({"removed and re-created", 200, false});
  MPI_Barrier(MPI_COMM_WORLD);

  if (changer) {
    write_file("/y", 300, 'c');
    EDAOS_ASSERT_OK(dfs_->rename("/y", "/x"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_stat({"renamed over", 300, false});
  MPI_Barrier(MPI_COMM_WORLD);

  if (changer) {
    auto f = dfs_->open("/x", S_IFREG, O_RDWR);
    ASSERT_TRUE(f.ok());
    EDAOS_ASSERT_OK(f.value()->set_size(7));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  expect_stat({"truncated", 7, true});
  MPI_Barrier(MPI_COMM_WORLD);

  // Same size, another object: the size must still come from the new one (it is the same
  // number here, so check the OID the stat reports).
  ObjectId before;
  if (observer) {
    auto s = dfs_->stat(nullptr, "x");
    ASSERT_TRUE(s.ok());
    before = s->oid;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (changer) {
    EDAOS_ASSERT_OK(dfs_->remove("/x"));
    write_file("/x", 7, 'd');
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    Counted c = counted_stat("x");
    ASSERT_TRUE(c.st.ok());
    EXPECT_NE(c.st->oid, before);
    EXPECT_EQ(c.st->size, 7u);
    EXPECT_EQ(c.misses, here(c.waits) ? 0u : 1u);
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : 2u);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  if (changer) EDAOS_ASSERT_OK(dfs_->remove("/x"));
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    Counted c = counted_stat("x");
    EXPECT_EQ(c.st.status().code(), EDAOS_NONEXIST) << c.st.status().to_string();
    EXPECT_EQ(c.waits, here(c.waits) ? 0u : 1u);  // the known file's size query went with the get
  }
  MPI_Barrier(MPI_COMM_WORLD);

  // Known again, then replaced by a directory: a directory, no size.
  if (changer) write_file("/x", 50, 'e');
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    ASSERT_TRUE(dfs_->stat(nullptr, "x").ok());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (changer) {
    EDAOS_ASSERT_OK(dfs_->remove("/x"));
    EDAOS_ASSERT_OK(dfs_->mkdir("/x", 0755));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    Counted c = counted_stat("x");
    ASSERT_TRUE(c.st.ok());
    EXPECT_TRUE(S_ISDIR(c.st->mode));
    EXPECT_EQ(c.st->size, 0u);
    EXPECT_EQ(c.misses, here(c.waits) ? 0u : 1u);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  // An open handle whose name was renamed over: EDAOS_NONEXIST, never the other file's size.
  if (changer) write_file("/h", 10, 'f');
  MPI_Barrier(MPI_COMM_WORLD);
  std::unique_ptr<DfsObj> h;
  if (observer) {
    auto l = dfs_->lookup("/h", O_RDONLY);
    ASSERT_TRUE(l.ok());
    h = std::move(l).value();
    auto s = h->stat();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->size, 10u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (changer) {
    write_file("/h2", 20, 'g');
    EDAOS_ASSERT_OK(dfs_->rename("/h2", "/h"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (observer) {
    EXPECT_EQ(h->stat().status().code(), EDAOS_NONEXIST);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A file removal is two round trips with $EDAOS_DFS_BACKGROUND_DESTROY=1 (the entry read, its
// removal; the object is destroyed in the background and is gone once a sync or the umount
// returns), three without. A directory's removal adds
// the emptiness check. Removed names are not found by any rank.
TEST_F(S7MetaTest, RemoveReturnsAfterTheEntryAndSyncCoversTheObject) {
  const std::string mydir = "/rm" + std::to_string(rank());
  EDAOS_ASSERT_OK(dfs_->mkdir(mydir, 0755));
  auto dh = dfs_->lookup(mydir, O_RDWR);
  ASSERT_TRUE(dh.ok());
  DfsObj* d = dh.value().get();
  constexpr int kFiles = 12;
  std::vector<ObjectId> oids;
  for (int i = 0; i < kFiles; ++i) {
    auto f = dfs_->open(d, "f" + std::to_string(i), S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
    EDAOS_ASSERT_OK(f.value()->write(0, "some bytes", 10));
    oids.push_back(f.value()->oid());
  }
  EDAOS_ASSERT_OK(dfs_->mkdir(d, "sub", 0755));
  auto keep = dfs_->open(d, "keep", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(keep.ok());
  EDAOS_ASSERT_OK(keep.value()->write(0, "k", 1));
  EDAOS_ASSERT_OK(keep.value()->sync());
  uint64_t trips = 0;
  for (int i = 0; i < kFiles; ++i) {
    const uint64_t w0 = rpc_round_trips_for_testing();
    ObjectId gone;
    EDAOS_ASSERT_OK(dfs_->remove(d, "f" + std::to_string(i), false, &gone));
    trips += rpc_round_trips_for_testing() - w0;
    EXPECT_EQ(gone, oids[i]);
  }
  // With background destroys 2 per file (was 3: the destroy waited for); on by default since
  // session 8 ($EDAOS_DFS_BACKGROUND_DESTROY=0 turns them off).
  const char* bg = std::getenv("EDAOS_DFS_BACKGROUND_DESTROY");
  const uint64_t destroy = bg && std::string(bg) == "0" ? 1 : 0;
  // Session 8: the entry's read and removal are one request (KvOp::kTakeArray): 1 per file.
  EXPECT_EQ(trips, (1u + destroy) * kFiles);
  uint64_t w0 = rpc_round_trips_for_testing();
  EDAOS_ASSERT_OK(dfs_->remove(d, "sub"));
  EXPECT_EQ(rpc_round_trips_for_testing() - w0, 3u + destroy);  // entry, emptiness, removal
  for (int i = 0; i < kFiles; ++i)
    EXPECT_EQ(dfs_->stat(d, "f" + std::to_string(i)).status().code(), EDAOS_NONEXIST);
  // The sync drains this mount's background destroys: no removed file's data is left.
  EDAOS_ASSERT_OK(keep.value()->sync());
  auto objs = cont_->list_objects();
  ASSERT_TRUE(objs.ok());
  for (const ObjectId& o : oids) EXPECT_FALSE(std::binary_search(objs->begin(), objs->end(), o));
  EXPECT_TRUE(std::binary_search(objs->begin(), objs->end(), keep.value()->oid()));
  MPI_Barrier(MPI_COMM_WORLD);
  // Another rank's names: gone for everybody.
  const std::string peer = "/rm" + std::to_string((rank() + 1) % nranks());
  EXPECT_EQ(dfs_->stat(peer + "/f0").status().code(), EDAOS_NONEXIST);
  EXPECT_TRUE(dfs_->stat(peer + "/keep").ok());
  MPI_Barrier(MPI_COMM_WORLD);
}

// Asynchronous calls: one queue per rank, in its own directory. Every event's outcome is its
// own (bad names, duplicates, missing names, a non-empty directory fail alone), operations on
// one name apply in submission order (stat after create sees the file, stat after remove does
// not), and every result is checked against the store afterwards.
TEST_F(S7MetaTest, AsyncCallsKeepOrderAndTheirOwnErrors) {
  const std::string mydir = "/q" + std::to_string(rank());
  EDAOS_ASSERT_OK(dfs_->mkdir(mydir, 0755));
  auto dh = dfs_->lookup(mydir, O_RDWR);
  ASSERT_TRUE(dh.ok());
  DfsObj* d = dh.value().get();
  constexpr int kFiles = 40;
  auto fname = [](int i) { return "f" + std::to_string(i); };
  auto content = [&](int i) {
    return std::string(static_cast<size_t>(100 + 37 * i + rank()), static_cast<char>('a' + i % 26));
  };
  DfsEq eq(*dfs_, 16);
  EXPECT_EQ(eq.depth(), 16u);
  std::vector<DfsEventPtr> creates, stats, dups;
  for (int i = 0; i < kFiles; ++i) {
    const std::string c = content(i);
    creates.push_back(eq.create(d, fname(i), 0640, c.data(), c.size()));
  }
  DfsEventPtr dup = eq.create(d, fname(3), 0644, "x", 1);  // taken by the earlier create
  DfsEventPtr bad = eq.create(d, "a/b", 0644, "x", 1);
  for (int i = 0; i < kFiles; ++i) stats.push_back(eq.stat(d, fname(i)));
  DfsEventPtr missing = eq.stat(d, "nothere");
  std::vector<DfsEventPtr> mkdirs;
  for (int i = 0; i < 10; ++i) mkdirs.push_back(eq.mkdir(d, "d" + std::to_string(i), 0750));
  DfsEventPtr dupdir = eq.mkdir(d, "d0", 0755);
  DfsEventPtr dirfile = eq.mkdir(d, fname(0), 0755);  // a file holds the name
  // The first failure in submission order: the duplicate create.
  Status all = eq.wait_all();
  EXPECT_EQ(all.code(), EDAOS_EXIST) << all.to_string();
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_TRUE(creates[i]->test());
    EDAOS_EXPECT_OK(creates[i]->status());
    EXPECT_FALSE(creates[i]->oid().hi == 0 && creates[i]->oid().lo == 0);
    EDAOS_EXPECT_OK(stats[i]->status());
    EXPECT_TRUE(S_ISREG(stats[i]->stat().mode));
    EXPECT_EQ(stats[i]->stat().mode & 07777, 0640u);
    EXPECT_EQ(stats[i]->stat().size, content(i).size()) << fname(i);
    EXPECT_EQ(stats[i]->stat().oid, creates[i]->oid());
  }
  EXPECT_EQ(dup->status().code(), EDAOS_EXIST);
  EXPECT_EQ(bad->status().code(), EDAOS_INVAL);
  EXPECT_EQ(missing->status().code(), EDAOS_NONEXIST);
  for (auto& m : mkdirs) EDAOS_EXPECT_OK(m->status());
  EXPECT_EQ(dupdir->status().code(), EDAOS_EXIST);
  EXPECT_EQ(dirfile->status().code(), EDAOS_EXIST);
  // The store agrees: contents, and the directory lists exactly what succeeded.
  for (int i = 0; i < kFiles; ++i) {
    auto f = dfs_->lookup(d, fname(i), O_RDONLY);
    ASSERT_TRUE(f.ok());
    std::string buf(content(i).size() + 10, '\0');
    auto got = f.value()->read(0, buf.data(), buf.size());
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value(), content(i).size());
    EXPECT_EQ(buf.substr(0, content(i).size()), content(i));
  }
  std::set<std::string> listed;
  DfsAnchor a;
  while (!a.eof) {
    auto r = dfs_->readdir(d, &a, 7);
    ASSERT_TRUE(r.ok());
    for (auto& e : r.value()) listed.insert(e.name);
  }
  EXPECT_EQ(listed.size(), static_cast<size_t>(kFiles + 10));
  EXPECT_TRUE(listed.count("d9"));
  // A file inside a new directory, then removals: a non-empty directory fails alone, a file's
  // removal reports its object, stat after remove in the same queue sees nothing.
  auto d0 = dfs_->lookup(d, "d0", O_RDWR);
  ASSERT_TRUE(d0.ok());
  EDAOS_ASSERT_OK(eq.create(d0.value().get(), "inner", 0644, "abc", 3)->wait());
  std::vector<DfsEventPtr> rms;
  for (int i = 0; i < kFiles; i += 2) rms.push_back(eq.remove(d, fname(i)));
  DfsEventPtr rm_full = eq.remove(d, "d0");
  DfsEventPtr rm_empty = eq.remove(d, "d1");
  DfsEventPtr rm_missing = eq.remove(d, "nothere");
  DfsEventPtr rm_again = eq.remove(d, fname(0));  // after the first removal of f0
  DfsEventPtr st_gone = eq.stat(d, fname(2));
  DfsEventPtr st_kept = eq.stat(d, fname(1));
  EDAOS_EXPECT_OK(st_kept->wait());  // waiting the last one waits for every batch before it
  for (size_t k = 0; k < rms.size(); ++k) {
    ASSERT_TRUE(rms[k]->test());
    EDAOS_EXPECT_OK(rms[k]->status());
    EXPECT_EQ(rms[k]->oid(), creates[2 * k]->oid());
  }
  EXPECT_EQ(rm_full->status().code(), EDAOS_NOTEMPTY);
  EDAOS_EXPECT_OK(rm_empty->status());
  EXPECT_EQ(rm_missing->status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(rm_again->status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(st_gone->status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(st_kept->stat().size, content(1).size());
  EXPECT_EQ(eq.wait_all().code(), EDAOS_NOTEMPTY);
  EXPECT_EQ(dfs_->stat(d, fname(0)).status().code(), EDAOS_NONEXIST);
  EXPECT_TRUE(dfs_->stat(d, "d0").ok());
  EXPECT_EQ(dfs_->stat(d, "d1").status().code(), EDAOS_NONEXIST);
  // No removed file's data left behind.
  auto objs = cont_->list_objects();
  ASSERT_TRUE(objs.ok());
  for (auto& r : rms)
    EXPECT_FALSE(std::binary_search(objs->begin(), objs->end(), r->oid())) << r->name();
  MPI_Barrier(MPI_COMM_WORLD);
}

// test() never starts anything: an operation below the depth waits for a flush or a wait.
TEST_F(S7MetaTest, AsyncTestDoesNotStartAndWaitDoes) {
  DfsEq eq(*dfs_, 64);
  const std::string name = "t" + std::to_string(rank());
  DfsEventPtr ev = eq.create(nullptr, name, 0644, "hello", 5);
  EXPECT_FALSE(ev->test());
  EXPECT_EQ(ev->status().code(), EDAOS_BUSY);
  const uint64_t m0 = stats().rpcs;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, nullptr);
  EXPECT_FALSE(ev->test());
  EXPECT_EQ(stats().rpcs, m0);  // nothing was sent, by any thread of this process
  EXPECT_EQ(dfs_->stat(nullptr, name).status().code(), EDAOS_NONEXIST);
  EDAOS_EXPECT_OK(ev->wait());
  EXPECT_TRUE(ev->test());
  auto s = dfs_->stat(nullptr, name);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size, 5u);
  // flush() starts without waiting; test() then turns true by itself.
  DfsEventPtr st = eq.stat(nullptr, name);
  eq.flush();
  for (int i = 0; i < 4000 && !st->test(); ++i) nanosleep(&ts, nullptr);
  ASSERT_TRUE(st->test());
  EDAOS_EXPECT_OK(st->status());
  EXPECT_EQ(st->stat().size, 5u);
  MPI_Barrier(MPI_COMM_WORLD);
}

// Every rank creates the same names through its queue at once: one winner per name, holding
// its bytes, seen by every rank's asynchronous stats; the losers' events say EDAOS_EXIST.
TEST_F(S7MetaTest, AsyncExclusiveCreatesFromEveryRankHaveOneWinner) {
  if (rank() == 0) EDAOS_ASSERT_OK(dfs_->mkdir("/race", 0755));
  MPI_Barrier(MPI_COMM_WORLD);
  auto dh = dfs_->lookup("/race", O_RDWR);
  ASSERT_TRUE(dh.ok());
  constexpr int kNames = 30;
  std::vector<std::string> data(kNames);
  std::vector<DfsEventPtr> evs;
  {
    DfsEq eq(*dfs_, 8);
    for (int i = 0; i < kNames; ++i) {
      data[i] = "rank " + std::to_string(rank()) + " name " + std::to_string(i);
      evs.push_back(eq.create(dh.value().get(), "n" + std::to_string(i), 0644, data[i].data(),
                              data[i].size()));
    }
  }  // the queue's end completes every event
  std::vector<int> won(kNames, 0), total(kNames, 0);
  for (int i = 0; i < kNames; ++i) {
    ASSERT_TRUE(evs[i]->test());
    if (evs[i]->status().ok())
      won[i] = 1;
    else
      EXPECT_EQ(evs[i]->status().code(), EDAOS_EXIST) << evs[i]->status().to_string();
  }
  MPI_Allreduce(won.data(), total.data(), kNames, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  for (int i = 0; i < kNames; ++i) EXPECT_EQ(total[i], 1) << i;
  // Every rank stats every name asynchronously and reads the winner's bytes.
  DfsEq eq(*dfs_, 8);
  std::vector<DfsEventPtr> st;
  for (int i = 0; i < kNames; ++i) st.push_back(eq.stat(dh.value().get(), "n" + std::to_string(i)));
  EDAOS_EXPECT_OK(eq.wait_all());
  for (int i = 0; i < kNames; ++i) {
    auto f = dfs_->lookup(dh.value().get(), "n" + std::to_string(i), O_RDONLY);
    ASSERT_TRUE(f.ok());
    std::string buf(64, '\0');
    auto got = f.value()->read(0, buf.data(), buf.size());
    ASSERT_TRUE(got.ok());
    buf.resize(got.value());
    EXPECT_EQ(st[i]->stat().size, buf.size());
    EXPECT_EQ(buf.rfind("rank ", 0), 0u);
    EXPECT_NE(buf.find(" name " + std::to_string(i)), std::string::npos) << buf;
    if (won[i]) {
      EXPECT_EQ(buf, data[i]);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

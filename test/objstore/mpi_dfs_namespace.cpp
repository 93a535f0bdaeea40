// Multi-rank tests of the POSIX namespace (objstore/src/dfs): every call, its error codes,
// concurrent exclusive creates, readdir paging, rename, symlinks, class inheritance,
// persistence across remount, shared handles, and the C API.
#include <errno.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "edaos/objstore/dfs.h"
#include "edaos/objstore/dfs.hpp"
#include "mpi_support.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

class DfsEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    Status st = init(MPI_COMM_WORLD);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  void TearDown() override { (void)finalize(); }
};
[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new DfsEnv);

constexpr uint32_t kEngines = 4;

// A fresh pool; rank 0 creates containers, every rank opens them and mounts collectively.
class DfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<SharedTmpDir>("dfs");
    ASSERT_FALSE(dir_->path().empty());
    path_ = dir_->path() + "/pool";
    PoolCreateOptions o;
    o.engines = kEngines;
    o.targets = 2;
    EDAOS_ASSERT_OK(Pool::create(path_, o, MPI_COMM_WORLD));
    auto p = Pool::connect(path_, MPI_COMM_WORLD);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    pool_ = p.value();
    cont_ = make_cont("posix", "");
    ASSERT_TRUE(cont_);
    auto d = Dfs::mount(cont_, MPI_COMM_WORLD, O_RDWR);
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

  std::shared_ptr<Container> make_cont(const std::string& label, const std::string& props) {
    Status st;
    if (rank() == 0) {
      ContainerProps p;
      st = apply_properties(&p, props);
      if (st.ok()) st = pool_->cont_create(label, p).status();
    }
    int code = st.code();
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    EXPECT_EQ(code, EDAOS_OK) << st.to_string();
    if (code != EDAOS_OK) return nullptr;
    auto c = pool_->cont_open(label);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? c.value() : nullptr;
  }

  // Runs `f` on rank 0 only, then makes every rank see the outcome.
  template <typename F>
  void on_root(F&& f) {
    if (rank() == 0) f();
    MPI_Barrier(MPI_COMM_WORLD);
  }

  std::unique_ptr<SharedTmpDir> dir_;
  std::string path_;
  std::shared_ptr<Pool> pool_;
  std::shared_ptr<Container> cont_;
  std::unique_ptr<Dfs> dfs_;
};

edaos_status_t code_of(const Status& st) { return st.code(); }
template <typename T>
edaos_status_t code_of(const Result<T>& r) {
  return r.status().code();
}

#define EXPECT_CODE(expr, code)                                                      \
  do {                                                                               \
    auto&& r_ = (expr);                                                              \
    EXPECT_EQ(code_of(r_), code) << #expr << ": " << edaos_status_name(code_of(r_)); \
  } while (0)

std::vector<std::string> list_all(Dfs& d, const std::string& path, uint32_t page) {
  std::vector<std::string> out;
  DfsAnchor a;
  for (int guard = 0; !a.eof && guard < 10000; ++guard) {
    auto r = d.readdir(path, &a, page);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok()) break;
    EXPECT_LE(r->size(), page);
    for (auto& e : r.value()) out.push_back(e.name);
  }
  return out;
}

TEST_F(DfsTest, ConcurrentFirstMountsAgree) {
  auto c = make_cont("fresh", "");
  ASSERT_TRUE(c);
  // A read-only mount of a container without a namespace finds none.
  auto ro = Dfs::mount(c, MPI_COMM_NULL, O_RDONLY);
  EXPECT_CODE(ro, EDAOS_NONEXIST);
  MPI_Barrier(MPI_COMM_WORLD);
  // Every rank mounts independently at once: one creation wins, all see the same root.
  auto d = Dfs::mount(c, MPI_COMM_NULL, O_RDWR);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  ObjectId root = d.value()->root_oid();
  ObjectId r0 = bcast_oid(root);
  EXPECT_EQ(root, r0);
  EXPECT_TRUE(all_true(root == r0));
  auto st = d.value()->stat("/");
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_TRUE(S_ISDIR(st->mode));
  EXPECT_EQ(st->oid, root);
  MPI_Barrier(MPI_COMM_WORLD);
  auto ro2 = Dfs::mount(c, MPI_COMM_WORLD, O_RDONLY);
  ASSERT_TRUE(ro2.ok()) << ro2.status().to_string();
  EXPECT_EQ(ro2.value()->root_oid(), root);
  EXPECT_TRUE(ro2.value()->read_only());
  // Bad flags, and non-POSIX containers, are refused identically on every rank.
  EXPECT_CODE(Dfs::mount(c, MPI_COMM_WORLD, O_WRONLY), EDAOS_INVAL);
  int code = 0;
  if (rank() == 0) {
    ContainerProps p;
    p.type = ContType::kHdf5;
    code = pool_->cont_create("h5", p).status().code();
  }
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  ASSERT_EQ(code, EDAOS_OK);
  auto h = pool_->cont_open("h5");
  ASSERT_TRUE(h.ok());
  auto bad = Dfs::mount(h.value(), MPI_COMM_WORLD, O_RDWR);
  EXPECT_CODE(bad, EDAOS_INVAL);
}

TEST_F(DfsTest, EachRankWritesItsFileAllReadAll) {
  const int me = rank(), n = nranks();
  const size_t len = 300000 + 1000 * static_cast<size_t>(me);
  {
    auto f = dfs_->open("/file." + std::to_string(me), S_IFREG | 0640, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    std::vector<uint8_t> a(100000), b(len - 100000);
    fill(a, 0, 100 + me);
    fill(b, 100000, 100 + me);
    ConstIoVec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    EDAOS_ASSERT_OK(f.value()->write(0, iov, 2));
    auto sz = f.value()->get_size();
    ASSERT_TRUE(sz.ok());
    EXPECT_EQ(sz.value(), len);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (int r = 0; r < n; ++r) {
    const size_t rlen = 300000 + 1000 * static_cast<size_t>(r);
    auto f = dfs_->lookup("/file." + std::to_string(r));
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_TRUE(f.value()->is_file());
    // Scatter into three pieces, the last running past the end: a short read.
    std::vector<uint8_t> x(1000), y(rlen - 1000 - 10), z(500);
    IoVec iov[3] = {{x.data(), x.size()}, {y.data(), y.size()}, {z.data(), z.size()}};
    auto got = f.value()->read(0, iov, 3);
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got.value(), rlen);
    EXPECT_EQ(first_mismatch(x, 0, 100 + r), -1);
    EXPECT_EQ(first_mismatch(y, 1000, 100 + r), -1);
    std::vector<uint8_t> z10(z.begin(), z.begin() + 10);
    EXPECT_EQ(first_mismatch(z10, rlen - 10, 100 + r), -1);
    EXPECT_EQ(z[10], 0);  // beyond the end: zeros
                          // read_full: no size query, past the end reads zeros.
    std::vector<uint8_t> full(20, 0xab);
    IoVec fv{full.data(), full.size()};
    EDAOS_EXPECT_OK(f.value()->read_full(rlen - 10, &fv, 1));
    std::vector<uint8_t> f10(full.begin(), full.begin() + 10);
    EXPECT_EQ(first_mismatch(f10, rlen - 10, 100 + r), -1);
    EXPECT_TRUE(std::all_of(full.begin() + 10, full.end(), [](uint8_t v) { return v == 0; }));
    auto past = f.value()->read(rlen + 5, z.data(), z.size());
    ASSERT_TRUE(past.ok());
    EXPECT_EQ(past.value(), 0u);
    auto st = dfs_->stat("/file." + std::to_string(r));
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->size, rlen);
    EXPECT_EQ(st->mode, static_cast<mode_t>(S_IFREG | 0640));
    EXPECT_EQ(st->nlink, 1u);
    EXPECT_EQ(st->chunk_size, cont_->props().chunk_size);
    EXPECT_EQ(st->oclass, oclass_of(st->oid));
  }
  auto names = list_all(*dfs_, "/", 2);
  EXPECT_EQ(names.size(), static_cast<size_t>(n));
}

// Issue 15 item 3: a read asks for the size only when it may have run past the end of file
// (the engines' read replies say how far the file extends at least). Counts with the store's
// counters: a read inside the file is one message to the one server of its chunk.
TEST_F(DfsTest, ReadsAskTheSizeOnlyNearTheEnd) {
  const std::string name = "/eof." + std::to_string(rank());
  auto f = dfs_->open(name, S_IFREG | 0640, O_RDWR | O_CREAT | O_EXCL, "S1");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  DfsObj& o = *f.value();
  std::vector<uint8_t> data(100000);
  fill(data, 0, 40);
  EDAOS_ASSERT_OK(o.write(0, data.data(), data.size()));
  EDAOS_ASSERT_OK(o.write(300000, data.data(), 10));  // [100000, 300000) is a hole

  std::vector<uint8_t> got(50000, 0xee);
  uint64_t r0 = stats().rpcs;
  const uint64_t d0 = direct_stats().reads;
  auto n = o.read(1000, got.data(), got.size());
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(n.value(), got.size());
  // A direct read (the file's engine on this node) costs no RPC: its lease carries the size
  // bound (client/README.md "Size bound"); through the engine it is the read's one message.
  const uint64_t read_rpcs = direct_stats().reads != d0 ? 0u : 1u;
  EXPECT_EQ(stats().rpcs - r0, read_rpcs) << "a read inside the file needs no size round trip";
  std::vector<uint8_t> want(data.begin() + 1000, data.begin() + 51000);
  EXPECT_EQ(got, want);

  std::vector<uint8_t> hole(1000, 0xee);
  r0 = stats().rpcs;
  n = o.read(150000, hole.data(), hole.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), hole.size()) << "a hole inside the file is not its end";
  EXPECT_EQ(stats().rpcs - r0, read_rpcs);
  EXPECT_EQ(std::count(hole.begin(), hole.end(), 0), 1000);

  std::vector<uint8_t> tail(100, 0xee);
  n = o.read(299950, tail.data(), tail.size());  // runs 40 bytes past the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 60u);
  EXPECT_EQ(std::count(tail.begin(), tail.begin() + 50, 0), 50);
  EXPECT_TRUE(std::equal(tail.begin() + 50, tail.begin() + 60, data.begin()));
  EXPECT_EQ(std::count(tail.begin() + 60, tail.end(), 0), 40) << "past the end: zeros";
  n = o.read(400000, tail.data(), tail.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 0u);

  // Another rank extends the file; after the barrier (and its sync) this handle sees it.
  MPI_Barrier(MPI_COMM_WORLD);
  const std::string peer = "/eof." + std::to_string((rank() + 1) % nranks());
  {
    auto g = dfs_->open(peer, S_IFREG, O_RDWR);
    ASSERT_TRUE(g.ok()) << g.status().to_string();
    EDAOS_ASSERT_OK(g.value()->write(500000, data.data(), 20));
    EDAOS_ASSERT_OK(g.value()->sync());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<uint8_t> ext(100, 0xee);
  n = o.read(499990, ext.data(), ext.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 30u) << "extended by another rank";
  EXPECT_TRUE(std::equal(ext.begin() + 10, ext.begin() + 30, data.begin()));
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(DfsTest, ExclusiveCreateHasExactlyOneWinner) {
  const int n = nranks();
  for (int round = 0; round < 3; ++round) {
    for (mode_t type : {mode_t(S_IFREG), mode_t(S_IFDIR), mode_t(S_IFLNK)}) {
      std::string name = "/race" + std::to_string(round) + "_" + std::to_string(type);
      MPI_Barrier(MPI_COMM_WORLD);
      Status st;
      if (type == S_IFDIR) {
        st = dfs_->mkdir(name, 0755);
      } else {
        st = dfs_->open(name, type | 0644, O_RDWR | O_CREAT | O_EXCL, "", 0, "target").status();
      }
      int ok = st.ok() ? 1 : 0, exist = st.code() == EDAOS_EXIST ? 1 : 0;
      int sums[2] = {ok, exist}, tot[2] = {0, 0};
      MPI_Allreduce(sums, tot, 2, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
      EXPECT_EQ(tot[0], 1) << name << " " << st.to_string();
      EXPECT_EQ(tot[1], n - 1) << name << " " << st.to_string();
    }
  }
  // O_CREAT without O_EXCL from every rank: all succeed on the same object.
  MPI_Barrier(MPI_COMM_WORLD);
  auto f = dfs_->open("/shared", S_IFREG | 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  ObjectId o = f.value()->oid();
  EXPECT_TRUE(all_true(bcast_oid(o) == o));
  MPI_Barrier(MPI_COMM_WORLD);
  auto names = list_all(*dfs_, "/", 1000);
  EXPECT_EQ(names.size(), 10u);
}

TEST_F(DfsTest, ConcurrentMkdirPAndRenameRaceNeverLoseEntries) {
  // Every rank creates the same nested directories without O_EXCL: all end on one object.
  std::string path;
  ObjectId last;
  for (const char* c : {"p", "q", "r"}) {
    path += std::string("/") + c;
    auto d = dfs_->open(path, S_IFDIR | 0755, O_RDWR | O_CREAT);
    ASSERT_TRUE(d.ok()) << path << ": " << d.status().to_string();
    last = d.value()->oid();
  }
  EXPECT_TRUE(all_true(bcast_oid(last) == last));
  on_root([&] {
    auto f = dfs_->open("/p/q/r/src", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
    EDAOS_EXPECT_OK(f.value()->write(0, "payload", 7));
  });
  // Every rank renames the same source to its own name at once: whatever wins, the file
  // keeps at least one name and its data, and the source name is gone.
  Status st = dfs_->rename("/p/q/r/src", "/p/q/r/dst" + std::to_string(rank()));
  EXPECT_TRUE(st.ok() || st.code() == EDAOS_NONEXIST) << st.to_string();
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_CODE(dfs_->stat("/p/q/r/src"), EDAOS_NONEXIST);
  auto names = list_all(*dfs_, "/p/q/r", 2);
  ASSERT_GE(names.size(), 1u);
  for (auto& n : names) {
    auto f = dfs_->lookup("/p/q/r/" + n);
    ASSERT_TRUE(f.ok()) << n << ": " << f.status().to_string();
    char buf[16] = {};
    auto got = f.value()->read(0, buf, sizeof buf);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(buf, got.value()), "payload") << n;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  // Every rank removes the same file: exactly one succeeds.
  on_root([&] {
    auto f = dfs_->open("/p/gone", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
  });
  Status rs = dfs_->unlink("/p/gone");
  int ok = rs.ok() ? 1 : 0, tot = 0;
  MPI_Allreduce(&ok, &tot, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(tot, 1) << rs.to_string();
  EXPECT_TRUE(rs.ok() || rs.code() == EDAOS_NONEXIST) << rs.to_string();
}

TEST_F(DfsTest, LinkObjectRelinksLeakedObjects) {
  if (rank() == 0) {
    EXPECT_NE(dfs_->superblock_oid(), dfs_->root_oid());
    // Objects with no entry (as `fs check` finds them): an array and a KV with an entry.
    auto a = cont_->alloc_oid(ObjClass::parse("S1").value(), ObjType::kArray);
    ASSERT_TRUE(a.ok());
    auto arr = cont_->open_array(a.value(), 4096);
    ASSERT_TRUE(arr.ok());
    EDAOS_EXPECT_OK(arr.value()->write(0, "leaked", 6));
    EDAOS_EXPECT_OK(dfs_->mkdir("/d", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/d/sub", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/lost+found", 0700));
    auto sub = dfs_->stat("/d/sub");
    ASSERT_TRUE(sub.ok());
    // Pretend /d/sub's entry was lost: remove it from /d's KV directly.
    auto d = dfs_->lookup("/d");
    ASSERT_TRUE(d.ok());
    auto dkv = cont_->open_kv(d.value()->oid());
    ASSERT_TRUE(dkv.ok());
    EDAOS_EXPECT_OK(dkv.value()->remove("sub", ""));
    EDAOS_EXPECT_OK(
        dfs_->link_object("/lost+found/" + a.value().to_string(), a.value(), 0600, 4096));
    EDAOS_EXPECT_OK(dfs_->link_object("/lost+found/sub", sub->oid, 0755));
    EXPECT_CODE(dfs_->link_object("/lost+found/sub", sub->oid, 0755), EDAOS_EXIST);
    EXPECT_CODE(dfs_->link_object("/lost+found/z", ObjectId{}, 0755), EDAOS_INVAL);
    auto f = dfs_->lookup("/lost+found/" + a.value().to_string());
    ASSERT_TRUE(f.ok());
    char buf[8] = {};
    auto got = f.value()->read(0, buf, sizeof buf);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(buf, got.value()), "leaked");
    EXPECT_EQ(f.value()->chunk_size(), 4096u);
    auto st = dfs_->stat("/lost+found/sub");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(S_ISDIR(st->mode));
    // The relinked directory's parent link moved: it can no longer take its new parent below.
    EXPECT_CODE(dfs_->rename("/lost+found", "/lost+found/sub/x"), EDAOS_INVAL);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(DfsTest, ErrorCodes) {
  on_root([&] {
    EDAOS_EXPECT_OK(dfs_->mkdir("/d", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/d/sub", 0755));
    auto f = dfs_->open("/d/f", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    EXPECT_TRUE(f.ok());
    const char x = 'x';
    EDAOS_EXPECT_OK(f.value()->write(0, &x, 1));
  });
  EXPECT_CODE(dfs_->stat("/nope"), EDAOS_NONEXIST);
  EXPECT_CODE(dfs_->lookup("/d/nope"), EDAOS_NONEXIST);
  EXPECT_CODE(dfs_->open("/d/nope", S_IFREG, O_RDWR), EDAOS_NONEXIST);
  EXPECT_CODE(dfs_->stat("/d/f/x"), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->mkdir("/d/f/x", 0755), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->readdir("/d/f", nullptr, 1), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->mkdir("/d", 0755), EDAOS_EXIST);
  EXPECT_CODE(dfs_->mkdir("/", 0755), EDAOS_EXIST);
  EXPECT_CODE(dfs_->open("/d/f", S_IFREG, O_RDWR | O_CREAT | O_EXCL), EDAOS_EXIST);
  EXPECT_CODE(dfs_->open("/d/sub", S_IFREG, O_RDWR | O_CREAT), EDAOS_ISDIR);
  EXPECT_CODE(dfs_->open("/d/f", S_IFDIR, O_RDWR | O_CREAT), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->open("/d/f", S_IFDIR, O_RDONLY), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->unlink("/d/sub"), EDAOS_ISDIR);
  EXPECT_CODE(dfs_->rmdir("/d/f"), EDAOS_NOTDIR);
  EXPECT_CODE(dfs_->rmdir("/d"), EDAOS_NOTEMPTY);
  EXPECT_CODE(dfs_->remove("/d"), EDAOS_NOTEMPTY);
  EXPECT_CODE(dfs_->mkdir("/" + std::string(256, 'n'), 0755), EDAOS_NAMETOOLONG);
  EXPECT_CODE(dfs_->stat("/" + std::string(4096, 'a')), EDAOS_NAMETOOLONG);
  EXPECT_CODE(dfs_->mkdir("/d/..", 0755), EDAOS_INVAL);
  EXPECT_CODE(dfs_->open(nullptr, "a/b", S_IFREG, O_RDWR | O_CREAT), EDAOS_INVAL);
  EXPECT_CODE(dfs_->open(nullptr, "", S_IFREG, O_RDWR | O_CREAT), EDAOS_INVAL);
  EXPECT_CODE(dfs_->stat("relative/path"), EDAOS_INVAL);
  EXPECT_CODE(dfs_->open("/d/sock", S_IFSOCK, O_RDWR | O_CREAT), EDAOS_INVAL);
  EXPECT_CODE(dfs_->link("/d/f", "/d/f2"), EDAOS_NOTSUP);
  EXPECT_CODE(dfs_->open("/d/f", S_IFREG, O_RDWR | O_CREAT, "NOT_A_CLASS"), EDAOS_OK);
  EXPECT_CODE(dfs_->open("/d/g" + std::to_string(rank()), S_IFREG, O_RDWR | O_CREAT, "BOGUS"),
              EDAOS_INVAL);
  EXPECT_CODE(dfs_->open("/d/h" + std::to_string(rank()), S_IFREG, O_RDWR | O_CREAT, "EC_16P3G1"),
              EDAOS_NOENGINE);
  // Handle access modes.
  {
    auto ro = dfs_->lookup("/d/f", O_RDONLY);
    ASSERT_TRUE(ro.ok());
    const char y = 'y';
    EXPECT_CODE(ro.value()->write(0, &y, 1), EDAOS_PERM);
    EXPECT_CODE(ro.value()->set_size(0), EDAOS_PERM);
    EXPECT_CODE(ro.value()->punch(0, 1), EDAOS_PERM);
    char c = 0;
    auto r = ro.value()->read(0, &c, 1);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(c, 'x');
    auto wo = dfs_->lookup("/d/f", O_WRONLY);
    ASSERT_TRUE(wo.ok());
    EXPECT_CODE(wo.value()->read(0, &c, 1), EDAOS_PERM);
    auto dir = dfs_->lookup("/d");
    ASSERT_TRUE(dir.ok());
    EXPECT_CODE(dir.value()->read(0, &c, 1), EDAOS_ISDIR);
    EXPECT_CODE(dir.value()->get_size(), EDAOS_ISDIR);
    EXPECT_CODE(dfs_->open(ro.value().get(), "x", S_IFREG, O_RDWR | O_CREAT), EDAOS_NOTDIR);
  }
  // A read-only mount refuses every change.
  MPI_Barrier(MPI_COMM_WORLD);
  auto rom = Dfs::mount(cont_, MPI_COMM_WORLD, O_RDONLY);
  ASSERT_TRUE(rom.ok());
  Dfs& r = *rom.value();
  EXPECT_CODE(r.mkdir("/x", 0755), EDAOS_RDONLY);
  EXPECT_CODE(r.open("/x", S_IFREG, O_RDWR | O_CREAT), EDAOS_RDONLY);
  EXPECT_CODE(r.lookup("/d/f", O_RDWR), EDAOS_RDONLY);
  EXPECT_CODE(r.remove("/d/f"), EDAOS_RDONLY);
  EXPECT_CODE(r.rename("/d/f", "/d/f2"), EDAOS_RDONLY);
  EXPECT_CODE(r.chmod("/d/f", 0600), EDAOS_RDONLY);
  EXPECT_CODE(r.set_dir_attr("/d", "S1"), EDAOS_RDONLY);
  EXPECT_TRUE(r.stat("/d/f").ok());
  EDAOS_EXPECT_OK(r.umount());
  EXPECT_CODE(r.stat("/d/f"), EDAOS_INVAL);
  // errno mapping.
  EXPECT_EQ(dfs_errno(EDAOS_OK), 0);
  EXPECT_EQ(dfs_errno(EDAOS_NONEXIST), ENOENT);
  EXPECT_EQ(dfs_errno(EDAOS_EXIST), EEXIST);
  EXPECT_EQ(dfs_errno(EDAOS_NOTDIR), ENOTDIR);
  EXPECT_EQ(dfs_errno(EDAOS_ISDIR), EISDIR);
  EXPECT_EQ(dfs_errno(EDAOS_NOTEMPTY), ENOTEMPTY);
  EXPECT_EQ(dfs_errno(EDAOS_NAMETOOLONG), ENAMETOOLONG);
  EXPECT_EQ(dfs_errno(EDAOS_LOOP), ELOOP);
  EXPECT_EQ(dfs_errno(EDAOS_PERM), EPERM);
  EXPECT_EQ(dfs_errno(EDAOS_RDONLY), EROFS);
  EXPECT_EQ(dfs_errno(EDAOS_NOTSUP), ENOTSUP);
  EXPECT_EQ(dfs_errno(EDAOS_NOSPACE), ENOSPC);
  EXPECT_EQ(dfs_errno(EDAOS_DEGRADED), EIO);
}

TEST_F(DfsTest, NestedDirsAndReaddirPaging) {
  const int n = nranks();
  on_root([&] {
    EDAOS_EXPECT_OK(dfs_->mkdir("/a", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/a/b", 0700));
    EDAOS_EXPECT_OK(dfs_->mkdir("/a/b/c", 0755));
  });
  // Every rank adds its share of 37 entries (files and directories).
  std::set<std::string> want;
  for (int i = 0; i < 37; ++i) {
    std::string name = "e" + std::to_string(i * 7 % 37) + (i % 3 == 0 ? ".d" : ".f");
    want.insert(name);
    if (i % n != rank()) continue;
    if (i % 3 == 0) {
      EDAOS_EXPECT_OK(dfs_->mkdir("/a/b/c/" + name, 0755));
    } else {
      auto f = dfs_->open("/a/b/c/" + name, S_IFREG | 0644, O_WRONLY | O_CREAT | O_EXCL);
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      EDAOS_EXPECT_OK(f.value()->write(0, name.data(), name.size()));
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  for (uint32_t page : {1u, 3u, 7u, 64u}) {
    auto got = list_all(*dfs_, "/a/b/c", page);
    EXPECT_EQ(got.size(), want.size()) << "page " << page;
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << "page " << page;
  }
  // readdir plus: types and sizes; handle-based listing of the same directory.
  auto dir = dfs_->lookup("/a/b/../b/./c");
  ASSERT_TRUE(dir.ok()) << dir.status().to_string();
  DfsAnchor a;
  size_t seen = 0;
  while (!a.eof) {
    auto r = dfs_->readdir(dir.value().get(), &a, 5, true);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    for (auto& e : r.value()) {
      ++seen;
      if (e.name.size() > 2 && e.name.substr(e.name.size() - 2) == ".d") {
        EXPECT_TRUE(S_ISDIR(e.mode));
        EXPECT_EQ(e.st.nlink, 2u);
      } else {
        EXPECT_TRUE(S_ISREG(e.mode));
        EXPECT_EQ(e.st.size, e.name.size());
      }
    }
  }
  EXPECT_EQ(seen, want.size());
  EXPECT_CODE(dfs_->readdir("/a", &a, 0), EDAOS_INVAL);
  auto st = dfs_->stat("/a/b");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->mode, static_cast<mode_t>(S_IFDIR | 0700));
  // Relative opens through directory handles.
  auto b = dfs_->lookup("/a/b");
  ASSERT_TRUE(b.ok());
  auto c = dfs_->lookup(b.value().get(), "c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value()->oid(), dir.value()->oid());
  EXPECT_EQ(c.value()->name(), "c");
  MPI_Barrier(MPI_COMM_WORLD);
  // Forced removal of the whole subtree.
  on_root([&] {
    EXPECT_CODE(dfs_->remove("/a"), EDAOS_NOTEMPTY);
    EDAOS_EXPECT_OK(dfs_->remove("/a", true));
  });
  EXPECT_CODE(dfs_->stat("/a"), EDAOS_NONEXIST);
  EXPECT_TRUE(list_all(*dfs_, "/", 4).empty());
}

TEST_F(DfsTest, Rename) {
  auto put = [&](const std::string& p, uint64_t seed, size_t len) {
    auto f = dfs_->open(p, S_IFREG | 0644, O_RDWR | O_CREAT | O_TRUNC);
    ASSERT_TRUE(f.ok()) << p << ": " << f.status().to_string();
    std::vector<uint8_t> b(len);
    fill(b, 0, seed);
    EDAOS_ASSERT_OK(f.value()->write(0, b.data(), b.size()));
  };
  auto check = [&](const std::string& p, uint64_t seed, size_t len) {
    auto f = dfs_->lookup(p);
    ASSERT_TRUE(f.ok()) << p << ": " << f.status().to_string();
    std::vector<uint8_t> b(len + 10);
    auto got = f.value()->read(0, b.data(), b.size());
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value(), len) << p;
    b.resize(len);
    EXPECT_EQ(first_mismatch(b, 0, seed), -1) << p;
  };
  if (rank() == 0) {
    EDAOS_EXPECT_OK(dfs_->mkdir("/x", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/y", 0755));
    put("/x/a", 1, 5000);
    put("/x/b", 2, 7000);
    // Within a directory.
    EDAOS_EXPECT_OK(dfs_->rename("/x/a", "/x/a2"));
    EXPECT_CODE(dfs_->stat("/x/a"), EDAOS_NONEXIST);
    check("/x/a2", 1, 5000);
    // Between directories.
    EDAOS_EXPECT_OK(dfs_->rename("/x/a2", "/y/a3"));
    check("/y/a3", 1, 5000);
    // Over an existing file: the target's data goes, the source's stays.
    auto old = dfs_->stat("/x/b");
    ASSERT_TRUE(old.ok());
    EDAOS_EXPECT_OK(dfs_->rename("/y/a3", "/x/b"));
    check("/x/b", 1, 5000);
    EXPECT_CODE(dfs_->stat("/y/a3"), EDAOS_NONEXIST);
    // Onto itself: nothing happens.
    EDAOS_EXPECT_OK(dfs_->rename("/x/b", "/x/b"));
    check("/x/b", 1, 5000);
    EXPECT_CODE(dfs_->rename("/x/none", "/x/c"), EDAOS_NONEXIST);
    // Directories.
    EDAOS_EXPECT_OK(dfs_->mkdir("/x/d1", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/x/d1/inner", 0755));
    put("/x/d1/inner/f", 3, 100);
    EDAOS_EXPECT_OK(dfs_->mkdir("/y/empty", 0755));
    EDAOS_EXPECT_OK(dfs_->mkdir("/y/full", 0755));
    put("/y/full/g", 4, 10);
    EXPECT_CODE(dfs_->rename("/x/d1", "/y/full"), EDAOS_NOTEMPTY);
    EXPECT_CODE(dfs_->rename("/x/d1", "/x/b"), EDAOS_NOTDIR);
    EXPECT_CODE(dfs_->rename("/x/b", "/y/empty"), EDAOS_ISDIR);
    EXPECT_CODE(dfs_->rename("/x/d1", "/x/d1/inner/loop"), EDAOS_INVAL);
    EXPECT_CODE(dfs_->rename("/x", "/x/d1/inner/loop"), EDAOS_INVAL);
    EDAOS_EXPECT_OK(dfs_->rename("/x/d1", "/y/empty"));
    check("/y/empty/inner/f", 3, 100);
    EXPECT_CODE(dfs_->stat("/x/d1"), EDAOS_NONEXIST);
    // A moved directory's parent link follows it: moving its old parent below it is refused.
    EDAOS_EXPECT_OK(dfs_->rename("/y/empty", "/x/moved"));
    EXPECT_CODE(dfs_->rename("/x", "/x/moved/inner/z"), EDAOS_INVAL);
    EDAOS_EXPECT_OK(dfs_->rename("/y", "/x/moved/inner/y"));
    check("/x/moved/inner/y/full/g", 4, 10);
    // Handle-based form.
    auto xd = dfs_->lookup("/x");
    auto md = dfs_->lookup("/x/moved");
    ASSERT_TRUE(xd.ok() && md.ok());
    EDAOS_EXPECT_OK(dfs_->rename(xd.value().get(), "b", md.value().get(), "b2"));
    check("/x/moved/b2", 1, 5000);
    EDAOS_EXPECT_OK(dfs_->symlink("/x/ln", "moved/b2"));
    EDAOS_EXPECT_OK(dfs_->rename("/x/ln", "/x/ln2"));
    auto t = dfs_->readlink("/x/ln2");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value(), "moved/b2");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  check("/x/moved/inner/y/full/g", 4, 10);
  check("/x/ln2", 1, 5000);
  EXPECT_EQ(list_all(*dfs_, "/", 8), std::vector<std::string>{"x"});
}

TEST_F(DfsTest, SymlinksAndReadlink) {
  on_root([&] {
    EDAOS_EXPECT_OK(dfs_->mkdir("/real", 0755));
    auto f = dfs_->open("/real/data", S_IFREG | 0644, O_RDWR | O_CREAT);
    ASSERT_TRUE(f.ok());
    EDAOS_EXPECT_OK(f.value()->write(0, "hello", 5));
    EDAOS_EXPECT_OK(dfs_->symlink("/abs", "/real/data"));
    EDAOS_EXPECT_OK(dfs_->symlink("/rel", "real/data"));
    EDAOS_EXPECT_OK(dfs_->symlink("/dirlink", "/real"));
    EDAOS_EXPECT_OK(dfs_->symlink("/real/up", "../real/./data"));
    EDAOS_EXPECT_OK(dfs_->symlink("/dangling", "/nothing"));
    EDAOS_EXPECT_OK(dfs_->symlink("/loop1", "/loop2"));
    EDAOS_EXPECT_OK(dfs_->symlink("/loop2", "loop1"));
    EXPECT_CODE(dfs_->symlink("/empty", ""), EDAOS_INVAL);
    EXPECT_CODE(dfs_->symlink("/abs", "x"), EDAOS_EXIST);
    auto h =
        dfs_->open(nullptr, "viaopen", S_IFLNK | 0777, O_RDWR | O_CREAT | O_EXCL, "", 0, "/real");
    ASSERT_TRUE(h.ok()) << h.status().to_string();
    EXPECT_TRUE(h.value()->is_symlink());
    char c;
    EXPECT_CODE(h.value()->read(0, &c, 1), EDAOS_INVAL);
    EXPECT_CODE(dfs_->obj_serialize(*h.value()), EDAOS_INVAL);
  });
  for (const char* p : {"/abs", "/rel", "/dirlink/data", "/real/up", "/viaopen/data"}) {
    auto f = dfs_->lookup(p);
    ASSERT_TRUE(f.ok()) << p << ": " << f.status().to_string();
    char buf[8] = {};
    auto got = f.value()->read(0, buf, sizeof buf);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value(), 5u) << p;
    EXPECT_EQ(std::string(buf, 5), "hello") << p;
  }
  auto t = dfs_->readlink("/rel");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value(), "real/data");
  auto t2 = dfs_->readlink(nullptr, "dirlink");
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2.value(), "/real");
  EXPECT_CODE(dfs_->readlink("/real/data"), EDAOS_INVAL);
  auto nf = dfs_->lookup("/abs", O_RDONLY | O_NOFOLLOW);
  ASSERT_TRUE(nf.ok());
  EXPECT_TRUE(nf.value()->is_symlink());
  auto ls = dfs_->stat("/abs", false);
  ASSERT_TRUE(ls.ok());
  EXPECT_TRUE(S_ISLNK(ls->mode));
  EXPECT_EQ(ls->size, std::string("/real/data").size());
  auto fs = dfs_->stat("/abs");
  ASSERT_TRUE(fs.ok());
  EXPECT_TRUE(S_ISREG(fs->mode));
  EXPECT_EQ(fs->size, 5u);
  auto ps = dfs_->stat(nullptr, "abs");
  ASSERT_TRUE(ps.ok());
  EXPECT_TRUE(S_ISLNK(ps->mode));
  EXPECT_CODE(dfs_->lookup("/dangling"), EDAOS_NONEXIST);
  EXPECT_TRUE(dfs_->stat("/dangling", false).ok());
  EXPECT_CODE(dfs_->lookup("/loop1"), EDAOS_LOOP);
  EXPECT_CODE(dfs_->stat("/loop1/x"), EDAOS_LOOP);
  EXPECT_CODE(dfs_->get_layout("/abs", false), EDAOS_INVAL);
  MPI_Barrier(MPI_COMM_WORLD);
  // Removing a symlink removes the link, not its target.
  on_root([&] { EDAOS_EXPECT_OK(dfs_->unlink("/abs")); });
  EXPECT_CODE(dfs_->stat("/abs", false), EDAOS_NONEXIST);
  EXPECT_TRUE(dfs_->stat("/real/data").ok());
}

TEST_F(DfsTest, ClassInheritanceFromDirectoryAttribute) {
  auto c = make_cont("classes", "file_oclass:S1,chunk_size:65536");
  ASSERT_TRUE(c);
  auto m = Dfs::mount(c, MPI_COMM_WORLD, O_RDWR);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  Dfs& d = *m.value();
  on_root([&] {
    EDAOS_EXPECT_OK(d.mkdir("/plain", 0755));
    EDAOS_EXPECT_OK(d.mkdir("/ec", 0755));
    EDAOS_EXPECT_OK(d.set_dir_attr("/ec", "ec_2p1g1", 262144));
    EDAOS_EXPECT_OK(d.mkdir("/ec/sub", 0755));
    EXPECT_CODE(d.set_dir_attr("/plain", "EC_16P3GX"), EDAOS_NOENGINE);
    EXPECT_CODE(d.set_dir_attr("/plain", "nonsense"), EDAOS_INVAL);
  });
  auto lay = d.get_layout("/ec");
  ASSERT_TRUE(lay.ok()) << lay.status().to_string();
  EXPECT_EQ(lay->child_oclass, "EC_2P1G1");
  EXPECT_EQ(lay->child_chunk_size, 262144u);
  const std::string me = std::to_string(rank());
  // Container default for files, then the inherited attribute, then an explicit class.
  auto f0 = d.open("/plain/f" + me, S_IFREG | 0644, O_RDWR | O_CREAT);
  auto f1 = d.open("/ec/f" + me, S_IFREG | 0644, O_RDWR | O_CREAT);
  auto f2 = d.open("/ec/sub/f" + me, S_IFREG | 0644, O_RDWR | O_CREAT);
  auto f3 = d.open("/ec/x" + me, S_IFREG | 0644, O_RDWR | O_CREAT, "RP_2G1", 4096);
  ASSERT_TRUE(f0.ok() && f1.ok() && f2.ok() && f3.ok());
  EXPECT_EQ(f0.value()->oclass().name(), "S1");
  EXPECT_EQ(f0.value()->chunk_size(), 65536u);
  EXPECT_EQ(f1.value()->oclass().name(), "EC_2P1G1");
  EXPECT_EQ(f1.value()->chunk_size(), 262144u);
  EXPECT_EQ(f2.value()->oclass().name(), "EC_2P1G1");
  EXPECT_EQ(f2.value()->chunk_size(), 262144u);
  EXPECT_EQ(f3.value()->oclass().name(), "RP_2G1");
  EXPECT_EQ(f3.value()->chunk_size(), 4096u);
  auto sub = d.get_layout("/ec/sub");
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->child_oclass, "EC_2P1G1");
  EXPECT_EQ(sub->oclass.name(), "EC_2P1G1");
  auto fl = d.get_layout("/ec/f" + me);
  ASSERT_TRUE(fl.ok());
  EXPECT_EQ(fl->oclass.name(), "EC_2P1G1");
  EXPECT_EQ(fl->chunk_size, 262144u);
  EXPECT_EQ(fl->oid, f1.value()->oid());
  // Data through an inherited EC class.
  std::vector<uint8_t> b(600000);
  fill(b, 0, 77);
  EDAOS_EXPECT_OK(f1.value()->write(0, b.data(), b.size()));
  std::vector<uint8_t> r(b.size());
  auto got = f1.value()->read(0, r.data(), r.size());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(first_mismatch(r, 0, 77), -1);
  auto st = d.stat("/ec/f" + me);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->oclass.name(), "EC_2P1G1");
  EXPECT_EQ(st->size, b.size());
  EXPECT_CODE(d.set_dir_attr("/ec/f" + me, "S1"), EDAOS_NOTDIR);
  MPI_Barrier(MPI_COMM_WORLD);
  // Clearing the attribute: new children fall back to the container.
  on_root([&] { EDAOS_EXPECT_OK(d.set_dir_attr("/ec", "")); });
  auto f4 = d.open("/ec/after" + me, S_IFREG | 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(f4.ok());
  EXPECT_EQ(f4.value()->oclass().name(), "S1");
  EXPECT_EQ(f4.value()->chunk_size(), 262144u);  // chunk attribute kept
}

// A directory handle reads its directory record once for the children it creates (the class
// and chunk size they inherit), and sees set_dir_attr made through the same mount at once.
TEST_F(DfsTest, DirectoryHandleCachesItsRecordForCreates) {
  auto c = make_cont("dircache", "file_oclass:S1");
  ASSERT_TRUE(c);
  auto m = Dfs::mount(c, MPI_COMM_WORLD, O_RDWR);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  Dfs& d = *m.value();
  const std::string me = std::to_string(rank());
  const std::string dir = "/d" + me;
  EDAOS_ASSERT_OK(d.mkdir(dir, 0755));
  EDAOS_ASSERT_OK(d.set_dir_attr(dir, "RP_2G1", 8192));
  auto h = d.lookup(dir, O_RDWR);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  auto create = [&](const std::string& name) {
    auto f = d.open(h.value().get(), name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    EXPECT_TRUE(f.ok()) << f.status().to_string();
    return f.ok() ? std::move(f).value() : nullptr;
  };
  auto f0 = create("f0");  // reads the record
  ASSERT_TRUE(f0);
  EXPECT_EQ(f0->oclass().name(), "RP_2G1");
  EXPECT_EQ(f0->chunk_size(), 8192u);
  // Each further create is the entry insert (plus an occasional OID range), never the record.
  const int n = 16;
  const uint64_t before = stats().rpcs;
  for (int i = 1; i <= n; ++i) ASSERT_TRUE(create("f" + std::to_string(i)));
  const uint64_t per_create_x100 = (stats().rpcs - before) * 100 / n;
  EXPECT_LT(per_create_x100, 150u) << "RPCs per create (x100) with a cached directory record";
  // A change through this mount is seen by the open handle at once.
  EDAOS_ASSERT_OK(d.set_dir_attr(dir, "S1", 16384));
  auto g = create("g");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->oclass().name(), "S1");
  EXPECT_EQ(g->chunk_size(), 16384u);
}

TEST_F(DfsTest, TruncatePunchAndTrunc) {
  const std::string p = "/t" + std::to_string(rank());
  auto f = dfs_->open(p, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(f.ok());
  std::vector<uint8_t> b(200000);
  fill(b, 0, 9);
  EDAOS_ASSERT_OK(f.value()->write(0, b.data(), b.size()));
  EDAOS_ASSERT_OK(f.value()->set_size(1000));
  auto s = f.value()->get_size();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value(), 1000u);
  EDAOS_ASSERT_OK(f.value()->set_size(5000));
  std::vector<uint8_t> r(6000, 0xee);
  auto got = f.value()->read(0, r.data(), r.size());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), 5000u);
  std::vector<uint8_t> head(r.begin(), r.begin() + 1000);
  EXPECT_EQ(first_mismatch(head, 0, 9), -1);
  EXPECT_TRUE(std::all_of(r.begin() + 1000, r.begin() + 5000, [](uint8_t x) { return x == 0; }));
  EXPECT_EQ(r[5000], 0);  // past the end: zeros (the whole range is read, no size first)
  EDAOS_ASSERT_OK(f.value()->punch(0, 10));
  got = f.value()->read(0, r.data(), 20);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[9], 0);
  EXPECT_EQ(r[10], pattern(10, 9));
  s = f.value()->get_size();
  EXPECT_EQ(s.value(), 5000u);
  f.value().reset();
  // O_TRUNC empties an existing file; without write access it is ignored.
  auto ro = dfs_->open(p, S_IFREG, O_RDONLY | O_TRUNC);
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(ro.value()->get_size().value(), 5000u);
  auto t = dfs_->open(p, S_IFREG, O_RDWR | O_TRUNC);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value()->get_size().value(), 0u);
  auto st = dfs_->stat(p);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 0u);
}

TEST_F(DfsTest, ChmodChownUtimensAndTimes) {
  const std::string p = "/m" + std::to_string(rank());
  {
    auto f = dfs_->open(p, S_IFREG | 0600, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
  }
  auto st0 = dfs_->stat(p);
  ASSERT_TRUE(st0.ok());
  EXPECT_EQ(st0->uid, static_cast<uint32_t>(geteuid()));
  EXPECT_EQ(st0->gid, static_cast<uint32_t>(getegid()));
  EDAOS_ASSERT_OK(dfs_->chmod(p, 04751));
  EDAOS_ASSERT_OK(dfs_->chown(p, 1234, static_cast<uint32_t>(-1)));
  struct timespec at = {1000, 5}, mt = {2000, 6};
  EDAOS_ASSERT_OK(dfs_->utimens(p, &at, &mt));
  auto st = dfs_->stat(p);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->mode, static_cast<mode_t>(S_IFREG | 04751));
  EXPECT_EQ(st->uid, 1234u);
  EXPECT_EQ(st->gid, st0->gid);
  EXPECT_EQ(st->atime.tv_sec, 1000);
  EXPECT_EQ(st->atime.tv_nsec, 5);
  EXPECT_EQ(st->mtime.tv_sec, 2000);
  EXPECT_GE(st->ctime.tv_sec, st0->ctime.tv_sec);
  struct timespec bad = {1, 2000000000L};
  EXPECT_CODE(dfs_->utimens(p, nullptr, &bad), EDAOS_INVAL);
  // Writing through a handle moves mtime when the handle is released.
  {
    auto f = dfs_->lookup(p, O_RDWR);
    ASSERT_TRUE(f.ok());
    EDAOS_ASSERT_OK(f.value()->write(0, "abc", 3));
  }
  auto st2 = dfs_->stat(p);
  ASSERT_TRUE(st2.ok());
  EXPECT_GT(st2->mtime.tv_sec, 2000);
  EXPECT_EQ(st2->atime.tv_sec, 1000);
  // Directory and root attributes, handle-relative forms.
  if (rank() == 0) {
    EDAOS_EXPECT_OK(dfs_->chmod("/", 0700));
    auto r = dfs_->stat("/");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->mode, static_cast<mode_t>(S_IFDIR | 0700));
    EDAOS_EXPECT_OK(dfs_->chmod(nullptr, p.substr(1), 0644));
    EDAOS_EXPECT_OK(dfs_->chown(nullptr, p.substr(1), static_cast<uint32_t>(-1), 77));
    EDAOS_EXPECT_OK(dfs_->utimens(nullptr, p.substr(1), &at, nullptr));
    auto s3 = dfs_->stat(nullptr, p.substr(1));
    ASSERT_TRUE(s3.ok());
    EXPECT_EQ(s3->mode, static_cast<mode_t>(S_IFREG | 0644));
    EXPECT_EQ(s3->gid, 77u);
    EXPECT_EQ(s3->uid, 1234u);
  }
}

TEST_F(DfsTest, PersistsAcrossRemount) {
  const std::string me = std::to_string(rank());
  std::vector<uint8_t> b(150000);
  fill(b, 0, 500 + static_cast<uint64_t>(rank()));
  on_root([&] {
    EDAOS_EXPECT_OK(dfs_->mkdir("/keep", 0750));
    EDAOS_EXPECT_OK(dfs_->symlink("/keep/ln", "f0"));
  });
  {
    auto f = dfs_->open("/keep/f" + me, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
    EDAOS_ASSERT_OK(f.value()->write(0, b.data(), b.size()));
    EDAOS_ASSERT_OK(f.value()->sync());
  }
  const ObjectId root = dfs_->root_oid();
  EDAOS_ASSERT_OK(dfs_->umount());
  dfs_.reset();
  cont_.reset();
  EDAOS_ASSERT_OK(pool_->disconnect());
  pool_.reset();
  auto p = Pool::connect(path_, MPI_COMM_WORLD);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  pool_ = p.value();
  auto c = pool_->cont_open("posix");
  ASSERT_TRUE(c.ok());
  cont_ = c.value();
  auto d = Dfs::mount(cont_, MPI_COMM_WORLD, O_RDONLY);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  dfs_ = std::move(d).value();
  EXPECT_EQ(dfs_->root_oid(), root);
  auto names = list_all(*dfs_, "/keep", 3);
  EXPECT_EQ(names.size(), static_cast<size_t>(nranks()) + 1);
  for (int r = 0; r < nranks(); ++r) {
    auto f = dfs_->lookup("/keep/f" + std::to_string(r));
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    std::vector<uint8_t> x(b.size());
    auto got = f.value()->read(0, x.data(), x.size());
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got.value(), x.size());
    EXPECT_EQ(first_mismatch(x, 0, 500 + static_cast<uint64_t>(r)), -1);
  }
  auto l = dfs_->readlink("/keep/ln");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l.value(), "f0");
  auto st = dfs_->stat("/keep");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->mode, static_cast<mode_t>(S_IFDIR | 0750));
}

TEST_F(DfsTest, SharedHandleFromRankZero) {
  const int n = nranks();
  std::string blob;
  if (rank() == 0) {
    auto f = dfs_->open("/collective", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
    auto b = dfs_->obj_serialize(*f.value());
    ASSERT_TRUE(b.ok());
    blob = b.value();
  }
  int len = static_cast<int>(blob.size());
  MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
  blob.resize(static_cast<size_t>(len));
  MPI_Bcast(blob.data(), len, MPI_CHAR, 0, MPI_COMM_WORLD);
  auto h = dfs_->obj_deserialize(blob);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_TRUE(h.value()->is_file());
  EXPECT_EQ(h.value()->name(), "collective");
  const size_t block = 70000;
  std::vector<uint8_t> b(block);
  fill(b, block * static_cast<size_t>(rank()), 42);
  EDAOS_ASSERT_OK(h.value()->write(block * static_cast<size_t>(rank()), b.data(), b.size()));
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<uint8_t> all(block * static_cast<size_t>(n));
  auto got = h.value()->read(0, all.data(), all.size());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value(), all.size());
  EXPECT_EQ(first_mismatch(all, 0, 42), -1);
  auto st = h.value()->stat();
  ASSERT_TRUE(st.ok()) << st.status().to_string();
  EXPECT_EQ(st->size, all.size());
  // Read-only re-typing, a foreign container, garbage.
  auto ro = dfs_->obj_deserialize(blob, O_RDONLY);
  ASSERT_TRUE(ro.ok());
  EXPECT_CODE(ro.value()->write(0, "x", 1), EDAOS_PERM);
  EXPECT_CODE(dfs_->obj_deserialize("garbage"), EDAOS_FORMAT);
  EXPECT_CODE(dfs_->obj_deserialize(blob.substr(0, blob.size() - 3)), EDAOS_FORMAT);
  auto other = make_cont("other", "");
  ASSERT_TRUE(other);
  auto om = Dfs::mount(other, MPI_COMM_WORLD, O_RDWR);
  ASSERT_TRUE(om.ok());
  EXPECT_CODE(om.value()->obj_deserialize(blob), EDAOS_INVAL);
  // Directory handles travel too.
  auto root = dfs_->lookup("/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root.value()->name(), "");
  auto rb = dfs_->obj_serialize(*root.value());
  ASSERT_TRUE(rb.ok());
  auto rh = dfs_->obj_deserialize(rb.value());
  ASSERT_TRUE(rh.ok());
  EXPECT_TRUE(rh.value()->is_dir());
  auto sub = dfs_->lookup(rh.value().get(), "collective");
  ASSERT_TRUE(sub.ok());
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(DfsTest, CApi) {
  // Reach the same container through the C API.
  edaos_os_pool_t* pool = nullptr;
  ASSERT_EQ(edaos_os_pool_connect(path_.c_str(), MPI_COMM_WORLD, &pool), EDAOS_OK)
      << edaos_os_last_error();
  edaos_os_cont_t* cont = nullptr;
  ASSERT_EQ(edaos_os_cont_open(pool, "posix", &cont), EDAOS_OK) << edaos_os_last_error();
  edaos_dfs_t* dfs = nullptr;
  ASSERT_EQ(edaos_dfs_mount(cont, MPI_COMM_WORLD, O_RDWR, &dfs), EDAOS_OK) << edaos_os_last_error();
  const std::string me = "c" + std::to_string(rank());
  edaos_dfs_obj_t* dir = nullptr;
  ASSERT_EQ(edaos_dfs_mkdir(dfs, nullptr, me.c_str(), 0755, nullptr), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_mkdir(dfs, nullptr, me.c_str(), 0755, nullptr), EDAOS_EXIST);
  EXPECT_NE(std::string(edaos_os_last_error()).find(me), std::string::npos);
  uint32_t mode = 0;
  ASSERT_EQ(edaos_dfs_lookup(dfs, ("/" + me).c_str(), O_RDWR, &dir, &mode), EDAOS_OK);
  EXPECT_TRUE(S_ISDIR(mode));
  edaos_dfs_obj_t* f = nullptr;
  ASSERT_EQ(edaos_dfs_open(dfs, dir, "file", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, "RP_2G1",
                           8192, nullptr, &f),
            EDAOS_OK)
      << edaos_os_last_error();
  char a[5] = "abcd", b[7] = "efghij";
  edaos_iov_t w[2] = {{a, 4}, {b, 6}};
  ASSERT_EQ(edaos_dfs_write(f, 0, w, 2), EDAOS_OK);
  uint64_t size = 0;
  ASSERT_EQ(edaos_dfs_get_size(f, &size), EDAOS_OK);
  EXPECT_EQ(size, 10u);
  char out[16] = {};
  edaos_iov_t r[1] = {{out, sizeof out}};
  uint64_t nread = 0;
  ASSERT_EQ(edaos_dfs_read(f, 0, r, 1, &nread), EDAOS_OK);
  EXPECT_EQ(nread, 10u);
  EXPECT_EQ(std::string(out, 10), "abcdefghij");
  ASSERT_EQ(edaos_dfs_set_size(f, 3), EDAOS_OK);
  ASSERT_EQ(edaos_dfs_punch(f, 0, 1), EDAOS_OK);
  ASSERT_EQ(edaos_dfs_sync(f), EDAOS_OK);
  edaos_dfs_stat_t st;
  ASSERT_EQ(edaos_dfs_ostat(f, &st), EDAOS_OK);
  EXPECT_EQ(st.ds_size, 3u);
  EXPECT_STREQ(st.ds_oclass, "RP_2G1");
  EXPECT_EQ(st.ds_chunk_size, 8192u);
  ASSERT_EQ(edaos_dfs_stat(dfs, dir, "file", &st), EDAOS_OK);
  EXPECT_TRUE(S_ISREG(st.ds_mode));
  size_t blen = 0;
  ASSERT_EQ(edaos_dfs_obj_serialize(dfs, f, nullptr, &blen), EDAOS_OK);
  std::vector<char> blob(blen);
  size_t small = 3;
  EXPECT_EQ(edaos_dfs_obj_serialize(dfs, f, blob.data(), &small), EDAOS_TOOBIG);
  ASSERT_EQ(edaos_dfs_obj_serialize(dfs, f, blob.data(), &blen), EDAOS_OK);
  edaos_dfs_obj_t* f2 = nullptr;
  ASSERT_EQ(edaos_dfs_obj_deserialize(dfs, blob.data(), blen, -1, &f2), EDAOS_OK);
  ASSERT_EQ(edaos_dfs_read(f2, 0, r, 1, &nread), EDAOS_OK);
  EXPECT_EQ(nread, 3u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 'b');
  std::memset(out, 0x55, sizeof out);
  ASSERT_EQ(edaos_dfs_read_full(f2, 1, r, 1), EDAOS_OK);
  EXPECT_EQ(std::string(out, 2), "bc");
  EXPECT_EQ(out[2], 0);
  EXPECT_EQ(out[15], 0);
  EXPECT_EQ(edaos_dfs_release(f2), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_release(f), EDAOS_OK);
  for (int i = 0; i < 5; ++i) {
    std::string n = "s" + std::to_string(i);
    ASSERT_EQ(edaos_dfs_mkdir(dfs, dir, n.c_str(), 0755, ""), EDAOS_OK);
  }
  ASSERT_EQ(edaos_dfs_rename(dfs, dir, "s4", dir, "t4"), EDAOS_OK);
  edaos_dfs_anchor_t an;
  std::memset(&an, 0, sizeof an);
  std::vector<std::string> names;
  while (!an.da_eof) {
    edaos_dfs_dirent_t ents[2];
    uint32_t nr = 2;
    ASSERT_EQ(edaos_dfs_readdir(dfs, dir, &an, &nr, ents), EDAOS_OK);
    ASSERT_LE(nr, 2u);
    for (uint32_t i = 0; i < nr; ++i) names.push_back(ents[i].dd_name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"file", "s0", "s1", "s2", "s3", "t4"}));
  EXPECT_EQ(edaos_dfs_remove(dfs, nullptr, me.c_str(), 0), EDAOS_NOTEMPTY);
  EXPECT_EQ(edaos_dfs_errno(EDAOS_NOTEMPTY), ENOTEMPTY);
  EXPECT_EQ(edaos_dfs_release(dir), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_remove(dfs, nullptr, me.c_str(), 1), EDAOS_OK);
  EXPECT_EQ(edaos_dfs_stat(dfs, nullptr, me.c_str(), &st), EDAOS_NONEXIST);
  EXPECT_EQ(edaos_dfs_read(nullptr, 0, r, 1, &nread), EDAOS_INVAL);
  EXPECT_EQ(edaos_dfs_umount(dfs), EDAOS_OK);
  EXPECT_EQ(edaos_os_cont_close(cont), EDAOS_OK);
  EXPECT_EQ(edaos_os_pool_disconnect(pool), EDAOS_OK);
}

// ---- metadata, session 5 (issue 17) ---------------------------------------------------------

bool later_or_equal(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec >= b.tv_nsec;
}

// A handle's release records mtime/ctime with one blind merge that keeps the later time: every
// rank writes the same file through its own handle and releases it, over and over; no rank ever
// sees mtime go back from what it saw before or below the time its own release started. With
// the former get-then-put, a release that read the entry before another's put and wrote after
// it put an older time back.
TEST_F(DfsTest, MtimeNeverGoesBackUnderConcurrentReleases) {
  on_root([&] {
    auto f = dfs_->open("/times", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
  });
  struct timespec seen = {0, 0};
  int back = 0;
  for (int round = 0; round < 60; ++round) {
    struct timespec before = {};
    {
      auto f = dfs_->open("/times", S_IFREG, O_RDWR);
      ASSERT_TRUE(f.ok()) << f.status().to_string();
      char c = static_cast<char>(round);
      // The write's times are those of its start (as Linux's write updates them before it
      // copies the data); since session 7 the first write of a handle merges them itself.
      clock_gettime(CLOCK_REALTIME, &before);
      EDAOS_ASSERT_OK(f.value()->write(static_cast<uint64_t>(rank()), &c, 1));
    }  // release
    auto st = dfs_->stat("/times");
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    if (!later_or_equal(st->mtime, seen) || !later_or_equal(st->mtime, before) ||
        !later_or_equal(st->ctime, before))
      ++back;
    if (later_or_equal(st->mtime, seen)) seen = st->mtime;
  }
  int all = 0;
  MPI_Allreduce(&back, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(all, 0) << "stats that saw mtime or ctime go back";

  // The same race made deterministic: two releases land in the opposite order of their times.
  // The last rank's "release" stores the later time first (as its merge would: a time 1000 s
  // ahead, through utimens), then rank 0 releases a handle written before, whose time is
  // earlier. A plain put (the former get-then-put) would move mtime back to rank 0's time.
  std::unique_ptr<DfsObj> h;
  if (rank() == 0) {
    auto f = dfs_->open("/times", S_IFREG, O_RDWR);
    ASSERT_TRUE(f.ok());
    h = std::move(f).value();
    EDAOS_ASSERT_OK(h->write(0, "z", 1));
    EDAOS_ASSERT_OK(h->write(1, "z", 1));  // a second write: the release merges (session 7)
  }
  struct timespec later = {};
  clock_gettime(CLOCK_REALTIME, &later);
  later.tv_sec += 1000;
  MPI_Bcast(&later, sizeof later, MPI_BYTE, 0, MPI_COMM_WORLD);
  if (rank() == nranks() - 1) EDAOS_ASSERT_OK(dfs_->utimens("/times", nullptr, &later));
  MPI_Barrier(MPI_COMM_WORLD);
  h.reset();  // rank 0's release, with its earlier time
  MPI_Barrier(MPI_COMM_WORLD);
  auto st = dfs_->stat("/times");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->mtime.tv_sec, later.tv_sec) << "mtime went back to an earlier release's time";
  MPI_Barrier(MPI_COMM_WORLD);
}

// The release's merge is guarded by the object: a handle whose name now belongs to another
// object (renamed over) or to nothing (unlinked) changes no entry and recreates none, so a
// readdir never lists a removed file again.
TEST_F(DfsTest, ReleaseAfterRenameOrUnlinkTouchesNoOtherEntry) {
  const std::string me = "/rel" + std::to_string(rank());
  EDAOS_ASSERT_OK(dfs_->mkdir(me, 0755));
  auto f = dfs_->open(me + "/a", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EDAOS_ASSERT_OK(f.value()->write(0, "x", 1));
  {
    auto g = dfs_->open(me + "/b", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(g.ok());
  }
  struct timespec old = {1000, 1};
  EDAOS_ASSERT_OK(dfs_->utimens(me + "/b", nullptr, &old));
  EDAOS_ASSERT_OK(dfs_->rename(me + "/b", me + "/a"));  // "a" now names b's object
  f.value().reset();                                    // release of the written handle
  auto st = dfs_->stat(me + "/a");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->mtime.tv_sec, 1000) << "the merge must not move another object's times";

  auto h = dfs_->open(me + "/c", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(h.ok());
  EDAOS_ASSERT_OK(h.value()->write(0, "y", 1));
  EDAOS_ASSERT_OK(dfs_->remove(me + "/c"));
  h.value().reset();
  EXPECT_CODE(dfs_->stat(me + "/c"), EDAOS_NONEXIST);
  EXPECT_EQ(list_all(*dfs_, me, 10), std::vector<std::string>{"a"});
}

// What a create costs (store counters): the entry insert (plus an OID-range refill now and
// then, the range doubling per refill); the release of a written handle one merge message
// where it was a get and a put.
TEST_F(DfsTest, CreateAndReleaseCostOneMessageEach) {
  const std::string me = "/cost" + std::to_string(rank());
  EDAOS_ASSERT_OK(dfs_->mkdir(me, 0755));
  auto d = dfs_->lookup(me, O_RDWR);
  ASSERT_TRUE(d.ok());
  for (int i = 0; i < 70; ++i) {  // warm up: the handle's directory record, the OID range
    auto f = dfs_->open(d.value().get(), "w" + std::to_string(i), S_IFREG | 0644,
                        O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
  }
  constexpr int kFiles = 20;
  uint64_t create = 0, release = 0, write_msgs = 0, write_waits = 0, raw_msgs = 0, raw_waits = 0;
  for (int i = 0; i < kFiles; ++i) {
    uint64_t r0 = stats().rpcs;
    auto f = dfs_->open(d.value().get(), "f" + std::to_string(i), S_IFREG | 0644,
                        O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    create += stats().rpcs - r0;
    r0 = stats().rpcs;
    uint64_t w0 = rpc_round_trips_for_testing();
    EDAOS_ASSERT_OK(f.value()->write(0, "0123456789", 10));
    write_msgs += stats().rpcs - r0;
    write_waits += rpc_round_trips_for_testing() - w0;
    r0 = stats().rpcs;
    const ObjClass oc = f.value()->oclass();
    const uint64_t chunk = f.value()->chunk_size();
    f.value().reset();
    release += stats().rpcs - r0;
    // The same write to a new array of the same class, without the namespace.
    auto oid = cont_->alloc_oid(oc, ObjType::kArray);
    ASSERT_TRUE(oid.ok());
    auto a = cont_->open_array(oid.value(), chunk);
    ASSERT_TRUE(a.ok());
    r0 = stats().rpcs;
    w0 = rpc_round_trips_for_testing();
    EDAOS_ASSERT_OK(a.value()->write(0, "0123456789", 10));
    raw_msgs += stats().rpcs - r0;
    raw_waits += rpc_round_trips_for_testing() - w0;
  }
  // Session 7: the first write through a handle carries the time merge with its data (one more
  // message), so the release of a handle written once sends nothing. Session 9: a plain direct
  // write returns once its commit is sent (commit pipelining, client/README.md), a write whose
  // set also holds the time merge waits for that set's replies: at most one wait more per file
  // than the plain write (none more with EDAOS_DIRECT=0 or EDAOS_DIRECT_PIPELINE=1).
  EXPECT_LE(create, uint64_t{kFiles} + 1);
  EXPECT_EQ(write_msgs, raw_msgs + kFiles);
  EXPECT_LE(write_waits, raw_waits + kFiles);
  EXPECT_GE(write_waits, raw_waits);
  EXPECT_EQ(release, 0u);
  // A handle written twice: the second write leaves the merge to the release (one message).
  auto f = dfs_->open(d.value().get(), "twice", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  ASSERT_TRUE(f.ok());
  EDAOS_ASSERT_OK(f.value()->write(0, "a", 1));
  EDAOS_ASSERT_OK(f.value()->write(1, "b", 1));
  const uint64_t r0 = stats().rpcs;
  f.value().reset();
  EXPECT_EQ(stats().rpcs - r0, 1u);
}

// KV::run, the vector call: puts, gets and removes mixed, each with its own outcome, ops on one
// key in vector order, on a single-copy and a replicated object; and the C form.
TEST_F(DfsTest, KvRunGivesEveryOpItsOwnOutcome) {
  for (const char* cls : {"S1", "RP_2G1"}) {
    auto oc = ObjClass::parse(cls);
    ASSERT_TRUE(oc.ok());
    auto oid = cont_->alloc_oid(oc.value(), ObjType::kMultiLevel);
    ASSERT_TRUE(oid.ok());
    auto k = cont_->open_kv(oid.value());
    ASSERT_TRUE(k.ok());
    KV& kv = *k.value();
    EDAOS_ASSERT_OK(kv.put("old", "a", "was here"));
    auto op = [](KvOp::Kind kind, const std::string& d, const std::string& v = "",
                 uint32_t flags = 0) {
      KvOp o;
      o.kind = kind;
      o.dkey = d;
      o.akey = "a";
      o.value = v;
      o.flags = flags;
      return o;
    };
    std::vector<KvOp> ops;
    for (int i = 0; i < 300; ++i)
      ops.push_back(op(KvOp::kPut, "k" + std::to_string(i), "v" + std::to_string(i)));
    ops.push_back(op(KvOp::kPut, "old", "x", KV::kInsertOnly));  // 300: EXIST
    ops.push_back(op(KvOp::kGet, "missing"));                    // 301: NONEXIST
    ops.push_back(op(KvOp::kPut, "", "x"));                      // 302: INVAL
    ops.push_back(op(KvOp::kPut, "seq", "1"));                   // 303..306: in order
    ops.push_back(op(KvOp::kGet, "seq"));                        // "1"
    ops.push_back(op(KvOp::kRemove, "seq"));                     // OK
    ops.push_back(op(KvOp::kGet, "seq"));                        // NONEXIST
    ops.push_back(op(KvOp::kRemove, "never"));                   // 307: NONEXIST
    ops.push_back(op(KvOp::kPut, "new", "y", KV::kUpdateOnly));  // 308: NONEXIST
    Status st = kv.run(&ops);
    EXPECT_EQ(st.code(), EDAOS_EXIST) << "the first failure: " << st.to_string();
    for (int i = 0; i < 300; ++i) EXPECT_TRUE(ops[i].status.ok()) << i << ops[i].status.to_string();
    EXPECT_EQ(ops[300].status.code(), EDAOS_EXIST);
    EXPECT_EQ(ops[301].status.code(), EDAOS_NONEXIST);
    EXPECT_EQ(ops[302].status.code(), EDAOS_INVAL);
    EXPECT_TRUE(ops[303].status.ok());
    EXPECT_TRUE(ops[304].status.ok());
    EXPECT_EQ(ops[304].value, "1");
    EXPECT_TRUE(ops[305].status.ok());
    EXPECT_EQ(ops[306].status.code(), EDAOS_NONEXIST);
    EXPECT_EQ(ops[307].status.code(), EDAOS_NONEXIST);
    EXPECT_EQ(ops[308].status.code(), EDAOS_NONEXIST);
    // What the single calls see, and gets through run().
    EXPECT_EQ(kv.get("old", "a").value(), "was here");
    std::vector<KvOp> gets;
    for (int i = 0; i < 300; ++i) gets.push_back(op(KvOp::kGet, "k" + std::to_string(i)));
    EDAOS_EXPECT_OK(kv.run(&gets));
    for (int i = 0; i < 300; ++i) EXPECT_EQ(gets[i].value, "v" + std::to_string(i));
    EXPECT_CODE(kv.get("seq", "a"), EDAOS_NONEXIST);
    std::vector<KvOp> none;
    EDAOS_EXPECT_OK(kv.run(&none));
  }
  // The C form: one bad key, one short buffer, the others done.
  edaos_os_pool_t* pool = nullptr;
  ASSERT_EQ(edaos_os_pool_connect(path_.c_str(), MPI_COMM_WORLD, &pool), EDAOS_OK);
  edaos_os_cont_t* cont = nullptr;
  ASSERT_EQ(edaos_os_cont_open(pool, "posix", &cont), EDAOS_OK);
  edaos_oid_t oid;
  ASSERT_EQ(edaos_os_oid_alloc(cont, "S1", EDAOS_OTYPE_KV, &oid), EDAOS_OK);
  edaos_os_kv_t* kv = nullptr;
  ASSERT_EQ(edaos_os_kv_open(cont, oid, &kv), EDAOS_OK);
  char v1[] = "one", v2[] = "two", out[8] = {}, small[2] = {};
  edaos_os_kv_op_t ops[6];
  std::memset(ops, 0, sizeof ops);
  ops[0] = {EDAOS_KV_OP_PUT, "a", v1, 3, 0, -1};
  ops[1] = {EDAOS_KV_OP_PUT, nullptr, v2, 3, 0, -1};  // no key
  ops[2] = {EDAOS_KV_OP_PUT, "b", v2, 3, 1, -1};
  ops[3] = {EDAOS_KV_OP_GET, "a", out, sizeof out, 0, -1};
  ops[4] = {EDAOS_KV_OP_GET, "b", small, sizeof small, 0, -1};  // short buffer
  ops[5] = {EDAOS_KV_OP_REMOVE, "zz", nullptr, 0, 0, -1};
  EXPECT_EQ(edaos_os_kv_run(kv, ops, 6), EDAOS_INVAL);
  EXPECT_EQ(ops[0].status, EDAOS_OK);
  EXPECT_EQ(ops[1].status, EDAOS_INVAL);
  EXPECT_EQ(ops[2].status, EDAOS_OK);
  EXPECT_EQ(ops[3].status, EDAOS_OK);
  EXPECT_EQ(ops[3].len, 3u);
  EXPECT_EQ(std::string(out, 3), "one");
  EXPECT_EQ(ops[4].status, EDAOS_TOOBIG);
  EXPECT_EQ(ops[4].len, 3u);
  EXPECT_EQ(ops[5].status, EDAOS_NONEXIST);
  EXPECT_EQ(edaos_os_kv_run(nullptr, ops, 6), EDAOS_INVAL);
  EXPECT_EQ(edaos_os_kv_run(kv, nullptr, 0), EDAOS_OK);
  EXPECT_EQ(edaos_os_kv_close(kv), EDAOS_OK);
  EXPECT_EQ(edaos_os_cont_close(cont), EDAOS_OK);
  EXPECT_EQ(edaos_os_pool_disconnect(pool), EDAOS_OK);
}

// Dfs::create_files: per-file errors (a bad name fails that file alone), exclusive creation
// across ranks (every name has exactly one winner, whose contents it holds; the losers' data
// is removed again), readdir and stat_names from another rank right after, the given times.
TEST_F(DfsTest, CreateFilesKeepsPosixSemanticsAndReportsPerFileErrors) {
  const int me = rank(), n = nranks();
  // Per-file errors, in a directory of this rank.
  const std::string mine = "/cf" + std::to_string(me);
  EDAOS_ASSERT_OK(dfs_->mkdir(mine, 0755));
  auto d = dfs_->lookup(mine, O_RDWR);
  ASSERT_TRUE(d.ok());
  {
    auto f = dfs_->open(d.value().get(), "taken", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
    ASSERT_TRUE(f.ok());
  }
  const std::string body = "contents";
  std::vector<DfsNewFile> files(6);
  const char* names[] = {"ok1", "a/b", "taken", "ok2", "", "dup"};
  for (size_t i = 0; i < files.size(); ++i) {
    files[i].name = names[i];
    files[i].data = body.data();
    files[i].len = body.size();
  }
  files.push_back(files[5]);  // "dup" twice: the second loses
  files.push_back(files[0]);
  files.back().name = std::string(300, 'x');
  files[3].mode = 0600;
  files[3].set_times = true;
  files[3].mtime = {12345, 678};
  files[3].atime = {1111, 2};
  Status st = dfs_->create_files(d.value().get(), &files);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(files[0].status.ok()) << files[0].status.to_string();
  EXPECT_EQ(files[1].status.code(), EDAOS_INVAL);
  EXPECT_EQ(files[2].status.code(), EDAOS_EXIST);
  EXPECT_TRUE(files[3].status.ok()) << files[3].status.to_string();
  EXPECT_EQ(files[4].status.code(), EDAOS_INVAL);
  EXPECT_EQ(files[5].status.ok() + files[6].status.ok(), 1);
  EXPECT_EQ(files[7].status.code(), EDAOS_NAMETOOLONG);
  EXPECT_EQ(list_all(*dfs_, mine, 3), (std::vector<std::string>{"dup", "ok1", "ok2", "taken"}));
  std::vector<DfsStat> sts;
  std::vector<Status> stss;
  EXPECT_CODE(
      dfs_->stat_names(d.value().get(), {"ok1", "ok2", "taken", "nope", "a/b"}, &sts, &stss),
      EDAOS_NONEXIST);
  ASSERT_EQ(stss.size(), 5u);
  EXPECT_TRUE(stss[0].ok() && stss[1].ok() && stss[2].ok());
  EXPECT_EQ(stss[3].code(), EDAOS_NONEXIST);
  EXPECT_EQ(stss[4].code(), EDAOS_INVAL);
  EXPECT_EQ(sts[0].size, body.size());
  EXPECT_EQ(sts[0].mode, static_cast<mode_t>(S_IFREG | 0644));
  EXPECT_EQ(sts[1].mode, static_cast<mode_t>(S_IFREG | 0600));
  EXPECT_EQ(sts[1].mtime.tv_sec, 12345);
  EXPECT_EQ(sts[1].mtime.tv_nsec, 678);
  EXPECT_EQ(sts[1].atime.tv_sec, 1111);
  EXPECT_EQ(sts[2].size, 0u);
  EXPECT_EQ(sts[0].oid, dfs_->stat(mine + "/ok1")->oid);

  // Every rank creates the same 40 names in one shared directory at once.
  on_root([&] { EDAOS_ASSERT_OK(dfs_->mkdir("/shared", 0755)); });
  auto sh = dfs_->lookup("/shared", O_RDWR);
  ASSERT_TRUE(sh.ok());
  const std::string data = "written by rank " + std::to_string(me);
  std::vector<DfsNewFile> race(40);
  for (size_t i = 0; i < race.size(); ++i) {
    race[i].name = "f" + std::to_string(i);
    race[i].data = data.data();
    race[i].len = data.size();
  }
  MPI_Barrier(MPI_COMM_WORLD);
  (void)dfs_->create_files(sh.value().get(), &race);
  std::vector<int> won(race.size()), wins(race.size());
  for (size_t i = 0; i < race.size(); ++i) {
    won[i] = race[i].status.ok() ? me + 1 : 0;
    if (!race[i].status.ok()) {
      EXPECT_EQ(race[i].status.code(), EDAOS_EXIST);
    }
  }
  std::vector<int> count(race.size()), total(race.size());
  for (size_t i = 0; i < race.size(); ++i) count[i] = won[i] ? 1 : 0;
  MPI_Allreduce(count.data(), total.data(), static_cast<int>(race.size()), MPI_INT, MPI_SUM,
                MPI_COMM_WORLD);
  MPI_Allreduce(won.data(), wins.data(), static_cast<int>(race.size()), MPI_INT, MPI_SUM,
                MPI_COMM_WORLD);
  // Another rank's view: every name listed, each holding its winner's bytes.
  std::vector<std::string> all;
  for (size_t i = 0; i < race.size(); ++i) all.push_back(race[i].name);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(list_all(*dfs_, "/shared", 7), all);
  std::vector<std::string> want(race.size());
  for (size_t i = 0; i < race.size(); ++i) {
    EXPECT_EQ(total[i], 1) << race[i].name << ": exactly one winner";
    auto f = dfs_->open(sh.value().get(), race[i].name, S_IFREG, O_RDONLY);
    ASSERT_TRUE(f.ok());
    std::string got(64, '\0');
    auto r = f.value()->read(0, got.data(), got.size());
    ASSERT_TRUE(r.ok());
    got.resize(r.value());
    EXPECT_EQ(got, "written by rank " + std::to_string(wins[i] - 1)) << race[i].name;
  }
  // The losers' arrays were destroyed: the objects are the namespace's and no more.
  MPI_Barrier(MPI_COMM_WORLD);
  auto objs = cont_->list_objects();
  ASSERT_TRUE(objs.ok());
  // superblock, root, /shared + 40 files, per rank: its directory + ok1, ok2, dup (taken: empty)
  EXPECT_EQ(objs->size(), 3u + race.size() + 4u * static_cast<size_t>(n));
  // Read-only mount: refused before anything happens.
  auto ro = Dfs::mount(cont_, MPI_COMM_NULL, O_RDONLY);
  ASSERT_TRUE(ro.ok());
  std::vector<DfsNewFile> one(1);
  one[0].name = "x";
  EXPECT_CODE(ro.value()->create_files(nullptr, &one), EDAOS_RDONLY);
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

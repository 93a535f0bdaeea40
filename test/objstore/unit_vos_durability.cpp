// Cross-process behaviour of engine storage: the directory lock (BUSY with host:pid, seen from a
// forked child) and acknowledged writes surviving kill -9. Forking is fine here: no MPI.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "file_support.hpp"
#include "vos/engine.hpp"
#include "vos/pool_store.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;
using edaos::test::test_csum;

std::string block(uint32_t i, size_t n) {
  std::string s(n, '\0');
  for (size_t j = 0; j < n; ++j) s[j] = static_cast<char>((i * 131 + j * 7) & 0xff);
  return s;
}

// A dkey/akey over LMDB's key limit, unique per i.
std::string long_key(uint32_t i) { return std::string(3000, 'K') + std::to_string(i); }

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-dur-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  Engine::Options opts() const {
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.ntargets = 2;
    o.create = true;
    return o;
  }
  std::string root_;
};

// Runs `fn` in a forked child; the child's message (if any) comes back through a pipe.
// Returns the child's exit status (0 = its checks passed).
template <typename Fn>
int run_in_child(Fn fn, std::string* msg) {
  int p[2];
  if (::pipe(p) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    std::string m;
    int rc = fn(&m);
    if (!m.empty() && ::write(p[1], m.data(), m.size()) < 0) rc = 99;
    ::_exit(rc);
  }
  ::close(p[1]);
  char buf[1024];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) msg->append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(DurabilityTest, EngineLockBusyInOtherProcess) {
  auto e = Engine::open(opts());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  const std::string me = ":" + std::to_string(::getpid());
  std::string msg;
  int rc = run_in_child(
      [&](std::string* m) {
        Engine::Options o = opts();
        o.create = false;
        auto r = Engine::open(o);
        *m = r.status().to_string();
        return r.status().code() == EDAOS_BUSY ? 0 : 1;
      },
      &msg);
  EXPECT_EQ(rc, 0) << msg;
  EXPECT_NE(msg.find("pool in use by "), std::string::npos) << msg;
  EXPECT_NE(msg.find(me), std::string::npos) << msg;  // names the owner's host:pid
  // Same process, second handle: also refused.
  EXPECT_EQ(Engine::open(opts()).status().code(), EDAOS_BUSY);
  e.value().reset();
  rc = run_in_child(
      [&](std::string* m) {
        auto r = Engine::open(opts());
        *m = r.status().to_string();
        return r.ok() ? 0 : 1;
      },
      &msg);
  EXPECT_EQ(rc, 0) << "after close the lock is free: " << msg;
}

TEST_F(DurabilityTest, PoolServiceLockBusyInOtherProcess) {
  PoolHeader h;
  h.uuid = Uuid::generate();
  h.nengines = 1;
  h.ntargets = 1;
  std::string pool = root_ + "/pool";
  ASSERT_TRUE(PoolStore::create(pool, h, "map").ok());
  auto ps = PoolStore::open(pool);
  ASSERT_TRUE(ps.ok());
  std::string msg;
  int rc = run_in_child(
      [&](std::string* m) {
        auto r = PoolStore::open(pool);
        *m = r.status().to_string();
        return r.status().code() == EDAOS_BUSY ? 0 : 1;
      },
      &msg);
  EXPECT_EQ(rc, 0) << msg;
  EXPECT_NE(msg.find(":" + std::to_string(::getpid())), std::string::npos) << msg;
}

TEST_F(DurabilityTest, AcknowledgedWritesSurviveKill9) {
  const ShardRef ref{Uuid::generate(), ObjectId{5, 6}, 1, 1};
  CsumSpec cs;
  cs.type = CsumType::kCrc32c;
  cs.chunk = 4096;
  cs.fn = &test_csum;
  const size_t kBlk = 6000;  // straddles chunks on purpose
  const std::string oid_cont = ref.cont.to_string();

  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    auto e = Engine::open(opts());
    if (!e.ok()) ::_exit(2);
    Engine& eng = *e.value();
    for (uint32_t i = 0;; ++i) {  // writes until killed
      std::string d = block(i, kBlk);
      uint64_t c = test_csum(cs.type, d.data(), d.size(), 0);
      if (!eng.array_write(ref, uint64_t{i} * kBlk, d.data(), d.size(), cs, &c,
                           uint64_t{i + 1} * kBlk)
               .ok())
        ::_exit(3);
      if (!eng.kv_put(ref, "dkey" + std::to_string(i), "a", d.substr(0, 100), 0, cs).ok())
        ::_exit(4);
      if (!eng.kv_put(ref, long_key(i), long_key(i), d.substr(0, 50), 0, cs).ok()) ::_exit(6);
      if (::write(p[1], &i, sizeof i) != sizeof i) ::_exit(5);  // acknowledge
    }
  }
  ::close(p[1]);
  uint32_t acked = 0, got;
  uint32_t n = 0;
  while (n < 300 && ::read(p[0], &got, sizeof got) == sizeof got) {
    acked = got;
    ++n;
  }
  ASSERT_EQ(n, 300u) << "child stopped early";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Drain acknowledgements that were in flight before the kill.
  while (::read(p[0], &got, sizeof got) == sizeof got) acked = got;
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  Engine::Options o = opts();
  o.create = false;
  auto e = Engine::open(o);  // the dead owner's lock is gone with it
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  Engine& eng = *e.value();
  auto end = eng.array_logical_end(ref);
  ASSERT_TRUE(end.ok());
  EXPECT_GE(end.value(), uint64_t{acked + 1} * kBlk);
  std::string all(uint64_t{acked + 1} * kBlk, '\0');
  uint64_t out_csum = 0;
  Status st = eng.array_read(ref, 0, all.size(), all.data(), cs, &out_csum);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(out_csum, test_csum(cs.type, all.data(), all.size(), 0));
  for (uint32_t i = 0; i <= acked; ++i) {
    ASSERT_EQ(all.substr(uint64_t{i} * kBlk, kBlk), block(i, kBlk)) << "block " << i;
    auto v = eng.kv_get(ref, "dkey" + std::to_string(i), "a", cs);
    ASSERT_TRUE(v.ok()) << i << ": " << v.status().to_string();
    EXPECT_EQ(v.value(), block(i, kBlk).substr(0, 100));
    v = eng.kv_get(ref, long_key(i), long_key(i), cs);  // long keys (format 3) alike
    ASSERT_TRUE(v.ok()) << i << ": " << v.status().to_string();
    EXPECT_EQ(v.value(), block(i, kBlk).substr(0, 50));
  }
  EXPECT_EQ(eng.list_objects(ref.cont).value(), (std::vector<ObjectId>{ref.oid}));
}

// Array sizes go to a log (sizes.log) between LMDB commits: sizes raised, set exactly (truncate)
// and removed (punch) before a kill come back exactly, also with a torn record at the log's end.
TEST_F(DurabilityTest, ArraySizesSurviveKill9ThroughTheLog) {
  const ShardRef a{Uuid::generate(), ObjectId{7, 8}, 0, 0};
  ShardRef b = a, c = a;
  b.shard = 1;
  c.shard = 2;
  const size_t kBlk = 1000;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    auto e = Engine::open(opts());
    if (!e.ok()) ::_exit(2);
    Engine& eng = *e.value();
    bool ok = true;
    for (uint32_t i = 0; i < 10; ++i) {
      std::string d = block(i, kBlk);
      ok = ok && eng.array_write(a, i * kBlk, d.data(), d.size(), {}, nullptr, (i + 1) * kBlk).ok();
      ok = ok && eng.array_write(b, i * kBlk, d.data(), d.size(), {}, nullptr, (i + 1) * kBlk).ok();
    }
    ok = ok && eng.array_truncate(a, 3 * kBlk, 3 * kBlk).ok();  // exact, smaller
    std::string d = block(99, kBlk);
    ok = ok && eng.array_write(a, 4 * kBlk, d.data(), d.size(), {}, nullptr, 5 * kBlk).ok();
    ok = ok && eng.obj_punch(b).ok();                                       // size gone
    ok = ok && eng.array_write(c, 0, nullptr, 0, {}, nullptr, 12345).ok();  // size only
    // Enough size-only raises to fold the log into LMDB on the way (1 MiB of records).
    for (uint32_t i = 1; ok && i <= 20000; ++i)
      ok = eng.array_write(c, 0, nullptr, 0, {}, nullptr, 12345 + i).ok();
    char x = ok ? 1 : 0;
    if (::write(p[1], &x, 1) != 1) ::_exit(5);
    for (;;) ::pause();  // killed here, without closing the engine
  }
  ::close(p[1]);
  char x = 0;
  ASSERT_EQ(::read(p[0], &x, 1), 1);
  ::close(p[0]);
  ASSERT_EQ(x, 1) << "child's engine calls failed";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  // A torn record at the end (as a machine crash could leave) is skipped.
  const std::string log = opts().dir + "/sizes.log";
  ASSERT_TRUE(fs::exists(log));
  EXPECT_GT(fs::file_size(log), 0u);
  {
    FILE* f = std::fopen(log.c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fwrite("EDSZ-torn", 1, 9, f);
    std::fclose(f);
  }
  for (int round = 0; round < 2; ++round) {  // replay, then a clean reopen
    Engine::Options o = opts();
    o.create = false;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    Engine& eng = *e.value();
    EXPECT_EQ(fs::file_size(log), 0u);  // folded into LMDB at open
    EXPECT_EQ(eng.array_logical_end(a).value(), 5 * kBlk);
    EXPECT_EQ(eng.array_logical_end(b).value(), 0u);
    EXPECT_EQ(eng.array_logical_end(c).value(), 12345u + 20000);
    std::string got(5 * kBlk, '\x55');
    ASSERT_TRUE(eng.array_read(a, 0, got.size(), got.data(), {}, nullptr).ok());
    EXPECT_EQ(got, block(0, kBlk) + block(1, kBlk) + block(2, kBlk) + std::string(kBlk, '\0') +
                       block(99, kBlk));
    EXPECT_EQ(eng.list_objects(a.cont).value(), (std::vector<ObjectId>{a.oid}));
  }
}

// A version-1 engine (no size log) opens and is upgraded to version 2 in place.
TEST_F(DurabilityTest, EngineFormat1IsUpgraded) {
  const ShardRef a{Uuid::generate(), ObjectId{7, 8}, 0, 0};
  {
    auto e = Engine::open(opts());
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    ASSERT_TRUE(e.value()->array_write(a, 0, "abc", 3, {}, nullptr, 77).ok());
  }
  // What a version-1 build leaves: its stamp, sizes in LMDB only.
  fs::remove(opts().dir + "/sizes.log");
  {
    FILE* f = std::fopen((opts().dir + "/FORMAT").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("EDAOS-ENGINE 1\nntargets 2\n", f);
    std::fclose(f);
  }
  Engine::Options o = opts();
  o.create = false;
  o.ntargets = 0;
  auto e = Engine::open(o);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e.value()->array_logical_end(a).value(), 77u);
  FILE* f = std::fopen((opts().dir + "/FORMAT").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  char buf[64] = {};
  EXPECT_GT(std::fread(buf, 1, sizeof buf - 1, f), 0u);
  std::fclose(f);
  EXPECT_EQ(std::string(buf), "EDAOS-ENGINE 2\nntargets 2\n");
  EXPECT_TRUE(fs::exists(opts().dir + "/sizes.log"));
}

}  // namespace
}  // namespace edaos::objstore::vos

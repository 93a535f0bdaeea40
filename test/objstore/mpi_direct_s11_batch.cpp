// The commit window's loose ends (issue 15, session 11; client/README.md "Commit pipelining"):
// a pipelined direct write returns before its commit is applied, so an error its commit meets
// later must reach the caller through something it calls later. These tests check that the
// close of the object (Array::close, Container::close_object: MPI_File_close and dfs_release
// use the latter) reports it, and only for that object; that an engine excluded while a commit
// is in flight fails that commit (the next sync reports it); and that a get with the size of
// the array its value names (KvOp::kGetArraySize, a DFS stat) covers every write that
// returned, in one message.
#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "direct_pair.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

constexpr uint64_t kPiece = 47008;  // IOR-hard's transfer size

class S11BatchTest : public DirectPairTest {
 protected:
  // The window is off by default: these tests open their connections with a window of 8
  // unless the environment names one (as S9PipeTest).
  void SetUp() override {
    const bool named = std::getenv("EDAOS_DIRECT_PIPELINE") != nullptr;
    if (!named) setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
    open_pools("s11batch", 4, 2);
    if (!named) unsetenv("EDAOS_DIRECT_PIPELINE");
  }

  // Whether this process's connections pipeline (a window named by the environment wins over
  // the tests' 8: EDAOS_DIRECT_PIPELINE=1 makes every call wait for its commit).
  static bool window_on() {
    const char* v = std::getenv("EDAOS_DIRECT_PIPELINE");
    return !v || std::atoi(v) >= 2;
  }

  // The engine holding shard `shard` of `o` (found by its data file under the pool directory),
  // or -1.
  int engine_of(const ObjectId& o, uint32_t shard) {
    const std::string name = o.to_string() + "." + std::to_string(shard);
    for (uint32_t e = 0; e < 4; ++e)
      for (uint32_t t = 0; t < 2; ++t) {
        char eng[32];
        std::snprintf(eng, sizeof eng, "/engine-%04u/tgt-%u/", e, t);
        const std::string dir = path_ + eng;
        DIR* d = opendir(dir.c_str());
        if (!d) continue;
        bool found = false;
        while (dirent* ent = readdir(d))
          found = found || access((dir + ent->d_name + "/" + name).c_str(), F_OK) == 0;
        closedir(d);
        if (found) return static_cast<int>(e);
      }
    return -1;
  }
};

// A late error (EDAOS_TEST_FAULT=direct-late-error: the engine's answer to a pipelined call's
// first commit taken as EDAOS_IO) is reported by the close of the object written, once, and not
// by the close of another object of the same connection; the sync after it has nothing to
// report. Before session 11 only the next sync reported it: a close returned OK and the handle
// went with the error.
TEST_F(S11BatchTest, CloseReportsAWritesLateErrorOfItsObjectOnly) {
  make_cont("close", "cksum:crc32,cksum_size:32768");
  ObjectId oa = new_oid("S1"), ob = new_oid("S1");
  if (rank() == 0) {
    auto a = dc_->open_array(oa);
    auto b = dc_->open_array(ob);
    ASSERT_TRUE(a.ok() && b.ok());
    std::vector<uint8_t> x(kPiece);
    fill(x, 0, 71);
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));  // leases taken
    EDAOS_ASSERT_OK(b.value()->write(0, x.data(), x.size()));
    EDAOS_ASSERT_OK(dc_->sync());  // nothing in flight: the variable is read by no thread
    const uint64_t piped = direct_stats().writes;
    setenv("EDAOS_TEST_FAULT", "direct-late-error", 1);
    Status w = a.value()->write(kPiece, x.data(), x.size());
    Status cb = b.value()->close();  // drains: a's commit is answered (and failed) by now
    unsetenv("EDAOS_TEST_FAULT");
    EXPECT_TRUE(w.ok()) << w.to_string();
    EXPECT_TRUE(cb.ok()) << "another object's close: " << cb.to_string();
    Status ca = a.value()->close();
    if (window_on() && direct_stats().writes > piped) {
      EXPECT_EQ(ca.code(), EDAOS_IO) << ca.to_string();
      EXPECT_NE(ca.message().find("direct-late-error"), std::string::npos) << ca.to_string();
    }
    Status again = a.value()->close();
    EXPECT_TRUE(again.ok()) << "reported once: " << again.to_string();
    Status st = dc_->sync();
    EXPECT_TRUE(st.ok()) << "taken by the close: " << st.to_string();
    // The same through the container, without a handle (MPI_File_close, dfs_release).
    setenv("EDAOS_TEST_FAULT", "direct-late-error", 1);
    w = b.value()->write(kPiece, x.data(), x.size());
    Status cc = dc_->close_object(ob);
    unsetenv("EDAOS_TEST_FAULT");
    EXPECT_TRUE(w.ok()) << w.to_string();
    if (window_on() && direct_stats().writes > piped + 1) {
      EXPECT_EQ(cc.code(), EDAOS_IO) << cc.to_string();
    }
    EDAOS_EXPECT_OK(dc_->close_object(ob));
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Pool::exclude of the engine of an S1 object while a pipelined call's commit to it is in flight
// (inside direct:commit-answered: the engine has applied it, the call returned long ago): the
// server applies commits of running engines whatever the pool map says, so before session 11
// the next sync returned OK for a write whose only copy is on an engine out of the pool now.
std::shared_ptr<Pool> g_pool;
int g_engine = -1, g_excluded = 0;
void exclude_in_hook(const char* point) {
  if (std::strcmp(point, "direct:commit-answered") != 0 || g_excluded++ > 0) return;
  Status st = g_pool->exclude({static_cast<uint32_t>(g_engine)});
  if (!st.ok()) std::fprintf(stderr, "exclude in hook: %s\n", st.to_string().c_str());
}

TEST_F(S11BatchTest, AnEngineExcludedWhileACommitIsInFlightFailsIt) {
  make_cont("excl", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  if (rank() == 0) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> x(kPiece);
    fill(x, 0, 81);
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));
    EDAOS_ASSERT_OK(dc_->sync());
    g_engine = engine_of(o, 0);
    ASSERT_GE(g_engine, 0);
    const uint64_t piped = direct_stats().writes;
    g_pool = direct_;
    g_excluded = 0;
    set_direct_hook_for_testing(exclude_in_hook);
    Status w = a.value()->write(kPiece, x.data(), x.size());
    Status st = dc_->sync();
    set_direct_hook_for_testing(nullptr);
    g_pool.reset();
    EXPECT_TRUE(w.ok()) << "the call returned before its commit: " << w.to_string();
    if (window_on() && direct_stats().writes > piped) {
      EXPECT_GE(g_excluded, 1);
      EXPECT_EQ(st.code(), EDAOS_UNREACH) << st.to_string();
      EXPECT_NE(st.message().find("excluded"), std::string::npos) << st.to_string();
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// A get with the size of the array its value names, right after a pipelined write of that
// array (its commit held answered 300 ms in the completion thread): the size given is the one
// with the write, in the same message. Before session 11 the get went at once; the server (or
// the local reader) found the writer's lock past the end and gave no size (the caller then
// asks the size itself: a second round trip).
int g_held = 0;
void hold_in_hook(const char* point) {
  if (std::strcmp(point, "direct:commit-answered") != 0 || g_held++ > 0) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

TEST_F(S11BatchTest, AGetWithTheArraySizeCoversEveryReturnedWrite) {
  make_cont("kvsize", "cksum:crc32,cksum_size:32768");
  ObjectId o = new_oid("S1");
  ObjectId ko;
  if (rank() == 0) {
    auto r = dc_->alloc_oid(ObjClass::parse("S1").value(), ObjType::kMultiLevel);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    ko = r.value();
  }
  ko = bcast_oid(ko);
  if (rank() == 0) {
    auto a = dc_->open_array(o);
    auto kv = dc_->open_kv(ko);
    ASSERT_TRUE(a.ok() && kv.ok());
    std::string v(16, '\0');
    for (int b = 0; b < 8; ++b) {
      v[b] = static_cast<char>(o.hi >> (8 * b));
      v[8 + b] = static_cast<char>(o.lo >> (8 * b));
    }
    EDAOS_ASSERT_OK(kv.value()->put("name", "", v));
    std::vector<uint8_t> x(kPiece);
    fill(x, 0, 91);
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));
    EDAOS_ASSERT_OK(dc_->sync());
    auto ask = [&](KvOp* op) {
      op->kind = KvOp::kGetArraySize;
      op->dkey = "name";
      op->oid_off = 0;
      std::vector<KvOp> ops{*op};
      EDAOS_EXPECT_OK(kv.value()->run(&ops));
      *op = ops[0];
    };
    KvOp base;
    ask(&base);
    EDAOS_EXPECT_OK(base.status);
    if (!base.size_known) {
      // This layout never gives the size with the value (a shard on another server rank).
      MPI_Barrier(MPI_COMM_WORLD);
      GTEST_SKIP() << "the size is not given with the value here";
    }
    EXPECT_EQ(base.size, kPiece);
    const uint64_t piped = direct_stats().writes;
    g_held = 0;
    set_direct_hook_for_testing(hold_in_hook);
    EDAOS_ASSERT_OK(a.value()->write(kPiece, x.data(), x.size()));
    KvOp after;
    ask(&after);
    set_direct_hook_for_testing(nullptr);
    EDAOS_EXPECT_OK(after.status);
    if (window_on() && direct_stats().writes > piped) {
      EXPECT_TRUE(after.size_known) << "the write's lock was still held";
      EXPECT_EQ(after.size, 2 * kPiece);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Commit batches (client/README.md "Commit batches"): with a window of 8 a batch goes at 4 calls
// (or at its age, or when someone waits). With an age of 10 s, 3 IOR-hard calls send nothing
// for 200 ms; the 4th sends the batch: 4 calls, one kShardCommit. With an age of 20 ms, one
// call's commit goes by itself (no drain, no further call) within a few seconds. Session 10
// (self-clocked) sent the first call's commit at once, alone.
TEST_F(S11BatchTest, CommitsGoInBatchesByCountAndByAge) {
  make_cont("batch", "cksum:crc32,cksum_size:32768");
  auto connect_with = [&](const char* age, std::shared_ptr<Pool>* pool) {
    setenv("EDAOS_DIRECT_PIPELINE", "8", 1);
    setenv("EDAOS_DIRECT_BATCH_US", age, 1);
    *pool = connect("1");
    std::shared_ptr<Container> c;
    if (*pool) {
      auto r = (*pool)->cont_open("batch");
      EXPECT_TRUE(r.ok());
      if (r.ok()) c = r.value();
      // The shard path (which reads both variables) is made at the first use: now.
      if (c) EDAOS_EXPECT_OK(c->sync());
    }
    unsetenv("EDAOS_DIRECT_PIPELINE");
    unsetenv("EDAOS_DIRECT_BATCH_US");
    return c;
  };
  std::shared_ptr<Pool> slow_pool, quick_pool;
  auto slow = connect_with("10000000", &slow_pool);
  auto quick = connect_with("20000", &quick_pool);
  ASSERT_TRUE(slow && quick);
  ObjectId o = new_oid("S1");
  if (rank() == 0) {
    auto a = slow->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> x(kPiece);
    fill(x, 0, 101);
    const uint64_t w0 = direct_stats().writes;
    EDAOS_ASSERT_OK(a.value()->write(0, x.data(), x.size()));  // the lease
    EDAOS_ASSERT_OK(slow->sync());
    const bool direct = direct_stats().writes > w0;
    const uint64_t c0 = direct_stats().commits;
    for (uint64_t i = 1; i <= 3; ++i) {
      fill(x, 2 * i * kPiece, 101);
      EDAOS_ASSERT_OK(a.value()->write(2 * i * kPiece, x.data(), x.size()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const uint64_t after3 = direct_stats().commits - c0;
    fill(x, 8 * kPiece, 101);
    EDAOS_ASSERT_OK(a.value()->write(8 * kPiece, x.data(), x.size()));
    EDAOS_ASSERT_OK(slow->sync());
    const uint64_t after4 = direct_stats().commits - c0;
    std::printf("batch of 4 calls: %llu commit messages after 3 calls, %llu after 4 and a sync\n",
                static_cast<unsigned long long>(after3), static_cast<unsigned long long>(after4));
    if (direct) {
      EXPECT_EQ(after3, 0u) << "3 calls of a batch of 4 wait for the 4th (or the age)";
      EXPECT_EQ(after4, 1u) << "4 calls, one message";
    }
    // The age: one call, nothing else, goes by itself.
    auto b = quick->open_array(o);
    ASSERT_TRUE(b.ok());
    fill(x, 10 * kPiece, 101);
    EDAOS_ASSERT_OK(b.value()->write(10 * kPiece, x.data(), x.size()));  // its lease
    EDAOS_ASSERT_OK(quick->sync());
    const uint64_t c1 = direct_stats().commits;
    fill(x, 12 * kPiece, 101);
    EDAOS_ASSERT_OK(b.value()->write(12 * kPiece, x.data(), x.size()));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (direct_stats().commits == c1 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (direct) {
      EXPECT_EQ(direct_stats().commits - c1, 1u) << "sent by its age, no drain";
    }
    for (Array* arr : {a.value().get(), b.value().get()}) {
      std::vector<uint8_t> got(kPiece);
      for (uint64_t i : {0, 2, 4, 6, 8, 10, 12}) {
        EDAOS_ASSERT_OK(arr->read(i * kPiece, got.data(), got.size()));
        EXPECT_EQ(first_mismatch(got, i * kPiece, 101), -1) << "piece " << i;
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  slow.reset();
  quick.reset();
  EDAOS_EXPECT_OK(slow_pool->disconnect());
  EDAOS_EXPECT_OK(quick_pool->disconnect());
}

// A pipelined call keeps a copy of its bytes for a redo. Session 11: the copy buffers of calls up
// to 64 KiB are kept by the connection and reused, so IOR-hard pieces fault in no fresh pages
// for them. 40 pieces of one rank with the window of 8, each followed by malloc_trim(0) (free
// heap pages go back to the system, as in a fresh process with a growing and shrinking heap):
// fewer than 4 page faults per piece in the writer's thread (a fresh 47008-byte copy per call:
// ~12 per piece).
TEST_F(S11BatchTest, CopiesOfPipelinedCallsFaultInNoFreshPages) {
  make_cont("copies", "cksum:crc32,cksum_size:32768");
  std::vector<ObjectId> oids;
  for (int r = 0; r < nranks(); ++r) oids.push_back(new_oid("S1"));
  auto a = dc_->open_array(oids[static_cast<size_t>(rank())]);
  ASSERT_TRUE(a.ok());
  std::vector<uint8_t> buf(kPiece);
  fill(buf, 0, 111);
  const uint64_t w0 = direct_stats().writes;
  for (uint64_t i = 0; i < 8; ++i)  // the lease, and the connection's spare copies
    EDAOS_ASSERT_OK(a.value()->write(2 * i * kPiece, buf.data(), buf.size()));
  EDAOS_ASSERT_OK(dc_->sync());
  const bool direct = direct_stats().writes > w0;
  struct rusage r0 {
  }, r1{};
  malloc_trim(0);
  getrusage(RUSAGE_THREAD, &r0);
  const uint64_t n = 40;
  for (uint64_t i = 8; i < 8 + n; ++i) {
    EDAOS_ASSERT_OK(a.value()->write(2 * i * kPiece, buf.data(), buf.size()));
    malloc_trim(0);
  }
  getrusage(RUSAGE_THREAD, &r1);
  EDAOS_ASSERT_OK(dc_->sync());
  const auto faults = static_cast<uint64_t>(r1.ru_minflt - r0.ru_minflt);
  std::printf("rank %d: %llu page faults in the writer's thread for %llu pipelined pieces\n",
              rank(), static_cast<unsigned long long>(faults), static_cast<unsigned long long>(n));
  const char* w = std::getenv("EDAOS_DIRECT_PIPELINE");
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer's own bookkeeping faults in pages the copies do not (5-8 per piece seen
  // with the copies reused): the count is printed, not judged.
  const bool judged = false;
#else
  const bool judged = true;
#endif
  if (judged && direct && (!w || std::atoi(w) >= 8)) {
    EXPECT_LT(faults, 4 * n);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

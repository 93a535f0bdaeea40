// Engine storage: byte-array shards, checksums, KV shards, punch/destroy, persistence, quota.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "file_support.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;
using edaos::test::test_csum;

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-engine-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/engine-0000";
    open_engine();
    cont_ = Uuid::generate();
    ref_ = ShardRef{cont_, ObjectId{0x100000000000ull, 42}, 3, 1};
    cs_.type = CsumType::kCrc64;
    cs_.chunk = 4096;
    cs_.fn = &test_csum;
  }
  void TearDown() override {
    eng_.reset();
    fs::remove_all(root_);
  }
  void open_engine(uint64_t quota = 0) {
    eng_.reset();
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 2;
    o.quota_bytes = quota;
    o.create = true;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    eng_ = std::move(e).value();
  }
  std::string read(const ShardRef& r, uint64_t off, size_t len, const CsumSpec& cs = {},
                   Status* st_out = nullptr) {
    std::string out(len, '\x55');
    Status st = eng_->array_read(r, off, len, out.data(), cs, nullptr);
    if (st_out)
      *st_out = st;
    else
      EXPECT_TRUE(st.ok()) << st.to_string();
    return out;
  }
  Status write(const ShardRef& r, uint64_t off, const std::string& d, const CsumSpec& cs = {},
               uint64_t logical_end = 0) {
    return eng_->array_write(r, off, d.data(), d.size(), cs, nullptr, logical_end);
  }
  void flip_byte(const std::string& path, uint64_t off) {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << path;
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(off)), 1);
    c ^= 0x01;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(off)), 1);
    ::close(fd);
  }

  std::string root_, dir_;
  std::unique_ptr<Engine> eng_;
  Uuid cont_;
  ShardRef ref_;
  CsumSpec cs_;
};

TEST_F(EngineTest, OpenErrors) {
  Engine::Options o;
  o.dir = root_ + "/missing";
  EXPECT_EQ(Engine::open(o).status().code(), EDAOS_NONEXIST);
  fs::create_directories(root_ + "/empty");
  o.dir = root_ + "/empty";
  EXPECT_EQ(Engine::open(o).status().code(), EDAOS_NONEXIST);  // not formatted, no create
  std::ofstream(root_ + "/file") << "x";
  o.dir = root_ + "/file";
  EXPECT_EQ(Engine::open(o).status().code(), EDAOS_IO);

  eng_.reset();
  o.dir = dir_;
  o.ntargets = 3;
  auto r = Engine::open(o);
  EXPECT_EQ(r.status().code(), EDAOS_INVAL) << r.status().to_string();
  o.ntargets = 0;  // take the formatted value
  EXPECT_TRUE(Engine::open(o).ok());

  std::ofstream(dir_ + "/FORMAT", std::ios::trunc) << "EDAOS-ENGINE 99\nntargets 2\n";
  r = Engine::open(o);
  EXPECT_EQ(r.status().code(), EDAOS_FORMAT);
  EXPECT_NE(r.status().message().find("99"), std::string::npos);
  std::ofstream(dir_ + "/FORMAT", std::ios::trunc) << "something else\n";
  EXPECT_EQ(Engine::open(o).status().code(), EDAOS_FORMAT);
}

TEST_F(EngineTest, ArrayWriteReadHoles) {
  std::string a = pattern(10000, 1), b = pattern(300, 2);
  ASSERT_TRUE(write(ref_, 0, a, {}, 10000).ok());
  ASSERT_TRUE(write(ref_, 1 << 20, b, {}, 5000).ok());  // logical_end keeps the max
  EXPECT_EQ(read(ref_, 0, 10000), a);
  EXPECT_EQ(read(ref_, 1 << 20, 300), b);
  EXPECT_EQ(read(ref_, 20000, 100), std::string(100, '\0'));                            // hole
  EXPECT_EQ(read(ref_, (1 << 20) + 200, 200), b.substr(200) + std::string(100, '\0'));  // EOF
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 10000u);
  ASSERT_TRUE(write(ref_, 5, "xyz", {}, 123456).ok());
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 123456u);
  EXPECT_EQ(read(ref_, 4, 5), a.substr(4, 1) + "xyz" + a.substr(8, 1));

  // Another shard, never written. (The target only picks the directory: sizes and KV are per
  // (cont, oid, shard).)
  ShardRef other = ref_;
  other.shard = 0;
  EXPECT_EQ(read(other, 0, 16), std::string(16, '\0'));
  EXPECT_EQ(eng_->array_logical_end(other).value(), 0u);
  other.target = 2;
  EXPECT_EQ(write(other, 0, "x").code(), EDAOS_INVAL);

  // Byte i of the shard is byte i of its data file.
  EXPECT_TRUE(fs::exists(eng_->shard_data_path(ref_)));
  EXPECT_NE(eng_->shard_data_path(ref_).find("/tgt-1/" + cont_.to_string() + "/100000000000.2a.3"),
            std::string::npos)
      << eng_->shard_data_path(ref_);
  EXPECT_EQ(fs::file_size(eng_->shard_data_path(ref_)), (1u << 20) + 300);
}

// The engine keeps its shard files open in an LRU; the engines of a process together stay
// under a quarter of RLIMIT_NOFILE (a server of 20 engines under a limit of 1024 ran out of
// descriptors with 256 per engine). Under a lowered limit, many more shards than it than the
// limit allows are written and read back, checksums on (data file + record sidecar each).
TEST_F(EngineTest, ManyShardsStayUnderTheDescriptorLimit) {
  auto open_fds = [] {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/proc/self/fd", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
      ++n;
    return n;
  };
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  struct Restore {  // the limit comes back however the test ends
    struct rlimit r;
    ~Restore() { (void)::setrlimit(RLIMIT_NOFILE, &r); }
  } restore{old};
  const rlim_t lim = std::min<rlim_t>(open_fds() + 64, old.rlim_cur);
  struct rlimit low = old;
  low.rlim_cur = lim;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const uint64_t n = 600;
  Status failed;
  for (uint64_t i = 0; i < n && failed.ok(); ++i) {
    ShardRef r = ref_;
    r.oid.lo = 1000 + i;
    failed = write(r, 0, pattern(5000, static_cast<uint32_t>(i)), cs_, 5000);
  }
  for (uint64_t i = 0; i < n && failed.ok(); ++i) {
    ShardRef r = ref_;
    r.oid.lo = 1000 + i;
    Status st;
    const std::string got = read(r, 0, 5000, cs_, &st);
    failed = st.ok() && got != pattern(5000, static_cast<uint32_t>(i))
                 ? Status(EDAOS_CSUM, "shard " + std::to_string(i) + " read back wrong")
                 : st;
  }
  const size_t open_now = open_fds();
  EXPECT_TRUE(failed.ok()) << failed.to_string();
  EXPECT_LT(open_now, lim);
}

TEST_F(EngineTest, PunchAndTruncate) {
  std::string a = pattern(64 * 1024, 3);
  ASSERT_TRUE(write(ref_, 0, a, {}, 64 * 1024).ok());
  struct stat before, after;
  ASSERT_EQ(::stat(eng_->shard_data_path(ref_).c_str(), &before), 0);
  ASSERT_TRUE(eng_->array_punch(ref_, 8192, 32768).ok());
  ASSERT_EQ(::stat(eng_->shard_data_path(ref_).c_str(), &after), 0);
  EXPECT_LT(after.st_blocks, before.st_blocks);  // deallocated
  EXPECT_EQ(read(ref_, 0, a.size()),
            a.substr(0, 8192) + std::string(32768, '\0') + a.substr(8192 + 32768));
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 64u * 1024);  // punch keeps the size
  EXPECT_TRUE(eng_->array_punch(ref_, 1 << 30, 10).ok());        // beyond EOF: no-op

  ASSERT_TRUE(eng_->array_truncate(ref_, 1000, 777).ok());
  EXPECT_EQ(fs::file_size(eng_->shard_data_path(ref_)), 1000u);
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 777u);  // exact, even if smaller
  EXPECT_EQ(read(ref_, 990, 20), a.substr(990, 10) + std::string(10, '\0'));
  ASSERT_TRUE(eng_->array_truncate(ref_, 5000, 9000).ok());  // extend with a hole
  EXPECT_EQ(read(ref_, 990, 20), a.substr(990, 10) + std::string(10, '\0'));
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 9000u);
  ShardRef fresh = ref_;
  fresh.shard = 9;
  ASSERT_TRUE(eng_->array_truncate(fresh, 0, 0).ok());
  EXPECT_FALSE(fs::exists(eng_->shard_data_path(fresh)));
}

TEST_F(EngineTest, ChecksumVerifiedOnWrite) {
  std::string d = pattern(5000, 4);
  uint64_t good = test_csum(cs_.type, d.data(), d.size(), 0), bad = good ^ 1;
  Status st = eng_->array_write(ref_, 100, d.data(), d.size(), cs_, &bad, 5100);
  EXPECT_EQ(st.code(), EDAOS_CSUM) << st.to_string();
  EXPECT_FALSE(fs::exists(eng_->shard_data_path(ref_)));  // nothing written
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 0u);
  ASSERT_TRUE(eng_->array_write(ref_, 100, d.data(), d.size(), cs_, &good, 5100).ok());
  uint64_t out_csum = 0;
  std::string out(d.size(), '\0');
  ASSERT_TRUE(eng_->array_read(ref_, 100, d.size(), out.data(), cs_, &out_csum).ok());
  EXPECT_EQ(out, d);
  EXPECT_EQ(out_csum, good);
  // A null in_csum skips the receive check but still stores chunk checksums.
  ASSERT_TRUE(eng_->array_write(ref_, 9000, d.data(), 10, cs_, nullptr, 0).ok());
  EXPECT_TRUE(fs::exists(eng_->shard_data_path(ref_) + ".csum"));
  CsumSpec nofn = cs_;
  nofn.fn = nullptr;
  EXPECT_EQ(write(ref_, 0, "x", nofn).code(), EDAOS_INVAL);
  CsumSpec other_chunk = cs_;
  other_chunk.chunk = 8192;  // the shard's chunk size is fixed by its first checksummed write
  EXPECT_EQ(write(ref_, 0, "x", other_chunk).code(), EDAOS_INVAL);
}

TEST_F(EngineTest, UnalignedWritesKeepChunkChecksumsConsistent) {
  std::string model(40000, '\0');
  for (uint32_t i = 0; i < 40; ++i) {
    uint64_t off = (i * 7919u) % 35000u;
    std::string d = pattern(1 + (i * 3571u) % 5000u, i);
    ASSERT_TRUE(write(ref_, off, d, cs_).ok());
    model.replace(off, d.size(), d);
  }
  Status st;
  EXPECT_EQ(read(ref_, 0, model.size(), cs_, &st), model.substr(0, model.size()));
  EXPECT_TRUE(st.ok()) << st.to_string();
  // Unaligned sub-range reads verify the covering chunks and return the exact bytes.
  for (uint64_t off : {1u, 4095u, 4097u, 12345u}) {
    std::string got = read(ref_, off, 3000, cs_, &st);
    ASSERT_TRUE(st.ok()) << st.to_string();
    EXPECT_EQ(got, model.substr(off, 3000));
  }
  // Punch and truncate keep checksums valid.
  ASSERT_TRUE(eng_->array_punch(ref_, 1000, 10000, cs_).ok());
  std::fill(model.begin() + 1000, model.begin() + 11000, '\0');
  ASSERT_TRUE(eng_->array_punch(ref_, 20000, 100).ok());  // no spec: engine remembers the fn
  std::fill(model.begin() + 20000, model.begin() + 20100, '\0');
  ASSERT_TRUE(eng_->array_truncate(ref_, 30001, 30001).ok());
  std::fill(model.begin() + 30001, model.end(), '\0');
  EXPECT_EQ(read(ref_, 0, model.size(), cs_, &st), model);
  EXPECT_TRUE(st.ok()) << st.to_string();
  // A write without checksums drops the stale ones instead of failing later reads.
  ASSERT_TRUE(write(ref_, 50, "plain", {}).ok());
  model.replace(50, 5, "plain");
  EXPECT_EQ(read(ref_, 0, model.size(), cs_, &st), model);
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST_F(EngineTest, CorruptionDetectedOnRead) {
  std::string d = pattern(4 * 4096, 5);
  ASSERT_TRUE(write(ref_, 0, d, cs_, d.size()).ok());
  flip_byte(eng_->shard_data_path(ref_), 2 * 4096 + 17);
  Status st;
  read(ref_, 0, d.size(), cs_, &st);
  EXPECT_EQ(st.code(), EDAOS_CSUM);
  EXPECT_NE(st.message().find("offset 8192"), std::string::npos) << st.to_string();
  EXPECT_NE(st.message().find(ref_.oid.to_string()), std::string::npos) << st.to_string();
  read(ref_, 2 * 4096 + 100, 1, cs_, &st);  // any read touching the chunk
  EXPECT_EQ(st.code(), EDAOS_CSUM);
  EXPECT_EQ(read(ref_, 0, 8192, cs_, &st), d.substr(0, 8192));  // other chunks are fine
  EXPECT_TRUE(st.ok());
  read(ref_, 0, d.size(), {}, &st);  // checksums off: no verification
  EXPECT_TRUE(st.ok());
  // Rewriting the chunk repairs it.
  ASSERT_TRUE(write(ref_, 8192, d.substr(8192, 4096), cs_).ok());
  EXPECT_EQ(read(ref_, 0, d.size(), cs_, &st), d);
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST_F(EngineTest, KvBasics) {
  ASSERT_TRUE(eng_->kv_put(ref_, "d1", "a1", "v1", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, "d1", "a2", std::string("v\0\n2", 4), 0, cs_).ok());
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "a1", {}).value(), "v1");
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "a2", cs_).value(), std::string("v\0\n2", 4));
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "zz", {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, "d2", "a1", {}).status().code(), EDAOS_NONEXIST);

  EXPECT_EQ(eng_->kv_put(ref_, "d1", "a1", "x", kInsertOnly, {}).code(), EDAOS_EXIST);
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "a1", {}).value(), "v1");
  EXPECT_TRUE(eng_->kv_put(ref_, "d1", "a3", "new", kInsertOnly, {}).ok());
  EXPECT_EQ(eng_->kv_put(ref_, "d1", "a4", "x", kUpdateOnly, {}).code(), EDAOS_NONEXIST);
  EXPECT_TRUE(eng_->kv_put(ref_, "d1", "a1", "v1b", kUpdateOnly, {}).ok());
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "a1", {}).value(), "v1b");
  EXPECT_EQ(eng_->kv_put(ref_, "", "a", "x", 0, {}).code(), EDAOS_INVAL);
  EXPECT_EQ(eng_->kv_put(ref_, "d", "", "x", 0, {}).code(), EDAOS_INVAL);
  EXPECT_EQ(eng_->kv_put(ref_, std::string(kMaxKvKeyBytes, 'd'), "a", "x", 0, {}).code(),
            EDAOS_NAMETOOLONG);  // long keys below the limit: unit_vos_long_keys.cpp
  std::string big(1 << 20, 'B');
  ASSERT_TRUE(eng_->kv_put(ref_, "big", "v", big, 0, cs_).ok());
  EXPECT_EQ(eng_->kv_get(ref_, "big", "v", cs_).value(), big);

  ASSERT_TRUE(eng_->kv_remove(ref_, "d1", "a2").ok());
  EXPECT_EQ(eng_->kv_remove(ref_, "d1", "a2").code(), EDAOS_NONEXIST);
  bool eof = false;
  EXPECT_EQ(eng_->kv_list_akeys(ref_, "d1", "", 10, &eof).value(),
            (std::vector<std::string>{"a1", "a3"}));
  EXPECT_TRUE(eof);
  ASSERT_TRUE(eng_->kv_remove(ref_, "d1", "").ok());  // whole dkey
  EXPECT_EQ(eng_->kv_get(ref_, "d1", "a1", {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_remove(ref_, "d1", "").code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, "", 10, &eof).value(), (std::vector<std::string>{"big"}));
  // Removing the last akey removes the dkey.
  ASSERT_TRUE(eng_->kv_remove(ref_, "big", "v").ok());
  EXPECT_TRUE(eng_->kv_list_dkeys(ref_, "", 10, &eof)->empty());
  EXPECT_TRUE(eof);
}

TEST_F(EngineTest, KvListPaging) {
  // dkeys that share prefixes and differ in length, to check byte order.
  std::vector<std::string> want;
  for (int i = 0; i < 25; ++i) want.push_back("k" + std::to_string(i));
  want.push_back("k");
  want.push_back(std::string("k\0x", 3));
  for (const auto& k : want) ASSERT_TRUE(eng_->kv_put(ref_, k, "a", "v", 0, {}).ok());
  ShardRef other = ref_;
  other.shard = 4;  // neighbouring shard must not leak into the listing
  ASSERT_TRUE(eng_->kv_put(other, "k0", "a", "v", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(other, "zzz", "a", "v", 0, {}).ok());
  std::sort(want.begin(), want.end());
  std::vector<std::string> got;
  std::string anchor;
  bool eof = false;
  int pages = 0;
  while (!eof) {
    auto page = eng_->kv_list_dkeys(ref_, anchor, 10, &eof);
    ASSERT_TRUE(page.ok());
    ASSERT_LE(page->size(), 10u);
    got.insert(got.end(), page->begin(), page->end());
    if (!page->empty()) anchor = page->back();
    ++pages;
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 3);
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(eng_->kv_put(ref_, "k1", "b" + std::to_string(i), "v", 0, {}).ok());
  auto page = eng_->kv_list_akeys(ref_, "k1", "b3", 2, &eof);
  EXPECT_EQ(page.value(), (std::vector<std::string>{"b4", "b5"}));
  EXPECT_FALSE(eof);
  page = eng_->kv_list_akeys(ref_, "k1", "b5", 2, &eof);
  EXPECT_EQ(page.value(), (std::vector<std::string>{"b6"}));
  EXPECT_TRUE(eof);
  EXPECT_TRUE(eng_->kv_list_akeys(ref_, "nope", "", 2, &eof)->empty());
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, "", 0, &eof).status().code(), EDAOS_INVAL);
}

TEST_F(EngineTest, KvCorruptionDetected) {
  const std::string v = "CORRUPT-ME-PLEASE-0123456789abcdef";
  ASSERT_TRUE(eng_->kv_put(ref_, "d", "a", v, 0, cs_).ok());
  ASSERT_TRUE(eng_->sync().ok());
  eng_.reset();
  std::ifstream f(dir_ + "/meta.mdb", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  size_t pos = ss.str().find(v);
  ASSERT_NE(pos, std::string::npos);
  flip_byte(dir_ + "/meta.mdb", pos + 3);
  open_engine();
  auto r = eng_->kv_get(ref_, "d", "a", cs_);
  EXPECT_EQ(r.status().code(), EDAOS_CSUM) << r.status().to_string();
}

TEST_F(EngineTest, ObjPunchAndListObjects) {
  ShardRef kv = ref_;
  kv.oid = ObjectId{1, 7};
  ShardRef arr2 = ref_;
  arr2.oid = ObjectId{1, 2};
  arr2.target = 0;
  ASSERT_TRUE(write(ref_, 0, "data", cs_, 4).ok());
  ASSERT_TRUE(write(arr2, 0, "data").ok());
  ASSERT_TRUE(eng_->kv_put(kv, "d", "a", "v", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, "d", "a", "v", 0, {}).ok());
  auto objs = eng_->list_objects(cont_);
  ASSERT_TRUE(objs.ok());
  EXPECT_EQ(objs.value(), (std::vector<ObjectId>{arr2.oid, kv.oid, ref_.oid}));
  EXPECT_TRUE(eng_->list_objects(Uuid::generate())->empty());

  ASSERT_TRUE(eng_->obj_punch(ref_).ok());
  EXPECT_FALSE(fs::exists(eng_->shard_data_path(ref_)));
  EXPECT_FALSE(fs::exists(eng_->shard_data_path(ref_) + ".csum"));
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 0u);
  EXPECT_EQ(eng_->kv_get(ref_, "d", "a", {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(read(ref_, 0, 4), std::string(4, '\0'));
  EXPECT_EQ(eng_->list_objects(cont_).value(), (std::vector<ObjectId>{arr2.oid, kv.oid}));
  ASSERT_TRUE(eng_->obj_punch(ref_).ok());  // idempotent
  // Rewriting after a punch starts from scratch (no stale checksum).
  ASSERT_TRUE(write(ref_, 0, "new!", cs_, 4).ok());
  Status st;
  EXPECT_EQ(read(ref_, 0, 4, cs_, &st), "new!");
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST_F(EngineTest, ContDestroy) {
  Uuid other = Uuid::generate();
  ShardRef o = ref_;
  o.cont = other;
  ASSERT_TRUE(write(ref_, 0, "mine", cs_, 4).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, "d", "a", "v", 0, {}).ok());
  ASSERT_TRUE(write(o, 0, "theirs", {}, 6).ok());
  ASSERT_TRUE(eng_->kv_put(o, "d", "a", "w", 0, {}).ok());
  ASSERT_TRUE(eng_->cont_destroy(cont_).ok());
  EXPECT_TRUE(eng_->list_objects(cont_)->empty());
  EXPECT_FALSE(fs::exists(dir_ + "/tgt-1/" + cont_.to_string()));
  EXPECT_EQ(eng_->kv_get(ref_, "d", "a", {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 0u);
  EXPECT_EQ(read(o, 0, 6), "theirs");
  EXPECT_EQ(eng_->kv_get(o, "d", "a", {}).value(), "w");
  EXPECT_EQ(eng_->list_objects(other)->size(), 1u);
  ASSERT_TRUE(eng_->cont_destroy(cont_).ok());        // idempotent
  ASSERT_TRUE(write(ref_, 0, "again", cs_, 5).ok());  // container can be reused
  EXPECT_EQ(read(ref_, 0, 5, cs_), "again");
}

TEST_F(EngineTest, PersistsAcrossReopen) {
  std::string d = pattern(100000, 6);
  ASSERT_TRUE(write(ref_, 777, d, cs_, 100777).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, "dk", "ak", "value", 0, cs_).ok());
  ASSERT_TRUE(eng_->sync().ok());
  ASSERT_TRUE(write(ref_, 200000, "unsynced but acknowledged", {}, 200025).ok());
  open_engine();  // closes, then reopens
  Status st;
  EXPECT_EQ(read(ref_, 777, d.size(), cs_, &st), d);
  EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(read(ref_, 200000, 25), "unsynced but acknowledged");
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 200025u);
  EXPECT_EQ(eng_->kv_get(ref_, "dk", "ak", cs_).value(), "value");
  EXPECT_EQ(eng_->list_objects(cont_).value(), (std::vector<ObjectId>{ref_.oid}));
}

TEST_F(EngineTest, ManyShardsExceedFdCache) {
  // More shard files than the fd LRU holds: evicted files must still be synced and readable.
  std::vector<ShardRef> refs;
  for (uint32_t i = 0; i < 150; ++i) {  // 300 files (data + sidecar) > the 256-fd cache
    ShardRef r = ref_;
    r.oid.lo = i;
    r.target = i % 2;
    ASSERT_TRUE(write(r, i, pattern(100, i), cs_, i + 100).ok());
    refs.push_back(r);
  }
  ASSERT_TRUE(eng_->sync().ok());
  for (uint32_t i = 0; i < 150; ++i) EXPECT_EQ(read(refs[i], i, 100, cs_), pattern(100, i));
  EXPECT_EQ(eng_->list_objects(cont_)->size(), 150u);
}

TEST_F(EngineTest, ConcurrentCallersAreSerialised) {
  std::vector<std::thread> th;
  for (uint32_t t = 0; t < 4; ++t)
    th.emplace_back([this, t] {
      ShardRef r = ref_;
      r.shard = t;
      for (uint32_t i = 0; i < 50; ++i) {
        std::string d = pattern(1000, t * 100 + i);
        EXPECT_TRUE(
            eng_->array_write(r, i * 1000, d.data(), d.size(), cs_, nullptr, (i + 1) * 1000).ok());
        EXPECT_TRUE(eng_->kv_put(r, "d" + std::to_string(i), "a", d, 0, cs_).ok());
      }
    });
  for (auto& x : th) x.join();
  for (uint32_t t = 0; t < 4; ++t) {
    ShardRef r = ref_;
    r.shard = t;
    EXPECT_EQ(eng_->array_logical_end(r).value(), 50000u);
    for (uint32_t i = 0; i < 50; i += 7) {
      EXPECT_EQ(read(r, i * 1000, 1000, cs_), pattern(1000, t * 100 + i));
      EXPECT_EQ(eng_->kv_get(r, "d" + std::to_string(i), "a", cs_).value(),
                pattern(1000, t * 100 + i));
    }
  }
}

TEST_F(EngineTest, QuotaGivesNospaceAndKeepsData) {
  const uint64_t quota = 2u << 20;
  open_engine(quota);
  EngineSpace sp = eng_->space();
  EXPECT_EQ(sp.total, quota);
  EXPECT_LE(sp.used, quota);
  EXPECT_LE(sp.free, quota - sp.used);
  const size_t blk = 128 * 1024;
  std::vector<std::string> written;
  Status st;
  for (uint32_t i = 0; i < 64; ++i) {
    std::string d = pattern(blk, 100 + i);
    st = write(ref_, i * blk, d, cs_, (i + 1) * blk);
    if (!st.ok()) break;
    written.push_back(d);
  }
  ASSERT_EQ(st.code(), EDAOS_NOSPACE) << st.to_string();
  EXPECT_NE(st.message().find("quota"), std::string::npos);
  ASSERT_GE(written.size(), 4u);
  EXPECT_LT(written.size(), 17u);
  EXPECT_LE(eng_->space().used, quota);
  // Previously stored data is intact, and the size did not move.
  for (size_t i = 0; i < written.size(); ++i) EXPECT_EQ(read(ref_, i * blk, blk, cs_), written[i]);
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), written.size() * blk);
  // Overwriting allocated space needs no new space and still works at the quota.
  std::string d = pattern(blk, 999);
  EXPECT_TRUE(write(ref_, 0, d, cs_).ok());
  EXPECT_EQ(read(ref_, 0, blk, cs_), d);
  // Freeing space makes room again.
  ASSERT_TRUE(eng_->obj_punch(ref_).ok());
  EXPECT_TRUE(write(ref_, 0, d, cs_).ok());
  EXPECT_EQ(eng_->kv_put(ref_, "d", "a", std::string(4u << 20, 'x'), 0, {}).code(), EDAOS_NOSPACE);
}

// The engine caches each open file's size and allocated ranges instead of asking the file system
// per write: punch, truncate and rewrites must keep data, holes and space accounting right.
TEST_F(EngineTest, CachedFileStateFollowsPunchTruncateAndRewrite) {
  open_engine(8u << 20);
  const size_t mib = 1u << 20, kib = 1024;
  const std::string d = pattern(mib, 11);
  ASSERT_TRUE(write(ref_, 0, d, {}, mib).ok());
  const uint64_t used1 = eng_->space().used;
  EXPECT_GE(used1, mib);
  // Punch a quarter: reads as zeros, space given back.
  ASSERT_TRUE(eng_->array_punch(ref_, 256 * kib, 256 * kib).ok());
  EXPECT_EQ(read(ref_, 256 * kib, 256 * kib), std::string(256 * kib, '\0'));
  EXPECT_LE(eng_->space().used, used1 - 256 * kib + 64 * kib);
  // Rewrite the hole (it must be reserved again) and an allocated range.
  const std::string r1 = pattern(256 * kib, 12), r2 = pattern(100, 13);
  ASSERT_TRUE(write(ref_, 256 * kib, r1).ok());
  ASSERT_TRUE(write(ref_, 10, r2).ok());
  std::string want = d;
  want.replace(256 * kib, r1.size(), r1);
  want.replace(10, r2.size(), r2);
  EXPECT_EQ(read(ref_, 0, mib), want);
  EXPECT_GE(eng_->space().used, used1 - 64 * kib);
  // Truncate, then write past the new end: the gap reads as zeros.
  ASSERT_TRUE(eng_->array_truncate(ref_, 100 * kib, 100 * kib).ok());
  EXPECT_LE(eng_->space().used, used1 - 800 * kib);
  const std::string r3 = pattern(4 * kib, 14);
  ASSERT_TRUE(write(ref_, 512 * kib, r3, {}, 600 * kib).ok());
  want = want.substr(0, 100 * kib) + std::string(412 * kib, '\0') + r3;
  EXPECT_EQ(read(ref_, 0, want.size()), want);
  EXPECT_EQ(eng_->array_logical_end(ref_).value(), 600 * kib);
  struct stat st;
  ASSERT_EQ(::stat(eng_->shard_data_path(ref_).c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 516 * kib);
  // A reopened engine counts the same allocation from the files.
  const uint64_t used2 = eng_->space().used;
  open_engine(8u << 20);
  const uint64_t used3 = eng_->space().used;
  EXPECT_LE(used3, used2 + 64 * kib);
  EXPECT_GE(used3 + 64 * kib, used2);
  EXPECT_EQ(read(ref_, 0, want.size()), want);
  // A shard never written reads as zeros and is not created by the read.
  ShardRef other = ref_;
  other.shard = 9;
  EXPECT_EQ(read(other, 0, 10), std::string(10, '\0'));
  EXPECT_FALSE(fs::exists(eng_->shard_data_path(other)));
  ASSERT_TRUE(write(other, 0, r2).ok());
  EXPECT_EQ(read(other, 0, r2.size()), r2);
}

TEST_F(EngineTest, SpaceWithoutQuota) {
  EngineSpace sp = eng_->space();
  EXPECT_GT(sp.total, 0u);
  EXPECT_LE(sp.free, sp.total);
  ASSERT_TRUE(write(ref_, 0, pattern(1 << 20, 7)).ok());
  EXPECT_GE(eng_->space().used, sp.used + (1u << 20));
}

}  // namespace
}  // namespace edaos::objstore::vos

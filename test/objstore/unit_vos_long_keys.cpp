// Engine KV entries whose dkey + akey exceed LMDB's key limit (format 3, "Long KV keys" in
// objstore/src/vos/README.md): every KV operation on them, paging that merges them with short keys in
// byte order, forced hash collisions, the size limit, persistence and the FORMAT stamp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;
using edaos::test::test_csum;

// Weak hashes for collision tests.
uint64_t constant_hash(std::string_view) { return 7; }
uint64_t length_parity_hash(std::string_view s) { return s.size() & 1; }

// Restores the built-in hash when a test ends, also when it fails.
struct HashGuard {
  explicit HashGuard(KvKeyHashFn fn) { set_kv_key_hash_for_testing(fn); }
  ~HashGuard() { set_kv_key_hash_for_testing(nullptr); }
};

constexpr size_t k64K = 64 * 1024;

class LongKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-longkey-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/engine-0000";
    open_engine();
    ref_ = ShardRef{Uuid::generate(), ObjectId{0x100000000000ull, 42}, 3, 1};
    cs_.type = CsumType::kCrc64;
    cs_.chunk = 4096;
    cs_.fn = &test_csum;
  }
  void TearDown() override {
    eng_.reset();
    fs::remove_all(root_);
  }
  void open_engine() {
    eng_.reset();
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 2;
    o.create = true;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    eng_ = std::move(e).value();
  }
  std::string format_stamp() const {
    std::ifstream f(dir_ + "/FORMAT");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  // Every dkey (akey when `dkey` is non-null) through pages of `max`, each anchored at the
  // previous page's last key.
  std::vector<std::string> list_all(uint32_t max, const std::string* dkey = nullptr) {
    std::vector<std::string> got;
    std::string anchor;
    bool eof = false;
    for (int guard = 0; !eof && guard < 100000; ++guard) {
      auto page = dkey ? eng_->kv_list_akeys(ref_, *dkey, anchor, max, &eof)
                       : eng_->kv_list_dkeys(ref_, anchor, max, &eof);
      EXPECT_TRUE(page.ok()) << page.status().to_string();
      if (!page.ok()) break;
      EXPECT_LE(page->size(), max);
      if (!eof) {
        EXPECT_EQ(page->size(), max);
      }
      got.insert(got.end(), page->begin(), page->end());
      if (!page->empty()) anchor = page->back();
    }
    return got;
  }

  std::string root_, dir_;
  std::unique_ptr<Engine> eng_;
  ShardRef ref_;
  CsumSpec cs_;
};

// Long dkey, long akey, short dkey + long akey: put/get/update/remove with checksums.
TEST_F(LongKeyTest, PutGetRemove) {
  const std::string ld(k64K, 'L'), la(k64K, 'A');
  const std::string sd = "d", sa = "a";
  ASSERT_TRUE(eng_->kv_put(ref_, ld, sa, "v1", 0, cs_).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, ld, la, "v2", 0, cs_).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, sd, la, "v3", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, sd, sa, "v4", 0, {}).ok());
  EXPECT_EQ(eng_->kv_get(ref_, ld, sa, cs_).value(), "v1");
  EXPECT_EQ(eng_->kv_get(ref_, ld, la, cs_).value(), "v2");
  EXPECT_EQ(eng_->kv_get(ref_, sd, la, {}).value(), "v3");
  EXPECT_EQ(eng_->kv_get(ref_, sd, sa, {}).value(), "v4");
  // Near misses: one byte longer, shorter or different.
  EXPECT_EQ(eng_->kv_get(ref_, ld + "L", sa, {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, ld.substr(1), sa, {}).status().code(), EDAOS_NONEXIST);
  std::string ld2 = ld;
  ld2[k64K - 1] = 'M';
  EXPECT_EQ(eng_->kv_get(ref_, ld2, sa, {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, sd, la + "A", {}).status().code(), EDAOS_NONEXIST);
  // Overwrite, bigger value.
  const std::string big(300000, 'v');
  ASSERT_TRUE(eng_->kv_put(ref_, ld, la, big, 0, cs_).ok());
  EXPECT_EQ(eng_->kv_get(ref_, ld, la, cs_).value(), big);

  bool eof = false;
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, "", 10, &eof).value(),
            (std::vector<std::string>{ld, sd}));  // 'L' < 'd'
  EXPECT_TRUE(eof);
  EXPECT_EQ(eng_->kv_list_akeys(ref_, ld, "", 10, &eof).value(),
            (std::vector<std::string>{la, sa}));
  EXPECT_EQ(eng_->kv_list_akeys(ref_, sd, "", 10, &eof).value(),
            (std::vector<std::string>{la, sa}));

  // Remove one akey at a time: the dkey goes with its last akey.
  ASSERT_TRUE(eng_->kv_remove(ref_, ld, la).ok());
  EXPECT_EQ(eng_->kv_remove(ref_, ld, la).code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, ld, la, {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, ld, sa, cs_).value(), "v1");
  ASSERT_TRUE(eng_->kv_remove(ref_, ld, sa).ok());
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, "", 10, &eof).value(), (std::vector<std::string>{sd}));
  EXPECT_EQ(eng_->kv_remove(ref_, ld, "").code(), EDAOS_NONEXIST);
  // Whole short dkey with a long akey under it.
  ASSERT_TRUE(eng_->kv_remove(ref_, sd, "").ok());
  EXPECT_EQ(eng_->kv_get(ref_, sd, la, {}).status().code(), EDAOS_NONEXIST);
  EXPECT_TRUE(eng_->kv_list_dkeys(ref_, "", 10, &eof)->empty());
  // Whole long dkey with short and long akeys; a re-created dkey starts empty.
  ASSERT_TRUE(eng_->kv_put(ref_, ld, sa, "x", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, ld, la, "y", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_remove(ref_, ld, "").ok());
  EXPECT_EQ(eng_->kv_get(ref_, ld, la, {}).status().code(), EDAOS_NONEXIST);
  EXPECT_TRUE(eng_->kv_list_dkeys(ref_, "", 10, &eof)->empty());
  ASSERT_TRUE(eng_->kv_put(ref_, ld, "z", "z", 0, {}).ok());
  EXPECT_EQ(eng_->kv_list_akeys(ref_, ld, "", 10, &eof).value(), (std::vector<std::string>{"z"}));
  ASSERT_TRUE(eng_->kv_remove(ref_, ld, "z").ok());
  EXPECT_TRUE(eng_->kv_list_dkeys(ref_, "", 10, &eof)->empty());
}

TEST_F(LongKeyTest, InsertOnlyUpdateOnly) {
  const std::string d(5000, 'd'), a(k64K, 'a');
  EXPECT_EQ(eng_->kv_put(ref_, d, a, "x", kUpdateOnly, {}).code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, d, a, {}).status().code(), EDAOS_NONEXIST);
  ASSERT_TRUE(eng_->kv_put(ref_, d, a, "first", kInsertOnly, {}).ok());
  Status st = eng_->kv_put(ref_, d, a, "second", kInsertOnly, {});
  EXPECT_EQ(st.code(), EDAOS_EXIST);
  EXPECT_LT(st.message().size(), 1000u) << "long keys are cut in messages";
  EXPECT_EQ(eng_->kv_get(ref_, d, a, {}).value(), "first");
  ASSERT_TRUE(eng_->kv_put(ref_, d, a, "third", kUpdateOnly, {}).ok());
  EXPECT_EQ(eng_->kv_get(ref_, d, a, {}).value(), "third");
  // An akey that shares the bucket's pad but not the key: insert-only succeeds.
  std::string a2 = a;
  a2.back() = 'b';
  ASSERT_TRUE(eng_->kv_put(ref_, d, a2, "other", kInsertOnly, {}).ok());
  EXPECT_EQ(eng_->kv_get(ref_, d, a, {}).value(), "third");
  EXPECT_EQ(eng_->kv_get(ref_, d, a2, {}).value(), "other");
  bool eof = false;
  EXPECT_EQ(eng_->kv_list_akeys(ref_, d, "", 10, &eof).value(), (std::vector<std::string>{a, a2}));
}

// Keys around the short/long boundary, with shared prefixes longer than the pads, embedded NULs
// and 0xff bytes: every page size gives the full byte-ordered list, anchors being long keys.
std::vector<std::string> tricky_keys() {
  std::vector<std::string> k = {"k", "a", std::string("a\0", 2), "\xff", "zz"};
  for (size_t n : {100, 465, 466, 472, 473, 474, 475, 480, 511, 600, 4096, 70000})
    k.push_back(std::string(n, 'a'));
  for (size_t n : {457, 464, 465, 466, 500}) {
    std::string p(n, 'p');
    k.push_back(p + "b");
    k.push_back(p + "a" + std::string(300, 'x'));
    k.push_back(p + std::string(1, '\0') + "tail");
    k.push_back(p + "\xff");
    k.push_back(p + "b" + std::string(700, '\0'));
  }
  for (int i = 0; i < 12; ++i) k.push_back(std::string(480, 'q') + std::to_string(i * 7919));
  std::sort(k.begin(), k.end());
  k.erase(std::unique(k.begin(), k.end()), k.end());
  return k;
}

TEST_F(LongKeyTest, DkeyPagingMergesShortAndLongInByteOrder) {
  const auto want = tricky_keys();
  for (const auto& k : want) ASSERT_TRUE(eng_->kv_put(ref_, k, "a", k.substr(0, 10), 0, {}).ok());
  ShardRef other = ref_;
  other.shard = 4;  // a neighbouring shard must not leak into the listing
  ASSERT_TRUE(eng_->kv_put(other, std::string(1000, 'a'), "a", "v", 0, {}).ok());
  for (uint32_t max : {1u, 2u, 3u, 7u, 1000u}) EXPECT_EQ(list_all(max), want) << "max " << max;
  // Arbitrary anchors (present or not, short or long): exactly the keys after them.
  std::vector<std::string> anchors = want;
  anchors.push_back(std::string(465, 'p') + "c");
  anchors.push_back(std::string(470, 'a') + "b");
  anchors.push_back(std::string(100000, 'a'));
  anchors.push_back(std::string(466, 'p'));
  for (const auto& anchor : anchors) {
    std::vector<std::string> after;
    for (const auto& k : want)
      if (k > anchor) after.push_back(k);
    bool eof = false;
    auto page = eng_->kv_list_dkeys(ref_, anchor, 4, &eof);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    after.resize(std::min<size_t>(after.size(), 5));
    const bool more = after.size() > 4;
    if (more) after.resize(4);
    EXPECT_EQ(page.value(), after) << "anchor of " << anchor.size() << " bytes";
    EXPECT_EQ(eof, !more);
  }
}

TEST_F(LongKeyTest, AkeyPagingUnderShortAndLongDkeys) {
  const auto want = tricky_keys();
  for (const std::string& dkey :
       {std::string("sd"), std::string(300, 'm'), std::string(k64K, 'D')}) {
    for (const auto& k : want) ASSERT_TRUE(eng_->kv_put(ref_, dkey, k, "v", 0, {}).ok());
    for (uint32_t max : {1u, 3u, 1000u})
      EXPECT_EQ(list_all(max, &dkey), want) << "dkey of " << dkey.size() << " bytes, max " << max;
  }
  // A dkey that is a prefix of another must not see the other's akeys.
  const std::string d1(600, 'D'), d2 = d1 + "D";
  ASSERT_TRUE(eng_->kv_put(ref_, d2, "only-d2", "v", 0, {}).ok());
  bool eof = false;
  EXPECT_TRUE(eng_->kv_list_akeys(ref_, d1, "", 10, &eof)->empty());
}

// Every long key hashes alike: buckets hold many entries and get/put/remove must compare full
// keys; removing from the middle of a bucket and re-inserting reuses the free slot.
TEST_F(LongKeyTest, ForcedHashCollisions) {
  HashGuard weak(&constant_hash);
  std::vector<std::string> dkeys, akeys;
  for (int i = 0; i < 20; ++i) {
    // Same first 600 bytes: same pad, same (constant) hash -> one bucket.
    dkeys.push_back(std::string(600, 'c') + std::to_string(i));
    akeys.push_back(std::string(1000, 'x') + std::to_string(i));
  }
  dkeys.push_back(std::string(700, 'e'));  // another pad, same hash
  for (size_t i = 0; i < dkeys.size(); ++i) {
    ASSERT_TRUE(eng_->kv_put(ref_, dkeys[i], "a", "d" + std::to_string(i), kInsertOnly, {}).ok());
    for (size_t j = 0; j < 3; ++j)
      ASSERT_TRUE(eng_->kv_put(ref_, dkeys[i], akeys[j], std::to_string(i * 10 + j), 0, cs_).ok());
  }
  // Short dkey, long akeys all in one bucket.
  for (size_t j = 0; j < akeys.size(); ++j)
    ASSERT_TRUE(eng_->kv_put(ref_, "s", akeys[j], "s" + std::to_string(j), 0, {}).ok());
  for (size_t i = 0; i < dkeys.size(); ++i) {
    EXPECT_EQ(eng_->kv_get(ref_, dkeys[i], "a", {}).value(), "d" + std::to_string(i));
    for (size_t j = 0; j < 3; ++j)
      EXPECT_EQ(eng_->kv_get(ref_, dkeys[i], akeys[j], cs_).value(), std::to_string(i * 10 + j));
    EXPECT_EQ(eng_->kv_put(ref_, dkeys[i], akeys[0], "no", kInsertOnly, {}).code(), EDAOS_EXIST);
    EXPECT_EQ(eng_->kv_get(ref_, dkeys[i], akeys[5], {}).status().code(), EDAOS_NONEXIST);
  }
  for (size_t j = 0; j < akeys.size(); ++j)
    EXPECT_EQ(eng_->kv_get(ref_, "s", akeys[j], {}).value(), "s" + std::to_string(j));

  // Remove from the middle: neighbours stay, listing follows.
  ASSERT_TRUE(eng_->kv_remove(ref_, dkeys[5], "").ok());
  ASSERT_TRUE(eng_->kv_remove(ref_, "s", akeys[7]).ok());
  ASSERT_TRUE(eng_->kv_remove(ref_, dkeys[6], akeys[1]).ok());
  EXPECT_EQ(eng_->kv_get(ref_, dkeys[5], "a", {}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, dkeys[4], akeys[1], cs_).value(), "41");
  EXPECT_EQ(eng_->kv_get(ref_, dkeys[6], akeys[1], cs_).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(eng_->kv_get(ref_, dkeys[6], akeys[2], cs_).value(), "62");
  EXPECT_EQ(eng_->kv_get(ref_, "s", akeys[8], {}).value(), "s8");
  // Re-insert into the freed slots; a new key too.
  ASSERT_TRUE(eng_->kv_put(ref_, dkeys[5], "a", "back", kInsertOnly, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, "s", akeys[7], "s7b", kInsertOnly, {}).ok());
  const std::string extra = std::string(600, 'c') + "extra";
  ASSERT_TRUE(eng_->kv_put(ref_, extra, "a", "e", kInsertOnly, {}).ok());
  EXPECT_EQ(eng_->kv_get(ref_, dkeys[5], "a", {}).value(), "back");
  EXPECT_EQ(eng_->kv_get(ref_, "s", akeys[7], {}).value(), "s7b");
  EXPECT_EQ(eng_->kv_get(ref_, extra, "a", {}).value(), "e");

  std::vector<std::string> want = dkeys;
  want.push_back(extra);
  want.push_back("s");
  std::sort(want.begin(), want.end());
  for (uint32_t max : {1u, 4u, 100u}) EXPECT_EQ(list_all(max), want);
  std::vector<std::string> want_a = akeys;
  std::sort(want_a.begin(), want_a.end());
  const std::string s = "s";
  EXPECT_EQ(list_all(3, &s), want_a);
  std::vector<std::string> want6 = {akeys[0], akeys[2], "a"};
  std::sort(want6.begin(), want6.end());
  EXPECT_EQ(list_all(1, &dkeys[6]), want6);

  // Same hash for different dkeys: akey scopes collide, listings and dkey removal filter.
  HashGuard parity(&length_parity_hash);
  const std::string p1(800, '1'), p2(802, '2');  // both even lengths: same scope
  ASSERT_TRUE(eng_->kv_put(ref_, p1, "k", "1", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, p2, "k", "2", 0, {}).ok());
  bool eof = false;
  EXPECT_EQ(eng_->kv_list_akeys(ref_, p1, "", 10, &eof).value(), (std::vector<std::string>{"k"}));
  ASSERT_TRUE(eng_->kv_remove(ref_, p1, "").ok());
  EXPECT_EQ(eng_->kv_get(ref_, p2, "k", {}).value(), "2");
}

TEST_F(LongKeyTest, LimitIsEnforced) {
  const std::string d(kMaxKvKeyBytes - 1, 'd');
  ASSERT_TRUE(eng_->kv_put(ref_, d, "a", "v", 0, {}).ok());  // exactly the limit
  EXPECT_EQ(eng_->kv_get(ref_, d, "a", {}).value(), "v");
  EXPECT_EQ(eng_->kv_put(ref_, d, "ab", "v", 0, {}).code(), EDAOS_NAMETOOLONG);
  EXPECT_EQ(eng_->kv_put(ref_, d + "d", "a", "v", 0, {}).code(), EDAOS_NAMETOOLONG);
  EXPECT_EQ(eng_->kv_get(ref_, d, "ab", {}).status().code(), EDAOS_NAMETOOLONG);
  EXPECT_EQ(eng_->kv_remove(ref_, d + "dd", "").code(), EDAOS_NAMETOOLONG);
  bool eof = false;
  EXPECT_EQ(eng_->kv_list_akeys(ref_, d, "ab", 1, &eof).status().code(), EDAOS_NAMETOOLONG);
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, d + "dd", 1, &eof).status().code(), EDAOS_NAMETOOLONG);
  ASSERT_TRUE(eng_->kv_remove(ref_, d, "a").ok());
}

// Long keys persist. New engines are format 4 (long keys included). An engine of format 2 (an
// older build) becomes 3 only once a long key is stored, and 4 + `legacy` only at its first
// record, so builds that read versions up to 3 keep reading it until then.
TEST_F(LongKeyTest, ReopenAndFormatStamp) {
  ASSERT_TRUE(eng_->kv_put(ref_, "short", "a", "s", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(ref_, std::string(470, 'd'), "abc", "s", 0, {}).ok());  // 473: short
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 4\nntargets 2\n");
  const std::string ld(k64K, 'L'), la(k64K, 'A');
  ASSERT_TRUE(eng_->kv_put(ref_, ld, la, "long", 0, cs_).ok());
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 4\nntargets 2\n");
  ASSERT_TRUE(eng_->kv_put(ref_, "short", la, "sl", 0, {}).ok());
  open_engine();  // close, reopen (not synced: a clean close)
  EXPECT_EQ(eng_->kv_get(ref_, ld, la, cs_).value(), "long");
  EXPECT_EQ(eng_->kv_get(ref_, "short", la, {}).value(), "sl");
  bool eof = false;
  EXPECT_EQ(eng_->kv_list_dkeys(ref_, "", 10, &eof).value(),
            (std::vector<std::string>{ld, std::string(470, 'd'), "short"}));
  EXPECT_EQ(eng_->kv_list_akeys(ref_, "short", "", 10, &eof).value(),
            (std::vector<std::string>{la, "a"}));
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 4\nntargets 2\n");

  // What a format-2 build leaves (no long keys, no intent log): stays 2 until a long key.
  eng_.reset();
  std::filesystem::remove(dir_ + "/intents.log");
  { std::ofstream(dir_ + "/FORMAT", std::ios::trunc) << "EDAOS-ENGINE 2\nntargets 2\n"; }
  open_engine();
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 2\nntargets 2\n");
  ASSERT_TRUE(eng_->kv_put(ref_, "short2", "a", "s", 0, {}).ok());
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 2\nntargets 2\n");
  ASSERT_TRUE(eng_->kv_put(ref_, ld + "2", la, "long", 0, cs_).ok());
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 3\nntargets 2\n");
  // The first record sidecar needs format 4; the engine stays legacy (older shards may hold
  // format-1 records, converted on access).
  ASSERT_TRUE(eng_->array_write(ref_, 0, "abc", 3, cs_, nullptr, 3).ok());
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 4\nntargets 2\nlegacy 1\n");
  open_engine();
  EXPECT_EQ(format_stamp(), "EDAOS-ENGINE 4\nntargets 2\nlegacy 1\n");
  EXPECT_EQ(eng_->kv_get(ref_, ld + "2", la, cs_).value(), "long");
}

// Objects and containers holding only long keys are listed, punched and destroyed.
TEST_F(LongKeyTest, ObjPunchContDestroyListObjects) {
  const std::string ld(2000, 'L');
  ShardRef o2 = ref_;
  o2.oid = ObjectId{1, 9};
  ASSERT_TRUE(eng_->kv_put(ref_, ld, "a", "v", 0, {}).ok());
  ASSERT_TRUE(eng_->kv_put(o2, "d", std::string(2000, 'A'), "v", 0, {}).ok());
  EXPECT_EQ(eng_->list_objects(ref_.cont).value(), (std::vector<ObjectId>{o2.oid, ref_.oid}));
  ASSERT_TRUE(eng_->obj_punch(ref_).ok());
  EXPECT_EQ(eng_->kv_get(ref_, ld, "a", {}).status().code(), EDAOS_NONEXIST);
  bool eof = false;
  EXPECT_TRUE(eng_->kv_list_dkeys(ref_, "", 10, &eof)->empty());
  EXPECT_EQ(eng_->list_objects(ref_.cont).value(), (std::vector<ObjectId>{o2.oid}));
  ASSERT_TRUE(eng_->cont_destroy(ref_.cont).ok());
  EXPECT_EQ(eng_->kv_get(o2, "d", std::string(2000, 'A'), {}).status().code(), EDAOS_NONEXIST);
  EXPECT_TRUE(eng_->list_objects(ref_.cont)->empty());
}

}  // namespace
}  // namespace edaos::objstore::vos

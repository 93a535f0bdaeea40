// kv_put with kMergeTimes (issue 17): a blind update of times inside a stored value that keeps
// the later of each time, guarded by bytes the value must still hold. The DFS records mtime and
// ctime with it at release instead of reading the entry first.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

uint64_t sum_csum(CsumType, const void* p, size_t n, uint64_t seed) {
  uint64_t h = seed ^ 0x1234;
  for (size_t i = 0; i < n; ++i) h = h * 131 + static_cast<const unsigned char*>(p)[i];
  return h;
}
uint64_t other_csum(CsumType t, const void* p, size_t n, uint64_t seed) {
  return sum_csum(t, p, n, seed) ^ 0xff;
}

void put_le(std::string* s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A 40-byte value: 8 guard bytes "OBJECT-1", 4 bytes, two times at 12 and 24, 4 trailing bytes.
std::string record(uint64_t s1, uint32_t n1, uint64_t s2, uint32_t n2,
                   const std::string& guard = "OBJECT-1") {
  std::string v = guard + "mode";
  put_le(&v, s1, 8);
  put_le(&v, n1, 4);
  put_le(&v, s2, 8);
  put_le(&v, n2, 4);
  return v + "tail";
}

TimeMerge merge(std::vector<std::pair<uint64_t, uint32_t>> times,
                const std::string& guard = "OBJECT-1", uint32_t time_off = 12) {
  TimeMerge m;
  m.guard_off = 0;
  m.guard = guard;
  m.time_off = time_off;
  m.times = std::move(times);
  return m;
}

class MergeTimesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-merge-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ref_ = ShardRef{Uuid::generate(), ObjectId{0x200000000000ull, 7}, 0, 0};
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.create = true;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    e_ = std::move(e).value();
  }
  void TearDown() override {
    e_.reset();
    fs::remove_all(root_);
  }
  Status put_merge(const std::string& dkey, const TimeMerge& m, const CsumSpec& cs = {}) {
    return e_->kv_put(ref_, dkey, "e", encode_time_merge(m), kMergeTimes, cs);
  }
  std::string get(const std::string& dkey, const CsumSpec& cs = {}) {
    auto v = e_->kv_get(ref_, dkey, "e", cs);
    return v.ok() ? v.value() : "<" + v.status().to_string() + ">";
  }
  std::string root_;
  ShardRef ref_;
  std::unique_ptr<Engine> e_;
};

TEST_F(MergeTimesTest, KeepsTheLaterOfEachTimeAndTheOtherBytes) {
  ASSERT_TRUE(e_->kv_put(ref_, "f", "e", record(100, 5, 100, 5), 0, {}).ok());
  // First time later, second earlier: only the first moves.
  ASSERT_TRUE(put_merge("f", merge({{100, 6}, {99, 999999999}})).ok());
  EXPECT_EQ(get("f"), record(100, 6, 100, 5));
  // Seconds win over nanoseconds (the fields are not compared as raw little-endian bytes).
  ASSERT_TRUE(put_merge("f", merge({{101, 0}, {100, 4}})).ok());
  EXPECT_EQ(get("f"), record(101, 0, 100, 5));
  ASSERT_TRUE(put_merge("f", merge({{256, 0}, {200, 7}})).ok());
  EXPECT_EQ(get("f"), record(256, 0, 200, 7));
  // Earlier times in any order leave the value as it is (the answer is still OK).
  ASSERT_TRUE(put_merge("f", merge({{255, 999999999}, {200, 6}})).ok());
  EXPECT_EQ(get("f"), record(256, 0, 200, 7));
  // One time only (the second is untouched).
  ASSERT_TRUE(put_merge("f", merge({{300, 0}}, "OBJECT-1", 24)).ok());
  EXPECT_EQ(get("f"), record(256, 0, 300, 0));
}

TEST_F(MergeTimesTest, AbsentOrAnotherGuardChangesNothing) {
  EXPECT_EQ(put_merge("nope", merge({{1, 0}})).code(), EDAOS_NONEXIST);
  EXPECT_EQ(e_->kv_get(ref_, "nope", "e", {}).status().code(), EDAOS_NONEXIST);  // not created
  ASSERT_TRUE(e_->kv_put(ref_, "f", "e", record(10, 0, 10, 0, "OBJECT-2"), 0, {}).ok());
  EXPECT_EQ(put_merge("f", merge({{20, 0}, {20, 0}}, "OBJECT-1")).code(), EDAOS_NONEXIST);
  EXPECT_EQ(get("f"), record(10, 0, 10, 0, "OBJECT-2"));
  // A guard past the value's end is "another value" too.
  TimeMerge far = merge({{20, 0}});
  far.guard_off = 39;
  EXPECT_EQ(put_merge("f", far).code(), EDAOS_NONEXIST);
  EXPECT_EQ(get("f"), record(10, 0, 10, 0, "OBJECT-2"));
}

TEST_F(MergeTimesTest, BadSpecsAreRefusedBeforeAnythingChanges) {
  const std::string v = record(10, 0, 10, 0);
  ASSERT_TRUE(e_->kv_put(ref_, "f", "e", v, 0, {}).ok());
  // Times past the value's end.
  EXPECT_EQ(put_merge("f", merge({{20, 0}, {20, 0}}, "OBJECT-1", 24)).code(), EDAOS_FORMAT);
  EXPECT_EQ(get("f"), v);
  // Malformed encodings.
  EXPECT_EQ(e_->kv_put(ref_, "f", "e", "xyz", kMergeTimes, {}).code(), EDAOS_INVAL);
  std::string trailing = encode_time_merge(merge({{20, 0}})) + "!";
  EXPECT_EQ(e_->kv_put(ref_, "f", "e", trailing, kMergeTimes, {}).code(), EDAOS_INVAL);
  std::string bad_ns = encode_time_merge(merge({{20, 1000000000u}}));
  EXPECT_EQ(e_->kv_put(ref_, "f", "e", bad_ns, kMergeTimes, {}).code(), EDAOS_INVAL);
  std::vector<std::pair<uint64_t, uint32_t>> many(65, {20, 0});
  EXPECT_EQ(put_merge("f", merge(many)).code(), EDAOS_INVAL);
  EXPECT_EQ(
      e_->kv_put(ref_, "f", "e", encode_time_merge(merge({{20, 0}})), kMergeTimes | kInsertOnly, {})
          .code(),
      EDAOS_INVAL);
  EXPECT_EQ(get("f"), v);
  // The round trip of the encoding.
  auto d = decode_time_merge(encode_time_merge(merge({{1, 2}, {3, 4}}, "G", 5)));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d.value().guard, "G");
  EXPECT_EQ(d.value().time_off, 5u);
  EXPECT_EQ(d.value().times, (std::vector<std::pair<uint64_t, uint32_t>>{{1, 2}, {3, 4}}));
}

TEST_F(MergeTimesTest, ChecksumsAreVerifiedThenRecomputed) {
  CsumSpec cs;
  cs.type = CsumType::kCrc64;
  cs.fn = &sum_csum;
  ASSERT_TRUE(e_->kv_put(ref_, "f", "e", record(10, 0, 10, 0), 0, cs).ok());
  ASSERT_TRUE(put_merge("f", merge({{11, 0}, {12, 0}}), cs).ok());
  EXPECT_EQ(get("f", cs), record(11, 0, 12, 0));  // the merged value verifies
  // A stored value that does not match its checksum is not merged (nor blessed with a new one).
  CsumSpec other = cs;
  other.fn = &other_csum;
  EXPECT_EQ(put_merge("f", merge({{13, 0}}), other).code(), EDAOS_CSUM);
  EXPECT_EQ(get("f", cs), record(11, 0, 12, 0));
}

TEST_F(MergeTimesTest, GroupsInAnyOrderEndAtTheLatestAndLongKeysWork) {
  const std::string long_dkey(2000, 'L');
  for (const std::string& d : {std::string("f"), long_dkey})
    ASSERT_TRUE(e_->kv_put(ref_, d, "e", record(10, 0, 10, 0), 0, {}).ok());
  // Two callers' merges in one group commit, the later one first.
  std::vector<std::string> specs = {encode_time_merge(merge({{50, 0}, {40, 0}})),
                                    encode_time_merge(merge({{30, 0}, {60, 0}}))};
  std::vector<Engine::KvChange> changes;
  for (const std::string& d : {std::string("f"), long_dkey})
    for (const std::string& s : specs) {
      Engine::KvChange c;
      c.ref = ref_;
      c.dkey = d == "f" ? std::string_view("f") : std::string_view(long_dkey);
      c.akey = "e";
      c.value = s;
      c.flags = kMergeTimes;
      changes.push_back(c);
    }
  std::vector<Status> r;
  ASSERT_TRUE(e_->kv_apply(changes, &r).ok());
  for (const Status& s : r) EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(get("f"), record(50, 0, 60, 0));
  EXPECT_EQ(get(long_dkey), record(50, 0, 60, 0));
  // A plain put in the same position would have gone back: that is what the flag prevents.
  ASSERT_TRUE(e_->kv_put(ref_, "f", "e", record(30, 0, 60, 0), 0, {}).ok());
  EXPECT_EQ(get("f"), record(30, 0, 60, 0));
}

}  // namespace
}  // namespace edaos::objstore::vos

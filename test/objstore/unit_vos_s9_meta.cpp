// Guarded KV removal (session 9, issue 17): Engine::KvChange::guarded removes a dkey only
// while its value still holds the expected bytes (the OID a namespace removal read), decided
// inside the change's own transaction. A rename that replaced the entry in between keeps it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class GuardedRemoveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-guard-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ref_ = ShardRef{Uuid::generate(), ObjectId{0x300000000000ull, 3}, 0, 0};
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.ntargets = 1;
    o.create = true;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    e_ = std::move(e).value();
  }
  void TearDown() override {
    e_.reset();
    fs::remove_all(root_);
  }
  // An entry value: 5 header bytes, then a 16-byte "OID", then more bytes.
  static std::string entry(char oid) { return "hdr!!" + std::string(16, oid) + "tail"; }
  Status put(const std::string& dkey, const std::string& value) {
    return e_->kv_put(ref_, dkey, "e", value, 0, CsumSpec{});
  }
  Engine::KvChange guarded(const char* dkey, const std::string& oid) {  // dkey: a literal
    Engine::KvChange c;
    c.remove = true;
    c.ref = ref_;
    c.dkey = dkey;
    c.guarded = true;
    c.guard_akey = "e";
    c.guard_off = 5;
    guard_ = oid;
    c.guard = guard_;
    return c;
  }
  Status apply(const Engine::KvChange& c) {
    std::vector<Status> r;
    Status st = e_->kv_apply({c}, &r);
    return st.ok() ? r[0] : st;
  }
  std::string root_, guard_;
  ShardRef ref_;
  std::unique_ptr<Engine> e_;
};

TEST_F(GuardedRemoveTest, RemovesOnlyWhileTheValueNamesTheObject) {
  ASSERT_TRUE(put("x", entry('A')).ok());
  ASSERT_TRUE(e_->kv_put(ref_, "x", "other", "v", 0, CsumSpec{}).ok());
  // A rename put B under the name: the removal that read A leaves it.
  ASSERT_TRUE(put("x", entry('B')).ok());
  Status st = apply(guarded("x", std::string(16, 'A')));
  EXPECT_EQ(st.code(), EDAOS_EXIST) << st.to_string();
  auto v = e_->kv_get(ref_, "x", "e", CsumSpec{});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), entry('B'));
  // Naming B: the whole dkey goes (both akeys).
  EXPECT_TRUE(apply(guarded("x", std::string(16, 'B'))).ok());
  EXPECT_EQ(e_->kv_get(ref_, "x", "e", CsumSpec{}).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(e_->kv_get(ref_, "x", "other", CsumSpec{}).status().code(), EDAOS_NONEXIST);
  bool eof = false;
  auto keys = e_->kv_list_dkeys(ref_, "", 10, &eof);
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
  // Absent: NONEXIST, as an unguarded removal.
  EXPECT_EQ(apply(guarded("x", std::string(16, 'B'))).code(), EDAOS_NONEXIST);
  // A value too short for the guard never matches.
  ASSERT_TRUE(put("y", "short").ok());
  EXPECT_EQ(apply(guarded("y", std::string(16, 'A'))).code(), EDAOS_EXIST);
}

TEST_F(GuardedRemoveTest, GuardsInAGroupSeeTheChangesBeforeThem) {
  ASSERT_TRUE(put("x", entry('A')).ok());
  // One group commit: a put of B, then a removal guarded by A (refused: it sees B), then one
  // guarded by B (removes), then a put of C: the group leaves C.
  const std::string b = entry('B'), c = entry('C');
  std::vector<Engine::KvChange> ch(4);
  ch[0].ref = ref_;
  ch[0].dkey = "x";
  ch[0].akey = "e";
  ch[0].value = b;
  ch[1] = guarded("x", std::string(16, 'A'));
  const std::string ga = guard_;
  ch[1].guard = ga;
  ch[2] = guarded("x", std::string(16, 'B'));
  const std::string gb = guard_;
  ch[2].guard = gb;
  ch[3] = ch[0];
  ch[3].value = c;
  std::vector<Status> r;
  ASSERT_TRUE(e_->kv_apply(ch, &r).ok());
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[1].code(), EDAOS_EXIST);
  EXPECT_TRUE(r[2].ok()) << r[2].to_string();
  EXPECT_TRUE(r[3].ok());
  auto v = e_->kv_get(ref_, "x", "e", CsumSpec{});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), c);
}

}  // namespace
}  // namespace edaos::objstore::vos

// Engine::kv_apply, the server's group commit (issue 17): many KV changes, one LMDB commit.
// Each change keeps the answer it would get alone and a failing one is rolled back alone; a
// commit that fails leaves none of the changes (so the server can fail every request of the
// group); a process killed after the call keeps them all.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <list>
#include <string>
#include <vector>

#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-group-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ref_ = ShardRef{Uuid::generate(), ObjectId{0x200000000000ull, 9}, 0, 0};
    e_ = open();
    ASSERT_TRUE(e_);
  }
  void TearDown() override {
    fail_kv_group_commits_for_testing(0);
    e_.reset();
    fs::remove_all(root_);
  }
  std::unique_ptr<Engine> open() {
    Engine::Options o;
    o.dir = root_ + "/engine-0000";
    o.ntargets = 1;
    o.create = true;
    auto e = Engine::open(o);
    EXPECT_TRUE(e.ok()) << e.status().to_string();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  Engine::KvChange put(const std::string& d, const std::string& v, uint32_t flags = 0) {
    keep_.push_back(d);
    keep_.push_back(v);
    Engine::KvChange c;
    c.ref = ref_;
    c.dkey = *std::prev(keep_.end(), 2);
    c.akey = "a";
    c.value = keep_.back();
    c.flags = flags;
    return c;
  }
  Engine::KvChange remove(const std::string& d) {
    keep_.push_back(d);
    Engine::KvChange c;
    c.remove = true;
    c.ref = ref_;
    c.dkey = keep_.back();
    c.akey = "a";
    return c;
  }
  std::string get(Engine& e, const std::string& d) {
    auto v = e.kv_get(ref_, d, "a", CsumSpec{});
    return v.ok() ? v.value() : "<" + v.status().to_string() + ">";
  }
  int code(Engine& e, const std::string& d) {
    return e.kv_get(ref_, d, "a", CsumSpec{}).status().code();
  }
  std::string root_;
  ShardRef ref_;
  std::unique_ptr<Engine> e_;
  std::list<std::string> keep_;  // storage the changes' views point into
};

TEST_F(GroupCommitTest, ChangesApplyInOrderEachWithItsOwnAnswer) {
  ASSERT_TRUE(e_->kv_put(ref_, "old", "a", "1", 0, CsumSpec{}).ok());
  std::vector<Engine::KvChange> g = {
      put("x", "x1"),
      put("x", "x2", kInsertOnly),  // after the first: EXIST, rolled back alone
      put("y", "y1", kUpdateOnly),  // absent: NONEXIST
      remove("old"),
      remove("never"),  // NONEXIST
      put("y", "y2"),
      put("x", "x3", kUpdateOnly),
      put("", "bad"),  // empty dkey: INVAL before any transaction
  };
  std::vector<Status> r;
  ASSERT_TRUE(e_->kv_apply(g, &r).ok());
  ASSERT_EQ(r.size(), g.size());
  EXPECT_TRUE(r[0].ok()) << r[0].to_string();
  EXPECT_EQ(r[1].code(), EDAOS_EXIST) << r[1].to_string();
  EXPECT_EQ(r[2].code(), EDAOS_NONEXIST) << r[2].to_string();
  EXPECT_TRUE(r[3].ok()) << r[3].to_string();
  EXPECT_EQ(r[4].code(), EDAOS_NONEXIST) << r[4].to_string();
  EXPECT_TRUE(r[5].ok()) << r[5].to_string();
  EXPECT_TRUE(r[6].ok()) << r[6].to_string();
  EXPECT_EQ(r[7].code(), EDAOS_INVAL) << r[7].to_string();
  EXPECT_EQ(get(*e_, "x"), "x3");
  EXPECT_EQ(get(*e_, "y"), "y2");
  EXPECT_EQ(code(*e_, "old"), EDAOS_NONEXIST);
  bool eof = false;
  auto keys = e_->kv_list_dkeys(ref_, "", 100, &eof);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys.value(), (std::vector<std::string>{"x", "y"}));
}

TEST_F(GroupCommitTest, AFailedCommitAppliesNothing) {
  ASSERT_TRUE(e_->kv_put(ref_, "kept", "a", "k", 0, CsumSpec{}).ok());
  fail_kv_group_commits_for_testing(1);
  std::vector<Status> r;
  Status st = e_->kv_apply({put("p", "1"), put("q", "2"), remove("kept")}, &r);
  EXPECT_EQ(st.code(), EDAOS_IO) << st.to_string();
  EXPECT_EQ(code(*e_, "p"), EDAOS_NONEXIST);
  EXPECT_EQ(code(*e_, "q"), EDAOS_NONEXIST);
  EXPECT_EQ(get(*e_, "kept"), "k");
  // The engine is usable afterwards, and the same group then applies.
  ASSERT_TRUE(e_->kv_apply({put("p", "1"), put("q", "2"), remove("kept")}, &r).ok());
  EXPECT_EQ(get(*e_, "p"), "1");
  EXPECT_EQ(get(*e_, "q"), "2");
  EXPECT_EQ(code(*e_, "kept"), EDAOS_NONEXIST);
}

TEST_F(GroupCommitTest, AppliedGroupsSurviveAKill) {
  e_.reset();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto e = open();
    if (!e) ::_exit(2);
    for (int b = 0; b < 20; ++b) {
      std::vector<Engine::KvChange> g;
      for (int i = 0; i < 50; ++i)
        g.push_back(put("k" + std::to_string(b * 50 + i), "v" + std::to_string(b * 50 + i)));
      std::vector<Status> r;
      if (!e->kv_apply(g, &r).ok()) ::_exit(3);
      for (auto& s : r)
        if (!s.ok()) ::_exit(4);
    }
    ::_exit(0);  // no destructor, no sync: like kill -9
  }
  int ws = 0;
  ASSERT_EQ(::waitpid(pid, &ws, 0), pid);
  ASSERT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  e_ = open();
  ASSERT_TRUE(e_);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(get(*e_, "k" + std::to_string(i)), "v" + std::to_string(i));
}

}  // namespace
}  // namespace edaos::objstore::vos

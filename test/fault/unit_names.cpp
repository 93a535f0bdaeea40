// The one grammar of pool specs and daos: names (objstore/README.md, "Names"): table-driven,
// on real pool directories (made with vos::PoolStore::create), without MPI or a store.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "edaos/objstore/names.hpp"
#include "edaos/objstore/objstore.h"
#include "edaos/objstore/objstore.hpp"
#include "vos/pool_store.hpp"

namespace edaos::objstore {
namespace {

namespace fs = std::filesystem;

void make_pool(const std::string& dir, const std::string& label, Uuid* uuid = nullptr) {
  vos::PoolHeader h;
  h.uuid = Uuid::generate();
  h.label = label;
  h.nengines = 1;
  h.ntargets = 1;
  ASSERT_TRUE(vos::PoolStore::create(dir, h, "map").ok()) << dir;
  if (uuid) *uuid = h.uuid;
}

class NamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char cwd[4096];
    ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
    old_cwd_ = cwd;
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-names-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::chdir(root_.c_str()), 0);
    for (const char* v : {"EDAOS_POOL", "DAOS_POOL", "EDAOS_CONT", "DAOS_CONT", "DAOS_CONTAINER"})
      ::unsetenv(v);
    fs::create_directories("home/sub");
    make_pool("home/p1", "p1");
    make_pool("home/dir-of-tank", "tank", &tank_);
    make_pool("home/sub/p2", "p2");
    fs::create_directories("empty");
    fs::create_directories("full");
    std::ofstream("full/keep") << "x";
    std::ofstream("file") << "x";
    fs::create_directories("dmg/engine-0000");
    ::setenv("EDAOS_POOL", (root_ + "/home/x").c_str(), 1);
  }
  void TearDown() override {
    (void)::chdir(old_cwd_.c_str());
    fs::remove_all(root_);
    for (const char* v : {"EDAOS_POOL", "DAOS_POOL", "EDAOS_CONT", "DAOS_CONT", "DAOS_CONTAINER"})
      ::unsetenv(v);
  }
  std::string root_, old_cwd_;
  Uuid tank_;
};

struct Want {
  std::string name;
  edaos_status_t code;  // EDAOS_OK: the fields below are checked
  std::string pool, cont, path;
  bool exists;
};

TEST_F(NamesTest, DaosNames) {
  ::setenv("DAOS_CONT", "envc", 1);
  const std::string H = root_ + "/home";
  const std::vector<Want> table = {
      // the environment's pool and container
      {"daos:/a/b", EDAOS_OK, H + "/x", "envc", "/a/b", false},
      {"daos:a/b/", EDAOS_OK, H + "/x", "envc", "/a/b", false},
      {"daos:", EDAOS_OK, H + "/x", "envc", "", false},
      {"daos:/", EDAOS_OK, H + "/x", "envc", "/", false},
      {"/no/prefix", EDAOS_OK, H + "/x", "envc", "/no/prefix", false},
      // bare pool words: directory name, label, UUID, unknown (where it would be created)
      {"daos://p1/c/x", EDAOS_OK, H + "/p1", "c", "/x", true},
      {"daos://tank/c/x/y", EDAOS_OK, H + "/dir-of-tank", "c", "/x/y", true},
      {"daos://nope/c/x", EDAOS_OK, H + "/nope", "c", "/x", false},
      // trailing and repeated slashes, missing path
      {"daos://p1/c/", EDAOS_OK, H + "/p1", "c", "/", true},
      {"daos://p1/c", EDAOS_OK, H + "/p1", "c", "", true},
      {"daos://p1/c/x/", EDAOS_OK, H + "/p1", "c", "/x", true},
      {"daos://p1//c//x", EDAOS_OK, H + "/p1", "c", "/x", true},
      // path-form pools: relative, absolute, through parents; the first pool along the path
      {"daos://./home/p1/c/x", EDAOS_OK, "./home/p1", "c", "/x", true},
      {"daos://./home/sub/p2/c/d/e", EDAOS_OK, "./home/sub/p2", "c", "/d/e", true},
      {"daos://" + H + "/p1/c/x", EDAOS_OK, H + "/p1", "c", "/x", true},
      {"daos://" + H + "//p1/c", EDAOS_OK, H + "/p1", "c", "", true},
      {"daos://../" + fs::path(root_).filename().string() + "/home/p1/c/x", EDAOS_OK,
       "../" + fs::path(root_).filename().string() + "/home/p1", "c", "/x", true},
      // "." and ".." are walked through, never made pools; absent / empty = creation target
      {"daos://./c/x", EDAOS_OK, "./c", "x", "", false},
      {"daos://../edaos-names-absent/x", EDAOS_OK, "../edaos-names-absent", "x", "", false},
      {"daos://./empty/c/x", EDAOS_OK, "./empty", "c", "/x", false},
      {"daos://./full/c/x", EDAOS_OK, "./full/c", "x", "", false},
      // errors
      {"daos://./file/c/x", EDAOS_NOTDIR, "", "", "", false},
      {"daos://./dmg/c/x", EDAOS_FORMAT, "", "", "", false},
      {"daos://p1", EDAOS_INVAL, "", "", "", false},
      {"daos://p1/", EDAOS_INVAL, "", "", "", false},
      {"daos://", EDAOS_INVAL, "", "", "", false},
      {"daos://./home/p1", EDAOS_INVAL, "", "", "", false},
      {"daos:///", EDAOS_NONEXIST, "", "", "", false},
  };
  for (const Want& w : table) {
    auto n = parse_daos_name(w.name);
    if (w.code != EDAOS_OK) {
      EXPECT_EQ(n.status().code(), w.code) << w.name << ": " << n.status().to_string();
      continue;
    }
    ASSERT_TRUE(n.ok()) << w.name << ": " << n.status().to_string();
    EXPECT_EQ(n->pool, w.pool) << w.name;
    EXPECT_EQ(n->cont, w.cont) << w.name;
    EXPECT_EQ(n->path, w.path) << w.name;
    EXPECT_EQ(n->pool_exists, w.exists) << w.name;
  }
  // A UUID names the pool too.
  auto u = parse_daos_name("daos://" + tank_.to_string() + "/c/x");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_EQ(u->pool, H + "/dir-of-tank");
  // The messages name the input and the expected form.
  auto bad = parse_daos_name("daos://p1");
  EXPECT_NE(bad.status().message().find("'daos://p1' names no container"), std::string::npos)
      << bad.status().to_string();
  auto dmg = parse_daos_name("daos://./dmg/c/x");
  EXPECT_NE(dmg.status().message().find("no POOL file"), std::string::npos)
      << dmg.status().to_string();
}

TEST_F(NamesTest, PoolSpecs) {
  const std::string H = root_ + "/home";
  EXPECT_EQ(pool_home(), H);
  EXPECT_TRUE(is_pool_path("./p"));
  EXPECT_TRUE(is_pool_path("/p"));
  EXPECT_TRUE(is_pool_path("."));
  EXPECT_TRUE(is_pool_path(".."));
  EXPECT_TRUE(is_pool_path("a/b"));
  EXPECT_FALSE(is_pool_path("datascience"));
  EXPECT_EQ(resolve_pool("p1").value(), H + "/p1");
  EXPECT_EQ(resolve_pool("tank").value(), H + "/dir-of-tank");
  EXPECT_EQ(resolve_pool(tank_.to_string()).value(), H + "/dir-of-tank");
  EXPECT_EQ(resolve_pool("newpool").value(), H + "/newpool");
  EXPECT_EQ(resolve_pool("./home/p1/").value(), "./home/p1");
  EXPECT_EQ(resolve_pool(".").value(), ".");
  EXPECT_EQ(resolve_pool("..").value(), "..");
  EXPECT_EQ(resolve_pool("/abs/p//").value(), "/abs/p");
  EXPECT_EQ(resolve_pool("").status().code(), EDAOS_INVAL);
  EXPECT_EQ(default_pool_spec(), H + "/x");
  // A label in DAOS_POOL (the Aurora guide's DAOS_POOL=datascience): home is ".", and a pool
  // in the current directory is found by its label.
  ::unsetenv("EDAOS_POOL");
  ::setenv("DAOS_POOL", "tank", 1);
  EXPECT_EQ(pool_home(), ".");
  EXPECT_EQ(default_pool_spec(), "tank");
  EXPECT_EQ(resolve_pool("tank").value(), "./tank");  // no pool labelled tank in "."
  make_pool("cur-tank", "tank");
  EXPECT_EQ(resolve_pool("tank").value(), "./cur-tank");
  EXPECT_EQ(default_pool_path(), "./cur-tank");
  // EDAOS_POOL wins over DAOS_POOL.
  ::setenv("EDAOS_POOL", "./home/p1", 1);
  EXPECT_EQ(default_pool_path(), "./home/p1");
  EXPECT_EQ(pool_home(), "./home");
  ::unsetenv("EDAOS_POOL");
  ::unsetenv("DAOS_POOL");
  EXPECT_EQ(default_pool_spec(), "./edaos-pool");
  EXPECT_EQ(pool_home(), ".");
  ::setenv("DAOS_POOL", "/p", 1);
  EXPECT_EQ(pool_home(), "/");
}

TEST_F(NamesTest, Containers) {
  EXPECT_EQ(default_container().value(), "");
  ::setenv("DAOS_CONTAINER", "a", 1);
  EXPECT_EQ(default_container().value(), "a");
  ::setenv("DAOS_CONT", "a", 1);
  EXPECT_EQ(default_container().value(), "a");
  ::setenv("DAOS_CONT", "b", 1);
  auto c = default_container();
  EXPECT_EQ(c.status().code(), EDAOS_INVAL);
  EXPECT_NE(c.status().message().find("DAOS_CONT='b' and DAOS_CONTAINER='a'"), std::string::npos)
      << c.status().to_string();
  EXPECT_EQ(parse_daos_name("daos:/x").status().code(), EDAOS_INVAL);
  ::setenv("EDAOS_CONT", "e", 1);  // takes precedence over both
  EXPECT_EQ(default_container().value(), "e");
  EXPECT_EQ(parse_daos_name("daos:/x")->cont, "e");
  ::unsetenv("EDAOS_CONT");
  ::unsetenv("DAOS_CONT");
  ::unsetenv("DAOS_CONTAINER");
  auto none = parse_daos_name("daos:/x");
  EXPECT_EQ(none.status().code(), EDAOS_INVAL);
  EXPECT_NE(none.status().message().find("set DAOS_CONT"), std::string::npos);
}

TEST_F(NamesTest, CApi) {
  edaos_os_name_t n;
  ASSERT_EQ(edaos_os_name_parse("daos://tank/c/x", &n), EDAOS_OK) << edaos_os_last_error();
  EXPECT_EQ(std::string(n.on_pool), root_ + "/home/dir-of-tank");
  EXPECT_STREQ(n.on_cont, "c");
  EXPECT_STREQ(n.on_path, "/x");
  EXPECT_EQ(n.on_pool_exists, 1);
  EXPECT_EQ(edaos_os_name_parse("daos://tank", &n), EDAOS_INVAL);
  EXPECT_NE(std::string(edaos_os_last_error()).find("names no container"), std::string::npos);
  std::string longc(200, 'c');
  EXPECT_EQ(edaos_os_name_parse(("daos://tank/" + longc + "/x").c_str(), &n), EDAOS_NAMETOOLONG);
  char buf[8];
  size_t len = sizeof buf;
  EXPECT_EQ(edaos_os_pool_resolve("p1", buf, &len), EDAOS_TOOBIG);
  EXPECT_EQ(len, root_.size() + 9);  // "<root>/home/p1" + NUL
  EXPECT_NE(std::string(edaos_os_last_error()).find("the buffer has 8"), std::string::npos)
      << edaos_os_last_error();
  size_t qlen = 0;  // a NULL buffer asks for the size, as in edaos_os_kv_get
  EXPECT_EQ(edaos_os_pool_resolve("p1", nullptr, &qlen), EDAOS_OK) << edaos_os_last_error();
  EXPECT_EQ(qlen, len);
  std::vector<char> big(len);
  EXPECT_EQ(edaos_os_pool_resolve("p1", big.data(), &len), EDAOS_OK);
  EXPECT_EQ(std::string(big.data()), root_ + "/home/p1");
  len = big.size();
  EXPECT_EQ(edaos_os_pool_resolve(nullptr, big.data(), &len), EDAOS_OK);
  EXPECT_EQ(std::string(big.data()), root_ + "/home/x");
}

}  // namespace
}  // namespace edaos::objstore

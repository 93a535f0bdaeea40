// Pool directory and pool service store: header, pool map, containers, OID allocator, attrs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "vos/engine.hpp"
#include "vos/pool_store.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;

class PoolStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-pool-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/pool";
  }
  void TearDown() override { fs::remove_all(root_); }

  PoolHeader header() const {
    PoolHeader h;
    h.uuid = Uuid::parse("6a1c4b5e-1f2d-4c3b-9a8e-7d6c5b4a3f21").value();
    h.label = "my pool";
    h.nengines = 3;
    h.ntargets = 2;
    h.quota_bytes = 1ull << 40;
    h.ctime = 1700000000;
    return h;
  }
  std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  void spew(const std::string& p, const std::string& data) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << data;
  }

  std::string root_, dir_;
};

const char kBlobBytes[] = "map\0with\nbinary\xff bytes";
const std::string kBlob(kBlobBytes, sizeof kBlobBytes - 1);

TEST_F(PoolStoreTest, CreateAndReadHeader) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  std::string blob;
  auto h = PoolStore::read_header(dir_, &blob);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->format_version, kPoolFormatVersion);
  EXPECT_EQ(h->uuid, header().uuid);
  EXPECT_EQ(h->label, "my pool");
  EXPECT_EQ(h->nengines, 3u);
  EXPECT_EQ(h->ntargets, 2u);
  EXPECT_EQ(h->quota_bytes, 1ull << 40);
  EXPECT_EQ(h->ctime, 1700000000u);
  EXPECT_EQ(blob, kBlob);
  // Header text starts with the documented magic line.
  EXPECT_EQ(slurp(dir_ + "/POOL").rfind("EDAOS-POOL 1\n", 0), 0u);
}

TEST_F(PoolStoreTest, CreatesEngineDirectories) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  EXPECT_EQ(engine_dir_name(7), "engine-0007");
  for (uint32_t e = 0; e < 3; ++e) {
    std::string ed = dir_ + "/" + engine_dir_name(e);
    EXPECT_TRUE(fs::exists(ed + "/FORMAT")) << ed;
    EXPECT_TRUE(fs::is_directory(ed + "/tgt-0"));
    EXPECT_TRUE(fs::is_directory(ed + "/tgt-1"));
    EXPECT_FALSE(fs::exists(ed + "/tgt-2"));
    Engine::Options o;
    o.dir = ed;
    o.ntargets = 2;
    EXPECT_TRUE(Engine::open(o).ok());
  }
  EXPECT_FALSE(fs::exists(dir_ + "/" + engine_dir_name(3)));
  EXPECT_TRUE(fs::is_directory(dir_ + "/psvc"));
}

TEST_F(PoolStoreTest, CreateTwiceIsExist) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  Status st = PoolStore::create(dir_, header(), kBlob);
  EXPECT_EQ(st.code(), EDAOS_EXIST) << st.to_string();
}

TEST_F(PoolStoreTest, CreateValidates) {
  PoolHeader h = header();
  h.label = std::string(kMaxLabelLen + 1, 'x');
  EXPECT_EQ(PoolStore::create(dir_, h, kBlob).code(), EDAOS_INVAL);
  h = header();
  h.label = "bad\nlabel";
  EXPECT_EQ(PoolStore::create(dir_, h, kBlob).code(), EDAOS_INVAL);
  h = header();
  h.nengines = 0;
  EXPECT_EQ(PoolStore::create(dir_, h, kBlob).code(), EDAOS_INVAL);
  EXPECT_FALSE(fs::exists(dir_ + "/POOL"));
}

TEST_F(PoolStoreTest, ReadHeaderErrors) {
  EXPECT_EQ(PoolStore::read_header(dir_, nullptr).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(PoolStore::open(dir_).status().code(), EDAOS_NONEXIST);
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  const std::string good = slurp(dir_ + "/POOL");

  spew(dir_ + "/POOL", "garbage\n");
  EXPECT_EQ(PoolStore::read_header(dir_, nullptr).status().code(), EDAOS_FORMAT);

  std::string v2 = good;
  v2.replace(0, 13, "EDAOS-POOL 2\n");
  spew(dir_ + "/POOL", v2);
  auto r = PoolStore::read_header(dir_, nullptr);
  EXPECT_EQ(r.status().code(), EDAOS_FORMAT);
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos) << r.status().to_string();

  std::string damaged = good;
  damaged[damaged.size() - 3] ^= 0x20;  // a pool-map byte
  spew(dir_ + "/POOL", damaged);
  EXPECT_EQ(PoolStore::read_header(dir_, nullptr).status().code(), EDAOS_FORMAT);

  spew(dir_ + "/POOL", good.substr(0, good.size() - 1));  // truncated map
  EXPECT_EQ(PoolStore::read_header(dir_, nullptr).status().code(), EDAOS_FORMAT);

  spew(dir_ + "/POOL", good);
  EXPECT_TRUE(PoolStore::read_header(dir_, nullptr).ok());
}

TEST_F(PoolStoreTest, WritePoolMapReplacesAtomically) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  std::string big(100000, 'm');
  ASSERT_TRUE(PoolStore::write_pool_map(dir_, big).ok());
  std::string blob;
  auto h = PoolStore::read_header(dir_, &blob);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(blob, big);
  EXPECT_EQ(h->label, "my pool");
  EXPECT_EQ(h->uuid, header().uuid);
  EXPECT_FALSE(fs::exists(dir_ + "/POOL.tmp"));
  EXPECT_EQ(PoolStore::write_pool_map(root_ + "/nopool", "x").code(), EDAOS_NONEXIST);
}

class PsvcTest : public PoolStoreTest {
 protected:
  void SetUp() override {
    PoolStoreTest::SetUp();
    ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
    auto ps = PoolStore::open(dir_);
    ASSERT_TRUE(ps.ok()) << ps.status().to_string();
    ps_ = std::move(ps).value();
  }
  void reopen() {
    ps_.reset();
    auto ps = PoolStore::open(dir_);
    ASSERT_TRUE(ps.ok()) << ps.status().to_string();
    ps_ = std::move(ps).value();
  }
  std::unique_ptr<PoolStore> ps_;
};

TEST_F(PsvcTest, ContainerCrudAndLabelUniqueness) {
  Uuid a = Uuid::generate(), b = Uuid::generate();
  ASSERT_TRUE(ps_->cont_create(a, "alpha", "rec-a").ok());
  Status st = ps_->cont_create(a, "other", "x");
  EXPECT_EQ(st.code(), EDAOS_EXIST);
  EXPECT_NE(st.message().find(a.to_string()), std::string::npos) << st.to_string();
  st = ps_->cont_create(b, "alpha", "rec-b");
  EXPECT_EQ(st.code(), EDAOS_EXIST);
  EXPECT_NE(st.message().find("alpha"), std::string::npos) << st.to_string();
  ASSERT_TRUE(ps_->cont_create(b, "", "rec-b").ok());  // unlabelled
  Uuid c = Uuid::generate();
  ASSERT_TRUE(ps_->cont_create(c, "", "rec-c").ok());  // several unlabelled are fine
  EXPECT_EQ(ps_->cont_create(Uuid(), "nil", "").code(), EDAOS_INVAL);

  EXPECT_EQ(ps_->cont_get(a).value(), "rec-a");
  EXPECT_EQ(ps_->cont_lookup_label("alpha").value(), a);
  EXPECT_EQ(ps_->cont_lookup_label("beta").status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->cont_get(Uuid::generate()).status().code(), EDAOS_NONEXIST);

  auto list = ps_->cont_list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  for (size_t i = 1; i < list->size(); ++i) EXPECT_TRUE((*list)[i - 1].first < (*list)[i].first);

  // Rename a -> beta frees alpha; taking c's label is refused.
  ASSERT_TRUE(ps_->cont_update(a, "beta", "rec-a2").ok());
  EXPECT_EQ(ps_->cont_get(a).value(), "rec-a2");
  EXPECT_EQ(ps_->cont_lookup_label("alpha").status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->cont_lookup_label("beta").value(), a);
  ASSERT_TRUE(ps_->cont_update(b, "alpha", "rec-b").ok());
  EXPECT_EQ(ps_->cont_update(b, "beta", "rec-b").code(), EDAOS_EXIST);
  EXPECT_EQ(ps_->cont_update(Uuid::generate(), "z", "").code(), EDAOS_NONEXIST);

  ASSERT_TRUE(ps_->cont_destroy(a).ok());
  EXPECT_EQ(ps_->cont_destroy(a).code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->cont_get(a).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->cont_lookup_label("beta").status().code(), EDAOS_NONEXIST);
  ASSERT_TRUE(ps_->cont_create(Uuid::generate(), "beta", "").ok());  // label reusable

  reopen();
  EXPECT_EQ(ps_->cont_get(b).value(), "rec-b");
  EXPECT_EQ(ps_->cont_lookup_label("alpha").value(), b);
  EXPECT_EQ(ps_->cont_list()->size(), 3u);
}

TEST_F(PsvcTest, OidAllocatorIsMonotonicAcrossReopen) {
  Uuid a = Uuid::generate(), b = Uuid::generate();
  ASSERT_TRUE(ps_->cont_create(a, "a", "").ok());
  ASSERT_TRUE(ps_->cont_create(b, "b", "").ok());
  EXPECT_EQ(ps_->alloc_oids(a, 10).value(), kFirstOidSeq);
  EXPECT_EQ(ps_->alloc_oids(a, 5).value(), kFirstOidSeq + 10);
  EXPECT_EQ(ps_->alloc_oids(b, 1).value(), kFirstOidSeq);  // per container
  reopen();
  EXPECT_EQ(ps_->alloc_oids(a, 1).value(), kFirstOidSeq + 15);
  EXPECT_EQ(ps_->alloc_oids(b, 1).value(), kFirstOidSeq + 1);
  EXPECT_EQ(ps_->alloc_oids(a, 0).status().code(), EDAOS_INVAL);
  EXPECT_EQ(ps_->alloc_oids(Uuid::generate(), 1).status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->alloc_oids(a, UINT64_MAX).status().code(), EDAOS_NOSPACE);
  EXPECT_EQ(ps_->alloc_oids(a, 1).value(), kFirstOidSeq + 16);  // failed call consumed nothing
}

TEST_F(PsvcTest, Attributes) {
  Uuid nil, a = Uuid::generate();
  ASSERT_TRUE(ps_->cont_create(a, "a", "").ok());
  ASSERT_TRUE(ps_->attr_set(nil, "pool.owner", "alice").ok());
  ASSERT_TRUE(ps_->attr_set(a, "user.z", "1").ok());
  ASSERT_TRUE(ps_->attr_set(a, "user.a", std::string("bin\0ary", 7)).ok());
  ASSERT_TRUE(ps_->attr_set(a, "user.a", "2").ok());  // overwrite
  EXPECT_EQ(ps_->attr_get(nil, "pool.owner").value(), "alice");
  EXPECT_EQ(ps_->attr_get(a, "user.a").value(), "2");
  EXPECT_EQ(ps_->attr_get(a, "pool.owner").status().code(), EDAOS_NONEXIST);
  EXPECT_EQ(ps_->attr_list(a).value(), (std::vector<std::string>{"user.a", "user.z"}));
  EXPECT_EQ(ps_->attr_list(nil).value(), (std::vector<std::string>{"pool.owner"}));
  EXPECT_EQ(ps_->attr_set(a, "", "x").code(), EDAOS_INVAL);
  EXPECT_EQ(ps_->attr_set(Uuid::generate(), "k", "v").code(), EDAOS_NONEXIST);
  ASSERT_TRUE(ps_->attr_del(a, "user.z").ok());
  EXPECT_EQ(ps_->attr_del(a, "user.z").code(), EDAOS_NONEXIST);
  reopen();
  EXPECT_EQ(ps_->attr_get(a, "user.a").value(), "2");
  ASSERT_TRUE(ps_->cont_destroy(a).ok());
  ASSERT_TRUE(ps_->cont_create(a, "a", "").ok());  // same uuid again: attributes are gone
  EXPECT_TRUE(ps_->attr_list(a)->empty());
  EXPECT_EQ(ps_->attr_get(nil, "pool.owner").value(), "alice");
  EXPECT_TRUE(ps_->sync().ok());
}

TEST_F(PsvcTest, SecondOpenIsBusyAndNamesOwner) {
  auto again = PoolStore::open(dir_);
  ASSERT_EQ(again.status().code(), EDAOS_BUSY);
  std::string pid = ":" + std::to_string(::getpid());
  EXPECT_NE(again.status().message().find(pid), std::string::npos) << again.status().to_string();
  EXPECT_NE(again.status().message().find("pool in use by"), std::string::npos);
  ps_.reset();
  EXPECT_TRUE(PoolStore::open(dir_).ok());  // released on close
}

}  // namespace
}  // namespace edaos::objstore::vos

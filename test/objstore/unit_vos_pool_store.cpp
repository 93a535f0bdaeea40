// Pool directory and pool service store: header, pool map, containers, OID allocator, attrs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vos/engine.hpp"
#include "vos/identity.hpp"
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

// ---- pool identity and creation (issue 12 item 4, issue 13 item 1) ----

TEST_F(PoolStoreTest, CreateRecordsIdentityEverywhere) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  auto h = PoolStore::read_header(dir_, nullptr);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->identity);
  for (uint32_t e = 0; e < 3; ++e) {
    std::string ed = dir_ + "/" + engine_dir_name(e);
    auto id = read_engine_identity(ed);
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    EXPECT_EQ(id->pool, header().uuid);
    EXPECT_EQ(id->engine, e);
    std::string why;
    EXPECT_EQ(check_engine_identity(ed, header().uuid, e, &why), IdentityCheck::kMatch);
    EXPECT_EQ(check_engine_identity(ed, header().uuid, e + 1, &why), IdentityCheck::kForeign);
    EXPECT_NE(why.find("as engine " + std::to_string(e) + ", not to pool"), std::string::npos)
        << why;
    EXPECT_EQ(check_engine_identity(ed, Uuid::generate(), e, &why), IdentityCheck::kForeign);
    EXPECT_NE(why.find(header().uuid.to_string()), std::string::npos) << why;
  }
  EXPECT_FALSE(fs::exists(dir_ + "/CREATING"));
  EXPECT_FALSE(fs::exists(dir_ + "/CREATE.lock"));
  EXPECT_TRUE(PoolStore::open(dir_).ok());
}

TEST_F(PoolStoreTest, IdentityFileIsChecked) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  std::string ed = dir_ + "/" + engine_dir_name(1), why;
  std::string good = slurp(ed + "/IDENTITY");
  EXPECT_EQ(good.rfind("EDAOS-ENGINE-ID 1\npool ", 0), 0u) << good;
  std::string flipped = good;
  flipped[flipped.find("pool ") + 6] ^= 1;  // a changed UUID digit: the checksum catches it
  spew(ed + "/IDENTITY", flipped);
  EXPECT_EQ(read_engine_identity(ed).status().code(), EDAOS_FORMAT);
  EXPECT_EQ(check_engine_identity(ed, header().uuid, 1, &why), IdentityCheck::kDamaged);
  spew(ed + "/IDENTITY", "garbage");
  EXPECT_EQ(check_engine_identity(ed, header().uuid, 1, &why), IdentityCheck::kDamaged);
  fs::remove(ed + "/IDENTITY");
  EXPECT_EQ(check_engine_identity(ed, header().uuid, 1, &why), IdentityCheck::kAbsent);
  ASSERT_TRUE(write_engine_identity(ed, EngineIdentity{header().uuid, 1}).ok());
  EXPECT_EQ(slurp(ed + "/IDENTITY"), good);
}

TEST_F(PoolStoreTest, CreateOnlyInEmptyOrAbsentDirectories) {
  fs::create_directories(dir_);
  spew(dir_ + "/keep", "x");
  Status st = PoolStore::create(dir_, header(), kBlob);
  EXPECT_EQ(st.code(), EDAOS_NOTEMPTY) << st.to_string();
  EXPECT_NE(st.message().find("'keep'"), std::string::npos) << st.to_string();
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
  fs::remove(dir_ + "/keep");
  EXPECT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());  // empty: fine
  spew(root_ + "/file", "x");
  EXPECT_EQ(PoolStore::create(root_ + "/file", header(), kBlob).code(), EDAOS_NOTDIR);
}

TEST_F(PoolStoreTest, MissingPoolFileIsDamagedNeverRecreated) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  const std::string pool_file = slurp(dir_ + "/POOL");
  fs::remove(dir_ + "/POOL");
  auto h = PoolStore::read_header(dir_, nullptr);
  EXPECT_EQ(h.status().code(), EDAOS_FORMAT);
  EXPECT_NE(h.status().message().find("3 engine directories and the pool service (psvc) but no "
                                      "POOL file"),
            std::string::npos)
      << h.status().to_string();
  EXPECT_NE(h.status().message().find("nothing was changed"), std::string::npos);
  PoolHeader other = header();
  other.uuid = Uuid::generate();
  Status st = PoolStore::create(dir_, other, kBlob);
  EXPECT_EQ(st.code(), EDAOS_FORMAT) << st.to_string();
  EXPECT_FALSE(fs::exists(dir_ + "/POOL"));
  EXPECT_FALSE(fs::exists(dir_ + "/CREATE.lock"));
  auto id = read_engine_identity(dir_ + "/" + engine_dir_name(0));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->pool, header().uuid);  // untouched
  spew(dir_ + "/POOL", pool_file);
  EXPECT_TRUE(PoolStore::open(dir_).ok());
}

TEST_F(PoolStoreTest, InterruptedCreationIsFinishedByTheNext) {
  fs::create_directories(dir_ + "/engine-0000/tgt-0");
  fs::create_directories(dir_ + "/psvc");
  spew(dir_ + "/engine-0000/stale", "left by the interrupted creator");
  spew(dir_ + "/CREATING", "uuid\n");
  EXPECT_EQ(PoolStore::read_header(dir_, nullptr).status().code(), EDAOS_NONEXIST);
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/CREATING"));
  EXPECT_FALSE(fs::exists(dir_ + "/engine-0000/stale"));  // the leftovers were removed
  EXPECT_TRUE(fs::exists(dir_ + "/engine-0002/tgt-1"));
  EXPECT_TRUE(PoolStore::open(dir_).ok());
  // A creator killed between POOL and removing its marker: the pool is complete.
  spew(dir_ + "/CREATING", "uuid\n");
  EXPECT_TRUE(PoolStore::read_header(dir_, nullptr).ok());
  EXPECT_TRUE(PoolStore::open(dir_).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/CREATING"));
}

TEST_F(PoolStoreTest, ConcurrentCreatorsOneWins) {
  // Separate open file descriptions, as separate processes have: flock serialises them.
  constexpr int kCreators = 6;
  std::vector<Status> got(kCreators);
  std::vector<std::thread> th;
  for (int i = 0; i < kCreators; ++i)
    th.emplace_back([&, i] {
      PoolHeader h = header();
      h.uuid = Uuid::generate();
      got[i] = PoolStore::create(dir_, h, kBlob);
    });
  for (auto& t : th) t.join();
  int ok = 0;
  for (auto& st : got) {
    if (st.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(st.code(), EDAOS_EXIST) << st.to_string();
    }
  }
  EXPECT_EQ(ok, 1);
  auto h = PoolStore::read_header(dir_, nullptr);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  for (uint32_t e = 0; e < 3; ++e) {
    auto id = read_engine_identity(dir_ + "/" + engine_dir_name(e));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->pool, h->uuid);  // every engine belongs to the winner
  }
  EXPECT_TRUE(PoolStore::open(dir_).ok());
}

TEST_F(PoolStoreTest, PoolServiceIdentity) {
  ASSERT_TRUE(PoolStore::create(dir_, header(), kBlob).ok());
  const std::string mine = slurp(dir_ + "/POOL");
  // A POOL file of another pool: the pool service refuses naming both UUIDs.
  std::string other_dir = root_ + "/other";
  PoolHeader oh = header();
  oh.uuid = Uuid::generate();
  ASSERT_TRUE(PoolStore::create(other_dir, oh, kBlob).ok());
  spew(dir_ + "/POOL", slurp(other_dir + "/POOL"));
  auto ps = PoolStore::open(dir_);
  EXPECT_EQ(ps.status().code(), EDAOS_FORMAT);
  EXPECT_NE(ps.status().message().find("belongs to pool " + header().uuid.to_string() + ", but " +
                                       dir_ + "/POOL names pool " + oh.uuid.to_string()),
            std::string::npos)
      << ps.status().to_string();
  spew(dir_ + "/POOL", mine);
  EXPECT_TRUE(PoolStore::open(dir_).ok());
  EXPECT_TRUE(PoolStore::set_identity_flag(dir_).ok());  // already set: no change
  EXPECT_EQ(slurp(dir_ + "/POOL"), mine);
}

TEST_F(PsvcTest, DestroyMarks) {
  Uuid a = Uuid::generate(), b = Uuid::generate();
  ASSERT_TRUE(ps_->cont_create(a, "a", "rec").ok());
  ASSERT_TRUE(ps_->cont_create(b, "b", "rec").ok());
  EXPECT_FALSE(ps_->cont_destroying(a).value());
  ASSERT_TRUE(ps_->cont_mark_destroying(a).ok());
  ASSERT_TRUE(ps_->cont_mark_destroying(a).ok());  // idempotent
  EXPECT_EQ(ps_->cont_mark_destroying(Uuid::generate()).code(), EDAOS_NONEXIST);
  reopen();  // durable
  EXPECT_TRUE(ps_->cont_destroying(a).value());
  EXPECT_FALSE(ps_->cont_destroying(b).value());
  EXPECT_EQ(ps_->cont_list_destroying().value(), std::vector<Uuid>{a});
  EXPECT_EQ(ps_->cont_lookup_label("a").value(), a);  // the record and label stay
  ASSERT_TRUE(ps_->cont_destroy(a).ok());
  EXPECT_TRUE(ps_->cont_list_destroying()->empty());
  ASSERT_TRUE(ps_->cont_create(a, "a", "rec").ok());  // same uuid again: not marked
  EXPECT_FALSE(ps_->cont_destroying(a).value());
}

}  // namespace
}  // namespace edaos::objstore::vos

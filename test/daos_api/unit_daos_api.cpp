// Unit tests of the DAOS API pieces that need no store: object class IDs, property lists,
// error names, gurt's hash table, lists and hashes. Values that DAOS defines (class IDs, DER
// codes) are checked against the numbers DAOS programs see.
#include <daos.h>
#include <daos_fs.h>
#include <gtest/gtest.h>
#include <gurt/common.h>
#include <gurt/hash.h>

#include <set>
#include <string>
#include <vector>

namespace {

// ---- object classes --------------------------------------------------------------------------

TEST(DaosOclass, IdsAreDaosNumbers) {
  // DAOS packs (redundancy code << 24) | groups, 0xFFFF = GX.
  EXPECT_EQ(OC_S1, (1u << 24) | 1u);
  EXPECT_EQ(OC_SX, (1u << 24) | 0xFFFFu);
  EXPECT_EQ(OC_RP_2G1, (8u << 24) | 1u);
  EXPECT_EQ(OC_RP_4G1, (10u << 24) | 1u);
  EXPECT_EQ(OC_RP_128G1, (20u << 24) | 1u);
  EXPECT_EQ(OC_EC_2P1GX, (32u << 24) | 0xFFFFu);
  EXPECT_EQ(OC_EC_4P3G2, (40u << 24) | 2u);
  EXPECT_EQ(OC_EC_16P3GX, (42u << 24) | 0xFFFFu);
}

TEST(DaosOclass, Name2IdAndBack) {
  struct Case {
    const char* name;
    daos_oclass_id_t id;
  } cases[] = {{"S1", OC_S1},
               {"SX", OC_SX},
               {"S32", OC_S32},
               {"RP_2G1", OC_RP_2G1},
               {"RP_3GX", OC_RP_3GX},
               {"RP_4G1", OC_RP_4G1},
               {"EC_2P1G1", OC_EC_2P1G1},
               {"EC_4P2GX", OC_EC_4P2GX},
               {"EC_8P3G16", OC_EC_8P3G16},
               {"EC_16P3GX", OC_EC_16P3GX},
               {"RP_64G1", OC_RP_64G1}};
  for (const auto& c : cases) {
    EXPECT_EQ(daos_oclass_name2id(c.name), static_cast<int>(c.id)) << c.name;
    char buf[MAX_OBJ_CLASS_NAME_LEN];
    ASSERT_EQ(daos_oclass_id2name(c.id, buf), 0) << c.name;
    EXPECT_STREQ(buf, c.name);
  }
  // DAOS's C constant spelling and any case.
  EXPECT_EQ(daos_oclass_name2id("OC_EC_16P3GX"), static_cast<int>(OC_EC_16P3GX));
  EXPECT_EQ(daos_oclass_name2id("rp_2g1"), static_cast<int>(OC_RP_2G1));
  // Any group count edaos supports, beyond DAOS's predefined ones.
  EXPECT_EQ(daos_oclass_name2id("EC_2P1G3"), static_cast<int>(EDAOS_OC_ID_(OR_RS_2P1, 3u)));
  char buf[MAX_OBJ_CLASS_NAME_LEN];
  ASSERT_EQ(daos_oclass_id2name(EDAOS_OC_ID_(OR_RS_2P1, 3u), buf), 0);
  EXPECT_STREQ(buf, "EC_2P1G3");
}

TEST(DaosOclass, UnknownNamesAndIds) {
  for (const char* n : {"", "bogus", "EC_3P1G1", "RP_7G1", "OC_TINY", "EC_2P1", "S0"})
    EXPECT_EQ(daos_oclass_name2id(n), OC_UNKNOWN) << n;
  EXPECT_EQ(daos_oclass_name2id(nullptr), OC_UNKNOWN);
  char buf[MAX_OBJ_CLASS_NAME_LEN];
  EXPECT_EQ(daos_oclass_id2name(OC_UNKNOWN, buf), -1);
  EXPECT_EQ(daos_oclass_id2name(OC_TINY, buf), -1);                    // an alias, no class
  EXPECT_EQ(daos_oclass_id2name(EDAOS_OC_ID_(OR_RP_1, 0u), buf), -1);  // no group count
  EXPECT_EQ(daos_oclass_id2name(EDAOS_OC_ID_(33u + 20u, 1u), buf), -1);
  EXPECT_EQ(daos_oclass_id2name(OC_S1, nullptr), -1);
}

// ---- errors ----------------------------------------------------------------------------------

TEST(DaosErrno, NamesValuesDescriptions) {
  EXPECT_EQ(DER_NO_HDL, 1002);
  EXPECT_EQ(DER_INVAL, 1003);
  EXPECT_EQ(DER_EXIST, 1004);
  EXPECT_EQ(DER_NONEXIST, 1005);
  EXPECT_EQ(DER_NOSPACE, 1007);
  EXPECT_EQ(DER_TRUNC, 1016);
  EXPECT_EQ(DER_IO, 2001);
  EXPECT_EQ(DER_NOTSUPPORTED, 2037);
  EXPECT_STREQ(d_errstr(-DER_NONEXIST), "DER_NONEXIST");
  EXPECT_STREQ(d_errstr(DER_NO_HDL), "DER_NO_HDL");
  EXPECT_STREQ(d_errstr(0), "DER_SUCCESS");
  EXPECT_STREQ(d_errstr(-999999), "DER_UNKNOWN");
  EXPECT_STREQ(d_errdesc(-DER_EXIST), "Entity already exists");
  EXPECT_STREQ(d_errdesc(-123456), "Unknown error -123456");
}

// ---- property lists --------------------------------------------------------------------------

TEST(DaosProp, AllocSetGetFree) {
  EXPECT_EQ(daos_prop_alloc(DAOS_PROP_ENTRIES_MAX_NR + 1), nullptr);
  daos_prop_t* empty = daos_prop_alloc(0);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->dpp_nr, 0u);
  EXPECT_EQ(empty->dpp_entries, nullptr);
  daos_prop_free(empty);
  daos_prop_free(nullptr);

  daos_prop_t* p = daos_prop_alloc(3);
  ASSERT_NE(p, nullptr);
  p->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
  p->dpp_entries[1].dpe_type = DAOS_PROP_CO_REDUN_FAC;
  p->dpp_entries[1].dpe_val = DAOS_PROP_CO_REDUN_RF2;
  p->dpp_entries[2].dpe_type = DAOS_PROP_CO_OWNER;
  EXPECT_EQ(daos_prop_set_str(p, DAOS_PROP_CO_LABEL, "first", 5), 0);
  EXPECT_EQ(daos_prop_set_str(p, DAOS_PROP_CO_LABEL, "second_and_longer", 6), 0);  // replaces
  EXPECT_STREQ(daos_prop_entry_get(p, DAOS_PROP_CO_LABEL)->dpe_str, "second");
  EXPECT_EQ(daos_prop_entry_get(p, DAOS_PROP_CO_REDUN_FAC)->dpe_val, 2u);
  EXPECT_EQ(daos_prop_entry_get(p, DAOS_PROP_CO_CSUM), nullptr);
  EXPECT_EQ(daos_prop_set_str(p, DAOS_PROP_CO_CSUM, "x", 1), -DER_INVAL);  // no such entry
  EXPECT_EQ(daos_prop_set_str(p, DAOS_PROP_CO_LABEL, nullptr, 1), -DER_INVAL);
  EXPECT_TRUE(daos_prop_has_str(&p->dpp_entries[0]));
  EXPECT_FALSE(daos_prop_has_str(&p->dpp_entries[1]));
  EXPECT_TRUE(daos_prop_is_set(&p->dpp_entries[1]));
  daos_prop_free(p);  // frees the label string (checked by ASan)
}

TEST(DaosProp, MergeNewWins) {
  daos_prop_t* a = daos_prop_alloc(2);
  daos_prop_t* b = daos_prop_alloc(2);
  a->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
  ASSERT_EQ(daos_prop_entry_set_str(&a->dpp_entries[0], "old", 3), 0);
  a->dpp_entries[1].dpe_type = DAOS_PROP_CO_EC_CELL_SZ;
  a->dpp_entries[1].dpe_val = 65536;
  b->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
  ASSERT_EQ(daos_prop_entry_set_str(&b->dpp_entries[0], "new", 3), 0);
  b->dpp_entries[1].dpe_type = DAOS_PROP_CO_REDUN_FAC;
  b->dpp_entries[1].dpe_val = 1;
  daos_prop_t* m = daos_prop_merge(a, b);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->dpp_nr, 3u);
  EXPECT_STREQ(daos_prop_entry_get(m, DAOS_PROP_CO_LABEL)->dpe_str, "new");
  EXPECT_EQ(daos_prop_entry_get(m, DAOS_PROP_CO_EC_CELL_SZ)->dpe_val, 65536u);
  EXPECT_EQ(daos_prop_entry_get(m, DAOS_PROP_CO_REDUN_FAC)->dpe_val, 1u);
  // The copy owns its strings.
  daos_prop_free(b);
  EXPECT_STREQ(daos_prop_entry_get(m, DAOS_PROP_CO_LABEL)->dpe_str, "new");
  daos_prop_free(m);
  daos_prop_free(a);
}

TEST(DaosProp, LabelRule) {
  EXPECT_TRUE(daos_label_is_valid("a"));
  EXPECT_TRUE(daos_label_is_valid("my-cont_1.x:y"));
  EXPECT_FALSE(daos_label_is_valid(""));
  EXPECT_FALSE(daos_label_is_valid(nullptr));
  EXPECT_FALSE(daos_label_is_valid("has space"));
  EXPECT_FALSE(daos_label_is_valid("a/b"));
  EXPECT_FALSE(daos_label_is_valid(std::string(128, 'x').c_str()));
  EXPECT_TRUE(daos_label_is_valid(std::string(127, 'x').c_str()));
  EXPECT_FALSE(daos_label_is_valid("6d43f2c8-6c25-4c87-9a8f-0a1b2c3d4e5f"));  // a UUID
  EXPECT_TRUE(daos_is_valid_uuid_string("6D43F2C8-6C25-4C87-9A8F-0A1B2C3D4E5F", 1));
  EXPECT_FALSE(daos_is_valid_uuid_string("6d43f2c8-6c25-4c87-9a8f-0a1b2c3d4e5f", 1));
}

// ---- gurt ------------------------------------------------------------------------------------

struct Rec {
  d_list_t link;
  std::string key;
  int refs = 0;
  bool* freed = nullptr;
};
Rec* rec_of(d_list_t* l) { return container_of(l, Rec, link); }

bool key_cmp(d_hash_table*, d_list_t* l, const void* key, unsigned int ksize) {
  return rec_of(l)->key == std::string(static_cast<const char*>(key), ksize);
}
void rec_addref(d_hash_table*, d_list_t* l) { rec_of(l)->refs++; }
bool rec_decref(d_hash_table*, d_list_t* l) { return --rec_of(l)->refs == 0; }
void rec_free(d_hash_table*, d_list_t* l) {
  Rec* r = rec_of(l);
  if (r->freed) *r->freed = true;
  delete r;
}

// IOR's DFS backend: an ephemeral table whose decref always says "last", emptied with
// rec_first + rec_decref, then destroyed without force.
bool ior_decref(d_hash_table*, d_list_t*) { return true; }

TEST(GurtHash, IorDirectoryCachePattern) {
  d_hash_table_ops_t ops = {};
  ops.hop_key_cmp = key_cmp;
  ops.hop_rec_decref = ior_decref;
  ops.hop_rec_free = rec_free;
  d_hash_table* t = nullptr;
  ASSERT_EQ(d_hash_table_create(D_HASH_FT_EPHEMERAL | D_HASH_FT_NOLOCK | D_HASH_FT_LRU, 4, nullptr,
                                &ops, &t),
            0);
  bool freed[40] = {};
  for (int i = 0; i < 40; ++i) {
    auto* r = new Rec;
    r->key = "/dir" + std::to_string(i);
    r->freed = &freed[i];
    ASSERT_EQ(
        d_hash_rec_insert(t, r->key.data(), static_cast<unsigned>(r->key.size()), &r->link, false),
        0);
  }
  for (int i = 0; i < 40; ++i) {
    const std::string k = "/dir" + std::to_string(i);
    d_list_t* l = d_hash_rec_find(t, k.data(), static_cast<unsigned>(k.size()));
    ASSERT_NE(l, nullptr) << k;
    EXPECT_EQ(rec_of(l)->key, k);
  }
  EXPECT_EQ(d_hash_rec_find(t, "/nope", 5), nullptr);
  EXPECT_EQ(d_hash_table_destroy(t, false), -DER_BUSY);  // not empty
  int n = 0;
  while (d_list_t* l = d_hash_rec_first(t)) {
    d_hash_rec_decref(t, l);
    ++n;
  }
  EXPECT_EQ(n, 40);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(freed[i]) << i;
  EXPECT_EQ(d_hash_table_destroy(t, false), 0);
}

TEST(GurtHash, ReferenceCountedTable) {
  d_hash_table_ops_t ops = {};
  ops.hop_key_cmp = key_cmp;
  ops.hop_rec_addref = rec_addref;
  ops.hop_rec_decref = rec_decref;
  ops.hop_rec_free = rec_free;
  d_hash_table* t = nullptr;
  ASSERT_EQ(d_hash_table_create(0, 2, nullptr, &ops, &t), 0);
  bool freed = false;
  auto* r = new Rec;
  r->key = "k";
  r->freed = &freed;
  ASSERT_EQ(d_hash_rec_insert(t, "k", 1, &r->link, true), 0);
  EXPECT_EQ(r->refs, 1);  // the table's
  auto* dup = new Rec;
  dup->key = "k";
  EXPECT_EQ(d_hash_rec_insert(t, "k", 1, &dup->link, true), -DER_EXIST);
  delete dup;
  d_list_t* l = d_hash_rec_find(t, "k", 1);
  ASSERT_EQ(l, &r->link);
  EXPECT_EQ(r->refs, 2);  // plus the finder's
  EXPECT_TRUE(d_hash_rec_delete(t, "k", 1));
  EXPECT_FALSE(freed);  // the finder still holds it
  EXPECT_TRUE(d_hash_rec_unlinked(l));
  d_hash_rec_decref(t, l);
  EXPECT_TRUE(freed);
  EXPECT_FALSE(d_hash_rec_delete(t, "k", 1));
  // find_insert: inserts once, then returns the record that is there.
  auto* a = new Rec;
  a->key = "x";
  auto* b = new Rec;
  b->key = "x";
  bool a_freed = false;
  a->freed = &a_freed;
  EXPECT_EQ(d_hash_rec_find_insert(t, "x", 1, &a->link), &a->link);
  EXPECT_EQ(a->refs, 1);  // the table's
  EXPECT_EQ(d_hash_rec_find_insert(t, "x", 1, &b->link), &a->link);
  EXPECT_EQ(a->refs, 2);  // plus the finder's
  delete b;
  d_hash_rec_decref(t, &a->link);
  EXPECT_FALSE(a_freed);
  EXPECT_EQ(d_hash_table_destroy(t, true), 0);  // force: drops the table's reference
  EXPECT_TRUE(a_freed);
}

TEST(GurtHash, ArgumentChecksAndTraverse) {
  d_hash_table* t = nullptr;
  d_hash_table_ops_t none = {};
  EXPECT_EQ(d_hash_table_create(0, 4, nullptr, nullptr, &t), -DER_INVAL);
  EXPECT_EQ(d_hash_table_create(0, 4, nullptr, &none, &t), -DER_INVAL);  // no key_cmp
  d_hash_table_ops_t ops = {};
  ops.hop_key_cmp = key_cmp;
  ASSERT_EQ(d_hash_table_create(0, 3, nullptr, &ops, &t), 0);
  std::vector<Rec> recs(10);
  for (int i = 0; i < 10; ++i) {
    recs[i].key = std::to_string(i);
    ASSERT_EQ(d_hash_rec_insert(t, recs[i].key.data(), 1, &recs[i].link, false), 0);
  }
  std::set<std::string> seen;
  EXPECT_EQ(d_hash_table_traverse(
                t,
                [](d_list_t* l, void* arg) {
                  static_cast<std::set<std::string>*>(arg)->insert(rec_of(l)->key);
                  return 0;
                },
                &seen),
            0);
  EXPECT_EQ(seen.size(), 10u);
  for (auto& r : recs) EXPECT_TRUE(d_hash_rec_delete_at(t, &r.link));
  EXPECT_EQ(d_hash_table_destroy(t, false), 0);
}

TEST(GurtHash, Hashes) {
  // Deterministic, and sensitive to every byte and the seed.
  const unsigned char k[] = "edaos-hash-key";
  const uint64_t h = d_hash_murmur64(k, sizeof k - 1, 0);
  EXPECT_EQ(h, d_hash_murmur64(k, sizeof k - 1, 0));
  EXPECT_NE(h, d_hash_murmur64(k, sizeof k - 1, 1));
  EXPECT_NE(h, d_hash_murmur64(k, sizeof k - 2, 0));
  // MurmurHash64A of the empty key with seed 0 is 0 by its definition.
  EXPECT_EQ(d_hash_murmur64(k, 0, 0), 0ull);
  EXPECT_EQ(d_hash_string_u32("abc", 3), d_hash_string_u32("abcdef", 3));
  EXPECT_NE(d_hash_string_u32("abc", 3), d_hash_string_u32("abd", 3));
  // FNV-1a 32 of "a" (reference value 0xe40c292c).
  EXPECT_EQ(d_hash_string_u32("a", 1), 0xe40c292cu);
}

TEST(GurtList, AddDelPopIterate) {
  struct Item {
    int v;
    d_list_t link;
  };
  D_LIST_HEAD(head);
  EXPECT_TRUE(d_list_empty(&head));
  Item items[4] = {{1, {}}, {2, {}}, {3, {}}, {4, {}}};
  for (auto& it : items) d_list_add_tail(&it.link, &head);
  std::vector<int> got;
  Item* pos;
  d_list_for_each_entry(pos, &head, link) got.push_back(pos->v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
  d_list_del_init(&items[1].link);
  Item* first = d_list_pop_entry(&head, Item, link);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->v, 1);
  got.clear();
  Item* n;
  d_list_for_each_entry_safe(pos, n, &head, link) {
    got.push_back(pos->v);
    d_list_del(&pos->link);
  }
  EXPECT_EQ(got, (std::vector<int>{3, 4}));
  EXPECT_TRUE(d_list_empty(&head));
  EXPECT_EQ(d_list_pop_entry(&head, Item, link), nullptr);
  d_sg_list_t sgl;
  ASSERT_EQ(d_sgl_init(&sgl, 3), 0);
  for (uint32_t i = 0; i < 3; ++i) d_iov_set(&sgl.sg_iovs[i], nullptr, i + 1);
  EXPECT_EQ(d_sgl_buf_size(&sgl), 6u);
  d_sgl_fini(&sgl, false);
  EXPECT_EQ(sgl.sg_iovs, nullptr);
}

}  // namespace

// Object class names, OID bit layout, pool / rd_fac validation and DAOS default classes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/pool_map.hpp"

namespace edaos::objstore {
namespace {

ObjClass OC(const std::string& s) { return ObjClass::parse(s).value(); }

std::vector<std::string> all_canonical_names() {
  std::vector<std::string> v;
  const std::vector<std::string> groups = {"1", "2", "4", "6", "8", "12", "16", "32", "X"};
  for (const auto& g : groups) v.push_back("S" + g);
  for (int r : {2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64, 128})
    for (const auto& g : groups) v.push_back("RP_" + std::to_string(r) + "G" + g);
  for (const char* kp :
       {"2P1", "2P2", "4P1", "4P2", "4P3", "8P1", "8P2", "8P3", "16P1", "16P2", "16P3"})
    for (const auto& g : groups) v.push_back(std::string("EC_") + kp + "G" + g);
  return v;
}

TEST(PlacementOclass, CanonicalNamesRoundTrip) {
  for (const auto& n : all_canonical_names()) {
    auto oc = ObjClass::parse(n);
    ASSERT_TRUE(oc.ok()) << n << ": " << oc.status().to_string();
    EXPECT_EQ(oc->name(), n);
    EXPECT_TRUE(oc->validate().ok()) << n;
  }
}

TEST(PlacementOclass, ParseFields) {
  struct Case {
    const char* in;
    ResilKind kind;
    uint32_t data, redun, groups;
    const char* canonical;
  };
  const Case cases[] = {
      {"S1", ResilKind::kNone, 1, 0, 1, "S1"},
      {"SX", ResilKind::kNone, 1, 0, 0, "SX"},
      {"s4", ResilKind::kNone, 1, 0, 4, "S4"},
      {"S1000", ResilKind::kNone, 1, 0, 1000, "S1000"},
      {"RP_2G1", ResilKind::kReplica, 1, 1, 1, "RP_2G1"},
      {"rp_3gx", ResilKind::kReplica, 1, 2, 0, "RP_3GX"},
      {"OC_RP_4G1", ResilKind::kReplica, 1, 3, 1, "RP_4G1"},
      {"RP_128G1", ResilKind::kReplica, 1, 127, 1, "RP_128G1"},
      {"EC_16P3GX", ResilKind::kErasure, 16, 3, 0, "EC_16P3GX"},
      {"ec_16p3g32", ResilKind::kErasure, 16, 3, 32, "EC_16P3G32"},
      {"OC_EC_16P3GX", ResilKind::kErasure, 16, 3, 0, "EC_16P3GX"},
      {"oc_ec_2p1g1", ResilKind::kErasure, 2, 1, 1, "EC_2P1G1"},
      {"EC_4P2G65535", ResilKind::kErasure, 4, 2, 65535, "EC_4P2G65535"},
  };
  for (const auto& c : cases) {
    auto oc = ObjClass::parse(c.in);
    ASSERT_TRUE(oc.ok()) << c.in << ": " << oc.status().to_string();
    EXPECT_EQ(oc->kind, c.kind) << c.in;
    EXPECT_EQ(oc->data, c.data) << c.in;
    EXPECT_EQ(oc->redun, c.redun) << c.in;
    EXPECT_EQ(oc->groups, c.groups) << c.in;
    EXPECT_EQ(oc->name(), c.canonical) << c.in;
    EXPECT_EQ(oc->group_size(), c.data + c.redun) << c.in;
  }
  EXPECT_EQ(ObjClass::parse("RP_3G1")->replicas(), 3u);
  EXPECT_EQ(ObjClass::parse("EC_8P2G1")->replicas(), 1u);
  EXPECT_EQ(ObjClass::parse("S2")->replicas(), 1u);
  EXPECT_EQ(ObjClass().name(), "S1");
}

TEST(PlacementOclass, ParseRejectsWithGrammar) {
  const char* bad[] = {"",           "S",         "S0",       "S01",        "SY",
                       "S65536",     "RP_1G1",    "RP_7G1",   "RP_2",       "RP_2G",
                       "RP_2G0",     "RP_2GXX",   "RP2G1",    "EC_3P1GX",   "EC_2P3GX",
                       "EC_16P3",    "EC_16P4G1", "EC_16P3G", "EC_16P3GX ", " EC_16P3GX",
                       "OC_",        "OC_OC_S1",  "XS",       "EC_-2P1G1",  "RP_2G99999999999",
                       "EC_16P3G-1", "OC_RP_XSF", "S1 "};
  for (const char* b : bad) {
    auto oc = ObjClass::parse(b);
    ASSERT_FALSE(oc.ok()) << "'" << b << "' parsed as " << oc->name();
    EXPECT_EQ(oc.status().code(), EDAOS_INVAL) << b;
    const std::string& m = oc.status().message();
    EXPECT_NE(m.find(std::string("'") + b + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("EC_<k>P<p>G<n>"), std::string::npos) << m;
    EXPECT_NE(m.find("16P3"), std::string::npos) << m;
  }
}

TEST(PlacementOclass, ValidateRejectsOddFields) {
  ObjClass oc;
  oc.kind = ResilKind::kErasure;
  oc.data = 3;
  oc.redun = 1;
  EXPECT_EQ(oc.validate().code(), EDAOS_INVAL);
  EXPECT_NE(oc.name().find("INVALID"), std::string::npos);
  oc = ObjClass();
  oc.redun = 1;  // S with redundancy
  EXPECT_EQ(oc.validate().code(), EDAOS_INVAL);
  oc = ObjClass();
  oc.kind = static_cast<ResilKind>(3);
  EXPECT_EQ(oc.validate().code(), EDAOS_INVAL);
  oc = ObjClass();
  oc.groups = kMaxGroups + 1;
  EXPECT_EQ(oc.validate().code(), EDAOS_INVAL);
}

TEST(PlacementOclass, OidRoundTripAllClasses) {
  const ObjType types[] = {ObjType::kMultiLevel, ObjType::kArray, ObjType::kFlatKV};
  uint64_t seq = 0x123456789abcdefull;
  for (const auto& n : all_canonical_names()) {
    const ObjClass oc = OC(n);
    for (ObjType t : types) {
      seq = seq * 6364136223846793005ull + 1442695040888963407ull;
      const ObjectId oid = make_oid(oc, t, seq, ~seq);
      EXPECT_EQ(oclass_of(oid), oc) << n;
      EXPECT_EQ(otype_of(oid), t) << n;
      EXPECT_EQ(oid.hi & kOidSeqHiMask, seq & kOidSeqHiMask) << n;
      EXPECT_EQ(oid.lo, ~seq) << n;
    }
  }
}

TEST(PlacementOclass, OidBitLayoutIsStable) {
  // Golden: the layout is on disk; changing it strands every stored object.
  const ObjectId a = make_oid(OC("EC_16P3GX"), ObjType::kArray, 0x1234, 7);
  EXPECT_EQ(a.hi, 0x6783000000001234ull);
  EXPECT_EQ(a.lo, 7u);
  const ObjectId b = make_oid(OC("RP_4G1"), ObjType::kMultiLevel, 0, 1);
  EXPECT_EQ(b.hi, 0x1003000100000000ull);
  const ObjectId c = make_oid(OC("S1"), ObjType::kFlatKV, 0, 0);
  EXPECT_EQ(c.hi, 0x8000000100000000ull);
  // seq_hi is masked to its 32 bits and never touches the class.
  const ObjectId d = make_oid(OC("SX"), ObjType::kMultiLevel, ~0ull, 0);
  EXPECT_EQ(d.hi, 0x00000000ffffffffull);
  EXPECT_EQ(oclass_of(d).name(), "SX");
}

TEST(PlacementOclass, ValidateForPoolMessages) {
  const PoolMap four = PoolMap::uniform(2, 2, 4);  // 4 engines, 16 targets
  Status st = validate_for_pool(OC("EC_16P3GX"), four);
  EXPECT_EQ(st.code(), EDAOS_NOENGINE);
  EXPECT_EQ(st.message(), "object class EC_16P3GX needs 19 engines (fault domains), pool has 4");
  st = validate_for_pool(OC("RP_2G32"), four);
  EXPECT_EQ(st.code(), EDAOS_NOENGINE);
  EXPECT_EQ(st.message(),
            "object class RP_2G32 needs 64 targets (32 groups x 2 shards), pool has 16");
  EXPECT_TRUE(validate_for_pool(OC("RP_2G8"), four).ok());
  EXPECT_TRUE(validate_for_pool(OC("EC_2P2GX"), four).ok());
  EXPECT_TRUE(validate_for_pool(OC("SX"), four).ok());
  EXPECT_EQ(validate_for_pool(OC("EC_2P2G5"), four).code(), EDAOS_NOENGINE);
  EXPECT_EQ(validate_for_pool(OC("S1"), PoolMap()).code(), EDAOS_NOENGINE);
  ObjClass bad;
  bad.data = 0;
  EXPECT_EQ(validate_for_pool(bad, four).code(), EDAOS_INVAL);
}

TEST(PlacementOclass, RdFacTable) {
  struct Case {
    const char* oc;
    bool ok[5];  // rd_fac 0..4
  };
  const Case cases[] = {
      {"SX", {true, false, false, false, false}},
      {"S1", {true, false, false, false, false}},
      {"RP_2G1", {true, true, false, false, false}},
      {"RP_3GX", {true, true, true, false, false}},
      {"RP_4G1", {true, true, true, true, false}},
      {"RP_5G1", {true, true, true, true, true}},
      {"EC_2P1GX", {true, true, false, false, false}},
      {"EC_4P2GX", {true, true, true, false, false}},
      {"EC_16P3GX", {true, true, true, true, false}},
      {"EC_8P3G1", {true, true, true, true, false}},
  };
  for (const auto& c : cases)
    for (int rf = 0; rf <= 4; ++rf) {
      const Status st = validate_for_rd_fac(OC(c.oc), rf);
      EXPECT_EQ(st.ok(), c.ok[rf]) << c.oc << " rd_fac " << rf << ": " << st.to_string();
      if (!st.ok()) {
        EXPECT_EQ(st.code(), EDAOS_INVAL);
        EXPECT_NE(st.message().find(c.oc), std::string::npos) << st.message();
        EXPECT_NE(st.message().find("rd_fac " + std::to_string(rf)), std::string::npos)
            << st.message();
      }
    }
  EXPECT_EQ(validate_for_rd_fac(OC("RP_6G1"), 5).code(), EDAOS_INVAL);
  EXPECT_EQ(validate_for_rd_fac(OC("RP_6G1"), -1).code(), EDAOS_INVAL);
}

TEST(PlacementOclass, DefaultsFollowDaos) {
  struct Case {
    int rf;
    uint32_t engines;
    const char* file;
    const char* dir;
  };
  const Case cases[] = {
      {0, 1, "SX", "S1"},
      {0, 64, "SX", "S1"},
      {1, 2, "RP_2GX", "RP_2G1"},
      {1, 3, "EC_2P1GX", "RP_2G1"},
      {1, 6, "EC_4P1GX", "RP_2G1"},
      {1, 10, "EC_8P1GX", "RP_2G1"},
      {1, 18, "EC_16P1GX", "RP_2G1"},
      {2, 3, "RP_3GX", "RP_3G1"},
      {2, 4, "EC_2P2GX", "RP_3G1"},
      {2, 8, "EC_4P2GX", "RP_3G1"},
      {2, 12, "EC_8P2GX", "RP_3G1"},
      {2, 20, "EC_16P2GX", "RP_3G1"},
      {3, 9, "RP_4GX", "RP_4G1"},
      {3, 10, "EC_4P3GX", "RP_4G1"},
      {3, 14, "EC_8P3GX", "RP_4G1"},
      {3, 21, "EC_8P3GX", "RP_4G1"},
      {3, 22, "EC_16P3GX", "RP_4G1"},
      {3, 128, "EC_16P3GX", "RP_4G1"},
      {4, 32, "RP_5GX", "RP_5G1"},
  };
  for (const auto& c : cases) {
    const PoolMap m = PoolMap::uniform(c.engines, 1, 8);
    const ObjClass f = default_oclass(c.rf, false, m), d = default_oclass(c.rf, true, m);
    EXPECT_EQ(f.name(), c.file) << "rd_fac " << c.rf << " engines " << c.engines;
    EXPECT_EQ(d.name(), c.dir) << "rd_fac " << c.rf << " engines " << c.engines;
    EXPECT_TRUE(validate_for_rd_fac(f, c.rf).ok()) << c.file;
    EXPECT_TRUE(validate_for_rd_fac(d, c.rf).ok()) << c.dir;
  }
  // Too small a pool: the default is still the DAOS class; validate_for_pool says why.
  const PoolMap three = PoolMap::uniform(3, 1, 8);
  const Status st = validate_for_pool(default_oclass(3, true, three), three);
  EXPECT_EQ(st.message(), "object class RP_4G1 needs 4 engines (fault domains), pool has 3");
}

}  // namespace
}  // namespace edaos::objstore

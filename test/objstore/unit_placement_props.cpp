// Container properties: DAOS property strings, get-prop rows and the binary record.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/props.hpp"

namespace edaos::objstore {
namespace {

TEST(PlacementProps, Defaults) {
  const ContainerProps p;
  EXPECT_EQ(p.type, ContType::kPosix);
  EXPECT_EQ(p.chunk_size, 1u << 20);
  EXPECT_EQ(p.ec_cell_sz, 128u << 10);  // DAOS_EC_CELL_DEF
  EXPECT_EQ(p.cksum_size, 32768u);
  EXPECT_EQ(p.rd_fac, 0u);
  EXPECT_EQ(p.cksum, CsumType::kOff);
  EXPECT_FALSE(p.srv_cksum);
  EXPECT_EQ(p.status, ContStatus::kHealthy);
}

TEST(PlacementProps, AuroraRecommendedSpec) {
  ContainerProps p;
  ASSERT_TRUE(apply_properties(&p, "rd_fac:3,ec_cell_sz:131072,cksum:crc32,srv_cksum:on").ok());
  EXPECT_EQ(p.rd_fac, 3u);
  EXPECT_EQ(p.ec_cell_sz, 131072u);
  EXPECT_EQ(p.cksum, CsumType::kCrc32);
  EXPECT_TRUE(p.srv_cksum);
  // Order does not matter for the cross-checks.
  ContainerProps q;
  ASSERT_TRUE(apply_properties(&q, "srv_cksum:on,cksum:crc32").ok());
  ASSERT_TRUE(apply_properties(&q, "file_oclass:ec_16p3gx,rd_fac:3,dir_oclass:OC_RP_4G1").ok());
  EXPECT_EQ(q.file_oclass, "EC_16P3GX");
  EXPECT_EQ(q.dir_oclass, "RP_4G1");
}

TEST(PlacementProps, GoodValues) {
  struct Case {
    const char* spec;
    bool (*check)(const ContainerProps&);
  };
  const Case cases[] = {
      {"label:my_cont-1.a:b", [](const ContainerProps& p) { return p.label == "my_cont-1.a:b"; }},
      {"LABEL:x", [](const ContainerProps& p) { return p.label == "x"; }},
      {" cksum : CRC64 ", [](const ContainerProps& p) { return p.cksum == CsumType::kCrc64; }},
      {"cksum:crc32c", [](const ContainerProps& p) { return p.cksum == CsumType::kCrc32c; }},
      {"cksum_size:64KiB", [](const ContainerProps& p) { return p.cksum_size == 65536; }},
      {"cksum_size:1M", [](const ContainerProps& p) { return p.cksum_size == 1000000; }},
      {"rd_fac:0", [](const ContainerProps& p) { return p.rd_fac == 0; }},
      {"rd_fac:4", [](const ContainerProps& p) { return p.rd_fac == 4; }},
      {"rf:2", [](const ContainerProps& p) { return p.rd_fac == 2; }},
      {"rd_lvl:node", [](const ContainerProps& p) { return p.rd_lvl == RedunLevel::kNode; }},
      {"rf_lvl:1", [](const ContainerProps& p) { return p.rd_lvl == RedunLevel::kRank; }},
      {"ec_cell_sz:4KiB", [](const ContainerProps& p) { return p.ec_cell_sz == 4096; }},
      {"ec_cell_sz:1MiB", [](const ContainerProps& p) { return p.ec_cell_sz == 1048576; }},
      {"ec_cell_sz:1 mib", [](const ContainerProps& p) { return p.ec_cell_sz == 1048576; }},
      {"ec_cell_sz:0.5MiB", [](const ContainerProps& p) { return p.ec_cell_sz == 524288; }},
      {"status:HEALTHY", [](const ContainerProps& p) { return p.status == ContStatus::kHealthy; }},
      {"dedup:off,compression:off,encryption:OFF", [](const ContainerProps&) { return true; }},
      {"dedup_threshold:8KiB", [](const ContainerProps& p) { return p.dedup_threshold == 8192; }},
      {"chunk_size:2097152", [](const ContainerProps& p) { return p.chunk_size == 2097152; }},
      {"chunk_size:16MiB", [](const ContainerProps& p) { return p.chunk_size == 16u << 20; }},
      {"oclass:sx", [](const ContainerProps& p) { return p.oclass == "SX"; }},
      {"oclass:", [](const ContainerProps& p) { return p.oclass.empty(); }},
      {"", [](const ContainerProps&) { return true; }},
  };
  for (const auto& c : cases) {
    ContainerProps p;
    const Status st = apply_properties(&p, c.spec);
    ASSERT_TRUE(st.ok()) << c.spec << ": " << st.to_string();
    EXPECT_TRUE(c.check(p)) << c.spec;
  }
}

TEST(PlacementProps, BadValuesNameKeyAndValue) {
  struct Case {
    const char* spec;
    const char* must_contain;
  };
  const Case cases[] = {
      {"bogus:1", "unknown property 'bogus'"},
      {"rd_fac:5", "rd_fac: invalid value '5'"},
      {"rd_fac:-1", "rd_fac: invalid value '-1'"},
      {"rd_fac:three", "rd_fac: invalid value 'three'"},
      {"ec_cell_sz:100", "ec_cell_sz: invalid value '100'"},
      {"ec_cell_sz:2MiB", "ec_cell_sz: invalid value '2MiB'"},
      {"ec_cell_sz:4100", "multiple of 32"},
      {"ec_cell_sz:lots", "bad size 'lots'"},
      {"cksum:md5", "cksum: invalid value 'md5'"},
      {"cksum:sha256", "does not implement"},
      {"cksum_size:0", "cksum_size: invalid value '0'"},
      {"cksum_size:4GiB", "cksum_size: invalid value '4GiB'"},
      {"srv_cksum:yes", "srv_cksum: invalid value 'yes'"},
      {"srv_cksum:on", "srv_cksum: 'on' needs a checksum"},
      {"cksum:crc32,srv_cksum:on,cksum:off", "given twice"},
      {"status:unclean", "status: invalid value 'unclean'"},
      {"chunk_size:0", "chunk_size: invalid value '0'"},
      {"chunk_size:1QB", "bad size '1QB'"},
      {"dedup:hash", "edaos implements only 'off'"},
      {"compression:zstd", "compression: invalid value 'zstd'"},
      {"label:", "label: invalid value ''"},
      {"label:has space", "label: invalid value 'has space'"},
      {"label:0f3c2a1e-5b6d-4c7e-8f90-a1b2c3d4e5f6", "not a UUID"},
      {"oclass:EC_3P1GX", "unknown object class 'EC_3P1GX'"},
      {"rd_fac:2,file_oclass:EC_2P1GX",
       "file_oclass: object class EC_2P1GX does not meet the container's rd_fac 2"},
      {"rd_fac:1,oclass:SX", "rd_fac 1"},
      {"owner:root@", "owner is read-only"},
      {"acl:A::OWNER@:rw", "acl is read-only"},
      {"rd_fac", "has no value"},
      {"rd_fac:1,", "has no value"},
      {"rd_lvl:rack", "rd_lvl: invalid value 'rack'"},
  };
  for (const auto& c : cases) {
    ContainerProps p;
    p.label = "before";
    const ContainerProps before = p;
    const Status st = apply_properties(&p, c.spec);
    ASSERT_FALSE(st.ok()) << c.spec;
    EXPECT_EQ(st.code(), EDAOS_INVAL) << c.spec;
    EXPECT_NE(st.message().find(c.must_contain), std::string::npos)
        << c.spec << " -> " << st.message();
    EXPECT_EQ(p, before) << "apply_properties must be all-or-nothing: " << c.spec;
  }
}

TEST(PlacementProps, SetPropertyChecksCombination) {
  ContainerProps p;
  ASSERT_TRUE(set_property(&p, "cksum", "crc32").ok());
  ASSERT_TRUE(set_property(&p, "srv_cksum", "on").ok());
  EXPECT_EQ(set_property(&p, "cksum", "off").code(), EDAOS_INVAL);  // would orphan srv_cksum
  EXPECT_EQ(p.cksum, CsumType::kCrc32);
  ASSERT_TRUE(set_property(&p, "oclass", "RP_3GX").ok());
  EXPECT_EQ(set_property(&p, "rd_fac", "3").code(), EDAOS_INVAL);  // RP_3 survives only 2
  EXPECT_EQ(p.rd_fac, 0u);
  ASSERT_TRUE(set_property(&p, "rd_fac", "2").ok());
  p.status = ContStatus::kUnclean;
  ASSERT_TRUE(set_property(&p, "status", "healthy").ok());
  EXPECT_EQ(p.status, ContStatus::kHealthy);
}

TEST(PlacementProps, IBytesLikeDaos) {
  EXPECT_EQ(format_ibytes(0), "0 B");
  EXPECT_EQ(format_ibytes(9), "9 B");
  EXPECT_EQ(format_ibytes(1000), "1000 B");
  EXPECT_EQ(format_ibytes(1024), "1.0 KiB");
  EXPECT_EQ(format_ibytes(4096), "4.0 KiB");
  EXPECT_EQ(format_ibytes(32768), "32 KiB");
  EXPECT_EQ(format_ibytes(131072), "128 KiB");
  EXPECT_EQ(format_ibytes(1 << 20), "1.0 MiB");
  EXPECT_EQ(format_ibytes(2097152), "2.0 MiB");
  EXPECT_EQ(format_ibytes(1536), "1.5 KiB");
  EXPECT_EQ(format_ibytes(16ull << 30), "16 GiB");
  EXPECT_EQ(parse_size("128 KiB").value(), 131072u);
  EXPECT_EQ(parse_size("2kb").value(), 2000u);
  EXPECT_EQ(parse_size("3Gi").value(), 3ull << 30);
  EXPECT_FALSE(parse_size("").ok());
  EXPECT_FALSE(parse_size("1.2.3").ok());
  EXPECT_FALSE(parse_size("99999999999999999999").ok());
  EXPECT_FALSE(parse_size("20000000TiB").ok());
}

TEST(PlacementProps, DescribeMatchesDaosGetProp) {
  ContainerProps p;
  ASSERT_TRUE(apply_properties(&p,
                               "label:posix-ec16p3gx,rd_fac:3,ec_cell_sz:131072,cksum:crc32,"
                               "srv_cksum:on,chunk_size:2MiB,file_oclass:EC_16P3GX,"
                               "dir_oclass:RP_4G1")
                  .ok());
  p.owner = "alice@";
  p.group = "users@";
  p.acl = "A::OWNER@:rwdtTaAo, A:G:GROUP@:rwtT";
  const auto rows = describe(p);
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : rows)
      if (n == name) return v;
    return std::string("<missing " + name + ">");
  };
  EXPECT_EQ(value("Checksum (cksum)"), "crc32");
  EXPECT_EQ(value("Checksum Chunk Size (cksum_size)"), "32 KiB");
  EXPECT_EQ(value("Server Checksumming (srv_cksum)"), "on");
  EXPECT_EQ(value("Redundancy Factor (0-4) (rd_fac)"), "3");
  EXPECT_EQ(value("Redundancy Level (rank=1, node=2) (rd_lvl)"), "rank");
  EXPECT_EQ(value("EC Cell Size (ec_cell_sz)"), "128 KiB");
  EXPECT_EQ(value("Health (status)"), "HEALTHY");
  EXPECT_EQ(value("Label (label)"), "posix-ec16p3gx");
  EXPECT_EQ(value("Group (group)"), "users@");
  EXPECT_EQ(value("Owner (owner)"), "alice@");
  EXPECT_EQ(value("Access Control List (acl)"), "A::OWNER@:rwdtTaAo, A:G:GROUP@:rwtT");
  EXPECT_EQ(value("Layout Type (unknown, POSIX, HDF5) (layout_type)"), "POSIX");
  EXPECT_EQ(value("Layout Version (layout_version)"), "1");
  EXPECT_EQ(value("Dedupe Threshold (dedup_threshold)"), "4.0 KiB");
  EXPECT_EQ(value("Chunk Size (chunk_size)"), "2.0 MiB");
  EXPECT_EQ(value("File Object Class (file_oclass)"), "EC_16P3GX");
  EXPECT_EQ(value("Directory Object Class (dir_oclass)"), "RP_4G1");
  EXPECT_EQ(value("Object Class (oclass)"), "not set");
  // Rows are sorted by key, as DAOS lists them.
  std::vector<std::string> keys;
  for (const auto& [n, v] : rows) {
    const size_t open = n.rfind('(');
    keys.push_back(n.substr(open + 1, n.size() - open - 2));
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  p.status = ContStatus::kUnclean;
  EXPECT_EQ(describe(p).back(),
            (std::pair<std::string, std::string>{"Health (status)", "UNCLEAN"}));
}

ContainerProps busy_props() {
  ContainerProps p;
  EXPECT_TRUE(apply_properties(&p,
                               "label:c1,rd_fac:2,ec_cell_sz:64KiB,cksum:crc64,srv_cksum:on,"
                               "cksum_size:16KiB,chunk_size:4MiB,oclass:EC_4P2G8,"
                               "file_oclass:EC_8P2GX,dir_oclass:RP_3G1,rd_lvl:node")
                  .ok());
  p.type = ContType::kHdf5;
  p.owner = "bob@";
  p.group = "grp@";
  p.acl = "A::OWNER@:rwdtTaAo";
  p.status = ContStatus::kUnclean;
  p.layout_version = 3;
  p.alloc_oid = 0x123456789ull;
  p.max_snapshot = 7;
  return p;
}

TEST(PlacementProps, EncodeDecodeRoundTrip) {
  for (const ContainerProps& p : {ContainerProps(), busy_props()}) {
    const std::string b = encode(p);
    auto d = decode_props(b);
    ASSERT_TRUE(d.ok()) << d.status().to_string();
    EXPECT_EQ(*d, p);
    EXPECT_EQ(encode(*d), b);
  }
}

TEST(PlacementProps, DecodeDetectsCorruption) {
  const std::string good = encode(busy_props());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string b = good;
    b[i] = static_cast<char>(b[i] ^ 0x10);
    auto d = decode_props(b);
    ASSERT_FALSE(d.ok()) << "flip at " << i;
    EXPECT_EQ(d.status().code(), EDAOS_FORMAT);
  }
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(decode_props(good.substr(0, n)).status().code(), EDAOS_FORMAT) << n;
  std::string b = good;
  b[4] = 9;
  EXPECT_NE(decode_props(b).status().message().find("unknown format version 9"), std::string::npos);
  EXPECT_NE(decode_props("EDPM" + good.substr(4)).status().message().find("bad magic"),
            std::string::npos);
}

TEST(PlacementProps, ContTypeNames) {
  EXPECT_STREQ(cont_type_name(ContType::kPosix), "POSIX");
  EXPECT_EQ(parse_cont_type("posix").value(), ContType::kPosix);
  EXPECT_EQ(parse_cont_type("HDF5").value(), ContType::kHdf5);
  EXPECT_EQ(parse_cont_type("unknown").value(), ContType::kUnknown);
  EXPECT_EQ(parse_cont_type("python").status().code(), EDAOS_INVAL);
}

}  // namespace
}  // namespace edaos::objstore

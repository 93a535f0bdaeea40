// The persisted bytes of the pool map ("EDPM") and of container properties ("EDCP"), fixed:
// the hex below was produced by the encoders before they moved onto the base layer's codec
// (main b920cac, placement/wire.cpp), so a change of the byte format fails here, not in a pool
// written by an older build.
#include <gtest/gtest.h>

#include <string>

#include "edaos/objstore/pool_map.hpp"
#include "edaos/objstore/props.hpp"

namespace edaos::objstore {
namespace {

std::string hex(const std::string& s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += kDigits[c >> 4];
    h += kDigits[c & 15];
  }
  return h;
}

std::string unhex(const std::string& h) {
  std::string s;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return s;
}

const char kPoolMapHex[] =
    "4544504d01000000ab00000007000000a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0b000000676f6c64"
    "656e2d706f6f6c0600000000000000000000000400000000050000006e6f64653001000000000000"
    "000400000000050000006e6f64653002000000010000000400000000050000006e6f646531030000"
    "00010000000400000001050000006e6f64653104000000020000000400000000050000006e6f6465"
    "3205000000020000000400000000050000006e6f64653221143b30";

const char kPropsHex[] =
    "4544435001000000fa000000010006000000676f6c64656e02000800000001000000000000000300"
    "08000000000020000000000004000800000000000200000000000500080000000100000000000000"
    "06000800000001000000000000000700080000000100000000000000080008000000008000000000"
    "000009000800000001000000000000000a000800000045435f32503147310b000600000052505f32"
    "47310c000600000052505f3347310d00000000000e00000000000f00000000001000080000000000"
    "00000000000011000800000001000000000000001200080000003930000000000000130008000000"
    "0010000000000000140008000000000000000000000068c7a2b1";

PoolMap golden_map() {
  PoolMap m = PoolMap::uniform(3, 2, 4);
  m.version = 7;
  m.label = "golden-pool";
  for (int i = 0; i < 16; ++i) m.pool_uuid.b[i] = static_cast<uint8_t>(0xa0 + i);
  m.engines[3].state = EngineState::kDown;
  return m;
}

ContainerProps golden_props() {
  ContainerProps p;
  Status st = apply_properties(&p,
                               "label:golden,rd_fac:1,ec_cell_sz:131072,cksum:crc32,srv_cksum:on,"
                               "oclass:EC_2P1G1,file_oclass:RP_2G1,dir_oclass:RP_3G1,"
                               "chunk_size:2097152");
  EXPECT_TRUE(st.ok()) << st.message();
  p.alloc_oid = 12345;
  return p;
}

TEST(PlacementGolden, PoolMapBytesAreUnchanged) {
  EXPECT_EQ(hex(golden_map().encode()), kPoolMapHex);
  auto d = PoolMap::decode(unhex(kPoolMapHex));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d.value().encode(), unhex(kPoolMapHex));
  EXPECT_EQ(d.value().label, "golden-pool");
  EXPECT_EQ(d.value().engines[3].state, EngineState::kDown);
}

TEST(PlacementGolden, PropertyBytesAreUnchanged) {
  const ContainerProps p = golden_props();
  EXPECT_EQ(hex(encode(p)), kPropsHex);
  auto d = decode_props(unhex(kPropsHex));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d.value() == p);
}

}  // namespace
}  // namespace edaos::objstore

// Pool map accounting, binary encoding and corruption detection.
#include <gtest/gtest.h>

#include <string>

#include "edaos/objstore/pool_map.hpp"
#include "placement/wire_internal.hpp"

namespace edaos::objstore {
namespace {

PoolMap sample_map() {
  PoolMap m = PoolMap::uniform(3, 2, 4);
  m.version = 42;
  m.pool_uuid = Uuid::parse("0f3c2a1e-5b6d-4c7e-8f90-a1b2c3d4e5f6").value();
  m.label = "tank";
  m.engines[1].state = EngineState::kDown;
  m.engines[5].ntargets = 7;
  m.engines[3].domain_name = "x4405c0s0b0n0";
  return m;
}

bool same(const PoolMap& a, const PoolMap& b) {
  if (a.version != b.version || a.pool_uuid != b.pool_uuid || a.label != b.label ||
      a.engines.size() != b.engines.size())
    return false;
  for (size_t i = 0; i < a.engines.size(); ++i) {
    const auto &x = a.engines[i], &y = b.engines[i];
    if (x.id != y.id || x.domain != y.domain || x.domain_name != y.domain_name ||
        x.ntargets != y.ntargets || x.state != y.state)
      return false;
  }
  return true;
}

TEST(PlacementPoolMap, Counts) {
  const PoolMap m = sample_map();
  EXPECT_EQ(m.num_engines(), 6u);
  EXPECT_EQ(m.num_domains(), 3u);
  EXPECT_EQ(m.num_targets(), 5u * 4 + 7);
  EXPECT_EQ(m.num_up(), 5u);
  EXPECT_TRUE(m.validate().ok());
  EXPECT_EQ(m.engines[2].domain, 1u);
  EXPECT_EQ(m.engines[2].domain_name, "node1");
}

TEST(PlacementPoolMap, ValidateNamesTheEngine) {
  PoolMap m = sample_map();
  m.engines[4].id = 9;
  Status st = m.validate();
  EXPECT_EQ(st.code(), EDAOS_INVAL);
  EXPECT_NE(st.message().find("index 4 has id 9"), std::string::npos) << st.message();
  m = sample_map();
  m.engines[2].ntargets = 0;
  st = m.validate();
  EXPECT_NE(st.message().find("engine 2 has no targets"), std::string::npos) << st.message();
  EXPECT_EQ(PoolMap().validate().code(), EDAOS_NOENGINE);
}

TEST(PlacementPoolMap, EncodeDecodeRoundTrip) {
  const PoolMap m = sample_map();
  const std::string bytes = m.encode();
  auto d = PoolMap::decode(bytes);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_TRUE(same(m, *d));
  EXPECT_EQ(d->encode(), bytes);
  // An empty map (a pool being created) round-trips too.
  auto e = PoolMap::decode(PoolMap().encode());
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(e->num_engines(), 0u);
}

TEST(PlacementPoolMap, EncodingIsGolden) {
  PoolMap m = PoolMap::uniform(1, 1, 2);
  const std::string b = m.encode();
  // magic, version 1, flags 0, payload length
  EXPECT_EQ(b.substr(0, 8), std::string("EDPM\x01\x00\x00\x00", 8));
  EXPECT_EQ(b.size(), 12u + (4 + 16 + 4 + 4 + (4 + 4 + 4 + 1 + 4 + 5)) + 4);
}

TEST(PlacementPoolMap, DetectsCorruption) {
  const std::string good = sample_map().encode();
  // Every single-bit flip anywhere is caught (magic, version, length or checksum).
  for (size_t i = 0; i < good.size(); ++i)
    for (int bit = 0; bit < 8; bit += 3) {
      std::string b = good;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      auto d = PoolMap::decode(b);
      ASSERT_FALSE(d.ok()) << "flip at byte " << i << " bit " << bit;
      EXPECT_EQ(d.status().code(), EDAOS_FORMAT);
    }
  // Every truncation is caught.
  for (size_t n = 0; n < good.size(); ++n) {
    auto d = PoolMap::decode(good.substr(0, n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.status().code(), EDAOS_FORMAT);
    EXPECT_NE(d.status().message().find("truncated"), std::string::npos)
        << n << ": " << d.status().message();
  }
}

TEST(PlacementPoolMap, DecodeMessages) {
  const std::string good = sample_map().encode();
  std::string b = good;
  b[0] = 'X';
  EXPECT_NE(PoolMap::decode(b).status().message().find("bad magic"), std::string::npos);
  b = good;
  b[4] = 2;
  EXPECT_NE(PoolMap::decode(b).status().message().find("unknown format version 2"),
            std::string::npos);
  b = good;
  b[20] = static_cast<char>(b[20] ^ 0x40);
  EXPECT_NE(PoolMap::decode(b).status().message().find("checksum mismatch"), std::string::npos);
  EXPECT_NE(PoolMap::decode(good + "x").status().message().find("trailing"), std::string::npos);
  // A well-formed record whose engines break the rules is still refused.
  PoolMap m = sample_map();
  m.engines[3].id = 0;
  auto d = PoolMap::decode(m.encode());
  EXPECT_EQ(d.status().code(), EDAOS_FORMAT);
  EXPECT_NE(d.status().message().find("index 3 has id 0"), std::string::npos);
}

TEST(PlacementWire, Crc32KnownVector) {
  EXPECT_EQ(wire::crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(wire::crc32("", 0), 0u);
  // Incremental == one-shot.
  EXPECT_EQ(wire::crc32("6789", 4, wire::crc32("12345", 5)), 0xCBF43926u);
}

TEST(PlacementWire, JumpHashIsConsistent) {
  // Known values from the paper's reference algorithm.
  EXPECT_EQ(wire::jump_hash(0, 1), 0u);
  EXPECT_EQ(wire::jump_hash(1, 1), 0u);
  // Growing n by one moves keys only into the new bucket, about 1/(n+1) of them.
  int moved = 0;
  for (uint64_t k = 0; k < 20000; ++k) {
    const uint64_t key = wire::mix64(k);
    const uint32_t a = wire::jump_hash(key, 10), b = wire::jump_hash(key, 11);
    ASSERT_LT(a, 10u);
    if (a != b) {
      EXPECT_EQ(b, 10u);
      ++moved;
    }
  }
  EXPECT_NEAR(moved, 20000 / 11, 300);
}

}  // namespace
}  // namespace edaos::objstore

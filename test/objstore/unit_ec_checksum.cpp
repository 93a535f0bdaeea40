// Checksum unit tests: catalogue check values, both implementations against each other on
// random data of many lengths and alignments, and the chaining (seed) contract.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ec/checksum.hpp"
#include "unit_ec_support.hpp"

namespace edaos::objstore::ec {
namespace {

using testing::SplitMix64;

const CsumType kTypes[] = {CsumType::kCrc32, CsumType::kCrc32c, CsumType::kCrc64};

std::vector<Backend> backends() {
  std::vector<Backend> b{Backend::kReference};
  if (isal_available()) b.push_back(Backend::kIsal);
  return b;
}

TEST(EcChecksum, CatalogueCheckValues) {
  const char* s = "123456789";
  for (Backend b : backends()) {
    SCOPED_TRACE(backend_name(b));
    EXPECT_EQ(0xCBF43926u, csum_compute_with(b, CsumType::kCrc32, s, 9));
    EXPECT_EQ(0xE3069283u, csum_compute_with(b, CsumType::kCrc32c, s, 9));
    EXPECT_EQ(0x995DC9BBDF1939FAull, csum_compute_with(b, CsumType::kCrc64, s, 9));
    EXPECT_EQ(0u, csum_compute_with(b, CsumType::kOff, s, 9));
    // More published vectors: zlib crc32 of the pangram, RFC 3720 B.4 (32 zero bytes).
    const char* fox = "The quick brown fox jumps over the lazy dog";
    EXPECT_EQ(0x414FA339u, csum_compute_with(b, CsumType::kCrc32, fox, std::strlen(fox)));
    const uint8_t zeros[32] = {};
    EXPECT_EQ(0x8A9136AAu, csum_compute_with(b, CsumType::kCrc32c, zeros, 32));
    uint8_t ones[32];
    std::memset(ones, 0xff, 32);
    EXPECT_EQ(0x62A8AB43u, csum_compute_with(b, CsumType::kCrc32c, ones, 32));
  }
  EXPECT_EQ(0xCBF43926u, csum_compute(CsumType::kCrc32, s, 9));
  EXPECT_EQ(0xE3069283u, csum_compute(CsumType::kCrc32c, s, 9));
  EXPECT_EQ(0x995DC9BBDF1939FAull, csum_compute(CsumType::kCrc64, s, 9));
}

TEST(EcChecksum, SizesAndOff) {
  EXPECT_EQ(0u, csum_size(CsumType::kOff));
  EXPECT_EQ(4u, csum_size(CsumType::kCrc32));
  EXPECT_EQ(4u, csum_size(CsumType::kCrc32c));
  EXPECT_EQ(8u, csum_size(CsumType::kCrc64));
  EXPECT_EQ(0u, csum_compute(CsumType::kOff, "abc", 3, 1234));
}

TEST(EcChecksum, EmptyInputReturnsSeed) {
  for (CsumType t : kTypes) {
    EXPECT_EQ(0u, csum_compute(t, nullptr, 0));
    EXPECT_EQ(0x12345678u, csum_compute(t, nullptr, 0, 0x12345678u));
  }
  // 32-bit types use only the low 32 bits of the seed.
  EXPECT_EQ(0x9abcdef0u, csum_compute(CsumType::kCrc32c, nullptr, 0, 0x123456789abcdef0ull));
}

TEST(EcChecksum, ValuesFitTheirSize) {
  std::vector<uint8_t> buf(1000);
  SplitMix64 rng(1);
  rng.fill(buf.data(), buf.size());
  EXPECT_LE(csum_compute(CsumType::kCrc32, buf.data(), buf.size(), ~0ull), 0xffffffffull);
  EXPECT_LE(csum_compute(CsumType::kCrc32c, buf.data(), buf.size(), ~0ull), 0xffffffffull);
}

TEST(EcChecksum, BackendsAgreeOnRandomData) {
  if (!isal_available()) GTEST_SKIP() << "only the portable implementation is compiled in";
  SplitMix64 rng(0xC5C5);
  std::vector<uint8_t> buf(300000 + 64);
  rng.fill(buf.data(), buf.size());
  std::vector<size_t> lens;
  for (size_t n = 0; n <= 600; n++) lens.push_back(n);
  for (size_t n : {1023, 1024, 1025, 4095, 4096, 4099, 65535, 65536, 65537, 300000}) {
    lens.push_back(n);
  }
  for (CsumType t : kTypes) {
    for (size_t n : lens) {
      const size_t off = rng.below(64);
      const uint64_t seed = (n % 3 == 0) ? 0 : rng.next();
      ASSERT_EQ(csum_compute_with(Backend::kReference, t, buf.data() + off, n, seed),
                csum_compute_with(Backend::kIsal, t, buf.data() + off, n, seed))
          << csum_type_name(t) << " len " << n << " off " << off << " seed " << seed;
    }
  }
}

TEST(EcChecksum, ChainingEqualsOneShot) {
  SplitMix64 rng(77);
  std::vector<uint8_t> buf(777);
  rng.fill(buf.data(), buf.size());
  for (Backend b : backends()) {
    for (CsumType t : kTypes) {
      for (uint64_t seed0 : {uint64_t{0}, uint64_t{0xdeadbeefcafef00d}}) {
        const uint64_t whole = csum_compute_with(b, t, buf.data(), buf.size(), seed0);
        for (size_t cut = 0; cut <= buf.size(); cut += (cut < 40 ? 1 : 37)) {
          const uint64_t a = csum_compute_with(b, t, buf.data(), cut, seed0);
          ASSERT_EQ(whole, csum_compute_with(b, t, buf.data() + cut, buf.size() - cut, a))
              << csum_type_name(t) << " cut " << cut << " backend " << backend_name(b);
        }
        // Three pieces.
        uint64_t c = csum_compute_with(b, t, buf.data(), 100, seed0);
        c = csum_compute_with(b, t, buf.data() + 100, 1, c);
        c = csum_compute_with(b, t, buf.data() + 101, buf.size() - 101, c);
        ASSERT_EQ(whole, c);
      }
    }
  }
}

TEST(EcChecksum, DetectsSingleBitFlips) {
  std::vector<uint8_t> buf(4099);
  SplitMix64 rng(4);
  rng.fill(buf.data(), buf.size());
  for (CsumType t : kTypes) {
    const uint64_t good = csum_compute(t, buf.data(), buf.size());
    for (int n = 0; n < 64; n++) {
      const size_t bit = rng.below(buf.size() * 8);
      buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      EXPECT_NE(good, csum_compute(t, buf.data(), buf.size())) << csum_type_name(t);
      buf[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    }
  }
}

}  // namespace
}  // namespace edaos::objstore::ec

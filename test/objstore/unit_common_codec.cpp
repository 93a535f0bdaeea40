// The base layer's codec (objstore/src/common/codec.hpp): exact little-endian bytes, the
// bounds-checked decoder on every truncation, the CRC check values and chaining, the record
// frame and each of its errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/codec.hpp"

namespace codec = edaos::codec;

namespace {

std::string bytes_of(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// Bit-at-a-time reflected CRC with init = xorout = all ones: the definition, for comparison
// with the table-driven code.
uint64_t crc_bitwise(uint64_t poly, int width, const std::string& data) {
  const uint64_t mask = width == 64 ? ~0ull : (1ull << width) - 1;
  uint64_t c = mask;
  for (unsigned char b : data) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
  }
  return ~c & mask;
}

enum class Small : uint8_t { kA = 7 };
enum class Wide : uint32_t { kB = 0x01020304 };

}  // namespace

TEST(Codec, FixedWidthIntegersAreLittleEndian) {
  codec::Encoder e;
  e.u8(0x01).u16(0x0302).u32(0x07060504).u64(0x0f0e0d0c0b0a0908ull);
  e.le(int32_t{-2}).le(Small::kA).le(Wide::kB).le(true);
  EXPECT_EQ(e.buf(), bytes_of({1,    2,    3,    4,    5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,  //
                               0xfe, 0xff, 0xff, 0xff, 7, 4, 3, 2, 1, 1}));
  char p[8];
  codec::store_le<uint64_t>(p, 0x8877665544332211ull);
  EXPECT_EQ(std::string(p, 8), bytes_of({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}));
  EXPECT_EQ(codec::load_le<uint64_t>(p), 0x8877665544332211ull);
  EXPECT_EQ(codec::load_le<uint16_t>(p), 0x2211u);
  EXPECT_EQ(codec::load_le<int32_t>(e.buf().data() + 15), -2);
}

TEST(Codec, StringsArePrefixedWithTheirLength) {
  codec::Encoder e;
  e.str32("ab").str64("c").str32("");
  EXPECT_EQ(e.buf(), bytes_of({2, 0, 0, 0, 'a', 'b', 1, 0, 0, 0, 0, 0, 0, 0, 'c', 0, 0, 0, 0}));
  codec::Decoder d(e.buf());
  std::string a, b, c;
  EXPECT_TRUE(d.str32(&a));
  EXPECT_TRUE(d.str64(&b));
  EXPECT_TRUE(d.str32(&c));
  EXPECT_EQ(a, "ab");
  EXPECT_EQ(b, "c");
  EXPECT_EQ(c, "");
  EXPECT_TRUE(d.ok());
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(Codec, PatchOverwritesFourBytes) {
  codec::Encoder e;
  e.u32(0).u8(9);
  e.patch_u32(0, 0x04030201);
  EXPECT_EQ(e.take(), bytes_of({1, 2, 3, 4, 9}));
}

TEST(Codec, EveryTruncationFailsTheDecoderForGood) {
  codec::Encoder e;
  e.u8(1).u16(2).u32(3).u64(4).str32("hello").str64("world").bytes("xyz", 3);
  const std::string full = e.take();
  for (size_t n = 0; n <= full.size(); ++n) {
    // A copy of exactly n bytes, so a read past it is an ASan error, not a silent one.
    std::vector<char> buf(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    codec::Decoder d(buf.data(), buf.size());
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0;
    uint64_t f = 0;
    std::string s, t;
    char x[3];
    const bool all = d.u8(&a) && d.u16(&b) && d.u32(&c) && d.u64(&f) && d.str32(&s) &&
                     d.str64(&t) && d.bytes(x, 3);
    EXPECT_EQ(all, n == full.size()) << n;
    EXPECT_EQ(d.ok(), n == full.size()) << n;
    if (!d.ok()) {
      EXPECT_EQ(d.remaining(), 0u) << n;
      EXPECT_EQ(d.offset(), n) << n;
      // Sticky: a read that would fit the bytes left before the failure fails too.
      uint8_t y = 0;
      EXPECT_FALSE(d.u8(&y));
      EXPECT_EQ(d.get<uint32_t>(), 0u);
    } else {
      EXPECT_EQ(s, "hello");
      EXPECT_EQ(t, "world");
      EXPECT_EQ(f, 4u);
    }
  }
}

TEST(Codec, LengthsAreNotTrusted) {
  // A u32 length far beyond the input, and one above the caller's limit.
  const std::string huge = bytes_of({0xff, 0xff, 0xff, 0x7f, 'a'});
  codec::Decoder d(huge);
  std::string s;
  EXPECT_FALSE(d.str32(&s));
  EXPECT_FALSE(d.ok());
  const std::string three = bytes_of({3, 0, 0, 0, 'a', 'b', 'c'});
  codec::Decoder lim(three);
  EXPECT_FALSE(lim.str32(&s, 2));
  codec::Decoder fits(three);
  EXPECT_TRUE(fits.str32(&s, 3));
  EXPECT_EQ(s, "abc");
  const std::string huge64 = bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'a'});
  codec::Decoder d64(huge64);
  EXPECT_FALSE(d64.str64(&s));
  codec::Decoder sk(three);
  EXPECT_FALSE(sk.skip(8));
  EXPECT_FALSE(sk.ok());
}

TEST(Codec, CrcCheckValues) {
  const std::string check = "123456789";
  EXPECT_EQ(codec::crc32(check.data(), check.size()), 0xCBF43926u);
  EXPECT_EQ(codec::crc32c(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(codec::crc64(check.data(), check.size()), 0x995DC9BBDF1939FAull);
  EXPECT_EQ(codec::crc32(nullptr, 0), 0u);
  EXPECT_EQ(codec::crc32(nullptr, 0, 0x12345678u), 0x12345678u);
  EXPECT_EQ(codec::crc64(nullptr, 0, 42), 42u);
}

TEST(Codec, CrcsMatchTheDefinitionAndChainAtEverySplit) {
  std::string data;
  uint32_t x = 1;
  for (int i = 0; i < 77; ++i) {  // odd length: the slicing and the byte loop both run
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 16));
  }
  for (size_t off = 0; off < 9; ++off) {  // every alignment of the 8-byte loop
    const std::string d = data.substr(off);
    EXPECT_EQ(codec::crc32(d.data(), d.size()), crc_bitwise(0xEDB88320u, 32, d)) << off;
    EXPECT_EQ(codec::crc32c(d.data(), d.size()), crc_bitwise(0x82F63B78u, 32, d)) << off;
    EXPECT_EQ(codec::crc64(d.data(), d.size()), crc_bitwise(0xC96C5795D7870F42ull, 64, d)) << off;
  }
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    const char* p = data.data();
    const size_t n = data.size();
    EXPECT_EQ(codec::crc32(p + cut, n - cut, codec::crc32(p, cut)), codec::crc32(p, n)) << cut;
    EXPECT_EQ(codec::crc32c(p + cut, n - cut, codec::crc32c(p, cut)), codec::crc32c(p, n));
    EXPECT_EQ(codec::crc64(p + cut, n - cut, codec::crc64(p, cut)), codec::crc64(p, n));
  }
}

TEST(Codec, FrameBytesAreFixed) {
  static const char kMagic[4] = {'T', 'E', 'S', 'T'};
  codec::Encoder e;
  codec::frame_begin(&e, kMagic, 1);
  e.bytes("abc", 3);
  codec::frame_end(&e);
  // magic | u16 1 | u16 0 | u32 3 | "abc" | CRC-32 of the 15 bytes before (zlib: 0xa7127c6b)
  EXPECT_EQ(e.buf(), bytes_of({'T', 'E', 'S', 'T', 1, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c',  //
                               0x6b, 0x7c, 0x12, 0xa7}));
  std::string_view payload;
  ASSERT_TRUE(codec::frame_open(e.buf(), kMagic, 1, "test record", "a test record", &payload).ok());
  EXPECT_EQ(payload, "abc");
}

TEST(Codec, FrameErrorsNameTheRecordAndTheReason) {
  static const char kMagic[4] = {'T', 'E', 'S', 'T'};
  codec::Encoder e;
  codec::frame_begin(&e, kMagic, 1);
  e.str32("payload");
  codec::frame_end(&e);
  const std::string good = e.take();
  auto why = [&](const std::string& b) {
    std::string_view p;
    edaos::Status st = codec::frame_open(b, kMagic, 1, "test record", "a test record", &p);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), EDAOS_FORMAT) << st.message();
    }
    return st.ok() ? std::string("OK") : st.message();
  };
  EXPECT_EQ(why(good.substr(0, 5)),
            "test record: truncated (5 bytes, a test record has at least 16)");
  EXPECT_EQ(why("XEST" + good.substr(4)), "test record: bad magic (not a test record)");
  std::string v2 = good;
  v2[4] = 2;
  EXPECT_EQ(why(v2), "test record: unknown format version 2 (this build reads 1)");
  EXPECT_EQ(why(good.substr(0, good.size() - 1)),
            "test record: truncated (26 bytes, header says 27)");
  EXPECT_EQ(why(good + "xyz"), "test record: 3 trailing bytes after the checksum");
  // Every single flipped bit is caught (magic, format and length by their own checks, the
  // rest by the CRC).
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string b = good;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      EXPECT_NE(why(b), "OK") << i << ":" << bit;
    }
  }
  std::string flipped = good;
  flipped[14] ^= 1;
  EXPECT_EQ(why(flipped).rfind("test record: checksum mismatch (stored 0x", 0), 0u) << why(flipped);
  EXPECT_EQ(why(good), "OK");
}

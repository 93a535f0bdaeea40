// The base layer's CRCs (portable slicing-by-8) and the record frame; see codec.hpp.
#include "common/codec.hpp"

#include <cinttypes>
#include <cstdio>

namespace edaos::codec {
namespace {

// Slicing-by-8 tables for a reflected CRC of width <= 64. t[0] is the classic byte table;
// t[n][b] is the CRC of byte b followed by n zero bytes. The same update serves 32- and 64-bit
// CRCs because a reflected 32-bit state lives in the low half of the word.
struct Slice8 {
  uint64_t t[8][256];
  explicit Slice8(uint64_t poly) {
    for (uint64_t b = 0; b < 256; b++) {
      uint64_t c = b;
      for (int i = 0; i < 8; i++) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
      t[0][b] = c;
    }
    for (int n = 1; n < 8; n++) {
      for (int b = 0; b < 256; b++) t[n][b] = (t[n - 1][b] >> 8) ^ t[0][t[n - 1][b] & 0xff];
    }
  }

  // Raw (not finalized) state update.
  uint64_t update(uint64_t crc, const uint8_t* p, size_t len) const {
    for (; len >= 8; p += 8, len -= 8) {
      const uint64_t w = load_le<uint64_t>(reinterpret_cast<const char*>(p)) ^ crc;
      crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
            t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
            t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    }
    for (; len > 0; p++, len--) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
    return crc;
  }
};

// Reflected polynomials.
const Slice8& crc32_table() {
  static const Slice8 t(0xEDB88320u);
  return t;
}
const Slice8& crc32c_table() {
  static const Slice8 t(0x82F63B78u);
  return t;
}
const Slice8& crc64_table() {
  static const Slice8 t(0xC96C5795D7870F42ull);
  return t;
}

uint32_t crc32_with(const Slice8& t, const void* data, size_t len, uint32_t seed) {
  if (len == 0) return seed;
  const uint64_t raw = t.update(~seed & 0xffffffffu, static_cast<const uint8_t*>(data), len);
  return static_cast<uint32_t>(~raw);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

}  // namespace

uint32_t crc32(const void* data, size_t len, uint32_t seed) {
  return crc32_with(crc32_table(), data, len, seed);
}

uint32_t crc32c(const void* data, size_t len, uint32_t seed) {
  return crc32_with(crc32c_table(), data, len, seed);
}

uint64_t crc64(const void* data, size_t len, uint64_t seed) {
  if (len == 0) return seed;
  return ~crc64_table().update(~seed, static_cast<const uint8_t*>(data), len);
}

void frame_begin(Encoder* e, const char (&magic)[4], uint16_t format) {
  e->bytes(magic, 4).u16(format).u16(0).u32(0);
}

void frame_end(Encoder* e) {
  e->patch_u32(8, static_cast<uint32_t>(e->size() - kFrameHeaderBytes));
  e->u32(crc32(e->buf().data(), e->size()));
}

Status frame_open(std::string_view bytes, const char (&magic)[4], uint16_t format,
                  std::string_view what, std::string_view noun, std::string_view* payload) {
  auto bad = [&](const std::string& why) {
    return Status(EDAOS_FORMAT, std::string(what) + ": " + why);
  };
  constexpr size_t kMin = kFrameHeaderBytes + kFrameTrailerBytes;
  if (bytes.size() < kMin)
    return bad("truncated (" + std::to_string(bytes.size()) + " bytes, " + std::string(noun) +
               " has at least " + std::to_string(kMin) + ")");
  if (bytes.compare(0, 4, std::string_view(magic, 4)) != 0)
    return bad("bad magic (not " + std::string(noun) + ")");
  Decoder hdr(bytes.data() + 4, kFrameHeaderBytes - 4);
  const uint16_t fmt = hdr.get<uint16_t>();
  hdr.skip(2);  // flags
  const uint32_t plen = hdr.get<uint32_t>();
  if (fmt != format)
    return bad("unknown format version " + std::to_string(fmt) + " (this build reads " +
               std::to_string(format) + ")");
  const size_t need = kMin + static_cast<size_t>(plen);
  if (bytes.size() < need)
    return bad("truncated (" + std::to_string(bytes.size()) + " bytes, header says " +
               std::to_string(need) + ")");
  if (bytes.size() > need)
    return bad(std::to_string(bytes.size() - need) + " trailing bytes after the checksum");
  const uint32_t stored = load_le<uint32_t>(bytes.data() + need - kFrameTrailerBytes);
  const uint32_t computed = crc32(bytes.data(), need - kFrameTrailerBytes);
  if (stored != computed)
    return bad("checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) +
               ")");
  *payload = bytes.substr(kFrameHeaderBytes, plen);
  return Status::OK();
}

}  // namespace edaos::codec

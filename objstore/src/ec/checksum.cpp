// CRC-32, CRC-32C and CRC-64/XZ: ISA-L kernels plus portable slicing-by-8 fallbacks.
#include "ec/checksum.hpp"

#include <algorithm>
#include <climits>
#include <cstring>

#if EDAOS_HAVE_ISAL
#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#endif

namespace edaos::objstore::ec {
namespace {

// Reflected polynomials.
constexpr uint64_t kPolyCrc32 = 0xEDB88320u;
constexpr uint64_t kPolyCrc32c = 0x82F63B78u;
constexpr uint64_t kPolyCrc64 = 0xC96C5795D7870F42ull;

// Slicing-by-8 tables for a reflected CRC of width <= 64. t[0] is the classic byte table;
// t[n][b] is the CRC of byte b followed by n zero bytes. The same update formula serves 32-
// and 64-bit CRCs because a reflected 32-bit state lives in the low half of the word.
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

  // Raw (non-finalized) state update.
  uint64_t update(uint64_t crc, const uint8_t* p, size_t len) const {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; len >= 8; p += 8, len -= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      w ^= crc;
      crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
            t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
            t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    }
#endif
    for (; len > 0; p++, len--) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xff];
    return crc;
  }
};

const Slice8& table(CsumType t) {
  static const Slice8 crc32(kPolyCrc32), crc32c(kPolyCrc32c), crc64(kPolyCrc64);
  switch (t) {
    case CsumType::kCrc32:
      return crc32;
    case CsumType::kCrc32c:
      return crc32c;
    default:
      return crc64;
  }
}

uint64_t portable(CsumType t, const uint8_t* p, size_t len, uint64_t seed) {
  if (t == CsumType::kCrc64) return ~table(t).update(~seed, p, len);
  const uint64_t mask = 0xffffffffu;
  return ~table(t).update(~seed & mask, p, len) & mask;
}

#if EDAOS_HAVE_ISAL
uint64_t isal(CsumType t, const uint8_t* p, size_t len, uint64_t seed) {
  switch (t) {
    case CsumType::kCrc32:
      return crc32_gzip_refl(static_cast<uint32_t>(seed), p, len);
    case CsumType::kCrc32c: {
      // crc32_iscsi neither pre- nor post-inverts and takes an int length.
      uint32_t raw = ~static_cast<uint32_t>(seed);
      while (len > 0) {
        const size_t n = std::min(len, static_cast<size_t>(INT_MAX) & ~size_t{63});
        raw = crc32_iscsi(const_cast<uint8_t*>(p), static_cast<int>(n), raw);
        p += n;
        len -= n;
      }
      return ~raw;
    }
    case CsumType::kCrc64:
      return crc64_ecma_refl(seed, p, len);
    case CsumType::kOff:
      break;
  }
  return 0;
}
#endif

}  // namespace

size_t csum_size(CsumType t) {
  switch (t) {
    case CsumType::kOff:
      return 0;
    case CsumType::kCrc32:
    case CsumType::kCrc32c:
      return 4;
    case CsumType::kCrc64:
      return 8;
  }
  return 0;
}

uint64_t csum_compute_with(Backend b, CsumType t, const void* data, size_t len, uint64_t seed) {
  if (t != CsumType::kCrc32 && t != CsumType::kCrc32c && t != CsumType::kCrc64) return 0;
  if (t != CsumType::kCrc64) seed &= 0xffffffffu;
  if (len == 0) return seed;
  const auto* p = static_cast<const uint8_t*>(data);
#if EDAOS_HAVE_ISAL
  if (b != Backend::kReference) return isal(t, p, len, seed);
#else
  (void)b;
#endif
  return portable(t, p, len, seed);
}

uint64_t csum_compute(CsumType t, const void* data, size_t len, uint64_t seed) {
  return csum_compute_with(Backend::kAuto, t, data, len, seed);
}

}  // namespace edaos::objstore::ec

// CRC-32, CRC-32C and CRC-64/XZ: ISA-L kernels, else the base layer's portable CRCs.
#include "ec/checksum.hpp"

#include <algorithm>
#include <climits>

#include "common/codec.hpp"

#if EDAOS_HAVE_ISAL
#include <isa-l/crc.h>
#include <isa-l/crc64.h>
#endif

namespace edaos::objstore::ec {
namespace {

// The portable backend is the base layer's CRCs (common/codec.hpp): one implementation of each
// algorithm in edaos; this file adds only the ISA-L kernels and the choice between them.
uint64_t portable(CsumType t, const uint8_t* p, size_t len, uint64_t seed) {
  switch (t) {
    case CsumType::kCrc32:
      return codec::crc32(p, len, static_cast<uint32_t>(seed));
    case CsumType::kCrc32c:
      return codec::crc32c(p, len, static_cast<uint32_t>(seed));
    case CsumType::kCrc64:
      return codec::crc64(p, len, seed);
    case CsumType::kOff:
      break;
  }
  return 0;
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

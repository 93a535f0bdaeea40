// Data checksums of the object store (`cksum` container property), edaos_os_ec.
//
// Every algorithm is a reflected CRC with init = xorout = all ones, i.e. the usual "finalized"
// form; csum_compute returns the finalized value in the low csum_size() bytes:
//
//   type     definition (Rocksoft/CRC catalogue name)       "123456789"          ISA-L routine
//   kCrc32   CRC-32 (zlib, gzip, Ethernet), poly 0x04C11DB7   0xCBF43926           crc32_gzip_refl
//   kCrc32c  CRC-32C (Castagnoli, iSCSI), poly 0x1EDC6F41    0xE3069283 ~crc32_iscsi(~seed) kCrc64
//   CRC-64/XZ = ECMA-182 poly 0x42F0E1EBA9EA3693,   0x995DC9BBDF1939FA   crc64_ecma_refl
//            reflected, init/xorout all ones
//   kOff     no checksum: always 0
//
// Seed: 0 starts a new checksum. Passing the result of a previous call as the seed continues it
// (chaining), so for any split of a buffer into a|b:
//   csum_compute(t, ab, seed0) == csum_compute(t, b, csum_compute(t, a, seed0))
// and csum_compute(t, nullptr, 0, s) == s. This is zlib's crc32(crc, buf, len) convention. For
// the 32-bit types only the low 32 bits of the seed are used.
//
// The ISA-L routines (when compiled in) and the base layer's portable slicing-by-8 CRCs
// (common/codec.hpp) give identical values; unit tests check both against each other and
// against the values above. All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ec/backend.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore::ec {

// Checksum of `len` bytes at `data` (data may be null when len is 0), chained from `seed`.
uint64_t csum_compute(CsumType t, const void* data, size_t len, uint64_t seed = 0);

// Size in bytes of a stored checksum of type t: 0 (kOff), 4 (kCrc32, kCrc32c), 8 (kCrc64).
size_t csum_size(CsumType t);

// As csum_compute, through a chosen implementation (tests, benchmarks). Backend::kIsal in a
// build without ISA-L falls back to the portable code; kAuto is what csum_compute uses.
uint64_t csum_compute_with(Backend b, CsumType t, const void* data, size_t len, uint64_t seed = 0);

}  // namespace edaos::objstore::ec

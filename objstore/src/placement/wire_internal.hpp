// Hashing helpers private to the placement component. The two records it persists (the pool
// map and container properties) are framed and encoded with the base layer's codec
// (common/codec.hpp: codec::frame_begin/frame_end/frame_open, Encoder, Decoder).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/codec.hpp"

namespace edaos::objstore::wire {

// IEEE 802.3 CRC-32 of the base layer (common/codec.hpp), under the name the placement tests
// use: crc32("123456789") == 0xCBF43926.
using codec::crc32;

// SplitMix64 finalizer (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
// 2014): maps `key` to a bucket in [0, n) so that growing n to n+1 moves only 1/(n+1) of the
// keys. Written from the paper's description. n == 0 returns 0.
uint32_t jump_hash(uint64_t key, uint32_t n);

}  // namespace edaos::objstore::wire

// Jump consistent hash (placement/wire_internal.hpp).
#include "placement/wire_internal.hpp"

namespace edaos::objstore::wire {

uint32_t jump_hash(uint64_t key, uint32_t n) {
  // Each step draws the next "jump" point from a 64-bit LCG; the bucket is the last point < n.
  int64_t b = -1, j = 0;
  while (j < static_cast<int64_t>(n)) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1ll << 31) /
                                                           static_cast<double>((key >> 33) + 1)));
  }
  return b < 0 ? 0u : static_cast<uint32_t>(b);
}

}  // namespace edaos::objstore::wire

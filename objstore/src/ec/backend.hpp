// Which implementation computes erasure codes and checksums (private to src/ec).
#pragma once

#include <cstdint>

namespace edaos::objstore::ec {

enum class Backend : uint8_t {
  kAuto = 0,       // ISA-L when compiled in, else the reference backend
  kIsal = 1,       // ISA-L SIMD kernels
  kReference = 2,  // portable table-driven code; same bytes, slower
};
// "auto", "isal", "reference".
const char* backend_name(Backend b);
// True when this build links ISA-L (EDAOS_HAVE_ISAL).
bool isal_available();

}  // namespace edaos::objstore::ec

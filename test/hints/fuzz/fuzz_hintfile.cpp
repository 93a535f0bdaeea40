// libFuzzer target: the ROMIO_HINTS parser and resolve() (see fuzz_entry.hpp).
#include "fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return edaos::hints::fuzz::hintfile_one_input(data, size);
}

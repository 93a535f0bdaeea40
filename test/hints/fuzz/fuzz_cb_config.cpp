// libFuzzer target: the cb_config_list parser and aggregator selection (see fuzz_entry.hpp).
#include "fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return edaos::hints::fuzz::cb_config_one_input(data, size);
}

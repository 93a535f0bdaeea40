// Fuzz entry points shared by the libFuzzer targets and the corpus replay in test_hints_unit.
// Each returns 0 and aborts (crash) when an invariant is broken.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edaos::hints::fuzz {

// Input = ROMIO_HINTS text. Parses it, resolves it (nprocs and host names derived from the
// input), checks the invariants of the parser and of resolve().
int hintfile_one_input(const uint8_t* data, size_t size);

// Input = [nprocs byte][cb_nodes byte][nprocs host bytes] cb_config_list text. Parses the list,
// selects aggregators, checks the invariants of the selection.
int cb_config_one_input(const uint8_t* data, size_t size);

}  // namespace edaos::hints::fuzz

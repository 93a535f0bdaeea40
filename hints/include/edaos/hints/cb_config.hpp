// cb_config_list for hints: which ranks may act as collective-buffering aggregators (and, with
// the same grammar, which ranks serve the object store: romio_edaos_server_list).
//
// The grammar and the parsed types belong to the base layer (edaos/objstore/cb_config.hpp),
// which the object store uses too, so both read a value the same way. This header adds what
// hints needs on top: adjustments reported as Warnings, and ROMIO's name for the selection.
// All functions here are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edaos/hints/warning.hpp"
#include "edaos/objstore/cb_config.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::hints {

using ::edaos::CbConfigEntry;
using ::edaos::CbConfigList;

// Parses a cb_config_list value (grammar: edaos/objstore/cb_config.hpp). Returns EDAOS_INVAL
// (message says what is wrong) for values that do not follow the grammar: empty value or entry,
// '*' followed by other characters, more than one ':', a count that is neither digits nor '*',
// quotes other than one pair around the whole value. Values wrapped in matching quotes
// and blanks around names and counts are accepted with a kAdjusted warning (ROMIO would match
// them literally and find no host) appended to `warnings` when it is not null; `key` names the
// hint in those warnings.
EDAOS_HINTS_API Result<CbConfigList> parse_cb_config_list(std::string_view text,
                                                          std::vector<Warning>* warnings = nullptr,
                                                          std::string_view key = "cb_config_list");

// Chooses aggregator ranks as ROMIO does. `rank_hosts[r]` is the processor name of rank r.
// At most min(cb_nodes, rank_hosts.size()) ranks are chosen. Entries are applied left to right:
//  - "name:N" takes the N lowest unused ranks on host `name`, then marks the host used;
//  - "*:N" walks the ranks in order; at each rank whose host is unused it takes that rank and
//    the next N-1 ranks of the same host, then marks the host used ("*:0" marks every host used);
//  - count '*' means cb_nodes.
// The result lists ranks in the order chosen (host by host, which is the order ROMIO assigns
// file domains in), without duplicates. It is empty when nothing matches.
EDAOS_HINTS_API std::vector<int> select_aggregators(const CbConfigList& list,
                                                    const std::vector<std::string>& rank_hosts,
                                                    int cb_nodes);

}  // namespace edaos::hints

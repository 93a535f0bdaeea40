// The cb_config_list grammar and ROMIO's rank selection: the base layer's part, shared by the
// object store (which ranks serve: EDAOS_SERVER_RANKS) and the hints module (which ranks
// aggregate: cb_config_list, romio_edaos_server_list), so both read a value the same way.
// Types and grammar: edaos/objstore/cb_config.hpp. The hints module wraps these functions with
// its warnings (edaos/hints/cb_config.hpp). Pure functions: no state, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "edaos/objstore/cb_config.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos {

// Parses a cb_config_list value. Returns EDAOS_INVAL (the message says what is wrong and quotes
// the value) for values that do not follow the grammar: empty value or entry, '*' followed by
// other characters, more than one ':', a count that is neither digits nor '*', blanks inside a
// host name, quotes other than one pair around the whole value.
// Blanks around names and counts and one pair of matching quotes around the whole value are
// removed (ROMIO would match them literally and find no host); when that happens and `adjusted`
// is not null, *adjusted receives why, as a clause ("quotes are not part of the cb_config_list
// grammar", "blanks are not part of host names"). Otherwise *adjusted is left unchanged.
Result<CbConfigList> parse_cb_config_list(std::string_view text, std::string* adjusted = nullptr);

// Chooses ranks as ROMIO's ADIOI_cb_config_list_parse does. `rank_hosts[r]` is the processor
// name of rank r. At most min(limit, rank_hosts.size()) ranks are chosen. Entries are applied
// left to right; a host handled by an earlier entry is not matched again:
//  - "name:N" takes the N lowest unused ranks on host `name`, then marks the host used;
//  - "*:N" walks the ranks in order; at each rank whose host is unused it takes that rank and
//    the next N-1 ranks of the same host, then marks the host used ("*:0" marks every host used);
//  - count '*' means `limit`;
//  - the value exactly "*:*" (first_ranks) takes ranks 0..limit-1.
// The result lists ranks in the order chosen (host by host, the order ROMIO assigns file
// domains in), without duplicates. It is empty when nothing matches or limit <= 0.
std::vector<int> select_cb_ranks(const CbConfigList& list,
                                 const std::vector<std::string>& rank_hosts, int limit);

}  // namespace edaos

// The cb_config_list value: which ranks may act (collective-buffering aggregators, ROMIO's
// `cb_config_list` hint; object-store servers, EDAOS_SERVER_RANKS and romio_edaos_server_list).
//
// Grammar (ROMIO users guide):
//     list  := entry { ',' entry } [ ',' ]
//     entry := host [ ':' count ]
//     host  := '*' | name        name: any characters except ':' ',' quotes and blanks
//     count := '*' | digits      missing means 1
//
// This header holds the parsed form only. The parser and ROMIO's rank selection belong to the
// base layer (objstore/src/common/cb_config.hpp), compiled into each edaos library that needs
// them and not exported; code outside edaos reaches them through the hints API
// (edaos/hints/cb_config.hpp: parse_cb_config_list, select_aggregators). Plain value types:
// copy freely, no thread-safety concerns.
#pragma once

#include <string>
#include <vector>

namespace edaos {

// One `host[:count]` entry.
struct CbConfigEntry {
  static constexpr int kAll = -1;  // count '*': all processes on the host (up to the limit)

  bool wildcard = false;  // host '*'
  std::string host;       // empty for the wildcard
  int count = 1;          // >= 0 (saturated at INT_MAX), or kAll
};

// A whole value, entries in the order written (leftmost takes precedence).
struct CbConfigList {
  std::vector<CbConfigEntry> entries;
  // The value is exactly "*:*": ROMIO then takes ranks 0..limit-1 in rank order instead of
  // grouping by host.
  bool first_ranks = false;
  std::string text;  // normalized value (quotes and blanks removed); parses to the same list
};

}  // namespace edaos

// The ROMIO_HINTS file grammar.
//
// One hint per line: `key value`, separated by blanks or tabs. As in ROMIO:
//  - a line whose first character is '#' is a comment; blank lines are skipped;
//  - a line with one word, or with more than two, is ignored (so `key value # note` is ignored:
//    there are no trailing comments);
//  - when a key appears more than once, the FIRST occurrence wins;
//  - keys and values are case-sensitive and not interpreted here (resolve() validates them).
// edaos differs only where ROMIO would drop hints silently: malformed lines and duplicates
// produce a warning, '\r' counts as a blank (CRLF files work), a line indented before '#' is a
// comment too, and the whole file is read (ROMIO reads the first 4096 bytes; a warning says
// so when the file is larger).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edaos/hints/warning.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::hints {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Bytes ROMIO reads from a hints file; the rest is silently ignored by ROMIO.
inline constexpr size_t kRomioHintFileMax = 4096;
// Bytes edaos reads from a hints file; larger files are truncated with a warning.
inline constexpr size_t kMaxHintFileBytes = 1 << 20;

// Parses the text of a hints file into (key, value) pairs in file order, one per key.
// `origin` names the file in warnings ("<origin>:<line>"). Appends one warning per ignored line
// to `warnings` when it is not null. Never fails today; returns EDAOS_TOOBIG for text longer
// than kMaxHintFileBytes (the caller truncates before that).
EDAOS_HINTS_API Result<KeyValues> parse_hint_file(std::string_view text,
                                                  std::vector<Warning>* warnings,
                                                  std::string_view origin = "ROMIO_HINTS");

}  // namespace edaos::hints

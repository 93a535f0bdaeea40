// Small text helpers of the base layer, for parsers of user-supplied values (cb_config_list,
// ROMIO_HINTS files, hint values). Header-only; not installed.
#pragma once

#include <string>
#include <string_view>

namespace edaos::text {

// Blank as the hint grammars see it: space, tab, CR, LF.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` without leading and trailing blanks.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// True when `s` is wrapped in a matching pair of ' or " (and has something inside).
inline bool is_quoted(std::string_view s) {
  return s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front();
}

// `s` with control characters escaped (\xNN), cut after `max` characters ("..."), for quoting
// user input in one-line messages.
inline std::string printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace edaos::text

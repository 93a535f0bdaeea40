// Small text helpers of the base layer, for parsers of user-supplied values (cb_config_list,
// ROMIO_HINTS files, hint values, container properties and sizes). Header-only; not installed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edaos::text {

// Blank as the hint grammars see it: space, tab, CR, LF.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// `s` without leading and trailing blanks.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

// `s` in ASCII lower case (other bytes unchanged, whatever the locale).
inline std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

// `s` cut at every `sep`, empty pieces kept: "a,,b" -> {"a", "", "b"}, "" -> {""}, "a," ->
// {"a", ""}. The pieces point into `s`.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// True when `s` is one or more decimal digits (no sign, no blanks).
inline bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Decimal digits into *out. False (and *out untouched) when `s` is not all_digits or the value
// does not fit in 64 bits.
inline bool parse_u64(std::string_view s, uint64_t* out) {
  if (!all_digits(s)) return false;
  uint64_t v = 0;
  for (char c : s) {
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
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

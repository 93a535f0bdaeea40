// The ROMIO_HINTS grammar (see hintfile.hpp for the rules and where edaos differs).
#include "edaos/hints/hintfile.hpp"

#include <string>
#include <unordered_map>

#include "hints_internal.hpp"

namespace edaos::hints {
namespace {

using detail::printable;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && detail::is_blank(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !detail::is_blank(line[i])) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

Warning file_warning(WarningKind kind, std::string where, std::string value, std::string key,
                     std::string message) {
  Warning w;
  w.kind = kind;
  w.key = std::move(key);
  w.value = std::move(value);
  w.origin = std::move(where);
  w.message = w.origin + ": " + message;
  return w;
}

}  // namespace

Result<KeyValues> parse_hint_file(std::string_view text, std::vector<Warning>* warnings,
                                  std::string_view origin) {
  if (text.size() > kMaxHintFileBytes)
    return Status(EDAOS_TOOBIG, std::string(origin) + " is larger than " +
                                    std::to_string(kMaxHintFileBytes) + " bytes");
  std::vector<Warning> sink;
  std::vector<Warning>& out_w = warnings ? *warnings : sink;
  const std::string org(origin);

  // ROMIO reads the file as a C string: a NUL byte ends it.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    out_w.push_back(file_warning(WarningKind::kFile, org, "", "",
                                 "ignoring everything after the NUL byte at offset " +
                                     std::to_string(nul) + " (ROMIO stops there too)"));
    text = text.substr(0, nul);
  }
  if (text.size() > kRomioHintFileMax)
    out_w.push_back(file_warning(
        WarningKind::kFile, org, "", "",
        "file is " + std::to_string(text.size()) + " bytes; ROMIO reads only the first " +
            std::to_string(kRomioHintFileMax) + ", edaos reads all of it"));

  KeyValues out;
  std::unordered_map<std::string, int> first_line;
  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    std::vector<std::string_view> words = split_words(line);
    if (words.empty() || words[0][0] == '#') continue;  // blank line or comment
    const std::string where = org + ":" + std::to_string(lineno);
    if (words.size() != 2) {
      std::string why = words.size() == 1 ? "a key without a value"
                                          : "more than two words (ROMIO has no trailing comments)";
      out_w.push_back(file_warning(WarningKind::kMalformedLine, where,
                                   std::string(detail::trim(line)), std::string(words[0]),
                                   "ignoring malformed line \"" + printable(detail::trim(line)) +
                                       "\": " + why + "; expected \"key value\""));
      continue;
    }
    std::string key(words[0]);
    auto [it, inserted] = first_line.emplace(key, lineno);
    if (!inserted) {
      out_w.push_back(
          file_warning(WarningKind::kDuplicateKey, where, std::string(words[1]), key,
                       "ignoring duplicate hint \"" + printable(key) + "\" = \"" +
                           printable(words[1]) + "\": line " + std::to_string(it->second) +
                           " set it first and, as in ROMIO, the first occurrence wins"));
      continue;
    }
    out.emplace_back(std::move(key), std::string(words[1]));
  }
  return out;
}

}  // namespace edaos::hints

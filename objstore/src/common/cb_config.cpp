// cb_config_list parsing and ROMIO's rank selection (see common/cb_config.hpp).
#include "common/cb_config.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include "common/text.hpp"

namespace edaos {
namespace {

using text::is_blank;
using text::is_quoted;
using text::printable;
using text::trim;

Status syntax_error(std::string_view text, const std::string& why) {
  return Status(EDAOS_INVAL, why + " in \"" + printable(text) + "\"");
}

bool has_blank(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return is_blank(c); });
}

}  // namespace

Result<CbConfigList> parse_cb_config_list(std::string_view text, std::string* adjusted_why) {
  std::string_view v = trim(text);
  bool adjusted = v.size() != text.size();
  std::string why_adjusted;
  if (is_quoted(v)) {
    v = trim(v.substr(1, v.size() - 2));
    adjusted = true;
    why_adjusted = "quotes are not part of the cb_config_list grammar";
  }
  if (v.empty()) return syntax_error(text, "empty value");
  // Host names never contain quotes; only one pair around the whole value is tolerated.
  if (v.find_first_of("\"'") != std::string_view::npos)
    return syntax_error(text, "quote inside the value");

  // Split on ',' first; a single trailing comma is accepted, as in ROMIO.
  std::vector<std::string_view> pieces;
  for (size_t pos = 0;;) {
    size_t comma = v.find(',', pos);
    if (comma == std::string_view::npos) {
      pieces.push_back(v.substr(pos));
      break;
    }
    pieces.push_back(v.substr(pos, comma - pos));
    pos = comma + 1;
  }
  bool trailing_comma = false;
  if (pieces.size() > 1 && trim(pieces.back()).empty()) {
    pieces.pop_back();
    trailing_comma = true;
  }

  CbConfigList list;
  for (std::string_view raw : pieces) {
    std::string_view piece = trim(raw);
    if (piece.size() != raw.size()) adjusted = true;
    if (piece.empty()) return syntax_error(text, "empty entry");
    const size_t colon = piece.find(':');
    std::string_view host_raw = piece.substr(0, colon);
    std::string_view host = trim(host_raw);
    if (host.size() != host_raw.size()) adjusted = true;
    if (host.empty()) return syntax_error(text, "empty host name");
    if (has_blank(host)) return syntax_error(text, "blank inside host name");
    CbConfigEntry e;
    if (host[0] == '*') {
      if (host.size() != 1) return syntax_error(text, "'*' must stand alone as a host name");
      e.wildcard = true;
    } else {
      e.host = std::string(host);
    }
    std::string norm(host);
    if (colon != std::string_view::npos) {
      std::string_view count_raw = piece.substr(colon + 1);
      if (count_raw.find(':') != std::string_view::npos)
        return syntax_error(text, "more than one ':' in an entry");
      std::string_view count = trim(count_raw);
      if (count.size() != count_raw.size()) adjusted = true;
      if (count.empty()) return syntax_error(text, "missing count after ':'");
      if (count == "*") {
        e.count = CbConfigEntry::kAll;
      } else {
        long long n = 0;
        for (char c : count) {
          if (c < '0' || c > '9') return syntax_error(text, "count must be a number >= 0 or '*'");
          n = std::min<long long>(n * 10 + (c - '0'), INT_MAX);  // saturate: cb_nodes caps it
        }
        e.count = static_cast<int>(n);
      }
      norm += ':';
      norm += count;
    }
    if (!list.entries.empty()) list.text += ',';
    list.text += norm;
    list.entries.push_back(std::move(e));
  }
  if (trailing_comma) list.text += ',';
  list.first_ranks = list.text == "*:*";
  if (adjusted && adjusted_why)
    *adjusted_why = why_adjusted.empty() ? "blanks are not part of host names" : why_adjusted;
  return list;
}

std::vector<int> select_cb_ranks(const CbConfigList& list,
                                 const std::vector<std::string>& rank_hosts, int max_ranks) {
  const int n = static_cast<int>(rank_hosts.size());
  const int limit = std::min(max_ranks, n);
  std::vector<int> out;
  if (limit <= 0) return out;
  if (list.first_ranks) {
    for (int r = 0; r < limit; ++r) out.push_back(r);
    return out;
  }
  // used[r]: rank r was chosen, or its host was handled by an earlier entry.
  std::vector<char> used(static_cast<size_t>(n), 0);
  auto at = [&](int r) -> char& { return used[static_cast<size_t>(r)]; };
  auto host = [&](int r) -> const std::string& { return rank_hosts[static_cast<size_t>(r)]; };
  // Takes up to `want` unused ranks of `name` from rank `from` on, then retires the host.
  auto take_host = [&](const std::string& name, int from, int want) {
    for (int r = from; r < n; ++r) {
      if (at(r) || host(r) != name) continue;
      if (want > 0 && static_cast<int>(out.size()) < limit) {
        out.push_back(r);
        --want;
      }
      at(r) = 1;
    }
  };
  for (const CbConfigEntry& e : list.entries) {
    if (static_cast<int>(out.size()) >= limit) break;
    const int count = e.count == CbConfigEntry::kAll ? limit : e.count;
    if (!e.wildcard) {
      take_host(e.host, 0, count);
      continue;
    }
    if (count == 0) {  // "*:0": no more hosts after this point
      std::fill(used.begin(), used.end(), 1);
      continue;
    }
    for (int r = 0; r < n && static_cast<int>(out.size()) < limit; ++r) {
      if (at(r)) continue;
      out.push_back(r);
      at(r) = 1;
      take_host(host(r), r + 1, count - 1);
    }
  }
  return out;
}

}  // namespace edaos

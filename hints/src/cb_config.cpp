// cb_config_list for hints (see cb_config.hpp): the base layer's grammar and selection
// (objstore/src/common/cb_config.cpp), with adjustments turned into Warnings.
#include "edaos/hints/cb_config.hpp"

#include <string>

#include "common/cb_config.hpp"
#include "hints_internal.hpp"

namespace edaos::hints {

Result<CbConfigList> parse_cb_config_list(std::string_view text, std::vector<Warning>* warnings,
                                          std::string_view key) {
  std::string why_adjusted;
  auto list = ::edaos::parse_cb_config_list(text, &why_adjusted);
  if (list.ok() && !why_adjusted.empty() && warnings) {
    Warning w;
    w.kind = WarningKind::kAdjusted;
    w.key = std::string(key);
    w.value = std::string(text);
    w.used = list->text;
    w.message = "hint \"" + std::string(key) + "\" value \"" + detail::printable(text) +
                "\": " + why_adjusted + " (ROMIO would match them literally); using \"" +
                list->text + "\"";
    warnings->push_back(std::move(w));
  }
  return list;
}

std::vector<int> select_aggregators(const CbConfigList& list,
                                    const std::vector<std::string>& rank_hosts, int cb_nodes) {
  return select_cb_ranks(list, rank_hosts, cb_nodes);
}

}  // namespace edaos::hints

// The table of known hints and the value validators.
#include "edaos/hints/registry.hpp"

#include <cctype>
#include <climits>
#include <cstdint>
#include <string>

#include "edaos/hints/cb_config.hpp"
#include "hints_internal.hpp"

namespace edaos::hints {
namespace {

constexpr int64_t kIntMax = INT_MAX;     // ROMIO keeps these hints in a C int
constexpr int64_t kSizeMax = 1LL << 40;  // edaos sizes: 1 TiB is far beyond any sane chunk

const std::vector<HintSpec>& table() {
  // Order = the order ROMIO's DAOS driver lists hints in MPI_File_get_info.
  static const std::vector<HintSpec> kTable = {
      {kRomioDaosChunkSize, HintType::kInt, "0", Scope::kAgree, 0, kIntMax, true,
       "ROMIO DAOS driver name for the chunk size (bytes per dkey) of new files; 0 = container "
       "default. romio_edaos_chunk_size wins when both are set."},
      {kRomioDaosObjClass, HintType::kObjClass, "OC_UNKNOWN", Scope::kAgree, 0, 0, true,
       "ROMIO DAOS driver name for the object class of new files (e.g. EC_16P3GX, RP_4G1); "
       "OC_UNKNOWN = container default. romio_edaos_obj_class wins when both are set."},
      {kEdaosObjClass, HintType::kObjClass, "OC_UNKNOWN", Scope::kAgree, 0, 0, true,
       "edaos: object class of new files. Reports the effective class."},
      {kEdaosChunkSize, HintType::kInt, "0", Scope::kAgree, 0, kSizeMax, true,
       "edaos: chunk size (bytes per dkey) of new files; 0 = container default. Reports the "
       "effective chunk size."},
      {kEdaosCellSize, HintType::kInt, "0", Scope::kAgree, 0, kSizeMax, true,
       "edaos: erasure-code cell size of new files; must divide the chunk size; 0 = container "
       "default."},
      {kEdaosServerList, HintType::kCbConfig, "*:1", Scope::kRoot, 0, 0, true,
       "edaos: ranks that serve the object store, in cb_config_list grammar (one per node by "
       "default). Rank 0's value is used."},
      {kCbBufferSize, HintType::kInt, "16777216", Scope::kAgree, 1, kIntMax, true,
       "Bytes each aggregator moves per two-phase round."},
      {kRomioCbRead, HintType::kTristate, "automatic", Scope::kAgree, 0, 0, true,
       "Collective buffering for collective reads: enable, disable or automatic."},
      {kRomioCbWrite, HintType::kTristate, "automatic", Scope::kAgree, 0, 0, true,
       "Collective buffering for collective writes: enable, disable or automatic."},
      {kCbNodes, HintType::kInt, "", Scope::kAgree, INT_MIN, kIntMax, true,
       "Maximum number of aggregators (default and cap: number of processes). Reports the "
       "number actually chosen."},
      {kRomioNoIndepRw, HintType::kBool, "false", Scope::kAgree, 0, 0, true,
       "true: the application does only collective I/O; forces collective buffering and allows "
       "deferred open (only aggregators open the file)."},
      {kIndRdBufferSize, HintType::kInt, "4194304", Scope::kAgree, 1, kIntMax, true,
       "Data-sieving buffer for independent reads (bytes)."},
      {kIndWrBufferSize, HintType::kInt, "524288", Scope::kAgree, 1, kIntMax, true,
       "Data-sieving buffer for independent writes (bytes); not listed when the driver has no "
       "data-sieving writes."},
      {kRomioDsRead, HintType::kTristate, "automatic", Scope::kAgree, 0, 0, true,
       "Data sieving for independent noncontiguous reads: enable, disable or automatic."},
      {kRomioDsWrite, HintType::kTristate, "automatic", Scope::kAgree, 0, 0, true,
       "Data sieving for independent noncontiguous writes; forced to disable without driver "
       "support (edaos, ROMIO's DAOS driver)."},
      {kStripingUnit, HintType::kInt, "0", Scope::kAgree, 0, kIntMax, true,
       "Stripe size (bytes); two-phase file domains are aligned to it. 0 = not set."},
      {kCbConfigList, HintType::kCbConfig, "*:1", Scope::kRoot, 0, 0, false,
       "Which ranks may be aggregators (see cb_config_list grammar). Rank 0's value is used; "
       "fixed at open."},
      {kRomioMinFdomainSize, HintType::kInt, "0", Scope::kAgree, 0, kIntMax, false,
       "Smallest two-phase file domain (bytes); 0 = no minimum. Listed only when set."},
      {kStripingFactor, HintType::kInt, "0", Scope::kAgree, 0, kIntMax, false,
       "Number of stripes (servers) per file; 0 = not set. Listed only when set."},
      {kRomioFilesystemType, HintType::kReport, "", Scope::kLocal, 0, 0, false,
       "Reported: the driver serving the file."},
      {kRomioAggregatorList, HintType::kReport, "", Scope::kLocal, 0, 0, false,
       "Reported: aggregator ranks in the order they own file domains (space separated)."},
  };
  return kTable;
}

using text::all_digits;

Result<ParsedValue> parse_int(const HintSpec& spec, std::string_view v) {
  bool neg = false;
  std::string_view digits = v;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (!all_digits(digits)) return Status(EDAOS_INVAL, "not an integer");
  uint64_t mag = 0;
  const uint64_t limit = static_cast<uint64_t>(INT64_MAX);
  if (!text::parse_u64(digits, &mag) || mag > limit)
    return Status(EDAOS_INVAL, "must be <= " + std::to_string(spec.max));
  int64_t n = neg ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
  if (n < spec.min) return Status(EDAOS_INVAL, "must be >= " + std::to_string(spec.min));
  if (n > spec.max) return Status(EDAOS_INVAL, "must be <= " + std::to_string(spec.max));
  ParsedValue p;
  p.number = n;
  p.canonical = std::to_string(n);
  p.display = p.canonical;
  return p;
}

Result<ParsedValue> parse_tristate(std::string_view v) {
  ParsedValue p;
  if (v == "enable" || v == "ENABLE") {
    p.number = static_cast<int64_t>(Tristate::kEnable);
  } else if (v == "disable" || v == "DISABLE") {
    p.number = static_cast<int64_t>(Tristate::kDisable);
  } else if (v == "automatic" || v == "AUTOMATIC") {
    p.number = static_cast<int64_t>(Tristate::kAutomatic);
  } else if (v == "requested" || v == "REQUESTED") {
    p.number = static_cast<int64_t>(Tristate::kEnable);
    p.display = "enable";  // ROMIO reports "requested" as enable
  } else {
    return Status(EDAOS_INVAL, "expected enable, disable or automatic");
  }
  if (p.display.empty()) p.display = std::string(v);
  p.canonical = tristate_name(static_cast<Tristate>(p.number));
  return p;
}

Result<ParsedValue> parse_bool(std::string_view v) {
  ParsedValue p;
  if (v == "true" || v == "TRUE") {
    p.number = 1;
  } else if (v == "false" || v == "FALSE") {
    p.number = 0;
  } else {
    return Status(EDAOS_INVAL, "expected true or false");
  }
  p.display = std::string(v);
  p.canonical = p.number ? "true" : "false";
  return p;
}

// "G<n>" or "GX" at the end of a redundancy class.
bool group_suffix(std::string_view s) {
  if (s.size() < 2 || s[0] != 'G') return false;
  s.remove_prefix(1);
  return s == "X" || all_digits(s);
}

}  // namespace

const std::vector<HintSpec>& registry() { return table(); }

const HintSpec* find_hint(std::string_view key) {
  for (const HintSpec& s : table())
    if (s.key == key) return &s;
  return nullptr;
}

const char* tristate_name(Tristate t) {
  switch (t) {
    case Tristate::kEnable:
      return "enable";
    case Tristate::kDisable:
      return "disable";
    case Tristate::kAutomatic:
      break;
  }
  return "automatic";
}

bool is_valid_object_class(std::string_view name) {
  if (name.substr(0, 3) == "OC_") name.remove_prefix(3);
  if (name == "UNKNOWN" || name == "SX") return true;
  if (name.size() >= 2 && name[0] == 'S') return all_digits(name.substr(1));
  if (name.substr(0, 3) == "RP_") {
    std::string_view r = name.substr(3);
    size_t g = r.find('G');
    if (g == std::string_view::npos) return false;
    std::string_view n = r.substr(0, g);
    return (all_digits(n) || n == "X") && group_suffix(r.substr(g));
  }
  if (name.substr(0, 3) == "EC_") {
    std::string_view r = name.substr(3);
    size_t p = r.find('P');
    size_t g = r.find('G');
    if (p == std::string_view::npos || g == std::string_view::npos || g < p) return false;
    return all_digits(r.substr(0, p)) && all_digits(r.substr(p + 1, g - p - 1)) &&
           group_suffix(r.substr(g));
  }
  return false;
}

Result<ParsedValue> parse_value(const HintSpec& spec, std::string_view raw) {
  std::string_view v = detail::trim(raw);
  switch (spec.type) {
    case HintType::kInt:
      return parse_int(spec, v);
    case HintType::kTristate:
      return parse_tristate(v);
    case HintType::kBool:
      return parse_bool(v);
    case HintType::kCbConfig: {
      auto list = parse_cb_config_list(v, nullptr);
      if (!list.ok()) return list.status();
      ParsedValue p;
      p.display = list->text;
      p.canonical = list->text;
      return p;
    }
    case HintType::kObjClass: {
      if (!is_valid_object_class(v))
        return Status(EDAOS_INVAL, "not a DAOS object class such as S1, RP_2G1 or EC_4P2GX");
      ParsedValue p;
      p.display = std::string(v);
      p.canonical = std::string(v.substr(0, 3) == "OC_" ? v.substr(3) : v);
      return p;
    }
    case HintType::kReport:
      break;
  }
  return Status(EDAOS_INVAL, "reported by edaos; cannot be set");
}

}  // namespace edaos::hints

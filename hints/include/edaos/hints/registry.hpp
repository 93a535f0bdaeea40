// The table of hints edaos understands: ROMIO's generic hints, the names ROMIO's DAOS driver
// reads, and edaos's own romio_edaos_* keys. Each entry carries the type, the default, how the
// value is validated, whether ranks must agree on it, and what it means. The README renders
// this table; resolve() and the collective agreement check are driven by it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edaos/hints/warning.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::hints {

enum class HintType {
  kInt,       // decimal integer within [min, max] (ROMIO reads these with atoi into an int)
  kTristate,  // enable | disable | automatic (also upper case; "requested" means enable)
  kBool,      // true | false (also upper case)
  kCbConfig,  // cb_config_list grammar (cb_config.hpp)
  kObjClass,  // DAOS object class name: S1, SX, RP_2G1, RP_3GX, EC_4P2G1, EC_16P3GX ... [OC_]
  kReport,    // reported by edaos (romio_filesystem_type, ...); values passed in are ignored
};

enum class Scope {
  kAgree,  // every rank must end with the same value, else the open fails (MPI_ERR_NOT_SAME)
  kRoot,   // rank 0's value is used by all ranks (ROMIO parses cb_config_list on rank 0 only)
  kLocal,  // each rank keeps its own value
};

struct HintSpec {
  std::string_view key;
  HintType type;
  // Value used when the hint is not given or invalid. Empty for dynamic defaults (cb_nodes:
  // the number of processes) and for reported keys.
  std::string_view default_value;
  Scope scope;
  int64_t min;  // kInt only
  int64_t max;  // kInt only
  // True when ROMIO lists the key in MPI_File_get_info even if nobody set it.
  bool listed_by_default;
  std::string_view meaning;
};

// Standard hint keys (ROMIO spelling) and edaos keys.
inline constexpr std::string_view kCbBufferSize = "cb_buffer_size";
inline constexpr std::string_view kCbNodes = "cb_nodes";
inline constexpr std::string_view kCbConfigList = "cb_config_list";
inline constexpr std::string_view kRomioCbRead = "romio_cb_read";
inline constexpr std::string_view kRomioCbWrite = "romio_cb_write";
inline constexpr std::string_view kRomioNoIndepRw = "romio_no_indep_rw";
inline constexpr std::string_view kIndRdBufferSize = "ind_rd_buffer_size";
inline constexpr std::string_view kIndWrBufferSize = "ind_wr_buffer_size";
inline constexpr std::string_view kRomioDsRead = "romio_ds_read";
inline constexpr std::string_view kRomioDsWrite = "romio_ds_write";
inline constexpr std::string_view kStripingUnit = "striping_unit";
inline constexpr std::string_view kStripingFactor = "striping_factor";
inline constexpr std::string_view kRomioMinFdomainSize = "romio_min_fdomain_size";
inline constexpr std::string_view kRomioDaosObjClass = "romio_daos_obj_class";
inline constexpr std::string_view kRomioDaosChunkSize = "romio_daos_chunk_size";
inline constexpr std::string_view kEdaosObjClass = "romio_edaos_obj_class";
inline constexpr std::string_view kEdaosChunkSize = "romio_edaos_chunk_size";
inline constexpr std::string_view kEdaosCellSize = "romio_edaos_cell_size";
inline constexpr std::string_view kEdaosServerList = "romio_edaos_server_list";
inline constexpr std::string_view kRomioFilesystemType = "romio_filesystem_type";
inline constexpr std::string_view kRomioAggregatorList = "romio_aggregator_list";

// MPICH's MPI_MAX_INFO_VAL: romio_aggregator_list is truncated to fit, as ROMIO does.
inline constexpr size_t kMaxInfoVal = 1024;

// All known hints, in the order ROMIO (with its DAOS driver) lists them in MPI_File_get_info.
EDAOS_HINTS_API const std::vector<HintSpec>& registry();

// The entry for `key` (exact, case-sensitive match as in ROMIO), or nullptr.
EDAOS_HINTS_API const HintSpec* find_hint(std::string_view key);

enum class Tristate { kAutomatic = 0, kEnable = 1, kDisable = 2 };  // ROMIO's ADIOI_HINT_*

EDAOS_HINTS_API const char* tristate_name(Tristate t);  // "automatic", "enable", "disable"

// A validated value.
struct ParsedValue {
  std::string display;    // what MPI_File_get_info reports (ROMIO keeps the caller's spelling)
  std::string canonical;  // what ranks compare ("enable" for "ENABLE", "16" for "+16")
  int64_t number = 0;     // kInt, kBool (0/1), kTristate (Tristate value)
};

// Validates `raw` for `spec`. Surrounding blanks are ignored. On failure returns EDAOS_INVAL
// whose message says why in a few words ("not an integer", "must be >= 1").
EDAOS_HINTS_API Result<ParsedValue> parse_value(const HintSpec& spec, std::string_view raw);

// True when `name` is a DAOS object class name edaos accepts (see HintType::kObjClass).
EDAOS_HINTS_API bool is_valid_object_class(std::string_view name);

}  // namespace edaos::hints

// resolve(): the one place where hint precedence and interactions live.
//
// Precedence, as ROMIO: defaults < ROMIO_HINTS file < the application's MPI_Info. Precedence is
// per key: a key given in MPI_Info hides the file's value even when the MPI_Info value turns
// out invalid (it then falls back to the default, with a warning).
//
// Interactions, applied in this order (ROMIO's ADIOI_GEN_SetInfo order):
//  1. romio_cb_read or romio_cb_write = disable clears romio_no_indep_rw;
//  2. romio_no_indep_rw = true (given explicitly) forces romio_cb_read and romio_cb_write to
//     enable, even over an explicit disable in the same call (warning);
//  3. cb_nodes outside 1..nprocs becomes nprocs (warning); after open it is fixed;
//  4. cb_config_list defaults to "*:1"; after open it is fixed;
//  5. deferred open = no_indep_rw and neither cb_read nor cb_write disabled (and the driver
//     supports it); otherwise romio_no_indep_rw reads false;
//  6. without data-sieving writes (edaos, like ROMIO's DAOS driver) romio_ds_write is disable
//     and ind_wr_buffer_size is not listed;
//  7. object class and chunk size: romio_edaos_* when set, else romio_daos_*, else defaults;
//     a cell size that does not divide the chunk size falls back to the default (warning);
//  8. with host names: aggregators from cb_config_list limited by cb_nodes; cb_nodes becomes
//     their count and romio_aggregator_list lists them; a list that matches no rank falls back
//     to "*:1" (warning; ROMIO fails the open instead).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edaos/hints/hintfile.hpp"
#include "edaos/hints/registry.hpp"
#include "edaos/hints/warning.hpp"

namespace edaos::hints {

// What the I/O driver can do; decides interactions 5 and 6.
struct Features {
  bool data_sieving_writes = false;  // ROMIO's DAOS driver: no (needs file locks)
  bool deferred_open = true;         // the driver implements two-phase itself
};

// Value of romio_filesystem_type reported for edaos files.
inline constexpr std::string_view kEdaosFilesystemType = "EDAOS: ROMIO-compatible driver for edaos";

struct EffectiveHints;

struct Inputs {
  int nprocs = 1;           // processes in the file's communicator (>= 1)
  KeyValues file;           // parsed ROMIO_HINTS, file order (parse_hint_file)
  std::string file_origin;  // file name, for warnings
  KeyValues info;           // the application's MPI_Info, in MPI_Info order
  // Non-null for MPI_File_set_info / set_view: start from these hints, ignore the file and
  // defaults, keep cb_nodes, cb_config_list and the aggregators fixed (as ROMIO does).
  const EffectiveHints* previous = nullptr;
  // Processor name of each rank (size nprocs), or empty: then no aggregators are selected.
  std::vector<std::string> rank_hosts;
  Features features;
  std::string filesystem_type = std::string(kEdaosFilesystemType);
};

// The hints a file is opened with. Typed fields are what the MPI-IO driver uses; `info` is
// what MPI_File_get_info returns and ROMIO_PRINT_HINTS prints, in ROMIO's order.
struct EDAOS_HINTS_API EffectiveHints {
  int nprocs = 1;
  int64_t cb_buffer_size = 16777216;
  // Before aggregator selection: the limit (1..nprocs). After: the number of aggregators.
  int cb_nodes = 1;
  std::string cb_config_list = "*:1";
  Tristate cb_read = Tristate::kAutomatic;
  Tristate cb_write = Tristate::kAutomatic;
  bool no_indep_rw = false;
  bool deferred_open = false;
  int64_t ind_rd_buffer_size = 4194304;
  int64_t ind_wr_buffer_size = 524288;
  Tristate ds_read = Tristate::kAutomatic;
  Tristate ds_write = Tristate::kAutomatic;
  int64_t striping_unit = 0;             // 0: not set
  int64_t striping_factor = 0;           // 0: not set
  int64_t min_fdomain_size = 0;          // 0: not set
  std::string obj_class = "OC_UNKNOWN";  // effective class; OC_UNKNOWN: container default
  int64_t chunk_size = 0;                // effective chunk size; 0: container default
  int64_t cell_size = 0;                 // EC cell size; 0: container default
  std::string server_list = "*:1";       // cb_config_list grammar
  std::vector<int> aggregators;          // chosen ranks, ROMIO order; empty until selected
  std::vector<int> server_ranks;         // ranks chosen by server_list; empty until selected

  KeyValues info;  // key -> value as reported, ROMIO order
  // Canonical value of every registry key that takes part in the agreement check (Scope
  // kAgree), in registry order; compared across ranks by resolve_collective().
  KeyValues agreed;
  std::vector<Warning> warnings;  // everything that was not used as written
  // Raw values given at open for the hints fixed at open (cb_nodes, cb_config_list, layout),
  // so that passing the same MPI_Info again (HDF5 does on every set_view) stays silent.
  KeyValues fixed_at_open;

  // The reported value of `key`, or nullptr.
  const std::string* find(std::string_view key) const;
};

// Applies defaults, the file, MPI_Info, validation and all interactions. Pure: no MPI, no
// environment, no I/O. Never fails: bad input only produces warnings.
EDAOS_HINTS_API EffectiveHints resolve(const Inputs& in);

// Sets the aggregator ranks chosen elsewhere (rank 0 in resolve_collective): cb_nodes becomes
// their count and romio_aggregator_list lists them. `servers` likewise for server_ranks.
EDAOS_HINTS_API void set_selected_ranks(EffectiveHints& h, std::vector<int> aggregators,
                                        std::vector<int> servers);

// ROMIO_PRINT_HINTS output: one "key = <key padded to 25> value = <value padded to 10>" line
// per reported hint, exactly as ROMIO's ADIOI_Info_print_keyvals formats them.
EDAOS_HINTS_API std::string format_romio_print(const EffectiveHints& h);

}  // namespace edaos::hints

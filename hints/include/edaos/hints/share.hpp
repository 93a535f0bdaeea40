// The collective side: read ROMIO_HINTS once, resolve on every rank, check that ranks agree,
// select aggregators from the processor names, print and report warnings.
#pragma once

#include <mpi.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "edaos/hints/hintfile.hpp"
#include "edaos/hints/resolve.hpp"
#include "edaos/hints/warning.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::hints {

// ROMIO's system-wide hints file, read when ROMIO_HINTS is unset or cannot be opened.
inline constexpr const char* kSystemHintsFile = "/etc/romio-hints";

// A parsed hints file, the same on every rank.
struct HintFile {
  std::string path;  // file actually read, empty when none
  KeyValues hints;
  std::vector<Warning> warnings;  // identical on every rank
};

// Completes one request of the nonblocking collectives these calls start (MPI_Ibcast,
// MPI_Igather, MPI_Iallreduce) and returns the MPI return code. Empty: MPI_Wait. The MPI-IO
// driver passes the object store's polite wait (edaos/objstore/collectives.hpp), so ranks that
// arrive early at MPI_File_open do not poll the cores away from the late ones.
using CollectiveWait = std::function<int(MPI_Request*)>;

// Collective over `comm`. Rank 0 opens the file named by ROMIO_HINTS, else `system_path`,
// reads it and broadcasts the text; every rank parses it. A missing file is not an error
// (ROMIO ignores it); a ROMIO_HINTS that names an unreadable file gives a warning. ROMIO reads
// the file at the first open only: callers that want the same behaviour keep the result.
EDAOS_HINTS_API Result<HintFile> load_hint_file_collective(
    MPI_Comm comm, const char* system_path = kSystemHintsFile, const CollectiveWait& wait = {});

struct CollectiveOptions {
  // Parsed hints file to use; nullptr: load_hint_file_collective() is called.
  const HintFile* file = nullptr;
  const char* system_path = kSystemHintsFile;
  // Non-null for set_info / set_view (see Inputs::previous): no file, no host gathering.
  const EffectiveHints* previous = nullptr;
  Features features;
  // Print format_romio_print() on rank 0: -1 = when ROMIO_PRINT_HINTS is set (to anything,
  // as in ROMIO), 0 = never, 1 = always.
  int print = -1;
  // Where the print goes; default stdout.
  std::function<void(const std::string&)> print_sink;
  // Receives each warning once: rank 0 reports its warnings, other ranks only warnings rank 0
  // did not have. Default stderr_warning_sink.
  WarningSink warning_sink;
  // Completes the collectives of the call (see CollectiveWait); empty: MPI_Wait.
  CollectiveWait wait;
};

// Collective over `comm`: resolves the hints for a file opened on `comm` with `info`
// (MPI_INFO_NULL allowed). Rank 0 gathers processor names and selects aggregators and server
// ranks; cb_config_list and romio_edaos_server_list are rank 0's values on every rank.
// Returns the same outcome on every rank: the hints, or EDAOS_INVAL when a hint that must
// agree (Scope::kAgree) differs, with a message naming the key and two differing values:
//   hint "cb_buffer_size" not same across processes: rank 0 has "16777216", rank 2 has "1024"
EDAOS_HINTS_API Result<EffectiveHints> resolve_collective(MPI_Comm comm, MPI_Info info,
                                                          const CollectiveOptions& opts = {});

// The (key, value) pairs of `info` in MPI_Info order; empty for MPI_INFO_NULL.
EDAOS_HINTS_API KeyValues info_to_pairs(MPI_Info info);

// A new MPI_Info holding h.info (for MPI_File_get_info); the caller frees it.
EDAOS_HINTS_API MPI_Info to_mpi_info(const EffectiveHints& h);

// Collective over `comm`: MPI_Get_processor_name of every rank, on rank 0 only (other ranks
// get an empty vector), as ROMIO gathers them for cb_config_list.
EDAOS_HINTS_API std::vector<std::string> gather_processor_names(MPI_Comm comm,
                                                                const CollectiveWait& wait = {});

}  // namespace edaos::hints

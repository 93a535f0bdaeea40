// Warnings produced while reading and resolving hints.
//
// Hints are advice: a bad hint never fails an open. Every value edaos does not use as written
// (invalid, capped, overridden by another hint, ignored after open, malformed file line) produces
// exactly one Warning naming the key and the value, and the value actually used. Warnings are
// collected in the results of the pure functions and handed to a WarningSink by the collective
// layer (share.hpp), so tests can capture them; production prints on stderr only those where
// ROMIO itself would fail or print (romio_would_warn), or all of them under ROMIO_PRINT_HINTS.
#pragma once

#include <functional>
#include <string>

#define EDAOS_HINTS_API __attribute__((visibility("default")))

namespace edaos::hints {

enum class WarningKind {
  kInvalidValue,   // value rejected by the registry's validator; the default is used
  kAdjusted,       // value accepted but changed (cb_nodes capped at nprocs, quotes removed, ...)
  kOverridden,     // another hint forces a different value (romio_no_indep_rw -> cb enable)
  kIgnored,        // value cannot take effect now (cb_nodes / cb_config_list after open)
  kMalformedLine,  // ROMIO_HINTS line that is not exactly "key value"
  kDuplicateKey,   // ROMIO_HINTS key seen again; the first occurrence wins, as in ROMIO
  kFile,           // ROMIO_HINTS file unreadable, too large, ...
  kUnknownKey,     // key edaos does not know; ignored (not printed by the default sink)
};

// Short lower-case name of a kind, e.g. "invalid-value".
EDAOS_HINTS_API const char* warning_kind_name(WarningKind kind);

struct Warning {
  WarningKind kind = WarningKind::kInvalidValue;
  std::string key;      // hint key, empty for file-level warnings
  std::string value;    // the value as given (or the offending line for kMalformedLine)
  std::string used;     // the value edaos uses instead ("" when nothing is used)
  std::string origin;   // where the value came from: "MPI_Info", "<path>:<line>", ...
  std::string message;  // complete sentence without the "edaos hints: " prefix

  bool operator==(const Warning& o) const { return message == o.message; }
};

// "edaos hints: <message>", the line the default sink prints.
EDAOS_HINTS_API std::string to_string(const Warning& w);

// Receives each warning once. `rank` is the caller's rank in the communicator of the call
// (0 for the pure functions).
using WarningSink = std::function<void(const Warning& w, int rank)>;

// True for the warnings about situations where ROMIO itself fails or prints (so a program that
// runs clean on ROMIO never sees extra output from edaos): a cb_config_list that does not parse
// (ROMIO prints "error parsing config list") or matches no process (ROMIO fails the open).
// Every other warning is about a value ROMIO ignores or changes silently.
EDAOS_HINTS_API bool romio_would_warn(const Warning& w);

// Prints to_string(w) as one line on stderr (prefixed "[rank N] " when rank != 0) when
// romio_would_warn(w), or for every warning but kUnknownKey when ROMIO_PRINT_HINTS is set (to
// anything). Otherwise prints nothing (callers route those to their log, see adio_daos).
EDAOS_HINTS_API void stderr_warning_sink(const Warning& w, int rank);

}  // namespace edaos::hints

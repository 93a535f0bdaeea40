/* edaos logging: facility + level, cheap when off.
 *
 *   EDAOS_LOG=warn                      every facility at warn and above (default: warn)
 *   EDAOS_LOG=objstore=debug,adio=info  per facility; a bare level sets the default
 *   EDAOS_LOG_FILE=path.%r              per-rank files (%r = MPI rank, %p = pid); default stderr
 *
 * Each line: "edaos[<rank>] <seconds since start> <LEVEL> <facility>: message".
 * A sink can be installed to route lines elsewhere (benchmarks, tests). Thread-safe. */
#ifndef EDAOS_OBJSTORE_LOG_H
#define EDAOS_OBJSTORE_LOG_H

#include "edaos/objstore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  EDAOS_LOG_TRACE = 0,
  EDAOS_LOG_DEBUG = 1,
  EDAOS_LOG_INFO = 2,
  EDAOS_LOG_WARN = 3,
  EDAOS_LOG_ERROR = 4,
  EDAOS_LOG_CRITICAL = 5,
  EDAOS_LOG_OFF = 6
} edaos_log_level_t;

/** Receives each formatted line (no trailing newline). NULL restores the default sink. */
typedef void (*edaos_log_sink_fn)(void *arg, edaos_log_level_t level, const char *facility,
                                  const char *line);
EDAOS_API void edaos_log_set_sink(edaos_log_sink_fn fn, void *arg);

/** Sets the rank printed in log lines (the library calls this once MPI is up). */
EDAOS_API void edaos_log_set_rank(int rank);

/** Lowest enabled level for `facility` (parses EDAOS_LOG once, on first use). */
EDAOS_API edaos_log_level_t edaos_log_threshold(const char *facility);

/** Formats and emits one line. Use the EDAOS_LOG macro instead, which checks the level first. */
EDAOS_API void edaos_log_emit(edaos_log_level_t level, const char *facility, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_LOG_H */

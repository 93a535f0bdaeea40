/* edaos logging: facility + level, cheap when off.
 *
 *   EDAOS_LOG=warn                      every facility at warn and above (default: warn)
 *   EDAOS_LOG=objstore=debug,adio=info  per facility; a bare level sets the default
 *   EDAOS_LOG_FILE=path.%r              per-rank files (%r = MPI rank, %p = pid); default stderr
 *
 * Each line: "edaos[<rank>] <seconds since start> <LEVEL> <facility>: message" (message cut
 * at 2047 bytes). A sink can be installed to route lines elsewhere (benchmarks, tests).
 * Every call is thread-safe and works before init (rank -1 until edaos_log_set_rank). The log
 * state (sink, file, rank) is one per process, in libedaos_objstore. */
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

/** Receives each formatted line (no trailing newline; `line` and `facility` valid during the
 *  call only). Called with the log lock held, one line at a time, from whichever thread logs:
 *  it must not log or call edaos_log_set_sink itself (deadlock). */
typedef void (*edaos_log_sink_fn)(void *arg, edaos_log_level_t level, const char *facility,
                                  const char *line);
/** Installs `fn` with `arg` (not owned: it must stay valid until the sink is replaced); NULL
 *  restores the default (stderr, or $EDAOS_LOG_FILE opened at the first line written there). */
EDAOS_API void edaos_log_set_sink(edaos_log_sink_fn fn, void *arg);

/** Sets the rank printed in log lines and substituted for %r in $EDAOS_LOG_FILE (the library
 *  calls this at init; the file name is fixed by the first line written to it). */
EDAOS_API void edaos_log_set_rank(int rank);

/** Lowest enabled level for `facility` from $EDAOS_LOG (default EDAOS_LOG_WARN; unknown level
 *  words are ignored). Reads the environment on every call; the EDAOS_LOG macro calls it once
 *  per facility and source file and caches the result, so later changes of $EDAOS_LOG are not
 *  seen there. */
EDAOS_API edaos_log_level_t edaos_log_threshold(const char *facility);

/** Formats (printf) and emits one line at `level`, whatever the threshold. Use the EDAOS_LOG
 *  macro instead, which checks the level first. */
EDAOS_API void edaos_log_emit(edaos_log_level_t level, const char *facility, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_LOG_H */

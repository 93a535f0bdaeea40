// Logging macros for edaos C++ sources. Declare the facility once per .cpp:
//   EDAOS_LOG_FACILITY(objstore);
//   EDAOS_LOG(debug, "round %d/%d", r, n);
//   EDAOS_LOG_ST(error, st, "write to engine %d failed", e);   // appends st.to_string()
#pragma once

#include "edaos/objstore/log.h"
#include "edaos/objstore/status.hpp"

namespace edaos::log_detail {
// Cached threshold per facility: parsing EDAOS_LOG happens once per facility per process.
struct Facility {
  const char* name;
  edaos_log_level_t threshold;
  explicit Facility(const char* n) : name(n), threshold(edaos_log_threshold(n)) {}
};
}  // namespace edaos::log_detail

#define EDAOS_LOG_FACILITY(fac)                                                   \
  [[maybe_unused]] static const ::edaos::log_detail::Facility& edaos_log_fac_() { \
    static const ::edaos::log_detail::Facility f(#fac);                           \
    return f;                                                                     \
  }                                                                               \
  static_assert(true, "")

#define EDAOS_LOG_LEVEL_trace EDAOS_LOG_TRACE
#define EDAOS_LOG_LEVEL_debug EDAOS_LOG_DEBUG
#define EDAOS_LOG_LEVEL_info EDAOS_LOG_INFO
#define EDAOS_LOG_LEVEL_warn EDAOS_LOG_WARN
#define EDAOS_LOG_LEVEL_error EDAOS_LOG_ERROR
#define EDAOS_LOG_LEVEL_critical EDAOS_LOG_CRITICAL

#define EDAOS_LOG(level, ...)                                                       \
  do {                                                                              \
    if (__builtin_expect(EDAOS_LOG_LEVEL_##level >= edaos_log_fac_().threshold, 0)) \
      edaos_log_emit(EDAOS_LOG_LEVEL_##level, edaos_log_fac_().name, __VA_ARGS__);  \
  } while (0)

#define EDAOS_LOG_ST(level, st, fmt, ...) \
  EDAOS_LOG(level, fmt " (%s)", ##__VA_ARGS__, (st).to_string().c_str())

// Internal invariants only; never for input validation.
#define EDAOS_ASSERT(cond)                                                                  \
  do {                                                                                      \
    if (__builtin_expect(!(cond), 0)) {                                                     \
      edaos_log_emit(EDAOS_LOG_CRITICAL, "assert", "%s:%d: assertion failed: %s", __FILE__, \
                     __LINE__, #cond);                                                      \
      __builtin_trap();                                                                     \
    }                                                                                       \
  } while (0)

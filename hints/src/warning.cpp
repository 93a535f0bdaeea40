// Warning formatting and the default stderr sink.
#include "edaos/hints/warning.hpp"

#include <cstdio>
#include <cstdlib>

#include "edaos/hints/registry.hpp"

namespace edaos::hints {

const char* warning_kind_name(WarningKind kind) {
  switch (kind) {
    case WarningKind::kInvalidValue:
      return "invalid-value";
    case WarningKind::kAdjusted:
      return "adjusted";
    case WarningKind::kOverridden:
      return "overridden";
    case WarningKind::kIgnored:
      return "ignored";
    case WarningKind::kMalformedLine:
      return "malformed-line";
    case WarningKind::kDuplicateKey:
      return "duplicate-key";
    case WarningKind::kFile:
      return "file";
    case WarningKind::kUnknownKey:
      return "unknown-key";
  }
  return "unknown";
}

std::string to_string(const Warning& w) { return "edaos hints: " + w.message; }

bool romio_would_warn(const Warning& w) {
  return w.key == kCbConfigList &&
         (w.kind == WarningKind::kInvalidValue || w.kind == WarningKind::kAdjusted);
}

void stderr_warning_sink(const Warning& w, int rank) {
  if (w.kind == WarningKind::kUnknownKey) return;
  if (!romio_would_warn(w) && std::getenv("ROMIO_PRINT_HINTS") == nullptr) return;
  if (rank != 0)
    std::fprintf(stderr, "[rank %d] %s\n", rank, to_string(w).c_str());
  else
    std::fprintf(stderr, "%s\n", to_string(w).c_str());
  std::fflush(stderr);
}

}  // namespace edaos::hints

#include "edaos/objstore/status.hpp"

extern "C" const char* edaos_status_name(int code) {
  switch (code) {
#define EDAOS_STATUS_NAME_(name, value, desc) \
  case value:                                 \
    return #name;
    EDAOS_STATUS_LIST(EDAOS_STATUS_NAME_)
#undef EDAOS_STATUS_NAME_
  }
  return "UNKNOWN";
}

extern "C" const char* edaos_status_describe(int code) {
  switch (code) {
#define EDAOS_STATUS_DESC_(name, value, desc) \
  case value:                                 \
    return desc;
    EDAOS_STATUS_LIST(EDAOS_STATUS_DESC_)
#undef EDAOS_STATUS_DESC_
  }
  return "unknown status";
}

namespace edaos {

std::string Status::to_string() const {
  std::string s = edaos_status_name(code_);
  s += ": ";
  s += msg_.empty() ? edaos_status_describe(code_) : msg_;
  return s;
}

Status Status::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Status(
      code_, msg_.empty() ? context + ": " + edaos_status_describe(code_) : context + ": " + msg_);
}

}  // namespace edaos

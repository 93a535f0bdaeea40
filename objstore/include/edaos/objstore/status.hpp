// C++ Status and Result<T>: the error currency inside edaos (LevelDB style).
//
// A Status is a code from status.h plus an optional message that says what happened in words a
// user can act on ("pool in use by host:pid", "EC_16P3GX needs 19 engines, pool has 4").
// Functions return Status or Result<T>; edaos code never throws its own exceptions.
// Both are plain values (copyable, movable); a const one may be read from several threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "edaos/objstore/status.h"

// Marks C++ API symbols exported from the edaos shared libraries (built with hidden
// visibility by default).
#ifndef EDAOS_CXX_API
#define EDAOS_CXX_API __attribute__((visibility("default")))
#endif

namespace edaos {

class [[nodiscard, gnu::visibility("default")]] Status {
 public:
  // OK, no message.
  Status() = default;
  // `msg` may be empty (then to_string() uses the code's description).
  Status(edaos_status_t code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  explicit Status(edaos_status_t code) : code_(code) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == EDAOS_OK; }
  edaos_status_t code() const { return code_; }
  // The message, "" when none; valid while this Status lives unchanged.
  const std::string& message() const { return msg_; }
  // "NAME: message" or "NAME: description" when there is no message.
  std::string to_string() const;
  // OK stays OK. Otherwise a copy with the same code whose message is "<context>: <message>"
  // (or "<context>: <description>" when there is none), e.g. context "open /a".
  Status with_context(const std::string& context) const;

 private:
  edaos_status_t code_ = EDAOS_OK;
  std::string msg_;
};

// Either a value or a non-OK Status. Build it from a non-OK Status only: a Result made from
// Status::OK() holds no value and reports ok() false.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status st) : v_(std::move(st)) {}   // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  // OK when it holds a value, else the error (a reference valid while this Result lives).
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  // The value; only when ok() (else std::bad_variant_access is thrown).
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edaos

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define EDAOS_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::edaos::Status edaos_st_ = (expr);    \
    if (!edaos_st_.ok()) return edaos_st_; \
  } while (0)

// Declares `lhs` from a Result-valued `expr`, or returns its Status.
#define EDAOS_ASSIGN_OR_RETURN(lhs, expr)                                                         \
  auto EDAOS_CONCAT_(edaos_r_, __LINE__) = (expr);                                                \
  if (!EDAOS_CONCAT_(edaos_r_, __LINE__).ok()) return EDAOS_CONCAT_(edaos_r_, __LINE__).status(); \
  lhs = std::move(EDAOS_CONCAT_(edaos_r_, __LINE__)).value()
#define EDAOS_CONCAT_(a, b) EDAOS_CONCAT2_(a, b)
#define EDAOS_CONCAT2_(a, b) a##b

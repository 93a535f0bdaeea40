// Value types shared by every part of the object store. Plain values: copyable, no I/O; every
// function is thread-safe and needs no initialization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "edaos/objstore/status.hpp"

namespace edaos::objstore {

// 128-bit object ID. The high 32 bits of `hi` carry the object class and type (see
// edaos/objstore/oclass.hpp for the exact bit layout); the rest comes from the container's
// object ID allocator.
struct EDAOS_CXX_API ObjectId {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const ObjectId& a, const ObjectId& b) {
    return a.hi == b.hi && a.lo == b.lo;
  }
  friend bool operator!=(const ObjectId& a, const ObjectId& b) { return !(a == b); }
  friend bool operator<(const ObjectId& a, const ObjectId& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
  // "hi.lo" in hex, as `daos` prints OIDs (e.g. "1000000000000.2").
  std::string to_string() const;
  // Parses "hi.lo" in hex as to_string() prints it; text that does not parse, or that has
  // trailing characters, is EDAOS_INVAL naming the text.
  static Result<ObjectId> parse(const std::string& s);
};

// RFC 4122 UUID (random version 4). Pools and containers are named by one.
struct EDAOS_CXX_API Uuid {
  uint8_t b[16] = {};  // zero: the nil UUID
  // A random version-4 UUID (a per-thread generator seeded from std::random_device).
  static Uuid generate();
  // 8-4-4-4-12 hex form, either case; anything else is EDAOS_INVAL naming the text.
  static Result<Uuid> parse(const std::string& s);
  std::string to_string() const;  // lower-case 8-4-4-4-12 form
  bool is_nil() const;            // all 16 bytes zero
  friend EDAOS_CXX_API bool operator==(const Uuid& a, const Uuid& b);
  friend bool operator!=(const Uuid& a, const Uuid& b) { return !(a == b); }
  friend EDAOS_CXX_API bool operator<(const Uuid& a, const Uuid& b);
};

// Checksum algorithm of a container (`cksum` property). Values are stored on disk: never renumber.
enum class CsumType : uint8_t { kOff = 0, kCrc32 = 1, kCrc32c = 2, kCrc64 = 3 };
// "off", "crc32", "crc32c", "crc64" (static strings); "unknown" outside the enum.
EDAOS_CXX_API const char* csum_type_name(CsumType t);
// Accepts the names above (case-insensitive); anything else is EDAOS_INVAL naming the value.
EDAOS_CXX_API Result<CsumType> parse_csum_type(const std::string& s);

// A contiguous piece of caller memory (not owned).
struct IoVec {
  void* base = nullptr;
  size_t len = 0;
};
struct ConstIoVec {
  const void* base = nullptr;
  size_t len = 0;
};

}  // namespace edaos::objstore

template <>
struct std::hash<edaos::objstore::ObjectId> {
  size_t operator()(const edaos::objstore::ObjectId& o) const noexcept {
    return std::hash<uint64_t>()(o.hi * 0x9E3779B97F4A7C15ull ^ o.lo);
  }
};

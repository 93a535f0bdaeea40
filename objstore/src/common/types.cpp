#include "edaos/objstore/types.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <random>

namespace edaos::objstore {

std::string ObjectId::to_string() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%" PRIx64 ".%" PRIx64, hi, lo);
  return buf;
}

Result<ObjectId> ObjectId::parse(const std::string& s) {
  ObjectId o;
  int n = 0;
  if (std::sscanf(s.c_str(), "%" SCNx64 ".%" SCNx64 "%n", &o.hi, &o.lo, &n) != 2 ||
      static_cast<size_t>(n) != s.size())
    return Status(EDAOS_INVAL, "bad object ID '" + s + "' (expected <hi>.<lo> in hex)");
  return o;
}

Uuid Uuid::generate() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Uuid u;
  uint64_t a = rng(), b = rng();
  std::memcpy(u.b, &a, 8);
  std::memcpy(u.b + 8, &b, 8);
  u.b[6] = static_cast<uint8_t>((u.b[6] & 0x0f) | 0x40);  // version 4
  u.b[8] = static_cast<uint8_t>((u.b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

std::string Uuid::to_string() const {
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

Result<Uuid> Uuid::parse(const std::string& s) {
  Uuid u;
  if (s.size() != 36) return Status(EDAOS_INVAL, "bad UUID '" + s + "'");
  size_t j = 0;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return Status(EDAOS_INVAL, "bad UUID '" + s + "'");
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int h = hex(s[i]), l = hex(s[i + 1]);
    if (h < 0 || l < 0) return Status(EDAOS_INVAL, "bad UUID '" + s + "'");
    u.b[j++] = static_cast<uint8_t>(h * 16 + l);
    ++i;
  }
  return u;
}

bool Uuid::is_nil() const {
  for (uint8_t x : b)
    if (x) return false;
  return true;
}
const char* csum_type_name(CsumType t) {
  switch (t) {
    case CsumType::kOff:
      return "off";
    case CsumType::kCrc32:
      return "crc32";
    case CsumType::kCrc32c:
      return "crc32c";
    case CsumType::kCrc64:
      return "crc64";
  }
  return "unknown";
}

Result<CsumType> parse_csum_type(const std::string& s) {
  std::string l;
  for (char c : s) l += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (CsumType t : {CsumType::kOff, CsumType::kCrc32, CsumType::kCrc32c, CsumType::kCrc64})
    if (l == csum_type_name(t)) return t;
  return Status(EDAOS_INVAL,
                "bad checksum type '" + s + "' (expected off, crc32, crc32c or crc64)");
}

bool operator==(const Uuid& a, const Uuid& b) { return std::memcmp(a.b, b.b, 16) == 0; }
bool operator<(const Uuid& a, const Uuid& b) { return std::memcmp(a.b, b.b, 16) < 0; }

}  // namespace edaos::objstore

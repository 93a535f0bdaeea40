// The one binary codec of the base layer: little-endian fixed-width integers, length-prefixed
// strings, a bounds-checked reader, the record frame of small persisted records, and the CRCs
// (CRC-32, CRC-32C, CRC-64/XZ). Every encoder of edaos writes through this file, so a byte
// format is defined by the calls that write it and is identical on every platform.
//
// Users: the RPC bodies (rpc/wire.hpp, a thin layer keeping its names), the pool map and
// container properties (placement, framed records), the hints broadcast (hints/src/share.cpp),
// the portable checksum backend (ec/checksum.cpp). Encoder and Decoder are header-only (hints
// links the base archive and pulls no object for them); the CRCs are in codec.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "edaos/objstore/status.hpp"

namespace edaos::codec {

// ---- fixed-width little-endian at a pointer ------------------------------------------------

// Unsigned type of the same width as T (T integral or enum; bool is one byte).
template <typename T>
using WireUint =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;

template <typename T>
constexpr bool kIsWireScalar = (std::is_integral_v<T> ||
                                std::is_enum_v<T>)&&(sizeof(T) == 1 || sizeof(T) == 2 ||
                                                     sizeof(T) == 4 || sizeof(T) == 8);

// Writes the sizeof(T) bytes of `v` at `p`, least significant first.
template <typename T>
inline void store_le(char* p, T v) {
  static_assert(kIsWireScalar<T>, "only integers and enums of 1, 2, 4 or 8 bytes");
  using U = WireUint<T>;
  U u;
  std::memcpy(&u, &v, sizeof u);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(p, &u, sizeof u);
#else
  for (size_t i = 0; i < sizeof u; ++i) p[i] = static_cast<char>((u >> (8 * i)) & 0xff);
#endif
}

// Reads what store_le<T> wrote.
template <typename T>
inline T load_le(const char* p) {
  static_assert(kIsWireScalar<T>, "only integers and enums of 1, 2, 4 or 8 bytes");
  using U = WireUint<T>;
  U u = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(&u, p, sizeof u);
#else
  for (size_t i = sizeof u; i-- > 0;) u = static_cast<U>((u << 8) | static_cast<uint8_t>(p[i]));
#endif
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// ---- Encoder: appends to a string ----------------------------------------------------------

class Encoder {
 public:
  // sizeof(T) bytes, little-endian (integers and enums; bool is one byte).
  template <typename T>
  Encoder& le(T v) {
    char b[sizeof(T)];
    store_le(b, v);
    buf_.append(b, sizeof b);
    return *this;
  }
  Encoder& u8(uint8_t v) { return le(v); }
  Encoder& u16(uint16_t v) { return le(v); }
  Encoder& u32(uint32_t v) { return le(v); }
  Encoder& u64(uint64_t v) { return le(v); }
  Encoder& bytes(const void* p, size_t n) {
    if (n > 0) buf_.append(static_cast<const char*>(p), n);
    return *this;
  }
  // u32 length + bytes (the RPC bodies and the placement records). The caller keeps `s`
  // under 4 GiB; a longer string is a programming error, not a wire condition.
  Encoder& str32(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    return bytes(s.data(), s.size());
  }
  // u64 length + bytes (the hints broadcast).
  Encoder& str64(std::string_view s) {
    u64(s.size());
    return bytes(s.data(), s.size());
  }
  // Overwrites 4 bytes at `pos` (a length known only after what follows is written).
  void patch_u32(size_t pos, uint32_t v) { store_le(&buf_[pos], v); }

  size_t size() const { return buf_.size(); }
  std::string& buf() { return buf_; }
  std::string take() { return std::move(buf_); }

 private:
  std::string buf_;
};

// ---- Decoder: reads what Encoder wrote, never past the end ---------------------------------
//
// Every read checks the bytes left. The first short read fails the decoder for good: that read
// and every later one return false (or a zero value), remaining() is 0 and offset() is the
// input's length. So a truncated or hostile input decodes to ok() == false, never to a read
// out of bounds; callers check at each step or once at the end.
class Decoder {
 public:
  Decoder(const void* p, size_t n) : p_(static_cast<const char*>(p)), n_(n) {}
  explicit Decoder(std::string_view s) : Decoder(s.data(), s.size()) {}

  template <typename T>
  bool le(T* v) {
    if (!need(sizeof(T))) return false;
    *v = load_le<T>(p_ + off_);
    off_ += sizeof(T);
    return true;
  }
  bool u8(uint8_t* v) { return le(v); }
  bool u16(uint16_t* v) { return le(v); }
  bool u32(uint32_t* v) { return le(v); }
  bool u64(uint64_t* v) { return le(v); }
  // The value, or T{} once failed.
  template <typename T>
  T get() {
    T v{};
    le(&v);
    return v;
  }
  bool bytes(void* out, size_t n) {
    if (!need(n)) return false;
    if (n > 0) std::memcpy(out, p_ + off_, n);
    off_ += n;
    return true;
  }
  bool skip(size_t n) {
    if (!need(n)) return false;
    off_ += n;
    return true;
  }
  // u32 length + bytes; a length above max_len fails the decoder.
  bool str32(std::string* s, size_t max_len = SIZE_MAX) {
    uint32_t n = 0;
    return u32(&n) && take_str(n, max_len, s);
  }
  // u64 length + bytes; a length above max_len fails the decoder.
  bool str64(std::string* s, size_t max_len = SIZE_MAX) {
    uint64_t n = 0;
    return u64(&n) && take_str(n, max_len, s);
  }

  bool ok() const { return ok_; }
  size_t offset() const { return off_; }
  size_t remaining() const { return n_ - off_; }
  const char* cursor() const { return p_ + off_; }

 private:
  bool need(size_t k) {
    if (!ok_ || n_ - off_ < k) {
      fail();
      return false;
    }
    return true;
  }
  void fail() {
    ok_ = false;
    off_ = n_;
  }
  bool take_str(uint64_t n, size_t max_len, std::string* s) {
    if (n > max_len || n > remaining()) {
      fail();
      return false;
    }
    s->assign(p_ + off_, static_cast<size_t>(n));
    off_ += static_cast<size_t>(n);
    return true;
  }

  const char* p_;
  size_t n_;
  size_t off_ = 0;
  bool ok_ = true;
};

// ---- CRCs (codec.cpp) ------------------------------------------------------------------------
//
// Reflected CRCs with init = xorout = all ones, chained the zlib way: seed 0 starts a checksum,
// the result of a previous call continues it (crc(ab) == crc(b, crc(a))), crc(nullptr, 0, s) ==
// s. Portable slicing-by-8; ec/checksum.cpp adds the ISA-L kernels for the data path.
//   crc32   CRC-32 (zlib, gzip, Ethernet)   crc32("123456789") == 0xCBF43926
//   crc32c  CRC-32C (Castagnoli, iSCSI)     crc32c("123456789") == 0xE3069283
//   crc64   CRC-64/XZ (ECMA-182 reflected)  crc64("123456789") == 0x995DC9BBDF1939FA
uint32_t crc32(const void* data, size_t len, uint32_t seed = 0);
uint32_t crc32c(const void* data, size_t len, uint32_t seed = 0);
uint64_t crc64(const void* data, size_t len, uint64_t seed = 0);

// MurmurHash3's 64-bit finalizer. Part of persisted formats (record sidecar checksums, dkey
// placement hashes): never change.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

// ---- record frame ----------------------------------------------------------------------------
//
// The frame of small persisted records (the pool map "EDPM", container properties "EDCP"):
//
//   magic (4 bytes) | u16 format | u16 flags (0) | u32 payload bytes | payload | u32 CRC-32
//
// the CRC covering every byte before it. A frame is a whole Encoder: frame_begin writes the
// header into an empty one, the caller appends the payload, frame_end patches the length and
// appends the CRC.
constexpr size_t kFrameHeaderBytes = 12;
constexpr size_t kFrameTrailerBytes = 4;

void frame_begin(Encoder* e, const char (&magic)[4], uint16_t format);
void frame_end(Encoder* e);

// Checks a whole frame: size, magic, format, length (no byte missing, none after the CRC) and
// CRC. On success *payload is the payload inside `bytes`. Every failure is EDAOS_FORMAT,
// "<what>: <reason>", `noun` naming the record in the reasons: "truncated (5 bytes, a pool map
// has at least 16)", "bad magic (not a pool map)", "unknown format version 2 (this build reads
// 1)", "truncated (20 bytes, header says 24)", "3 trailing bytes after the checksum",
// "checksum mismatch (stored 0x..., computed 0x...)".
Status frame_open(std::string_view bytes, const char (&magic)[4], uint16_t format,
                  std::string_view what, std::string_view noun, std::string_view* payload);

}  // namespace edaos::codec

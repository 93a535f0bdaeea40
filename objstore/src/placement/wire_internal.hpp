// Little-endian byte encoding, CRC-32 and hashing helpers private to the placement component.
//
// The placement component persists two small records (the pool map and container properties);
// both use these helpers so that the on-disk bytes are identical on every platform. Nothing
// here depends on the ec component: the CRC is a local table-driven IEEE 802.3 CRC-32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace edaos::objstore::wire {

// IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the one
// zlib and Ethernet use: crc32("123456789") == 0xCBF43926.
uint32_t crc32(const void* data, size_t len, uint32_t crc = 0);

// Appends fixed-width little-endian integers and length-prefixed strings.
class Writer {
 public:
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void str(const std::string& s) {  // u32 length + bytes
    u32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
  }
  size_t size() const { return buf_.size(); }
  std::string& buf() { return buf_; }
  // Overwrites 4 bytes at `pos` (for lengths known only after the payload is written).
  void patch_u32(size_t pos, uint32_t v);

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string buf_;
};

// Reads what Writer wrote. Every getter returns false (and leaves the reader failed) when the
// input is too short, so callers check once at the end or at each step.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  bool u8(uint8_t* v);
  bool u16(uint16_t* v);
  bool u32(uint32_t* v);
  bool u64(uint64_t* v);
  bool bytes(void* out, size_t n);
  bool str(std::string* s, size_t max_len = 1u << 20);
  bool skip(size_t n);
  size_t remaining() const { return n_ - off_; }
  size_t offset() const { return off_; }

 private:
  bool get(uint64_t* v, int n);
  const char* p_;
  size_t n_;
  size_t off_ = 0;
};

// SplitMix64 finalizer (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
// 2014): maps `key` to a bucket in [0, n) so that growing n to n+1 moves only 1/(n+1) of the
// keys. Written from the paper's description. n == 0 returns 0.
uint32_t jump_hash(uint64_t key, uint32_t n);

}  // namespace edaos::objstore::wire

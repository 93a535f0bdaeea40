#include <array>
#include <cstring>

#include "placement/wire_internal.hpp"

namespace edaos::objstore::wire {

namespace {
std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
}  // namespace

uint32_t crc32(const void* data, size_t len, uint32_t crc) {
  static const std::array<uint32_t, 256> kTable = make_crc_table();
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < len; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void Writer::patch_u32(size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    buf_[pos + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
}

bool Reader::get(uint64_t* v, int n) {
  if (remaining() < static_cast<size_t>(n)) {
    off_ = n_;
    return false;
  }
  uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x |= static_cast<uint64_t>(static_cast<uint8_t>(p_[off_ + static_cast<size_t>(i)])) << (8 * i);
  off_ += static_cast<size_t>(n);
  *v = x;
  return true;
}

bool Reader::u8(uint8_t* v) {
  uint64_t x;
  if (!get(&x, 1)) return false;
  *v = static_cast<uint8_t>(x);
  return true;
}
bool Reader::u16(uint16_t* v) {
  uint64_t x;
  if (!get(&x, 2)) return false;
  *v = static_cast<uint16_t>(x);
  return true;
}
bool Reader::u32(uint32_t* v) {
  uint64_t x;
  if (!get(&x, 4)) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}
bool Reader::u64(uint64_t* v) { return get(v, 8); }

bool Reader::bytes(void* out, size_t n) {
  if (remaining() < n) {
    off_ = n_;
    return false;
  }
  std::memcpy(out, p_ + off_, n);
  off_ += n;
  return true;
}

bool Reader::str(std::string* s, size_t max_len) {
  uint32_t len;
  if (!u32(&len)) return false;
  if (len > max_len || remaining() < len) {
    off_ = n_;
    return false;
  }
  s->assign(p_ + off_, len);
  off_ += len;
  return true;
}

bool Reader::skip(size_t n) {
  if (remaining() < n) {
    off_ = n_;
    return false;
  }
  off_ += n;
  return true;
}

uint32_t jump_hash(uint64_t key, uint32_t n) {
  // Each step draws the next "jump" point from a 64-bit LCG; the bucket is the last point < n.
  int64_t b = -1, j = 0;
  while (j < static_cast<int64_t>(n)) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = static_cast<int64_t>(static_cast<double>(b + 1) * (static_cast<double>(1ll << 31) /
                                                           static_cast<double>((key >> 33) + 1)));
  }
  return b < 0 ? 0u : static_cast<uint32_t>(b);
}

}  // namespace edaos::objstore::wire

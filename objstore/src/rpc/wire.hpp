// Little-endian binary encoder/decoder for RPC bodies and on-disk records.
// Readers never trust lengths: every get checks bounds and the reader remembers failure, so a
// truncated or hostile message decodes to `ok() == false` instead of reading out of bounds.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "edaos/objstore/types.hpp"

namespace edaos::objstore::rpc {

class Writer {
 public:
  template <typename T>
  Writer& put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Writer& str(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    buf_.append(s.data(), s.size());
    return *this;
  }
  Writer& uuid(const Uuid& u) {
    buf_.append(reinterpret_cast<const char*>(u.b), 16);
    return *this;
  }
  Writer& oid(const ObjectId& o) { return put(o.hi).put(o.lo); }
  std::string& buf() { return buf_; }
  std::string take() { return std::move(buf_); }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const void* p, size_t n) : p_(static_cast<const char*>(p)), n_(n) {}
  explicit Reader(std::string_view s) : Reader(s.data(), s.size()) {}

  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (!need(sizeof v)) return v;
    std::memcpy(&v, p_ + off_, sizeof v);
    off_ += sizeof v;
    return v;
  }
  std::string str() {
    uint32_t n = get<uint32_t>();
    if (!need(n)) return {};
    std::string s(p_ + off_, n);
    off_ += n;
    return s;
  }
  Uuid uuid() {
    Uuid u;
    if (!need(16)) return u;
    std::memcpy(u.b, p_ + off_, 16);
    off_ += 16;
    return u;
  }
  ObjectId oid() {
    ObjectId o;
    o.hi = get<uint64_t>();
    o.lo = get<uint64_t>();
    return o;
  }
  bool ok() const { return ok_; }
  size_t offset() const { return off_; }
  size_t remaining() const { return ok_ ? n_ - off_ : 0; }
  const char* cursor() const { return p_ + off_; }

 private:
  bool need(size_t k) {
    if (!ok_ || n_ - off_ < k) {
      ok_ = false;
      return false;
    }
    return true;
  }
  const char* p_;
  size_t n_;
  size_t off_ = 0;
  bool ok_ = true;
};

}  // namespace edaos::objstore::rpc

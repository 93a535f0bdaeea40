// The RPC body codec: the base layer's little-endian Encoder/Decoder (common/codec.hpp) under
// the names the client and server call (`Writer::put<T>`, `Reader::get<T>`), plus the Uuid and
// ObjectId forms. Readers never trust lengths: every get checks bounds and the reader remembers
// failure, so a truncated or hostile message decodes to `ok() == false` instead of reading out
// of bounds. Integers and enums go out little-endian at their own width.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/codec.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore::rpc {

class Writer {
 public:
  template <typename T>
  Writer& put(T v) {
    e_.le(v);
    return *this;
  }
  Writer& str(std::string_view s) {  // u32 length + bytes
    e_.str32(s);
    return *this;
  }
  Writer& uuid(const Uuid& u) {
    e_.bytes(u.b, 16);
    return *this;
  }
  Writer& oid(const ObjectId& o) { return put(o.hi).put(o.lo); }
  std::string& buf() { return e_.buf(); }
  std::string take() { return e_.take(); }

 private:
  codec::Encoder e_;
};

class Reader {
 public:
  Reader(const void* p, size_t n) : d_(p, n) {}
  explicit Reader(std::string_view s) : d_(s) {}

  // The value, or T{} once the reader has failed.
  template <typename T>
  T get() {
    return d_.get<T>();
  }
  std::string str() {
    std::string s;
    d_.str32(&s);
    return s;
  }
  Uuid uuid() {
    Uuid u;
    d_.bytes(u.b, 16);
    return u;
  }
  ObjectId oid() {
    ObjectId o;
    o.hi = get<uint64_t>();
    o.lo = get<uint64_t>();
    return o;
  }
  bool ok() const { return d_.ok(); }
  size_t offset() const { return d_.offset(); }
  size_t remaining() const { return d_.remaining(); }
  const char* cursor() const { return d_.cursor(); }

 private:
  codec::Decoder d_;
};

}  // namespace edaos::objstore::rpc

// Object tokens: the 16 bytes of the object's 128-bit OID (hi, then lo, little-endian).
#include <cinttypes>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {

H5O_token_t oid_to_token(const ObjectId& o) {
  H5O_token_t t;
  memset(&t, 0, sizeof t);
  std::string b = oid_bytes(o);
  memcpy(t.__data, b.data(), std::min(sizeof t.__data, b.size()));
  return t;
}

ObjectId token_to_oid(const H5O_token_t& t) {
  return oid_from_bytes(std::string(reinterpret_cast<const char*>(t.__data), 16));
}

herr_t token_cmp(void*, const H5O_token_t* t1, const H5O_token_t* t2, int* cmp) {
  ObjectId a = token_to_oid(*t1), b = token_to_oid(*t2);
  *cmp = a == b ? 0 : (a < b ? -1 : 1);
  return 0;
}

herr_t token_to_str(void*, H5I_type_t, const H5O_token_t* t, char** str) {
  std::string s = token_to_oid(*t).to_string();
  *str = static_cast<char*>(H5allocate_memory(s.size() + 1, false));
  if (!*str) return -1;
  memcpy(*str, s.c_str(), s.size() + 1);
  return 0;
}

herr_t token_from_str(void*, H5I_type_t, const char* str, H5O_token_t* t) {
  auto o = ObjectId::parse(str);
  if (!o.ok()) {
    H5VL_EDAOS_ERR_ST(o.status(), "bad object token string");
    return -1;
  }
  *t = oid_to_token(o.value());
  return 0;
}

}  // namespace edaos::h5vol

// Private to the Engine's implementation files (engine*.cpp): the LMDB database layout, the
// format versions, the size-log record shape and the shard keys they all share. Nothing else
// includes this header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edaos/objstore/types.hpp"
#include "vos/engine.hpp"
#include "vos/vos_internal.hpp"

namespace edaos::objstore::vos::detail {

// Named databases of meta.mdb, in the order LmdbEnv::open gets their names (kDbNames).
enum EngineDb : size_t { kDbMeta = 0, kDbArrays, kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys };

constexpr char kFormatMagic[] = "EDAOS-ENGINE";
constexpr uint32_t kEngineFormatOldest = 1;  // opened and upgraded in place
// Versions 1-3 are upgraded: 1 -> 2 at open (the size log), 2 -> 3 at the first long KV key,
// and any of them -> 4 + `legacy 1` before the first format-2 record or intent is stored.
constexpr uint32_t kEngineFormatNoLongKeys = 2;
constexpr uint32_t kEngineFormatLongKeys = 3;
constexpr uint32_t kEngineFormatRecords = 4;  // written at creation
// Size log record (see README): magic, shard key, logical_end, zero, FNV-1a 64 of bytes 0..55.
constexpr char kSizeLogName[] = "sizes.log";
constexpr char kSizeMagic[4] = {'E', 'D', 'S', 'Z'};
constexpr size_t kSizeRec = 64;
constexpr size_t kShardKeyLen = 36;
// cont(16) + oid.hi(8 BE) + oid.lo(8 BE) + shard(4 BE)
inline std::string shard_key(const ShardRef& r) {
  std::string k(reinterpret_cast<const char*>(r.cont.b), 16);
  put_be(&k, r.oid.hi, 8);
  put_be(&k, r.oid.lo, 8);
  put_be(&k, r.shard, 4);
  return k;
}
inline std::string cont_key(const Uuid& u) {
  return std::string(reinterpret_cast<const char*>(u.b), 16);
}
inline ObjectId oid_of_key(std::string_view k) {
  return ObjectId{get_be(k.data() + 16, 8), get_be(k.data() + 24, 8)};
}

// Allocated bytes of every regular file below `path` (engine.cpp).
uint64_t tree_bytes(const std::string& path);

}  // namespace edaos::objstore::vos::detail

// Metadata helpers of the KV handlers (session 8, issue 17): a directory entry's get and the
// size of the byte array it names, in one request (kKvGetSize inside kKvVec).
//
// The server does not know what the value is (no namespace format here): the client says where
// in the value the OID sits. The object's shards are found with the same placement as the
// client's (compute_layout over the pool map), and the client checks that every shard the
// server answered for is where its own map puts it before it keeps the size.
#include "server/server_meta.hpp"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "common/log.hpp"
#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/pool_map.hpp"
#include "placement/placement.hpp"
#include "rpc/proto.hpp"
#include "rpc/wire.hpp"
#include "vos/pool_store.hpp"

EDAOS_LOG_FACILITY(server);

namespace edaos::objstore::server {

namespace {

// Pool maps read for placement, one per pool (the map changes only when engines are excluded,
// which bumps its version: a client naming another version makes the server read it again).
struct MapCache {
  std::mutex mu;
  std::map<Uuid, std::shared_ptr<const PoolMap>> maps;
};
MapCache& map_cache() {
  static MapCache* c = new MapCache;  // never destroyed: service threads may outlive statics
  return *c;
}

std::shared_ptr<const PoolMap> pool_map(const std::string& dir, const Uuid& pool,
                                        uint32_t want_version) {
  MapCache& c = map_cache();
  {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.maps.find(pool);
    if (it != c.maps.end() && it->second->version == want_version) return it->second;
  }
  std::string blob;
  auto hdr = vos::PoolStore::read_header(dir, &blob);
  if (!hdr.ok() || hdr->uuid != pool) return nullptr;
  auto map = PoolMap::decode(blob);
  if (!map.ok()) return nullptr;
  auto shared = std::make_shared<const PoolMap>(std::move(map).value());
  std::lock_guard<std::mutex> g(c.mu);
  c.maps[pool] = shared;
  return shared;
}

uint64_t le64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string state_only(uint8_t state, uint32_t version) {
  rpc::Writer w;
  w.put(state).put(version);
  return w.take();
}

}  // namespace

bool meta_names_array(const std::string& value, uint32_t oid_off) {
  if (value.size() < 16 || oid_off > value.size() - 16) return false;
  ObjectId oid;
  oid.hi = le64(value.data() + oid_off);
  oid.lo = le64(value.data() + oid_off + 8);
  return !(oid == ObjectId{}) && otype_of(oid) == ObjType::kArray;
}

std::string meta_array_sizes(const std::string& pool_dir, const Uuid& pool, const Uuid& cont,
                             const std::string& value, uint32_t oid_off,
                             uint32_t client_map_version,
                             const std::function<vos::Engine*(uint32_t)>& engine_of,
                             const std::function<bool(uint32_t, const vos::ShardRef&)>& leased) {
  if (value.size() < 16 || oid_off > value.size() - 16) return state_only(rpc::kSizeNoArray, 0);
  ObjectId oid;
  oid.hi = le64(value.data() + oid_off);
  oid.lo = le64(value.data() + oid_off + 8);
  if (oid == ObjectId{} || otype_of(oid) != ObjType::kArray)
    return state_only(rpc::kSizeNoArray, 0);
  auto map = pool_map(pool_dir, pool, client_map_version);
  if (!map) return state_only(rpc::kSizeFailed, 0);
  auto layout = compute_layout(*map, oid);
  if (!layout.ok()) return state_only(rpc::kSizeFailed, map->version);
  const Layout& l = layout.value();
  // Every shard's engine first: a shard elsewhere means the client asks all of them itself,
  // so no shard is read for nothing.
  const size_t n = l.shards.size();
  std::vector<vos::Engine*> engines(n);
  for (size_t s = 0; s < n; ++s) {
    engines[s] = engine_of(l.shards[s].engine);
    if (!engines[s]) return state_only(rpc::kSizeElsewhere, map->version);
  }
  rpc::Writer w;
  w.put(rpc::kSizeGiven).put(map->version).put(static_cast<uint32_t>(n));
  for (size_t s = 0; s < n; ++s) {
    vos::ShardRef ref;
    ref.cont = cont;
    ref.oid = oid;
    ref.shard = static_cast<uint32_t>(s);
    ref.target = l.shards[s].target;
    auto end = engines[s]->array_logical_end(ref);
    if (!end.ok()) {
      EDAOS_LOG(debug, "kKvGetSize: size of shard %zu of %s: %s", s, oid.to_string().c_str(),
                end.status().message().c_str());
      return state_only(rpc::kSizeFailed, map->version);
    }
    // A direct write call returns before its commit (which raises the end) is applied, its
    // writer holding an OFD lock on what it wrote until then (client/README.md "Commit
    // pipelining"): with such a lock at or past the end, the client asks the size itself
    // (kArraySize, which waits for the commit), as it does when a size failed here.
    if (!leased(l.shards[s].engine, ref)) {
      w.put(l.shards[s].engine).put(l.shards[s].target).put(end.value());
      continue;
    }
    if (engines[s]->direct_write_past(ref, end.value()))
      return state_only(rpc::kSizeFailed, map->version);
    // No lock: every such write that returned is applied, and the end read again covers it (a
    // commit applied between the first read and the probe released its lock after).
    end = engines[s]->array_logical_end(ref);
    if (!end.ok()) return state_only(rpc::kSizeFailed, map->version);
    w.put(l.shards[s].engine).put(l.shards[s].target).put(end.value());
  }
  return w.take();
}

}  // namespace edaos::objstore::server

// Metadata helpers of the KV handlers (session 8, issue 17): the size part of kKvGetSize.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "edaos/objstore/types.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::server {

// The SizeWire (rpc/proto.hpp) of a kKvGetSize whose get returned `value`: the logical end of
// every shard of the byte array whose OID is at byte `oid_off` of `value` (u64 hi LE, u64 lo
// LE), placed with the pool map of `pool_dir` (cached per pool, re-read when the client's
// `client_map_version` differs from the cached one). `engine_of(id)` is the up engine `id` of
// this rank, or null (not hosted, down): one such shard makes the state kSizeElsewhere and no
// shard is read. Never fails: what cannot be answered is a state the client falls back on.
// `leased(engine, ref)`: the shard has a live direct-path write lease (its end is then probed
// for a direct write whose commit is in flight; one held makes the state kSizeFailed).
std::string meta_array_sizes(const std::string& pool_dir, const Uuid& pool, const Uuid& cont,
                             const std::string& value, uint32_t oid_off,
                             uint32_t client_map_version,
                             const std::function<vos::Engine*(uint32_t)>& engine_of,
                             const std::function<bool(uint32_t, const vos::ShardRef&)>& leased);

// True when `value` holds, at byte `oid_off`, the OID of a byte array (kKvTakeArray).
bool meta_names_array(const std::string& value, uint32_t oid_off);

}  // namespace edaos::objstore::server

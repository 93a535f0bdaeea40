// Placement: which engine and target hold each shard of an object.
//
// compute_layout() is a pure function of (pool map, object ID). It ignores engine *state*
// (state matters only for I/O and rebuild), so data written by one job is found by the next as
// long as the map's engine list is the same. Invariants (tested in unit_placement_layout.cpp,
// algorithm in objstore/src/placement/README.md):
//  - the shards of one group are on distinct engines, always;
//  - they are on distinct domains (nodes) whenever num_domains >= group_size, and otherwise
//    spread over the domains as evenly as the domain sizes allow;
//  - over many objects every engine gets about the same number of shards, and the targets of
//    an engine are used evenly; within one object, shards on the same engine use distinct
//    targets until all of that engine's targets are used;
//  - consecutive groups continue where the previous group stopped, so an object with
//    ngroups * group_size >= num_engines (e.g. any GX object) touches every engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/pool_map.hpp"
#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

struct ShardLoc {
  uint32_t engine = 0;  // engine id (index in PoolMap::engines)
  uint32_t target = 0;  // target index inside that engine, < ntargets
  friend bool operator==(const ShardLoc& a, const ShardLoc& b) {
    return a.engine == b.engine && a.target == b.target;
  }
  friend bool operator!=(const ShardLoc& a, const ShardLoc& b) { return !(a == b); }
};

struct Layout {
  ObjClass oclass;          // as encoded in the oid (GX stays groups == 0 here)
  uint32_t ngroups = 1;     // resolved group count (GX resolved against the map)
  uint32_t group_size = 1;  // oclass.group_size()
  // ngroups * group_size entries, group-major; within a group EC data shards 0..k-1 first,
  // then parity shards k..k+p-1; RP replicas in replica order.
  std::vector<ShardLoc> shards;

  // Shard `idx` of group `group`. Both must be in range (asserted).
  const ShardLoc& at(uint32_t group, uint32_t idx) const;
  // The group that serves a dkey: dkey_hash % ngroups. With chunk_dkey_hash() (identity),
  // byte-array chunk i lives in group i % ngroups, so consecutive chunks go round-robin.
  uint32_t group_of(uint64_t dkey_hash) const;
};

// The number of groups compute_layout() uses for `oc` on `map`: G<n> -> n; GX ->
// max(1, num_targets / group_size), capped at kMaxGroups. That is, a GX object gets one shard
// per target of the pool (rounded down to whole groups). Unlike DAOS, no targets are held back
// for rebuild. Requires a valid class and a non-empty map.
uint32_t group_count(const ObjClass& oc, const PoolMap& map);

// The layout of `oid` on `map`. EDAOS_NOENGINE / EDAOS_INVAL exactly as validate_for_pool()
// (an invalid class in the oid is EDAOS_INVAL).
Result<Layout> compute_layout(const PoolMap& map, ObjectId oid);

// Hash of a dkey given as bytes: 64-bit FNV-1a over the bytes followed by the MurmurHash3
// fmix64 finalizer. Defined byte-for-byte (no platform or library hash), so it is stable across
// platforms and releases: changing it would strand stored data. Golden values are in the tests.
uint64_t dkey_hash(const void* key, size_t len);

// dkey hash of byte-array chunk `chunk_index`: the identity, so that Layout::group_of() sends
// consecutive chunks to consecutive groups (chunk i -> group i % ngroups). Objects differ in
// where their group 0 sits, so chunk 0 of many files does not pile onto one engine.
inline uint64_t chunk_dkey_hash(uint64_t chunk_index) { return chunk_index; }

}  // namespace edaos::objstore

// Metadata reads without the server (session 10, issue 17): a client on the node of an engine's
// server reads KV values and array sizes from the engine's meta.mdb and sizes.log itself
// (vos::MetaReader), so a get or a stat of such an entry sends no message. What it cannot settle
// goes to the server as before. See objstore/src/client/README.md "Local metadata reads" and
// objstore/src/dfs/README.md "Metadata reads without the server".
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "client/client_internal.hpp"

namespace edaos::objstore::client {

// $EDAOS_LOCAL_META: "0" turns the local reads off (every get through the server); anything
// else or unset: on. Read once per process; tests may override it.
bool local_meta_enabled();
// Tests (exported for the test programs, which declare them themselves): 1 on, 0 off, -1 back
// to $EDAOS_LOCAL_META, from the next call on; the gets answered locally so far.
EDAOS_API void set_local_meta_for_testing(int on);
// $EDAOS_META_PAGE: "0" = the local sizes ignore the servers' metadata pages (session 11: probe
// every shard file, read the logs at every size, as session 10 did). Tests: 1 on, 0 off, -1
// back to the variable, from the next size on.
EDAOS_API void set_meta_page_for_testing(int on);
EDAOS_API uint64_t local_meta_gets_for_testing();

struct LocalMetaCounters {
  std::atomic<uint64_t> gets{0};       // gets answered locally (value or EDAOS_NONEXIST)
  std::atomic<uint64_t> sized{0};      // of them, array sizes given with the value
  std::atomic<uint64_t> fallbacks{0};  // gets on a local engine the reader could not settle
  std::atomic<uint64_t> unsized{0};    // values read locally whose array size was not settled
  std::atomic<uint64_t> locked{0};     // of those, a direct writer's lock on a shard file
  std::atomic<uint64_t> probes{0};     // shard files probed for a writer's lock (session 11)
};
// Tests (exported): shard files probed and sizes.log reads of the local sizes so far.
EDAOS_API uint64_t local_meta_probes_for_testing();
EDAOS_API uint64_t local_meta_log_reads_for_testing();
// Tests (exported, session 12): local sizes answered from the connection's per-object cache
// (no engine read: every generation of the object's engines unchanged, no shard leased).
EDAOS_API uint64_t local_meta_cached_sizes_for_testing();
LocalMetaCounters& local_meta_counters();

// Drops the readers of a connection (Pool::disconnect and ~Pool).
void local_meta_close(PoolState& p);

// What a local get settled.
enum class LocalGet {
  kNo,     // nothing: ask the server (engine not local, down, unreadable here, or a failure)
  kValue,  // *value read (OK) or the entry is absent (*st = EDAOS_NONEXIST)
};

// The get of (dkey, akey) from copy `shard` (on `engine`, target `target`) of KV `kv` in
// container `c`, as the server holding it would answer it now.
LocalGet local_kv_get(ContState& c, const ObjectId& kv, uint32_t engine, uint32_t shard,
                      uint32_t target, const std::string& dkey, const std::string& akey,
                      std::string* value, Status* st);

// The size of byte array `oid` (Array::get_size's rules over its shards' logical ends) when every
// shard a read may use is on an engine of this node and no direct writer holds a lock on one of
// its files; false otherwise (the caller asks the servers).
bool local_array_size(ContState& c, const ObjectId& oid, uint64_t* size);

// Array::get_size's rule over the logical ends of every shard of layout `l` (shard order): the
// largest end of the shards reads may use; false when a group has no readable shard holding
// its size (EC: a parity shard or all data shards). Shared with kKvGetSize replies (kv.cpp).
bool size_from_ends(const PoolState& p, const Layout& l, const std::vector<uint64_t>& ends,
                    uint64_t* size);

// A KvOp of kind kGet or kGetArraySize answered from this node (kv.cpp): true when `op` is
// settled as KV::run would settle it (value or status, and for kGetArraySize the size when the
// value names a byte array); false: nothing was changed, ask the server.
bool kv_local_get(KV& kv, KvOp* op);
// The same for KV `kv` of container `c` without a handle (session 12: a stat by name needs no
// KV handle when the local reads answer it; the last KV's layout is kept per thread).
bool kv_local_get_at(ContState& c, const ObjectId& kv, KvOp* op);

}  // namespace edaos::objstore::client

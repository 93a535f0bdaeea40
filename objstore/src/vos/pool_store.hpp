// Pool directory and pool-service metadata store (server side, local I/O only, no MPI).
//
// A pool is a directory:
//
//   <pool>/POOL            header + opaque pool map (atomically replaced; see README)
//   <pool>/CREATE.lock     flock of the processes creating the pool (they serialise); removed
//                          once POOL exists, kept after a failed creation
//   <pool>/CREATING        present only while a creation is unfinished (or was interrupted)
//   <pool>/psvc/           LMDB env of the pool service: containers, OID allocators, attributes
//   <pool>/psvc/LOCK       flock owner file of the pool service ("host:pid"): the pool lock
//   <pool>/engine-NNNN/    one per engine, NNNN = zero-padded engine index (see engine.hpp),
//                          with IDENTITY naming the pool (see identity.hpp)
//
// The on-disk formats are documented in objstore/src/vos/README.md.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore::vos {

namespace detail {
class DirLock;
class LmdbEnv;
}  // namespace detail

// Version written into <pool>/POOL. read_header refuses anything else with EDAOS_FORMAT.
constexpr uint32_t kPoolFormatVersion = 1;
// Labels (pool and container) are at most this many bytes and contain no control characters.
constexpr size_t kMaxLabelLen = 127;
// First number alloc_oids ever returns for a container (0 is never handed out).
constexpr uint64_t kFirstOidSeq = 1;

struct PoolHeader {
  uint32_t format_version = kPoolFormatVersion;
  Uuid uuid;
  std::string label;
  uint32_t nengines = 0, ntargets = 0;  // ntargets: targets per engine
  uint64_t quota_bytes = 0;             // per engine; 0 = file-system limit
  uint64_t ctime = 0;                   // seconds since the epoch
  // Every engine and the pool service record the pool UUID (header line "identity 1"). Set by
  // create; a pool of an older build gets it once all of its engines carry an identity.
  bool identity = false;
};

// What a directory holds, as far as pools are concerned (inspect_pool_dir).
struct PoolDirState {
  enum Kind {
    kAbsent,    // no such directory
    kEmpty,     // an empty directory (only CREATE.lock counts as empty)
    kPool,      // a pool: POOL is there
    kCreating,  // a creation is running or was interrupted (CREATING, no POOL)
    kDamaged,   // engine directories and/or psvc but no POOL and no CREATING
    kOther,     // not a directory, or a directory holding something else
  } kind = kAbsent;
  std::string what;   // kDamaged: what is there; kOther: the problem
  std::string entry;  // kOther with a readable directory: its first entry that is no pool's
};
// Looks at `dir` without changing anything.
PoolDirState inspect_pool_dir(const std::string& dir);
// The error for a damaged pool directory (EDAOS_FORMAT): says what is there, that POOL is
// missing and that nothing was changed.
Status damaged_pool_error(const std::string& dir, const std::string& what);

// "engine-0007": the directory name of engine `idx` inside a pool directory.
std::string engine_dir_name(uint32_t idx);

// The pool service's metadata. One instance per process that serves the pool (the lead server
// rank); open() takes an exclusive lock so a second job sees EDAOS_BUSY. Every call is
// serialised by an internal mutex, so concurrent callers are safe.
//
// Durability: every mutating call commits a fully synced LMDB transaction before returning
// (metadata operations are rare; the OID allocator is meant to be called for batches), so an
// acknowledged change survives a process kill and a machine crash.
class PoolStore {
 public:
  // Creates a pool in <dir> (made with its parents when absent) only when <dir> is absent or
  // empty: psvc/ and every engine-NNNN/ (formatted, with tgt-T/ directories and IDENTITY),
  // then POOL. Atomic and idempotent across processes: creators serialise on the flock of
  // <dir>/CREATE.lock (waiting up to `wait_s` seconds for one that is running), and a creator
  // that finds POOL once it holds the lock returns EDAOS_EXIST. CREATING marks the work in
  // progress, so the leftovers of an interrupted creation are removed and the creation redone;
  // POOL is written last, so no one ever connects to a half-made pool.
  // EDAOS_EXIST: a pool is there (or another creator made it first). EDAOS_FORMAT: a damaged
  // pool (engines or psvc without POOL), left untouched. EDAOS_NOTEMPTY: <dir> holds other
  // things. EDAOS_INVAL: bad label (too long, control characters), nengines == 0 or
  // ntargets == 0. EDAOS_BUSY: another creator did not finish within `wait_s`.
  // hdr.format_version and hdr.identity are ignored (the current version, identity 1).
  static Status create(const std::string& dir, const PoolHeader& hdr,
                       const std::string& pool_map_blob, double wait_s = 120);
  // Reads <dir>/POOL. EDAOS_NONEXIST when there is no pool; EDAOS_FORMAT for a bad magic,
  // unknown version or failed integrity check, and for a damaged pool directory (engines or
  // psvc without POOL: damaged_pool_error). *pool_map_blob (if non-null) gets the pool map.
  static Result<PoolHeader> read_header(const std::string& dir, std::string* pool_map_blob);
  // Rewrites the header with identity = true (map unchanged), atomically. Callers serialise
  // (the pool service leader, holding the pool lock).
  static Status set_identity_flag(const std::string& dir);
  // Replaces the pool map (header unchanged) atomically: temp + fsync + rename + fsync dir.
  // Callers serialise (only the pool service leader writes the map).
  static Status write_pool_map(const std::string& dir, const std::string& blob);
  // Opens psvc/ (EDAOS_NONEXIST if the pool does not exist) after locking psvc/LOCK
  // (EDAOS_BUSY "pool in use by host:pid" when another process holds it). The pool service
  // records the pool UUID: another UUID than POOL's is EDAOS_FORMAT naming both (a POOL file
  // of another pool), none is EDAOS_FORMAT when the header has identity, else it is recorded
  // (the upgrade of a pool made by an older build).
  static Result<std::unique_ptr<PoolStore>> open(const std::string& dir);
  ~PoolStore();
  PoolStore(const PoolStore&) = delete;
  PoolStore& operator=(const PoolStore&) = delete;

  // ---- containers: opaque records keyed by UUID, with a unique index on non-empty labels ----
  // EDAOS_EXIST (message names the UUID or label) if the uuid or a non-empty label is taken;
  // EDAOS_INVAL for a nil uuid or bad label.
  Status cont_create(const Uuid& uuid, const std::string& label, const std::string& record);
  Result<std::string> cont_get(const Uuid& uuid);            // EDAOS_NONEXIST
  Result<Uuid> cont_lookup_label(const std::string& label);  // EDAOS_NONEXIST
  // Replaces label and record; EDAOS_NONEXIST if absent, EDAOS_EXIST if new_label belongs to
  // another container. An empty new_label removes the label.
  Status cont_update(const Uuid& uuid, const std::string& new_label, const std::string& record);
  // Removes the record, its label, its OID allocator, its attributes and its destroy mark.
  // EDAOS_NONEXIST.
  Status cont_destroy(const Uuid& uuid);
  // Marks the container as being destroyed (durable; idempotent). A marked container keeps its
  // record and label until cont_destroy, so an interrupted destroy can be found and finished.
  // EDAOS_NONEXIST.
  Status cont_mark_destroying(const Uuid& uuid);
  // Whether the container carries the destroy mark. EDAOS_NONEXIST.
  Result<bool> cont_destroying(const Uuid& uuid);
  // Every container carrying the destroy mark, sorted by uuid bytes.
  Result<std::vector<Uuid>> cont_list_destroying();
  // Every container as (uuid, label), sorted by uuid bytes.
  Result<std::vector<std::pair<Uuid, std::string>>> cont_list();

  // Returns `first`; [first, first+count) are fresh for `cont` and never returned again, even
  // after a kill -9 or a machine crash (the counter is committed with a synced transaction
  // before the call returns). EDAOS_NONEXIST for an unknown container, EDAOS_INVAL for
  // count == 0, EDAOS_NOSPACE when the 64-bit sequence space is exhausted.
  Result<uint64_t> alloc_oids(const Uuid& cont, uint64_t count);

  // ---- small attributes; `cont` nil = pool-level. Names are non-empty, at most 400 bytes ----
  // On a non-nil cont these return EDAOS_NONEXIST if the container does not exist.
  Status attr_set(const Uuid& cont, const std::string& name, const std::string& value);
  Result<std::string> attr_get(const Uuid& cont, const std::string& name);  // EDAOS_NONEXIST
  Status attr_del(const Uuid& cont, const std::string& name);               // EDAOS_NONEXIST
  Result<std::vector<std::string>> attr_list(const Uuid& cont);             // sorted names

  // Forces LMDB to disk (every commit already is; kept for symmetry with Engine::sync).
  Status sync();

 private:
  PoolStore() = default;
  Status cont_exists_locked(void* txn, const Uuid& uuid);
  std::mutex mu_;
  std::string dir_;
  std::unique_ptr<detail::DirLock> lock_;
  std::unique_ptr<detail::LmdbEnv> db_;
};

}  // namespace edaos::objstore::vos

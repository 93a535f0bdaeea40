// edaos object store: C++ API.
//
// Model (DAOS's): a *pool* is a directory of engines (fault domains) served by designated MPI
// ranks of the running job; a *container* in the pool has properties (object classes, chunk
// size, EC cell size, redundancy factor, checksums); *objects* in a container are byte arrays
// or key-value stores, placed on engines by their object class.
//
// Threading: every call is thread-safe unless noted. Collective calls say so and must be made
// by every rank of the communicator they take, in the same order; every rank then returns the
// same status. Calls that do not say "collective" may be made by any rank alone.
// Ownership: handles are shared_ptr / unique_ptr owned by the caller. A Container keeps its
// pool connection's state alive, an Array or KV its container's; releasing them needs no
// communication. References returned by accessors stay valid while the handle lives.
// Errors: Status / Result<T> carry a code from status.h and a message fit for a user. Before
// init() (or after finalize()) the pool calls return EDAOS_NOTINIT. A call that reaches the
// servers may also fail with their errors: EDAOS_UNREACH (an engine cannot be reached),
// EDAOS_IO (an engine's storage failed; the message names the engine), EDAOS_PROTO (a
// malformed reply). No call throws (std::bad_alloc aside).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/pool_map.hpp"
#include "edaos/objstore/props.hpp"
#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

namespace client {
struct PoolState;
struct ContState;
}  // namespace client

struct InitOptions {
  // Which ranks serve, in cb_config_list grammar ("*:1" = one per node, "*:2", "host:1", ...).
  // Empty: $EDAOS_SERVER_RANKS, else "*:1".
  std::string server_ranks;
};

// Collective over `comm` (normally MPI_COMM_WORLD: every rank of the job, servers included).
// Gathers the processor names, picks the server ranks (opts.server_ranks over them, as ROMIO
// picks aggregators) and starts a progress thread and its service threads on each server rank,
// which keeps running the application too. With the MPI transport (EDAOS_TRANSPORT, see
// src/runtime/README.md) MPI must provide MPI_THREAD_MULTIPLE (EDAOS_NOTSUP otherwise); MPI not
// initialized is EDAOS_NOTINIT; a malformed server list or one that selects no rank is
// EDAOS_INVAL. Calling it again while initialized is EDAOS_OK and does nothing (no
// communication). Serialized with finalize() by a process-wide lock.
EDAOS_CXX_API Status init(MPI_Comm comm, const InitOptions& opts = {});
// Collective over init's communicator. Drops the shared pool connections
// (release_shared_pools), waits until every rank is done, stops the servers and releases every
// pool lock. Open handles become unusable (release them before). EDAOS_OK, also when not
// initialized (then not collective).
EDAOS_CXX_API Status finalize();
// True between a successful init() and finalize().
EDAOS_CXX_API bool is_initialized();
// Ranks that serve engines (in init's communicator), in server-index order; empty when not
// initialized. A copy.
EDAOS_CXX_API std::vector<int> server_ranks();
// The directory of the default pool: the pool spec $EDAOS_POOL, else $DAOS_POOL, else
// "./edaos-pool", resolved by resolve_pool() (edaos/objstore/names.hpp), so a bare label such as
// DAOS_POOL=datascience names a pool directory of the pool home.
EDAOS_CXX_API std::string default_pool_path();

// Smallest quota an engine can get: PoolCreateOptions::size_bytes / engines below it is
// EDAOS_INVAL (it would otherwise round to 0, which means "no quota").
constexpr uint64_t kMinEngineQuotaBytes = uint64_t{1} << 20;

struct PoolCreateOptions {
  std::string label;        // default: last path component
  uint32_t engines = 0;     // 0: servers x $EDAOS_ENGINES_PER_SERVER (default 8)
  uint32_t targets = 0;     // per engine; 0: $EDAOS_TARGETS_PER_ENGINE (default 4)
  uint64_t size_bytes = 0;  // quota over all engines (>= engines x kMinEngineQuotaBytes);
                            // 0: the file system's free space
};

struct ConnectOptions {
  // An administrative connection (`edaos pool query`, `pool exclude`): an engine that fails to
  // open with a transient error (EMFILE, EIO, a held lock, ...) is reported down in query()
  // instead of failing the connection. A write through it that would skip the engine is
  // refused. Ordinary connections fail on such an error (after retrying it for ~2 s).
  bool admin = false;
};

struct SharedPoolOptions {
  bool create = false;            // create the pool when there is none (EDAOS_NONEXIST)
  PoolCreateOptions create_opts;  // used when creating
};

struct EngineStatus {
  uint32_t id = 0;
  uint32_t domain = 0;
  std::string domain_name;
  uint32_t targets = 0;
  bool up = true;
  std::string why_down;
  uint64_t total = 0, free = 0;
};

struct PoolInfo {
  Uuid uuid;
  std::string label, path;
  uint32_t map_version = 0;
  uint32_t engines = 0, engines_down = 0;
  uint32_t targets = 0, targets_disabled = 0;
  uint64_t total = 0, free = 0;  // bytes over up engines
  std::vector<EngineStatus> engine_status;
};

struct Stats {
  uint64_t rpcs, bytes_written, bytes_read, full_stripe_writes, partial_stripe_writes,
      degraded_reads, csum_errors, csum_retries, repairs;
};
// Counters of this process since init() (relaxed atomic reads: a snapshot, not a transaction);
// all zero when not initialized.
EDAOS_CXX_API Stats stats();
// What the direct path (one-copy I/O on the engine's node, $EDAOS_DIRECT) did in this process:
// ops served directly, leases asked, commits sent, writes redone through the engine after a
// recall, direct reads that failed verification (then served by the engine), refused leases,
// descriptors of idle leases closed to stay under a quarter of RLIMIT_NOFILE.
struct DirectStats {
  uint64_t writes, reads, leases, commits, stale, read_fallbacks, refused, fds_closed;
};
EDAOS_CXX_API DirectStats direct_stats();
// Testing only: called by the direct path at named points ("direct:before-commit": the data of
// a set of direct writes is in the shard files, their records are not committed yet). nullptr
// (the default) disables it. Process-wide.
EDAOS_CXX_API void set_direct_hook_for_testing(void (*hook)(const char* point));
// Testing only: the direct-path write leases the servers running in this process hold
// (granted and not yet released, recalled or dropped at the holder's pool close).
EDAOS_CXX_API uint64_t server_leases_for_testing();
// Testing only (metadata, session 6): the next `n` group commits (one LMDB transaction of two
// or more KV changes) of the engines served in this process fail with EDAOS_IO after every
// change ran, as a failing disk would make them; 0 ends it. Process-wide.
EDAOS_CXX_API void fail_kv_group_commits_for_testing(int n);

// Testing only (session 7): the round trips the calling thread has waited for: a wait counts
// when the thread sent a message since its previous wait, so messages sent together and waited
// for one after the other count once (the store's batch path of every array, KV and namespace
// call, and calls to the lead server; the stripe-lock calls of partial EC writes are not
// counted). A call that costs one round trip sent every message it needed before waiting.
// Other threads' waits (the namespace's background threads among them) are not included.
EDAOS_CXX_API uint64_t rpc_round_trips_for_testing();

// Drops this process's shared pool connections (Pool::shared); not collective. Handles still
// held elsewhere keep their connection until released. finalize() calls it first.
EDAOS_CXX_API void release_shared_pools();

class Container;

class EDAOS_CXX_API Pool {
 public:
  // Collective over `comm` (rank 0 does the work): creates a pool in the directory `path`,
  // only when it is absent or empty. Atomic and idempotent across processes and jobs: racing
  // creators serialise, exactly one creates, the others get EDAOS_EXIST (and can connect).
  // EDAOS_EXIST: a pool is there. EDAOS_FORMAT: a damaged pool (engines or psvc without POOL),
  // left untouched. EDAOS_NOTEMPTY: the directory holds other things. EDAOS_INVAL: bad
  // options (e.g. size_bytes below engines x kMinEngineQuotaBytes). Fault domains are the
  // nodes of the server ranks; engines are spread over them.
  static Status create(const std::string& path, const PoolCreateOptions& opts, MPI_Comm comm);
  // Collective over `comm`: the lead server takes the pool lock, then every server opens the
  // engines it hosts. A pool served by another job gives EDAOS_BUSY "pool in use by
  // host:pid" and leaves nothing locked. Down is per job unless an operator excludes (see
  // objstore/README.md, "Faults"): engines excluded in the pool map, or lost (directory
  // missing, format or pool identity unrecognisable or foreign), are down; engines listed in
  // $EDAOS_ENGINES_DOWN are avoided by this connection's reads only. A transient open error
  // (EMFILE, ENFILE, ENOMEM, EIO, EROFS, EACCES, a lock of an exiting process) is retried for
  // ~2 s, then fails the connection with a message naming the engine and the error (see
  // ConnectOptions::admin). A POOL file that names another pool than its pool service or
  // engines is EDAOS_FORMAT naming both UUIDs; a damaged pool directory is EDAOS_FORMAT.
  static Result<std::shared_ptr<Pool>> connect(const std::string& path, MPI_Comm comm,
                                               const ConnectOptions& opts = {});
  // Collective over `comm`: this process's shared connection to the pool directory `dir`
  // (one per pool per process, keyed by the real path), connecting over `comm` when any rank
  // of `comm` has none yet, and creating the pool first when opts.create and there is none.
  // Every door (MPI-IO driver, HDF5 connector, benchmarks, tool) goes through it, so a process
  // holds one connection per pool whatever the communicators of its files. Kept until
  // release_shared_pools() or finalize(); never disconnect() a shared connection.
  static Result<std::shared_ptr<Pool>> shared(const std::string& dir, MPI_Comm comm,
                                              const SharedPoolOptions& opts = {});
  // Not collective: the shared connection if this process has one, else a new one over
  // MPI_COMM_SELF (then shared). Never creates a pool. Errors as connect().
  static Result<std::shared_ptr<Pool>> shared_local(const std::string& dir);
  // Closes a still connected handle without communicating with the other ranks (only the
  // connect root tells the servers), so every rank should disconnect() first; a shared
  // connection is closed this way by release_shared_pools().
  ~Pool();

  // Collective over the connect communicator: a barrier, then the connect root closes the pool
  // at every server; every rank returns the root's status. Idempotent (EDAOS_OK once
  // disconnected). Containers opened through this pool must not be used afterwards. Not for
  // shared connections (Pool::shared).
  Status disconnect();
  // Not collective. The pool's identity, this connection's view of every engine (up, or down
  // with why) and the space the servers report for the up engines. Asks every server; fails
  // with the first server's error.
  Result<PoolInfo> query();
  // The pool map as this connection sees it: engines this job cannot read are kDown. Valid
  // while the Pool lives; exclude() updates it, so do not read it concurrently with exclude().
  const PoolMap& map() const;
  // Not collective. Persists `engines` as down in the pool map (`edaos pool exclude`, DAOS's
  // `dmg pool exclude`): no job reads or writes them again; there is no reintegration (it
  // needs a rebuild). Already excluded engines are accepted. An id that is not an engine of
  // the pool is EDAOS_INVAL naming it. This handle's map is updated too.
  Status exclude(const std::vector<uint32_t>& engines);

  // Not collective. Creates a container and returns it open. The label (1..127 characters, not
  // a UUID) must be unique in the pool: EDAOS_EXIST otherwise, also for concurrent creators
  // (exactly one wins). props.label is set from it; empty owner/group/acl get the creating
  // user's and DAOS's default ACL (stored, not enforced). The object classes in props are
  // validated: EDAOS_INVAL (bad name, or not satisfying rd_fac), EDAOS_NOENGINE (too wide for
  // the pool).
  Result<std::shared_ptr<Container>> cont_create(const std::string& label, ContainerProps props);
  // Not collective. By label or UUID string. EDAOS_NONEXIST when there is none, or when an
  // earlier destroy did not finish (the message says to destroy it again); EDAOS_FORMAT for a
  // corrupt property record. The handle holds the properties as read now (see refresh()).
  Result<std::shared_ptr<Container>> cont_open(const std::string& label_or_uuid);
  // Not collective. Crash-safe: marks the container as being destroyed (durably), removes its
  // data on every engine, then its record. A kill in between, or a hosted engine that is down
  // (not excluded), leaves it marked: cont_open refuses it (EDAOS_NONEXIST saying so), and
  // calling cont_destroy again finishes it (EDAOS_UNREACH naming the down engines until they
  // are back or excluded).
  Status cont_destroy(const std::string& label_or_uuid);
  // Not collective. Every container as (uuid, label), marked ones included, from the pool
  // service (one call to the lead server).
  Result<std::vector<std::pair<Uuid, std::string>>> cont_list();
  // Not collective. Containers marked as being destroyed (an unfinished destroy).
  Result<std::vector<Uuid>> cont_destroying();

  // Internal (the library's own connection state); not for applications.
  explicit Pool(std::shared_ptr<client::PoolState> s);
  std::shared_ptr<client::PoolState> state() const { return s_; }

 private:
  std::shared_ptr<client::PoolState> s_;
};

class Array;
class KV;

// One write of Container::write_arrays: `len` bytes at `data` to [offset, offset + len) of the
// byte array `oid` (opened with `chunk_size` as Container::open_array does; 0: the
// container's). `status`: this write's outcome.
struct ArrayWrite {
  ObjectId oid;
  uint64_t chunk_size = 0;
  uint64_t offset = 0;
  const void* data = nullptr;
  uint64_t len = 0;
  Status status;
};

// An open container. Every call is independent (not collective). The properties are held by
// the handle: props(), and the defaults that alloc_oid / open_array use, are as of open,
// set_prop or refresh; set_prop and refresh replace them and must not run concurrently with
// readers of props() (the other calls are thread-safe).
class EDAOS_CXX_API Container {
 public:
  // Internal (made by Pool::cont_create / cont_open).
  explicit Container(std::shared_ptr<client::ContState> s);
  const Uuid& uuid() const;
  const ContainerProps& props() const;
  // The pool map of the connection this handle was opened through.
  const PoolMap& pool_map() const;
  // Sets one property (props.hpp: settable keys and values; read-only keys are EDAOS_INVAL)
  // after re-reading the current ones, validates the object classes against the pool and
  // rd_fac, and persists the record in the pool service. EDAOS_INVAL naming key and value,
  // EDAOS_NOENGINE (class too wide), EDAOS_EXIST (new label in use). Concurrent setters of one
  // container from several processes: the last record written wins.
  Status set_prop(const std::string& key, const std::string& value);
  // Re-reads the properties from the pool service. EDAOS_NONEXIST once the container is gone.
  Status refresh();

  // A new, never used object ID of `oc` and `type` from the container's allocator (one call
  // to the pool service). EDAOS_INVAL (invalid class, or one that does not satisfy rd_fac),
  // EDAOS_NOENGINE (too wide for the pool), EDAOS_NOSPACE (ID space exhausted).
  Result<ObjectId> alloc_oid(const ObjClass& oc, ObjType type);
  // Opens a byte array (need not exist yet: arrays spring into being on first write); no store
  // access. chunk_size 0: the container's; every opener of an array must use the chunk size it
  // was written with (the namespace records it per file). EDAOS_INVAL (not an array OID, chunk
  // size 0, EC class with ec_cell_sz 0), EDAOS_NOENGINE (class too wide for the pool map).
  Result<std::unique_ptr<Array>> open_array(ObjectId oid, uint64_t chunk_size = 0);
  // Opens a KV object (multi-level or flat; no store access). EDAOS_INVAL for an array OID,
  // EDAOS_NOENGINE (class too wide for the pool map).
  Result<std::unique_ptr<KV>> open_kv(ObjectId oid);
  // Writes many byte arrays at once (many small files: `edaos fs copy`, Dfs::create_files):
  // the writes of replica and single-shard classes share their messages (one per server rank
  // for up to 256 shard ops; on the direct path one lease and one commit message per
  // server rank for all of them) instead of a round trip or two each; EC writes and writes of
  // more than half that many shard ops run one by one, as Array::write. Each entry gets its
  // own status (as Array::write would give it); returns the first error. A failed write may
  // have written part of its range, like a failed Array::write.
  Status write_arrays(std::vector<ArrayWrite>* writes);
  // Durability barrier: every write acknowledged (by any process) before the call is on disk
  // when it returns. Syncs every engine of the pool, not only this container's data.
  Status sync();
  // Array::close for `oid` without a handle (MPI_File_close, dfs_release): every write of this
  // process to it that returned has its commit applied, and the first error one met after it
  // returned is reported, once.
  Status close_object(ObjectId oid);
  // Every object ID with data on some engine this job serves (for `fs check`), sorted,
  // without duplicates. Asks every server.
  Result<std::vector<ObjectId>> list_objects();
  // Container user attributes, stored by the pool service (names: 1..400 bytes, else
  // EDAOS_INVAL / EDAOS_NAMETOOLONG; values: any bytes). attr_set replaces; attr_get and
  // attr_del give EDAOS_NONEXIST for an absent name; attr_list lists the names.
  Status attr_set(const std::string& name, const std::string& value);
  Result<std::string> attr_get(const std::string& name);
  Result<std::vector<std::string>> attr_list();
  Status attr_del(const std::string& name);

  // Internal.
  std::shared_ptr<client::ContState> state() const { return s_; }

 private:
  std::shared_ptr<client::ContState> s_;
};

// A byte array object: read/write at any offset. Thread-safe; not collective. Made by
// Container::open_array; released by destroying it (no communication; the data stays).
// EC classes: full stripes (k x ec_cell_sz) are encoded by the writer and sent to all k+p
// shards; partial stripes are read-modify-written under a per-stripe lock held by the group's
// leader engine, so concurrent writers of different cells of one stripe stay correct.
// Errors of every call: EDAOS_DEGRADED when more engines of a redundancy group are down (or
// their cells unusable) than the class tolerates, then no wrong byte is returned or
// acknowledged; EDAOS_UNREACH / EDAOS_IO / EDAOS_NOSPACE from an engine.
class EDAOS_CXX_API Array {
 public:
  virtual ~Array() = default;
  virtual ObjectId oid() const = 0;
  // The chunk size in use; for EC classes rounded up to a whole number of stripes.
  virtual uint64_t chunk_size() const = 0;
  // Writes the iovecs' bytes, back to back, at `off`. Not copied except to fill partial cells:
  // the buffers must stay unchanged during the call. OK only when every byte is stored with the
  // class's redundancy on the up engines (skipping a lost engine first excludes it from the
  // pool). EDAOS_CSUM: the engine found a checksum mismatch on receipt (srv_cksum on).
  virtual Status write(uint64_t off, const ConstIoVec* iov, size_t n) = 0;
  // Reads exactly the iovecs' bytes; unwritten bytes (and bytes past the size) read as zeros.
  // Up to p engines down (EC) or all but one replica (RP) are tolerated; a transfer failing its
  // checksum is retried, corrupt cells are rebuilt from redundancy and repaired.
  virtual Status read(uint64_t off, const IoVec* iov, size_t n) = 0;
  // Reads as read() does and also returns a lower bound of the size learned from the engines'
  // replies, without a size round trip (0 when they said nothing): the read lay entirely below
  // the end when the bound is at least `off` plus the iovecs' length. Short reads at the end
  // of a file use it to ask for the size only when the read may have run past it.
  virtual Result<uint64_t> read_size_hint(uint64_t off, const IoVec* iov, size_t n) {
    Status st = read(off, iov, n);
    if (!st.ok()) return st;
    return uint64_t{0};
  }
  Status write(uint64_t off, const void* buf, size_t len) {
    ConstIoVec v{buf, len};
    return write(off, &v, 1);
  }
  Status read(uint64_t off, void* buf, size_t len) {
    IoVec v{buf, len};
    return read(off, &v, 1);
  }
  // Deallocates [off, off+len): it reads as zeros afterwards; the size is unchanged (EC:
  // partial stripes at the edges are written as zeros so parity follows).
  virtual Status punch(uint64_t off, uint64_t len) = 0;
  // One past the highest byte ever written (or set by set_size), asked of the engines each
  // call (never cached).
  virtual Result<uint64_t> get_size() = 0;
  // Truncates (bytes beyond are dropped) or extends (extension reads as zeros) to exactly
  // `size`.
  virtual Status set_size(uint64_t size) = 0;
  // Removes the object's data on every up engine. The handle stays usable (a later write
  // recreates the object).
  virtual Status destroy() = 0;
  // Waits until every write of this process to the array that returned has its commit applied
  // (direct writes with the commit window on return before it: client/README.md "Commit
  // pipelining") and returns the first error one of them met after it returned (its commit or
  // its redo failed, its engine was excluded meanwhile), once: the container's next sync does
  // not report it again. OK when there is none. Call before releasing a handle whose writes must
  // be known stored; releasing it waits too but cannot report. The handle stays usable.
  virtual Status close() = 0;
};

// A key-value object: dkey -> akey -> value (flat KV uses akey ""). Thread-safe; not
// collective. Made by Container::open_kv; released by destroying it. Each dkey lives in one
// redundancy group: RP classes keep r copies, EC classes p+1 copies (values are replicated,
// not erasure-coded). Keys and values are arbitrary bytes; the dkey must be non-empty
// (EDAOS_INVAL) and dkey + akey at most 1 MiB (EDAOS_NAMETOOLONG). Every call that needs a
// copy gives EDAOS_DEGRADED when every copy of the dkey is down.
// One operation of KV::run, the vector call (issue 17): what it does, and after the call its
// own outcome.
//
// kGetArraySize (session 8) is a get that also asks the size of the byte array whose OID the
// value holds at byte `oid_off` (u64 hi, u64 lo, little-endian): the server that holds the
// value reads it, then the logical end of every shard of that array, in one service pass, when
// all of the array's shards live on that server rank. `size_known` says whether `size` was
// given: false when the value names no byte array there, a shard lives on another server rank
// or is down there, or the server placed the array differently from this client's pool map
// (then ask Array::get_size, as after a plain get). A size given is exactly what
// Array::get_size of that OID would have returned at some moment after the value was read:
// never another object's size, and never older than the value.
//
// kTakeArray (session 8) reads the value under (dkey, akey) and, when it holds a byte array's
// OID at byte `oid_off` (as above), removes the whole dkey, in one service pass (get first);
// `value` is the value read and `taken` says whether the dkey was removed (a value naming no
// byte array is left alone: the caller decides what to do with it). Status: the get's, else
// the removal's (EDAOS_NONEXIST when a concurrent removal came first). Session 9: the removal
// is guarded by the OID read (the server reads again when the entry changed in between), so a
// concurrent put of the same key is never removed.
//
// kRemove with a non-empty `value` (session 9) is a guarded removal: the whole dkey goes only
// while the value under (dkey, akey) holds the 16 bytes of `value` at `oid_off` (the server's
// kKvRemoveIf); EDAOS_EXIST, and nothing removed, when it holds others.
struct KvOp {
  enum Kind : uint8_t { kPut = 0, kGet = 1, kRemove = 2, kGetArraySize = 3, kTakeArray = 4 };
  Kind kind = kGet;
  std::string dkey, akey;
  std::string value;        // kPut: the value to store; kGet, kGetArraySize: the value read (out)
  uint32_t flags = 0;       // kPut: KV::PutFlags
  uint32_t oid_off = 0;     // kGetArraySize, kTakeArray: where the value holds an array's OID
  Status status;            // out: exactly what put / get / remove alone would have returned
  bool size_known = false;  // out, kGetArraySize: `size` was given with the value
  uint64_t size = 0;        // out, kGetArraySize: the array's size (Array::get_size)
  bool taken = false;       // out, kTakeArray: the dkey was removed
};

// A vector KV call in flight (KV::start, session 7): its first messages are out, its ops'
// outcomes are set by wait(). Not thread-safe (one owner); the KV handle and the ops vector
// must outlive it. Destroying it without wait() waits first (so no reply is left to land in
// freed memory).
class EDAOS_CXX_API KvRequest {
 public:
  virtual ~KvRequest() = default;
  // Waits for every message of the call, runs what is left (a get asking a further copy after
  // a failed one, the other copies of the changes) and sets every op's status and value.
  // Returns what run() would have returned; a second call returns the same without waiting.
  virtual Status wait() = 0;
};

class EDAOS_CXX_API KV {
 public:
  enum PutFlags : uint32_t { kInsertOnly = 1, kUpdateOnly = 2 };
  virtual ~KV() = default;
  virtual ObjectId oid() const = 0;
  // Stores `value` (copied). flags 0: insert or replace. kInsertOnly: EDAOS_EXIST if present;
  // with several concurrent inserters exactly one wins (the first copy decides, the others
  // follow). kUpdateOnly: EDAOS_NONEXIST if absent.
  virtual Status put(const std::string& dkey, const std::string& akey, const std::string& value,
                     uint32_t flags = 0) = 0;
  // The value. EDAOS_NONEXIST if absent; a copy that is unreachable, fails its checksum or
  // its I/O is skipped for the next one (the last copy's EDAOS_UNREACH / EDAOS_CSUM /
  // EDAOS_IO when none is left).
  virtual Result<std::string> get(const std::string& dkey, const std::string& akey) = 0;
  // akey empty: the whole dkey. EDAOS_NONEXIST if absent.
  virtual Status remove(const std::string& dkey, const std::string& akey) = 0;
  // Keeps the later time, without reading first (one message per copy; the engine changes the
  // stored value inside its transaction): in the value under (dkey, akey), times[i] replaces
  // the time at byte time_off + 12 i (u64 LE seconds, u32 LE nanoseconds) when it is later,
  // and only while the value holds `guard` at byte guard_off; the other bytes stay as stored.
  // EDAOS_NONEXIST when the value is absent or no longer holds the guard (nothing changed),
  // EDAOS_FORMAT when a time lies past the value's end, EDAOS_INVAL for more than 64 times or
  // a time out of range (negative seconds, nanoseconds >= 1e9). Concurrent merges of one value
  // from many callers, in any order, end at the latest of each time: a time never goes back.
  virtual Status merge_times(const std::string& dkey, const std::string& akey, uint32_t guard_off,
                             const std::string& guard, uint32_t time_off,
                             const std::vector<struct timespec>& times) = 0;
  // Dkeys strictly after `anchor` ("" = from the start) in byte order, at most `max` (0 counts
  // as 1); *eof (when not null) is set when there are no more.
  virtual Result<std::vector<std::string>> list_dkeys(const std::string& anchor, uint32_t max,
                                                      bool* eof) = 0;
  // The akeys of `dkey` strictly after `anchor`, in byte order, at most `max` (0 counts as 1);
  // *eof as for list_dkeys. The flat-KV akey reads as "".
  virtual Result<std::vector<std::string>> list_akeys(const std::string& dkey,
                                                      const std::string& anchor, uint32_t max,
                                                      bool* eof) = 0;
  // Removes the object's data on every engine that takes writes.
  virtual Status destroy() = 0;
  // The vector call: every op of `ops` (puts, gets and removes of any keys, mixed) with the
  // semantics of its single call, and ops[i].status its own outcome (a bad key or a missing
  // one fails that op alone, the others still happen). The ops' messages are all in flight at
  // once (the first copy of every op's dkey together, then the other copies of the changes
  // that succeeded there), so n ops cost about two round trips instead of n, and the engines
  // commit the changes that arrive together in one transaction (server README "Group
  // commit"). Order: ops on the same dkey and akey apply in vector order; ops on different
  // keys have no order between them (as n single calls issued from n threads). Returns OK when
  // every op succeeded, else the status of the first op that failed.
  virtual Status run(std::vector<KvOp>* ops) = 0;
  // run() without waiting (session 7): returns once the first message of every op (up to 512
  // ops; more are sent by wait()) is sent, so the caller can send other messages (another KV's
  // ops, a size query) before any wait: n calls started together cost one round trip, not n.
  // Semantics and outcomes as run(), set when the request's wait() returns; no op's status or
  // value may be read before. Nothing is cancelled: a request destroyed unwaited waits.
  virtual std::unique_ptr<KvRequest> start(std::vector<KvOp>* ops) = 0;
  // merge_times without waiting (session 7): the request's wait() returns what merge_times
  // would have (a bad spec fails there, without a message sent).
  virtual std::unique_ptr<KvRequest> start_merge_times(
      const std::string& dkey, const std::string& akey, uint32_t guard_off,
      const std::string& guard, uint32_t time_off, const std::vector<struct timespec>& times) = 0;
};

}  // namespace edaos::objstore

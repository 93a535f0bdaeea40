// Engine storage: the persistent state of one engine (fault domain) of a pool, local I/O only.
//
//   <pool>/engine-NNNN/FORMAT        "EDAOS-ENGINE <version>" + ntargets (atomically written once)
//   <pool>/engine-NNNN/LOCK          flock owner file ("host:pid"; after a clean close the
//                                    seal of the used-bytes counter, see Engine::open)
//   <pool>/engine-NNNN/meta.mdb      LMDB: KV values, byte-array logical sizes
//   <pool>/engine-NNNN/sizes.log     array sizes not yet folded into meta.mdb
//   <pool>/engine-NNNN/intents.log   stripe intents (partial-stripe writes in flight)
//   <pool>/engine-NNNN/tgt-T/<cont-uuid>/<oid>.<shard>        sparse shard data file
//   <pool>/engine-NNNN/tgt-T/<cont-uuid>/<oid>.<shard>.csum   per-unit records (versions and
//                                                             checksums bound to their extent)
//
// (<oid> is ObjectId::to_string(), "hi.lo" in hex.) Exact formats: objstore/src/vos/README.md.
//
// Durability contract
//   * An acknowledged call (returned OK) survives the *process* being killed: shard bytes are in
//     the page cache (pwrite) and LMDB commits with MDB_NOSYNC|MDB_NOMETASYNC are written to the
//     file before mdb_txn_commit returns.
//   * After sync() returns OK, every call acknowledged before it survives a *machine* crash.
//     Between two syncs a machine crash may lose recent writes (the engine then looks stale or,
//     in LMDB's own words, may be corrupted: the server treats an engine that fails to open as
//     down and rebuilds it from redundancy).
//
// Thread-safety: every public call takes the engine's mutex, so concurrent callers are safe
// (they are serialised). The server calls an Engine from its engine queue's service thread and,
// for sync, purge, listing, space and intents, from the control and lock queues.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

struct MDB_txn;  // lmdb.h

namespace edaos::objstore::vos {

namespace detail {
class DirLock;
class LmdbEnv;
struct RecHeader;
}  // namespace detail

// Newest version of <engine>/FORMAT this build reads; open() refuses others with EDAOS_FORMAT.
// Version 2 added the array-size log (sizes.log). Version 3 = version 2 + KV entries with long
// keys (the `ldkeys`/`lakeys` databases, see objstore/src/vos/README.md). Version 4 = record
// sidecars (format 2: checksums bound to extent and version, EC cell versions) and the intent log
// (intents.log). Engines are created as version 4; open() upgrades a version 1-3 engine in place
// to 4 and marks it `legacy`: its shards still have format-1 sidecars (or, for EC shards written
// without checksums, none), which are converted shard by shard at their first verified access.
// Builds that read only versions up to 3 refuse an upgraded engine (they would not keep the
// records current, and a record that does not match its bytes reads as corruption).
constexpr uint32_t kEngineFormatVersion = 4;
// Format of the contents of meta.mdb (its "format" key); unchanged by the size log and by the
// long-key databases (the FORMAT stamp tells whether those may hold entries).
constexpr uint32_t kEngineMetaFormat = 1;
// dkey + akey bytes of one KV entry: longer is EDAOS_NAMETOOLONG.
constexpr size_t kMaxKvKeyBytes = size_t{1} << 20;
// Entries whose dkey + akey fit in this many bytes (LMDB's 511-byte key limit minus our 38-byte
// prefix) are stored under their own bytes, as before version 3; longer ones under a derived
// fixed-size key (a dkey alone longer than this likewise).
constexpr size_t kShortKvKeyBytes = 473;

// Hash of long KV keys (part of format 3). Tests may install a weak one to force collisions;
// nullptr restores the built-in hash. Process-wide; entries stored under one hash function are
// found only under the same one, so never change it while an engine holds long keys.
using KvKeyHashFn = uint64_t (*)(std::string_view);
void set_kv_key_hash_for_testing(KvKeyHashFn fn);
// Tests: the next `n` group commits (Engine::kv_apply of two or more changes) fail with
// EDAOS_IO after every change ran, as a failing disk would make them. Process-wide.
void fail_kv_group_commits_for_testing(int n);

// Test-only fault injection: a hook called at named points of a change, so a test can stop the
// process (e.g. _exit) in a crash window. Points: "array_write:records" (new records stored
// pending, data not written yet), "array_write:data" (data written, records not committed).
// nullptr (the default) disables it. Process-wide.
using FaultHook = void (*)(const char* point);
void set_fault_hook_for_testing(FaultHook hook);

// Checksum function injected by the caller (the vos library does not link the codec):
// checksum of `len` bytes at `p` of type `t`, continuing from `seed` (0 = fresh).
using CsumFn = uint64_t (*)(CsumType, const void*, size_t, uint64_t seed);
// chunk: checksum granularity in bytes of the shard's local address space.
struct CsumSpec {
  CsumType type = CsumType::kOff;
  uint32_t chunk = 32768;
  CsumFn fn = nullptr;
};
// One shard of an object in a container, stored on target `target` of this engine.
struct ShardRef {
  Uuid cont;
  ObjectId oid;
  uint32_t shard = 0;
  uint32_t target = 0;
};
struct EngineSpace {
  uint64_t total, free, used;  // bytes
};

// How a shard keeps per-unit records in its sidecar (<shard>.csum). Sent with every array call;
// a shard's kind, unit and vector length are fixed by its first recorded write (another is
// EDAOS_INVAL).
enum class RecordKind : uint8_t {
  kAuto = 0,      // replicas / single shards: checksum records while cs.type != kOff, unit
                  // cs.chunk, of type cs.type; a write without checksums marks its units
                  // unprotected
  kEcData = 1,    // EC data cell: always recorded (crc32c, unit = the cell), with a version
  kEcParity = 2,  // EC parity cell: as data, plus the k data versions the parity encodes
};
struct RecordSpec {
  RecordKind kind = RecordKind::kAuto;
  uint32_t unit = 0;  // EC: the cell size
  uint32_t k = 0;     // EC: data cells per stripe (vector length of parity records)
};
// The version a writer stamps on the units it changes: `version` (never 0 for EC kinds) and,
// for kEcParity, the k data versions `vec` the new parity encodes.
struct WriteStamp {
  uint64_t version = 0;
  const uint64_t* vec = nullptr;
};
// What a record read (array_read with a UnitState) says about its unit. Unless the bytes were
// verified on the engine (`verified`: checksums on, or the record was pending), the caller
// checks them against `csum` (bind_unit_csum) before combining them with other cells.
struct UnitState {
  static constexpr uint32_t kHole = 1;      // no record: the bytes must be zeros (version 0)
  static constexpr uint32_t kAtCur = 2;     // the record of `version` (bound checksum `csum`)
  static constexpr uint32_t kVerified = 4;  // the engine checked the bytes against it
  uint32_t flags = 0;
  uint64_t version = 0;
  uint64_t csum = 0;
  std::vector<uint64_t> vec;  // kEcParity: the data versions it encodes (zeros for a hole)
};
// The bound checksum a unit's record holds: `raw` (the checksum of its unit bytes, crc32c for
// EC cells) mixed with (cont, oid, shard, unit index, version). Part of the record format.
uint64_t bind_unit_csum(uint64_t raw, const ShardRef& ref, uint64_t unit_index, uint64_t version);
// Direct readers (engine_direct.cpp): checks units [first, last] of a shard, unit u's bytes at
// units[u - first] (a unit is cs.chunk for kAuto, the cell rs.unit for EC data), against the
// sidecar open at `sidecar_fd` (-1: none, every unit must be zeros), read-only. EDAOS_CSUM when
// a unit does not match, its record is being changed (pending) or the sidecar is not the one
// `cs`/`rs` imply: the caller then asks the engine, which resolves or reports it.
// With `versions`, versions[u - first] is set to each verified unit's version (0: no record).
// With `first_state`, unit `first`'s record as an engine's read with a UnitState reports it
// (kAtCur or kHole, always kVerified; parity: its data versions, zeros for a hole).
Status direct_verify(int sidecar_fd, const std::string& sidecar, const ShardRef& ref,
                     const CsumSpec& cs, const RecordSpec& rs, uint64_t first, uint64_t last,
                     const char* const* units, uint64_t* versions = nullptr,
                     UnitState* first_state = nullptr);
// Does another open file description hold a write lock on [off, off + len) of the data file
// open at `fd` (F_OFD_GETLK)? Direct writers lock the units they write from their pwrite until
// their commit is answered (client/README.md "Direct path"), so a unit that fails verification
// under such a lock is a commit in flight, not corruption. One fcntl; false when it fails.
bool direct_write_in_flight(int fd, uint64_t off, uint64_t len);
// Version of units of a legacy shard (written before format 4) when converted.
constexpr uint64_t kLegacyVersion = 1;

// KV put flags.
constexpr uint32_t kInsertOnly = 1u << 0;  // EDAOS_EXIST if the akey exists (atomic check-and-put)
constexpr uint32_t kUpdateOnly = 1u << 1;  // EDAOS_NONEXIST if the akey is missing
// The value is a TimeMerge (encode_time_merge), not the value to store: the stored value keeps
// the later of each time, changed in place inside the transaction (issue 17: a blind mtime /
// ctime update, no read first). Update-only; not with kInsertOnly.
constexpr uint32_t kMergeTimes = 1u << 2;

// What a kMergeTimes put changes in the stored value v: only when v holds `guard` at
// `guard_off` (else EDAOS_NONEXIST, as for an absent akey: "the value names something else
// now"), each times[i] replaces the time at v[time_off + 12 i] (u64 LE seconds, u32 LE
// nanoseconds) when it is later; a time that is not later leaves v's. Every time must lie
// inside v (else EDAOS_FORMAT, nothing changed). Applying it twice, or in any order with other
// merges, ends at the same value (the maximum of each time).
struct TimeMerge {
  uint32_t guard_off = 0;
  std::string guard;
  uint32_t time_off = 0;
  std::vector<std::pair<uint64_t, uint32_t>> times;  // (seconds, nanoseconds < 1e9)
};
// Wire form: u32 guard_off | u32 n | n guard bytes | u32 time_off | u32 m | m x (u64, u32), LE.
std::string encode_time_merge(const TimeMerge& m);
// EDAOS_INVAL for a malformed spec (short, trailing bytes, nanoseconds >= 1e9, over 64 times).
Result<TimeMerge> decode_time_merge(std::string_view v);
// Applies m to *v (see TimeMerge); *changed: some time moved forward.
Status apply_time_merge(const TimeMerge& m, std::string* v, bool* changed);

class Engine {
 public:
  struct Options {
    std::string dir;
    uint32_t ntargets = 1;
    uint64_t quota_bytes = 0;  // 0: file-system limit
    bool create = false;       // format a missing/empty directory
  };

  // Used bytes come from the counter a clean close persisted (meta.mdb `used` + the seal it left
  // in LOCK), else from a walk of the target directories (README "Used-bytes counter").
  // Takes an exclusive flock on <dir>/LOCK and writes "host:pid" into it; a second opener (other
  // process or job) gets EDAOS_BUSY "pool in use by <host>:<pid>". Missing directory (or no
  // FORMAT without create) -> EDAOS_NONEXIST; unreadable -> EDAOS_IO; unknown FORMAT ->
  // EDAOS_FORMAT; ntargets differing from the formatted value -> EDAOS_INVAL.
  static Result<std::unique_ptr<Engine>> open(const Options& o);
  // The checks of open() that need neither the lock nor LMDB (session 10, lazy engine open: a
  // pool connection runs them for every engine it does not open yet): `FORMAT` of `dir` is read
  // and judged exactly as open() judges it, with the same codes and messages (EDAOS_NONEXIST
  // "no engine formatted at", EDAOS_FORMAT for another magic or version, EDAOS_INVAL for
  // another `ntargets` than a non-zero `ntargets`, EDAOS_IO when it cannot be read). The caller
  // holds the pool lock, so nobody rewrites `FORMAT` meanwhile.
  static Status check_format(const std::string& dir, uint32_t ntargets);
  // Whether `dir`/intents.log may hold stripe intents (session 10): false when the file is
  // absent or empty. An engine's log is empty whenever no mark is set once it has been opened
  // and closed (open and close truncate a log with nothing set), and only an open engine
  // appends to it, so an engine not opened by this process whose log is empty has no orphan
  // intent (vos/README.md "Intents and lazily opened engines"). *st: an error other than
  // ENOENT (the caller then opens the engine to find out).
  static bool intents_pending(const std::string& dir, Status* st);
  // Closes the engine. Changes not synced yet are synced first (so the used-bytes counter is
  // saved and the next open needs no walk; vos/README.md "Used-bytes counter").
  ~Engine();
  // Tests and diagnostics: whether this open took the used bytes from the persisted counter
  // (true) or walked the target directories (false).
  bool used_counter_trusted_at_open() const { return used_trusted_at_open_; }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- byte-array shards: a sparse byte space per (cont, oid, shard) on target ref.target ----

  // Writes len bytes at shard-local offset `off`. With cs.type != kOff a non-null `in_csum` is
  // the client's checksum of exactly these bytes (seed 0) and is verified FIRST (EDAOS_CSUM,
  // nothing written). Records (see RecordKind): the record of every unit touched is recomputed
  // (read-merge for partial units), bound to (cont, oid, shard, unit index, st.version) and
  // stored with the unit's previous record kept as `prev`; then the data is written; then
  // `prev` is dropped. So a process killed in between leaves each unit at its new or its old
  // record (or torn), and once the call returns only the new record verifies. Then stored
  // logical_end = max(stored, logical_end). EDAOS_NOSPACE (quota or ENOSPC) leaves previously
  // stored data intact.
  Status array_write(const ShardRef& ref, uint64_t off, const void* data, size_t len,
                     const CsumSpec& cs, const uint64_t* in_csum, uint64_t logical_end,
                     const RecordSpec& rs = {}, const WriteStamp& st = {});
  // Reads len bytes at `off` into out; holes and bytes past the end read as zeros. The units
  // overlapping the range are verified when cs.type != kOff, or always for a record read
  // (`state` non-null, EC kinds only, exactly one whole unit): a unit must match its record,
  // a unit without a record must be zeros, else EDAOS_CSUM naming shard, file and offset. A
  // unit left with a change in flight by a killed process is resolved (to the record its bytes
  // match) and the resolution stored. *out_csum (when non-null and cs.type != kOff) = checksum
  // of exactly the returned bytes (seed 0); *state = the unit's record.
  // A unit that fails while another open file description holds a write lock (F_OFD_SETLKW)
  // on it is being written by a direct writer whose commit has not been applied yet (the
  // writer holds its range locks from its pwrite until its commit is answered): still
  // EDAOS_CSUM, but *in_flight (when non-null) is set and nothing is logged as corruption
  // (client/README.md "Readers while a commit is in flight").
  Status array_read(const ShardRef& ref, uint64_t off, size_t len, void* out, const CsumSpec& cs,
                    uint64_t* out_csum, const RecordSpec& rs = {}, UnitState* state = nullptr,
                    bool* in_flight = nullptr);
  // Zeroes and deallocates the range (fallocate PUNCH_HOLE; zero-fill where unsupported).
  // Records: units entirely inside the range lose theirs (a hole needs none); partially punched
  // units are recomputed with st.version (0: the unit's current version), with `cs.fn` or, when
  // null, the function last used on this engine.
  Status array_punch(const ShardRef& ref, uint64_t off, uint64_t len, const CsumSpec& cs = {},
                     const RecordSpec& rs = {}, const WriteStamp& st = {});
  // Drops data beyond local_size (extends with a hole if larger) and sets the stored
  // logical_end to logical_size exactly. Records of the cut unit as for array_punch.
  Status array_truncate(const ShardRef& ref, uint64_t local_size, uint64_t logical_size,
                        const CsumSpec& cs = {}, const RecordSpec& rs = {},
                        const WriteStamp& st = {});
  Result<uint64_t> array_logical_end(const ShardRef& ref);  // 0 if never written

  // ---- KV (multi-level) shards: dkey -> akey -> single value, in LMDB ----
  // dkey and akey must be non-empty, dkey.size() + akey.size() <= kMaxKvKeyBytes (else
  // EDAOS_NAMETOOLONG). Long keys (over kShortKvKeyBytes) behave exactly like short ones.
  // flags: kInsertOnly / kUpdateOnly / kMergeTimes (above). With cs.type != kOff (and cs.fn)
  // the value's checksum is stored next to it (kMergeTimes: the stored value is verified with
  // its checksum first, EDAOS_CSUM if it does not match, and the merged value is stored with
  // cs's).
  Status kv_put(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                std::string_view value, uint32_t flags, const CsumSpec& cs);
  // One KV change of kv_apply: a put (as kv_put) or, with `remove`, a removal (as kv_remove).
  // The views must stay valid for the call.
  struct KvChange {
    bool remove = false;
    ShardRef ref;
    std::string_view dkey, akey, value;
    uint32_t flags = 0;
    CsumSpec cs;
    // A guarded removal (session 9; remove only): the dkey (akey empty) or the akey goes only
    // while the value under (dkey, guard_akey) holds `guard` at byte `guard_off`, decided
    // inside the change's transaction; else EDAOS_EXIST ("names another object now") and
    // nothing changes. EDAOS_NONEXIST when there is no such value; EDAOS_CSUM when it fails
    // its checksum (cs as for kv_get). A namespace removal guards with the OID it read, so it
    // never removes an entry a concurrent rename put under the name meanwhile.
    bool guarded = false;
    std::string_view guard_akey, guard;
    uint32_t guard_off = 0;
  };
  // Group commit: applies `changes` in order in ONE LMDB transaction (one commit instead of one
  // per change). (*results)[i] is what kv_put / kv_remove would have returned for change i; a
  // change that fails is rolled back alone (nested transaction), the others still apply. The
  // returned status is the commit's: when it is not OK, NONE of the changes took effect and
  // every caller waiting on one must get that error (results are then meaningless). Durable as
  // kv_put: in the file (survives kill -9) when it returns, on disk after sync().
  Status kv_apply(const std::vector<KvChange>& changes, std::vector<Status>* results);
  // EDAOS_NONEXIST; EDAOS_CSUM if a stored checksum mismatches (verified when cs.fn is set).
  Result<std::string> kv_get(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                             const CsumSpec& cs);
  // Removes one akey, or the whole dkey when akey is empty. EDAOS_NONEXIST if absent.
  Status kv_remove(const ShardRef& ref, std::string_view dkey, std::string_view akey);
  // Paging: up to `max` keys strictly after `anchor` (empty = from the start), in byte order;
  // *eof (if non-null) is set when there are no more.
  Result<std::vector<std::string>> kv_list_dkeys(const ShardRef& ref, std::string_view anchor,
                                                 uint32_t max, bool* eof);
  Result<std::vector<std::string>> kv_list_akeys(const ShardRef& ref, std::string_view dkey,
                                                 std::string_view anchor, uint32_t max, bool* eof);

  // ---- intents: persistent "this stripe may be inconsistent" marks (intents.log) ----
  // A stripe's group leader sets one before a partial-stripe write and clears it after; marks
  // still set when the engine is opened were left by a killed process ("orphans") and name
  // stripes to re-encode. `key` identifies the stripe, `payload` is what recovery needs.
  // *had_orphan (if non-null): an orphan was set under `key` (it stays until cleared).
  Status intent_set(std::string_view key, std::string_view payload, bool* had_orphan);
  Status intent_clear(std::string_view key);
  // Orphans: (key, payload), in key order.
  std::vector<std::pair<std::string, std::string>> intent_orphans();

  // Removes everything of this object shard (array data on every target + KV + size).
  // A shard that holds nothing on this engine (no data or sidecar file on any target, no size
  // in the log or in `arrays`, no KV entry) is answered OK without a change: no used-bytes
  // mark, no removal record, no write transaction (README "Removals of shards that hold
  // nothing"; which files exist comes from this open's index of the target directories).
  Status obj_punch(const ShardRef& ref);
  // obj_punch of several shards (the punches of one kShardVec on this engine, session 12): one
  // mutex hold, one read transaction to find the shards that hold something, and one write
  // transaction for all of those. (*results)[i] is refs[i]'s status; a failed write
  // transaction fails every shard that held something (their files may be gone already, as
  // for a failing obj_punch).
  void obj_punch_many(const std::vector<ShardRef>& refs, std::vector<Status>* results);
  // Counters of obj_punch / obj_punch_many since open (tests, benchmarks).
  struct PunchStats {
    uint64_t shards = 0;      // shards asked to be removed
    uint64_t empty = 0;       // of those, shards that held nothing (answered without a change)
    uint64_t write_txns = 0;  // LMDB write transactions the removals committed
    uint64_t stats = 0;       // stat calls on shard files (directories not indexed)
    uint64_t dir_scans = 0;   // target directories read to build the index
  };
  PunchStats punch_stats() const;
  // Removes everything of the container on this engine.
  Status cont_destroy(const Uuid& cont);
  // Every object with data (array or KV) of `cont` on this engine, sorted, without duplicates.
  Result<std::vector<ObjectId>> list_objects(const Uuid& cont);

  // fdatasync of every shard/sidecar file written since the last sync, fsync of the directories
  // whose entries changed, then mdb_env_sync. After OK all acknowledged writes are on disk.
  Status sync();
  // statvfs-based. With quota_bytes: total = quota, free = min(quota - used, file-system free).
  // used = allocated bytes (st_blocks * 512) of every file in the engine directory.
  EngineSpace space() const;
  // The file holding the shard's bytes: byte i of the shard is byte i of this file.
  std::string shard_data_path(const ShardRef& ref) const;

  // ---- direct writers (engine_direct.cpp; README "Direct writers", issue 15 item 1) ----
  // Does a direct writer hold a lock at or past byte `end` of the shard's data file (a
  // pipelined write whose commit, which raises the logical end, is not yet applied)? Opens the
  // data file for one F_OFD_GETLK; false when it cannot be opened.
  bool direct_write_past(const ShardRef& ref, uint64_t end) const;
  // A client on this node may pwrite/pread a shard's data file itself; the engine stays the
  // owner of the records and sizes. Replica/single shards (RecordKind::kAuto) and EC cells
  // (kEcData, kEcParity: always recorded, crc32c over whole cells, with versions).
  struct DirectGrant {
    std::string path;          // the shard's data file (created for a writer)
    std::string sidecar;       // its record sidecar (absent until the first record)
    bool records = false;      // units need records (kAuto: checksums on; EC: always)
    uint64_t logical_end = 0;  // the shard's recorded logical end
  };
  struct DirectRecord {
    uint64_t unit = 0, version = 0, csum = 0;  // csum: bound (bind_unit_csum) by the writer
    std::vector<uint64_t> vec;  // kEcParity: the k data versions the parity cell encodes
  };
  // What a direct reader or writer of a shard keeping records of kind `rs` needs. Refused with
  // EDAOS_NOTSUP where the engine must do the work itself: a quota (writes), a legacy engine, a
  // shard whose records are of another kind (or unit, type, k), or a kAuto shard that keeps
  // records while `cs` has checksums off.
  Status direct_grant(const ShardRef& ref, const CsumSpec& cs, const RecordSpec& rs, bool write,
                      DirectGrant* g);
  // Records what a direct writer wrote: the unit records (same pending / drop-prev ordering
  // as array_write; the data is already in the file), the file's new state (size, dirty for
  // sync()) and logical_end = max(stored, logical_end). EC parity records carry their k data
  // versions.
  //
  // Partial EC stripes written directly (session 8, README "Direct partial stripes") split the
  // commit in two around the writer's pwrites, so every unit is at its old or its new record
  // whenever the writer dies:
  //   kPrepare: stores each record as pending with the unit's current one kept as prev (a
  //             pending entry a killed process left is settled against the bytes first) and
  //             raises the logical end; the data is not written yet;
  //   kFinish:  drops prev of each unit whose entry is still pending with exactly this record
  //             (version and checksum); any other entry (resolved by a reader, replaced by a
  //             later change) is left alone.
  enum class CommitMode : uint8_t { kCommit = 0, kPrepare = 1, kFinish = 2 };
  Status direct_commit(const ShardRef& ref, const CsumSpec& cs, const RecordSpec& rs,
                       std::vector<DirectRecord> recs, uint64_t logical_end,
                       CommitMode mode = CommitMode::kCommit);

 private:
  Engine() = default;
  Status check_ref(const ShardRef& ref) const;
  std::string shard_dir(const ShardRef& ref) const;
  // An open data or sidecar file and what this engine knows about it, so the write path needs
  // no fstat/SEEK_HOLE per call. Only this engine changes its files (the directory lock).
  struct OpenFile {
    int fd = -1;
    std::list<std::string>::iterator lru;
    uint64_t size = 0;          // st_size, kept up to date by every change made through this engine
    uint64_t blocks = 0;        // allocated bytes last counted into used_bytes_
    bool blocks_stale = false;  // changed since: settle() recounts with one fstat
    // Ranges known to be allocated (written or fallocated since open): start -> end. Writes
    // inside them skip the hole check and fallocate. Cleared on punch, truncate and errors.
    std::map<uint64_t, uint64_t> alloc;
    // Sidecars: the first bytes of the file (its record header) as last read or written, so a
    // call needs no pread for it. Only this engine writes its sidecars.
    bool hdr_known = false;
    std::string hdr;
    bool allocated(uint64_t off, uint64_t end) const;
    void mark_allocated(uint64_t off, uint64_t end);
  };
  // Cached open file (create: make file and parent directory if missing). A missing file
  // without create gives nullptr and OK (remembered, so the next lookup costs no syscall).
  Result<OpenFile*> open_file(const std::string& path, bool create);
  Result<int> data_fd(const ShardRef& ref, bool create);
  // Index of the shard files of a target's container directory (README "Removals of shards
  // that hold nothing"): the names `<oid>.<shard>` having a data file, a sidecar or a leftover
  // temporary file there. Read once per directory per open (readdir), then kept exact: every
  // file of a target directory is created by open_file(create) (under mu_ and the directory
  // lock: nobody else creates files while the engine is open) and removed by obj_punch or
  // cont_destroy. `complete` false: too many names to keep, the caller stats the files.
  struct DirIndex {
    bool complete = false;
    std::unordered_set<std::string> shards;
  };
  static constexpr size_t kMaxIndexNames = size_t{1} << 18;  // per directory
  DirIndex& dir_index(const std::string& dir);
  // `<oid>.<shard>` of a file name in a container directory (the name up to its third dot).
  static std::string_view index_name(std::string_view file);
  void index_created(const std::string& path);
  // Whether the shard may have a data or sidecar file on some target (exact where indexed).
  bool shard_has_files(const ShardRef& ref);
  // The removal of one shard that holds something, under mu_: removal record, files,
  // caches; the LMDB deletions are the caller's (one transaction for several shards).
  Status punch_files(const ShardRef& ref, const std::string& sk);
  Result<int> open_cached(const std::string& path, bool create);
  void forget_fd(const std::string& path);
  // Before any change to the target directories: a trusted (clean) used-bytes counter is
  // marked dirty in meta.mdb and synced, once per open (README "Used-bytes counter").
  Status mark_changed();
  // The file changed: its allocation is recounted lazily (settle), it is dirty for sync().
  void note_growth(const std::string& path);
  // Brings used_bytes_ up to date for one open file / every open file (one fstat per changed
  // file).
  void settle(OpenFile& f) const;
  void settle_all() const;
  // Record sidecar helpers (engine_records.cpp; README "Record sidecar").
  struct RecFile;
  // What a call finds about a shard's sidecar. `want` is the header the request implies (null:
  // none). With create and want, a missing sidecar is created with that header. A legacy
  // (format-1) sidecar, or a legacy engine's EC shard without one, is converted first.
  Status rec_open(const ShardRef& ref, OpenFile* data, const detail::RecHeader* want,
                  const CsumSpec& cs, bool create, RecFile* rf);
  Status rec_convert_legacy(const ShardRef& ref, OpenFile* data, const detail::RecHeader& want,
                            const CsumSpec& cs, RecFile* rf);
  // Entries [first, last] (empty ones where the sidecar ends).
  Status rec_load(RecFile& rf, uint64_t first, uint64_t last, std::string* raw);
  // Checks units [first, last] whose bytes are in `buf` (unit-aligned, last - first + 1 units)
  // against their entries (all of them with check_bytes, else only pending ones), resolving
  // entries a killed process left pending (and storing the resolution); `state` gets the record
  // of `first` when non-null.
  // A unit that fails while a direct writer holds a lock on it in `data_fd` (>= 0) sets
  // *in_flight and is not logged (array_read).
  Status rec_verify(const ShardRef& ref, RecFile& rf, uint64_t first, uint64_t last,
                    const char* buf, UnitState* state, bool check_bytes, int data_fd,
                    bool* in_flight);
  // A change of units [first, last]: `edit` produces each unit's new bytes from its old ones
  // (read only when needed: a non-null `full(u)` is the whole new unit, so the old bytes are
  // not needed, except to resolve a pending entry). kWrite: the units get st.version's record;
  // kEdit (punch, truncate): recomputed with st.version, or their own version when 0, and
  // units without a record stay without; kEmpty: no record (holes). Writes the entries pending
  // (old state as prev) and returns the committed encoding in *commit, to be written with
  // rec_commit once the data change is on the file.
  enum class RecChange { kWrite, kEdit, kEmpty };
  using UnitEdit = std::function<void(uint64_t unit_off, char* unit)>;
  using UnitFull = std::function<const char*(uint64_t unit_off)>;
  Status rec_prepare(const ShardRef& ref, int fd, RecFile& rf, uint64_t first, uint64_t last,
                     const UnitFull& full, const UnitEdit& edit, RecChange change,
                     const WriteStamp& st, std::string* commit);
  Status rec_commit(RecFile& rf, uint64_t first, const std::string& commit);
  // `given`, else the function last seen on this engine for checksums of type `type`.
  CsumFn known_fn(CsumFn given, CsumType type) const;
  // Array sizes (logical_end). Raising one appends a record to sizes.log (one small pwrite: in
  // the page cache when the call returns, so it survives a kill like an LMDB commit with
  // MDB_NOSYNC) instead of committing an LMDB transaction per write; the log is folded into
  // LMDB (flush_sizes) when it grows large, before any exact size change or removal, by sync()
  // and on close, and replayed at open. Size records only ever raise a size (max), so replaying
  // one twice is harmless; a removal record drops the key's earlier ones (log_removal). ends_
  // caches sizes read or written (authoritative for pending ones).
  struct SizeEntry {
    uint64_t end = 0;
    bool exists = false;   // an `arrays` record exists (or is pending)
    bool pending = false;  // raised by a log record not yet in LMDB
  };
  Status raise_logical_end(const ShardRef& ref, uint64_t v);
  Status set_logical_end_exact(const ShardRef& ref, uint64_t v);
  Status flush_sizes();
  // Before a change that lowers or removes the size of `key`: folds the log only when it holds
  // a record of that key (a record of another key replayed later is harmless: it only raises
  // its own size). Saves the fold's LMDB commit and log truncation on every other engine of a
  // removed object (issue 17).
  Status fold_sizes_of(const std::string& key);
  // obj_punch of `key` (metadata, session 6): when the log holds a record of it, appends a
  // removal record (a tombstone: replay drops the key's earlier records and its `arrays`
  // record) instead of folding the log (an LMDB commit and a journaled truncation per removal).
  Status log_removal(const std::string& key);
  // Appends one encoded record at the log's end (after the data it covers, page cache).
  Status append_size_rec(const std::string& rec);
  Status open_size_log();  // at open: replay leftover records into LMDB, then empty the log
  // kv_apply's parts: the checks of one change outside any transaction, and the change itself.
  struct KvPrepared;
  Status kv_one(const KvChange& c);  // kv_put / kv_remove: kv_apply of one change
  Status kv_prepare(const KvChange& c, KvPrepared* p);
  Status kv_put_txn(MDB_txn* t, const KvChange& c, const KvPrepared& p);
  Status kv_remove_txn(MDB_txn* t, const KvChange& c, const KvPrepared& p);
  Status write_format(uint32_t version);  // atomic rewrite of <dir>/FORMAT
  Status ensure_records_format();         // stamps version 4 (legacy) before the first record
  Result<SizeEntry*> size_entry(const std::string& key);
  // Intents (engine_intents.cpp): the in-memory set and its append-only log.
  struct Intent {
    std::string payload;
    bool orphan = false;  // found at open: left by a killed process
  };
  Status open_intent_log();
  Status append_intent(uint8_t op, std::string_view key, std::string_view payload);

  mutable std::mutex mu_;
  Options opts_;
  std::unique_ptr<detail::DirLock> lock_;
  std::unique_ptr<detail::LmdbEnv> db_;
  uint32_t format_ = 0;  // version in <dir>/FORMAT
  bool legacy_ = false;  // upgraded from format 1-3: shards may still have legacy records
  // Bounded LRU of open files (data and sidecars), keyed by path: at most kMaxOpenFds, and
  // all engines of the process together at most a quarter of RLIMIT_NOFILE (a server hosting
  // 20 engines under a limit of 1024 would otherwise run out of descriptors).
  static constexpr size_t kMaxOpenFds = 256;
  static size_t max_open_fds();
  struct Live {  // counts the engines of the process for max_open_fds
    Live();
    ~Live();
    Live(const Live&) = delete;
    Live& operator=(const Live&) = delete;
  } live_;
  std::list<std::string> lru_;  // most recent first
  mutable std::unordered_map<std::string, OpenFile> fds_;
  // Paths known not to exist (a lookup without create found none). Files are only created
  // through open_file(create), which drops the path from here. Bounded: cleared when large.
  static constexpr size_t kMaxAbsent = 4096;
  std::unordered_set<std::string> absent_;
  std::set<std::string> dirty_files_, dirty_dirs_;
  std::unordered_map<std::string, DirIndex> dir_index_;  // container directory -> its index
  PunchStats punch_stats_;
  // The persisted counter was found clean (LOCK held its seal, used_seal_) and nothing has
  // changed since: used_bytes_ came from it, and meta.mdb still says clean.
  bool used_clean_ = false;
  bool used_trusted_at_open_ = false;
  uint64_t used_seal_ = 0;
  mutable uint64_t used_bytes_ =
      0;  // allocated bytes of data/sidecar files (LMDB file added on demand)
  std::array<CsumFn, 4> fns_{};  // last function seen per CsumType (for punch/truncate)
  // Size log (see raise_logical_end).
  static constexpr uint64_t kMaxSizeLogBytes = 1u << 20;  // fold into LMDB beyond this
  static constexpr size_t kMaxSizeCache = 1u << 16;       // entries of ends_
  int log_fd_ = -1;
  uint64_t log_end_ = 0;
  size_t npending_ = 0;
  std::unordered_map<std::string, SizeEntry> ends_;
  // Intent log (see intent_set).
  static constexpr uint64_t kIntentLogCompact = 64u << 10;  // truncate when empty beyond this
  static constexpr uint64_t kIntentLogRewrite = 4u << 20;   // rewrite compactly beyond this
  int intent_fd_ = -1;
  uint64_t intent_end_ = 0;
  std::map<std::string, Intent, std::less<>> intents_;
};

}  // namespace edaos::objstore::vos

// Engine storage: the persistent state of one engine (fault domain) of a pool, local I/O only.
//
//   <pool>/engine-NNNN/FORMAT        "EDAOS-ENGINE <version>" + ntargets (atomically written once)
//   <pool>/engine-NNNN/LOCK          flock owner file ("host:pid")
//   <pool>/engine-NNNN/meta.mdb      LMDB: KV values, byte-array logical sizes
//   <pool>/engine-NNNN/tgt-T/<cont-uuid>/<oid>.<shard>        sparse shard data file
//   <pool>/engine-NNNN/tgt-T/<cont-uuid>/<oid>.<shard>.csum   per-chunk checksum sidecar
//
// (<oid> is ObjectId::to_string(), "hi.lo" in hex.) Exact formats: objstore/README.md.
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
// Thread-safety: the server drives an Engine from one thread, but every public call takes the
// engine's mutex, so concurrent callers are safe (they are serialised).
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
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore::vos {

namespace detail {
class DirLock;
class LmdbEnv;
}  // namespace detail

// Newest version of <engine>/FORMAT this build reads; open() refuses others with EDAOS_FORMAT.
// Version 2 added the array-size log (sizes.log); open() upgrades a version-1 engine in place (a
// version-1 engine has no log, so nothing else changes). Builds that read only version 1 refuse
// an upgraded engine, which they could not read correctly after a kill (sizes still in the log).
// Version 3 = version 2 + KV entries with long keys (the `ldkeys`/`lakeys` databases, see
// objstore/README.md). Engines are created as version 2 and stay so until their first long key:
// kv_put rewrites the stamp to 3 before that entry's transaction commits. Builds that read only
// version 2 refuse such an engine (they would list it without its long keys, and a dkey
// removal or punch by them would leave its long entries behind).
constexpr uint32_t kEngineFormatVersion = 3;
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

// KV put flags.
constexpr uint32_t kInsertOnly = 1u << 0;  // EDAOS_EXIST if the akey exists (atomic check-and-put)
constexpr uint32_t kUpdateOnly = 1u << 1;  // EDAOS_NONEXIST if the akey is missing

class Engine {
 public:
  struct Options {
    std::string dir;
    uint32_t ntargets = 1;
    uint64_t quota_bytes = 0;  // 0: file-system limit
    bool create = false;       // format a missing/empty directory
  };

  // Takes an exclusive flock on <dir>/LOCK and writes "host:pid" into it; a second opener (other
  // process or job) gets EDAOS_BUSY "pool in use by <host>:<pid>". Missing directory (or no
  // FORMAT without create) -> EDAOS_NONEXIST; unreadable -> EDAOS_IO; unknown FORMAT ->
  // EDAOS_FORMAT; ntargets differing from the formatted value -> EDAOS_INVAL.
  static Result<std::unique_ptr<Engine>> open(const Options& o);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- byte-array shards: a sparse byte space per (cont, oid, shard) on target ref.target ----

  // Writes len bytes at shard-local offset `off`. With cs.type != kOff: a non-null `in_csum` is
  // the client's checksum of exactly these bytes (seed 0) and is verified FIRST (EDAOS_CSUM,
  // nothing written); then the checksum of every chunk touched is recomputed (read-merge for
  // partial chunks) and stored. With cs.type == kOff stored checksums of touched chunks are
  // dropped. Then stored logical_end = max(stored, logical_end). EDAOS_NOSPACE (quota or ENOSPC)
  // leaves previously stored data intact. Order on disk: data, checksums, logical_end.
  Status array_write(const ShardRef& ref, uint64_t off, const void* data, size_t len,
                     const CsumSpec& cs, const uint64_t* in_csum, uint64_t logical_end);
  // Reads len bytes at `off` into out; holes and bytes past the end read as zeros. With
  // cs.type != kOff every stored chunk checksum overlapping the range is verified against the
  // bytes on disk (EDAOS_CSUM naming shard and offset on mismatch) and, when out_csum != null,
  // *out_csum = checksum of exactly the returned bytes (seed 0).
  Status array_read(const ShardRef& ref, uint64_t off, size_t len, void* out, const CsumSpec& cs,
                    uint64_t* out_csum);
  // Zeroes and deallocates the range (fallocate PUNCH_HOLE; zero-fill where unsupported).
  // Checksums: chunks entirely inside the range lose theirs (a hole needs none); partially
  // punched chunks are recomputed with `cs.fn` or, when null, with the function last used for
  // that checksum type on this engine, else their checksum is dropped.
  Status array_punch(const ShardRef& ref, uint64_t off, uint64_t len, const CsumSpec& cs = {});
  // Drops data beyond local_size (extends with a hole if larger) and sets the stored
  // logical_end to logical_size exactly. Checksums of the cut chunk as for array_punch.
  Status array_truncate(const ShardRef& ref, uint64_t local_size, uint64_t logical_size,
                        const CsumSpec& cs = {});
  Result<uint64_t> array_logical_end(const ShardRef& ref);  // 0 if never written

  // ---- KV (multi-level) shards: dkey -> akey -> single value, in LMDB ----
  // dkey and akey must be non-empty, dkey.size() + akey.size() <= kMaxKvKeyBytes (else
  // EDAOS_NAMETOOLONG). Long keys (over kShortKvKeyBytes) behave exactly like short ones.
  // flags: kInsertOnly / kUpdateOnly (above). With cs.type != kOff (and cs.fn) the value's
  // checksum is stored next to it.
  Status kv_put(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                std::string_view value, uint32_t flags, const CsumSpec& cs);
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

  // Removes everything of this object shard (array data on every target + KV + size).
  Status obj_punch(const ShardRef& ref);
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
    bool allocated(uint64_t off, uint64_t end) const;
    void mark_allocated(uint64_t off, uint64_t end);
  };
  // Cached open file (create: make file and parent directory if missing). A missing file
  // without create gives nullptr and OK (remembered, so the next lookup costs no syscall).
  Result<OpenFile*> open_file(const std::string& path, bool create);
  Result<int> data_fd(const ShardRef& ref, bool create);
  Result<int> open_cached(const std::string& path, bool create);
  void forget_fd(const std::string& path);
  // The file changed: its allocation is recounted lazily (settle), it is dirty for sync().
  void note_growth(const std::string& path);
  // Brings used_bytes_ up to date for one open file / every open file (one fstat per changed
  // file).
  void settle(OpenFile& f) const;
  void settle_all() const;
  // Checksum sidecar helpers (see README for the format). csum_prepare stores the checksums
  // chunks [first, last] will have after a change, BEFORE the change reaches the data file; each
  // entry keeps the previous checksum too, so a process killed in between leaves every chunk
  // matching one of the two. Chunks entirely inside [data_off, data_off+data_len) are taken from
  // `data`; the others are read from `fd` and passed through `edit`.
  using ChunkEdit = std::function<void(uint64_t chunk_off, char* chunk)>;
  Status csum_prepare(const ShardRef& ref, int fd, uint64_t first, uint64_t last,
                      const CsumSpec& cs, const ChunkEdit& edit, const char* data,
                      uint64_t data_off, size_t data_len);
  Status csum_before_zeroing(const ShardRef& ref, int fd, uint64_t zoff, uint64_t zend,
                             const CsumSpec& cs);
  Status csum_drop(const ShardRef& ref, uint64_t first_chunk, uint64_t last_chunk);
  Status csum_truncate(const ShardRef& ref, uint64_t nchunks);
  CsumFn known_fn(const CsumSpec& cs) const;
  // Array sizes (logical_end). Raising one appends a record to sizes.log (one small pwrite: in
  // the page cache when the call returns, so it survives a kill like an LMDB commit with
  // MDB_NOSYNC) instead of committing an LMDB transaction per write; the log is folded into
  // LMDB (flush_sizes) when it grows large, before any exact size change or removal, by sync()
  // and on close, and replayed at open. Records only ever raise a size (max), so replaying one
  // twice is harmless. ends_ caches sizes read or written (authoritative for pending ones).
  struct SizeEntry {
    uint64_t end = 0;
    bool exists = false;   // an `arrays` record exists (or is pending)
    bool pending = false;  // raised by a log record not yet in LMDB
  };
  Status raise_logical_end(const ShardRef& ref, uint64_t v);
  Status set_logical_end_exact(const ShardRef& ref, uint64_t v);
  Status flush_sizes();
  Status open_size_log();  // at open: replay leftover records into LMDB, then empty the log
  Status write_format(uint32_t version);  // atomic rewrite of <dir>/FORMAT
  Result<SizeEntry*> size_entry(const std::string& key);

  mutable std::mutex mu_;
  Options opts_;
  std::unique_ptr<detail::DirLock> lock_;
  std::unique_ptr<detail::LmdbEnv> db_;
  uint32_t format_ = 0;  // version in <dir>/FORMAT
  // Bounded LRU of open files (data and sidecars), keyed by path.
  static constexpr size_t kMaxOpenFds = 256;
  std::list<std::string> lru_;  // most recent first
  mutable std::unordered_map<std::string, OpenFile> fds_;
  // Paths known not to exist (a lookup without create found none). Files are only created
  // through open_file(create), which drops the path from here. Bounded: cleared when large.
  static constexpr size_t kMaxAbsent = 4096;
  std::unordered_set<std::string> absent_;
  std::set<std::string> dirty_files_, dirty_dirs_;
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
};

}  // namespace edaos::objstore::vos

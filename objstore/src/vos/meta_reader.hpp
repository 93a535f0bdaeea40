// Read-only access to an engine's metadata from a process of its node that is not its owner (or
// from another thread of the owner's process): KV values from meta.mdb and array logical sizes
// from meta.mdb + sizes.log, without a message to the server (session 10, issue 17;
// objstore/src/vos/README.md "Readers of meta.mdb", objstore/src/dfs/README.md "Metadata reads
// without the server").
//
// The engine's environment runs with LMDB's lock file (LmdbEnv shared mode), so a read
// transaction here is registered in its reader table and its snapshot stays valid while it runs.
// A MetaReader never writes anything into the engine directory except its reader slot.
//
// Every call answers exactly what the owner would answer at some moment during the call, or
// fails; a caller treats any failure other than EDAOS_NONEXIST of kv_get as "ask the server".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {

namespace detail {
struct ReaderEnv;  // meta_reader.cpp

// A shard's key in meta.mdb's `arrays` and in sizes.log records: cont(16) + oid.hi(8 BE) +
// oid.lo(8 BE) + shard(4 BE), as a value (no heap string per lookup).
struct ShardKey {
  char b[36];
  bool operator==(const ShardKey& o) const;
};
// Logical ends by shard key: open addressing, linear probing, allocates only when it grows (a
// warm lookup allocates nothing and touches one or two cache lines). Not thread-safe.
class EndTable {
 public:
  const uint64_t* find(const ShardKey& k) const;
  uint64_t& at(const ShardKey& k);  // inserted as 0 when absent
  size_t size() const { return used_; }
  void clear();

 private:
  struct Slot {
    uint64_t h = 0;  // 0: empty (a key's hash is never 0)
    uint64_t v = 0;
    ShardKey k;
  };
  static uint64_t hash(const ShardKey& k);
  void grow();
  std::vector<Slot> slots_;
  size_t used_ = 0;
};
}  // namespace detail

class MetaReader {
 public:
  // Opens the reader of `engine_dir` (<pool>/engine-NNNN). Its FORMAT must be version 2-4
  // (EDAOS_NOTSUP otherwise: a version-1 engine has no size log yet). `owner_here`: this
  // process owns the engine (its server runs here): the reader then reads only through the
  // owner's environment (LMDB allows one environment per file per process) and fails
  // EDAOS_NOTCONN while the owner has it closed. Readers of one file in one process share one
  // environment.
  static Result<std::unique_ptr<MetaReader>> open(const std::string& engine_dir, bool owner_here);
  ~MetaReader();
  MetaReader(const MetaReader&) = delete;
  MetaReader& operator=(const MetaReader&) = delete;

  // The value of (dkey, akey) of shard `ref`, verified against its stored checksum (any type the
  // codec knows: `fn`). EDAOS_NONEXIST: no such entry in the snapshot read. Long entries
  // (dkey + akey > kShortKvKeyBytes): EDAOS_NOTSUP. A checksum mismatch: EDAOS_CSUM.
  Status kv_get(const ShardRef& ref, std::string_view dkey, std::string_view akey, CsumFn fn,
                std::string* value);

  // The logical end of each shard (all of this engine), as Engine::array_logical_end: the
  // largest of its `arrays` record and its size records in sizes.log after its last removal
  // record. sizes.log is read first, then one read transaction: a fold commits `arrays` before it
  // empties the log, so what a fold moved is in one or the other. `skip_log` (optional, one per
  // ref): the caller knows the shard has no size record in the log, so only its `arrays` record
  // counts; when every ref skips it, the log is not read. An absent data file is NOT such
  // knowledge (a truncate extending a shard with no data logs a size and makes no file): the
  // client stopped passing it in session 12.
  //
  // `gen` (optional, session 11): the engine's size-change generation in its server's metadata
  // page. The log is then read only when the generation moved since this reader last read it
  // (loaded before the read; the records are kept parsed, per shard); `skip_log` is ignored.
  Status logical_ends(const std::vector<ShardRef>& refs, std::vector<uint64_t>* ends,
                      const std::vector<char>* skip_log = nullptr, const uint64_t* gen = nullptr);

  // Session 12: the shard's logical end as logical_ends would give it with `gen`, when this
  // reader's records already settle it under the generation `gen` holds now (the log read under
  // it, and the shard's `arrays` record or the whole database read under it); false otherwise
  // (call logical_ends). No system call, no LMDB transaction, no allocation.
  bool cached_end(const ShardRef& ref, const uint64_t* gen, uint64_t* end);

  // The shard's data file: absent, present, or present with a direct writer's write lock
  // anywhere on it (a returned direct write whose commit, which raises the logical end, may not
  // be applied yet). kLocked also when the probe itself fails.
  enum class ShardFile { kAbsent, kPresent, kLocked };
  ShardFile probe_file(const ShardRef& ref) const;

  const std::string& dir() const { return dir_; }

 private:
  MetaReader() = default;
  Status read_log(std::string* buf, size_t* got);  // sizes.log whole into *buf
  std::string dir_;
  std::shared_ptr<detail::ReaderEnv> env_;
  int log_fd_ = -1;
  // The log as last read with a generation (logical_ends): per shard key, its largest size
  // record after its last removal record (0 after a removal), and the generation loaded before
  // that read. Guarded by log_mu_.
  std::mutex log_mu_;
  bool log_cached_ = false;
  uint64_t log_gen_ = 0;
  detail::EndTable log_ends_;
  // The `arrays` records read under generation log_gen_ (cleared with the log's records).
  // Session 12: arrays_whole_ = the table holds every record of one snapshot taken under
  // log_gen_ (a key absent from it has no record: end 0), so a shard's end needs no LMDB read
  // at all; arrays_misses_ counts the keys read one by one under log_gen_ (the whole database
  // is read once that would have cost about as much: Status logical_ends).
  detail::EndTable arrays_cache_;
  bool arrays_whole_ = false;
  uint64_t arrays_misses_ = 0;
};

// The metadata page (session 11, issue 17; README.md "Readers of meta.mdb"): shared memory that a
// server writes and the readers of its node map read-only, so a stat needs no system call to
// learn what the probes and log reads told it before. Layout, u64 words: [0] kMetaPageMagic,
// [1] [2] a random token (also in the published file: a page of a dead server whose pid was
// reused never matches), [3] zero; then kMetaPageEngines size-change generations (engine id mod
// kMetaPageEngines: bumped after every request of the engine that may have changed its
// sizes.log or `arrays` records, before its reply), then kMetaPageSlots counts of live
// direct-path write leases (slot = meta_page_slot of the shard: granted +1, released or dropped
// at the pool's close -1; a recalled lease stays counted until the pool's close). All values
// are read and written atomically.
inline constexpr uint64_t kMetaPageMagic = 0x3150474d534f4445ull;  // "EDOSMGP1"
inline constexpr uint32_t kMetaPageEngines = 4096;
inline constexpr uint32_t kMetaPageSlots = 65536;
inline constexpr size_t kMetaPageHeadWords = 4;
inline constexpr size_t kMetaPageBytes =
    (kMetaPageHeadWords + kMetaPageEngines + kMetaPageSlots) * sizeof(uint64_t);
// The file a server publishes its page in: <pool>/<kMetaPageFile>.<server index>, one line
// "<magic hex> <host> <page path> <token0 hex> <token1 hex>\n", written to a temporary name
// and renamed at every kServeEngines (older builds never look at it).
inline constexpr const char* kMetaPageFile = "metapage";
// The write-lease slot of shard `shard` of `oid` in container `cont` on engine `engine` of pool
// `pool`: (FNV-1a 64 of pool, container and OID, plus the shard) mod kMetaPageSlots, so an
// object's shards are neighbours in the page; the same in the server and the readers.
uint32_t meta_page_slot(const Uuid& pool, uint32_t engine, const Uuid& cont, const ObjectId& oid,
                        uint32_t shard);
// The same in two steps (a reader computes the object's part once for all of its shards).
uint64_t meta_page_base(const Uuid& pool, const Uuid& cont, const ObjectId& oid);
inline uint32_t meta_page_slot_of(uint64_t base, uint32_t shard) {
  return static_cast<uint32_t>((base + shard) % kMetaPageSlots);
}

// A server's side of the metadata page (server_shard.cpp): a memfd mapped read-write.
class MetaPageWriter {
 public:
  // nullptr (logged) when the system cannot make one: the readers then probe and read the logs.
  static std::unique_ptr<MetaPageWriter> create();
  ~MetaPageWriter();
  MetaPageWriter(const MetaPageWriter&) = delete;
  MetaPageWriter& operator=(const MetaPageWriter&) = delete;
  // Writes <pool_dir>/metapage.<server_index> naming this page (temporary file + rename); `host`:
  // this node's host name (gethostname).
  Status publish(const std::string& pool_dir, int server_index, const std::string& host) const;
  void bump_engine(uint32_t engine);             // the engine's sizes may have changed
  void add_lease(uint32_t slot, int64_t delta);  // a write lease granted (+1) or gone (-1)

 private:
  MetaPageWriter() = default;
  int fd_ = -1;
  uint64_t* map_ = nullptr;
  uint64_t token_[2] = {0, 0};
};

// A reader's view of a server's metadata page (mapped read-only through /proc/<pid>/fd/<n>).
class MetaPageView {
 public:
  // The page server `server_index` published for `pool_dir`, checked: the line parses, names
  // `host` (this node's gethostname), the page opens (non-blocking) as a regular file of the
  // page's size and maps, and its magic and token match the line. Anything else
  // (no file: an older server; a stale file of a dead server) is an error: read as before.
  static Result<std::shared_ptr<MetaPageView>> open(const std::string& pool_dir, int server_index,
                                                    const std::string& host);
  ~MetaPageView();
  MetaPageView(const MetaPageView&) = delete;
  MetaPageView& operator=(const MetaPageView&) = delete;
  const uint64_t* engine_gen(uint32_t engine) const {
    return map_ + kMetaPageHeadWords + engine % kMetaPageEngines;
  }
  uint64_t leases(uint32_t slot) const {
    return __atomic_load_n(map_ + kMetaPageHeadWords + kMetaPageEngines + slot % kMetaPageSlots,
                           __ATOMIC_SEQ_CST);
  }

 private:
  MetaPageView() = default;
  const uint64_t* map_ = nullptr;
};

// Tests: reads of sizes.log by the readers of this process so far (the generation spares them).
uint64_t meta_reader_log_reads_for_testing();
// Tests and benchmarks (session 12): LMDB read transactions begun or renewed by the readers of
// this process, `arrays` records read one by one, and whole `arrays` databases read.
struct MetaReaderCounts {
  uint64_t txns = 0, array_gets = 0, array_scans = 0;
};
MetaReaderCounts meta_reader_counts_for_testing();

// Tests: a hook called at the named points of a size-log fold (Engine, engine_sizes.cpp):
// "fold:in-transaction" (the fold's LMDB write transaction open, its records put, not
// committed) and "fold:committed" (committed, the log not yet emptied), so a test can kill the
// process there. nullptr disables it. Process-wide.
void set_fold_hook_for_testing(FaultHook hook);

// <engine_dir>/tgt-T/<cont>/<oid>.<shard> (the layout of objstore/src/vos/README.md).
std::string shard_data_path(const std::string& engine_dir, const ShardRef& ref);

}  // namespace edaos::objstore::vos

// Private helpers of the vos component: file-system utilities, the directory lock and a thin
// LMDB wrapper. Nothing outside src/vos includes this header.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/codec.hpp"
#include "edaos/objstore/status.hpp"

// EDAOS_RETURN_IF_ERROR for calls whose argument is a lambda that itself uses
// EDAOS_RETURN_IF_ERROR (a distinct variable name avoids -Wshadow).
#define EDAOS_VOS_TRY(expr)                    \
  do {                                         \
    ::edaos::Status vos_try_st_ = (expr);      \
    if (!vos_try_st_.ok()) return vos_try_st_; \
  } while (0)

namespace edaos::objstore::vos::detail {

// Maps an errno value to a Status: ENOENT -> NONEXIST, ENOSPC/EDQUOT -> NOSPACE, EEXIST -> EXIST,
// ENOTDIR -> NOTDIR, ENAMETOOLONG -> NAMETOOLONG, anything else -> IO. The message is
// "<what>: <strerror>".
Status errno_status(int err, const std::string& what);

// Creates `path` and missing parents (mode 0755). OK when it already is a directory.
Status mkdir_p(const std::string& path);
// fsync(2) on a file or directory.
Status fsync_path(const std::string& path);
// Atomic replace: write <path>.tmp, fsync it, rename over <path>, fsync the parent directory.
// After OK the new contents are durable; a crash at any point leaves either the old or the new
// file.
Status write_file_atomic(const std::string& path, const std::string& data);
// Whole file into *out. NONEXIST when missing.
Status read_file(const std::string& path, std::string* out);
// rm -rf; OK when `path` does not exist.
Status remove_tree(const std::string& path);
std::string parent_dir(const std::string& path);
// "host:pid" of this process.
std::string owner_id();

// Full-length pread/pwrite loops (EINTR and short transfers handled). pread_full zero-fills what
// lies beyond end of file and returns the number of bytes that came from the file.
Status pwrite_full(int fd, const void* buf, size_t len, uint64_t off, const std::string& what);
Result<size_t> pread_full(int fd, void* buf, size_t len, uint64_t off, const std::string& what);

// st_size of an open file, `fallback` if fstat fails.
uint64_t file_size_or(int fd, uint64_t fallback);
// 16 lower-case hex digits.
std::string hex64(uint64_t v);

// FNV-1a 64: integrity check of the POOL header (not a data checksum).
uint64_t fnv1a64(const void* p, size_t n, uint64_t h = 0xcbf29ce484222325ull);

// Big-endian fixed-width integers, so LMDB's memcmp order is numeric order.
inline void put_be(std::string* s, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
// Little-endian fixed-width integers of the on-disk formats: the base layer's codec
// (common/codec.hpp) is the one implementation, these only append to / read from strings.
template <typename T>
inline void put_le(std::string* s, T v) {
  char b[sizeof(T)];
  codec::store_le(b, v);
  s->append(b, sizeof b);
}
inline void put_le64(std::string* s, uint64_t v) { put_le<uint64_t>(s, v); }
inline void put_le32(std::string* s, uint32_t v) { put_le<uint32_t>(s, v); }
inline uint64_t get_le64(const char* p) { return codec::load_le<uint64_t>(p); }
inline uint32_t get_le32(const char* p) { return codec::load_le<uint32_t>(p); }
inline uint16_t get_le16(const char* p) { return codec::load_le<uint16_t>(p); }

// Exclusive ownership of a directory through flock(2) on a LOCK file that names the owner.
class DirLock {
 public:
  // Creates/opens `lock_path`, takes LOCK_EX|LOCK_NB and writes "host:pid\n" into it. If another
  // open file description holds the lock: EDAOS_BUSY "pool in use by <contents of the file>".
  // *previous (when non-null): what the file held before this owner wrote its name (what the
  // last owner left at release: empty, or its seal).
  static Result<std::unique_ptr<DirLock>> acquire(const std::string& lock_path,
                                                  std::string* previous = nullptr);
  // Leaves `seal` in the file at release instead of emptying it (so the next owner can tell
  // that this owner, and no build that does not seal, was the last one).
  void seal_at_release(std::string seal) { seal_ = std::move(seal); }
  ~DirLock();  // empties the file (or writes the seal), then closes it (dropping the lock)
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
  std::string seal_;
};

inline MDB_val mval(std::string_view s) {
  MDB_val v;
  v.mv_size = s.size();
  v.mv_data = const_cast<char*>(s.data());
  return v;
}
inline std::string_view sv(const MDB_val& v) {
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

// The MDB_env of an engine's meta.mdb as the other users of this process see it (vos::MetaReader,
// local_meta.cpp): the handle, its databases, and a lock the owner takes exclusively to resize the
// map or close the environment. LMDB forbids a second environment of one file in one process
// (its fcntl locks on lock.mdb are per process: a second open would believe it is alone and
// reset the reader table, and its close would drop the first one's locks), so a reader in the
// process of the engine's owner reads through this handle. `open` is false once the owner
// closed the environment.
struct SharedEnv {
  std::shared_mutex mu;
  MDB_env* env = nullptr;
  std::vector<MDB_dbi> dbis;
  bool open = false;
};
// The SharedEnv of the meta.mdb file with this device and inode opened by an LmdbEnv of this
// process, or nullptr.
std::shared_ptr<SharedEnv> shared_env_of(uint64_t dev, uint64_t ino);

// Reader slots of an environment with a lock file (readers of other processes of the node
// plus this process's own read transactions; LMDB's default is 126).
constexpr unsigned kLmdbMaxReaders = 1024;

// An LMDB environment. Two modes:
//  - private (a directory environment: the pool service's psvc/): MDB_NOLOCK. The owner
//    serialises every transaction with its own mutex and holds a DirLock, so LMDB's lock file is
//    not needed (and a killed process leaves no stale reader slots behind);
//  - shared (a single-file environment, MDB_NOSUBDIR: an engine's meta.mdb, session 10): with
//    LMDB's lock file (<file>-lock) and MDB_NOTLS, so processes of the node may read it
//    (vos::MetaReader) in registered read transactions: the writer never reuses a page a live
//    reader's snapshot can see. Stale slots of killed readers are cleared (mdb_reader_check) at
//    open, every kReaderCheckEvery commits, before the map grows and at close. The owner's
//    DirLock stays the exclusion between jobs; LMDB's writer mutex is uncontended.
class LmdbEnv {
 public:
  // `path` is the directory (or, with MDB_NOSUBDIR in `flags`, the file). `dbs` are the named
  // databases, created when missing; dbi(i) is dbs[i].
  static Result<std::unique_ptr<LmdbEnv>> open(const std::string& path, unsigned flags,
                                               std::vector<std::string> dbs);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  MDB_dbi dbi(size_t i) const { return dbis_[i]; }
  // Runs `fn` in a write transaction and commits when it returns OK (aborts otherwise). When the
  // map fills up the transaction is retried after doubling the map size.
  Status write(const std::function<Status(MDB_txn*)>& fn);
  // Group commit: each of `fns` runs in a nested transaction of one write transaction (a function
  // that fails is rolled back alone; its status goes to (*results)[i]); the outer transaction
  // commits once. Returns the commit's status: not OK means none of the changes took effect.
  // When the map fills up the whole group is retried after doubling the map size.
  Status write_group(const std::vector<std::function<Status(MDB_txn*)>>& fns,
                     std::vector<Status>* results);
  // Tests: the next `n` group commits fail with EDAOS_IO (after every function ran), as a
  // failing disk would make them.
  static void fail_group_commits_for_testing(int n);
  Status read(const std::function<Status(MDB_txn*)>& fn);
  Status sync();
  // Shared mode (see above): whether this environment runs with LMDB's lock file.
  bool shared() const { return shared_ != nullptr; }
  // Size of the data file in bytes (allocated, for space accounting).
  uint64_t allocated_bytes() const;

  // put/del that remember a MDB_MAP_FULL so write() can grow the map and retry.
  Status put(MDB_txn* t, MDB_dbi d, std::string_view k, std::string_view v, unsigned flags = 0);
  // NONEXIST when the key is absent.
  Status del(MDB_txn* t, MDB_dbi d, std::string_view k);
  // OK and *v set, or NONEXIST.
  Status get(MDB_txn* t, MDB_dbi d, std::string_view k, std::string_view* v);
  // Visits keys that start with `prefix` and are strictly greater than `after` (when non-empty;
  // `after` includes the prefix), in order, until fn returns false.
  Status scan(MDB_txn* t, MDB_dbi d, std::string_view prefix, std::string_view after,
              const std::function<bool(std::string_view key, std::string_view val)>& fn);
  // Deletes every key that starts with `prefix`.
  Status del_prefix(MDB_txn* t, MDB_dbi d, std::string_view prefix);

  Status mdb_status(int rc, const std::string& what);

 private:
  LmdbEnv() = default;
  MDB_env* env_ = nullptr;
  std::string path_;
  bool nosubdir_ = false;
  std::vector<MDB_dbi> dbis_;
  bool map_full_ = false;
  size_t mapsize_ = 0;
  // Shared mode: the handle other users of this process read through (registered by open).
  std::shared_ptr<SharedEnv> shared_;
  uint64_t commits_ = 0;
  // Shared mode: clears the reader slots of dead processes (logged when there were some).
  void reader_check(const char* when);
};

}  // namespace edaos::objstore::vos::detail

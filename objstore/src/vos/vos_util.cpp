// File-system helpers, the directory lock and the LMDB wrapper of the vos component.
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <map>
#include <mutex>
#include <utility>

#include "common/log.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos::detail {

namespace {
constexpr size_t kInitialMapSize = size_t{1} << 30;  // 1 GiB of address space, grown on demand
constexpr size_t kMaxMapSize = size_t{1} << 40;

int open_retry(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}
}  // namespace

Status errno_status(int err, const std::string& what) {
  edaos_status_t code = EDAOS_IO;
  switch (err) {
    case ENOENT:
      code = EDAOS_NONEXIST;
      break;
    case ENOSPC:
    case EDQUOT:
      code = EDAOS_NOSPACE;
      break;
    case EEXIST:
      code = EDAOS_EXIST;
      break;
    case ENOTDIR:
      code = EDAOS_NOTDIR;
      break;
    case ENAMETOOLONG:
      code = EDAOS_NAMETOOLONG;
      break;
    case ENOMEM:
      code = EDAOS_NOMEM;
      break;
    default:
      break;
  }
  return Status(code, what + ": " + std::strerror(err));
}

Status mkdir_p(const std::string& path) {
  if (path.empty()) return Status(EDAOS_INVAL, "empty directory path");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::OK();
    return Status(EDAOS_NOTDIR, path + " exists and is not a directory");
  }
  std::string parent = parent_dir(path);
  if (parent != path && !parent.empty()) EDAOS_RETURN_IF_ERROR(mkdir_p(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    return errno_status(errno, "mkdir " + path);
  return Status::OK();
}

Status fsync_path(const std::string& path) {
  int fd = open_retry(path.c_str(), O_RDONLY);
  if (fd < 0) return errno_status(errno, "open " + path + " for fsync");
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(err, "fsync " + path);
  return Status::OK();
}

Status write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = open_retry(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return errno_status(errno, "create " + tmp);
  Status st = pwrite_full(fd, data.data(), data.size(), 0, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = errno_status(errno, "fsync " + tmp);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = errno_status(errno, "rename " + tmp + " to " + path);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return fsync_path(parent_dir(path));
}

Status read_file(const std::string& path, std::string* out) {
  int fd = open_retry(path.c_str(), O_RDONLY);
  if (fd < 0) return errno_status(errno, "open " + path);
  out->clear();
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return errno_status(err, "read " + path);
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return Status::OK();
}

Status remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return errno_status(errno, "stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return errno_status(errno, "unlink " + path);
    return Status::OK();
  }
  int rc = ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, struct FTW*) -> int {
        return (type == FTW_DP ? ::rmdir(p) : ::unlink(p)) == 0 || errno == ENOENT ? 0 : -1;
      },
      16, FTW_DEPTH | FTW_PHYS);
  if (rc != 0) return errno_status(errno, "remove " + path);
  return Status::OK();
}

std::string parent_dir(const std::string& path) {
  size_t end = path.find_last_not_of('/');
  if (end == std::string::npos) return "/";
  size_t slash = path.find_last_of('/', end);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string owner_id() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + ":" + std::to_string(::getpid());
}

Status pwrite_full(int fd, const void* buf, size_t len, uint64_t off, const std::string& what) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "write " + what);
    if (n == 0) return Status(EDAOS_IO, "write " + what + ": no progress");
    p += n;
    len -= static_cast<size_t>(n);
    off += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

Result<size_t> pread_full(int fd, void* buf, size_t len, uint64_t off, const std::string& what) {
  char* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, p + got, len - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "read " + what);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < len) std::memset(p + got, 0, len - got);
  return got;
}

uint64_t file_size_or(int fd, uint64_t fallback) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return fallback;
  return static_cast<uint64_t>(st.st_size);
}

std::string hex64(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

uint64_t fnv1a64(const void* p, size_t n, uint64_t h) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

// ---- DirLock ----
//
// The file's text is kept at a fixed size (padded with NULs to kLockFileBytes): every owner and
// every release overwrites it in place with one pwrite, never truncating it. A truncation to 0
// of a file that holds a block is journaled by ext4 (0.6 ms each, three per engine open and
// close, half of a 20-engine pool connection); an overwrite of a cached page is not. Readers
// take the text up to the first NUL, so the padding and the text of older builds (unpadded,
// or emptied at release) read the same.

namespace {
constexpr size_t kLockFileBytes = 256;

std::string lock_text(const char* buf, ssize_t n) {
  std::string s(buf, n > 0 ? static_cast<size_t>(n) : 0);
  const size_t nul = s.find('\0');
  if (nul != std::string::npos) s.resize(nul);
  return s;
}

Status write_lock_text(int fd, const std::string& text, const std::string& path) {
  std::string v = text;
  if (v.size() < kLockFileBytes) v.resize(kLockFileBytes, '\0');
  return pwrite_full(fd, v.data(), v.size(), 0, path);
}
}  // namespace

Result<std::unique_ptr<DirLock>> DirLock::acquire(const std::string& lock_path,
                                                  std::string* previous) {
  int fd = open_retry(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd < 0) return errno_status(errno, "open lock file " + lock_path);
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    if (err == EWOULDBLOCK) {
      char buf[512] = {};
      ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      std::string owner = lock_text(buf, n);
      while (!owner.empty() && owner.back() == '\n') owner.pop_back();
      if (owner.empty() || owner.compare(0, 5, "seal ") == 0)  // the last owner's seal
        owner = "another process (owner not yet recorded)";
      return Status(EDAOS_BUSY, "pool in use by " + owner + " (lock " + lock_path + ")");
    }
    ::close(fd);
    return errno_status(err, "flock " + lock_path);
  }
  if (previous) {
    char buf[kLockFileBytes];
    *previous = lock_text(buf, ::pread(fd, buf, sizeof buf, 0));
  }
  Status st = write_lock_text(fd, owner_id() + "\n", lock_path);
  if (!st.ok()) {
    ::close(fd);
    return Status(st.code(), "write owner into " + lock_path + ": " + st.message());
  }
  return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() {
  // The seal, or nothing (NULs): the next owner overwrites it in place.
  if (!write_lock_text(fd_, seal_, "lock file").ok()) {
    // Harmless: an owner that finds no seal recounts.
  }
  ::close(fd_);
}

// ---- LmdbEnv ----

namespace {
// Shared-mode environments of this process by (device, inode) of their file.
struct SharedRegistry {
  std::mutex mu;
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<SharedEnv>> envs;
};
SharedRegistry& shared_registry() {
  static SharedRegistry* r = new SharedRegistry;  // never destroyed: readers may outlive statics
  return *r;
}
// Commits between two clearings of dead readers' slots: a reader process killed inside a read
// transaction pins its snapshot's pages until then, so the file grows by at most the pages
// this many commits free.
constexpr uint64_t kReaderCheckEvery = 256;
}  // namespace

std::shared_ptr<SharedEnv> shared_env_of(uint64_t dev, uint64_t ino) {
  SharedRegistry& r = shared_registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.envs.find({dev, ino});
  if (it == r.envs.end()) return nullptr;
  auto sp = it->second.lock();
  if (!sp) r.envs.erase(it);
  return sp;
}

void LmdbEnv::reader_check(const char* when) {
  if (!shared_) return;
  int dead = 0;
  const int rc = mdb_reader_check(env_, &dead);
  if (rc != 0)
    EDAOS_LOG(warn, "mdb_reader_check of %s (%s): %s", path_.c_str(), when, mdb_strerror(rc));
  else if (dead > 0)
    EDAOS_LOG(info, "%s: %d reader slot(s) of dead processes cleared (%s)", path_.c_str(), dead,
              when);
}

Status LmdbEnv::mdb_status(int rc, const std::string& what) {
  if (rc == 0) return Status::OK();
  if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL) map_full_ = true;
  if (rc == MDB_NOTFOUND) return Status(EDAOS_NONEXIST, what + ": not found");
  if (rc == MDB_KEYEXIST) return Status(EDAOS_EXIST, what + ": exists");
  if (rc == MDB_BAD_VALSIZE) return Status(EDAOS_NAMETOOLONG, what + ": key too long for LMDB");
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED)
    return Status(EDAOS_FORMAT, what + " (" + path_ + "): " + mdb_strerror(rc));
  if (rc > 0) return errno_status(rc, what + " (" + path_ + ")");
  return Status(EDAOS_IO, what + " (" + path_ + "): " + mdb_strerror(rc));
}

Result<std::unique_ptr<LmdbEnv>> LmdbEnv::open(const std::string& path, unsigned flags,
                                               std::vector<std::string> dbs) {
  std::unique_ptr<LmdbEnv> e(new LmdbEnv());
  e->path_ = path;
  e->nosubdir_ = (flags & MDB_NOSUBDIR) != 0;
  e->mapsize_ = kInitialMapSize;
  int rc = mdb_env_create(&e->env_);
  if (rc != 0) return e->mdb_status(rc, "mdb_env_create");
  EDAOS_RETURN_IF_ERROR(e->mdb_status(mdb_env_set_maxdbs(e->env_, static_cast<MDB_dbi>(dbs.size())),
                                      "mdb_env_set_maxdbs"));
  EDAOS_RETURN_IF_ERROR(
      e->mdb_status(mdb_env_set_mapsize(e->env_, e->mapsize_), "mdb_env_set_mapsize"));
  // A single-file environment (an engine's meta.mdb) is shared with the readers of the node; a
  // directory environment (psvc) stays private (see vos_internal.hpp).
  const bool shared = e->nosubdir_;
  if (shared)
    EDAOS_RETURN_IF_ERROR(
        e->mdb_status(mdb_env_set_maxreaders(e->env_, kLmdbMaxReaders), "mdb_env_set_maxreaders"));
  EDAOS_RETURN_IF_ERROR(e->mdb_status(
      mdb_env_open(e->env_, path.c_str(), flags | (shared ? MDB_NOTLS : MDB_NOLOCK), 0644),
      "mdb_env_open"));
  // The file may already be larger than our initial map (grown in an earlier run): adopt it.
  MDB_envinfo info;
  if (mdb_env_info(e->env_, &info) == 0 && info.me_mapsize > e->mapsize_)
    e->mapsize_ = info.me_mapsize;
  e->dbis_.resize(dbs.size());
  EDAOS_VOS_TRY(e->write([&](MDB_txn* t) -> Status {
    for (size_t i = 0; i < dbs.size(); ++i)
      EDAOS_RETURN_IF_ERROR(e->mdb_status(mdb_dbi_open(t, dbs[i].c_str(), MDB_CREATE, &e->dbis_[i]),
                                          "mdb_dbi_open " + dbs[i]));
    return Status::OK();
  }));
  if (shared) {
    // Slots of readers killed since the last owner (a reader process of an earlier job that
    // was killed while this environment was open elsewhere) pin pages until cleared.
    auto sh = std::make_shared<SharedEnv>();
    sh->env = e->env_;
    sh->dbis = e->dbis_;
    sh->open = true;
    e->shared_ = sh;
    e->reader_check("open");
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      SharedRegistry& r = shared_registry();
      std::lock_guard<std::mutex> g(r.mu);
      r.envs[{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}] = sh;
    }
  }
  return e;
}

LmdbEnv::~LmdbEnv() {
  if (shared_) {
    reader_check("close");
    // Readers of this process finish their transaction first and never start another.
    std::unique_lock<std::shared_mutex> g(shared_->mu);
    shared_->open = false;
    shared_->env = nullptr;
  }
  if (env_) mdb_env_close(env_);
}

Status LmdbEnv::write(const std::function<Status(MDB_txn*)>& fn) {
  for (int attempt = 0;; ++attempt) {
    map_full_ = false;
    MDB_txn* t = nullptr;
    EDAOS_RETURN_IF_ERROR(mdb_status(mdb_txn_begin(env_, nullptr, 0, &t), "mdb_txn_begin"));
    Status st = fn(t);
    if (st.ok()) {
      st = mdb_status(mdb_txn_commit(t), "mdb_txn_commit");
      if (st.ok() && shared_ && ++commits_ % kReaderCheckEvery == 0) reader_check("periodic");
    } else {
      mdb_txn_abort(t);
    }
    if (st.ok() || !map_full_ || attempt >= 8 || mapsize_ >= kMaxMapSize) {
      if (map_full_ && !st.ok()) return Status(EDAOS_NOSPACE, st.message());
      return st;
    }
    // A dead reader's slot may be what filled the map (its snapshot's pages cannot be reused).
    reader_check("map full");
    size_t next = mapsize_ * 2;
    EDAOS_LOG(info, "growing LMDB map of %s to %zu bytes", path_.c_str(), next);
    {
      // LMDB remaps: no read transaction of this process may be running on the old map.
      std::unique_lock<std::shared_mutex> g;
      if (shared_) g = std::unique_lock<std::shared_mutex>(shared_->mu);
      EDAOS_RETURN_IF_ERROR(mdb_status(mdb_env_set_mapsize(env_, next), "mdb_env_set_mapsize"));
    }
    mapsize_ = next;
  }
}

namespace {
std::atomic<int> g_fail_group_commits{0};
}  // namespace

void LmdbEnv::fail_group_commits_for_testing(int n) { g_fail_group_commits.store(n); }

Status LmdbEnv::write_group(const std::vector<std::function<Status(MDB_txn*)>>& fns,
                            std::vector<Status>* results) {
  // The outer transaction is write()'s (commit, map growth and retry); each function runs in
  // a nested one. A full map fails the whole attempt, so write() grows the map and retries.
  return write([&](MDB_txn* t) -> Status {
    results->assign(fns.size(), Status::OK());
    for (size_t i = 0; i < fns.size(); ++i) {
      MDB_txn* c = nullptr;
      EDAOS_RETURN_IF_ERROR(mdb_status(mdb_txn_begin(env_, t, 0, &c), "mdb_txn_begin (nested)"));
      Status fs = fns[i](c);
      if (fs.ok()) {
        fs = mdb_status(mdb_txn_commit(c), "mdb_txn_commit (nested)");
      } else {
        mdb_txn_abort(c);
      }
      if (map_full_) return Status(EDAOS_NOSPACE, "LMDB map full: " + fs.message());
      (*results)[i] = fs;
    }
    if (g_fail_group_commits.load() > 0) {
      g_fail_group_commits.fetch_sub(1);
      return Status(EDAOS_IO, "mdb_txn_commit: injected failure (test)");
    }
    return Status::OK();
  });
}

Status LmdbEnv::read(const std::function<Status(MDB_txn*)>& fn) {
  MDB_txn* t = nullptr;
  EDAOS_RETURN_IF_ERROR(mdb_status(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t), "mdb_txn_begin"));
  Status st = fn(t);
  mdb_txn_abort(t);
  return st;
}

Status LmdbEnv::sync() { return mdb_status(mdb_env_sync(env_, 1), "mdb_env_sync"); }

uint64_t LmdbEnv::allocated_bytes() const {
  std::string file = nosubdir_ ? path_ : path_ + "/data.mdb";
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

Status LmdbEnv::put(MDB_txn* t, MDB_dbi d, std::string_view k, std::string_view v, unsigned flags) {
  MDB_val key = mval(k), val = mval(v);
  return mdb_status(mdb_put(t, d, &key, &val, flags), "mdb_put");
}

Status LmdbEnv::del(MDB_txn* t, MDB_dbi d, std::string_view k) {
  MDB_val key = mval(k);
  return mdb_status(mdb_del(t, d, &key, nullptr), "mdb_del");
}

Status LmdbEnv::get(MDB_txn* t, MDB_dbi d, std::string_view k, std::string_view* v) {
  MDB_val key = mval(k), val;
  int rc = mdb_get(t, d, &key, &val);
  if (rc == MDB_NOTFOUND) return Status(EDAOS_NONEXIST);
  EDAOS_RETURN_IF_ERROR(mdb_status(rc, "mdb_get"));
  *v = sv(val);
  return Status::OK();
}

Status LmdbEnv::scan(MDB_txn* t, MDB_dbi d, std::string_view prefix, std::string_view after,
                     const std::function<bool(std::string_view, std::string_view)>& fn) {
  MDB_cursor* c = nullptr;
  EDAOS_RETURN_IF_ERROR(mdb_status(mdb_cursor_open(t, d, &c), "mdb_cursor_open"));
  std::string_view start = after.empty() ? prefix : after;
  MDB_val key = mval(start), val;
  int rc = start.empty() ? mdb_cursor_get(c, &key, &val, MDB_FIRST)
                         : mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
  if (rc == 0 && !after.empty() && sv(key) == after) rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
  while (rc == 0) {
    std::string_view k = sv(key);
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, sv(val))) break;
    rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
  }
  mdb_cursor_close(c);
  if (rc != 0 && rc != MDB_NOTFOUND) return mdb_status(rc, "mdb_cursor_get");
  return Status::OK();
}

Status LmdbEnv::del_prefix(MDB_txn* t, MDB_dbi d, std::string_view prefix) {
  // Collect first, then delete: cursor positioning after mdb_cursor_del has corner cases.
  std::vector<std::string> keys;
  EDAOS_RETURN_IF_ERROR(scan(t, d, prefix, {}, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  }));
  for (const auto& k : keys) EDAOS_RETURN_IF_ERROR(del(t, d, k));
  return Status::OK();
}

}  // namespace edaos::objstore::vos::detail

// Engine storage: open/format, paths and the open-file cache, sync and space. The other seams:
// engine_sizes.cpp (array size log), engine_kv.cpp (KV, long keys), engine_objects.cpp (objects,
// containers), engine_records.cpp (record sidecars), engine_intents.cpp (intent log).
#include "vos/engine.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "common/log.hpp"
#include "vos/engine_internal.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;
using namespace detail;  // engine_internal.hpp: the layout shared by engine*.cpp

namespace {

const std::vector<std::string> kDbNames = {"meta", "arrays", "dkeys", "akeys", "ldkeys", "lakeys"};

// meta.mdb key of the persisted used-bytes counter (README "Used-bytes counter"): u64 LE
// allocated bytes of the target directories, u8 kUsedClean or kUsedDirty, u64 LE seal. Clean is
// written only at a close with every change synced, and the same close leaves "seal <16 hex>"
// in LOCK; open trusts the counter only when it is clean AND LOCK still holds its seal (a build
// that does not keep the counter empties LOCK at its release, a killed process leaves its
// host:pid there) and writes nothing; the first change turns it dirty (durably).
constexpr char kUsedKey[] = "used";
constexpr char kUsedDirty = 0, kUsedClean = 1;
constexpr size_t kUsedLen = 17;
std::string encode_used(uint64_t bytes, char state, uint64_t seal) {
  std::string v;
  detail::put_le64(&v, bytes);
  v.push_back(state);
  detail::put_le64(&v, seal);
  return v;
}
std::string lock_seal(uint64_t seal) { return "seal " + detail::hex64(seal) + "\n"; }
// A seal that differs at every close (time and address bits; uniqueness is what matters).
uint64_t new_seal(const void* self) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t v = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
  return detail::fnv1a64(&self, sizeof self, v ^ (static_cast<uint64_t>(::getpid()) << 32)) | 1;
}

uint64_t file_blocks_bytes(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// FORMAT: "EDAOS-ENGINE <version>\nntargets <n>\n" (open and check_format judge it alike).
Status parse_format(const std::string& dir, const std::string& text, uint32_t want_nt,
                    unsigned* ver, unsigned* nt) {
  const std::string fpath = dir + "/FORMAT";
  char magic[32] = {};
  if (std::sscanf(text.c_str(), "%31s %u\nntargets %u", magic, ver, nt) != 3 ||
      std::strcmp(magic, kFormatMagic) != 0 || *nt == 0)
    return Status(EDAOS_FORMAT, fpath + ": not an edaos engine format stamp");
  if (*ver < kEngineFormatOldest || *ver > kEngineFormatVersion)
    return Status(EDAOS_FORMAT, fpath + ": engine format version " + std::to_string(*ver) +
                                    " is not supported (this build reads versions " +
                                    std::to_string(kEngineFormatOldest) + " to " +
                                    std::to_string(kEngineFormatVersion) + ")");
  if (want_nt != 0 && want_nt != *nt)
    return Status(EDAOS_INVAL, "engine " + dir + " has " + std::to_string(*nt) +
                                   " targets, opened with " + std::to_string(want_nt));
  return Status::OK();
}

}  // namespace

Status Engine::check_format(const std::string& dir, uint32_t ntargets) {
  std::string text;
  Status fst = detail::read_file(dir + "/FORMAT", &text);
  if (fst.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no engine formatted at " + dir);
  if (!fst.ok()) return Status(EDAOS_IO, fst.message());
  unsigned ver = 0, nt = 0;
  return parse_format(dir, text, ntargets, &ver, &nt);
}

bool Engine::intents_pending(const std::string& dir, Status* st) {
  struct stat sb;
  const std::string path = dir + "/intents.log";
  if (::stat(path.c_str(), &sb) == 0) return sb.st_size > 0;
  if (errno != ENOENT) *st = detail::errno_status(errno, "stat " + path);
  return false;
}

// Allocated bytes of every regular file below `path`.
uint64_t detail::tree_bytes(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode))
    return S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  uint64_t sum = 0;
  DIR* d = ::opendir(path.c_str());
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    sum += tree_bytes(path + "/" + e->d_name);
  }
  ::closedir(d);
  return sum;
}

// ---------------------------------------------------------------- open / close

Result<std::unique_ptr<Engine>> Engine::open(const Options& o) {
  if (o.dir.empty()) return Status(EDAOS_INVAL, "engine directory not set");
  struct stat st;
  if (::stat(o.dir.c_str(), &st) != 0) {
    if (errno == ENOENT && o.create) {
      EDAOS_RETURN_IF_ERROR(detail::mkdir_p(o.dir));
      EDAOS_RETURN_IF_ERROR(detail::fsync_path(detail::parent_dir(o.dir)));
    } else if (errno == ENOENT) {
      return Status(EDAOS_NONEXIST, "engine directory " + o.dir + " is missing");
    } else {
      return Status(EDAOS_IO, "engine directory " + o.dir + ": " + std::strerror(errno));
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status(EDAOS_IO, "engine path " + o.dir + " is not a directory");
  }
  if (::access(o.dir.c_str(), R_OK | W_OK | X_OK) != 0)
    return Status(EDAOS_IO,
                  "engine directory " + o.dir + " is not accessible: " + std::strerror(errno));

  std::unique_ptr<Engine> e(new Engine());
  e->opts_ = o;
  std::string last_release;  // what the last owner left in LOCK (a seal, or nothing)
  auto lock = detail::DirLock::acquire(o.dir + "/LOCK", &last_release);
  if (!lock.ok()) {
    if (lock.status().code() == EDAOS_BUSY) return lock.status();
    return Status(EDAOS_IO, lock.status().message());
  }
  e->lock_ = std::move(lock).value();

  // FORMAT: "EDAOS-ENGINE <version>\nntargets <n>\n"
  std::string fpath = o.dir + "/FORMAT", text;
  bool upgrade = false;
  Status fst = detail::read_file(fpath, &text);
  if (fst.code() == EDAOS_NONEXIST) {
    if (!o.create) return Status(EDAOS_NONEXIST, "no engine formatted at " + o.dir);
    if (o.ntargets == 0) return Status(EDAOS_INVAL, "engine needs at least one target");
    e->opts_.ntargets = o.ntargets;
    EDAOS_RETURN_IF_ERROR(e->write_format(kEngineFormatRecords));
  } else if (!fst.ok()) {
    return Status(EDAOS_IO, fst.message());
  } else {
    unsigned ver = 0, nt = 0;
    EDAOS_RETURN_IF_ERROR(parse_format(o.dir, text, o.ntargets, &ver, &nt));
    upgrade = ver < kEngineFormatNoLongKeys;
    e->format_ = ver;
    // Shards of an engine written before format 4 may hold legacy records (or none).
    e->legacy_ = ver < kEngineFormatRecords || text.find("\nlegacy 1\n") != std::string::npos;
    e->opts_.ntargets = nt;
  }
  for (uint32_t t = 0; t < e->opts_.ntargets; ++t)
    EDAOS_RETURN_IF_ERROR(detail::mkdir_p(o.dir + "/tgt-" + std::to_string(t)));

  EDAOS_ASSIGN_OR_RETURN(
      e->db_,
      LmdbEnv::open(o.dir + "/meta.mdb", MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC, kDbNames));
  LmdbEnv* db = e->db_.get();
  // The used-bytes counter: trusted when it is clean and LOCK still holds its seal. Nothing is
  // written here: a read-only use of the engine leaves meta.mdb as it found it; the first
  // change marks the counter dirty (mark_changed), the close writes it clean again.
  std::string used;
  Status us = db->read([&](MDB_txn* t) {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(db->get(t, db->dbi(kDbMeta), kUsedKey, &v));
    used.assign(v);
    return Status::OK();
  });
  if (us.code() != EDAOS_NONEXIST) EDAOS_VOS_TRY(us);
  e->used_clean_ = us.ok() && used.size() == kUsedLen && used[8] == kUsedClean &&
                   last_release == lock_seal(detail::get_le64(used.data() + 9));
  if (e->used_clean_) {
    e->used_bytes_ = detail::get_le64(used.data());
    e->used_seal_ = detail::get_le64(used.data() + 9);
  }
  if (o.create) EDAOS_RETURN_IF_ERROR(db->sync());
  if (upgrade) {
    // Version 1 -> 2: the stamp changes before the first size record can be written.
    EDAOS_RETURN_IF_ERROR(e->write_format(kEngineFormatNoLongKeys));
    EDAOS_LOG(info, "engine %s upgraded to format %u", o.dir.c_str(), e->format_);
  }
  EDAOS_RETURN_IF_ERROR(e->open_size_log());
  EDAOS_RETURN_IF_ERROR(e->open_intent_log());
  e->used_trusted_at_open_ = e->used_clean_;
  if (!e->used_clean_) {  // absent (new engine, older build) or dirty (not closed cleanly): recount
    if (!o.create || us.ok())
      EDAOS_LOG(info, "engine %s: used-bytes counter %s: walking the target directories",
                o.dir.c_str(),
                !us.ok() || used.size() != kUsedLen ? "absent"
                : used[8] != kUsedClean             ? "dirty (the last owner did not close it)"
                                                    : "not sealed in LOCK");
    for (uint32_t t = 0; t < e->opts_.ntargets; ++t)
      e->used_bytes_ += tree_bytes(o.dir + "/tgt-" + std::to_string(t));
  }
  return e;
}

Status Engine::write_format(uint32_t version) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %u\nntargets %u\n%s", kFormatMagic, version, opts_.ntargets,
                version >= kEngineFormatRecords && legacy_ ? "legacy 1\n" : "");
  EDAOS_RETURN_IF_ERROR(detail::write_file_atomic(opts_.dir + "/FORMAT", buf));
  format_ = version;
  return Status::OK();
}

Status Engine::ensure_records_format() {
  if (format_ >= kEngineFormatRecords) return Status::OK();
  // Before the first record or intent a build reading only versions up to 3 would not keep.
  EDAOS_RETURN_IF_ERROR(write_format(kEngineFormatRecords));
  EDAOS_LOG(info, "engine %s upgraded to format %u (legacy records converted on access)",
            opts_.dir.c_str(), format_);
  return Status::OK();
}

Engine::~Engine() {
  if (punch_stats_.shards)  // benchmarks/README.md "Session 12: rmv12" counts these
    EDAOS_LOG(info,
              "engine %s: %" PRIu64 " shard removals (%" PRIu64 " held nothing), %" PRIu64
              " write transactions, %" PRIu64 " stat calls, %" PRIu64 " directories read",
              opts_.dir.c_str(), punch_stats_.shards, punch_stats_.empty, punch_stats_.write_txns,
              punch_stats_.stats, punch_stats_.dir_scans);
  if (db_ && log_fd_ >= 0 && (!dirty_files_.empty() || !dirty_dirs_.empty())) {
    // Closed by its owner with changes not synced yet (a server stopping with a pool whose
    // connection was never closed, a failed sync at the pool's close): sync them now, so the
    // counter can be saved below. Without it the next open walks every target directory (a
    // pool of 100,000 files: 100,000 stat calls, seconds), and a machine crash after this
    // close could lose what a clean close is expected to keep.
    EDAOS_LOG(info, "engine %s closed with %zu unsynced files and %zu directories: synced now",
              opts_.dir.c_str(), dirty_files_.size(), dirty_dirs_.size());
    Status st = sync();
    if (!st.ok())
      EDAOS_LOG(warn, "engine %s: sync at close failed (the next open recounts): %s",
                opts_.dir.c_str(), st.to_string().c_str());
  }
  if (db_ && log_fd_ >= 0) {
    Status st = flush_sizes();
    if (!st.ok())  // the records stay in the log; the next open replays them
      EDAOS_LOG(warn, "engine %s: size log not folded at close: %s", opts_.dir.c_str(),
                st.to_string().c_str());
  }
  if (db_ && dirty_files_.empty() && dirty_dirs_.empty()) {
    if (used_clean_) {
      // Unchanged since a trusted open: meta.mdb still holds the clean counter; only LOCK
      // needs its seal back (acquire replaced it with our name).
      if (lock_) lock_->seal_at_release(lock_seal(used_seal_));
    } else {
      // Changed (or recounted at open) and every change synced: save the counter for the next
      // open. Otherwise it stays dirty (or absent) and the next open recounts.
      settle_all();
      const uint64_t seal = new_seal(this);
      Status st = db_->write([&](MDB_txn* t) {
        return db_->put(t, db_->dbi(kDbMeta), kUsedKey, encode_used(used_bytes_, kUsedClean, seal));
      });
      if (st.ok()) st = db_->sync();
      if (st.ok() && lock_) lock_->seal_at_release(lock_seal(seal));
      if (!st.ok())
        EDAOS_LOG(warn, "engine %s: used-bytes counter not saved (the next open recounts): %s",
                  opts_.dir.c_str(), st.to_string().c_str());
    }
  } else if (db_) {
    // The next open walks every target directory (seconds for a pool of many files): say why.
    EDAOS_LOG(info,
              "engine %s closed with %zu unsynced files and %zu directories (first: %s): the "
              "used-bytes counter is not saved, the next open recounts",
              opts_.dir.c_str(), dirty_files_.size(), dirty_dirs_.size(),
              !dirty_files_.empty() ? dirty_files_.begin()->c_str() : dirty_dirs_.begin()->c_str());
  }
  if (log_fd_ >= 0) ::close(log_fd_);
  if (intent_fd_ >= 0) {
    // An empty log is left alone (no truncation to journal at every close).
    if (intents_.empty() && intent_end_ > 0 && ::ftruncate(intent_fd_, 0) != 0) {
      // Harmless: the next open replays the log and finds nothing set.
    }
    ::close(intent_fd_);
  }
  for (auto& kv : fds_) ::close(kv.second.fd);
}

// ---------------------------------------------------------------- paths and fds

Status Engine::check_ref(const ShardRef& ref) const {
  if (ref.target >= opts_.ntargets)
    return Status(EDAOS_INVAL, "target " + std::to_string(ref.target) +
                                   " out of range (engine has " + std::to_string(opts_.ntargets) +
                                   ")");
  if (ref.cont.is_nil()) return Status(EDAOS_INVAL, "nil container uuid");
  return Status::OK();
}

std::string Engine::shard_dir(const ShardRef& ref) const {
  return opts_.dir + "/tgt-" + std::to_string(ref.target) + "/" + ref.cont.to_string();
}

std::string Engine::shard_data_path(const ShardRef& ref) const {
  return shard_dir(ref) + "/" + ref.oid.to_string() + "." + std::to_string(ref.shard);
}

bool Engine::OpenFile::allocated(uint64_t off, uint64_t end) const {
  auto it = alloc.upper_bound(off);
  if (it == alloc.begin()) return false;
  --it;
  return it->first <= off && it->second >= end;
}

void Engine::OpenFile::mark_allocated(uint64_t off, uint64_t end) {
  if (off >= end) return;
  constexpr size_t kMaxRanges = 4096;  // a very fragmented file: forget, fall back to fallocate
  if (alloc.size() >= kMaxRanges) alloc.clear();
  auto it = alloc.upper_bound(off);
  if (it != alloc.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= off) {  // overlaps or touches the previous range: extend it
      off = prev->first;
      end = std::max(end, prev->second);
      it = alloc.erase(prev);
    }
  }
  while (it != alloc.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = alloc.erase(it);
  }
  alloc.emplace(off, end);
}

Result<Engine::OpenFile*> Engine::open_file(const std::string& path, bool create) {
  auto it = fds_.find(path);
  if (it != fds_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second;
  }
  if (!create && absent_.count(path)) return static_cast<OpenFile*>(nullptr);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (!create) {
      if (absent_.size() >= kMaxAbsent) absent_.clear();
      absent_.insert(path);
      return static_cast<OpenFile*>(nullptr);
    }
    std::string dir = detail::parent_dir(path);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      EDAOS_RETURN_IF_ERROR(detail::mkdir_p(dir));
      dirty_dirs_.insert(detail::parent_dir(dir));
    }
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dirty_dirs_.insert(dir);
      index_created(path);  // the removal's index of this directory stays exact
    }
  }
  if (fd < 0) return detail::errno_status(errno, "open " + path);
  absent_.erase(path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return detail::errno_status(err, "stat " + path);
  }
  lru_.push_front(path);
  OpenFile& f = fds_[path];
  f.fd = fd;
  f.lru = lru_.begin();
  f.size = static_cast<uint64_t>(st.st_size);
  f.blocks = static_cast<uint64_t>(st.st_blocks) * 512;  // already counted in used_bytes_
  OpenFile* result = &f;
  const size_t cap = max_open_fds();
  while (fds_.size() > cap) {
    // Evicted files stay in dirty_files_; sync() reopens them.
    const std::string victim = lru_.back();
    forget_fd(victim);
  }
  return result;
}

namespace {
std::atomic<size_t> g_live_engines{0};
}  // namespace

Engine::Live::Live() { g_live_engines.fetch_add(1, std::memory_order_relaxed); }
Engine::Live::~Live() { g_live_engines.fetch_sub(1, std::memory_order_relaxed); }

size_t Engine::max_open_fds() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return kMaxOpenFds;
  const size_t n = std::max<size_t>(1, g_live_engines.load(std::memory_order_relaxed));
  return std::clamp<size_t>(static_cast<size_t>(rl.rlim_cur) / 4 / n, 8, kMaxOpenFds);
}

Result<int> Engine::open_cached(const std::string& path, bool create) {
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, create));
  return f ? f->fd : -1;
}

void Engine::forget_fd(const std::string& path) {
  auto it = fds_.find(path);
  if (it == fds_.end()) return;
  settle(it->second);
  ::close(it->second.fd);
  lru_.erase(it->second.lru);
  fds_.erase(it);
}

Result<int> Engine::data_fd(const ShardRef& ref, bool create) {
  return open_cached(shard_data_path(ref), create);
}

Status Engine::mark_changed() {
  if (!used_clean_) return Status::OK();
  // Durably dirty before the change can reach the disk: after a power loss LOCK may still hold
  // the seal (our name in it was never synced), and only this mark then forces the recount.
  EDAOS_RETURN_IF_ERROR(db_->write([&](MDB_txn* t) {
    return db_->put(t, db_->dbi(kDbMeta), kUsedKey, encode_used(used_bytes_, kUsedDirty, 0));
  }));
  EDAOS_RETURN_IF_ERROR(db_->sync());
  used_clean_ = false;
  return Status::OK();
}

void Engine::note_growth(const std::string& path) {
  if (used_clean_) {  // a change path that did not call mark_changed first (none should)
    Status st = mark_changed();
    if (!st.ok())
      EDAOS_LOG(warn, "engine %s: used-bytes counter not marked dirty: %s", opts_.dir.c_str(),
                st.to_string().c_str());
  }
  auto it = fds_.find(path);
  if (it != fds_.end()) it->second.blocks_stale = true;
  dirty_files_.insert(path);
}

void Engine::settle(OpenFile& f) const {
  if (!f.blocks_stale) return;
  f.blocks_stale = false;
  uint64_t now = file_blocks_bytes(f.fd);
  if (now >= f.blocks) {
    used_bytes_ += now - f.blocks;
  } else {
    uint64_t d = f.blocks - now;
    used_bytes_ = used_bytes_ > d ? used_bytes_ - d : 0;
  }
  f.blocks = now;
}

void Engine::settle_all() const {
  for (auto& kv : fds_) settle(kv.second);
}

CsumFn Engine::known_fn(CsumFn given, CsumType type) const {
  if (given) return given;
  unsigned t = static_cast<unsigned>(type);
  return t < fns_.size() ? fns_[t] : nullptr;
}

// ---------------------------------------------------------------- sync, space

Status Engine::sync() {
  std::lock_guard<std::mutex> g(mu_);
  // Sizes into LMDB, and the emptied log on disk before LMDB is: a crash must not replay
  // records older than a size change this sync makes durable.
  EDAOS_RETURN_IF_ERROR(flush_sizes());
  if (::fdatasync(log_fd_) != 0)
    return detail::errno_status(errno, "fdatasync " + opts_.dir + "/" + kSizeLogName);
  if (intent_fd_ >= 0 && ::fdatasync(intent_fd_) != 0)
    return detail::errno_status(errno, "fdatasync " + opts_.dir + "/intents.log");
  for (auto it = dirty_files_.begin(); it != dirty_files_.end();) {
    auto c = fds_.find(*it);
    int fd = c != fds_.end() ? c->second.fd : ::open(it->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {  // removed since it was written
        it = dirty_files_.erase(it);
        continue;
      }
      return detail::errno_status(errno, "open " + *it + " for sync");
    }
    int rc = ::fdatasync(fd);
    int err = errno;
    if (c == fds_.end()) ::close(fd);
    if (rc != 0) return detail::errno_status(err, "fdatasync " + *it);
    it = dirty_files_.erase(it);
  }
  for (auto it = dirty_dirs_.begin(); it != dirty_dirs_.end();) {
    Status st = detail::fsync_path(*it);
    if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    it = dirty_dirs_.erase(it);
  }
  return db_->sync();
}

EngineSpace Engine::space() const {
  std::lock_guard<std::mutex> g(mu_);
  settle_all();
  EngineSpace s{0, 0, used_bytes_ + db_->allocated_bytes()};
  struct statvfs v;
  uint64_t fs_total = 0, fs_free = 0;
  if (::statvfs(opts_.dir.c_str(), &v) == 0) {
    fs_total = static_cast<uint64_t>(v.f_blocks) * v.f_frsize;
    fs_free = static_cast<uint64_t>(v.f_bavail) * v.f_frsize;
  }
  if (opts_.quota_bytes > 0) {
    s.total = opts_.quota_bytes;
    s.free = std::min(fs_free, s.used < s.total ? s.total - s.used : 0);
  } else {
    s.total = fs_total;
    s.free = fs_free;
  }
  return s;
}

}  // namespace edaos::objstore::vos

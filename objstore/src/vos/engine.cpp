// Engine storage: sparse shard files per target, checksum sidecars, LMDB for KV and sizes.
#include "vos/engine.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "common/log.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;

namespace {

enum EngineDb : size_t { kDbMeta = 0, kDbArrays, kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys };
const std::vector<std::string> kDbNames = {"meta", "arrays", "dkeys", "akeys", "ldkeys", "lakeys"};

constexpr char kFormatMagic[] = "EDAOS-ENGINE";
constexpr uint32_t kEngineFormatOldest = 1;  // opened and upgraded in place
// Versions 1-3 are upgraded: 1 -> 2 at open (the size log), 2 -> 3 at the first long KV key,
// and any of them -> 4 + `legacy 1` before the first format-2 record or intent is stored.
constexpr uint32_t kEngineFormatNoLongKeys = 2;
constexpr uint32_t kEngineFormatLongKeys = 3;
constexpr uint32_t kEngineFormatRecords = 4;  // written at creation
// Size log record (see README): magic, shard key, logical_end, zero, FNV-1a 64 of bytes 0..55.
constexpr char kSizeLogName[] = "sizes.log";
constexpr char kSizeMagic[4] = {'E', 'D', 'S', 'Z'};
constexpr size_t kSizeRec = 64;
constexpr size_t kShardKeyLen = 36;
// cont(16) + oid.hi(8 BE) + oid.lo(8 BE) + shard(4 BE)
std::string shard_key(const ShardRef& r) {
  std::string k(reinterpret_cast<const char*>(r.cont.b), 16);
  detail::put_be(&k, r.oid.hi, 8);
  detail::put_be(&k, r.oid.lo, 8);
  detail::put_be(&k, r.shard, 4);
  return k;
}
std::string cont_key(const Uuid& u) { return std::string(reinterpret_cast<const char*>(u.b), 16); }
ObjectId oid_of_key(std::string_view k) {
  return ObjectId{detail::get_be(k.data() + 16, 8), detail::get_be(k.data() + 24, 8)};
}

uint64_t file_blocks_bytes(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Allocated bytes of every regular file below `path`.
uint64_t tree_bytes(const std::string& path) {
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

}  // namespace

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
  auto lock = detail::DirLock::acquire(o.dir + "/LOCK");
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
    char magic[32] = {};
    if (std::sscanf(text.c_str(), "%31s %u\nntargets %u", magic, &ver, &nt) != 3 ||
        std::strcmp(magic, kFormatMagic) != 0 || nt == 0)
      return Status(EDAOS_FORMAT, fpath + ": not an edaos engine format stamp");
    if (ver < kEngineFormatOldest || ver > kEngineFormatVersion)
      return Status(EDAOS_FORMAT, fpath + ": engine format version " + std::to_string(ver) +
                                      " is not supported (this build reads versions " +
                                      std::to_string(kEngineFormatOldest) + " to " +
                                      std::to_string(kEngineFormatVersion) + ")");
    upgrade = ver < kEngineFormatNoLongKeys;
    e->format_ = ver;
    // Shards of an engine written before format 4 may hold legacy records (or none).
    e->legacy_ = ver < kEngineFormatRecords || text.find("\nlegacy 1\n") != std::string::npos;
    if (o.ntargets != 0 && o.ntargets != nt)
      return Status(EDAOS_INVAL, "engine " + o.dir + " has " + std::to_string(nt) +
                                     " targets, opened with " + std::to_string(o.ntargets));
    e->opts_.ntargets = nt;
  }
  for (uint32_t t = 0; t < e->opts_.ntargets; ++t)
    EDAOS_RETURN_IF_ERROR(detail::mkdir_p(o.dir + "/tgt-" + std::to_string(t)));

  EDAOS_ASSIGN_OR_RETURN(
      e->db_,
      LmdbEnv::open(o.dir + "/meta.mdb", MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC, kDbNames));
  LmdbEnv* db = e->db_.get();
  EDAOS_VOS_TRY(db->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    std::string want = std::to_string(kEngineMetaFormat);
    Status s = db->get(t, db->dbi(kDbMeta), "format", &v);
    if (s.code() == EDAOS_NONEXIST) return db->put(t, db->dbi(kDbMeta), "format", want);
    EDAOS_RETURN_IF_ERROR(s);
    if (v != want)
      return Status(EDAOS_FORMAT,
                    o.dir + "/meta.mdb: format '" + std::string(v) + "' is not supported");
    return Status::OK();
  }));
  if (o.create) EDAOS_RETURN_IF_ERROR(db->sync());
  if (upgrade) {
    // Version 1 -> 2: the stamp changes before the first size record can be written.
    EDAOS_RETURN_IF_ERROR(e->write_format(kEngineFormatNoLongKeys));
    EDAOS_LOG(info, "engine %s upgraded to format %u", o.dir.c_str(), e->format_);
  }
  EDAOS_RETURN_IF_ERROR(e->open_size_log());
  EDAOS_RETURN_IF_ERROR(e->open_intent_log());
  for (uint32_t t = 0; t < e->opts_.ntargets; ++t)
    e->used_bytes_ += tree_bytes(o.dir + "/tgt-" + std::to_string(t));
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
  if (db_ && log_fd_ >= 0) {
    Status st = flush_sizes();
    if (!st.ok())  // the records stay in the log; the next open replays them
      EDAOS_LOG(warn, "engine %s: size log not folded at close: %s", opts_.dir.c_str(),
                st.to_string().c_str());
  }
  if (log_fd_ >= 0) ::close(log_fd_);
  if (intent_fd_ >= 0) {
    if (intents_.empty() && ::ftruncate(intent_fd_, 0) != 0) {
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
    if (fd >= 0) dirty_dirs_.insert(dir);
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
  while (fds_.size() > kMaxOpenFds) {
    // Evicted files stay in dirty_files_; sync() reopens them.
    const std::string victim = lru_.back();
    forget_fd(victim);
  }
  return result;
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

void Engine::note_growth(const std::string& path) {
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

// ---------------------------------------------------------------- arrays

namespace {
std::string encode_size_rec(const std::string& key, uint64_t end) {
  std::string r(kSizeMagic, sizeof kSizeMagic);
  r += key;
  detail::put_le64(&r, end);
  r.resize(56, '\0');
  detail::put_le64(&r, detail::fnv1a64(r.data(), r.size()));
  return r;
}
// Valid record: *key and *end set.
bool decode_size_rec(const char* p, std::string* key, uint64_t* end) {
  if (std::memcmp(p, kSizeMagic, sizeof kSizeMagic) != 0) return false;
  if (detail::get_le64(p + 56) != detail::fnv1a64(p, 56)) return false;
  for (int i = 48; i < 56; ++i)
    if (p[i] != 0) return false;
  key->assign(p + 4, kShardKeyLen);
  *end = detail::get_le64(p + 40);
  return true;
}
}  // namespace

Status Engine::open_size_log() {
  const std::string path = opts_.dir + "/" + kSizeLogName;
  bool created = false;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    created = fd >= 0;
  }
  if (fd < 0) return detail::errno_status(errno, "open " + path);
  log_fd_ = fd;
  if (created) return detail::fsync_path(opts_.dir);
  // Records left by a process that did not close the engine: fold them into LMDB (max), make
  // that durable, then empty the log. Invalid records (a torn tail after a machine crash) are
  // skipped: only records written since the last sync() can be torn, and those may be lost.
  struct stat st;
  if (::fstat(fd, &st) != 0) return detail::errno_status(errno, "stat " + path);
  if (st.st_size == 0) return Status::OK();
  std::string buf(static_cast<size_t>(st.st_size), '\0');
  EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, buf.data(), buf.size(), 0, path));
  std::map<std::string, uint64_t> ends;
  size_t bad = 0;
  for (size_t o = 0; o + kSizeRec <= got; o += kSizeRec) {
    std::string key;
    uint64_t end = 0;
    if (!decode_size_rec(buf.data() + o, &key, &end)) {
      ++bad;
      continue;
    }
    uint64_t& v = ends[key];
    v = std::max(v, end);
  }
  if (bad || got % kSizeRec)
    EDAOS_LOG(warn, "%s: %zu invalid size records skipped (torn tail)", path.c_str(), bad);
  EDAOS_VOS_TRY(db_->write([&](MDB_txn* t) -> Status {
    for (auto& [key, end] : ends) {
      std::string_view cur;
      Status gs = db_->get(t, db_->dbi(kDbArrays), key, &cur);
      if (gs.ok() && cur.size() == 8 && detail::get_le64(cur.data()) >= end) continue;
      if (!gs.ok() && gs.code() != EDAOS_NONEXIST) return gs;
      std::string val;
      detail::put_le64(&val, end);
      EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbArrays), key, val));
    }
    return Status::OK();
  }));
  EDAOS_RETURN_IF_ERROR(db_->sync());
  if (::ftruncate(fd, 0) != 0) return detail::errno_status(errno, "truncate " + path);
  if (::fdatasync(fd) != 0) return detail::errno_status(errno, "fdatasync " + path);
  EDAOS_LOG(info, "%s: %zu array sizes replayed", path.c_str(), ends.size());
  return Status::OK();
}

Result<Engine::SizeEntry*> Engine::size_entry(const std::string& key) {
  auto it = ends_.find(key);
  if (it != ends_.end()) return &it->second;
  if (ends_.size() >= kMaxSizeCache) {
    EDAOS_RETURN_IF_ERROR(flush_sizes());
    ends_.clear();  // nothing pending any more: every entry can be read back from LMDB
  }
  SizeEntry e;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    std::string_view cur;
    Status st = db_->get(t, db_->dbi(kDbArrays), key, &cur);
    if (st.code() == EDAOS_NONEXIST) return Status::OK();
    EDAOS_RETURN_IF_ERROR(st);
    if (cur.size() != 8) return Status(EDAOS_FORMAT, "corrupt array size record");
    e.end = detail::get_le64(cur.data());
    e.exists = true;
    return Status::OK();
  }));
  return &ends_.emplace(key, e).first->second;
}

Status Engine::raise_logical_end(const ShardRef& ref, uint64_t v) {
  const std::string key = shard_key(ref);
  EDAOS_ASSIGN_OR_RETURN(SizeEntry * e, size_entry(key));
  if (e->exists && e->end >= v) return Status::OK();
  // The data is already written (page cache): the record follows it, so after a kill a size
  // never covers bytes that were not written.
  const std::string rec = encode_size_rec(key, v);
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(log_fd_, rec.data(), rec.size(), log_end_,
                                            opts_.dir + "/" + kSizeLogName));
  log_end_ += rec.size();
  e->end = std::max(e->end, v);
  e->exists = true;
  if (!e->pending) ++npending_;
  e->pending = true;
  if (log_end_ >= kMaxSizeLogBytes) return flush_sizes();
  return Status::OK();
}

Status Engine::flush_sizes() {
  if (npending_ == 0 && log_end_ == 0) return Status::OK();
  if (npending_ > 0) {
    EDAOS_VOS_TRY(db_->write([&](MDB_txn* t) -> Status {
      for (auto& [key, e] : ends_) {
        if (!e.pending) continue;
        std::string_view cur;
        Status gs = db_->get(t, db_->dbi(kDbArrays), key, &cur);
        if (gs.ok() && cur.size() == 8 && detail::get_le64(cur.data()) >= e.end) continue;
        if (!gs.ok() && gs.code() != EDAOS_NONEXIST) return gs;
        std::string val;
        detail::put_le64(&val, e.end);
        EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbArrays), key, val));
      }
      return Status::OK();
    }));
    for (auto& kv : ends_) kv.second.pending = false;
    npending_ = 0;
  }
  // Every record is in LMDB now (committed to the file): the log can go.
  if (::ftruncate(log_fd_, 0) != 0)
    return detail::errno_status(errno, "truncate " + opts_.dir + "/" + kSizeLogName);
  log_end_ = 0;
  return Status::OK();
}

Status Engine::set_logical_end_exact(const ShardRef& ref, uint64_t v) {
  // A pending (larger) record replayed after this change would undo it: fold the log first.
  EDAOS_RETURN_IF_ERROR(flush_sizes());
  const std::string key = shard_key(ref);
  EDAOS_ASSIGN_OR_RETURN(SizeEntry * e, size_entry(key));
  if (e->exists && e->end == v) return Status::OK();
  EDAOS_RETURN_IF_ERROR(db_->write([&](MDB_txn* t) -> Status {
    std::string val;
    detail::put_le64(&val, v);
    return db_->put(t, db_->dbi(kDbArrays), key, val);
  }));
  e->end = v;
  e->exists = true;
  return Status::OK();
}

Result<uint64_t> Engine::array_logical_end(const ShardRef& ref) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_ASSIGN_OR_RETURN(SizeEntry * e, size_entry(shard_key(ref)));
  return e->end;
}

// ---------------------------------------------------------------- KV
//
// Short entries (dkey + akey <= kShortKvKeyBytes) live in `dkeys`/`akeys` under their own bytes.
// Longer ones live in `ldkeys`/`lakeys` under derived keys of at most 511 bytes (LMDB's limit):
//   ldkeys  SK + pad(dkey, kLongDkeyPad) + H(dkey) + u16 BE seq
//           -> u64 LE akey count, dkey
//   lakeys  SK + H(dkey) + pad(akey, kLongAkeyPad) + H(akey) + u16 BE seq
//           -> u32 LE dkey size, u32 LE akey size, dkey, akey, record (as in `akeys`)
// pad(s, w) = the first w bytes of s, zero-padded to w: s < t implies pad(s) <= pad(t), so the
// derived keys are in the byte order of the full keys except inside a run of equal pads (a
// "group"), which listing sorts. Entries whose derived keys agree up to the seq form a bucket;
// every lookup compares the full keys kept in the values, so hash collisions only lengthen the
// scan. See objstore/README.md ("Long KV keys").

namespace {
constexpr size_t kLmdbMaxKey = 511;
constexpr size_t kHashLen = 8, kSeqLen = 2;
constexpr size_t kLongDkeyPad = kLmdbMaxKey - kShardKeyLen - kHashLen - kSeqLen;
constexpr size_t kLongAkeyPad = kLmdbMaxKey - kShardKeyLen - 2 * kHashLen - kSeqLen;
constexpr uint32_t kMaxSeq = 0xffff;
static_assert(kLongDkeyPad <= kShortKvKeyBytes, "a long dkey must fill its pad");
static_assert(kShardKeyLen + 2 + kShortKvKeyBytes <= kLmdbMaxKey, "short akey keys fit LMDB");

std::atomic<KvKeyHashFn> g_key_hash{nullptr};

// 64-bit multiply-xorshift hash over little-endian 8-byte words (part of format 3: never change).
uint64_t builtin_key_hash(std::string_view s) {
  constexpr uint64_t kMul = 0x9fb21c651e98df25ull;
  uint64_t h = 0x6a09e667f3bcc908ull ^ (static_cast<uint64_t>(s.size()) * kMul);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    h ^= detail::get_le64(s.data() + i);
    h *= kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t j = s.size(); j > i; --j) tail = (tail << 8) | static_cast<uint8_t>(s[j - 1]);
  h ^= tail;
  h *= kMul;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

uint64_t key_hash(std::string_view s) {
  KvKeyHashFn f = g_key_hash.load(std::memory_order_relaxed);
  return f ? f(s) : builtin_key_hash(s);
}

void put_pad(std::string* k, std::string_view s, size_t width) {
  const size_t n = std::min(width, s.size());
  k->append(s.data(), n);
  k->append(width - n, '\0');
}

bool is_long_dkey(std::string_view dkey) { return dkey.size() > kShortKvKeyBytes; }
bool is_long_entry(std::string_view dkey, std::string_view akey) {
  return dkey.size() + akey.size() > kShortKvKeyBytes;
}

// A key for messages: long keys are cut (a 64 KiB name must not travel in every error reply).
std::string show(std::string_view k) {
  if (k.size() <= 64) return std::string(k);
  return std::string(k.substr(0, 40)) + "...(" + std::to_string(k.size()) + " bytes)";
}

std::string short_akey_prefix(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  detail::put_be(&k, dkey.size(), 2);
  k.append(dkey);
  return k;
}
std::string long_dkey_bucket(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  put_pad(&k, dkey, kLongDkeyPad);
  detail::put_be(&k, key_hash(dkey), 8);
  return k;
}
std::string long_akey_scope(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  detail::put_be(&k, key_hash(dkey), 8);
  return k;
}
std::string long_akey_bucket(const std::string& scope, std::string_view akey) {
  std::string k = scope;
  put_pad(&k, akey, kLongAkeyPad);
  detail::put_be(&k, key_hash(akey), 8);
  return k;
}

// Value of an `lakeys` entry.
struct LongAkeyVal {
  std::string_view dkey, akey, rec;
};
bool parse_long_akey(std::string_view v, LongAkeyVal* out) {
  if (v.size() < 8) return false;
  auto u32 = [&](size_t at) {
    uint32_t x = 0;
    for (int i = 3; i >= 0; --i)
      x = (x << 8) | static_cast<uint8_t>(v[at + static_cast<size_t>(i)]);
    return x;
  };
  const size_t dn = u32(0), an = u32(4);
  if (v.size() - 8 < dn || v.size() - 8 - dn < an) return false;
  out->dkey = v.substr(8, dn);
  out->akey = v.substr(8 + dn, an);
  out->rec = v.substr(8 + dn + an);
  return true;
}
std::string encode_long_akey(std::string_view dkey, std::string_view akey, std::string_view rec) {
  std::string v;
  for (size_t n : {dkey.size(), akey.size()})
    for (int i = 0; i < 4; ++i) v.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  v.append(dkey).append(akey).append(rec);
  return v;
}

// Where a dkey record or an akey entry is (or would go).
struct KeyLoc {
  bool exists = false;
  MDB_dbi dbi = 0;
  std::string key;
  std::string_view val;  // the stored value (short) or record (long), when exists
};

// Searches the bucket `bucket` (keys bucket + u16 BE seq) for the entry `match` accepts. Not
// found: loc->key = the bucket's first free seq; EDAOS_NOSPACE when all 65536 are taken.
Status probe(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& bucket,
             const std::function<bool(std::string_view val, std::string_view* rec)>& match,
             KeyLoc* loc) {
  loc->dbi = dbi;
  uint32_t next = 0;
  bool gap = false;
  EDAOS_RETURN_IF_ERROR(db->scan(t, dbi, bucket, {}, [&](std::string_view k, std::string_view v) {
    if (k.size() != bucket.size() + kSeqLen) return true;
    if (!gap) {
      if (detail::get_be(k.data() + bucket.size(), 2) == next)
        ++next;
      else
        gap = true;
    }
    if (match(v, &loc->val)) {
      loc->exists = true;
      loc->key.assign(k);
      return false;
    }
    return true;
  }));
  if (loc->exists) return Status::OK();
  if (next > kMaxSeq) return Status(EDAOS_NOSPACE, "long-key hash bucket is full");
  loc->key = bucket;
  detail::put_be(&loc->key, next, 2);
  return Status::OK();
}

Status check_keys(std::string_view dkey, std::string_view akey, bool akey_required) {
  if (dkey.empty()) return Status(EDAOS_INVAL, "empty dkey");
  if (akey_required && akey.empty()) return Status(EDAOS_INVAL, "empty akey");
  if (dkey.size() + akey.size() > kMaxKvKeyBytes)
    return Status(EDAOS_NAMETOOLONG, "dkey + akey are " +
                                         std::to_string(dkey.size() + akey.size()) +
                                         " bytes, limit " + std::to_string(kMaxKvKeyBytes));
  return Status::OK();
}

// The dkey record of `dkey` (value: u64 LE akey count, then the dkey itself when long).
Status find_dkey(LmdbEnv* db, MDB_txn* t, const std::string& sk, std::string_view dkey,
                 KeyLoc* loc) {
  if (!is_long_dkey(dkey)) {
    loc->dbi = db->dbi(kDbDkeys);
    loc->key = sk + std::string(dkey);
    Status st = db->get(t, loc->dbi, loc->key, &loc->val);
    loc->exists = st.ok();
    return st.ok() || st.code() == EDAOS_NONEXIST ? Status::OK() : st;
  }
  return probe(
      db, t, db->dbi(kDbLongDkeys), long_dkey_bucket(sk, dkey),
      [&](std::string_view v, std::string_view* rec) {
        *rec = v;
        return v.size() >= 8 && v.substr(8) == dkey;
      },
      loc);
}
uint64_t dkey_count(const KeyLoc& loc) {
  return loc.exists && loc.val.size() >= 8 ? detail::get_le64(loc.val.data()) : 0;
}
Status put_dkey_count(LmdbEnv* db, MDB_txn* t, const KeyLoc& loc, std::string_view dkey,
                      uint64_t n) {
  std::string v;
  detail::put_le64(&v, n);
  if (is_long_dkey(dkey)) v.append(dkey);
  return db->put(t, loc.dbi, loc.key, v);
}

// The akey entry (dkey, akey); loc->val is its record (u8 CsumType, u64 LE checksum, value).
Status find_akey(LmdbEnv* db, MDB_txn* t, const std::string& sk, std::string_view dkey,
                 std::string_view akey, KeyLoc* loc) {
  if (!is_long_entry(dkey, akey)) {
    loc->dbi = db->dbi(kDbAkeys);
    loc->key = short_akey_prefix(sk, dkey) + std::string(akey);
    Status st = db->get(t, loc->dbi, loc->key, &loc->val);
    loc->exists = st.ok();
    return st.ok() || st.code() == EDAOS_NONEXIST ? Status::OK() : st;
  }
  return probe(
      db, t, db->dbi(kDbLongAkeys), long_akey_bucket(long_akey_scope(sk, dkey), akey),
      [&](std::string_view v, std::string_view* rec) {
        LongAkeyVal lv;
        if (!parse_long_akey(v, &lv) || lv.dkey != dkey || lv.akey != akey) return false;
        *rec = lv.rec;
        return true;
      },
      loc);
}
}  // namespace

void set_kv_key_hash_for_testing(KvKeyHashFn fn) {
  g_key_hash.store(fn, std::memory_order_relaxed);
}

Status Engine::kv_put(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                      std::string_view value, uint32_t flags, const CsumSpec& cs) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, akey, true));
  if ((flags & kInsertOnly) && (flags & kUpdateOnly))
    return Status(EDAOS_INVAL, "kv_put: insert-only and update-only together");
  std::string rec;
  rec.push_back(static_cast<char>(cs.type));
  detail::put_le64(&rec,
                   cs.type == CsumType::kOff ? 0 : cs.fn(cs.type, value.data(), value.size(), 0));
  rec.append(value);
  std::lock_guard<std::mutex> g(mu_);
  if (cs.type != CsumType::kOff) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  if (opts_.quota_bytes > 0) {
    uint64_t used = used_bytes_ + db_->allocated_bytes();
    if (used + rec.size() + 2 * (dkey.size() + akey.size()) > opts_.quota_bytes)
      return Status(EDAOS_NOSPACE, "engine " + opts_.dir + " quota of " +
                                       std::to_string(opts_.quota_bytes) +
                                       " bytes would be exceeded");
  }
  const bool is_long = is_long_entry(dkey, akey);
  if (is_long && format_ < kEngineFormatLongKeys) {  // (format 4 includes long keys)
    // Stamp first: a build that reads only version 2 must never open an engine with long keys.
    EDAOS_RETURN_IF_ERROR(write_format(kEngineFormatLongKeys));
    EDAOS_LOG(info, "engine %s holds long KV keys: format %u", opts_.dir.c_str(), format_);
  }
  const std::string sk = shard_key(ref);
  return db_->write([&](MDB_txn* t) -> Status {
    KeyLoc a;
    EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, akey, &a));
    if (a.exists && (flags & kInsertOnly))
      return Status(EDAOS_EXIST,
                    "akey '" + show(akey) + "' of dkey '" + show(dkey) + "' already exists");
    if (!a.exists && (flags & kUpdateOnly))
      return Status(EDAOS_NONEXIST,
                    "akey '" + show(akey) + "' of dkey '" + show(dkey) + "' does not exist");
    EDAOS_RETURN_IF_ERROR(
        db_->put(t, a.dbi, a.key, is_long ? encode_long_akey(dkey, akey, rec) : rec));
    if (a.exists) return Status::OK();
    KeyLoc d;
    EDAOS_RETURN_IF_ERROR(find_dkey(db_.get(), t, sk, dkey, &d));
    return put_dkey_count(db_.get(), t, d, dkey, dkey_count(d) + 1);
  });
}

Result<std::string> Engine::kv_get(const ShardRef& ref, std::string_view dkey,
                                   std::string_view akey, const CsumSpec& cs) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, akey, true));
  std::lock_guard<std::mutex> g(mu_);
  if (cs.type != CsumType::kOff) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  std::string out;
  const std::string sk = shard_key(ref);
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    KeyLoc a;
    EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, akey, &a));
    if (!a.exists)
      return Status(EDAOS_NONEXIST, "no akey '" + show(akey) + "' under dkey '" + show(dkey) + "'");
    std::string_view cur = a.val;
    if (cur.size() < 9) return Status(EDAOS_FORMAT, "corrupt KV record");
    const auto stype = static_cast<CsumType>(static_cast<uint8_t>(cur[0]));
    std::string_view val = cur.substr(9);
    if (stype != CsumType::kOff && static_cast<unsigned>(stype) < fns_.size()) {
      CsumFn fn = stype == cs.type ? cs.fn : fns_[static_cast<unsigned>(stype)];
      if (fn) {
        uint64_t want = detail::get_le64(cur.data() + 1),
                 have = fn(stype, val.data(), val.size(), 0);
        if (want != have)
          return Status(EDAOS_CSUM, "stored value of dkey '" + show(dkey) + "' akey '" +
                                        show(akey) + "' is corrupt (checksum " +
                                        detail::hex64(have) + ", stored " + detail::hex64(want) +
                                        ")");
      }
    }
    out.assign(val);
    return Status::OK();
  }));
  return out;
}

Status Engine::kv_remove(const ShardRef& ref, std::string_view dkey, std::string_view akey) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, akey, false));
  std::lock_guard<std::mutex> g(mu_);
  const std::string sk = shard_key(ref);
  return db_->write([&](MDB_txn* t) -> Status {
    KeyLoc d;
    EDAOS_RETURN_IF_ERROR(find_dkey(db_.get(), t, sk, dkey, &d));
    if (!d.exists) return Status(EDAOS_NONEXIST, "no dkey '" + show(dkey) + "'");
    const uint64_t n = dkey_count(d);
    if (akey.empty()) {
      // Short entries need dkey + a 1-byte akey to fit; long ones are filtered by their dkey.
      if (dkey.size() < kShortKvKeyBytes)
        EDAOS_RETURN_IF_ERROR(db_->del_prefix(t, db_->dbi(kDbAkeys), short_akey_prefix(sk, dkey)));
      std::vector<std::string> keys;
      EDAOS_RETURN_IF_ERROR(db_->scan(t, db_->dbi(kDbLongAkeys), long_akey_scope(sk, dkey), {},
                                      [&](std::string_view k, std::string_view v) {
                                        LongAkeyVal lv;
                                        if (parse_long_akey(v, &lv) && lv.dkey == dkey)
                                          keys.emplace_back(k);
                                        return true;
                                      }));
      for (const auto& k : keys) EDAOS_RETURN_IF_ERROR(db_->del(t, db_->dbi(kDbLongAkeys), k));
      return db_->del(t, d.dbi, d.key);
    }
    KeyLoc a;
    EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, akey, &a));
    if (!a.exists)
      return Status(EDAOS_NONEXIST, "no akey '" + show(akey) + "' under dkey '" + show(dkey) + "'");
    EDAOS_RETURN_IF_ERROR(db_->del(t, a.dbi, a.key));
    if (n <= 1) return db_->del(t, d.dbi, d.key);
    return put_dkey_count(db_.get(), t, d, dkey, n - 1);
  });
}

namespace {
// Up to `limit` short keys (suffixes after `prefix`) strictly after `anchor`, in byte order.
Status list_short(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& prefix,
                  std::string_view anchor, size_t limit, std::vector<std::string>* out) {
  // A long anchor is cut to fit LMDB: the scan then starts at or before it; skip up to it.
  std::string after;
  if (!anchor.empty())
    after =
        prefix + std::string(anchor.substr(0, kLmdbMaxKey - std::min(kLmdbMaxKey, prefix.size())));
  return db->scan(t, dbi, prefix, after, [&](std::string_view k, std::string_view) {
    std::string_view key = k.substr(prefix.size());
    if (!anchor.empty() && key <= anchor) return true;
    if (out->size() == limit) return false;
    out->emplace_back(key);
    return true;
  });
}
// Up to `limit` long keys of `scope` (derived keys scope + pad(key, width) + ...) strictly after
// `anchor`, in byte order. `full` gives an entry's full key, false to skip the entry.
Status list_long(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& scope, size_t width,
                 std::string_view anchor, size_t limit,
                 const std::function<bool(std::string_view val, std::string_view* key)>& full,
                 std::vector<std::string>* out) {
  // Every key after the anchor has pad >= pad(anchor). Groups (equal pads) are contiguous in
  // byte order and come in increasing order: stop at a group boundary once `limit` are found.
  std::string after;
  if (!anchor.empty()) {
    after = scope;
    put_pad(&after, anchor, width);
  }
  std::string group;
  EDAOS_RETURN_IF_ERROR(db->scan(t, dbi, scope, after, [&](std::string_view k, std::string_view v) {
    std::string_view g = k.substr(0, scope.size() + width);
    if (g != group) {
      if (out->size() >= limit) return false;
      group.assign(g);
    }
    std::string_view key;
    if (!full(v, &key)) return true;
    if (!anchor.empty() && key <= anchor) return true;
    out->emplace_back(key);
    return true;
  }));
  std::sort(out->begin(), out->end());
  if (out->size() > limit) out->resize(limit);
  return Status::OK();
}
// Merges the two sorted candidate lists (each holding up to max + 1) into one page.
std::vector<std::string> merge_page(std::vector<std::string> a, std::vector<std::string> b,
                                    uint32_t max, bool* eof) {
  std::vector<std::string> out;
  out.reserve(a.size() + b.size());
  std::merge(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()),
             std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()),
             std::back_inserter(out));
  const bool more = out.size() > max;
  if (more) out.resize(max);
  if (eof) *eof = !more;
  return out;
}
}  // namespace

Result<std::vector<std::string>> Engine::kv_list_dkeys(const ShardRef& ref, std::string_view anchor,
                                                       uint32_t max, bool* eof) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  if (max == 0) return Status(EDAOS_INVAL, "list: max is 0");
  if (anchor.size() > kMaxKvKeyBytes)
    return Status(EDAOS_NAMETOOLONG, "anchor of " + std::to_string(anchor.size()) + " bytes");
  std::lock_guard<std::mutex> g(mu_);
  const std::string sk = shard_key(ref);
  const size_t limit = size_t{max} + 1;
  std::vector<std::string> s, l;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(list_short(db_.get(), t, db_->dbi(kDbDkeys), sk, anchor, limit, &s));
    return list_long(
        db_.get(), t, db_->dbi(kDbLongDkeys), sk, kLongDkeyPad, anchor, limit,
        [](std::string_view v, std::string_view* key) {
          if (v.size() < 8) return false;
          *key = v.substr(8);
          return true;
        },
        &l);
  }));
  return merge_page(std::move(s), std::move(l), max, eof);
}

Result<std::vector<std::string>> Engine::kv_list_akeys(const ShardRef& ref, std::string_view dkey,
                                                       std::string_view anchor, uint32_t max,
                                                       bool* eof) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, anchor, false));
  if (max == 0) return Status(EDAOS_INVAL, "list: max is 0");
  std::lock_guard<std::mutex> g(mu_);
  const std::string sk = shard_key(ref);
  const size_t limit = size_t{max} + 1;
  std::vector<std::string> s, l;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (dkey.size() < kShortKvKeyBytes)
      EDAOS_RETURN_IF_ERROR(list_short(db_.get(), t, db_->dbi(kDbAkeys),
                                       short_akey_prefix(sk, dkey), anchor, limit, &s));
    return list_long(
        db_.get(), t, db_->dbi(kDbLongAkeys), long_akey_scope(sk, dkey), kLongAkeyPad, anchor,
        limit,
        [&](std::string_view v, std::string_view* key) {
          LongAkeyVal lv;
          if (!parse_long_akey(v, &lv) || lv.dkey != dkey) return false;
          *key = lv.akey;
          return true;
        },
        &l);
  }));
  return merge_page(std::move(s), std::move(l), max, eof);
}

// ---------------------------------------------------------------- objects, containers

Status Engine::obj_punch(const ShardRef& ref) {
  if (ref.cont.is_nil()) return Status(EDAOS_INVAL, "nil container uuid");
  std::lock_guard<std::mutex> g(mu_);
  // A size record replayed after the removal would bring the size back: fold the log first.
  EDAOS_RETURN_IF_ERROR(flush_sizes());
  ends_.erase(shard_key(ref));
  for (uint32_t t = 0; t < opts_.ntargets; ++t) {
    ShardRef r = ref;
    r.target = t;
    std::string path = shard_data_path(r);
    for (const std::string& p : {path, path + ".csum"}) {
      forget_fd(p);
      dirty_files_.erase(p);
      struct stat st;
      if (::stat(p.c_str(), &st) != 0) continue;
      if (::unlink(p.c_str()) != 0 && errno != ENOENT)
        return detail::errno_status(errno, "unlink " + p);
      uint64_t b = static_cast<uint64_t>(st.st_blocks) * 512;
      used_bytes_ = used_bytes_ > b ? used_bytes_ - b : 0;
      dirty_dirs_.insert(detail::parent_dir(p));
    }
  }
  const std::string sk = shard_key(ref);
  return db_->write([&](MDB_txn* t) -> Status {
    Status st = db_->del(t, db_->dbi(kDbArrays), sk);
    if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    for (size_t d : {kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys})
      EDAOS_RETURN_IF_ERROR(db_->del_prefix(t, db_->dbi(d), sk));
    return Status::OK();
  });
}

Status Engine::cont_destroy(const Uuid& cont) {
  if (cont.is_nil()) return Status(EDAOS_INVAL, "nil container uuid");
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_RETURN_IF_ERROR(flush_sizes());  // as in obj_punch
  ends_.clear();
  const std::string tag = "/" + cont.to_string() + "/";
  for (auto it = lru_.begin(); it != lru_.end();) {
    const std::string p = *it++;
    if (p.find(tag) != std::string::npos) forget_fd(p);
  }
  for (auto it = dirty_files_.begin(); it != dirty_files_.end();)
    it = it->find(tag) != std::string::npos ? dirty_files_.erase(it) : std::next(it);
  for (auto it = dirty_dirs_.begin(); it != dirty_dirs_.end();)
    it = (*it + "/").find(tag) != std::string::npos ? dirty_dirs_.erase(it) : std::next(it);
  for (uint32_t t = 0; t < opts_.ntargets; ++t) {
    std::string tdir = opts_.dir + "/tgt-" + std::to_string(t);
    std::string cdir = tdir + "/" + cont.to_string();
    uint64_t b = tree_bytes(cdir);
    EDAOS_RETURN_IF_ERROR(detail::remove_tree(cdir));
    used_bytes_ = used_bytes_ > b ? used_bytes_ - b : 0;
    dirty_dirs_.insert(tdir);
  }
  const std::string ck = cont_key(cont);
  return db_->write([&](MDB_txn* t) -> Status {
    for (size_t d : {kDbArrays, kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys})
      EDAOS_RETURN_IF_ERROR(db_->del_prefix(t, db_->dbi(d), ck));
    return Status::OK();
  });
}

Result<std::vector<ObjectId>> Engine::list_objects(const Uuid& cont) {
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_RETURN_IF_ERROR(flush_sizes());  // sizes only in the log name objects too
  std::set<ObjectId> oids;
  const std::string ck = cont_key(cont);
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    for (size_t d : {kDbArrays, kDbDkeys, kDbLongDkeys})
      EDAOS_RETURN_IF_ERROR(
          db_->scan(t, db_->dbi(d), ck, {}, [&](std::string_view k, std::string_view) {
            if (k.size() >= 36) oids.insert(oid_of_key(k));
            return true;
          }));
    return Status::OK();
  }));
  // Shard files too: a write interrupted before its size record still left data behind.
  for (uint32_t t = 0; t < opts_.ntargets; ++t) {
    std::string cdir = opts_.dir + "/tgt-" + std::to_string(t) + "/" + cont.to_string();
    DIR* d = ::opendir(cdir.c_str());
    if (!d) continue;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      size_t dot = name.rfind('.');
      if (name[0] == '.' || dot == std::string::npos) continue;
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".csum") == 0) continue;
      auto oid = ObjectId::parse(name.substr(0, dot));
      if (oid.ok()) oids.insert(oid.value());
    }
    ::closedir(d);
  }
  return std::vector<ObjectId>(oids.begin(), oids.end());
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

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
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;

namespace {

enum EngineDb : size_t { kDbMeta = 0, kDbArrays, kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys };
const std::vector<std::string> kDbNames = {"meta", "arrays", "dkeys", "akeys", "ldkeys", "lakeys"};

constexpr char kFormatMagic[] = "EDAOS-ENGINE";
constexpr uint32_t kEngineFormatOldest = 1;  // opened and upgraded in place
// Written at creation and by the version-1 upgrade; 3 only once a long KV key is stored.
constexpr uint32_t kEngineFormatNoLongKeys = 2;
constexpr uint32_t kEngineFormatLongKeys = 3;
// Size log record (see README): magic, shard key, logical_end, zero, FNV-1a 64 of bytes 0..55.
constexpr char kSizeLogName[] = "sizes.log";
constexpr char kSizeMagic[4] = {'E', 'D', 'S', 'Z'};
constexpr size_t kSizeRec = 64;
constexpr size_t kShardKeyLen = 36;
// Checksum sidecar: 32-byte header, then one 16-byte entry per chunk (see README).
constexpr char kCsumMagic[8] = {'E', 'D', 'C', 'S', 'U', 'M', '0', '1'};
constexpr uint32_t kCsumVersion = 1;
constexpr uint64_t kCsumHdr = 32;
constexpr uint64_t kCsumEntry = 24;
constexpr uint32_t kEntryValid = 1;      // `csum` holds the chunk's checksum
constexpr uint32_t kEntryPrevValid = 2;  // `prev` holds the checksum before the last change

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

// st_size of an open file, `fallback` if fstat fails.
uint64_t file_size_or(int fd, uint64_t fallback) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return fallback;
  return static_cast<uint64_t>(st.st_size);
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

Status check_cs(const CsumSpec& cs) {
  if (cs.type == CsumType::kOff) return Status::OK();
  if (static_cast<unsigned>(cs.type) > static_cast<unsigned>(CsumType::kCrc64))
    return Status(EDAOS_INVAL, "unknown checksum type " + std::to_string(unsigned(cs.type)));
  if (!cs.fn) return Status(EDAOS_INVAL, "checksum type set without a checksum function");
  if (cs.chunk == 0) return Status(EDAOS_INVAL, "checksum chunk size is 0");
  return Status::OK();
}

std::string hex64(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
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
    EDAOS_RETURN_IF_ERROR(e->write_format(kEngineFormatNoLongKeys));
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
  for (uint32_t t = 0; t < e->opts_.ntargets; ++t)
    e->used_bytes_ += tree_bytes(o.dir + "/tgt-" + std::to_string(t));
  return e;
}

Status Engine::write_format(uint32_t version) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s %u\nntargets %u\n", kFormatMagic, version, opts_.ntargets);
  EDAOS_RETURN_IF_ERROR(detail::write_file_atomic(opts_.dir + "/FORMAT", buf));
  format_ = version;
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

CsumFn Engine::known_fn(const CsumSpec& cs) const {
  if (cs.fn) return cs.fn;
  unsigned t = static_cast<unsigned>(cs.type);
  return t < fns_.size() ? fns_[t] : nullptr;
}

// ---------------------------------------------------------------- checksum sidecar

namespace {
struct SidecarHdr {
  uint32_t chunk = 0;
  CsumType type = CsumType::kOff;
};
std::string encode_sidecar_hdr(const CsumSpec& cs) {
  std::string h(kCsumMagic, 8);
  for (uint32_t v : {kCsumVersion, cs.chunk})
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  h.push_back(static_cast<char>(cs.type));
  h.resize(kCsumHdr, '\0');
  return h;
}
// Reads the sidecar header: OK + *have=false when the file is empty.
Status read_sidecar_hdr(int fd, const std::string& path, SidecarHdr* h, bool* have) {
  char buf[kCsumHdr];
  EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, buf, sizeof buf, 0, path));
  *have = got > 0;
  if (!*have) return Status::OK();
  uint32_t ver = 0, chunk = 0;
  for (int i = 3; i >= 0; --i) ver = (ver << 8) | static_cast<uint8_t>(buf[8 + i]);
  for (int i = 3; i >= 0; --i) chunk = (chunk << 8) | static_cast<uint8_t>(buf[12 + i]);
  if (got < kCsumHdr || std::memcmp(buf, kCsumMagic, 8) != 0 || ver != kCsumVersion || chunk == 0)
    return Status(EDAOS_FORMAT, path + ": bad checksum sidecar header");
  const uint8_t type = static_cast<uint8_t>(buf[16]);
  if (type == 0 || type > static_cast<uint8_t>(CsumType::kCrc64))
    return Status(EDAOS_FORMAT, path + ": unknown checksum type " + std::to_string(type));
  h->chunk = chunk;
  h->type = static_cast<CsumType>(type);
  return Status::OK();
}
std::string encode_entry(uint64_t csum, bool valid, uint64_t prev, bool prev_valid) {
  std::string e;
  detail::put_le64(&e, valid ? csum : 0);
  detail::put_le64(&e, prev_valid ? prev : 0);
  uint32_t f = (valid ? kEntryValid : 0) | (prev_valid ? kEntryPrevValid : 0);
  for (int i = 0; i < 4; ++i) e.push_back(static_cast<char>((f >> (8 * i)) & 0xff));
  e.resize(kCsumEntry, '\0');
  return e;
}
uint32_t entry_flags(const char* e) { return static_cast<uint8_t>(e[16]); }
}  // namespace

Status Engine::csum_prepare(const ShardRef& ref, int fd, uint64_t first, uint64_t last,
                            const CsumSpec& cs, const ChunkEdit& edit, const char* data,
                            uint64_t data_off, size_t data_len) {
  std::string spath = shard_data_path(ref) + ".csum";
  EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, true));
  SidecarHdr h;
  bool have = false;
  EDAOS_RETURN_IF_ERROR(read_sidecar_hdr(sfd, spath, &h, &have));
  if (!have) {
    EDAOS_RETURN_IF_ERROR(
        detail::pwrite_full(sfd, encode_sidecar_hdr(cs).data(), kCsumHdr, 0, spath));
    h.chunk = cs.chunk;
    h.type = cs.type;
  } else if (h.chunk != cs.chunk || h.type != cs.type) {
    return Status(EDAOS_INVAL, "shard " + shard_data_path(ref) + " is checksummed with " +
                                   csum_type_name(h.type) + "/" + std::to_string(h.chunk) +
                                   ", request uses " + csum_type_name(cs.type) + "/" +
                                   std::to_string(cs.chunk));
  }
  const uint64_t C = cs.chunk, n = last - first + 1;
  std::string old(n * kCsumEntry, '\0');
  if (have) {
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(sfd, old.data(), old.size(),
                                                          kCsumHdr + first * kCsumEntry, spath));
    (void)got;
  }
  std::string entries, scratch;
  entries.reserve(n * kCsumEntry);
  for (uint64_t c = first; c <= last; ++c) {
    const char* oe = old.data() + (c - first) * kCsumEntry;
    bool prev_valid = (entry_flags(oe) & kEntryValid) != 0;
    uint64_t prev = detail::get_le64(oe);
    const uint64_t coff = c * C;
    uint64_t now;
    if (data && coff >= data_off && coff + C <= data_off + data_len) {
      now = cs.fn(cs.type, data + (coff - data_off), C, 0);  // chunk fully replaced
      if (!prev_valid) {  // unprotected before: most likely a hole
        scratch.assign(C, '\0');
        prev = cs.fn(cs.type, scratch.data(), C, 0);
        prev_valid = true;
      }
    } else {
      scratch.resize(C);
      EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, scratch.data(), C, coff, spath));
      (void)got;
      if (!prev_valid) {
        prev = cs.fn(cs.type, scratch.data(), C, 0);
        prev_valid = true;
      }
      edit(coff, scratch.data());
      now = cs.fn(cs.type, scratch.data(), C, 0);
    }
    entries += encode_entry(now, true, prev, prev_valid);
  }
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(sfd, entries.data(), entries.size(),
                                            kCsumHdr + first * kCsumEntry, spath));
  note_growth(spath);
  return Status::OK();
}

Status Engine::csum_drop(const ShardRef& ref, uint64_t first, uint64_t last) {
  std::string spath = shard_data_path(ref) + ".csum";
  EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
  if (sfd < 0) return Status::OK();
  struct stat st;
  if (::fstat(sfd, &st) != 0) return detail::errno_status(errno, "stat " + spath);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t end = std::min<uint64_t>(kCsumHdr + (last + 1) * kCsumEntry, size);
  uint64_t start = kCsumHdr + first * kCsumEntry;
  if (start >= end) return Status::OK();
  std::string zeros(end - start, '\0');  // invalid entries
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(sfd, zeros.data(), zeros.size(), start, spath));
  note_growth(spath);
  return Status::OK();
}

Status Engine::csum_truncate(const ShardRef& ref, uint64_t nchunks) {
  std::string spath = shard_data_path(ref) + ".csum";
  EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
  if (sfd < 0) return Status::OK();
  struct stat st;
  if (::fstat(sfd, &st) != 0) return detail::errno_status(errno, "stat " + spath);
  uint64_t want = kCsumHdr + nchunks * kCsumEntry;
  if (static_cast<uint64_t>(st.st_size) <= want) return Status::OK();
  if (::ftruncate(sfd, static_cast<off_t>(want)) != 0)
    return detail::errno_status(errno, "truncate " + spath);
  note_growth(spath);
  return Status::OK();
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

Status Engine::array_write(const ShardRef& ref, uint64_t off, const void* data, size_t len,
                           const CsumSpec& cs, const uint64_t* in_csum, uint64_t logical_end) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_cs(cs));
  if (len > 0 && !data) return Status(EDAOS_INVAL, "array_write: null buffer");
  if (off + len < off) return Status(EDAOS_INVAL, "array_write: offset overflow");
  const bool csum_on = cs.type != CsumType::kOff;
  if (csum_on && in_csum) {
    uint64_t got = cs.fn(cs.type, data, len, 0);
    if (got != *in_csum)
      return Status(EDAOS_CSUM, "checksum of " + std::to_string(len) + " bytes received for " +
                                    shard_data_path(ref) + " at offset " + std::to_string(off) +
                                    " is " + hex64(got) + ", client sent " + hex64(*in_csum));
  }
  std::lock_guard<std::mutex> g(mu_);
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  if (len == 0) return raise_logical_end(ref, logical_end);

  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, true));
  const int fd = f->fd;
  const uint64_t old_size = f->size;

  // Is the whole range already allocated (an overwrite needs no new space)? Ranges this engine
  // wrote or reserved since the file was opened are known; bytes at or past the end are not
  // allocated (nothing is ever reserved beyond the size). Otherwise only the quota needs the
  // answer: without one, fallocate below is harmless on allocated blocks.
  bool allocated = f->allocated(off, off + len);
  if (!allocated && opts_.quota_bytes > 0) {
    if (off < old_size) {
      off_t hole = ::lseek(fd, static_cast<off_t>(off), SEEK_HOLE);
      allocated = hole >= 0 && static_cast<uint64_t>(hole) >= off + len;
    }
    if (!allocated) {
      uint64_t need = len + 2 * 4096;
      if (csum_on) need += (len / cs.chunk + 2) * kCsumEntry + 4096;
      settle_all();
      uint64_t used = used_bytes_ + db_->allocated_bytes();
      if (used + need > opts_.quota_bytes)
        return Status(EDAOS_NOSPACE, "engine " + opts_.dir + " quota of " +
                                         std::to_string(opts_.quota_bytes) +
                                         " bytes would be exceeded (" + std::to_string(used) +
                                         " used, write of " + std::to_string(len) + " bytes)");
    }
  }
  // Reserve the blocks first: when the file system is full this fails before any byte changes.
  if (!allocated) {
    if (::fallocate(fd, 0, static_cast<off_t>(off), static_cast<off_t>(len)) != 0) {
      int err = errno;
      if (err != EOPNOTSUPP && err != ENOSYS) {
        if (::ftruncate(fd, static_cast<off_t>(old_size)) != 0) {
          // Best effort: a larger size only adds a hole.
        }
        f->size = file_size_or(fd, old_size);
        f->alloc.clear();
        note_growth(path);
        return detail::errno_status(err, "allocate " + std::to_string(len) + " bytes in " + path);
      }
    } else {
      f->size = std::max<uint64_t>(f->size, off + len);  // mode 0 extends the file
      f->mark_allocated(off, off + len);
      note_growth(path);
    }
  }
  // Checksums first (keeping the previous ones), then the data: see csum_prepare.
  const char* src = static_cast<const char*>(data);
  if (csum_on) {
    auto edit = [&](uint64_t coff, char* chunk) {
      uint64_t b = std::max(coff, off), e = std::min(coff + cs.chunk, off + len);
      if (b < e) std::memcpy(chunk + (b - coff), src + (b - off), e - b);
    };
    EDAOS_RETURN_IF_ERROR(
        csum_prepare(ref, fd, off / cs.chunk, (off + len - 1) / cs.chunk, cs, edit, src, off, len));
  } else {
    // No checksum with this write: stored ones for the touched chunks would now be stale.
    std::string spath = path + ".csum";
    EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
    if (sfd >= 0) {
      SidecarHdr h;
      bool have = false;
      EDAOS_RETURN_IF_ERROR(read_sidecar_hdr(sfd, spath, &h, &have));
      if (have) EDAOS_RETURN_IF_ERROR(csum_drop(ref, off / h.chunk, (off + len - 1) / h.chunk));
    }
  }
  Status wst = detail::pwrite_full(fd, data, len, off, path);
  note_growth(path);
  if (!wst.ok()) {
    // Give back what this write appended (best effort; the write is not acknowledged).
    if (off + len > old_size && ::ftruncate(fd, static_cast<off_t>(old_size)) != 0) {
      // Best effort: a larger size only adds a hole.
    }
    f->size = file_size_or(fd, old_size);
    f->alloc.clear();
    return wst;
  }
  f->size = std::max<uint64_t>(f->size, off + len);
  f->mark_allocated(off, off + len);
  return raise_logical_end(ref, logical_end);
}

Status Engine::array_read(const ShardRef& ref, uint64_t off, size_t len, void* out,
                          const CsumSpec& cs, uint64_t* out_csum) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_cs(cs));
  if (len > 0 && !out) return Status(EDAOS_INVAL, "array_read: null buffer");
  if (off + len < off) return Status(EDAOS_INVAL, "array_read: offset overflow");
  const bool csum_on = cs.type != CsumType::kOff;
  std::lock_guard<std::mutex> g(mu_);
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(int fd, data_fd(ref, false));
  char* o = static_cast<char*>(out);
  if (len == 0) {
    if (csum_on && out_csum) *out_csum = cs.fn(cs.type, o, 0, 0);
    return Status::OK();
  }
  if (fd < 0) {
    std::memset(o, 0, len);
    if (csum_on && out_csum) *out_csum = cs.fn(cs.type, o, len, 0);
    return Status::OK();
  }

  // Stored chunk checksums overlapping the range (the sidecar's chunk size rules).
  std::string entries;
  uint64_t C = 0, first = 0, last = 0;
  CsumType stype = CsumType::kOff;
  if (csum_on) {
    std::string spath = path + ".csum";
    EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
    SidecarHdr h;
    bool have = false;
    if (sfd >= 0) EDAOS_RETURN_IF_ERROR(read_sidecar_hdr(sfd, spath, &h, &have));
    if (have) {
      C = h.chunk;
      stype = h.type;
      first = off / C;
      last = (off + len - 1) / C;
      entries.resize((last - first + 1) * kCsumEntry);
      EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(sfd, entries.data(), entries.size(),
                                                            kCsumHdr + first * kCsumEntry, spath));
      (void)got;
      bool any = false;
      for (uint64_t i = 0; i <= last - first && !any; ++i)
        any = (entry_flags(entries.data() + i * kCsumEntry) & kEntryValid) != 0;
      if (!any) entries.clear();
    }
  }
  if (entries.empty()) {
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, o, len, off, path));
    (void)got;
  } else {
    CsumFn fn = stype == cs.type ? cs.fn : fns_[static_cast<unsigned>(stype)];
    if (!fn)
      return Status(EDAOS_INVAL, "shard " + path + " is checksummed with " + csum_type_name(stype) +
                                     ", request uses " + csum_type_name(cs.type));
    const uint64_t xoff = first * C, xlen = (last - first + 1) * C;
    std::string scratch;
    char* buf = o;
    if (xoff != off || xlen != len) {
      scratch.resize(xlen);
      buf = scratch.data();
    }
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, buf, xlen, xoff, path));
    (void)got;
    for (uint64_t i = 0; i <= last - first; ++i) {
      const char* e = entries.data() + i * kCsumEntry;
      if (!(entry_flags(e) & kEntryValid)) continue;
      uint64_t want = detail::get_le64(e);
      uint64_t have = fn(stype, buf + i * C, C, 0);
      // The previous checksum is accepted too: a change killed between its checksum and its
      // data leaves the old bytes (see csum_prepare).
      if (want != have &&
          !((entry_flags(e) & kEntryPrevValid) && detail::get_le64(e + 8) == have)) {
        uint64_t coff = (first + i) * C;
        EDAOS_LOG(error, "checksum mismatch in %s chunk at offset %" PRIu64, path.c_str(), coff);
        return Status(EDAOS_CSUM, "on-disk data of shard " + ref.cont.to_string() + "/" +
                                      ref.oid.to_string() + "." + std::to_string(ref.shard) + " (" +
                                      path + ") is corrupt: chunk at offset " +
                                      std::to_string(coff) + " has checksum " + hex64(have) +
                                      ", stored " + hex64(want));
      }
    }
    if (buf != o) std::memcpy(o, buf + (off - xoff), len);
  }
  if (csum_on && out_csum) *out_csum = cs.fn(cs.type, o, len, 0);
  return Status::OK();
}

// Checksum entries of chunks [first, last] before a change that zeroes [zoff, zend) of them:
// chunks entirely zeroed lose their checksum (a hole needs none); partially zeroed ones get the
// checksum of their new contents when a function is known, else lose it too.
Status Engine::csum_before_zeroing(const ShardRef& ref, int fd, uint64_t zoff, uint64_t zend,
                                   const CsumSpec& cs) {
  const std::string spath = shard_data_path(ref) + ".csum";
  EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
  if (sfd < 0 || zend <= zoff) return Status::OK();
  SidecarHdr h;
  bool have = false;
  EDAOS_RETURN_IF_ERROR(read_sidecar_hdr(sfd, spath, &h, &have));
  if (!have) return Status::OK();
  const uint64_t C = h.chunk, first = zoff / C, last = (zend - 1) / C;
  CsumSpec rc{h.type, h.chunk, nullptr};
  rc.fn = cs.type == h.type && cs.fn ? cs.fn : fns_[static_cast<unsigned>(h.type)];
  auto zero = [&](uint64_t coff, char* chunk) {
    uint64_t b = std::max(coff, zoff), e = std::min(coff + C, zend);
    if (b < e) std::memset(chunk + (b - coff), 0, e - b);
  };
  for (uint64_t c = first; c <= last; ++c) {
    const bool partial = c * C < zoff || (c + 1) * C > zend;
    if (partial && rc.fn) {
      EDAOS_RETURN_IF_ERROR(csum_prepare(ref, fd, c, c, rc, zero, nullptr, 0, 0));
    } else {
      EDAOS_RETURN_IF_ERROR(csum_drop(ref, c, c));
    }
  }
  return Status::OK();
}

Status Engine::array_punch(const ShardRef& ref, uint64_t off, uint64_t len, const CsumSpec& cs) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  if (off + len < off) return Status(EDAOS_INVAL, "array_punch: offset overflow");
  std::lock_guard<std::mutex> g(mu_);
  if (len == 0) return Status::OK();
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, false));
  if (!f) return Status::OK();
  const int fd = f->fd;
  const uint64_t size = f->size;
  if (off >= size) return Status::OK();  // nothing stored there: already a hole
  const uint64_t plen = std::min<uint64_t>(len, size - off);
  f->alloc.clear();  // holes appear: later writes there must reserve again
  note_growth(path);
  EDAOS_RETURN_IF_ERROR(csum_before_zeroing(ref, fd, off, off + plen, cs));
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                  static_cast<off_t>(plen)) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS) return detail::errno_status(errno, "punch " + path);
    std::string zeros(std::min<uint64_t>(plen, 1 << 20), '\0');
    for (uint64_t done = 0; done < plen;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), plen - done));
      EDAOS_RETURN_IF_ERROR(detail::pwrite_full(fd, zeros.data(), n, off + done, path));
      done += n;
    }
  }
  return Status::OK();
}

Status Engine::array_truncate(const ShardRef& ref, uint64_t local_size, uint64_t logical_size,
                              const CsumSpec& cs) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  std::lock_guard<std::mutex> g(mu_);
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, local_size > 0));
  if (f) {
    const int fd = f->fd;
    const uint64_t old_size = f->size;
    f->alloc.clear();
    if (local_size < old_size) {
      // Checksums first: the cut chunk's tail becomes zeros, later chunks disappear.
      EDAOS_RETURN_IF_ERROR(csum_before_zeroing(ref, fd, local_size, old_size, cs));
      const std::string spath = path + ".csum";
      EDAOS_ASSIGN_OR_RETURN(int sfd, open_cached(spath, false));
      SidecarHdr h;
      bool have = false;
      if (sfd >= 0) EDAOS_RETURN_IF_ERROR(read_sidecar_hdr(sfd, spath, &h, &have));
      if (have) EDAOS_RETURN_IF_ERROR(csum_truncate(ref, (local_size + h.chunk - 1) / h.chunk));
    }
    if (::ftruncate(fd, static_cast<off_t>(local_size)) != 0) {
      int err = errno;
      f->size = file_size_or(fd, old_size);
      return detail::errno_status(err, "truncate " + path);
    }
    f->size = local_size;
    note_growth(path);
  }
  return set_logical_end_exact(ref, logical_size);
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
  EDAOS_RETURN_IF_ERROR(check_cs(cs));
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
  if (is_long && format_ < kEngineFormatLongKeys) {
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
  EDAOS_RETURN_IF_ERROR(check_cs(cs));
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
                                        show(akey) + "' is corrupt (checksum " + hex64(have) +
                                        ", stored " + hex64(want) + ")");
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

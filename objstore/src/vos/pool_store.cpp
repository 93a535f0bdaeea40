// Pool directory (POOL header + pool map) and the pool service's LMDB metadata.
#include "vos/pool_store.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "common/log.hpp"
#include "vos/engine.hpp"
#include "vos/identity.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;

namespace {

constexpr const char* kPoolMagic = "EDAOS-POOL";
// psvc named databases, in LmdbEnv::dbi() order.
enum PsvcDb : size_t { kDbMeta = 0, kDbCont, kDbLabel, kDbOid, kDbAttr, kDbDestroying };
const std::vector<std::string> kPsvcDbs = {"meta", "cont", "cont_label",
                                           "oid",  "attr", "cont_destroying"};
// Key of the pool UUID in the psvc `meta` database (16 raw bytes).
constexpr char kPsvcPoolUuidKey[] = "pool_uuid";
constexpr char kCreateLock[] = "CREATE.lock";
constexpr char kCreating[] = "CREATING";
constexpr uint32_t kPsvcFormatVersion = 1;
constexpr size_t kMaxAttrName = 400;

std::string ukey(const Uuid& u) { return std::string(reinterpret_cast<const char*>(u.b), 16); }
Uuid uuid_from(std::string_view k) {
  Uuid u;
  std::memcpy(u.b, k.data(), 16);
  return u;
}

Status check_label(const std::string& label, const char* what) {
  if (label.size() > kMaxLabelLen)
    return Status(EDAOS_INVAL, std::string(what) + " label '" + label + "' is longer than " +
                                   std::to_string(kMaxLabelLen) + " bytes");
  for (char c : label)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Status(EDAOS_INVAL, std::string(what) + " label contains a control character");
  return Status::OK();
}

// Container record value: u32 LE label length, label bytes, opaque record.
std::string encode_cont(const std::string& label, const std::string& record) {
  std::string v;
  detail::put_le32(&v, static_cast<uint32_t>(label.size()));
  v += label;
  v += record;
  return v;
}
bool decode_cont(std::string_view v, std::string* label, std::string* record) {
  if (v.size() < 4) return false;
  const uint32_t n = detail::get_le32(v.data());
  if (v.size() < 4 + size_t{n}) return false;
  if (label) label->assign(v.substr(4, n));
  if (record) record->assign(v.substr(4 + n));
  return true;
}

std::string encode_header(const PoolHeader& h, const std::string& blob) {
  char line[256];
  std::string s;
  std::snprintf(line, sizeof line, "%s %u\n", kPoolMagic, kPoolFormatVersion);
  s += line;
  s += "uuid " + h.uuid.to_string() + "\n";
  s += "label " + h.label + "\n";
  std::snprintf(line, sizeof line,
                "nengines %u\nntargets %u\nquota_bytes %" PRIu64 "\nctime %" PRIu64
                "\npool_map_bytes %zu\n",
                h.nengines, h.ntargets, h.quota_bytes, h.ctime, blob.size());
  s += line;
  if (h.identity) s += "identity 1\n";
  uint64_t sum = detail::fnv1a64(s.data(), s.size());
  sum = detail::fnv1a64(blob.data(), blob.size(), sum);
  std::snprintf(line, sizeof line, "fnv64 %016" PRIx64 "\nend\n", sum);
  s += line;
  s += blob;
  return s;
}

Status bad(const std::string& path, const std::string& why) {
  return Status(EDAOS_FORMAT, path + ": " + why);
}

bool parse_u64(const std::string& s, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-') return false;
  *v = x;
  return true;
}

}  // namespace

std::string engine_dir_name(uint32_t idx) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "engine-%04u", idx);
  return buf;
}

// ---------------------------------------------------------------- POOL file

PoolDirState inspect_pool_dir(const std::string& dir) {
  PoolDirState s;
  struct stat sb;
  if (::stat(dir.c_str(), &sb) != 0) {
    s.kind = errno == ENOENT ? PoolDirState::kAbsent : PoolDirState::kOther;
    if (s.kind == PoolDirState::kOther) s.what = std::strerror(errno);
    return s;
  }
  if (!S_ISDIR(sb.st_mode)) {
    s.kind = PoolDirState::kOther;
    s.what = "not a directory";
    return s;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    s.kind = PoolDirState::kOther;
    s.what = std::strerror(errno);
    return s;
  }
  bool pool = false, creating = false, psvc = false;
  uint32_t engines = 0;
  std::string other;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || n == kCreateLock || n == "POOL.tmp") continue;
    if (n == "POOL") {
      pool = true;
    } else if (n == kCreating || n == std::string(kCreating) + ".tmp") {
      creating = true;
    } else if (n == "psvc") {
      psvc = true;
    } else if (n.size() == 11 && n.compare(0, 7, "engine-") == 0 &&
               n.find_first_not_of("0123456789", 7) == std::string::npos) {
      ++engines;
    } else if (other.empty()) {
      other = n;
    }
  }
  ::closedir(d);
  if (pool) {
    s.kind = PoolDirState::kPool;
  } else if (creating) {
    s.kind = PoolDirState::kCreating;
  } else if (engines || psvc) {
    s.kind = PoolDirState::kDamaged;
    if (engines)
      s.what = std::to_string(engines) + " engine director" + (engines == 1 ? "y" : "ies");
    if (psvc) s.what += std::string(engines ? " and " : "") + "the pool service (psvc)";
  } else if (!other.empty()) {
    s.kind = PoolDirState::kOther;
    s.entry = other;
    s.what = "a directory that is not a pool (it holds '" + other + "')";
  } else {
    s.kind = PoolDirState::kEmpty;
  }
  return s;
}

Status damaged_pool_error(const std::string& dir, const std::string& what) {
  return Status(EDAOS_FORMAT, "damaged pool at " + dir + ": it holds " + what +
                                  " but no POOL file (the pool header is missing); nothing was "
                                  "changed: restore " +
                                  dir +
                                  "/POOL (a pool is never re-created "
                                  "over existing engines)");
}

Result<PoolHeader> PoolStore::read_header(const std::string& dir, std::string* pool_map_blob) {
  std::string path = dir + "/POOL", data;
  Status st = detail::read_file(path, &data);
  if (st.code() == EDAOS_NONEXIST) {
    PoolDirState ds = inspect_pool_dir(dir);
    if (ds.kind == PoolDirState::kDamaged) return damaged_pool_error(dir, ds.what);
    if (ds.kind == PoolDirState::kCreating)
      return Status(EDAOS_NONEXIST, "no pool at " + dir +
                                        " (a creation is running there or "
                                        "was interrupted; creating the pool again finishes it)");
    return Status(EDAOS_NONEXIST, "no pool at " + dir);
  }
  EDAOS_RETURN_IF_ERROR(st);

  PoolHeader h;
  size_t pos = 0;
  auto next_line = [&](std::string* out) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) return false;
    out->assign(data, pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string line;
  if (!next_line(&line) ||
      line.compare(0, std::strlen(kPoolMagic) + 1, std::string(kPoolMagic) + " ") != 0)
    return bad(path, "not an edaos pool header (bad magic)");
  uint64_t ver = 0;
  if (!parse_u64(line.substr(std::strlen(kPoolMagic) + 1), &ver))
    return bad(path, "unreadable format version");
  if (ver != kPoolFormatVersion)
    return bad(path, "pool format version " + std::to_string(ver) + " is not supported (this " +
                         "build reads version " + std::to_string(kPoolFormatVersion) + ")");
  h.format_version = static_cast<uint32_t>(ver);

  uint64_t map_bytes = 0, sum = 0;
  bool have[8] = {};
  size_t sum_end = 0;
  for (;;) {
    size_t line_start = pos;
    if (!next_line(&line)) return bad(path, "truncated header");
    if (line == "end") break;
    size_t sp = line.find(' ');
    if (sp == std::string::npos) return bad(path, "malformed line '" + line + "'");
    std::string key = line.substr(0, sp), val = line.substr(sp + 1);
    uint64_t v = 0;
    if (key == "uuid") {
      auto u = Uuid::parse(val);
      if (!u.ok()) return bad(path, "bad uuid '" + val + "'");
      h.uuid = u.value();
      have[0] = true;
    } else if (key == "label") {
      h.label = val;
      have[1] = true;
    } else if (key == "fnv64") {
      char* end = nullptr;
      sum = std::strtoull(val.c_str(), &end, 16);
      if (val.size() != 16 || *end != '\0') return bad(path, "bad fnv64 line");
      sum_end = line_start;
      have[7] = true;
    } else if (parse_u64(val, &v)) {
      if (key == "nengines" && v <= UINT32_MAX) {
        h.nengines = static_cast<uint32_t>(v), have[2] = true;
      } else if (key == "ntargets" && v <= UINT32_MAX) {
        h.ntargets = static_cast<uint32_t>(v), have[3] = true;
      } else if (key == "quota_bytes") {
        h.quota_bytes = v, have[4] = true;
      } else if (key == "ctime") {
        h.ctime = v, have[5] = true;
      } else if (key == "pool_map_bytes") {
        map_bytes = v, have[6] = true;
      } else if (key == "identity") {
        h.identity = v != 0;
      }
      // Unknown numeric keys are ignored: a minor addition needs no version bump.
    }
  }
  for (bool b : have)
    if (!b) return bad(path, "header misses a required field");
  if (data.size() - pos != map_bytes)
    return bad(path, "pool map is " + std::to_string(data.size() - pos) + " bytes, header says " +
                         std::to_string(map_bytes));
  uint64_t got = detail::fnv1a64(data.data(), sum_end);
  got = detail::fnv1a64(data.data() + pos, data.size() - pos, got);
  if (got != sum) return bad(path, "integrity check failed (file damaged)");
  if (pool_map_blob) pool_map_blob->assign(data, pos, std::string::npos);
  return h;
}

Status PoolStore::write_pool_map(const std::string& dir, const std::string& blob) {
  EDAOS_ASSIGN_OR_RETURN(PoolHeader h, read_header(dir, nullptr));
  return detail::write_file_atomic(dir + "/POOL", encode_header(h, blob));
}

Status PoolStore::set_identity_flag(const std::string& dir) {
  std::string blob;
  EDAOS_ASSIGN_OR_RETURN(PoolHeader h, read_header(dir, &blob));
  if (h.identity) return Status::OK();
  h.identity = true;
  return detail::write_file_atomic(dir + "/POOL", encode_header(h, blob));
}

namespace {

// The creation lock: flock on <dir>/CREATE.lock, waited for up to `wait_s` seconds (a creation
// takes well under a second per engine; a creator that dies releases the lock with its process).
class CreateLock {
 public:
  static Result<std::unique_ptr<CreateLock>> acquire(const std::string& dir, double wait_s) {
    const std::string path = dir + "/" + kCreateLock;
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return detail::errno_status(errno, "open " + path);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      int err = errno;
      if (err == EINTR) continue;
      if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
        char buf[256] = {};
        ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        if (err != EWOULDBLOCK) return detail::errno_status(err, "flock " + path);
        std::string owner = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "another process";
        while (!owner.empty() && owner.back() == '\n') owner.pop_back();
        return Status(EDAOS_BUSY, "the creation of the pool at " + dir + " by " + owner +
                                      " did not finish within " +
                                      std::to_string(static_cast<int>(wait_s)) + " s");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    std::string me = detail::owner_id() + "\n";
    if (::ftruncate(fd, 0) != 0 || !detail::pwrite_full(fd, me.data(), me.size(), 0, path).ok())
      EDAOS_LOG(debug, "cannot record the creator in %s", path.c_str());
    return std::unique_ptr<CreateLock>(new CreateLock(fd));
  }
  ~CreateLock() { ::close(fd_); }
  CreateLock(const CreateLock&) = delete;
  CreateLock& operator=(const CreateLock&) = delete;

 private:
  explicit CreateLock(int fd) : fd_(fd) {}
  int fd_;
};

// Removes what an interrupted creation left (only names a creation makes).
Status remove_creation_leftovers(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return detail::errno_status(errno, "open directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "psvc" || n == kCreating || n == std::string(kCreating) + ".tmp" || n == "POOL.tmp" ||
        (n.size() == 11 && n.compare(0, 7, "engine-") == 0))
      names.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : names) {
    if (n == kCreating) continue;  // it marks the rest as leftovers: overwritten next
    EDAOS_RETURN_IF_ERROR(detail::remove_tree(dir + "/" + n));
  }
  return Status::OK();
}

Status not_creatable(const std::string& dir, const PoolDirState& ds) {
  switch (ds.kind) {
    case PoolDirState::kPool:
      return Status(EDAOS_EXIST, "a pool already exists at " + dir);
    case PoolDirState::kDamaged:
      return damaged_pool_error(dir, ds.what);
    case PoolDirState::kOther:
      if (ds.entry.empty())
        return Status(EDAOS_NOTDIR, "cannot create a pool at " + dir + ": " + ds.what);
      return Status(EDAOS_NOTEMPTY, "cannot create a pool at " + dir +
                                        ": the directory is not empty (it holds '" + ds.entry +
                                        "'); a pool is created only in an empty or absent "
                                        "directory");
    default:
      return Status::OK();
  }
}

}  // namespace

Status PoolStore::create(const std::string& dir, const PoolHeader& hdr,
                         const std::string& pool_map_blob, double wait_s) {
  EDAOS_RETURN_IF_ERROR(check_label(hdr.label, "pool"));
  if (hdr.nengines == 0 || hdr.ntargets == 0)
    return Status(EDAOS_INVAL, "a pool needs at least one engine and one target per engine");
  // Refused before anything is written (not even the lock file): a pool, a damaged pool,
  // anything else. A running creator's files never look like these (it writes CREATING
  // first), so under the lock the check is repeated only for creators that finished or died.
  PoolDirState ds = inspect_pool_dir(dir);
  EDAOS_RETURN_IF_ERROR(not_creatable(dir, ds));
  if (ds.kind == PoolDirState::kAbsent) EDAOS_RETURN_IF_ERROR(detail::mkdir_p(dir));
  EDAOS_ASSIGN_OR_RETURN(auto lock, CreateLock::acquire(dir, wait_s));
  // Under the lock: another creator may have finished, or died half-way.
  ds = inspect_pool_dir(dir);
  if (ds.kind == PoolDirState::kPool) (void)::unlink((dir + "/" + kCreateLock).c_str());
  EDAOS_RETURN_IF_ERROR(not_creatable(dir, ds));
  if (ds.kind == PoolDirState::kCreating) {
    EDAOS_LOG(info, "pool %s: removing what an interrupted creation left", dir.c_str());
    EDAOS_RETURN_IF_ERROR(remove_creation_leftovers(dir));
  }
  EDAOS_RETURN_IF_ERROR(
      detail::write_file_atomic(dir + "/" + kCreating, hdr.uuid.to_string() + "\n"));
  EDAOS_RETURN_IF_ERROR(detail::mkdir_p(dir + "/psvc"));
  {
    // Create the psvc databases now so open() never has to guess whether a pool is complete.
    EDAOS_ASSIGN_OR_RETURN(auto db, LmdbEnv::open(dir + "/psvc", 0, kPsvcDbs));
    EDAOS_VOS_TRY(db->write([&](MDB_txn* t) -> Status {
      EDAOS_RETURN_IF_ERROR(
          db->put(t, db->dbi(kDbMeta), "format", std::to_string(kPsvcFormatVersion)));
      return db->put(t, db->dbi(kDbMeta), kPsvcPoolUuidKey, ukey(hdr.uuid));
    }));
  }
  for (uint32_t e = 0; e < hdr.nengines; ++e) {
    Engine::Options o;
    o.dir = dir + "/" + engine_dir_name(e);
    o.ntargets = hdr.ntargets;
    o.quota_bytes = hdr.quota_bytes;
    o.create = true;
    EDAOS_ASSIGN_OR_RETURN(auto eng, Engine::open(o));
    EDAOS_RETURN_IF_ERROR(eng->sync());
    EDAOS_RETURN_IF_ERROR(write_engine_identity(o.dir, EngineIdentity{hdr.uuid, e}));
  }
  EDAOS_RETURN_IF_ERROR(detail::fsync_path(dir + "/psvc"));
  EDAOS_RETURN_IF_ERROR(detail::fsync_path(dir));
  PoolHeader h = hdr;
  h.identity = true;
  EDAOS_RETURN_IF_ERROR(detail::write_file_atomic(dir + "/POOL", encode_header(h, pool_map_blob)));
  if (::unlink((dir + "/" + kCreating).c_str()) != 0)
    return detail::errno_status(errno, "remove " + dir + "/" + kCreating);
  // The lock file goes too (only now: a creator still waiting on it finds POOL, and one that
  // comes later finds POOL before it looks for the lock; after a failure it must stay, or two
  // creators could lock two different files).
  (void)::unlink((dir + "/" + kCreateLock).c_str());
  EDAOS_RETURN_IF_ERROR(detail::fsync_path(dir));
  return detail::fsync_path(detail::parent_dir(dir));
}

// ---------------------------------------------------------------- psvc

Result<std::unique_ptr<PoolStore>> PoolStore::open(const std::string& dir) {
  EDAOS_ASSIGN_OR_RETURN(PoolHeader h, read_header(dir, nullptr));
  std::unique_ptr<PoolStore> ps(new PoolStore());
  ps->dir_ = dir;
  EDAOS_ASSIGN_OR_RETURN(ps->lock_, detail::DirLock::acquire(dir + "/psvc/LOCK"));
  struct stat sb;
  if (::stat((dir + "/psvc/data.mdb").c_str(), &sb) != 0)
    return bad(dir + "/psvc", "the pool service database is missing (data.mdb)");
  EDAOS_ASSIGN_OR_RETURN(ps->db_, LmdbEnv::open(dir + "/psvc", 0, kPsvcDbs));
  LmdbEnv* db = ps->db_.get();
  bool record_identity = false;
  EDAOS_VOS_TRY(db->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db->get(t, db->dbi(kDbMeta), "format", &v);
    if (st.code() == EDAOS_NONEXIST) return bad(dir + "/psvc", "no format stamp");
    EDAOS_RETURN_IF_ERROR(st);
    if (v != std::to_string(kPsvcFormatVersion))
      return bad(dir + "/psvc", "pool service format '" + std::string(v) + "' is not supported");
    st = db->get(t, db->dbi(kDbMeta), kPsvcPoolUuidKey, &v);
    if (st.code() == EDAOS_NONEXIST) {
      if (h.identity)
        return Status(EDAOS_FORMAT, "the pool service " + dir +
                                        "/psvc records no pool "
                                        "identity, but " +
                                        dir + "/POOL (pool " + h.uuid.to_string() +
                                        ") says it must: it is not this "
                                        "pool's; nothing was changed");
      record_identity = true;
      return Status::OK();
    }
    EDAOS_RETURN_IF_ERROR(st);
    if (v.size() != 16) return bad(dir + "/psvc", "corrupt pool identity");
    Uuid mine = uuid_from(v);
    if (mine != h.uuid)
      return Status(EDAOS_FORMAT, "the pool service " + dir + "/psvc belongs to pool " +
                                      mine.to_string() + ", but " + dir + "/POOL names pool " +
                                      h.uuid.to_string() +
                                      " (a POOL file of another pool?); nothing was changed");
    return Status::OK();
  }));
  if (record_identity) {
    // A pool made by a build that recorded no identity: record it now (upgrade in place).
    EDAOS_VOS_TRY(db->write([&](MDB_txn* t) -> Status {
      return db->put(t, db->dbi(kDbMeta), kPsvcPoolUuidKey, ukey(h.uuid));
    }));
    EDAOS_LOG(info, "pool %s: pool service identity recorded (%s)", dir.c_str(),
              h.uuid.to_string().c_str());
  }
  // A creator killed after writing POOL leaves its CREATING marker: the pool is complete.
  if (::unlink((dir + "/" + kCreating).c_str()) == 0) (void)detail::fsync_path(dir);
  return ps;
}

PoolStore::~PoolStore() = default;

Status PoolStore::cont_exists_locked(void* txn, const Uuid& uuid) {
  std::string_view v;
  Status st = db_->get(static_cast<MDB_txn*>(txn), db_->dbi(kDbCont), ukey(uuid), &v);
  if (st.code() == EDAOS_NONEXIST)
    return Status(EDAOS_NONEXIST, "container " + uuid.to_string() + " does not exist");
  return st;
}

Status PoolStore::cont_create(const Uuid& uuid, const std::string& label,
                              const std::string& record) {
  if (uuid.is_nil()) return Status(EDAOS_INVAL, "container uuid is nil");
  EDAOS_RETURN_IF_ERROR(check_label(label, "container"));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v);
    if (st.ok()) return Status(EDAOS_EXIST, "container " + uuid.to_string() + " already exists");
    if (st.code() != EDAOS_NONEXIST) return st;
    if (!label.empty()) {
      st = db_->get(t, db_->dbi(kDbLabel), label, &v);
      if (st.ok())
        return Status(EDAOS_EXIST, "container label '" + label + "' is already used by " +
                                       uuid_from(v).to_string());
      if (st.code() != EDAOS_NONEXIST) return st;
      EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbLabel), label, ukey(uuid)));
    }
    return db_->put(t, db_->dbi(kDbCont), ukey(uuid), encode_cont(label, record));
  });
}

Result<std::string> PoolStore::cont_get(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  std::string record;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    if (!decode_cont(v, nullptr, &record))
      return bad(dir_ + "/psvc", "corrupt record of container " + uuid.to_string());
    return Status::OK();
  }));
  return record;
}

Result<Uuid> PoolStore::cont_lookup_label(const std::string& label) {
  if (label.empty()) return Status(EDAOS_INVAL, "empty container label");
  std::lock_guard<std::mutex> g(mu_);
  Uuid u;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbLabel), label, &v);
    if (st.code() == EDAOS_NONEXIST)
      return Status(EDAOS_NONEXIST, "no container labelled '" + label + "'");
    EDAOS_RETURN_IF_ERROR(st);
    if (v.size() != 16) return bad(dir_ + "/psvc", "corrupt label index for '" + label + "'");
    u = uuid_from(v);
    return Status::OK();
  }));
  return u;
}

Status PoolStore::cont_update(const Uuid& uuid, const std::string& new_label,
                              const std::string& record) {
  EDAOS_RETURN_IF_ERROR(check_label(new_label, "container"));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    std::string old_label;
    if (!decode_cont(v, &old_label, nullptr))
      return bad(dir_ + "/psvc", "corrupt record of container " + uuid.to_string());
    if (new_label != old_label) {
      if (!new_label.empty()) {
        Status st = db_->get(t, db_->dbi(kDbLabel), new_label, &v);
        if (st.ok())
          return Status(EDAOS_EXIST, "container label '" + new_label + "' is already used by " +
                                         uuid_from(v).to_string());
        if (st.code() != EDAOS_NONEXIST) return st;
        EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbLabel), new_label, ukey(uuid)));
      }
      if (!old_label.empty()) {
        Status st = db_->del(t, db_->dbi(kDbLabel), old_label);
        if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
      }
    }
    return db_->put(t, db_->dbi(kDbCont), ukey(uuid), encode_cont(new_label, record));
  });
}

Status PoolStore::cont_destroy(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    std::string label;
    if (decode_cont(v, &label, nullptr) && !label.empty()) {
      Status st = db_->del(t, db_->dbi(kDbLabel), label);
      if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    }
    EDAOS_RETURN_IF_ERROR(db_->del(t, db_->dbi(kDbCont), ukey(uuid)));
    for (size_t dbi : {kDbOid, kDbDestroying}) {
      Status st = db_->del(t, db_->dbi(dbi), ukey(uuid));
      if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    }
    return db_->del_prefix(t, db_->dbi(kDbAttr), ukey(uuid));
  });
}

Status PoolStore::cont_mark_destroying(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    std::string v;
    detail::put_le64(&v, static_cast<uint64_t>(std::time(nullptr)));
    return db_->put(t, db_->dbi(kDbDestroying), ukey(uuid), v);
  });
}

Result<bool> PoolStore::cont_destroying(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  bool marked = false;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbDestroying), ukey(uuid), &v);
    if (st.code() == EDAOS_NONEXIST) return Status::OK();
    EDAOS_RETURN_IF_ERROR(st);
    marked = true;
    return Status::OK();
  }));
  return marked;
}

Result<std::vector<Uuid>> PoolStore::cont_list_destroying() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<Uuid> out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    return db_->scan(t, db_->dbi(kDbDestroying), {}, {}, [&](std::string_view k, std::string_view) {
      if (k.size() == 16) out.push_back(uuid_from(k));
      return true;
    });
  }));
  return out;
}

Result<std::vector<std::pair<Uuid, std::string>>> PoolStore::cont_list() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::pair<Uuid, std::string>> out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    bool corrupt = false;
    EDAOS_RETURN_IF_ERROR(
        db_->scan(t, db_->dbi(kDbCont), {}, {}, [&](std::string_view k, std::string_view v) {
          std::string label;
          if (k.size() != 16 || !decode_cont(v, &label, nullptr)) {
            corrupt = true;
            return false;
          }
          out.emplace_back(uuid_from(k), label);
          return true;
        }));
    if (corrupt) return bad(dir_ + "/psvc", "corrupt container table");
    return Status::OK();
  }));
  return out;
}

Result<uint64_t> PoolStore::alloc_oids(const Uuid& cont, uint64_t count) {
  if (count == 0) return Status(EDAOS_INVAL, "alloc_oids: count is 0");
  std::lock_guard<std::mutex> g(mu_);
  uint64_t first = 0;
  EDAOS_VOS_TRY(db_->write([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string_view v;
    first = kFirstOidSeq;
    Status st = db_->get(t, db_->dbi(kDbOid), ukey(cont), &v);
    if (st.ok()) {
      if (v.size() != 8) return bad(dir_ + "/psvc", "corrupt OID counter");
      first = detail::get_le64(v.data());
    } else if (st.code() != EDAOS_NONEXIST) {
      return st;
    }
    if (UINT64_MAX - first < count)
      return Status(EDAOS_NOSPACE,
                    "object ID space of container " + cont.to_string() + " is exhausted");
    std::string nv;
    detail::put_le64(&nv, first + count);
    return db_->put(t, db_->dbi(kDbOid), ukey(cont), nv);
  }));
  return first;
}

namespace {
Status check_attr_name(const std::string& name) {
  if (name.empty()) return Status(EDAOS_INVAL, "empty attribute name");
  if (name.size() > kMaxAttrName)
    return Status(EDAOS_NAMETOOLONG,
                  "attribute name is longer than " + std::to_string(kMaxAttrName) + " bytes");
  return Status::OK();
}
}  // namespace

Status PoolStore::attr_set(const Uuid& cont, const std::string& name, const std::string& value) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    return db_->put(t, db_->dbi(kDbAttr), ukey(cont) + name, value);
  });
}

Result<std::string> PoolStore::attr_get(const Uuid& cont, const std::string& name) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  std::string out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbAttr), ukey(cont) + name, &v);
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
    EDAOS_RETURN_IF_ERROR(st);
    out.assign(v);
    return Status::OK();
  }));
  return out;
}

Status PoolStore::attr_del(const Uuid& cont, const std::string& name) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    Status st = db_->del(t, db_->dbi(kDbAttr), ukey(cont) + name);
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
    return st;
  });
}

Result<std::vector<std::string>> PoolStore::attr_list(const Uuid& cont) {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string prefix = ukey(cont);
    return db_->scan(t, db_->dbi(kDbAttr), prefix, {}, [&](std::string_view k, std::string_view) {
      out.emplace_back(k.substr(16));
      return true;
    });
  }));
  return out;
}

Status PoolStore::sync() {
  std::lock_guard<std::mutex> g(mu_);
  return db_->sync();
}

}  // namespace edaos::objstore::vos

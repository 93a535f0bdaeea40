// vos::MetaReader: an engine's KV values and array sizes read from meta.mdb and sizes.log by a
// process that does not own the engine (session 10; see meta_reader.hpp and README.md
// "Readers of meta.mdb").
#include "vos/meta_reader.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <utility>

#include "common/log.hpp"
#include "vos/engine_internal.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

namespace detail {

// The environment a reader reads through: the owner's (SharedEnv, when this process owns the
// engine) or one read-only environment of this process (MDB_RDONLY with the lock file), shared
// by every reader of the file here.
struct ReaderEnv {
  std::shared_ptr<SharedEnv> owner;  // set: read through the owner's handle
  // Own environment (owner == nullptr): the handle, the databases, a mutex for the one reader
  // transaction kept reset between calls (renewing it costs no reader-table search).
  std::mutex mu;
  MDB_env* env = nullptr;
  MDB_dbi arrays = 0, akeys = 0;
  MDB_txn* txn = nullptr;
  ~ReaderEnv() {
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
  }
};

bool ShardKey::operator==(const ShardKey& o) const { return std::memcmp(b, o.b, sizeof b) == 0; }

uint64_t EndTable::hash(const ShardKey& k) {
  // Four words and the shard, mixed (a multiply-xorshift per word): the keys' bytes are UUIDs,
  // OIDs and small shard numbers, so no adversary; a few instructions instead of FNV's 36 steps.
  uint64_t w[4];
  uint32_t t;
  std::memcpy(w, k.b, sizeof w);
  std::memcpy(&t, k.b + 32, sizeof t);
  uint64_t h = 0x9e3779b97f4a7c15ull ^ t;
  for (uint64_t x : w) {
    h = (h ^ x) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  h ^= h >> 29;
  return h ? h : 1;
}

const uint64_t* EndTable::find(const ShardKey& k) const {
  if (slots_.empty()) return nullptr;
  const uint64_t h = hash(k);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.h == 0) return nullptr;
    if (s.h == h && s.k == k) return &s.v;
  }
}

uint64_t& EndTable::at(const ShardKey& k) {
  if ((used_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash(k);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.h == h && s.k == k) return s.v;
    if (s.h == 0) {
      s.h = h;
      s.k = k;
      s.v = 0;
      ++used_;
      return s.v;
    }
  }
}

void EndTable::clear() {
  // Keeps the slots' memory (a reader re-reads a log of about the same size next time).
  for (Slot& s : slots_) s.h = 0;
  used_ = 0;
}

void EndTable::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.resize(old.empty() ? 64 : old.size() * 2);
  used_ = 0;
  for (const Slot& s : old)
    if (s.h != 0) at(s.k) = s.v;
}

namespace {

std::atomic<uint64_t> g_txns{0}, g_array_gets{0}, g_array_scans{0};

struct ReaderEnvs {
  std::mutex mu;
  std::map<std::pair<uint64_t, uint64_t>, std::weak_ptr<ReaderEnv>> envs;
};
ReaderEnvs& reader_envs() {
  static ReaderEnvs* r = new ReaderEnvs;  // never destroyed
  return *r;
}

Status lmdb_error(int rc, const std::string& what) {
  return Status(rc == MDB_NOTFOUND ? EDAOS_NONEXIST : EDAOS_IO,
                what + ": " + std::string(mdb_strerror(rc)));
}

Result<std::shared_ptr<ReaderEnv>> open_own_env(const std::string& file, uint64_t dev,
                                                uint64_t ino) {
  ReaderEnvs& r = reader_envs();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.envs.find({dev, ino});
  if (it != r.envs.end())
    if (auto sp = it->second.lock()) return sp;
  auto e = std::make_shared<ReaderEnv>();
  int rc = mdb_env_create(&e->env);
  if (rc == 0) rc = mdb_env_set_maxdbs(e->env, 8);
  if (rc == 0) rc = mdb_env_set_maxreaders(e->env, kLmdbMaxReaders);
  if (rc == 0) rc = mdb_env_open(e->env, file.c_str(), MDB_RDONLY | MDB_NOSUBDIR | MDB_NOTLS, 0644);
  if (rc != 0) return lmdb_error(rc, "open " + file + " read-only");
  // Database handles opened in a read transaction become the environment's at its commit.
  MDB_txn* t = nullptr;
  rc = mdb_txn_begin(e->env, nullptr, MDB_RDONLY, &t);
  if (rc == 0) rc = mdb_dbi_open(t, "arrays", 0, &e->arrays);
  if (rc == 0) rc = mdb_dbi_open(t, "akeys", 0, &e->akeys);
  if (rc == 0) {
    rc = mdb_txn_commit(t);
  } else if (t) {
    mdb_txn_abort(t);
  }
  if (rc != 0) return lmdb_error(rc, "open the databases of " + file);
  r.envs[{dev, ino}] = e;
  return e;
}

// Runs `fn` in a read transaction of `e`: the owner's handle (shared lock against its resize
// and close) or the own environment's kept transaction (renewed; a map grown by the owner is
// adopted first).
template <typename Fn>
Status in_read_txn(ReaderEnv& e, const std::string& dir, Fn&& fn) {
  if (e.owner) {
    std::shared_lock<std::shared_mutex> g(e.owner->mu);
    if (!e.owner->open) return Status(EDAOS_UNREACH, "engine " + dir + " is closed");
    MDB_txn* t = nullptr;
    g_txns.fetch_add(1, std::memory_order_relaxed);
    int rc = mdb_txn_begin(e.owner->env, nullptr, MDB_RDONLY, &t);
    if (rc != 0) return lmdb_error(rc, "read transaction of " + dir);
    Status st = fn(t, e.owner->dbis[kDbArrays], e.owner->dbis[kDbAkeys]);
    mdb_txn_abort(t);
    return st;
  }
  std::lock_guard<std::mutex> g(e.mu);
  g_txns.fetch_add(1, std::memory_order_relaxed);
  for (int attempt = 0;; ++attempt) {
    int rc = e.txn ? mdb_txn_renew(e.txn) : mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &e.txn);
    if (rc == MDB_MAP_RESIZED && attempt == 0) {
      // The owner grew the map: adopt its size (no transaction of this environment is running).
      if (e.txn) {
        mdb_txn_abort(e.txn);
        e.txn = nullptr;
      }
      rc = mdb_env_set_mapsize(e.env, 0);
      if (rc != 0) return lmdb_error(rc, "adopt the map size of " + dir);
      continue;
    }
    if (rc != 0) {
      if (e.txn && rc != 0) {
        mdb_txn_abort(e.txn);
        e.txn = nullptr;
      }
      return lmdb_error(rc, "read transaction of " + dir);
    }
    break;
  }
  Status st = fn(e.txn, e.arrays, e.akeys);
  mdb_txn_reset(e.txn);
  return st;
}

}  // namespace
}  // namespace detail

using namespace detail;

namespace {

ShardKey key_of(const ShardRef& r) {
  // shard_key()'s bytes (big-endian OID and shard), without a string.
  ShardKey k;
  const uint64_t hi = __builtin_bswap64(r.oid.hi), lo = __builtin_bswap64(r.oid.lo);
  const uint32_t sh = __builtin_bswap32(r.shard);
  std::memcpy(k.b, r.cont.b, 16);
  std::memcpy(k.b + 16, &hi, 8);
  std::memcpy(k.b + 24, &lo, 8);
  std::memcpy(k.b + 32, &sh, 4);
  return k;
}

ShardKey key_at(const void* p) {
  ShardKey k;
  std::memcpy(k.b, p, sizeof k.b);
  return k;
}

}  // namespace

namespace {

// Appends `v` in lowercase hex without leading zeros ("%" PRIx64).
void append_hex(std::string* s, uint64_t v) {
  char b[16];
  int n = 0;
  do {
    b[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  while (n) s->push_back(b[--n]);
}

// Appends Uuid::to_string()'s bytes (8-4-4-4-12 lowercase hex).
void append_uuid(std::string* s, const Uuid& u) {
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s->push_back('-');
    s->push_back("0123456789abcdef"[u.b[i] >> 4]);
    s->push_back("0123456789abcdef"[u.b[i] & 15]);
  }
}

// shard_data_path into *out (no printf: a probe of a leased shard builds one per stat).
void build_shard_path(std::string* out, const std::string& engine_dir, const ShardRef& ref) {
  out->assign(engine_dir);
  out->append("/tgt-");
  char t[16];
  int n = 0;
  uint32_t v = ref.target;
  do {
    t[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) out->push_back(t[--n]);
  out->push_back('/');
  append_uuid(out, ref.cont);
  out->push_back('/');
  append_hex(out, ref.oid.hi);
  out->push_back('.');
  append_hex(out, ref.oid.lo);
  out->push_back('.');
  v = ref.shard;
  do {
    t[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) out->push_back(t[--n]);
}

}  // namespace

std::string shard_data_path(const std::string& engine_dir, const ShardRef& ref) {
  std::string s;
  build_shard_path(&s, engine_dir, ref);
  return s;
}

Result<std::unique_ptr<MetaReader>> MetaReader::open(const std::string& engine_dir,
                                                     bool owner_here) {
  std::string fmt;
  EDAOS_RETURN_IF_ERROR(read_file(engine_dir + "/FORMAT", &fmt));
  unsigned ver = 0;
  if (fmt.compare(0, sizeof kFormatMagic - 1, kFormatMagic) != 0 ||
      std::sscanf(fmt.c_str() + sizeof kFormatMagic - 1, " %u", &ver) != 1 ||
      ver < kEngineFormatNoLongKeys || ver > kEngineFormatVersion)
    return Status(EDAOS_NOTSUP, "engine " + engine_dir +
                                    ": FORMAT not read here: " + fmt.substr(0, fmt.find('\n')));
  const std::string file = engine_dir + "/meta.mdb";
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) return errno_status(errno, "stat " + file);
  const uint64_t dev = static_cast<uint64_t>(st.st_dev), ino = static_cast<uint64_t>(st.st_ino);
  std::unique_ptr<MetaReader> r(new MetaReader());
  r->dir_ = engine_dir;
  if (auto sh = shared_env_of(dev, ino)) {
    r->env_ = std::make_shared<ReaderEnv>();
    r->env_->owner = std::move(sh);
  } else if (owner_here) {
    return Status(EDAOS_UNREACH, "engine " + engine_dir + " is not open in this process");
  } else {
    EDAOS_ASSIGN_OR_RETURN(r->env_, open_own_env(file, dev, ino));
  }
  const std::string log = engine_dir + "/" + kSizeLogName;
  r->log_fd_ = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->log_fd_ < 0) return errno_status(errno, "open " + log);
  return r;
}

MetaReader::~MetaReader() {
  if (log_fd_ >= 0) ::close(log_fd_);
}

Status MetaReader::kv_get(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                          CsumFn fn, std::string* value) {
  if (dkey.empty() || akey.empty()) return Status(EDAOS_INVAL, "empty key");
  if (dkey.size() + akey.size() > kShortKvKeyBytes)
    return Status(EDAOS_NOTSUP, "long KV keys are read by the engine");
  thread_local std::string key;  // kept per thread: a warm get allocates nothing here
  const ShardKey sk = key_of(ref);
  key.assign(sk.b, sizeof sk.b);
  put_be(&key, dkey.size(), 2);
  key.append(dkey);
  key.append(akey);
  return in_read_txn(*env_, dir_, [&](MDB_txn* t, MDB_dbi, MDB_dbi akeys) -> Status {
    MDB_val k = mval(key), v;
    const int rc = mdb_get(t, akeys, &k, &v);
    if (rc == MDB_NOTFOUND) return Status(EDAOS_NONEXIST, "no such entry");
    if (rc != 0) return lmdb_error(rc, "get in " + dir_);
    // The record: u8 CsumType, u64 LE checksum, value (engine_kv.cpp record_value).
    const std::string_view rec = sv(v);
    if (rec.size() < 9) return Status(EDAOS_FORMAT, "corrupt KV record in " + dir_);
    const auto type = static_cast<CsumType>(static_cast<uint8_t>(rec[0]));
    const std::string_view val = rec.substr(9);
    if (type != CsumType::kOff) {
      if (static_cast<unsigned>(type) > static_cast<unsigned>(CsumType::kCrc64) || !fn)
        return Status(EDAOS_NOTSUP, "KV record of an unknown checksum type in " + dir_);
      if (get_le64(rec.data() + 1) != fn(type, val.data(), val.size(), 0))
        return Status(EDAOS_CSUM, "stored value fails its checksum in " + dir_);
    }
    value->assign(val);
    return Status::OK();
  });
}

namespace {
std::atomic<uint64_t> g_log_reads{0};
}  // namespace

uint64_t meta_reader_log_reads_for_testing() { return g_log_reads.load(); }

Status MetaReader::read_log(std::string* buf, size_t* got) {
  *got = 0;
  g_log_reads.fetch_add(1, std::memory_order_relaxed);
  for (;;) {
    if (buf->size() < *got + (size_t{64} << 10))
      buf->resize(std::max(buf->size() * 2, *got + (64 << 10)));
    const ssize_t n =
        ::pread(log_fd_, buf->data() + *got, buf->size() - *got, static_cast<off_t>(*got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "read " + dir_ + "/" + kSizeLogName);
    if (n == 0) return Status::OK();
    *got += static_cast<size_t>(n);
  }
}

namespace {
// A record failing its check is one being written (its write has not returned) or a torn tail
// the owner skips too.
bool size_record_ok(const char* p) {
  return std::memcmp(p, kSizeMagic, sizeof kSizeMagic) == 0 && get_le64(p + 56) == fnv1a64(p, 56) &&
         (p[48] == 0 || p[48] == 1);
}
}  // namespace

namespace {

// Session 12: under one generation the whole `arrays` database is read instead of one record per
// shard when it holds at most kScanAlways records, or at most kScanPerMiss times the records
// read one by one under that generation so far (a record read alone costs a B-tree descent, one
// of a cursor walk a step), and never more than kScanMax (the memory kept per engine).
constexpr uint64_t kScanAlways = 4096, kScanPerMiss = 8, kScanMax = uint64_t{1} << 15;

}  // namespace

bool MetaReader::cached_end(const ShardRef& ref, const uint64_t* gen, uint64_t* end) {
  const ShardKey k = key_of(ref);
  std::lock_guard<std::mutex> g(log_mu_);
  if (!log_cached_ || __atomic_load_n(gen, __ATOMIC_SEQ_CST) != log_gen_) return false;
  const uint64_t* a = arrays_cache_.find(k);
  if (!a && !arrays_whole_) return false;
  const uint64_t* l = log_ends_.find(k);
  *end = std::max(a ? *a : 0, l ? *l : 0);
  return true;
}

MetaReaderCounts meta_reader_counts_for_testing() {
  MetaReaderCounts c;
  c.txns = g_txns.load();
  c.array_gets = g_array_gets.load();
  c.array_scans = g_array_scans.load();
  return c;
}

Status MetaReader::logical_ends(const std::vector<ShardRef>& refs, std::vector<uint64_t>* ends,
                                const std::vector<char>* skip_log, const uint64_t* gen) {
  static_assert(sizeof(ShardKey) == kShardKeyLen, "shard key length");
  const size_t n = refs.size();
  // Scratch kept per thread: a warm call allocates nothing.
  thread_local std::vector<ShardKey> keys;
  keys.resize(n);
  for (size_t i = 0; i < n; ++i) keys[i] = key_of(refs[i]);
  // Per key: the largest size record after its last removal record.
  thread_local std::vector<uint64_t> logged;
  logged.assign(n, 0);
  ends->assign(n, 0);
  // 1. sizes.log, whole (at most ~1 MiB: the engine folds it there), before the transaction.
  thread_local std::string buf;
  size_t got = 0;
  // With a generation, log_mu_ is held to the end: the caches below are read and filled under it.
  std::unique_lock<std::mutex> lk(log_mu_, std::defer_lock);
  if (gen) {
    // Session 11: the records as parsed at the last read, unless the engine's server counted a
    // change since. The generation is loaded before the log is read, and the server bumps it
    // after a change and before its reply: a change acknowledged before this call began moved
    // it past every value loaded before that change, so the cache is read again.
    lk.lock();
    const uint64_t now = __atomic_load_n(gen, __ATOMIC_SEQ_CST);
    if (!log_cached_ || now != log_gen_) {
      log_cached_ = false;
      log_ends_.clear();
      arrays_cache_.clear();
      arrays_whole_ = false;
      arrays_misses_ = 0;
      EDAOS_RETURN_IF_ERROR(read_log(&buf, &got));
      for (size_t o = 0; o + kSizeRec <= got; o += kSizeRec) {
        const char* p = buf.data() + o;
        if (!size_record_ok(p)) continue;
        uint64_t& e = log_ends_.at(key_at(p + 4));
        e = p[48] == 1 ? 0 : std::max(e, get_le64(p + 40));  // a removal drops the sizes before it
      }
      log_cached_ = true;
      log_gen_ = now;
    }
    for (size_t i = 0; i < n; ++i)
      if (const uint64_t* v = log_ends_.find(keys[i])) logged[i] = *v;
    // The `arrays` records read under this generation (the same argument: only a change the
    // server bumps the generation after can change them; a fold only moves a size from the
    // log into its record, which leaves max(record, log) as it was). Read whole, a key absent
    // from them has no record.
    size_t missing = 0;
    for (size_t i = 0; i < n; ++i) {
      if (const uint64_t* v = arrays_cache_.find(keys[i]))
        (*ends)[i] = std::max(*v, logged[i]);
      else if (arrays_whole_)
        (*ends)[i] = logged[i];
      else
        ++missing;
    }
    if (missing == 0) return Status::OK();
    arrays_misses_ += missing;
  } else {
    bool need_log = !skip_log;
    for (size_t i = 0; skip_log && i < n; ++i) need_log = need_log || !(*skip_log)[i];
    if (need_log) EDAOS_RETURN_IF_ERROR(read_log(&buf, &got));
    for (size_t o = 0; o + kSizeRec <= got; o += kSizeRec) {
      const char* p = buf.data() + o;
      for (size_t i = 0; i < n; ++i) {
        if ((skip_log && (*skip_log)[i]) || std::memcmp(p + 4, keys[i].b, kShardKeyLen) != 0)
          continue;
        if (!size_record_ok(p)) break;
        if (p[48] == 1)
          logged[i] = 0;  // a removal: the sizes before it are gone with the shard
        else
          logged[i] = std::max(logged[i], get_le64(p + 40));
      }
    }
  }
  // 2. The `arrays` records, in a snapshot taken after the log was read: one by one, or (with a
  // generation, session 12) the whole database once when that is cheaper over the generation.
  thread_local std::vector<uint64_t> stored;
  stored.assign(n, 0);
  bool scanned = false;
  Status st = in_read_txn(*env_, dir_, [&](MDB_txn* t, MDB_dbi arrays, MDB_dbi) -> Status {
    MDB_stat ms;
    if (gen && mdb_stat(t, arrays, &ms) == 0 && ms.ms_entries <= kScanMax &&
        (ms.ms_entries <= kScanAlways || ms.ms_entries <= kScanPerMiss * arrays_misses_)) {
      g_array_scans.fetch_add(1, std::memory_order_relaxed);
      arrays_cache_.clear();
      scanned = true;
      MDB_cursor* c = nullptr;
      int rc = mdb_cursor_open(t, arrays, &c);
      if (rc != 0) return lmdb_error(rc, "cursor in " + dir_);
      MDB_val k, v;
      for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
           rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != kShardKeyLen || v.mv_size != 8) {
          mdb_cursor_close(c);
          return Status(EDAOS_FORMAT, "corrupt array size record in " + dir_);
        }
        arrays_cache_.at(key_at(k.mv_data)) = get_le64(static_cast<const char*>(v.mv_data));
      }
      mdb_cursor_close(c);
      if (rc != MDB_NOTFOUND) return lmdb_error(rc, "walk the array sizes of " + dir_);
      for (size_t i = 0; i < n; ++i) {
        if (const uint64_t* s = arrays_cache_.find(keys[i])) stored[i] = *s;
        (*ends)[i] = std::max(stored[i], logged[i]);
      }
      return Status::OK();
    }
    for (size_t i = 0; i < n; ++i) {
      g_array_gets.fetch_add(1, std::memory_order_relaxed);
      MDB_val k{kShardKeyLen, keys[i].b}, v;
      const int rc = mdb_get(t, arrays, &k, &v);
      if (rc == 0) {
        if (v.mv_size != 8) return Status(EDAOS_FORMAT, "corrupt array size record in " + dir_);
        stored[i] = get_le64(static_cast<const char*>(v.mv_data));
      } else if (rc != MDB_NOTFOUND) {
        return lmdb_error(rc, "get in " + dir_);
      }
      (*ends)[i] = std::max(stored[i], logged[i]);
    }
    return Status::OK();
  });
  if (gen) {
    // Kept for this generation only if it did not move meanwhile (the records were read after
    // it was loaded, so they are at least as new as it).
    const bool same = st.ok() && log_cached_ && __atomic_load_n(gen, __ATOMIC_SEQ_CST) == log_gen_;
    if (scanned) {
      arrays_whole_ = same;
      if (!same) arrays_cache_.clear();
    } else if (same && arrays_cache_.size() < (size_t{1} << 16)) {
      for (size_t i = 0; i < n; ++i) arrays_cache_.at(keys[i]) = stored[i];
    }
  }
  return st;
}

MetaReader::ShardFile MetaReader::probe_file(const ShardRef& ref) const {
  thread_local std::string path;  // kept per thread: no allocation per probe once warm
  build_shard_path(&path, dir_, ref);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? ShardFile::kAbsent : ShardFile::kLocked;
  struct flock fl {};
  fl.l_type = F_RDLCK;  // conflicts with write locks only: the ones direct writers take
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // the whole file, and past its end
  const bool locked = ::fcntl(fd, F_OFD_GETLK, &fl) != 0 || fl.l_type == F_WRLCK;
  ::close(fd);
  return locked ? ShardFile::kLocked : ShardFile::kPresent;
}

// ---------------------------------------------------------------- the metadata page (session 11)

uint64_t meta_page_base(const Uuid& pool, const Uuid& cont, const ObjectId& oid) {
  char k[16 + 16 + 16];
  std::memcpy(k, pool.b, 16);
  std::memcpy(k + 16, cont.b, 16);
  std::memcpy(k + 32, &oid.hi, 8);
  std::memcpy(k + 40, &oid.lo, 8);
  return fnv1a64(k, sizeof k);
}

uint32_t meta_page_slot(const Uuid& pool, uint32_t engine, const Uuid& cont, const ObjectId& oid,
                        uint32_t shard) {
  // The object picks a run of slots and the shard its place in it: the shards of one object
  // are neighbours (a stat of a 20-shard file reads 3 cache lines of the page, not 20 random
  // ones). The engine is implied by the shard within one pool map.
  (void)engine;
  return meta_page_slot_of(meta_page_base(pool, cont, oid), shard);
}

std::unique_ptr<MetaPageWriter> MetaPageWriter::create() {
  std::unique_ptr<MetaPageWriter> w(new MetaPageWriter());
  w->fd_ = ::memfd_create("edaos-meta-page", MFD_CLOEXEC);
  if (w->fd_ < 0 || ::ftruncate(w->fd_, static_cast<off_t>(kMetaPageBytes)) != 0) {
    EDAOS_LOG(info, "no metadata page (memfd: %s): local stats probe shard files",
              std::strerror(errno));
    return nullptr;
  }
  void* m = ::mmap(nullptr, kMetaPageBytes, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd_, 0);
  if (m == MAP_FAILED) {
    EDAOS_LOG(info, "no metadata page (mmap: %s)", std::strerror(errno));
    return nullptr;
  }
  w->map_ = static_cast<uint64_t*>(m);
  std::random_device rd;
  for (uint64_t& t : w->token_) t = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  uint64_t* p = w->map_;
  __atomic_store_n(p + 1, w->token_[0], __ATOMIC_SEQ_CST);
  __atomic_store_n(p + 2, w->token_[1], __ATOMIC_SEQ_CST);
  __atomic_store_n(p, kMetaPageMagic, __ATOMIC_SEQ_CST);
  return w;
}

MetaPageWriter::~MetaPageWriter() {
  if (map_) ::munmap(map_, kMetaPageBytes);
  if (fd_ >= 0) ::close(fd_);
}

Status MetaPageWriter::publish(const std::string& pool_dir, int server_index,
                               const std::string& host) const {
  const std::string file = pool_dir + "/" + kMetaPageFile + "." + std::to_string(server_index);
  const std::string line = hex64(kMetaPageMagic) + " " + host + " /proc/" +
                           std::to_string(::getpid()) + "/fd/" + std::to_string(fd_) + " " +
                           hex64(token_[0]) + " " + hex64(token_[1]) + "\n";
  const std::string tmp = file + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(errno, "create " + tmp);
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return errno_status(e, "publish " + file);
  }
  return Status::OK();
}

void MetaPageWriter::bump_engine(uint32_t engine) {
  (void)__atomic_fetch_add(map_ + kMetaPageHeadWords + engine % kMetaPageEngines, 1,
                           __ATOMIC_SEQ_CST);
}

void MetaPageWriter::add_lease(uint32_t slot, int64_t delta) {
  (void)__atomic_fetch_add(map_ + kMetaPageHeadWords + kMetaPageEngines + slot % kMetaPageSlots,
                           static_cast<uint64_t>(delta), __ATOMIC_SEQ_CST);
}

Result<std::shared_ptr<MetaPageView>> MetaPageView::open(const std::string& pool_dir,
                                                         int server_index,
                                                         const std::string& host) {
  const std::string file = pool_dir + "/" + kMetaPageFile + "." + std::to_string(server_index);
  std::string line;
  EDAOS_RETURN_IF_ERROR(read_file(file, &line));
  char magic[32], h[256], path[256], t0[32], t1[32];
  if (std::sscanf(line.c_str(), "%31s %255s %255s %31s %31s", magic, h, path, t0, t1) != 5 ||
      std::strtoull(magic, nullptr, 16) != kMetaPageMagic)
    return Status(EDAOS_FORMAT, file + ": not a metadata page's name");
  if (host != h) return Status(EDAOS_NOTSUP, file + ": a page of host " + h);
  // Non-blocking: a stale name may be another process's descriptor of anything (a FIFO).
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno_status(errno, "open the metadata page " + std::string(path));
  struct stat st;
  const bool big = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                   static_cast<size_t>(st.st_size) >= kMetaPageBytes;
  void* m = big ? ::mmap(nullptr, kMetaPageBytes, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (m == MAP_FAILED) return Status(EDAOS_FORMAT, std::string(path) + ": not a metadata page");
  std::shared_ptr<MetaPageView> v(new MetaPageView());
  v->map_ = static_cast<const uint64_t*>(m);
  if (__atomic_load_n(v->map_, __ATOMIC_SEQ_CST) != kMetaPageMagic ||
      __atomic_load_n(v->map_ + 1, __ATOMIC_SEQ_CST) != std::strtoull(t0, nullptr, 16) ||
      __atomic_load_n(v->map_ + 2, __ATOMIC_SEQ_CST) != std::strtoull(t1, nullptr, 16))
    return Status(EDAOS_FORMAT, file + " names a page of another server");
  return v;
}

MetaPageView::~MetaPageView() {
  if (map_) ::munmap(const_cast<uint64_t*>(map_), kMetaPageBytes);
}

}  // namespace edaos::objstore::vos

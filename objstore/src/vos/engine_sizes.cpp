// Engine: array logical sizes (the size log sizes.log and its fold into LMDB).
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
#include <cstring>
#include <iterator>

#include "common/log.hpp"
#include "vos/engine.hpp"
#include "vos/engine_internal.hpp"
#include "vos/meta_reader.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;
using namespace detail;  // engine_internal.hpp: the layout shared by engine*.cpp

// ---------------------------------------------------------------- arrays

namespace {
std::atomic<FaultHook> g_fold_hook{nullptr};
void fold_point(const char* name) {
  if (FaultHook h = g_fold_hook.load(std::memory_order_relaxed)) h(name);
}
}  // namespace

void set_fold_hook_for_testing(FaultHook hook) {
  g_fold_hook.store(hook, std::memory_order_relaxed);
}

namespace {
// Byte 48 of a record: 0 = a size, kSizeRemoved = the shard was removed (a tombstone).
constexpr char kSizeRemoved = 1;

std::string encode_size_rec(const std::string& key, uint64_t end, bool removed = false) {
  std::string r(kSizeMagic, sizeof kSizeMagic);
  r += key;
  detail::put_le64(&r, end);
  r.resize(56, '\0');
  r[48] = removed ? kSizeRemoved : '\0';
  detail::put_le64(&r, detail::fnv1a64(r.data(), r.size()));
  return r;
}
// Valid record: *key, *end and *removed set.
bool decode_size_rec(const char* p, std::string* key, uint64_t* end, bool* removed) {
  if (std::memcmp(p, kSizeMagic, sizeof kSizeMagic) != 0) return false;
  if (detail::get_le64(p + 56) != detail::fnv1a64(p, 56)) return false;
  if (p[48] != 0 && p[48] != kSizeRemoved) return false;
  for (int i = 49; i < 56; ++i)
    if (p[i] != 0) return false;
  key->assign(p + 4, kShardKeyLen);
  *end = detail::get_le64(p + 40);
  *removed = p[48] == kSizeRemoved;
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
  // Per key, in log order: a size raises `end`; a removal forgets everything before it (the
  // `arrays` record included: the removal deleted it, or was killed before it could).
  struct Replay {
    uint64_t end = 0;
    bool has_end = false;  // a size record after the last removal
    bool removed = false;  // a removal record: the sizes after it are exact, not raises
  };
  std::map<std::string, Replay> ends;
  size_t bad = 0;
  for (size_t o = 0; o + kSizeRec <= got; o += kSizeRec) {
    std::string key;
    uint64_t end = 0;
    bool removed = false;
    if (!decode_size_rec(buf.data() + o, &key, &end, &removed)) {
      ++bad;
      continue;
    }
    Replay& v = ends[key];
    if (removed) {
      v = Replay{};
      v.removed = true;
      continue;
    }
    v.end = std::max(v.end, end);
    v.has_end = true;
  }
  if (bad || got % kSizeRec)
    EDAOS_LOG(warn, "%s: %zu invalid size records skipped (torn tail)", path.c_str(), bad);
  EDAOS_VOS_TRY(db_->write([&](MDB_txn* t) -> Status {
    for (auto& [key, r] : ends) {
      if (r.removed) {
        Status ds = db_->del(t, db_->dbi(kDbArrays), key);
        if (!ds.ok() && ds.code() != EDAOS_NONEXIST) return ds;
      }
      if (!r.has_end) continue;
      std::string_view cur;
      Status gs = db_->get(t, db_->dbi(kDbArrays), key, &cur);
      if (gs.ok() && cur.size() == 8 && detail::get_le64(cur.data()) >= r.end) continue;
      if (!gs.ok() && gs.code() != EDAOS_NONEXIST) return gs;
      std::string val;
      detail::put_le64(&val, r.end);
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
  EDAOS_RETURN_IF_ERROR(append_size_rec(encode_size_rec(key, v)));
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
      fold_point("fold:in-transaction");
      return Status::OK();
    }));
    for (auto& kv : ends_) kv.second.pending = false;
    npending_ = 0;
  }
  fold_point("fold:committed");
  // Every record is in LMDB now (committed to the file): the log can go. Readers of other
  // processes (MetaReader) rely on this order: they read the log before their snapshot, so a
  // size this fold moves is in what they read of the log or in their snapshot.
  if (::ftruncate(log_fd_, 0) != 0)
    return detail::errno_status(errno, "truncate " + opts_.dir + "/" + kSizeLogName);
  log_end_ = 0;
  return Status::OK();
}

Status Engine::fold_sizes_of(const std::string& key) {
  auto it = ends_.find(key);
  return it != ends_.end() && it->second.pending ? flush_sizes() : Status::OK();
}

Status Engine::append_size_rec(const std::string& rec) {
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(log_fd_, rec.data(), rec.size(), log_end_,
                                            opts_.dir + "/" + kSizeLogName));
  log_end_ += rec.size();
  return Status::OK();
}

Status Engine::log_removal(const std::string& key) {
  auto it = ends_.find(key);
  if (it == ends_.end() || !it->second.pending) return Status::OK();  // nothing to undo
  // After the records it follows (page cache, like them): a replay drops the key's earlier
  // records and its `arrays` record, so the removed size never comes back after a kill.
  EDAOS_RETURN_IF_ERROR(append_size_rec(encode_size_rec(key, 0, /*removed=*/true)));
  --npending_;
  ends_.erase(it);
  if (log_end_ >= kMaxSizeLogBytes) return flush_sizes();
  return Status::OK();
}

Status Engine::set_logical_end_exact(const ShardRef& ref, uint64_t v) {
  const std::string key = shard_key(ref);
  // A pending (larger) record replayed after this change would undo it: fold the log first.
  EDAOS_RETURN_IF_ERROR(fold_sizes_of(key));
  EDAOS_ASSIGN_OR_RETURN(SizeEntry * e, size_entry(key));
  if (e->exists && e->end == v) return Status::OK();
  if (!e->exists && log_end_ > 0) {
    // No size (never sized, or removed) and a log that is not empty: it may hold a removal
    // record of this key (obj_punch of a shard whose size was pending, log_removal), which a
    // replay applies by deleting the key's `arrays` record, so the exact size put into LMDB
    // below would be lost after a kill. A size record after it makes the replay put it back:
    // after a removal record a size is exact, and without one it raises a size that has no
    // `arrays` record to raise. The key is then pending (a later shrink folds first, a later
    // removal logs its own record). `arrays` is still written: a reader of another process
    // reads only `arrays` for a shard without a data file (meta_reader.cpp, probe_file).
    EDAOS_RETURN_IF_ERROR(append_size_rec(encode_size_rec(key, v)));
    e->end = v;  // what a replay gives from now on
    e->exists = true;
    if (!e->pending) ++npending_;
    e->pending = true;
  }
  // Otherwise the log holds no record of this key: one of its sizes would have made the entry
  // pending (folded above), and a removal record deletes the `arrays` record and drops the
  // cached entry, so it leaves the key without a size.
  EDAOS_RETURN_IF_ERROR(db_->write([&](MDB_txn* t) -> Status {
    std::string val;
    detail::put_le64(&val, v);
    return db_->put(t, db_->dbi(kDbArrays), key, val);
  }));
  e->end = v;
  e->exists = true;
  if (log_end_ >= kMaxSizeLogBytes) return flush_sizes();
  return Status::OK();
}

Result<uint64_t> Engine::array_logical_end(const ShardRef& ref) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_ASSIGN_OR_RETURN(SizeEntry * e, size_entry(shard_key(ref)));
  return e->end;
}

}  // namespace edaos::objstore::vos

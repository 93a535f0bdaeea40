// Engine: whole objects and containers (punch, destroy, list).
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
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;
using namespace detail;  // engine_internal.hpp: the layout shared by engine*.cpp

// ---------------------------------------------------------------- objects, containers

std::string_view Engine::index_name(std::string_view file) {
  constexpr std::string_view kCsum = ".csum";
  if (file.size() > kCsum.size() && file.substr(file.size() - kCsum.size()) == kCsum)
    file.remove_suffix(kCsum.size());
  // `<hi>.<lo>.<shard>`: exactly two dots. Anything else (a leftover `.csum.tmp`) is no shard's
  // data file or sidecar, which is all the removal looks for.
  if (std::count(file.begin(), file.end(), '.') != 2) return {};
  return file;
}

Engine::DirIndex& Engine::dir_index(const std::string& dir) {
  auto it = dir_index_.find(dir);
  if (it != dir_index_.end()) return it->second;
  DirIndex& ix = dir_index_[dir];
  ++punch_stats_.dir_scans;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    ix.complete = errno == ENOENT;  // no directory: no file; another error: not known
    return ix;
  }
  ix.complete = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = index_name(e->d_name);
    if (n.empty()) continue;
    if (ix.shards.size() >= kMaxIndexNames) {
      ix.complete = false;
      ix.shards.clear();
      break;
    }
    ix.shards.emplace(n);
  }
  ::closedir(d);
  return ix;
}

void Engine::index_created(const std::string& path) {
  auto it = dir_index_.find(detail::parent_dir(path));
  if (it == dir_index_.end() || !it->second.complete) return;  // read at its first use
  const size_t slash = path.rfind('/');
  std::string_view n = index_name(std::string_view(path).substr(slash + 1));
  if (n.empty()) return;
  if (it->second.shards.size() >= kMaxIndexNames) {
    it->second.complete = false;
    it->second.shards.clear();
    return;
  }
  it->second.shards.emplace(n);
}

bool Engine::shard_has_files(const ShardRef& ref) {
  const std::string name = ref.oid.to_string() + "." + std::to_string(ref.shard);
  for (uint32_t t = 0; t < opts_.ntargets; ++t) {
    ShardRef r = ref;
    r.target = t;
    const DirIndex& ix = dir_index(shard_dir(r));
    if (!ix.complete || ix.shards.count(name)) return true;
  }
  return false;
}

Status Engine::punch_files(const ShardRef& ref, const std::string& sk) {
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  // A size record of this shard replayed after the removal would bring its size back: when
  // the log holds one, a removal record follows it (no fold: no LMDB commit, no truncation).
  EDAOS_RETURN_IF_ERROR(log_removal(sk));
  ends_.erase(sk);
  const std::string name = ref.oid.to_string() + "." + std::to_string(ref.shard);
  for (uint32_t t = 0; t < opts_.ntargets; ++t) {
    ShardRef r = ref;
    r.target = t;
    std::string path = shard_data_path(r);
    auto ix = dir_index_.find(detail::parent_dir(path));
    // No file of it on this target (the index is exact): nothing to stat or unlink here.
    if (ix != dir_index_.end() && ix->second.complete && !ix->second.shards.count(name)) continue;
    for (const std::string& p : {path, path + ".csum"}) {
      forget_fd(p);
      dirty_files_.erase(p);
      struct stat st;
      ++punch_stats_.stats;
      if (::stat(p.c_str(), &st) != 0) continue;
      if (::unlink(p.c_str()) != 0 && errno != ENOENT)
        return detail::errno_status(errno, "unlink " + p);
      uint64_t b = static_cast<uint64_t>(st.st_blocks) * 512;
      used_bytes_ = used_bytes_ > b ? used_bytes_ - b : 0;
      dirty_dirs_.insert(detail::parent_dir(p));
    }
    // Both files are gone (or were never there): so is the name.
    if (ix != dir_index_.end()) ix->second.shards.erase(name);
  }
  return Status::OK();
}

Status Engine::obj_punch(const ShardRef& ref) {
  std::vector<Status> st;
  obj_punch_many({ref}, &st);
  return st[0];
}

// Which shards hold something is decided before anything changes: the cached size (pending in
// the log or known to have an `arrays` record), the directory index, then one read transaction
// for `arrays` and the four KV databases. Only the others are removed, in one write transaction.
void Engine::obj_punch_many(const std::vector<ShardRef>& refs, std::vector<Status>* results) {
  results->assign(refs.size(), Status::OK());
  std::lock_guard<std::mutex> g(mu_);
  punch_stats_.shards += refs.size();
  std::vector<std::string> keys(refs.size());
  std::vector<char> holds(refs.size(), 0);
  std::vector<size_t> ask;  // shards whose LMDB records decide
  for (size_t i = 0; i < refs.size(); ++i) {
    if (refs[i].cont.is_nil()) {
      (*results)[i] = Status(EDAOS_INVAL, "nil container uuid");
      continue;
    }
    keys[i] = shard_key(refs[i]);
    auto e = ends_.find(keys[i]);
    if ((e != ends_.end() && (e->second.exists || e->second.pending)) || shard_has_files(refs[i]))
      holds[i] = 1;
    else
      ask.push_back(i);
  }
  if (!ask.empty()) {
    Status st = db_->read([&](MDB_txn* t) -> Status {
      for (size_t i : ask) {
        std::string_view v;
        Status gs = db_->get(t, db_->dbi(kDbArrays), keys[i], &v);
        if (gs.ok()) {
          holds[i] = 1;
          continue;
        }
        if (gs.code() != EDAOS_NONEXIST) return gs;
        for (size_t d : {kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys}) {
          EDAOS_RETURN_IF_ERROR(
              db_->scan(t, db_->dbi(d), keys[i], {}, [&](std::string_view, std::string_view) {
                holds[i] = 1;
                return false;
              }));
          if (holds[i]) break;
        }
      }
      return Status::OK();
    });
    if (!st.ok()) {  // not known: removed the full way
      for (size_t i : ask) holds[i] = 1;
    }
  }
  std::vector<size_t> punched;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!(*results)[i].ok()) continue;
    if (!holds[i]) {
      ++punch_stats_.empty;
      ends_.erase(keys[i]);  // a cached "no size" stays true; nothing else to forget
      continue;
    }
    (*results)[i] = punch_files(refs[i], keys[i]);
    if ((*results)[i].ok()) punched.push_back(i);
  }
  if (punched.empty()) return;
  ++punch_stats_.write_txns;
  Status st = db_->write([&](MDB_txn* t) -> Status {
    for (size_t i : punched) {
      Status ds = db_->del(t, db_->dbi(kDbArrays), keys[i]);
      if (!ds.ok() && ds.code() != EDAOS_NONEXIST) return ds;
      for (size_t d : {kDbDkeys, kDbAkeys, kDbLongDkeys, kDbLongAkeys})
        EDAOS_RETURN_IF_ERROR(db_->del_prefix(t, db_->dbi(d), keys[i]));
    }
    return Status::OK();
  });
  if (!st.ok())
    for (size_t i : punched) (*results)[i] = st;
}

Engine::PunchStats Engine::punch_stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return punch_stats_;
}

Status Engine::cont_destroy(const Uuid& cont) {
  if (cont.is_nil()) return Status(EDAOS_INVAL, "nil container uuid");
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  EDAOS_RETURN_IF_ERROR(flush_sizes());   // as in obj_punch
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
    dir_index_.erase(cdir);  // read again (absent: empty) at its next use
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

}  // namespace edaos::objstore::vos

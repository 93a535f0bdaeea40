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

Status Engine::obj_punch(const ShardRef& ref) {
  if (ref.cont.is_nil()) return Status(EDAOS_INVAL, "nil container uuid");
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  // A size record of this shard replayed after the removal would bring its size back: when
  // the log holds one, a removal record follows it (no fold: no LMDB commit, no truncation).
  EDAOS_RETURN_IF_ERROR(log_removal(shard_key(ref)));
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

// The vector calls of the namespace (issue 17): many files of one directory per call. Entries
// go through one KV::run (all inserts or gets in flight at once, group-committed by the
// engines); file data and sizes through up to kDfsVecInFlight threads, each with its own
// array handle (every store call is thread-safe).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "client/local_meta.hpp"
#include "dfs/dfs_internal.hpp"

namespace edaos::objstore {

using namespace dfs;

namespace dfs {

void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  const size_t extra = std::min(threads, n) > 1 ? std::min(threads, n) - 1 : 0;
  for (size_t t = 0; t < extra; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

}  // namespace dfs

Status Dfs::create_files(const DfsObj* parent, std::vector<DfsNewFile>* files,
                         const std::string& oclass, uint64_t chunk_size) {
  if (!files) return Status(EDAOS_INVAL, "create_files: files is null");
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId pdir, parent_oid(*s_, parent));
  EDAOS_ASSIGN_OR_RETURN(DirRecord pdr, creation_dirrec(*s_, pdir, parent));
  EDAOS_ASSIGN_OR_RETURN(ObjClass oc, pick_class(*s_, oclass, pdr.child_oclass, false));
  const uint64_t chunk = chunk_size        ? chunk_size
                         : pdr.child_chunk ? pdr.child_chunk
                                           : s_->cont->props().chunk_size;
  const size_t n = files->size();
  std::vector<Entry> entries(n);
  for (size_t i = 0; i < n; ++i) {
    DfsNewFile& f = (*files)[i];
    f.status = check_name(f.name);
    if (!f.status.ok()) continue;
    for (const struct timespec* t : {&f.atime, &f.mtime})
      if (f.set_times && (t->tv_nsec < 0 || t->tv_nsec >= 1000000000L))
        f.status = Status(EDAOS_INVAL, "time of " + q(f.name) + " out of range");
    if (f.len && !f.data) f.status = Status(EDAOS_INVAL, "no data for " + q(f.name));
    if (!f.status.ok()) continue;
    auto oid = s_->cont->alloc_oid(oc, ObjType::kArray);
    if (!oid.ok()) {
      f.status = oid.status();
      continue;
    }
    entries[i].oid = oid.value();
  }
  // The data first: an entry never names a file whose contents are still coming. Replica and
  // single-shard files share their messages (Container::write_arrays: one message per server
  // rank for up to 256 shard ops instead of a round trip or two per file); EC files, whose
  // writes need their stripe logic, through up to kDfsVecInFlight threads.
  if (oc.kind != ResilKind::kErasure) {
    std::vector<ArrayWrite> ws;
    std::vector<size_t> of;  // ws[j] writes file of[j]
    for (size_t i = 0; i < n; ++i) {
      const DfsNewFile& f = (*files)[i];
      if (!f.status.ok() || f.len == 0) continue;
      ArrayWrite w;
      w.oid = entries[i].oid;
      w.chunk_size = chunk;
      w.data = f.data;
      w.len = f.len;
      ws.push_back(w);
      of.push_back(i);
    }
    (void)s_->cont->write_arrays(&ws);
    for (size_t j = 0; j < ws.size(); ++j) (*files)[of[j]].status = ws[j].status;
  } else {
    parallel_for(n, kDfsVecInFlight, [&](size_t i) {
      DfsNewFile& f = (*files)[i];
      if (!f.status.ok() || f.len == 0) return;
      auto a = s_->cont->open_array(entries[i].oid, chunk);
      f.status = a.ok() ? a.value()->write(0, f.data, f.len) : a.status();
    });
  }
  std::vector<KvOp> ops;
  std::vector<size_t> which;
  const struct timespec t = now();
  for (size_t i = 0; i < n; ++i) {
    DfsNewFile& f = (*files)[i];
    if (!f.status.ok()) continue;
    Entry& e = entries[i];
    e.mode = S_IFREG | (static_cast<uint32_t>(f.mode) & 07777);
    e.uid = static_cast<uint32_t>(geteuid());
    e.gid = static_cast<uint32_t>(getegid());
    e.atime = f.set_times ? f.atime : t;
    e.mtime = f.set_times ? f.mtime : t;
    e.ctime = t;
    e.chunk_size = chunk;
    KvOp op;
    op.kind = KvOp::kPut;
    op.dkey = f.name;
    op.akey = kEntryAkey;
    op.value = encode_entry(e);
    op.flags = KV::kInsertOnly;
    ops.push_back(std::move(op));
    which.push_back(i);
  }
  if (!ops.empty()) {
    EDAOS_ASSIGN_OR_RETURN(auto pkv, kv(*s_, pdir));
    (void)pkv->run(&ops);
  }
  std::vector<size_t> undo;  // files whose data was written but whose entry was not inserted
  for (size_t k = 0; k < ops.size(); ++k) {
    DfsNewFile& f = (*files)[which[k]];
    f.status = ops[k].status.code() == EDAOS_EXIST
                   ? Status(EDAOS_EXIST, "entry " + q(f.name) + " exists")
                   : ops[k].status;
    if (f.status.ok()) {
      f.oid = entries[which[k]].oid;
      s_->names.note(pdir, f.name, entries[which[k]]);
    }
    if (!f.status.ok() && f.len) undo.push_back(which[k]);
  }
  parallel_for(undo.size(), kDfsVecInFlight, [&](size_t k) {
    auto a = s_->cont->open_array(entries[undo[k]].oid, chunk);
    if (a.ok()) (void)a.value()->destroy();  // else leaked: `fs check` finds it
  });
  for (const DfsNewFile& f : *files)
    if (!f.status.ok()) return f.status;
  return Status::OK();
}

Status Dfs::stat_names(const DfsObj* parent, const std::vector<std::string>& names,
                       std::vector<DfsStat>* st, std::vector<Status>* status) {
  if (!st || !status) return Status(EDAOS_INVAL, "stat_names: null output");
  EDAOS_ASSIGN_OR_RETURN(ObjectId pdir, parent_oid(*s_, parent));
  const size_t n = names.size();
  st->assign(n, DfsStat{});
  status->assign(n, Status::OK());
  std::vector<KvOp> ops;
  std::vector<size_t> which;
  std::vector<NameCache::Guess> guess(n);
  std::vector<size_t> known;
  // Session 10: entries and sizes read on this node (client/local_meta.hpp) need no message.
  std::vector<KvOp> local_ops;
  std::vector<size_t> local_which;
  std::unique_ptr<KV> dir_kv;
  if (client::local_meta_enabled()) {
    EDAOS_ASSIGN_OR_RETURN(dir_kv, kv(*s_, pdir));
  }
  for (size_t i = 0; i < n; ++i) {
    (*status)[i] = check_name(names[i]);
    if (!(*status)[i].ok()) continue;
    KvOp op;
    op.kind = KvOp::kGet;
    op.dkey = names[i];
    op.akey = kEntryAkey;
    if (dir_kv) {
      KvOp lop;
      lop.kind = KvOp::kGetArraySize;
      lop.dkey = names[i];
      lop.akey = kEntryAkey;
      lop.oid_off = kEntryOidOff;
      if (client::kv_local_get(*dir_kv, &lop)) {
        local_ops.push_back(std::move(lop));
        local_which.push_back(i);
        continue;
      }
    }
    if (s_->names.find(pdir, names[i], &guess[i])) {
      known.push_back(i);
    } else {
      // A name this mount never saw: its server may give the size with the entry (session 8).
      op.kind = KvOp::kGetArraySize;
      op.oid_off = kEntryOidOff;
    }
    ops.push_back(std::move(op));
    which.push_back(i);
  }
  // The entries' gets go out first; the sizes of the files this mount knows under those names
  // are asked meanwhile (NameCache: kept only where the entry still names that file).
  std::vector<char> guessed(n, 0);  // written by several threads: not vector<bool>
  std::vector<Result<uint64_t>> gsize(n, Status(EDAOS_INVAL, "no size"));
  if (!ops.empty()) {
    EDAOS_ASSIGN_OR_RETURN(auto d, kv(*s_, pdir));
    auto req = d->start(&ops);
    parallel_for(known.size(), kDfsVecInFlight, [&](size_t k) {
      const size_t i = known[k];
      auto a = s_->cont->open_array(guess[i].oid, guess[i].chunk);
      gsize[i] = a.ok() ? a.value()->get_size() : Result<uint64_t>(a.status());
      guessed[i] = 1;
    });
    (void)req->wait();
  }
  std::vector<Entry> entries(n);
  std::vector<char> sized(n, 0);
  for (size_t k = 0; k < local_ops.size(); ++k) {
    ops.push_back(std::move(local_ops[k]));
    which.push_back(local_which[k]);
  }
  for (size_t k = 0; k < ops.size(); ++k) {
    const size_t i = which[k];
    if (ops[k].status.code() == EDAOS_NONEXIST) {
      s_->names.forget(pdir, names[i]);
      (*status)[i] = Status(EDAOS_NONEXIST, "no entry " + q(names[i]));
      continue;
    }
    if (!ops[k].status.ok()) {
      (*status)[i] = ops[k].status;
      continue;
    }
    auto e = decode_entry(ops[k].value);
    if (e.ok()) entries[i] = std::move(e).value();
    (*status)[i] = e.status();
    if (!e.ok()) continue;
    s_->names.note(pdir, names[i], entries[i]);
    if (ops[k].kind == KvOp::kGetArraySize) {
      // The size of the file this very entry names, read after it by its server.
      if (!S_ISREG(entries[i].mode) || !ops[k].size_known) continue;
      count_sized();
      sized[i] = 1;
      (*st)[i] = stat_fields(entries[i]);
      (*st)[i].size = ops[k].size;
      continue;
    }
    if (!guessed[i]) continue;
    const Entry& en = entries[i];
    const bool hit = S_ISREG(en.mode) && en.oid == guess[i].oid && en.chunk_size == guess[i].chunk;
    count_stat(hit);
    if (!hit) continue;
    sized[i] = 1;
    if (!gsize[i].ok()) {
      (*status)[i] = gsize[i].status();
      continue;
    }
    (*st)[i] = stat_fields(en);
    (*st)[i].size = gsize[i].value();
  }
  parallel_for(n, kDfsVecInFlight, [&](size_t i) {
    if (!(*status)[i].ok() || sized[i]) return;
    auto s = stat_of(*s_, entries[i]);
    if (s.ok()) (*st)[i] = std::move(s).value();
    (*status)[i] = s.status();
  });
  for (const Status& s : *status)
    if (!s.ok()) return s;
  return Status::OK();
}

}  // namespace edaos::objstore

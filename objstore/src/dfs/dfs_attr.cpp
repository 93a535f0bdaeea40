// The POSIX namespace: attributes and directory listing. This file owns stat (size from the
// array for files), readdir/readdirplus with its anchor, chmod/chown/utimens on the entry record,
// and the per-directory class and chunk size for new children (set_dir_attr, get_layout).
#include <atomic>
#include <vector>

#include "client/local_meta.hpp"
#include "dfs/dfs_internal.hpp"

namespace edaos::objstore {

using namespace dfs;

namespace {

Result<std::vector<DfsDirent>> readdir_at(const MountState& m, ObjectId dir, DfsAnchor* anchor,
                                          uint32_t max, bool plus) {
  EDAOS_RETURN_IF_ERROR(check_mounted(m));
  if (!anchor) return Status(EDAOS_INVAL, "readdir: anchor is null");
  if (max == 0) return Status(EDAOS_INVAL, "readdir: max is 0");
  std::vector<DfsDirent> out;
  while (out.empty() && !anchor->eof) {
    bool eof = false;
    EDAOS_ASSIGN_OR_RETURN(auto names, list_names(m, dir, anchor->last, max, &eof));
    for (auto& n : names) {
      anchor->last = n;
      auto e = get_entry(m, dir, n);
      if (!e.ok()) {
        if (e.status().code() == EDAOS_NONEXIST) continue;  // removed meanwhile
        return e.status();
      }
      DfsDirent d;
      d.name = n;
      d.mode = static_cast<mode_t>(e->mode);
      d.oid = e->oid;
      if (plus) {
        auto s = stat_of(m, e.value());
        if (!s.ok()) return s.status();
        d.st = s.value();
      }
      out.push_back(std::move(d));
    }
    anchor->eof = eof;
  }
  return out;
}

Status do_chmod(const MountState& m, ObjectId dir, const std::string& name, mode_t mode) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  return update_entry(m, dir, name, [&](Entry& e) {
    e.mode = (e.mode & S_IFMT) | (static_cast<uint32_t>(mode) & 07777);
    e.ctime = now();
    return true;
  });
}

Status do_chown(const MountState& m, ObjectId dir, const std::string& name, uint32_t uid,
                uint32_t gid) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  return update_entry(m, dir, name, [&](Entry& e) {
    if (uid != static_cast<uint32_t>(-1)) e.uid = uid;
    if (gid != static_cast<uint32_t>(-1)) e.gid = gid;
    e.ctime = now();
    return true;
  });
}

Status do_utimens(const MountState& m, ObjectId dir, const std::string& name,
                  const struct timespec* atime, const struct timespec* mtime) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  for (const struct timespec* t : {atime, mtime})
    if (t && (t->tv_nsec < 0 || t->tv_nsec >= 1000000000L))
      return Status(EDAOS_INVAL, "utimens: tv_nsec out of range");
  return update_entry(m, dir, name, [&](Entry& e) {
    if (atime) e.atime = *atime;
    if (mtime) e.mtime = *mtime;
    e.ctime = now();
    return true;
  });
}

Status set_dir_attr_at(const MountState& m, ObjectId dir, const std::string& oclass,
                       uint64_t chunk_size, const std::string& ctx) {
  std::string canon;
  if (!oclass.empty()) {
    auto oc = ObjClass::parse(oclass);
    if (!oc.ok()) return oc.status().with_context(ctx);
    Status st = validate_for_pool(oc.value(), m.cont->pool_map());
    if (st.ok()) st = validate_for_rd_fac(oc.value(), static_cast<int>(m.cont->props().rd_fac));
    if (!st.ok()) return st.with_context(ctx);
    canon = oc->name();
  }
  bool exists = false;
  EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(m, dir, &exists));
  dr.child_oclass = canon;
  if (chunk_size) dr.child_chunk = chunk_size;
  EDAOS_ASSIGN_OR_RETURN(auto k, kv(m, dir));
  Status st = k->put(kDotDot, kDirAkey, encode_dir(dr), exists ? uint32_t{KV::kUpdateOnly} : 0u);
  // Handles of this mount drop their cached records (also after a failed put: it may have landed).
  m.dirattr_gen.fetch_add(1);
  return st;
}

}  // namespace

namespace dfs {

// Names in a directory after `anchor`, without "..".
Result<std::vector<std::string>> list_names(const MountState& m, ObjectId dir,
                                            const std::string& anchor, uint32_t max, bool* eof) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  std::string a = anchor;
  for (;;) {
    EDAOS_ASSIGN_OR_RETURN(auto keys, d->list_dkeys(a, max, eof));
    std::vector<std::string> out;
    for (auto& k : keys)
      if (k != kDotDot) out.push_back(k);
    if (!out.empty() || *eof || keys.empty()) return out;
    a = keys.back();
  }
}

Result<DfsStat> stat_of(const MountState& m, const Entry& e) {
  DfsStat s = stat_fields(e);
  if (S_ISREG(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto a, m.cont->open_array(e.oid, e.chunk_size));
    EDAOS_ASSIGN_OR_RETURN(s.size, a->get_size());
  }
  return s;
}

namespace {
std::atomic<uint64_t> g_stat_hits{0}, g_stat_misses{0};
std::atomic<uint64_t> g_stat_sized{0};  // names never seen, sized with their entry (session 8)
}  // namespace

void count_stat(bool hit) { (hit ? g_stat_hits : g_stat_misses).fetch_add(1); }
void count_sized() { g_stat_sized.fetch_add(1); }

// The stat of `name` from a kGetArraySize of its entry (from the server or from this node).
Result<DfsStat> stat_sized_entry(const MountState& m, ObjectId dir, const std::string& name,
                                 const KvOp& op) {
  if (!op.status.ok()) {
    if (op.status.code() != EDAOS_NONEXIST) return op.status;
    m.names.forget(dir, name);
    return Status(EDAOS_NONEXIST, "no entry " + q(name));
  }
  EDAOS_ASSIGN_OR_RETURN(Entry e, decode_entry(op.value));
  m.names.note(dir, name, e);
  // The size read by the server is the size of the OID at kEntryOidOff of this very record
  // (an OID is never reused): the entry's object, read after the entry.
  const bool given = S_ISREG(e.mode) && op.size_known;
  if (!given) return stat_of(m, e);
  count_sized();
  DfsStat s = stat_fields(e);
  s.size = op.size;
  return s;
}

// A name the mount does not know (session 8): the entry's get asks the server holding it for
// the size of the file the entry names too (KvOp::kGetArraySize, the OID at kEntryOidOff).
// When every shard of that file lives on the same server rank, the server reads the entry and
// then the file's shard sizes in one pass: one round trip. Otherwise (shards on other server
// ranks, an engine down there, a directory or a link) the size is asked as before: two.
Result<DfsStat> stat_unseen(const MountState& m, ObjectId dir, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  std::vector<KvOp> ops(1);
  ops[0].kind = KvOp::kGetArraySize;
  ops[0].dkey = name;
  ops[0].akey = kEntryAkey;
  ops[0].oid_off = kEntryOidOff;
  (void)d->run(&ops);
  return stat_sized_entry(m, dir, name, ops[0]);
}

// Session 10: the entry and the size of the file it names read on this node, from the engines'
// metadata (client/local_meta.hpp), when the entry's engine and every shard of the file are
// here: no message at all. False: nothing settled (the caller asks the servers). Session 12:
// without a KV handle (client::kv_local_get_at keeps the directory's layout per thread), so a
// warm local stat opens no handle and computes no layout for the directory.
bool stat_local(const MountState& m, ObjectId dir, const std::string& name, Result<DfsStat>* out) {
  if (!client::local_meta_enabled()) return false;
  auto cs = m.cont->state();
  if (!cs) return false;
  KvOp op;
  op.kind = KvOp::kGetArraySize;
  op.dkey = name;
  op.akey = kEntryAkey;
  op.oid_off = kEntryOidOff;
  if (!client::kv_local_get_at(*cs, dir, &op)) return false;
  *out = stat_sized_entry(m, dir, name, op);
  return true;
}

Result<DfsStat> stat_entry(const MountState& m, ObjectId dir, const std::string& name) {
  Result<DfsStat> local = Status(EDAOS_INVAL, "not read");
  if (stat_local(m, dir, name, &local)) return local;
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  NameCache::Guess g;
  if (!m.names.find(dir, name, &g)) return stat_unseen(m, dir, name);
  // The entry get goes out first, then the guessed file's size query; the wait for the size
  // reply covers both round trips at once.
  std::vector<KvOp> ops(1);
  ops[0].kind = KvOp::kGet;
  ops[0].dkey = name;
  ops[0].akey = kEntryAkey;
  auto req = d->start(&ops);
  auto a = m.cont->open_array(g.oid, g.chunk);
  Result<uint64_t> size = a.ok() ? a.value()->get_size() : Result<uint64_t>(a.status());
  Status st = req->wait();
  if (!st.ok()) {
    count_stat(false);
    if (st.code() != EDAOS_NONEXIST) return st;
    m.names.forget(dir, name);
    return Status(EDAOS_NONEXIST, "no entry " + q(name));
  }
  EDAOS_ASSIGN_OR_RETURN(Entry e, decode_entry(ops[0].value));
  m.names.note(dir, name, e);
  // The size belongs to the entry only when the entry names the guessed file (an OID is never
  // reused, so the size was asked of exactly this object, at the same time as the entry).
  const bool hit = S_ISREG(e.mode) && e.oid == g.oid && e.chunk_size == g.chunk;
  count_stat(hit);
  if (!hit) return stat_of(m, e);
  if (!size.ok()) return size.status();
  DfsStat s = stat_fields(e);
  s.size = size.value();
  return s;
}

DfsStat stat_fields(const Entry& e) {
  DfsStat s;
  s.mode = static_cast<mode_t>(e.mode);
  s.uid = e.uid;
  s.gid = e.gid;
  s.atime = e.atime;
  s.mtime = e.mtime;
  s.ctime = e.ctime;
  s.oid = e.oid;
  s.nlink = S_ISDIR(e.mode) ? 2 : 1;
  if (S_ISLNK(e.mode)) {
    s.size = e.symlink.size();
    s.oclass = ObjClass{};
    s.oclass.data = 0;
    s.oclass.groups = 0;
    return s;
  }
  s.oclass = oclass_of(e.oid);
  s.chunk_size = e.chunk_size;
  return s;
}

}  // namespace dfs

Result<std::vector<DfsDirent>> Dfs::readdir(const DfsObj* dir, DfsAnchor* anchor, uint32_t max,
                                            bool plus) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, dir));
  return readdir_at(*s_, p, anchor, max, plus);
}

Result<std::vector<DfsDirent>> Dfs::readdir(const std::string& path, DfsAnchor* anchor,
                                            uint32_t max, bool plus) {
  auto d = resolve_dir(*s_, path);
  if (!d.ok()) return d.status().with_context("readdir " + path);
  return readdir_at(*s_, d.value(), anchor, max, plus);
}

Result<DfsStat> Dfs::stat(const DfsObj* parent, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return stat_entry(*s_, p, name);
}

Result<DfsStat> Dfs::stat(const std::string& path, bool follow) {
  // The parent walk, then the last component's entry and size at once: a name the mount
  // guesses (NameCache) asks both together, one it never saw asks the entry's server for the
  // size too (stat_unseen). A symbolic link at the end (to follow), a trailing '/' and a walk
  // that fails go through resolve as before.
  if (!path.empty() && path.back() != '/') {
    auto [dir, base] = dir_base(path);
    if (!base.empty() && check_name(base).ok() && split_path(path).ok()) {
      auto d = resolve_dir(*s_, dir);
      if (d.ok()) {
        auto r = stat_entry(*s_, d.value(), base);
        if (!r.ok()) return r.status().with_context("stat " + path);
        if (!follow || !S_ISLNK(r->mode)) return r;
      }
    }
  }
  auto l = resolve(*s_, path, follow);
  if (!l.ok()) return l.status().with_context("stat " + path);
  return stat_of(*s_, l->e);
}

Status Dfs::chmod(const DfsObj* parent, const std::string& name, mode_t mode) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return do_chmod(*s_, p, name, mode);
}

Status Dfs::chmod(const std::string& path, mode_t mode) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(Loc l, resolve(*s_, path, true));
  return do_chmod(*s_, l.dir, l.name, mode);
}

Status Dfs::chown(const DfsObj* parent, const std::string& name, uint32_t uid, uint32_t gid) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return do_chown(*s_, p, name, uid, gid);
}

Status Dfs::chown(const std::string& path, uint32_t uid, uint32_t gid, bool follow) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(Loc l, resolve(*s_, path, follow));
  return do_chown(*s_, l.dir, l.name, uid, gid);
}

Status Dfs::utimens(const DfsObj* parent, const std::string& name, const struct timespec* atime,
                    const struct timespec* mtime) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return do_utimens(*s_, p, name, atime, mtime);
}

Status Dfs::utimens(const std::string& path, const struct timespec* atime,
                    const struct timespec* mtime, bool follow) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(Loc l, resolve(*s_, path, follow));
  return do_utimens(*s_, l.dir, l.name, atime, mtime);
}

Status Dfs::set_dir_attr(const std::string& path, const std::string& oclass, uint64_t chunk_size) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  auto ctx = "set-attr " + path;
  auto d = resolve_dir(*s_, path);
  if (!d.ok()) return d.status().with_context(ctx);
  return set_dir_attr_at(*s_, d.value(), oclass, chunk_size, ctx);
}

Status Dfs::set_dir_attr(const DfsObj& dir, const std::string& oclass, uint64_t chunk_size) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId d, parent_oid(*s_, &dir));
  return set_dir_attr_at(*s_, d, oclass, chunk_size, "set-attr " + q(dir.name()));
}

Result<DfsLayout> Dfs::get_layout(const DfsObj& obj) {
  EDAOS_RETURN_IF_ERROR(check_mounted(*s_));
  if (obj.state()->m.get() != s_.get())
    return Status(EDAOS_INVAL, "handle belongs to another mount");
  if (obj.is_symlink()) return Status(EDAOS_INVAL, q(obj.name()) + " is a symbolic link");
  DfsLayout out;
  out.oid = obj.oid();
  out.oclass = obj.oclass();
  out.chunk_size = obj.chunk_size();
  if (obj.is_dir()) {
    EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(*s_, obj.oid()));
    out.child_oclass = dr.child_oclass;
    out.child_chunk_size = dr.child_chunk;
  }
  return out;
}

DfsMetaStats dfs_meta_stats() {
  DfsMetaStats s;
  s.stat_hits = dfs::g_stat_hits.load();
  s.stat_misses = dfs::g_stat_misses.load();
  s.stat_sized = dfs::g_stat_sized.load();
  return s;
}

Result<DfsLayout> Dfs::get_layout(const std::string& path, bool follow) {
  auto l = resolve(*s_, path, follow);
  if (!l.ok()) return l.status().with_context("get-attr " + path);
  if (S_ISLNK(l->e.mode)) return Status(EDAOS_INVAL, q(path) + " is a symbolic link");
  DfsLayout out;
  out.oid = l->e.oid;
  out.oclass = oclass_of(l->e.oid);
  out.chunk_size = l->e.chunk_size;
  if (S_ISDIR(l->e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(*s_, l->e.oid));
    out.child_oclass = dr.child_oclass;
    out.child_chunk_size = dr.child_chunk;
  }
  return out;
}

}  // namespace edaos::objstore

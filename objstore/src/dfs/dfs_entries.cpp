// The POSIX namespace: creating, opening, removing and renaming entries. This file owns the
// object class and chunk size a new entry gets (call, then the parent directory's attributes,
// then the container's properties), exclusive creation (insert-only, so concurrent creators see
// exactly one winner), open with O_CREAT/O_EXCL/O_TRUNC, remove (recursive with force) and
// rename (new name first, then the old one removed: never lost, at worst named twice), and
// link_object. The write order of each operation is what makes a crash leave a checkable state.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "dfs/dfs_internal.hpp"
#include "runtime/runtime.hpp"

EDAOS_LOG_FACILITY(dfs);

namespace edaos::objstore {

using namespace dfs;

namespace {

bool is_zero(ObjectId o) { return o.hi == 0 && o.lo == 0; }

uint32_t type_of(mode_t mode) {
  uint32_t t = static_cast<uint32_t>(mode) & S_IFMT;
  return t == 0 ? S_IFREG : t;
}

// Creates entry `name` in `pdir` exclusively. EDAOS_EXIST if it is there (from any rank).
// `parent`: the caller's handle on pdir (its cached directory record is used), or null.
Result<Loc> create_entry(const MountState& m, ObjectId pdir, const DfsObj* parent,
                         const std::string& name, mode_t mode, const std::string& oclass,
                         uint64_t chunk, const std::string& target) {
  Entry e;
  const uint32_t type = type_of(mode);
  if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK)
    return Status(EDAOS_INVAL, "mode " + std::to_string(mode) +
                                   ": only files, directories and "
                                   "symbolic links can be created");
  e.mode = type | (static_cast<uint32_t>(mode) & 07777);
  e.uid = static_cast<uint32_t>(geteuid());
  e.gid = static_cast<uint32_t>(getegid());
  e.atime = e.mtime = e.ctime = now();
  EDAOS_ASSIGN_OR_RETURN(auto pkv, kv(m, pdir));
  std::unique_ptr<KV> newdir;
  if (type == S_IFLNK) {
    if (target.empty()) return Status(EDAOS_INVAL, "symbolic link " + q(name) + " needs a target");
    if (target.size() > kDfsMaxPath)
      return Status(EDAOS_NAMETOOLONG,
                    "symbolic link target longer than " + std::to_string(kDfsMaxPath) + " bytes");
    e.symlink = target;
  } else {
    EDAOS_ASSIGN_OR_RETURN(DirRecord pdr, creation_dirrec(m, pdir, parent));
    EDAOS_ASSIGN_OR_RETURN(ObjClass oc, pick_class(m, oclass, pdr.child_oclass, type == S_IFDIR));
    EDAOS_ASSIGN_OR_RETURN(
        e.oid, m.cont->alloc_oid(oc, type == S_IFDIR ? ObjType::kMultiLevel : ObjType::kArray));
    if (type == S_IFREG) {
      e.chunk_size = chunk ? chunk : pdr.child_chunk ? pdr.child_chunk : m.cont->props().chunk_size;
    } else {
      // The directory's own record goes first: an entry never names a directory without one.
      DirRecord dr{pdir, name, pdr.child_oclass, pdr.child_chunk};
      EDAOS_ASSIGN_OR_RETURN(newdir, kv(m, e.oid));
      EDAOS_RETURN_IF_ERROR(newdir->put(kDotDot, kDirAkey, encode_dir(dr)));
    }
  }
  Status st = pkv->put(name, kEntryAkey, encode_entry(e), KV::kInsertOnly);
  if (!st.ok()) {
    if (newdir) (void)newdir->destroy();
    if (st.code() == EDAOS_EXIST) return Status(EDAOS_EXIST, "entry " + q(name) + " exists");
    return st;
  }
  m.names.note(pdir, name, e);
  return Loc{pdir, name, std::move(e)};
}

Status check_type(uint32_t want, uint32_t have, const std::string& name) {
  if (want == 0 || want == have) return Status::OK();
  if (have == S_IFDIR) return Status(EDAOS_ISDIR, q(name) + " is a directory");
  if (want == S_IFDIR) return Status(EDAOS_NOTDIR, q(name) + " is not a directory");
  return Status(EDAOS_EXIST, q(name) + " exists with another type");
}

Result<std::unique_ptr<DfsObj>> open_at(const std::shared_ptr<MountState>& m, ObjectId pdir,
                                        const DfsObj* parent, const std::string& name, mode_t mode,
                                        int flags, const std::string& oclass, uint64_t chunk,
                                        const std::string& target) {
  EDAOS_RETURN_IF_ERROR(check_mounted(*m));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  const int acc = flags & O_ACCMODE;
  if (acc != O_RDONLY && acc != O_WRONLY && acc != O_RDWR)
    return Status(EDAOS_INVAL, "bad access mode in flags " + std::to_string(flags));
  if (m->rdonly && ((flags & (O_CREAT | O_TRUNC)) || acc != O_RDONLY))
    return Status(EDAOS_RDONLY, "namespace is mounted read-only");
  const uint32_t want = static_cast<uint32_t>(mode) & S_IFMT;
  Loc loc;
  bool created = false;
  if ((flags & O_CREAT) && !(flags & O_EXCL)) {
    // Look first: opening an existing entry costs no OID allocation and ignores the class.
    auto g = get_loc(*m, pdir, name);
    if (g.ok()) {
      loc = std::move(g).value();
    } else if (g.status().code() != EDAOS_NONEXIST) {
      return g.status();
    }
  }
  if (loc.name.empty() && (flags & O_CREAT)) {
    for (int attempt = 0;; ++attempt) {
      auto c = create_entry(*m, pdir, parent, name, mode, oclass, chunk, target);
      if (c.ok()) {
        loc = std::move(c).value();
        created = true;
        break;
      }
      if (c.status().code() != EDAOS_EXIST || (flags & O_EXCL)) return c.status();
      auto g = get_loc(*m, pdir, name);
      if (g.ok()) {
        loc = std::move(g).value();
        break;
      }
      // Removed between our create and our lookup: try again, a few times.
      if (g.status().code() != EDAOS_NONEXIST || attempt >= 3) return g.status();
    }
  } else if (loc.name.empty()) {
    EDAOS_ASSIGN_OR_RETURN(loc, get_loc(*m, pdir, name));
  }
  if (!created) EDAOS_RETURN_IF_ERROR(check_type(want, loc.e.mode & S_IFMT, name));
  EDAOS_ASSIGN_OR_RETURN(auto obj, make_obj(m, loc, flags));
  if (!created && (flags & O_TRUNC) && S_ISREG(loc.e.mode) && acc != O_RDONLY)
    EDAOS_RETURN_IF_ERROR(obj->set_size(0));
  return obj;
}

// only: 0 anything, 1 non-directories (unlink), 2 directories (rmdir).
Status remove_at(const MountState& m, ObjectId pdir, const std::string& name, bool force,
                 ObjectId* oid_out, int only) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  Entry e;
  std::string raw;  // the entry's value as read (the take path)
  if (only == 2) {
    EDAOS_ASSIGN_OR_RETURN(e, get_entry(m, pdir, name));
  } else {
    // Session 8: the entry's server reads it and, when it names a file (a byte array), removes
    // it in the same pass (KvOp::kTakeArray): a file's removal is one round trip, its object
    // destroyed meanwhile (Reaper). Directories and links are left alone and removed below.
    EDAOS_ASSIGN_OR_RETURN(auto dkv, kv(m, pdir));
    std::vector<KvOp> ops(1);
    ops[0].kind = KvOp::kTakeArray;
    ops[0].dkey = name;
    ops[0].akey = kEntryAkey;
    ops[0].oid_off = kEntryOidOff;
    Status st = dkv->run(&ops);
    if (!st.ok()) {
      if (st.code() != EDAOS_NONEXIST) return st;
      m.names.forget(pdir, name);
      return Status(EDAOS_NONEXIST, "no entry " + q(name));
    }
    EDAOS_ASSIGN_OR_RETURN(e, decode_entry(ops[0].value));
    raw = std::move(ops[0].value);
    if (ops[0].taken) {
      m.names.forget(pdir, name);
      if (oid_out) *oid_out = e.oid;
      m.reaper.add(m.cont, e, name);
      return Status::OK();
    }
  }
  if (S_ISDIR(e.mode)) {
    if (only == 1) return Status(EDAOS_ISDIR, q(name) + " is a directory");
    if (force) {
      // Depth first; the listing restarts from the beginning because entries go away.
      for (;;) {
        bool eof = false;
        EDAOS_ASSIGN_OR_RETURN(auto names, list_names(m, e.oid, "", 256, &eof));
        if (names.empty()) break;
        for (auto& n : names) {
          Status st = remove_at(m, e.oid, n, true, nullptr, 0);
          if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
        }
      }
    } else {
      EDAOS_ASSIGN_OR_RETURN(bool empty, dir_empty(m, e.oid));
      if (!empty) return Status(EDAOS_NOTEMPTY, "directory " + q(name) + " is not empty");
    }
  } else if (only == 2) {
    return Status(EDAOS_NOTDIR, q(name) + " is not a directory");
  }
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, pdir));
  m.names.forget(pdir, name);
  if (const char* f = std::getenv("EDAOS_TEST_FAULT"); f && std::strcmp(f, "dfs-remove-pause") == 0)
    std::this_thread::sleep_for(std::chrono::seconds(1));  // tests: a rename gets in between
  // Session 9: a guarded removal (KvOp::kRemove with a value), so a rename that put another
  // entry under the name since the read above keeps it: the entry goes only while it still
  // names the object read (a link, whose OID is zero: while it is the value read).
  std::vector<KvOp> rm(1);
  rm[0].kind = KvOp::kRemove;
  rm[0].dkey = name;
  rm[0].akey = kEntryAkey;
  if (is_zero(e.oid) && !raw.empty()) {
    rm[0].oid_off = 0;
    rm[0].value = raw;
  } else {
    rm[0].oid_off = kEntryOidOff;
    rm[0].value = encode_oid(e.oid);
  }
  Status st = d->run(&rm);
  if (!st.ok()) {
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no entry " + q(name));
    // Replaced meanwhile (a rename onto the name, which destroys the object it replaced): this
    // removal took effect just before it.
    if (st.code() == EDAOS_EXIST) return Status::OK();
    return st;
  }
  if (oid_out) *oid_out = e.oid;
  // The entry is gone: the object is destroyed in the background (Reaper); a failure there
  // leaks it (fs check finds it).
  m.reaper.add(m.cont, e, name);
  return Status::OK();
}

Status rename_at(const MountState& m, ObjectId sdir, const std::string& sname, ObjectId ddir,
                 const std::string& dname) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  EDAOS_RETURN_IF_ERROR(check_name(sname));
  EDAOS_RETURN_IF_ERROR(check_name(dname));
  EDAOS_ASSIGN_OR_RETURN(Entry src, get_entry(m, sdir, sname));
  if (sdir == ddir && sname == dname) return Status::OK();
  auto dst = get_entry(m, ddir, dname);
  if (!dst.ok() && dst.status().code() != EDAOS_NONEXIST) return dst.status();
  const bool replacing = dst.ok();
  if (replacing) {
    if (!is_zero(src.oid) && dst->oid == src.oid) return Status::OK();
    if (S_ISDIR(src.mode)) {
      if (!S_ISDIR(dst->mode)) return Status(EDAOS_NOTDIR, q(dname) + " is not a directory");
      EDAOS_ASSIGN_OR_RETURN(bool empty, dir_empty(m, dst->oid));
      if (!empty) return Status(EDAOS_NOTEMPTY, "directory " + q(dname) + " is not empty");
    } else if (S_ISDIR(dst->mode)) {
      return Status(EDAOS_ISDIR, q(dname) + " is a directory");
    }
  }
  if (S_ISDIR(src.mode)) {
    // Refuse to move a directory below itself: walk up from the destination.
    ObjectId cur = ddir;
    for (int depth = 0; cur != m.root_oid && !is_zero(cur) && depth < 100000; ++depth) {
      if (cur == src.oid)
        return Status(EDAOS_INVAL, "cannot move directory " + q(sname) + " below itself");
      EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(m, cur));
      cur = dr.parent;
    }
  }
  src.ctime = now();
  // (1) new name, (2) old name removed, (3) the directory's back pointer, (4) replaced object.
  EDAOS_ASSIGN_OR_RETURN(auto dkv, kv(m, ddir));
  EDAOS_RETURN_IF_ERROR(dkv->put(dname, kEntryAkey, encode_entry(src)));
  m.names.forget(sdir, sname);
  m.names.note(ddir, dname, src);
  EDAOS_ASSIGN_OR_RETURN(auto skv, kv(m, sdir));
  Status st = skv->remove(sname, "");
  // NONEXIST: another rank renamed or removed the source meanwhile. Undoing our new name could
  // lose the entry (the other rank may have written the same name), so it stays: at worst the
  // object is named twice, which `fs check` reports. Never lost.
  if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
  if (S_ISDIR(src.mode)) {
    bool exists = false;
    EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(m, src.oid, &exists));
    dr.parent = ddir;
    dr.name = dname;
    EDAOS_ASSIGN_OR_RETURN(auto sub, kv(m, src.oid));
    EDAOS_RETURN_IF_ERROR(sub->put(kDotDot, kDirAkey, encode_dir(dr)));
  }
  if (replacing) {
    Status ds = destroy_object(m, dst.value());
    if (!ds.ok())
      EDAOS_LOG_ST(warn, ds, "rename over %s: object %s leaked", dname.c_str(),
                   dst->oid.to_string().c_str());
  }
  return Status::OK();
}

Status remove_path(const MountState& m, const std::string& path, bool force, ObjectId* oid_out,
                   int only, const char* verb) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  auto p = parent_of(m, path);
  Status st = p.ok() ? remove_at(m, p->first, p->second, force, oid_out, only) : p.status();
  return st.ok() ? st : st.with_context(std::string(verb) + " " + path);
}

}  // namespace

namespace dfs {

Result<bool> dir_empty(const MountState& m, ObjectId dir) {
  bool eof = false;
  EDAOS_ASSIGN_OR_RETURN(auto names, list_names(m, dir, "", 1, &eof));
  return names.empty();
}

Status destroy_object(Container& c, const Entry& e) {
  if (S_ISREG(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto a, c.open_array(e.oid, e.chunk_size));
    return a->destroy();
  }
  if (S_ISDIR(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto d, c.open_kv(e.oid));
    return d->destroy();
  }
  return Status::OK();
}

bool Reaper::enabled() {
  static const bool on = [] {
    const char* v = std::getenv("EDAOS_DFS_BACKGROUND_DESTROY");
    return !(v && std::string(v) == "0");
  }();
  return on;
}

namespace {
// Every live Reaper of the process, for drain_all (objstore::finalize). Never destroyed: a
// Reaper may outlive static destruction (a mount kept by a static).
struct Reapers {
  std::mutex mu;
  std::set<Reaper*> live;
};
Reapers& reapers() {
  static Reapers* r = new Reapers;
  return *r;
}
}  // namespace

Reaper::Reaper() {
  Reapers& r = reapers();
  std::lock_guard<std::mutex> g(r.mu);
  r.live.insert(this);
  client::set_finalize_drain(&Reaper::drain_all);
}

void Reaper::drain_all() {
  Reapers& r = reapers();
  std::lock_guard<std::mutex> g(r.mu);  // a Reaper leaves the set before it goes
  for (Reaper* x : r.live) x->drain();
}

namespace {
// Objects of one destroy message (session 12): the removes queued meanwhile share one kShardVec
// per server rank, and each engine removes their shards in one write transaction.
constexpr size_t kReapBatch = 32;
// How long the thread lets removes queue up before it sends fewer than kReapBatch (the
// destroy is in the background: nobody waits for it except drain(), at most this long):
// $EDAOS_DFS_REAP_GATHER_US, default 2000 us (read per batch, so a test can change it).
std::chrono::microseconds reap_gather() {
  const char* v = std::getenv("EDAOS_DFS_REAP_GATHER_US");
  const long us = v && *v ? std::strtol(v, nullptr, 10) : 2000;
  return std::chrono::microseconds(std::clamp(us, 0L, 10'000'000L));
}
}  // namespace

Reaper::~Reaper() {
  {
    Reapers& r = reapers();
    std::lock_guard<std::mutex> g(r.mu);
    r.live.erase(this);
  }
  drain();
  std::unique_lock<std::mutex> lk(mu_);
  if (!th_.joinable()) return;
  stop_ = true;
  lk.unlock();
  work_cv_.notify_one();
  hurry_cv_.notify_one();
  th_.join();
}

void Reaper::add(std::shared_ptr<Container> cont, const Entry& e, const std::string& name) {
  if (!S_ISREG(e.mode) && !S_ISDIR(e.mode)) return;
  std::unique_lock<std::mutex> lk(mu_);
  if (q_.size() >= kMaxQueued || !enabled()) {
    lk.unlock();
    Status ds = destroy_object(*cont, e);
    if (!ds.ok())
      EDAOS_LOG_ST(warn, ds, "remove %s: object %s leaked", name.c_str(),
                   e.oid.to_string().c_str());
    return;
  }
  q_.push_back(Item{std::move(cont), e, name});
  if (!th_.joinable()) th_ = std::thread([this] { loop(); });
  const bool full = q_.size() >= kReapBatch;
  lk.unlock();
  work_cv_.notify_one();
  if (full) hurry_cv_.notify_one();
}

void Reaper::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  ++draining_;
  hurry_cv_.notify_one();
  idle_cv_.wait(lk, [&] { return q_.empty() && busy_ == 0; });
  --draining_;
}

void Reaper::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] { return stop_ || !q_.empty(); });
    if (q_.empty()) return;  // stop_
    const auto gather = reap_gather();
    if (q_.size() < kReapBatch && !stop_ && draining_ == 0 && gather.count() > 0) {
      // Not on work_cv_: each add() notifies it, and waking per remove is what the batch
      // saves. A drain() (a sync or close right after removes) ends the pause at once.
      hurry_cv_.wait_for(lk, gather,
                         [&] { return stop_ || draining_ > 0 || q_.size() >= kReapBatch; });
    }
    std::vector<Item> batch;
    while (!q_.empty() && batch.size() < kReapBatch) {
      batch.push_back(std::move(q_.front()));
      q_.pop_front();
    }
    const size_t taken = batch.size();
    busy_ += taken;
    lk.unlock();
    // One destroy per container (a mount has one; the items carry it).
    for (size_t i = 0; i < batch.size();) {
      size_t j = i;
      std::vector<ObjectId> oids;
      while (j < batch.size() && batch[j].cont == batch[i].cont) oids.push_back(batch[j++].e.oid);
      std::vector<Status> res;
      (void)client::destroy_objects(batch[i].cont->state(), oids, &res);
      for (size_t k = i; k < j; ++k)
        if (!res[k - i].ok())
          EDAOS_LOG_ST(warn, res[k - i], "remove %s: object %s leaked", batch[k].name.c_str(),
                       batch[k].e.oid.to_string().c_str());
      i = j;
    }
    batch.clear();  // the containers' references go before the count does
    lk.lock();
    busy_ -= taken;
    if (q_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

Result<ObjClass> pick_class(const MountState& m, const std::string& given,
                            const std::string& inherited, bool dir) {
  std::string s = given.empty() ? inherited : given;
  const ContainerProps& p = m.cont->props();
  if (s.empty()) s = dir ? p.dir_oclass : p.file_oclass;
  if (s.empty()) s = p.oclass;
  if (s.empty()) return default_oclass(static_cast<int>(p.rd_fac), dir, m.cont->pool_map());
  return ObjClass::parse(s);
}

}  // namespace dfs

Status Dfs::link_object(const std::string& path, ObjectId oid, mode_t mode, uint64_t chunk_size) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  const auto ctx = "link " + path + " -> " + oid.to_string();
  if (is_zero(oid)) return Status(EDAOS_INVAL, ctx + ": zero object ID");
  const ObjType t = otype_of(oid);
  if (t == ObjType::kFlatKV)
    return Status(EDAOS_INVAL, ctx + ": a flat KV is not a namespace object");
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context(ctx);
  Entry e;
  e.mode = (t == ObjType::kArray ? S_IFREG : S_IFDIR) | (static_cast<uint32_t>(mode) & 07777);
  e.oid = oid;
  e.uid = static_cast<uint32_t>(geteuid());
  e.gid = static_cast<uint32_t>(getegid());
  e.atime = e.mtime = e.ctime = now();
  if (t == ObjType::kArray) e.chunk_size = chunk_size ? chunk_size : s_->cont->props().chunk_size;
  EDAOS_ASSIGN_OR_RETURN(auto pkv, kv(*s_, p->first));
  Status st = pkv->put(p->second, kEntryAkey, encode_entry(e), KV::kInsertOnly);
  if (!st.ok()) return st.with_context(ctx);
  if (t != ObjType::kArray) {
    EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(*s_, oid));
    dr.parent = p->first;
    dr.name = p->second;
    EDAOS_ASSIGN_OR_RETURN(auto sub, kv(*s_, oid));
    EDAOS_RETURN_IF_ERROR(sub->put(kDotDot, kDirAkey, encode_dir(dr)));
  }
  return Status::OK();
}

Result<std::unique_ptr<DfsObj>> Dfs::open(const DfsObj* parent, const std::string& name,
                                          mode_t mode, int flags, const std::string& oclass,
                                          uint64_t chunk_size, const std::string& symlink_target) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  return open_at(s_, p, parent, name, mode, flags, oclass, chunk_size, symlink_target);
}

Result<std::unique_ptr<DfsObj>> Dfs::open(const std::string& path, mode_t mode, int flags,
                                          const std::string& oclass, uint64_t chunk_size,
                                          const std::string& symlink_target) {
  EDAOS_RETURN_IF_ERROR(check_mounted(*s_));
  EDAOS_RETURN_IF_ERROR(split_path(path).status().with_context("open " + path));
  if (dir_base(path).second.empty()) {  // the root itself
    if ((flags & O_CREAT) && (flags & O_EXCL))
      return Status(EDAOS_EXIST, "open /: the root exists");
    return lookup(path, flags);
  }
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context("open " + path);
  auto r =
      open_at(s_, p->first, nullptr, p->second, mode, flags, oclass, chunk_size, symlink_target);
  if (!r.ok()) return r.status().with_context("open " + path);
  return r;
}

Status Dfs::mkdir(const DfsObj* parent, const std::string& name, mode_t mode,
                  const std::string& oclass) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return create_entry(*s_, p, parent, name, S_IFDIR | (mode & 07777), oclass, 0, "").status();
}

Status Dfs::mkdir(const std::string& path, mode_t mode, const std::string& oclass) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_RETURN_IF_ERROR(split_path(path).status());
  if (dir_base(path).second.empty()) return Status(EDAOS_EXIST, "mkdir /: the root exists");
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context("mkdir " + path);
  Status st =
      create_entry(*s_, p->first, nullptr, p->second, S_IFDIR | (mode & 07777), oclass, 0, "")
          .status();
  return st.ok() ? st : st.with_context("mkdir " + path);
}

Status Dfs::symlink(const DfsObj* parent, const std::string& name, const std::string& target) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return create_entry(*s_, p, parent, name, S_IFLNK | 0777, "", 0, target).status();
}

Status Dfs::symlink(const std::string& path, const std::string& target) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context("symlink " + path);
  Status st =
      create_entry(*s_, p->first, nullptr, p->second, S_IFLNK | 0777, "", 0, target).status();
  return st.ok() ? st : st.with_context("symlink " + path);
}

Status Dfs::link(const std::string& existing_path, const std::string& new_path) {
  return Status(EDAOS_NOTSUP,
                "link " + existing_path + " " + new_path + ": hard links are not supported");
}

Status Dfs::remove(const DfsObj* parent, const std::string& name, bool force, ObjectId* oid_out) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  return remove_at(*s_, p, name, force, oid_out, 0);
}

Status Dfs::remove(const std::string& path, bool force, ObjectId* oid_out) {
  return remove_path(*s_, path, force, oid_out, 0, "remove");
}

Status Dfs::unlink(const std::string& path) {
  return remove_path(*s_, path, false, nullptr, 1, "unlink");
}

Status Dfs::rmdir(const std::string& path) {
  return remove_path(*s_, path, false, nullptr, 2, "rmdir");
}

Status Dfs::rename(const DfsObj* parent, const std::string& name, const DfsObj* new_parent,
                   const std::string& new_name) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_ASSIGN_OR_RETURN(ObjectId np, parent_oid(*s_, new_parent));
  return rename_at(*s_, p, name, np, new_name);
}

Status Dfs::rename(const std::string& old_path, const std::string& new_path) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  auto ctx = "rename " + old_path + " " + new_path;
  auto a = parent_of(*s_, old_path);
  if (!a.ok()) return a.status().with_context(ctx);
  auto b = parent_of(*s_, new_path);
  if (!b.ok()) return b.status().with_context(ctx);
  Status st = rename_at(*s_, a->first, a->second, b->first, b->second);
  return st.ok() ? st : st.with_context(ctx);
}

}  // namespace edaos::objstore

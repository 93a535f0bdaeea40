// The POSIX namespace over KV (directories) and byte-array (files) objects. Design, formats
// and crash behaviour: objstore/README.md, "POSIX namespace (dfs)".
#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <vector>

#include "common/log.hpp"
#include "dfs/dfs_internal.hpp"

EDAOS_LOG_FACILITY(dfs);

namespace edaos::objstore {

using namespace dfs;

namespace {

bool is_zero(ObjectId o) { return o.hi == 0 && o.lo == 0; }
std::string q(const std::string& s) { return "\"" + s + "\""; }

// A located entry: the KV that holds it, its dkey there, and its record.
struct Loc {
  ObjectId dir;
  std::string name;
  Entry e;
};

Status check_mounted(const MountState& m) {
  return m.mounted.load() ? Status::OK() : Status(EDAOS_INVAL, "namespace is not mounted");
}
Status check_writable(const MountState& m) {
  EDAOS_RETURN_IF_ERROR(check_mounted(m));
  return m.rdonly ? Status(EDAOS_RDONLY, "namespace is mounted read-only") : Status::OK();
}

Result<std::unique_ptr<KV>> kv(const MountState& m, ObjectId oid) { return m.cont->open_kv(oid); }

Result<Entry> get_entry(const MountState& m, ObjectId dir, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  auto v = d->get(name, kEntryAkey);
  if (!v.ok()) {
    if (v.status().code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no entry " + q(name));
    return v.status();
  }
  return decode_entry(v.value());
}

Result<Loc> get_loc(const MountState& m, ObjectId dir, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(m, dir, name));
  return Loc{dir, name, std::move(e)};
}

Result<Loc> root_loc(const MountState& m) { return get_loc(m, m.sb_oid, kRootName); }

// The directory's own record; a missing one (crash during mkdir) reads as empty.
Result<DirRecord> get_dirrec(const MountState& m, ObjectId dir, bool* exists = nullptr) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  auto v = d->get(kDotDot, kDirAkey);
  if (exists) *exists = v.ok();
  if (!v.ok()) {
    if (v.status().code() == EDAOS_NONEXIST) return DirRecord{};
    return v.status();
  }
  return decode_dir(v.value());
}

// Walks `path` from the root. Symbolic links are expanded in place (an absolute target
// restarts at the root); ".." pops the directories walked so far (lexical after expansion).
Result<Loc> resolve(const MountState& m, const std::string& path, bool follow_last) {
  EDAOS_RETURN_IF_ERROR(check_mounted(m));
  EDAOS_ASSIGN_OR_RETURN(auto comps_v, split_path(path));
  std::deque<std::string> comps(comps_v.begin(), comps_v.end());
  // The root's own record is read only when the result is the root: walking needs its OID only.
  Loc root{m.sb_oid, kRootName, Entry{}};
  root.e.mode = S_IFDIR;
  root.e.oid = m.root_oid;
  std::vector<Loc> stack{root};
  int hops = 0;
  while (!comps.empty()) {
    std::string c = std::move(comps.front());
    comps.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (stack.size() > 1) stack.pop_back();
      continue;
    }
    const Loc& cur = stack.back();
    if (!S_ISDIR(cur.e.mode)) return Status(EDAOS_NOTDIR, q(cur.name) + " is not a directory");
    auto l = get_loc(m, cur.e.oid, c);
    if (!l.ok()) return l.status();
    if (S_ISLNK(l->e.mode) && (!comps.empty() || follow_last)) {
      if (++hops > kDfsMaxSymlinkHops)
        return Status(EDAOS_LOOP,
                      "more than " + std::to_string(kDfsMaxSymlinkHops) + " symbolic links");
      const std::string& t = l->e.symlink;
      if (t.empty()) return Status(EDAOS_NONEXIST, "symbolic link " + q(c) + " is empty");
      if (t[0] == '/') stack.resize(1);
      std::string abs = t[0] == '/' ? t : "/" + t;
      EDAOS_ASSIGN_OR_RETURN(auto tc, split_path(abs));
      comps.insert(comps.begin(), tc.begin(), tc.end());
      continue;
    }
    if (!comps.empty() && !S_ISDIR(l->e.mode))
      return Status(EDAOS_NOTDIR, q(c) + " is not a directory");
    stack.push_back(std::move(l).value());
  }
  if (stack.size() == 1) return root_loc(m);
  return stack.back();
}

Result<ObjectId> resolve_dir(const MountState& m, const std::string& path) {
  EDAOS_ASSIGN_OR_RETURN(Loc l, resolve(m, path, true));
  if (!S_ISDIR(l.e.mode)) return Status(EDAOS_NOTDIR, q(path) + " is not a directory");
  return l.e.oid;
}

Result<ObjectId> parent_oid(const MountState& m, const DfsObj* parent) {
  EDAOS_RETURN_IF_ERROR(check_mounted(m));
  if (!parent) return m.root_oid;
  if (parent->state()->m.get() != &m)
    return Status(EDAOS_INVAL, "parent handle belongs to another mount");
  if (!parent->is_dir()) return Status(EDAOS_NOTDIR, q(parent->name()) + " is not a directory");
  return parent->oid();
}

// Splits a path into (parent directory OID, last name), checking the name.
Result<std::pair<ObjectId, std::string>> parent_of(const MountState& m, const std::string& path) {
  EDAOS_RETURN_IF_ERROR(split_path(path).status());
  auto [dir, base] = dir_base(path);
  if (base.empty()) return Status(EDAOS_INVAL, "the root has no parent");
  EDAOS_RETURN_IF_ERROR(check_name(base));
  EDAOS_ASSIGN_OR_RETURN(ObjectId d, resolve_dir(m, dir));
  return std::make_pair(d, base);
}

// Read-modify-write of an entry; `fn` returns false to leave it alone. kUpdateOnly, so an
// entry removed meanwhile is not recreated.
Status update_entry(const MountState& m, ObjectId dir, const std::string& name,
                    const std::function<bool(Entry&)>& fn) {
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(m, dir, name));
  if (!fn(e)) return Status::OK();
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  return d->put(name, kEntryAkey, encode_entry(e), KV::kUpdateOnly);
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

uint32_t type_of(mode_t mode) {
  uint32_t t = static_cast<uint32_t>(mode) & S_IFMT;
  return t == 0 ? S_IFREG : t;
}

// Creates entry `name` in `pdir` exclusively. EDAOS_EXIST if it is there (from any rank).
Result<Loc> create_entry(const MountState& m, ObjectId pdir, const std::string& name, mode_t mode,
                         const std::string& oclass, uint64_t chunk, const std::string& target) {
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
    EDAOS_ASSIGN_OR_RETURN(DirRecord pdr, get_dirrec(m, pdir));
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
  return Loc{pdir, name, std::move(e)};
}

Result<std::unique_ptr<DfsObj>> make_obj(const std::shared_ptr<MountState>& m, const Loc& l,
                                         int flags) {
  auto s = std::make_shared<ObjState>();
  s->m = m;
  s->mode = l.e.mode;
  s->oid = l.e.oid;
  s->chunk_size = S_ISREG(l.e.mode) ? l.e.chunk_size : 0;
  s->flags = flags & O_ACCMODE;
  s->parent = l.dir;
  s->name = l.name;
  s->symlink = l.e.symlink;
  if (S_ISREG(l.e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(s->arr, m->cont->open_array(l.e.oid, l.e.chunk_size));
  }
  return std::make_unique<DfsObj>(std::move(s));
}

Status check_type(uint32_t want, uint32_t have, const std::string& name) {
  if (want == 0 || want == have) return Status::OK();
  if (have == S_IFDIR) return Status(EDAOS_ISDIR, q(name) + " is a directory");
  if (want == S_IFDIR) return Status(EDAOS_NOTDIR, q(name) + " is not a directory");
  return Status(EDAOS_EXIST, q(name) + " exists with another type");
}

Result<std::unique_ptr<DfsObj>> open_at(const std::shared_ptr<MountState>& m, ObjectId pdir,
                                        const std::string& name, mode_t mode, int flags,
                                        const std::string& oclass, uint64_t chunk,
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
      auto c = create_entry(*m, pdir, name, mode, oclass, chunk, target);
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

Result<bool> dir_empty(const MountState& m, ObjectId dir) {
  bool eof = false;
  EDAOS_ASSIGN_OR_RETURN(auto names, list_names(m, dir, "", 1, &eof));
  return names.empty();
}

Status destroy_object(const MountState& m, const Entry& e) {
  if (S_ISREG(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto a, m.cont->open_array(e.oid, e.chunk_size));
    return a->destroy();
  }
  if (S_ISDIR(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, e.oid));
    return d->destroy();
  }
  return Status::OK();
}

// only: 0 anything, 1 non-directories (unlink), 2 directories (rmdir).
Status remove_at(const MountState& m, ObjectId pdir, const std::string& name, bool force,
                 ObjectId* oid_out, int only) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(m, pdir, name));
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
  Status st = d->remove(name, "");
  if (!st.ok()) {
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no entry " + q(name));
    return st;
  }
  if (oid_out) *oid_out = e.oid;
  // The entry is gone; a failure here leaks the object (fs check finds it).
  Status ds = destroy_object(m, e);
  if (!ds.ok())
    EDAOS_LOG_ST(warn, ds, "remove %s: object %s leaked", name.c_str(), e.oid.to_string().c_str());
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

Result<DfsStat> stat_of(const MountState& m, const Entry& e) {
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
  if (S_ISREG(e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(auto a, m.cont->open_array(e.oid, e.chunk_size));
    EDAOS_ASSIGN_OR_RETURN(s.size, a->get_size());
  }
  return s;
}

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

// Mount on this rank alone: find the superblock, or create it (and the root) when allowed.
Status mount_local(MountState* m) {
  Container& c = *m->cont;
  auto attr = c.attr_get(kSbAttr);
  if (attr.ok()) {
    EDAOS_ASSIGN_OR_RETURN(m->sb_oid, ObjectId::parse(attr.value()));
  } else if (attr.status().code() != EDAOS_NONEXIST) {
    return attr.status();
  } else {
    // No namespace yet (or a creator crashed before recording it): every mounter computes the
    // same reserved IDs from the container's properties, so concurrent creators meet there.
    EDAOS_ASSIGN_OR_RETURN(ObjClass oc, pick_class(*m, "", "", true));
    EDAOS_RETURN_IF_ERROR(validate_for_pool(oc, c.pool_map()));
    m->sb_oid = make_oid(oc, ObjType::kMultiLevel, kReservedSeqHi, 0);
  }
  EDAOS_ASSIGN_OR_RETURN(auto sb, kv(*m, m->sb_oid));
  auto v = sb->get(kSbDkey, kSbDkey);
  if (v.ok()) {
    EDAOS_ASSIGN_OR_RETURN(Superblock s, decode_sb(v.value()));
    m->root_oid = s.root;
    if (!attr.ok() && !m->rdonly) EDAOS_RETURN_IF_ERROR(c.attr_set(kSbAttr, m->sb_oid.to_string()));
    return Status::OK();
  }
  if (v.status().code() != EDAOS_NONEXIST) return v.status();
  if (attr.ok())
    return Status(EDAOS_FORMAT, "namespace superblock " + m->sb_oid.to_string() + " is missing");
  if (m->rdonly)
    return Status(EDAOS_NONEXIST, "container " + c.props().label +
                                      " has no POSIX namespace yet "
                                      "(mount it read-write once)");
  // Create: root directory record, root entry, superblock (insert-only: first one wins), and
  // last the attribute that makes the namespace findable.
  ObjectId root = make_oid(oclass_of(m->sb_oid), ObjType::kMultiLevel, kReservedSeqHi, 1);
  EDAOS_ASSIGN_OR_RETURN(auto rkv, kv(*m, root));
  DirRecord rdr{m->sb_oid, kRootName, "", 0};
  Status st = rkv->put(kDotDot, kDirAkey, encode_dir(rdr), KV::kInsertOnly);
  if (!st.ok() && st.code() != EDAOS_EXIST) return st;
  Entry re;
  re.mode = S_IFDIR | 0755;
  re.oid = root;
  re.uid = static_cast<uint32_t>(geteuid());
  re.gid = static_cast<uint32_t>(getegid());
  re.atime = re.mtime = re.ctime = now();
  st = sb->put(kRootName, kEntryAkey, encode_entry(re), KV::kInsertOnly);
  if (!st.ok() && st.code() != EDAOS_EXIST) return st;
  Superblock s;
  s.root = root;
  st = sb->put(kSbDkey, kSbDkey, encode_sb(s), KV::kInsertOnly);
  if (st.code() == EDAOS_EXIST) {
    EDAOS_ASSIGN_OR_RETURN(auto cur, sb->get(kSbDkey, kSbDkey));
    EDAOS_ASSIGN_OR_RETURN(s, decode_sb(cur));
  } else if (!st.ok()) {
    return st;
  }
  m->root_oid = s.root;
  return c.attr_set(kSbAttr, m->sb_oid.to_string());
}

}  // namespace

// ---- ObjState ------------------------------------------------------------------------------

namespace dfs {

Status ObjState::flush_times() {
  dirty = false;
  auto st = update_entry(*m, parent, name, [&](Entry& e) {
    if (e.oid != oid) return false;  // replaced meanwhile
    e.mtime = e.ctime = now();
    return true;
  });
  return st.code() == EDAOS_NONEXIST ? Status::OK() : st;
}

ObjState::~ObjState() {
  if (dirty.load() && m && m->cont) {
    Status st = flush_times();
    if (!st.ok()) EDAOS_LOG_ST(warn, st, "release %s: mtime not recorded", name.c_str());
  }
}

}  // namespace dfs

// ---- Dfs -----------------------------------------------------------------------------------

Dfs::Dfs(std::shared_ptr<MountState> s) : s_(std::move(s)) {}
Dfs::~Dfs() { (void)umount(); }

Result<std::unique_ptr<Dfs>> Dfs::mount(std::shared_ptr<Container> cont, MPI_Comm comm, int flags) {
  if (!cont) return Status(EDAOS_INVAL, "mount: container is null");
  const int acc = flags & O_ACCMODE;
  if (acc != O_RDONLY && acc != O_RDWR)
    return Status(EDAOS_INVAL, "mount: flags must be O_RDONLY or O_RDWR");
  auto m = std::make_shared<MountState>();
  m->cont = std::move(cont);
  m->rdonly = acc == O_RDONLY;
  Status st;
  if (m->cont->props().type != ContType::kPosix)
    st = Status(EDAOS_INVAL, std::string("container ") + m->cont->props().label + " is of type " +
                                 cont_type_name(m->cont->props().type) + ", not POSIX");
  if (comm == MPI_COMM_NULL) {
    if (st.ok()) st = mount_local(m.get());
  } else {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && st.ok()) st = mount_local(m.get());
    struct {
      int32_t code;
      uint64_t ids[4];
      char msg[512];
    } b = {};
    if (rank == 0) {
      b.code = st.code();
      b.ids[0] = m->sb_oid.hi;
      b.ids[1] = m->sb_oid.lo;
      b.ids[2] = m->root_oid.hi;
      b.ids[3] = m->root_oid.lo;
      std::snprintf(b.msg, sizeof b.msg, "%s", st.message().c_str());
    }
    MPI_Bcast(&b, sizeof b, MPI_BYTE, 0, comm);
    if (rank != 0) {
      st = b.code == EDAOS_OK ? Status::OK() : Status(static_cast<edaos_status_t>(b.code), b.msg);
      m->sb_oid = ObjectId{b.ids[0], b.ids[1]};
      m->root_oid = ObjectId{b.ids[2], b.ids[3]};
    }
  }
  if (!st.ok()) return st.with_context("mount");
  return std::make_unique<Dfs>(std::move(m));
}

Status Dfs::umount() {
  if (s_) s_->mounted = false;
  return Status::OK();
}
bool Dfs::read_only() const { return s_->rdonly; }
const std::shared_ptr<Container>& Dfs::container() const { return s_->cont; }
ObjectId Dfs::root_oid() const { return s_->root_oid; }
ObjectId Dfs::superblock_oid() const { return s_->sb_oid; }

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
  return open_at(s_, p, name, mode, flags, oclass, chunk_size, symlink_target);
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
  auto r = open_at(s_, p->first, p->second, mode, flags, oclass, chunk_size, symlink_target);
  if (!r.ok()) return r.status().with_context("open " + path);
  return r;
}

Result<std::unique_ptr<DfsObj>> Dfs::lookup(const std::string& path, int flags) {
  const int acc = flags & O_ACCMODE;
  if (s_->rdonly && acc != O_RDONLY) return Status(EDAOS_RDONLY, "namespace is mounted read-only");
  auto l = resolve(*s_, path, !(flags & O_NOFOLLOW));
  if (!l.ok()) return l.status().with_context("lookup " + path);
  return make_obj(s_, l.value(), flags);
}

Result<std::unique_ptr<DfsObj>> Dfs::lookup(const DfsObj* parent, const std::string& name,
                                            int flags) {
  const int acc = flags & O_ACCMODE;
  if (s_->rdonly && acc != O_RDONLY) return Status(EDAOS_RDONLY, "namespace is mounted read-only");
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  EDAOS_ASSIGN_OR_RETURN(Loc l, get_loc(*s_, p, name));
  return make_obj(s_, l, flags);
}

Status Dfs::mkdir(const DfsObj* parent, const std::string& name, mode_t mode,
                  const std::string& oclass) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return create_entry(*s_, p, name, S_IFDIR | (mode & 07777), oclass, 0, "").status();
}

Status Dfs::mkdir(const std::string& path, mode_t mode, const std::string& oclass) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_RETURN_IF_ERROR(split_path(path).status());
  if (dir_base(path).second.empty()) return Status(EDAOS_EXIST, "mkdir /: the root exists");
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context("mkdir " + path);
  Status st =
      create_entry(*s_, p->first, p->second, S_IFDIR | (mode & 07777), oclass, 0, "").status();
  return st.ok() ? st : st.with_context("mkdir " + path);
}

Status Dfs::symlink(const DfsObj* parent, const std::string& name, const std::string& target) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  return create_entry(*s_, p, name, S_IFLNK | 0777, "", 0, target).status();
}

Status Dfs::symlink(const std::string& path, const std::string& target) {
  EDAOS_RETURN_IF_ERROR(check_writable(*s_));
  auto p = parent_of(*s_, path);
  if (!p.ok()) return p.status().with_context("symlink " + path);
  Status st = create_entry(*s_, p->first, p->second, S_IFLNK | 0777, "", 0, target).status();
  return st.ok() ? st : st.with_context("symlink " + path);
}

Result<std::string> Dfs::readlink(const DfsObj* parent, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  EDAOS_RETURN_IF_ERROR(check_name(name));
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(*s_, p, name));
  if (!S_ISLNK(e.mode)) return Status(EDAOS_INVAL, q(name) + " is not a symbolic link");
  return e.symlink;
}

Result<std::string> Dfs::readlink(const std::string& path) {
  auto l = resolve(*s_, path, false);
  if (!l.ok()) return l.status().with_context("readlink " + path);
  if (!S_ISLNK(l->e.mode)) return Status(EDAOS_INVAL, q(path) + " is not a symbolic link");
  return l->e.symlink;
}

Status Dfs::link(const std::string& existing_path, const std::string& new_path) {
  return Status(EDAOS_NOTSUP,
                "link " + existing_path + " " + new_path + ": hard links are not supported");
}

Status Dfs::remove(const DfsObj* parent, const std::string& name, bool force, ObjectId* oid_out) {
  EDAOS_ASSIGN_OR_RETURN(ObjectId p, parent_oid(*s_, parent));
  return remove_at(*s_, p, name, force, oid_out, 0);
}

namespace {
Status remove_path(const MountState& m, const std::string& path, bool force, ObjectId* oid_out,
                   int only, const char* verb) {
  EDAOS_RETURN_IF_ERROR(check_writable(m));
  auto p = parent_of(m, path);
  Status st = p.ok() ? remove_at(m, p->first, p->second, force, oid_out, only) : p.status();
  return st.ok() ? st : st.with_context(std::string(verb) + " " + path);
}
}  // namespace

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
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(*s_, p, name));
  return stat_of(*s_, e);
}

Result<DfsStat> Dfs::stat(const std::string& path, bool follow) {
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

namespace {
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
  return k->put(kDotDot, kDirAkey, encode_dir(dr), exists ? uint32_t{KV::kUpdateOnly} : 0u);
}
}  // namespace

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

Result<std::string> Dfs::obj_serialize(const DfsObj& obj) const {
  const ObjState& o = *obj.state();
  if (S_ISLNK(o.mode)) return Status(EDAOS_INVAL, "a symbolic link handle cannot be serialized");
  HandleBlob h;
  h.cont = s_->cont->uuid();
  h.mode = o.mode;
  h.flags = o.flags;
  h.oid = o.oid;
  h.chunk_size = o.chunk_size;
  h.parent = o.parent;
  h.name = o.name;
  return encode_handle(h);
}

Result<std::unique_ptr<DfsObj>> Dfs::obj_deserialize(const std::string& blob, int flags) {
  EDAOS_RETURN_IF_ERROR(check_mounted(*s_));
  EDAOS_ASSIGN_OR_RETURN(HandleBlob h, decode_handle(blob));
  if (h.cont != s_->cont->uuid())
    return Status(EDAOS_INVAL, "serialized handle belongs to container " + h.cont.to_string());
  if (!S_ISREG(h.mode) && !S_ISDIR(h.mode))
    return Status(EDAOS_FORMAT, "serialized handle of an unknown type");
  if (flags != -1 && (flags & O_ACCMODE) != O_RDONLY && (flags & O_ACCMODE) != O_WRONLY &&
      (flags & O_ACCMODE) != O_RDWR)
    return Status(EDAOS_INVAL, "bad access mode in flags " + std::to_string(flags));
  int acc = flags == -1 ? (h.flags & O_ACCMODE) : (flags & O_ACCMODE);
  if (s_->rdonly && acc != O_RDONLY) return Status(EDAOS_RDONLY, "namespace is mounted read-only");
  Loc l;
  l.dir = h.parent;
  l.name = h.name;
  l.e.mode = h.mode;
  l.e.oid = h.oid;
  l.e.chunk_size = h.chunk_size;
  return make_obj(s_, l, acc);
}

// ---- DfsObj --------------------------------------------------------------------------------

DfsObj::DfsObj(std::shared_ptr<ObjState> s) : s_(std::move(s)) {}
DfsObj::~DfsObj() = default;
mode_t DfsObj::mode() const { return static_cast<mode_t>(s_->mode); }
ObjectId DfsObj::oid() const { return s_->oid; }
ObjClass DfsObj::oclass() const { return oclass_of(s_->oid); }
uint64_t DfsObj::chunk_size() const { return s_->chunk_size; }
int DfsObj::flags() const { return s_->flags; }
const std::string& DfsObj::symlink_target() const { return s_->symlink; }
const std::string& DfsObj::name() const {
  static const std::string kEmpty;
  return s_->parent == s_->m->sb_oid ? kEmpty : s_->name;
}

namespace {
Status need_file(const ObjState& s) {
  if (S_ISDIR(s.mode)) return Status(EDAOS_ISDIR, q(s.name) + " is a directory");
  if (!S_ISREG(s.mode)) return Status(EDAOS_INVAL, q(s.name) + " is not a regular file");
  return Status::OK();
}
Status need_write(const ObjState& s) {
  EDAOS_RETURN_IF_ERROR(need_file(s));
  if (s.flags == O_RDONLY) return Status(EDAOS_PERM, q(s.name) + " is open read-only");
  return Status::OK();
}
}  // namespace

Result<uint64_t> DfsObj::read(uint64_t off, const IoVec* iov, size_t n) {
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  if (s_->flags == O_WRONLY) return Status(EDAOS_PERM, q(s_->name) + " is open write-only");
  if (n && !iov) return Status(EDAOS_INVAL, "read: iov is null");
  uint64_t want = 0;
  for (size_t i = 0; i < n; ++i) want += iov[i].len;
  if (want == 0) return uint64_t{0};
  EDAOS_ASSIGN_OR_RETURN(uint64_t size, s_->arr->get_size());
  if (off >= size) return uint64_t{0};
  const uint64_t got = std::min(want, size - off);
  std::vector<IoVec> v;
  uint64_t left = got;
  for (size_t i = 0; i < n && left; ++i) {
    size_t l = static_cast<size_t>(std::min<uint64_t>(iov[i].len, left));
    if (l) v.push_back(IoVec{iov[i].base, l});
    left -= l;
  }
  EDAOS_RETURN_IF_ERROR(s_->arr->read(off, v.data(), v.size()));
  return got;
}

Status DfsObj::read_full(uint64_t off, const IoVec* iov, size_t n) {
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  if (s_->flags == O_WRONLY) return Status(EDAOS_PERM, q(s_->name) + " is open write-only");
  if (n && !iov) return Status(EDAOS_INVAL, "read: iov is null");
  return s_->arr->read(off, iov, n);
}

Status DfsObj::write(uint64_t off, const ConstIoVec* iov, size_t n) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  if (n && !iov) return Status(EDAOS_INVAL, "write: iov is null");
  s_->dirty = true;
  return s_->arr->write(off, iov, n);
}

Result<uint64_t> DfsObj::get_size() {
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  return s_->arr->get_size();
}

Status DfsObj::set_size(uint64_t size) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  EDAOS_RETURN_IF_ERROR(s_->arr->set_size(size));
  return s_->flush_times();
}

Status DfsObj::punch(uint64_t off, uint64_t len) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  s_->dirty = true;
  return s_->arr->punch(off, len);
}

Status DfsObj::sync() {
  if (s_->dirty.load()) EDAOS_RETURN_IF_ERROR(s_->flush_times());
  return s_->m->cont->sync();
}

Result<DfsStat> DfsObj::stat() {
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(*s_->m, s_->parent, s_->name));
  if (e.oid != s_->oid || (e.mode & S_IFMT) != (s_->mode & S_IFMT))
    return Status(EDAOS_NONEXIST, q(s_->name) + " was replaced");
  return stat_of(*s_->m, e);
}

int dfs_errno(edaos_status_t code) {
  switch (code) {
    case EDAOS_OK:
      return 0;
    case EDAOS_NONEXIST:
      return ENOENT;
    case EDAOS_EXIST:
      return EEXIST;
    case EDAOS_NOTDIR:
      return ENOTDIR;
    case EDAOS_ISDIR:
      return EISDIR;
    case EDAOS_NOTEMPTY:
      return ENOTEMPTY;
    case EDAOS_NAMETOOLONG:
      return ENAMETOOLONG;
    case EDAOS_LOOP:
      return ELOOP;
    case EDAOS_PERM:
      return EPERM;
    case EDAOS_RDONLY:
      return EROFS;
    case EDAOS_NOTSUP:
      return ENOTSUP;
    case EDAOS_INVAL:
      return EINVAL;
    case EDAOS_NOTINIT:
      return EINVAL;
    case EDAOS_NOSPACE:
      return ENOSPC;
    case EDAOS_NOMEM:
      return ENOMEM;
    case EDAOS_BUSY:
      return EBUSY;
    case EDAOS_TOOBIG:
      return E2BIG;
    case EDAOS_XDEV:
      return EXDEV;
    case EDAOS_CANCELED:
      return ECANCELED;
    default:
      return EIO;
  }
}

}  // namespace edaos::objstore

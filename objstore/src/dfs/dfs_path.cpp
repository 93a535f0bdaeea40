// The POSIX namespace: reading entries and walking paths. This file owns entry and directory
// record lookup, the path walk (symbolic links expanded in place, ".." lexical after expansion,
// at most kDfsMaxSymlinkHops links), parent resolution for the path and handle forms of every
// call, the read-modify-write of an entry, and the lookup/readlink calls built on them.
#include <cstring>
#include <deque>
#include <vector>

#include "dfs/dfs_internal.hpp"

namespace edaos::objstore {

using namespace dfs;

namespace {

Result<Loc> root_loc(const MountState& m) { return get_loc(m, m.sb_oid, kRootName); }

}  // namespace

namespace dfs {

std::string NameCache::key(ObjectId dir, const std::string& name) {
  std::string k(sizeof dir.hi + sizeof dir.lo, '\0');
  std::memcpy(&k[0], &dir.hi, sizeof dir.hi);
  std::memcpy(&k[sizeof dir.hi], &dir.lo, sizeof dir.lo);
  return k + name;
}

bool NameCache::find(ObjectId dir, const std::string& name, Guess* out) const {
  const std::string k = key(dir, name);
  std::lock_guard<std::mutex> g(mu_);
  auto it = map_.find(k);
  if (it == map_.end()) return false;
  *out = it->second;
  return true;
}

void NameCache::note(ObjectId dir, const std::string& name, const Entry& e) {
  if (!S_ISREG(e.mode)) return forget(dir, name);
  std::string k = key(dir, name);
  std::lock_guard<std::mutex> g(mu_);
  if (map_.size() >= kMax && !map_.count(k)) map_.clear();
  map_[std::move(k)] = Guess{e.oid, e.chunk_size};
}

void NameCache::forget(ObjectId dir, const std::string& name) {
  const std::string k = key(dir, name);
  std::lock_guard<std::mutex> g(mu_);
  map_.erase(k);
}

Result<Entry> get_entry(const MountState& m, ObjectId dir, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  auto v = d->get(name, kEntryAkey);
  if (!v.ok()) {
    if (v.status().code() == EDAOS_NONEXIST) {
      m.names.forget(dir, name);
      return Status(EDAOS_NONEXIST, "no entry " + q(name));
    }
    return v.status();
  }
  auto e = decode_entry(v.value());
  if (e.ok()) m.names.note(dir, name, e.value());
  return e;
}

Result<Loc> get_loc(const MountState& m, ObjectId dir, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(m, dir, name));
  return Loc{dir, name, std::move(e)};
}

// The directory's own record; a missing one (crash during mkdir) reads as empty.
Result<DirRecord> get_dirrec(const MountState& m, ObjectId dir, bool* exists) {
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, dir));
  auto v = d->get(kDotDot, kDirAkey);
  if (exists) *exists = v.ok();
  if (!v.ok()) {
    if (v.status().code() == EDAOS_NONEXIST) return DirRecord{};
    return v.status();
  }
  return decode_dir(v.value());
}

Result<DirRecord> creation_dirrec(const MountState& m, ObjectId dir, const DfsObj* parent) {
  ObjState* o = parent ? parent->state().get() : nullptr;
  if (!o || !(o->oid == dir)) return get_dirrec(m, dir);
  std::lock_guard<std::mutex> g(o->dr_mu);
  const uint64_t gen = m.dirattr_gen.load();
  if (o->dr_cached && o->dr_gen == gen) return o->dr;
  bool exists = false;
  EDAOS_ASSIGN_OR_RETURN(DirRecord dr, get_dirrec(m, dir, &exists));
  if (exists) {  // a missing record (crash during mkdir) is read again next time
    o->dr = dr;
    o->dr_gen = gen;
    o->dr_cached = true;
  }
  return dr;
}

// Walks `path` from the root. Symbolic links are expanded in place (an absolute target
// restarts at the root); ".." pops the directories walked so far (lexical after expansion).
namespace {

// resolve(); `root_entry` false: a walk that ends at the root returns the root's synthesized
// location (its OID and type) without reading its entry, enough for a parent directory.
Result<Loc> walk(const MountState& m, const std::string& path, bool follow_last, bool root_entry) {
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
  if (stack.size() == 1 && root_entry) return root_loc(m);
  return stack.back();
}

}  // namespace

Result<Loc> resolve(const MountState& m, const std::string& path, bool follow_last) {
  return walk(m, path, follow_last, true);
}

Result<ObjectId> resolve_dir(const MountState& m, const std::string& path) {
  EDAOS_ASSIGN_OR_RETURN(Loc l, walk(m, path, true, false));
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

}  // namespace dfs

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

}  // namespace edaos::objstore

// DFS namespace calls: lookup, open, release, file I/O, directories, attributes.
#include <dirent.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "daos_internal.hpp"

namespace edaos::daosapi {

namespace {

using objstore::ConstIoVec;
using objstore::DfsAnchor;
using objstore::DfsDirent;
using objstore::DfsStat;
using objstore::IoVec;

void to_stat(const DfsStat& s, struct stat* st) {
  std::memset(st, 0, sizeof *st);
  st->st_mode = s.mode;
  st->st_uid = s.uid;
  st->st_gid = s.gid;
  st->st_size = static_cast<off_t>(s.size);
  st->st_nlink = s.nlink;
  st->st_ino = s.oid.lo;
  st->st_blksize = static_cast<blksize_t>(s.chunk_size ? s.chunk_size : DFS_DEFAULT_CHUNK_SIZE);
  st->st_blocks = static_cast<blkcnt_t>((s.size + 511) / 512);
  st->st_atim = s.atime;
  st->st_mtim = s.mtime;
  st->st_ctim = s.ctime;
}

uint8_t dtype_of(mode_t mode) {
  if (S_ISDIR(mode)) return DT_DIR;
  if (S_ISREG(mode)) return DT_REG;
  if (S_ISLNK(mode)) return DT_LNK;
  return DT_UNKNOWN;
}

daos_obj_id_t daos_oid(const objstore::ObjectId& o) { return daos_obj_id_t{o.lo, o.hi}; }

// The mount and (optional) object of a call, checked as DFS checks them.
struct Args {
  std::shared_ptr<MountImpl> m;
  std::shared_ptr<ObjImpl> obj;
};

int need_mount(const dfs_t* dfs, Args* a) {
  a->m = Registry::get().mount(dfs);
  return a->m ? 0 : EINVAL;
}

// A parent directory handle: NULL is the root; another mount's handle is refused.
int need_parent(const dfs_obj_t* parent, Args* a, const DfsObj** out) {
  *out = nullptr;
  if (parent == nullptr) return 0;
  auto p = Registry::get().obj(parent);
  if (!p || p->m != a->m) return EINVAL;
  if (!p->o->is_dir()) return ENOTDIR;
  a->obj = p;
  *out = p->o.get();
  return 0;
}

int need_obj(const dfs_obj_t* obj, Args* a) {
  a->obj = Registry::get().obj(obj);
  return a->obj && (!a->m || a->obj->m == a->m) ? 0 : EINVAL;
}

int need_file(const dfs_t* dfs, const dfs_obj_t* obj, Args* a) {
  if (int rc = need_mount(dfs, a)) return rc;
  if (int rc = need_obj(obj, a)) return rc;
  return a->obj->o->is_file() ? 0 : EINVAL;
}

bool read_only(const MountImpl& m) { return m.amode != O_RDWR; }

dfs_obj_t* add_obj(const std::shared_ptr<MountImpl>& m, std::shared_ptr<DfsObj> o, int flags) {
  auto impl = std::make_shared<ObjImpl>();
  impl->m = m;
  impl->o = std::move(o);
  impl->flags = flags;
  return Registry::get().add_obj(std::move(impl));
}

// Access mode of lookup/dup flags: O_RDONLY, O_WRONLY or O_RDWR.
bool valid_access(int flags) {
  const int acc = flags & O_ACCMODE;
  return acc == O_RDONLY || acc == O_WRONLY || acc == O_RDWR;
}

// Scatter-gather list -> iovecs (iov_len of each vector). EINVAL for a malformed list.
template <typename V, typename P>
int iovecs(const d_sg_list_t* sgl, std::vector<V>* out, uint64_t* total) {
  if (sgl == nullptr || (sgl->sg_nr > 0 && sgl->sg_iovs == nullptr)) return EINVAL;
  out->clear();
  *total = 0;
  for (uint32_t i = 0; i < sgl->sg_nr; ++i) {
    const d_iov_t& v = sgl->sg_iovs[i];
    if (v.iov_len == 0) continue;
    if (v.iov_buf == nullptr) return EINVAL;
    out->push_back(V{static_cast<P>(v.iov_buf), v.iov_len});
    *total += v.iov_len;
  }
  return 0;
}

// The iovecs covering `len` bytes of `all` from byte `*pos` of the list; *pos advances by the
// bytes covered (less than len only when the list ends).
template <typename V, typename P>
std::vector<V> slice(const std::vector<V>& all, uint64_t* pos, uint64_t len) {
  std::vector<V> out;
  uint64_t skip = *pos;
  for (const V& v : all) {
    if (len == 0) break;
    if (skip >= v.len) {
      skip -= v.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(v.len - skip, len);
    out.push_back(V{static_cast<P>(static_cast<char*>(const_cast<void*>(v.base)) + skip),
                    static_cast<size_t>(n)});
    *pos += n;
    len -= n;
    skip = 0;
  }
  return out;
}

// ---- readdir anchors -------------------------------------------------------------------------
//
// The anchor names the last entry returned: da_flags = its length, da_sub_anchors = its FNV-1a
// hash, da_buf = its first DAOS_ANCHOR_BUF_MAX bytes. A name that fits is exact; a longer one
// is found again among the names sharing that prefix (see resume()).

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

void anchor_set(daos_anchor_t* a, const std::string& last, bool eof) {
  std::memset(a, 0, sizeof *a);
  if (eof) {
    a->da_type = DAOS_ANCHOR_TYPE_EOF;
    return;
  }
  a->da_type = DAOS_ANCHOR_TYPE_KEY;
  a->da_flags = static_cast<uint32_t>(last.size());
  a->da_sub_anchors = fnv1a(last);
  std::memcpy(a->da_buf, last.data(), std::min<size_t>(last.size(), DAOS_ANCHOR_BUF_MAX));
}

// Lists up to `max` entries after the anchor.
Result<std::vector<DfsDirent>> list_after(Dfs& fs, const DfsObj* dir, const daos_anchor_t* a,
                                          uint32_t max, bool plus, bool* eof) {
  *eof = false;
  if (a->da_type == DAOS_ANCHOR_TYPE_EOF) {
    *eof = true;
    return std::vector<DfsDirent>{};
  }
  DfsAnchor pos;
  std::vector<DfsDirent> out;
  if (a->da_type == DAOS_ANCHOR_TYPE_KEY) {
    const size_t len = a->da_flags;
    const size_t kept = std::min<size_t>(len, DAOS_ANCHOR_BUF_MAX);
    pos.last.assign(reinterpret_cast<const char*>(a->da_buf), kept);
    if (len > kept) {
      // Names longer than the anchor buffer: read the whole group sharing the stored prefix
      // (all sort after it), drop the part up to and including the last one returned. If that
      // one was removed meanwhile, the group is returned again: never a missed entry.
      const std::string prefix = pos.last;
      std::vector<DfsDirent> group;
      bool group_done = false;
      while (!group_done && !pos.eof) {
        EDAOS_ASSIGN_OR_RETURN(auto page, fs.readdir(dir, &pos, 64, plus));
        for (auto& e : page) {
          if (e.name.compare(0, prefix.size(), prefix) != 0) {
            group_done = true;
            out.push_back(std::move(e));  // first entry after the group
            continue;
          }
          if (group_done) {
            out.push_back(std::move(e));
            continue;
          }
          group.push_back(std::move(e));
        }
      }
      size_t start = 0;
      for (size_t i = 0; i < group.size(); ++i)
        if (group[i].name.size() == len && fnv1a(group[i].name) == a->da_sub_anchors) start = i + 1;
      std::vector<DfsDirent> merged(std::make_move_iterator(group.begin() + start),
                                    std::make_move_iterator(group.end()));
      for (auto& e : out) merged.push_back(std::move(e));
      out.swap(merged);
      if (out.size() > max) {
        // Return `max`; the anchor will point at the last of them.
        out.resize(max);
        return out;
      }
    }
  }
  while (out.size() < max && !pos.eof) {
    EDAOS_ASSIGN_OR_RETURN(auto page,
                           fs.readdir(dir, &pos, static_cast<uint32_t>(max - out.size()), plus));
    for (auto& e : page) out.push_back(std::move(e));
  }
  *eof = pos.eof;
  return out;
}

// dfs_readdir / dfs_readdirplus.
int readdir_common(dfs_t* dfs, dfs_obj_t* obj, daos_anchor_t* anchor, uint32_t* nr,
                   struct dirent* dirs, struct stat* stbufs, const char* call) {
  Args a;
  if (int rc = need_mount(dfs, &a)) return rc;
  if (int rc = need_obj(obj, &a)) return rc;
  if (!a.obj->o->is_dir()) return ENOTDIR;
  if (anchor == nullptr || nr == nullptr || dirs == nullptr || *nr == 0) return EINVAL;
  bool eof = false;
  auto ents = list_after(*a.m->fs, a.obj->o.get(), anchor, *nr, stbufs != nullptr, &eof);
  if (!ents.ok()) return fail_errno(call, ents.status());
  uint32_t n = 0;
  for (const auto& e : ents.value()) {
    struct dirent& d = dirs[n];
    std::memset(&d, 0, sizeof d);
    std::snprintf(d.d_name, sizeof d.d_name, "%s", e.name.c_str());
    d.d_type = dtype_of(e.mode);
    d.d_ino = e.oid.lo;
    d.d_reclen = sizeof d;
    if (stbufs) to_stat(e.st, &stbufs[n]);
    ++n;
  }
  *nr = n;
  anchor_set(anchor, n ? ents->back().name : std::string(), eof);
  if (!eof && n == 0) anchor_set(anchor, std::string(), true);  // an empty page is the end
  return 0;
}

// The root directory (a DfsObj, for name == NULL in dfs_stat / dfs_access).
bool is_root(const Args& a, const DfsObj* parent) {
  return parent == nullptr || parent->oid() == a.m->fs->root_oid();
}

}  // namespace

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int dfs_lookup(dfs_t* dfs, const char* path, int flags, dfs_obj_t** obj, mode_t* mode,
               struct stat* stbuf) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (flags & O_APPEND) return ENOTSUP;
    if (obj == nullptr || path == nullptr || strnlen(path, DFS_MAX_PATH) > DFS_MAX_PATH - 1 ||
        path[0] != '/' || !valid_access(flags))
      return EINVAL;
    std::string p = path;
    {
      std::lock_guard<std::mutex> lk(a.m->mu);
      const std::string& pre = a.m->prefix;
      if (!pre.empty()) {
        if (p.compare(0, pre.size(), pre) != 0 || (p.size() > pre.size() && p[pre.size()] != '/')) {
          note(current_call(), "path " + p + " is outside the prefix " + pre);
          return EINVAL;
        }
        p = p.size() == pre.size() ? "/" : p.substr(pre.size());
      }
    }
    auto o = a.m->fs->lookup(p, flags & (O_ACCMODE | O_NOFOLLOW));
    if (!o.ok()) return fail_errno(current_call(), o.status());
    std::shared_ptr<DfsObj> h = std::move(o).value();
    if (stbuf) {
      auto st = h->stat();
      if (!st.ok()) return fail_errno(current_call(), st.status());
      to_stat(st.value(), stbuf);
    }
    if (mode) *mode = h->mode();
    *obj = add_obj(a.m, std::move(h), flags & O_ACCMODE);
    return 0;
  });
}

int dfs_lookup_rel(dfs_t* dfs, dfs_obj_t* parent, const char* name, int flags, dfs_obj_t** obj,
                   mode_t* mode, struct stat* stbuf) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (obj == nullptr || name == nullptr) return EINVAL;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    if (flags & O_APPEND) return ENOTSUP;
    if (!valid_access(flags)) return EINVAL;
    auto o = a.m->fs->lookup(p, name, flags & O_ACCMODE);
    if (!o.ok()) return fail_errno(current_call(), o.status());
    std::shared_ptr<DfsObj> h = std::move(o).value();
    if (stbuf) {
      auto st = h->stat();
      if (!st.ok()) return fail_errno(current_call(), st.status());
      to_stat(st.value(), stbuf);
    }
    if (mode) *mode = h->mode();
    *obj = add_obj(a.m, std::move(h), flags & O_ACCMODE);
    return 0;
  });
}

int dfs_open(dfs_t* dfs, dfs_obj_t* parent, const char* name, mode_t mode, int flags,
             daos_oclass_id_t cid, daos_size_t chunk_size, const char* value, dfs_obj_t** obj) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (flags & O_APPEND) return ENOTSUP;
    if (read_only(*a.m) && (flags & O_CREAT)) return EPERM;
    if (obj == nullptr || name == nullptr) return EINVAL;
    if (S_ISLNK(mode) && value == nullptr) return EINVAL;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    const mode_t type = mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) {
      note(current_call(), "mode must have S_IFREG, S_IFDIR or S_IFLNK");
      return EINVAL;
    }
    int fl = flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC);
    mode_t m = mode;
    if (type == S_IFLNK) {
      if (!(flags & O_CREAT)) {
        note(current_call(),
             "symbolic links are only created by dfs_open (open them with dfs_lookup)");
        return ENOTSUP;
      }
      fl |= O_EXCL;  // an existing name is EEXIST for links
      m |= S_IRWXU | S_IRWXG | S_IRWXO;
    }
    auto cls = oclass_name_of(cid);
    if (!cls.ok()) return fail_errno(current_call(), cls.status());
    auto o = a.m->fs->open(p, name, m, fl, cls.value(), chunk_size, value ? value : "");
    if (!o.ok()) {
      const edaos_status_t code = o.status().code();
      // DFS: opening a file over an entry of another type is EINVAL.
      if (type == S_IFREG && (code == EDAOS_ISDIR || (code == EDAOS_EXIST && !(fl & O_EXCL)))) {
        note(current_call(), o.status().to_string());
        return EINVAL;
      }
      return fail_errno(current_call(), o.status());
    }
    *obj = add_obj(a.m, std::move(o).value(), flags & O_ACCMODE);
    return 0;
  });
}

int dfs_dup(dfs_t* dfs, dfs_obj_t* obj, int flags, dfs_obj_t** new_obj) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_obj(obj, &a)) return rc;
    if (new_obj == nullptr) return EINVAL;
    if (flags & O_APPEND) return ENOTSUP;
    if (!valid_access(flags)) return EINVAL;
    if (a.obj->o->is_symlink()) {
      *new_obj = add_obj(a.m, a.obj->o, flags & O_ACCMODE);
      return 0;
    }
    auto blob = a.m->fs->obj_serialize(*a.obj->o);
    if (!blob.ok()) return fail_errno(current_call(), blob.status());
    auto o = a.m->fs->obj_deserialize(blob.value(), flags & O_ACCMODE);
    if (!o.ok()) return fail_errno(current_call(), o.status());
    *new_obj = add_obj(a.m, std::move(o).value(), flags & O_ACCMODE);
    return 0;
  });
}

int dfs_obj_local2global(dfs_t* dfs, dfs_obj_t* obj, d_iov_t* glob) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_obj(obj, &a)) return rc;
    auto blob = a.m->fs->obj_serialize(*a.obj->o);
    if (!blob.ok()) return fail_errno(current_call(), blob.status());
    return export_global(blob.value(), glob, ENOBUFS, EINVAL);
  });
}

int dfs_obj_global2local(dfs_t* dfs, int flags, d_iov_t glob, dfs_obj_t** obj) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (obj == nullptr || glob.iov_buf == nullptr || glob.iov_len > glob.iov_buf_len) return EINVAL;
    if (flags != 0 && !valid_access(flags)) return EINVAL;
    const std::string blob(static_cast<const char*>(glob.iov_buf), glob.iov_len);
    auto o = a.m->fs->obj_deserialize(blob, flags ? (flags & O_ACCMODE) : -1);
    if (!o.ok()) {
      if (o.status().code() == EDAOS_FORMAT) {
        note(current_call(), o.status().to_string());
        return EINVAL;
      }
      return fail_errno(current_call(), o.status());
    }
    const int acc = o.value()->flags() & O_ACCMODE;
    *obj = add_obj(a.m, std::move(o).value(), acc);
    return 0;
  });
}

int dfs_release(dfs_obj_t* obj) {
  return guard_errno(__func__, [&]() -> int {
    std::shared_ptr<ObjImpl> o = Registry::get().take_obj(obj);
    if (!o) return EINVAL;
    // A pipelined direct write returns before its commit is applied (issue 15): an error that
    // commit met is reported here, once, for this file only, as edaos_dfs_release does. The
    // handle is released either way (its mtime recorded when the last reference goes).
    if (o->o && o->o->is_file() && (o->flags & O_ACCMODE) != O_RDONLY && o->m && o->m->cont &&
        o->m->cont->cont) {
      Status st = o->m->cont->cont->close_object(o->o->oid());
      if (!st.ok()) return errno_of(st);
    }
    return 0;
  });
}

int dfs_read(dfs_t* dfs, dfs_obj_t* obj, d_sg_list_t* sgl, daos_off_t off, daos_size_t* read_size,
             daos_event_t* ev) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    if (read_size == nullptr) return EINVAL;
    std::vector<IoVec> iov;
    uint64_t total = 0;
    if (int rc = iovecs<IoVec, void*>(sgl, &iov, &total)) return rc;
    if ((a.obj->flags & O_ACCMODE) == O_WRONLY) return EPERM;
    return run_with_event(ev, EINVAL, [&]() -> int {
      if (total == 0) {
        *read_size = 0;
        return 0;
      }
      auto n = a.obj->o->read(off, iov.data(), iov.size());
      if (!n.ok()) return fail_errno("dfs_read", n.status());
      *read_size = n.value();
      return 0;
    });
  });
}

int dfs_readx(dfs_t* dfs, dfs_obj_t* obj, dfs_iod_t* iod, d_sg_list_t* sgl, daos_size_t* read_size,
              daos_event_t* ev) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    if (iod == nullptr || read_size == nullptr || (iod->iod_nr > 0 && iod->iod_rgs == nullptr))
      return EINVAL;
    std::vector<IoVec> iov;
    uint64_t total = 0, want = 0;
    if (int rc = iovecs<IoVec, void*>(sgl, &iov, &total)) return rc;
    for (daos_size_t i = 0; i < iod->iod_nr; ++i) want += iod->iod_rgs[i].rg_len;
    if (want != total) return EINVAL;
    if ((a.obj->flags & O_ACCMODE) == O_WRONLY) return EPERM;
    return run_with_event(ev, EINVAL, [&]() -> int {
      uint64_t pos = 0, got = 0;
      for (daos_size_t i = 0; i < iod->iod_nr; ++i) {
        const daos_range_t& rg = iod->iod_rgs[i];
        auto part = slice<IoVec, void*>(iov, &pos, rg.rg_len);
        if (part.empty()) continue;
        auto n = a.obj->o->read(rg.rg_idx, part.data(), part.size());
        if (!n.ok()) return fail_errno("dfs_readx", n.status());
        got += n.value();
      }
      *read_size = got;
      return 0;
    });
  });
}

int dfs_write(dfs_t* dfs, dfs_obj_t* obj, d_sg_list_t* sgl, daos_off_t off, daos_event_t* ev) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    std::vector<ConstIoVec> iov;
    uint64_t total = 0;
    if (int rc = iovecs<ConstIoVec, const void*>(sgl, &iov, &total)) return rc;
    if ((a.obj->flags & O_ACCMODE) == O_RDONLY) return EPERM;
    return run_with_event(ev, EINVAL, [&]() -> int {
      if (total == 0) return 0;
      return fail_errno("dfs_write", a.obj->o->write(off, iov.data(), iov.size()));
    });
  });
}

int dfs_writex(dfs_t* dfs, dfs_obj_t* obj, dfs_iod_t* iod, d_sg_list_t* sgl, daos_event_t* ev) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    if (iod == nullptr || (iod->iod_nr > 0 && iod->iod_rgs == nullptr)) return EINVAL;
    std::vector<ConstIoVec> iov;
    uint64_t total = 0, want = 0;
    if (int rc = iovecs<ConstIoVec, const void*>(sgl, &iov, &total)) return rc;
    for (daos_size_t i = 0; i < iod->iod_nr; ++i) want += iod->iod_rgs[i].rg_len;
    if (want != total) return EINVAL;
    if ((a.obj->flags & O_ACCMODE) == O_RDONLY) return EPERM;
    return run_with_event(ev, EINVAL, [&]() -> int {
      uint64_t pos = 0;
      for (daos_size_t i = 0; i < iod->iod_nr; ++i) {
        const daos_range_t& rg = iod->iod_rgs[i];
        auto part = slice<ConstIoVec, const void*>(iov, &pos, rg.rg_len);
        if (part.empty()) continue;
        Status st = a.obj->o->write(rg.rg_idx, part.data(), part.size());
        if (!st.ok()) return fail_errno("dfs_writex", st);
      }
      return 0;
    });
  });
}

int dfs_get_size(dfs_t* dfs, dfs_obj_t* obj, daos_size_t* size) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    if (size == nullptr) return EINVAL;
    auto n = a.obj->o->get_size();
    if (!n.ok()) return fail_errno(current_call(), n.status());
    *size = n.value();
    return 0;
  });
}

int dfs_punch(dfs_t* dfs, dfs_obj_t* obj, daos_off_t offset, daos_size_t len) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_file(dfs, obj, &a)) return rc;
    if ((a.obj->flags & O_ACCMODE) == O_RDONLY) return EPERM;
    if (len == DFS_MAX_FSIZE) return fail_errno(current_call(), a.obj->o->set_size(offset));
    if (len == 0) return 0;
    return fail_errno(current_call(), a.obj->o->punch(offset, len));
  });
}

int dfs_sync(dfs_t* dfs) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    return fail_errno(current_call(), a.m->cont->cont->sync());
  });
}

int dfs_readdir(dfs_t* dfs, dfs_obj_t* obj, daos_anchor_t* anchor, uint32_t* nr,
                struct dirent* dirs) {
  return guard_errno(__func__, [&] {
    return readdir_common(dfs, obj, anchor, nr, dirs, nullptr, current_call());
  });
}

int dfs_readdirplus(dfs_t* dfs, dfs_obj_t* obj, daos_anchor_t* anchor, uint32_t* nr,
                    struct dirent* dirs, struct stat* stbufs) {
  return guard_errno(__func__, [&]() -> int {
    if (stbufs == nullptr) return EINVAL;
    return readdir_common(dfs, obj, anchor, nr, dirs, stbufs, current_call());
  });
}

int dfs_iterate(dfs_t* dfs, dfs_obj_t* obj, daos_anchor_t* anchor, uint32_t* nr, size_t size,
                dfs_filler_cb_t op, void* arg) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_obj(obj, &a)) return rc;
    if (!a.obj->o->is_dir()) return ENOTDIR;
    if (anchor == nullptr || nr == nullptr || *nr == 0) return EINVAL;
    bool eof = false;
    auto ents = list_after(*a.m->fs, a.obj->o.get(), anchor, *nr, false, &eof);
    if (!ents.ok()) return fail_errno(current_call(), ents.status());
    uint32_t n = 0;
    size_t used = 0;
    std::string last;
    int rc = 0;
    for (const auto& e : ents.value()) {
      if (used + e.name.size() + 1 > size) {
        if (n == 0) rc = E2BIG;
        eof = false;
        break;
      }
      if (op != nullptr && (rc = op(dfs, obj, e.name.c_str(), arg)) != 0) {
        eof = false;
        break;
      }
      used += e.name.size() + 1;
      last = e.name;
      ++n;
    }
    *nr = n;
    if (n > 0 || eof)
      anchor_set(anchor, last, eof && n == ents->size());
    else if (ents->empty())
      anchor_set(anchor, std::string(), true);
    return rc;
  });
}

int dfs_mkdir(dfs_t* dfs, dfs_obj_t* parent, const char* name, mode_t mode, daos_oclass_id_t cid) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (read_only(*a.m)) return EPERM;
    if (name == nullptr) return EINVAL;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    auto cls = oclass_name_of(cid);
    if (!cls.ok()) return fail_errno(current_call(), cls.status());
    return fail_errno(current_call(), a.m->fs->mkdir(p, name, mode, cls.value()));
  });
}

int dfs_remove(dfs_t* dfs, dfs_obj_t* parent, const char* name, bool force, daos_obj_id_t* oid) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (read_only(*a.m)) return EPERM;
    if (name == nullptr) return EINVAL;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    objstore::ObjectId removed;
    Status st = a.m->fs->remove(p, std::string(name), force, &removed);
    if (!st.ok()) return fail_errno(current_call(), st);
    if (oid) *oid = daos_oid(removed);
    return 0;
  });
}

int dfs_move(dfs_t* dfs, dfs_obj_t* parent, const char* name, dfs_obj_t* new_parent,
             const char* new_name, daos_obj_id_t* oid) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj *p = nullptr, *np = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (read_only(*a.m)) return EPERM;
    if (name == nullptr || new_name == nullptr) return EINVAL;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    if (int rc = need_parent(new_parent, &a, &np)) return rc;
    // The object the move replaces, for `oid` (read before: rename reports only success).
    objstore::ObjectId replaced;
    if (oid) {
      auto src = a.m->fs->stat(p, std::string(name));
      auto dst = a.m->fs->stat(np, std::string(new_name));
      if (dst.ok() && !(src.ok() && src->oid == dst->oid)) replaced = dst->oid;
    }
    Status st = a.m->fs->rename(p, name, np, new_name);
    if (!st.ok()) return fail_errno(current_call(), st);
    if (oid) *oid = daos_oid(replaced);
    return 0;
  });
}

int dfs_obj2id(dfs_obj_t* obj, daos_obj_id_t* oid) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_obj(obj, &a)) return rc;
    if (oid == nullptr) return EINVAL;
    *oid = daos_oid(a.obj->o->oid());
    return 0;
  });
}

int dfs_get_mode(dfs_obj_t* obj, mode_t* mode) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_obj(obj, &a)) return rc;
    if (mode == nullptr) return EINVAL;
    *mode = a.obj->o->mode();
    return 0;
  });
}

int dfs_obj_get_info(dfs_t* dfs, dfs_obj_t* obj, dfs_obj_info_t* info) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_obj(obj, &a)) return rc;
    if (info == nullptr) return EINVAL;
    auto l = a.m->fs->get_layout(*a.obj->o);
    if (!l.ok()) return fail_errno(current_call(), l.status());
    *info = dfs_obj_info_t{};
    info->doi_oid = daos_oid(l->oid);
    info->doi_oclass_id = oclass_id_of(l->oclass);
    if (a.obj->o->is_dir()) {
      info->doi_dir_oclass_id = info->doi_file_oclass_id = oclass_id_of_name(l->child_oclass);
      info->doi_chunk_size = l->child_chunk_size;
    } else {
      info->doi_chunk_size = l->chunk_size;
    }
    return 0;
  });
}

static int set_dir_attr(dfs_t* dfs, dfs_obj_t* obj, const daos_oclass_id_t* cid, daos_size_t csize,
                        const char* call) {
  Args a;
  if (int rc = need_mount(dfs, &a)) return rc;
  if (int rc = need_obj(obj, &a)) return rc;
  if (!a.obj->o->is_dir()) {
    note(call, "only directories carry a class and chunk size for new children");
    return ENOTSUP;
  }
  if (read_only(*a.m)) return EPERM;
  std::string cls;
  if (cid != nullptr) {
    auto n = oclass_name_of(*cid);
    if (!n.ok()) return fail_errno(call, n.status());
    cls = n.value();
  } else {
    auto l = a.m->fs->get_layout(*a.obj->o);  // keep the class, change the chunk size
    if (!l.ok()) return fail_errno(call, l.status());
    cls = l->child_oclass;
  }
  return fail_errno(call, a.m->fs->set_dir_attr(*a.obj->o, cls, csize));
}

int dfs_obj_set_oclass(dfs_t* dfs, dfs_obj_t* obj, int flags, daos_oclass_id_t cid) {
  (void)flags;
  return guard_errno(__func__, [&] { return set_dir_attr(dfs, obj, &cid, 0, __func__); });
}

int dfs_obj_set_chunk_size(dfs_t* dfs, dfs_obj_t* obj, int flags, daos_size_t csize) {
  (void)flags;
  return guard_errno(__func__, [&]() -> int {
    if (csize == 0) return EINVAL;
    return set_dir_attr(dfs, obj, nullptr, csize, current_call());
  });
}

int dfs_get_chunk_size(dfs_obj_t* obj, daos_size_t* chunk_size) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_obj(obj, &a)) return rc;
    if (!a.obj->o->is_file() || chunk_size == nullptr) return EINVAL;
    *chunk_size = a.obj->o->chunk_size();
    return 0;
  });
}

int dfs_get_symlink_value(dfs_obj_t* obj, char* buf, daos_size_t* size) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_obj(obj, &a)) return rc;
    if (!a.obj->o->is_symlink() || size == nullptr) return EINVAL;
    const std::string& v = a.obj->o->symlink_target();
    const daos_size_t need = v.size() + 1;
    if (buf != nullptr && *size > 0) {
      const size_t n = std::min<size_t>(v.size(), *size - 1);
      std::memcpy(buf, v.data(), n);
      buf[n] = '\0';
    }
    *size = need;
    return 0;
  });
}

int dfs_stat(dfs_t* dfs, dfs_obj_t* parent, const char* name, struct stat* stbuf) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    if (stbuf == nullptr) return EINVAL;
    Result<DfsStat> st = Status(EDAOS_INVAL, "");
    if (name == nullptr) {
      if (!is_root(a, p)) {
        note(current_call(), "name NULL is only valid for the root");
        return EINVAL;
      }
      st = a.m->fs->stat("/", false);
    } else {
      st = a.m->fs->stat(p, std::string(name));
    }
    if (!st.ok()) return fail_errno(current_call(), st.status());
    to_stat(st.value(), stbuf);
    return 0;
  });
}

int dfs_ostat(dfs_t* dfs, dfs_obj_t* obj, struct stat* stbuf) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    if (int rc = need_mount(dfs, &a)) return rc;
    if (int rc = need_obj(obj, &a)) return rc;
    if (stbuf == nullptr) return EINVAL;
    auto st = a.obj->o->stat();
    if (!st.ok()) return fail_errno(current_call(), st.status());
    to_stat(st.value(), stbuf);
    return 0;
  });
}

int dfs_access(dfs_t* dfs, dfs_obj_t* parent, const char* name, int mask) {
  return guard_errno(__func__, [&]() -> int {
    Args a;
    const DfsObj* p = nullptr;
    if (int rc = need_mount(dfs, &a)) return rc;
    if ((mask & W_OK) && read_only(*a.m)) return EPERM;
    if (int rc = need_parent(parent, &a, &p)) return rc;
    Result<DfsStat> st = Status(EDAOS_INVAL, "");
    if (name == nullptr) {
      if (!is_root(a, p)) return EINVAL;
      st = a.m->fs->stat("/", false);
    } else {
      st = a.m->fs->stat(p, std::string(name));
    }
    if (!st.ok()) return fail_errno(current_call(), st.status());
    if (mask == F_OK) return 0;
    const uid_t uid = getuid();
    const mode_t mode = st->mode;
    mode_t bits = mode & S_IRWXO;  // others
    if (st->uid == uid)
      bits = (mode & S_IRWXU) >> 6;
    else if (st->gid == getgid())
      bits = (mode & S_IRWXG) >> 3;
    if (uid == 0) bits |= R_OK | W_OK | ((mode & 0111) ? X_OK : 0);
    return (mask & (R_OK | W_OK | X_OK) & ~bits) ? EACCES : 0;
  });
}

}  // extern "C"

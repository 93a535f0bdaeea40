// The namespace's C API (dfs.h): a thin noexcept shell over dfs.hpp. Failures record their
// message for edaos_os_last_error() through the object store's C API helpers.
#include <fcntl.h>

#include <cstring>
#include <new>
#include <string>

#include "api/c_api_internal.hpp"
#include "common/log.hpp"
#include "dfs/dfs_internal.hpp"
#include "edaos/objstore/dfs.h"
#include "edaos/objstore/dfs.hpp"

EDAOS_LOG_FACILITY(dfs_capi);

using namespace edaos;
using namespace edaos::objstore;

struct edaos_dfs {
  std::unique_ptr<Dfs> d;
};
struct edaos_dfs_obj {
  std::unique_ptr<DfsObj> o;
};

namespace {

template <typename F>
int guard(const char* fn, F&& f) noexcept {
  try {
    return capi::record(f());
  } catch (const std::bad_alloc&) {
    capi::record_message(std::string(fn) + ": out of memory");
    return EDAOS_NOMEM;
  } catch (const std::exception& e) {
    EDAOS_LOG(error, "%s: unexpected exception: %s", fn, e.what());
    capi::record_message(std::string(fn) + ": internal error: " + e.what());
    return EDAOS_INTERNAL;
  } catch (...) {
    capi::record_message(std::string(fn) + ": internal error");
    return EDAOS_INTERNAL;
  }
}

Status need(const void* p, const char* what) {
  return p ? Status::OK() : Status(EDAOS_INVAL, std::string(what) + " is NULL");
}

const DfsObj* obj_of(edaos_dfs_obj_t* o) { return o ? o->o.get() : nullptr; }
std::string str_of(const char* s) { return s ? s : ""; }

edaos_oid_t c_oid(ObjectId o) { return edaos_oid_t{o.hi, o.lo}; }
edaos_dfs_time_t c_time(const struct timespec& t) {
  return edaos_dfs_time_t{static_cast<int64_t>(t.tv_sec), static_cast<int64_t>(t.tv_nsec)};
}

void fill_stat(const DfsStat& s, edaos_dfs_stat_t* out) {
  std::memset(out, 0, sizeof *out);
  out->ds_mode = static_cast<uint32_t>(s.mode);
  out->ds_uid = s.uid;
  out->ds_gid = s.gid;
  out->ds_size = s.size;
  out->ds_atime = c_time(s.atime);
  out->ds_mtime = c_time(s.mtime);
  out->ds_ctime = c_time(s.ctime);
  out->ds_oid = c_oid(s.oid);
  if (!S_ISLNK(s.mode))
    std::snprintf(out->ds_oclass, sizeof out->ds_oclass, "%s", s.oclass.name().c_str());
  out->ds_chunk_size = s.chunk_size;
  out->ds_nlink = s.nlink;
}

Status wrap_obj(Result<std::unique_ptr<DfsObj>> r, edaos_dfs_obj_t** out) {
  if (!r.ok()) return r.status();
  *out = new edaos_dfs_obj{std::move(r).value()};
  return Status::OK();
}

}  // namespace

extern "C" {

int edaos_dfs_mount(edaos_os_cont_t* cont, MPI_Comm comm, int flags, edaos_dfs_t** dfs) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    auto r = Dfs::mount(capi::container_of(cont), comm, flags);
    if (!r.ok()) return r.status();
    *dfs = new edaos_dfs{std::move(r).value()};
    return Status::OK();
  });
}

int edaos_dfs_umount(edaos_dfs_t* dfs) {
  return guard(__func__, [&]() -> Status {
    if (!dfs) return Status::OK();
    Status st = dfs->d->umount();
    delete dfs;
    return st;
  });
}

int edaos_dfs_open(edaos_dfs_t* dfs, edaos_dfs_obj_t* parent, const char* name, uint32_t mode,
                   int flags, const char* oclass, uint64_t chunk_size, const char* symlink_target,
                   edaos_dfs_obj_t** obj) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    return wrap_obj(dfs->d->open(obj_of(parent), name, static_cast<mode_t>(mode), flags,
                                 str_of(oclass), chunk_size, str_of(symlink_target)),
                    obj);
  });
}

int edaos_dfs_lookup(edaos_dfs_t* dfs, const char* path, int flags, edaos_dfs_obj_t** obj,
                     uint32_t* mode_out) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(path, "path"));
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    EDAOS_RETURN_IF_ERROR(wrap_obj(dfs->d->lookup(path, flags), obj));
    if (mode_out) *mode_out = static_cast<uint32_t>((*obj)->o->mode());
    return Status::OK();
  });
}

int edaos_dfs_release(edaos_dfs_obj_t* obj) {
  return guard(__func__, [&]() -> Status {
    Status st;
    // Session 12 (issue 15): a pipelined direct write returns before its commit is applied; an
    // error that commit met is reported here, as Container::close_object reports it (once, for
    // this file only), instead of going away with the handle. The handle is released anyway.
    if (obj && obj->o && obj->o->is_file() && (obj->o->flags() & O_ACCMODE) != O_RDONLY)
      st = obj->o->state()->m->cont->close_object(obj->o->oid());
    delete obj;  // records mtime/ctime if it wrote
    return st;
  });
}

int edaos_dfs_read(edaos_dfs_obj_t* obj, uint64_t off, const edaos_iov_t* iov, uint32_t n_iov,
                   uint64_t* nread) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    EDAOS_RETURN_IF_ERROR(need(nread, "nread"));
    if (n_iov) EDAOS_RETURN_IF_ERROR(need(iov, "iov"));
    std::vector<IoVec> v(n_iov);
    for (uint32_t i = 0; i < n_iov; ++i) v[i] = IoVec{iov[i].iov_base, iov[i].iov_len};
    EDAOS_ASSIGN_OR_RETURN(*nread, obj->o->read(off, v.data(), v.size()));
    return Status::OK();
  });
}

int edaos_dfs_read_full(edaos_dfs_obj_t* obj, uint64_t off, const edaos_iov_t* iov,
                        uint32_t n_iov) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    if (n_iov) EDAOS_RETURN_IF_ERROR(need(iov, "iov"));
    std::vector<IoVec> v(n_iov);
    for (uint32_t i = 0; i < n_iov; ++i) v[i] = IoVec{iov[i].iov_base, iov[i].iov_len};
    return obj->o->read_full(off, v.data(), v.size());
  });
}

int edaos_dfs_write(edaos_dfs_obj_t* obj, uint64_t off, const edaos_iov_t* iov, uint32_t n_iov) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    if (n_iov) EDAOS_RETURN_IF_ERROR(need(iov, "iov"));
    std::vector<ConstIoVec> v(n_iov);
    for (uint32_t i = 0; i < n_iov; ++i) v[i] = ConstIoVec{iov[i].iov_base, iov[i].iov_len};
    return obj->o->write(off, v.data(), v.size());
  });
}

int edaos_dfs_get_size(edaos_dfs_obj_t* obj, uint64_t* size) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    EDAOS_RETURN_IF_ERROR(need(size, "size"));
    EDAOS_ASSIGN_OR_RETURN(*size, obj->o->get_size());
    return Status::OK();
  });
}

int edaos_dfs_set_size(edaos_dfs_obj_t* obj, uint64_t size) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    return obj->o->set_size(size);
  });
}

int edaos_dfs_punch(edaos_dfs_obj_t* obj, uint64_t off, uint64_t len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    return obj->o->punch(off, len);
  });
}

int edaos_dfs_sync(edaos_dfs_obj_t* obj) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    return obj->o->sync();
  });
}

int edaos_dfs_stat(edaos_dfs_t* dfs, edaos_dfs_obj_t* parent, const char* name,
                   edaos_dfs_stat_t* st) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    EDAOS_RETURN_IF_ERROR(need(st, "st"));
    EDAOS_ASSIGN_OR_RETURN(DfsStat s, dfs->d->stat(obj_of(parent), name));
    fill_stat(s, st);
    return Status::OK();
  });
}

int edaos_dfs_ostat(edaos_dfs_obj_t* obj, edaos_dfs_stat_t* st) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    EDAOS_RETURN_IF_ERROR(need(st, "st"));
    EDAOS_ASSIGN_OR_RETURN(DfsStat s, obj->o->stat());
    fill_stat(s, st);
    return Status::OK();
  });
}

int edaos_dfs_mkdir(edaos_dfs_t* dfs, edaos_dfs_obj_t* parent, const char* name, uint32_t mode,
                    const char* oclass) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    return dfs->d->mkdir(obj_of(parent), name, static_cast<mode_t>(mode), str_of(oclass));
  });
}

int edaos_dfs_remove(edaos_dfs_t* dfs, edaos_dfs_obj_t* parent, const char* name, int force) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    return dfs->d->remove(obj_of(parent), name, force != 0);
  });
}

int edaos_dfs_rename(edaos_dfs_t* dfs, edaos_dfs_obj_t* parent, const char* name,
                     edaos_dfs_obj_t* new_parent, const char* new_name) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    EDAOS_RETURN_IF_ERROR(need(new_name, "new_name"));
    return dfs->d->rename(obj_of(parent), name, obj_of(new_parent), new_name);
  });
}

int edaos_dfs_readdir(edaos_dfs_t* dfs, edaos_dfs_obj_t* dir, edaos_dfs_anchor_t* anchor,
                      uint32_t* nr, edaos_dfs_dirent_t* ents) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(anchor, "anchor"));
    EDAOS_RETURN_IF_ERROR(need(nr, "nr"));
    EDAOS_RETURN_IF_ERROR(need(ents, "ents"));
    DfsAnchor a;
    a.last.assign(anchor->da_last, strnlen(anchor->da_last, sizeof anchor->da_last));
    a.eof = anchor->da_eof != 0;
    EDAOS_ASSIGN_OR_RETURN(auto v, dfs->d->readdir(obj_of(dir), &a, *nr));
    for (size_t i = 0; i < v.size(); ++i) {
      std::memset(&ents[i], 0, sizeof ents[i]);
      std::snprintf(ents[i].dd_name, sizeof ents[i].dd_name, "%s", v[i].name.c_str());
      ents[i].dd_mode = static_cast<uint32_t>(v[i].mode);
      ents[i].dd_oid = c_oid(v[i].oid);
    }
    *nr = static_cast<uint32_t>(v.size());
    std::memset(anchor->da_last, 0, sizeof anchor->da_last);
    std::memcpy(anchor->da_last, a.last.data(),
                std::min(a.last.size(), sizeof anchor->da_last - 1));
    anchor->da_eof = a.eof ? 1 : 0;
    return Status::OK();
  });
}

int edaos_dfs_obj_serialize(edaos_dfs_t* dfs, edaos_dfs_obj_t* obj, void* buf, size_t* len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    EDAOS_RETURN_IF_ERROR(need(len, "len"));
    EDAOS_ASSIGN_OR_RETURN(std::string b, dfs->d->obj_serialize(*obj->o));
    const size_t have = *len;
    *len = b.size();
    if (!buf) return Status::OK();
    if (have < b.size())
      return Status(EDAOS_TOOBIG, "serialized handle needs " + std::to_string(b.size()) +
                                      " bytes, buffer has " + std::to_string(have));
    std::memcpy(buf, b.data(), b.size());
    return Status::OK();
  });
}

int edaos_dfs_obj_deserialize(edaos_dfs_t* dfs, const void* buf, size_t len, int flags,
                              edaos_dfs_obj_t** obj) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(dfs, "dfs"));
    EDAOS_RETURN_IF_ERROR(need(buf, "buf"));
    EDAOS_RETURN_IF_ERROR(need(obj, "obj"));
    return wrap_obj(dfs->d->obj_deserialize(std::string(static_cast<const char*>(buf), len), flags),
                    obj);
  });
}

int edaos_dfs_errno(int status) { return dfs_errno(static_cast<edaos_status_t>(status)); }

}  // extern "C"

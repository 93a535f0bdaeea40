// DFS: library init, dfs_connect and its pool/container cache, POSIX container creation,
// mount / umount, handle sharing of mounts, dfs_query, dfs_set_prefix, dfs_suggest_oclass.
#include <cstring>
#include <map>
#include <sstream>

#include "daos_internal.hpp"

namespace edaos::daosapi {

namespace {

using objstore::ObjClass;

// dfs_init's reference count and dfs_connect's cache of pool and container handles (keyed by
// the names given, as in DAOS), each with the number of mounts using it.
struct Cached {
  daos_handle_t h{0};
  int refs = 0;
};
std::mutex g_dfs_mu;
int g_dfs_refs = 0;
std::map<std::string, Cached> g_pools, g_conts;

// Keys carry the access mode: a read-only and a read-write dfs_connect of one pool get their
// own pool and container connections (DAOS shares the first one's, whatever its mode).
std::string pool_key(const std::string& pool, int amode) {
  return pool + '\0' + std::to_string(amode);
}
std::string cont_key(const std::string& pool, const std::string& cont, int amode) {
  return pool_key(pool, amode) + '\0' + cont;
}

// One "file:single" / "dir:max" hint -> class. `directory` gets the kind.
Result<ObjClass> class_for_hint(const std::string& hint, int rd_fac, const objstore::PoolMap& map,
                                bool* directory) {
  const size_t colon = hint.find(':');
  const std::string kind = hint.substr(0, colon);
  const std::string val = colon == std::string::npos ? "" : hint.substr(colon + 1);
  if (kind == "file") {
    *directory = false;
  } else if (kind == "dir" || kind == "directory") {
    *directory = true;
  } else {
    return Status(EDAOS_INVAL, "hint '" + hint + "': expected file:<v> or dir:<v>");
  }
  ObjClass oc = objstore::default_oclass(rd_fac, *directory, map);
  if (val == "single") {
    oc.groups = 1;
  } else if (val == "max") {
    oc.groups = 0;  // GX
  } else {
    return Status(EDAOS_INVAL, "hint '" + hint + "': the value must be single or max");
  }
  EDAOS_RETURN_IF_ERROR(objstore::validate_for_pool(oc, map));
  return oc;
}

Status class_prop(daos_oclass_id_t id, std::string* out) {
  if (id == OC_UNKNOWN) return Status::OK();
  EDAOS_ASSIGN_OR_RETURN(*out, oclass_name_of(id));
  return Status::OK();
}

// ContainerProps of a new POSIX container from dfs_attr_t (NULL: defaults).
Status props_of_attr(const dfs_attr_t* attr, const objstore::PoolMap& map,
                     objstore::ContainerProps* p) {
  p->type = objstore::ContType::kPosix;
  if (attr == nullptr) return Status::OK();
  EDAOS_RETURN_IF_ERROR(apply_daos_props(attr->da_props, p, true));
  if (p->type != objstore::ContType::kPosix)
    return Status(EDAOS_INVAL, "a DFS container has layout type POSIX");
  if (attr->da_chunk_size) p->chunk_size = attr->da_chunk_size;
  EDAOS_RETURN_IF_ERROR(class_prop(attr->da_oclass_id, &p->oclass));
  EDAOS_RETURN_IF_ERROR(class_prop(attr->da_dir_oclass_id, &p->dir_oclass));
  EDAOS_RETURN_IF_ERROR(class_prop(attr->da_file_oclass_id, &p->file_oclass));
  const std::string hints(attr->da_hints, strnlen(attr->da_hints, sizeof attr->da_hints));
  std::stringstream ss(hints);
  for (std::string h; std::getline(ss, h, ',');) {
    if (h.empty()) continue;
    bool dir = false;
    EDAOS_ASSIGN_OR_RETURN(ObjClass oc, class_for_hint(h, static_cast<int>(p->rd_fac), map, &dir));
    std::string& cls = dir ? p->dir_oclass : p->file_oclass;
    if (cls.empty() && p->oclass.empty()) cls = oc.name();  // an explicit class wins
  }
  return Status::OK();
}

std::shared_ptr<MountImpl> new_mount(std::shared_ptr<PoolImpl> p, std::shared_ptr<ContImpl> c,
                                     std::unique_ptr<Dfs> fs, int amode) {
  auto m = std::make_shared<MountImpl>();
  m->pool = std::move(p);
  m->cont = std::move(c);
  m->fs = std::move(fs);
  m->amode = amode;
  return m;
}

// Mounts the container behind `coh` (pool `poh`). Returns 0 or an errno value.
int mount_over(daos_handle_t poh, daos_handle_t coh, int amode, std::shared_ptr<MountImpl>* out,
               const char* call) {
  auto p = Registry::get().pool(poh);
  auto c = Registry::get().cont(coh);
  if (!p || !c) {
    note(call, "invalid pool or container handle");
    return EINVAL;
  }
  if (amode != O_RDONLY && amode != O_RDWR) {
    note(call, "flags must be O_RDONLY or O_RDWR");
    return EINVAL;
  }
  if (c->pool->pool->map().pool_uuid != p->pool->map().pool_uuid) {
    note(call, "the container handle belongs to another pool");
    return EINVAL;
  }
  if (amode == O_RDWR && (c->flags & DAOS_COO_RO)) {
    note(call, "read-write mount of a container opened DAOS_COO_RO");
    return EPERM;
  }
  auto fs = Dfs::mount(c->cont, MPI_COMM_NULL, amode);
  if (!fs.ok()) return fail_errno(call, fs.status());
  *out = new_mount(p, c, std::move(fs).value(), amode);
  (*out)->poh = poh;
  (*out)->coh = coh;
  return 0;
}

// dfs_cont_create and dfs_cont_create_with_label (label NULL: from the properties).
int cont_create(daos_handle_t poh, const char* label, dfs_attr_t* attr, uuid_t* uuid,
                daos_handle_t* coh, dfs_t** dfs, const char* call) {
  auto p = Registry::get().pool(poh);
  if (!p) {
    note(call, "invalid pool handle");
    return EINVAL;
  }
  if (dfs != nullptr && coh == nullptr) {
    note(call, "a mount needs the container handle (coh) too");
    return EINVAL;
  }
  if ((p->flags & DAOS_PC_MASK) == DAOS_PC_RO) {
    note(call, "the pool handle is read-only");
    return EPERM;
  }
  objstore::ContainerProps props;
  Status st = props_of_attr(attr, p->pool->map(), &props);
  if (!st.ok()) return fail_errno(call, st);
  if (label != nullptr) {
    if (!daos_label_is_valid(label)) {
      note(call, std::string("invalid container label '") + label + "'");
      return EINVAL;
    }
    props.label = label;
  }
  if (props.label.empty()) props.label = "container_" + objstore::Uuid::generate().to_string();
  const std::string lbl = props.label;
  auto c = p->pool->cont_create(lbl, std::move(props));
  if (!c.ok()) return fail_errno(call, c.status());
  // The namespace is created now, so that a later read-only mount finds it.
  auto fs = Dfs::mount(c.value(), MPI_COMM_NULL, O_RDWR);
  if (!fs.ok()) {
    const int rc = fail_errno(call, fs.status());
    (void)p->pool->cont_destroy(c.value()->uuid().to_string());
    return rc;
  }
  if (uuid != nullptr) std::memcpy(*uuid, c.value()->uuid().b, sizeof(uuid_t));
  if (coh == nullptr) return 0;
  auto ci = std::make_shared<ContImpl>();
  ci->pool = p;
  ci->cont = c.value();
  ci->flags = DAOS_COO_RW;
  *coh = Registry::get().add_cont(ci);
  if (dfs != nullptr) {
    auto m = new_mount(p, ci, std::move(fs).value(), O_RDWR);
    m->poh = poh;
    m->coh = *coh;
    *dfs = Registry::get().add_mount(std::move(m));
  }
  return 0;
}

// Drops one dfs_connect reference on a cached handle; the last closes it. g_dfs_mu held.
void release_cached(std::map<std::string, Cached>& cache, const std::string& key, bool pool) {
  auto it = cache.find(key);
  if (it == cache.end() || --it->second.refs > 0) return;
  if (pool)
    (void)daos_pool_disconnect(it->second.h, nullptr);
  else
    (void)daos_cont_close(it->second.h, nullptr);
  cache.erase(it);
}

void release_connect(MountImpl& m) {
  std::lock_guard<std::mutex> lk(g_dfs_mu);
  if (m.connect_pool.empty()) {  // dfs_global2local_all: the mount owns its handles
    (void)daos_cont_close(m.coh, nullptr);
    (void)daos_pool_disconnect(m.poh, nullptr);
    return;
  }
  release_cached(g_conts, cont_key(m.connect_pool, m.connect_cont, m.amode), false);
  release_cached(g_pools, pool_key(m.connect_pool, m.amode), true);
}

constexpr uint32_t kMountGlobMagic = 0x47464445;     // "EDFG"
constexpr uint32_t kMountAllGlobMagic = 0x41464445;  // "EDFA"
constexpr uint32_t kGlobVersion = 1;

}  // namespace

void dfs_cache_clear() {
  std::lock_guard<std::mutex> lk(g_dfs_mu);
  g_pools.clear();
  g_conts.clear();
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int dfs_init(void) {
  return guard_errno(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(g_dfs_mu);
    if (g_dfs_refs == 0) {
      const int rc = daos_init();
      if (rc) return errno_of_der(rc);
    }
    ++g_dfs_refs;
    return 0;
  });
}

int dfs_fini(void) {
  return guard_errno(__func__, [&]() -> int {
    {
      std::lock_guard<std::mutex> lk(g_dfs_mu);
      if (g_dfs_refs == 0) {
        note(current_call(), "dfs_init was not called");
        return EINVAL;
      }
      if (--g_dfs_refs > 0) return 0;
      for (auto& c : g_conts) (void)daos_cont_close(c.second.h, nullptr);
      for (auto& p : g_pools) (void)daos_pool_disconnect(p.second.h, nullptr);
      g_conts.clear();
      g_pools.clear();
    }
    return errno_of_der(daos_fini());
  });
}

int dfs_connect(const char* pool, const char* sys, const char* cont, int flags, dfs_attr_t* attr,
                dfs_t** dfs) {
  (void)sys;
  return guard_errno(__func__, [&]() -> int {
    if (dfs == nullptr || pool == nullptr || cont == nullptr) return EINVAL;
    const int amode = flags & O_ACCMODE;
    if (amode != O_RDONLY && amode != O_RDWR) {
      note(current_call(), "flags must be O_RDONLY or O_RDWR (| O_CREAT)");
      return EINVAL;
    }
    std::lock_guard<std::mutex> lk(g_dfs_mu);
    if (g_dfs_refs == 0) {
      note(current_call(), "dfs_init was not called");
      return EACCES;
    }
    // Pool, from the cache or connected now.
    const std::string pk = pool_key(pool, amode);
    Cached& pc = g_pools[pk];
    if (pc.refs == 0) {
      const int rc = daos_pool_connect(pool, nullptr, amode == O_RDWR ? DAOS_PC_RW : DAOS_PC_RO,
                                       &pc.h, nullptr, nullptr);
      if (rc) {
        g_pools.erase(pk);
        return errno_of_der(rc);
      }
    }
    ++pc.refs;
    const daos_handle_t poh = pc.h;
    // Container, likewise (created with O_CREAT when it does not exist).
    const std::string ck = cont_key(pool, cont, amode);
    Cached& cc = g_conts[ck];
    int rc = 0;
    if (cc.refs == 0) {
      const unsigned mode = amode == O_RDWR ? DAOS_COO_RW : DAOS_COO_RO;
      rc = daos_cont_open(poh, cont, mode, &cc.h, nullptr, nullptr);
      if (rc == -DER_NONEXIST && (flags & O_CREAT)) {
        rc = cont_create(poh, cont, attr, nullptr, &cc.h, nullptr, current_call());
        if (rc == EEXIST)  // created by someone else meanwhile
          rc = errno_of_der(daos_cont_open(poh, cont, mode, &cc.h, nullptr, nullptr));
      } else {
        rc = errno_of_der(rc);
      }
    }
    if (rc == 0) ++cc.refs;
    std::shared_ptr<MountImpl> m;
    if (rc == 0) rc = mount_over(poh, cc.h, amode, &m, current_call());
    if (rc != 0) {
      if (cc.refs == 0)
        g_conts.erase(ck);
      else
        release_cached(g_conts, ck, false);
      release_cached(g_pools, pk, true);
      return rc;
    }
    m->kind = MountImpl::kConnect;
    m->connect_pool = pool;
    m->connect_cont = cont;
    *dfs = Registry::get().add_mount(std::move(m));
    return 0;
  });
}

int dfs_disconnect(dfs_t* dfs) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m) return EINVAL;
    if (m->kind != MountImpl::kConnect) {
      note(current_call(), "mounted with dfs_mount: release it with dfs_umount");
      return EINVAL;
    }
    {
      std::lock_guard<std::mutex> lk(m->mu);
      if (m->pool_refs || m->cont_refs) return EBUSY;
    }
    m = Registry::get().take_mount(dfs);
    if (!m) return EINVAL;
    m->fs.reset();
    release_connect(*m);
    return 0;
  });
}

int dfs_destroy(const char* pool, const char* sys, const char* cont, int force, daos_event_t* ev) {
  return guard_errno(__func__, [&]() -> int {
    if (pool == nullptr || cont == nullptr) return EINVAL;
    {
      std::lock_guard<std::mutex> lk(g_dfs_mu);
      if (g_dfs_refs == 0) {
        note(current_call(), "dfs_init was not called");
        return EACCES;
      }
      // Evict the cached container handles: their mounts fail from now on.
      for (int amode : {O_RDONLY, O_RDWR}) {
        auto it = g_conts.find(cont_key(pool, cont, amode));
        if (it == g_conts.end()) continue;
        (void)daos_cont_close(it->second.h, nullptr);
        g_conts.erase(it);
      }
    }
    return run_with_event(ev, EINVAL, [&]() -> int {
      daos_handle_t poh;
      int rc = daos_pool_connect(pool, sys, DAOS_PC_RW, &poh, nullptr, nullptr);
      if (rc) return errno_of_der(rc);
      rc = daos_cont_destroy(poh, cont, force, nullptr);
      (void)daos_pool_disconnect(poh, nullptr);
      return errno_of_der(rc);
    });
  });
}

int dfs_cont_create(daos_handle_t poh, uuid_t* uuid, dfs_attr_t* attr, daos_handle_t* coh,
                    dfs_t** dfs) {
  return guard_errno(__func__, [&]() -> int {
    if (uuid == nullptr) return EINVAL;
    return cont_create(poh, nullptr, attr, uuid, coh, dfs, current_call());
  });
}

int dfs_cont_create_with_label(daos_handle_t poh, const char* label, dfs_attr_t* attr, uuid_t* uuid,
                               daos_handle_t* coh, dfs_t** dfs) {
  return guard_errno(__func__, [&]() -> int {
    if (label == nullptr) return EINVAL;
    return cont_create(poh, label, attr, uuid, coh, dfs, current_call());
  });
}

int dfs_mount(daos_handle_t poh, daos_handle_t coh, int flags, dfs_t** dfs) {
  return guard_errno(__func__, [&]() -> int {
    if (dfs == nullptr) return EINVAL;
    std::shared_ptr<MountImpl> m;
    const int rc = mount_over(poh, coh, flags & O_ACCMODE, &m, current_call());
    if (rc) return rc;
    *dfs = Registry::get().add_mount(std::move(m));
    return 0;
  });
}

int dfs_umount(dfs_t* dfs) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m) return EINVAL;
    if (m->kind != MountImpl::kMount) {
      note(current_call(), "mounted with dfs_connect: release it with dfs_disconnect");
      return EINVAL;
    }
    {
      std::lock_guard<std::mutex> lk(m->mu);
      if (m->pool_refs || m->cont_refs) {
        note(current_call(), "pool or container handle references are still held");
        return EBUSY;
      }
    }
    return Registry::get().take_mount(dfs) ? 0 : EINVAL;
  });
}

static int get_ref(dfs_t* dfs, daos_handle_t* out, bool pool) {
  auto m = Registry::get().mount(dfs);
  if (!m || out == nullptr) return EINVAL;
  std::lock_guard<std::mutex> lk(m->mu);
  *out = pool ? m->poh : m->coh;
  ++(pool ? m->pool_refs : m->cont_refs);
  return 0;
}

static int put_ref(dfs_t* dfs, daos_handle_t h, bool pool) {
  auto m = Registry::get().mount(dfs);
  if (!m) return EINVAL;
  std::lock_guard<std::mutex> lk(m->mu);
  int& refs = pool ? m->pool_refs : m->cont_refs;
  if (refs == 0 || h.cookie != (pool ? m->poh : m->coh).cookie) return EINVAL;
  --refs;
  return 0;
}

int dfs_pool_get(dfs_t* dfs, daos_handle_t* poh) {
  return guard_errno(__func__, [&] { return get_ref(dfs, poh, true); });
}
int dfs_pool_put(dfs_t* dfs, daos_handle_t poh) {
  return guard_errno(__func__, [&] { return put_ref(dfs, poh, true); });
}
int dfs_cont_get(dfs_t* dfs, daos_handle_t* coh) {
  return guard_errno(__func__, [&] { return get_ref(dfs, coh, false); });
}
int dfs_cont_put(dfs_t* dfs, daos_handle_t coh) {
  return guard_errno(__func__, [&] { return put_ref(dfs, coh, false); });
}

int dfs_query(dfs_t* dfs, dfs_attr_t* attr) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m || attr == nullptr) return EINVAL;
    const auto& p = m->cont->cont->props();
    *attr = dfs_attr_t{};
    attr->da_chunk_size = p.chunk_size;
    attr->da_oclass_id = oclass_id_of_name(p.oclass);
    attr->da_dir_oclass_id = oclass_id_of_name(p.dir_oclass);
    attr->da_file_oclass_id = oclass_id_of_name(p.file_oclass);
    attr->da_mode = DFS_RELAXED;
    return 0;
  });
}

int dfs_local2global(dfs_t* dfs, d_iov_t* glob) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m) return EINVAL;
    const auto& cu = m->cont->cont->uuid();
    Writer w;
    w.u32(kMountGlobMagic).u32(kGlobVersion).bytes(cu.b, sizeof cu.b);
    w.u32(static_cast<uint32_t>(m->amode));
    return export_global(w.buf(), glob, ENOBUFS, EINVAL);
  });
}

int dfs_global2local(daos_handle_t poh, daos_handle_t coh, int flags, d_iov_t glob, dfs_t** dfs) {
  return guard_errno(__func__, [&]() -> int {
    if (dfs == nullptr || glob.iov_buf == nullptr || glob.iov_len > glob.iov_buf_len) return EINVAL;
    Reader r(glob.iov_buf, glob.iov_len);
    uint32_t magic = 0, version = 0, amode = 0;
    objstore::Uuid cu;
    if (!r.u32(&magic) || magic != kMountGlobMagic || !r.u32(&version) || version != kGlobVersion ||
        !r.bytes(cu.b, sizeof cu.b) || !r.u32(&amode) || !r.done()) {
      note(current_call(), "not a serialized DFS mount");
      return EINVAL;
    }
    auto c = Registry::get().cont(coh);
    if (!c) return EINVAL;
    if (c->cont->uuid() != cu) {
      note(current_call(), "the mount belongs to container " + cu.to_string());
      return EINVAL;
    }
    std::shared_ptr<MountImpl> m;
    const int rc = mount_over(poh, coh, flags ? (flags & O_ACCMODE) : static_cast<int>(amode), &m,
                              current_call());
    if (rc) return rc;
    *dfs = Registry::get().add_mount(std::move(m));
    return 0;
  });
}

int dfs_local2global_all(dfs_t* dfs, d_iov_t* glob) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m) return EINVAL;
    const auto& pu = m->pool->pool->map().pool_uuid;
    const auto& cu = m->cont->cont->uuid();
    Writer w;
    w.u32(kMountAllGlobMagic).u32(kGlobVersion).str(m->pool->path).bytes(pu.b, sizeof pu.b);
    w.bytes(cu.b, sizeof cu.b).u32(static_cast<uint32_t>(m->amode));
    return export_global(w.buf(), glob, ENOBUFS, EINVAL);
  });
}

int dfs_global2local_all(int flags, d_iov_t glob, dfs_t** dfs) {
  return guard_errno(__func__, [&]() -> int {
    if (dfs == nullptr || glob.iov_buf == nullptr || glob.iov_len > glob.iov_buf_len) return EINVAL;
    Reader r(glob.iov_buf, glob.iov_len);
    uint32_t magic = 0, version = 0, amode = 0;
    std::string path;
    objstore::Uuid pu, cu;
    if (!r.u32(&magic) || magic != kMountAllGlobMagic || !r.u32(&version) ||
        version != kGlobVersion || !r.str(&path) || !r.bytes(pu.b, sizeof pu.b) ||
        !r.bytes(cu.b, sizeof cu.b) || !r.u32(&amode) || !r.done()) {
      note(current_call(), "not a serialized DFS mount");
      return EINVAL;
    }
    if (flags) amode = static_cast<uint32_t>(flags & O_ACCMODE);
    daos_handle_t poh{0}, coh{0};
    int rc = daos_pool_connect(path.c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr);
    if (rc) return errno_of_der(rc);
    if (Registry::get().pool(poh)->pool->map().pool_uuid != pu) {
      (void)daos_pool_disconnect(poh, nullptr);
      note(current_call(), "the pool at " + path + " is not pool " + pu.to_string());
      return ENOENT;
    }
    rc = daos_cont_open(poh, cu.to_string().c_str(), amode == O_RDWR ? DAOS_COO_RW : DAOS_COO_RO,
                        &coh, nullptr, nullptr);
    std::shared_ptr<MountImpl> m;
    rc = rc ? errno_of_der(rc) : mount_over(poh, coh, static_cast<int>(amode), &m, current_call());
    if (rc) {
      (void)daos_cont_close(coh, nullptr);
      (void)daos_pool_disconnect(poh, nullptr);
      return rc;
    }
    m->kind = MountImpl::kConnect;  // released with dfs_disconnect, which closes both handles
    *dfs = Registry::get().add_mount(std::move(m));
    return 0;
  });
}

int dfs_set_prefix(dfs_t* dfs, const char* prefix) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m) return EINVAL;
    std::lock_guard<std::mutex> lk(m->mu);
    if (prefix == nullptr) {
      m->prefix.clear();
      return 0;
    }
    if (prefix[0] != '/' || strnlen(prefix, DFS_MAX_PATH) > DFS_MAX_PATH - 1) return EINVAL;
    m->prefix = prefix;
    while (!m->prefix.empty() && m->prefix.back() == '/') m->prefix.pop_back();
    return 0;
  });
}

int dfs_suggest_oclass(dfs_t* dfs, const char* hint, daos_oclass_id_t* cid) {
  return guard_errno(__func__, [&]() -> int {
    auto m = Registry::get().mount(dfs);
    if (!m || hint == nullptr || cid == nullptr) return EINVAL;
    bool dir = false;
    auto oc = class_for_hint(hint, static_cast<int>(m->cont->cont->props().rd_fac),
                             m->cont->cont->pool_map(), &dir);
    if (!oc.ok()) return fail_errno(current_call(), oc.status());
    *cid = oclass_id_of(oc.value());
    return 0;
  });
}

}  // extern "C"

// The C API: a thin shell over the C++ API. Every entry point is noexcept, turns exceptions
// into EDAOS_ERR_NOMEM / EDAOS_INTERNAL, and records the failure message per thread.
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "api/c_api_internal.hpp"
#include "common/log.hpp"
#include "edaos/objstore/names.hpp"
#include "edaos/objstore/objstore.h"
#include "edaos/objstore/objstore.hpp"

EDAOS_LOG_FACILITY(capi);

using namespace edaos;
using namespace edaos::objstore;

struct edaos_os_pool {
  std::shared_ptr<Pool> p;
  bool shared = false;  // from edaos_os_pool_connect_shared: disconnect only drops it
};
struct edaos_os_cont {
  std::shared_ptr<Container> c;
};
struct edaos_os_array {
  std::unique_ptr<Array> a;
};
struct edaos_os_kv {
  std::unique_ptr<KV> kv;
};

namespace {

thread_local std::string t_last_error;

int fail(const Status& st) {
  if (st.ok()) {
    t_last_error.clear();
    return EDAOS_OK;
  }
  t_last_error = st.message().empty() ? edaos_status_describe(st.code()) : st.message();
  return st.code();
}

template <typename F>
int guard(const char* fn, F&& f) noexcept {
  try {
    return fail(f());
  } catch (const std::bad_alloc&) {
    t_last_error = std::string(fn) + ": out of memory";
    return EDAOS_NOMEM;
  } catch (const std::exception& e) {
    EDAOS_LOG(error, "%s: unexpected exception: %s", fn, e.what());
    t_last_error = std::string(fn) + ": internal error: " + e.what();
    return EDAOS_INTERNAL;
  } catch (...) {
    t_last_error = std::string(fn) + ": internal error";
    return EDAOS_INTERNAL;
  }
}

ObjectId to_oid(edaos_oid_t o) { return ObjectId{o.hi, o.lo}; }

Status need(const void* p, const char* what) {
  return p ? Status::OK() : Status(EDAOS_INVAL, std::string(what) + " is NULL");
}

}  // namespace

namespace edaos::objstore::capi {
int record(const Status& st) { return fail(st); }
void record_message(const std::string& msg) { t_last_error = msg; }
std::shared_ptr<Container> container_of(edaos_os_cont_t* cont) { return cont ? cont->c : nullptr; }
}  // namespace edaos::objstore::capi

extern "C" {

const char* edaos_os_last_error(void) { return t_last_error.c_str(); }

int edaos_os_init(const edaos_os_init_args_t* args) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(args, "args"));
    if (args->ia_struct_size < sizeof(edaos_os_init_args_t))
      return Status(EDAOS_INVAL, "ia_struct_size too small");
    InitOptions o;
    if (args->ia_server_ranks) o.server_ranks = args->ia_server_ranks;
    return init(args->ia_comm, o);
  });
}

int edaos_init(MPI_Comm comm) {
  return guard(__func__, [&] { return init(comm); });
}

int edaos_finalize(void) {
  return guard(__func__, [&] { return finalize(); });
}

int edaos_initialized(void) { return is_initialized() ? 1 : 0; }

int edaos_os_pool_create(const char* path, const char* label, uint32_t engines, uint32_t targets,
                         uint64_t size, MPI_Comm comm) {
  return guard(__func__, [&]() -> Status {
    PoolCreateOptions o;
    o.label = label ? label : "";
    o.engines = engines;
    o.targets = targets;
    o.size_bytes = size;
    return Pool::create(path ? path : default_pool_path(), o, comm);
  });
}

int edaos_os_pool_connect(const char* path, MPI_Comm comm, edaos_os_pool_t** pool) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    auto p = Pool::connect(path ? path : default_pool_path(), comm);
    if (!p.ok()) return p.status();
    *pool = new edaos_os_pool{std::move(p).value()};
    return Status::OK();
  });
}

int edaos_os_pool_connect_shared(const char* path, MPI_Comm comm, int create,
                                 edaos_os_pool_t** pool) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    SharedPoolOptions so;
    so.create = create != 0;
    auto p = Pool::shared(path ? path : default_pool_path(), comm, so);
    if (!p.ok()) return p.status();
    *pool = new edaos_os_pool{std::move(p).value(), true};
    return Status::OK();
  });
}

int edaos_os_pool_disconnect(edaos_os_pool_t* pool) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    Status st = pool->shared ? Status::OK() : pool->p->disconnect();
    delete pool;
    return st;
  });
}

namespace {
// Copies `s` NUL-terminated into a field of `cap` bytes.
Status copy_field(const std::string& s, char* dst, size_t cap, const char* what) {
  if (s.size() + 1 > cap)
    return Status(EDAOS_NAMETOOLONG,
                  std::string(what) + " is longer than " + std::to_string(cap - 1) + " bytes");
  std::memcpy(dst, s.c_str(), s.size() + 1);
  return Status::OK();
}

// The size protocol of the calls that return a variable-length value (pool_resolve,
// cont_get_prop, kv_get): *len in = buffer size, out = bytes needed (`nul`: one more for the
// terminating NUL). A NULL buf only sets *len (EDAOS_OK); a short buffer is EDAOS_TOOBIG naming
// both sizes, with buf untouched.
Status copy_sized(const std::string& v, bool nul, void* buf, size_t* len, const std::string& what) {
  const size_t need_len = v.size() + (nul ? 1 : 0);
  const size_t have = *len;
  *len = need_len;
  if (!buf) return Status::OK();
  if (have < need_len)
    return Status(EDAOS_TOOBIG, what + " needs " + std::to_string(need_len) +
                                    " bytes, the buffer has " + std::to_string(have));
  std::memcpy(buf, v.c_str(), need_len);
  return Status::OK();
}
}  // namespace

int edaos_os_pool_resolve(const char* spec, char* buf, size_t* len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(len, "len"));
    EDAOS_ASSIGN_OR_RETURN(std::string dir, resolve_pool(spec ? spec : default_pool_spec()));
    return copy_sized(dir, true, buf, len, "the pool directory");
  });
}

int edaos_os_name_parse(const char* name, edaos_os_name_t* out) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(name, "name"));
    EDAOS_RETURN_IF_ERROR(need(out, "out"));
    EDAOS_ASSIGN_OR_RETURN(DaosName n, parse_daos_name(name));
    EDAOS_RETURN_IF_ERROR(copy_field(n.pool, out->on_pool, sizeof out->on_pool, "pool"));
    EDAOS_RETURN_IF_ERROR(copy_field(n.cont, out->on_cont, sizeof out->on_cont, "container"));
    EDAOS_RETURN_IF_ERROR(copy_field(n.path, out->on_path, sizeof out->on_path, "path"));
    out->on_pool_exists = n.pool_exists ? 1 : 0;
    return Status::OK();
  });
}

int edaos_os_pool_query(edaos_os_pool_t* pool, edaos_os_pool_info_t* info) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    EDAOS_RETURN_IF_ERROR(need(info, "info"));
    auto q = pool->p->query();
    if (!q.ok()) return q.status();
    std::memset(info, 0, sizeof *info);
    std::string u = q->uuid.to_string();
    std::memcpy(info->pi_uuid, u.c_str(), std::min<size_t>(36, u.size()));
    info->pi_engines = q->engines;
    info->pi_engines_down = q->engines_down;
    info->pi_targets = q->targets;
    info->pi_targets_disabled = q->targets_disabled;
    info->pi_total = q->total;
    info->pi_free = q->free;
    return Status::OK();
  });
}

int edaos_os_cont_create(edaos_os_pool_t* pool, const char* label, const char* props,
                         edaos_os_cont_t** cont) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    EDAOS_RETURN_IF_ERROR(need(label, "label"));
    ContainerProps p;
    if (props && *props) EDAOS_RETURN_IF_ERROR(apply_properties(&p, props));
    auto c = pool->p->cont_create(label, p);
    if (!c.ok()) return c.status();
    if (cont) *cont = new edaos_os_cont{std::move(c).value()};
    return Status::OK();
  });
}

int edaos_os_cont_open(edaos_os_pool_t* pool, const char* label_or_uuid, edaos_os_cont_t** cont) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    EDAOS_RETURN_IF_ERROR(need(label_or_uuid, "label"));
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    auto c = pool->p->cont_open(label_or_uuid);
    if (!c.ok()) return c.status();
    *cont = new edaos_os_cont{std::move(c).value()};
    return Status::OK();
  });
}

int edaos_os_cont_close(edaos_os_cont_t* cont) {
  delete cont;
  return EDAOS_OK;
}

int edaos_os_cont_destroy(edaos_os_pool_t* pool, const char* label_or_uuid) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(pool, "pool"));
    EDAOS_RETURN_IF_ERROR(need(label_or_uuid, "label"));
    return pool->p->cont_destroy(label_or_uuid);
  });
}

int edaos_os_cont_set_prop(edaos_os_cont_t* cont, const char* key, const char* value) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(key, "key"));
    EDAOS_RETURN_IF_ERROR(need(value, "value"));
    return cont->c->set_prop(key, value);
  });
}

int edaos_os_cont_get_prop(edaos_os_cont_t* cont, const char* key, char* buf, size_t* len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(key, "key"));
    EDAOS_RETURN_IF_ERROR(need(len, "len"));
    // describe() rows read "<description> (<key>)": pick the row of `key`.
    std::string want = std::string("(") + key + ")";
    Result<std::string> v = Status(EDAOS_INVAL, std::string("unknown property '") + key + "'");
    for (auto& [name, value] : describe(cont->c->props()))
      if (name.size() >= want.size() &&
          name.compare(name.size() - want.size(), want.size(), want) == 0)
        v = value;
    if (!v.ok()) return v.status();
    return copy_sized(v.value(), true, buf, len, std::string("property '") + key + "'");
  });
}

int edaos_os_cont_sync(edaos_os_cont_t* cont) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    return cont->c->sync();
  });
}

int edaos_os_oid_alloc(edaos_os_cont_t* cont, const char* oclass, edaos_otype_t type,
                       edaos_oid_t* oid) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(oid, "oid"));
    ObjType t = static_cast<ObjType>(type);
    if (type != EDAOS_OTYPE_KV && type != EDAOS_OTYPE_ARRAY && type != EDAOS_OTYPE_FLAT_KV)
      return Status(EDAOS_INVAL, "unknown object type " + std::to_string(type));
    const ContainerProps& p = cont->c->props();
    std::string cls = oclass ? oclass : "";
    if (cls.empty()) cls = t == ObjType::kArray ? p.file_oclass : p.dir_oclass;
    if (cls.empty()) cls = p.oclass;
    ObjClass oc;
    if (cls.empty()) {
      oc = default_oclass(static_cast<int>(p.rd_fac), t != ObjType::kArray, cont->c->pool_map());
    } else {
      auto parsed = ObjClass::parse(cls);
      if (!parsed.ok()) return parsed.status();
      oc = parsed.value();
    }
    auto o = cont->c->alloc_oid(oc, t);
    if (!o.ok()) return o.status();
    oid->hi = o->hi;
    oid->lo = o->lo;
    return Status::OK();
  });
}

int edaos_os_array_open(edaos_os_cont_t* cont, edaos_oid_t oid, uint64_t chunk_size,
                        edaos_os_array_t** arr) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    auto a = cont->c->open_array(to_oid(oid), chunk_size);
    if (!a.ok()) return a.status();
    *arr = new edaos_os_array{std::move(a).value()};
    return Status::OK();
  });
}

int edaos_os_array_close(edaos_os_array_t* arr) {
  // A pipelined direct write returns before its commit is applied (issue 15): Array::close
  // reports an error that commit met, once; the handle is freed either way.
  std::unique_ptr<edaos_os_array_t> owned(arr);
  if (!owned || !owned->a) return EDAOS_OK;
  return guard(__func__, [&]() -> Status { return owned->a->close(); });
}

int edaos_os_array_write(edaos_os_array_t* arr, uint64_t off, const edaos_iov_t* iov,
                         uint32_t n_iov) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    if (n_iov) EDAOS_RETURN_IF_ERROR(need(iov, "iov"));
    std::vector<ConstIoVec> v(n_iov);
    for (uint32_t i = 0; i < n_iov; ++i) v[i] = ConstIoVec{iov[i].iov_base, iov[i].iov_len};
    return arr->a->write(off, v.data(), v.size());
  });
}

int edaos_os_array_read(edaos_os_array_t* arr, uint64_t off, const edaos_iov_t* iov,
                        uint32_t n_iov) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    if (n_iov) EDAOS_RETURN_IF_ERROR(need(iov, "iov"));
    std::vector<IoVec> v(n_iov);
    for (uint32_t i = 0; i < n_iov; ++i) v[i] = IoVec{iov[i].iov_base, iov[i].iov_len};
    return arr->a->read(off, v.data(), v.size());
  });
}

int edaos_os_array_punch(edaos_os_array_t* arr, uint64_t off, uint64_t len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    return arr->a->punch(off, len);
  });
}

int edaos_os_array_get_size(edaos_os_array_t* arr, uint64_t* size) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    EDAOS_RETURN_IF_ERROR(need(size, "size"));
    auto s = arr->a->get_size();
    if (!s.ok()) return s.status();
    *size = s.value();
    return Status::OK();
  });
}

int edaos_os_array_set_size(edaos_os_array_t* arr, uint64_t size) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    return arr->a->set_size(size);
  });
}

int edaos_os_array_destroy(edaos_os_array_t* arr) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(arr, "arr"));
    Status st = arr->a->destroy();
    delete arr;
    return st;
  });
}

int edaos_os_kv_open(edaos_os_cont_t* cont, edaos_oid_t oid, edaos_os_kv_t** kv) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(cont, "cont"));
    EDAOS_RETURN_IF_ERROR(need(kv, "kv"));
    auto k = cont->c->open_kv(to_oid(oid));
    if (!k.ok()) return k.status();
    *kv = new edaos_os_kv{std::move(k).value()};
    return Status::OK();
  });
}

int edaos_os_kv_close(edaos_os_kv_t* kv) {
  delete kv;
  return EDAOS_OK;
}

int edaos_os_kv_put(edaos_os_kv_t* kv, const char* key, const void* val, size_t len,
                    uint32_t flags) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(kv, "kv"));
    EDAOS_RETURN_IF_ERROR(need(key, "key"));
    if (len) EDAOS_RETURN_IF_ERROR(need(val, "val"));
    return kv->kv->put(key, "", std::string(static_cast<const char*>(val), len), flags);
  });
}

int edaos_os_kv_get(edaos_os_kv_t* kv, const char* key, void* buf, size_t* len) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(kv, "kv"));
    EDAOS_RETURN_IF_ERROR(need(key, "key"));
    EDAOS_RETURN_IF_ERROR(need(len, "len"));
    auto v = kv->kv->get(key, "");
    if (!v.ok()) return v.status();
    return copy_sized(v.value(), false, buf, len, "value");
  });
}

int edaos_os_kv_remove(edaos_os_kv_t* kv, const char* key) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(kv, "kv"));
    EDAOS_RETURN_IF_ERROR(need(key, "key"));
    return kv->kv->remove(key, "");
  });
}

int edaos_os_kv_run(edaos_os_kv_t* kv, edaos_os_kv_op_t* ops, size_t n) {
  return guard(__func__, [&]() -> Status {
    EDAOS_RETURN_IF_ERROR(need(kv, "kv"));
    if (n) EDAOS_RETURN_IF_ERROR(need(ops, "ops"));
    std::vector<Status> out(n);  // each C operation's outcome
    std::vector<KvOp> sent;
    std::vector<size_t> which;  // the C operation of each KvOp sent
    for (size_t i = 0; i < n; ++i) {
      const edaos_os_kv_op_t& c = ops[i];
      if (c.op != EDAOS_KV_OP_PUT && c.op != EDAOS_KV_OP_GET && c.op != EDAOS_KV_OP_REMOVE) {
        out[i] = Status(EDAOS_INVAL,
                        "operation " + std::to_string(i) + ": unknown op " + std::to_string(c.op));
      } else if (!c.key || !*c.key) {
        out[i] = Status(EDAOS_INVAL, "operation " + std::to_string(i) + ": no key");
      } else if (c.op == EDAOS_KV_OP_PUT && c.len && !c.buf) {
        out[i] = Status(EDAOS_INVAL, "operation " + std::to_string(i) + ": no value buffer");
      } else {
        KvOp k;
        k.kind = static_cast<KvOp::Kind>(c.op);
        k.dkey = c.key;
        if (c.op == EDAOS_KV_OP_PUT) {
          k.value.assign(static_cast<const char*>(c.buf), c.len);
          k.flags = c.flags;
        }
        sent.push_back(std::move(k));
        which.push_back(i);
      }
    }
    (void)kv->kv->run(&sent);
    for (size_t j = 0; j < sent.size(); ++j) {
      edaos_os_kv_op_t& c = ops[which[j]];
      out[which[j]] = sent[j].status.ok() && c.op == EDAOS_KV_OP_GET
                          ? copy_sized(sent[j].value, false, c.buf, &c.len, "value")
                          : sent[j].status;
    }
    Status first;
    for (size_t i = 0; i < n; ++i) {
      ops[i].status = out[i].code();
      if (first.ok() && !out[i].ok()) first = out[i];
    }
    return first;
  });
}

}  // extern "C"

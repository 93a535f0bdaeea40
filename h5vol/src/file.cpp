// Files: an HDF5 file is a container of the pool, labelled after the file name; its root group
// is an object KV whose OID is the container attribute "h5vol.root".
#include "h5vol_internal.hpp"

namespace edaos::h5vol {
namespace {

constexpr const char* kRootAttr = "h5vol.root";

// Container label of a file name: characters a label allows pass through, others (and ':')
// become ":XX" (hex), so distinct names give distinct labels.
std::string label_of(const std::string& name) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += ':';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (out.size() == 36) out += ':';  // never UUID-shaped
  return out;
}

File* new_file(const char* name, unsigned flags, hid_t fapl, MPI_Comm comm) {
  auto* f = new File;
  f->type = H5I_FILE;
  f->file = f;
  f->path = "/";
  f->name = name;
  f->flags = flags;
  f->comm = comm;
  MPI_Comm_rank(comm, &f->rank);
  MPI_Comm_size(comm, &f->size);
  f->fapl = H5Pcopy(fapl);
  return f;
}

// Opens the container on every rank after rank 0 made it; reads the root OID.
Status attach(File* f, const std::string& root_bytes) {
  EDAOS_ASSIGN_OR_RETURN(f->cont, f->pool->cont_open(label_of(f->name)));
  if (!root_bytes.empty()) {
    f->oid = oid_from_bytes(root_bytes);
  } else {
    EDAOS_ASSIGN_OR_RETURN(auto r, f->cont->attr_get(kRootAttr));
    EDAOS_ASSIGN_OR_RETURN(f->oid, ObjectId::parse(r));
  }
  if (f->fcpl < 0) {
    EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, f->oid));
    auto cpl = kv->get(kMeta, akey::kCpl);
    f->fcpl = cpl.ok() ? decode_plist(cpl.value()) : H5Pcreate(H5P_FILE_CREATE);
  }
  return Status::OK();
}

}  // namespace

File::~File() {
  if (fapl >= 0) H5Pclose(fapl);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (comm != MPI_COMM_NULL) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&comm);
  }
}

void file_ref(File* f) { f->refs.fetch_add(1); }
void file_unref(File* f) {
  if (f->refs.fetch_sub(1) == 1) delete f;
}

void* file_create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, hid_t, void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    MPI_Comm comm = MPI_COMM_NULL;
    {
      int inited = 0;
      MPI_Initialized(&inited);
      if (inited) comm = fapl_comm(fapl);
    }
    auto pool = runtime_pool(comm == MPI_COMM_NULL ? MPI_COMM_WORLD : comm);
    if (comm == MPI_COMM_NULL) comm = fapl_comm(fapl);
    if (!pool.ok()) {
      H5VL_EDAOS_ERR_ST(pool.status(), std::string("cannot create file '") + name + "'");
      MPI_Comm_free(&comm);
      return nullptr;
    }
    std::unique_ptr<File> f(new_file(name, flags | H5F_ACC_RDWR, fapl, comm));
    f->pool = pool.value();
    f->fcpl = H5Pcopy(fcpl);
    std::string root;
    Status st = collective(
        f.get(),
        [&]() -> Result<std::string> {
          const std::string label = label_of(f->name);
          if (flags & H5F_ACC_TRUNC) {
            Status d = f->pool->cont_destroy(label);
            if (!d.ok() && d.code() != EDAOS_NONEXIST) return d;
          }
          objstore::ContainerProps props;
          props.type = objstore::ContType::kHdf5;
          auto c = f->pool->cont_create(label, props);
          if (!c.ok()) {
            if (c.status().code() == EDAOS_EXIST)
              return Status(EDAOS_EXIST, "file '" + f->name + "' exists (H5F_ACC_EXCL)");
            return c.status();
          }
          f->cont = c.value();
          EDAOS_ASSIGN_OR_RETURN(
              ObjectId r, create_object(f.get(), 'G', {{akey::kCpl, encode_plist(f->fcpl)}}));
          EDAOS_RETURN_IF_ERROR(f->cont->attr_set(kRootAttr, r.to_string()));
          return oid_bytes(r);
        },
        &root);
    if (st.ok()) st = attach(f.get(), root);
    if (!st.ok()) {
      H5VL_EDAOS_ERR_ST(st, std::string("cannot create file '") + name + "'");
      return nullptr;
    }
    return f.release();
  });
}

void* file_open(const char* name, unsigned flags, hid_t fapl, hid_t, void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    MPI_Comm comm = MPI_COMM_NULL;
    {
      int inited = 0;
      MPI_Initialized(&inited);
      if (inited) comm = fapl_comm(fapl);
    }
    auto pool = runtime_pool(comm == MPI_COMM_NULL ? MPI_COMM_WORLD : comm);
    if (comm == MPI_COMM_NULL) comm = fapl_comm(fapl);
    if (!pool.ok()) {
      H5VL_EDAOS_ERR_ST(pool.status(), std::string("cannot open file '") + name + "'");
      MPI_Comm_free(&comm);
      return nullptr;
    }
    std::unique_ptr<File> f(new_file(name, flags, fapl, comm));
    f->pool = pool.value();
    std::string root;
    Status st = collective(
        f.get(),
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(auto c, f->pool->cont_open(label_of(f->name)));
          EDAOS_ASSIGN_OR_RETURN(auto r, c->attr_get(kRootAttr));
          EDAOS_ASSIGN_OR_RETURN(ObjectId oid, ObjectId::parse(r));
          return oid_bytes(oid);
        },
        &root);
    if (st.ok()) st = attach(f.get(), root);
    if (!st.ok()) {
      if (st.code() == EDAOS_NONEXIST) st = Status(EDAOS_NONEXIST, "no such file");
      H5VL_EDAOS_ERR_ST(st, std::string("cannot open file '") + name + "'");
      return nullptr;
    }
    return f.release();
  });
}

namespace {

// Counts (and optionally lists) open IDs of `types` whose connector object belongs to a file
// backed by the same container as `f`.
struct CountCtx {
  File* f;
  size_t count = 0, max = 0;
  hid_t* list = nullptr;
  bool local = false;  // H5F_OBJ_LOCAL: only objects opened through this file handle
};
herr_t count_cb(hid_t id, void* udata) {
  auto* c = static_cast<CountCtx*>(udata);
  void* o = nullptr;
  // Transient datatypes have no connector object: only committed ones count.
  if (H5Iget_type(id) == H5I_DATATYPE && H5Tcommitted(id) <= 0) return 0;
  H5E_BEGIN_TRY { o = H5VLobject(id); }
  H5E_END_TRY
  if (!o) return 0;
  auto* obj = static_cast<Obj*>(o);
  if (!obj->file || !obj->file->cont || !c->f->cont) return 0;
  if (c->local ? obj->file != c->f : obj->file->cont->uuid() != c->f->cont->uuid()) return 0;
  if (c->list && c->count < c->max) c->list[c->count] = id;
  ++c->count;
  return 0;
}
size_t count_ids(File* f, unsigned types, hid_t* list, size_t max) {
  CountCtx c{f, 0, max, list, (types & H5F_OBJ_LOCAL) != 0};
  const std::pair<unsigned, H5I_type_t> map[] = {{H5F_OBJ_FILE, H5I_FILE},
                                                 {H5F_OBJ_DATASET, H5I_DATASET},
                                                 {H5F_OBJ_GROUP, H5I_GROUP},
                                                 {H5F_OBJ_DATATYPE, H5I_DATATYPE},
                                                 {H5F_OBJ_ATTR, H5I_ATTR}};
  for (const auto& [flag, t] : map)
    if (types & flag) H5Iiterate(t, count_cb, &c);
  return c.count;
}

}  // namespace

bool file_has_id(File* f) {
  struct Find {
    File* f;
    bool found = false;
  } fd{f};
  H5Iiterate(
      H5I_FILE,
      [](hid_t id, void* udata) -> herr_t {
        auto* x = static_cast<Find*>(udata);
        void* o = nullptr;
        H5E_BEGIN_TRY { o = H5VLobject(id); }
        H5E_END_TRY
        if (o == x->f) x->found = true;
        return x->found ? 1 : 0;
      },
      &fd);
  return fd.found;
}

herr_t file_get(void* obj, H5VL_file_get_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    switch (args->op_type) {
      case H5VL_FILE_GET_CONT_INFO: {
        auto* i = args->args.get_cont_info.info;
        i->feature_flags = 0;
        i->token_size = 16;
        i->blob_id_size = 0;
        return 0;
      }
      case H5VL_FILE_GET_FAPL:
        args->args.get_fapl.fapl_id = H5Pcopy(f->fapl);
        return args->args.get_fapl.fapl_id < 0 ? -1 : 0;
      case H5VL_FILE_GET_FCPL:
        args->args.get_fcpl.fcpl_id = H5Pcopy(f->fcpl);
        return args->args.get_fcpl.fcpl_id < 0 ? -1 : 0;
      case H5VL_FILE_GET_FILENO: {
        const auto& u = f->cont->uuid();
        unsigned long v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | u.b[i];
        *args->args.get_fileno.fileno = v;
        return 0;
      }
      case H5VL_FILE_GET_INTENT:
        *args->args.get_intent.flags = f->writable() ? H5F_ACC_RDWR : H5F_ACC_RDONLY;
        return 0;
      case H5VL_FILE_GET_NAME: {
        auto& a = args->args.get_name;
        *a.file_name_len = f->name.size();
        if (a.buf && a.buf_size) {
          size_t n = std::min(a.buf_size - 1, f->name.size());
          memcpy(a.buf, f->name.data(), n);
          a.buf[n] = '\0';
        }
        return 0;
      }
      case H5VL_FILE_GET_OBJ_COUNT:
        *args->args.get_obj_count.count = count_ids(f, args->args.get_obj_count.types, nullptr, 0);
        return 0;
      case H5VL_FILE_GET_OBJ_IDS: {
        auto& a = args->args.get_obj_ids;
        *a.count = count_ids(f, a.types, a.oid_list, a.max_objs);
        if (*a.count > a.max_objs) *a.count = a.max_objs;
        return 0;
      }
    }
    H5VL_EDAOS_ERR("unsupported file get operation");
    return -1;
  });
}

herr_t file_specific(void* obj, H5VL_file_specific_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    switch (args->op_type) {
      case H5VL_FILE_FLUSH: {
        File* f = static_cast<Obj*>(obj)->file;
        Status st = f->cont->sync();
        if (!st.ok()) {
          H5VL_EDAOS_ERR_ST(st, "flush");
          return -1;
        }
        return 0;
      }
      case H5VL_FILE_REOPEN: {
        File* f = static_cast<Obj*>(obj)->file;
        MPI_Comm c;
        objstore::coll::dup(f->comm, &c);
        std::unique_ptr<File> n(new_file(f->name.c_str(), f->flags, f->fapl, c));
        n->pool = f->pool;
        n->cont = f->cont;
        n->oid = f->oid;
        n->fcpl = H5Pcopy(f->fcpl);
        *args->args.reopen.file = n.release();
        return 0;
      }
      case H5VL_FILE_IS_ACCESSIBLE:
      case H5VL_FILE_DELETE: {
        const bool del = args->op_type == H5VL_FILE_DELETE;
        const char* name = del ? args->args.del.filename : args->args.is_accessible.filename;
        hid_t fapl = del ? args->args.del.fapl_id : args->args.is_accessible.fapl_id;
        int inited = 0;
        MPI_Initialized(&inited);
        MPI_Comm comm = inited ? fapl_comm(fapl) : MPI_COMM_NULL;
        auto pool = runtime_pool(comm == MPI_COMM_NULL ? MPI_COMM_WORLD : comm);
        if (comm == MPI_COMM_NULL) comm = fapl_comm(fapl);
        if (!pool.ok()) {
          MPI_Comm_free(&comm);
          H5VL_EDAOS_ERR_ST(pool.status(), "cannot reach the pool");
          return -1;
        }
        File tmp;
        tmp.comm = comm;
        MPI_Comm_rank(comm, &tmp.rank);
        MPI_Comm_size(comm, &tmp.size);
        std::string r;
        Status st = collective(
            &tmp,
            [&]() -> Result<std::string> {
              if (del) {
                EDAOS_RETURN_IF_ERROR(pool.value()->cont_destroy(label_of(name)));
                return std::string();
              }
              auto c = pool.value()->cont_open(label_of(name));
              if (c.ok()) return std::string("1");
              if (c.status().code() == EDAOS_NONEXIST) return std::string("0");
              return c.status();
            },
            &r);
        if (!del && st.ok()) *args->args.is_accessible.accessible = r == "1";
        if (!st.ok()) {
          H5VL_EDAOS_ERR_ST(st,
                            std::string(del ? "cannot delete '" : "cannot check '") + name + "'");
          return -1;
        }
        return 0;
      }
      case H5VL_FILE_IS_EQUAL: {
        File* a = static_cast<Obj*>(obj)->file;
        File* b = static_cast<Obj*>(args->args.is_equal.obj2)->file;
        *args->args.is_equal.same_file = a->cont->uuid() == b->cont->uuid();
        return 0;
      }
    }
    H5VL_EDAOS_ERR("unsupported file operation");
    return -1;
  });
}

herr_t file_optional(void*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR(
      "native-only file operation (H5Fget_*/H5Fset_* of the native format) is not supported by the "
      "edaos connector");
  return -1;
}

herr_t file_close(void* file, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* f = static_cast<File*>(file);
    file_unref(f);
    return 0;
  });
}

}  // namespace edaos::h5vol

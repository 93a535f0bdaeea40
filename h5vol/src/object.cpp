// Generic object operations: open by location, info, existence, lookup, visit, refcounts.
#include <set>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {

Status fill_object_info(File* f, const Target& t, unsigned fields, H5O_info2_t* info) {
  memset(info, 0, sizeof *info);
  const auto& u = f->cont->uuid();
  unsigned long v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | u.b[i];
  info->fileno = v;
  info->token = oid_to_token(t.oid);
  info->type = kind_to_otype(t.kind);
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, t.oid));
  auto r = kv->get(kMeta, akey::kRefs);
  info->rc = r.ok() ? static_cast<unsigned>(u64_from(r.value())) : 1;
  if (fields & H5O_INFO_NUM_ATTRS) {
    EDAOS_ASSIGN_OR_RETURN(info->num_attrs, count_attrs(f, t.oid));
  }
  return Status::OK();
}

void* object_open(void* obj, const H5VL_loc_params_t* lp, H5I_type_t* opened_type, hid_t,
                  void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    auto t = resolve_loc(o, lp);
    if (!t.ok()) {
      H5VL_EDAOS_ERR_ST(t.status(), "cannot open object");
      return nullptr;
    }
    Obj* r = open_by_target(o->file, t.value());
    if (r) {
      *opened_type = kind_to_itype(t.value().kind);
      r->path = loc_path(o, lp);
    }
    return r;
  });
}

herr_t object_copy(void*, const H5VL_loc_params_t*, const char*, void*, const H5VL_loc_params_t*,
                   const char*, hid_t, hid_t, hid_t, void**) {
  H5VL_EDAOS_ERR("H5Ocopy is not supported by the edaos connector");
  return -1;
}

herr_t object_get(void* obj, const H5VL_loc_params_t* lp, H5VL_object_get_args_t* args, hid_t,
                  void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    if (args->op_type == H5VL_OBJECT_GET_FILE) {
      // HDF5 registers a new file ID only when none refers to `f` (then file_close runs when
      // it goes); otherwise it adds a reference to that ID, and `f` needs no extra one.
      if (!file_has_id(f)) file_ref(f);
      *args->args.get_file.file = f;
      return 0;
    }
    if (args->op_type == H5VL_OBJECT_GET_NAME) {
      // The path the object was opened by, while it still leads to the object (after an
      // unlink, a move or a rename HDF5 reports no name; edaos does not follow renames).
      std::string name = o->path;
      if (!name.empty()) {
        auto t = resolve_path(f, f->oid, name);
        if (!t.ok() || !(t.value().oid == o->oid)) name.clear();
      }
      auto& a = args->args.get_name;
      if (a.name_len) *a.name_len = name.size();
      if (a.buf && a.buf_size) {
        size_t n = std::min(a.buf_size - 1, name.size());
        memcpy(a.buf, name.data(), n);
        a.buf[n] = '\0';
      }
      return 0;
    }
    auto t = resolve_loc(o, lp);
    if (!t.ok()) {
      H5VL_EDAOS_ERR_ST(t.status(), "object get");
      return -1;
    }
    if (args->op_type == H5VL_OBJECT_GET_TYPE) {
      *args->args.get_type.obj_type = kind_to_otype(t.value().kind);
      return 0;
    }
    Status st = fill_object_info(f, t.value(), args->args.get_info.fields, args->args.get_info.oinfo);
    if (!st.ok()) {
      H5VL_EDAOS_ERR_ST(st, "object info");
      return -1;
    }
    return 0;
  });
}

static herr_t visit(Obj* o, const Target& start, const H5VL_object_visit_args_t& a) {
  File* f = o->file;
  Obj* h = open_by_target(f, start);
  if (!h) return -1;
  hid_t id = H5VLwrap_register(h, kind_to_itype(start.kind));
  if (id < 0) return -1;
  std::set<ObjectId> seen{start.oid};
  std::function<herr_t(const Target&, const std::string&)> walk =
      [&](const Target& t, const std::string& name) -> herr_t {
    H5O_info2_t info;
    Status st = fill_object_info(f, t, a.fields, &info);
    if (!st.ok()) {
      H5VL_EDAOS_ERR_ST(st, "object visit");
      return -1;
    }
    herr_t r = a.op(id, name.c_str(), &info, a.op_data);
    if (r != 0 || t.kind != 'G') return r;
    auto links = list_links(f, t.oid, a.idx_type, a.order == H5_ITER_DEC ? H5_ITER_DEC : H5_ITER_INC);
    if (!links.ok()) {
      H5VL_EDAOS_ERR_ST(links.status(), "object visit");
      return -1;
    }
    for (const auto& [ln, rec] : links.value()) {
      if (rec.kind != H5L_TYPE_HARD || seen.count(rec.target)) continue;
      seen.insert(rec.target);
      auto k = object_kind(f, rec.target);
      if (!k.ok()) continue;
      std::string full = name == "." ? ln : name + "/" + ln;
      r = walk(Target{rec.target, k.value()}, full);
      if (r != 0) return r;
    }
    return 0;
  };
  herr_t ret = walk(start, ".");
  H5Idec_ref(id);
  return ret;
}

herr_t object_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_object_specific_args_t* args,
                       hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    switch (args->op_type) {
      case H5VL_OBJECT_FLUSH:
      case H5VL_OBJECT_REFRESH:
        return 0;
      case H5VL_OBJECT_EXISTS: {
        auto t = resolve_loc(o, lp);
        if (!t.ok() && t.status().code() != EDAOS_NONEXIST) {
          H5VL_EDAOS_ERR_ST(t.status(), "object exists");
          return -1;
        }
        *args->args.exists.exists = t.ok();
        return 0;
      }
      default:
        break;
    }
    auto t = resolve_loc(o, lp);
    if (!t.ok()) {
      H5VL_EDAOS_ERR_ST(t.status(), "object operation");
      return -1;
    }
    switch (args->op_type) {
      case H5VL_OBJECT_LOOKUP:
        *args->args.lookup.token_ptr = oid_to_token(t.value().oid);
        return 0;
      case H5VL_OBJECT_VISIT:
        return visit(o, t.value(), args->args.visit);
      case H5VL_OBJECT_CHANGE_REF_COUNT: {
        int delta = args->args.change_rc.delta;
        Status st = collective(f, [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, t.value().oid));
          std::lock_guard<std::mutex> lk(f->mu);
          auto cur = kv->get(kMeta, akey::kRefs);
          int64_t v = cur.ok() ? static_cast<int64_t>(u64_from(cur.value())) : 1;
          v = std::max<int64_t>(0, v + delta);
          EDAOS_RETURN_IF_ERROR(kv->put(kMeta, akey::kRefs, u64_bytes(static_cast<uint64_t>(v))));
          return std::string();
        }, nullptr);
        if (!st.ok()) {
          H5VL_EDAOS_ERR_ST(st, "object refcount");
          return -1;
        }
        return 0;
      }
      default:
        return -1;
    }
  });
}

herr_t object_optional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR("native-only object operation (comments, ...) is not supported by the edaos connector");
  return -1;
}

}  // namespace edaos::h5vol

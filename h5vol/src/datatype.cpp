// Committed datatypes: an object KV with kind "T" and the encoded type.
#include "h5vol_internal.hpp"

namespace edaos::h5vol {

Datatype::~Datatype() {
  if (tcpl >= 0) H5Pclose(tcpl);
}

static Datatype* new_datatype(File* f, const ObjectId& oid, const std::string& t, hid_t tcpl) {
  auto* d = new Datatype;
  d->type = H5I_DATATYPE;
  d->file = f;
  d->oid = oid;
  d->dtype = t;
  d->tcpl = tcpl;
  file_ref(f);
  return d;
}

Datatype* datatype_load(File* f, const ObjectId& oid) {
  auto kv = open_kv(f, oid);
  Result<std::string> t = kv.ok() ? kv.value()->get(kMeta, akey::kDtype) : kv.status();
  if (!t.ok()) {
    H5VL_EDAOS_ERR_ST(t.status(), "cannot open datatype");
    return nullptr;
  }
  if (ScopedType(t.value()).get() < 0) {
    H5VL_EDAOS_ERR("corrupt datatype record");
    return nullptr;
  }
  // The tcpl is stored since attribute creation-order flags live in it (older objects: none).
  hid_t tcpl = H5I_INVALID_HID;
  auto cpl = kv.value()->get(kMeta, akey::kCpl);
  if (cpl.ok()) tcpl = decode_plist(cpl.value());
  if (tcpl < 0) tcpl = H5Pcreate(H5P_DATATYPE_CREATE);
  return new_datatype(f, oid, t.value(), tcpl);
}

void* datatype_commit(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t type,
                      hid_t lcpl, hid_t tcpl, hid_t tapl, hid_t, void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    if (!f->writable()) {
      H5VL_EDAOS_ERR("file is read-only");
      return nullptr;
    }
    Status args = first_error(
        {check_type(type), check_plist(lcpl, H5P_LINK_CREATE, "link creation property list"),
         check_plist(tcpl, H5P_DATATYPE_CREATE, "datatype creation property list"),
         check_plist(tapl, H5P_DATATYPE_ACCESS, "datatype access property list")});
    if (!args.ok()) {
      H5VL_EDAOS_ERR_ST(args, "cannot commit datatype");
      return nullptr;
    }
    auto loc = resolve_loc(o, lp);
    hid_t t = H5Tcopy(type);
    std::string enc = encode_type(t);
    H5Tclose(t);
    hid_t tcpl_copy = H5Pcopy(tcpl == H5P_DEFAULT ? H5P_DATATYPE_CREATE_DEFAULT : tcpl);
    std::string cpl = encode_plist(tcpl_copy);
    std::string out;
    Status st = collective(
        f, loc.status(),
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(NewLink place, new_link_place(f, loc.value().oid, name, lcpl));
          EDAOS_ASSIGN_OR_RETURN(ObjectId oid,
                                 create_object(f, 'T', {{akey::kDtype, enc}, {akey::kCpl, cpl}}));
          EDAOS_RETURN_IF_ERROR(link_new_object(f, place, oid));
          return oid_bytes(oid);
        },
        &out);
    if (!st.ok()) {
      H5Pclose(tcpl_copy);
      H5VL_EDAOS_ERR_ST(st,
                        std::string("cannot commit datatype '") + (name ? name : "(anon)") + "'");
      return nullptr;
    }
    Datatype* d = new_datatype(f, oid_from_bytes(out), enc, tcpl_copy);
    if (name) d->path = join_path(loc_path(o, lp), name);
    return d;
  });
}

void* datatype_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t tapl, hid_t,
                    void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    Status args = check_plist(tapl, H5P_DATATYPE_ACCESS, "datatype access property list");
    if (!args.ok()) {
      H5VL_EDAOS_ERR_ST(args, "cannot open datatype");
      return nullptr;
    }
    auto loc = resolve_loc(o, lp);
    Result<Target> t = loc.ok() ? resolve_path(o->file, loc.value().oid, name) : loc;
    if (!t.ok()) {
      H5VL_EDAOS_ERR_ST(t.status(), std::string("cannot open datatype '") + name + "'");
      return nullptr;
    }
    if (t.value().kind != 'T') {
      H5VL_EDAOS_ERR(std::string("'") + name + "' is not a committed datatype");
      return nullptr;
    }
    Datatype* d = datatype_load(o->file, t.value().oid);
    if (d) d->path = join_path(loc_path(o, lp), name);
    return d;
  });
}

herr_t datatype_get(void* obj, H5VL_datatype_get_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* d = static_cast<Datatype*>(obj);
    switch (args->op_type) {
      case H5VL_DATATYPE_GET_BINARY_SIZE:
        *args->args.get_binary_size.size = d->dtype.size();
        return 0;
      case H5VL_DATATYPE_GET_BINARY: {
        auto& b = args->args.get_binary;
        if (b.buf) memcpy(b.buf, d->dtype.data(), std::min(b.buf_size, d->dtype.size()));
        return 0;
      }
      case H5VL_DATATYPE_GET_TCPL:
        args->args.get_tcpl.tcpl_id = H5Pcopy(d->tcpl);
        return 0;
    }
    return -1;
  });
}

herr_t datatype_specific(void*, H5VL_datatype_specific_args_t*, hid_t, void**) { return 0; }

herr_t datatype_optional(void*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR("native-only datatype operation is not supported by the edaos connector");
  return -1;
}

herr_t datatype_close(void* dt, hid_t, void**) {
  auto* d = static_cast<Datatype*>(dt);
  File* f = d->file;
  delete d;
  file_unref(f);
  return 0;
}

}  // namespace edaos::h5vol

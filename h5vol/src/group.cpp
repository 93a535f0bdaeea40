// Groups: object KVs whose "L<name>" dkeys are the links (see util.cpp for the records).
#include "h5vol_internal.hpp"

namespace edaos::h5vol {

Group::~Group() {
  if (gcpl >= 0) H5Pclose(gcpl);
}

static Group* new_group(File* f, const ObjectId& oid, hid_t gcpl) {
  auto* g = new Group;
  g->type = H5I_GROUP;
  g->file = f;
  g->oid = oid;
  g->gcpl = gcpl;
  file_ref(f);
  return g;
}

static Group* group_load(File* f, const ObjectId& oid) {
  hid_t gcpl = H5I_INVALID_HID;
  auto kv = open_kv(f, oid);
  if (kv.ok()) {
    auto cpl = kv.value()->get(kMeta, akey::kCpl);
    if (cpl.ok()) gcpl = decode_plist(cpl.value());
  }
  if (gcpl < 0) gcpl = H5Pcreate(H5P_GROUP_CREATE);
  return new_group(f, oid, gcpl);
}

Obj* open_by_target(File* f, const Target& t) {
  switch (t.kind) {
    case 'G':
      return group_load(f, t.oid);
    case 'D':
      return dataset_load(f, t.oid, H5P_DATASET_ACCESS_DEFAULT);
    case 'T':
      return datatype_load(f, t.oid);
    default:
      H5VL_EDAOS_ERR("unknown object type");
      return nullptr;
  }
}

void* group_create(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t lcpl, hid_t gcpl,
                   hid_t gapl, hid_t, void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    if (!f->writable()) {
      H5VL_EDAOS_ERR("file is read-only");
      return nullptr;
    }
    Status args = first_error({check_plist(lcpl, H5P_LINK_CREATE, "link creation property list"),
                               check_plist(gcpl, H5P_GROUP_CREATE, "group creation property list"),
                               check_plist(gapl, H5P_GROUP_ACCESS, "group access property list")});
    if (!args.ok()) {
      H5VL_EDAOS_ERR_ST(args, "cannot create group");
      return nullptr;
    }
    // The location is resolved by every rank; any rank's failure fails all (collective()).
    auto loc = resolve_loc(o, lp);
    hid_t cpl = (gcpl == H5P_DEFAULT || gcpl <= 0) ? H5Pcreate(H5P_GROUP_CREATE) : H5Pcopy(gcpl);
    std::string out;
    Status st = collective(
        f, loc.status(),
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(NewLink place, new_link_place(f, loc.value().oid, name, lcpl));
          EDAOS_ASSIGN_OR_RETURN(ObjectId g,
                                 create_object(f, 'G', {{akey::kCpl, encode_plist(cpl)}}));
          EDAOS_RETURN_IF_ERROR(link_new_object(f, place, g));
          return oid_bytes(g);
        },
        &out);
    if (!st.ok()) {
      H5Pclose(cpl);
      H5VL_EDAOS_ERR_ST(st, std::string("cannot create group '") + (name ? name : "(anon)") + "'");
      return nullptr;
    }
    Group* g = new_group(f, oid_from_bytes(out), cpl);
    if (name) g->path = join_path(loc_path(o, lp), name);
    return g;
  });
}

void* group_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t gapl, hid_t,
                 void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    Status args = check_plist(gapl, H5P_GROUP_ACCESS, "group access property list");
    if (!args.ok()) {
      H5VL_EDAOS_ERR_ST(args, "cannot open group");
      return nullptr;
    }
    auto loc = resolve_loc(o, lp);
    Result<Target> t = loc.ok() ? resolve_path(f, loc.value().oid, name) : loc;
    if (!t.ok()) {
      H5VL_EDAOS_ERR_ST(t.status(), std::string("cannot open group '") + name + "'");
      return nullptr;
    }
    if (t.value().kind != 'G') {
      H5VL_EDAOS_ERR(std::string("'") + name + "' is not a group");
      return nullptr;
    }
    Group* g = group_load(f, t.value().oid);
    g->path = join_path(loc_path(o, lp), name);
    return g;
  });
}

herr_t group_get(void* obj, H5VL_group_get_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    if (args->op_type == H5VL_GROUP_GET_GCPL) {
      hid_t src = o->type == H5I_GROUP ? static_cast<Group*>(o)->gcpl : H5I_INVALID_HID;
      args->args.get_gcpl.gcpl_id = src >= 0 ? H5Pcopy(src) : H5Pcreate(H5P_GROUP_CREATE);
      return 0;
    }
    auto& a = args->args.get_info;
    auto t = resolve_loc(o, &a.loc_params);
    if (!t.ok() || t.value().kind != 'G') {
      H5VL_EDAOS_ERR_ST(t.ok() ? Status(EDAOS_NOTDIR, "not a group") : t.status(), "group info");
      return -1;
    }
    auto links = list_links(f, t.value().oid, H5_INDEX_NAME, H5_ITER_INC);
    if (!links.ok()) {
      H5VL_EDAOS_ERR_ST(links.status(), "group info");
      return -1;
    }
    a.ginfo->storage_type = H5G_STORAGE_TYPE_COMPACT;
    a.ginfo->nlinks = links.value().size();
    // The next creation order value: link deletion never lowers it.
    auto kv = open_kv(f, t.value().oid);
    auto ctr = kv.ok() ? kv.value()->get(kMeta, akey::kLinkCtr) : Result<std::string>(kv.status());
    a.ginfo->max_corder = ctr.ok() ? static_cast<int64_t>(u64_from(ctr.value())) : 0;
    a.ginfo->mounted = false;
    return 0;
  });
}

herr_t group_specific(void*, H5VL_group_specific_args_t* args, hid_t, void**) {
  switch (args->op_type) {
    case H5VL_GROUP_FLUSH:
    case H5VL_GROUP_REFRESH:
      return 0;
    default:
      H5VL_EDAOS_ERR("mounting files is not supported by the edaos connector");
      return -1;
  }
}

herr_t group_optional(void*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR("native-only group operation is not supported by the edaos connector");
  return -1;
}

herr_t group_close(void* grp, hid_t, void**) {
  auto* g = static_cast<Obj*>(grp);
  File* f = g->file;
  delete g;
  file_unref(f);
  return 0;
}

}  // namespace edaos::h5vol

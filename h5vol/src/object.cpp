// Generic object operations: open by location, info, existence, lookup, visit, refcounts.
#include <algorithm>
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

void* object_open(void* obj, const H5VL_loc_params_t* lp, H5I_type_t* opened_type, hid_t, void**) {
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

namespace {

// Deep copy of objects (H5Ocopy), run by rank 0 inside collective(). Every key of the
// object's KV is copied except the link count; links of groups are copied after their targets
// (recursively, unless H5O_COPY_SHALLOW_HIERARCHY_FLAG stops at the first level); a dataset's
// data object is copied to a new one of the same class. Objects reached twice (hard links
// within the copied tree) are copied once.
struct Copier {
  File* from;
  File* to;
  unsigned flags = 0;
  std::map<ObjectId, ObjectId> done;

  Result<std::vector<std::pair<std::string, std::string>>> all_keys(objstore::KV* kv,
                                                                    const std::string& dkey) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string anchor;
    bool eof = false;
    while (!eof) {
      EDAOS_ASSIGN_OR_RETURN(auto keys, kv->list_akeys(dkey, anchor, 256, &eof));
      for (auto& a : keys) {
        EDAOS_ASSIGN_OR_RETURN(auto v, kv->get(dkey, a));
        out.emplace_back(a, std::move(v));
      }
      if (keys.empty()) break;
      anchor = keys.back();
    }
    return out;
  }

  Result<ObjectId> new_like(const ObjectId& src) {
    objstore::ObjClass oc = objstore::oclass_of(src);
    return to->cont->alloc_oid(oc, objstore::otype_of(src));
  }

  Status copy_data(const ObjectId& src, const ObjectId& dst, uint64_t chunk) {
    if (objstore::otype_of(src) == objstore::ObjType::kArray) {
      EDAOS_ASSIGN_OR_RETURN(auto in, from->cont->open_array(src, chunk));
      EDAOS_ASSIGN_OR_RETURN(auto out, to->cont->open_array(dst, chunk));
      EDAOS_ASSIGN_OR_RETURN(uint64_t size, in->get_size());
      constexpr uint64_t kStep = 4u << 20;
      std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size, kStep)));
      for (uint64_t off = 0; off < size; off += kStep) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(kStep, size - off));
        EDAOS_RETURN_IF_ERROR(in->read(off, buf.data(), n));
        EDAOS_RETURN_IF_ERROR(out->write(off, buf.data(), n));
      }
      return Status::OK();
    }
    EDAOS_ASSIGN_OR_RETURN(auto in, open_kv(from, src));
    EDAOS_ASSIGN_OR_RETURN(auto out, open_kv(to, dst));
    std::string anchor;
    bool eof = false;
    while (!eof) {
      EDAOS_ASSIGN_OR_RETURN(auto dkeys, in->list_dkeys(anchor, 256, &eof));
      for (const auto& d : dkeys) {
        EDAOS_ASSIGN_OR_RETURN(auto kvs, all_keys(in.get(), d));
        for (const auto& [a, v] : kvs) EDAOS_RETURN_IF_ERROR(out->put(d, a, v));
      }
      if (dkeys.empty()) break;
      anchor = dkeys.back();
    }
    return Status::OK();
  }

  // Copies object `src` (kind `k`); `depth` 0 is the object H5Ocopy names.
  Result<ObjectId> copy(const ObjectId& src, char k, int depth) {
    if (auto it = done.find(src); it != done.end()) return it->second;
    EDAOS_ASSIGN_OR_RETURN(auto in, open_kv(from, src));
    EDAOS_ASSIGN_OR_RETURN(ObjectId dst, new_like(src));
    done[src] = dst;
    EDAOS_ASSIGN_OR_RETURN(auto out, open_kv(to, dst));
    std::string anchor;
    bool eof = false;
    std::vector<std::pair<std::string, LinkRec>> links;
    while (!eof) {
      EDAOS_ASSIGN_OR_RETURN(auto dkeys, in->list_dkeys(anchor, 256, &eof));
      for (const auto& d : dkeys) {
        if (d.empty()) continue;
        if (d[0] == kAttrPrefix && (flags & H5O_COPY_WITHOUT_ATTR_FLAG)) continue;
        if (d[0] == kLinkPrefix) {
          EDAOS_ASSIGN_OR_RETURN(auto v, in->get(d, ""));
          EDAOS_ASSIGN_OR_RETURN(LinkRec rec, LinkRec::decode(v));
          links.emplace_back(d.substr(1), std::move(rec));
          continue;
        }
        EDAOS_ASSIGN_OR_RETURN(auto kvs, all_keys(in.get(), d));
        for (auto& [a, v] : kvs) {
          // Links to the copy count afresh; its links are numbered again (in their order).
          if (d == kMeta && (a == akey::kRefs || a == akey::kLinkCtr)) continue;
          // A copy holds no reference to the source's committed datatype (which may be in
          // another file); attributes likewise below.
          if (d == kMeta && a == akey::kTypeRef) continue;
          if (d[0] == kAttrPrefix && a.empty()) {
            EDAOS_ASSIGN_OR_RETURN(AttrRec ar, AttrRec::decode(v));
            ar.has_tref = false;
            v = ar.encode();
          }
          if (d == kMeta && a == akey::kData) {
            ObjectId data = oid_from_bytes(v);
            EDAOS_ASSIGN_OR_RETURN(ObjectId ndata, new_like(data));
            uint64_t chunk = 0;
            if (k == 'D') {
              EDAOS_ASSIGN_OR_RETURN(auto t, in->get(kMeta, akey::kDtype));
              EDAOS_ASSIGN_OR_RETURN(auto s, in->get(kMeta, akey::kSpace));
              EDAOS_ASSIGN_OR_RETURN(auto c, in->get(kMeta, akey::kCpl));
              ScopedType ft(t);
              hid_t sp = decode_space(s), dcpl = decode_plist(c);
              Layout lo;
              Status ls = Status(EDAOS_FORMAT, "bad dataset metadata");
              if (ft.get() >= 0 && sp >= 0 && dcpl >= 0) {
                ls = Status::OK();
                lo.esize = H5Tget_size(ft.get());
                if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
                  int r = H5Sget_simple_extent_ndims(sp);
                  std::vector<hsize_t> ch(static_cast<size_t>(std::max(r, 1)));
                  if (r > 0 && H5Pget_chunk(dcpl, r, ch.data()) == r) {
                    chunk = lo.esize;
                    for (int i = 0; i < r; ++i) chunk *= ch[static_cast<size_t>(i)];
                  }
                }
              }
              if (sp >= 0) H5Sclose(sp);
              if (dcpl >= 0) H5Pclose(dcpl);
              EDAOS_RETURN_IF_ERROR(ls);
            }
            EDAOS_RETURN_IF_ERROR(copy_data(data, ndata, chunk));
            v = oid_bytes(ndata);
          }
          EDAOS_RETURN_IF_ERROR(out->put(d, a, v));
        }
      }
      if (dkeys.empty()) break;
      anchor = dkeys.back();
    }
    std::stable_sort(links.begin(), links.end(), [](const auto& x, const auto& y) {
      return x.second.corder < y.second.corder;
    });
    for (auto& [name, rec] : links) {
      const bool shallow = (flags & H5O_COPY_SHALLOW_HIERARCHY_FLAG) && depth >= 1;
      if (shallow) continue;
      if (rec.kind == H5L_TYPE_SOFT && (flags & H5O_COPY_EXPAND_SOFT_LINK_FLAG)) {
        auto t = resolve_path(from, src, rec.soft);
        if (!t.ok()) continue;  // dangling soft links are dropped when expanded
        EDAOS_ASSIGN_OR_RETURN(ObjectId n, copy(t.value().oid, t.value().kind, depth + 1));
        rec = LinkRec{};
        rec.target = n;
      } else if (rec.kind == H5L_TYPE_HARD) {
        EDAOS_ASSIGN_OR_RETURN(char ck, object_kind(from, rec.target));
        EDAOS_ASSIGN_OR_RETURN(rec.target, copy(rec.target, ck, depth + 1));
      }
      // insert_link numbers links afresh in copy order and counts hard links.
      EDAOS_RETURN_IF_ERROR(insert_link(to, dst, name, rec));
    }
    return dst;
  }
};

}  // namespace

herr_t object_copy(void* src, const H5VL_loc_params_t* lp1, const char* src_name, void* dst,
                   const H5VL_loc_params_t* lp2, const char* dst_name, hid_t ocpypl, hid_t lcpl,
                   hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* s = static_cast<Obj*>(src);
    auto* d = static_cast<Obj*>(dst);
    Status args = first_error({check_plist(ocpypl, H5P_OBJECT_COPY, "object copy property list"),
                               check_plist(lcpl, H5P_LINK_CREATE, "link creation property list")});
    if (!args.ok()) {
      H5VL_EDAOS_ERR_ST(args, "H5Ocopy");
      return -1;
    }
    if (!d->file->writable()) {
      H5VL_EDAOS_ERR("H5Ocopy: destination file is read-only");
      return -1;
    }
    unsigned flags = 0;
    if (ocpypl != H5P_DEFAULT) H5Pget_copy_object(ocpypl, &flags);
    const unsigned supported = H5O_COPY_WITHOUT_ATTR_FLAG | H5O_COPY_SHALLOW_HIERARCHY_FLAG |
                               H5O_COPY_EXPAND_SOFT_LINK_FLAG | H5O_COPY_EXPAND_REFERENCE_FLAG |
                               H5O_COPY_PRESERVE_NULL_FLAG | H5O_COPY_MERGE_COMMITTED_DTYPE_FLAG;
    if (flags & ~supported) {
      H5VL_EDAOS_ERR("H5Ocopy: the external-link expansion flag is not supported");
      return -1;
    }
    // Both locations are resolved by every rank; the copy runs on rank 0 of the destination.
    auto from = resolve_loc(s, lp1);
    Result<Target> t = from.ok() ? resolve_path(s->file, from.value().oid, src_name) : from;
    auto to = resolve_loc(d, lp2);
    Status local = t.status();
    if (local.ok()) local = to.status();
    std::string dpath = dst_name;
    Status st = collective(
        d->file, local,
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(auto pn, parent_for_create(d->file, to.value().oid, dpath,
                                                            intermediate_groups(lcpl)));
          EDAOS_ASSIGN_OR_RETURN(auto pkv, open_kv(d->file, pn.first));
          if (pkv->get(std::string(1, kLinkPrefix) + pn.second, "").ok())
            return Status(EDAOS_EXIST, "link '" + dpath + "' already exists");
          Copier c{s->file, d->file, flags, {}};
          EDAOS_ASSIGN_OR_RETURN(ObjectId n, c.copy(t.value().oid, t.value().kind, 0));
          LinkRec rec;
          rec.target = n;
          EDAOS_RETURN_IF_ERROR(insert_link(d->file, pn.first, pn.second, rec));
          return std::string();
        },
        nullptr);
    if (!st.ok()) {
      H5VL_EDAOS_ERR_ST(st, std::string("H5Ocopy to '") + dst_name + "'");
      return -1;
    }
    return 0;
  });
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
    Status st =
        fill_object_info(f, t.value(), args->args.get_info.fields, args->args.get_info.oinfo);
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
    auto links =
        list_links(f, t.oid, a.idx_type, a.order == H5_ITER_DEC ? H5_ITER_DEC : H5_ITER_INC);
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
        Status st = collective(
            f,
            [&]() -> Result<std::string> {
              EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, t.value().oid));
              std::lock_guard<std::mutex> lk(f->mu);
              auto cur = kv->get(kMeta, akey::kRefs);
              int64_t v = cur.ok() ? static_cast<int64_t>(u64_from(cur.value())) : 1;
              v = std::max<int64_t>(0, v + delta);
              EDAOS_RETURN_IF_ERROR(
                  kv->put(kMeta, akey::kRefs, u64_bytes(static_cast<uint64_t>(v))));
              return std::string();
            },
            nullptr);
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
  H5VL_EDAOS_ERR(
      "native-only object operation (comments, ...) is not supported by the edaos connector");
  return -1;
}

}  // namespace edaos::h5vol

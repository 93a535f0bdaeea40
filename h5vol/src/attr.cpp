// Attributes: dkey "A<name>" of the owning object's KV holds one record (creation order,
// encoded type and space, data in file format; variable-length elements inline).
#include <algorithm>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {
namespace {

std::string akey_of(const std::string& name) { return std::string(1, kAttrPrefix) + name; }

Result<std::vector<std::pair<std::string, AttrRec>>> list_attrs(File* f, const ObjectId& oid,
                                                                H5_index_t idx,
                                                                H5_iter_order_t order) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
  std::vector<std::pair<std::string, AttrRec>> out;
  std::string anchor(1, kAttrPrefix);
  bool eof = false;
  size_t done = 0;
  while (!eof) {
    EDAOS_ASSIGN_OR_RETURN(auto keys, kv->list_dkeys(anchor, 256, &eof));
    for (auto& k : keys) {
      if (k.empty() || k[0] != kAttrPrefix) {
        eof = true;
        break;
      }
      out.emplace_back(k.substr(1), AttrRec{});
    }
    if (!keys.empty()) anchor = keys.back();
    EDAOS_RETURN_IF_ERROR(fetch_records(kv.get(), kAttrPrefix, &out, done));
    done = out.size();
  }
  if (idx == H5_INDEX_CRT_ORDER)
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second.corder < b.second.corder;
    });
  if (order == H5_ITER_DEC) std::reverse(out.begin(), out.end());
  return out;
}

Result<AttrRec> get_rec(File* f, const ObjectId& oid, const std::string& name) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
  auto v = kv->get(akey_of(name), "");
  if (!v.ok()) {
    if (v.status().code() == EDAOS_NONEXIST)
      return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
    return v.status();
  }
  return AttrRec::decode(v.value());
}

// Owner object of an attribute location: by self, by name, or (for by-index) the object named.
Result<Target> owner_of(Obj* o, const H5VL_loc_params_t* lp) {
  EDAOS_RETURN_IF_ERROR(check_loc(lp));
  if (lp->type == H5VL_OBJECT_BY_IDX)
    return resolve_path(o->file, o->oid, lp->loc_data.loc_by_idx.name);
  return resolve_loc(o, lp);
}

// Name of the attribute a by-index location selects.
Result<std::pair<std::string, AttrRec>> by_idx(File* f, const ObjectId& owner, H5_index_t idx,
                                               H5_iter_order_t order, hsize_t n) {
  EDAOS_ASSIGN_OR_RETURN(auto all, list_attrs(f, owner, idx, order));
  if (n >= all.size()) return Status(EDAOS_NONEXIST, "attribute index out of range");
  return all[n];
}

Attr* new_attr(File* f, const ObjectId& owner, const std::string& name, const std::string& type,
               hid_t space, hid_t acpl) {
  auto* a = new Attr;
  a->type = H5I_ATTR;
  a->file = f;
  a->oid = owner;
  a->name = name;
  a->atype = type;
  a->space = space;
  a->acpl = acpl;
  file_ref(f);
  return a;
}

Attr* attr_from_rec(File* f, const ObjectId& owner, const std::string& name, const AttrRec& r) {
  ScopedType t(r.dtype);
  hid_t s = decode_space(r.space);
  if (t.get() < 0 || s < 0) {
    if (s >= 0) H5Sclose(s);
    H5VL_EDAOS_ERR("corrupt attribute record");
    return nullptr;
  }
  return new_attr(f, owner, name, r.dtype, s, H5Pcreate(H5P_ATTRIBUTE_CREATE));
}

void fill_ainfo(const AttrRec& r, H5A_info_t* i) {
  hid_t t = decode_type(r.dtype), s = decode_space(r.space);
  i->corder_valid = true;
  i->corder = static_cast<H5O_msg_crt_idx_t>(r.corder);
  i->cset = H5T_CSET_ASCII;
  hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : 0;
  i->data_size = static_cast<hsize_t>(std::max<hssize_t>(n, 0)) * (t >= 0 ? H5Tget_size(t) : 0);
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
}

bool is_vlen(hid_t t) { return H5Tis_variable_str(t) > 0 || H5Tget_class(t) == H5T_VLEN; }

// Encodes `n` elements of memory type `mt` from `buf` into the record's file format.
Result<std::string> encode_data(hid_t ft, hid_t mt, size_t n, const void* buf, hid_t dxpl,
                                const std::string& old) {
  if (is_vlen(ft)) {
    const bool str = H5Tis_variable_str(ft) > 0;
    if (is_vlen(mt) != true || (H5Tis_variable_str(mt) > 0) != str)
      return Status(EDAOS_NOTSUP, "variable-length attribute needs a variable-length memory type");
    size_t base = 1;
    if (!str) {
      hid_t b = H5Tget_super(mt);
      base = H5Tget_size(b);
      H5Tclose(b);
    }
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      if (str) {
        const char* s = static_cast<char* const*>(buf)[i];
        out += static_cast<char>(s ? 1 : 0);
        std::string v = s ? s : "";
        out += u64_bytes(v.size()) + v;
      } else {
        const hvl_t& h = static_cast<const hvl_t*>(buf)[i];
        out += static_cast<char>(1);
        out += u64_bytes(h.len * base);
        out.append(static_cast<const char*>(h.p), h.len * base);
      }
    }
    return out;
  }
  if (is_vlen(mt))
    return Status(EDAOS_NOTSUP, "variable-length memory type for a fixed-size attribute");
  const size_t fs = H5Tget_size(ft), ms = H5Tget_size(mt);
  std::vector<char> cbuf(n * std::max(fs, ms));
  memcpy(cbuf.data(), buf, n * ms);
  if (H5Tequal(ft, mt) <= 0) {
    std::vector<char> bkg;
    if (H5Tget_class(ft) == H5T_COMPOUND) {
      bkg.assign(n * fs, 0);
      if (old.size() == bkg.size()) memcpy(bkg.data(), old.data(), old.size());
    }
    if (H5Tconvert(mt, ft, n, cbuf.data(), bkg.empty() ? nullptr : bkg.data(), dxpl) < 0)
      return Status(EDAOS_INVAL, "attribute datatype conversion failed");
  }
  return std::string(cbuf.data(), n * fs);
}

Status decode_data(hid_t ft, hid_t mt, size_t n, const std::string& data, void* buf, hid_t dxpl) {
  if (is_vlen(ft)) {
    const bool str = H5Tis_variable_str(ft) > 0;
    if (!is_vlen(mt) || (H5Tis_variable_str(mt) > 0) != str)
      return Status(EDAOS_NOTSUP, "variable-length attribute needs a variable-length memory type");
    size_t base = 1;
    if (!str) {
      hid_t b = H5Tget_super(mt);
      base = H5Tget_size(b);
      H5Tclose(b);
    }
    const VlenAlloc alloc = vlen_alloc(dxpl);
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      bool present = false;
      std::string v;
      if (pos + 9 <= data.size()) {
        present = data[pos] != 0;
        uint64_t len = u64_from(data.substr(pos + 1, 8));
        v = data.substr(pos + 9, len);
        pos += 9 + len;
      }
      if (str) {
        char* s = nullptr;
        if (present) {
          s = static_cast<char*>(alloc(v.size() + 1));
          if (!s) return Status(EDAOS_NOMEM, "attribute string");
          memcpy(s, v.data(), v.size());
          s[v.size()] = '\0';
        }
        static_cast<char**>(buf)[i] = s;
      } else {
        hvl_t& h = static_cast<hvl_t*>(buf)[i];
        h.len = v.size() / base;
        h.p = nullptr;
        if (!v.empty()) {
          h.p = alloc(v.size());
          if (!h.p) return Status(EDAOS_NOMEM, "attribute sequence");
          memcpy(h.p, v.data(), v.size());
        }
      }
    }
    return Status::OK();
  }
  if (is_vlen(mt))
    return Status(EDAOS_NOTSUP, "variable-length memory type for a fixed-size attribute");
  const size_t fs = H5Tget_size(ft), ms = H5Tget_size(mt);
  std::vector<char> cbuf(n * std::max(fs, ms), 0);
  memcpy(cbuf.data(), data.data(), std::min(data.size(), n * fs));
  if (H5Tequal(ft, mt) <= 0) {
    std::vector<char> bkg;
    if (H5Tget_class(mt) == H5T_COMPOUND)
      bkg.assign(static_cast<char*>(buf), static_cast<char*>(buf) + n * ms);
    if (H5Tconvert(ft, mt, n, cbuf.data(), bkg.empty() ? nullptr : bkg.data(), dxpl) < 0)
      return Status(EDAOS_INVAL, "attribute datatype conversion failed");
  }
  memcpy(buf, cbuf.data(), n * ms);
  return Status::OK();
}

herr_t fail(const Status& st, const std::string& what) {
  H5VL_EDAOS_ERR_ST(st, what);
  return -1;
}

}  // namespace

Attr::~Attr() {
  if (space >= 0) H5Sclose(space);
  if (acpl >= 0) H5Pclose(acpl);
}

Result<uint64_t> count_attrs(File* f, const ObjectId& oid) {
  EDAOS_ASSIGN_OR_RETURN(auto all, list_attrs(f, oid, H5_INDEX_NAME, H5_ITER_INC));
  return static_cast<uint64_t>(all.size());
}

void* attr_create(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t type, hid_t space,
                  hid_t acpl, hid_t aapl, hid_t, void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    if (!f->writable()) {
      H5VL_EDAOS_ERR("file is read-only");
      return nullptr;
    }
    Status args =
        first_error({check_type(type), check_space(space),
                     check_plist(acpl, H5P_ATTRIBUTE_CREATE, "attribute creation property list"),
                     check_plist(aapl, H5P_ATTRIBUTE_ACCESS, "attribute access property list")});
    if (!args.ok()) {
      fail(args, std::string("cannot create attribute '") + (name ? name : "") + "'");
      return nullptr;
    }
    if (H5Tdetect_class(type, H5T_REFERENCE) > 0) {
      H5VL_EDAOS_ERR("reference datatypes are not supported by the edaos connector");
      return nullptr;
    }
    auto owner = owner_of(o, lp);
    hid_t t = H5Tcopy(type);
    hid_t s = H5Scopy(space);
    AttrRec rec;
    rec.dtype = encode_type(t);
    rec.space = encode_space(s);
    H5Tclose(t);
    rec.has_tref = committed_type_oid(f, type, &rec.tref);
    Status st = collective(
        f, owner.status(),
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, owner.value().oid));
          if (kv->get(akey_of(name), "").ok())
            return Status(EDAOS_EXIST, std::string("attribute '") + name + "' already exists");
          EDAOS_ASSIGN_OR_RETURN(rec.corder, bump_counter(f, kv.get(), akey::kAttrCtr));
          Status p = kv->put(akey_of(name), "", rec.encode(), objstore::KV::kInsertOnly);
          if (p.code() == EDAOS_EXIST)
            return Status(EDAOS_EXIST, std::string("attribute '") + name + "' already exists");
          EDAOS_RETURN_IF_ERROR(p);
          if (rec.has_tref) EDAOS_RETURN_IF_ERROR(adjust_refs(f, rec.tref, +1));
          return std::string();
        },
        nullptr);
    if (!st.ok()) {
      H5Sclose(s);
      fail(st, std::string("cannot create attribute '") + name + "'");
      return nullptr;
    }
    Attr* a = new_attr(f, owner.value().oid, name, rec.dtype, s,
                       H5Pcopy(acpl == H5P_DEFAULT ? H5P_ATTRIBUTE_CREATE_DEFAULT : acpl));
    a->path = loc_path(o, lp);
    return a;
  });
}

void* attr_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t aapl, hid_t,
                void**) {
  return guarded<void*>(__func__, nullptr, [&]() -> void* {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    Status args = check_plist(aapl, H5P_ATTRIBUTE_ACCESS, "attribute access property list");
    if (!args.ok()) {
      fail(args, "cannot open attribute");
      return nullptr;
    }
    auto owner = owner_of(o, lp);
    if (!owner.ok()) {
      fail(owner.status(), "attribute open: object");
      return nullptr;
    }
    if (lp->type == H5VL_OBJECT_BY_IDX) {
      const auto& bi = lp->loc_data.loc_by_idx;
      auto r = by_idx(f, owner.value().oid, bi.idx_type, bi.order, bi.n);
      if (!r.ok()) {
        fail(r.status(), "cannot open attribute by index");
        return nullptr;
      }
      Attr* a = attr_from_rec(f, owner.value().oid, r.value().first, r.value().second);
      if (a) a->path = join_path(o->path, bi.name);
      return a;
    }
    auto r = get_rec(f, owner.value().oid, name);
    if (!r.ok()) {
      fail(r.status(), std::string("cannot open attribute '") + name + "'");
      return nullptr;
    }
    Attr* a = attr_from_rec(f, owner.value().oid, name, r.value());
    if (a) a->path = loc_path(o, lp);
    return a;
  });
}

herr_t attr_read(void* attr, hid_t mem_type, void* buf, hid_t dxpl, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* a = static_cast<Attr*>(attr);
    if (!buf) return fail(Status(EDAOS_INVAL, "null data buffer"), "attribute read");
    auto r = get_rec(a->file, a->oid, a->name);
    if (!r.ok()) return fail(r.status(), "attribute read");
    hssize_t n = H5Sget_simple_extent_npoints(a->space);
    ScopedType at(a->atype);
    Status st = decode_data(at.get(), mem_type, static_cast<size_t>(std::max<hssize_t>(n, 0)),
                            r.value().data, buf, dxpl);
    return st.ok() ? 0 : fail(st, "attribute read");
  });
}

herr_t attr_write(void* attr, hid_t mem_type, const void* buf, hid_t dxpl, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* a = static_cast<Attr*>(attr);
    File* f = a->file;
    if (!buf) return fail(Status(EDAOS_INVAL, "null data buffer"), "attribute write");
    if (!f->writable()) return fail(Status(EDAOS_RDONLY, "file is read-only"), "attribute write");
    hssize_t n = H5Sget_simple_extent_npoints(a->space);
    ScopedType at(a->atype);
    Status st = collective(
        f,
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(AttrRec rec, get_rec(f, a->oid, a->name));
          EDAOS_ASSIGN_OR_RETURN(
              rec.data,
              encode_data(at.get(), mem_type, static_cast<size_t>(std::max<hssize_t>(n, 0)), buf,
                          dxpl, rec.data));
          EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, a->oid));
          EDAOS_RETURN_IF_ERROR(kv->put(akey_of(a->name), "", rec.encode()));
          return std::string();
        },
        nullptr);
    return st.ok() ? 0 : fail(st, "attribute write");
  });
}

herr_t attr_get(void* obj, H5VL_attr_get_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    switch (args->op_type) {
      case H5VL_ATTR_GET_ACPL:
        args->args.get_acpl.acpl_id = H5Pcopy(static_cast<Attr*>(o)->acpl);
        return 0;
      case H5VL_ATTR_GET_SPACE:
        args->args.get_space.space_id = H5Scopy(static_cast<Attr*>(o)->space);
        return 0;
      case H5VL_ATTR_GET_TYPE:
        args->args.get_type.type_id = decode_type(static_cast<Attr*>(o)->atype);
        return 0;
      case H5VL_ATTR_GET_STORAGE_SIZE: {
        auto* a = static_cast<Attr*>(o);
        hssize_t n = H5Sget_simple_extent_npoints(a->space);
        *args->args.get_storage_size.data_size = static_cast<hsize_t>(std::max<hssize_t>(n, 0)) *
                                                 H5Tget_size(ScopedType(a->atype).get());
        return 0;
      }
      case H5VL_ATTR_GET_NAME: {
        auto& g = args->args.get_name;
        std::string name;
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
          name = static_cast<Attr*>(o)->name;
        } else {
          auto owner = owner_of(o, &g.loc_params);
          if (!owner.ok()) return fail(owner.status(), "attribute name");
          const auto& bi = g.loc_params.loc_data.loc_by_idx;
          auto r = by_idx(f, owner.value().oid, bi.idx_type, bi.order, bi.n);
          if (!r.ok()) return fail(r.status(), "attribute name by index");
          name = r.value().first;
        }
        *g.attr_name_len = name.size();
        if (g.buf && g.buf_size) {
          size_t n = std::min(g.buf_size - 1, name.size());
          memcpy(g.buf, name.data(), n);
          g.buf[n] = '\0';
        }
        return 0;
      }
      case H5VL_ATTR_GET_INFO: {
        auto& g = args->args.get_info;
        Result<AttrRec> rec = Status(EDAOS_INVAL, "bad location");
        if (g.loc_params.type == H5VL_OBJECT_BY_SELF) {
          auto* a = static_cast<Attr*>(o);
          rec = get_rec(f, a->oid, a->name);
        } else {
          auto owner = owner_of(o, &g.loc_params);
          if (!owner.ok()) return fail(owner.status(), "attribute info");
          if (g.loc_params.type == H5VL_OBJECT_BY_IDX) {
            const auto& bi = g.loc_params.loc_data.loc_by_idx;
            auto r = by_idx(f, owner.value().oid, bi.idx_type, bi.order, bi.n);
            if (r.ok()) {
              rec = r.value().second;
            } else {
              rec = r.status();
            }
          } else {
            rec = get_rec(f, owner.value().oid, g.attr_name);
          }
        }
        if (!rec.ok()) return fail(rec.status(), "attribute info");
        fill_ainfo(rec.value(), g.ainfo);
        return 0;
      }
    }
    return -1;
  });
}

herr_t attr_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_attr_specific_args_t* args, hid_t,
                     void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    auto owner = owner_of(o, lp);
    const bool modifies = args->op_type == H5VL_ATTR_DELETE ||
                          args->op_type == H5VL_ATTR_DELETE_BY_IDX ||
                          args->op_type == H5VL_ATTR_RENAME;
    // Collective operations carry a local failure into collective(), so all ranks agree.
    if (!owner.ok() && !modifies) return fail(owner.status(), "attribute operation: object");
    const ObjectId oid = owner.ok() ? owner.value().oid : ObjectId{};
    switch (args->op_type) {
      case H5VL_ATTR_EXISTS: {
        auto kv = open_kv(f, oid);
        if (!kv.ok()) return fail(kv.status(), "attribute exists");
        auto v = kv.value()->get(akey_of(args->args.exists.name), "");
        if (!v.ok() && v.status().code() != EDAOS_NONEXIST)
          return fail(v.status(), "attribute exists");
        *args->args.exists.exists = v.ok();
        return 0;
      }
      case H5VL_ATTR_DELETE:
      case H5VL_ATTR_DELETE_BY_IDX:
      case H5VL_ATTR_RENAME: {
        if (!f->writable()) return fail(Status(EDAOS_RDONLY, "file is read-only"), "attribute");
        Status st = collective(
            f, owner.status(),
            [&]() -> Result<std::string> {
              EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
              std::string name;
              if (args->op_type == H5VL_ATTR_DELETE) {
                name = args->args.del.name;
              } else if (args->op_type == H5VL_ATTR_DELETE_BY_IDX) {
                const auto& d = args->args.delete_by_idx;
                EDAOS_ASSIGN_OR_RETURN(auto r, by_idx(f, oid, d.idx_type, d.order, d.n));
                name = r.first;
              } else {
                name = args->args.rename.old_name;
                std::string nn = args->args.rename.new_name;
                if (nn == name) return std::string();
                EDAOS_ASSIGN_OR_RETURN(auto v, kv->get(akey_of(name), ""));
                Status p = kv->put(akey_of(nn), "", v, objstore::KV::kInsertOnly);
                if (p.code() == EDAOS_EXIST)
                  return Status(EDAOS_EXIST, "attribute '" + nn + "' already exists");
                EDAOS_RETURN_IF_ERROR(p);
              }
              // A deleted attribute releases its committed datatype.
              AttrRec gone;
              if (args->op_type != H5VL_ATTR_RENAME) {
                auto g = get_rec(f, oid, name);
                if (g.ok()) gone = g.value();
              }
              Status r = kv->remove(akey_of(name), "");
              if (r.code() == EDAOS_NONEXIST)
                return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
              EDAOS_RETURN_IF_ERROR(r);
              if (gone.has_tref) EDAOS_RETURN_IF_ERROR(adjust_refs(f, gone.tref, -1));
              return std::string();
            },
            nullptr);
        return st.ok() ? 0 : fail(st, "attribute delete/rename");
      }
      case H5VL_ATTR_ITER: {
        const auto& it = args->args.iterate;
        if (it.idx_type != H5_INDEX_NAME && it.idx_type != H5_INDEX_CRT_ORDER)
          return fail(Status(EDAOS_INVAL, "invalid index type"), "attribute iterate");
        if (it.order != H5_ITER_INC && it.order != H5_ITER_DEC && it.order != H5_ITER_NATIVE)
          return fail(Status(EDAOS_INVAL, "invalid iteration order"), "attribute iterate");
        auto all =
            list_attrs(f, oid, it.idx_type, it.order == H5_ITER_DEC ? H5_ITER_DEC : H5_ITER_INC);
        if (!all.ok()) return fail(all.status(), "attribute iterate");
        Obj* h = open_by_target(f, owner.value());
        if (!h) return -1;
        hid_t id = H5VLwrap_register(h, kind_to_itype(owner.value().kind));
        if (id < 0) return -1;
        herr_t ret = 0;
        size_t start = it.idx ? static_cast<size_t>(*it.idx) : 0;
        for (size_t i = start; i < all.value().size(); ++i) {
          H5A_info_t info;
          fill_ainfo(all.value()[i].second, &info);
          ret = it.op(id, all.value()[i].first.c_str(), &info, it.op_data);
          if (it.idx) *it.idx = i + 1;
          if (ret != 0) break;
        }
        H5Idec_ref(id);
        return ret;
      }
    }
    return -1;
  });
}

herr_t attr_optional(void*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR("native-only attribute operation is not supported by the edaos connector");
  return -1;
}

herr_t attr_close(void* attr, hid_t, void**) {
  auto* a = static_cast<Attr*>(attr);
  File* f = a->file;
  delete a;
  file_unref(f);
  return 0;
}

}  // namespace edaos::h5vol

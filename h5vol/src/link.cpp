// Links: hard and soft link records in the parent group's KV; iteration and recursive visit.
#include <set>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {
namespace {

// Parent group OID and last name of a by-name location.
Result<std::pair<ObjectId, std::string>> link_parent(Obj* o, const std::string& path) {
  std::string parent, name;
  split_path(path, &parent, &name);
  EDAOS_ASSIGN_OR_RETURN(Target t, resolve_path(o->file, o->oid, parent));
  if (t.kind != 'G') return Status(EDAOS_NOTDIR, "'" + parent + "' is not a group");
  return std::make_pair(t.oid, name);
}

// Group, name and record of the link a location names (by name or by index).
struct Found {
  ObjectId group;
  std::string name;
  LinkRec rec;
};
Result<Found> find_link(Obj* o, const H5VL_loc_params_t* lp) {
  EDAOS_RETURN_IF_ERROR(check_loc(lp));
  File* f = o->file;
  Found out;
  if (lp->type == H5VL_OBJECT_BY_NAME) {
    EDAOS_ASSIGN_OR_RETURN(auto pn, link_parent(o, lp->loc_data.loc_by_name.name));
    out.group = pn.first;
    out.name = pn.second;
    EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, out.group));
    auto v = kv->get(std::string(1, kLinkPrefix) + out.name, "");
    if (!v.ok()) {
      if (v.status().code() == EDAOS_NONEXIST)
        return Status(EDAOS_NONEXIST, "no link '" + out.name + "'");
      return v.status();
    }
    EDAOS_ASSIGN_OR_RETURN(out.rec, LinkRec::decode(v.value()));
    return out;
  }
  if (lp->type == H5VL_OBJECT_BY_IDX) {
    const auto& bi = lp->loc_data.loc_by_idx;
    EDAOS_ASSIGN_OR_RETURN(Target g, resolve_path(f, o->oid, bi.name));
    if (g.kind != 'G') return Status(EDAOS_NOTDIR, "not a group");
    EDAOS_ASSIGN_OR_RETURN(auto links, list_links(f, g.oid, bi.idx_type, bi.order));
    if (bi.n >= links.size()) return Status(EDAOS_NONEXIST, "link index out of range");
    out.group = g.oid;
    out.name = links[bi.n].first;
    out.rec = links[bi.n].second;
    return out;
  }
  return Status(EDAOS_INVAL, "link location must be by name or by index");
}

void fill_info(const LinkRec& r, H5L_info2_t* i) {
  memset(i, 0, sizeof *i);
  i->type = r.kind;
  i->corder_valid = true;
  i->corder = static_cast<int64_t>(r.corder);
  i->cset = H5T_CSET_ASCII;
  if (r.kind == H5L_TYPE_SOFT) {
    i->u.val_size = r.soft.size() + 1;
  } else {
    i->u.token = oid_to_token(r.target);
  }
}

Status remove_link(File* f, const ObjectId& group, const std::string& name, const LinkRec& rec) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, group));
  EDAOS_RETURN_IF_ERROR(kv->remove(std::string(1, kLinkPrefix) + name, ""));
  if (rec.kind == H5L_TYPE_HARD) {
    auto tk = open_kv(f, rec.target);
    if (tk.ok()) {
      std::lock_guard<std::mutex> lk(f->mu);
      auto cur = tk.value()->get(kMeta, akey::kRefs);
      uint64_t v = cur.ok() ? u64_from(cur.value()) : 1;
      (void)tk.value()->put(kMeta, akey::kRefs, u64_bytes(v > 0 ? v - 1 : 0));
    }
  }
  // As in HDF5, a group left without links starts creation order over at 0.
  bool eof = false;
  EDAOS_ASSIGN_OR_RETURN(auto next, kv->list_dkeys(std::string(1, kLinkPrefix), 1, &eof));
  if (next.empty() || next[0].empty() || next[0][0] != kLinkPrefix)
    EDAOS_RETURN_IF_ERROR(kv->put(kMeta, akey::kLinkCtr, u64_bytes(0)));
  return Status::OK();
}

herr_t iterate(Obj* o, const ObjectId& group, const H5VL_link_iterate_args_t& a) {
  File* f = o->file;
  if (a.idx_type != H5_INDEX_NAME && a.idx_type != H5_INDEX_CRT_ORDER) {
    H5VL_EDAOS_ERR("invalid index type");
    return -1;
  }
  if (a.order != H5_ITER_INC && a.order != H5_ITER_DEC && a.order != H5_ITER_NATIVE) {
    H5VL_EDAOS_ERR("invalid iteration order");
    return -1;
  }
  // The callback gets an ID of the group iterated from.
  Obj* handle = open_by_target(f, Target{group, 'G'});
  if (!handle) return -1;
  hid_t gid = H5VLwrap_register(handle, H5I_GROUP);
  if (gid < 0) {
    group_close(handle, H5P_DEFAULT, nullptr);
    return -1;
  }
  herr_t ret = 0;
  std::set<ObjectId> seen{group};
  // Depth first: a group's links, each followed (when recursive) by its subtree.
  std::function<herr_t(const ObjectId&, const std::string&, bool)> walk =
      [&](const ObjectId& g, const std::string& prefix, bool top) -> herr_t {
    auto links = list_links(f, g, a.idx_type, a.order == H5_ITER_DEC ? H5_ITER_DEC : H5_ITER_INC);
    if (!links.ok()) {
      H5VL_EDAOS_ERR_ST(links.status(), "link iterate");
      return -1;
    }
    size_t start = (top && a.idx_p) ? static_cast<size_t>(*a.idx_p) : 0;
    for (size_t i = start; i < links.value().size(); ++i) {
      const auto& [name, rec] = links.value()[i];
      std::string full = prefix.empty() ? name : prefix + "/" + name;
      H5L_info2_t info;
      fill_info(rec, &info);
      herr_t r = a.op(gid, full.c_str(), &info, a.op_data);
      if (top && a.idx_p) *a.idx_p = i + 1;
      if (r != 0) return r;
      if (a.recursive && rec.kind == H5L_TYPE_HARD && !seen.count(rec.target)) {
        seen.insert(rec.target);
        auto k = object_kind(f, rec.target);
        if (k.ok() && k.value() == 'G') {
          r = walk(rec.target, full, false);
          if (r != 0) return r;
        }
      }
    }
    return 0;
  };
  ret = walk(group, "", true);
  H5Idec_ref(gid);
  return ret;
}

}  // namespace

herr_t link_create(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* lp,
                   hid_t lcpl, hid_t lapl, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    Status args_st = first_error({check_plist(lcpl, H5P_LINK_CREATE, "link creation property list"),
                                  check_plist(lapl, H5P_LINK_ACCESS, "link access property list")});
    if (!args_st.ok()) {
      H5VL_EDAOS_ERR_ST(args_st, "cannot create link");
      return -1;
    }
    LinkRec rec;
    Status local;  // this rank's checks, agreed on in collective()
    if (args->op_type == H5VL_LINK_CREATE_HARD) {
      auto* cur = static_cast<Obj*>(args->args.hard.curr_obj);
      if (!cur) cur = o;
      if (o && cur->file->cont->uuid() != o->file->cont->uuid()) {
        H5VL_EDAOS_ERR("hard links cannot cross files");
        return -1;
      }
      auto t = resolve_loc(cur, &args->args.hard.curr_loc_params);
      if (t.ok()) {
        rec.target = t.value().oid;
      } else {
        local = t.status().with_context("hard link target");
      }
      rec.kind = H5L_TYPE_HARD;
    } else if (args->op_type == H5VL_LINK_CREATE_SOFT) {
      rec.kind = H5L_TYPE_SOFT;
      rec.soft = args->args.soft.target;
    } else {
      H5VL_EDAOS_ERR("external and user-defined links are not supported by the edaos connector");
      return -1;
    }
    if (!o) o = static_cast<Obj*>(args->args.hard.curr_obj);
    File* f = o->file;
    if (!f->writable()) {
      H5VL_EDAOS_ERR("file is read-only");
      return -1;
    }
    if (lp->type != H5VL_OBJECT_BY_NAME) {
      H5VL_EDAOS_ERR("link create needs a name");
      return -1;
    }
    std::string path = lp->loc_data.loc_by_name.name;
    Status st = collective(
        f, local,
        [&]() -> Result<std::string> {
          EDAOS_ASSIGN_OR_RETURN(auto pn,
                                 parent_for_create(f, o->oid, path, intermediate_groups(lcpl)));
          EDAOS_RETURN_IF_ERROR(insert_link(f, pn.first, pn.second, rec));
          return std::string();
        },
        nullptr);
    if (!st.ok()) {
      H5VL_EDAOS_ERR_ST(st, "cannot create link '" + path + "'");
      return -1;
    }
    return 0;
  });
}

static herr_t copy_or_move(void* src, const H5VL_loc_params_t* lp1, void* dst,
                           const H5VL_loc_params_t* lp2, hid_t lcpl, hid_t lapl, bool move) {
  Status args = first_error({check_plist(lcpl, H5P_LINK_CREATE, "link creation property list"),
                             check_plist(lapl, H5P_LINK_ACCESS, "link access property list"),
                             check_loc(lp1), check_loc(lp2)});
  if (!args.ok()) {
    H5VL_EDAOS_ERR_ST(args, move ? "cannot move link" : "cannot copy link");
    return -1;
  }
  auto* s = static_cast<Obj*>(src);
  auto* d = static_cast<Obj*>(dst);
  if (!s) s = d;
  if (!d) d = s;
  File* f = s->file;
  if (d->file->cont->uuid() != f->cont->uuid()) {
    H5VL_EDAOS_ERR("links cannot cross files");
    return -1;
  }
  if (lp2->type != H5VL_OBJECT_BY_NAME) {
    H5VL_EDAOS_ERR("destination must be by name");
    return -1;
  }
  std::string dpath = lp2->loc_data.loc_by_name.name;
  Status st = collective(
      f,
      [&]() -> Result<std::string> {
        EDAOS_ASSIGN_OR_RETURN(Found from, find_link(s, lp1));
        EDAOS_ASSIGN_OR_RETURN(auto pn,
                               parent_for_create(f, d->oid, dpath, intermediate_groups(lcpl)));
        if (move && pn.first == from.group && pn.second == from.name) return std::string();
        EDAOS_RETURN_IF_ERROR(insert_link(f, pn.first, pn.second, from.rec));
        if (move) EDAOS_RETURN_IF_ERROR(remove_link(f, from.group, from.name, from.rec));
        return std::string();
      },
      nullptr);
  if (!st.ok()) {
    H5VL_EDAOS_ERR_ST(
        st, std::string(move ? "cannot move link to '" : "cannot copy link to '") + dpath + "'");
    return -1;
  }
  return 0;
}

herr_t link_copy(void* src, const H5VL_loc_params_t* lp1, void* dst, const H5VL_loc_params_t* lp2,
                 hid_t lcpl, hid_t lapl, hid_t, void**) {
  return guarded<herr_t>(__func__, -1,
                         [&]() { return copy_or_move(src, lp1, dst, lp2, lcpl, lapl, false); });
}
herr_t link_move(void* src, const H5VL_loc_params_t* lp1, void* dst, const H5VL_loc_params_t* lp2,
                 hid_t lcpl, hid_t lapl, hid_t, void**) {
  return guarded<herr_t>(__func__, -1,
                         [&]() { return copy_or_move(src, lp1, dst, lp2, lcpl, lapl, true); });
}

herr_t link_get(void* obj, const H5VL_loc_params_t* lp, H5VL_link_get_args_t* args, hid_t, void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    auto found = find_link(o, lp);
    if (!found.ok()) {
      H5VL_EDAOS_ERR_ST(found.status(), "link get");
      return -1;
    }
    const Found& fl = found.value();
    switch (args->op_type) {
      case H5VL_LINK_GET_INFO:
        fill_info(fl.rec, args->args.get_info.linfo);
        return 0;
      case H5VL_LINK_GET_NAME: {
        auto& a = args->args.get_name;
        *a.name_len = fl.name.size();
        if (a.name && a.name_size) {
          size_t n = std::min(a.name_size - 1, fl.name.size());
          memcpy(a.name, fl.name.data(), n);
          a.name[n] = '\0';
        }
        return 0;
      }
      case H5VL_LINK_GET_VAL: {
        if (fl.rec.kind != H5L_TYPE_SOFT) {
          H5VL_EDAOS_ERR("not a soft link");
          return -1;
        }
        auto& a = args->args.get_val;
        if (a.buf && a.buf_size) {
          size_t n = std::min(a.buf_size, fl.rec.soft.size() + 1);
          memcpy(a.buf, fl.rec.soft.c_str(), n);
        }
        return 0;
      }
    }
    return -1;
  });
}

herr_t link_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_link_specific_args_t* args, hid_t,
                     void**) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    auto* o = static_cast<Obj*>(obj);
    File* f = o->file;
    switch (args->op_type) {
      case H5VL_LINK_DELETE: {
        if (!f->writable()) {
          H5VL_EDAOS_ERR("file is read-only");
          return -1;
        }
        Status st = collective(
            f,
            [&]() -> Result<std::string> {
              EDAOS_ASSIGN_OR_RETURN(Found fl, find_link(o, lp));
              EDAOS_RETURN_IF_ERROR(remove_link(f, fl.group, fl.name, fl.rec));
              return std::string();
            },
            nullptr);
        if (!st.ok()) {
          H5VL_EDAOS_ERR_ST(st, "cannot delete link");
          return -1;
        }
        return 0;
      }
      case H5VL_LINK_EXISTS: {
        if (Status c = check_loc(lp); !c.ok()) {
          H5VL_EDAOS_ERR_ST(c, "link exists");
          return -1;
        }
        std::string path = lp->loc_data.loc_by_name.name;
        std::string parent, name;
        split_path(path, &parent, &name);
        auto p = resolve_path(f, o->oid, parent);
        if (!p.ok()) {
          H5VL_EDAOS_ERR_ST(p.status(), "link exists: parent of '" + path + "'");
          return -1;
        }
        auto kv = open_kv(f, p.value().oid);
        if (!kv.ok()) return -1;
        auto v = kv.value()->get(std::string(1, kLinkPrefix) + name, "");
        if (!v.ok() && v.status().code() != EDAOS_NONEXIST) {
          H5VL_EDAOS_ERR_ST(v.status(), "link exists");
          return -1;
        }
        *args->args.exists.exists = v.ok();
        return 0;
      }
      case H5VL_LINK_ITER: {
        auto t = resolve_loc(o, lp);
        if (!t.ok() || t.value().kind != 'G') {
          H5VL_EDAOS_ERR_ST(t.ok() ? Status(EDAOS_NOTDIR, "not a group") : t.status(),
                            "link iterate");
          return -1;
        }
        return iterate(o, t.value().oid, args->args.iterate);
      }
    }
    return -1;
  });
}

herr_t link_optional(void*, const H5VL_loc_params_t*, H5VL_optional_args_t*, hid_t, void**) {
  H5VL_EDAOS_ERR("native-only link operation is not supported by the edaos connector");
  return -1;
}

}  // namespace edaos::h5vol

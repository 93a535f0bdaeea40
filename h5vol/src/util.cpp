// Shared helpers: record encodings, metadata KV access, the rank-0-performs collective, and
// path resolution over link records.
#include <algorithm>
#include <set>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {

Obj::~Obj() = default;

// ---- small encodings -----------------------------------------------------------------------
std::string u64_bytes(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}
uint64_t u64_from(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}
std::string oid_bytes(const ObjectId& o) { return u64_bytes(o.hi) + u64_bytes(o.lo); }
ObjectId oid_from_bytes(const std::string& s) {
  ObjectId o;
  if (s.size() >= 16) {
    o.hi = u64_from(s.substr(0, 8));
    o.lo = u64_from(s.substr(8, 8));
  }
  return o;
}

namespace {
void put_str(std::string* out, const std::string& s) {
  *out += u64_bytes(s.size());
  *out += s;
}
bool get_str(const std::string& in, size_t* pos, std::string* s) {
  if (*pos + 8 > in.size()) return false;
  uint64_t n = u64_from(in.substr(*pos, 8));
  *pos += 8;
  if (n > in.size() - *pos) return false;
  *s = in.substr(*pos, n);
  *pos += n;
  return true;
}
}  // namespace

// Link record: kind byte, creation order (8), then the target OID (16) or the soft path.
std::string LinkRec::encode() const {
  std::string s(1, static_cast<char>(kind == H5L_TYPE_SOFT ? 1 : 0));
  s += u64_bytes(corder);
  s += kind == H5L_TYPE_SOFT ? soft : oid_bytes(target);
  return s;
}
Result<LinkRec> LinkRec::decode(const std::string& s) {
  if (s.size() < 9) return Status(EDAOS_FORMAT, "short link record");
  LinkRec r;
  r.kind = s[0] == 1 ? H5L_TYPE_SOFT : H5L_TYPE_HARD;
  r.corder = u64_from(s.substr(1, 8));
  if (r.kind == H5L_TYPE_SOFT) {
    r.soft = s.substr(9);
  } else {
    if (s.size() < 25) return Status(EDAOS_FORMAT, "short hard link record");
    r.target = oid_from_bytes(s.substr(9, 16));
  }
  return r;
}

// Attribute record: creation order (8), then length-prefixed type, space and data.
std::string AttrRec::encode() const {
  std::string s = u64_bytes(corder);
  put_str(&s, dtype);
  put_str(&s, space);
  put_str(&s, data);
  if (has_tref) s += oid_bytes(tref);
  return s;
}
Result<AttrRec> AttrRec::decode(const std::string& s) {
  AttrRec r;
  size_t pos = 8;
  if (s.size() < 8) return Status(EDAOS_FORMAT, "short attribute record");
  r.corder = u64_from(s.substr(0, 8));
  if (!get_str(s, &pos, &r.dtype) || !get_str(s, &pos, &r.space) || !get_str(s, &pos, &r.data))
    return Status(EDAOS_FORMAT, "corrupt attribute record");
  if (s.size() - pos == 16) {
    r.has_tref = true;
    r.tref = oid_from_bytes(s.substr(pos, 16));
  }
  return r;
}

std::string encode_type(hid_t t) {
  size_t n = 0;
  if (H5Tencode(t, nullptr, &n) < 0) return {};
  std::string s(n, '\0');
  if (H5Tencode(t, s.data(), &n) < 0) return {};
  return s;
}
std::string encode_space(hid_t sp) {
  size_t n = 0;
  if (H5Sencode2(sp, nullptr, &n, H5P_DEFAULT) < 0) return {};
  std::string s(n, '\0');
  if (H5Sencode2(sp, s.data(), &n, H5P_DEFAULT) < 0) return {};
  return s;
}
std::string encode_plist(hid_t p) {
  size_t n = 0;
  if (H5Pencode2(p, nullptr, &n, H5P_DEFAULT) < 0) return {};
  std::string s(n, '\0');
  if (H5Pencode2(p, s.data(), &n, H5P_DEFAULT) < 0) return {};
  return s;
}
hid_t decode_type(const std::string& s) {
  return s.empty() ? H5I_INVALID_HID : H5Tdecode(s.data());
}
hid_t decode_space(const std::string& s) {
  return s.empty() ? H5I_INVALID_HID : H5Sdecode(s.data());
}
hid_t decode_plist(const std::string& s) {
  return s.empty() ? H5I_INVALID_HID : H5Pdecode(s.data());
}

// ---- object KVs ----------------------------------------------------------------------------
Result<std::unique_ptr<objstore::KV>> open_kv(File* f, const ObjectId& oid) {
  return f->cont->open_kv(oid);
}

Result<char> object_kind(File* f, const ObjectId& oid) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
  auto t = kv->get(kMeta, akey::kType);
  if (!t.ok()) {
    if (t.status().code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no such object");
    return t.status();
  }
  if (t.value().size() != 1) return Status(EDAOS_FORMAT, "bad object type record");
  return t.value()[0];
}

H5I_type_t kind_to_itype(char k) {
  switch (k) {
    case 'G':
      return H5I_GROUP;
    case 'D':
      return H5I_DATASET;
    case 'T':
      return H5I_DATATYPE;
    default:
      return H5I_BADID;
  }
}
H5O_type_t kind_to_otype(char k) {
  switch (k) {
    case 'G':
      return H5O_TYPE_GROUP;
    case 'D':
      return H5O_TYPE_DATASET;
    case 'T':
      return H5O_TYPE_NAMED_DATATYPE;
    default:
      return H5O_TYPE_UNKNOWN;
  }
}

Status collective(File* f, const Status& local, const std::function<Result<std::string>()>& fn,
                  std::string* out) {
  if (f->size == 1) {
    EDAOS_RETURN_IF_ERROR(local);
    auto r = fn();
    if (!r.ok()) return r.status();
    if (out) *out = std::move(r.value());
    return Status::OK();
  }
  // Every rank arrives before rank 0 changes anything: reads a rank issued before this call
  // never see its effect, reads issued after it on any rank do (the order of HDF5's
  // collective metadata operations). The reduction also agrees on the local checks.
  int worst = 0, mine = local.ok() ? 0 : static_cast<int>(local.code());
  objstore::coll::allreduce(&mine, &worst, 1, MPI_INT, MPI_MIN, f->comm);
  if (worst != 0) {
    if (!local.ok()) return local;
    return Status(EDAOS_REMOTE, "the operation's arguments were refused on another rank");
  }
  // Header: code, message length, payload length; then message and payload.
  int64_t hdr[3] = {0, 0, 0};
  std::string msg, payload;
  if (f->rank == 0) {
    auto r = fn();
    if (r.ok()) {
      payload = std::move(r.value());
    } else {
      hdr[0] = r.status().code();
      msg = r.status().message();
    }
    hdr[1] = static_cast<int64_t>(msg.size());
    hdr[2] = static_cast<int64_t>(payload.size());
  }
  objstore::coll::bcast(hdr, 3, MPI_INT64_T, 0, f->comm);
  std::string body = msg + payload;
  body.resize(static_cast<size_t>(hdr[1] + hdr[2]));
  if (!body.empty())
    objstore::coll::bcast(body.data(), static_cast<int>(body.size()), MPI_BYTE, 0, f->comm);
  if (hdr[0] != 0) {
    return Status(static_cast<edaos_status_t>(hdr[0]), body.substr(0, static_cast<size_t>(hdr[1])));
  }
  if (out) *out = body.substr(static_cast<size_t>(hdr[1]));
  return Status::OK();
}

Status collective(File* f, const std::function<Result<std::string>()>& fn, std::string* out) {
  return collective(f, Status::OK(), fn, out);
}

VlenAlloc vlen_alloc(hid_t dxpl) {
  VlenAlloc a;
  H5MM_free_t free_fn = nullptr;
  void* free_info = nullptr;
  if (dxpl >= 0 && dxpl != H5P_DEFAULT) {
    H5E_BEGIN_TRY {
      if (H5Pget_vlen_mem_manager(dxpl, &a.fn, &a.info, &free_fn, &free_info) < 0) a = VlenAlloc{};
    }
    H5E_END_TRY
  }
  return a;
}

// ---- argument checks -----------------------------------------------------------------------
Status check_plist(hid_t id, hid_t cls, const char* what) {
  if (id == H5P_DEFAULT) return Status::OK();
  htri_t ok = -1;
  H5E_BEGIN_TRY { ok = H5Pisa_class(id, cls); }
  H5E_END_TRY
  if (ok > 0) return Status::OK();
  return Status(EDAOS_INVAL, std::string("invalid ") + what);
}
Status check_type(hid_t id) {
  if (H5Iget_type(id) == H5I_DATATYPE) return Status::OK();
  return Status(EDAOS_INVAL, "invalid datatype");
}
Status check_space(hid_t id) {
  if (H5Iget_type(id) == H5I_DATASPACE) return Status::OK();
  return Status(EDAOS_INVAL, "invalid dataspace");
}
Status check_loc(const H5VL_loc_params_t* lp) {
  if (lp->type == H5VL_OBJECT_BY_NAME)
    return check_plist(lp->loc_data.loc_by_name.lapl_id, H5P_LINK_ACCESS,
                       "link access property list");
  if (lp->type == H5VL_OBJECT_BY_IDX)
    return check_plist(lp->loc_data.loc_by_idx.lapl_id, H5P_LINK_ACCESS,
                       "link access property list");
  return Status::OK();
}

Status first_error(std::initializer_list<Status> all) {
  for (const auto& s : all)
    if (!s.ok()) return s;
  return Status::OK();
}

// ---- links and names -----------------------------------------------------------------------
void split_path(const std::string& path, std::string* parent, std::string* name) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto pos = p.find_last_of('/');
  if (pos == std::string::npos) {
    *parent = ".";
    *name = p;
  } else {
    *parent = pos == 0 ? "/" : p.substr(0, pos);
    *name = p.substr(pos + 1);
  }
}

static std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

static Result<Target> resolve_depth(File* f, const ObjectId& start, const std::string& path,
                                    int depth) {
  if (depth > 16) return Status(EDAOS_LOOP, "too many soft links resolving " + path);
  Target cur{start, 'G'};
  if (!path.empty() && path[0] == '/') cur.oid = f->oid;
  auto comps = components(path);
  if (comps.empty()) {
    EDAOS_ASSIGN_OR_RETURN(cur.kind, object_kind(f, cur.oid));
    return cur;
  }
  for (size_t i = 0; i < comps.size(); ++i) {
    EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, cur.oid));
    auto v = kv->get(std::string(1, kLinkPrefix) + comps[i], "");
    if (!v.ok()) {
      if (v.status().code() == EDAOS_NONEXIST)
        return Status(EDAOS_NONEXIST, "no link '" + comps[i] + "' in path '" + path + "'");
      return v.status();
    }
    EDAOS_ASSIGN_OR_RETURN(LinkRec rec, LinkRec::decode(v.value()));
    if (rec.kind == H5L_TYPE_SOFT) {
      EDAOS_ASSIGN_OR_RETURN(cur, resolve_depth(f, cur.oid, rec.soft, depth + 1));
    } else {
      cur.oid = rec.target;
      EDAOS_ASSIGN_OR_RETURN(cur.kind, object_kind(f, cur.oid));
    }
    if (i + 1 < comps.size() && cur.kind != 'G')
      return Status(EDAOS_NOTDIR, "'" + comps[i] + "' in path '" + path + "' is not a group");
  }
  return cur;
}

std::string join_path(const std::string& base, const std::string& name) {
  std::string full;
  if (!name.empty() && name[0] == '/') {
    full = name;
  } else if (base.empty()) {
    return {};
  } else {
    full = base + "/" + name;
  }
  std::string out;
  for (const auto& c : components(full)) out += "/" + c;
  return out.empty() ? "/" : out;
}

std::string loc_path(const Obj* o, const H5VL_loc_params_t* lp) {
  if (lp->type == H5VL_OBJECT_BY_SELF) return o->path;
  if (lp->type == H5VL_OBJECT_BY_NAME) return join_path(o->path, lp->loc_data.loc_by_name.name);
  return {};
}

Result<Target> resolve_path(File* f, const ObjectId& start, const std::string& path) {
  return resolve_depth(f, start, path, 0);
}

Result<std::vector<std::pair<std::string, LinkRec>>> list_links(File* f, const ObjectId& group,
                                                                H5_index_t idx,
                                                                H5_iter_order_t order) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, group));
  std::vector<std::pair<std::string, LinkRec>> out;
  std::string anchor(1, kLinkPrefix);
  bool eof = false;
  size_t done = 0;
  while (!eof) {
    EDAOS_ASSIGN_OR_RETURN(auto keys, kv->list_dkeys(anchor, 256, &eof));
    for (auto& k : keys) {
      if (k.empty() || k[0] != kLinkPrefix) {
        eof = true;
        break;
      }
      out.emplace_back(k.substr(1), LinkRec{});
    }
    if (!keys.empty()) anchor = keys.back();
    EDAOS_RETURN_IF_ERROR(fetch_records(kv.get(), kLinkPrefix, &out, done));
    done = out.size();
  }
  if (idx == H5_INDEX_CRT_ORDER) {
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second.corder < b.second.corder;
    });
  }
  if (order == H5_ITER_DEC) std::reverse(out.begin(), out.end());
  return out;
}

Result<Target> resolve_loc(Obj* obj, const H5VL_loc_params_t* lp) {
  File* f = obj->file;
  EDAOS_RETURN_IF_ERROR(check_loc(lp));
  switch (lp->type) {
    case H5VL_OBJECT_BY_SELF: {
      Target t{obj->oid, 0};
      if (obj->type == H5I_ATTR) {
        EDAOS_ASSIGN_OR_RETURN(t.kind, object_kind(f, t.oid));
      } else {
        t.kind = obj->type == H5I_DATASET ? 'D' : obj->type == H5I_DATATYPE ? 'T' : 'G';
      }
      return t;
    }
    case H5VL_OBJECT_BY_NAME:
      return resolve_path(f, obj->oid, lp->loc_data.loc_by_name.name);
    case H5VL_OBJECT_BY_IDX: {
      const auto& bi = lp->loc_data.loc_by_idx;
      EDAOS_ASSIGN_OR_RETURN(Target g, resolve_path(f, obj->oid, bi.name));
      if (g.kind != 'G') return Status(EDAOS_NOTDIR, "not a group");
      EDAOS_ASSIGN_OR_RETURN(auto links, list_links(f, g.oid, bi.idx_type, bi.order));
      if (bi.n >= links.size()) return Status(EDAOS_NONEXIST, "link index out of range");
      const auto& rec = links[bi.n].second;
      if (rec.kind == H5L_TYPE_SOFT) return resolve_path(f, g.oid, rec.soft);
      Target t{rec.target, 0};
      EDAOS_ASSIGN_OR_RETURN(t.kind, object_kind(f, t.oid));
      return t;
    }
    case H5VL_OBJECT_BY_TOKEN: {
      Target t{token_to_oid(*lp->loc_data.loc_by_token.token), 0};
      EDAOS_ASSIGN_OR_RETURN(t.kind, object_kind(f, t.oid));
      return t;
    }
  }
  return Status(EDAOS_INVAL, "unknown location type");
}

Result<uint64_t> bump_counter(File* f, objstore::KV* kv, const char* ak) {
  std::lock_guard<std::mutex> lk(f->mu);
  uint64_t v = 0;
  auto cur = kv->get(kMeta, ak);
  if (cur.ok()) {
    v = u64_from(cur.value());
  } else if (cur.status().code() != EDAOS_NONEXIST) {
    return cur.status();
  }
  EDAOS_RETURN_IF_ERROR(kv->put(kMeta, ak, u64_bytes(v + 1)));
  return v;
}

bool committed_type_oid(File* f, hid_t type, ObjectId* out) {
  if (H5Tcommitted(type) <= 0) return false;
  void* o = nullptr;
  H5E_BEGIN_TRY { o = H5VLobject(type); }
  H5E_END_TRY
  auto* obj = static_cast<Obj*>(o);
  if (!obj || obj->type != H5I_DATATYPE || !obj->file || !obj->file->cont || !f->cont ||
      obj->file->cont->uuid() != f->cont->uuid())
    return false;
  *out = obj->oid;
  return true;
}

Status adjust_refs(File* f, const ObjectId& oid, int delta) {
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
  std::lock_guard<std::mutex> lk(f->mu);
  uint64_t v = 0;
  auto cur = kv->get(kMeta, akey::kRefs);
  if (cur.ok()) v = u64_from(cur.value());
  v = static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(v) + delta));
  return kv->put(kMeta, akey::kRefs, u64_bytes(v));
}

Status insert_link(File* f, const ObjectId& group, const std::string& name, LinkRec rec) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    return Status(EDAOS_INVAL, "invalid link name '" + name + "'");
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, group));
  EDAOS_ASSIGN_OR_RETURN(rec.corder, bump_counter(f, kv.get(), akey::kLinkCtr));
  Status st =
      kv->put(std::string(1, kLinkPrefix) + name, "", rec.encode(), objstore::KV::kInsertOnly);
  if (st.code() == EDAOS_EXIST) return Status(EDAOS_EXIST, "link '" + name + "' already exists");
  EDAOS_RETURN_IF_ERROR(st);
  if (rec.kind == H5L_TYPE_HARD) return adjust_refs(f, rec.target, +1);
  return Status::OK();
}

Result<ObjectId> create_object(File* f, char k,
                               const std::vector<std::pair<std::string, std::string>>& meta) {
  const auto& props = f->cont->props();
  objstore::ObjClass oc;
  if (!props.dir_oclass.empty() || !props.oclass.empty()) {
    EDAOS_ASSIGN_OR_RETURN(
        oc, objstore::ObjClass::parse(props.dir_oclass.empty() ? props.oclass : props.dir_oclass));
  } else {
    oc = objstore::default_oclass(static_cast<int>(props.rd_fac), true, f->cont->pool_map());
  }
  EDAOS_ASSIGN_OR_RETURN(ObjectId oid, f->cont->alloc_oid(oc, objstore::ObjType::kMultiLevel));
  EDAOS_ASSIGN_OR_RETURN(auto kv, open_kv(f, oid));
  // Every metadata akey with one vector call (one message per server rank, one commit).
  std::vector<objstore::KvOp> ops(1 + meta.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].kind = objstore::KvOp::kPut;
    ops[i].dkey = kMeta;
    ops[i].akey = i == 0 ? std::string(akey::kType) : meta[i - 1].first;
    ops[i].value = i == 0 ? std::string(1, k) : meta[i - 1].second;
  }
  EDAOS_RETURN_IF_ERROR(kv->run(&ops));
  return oid;
}

bool intermediate_groups(hid_t lcpl) {
  unsigned v = 0;
  if (lcpl <= 0 || lcpl == H5P_DEFAULT) return false;
  if (H5Pget_create_intermediate_group(lcpl, &v) < 0) return false;
  return v != 0;
}

Result<std::pair<ObjectId, std::string>> parent_for_create(File* f, const ObjectId& start,
                                                           const std::string& path,
                                                           bool intermediate) {
  std::string parent, name;
  split_path(path, &parent, &name);
  if (name.empty() || name == "." || name == "/")
    return Status(EDAOS_INVAL, "invalid object name '" + path + "'");
  if (!intermediate) {
    EDAOS_ASSIGN_OR_RETURN(Target t, resolve_path(f, start, parent));
    if (t.kind != 'G') return Status(EDAOS_NOTDIR, "'" + parent + "' is not a group");
    return std::make_pair(t.oid, name);
  }
  ObjectId cur = (!parent.empty() && parent[0] == '/') ? f->oid : start;
  for (const auto& c : components(parent)) {
    auto t = resolve_path(f, cur, c);
    if (t.ok()) {
      if (t.value().kind != 'G') return Status(EDAOS_NOTDIR, "'" + c + "' is not a group");
      cur = t.value().oid;
      continue;
    }
    if (t.status().code() != EDAOS_NONEXIST) return t.status();
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    std::string cpl = encode_plist(gcpl);
    H5Pclose(gcpl);
    EDAOS_ASSIGN_OR_RETURN(ObjectId g, create_object(f, 'G', {{akey::kCpl, cpl}}));
    LinkRec rec;
    rec.target = g;
    EDAOS_RETURN_IF_ERROR(insert_link(f, cur, c, rec));
    cur = g;
  }
  return std::make_pair(cur, name);
}

Result<NewLink> new_link_place(File* f, const ObjectId& start, const char* name, hid_t lcpl) {
  NewLink place;
  if (!name) return place;
  EDAOS_ASSIGN_OR_RETURN(auto pn, parent_for_create(f, start, name, intermediate_groups(lcpl)));
  place.named = true;
  place.parent = pn.first;
  place.last = pn.second;
  auto kv = open_kv(f, place.parent);
  if (kv.ok() && kv.value()->get(std::string(1, kLinkPrefix) + place.last, "").ok())
    return Status(EDAOS_EXIST, std::string("link '") + name + "' already exists");
  return place;
}

Status link_new_object(File* f, const NewLink& place, const ObjectId& target) {
  if (!place.named) return Status::OK();
  LinkRec rec;
  rec.target = target;
  return insert_link(f, place.parent, place.last, rec);
}

}  // namespace edaos::h5vol

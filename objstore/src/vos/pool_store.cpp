// Pool directory (POOL header + pool map) and the pool service's LMDB metadata.
#include "vos/pool_store.hpp"

#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "vos/engine.hpp"
#include "vos/vos_internal.hpp"

namespace edaos::objstore::vos {

using detail::LmdbEnv;

namespace {

constexpr const char* kPoolMagic = "EDAOS-POOL";
// psvc named databases, in LmdbEnv::dbi() order.
enum PsvcDb : size_t { kDbMeta = 0, kDbCont, kDbLabel, kDbOid, kDbAttr };
constexpr uint32_t kPsvcFormatVersion = 1;
constexpr size_t kMaxAttrName = 400;

std::string ukey(const Uuid& u) { return std::string(reinterpret_cast<const char*>(u.b), 16); }
Uuid uuid_from(std::string_view k) {
  Uuid u;
  std::memcpy(u.b, k.data(), 16);
  return u;
}

Status check_label(const std::string& label, const char* what) {
  if (label.size() > kMaxLabelLen)
    return Status(EDAOS_INVAL, std::string(what) + " label '" + label + "' is longer than " +
                                   std::to_string(kMaxLabelLen) + " bytes");
  for (char c : label)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Status(EDAOS_INVAL, std::string(what) + " label contains a control character");
  return Status::OK();
}

// Container record value: u32 LE label length, label bytes, opaque record.
std::string encode_cont(const std::string& label, const std::string& record) {
  std::string v;
  uint32_t n = static_cast<uint32_t>(label.size());
  for (int i = 0; i < 4; ++i) v.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  v += label;
  v += record;
  return v;
}
bool decode_cont(std::string_view v, std::string* label, std::string* record) {
  if (v.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(v[static_cast<size_t>(i)]);
  if (v.size() < 4 + size_t{n}) return false;
  if (label) label->assign(v.substr(4, n));
  if (record) record->assign(v.substr(4 + n));
  return true;
}

std::string encode_header(const PoolHeader& h, const std::string& blob) {
  char line[256];
  std::string s;
  std::snprintf(line, sizeof line, "%s %u\n", kPoolMagic, kPoolFormatVersion);
  s += line;
  s += "uuid " + h.uuid.to_string() + "\n";
  s += "label " + h.label + "\n";
  std::snprintf(line, sizeof line,
                "nengines %u\nntargets %u\nquota_bytes %" PRIu64 "\nctime %" PRIu64
                "\npool_map_bytes %zu\n",
                h.nengines, h.ntargets, h.quota_bytes, h.ctime, blob.size());
  s += line;
  uint64_t sum = detail::fnv1a64(s.data(), s.size());
  sum = detail::fnv1a64(blob.data(), blob.size(), sum);
  std::snprintf(line, sizeof line, "fnv64 %016" PRIx64 "\nend\n", sum);
  s += line;
  s += blob;
  return s;
}

Status bad(const std::string& path, const std::string& why) {
  return Status(EDAOS_FORMAT, path + ": " + why);
}

bool parse_u64(const std::string& s, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long x = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-') return false;
  *v = x;
  return true;
}

}  // namespace

std::string engine_dir_name(uint32_t idx) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "engine-%04u", idx);
  return buf;
}

// ---------------------------------------------------------------- POOL file

Result<PoolHeader> PoolStore::read_header(const std::string& dir, std::string* pool_map_blob) {
  std::string path = dir + "/POOL", data;
  Status st = detail::read_file(path, &data);
  if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no pool at " + dir);
  EDAOS_RETURN_IF_ERROR(st);

  PoolHeader h;
  size_t pos = 0;
  auto next_line = [&](std::string* out) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) return false;
    out->assign(data, pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string line;
  if (!next_line(&line) ||
      line.compare(0, std::strlen(kPoolMagic) + 1, std::string(kPoolMagic) + " ") != 0)
    return bad(path, "not an edaos pool header (bad magic)");
  uint64_t ver = 0;
  if (!parse_u64(line.substr(std::strlen(kPoolMagic) + 1), &ver))
    return bad(path, "unreadable format version");
  if (ver != kPoolFormatVersion)
    return bad(path, "pool format version " + std::to_string(ver) + " is not supported (this " +
                         "build reads version " + std::to_string(kPoolFormatVersion) + ")");
  h.format_version = static_cast<uint32_t>(ver);

  uint64_t map_bytes = 0, sum = 0;
  bool have[8] = {};
  size_t sum_end = 0;
  for (;;) {
    size_t line_start = pos;
    if (!next_line(&line)) return bad(path, "truncated header");
    if (line == "end") break;
    size_t sp = line.find(' ');
    if (sp == std::string::npos) return bad(path, "malformed line '" + line + "'");
    std::string key = line.substr(0, sp), val = line.substr(sp + 1);
    uint64_t v = 0;
    if (key == "uuid") {
      auto u = Uuid::parse(val);
      if (!u.ok()) return bad(path, "bad uuid '" + val + "'");
      h.uuid = u.value();
      have[0] = true;
    } else if (key == "label") {
      h.label = val;
      have[1] = true;
    } else if (key == "fnv64") {
      char* end = nullptr;
      sum = std::strtoull(val.c_str(), &end, 16);
      if (val.size() != 16 || *end != '\0') return bad(path, "bad fnv64 line");
      sum_end = line_start;
      have[7] = true;
    } else if (parse_u64(val, &v)) {
      if (key == "nengines" && v <= UINT32_MAX) {
        h.nengines = static_cast<uint32_t>(v), have[2] = true;
      } else if (key == "ntargets" && v <= UINT32_MAX) {
        h.ntargets = static_cast<uint32_t>(v), have[3] = true;
      } else if (key == "quota_bytes") {
        h.quota_bytes = v, have[4] = true;
      } else if (key == "ctime") {
        h.ctime = v, have[5] = true;
      } else if (key == "pool_map_bytes") {
        map_bytes = v, have[6] = true;
      }
      // Unknown numeric keys are ignored: a minor addition needs no version bump.
    }
  }
  for (bool b : have)
    if (!b) return bad(path, "header misses a required field");
  if (data.size() - pos != map_bytes)
    return bad(path, "pool map is " + std::to_string(data.size() - pos) + " bytes, header says " +
                         std::to_string(map_bytes));
  uint64_t got = detail::fnv1a64(data.data(), sum_end);
  got = detail::fnv1a64(data.data() + pos, data.size() - pos, got);
  if (got != sum) return bad(path, "integrity check failed (file damaged)");
  if (pool_map_blob) pool_map_blob->assign(data, pos, std::string::npos);
  return h;
}

Status PoolStore::write_pool_map(const std::string& dir, const std::string& blob) {
  EDAOS_ASSIGN_OR_RETURN(PoolHeader h, read_header(dir, nullptr));
  return detail::write_file_atomic(dir + "/POOL", encode_header(h, blob));
}

Status PoolStore::create(const std::string& dir, const PoolHeader& hdr,
                         const std::string& pool_map_blob) {
  EDAOS_RETURN_IF_ERROR(check_label(hdr.label, "pool"));
  if (hdr.nengines == 0 || hdr.ntargets == 0)
    return Status(EDAOS_INVAL, "a pool needs at least one engine and one target per engine");
  struct stat st;
  if (::stat((dir + "/POOL").c_str(), &st) == 0)
    return Status(EDAOS_EXIST, "a pool already exists at " + dir);
  EDAOS_RETURN_IF_ERROR(detail::mkdir_p(dir));
  EDAOS_RETURN_IF_ERROR(detail::mkdir_p(dir + "/psvc"));
  {
    // Create the psvc databases now so open() never has to guess whether a pool is complete.
    EDAOS_ASSIGN_OR_RETURN(
        auto db, LmdbEnv::open(dir + "/psvc", 0, {"meta", "cont", "cont_label", "oid", "attr"}));
    EDAOS_VOS_TRY(db->write([&](MDB_txn* t) {
      return db->put(t, db->dbi(kDbMeta), "format", std::to_string(kPsvcFormatVersion));
    }));
  }
  for (uint32_t e = 0; e < hdr.nengines; ++e) {
    Engine::Options o;
    o.dir = dir + "/" + engine_dir_name(e);
    o.ntargets = hdr.ntargets;
    o.quota_bytes = hdr.quota_bytes;
    o.create = true;
    EDAOS_ASSIGN_OR_RETURN(auto eng, Engine::open(o));
    EDAOS_RETURN_IF_ERROR(eng->sync());
  }
  EDAOS_RETURN_IF_ERROR(detail::fsync_path(dir + "/psvc"));
  EDAOS_RETURN_IF_ERROR(detail::fsync_path(dir));
  EDAOS_RETURN_IF_ERROR(
      detail::write_file_atomic(dir + "/POOL", encode_header(hdr, pool_map_blob)));
  return detail::fsync_path(detail::parent_dir(dir));
}

// ---------------------------------------------------------------- psvc

Result<std::unique_ptr<PoolStore>> PoolStore::open(const std::string& dir) {
  EDAOS_ASSIGN_OR_RETURN(PoolHeader h, read_header(dir, nullptr));
  (void)h;
  std::unique_ptr<PoolStore> ps(new PoolStore());
  ps->dir_ = dir;
  EDAOS_ASSIGN_OR_RETURN(ps->lock_, detail::DirLock::acquire(dir + "/psvc/LOCK"));
  EDAOS_ASSIGN_OR_RETURN(
      ps->db_, LmdbEnv::open(dir + "/psvc", 0, {"meta", "cont", "cont_label", "oid", "attr"}));
  LmdbEnv* db = ps->db_.get();
  EDAOS_VOS_TRY(db->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db->get(t, db->dbi(kDbMeta), "format", &v);
    if (st.code() == EDAOS_NONEXIST) return bad(dir + "/psvc", "no format stamp");
    EDAOS_RETURN_IF_ERROR(st);
    if (v != std::to_string(kPsvcFormatVersion))
      return bad(dir + "/psvc", "pool service format '" + std::string(v) + "' is not supported");
    return Status::OK();
  }));
  return ps;
}

PoolStore::~PoolStore() = default;

Status PoolStore::cont_exists_locked(void* txn, const Uuid& uuid) {
  std::string_view v;
  Status st = db_->get(static_cast<MDB_txn*>(txn), db_->dbi(kDbCont), ukey(uuid), &v);
  if (st.code() == EDAOS_NONEXIST)
    return Status(EDAOS_NONEXIST, "container " + uuid.to_string() + " does not exist");
  return st;
}

Status PoolStore::cont_create(const Uuid& uuid, const std::string& label,
                              const std::string& record) {
  if (uuid.is_nil()) return Status(EDAOS_INVAL, "container uuid is nil");
  EDAOS_RETURN_IF_ERROR(check_label(label, "container"));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v);
    if (st.ok()) return Status(EDAOS_EXIST, "container " + uuid.to_string() + " already exists");
    if (st.code() != EDAOS_NONEXIST) return st;
    if (!label.empty()) {
      st = db_->get(t, db_->dbi(kDbLabel), label, &v);
      if (st.ok())
        return Status(EDAOS_EXIST, "container label '" + label + "' is already used by " +
                                       uuid_from(v).to_string());
      if (st.code() != EDAOS_NONEXIST) return st;
      EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbLabel), label, ukey(uuid)));
    }
    return db_->put(t, db_->dbi(kDbCont), ukey(uuid), encode_cont(label, record));
  });
}

Result<std::string> PoolStore::cont_get(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  std::string record;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    if (!decode_cont(v, nullptr, &record))
      return bad(dir_ + "/psvc", "corrupt record of container " + uuid.to_string());
    return Status::OK();
  }));
  return record;
}

Result<Uuid> PoolStore::cont_lookup_label(const std::string& label) {
  if (label.empty()) return Status(EDAOS_INVAL, "empty container label");
  std::lock_guard<std::mutex> g(mu_);
  Uuid u;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbLabel), label, &v);
    if (st.code() == EDAOS_NONEXIST)
      return Status(EDAOS_NONEXIST, "no container labelled '" + label + "'");
    EDAOS_RETURN_IF_ERROR(st);
    if (v.size() != 16) return bad(dir_ + "/psvc", "corrupt label index for '" + label + "'");
    u = uuid_from(v);
    return Status::OK();
  }));
  return u;
}

Status PoolStore::cont_update(const Uuid& uuid, const std::string& new_label,
                              const std::string& record) {
  EDAOS_RETURN_IF_ERROR(check_label(new_label, "container"));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    std::string old_label;
    if (!decode_cont(v, &old_label, nullptr))
      return bad(dir_ + "/psvc", "corrupt record of container " + uuid.to_string());
    if (new_label != old_label) {
      if (!new_label.empty()) {
        Status st = db_->get(t, db_->dbi(kDbLabel), new_label, &v);
        if (st.ok())
          return Status(EDAOS_EXIST, "container label '" + new_label + "' is already used by " +
                                         uuid_from(v).to_string());
        if (st.code() != EDAOS_NONEXIST) return st;
        EDAOS_RETURN_IF_ERROR(db_->put(t, db_->dbi(kDbLabel), new_label, ukey(uuid)));
      }
      if (!old_label.empty()) {
        Status st = db_->del(t, db_->dbi(kDbLabel), old_label);
        if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
      }
    }
    return db_->put(t, db_->dbi(kDbCont), ukey(uuid), encode_cont(new_label, record));
  });
}

Status PoolStore::cont_destroy(const Uuid& uuid) {
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    std::string_view v;
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, uuid));
    EDAOS_RETURN_IF_ERROR(db_->get(t, db_->dbi(kDbCont), ukey(uuid), &v));
    std::string label;
    if (decode_cont(v, &label, nullptr) && !label.empty()) {
      Status st = db_->del(t, db_->dbi(kDbLabel), label);
      if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    }
    EDAOS_RETURN_IF_ERROR(db_->del(t, db_->dbi(kDbCont), ukey(uuid)));
    Status st = db_->del(t, db_->dbi(kDbOid), ukey(uuid));
    if (!st.ok() && st.code() != EDAOS_NONEXIST) return st;
    return db_->del_prefix(t, db_->dbi(kDbAttr), ukey(uuid));
  });
}

Result<std::vector<std::pair<Uuid, std::string>>> PoolStore::cont_list() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::pair<Uuid, std::string>> out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    bool corrupt = false;
    EDAOS_RETURN_IF_ERROR(
        db_->scan(t, db_->dbi(kDbCont), {}, {}, [&](std::string_view k, std::string_view v) {
          std::string label;
          if (k.size() != 16 || !decode_cont(v, &label, nullptr)) {
            corrupt = true;
            return false;
          }
          out.emplace_back(uuid_from(k), label);
          return true;
        }));
    if (corrupt) return bad(dir_ + "/psvc", "corrupt container table");
    return Status::OK();
  }));
  return out;
}

Result<uint64_t> PoolStore::alloc_oids(const Uuid& cont, uint64_t count) {
  if (count == 0) return Status(EDAOS_INVAL, "alloc_oids: count is 0");
  std::lock_guard<std::mutex> g(mu_);
  uint64_t first = 0;
  EDAOS_VOS_TRY(db_->write([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string_view v;
    first = kFirstOidSeq;
    Status st = db_->get(t, db_->dbi(kDbOid), ukey(cont), &v);
    if (st.ok()) {
      if (v.size() != 8) return bad(dir_ + "/psvc", "corrupt OID counter");
      first = detail::get_le64(v.data());
    } else if (st.code() != EDAOS_NONEXIST) {
      return st;
    }
    if (UINT64_MAX - first < count)
      return Status(EDAOS_NOSPACE,
                    "object ID space of container " + cont.to_string() + " is exhausted");
    std::string nv;
    detail::put_le64(&nv, first + count);
    return db_->put(t, db_->dbi(kDbOid), ukey(cont), nv);
  }));
  return first;
}

namespace {
Status check_attr_name(const std::string& name) {
  if (name.empty()) return Status(EDAOS_INVAL, "empty attribute name");
  if (name.size() > kMaxAttrName)
    return Status(EDAOS_NAMETOOLONG,
                  "attribute name is longer than " + std::to_string(kMaxAttrName) + " bytes");
  return Status::OK();
}
}  // namespace

Status PoolStore::attr_set(const Uuid& cont, const std::string& name, const std::string& value) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    return db_->put(t, db_->dbi(kDbAttr), ukey(cont) + name, value);
  });
}

Result<std::string> PoolStore::attr_get(const Uuid& cont, const std::string& name) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  std::string out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string_view v;
    Status st = db_->get(t, db_->dbi(kDbAttr), ukey(cont) + name, &v);
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
    EDAOS_RETURN_IF_ERROR(st);
    out.assign(v);
    return Status::OK();
  }));
  return out;
}

Status PoolStore::attr_del(const Uuid& cont, const std::string& name) {
  EDAOS_RETURN_IF_ERROR(check_attr_name(name));
  std::lock_guard<std::mutex> g(mu_);
  return db_->write([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    Status st = db_->del(t, db_->dbi(kDbAttr), ukey(cont) + name);
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, "no attribute '" + name + "'");
    return st;
  });
}

Result<std::vector<std::string>> PoolStore::attr_list(const Uuid& cont) {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::string> out;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (!cont.is_nil()) EDAOS_RETURN_IF_ERROR(cont_exists_locked(t, cont));
    std::string prefix = ukey(cont);
    return db_->scan(t, db_->dbi(kDbAttr), prefix, {}, [&](std::string_view k, std::string_view) {
      out.emplace_back(k.substr(16));
      return true;
    });
  }));
  return out;
}

Status PoolStore::sync() {
  std::lock_guard<std::mutex> g(mu_);
  return db_->sync();
}

}  // namespace edaos::objstore::vos

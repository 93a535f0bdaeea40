#include "edaos/objstore/props.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "common/codec.hpp"
#include "common/text.hpp"
#include "edaos/objstore/oclass.hpp"

namespace edaos::objstore {

namespace {

// The base layer's text helpers (common/text.hpp); trim as an owning string, as the messages
// and the property values below keep it.
using text::lower;
std::string trim(std::string_view s) { return std::string(text::trim(s)); }

Status bad_value(const std::string& key, const std::string& value, const std::string& why) {
  return Status(EDAOS_INVAL, "property " + key + ": invalid value '" + value + "' (" + why + ")");
}

bool label_is_valid(const std::string& l) {
  if (l.empty() || l.size() > 127) return false;
  for (char c : l)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-')
      return false;
  return !Uuid::parse(l).ok();  // a UUID-shaped label would be ambiguous with the UUID
}

constexpr const char* kSettable =
    "label, cksum, cksum_size, srv_cksum, rd_fac, rd_lvl, ec_cell_sz, status, dedup, "
    "dedup_threshold, compression, encryption, chunk_size, oclass, file_oclass, dir_oclass";
constexpr const char* kReadOnly[] = {"owner",          "group",     "acl",         "layout_type",
                                     "layout_version", "alloc_oid", "max_snapshot"};

// Canonical key for a user-supplied one (deprecated DAOS aliases map to the current name).
std::string canonical_key(const std::string& k) {
  std::string l = lower(trim(k));
  if (l == "rf") return "rd_fac";
  if (l == "rf_lvl") return "rd_lvl";
  return l;
}

Status check_oclass(const std::string& key, const std::string& value, std::string* out) {
  if (value.empty()) {
    out->clear();
    return Status::OK();
  }
  auto oc = ObjClass::parse(value);
  if (!oc.ok()) return Status(EDAOS_INVAL, "property " + key + ": " + oc.status().message());
  *out = oc->name();
  return Status::OK();
}

// Combination rules that single values cannot express.
Status cross_check(const ContainerProps& p) {
  if (p.srv_cksum && p.cksum == CsumType::kOff)
    return Status(EDAOS_INVAL,
                  "property srv_cksum: 'on' needs a checksum (cksum is off; set cksum:crc32 or "
                  "another type)");
  const std::pair<const char*, const std::string*> classes[] = {
      {"oclass", &p.oclass}, {"file_oclass", &p.file_oclass}, {"dir_oclass", &p.dir_oclass}};
  for (const auto& [key, val] : classes) {
    if (val->empty()) continue;
    auto oc = ObjClass::parse(*val);
    if (!oc.ok())
      return Status(EDAOS_INVAL, std::string("property ") + key + ": " + oc.status().message());
    if (Status st = validate_for_rd_fac(*oc, static_cast<int>(p.rd_fac)); !st.ok())
      return Status(EDAOS_INVAL, std::string("property ") + key + ": " + st.message());
  }
  return Status::OK();
}

Status set_one(ContainerProps* p, const std::string& key_in, const std::string& value_in) {
  const std::string key = canonical_key(key_in);
  const std::string value = trim(value_in);
  const std::string lv = lower(value);
  auto size_value = [&](uint64_t* out) -> Status {
    auto r = parse_size(value);
    if (!r.ok()) return bad_value(key, value, r.status().message());
    *out = *r;
    return Status::OK();
  };
  auto off_only = [&](std::initializer_list<const char*> daos_values) -> Status {
    if (lv == "off") return Status::OK();
    for (const char* d : daos_values)
      if (lv == d) return bad_value(key, value, "edaos implements only 'off'");
    return bad_value(key, value, "expected off");
  };

  if (key == "label") {
    if (!label_is_valid(value))
      return bad_value(key, value, "1-127 characters of A-Z a-z 0-9 . _ : -, not a UUID");
    p->label = value;
  } else if (key == "cksum") {
    auto t = parse_csum_type(value);
    if (!t.ok()) {
      for (const char* d : {"crc16", "sha1", "sha256", "sha512", "adler32"})
        if (lv == d)
          return bad_value(key, value,
                           "a DAOS checksum edaos does not implement; use off, crc32, "
                           "crc32c or crc64");
      return bad_value(key, value, "expected off, crc32, crc32c or crc64");
    }
    p->cksum = *t;
  } else if (key == "cksum_size") {
    uint64_t v;
    EDAOS_RETURN_IF_ERROR(size_value(&v));
    if (v == 0 || v >= (uint64_t{1} << 32)) return bad_value(key, value, "must be > 0 and < 4 GiB");
    p->cksum_size = static_cast<uint32_t>(v);
  } else if (key == "srv_cksum") {
    if (lv != "on" && lv != "off") return bad_value(key, value, "expected on or off");
    p->srv_cksum = lv == "on";
  } else if (key == "rd_fac") {
    if (value.size() != 1 || value[0] < '0' || value[0] > '4')
      return bad_value(key, value, "expected 0, 1, 2, 3 or 4");
    p->rd_fac = static_cast<uint32_t>(value[0] - '0');
  } else if (key == "rd_lvl") {
    if (lv == "rank" || lv == "1")
      p->rd_lvl = RedunLevel::kRank;
    else if (lv == "node" || lv == "2")
      p->rd_lvl = RedunLevel::kNode;
    else
      return bad_value(key, value, "expected rank, node, 1 or 2");
  } else if (key == "ec_cell_sz") {
    uint64_t v;
    EDAOS_RETURN_IF_ERROR(size_value(&v));
    if (v < (4u << 10) || v > (1u << 20) || v % 32 != 0)
      return bad_value(key, value, "must be 4 KiB..1 MiB and a multiple of 32");
    p->ec_cell_sz = static_cast<uint32_t>(v);
  } else if (key == "status") {
    if (lv != "healthy") return bad_value(key, value, "only 'healthy' can be set");
    p->status = ContStatus::kHealthy;
  } else if (key == "dedup") {
    EDAOS_RETURN_IF_ERROR(off_only({"memcmp", "hash"}));
  } else if (key == "compression") {
    EDAOS_RETURN_IF_ERROR(
        off_only({"lz4", "deflate", "deflate1", "deflate2", "deflate3", "deflate4"}));
  } else if (key == "encryption") {
    EDAOS_RETURN_IF_ERROR(off_only({"aes-xts128", "aes-xts256", "aes-cbc128", "aes-cbc192",
                                    "aes-cbc256", "aes-gcm128", "aes-gcm256"}));
  } else if (key == "dedup_threshold") {
    uint64_t v;
    EDAOS_RETURN_IF_ERROR(size_value(&v));
    if (v == 0) return bad_value(key, value, "must be > 0");
    p->dedup_threshold = v;
  } else if (key == "chunk_size") {
    uint64_t v;
    EDAOS_RETURN_IF_ERROR(size_value(&v));
    if (v == 0) return bad_value(key, value, "must be > 0");
    p->chunk_size = v;
  } else if (key == "oclass") {
    EDAOS_RETURN_IF_ERROR(check_oclass(key, value, &p->oclass));
  } else if (key == "file_oclass") {
    EDAOS_RETURN_IF_ERROR(check_oclass(key, value, &p->file_oclass));
  } else if (key == "dir_oclass") {
    EDAOS_RETURN_IF_ERROR(check_oclass(key, value, &p->dir_oclass));
  } else {
    for (const char* ro : kReadOnly)
      if (key == ro)
        return Status(EDAOS_INVAL, "property " + key + " is read-only (value '" + value + "')");
    return Status(EDAOS_INVAL, "unknown property '" + key_in + "' (value '" + value +
                                   "'; settable: " + kSettable + ")");
  }
  return Status::OK();
}

}  // namespace

const char* cont_type_name(ContType t) {
  switch (t) {
    case ContType::kUnknown:
      return "unknown";
    case ContType::kPosix:
      return "POSIX";
    case ContType::kHdf5:
      return "HDF5";
  }
  return "invalid";
}

Result<ContType> parse_cont_type(const std::string& s) {
  const std::string l = lower(s);
  for (ContType t : {ContType::kUnknown, ContType::kPosix, ContType::kHdf5})
    if (l == lower(cont_type_name(t))) return t;
  return Status(EDAOS_INVAL, "bad container type '" + s + "' (expected POSIX, HDF5 or unknown)");
}

bool operator==(const ContainerProps& a, const ContainerProps& b) {
  return a.label == b.label && a.type == b.type && a.chunk_size == b.chunk_size &&
         a.ec_cell_sz == b.ec_cell_sz && a.rd_fac == b.rd_fac && a.rd_lvl == b.rd_lvl &&
         a.cksum == b.cksum && a.cksum_size == b.cksum_size && a.srv_cksum == b.srv_cksum &&
         a.oclass == b.oclass && a.file_oclass == b.file_oclass && a.dir_oclass == b.dir_oclass &&
         a.owner == b.owner && a.group == b.group && a.acl == b.acl && a.status == b.status &&
         a.layout_version == b.layout_version && a.alloc_oid == b.alloc_oid &&
         a.dedup_threshold == b.dedup_threshold && a.max_snapshot == b.max_snapshot;
}

Status set_property(ContainerProps* p, const std::string& key, const std::string& value) {
  ContainerProps next = *p;
  EDAOS_RETURN_IF_ERROR(set_one(&next, key, value));
  EDAOS_RETURN_IF_ERROR(cross_check(next));
  *p = std::move(next);
  return Status::OK();
}

Status apply_properties(ContainerProps* p, const std::string& spec) {
  ContainerProps next = *p;
  if (trim(spec).empty()) return Status::OK();
  std::vector<std::string> seen;
  for (std::string_view piece : text::split(spec, ',')) {
    const std::string item(piece);
    const size_t colon = item.find(':');
    if (colon == std::string::npos)
      return Status(EDAOS_INVAL, "property '" + trim(item) + "' in '" + spec +
                                     "' has no value (expected key:value)");
    const std::string key = canonical_key(item.substr(0, colon));
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return Status(EDAOS_INVAL, "property " + key + " given twice in '" + spec + "'");
    seen.push_back(key);
    EDAOS_RETURN_IF_ERROR(set_one(&next, item.substr(0, colon), item.substr(colon + 1)));
  }
  EDAOS_RETURN_IF_ERROR(cross_check(next));
  *p = std::move(next);
  return Status::OK();
}

std::string format_ibytes(uint64_t s) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  char buf[32];
  if (s < 10) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(s));
    return buf;
  }
  int e = 0;
  long double div = 1;
  while (e < 6 && static_cast<long double>(s) >= div * 1024) {
    div *= 1024;
    ++e;
  }
  const long double val = std::floor(static_cast<long double>(s) / div * 10 + 0.5L) / 10;
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1Lf %s" : "%.0Lf %s", val, kUnits[e]);
  return buf;
}

Result<uint64_t> parse_size(const std::string& in) {
  const std::string s = trim(in);
  const size_t i = std::min(s.find_first_not_of("0123456789."), s.size());
  const std::string num = s.substr(0, i);
  const std::string unit = lower(trim(s.substr(i)));
  auto bad = [&]() {
    return Status(EDAOS_INVAL, "bad size '" + in +
                                   "' (expected a number with an optional unit: "
                                   "B, KB/K, KiB/Ki, MB/M, MiB/Mi, GB/G, GiB/Gi, TB/T, TiB/Ti)");
  };
  if (num.empty() || std::count(num.begin(), num.end(), '.') > 1 || num == ".") return bad();
  static const std::map<std::string, uint64_t> kUnits = {{"", 1},
                                                         {"b", 1},
                                                         {"k", 1000ull},
                                                         {"kb", 1000ull},
                                                         {"ki", 1ull << 10},
                                                         {"kib", 1ull << 10},
                                                         {"m", 1000000ull},
                                                         {"mb", 1000000ull},
                                                         {"mi", 1ull << 20},
                                                         {"mib", 1ull << 20},
                                                         {"g", 1000000000ull},
                                                         {"gb", 1000000000ull},
                                                         {"gi", 1ull << 30},
                                                         {"gib", 1ull << 30},
                                                         {"t", 1000000000000ull},
                                                         {"tb", 1000000000000ull},
                                                         {"ti", 1ull << 40},
                                                         {"tib", 1ull << 40}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return bad();
  if (num.find('.') == std::string::npos) {
    uint64_t v = 0;
    if (!text::parse_u64(num, &v) || v > UINT64_MAX / it->second) return bad();
    return v * it->second;
  }
  const long double v = std::stold(num) * static_cast<long double>(it->second);
  if (v >= 1.8e19L) return bad();
  return static_cast<uint64_t>(v);
}

std::vector<std::pair<std::string, std::string>> describe(const ContainerProps& p) {
  auto str = [](const std::string& s) { return s.empty() ? std::string("not set") : s; };
  auto num = [](uint64_t v) { return std::to_string(v); };
  // Sorted by key, as `daos container get-prop` lists them.
  return {
      {"Access Control List (acl)", str(p.acl)},
      {"Highest Allocated OID (alloc_oid)", num(p.alloc_oid)},
      {"Chunk Size (chunk_size)", format_ibytes(p.chunk_size)},
      {"Checksum (cksum)", csum_type_name(p.cksum)},
      {"Checksum Chunk Size (cksum_size)", format_ibytes(p.cksum_size)},
      {"Compression (compression)", "off"},
      {"Deduplication (dedup)", "off"},
      {"Dedupe Threshold (dedup_threshold)", format_ibytes(p.dedup_threshold)},
      {"Directory Object Class (dir_oclass)", str(p.dir_oclass)},
      {"EC Cell Size (ec_cell_sz)", format_ibytes(p.ec_cell_sz)},
      {"Encryption (encryption)", "off"},
      {"File Object Class (file_oclass)", str(p.file_oclass)},
      {"Group (group)", str(p.group)},
      {"Label (label)", str(p.label)},
      {"Layout Type (unknown, POSIX, HDF5) (layout_type)", cont_type_name(p.type)},
      {"Layout Version (layout_version)", num(p.layout_version)},
      {"Max Snapshot (max_snapshot)", num(p.max_snapshot)},
      {"Object Class (oclass)", str(p.oclass)},
      {"Owner (owner)", str(p.owner)},
      {"Redundancy Factor (0-4) (rd_fac)", num(p.rd_fac)},
      {"Redundancy Level (rank=1, node=2) (rd_lvl)",
       p.rd_lvl == RedunLevel::kNode ? "node" : "rank"},
      {"Server Checksumming (srv_cksum)", p.srv_cksum ? "on" : "off"},
      {"Health (status)", p.status == ContStatus::kUnclean ? "UNCLEAN" : "HEALTHY"},
  };
}

// ---- binary form ---------------------------------------------------------------------------

namespace {

constexpr char kMagic[4] = {'E', 'D', 'C', 'P'};
constexpr uint16_t kFormatVersion = 1;

// Record tags: never renumber or reuse.
enum Tag : uint16_t {
  kTagLabel = 1,
  kTagType = 2,
  kTagChunkSize = 3,
  kTagEcCellSz = 4,
  kTagRdFac = 5,
  kTagRdLvl = 6,
  kTagCksum = 7,
  kTagCksumSize = 8,
  kTagSrvCksum = 9,
  kTagOclass = 10,
  kTagFileOclass = 11,
  kTagDirOclass = 12,
  kTagOwner = 13,
  kTagGroup = 14,
  kTagAcl = 15,
  kTagStatus = 16,
  kTagLayoutVersion = 17,
  kTagAllocOid = 18,
  kTagDedupThreshold = 19,
  kTagMaxSnapshot = 20,
};

Status format_error(const std::string& what) {
  return Status(EDAOS_FORMAT, "container properties: " + what);
}

}  // namespace

std::string encode(const ContainerProps& p) {
  codec::Encoder w;
  codec::frame_begin(&w, kMagic, kFormatVersion);
  auto rec_str = [&](Tag t, const std::string& s) {
    w.u16(t);
    w.str32(s);
  };
  auto rec_u64 = [&](Tag t, uint64_t v) {
    w.u16(t);
    w.u32(8);
    w.u64(v);
  };
  rec_str(kTagLabel, p.label);
  rec_u64(kTagType, static_cast<uint64_t>(p.type));
  rec_u64(kTagChunkSize, p.chunk_size);
  rec_u64(kTagEcCellSz, p.ec_cell_sz);
  rec_u64(kTagRdFac, p.rd_fac);
  rec_u64(kTagRdLvl, static_cast<uint64_t>(p.rd_lvl));
  rec_u64(kTagCksum, static_cast<uint64_t>(p.cksum));
  rec_u64(kTagCksumSize, p.cksum_size);
  rec_u64(kTagSrvCksum, p.srv_cksum ? 1 : 0);
  rec_str(kTagOclass, p.oclass);
  rec_str(kTagFileOclass, p.file_oclass);
  rec_str(kTagDirOclass, p.dir_oclass);
  rec_str(kTagOwner, p.owner);
  rec_str(kTagGroup, p.group);
  rec_str(kTagAcl, p.acl);
  rec_u64(kTagStatus, static_cast<uint64_t>(p.status));
  rec_u64(kTagLayoutVersion, p.layout_version);
  rec_u64(kTagAllocOid, p.alloc_oid);
  rec_u64(kTagDedupThreshold, p.dedup_threshold);
  rec_u64(kTagMaxSnapshot, p.max_snapshot);
  codec::frame_end(&w);
  return w.take();
}

Result<ContainerProps> decode_props(const std::string& bytes) {
  std::string_view payload;
  EDAOS_RETURN_IF_ERROR(codec::frame_open(bytes, kMagic, kFormatVersion, "container properties",
                                          "a property record", &payload));
  ContainerProps p;
  codec::Decoder r(payload);
  while (r.remaining() > 0) {
    uint16_t tag = 0;
    uint32_t len = 0;
    if (!r.u16(&tag) || !r.u32(&len) || r.remaining() < len)
      return format_error("truncated record at payload offset " + std::to_string(r.offset()));
    const size_t at = r.offset();
    std::string s;
    uint64_t v = 0;
    auto str = [&](std::string* out) {
      out->assign(payload.data() + at, len);
      return r.skip(len);
    };
    auto u64 = [&](uint64_t max) -> bool {
      if (len != 8 || !r.u64(&v) || v > max) return false;
      return true;
    };
    bool ok = true;
    switch (tag) {
      case kTagLabel:
        ok = str(&p.label);
        break;
      case kTagOclass:
        ok = str(&p.oclass);
        break;
      case kTagFileOclass:
        ok = str(&p.file_oclass);
        break;
      case kTagDirOclass:
        ok = str(&p.dir_oclass);
        break;
      case kTagOwner:
        ok = str(&p.owner);
        break;
      case kTagGroup:
        ok = str(&p.group);
        break;
      case kTagAcl:
        ok = str(&p.acl);
        break;
      case kTagType:
        ok = u64(2) && ((p.type = static_cast<ContType>(v)), true);
        break;
      case kTagChunkSize:
        ok = u64(UINT64_MAX) && ((p.chunk_size = v), true);
        break;
      case kTagEcCellSz:
        ok = u64(UINT32_MAX) && ((p.ec_cell_sz = static_cast<uint32_t>(v)), true);
        break;
      case kTagRdFac:
        ok = u64(4) && ((p.rd_fac = static_cast<uint32_t>(v)), true);
        break;
      case kTagRdLvl:
        ok = u64(2) && v >= 1 && ((p.rd_lvl = static_cast<RedunLevel>(v)), true);
        break;
      case kTagCksum:
        ok = u64(3) && ((p.cksum = static_cast<CsumType>(v)), true);
        break;
      case kTagCksumSize:
        ok = u64(UINT32_MAX) && ((p.cksum_size = static_cast<uint32_t>(v)), true);
        break;
      case kTagSrvCksum:
        ok = u64(1) && ((p.srv_cksum = v != 0), true);
        break;
      case kTagStatus:
        ok = u64(1) && ((p.status = static_cast<ContStatus>(v)), true);
        break;
      case kTagLayoutVersion:
        ok = u64(UINT32_MAX) && ((p.layout_version = static_cast<uint32_t>(v)), true);
        break;
      case kTagAllocOid:
        ok = u64(UINT64_MAX) && ((p.alloc_oid = v), true);
        break;
      case kTagDedupThreshold:
        ok = u64(UINT64_MAX) && ((p.dedup_threshold = v), true);
        break;
      case kTagMaxSnapshot:
        ok = u64(UINT32_MAX) && ((p.max_snapshot = static_cast<uint32_t>(v)), true);
        break;
      default:
        ok = r.skip(len);
        break;  // a newer writer's field: ignore
    }
    if (!ok)
      return format_error("bad record (tag " + std::to_string(tag) + ", length " +
                          std::to_string(len) + ")");
  }
  return p;
}

}  // namespace edaos::objstore

#include "edaos/objstore/oclass.hpp"

#include <cctype>
#include <cstdio>

#include "edaos/objstore/pool_map.hpp"

namespace edaos::objstore {

namespace {

// DAOS's replication factors (enum daos_obj_redun OR_RP_*).
constexpr uint32_t kRpReplicas[] = {2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64, 128};
// DAOS's Reed-Solomon shapes (enum daos_obj_redun OR_RS_*), as {k, p}.
constexpr uint32_t kEcShapes[][2] = {{2, 1}, {2, 2}, {4, 1},  {4, 2},  {4, 3}, {8, 1},
                                     {8, 2}, {8, 3}, {16, 1}, {16, 2}, {16, 3}};

constexpr const char* kGrammar =
    "expected S<n>|SX, RP_<r>G<n>|RP_<r>GX with r in 2,3,4,5,6,8,12,16,24,32,48,64,128, or "
    "EC_<k>P<p>G<n>|EC_<k>P<p>GX with <k>P<p> in 2P1,2P2,4P1,4P2,4P3,8P1,8P2,8P3,16P1,16P2,16P3; "
    "n in 1..65535; case-insensitive, optional OC_ prefix";

bool valid_rp(uint32_t r) {
  for (uint32_t x : kRpReplicas)
    if (x == r) return true;
  return false;
}
bool valid_ec(uint32_t k, uint32_t p) {
  for (const auto& s : kEcShapes)
    if (s[0] == k && s[1] == p) return true;
  return false;
}

// Parses a decimal number without sign or leading zeros at s[*pos]; advances *pos.
bool parse_num(const std::string& s, size_t* pos, uint32_t* out) {
  size_t i = *pos;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '0') return false;
  uint64_t v = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > 0xffffffffull) return false;
    ++i;
  }
  *pos = i;
  *out = static_cast<uint32_t>(v);
  return true;
}

// Parses "X" or <n> as a group count (0 = X).
bool parse_groups(const std::string& s, size_t* pos, uint32_t* out) {
  if (*pos < s.size() && s[*pos] == 'X') {
    ++*pos;
    *out = 0;
    return true;
  }
  uint32_t n;
  if (!parse_num(s, pos, &n) || n > kMaxGroups) return false;
  *out = n;
  return true;
}

std::string groups_str(uint32_t g) { return g == 0 ? "X" : std::to_string(g); }

constexpr int kTypeShift = 62, kKindShift = 60, kDataShift = 55, kRedunShift = 48,
              kGroupsShift = 32;

}  // namespace

std::string ObjClass::name() const {
  if (!validate().ok()) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "INVALID(kind=%u,data=%u,redun=%u,groups=%u)",
                  static_cast<unsigned>(kind), data, redun, groups);
    return buf;
  }
  switch (kind) {
    case ResilKind::kNone:
      return "S" + groups_str(groups);
    case ResilKind::kReplica:
      return "RP_" + std::to_string(redun + 1) + "G" + groups_str(groups);
    case ResilKind::kErasure:
      return "EC_" + std::to_string(data) + "P" + std::to_string(redun) + "G" + groups_str(groups);
  }
  return "INVALID";
}

Status ObjClass::validate() const {
  if (groups > kMaxGroups)
    return Status(EDAOS_INVAL, "object class group count " + std::to_string(groups) + " exceeds " +
                                   std::to_string(kMaxGroups));
  switch (kind) {
    case ResilKind::kNone:
      if (data == 1 && redun == 0) return Status::OK();
      return Status(EDAOS_INVAL, "unprotected object class must have data 1, redun 0 (got data " +
                                     std::to_string(data) + ", redun " + std::to_string(redun) +
                                     ")");
    case ResilKind::kReplica:
      if (data == 1 && valid_rp(redun + 1)) return Status::OK();
      return Status(EDAOS_INVAL, "no replicated object class with " + std::to_string(redun + 1) +
                                     " replicas (data " + std::to_string(data) + ")");
    case ResilKind::kErasure:
      if (valid_ec(data, redun)) return Status::OK();
      return Status(EDAOS_INVAL, "no erasure-coded object class " + std::to_string(data) + "P" +
                                     std::to_string(redun));
  }
  return Status(EDAOS_INVAL,
                "unknown object class kind " + std::to_string(static_cast<unsigned>(kind)));
}

Result<ObjClass> ObjClass::parse(const std::string& in) {
  std::string s;
  for (char c : in) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto bad = [&]() {
    return Status(EDAOS_INVAL, "unknown object class '" + in + "' (" + kGrammar + ")");
  };
  size_t pos = 0;
  if (s.compare(0, 3, "OC_") == 0) pos = 3;
  ObjClass oc;
  if (s.compare(pos, 3, "RP_") == 0) {
    pos += 3;
    uint32_t r;
    if (!parse_num(s, &pos, &r) || !valid_rp(r)) return bad();
    if (pos >= s.size() || s[pos] != 'G') return bad();
    ++pos;
    oc.kind = ResilKind::kReplica;
    oc.data = 1;
    oc.redun = r - 1;
    if (!parse_groups(s, &pos, &oc.groups)) return bad();
  } else if (s.compare(pos, 3, "EC_") == 0) {
    pos += 3;
    uint32_t k, p;
    if (!parse_num(s, &pos, &k)) return bad();
    if (pos >= s.size() || s[pos] != 'P') return bad();
    ++pos;
    if (!parse_num(s, &pos, &p) || !valid_ec(k, p)) return bad();
    if (pos >= s.size() || s[pos] != 'G') return bad();
    ++pos;
    oc.kind = ResilKind::kErasure;
    oc.data = k;
    oc.redun = p;
    if (!parse_groups(s, &pos, &oc.groups)) return bad();
  } else if (pos < s.size() && s[pos] == 'S') {
    ++pos;
    if (!parse_groups(s, &pos, &oc.groups)) return bad();
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  return oc;
}

ObjectId make_oid(ObjClass oc, ObjType type, uint64_t seq_hi, uint64_t seq_lo) {
  uint64_t hi = (static_cast<uint64_t>(type) & 0x3) << kTypeShift;
  hi |= (static_cast<uint64_t>(oc.kind) & 0x3) << kKindShift;
  hi |= (static_cast<uint64_t>(oc.data - 1) & 0x1f) << kDataShift;
  hi |= (static_cast<uint64_t>(oc.redun) & 0x7f) << kRedunShift;
  hi |= (static_cast<uint64_t>(oc.groups) & 0xffff) << kGroupsShift;
  hi |= seq_hi & kOidSeqHiMask;
  return ObjectId{hi, seq_lo};
}

ObjClass oclass_of(ObjectId oid) {
  ObjClass oc;
  oc.kind = static_cast<ResilKind>((oid.hi >> kKindShift) & 0x3);
  oc.data = static_cast<uint32_t>((oid.hi >> kDataShift) & 0x1f) + 1;
  oc.redun = static_cast<uint32_t>((oid.hi >> kRedunShift) & 0x7f);
  oc.groups = static_cast<uint32_t>((oid.hi >> kGroupsShift) & 0xffff);
  return oc;
}

ObjType otype_of(ObjectId oid) { return static_cast<ObjType>((oid.hi >> kTypeShift) & 0x3); }

Status validate_for_pool(const ObjClass& oc, const PoolMap& map) {
  EDAOS_RETURN_IF_ERROR(oc.validate());
  EDAOS_RETURN_IF_ERROR(map.validate());
  const uint32_t engines = map.num_engines();
  const uint32_t gsz = oc.group_size();
  if (gsz > engines)
    return Status(EDAOS_NOENGINE, "object class " + oc.name() + " needs " + std::to_string(gsz) +
                                      " engines (fault domains), pool has " +
                                      std::to_string(engines));
  if (oc.groups != 0) {
    const uint64_t shards = static_cast<uint64_t>(oc.groups) * gsz;
    if (shards > map.num_targets())
      return Status(EDAOS_NOENGINE, "object class " + oc.name() + " needs " +
                                        std::to_string(shards) + " targets (" +
                                        std::to_string(oc.groups) + " groups x " +
                                        std::to_string(gsz) + " shards), pool has " +
                                        std::to_string(map.num_targets()));
  }
  return Status::OK();
}

Status validate_for_rd_fac(const ObjClass& oc, int rd_fac) {
  EDAOS_RETURN_IF_ERROR(oc.validate());
  if (rd_fac < 0 || rd_fac > 4)
    return Status(EDAOS_INVAL, "rd_fac " + std::to_string(rd_fac) + " out of range 0..4");
  const auto rf = static_cast<uint32_t>(rd_fac);
  bool ok = true;
  std::string why;
  switch (oc.kind) {
    case ResilKind::kNone:
      ok = rf == 0;
      why = "it has no redundancy";
      break;
    case ResilKind::kReplica:
      ok = oc.replicas() > rf;
      why = "it keeps " + std::to_string(oc.replicas()) + " replicas (needs more than " +
            std::to_string(rf) + ")";
      break;
    case ResilKind::kErasure:
      ok = oc.redun >= rf;
      why = "it has " + std::to_string(oc.redun) + " parity shards (needs at least " +
            std::to_string(rf) + ")";
      break;
  }
  if (ok) return Status::OK();
  return Status(EDAOS_INVAL, "object class " + oc.name() +
                                 " does not meet the container's rd_fac " + std::to_string(rd_fac) +
                                 ": " + why);
}

ObjClass default_oclass(int rd_fac, bool directory, const PoolMap& map) {
  const uint32_t doms = map.num_engines();
  ObjClass oc;
  if (rd_fac < 0) rd_fac = 0;
  if (directory) {
    if (rd_fac > 0) {
      oc.kind = ResilKind::kReplica;
      oc.redun = static_cast<uint32_t>(rd_fac);
    }
    oc.groups = 1;
    return oc;
  }
  oc.groups = 0;  // files spread over the whole pool
  auto ec = [&](uint32_t k, uint32_t p) {
    oc.kind = ResilKind::kErasure;
    oc.data = k;
    oc.redun = p;
  };
  auto rp = [&](uint32_t r) {
    oc.kind = ResilKind::kReplica;
    oc.data = 1;
    oc.redun = r - 1;
  };
  switch (rd_fac) {
    case 0:
      break;  // SX
    case 1:
      if (doms >= 18)
        ec(16, 1);
      else if (doms >= 10)
        ec(8, 1);
      else if (doms >= 6)
        ec(4, 1);
      else if (doms >= 3)
        ec(2, 1);
      else
        rp(2);
      break;
    case 2:
      if (doms >= 20)
        ec(16, 2);
      else if (doms >= 12)
        ec(8, 2);
      else if (doms >= 8)
        ec(4, 2);
      else if (doms >= 4)
        ec(2, 2);
      else
        rp(3);
      break;
    case 3:
      if (doms >= 22)
        ec(16, 3);
      else if (doms >= 14)
        ec(8, 3);
      else if (doms >= 10)
        ec(4, 3);
      else
        rp(4);
      break;
    default:
      rp(static_cast<uint32_t>(rd_fac) + 1);
      break;
  }
  return oc;
}

}  // namespace edaos::objstore

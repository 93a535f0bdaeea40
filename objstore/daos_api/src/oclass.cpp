// Object class IDs (DAOS numbering) <-> edaos object classes.
#include <cstdio>

#include "daos_internal.hpp"

namespace edaos::daosapi {

namespace {

using objstore::ObjClass;
using objstore::ResilKind;

// Replica counts of OR_RP_2 .. OR_RP_128 (codes 8..20), and (k, p) of OR_RS_2P1 .. OR_RS_16P3
// (codes 32..42), in DAOS's order.
constexpr uint32_t kReplicas[] = {2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64, 128};
constexpr uint32_t kEc[][2] = {{2, 1},  {2, 2},  {4, 1}, {4, 2}, {8, 1}, {8, 2},
                               {16, 1}, {16, 2}, {4, 3}, {8, 3}, {16, 3}};
constexpr uint32_t kFirstRp = OR_RP_2, kFirstEc = OR_RS_2P1;
constexpr uint32_t kGroupMask = (1u << OC_REDUN_SHIFT) - 1;

// The redundancy code of a class, 0 when DAOS has none for it.
uint32_t redun_code(const ObjClass& oc) {
  switch (oc.kind) {
    case ResilKind::kNone:
      return OR_RP_1;
    case ResilKind::kReplica:
      for (uint32_t i = 0; i < sizeof kReplicas / sizeof kReplicas[0]; ++i)
        if (kReplicas[i] == oc.replicas()) return kFirstRp + i;
      return 0;
    case ResilKind::kErasure:
      for (uint32_t i = 0; i < sizeof kEc / sizeof kEc[0]; ++i)
        if (kEc[i][0] == oc.data && kEc[i][1] == oc.redun) return kFirstEc + i;
      return 0;
  }
  return 0;
}

Result<ObjClass> class_of(daos_oclass_id_t id) {
  const uint32_t code = id >> OC_REDUN_SHIFT, groups = id & kGroupMask;
  ObjClass oc;
  if (code == OR_RP_1) {
    oc.kind = ResilKind::kNone;
  } else if (code >= kFirstRp && code < kFirstRp + sizeof kReplicas / sizeof kReplicas[0]) {
    oc.kind = ResilKind::kReplica;
    oc.redun = kReplicas[code - kFirstRp] - 1;
  } else if (code >= kFirstEc && code < kFirstEc + sizeof kEc / sizeof kEc[0]) {
    oc.kind = ResilKind::kErasure;
    oc.data = kEc[code - kFirstEc][0];
    oc.redun = kEc[code - kFirstEc][1];
  } else {
    return Status(EDAOS_INVAL, "object class ID " + std::to_string(id) + " names no class");
  }
  if (groups == 0 || groups > MAX_NUM_GROUPS)
    return Status(EDAOS_INVAL, "object class ID " + std::to_string(id) + " has no group count");
  oc.groups = groups == MAX_NUM_GROUPS ? 0 : groups;
  EDAOS_RETURN_IF_ERROR(oc.validate());
  return oc;
}

}  // namespace

Result<std::string> oclass_name_of(daos_oclass_id_t id) {
  if (id == OC_UNKNOWN) return std::string();
  EDAOS_ASSIGN_OR_RETURN(ObjClass oc, class_of(id));
  return oc.name();
}

daos_oclass_id_t oclass_id_of(const ObjClass& oc) {
  const uint32_t code = redun_code(oc);
  if (code == 0 || oc.validate().code() != EDAOS_OK || oc.groups >= MAX_NUM_GROUPS)
    return OC_UNKNOWN;
  return EDAOS_OC_ID_(code, oc.is_gx() ? MAX_NUM_GROUPS : oc.groups);
}

daos_oclass_id_t oclass_id_of_name(const std::string& name) {
  if (name.empty()) return OC_UNKNOWN;
  auto oc = ObjClass::parse(name);
  return oc.ok() ? oclass_id_of(oc.value()) : daos_oclass_id_t{OC_UNKNOWN};
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int daos_oclass_name2id(const char* name) {
  return guard_der(__func__, [&]() -> int {
    if (name == nullptr) return OC_UNKNOWN;
    auto oc = objstore::ObjClass::parse(name);
    if (!oc.ok()) return OC_UNKNOWN;
    return static_cast<int>(oclass_id_of(oc.value()));
  });
}

int daos_oclass_id2name(daos_oclass_id_t oc_id, char* name) {
  return guard_der(__func__, [&]() -> int {
    if (name == nullptr || oc_id == OC_UNKNOWN) return -1;
    auto n = oclass_name_of(oc_id);
    if (!n.ok() || n->size() >= MAX_OBJ_CLASS_NAME_LEN) return -1;
    std::snprintf(name, MAX_OBJ_CLASS_NAME_LEN, "%s", n->c_str());
    return 0;
  });
}

}  // extern "C"

// daos_prop_t: allocation and entries, and the translation between DAOS container property
// entries and edaos's ContainerProps (daos_prop.h lists what is supported).
#include <cstdlib>
#include <cstring>

#include "daos_internal.hpp"

namespace edaos::daosapi {

namespace {

using objstore::ContainerProps;
using objstore::ContType;
using objstore::CsumType;

bool is_str_type(uint32_t t) {
  return t == DAOS_PROP_PO_LABEL || t == DAOS_PROP_PO_OWNER || t == DAOS_PROP_PO_OWNER_GROUP ||
         t == DAOS_PROP_CO_LABEL || t == DAOS_PROP_CO_OWNER || t == DAOS_PROP_CO_OWNER_GROUP;
}
bool is_ptr_type(uint32_t t) {
  return t == DAOS_PROP_PO_ACL || t == DAOS_PROP_CO_ACL || t == DAOS_PROP_CO_ROOTS;
}

void free_value(daos_prop_entry* e) {
  if (is_str_type(e->dpe_type)) {
    std::free(e->dpe_str);
    e->dpe_str = nullptr;
  } else if (is_ptr_type(e->dpe_type)) {
    std::free(e->dpe_val_ptr);
    e->dpe_val_ptr = nullptr;
  }
}

Status notsup(const char* what) {
  return Status(EDAOS_NOTSUP, std::string(what) + " is not implemented by edaos");
}

// The `daos container` property key and value of an entry (validation of the value is left to
// objstore::set_property). Keys that are not settable properties there: "" (handled by caller).
Result<std::pair<std::string, std::string>> key_value(const daos_prop_entry& e) {
  const uint64_t v = e.dpe_val;
  auto kv = [](const char* k, std::string val) { return std::make_pair(std::string(k), val); };
  switch (e.dpe_type) {
    case DAOS_PROP_CO_LABEL:
      if (e.dpe_str == nullptr) return Status(EDAOS_INVAL, "label entry without a string");
      if (!daos_label_is_valid(e.dpe_str))
        return Status(EDAOS_INVAL, std::string("invalid container label '") + e.dpe_str + "'");
      return kv("label", e.dpe_str);
    case DAOS_PROP_CO_CSUM:
      switch (v) {
        case DAOS_PROP_CO_CSUM_OFF:
          return kv("cksum", "off");
        case DAOS_PROP_CO_CSUM_CRC32:
          return kv("cksum", "crc32");
        case DAOS_PROP_CO_CSUM_CRC64:
          return kv("cksum", "crc64");
        case DAOS_PROP_CO_CSUM_CRC32C:
          return kv("cksum", "crc32c");
        case DAOS_PROP_CO_CSUM_CRC16:
        case DAOS_PROP_CO_CSUM_SHA1:
        case DAOS_PROP_CO_CSUM_SHA256:
        case DAOS_PROP_CO_CSUM_SHA512:
        case DAOS_PROP_CO_CSUM_ADLER32:
          return notsup("this checksum type");
        default:
          return Status(EDAOS_INVAL, "unknown checksum type " + std::to_string(v));
      }
    case DAOS_PROP_CO_CSUM_CHUNK_SIZE:
      return kv("cksum_size", std::to_string(v));
    case DAOS_PROP_CO_CSUM_SERVER_VERIFY:
      if (v > DAOS_PROP_CO_CSUM_SV_ON)
        return Status(EDAOS_INVAL, "server verify must be ON or OFF, not " + std::to_string(v));
      return kv("srv_cksum", v == DAOS_PROP_CO_CSUM_SV_ON ? "on" : "off");
    case DAOS_PROP_CO_REDUN_FAC:
      return kv("rd_fac", std::to_string(v));
    case DAOS_PROP_CO_REDUN_LVL:
      if (v == DAOS_PROP_CO_REDUN_RANK) return kv("rd_lvl", "rank");
      if (v == DAOS_PROP_CO_REDUN_NODE) return kv("rd_lvl", "node");
      return Status(EDAOS_INVAL, "redundancy level must be RANK or NODE, not " + std::to_string(v));
    case DAOS_PROP_CO_EC_CELL_SZ:
      return kv("ec_cell_sz", std::to_string(v));
    case DAOS_PROP_CO_DEDUP:
      if (v != DAOS_PROP_CO_DEDUP_OFF) return notsup("deduplication");
      return kv("dedup", "off");
    case DAOS_PROP_CO_COMPRESS:
      if (v != DAOS_PROP_CO_COMPRESS_OFF) return notsup("compression");
      return kv("compression", "off");
    case DAOS_PROP_CO_ENCRYPT:
      if (v != DAOS_PROP_CO_ENCRYPT_OFF) return notsup("encryption");
      return kv("encryption", "off");
    case DAOS_PROP_CO_DEDUP_THRESHOLD:
      return kv("dedup_threshold", std::to_string(v));
    case DAOS_PROP_CO_STATUS: {
      struct daos_co_status cs;
      daos_prop_val_2_co_status(v, &cs);
      if (cs.dcs_status != DAOS_PROP_CO_HEALTHY)
        return Status(EDAOS_INVAL, "the status can only be set to HEALTHY");
      return kv("status", "healthy");
    }
    case EDAOS_PROP_CO_CHUNK_SIZE:
      return kv("chunk_size", std::to_string(v));
    case EDAOS_PROP_CO_OCLASS:
    case EDAOS_PROP_CO_FILE_OCLASS:
    case EDAOS_PROP_CO_DIR_OCLASS: {
      EDAOS_ASSIGN_OR_RETURN(std::string name, oclass_name_of(static_cast<daos_oclass_id_t>(v)));
      const char* key = e.dpe_type == EDAOS_PROP_CO_OCLASS        ? "oclass"
                        : e.dpe_type == EDAOS_PROP_CO_FILE_OCLASS ? "file_oclass"
                                                                  : "dir_oclass";
      return kv(key, name);
    }
    case DAOS_PROP_CO_LAYOUT_TYPE:
    case DAOS_PROP_CO_LAYOUT_VER:
    case DAOS_PROP_CO_OWNER:
    case DAOS_PROP_CO_OWNER_GROUP:
      return kv("", "");  // create-time properties, handled by the caller
    default:
      return Status(EDAOS_NOTSUP, "container property type " + std::to_string(e.dpe_type) +
                                      " is not implemented by edaos");
  }
}

Status apply_create_only(const daos_prop_entry& e, ContainerProps* p) {
  switch (e.dpe_type) {
    case DAOS_PROP_CO_LAYOUT_TYPE:
      switch (e.dpe_val) {
        case DAOS_PROP_CO_LAYOUT_UNKNOWN:
          p->type = ContType::kUnknown;
          return Status::OK();
        case DAOS_PROP_CO_LAYOUT_POSIX:
          p->type = ContType::kPosix;
          return Status::OK();
        case DAOS_PROP_CO_LAYOUT_HDF5:
          p->type = ContType::kHdf5;
          return Status::OK();
        default:
          return e.dpe_val < DAOS_PROP_CO_LAYOUT_MAX
                     ? notsup("this container layout type")
                     : Status(EDAOS_INVAL, "unknown layout type " + std::to_string(e.dpe_val));
      }
    case DAOS_PROP_CO_LAYOUT_VER:
      p->layout_version = static_cast<uint32_t>(e.dpe_val);
      return Status::OK();
    case DAOS_PROP_CO_OWNER:
    case DAOS_PROP_CO_OWNER_GROUP: {
      if (e.dpe_str == nullptr || *e.dpe_str == '\0')
        return Status(EDAOS_INVAL, "owner entry without a string");
      std::string s = e.dpe_str;
      if (s.back() != '@') s += '@';
      (e.dpe_type == DAOS_PROP_CO_OWNER ? p->owner : p->group) = s;
      return Status::OK();
    }
    default:
      return Status(EDAOS_INTERNAL, "not a create-time property");
  }
}

void set_val(daos_prop_entry* e, uint64_t v) { e->dpe_val = v; }
int set_str(daos_prop_entry* e, const std::string& s) {
  return daos_prop_entry_set_str(e, s.c_str(), s.size());
}

}  // namespace

Status apply_daos_props(const daos_prop_t* prop, ContainerProps* p, bool creating) {
  if (prop == nullptr) return Status::OK();
  if (prop->dpp_nr > 0 && prop->dpp_entries == nullptr)
    return Status(EDAOS_INVAL, "property list without entries");
  ContainerProps out = *p;
  for (uint32_t i = 0; i < prop->dpp_nr; ++i) {
    const daos_prop_entry& e = prop->dpp_entries[i];
    EDAOS_ASSIGN_OR_RETURN(auto kv, key_value(e));
    if (kv.first.empty()) {
      if (!creating)
        return Status(EDAOS_INVAL, "property type " + std::to_string(e.dpe_type) +
                                       " can only be set when the container is created");
      EDAOS_RETURN_IF_ERROR(apply_create_only(e, &out));
      continue;
    }
    if (kv.first == "label") {
      out.label = kv.second;  // Pool::cont_create checks and stores it
      continue;
    }
    EDAOS_RETURN_IF_ERROR(objstore::set_property(&out, kv.first, kv.second));
  }
  *p = out;
  return Status::OK();
}

// Sets the properties of an open container one by one (Container::set_prop validates and
// persists each).
Status set_daos_props(Container& c, const daos_prop_t* prop) {
  if (prop == nullptr || (prop->dpp_nr > 0 && prop->dpp_entries == nullptr))
    return Status(EDAOS_INVAL, "no property list");
  // Translate everything first, so a bad entry changes nothing.
  std::vector<std::pair<std::string, std::string>> todo;
  for (uint32_t i = 0; i < prop->dpp_nr; ++i) {
    const daos_prop_entry& e = prop->dpp_entries[i];
    EDAOS_ASSIGN_OR_RETURN(auto kv, key_value(e));
    if (kv.first.empty()) {
      if (e.dpe_type == DAOS_PROP_CO_OWNER || e.dpe_type == DAOS_PROP_CO_OWNER_GROUP)
        return notsup("changing a container's owner");
      return Status(EDAOS_INVAL, "property type " + std::to_string(e.dpe_type) +
                                     " can only be set when the container is created");
    }
    todo.push_back(std::move(kv));
  }
  for (const auto& kv : todo) EDAOS_RETURN_IF_ERROR(c.set_prop(kv.first, kv.second));
  return Status::OK();
}

// The container property types daos_cont_query answers.
static const uint32_t kQueryTypes[] = {
    DAOS_PROP_CO_LABEL,       DAOS_PROP_CO_LAYOUT_TYPE,     DAOS_PROP_CO_LAYOUT_VER,
    DAOS_PROP_CO_CSUM,        DAOS_PROP_CO_CSUM_CHUNK_SIZE, DAOS_PROP_CO_CSUM_SERVER_VERIFY,
    DAOS_PROP_CO_REDUN_FAC,   DAOS_PROP_CO_REDUN_LVL,       DAOS_PROP_CO_SNAPSHOT_MAX,
    DAOS_PROP_CO_COMPRESS,    DAOS_PROP_CO_ENCRYPT,         DAOS_PROP_CO_OWNER,
    DAOS_PROP_CO_OWNER_GROUP, DAOS_PROP_CO_DEDUP,           DAOS_PROP_CO_DEDUP_THRESHOLD,
    DAOS_PROP_CO_STATUS,      DAOS_PROP_CO_ALLOCED_OID,     DAOS_PROP_CO_EC_CELL_SZ,
    EDAOS_PROP_CO_CHUNK_SIZE, EDAOS_PROP_CO_OCLASS,         EDAOS_PROP_CO_FILE_OCLASS,
    EDAOS_PROP_CO_DIR_OCLASS,
};

int query_daos_props(const ContainerProps& p, daos_prop_t* prop) {
  if (prop->dpp_entries == nullptr) {
    const uint32_t n = sizeof kQueryTypes / sizeof kQueryTypes[0];
    daos_prop_t* all = daos_prop_alloc(n);
    if (all == nullptr) return -DER_NOMEM;
    for (uint32_t i = 0; i < n; ++i) all->dpp_entries[i].dpe_type = kQueryTypes[i];
    prop->dpp_nr = n;
    prop->dpp_entries = all->dpp_entries;
    std::free(all);
  }
  for (uint32_t i = 0; i < prop->dpp_nr; ++i) {
    daos_prop_entry* e = &prop->dpp_entries[i];
    int rc = 0;
    switch (e->dpe_type) {
      case DAOS_PROP_CO_LABEL:
        rc = set_str(e, p.label);
        break;
      case DAOS_PROP_CO_LAYOUT_TYPE:
        set_val(e, static_cast<uint64_t>(p.type));  // edaos's values are DAOS's
        break;
      case DAOS_PROP_CO_LAYOUT_VER:
        set_val(e, p.layout_version);
        break;
      case DAOS_PROP_CO_CSUM:
        set_val(e, p.cksum == CsumType::kCrc32    ? DAOS_PROP_CO_CSUM_CRC32
                   : p.cksum == CsumType::kCrc64  ? DAOS_PROP_CO_CSUM_CRC64
                   : p.cksum == CsumType::kCrc32c ? DAOS_PROP_CO_CSUM_CRC32C
                                                  : DAOS_PROP_CO_CSUM_OFF);
        break;
      case DAOS_PROP_CO_CSUM_CHUNK_SIZE:
        set_val(e, p.cksum_size);
        break;
      case DAOS_PROP_CO_CSUM_SERVER_VERIFY:
        set_val(e, p.srv_cksum ? DAOS_PROP_CO_CSUM_SV_ON : DAOS_PROP_CO_CSUM_SV_OFF);
        break;
      case DAOS_PROP_CO_REDUN_FAC:
        set_val(e, p.rd_fac);
        break;
      case DAOS_PROP_CO_REDUN_LVL:
        set_val(e, static_cast<uint64_t>(p.rd_lvl));  // 1 rank, 2 node, as DAOS
        break;
      case DAOS_PROP_CO_SNAPSHOT_MAX:
        set_val(e, p.max_snapshot);
        break;
      case DAOS_PROP_CO_COMPRESS:
      case DAOS_PROP_CO_ENCRYPT:
      case DAOS_PROP_CO_DEDUP:
        set_val(e, 0);  // off: the only value edaos has
        break;
      case DAOS_PROP_CO_OWNER:
        rc = set_str(e, p.owner);
        break;
      case DAOS_PROP_CO_OWNER_GROUP:
        rc = set_str(e, p.group);
        break;
      case DAOS_PROP_CO_DEDUP_THRESHOLD:
        set_val(e, p.dedup_threshold);
        break;
      case DAOS_PROP_CO_STATUS:
        set_val(e, DAOS_PROP_CO_STATUS_VAL(p.status == objstore::ContStatus::kHealthy
                                               ? DAOS_PROP_CO_HEALTHY
                                               : DAOS_PROP_CO_UNCLEAN,
                                           0, 0));
        break;
      case DAOS_PROP_CO_ALLOCED_OID:
        set_val(e, p.alloc_oid);
        break;
      case DAOS_PROP_CO_EC_CELL_SZ:
        set_val(e, p.ec_cell_sz);
        break;
      case EDAOS_PROP_CO_CHUNK_SIZE:
        set_val(e, p.chunk_size);
        break;
      case EDAOS_PROP_CO_OCLASS:
        set_val(e, oclass_id_of_name(p.oclass));
        break;
      case EDAOS_PROP_CO_FILE_OCLASS:
        set_val(e, oclass_id_of_name(p.file_oclass));
        break;
      case EDAOS_PROP_CO_DIR_OCLASS:
        set_val(e, oclass_id_of_name(p.dir_oclass));
        break;
      default:
        note("daos_cont_query",
             "container property type " + std::to_string(e->dpe_type) + " is not kept by edaos");
        return -DER_NOTSUPPORTED;
    }
    if (rc) return rc;
  }
  return 0;
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

daos_prop_t* daos_prop_alloc(uint32_t entries_nr) {
  if (entries_nr > DAOS_PROP_ENTRIES_MAX_NR) return nullptr;
  auto* p = static_cast<daos_prop_t*>(std::calloc(1, sizeof(daos_prop_t)));
  if (p == nullptr) return nullptr;
  if (entries_nr > 0) {
    p->dpp_entries =
        static_cast<daos_prop_entry*>(std::calloc(entries_nr, sizeof(daos_prop_entry)));
    if (p->dpp_entries == nullptr) {
      std::free(p);
      return nullptr;
    }
  }
  p->dpp_nr = entries_nr;
  return p;
}

void daos_prop_fini(daos_prop_t* prop) {
  if (prop == nullptr) return;
  for (uint32_t i = 0; prop->dpp_entries && i < prop->dpp_nr; ++i)
    free_value(&prop->dpp_entries[i]);
  std::free(prop->dpp_entries);
  prop->dpp_entries = nullptr;
  prop->dpp_nr = 0;
}

void daos_prop_free(daos_prop_t* prop) {
  daos_prop_fini(prop);
  std::free(prop);
}

struct daos_prop_entry* daos_prop_entry_get(daos_prop_t* prop, uint32_t type) {
  if (prop == nullptr || prop->dpp_entries == nullptr) return nullptr;
  for (uint32_t i = 0; i < prop->dpp_nr; ++i)
    if (prop->dpp_entries[i].dpe_type == type) return &prop->dpp_entries[i];
  return nullptr;
}

int daos_prop_entry_set_str(struct daos_prop_entry* entry, const char* str, daos_size_t len) {
  if (entry == nullptr || str == nullptr || len == 0) return -DER_INVAL;
  char* copy = strndup(str, len);
  if (copy == nullptr) return -DER_NOMEM;
  if (is_str_type(entry->dpe_type)) std::free(entry->dpe_str);
  entry->dpe_str = copy;
  return 0;
}

int daos_prop_set_str(daos_prop_t* prop, uint32_t type, const char* str, daos_size_t len) {
  return daos_prop_entry_set_str(daos_prop_entry_get(prop, type), str, len);
}

int daos_prop_entry_set_ptr(struct daos_prop_entry* entry, const void* ptr, daos_size_t size) {
  if (entry == nullptr || ptr == nullptr || size == 0) return -DER_INVAL;
  void* copy = std::malloc(size);
  if (copy == nullptr) return -DER_NOMEM;
  std::memcpy(copy, ptr, size);
  if (is_ptr_type(entry->dpe_type)) std::free(entry->dpe_val_ptr);
  entry->dpe_val_ptr = copy;
  return 0;
}

int daos_prop_set_ptr(daos_prop_t* prop, uint32_t type, const void* ptr, daos_size_t size) {
  return daos_prop_entry_set_ptr(daos_prop_entry_get(prop, type), ptr, size);
}

bool daos_prop_has_str(struct daos_prop_entry* entry) {
  return entry != nullptr && is_str_type(entry->dpe_type);
}
bool daos_prop_has_ptr(struct daos_prop_entry* entry) {
  return entry != nullptr && is_ptr_type(entry->dpe_type);
}

int daos_prop_merge2(daos_prop_t* old_prop, daos_prop_t* new_prop, daos_prop_t** out_prop) {
  if (old_prop == nullptr || new_prop == nullptr || out_prop == nullptr) return -DER_INVAL;
  std::vector<const daos_prop_entry*> merged;
  for (uint32_t i = 0; i < old_prop->dpp_nr; ++i)
    if (!daos_prop_entry_get(new_prop, old_prop->dpp_entries[i].dpe_type))
      merged.push_back(&old_prop->dpp_entries[i]);
  for (uint32_t i = 0; i < new_prop->dpp_nr; ++i) merged.push_back(&new_prop->dpp_entries[i]);
  if (merged.size() > DAOS_PROP_ENTRIES_MAX_NR) return -DER_INVAL;
  daos_prop_t* out = daos_prop_alloc(static_cast<uint32_t>(merged.size()));
  if (out == nullptr) return -DER_NOMEM;
  for (size_t i = 0; i < merged.size(); ++i) {
    daos_prop_entry* d = &out->dpp_entries[i];
    const daos_prop_entry* s = merged[i];
    d->dpe_type = s->dpe_type;
    d->dpe_flags = s->dpe_flags;
    int rc = 0;
    if (is_str_type(s->dpe_type)) {
      if (s->dpe_str) rc = daos_prop_entry_set_str(d, s->dpe_str, std::strlen(s->dpe_str) + 1);
    } else if (is_ptr_type(s->dpe_type)) {
      rc = s->dpe_val_ptr ? -DER_NOTSUPPORTED : 0;  // sizes of ACL blobs are not known here
    } else {
      d->dpe_val = s->dpe_val;
    }
    if (rc) {
      daos_prop_free(out);
      return rc;
    }
  }
  *out_prop = out;
  return 0;
}

daos_prop_t* daos_prop_merge(daos_prop_t* old_prop, daos_prop_t* new_prop) {
  daos_prop_t* out = nullptr;
  return daos_prop_merge2(old_prop, new_prop, &out) == 0 ? out : nullptr;
}

}  // extern "C"

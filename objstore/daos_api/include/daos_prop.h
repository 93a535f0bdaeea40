/* edaos DAOS API: the property list of pools and containers (daos_prop_t).
 *
 * A daos_prop_t is an array of typed entries; each entry holds an integer (dpe_val), a string
 * (dpe_str, owned by the list) or a pointer to bytes (dpe_val_ptr, owned by the list). Build one
 * with daos_prop_alloc(n), fill dpe_type and the value, pass it to daos_cont_create() /
 * daos_cont_set_prop() / dfs_cont_create() (attr->da_props), free it with daos_prop_free().
 *
 * Container properties edaos implements (see objstore/src/placement/README.md "Container
 * properties" for the rules each value must satisfy; a value edaos refuses gives -DER_INVAL,
 * a DAOS feature edaos does not implement -DER_NOTSUPPORTED):
 *
 *   DAOS_PROP_CO_LABEL              string, 1..127 of [A-Za-z0-9._:-], not a UUID
 *   DAOS_PROP_CO_LAYOUT_TYPE        DAOS_PROP_CO_LAYOUT_UNKNOWN / _POSIX / _HDF5
 *   DAOS_PROP_CO_LAYOUT_VER         integer (recorded)
 *   DAOS_PROP_CO_CSUM               DAOS_PROP_CO_CSUM_OFF / _CRC32 / _CRC64 / _CRC32C (edaos);
 *                                   CRC16, SHA*, ADLER32: -DER_NOTSUPPORTED
 *   DAOS_PROP_CO_CSUM_CHUNK_SIZE    bytes, 0 < n < 4 GiB
 *   DAOS_PROP_CO_CSUM_SERVER_VERIFY DAOS_PROP_CO_CSUM_SV_ON / _OFF (on needs a checksum)
 *   DAOS_PROP_CO_REDUN_FAC          DAOS_PROP_CO_REDUN_RF0 .. RF4
 *   DAOS_PROP_CO_REDUN_LVL          DAOS_PROP_CO_REDUN_RANK / _NODE
 *   DAOS_PROP_CO_EC_CELL_SZ         bytes, 4 KiB .. 1 MiB, multiple of 32
 *   DAOS_PROP_CO_DEDUP, _COMPRESS, _ENCRYPT   ..._OFF only
 *   DAOS_PROP_CO_DEDUP_THRESHOLD    bytes > 0
 *   DAOS_PROP_CO_OWNER, _OWNER_GROUP  "user@", "group@" (create and query)
 *   DAOS_PROP_CO_STATUS             query; set: DAOS_PROP_CO_STATUS_VAL(DAOS_PROP_CO_HEALTHY,..)
 *                                   clears UNCLEAN
 *   DAOS_PROP_CO_ALLOCED_OID        query only
 *   EDAOS_PROP_CO_CHUNK_SIZE        bytes > 0: default chunk size of DFS files (edaos; DFS keeps
 *                                   it in dfs_attr_t::da_chunk_size, which sets it too)
 *   EDAOS_PROP_CO_OCLASS, _FILE_OCLASS, _DIR_OCLASS   daos_oclass_id_t, 0 = automatic (edaos;
 *                                   DFS's da_oclass_id / da_file_oclass_id / da_dir_oclass_id)
 * Other DAOS container property types are refused with -DER_NOTSUPPORTED. */
#ifndef EDAOS_DAOS_PROP_H
#define EDAOS_DAOS_PROP_H

#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Pool properties (only DAOS_PROP_PO_LABEL is answered by daos_pool_query). */
enum daos_pool_props {
  DAOS_PROP_PO_MIN = 0,
  DAOS_PROP_PO_LABEL,
  DAOS_PROP_PO_ACL,
  DAOS_PROP_PO_SPACE_RB,
  DAOS_PROP_PO_SELF_HEAL,
  DAOS_PROP_PO_RECLAIM,
  DAOS_PROP_PO_OWNER,
  DAOS_PROP_PO_OWNER_GROUP,
  DAOS_PROP_PO_SVC_LIST,
  DAOS_PROP_PO_EC_CELL_SZ,
  DAOS_PROP_PO_DATA_THRESH,
  DAOS_PROP_PO_REDUN_FAC,
};

/** Container properties; the values are DAOS's. */
enum daos_cont_props {
  DAOS_PROP_CO_MIN = 0x1000,
  DAOS_PROP_CO_LABEL,
  DAOS_PROP_CO_LAYOUT_TYPE,
  DAOS_PROP_CO_LAYOUT_VER,
  DAOS_PROP_CO_CSUM,
  DAOS_PROP_CO_CSUM_CHUNK_SIZE,
  DAOS_PROP_CO_CSUM_SERVER_VERIFY,
  DAOS_PROP_CO_REDUN_FAC,
  DAOS_PROP_CO_REDUN_LVL,
  DAOS_PROP_CO_SNAPSHOT_MAX,
  DAOS_PROP_CO_ACL,
  DAOS_PROP_CO_COMPRESS,
  DAOS_PROP_CO_ENCRYPT,
  DAOS_PROP_CO_OWNER,
  DAOS_PROP_CO_OWNER_GROUP,
  DAOS_PROP_CO_DEDUP,
  DAOS_PROP_CO_DEDUP_THRESHOLD,
  DAOS_PROP_CO_ROOTS,
  DAOS_PROP_CO_STATUS,
  DAOS_PROP_CO_ALLOCED_OID,
  DAOS_PROP_CO_EC_CELL_SZ,
  DAOS_PROP_CO_EC_PDA,
  DAOS_PROP_CO_RP_PDA,
  DAOS_PROP_CO_GLOBAL_VERSION,
  DAOS_PROP_CO_SCRUBBER_DISABLED,
  DAOS_PROP_CO_OBJ_VERSION,
  DAOS_PROP_CO_PERF_DOMAIN,
  DAOS_PROP_CO_MAX,
};

/** edaos container properties (DFS layout defaults kept as container properties). */
enum edaos_cont_props {
  EDAOS_PROP_CO_CHUNK_SIZE = 0x1E00,
  EDAOS_PROP_CO_OCLASS,
  EDAOS_PROP_CO_FILE_OCLASS,
  EDAOS_PROP_CO_DIR_OCLASS,
};

typedef uint16_t daos_cont_layout_t;
enum {
  DAOS_PROP_CO_LAYOUT_UNKNOWN,
  DAOS_PROP_CO_LAYOUT_POSIX,
  DAOS_PROP_CO_LAYOUT_HDF5,
  DAOS_PROP_CO_LAYOUT_PYTHON,
  DAOS_PROP_CO_LAYOUT_SPARK,
  DAOS_PROP_CO_LAYOUT_DATABASE,
  DAOS_PROP_CO_LAYOUT_ROOT,
  DAOS_PROP_CO_LAYOUT_SEISMIC,
  DAOS_PROP_CO_LAYOUT_METEO,
  DAOS_PROP_CO_LAYOUT_MAX
};

enum {
  DAOS_PROP_CO_CSUM_OFF,
  DAOS_PROP_CO_CSUM_CRC16,
  DAOS_PROP_CO_CSUM_CRC32,
  DAOS_PROP_CO_CSUM_CRC64,
  DAOS_PROP_CO_CSUM_SHA1,
  DAOS_PROP_CO_CSUM_SHA256,
  DAOS_PROP_CO_CSUM_SHA512,
  DAOS_PROP_CO_CSUM_ADLER32,
  /** edaos: CRC-32C (Castagnoli), which `daos`-style property strings call crc32c. */
  DAOS_PROP_CO_CSUM_CRC32C = 64,
};

enum { DAOS_PROP_CO_CSUM_SV_OFF, DAOS_PROP_CO_CSUM_SV_ON };
enum { DAOS_PROP_CO_DEDUP_OFF, DAOS_PROP_CO_DEDUP_MEMCMP, DAOS_PROP_CO_DEDUP_HASH };
enum { DAOS_PROP_CO_COMPRESS_OFF, DAOS_PROP_CO_COMPRESS_LZ4, DAOS_PROP_CO_COMPRESS_DEFLATE };
enum { DAOS_PROP_CO_ENCRYPT_OFF, DAOS_PROP_CO_ENCRYPT_AES_XTS128 };

enum {
  DAOS_PROP_CO_REDUN_RF0 = 0,
  DAOS_PROP_CO_REDUN_RF1 = 1,
  DAOS_PROP_CO_REDUN_RF2 = 2,
  DAOS_PROP_CO_REDUN_RF3 = 3,
  DAOS_PROP_CO_REDUN_RF4 = 4,
  DAOS_RF_MAX = 4,
};

enum {
  DAOS_PROP_CO_REDUN_RANK = 1,
  DAOS_PROP_CO_REDUN_NODE = 2,
};

enum { DAOS_PROP_CO_HEALTHY, DAOS_PROP_CO_UNCLEAN };

/** Container status as an integer property value: status in bits 32..47, flags 48..63, pool
 *  map version 0..31 (DAOS's packing). */
struct daos_co_status {
  uint16_t dcs_status;
  uint16_t dcs_flags;
  uint32_t dcs_pm_ver;
};
#define DAOS_PROP_CO_STATUS_VAL(status, flag, pm_ver) \
  ((((uint64_t)(flag)) << 48) | (((uint64_t)(status)&0xFFFF) << 32) | ((uint64_t)(pm_ver)))
static inline void daos_prop_val_2_co_status(uint64_t val, struct daos_co_status *st) {
  st->dcs_flags = (uint16_t)(val >> 48);
  st->dcs_status = (uint16_t)((val >> 32) & 0xFFFF);
  st->dcs_pm_ver = (uint32_t)(val & 0xFFFFFFFF);
}
static inline uint64_t daos_prop_co_status_2_val(struct daos_co_status *st) {
  return DAOS_PROP_CO_STATUS_VAL(st->dcs_status, st->dcs_flags, st->dcs_pm_ver);
}

/** dpe_flags bit: the entry was asked for but the object has no value for it. */
enum { DAOS_PROP_ENTRY_NOT_SET = (1 << 0) };

struct daos_prop_entry {
  uint32_t dpe_type;
  uint16_t dpe_flags;
  uint16_t dpe_reserv;
  union {
    uint64_t dpe_val;
    d_string_t dpe_str;
    void *dpe_val_ptr;
  };
};

typedef struct {
  uint32_t dpp_nr;
  uint32_t dpp_reserv;
  struct daos_prop_entry *dpp_entries;
} daos_prop_t;

#define DAOS_PROP_ENTRIES_MAX_NR 128
#define DAOS_PROP_LABEL_MAX_LEN 127
#define DAOS_PROP_MAX_LABEL_BUF_LEN (DAOS_PROP_LABEL_MAX_LEN + 1)

/** A list of `entries_nr` zeroed entries (NULL entries when 0; NULL when more than
 *  DAOS_PROP_ENTRIES_MAX_NR or out of memory). Free with daos_prop_free(). */
daos_prop_t *daos_prop_alloc(uint32_t entries_nr);
/** Frees the entries' strings and pointers and the entry array; keeps `prop` itself. */
void daos_prop_fini(daos_prop_t *prop);
/** daos_prop_fini, then frees `prop`. NULL is a no-op. */
void daos_prop_free(daos_prop_t *prop);
/** The entry of `type`, or NULL. */
struct daos_prop_entry *daos_prop_entry_get(daos_prop_t *prop, uint32_t type);
/** Copies at most `len` bytes of `str` (up to its NUL) into the entry of `type` (or into
 *  `entry`), replacing the old string. -DER_INVAL for a NULL argument or a missing entry,
 *  -DER_NOMEM. */
int daos_prop_set_str(daos_prop_t *prop, uint32_t type, const char *str, daos_size_t len);
int daos_prop_entry_set_str(struct daos_prop_entry *entry, const char *str, daos_size_t len);
/** Copies `size` bytes at `ptr` into the entry (dpe_val_ptr), replacing the old value. */
int daos_prop_set_ptr(daos_prop_t *prop, uint32_t type, const void *ptr, daos_size_t size);
int daos_prop_entry_set_ptr(struct daos_prop_entry *entry, const void *ptr, daos_size_t size);
/** A new list with the entries of both; an entry of `new_prop` replaces the one of the same
 *  type in `old_prop`. NULL when out of memory or when the result would be too long. */
daos_prop_t *daos_prop_merge(daos_prop_t *old_prop, daos_prop_t *new_prop);
/** Same, returning 0 / -DER_INVAL / -DER_NOMEM and the list in *out_prop. */
int daos_prop_merge2(daos_prop_t *old_prop, daos_prop_t *new_prop, daos_prop_t **out_prop);
/** True when the entry holds a string (label, owner, group). */
bool daos_prop_has_str(struct daos_prop_entry *entry);
/** True when the entry holds a pointer (ACL, roots). */
bool daos_prop_has_ptr(struct daos_prop_entry *entry);

static inline bool daos_prop_is_set(struct daos_prop_entry *entry) {
  return !(entry->dpe_flags & DAOS_PROP_ENTRY_NOT_SET);
}

/** DAOS's label rule: 1..127 characters of [A-Za-z0-9._:-] that do not form a UUID. */
static inline bool daos_label_is_valid(const char *label) {
  if (label == NULL) return false;
  size_t n = strnlen(label, DAOS_PROP_LABEL_MAX_LEN + 1);
  if (n == 0 || n > DAOS_PROP_LABEL_MAX_LEN) return false;
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = (unsigned char)label[i];
    if (!isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return !daos_is_valid_uuid_string(label, 0);
}

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_PROP_H */

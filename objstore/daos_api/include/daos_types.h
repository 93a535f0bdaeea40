/* edaos DAOS API: the value types shared by daos.h and daos_fs.h (handles, anchors, events,
 * object IDs, epochs). Names, field names and meanings are DAOS's (src/include/daos_types.h);
 * the definitions are edaos's own. See objstore/daos_api/README.md for what differs. */
#ifndef EDAOS_DAOS_TYPES_H
#define EDAOS_DAOS_TYPES_H

#include <cart/types.h>
#include <ctype.h>
#include <daos_errno.h>
#include <gurt/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Longest DAOS system name (the `sys` argument of the connect calls; edaos ignores it). */
#define DAOS_SYS_NAME_MAX 15
/** Longest pool or container attribute name. */
#define DAOS_ATTR_NAME_MAX 511
/** Size of a UUID in text form, NUL included. */
#define DAOS_UUID_STR_SIZE 37

typedef uint64_t daos_size_t;
typedef uint64_t daos_off_t;
typedef d_iov_t daos_key_t;

/** Epochs exist in the API for source compatibility; edaos has no snapshots (every read sees
 *  the latest data). */
typedef uint64_t daos_epoch_t;
typedef struct {
  daos_epoch_t epr_lo;
  daos_epoch_t epr_hi;
} daos_epoch_range_t;
#define DAOS_EPOCH_MAX (~0ULL)

/** An opaque handle (pool, container, event queue). Cookie 0 is never a valid handle. */
typedef struct {
  uint64_t cookie;
} daos_handle_t;

#define DAOS_HDL_INVAL ((daos_handle_t){0})
#define DAOS_TX_NONE DAOS_HDL_INVAL

static inline bool daos_handle_is_inval(daos_handle_t h) { return h.cookie == 0; }
static inline bool daos_handle_is_valid(daos_handle_t h) { return h.cookie != 0; }

/** Pool connect modes (exactly one of them). */
#define DAOS_PC_RO (1U << 0)
#define DAOS_PC_RW (1U << 1)
#define DAOS_PC_EX (1U << 2)
#define DAOS_PC_NBITS 3
#define DAOS_PC_MASK ((1U << DAOS_PC_NBITS) - 1)

/** 128-bit object ID (the high 32 bits of `hi` carry the class, as in DAOS). */
typedef struct {
  uint64_t lo;
  uint64_t hi;
} daos_obj_id_t;

/** Iteration position (readdir). Zero-initialize (or DAOS_ANCHOR_INIT) to start; do not
 *  change it between calls. */
typedef enum {
  DAOS_ANCHOR_TYPE_ZERO = 0,
  DAOS_ANCHOR_TYPE_HKEY = 1,
  DAOS_ANCHOR_TYPE_KEY = 2,
  DAOS_ANCHOR_TYPE_EOF = 3,
} daos_anchor_type_t;

#define DAOS_ANCHOR_BUF_MAX 104
typedef struct {
  uint16_t da_type;        /* daos_anchor_type_t */
  uint16_t da_shard;       /* internal */
  uint32_t da_flags;       /* internal */
  uint64_t da_sub_anchors; /* internal */
  uint8_t da_buf[DAOS_ANCHOR_BUF_MAX];
} daos_anchor_t;

#define DAOS_ANCHOR_INIT                                                                 \
  {                                                                                      \
    .da_type = DAOS_ANCHOR_TYPE_ZERO, .da_shard = 0, .da_flags = 0, .da_sub_anchors = 0, \
    .da_buf = {                                                                          \
      0                                                                                  \
    }                                                                                    \
  }

static inline int daos_anchor_init(daos_anchor_t *anchor, unsigned int opts) {
  (void)opts;
  memset(anchor, 0, sizeof(*anchor));
  return 0;
}
static inline void daos_anchor_fini(daos_anchor_t *anchor) { (void)anchor; }
/** True once an iteration has returned its last entry. */
static inline bool daos_anchor_is_eof(daos_anchor_t *anchor) {
  return anchor->da_type == DAOS_ANCHOR_TYPE_EOF;
}

/** What daos_cont_open / daos_cont_query report. edaos fills ci_uuid; it keeps no snapshots,
 *  open-handle counts or metadata times, so the other fields are 0. */
typedef struct {
  uuid_t ci_uuid;
  daos_epoch_t ci_lsnapshot;
  uint32_t ci_nhandles;
  uint32_t ci_nsnapshots;
  uint64_t ci_md_otime;
  uint64_t ci_md_mtime;
} daos_cont_info_t;

/** Completion event of a non-blocking call (see daos_event.h). ev_error holds the result of the
 *  operation once it completed: a negative DER code for daos_* calls, an errno value for dfs_*
 *  calls. ev_private is the library's. */
typedef struct daos_event {
  int ev_error;
  struct {
    uint64_t space[20];
  } ev_private;
  uint64_t ev_debug;
} daos_event_t;

/** daos_eq_poll timeouts (microseconds otherwise). */
#define DAOS_EQ_WAIT -1
#define DAOS_EQ_NOWAIT 0

typedef enum {
  DAOS_EQR_COMPLETED = 1,
  DAOS_EQR_WAITING = 2,
  DAOS_EQR_ALL = 3,
} daos_eq_query_t;

typedef enum {
  DAOS_EVS_READY,
  DAOS_EVS_RUNNING,
  DAOS_EVS_COMPLETED,
  DAOS_EVS_ABORTED,
} daos_ev_status_t;

/** True when `uuid` is a 36-character 8-4-4-4-12 hex UUID; `sensitive` > 0 requires upper
 *  case, < 0 lower case, 0 either. */
static inline bool daos_is_valid_uuid_string(const char *uuid, int sensitive) {
  for (int i = 0; i < DAOS_UUID_STR_SIZE - 1; i++) {
    const char c = uuid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      continue;
    }
    if (!isxdigit((unsigned char)c)) return false;
    if (sensitive > 0 && islower((unsigned char)c)) return false;
    if (sensitive < 0 && isupper((unsigned char)c)) return false;
  }
  return uuid[DAOS_UUID_STR_SIZE - 1] == '\0';
}

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_TYPES_H */

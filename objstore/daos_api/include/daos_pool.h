/* edaos DAOS API: pools.
 *
 * A pool is named by its label, its UUID or a path to its directory (edaos's pool is a
 * directory of engines; see objstore/src/vos/README.md). A name without '/' is looked up the
 * way the `edaos` tool does it: <home>/<name>, then a pool in <home> whose label or UUID is <name>,
 * then ./<name>, where <home> is the directory part of $EDAOS_POOL (else $DAOS_POOL) or "."
 * when that has none. The `sys` argument is accepted and ignored (one system: the MPI job).
 *
 * Connections are per process and independent (no collective call): every rank that calls
 * daos_pool_connect opens its own connection; the store's servers count them. Handles are
 * thread-safe. A handle shared with daos_pool_local2global / daos_pool_global2local becomes an
 * independent connection in the receiving process and must be disconnected there. */
#ifndef EDAOS_DAOS_POOL_H
#define EDAOS_DAOS_POOL_H

#include <daos_event.h>
#include <daos_prop.h>
#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Storage tiers: edaos reports its metadata (LMDB) as SCM and its data as NVMe. */
enum daos_media_type_t { DAOS_MEDIA_SCM = 0, DAOS_MEDIA_NVME, DAOS_MEDIA_MAX };

struct daos_space {
  uint64_t s_total[DAOS_MEDIA_MAX];
  uint64_t s_free[DAOS_MEDIA_MAX];
};

struct daos_pool_space {
  struct daos_space ps_space;           /* over the up engines */
  uint64_t ps_free_min[DAOS_MEDIA_MAX]; /* per target */
  uint64_t ps_free_max[DAOS_MEDIA_MAX];
  uint64_t ps_free_mean[DAOS_MEDIA_MAX];
  uint32_t ps_ntargets; /* up targets */
  uint32_t ps_padding;
};

enum daos_rebuild_state_t { DRS_IN_PROGRESS = 0, DRS_NOT_STARTED = 1, DRS_COMPLETED = 2 };
enum daos_rebuild_status_flag { DAOS_RSF_DEGRADED = (1 << 0) };

/** edaos never rebuilds: rs_state is DRS_NOT_STARTED and rs_flags has DAOS_RSF_DEGRADED when
 *  an engine is down. */
struct daos_rebuild_status {
  uint32_t rs_version;
  uint32_t rs_seconds;
  int32_t rs_errno;
  union {
    int32_t rs_state;
    int32_t rs_done;
  };
  uint16_t rs_max_supported_layout_ver;
  uint8_t rs_flags;
  uint8_t rs_reserved_;
  int32_t rs_fail_rank;
  uint64_t rs_toberb_obj_nr;
  uint64_t rs_obj_nr;
  uint64_t rs_rec_nr;
  uint64_t rs_size;
};

/** pi_bits: which optional parts of daos_pool_info_t to fill. */
enum daos_pool_info_bit {
  DPI_SPACE = 1ULL << 0,
  DPI_REBUILD_STATUS = 1ULL << 1,
  DPI_ENGINES_ENABLED = 1ULL << 2,
  DPI_ENGINES_DISABLED = 1ULL << 3,
  DPI_ALL = -1,
};

/** Pool information. pi_ntargets: targets of all engines; pi_nnodes: engines (edaos's fault
 *  domain, DAOS's rank); pi_ndisabled: targets of down engines; pi_leader: 0. */
typedef struct {
  uuid_t pi_uuid;
  uint32_t pi_ntargets;
  uint32_t pi_nnodes;
  uint32_t pi_ndisabled;
  uint32_t pi_map_ver;
  uint32_t pi_leader;
  uint64_t pi_bits;
  struct daos_pool_space pi_space;
  struct daos_rebuild_status pi_rebuild_st;
} daos_pool_info_t;

struct daos_pool_cont_info {
  uuid_t pci_uuid;
  char pci_label[DAOS_PROP_LABEL_MAX_LEN + 1];
};

/** Connects to pool `pool` (label, UUID or path, see above). flags: DAOS_PC_RO, DAOS_PC_RW or
 *  DAOS_PC_EX (exactly one; edaos serves every connection read-write and does not enforce
 *  exclusivity). `info` (optional) is filled as by daos_pool_query with its pi_bits.
 *  Returns 0, -DER_INVAL (NULL pool or poh, bad flags), -DER_NONEXIST (no such pool),
 *  -DER_BUSY (the pool is served by another job), -DER_UNINIT (daos_init not called). */
int daos_pool_connect(const char *pool, const char *sys, unsigned int flags, daos_handle_t *poh,
                      daos_pool_info_t *info, daos_event_t *ev);

/** Disconnects; container handles opened through it keep working until closed (edaos keeps
 *  the connection alive for them). -DER_NO_HDL for an unknown or closed handle. */
int daos_pool_disconnect(daos_handle_t poh, daos_event_t *ev);

/** Serializes a pool handle for another process. With glob->iov_buf NULL, sets
 *  glob->iov_buf_len to the size needed and returns 0. -DER_NO_HDL, -DER_INVAL (NULL glob),
 *  -DER_TRUNC (buffer too short; iov_buf_len gets the size needed). No communication. */
int daos_pool_local2global(daos_handle_t poh, d_iov_t *glob);

/** A local connection from a serialized handle (the receiving process connects the same pool
 *  by its path and checks its UUID). -DER_INVAL for a malformed buffer, -DER_NONEXIST when the
 *  pool is gone or another pool is at its path. */
int daos_pool_global2local(d_iov_t glob, daos_handle_t *poh);

/** Pool information (see daos_pool_info_t; info->pi_bits selects DPI_SPACE and
 *  DPI_REBUILD_STATUS). ranks: when non-NULL, *ranks gets a new list of the engines that are
 *  down (with DPI_ENGINES_ENABLED in info->pi_bits: the up ones); free it with
 *  d_rank_list_free(). pool_prop: only DAOS_PROP_PO_LABEL can be asked for (other types:
 *  -DER_NOTSUPPORTED); NULL dpp_entries asks for every supported one. */
int daos_pool_query(daos_handle_t poh, d_rank_list_t **ranks, daos_pool_info_t *info,
                    daos_prop_t *pool_prop, daos_event_t *ev);

/** Lists the containers: *ncont in = capacity of `cbuf`, out = number of containers. cbuf
 *  NULL only counts; a cbuf too small gets the first *ncont-in entries and -DER_TRUNC. */
int daos_pool_list_cont(daos_handle_t poh, daos_size_t *ncont, struct daos_pool_cont_info *cbuf,
                        daos_event_t *ev);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_POOL_H */

/* edaos object store: C API.
 *
 * Opaque handles, one status type (edaos_status_t, see status.h), out-parameters last, no
 * exceptions. Every call returns EDAOS_OK or a negative code; edaos_os_last_error() gives the
 * message of the calling thread's last failure ("pool in use by host:pid", "object class
 * EC_16P3GX needs 19 engines (fault domains), pool has 4", ...).
 *
 * All calls are blocking. Unless a call says "collective", any rank may make it alone.
 * Handles are thread-safe; closing a handle while another thread uses it is not. */
#ifndef EDAOS_OBJSTORE_H
#define EDAOS_OBJSTORE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "edaos/objstore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edaos_os_pool edaos_os_pool_t;   /* connected pool */
typedef struct edaos_os_cont edaos_os_cont_t;   /* open container */
typedef struct edaos_os_array edaos_os_array_t; /* open byte-array object */
typedef struct edaos_os_kv edaos_os_kv_t;       /* open key-value object */

typedef struct {
  uint64_t hi, lo;
} edaos_oid_t;

typedef struct {
  void *iov_base;
  size_t iov_len;
} edaos_iov_t;

typedef enum { EDAOS_OTYPE_KV = 0, EDAOS_OTYPE_ARRAY = 1, EDAOS_OTYPE_FLAT_KV = 2 } edaos_otype_t;

typedef struct {
  uint32_t ia_struct_size;     /* caller sets sizeof(edaos_os_init_args_t) */
  MPI_Comm ia_comm;            /* every rank of the job: clients and servers */
  const char *ia_server_ranks; /* cb_config_list grammar; NULL: $EDAOS_SERVER_RANKS or "*:1" */
} edaos_os_init_args_t;

/** Collective over args->ia_comm. Starts the server progress thread on server ranks. Needs
 *  MPI_THREAD_MULTIPLE. Returns EDAOS_OK (also when already initialized), EDAOS_INVAL,
 *  EDAOS_NOTSUP (thread level too low), EDAOS_NOTINIT (MPI not initialized). */
EDAOS_API int edaos_os_init(const edaos_os_init_args_t *args);
/** edaos_os_init with defaults over `comm`. */
EDAOS_API int edaos_init(MPI_Comm comm);
/** Collective over init's communicator: waits for every rank, stops servers, releases locks. */
EDAOS_API int edaos_finalize(void);
EDAOS_API int edaos_initialized(void);
/** Message of the calling thread's last failed call (empty string if none). */
EDAOS_API const char *edaos_os_last_error(void);

/** Collective over `comm`. engines/targets 0: defaults; size 0: no quota. EDAOS_EXIST if a
 *  pool is already at `path`. */
EDAOS_API int edaos_os_pool_create(const char *path, const char *label, uint32_t engines,
                                   uint32_t targets, uint64_t size, MPI_Comm comm);
/** Collective over `comm`. path: a pool directory (edaos_os_pool_resolve turns a label into
 *  one); NULL: the default pool ($EDAOS_POOL, $DAOS_POOL or ./edaos-pool, resolved).
 *  EDAOS_NONEXIST (no pool), EDAOS_BUSY (served by another job), EDAOS_FORMAT (damaged pool,
 *  or a POOL file of another pool), EDAOS_IO (an engine fails to open with a transient error;
 *  the message names it). */
EDAOS_API int edaos_os_pool_connect(const char *path, MPI_Comm comm, edaos_os_pool_t **pool);
/** Collective over `comm`: the process's shared connection to the pool directory `path` (NULL:
 *  the default pool), the one the MPI-IO driver and the HDF5 connector use; create != 0 creates
 *  the pool first when there is none (only in an empty or absent directory). */
EDAOS_API int edaos_os_pool_connect_shared(const char *path, MPI_Comm comm, int create,
                                           edaos_os_pool_t **pool);
/** Frees the handle. For a handle of edaos_os_pool_connect: collective over the connect
 *  communicator, disconnects. For a shared handle: not collective, only drops this reference
 *  (the connection stays until edaos_finalize). */
EDAOS_API int edaos_os_pool_disconnect(edaos_os_pool_t *pool);

/* ---- names: the one grammar of pool specs and daos: names (objstore/README.md, "Names") -- */
#define EDAOS_NAME_PATH_MAX 4096
#define EDAOS_NAME_CONT_MAX 128
typedef struct {
  char on_pool[EDAOS_NAME_PATH_MAX]; /* pool directory */
  char on_cont[EDAOS_NAME_CONT_MAX]; /* container label or UUID */
  char on_path[EDAOS_NAME_PATH_MAX]; /* absolute path in the container; "" when none */
  int on_pool_exists;                /* 1 when a pool is at on_pool */
} edaos_os_name_t;
/** Resolves a pool spec to its directory (NUL-terminated into buf of *len bytes): a path
 *  (contains '/', or "." / "..") is the directory; a bare word is a pool label, UUID or
 *  directory name looked up in the pool home. NULL: the default pool. EDAOS_TOOBIG when buf is
 *  short (*len gets the size needed, NUL included). Not collective, needs no store. */
EDAOS_API int edaos_os_pool_resolve(const char *spec, char *buf, size_t *len);
/** Parses a daos: name (daos:/PATH, daos:PATH, daos://POOL/CONT[/PATH]) into *out.
 *  EDAOS_INVAL (bad name, no container, DAOS_CONT and DAOS_CONTAINER differ), EDAOS_FORMAT
 *  (the path crosses a damaged pool), EDAOS_NONEXIST (no pool along a path-form POOL),
 *  EDAOS_NAMETOOLONG (a part does not fit its field). Not collective, needs no store. */
EDAOS_API int edaos_os_name_parse(const char *name, edaos_os_name_t *out);

typedef struct {
  char pi_uuid[37];
  uint32_t pi_engines, pi_engines_down, pi_targets, pi_targets_disabled;
  uint64_t pi_total, pi_free;
} edaos_os_pool_info_t;
EDAOS_API int edaos_os_pool_query(edaos_os_pool_t *pool, edaos_os_pool_info_t *info);

/** props: "key:value,..." as `daos container create --properties` (NULL: defaults).
 *  EDAOS_EXIST (label taken), EDAOS_INVAL (bad property), EDAOS_NOENGINE (class too wide). */
EDAOS_API int edaos_os_cont_create(edaos_os_pool_t *pool, const char *label, const char *props,
                                   edaos_os_cont_t **cont);
EDAOS_API int edaos_os_cont_open(edaos_os_pool_t *pool, const char *label_or_uuid,
                                 edaos_os_cont_t **cont);
EDAOS_API int edaos_os_cont_close(edaos_os_cont_t *cont);
EDAOS_API int edaos_os_cont_destroy(edaos_os_pool_t *pool, const char *label_or_uuid);
EDAOS_API int edaos_os_cont_set_prop(edaos_os_cont_t *cont, const char *key, const char *value);
/** Writes the property's value as `daos container get-prop` prints it into buf (NUL-ended).
 *  EDAOS_TOOBIG if it does not fit (*len gets the size needed, NUL included). */
EDAOS_API int edaos_os_cont_get_prop(edaos_os_cont_t *cont, const char *key, char *buf,
                                     size_t *len);
/** Durability barrier for every write acknowledged before the call. */
EDAOS_API int edaos_os_cont_sync(edaos_os_cont_t *cont);

/** New object ID. oclass NULL: the container's default for the type. */
EDAOS_API int edaos_os_oid_alloc(edaos_os_cont_t *cont, const char *oclass, edaos_otype_t type,
                                 edaos_oid_t *oid);

/** chunk_size 0: the container's. */
EDAOS_API int edaos_os_array_open(edaos_os_cont_t *cont, edaos_oid_t oid, uint64_t chunk_size,
                                  edaos_os_array_t **arr);
EDAOS_API int edaos_os_array_close(edaos_os_array_t *arr);
EDAOS_API int edaos_os_array_write(edaos_os_array_t *arr, uint64_t off, const edaos_iov_t *iov,
                                   uint32_t n_iov);
EDAOS_API int edaos_os_array_read(edaos_os_array_t *arr, uint64_t off, const edaos_iov_t *iov,
                                  uint32_t n_iov);
EDAOS_API int edaos_os_array_punch(edaos_os_array_t *arr, uint64_t off, uint64_t len);
EDAOS_API int edaos_os_array_get_size(edaos_os_array_t *arr, uint64_t *size);
EDAOS_API int edaos_os_array_set_size(edaos_os_array_t *arr, uint64_t size);
/** Removes the object's data and closes the handle. */
EDAOS_API int edaos_os_array_destroy(edaos_os_array_t *arr);

EDAOS_API int edaos_os_kv_open(edaos_os_cont_t *cont, edaos_oid_t oid, edaos_os_kv_t **kv);
EDAOS_API int edaos_os_kv_close(edaos_os_kv_t *kv);
/** flags: 1 = insert only (EDAOS_EXIST if present), 2 = update only (EDAOS_NONEXIST). */
EDAOS_API int edaos_os_kv_put(edaos_os_kv_t *kv, const char *key, const void *val, size_t len,
                              uint32_t flags);
/** *len: in = buffer size, out = value size. EDAOS_TOOBIG when the buffer is short (nothing
 *  copied, *len tells the size); buf NULL just queries the size. EDAOS_NONEXIST if absent. */
EDAOS_API int edaos_os_kv_get(edaos_os_kv_t *kv, const char *key, void *buf, size_t *len);
EDAOS_API int edaos_os_kv_remove(edaos_os_kv_t *kv, const char *key);

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_H */

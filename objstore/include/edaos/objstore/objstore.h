/* edaos object store: C API, a thin shell over the C++ API (objstore.hpp), whose comments hold
 * the full semantics of each call.
 *
 * Opaque handles, one status type (edaos_status_t, see status.h), out-parameters last, no
 * exceptions. Every call returns EDAOS_OK or a negative code; edaos_os_last_error() gives the
 * message of the calling thread's last failure ("pool in use by host:pid", "object class
 * EC_16P3GX needs 19 engines (fault domains), pool has 4", ...).
 *
 * Rules for every call below unless its comment says otherwise:
 *  - Blocking. Not collective: any rank may make it alone. Calls marked "collective" must be
 *    made by every rank of the named communicator, in the same order; all ranks return the
 *    same status.
 *  - A NULL handle or a NULL pointer argument the call needs is EDAOS_INVAL ("<arg> is
 *    NULL"). Running out of memory is EDAOS_NOMEM; an unexpected internal exception is
 *    EDAOS_INTERNAL (logged). No exception ever leaves a call.
 *  - The call records its outcome for edaos_os_last_error(): the message on failure, "" on
 *    success (the *_close calls, edaos_initialized and edaos_os_last_error record nothing).
 *  - Strings and buffers passed in are read during the call only (copied when kept); none is
 *    retained. A handle returned through an out-parameter belongs to the caller, who frees it
 *    with the matching close / disconnect / destroy call; *out is set only on success.
 *  - Handles are thread-safe: several threads may use one handle at once. Closing a handle
 *    while another thread uses it is not allowed. A container, array or KV handle must be
 *    closed before edaos_finalize; it keeps its pool connection alive until then.
 *  - Before edaos_init (or after edaos_finalize) the pool calls return EDAOS_NOTINIT. */
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

/* 128-bit object ID; the high 32 bits of `hi` carry the class and type (oclass.hpp). */
typedef struct {
  uint64_t hi, lo;
} edaos_oid_t;

/* A piece of caller memory, not owned by edaos; only read or written during the call. */
typedef struct {
  void *iov_base;
  size_t iov_len;
} edaos_iov_t;

/* Object types (the values of ObjType, stored in object IDs). */
typedef enum { EDAOS_OTYPE_KV = 0, EDAOS_OTYPE_ARRAY = 1, EDAOS_OTYPE_FLAT_KV = 2 } edaos_otype_t;

typedef struct {
  uint32_t ia_struct_size;     /* caller sets sizeof(edaos_os_init_args_t) */
  MPI_Comm ia_comm;            /* every rank of the job: clients and servers */
  const char *ia_server_ranks; /* cb_config_list grammar; NULL: $EDAOS_SERVER_RANKS or "*:1" */
} edaos_os_init_args_t;

/** Starts the store in this process. Collective over args->ia_comm (every rank of the job,
 *  servers included); args is read during the call only. Server ranks are chosen from
 *  ia_server_ranks over the processor names of all ranks; a server rank starts its progress
 *  thread and keeps running the application. Not thread-safe against a concurrent
 *  edaos_finalize. Returns EDAOS_OK (also, at once and without communicating, when this process
 *  is already initialized), EDAOS_INVAL (ia_struct_size too small, a malformed server list or
 *  one that selects no rank), EDAOS_NOTSUP (MPI not at MPI_THREAD_MULTIPLE), EDAOS_NOTINIT (MPI
 *  not initialized). */
EDAOS_API int edaos_os_init(const edaos_os_init_args_t *args);
/** edaos_os_init with defaults over `comm` (servers from $EDAOS_SERVER_RANKS, else "*:1"). */
EDAOS_API int edaos_init(MPI_Comm comm);
/** Stops the store. Collective over init's communicator: drops the shared pool connections,
 *  waits until every rank is done, stops the servers (releasing their pool locks). Handles
 *  still open become unusable. EDAOS_OK, also when not initialized (then not collective). */
EDAOS_API int edaos_finalize(void);
/** 1 between a successful init and finalize, else 0. Thread-safe. */
EDAOS_API int edaos_initialized(void);
/** Message of the calling thread's last recorded call ("" after a success or when none). The
 *  string belongs to the library and stays valid until this thread's next edaos call. */
EDAOS_API const char *edaos_os_last_error(void);

/** Creates a pool in directory `path` (NULL: the default pool directory), which must be absent
 *  or empty. Collective over `comm` (rank 0 does the work, every rank returns its status).
 *  label NULL or "": the last path component. engines 0: servers x $EDAOS_ENGINES_PER_SERVER
 *  (8); targets 0: $EDAOS_TARGETS_PER_ENGINE (4); size 0: no quota (else at least 1 MiB per
 *  engine). Racing creators (any process or job): exactly one creates, the others get
 *  EDAOS_EXIST. EDAOS_EXIST (a pool is there), EDAOS_NOTEMPTY (the directory holds other
 *  things), EDAOS_FORMAT (a damaged pool, left untouched), EDAOS_INVAL (bad sizes),
 *  EDAOS_BUSY (another creator did not finish in time), EDAOS_IO / EDAOS_NOSPACE (file
 *  system errors, naming the file). */
EDAOS_API int edaos_os_pool_create(const char *path, const char *label, uint32_t engines,
                                   uint32_t targets, uint64_t size, MPI_Comm comm);
/** Connects this job to a pool (Pool::connect): the lead server takes the pool lock, every
 *  server opens the engines it hosts. Collective over `comm`; every rank returns the same
 *  status. path: a pool directory (edaos_os_pool_resolve turns a label into one); NULL: the
 *  default pool ($EDAOS_POOL, $DAOS_POOL or ./edaos-pool, resolved). *pool: a new handle of
 *  this rank, freed by edaos_os_pool_disconnect. EDAOS_NONEXIST (no pool), EDAOS_BUSY (served
 *  by another job; nothing stays locked), EDAOS_FORMAT (damaged pool, or a POOL file of another
 *  pool), EDAOS_IO and the like (an engine fails to open with a transient error for ~2 s; the
 *  message names it). */
EDAOS_API int edaos_os_pool_connect(const char *path, MPI_Comm comm, edaos_os_pool_t **pool);
/** Collective over `comm`: the process's shared connection to the pool directory `path` (NULL:
 *  the default pool), the one the MPI-IO driver and the HDF5 connector use (Pool::shared);
 *  create != 0 creates the pool first when there is none (only in an empty or absent
 *  directory). *pool: a new handle on the shared connection, freed by
 *  edaos_os_pool_disconnect (which leaves the connection up). Errors as
 *  edaos_os_pool_connect and, with create, edaos_os_pool_create (EDAOS_EXIST excepted). */
EDAOS_API int edaos_os_pool_connect_shared(const char *path, MPI_Comm comm, int create,
                                           edaos_os_pool_t **pool);
/** Frees the handle, also when it fails. For a handle of edaos_os_pool_connect: collective
 *  over the connect communicator, disconnects (the servers close the pool; the status of the
 *  lead's close is returned everywhere). For a shared handle: not collective, only drops this
 *  reference (the connection stays until edaos_finalize). Container handles opened through it
 *  must be closed first. */
EDAOS_API int edaos_os_pool_disconnect(edaos_os_pool_t *pool);

/* ---- names: the one grammar of pool specs and daos: names (objstore/README.md, "Names") ----
 * Both calls read only the file system: not collective, no store needed, thread-safe (they read
 * the environment: EDAOS_POOL, DAOS_POOL, EDAOS_CONT, DAOS_CONT, DAOS_CONTAINER). */
#define EDAOS_NAME_PATH_MAX 4096
#define EDAOS_NAME_CONT_MAX 128
typedef struct {
  char on_pool[EDAOS_NAME_PATH_MAX]; /* pool directory */
  char on_cont[EDAOS_NAME_CONT_MAX]; /* container label or UUID */
  char on_path[EDAOS_NAME_PATH_MAX]; /* absolute path in the container; "" when none */
  int on_pool_exists;                /* 1 when a pool is at on_pool */
} edaos_os_name_t;
/** Resolves a pool spec to its directory (NUL-terminated into buf of *len bytes; *len gets the
 *  bytes written, NUL included): a path (contains '/', or "." / "..") is the directory; a bare
 *  word is a pool label, UUID or directory name looked up in the pool home (resolve_pool in
 *  names.hpp). NULL: the default pool. Whether a pool is there is not checked. buf NULL only
 *  sets *len to the size needed, NUL included (EDAOS_OK), as the other size-returning calls;
 *  EDAOS_TOOBIG when buf is short (*len gets the size needed; buf untouched), EDAOS_INVAL for
 *  an empty spec or a NULL len. */
EDAOS_API int edaos_os_pool_resolve(const char *spec, char *buf, size_t *len);
/** Parses a daos: name (daos:/PATH, daos:PATH, daos://POOL/CONT[/PATH]) into the caller's
 *  *out (parse_daos_name in names.hpp). EDAOS_INVAL (bad name, no container, DAOS_CONT and
 *  DAOS_CONTAINER differ), EDAOS_FORMAT (the path crosses a damaged pool), EDAOS_NOTDIR (a file
 *  along a path-form POOL), EDAOS_NONEXIST (no pool along a path-form POOL), EDAOS_NAMETOOLONG
 *  (a part does not fit its field; *out is then partly written). */
EDAOS_API int edaos_os_name_parse(const char *name, edaos_os_name_t *out);

typedef struct {
  char pi_uuid[37]; /* NUL-terminated lower-case UUID */
  uint32_t pi_engines, pi_engines_down, pi_targets, pi_targets_disabled;
  uint64_t pi_total, pi_free; /* bytes over the up engines */
} edaos_os_pool_info_t;
/** Fills the caller's *info (Pool::query): engine counts as this connection sees them, space as
 *  the servers report it. Asks every server. Errors of any server (EDAOS_UNREACH, ...). */
EDAOS_API int edaos_os_pool_query(edaos_os_pool_t *pool, edaos_os_pool_info_t *info);

/* ---- containers (Pool::cont_* and Container in objstore.hpp) --------------------------- */

/** Creates container `label` (1..127 characters, not a UUID) with properties `props`:
 *  "key:value,..." as `daos container create --properties` (NULL or "": defaults; props.hpp
 *  lists the keys). cont NULL: the container is created and not opened; else *cont gets an
 *  open handle. EDAOS_EXIST (label taken), EDAOS_INVAL (bad label or property, or a class that
 *  does not satisfy rd_fac), EDAOS_NOENGINE (a class too wide for the pool). */
EDAOS_API int edaos_os_cont_create(edaos_os_pool_t *pool, const char *label, const char *props,
                                   edaos_os_cont_t **cont);
/** Opens a container by label or UUID string. EDAOS_NONEXIST (no such container, or one whose
 *  destroy did not finish: the message says to destroy it again), EDAOS_FORMAT (a corrupt
 *  property record). The handle keeps the properties read at open (see set_prop/get_prop). */
EDAOS_API int edaos_os_cont_open(edaos_os_pool_t *pool, const char *label_or_uuid,
                                 edaos_os_cont_t **cont);
/** Frees the handle (NULL is a no-op); always EDAOS_OK. Arrays, KVs and namespaces opened from
 *  it keep their own reference to the container and stay usable until closed. */
EDAOS_API int edaos_os_cont_close(edaos_os_cont_t *cont);
/** Destroys a container by label or UUID, crash-safely (Pool::cont_destroy): mark, purge the
 *  data on every engine, remove the record. Close its handles first. EDAOS_NONEXIST
 *  (no such container), EDAOS_UNREACH (a hosting engine is down and not excluded: the container
 *  stays marked; destroy it again later to finish). */
EDAOS_API int edaos_os_cont_destroy(edaos_os_pool_t *pool, const char *label_or_uuid);
/** Sets one property (key and value as in props; read-only keys are EDAOS_INVAL), after
 *  re-reading the current ones; persisted by the pool service and kept in this handle.
 *  EDAOS_INVAL naming key and value, EDAOS_NOENGINE (class too wide), EDAOS_EXIST (label in
 *  use). Two processes setting properties of one container at once: the last write wins. */
EDAOS_API int edaos_os_cont_set_prop(edaos_os_cont_t *cont, const char *key, const char *value);
/** Writes the property's value as `daos container get-prop` prints it into buf (NUL-ended),
 *  from the properties this handle holds (no store access); *len: in = buffer size, out =
 *  bytes written or needed, NUL included. buf NULL: only *len is set (EDAOS_OK). EDAOS_TOOBIG
 *  if it does not fit (*len gets the size needed), EDAOS_INVAL for an unknown key. */
EDAOS_API int edaos_os_cont_get_prop(edaos_os_cont_t *cont, const char *key, char *buf,
                                     size_t *len);
/** Durability barrier: every write acknowledged (by any process) before the call is on disk
 *  when it returns. Covers every engine of the pool, not only this container's data. Errors of
 *  any server (EDAOS_IO naming the engine, EDAOS_UNREACH). */
EDAOS_API int edaos_os_cont_sync(edaos_os_cont_t *cont);

/** A new, never used object ID of class `oclass` and type `type`, from the container's
 *  allocator (one pool-service call). oclass NULL or "": the container's file_oclass (arrays)
 *  or dir_oclass (KVs), else its oclass, else default_oclass() for its rd_fac. The object
 *  itself is created by its first write. EDAOS_INVAL (unknown type, bad class name, a class
 *  that does not satisfy rd_fac), EDAOS_NOENGINE (class too wide for the pool), EDAOS_NOSPACE
 *  (the container's ID space is exhausted). */
EDAOS_API int edaos_os_oid_alloc(edaos_os_cont_t *cont, const char *oclass, edaos_otype_t type,
                                 edaos_oid_t *oid);

/* ---- byte arrays (Array in objstore.hpp) ------------------------------------------------ */

/** Opens byte array `oid` (it need not have data yet; no store access). chunk_size 0: the
 *  container's; every opener of one array must use the size it was written with. EDAOS_INVAL
 *  (oid is not an array, chunk size 0, EC class with ec_cell_sz 0), EDAOS_NOENGINE (the class
 *  no longer fits the pool map). */
EDAOS_API int edaos_os_array_open(edaos_os_cont_t *cont, edaos_oid_t oid, uint64_t chunk_size,
                                  edaos_os_array_t **arr);
/** Frees the handle (NULL is a no-op). The data stays. Returns the first error a write of
 *  this process to the array met after it returned (a pipelined direct write's commit; see
 *  Array::close), once; else EDAOS_OK. The handle is freed either way. */
EDAOS_API int edaos_os_array_close(edaos_os_array_t *arr);
/** Writes the iovecs' bytes back to back at `off`; OK only when every byte is stored, with the
 *  class's redundancy, on the engines that are up (a write that has to skip a lost engine
 *  first excludes it from the pool for good). The buffers are not copied (except to fill
 *  partial EC cells) and must not change during the call. EDAOS_DEGRADED (more engines of a
 *  group down than the class tolerates), EDAOS_UNREACH / EDAOS_IO / EDAOS_NOSPACE (an engine
 *  failed), EDAOS_CSUM (the engine found a checksum mismatch on receipt, srv_cksum on). */
EDAOS_API int edaos_os_array_write(edaos_os_array_t *arr, uint64_t off, const edaos_iov_t *iov,
                                   uint32_t n_iov);
/** Reads exactly the iovecs' bytes from `off` into them (unwritten bytes and bytes past the size
 *  read as zeros). Up to the class's tolerated failures are rebuilt from redundancy; a cell
 *  that fails its checksum is retried, rebuilt and repaired. EDAOS_DEGRADED (too many engines
 *  down or cells unusable: no wrong bytes are returned), EDAOS_UNREACH / EDAOS_IO. */
EDAOS_API int edaos_os_array_read(edaos_os_array_t *arr, uint64_t off, const edaos_iov_t *iov,
                                  uint32_t n_iov);
/** Deallocates [off, off+len): it reads as zeros afterwards; the size is unchanged. */
EDAOS_API int edaos_os_array_punch(edaos_os_array_t *arr, uint64_t off, uint64_t len);
/** One past the highest byte written or set by set_size, asked of the engines each time. */
EDAOS_API int edaos_os_array_get_size(edaos_os_array_t *arr, uint64_t *size);
/** Truncates (data beyond is dropped) or extends (reads as zeros) to exactly `size`. */
EDAOS_API int edaos_os_array_set_size(edaos_os_array_t *arr, uint64_t size);
/** Removes the object's data on every up engine and frees the handle, also when it fails. */
EDAOS_API int edaos_os_array_destroy(edaos_os_array_t *arr);

/* ---- key-value objects (KV in objstore.hpp; here one value per key: akey "") ------------- */

/** Opens KV object `oid` (any type but array; no store access). EDAOS_INVAL for an array OID,
 *  EDAOS_NOENGINE (the class no longer fits the pool map). */
EDAOS_API int edaos_os_kv_open(edaos_os_cont_t *cont, edaos_oid_t oid, edaos_os_kv_t **kv);
/** Frees the handle (NULL is a no-op); always EDAOS_OK. */
EDAOS_API int edaos_os_kv_close(edaos_os_kv_t *kv);
/** Stores `len` bytes of `val` (copied; val may be NULL when len is 0) under the NUL-terminated
 *  `key` (empty: EDAOS_INVAL; over about 1 MiB: EDAOS_NAMETOOLONG). flags: 0 = insert or
 *  replace, 1 = insert only (EDAOS_EXIST if present; of concurrent inserters exactly one wins),
 *  2 = update only (EDAOS_NONEXIST if absent). EDAOS_DEGRADED when every copy of the key is
 *  down. */
EDAOS_API int edaos_os_kv_put(edaos_os_kv_t *kv, const char *key, const void *val, size_t len,
                              uint32_t flags);
/** *len: in = buffer size, out = value size. EDAOS_TOOBIG when the buffer is short (nothing
 *  copied, *len tells the size); buf NULL just queries the size (EDAOS_OK). EDAOS_NONEXIST if
 *  absent, EDAOS_CSUM (stored checksum mismatch on every copy), EDAOS_DEGRADED (every copy
 *  down). */
EDAOS_API int edaos_os_kv_get(edaos_os_kv_t *kv, const char *key, void *buf, size_t *len);
/** Removes `key`. EDAOS_NONEXIST if absent; EDAOS_DEGRADED when every copy is down. */
EDAOS_API int edaos_os_kv_remove(edaos_os_kv_t *kv, const char *key);

/** Operations of edaos_os_kv_run. */
typedef enum {
  EDAOS_KV_OP_PUT = 0,
  EDAOS_KV_OP_GET = 1,
  EDAOS_KV_OP_REMOVE = 2
} edaos_kv_op_kind_t;
/** One operation of edaos_os_kv_run. */
typedef struct {
  int op;          /**< edaos_kv_op_kind_t */
  const char *key; /**< NUL-terminated; NULL or empty fails this operation (EDAOS_INVAL) */
  void *buf;       /**< put: the value (may be NULL when len is 0); get: where the value goes */
  size_t len;      /**< put: value size; get: in = buffer size, out = value size */
  uint32_t flags;  /**< put: as edaos_os_kv_put */
  int status;      /**< out: what edaos_os_kv_put / _get / _remove would have returned */
} edaos_os_kv_op_t;
/** The vector call (KV::run in objstore.hpp): the `n` operations of `ops` (puts, gets and
 *  removes of any keys, mixed), each with the semantics of its single call and its own
 *  `status` (one bad or missing key fails that operation alone). Their messages are all in
 *  flight at once: n operations cost about two round trips, not n. Operations on one key apply
 *  in array order; on different keys in no particular order. A get whose buffer is short gets
 *  EDAOS_TOOBIG with `len` set (nothing copied); buf NULL just queries the size. Returns
 *  EDAOS_OK when every operation succeeded, else the status of the first one that failed;
 *  EDAOS_INVAL (nothing done) for a NULL kv, or NULL ops with n > 0. */
EDAOS_API int edaos_os_kv_run(edaos_os_kv_t *kv, edaos_os_kv_op_t *ops, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_H */

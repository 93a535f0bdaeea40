/* edaos DAOS API: containers.
 *
 * A container is named by its label or its UUID string. Container handles are per process and
 * thread-safe; every call is independent (not collective). Properties: see daos_prop.h.
 *
 * Differences from DAOS (details in objstore/daos_api/README.md):
 *  - every edaos container has a label: daos_cont_create without DAOS_PROP_CO_LABEL gives it
 *    one ("container_<uuid>"), so open it by the UUID it returns or by that label;
 *  - open handles are not counted by the store, so daos_cont_destroy never reports -DER_BUSY
 *    (`force` is accepted) and ci_nhandles is 0;
 *  - no snapshots, epochs or ACL changes. */
#ifndef EDAOS_DAOS_CONT_H
#define EDAOS_DAOS_CONT_H

#include <daos_event.h>
#include <daos_prop.h>
#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Open modes (one of RO, RW, EX is required; EX is not enforced). */
#define DAOS_COO_RO (1U << 0)
#define DAOS_COO_RW (1U << 1)
#define DAOS_COO_EX (1U << 2)
#define DAOS_COO_FORCE (1U << 3)
#define DAOS_COO_RO_MDSTATS (1U << 4)
#define DAOS_COO_EVICT (1U << 5)
#define DAOS_COO_EVICT_ALL (1U << 6)
#define DAOS_COO_NBITS (8)
#define DAOS_COO_MASK ((1U << DAOS_COO_NBITS) - 1)
#define DAOS_COO_IO_BASE_MASK (DAOS_COO_RO | DAOS_COO_RW | DAOS_COO_EX)

/** Longest container hint string (dfs_attr_t::da_hints). */
#define DAOS_CONT_HINT_MAX_LEN 128

/** Serializes a container handle (see daos_pool_local2global for the buffer protocol). */
int daos_cont_local2global(daos_handle_t coh, d_iov_t *glob);
/** A local handle from a serialized one, opened through pool handle `poh` (one lookup in the
 *  pool service). -DER_NO_HDL (bad poh), -DER_INVAL (malformed), -DER_NONEXIST (destroyed). */
int daos_cont_global2local(daos_handle_t poh, d_iov_t glob, daos_handle_t *coh);

/** Creates a container with properties `cont_prop` (optional; the label comes from its
 *  DAOS_PROP_CO_LABEL entry, else one is generated). The layout type is UNKNOWN unless
 *  DAOS_PROP_CO_LAYOUT_TYPE says otherwise (as in DAOS: use dfs_cont_create for a POSIX
 *  container). `uuid` (optional) gets the new container's UUID.
 *  Returns 0, -DER_NO_HDL, -DER_INVAL (bad property value or label, class too wide for the
 *  pool or below the redundancy factor), -DER_NOTSUPPORTED (a DAOS property edaos does not
 *  implement), -DER_EXIST (label taken). */
int daos_cont_create(daos_handle_t poh, uuid_t *uuid, daos_prop_t *cont_prop, daos_event_t *ev);

/** daos_cont_create with label `label`, which supersedes a label entry in `cont_prop`. */
int daos_cont_create_with_label(daos_handle_t poh, const char *label, daos_prop_t *cont_prop,
                                uuid_t *uuid, daos_event_t *ev);

/** Opens container `cont` (label or UUID). flags must hold one of DAOS_COO_RO / _RW / _EX.
 *  `info` (optional) gets its UUID. Returns 0, -DER_NO_HDL (bad poh), -DER_INVAL (NULL cont
 *  or coh, bad flags), -DER_NONEXIST (no such container). */
int daos_cont_open(daos_handle_t poh, const char *cont, unsigned int flags, daos_handle_t *coh,
                   daos_cont_info_t *info, daos_event_t *ev);

/** Closes a container handle. -DER_NO_HDL for an unknown or already closed handle. */
int daos_cont_close(daos_handle_t coh, daos_event_t *ev);

/** Destroys container `cont` (label or UUID) and all its objects. -DER_NO_HDL, -DER_INVAL,
 *  -DER_NONEXIST. Handles other processes hold on it fail afterwards. */
int daos_cont_destroy(daos_handle_t poh, const char *cont, int force, daos_event_t *ev);

/** Container information and properties. cont_prop (optional): with dpp_entries NULL every
 *  property edaos keeps is returned in newly allocated entries (free them with
 *  daos_prop_free or daos_prop_fini); with entries, the types asked for are filled (strings
 *  are allocated), a type edaos does not keep gives -DER_NOTSUPPORTED. */
int daos_cont_query(daos_handle_t coh, daos_cont_info_t *info, daos_prop_t *cont_prop,
                    daos_event_t *ev);

/** Sets the given properties (label, status, checksum, redundancy, ... as for create; each is
 *  validated, all or nothing per entry in order). */
int daos_cont_set_prop(daos_handle_t coh, daos_prop_t *prop, daos_event_t *ev);

/** User attributes (stored by the pool service). daos_cont_list_attr: the names, each NUL
 *  terminated, into `buffer`; *size in = buffer size, out = bytes needed. */
int daos_cont_list_attr(daos_handle_t coh, char *buffer, size_t *size, daos_event_t *ev);
/** Reads `n` attributes; sizes[i] in = buffer size (0 or values NULL: query the size), out =
 *  value size. A missing name is -DER_NONEXIST. */
int daos_cont_get_attr(daos_handle_t coh, int n, char const *const names[], void *const values[],
                       size_t sizes[], daos_event_t *ev);
int daos_cont_set_attr(daos_handle_t coh, int n, char const *const names[],
                       void const *const values[], size_t const sizes[], daos_event_t *ev);
int daos_cont_del_attr(daos_handle_t coh, int n, char const *const names[], daos_event_t *ev);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_CONT_H */

/* edaos DAOS API: DFS, DAOS's POSIX-like namespace API (daos_fs.h), over edaos's namespace
 * (objstore/src/dfs/README.md).
 *
 * A container of layout POSIX holds one namespace: directories, regular files (byte arrays)
 * and symbolic links. Calls return 0 or a positive errno value. Every call is independent (not
 * collective); handles are thread-safe; nothing is cached across calls except what a handle was
 * opened with, so every process sees every other process's completed updates.
 *
 * Common errors (as DAOS returns them): EINVAL (NULL or unmounted dfs, NULL object, bad name or
 * flags, a file operation on a non-file), ENOENT (no such entry), EEXIST (O_CREAT|O_EXCL or
 * mkdir on an existing name), ENOTDIR (parent is not a directory), ENOTEMPTY (remove of a
 * non-empty directory without force), EPERM (read through an O_WRONLY handle, write through an
 * O_RDONLY one, O_CREAT on a read-only mount), ENOTSUP (O_APPEND), ENAMETOOLONG, ELOOP, ENOSPC,
 * EIO (data that cannot be read back from enough engines).
 *
 * The `ev` arguments: see daos_event.h (operations complete before the call returns; with an
 * event the result, an errno value, is in ev->ev_error and the call returns 0). */
#ifndef EDAOS_DAOS_FS_H
#define EDAOS_DAOS_FS_H

#include <daos_array.h>
#include <daos_cont.h>
#include <daos_obj.h>
#include <daos_obj_class.h>
#include <daos_pool.h>
#include <daos_types.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define DFS_MAX_NAME NAME_MAX
#define DFS_MAX_PATH PATH_MAX
#define DFS_MAX_FSIZE (~0ULL)
#define DFS_DEFAULT_CHUNK_SIZE 1048576
#define DAOS_SUPER_MAGIC 0xDA05AD10

typedef struct dfs_obj dfs_obj_t; /* open file, directory or symbolic link */
typedef struct dfs dfs_t;         /* mounted namespace */

/** Consistency modes of dfs_attr_t::da_mode. edaos has one mode (independent operations, no
 *  distributed transactions, like DAOS's relaxed mode) and accepts both values. */
#define DFS_BALANCED 4
#define DFS_RELAXED 0
#define DFS_RDONLY O_RDONLY
#define DFS_RDWR O_RDWR

/** Attributes of a new POSIX container (all optional: zero means the default).
 *  da_chunk_size: default chunk size of files (1 MiB); da_oclass_id: default class of every
 *  object; da_dir_oclass_id / da_file_oclass_id: of directories / files (0: da_oclass_id, else
 *  chosen from the redundancy factor and pool size as DAOS does); da_props: container
 *  properties (daos_prop.h); da_hints: "file:single,dir:max"-style hints, used when no class is
 *  given (see dfs_suggest_oclass); da_id: ignored. */
typedef struct {
  uint64_t da_id;
  daos_size_t da_chunk_size;
  daos_oclass_id_t da_oclass_id;
  daos_prop_t *da_props;
  uint32_t da_mode;
  daos_oclass_id_t da_dir_oclass_id;
  daos_oclass_id_t da_file_oclass_id;
  char da_hints[DAOS_CONT_HINT_MAX_LEN];
} dfs_attr_t;

/** Ranges of a file for dfs_readx / dfs_writex. */
typedef struct {
  daos_size_t iod_nr;
  daos_range_t *iod_rgs;
} dfs_iod_t;

/** dfs_obj_get_info: a file's class and chunk size; for a directory its own class and the
 *  class and chunk size it gives new children (0: none set, the container's apply). edaos has
 *  one child class for files and directories, reported in both fields. */
typedef struct {
  daos_oclass_id_t doi_oclass_id;
  daos_size_t doi_chunk_size;
  daos_oclass_id_t doi_dir_oclass_id;
  daos_oclass_id_t doi_file_oclass_id;
  daos_obj_id_t doi_oid;
} dfs_obj_info_t;

/* ---- library, connections, mounts ------------------------------------------------------ */

/** daos_init() plus the pool/container cache of dfs_connect. Reference counted. */
int dfs_init(void);
/** Closes the connections dfs_connect cached and calls daos_fini(). EINVAL without dfs_init. */
int dfs_fini(void);

/** Connects pool `pool` (label, UUID or path, see daos_pool.h), opens container `cont` (label
 *  or UUID; with O_CREAT in flags it is created as a POSIX container with `attr` if it does not
 *  exist) and mounts it. flags: O_RDONLY or O_RDWR, optionally | O_CREAT. Pool and container
 *  connections are shared by every dfs_connect of this process naming the same pool and
 *  container. Release with dfs_disconnect (not dfs_umount). EACCES without dfs_init, ENOENT
 *  (no pool, or no container without O_CREAT), EINVAL (not a POSIX container, bad flags). */
int dfs_connect(const char *pool, const char *sys, const char *cont, int flags, dfs_attr_t *attr,
                dfs_t **dfs);
/** Unmounts a dfs_connect mount and drops its pool and container references (EINVAL for a
 *  dfs_mount mount). */
int dfs_disconnect(dfs_t *dfs);
/** Destroys container `cont` of pool `pool` (dropping cached connections to it). */
int dfs_destroy(const char *pool, const char *sys, const char *cont, int force, daos_event_t *ev);

/** Creates a POSIX container and its namespace. `uuid` (required) gets its UUID; coh
 *  (optional) gets an open handle; dfs (optional, needs coh) gets a read-write mount.
 *  EEXIST when the label is taken. */
int dfs_cont_create(daos_handle_t poh, uuid_t *uuid, dfs_attr_t *attr, daos_handle_t *coh,
                    dfs_t **dfs);
/** dfs_cont_create with label `label` (required); uuid is optional here. */
int dfs_cont_create_with_label(daos_handle_t poh, const char *label, dfs_attr_t *attr, uuid_t *uuid,
                               daos_handle_t *coh, dfs_t **dfs);

/** Mounts the namespace of an open container (the first read-write mount of a new container
 *  creates its root). flags: O_RDONLY or O_RDWR. The pool and container handles must stay
 *  open until dfs_umount. EINVAL (not a POSIX container, bad handle), ENOENT (O_RDONLY and no
 *  namespace yet). */
int dfs_mount(daos_handle_t poh, daos_handle_t coh, int flags, dfs_t **dfs);
/** Unmounts a dfs_mount / dfs_global2local mount. EBUSY while dfs_pool_get/dfs_cont_get
 *  references are held. Handles opened through it must be released before. */
int dfs_umount(dfs_t *dfs);

/** The pool / container handle of a mount, with a reference released by the _put call. */
int dfs_pool_get(dfs_t *dfs, daos_handle_t *poh);
int dfs_pool_put(dfs_t *dfs, daos_handle_t poh);
int dfs_cont_get(dfs_t *dfs, daos_handle_t *coh);
int dfs_cont_put(dfs_t *dfs, daos_handle_t coh);

/** The container's DFS attributes: chunk size, default classes, mode (DFS_RELAXED). */
int dfs_query(dfs_t *dfs, dfs_attr_t *attr);

/** Serializes a mount for another process (buffer protocol as daos_pool_local2global; a short
 *  buffer is ENOBUFS). dfs_global2local mounts it again over the receiving process's own
 *  pool and container handles of the same container (flags 0: the serialized access mode). */
int dfs_local2global(dfs_t *dfs, d_iov_t *glob);
int dfs_global2local(daos_handle_t poh, daos_handle_t coh, int flags, d_iov_t glob, dfs_t **dfs);
/** Same, carrying the pool and container too: the result is released with dfs_disconnect. */
int dfs_local2global_all(dfs_t *dfs, d_iov_t *glob);
int dfs_global2local_all(int flags, d_iov_t glob, dfs_t **dfs);

/** Sets (NULL: clears) an absolute prefix that dfs_lookup strips from the paths it gets; a
 *  path outside the prefix is EINVAL. */
int dfs_set_prefix(dfs_t *dfs, const char *prefix);

/* ---- lookup, open, release ------------------------------------------------------------- */

/** Opens the entry at absolute `path` (symbolic links followed, also the last component unless
 *  flags has O_NOFOLLOW). flags: O_RDONLY, O_WRONLY or O_RDWR (| O_NOFOLLOW). mode and stbuf
 *  (optional) get the entry's mode and stat. Release with dfs_release. */
int dfs_lookup(dfs_t *dfs, const char *path, int flags, dfs_obj_t **obj, mode_t *mode,
               struct stat *stbuf);
/** Opens entry `name` of directory `parent` (NULL: the root). A symbolic link is not followed:
 *  its handle is returned (dfs_get_symlink_value reads it). */
int dfs_lookup_rel(dfs_t *dfs, dfs_obj_t *parent, const char *name, int flags, dfs_obj_t **obj,
                   mode_t *mode, struct stat *stbuf);

/** Suggests a class for hint "file:single|max" or "dir[ectory]:single|max": single = one
 *  group, max = as many as the pool allows, protected as the redundancy factor requires. */
int dfs_suggest_oclass(dfs_t *dfs, const char *hint, daos_oclass_id_t *cid);

/** Opens or creates `name` in `parent` (NULL: the root). mode's type selects a regular file
 *  (S_IFREG), a directory (S_IFDIR) or a symbolic link (S_IFLNK, target `value`, created only:
 *  O_CREAT is required and an existing name is EEXIST). flags: O_RDONLY / O_WRONLY / O_RDWR,
 *  O_CREAT, O_EXCL, O_TRUNC. cid: class of a new object (0: the parent's, then the
 *  container's); chunk_size: of a new file (0: likewise). An existing entry of another type
 *  is EINVAL (files) or ENOTDIR (directories). */
int dfs_open(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, int flags,
             daos_oclass_id_t cid, daos_size_t chunk_size, const char *value, dfs_obj_t **obj);
/** A second handle of the same object, without store access. */
int dfs_dup(dfs_t *dfs, dfs_obj_t *obj, int flags, dfs_obj_t **new_obj);
/** Serializes an open file or directory handle (ENOBUFS when the buffer is short) for
 *  dfs_obj_global2local in another process (flags 0: the serialized access mode). A symbolic
 *  link handle cannot be shared (EINVAL). */
int dfs_obj_local2global(dfs_t *dfs, dfs_obj_t *obj, d_iov_t *glob);
int dfs_obj_global2local(dfs_t *dfs, int flags, d_iov_t glob, dfs_obj_t **obj);
/** Releases a handle (a file written through it gets its mtime recorded). */
int dfs_release(dfs_obj_t *obj);

/* ---- file I/O -------------------------------------------------------------------------- */

/** Reads into the scatter-gather list from `off`, up to the end of the file; *read_size gets
 *  the bytes read (short at end of file). */
int dfs_read(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_size_t *read_size,
             daos_event_t *ev);
/** Reads the ranges of `iod` (in order) into `sgl`; bytes past the end of the file are not
 *  counted in *read_size (holes inside the file read as zeros). */
int dfs_readx(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_size_t *read_size,
              daos_event_t *ev);
/** Writes the whole scatter-gather list at `off`; 0 only when every byte is stored. */
int dfs_write(dfs_t *dfs, dfs_obj_t *obj, d_sg_list_t *sgl, daos_off_t off, daos_event_t *ev);
/** Writes `sgl` to the ranges of `iod` (the ranges' lengths must add up to the list's). */
int dfs_writex(dfs_t *dfs, dfs_obj_t *obj, dfs_iod_t *iod, d_sg_list_t *sgl, daos_event_t *ev);
int dfs_get_size(dfs_t *dfs, dfs_obj_t *obj, daos_size_t *size);
/** Deallocates [offset, offset+len) (reads as zeros, size unchanged); len DFS_MAX_FSIZE
 *  truncates or extends the file to `offset`. */
int dfs_punch(dfs_t *dfs, dfs_obj_t *obj, daos_off_t offset, daos_size_t len);
/** Durability barrier: every write acknowledged before is on disk when it returns. */
int dfs_sync(dfs_t *dfs);

/* ---- directories ----------------------------------------------------------------------- */

/** Lists up to *nr entries of directory `obj` from `anchor` (zeroed to start) into `dirs`
 *  (d_name, d_type and d_ino set); *nr gets the count. daos_anchor_is_eof() tells the end.
 *  Entries come in byte order of their names. */
int dfs_readdir(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr,
                struct dirent *dirs);
/** dfs_readdir plus the stat of every entry in `stbufs`. */
int dfs_readdirplus(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr,
                    struct dirent *dirs, struct stat *stbufs);
typedef int (*dfs_filler_cb_t)(dfs_t *dfs, dfs_obj_t *obj, const char name[], void *arg);
/** Calls `op` (if set) on up to *nr entry names; stops early (keeping the anchor on the entry
 *  not delivered) when the names would exceed `size` bytes or `op` returns non-zero (that value
 *  is returned). */
int dfs_iterate(dfs_t *dfs, dfs_obj_t *obj, daos_anchor_t *anchor, uint32_t *nr, size_t size,
                dfs_filler_cb_t op, void *arg);
/** Creates directory `name` in `parent` with permission bits `mode` and class `cid` (0:
 *  inherited). EEXIST if the name exists. */
int dfs_mkdir(dfs_t *dfs, dfs_obj_t *parent, const char *name, mode_t mode, daos_oclass_id_t cid);
/** Removes entry `name` (a file, a symbolic link, or a directory: empty, or any with force).
 *  `oid` (optional) gets the removed object's ID. */
int dfs_remove(dfs_t *dfs, dfs_obj_t *parent, const char *name, bool force, daos_obj_id_t *oid);
/** Renames, replacing an existing target as rename(2) does. `oid` (optional) gets the ID of
 *  the object the move replaced (zero if none). */
int dfs_move(dfs_t *dfs, dfs_obj_t *parent, const char *name, dfs_obj_t *new_parent,
             const char *new_name, daos_obj_id_t *oid);

/* ---- attributes ------------------------------------------------------------------------ */

int dfs_obj2id(dfs_obj_t *obj, daos_obj_id_t *oid);
int dfs_get_mode(dfs_obj_t *obj, mode_t *mode);
int dfs_obj_get_info(dfs_t *dfs, dfs_obj_t *obj, dfs_obj_info_t *info);
/** Sets the class (dfs_obj_set_oclass; 0 clears it) or chunk size (dfs_obj_set_chunk_size)
 *  that new files and subdirectories of directory `obj` get; existing ones keep theirs.
 *  ENOTSUP for files and symbolic links, EINVAL for an unknown class. flags is ignored. */
int dfs_obj_set_oclass(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_oclass_id_t cid);
int dfs_obj_set_chunk_size(dfs_t *dfs, dfs_obj_t *obj, int flags, daos_size_t csize);
/** Chunk size of a file (EINVAL for other objects). */
int dfs_get_chunk_size(dfs_obj_t *obj, daos_size_t *chunk_size);
/** Copies the target of a symbolic link handle into buf (at most *size bytes, NUL included,
 *  truncated if short); *size gets the full size needed, NUL included. buf NULL only queries
 *  the size. EINVAL if obj is not a symbolic link. */
int dfs_get_symlink_value(dfs_obj_t *obj, char *buf, daos_size_t *size);
/** stat of entry `name` in `parent` (NULL: the root). name NULL stats the root (when parent is
 *  NULL or the root; EINVAL otherwise). A final symbolic link is not followed. */
int dfs_stat(dfs_t *dfs, dfs_obj_t *parent, const char *name, struct stat *stbuf);
/** stat of an open handle's entry. */
int dfs_ostat(dfs_t *dfs, dfs_obj_t *obj, struct stat *stbuf);
/** access(2) of entry `name` in `parent` (name NULL: the root, as for dfs_stat; a final
 *  symbolic link is not followed): mask F_OK, or R_OK | W_OK | X_OK checked against the
 *  entry's permission bits for this process's real uid and gid (uid 0 passes R_OK and W_OK).
 *  EACCES when refused, EPERM for W_OK on a read-only mount. */
int dfs_access(dfs_t *dfs, dfs_obj_t *parent, const char *name, int mask);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_FS_H */

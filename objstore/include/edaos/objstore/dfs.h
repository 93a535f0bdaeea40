/* edaos POSIX namespace (DFS): C API over edaos/objstore/dfs.hpp, for the MPI-IO driver and
 * tools written in C. Same semantics and codes as the C++ API (read its comments); every call
 * returns EDAOS_OK or a negative edaos_status_t, and edaos_os_last_error() gives the message of
 * the calling thread's last failure. edaos_dfs_errno() maps a code to errno.
 *
 * Flags are the POSIX <fcntl.h> ones (O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC,
 * O_NOFOLLOW); modes (uint32_t) the <sys/stat.h> ones (S_IFREG, S_IFDIR, S_IFLNK | permissions).
 * `parent` NULL means the root directory. Handles are thread-safe; releasing a handle while
 * another thread uses it is not. Nothing is collective except edaos_dfs_mount with a
 * communicator other than MPI_COMM_NULL.
 *
 * As in objstore.h: a NULL handle or needed pointer is EDAOS_INVAL ("<arg> is NULL"), running
 * out of memory EDAOS_NOMEM, an internal exception EDAOS_INTERNAL; every call records its
 * outcome for edaos_os_last_error(). Strings and buffers passed in are used during the call
 * only. Handles returned through an out-parameter belong to the caller (*out set only on
 * success): a mount is freed by edaos_dfs_umount, an object handle by edaos_dfs_release. */
#ifndef EDAOS_OBJSTORE_DFS_H
#define EDAOS_OBJSTORE_DFS_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "edaos/objstore/objstore.h"
#include "edaos/objstore/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct edaos_dfs edaos_dfs_t;         /* mounted namespace */
typedef struct edaos_dfs_obj edaos_dfs_obj_t; /* open file, directory or symlink */

#define EDAOS_DFS_MAX_NAME 255
#define EDAOS_DFS_MAX_OCLASS 32

typedef struct {
  int64_t dt_sec, dt_nsec;
} edaos_dfs_time_t;

typedef struct {
  uint32_t ds_mode; /* type bits | permissions */
  uint32_t ds_uid, ds_gid;
  uint64_t ds_size; /* files: size; symlinks: target length; directories: 0 */
  edaos_dfs_time_t ds_atime, ds_mtime, ds_ctime;
  edaos_oid_t ds_oid;                   /* zero for symlinks */
  char ds_oclass[EDAOS_DFS_MAX_OCLASS]; /* "" for symlinks */
  uint64_t ds_chunk_size;
  uint32_t ds_nlink;
} edaos_dfs_stat_t;

/** Readdir position; zero-initialize to start. */
typedef struct {
  char da_last[EDAOS_DFS_MAX_NAME + 1];
  int da_eof;
} edaos_dfs_anchor_t;

typedef struct {
  char dd_name[EDAOS_DFS_MAX_NAME + 1];
  uint32_t dd_mode;
  edaos_oid_t dd_oid;
} edaos_dfs_dirent_t;

/** Mounts the namespace of a POSIX container (Dfs::mount). flags: O_RDONLY or O_RDWR. The
 *  first O_RDWR mount creates the namespace (safe when concurrent). comm != MPI_COMM_NULL:
 *  collective over comm, rank 0's status on every rank. The mount keeps its own reference to
 *  the container: `cont` may be closed before edaos_dfs_umount. EDAOS_INVAL (bad flags, not a
 *  POSIX container), EDAOS_NONEXIST (O_RDONLY and no namespace yet), EDAOS_FORMAT. */
EDAOS_API int edaos_dfs_mount(edaos_os_cont_t *cont, MPI_Comm comm, int flags, edaos_dfs_t **dfs);
/** Unmounts and frees the mount (NULL is a no-op); EDAOS_OK. Object handles opened from it stay
 *  usable (they keep the mount's state) and must still be released. */
EDAOS_API int edaos_dfs_umount(edaos_dfs_t *dfs);

/** Opens/creates `name` in `parent` (Dfs::open: flags, inheritance and errors). mode's type
 *  bits select file (S_IFREG or none), directory (S_IFDIR) or symlink (S_IFLNK, target
 *  `symlink_target`). oclass NULL or "": inherit; chunk_size 0: inherit. */
EDAOS_API int edaos_dfs_open(edaos_dfs_t *dfs, edaos_dfs_obj_t *parent, const char *name,
                             uint32_t mode, int flags, const char *oclass, uint64_t chunk_size,
                             const char *symlink_target, edaos_dfs_obj_t **obj);
/** Opens an existing entry by absolute path (symlinks followed unless O_NOFOLLOW; Dfs::lookup).
 *  `mode_out` (may be NULL) gets its mode. */
EDAOS_API int edaos_dfs_lookup(edaos_dfs_t *dfs, const char *path, int flags, edaos_dfs_obj_t **obj,
                               uint32_t *mode_out);
/** Releases a handle (records mtime if it wrote; a failure there is only logged). NULL is a
 *  no-op. For a file opened for writing, returns the first error one of this process's writes
 *  to it met after the write returned (a pipelined direct write's commit), once; else
 *  EDAOS_OK. The handle is released either way. */
EDAOS_API int edaos_dfs_release(edaos_dfs_obj_t *obj);

/** Reads from `off` up to the file size; *nread gets the bytes read (short at end of file, 0 at
 *  or past it). EDAOS_PERM (opened O_WRONLY), EDAOS_ISDIR, EDAOS_INVAL (symlink). */
EDAOS_API int edaos_dfs_read(edaos_dfs_obj_t *obj, uint64_t off, const edaos_iov_t *iov,
                             uint32_t n_iov, uint64_t *nread);
/** Reads exactly the iovecs' bytes (holes and bytes past the end read as zeros) without
 *  asking the file size: one round trip fewer than edaos_dfs_read. */
EDAOS_API int edaos_dfs_read_full(edaos_dfs_obj_t *obj, uint64_t off, const edaos_iov_t *iov,
                                  uint32_t n_iov);
/** Writes every byte of the iovecs at `off` (DfsObj::write); EDAOS_PERM if opened O_RDONLY. */
EDAOS_API int edaos_dfs_write(edaos_dfs_obj_t *obj, uint64_t off, const edaos_iov_t *iov,
                              uint32_t n_iov);
/** The file's size, asked of the store each time. */
EDAOS_API int edaos_dfs_get_size(edaos_dfs_obj_t *obj, uint64_t *size);
/** Truncates or extends (zeros); sets mtime/ctime. EDAOS_PERM if opened O_RDONLY. */
EDAOS_API int edaos_dfs_set_size(edaos_dfs_obj_t *obj, uint64_t size);
/** Deallocates [off, off+len) (reads as zeros; size unchanged). EDAOS_PERM if O_RDONLY. */
EDAOS_API int edaos_dfs_punch(edaos_dfs_obj_t *obj, uint64_t off, uint64_t len);
/** Records a pending mtime, then makes every acknowledged write durable (pool-wide sync). */
EDAOS_API int edaos_dfs_sync(edaos_dfs_obj_t *obj);

/** stat of `name` in `parent` (lstat: a final symlink is not followed). */
EDAOS_API int edaos_dfs_stat(edaos_dfs_t *dfs, edaos_dfs_obj_t *parent, const char *name,
                             edaos_dfs_stat_t *st);
/** stat of an open handle's entry, re-read from the store. EDAOS_NONEXIST if the entry was
 *  removed, or its name now names another object. */
EDAOS_API int edaos_dfs_ostat(edaos_dfs_obj_t *obj, edaos_dfs_stat_t *st);

/** Creates directory `name` in `parent` (permission bits of mode; oclass NULL or "": inherit).
 *  EDAOS_EXIST if the name exists. */
EDAOS_API int edaos_dfs_mkdir(edaos_dfs_t *dfs, edaos_dfs_obj_t *parent, const char *name,
                              uint32_t mode, const char *oclass);
/** Removes a file, symlink or empty directory (force != 0: a directory with its subtree).
 *  EDAOS_NOTEMPTY (directory not empty, no force), EDAOS_NONEXIST. */
EDAOS_API int edaos_dfs_remove(edaos_dfs_t *dfs, edaos_dfs_obj_t *parent, const char *name,
                               int force);
/** Renames `name` in `parent` to `new_name` in `new_parent`, replacing as rename(2) does
 *  (Dfs::rename: order of writes, errors). */
EDAOS_API int edaos_dfs_rename(edaos_dfs_t *dfs, edaos_dfs_obj_t *parent, const char *name,
                               edaos_dfs_obj_t *new_parent, const char *new_name);

/** Lists up to *nr entries (*nr >= 1, else EDAOS_INVAL) of `dir` (NULL: root) after the anchor
 *  into the caller's `ents` array, in byte order of the names; *nr gets the count and the
 *  anchor advances (da_eof set at the end). A count of 0 with da_eof 0 does not happen: the
 *  call reads on until it finds an entry or the end. */
EDAOS_API int edaos_dfs_readdir(edaos_dfs_t *dfs, edaos_dfs_obj_t *dir, edaos_dfs_anchor_t *anchor,
                                uint32_t *nr, edaos_dfs_dirent_t *ents);

/** Serializes a file/directory handle into buf (Dfs::obj_serialize); *len: in = buffer size,
 *  out = bytes needed. EDAOS_TOOBIG if short; buf NULL only sets *len (EDAOS_OK). EDAOS_INVAL
 *  for a symlink handle. */
EDAOS_API int edaos_dfs_obj_serialize(edaos_dfs_t *dfs, edaos_dfs_obj_t *obj, void *buf,
                                      size_t *len);
/** A handle equivalent to the serialized one, on `dfs` (same container), without store
 *  access; buf (len bytes) is read during the call only. flags -1: the serialized access mode;
 *  else O_RDONLY / O_WRONLY / O_RDWR. EDAOS_FORMAT (malformed), EDAOS_INVAL (another
 *  container's handle, bad flags), EDAOS_RDONLY (write access on a read-only mount). */
EDAOS_API int edaos_dfs_obj_deserialize(edaos_dfs_t *dfs, const void *buf, size_t len, int flags,
                                        edaos_dfs_obj_t **obj);

/** errno for an edaos status code (0 for EDAOS_OK; table in dfs.hpp, EIO for anything
 *  unlisted). Pure; does not touch edaos_os_last_error(). */
EDAOS_API int edaos_dfs_errno(int status);

#ifdef __cplusplus
}
#endif
#endif /* EDAOS_OBJSTORE_DFS_H */

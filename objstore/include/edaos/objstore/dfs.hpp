// edaos POSIX namespace (DFS): files, directories and symbolic links over the objects of one
// container, shaped like DAOS's libdfs (src/include/daos_fs.h).
//
//   - A directory is a KV object: one dkey per entry (the name), akey "e" holding the entry's
//     inode record (mode, oid, owner, times, chunk size, symlink target, inherited class).
//   - A regular file is a byte-array object; its size is the array's (never cached).
//   - A symbolic link has no object: its target lives in the entry.
//   - No hard links (link() is EDAOS_NOTSUP): every object has exactly one entry.
// The design, the record format and the crash behaviour of each call are in
// objstore/src/dfs/README.md.
//
// Naming: an entry is named by (parent directory handle, name), as in DAOS (`parent` nullptr
// means the root), or by an absolute path ("/a/b/c"; "." and ".." are resolved lexically over
// the directories walked, symbolic links are followed, at most kMaxSymlinkHops).
// A name is 1..kMaxName bytes, has no '/', and is not "." or "..". A path is at most kMaxPath
// bytes.
//
// Threading: a Dfs and its DfsObj handles are thread-safe. No call is collective except
// Dfs::mount with a communicator. Nothing is cached across calls except what a handle was
// opened with (its OID, type, chunk size, class): sizes, modes and entries are always read
// from the store, so every rank sees every other rank's completed updates (a mount remembers
// which file a name held only to send the entry get and the size query of a stat together;
// the answer always comes from the store).
// Ownership: mount() and the open/lookup calls return handles the caller owns (unique_ptr); a
// Dfs holds a reference to its Container, a DfsObj to its mount's state, so any release order
// is safe and needs no communication. Strings and iovecs passed in are used during the call
// only (nothing is retained; write() does not copy the data on the fast path).
//
// Errors (Status codes from status.h; dfs_errno() maps them to errno values):
//   EDAOS_NONEXIST   no such entry                       (ENOENT)
//   EDAOS_EXIST      entry exists (O_CREAT|O_EXCL, mkdir) (EEXIST)
//   EDAOS_NOTDIR     a path component or `parent` is not a directory (ENOTDIR)
//   EDAOS_ISDIR      file operation on a directory       (EISDIR)
//   EDAOS_NOTEMPTY   rmdir / rename over a non-empty directory (ENOTEMPTY)
//   EDAOS_NAMETOOLONG name > kMaxName or path > kMaxPath (ENAMETOOLONG)
//   EDAOS_LOOP       too many symbolic links             (ELOOP)
//   EDAOS_PERM       write through a handle opened O_RDONLY, read through O_WRONLY (EPERM)
//   EDAOS_RDONLY     a change on a read-only mount       (EROFS)
//   EDAOS_NOTSUP     hard links                          (ENOTSUP)
//   EDAOS_INVAL      bad name, flags, class, rename of a directory into itself, a relative
//                    path, a call on an unmounted Dfs (EINVAL)
//   EDAOS_FORMAT     the container holds no or a corrupt namespace (EIO)
//   plus the object store's codes (EDAOS_DEGRADED, EDAOS_NOSPACE, EDAOS_NOENGINE, ...).
#pragma once

#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"
#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

namespace dfs {
struct MountState;
struct ObjState;
}  // namespace dfs

inline constexpr size_t kDfsMaxName = 255;     // NAME_MAX
inline constexpr size_t kDfsMaxPath = 4095;    // PATH_MAX - 1
inline constexpr int kDfsMaxSymlinkHops = 40;  // Linux's MAXSYMLINKS

// What stat reports. `size`: byte-array size for files, target length for symlinks, 0 for
// directories. nlink: 1 for files and symlinks, 2 for directories (subdirectories are not
// counted). `oclass` / `chunk_size`: the object's (files, directories); for a symlink, an
// invalid class (data 0) and 0.
struct DfsStat {
  mode_t mode = 0;  // S_IFREG / S_IFDIR / S_IFLNK | permission bits
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;
  struct timespec atime = {}, mtime = {}, ctime = {};
  ObjectId oid;
  ObjClass oclass;
  uint64_t chunk_size = 0;
  uint32_t nlink = 1;
};

// Where a file's or directory's data lives (for tools: `edaos fs get-attr`, `fs check`).
// `child_oclass` / `child_chunk_size`: for a directory, the default it hands to new children
// (empty / 0: none set, the container's properties apply).
struct DfsLayout {
  ObjectId oid;
  ObjClass oclass;
  uint64_t chunk_size = 0;
  std::string child_oclass;
  uint64_t child_chunk_size = 0;
};

// One readdir entry. `mode` has the type bits and permissions; with readdir(..., plus=true)
// `st` is filled too (one extra lookup per entry avoided: the record is read anyway).
struct DfsDirent {
  std::string name;
  mode_t mode = 0;
  ObjectId oid;  // zero for symlinks
  DfsStat st;    // only with plus=true (size of files needs one get_size per file)
};

// Readdir position: entries strictly after `last` (in byte order of the names). Start with a
// default-constructed anchor; `eof` is set when the directory has no more entries.
struct DfsAnchor {
  std::string last;
  bool eof = false;
};

// One file of Dfs::create_files: what to create, and after the call its own outcome.
struct DfsNewFile {
  std::string name;
  mode_t mode = 0644;          // permission bits (the type is S_IFREG)
  const void* data = nullptr;  // the contents (len bytes; read during the call only)
  size_t len = 0;
  bool set_times = false;  // true: atime / mtime below (as utimens), false: the creation time
  struct timespec atime = {}, mtime = {};
  Status status;  // out: EDAOS_OK, or why this file was not created
  ObjectId oid;   // out: the new file's object (when status is OK)
};

// Files in flight at once in the vector calls of Dfs (create_files, stat_names).
inline constexpr size_t kDfsVecInFlight = 8;

class DfsObj;

// What the metadata shortcuts of this process did (session 7; counters since start, relaxed
// reads): stats of a name answered in one round trip because the mount knew the file it names
// (the entry get and the size query sent together, the entry still naming that file), and
// stats where the mount knew a file under the name but the entry named another object (or
// failed), so the size was asked again.
struct DfsMetaStats {
  uint64_t stat_hits = 0, stat_misses = 0;
  // Stats of names the mount never saw whose size came with the entry (session 8).
  uint64_t stat_sized = 0;
};
EDAOS_CXX_API DfsMetaStats dfs_meta_stats();

// A mounted namespace. Handles (DfsObj) keep the mount's state alive; using them after
// umount() is allowed (they keep working) but discouraged.
class EDAOS_CXX_API Dfs {
 public:
  // Mount flags: O_RDONLY or O_RDWR.
  //
  // Mounts the namespace of container `cont` (type POSIX: another layout type is EDAOS_INVAL).
  // The first O_RDWR mount of a container creates the superblock and the root directory;
  // concurrent first mounts (from several ranks, with or without a communicator) are safe:
  // exactly one creation wins and every mounter sees the same root. An O_RDONLY mount of a
  // container without a namespace is EDAOS_NONEXIST.
  // comm != MPI_COMM_NULL: collective over `comm`; rank 0 does the lookup/creation and
  // broadcasts the outcome: every rank returns rank 0's status code and message (the message
  // cut at 511 bytes). comm == MPI_COMM_NULL: independent.
  // EDAOS_INVAL: cont null, flags neither O_RDONLY nor O_RDWR, a container that is not of type
  // POSIX. EDAOS_FORMAT: the container names a superblock that is missing or corrupt.
  // EDAOS_NOENGINE / EDAOS_INVAL: the container's directory class does not fit the pool (first
  // mount). Messages start with "mount: ".
  static Result<std::unique_ptr<Dfs>> mount(std::shared_ptr<Container> cont, MPI_Comm comm,
                                            int flags);
  // Unmounts (umount()); handles opened from this Dfs stay usable.
  ~Dfs();
  Dfs(const Dfs&) = delete;
  Dfs& operator=(const Dfs&) = delete;

  // Not collective. Idempotent, always EDAOS_OK. After it, every namespace call on this Dfs is
  // EDAOS_INVAL ("namespace is not mounted"); open handles keep working.
  Status umount();

  // Mounted O_RDONLY.
  bool read_only() const;
  // The container this namespace lives in (valid while the Dfs lives).
  const std::shared_ptr<Container>& container() const;
  // The root directory's KV object.
  ObjectId root_oid() const;
  // The superblock object (a KV). With root_oid() and every entry's OID, the objects that
  // belong to the namespace (`fs check` compares them with Container::list_objects()).
  ObjectId superblock_oid() const;
  // Container attribute whose value (ObjectId::to_string()) names the MPI-IO driver's lock and
  // shared-file-pointer KV. It lives beside the namespace; `fs check` counts it as in use.
  static constexpr char kMpioLockKvAttr[] = "edaos.mpio.lock_kv";

  // ---- handles ------------------------------------------------------------------------------

  // Opens (and with O_CREAT creates) entry `name` in directory `parent` (nullptr: root).
  //   mode: S_IFREG (or no type bits) creates a file, S_IFDIR a directory, S_IFLNK a symbolic
  //         link to `symlink_target` (non-empty, <= kDfsMaxPath); permission bits are stored
  //         as given (no umask).
  //   flags: O_RDONLY | O_WRONLY | O_RDWR, plus O_CREAT, O_EXCL (with O_CREAT: EDAOS_EXIST if
  //          the name exists; concurrent exclusive creates of one name: exactly one wins),
  //          O_TRUNC (files: size set to 0 if opened for writing), O_NOFOLLOW (ignored here: the
  //          last component is never followed by open; a symlink is opened as itself).
  //          O_CREAT without O_EXCL opens an existing entry of any type if the type matches
  //          (EDAOS_ISDIR / EDAOS_NOTDIR / EDAOS_EXIST otherwise).
  //   oclass: class of a new file/directory (""; inherit: the parent's child class, then the
  //           container's file_oclass / dir_oclass / oclass property, then default_oclass()).
  //   chunk_size: of a new file (0: the parent's child chunk size, then the container's).
  // A new directory inherits the parent's child class and chunk size (so the attribute set
  // with set_dir_attr() applies to the whole subtree created below it).
  // Returns EDAOS_NONEXIST (no entry, no O_CREAT), EDAOS_NOTDIR (parent not a directory),
  // EDAOS_INVAL (bad name/flags/class), EDAOS_RDONLY (O_CREAT/O_TRUNC/write access on a
  // read-only mount), EDAOS_NOENGINE / EDAOS_INVAL (class too wide for the pool or rd_fac).
  Result<std::unique_ptr<DfsObj>> open(const DfsObj* parent, const std::string& name, mode_t mode,
                                       int flags, const std::string& oclass = "",
                                       uint64_t chunk_size = 0,
                                       const std::string& symlink_target = "");
  // Path form of open(): the parent path is looked up (following symlinks), then open().
  Result<std::unique_ptr<DfsObj>> open(const std::string& path, mode_t mode, int flags,
                                       const std::string& oclass = "", uint64_t chunk_size = 0,
                                       const std::string& symlink_target = "");

  // Opens an existing entry by absolute path. Symbolic links are followed, also the last
  // component unless flags has O_NOFOLLOW (then the link itself is opened). "/" is the root.
  // flags: O_RDONLY | O_WRONLY | O_RDWR (| O_NOFOLLOW). Returns EDAOS_NONEXIST, EDAOS_NOTDIR,
  // EDAOS_LOOP, EDAOS_NAMETOOLONG, EDAOS_INVAL (relative path), EDAOS_RDONLY (write access on
  // a read-only mount).
  Result<std::unique_ptr<DfsObj>> lookup(const std::string& path, int flags = O_RDONLY);
  // Opens entry `name` of `parent` (nullptr: root) without following a final symlink. Errors
  // as above, and EDAOS_NOTDIR when `parent` is not a directory.
  Result<std::unique_ptr<DfsObj>> lookup(const DfsObj* parent, const std::string& name,
                                         int flags = O_RDONLY);

  // ---- namespace ----------------------------------------------------------------------------

  // open(parent, name, S_IFDIR | mode, O_RDWR | O_CREAT | O_EXCL, oclass) without a handle.
  // EDAOS_EXIST if the name exists (any type).
  Status mkdir(const DfsObj* parent, const std::string& name, mode_t mode,
               const std::string& oclass = "");
  Status mkdir(const std::string& path, mode_t mode, const std::string& oclass = "");

  // Creates symbolic link `name` -> `target` (stored verbatim, not checked). EDAOS_EXIST.
  Status symlink(const DfsObj* parent, const std::string& name, const std::string& target);
  Status symlink(const std::string& path, const std::string& target);
  // The target of a symlink; EDAOS_INVAL if the entry is not a symlink.
  Result<std::string> readlink(const DfsObj* parent, const std::string& name);
  Result<std::string> readlink(const std::string& path);

  // For `fs check --relink`: creates entry `path` (exclusively: EDAOS_EXIST) naming an existing
  // object that no entry names. A byte array becomes a regular file (chunk_size: the chunk
  // size it was written with; 0: the container's), a KV a directory (its ".." record is
  // rewritten to point here). mode: permission bits. Does not check that the object is
  // unreferenced (the caller walked the namespace). EDAOS_INVAL for a flat KV or a zero OID.
  Status link_object(const std::string& path, ObjectId oid, mode_t mode, uint64_t chunk_size = 0);

  // Hard links are not supported: always EDAOS_NOTSUP (EDAOS_NONEXIST never reported).
  Status link(const std::string& existing_path, const std::string& new_path);

  // Removes an entry. Files: the entry, then the array (crash in between: a leaked object,
  // found by `fs check`). Symlinks: the entry. Directories: EDAOS_NOTEMPTY unless empty, or,
  // with force, the whole subtree (depth first). `oid_out` (optional) gets the removed
  // object's ID. Does not follow a final symlink. unlink() refuses directories
  // (EDAOS_ISDIR), rmdir() refuses non-directories (EDAOS_NOTDIR).
  Status remove(const DfsObj* parent, const std::string& name, bool force = false,
                ObjectId* oid_out = nullptr);
  Status remove(const std::string& path, bool force = false, ObjectId* oid_out = nullptr);
  // (nullptr parent with a literal name: without this overload, remove(nullptr, "name") would
  // be ambiguous with the path form; same for stat.)
  Status remove(std::nullptr_t, const char* name, bool force = false, ObjectId* oid_out = nullptr) {
    return remove(static_cast<const DfsObj*>(nullptr), name, force, oid_out);
  }
  Status unlink(const std::string& path);
  Status rmdir(const std::string& path);

  // Renames `name` in `parent` to `new_name` in `new_parent` (nullptr: root), replacing an
  // existing target as POSIX rename(2) does: a file or symlink replaces a non-directory; a
  // directory replaces an empty directory (EDAOS_NOTEMPTY otherwise); mixing gives
  // EDAOS_ISDIR / EDAOS_NOTDIR. Renaming onto itself (same object) does nothing. Moving a
  // directory below itself is EDAOS_INVAL.
  // Order: (1) write the entry under the new name, (2) remove the old name, (3) destroy the
  // replaced object. A crash leaves both names (after 1) or a leaked object (after 2); the
  // entry is never lost. Two renames racing on the same names may both succeed (last wins).
  Status rename(const DfsObj* parent, const std::string& name, const DfsObj* new_parent,
                const std::string& new_name);
  Status rename(const std::string& old_path, const std::string& new_path);

  // Lists `dir` (nullptr: root) from `*anchor`, at most `max` entries (max >= 1), in byte
  // order of the names, and advances the anchor. Entries created or removed concurrently may
  // or may not be seen; an entry present through the whole listing is seen exactly once.
  // plus: also fill DfsDirent::st (a get_size per file). EDAOS_INVAL for a null anchor or
  // max 0; EDAOS_NOTDIR when `dir` / `path` is not a directory.
  Result<std::vector<DfsDirent>> readdir(const DfsObj* dir, DfsAnchor* anchor, uint32_t max,
                                         bool plus = false);
  Result<std::vector<DfsDirent>> readdir(const std::string& path, DfsAnchor* anchor, uint32_t max,
                                         bool plus = false);

  // stat of entry `name` in `parent` (a final symlink is not followed: lstat semantics), or
  // of a path (symlinks followed, also the last one, unless follow is false). A file is one
  // round trip when this mount has seen the file the name holds (created, opened, looked up or
  // stat'ed it through this Dfs): the entry get and that file's size query go out together and
  // the size is used only if the entry still names that object (else asked again: two round
  // trips, as for a name this mount never saw). Never the size of another object.
  Result<DfsStat> stat(const DfsObj* parent, const std::string& name);
  Result<DfsStat> stat(const std::string& path, bool follow = true);
  Result<DfsStat> stat(std::nullptr_t, const char* name) {
    return stat(static_cast<const DfsObj*>(nullptr), name);
  }

  // ---- vector calls (issue 17): many names of one directory per call ----------------------
  //
  // create_files: for every file, what open(parent, name, S_IFREG | mode, O_RDWR | O_CREAT |
  // O_EXCL, oclass, chunk_size) + write(0, data, len) + release would do (plus utimens when
  // set_times), but (1) each file's data is written before its entry exists, so a reader that
  // sees the name sees the whole contents and no mtime update is needed afterwards; (2) the
  // writes of up to kDfsVecInFlight files are in flight at once; (3) the entries are inserted
  // with one vector KV call (KV::run: n exclusive inserts in about one round trip). Per-file
  // outcome in files[i].status: a name that exists (from any rank, also one created
  // concurrently) fails with EDAOS_EXIST and its data is removed again (exactly one of
  // concurrent exclusive creators wins, as with open); a bad name with EDAOS_INVAL /
  // EDAOS_NAMETOOLONG; the other files are created. Returns OK when every file was created,
  // else the first failure. EDAOS_NOTDIR / EDAOS_RDONLY / class errors fail the whole call.
  // A crash leaves, for a file whose entry was not yet inserted, a leaked array (`fs check`).
  Status create_files(const DfsObj* parent, std::vector<DfsNewFile>* files,
                      const std::string& oclass = "", uint64_t chunk_size = 0);
  // stat(parent, names[i]) for every name (lstat semantics): the entries with one vector KV
  // call, the sizes of up to kDfsVecInFlight files at once. (*st)[i] / (*status)[i] per name
  // (a missing name: EDAOS_NONEXIST for that name alone). Returns OK when every stat
  // succeeded, else the first failure.
  Status stat_names(const DfsObj* parent, const std::vector<std::string>& names,
                    std::vector<DfsStat>* st, std::vector<Status>* status);

  // Attribute changes on an entry (a final symlink is followed by the path forms only if
  // follow is true). chmod keeps the type bits and replaces the permission bits (07777).
  // chown: uid/gid (uint32_t)-1 keeps that field (ownership is recorded, not enforced).
  // utimens: nullptr keeps the time, a tv_nsec outside 0..999999999 is EDAOS_INVAL (no
  // UTIME_NOW / UTIME_OMIT); all three set ctime to now. EDAOS_RDONLY on a read-only mount.
  // Concurrent changes of one entry's attributes from several ranks are read-modify-write of
  // the record: the last writer wins whole-record (documented limit).
  Status chmod(const DfsObj* parent, const std::string& name, mode_t mode);
  Status chmod(const std::string& path, mode_t mode);
  Status chown(const DfsObj* parent, const std::string& name, uint32_t uid, uint32_t gid);
  Status chown(const std::string& path, uint32_t uid, uint32_t gid, bool follow = true);
  Status utimens(const DfsObj* parent, const std::string& name, const struct timespec* atime,
                 const struct timespec* mtime);
  Status utimens(const std::string& path, const struct timespec* atime,
                 const struct timespec* mtime, bool follow = true);

  // ---- per-directory class attribute (`edaos fs set-attr --oclass`) ---------------------------

  // Sets the class (and optionally the chunk size; 0 keeps the current one) that new files
  // and directories created in directory `path` take when open() names none. The class is
  // validated against the pool and the container's rd_fac. oclass "" clears it. Existing
  // children keep theirs; new subdirectories copy the attribute (inheritance down the tree).
  // EDAOS_NOTDIR if path is not a directory.
  Status set_dir_attr(const std::string& path, const std::string& oclass, uint64_t chunk_size = 0);
  // Same, on an open directory handle (DAOS dfs_obj_set_oclass / dfs_obj_set_chunk_size).
  // EDAOS_NOTDIR if `dir` is not a directory.
  Status set_dir_attr(const DfsObj& dir, const std::string& oclass, uint64_t chunk_size = 0);
  // Layout of the entry at path (symlinks followed): OID, class, chunk size and, for a
  // directory, the child class/chunk attribute. A symlink (with follow=false) is EDAOS_INVAL.
  Result<DfsLayout> get_layout(const std::string& path, bool follow = true);
  // Same, for an open file or directory handle (DAOS dfs_obj_get_info); the chunk size is the
  // handle's. A symlink handle, or a handle of another mount, is EDAOS_INVAL.
  Result<DfsLayout> get_layout(const DfsObj& obj);

  // ---- shared handles for collective users (DAOS dfs_obj_local2global/global2local) --------

  // A self-contained byte string describing an open file or directory handle (OID, type,
  // chunk size, access mode, entry location) that another rank can turn into an equivalent
  // handle with obj_deserialize() on a Dfs of the same container, without any store access.
  // Typical use: rank 0 opens with O_CREAT, broadcasts the string, every rank deserializes.
  // Symlink handles are EDAOS_INVAL.
  Result<std::string> obj_serialize(const DfsObj& obj) const;
  // flags: -1 keeps the serialized access mode, else O_RDONLY/O_WRONLY/O_RDWR replaces it.
  // EDAOS_FORMAT for a malformed string, EDAOS_INVAL for another container's handle,
  // EDAOS_RDONLY for write access on a read-only mount.
  Result<std::unique_ptr<DfsObj>> obj_deserialize(const std::string& blob, int flags = -1);

  // Internal (made by mount()).
  explicit Dfs(std::shared_ptr<dfs::MountState> s);
  const std::shared_ptr<dfs::MountState>& state() const { return s_; }

 private:
  std::shared_ptr<dfs::MountState> s_;
};

// An open file, directory or symbolic link. Not copyable; release by destroying it. What it
// was opened with (type, OID, chunk size, access mode, name) never changes; the entry itself is
// re-read by stat().
class EDAOS_CXX_API DfsObj {
 public:
  // Records mtime/ctime in the entry if this handle wrote (a failure is only logged).
  ~DfsObj();
  DfsObj(const DfsObj&) = delete;
  DfsObj& operator=(const DfsObj&) = delete;

  mode_t mode() const;  // type bits and permissions as of open
  bool is_dir() const { return S_ISDIR(mode()); }
  bool is_file() const { return S_ISREG(mode()); }
  bool is_symlink() const { return S_ISLNK(mode()); }
  ObjectId oid() const;  // zero for symlinks
  ObjClass oclass() const;
  uint64_t chunk_size() const;      // files: the array's chunk size; else 0
  int flags() const;                // access mode the handle was opened with
  const std::string& name() const;  // entry name at open ("" for the root)
  // Target of a symbolic link handle as of open ("" for files and directories).
  const std::string& symlink_target() const;

  // ---- files (EDAOS_ISDIR for directories, EDAOS_INVAL for symlinks) -------------------------
  // Calls taking iovecs: EDAOS_INVAL for n > 0 with a null iov. Every call may also give the
  // object store's errors (Array in objstore.hpp: EDAOS_DEGRADED, EDAOS_UNREACH, EDAOS_IO,
  // EDAOS_NOSPACE, ...).

  // Reads into the iovecs (back to back) from `off`, stopping at the file size: returns the
  // number of bytes read (short at end of file; 0 at or past it). Bytes of the iovecs beyond
  // the end of file read as zeros. No size round trip unless the read may have run past the
  // end (the engines' replies tell how far the file extends at least).
  // Holes read as zeros. EDAOS_PERM if opened O_WRONLY.
  Result<uint64_t> read(uint64_t off, const IoVec* iov, size_t n);
  Result<uint64_t> read(uint64_t off, void* buf, size_t len) {
    IoVec v{buf, len};
    return read(off, &v, 1);
  }
  // Reads exactly the iovecs' bytes from `off` without asking the size (one round trip fewer
  // than read()): holes and bytes past the end read as zeros. For callers that track the size
  // themselves (MPI-IO after a collective get_size). EDAOS_PERM if opened O_WRONLY.
  Status read_full(uint64_t off, const IoVec* iov, size_t n);
  // As read_full, and *known_end gets a lower bound of the size that the engines' replies
  // carried (0 when they said nothing), so a caller that must count bytes below the end asks
  // get_size() only when *known_end falls short of what it read (strided MPI-IO reads).
  Status read_full(uint64_t off, const IoVec* iov, size_t n, uint64_t* known_end);
  // Writes all the iovecs' bytes, back to back, at `off` (extending the file). Returns OK only
  // when every byte is stored. The entry's mtime is updated when the handle is released or
  // sync()ed, not on every write. EDAOS_PERM if opened O_RDONLY.
  Status write(uint64_t off, const ConstIoVec* iov, size_t n);
  Status write(uint64_t off, const void* buf, size_t len) {
    ConstIoVec v{buf, len};
    return write(off, &v, 1);
  }
  // Current size, asked of the array every time (no cache).
  Result<uint64_t> get_size();
  // Truncates or extends (zeros) and sets mtime/ctime. EDAOS_PERM if opened O_RDONLY.
  Status set_size(uint64_t size);
  // Deallocates [off, off+len) (reads as zeros; the size is unchanged). EDAOS_PERM if O_RDONLY.
  Status punch(uint64_t off, uint64_t len);
  // Records mtime/ctime if this handle wrote (also done on release), then makes every
  // acknowledged write durable (Container::sync).
  Status sync();

  // stat of the entry this handle was opened from (re-read from the store; a file's size is
  // the array's, asked together with the entry: one round trip). EDAOS_NONEXIST if the entry
  // was removed or renamed since.
  Result<DfsStat> stat();

  // Internal (made by Dfs::open / lookup / obj_deserialize).
  explicit DfsObj(std::shared_ptr<dfs::ObjState> s);
  const std::shared_ptr<dfs::ObjState>& state() const { return s_; }

 private:
  std::shared_ptr<dfs::ObjState> s_;
};

// ---- Asynchronous calls (issue 17 item 5, session 7) ------------------------------------------
//
// An event queue (DfsEq) keeps many namespace operations in flight from one thread, as DAOS's
// daos_eq_* with dfs calls do: each call queues one operation and returns its event at once;
// the queue's own thread runs the queued operations in batches through the vector calls (one
// KV::run for the entries of a batch, the object work of up to kDfsVecInFlight files or
// directories at once), so a batch of n operations costs about as many round trips as one.
//
// When an operation starts: once `depth` operations are queued, or when flush(), wait_all() or
// an event's wait() asks. test() never starts anything. A batch is a run of consecutive queued
// operations of one kind on one parent directory (at most `depth`); batches run one after
// another in submission order. Inside a batch the operations have no order between them,
// except that operations on the same name apply in submission order (as the vector calls
// keep it); so stat(x) after create(x) in one queue sees x. Each operation has exactly the
// semantics and the errors of its synchronous call (below), reported in its own event: one
// failing operation fails alone.

class DfsEq;
namespace dfs {
struct EqCore;
}

// One queued operation, and once complete its outcome. Shared by the caller and the queue
// (DfsEventPtr); stays valid after the queue is gone (every operation completed by then).
class EDAOS_CXX_API DfsEvent {
 public:
  enum Kind : uint8_t { kStat = 0, kCreate = 1, kMkdir = 2, kRemove = 3 };
  // True once the operation completed (status and results set). Never blocks, never starts.
  bool test() const;
  // Starts the queue's queued operations when this one has not started (flush), waits until it
  // completed and returns its status. Thread-safe; any number of calls.
  Status wait();
  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  // Valid once test() is true (else EDAOS_BUSY / empty).
  Status status() const;
  // kStat: what Dfs::stat(parent, name) returned (lstat semantics). kCreate / kMkdir: the new
  // object's OID in oid; kRemove: the removed object's.
  const DfsStat& stat() const { return st_; }
  ObjectId oid() const { return oid_; }

  // Internal (made by DfsEq).
  DfsEvent(Kind k, const DfsObj* parent, std::string name);

 private:
  friend class DfsEq;
  friend struct dfs::EqCore;
  Kind kind_;
  const DfsObj* parent_;
  std::string name_;
  mode_t mode_ = 0;
  std::string data_;  // kCreate: the contents (a copy)
  std::shared_ptr<dfs::EqCore> core_;
  bool done_ = false;  // under the queue's mutex
  Status status_;
  DfsStat st_;
  ObjectId oid_;
};
using DfsEventPtr = std::shared_ptr<DfsEvent>;

class EDAOS_CXX_API DfsEq {
 public:
  // A queue on `dfs` (which must outlive the queue) running up to `depth` operations together
  // (0 counts as 1, more than kMaxDepth as kMaxDepth). Starts one thread, asleep while idle.
  static constexpr size_t kMaxDepth = 1024;
  DfsEq(Dfs& dfs, size_t depth);
  // Runs every queued operation to its end (wait_all()), then stops the thread.
  ~DfsEq();
  DfsEq(const DfsEq&) = delete;
  DfsEq& operator=(const DfsEq&) = delete;

  // The operations. `parent` (nullptr: the root) must stay open until the event completed;
  // `name` and `data` are copied.
  // stat(parent, name): as Dfs::stat(parent, name).
  DfsEventPtr stat(const DfsObj* parent, const std::string& name);
  // create: a file with `len` bytes of `data` at offset 0, as open(parent, name, S_IFREG | mode,
  // O_RDWR | O_CREAT | O_EXCL) + write + release, with Dfs::create_files's order (the contents
  // are written before the entry exists, so a reader that sees the name sees every byte;
  // EDAOS_EXIST when the name exists, also against concurrent creators: one winner).
  DfsEventPtr create(const DfsObj* parent, const std::string& name, mode_t mode, const void* data,
                     size_t len);
  // mkdir(parent, name, mode): as Dfs::mkdir (the parent's child class; EDAOS_EXIST: one
  // winner among concurrent creators).
  DfsEventPtr mkdir(const DfsObj* parent, const std::string& name, mode_t mode);
  // remove(parent, name): as Dfs::remove(parent, name) without force (a directory must be
  // empty: EDAOS_NOTEMPTY), the removed object's OID in the event.
  DfsEventPtr remove(const DfsObj* parent, const std::string& name);

  // Starts every queued operation now.
  void flush();
  // flush(), then waits until every operation submitted so far completed; returns OK, or the
  // status of the first operation (in submission order) that failed since the last wait_all.
  Status wait_all();
  size_t depth() const;

 private:
  DfsEventPtr submit(DfsEventPtr ev);
  std::shared_ptr<dfs::EqCore> core_;
};

// errno for a status code (0 for EDAOS_OK): the table in the comment at the top of this file;
// EDAOS_NOSPACE -> ENOSPC, EDAOS_NOMEM -> ENOMEM, EDAOS_BUSY -> EBUSY, EDAOS_TOOBIG -> E2BIG,
// EDAOS_XDEV -> EXDEV, EDAOS_CANCELED -> ECANCELED, EDAOS_NOTINIT -> EINVAL, anything else
// -> EIO.
EDAOS_CXX_API int dfs_errno(edaos_status_t code);
inline int dfs_errno(const Status& st) { return dfs_errno(st.code()); }

}  // namespace edaos::objstore

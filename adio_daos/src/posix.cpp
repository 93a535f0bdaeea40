// The POSIX view of daos: names (issue 13 item 9).
//
// Libraries on top of MPI-IO look at the same file with POSIX calls; on Aurora the name is a
// dfuse path, so that works there. edaos has no dfuse: libedaos_mpio interposes the calls those
// libraries make (the idea of DAOS's I/O interception library), with the same name rules as
// MPI_File_open (DAOS_CONT or daos://POOL/CONT/..., parse_daos_name):
//
//  * Full names ("daos:/out.h5", as HDF5's serial sec2 driver passes them): open/open64/openat/
//    creat (any access mode, O_CREAT, O_EXCL, O_TRUNC, O_APPEND; O_CREAT also creates a missing
//    pool and container, as MPI_MODE_CREATE), stat/lstat (+64, __xstat),
//    access/faccessat/euidaccess, statfs/statvfs (+64: the pool's space, as IOR and mdtest ask
//    for the directory of their test file), truncate, unlink, remove and fopen are served by the
//    store, never
//    by the local file system; when they cannot be (MPI or the store not running, no container
//    named), they fail with errno, so no local directory called "daos:" is ever created.
//  * Stripped names ("/out.nc": PnetCDF removes everything up to the first ':' and calls
//    access, open for reading and truncate): served only when the real call fails with ENOENT
//    and "daos:" + name names an entry of the store, on MPI's main thread, never for edaos's
//    libraries and LMDB (dladdr of the caller: the store's own probes of its pool directory see
//    the real file system only). Lookups (stat family, access family, open and fopen read-only
//    without O_TRUNC) are taken from any other code; truncate, unlink and remove only from
//    PnetCDF's library or a program linked against it (from_pnetcdf), so no other code
//    changes a container file by a name that never said daos:.
//
// A descriptor of a daos: file is a descriptor of /dev/null opened read-only, registered here:
// read, write, pread(64), pwrite(64), lseek(64), fstat(64), ftruncate(64), fsync, fdatasync
// and close of it are served from the store; anything else about it is /dev/null's (a read
// that bypasses these symbols sees end of file, a write fails with EBADF, mmap fails): never
// wrong bytes, never a silent loss. Descriptors not registered here take the real call after
// one atomic load. fopen of a daos: name returns a fopencookie stream over such a descriptor
// (its fileno() is that descriptor).
// Lookups are independent (pool connection on MPI_COMM_SELF, as MPI_File_delete).
// EDAOS_POSIX=0 (or the older EDAOS_POSIX_READ=0) turns the layer off.
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <type_traits>

#include "adio_internal.hpp"
#include "edaos/objstore/log.h"
#include "edaos/objstore/names.hpp"

namespace edaos::adio {
namespace {

struct PosixFile {
  std::mutex mu;
  std::unique_ptr<objstore::Dfs> dfs;
  std::unique_ptr<objstore::DfsObj> obj;
  objstore::DfsStat st;  // as of open (mode, owner, times, oid)
  int flags = 0;         // open flags: access mode, O_APPEND
  off_t pos = 0;
};
using PosixFilePtr = std::shared_ptr<PosixFile>;

std::atomic<int> g_nfiles{0};  // registered descriptors; 0 keeps every call on the fast path
std::mutex g_mu;
std::map<int, PosixFilePtr>& table() {
  static auto* t = new std::map<int, PosixFilePtr>;  // outlives static destructors
  return *t;
}
thread_local bool t_inside = false;  // our own store calls never re-enter the layer

// Marks the calling thread as inside the store for one scope.
struct Inside {
  bool saved = t_inside;
  Inside() { t_inside = true; }
  ~Inside() { t_inside = saved; }
};

template <typename F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
using open_fn = int (*)(const char*, int, ...);

bool layer_enabled() {
  static const bool on = [] {
    for (const char* var : {"EDAOS_POSIX", "EDAOS_POSIX_READ"}) {
      const char* e = std::getenv(var);
      if (e && std::strcmp(e, "0") == 0) return false;
    }
    return true;
  }();
  return on;
}

bool is_full(const char* path) { return path && std::strncmp(path, "daos:", 5) == 0; }

// Whether a *at() call names `path` from the current directory (so it may be a daos: name).
bool from_cwd(int dirfd, const char* path) {
  return dirfd == AT_FDCWD || (path && (path[0] == '/' || is_full(path)));
}

PosixFilePtr find(int fd) {
  if (g_nfiles.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = table().find(fd);
  return it == table().end() ? nullptr : it->second;
}

// The file name (no directory) of the object holding `addr`, or "".
const char* object_name(void* addr) {
  Dl_info di;
  if (!dladdr(addr, &di) || !di.dli_fname) return "";
  const char* base = std::strrchr(di.dli_fname, '/');
  return base ? base + 1 : di.dli_fname;
}

bool is_store_object(const char* base, bool mpio_too) {
  if (std::strncmp(base, "liblmdb", 7) == 0) return true;
  if (std::strncmp(base, "libedaos_", 9) != 0) return false;
  return mpio_too || std::strncmp(base, "libedaos_mpio", 13) != 0;
}

// True for calls made by edaos's own libraries or LMDB: the store probes for files of its
// pool directory, which must see the real file system only. The immediate caller is checked,
// then the stack: a tool preloaded in front (Darshan wraps open, stat, ...) calls the layer on
// the store's behalf, so the store's frames sit deeper (frames of libedaos_mpio itself are
// skipped there: the interposer and the MPI-IO wrappers live in it). Only asked after a real
// call failed with ENOENT.
bool from_the_store(void* caller) {
  if (is_store_object(object_name(caller), true)) return true;
  void* frames[32];
  int n = backtrace(frames, 32);
  for (int i = 1; i < n; ++i)
    if (is_store_object(object_name(frames[i]), false)) return true;
  return false;
}

// Whether the store can serve a call now; `why` says what is missing when not.
bool store_ready(const char** why) {
  int init = 0, fin = 0;
  PMPI_Initialized(&init);
  if (init) PMPI_Finalized(&fin);
  if (!init || fin) {
    *why = "MPI is not running";
    return false;
  }
  if (!objstore::is_initialized()) {
    *why = "the edaos object store is not running";
    return false;
  }
  return true;
}

// How a call on `path` is served.
enum class Route { kReal, kDaos, kFail, kFallback };

// kDaos: a full daos: name the store serves now; kFail: a full name it cannot serve (errno
// set); kFallback: any other name, which may be served if the real call fails with ENOENT
// and fallback_ok() (MPI is asked nothing before that: every open/stat of the process passes
// here); kReal: the layer is off or the store itself is calling.
Route route(const char* path, void* caller) {
  if (!path || t_inside || !layer_enabled()) return Route::kReal;
  const char* why = nullptr;
  if (is_full(path)) {
    if (store_ready(&why)) return Route::kDaos;
    static std::once_flag once;
    std::call_once(once, [&] {
      edaos_log_emit(EDAOS_LOG_WARN, "posix",
                     "%s: POSIX calls on daos: names need MPI and the edaos store running "
                     "(%s); failing with ENOTSUP",
                     path, why);
    });
    errno = ENOTSUP;
    return Route::kFail;
  }
  return Route::kFallback;
}

// Whether `base` is an object named in LD_PRELOAD (a tool in front, such as Darshan's library).
bool is_preloaded(const char* base) {
  const char* pre = std::getenv("LD_PRELOAD");
  if (!pre || !*base) return false;
  const size_t n = std::strlen(base);
  for (const char* p = pre; (p = std::strstr(p, base)) != nullptr; p += n) {
    bool starts = p == pre || p[-1] == '/' || p[-1] == ':' || p[-1] == ' ';
    bool ends = p[n] == '\0' || p[n] == ':' || p[n] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

bool is_pnetcdf_object(const char* base) { return std::strncmp(base, "libpnetcdf", 10) == 0; }

// Whether the object holding `addr` was linked against PnetCDF (a DT_NEEDED entry naming
// libpnetcdf): a PnetCDF program, which strips "daos:" itself as PnetCDF's own tests and
// examples do ("remove the file system type prefix" before access/unlink).
bool links_pnetcdf(void* addr) {
  Dl_info di;
  struct link_map* lm = nullptr;
  if (!dladdr1(addr, &di, reinterpret_cast<void**>(&lm), RTLD_DL_LINKMAP) || !lm || !lm->l_ld)
    return false;
  ElfW(Addr) strtab = 0;
  for (const ElfW(Dyn)* d = lm->l_ld; d->d_tag != DT_NULL; ++d)
    if (d->d_tag == DT_STRTAB) strtab = d->d_un.d_ptr;
  if (strtab == 0) return false;
  // glibc relocates DT_STRTAB in the loaded dynamic section; an unrelocated one is below the
  // load bias.
  if (strtab < lm->l_addr) strtab += lm->l_addr;
  for (const ElfW(Dyn)* d = lm->l_ld; d->d_tag != DT_NULL; ++d)
    if (d->d_tag == DT_NEEDED &&
        is_pnetcdf_object(reinterpret_cast<const char*>(strtab + d->d_un.d_val)))
      return true;
  return false;
}

// PnetCDF's library, or code linked against it.
bool pnetcdf_code(void* addr) {
  return is_pnetcdf_object(object_name(addr)) || links_pnetcdf(addr);
}

// True when the call was made by PnetCDF: its library (NC_CLOBBER's truncate of the stripped
// name) or a program linked against it (PnetCDF's test utilities and examples remove "daos:"
// and unlink the rest). The immediate caller decides; when it is a preloaded tool (a wrapper
// of truncate), the first frame of the stack outside libedaos_mpio and the preloaded objects
// decides. A statically linked PnetCDF is not recognised (its frames are the executable's and
// the executable needs no libpnetcdf).
bool from_pnetcdf(void* caller) {
  if (pnetcdf_code(caller)) return true;
  if (!is_preloaded(object_name(caller))) return false;
  void* frames[32];
  int n = backtrace(frames, 32);
  for (int i = 1; i < n; ++i) {
    const char* b = object_name(frames[i]);
    if (std::strncmp(b, "libedaos_mpio", 13) == 0 || is_preloaded(b)) continue;
    return pnetcdf_code(frames[i]);
  }
  return false;
}

// What a stripped-name call does to the store entry if it is served.
enum class Effect { kLookup, kDestroy };

// Whether a stripped name whose real call failed with ENOENT may be looked up in the store.
// Lookups (stat, access, read-only open and fopen) are taken from any code outside the store
// on MPI's main thread; calls that change or remove the entry (truncate, unlink, remove) only
// from PnetCDF, so no other code's unlink of a local file that is already gone removes a
// container file (issue 13 item 9). Each served call is logged (facility posix, debug): tests
// check that the store's own probes of its pool directory never are.
bool fallback_ok(const char* path, void* caller, Effect effect) {
  const char* why = nullptr;
  int main_thread = 0;
  if (!store_ready(&why)) return false;
  PMPI_Is_thread_main(&main_thread);
  if (!main_thread || from_the_store(caller)) return false;
  if (effect == Effect::kDestroy && !from_pnetcdf(caller)) {
    if (edaos_log_threshold("posix") <= EDAOS_LOG_DEBUG)
      edaos_log_emit(EDAOS_LOG_DEBUG, "posix",
                     "%s: not found; not changed as daos:%s (caller %s is not PnetCDF)", path, path,
                     object_name(caller));
    return false;
  }
  if (edaos_log_threshold("posix") <= EDAOS_LOG_DEBUG)
    edaos_log_emit(EDAOS_LOG_DEBUG, "posix", "%s: not found, looked up as daos:%s", path, path);
  return true;
}

// errno for a store status, returns -1.
int fail(const Status& st) {
  errno = st.ok() ? EIO : objstore::dfs_errno(st);
  if (errno == 0) errno = EIO;
  return -1;
}

// The namespace holding daos: name `name` (full form) and the path in it.
struct Where {
  std::unique_ptr<objstore::Dfs> dfs;
  std::string path;
};

// Mounts the namespace of `name` (rw: writable; create: a missing pool or container is created).
Result<Where> mount(const std::string& name, bool rw, bool create) {
  Inside in;
  std::string pool, cont;
  auto path = parse_daos_name(name, &pool, &cont);
  if (!path.ok()) return path.status();
  auto p = independent_pool(pool, create);
  if (!p.ok()) return p.status();
  auto c = p.value()->cont_open(cont);
  if (!c.ok() && c.status().code() == EDAOS_NONEXIST && create) {
    c = p.value()->cont_create(cont, objstore::ContainerProps{});
    if (!c.ok() && c.status().code() == EDAOS_EXIST) c = p.value()->cont_open(cont);
  }
  if (!c.ok()) return c.status();
  auto m = objstore::Dfs::mount(c.value(), MPI_COMM_NULL, rw ? O_RDWR : O_RDONLY);
  if (!m.ok()) return m.status();
  return Where{std::move(m).value(), path.value()};
}

// Opens daos: name `name` with open(2) flags; registers and returns a descriptor (-1, errno).
int open_daos(const std::string& name, int flags, mode_t mode) {
  int acc = flags & O_ACCMODE;
  bool create = flags & O_CREAT;
  auto w = mount(name, acc != O_RDONLY || create || (flags & O_TRUNC), create);
  if (!w.ok()) return fail(w.status());
  auto f = std::make_shared<PosixFile>();
  f->dfs = std::move(w.value().dfs);
  f->flags = flags & (O_ACCMODE | O_APPEND);
  {
    Inside in;
    auto o = f->dfs->open(w.value().path, S_IFREG | (mode & 07777),
                          flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC));
    if (!o.ok()) return fail(o.status());
    f->obj = std::move(o).value();
    if (f->obj->is_dir()) {
      errno = EISDIR;
      return -1;
    }
    if (!f->obj->is_file()) {
      errno = ENXIO;
      return -1;
    }
    auto s = f->obj->stat();
    if (!s.ok()) return fail(s.status());
    f->st = s.value();
  }
  static const auto real_open = real<open_fn>("open");
  int fd = real_open("/dev/null", O_RDONLY | (flags & O_CLOEXEC));
  if (fd < 0) return -1;
  std::lock_guard<std::mutex> lk(g_mu);
  table()[fd] = std::move(f);
  g_nfiles.fetch_add(1, std::memory_order_release);
  return fd;
}

PosixFilePtr unregister(int fd) {
  if (g_nfiles.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = table().find(fd);
  if (it == table().end()) return nullptr;
  PosixFilePtr f = std::move(it->second);
  table().erase(it);
  g_nfiles.fetch_sub(1, std::memory_order_release);
  return f;
}

void release(PosixFile& f) {
  Inside in;
  f.obj.reset();
  if (f.dfs) (void)f.dfs->umount();
  f.dfs.reset();
}

// ---- descriptor operations ----

ssize_t read_at(PosixFile& f, void* buf, size_t len, off_t off) {
  if ((f.flags & O_ACCMODE) == O_WRONLY) {
    errno = EBADF;
    return -1;
  }
  if (off < 0) {
    errno = EINVAL;
    return -1;
  }
  Inside in;
  auto r = f.obj->read(static_cast<uint64_t>(off), buf, len);
  if (!r.ok()) return fail(r.status());
  return static_cast<ssize_t>(r.value());
}

ssize_t write_at(PosixFile& f, const void* buf, size_t len, off_t off) {
  if ((f.flags & O_ACCMODE) == O_RDONLY) {
    errno = EBADF;
    return -1;
  }
  if (off < 0) {
    errno = EINVAL;
    return -1;
  }
  if (len == 0) return 0;
  Inside in;
  Status st = f.obj->write(static_cast<uint64_t>(off), buf, len);
  if (!st.ok()) return fail(st);
  return static_cast<ssize_t>(len);
}

Result<uint64_t> size_of(PosixFile& f) {
  Inside in;
  return f.obj->get_size();
}

off_t seek(PosixFile& f, off_t off, int whence) {
  std::lock_guard<std::mutex> lk(f.mu);
  off_t base = 0;
  if (whence == SEEK_CUR) {
    base = f.pos;
  } else if (whence == SEEK_END) {
    auto sz = size_of(f);
    if (!sz.ok()) return fail(sz.status());
    base = static_cast<off_t>(sz.value());
  } else if (whence != SEEK_SET) {
    errno = EINVAL;
    return -1;
  }
  if (base + off < 0) {
    errno = EINVAL;
    return -1;
  }
  f.pos = base + off;
  return f.pos;
}

ssize_t read_cur(PosixFile& f, void* buf, size_t len) {
  std::lock_guard<std::mutex> lk(f.mu);
  ssize_t n = read_at(f, buf, len, f.pos);
  if (n > 0) f.pos += n;
  return n;
}

ssize_t write_cur(PosixFile& f, const void* buf, size_t len) {
  std::lock_guard<std::mutex> lk(f.mu);
  if (f.flags & O_APPEND) {
    auto sz = size_of(f);
    if (!sz.ok()) return fail(sz.status());
    f.pos = static_cast<off_t>(sz.value());
  }
  ssize_t n = write_at(f, buf, len, f.pos);
  if (n > 0) f.pos += n;
  return n;
}

int truncate_obj(objstore::DfsObj& obj, off_t len) {
  if (len < 0) {
    errno = EINVAL;
    return -1;
  }
  Inside in;
  Status st = obj.set_size(static_cast<uint64_t>(len));
  return st.ok() ? 0 : fail(st);
}

// struct stat / stat64 from a store entry (st_ino from the object ID, one st_dev for edaos).
template <typename Stat>
void fill_stat(const objstore::DfsStat& s, uint64_t size, Stat* sb) {
  std::memset(sb, 0, sizeof(*sb));
  sb->st_dev = 0xeda05;
  sb->st_ino = s.oid.lo ^ (s.oid.hi * 0x9e3779b97f4a7c15ull);
  sb->st_mode = s.mode;
  sb->st_nlink = s.nlink;
  sb->st_uid = s.uid;
  sb->st_gid = s.gid;
  sb->st_size = static_cast<off_t>(size);
  sb->st_blksize = 1 << 20;
  sb->st_blocks = (sb->st_size + 511) / 512;
  sb->st_atim = s.atime;
  sb->st_mtim = s.mtime;
  sb->st_ctim = s.ctime;
}

template <typename Stat>
int fstat_file(PosixFile& f, Stat* sb) {
  auto sz = size_of(f);
  if (!sz.ok()) return fail(sz.status());
  fill_stat(f.st, sz.value(), sb);
  return 0;
}

// ---- name operations (full daos: names) ----

template <typename Stat>
int stat_daos(const std::string& name, Stat* sb, bool follow) {
  auto w = mount(name, false, false);
  if (!w.ok()) return fail(w.status());
  Inside in;
  auto s = w.value().dfs->stat(w.value().path, follow);
  (void)w.value().dfs->umount();
  if (!s.ok()) return fail(s.status());
  fill_stat(s.value(), s.value().size, sb);
  return 0;
}

// statfs/statvfs of a daos: name: the pool's space over its up engines (Pool::query), in 4 KiB
// blocks. The name must exist (ENOENT as for a missing path). Object counts are not kept by the
// store: the file counts read as unlimited (all ones), as a used-inode ratio of 0.
constexpr unsigned long kVfsBlock = 4096;
constexpr unsigned long kVfsMagic = 0x44414f53;  // "DAOS"

// "daos://POOL/CONT" (the directory IOR takes of "daos://POOL/CONT/file") is the container's root.
template <typename Vfs>
int vfs_daos(const std::string& name, Vfs* b) {
  Inside in;
  auto n = objstore::parse_daos_name(name);
  if (!n.ok()) return fail(n.status());
  const bool root = n->path.empty() || n->path == "/";
  if (!root) {
    struct stat sb;
    if (stat_daos(name, &sb, true) != 0) return -1;
  }
  auto p = independent_pool(n->pool, false);
  if (!p.ok()) return fail(p.status());
  if (root) {  // the container must be there
    auto c = p.value()->cont_open(n->cont);
    if (!c.ok()) return fail(c.status());
  }
  auto info = p.value()->query();
  if (!info.ok()) return fail(info.status());
  std::memset(b, 0, sizeof *b);
  b->f_bsize = kVfsBlock;
  b->f_frsize = kVfsBlock;
  b->f_blocks = info->total / kVfsBlock;
  b->f_bfree = info->free / kVfsBlock;
  b->f_bavail = info->free / kVfsBlock;
  b->f_files = ~decltype(b->f_files){0};
  b->f_ffree = ~decltype(b->f_ffree){0};
  uint64_t id = 0;
  std::memcpy(&id, info->uuid.b, sizeof id);
  if constexpr (std::is_same_v<Vfs, struct statfs> || std::is_same_v<Vfs, struct statfs64>) {
    b->f_type = static_cast<decltype(b->f_type)>(kVfsMagic);
    b->f_namelen = 255;
    std::memcpy(&b->f_fsid, &id, std::min(sizeof b->f_fsid, sizeof id));
  } else {
    b->f_favail = ~decltype(b->f_favail){0};
    b->f_namemax = 255;
    b->f_fsid = static_cast<decltype(b->f_fsid)>(id);
  }
  return 0;
}

int access_daos(const std::string& name, int mode) {
  struct stat sb;
  if (stat_daos(name, &sb, true) != 0) return -1;
  if ((mode & R_OK) && !(sb.st_mode & S_IRUSR))
    errno = EACCES;
  else if ((mode & W_OK) && !(sb.st_mode & S_IWUSR))
    errno = EACCES;
  else if ((mode & X_OK) && !(sb.st_mode & S_IXUSR))
    errno = EACCES;
  else
    return 0;
  return -1;
}

int truncate_daos(const std::string& name, off_t len) {
  auto w = mount(name, true, false);
  if (!w.ok()) return fail(w.status());
  Inside in;
  auto o = w.value().dfs->lookup(w.value().path, O_RDWR);
  int rc = !o.ok()               ? fail(o.status())
           : o.value()->is_dir() ? (errno = EISDIR, -1)
                                 : truncate_obj(*o.value(), len);
  (void)w.value().dfs->umount();
  return rc;
}

// unlink (dirs: EISDIR), or with `dirs_too` rmdir for a directory (remove(3)).
int unlink_daos(const std::string& name, bool dirs_too) {
  auto w = mount(name, true, false);
  if (!w.ok()) return fail(w.status());
  Inside in;
  Status st = w.value().dfs->unlink(w.value().path);
  if (dirs_too && st.code() == EDAOS_ISDIR) st = w.value().dfs->rmdir(w.value().path);
  (void)w.value().dfs->umount();
  return st.ok() ? 0 : fail(st);
}

// The daos: name a path stands for under `r`.
std::string daos_name(const char* path, Route r) {
  return r == Route::kDaos ? std::string(path) : "daos:" + std::string(path);
}

// Runs `op` on the daos: name for kDaos; for kFallback runs `real_call` first and `op` only if
// it failed with ENOENT (then the real ENOENT is kept if the store has nothing either).
template <typename Real, typename Op>
int by_name(const char* path, void* caller, Effect effect, Real&& real_call, Op&& op) {
  Route r = route(path, caller);
  if (r == Route::kFail) return -1;
  if (r == Route::kDaos) return op(daos_name(path, r));
  int rc = real_call();
  if (rc == 0 || r != Route::kFallback || errno != ENOENT) return rc;
  int saved = errno;
  if (!fallback_ok(path, caller, effect)) {
    errno = saved;
    return rc;
  }
  int rc2 = op(daos_name(path, r));
  if (rc2 != 0) errno = saved;
  return rc2;
}

mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}

int open_common(const char* name, const char* path, int flags, mode_t mode, void* caller) {
  static const auto real_open = real<open_fn>(name);
  Route r = route(path, caller);
  if (r == Route::kFail) return -1;
  if (r == Route::kDaos) return open_daos(path, flags, mode);
  int fd = real_open(path, flags, mode);
  if (fd >= 0 || r != Route::kFallback || errno != ENOENT || (flags & O_ACCMODE) != O_RDONLY ||
      (flags & (O_CREAT | O_TRUNC | O_DIRECTORY | O_PATH)))
    return fd;
  int saved = errno;
  if (!fallback_ok(path, caller, Effect::kLookup)) {
    errno = saved;
    return fd;
  }
  fd = open_daos(daos_name(path, r), flags, 0);
  if (fd < 0) errno = saved;
  return fd;
}

// ---- stdio: fopencookie over a registered descriptor ----

ssize_t cookie_read(void* c, char* buf, size_t len) {
  auto f = find(static_cast<int>(reinterpret_cast<intptr_t>(c)));
  if (!f) {
    errno = EBADF;
    return -1;
  }
  return read_cur(*f, buf, len);
}
ssize_t cookie_write(void* c, const char* buf, size_t len) {
  auto f = find(static_cast<int>(reinterpret_cast<intptr_t>(c)));
  if (!f) {
    errno = EBADF;
    return 0;  // fopencookie: 0 means error for writes
  }
  ssize_t n = write_cur(*f, buf, len);
  return n < 0 ? 0 : n;
}
int cookie_seek(void* c, off64_t* off, int whence) {
  auto f = find(static_cast<int>(reinterpret_cast<intptr_t>(c)));
  if (!f) {
    errno = EBADF;
    return -1;
  }
  off_t r = seek(*f, static_cast<off_t>(*off), whence);
  if (r < 0) return -1;
  *off = r;
  return 0;
}
int cookie_close(void* c) { return close(static_cast<int>(reinterpret_cast<intptr_t>(c))); }

// open(2) flags of an fopen mode string, -1 if invalid.
int fopen_flags(const char* mode) {
  int flags;
  switch (mode[0]) {
    case 'r':
      flags = O_RDONLY;
      break;
    case 'w':
      flags = O_WRONLY | O_CREAT | O_TRUNC;
      break;
    case 'a':
      flags = O_WRONLY | O_CREAT | O_APPEND;
      break;
    default:
      return -1;
  }
  for (const char* m = mode + 1; *m; ++m) {
    if (*m == '+') flags = (flags & ~O_ACCMODE) | O_RDWR;
    if (*m == 'x') flags |= O_EXCL;
    if (*m == 'e') flags |= O_CLOEXEC;
  }
  return flags;
}

FILE* fopen_daos(const std::string& name, const char* mode) {
  int flags = fopen_flags(mode);
  if (flags < 0) {
    errno = EINVAL;
    return nullptr;
  }
  int fd = open_daos(name, flags, 0666);
  if (fd < 0) return nullptr;
  cookie_io_functions_t io = {cookie_read, cookie_write, cookie_seek, cookie_close};
  FILE* fp = fopencookie(reinterpret_cast<void*>(static_cast<intptr_t>(fd)), mode, io);
  if (!fp) {
    close(fd);
    return nullptr;
  }
  // fileno() of the stream is the registered descriptor (glibc leaves it -1 for cookie
  // streams): code that takes the descriptor of a FILE and calls read/fstat on it (libstdc++'s
  // std::ifstream does) reaches the same file; stdio itself only uses the cookie functions.
  fp->_fileno = fd;
  return fp;
}

FILE* fopen_common(const char* name, const char* path, const char* mode, void* caller) {
  using fopen_fn = FILE* (*)(const char*, const char*);
  static const auto real_fopen = real<fopen_fn>(name);
  Route r = mode ? route(path, caller) : Route::kReal;
  if (r == Route::kFail) return nullptr;
  if (r == Route::kDaos) return fopen_daos(path, mode);
  FILE* fp = real_fopen(path, mode);
  if (fp || r != Route::kFallback || errno != ENOENT || (fopen_flags(mode) & O_ACCMODE) != O_RDONLY)
    return fp;
  int saved = errno;
  if (!fallback_ok(path, caller, Effect::kLookup)) {
    errno = saved;
    return fp;
  }
  fp = fopen_daos(daos_name(path, r), mode);
  if (!fp) errno = saved;
  return fp;
}

}  // namespace

void release_posix_files() {
  std::map<int, PosixFilePtr> files;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    files.swap(table());
    g_nfiles.store(0, std::memory_order_release);
  }
  for (auto& [fd, f] : files) release(*f);
}

}  // namespace edaos::adio

// ============================================================================================
// The interposed functions
// ============================================================================================

namespace ea = edaos::adio;

#define EDAOS_POSIX extern "C" __attribute__((visibility("default")))
#define EDAOS_CALLER __builtin_return_address(0)

EDAOS_POSIX int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ea::mode_arg(flags, ap);
  va_end(ap);
  return ea::open_common("open", path, flags, mode, EDAOS_CALLER);
}

EDAOS_POSIX int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = ea::mode_arg(flags, ap);
  va_end(ap);
  return ea::open_common("open64", path, flags, mode, EDAOS_CALLER);
}

// _FORTIFY_SOURCE variants (two-argument open with a flags value unknown at compile time).
EDAOS_POSIX int __open_2(const char* path, int flags) {
  return ea::open_common("open", path, flags, 0, EDAOS_CALLER);
}
EDAOS_POSIX int __open64_2(const char* path, int flags) {
  return ea::open_common("open64", path, flags, 0, EDAOS_CALLER);
}

EDAOS_POSIX int creat(const char* path, mode_t mode) {
  return ea::open_common("open", path, O_WRONLY | O_CREAT | O_TRUNC, mode, EDAOS_CALLER);
}
EDAOS_POSIX int creat64(const char* path, mode_t mode) {
  return ea::open_common("open64", path, O_WRONLY | O_CREAT | O_TRUNC, mode, EDAOS_CALLER);
}

// openat: names relative to a directory descriptor other than the current directory are never
// daos: names.
#define EDAOS_OPENAT(NAME, OPEN)                                                                  \
  EDAOS_POSIX int NAME(int dirfd, const char* path, int flags, ...) {                             \
    va_list ap;                                                                                   \
    va_start(ap, flags);                                                                          \
    mode_t mode = ea::mode_arg(flags, ap);                                                        \
    va_end(ap);                                                                                   \
    if (ea::from_cwd(dirfd, path)) return ea::open_common(OPEN, path, flags, mode, EDAOS_CALLER); \
    static const auto real_fn = ea::real<int (*)(int, const char*, int, ...)>(#NAME);             \
    return real_fn(dirfd, path, flags, mode);                                                     \
  }
EDAOS_OPENAT(openat, "open")
EDAOS_OPENAT(openat64, "open64")

EDAOS_POSIX ssize_t read(int fd, void* buf, size_t len) {
  static const auto real_fn = ea::real<ssize_t (*)(int, void*, size_t)>("read");
  auto f = ea::find(fd);
  return f ? ea::read_cur(*f, buf, len) : real_fn(fd, buf, len);
}

EDAOS_POSIX ssize_t write(int fd, const void* buf, size_t len) {
  static const auto real_fn = ea::real<ssize_t (*)(int, const void*, size_t)>("write");
  auto f = ea::find(fd);
  return f ? ea::write_cur(*f, buf, len) : real_fn(fd, buf, len);
}

#define EDAOS_PREAD(NAME)                                                                \
  EDAOS_POSIX ssize_t NAME(int fd, void* buf, size_t len, off_t off) {                   \
    static const auto real_fn = ea::real<ssize_t (*)(int, void*, size_t, off_t)>(#NAME); \
    auto f = ea::find(fd);                                                               \
    return f ? ea::read_at(*f, buf, len, off) : real_fn(fd, buf, len, off);              \
  }
#define EDAOS_PWRITE(NAME)                                                                     \
  EDAOS_POSIX ssize_t NAME(int fd, const void* buf, size_t len, off_t off) {                   \
    static const auto real_fn = ea::real<ssize_t (*)(int, const void*, size_t, off_t)>(#NAME); \
    auto f = ea::find(fd);                                                                     \
    return f ? ea::write_at(*f, buf, len, off) : real_fn(fd, buf, len, off);                   \
  }
EDAOS_PREAD(pread)
EDAOS_PREAD(pread64)
EDAOS_PWRITE(pwrite)
EDAOS_PWRITE(pwrite64)

#define EDAOS_LSEEK(NAME)                                                    \
  EDAOS_POSIX off_t NAME(int fd, off_t off, int whence) {                    \
    static const auto real_fn = ea::real<off_t (*)(int, off_t, int)>(#NAME); \
    auto f = ea::find(fd);                                                   \
    return f ? ea::seek(*f, off, whence) : real_fn(fd, off, whence);         \
  }
EDAOS_LSEEK(lseek)
EDAOS_LSEEK(lseek64)

EDAOS_POSIX int fstat(int fd, struct stat* sb) {
  static const auto real_fn = ea::real<int (*)(int, struct stat*)>("fstat");
  auto f = ea::find(fd);
  return f ? ea::fstat_file(*f, sb) : real_fn(fd, sb);
}
EDAOS_POSIX int fstat64(int fd, struct stat64* sb) {
  static const auto real_fn = ea::real<int (*)(int, struct stat64*)>("fstat64");
  auto f = ea::find(fd);
  return f ? ea::fstat_file(*f, sb) : real_fn(fd, sb);
}

#define EDAOS_FTRUNCATE(NAME)                                         \
  EDAOS_POSIX int NAME(int fd, off_t len) {                           \
    static const auto real_fn = ea::real<int (*)(int, off_t)>(#NAME); \
    auto f = ea::find(fd);                                            \
    if (!f) return real_fn(fd, len);                                  \
    if ((f->flags & O_ACCMODE) == O_RDONLY) {                         \
      errno = EINVAL;                                                 \
      return -1;                                                      \
    }                                                                 \
    return ea::truncate_obj(*f->obj, len);                            \
  }
EDAOS_FTRUNCATE(ftruncate)
EDAOS_FTRUNCATE(ftruncate64)

#define EDAOS_FSYNC(NAME)                                      \
  EDAOS_POSIX int NAME(int fd) {                               \
    static const auto real_fn = ea::real<int (*)(int)>(#NAME); \
    auto f = ea::find(fd);                                     \
    if (!f) return real_fn(fd);                                \
    ea::Inside in;                                             \
    edaos::Status st = f->obj->sync();                         \
    return st.ok() ? 0 : ea::fail(st);                         \
  }
EDAOS_FSYNC(fsync)
EDAOS_FSYNC(fdatasync)

EDAOS_POSIX int close(int fd) {
  static const auto real_fn = ea::real<int (*)(int)>("close");
  if (auto f = ea::unregister(fd)) ea::release(*f);
  return real_fn(fd);
}

// ---- names ----

#define EDAOS_STAT(NAME, STAT, FOLLOW)                                               \
  EDAOS_POSIX int NAME(const char* path, struct STAT* sb) {                          \
    static const auto real_fn = ea::real<int (*)(const char*, struct STAT*)>(#NAME); \
    return ea::by_name(                                                              \
        path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(path, sb); },  \
        [&](const std::string& n) { return ea::stat_daos(n, sb, FOLLOW); });         \
  }
EDAOS_STAT(stat, stat, true)
EDAOS_STAT(stat64, stat64, true)
EDAOS_STAT(lstat, stat, false)
EDAOS_STAT(lstat64, stat64, false)

#define EDAOS_STATFS(NAME, VFS)                                                     \
  EDAOS_POSIX int NAME(const char* path, struct VFS* b) {                           \
    static const auto real_fn = ea::real<int (*)(const char*, struct VFS*)>(#NAME); \
    return ea::by_name(                                                             \
        path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(path, b); },  \
        [&](const std::string& n) { return ea::vfs_daos(n, b); });                  \
  }
EDAOS_STATFS(statfs, statfs)
EDAOS_STATFS(statfs64, statfs64)
EDAOS_STATFS(statvfs, statvfs)
EDAOS_STATFS(statvfs64, statvfs64)

// Binaries built against glibc < 2.33 call the versioned __xstat family.
#define EDAOS_XSTAT(NAME, STAT, FOLLOW)                                                   \
  EDAOS_POSIX int NAME(int ver, const char* path, struct STAT* sb) {                      \
    static const auto real_fn = ea::real<int (*)(int, const char*, struct STAT*)>(#NAME); \
    return ea::by_name(                                                                   \
        path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(ver, path, sb); },  \
        [&](const std::string& n) { return ea::stat_daos(n, sb, FOLLOW); });              \
  }
EDAOS_XSTAT(__xstat, stat, true)
EDAOS_XSTAT(__xstat64, stat64, true)
EDAOS_XSTAT(__lxstat, stat, false)
EDAOS_XSTAT(__lxstat64, stat64, false)

#define EDAOS_FSTATAT(NAME, STAT)                                                                 \
  EDAOS_POSIX int NAME(int dirfd, const char* path, struct STAT* sb, int flags) {                 \
    static const auto real_fn = ea::real<int (*)(int, const char*, struct STAT*, int)>(#NAME);    \
    if (!ea::from_cwd(dirfd, path) || (flags & AT_EMPTY_PATH))                                    \
      return real_fn(dirfd, path, sb, flags);                                                     \
    return ea::by_name(                                                                           \
        path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(dirfd, path, sb, flags); }, \
        [&](const std::string& n) {                                                               \
          return ea::stat_daos(n, sb, !(flags & AT_SYMLINK_NOFOLLOW));                            \
        });                                                                                       \
  }
EDAOS_FSTATAT(fstatat, stat)
EDAOS_FSTATAT(fstatat64, stat64)

#define EDAOS_EACCESS(NAME)                                                           \
  EDAOS_POSIX int NAME(const char* path, int mode) {                                  \
    static const auto real_fn = ea::real<int (*)(const char*, int)>(#NAME);           \
    return ea::by_name(                                                               \
        path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(path, mode); }, \
        [&](const std::string& n) { return ea::access_daos(n, mode); });              \
  }
EDAOS_EACCESS(access)
EDAOS_EACCESS(euidaccess)
EDAOS_EACCESS(eaccess)

EDAOS_POSIX int faccessat(int dirfd, const char* path, int mode, int flags) {
  static const auto real_fn = ea::real<int (*)(int, const char*, int, int)>("faccessat");
  if (!ea::from_cwd(dirfd, path)) return real_fn(dirfd, path, mode, flags);
  return ea::by_name(
      path, EDAOS_CALLER, ea::Effect::kLookup, [&] { return real_fn(dirfd, path, mode, flags); },
      [&](const std::string& n) { return ea::access_daos(n, mode); });
}

#define EDAOS_TRUNCATE(NAME)                                                          \
  EDAOS_POSIX int NAME(const char* path, off_t len) {                                 \
    static const auto real_fn = ea::real<int (*)(const char*, off_t)>(#NAME);         \
    return ea::by_name(                                                               \
        path, EDAOS_CALLER, ea::Effect::kDestroy, [&] { return real_fn(path, len); }, \
        [&](const std::string& n) { return ea::truncate_daos(n, len); });             \
  }
EDAOS_TRUNCATE(truncate)
EDAOS_TRUNCATE(truncate64)

EDAOS_POSIX int unlink(const char* path) {
  static const auto real_fn = ea::real<int (*)(const char*)>("unlink");
  return ea::by_name(
      path, EDAOS_CALLER, ea::Effect::kDestroy, [&] { return real_fn(path); },
      [&](const std::string& n) { return ea::unlink_daos(n, false); });
}

EDAOS_POSIX int unlinkat(int dirfd, const char* path, int flags) {
  static const auto real_fn = ea::real<int (*)(int, const char*, int)>("unlinkat");
  if (!ea::from_cwd(dirfd, path) || (flags & AT_REMOVEDIR)) return real_fn(dirfd, path, flags);
  return ea::by_name(
      path, EDAOS_CALLER, ea::Effect::kDestroy, [&] { return real_fn(dirfd, path, flags); },
      [&](const std::string& n) { return ea::unlink_daos(n, false); });
}

EDAOS_POSIX int remove(const char* path) {
  static const auto real_fn = ea::real<int (*)(const char*)>("remove");
  return ea::by_name(
      path, EDAOS_CALLER, ea::Effect::kDestroy, [&] { return real_fn(path); },
      [&](const std::string& n) { return ea::unlink_daos(n, true); });
}

EDAOS_POSIX FILE* fopen(const char* path, const char* mode) {
  return ea::fopen_common("fopen", path, mode, EDAOS_CALLER);
}
EDAOS_POSIX FILE* fopen64(const char* path, const char* mode) {
  return ea::fopen_common("fopen64", path, mode, EDAOS_CALLER);
}

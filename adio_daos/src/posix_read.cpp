// Read-only POSIX access to daos: files by the name without its prefix.
//
// Libraries that sit on MPI-IO sometimes look at a file with POSIX calls before they open it
// through MPI: PnetCDF's ncmpi_open (ncmpi_inq_file_format) strips everything up to the first
// ':' and reads the file's signature with open()/read()/lseek()/close(). On Aurora that path
// is a dfuse path; edaos has no dfuse, so this file interposes those calls (the idea of DAOS's
// I/O interception library, restricted to reading):
//
//   open/open64(path, O_RDONLY[, ...]) whose real open fails with ENOENT, called on MPI's main
//   thread by code outside edaos's libraries while MPI and the store run, where "daos:" + path
//   names a regular file (same name rules as MPI_File_open, so DAOS_CONT or daos://POOL/CONT/...
//   decides the container), returns a descriptor of /dev/null registered here. read, pread(64),
//   lseek(64), fstat(64) and close of a registered descriptor are served from the file in the
//   store; everything else about it is /dev/null's (mmap fails with ENODEV, a read that bypasses
//   these symbols sees end of file: never wrong bytes). Descriptors not registered here take the
//   real call after one atomic load. Writes and creation are never intercepted. EDAOS_POSIX_READ=0
//   turns the layer off.
//
// The lookup is independent (pool connection on MPI_COMM_SELF, as MPI_File_delete).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "adio_internal.hpp"

namespace edaos::adio {
namespace {

struct PosixFile {
  std::unique_ptr<objstore::Dfs> dfs;
  std::unique_ptr<objstore::DfsObj> obj;
  objstore::DfsStat st;
  off_t pos = 0;
};

std::atomic<int> g_nfiles{0};  // registered descriptors; 0 keeps every call on the fast path
std::mutex g_mu;
std::map<int, std::shared_ptr<PosixFile>>& table() {
  static auto* t = new std::map<int, std::shared_ptr<PosixFile>>;  // outlives static dtors
  return *t;
}
thread_local bool t_inside = false;  // our own store calls never re-enter the layer

template <typename F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}
using open_fn = int (*)(const char*, int, ...);
using read_fn = ssize_t (*)(int, void*, size_t);
using pread_fn = ssize_t (*)(int, void*, size_t, off_t);
using lseek_fn = off_t (*)(int, off_t, int);
using close_fn = int (*)(int);
using fstat_fn = int (*)(int, struct stat*);

bool layer_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("EDAOS_POSIX_READ");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

std::shared_ptr<PosixFile> find(int fd) {
  if (g_nfiles.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = table().find(fd);
  return it == table().end() ? nullptr : it->second;
}

// The store's regular file for `path`, or nullptr (errno left for the caller to set).
std::shared_ptr<PosixFile> lookup_daos(const char* path) {
  int init = 0, fin = 0, main_thread = 0;
  PMPI_Initialized(&init);
  if (!init) return nullptr;
  PMPI_Finalized(&fin);
  if (fin) return nullptr;
  PMPI_Is_thread_main(&main_thread);
  if (!main_thread || !objstore::is_initialized()) return nullptr;
  std::string pool, cont;
  auto in_cont = parse_daos_name(std::string("daos:") + path, &pool, &cont);
  if (!in_cont.ok()) return nullptr;
  auto p = independent_pool(pool);
  if (!p.ok()) return nullptr;
  auto c = p.value()->cont_open(cont);
  if (!c.ok()) return nullptr;
  auto m = objstore::Dfs::mount(c.value(), MPI_COMM_NULL, O_RDONLY);
  if (!m.ok()) return nullptr;
  auto f = std::make_shared<PosixFile>();
  f->dfs = std::move(m).value();
  auto o = f->dfs->lookup(in_cont.value(), O_RDONLY);
  if (!o.ok() || !o.value()->is_file()) return nullptr;
  f->obj = std::move(o).value();
  auto s = f->dfs->stat(in_cont.value());
  if (!s.ok()) return nullptr;
  f->st = s.value();
  return f;
}

// True for calls made by edaos's own libraries or LMDB: the store probes for files of its
// pool directory with read-only opens, which must see the real file system only.
bool from_the_store(void* caller) {
  Dl_info di;
  if (!dladdr(caller, &di) || !di.dli_fname) return false;
  const char* base = std::strrchr(di.dli_fname, '/');
  base = base ? base + 1 : di.dli_fname;
  return std::strncmp(base, "libedaos_", 9) == 0 || std::strncmp(base, "liblmdb", 7) == 0;
}

int open_common(const char* name, const char* path, int flags, mode_t mode, void* caller) {
  static const auto real_open = real<open_fn>(name);
  int fd = real_open(path, flags, mode);
  if (fd >= 0 || errno != ENOENT || (flags & O_ACCMODE) != O_RDONLY ||
      (flags & (O_CREAT | O_DIRECTORY | O_PATH)) || t_inside || !layer_enabled() || !path)
    return fd;
  int saved = errno;
  if (from_the_store(caller)) return fd;
  t_inside = true;
  std::shared_ptr<PosixFile> f;
  try {
    f = lookup_daos(path);
  } catch (...) {
    f = nullptr;
  }
  if (f) fd = real_open("/dev/null", O_RDONLY | (flags & O_CLOEXEC), 0);
  t_inside = false;
  if (!f || fd < 0) {
    errno = saved;
    return -1;
  }
  std::lock_guard<std::mutex> lk(g_mu);
  table()[fd] = std::move(f);
  g_nfiles.fetch_add(1, std::memory_order_release);
  return fd;
}

ssize_t read_at(PosixFile& f, void* buf, size_t len, off_t off) {
  if (off < 0) {
    errno = EINVAL;
    return -1;
  }
  t_inside = true;
  auto r = f.obj->read(static_cast<uint64_t>(off), buf, len);
  t_inside = false;
  if (!r.ok()) {
    errno = EIO;
    return -1;
  }
  return static_cast<ssize_t>(r.value());
}

off_t seek(PosixFile& f, off_t off, int whence) {
  off_t base = 0;
  if (whence == SEEK_CUR) {
    base = f.pos;
  } else if (whence == SEEK_END) {
    t_inside = true;
    auto sz = f.obj->get_size();
    t_inside = false;
    if (!sz.ok()) {
      errno = EIO;
      return -1;
    }
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

template <typename Stat>
int fill_stat(PosixFile& f, Stat* sb) {
  t_inside = true;
  auto sz = f.obj->get_size();
  t_inside = false;
  if (!sz.ok()) {  // the size is unknown (engines down): an error, never a stale or short size
    errno = EIO;
    return -1;
  }
  std::memset(sb, 0, sizeof(*sb));
  sb->st_mode = S_IFREG | (f.st.mode & 07777);
  sb->st_nlink = 1;
  sb->st_uid = f.st.uid;
  sb->st_gid = f.st.gid;
  sb->st_size = static_cast<off_t>(sz.value());
  sb->st_blksize = 1 << 20;
  sb->st_blocks = (sb->st_size + 511) / 512;
  sb->st_atim = f.st.atime;
  sb->st_mtim = f.st.mtime;
  sb->st_ctim = f.st.ctime;
  return 0;
}

mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}

}  // namespace

void release_posix_files() {
  std::map<int, std::shared_ptr<PosixFile>> files;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    files.swap(table());
    g_nfiles.store(0, std::memory_order_release);
  }
  t_inside = true;
  for (auto& [fd, f] : files) {
    f->obj.reset();
    (void)f->dfs->umount();
  }
  files.clear();
  t_inside = false;
}

}  // namespace edaos::adio

using edaos::adio::find;

#define EDAOS_POSIX __attribute__((visibility("default")))

extern "C" {

EDAOS_POSIX int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = edaos::adio::mode_arg(flags, ap);
  va_end(ap);
  return edaos::adio::open_common("open", path, flags, mode, __builtin_return_address(0));
}

EDAOS_POSIX int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = edaos::adio::mode_arg(flags, ap);
  va_end(ap);
  return edaos::adio::open_common("open64", path, flags, mode, __builtin_return_address(0));
}

EDAOS_POSIX ssize_t read(int fd, void* buf, size_t len) {
  static const auto real_read = edaos::adio::real<edaos::adio::read_fn>("read");
  auto f = find(fd);
  if (!f) return real_read(fd, buf, len);
  ssize_t n = edaos::adio::read_at(*f, buf, len, f->pos);
  if (n > 0) f->pos += n;
  return n;
}

EDAOS_POSIX ssize_t pread(int fd, void* buf, size_t len, off_t off) {
  static const auto real_pread = edaos::adio::real<edaos::adio::pread_fn>("pread");
  auto f = find(fd);
  return f ? edaos::adio::read_at(*f, buf, len, off) : real_pread(fd, buf, len, off);
}

EDAOS_POSIX ssize_t pread64(int fd, void* buf, size_t len, off_t off) {
  static const auto real_pread = edaos::adio::real<edaos::adio::pread_fn>("pread64");
  auto f = find(fd);
  return f ? edaos::adio::read_at(*f, buf, len, off) : real_pread(fd, buf, len, off);
}

EDAOS_POSIX off_t lseek(int fd, off_t off, int whence) {
  static const auto real_lseek = edaos::adio::real<edaos::adio::lseek_fn>("lseek");
  auto f = find(fd);
  return f ? edaos::adio::seek(*f, off, whence) : real_lseek(fd, off, whence);
}

EDAOS_POSIX off_t lseek64(int fd, off_t off, int whence) {
  static const auto real_lseek = edaos::adio::real<edaos::adio::lseek_fn>("lseek64");
  auto f = find(fd);
  return f ? edaos::adio::seek(*f, off, whence) : real_lseek(fd, off, whence);
}

EDAOS_POSIX int fstat(int fd, struct stat* sb) {
  static const auto real_fstat = edaos::adio::real<edaos::adio::fstat_fn>("fstat");
  auto f = find(fd);
  return f ? edaos::adio::fill_stat(*f, sb) : real_fstat(fd, sb);
}

EDAOS_POSIX int fstat64(int fd, struct stat64* sb) {
  using fstat64_fn = int (*)(int, struct stat64*);
  static const auto real_fstat = edaos::adio::real<fstat64_fn>("fstat64");
  auto f = find(fd);
  return f ? edaos::adio::fill_stat(*f, sb) : real_fstat(fd, sb);
}

EDAOS_POSIX int close(int fd) {
  static const auto real_close = edaos::adio::real<edaos::adio::close_fn>("close");
  if (edaos::adio::g_nfiles.load(std::memory_order_acquire) != 0) {
    std::shared_ptr<edaos::adio::PosixFile> f;
    {
      std::lock_guard<std::mutex> lk(edaos::adio::g_mu);
      auto it = edaos::adio::table().find(fd);
      if (it != edaos::adio::table().end()) {
        f = std::move(it->second);
        edaos::adio::table().erase(it);
        edaos::adio::g_nfiles.fetch_sub(1, std::memory_order_release);
      }
    }
    if (f) {
      edaos::adio::t_inside = true;
      f->obj.reset();
      (void)f->dfs->umount();
      f.reset();
      edaos::adio::t_inside = false;
    }
  }
  return real_close(fd);
}

}  // extern "C"

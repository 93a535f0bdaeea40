// `edaos fs ...`: the POSIX namespace of a container (edaos/objstore/dfs.hpp): copy in and out,
// ls, cat, stat, the per-directory class attribute, and the namespace checker.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>
#include <vector>

#include "cli.hpp"
#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/props.hpp"

namespace edaos::cli {

using objstore::Container;
using objstore::Dfs;
using objstore::DfsAnchor;
using objstore::DfsDirent;
using objstore::DfsObj;
using objstore::DfsStat;
using objstore::ObjectId;
using objstore::Pool;

namespace {

constexpr uint32_t kReaddirBatch = 256;

// A mounted container namespace for one command.
struct Mounted {
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> cont;
  std::unique_ptr<Dfs> dfs;
  std::string path;  // path inside the container
  std::string uri;   // for messages
};

Outcome mount_target(const Target& t, const std::string& path, int flags, Mounted* m) {
  Outcome o = open_cont(t, &m->pool, &m->cont);
  if (!o.ok()) return o;
  auto d = Dfs::mount(m->cont, MPI_COMM_NULL, flags);
  if (!d.ok()) return from_status(d.status());
  m->dfs = std::move(d).value();
  m->path = path.empty() ? "/" : path;
  m->uri = "daos://" + t.pool_arg + "/" + t.cont + (m->path == "/" ? "" : m->path);
  return ok();
}

// Where an fs command works: a daos:// URI (the --path option or the first argument), or
// <pool> <cont> arguments with --dfs-path (default "/").
Outcome fs_target(const Args& a, int flags, Mounted* m) {
  std::string uri = a.get("path");
  if (uri.empty() && !a.pos.empty() && is_daos_uri(a.pos[0])) uri = a.pos[0];
  Target t;
  std::string path;
  if (!uri.empty()) {
    auto u = parse_daos_uri(uri);
    if (!u.ok()) return uri_error(u.status());
    if (a.pos.size() > (a.has("path") ? 0u : 1u))
      return usage_error("unexpected argument '" + a.pos.back() + "'");
    t.pool = u->pool;
    t.pool_arg = u->pool_spec;
    t.cont = u->cont;
    path = u->path;
  } else {
    Outcome o = pick_target(a, true, &t);
    if (!o.ok()) return o;
    if (a.pos.size() > 2) return usage_error("unexpected argument '" + a.pos.back() + "'");
    path = a.get("dfs-path", "/");
    if (path.empty() || path[0] != '/') return usage_error("--dfs-path must be absolute");
  }
  return mount_target(t, path, flags, m);
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string base_name(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string errno_msg(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string mode_string(mode_t m) {
  std::string s = S_ISDIR(m) ? "d" : S_ISLNK(m) ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (m & (0400 >> i)) ? rwx[i] : '-';
  return s;
}

std::string time_string(const struct timespec& ts) {
  char buf[64];
  struct tm tmv;
  time_t t = ts.tv_sec;
  localtime_r(&t, &tmv);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tmv);
  return buf;
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// ---- copy ------------------------------------------------------------------------------------

struct CopyStats {
  uint64_t dirs = 0, files = 0, links = 0, bytes = 0, skipped = 0;
};

// Files up to kBatchFileMax bytes are copied in by Dfs::create_files, up to kBatchFiles files
// or kBatchBytes bytes per call.
constexpr uint64_t kBatchFileMax = 1 << 20;
constexpr size_t kBatchFiles = 256;
constexpr uint64_t kBatchBytes = 64 << 20;

class Copier {
 public:
  Copier(Dfs* dfs, Progress* prog) : dfs_(dfs), prog_(prog) {}
  CopyStats stats;

  // Local tree `src` to namespace path `dst` (which must not exist, or is replaced for files).
  Outcome in(const std::string& src, const std::string& dst) {
    struct stat sb;
    if (::lstat(src.c_str(), &sb) != 0) return runtime_error(errno_msg("cannot read", src));
    if (S_ISDIR(sb.st_mode)) return in_dir(src, dst, sb);
    if (S_ISLNK(sb.st_mode)) return in_link(src, dst, sb);
    if (!S_ISREG(sb.st_mode)) {
      stats.skipped++;
      return ok();
    }
    return in_file(src, dst, sb);
  }

 private:
  // A directory: small regular files go in batches through Dfs::create_files (their data and
  // entries in flight together, the source's times set at creation), everything else one by
  // one; names that exist already (copying over an earlier copy) go the one-by-one way, which
  // replaces them.
  Outcome in_dir(const std::string& src, const std::string& dst, const struct stat& sb) {
    Status st = dfs_->mkdir(dst, sb.st_mode & 07777);
    if (!st.ok() && st.code() == EDAOS_EXIST) {
      auto ds = dfs_->stat(dst, false);
      if (!ds.ok() || !S_ISDIR(ds->mode)) return from_status(st);
    } else if (!st.ok()) {
      return from_status(st);
    }
    stats.dirs++;
    auto dir = dfs_->lookup(dst, O_RDWR | O_NOFOLLOW);
    if (!dir.ok()) return from_status(dir.status());
    std::vector<std::string> names;
    DIR* d = opendir(src.c_str());
    if (!d) return runtime_error(errno_msg("cannot list", src));
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());
    Batch batch;
    std::vector<std::string> rest;  // directories, links, large files: after the batches
    for (auto& n : names) {
      const std::string path = src + "/" + n;
      struct stat fb;
      if (::lstat(path.c_str(), &fb) != 0) return runtime_error(errno_msg("cannot read", path));
      if (!S_ISREG(fb.st_mode) || static_cast<uint64_t>(fb.st_size) > kBatchFileMax) {
        rest.push_back(n);
        continue;
      }
      Outcome o = batch.add(path, n, fb);
      if (!o.ok()) return o;
      if (batch.files.size() >= kBatchFiles || batch.bytes >= kBatchBytes) {
        o = flush(dir.value().get(), dst, &batch);
        if (!o.ok()) return o;
      }
    }
    Outcome o = flush(dir.value().get(), dst, &batch);
    if (!o.ok()) return o;
    for (auto& n : rest) {
      o = in(src + "/" + n, join_path(dst, n));
      if (!o.ok()) return o;
    }
    return ok();
  }

  // Small files read into memory, waiting for one create_files call.
  struct Batch {
    std::vector<objstore::DfsNewFile> files;
    std::vector<std::string> src;
    std::vector<struct stat> sb;
    std::vector<std::vector<char>> data;
    uint64_t bytes = 0;
    Outcome add(const std::string& path, const std::string& name, const struct stat& fb) {
      std::vector<char> buf(static_cast<size_t>(fb.st_size));
      int fd = ::open(path.c_str(), O_RDONLY);
      if (fd < 0) return runtime_error(errno_msg("cannot open", path));
      size_t got = 0;
      bool failed = false;
      while (got < buf.size()) {
        ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        failed = n < 0;
        if (n <= 0) break;  // an error, or the file shrank meanwhile: what is there
        got += static_cast<size_t>(n);
      }
      const int err = errno;
      ::close(fd);
      if (failed) {
        errno = err;
        return runtime_error(errno_msg("cannot read", path));
      }
      buf.resize(got);
      objstore::DfsNewFile f;
      f.name = name;
      f.mode = fb.st_mode & 07777;
      f.set_times = true;
      f.atime = fb.st_atim;
      f.mtime = fb.st_mtim;
      files.push_back(std::move(f));
      src.push_back(path);
      sb.push_back(fb);
      data.push_back(std::move(buf));
      bytes += got;
      return ok();
    }
    void clear() {
      files.clear();
      src.clear();
      sb.clear();
      data.clear();
      bytes = 0;
    }
  };

  Outcome flush(const DfsObj* dir, const std::string& dst, Batch* b) {
    if (b->files.empty()) return ok();
    for (size_t i = 0; i < b->files.size(); ++i) {  // (data() moves with the vectors: set now)
      b->files[i].data = b->data[i].data();
      b->files[i].len = b->data[i].size();
    }
    (void)dfs_->create_files(dir, &b->files);
    for (size_t i = 0; i < b->files.size(); ++i) {
      const objstore::DfsNewFile& f = b->files[i];
      if (f.status.code() == EDAOS_EXIST) {  // there already: replace it the one-by-one way
        Outcome o = in_file(b->src[i], join_path(dst, f.name), b->sb[i]);
        if (!o.ok()) return o;
        continue;
      }
      if (!f.status.ok()) return from_status(f.status.with_context(join_path(dst, f.name)));
      stats.files++;
      stats.bytes += f.len;
      prog_->add(f.len, 1);
    }
    b->clear();
    return ok();
  }

  Outcome in_link(const std::string& src, const std::string& dst, const struct stat& sb) {
    std::string target(static_cast<size_t>(sb.st_size) + 256, '\0');
    ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
    if (n < 0) return runtime_error(errno_msg("cannot read link", src));
    target.resize(static_cast<size_t>(n));
    Status st = dfs_->symlink(dst, target);
    if (st.code() == EDAOS_EXIST) {
      Status rm = dfs_->remove(dst, false);
      if (!rm.ok()) return from_status(rm);
      st = dfs_->symlink(dst, target);
    }
    if (!st.ok()) return from_status(st);
    stats.links++;
    prog_->add(0, 1);
    return ok();
  }

  Outcome in_file(const std::string& src, const std::string& dst, const struct stat& sb) {
    int fd = ::open(src.c_str(), O_RDONLY);
    if (fd < 0) return runtime_error(errno_msg("cannot open", src));
    auto f = dfs_->open(dst, S_IFREG | (sb.st_mode & 07777), O_RDWR | O_CREAT | O_TRUNC);
    if (!f.ok()) {
      ::close(fd);
      return from_status(f.status());
    }
    std::vector<char>& buf = buffer(f.value()->chunk_size());
    uint64_t off = 0;
    Outcome o;
    for (;;) {
      ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0) {
        o = runtime_error(errno_msg("cannot read", src));
        break;
      }
      if (n == 0) break;
      Status st = f.value()->write(off, buf.data(), static_cast<size_t>(n));
      if (!st.ok()) {
        o = from_status(st);
        break;
      }
      off += static_cast<uint64_t>(n);
      stats.bytes += static_cast<uint64_t>(n);
      prog_->add(static_cast<uint64_t>(n), 0);
    }
    ::close(fd);
    if (!o.ok()) return o;
    if (off < static_cast<uint64_t>(sb.st_size)) {
      Status st = f.value()->set_size(static_cast<uint64_t>(sb.st_size));
      if (!st.ok()) return from_status(st);
    }
    f.value().reset();  // records mtime; then set the source's times
    (void)dfs_->utimens(dst, &sb.st_atim, &sb.st_mtim, false);
    stats.files++;
    prog_->add(0, 1);
    return ok();
  }

 public:
  // Namespace path `src` to local path `dst`.
  Outcome out(const std::string& src, const std::string& dst) {
    auto st = dfs_->stat(src, false);
    if (!st.ok()) return from_status(st.status());
    const DfsStat& s = st.value();
    if (S_ISDIR(s.mode)) {
      if (::mkdir(dst.c_str(), (s.mode & 07777) | 0700) != 0) {
        struct stat sb;
        if (errno != EEXIST || ::stat(dst.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode))
          return runtime_error(errno_msg("cannot create directory", dst));
      }
      stats.dirs++;
      DfsAnchor anchor;
      while (!anchor.eof) {
        auto ents = dfs_->readdir(src, &anchor, kReaddirBatch);
        if (!ents.ok()) return from_status(ents.status());
        for (auto& e : ents.value()) {
          Outcome o = out(join_path(src, e.name), dst + "/" + e.name);
          if (!o.ok()) return o;
        }
      }
      ::chmod(dst.c_str(), s.mode & 07777);
      return ok();
    }
    if (S_ISLNK(s.mode)) {
      auto target = dfs_->readlink(src);
      if (!target.ok()) return from_status(target.status());
      ::unlink(dst.c_str());
      if (::symlink(target->c_str(), dst.c_str()) != 0)
        return runtime_error(errno_msg("cannot create link", dst));
      stats.links++;
      prog_->add(0, 1);
      return ok();
    }
    auto f = dfs_->lookup(src, O_RDONLY | O_NOFOLLOW);
    if (!f.ok()) return from_status(f.status());
    int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC, (s.mode & 07777) | 0200);
    if (fd < 0) return runtime_error(errno_msg("cannot create", dst));
    std::vector<char>& buf = buffer(f.value()->chunk_size());
    uint64_t off = 0;
    Outcome o;
    // The size is known from the stat: read_full saves the size round trip of read().
    while (off < s.size) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), s.size - off));
      objstore::IoVec iov{buf.data(), n};
      Status rs = f.value()->read_full(off, &iov, 1);
      if (!rs.ok()) {
        o = from_status(rs);
        break;
      }
      size_t done = 0;
      while (done < n) {
        ssize_t w = ::pwrite(fd, buf.data() + done, n - done, static_cast<off_t>(off + done));
        if (w < 0) break;
        done += static_cast<size_t>(w);
      }
      if (done < n) {
        o = runtime_error(errno_msg("cannot write", dst));
        break;
      }
      off += n;
      stats.bytes += n;
      prog_->add(n, 0);
    }
    if (o.ok() && ::ftruncate(fd, static_cast<off_t>(off)) != 0)
      o = runtime_error(errno_msg("cannot write", dst));
    struct timespec times[2] = {s.atime, s.mtime};
    if (o.ok()) ::futimens(fd, times);
    if (o.ok() && ::fchmod(fd, s.mode & 07777) != 0) o = runtime_error(errno_msg("chmod", dst));
    ::close(fd);
    if (!o.ok()) return o;
    stats.files++;
    prog_->add(0, 1);
    return ok();
  }

 private:
  // A transfer buffer of whole chunks, at least 4 MiB.
  std::vector<char>& buffer(uint64_t chunk) {
    uint64_t c = chunk ? chunk : (1 << 20);
    uint64_t want = ((4u << 20) + c - 1) / c * c;
    if (buf_.size() != want) buf_.assign(want, 0);
    return buf_;
  }
  Dfs* dfs_;
  Progress* prog_;
  std::vector<char> buf_;
};

uint64_t local_bytes(const std::string& p) {
  struct stat sb;
  if (::lstat(p.c_str(), &sb) != 0) return 0;
  if (S_ISREG(sb.st_mode)) return static_cast<uint64_t>(sb.st_size);
  if (!S_ISDIR(sb.st_mode)) return 0;
  uint64_t sum = 0;
  if (DIR* d = opendir(p.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        sum += local_bytes(p + "/" + e->d_name);
    closedir(d);
  }
  return sum;
}

uint64_t daos_bytes(Dfs& dfs, const std::string& p) {
  auto st = dfs.stat(p, false);
  if (!st.ok()) return 0;
  if (S_ISREG(st->mode)) return st->size;
  if (!S_ISDIR(st->mode)) return 0;
  uint64_t sum = 0;
  DfsAnchor anchor;
  while (!anchor.eof) {
    auto ents = dfs.readdir(p, &anchor, kReaddirBatch, true);
    if (!ents.ok()) break;
    for (auto& e : ents.value()) {
      if (S_ISREG(e.mode)) sum += e.st.size;
      if (S_ISDIR(e.mode)) sum += daos_bytes(dfs, join_path(p, e.name));
    }
  }
  return sum;
}

std::string summary(const char* verb, const std::string& where, const CopyStats& s, double secs) {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "Successfully copied %s: %s (%llu directories, %llu files, %llu links, %s in "
      "%.2f s%s)\n",
      verb, where.c_str(), static_cast<unsigned long long>(s.dirs),
      static_cast<unsigned long long>(s.files), static_cast<unsigned long long>(s.links),
      objstore::format_ibytes(s.bytes).c_str(), secs,
      s.skipped ? (", " + std::to_string(s.skipped) + " special files skipped").c_str() : "");
  return buf;
}

Outcome fs_copy(const Args& a) {
  std::string src = a.get("src"), dst = a.get("dst");
  if (src.empty() || dst.empty()) return usage_error("--src and --dst are required");
  if (!a.pos.empty()) return usage_error("unexpected argument '" + a.pos[0] + "'");
  bool src_daos = is_daos_uri(src), dst_daos = is_daos_uri(dst);
  if (src_daos == dst_daos)
    return usage_error(src_daos ? "copies between containers are not supported"
                                : "one of --src and --dst must be a daos://<pool>/<cont> path");
  auto u = parse_daos_uri(src_daos ? src : dst);
  if (!u.ok()) return uri_error(u.status());
  Target t;
  t.pool = u->pool;
  t.pool_arg = u->pool_spec;
  t.cont = u->cont;
  Mounted m;
  Outcome o = mount_target(t, u->path, src_daos ? O_RDONLY : O_RDWR, &m);
  if (!o.ok()) return o;
  double t0 = now_s();
  if (!src_daos) {
    struct stat sb;
    if (::lstat(src.c_str(), &sb) != 0) return runtime_error(errno_msg("cannot read", src));
    // cp -r: into an existing directory under the source's name, else as the given path.
    std::string target = m.path;
    auto ds = m.dfs->stat(target, true);
    if (ds.ok() && S_ISDIR(ds->mode)) target = join_path(target, base_name(src));
    Progress prog(isatty(STDOUT_FILENO) ? local_bytes(src) : 0, true);
    Copier c(m.dfs.get(), &prog);
    o = c.in(src, target);
    prog.finish();
    if (!o.ok()) return o;
    Status st = m.cont->sync();
    if (!st.ok()) return from_status(st);
    std::fputs(
        summary("to DAOS", "daos://" + t.pool_arg + "/" + t.cont + target, c.stats, now_s() - t0)
            .c_str(),
        stdout);
    return ok();
  }
  std::string target = dst;
  struct stat sb;
  if (::stat(dst.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode))
    target = dst + "/" + (m.path == "/" ? t.cont : base_name(m.path));
  Progress prog(isatty(STDOUT_FILENO) ? daos_bytes(*m.dfs, m.path) : 0, true);
  Copier c(m.dfs.get(), &prog);
  o = c.out(m.path, target);
  prog.finish();
  if (!o.ok()) return o;
  std::fputs(summary("from DAOS", target, c.stats, now_s() - t0).c_str(), stdout);
  return ok();
}

// ---- looking inside ------------------------------------------------------------------------

std::string user_name(uint32_t uid) {
  const passwd* pw = getpwuid(uid);
  return pw ? pw->pw_name : std::to_string(uid);
}
std::string group_name(uint32_t gid) {
  const group* gr = getgrgid(gid);
  return gr ? gr->gr_name : std::to_string(gid);
}

std::string long_line(const std::string& name, const DfsStat& s, Dfs& dfs, const std::string& p) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s %-8s %-8s %12llu %s ", mode_string(s.mode).c_str(),
                user_name(s.uid).c_str(), group_name(s.gid).c_str(),
                static_cast<unsigned long long>(s.size), time_string(s.mtime).c_str());
  std::string line = buf + name;
  if (S_ISLNK(s.mode)) {
    auto t = dfs.readlink(p);
    if (t.ok()) line += " -> " + t.value();
  }
  return line + "\n";
}

Outcome fs_ls(const Args& a) {
  Mounted m;
  Outcome o = fs_target(a, O_RDONLY, &m);
  if (!o.ok()) return o;
  bool longf = a.has("long");
  auto st = m.dfs->stat(m.path, true);
  if (!st.ok()) return from_status(st.status());
  if (!S_ISDIR(st->mode)) {
    std::fputs(
        longf ? long_line(m.path, st.value(), *m.dfs, m.path).c_str() : (m.path + "\n").c_str(),
        stdout);
    return ok();
  }
  DfsAnchor anchor;
  while (!anchor.eof) {
    auto ents = m.dfs->readdir(m.path, &anchor, kReaddirBatch, longf);
    if (!ents.ok()) return from_status(ents.status());
    for (auto& e : ents.value()) {
      if (longf)
        std::fputs(long_line(e.name, e.st, *m.dfs, join_path(m.path, e.name)).c_str(), stdout);
      else
        std::printf("%s%s\n", e.name.c_str(), S_ISDIR(e.mode) ? "/" : "");
    }
  }
  return ok();
}

Outcome fs_cat(const Args& a) {
  Mounted m;
  Outcome o = fs_target(a, O_RDONLY, &m);
  if (!o.ok()) return o;
  auto f = m.dfs->lookup(m.path, O_RDONLY);
  if (!f.ok()) return from_status(f.status());
  if (!f.value()->is_file()) return runtime_error(m.path + ": not a regular file");
  std::vector<char> buf(4 << 20);
  for (uint64_t off = 0;;) {
    auto n = f.value()->read(off, buf.data(), buf.size());
    if (!n.ok()) return from_status(n.status());
    if (n.value() == 0) break;
    if (std::fwrite(buf.data(), 1, n.value(), stdout) != n.value())
      return runtime_error("cannot write to standard output");
    off += n.value();
  }
  return ok();
}

// rm: the shell has no other way to remove a file of a container (the POSIX view of daos:
// names lives inside MPI jobs). A directory needs -r (then its whole subtree goes, depth
// first); the root is never removed; a final symbolic link is removed, not followed.
Outcome fs_rm(const Args& a) {
  Mounted m;
  Outcome o = fs_target(a, O_RDWR, &m);
  if (!o.ok()) return o;
  if (m.path.find_first_not_of('/') == std::string::npos)
    return usage_error("refusing to remove the root of a container");
  auto st = m.dfs->stat(m.path, false);
  if (!st.ok()) return from_status(st.status());
  const bool recursive = a.has("recursive");
  if (S_ISDIR(st.value().mode) && !recursive)
    return runtime_error(m.path + ": is a directory (use -r)");
  Status rs = m.dfs->remove(m.path, recursive);
  if (!rs.ok()) return from_status(rs);
  return ok();
}

Outcome fs_stat(const Args& a) {
  Mounted m;
  Outcome o = fs_target(a, O_RDONLY, &m);
  if (!o.ok()) return o;
  auto st = m.dfs->stat(m.path, !a.has("no-follow"));
  if (!st.ok()) return from_status(st.status());
  const DfsStat& s = st.value();
  char mode[32];
  std::snprintf(mode, sizeof mode, "%04o (%s)", static_cast<unsigned>(s.mode & 07777),
                mode_string(s.mode).c_str());
  std::vector<std::pair<std::string, std::string>> rows = {
      {"  File:", m.path},
      {"  Type:", S_ISDIR(s.mode)   ? "directory"
                  : S_ISLNK(s.mode) ? "symbolic link"
                                    : "regular file"},
      {"  Size:", std::to_string(s.size)},
      {"  Mode:", mode},
      {"  Owner:", user_name(s.uid) + " (" + std::to_string(s.uid) + ")"},
      {"  Group:", group_name(s.gid) + " (" + std::to_string(s.gid) + ")"},
  };
  if (!S_ISLNK(s.mode)) {
    rows.push_back({"  OID:", s.oid.to_string()});
    rows.push_back({"  Object class:", s.oclass.name()});
    if (S_ISREG(s.mode)) rows.push_back({"  Chunk size:", std::to_string(s.chunk_size)});
  } else {
    auto t = m.dfs->readlink(m.path);
    if (t.ok()) rows.push_back({"  Target:", t.value()});
  }
  rows.push_back({"  Access:", time_string(s.atime)});
  rows.push_back({"  Modify:", time_string(s.mtime)});
  rows.push_back({"  Change:", time_string(s.ctime)});
  std::fputs(format_entity(rows).c_str(), stdout);
  return ok();
}

// ---- class attribute -----------------------------------------------------------------------

Outcome fs_set_attr(const Args& a) {
  if (!a.has("oclass") && !a.has("chunk-size"))
    return usage_error("nothing to set (--oclass and/or --chunk-size)");
  uint64_t chunk = 0;
  if (a.has("chunk-size")) {
    auto c = objstore::parse_size(a.get("chunk-size"));
    if (!c.ok()) return usage_from_status(c.status());
    if (c.value() == 0) return usage_error("--chunk-size must be > 0");
    chunk = c.value();
  }
  std::string oclass = a.get("oclass");
  if (!oclass.empty()) {
    auto oc = objstore::ObjClass::parse(oclass);
    if (!oc.ok()) return usage_from_status(oc.status());
    oclass = oc->name();
  }
  Mounted m;
  Outcome o = fs_target(a, O_RDWR, &m);
  if (!o.ok()) return o;
  if (oclass.empty()) {
    // Keep the current class when only the chunk size changes.
    auto l = m.dfs->get_layout(m.path);
    if (!l.ok()) return from_status(l.status());
    oclass = l->child_oclass;
  }
  Status st = m.dfs->set_dir_attr(m.path, oclass, chunk);
  if (!st.ok()) return from_status(st);
  return ok();
}

Outcome fs_get_attr(const Args& a) {
  Mounted m;
  Outcome o = fs_target(a, O_RDONLY, &m);
  if (!o.ok()) return o;
  auto l = m.dfs->get_layout(m.path);
  if (!l.ok()) return from_status(l.status());
  auto st = m.dfs->stat(m.path, true);
  if (!st.ok()) return from_status(st.status());
  if (S_ISDIR(st->mode)) {
    // As DAOS: a directory shows the class and chunk size its new files get.
    std::printf("Object Class = %s\n",
                l->child_oclass.empty() ? "not set (container default)" : l->child_oclass.c_str());
    if (l->child_chunk_size)
      std::printf("Object Chunk Size = %llu\n",
                  static_cast<unsigned long long>(l->child_chunk_size));
    else
      std::printf("Object Chunk Size = not set (container default)\n");
    std::printf("Directory Object Class = %s\n", l->oclass.name().c_str());
  } else {
    std::printf("Object Class = %s\n", l->oclass.name().c_str());
    std::printf("Object Chunk Size = %llu\n", static_cast<unsigned long long>(l->chunk_size));
  }
  std::printf("OID = %s\n", l->oid.to_string().c_str());
  return ok();
}

// ---- check ---------------------------------------------------------------------------------

std::string stamp() {
  char buf[64];
  time_t t = std::time(nullptr);
  struct tm tmv;
  localtime_r(&t, &tmv);
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H:%M:%S", &tmv);
  return buf;
}

// Marks every object reachable from the root. Returns the number of entries marked.
Outcome mark(Dfs& dfs, const std::string& dir, std::set<ObjectId>* seen, uint64_t* count) {
  DfsAnchor anchor;
  while (!anchor.eof) {
    auto ents = dfs.readdir(dir, &anchor, kReaddirBatch);
    if (!ents.ok()) return from_status(ents.status());
    for (auto& e : ents.value()) {
      ++*count;
      if (e.oid != ObjectId{}) seen->insert(e.oid);
      if (S_ISDIR(e.mode)) {
        Outcome o = mark(dfs, join_path(dir, e.name), seen, count);
        if (!o.ok()) return o;
      }
    }
  }
  return ok();
}

Outcome fs_check(const Args& a) {
  bool remove = a.has("remove"), relink = a.has("relink"), print = a.has("print");
  if (a.has("flags")) {
    std::string fl = a.get("flags") + ",";
    for (size_t s = 0, e; (e = fl.find(',', s)) != std::string::npos; s = e + 1) {
      std::string f = fl.substr(s, e - s);
      if (f == "remove") {
        remove = true;
      } else if (f == "relink") {
        relink = true;
      } else if (f == "print") {
        print = true;
      } else if (f != "evict" && !f.empty()) {  // evict: edaos tracks no open handles
        return usage_error("unknown --flags value '" + f + "' (print, remove, relink, evict)");
      }
    }
  }
  if (remove && relink) return usage_error("--remove and --relink exclude each other");
  uint64_t chunk = 0;
  if (a.has("chunk-size")) {
    auto c = objstore::parse_size(a.get("chunk-size"));
    if (!c.ok()) return usage_from_status(c.status());
    chunk = c.value();
  }
  Mounted m;
  Outcome o = fs_target(a, (remove || relink) ? O_RDWR : O_RDONLY, &m);
  if (!o.ok()) return o;
  double t0 = now_s();
  std::printf("DFS checker: Start (%s)\n", stamp().c_str());
  std::printf("DFS checker: Create OIT table\n");
  auto all = m.cont->list_objects();
  if (!all.ok()) return from_status(all.status());
  std::printf("DFS checker: Iterating namespace and marking objects\n");
  std::set<ObjectId> seen = {m.dfs->superblock_oid(), m.dfs->root_oid()};
  // Objects kept beside the namespace, named by container attributes: MPI-IO's lock KV.
  for (const char* attr : {Dfs::kMpioLockKvAttr}) {
    auto v = m.cont->attr_get(attr);
    if (!v.ok()) {
      if (v.status().code() != EDAOS_NONEXIST) return from_status(v.status());
      continue;
    }
    auto oid = ObjectId::parse(v.value());
    if (oid.ok()) seen.insert(oid.value());
  }
  uint64_t count = 0;
  o = mark(*m.dfs, "/", &seen, &count);
  if (!o.ok()) return o;
  std::printf("DFS checker: marked %llu files/directories (runtime: %.0f sec)\n",
              static_cast<unsigned long long>(count), now_s() - t0);
  std::printf("DFS checker: Checking unmarked OIDs (Pass 1)\n");
  // Directories first: relinking one makes its subtree reachable again.
  std::vector<ObjectId> leaked;
  for (auto& x : all.value())
    if (!seen.count(x)) leaked.push_back(x);
  auto is_file = [](const ObjectId& x) {
    return objstore::otype_of(x) == objstore::ObjType::kArray;
  };
  std::stable_partition(leaked.begin(), leaked.end(),
                        [&](const ObjectId& x) { return !is_file(x); });
  uint64_t fixed = 0, failed = 0, found_again = 0;
  if (relink && !leaked.empty()) {
    Status st = m.dfs->mkdir("/lost+found", 0700);
    if (!st.ok() && st.code() != EDAOS_EXIST) return from_status(st.with_context("/lost+found"));
  }
  for (auto& x : leaked) {
    const std::string id = x.to_string();
    if (print || (!remove && !relink))
      std::printf("DFS checker: leaked OID %s (%s, %s)\n", id.c_str(),
                  is_file(x) ? "file" : "directory", objstore::oclass_of(x).name().c_str());
    if (!remove && !relink) continue;
    if (seen.count(x)) {  // below a directory relinked earlier in this pass
      ++found_again;
      continue;
    }
    Status st;
    if (remove) {
      if (is_file(x)) {
        auto arr = m.cont->open_array(x);
        st = arr.ok() ? arr.value()->destroy() : arr.status();
      } else {
        auto kv = m.cont->open_kv(x);
        st = kv.ok() ? kv.value()->destroy() : kv.status();
      }
      if (st.ok()) std::printf("DFS checker: removed OID %s\n", id.c_str());
    } else {
      const std::string path = "/lost+found/" + id;
      st = m.dfs->link_object(path, x, is_file(x) ? 0600 : 0700, chunk);
      if (st.ok()) {
        std::printf("DFS checker: relinked OID %s as %s\n", id.c_str(), path.c_str());
        if (!is_file(x)) {
          uint64_t n = 0;
          Outcome mo = mark(*m.dfs, path, &seen, &n);
          if (!mo.ok()) return mo;
        }
      }
    }
    if (st.ok()) {
      ++fixed;
    } else {
      ++failed;
      std::printf("DFS checker: OID %s: %s\n", id.c_str(), from_status(st).msg.c_str());
    }
  }
  if (remove || relink) (void)m.cont->sync();
  std::printf("DFS checker: Done! (runtime: %.0f sec)\n", now_s() - t0);
  std::printf("DFS checker: Number of leaked OIDs in namespace = %zu\n", leaked.size());
  if (remove || relink)
    std::printf("DFS checker: %s %llu, reachable again %llu, failed %llu\n",
                remove ? "removed" : "relinked", static_cast<unsigned long long>(fixed),
                static_cast<unsigned long long>(found_again),
                static_cast<unsigned long long>(failed));
  if (failed)
    return runtime_error(std::to_string(failed) + " leaked objects could not be " +
                         (remove ? "removed" : "relinked"));
  return ok();
}

const OptSpec kPoolOpt{"pool", true, "pool (instead of the first argument)"};
const OptSpec kContOpt{"cont", true, "container (instead of the second argument)"};
const OptSpec kPathOpt{"path", true, "daos://<pool>/<cont>/path"};
const OptSpec kDfsPathOpt{"dfs-path", true, "path inside the container (with <pool> <cont>)"};

}  // namespace

std::vector<Command> fs_commands() {
  return {
      {"fs",
       "copy",
       "--src=SRC --dst=DST",
       "copy a file or directory tree into (daos:// destination) or out of a container",
       {{"src", true, "local path or daos://<pool>/<cont>/path"},
        {"dst", true, "local path or daos://<pool>/<cont>/path"}},
       fs_copy,
       {"cp"}},
      {"fs",
       "ls",
       "[-l] daos://<pool>/<cont>/path | [<pool> <cont> --dfs-path=P]",
       "list a directory of a container",
       {{"long", false, "mode, owner, size, mtime", 'l'},
        kPathOpt,
        kDfsPathOpt,
        kPoolOpt,
        kContOpt},
       fs_ls,
       {}},
      {"fs",
       "cat",
       "daos://<pool>/<cont>/path | [<pool> <cont> --dfs-path=P]",
       "write a file of a container to standard output",
       {kPathOpt, kDfsPathOpt, kPoolOpt, kContOpt},
       fs_cat,
       {}},
      {"fs",
       "stat",
       "daos://<pool>/<cont>/path | [<pool> <cont> --dfs-path=P]",
       "show an entry's type, size, mode, owner, object and times",
       {{"no-follow", false, "do not follow a final symbolic link"},
        kPathOpt,
        kDfsPathOpt,
        kPoolOpt,
        kContOpt},
       fs_stat,
       {}},
      {"fs",
       "rm",
       "[-r] daos://<pool>/<cont>/path | [<pool> <cont> --dfs-path=P]",
       "remove a file, symbolic link or (with -r) directory tree of a container",
       {{"recursive", false, "remove a directory and everything under it", 'r'},
        kPathOpt,
        kDfsPathOpt,
        kPoolOpt,
        kContOpt},
       fs_rm,
       {"remove"}},
      {"fs",
       "set-attr",
       "--path=daos://<pool>/<cont>/dir --oclass=C [--chunk-size=S]",
       "set the object class (and chunk size) new entries of a directory get",
       {kPathOpt,
        {"oclass", true, "object class, e.g. EC_16P3G32"},
        {"chunk-size", true, "chunk size of new files"},
        kDfsPathOpt,
        kPoolOpt,
        kContOpt},
       fs_set_attr,
       {}},
      {"fs",
       "get-attr",
       "--path=daos://<pool>/<cont>/path",
       "show the object class and chunk size of an entry",
       {kPathOpt, kDfsPathOpt, kPoolOpt, kContOpt},
       fs_get_attr,
       {}},
      {"fs",
       "check",
       "[--remove | --relink] [<pool>] <cont>",
       "walk the namespace and report objects no entry names (leaked)",
       {{"remove", false, "destroy leaked objects"},
        {"relink", false, "link leaked files and directories as /lost+found/<oid>"},
        {"print", false, "list leaked objects (default without --remove/--relink)"},
        {"flags", true, "DAOS style: print,remove,relink,evict"},
        {"chunk-size", true, "chunk size of relinked files (default: the container's)"},
        kPoolOpt,
        kContOpt},
       fs_check,
       {}},
  };
}

}  // namespace edaos::cli

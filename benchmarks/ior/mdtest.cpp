// edaos-mdtest: mdtest-style metadata rates (items per second, all ranks together) for the
// POSIX namespace of edaos (-a DFS) and for a local file system (-a POSIX), with mdtest's
// option letters (https://github.com/hpc/ior, src/mdtest.c documents them).
//
//   mpiexec -n 4 edaos-mdtest -a DFS -d daos:/md -n 1000 -w 3901 -e 3901 -i 3 [-u] [-N 1]
//                [--dfs.inflight 16]
//
// Per iteration, in this order: directory creation, stat, removal; file creation (create,
// write -w bytes, close), stat, read (open, read -e bytes, close; every byte checked), removal.
// Rank r works on "dir.mdtest.<r>.<i>" and "file.mdtest.<r>.<i>", i < -n, in the test directory
// (-u: in its own subdirectory "mdtest.<r>"). -N s: stat and read the items of rank r+s.
// A phase's rate = items of all ranks / (last rank's end - first rank's start after a barrier).
// --dfs.inflight N (-a DFS, default 1 = mdtest's one synchronous call per rank): the create,
// stat and removal phases keep N operations in flight per rank through the asynchronous
// namespace calls (DfsEq, issue 17 item 5), every outcome checked; the read phase stays
// synchronous. The summary says which mode ran.
#include <dirent.h>
#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"
#include "ior.hpp"

namespace edaos::bench {

namespace {
int g_rank = 0, g_size = 1;
}

void fatal(const std::string& msg) {
  std::fprintf(stderr, "edaos-mdtest [rank %d]: %s\n", g_rank, msg.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

namespace {

struct MdOptions {
  std::string api = "POSIX", dir = "./out";
  uint64_t items = 100, write_bytes = 0, read_bytes = 0, seed = 0;
  int iterations = 1, stride = 0;
  bool unique = false, files_only = false, dirs_only = false;
  bool create = false, stat = false, read = false, remove = false;  // none: all
  std::string json_file, dfs_pool, dfs_cont, dfs_oclass, dfs_dir_oclass;
  uint64_t inflight = 1;  // -a DFS: operations in flight per rank
};

// Namespace operations on entries of a working directory (a handle from open_dir).
class Ns {
 public:
  virtual ~Ns() = default;
  virtual void mkdir_p(const std::string& path) = 0;  // rank 0 only; no error if present
  virtual int open_dir(const std::string& path) = 0;  // returns a handle for the calls below
  virtual void close_dirs() = 0;
  virtual void rmdir_path(const std::string& path) = 0;
  virtual void mkdir(int d, const std::string& name) = 0;
  virtual void rmdir(int d, const std::string& name) = 0;
  virtual void create(int d, const std::string& name, const void* data, uint64_t n) = 0;
  virtual void stat(int d, const std::string& name) = 0;
  virtual uint64_t read(int d, const std::string& name, void* buf, uint64_t n) = 0;
  virtual void unlink(int d, const std::string& name) = 0;
  // Waits until every operation issued so far is complete (asynchronous modes).
  virtual void drain() {}
  // What one rank keeps in flight.
  virtual std::string mode() const { return "1 synchronous call in flight per rank"; }
};

std::string strip(const std::string& p) {
  if (has_prefix(p, "ufs:")) return p.substr(4);
  return p;
}

class PosixNs final : public Ns {
 public:
  void mkdir_p(const std::string& path) override {
    std::string p = strip(path), cur;
    std::stringstream ss(p);
    if (!p.empty() && p[0] == '/') cur = "/";
    for (std::string part; std::getline(ss, part, '/');) {
      if (part.empty()) continue;
      cur += part;
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
        fatal("mkdir " + cur + ": " + std::strerror(errno));
      cur += "/";
    }
  }
  int open_dir(const std::string& path) override {
    int fd = ::open(strip(path).c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) fatal("open " + path + ": " + std::strerror(errno));
    fds_.push_back(fd);
    return fd;
  }
  void close_dirs() override {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }
  void rmdir_path(const std::string& path) override {
    if (::rmdir(strip(path).c_str()) != 0 && errno != ENOENT)
      fatal("rmdir " + path + ": " + std::strerror(errno));
  }
  void mkdir(int d, const std::string& name) override {
    if (::mkdirat(d, name.c_str(), 0755) != 0) fatal("mkdir " + name + ": " + std::strerror(errno));
  }
  void rmdir(int d, const std::string& name) override {
    if (::unlinkat(d, name.c_str(), AT_REMOVEDIR) != 0)
      fatal("rmdir " + name + ": " + std::strerror(errno));
  }
  void create(int d, const std::string& name, const void* data, uint64_t n) override {
    int fd = ::openat(d, name.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) fatal("create " + name + ": " + std::strerror(errno));
    if (n && ::pwrite(fd, data, n, 0) != static_cast<ssize_t>(n))
      fatal("write " + name + ": " + std::strerror(errno));
    ::close(fd);
  }
  void stat(int d, const std::string& name) override {
    struct stat st;
    if (::fstatat(d, name.c_str(), &st, 0) != 0)
      fatal("stat " + name + ": " + std::strerror(errno));
  }
  uint64_t read(int d, const std::string& name, void* buf, uint64_t n) override {
    int fd = ::openat(d, name.c_str(), O_RDONLY);
    if (fd < 0) fatal("open " + name + ": " + std::strerror(errno));
    ssize_t got = n ? ::pread(fd, buf, n, 0) : 0;
    if (got < 0) fatal("read " + name + ": " + std::strerror(errno));
    ::close(fd);
    return static_cast<uint64_t>(got);
  }
  void unlink(int d, const std::string& name) override {
    if (::unlinkat(d, name.c_str(), 0) != 0) fatal("unlink " + name + ": " + std::strerror(errno));
  }

 private:
  std::vector<int> fds_;
};

void check(const edaos::Status& st, const std::string& what) {
  if (!st.ok()) fatal(what + ": " + st.to_string());
}

// DFS: entries by (parent handle, name), as DAOS's mdtest over DFS keeps directory handles.
class DfsNs final : public Ns {
 public:
  explicit DfsNs(const MdOptions& o) : o_(o) {
    using namespace objstore;
    if (!is_initialized()) {
      check(init(MPI_COMM_WORLD), "edaos init");
      we_init_ = true;
    }
    // -d names the pool and container too when it is daos://POOL/CONT/dir (objstore's one
    // resolver, dfs_name in ior.hpp).
    DfsName where = dfs_name(o.dir, o.dfs_pool, o.dfs_cont);
    dir_name_ = o.dir;
    dir_path_ = where.path;
    const std::string pool = where.pool, cont = where.cont;
    SharedPoolOptions so;
    so.create = true;
    auto p =
        timed_pool_connect("edaos-mdtest", [&] { return Pool::shared(pool, MPI_COMM_WORLD, so); });
    check(p.status(), "pool " + pool);
    pool_ = p.value();
    // Session 10 (lazy engine open): with $EDAOS_BENCH_CONNECT_TIME=1 the steps after the
    // connection are timed too (container open + mount, then a first file's create, 4 KiB
    // write and removal on each rank, below): engines now open at their first use, so their
    // cost moved there.
    const bool timed = [] {
      const char* ct = std::getenv("EDAOS_BENCH_CONNECT_TIME");
      return ct && std::strcmp(ct, "1") == 0;
    }();
    MPI_Barrier(MPI_COMM_WORLD);
    const double t_mount = MPI_Wtime();
    int rc = 0;
    if (g_rank == 0) {
      auto c = pool_->cont_open(cont);
      if (!c.ok() && c.status().code() == EDAOS_NONEXIST) c = pool_->cont_create(cont, {});
      if (!c.ok()) {
        std::fprintf(stderr, "edaos-mdtest: container %s: %s\n", cont.c_str(),
                     c.status().to_string().c_str());
        rc = 1;
      }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc) fatal("no container");
    auto c = pool_->cont_open(cont);
    check(c.status(), "container open " + cont);
    auto m = Dfs::mount(c.value(), MPI_COMM_WORLD, O_RDWR);
    check(m.status(), "dfs mount");
    dfs_ = std::move(m.value());
    if (timed) first_io_after_connect(MPI_Wtime() - t_mount);
    if (o.inflight > 1) eq_ = std::make_unique<objstore::DfsEq>(*dfs_, o.inflight);
  }
  // Prints the slowest rank's container open + mount time, then creates, writes (4 KiB, the
  // default class of the container) and removes one file per rank in the container's root and
  // prints the slowest rank's time: the first I/O after the connection.
  void first_io_after_connect(double mount_s) {
    double worst = 0;
    MPI_Reduce(&mount_s, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (g_rank == 0)
      std::fprintf(stderr, "edaos-mdtest: container open + mount after it %.3f ms (slowest rank)\n",
                   worst * 1e3);
    std::vector<char> data(4096, 'x');
    const std::string name = ".edaos-first-io." + std::to_string(g_rank);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    {
      auto f = dfs_->open(nullptr, name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
      check(f.status(), "create " + name);
      check(f.value()->write(0, data.data(), data.size()), "write " + name);
    }
    const double dt_write = MPI_Wtime() - t0;
    check(dfs_->remove(nullptr, name.c_str()), "unlink " + name);
    double dt = MPI_Wtime() - t0;
    double w[2] = {dt_write, dt}, worst2[2] = {0, 0};
    MPI_Reduce(w, worst2, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (g_rank == 0)
      std::fprintf(stderr,
                   "edaos-mdtest: first file after it: create + 4 KiB write %.3f ms, with its "
                   "removal %.3f ms (slowest rank)\n",
                   worst2[0] * 1e3, worst2[1] * 1e3);
  }
  ~DfsNs() override {
    drain();
    eq_.reset();
    dirs_.clear();
    if (dfs_) (void)dfs_->umount();  // waits for this rank's background work, if any
    // No rank's last store calls may race another rank's release of the shared connection
    // (the connect root's release closes the pool at the servers).
    MPI_Barrier(MPI_COMM_WORLD);
    dfs_.reset();
    pool_.reset();  // the shared connection stays until finalize
    if (we_init_) (void)objstore::finalize();
  }
  // The container path of a name below -d (resolved once, in the constructor).
  std::string path(const std::string& p) const {
    if (has_prefix(p, dir_name_.c_str())) {
      std::string rest = p.substr(dir_name_.size());
      return dir_path_ == "/" && !rest.empty() ? rest : dir_path_ + rest;
    }
    std::string r = has_prefix(p, "daos:") ? p.substr(5) : p;
    return r.empty() || r[0] != '/' ? "/" + r : r;
  }
  void mkdir_p(const std::string& p) override {
    std::string cur;
    std::stringstream ss(path(p));
    for (std::string part; std::getline(ss, part, '/');) {
      if (part.empty()) continue;
      cur += "/" + part;
      auto st = dfs_->mkdir(cur, 0755, o_.dfs_dir_oclass);
      if (!st.ok() && st.code() != EDAOS_EXIST) check(st, "mkdir " + cur);
    }
  }
  int open_dir(const std::string& p) override {
    auto d = dfs_->lookup(path(p), O_RDWR);
    check(d.status(), "lookup " + p);
    dirs_.push_back(std::move(d.value()));
    return static_cast<int>(dirs_.size() - 1);
  }
  void close_dirs() override {
    drain();
    dirs_.clear();
  }
  void rmdir_path(const std::string& p) override {
    auto st = dfs_->remove(path(p));
    if (!st.ok() && st.code() != EDAOS_NONEXIST) check(st, "rmdir " + p);
  }
  void mkdir(int d, const std::string& name) override {
    if (eq_) return push(eq_->mkdir(dirs_[d].get(), name, 0755));
    check(dfs_->mkdir(dirs_[d].get(), name, 0755, o_.dfs_dir_oclass), "mkdir " + name);
  }
  void rmdir(int d, const std::string& name) override {
    if (eq_) return push(eq_->remove(dirs_[d].get(), name));
    check(dfs_->remove(dirs_[d].get(), name), "rmdir " + name);
  }
  void create(int d, const std::string& name, const void* data, uint64_t n) override {
    if (eq_) return push(eq_->create(dirs_[d].get(), name, 0644, data, static_cast<size_t>(n)));
    auto f =
        dfs_->open(dirs_[d].get(), name, S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL, o_.dfs_oclass);
    check(f.status(), "create " + name);
    if (n) check(f.value()->write(0, data, n), "write " + name);
  }
  void stat(int d, const std::string& name) override {
    if (eq_) return push(eq_->stat(dirs_[d].get(), name));
    check(dfs_->stat(dirs_[d].get(), name).status(), "stat " + name);
  }
  void drain() override {
    while (!events_.empty()) pop();
  }
  // "1 synchronous call" or "N operations through DfsEq".
  std::string mode() const override {
    return eq_ ? std::to_string(eq_->depth()) + " operations in flight per rank (DfsEq)"
               : "1 synchronous call in flight per rank";
  }
  uint64_t read(int d, const std::string& name, void* buf, uint64_t n) override {
    auto f = dfs_->lookup(dirs_[d].get(), name, O_RDONLY);
    check(f.status(), "open " + name);
    if (!n) return 0;
    auto r = f.value()->read(0, buf, n);
    check(r.status(), "read " + name);
    return r.value();
  }
  void unlink(int d, const std::string& name) override {
    if (eq_) return push(eq_->remove(dirs_[d].get(), name));
    check(dfs_->remove(dirs_[d].get(), name), "unlink " + name);
  }

 private:
  using Dfs = objstore::Dfs;
  MdOptions o_;
  bool we_init_ = false;
  std::shared_ptr<objstore::Pool> pool_;
  std::string dir_name_, dir_path_;  // -d as given, and its path in the container
  std::unique_ptr<Dfs> dfs_;
  std::vector<std::unique_ptr<objstore::DfsObj>> dirs_;
  std::unique_ptr<objstore::DfsEq> eq_;       // --dfs.inflight > 1
  std::deque<objstore::DfsEventPtr> events_;  // in submission order (completed in order)

  // Keeps at most `inflight` operations outstanding: the oldest is waited for first, and
  // every outcome is checked.
  void push(objstore::DfsEventPtr ev) {
    events_.push_back(std::move(ev));
    if (events_.size() >= o_.inflight) pop();
  }
  void pop() {
    objstore::DfsEventPtr ev = std::move(events_.front());
    events_.pop_front();
    const char* what = ev->kind() == objstore::DfsEvent::kStat     ? "stat "
                       : ev->kind() == objstore::DfsEvent::kCreate ? "create "
                       : ev->kind() == objstore::DfsEvent::kMkdir  ? "mkdir "
                                                                   : "remove ";
    check(ev->wait(), what + ev->name());
  }
};

void usage(FILE* f) {
  std::fprintf(f,
               "usage: edaos-mdtest [options]   (mdtest's option letters)\n"
               "  -a API    POSIX | DFS                                   [POSIX]\n"
               "  -d DIR    test directory (DFS: daos:/dir)              [./out]\n"
               "  -n N      items per rank                               [100]\n"
               "  -w N      bytes written into each file at creation     [0]\n"
               "  -e N      bytes read from each file (<= -w)            [0]\n"
               "  -i N      iterations                                   [1]\n"
               "  -u        a working directory per rank\n"
               "  -N S      stat/read the items of rank r+S              [0]\n"
               "  -F / -D   files only / directories only\n"
               "  -C -T -E -r  only create / stat / read / remove phases (combine)\n"
               "  -G N      data signature of the file contents           [0]\n"
               "  -J FILE   JSON results to FILE ('-' = stdout)\n"
               "  --dfs.pool P --dfs.cont C --dfs.oclass C --dfs.dir_oclass C\n"
               "  --dfs.inflight N  operations in flight per rank (DfsEq; 1: synchronous) [1]\n");
}

MdOptions parse(int argc, char** argv) {
  MdOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("option " + a + " needs a value");
      return argv[++i];
    };
    auto num = [&]() { return std::strtoull(next().c_str(), nullptr, 10); };
    if (has_prefix(a, "--")) {
      std::string k = a.substr(2), v;
      size_t eq = k.find('=');
      if (eq != std::string::npos) {
        v = k.substr(eq + 1);
        k = k.substr(0, eq);
      } else if (k != "help") {
        v = next();
      }
      if (k == "help") {
        usage(stdout);
        std::exit(0);
      } else if (k == "dfs.pool")
        o.dfs_pool = v;
      else if (k == "dfs.cont")
        o.dfs_cont = v;
      else if (k == "dfs.oclass")
        o.dfs_oclass = v;
      else if (k == "dfs.dir_oclass")
        o.dfs_dir_oclass = v;
      else if (k == "dfs.inflight")
        o.inflight = std::strtoull(v.c_str(), nullptr, 10);
      else
        throw std::invalid_argument("unknown option " + a);
      continue;
    }
    if (a.size() != 2 || a[0] != '-') throw std::invalid_argument("unknown option " + a);
    switch (a[1]) {
      case 'a':
        o.api = next();
        break;
      case 'd':
        o.dir = next();
        break;
      case 'n':
        o.items = num();
        break;
      case 'w':
        o.write_bytes = num();
        break;
      case 'e':
        o.read_bytes = num();
        break;
      case 'i':
        o.iterations = static_cast<int>(num());
        break;
      case 'u':
        o.unique = true;
        break;
      case 'N':
        o.stride = static_cast<int>(num());
        break;
      case 'F':
        o.files_only = true;
        break;
      case 'D':
        o.dirs_only = true;
        break;
      case 'C':
        o.create = true;
        break;
      case 'T':
        o.stat = true;
        break;
      case 'E':
        o.read = true;
        break;
      case 'r':
        o.remove = true;
        break;
      case 'G':
        o.seed = num();
        break;
      case 'J':
        o.json_file = next();
        break;
      case 'h':
        usage(stdout);
        std::exit(0);
      default:
        throw std::invalid_argument("unknown option " + a);
    }
  }
  for (auto& c : o.api) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (o.api != "POSIX" && o.api != "DFS") throw std::invalid_argument("-a POSIX or DFS");
  if (!o.create && !o.stat && !o.read && !o.remove) o.create = o.stat = o.read = o.remove = true;
  if (o.read_bytes > o.write_bytes) throw std::invalid_argument("-e must not exceed -w");
  if (o.files_only && o.dirs_only) throw std::invalid_argument("-F and -D exclude each other");
  if (o.iterations < 1) throw std::invalid_argument("-i must be positive");
  if (o.inflight < 1 || o.inflight > 1024)
    throw std::invalid_argument("--dfs.inflight must be 1..1024");
  if (o.inflight > 1 && (!o.dfs_oclass.empty() || !o.dfs_dir_oclass.empty()))
    throw std::invalid_argument("--dfs.inflight above 1 takes the classes the directories give");
  return o;
}

struct Rate {
  std::string op;
  std::vector<double> per_iter;  // items/s
  uint64_t rpcs = 0;             // -a DFS: store RPCs of all ranks in this phase, all iterations
  uint64_t trips = 0;            // -a DFS: round trips the ranks' main threads waited for
};

}  // namespace
}  // namespace edaos::bench

using namespace edaos::bench;

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MdOptions o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    if (g_rank == 0) {
      std::fprintf(stderr, "edaos-mdtest: %s\n", e.what());
      usage(stderr);
    }
    MPI_Finalize();
    return 2;
  }
  std::unique_ptr<Ns> ns;
  if (o.api == "DFS")
    ns = std::make_unique<DfsNs>(o);
  else
    ns = std::make_unique<PosixNs>();

  auto workdir = [&](int r) { return o.unique ? o.dir + "/mdtest." + std::to_string(r) : o.dir; };
  if (g_rank == 0) {
    ns->mkdir_p(o.dir);
    if (o.unique)
      for (int r = 0; r < g_size; ++r) ns->mkdir_p(workdir(r));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  int peer = ((g_rank + o.stride) % g_size + g_size) % g_size;
  int mine = ns->open_dir(workdir(g_rank));
  int theirs = peer == g_rank ? mine : ns->open_dir(workdir(peer));

  std::vector<uint8_t> wbuf(o.write_bytes), rbuf(o.read_bytes), want(o.read_bytes);
  std::vector<Rate> rates;
  auto record = [&](const std::string& op, double t0, double t1, uint64_t my_rpcs,
                    uint64_t my_trips) {
    double start = 0, end = 0;
    uint64_t all_rpcs = 0, all_trips = 0;
    MPI_Allreduce(&my_trips, &all_trips, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&t0, &start, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&t1, &end, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&my_rpcs, &all_rpcs, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    double rate = static_cast<double>(o.items) * g_size / std::max(end - start, 1e-9);
    for (auto& r : rates)
      if (r.op == op) {
        r.per_iter.push_back(rate);
        r.rpcs += all_rpcs;
        r.trips += all_trips;
        return;
      }
    rates.push_back({op, {rate}, all_rpcs, all_trips});
  };
  // The store's RPC counter of this process (0 for -a POSIX).
  auto rpc_count = [&]() -> uint64_t { return o.api == "DFS" ? edaos::objstore::stats().rpcs : 0; };
  // Round trips this thread waited for (messages sent together count once); with
  // --dfs.inflight the queue's thread waits instead and this stays near 0.
  auto trip_count = [&]() -> uint64_t {
    return o.api == "DFS" ? edaos::objstore::rpc_round_trips_for_testing() : 0;
  };
  auto name = [](const char* kind, int r, uint64_t i) {
    return std::string(kind) + ".mdtest." + std::to_string(r) + "." + std::to_string(i);
  };
  uint64_t errors = 0;
  for (int it = 0; it < o.iterations; ++it) {
    auto timed = [&](const std::string& op, auto&& body) {
      MPI_Barrier(MPI_COMM_WORLD);
      const uint64_t r0 = rpc_count(), w0 = trip_count();
      double t0 = MPI_Wtime();
      for (uint64_t i = 0; i < o.items; ++i) body(i);
      ns->drain();
      double t1 = MPI_Wtime();
      record(op, t0, t1, rpc_count() - r0, trip_count() - w0);
    };
    if (!o.files_only) {
      if (o.create)
        timed("Directory creation", [&](uint64_t i) { ns->mkdir(mine, name("dir", g_rank, i)); });
      if (o.stat)
        timed("Directory stat", [&](uint64_t i) { ns->stat(theirs, name("dir", peer, i)); });
      if (o.remove)
        timed("Directory removal", [&](uint64_t i) { ns->rmdir(mine, name("dir", g_rank, i)); });
    }
    if (!o.dirs_only) {
      if (o.create)
        timed("File creation", [&](uint64_t i) {
          if (!wbuf.empty())
            pattern_fill(wbuf.data(), wbuf.size(), 0, pattern_key(o.seed ^ i, it, g_rank));
          ns->create(mine, name("file", g_rank, i), wbuf.data(), wbuf.size());
        });
      if (o.stat) timed("File stat", [&](uint64_t i) { ns->stat(theirs, name("file", peer, i)); });
      if (o.read)
        timed("File read", [&](uint64_t i) {
          uint64_t got = ns->read(theirs, name("file", peer, i), rbuf.data(), rbuf.size());
          if (rbuf.empty()) return;
          pattern_fill(want.data(), want.size(), 0, pattern_key(o.seed ^ i, it, peer));
          if (got != rbuf.size() || std::memcmp(rbuf.data(), want.data(), rbuf.size()) != 0) {
            if (errors == 0)
              std::fprintf(stderr, "edaos-mdtest [rank %d]: %s: contents differ\n", g_rank,
                           name("file", peer, i).c_str());
            ++errors;
          }
        });
      if (o.remove)
        timed("File removal", [&](uint64_t i) { ns->unlink(mine, name("file", g_rank, i)); });
    }
  }
  ns->close_dirs();
  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0 && o.remove) {
    if (o.unique)
      for (int r = 0; r < g_size; ++r) ns->rmdir_path(workdir(r));
  }
  uint64_t all_errors = 0;
  MPI_Allreduce(&errors, &all_errors, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);

  if (g_rank == 0) {
    bool json_out = o.json_file == "-";
    std::ostringstream js;
    js << "{\"tool\":\"edaos-mdtest\",\"api\":\"" << o.api << "\",\"ranks\":" << g_size
       << ",\"items_per_rank\":" << o.items << ",\"write_bytes\":" << o.write_bytes
       << ",\"read_bytes\":" << o.read_bytes << ",\"iterations\":" << o.iterations
       << ",\"unique_dir\":" << (o.unique ? "true" : "false") << ",\"stride\":" << o.stride
       << ",\"inflight\":" << (o.api == "DFS" ? o.inflight : 1) << ",\"rates\":[";
    if (!json_out)
      std::printf("edaos-mdtest: %d ranks, %" PRIu64
                  " items per rank, -a %s, %s\nmode: %s\n\n"
                  "SUMMARY rate (items/s, %d iteration%s):\n   %-22s %12s %12s %12s %12s\n",
                  g_size, o.items, o.api.c_str(), o.dir.c_str(), ns->mode().c_str(), o.iterations,
                  o.iterations > 1 ? "s" : "", "Operation", "Max", "Min", "Mean", "Std Dev");
    bool first = true;
    for (const auto& r : rates) {
      double mx = *std::max_element(r.per_iter.begin(), r.per_iter.end());
      double mn = *std::min_element(r.per_iter.begin(), r.per_iter.end());
      double mean = 0, sd = 0;
      for (double v : r.per_iter) mean += v / static_cast<double>(r.per_iter.size());
      for (double v : r.per_iter)
        sd += (v - mean) * (v - mean) / static_cast<double>(r.per_iter.size());
      sd = std::sqrt(sd);
      if (!json_out)
        std::printf("   %-22s %12.1f %12.1f %12.1f %12.1f\n", r.op.c_str(), mx, mn, mean, sd);
      js << (first ? "" : ",") << "{\"operation\":\"" << r.op << "\",\"max\":" << mx
         << ",\"min\":" << mn << ",\"mean\":" << mean << ",\"stddev\":" << sd << "}";
      first = false;
    }
    js << "],\"verifyErrors\":" << all_errors << "}";
    if (!json_out && o.api == "DFS") {
      // Round trips per item: what bounds a phase when each is a wait for a server.
      std::printf(
          "\nStore RPCs and round trips waited for by the calling thread, per item (all "
          "ranks, all iterations):\n   %-22s %12s %12s\n",
          "Operation", "RPCs", "Round trips");
      const double items = static_cast<double>(o.items) * g_size * o.iterations;
      for (const auto& r : rates)
        std::printf("   %-22s %12.2f %12.2f\n", r.op.c_str(), static_cast<double>(r.rpcs) / items,
                    static_cast<double>(r.trips) / items);
    }
    if (!json_out && o.read && o.read_bytes)
      std::printf("Verification of file contents: %s (%" PRIu64 " files differ)\n",
                  all_errors ? "FAILED" : "passed", all_errors);
    if (json_out)
      std::printf("%s\n", js.str().c_str());
    else if (!o.json_file.empty()) {
      FILE* f = std::fopen(o.json_file.c_str(), "w");
      if (f) {
        std::fprintf(f, "%s\n", js.str().c_str());
        std::fclose(f);
      }
    }
    std::fflush(stdout);
  }
  ns.reset();
  MPI_Finalize();
  return all_errors ? 1 : 0;
}

// edaos-rpc-bench: the store's RPC path next to MPI point-to-point in the same run.
//
//   mpiexec -n <2 or more> edaos-rpc-bench [--iters N] [--sizes 8,47008,1048576] [--idle S]
//                                          [--class S1|EC_2P1G1|...] [--counts] [--no-mpi]
//
// Rank 0 serves (EDAOS_SERVER_RANKS default: the first rank of the node); every other rank is
// a client, all at once. For every size it times, per client
//   mpi    the client sends an 8-byte request, rank 0 answers with `size` bytes (an RPC's
//          shape; rank 0 answers the clients in arrival order);
//   read   the client reads `size` bytes of its own S1 array whose one shard rank 0 serves
//          (one RPC);
//   write  the client writes `size` bytes there (one RPC).
// --class: the arrays' object class instead of S1 (the pool then has 6 engines, all served by
// rank 0; an EC write sends its data and parity cells to rank 0 as one message of many pieces).
// While the store is timed, rank 0's application thread sleeps (it does not spin in MPI), so
// its server thread has the core. Prints the clients' mean microseconds per operation, MB/s
// per client, and read/mpi. Then every rank sleeps --idle seconds (default 2) and rank 0's
// process CPU time over that window is printed: the idle server's cost. The transport is
// whatever $EDAOS_TRANSPORT picks (printed). Every read is verified.
//
// --counts: per store read and per store write, what each thread of rank 0 (the server) and of
// rank 1 (a client) did over the timed loop: voluntary context switches (the thread slept and
// was woken), involuntary ones (preempted or yielded), system calls and futex calls (the last
// two through perf tracepoints; "-" when the kernel does not give them: tracefs not mounted or
// perf_event_paranoid too high) and microseconds on a CPU (schedstat; session 8). Counts do not
// depend on timing as much as microseconds do, so they compare versions on a loaded machine.
// Threads are listed by name (the server names its progress thread edaos-progress and its service
// threads edaos-svc; "main" is the process's first thread: on rank 0 it sleeps in a barrier polled
// every 200 us, on rank 1 it is the client). --no-mpi skips the MPI ping-pong.
#include <dirent.h>
#include <linux/perf_event.h>
#include <mpi.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

int g_rank = 0;

[[noreturn]] void die(const char* what, const Status& st) {
  std::fprintf(stderr, "edaos-rpc-bench [rank %d]: %s: %s\n", g_rank, what, st.to_string().c_str());
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

// The mean of the clients' values (rank 0 contributes nothing).
double mean_over_clients(double v, int nranks) {
  double sum = 0;
  MPI_Allreduce(&v, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return sum / (nranks - 1);
}

// CPU seconds this process used (every thread).
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// A barrier that sleeps instead of spinning, so a server thread in this process keeps the core.
void sleepy_barrier() {
  MPI_Request r;
  MPI_Ibarrier(MPI_COMM_WORLD, &r);
  for (int done = 0;;) {
    MPI_Test(&r, &done, MPI_STATUS_IGNORE);
    if (done) return;
    timespec ts{0, 200000};
    nanosleep(&ts, nullptr);
  }
}

// Rank 0 answers every client `iters` times with `size` bytes; returns the clients' mean time
// per round trip (the same on every rank).
double mpi_pingpong(size_t size, int iters, int nranks) {
  std::vector<char> req(8, 1), rep(size, 2);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    if (g_rank != 0) {
      MPI_Send(req.data(), 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
      MPI_Recv(rep.data(), static_cast<int>(size), MPI_BYTE, 0, 2, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    } else {
      for (int c = 1; c < nranks; ++c) {
        MPI_Status st;
        MPI_Recv(req.data(), 8, MPI_BYTE, MPI_ANY_SOURCE, 1, MPI_COMM_WORLD, &st);
        MPI_Send(rep.data(), static_cast<int>(size), MPI_BYTE, st.MPI_SOURCE, 2, MPI_COMM_WORLD);
      }
    }
  }
  double t = g_rank == 0 ? 0 : (MPI_Wtime() - t0) / iters;
  return mean_over_clients(t, nranks);
}

// A tracepoint's perf id (tracefs, or debugfs's copy of it); -1 when neither is readable.
long tracepoint_id(const char* event) {
  for (const char* root : {"/sys/kernel/tracing/events/", "/sys/kernel/debug/tracing/events/"}) {
    std::ifstream f(std::string(root) + event + "/id");
    long id = -1;
    if (f >> id) return id;
  }
  return -1;
}

// Per-thread counts of this process over a window (--counts).
class ThreadCounts {
 public:
  struct Row {
    std::string name;
    double vol = 0, invol = 0, sys = -1, futex = -1;
    double cpu_us = -1;  // time on a CPU (schedstat), microseconds
  };
  ThreadCounts() {
    ids_[0] = tracepoint_id("raw_syscalls/sys_enter");
    ids_[1] = tracepoint_id("syscalls/sys_enter_futex");
  }
  ~ThreadCounts() { close_all(); }
  void start() {
    close_all();
    tasks_.clear();
    DIR* d = opendir("/proc/self/task");
    if (!d) return;
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      Task t;
      t.tid = std::atoi(e->d_name);
      read_status(t.tid, &t.vol, &t.invol, &t.name);
      t.cpu_ns = cpu_ns(t.tid);
      if (t.tid == getpid()) t.name = "main";
      for (int k = 0; k < 2; ++k) t.fd[k] = open_counter(ids_[k], t.tid);
      tasks_.push_back(t);
    }
    closedir(d);
  }
  // Counts since start(), per thread, divided by `per`; threads of one name are summed.
  std::vector<Row> stop(double per) {
    std::map<std::string, Row> rows;
    for (Task& t : tasks_) {
      long vol = 0, invol = 0;
      std::string name;
      if (!read_status(t.tid, &vol, &invol, &name)) continue;  // the thread ended
      Row& r = rows[t.name];
      r.name = t.name;
      r.vol += (vol - t.vol) / per;
      r.invol += (invol - t.invol) / per;
      const long long ns = cpu_ns(t.tid);
      if (ns >= 0 && t.cpu_ns >= 0)
        r.cpu_us = (r.cpu_us < 0 ? 0 : r.cpu_us) + static_cast<double>(ns - t.cpu_ns) / 1e3 / per;
      for (int k = 0; k < 2; ++k) {
        uint64_t v = 0;
        double& out = k == 0 ? r.sys : r.futex;
        if (t.fd[k] >= 0 && read(t.fd[k], &v, sizeof v) == sizeof v)
          out = (out < 0 ? 0 : out) + v / per;
      }
    }
    close_all();
    std::vector<Row> out;
    for (auto& [n, r] : rows) out.push_back(r);
    return out;
  }

 private:
  struct Task {
    int tid = 0;
    long vol = 0, invol = 0;
    long long cpu_ns = -1;
    std::string name;
    int fd[2] = {-1, -1};
  };
  // Nanoseconds thread `tid` ran on a CPU (first field of schedstat); -1 when not given.
  static long long cpu_ns(int tid) {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/schedstat");
    long long ns = -1;
    if (!(f >> ns)) return -1;
    return ns;
  }
  static bool read_status(int tid, long* vol, long* invol, std::string* name) {
    std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
    if (!f) return false;
    for (std::string line; std::getline(f, line);) {
      if (line.rfind("Name:", 0) == 0) {
        *name = line.substr(5);
        name->erase(0, name->find_first_not_of(" \t"));
      } else if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
        *vol = std::atol(line.c_str() + 24);
      } else if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        *invol = std::atol(line.c_str() + 27);
      }
    }
    return true;
  }
  static int open_counter(long id, int tid) {
    if (id < 0) return -1;
    perf_event_attr a{};
    a.size = sizeof a;
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = static_cast<uint64_t>(id);
    return static_cast<int>(syscall(SYS_perf_event_open, &a, tid, -1, -1, 0));
  }
  void close_all() {
    for (Task& t : tasks_)
      for (int& fd : t.fd)
        if (fd >= 0) {
          close(fd);
          fd = -1;
        }
  }
  long ids_[2];
  std::vector<Task> tasks_;
};

// Prints rank 0's and rank 1's rows (rank 0 first), one line per thread.
void print_counts(const char* what, size_t size, const std::vector<ThreadCounts::Row>& rows) {
  for (int r = 0; r < 2; ++r) {
    MPI_Barrier(MPI_COMM_WORLD);
    if (g_rank != r) continue;
    for (const auto& row : rows) {
      char sys[32] = "-", fx[32] = "-", cpu[32] = "-";
      if (row.sys >= 0) std::snprintf(sys, sizeof sys, "%.2f", row.sys);
      if (row.futex >= 0) std::snprintf(fx, sizeof fx, "%.2f", row.futex);
      if (row.cpu_us >= 0) std::snprintf(cpu, sizeof cpu, "%.1f", row.cpu_us);
      std::printf(
          "counts %-5s %8zu B rank %d %-16s vol %6.2f invol %6.2f sys %7s futex %6s cpu_us %7s\n",
          what, size, g_rank, row.name.c_str(), row.vol, row.invol, sys, fx, cpu);
    }
    std::fflush(stdout);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int iters = 200;
  double idle = 2;
  std::vector<size_t> sizes = {8, 47008, size_t{1} << 20};
  std::string oclass = "S1";
  bool counts = false, mpi = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--idle" && i + 1 < argc) {
      idle = std::max(0.0, std::atof(argv[++i]));
    } else if (a == "--counts") {
      counts = true;
    } else if (a == "--no-mpi") {
      mpi = false;
    } else if (a == "--class" && i + 1 < argc) {
      oclass = argv[++i];
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) sizes.push_back(std::stoull(t));
    } else {
      if (g_rank == 0)
        std::fprintf(stderr,
                     "usage: edaos-rpc-bench [--iters N] [--sizes a,b] [--idle S] [--class C] "
                     "[--counts] [--no-mpi]\n");
      MPI_Finalize();
      return 2;
    }
  }
  if (size < 2) {
    if (g_rank == 0) std::fprintf(stderr, "edaos-rpc-bench: run with 2 ranks or more\n");
    MPI_Finalize();
    return 2;
  }
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) die("init", st);
  if (server_ranks() != std::vector<int>{0})
    die("servers", Status(EDAOS_INVAL, "expected rank 0 as the only server (EDAOS_SERVER_RANKS)"));
  char tmpl[4096];
  if (g_rank == 0) {
    const char* base = getenv("TMPDIR");
    std::snprintf(tmpl, sizeof tmpl, "%s/edaos-rpc-bench-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) tmpl[0] = '\0';
  }
  MPI_Bcast(tmpl, sizeof tmpl, MPI_CHAR, 0, MPI_COMM_WORLD);
  const std::string path = std::string(tmpl) + "/pool";
  PoolCreateOptions po;
  po.engines = oclass == "S1" ? 1 : 6;
  po.targets = 1;
  if (!(st = Pool::create(path, po, MPI_COMM_WORLD)).ok()) die("pool create", st);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) die("pool connect", pool.status());
  const size_t max_size = *std::max_element(sizes.begin(), sizes.end());
  std::vector<unsigned char> data(max_size), back(max_size);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>((i * 131 + 7) | 1);
  std::shared_ptr<Container> cont;
  std::unique_ptr<Array> arr;
  ObjectId oid{};
  if (g_rank != 0) {
    auto c = pool.value()->cont_create("bench" + std::to_string(g_rank), ContainerProps{});
    if (!c.ok()) die("cont create", c.status());
    cont = c.value();
    auto oc = ObjClass::parse(oclass);
    if (!oc.ok()) die("object class", oc.status());
    auto o = cont->alloc_oid(oc.value(), ObjType::kArray);
    if (!o.ok()) die("alloc oid", o.status());
    oid = o.value();
    auto a = cont->open_array(oid, std::max<size_t>(max_size, 1 << 20));
    if (!a.ok()) die("open array", a.status());
    arr = std::move(a).value();
    if (!(st = arr->write(0, data.data(), data.size())).ok()) die("write", st);
  }
  const char* tr = getenv("EDAOS_TRANSPORT");
  if (g_rank == 1)
    std::printf(
        "transport %s, class %s, %d clients, %d iterations per size\n%10s %10s %10s %10s %10s %10s "
        "%10s %9s\n",
        tr && *tr ? tr : "auto", oclass.c_str(), size - 1, iters, "bytes", "mpi_us", "read_us",
        "write_us", "mpi_MB/s", "read_MB/s", "write_MB/s", "read/mpi");
  ThreadCounts tc;
  std::vector<ThreadCounts::Row> read_rows, write_rows;
  for (size_t sz : sizes) {
    const double tm = mpi ? mpi_pingpong(sz, iters, size) : 0;
    double tr_us = 0, tw_us = 0;
    if (g_rank != 0 && !(st = arr->read(0, back.data(), sz)).ok()) die("read", st);  // warm-up
    if (counts && g_rank == 0) tc.start();  // the server's window spans the clients' loops
    sleepy_barrier();
    if (g_rank != 0) {
      if (counts) tc.start();
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; ++i)
        if (!(st = arr->read(0, back.data(), sz)).ok()) die("read", st);
      tr_us = (MPI_Wtime() - t0) / iters;
      if (counts) read_rows = tc.stop(iters);
      if (std::memcmp(back.data(), data.data(), sz) != 0)
        die("verify", Status(EDAOS_CSUM, "read returned wrong bytes"));
    }
    sleepy_barrier();
    if (counts && g_rank == 0) {
      read_rows = tc.stop(static_cast<double>(iters) * (size - 1));
      tc.start();
    }
    sleepy_barrier();
    if (g_rank != 0) {
      if (counts) tc.start();
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; ++i)
        if (!(st = arr->write(0, data.data(), sz)).ok()) die("write", st);
      tw_us = (MPI_Wtime() - t0) / iters;
      if (counts) write_rows = tc.stop(iters);
    }
    sleepy_barrier();
    if (counts && g_rank == 0) write_rows = tc.stop(static_cast<double>(iters) * (size - 1));
    const double trd = mean_over_clients(tr_us, size);
    const double twr = mean_over_clients(tw_us, size);
    if (g_rank == 1) {
      std::printf("%10zu %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %9.2f\n", sz, tm * 1e6,
                  trd * 1e6, twr * 1e6, sz / tm / 1e6, sz / trd / 1e6, sz / twr / 1e6, trd / tm);
      std::fflush(stdout);
    }
    if (counts) {
      print_counts("read", sz, read_rows);
      print_counts("write", sz, write_rows);
    }
    sleepy_barrier();
  }
  if (idle > 0) {
    // Every rank sleeps; rank 0's CPU time over the window is its idle server's.
    const double c0 = cpu_seconds(), t0 = MPI_Wtime();
    timespec ts{static_cast<time_t>(idle),
                static_cast<long>((idle - static_cast<long>(idle)) * 1e9)};
    nanosleep(&ts, nullptr);
    const double pct = 100 * (cpu_seconds() - c0) / (MPI_Wtime() - t0);
    if (g_rank == 0) std::printf("idle server: %.2f%% of a core over %.1f s\n", pct, idle);
    sleepy_barrier();
  }
  arr.reset();
  cont.reset();
  if (!(st = pool.value()->disconnect()).ok()) die("disconnect", st);
  std::move(pool).value().reset();
  if (!(st = finalize()).ok()) die("finalize", st);
  if (g_rank == 0) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
  }
  MPI_Finalize();
  return 0;
}

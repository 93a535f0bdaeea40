// edaos-rpc-bench: the store's RPC path next to MPI point-to-point in the same run.
//
//   mpiexec -n <2 or more> edaos-rpc-bench [--iters N] [--sizes 8,47008,1048576] [--idle S]
//                                          [--class S1|EC_2P1G1|...]
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
#include <mpi.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--idle" && i + 1 < argc) {
      idle = std::max(0.0, std::atof(argv[++i]));
    } else if (a == "--class" && i + 1 < argc) {
      oclass = argv[++i];
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) sizes.push_back(std::stoull(t));
    } else {
      if (g_rank == 0)
        std::fprintf(stderr,
                     "usage: edaos-rpc-bench [--iters N] [--sizes a,b] [--idle S] [--class C]\n");
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
  for (size_t sz : sizes) {
    const double tm = mpi_pingpong(sz, iters, size);
    double tr_us = 0, tw_us = 0;
    sleepy_barrier();
    if (g_rank != 0) {
      if (!(st = arr->read(0, back.data(), sz)).ok()) die("read", st);  // warm-up
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; ++i)
        if (!(st = arr->read(0, back.data(), sz)).ok()) die("read", st);
      tr_us = (MPI_Wtime() - t0) / iters;
      if (std::memcmp(back.data(), data.data(), sz) != 0)
        die("verify", Status(EDAOS_CSUM, "read returned wrong bytes"));
    }
    sleepy_barrier();
    if (g_rank != 0) {
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; ++i)
        if (!(st = arr->write(0, data.data(), sz)).ok()) die("write", st);
      tw_us = (MPI_Wtime() - t0) / iters;
    }
    const double trd = mean_over_clients(tr_us, size);
    const double twr = mean_over_clients(tw_us, size);
    if (g_rank == 1) {
      std::printf("%10zu %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %9.2f\n", sz, tm * 1e6,
                  trd * 1e6, twr * 1e6, sz / tm / 1e6, sz / trd / 1e6, sz / twr / 1e6, trd / tm);
      std::fflush(stdout);
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

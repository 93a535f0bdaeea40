// edaos-rpc-bench: the store's RPC path next to MPI point-to-point in the same run.
//
//   mpiexec -n 2 edaos-rpc-bench [--iters N] [--sizes 8,47008,1048576]
//
// Rank 0 serves (EDAOS_SERVER_RANKS default: the first rank of the node); rank 1 is the
// client. For every size it times
//   mpi   rank 1 sends an 8-byte request, rank 0 answers with `size` bytes (an RPC's shape);
//   store rank 1 reads `size` bytes of an S1 array whose one shard rank 0 serves (one RPC).
// While the store is timed, rank 0's application thread sleeps (it does not spin in MPI), so
// its server thread has the core. Prints microseconds per operation, MB/s, and store/mpi.
// The transport is whatever $EDAOS_TRANSPORT picks (printed). Every read is verified.
#include <mpi.h>
#include <stdlib.h>
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

double mpi_pingpong(size_t size, int iters) {
  std::vector<char> req(8, 1), rep(size, 2);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    if (g_rank == 1) {
      MPI_Send(req.data(), 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
      MPI_Recv(rep.data(), static_cast<int>(size), MPI_BYTE, 0, 2, MPI_COMM_WORLD,
               MPI_STATUS_IGNORE);
    } else if (g_rank == 0) {
      MPI_Recv(req.data(), 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(rep.data(), static_cast<int>(size), MPI_BYTE, 1, 2, MPI_COMM_WORLD);
    }
  }
  double t = (MPI_Wtime() - t0) / iters;
  MPI_Bcast(&t, 1, MPI_DOUBLE, 1, MPI_COMM_WORLD);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int iters = 200;
  std::vector<size_t> sizes = {8, 47008, size_t{1} << 20};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iters" && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::stringstream ss(argv[++i]);
      for (std::string t; std::getline(ss, t, ',');) sizes.push_back(std::stoull(t));
    } else {
      if (g_rank == 0) std::fprintf(stderr, "usage: edaos-rpc-bench [--iters N] [--sizes a,b]\n");
      MPI_Finalize();
      return 2;
    }
  }
  if (size != 2) {
    if (g_rank == 0) std::fprintf(stderr, "edaos-rpc-bench: run with exactly 2 ranks\n");
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
  po.engines = 1;
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
  if (g_rank == 1) {
    auto c = pool.value()->cont_create("bench", ContainerProps{});
    if (!c.ok()) die("cont create", c.status());
    cont = c.value();
    auto oc = ObjClass::parse("S1");
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
    std::printf("transport %s, %d iterations per size\n%10s %12s %12s %12s %12s %10s\n",
                tr && *tr ? tr : "auto", iters, "bytes", "mpi_us", "store_us", "mpi_MB/s",
                "store_MB/s", "store/mpi");
  for (size_t sz : sizes) {
    const double tm = mpi_pingpong(sz, iters);
    double ts = 0;
    if (g_rank == 1) {
      if (!(st = arr->read(0, back.data(), sz)).ok()) die("read", st);  // warm-up
      double t0 = MPI_Wtime();
      for (int i = 0; i < iters; ++i)
        if (!(st = arr->read(0, back.data(), sz)).ok()) die("read", st);
      ts = (MPI_Wtime() - t0) / iters;
      if (std::memcmp(back.data(), data.data(), sz) != 0)
        die("verify", Status(EDAOS_CSUM, "read returned wrong bytes"));
      std::printf("%10zu %12.1f %12.1f %12.1f %12.1f %10.2f\n", sz, tm * 1e6, ts * 1e6,
                  sz / tm / 1e6, sz / ts / 1e6, ts / tm);
      std::fflush(stdout);
    }
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

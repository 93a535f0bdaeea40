// edaos-os-bench: writes then reads one shared byte-array object per object class through
// the native API, from every rank, and prints aggregate GB/s next to a memcpy baseline
// measured in the same run (so figures from different machines compare as ratios).
//
//   mpiexec -n 4 edaos-os-bench [--mib N] [--xfer KiB] [--cell KiB] [--classes S1,EC_2P1G1,..]
//                               [--pool PATH] [--iters N] [--json]
// The pool is created (8 engines per server rank by default) in a temporary directory unless
// --pool is given. Payloads are non-zero pseudo-random bytes; every read is verified.
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
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

int g_rank = 0, g_size = 1;

double max_time(double t) {
  double m = 0;
  MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return m;
}

int die(const char* what, const Status& st) {
  std::fprintf(stderr, "edaos-os-bench [rank %d]: %s: %s\n", g_rank, what, st.to_string().c_str());
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  uint64_t mib = 64, xfer_kib = 1024, cell_kib = 128;
  int iters = 3;
  bool json = false;
  std::string classes = "S1,RP_2G1,EC_2P1G1,EC_4P2G1", pool_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--mib")
      mib = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--xfer")
      xfer_kib = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--cell")
      cell_kib = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--classes")
      classes = next();
    else if (a == "--pool")
      pool_path = next();
    else if (a == "--iters")
      iters = std::atoi(next().c_str());
    else if (a == "--json")
      json = true;
    else {
      if (g_rank == 0) std::fprintf(stderr, "edaos-os-bench: unknown option %s\n", a.c_str());
      MPI_Finalize();
      return 2;
    }
  }
  if (mib == 0 || xfer_kib == 0 || iters < 1) {
    if (g_rank == 0) std::fprintf(stderr, "edaos-os-bench: sizes and --iters must be positive\n");
    MPI_Finalize();
    return 2;
  }
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) return die("init", st);

  char tmp[4096] = {};
  if (pool_path.empty()) {
    if (g_rank == 0) {
      std::snprintf(tmp, sizeof tmp, "%s/edaos-bench-XXXXXX",
                    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
      if (!mkdtemp(tmp)) tmp[0] = 0;
    }
    MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, MPI_COMM_WORLD);
    pool_path = std::string(tmp) + "/pool";
    st = Pool::create(pool_path, PoolCreateOptions{}, MPI_COMM_WORLD);
    if (!st.ok()) return die("pool create", st);
  }
  auto pool = Pool::connect(pool_path, MPI_COMM_WORLD);
  if (!pool.ok()) return die("connect", pool.status());
  std::string label = "bench-" + std::to_string(getpid());
  MPI_Bcast(label.data(), static_cast<int>(label.size()), MPI_CHAR, 0, MPI_COMM_WORLD);
  if (g_rank == 0) {
    ContainerProps p;
    p.ec_cell_sz = static_cast<uint32_t>(cell_kib << 10);
    p.chunk_size = 8 << 20;
    auto c = pool.value()->cont_create(label, p);
    if (!c.ok()) return die("container", c.status());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto cont = pool.value()->cont_open(label);
  if (!cont.ok()) return die("container open", cont.status());

  const uint64_t bytes = mib << 20, xfer = xfer_kib << 10;
  std::vector<uint8_t> src(bytes), dst(bytes);
  uint64_t x = 0x12345678u + static_cast<uint64_t>(g_rank);
  for (auto& b : src) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    b = static_cast<uint8_t>((x >> 33) | 1);
  }
  // Baseline: memcpy of the same bytes, same run.
  std::vector<double> mt;
  for (int i = 0; i < iters; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    std::memcpy(dst.data(), src.data(), bytes);
    mt.push_back(max_time(MPI_Wtime() - t0));
  }
  double total_gb = static_cast<double>(bytes) * g_size / 1e9;
  double memcpy_gbs = total_gb / median(mt);

  if (g_rank == 0 && !json) {
    std::printf("edaos-os-bench: %d ranks x %" PRIu64 " MiB, transfer %" PRIu64
                " KiB, EC cell %" PRIu64 " KiB, %d iterations (median)\n",
                g_size, mib, xfer_kib, cell_kib, iters);
    std::printf("%-12s %10s %10s %12s %12s\n", "class", "write GB/s", "read GB/s", "write/memcpy",
                "read/memcpy");
    std::printf("%-12s %10.2f %10.2f %12s %12s\n", "memcpy", memcpy_gbs, memcpy_gbs, "1.00",
                "1.00");
  }
  std::ostringstream js;
  js << "{\"ranks\":" << g_size << ",\"mib_per_rank\":" << mib << ",\"xfer_kib\":" << xfer_kib
     << ",\"cell_kib\":" << cell_kib << ",\"memcpy_gbs\":" << memcpy_gbs << ",\"classes\":[";
  std::stringstream ss(classes);
  bool first = true;
  for (std::string cls; std::getline(ss, cls, ',');) {
    auto oc = ObjClass::parse(cls);
    if (!oc.ok()) return die("class", oc.status());
    Status fit = validate_for_pool(oc.value(), pool.value()->map());
    if (!fit.ok()) {
      if (g_rank == 0 && !json)
        std::printf("%-12s skipped: %s\n", cls.c_str(), fit.message().c_str());
      continue;
    }
    std::vector<double> wt, rt;
    for (int it = 0; it < iters; ++it) {
      ObjectId oid;
      if (g_rank == 0) {
        auto o = cont.value()->alloc_oid(oc.value(), ObjType::kArray);
        if (!o.ok()) return die("alloc", o.status());
        oid = o.value();
      }
      MPI_Bcast(&oid, sizeof oid, MPI_BYTE, 0, MPI_COMM_WORLD);
      auto arr = cont.value()->open_array(oid);
      if (!arr.ok()) return die("open", arr.status());
      uint64_t base = bytes * static_cast<uint64_t>(g_rank);
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      for (uint64_t o = 0; o < bytes; o += xfer) {
        st = arr.value()->write(base + o, src.data() + o, std::min(xfer, bytes - o));
        if (!st.ok()) return die("write", st);
      }
      wt.push_back(max_time(MPI_Wtime() - t0));
      std::memset(dst.data(), 0, bytes);
      MPI_Barrier(MPI_COMM_WORLD);
      t0 = MPI_Wtime();
      for (uint64_t o = 0; o < bytes; o += xfer) {
        st = arr.value()->read(base + o, dst.data() + o, std::min(xfer, bytes - o));
        if (!st.ok()) return die("read", st);
      }
      rt.push_back(max_time(MPI_Wtime() - t0));
      if (std::memcmp(src.data(), dst.data(), bytes) != 0)
        return die("verify", Status(EDAOS_IO, "read back differs from what was written"));
      (void)arr.value()->destroy();
    }
    double w = total_gb / median(wt), r = total_gb / median(rt);
    if (g_rank == 0 && !json)
      std::printf("%-12s %10.2f %10.2f %12.3f %12.3f\n", cls.c_str(), w, r, w / memcpy_gbs,
                  r / memcpy_gbs);
    js << (first ? "" : ",") << "{\"class\":\"" << cls << "\",\"write_gbs\":" << w
       << ",\"read_gbs\":" << r << "}";
    first = false;
  }
  js << "]}";
  if (g_rank == 0 && json) std::printf("%s\n", js.str().c_str());
  if (g_rank == 0) (void)pool.value()->cont_destroy(label);
  MPI_Barrier(MPI_COMM_WORLD);
  (void)pool.value()->disconnect();
  (void)finalize();
  if (g_rank == 0 && tmp[0]) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  }
  MPI_Finalize();
  return 0;
}

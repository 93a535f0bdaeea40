// edaos-demo: the README's main job. Every rank of an MPI job takes part:
//  1. starts the object store (server ranks chosen by EDAOS_SERVER_RANKS, default one per node),
//  2. connects to the default pool (EDAOS_POOL / DAOS_POOL / ./edaos-pool), creating it if it
//     does not exist, and prints its layout,
//  3. checks the data the previous run left (persistence across jobs),
//  4. writes a shared object with several object classes (all meeting rd_fac:1) from all ranks,
//  reads it back,
//     verifies every byte and prints the bandwidth,
//  5. leaves a note for the next run and disconnects.
#include <mpi.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

int g_rank = 0, g_size = 1;

#define SAY(...)                \
  do {                          \
    if (g_rank == 0) {          \
      std::printf(__VA_ARGS__); \
      std::fflush(stdout);      \
    }                           \
  } while (0)

uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t v = (x + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xC2B2AE3D27D4EB4Full);
  v ^= v >> 29;
  return static_cast<uint8_t>(v | 1);
}

bool agree(bool ok) {
  int in = ok ? 1 : 0, out = 0;
  MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out != 0;
}

int die(const char* what, const Status& st) {
  std::fprintf(stderr, "edaos-demo [rank %d]: %s: %s\n", g_rank, what, st.to_string().c_str());
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

double now() { return MPI_Wtime(); }

// Verifies the object the previous run described in the container attribute "demo.last".
void check_previous(Container& c) {
  auto last = c.attr_get("demo.last");
  if (!last.ok()) {
    SAY("previous run: none recorded (first run on this pool)\n");
    return;
  }
  char oid_s[64] = {};
  unsigned long long size = 0;
  if (std::sscanf(last->c_str(), "%63s %llu", oid_s, &size) != 2) return;
  auto oid = ObjectId::parse(oid_s);
  if (!oid.ok()) return;
  auto a = c.open_array(oid.value());
  if (!a.ok()) return;
  std::vector<uint8_t> buf(1 << 20);
  bool ok = true;
  uint64_t per = (size + static_cast<uint64_t>(g_size) - 1) / static_cast<uint64_t>(g_size);
  uint64_t lo = per * static_cast<uint64_t>(g_rank), hi = std::min<uint64_t>(size, lo + per);
  for (uint64_t o = lo; o < hi && ok; o += buf.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), hi - o));
    if (!a.value()->read(o, buf.data(), n).ok()) ok = false;
    for (size_t i = 0; i < n && ok; ++i) ok = buf[i] == pattern(o + i, oid->lo);
  }
  ok = agree(ok);
  SAY("previous run: object %s, %llu bytes: %s\n", oid_s, size,
      ok ? "verified, every byte as written" : "MISMATCH");
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  uint64_t mib = 16;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--mib")) mib = std::strtoull(argv[i + 1], nullptr, 10);

  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) return die("init", st);
  auto servers = server_ranks();
  SAY("edaos demo: %d ranks, %zu server rank(s):", g_size, servers.size());
  for (int s : servers) SAY(" %d", s);
  SAY("\n");

  std::string path = default_pool_path();
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok() && pool.status().code() == EDAOS_NONEXIST) {
    SAY("pool %s: not found, creating it\n", path.c_str());
    st = Pool::create(path, PoolCreateOptions{}, MPI_COMM_WORLD);
    if (!st.ok()) return die("pool create", st);
    pool = Pool::connect(path, MPI_COMM_WORLD);
  }
  if (!pool.ok()) return die("pool connect", pool.status());
  auto q = pool.value()->query();
  if (!q.ok()) return die("pool query", q.status());
  SAY("pool %s (%s): %u engines, %u targets (%u disabled), %.1f GiB free of %.1f GiB\n",
      path.c_str(), q->uuid.to_string().c_str(), q->engines, q->targets, q->targets_disabled,
      static_cast<double>(q->free) / (1 << 30), static_cast<double>(q->total) / (1 << 30));

  // The container of the seed's job scripts, scaled to the pool.
  std::shared_ptr<Container> cont;
  if (g_rank == 0) {
    auto c = pool.value()->cont_open("demo");
    if (!c.ok()) {
      ContainerProps p;
      st = apply_properties(&p, "rd_fac:1,ec_cell_sz:131072,cksum:crc32,srv_cksum:on");
      if (!st.ok()) return die("properties", st);
      p.chunk_size = 2 << 20;
      p.file_oclass = "EC_2P1GX";
      p.dir_oclass = "RP_2G1";
      c = pool.value()->cont_create("demo", p);
      if (!c.ok()) return die("container create", c.status());
      std::printf(
          "container demo: created (rd_fac:1, ec_cell_sz:131072, cksum:crc32, "
          "srv_cksum:on, file oclass EC_2P1GX, dir oclass RP_2G1)\n");
    } else {
      std::printf("container demo: opened (%s)\n", c.value()->uuid().to_string().c_str());
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto c = pool.value()->cont_open("demo");
  if (!c.ok()) return die("container open", c.status());
  cont = c.value();
  check_previous(*cont);

  const uint64_t per_rank = mib << 20;
  std::vector<uint8_t> buf(per_rank), back(per_rank);
  std::string last;
  for (const char* cls : {"RP_2G1", "EC_2P1G1", "EC_2P1GX"}) {
    ObjectId oid;
    if (g_rank == 0) {
      auto o = cont->alloc_oid(ObjClass::parse(cls).value(), ObjType::kArray);
      if (!o.ok()) return die("alloc oid", o.status());
      oid = o.value();
    }
    MPI_Bcast(&oid, sizeof oid, MPI_BYTE, 0, MPI_COMM_WORLD);
    auto a = cont->open_array(oid);
    if (!a.ok()) return die("open array", a.status());
    uint64_t base = per_rank * static_cast<uint64_t>(g_rank);
    for (uint64_t i = 0; i < per_rank; ++i) buf[i] = pattern(base + i, oid.lo);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    st = a.value()->write(base, buf.data(), per_rank);
    if (!st.ok()) return die("write", st);
    MPI_Barrier(MPI_COMM_WORLD);
    double t1 = now();
    st = a.value()->read(base, back.data(), per_rank);
    if (!st.ok()) return die("read", st);
    MPI_Barrier(MPI_COMM_WORLD);
    double t2 = now();
    bool ok = agree(std::memcmp(buf.data(), back.data(), per_rank) == 0);
    double total = static_cast<double>(per_rank) * g_size / 1e9;
    SAY("  %-9s wrote %" PRIu64 " MiB in %.3f s (%.2f GB/s), read back %.2f GB/s: %s\n", cls,
        (per_rank * static_cast<uint64_t>(g_size)) >> 20, t1 - t0, total / (t1 - t0),
        total / (t2 - t1), ok ? "verified" : "MISMATCH");
    if (!ok) return die("verify", Status(EDAOS_IO, "data mismatch"));
    last = oid.to_string() + " " + std::to_string(per_rank * static_cast<uint64_t>(g_size));
  }
  st = cont->sync();
  if (!st.ok()) return die("sync", st);
  if (g_rank == 0) (void)cont->attr_set("demo.last", last);
  Stats s = stats();
  SAY("rank 0: %" PRIu64 " RPCs, %" PRIu64 " full-stripe and %" PRIu64
      " partial-stripe writes; data synced to disk.\n",
      s.rpcs, s.full_stripe_writes, s.partial_stripe_writes);
  SAY("done: run again to see this run's data verified by the next job.\n");
  cont.reset();
  st = pool.value()->disconnect();
  if (!st.ok()) return die("disconnect", st);
  (void)finalize();
  MPI_Finalize();
  return 0;
}

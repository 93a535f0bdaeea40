// One MPI job of a multi-job objstore test (driven by multi_job.sh):
//   objstore_job write  <pool> [--sync] [--kill] [--hold <file>]   every rank writes its region
//        of one object per class; --sync: then every rank syncs its container handle (only the
//        engines it wrote are asked); prints "acknowledged" on rank 0 once all writes (and syncs)
//        returned. Every rank also puts kKvPerRank entries into one shared KV object per KV
//        class, all ranks at once (a burst the servers serve in group commits), and removes
//        every third one again. --kill: then SIGKILL every rank (no disconnect). --hold: stay
//        connected until
//        <file> exists (up to 120 s), writing "<pool>.ready" first.
//        --kill-uncommitted: after the sync, each rank overwrites the middle of its region of
//        one direct-path class (rank 0: EC_2P1G1, whole stripes; then S1, RP_2G1) and every
//        rank is killed with SIGKILL once all have their data in the files, before any commit.
//   objstore_job verify <pool> [--uncommitted]   reads everything back in a new job, any rank
//        count; --uncommitted: the middles may read as old data or fail EDAOS_CSUM (EC:
//        EDAOS_DEGRADED too, a stripe with no consistent version left), unit by unit.
//   objstore_job expect-busy <pool>  connect must fail with EDAOS_BUSY "pool in use by".
// Exit status 0 means the check passed.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

const char* kClasses[] = {"S1", "RP_2G1", "EC_2P1G1", "EC_4P2GX"};
constexpr uint64_t kRegion = 200000 + 7;
// KV burst: classes, entries per rank, and what each entry holds.
const char* kKvClasses[] = {"S1", "RP_2G1"};
constexpr int kKvPerRank = 300;
std::string kv_dkey(int rank, int i) {
  return "d" + std::to_string(rank) + "." + std::to_string(i);
}
std::string kv_value(int rank, int i) {
  return "value of rank " + std::to_string(rank) + " entry " + std::to_string(i) +
         std::string(static_cast<size_t>(i % 97), 'v');
}
bool kv_removed(int i) { return i % 3 == 2; }

uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t v = (x + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xC2B2AE3D27D4EB4Full);
  v ^= v >> 29;
  return static_cast<uint8_t>(v | 1);
}

int fail(const char* what, const Status& st) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "[rank %d] %s: %s\n", rank, what, st.to_string().c_str());
  return 1;
}

// The overwrite of --kill-uncommitted: [kMidBegin, kMidEnd) of each rank's region.
constexpr uint64_t kMidBegin = kRegion / 4, kMidEnd = 3 * kRegion / 4;
constexpr uint64_t kUnit = 32768;  // the container's cksum_size

// Every rank's overwrite is in the shard files, none is committed: then all die at once.
void kill_before_commit(const char* point) {
  if (std::strcmp(point, "direct:before-commit") != 0) return;
  MPI_Barrier(MPI_COMM_WORLD);
  raise(SIGKILL);
}
// The class a rank overwrites in --kill-uncommitted: rank 0 an EC object (full stripes only,
// written directly: data and parity cells), the others replicas and single shards.
const char* uncommitted_class(int rank) {
  static const char* kCls[] = {"EC_2P1G1", "S1", "RP_2G1"};
  return kCls[rank % 3];
}
constexpr uint64_t kEcStripe = 2 * 8192;  // EC_2P1G1 with ec_cell_sz 8192

int do_write(const std::string& path, bool sync, bool kill_after, bool kill_uncommitted,
             const std::string& hold) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  PoolCreateOptions po;
  po.engines = 6;
  po.targets = 2;
  Status st = Pool::create(path, po, MPI_COMM_WORLD);
  if (!st.ok()) return fail("pool create", st);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  if (rank == 0) {
    ContainerProps p;
    st = apply_properties(&p, "ec_cell_sz:8192,chunk_size:65536,cksum:crc32,srv_cksum:on");
    if (!st.ok()) return fail("props", st);
    auto c = pool.value()->cont_create("jobs", p);
    if (!c.ok()) return fail("cont create", c.status());
    std::string ranks = std::to_string(size);
    st = c.value()->attr_set("writers", ranks);
    for (const char* cls : kClasses) {
      auto oc = ObjClass::parse(cls);
      auto oid = c.value()->alloc_oid(oc.value(), ObjType::kArray);
      if (!oid.ok()) return fail("alloc", oid.status());
      st = c.value()->attr_set(std::string("oid.") + cls, oid->to_string());
      if (!st.ok()) return fail("attr", st);
    }
    for (const char* cls : kKvClasses) {
      auto oc = ObjClass::parse(cls);
      auto oid = c.value()->alloc_oid(oc.value(), ObjType::kMultiLevel);
      if (!oid.ok()) return fail("alloc", oid.status());
      st = c.value()->attr_set(std::string("kv.") + cls, oid->to_string());
      if (!st.ok()) return fail("attr", st);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto c = pool.value()->cont_open("jobs");
  if (!c.ok()) return fail("cont open", c.status());
  std::vector<uint8_t> buf(kRegion);
  for (const char* cls : kClasses) {
    auto o = ObjectId::parse(c.value()->attr_get(std::string("oid.") + cls).value());
    auto a = c.value()->open_array(o.value());
    if (!a.ok()) return fail("open array", a.status());
    uint64_t base = static_cast<uint64_t>(rank) * kRegion;
    for (uint64_t i = 0; i < kRegion; ++i) buf[i] = pattern(base + i, o->lo);
    st = a.value()->write(base, buf.data(), buf.size());
    if (!st.ok()) return fail("write", st);
  }
  for (const char* cls : kKvClasses) {
    auto o = ObjectId::parse(c.value()->attr_get(std::string("kv.") + cls).value());
    auto kv = c.value()->open_kv(o.value());
    if (!kv.ok()) return fail("open kv", kv.status());
    for (int i = 0; i < kKvPerRank; ++i) {
      st = kv.value()->put(kv_dkey(rank, i), "a", kv_value(rank, i));
      if (!st.ok()) return fail("kv put", st);
      if (i >= 2 && kv_removed(i - 2)) {
        st = kv.value()->remove(kv_dkey(rank, i - 2), "a");
        if (!st.ok()) return fail("kv remove", st);
      }
    }
  }
  if (sync) {
    st = c.value()->sync();
    if (!st.ok()) return fail("sync", st);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("acknowledged %d x %llu bytes x %zu objects\n", size,
                static_cast<unsigned long long>(kRegion), std::size(kClasses));
    std::fflush(stdout);
  }
  if (kill_uncommitted) {
    set_direct_hook_for_testing(kill_before_commit);
    const char* cls = uncommitted_class(rank);
    const bool ec = std::strncmp(cls, "EC", 2) == 0;
    auto o = ObjectId::parse(c.value()->attr_get(std::string("oid.") + cls).value());
    auto a = c.value()->open_array(o.value());
    const uint64_t base = static_cast<uint64_t>(rank) * kRegion;
    uint64_t b = base + kMidBegin, e = base + kMidEnd;
    if (ec) {  // whole stripes: no partial stripe goes through the engine first
      b = (b + kEcStripe - 1) / kEcStripe * kEcStripe;
      e = e / kEcStripe * kEcStripe;
    }
    std::vector<uint8_t> mid(e - b);
    for (uint64_t i = 0; i < mid.size(); ++i) mid[i] = pattern(b + i, o->lo + 1);
    st = a.value()->write(b, mid.data(), mid.size());
    std::fprintf(stderr, "[rank %d] the uncommitted write of %s returned: %s\n", rank, cls,
                 st.to_string().c_str());
    return 1;  // not reached when the direct path served the write
  }
  if (kill_after) {
    MPI_Barrier(MPI_COMM_WORLD);
    raise(SIGKILL);
  }
  if (!hold.empty()) {
    if (rank == 0) std::ofstream(path + ".ready") << getpid() << "\n";
    for (int i = 0; i < 1200 && access(hold.c_str(), F_OK) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  st = pool.value()->disconnect();
  return st.ok() ? 0 : fail("disconnect", st);
}

bool is_ec(const char* cls) { return std::strncmp(cls, "EC", 2) == 0; }

int do_verify(const std::string& path, bool uncommitted) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  auto c = pool.value()->cont_open("jobs");
  if (!c.ok()) return fail("cont open", c.status());
  int writers = std::stoi(c.value()->attr_get("writers").value());
  int bad = 0;
  for (const char* cls : kClasses) {
    auto o = ObjectId::parse(c.value()->attr_get(std::string("oid.") + cls).value());
    auto a = c.value()->open_array(o.value());
    auto size = a.value()->get_size();
    if (!size.ok()) return fail("get size", size.status());
    if (size.value() != kRegion * static_cast<uint64_t>(writers)) {
      std::fprintf(stderr, "%s: size %llu, expected %llu\n", cls,
                   static_cast<unsigned long long>(size.value()),
                   static_cast<unsigned long long>(kRegion * static_cast<uint64_t>(writers)));
      bad = 1;
      continue;
    }
    std::vector<uint8_t> all(size.value());
    if (uncommitted) {
      // Unit by unit: a unit touching an overwritten middle may fail with a checksum error
      // (its bytes changed, its record did not); whatever reads must be the old data.
      uint64_t csum_units = 0;
      for (uint64_t u = 0; u * kUnit < all.size(); ++u) {
        const uint64_t off = u * kUnit, len = std::min<uint64_t>(kUnit, all.size() - off);
        Status st = a.value()->read(off, all.data() + off, len);
        const uint64_t in_region = off % kRegion, end_in = in_region + len;
        const bool may_fail = end_in > kMidBegin && in_region < kMidEnd;
        // A stripe whose cells all hold uncommitted bytes has no consistent version left: a
        // clear EDAOS_DEGRADED (its cells each fail verification), never other bytes.
        const bool clear_error =
            st.code() == EDAOS_CSUM || (st.code() == EDAOS_DEGRADED && is_ec(cls));
        if (clear_error && may_fail) {
          for (uint64_t i = off; i < off + len; ++i) all[i] = pattern(i, o->lo);  // allowed
          ++csum_units;
          continue;
        }
        if (!st.ok()) return fail("read", st);
      }
      if (rank == 0)
        std::printf("%s: %llu units failed verification (uncommitted), the rest read back\n", cls,
                    static_cast<unsigned long long>(csum_units));
    } else {
      Status st = a.value()->read(0, all.data(), all.size());
      if (!st.ok()) return fail("read", st);
    }
    for (uint64_t i = 0; i < all.size(); ++i)
      if (all[i] != pattern(i, o->lo)) {
        std::fprintf(stderr, "%s: byte %llu differs\n", cls, static_cast<unsigned long long>(i));
        bad = 1;
        break;
      }
  }
  for (const char* cls : kKvClasses) {
    auto o = ObjectId::parse(c.value()->attr_get(std::string("kv.") + cls).value());
    auto kv = c.value()->open_kv(o.value());
    if (!kv.ok()) return fail("open kv", kv.status());
    for (int w = 0; w < writers && !bad; ++w)
      for (int i = 0; i < kKvPerRank; ++i) {
        auto v = kv.value()->get(kv_dkey(w, i), "a");
        // The last two puts of a rank were never followed by their remove.
        const bool gone = kv_removed(i) && i + 2 < kKvPerRank;
        if (gone ? v.status().code() != EDAOS_NONEXIST : !v.ok() || v.value() != kv_value(w, i)) {
          std::fprintf(stderr, "%s: KV entry %s: %s\n", cls, kv_dkey(w, i).c_str(),
                       v.ok() ? (gone ? "present after its acknowledged remove" : "wrong value")
                              : v.status().to_string().c_str());
          bad = 1;
          break;
        }
      }
  }
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  Status st = pool.value()->disconnect();
  if (rank == 0 && !any)
    std::printf("verified %d writers' data in %zu objects\n", writers, std::size(kClasses));
  return any || !st.ok() ? 1 : 0;
}

int do_expect_busy(const std::string& path) {
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (pool.ok()) {
    std::fprintf(stderr, "connect succeeded while another job serves the pool\n");
    return 1;
  }
  const Status& st = pool.status();
  std::printf("second job: %s\n", st.to_string().c_str());
  if (st.code() != EDAOS_BUSY || st.message().find("pool in use by") == std::string::npos) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rc = 2;
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) {
    rc = fail("init", st);
  } else if (argc >= 3) {
    std::string mode = argv[1], path = argv[2];
    bool kill_after = false, sync = false, kill_uncommitted = false, uncommitted = false;
    std::string hold;
    for (int i = 3; i < argc; ++i) {
      if (!std::strcmp(argv[i], "--kill")) kill_after = true;
      if (!std::strcmp(argv[i], "--sync")) sync = true;
      if (!std::strcmp(argv[i], "--kill-uncommitted")) kill_uncommitted = true;
      if (!std::strcmp(argv[i], "--uncommitted")) uncommitted = true;
      if (!std::strcmp(argv[i], "--hold") && i + 1 < argc) hold = argv[++i];
    }
    if (mode == "write") rc = do_write(path, sync, kill_after, kill_uncommitted, hold);
    if (mode == "verify") rc = do_verify(path, uncommitted);
    if (mode == "expect-busy") rc = do_expect_busy(path);
  }
  (void)finalize();
  MPI_Finalize();
  return rc;
}

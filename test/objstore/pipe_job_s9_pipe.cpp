// Kill drill of commit pipelining (issue 15, client/README.md "Commit pipelining", session 9),
// run by kill_s9_pipe.sh:
//   pipe_job_s9_pipe write <pool>   every rank writes IOR-hard pieces (47008 B, interleaved) of
//        one S1 object with 32 KiB checksum units and syncs; then overwrites the first quarter of
//        the pieces and syncs again (those must read back new); then overwrites a later range
//        without a sync and every rank is killed with SIGKILL from inside its 10th call of that
//        range, right after the call's commits were sent (earlier calls' commits in flight or
//        answered, the pieces after it never written).
//   pipe_job_s9_pipe verify <pool>  a new job reads every unit: the synced pieces exactly; in
//        the unsynced range each piece's bytes in a unit wholly old or wholly new, or the unit
//        fails with EDAOS_CSUM (written, its record not committed), never other bytes.
// Exit status 0 means the check passed.
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

constexpr uint64_t kPiece = 47008, kUnit = 32768;
constexpr uint64_t kPerRank = 32;

// Pieces (global index j, at j * kPiece; rank j % n writes it): [0, 8n) rewritten and synced
// (seed 2), [10n, 24n) rewritten unsynced (seed 3) with the kill at its 10th call, the others
// written once (seed 1).
uint64_t synced_end(uint64_t n) { return 8 * n; }
uint64_t unsynced_begin(uint64_t n) { return 10 * n; }
uint64_t unsynced_end(uint64_t n) { return 24 * n; }
constexpr int kKillAtCall = 10;

uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t v = (x + 1) * 0x9E3779B97F4A7C15ull ^ (seed * 0xC2B2AE3D27D4EB4Full);
  v ^= v >> 29;
  return static_cast<uint8_t>(v | 1);
}
// The seed a synced piece j holds.
uint64_t seed_of(uint64_t j, uint64_t n) { return j < synced_end(n) ? 2 : 1; }

int fail(const char* what, const Status& st) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "[rank %d] %s: %s\n", rank, what, st.to_string().c_str());
  return 1;
}

int g_calls = 0;
void kill_with_commits_in_flight(const char* point) {
  if (std::strcmp(point, "direct:commit-sent") != 0 || ++g_calls != kKillAtCall) return;
  // No barrier: the commit just sent (and the window's before it) is still unanswered when the
  // process dies with the server threads it hosts; the other ranks die at their own 10th call
  // or wherever mpiexec's cleanup finds them.
  raise(SIGKILL);
}

Status write_pieces(Array& a, uint64_t from, uint64_t to, uint64_t seed) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::vector<uint8_t> buf(kPiece);
  for (uint64_t j = from; j < to; ++j) {
    if (j % static_cast<uint64_t>(size) != static_cast<uint64_t>(rank)) continue;
    for (uint64_t i = 0; i < kPiece; ++i) buf[i] = pattern(j * kPiece + i, seed);
    EDAOS_RETURN_IF_ERROR(a.write(j * kPiece, buf.data(), buf.size()));
  }
  return Status::OK();
}

int do_write(const std::string& path) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const uint64_t n = static_cast<uint64_t>(size);
  PoolCreateOptions po;
  po.engines = 4;
  po.targets = 2;
  Status st = Pool::create(path, po, MPI_COMM_WORLD);
  if (!st.ok()) return fail("pool create", st);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  if (rank == 0) {
    ContainerProps p;
    st = apply_properties(&p, "cksum:crc32,cksum_size:32768");
    if (st.ok()) st = pool.value()->cont_create("pipe", p).status();
    if (!st.ok()) return fail("cont create", st);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto c = pool.value()->cont_open("pipe");
  if (!c.ok()) return fail("cont open", c.status());
  if (rank == 0) {
    auto o = c.value()->alloc_oid(ObjClass::parse("S1").value(), ObjType::kArray);
    if (!o.ok()) return fail("alloc oid", o.status());
    st = c.value()->attr_set("oid", o.value().to_string());
    if (!st.ok()) return fail("attr", st);
    st = c.value()->attr_set("writers", std::to_string(size));
    if (!st.ok()) return fail("attr", st);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto oid = ObjectId::parse(c.value()->attr_get("oid").value());
  auto a = c.value()->open_array(oid.value());
  if (!a.ok()) return fail("open", a.status());
  st = write_pieces(*a.value(), 0, kPerRank * n, 1);
  if (st.ok()) st = c.value()->sync();
  if (st.ok()) st = write_pieces(*a.value(), 0, synced_end(n), 2);
  if (st.ok()) st = c.value()->sync();
  if (!st.ok()) return fail("synced writes", st);
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) std::printf("acknowledged and synced\n");
  std::fflush(stdout);
  set_direct_hook_for_testing(kill_with_commits_in_flight);
  st = write_pieces(*a.value(), unsynced_begin(n), unsynced_end(n), 3);
  std::fprintf(stderr, "[rank %d] the unsynced writes returned (%d direct calls): %s\n", rank,
               g_calls, st.to_string().c_str());
  return 1;  // not reached when the writes were pipelined
}

int do_verify(const std::string& path) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  auto c = pool.value()->cont_open("pipe");
  if (!c.ok()) return fail("cont open", c.status());
  const uint64_t n = std::stoull(c.value()->attr_get("writers").value());
  auto oid = ObjectId::parse(c.value()->attr_get("oid").value());
  auto a = c.value()->open_array(oid.value());
  if (!a.ok()) return fail("open", a.status());
  const uint64_t len = kPerRank * n * kPiece;
  const uint64_t ub = unsynced_begin(n) * kPiece, ue = unsynced_end(n) * kPiece;
  std::vector<uint8_t> buf(kUnit);
  uint64_t failed = 0, new_parts = 0, old_parts = 0;
  int bad = 0;
  for (uint64_t off = 0; off < len && !bad; off += kUnit) {
    const uint64_t l = std::min(kUnit, len - off);
    Status st = a.value()->read(off, buf.data(), l);
    const bool unsynced = off < ue && off + l > ub;
    if (st.code() == EDAOS_CSUM && unsynced) {
      ++failed;
      continue;
    }
    if (!st.ok()) return fail("read", st);
    // Each piece's part of the unit: the synced seed, or (unsynced range) wholly seed 3.
    for (uint64_t at = off; at < off + l;) {
      const uint64_t j = at / kPiece, e = std::min(off + l, (j + 1) * kPiece);
      const bool may_be_new = j >= unsynced_begin(n) && j < unsynced_end(n);
      auto all = [&](uint64_t seed) {
        for (uint64_t x = at; x < e; ++x)
          if (buf[x - off] != pattern(x, seed)) return false;
        return true;
      };
      if (all(seed_of(j, n))) {
        old_parts += may_be_new;
      } else if (may_be_new && all(3)) {
        ++new_parts;
      } else {
        std::fprintf(stderr, "bytes [%llu, %llu) of piece %llu are neither %s\n",
                     static_cast<unsigned long long>(at), static_cast<unsigned long long>(e),
                     static_cast<unsigned long long>(j),
                     may_be_new ? "the synced nor the unsynced bytes" : "the synced bytes");
        bad = 1;
        break;
      }
      at = e;
    }
  }
  if (rank == 0 && !bad)
    std::printf(
        "verified: synced bytes exact; unsynced range: %llu units failed verification, "
        "%llu piece parts new (committed before the kill), %llu old\n",
        static_cast<unsigned long long>(failed), static_cast<unsigned long long>(new_parts),
        static_cast<unsigned long long>(old_parts));
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  Status st = pool.value()->disconnect();
  return any || !st.ok() ? 1 : 0;
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
    const std::string mode = argv[1], path = argv[2];
    if (mode == "write") rc = do_write(path);
    if (mode == "verify") rc = do_verify(path);
  }
  (void)finalize();
  MPI_Finalize();
  return rc;
}

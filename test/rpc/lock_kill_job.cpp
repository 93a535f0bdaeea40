// A stripe-lock holder that dies (transports, session 5; src/server/README.md "Stripe locks").
// One job of 3 ranks on a pool made by `fault_job setup` (EC_2P1G1 object, 4 KiB cells, pattern
// A), started with `mpiexec -disable-auto-cleanup` so the job outlives rank 1:
//   lock_kill_job <pool> exit|sigkill <fault_job pattern seed B>
// rank 0  serves (EDAOS_SERVER_RANKS: rank 0 only) until rank 2 is done, then leaves with
//         _exit (finalize would wait for the dead rank at its barrier);
// rank 1  exit:    writes pattern B over [0, 1000) of stripe 0 with
//                  EDAOS_TEST_FAULT=ec-partial-data-only: it dies holding the stripe lock,
//                  data cell written, parity not (exit 86, as kill -9 there would);
//         sigkill: rewrites [0, 1000) with pattern B in a loop until rank 2 kills it with SIGKILL
//                  (wherever it is: often holding the lock);
// rank 2  waits until rank 1's process has ended, then writes pattern B over [5000, 6000) of
//         the same stripe (a partial-stripe write: it needs the lock rank 1 held) and reads
//         it back. Prints "lock-kill: write done in <s> s, read back ok" and exits 0; a lock
//         never released makes the write fail with EDAOS_UNREACH after EDAOS_RPC_TIMEOUT.
// The script then checks the whole stripe with `fault_job verify` and every engine down.
#include <mpi.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

// fault_job's pattern (test/objstore/fault_job.cpp), so its verify can check this job's bytes.
uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t z = x * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint8_t>((z ^ (z >> 31)) | 1);
}

constexpr uint64_t kOff1 = 0, kLen1 = 1000, kOff2 = 5000, kLen2 = 1000;
constexpr int kServeSeconds = 150;

[[noreturn]] void die(int rank, const char* what, const Status& st) {
  std::fprintf(stderr, "lock_kill_job [rank %d]: %s: %s\n", rank, what, st.to_string().c_str());
  std::fflush(stderr);
  ::_exit(1);
}

// True once process `pid` has ended (gone, or a zombie not yet reaped by its launcher).
bool ended(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!f || !std::getline(f, line)) return true;
  const size_t p = line.rfind(')');
  return p == std::string::npos || p + 2 >= line.size() || line[p + 2] == 'Z' || line[p + 2] == 'X';
}

void nap_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

struct Opened {
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> cont;
  std::unique_ptr<Array> arr;
};

Opened open_object(int rank, const std::string& path) {
  Opened o;
  auto pool = Pool::connect(path, MPI_COMM_SELF);
  if (!pool.ok()) die(rank, "connect", pool.status());
  o.pool = pool.value();
  auto c = o.pool->cont_open("w");
  if (!c.ok()) die(rank, "cont open", c.status());
  o.cont = c.value();
  auto id = o.cont->attr_get("oid.EC_2P1G1");
  if (!id.ok()) die(rank, "oid", id.status());
  auto a = o.cont->open_array(ObjectId::parse(id.value()).value());
  if (!a.ok()) die(rank, "open array", a.status());
  o.arr = std::move(a).value();
  return o;
}

std::vector<uint8_t> bytes_b(uint64_t off, uint64_t len, uint64_t seed) {
  std::vector<uint8_t> b(len);
  for (uint64_t i = 0; i < len; ++i) b[i] = pattern(off + i, seed);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 4 || size != 3) {
    if (rank == 0)
      std::fprintf(stderr, "usage: mpiexec -n 3 lock_kill_job <pool> exit|sigkill <seed>\n");
    MPI_Finalize();
    return 2;
  }
  const std::string path = argv[1], mode = argv[2];
  const uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  const std::string done = path + ".lock-kill-done";
  if (mode == "exit" && rank == 1) setenv("EDAOS_TEST_FAULT", "ec-partial-data-only", 1);
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) die(rank, "init", st);
  int pid1 = static_cast<int>(getpid());
  MPI_Bcast(&pid1, 1, MPI_INT, 1, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);  // the last MPI call: rank 1 dies below

  // Hydra tells the survivors of a failed process with SIGUSR1 (-disable-auto-cleanup), whose
  // default action would end them too.
  signal(SIGUSR1, SIG_IGN);
  if (rank == 0) {  // serves until rank 2 is done (at most kServeSeconds)
    struct stat sb;
    for (int i = 0; i < kServeSeconds * 20 && stat(done.c_str(), &sb) != 0; ++i) nap_ms(50);
    ::_exit(0);
  }
  Opened o = open_object(rank, path);
  if (rank == 1) {
    const auto b = bytes_b(kOff1, kLen1, seed);
    for (;;) {  // exit: the first write ends the process; sigkill: until killed
      st = o.arr->write(kOff1, b.data(), b.size());
      if (!st.ok()) die(rank, "write", st);
    }
  }
  // rank 2
  if (mode == "sigkill") {
    nap_ms(1500);  // let rank 1 write for a while
    ::kill(static_cast<pid_t>(pid1), SIGKILL);
  }
  while (!ended(static_cast<pid_t>(pid1))) nap_ms(20);
  const auto b = bytes_b(kOff2, kLen2, seed);
  const auto t0 = std::chrono::steady_clock::now();
  st = o.arr->write(kOff2, b.data(), b.size());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) {
    std::ofstream(done) << "failed\n";
    die(rank, "partial-stripe write after the holder died", st);
  }
  std::vector<uint8_t> back(kLen2);
  st = o.arr->read(kOff2, back.data(), back.size());
  if (!st.ok()) {
    std::ofstream(done) << "failed\n";
    die(rank, "read back", st);
  }
  const bool same = back == b;
  std::printf("lock-kill: write done in %.2f s, read back %s\n", s, same ? "ok" : "WRONG");
  std::fflush(stdout);
  (void)o.pool->disconnect();
  std::ofstream(done) << "done\n";
  ::_exit(same ? 0 : 1);
}

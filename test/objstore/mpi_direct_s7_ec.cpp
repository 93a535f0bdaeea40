// Readers while a direct commit is in flight (issue 15, client/README.md "Readers while a commit
// is in flight"): a direct writer pwrites its units, then commits their records; in between, a
// reader that goes to the engine finds units that do not match their records. The engine tells
// a commit in flight (the writer holds an OFD write lock on the units until its commit is
// answered) from corruption, and the reader waits for the commit instead of failing with
// EDAOS_CSUM. A writer killed in between leaves no lock: its units are reported at once.
// Also: IOR-hard direct reads of EC pieces inside cells, counted in page faults.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "direct_pair.hpp"

using namespace edaos;
using namespace edaos::objstore;
using namespace edaos::test;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Case {
  const char* cls;
  const char* props;
  uint64_t unit;       // record unit: the checksum chunk (S1) or the EC cell
  uint64_t len;        // object size written first (old bytes)
  uint64_t off, nlen;  // the overwrite held between data and commit (new bytes)
};

// S1 with 32 KiB checksum units, overwritten from inside unit 1 to inside unit 5 (partial
// units at both ends: their checksums are computed from the file under the range lock), and
// EC_2P1G1 with 128 KiB cells, two full stripes of four overwritten (data and parity cells).
const Case kS1{
    "S1", "cksum:crc32,cksum_size:32768", 32768, 8 * 32768, 32768 + 1000, 5 * 32768 - 1500};
const Case kEc{"EC_2P1G1", "cksum:crc32,ec_cell_sz:131072,chunk_size:1048576",
               131072,     uint64_t{1} << 20,
               262144,     524288};
// Checksums off: a replica shard keeps no records, so its direct writer takes no range lock and
// a reader verifies nothing (as a POSIX file: each byte old or new, never an error).
const Case kS1Off{"S1", "cksum:off", 32768, 8 * 32768, 32768 + 1000, 5 * 32768 - 1500};

// The object's bytes before and after the overwrite. The new bytes are the pattern of another
// seed at a shifted offset: the pattern is XOR-linear in its seed, so with the offset alone
// kept the XOR of two new cells would equal that of the old ones and EC_2P1 parity would not
// change.
std::vector<uint8_t> old_bytes(const Case& c) {
  std::vector<uint8_t> b(c.len);
  fill(b, 0, 1);
  return b;
}
std::vector<uint8_t> overwrite(const Case& c) {
  std::vector<uint8_t> n(c.nlen);
  fill(n, c.off + 1000003, 2);
  return n;
}
std::vector<uint8_t> new_bytes(const Case& c) {
  std::vector<uint8_t> b = old_bytes(c), n = overwrite(c);
  std::memcpy(b.data() + c.off, n.data(), n.size());
  return b;
}

// -1 when every unit of `got` is wholly the old or wholly the new bytes (every byte compared),
// else the first unit that is neither. per_byte: each byte old or new (no records).
int64_t mixed_unit(const Case& c, const std::vector<uint8_t>& got, bool per_byte) {
  const std::vector<uint8_t> a = old_bytes(c), b = new_bytes(c);
  for (uint64_t u = 0; u * c.unit < c.len; ++u) {
    const size_t at = u * c.unit, n = std::min<uint64_t>(c.unit, c.len - at);
    if (per_byte) {
      for (size_t i = at; i < at + n; ++i)
        if (got[i] != a[i] && got[i] != b[i]) return static_cast<int64_t>(u);
      continue;
    }
    if (std::memcmp(got.data() + at, a.data() + at, n) != 0 &&
        std::memcmp(got.data() + at, b.data() + at, n) != 0)
      return static_cast<int64_t>(u);
  }
  return -1;
}

class InFlightTest : public DirectPairTest {
 protected:
  void SetUp() override { open_pools("inflight", 6, 2); }

  // Rank `writer` writes the old bytes of a new object of case c; every rank returns its id.
  ObjectId make_object(const Case& c, const std::string& label, int writer) {
    make_cont(label, c.props);
    ObjectId o = new_oid(c.cls);
    if (rank() == writer) {
      auto a = dc_->open_array(o);
      EXPECT_TRUE(a.ok());
      if (a.ok()) {
        std::vector<uint8_t> b = old_bytes(c);
        EDAOS_EXPECT_OK(a.value()->write(0, b.data(), b.size()));
        // Its commit answered (session 9: a direct write returns before that): nothing of
        // this process is in flight when killed_writer forks.
        EDAOS_EXPECT_OK(dc_->sync());
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return o;
  }
  // hold: seconds the writer stays between data and commit; give_up: the reader's wait is
  // expected to end first (EDAOS_RPC_TIMEOUT below the hold).
  void reader_races_held_writer(const Case& c, const std::string& label, double hold = 1.5,
                                bool give_up = false);
  void killed_writer(const Case& c, const std::string& label);
};

// ---- a writer held between its data and its commit (rank 1), a reader (rank 0)

MPI_Comm g_side = MPI_COMM_NULL;
int g_held = 0;
double g_hold_seconds = 1.5;
constexpr int kTagInHook = 1, kTagDone = 2;

// Rank 1's hook: tell rank 0 the data is in the file, then hold the commit back.
void hold_commit(const char* point) {
  if (std::strcmp(point, "direct:before-commit") != 0 || g_held++ > 0) return;
  int x = 0;
  MPI_Send(&x, 1, MPI_INT, 0, kTagInHook, g_side);
  std::this_thread::sleep_for(std::chrono::duration<double>(g_hold_seconds));
}

void InFlightTest::reader_races_held_writer(const Case& c, const std::string& label, double hold,
                                            bool give_up) {
  if (nranks() < 2) GTEST_SKIP() << "needs a writer and a reader rank";
  g_hold_seconds = hold;
  ObjectId o = make_object(c, label, 1);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_side);
  const bool records = std::strcmp(c.props, "cksum:off") != 0;
  if (rank() == 1) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> n = overwrite(c);
    g_held = 0;
    set_direct_hook_for_testing(hold_commit);
    Status st = a.value()->write(c.off, n.data(), n.size());
    set_direct_hook_for_testing(nullptr);
    int x = 0;
    MPI_Send(&x, 1, MPI_INT, 0, kTagDone, g_side);
    EDAOS_EXPECT_OK(st);
  } else if (rank() == 0) {
    auto r = rc_->open_array(o);  // through the engine
    ASSERT_TRUE(r.ok());
    int x = 0;
    MPI_Status ms;
    MPI_Recv(&x, 1, MPI_INT, 1, MPI_ANY_TAG, g_side, &ms);
    if (ms.MPI_TAG == kTagInHook) {
      // The new bytes are in the shard files, their records are not committed yet.
      std::vector<uint8_t> got(c.len);
      const Clock::time_point t0 = Clock::now();
      Status st = r.value()->read(0, got.data(), got.size());
      const double waited = seconds_since(t0);
      if (give_up) {
        // The writer stays stopped past EDAOS_RPC_TIMEOUT: the reader stops waiting then and
        // fails with a checksum error that names the shard range and says why.
        const double limit = std::atof(std::getenv("EDAOS_RPC_TIMEOUT"));
        EXPECT_EQ(st.code(), EDAOS_CSUM) << st.to_string();
        EXPECT_NE(st.message().find("uncommitted after"), std::string::npos) << st.to_string();
        EXPECT_NE(st.message().find("of a shard on engine"), std::string::npos);
        EXPECT_GT(waited, limit * 0.9);
        EXPECT_LT(waited, hold) << "the reader waited for the commit";
      } else {
        EXPECT_TRUE(st.ok()) << "read while a direct commit is in flight: " << st.to_string();
        if (st.ok()) {
          EXPECT_EQ(mixed_unit(c, got, !records), -1) << "a unit that is neither old nor new";
        }
        if (records) {
          // Some unit failed verification until the commit: the read waited for it.
          EXPECT_GT(waited, hold / 3) << "the read did not wait for the commit";
        }
      }
      std::printf("[%s %s] read during the held commit took %.3f s\n", c.cls, c.props, waited);
      MPI_Recv(&x, 1, MPI_INT, 1, kTagDone, g_side, MPI_STATUS_IGNORE);
    } else {
      std::printf("[%s] the write did not go direct (no hook): nothing raced\n", c.cls);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Comm_free(&g_side);
  // Afterwards everybody reads the new bytes through both paths.
  const std::vector<uint8_t> want = new_bytes(c);
  for (auto* cont : {dc_.get(), rc_.get()}) {
    auto r = cont->open_array(o);
    ASSERT_TRUE(r.ok());
    std::vector<uint8_t> got(c.len);
    EDAOS_ASSERT_OK(r.value()->read(0, got.data(), got.size()));
    EXPECT_TRUE(got == want) << (cont == dc_.get() ? "direct" : "engine");
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(InFlightTest, ReaderWaitsForAHeldDirectCommitS1) { reader_races_held_writer(kS1, "hs1"); }
TEST_F(InFlightTest, ReaderWaitsForAHeldDirectCommitEc) { reader_races_held_writer(kEc, "hec"); }
TEST_F(InFlightTest, ReaderOfAShardWithoutRecordsSeesOldOrNewBytes) {
  reader_races_held_writer(kS1Off, "hoff");
}
// Run with a short EDAOS_RPC_TIMEOUT (test_objstore_s7_ec_inflight_timeout.np2).
TEST_F(InFlightTest, ReaderGivesUpOnAStoppedWriterAfterTheRpcTimeout) {
  const char* t = std::getenv("EDAOS_RPC_TIMEOUT");
  const double limit = t ? std::atof(t) : 0;
  if (limit <= 0 || limit > 10) GTEST_SKIP() << "needs EDAOS_RPC_TIMEOUT of at most 10 s";
  reader_races_held_writer(kS1, "hto", limit * 2 + 1, true);
}

// ---- a writer killed between its data and its commit (a child of rank 0), a reader (rank 0)

int g_pipe = -1;
void signal_and_stop(const char* point) {
  if (std::strcmp(point, "direct:before-commit") != 0) return;
  const char x = 'x';
  if (::write(g_pipe, &x, 1) != 1) ::_exit(3);
  for (;;) ::pause();  // killed here, with its range locks held
}

// After fork the child shares its parent's open file descriptions, whose locks would outlive
// the child. It opens its own descriptions of the object's shard files under the same numbers
// (as a separate writer process has its own), so its range locks are its own.
void own_shard_descriptors(const std::string& pool, const ObjectId& o) {
  const std::string name = "/" + o.to_string() + ".";
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) ::_exit(4);
  std::vector<int> fds;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && fd != ::dirfd(d)) fds.push_back(static_cast<int>(fd));
  }
  ::closedir(d);
  for (int fd : fds) {
    char link[PATH_MAX] = {};
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    const std::string path(link, static_cast<size_t>(n));
    if (path.compare(0, pool.size(), pool) != 0 || path.find(name) == std::string::npos ||
        (path.size() > 5 && path.compare(path.size() - 5, 5, ".csum") == 0))
      continue;
    const int flags = ::fcntl(fd, F_GETFL);
    const int nf = ::open(path.c_str(), (flags & O_ACCMODE) | O_CLOEXEC);
    if (nf < 0 || ::dup2(nf, fd) < 0) ::_exit(5);
    ::close(nf);
  }
}

void InFlightTest::killed_writer(const Case& c, const std::string& label) {
  if (two_nodes()) GTEST_SKIP() << "needs every engine on the writer's node";
  const DirectStats d0 = direct_stats();
  ObjectId o = make_object(c, label, 0);  // takes rank 0's write leases
  if (rank() == 0 && direct_stats().writes == d0.writes) {
    std::printf("[%s] the first write did not go direct: no direct writer to kill\n", c.cls);
  } else if (rank() == 0) {
    auto a = dc_->open_array(o);
    auto r = rc_->open_array(o);
    ASSERT_TRUE(a.ok() && r.ok());
    std::vector<uint8_t> n = overwrite(c);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    std::fflush(nullptr);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // No MPI here: the leases are held, the write reaches the hook without an RPC.
      ::close(p[0]);
      g_pipe = p[1];
      own_shard_descriptors(path_, o);
      set_direct_hook_for_testing(signal_and_stop);
      (void)a.value()->write(c.off, n.data(), n.size());
      ::_exit(2);  // the write did not stop in the hook
    }
    ::close(p[1]);
    struct pollfd pf = {p[0], POLLIN, 0};
    char x = 0;
    const bool in_hook = ::poll(&pf, 1, 60000) == 1 && ::read(p[0], &x, 1) == 1;
    ::kill(child, SIGKILL);
    int ws = 0;
    ::waitpid(child, &ws, 0);
    ::close(p[0]);
    ASSERT_TRUE(in_hook) << "the child's write never reached its commit (status " << ws << ")";
    // The killed writer's units: an error at once (the lock died with the writer), never
    // bytes, never a wait for EDAOS_RPC_TIMEOUT.
    std::vector<uint8_t> got(c.len);
    const Clock::time_point t0 = Clock::now();
    Status st = r.value()->read(0, got.data(), got.size());
    const double took = seconds_since(t0);
    std::printf("[%s] read after the writer was killed: %s in %.3f s\n", c.cls,
                st.to_string().c_str(), took);
    // S1: the engine reports the torn units (EDAOS_CSUM). EC: every cell of the two stripes
    // was rewritten, so no consistent version is left to rebuild from (EDAOS_DEGRADED).
    if (c.unit == kEc.unit)
      EXPECT_TRUE(st.code() == EDAOS_CSUM || st.code() == EDAOS_DEGRADED) << st.to_string();
    else
      EXPECT_EQ(st.code(), EDAOS_CSUM) << st.to_string();
    EXPECT_LT(took, 10.0) << "the reader waited for a writer that was dead";
    // The units the killed writer did not touch read back as before.
    std::vector<uint8_t> head(c.unit);
    EDAOS_EXPECT_OK(r.value()->read(0, head.data(), head.size()));
    std::vector<uint8_t> want = old_bytes(c);
    EXPECT_EQ(std::memcmp(head.data(), want.data(), head.size()), 0);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(InFlightTest, AKilledDirectWriterIsReportedAtOnceS1) { killed_writer(kS1, "ks1"); }
TEST_F(InFlightTest, AKilledDirectWriterIsReportedAtOnceEc) { killed_writer(kEc, "kec"); }

// ---- IOR-hard direct reads of EC pieces inside cells

// A piece of 47008 bytes inside a 128 KiB cell is read with its whole cell (its checksum
// covers the cell) into a bounce buffer, verified, and copied out. Until session 7 that
// buffer was allocated per call; in the IOR processes (a small heap: every 128 KiB buffer a
// fresh mapping above malloc's mmap threshold) each piece faulted in 32 or 64 pages. A test
// process has a large heap that hands the same freed chunk back, so here every read is
// followed by malloc_trim(0), which gives free heap pages back to the system as a fresh
// process has none to give: memory allocated per call faults in again, memory kept does not.
// The bounce buffer is now kept per thread. Measured in page faults of the reading thread.
class HardReadTest : public DirectPairTest {
 protected:
  void SetUp() override { open_pools("hardread", 6, 2); }
};

TEST_F(HardReadTest, EcPiecesInsideCellsFaultInNoFreshPages) {
  make_cont("hard", "cksum:crc32,ec_cell_sz:131072,chunk_size:1048576");
  ObjectId o = new_oid("EC_2P1G1");
  const uint64_t piece = 47008, pieces = 200, len = piece * pieces;
  const bool mixed = two_nodes();  // collective: every rank asks
  if (rank() == 0 && !mixed) {
    auto a = dc_->open_array(o);
    ASSERT_TRUE(a.ok());
    std::vector<uint8_t> all(len);
    fill(all, 0, o.lo);
    EDAOS_ASSERT_OK(a.value()->write(0, all.data(), len));  // full stripes direct, the tail not
    auto faults = [] {
      struct rusage u {};
      getrusage(RUSAGE_THREAD, &u);
      return static_cast<uint64_t>(u.ru_minflt);
    };
    std::vector<uint8_t> got(piece, 1);  // touched: its pages are there
    uint64_t f = 0;
    const DirectStats d0 = direct_stats();
    for (int pass = 0; pass < 2; ++pass) {
      const uint64_t f0 = faults();
      for (uint64_t p = 0; p < pieces; ++p) {
        EDAOS_ASSERT_OK(a.value()->read(p * piece, got.data(), piece));
        malloc_trim(0);
        ASSERT_EQ(first_mismatch(got, p * piece, o.lo), -1) << "piece " << p;
      }
      f = faults() - f0;  // the second pass: nothing left to set up
    }
    const DirectStats d1 = direct_stats();
    EXPECT_GE(d1.reads - d0.reads, 2 * pieces) << "the pieces were not read directly";
    EXPECT_EQ(d1.read_fallbacks - d0.read_fallbacks, 0u);
    EXPECT_LT(f, pieces * 4) << "page faults of " << pieces << " direct reads of " << piece
                             << "-byte pieces inside 128 KiB cells";
    std::printf("[hard EC reads] %llu page faults in %llu direct piece reads\n",
                static_cast<unsigned long long>(f), static_cast<unsigned long long>(pieces));
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace

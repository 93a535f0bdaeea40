// edaos-ior: shared declarations of the driver (ior.cpp) and its I/O backends
// (backend_*.cpp). See benchmarks/README.md for the options and the file layout.
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/names.hpp"

namespace edaos::bench {

// Everything the command line sets (IOR's names in the comments).
struct IorOptions {
  std::string api = "POSIX";         // -a
  uint64_t block = 1 << 20;          // -b blockSize
  uint64_t xfer = 256 << 10;         // -t transferSize
  uint64_t segments = 1;             // -s segmentCount
  bool fpp = false;                  // -F filePerProc
  bool collective = false;           // -c collective
  bool reorder = false;              // -C reorderTasks
  int reorder_shift = 1;             // -Q taskPerNodeOffset (in ranks: one node here)
  bool fsync = false;                // -e fsync
  bool write = false, read = false;  // -w -r (neither: both)
  bool check_write = false;          // -W checkWrite
  bool check_read = false;           // -R checkRead
  int iterations = 1;                // -i repetitions
  std::string file = "testFile";     // -o testFile
  bool keep = false;                 // -k keepFile
  uint64_t seed = 0;                 // -G setTimeStampSignature: part of the data pattern
  int verify_iter = 0;               // --verify-iter: iteration tag expected without -w
  std::vector<std::pair<std::string, std::string>> hints;  // -O key=value, -U, IOR_HINT__MPI__
  std::string json_file;     // -J, or -O summaryFormat=JSON,summaryFile=F
  bool json_stdout = false;  // -O summaryFormat=JSON without a file
  double inter_delay = 0;    // -d interTestDelay (s)
  bool quiet = false;        // -q
  double idle_seconds = 0;   // --idle: measure the idle CPU cost instead of I/O
  // DFS backend (IOR's --dfs.* options)
  std::string dfs_pool, dfs_cont, dfs_oclass, dfs_dir_oclass;
  uint64_t dfs_chunk = 0;
};

// One file opened by every rank of `comm` (shared file) or by one rank (MPI_COMM_SELF, -F).
// Every call aborts the job with a message on error (as IOR does): a benchmark that goes on
// after a failed transfer reports figures that mean nothing.
class Backend {
 public:
  virtual ~Backend() = default;
  // What the summary prints in its API column, e.g. "MPIIO (edaos)". Valid after open().
  virtual std::string describe() const = 0;
  // Collective over comm. create: make the file (shared files: one rank creates, then the
  // others open). `size` is the file's data size in bytes (HDF5 sizes its dataset with it).
  virtual void open(const std::string& name, MPI_Comm comm, bool create, bool write,
                    uint64_t size) = 0;
  // One transfer of `len` bytes at data offset `off`. Collective over the open's comm when the
  // backend does collective I/O (-c): every rank then makes the same number of calls.
  virtual void write(uint64_t off, const void* buf, uint64_t len) = 0;
  virtual void read(uint64_t off, void* buf, uint64_t len) = 0;
  // -e: make the written data durable (fsync, MPI_File_sync, H5Fflush, Dfs sync).
  virtual void fsync() = 0;
  virtual void close() = 0;
  // Collective over comm: removes the file (one rank does it; the others wait).
  virtual void remove(const std::string& name, MPI_Comm comm) = 0;
};

// Factories; nullptr with *why set when the backend is not built in.
std::unique_ptr<Backend> make_posix_backend(const IorOptions& o, std::string* why);
std::unique_ptr<Backend> make_mpiio_backend(const IorOptions& o, std::string* why);
std::unique_ptr<Backend> make_hdf5_backend(const IorOptions& o, std::string* why);
std::unique_ptr<Backend> make_dfs_backend(const IorOptions& o, std::string* why);

// Prints "edaos-ior [rank r]: <msg>" and aborts the job.
[[noreturn]] void fatal(const std::string& msg);

// MPI_Info with the hints of -O / -U / IOR_HINT__MPI__ (caller frees). ROMIO_HINTS is read by
// the MPI-IO layer itself (MPICH's ROMIO and edaos both do).
MPI_Info make_info(const IorOptions& o);

// Names: "daos:" and "ufs:" prefixes. POSIX and DFS strip them; MPI-IO passes them on.
inline bool has_prefix(const std::string& s, const char* p) {
  return s.compare(0, std::strlen(p), p) == 0;
}

// Where a DFS name (-a DFS) lives, by objstore's one resolver (objstore/README.md, "Names"):
// daos://POOL/CONT/path names all three; daos:/path, daos:path or a plain path take the pool
// from `pool_opt` (--dfs.pool: a path or a label), else the default pool ($EDAOS_POOL /
// $DAOS_POOL), and the container from `cont_opt` (--dfs.cont), else the environment
// ($EDAOS_CONT, $DAOS_CONT / $DAOS_CONTAINER). Calls fatal() on a name that does not parse.
struct DfsName {
  std::string pool, cont, path;  // pool directory, container, absolute path ("/" at least)
};
inline DfsName dfs_name(const std::string& name, const std::string& pool_opt,
                        const std::string& cont_opt) {
  DfsName w;
  if (has_prefix(name, "daos://")) {
    auto d = objstore::parse_daos_name(name);
    if (!d.ok()) fatal("DFS name: " + d.status().message());
    w.pool = d->pool;
    w.cont = d->cont;
    w.path = d->path.empty() ? "/" : d->path;
    return w;
  }
  std::string rest = has_prefix(name, "daos:") ? name.substr(5) : name;
  w.path = rest.empty() || rest[0] != '/' ? "/" + rest : rest;
  auto pool = objstore::resolve_pool(pool_opt.empty() ? objstore::default_pool_spec() : pool_opt);
  if (!pool.ok()) fatal("--dfs.pool: " + pool.status().message());
  w.pool = pool.value();
  w.cont = cont_opt;
  if (w.cont.empty()) {
    auto c = objstore::default_container();
    if (!c.ok()) fatal(c.status().message());
    w.cont = c.value();
  }
  if (w.cont.empty()) fatal("-a DFS: no container (set DAOS_CONT or --dfs.cont)");
  return w;
}

// ---- the data pattern ------------------------------------------------------------------------
// Byte o of a file holds byte (o mod 8) (little-endian) of word(key, o / 8), where the key
// mixes the seed (-G), the iteration that wrote it and the rank that wrote it. So every byte
// depends on rank, offset and iteration, a transfer landing at the wrong offset or from the
// wrong iteration is caught, and no byte is ever zero (holes are caught too).
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}
inline uint64_t pattern_key(uint64_t seed, int iteration, int writer) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ull) ^ (static_cast<uint64_t>(iteration) << 32) ^
               static_cast<uint64_t>(writer + 1));
}
inline uint64_t pattern_word(uint64_t key, uint64_t w) {
  uint64_t v = (w + 1) * 0x9E3779B97F4A7C15ull ^ key;
  v ^= v >> 29;
  return v | 0x0101010101010101ull;
}
inline uint8_t pattern_byte(uint64_t key, uint64_t off) {
  return static_cast<uint8_t>(pattern_word(key, off >> 3) >> (8 * (off & 7)));
}
// Fills buf[0, len) with the bytes the file holds at [off, off + len).
inline void pattern_fill(uint8_t* buf, uint64_t len, uint64_t off, uint64_t key) {
  uint64_t i = 0;
  for (; i < len && ((off + i) & 7) != 0; ++i) buf[i] = pattern_byte(key, off + i);
  for (; i + 8 <= len; i += 8) {
    uint64_t w = pattern_word(key, (off + i) >> 3);
    std::memcpy(buf + i, &w, 8);
  }
  for (; i < len; ++i) buf[i] = pattern_byte(key, off + i);
}

// $EDAOS_BENCH_CONNECT_TIME=1 (issue 17 acceptance, session 8): the job's first pool connection
// timed alone, for edaos-ior's DFS backend and edaos-mdtest alike: every rank starts together,
// rank 0 prints the slowest rank's time on stderr, and access() of two names that never exist
// marks the connection's start and end for `strace -f`, so its system calls can be counted
// (benchmarks/README.md). Without the variable, `connect()` alone.
template <class Connect>
auto timed_pool_connect(const char* tool, Connect&& connect) -> decltype(connect()) {
  const char* ct = std::getenv("EDAOS_BENCH_CONNECT_TIME");
  if (!ct || std::strcmp(ct, "1") != 0) return connect();
  MPI_Barrier(MPI_COMM_WORLD);
  (void)::access("/edaos-bench-connect-begin", F_OK);
  const double t0 = MPI_Wtime();
  auto pool = connect();
  double dt = MPI_Wtime() - t0, worst = 0;
  (void)::access("/edaos-bench-connect-end", F_OK);
  MPI_Reduce(&dt, &worst, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    std::fprintf(stderr, "%s: first pool connection %.3f ms (slowest rank)\n", tool, worst * 1e3);
  return pool;
}

}  // namespace edaos::bench

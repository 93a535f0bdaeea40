// The process's shared pool connections (Pool::shared): one per pool directory, used by every
// door (MPI-IO driver, HDF5 connector, benchmarks, tool).
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <vector>

#include "edaos/objstore/objstore.hpp"
#include "edaos/objstore/collectives.hpp"

namespace edaos::objstore {

namespace {

std::mutex g_mu;
std::map<std::string, std::shared_ptr<Pool>> g_pools;
// Connections made while this process already had one (some other rank of the communicator had
// none): kept alive until release, so each rank's view stays valid.
std::vector<std::shared_ptr<Pool>> g_extra;

// The real path of `dir`, or its absolute lexical form when it does not exist (yet).
std::string cache_key(const std::string& dir) {
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf)) return buf;
  std::string p = dir;
  if (p.empty() || p[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) p = std::string(cwd) + "/" + p;
  }
  return p;
}

}  // namespace

Result<std::shared_ptr<Pool>> Pool::shared(const std::string& dir, MPI_Comm comm,
                                           const SharedPoolOptions& opts) {
  // The lock is never held across a collective call: threads connecting over different
  // communicators must not wait for each other across processes.
  std::shared_ptr<Pool> mine;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_pools.find(cache_key(dir));
    if (it != g_pools.end()) mine = it->second;
  }
  int have = mine ? 1 : 0, all = have, nprocs = 1;
  MPI_Comm_size(comm, &nprocs);
  if (nprocs > 1) coll::allreduce(&have, &all, 1, MPI_INT, MPI_MIN, comm);
  if (all) return mine;
  // Some rank has no connection yet: all connect (collective); ranks that had one keep theirs
  // and keep the new one alive too (dropping it would close the pool for the other handle).
  auto p = Pool::connect(dir, comm);
  if (!p.ok() && p.status().code() == EDAOS_NONEXIST && opts.create) {
    Status st = Pool::create(dir, opts.create_opts, comm);
    if (!st.ok() && st.code() != EDAOS_EXIST) return st.with_context("create pool " + dir);
    p = Pool::connect(dir, comm);
  }
  if (!p.ok()) return p.status();
  std::lock_guard<std::mutex> lk(g_mu);
  auto [it, inserted] = g_pools.emplace(cache_key(dir), p.value());
  if (!inserted) g_extra.push_back(p.value());  // this rank had one, or another thread won
  return it->second;
}

Result<std::shared_ptr<Pool>> Pool::shared_local(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_pools.find(cache_key(dir));
    if (it != g_pools.end()) return it->second;
  }
  return shared(dir, MPI_COMM_SELF);
}

void release_shared_pools() {
  std::map<std::string, std::shared_ptr<Pool>> pools;
  std::vector<std::shared_ptr<Pool>> extra;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    pools.swap(g_pools);
    extra.swap(g_extra);
  }
  // Destroyed here, outside the lock: each closes its connection at the servers.
}

}  // namespace edaos::objstore

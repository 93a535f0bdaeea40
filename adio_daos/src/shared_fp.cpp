// The shared file pointer and the file lock, kept in the store so that no rank has to answer
// requests (independent MPI_File_write_shared works while the other ranks compute).
//
// Every container that holds MPI-IO files has one KV object (its OID in the container attribute
// `edaos.mpio.lock_kv`). Each open instance of a file owns dkey "<file oid>.<nonce>" (the nonce
// comes from rank 0 at open, so two jobs opening the same file do not share a pointer, as MPI
// requires; the dkey is removed at close):
//   akey "lock"  present while a rank holds the instance's lock; taken with an insert-only put
//                (the store guarantees exactly one concurrent inserter wins), released by remove
//   akey "sfp"   the shared file pointer, decimal, in etype units of the current view
// Waiting for the lock sleeps with exponential backoff (50 us .. 5 ms): no busy spin.
// The lock serializes the shared-pointer update and, in atomic mode, every independent read
// and write of the instance (whole-file lock: correct, coarse; see README "Atomic mode").
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "adio_internal.hpp"

namespace edaos::adio {

Status file_lock(File* f) {
  long wait_ns = 50000;
  for (;;) {
    Status st =
        f->lock_kv->put(f->lock_dkey, "lock", std::to_string(f->rank), objstore::KV::kInsertOnly);
    if (st.ok()) return st;
    if (st.code() != EDAOS_EXIST) return st.with_context("file lock");
    struct timespec ts = {0, wait_ns};
    nanosleep(&ts, nullptr);
    wait_ns = std::min(wait_ns * 2, 5000000L);
  }
}

void file_unlock(File* f) { (void)f->lock_kv->remove(f->lock_dkey, "lock"); }

int ADIOI_EDAOS_SharedFetchAdd(File* f, int64_t add, int64_t* old) {
  Status st = file_lock(f);
  if (!st.ok()) return to_mpi_error(st, f->filename + ": shared file pointer");
  auto v = f->lock_kv->get(f->lock_dkey, "sfp");
  int64_t cur = 0;
  if (v.ok())
    cur = std::strtoll(v.value().c_str(), nullptr, 10);
  else if (v.status().code() != EDAOS_NONEXIST)
    st = v.status();
  if (st.ok() && add != 0) st = f->lock_kv->put(f->lock_dkey, "sfp", std::to_string(cur + add));
  file_unlock(f);
  if (!st.ok()) return to_mpi_error(st, f->filename + ": shared file pointer");
  *old = cur;
  return MPI_SUCCESS;
}

int ADIOI_EDAOS_SharedSet(File* f, int64_t value) {
  objstore::coll::barrier(f->comm);  // nobody still uses the old value
  Status st;
  if (f->rank == 0) st = f->lock_kv->put(f->lock_dkey, "sfp", std::to_string(value));
  return agree_error(f->comm, to_mpi_error(st, f->filename + ": shared file pointer"));
}

}  // namespace edaos::adio

// set_size and preallocate (collective, ROMIO's ADIOI_DAOS_Resize / ADIOI_GEN_Prealloc).
// Rank 0 changes the size; everyone returns the same outcome. Preallocate only grows: the store
// allocates on write, so growing the size is all that is observable (MPI-3.1 13.2.5).
#include "adio_internal.hpp"

namespace edaos::adio {

int ADIOI_EDAOS_Resize(File* f, int64_t size) {
  Status st;
  if (f->rank == 0) st = f->obj->set_size(static_cast<uint64_t>(size));
  return agree_error(f->comm, to_mpi_error(st, f->filename + ": set_size"));
}

int ADIOI_EDAOS_Preallocate(File* f, int64_t size) {
  Status st;
  if (f->rank == 0) {
    auto cur = f->obj->get_size();
    if (!cur.ok())
      st = cur.status();
    else if (static_cast<int64_t>(cur.value()) < size)
      st = f->obj->set_size(static_cast<uint64_t>(size));
  }
  return agree_error(f->comm, to_mpi_error(st, f->filename + ": preallocate"));
}

}  // namespace edaos::adio

// get_size, sync, atomicity (ROMIO's ADIOI_DAOS_Fcntl and Flush).
#include "adio_internal.hpp"

namespace edaos::adio {

int ADIOI_EDAOS_GetSize(File* f, int64_t* size) {
  auto s = f->obj->get_size();
  if (!s.ok()) return to_mpi_error(s.status(), f->filename + ": get_size");
  *size = static_cast<int64_t>(s.value());
  return MPI_SUCCESS;
}

int ADIOI_EDAOS_Flush(File* f) {
  // Every rank's writes are acknowledged by the store before this point; one sync makes them
  // durable for all (DAOS: dfs_sync on rank 0 after a barrier).
  PMPI_Barrier(f->comm);
  Status st;
  if (f->rank == 0 && !(f->amode & MPI_MODE_RDONLY)) st = f->obj->sync();
  return agree_error(f->comm, to_mpi_error(st, f->filename + ": sync"));
}

int ADIOI_EDAOS_SetAtomicity(File* f, bool on) {
  // Collective; the flag must agree (MPI-3.1 13.6.1).
  int mine = on ? 1 : 0, lo = 0, hi = 0;
  PMPI_Allreduce(&mine, &lo, 1, MPI_INT, MPI_MIN, f->comm);
  PMPI_Allreduce(&mine, &hi, 1, MPI_INT, MPI_MAX, f->comm);
  if (lo != hi)
    return make_error(MPI_ERR_NOT_SAME, f->filename + ": atomicity flag differs across ranks");
  f->atomic = on;
  return MPI_SUCCESS;
}

}  // namespace edaos::adio

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
  // A sync makes durable only the engines its process wrote since its last sync, so every rank
  // syncs its own writes (a rank that wrote nothing sends nothing); rank 0 also records the
  // mtime. The agreement waits for all: when it returns, every rank's writes are durable.
  Status st;
  if (!(f->amode & MPI_MODE_RDONLY)) st = f->rank == 0 ? f->obj->sync() : f->cont->sync();
  return agree_error(f->comm, to_mpi_error(st, f->filename + ": sync"));
}

int ADIOI_EDAOS_SetAtomicity(File* f, bool on) {
  // Collective; the flag must agree (MPI-3.1 13.6.1).
  int mine = on ? 1 : 0, lo = 0, hi = 0;
  objstore::coll::allreduce(&mine, &lo, 1, MPI_INT, MPI_MIN, f->comm);
  objstore::coll::allreduce(&mine, &hi, 1, MPI_INT, MPI_MAX, f->comm);
  if (lo != hi)
    return make_error(MPI_ERR_NOT_SAME, f->filename + ": atomicity flag differs across ranks");
  f->atomic = on;
  return MPI_SUCCESS;
}

}  // namespace edaos::adio

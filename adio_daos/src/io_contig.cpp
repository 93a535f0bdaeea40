// Contiguous I/O (ROMIO's ADIOI_DAOS_ReadContig / WriteContig): one store call, the buffer
// passed as one iovec (zero copies in the driver). In atomic mode the file lock is held. The
// two-phase aggregators move the runs of their collective buffer through these; reads are
// exact (read_full: holes and bytes past the end read as zeros, no size round trip), since
// the aggregator's callers count their bytes themselves.
#include "adio_internal.hpp"

namespace edaos::adio {

int ADIOI_EDAOS_ReadContig(File* f, int64_t off, void* buf, int64_t len, int64_t* bytes) {
  *bytes = 0;
  if (len == 0) return MPI_SUCCESS;
  if (f->atomic) {
    Status ls = file_lock(f);
    if (!ls.ok()) return to_mpi_error(ls, f->filename);
  }
  objstore::IoVec v{buf, static_cast<size_t>(len)};
  Status st = f->obj->read_full(static_cast<uint64_t>(off), &v, 1);
  if (f->atomic) file_unlock(f);
  if (!st.ok()) return to_mpi_error(st, f->filename + ": read");
  *bytes = len;
  return MPI_SUCCESS;
}

int ADIOI_EDAOS_WriteContig(File* f, int64_t off, const void* buf, int64_t len, int64_t* bytes) {
  *bytes = 0;
  if (len == 0) return MPI_SUCCESS;
  if (f->atomic) {
    Status ls = file_lock(f);
    if (!ls.ok()) return to_mpi_error(ls, f->filename);
  }
  Status st = f->obj->write(static_cast<uint64_t>(off), buf, static_cast<size_t>(len));
  if (f->atomic) file_unlock(f);
  if (!st.ok()) return to_mpi_error(st, f->filename + ": write");
  *bytes = len;
  return MPI_SUCCESS;
}

}  // namespace edaos::adio

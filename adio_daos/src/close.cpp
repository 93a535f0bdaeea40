// Close (collective): report a write's late commit error (writes return before their commits
// with the commit window on), drop the shared pointer entry, remove the file for
// MPI_MODE_DELETE_ON_CLOSE, release the handles.
#include <fcntl.h>

#include "adio_internal.hpp"

namespace edaos::adio {
namespace {

// MPI deletes a DELETE_ON_CLOSE file whatever its access mode (MPI-3.1 13.2.1): a file opened
// MPI_MODE_RDONLY has a read-only mount, so the unlink goes through a writable one.
Status delete_on_close(File* f) {
  if (!f->dfs->read_only()) return f->dfs->unlink(f->path);
  auto m = objstore::Dfs::mount(f->cont, MPI_COMM_NULL, O_RDWR);
  if (!m.ok()) return m.status();
  Status st = m.value()->unlink(f->path);
  (void)m.value()->umount();
  return st;
}

}  // namespace

int ADIOI_EDAOS_Close(File* f) {
  // Every write of this rank that returned has its commit applied before the barrier, and an
  // error one met after it returned (commit pipelining: objstore/src/client/README.md) fails the
  // close on every rank instead of being lost with the handle.
  Status st;
  std::string what = ": close (a write's commit failed after the write returned)";
  if (f->obj && f->cont) st = f->cont->close_object(f->obj->oid());
  objstore::coll::barrier(f->comm);  // every rank is done with the file before it goes away
  if (f->rank == 0) {
    if (f->lock_kv) (void)f->lock_kv->remove(f->lock_dkey, "");
    if (f->amode & MPI_MODE_DELETE_ON_CLOSE) {
      Status d = delete_on_close(f);
      if (st.ok() && !d.ok()) {
        st = d;
        what = ": delete on close";
      }
    }
  }
  f->obj.reset();
  f->lock_kv.reset();
  if (f->dfs) (void)f->dfs->umount();
  f->dfs.reset();
  f->cont.reset();
  int rc = agree_error(f->comm, to_mpi_error(st, f->filename + what));
  if (f->view.etype != MPI_DATATYPE_NULL) {
    int ni, na, nd, comb;
    PMPI_Type_get_envelope(f->view.etype, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED) PMPI_Type_free(&f->view.etype);
  }
  if (f->view.filetype != MPI_DATATYPE_NULL) {
    int ni, na, nd, comb;
    PMPI_Type_get_envelope(f->view.filetype, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED) PMPI_Type_free(&f->view.filetype);
  }
  PMPI_Comm_free(&f->comm);
  return rc;
}

}  // namespace edaos::adio

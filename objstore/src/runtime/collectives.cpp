// coll::wait: the polite wait of edaos/objstore/collectives.hpp.
#include "edaos/objstore/collectives.hpp"

#include "common/backoff.hpp"

namespace edaos::objstore::coll {

int wait(MPI_Request* req) {
  Backoff backoff(/*max_us=*/100, /*spin_us=*/200);
  int done = 0;
  for (;;) {
    int rc = PMPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || done) return rc;
    backoff.pause();
  }
}

int waitall(int n, MPI_Request* reqs) {
  Backoff backoff(/*max_us=*/100, /*spin_us=*/200);
  int done = 0;
  for (;;) {
    int rc = PMPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS || done) return rc;
    backoff.pause();
  }
}

}  // namespace edaos::objstore::coll

// coll::wait: the polite wait of edaos/objstore/collectives.hpp.
#include "edaos/objstore/collectives.hpp"

#include <algorithm>
#include <cstring>

#include "common/backoff.hpp"
#include "common/codec.hpp"

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

int bcast_bytes(std::string* bytes, int root, MPI_Comm comm) {
  constexpr size_t kHead = 4096;
  char head[kHead];
  int me = 0;
  PMPI_Comm_rank(comm, &me);
  if (me == root) {
    const uint64_t n = bytes->size();
    std::memcpy(head, &n, sizeof n);
    std::memcpy(head + sizeof n, bytes->data(), std::min(bytes->size(), kHead - sizeof n));
  }
  int rc = bcast(head, static_cast<int>(kHead), MPI_CHAR, root, comm);
  if (rc != MPI_SUCCESS) return rc;
  uint64_t n = 0;
  std::memcpy(&n, head, sizeof n);
  const size_t first = std::min<size_t>(n, kHead - sizeof n);
  if (me != root) bytes->assign(head + sizeof n, first);
  if (n <= first) return MPI_SUCCESS;
  if (me != root) bytes->resize(n);
  return bcast(bytes->data() + first, static_cast<int>(n - first), MPI_CHAR, root, comm);
}

Status bcast_status(const Status& st, int root, MPI_Comm comm,
                    std::initializer_list<std::string*> extras) {
  int me = 0;
  PMPI_Comm_rank(comm, &me);
  std::string blob;
  if (me == root) {
    codec::Encoder e;
    e.u32(static_cast<uint32_t>(st.code())).str64(st.message());
    if (st.ok())
      for (const std::string* x : extras) e.str64(*x);
    blob = e.take();
  }
  if (bcast_bytes(&blob, root, comm) != MPI_SUCCESS)
    return Status(EDAOS_INTERNAL, "the broadcast of an outcome failed");
  if (me == root) return st;
  codec::Decoder d(blob);
  const auto code = static_cast<edaos_status_t>(d.get<uint32_t>());
  std::string msg;
  d.str64(&msg);
  if (code != EDAOS_OK) return Status(code, msg);
  for (std::string* x : extras) d.str64(x);
  if (!d.ok() || d.remaining() != 0)
    return Status(EDAOS_INTERNAL, "the broadcast of an outcome is malformed");
  return Status::OK();
}

}  // namespace edaos::objstore::coll

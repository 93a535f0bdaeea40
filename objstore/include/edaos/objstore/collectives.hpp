// The collective calls edaos makes itself (runtime start and stop, pool connect/disconnect, DFS
// mount, the MPI-IO driver's open/close/agreements, the HDF5 connector's) as nonblocking MPI
// collectives completed by a polite wait: MPI_Test, then sched_yield for a short while, then
// short sleeps. They call the profiling names (PMPI_*): the library's own collectives are not
// the application's and do not show in a tool's profile of it.
//
// Why: a blocking MPICH collective polls its progress engine while it waits. When a job has
// more ranks than cores (4 ranks on the 2-core CI machine, or a node shared with other jobs)
// the early ranks' polling takes the cores the late ranks need to arrive, and one collective
// costs tens of milliseconds (measured with MPICH 4.0.2 ch4:ucx, 4 ranks on 2 cores:
// MPI_Comm_dup 18-36 ms, MPI_Allreduce of 64 ints 24-44 ms, MPI_Barrier 12-29 ms; 2 ranks
// 0.03-0.06 ms), most of a pool connection at 4 ranks. A waiting rank that yields and then
// sleeps leaves the cores to the ranks still working; when all ranks are present the
// collective completes in the yield phase, at MPI's own latency.
//
// The calls are started and completed by the calling thread; they follow the same ordering
// rules as the blocking ones (every rank of `comm` calls them in the same order). Errors: as
// the blocking calls, the communicator's error handler applies (MPI_ERRORS_ARE_FATAL unless
// the application set another); the return code is the MPI call's.
#pragma once

#include <mpi.h>

#include <initializer_list>
#include <string>

#include "edaos/objstore/status.hpp"

namespace edaos::objstore::coll {

// Completes `*req` (MPI_REQUEST_NULL: returns at once): PMPI_Test, sched_yield for up to
// 200 us, then sleeps of 10-100 us between tests.
EDAOS_CXX_API int wait(MPI_Request* req);
// Completes the `n` requests (PMPI_Testall, the same pauses).
EDAOS_CXX_API int waitall(int n, MPI_Request* reqs);

inline int bcast(void* buf, int count, MPI_Datatype type, int root, MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Ibcast(buf, count, type, root, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int allreduce(const void* in, void* out, int count, MPI_Datatype type, MPI_Op op,
                     MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Iallreduce(in, out, count, type, op, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int allgather(const void* in, int count, MPI_Datatype type, void* out, int rcount,
                     MPI_Datatype rtype, MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Iallgather(in, count, type, out, rcount, rtype, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int allgatherv(const void* in, int count, MPI_Datatype type, void* out, const int* counts,
                      const int* displs, MPI_Datatype rtype, MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Iallgatherv(in, count, type, out, counts, displs, rtype, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int exscan(const void* in, void* out, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Iexscan(in, out, count, type, op, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int alltoall(const void* in, int count, MPI_Datatype type, void* out, int rcount,
                    MPI_Datatype rtype, MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Ialltoall(in, count, type, out, rcount, rtype, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int alltoallv(const void* in, const int* counts, const int* displs, MPI_Datatype type,
                     void* out, const int* rcounts, const int* rdispls, MPI_Datatype rtype,
                     MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Ialltoallv(in, counts, displs, type, out, rcounts, rdispls, rtype, comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

inline int barrier(MPI_Comm comm) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Ibarrier(comm, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

// MPI_Comm_dup, completed now.
inline int dup(MPI_Comm comm, MPI_Comm* out) {
  MPI_Request req = MPI_REQUEST_NULL;
  int rc = PMPI_Comm_idup(comm, out, &req);
  return rc == MPI_SUCCESS ? wait(&req) : rc;
}

// Broadcasts `*bytes` from `root` to every rank of `comm`: one broadcast of a fixed 4 KiB head
// holding the length and the first bytes, a second one only for what does not fit.
EDAOS_CXX_API int bcast_bytes(std::string* bytes, int root, MPI_Comm comm);

// Broadcasts root's outcome so every rank returns the same one: root's `st` and, when it is
// OK, root's `extras` (byte strings, e.g. a pool map or an object handle) in the same
// broadcast; on the other ranks `extras` receive root's bytes. One broadcast instead of one
// per value (each costs a collective's latency; see the top of this file). An MPI failure of
// the broadcast itself returns EDAOS_INTERNAL on the ranks where it failed.
EDAOS_CXX_API Status bcast_status(const Status& st, int root, MPI_Comm comm,
                                  std::initializer_list<std::string*> extras = {});

}  // namespace edaos::objstore::coll

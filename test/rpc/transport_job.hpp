// A native transport started over MPI_COMM_WORLD for the transport tests (test/rpc/mpi_*.cpp):
// every rank opens one, the ranks agree that all opened (else `t` is null on every rank and the
// tests skip), exchange their addresses and their process ids. Made once, at the first call;
// the test program resets `t` before MPI_Finalize (a gtest Environment's TearDown).
#pragma once

#include <mpi.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "edaos/objstore/status.hpp"

namespace edaos::objstore::test {

template <class T, int kRanks>
struct TransportJob {
  std::unique_ptr<T> t;
  int rank = 0, size = 0;
  int pids[kRanks] = {};
};

// T::open(rank, Status*) -> std::unique_ptr<T>; T::address(); T::set_peers(vector<string>).
template <class T, int kRanks>
TransportJob<T, kRanks>* transport_job() {
  static TransportJob<T, kRanks>* j = [] {
    auto* x = new TransportJob<T, kRanks>;
    MPI_Comm_rank(MPI_COMM_WORLD, &x->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &x->size);
    if (x->size != kRanks) return x;
    edaos::Status st;
    x->t = T::open(x->rank, &st);
    int ok = x->t ? 1 : 0, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
      x->t.reset();
      return x;
    }
    const std::string& a = x->t->address();
    int len = static_cast<int>(a.size()), lens[kRanks] = {}, displs[kRanks] = {};
    MPI_Allgather(&len, 1, MPI_INT, lens, 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 1; r < kRanks; ++r) displs[r] = displs[r - 1] + lens[r - 1];
    std::string all(static_cast<size_t>(displs[kRanks - 1] + lens[kRanks - 1]), '\0');
    MPI_Allgatherv(a.data(), len, MPI_CHAR, all.data(), lens, displs, MPI_CHAR, MPI_COMM_WORLD);
    std::vector<std::string> peers;
    for (int r = 0; r < kRanks; ++r)
      peers.push_back(all.substr(static_cast<size_t>(displs[r]), static_cast<size_t>(lens[r])));
    x->t->set_peers(std::move(peers));
    int me = static_cast<int>(getpid());
    MPI_Allgather(&me, 1, MPI_INT, x->pids, 1, MPI_INT, MPI_COMM_WORLD);
    return x;
  }();
  return j;
}

}  // namespace edaos::objstore::test

// Who asks which aggregator for what (ROMIO's ADIOI_Calc_my_req / ADIOI_Calc_others_req).
#include <algorithm>

#include "coll_internal.hpp"

namespace edaos::adio::coll {

std::vector<std::vector<Piece>> split_by_domain(const Plan& p, const std::vector<Piece>& mine) {
  std::vector<std::vector<Piece>> out(p.aggs.size());
  for (Piece pc : mine) {
    while (pc.len > 0) {
      int a = domain_of(p, pc.foff);
      int64_t end = p.fd_end[static_cast<size_t>(a)];
      int64_t l = std::min(pc.len, end - pc.foff + 1);
      if (l <= 0) l = pc.len;  // cannot happen with a correct plan; never loop forever
      out[static_cast<size_t>(a)].push_back({pc.foff, pc.maddr, l});
      pc.foff += l;
      pc.maddr += l;
      pc.len -= l;
    }
  }
  return out;
}

std::vector<std::vector<Seg>> exchange_requests(File* f, const Plan& p,
                                                const std::vector<std::vector<Piece>>& mine) {
  int n = f->nprocs;
  std::vector<int> scount(static_cast<size_t>(n), 0), rcount(static_cast<size_t>(n), 0);
  for (size_t a = 0; a < p.aggs.size(); ++a)
    scount[static_cast<size_t>(p.aggs[a])] += static_cast<int>(2 * mine[a].size());
  objstore::coll::alltoall(scount.data(), 1, MPI_INT, rcount.data(), 1, MPI_INT, f->comm);
  std::vector<int> sdisp(static_cast<size_t>(n), 0), rdisp(static_cast<size_t>(n), 0);
  for (int r = 1; r < n; ++r) {
    sdisp[static_cast<size_t>(r)] =
        sdisp[static_cast<size_t>(r - 1)] + scount[static_cast<size_t>(r - 1)];
    rdisp[static_cast<size_t>(r)] =
        rdisp[static_cast<size_t>(r - 1)] + rcount[static_cast<size_t>(r - 1)];
  }
  std::vector<int64_t> sbuf(static_cast<size_t>(sdisp.back() + scount.back()));
  std::vector<int64_t> rbuf(static_cast<size_t>(rdisp.back() + rcount.back()));
  std::vector<int> fill = sdisp;
  for (size_t a = 0; a < p.aggs.size(); ++a)
    for (const Piece& pc : mine[a]) {
      int& at = fill[static_cast<size_t>(p.aggs[a])];
      sbuf[static_cast<size_t>(at++)] = pc.foff;
      sbuf[static_cast<size_t>(at++)] = pc.len;
    }
  objstore::coll::alltoallv(sbuf.data(), scount.data(), sdisp.data(), MPI_INT64_T, rbuf.data(),
                            rcount.data(), rdisp.data(), MPI_INT64_T, f->comm);
  std::vector<std::vector<Seg>> others(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r)
    for (int i = 0; i < rcount[static_cast<size_t>(r)]; i += 2) {
      size_t k = static_cast<size_t>(rdisp[static_cast<size_t>(r)] + i);
      others[static_cast<size_t>(r)].push_back({rbuf[k], rbuf[k + 1]});
    }
  return others;
}

}  // namespace edaos::adio::coll

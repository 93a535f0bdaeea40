// Two-phase collective buffering (Thakur & Choudhary, "An Extended Two-Phase Method for
// Accessing Sections of Out-of-Core Arrays", Scientific Programming 5(4), 1996; ROMIO's
// ad_aggregate.c, ad_write_coll.c, ad_read_coll.c), in three steps:
//   file_domains.cpp  the aggregate access range split into one domain per aggregator, aligned
//                     to the stripe so aggregators write whole EC stripes
//   requests.cpp      each rank's pieces split by domain; who asks which aggregator for what
//   exchange.cpp      rounds of cb_buffer_size per aggregator: data moves between the ranks'
//                     buffers and the aggregators' collective buffers, the aggregators do I/O
#pragma once

#include <vector>

#include "../adio_internal.hpp"

namespace edaos::adio::coll {

struct Plan {
  std::vector<int> aggs;                  // aggregator ranks in f->comm, domain order
  std::vector<int64_t> fd_start, fd_end;  // per aggregator, inclusive; fd_end < fd_start: empty
  int64_t cb = 0;                         // bytes per round (cb_buffer_size)
};

// Splits [min_st, max_end] into nagg domains (ROMIO ADIOI_Calc_file_domains). With stripe > 0
// every boundary is a multiple of stripe (the first domain starts at min_st). min_fd: lower
// bound of a domain's size (romio_min_fdomain_size), 0 for none.
void calc_file_domains(int64_t min_st, int64_t max_end, int nagg, int64_t stripe, int64_t min_fd,
                       std::vector<int64_t>* fs, std::vector<int64_t>* fe);
// Index of the domain that holds byte `off` (which lies in [min_st, max_end]).
int domain_of(const Plan& p, int64_t off);
// Rounds aggregator `a` needs: ceil(domain size / cb), 0 for an empty domain.
int64_t rounds_of(const Plan& p, size_t a);

// My pieces, split at domain boundaries, grouped per aggregator (index into p.aggs), file order.
std::vector<std::vector<Piece>> split_by_domain(const Plan& p, const std::vector<Piece>& mine);
// Collective: every rank sends each aggregator the (offset, length) list of its pieces there;
// on an aggregator, result[r] is rank r's list (empty elsewhere).
std::vector<std::vector<Seg>> exchange_requests(File* f, const Plan& p,
                                                const std::vector<std::vector<Piece>>& mine);

}  // namespace edaos::adio::coll

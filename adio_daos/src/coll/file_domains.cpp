// File domains (ROMIO's ADIOI_Calc_aggregator / ADIOI_Calc_file_domains).
#include <algorithm>

#include "coll_internal.hpp"

namespace edaos::adio::coll {

void calc_file_domains(int64_t min_st, int64_t max_end, int nagg, int64_t stripe, int64_t min_fd,
                       std::vector<int64_t>* fs, std::vector<int64_t>* fe) {
  fs->assign(static_cast<size_t>(nagg), 0);
  fe->assign(static_cast<size_t>(nagg), -1);
  int64_t total = max_end - min_st + 1;
  if (stripe > 0) {
    // Whole stripes per domain: boundaries at multiples of the stripe, so an aggregator's
    // writes cover full stripes (no read-modify-write of parity in the store).
    int64_t base = min_st / stripe * stripe;
    int64_t nstripes = (max_end + 1 - base + stripe - 1) / stripe;
    int64_t per = (nstripes + nagg - 1) / nagg;
    if (min_fd > 0) per = std::max(per, (min_fd + stripe - 1) / stripe);
    for (int i = 0; i < nagg; ++i) {
      int64_t s = base + i * per * stripe, e = s + per * stripe - 1;
      (*fs)[static_cast<size_t>(i)] = std::max(s, min_st);
      (*fe)[static_cast<size_t>(i)] = std::min(e, max_end);
    }
    return;
  }
  int64_t size = (total + nagg - 1) / nagg;
  if (min_fd > 0) size = std::max(size, min_fd);
  for (int i = 0; i < nagg; ++i) {
    int64_t s = min_st + i * size;
    (*fs)[static_cast<size_t>(i)] = s;
    (*fe)[static_cast<size_t>(i)] = std::min(s + size - 1, max_end);
  }
}

int domain_of(const Plan& p, int64_t off) {
  // Domains are in increasing order; empty ones have fe < fs.
  auto it = std::upper_bound(p.fd_start.begin(), p.fd_start.end(), off);
  int i = static_cast<int>(it - p.fd_start.begin()) - 1;
  while (i > 0 && p.fd_end[static_cast<size_t>(i)] < p.fd_start[static_cast<size_t>(i)]) --i;
  return std::max(i, 0);
}

int64_t rounds_of(const Plan& p, size_t a) {
  int64_t n = p.fd_end[a] - p.fd_start[a] + 1;
  if (n <= 0) return 0;
  return (n + p.cb - 1) / p.cb;
}

}  // namespace edaos::adio::coll

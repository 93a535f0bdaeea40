// Collective read/write (ROMIO's ADIOI_GEN_WriteStridedColl / ReadStridedColl).
//
// Decision (as ROMIO): atomic mode, romio_cb_{read,write}=disable, or =automatic with no
// interleaving between the ranks' access ranges -> every rank does independent I/O. Otherwise
// two-phase:
//   1. allgather each rank's [first, last] byte; file domains over [min, max] (file_domains.cpp)
//   2. pieces split per domain; the (offset, length) lists go to the aggregators (requests.cpp)
//   3. rounds m = 0 .. max_rounds-1 (every rank runs all of them, whatever its share): in each,
//      aggregator a handles the window [fd_start + m*cb, ..] of its domain.
//      write: ranks send the bytes of their pieces in the window straight from the user buffer
//             (hindexed type over MPI_BOTTOM) into the aggregator's collective buffer (hindexed
//             type over cb_buf); the aggregator writes every covered run of the window (no
//             read-modify-write: holes are left alone, so nothing races with other writers).
//      read:  the aggregator reads each run the ranks asked for into cb_buf, then sends each
//             rank its bytes, received straight into the user buffer.
// Copies of user data (write): user buffer -> cb_buf (one, done by MPI) -> store (iovec, no
// copy in the driver). Read: store -> cb_buf -> user buffer (one, by MPI).
// Errors: an aggregator that fails keeps taking part in the rounds (no hang) and does no more
// I/O; at the end every rank returns the same error class.
#include <algorithm>

#include "coll_internal.hpp"

namespace edaos::adio {
namespace {

using coll::Plan;

bool interleaved(const std::vector<int64_t>& se, int n) {
  int64_t prev_end = -1;
  bool have_prev = false;
  for (int r = 0; r < n; ++r) {
    int64_t st = se[static_cast<size_t>(2 * r)], en = se[static_cast<size_t>(2 * r + 1)];
    if (st < 0) continue;  // no data
    if (have_prev && st <= prev_end) return true;
    prev_end = have_prev ? std::max(prev_end, en) : en;
    have_prev = true;
  }
  return false;
}

struct Typed {
  std::vector<int> len;
  std::vector<MPI_Aint> disp;
  int64_t bytes = 0;
  void add(int64_t a, int64_t l) {
    if (l <= 0) return;
    if (!disp.empty() && disp.back() + len.back() == a && len.back() + l < (1LL << 30)) {
      len.back() += static_cast<int>(l);
    } else {
      disp.push_back(static_cast<MPI_Aint>(a));
      len.push_back(static_cast<int>(l));
    }
    bytes += l;
  }
  MPI_Datatype commit() const {
    MPI_Datatype t;
    PMPI_Type_create_hindexed(static_cast<int>(len.size()), len.data(), disp.data(), MPI_BYTE, &t);
    PMPI_Type_commit(&t);
    return t;
  }
};

int two_phase(File* f, const std::vector<Piece>& mine, int64_t min_st, int64_t max_end,
              bool write) {
  Plan p;
  p.aggs = f->hints.aggregators;
  if (p.aggs.empty()) {
    int n = std::max(1, std::min(f->hints.cb_nodes, f->nprocs));
    for (int i = 0; i < n; ++i) p.aggs.push_back(i);
  }
  p.cb = std::max<int64_t>(f->hints.cb_buffer_size, 1);
  coll::calc_file_domains(min_st, max_end, static_cast<int>(p.aggs.size()), f->stripe_unit,
                          f->hints.min_fdomain_size, &p.fd_start, &p.fd_end);
  std::vector<std::vector<Piece>> my = coll::split_by_domain(p, mine);
  std::vector<std::vector<Seg>> others = coll::exchange_requests(f, p, my);
  int my_agg = -1;
  for (size_t a = 0; a < p.aggs.size(); ++a)
    if (p.aggs[a] == f->rank) my_agg = static_cast<int>(a);
  if (my_agg >= 0 && f->cb_buf.size() < static_cast<size_t>(p.cb))
    f->cb_buf.resize(static_cast<size_t>(p.cb));
  int64_t max_rounds = 0;
  for (size_t a = 0; a < p.aggs.size(); ++a)
    max_rounds = std::max(max_rounds, coll::rounds_of(p, a));

  // Cursors: pieces are in file order per aggregator; windows advance monotonically.
  std::vector<size_t> my_cur(p.aggs.size(), 0);
  std::vector<size_t> oth_cur(static_cast<size_t>(f->nprocs), 0);
  int rc = MPI_SUCCESS;
  const int64_t cbase = static_cast<int64_t>(reinterpret_cast<intptr_t>(f->cb_buf.data()));
  g_counters.coll_twophase++;
  for (int64_t m = 0; m < max_rounds; ++m) {
    g_counters.coll_rounds++;
    std::vector<MPI_Request> reqs;
    std::vector<MPI_Datatype> types;
    // Aggregator side: what each rank has in my window.
    int64_t w0 = 0, w1 = -1;
    std::vector<Seg> covered;
    std::vector<std::pair<int, MPI_Datatype>> agg_side;
    if (my_agg >= 0 && m < coll::rounds_of(p, static_cast<size_t>(my_agg))) {
      w0 = p.fd_start[static_cast<size_t>(my_agg)] + m * p.cb;
      w1 = std::min(p.fd_end[static_cast<size_t>(my_agg)], w0 + p.cb - 1);
      for (int r = 0; r < f->nprocs; ++r) {
        const auto& segs = others[static_cast<size_t>(r)];
        size_t& c = oth_cur[static_cast<size_t>(r)];
        Typed t;
        size_t k = c;
        while (k < segs.size() && segs[k].off <= w1) {
          int64_t a = std::max(segs[k].off, w0), b = std::min(segs[k].off + segs[k].len - 1, w1);
          if (b >= a) {
            t.add(cbase + (a - w0), b - a + 1);
            covered.push_back({a, b - a + 1});
          }
          if (segs[k].off + segs[k].len - 1 <= w1)
            ++k;
          else
            break;
        }
        c = k;
        if (t.bytes == 0) continue;
        MPI_Datatype dt = t.commit();
        types.push_back(dt);
        agg_side.emplace_back(r, dt);
        if (write) {
          reqs.emplace_back();
          PMPI_Irecv(MPI_BOTTOM, 1, dt, r, static_cast<int>(m & 0x7fff), f->comm, &reqs.back());
        }
      }
    }
    // Merge the covered ranges of the window into runs.
    std::sort(covered.begin(), covered.end(),
              [](const Seg& a, const Seg& b) { return a.off < b.off; });
    std::vector<Seg> runs;
    for (const Seg& s : covered) {
      if (!runs.empty() && s.off <= runs.back().off + runs.back().len)
        runs.back().len = std::max(runs.back().len, s.off + s.len - runs.back().off);
      else
        runs.push_back(s);
    }
    if (!write && rc == MPI_SUCCESS) {
      for (const Seg& s : runs) {
        int64_t got = 0;
        rc = f->fns->read_contig(f, s.off, f->cb_buf.data() + (s.off - w0), s.len, &got);
        g_counters.agg_io_calls++;
        g_counters.agg_io_bytes += static_cast<uint64_t>(s.len);
        if (rc != MPI_SUCCESS) break;
      }
    }
    if (!write) {
      // Send each requester its bytes from cb_buf.
      for (auto& [r, dt] : agg_side) {
        reqs.emplace_back();
        PMPI_Isend(MPI_BOTTOM, 1, dt, r, static_cast<int>(m & 0x7fff), f->comm, &reqs.back());
      }
    }
    // Rank side: my pieces in each aggregator's window of this round.
    for (size_t a = 0; a < p.aggs.size(); ++a) {
      if (m >= coll::rounds_of(p, a)) continue;
      int64_t a0 = p.fd_start[a] + m * p.cb, a1 = std::min(p.fd_end[a], a0 + p.cb - 1);
      const auto& pcs = my[a];
      size_t& c = my_cur[a];
      Typed t;
      size_t k = c;
      while (k < pcs.size() && pcs[k].foff <= a1) {
        int64_t lo = std::max(pcs[k].foff, a0), hi = std::min(pcs[k].foff + pcs[k].len - 1, a1);
        if (hi >= lo) t.add(pcs[k].maddr + (lo - pcs[k].foff), hi - lo + 1);
        if (pcs[k].foff + pcs[k].len - 1 <= a1)
          ++k;
        else
          break;
      }
      c = k;
      if (t.bytes == 0) continue;
      MPI_Datatype dt = t.commit();
      types.push_back(dt);
      reqs.emplace_back();
      if (write)
        PMPI_Isend(MPI_BOTTOM, 1, dt, p.aggs[a], static_cast<int>(m & 0x7fff), f->comm,
                   &reqs.back());
      else
        PMPI_Irecv(MPI_BOTTOM, 1, dt, p.aggs[a], static_cast<int>(m & 0x7fff), f->comm,
                   &reqs.back());
    }
    objstore::coll::waitall(static_cast<int>(reqs.size()), reqs.data());
    for (MPI_Datatype& t : types) PMPI_Type_free(&t);
    if (write && rc == MPI_SUCCESS) {
      for (const Seg& s : runs) {
        int64_t put = 0;
        rc = f->fns->write_contig(f, s.off, f->cb_buf.data() + (s.off - w0), s.len, &put);
        g_counters.agg_io_calls++;
        g_counters.agg_io_bytes += static_cast<uint64_t>(s.len);
        if (rc != MPI_SUCCESS) break;
      }
    }
  }
  return rc;
}

int collective(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
               int64_t* bytes, bool write) {
  *bytes = 0;
  FlatPtr mt = flatten(t);
  int64_t n = count * mt->size;
  std::vector<Piece> mine;
  if (n > 0) mine = zip(view_segments(*f, data_off, n), memory_segments(buf, count, t));
  int64_t se[2] = {-1, -1};
  for (const Piece& pc : mine) {
    if (se[0] < 0 || pc.foff < se[0]) se[0] = pc.foff;
    se[1] = std::max(se[1], pc.foff + pc.len - 1);
  }
  std::vector<int64_t> all(static_cast<size_t>(2 * f->nprocs));
  objstore::coll::allgather(se, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, f->comm);
  int64_t min_st = -1, max_end = -1;
  for (int r = 0; r < f->nprocs; ++r) {
    int64_t s = all[static_cast<size_t>(2 * r)], e = all[static_cast<size_t>(2 * r + 1)];
    if (s < 0) continue;
    min_st = min_st < 0 ? s : std::min(min_st, s);
    max_end = std::max(max_end, e);
  }
  if (min_st < 0) return MPI_SUCCESS;  // nobody has data
  hints::Tristate mode = write ? f->hints.cb_write : f->hints.cb_read;
  bool indep = f->atomic || mode == hints::Tristate::kDisable ||
               (mode == hints::Tristate::kAutomatic && !interleaved(all, f->nprocs));
  int rc;
  if (indep) {
    rc = write ? f->fns->write_list(f, mine, bytes) : f->fns->read_list(f, mine, bytes);
  } else {
    rc = two_phase(f, mine, min_st, max_end, write);
    *bytes = n;
  }
  return agree_error(f->comm, rc);
}

}  // namespace

int ADIOI_EDAOS_WriteColl(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
                          int64_t* bytes) {
  if (f->atomic) {
    int rc = f->fns->write_strided(f, data_off, buf, count, t, bytes);
    return agree_error(f->comm, rc);
  }
  return collective(f, data_off, buf, count, t, bytes, true);
}

int ADIOI_EDAOS_ReadColl(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                         int64_t* bytes) {
  if (f->atomic) {
    int rc = f->fns->read_strided(f, data_off, buf, count, t, bytes);
    return agree_error(f->comm, rc);
  }
  return collective(f, data_off, buf, count, t, bytes, false);
}

}  // namespace edaos::adio

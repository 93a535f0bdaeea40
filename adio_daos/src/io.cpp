// Independent I/O: the operations table's contiguous and strided reads and writes (ROMIO's
// ADIOI_DAOS_ReadContig/WriteContig and ADIOI_GEN_ReadStrided/WriteStrided, DAOS style).
//
// Contiguous: one store call, the buffer passed as one iovec (zero copies in the driver). In
// atomic mode the file lock is held. The two-phase aggregators move the runs of their collective
// buffer through these; reads are exact (read_full: holes and bytes past the end read as zeros,
// no size round trip), since the aggregator's callers count their bytes themselves.
//
// Strided: the memory type and the file view are flattened into pieces (file offset, memory
// address, length). Writes: one store call per contiguous file run, the memory side as an iovec
// list (zero copies in the driver). No data sieving for writes: it needs a read-modify-write under
// a lock and the store takes scattered iovecs anyway (ROMIO's DAOS driver does the same; the hints
// module reports romio_ds_write=disable). Reads: data sieving (ROMIO's ADIOI_GEN_ReadStrided) when
// the runs are many and dense: the whole span is read in windows of ind_rd_buffer_size and the
// pieces copied out (one extra copy, far fewer round trips). romio_ds_read=enable forces it,
// disable turns it off, automatic uses it when the span is at most twice the bytes wanted.
#include <algorithm>
#include <cstring>

#include "adio_internal.hpp"

namespace edaos::adio {
namespace {

void* addr(int64_t a) { return reinterpret_cast<void*>(static_cast<intptr_t>(a)); }

// Calls fn(off, end, iov) for each contiguous file run [off, end) of `pieces`, the memory side
// gathered into `iov`; stops at the first result that is not MPI_SUCCESS.
template <typename Vec, typename Fn>
int for_each_run(const std::vector<Piece>& pieces, std::vector<Vec>& iov, Fn fn) {
  size_t i = 0;
  while (i < pieces.size()) {
    int64_t off = pieces[i].foff, end = off;
    iov.clear();
    size_t j = i;
    while (j < pieces.size() && pieces[j].foff == end) {
      iov.push_back({addr(pieces[j].maddr), static_cast<size_t>(pieces[j].len)});
      end += pieces[j].len;
      ++j;
    }
    const int rc = fn(off, end, iov);
    if (rc != MPI_SUCCESS) return rc;
    i = j;
  }
  return MPI_SUCCESS;
}

}  // namespace

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

int pieces_write(File* f, const std::vector<Piece>& pieces, int64_t* bytes) {
  *bytes = 0;
  std::vector<objstore::ConstIoVec> iov;
  return for_each_run(pieces, iov, [&](int64_t off, int64_t end, const auto& v) {
    Status st = f->obj->write(static_cast<uint64_t>(off), v.data(), v.size());
    if (!st.ok()) return to_mpi_error(st, f->filename + ": write");
    *bytes += end - off;
    return MPI_SUCCESS;
  });
}

int pieces_read(File* f, const std::vector<Piece>& pieces, int64_t* bytes) {
  *bytes = 0;
  if (pieces.empty()) return MPI_SUCCESS;
  size_t runs = 1;
  int64_t total = pieces[0].len, lo = pieces[0].foff, hi = pieces[0].foff + pieces[0].len;
  for (size_t i = 1; i < pieces.size(); ++i) {
    if (pieces[i].foff != pieces[i - 1].foff + pieces[i - 1].len) ++runs;
    total += pieces[i].len;
    lo = std::min(lo, pieces[i].foff);
    hi = std::max(hi, pieces[i].foff + pieces[i].len);
  }
  std::vector<objstore::IoVec> iov;
  if (runs == 1) {
    for (const Piece& p : pieces) iov.push_back({addr(p.maddr), static_cast<size_t>(p.len)});
    auto r = f->obj->read(static_cast<uint64_t>(pieces[0].foff), iov.data(), iov.size());
    if (!r.ok()) return to_mpi_error(r.status(), f->filename + ": read");
    *bytes = static_cast<int64_t>(r.value());
    return MPI_SUCCESS;
  }
  // The engines' replies say how far the file extends at least (`known`); the size is asked
  // only when that falls short of the last piece, to count the bytes below the end.
  uint64_t known = 0;
  auto read_run = [&](int64_t off, const objstore::IoVec* v, size_t n) {
    uint64_t k = 0;
    Status st = f->obj->read_full(static_cast<uint64_t>(off), v, n, &k);
    known = std::max(known, k);
    return st;
  };
  hints::Tristate ds = f->hints.ds_read;
  bool sieve =
      ds == hints::Tristate::kEnable || (ds == hints::Tristate::kAutomatic && hi - lo <= 2 * total);
  // Pieces must be in file order for the window walk (views guarantee it; check anyway).
  for (size_t i = 1; sieve && i < pieces.size(); ++i)
    if (pieces[i].foff < pieces[i - 1].foff) sieve = false;
  if (sieve) {
    g_counters.sieved_reads++;
    int64_t win = std::max<int64_t>(f->hints.ind_rd_buffer_size, 4096);
    std::vector<char> tmp(static_cast<size_t>(std::min(win, hi - lo)));
    size_t k = 0;
    for (int64_t w0 = lo; w0 < hi && k < pieces.size();) {
      w0 = std::max(w0, pieces[k].foff);
      int64_t w1 = std::min(hi, w0 + static_cast<int64_t>(tmp.size()));
      objstore::IoVec v{tmp.data(), static_cast<size_t>(w1 - w0)};
      Status st = read_run(w0, &v, 1);
      if (!st.ok()) return to_mpi_error(st, f->filename + ": read");
      // Copy out every piece part inside [w0, w1).
      size_t kk = k;
      while (kk < pieces.size() && pieces[kk].foff < w1) {
        const Piece& p = pieces[kk];
        int64_t a = std::max(p.foff, w0), b = std::min(p.foff + p.len, w1);
        if (b > a)
          std::memcpy(addr(p.maddr + (a - p.foff)), tmp.data() + (a - w0),
                      static_cast<size_t>(b - a));
        if (p.foff + p.len <= w1)
          ++kk;
        else
          break;
      }
      k = kk;
      w0 = w1;
    }
  } else {
    int rc = for_each_run(pieces, iov, [&](int64_t off, int64_t, const auto& v) {
      Status st = read_run(off, v.data(), v.size());
      return st.ok() ? MPI_SUCCESS : to_mpi_error(st, f->filename + ": read");
    });
    if (rc != MPI_SUCCESS) return rc;
  }
  int64_t size = hi;
  if (known < static_cast<uint64_t>(hi)) {
    auto sz = f->obj->get_size();
    if (!sz.ok()) return to_mpi_error(sz.status(), f->filename + ": read");
    size = static_cast<int64_t>(sz.value());
  }
  for (const Piece& p : pieces)
    *bytes += std::max<int64_t>(0, std::min(p.foff + p.len, size) - p.foff);
  return MPI_SUCCESS;
}

// List I/O: the pieces under the file lock in atomic mode (released also when the access
// throws, e.g. bad_alloc in data sieving: the entry points turn that into MPI_ERR_NO_MEM).
static int list(File* f, const std::vector<Piece>& pieces, int64_t* bytes, bool write) {
  *bytes = 0;
  struct Unlock {
    File* f;
    ~Unlock() {
      if (f) file_unlock(f);
    }
  } unlock{nullptr};
  if (f->atomic) {
    Status ls = file_lock(f);
    if (!ls.ok()) return to_mpi_error(ls, f->filename);
    unlock.f = f;
  }
  return write ? pieces_write(f, pieces, bytes) : pieces_read(f, pieces, bytes);
}

int ADIOI_EDAOS_ReadList(File* f, const std::vector<Piece>& pieces, int64_t* bytes) {
  return list(f, pieces, bytes, false);
}

int ADIOI_EDAOS_WriteList(File* f, const std::vector<Piece>& pieces, int64_t* bytes) {
  return list(f, pieces, bytes, true);
}

// Strided: the memory type and the view flattened into pieces, moved by the table's list I/O.
static int strided(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
                   int64_t* bytes, bool write) {
  *bytes = 0;
  FlatPtr mt = flatten(t);
  int64_t n = count * mt->size;
  if (n == 0) return MPI_SUCCESS;
  std::vector<Piece> pieces = zip(view_segments(*f, data_off, n), memory_segments(buf, count, t));
  return write ? f->fns->write_list(f, pieces, bytes) : f->fns->read_list(f, pieces, bytes);
}

int ADIOI_EDAOS_ReadStrided(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                            int64_t* bytes) {
  return strided(f, data_off, buf, count, t, bytes, false);
}

int ADIOI_EDAOS_WriteStrided(File* f, int64_t data_off, const void* buf, int64_t count,
                             MPI_Datatype t, int64_t* bytes) {
  return strided(f, data_off, buf, count, t, bytes, true);
}

}  // namespace edaos::adio

// Datatype flattening: a datatype's type map as (displacement, length) blocks, as ROMIO's
// ADIOI_Flatten does, through the portable envelope/contents API (MPI-3.1 section 4.1.13).
//
// Combiners walked: NAMED, DUP, CONTIGUOUS, VECTOR, HVECTOR, INDEXED, HINDEXED, INDEXED_BLOCK,
// HINDEXED_BLOCK, STRUCT, RESIZED. Everything else (SUBARRAY, DARRAY, named pair types with
// holes such as MPI_SHORT_INT) goes through a pack probe: MPI_Pack of a buffer whose bytes hold
// their own address (one byte plane per pass) tells, for every packed byte, where it came from.
// Results are cached on the type as an attribute whose delete callback frees them, so a freed
// and reused handle never sees a stale entry.
#include <algorithm>
#include <cstring>
#include <mutex>

#include "adio_internal.hpp"

namespace edaos::adio {
namespace {

struct Builder {
  std::vector<int64_t> off, len;
  // Span of the instances placed (external32 flats compute lb/extent from it).
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  void place(int64_t at, const Flat& in, int64_t count) {
    if (count <= 0) return;
    int64_t a = at + in.lb, z = at + in.lb + count * in.extent;
    lo = std::min(lo, std::min(a, z));
    hi = std::max(hi, std::max(a, z));
  }
  void add(int64_t o, int64_t l) {
    if (l <= 0) return;
    if (!off.empty() && off.back() + len.back() == o) {
      len.back() += l;
      return;
    }
    off.push_back(o);
    len.push_back(l);
  }
};

void finish(Flat* f) {
  f->prefix.resize(f->off.size() + 1);
  f->prefix[0] = 0;
  for (size_t i = 0; i < f->off.size(); ++i) f->prefix[i + 1] = f->prefix[i] + f->len[i];
}

void fill_meta(MPI_Datatype t, Flat* f) {
  MPI_Count size = 0, lb = 0, extent = 0;
  PMPI_Type_size_x(t, &size);
  PMPI_Type_get_extent_x(t, &lb, &extent);
  f->size = size;
  f->lb = lb;
  f->extent = extent;
}

void walk_flat(const Flat& fl, int64_t base, int64_t count, Builder* b) {
  b->place(base, fl, count);
  for (int64_t i = 0; i < count; ++i)
    for (size_t j = 0; j < fl.off.size(); ++j) b->add(base + i * fl.extent + fl.off[j], fl.len[j]);
}

int64_t external32_size(MPI_Datatype t) {
  if (single_basic_type(t) == MPI_DATATYPE_NULL) return -1;  // MPICH would crash
  MPI_Aint n = 0;
  if (PMPI_Pack_external_size("external32", 1, t, &n) != MPI_SUCCESS) return -1;
  return n;
}

FlatPtr flatten_rep(MPI_Datatype t, bool e32) { return e32 ? flatten_external32(t) : flatten(t); }

// `e32`: the type map in the external32 representation (see flatten_external32); only called
// for types whose external32 size differs from their native size.
FlatPtr flatten_uncached(MPI_Datatype t, bool e32 = false) {
  int ni = 0, na = 0, nd = 0, comb = 0;
  PMPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
  auto f = std::make_shared<Flat>();
  fill_meta(t, f.get());
  if (e32) {
    f->size = external32_size(t);
    if (f->size < 0) return nullptr;
    f->lb = 0;
    f->extent = f->size;
  }
  if (comb == MPI_COMBINER_NAMED) {
    if (e32 || f->size == f->extent) {
      Builder b;
      b.add(0, f->size);
      f->off = std::move(b.off);
      f->len = std::move(b.len);
      finish(f.get());
      return f;
    }
    return flatten_by_pack(t);
  }
  std::vector<int> ints(static_cast<size_t>(ni));
  std::vector<MPI_Aint> addrs(static_cast<size_t>(na));
  std::vector<MPI_Datatype> types(static_cast<size_t>(nd));
  PMPI_Type_get_contents(t, ni, na, nd, ints.data(), addrs.data(), types.data());
  Builder b;
  bool handled = true;
  // An inner type's flat; an empty one (and handled = false) if it has none in external32.
  auto inner = [&](MPI_Datatype d) {
    FlatPtr in = flatten_rep(d, e32);
    if (in) return in;
    handled = false;
    return FlatPtr(std::make_shared<Flat>());
  };
  switch (comb) {
    case MPI_COMBINER_DUP:
      walk_flat(*inner(types[0]), 0, 1, &b);
      break;
    case MPI_COMBINER_CONTIGUOUS: {
      FlatPtr in = inner(types[0]);
      walk_flat(*in, 0, ints[0], &b);
      break;
    }
    case MPI_COMBINER_VECTOR:
    case MPI_COMBINER_HVECTOR: {
      FlatPtr in = inner(types[0]);
      int64_t stride = comb == MPI_COMBINER_VECTOR ? int64_t{ints[2]} * in->extent : addrs[0];
      for (int i = 0; i < ints[0]; ++i) walk_flat(*in, i * stride, ints[1], &b);
      break;
    }
    case MPI_COMBINER_INDEXED:
    case MPI_COMBINER_HINDEXED: {
      FlatPtr in = inner(types[0]);
      int n = ints[0];
      for (int i = 0; i < n; ++i) {
        int64_t d = comb == MPI_COMBINER_INDEXED ? int64_t{ints[1 + n + i]} * in->extent : addrs[i];
        walk_flat(*in, d, ints[1 + i], &b);
      }
      break;
    }
    case MPI_COMBINER_INDEXED_BLOCK:
    case MPI_COMBINER_HINDEXED_BLOCK: {
      FlatPtr in = inner(types[0]);
      int n = ints[0];
      for (int i = 0; i < n; ++i) {
        int64_t d =
            comb == MPI_COMBINER_INDEXED_BLOCK ? int64_t{ints[2 + i]} * in->extent : addrs[i];
        walk_flat(*in, d, ints[1], &b);
      }
      break;
    }
    case MPI_COMBINER_STRUCT: {
      int n = ints[0];
      for (int i = 0; i < n; ++i) {
        FlatPtr in = inner(types[static_cast<size_t>(i)]);
        walk_flat(*in, addrs[i], ints[1 + i], &b);
      }
      break;
    }
    case MPI_COMBINER_RESIZED:
      walk_flat(*inner(types[0]), 0, 1, &b);
      if (e32) {  // lb and extent are byte values, taken as they are (MPI-3.1 13.5.1)
        b.lo = addrs[0];
        b.hi = addrs[0] + addrs[1];
      }
      break;
    case MPI_COMBINER_SUBARRAY: {
      // ints: ndims, sizes[n], subsizes[n], starts[n], order. Rows of the innermost dimension
      // are runs of the old type; the other indices are walked like an odometer.
      FlatPtr in = inner(types[0]);
      int nd_ = ints[0];
      const int* sizes = &ints[1];
      const int* sub = &ints[1 + nd_];
      const int* start = &ints[1 + 2 * nd_];
      bool c_order = ints[1 + 3 * nd_] == MPI_ORDER_C;
      std::vector<int64_t> stride(static_cast<size_t>(nd_));
      int64_t acc = in->extent;
      for (int k = 0; k < nd_; ++k) {
        int d = c_order ? nd_ - 1 - k : k;  // innermost first
        stride[static_cast<size_t>(d)] = acc;
        acc *= sizes[d];
      }
      if (e32) {  // a subarray spans the whole array
        b.lo = 0;
        b.hi = acc;
      }
      int inner_dim = c_order ? nd_ - 1 : 0;
      bool empty = false;
      for (int d = 0; d < nd_; ++d) empty = empty || sub[d] == 0;
      if (empty) break;
      std::vector<int> idx(static_cast<size_t>(nd_), 0);
      for (;;) {
        int64_t o = 0;
        for (int d = 0; d < nd_; ++d)
          o += (start[d] + (d == inner_dim ? 0 : idx[static_cast<size_t>(d)])) *
               stride[static_cast<size_t>(d)];
        walk_flat(*in, o, sub[inner_dim], &b);
        // Next index, outer dimensions only.
        int k = 0;
        for (; k < nd_; ++k) {
          int d = c_order ? nd_ - 1 - k : k;
          if (d == inner_dim) continue;
          if (++idx[static_cast<size_t>(d)] < sub[d]) break;
          idx[static_cast<size_t>(d)] = 0;
        }
        if (k == nd_) break;
      }
      break;
    }
    default:
      handled = false;
  }
  for (MPI_Datatype d : types) {
    int a = 0, bb = 0, c = 0, k = 0;
    PMPI_Type_get_envelope(d, &a, &bb, &c, &k);
    if (k != MPI_COMBINER_NAMED) PMPI_Type_free(&d);
  }
  // No pack probe in external32 (DARRAY of such types): the caller refuses the view.
  if (!handled) return e32 ? nullptr : flatten_by_pack(t);
  if (e32) {
    f->lb = b.lo <= b.hi ? b.lo : 0;
    f->extent = b.lo <= b.hi ? b.hi - b.lo : 0;
  }
  f->off = std::move(b.off);
  f->len = std::move(b.len);
  finish(f.get());
  return f;
}

int g_keyval[2] = {MPI_KEYVAL_INVALID, MPI_KEYVAL_INVALID};  // native, external32 flats
std::mutex g_keyval_mu;

int delete_attr(MPI_Datatype, int, void* attr, void*) {
  delete static_cast<FlatPtr*>(attr);
  return MPI_SUCCESS;
}

int keyval(bool e32) {
  std::lock_guard<std::mutex> lk(g_keyval_mu);
  int& kv = g_keyval[e32 ? 1 : 0];
  if (kv == MPI_KEYVAL_INVALID)
    PMPI_Type_create_keyval(MPI_TYPE_NULL_COPY_FN, delete_attr, &kv, nullptr);
  return kv;
}

// The flat of `t` cached on it under keyval(e32), made by `make` on first use. Predefined types
// are not cached (attributes on them would outlive MPI_Finalize).
template <typename Make>
FlatPtr cached(MPI_Datatype t, bool e32, Make&& make) {
  int ni = 0, na = 0, nd = 0, comb = 0;
  PMPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
  if (comb == MPI_COMBINER_NAMED) return make();
  int kv = keyval(e32);
  void* attr = nullptr;
  int found = 0;
  PMPI_Type_get_attr(t, kv, &attr, &found);
  if (found && attr) return *static_cast<FlatPtr*>(attr);
  FlatPtr f = make();
  PMPI_Type_set_attr(t, kv, new FlatPtr(f));
  return f;
}

}  // namespace

FlatPtr flatten_by_pack(MPI_Datatype t) {
  auto f = std::make_shared<Flat>();
  fill_meta(t, f.get());
  MPI_Aint tlb = 0, text = 0;
  PMPI_Type_get_true_extent(t, &tlb, &text);
  if (f->size == 0) {
    finish(f.get());
    return f;
  }
  int psize = 0;
  PMPI_Pack_size(1, t, MPI_COMM_SELF, &psize);
  std::vector<unsigned char> mem(static_cast<size_t>(text));
  std::vector<unsigned char> packed(static_cast<size_t>(psize));
  std::vector<int64_t> where(static_cast<size_t>(f->size), 0);
  int planes = 1;
  while (planes < 8 && (static_cast<uint64_t>(text) >> (8 * planes)) != 0) ++planes;
  for (int p = 0; p < planes; ++p) {
    for (size_t i = 0; i < mem.size(); ++i) mem[i] = static_cast<unsigned char>(i >> (8 * p));
    int pos = 0;
    PMPI_Pack(mem.data() - tlb, 1, t, packed.data(), psize, &pos, MPI_COMM_SELF);
    for (int64_t j = 0; j < f->size; ++j)
      where[static_cast<size_t>(j)] |= static_cast<int64_t>(packed[static_cast<size_t>(j)])
                                       << (8 * p);
  }
  Builder b;
  for (int64_t j = 0; j < f->size; ++j) b.add(where[static_cast<size_t>(j)] + tlb, 1);
  f->off = std::move(b.off);
  f->len = std::move(b.len);
  finish(f.get());
  return f;
}

FlatPtr flatten(MPI_Datatype t) {
  return cached(t, false, [t] { return flatten_uncached(t); });
}

FlatPtr flatten_external32(MPI_Datatype t) {
  return cached(t, true, [t]() -> FlatPtr {
    // Every basic type of this platform but long, unsigned long and wchar_t has its native
    // size in external32, and those types have the native layout: same flat.
    MPI_Count native = 0;
    PMPI_Type_size_x(t, &native);
    int64_t ext = external32_size(t);
    if (ext < 0) return nullptr;
    if (ext == native) return flatten(t);
    return flatten_uncached(t, true);
  });
}

MPI_Datatype single_basic_type(MPI_Datatype t) {
  int ni = 0, na = 0, nd = 0, comb = 0;
  PMPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
  if (comb == MPI_COMBINER_NAMED) {
    for (MPI_Datatype pair : {MPI_FLOAT_INT, MPI_DOUBLE_INT, MPI_LONG_INT, MPI_SHORT_INT, MPI_2INT,
                              MPI_LONG_DOUBLE_INT})
      if (t == pair) return MPI_DATATYPE_NULL;
    return t;
  }
  std::vector<int> ints(static_cast<size_t>(ni));
  std::vector<MPI_Aint> addrs(static_cast<size_t>(na));
  std::vector<MPI_Datatype> types(static_cast<size_t>(nd));
  PMPI_Type_get_contents(t, ni, na, nd, ints.data(), addrs.data(), types.data());
  MPI_Datatype basic = MPI_DATATYPE_NULL;
  bool mixed = false;
  for (size_t i = 0; i < types.size(); ++i) {
    // A struct member with block length 0 contributes nothing.
    bool empty = comb == MPI_COMBINER_STRUCT && ints[1 + i] == 0;
    MPI_Datatype b = empty ? MPI_DATATYPE_NULL : single_basic_type(types[i]);
    if (!empty && (b == MPI_DATATYPE_NULL || (basic != MPI_DATATYPE_NULL && b != basic)))
      mixed = true;
    if (!empty) basic = b;
    int a = 0, bb = 0, c = 0, k = 0;
    PMPI_Type_get_envelope(types[i], &a, &bb, &c, &k);
    if (k != MPI_COMBINER_NAMED) PMPI_Type_free(&types[i]);
  }
  return mixed ? MPI_DATATYPE_NULL : basic;
}

std::string view_type_error(const Flat& t, bool writable) {
  bool negative = false, decrease = false, overlap = false;
  for (size_t i = 0; i < t.off.size(); ++i) {
    negative = negative || t.off[i] < 0;
    if (i == 0) continue;
    decrease = decrease || t.off[i - 1] > t.off[i];
    overlap = overlap || t.off[i - 1] + t.len[i - 1] > t.off[i];
  }
  if (negative) return "displacements must be non-negative";
  if (decrease) return "displacements must be in a monotonically nondecreasing order";
  if (overlap && writable) return "no overlapping regions are allowed on a file opened for writing";
  return "";
}

std::vector<Seg> memory_segments(const void* buf, int64_t count, MPI_Datatype t) {
  FlatPtr fl = flatten(t);
  std::vector<Seg> out;
  int64_t base = static_cast<int64_t>(reinterpret_cast<intptr_t>(buf));
  // Dense type (one block filling its extent, e.g. MPI_BYTE): the count copies are one segment.
  if (fl->off.size() == 1 && fl->off[0] == 0 && fl->len[0] == fl->extent) {
    if (count > 0 && fl->extent > 0) out.push_back({base, count * fl->extent});
    return out;
  }
  for (int64_t i = 0; i < count; ++i)
    for (size_t j = 0; j < fl->off.size(); ++j) {
      int64_t o = base + i * fl->extent + fl->off[j];
      if (!out.empty() && out.back().off + out.back().len == o)
        out.back().len += fl->len[j];
      else
        out.push_back({o, fl->len[j]});
    }
  return out;
}

std::vector<Seg> view_segments(const File& f, int64_t data_off, int64_t nbytes) {
  std::vector<Seg> out;
  const Flat& ft = *f.view.ft;
  if (nbytes <= 0 || ft.size <= 0) return out;
  // Dense filetype (the default byte view, or any one block filling its extent): one segment.
  if (ft.off.size() == 1 && ft.off[0] == 0 && ft.len[0] == ft.extent) {
    out.push_back({f.view.disp + data_off, nbytes});
    return out;
  }
  int64_t tile = data_off / ft.size;
  int64_t within = data_off % ft.size;
  size_t b = static_cast<size_t>(std::upper_bound(ft.prefix.begin(), ft.prefix.end(), within) -
                                 ft.prefix.begin() - 1);
  int64_t skip = within - ft.prefix[b];
  int64_t left = nbytes;
  while (left > 0) {
    int64_t o = f.view.disp + tile * ft.extent + ft.off[b] + skip;
    int64_t l = std::min(left, ft.len[b] - skip);
    if (!out.empty() && out.back().off + out.back().len == o)
      out.back().len += l;
    else
      out.push_back({o, l});
    left -= l;
    skip = 0;
    if (++b == ft.off.size()) {
      b = 0;
      ++tile;
    }
  }
  return out;
}

int64_t view_byte_offset(const File& f, int64_t data_off) {
  const Flat& ft = *f.view.ft;
  if (ft.size <= 0) return f.view.disp;
  int64_t tile = data_off / ft.size;
  int64_t within = data_off % ft.size;
  size_t b = static_cast<size_t>(std::upper_bound(ft.prefix.begin(), ft.prefix.end(), within) -
                                 ft.prefix.begin() - 1);
  return f.view.disp + tile * ft.extent + ft.off[b] + (within - ft.prefix[b]);
}

std::vector<Piece> zip(const std::vector<Seg>& file, const std::vector<Seg>& mem) {
  std::vector<Piece> out;
  size_t i = 0, j = 0;
  int64_t fi = 0, mj = 0;  // bytes consumed of file[i], mem[j]
  while (i < file.size() && j < mem.size()) {
    int64_t l = std::min(file[i].len - fi, mem[j].len - mj);
    out.push_back({file[i].off + fi, mem[j].off + mj, l});
    fi += l;
    mj += l;
    if (fi == file[i].len) {
      ++i;
      fi = 0;
    }
    if (mj == mem[j].len) {
      ++j;
      mj = 0;
    }
  }
  return out;
}

}  // namespace edaos::adio

// The data-access entry points (MPI_File_read*/write*, nonblocking, split and shared-pointer
// forms, with their PMPI_ aliases) and the one access preparation of the MPI_File_* layer,
// used by blocking, nonblocking and collective accesses alike: argument checks (ROMIO's order and
// classes), the external32 conversion of the data, the data offset through the view from the
// explicit offset or a file pointer. Also the blocking access (do_io) and the run of a prepared
// collective (coll_run): both reach the store through the operations table only.
#include <algorithm>
#include <cstring>

#include "mpiio_internal.hpp"

namespace edaos::adio {

Counters g_counters;

bool is_named(MPI_Datatype t) {
  int ni, na, nd, comb;
  PMPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
  return comb == MPI_COMBINER_NAMED;
}

namespace {

// Bytes of view data that count x t occupy in the file: the native size, or with an external32
// view the size of its external32 packing. MPI_SUCCESS or an error code.
int data_bytes(const File* f, int64_t count, MPI_Datatype t, int64_t* n) {
  if (!f->view.external32) {
    MPI_Count size = 0;
    PMPI_Type_size_x(t, &size);
    *n = static_cast<int64_t>(size) * count;
    return MPI_SUCCESS;
  }
  MPI_Count ext = 0;
  if (count > 0 && single_basic_type(t) == MPI_DATATYPE_NULL)
    return make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                      f->filename +
                          ": external32 accesses with a datatype that mixes basic types (a struct "
                          "of int and double, MPI_DOUBLE_INT, ...) are not supported: MPICH's "
                          "MPI_Pack_external handles one basic type per datatype");
  if (PMPI_Pack_external_size_c("external32", static_cast<MPI_Count>(count), t, &ext) !=
      MPI_SUCCESS)
    return make_error(MPI_ERR_TYPE,
                      f->filename + ": the datatype has no external32 representation");
  *n = static_cast<int64_t>(ext);
  return MPI_SUCCESS;
}

// Checks an access of count x t; `*n` gets its bytes of view data (data_bytes).
int check_io(File* f, Ptr ptr, MPI_Offset off, int64_t count, MPI_Datatype t, bool write,
             const char* fn, int64_t* n) {
  *n = 0;
  std::string where = std::string(fn) + " on " + f->filename;
  if (count < 0) return make_error(MPI_ERR_COUNT, where + ": negative count");
  if (t == MPI_DATATYPE_NULL)
    return make_error(MPI_ERR_TYPE, where + ": datatype is MPI_DATATYPE_NULL");
  if (ptr == Ptr::kExplicit && off < 0) return make_error(MPI_ERR_ARG, where + ": negative offset");
  if (ptr != Ptr::kShared && (f->amode & MPI_MODE_SEQUENTIAL))
    return make_error(MPI_ERR_UNSUPPORTED_OPERATION,
                      where + ": file opened with MPI_MODE_SEQUENTIAL allows shared pointers only");
  if (write && (f->amode & MPI_MODE_RDONLY))
    return make_error(MPI_ERR_READ_ONLY, where + ": file opened MPI_MODE_RDONLY");
  if (!write && (f->amode & MPI_MODE_WRONLY))
    return make_error(MPI_ERR_ACCESS, where + ": file opened MPI_MODE_WRONLY");
  if (int rc = data_bytes(f, count, t, n); rc != MPI_SUCCESS) return rc;
  if (f->view.etype_size > 0 && *n % f->view.etype_size != 0)
    return make_error(MPI_ERR_IO, where + ": only an integral number of etypes can be accessed");
  return MPI_SUCCESS;
}

}  // namespace

// ---- external32 (MPI-3.1 13.5.2) ----
//
// With an external32 view the data of an access is the external32 packing of count x t
// (MPI_Pack_external): the driver moves those bytes as MPI_BYTE through the view, which is
// flattened in the external32 representation (flatten_external32), and converts at the ends:
// writes pack before the access, reads unpack after it. Status counts stay native bytes.
struct Ext32 {
  void* user = nullptr;  // the caller's buffer
  int64_t count = 0;
  MPI_Datatype type = MPI_DATATYPE_NULL;  // the caller's type (a dup when owns_type)
  bool owns_type = false;
  int64_t native = 0;     // native bytes of count x type
  std::vector<char> buf;  // the external32 bytes
  ~Ext32() {
    if (owns_type) PMPI_Type_free(&type);
  }
  // Native bytes for `bytes` bytes of external32 data moved (short accesses: proportional).
  int64_t native_of(int64_t bytes) const {
    if (bytes >= static_cast<int64_t>(buf.size())) return native;
    if (static_cast<int64_t>(buf.size()) == native) return bytes;
    return buf.empty() ? 0 : bytes * native / static_cast<int64_t>(buf.size());
  }
  // After a read of the first `bytes` bytes into buf: converts them into the caller's buffer
  // and returns the native byte count. Bytes not read keep the caller's values (a short read
  // unpacks the caller's own data, repacked, behind them).
  int finish_read(int64_t bytes, int64_t* native_bytes) {
    *native_bytes = 0;
    if (bytes < static_cast<int64_t>(buf.size())) {
      std::vector<char> cur(buf.size());
      MPI_Aint pos = 0;
      if (PMPI_Pack_external_c("external32", user, count, type, cur.data(),
                               static_cast<MPI_Aint>(cur.size()), &pos) != MPI_SUCCESS)
        return make_error(MPI_ERR_CONVERSION, "external32: cannot convert the read data");
      std::copy(buf.begin(), buf.begin() + bytes, cur.begin());
      buf.swap(cur);
    }
    MPI_Aint pos = 0;
    if (PMPI_Unpack_external_c("external32", buf.data(), static_cast<MPI_Aint>(buf.size()), &pos,
                               user, count, type) != MPI_SUCCESS)
      return make_error(MPI_ERR_CONVERSION, "external32: cannot convert the read data");
    *native_bytes = native_of(bytes);
    return MPI_SUCCESS;
  }
};

namespace {

// With an external32 view: the conversion of an access of n data bytes (writes: packed now);
// `keep_type`: the caller's derived type is duplicated (a read unpacks after the call returns).
// nullptr for native views.
int ext32_start(File* f, const void* buf, int64_t count, MPI_Datatype t, int64_t n, bool write,
                bool keep_type, Ext32Ptr* out) {
  out->reset();
  if (!f->view.external32) return MPI_SUCCESS;
  auto x = std::make_shared<Ext32>();
  x->user = const_cast<void*>(buf);
  x->count = count;
  x->type = t;
  MPI_Count size = 0;
  PMPI_Type_size_x(t, &size);
  x->native = static_cast<int64_t>(size) * count;
  x->buf.resize(static_cast<size_t>(n));
  if (write) {
    MPI_Aint pos = 0;
    if (PMPI_Pack_external_c("external32", buf, count, t, x->buf.data(), static_cast<MPI_Aint>(n),
                             &pos) != MPI_SUCCESS)
      return make_error(MPI_ERR_CONVERSION, f->filename + ": cannot convert to external32");
  } else if (keep_type && !is_named(t)) {
    if (PMPI_Type_dup(t, &x->type) != MPI_SUCCESS) return make_error(MPI_ERR_TYPE, f->filename);
    x->owns_type = true;
  }
  *out = std::move(x);
  return MPI_SUCCESS;
}

}  // namespace

int ext32_finish(Ext32* x, bool write, int rc, int64_t* bytes) {
  if (!x) return rc;
  if (write || rc != MPI_SUCCESS) {
    *bytes = x->native_of(*bytes);
    return rc;
  }
  return x->finish_read(*bytes, bytes);
}

int64_t eof_offset(File* f, int64_t fsize) {
  const Flat& ft = *f->view.ft;
  int64_t esz = f->view.etype_size;
  if (fsize <= f->view.disp || ft.size == 0) return 0;
  int64_t rel = fsize - f->view.disp;
  int64_t tile = rel / ft.extent, within = rel % ft.extent;
  int64_t data = tile * ft.size;
  for (size_t i = 0; i < ft.off.size(); ++i) {
    if (ft.off[i] >= within) break;
    data += std::min(ft.len[i], within - ft.off[i]);
  }
  return (data + esz - 1) / esz;
}

// The collective part: error agreement, ordered offset, two-phase or independent driver call.
int coll_run(File* f, const Access& a, int64_t* bytes, bool* agreed_ok) {
  *bytes = 0;
  *agreed_ok = false;
  int rc = agree_error(f->comm, a.rc);
  if (rc != MPI_SUCCESS) return rc;
  *agreed_ok = true;
  int64_t data_off = a.data_off;
  if (a.kind == Kind::kOrdered) {
    // Ranks in rank order from the shared pointer: exscan of the sizes, one fetch-add.
    int64_t esz = f->view.etype_size;
    int64_t etypes = a.n / esz;
    int64_t before = 0, total = 0, base = 0;
    objstore::coll::exscan(&etypes, &before, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (f->rank == 0) before = 0;
    objstore::coll::allreduce(&etypes, &total, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (f->rank == 0) rc = f->fns->shared_fetch_add(f, total, &base);
    objstore::coll::bcast(&base, 1, MPI_INT64_T, 0, f->comm);
    rc = agree_error(f->comm, rc);
    if (rc != MPI_SUCCESS) return rc;
    data_off = (base + before) * esz;
  }
  g_counters.coll_calls++;
  return a.write ? f->fns->write_coll(f, data_off, a.buf, a.count, a.type, bytes)
                 : f->fns->read_coll(f, data_off, const_cast<void*>(a.buf), a.count, a.type, bytes);
}

int prepare_access(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                   bool write, Kind kind, bool keep_type, const char* fn, Access* a) {
  a->kind = kind;
  a->write = write;
  a->buf = buf;
  a->count = count;
  a->type = t;
  a->rc = check_io(f, ptr, off, count, t, write, fn, &a->n);
  if (a->rc == MPI_SUCCESS)
    a->rc = ext32_start(f, buf, count, t, a->n, write, keep_type, &a->ext32);
  if (a->ext32) {  // the access moves the external32 bytes
    a->buf = a->ext32->buf.data();
    a->count = a->n;
    a->type = MPI_BYTE;
  }
  if (a->rc != MPI_SUCCESS || kind == Kind::kOrdered) return a->rc;
  int64_t esz = f->view.etype_size;
  int64_t etypes = a->n / esz;
  if (ptr == Ptr::kExplicit) {
    a->data_off = off * esz;
  } else if (ptr == Ptr::kIndividual) {
    a->data_off = f->fp * esz;
    a->advance = etypes;
  } else {
    int64_t old = 0;
    a->rc = f->fns->shared_fetch_add(f, etypes, &old);
    if (a->rc == MPI_SUCCESS) a->data_off = old * esz;
  }
  return a->rc;
}

namespace {

int do_io_impl(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
               MPI_Status* st, bool write, Kind kind, const char* fn) {
  if (kind != Kind::kIndep) {
    drain(f);
    std::lock_guard<std::mutex> lk(f->mu);
    Access a;
    prepare_access(f, ptr, off, buf, count, t, write, kind, true, fn, &a);
    int64_t bytes = 0;
    bool agreed = false;
    int rc = coll_run(f, a, &bytes, &agreed);
    if (agreed) f->fp += a.advance;
    rc = ext32_finish(a.ext32.get(), write, rc, &bytes);
    set_status(st, rc == MPI_SUCCESS ? bytes : 0);
    return rc == MPI_SUCCESS ? rc : raise(f, rc);
  }
  std::lock_guard<std::mutex> lk(f->mu);
  Access a;
  int rc = prepare_access(f, ptr, off, buf, count, t, write, kind, false, fn, &a);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  g_counters.indep_calls++;
  int64_t bytes = 0;
  rc = write
           ? f->fns->write_strided(f, a.data_off, a.buf, a.count, a.type, &bytes)
           : f->fns->read_strided(f, a.data_off, const_cast<void*>(a.buf), a.count, a.type, &bytes);
  rc = ext32_finish(a.ext32.get(), write, rc, &bytes);
  f->fp += a.advance;
  set_status(st, bytes);
  return rc == MPI_SUCCESS ? rc : raise(f, rc);
}

}  // namespace

int do_io(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
          MPI_Status* st, bool write, Kind kind, const char* fn) {
  return guarded(f, fn,
                 [&] { return do_io_impl(f, ptr, off, buf, count, t, st, write, kind, fn); });
}

}  // namespace edaos::adio

// The data-access entry points: MPI_File_read*/write* and their nonblocking and split forms.
// Here rather than in wrappers.cpp so that the path from the entry point to the operations
// table reads in one file.

using namespace edaos::adio;

// ============================================================================================
// Data access. Families are generated from one body each; the int and MPI_Count (_c) variants
// share it.
// ============================================================================================

#define EDAOS_AT(NAME, BUFT, WRITE, KIND, CT)                                                    \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype, \
                      MPI_Status* status) {                                                      \
    File* f = lookup(fh);                                                                        \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype, status);                \
    return do_io(f, Ptr::kExplicit, offset, buf, count, datatype, status, WRITE, KIND, #NAME);   \
  }
#define EDAOS_FP(NAME, BUFT, WRITE, PTR, KIND, CT)                             \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype,  \
                      MPI_Status* status) {                                    \
    File* f = lookup(fh);                                                      \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype, status);      \
    return do_io(f, PTR, 0, buf, count, datatype, status, WRITE, KIND, #NAME); \
  }
#define EDAOS_IAT(NAME, BUFT, WRITE, KIND, CT)                                                   \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype, \
                      MPI_Request* request) {                                                    \
    File* f = lookup(fh);                                                                        \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype, request);               \
    return nonblocking(f, Ptr::kExplicit, offset, buf, count, datatype, WRITE, KIND, #NAME,      \
                       request);                                                                 \
  }
#define EDAOS_IFP(NAME, BUFT, WRITE, PTR, KIND, CT)                                   \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype,         \
                      MPI_Request* request) {                                         \
    File* f = lookup(fh);                                                             \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype, request);            \
    return nonblocking(f, PTR, 0, buf, count, datatype, WRITE, KIND, #NAME, request); \
  }

// Explicit offsets
EDAOS_AT(MPI_File_read_at, void*, false, Kind::kIndep, int)
EDAOS_AT(MPI_File_read_at_all, void*, false, Kind::kColl, int)
EDAOS_AT(MPI_File_write_at, const void*, true, Kind::kIndep, int)
EDAOS_AT(MPI_File_write_at_all, const void*, true, Kind::kColl, int)
EDAOS_AT(MPI_File_read_at_c, void*, false, Kind::kIndep, MPI_Count)
EDAOS_AT(MPI_File_read_at_all_c, void*, false, Kind::kColl, MPI_Count)
EDAOS_AT(MPI_File_write_at_c, const void*, true, Kind::kIndep, MPI_Count)
EDAOS_AT(MPI_File_write_at_all_c, const void*, true, Kind::kColl, MPI_Count)
EDAOS_IAT(MPI_File_iread_at, void*, false, Kind::kIndep, int)
EDAOS_IAT(MPI_File_iwrite_at, const void*, true, Kind::kIndep, int)
EDAOS_IAT(MPI_File_iread_at_all, void*, false, Kind::kColl, int)
EDAOS_IAT(MPI_File_iwrite_at_all, const void*, true, Kind::kColl, int)
EDAOS_IAT(MPI_File_iread_at_c, void*, false, Kind::kIndep, MPI_Count)
EDAOS_IAT(MPI_File_iwrite_at_c, const void*, true, Kind::kIndep, MPI_Count)
EDAOS_IAT(MPI_File_iread_at_all_c, void*, false, Kind::kColl, MPI_Count)
EDAOS_IAT(MPI_File_iwrite_at_all_c, const void*, true, Kind::kColl, MPI_Count)

// Individual file pointers
EDAOS_FP(MPI_File_read, void*, false, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_FP(MPI_File_read_all, void*, false, Ptr::kIndividual, Kind::kColl, int)
EDAOS_FP(MPI_File_write, const void*, true, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_FP(MPI_File_write_all, const void*, true, Ptr::kIndividual, Kind::kColl, int)
EDAOS_FP(MPI_File_read_c, void*, false, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_read_all_c, void*, false, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_FP(MPI_File_write_c, const void*, true, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_write_all_c, const void*, true, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_IFP(MPI_File_iread, void*, false, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iwrite, const void*, true, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iread_all, void*, false, Ptr::kIndividual, Kind::kColl, int)
EDAOS_IFP(MPI_File_iwrite_all, const void*, true, Ptr::kIndividual, Kind::kColl, int)
EDAOS_IFP(MPI_File_iread_c, void*, false, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_c, const void*, true, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iread_all_c, void*, false, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_all_c, const void*, true, Ptr::kIndividual, Kind::kColl, MPI_Count)

// Shared file pointer
EDAOS_FP(MPI_File_read_shared, void*, false, Ptr::kShared, Kind::kIndep, int)
EDAOS_FP(MPI_File_write_shared, const void*, true, Ptr::kShared, Kind::kIndep, int)
EDAOS_FP(MPI_File_read_shared_c, void*, false, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_write_shared_c, const void*, true, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iread_shared, void*, false, Ptr::kShared, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iwrite_shared, const void*, true, Ptr::kShared, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iread_shared_c, void*, false, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_shared_c, const void*, true, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_read_ordered, void*, false, Ptr::kShared, Kind::kOrdered, int)
EDAOS_FP(MPI_File_write_ordered, const void*, true, Ptr::kShared, Kind::kOrdered, int)
EDAOS_FP(MPI_File_read_ordered_c, void*, false, Ptr::kShared, Kind::kOrdered, MPI_Count)
EDAOS_FP(MPI_File_write_ordered_c, const void*, true, Ptr::kShared, Kind::kOrdered, MPI_Count)

// Split collectives
#define EDAOS_SPLIT_AT(NAME, BUFT, WRITE, CT)                                                      \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype) { \
    File* f = lookup(fh);                                                                          \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype);                          \
    return split_begin(f, Ptr::kExplicit, offset, buf, count, datatype, WRITE, Kind::kColl,        \
                       #NAME);                                                                     \
  }
#define EDAOS_SPLIT_FP(NAME, BUFT, WRITE, PTR, CT)                                  \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype) {     \
    File* f = lookup(fh);                                                           \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype);                   \
    return split_begin(f, PTR, 0, buf, count, datatype, WRITE, Kind::kColl, #NAME); \
  }
#define EDAOS_SPLIT_END(NAME, BUFT, WRITE)                         \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, MPI_Status* status) { \
    File* f = lookup(fh);                                          \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, status);           \
    return split_end(f, status, WRITE, #NAME);                     \
  }

EDAOS_SPLIT_AT(MPI_File_read_at_all_begin, void*, false, int)
EDAOS_SPLIT_AT(MPI_File_write_at_all_begin, const void*, true, int)
EDAOS_SPLIT_AT(MPI_File_read_at_all_begin_c, void*, false, MPI_Count)
EDAOS_SPLIT_AT(MPI_File_write_at_all_begin_c, const void*, true, MPI_Count)
EDAOS_SPLIT_FP(MPI_File_read_all_begin, void*, false, Ptr::kIndividual, int)
EDAOS_SPLIT_FP(MPI_File_write_all_begin, const void*, true, Ptr::kIndividual, int)
EDAOS_SPLIT_FP(MPI_File_read_all_begin_c, void*, false, Ptr::kIndividual, MPI_Count)
EDAOS_SPLIT_FP(MPI_File_write_all_begin_c, const void*, true, Ptr::kIndividual, MPI_Count)
EDAOS_SPLIT_END(MPI_File_read_at_all_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_at_all_end, const void*, true)
EDAOS_SPLIT_END(MPI_File_read_all_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_all_end, const void*, true)
EDAOS_SPLIT_END(MPI_File_read_ordered_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_ordered_end, const void*, true)

#define EDAOS_SPLIT_ORD(NAME, BUFT, WRITE, CT)                                                  \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype) {                 \
    File* f = lookup(fh);                                                                       \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype);                               \
    return split_begin(f, Ptr::kShared, 0, buf, count, datatype, WRITE, Kind::kOrdered, #NAME); \
  }
EDAOS_SPLIT_ORD(MPI_File_read_ordered_begin, void*, false, int)
EDAOS_SPLIT_ORD(MPI_File_write_ordered_begin, const void*, true, int)
EDAOS_SPLIT_ORD(MPI_File_read_ordered_begin_c, void*, false, MPI_Count)
EDAOS_SPLIT_ORD(MPI_File_write_ordered_begin_c, const void*, true, MPI_Count)

// Profiling names of the data-access entry points (see wrappers.cpp): in this file because an
// alias must be defined in the translation unit of its target.
EDAOS_PROFILING_ALIAS(MPI_File_iread)
EDAOS_PROFILING_ALIAS(MPI_File_iread_all)
EDAOS_PROFILING_ALIAS(MPI_File_iread_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_shared)
EDAOS_PROFILING_ALIAS(MPI_File_iread_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_all)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_shared)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_read)
EDAOS_PROFILING_ALIAS(MPI_File_read_all)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_at)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_shared)
EDAOS_PROFILING_ALIAS(MPI_File_read_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_write)
EDAOS_PROFILING_ALIAS(MPI_File_write_all)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_at)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_shared)
EDAOS_PROFILING_ALIAS(MPI_File_write_shared_c)

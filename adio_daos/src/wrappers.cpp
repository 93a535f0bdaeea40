// The MPI_File_* entry points (PMPI profiling interface), each also defined as PMPI_File_*,
// and nothing else, except the data-access ones (read/write in all their forms), which live
// with the access preparation and blocking accesses in access.cpp; the handle table is
// handles.cpp, requests and collective workers async.cpp, the operations fns.cpp.
//
// A call on a handle that is not a daos file (MPI_FILE_NULL included) goes to the MPI
// library's PMPI_File_* function of the same name (EDAOS_REAL, see
// objstore/src/pmpi/mpi_real.hpp) with the same arguments, untouched.
//
// For daos files the wrappers check arguments in ROMIO's order and with ROMIO's error classes,
// convert pointers and counts, call the operations table (fns.cpp) and fill MPI_Status (byte
// count through MPI_Status_set_elements_x). Errors go through the file's error handler
// (MPI_ERRORS_RETURN by default for files, inherited from MPI_FILE_NULL at open).
// Nonblocking calls return generalized requests (MPI_Wait/Test and the *all/any/some variants
// work on them as on any request): independent ones complete from a pool thread or the thread
// that waits, collective ones from the handle's collective worker (async.cpp).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "edaos/adio_daos/adio_daos.h"
#include "mpiio_internal.hpp"

using namespace edaos;
using namespace edaos::adio;

// ============================================================================================
// Files: open, close, delete, size, group, amode, info
// ============================================================================================

EDAOS_PMPI int MPI_File_open(MPI_Comm comm, const char* filename, int amode, MPI_Info info,
                             MPI_File* fh) {
  if (!is_daos_name(filename)) return EDAOS_REAL(PMPI_File_open)(comm, filename, amode, info, fh);
  try {
    int inter = 0;
    if (comm == MPI_COMM_NULL)
      return invoke(null_errhandler(), MPI_FILE_NULL,
                    make_error(MPI_ERR_COMM, "MPI_File_open: MPI_COMM_NULL"));
    PMPI_Comm_test_inter(comm, &inter);
    if (inter)
      return invoke(null_errhandler(), MPI_FILE_NULL,
                    make_error(MPI_ERR_COMM, "MPI_File_open: intercommunicators are not allowed"));
    std::string where = std::string("MPI_File_open ") + filename;
    int acc = ((amode & MPI_MODE_RDONLY) ? 1 : 0) + ((amode & MPI_MODE_RDWR) ? 1 : 0) +
              ((amode & MPI_MODE_WRONLY) ? 1 : 0);
    int rc = MPI_SUCCESS;
    if (acc != 1)
      rc = make_error(MPI_ERR_AMODE, where +
                                         ": exactly one of MPI_MODE_RDONLY, MPI_MODE_RDWR, "
                                         "MPI_MODE_WRONLY must be given");
    else if ((amode & MPI_MODE_RDONLY) && (amode & (MPI_MODE_CREATE | MPI_MODE_EXCL)))
      rc = make_error(MPI_ERR_AMODE,
                      where + ": MPI_MODE_CREATE or MPI_MODE_EXCL with MPI_MODE_RDONLY");
    else if ((amode & MPI_MODE_RDWR) && (amode & MPI_MODE_SEQUENTIAL))
      rc = make_error(MPI_ERR_AMODE, where + ": MPI_MODE_SEQUENTIAL with MPI_MODE_RDWR");
    if (rc != MPI_SUCCESS) {
      *fh = MPI_FILE_NULL;
      return invoke(null_errhandler(), MPI_FILE_NULL, rc);
    }
    File* f = nullptr;
    rc = kEdaosFns.open(comm, filename, amode, info, &f);
    if (rc != MPI_SUCCESS) {
      *fh = MPI_FILE_NULL;
      return invoke(null_errhandler(), MPI_FILE_NULL, rc);
    }
    register_file(f);
    *fh = reinterpret_cast<MPI_File>(f);
    return MPI_SUCCESS;
  } catch (const std::bad_alloc&) {
    return invoke(null_errhandler(), MPI_FILE_NULL,
                  make_error(MPI_ERR_NO_MEM, "MPI_File_open: out of memory"));
  } catch (const std::exception& e) {
    return invoke(null_errhandler(), MPI_FILE_NULL,
                  make_error(MPI_ERR_INTERN, std::string("MPI_File_open: ") + e.what()));
  }
}

EDAOS_PMPI int MPI_File_close(MPI_File* fh) {
  File* f = fh ? lookup(*fh) : nullptr;
  if (!f) return EDAOS_REAL(PMPI_File_close)(fh);
  int rc;
  stop_worker(f);  // runs the queued collectives first (close is collective)
  {
    // Nonblocking accesses still running (erroneous without a wait, but never a crash).
    std::unique_lock<std::mutex> lk(f->inflight_mu);
    f->inflight_cv.wait(lk, [f] { return f->inflight == 0; });
  }
  {
    std::lock_guard<std::mutex> lk(f->mu);
    rc = f->fns->close(f);
  }
  unregister_file(f);
  MPI_Errhandler eh = f->errh;
  f->magic = 0;
  delete f;
  *fh = MPI_FILE_NULL;
  return invoke(eh, MPI_FILE_NULL, rc);
}

EDAOS_PMPI int MPI_File_delete(const char* filename, MPI_Info info) {
  if (!is_daos_name(filename)) return EDAOS_REAL(PMPI_File_delete)(filename, info);
  return invoke(null_errhandler(), MPI_FILE_NULL, kEdaosFns.delete_file(filename, info));
}

EDAOS_PMPI int MPI_File_set_size(MPI_File fh, MPI_Offset size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_size)(fh, size);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = size < 0 ? make_error(MPI_ERR_ARG, "MPI_File_set_size: negative size") : MPI_SUCCESS;
  rc = agree_error(f->comm, rc);
  if (rc == MPI_SUCCESS) rc = f->fns->resize(f, size);
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_preallocate(MPI_File fh, MPI_Offset size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_preallocate)(fh, size);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = size < 0 ? make_error(MPI_ERR_ARG, "MPI_File_preallocate: negative size") : MPI_SUCCESS;
  if (rc == MPI_SUCCESS && (f->amode & MPI_MODE_RDONLY))
    rc = make_error(MPI_ERR_READ_ONLY, "MPI_File_preallocate: file opened MPI_MODE_RDONLY");
  rc = agree_error(f->comm, rc);
  if (rc == MPI_SUCCESS) rc = f->fns->preallocate(f, size);
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_get_size(MPI_File fh, MPI_Offset* size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_size)(fh, size);
  std::lock_guard<std::mutex> lk(f->mu);
  int64_t s = 0;
  int rc = f->fns->get_size(f, &s);
  if (rc == MPI_SUCCESS) *size = s;
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_get_group(MPI_File fh, MPI_Group* group) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_group)(fh, group);
  return raise(f, PMPI_Comm_group(f->comm, group));
}

EDAOS_PMPI int MPI_File_get_amode(MPI_File fh, int* amode) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_amode)(fh, amode);
  *amode = f->amode;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_set_info(MPI_File fh, MPI_Info info) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_info)(fh, info);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->set_info(f, info));
}

EDAOS_PMPI int MPI_File_get_info(MPI_File fh, MPI_Info* info_used) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_info)(fh, info_used);
  std::lock_guard<std::mutex> lk(f->mu);
  *info_used = hints::to_mpi_info(f->hints);
  return MPI_SUCCESS;
}

// ============================================================================================
// Views
// ============================================================================================

// Data representations ROMIO accepts (either case); "internal" is the native layout.
bool datarep_known(const char* d, bool* external32) {
  if (!d) return false;
  *external32 = std::strcmp(d, "external32") == 0 || std::strcmp(d, "EXTERNAL32") == 0;
  return *external32 || std::strcmp(d, "native") == 0 || std::strcmp(d, "NATIVE") == 0 ||
         std::strcmp(d, "internal") == 0 || std::strcmp(d, "INTERNAL") == 0;
}

// Checks in ROMIO's order and with its classes (MPI_File_set_view, ADIO_Set_view); a refused
// view leaves the current one in place.
EDAOS_PMPI int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype etype,
                                 MPI_Datatype filetype, const char* datarep, MPI_Info info) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_view)(fh, disp, etype, filetype, datarep, info);
  drain(f);
  std::lock_guard<std::mutex> lk(f->mu);
  std::string where = "MPI_File_set_view on " + f->filename;
  int rc = MPI_SUCCESS;
  bool seq = f->amode & MPI_MODE_SEQUENTIAL, e32 = false;
  int64_t esz = 0, fsz = 0;
  FlatPtr eflat, fflat;
  if (disp < 0 && disp != MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG, where + ": negative displacement");
  else if (etype == MPI_DATATYPE_NULL)
    rc = make_error(MPI_ERR_ARG, where + ": etype is MPI_DATATYPE_NULL");
  else if (filetype == MPI_DATATYPE_NULL)
    rc = make_error(MPI_ERR_ARG, where + ": filetype is MPI_DATATYPE_NULL");
  else if (seq && disp != MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG,
                    where + ": a MPI_MODE_SEQUENTIAL file takes MPI_DISPLACEMENT_CURRENT only");
  else if (!seq && disp == MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG, where + ": MPI_DISPLACEMENT_CURRENT without MPI_MODE_SEQUENTIAL");
  else if (!datarep_known(datarep, &e32))
    rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                    where + ": data representation \"" + (datarep ? datarep : "(null)") +
                        "\" is not supported (native, internal, external32)");
  if (rc == MPI_SUCCESS && e32 &&
      (single_basic_type(etype) == MPI_DATATYPE_NULL ||
       single_basic_type(filetype) == MPI_DATATYPE_NULL))
    rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                    where +
                        ": external32 views whose etype or filetype mixes basic types are not "
                        "supported (MPICH's MPI_Pack_external handles one basic type)");
  if (rc == MPI_SUCCESS) {
    eflat = e32 ? flatten_external32(etype) : flatten(etype);
    fflat = e32 ? flatten_external32(filetype) : flatten(filetype);
    if (!eflat || !fflat)
      rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                      where + ": the view's types have no external32 layout edaos can compute");
  }
  if (rc == MPI_SUCCESS) {
    esz = eflat->size;
    fsz = fflat->size;
    if (esz <= 0 || fsz % esz != 0)
      rc = make_error(MPI_ERR_ARG, where + ": filetype must be made of whole etypes");
  }
  bool writable = !(f->amode & MPI_MODE_RDONLY);
  if (rc == MPI_SUCCESS) {
    for (auto [flat, kind] : {std::pair{eflat, "etype"}, std::pair{fflat, "filetype"}}) {
      std::string why = view_type_error(*flat, writable);
      if (!why.empty()) {
        rc = make_error(MPI_ERR_IO, where + ": " + kind + ": " + why);
        break;
      }
    }
  }
  rc = agree_error(f->comm, rc);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  if (disp == MPI_DISPLACEMENT_CURRENT) {
    int64_t sfp = 0;
    rc = f->fns->shared_fetch_add(f, 0, &sfp);
    disp = static_cast<MPI_Offset>(view_byte_offset(*f, sfp * f->view.etype_size));
  }
  rc = f->fns->set_info(f, info);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  for (MPI_Datatype* t : {&f->view.etype, &f->view.filetype})
    if (!is_named(*t)) PMPI_Type_free(t);
  if (is_named(etype))
    f->view.etype = etype;
  else
    PMPI_Type_dup(etype, &f->view.etype);
  if (is_named(filetype))
    f->view.filetype = filetype;
  else
    PMPI_Type_dup(filetype, &f->view.filetype);
  f->view.disp = disp;
  f->view.etype_size = esz;
  f->view.ft = fflat;
  f->view.external32 = e32;
  f->datarep = e32 ? "external32" : (*datarep == 'i' || *datarep == 'I') ? "internal" : "native";
  f->fp = 0;
  return raise(f, f->fns->shared_set(f, 0));
}

EDAOS_PMPI int MPI_File_get_view(MPI_File fh, MPI_Offset* disp, MPI_Datatype* etype,
                                 MPI_Datatype* filetype, char* datarep) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_view)(fh, disp, etype, filetype, datarep);
  std::lock_guard<std::mutex> lk(f->mu);
  *disp = f->view.disp;
  // Copies of derived types as ROMIO makes them (a committed contiguous of one), so programs
  // see the same combiners on both kinds of files.
  auto copy = [](MPI_Datatype t, MPI_Datatype* out) {
    if (is_named(t)) {
      *out = t;
      return;
    }
    PMPI_Type_contiguous(1, t, out);
    PMPI_Type_commit(out);
  };
  copy(f->view.etype, etype);
  copy(f->view.filetype, filetype);
  if (datarep) std::snprintf(datarep, MPI_MAX_DATAREP_STRING, "%s", f->datarep.c_str());
  return MPI_SUCCESS;
}

// ============================================================================================
// Positions
// ============================================================================================

EDAOS_PMPI int MPI_File_seek(MPI_File fh, MPI_Offset offset, int whence) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_seek)(fh, offset, whence);
  std::lock_guard<std::mutex> lk(f->mu);
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION, "MPI_File_seek: MPI_MODE_SEQUENTIAL file");
  int64_t base = 0;
  if (whence == MPI_SEEK_CUR) {
    base = f->fp;
  } else if (whence == MPI_SEEK_END) {
    int64_t size = 0;
    int rc = f->fns->get_size(f, &size);
    if (rc != MPI_SUCCESS) return raise(f, rc);
    base = eof_offset(f, size);
  } else if (whence != MPI_SEEK_SET) {
    return err(f, MPI_ERR_ARG, "MPI_File_seek: invalid whence");
  }
  if (base + offset < 0) return err(f, MPI_ERR_ARG, "MPI_File_seek: negative resulting offset");
  f->fp = base + offset;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_position(MPI_File fh, MPI_Offset* offset) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_position)(fh, offset);
  std::lock_guard<std::mutex> lk(f->mu);
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION, "MPI_File_get_position: MPI_MODE_SEQUENTIAL file");
  *offset = f->fp;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_byte_offset(MPI_File fh, MPI_Offset offset, MPI_Offset* disp) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_byte_offset)(fh, offset, disp);
  std::lock_guard<std::mutex> lk(f->mu);
  if (offset < 0) return err(f, MPI_ERR_ARG, "MPI_File_get_byte_offset: negative offset");
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION,
               "MPI_File_get_byte_offset: MPI_MODE_SEQUENTIAL file");
  *disp = view_byte_offset(*f, offset * f->view.etype_size);
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_seek_shared(MPI_File fh, MPI_Offset offset, int whence) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_seek_shared)(fh, offset, whence);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = MPI_SUCCESS;
  int64_t base = 0;
  if (whence == MPI_SEEK_CUR) {
    rc = f->fns->shared_fetch_add(f, 0, &base);
  } else if (whence == MPI_SEEK_END) {
    int64_t size = 0;
    rc = f->fns->get_size(f, &size);
    base = eof_offset(f, size);
  } else if (whence != MPI_SEEK_SET) {
    rc = make_error(MPI_ERR_ARG, "MPI_File_seek_shared: invalid whence");
  }
  if (rc == MPI_SUCCESS && base + offset < 0)
    rc = make_error(MPI_ERR_ARG, "MPI_File_seek_shared: negative resulting offset");
  // Collective: the arguments must agree; rank 0's result is used.
  int64_t target = base + offset;
  rc = agree_error(f->comm, rc);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  objstore::coll::bcast(&target, 1, MPI_INT64_T, 0, f->comm);
  return raise(f, f->fns->shared_set(f, target));
}

EDAOS_PMPI int MPI_File_get_position_shared(MPI_File fh, MPI_Offset* offset) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_position_shared)(fh, offset);
  std::lock_guard<std::mutex> lk(f->mu);
  int64_t v = 0;
  int rc = f->fns->shared_fetch_add(f, 0, &v);
  if (rc == MPI_SUCCESS) *offset = v;
  return raise(f, rc);
}

// The extent in the file: the native extent, or with an external32 view the extent of the
// type's external32 layout (flatten_external32; MPI-3.1 13.5.1).
int type_extent_in_file(File* f, MPI_Datatype t, int64_t* extent, const char* fn) {
  if (t == MPI_DATATYPE_NULL) return err(f, MPI_ERR_TYPE, std::string(fn) + ": MPI_DATATYPE_NULL");
  std::lock_guard<std::mutex> lk(f->mu);
  FlatPtr fl = f->view.external32 ? flatten_external32(t) : flatten(t);
  if (!fl)
    return err(f, MPI_ERR_UNSUPPORTED_DATAREP,
               std::string(fn) + ": the type has no external32 layout edaos can compute");
  *extent = fl->extent;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_type_extent(MPI_File fh, MPI_Datatype datatype, MPI_Aint* extent) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_type_extent)(fh, datatype, extent);
  int64_t e = 0;
  int rc = type_extent_in_file(f, datatype, &e, "MPI_File_get_type_extent");
  if (rc == MPI_SUCCESS) *extent = static_cast<MPI_Aint>(e);
  return rc;
}

EDAOS_PMPI int MPI_File_get_type_extent_c(MPI_File fh, MPI_Datatype datatype, MPI_Count* extent) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_type_extent_c)(fh, datatype, extent);
  int64_t e = 0;
  int rc = type_extent_in_file(f, datatype, &e, "MPI_File_get_type_extent_c");
  if (rc == MPI_SUCCESS) *extent = static_cast<MPI_Count>(e);
  return rc;
}

// ============================================================================================
// Consistency
// ============================================================================================

EDAOS_PMPI int MPI_File_set_atomicity(MPI_File fh, int flag) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_atomicity)(fh, flag);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->set_atomicity(f, flag != 0));
}

EDAOS_PMPI int MPI_File_get_atomicity(MPI_File fh, int* flag) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_atomicity)(fh, flag);
  *flag = f->atomic ? 1 : 0;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_sync(MPI_File fh) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_sync)(fh);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->flush(f));
}

// ============================================================================================
// Error handlers, Fortran handles
// ============================================================================================

EDAOS_PMPI int MPI_File_create_errhandler(MPI_File_errhandler_function* fn,
                                          MPI_Errhandler* errhandler) {
  int rc = EDAOS_REAL(PMPI_File_create_errhandler)(fn, errhandler);
  if (rc == MPI_SUCCESS) remember_errhandler(*errhandler, fn);
  return rc;
}

EDAOS_PMPI int MPI_File_set_errhandler(MPI_File fh, MPI_Errhandler errhandler) {
  if (fh == MPI_FILE_NULL) {
    int rc = EDAOS_REAL(PMPI_File_set_errhandler)(fh, errhandler);
    if (rc == MPI_SUCCESS) set_null_errhandler(errhandler);
    return rc;
  }
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_errhandler)(fh, errhandler);
  if (errhandler == MPI_ERRHANDLER_NULL)
    return err(f, MPI_ERR_ARG, "MPI_File_set_errhandler: MPI_ERRHANDLER_NULL");
  f->errh = errhandler;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_errhandler(MPI_File fh, MPI_Errhandler* errhandler) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_errhandler)(fh, errhandler);
  *errhandler = f->errh;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_call_errhandler(MPI_File fh, int errorcode) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_call_errhandler)(fh, errorcode);
  invoke(f->errh, fh, errorcode);
  return MPI_SUCCESS;
}

EDAOS_PMPI MPI_Fint MPI_File_c2f(MPI_File fh) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_c2f)(fh);
  return file_c2f(f);
}

EDAOS_PMPI MPI_File MPI_File_f2c(MPI_Fint fh) {
  if (File* f = file_f2c(fh)) return reinterpret_cast<MPI_File>(f);
  return EDAOS_REAL(PMPI_File_f2c)(fh);
}

// Error strings of the driver's codes (see error_string in errors.cpp); all others: PMPI.
EDAOS_PMPI int MPI_Error_string(int errorcode, char* string, int* resultlen) {
  if (const std::string* s = error_string(errorcode)) {
    std::snprintf(string, MPI_MAX_ERROR_STRING, "%s", s->c_str());
    *resultlen = static_cast<int>(std::min<size_t>(s->size(), MPI_MAX_ERROR_STRING - 1));
    return MPI_SUCCESS;
  }
  return EDAOS_REAL(PMPI_Error_string)(errorcode, string, resultlen);
}

// ============================================================================================
// Profiling names: every entry point above is also PMPI_<name> (the same function), so programs
// and tools that call the profiling interface (Darshan's MPI-IO wrappers call PMPI_File_*)
// reach the driver: LD_PRELOAD=libdarshan.so:libedaos_mpio.so stacks. Pass-through calls use
// EDAOS_REAL, never these names.
// ============================================================================================

EDAOS_PROFILING_ALIAS(MPI_Error_string)
EDAOS_PROFILING_ALIAS(MPI_File_c2f)
EDAOS_PROFILING_ALIAS(MPI_File_call_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_close)
EDAOS_PROFILING_ALIAS(MPI_File_create_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_delete)
EDAOS_PROFILING_ALIAS(MPI_File_f2c)
EDAOS_PROFILING_ALIAS(MPI_File_get_amode)
EDAOS_PROFILING_ALIAS(MPI_File_get_atomicity)
EDAOS_PROFILING_ALIAS(MPI_File_get_byte_offset)
EDAOS_PROFILING_ALIAS(MPI_File_get_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_get_group)
EDAOS_PROFILING_ALIAS(MPI_File_get_info)
EDAOS_PROFILING_ALIAS(MPI_File_get_position)
EDAOS_PROFILING_ALIAS(MPI_File_get_position_shared)
EDAOS_PROFILING_ALIAS(MPI_File_get_size)
EDAOS_PROFILING_ALIAS(MPI_File_get_type_extent)
EDAOS_PROFILING_ALIAS(MPI_File_get_type_extent_c)
EDAOS_PROFILING_ALIAS(MPI_File_get_view)
EDAOS_PROFILING_ALIAS(MPI_File_open)
EDAOS_PROFILING_ALIAS(MPI_File_preallocate)
EDAOS_PROFILING_ALIAS(MPI_File_seek)
EDAOS_PROFILING_ALIAS(MPI_File_seek_shared)
EDAOS_PROFILING_ALIAS(MPI_File_set_atomicity)
EDAOS_PROFILING_ALIAS(MPI_File_set_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_set_info)
EDAOS_PROFILING_ALIAS(MPI_File_set_size)
EDAOS_PROFILING_ALIAS(MPI_File_set_view)
EDAOS_PROFILING_ALIAS(MPI_File_sync)

// ============================================================================================
// The driver's own C surface (adio_daos.h)
// ============================================================================================

EDAOS_PMPI int edaos_mpio_is_daos_file(MPI_File fh) { return lookup(fh) ? 1 : 0; }

EDAOS_PMPI int edaos_mpio_is_daos_name(const char* filename) {
  return is_daos_name(filename) ? 1 : 0;
}

EDAOS_PMPI void edaos_mpio_get_stats(edaos_mpio_stats_t* out) {
  out->ms_indep_calls = g_counters.indep_calls;
  out->ms_coll_calls = g_counters.coll_calls;
  out->ms_coll_twophase = g_counters.coll_twophase;
  out->ms_coll_rounds = g_counters.coll_rounds;
  out->ms_agg_io_calls = g_counters.agg_io_calls;
  out->ms_agg_io_bytes = g_counters.agg_io_bytes;
  out->ms_sieved_reads = g_counters.sieved_reads;
}

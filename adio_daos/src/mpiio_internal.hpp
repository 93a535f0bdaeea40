// Private declarations of the MPI_File_* layer of the driver (above the operations table):
// the handle table (handles.cpp), the one access preparation and blocking access
// (access.cpp), the asynchronous machinery (async.cpp). The entry points (wrappers.cpp) call
// these; the operations they reach are in adio_internal.hpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adio_internal.hpp"

// An MPI_File_* entry point: a C symbol the shared library exports (wrappers.cpp, access.cpp).
#define EDAOS_PMPI extern "C" __attribute__((visibility("default")))

namespace edaos::adio {

// ---- handles and errors (handles.cpp) -------------------------------------------------------

// The daos file of `fh`, or nullptr for any other handle (never dereferenced).
File* lookup(MPI_File fh);
bool is_daos_name(const char* name);
// Registers an opened file (its error handler becomes MPI_FILE_NULL's) / forgets a closed one.
void register_file(File* f);
void unregister_file(File* f);
// The Fortran handle of `f` (allocated on first use) / the file of a Fortran handle.
MPI_Fint file_c2f(File* f);
File* file_f2c(MPI_Fint fint);
// Error handlers created through MPI_File_create_errhandler (their functions are called by
// invoke) and the handler of MPI_FILE_NULL.
void remember_errhandler(MPI_Errhandler eh, MPI_File_errhandler_function* fn);
MPI_Errhandler null_errhandler();
void set_null_errhandler(MPI_Errhandler eh);
// Runs error handler `eh` for `code` on file `fh`; returns the code for the caller to return.
int invoke(MPI_Errhandler eh, MPI_File fh, int code);
// invoke with the file's handler (MPI_FILE_NULL's when f is nullptr).
int raise(File* f, int code);
int err(File* f, int cls, const std::string& msg);
// MPI_Status of an access that moved `bytes` bytes (MPI_STATUS_IGNORE allowed).
void set_status(MPI_Status* st, int64_t bytes);

// No exception leaves an entry point (STYLE.md section 4): out of memory becomes
// MPI_ERR_NO_MEM, anything else MPI_ERR_INTERN, through the file's error handler.
template <typename Fn>
int guarded(File* f, const char* fn, Fn&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return err(f, MPI_ERR_NO_MEM, std::string(fn) + ": out of memory");
  } catch (const std::exception& e) {
    return err(f, MPI_ERR_INTERN, std::string(fn) + ": " + e.what());
  }
}

// ---- the access preparation (access.cpp) ----------------------------------------------------

enum class Ptr { kExplicit, kIndividual, kShared };
enum class Kind { kIndep, kColl, kOrdered };

bool is_named(MPI_Datatype t);
// Offset in etype units at the end of the file, through the view (ROMIO ADIOI_Get_eof_offset).
int64_t eof_offset(File* f, int64_t fsize);

struct Ext32;  // the external32 conversion of one access (access.cpp)
using Ext32Ptr = std::shared_ptr<Ext32>;
// Native bytes after an access that moved `bytes` data bytes (reads: converted into the
// caller's buffer first). Returns rc, or a conversion error.
int ext32_finish(Ext32* x, bool write, int rc, int64_t* bytes);

// One access, prepared for the operations table: checked, its data offset in the view
// computed, its buffer in the file's representation.
struct Access {
  Kind kind = Kind::kIndep;
  bool write = false;
  int rc = MPI_SUCCESS;       // the argument check (collectives agree on it before running)
  int64_t n = 0;              // bytes of view data
  int64_t data_off = 0;       // byte offset in the view's data (not for ordered accesses)
  int64_t advance = 0;        // etypes the individual file pointer moves by
  const void* buf = nullptr;  // what moves: the caller's count x type, or with an external32
  int64_t count = 0;          // view its external32 bytes as n x MPI_BYTE
  MPI_Datatype type = MPI_DATATYPE_NULL;
  Ext32Ptr ext32;
};

// Prepares an access of count x t at `buf` (f->mu held): checks in ROMIO's order and classes,
// packs external32 writes (`keep_type`: a read's derived type is duplicated, it is unpacked
// after the call returns), and computes the data offset from the explicit offset, the
// individual pointer (not moved: the caller adds `advance`) or the shared pointer (moved now,
// by one fetch-and-add). Ordered accesses get their offset when they run (coll_run).
// Returns a->rc.
int prepare_access(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                   bool write, Kind kind, bool keep_type, const char* fn, Access* a);

// Runs a prepared collective access on every rank of f->comm: agrees on errors, computes the
// ordered offset, calls the table's read_coll/write_coll. Returns the agreed code;
// `agreed_ok` tells whether the arguments were accepted on every rank.
int coll_run(File* f, const Access& a, int64_t* bytes, bool* agreed_ok);

// The body of every blocking data access call on a daos file (through the table).
int do_io(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
          MPI_Status* st, bool write, Kind kind, const char* fn);

// ---- asynchronous machinery (async.cpp) -----------------------------------------------------

// Nonblocking access: a generalized request completed by the I/O pool (independent) or the
// handle's collective worker (collective).
int nonblocking(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                bool write, Kind kind, const char* fn, MPI_Request* req);
// Split collectives (begin queues on the worker, end waits).
int split_begin(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                bool write, Kind kind, const char* fn);
int split_end(File* f, MPI_Status* st, bool write, const char* fn);
// Waits until the handle's queued collectives have run (before any other collective call).
void drain(File* f);
// Drains and joins the handle's collective worker (close).
void stop_worker(File* f);

}  // namespace edaos::adio

// The handle table of the MPI_File_* layer and the dispatch of errors to error handlers.
//
// A daos file's MPI_File is the address of its edaos::adio::File, registered here; any other
// handle (MPI_FILE_NULL included) is the MPI library's own. Lookups compare pointers only: a
// foreign handle is never dereferenced. Also the Fortran handles of daos files, the functions
// of error handlers created through MPI_File_create_errhandler, and MPI_FILE_NULL's handler
// (inherited by daos files at open).
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

#include "mpiio_internal.hpp"

namespace edaos::adio {

namespace {

std::mutex g_mu;
std::unordered_set<File*> g_files;
std::map<MPI_Fint, File*> g_fint;
MPI_Fint g_next_fint = 1 << 30;  // above anything ROMIO's own table hands out
std::map<MPI_Errhandler, MPI_File_errhandler_function*> g_errh_fns;
MPI_Errhandler g_null_errh = MPI_ERRORS_RETURN;  // handler of MPI_FILE_NULL (for daos opens)

}  // namespace

File* lookup(MPI_File fh) {
  if (fh == MPI_FILE_NULL) return nullptr;
  File* f = reinterpret_cast<File*>(fh);
  std::lock_guard<std::mutex> lk(g_mu);
  return g_files.count(f) ? f : nullptr;
}

bool is_daos_name(const char* name) { return name && std::strncmp(name, "daos:", 5) == 0; }

int invoke(MPI_Errhandler eh, MPI_File fh, int code) {
  if (code == MPI_SUCCESS || eh == MPI_ERRORS_RETURN) return code;
  MPI_File_errhandler_function* fn = nullptr;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_errh_fns.find(eh);
    if (it != g_errh_fns.end()) fn = it->second;
  }
  if (fn) {
    MPI_File h = fh;
    int c = code;
    fn(&h, &c);
    return code;
  }
  // MPI_ERRORS_ARE_FATAL, MPI_ERRORS_ABORT or a handler we did not see created.
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, msg, &len);
  std::fprintf(stderr, "edaos: fatal MPI-IO error: %s\n", msg);
  std::fflush(stderr);
  PMPI_Abort(MPI_COMM_WORLD, code);
  return code;
}

int raise(File* f, int code) {
  return invoke(f ? f->errh : g_null_errh, reinterpret_cast<MPI_File>(f), code);
}

int err(File* f, int cls, const std::string& msg) { return raise(f, make_error(cls, msg)); }

void set_status(MPI_Status* st, int64_t bytes) {
  if (st == MPI_STATUS_IGNORE) return;
  PMPI_Status_set_elements_x(st, MPI_BYTE, static_cast<MPI_Count>(bytes));
  PMPI_Status_set_cancelled(st, 0);
}

void register_file(File* f) {
  std::lock_guard<std::mutex> lk(g_mu);
  f->errh = g_null_errh;
  g_files.insert(f);
}

void unregister_file(File* f) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_files.erase(f);
  if (f->fint) g_fint.erase(f->fint);
}

MPI_Fint file_c2f(File* f) {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!f->fint) {
    f->fint = g_next_fint++;
    g_fint[f->fint] = f;
  }
  return f->fint;
}

File* file_f2c(MPI_Fint fint) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_fint.find(fint);
  return it != g_fint.end() ? it->second : nullptr;
}

void remember_errhandler(MPI_Errhandler eh, MPI_File_errhandler_function* fn) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_errh_fns[eh] = fn;
}

MPI_Errhandler null_errhandler() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_null_errh;
}

void set_null_errhandler(MPI_Errhandler eh) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_null_errh = eh;
}

}  // namespace edaos::adio

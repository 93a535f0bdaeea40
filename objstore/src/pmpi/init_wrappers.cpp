// libedaos_init: PMPI wrappers of MPI_Init, MPI_Init_thread and MPI_Finalize.
//
// Linked before libmpi (or put in LD_PRELOAD), they make an unmodified MPI program start the
// edaos runtime: edaos_init runs over MPI_COMM_WORLD right after MPI starts. The thread level
// depends on the transport ($EDAOS_TRANSPORT, objstore/src/runtime/README.md): the MPI
// transport's server thread calls MPI next to the application, so when RPCs may go over MPI
// (mpi, auto, unset) MPI is initialized with MPI_THREAD_MULTIPLE and the application is told
// the level the library really provides. With ucx, ofi or loopback the store makes no MPI call
// off the calling thread, so MPI is initialized with the level the application asked for.
// MPI_Finalize stops the servers before the MPI library goes away. EDAOS_AUTOSTART=0 turns the
// start-up off (the program may call edaos_init itself).
//
// Each wrapper is also defined under its profiling name (PMPI_Init, PMPI_Init_thread,
// PMPI_Finalize): a tool preloaded in front of edaos (Darshan) wraps MPI_Init and calls the
// next PMPI_Init, which must start the store too. The MPI library's own functions are called
// through EDAOS_REAL (mpi_real.hpp), never by name.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "edaos/objstore/objstore.h"
#include "mpi_real.hpp"

#define EDAOS_PMPI_API extern "C" __attribute__((visibility("default")))

// Defined (hidden) by libedaos_mpio, which compiles this file in: drops the driver's cached pool
// connections while the store still runs. Null in libedaos_init.
extern "C" __attribute__((weak)) void edaos_mpio_release_pools(void);
// Likewise defined (hidden) by libedaos_daos (the DAOS API): closes the pool, container and DFS
// handles the program left open.
extern "C" __attribute__((weak)) void edaos_daos_release_handles(void);

namespace {

bool autostart() {
  const char* v = std::getenv("EDAOS_AUTOSTART");
  return !(v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "no") == 0));
}

int start() {
  if (!autostart()) return MPI_SUCCESS;
  int rc = edaos_init(MPI_COMM_WORLD);
  if (rc != EDAOS_OK) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0)
      std::fprintf(stderr, "edaos: cannot start the object store: %s (%s)\n", edaos_os_last_error(),
                   edaos_status_name(rc));
    // The job continues: non-daos: files work, daos: files fail with a clear error.
  }
  return MPI_SUCCESS;
}

// The level to initialize MPI with when the application asks for `required`.
int thread_level(int required) {
  const char* t = std::getenv("EDAOS_TRANSPORT");
  if (t &&
      (std::strcmp(t, "ucx") == 0 || std::strcmp(t, "ofi") == 0 || std::strcmp(t, "loopback") == 0))
    return required;
  return MPI_THREAD_MULTIPLE;  // RPCs may run over MPI (auto falls back to it)
}

}  // namespace

EDAOS_PMPI_API int MPI_Init(int* argc, char*** argv) {
  int provided = 0;
  int rc = EDAOS_REAL(PMPI_Init_thread)(argc, argv, thread_level(MPI_THREAD_SINGLE), &provided);
  if (rc != MPI_SUCCESS) return rc;
  return start();
}

EDAOS_PMPI_API int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  int got = 0;
  int rc = EDAOS_REAL(PMPI_Init_thread)(argc, argv, thread_level(required), &got);
  if (rc != MPI_SUCCESS) return rc;
  // Report what the library really provides.
  if (provided) *provided = got;
  return start();
}

EDAOS_PMPI_API int MPI_Finalize(void) {
  if (edaos_initialized()) {
    if (edaos_mpio_release_pools) edaos_mpio_release_pools();
    if (edaos_daos_release_handles) edaos_daos_release_handles();
    edaos_finalize();
  }
  return EDAOS_REAL(PMPI_Finalize)();
}

EDAOS_PROFILING_ALIAS(MPI_Init)
EDAOS_PROFILING_ALIAS(MPI_Init_thread)
EDAOS_PROFILING_ALIAS(MPI_Finalize)

// libedaos_init: PMPI wrappers of MPI_Init, MPI_Init_thread and MPI_Finalize.
//
// Linked before libmpi (or put in LD_PRELOAD), they make an unmodified MPI program start the
// edaos runtime: MPI is always initialized with MPI_THREAD_MULTIPLE (the server progress thread
// needs it), the application is told the level it asked for if that is lower, and edaos_init
// runs over MPI_COMM_WORLD. MPI_Finalize stops the servers before the MPI library goes away.
// EDAOS_AUTOSTART=0 turns the start-up off (the program may call edaos_init itself).
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

}  // namespace

EDAOS_PMPI_API int MPI_Init(int* argc, char*** argv) {
  int provided = 0;
  int rc = EDAOS_REAL(PMPI_Init_thread)(argc, argv, MPI_THREAD_MULTIPLE, &provided);
  if (rc != MPI_SUCCESS) return rc;
  return start();
}

EDAOS_PMPI_API int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  int got = 0;
  int rc = EDAOS_REAL(PMPI_Init_thread)(argc, argv, MPI_THREAD_MULTIPLE, &got);
  if (rc != MPI_SUCCESS) return rc;
  // Report what the library really provides: it is at least what was asked for, since
  // MPI_THREAD_MULTIPLE is the highest level.
  (void)required;
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

/* edaos DAOS API: DAOS's client API (daos.h) implemented over edaos's object store.
 *
 * Programs written for DAOS's daos.h and daos_fs.h build unchanged against these headers and
 * run on edaos: pools, containers with properties, object classes, handle sharing between
 * processes, events, and the DFS namespace (daos_fs.h). Build flags:
 *     pkg-config --cflags --libs edaos-daos         (the -ldaos -ldfs equivalent)
 *     find_package(edaos COMPONENTS daos) -> edaos::daos
 * What is implemented and how it differs from DAOS: objstore/daos_api/README.md.
 *
 * Start-up. edaos's store runs inside the MPI job. Linking this library puts an MPI_Init /
 * MPI_Init_thread / MPI_Finalize wrapper in front of the MPI library's (link it before libmpi,
 * as mpicc and pkg-config do): MPI_Init starts the store on the server ranks
 * (EDAOS_SERVER_RANKS, default one per node) with MPI_THREAD_MULTIPLE, MPI_Finalize stops it.
 * daos_init() then only counts references. A program that does not use MPI calls daos_init()
 * (or dfs_init()) first: it initializes MPI as a one-process job and starts the store in it;
 * the last daos_fini() stops the store and MPI is finalized at exit. */
#ifndef EDAOS_DAOS_H
#define EDAOS_DAOS_H

#include <daos_array.h>
#include <daos_cont.h>
#include <daos_errno.h>
#include <daos_event.h>
#include <daos_obj.h>
#include <daos_pool.h>
#include <daos_prop.h>
#include <daos_types.h>
#include <daos_version.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Initializes the library; may be called several times (a reference count is kept). If MPI is
 *  not initialized, initializes it (MPI_THREAD_MULTIPLE) and starts the store over
 *  MPI_COMM_WORLD; if MPI is initialized but the store is not (EDAOS_AUTOSTART=0, or a
 *  program linked without the wrapper), starts it, which is collective: every rank must call
 *  daos_init. Returns 0, -DER_NOSYS (MPI without MPI_THREAD_MULTIPLE), -DER_MISC (the store did
 *  not start; the message is printed by rank 0). */
int daos_init(void);

/** Drops one reference. The last one closes every handle still open; if daos_init started the
 *  store, stops it (collective, like daos_init). -DER_UNINIT without daos_init, -DER_BUSY while
 *  event queues exist. */
int daos_fini(void);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_H */

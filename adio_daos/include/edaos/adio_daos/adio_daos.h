/* edaos MPI-IO driver: the C surface of libedaos_mpio.
 *
 * libedaos_mpio defines every MPI_File_* entry point of MPI-3.1 chapter 13 plus the MPI-4
 * large-count (_c) variants MPICH 4.0 declares, through the PMPI profiling interface. Link it
 * before libmpi (with -Wl,--no-as-needed: the program calls nothing of it by name) or put it in
 * LD_PRELOAD:
 *
 *     mpiexec -genv LD_PRELOAD /path/libedaos_mpio.so -genv DAOS_CONT mycont ./app daos:/out.h5
 *
 * Files whose name starts with "daos:" are served by edaos (see README.md for the name forms,
 * hints and semantics); every other file goes to the MPI library's own MPI-IO untouched, with
 * the MPI library's own handle. The library also carries libedaos_init's MPI_Init,
 * MPI_Init_thread and MPI_Finalize wrappers, so the object store starts with MPI.
 *
 * Nothing here is needed to use the driver; these calls are for tools and tests.
 */
#ifndef EDAOS_ADIO_DAOS_H
#define EDAOS_ADIO_DAOS_H

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDAOS_MPIO_API __attribute__((visibility("default")))

/** 1 if `fh` is a file handle served by edaos, 0 otherwise (MPI_FILE_NULL, pass-through
 *  files). Thread-safe, not collective. */
EDAOS_MPIO_API int edaos_mpio_is_daos_file(MPI_File fh);

/** 1 if `filename` would be served by edaos (it starts with "daos:"). */
EDAOS_MPIO_API int edaos_mpio_is_daos_name(const char* filename);

/** Counters of this process since start (all files). Collective calls count once per rank. */
typedef struct {
  uint64_t ms_indep_calls;   /* independent read/write calls on daos files */
  uint64_t ms_coll_calls;    /* collective read/write calls */
  uint64_t ms_coll_twophase; /* ... of which went through two-phase collective buffering */
  uint64_t ms_coll_rounds;   /* two-phase rounds this rank took part in */
  uint64_t ms_agg_io_calls;  /* store calls this rank made as an aggregator */
  uint64_t ms_agg_io_bytes;  /* bytes of those calls */
  uint64_t ms_sieved_reads;  /* independent reads served by data sieving */
} edaos_mpio_stats_t;

/** Copies the counters into *out. */
EDAOS_MPIO_API void edaos_mpio_get_stats(edaos_mpio_stats_t* out);

#ifdef __cplusplus
}
#endif

#endif /* EDAOS_ADIO_DAOS_H */

/* Downstream program: builds against an installed edaos, creates and queries a pool. */
#include <mpi.h>
#include <stdio.h>

#include "edaos/objstore/objstore.h"

int main(int argc, char **argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  if (argc < 2 || edaos_init(MPI_COMM_WORLD) != EDAOS_OK) return 1;
  edaos_os_pool_t *pool = NULL;
  edaos_os_pool_info_t info;
  int rc = edaos_os_pool_create(argv[1], "consumer", 3, 1, 0, MPI_COMM_WORLD);
  if (rc == EDAOS_OK) rc = edaos_os_pool_connect(argv[1], MPI_COMM_WORLD, &pool);
  if (rc == EDAOS_OK) rc = edaos_os_pool_query(pool, &info);
  if (rc == EDAOS_OK) rc = edaos_os_pool_disconnect(pool);
  if (rc != EDAOS_OK)
    fprintf(stderr, "consumer: %s: %s\n", edaos_status_name(rc), edaos_os_last_error());
  else
    printf("consumer: pool %s with %u engines\n", info.pi_uuid, info.pi_engines);
  edaos_finalize();
  MPI_Finalize();
  return rc == EDAOS_OK ? 0 : 1;
}

/* Downstream program of the DAOS client API: builds against an installed edaos with
 * find_package(edaos COMPONENTS daos) or `pkg-config edaos-daos`, like any DAOS program:
 * connects a pool by path, creates a POSIX container, writes and reads back a file. */
#include <daos.h>
#include <daos_fs.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  char out[4096], in[4096];
  daos_handle_t poh, coh;
  daos_pool_info_t info = {0};
  dfs_t *dfs = NULL;
  dfs_obj_t *obj = NULL;
  d_iov_t iov;
  d_sg_list_t sgl = {1, 0, &iov};
  daos_size_t got = 0;
  char label[128];
  int rc, rank = 0;

  MPI_Init(&argc, &argv); /* libedaos_daos's wrapper starts the store */
  if (argc < 3) return 2;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  snprintf(label, sizeof(label), "%s-%d", argv[2], rank); /* one container per rank */
  for (size_t i = 0; i < sizeof(out); i++) out[i] = (char)(i * 13 + 5);
  rc = daos_init();
  if (!rc) rc = daos_pool_connect(argv[1], NULL, DAOS_PC_RW, &poh, &info, NULL);
  if (rc) {
    fprintf(stderr, "daos consumer: %s\n", d_errstr(rc));
    return 1;
  }
  rc = dfs_cont_create_with_label(poh, label, NULL, NULL, &coh, &dfs);
  if (!rc) rc = dfs_open(dfs, NULL, "file", S_IFREG | 0644, O_CREAT | O_RDWR, OC_SX, 0, NULL, &obj);
  d_iov_set(&iov, out, sizeof(out));
  if (!rc) rc = dfs_write(dfs, obj, &sgl, 100, NULL);
  d_iov_set(&iov, in, sizeof(in));
  if (!rc) rc = dfs_read(dfs, obj, &sgl, 100, &got, NULL);
  if (!rc && (got != sizeof(in) || memcmp(in, out, sizeof(in)) != 0)) rc = EIO;
  if (obj) dfs_release(obj);
  if (dfs) dfs_umount(dfs);
  if (!rc) rc = daos_cont_close(coh, NULL);
  if (!rc) rc = daos_cont_destroy(poh, label, 0, NULL);
  daos_pool_disconnect(poh, NULL);
  daos_fini();
  if (rc)
    fprintf(stderr, "daos consumer: failed (%d)\n", rc);
  else
    printf("daos consumer: pool of %u engines, %llu bytes written and read back\n", info.pi_nnodes,
           (unsigned long long)got);
  MPI_Finalize();
  return rc ? 1 : 0;
}

/* A program that does not use MPI: daos_init() makes it a one-process MPI job hosting every
 * engine of the pools it connects, the last daos_fini() stops the store (MPI is finalized at
 * exit). Runs two init/fini cycles: create a POSIX container and write a file, then mount it
 * read-only and check the bytes.   nompi_example <pool path> <container label> */
#include <daos.h>
#include <daos_fs.h>
#include <stdio.h>
#include <string.h>

static char buf[300000];

static int cycle(const char *pool, const char *cont, int create) {
  daos_handle_t poh, coh;
  dfs_t *dfs = NULL;
  dfs_obj_t *obj = NULL;
  d_iov_t iov;
  d_sg_list_t sgl = {1, 0, &iov};
  daos_size_t got = 0;
  int rc = daos_init();
  if (rc) return rc;
  rc = daos_pool_connect(pool, NULL, create ? DAOS_PC_RW : DAOS_PC_RO, &poh, NULL, NULL);
  if (rc) return rc;
  if (create) {
    rc = dfs_cont_create_with_label(poh, cont, NULL, NULL, &coh, &dfs);
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (char)(i % 251 + 1);
    d_iov_set(&iov, buf, sizeof(buf));
    if (!rc)
      rc = dfs_open(dfs, NULL, "data", S_IFREG | 0644, O_CREAT | O_EXCL | O_RDWR, 0, 0, NULL, &obj);
    if (!rc) rc = dfs_write(dfs, obj, &sgl, 0, NULL);
  } else {
    rc = daos_cont_open(poh, cont, DAOS_COO_RO, &coh, NULL, NULL);
    if (!rc) rc = dfs_mount(poh, coh, O_RDONLY, &dfs);
    memset(buf, 0, sizeof(buf));
    d_iov_set(&iov, buf, sizeof(buf));
    if (!rc) rc = dfs_open(dfs, NULL, "data", S_IFREG, O_RDONLY, 0, 0, NULL, &obj);
    if (!rc) rc = dfs_read(dfs, obj, &sgl, 0, &got, NULL);
    if (!rc && got != sizeof(buf)) rc = EIO;
    for (size_t i = 0; !rc && i < sizeof(buf); i++)
      if (buf[i] != (char)(i % 251 + 1)) rc = EIO;
  }
  if (obj) dfs_release(obj);
  if (dfs) dfs_umount(dfs);
  daos_cont_close(coh, NULL);
  daos_pool_disconnect(poh, NULL);
  const int rc2 = daos_fini();
  return rc ? rc : rc2;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  for (int c = 0; c < 2; c++) {
    const int rc = cycle(argv[1], argv[2], c == 0);
    if (rc) {
      fprintf(stderr, "nompi_example: cycle %d failed: %d\n", c, rc);
      return 1;
    }
  }
  printf("nompi_example: wrote and read back %zu bytes without MPI\n", sizeof(buf));
  return 0;
}

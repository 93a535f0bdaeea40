/* Checks what guide_dfs_example.c wrote: guide_check <pool> <cont> <nranks>. The file must be
 * nranks MiB long and block r must hold rank r's pattern. Uses the DAOS API read-only. */
#include <daos.h>
#include <daos_fs.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK (1 << 20)

int main(int argc, char **argv) {
  static char buf[BLOCK];
  dfs_t *dfs = NULL;
  dfs_obj_t *obj = NULL;
  mode_t mode = 0;
  daos_size_t size = 0, got = 0;
  d_iov_t iov;
  d_sg_list_t sgl = {1, 0, &iov};
  int rc, bad = 0;
  MPI_Init(&argc, &argv);
  if (argc != 4) {
    fprintf(stderr, "usage: guide_check <pool> <cont> <nranks>\n");
    return 2;
  }
  const int n = atoi(argv[3]);
  if ((rc = dfs_init()) != 0 || (rc = dfs_connect(argv[1], NULL, argv[2], O_RDONLY, NULL, &dfs)) ||
      (rc = dfs_lookup_rel(dfs, NULL, "guide_example.dat", O_RDONLY, &obj, &mode, NULL)) ||
      (rc = dfs_get_size(dfs, obj, &size))) {
    fprintf(stderr, "guide_check: %s\n", strerror(rc));
    return 1;
  }
  if (!S_ISREG(mode) || size != (daos_size_t)n * BLOCK) {
    fprintf(stderr, "guide_check: size %llu, expected %d x %d\n", (unsigned long long)size, n,
            BLOCK);
    return 1;
  }
  for (int r = 0; r < n; r++) {
    d_iov_set(&iov, buf, sizeof(buf));
    rc = dfs_read(dfs, obj, &sgl, (daos_off_t)r * BLOCK, &got, NULL);
    if (rc != 0 || got != BLOCK) {
      fprintf(stderr, "guide_check: read of block %d: %s, %llu bytes\n", r, strerror(rc),
              (unsigned long long)got);
      return 1;
    }
    for (size_t i = 0; i < sizeof(buf); i++)
      if (buf[i] != (char)(r * 31 + i * 7 + 1)) {
        fprintf(stderr, "guide_check: block %d byte %zu differs\n", r, i);
        bad = 1;
        break;
      }
  }
  if ((rc = dfs_release(obj)) || (rc = dfs_disconnect(dfs)) || (rc = dfs_fini())) {
    fprintf(stderr, "guide_check: release: %s\n", strerror(rc));
    return 1;
  }
  if (!bad) printf("guide_check: %d blocks of %d bytes verified\n", n, BLOCK);
  MPI_Finalize();
  return bad;
}

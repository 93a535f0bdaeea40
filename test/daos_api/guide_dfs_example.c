/* The DFS example of the Aurora DAOS guide ("DFS Container Access"), as the guide prints it.
 * The guide leaves out the declarations of ret, rank, filename, obj, obj_class, chunk_size,
 * sgl, off and read; they are filled in the obvious way between the marked lines (a shared
 * file, each rank writing its own 1 MiB block of a rank-dependent byte pattern). Everything
 * else is the guide's text, kept verbatim (hence no clang-format). dfs_read runs on the handle
 * opened O_WRONLY, as printed, so it fails with EPERM as it does on DAOS; guide_check.c
 * verifies what the program wrote. */
/* clang-format off */
#include <stdio.h>
#include <stdlib.h>
#include <mpi.h>
#include <daos.h>
#include <daos_fs.h>
int main(int argc, char **argv)
{
    dfs_t *dfs;
    d_iov_t global;
    /* --- declarations the guide leaves out ------------------------------------------ */
    int ret, rank;
    const char *filename = "guide_example.dat";
    dfs_obj_t *obj;
    daos_oclass_id_t obj_class = OC_SX;
    daos_size_t chunk_size = 1048576;
    static char buf[1 << 20];
    d_iov_t iov;
    d_sg_list_t sgl = {.sg_nr = 1, .sg_nr_out = 0, .sg_iovs = &iov};
    daos_off_t off;
    daos_size_t read;
    (void)global;
    /* --------------------------------------------------------------------------------- */
    ret = MPI_Init(&argc, &argv);
    ret = MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* --- this rank's bytes and offset ----------------------------------------------- */
    for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (char)(rank * 31 + i * 7 + 1);
    d_iov_set(&iov, buf, sizeof(buf));
    off = (daos_off_t)rank * sizeof(buf);
    /* --------------------------------------------------------------------------------- */
    ret = dfs_init();
    ret = dfs_connect(getenv("DAOS_POOL"), NULL, getenv("DAOS_CONT"), O_RDWR, NULL, &dfs);
    ret = dfs_open(dfs, NULL, filename, S_IFREG|S_IRUSR|S_IWUSR,  O_CREAT|O_WRONLY,  obj_class, chunk_size, NULL, &obj);
    ret = dfs_write(dfs, obj, &sgl, off, NULL);
    ret = dfs_read(dfs, obj, &sgl, off, &read, NULL);
    ret = dfs_disconnect(dfs);
    ret = daos_fini();
    ret = MPI_Finalize();
}

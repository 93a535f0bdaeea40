/* An unmodified-style MPI program in C: it calls plain MPI_Init, and libedaos_init (linked
 * before libmpi) starts the object store. Exercises the C API end to end and checks every
 * result; exit status 0 on success on every rank. Usage: capi_example [pool dir]; without an
 * argument the pool goes into a fresh temporary directory that is removed at the end. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edaos/objstore/objstore.h"

#define CHECK(call)                                                                               \
  do {                                                                                            \
    int rc_ = (call);                                                                             \
    if (rc_ != EDAOS_OK) {                                                                        \
      fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, edaos_status_name(rc_), \
              edaos_os_last_error());                                                             \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                               \
    }                                                                                             \
  } while (0)

#define EXPECT_RC(call, want)                                                           \
  do {                                                                                  \
    int rc_ = (call);                                                                   \
    if (rc_ != (want)) {                                                                \
      fprintf(stderr, "%s:%d: %s -> %s, expected %s (%s)\n", __FILE__, __LINE__, #call, \
              edaos_status_name(rc_), edaos_status_name(want), edaos_os_last_error());  \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                     \
    }                                                                                   \
  } while (0)

static int remove_entry(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb;
  (void)flag;
  (void)f;
  return remove(p);
}

int main(int argc, char **argv) {
  /* EDAOS_TEST_INIT_THREAD=single: start with MPI_Init_thread(MPI_THREAD_SINGLE) instead of
   * MPI_Init. EDAOS_TEST_EXPECT_THREAD=single: the wrapper must keep that level (a transport
   * other than MPI); else it must give MPI_THREAD_MULTIPLE (the MPI transport needs it). */
  const char *init = getenv("EDAOS_TEST_INIT_THREAD");
  const char *expect = getenv("EDAOS_TEST_EXPECT_THREAD");
  int rank = 0, size = 1, provided = 0;
  if (init && strcmp(init, "single") == 0)
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SINGLE, &provided);
  else
    MPI_Init(&argc, &argv);
  const int want =
      expect && strcmp(expect, "single") == 0 ? MPI_THREAD_SINGLE : MPI_THREAD_MULTIPLE;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Query_thread(&provided);
  if (!edaos_initialized() || provided != want) {
    fprintf(stderr, "MPI_Init wrapper did not start edaos (initialized=%d, thread level %d)\n",
            edaos_initialized(), provided);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  char tmp[1024] = "", path[1100] = "";
  if (argc >= 2) {
    snprintf(path, sizeof path, "%s", argv[1]);
  } else {
    if (rank == 0) {
      const char *base = getenv("TMPDIR");
      snprintf(tmp, sizeof tmp, "%s/edaos-capi-XXXXXX", base && *base ? base : "/tmp");
      if (!mkdtemp(tmp)) MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "%s/pool", tmp);
  }
  CHECK(edaos_os_pool_create(path, "capi", 4, 2, 0, MPI_COMM_WORLD));
  EXPECT_RC(edaos_os_pool_create(path, "capi", 4, 2, 0, MPI_COMM_WORLD), EDAOS_EXIST);

  edaos_os_pool_t *pool = NULL;
  CHECK(edaos_os_pool_connect(path, MPI_COMM_WORLD, &pool));
  edaos_os_pool_info_t info;
  CHECK(edaos_os_pool_query(pool, &info));
  if (info.pi_engines != 4 || info.pi_targets != 8 || strlen(info.pi_uuid) != 36) {
    fprintf(stderr, "pool query: %u engines, %u targets, uuid '%s'\n", info.pi_engines,
            info.pi_targets, info.pi_uuid);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  edaos_os_cont_t *cont = NULL;
  if (rank == 0) {
    EXPECT_RC(edaos_os_cont_create(pool, "c", "rd_fac:7", &cont), EDAOS_INVAL);
    if (!strstr(edaos_os_last_error(), "rd_fac")) {
      fprintf(stderr, "bad-property message does not name the key: %s\n", edaos_os_last_error());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    CHECK(edaos_os_cont_create(pool, "c", "rd_fac:1,ec_cell_sz:4096,cksum:crc64,srv_cksum:on",
                               &cont));
    CHECK(edaos_os_cont_close(cont));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  CHECK(edaos_os_cont_open(pool, "c", &cont));
  char val[64];
  size_t vlen = sizeof val;
  CHECK(edaos_os_cont_get_prop(cont, "cksum", val, &vlen));
  if (strcmp(val, "crc64") != 0) {
    fprintf(stderr, "cksum property '%s'\n", val);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  size_t qlen = 0; /* NULL buffer: size query */
  CHECK(edaos_os_cont_get_prop(cont, "cksum", NULL, &qlen));
  size_t slen = 3; /* "crc64" + NUL needs 6 */
  EXPECT_RC(edaos_os_cont_get_prop(cont, "cksum", val, &slen), EDAOS_TOOBIG);
  if (qlen != 6 || slen != 6 || !strstr(edaos_os_last_error(), "needs 6 bytes, the buffer has 3")) {
    fprintf(stderr, "get_prop sizes %zu/%zu, message: %s\n", qlen, slen, edaos_os_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  EXPECT_RC(edaos_os_oid_alloc(cont, "EC_4P2G1", EDAOS_OTYPE_ARRAY, &(edaos_oid_t){0, 0}),
            EDAOS_NOENGINE);
  if (!strstr(edaos_os_last_error(), "6") || !strstr(edaos_os_last_error(), "4")) {
    fprintf(stderr, "message does not name both numbers: %s\n", edaos_os_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

  /* Rank 0 allocates an EC_2P1 array; every rank writes its slice through two iovecs. */
  edaos_oid_t oid = {0, 0};
  if (rank == 0) CHECK(edaos_os_oid_alloc(cont, "EC_2P1G1", EDAOS_OTYPE_ARRAY, &oid));
  MPI_Bcast(&oid, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  edaos_os_array_t *arr = NULL;
  CHECK(edaos_os_array_open(cont, oid, 0, &arr));
  enum { kSlice = 30001 };
  unsigned char *buf = malloc(kSlice), *back = malloc((size_t)kSlice * (size_t)size);
  for (int i = 0; i < kSlice; ++i) buf[i] = (unsigned char)(rank * 31 + i * 7 + 1);
  edaos_iov_t iov[2] = {{buf, 1000}, {buf + 1000, kSlice - 1000}};
  CHECK(edaos_os_array_write(arr, (uint64_t)rank * kSlice, iov, 2));
  MPI_Barrier(MPI_COMM_WORLD);
  uint64_t got = 0;
  CHECK(edaos_os_array_get_size(arr, &got));
  if (got != (uint64_t)kSlice * (uint64_t)size) MPI_Abort(MPI_COMM_WORLD, 1);
  edaos_iov_t all = {back, (size_t)kSlice * (size_t)size};
  CHECK(edaos_os_array_read(arr, 0, &all, 1));
  for (int r = 0; r < size; ++r)
    for (int i = 0; i < kSlice; ++i)
      if (back[(size_t)r * kSlice + (size_t)i] != (unsigned char)(r * 31 + i * 7 + 1)) {
        fprintf(stderr, "rank %d: byte %d of slice %d differs\n", rank, i, r);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
  CHECK(edaos_os_array_close(arr));

  /* KV: exclusive insert has one winner; get with a short buffer says how much is needed. */
  edaos_oid_t kvid = {0, 0};
  if (rank == 0) CHECK(edaos_os_oid_alloc(cont, NULL, EDAOS_OTYPE_FLAT_KV, &kvid));
  MPI_Bcast(&kvid, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  edaos_os_kv_t *kv = NULL;
  CHECK(edaos_os_kv_open(cont, kvid, &kv));
  int rc = edaos_os_kv_put(kv, "once", "winner", 6, 1);
  int won = rc == EDAOS_OK, total = 0;
  if (rc != EDAOS_OK && rc != EDAOS_EXIST) {
    fprintf(stderr, "kv put: %s: %s\n", edaos_status_name(rc), edaos_os_last_error());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Allreduce(&won, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (total != 1) MPI_Abort(MPI_COMM_WORLD, 1);
  char small[3];
  size_t len = sizeof small;
  EXPECT_RC(edaos_os_kv_get(kv, "once", small, &len), EDAOS_TOOBIG);
  if (len != 6) MPI_Abort(MPI_COMM_WORLD, 1);
  EXPECT_RC(edaos_os_kv_get(kv, "missing", small, &len), EDAOS_NONEXIST);
  CHECK(edaos_os_kv_close(kv));
  CHECK(edaos_os_cont_sync(cont));
  CHECK(edaos_os_cont_close(cont));
  CHECK(edaos_os_pool_disconnect(pool));
  free(buf);
  free(back);
  if (rank == 0) printf("C API example: %d ranks, all checks passed\n", size);
  MPI_Finalize();
  if (rank == 0 && tmp[0]) nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

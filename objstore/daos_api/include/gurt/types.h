/* edaos DAOS API: the gurt base types DAOS programs use (I/O vectors, scatter-gather lists,
 * ranks, strings). Shapes and field names are DAOS's (gurt/types.h), so code written for DAOS
 * compiles unchanged; the definitions are edaos's own. */
#ifndef EDAOS_DAOS_GURT_TYPES_H
#define EDAOS_DAOS_GURT_TYPES_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* uuid_t: libuuid's type when its header is there (DAOS programs often call uuid_unparse),
 * else the same 16-byte array. */
#if defined(__has_include)
#if __has_include(<uuid/uuid.h>)
#include <uuid/uuid.h>
#define EDAOS_DAOS_HAVE_UUID_H 1
#endif
#endif
#ifndef EDAOS_DAOS_HAVE_UUID_H
typedef unsigned char uuid_t[16];
#endif

#if defined(__cplusplus)
extern "C" {
#endif

/** A piece of caller memory: iov_buf_len bytes allocated, of which iov_len are meaningful. */
typedef struct {
  void *iov_buf;
  size_t iov_buf_len;
  size_t iov_len;
} d_iov_t;

/** Rank of an engine (edaos: an engine index of the pool). */
typedef uint32_t d_rank_t;

typedef struct {
  d_rank_t *rl_ranks;
  uint32_t rl_nr;
} d_rank_list_t;

typedef char *d_string_t;
typedef const char *d_const_string_t;

/** Scatter-gather list: sg_nr vectors in sg_iovs; sg_nr_out is set by some calls. */
typedef struct {
  uint32_t sg_nr;
  uint32_t sg_nr_out;
  d_iov_t *sg_iovs;
} d_sg_list_t;

/** A list of `size` zeroed ranks (NULL when out of memory); free with d_rank_list_free. */
d_rank_list_t *d_rank_list_alloc(uint32_t size);
void d_rank_list_free(d_rank_list_t *rank_list);

/** Points `iov` at `size` bytes at `buf` (both lengths set to size). */
static inline void d_iov_set(d_iov_t *iov, void *buf, size_t size) {
  iov->iov_buf = buf;
  iov->iov_buf_len = size;
  iov->iov_len = size;
}

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_GURT_TYPES_H */

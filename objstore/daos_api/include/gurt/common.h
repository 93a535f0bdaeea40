/* edaos DAOS API: the gurt helpers DAOS programs commonly use next to daos.h: allocation
 * macros, container_of, scatter-gather list set-up, hashes, error printing. The names are
 * gurt's; the definitions are edaos's (plain malloc/free underneath, no fault injection, no
 * debug log: D_ERROR prints to stderr, D_DEBUG and D_INFO print nothing). */
#ifndef EDAOS_DAOS_GURT_COMMON_H
#define EDAOS_DAOS_GURT_COMMON_H

#include <assert.h>
#include <daos_errno.h>
#include <gurt/list.h>
#include <gurt/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

#ifndef container_of
/** The structure of type `type` whose member `member` is at `ptr`. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/** Zeroed allocation into `ptr` (NULL on failure). */
#define D_ALLOC(ptr, size) ((ptr) = (__typeof__(ptr))calloc(1, (size)))
#define D_ALLOC_PTR(ptr) D_ALLOC(ptr, sizeof(*(ptr)))
#define D_ALLOC_ARRAY(ptr, count) ((ptr) = (__typeof__(ptr))calloc((count), sizeof(*(ptr))))
#define D_ALLOC_NZ(ptr, size) ((ptr) = (__typeof__(ptr))malloc(size))
/** Frees `ptr` and sets it to NULL. */
#define D_FREE(ptr) \
  do {              \
    free(ptr);      \
    (ptr) = NULL;   \
  } while (0)
#define D_STRNDUP(ptr, s, n) ((ptr) = strndup((s), (n)))
#define D_STRNDUP_S(ptr, s) ((ptr) = strndup((s), sizeof(s)))
#define D_REALLOC(newptr, oldptr, oldsize, newsize) \
  ((newptr) = (__typeof__(newptr))realloc((oldptr), (newsize)))

#define D_GOTO(label, rc) \
  do {                    \
    (void)(rc);           \
    goto label;           \
  } while (0)

#define D_ERROR(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#define D_WARN(fmt, ...) fprintf(stderr, fmt, ##__VA_ARGS__)
#define D_INFO(fmt, ...) \
  do {                   \
  } while (0)
#define D_DEBUG(mask, fmt, ...) \
  do {                          \
  } while (0)
#define D_ASSERT(e) assert(e)
#define D_ASSERTF(e, fmt, ...) assert(e)

/** Sets up `sgl` with `nr` zeroed vectors. 0 or -DER_NOMEM. */
static inline int d_sgl_init(d_sg_list_t *sgl, unsigned int nr) {
  sgl->sg_nr_out = 0;
  sgl->sg_nr = nr;
  sgl->sg_iovs = NULL;
  if (nr == 0) return 0;
  sgl->sg_iovs = (d_iov_t *)calloc(nr, sizeof(d_iov_t));
  return sgl->sg_iovs == NULL ? -DER_NOMEM : 0;
}

/** Frees the vector array (and with free_iovs, every vector's buffer). */
static inline void d_sgl_fini(d_sg_list_t *sgl, bool free_iovs) {
  if (sgl->sg_iovs == NULL) return;
  if (free_iovs)
    for (uint32_t i = 0; i < sgl->sg_nr; i++) free(sgl->sg_iovs[i].iov_buf);
  free(sgl->sg_iovs);
  sgl->sg_iovs = NULL;
  sgl->sg_nr = sgl->sg_nr_out = 0;
}

/** Total iov_len of the list's vectors. */
static inline size_t d_sgl_buf_size(d_sg_list_t *sgl) {
  size_t n = 0;
  for (uint32_t i = 0; i < sgl->sg_nr; i++) n += sgl->sg_iovs[i].iov_len;
  return n;
}

/** 64-bit MurmurHash2 (MurmurHash64A) of `key_len` bytes with `seed`. */
uint64_t d_hash_murmur64(const unsigned char *key, unsigned int key_len, unsigned int seed);
/** 32-bit hash of `len` bytes of a string (FNV-1a). */
uint32_t d_hash_string_u32(const char *string, unsigned int len);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_GURT_COMMON_H */

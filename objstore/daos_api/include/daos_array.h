/* edaos DAOS API: the byte-range type of DAOS's array API, which dfs_readx/dfs_writex take.
 * DAOS's array object API itself (daos_array_open, ...) is not provided. */
#ifndef EDAOS_DAOS_ARRAY_H
#define EDAOS_DAOS_ARRAY_H

#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** `rg_len` bytes starting at byte `rg_idx` of a file. */
typedef struct {
  daos_off_t rg_idx;
  daos_size_t rg_len;
} daos_range_t;

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_ARRAY_H */

/* edaos DAOS API: gurt's generic hash table (d_hash_table), which DAOS programs (IOR's DFS
 * backend among them) use to cache open handles. Records are caller structures with an
 * embedded d_list_t link; the table calls the caller's operations to compare keys and manage
 * reference counts.
 *
 * Semantics (gurt's):
 *  - hop_key_cmp is required. hop_key_hash is optional (default: d_hash_string_u32 of the key
 *    bytes). hop_rec_hash is accepted and not needed.
 *  - Without D_HASH_FT_EPHEMERAL the table holds a reference on every record it contains:
 *    insert calls hop_rec_addref, delete calls hop_rec_decref and, when that returns true,
 *    hop_rec_free.
 *  - With D_HASH_FT_EPHEMERAL the table holds none: d_hash_rec_decref whose hop_rec_decref
 *    returns true unlinks the record and frees it.
 *  - Lookups (d_hash_rec_find, d_hash_rec_first, d_hash_rec_find_insert when it finds) call
 *    hop_rec_addref on the record they return; release it with d_hash_rec_decref.
 *  - Every table is protected by a mutex unless D_HASH_FT_NOLOCK is set (then the caller
 *    serializes). D_HASH_FT_LRU moves a found record to the front of its bucket. */
#ifndef EDAOS_DAOS_GURT_HASH_H
#define EDAOS_DAOS_GURT_HASH_H

#include <gurt/list.h>
#include <gurt/types.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

struct d_hash_table;

typedef struct {
  bool (*hop_key_cmp)(struct d_hash_table *htable, d_list_t *link, const void *key,
                      unsigned int ksize);
  void (*hop_key_init)(struct d_hash_table *htable, d_list_t *link, void *arg);
  uint32_t (*hop_key_hash)(struct d_hash_table *htable, const void *key, unsigned int ksize);
  uint32_t (*hop_rec_hash)(struct d_hash_table *htable, d_list_t *link);
  void (*hop_rec_addref)(struct d_hash_table *htable, d_list_t *link);
  bool (*hop_rec_decref)(struct d_hash_table *htable, d_list_t *link);
  int (*hop_rec_ndecref)(struct d_hash_table *htable, d_list_t *link, int count);
  void (*hop_rec_free)(struct d_hash_table *htable, d_list_t *link);
} d_hash_table_ops_t;

enum d_hash_feats {
  D_HASH_FT_NOLOCK = (1 << 0),
  D_HASH_FT_MUTEX = (1 << 1),
  D_HASH_FT_RWLOCK = (1 << 2),
  D_HASH_FT_EPHEMERAL = (1 << 3),
  D_HASH_FT_LRU = (1 << 4),
  D_HASH_FT_NO_KEYINIT_LOCK = (1 << 5),
  D_HASH_FT_GLOCK = (1 << 15),
};

struct d_hash_bucket {
  d_list_t hb_head;
};

struct d_hash_table {
  pthread_mutex_t ht_lock;
  uint32_t ht_bits;
  uint32_t ht_feats;
  void *ht_priv;
  d_hash_table_ops_t *ht_ops;
  struct d_hash_bucket *ht_buckets;
};

/** Creates a table of 2^bits buckets (bits <= 24). 0, -DER_INVAL (no ops or no hop_key_cmp, bits
 *  too large), -DER_NOMEM. */
int d_hash_table_create(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
                        struct d_hash_table **htable_pp);
int d_hash_table_create_inplace(uint32_t feats, uint32_t bits, void *priv, d_hash_table_ops_t *hops,
                                struct d_hash_table *htable);
/** Destroys a table. Not empty: -DER_BUSY unless force (then every record is deleted). */
int d_hash_table_destroy(struct d_hash_table *htable, bool force);
int d_hash_table_destroy_inplace(struct d_hash_table *htable, bool force);

typedef int (*d_hash_traverse_cb_t)(d_list_t *link, void *arg);
/** Calls cb on every record until it returns non-zero (that value is returned). */
int d_hash_table_traverse(struct d_hash_table *htable, d_hash_traverse_cb_t cb, void *arg);

/** The record with `key`, with a reference taken (hop_rec_addref), or NULL. */
d_list_t *d_hash_rec_find(struct d_hash_table *htable, const void *key, unsigned int ksize);
/** The record with `key` if there is one (with a reference for the caller), else inserts
 *  `link` as d_hash_rec_insert does and returns it. */
d_list_t *d_hash_rec_find_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
                                 d_list_t *link);
/** Inserts `link` under `key`. exclusive: -DER_EXIST if the key is present. */
int d_hash_rec_insert(struct d_hash_table *htable, const void *key, unsigned int ksize,
                      d_list_t *link, bool exclusive);
/** Deletes the record with `key` (true) or reports it absent (false). */
bool d_hash_rec_delete(struct d_hash_table *htable, const void *key, unsigned int ksize);
/** Deletes record `link` (true if it was in the table). */
bool d_hash_rec_delete_at(struct d_hash_table *htable, d_list_t *link);
void d_hash_rec_addref(struct d_hash_table *htable, d_list_t *link);
/** Drops a reference; frees the record when hop_rec_decref says it was the last (EPHEMERAL
 *  tables also unlink it then). */
void d_hash_rec_decref(struct d_hash_table *htable, d_list_t *link);
/** True when `link` is in no table (deleted, or never inserted after D_INIT_LIST_HEAD). */
bool d_hash_rec_unlinked(d_list_t *link);
/** A record of the table (referenced), or NULL when it is empty. */
d_list_t *d_hash_rec_first(struct d_hash_table *htable);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_GURT_HASH_H */

// gurt helpers: the generic hash table (gurt/hash.h) and the hash functions (gurt/common.h).
#include <gurt/common.h>
#include <gurt/hash.h>

#include <cstdlib>
#include <cstring>

namespace {

// Locks the table unless it was created with D_HASH_FT_NOLOCK.
class TableLock {
 public:
  explicit TableLock(d_hash_table* t) : t_((t->ht_feats & D_HASH_FT_NOLOCK) ? nullptr : t) {
    if (t_) pthread_mutex_lock(&t_->ht_lock);
  }
  ~TableLock() {
    if (t_) pthread_mutex_unlock(&t_->ht_lock);
  }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  d_hash_table* t_;
};

uint32_t bucket_of(d_hash_table* t, const void* key, unsigned int ksize) {
  const uint32_t h = t->ht_ops->hop_key_hash
                         ? t->ht_ops->hop_key_hash(t, key, ksize)
                         : d_hash_string_u32(static_cast<const char*>(key), ksize);
  return h & ((1u << t->ht_bits) - 1);
}

bool ephemeral(const d_hash_table* t) { return (t->ht_feats & D_HASH_FT_EPHEMERAL) != 0; }

void addref(d_hash_table* t, d_list_t* link) {
  if (t->ht_ops->hop_rec_addref) t->ht_ops->hop_rec_addref(t, link);
}

// hop_rec_decref; true when the record must be freed.
bool decref(d_hash_table* t, d_list_t* link) {
  return t->ht_ops->hop_rec_decref ? t->ht_ops->hop_rec_decref(t, link) : false;
}

void free_rec(d_hash_table* t, d_list_t* link) {
  if (t->ht_ops->hop_rec_free) t->ht_ops->hop_rec_free(t, link);
}

d_list_t* find_locked(d_hash_table* t, const void* key, unsigned int ksize) {
  d_list_t* head = &t->ht_buckets[bucket_of(t, key, ksize)].hb_head;
  for (d_list_t* l = head->next; l != head; l = l->next) {
    if (!t->ht_ops->hop_key_cmp(t, l, key, ksize)) continue;
    if ((t->ht_feats & D_HASH_FT_LRU) && head->next != l) {
      d_list_del(l);
      d_list_add(l, head);
    }
    return l;
  }
  return nullptr;
}

// Unlinks a record the table holds; the table's reference goes (non-ephemeral tables).
void delete_locked(d_hash_table* t, d_list_t* link, bool* free_it) {
  d_list_del_init(link);
  *free_it = !ephemeral(t) && decref(t, link);
}

}  // namespace

extern "C" {

uint64_t d_hash_murmur64(const unsigned char* key, unsigned int key_len, unsigned int seed) {
  // MurmurHash64A (Austin Appleby, public domain), little-endian reads.
  const uint64_t m = 0xc6a4a7935bd1e995ull;
  const int r = 47;
  uint64_t h = seed ^ (key_len * m);
  const unsigned char* p = key;
  const unsigned char* end = key + (key_len / 8) * 8;
  for (; p != end; p += 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const unsigned rest = key_len & 7;
  for (unsigned i = rest; i > 0; --i) h ^= uint64_t{p[i - 1]} << (8 * (i - 1));
  if (rest) h *= m;
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

uint32_t d_hash_string_u32(const char* string, unsigned int len) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned int i = 0; i < len && string[i] != '\0'; ++i)
    h = (h ^ static_cast<unsigned char>(string[i])) * 16777619u;
  return h;
}

int d_hash_table_create_inplace(uint32_t feats, uint32_t bits, void* priv, d_hash_table_ops_t* hops,
                                struct d_hash_table* htable) {
  if (htable == nullptr || hops == nullptr || hops->hop_key_cmp == nullptr || bits > 24)
    return -DER_INVAL;
  std::memset(htable, 0, sizeof *htable);
  const size_t n = size_t{1} << bits;
  htable->ht_buckets = static_cast<d_hash_bucket*>(std::calloc(n, sizeof(d_hash_bucket)));
  if (htable->ht_buckets == nullptr) return -DER_NOMEM;
  for (size_t i = 0; i < n; ++i) D_INIT_LIST_HEAD(&htable->ht_buckets[i].hb_head);
  pthread_mutex_init(&htable->ht_lock, nullptr);
  htable->ht_bits = bits;
  htable->ht_feats = feats;
  htable->ht_priv = priv;
  htable->ht_ops = hops;
  return 0;
}

int d_hash_table_create(uint32_t feats, uint32_t bits, void* priv, d_hash_table_ops_t* hops,
                        struct d_hash_table** htable_pp) {
  if (htable_pp == nullptr) return -DER_INVAL;
  auto* t = static_cast<d_hash_table*>(std::calloc(1, sizeof(d_hash_table)));
  if (t == nullptr) return -DER_NOMEM;
  const int rc = d_hash_table_create_inplace(feats, bits, priv, hops, t);
  if (rc) {
    std::free(t);
    return rc;
  }
  *htable_pp = t;
  return 0;
}

int d_hash_table_destroy_inplace(struct d_hash_table* htable, bool force) {
  if (htable == nullptr || htable->ht_buckets == nullptr) return -DER_INVAL;
  const size_t n = size_t{1} << htable->ht_bits;
  for (size_t i = 0; i < n; ++i) {
    d_list_t* head = &htable->ht_buckets[i].hb_head;
    if (d_list_empty(head)) continue;
    if (!force) return -DER_BUSY;
    while (!d_list_empty(head)) {
      d_list_t* l = head->next;
      bool free_it = false;
      delete_locked(htable, l, &free_it);
      // An ephemeral table holds no reference: the record goes as d_hash_rec_decref drops it.
      if (ephemeral(htable)) free_it = decref(htable, l);
      if (free_it) free_rec(htable, l);
    }
  }
  std::free(htable->ht_buckets);
  htable->ht_buckets = nullptr;
  pthread_mutex_destroy(&htable->ht_lock);
  return 0;
}

int d_hash_table_destroy(struct d_hash_table* htable, bool force) {
  const int rc = d_hash_table_destroy_inplace(htable, force);
  if (rc == 0) std::free(htable);
  return rc;
}

int d_hash_table_traverse(struct d_hash_table* htable, d_hash_traverse_cb_t cb, void* arg) {
  if (htable == nullptr || cb == nullptr) return -DER_INVAL;
  TableLock lk(htable);
  const size_t n = size_t{1} << htable->ht_bits;
  for (size_t i = 0; i < n; ++i) {
    d_list_t* head = &htable->ht_buckets[i].hb_head;
    for (d_list_t *l = head->next, *next = l->next; l != head; l = next, next = l->next)
      if (int rc = cb(l, arg)) return rc;
  }
  return 0;
}

d_list_t* d_hash_rec_find(struct d_hash_table* htable, const void* key, unsigned int ksize) {
  TableLock lk(htable);
  d_list_t* l = find_locked(htable, key, ksize);
  if (l) addref(htable, l);
  return l;
}

d_list_t* d_hash_rec_find_insert(struct d_hash_table* htable, const void* key, unsigned int ksize,
                                 d_list_t* link) {
  TableLock lk(htable);
  if (d_list_t* l = find_locked(htable, key, ksize)) {
    addref(htable, l);
    return l;
  }
  d_list_add(link, &htable->ht_buckets[bucket_of(htable, key, ksize)].hb_head);
  if (!ephemeral(htable)) addref(htable, link);  // the table's reference, as insert
  return link;
}

int d_hash_rec_insert(struct d_hash_table* htable, const void* key, unsigned int ksize,
                      d_list_t* link, bool exclusive) {
  if (htable == nullptr || link == nullptr) return -DER_INVAL;
  TableLock lk(htable);
  if (exclusive && find_locked(htable, key, ksize)) return -DER_EXIST;
  d_list_add(link, &htable->ht_buckets[bucket_of(htable, key, ksize)].hb_head);
  if (!ephemeral(htable)) addref(htable, link);
  return 0;
}

bool d_hash_rec_delete(struct d_hash_table* htable, const void* key, unsigned int ksize) {
  d_list_t* l = nullptr;
  bool free_it = false;
  {
    TableLock lk(htable);
    l = find_locked(htable, key, ksize);
    if (l) delete_locked(htable, l, &free_it);
  }
  if (free_it) free_rec(htable, l);
  return l != nullptr;
}

bool d_hash_rec_delete_at(struct d_hash_table* htable, d_list_t* link) {
  bool free_it = false, linked = false;
  {
    TableLock lk(htable);
    linked = !d_list_empty(link);
    if (linked) delete_locked(htable, link, &free_it);
  }
  if (free_it) free_rec(htable, link);
  return linked;
}

void d_hash_rec_addref(struct d_hash_table* htable, d_list_t* link) {
  TableLock lk(htable);
  addref(htable, link);
}

void d_hash_rec_decref(struct d_hash_table* htable, d_list_t* link) {
  bool free_it = false;
  {
    TableLock lk(htable);
    free_it = decref(htable, link);
    // An ephemeral table drops a record with its last reference.
    if (free_it && ephemeral(htable) && !d_list_empty(link)) d_list_del_init(link);
  }
  if (free_it) free_rec(htable, link);
}

bool d_hash_rec_unlinked(d_list_t* link) { return d_list_empty(link); }

d_list_t* d_hash_rec_first(struct d_hash_table* htable) {
  TableLock lk(htable);
  const size_t n = size_t{1} << htable->ht_bits;
  for (size_t i = 0; i < n; ++i) {
    d_list_t* head = &htable->ht_buckets[i].hb_head;
    if (!d_list_empty(head)) {
      addref(htable, head->next);
      return head->next;
    }
  }
  return nullptr;
}

}  // extern "C"

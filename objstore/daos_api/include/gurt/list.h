/* edaos DAOS API: gurt's intrusive doubly linked list (d_list_t), used by DAOS programs for
 * hash-table records (gurt/hash.h) and their own queues. A list head is a d_list_t whose next
 * and prev point at itself when the list is empty. */
#ifndef EDAOS_DAOS_GURT_LIST_H
#define EDAOS_DAOS_GURT_LIST_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct d_list_head {
  struct d_list_head *next, *prev;
} d_list_t;

#define D_LIST_HEAD_INIT(name) \
  { &(name), &(name) }
#define D_LIST_HEAD(name) d_list_t name = D_LIST_HEAD_INIT(name)

static inline void D_INIT_LIST_HEAD(d_list_t *head) { head->next = head->prev = head; }

static inline void d_list_link_(d_list_t *item, d_list_t *prev, d_list_t *next) {
  next->prev = item;
  item->next = next;
  item->prev = prev;
  prev->next = item;
}

/** Inserts `item` right after `head` (stack order). */
static inline void d_list_add(d_list_t *item, d_list_t *head) {
  d_list_link_(item, head, head->next);
}

/** Inserts `item` right before `head` (queue order). */
static inline void d_list_add_tail(d_list_t *item, d_list_t *head) {
  d_list_link_(item, head->prev, head);
}

/** Unlinks `item`; its pointers are left dangling (use d_list_del_init to reuse it). */
static inline void d_list_del(d_list_t *item) {
  item->prev->next = item->next;
  item->next->prev = item->prev;
}

static inline void d_list_del_init(d_list_t *item) {
  d_list_del(item);
  D_INIT_LIST_HEAD(item);
}

static inline bool d_list_empty(const d_list_t *head) { return head->next == head; }

/** The structure of type `type` whose member `member` is the list link `ptr`. */
#define d_list_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define d_list_for_each(pos, head) for (pos = (head)->next; pos != (head); pos = pos->next)

#define d_list_for_each_safe(pos, n, head) \
  for (pos = (head)->next, n = pos->next; pos != (head); pos = n, n = pos->next)

#define d_list_for_each_entry(pos, head, member)                                           \
  for (pos = d_list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
       pos = d_list_entry(pos->member.next, __typeof__(*pos), member))

#define d_list_for_each_entry_safe(pos, n, head, member)            \
  for (pos = d_list_entry((head)->next, __typeof__(*pos), member),  \
      n = d_list_entry(pos->member.next, __typeof__(*pos), member); \
       &pos->member != (head); pos = n, n = d_list_entry(n->member.next, __typeof__(*n), member))

/** Unlinks and returns the first entry of `head`, or NULL when the list is empty. */
#define d_list_pop_entry(head, type, member) \
  ((type *)(d_list_empty(head) ? NULL : d_list_pop_first_(head, offsetof(type, member))))

static inline void *d_list_pop_first_(d_list_t *head, size_t off) {
  d_list_t *first = head->next;
  d_list_del_init(first);
  return (char *)first - off;
}

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_GURT_LIST_H */

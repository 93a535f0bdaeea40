/* edaos DAOS API: event queues and events.
 *
 * Every call that takes a daos_event_t *ev runs to completion before it returns, whether or not
 * an event is given (edaos completes operations synchronously). With an event, the call
 * returns 0 once it has run, the operation's result is in ev->ev_error (negative DER code for
 * daos_* calls, errno for dfs_* calls), and the event is completed: daos_event_test() reports
 * it done and daos_eq_poll() on its queue returns it. So a program written for DAOS's
 * asynchronous API runs unchanged; it just gains no overlap. Arguments the call refuses before
 * running (a NULL handle pointer, an event that is still in use) are returned directly, as
 * DAOS does.
 *
 * Event life cycle: daos_event_init (READY) -> passed to a call (COMPLETED) -> daos_eq_poll or
 * daos_event_test (READY again, reusable) -> daos_event_fini. Parent/child events (a non-NULL
 * `parent`) are not supported (-DER_NOSYS). Events and queues are thread-safe. */
#ifndef EDAOS_DAOS_EVENT_H
#define EDAOS_DAOS_EVENT_H

#include <daos_errno.h>
#include <daos_types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** Creates an event queue. -DER_INVAL for a NULL pointer, -DER_UNINIT before daos_init(). */
int daos_eq_create(daos_handle_t *eqh);

#define DAOS_EQ_DESTROY_FORCE 1
/** Destroys a queue. -DER_NO_HDL for an unknown handle; -DER_BUSY while events initialized on
 *  it are not finalized, unless flags has DAOS_EQ_DESTROY_FORCE (they are detached). */
int daos_eq_destroy(daos_handle_t eqh, int flags);

/** Returns up to `nevents` completed events of the queue in `events` (oldest first) and makes
 *  them READY again; returns their number, or a negative DER code. Since nothing is ever in
 *  flight, `wait_running` and `timeout` only matter when no event is completed: the call then
 *  returns 0 at once (nothing can complete later). */
int daos_eq_poll(daos_handle_t eqh, int wait_running, int64_t timeout, unsigned int nevents,
                 daos_event_t **events);

/** Counts completed (DAOS_EQR_COMPLETED) and/or in-flight (DAOS_EQR_WAITING, always 0) events;
 *  with `events` non-NULL, stores up to `nevents` completed ones without consuming them. */
int daos_eq_query(daos_handle_t eqh, daos_eq_query_t query, unsigned int nevents,
                  daos_event_t **events);

/** Initializes `ev` on queue `eqh` (DAOS_HDL_INVAL: no queue; use daos_event_test). parent must
 *  be NULL (-DER_NOSYS otherwise). -DER_NO_HDL for an unknown queue. */
int daos_event_init(daos_event_t *ev, daos_handle_t eqh, daos_event_t *parent);

/** Finalizes `ev` (removes it from its queue, also when completed and not yet polled).
 *  -DER_INVAL for an event that was never initialized. */
int daos_event_fini(daos_event_t *ev);

/** *flag = true when `ev` has completed (it then becomes READY again). timeout is ignored:
 *  events complete before the call that launched them returns. */
int daos_event_test(struct daos_event *ev, int64_t timeout, bool *flag);

/** Child events are not supported: returns NULL. */
daos_event_t *daos_event_next(daos_event_t *parent, daos_event_t *child);

/** Nothing is ever in flight, so there is nothing to abort: -DER_INVAL for an event that was
 *  never initialized, else 0. */
int daos_event_abort(daos_event_t *ev);

#if defined(__cplusplus)
}
#endif
#endif /* EDAOS_DAOS_EVENT_H */

// Event queues and events. Operations complete synchronously (daos_event.h): an event passed
// to a call is completed before the call returns and queued on its EQ for daos_eq_poll.
#include <algorithm>
#include <cstring>
#include <deque>
#include <unordered_set>

#include "daos_internal.hpp"

namespace edaos::daosapi {

struct EqImpl {
  std::deque<daos_event_t*> done;             // completed, not yet polled (oldest first)
  std::unordered_set<daos_event_t*> members;  // initialized on this queue, not finalized
};

namespace {

constexpr uint32_t kEventMagic = 0xED0E7E47;

// What the library keeps in daos_event_t::ev_private.
struct EventState {
  uint32_t magic;
  uint32_t status;  // daos_ev_status_t
  uint64_t eq;      // cookie of the queue, 0 for none
};
static_assert(sizeof(EventState) <= sizeof(daos_event_t::ev_private), "event state too large");

// Copied in and out (never aliased): ev_private is an array of integers.
EventState load(const daos_event_t* ev) {
  EventState s;
  std::memcpy(&s, &ev->ev_private, sizeof s);
  return s;
}
void store(daos_event_t* ev, const EventState& s) { std::memcpy(&ev->ev_private, &s, sizeof s); }
void set_status(daos_event_t* ev, uint32_t status) {
  EventState s = load(ev);
  s.status = status;
  store(ev, s);
}

// One lock for every event and queue: event calls are rare next to I/O.
std::mutex& ev_mu() {
  static std::mutex* m = new std::mutex();
  return *m;
}

bool valid(const daos_event_t* ev) { return ev != nullptr && load(ev).magic == kEventMagic; }

void unqueue(EqImpl& q, daos_event_t* ev) {
  q.done.erase(std::remove(q.done.begin(), q.done.end(), ev), q.done.end());
}

}  // namespace

int run_with_event(daos_event_t* ev, int bad_event, const std::function<int()>& op) {
  if (ev == nullptr) return op();
  {
    std::lock_guard<std::mutex> lk(ev_mu());
    if (!valid(ev) || load(ev).status != DAOS_EVS_READY) {
      note("event", "the event is not initialized or still in use");
      return bad_event;
    }
    set_status(ev, DAOS_EVS_RUNNING);
  }
  const int rc = op();
  std::lock_guard<std::mutex> lk(ev_mu());
  ev->ev_error = rc;
  set_status(ev, DAOS_EVS_COMPLETED);
  if (auto q = Registry::get().eq(daos_handle_t{load(ev).eq})) q->done.push_back(ev);
  return 0;
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int daos_eq_create(daos_handle_t* eqh) {
  return guard_der(__func__, [&]() -> int {
    if (eqh == nullptr) return -DER_INVAL;
    if (!initialized()) return -DER_UNINIT;
    *eqh = Registry::get().add_eq(std::make_shared<EqImpl>());
    return 0;
  });
}

int daos_eq_destroy(daos_handle_t eqh, int flags) {
  return guard_der(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(ev_mu());
    auto q = Registry::get().eq(eqh);
    if (!q) return -DER_NO_HDL;
    if (!q->members.empty() && !(flags & DAOS_EQ_DESTROY_FORCE)) {
      note(current_call(),
           std::to_string(q->members.size()) + " events are still initialized on it");
      return -DER_BUSY;
    }
    for (daos_event_t* ev : q->members) {
      EventState st = load(ev);
      st.eq = 0;
      store(ev, st);
    }
    (void)Registry::get().take_eq(eqh);
    return 0;
  });
}

int daos_eq_poll(daos_handle_t eqh, int wait_running, int64_t timeout, unsigned int nevents,
                 daos_event_t** events) {
  (void)wait_running;
  (void)timeout;
  return guard_der(__func__, [&]() -> int {
    if (nevents == 0 || events == nullptr) return -DER_INVAL;
    std::lock_guard<std::mutex> lk(ev_mu());
    auto q = Registry::get().eq(eqh);
    if (!q) return -DER_NO_HDL;
    unsigned n = 0;
    while (n < nevents && !q->done.empty()) {
      daos_event_t* ev = q->done.front();
      q->done.pop_front();
      set_status(ev, DAOS_EVS_READY);
      events[n++] = ev;
    }
    return static_cast<int>(n);
  });
}

int daos_eq_query(daos_handle_t eqh, daos_eq_query_t query, unsigned int nevents,
                  daos_event_t** events) {
  return guard_der(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(ev_mu());
    auto q = Registry::get().eq(eqh);
    if (!q) return -DER_NO_HDL;
    if (!(query & DAOS_EQR_COMPLETED)) return 0;  // nothing is ever in flight
    if (events != nullptr)
      for (unsigned i = 0; i < nevents && i < q->done.size(); ++i) events[i] = q->done[i];
    return static_cast<int>(q->done.size());
  });
}

int daos_event_init(daos_event_t* ev, daos_handle_t eqh, daos_event_t* parent) {
  return guard_der(__func__, [&]() -> int {
    if (ev == nullptr) return -DER_INVAL;
    if (parent != nullptr) {
      note(current_call(), "parent events are not supported");
      return -DER_NOSYS;
    }
    std::lock_guard<std::mutex> lk(ev_mu());
    std::shared_ptr<EqImpl> q;
    if (daos_handle_is_valid(eqh)) {
      q = Registry::get().eq(eqh);
      if (!q) return -DER_NO_HDL;
    }
    *ev = daos_event_t{};
    store(ev, EventState{kEventMagic, DAOS_EVS_READY, q ? eqh.cookie : 0});
    if (q) q->members.insert(ev);
    return 0;
  });
}

int daos_event_fini(daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(ev_mu());
    if (!valid(ev)) return -DER_INVAL;
    if (auto q = Registry::get().eq(daos_handle_t{load(ev).eq})) {
      q->members.erase(ev);
      unqueue(*q, ev);
    }
    store(ev, EventState{});
    return 0;
  });
}

int daos_event_test(struct daos_event* ev, int64_t timeout, bool* flag) {
  (void)timeout;
  return guard_der(__func__, [&]() -> int {
    if (flag == nullptr) return -DER_INVAL;
    std::lock_guard<std::mutex> lk(ev_mu());
    if (!valid(ev)) return -DER_INVAL;
    *flag = load(ev).status == DAOS_EVS_COMPLETED;
    if (*flag) {
      if (auto q = Registry::get().eq(daos_handle_t{load(ev).eq})) unqueue(*q, ev);
      set_status(ev, DAOS_EVS_READY);
    }
    return 0;
  });
}

daos_event_t* daos_event_next(daos_event_t* parent, daos_event_t* child) {
  (void)parent;
  (void)child;
  return nullptr;
}

int daos_event_abort(daos_event_t* ev) {
  std::lock_guard<std::mutex> lk(ev_mu());
  return valid(ev) ? 0 : -DER_INVAL;
}

}  // extern "C"

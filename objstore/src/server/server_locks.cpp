// Stripe locks (README "Stripe locks"): one holder per key, waiters granted in arrival order,
// the intent of the partial write recorded at the group leader's engine before each grant.
// Liveness: a waiter whose caller gave up (kLockCancel after its time-out) is dropped, or
// releases the lock when the grant had already gone out; a holder or waiter whose process has
// ended (peer_gone) is released or dropped by a sweep the progress thread queues while waiters
// exist. Only the lock queue's thread touches locks_.
#include <string>
#include <utility>

#include "common/log.hpp"
#include "server/server.hpp"
#include "vos/engine.hpp"

EDAOS_LOG_FACILITY(server);

namespace edaos::objstore::server {

using rpc::Reader;

Status Server::set_intent(const std::string& key, const rpc::IntentWire& w, bool* orphan) {
  *orphan = false;
  if (!w.has) return Status::OK();
  Status st;
  vos::Engine* e = engine(w.pool, w.engine, &st);
  if (!e) return st;
  return e->intent_set(key, w.payload, orphan);
}

// A stripe lock, with the intent of the partial write it protects recorded at the group
// leader's engine before the grant (so a write killed half-way leaves the stripe marked).
std::string Server::op_lock(Reader& r, const rpc::Incoming& in, bool* deferred) {
  std::string key = r.str();
  LockWaiter w;
  w.rank = in.source;
  w.tag = in.hdr.reply_tag;
  w.intent = rpc::IntentWire::decode(r, true);
  if (!r.ok()) return rpc::make_reply(Status(EDAOS_PROTO, "malformed request body"));
  auto it = locks_.find(key);
  if (it == locks_.end()) {
    bool orphan = false;
    Status st = set_intent(key, w.intent, &orphan);
    if (!st.ok()) return rpc::make_reply(st.with_context("stripe intent"));
    locks_.emplace(std::move(key), StripeLock{std::move(w), {}});
    return rpc::make_reply(Status::OK(), orphan ? 1 : 0);
  }
  it->second.waiters.push_back(std::move(w));
  ++lock_waiters_;
  *deferred = true;
  return {};
}

void Server::pass_lock(LockMap::iterator it, bool holder_gone) {
  const std::string& key = it->first;
  auto& waiters = it->second.waiters;
  while (!waiters.empty()) {
    LockWaiter w = std::move(waiters.front());
    waiters.pop_front();
    --lock_waiters_;
    if (peer_gone(w.rank)) {
      EDAOS_LOG(warn, "stripe lock: waiter rank %d has exited: dropped", w.rank);
      continue;
    }
    bool orphan = false;
    Status st = set_intent(key, w.intent, &orphan);
    send(w.rank, w.tag,
         st.ok() ? rpc::make_reply(Status::OK(), orphan || holder_gone ? 1 : 0)
                 : rpc::make_reply(st.with_context("stripe intent")));
    if (st.ok()) {
      it->second.holder = std::move(w);
      return;
    }
  }
  locks_.erase(it);
}

std::string Server::op_unlock(Reader& r, const rpc::Incoming& in) {
  std::string key = r.str();
  rpc::IntentWire iw = rpc::IntentWire::decode(r, false);
  if (!r.ok()) return rpc::make_reply(Status(EDAOS_PROTO, "malformed request body"));
  auto it = locks_.find(key);
  if (it == locks_.end()) return rpc::make_reply(Status(EDAOS_INVAL, "unlock of a free lock"));
  if (it->second.holder.rank != in.source)
    return rpc::make_reply(Status(EDAOS_INVAL, "unlock of a stripe lock held by rank " +
                                                   std::to_string(it->second.holder.rank) +
                                                   ", not by the caller (rank " +
                                                   std::to_string(in.source) + ")"));
  Status cleared;
  if (iw.has) {
    vos::Engine* e = engine(iw.pool, iw.engine, &cleared);
    if (e) cleared = e->intent_clear(key);
    if (!cleared.ok())  // the mark stays: recovery re-encodes a consistent stripe, harmless
      EDAOS_LOG(warn, "stripe intent not cleared: %s", cleared.to_string().c_str());
  }
  pass_lock(it, false);
  return rpc::make_reply(Status::OK());
}

// The caller's kLock call with reply tag `tag` ended without its grant (time-out, transport
// error): it will not write under that lock and will never unlock it.
std::string Server::op_lock_cancel(Reader& r, const rpc::Incoming& in) {
  std::string key = r.str();
  const int32_t tag = r.get<int32_t>();
  if (!r.ok()) return rpc::make_reply(Status(EDAOS_PROTO, "malformed request body"));
  auto it = locks_.find(key);
  if (it == locks_.end()) return rpc::make_reply(Status::OK());
  StripeLock& l = it->second;
  if (l.holder.rank == in.source && l.holder.tag == tag) {
    // Granted, but the grant came too late: nothing was written under it.
    EDAOS_LOG(warn, "stripe lock: grant to rank %d was not taken (caller gave up): released",
              in.source);
    if (l.waiters.empty() && l.holder.intent.has) {
      Status cleared;
      vos::Engine* e = engine(l.holder.intent.pool, l.holder.intent.engine, &cleared);
      if (e) cleared = e->intent_clear(key);
      if (!cleared.ok())
        EDAOS_LOG(warn, "stripe intent not cleared: %s", cleared.to_string().c_str());
    }
    pass_lock(it, false);
    return rpc::make_reply(Status::OK());
  }
  for (auto w = l.waiters.begin(); w != l.waiters.end(); ++w)
    if (w->rank == in.source && w->tag == tag) {
      l.waiters.erase(w);
      --lock_waiters_;
      break;
    }
  return rpc::make_reply(Status::OK());
}

void Server::sweep_locks() {
  for (auto it = locks_.begin(); it != locks_.end();) {
    auto next = std::next(it);
    auto& waiters = it->second.waiters;
    for (auto w = waiters.begin(); w != waiters.end();) {
      if (!peer_gone(w->rank)) {
        ++w;
        continue;
      }
      EDAOS_LOG(warn, "stripe lock: waiter rank %d has exited: dropped", w->rank);
      w = waiters.erase(w);
      --lock_waiters_;
    }
    if (!waiters.empty() && peer_gone(it->second.holder.rank)) {
      // Its write may be torn: the intent stays recorded and the next holder is told (reply
      // value 1), as for an intent a killed process left before the server started.
      EDAOS_LOG(warn, "stripe lock: holder rank %d has exited: released (intent kept)",
                it->second.holder.rank);
      pass_lock(it, true);
    }
    it = next;
  }
}

}  // namespace edaos::objstore::server

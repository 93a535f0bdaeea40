// The service loop that runs on designated server ranks.
//
// One progress thread per server rank serves every engine that rank hosts (engine e of a pool
// is hosted by server index e % nservers). It polls the transport with backoff, so an idle
// server sleeps instead of burning a core. Handlers never block on other ranks: a stripe lock
// that is held is answered later, when its holder unlocks.
//
// Server index 0 is the pool service ("lead"): it also owns the pool's metadata store
// (containers, labels, object-ID allocators, attributes).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::vos {
class Engine;
class PoolStore;
}  // namespace edaos::objstore::vos

namespace edaos::objstore::server {

class Server {
 public:
  // `t` must outlive the server. `index`: this rank's position among the server ranks.
  Server(rpc::Transport* t, int index, int nservers);
  ~Server();
  void start();
  // Stops the loop once in-flight replies are sent, closes every engine (releasing locks).
  void stop();

 private:
  struct PoolServe;
  void loop();
  void handle(rpc::Incoming& in);
  std::string dispatch(rpc::Incoming& in, bool* deferred);
  PoolServe* pool(const Uuid& u);
  vos::Engine* engine(const Uuid& pool, uint32_t id, Status* st);

  std::string op_pool_serve(rpc::Reader& r);
  std::string op_pool_close(rpc::Reader& r);
  std::string op_pool_query(rpc::Reader& r);
  std::string op_pool_exclude(rpc::Reader& r);
  std::string op_pool_set_identity(rpc::Reader& r);
  std::string op_cont(rpc::Op op, rpc::Reader& r);
  // *replied = true when the op sent its reply itself (bulk reads).
  std::string op_io(rpc::Op op, rpc::Reader& r, const rpc::Incoming& in, bool* replied);
  std::string op_lock(rpc::Reader& r, const rpc::Incoming& in, bool* deferred);
  std::string op_unlock(rpc::Reader& r);
  std::string op_intent(rpc::Op op, rpc::Reader& r);
  // server_shard.cpp: the shard ops of one call in one message (kShardVec, replies itself) and
  // the sync of named engines (kSyncEngines).
  std::string op_shard_vec(rpc::Reader& r, const rpc::Incoming& in, bool* replied);
  std::string op_sync_engines(rpc::Reader& r);
  // A stripe lock waiter and the intent to record when it is granted.
  struct LockWaiter {
    int rank = -1, tag = 0;
    rpc::IntentWire intent;
  };
  // Records `w`'s intent under `key` at its engine; *orphan = a killed process left one there.
  Status set_intent(const std::string& key, const rpc::IntentWire& w, bool* orphan);

  rpc::Transport* t_;
  int index_, nservers_;
  std::atomic<bool> stop_{false};
  std::thread th_;
  std::map<Uuid, std::unique_ptr<PoolServe>> pools_;
  // Stripe locks: key -> queue of waiters; present = held.
  std::map<std::string, std::deque<LockWaiter>> locks_;
};

}  // namespace edaos::objstore::server

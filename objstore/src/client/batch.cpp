// Issuing RPCs through the runtime's transport: batches and single calls to the lead.
#include "client/client_internal.hpp"

namespace edaos::objstore::client {

namespace {
// rpc_round_trips_for_testing(): waits of this thread that follow a message it sent since its
// previous wait (a wait for replies already under way during an earlier wait adds none).
thread_local uint64_t t_round_trips = 0;
thread_local bool t_sent_since_wait = false;

void count_wait() {
  if (t_sent_since_wait) ++t_round_trips;
  t_sent_since_wait = false;
}
}  // namespace

void note_sent() { t_sent_since_wait = true; }

void Batch::run() {
  std::vector<rpc::Call*> started;
  started.reserve(calls_.size());
  for (auto& c : calls_) {
    if (c->tag == 0) {
      rt_->rpc->start(c.get());
      note_sent();
    }
    started.push_back(c.get());
  }
  rt_->counters.rpcs += started.size();
  if (!started.empty()) count_wait();
  rt_->rpc->wait(started.data(), started.size());
}

Status lead_call(PoolState& p, rpc::Op op, std::string body, rpc::Call* out) {
  rpc::Call local;
  rpc::Call* c = out ? out : &local;
  c->server = p.lead();
  c->op = op;
  c->body = std::move(body);
  p.rt->counters.rpcs++;
  note_sent();
  count_wait();
  return p.rt->rpc->call(c);
}

}  // namespace edaos::objstore::client

namespace edaos::objstore {
uint64_t rpc_round_trips_for_testing() { return client::t_round_trips; }
}  // namespace edaos::objstore

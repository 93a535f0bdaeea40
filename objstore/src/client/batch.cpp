// Issuing RPCs through the runtime's transport: batches and single calls to the lead.
#include "client/client_internal.hpp"

namespace edaos::objstore::client {

void Batch::run() {
  std::vector<rpc::Call*> started;
  started.reserve(calls_.size());
  for (auto& c : calls_) {
    if (c->tag == 0) rt_->rpc->start(c.get());
    started.push_back(c.get());
  }
  rt_->counters.rpcs += started.size();
  rt_->rpc->wait(started.data(), started.size());
}

Status lead_call(PoolState& p, rpc::Op op, std::string body, rpc::Call* out) {
  rpc::Call local;
  rpc::Call* c = out ? out : &local;
  c->server = p.lead();
  c->op = op;
  c->body = std::move(body);
  p.rt->counters.rpcs++;
  return p.rt->rpc->call(c);
}

}  // namespace edaos::objstore::client

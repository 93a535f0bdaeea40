// init/finalize: the runtime every client call goes through, and the server ranks.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "client/client_internal.hpp"
#include "common/log.hpp"
#include "edaos/hints/cb_config.hpp"
#include "edaos/objstore/names.hpp"

EDAOS_LOG_FACILITY(client);

namespace edaos::objstore {

namespace client {
namespace {
std::mutex g_mu;
Runtime* g_rt = nullptr;
}  // namespace

Runtime* runtime() { return g_rt; }

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

}  // namespace client

using client::Runtime;

std::string default_pool_path() {
  auto dir = resolve_pool(default_pool_spec());
  return dir.ok() ? dir.value() : "./edaos-pool";  // a non-empty spec always resolves
}

Status init(MPI_Comm comm, const InitOptions& opts) {
  std::lock_guard<std::mutex> lk(client::g_mu);
  if (client::g_rt) return Status::OK();
  int inited = 0, provided = 0;
  MPI_Initialized(&inited);
  if (!inited) return Status(EDAOS_NOTINIT, "MPI is not initialized");
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_MULTIPLE)
    return Status(EDAOS_NOTSUP,
                  "edaos needs MPI_THREAD_MULTIPLE (initialize MPI with MPI_Init_thread, or link "
                  "libedaos_init so the MPI_Init wrapper asks for it)");
  auto rt = std::make_unique<Runtime>();
  MPI_Comm_dup(comm, &rt->comm);
  MPI_Comm_rank(rt->comm, &rt->rank);
  MPI_Comm_size(rt->comm, &rt->size);
  edaos_log_set_rank(rt->rank);

  // Which ranks serve: cb_config_list grammar over the node each rank runs on.
  std::string spec = opts.server_ranks;
  if (spec.empty()) {
    const char* e = std::getenv("EDAOS_SERVER_RANKS");
    spec = e && *e ? e : "*:1";
  }
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  std::vector<char> all(static_cast<size_t>(rt->size) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                MPI_CHAR, rt->comm);
  std::vector<std::string> hosts;
  for (int r = 0; r < rt->size; ++r)
    hosts.emplace_back(&all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME]);
  auto parsed = hints::parse_cb_config_list(spec);
  if (!parsed.ok()) {
    MPI_Comm_free(&rt->comm);
    return Status(EDAOS_INVAL, "EDAOS_SERVER_RANKS: " + parsed.status().message());
  }
  rt->servers = hints::select_aggregators(parsed.value(), hosts, rt->size);
  if (rt->servers.empty()) {
    MPI_Comm_free(&rt->comm);
    return Status(EDAOS_INVAL, "server rank list '" + spec + "' selects no rank");
  }
  rt->hosts = std::move(hosts);
  auto it = std::find(rt->servers.begin(), rt->servers.end(), rt->rank);
  if (it != rt->servers.end()) rt->my_server_index = static_cast<int>(it - rt->servers.begin());

  rt->rpc = std::make_unique<rpc::MpiTransport>(comm);
  if (rt->my_server_index >= 0) {
    rt->srv = std::make_unique<server::Server>(rt->rpc.get(), rt->my_server_index,
                                               static_cast<int>(rt->servers.size()));
    rt->srv->start();
  }
  EDAOS_LOG(info, "initialized: %d ranks, %zu servers (%s)%s", rt->size, rt->servers.size(),
            spec.c_str(), rt->srv ? ", serving" : "");
  MPI_Barrier(rt->comm);
  client::g_rt = rt.release();
  return Status::OK();
}

Status finalize() {
  // Shared connections close while the servers still answer.
  if (client::runtime()) release_shared_pools();
  std::lock_guard<std::mutex> lk(client::g_mu);
  Runtime* rt = client::g_rt;
  if (!rt) return Status::OK();
  // Every client must be done before any server stops.
  MPI_Barrier(rt->comm);
  if (rt->srv) rt->srv->stop();
  MPI_Barrier(rt->comm);
  rt->srv.reset();
  rt->rpc.reset();
  MPI_Comm_free(&rt->comm);
  delete rt;
  client::g_rt = nullptr;
  return Status::OK();
}

bool is_initialized() { return client::g_rt != nullptr; }

std::vector<int> server_ranks() {
  Runtime* rt = client::runtime();
  return rt ? rt->servers : std::vector<int>{};
}

Stats stats() {
  Stats s{};
  Runtime* rt = client::runtime();
  if (!rt) return s;
  auto& c = rt->counters;
  s = Stats{c.rpcs,
            c.bytes_written,
            c.bytes_read,
            c.full_stripe_writes,
            c.partial_stripe_writes,
            c.degraded_reads,
            c.csum_errors,
            c.csum_retries,
            c.repairs};
  return s;
}

}  // namespace edaos::objstore

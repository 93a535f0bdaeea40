// The process's object-store runtime: which ranks serve, which transport carries the RPCs,
// the servers this process runs. init() builds it, finalize() tears it down; the client half
// reaches the servers only through `rpc` (see runtime/README.md).
#pragma once

#include <mpi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::server {
class Server;
}  // namespace edaos::objstore::server

namespace edaos::objstore::rpc {
class LoopbackFabric;
}  // namespace edaos::objstore::rpc

namespace edaos::objstore::client {

struct Counters {
  std::atomic<uint64_t> rpcs{0}, bytes_written{0}, bytes_read{0}, full_stripe_writes{0},
      partial_stripe_writes{0}, degraded_reads{0}, csum_errors{0}, csum_retries{0}, repairs{0};
};

// Transports the runtime can pick ($EDAOS_TRANSPORT).
enum class TransportKind { kMpi, kLoopback, kUcx, kOfi };
const char* transport_name(TransportKind k);

struct Runtime {
  Runtime();
  ~Runtime();
  MPI_Comm comm = MPI_COMM_NULL;  // private duplicate for client collectives
  TransportKind kind = TransportKind::kMpi;
  std::unique_ptr<rpc::Transport> rpc_owner;  // the MPI, UCX or libfabric transport
  std::unique_ptr<rpc::LoopbackFabric> loopback;
  rpc::Transport* rpc = nullptr;   // the client's endpoint
  std::vector<int> servers;        // server index -> the rank that serves it
  std::vector<std::string> hosts;  // processor name of every rank (server ranks included)
  int rank = 0, size = 0;          // this process in the job
  int my_server_index = -1;        // the one server index this rank serves (MPI), or -1
  std::vector<std::unique_ptr<server::Server>> srv;  // servers running in this process
  Counters counters;
};

// The process's runtime, or nullptr before init()/after finalize().
Runtime* runtime();

// Background work of this process that must be done before finalize() lets any rank release a
// shared pool connection (session 8: the namespace's background destroys, dfs Reaper). `fn` is
// called by finalize() on every rank, then a barrier, then the releases: no rank's connect-root
// release closes a pool while another rank still has queued work on it. Set once per process
// (a later call replaces it); fn must be callable from any thread and may block.
void set_finalize_drain(void (*fn)());

}  // namespace edaos::objstore::client

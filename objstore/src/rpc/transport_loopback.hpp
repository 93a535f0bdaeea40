// The loopback transport: client and servers in one process, no MPI.
//
// A LoopbackFabric holds one client endpoint and `nservers` server endpoints; server index i
// has rank i, the client has rank `nservers`. Requests are copied into the server's queue
// (header + body + bulk, as on the wire), replies are copied into the waiting call (bulk_in
// when given) by the replying thread. Waits sleep on condition variables: no polling. Calls
// to a server that nobody serves time out with EDAOS_UNREACH like on any transport.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::rpc {

class LoopbackFabric {
 public:
  explicit LoopbackFabric(int nservers);
  ~LoopbackFabric();
  LoopbackFabric(const LoopbackFabric&) = delete;
  LoopbackFabric& operator=(const LoopbackFabric&) = delete;
  int nservers() const { return static_cast<int>(servers_.size()); }
  int client_rank() const { return nservers(); }
  Transport* client();
  // Server index `i`'s endpoint (rank i); hand it to that Server.
  Transport* server(int i);

 private:
  class ClientEnd;
  class ServerEnd;
  friend class ClientEnd;
  friend class ServerEnd;
  // Copies a reply into the call waiting on `tag`; dropped when that call is gone (timed out).
  void deliver(int tag, const char* buf, size_t n);

  std::mutex mu_;  // calls_ and every call's results
  std::condition_variable cv_;
  std::map<int, Call*> calls_;  // started calls waiting for their reply, by tag
  std::unique_ptr<ClientEnd> client_;
  std::vector<std::unique_ptr<ServerEnd>> servers_;
  SparePool spare_;
};

}  // namespace edaos::objstore::rpc

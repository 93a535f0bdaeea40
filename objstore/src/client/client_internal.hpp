// Client-side state shared by the pool, container, array and KV code.
#pragma once

#include <mpi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"
#include "edaos/objstore/pool_map.hpp"
#include "edaos/objstore/props.hpp"
#include "placement/placement.hpp"
#include "rpc/transport.hpp"
#include "runtime/runtime.hpp"

namespace edaos::objstore::client {

class ShardIo;  // client/shard_io.hpp

// Down is per job unless an operator excludes (objstore/README.md, "Faults"):
//   kExcluded    excluded in the pool map (operator, or a write that skipped a lost engine):
//                permanent until a rebuild; never read, never written
//   kLost        directory missing, format or identity unrecognisable or foreign: down; a write
//                that has to skip it excludes it first (exclude_before_write)
//   kUnavailable a transient open error seen by an administrative connection (pool query /
//                exclude); ordinary connections fail instead
//   drilled      $EDAOS_ENGINES_DOWN: this job's reads and size queries avoid the engine,
//                writes still go to it, and nothing is ever persisted because of it
using rpc::EngineHealth;

struct PoolState {
  Runtime* rt = nullptr;
  std::string path;
  PoolMap map;  // engine states: kUp when readable by this connection (see readable())
  std::vector<std::string> why_down;  // per engine, empty when readable
  std::vector<EngineHealth> health;   // per engine, fixed at connect (Pool::exclude aside)
  std::vector<bool> drilled;          // per engine: listed in $EDAOS_ENGINES_DOWN
  uint64_t quota_bytes = 0;
  // The connection's duplicate of the connect communicator, started by MPI_Comm_idup at
  // connect and completed by connection_comm() (edaos/objstore/collectives.hpp: a polite wait) when
  // disconnect or the destructor needs it.
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Request comm_req = MPI_REQUEST_NULL;
  int rank = 0;  // this process's rank in the connect communicator
  MPI_Comm connection_comm();
  bool connected = false;

  std::mutex excl_mu;
  std::vector<bool> excluded;  // engines this process already had excluded

  // The shard data path of this connection (client/shard_io.hpp), made by shard_io().
  std::once_flag io_once;
  std::shared_ptr<ShardIo> io;

  // Before a write that skips down engines: persist the exclusion of the lost ones (see
  // kPoolExclude). Refuses (EDAOS_DEGRADED / EDAOS_UNREACH) to skip an engine that is only
  // drilled or only unavailable: those are serving, or may be again, and must not miss data.
  Status exclude_before_write(const std::vector<uint32_t>& down_engines);

  int lead() const { return rt->servers[0]; }
  int server_of(uint32_t engine) const {
    return rt->servers[engine % static_cast<uint32_t>(rt->servers.size())];
  }
  // Reads and size queries of this job may use the engine.
  bool readable(uint32_t engine) const {
    return writable(engine) && !(engine < drilled.size() && drilled[engine]);
  }
  // Writes must reach the engine (drilled engines included). A state built without health
  // (not by connect) falls back to the map's engine state.
  bool writable(uint32_t engine) const {
    return engine < health.size() ? health[engine] == EngineHealth::kUp
                                  : map.engines[engine].state == EngineState::kUp;
  }
};

struct ContState {
  std::shared_ptr<PoolState> pool;
  Uuid uuid;
  ContainerProps props;
  // Object IDs reserved at the pool service for this handle and not yet handed out:
  // [oid_next, oid_end). A range is taken with one pool-service commit (kOidAlloc with a count)
  // and handed out locally, so a create does not pay a synchronous commit each; IDs of a range
  // left when the handle closes (or the process dies) are never reused, only skipped.
  std::mutex oid_mu;
  uint64_t oid_next = 0, oid_end = 0;
  uint64_t oid_batch = 0;  // size of the next range (grows from 1 to kOidRangeMax)
  rpc::CsumWire csum() const {
    rpc::CsumWire c;
    c.type = props.cksum;
    c.chunk = props.cksum_size;
    c.srv_verify = props.srv_cksum;
    return c;
  }
};

// Sends one call to the lead server and waits. Convenience for metadata ops.
Status lead_call(PoolState& p, rpc::Op op, std::string body, rpc::Call* out = nullptr);

// Calls that must stay at fixed addresses until they complete, issued together.
class Batch {
 public:
  explicit Batch(Runtime* rt) : rt_(rt) {}
  rpc::Call* add(int server, rpc::Op op) {
    calls_.push_back(std::make_unique<rpc::Call>());
    calls_.back()->server = server;
    calls_.back()->op = op;
    return calls_.back().get();
  }
  uint8_t* scratch(size_t n) {
    bufs_.push_back(std::unique_ptr<uint8_t[]>(new uint8_t[n]));
    bytes_ += n;
    return bufs_.back().get();
  }
  size_t size() const { return calls_.size(); }
  size_t scratch_bytes() const { return bytes_; }
  rpc::Call& operator[](size_t i) { return *calls_[i]; }
  // Starts every call not yet started and waits for all of them.
  void run();
  void clear() {
    calls_.clear();
    bufs_.clear();
    bytes_ = 0;
  }

 private:
  Runtime* rt_;
  std::vector<std::unique_ptr<rpc::Call>> calls_;
  std::vector<std::unique_ptr<uint8_t[]>> bufs_;
  size_t bytes_ = 0;
};

}  // namespace edaos::objstore::client

// The shard data path of a pool connection (objstore/src/rpc/README.md, seam point 1).
//
// ArrayImpl says *what* to do to which object shard (write/read/punch/truncate/size/remove of
// cells and chunks, with the record layout and version stamp of rpc::RecWire); a ShardIo
// decides *how* it reaches the engine. RpcShardIo is the only implementation so far: it sends
// the ops of one set to each server rank hosting their engines in one kShardVec message
// (client/README.md, "Data path"). Nothing above this interface builds a wire body for shard
// data. A ShardIo also keeps the set of engines written through it since its last sync(), so
// a sync makes exactly those durable.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "client/client_internal.hpp"

namespace edaos::objstore::client {

// One object shard on one engine of the pool.
struct ShardId {
  Uuid cont;
  ObjectId oid;
  uint32_t engine = 0;
  uint32_t shard = 0;   // group * group_size + index in the group
  uint32_t target = 0;  // the engine's target directory
};

// A set of shard ops issued together. Add ops, run(), then read each op's status() and value().
// Buffers given to write() and read() must stay valid (and, for writes, unchanged) until run()
// returns. Not thread-safe: one set per call of the array.
class ShardOps {
 public:
  virtual ~ShardOps() = default;
  // Each adder returns the op's index in the set (0, 1, ... in order of adding).
  // Writes `data` back to back at shard-local `local` and records logical_end (0: unchanged).
  virtual size_t write(const ShardId& s, uint64_t local, std::vector<ConstIoVec> data,
                       uint64_t logical_end, const rpc::RecWire& rw) = 0;
  // Reads shard-local [local, local + sum of lengths) into `into`. With `state` (exactly one EC
  // cell) the cell's record state (rpc::StateWire) is stored there too.
  virtual size_t read(const ShardId& s, uint64_t local, std::vector<IoVec> into,
                      const rpc::RecWire& rw, std::vector<uint8_t>* state) = 0;
  // Deallocates shard-local [local, local + len).
  virtual size_t punch(const ShardId& s, uint64_t local, uint64_t len, const rpc::RecWire& rw) = 0;
  // Drops shard-local bytes from local_keep on and records the logical size.
  virtual size_t truncate(const ShardId& s, uint64_t local_keep, uint64_t logical,
                          const rpc::RecWire& rw) = 0;
  // The shard's recorded logical end (value()).
  virtual size_t size(const ShardId& s) = 0;
  // Removes the object's data from the shard.
  virtual size_t remove(const ShardId& s) = 0;

  // Issues every op added since the last run() and waits for all of them. A read whose bytes
  // fail the end-to-end checksum (the engine's checksum of what it sent) is retried once; a
  // second failure is EDAOS_CSUM.
  virtual void run() = 0;
  virtual size_t count() const = 0;
  // OK, the engine's error, or a transport failure (EDAOS_UNREACH).
  virtual Status status(size_t i) const = 0;
  // size(): the shard's recorded logical end. read(): the same, as the engine had it when it
  // served the read (a lower bound of the object's size: a size is the largest logical end of
  // its shards), 0 when the read failed. Other ops: 0.
  virtual uint64_t value(size_t i) const = 0;
  // Forgets every op (all must have run) and the scratch buffers.
  virtual void clear() = 0;

  // Scratch memory that lives until clear() (gathered cells, parity, bounce buffers).
  uint8_t* scratch(size_t n) {
    bufs_.push_back(std::unique_ptr<uint8_t[]>(new uint8_t[n]));
    scratch_bytes_ += n;
    return bufs_.back().get();
  }
  size_t scratch_bytes() const { return scratch_bytes_; }

  // EC cell writes added to this set from now on are whole cells of full stripes, written
  // without the stripe lock: a ShardIo may write them directly (DirectShardIo). Partial-stripe
  // writes (under the lock) never call it and keep going through the engines.
  void allow_direct_cells() { direct_cells_ = true; }
  bool direct_cells() const { return direct_cells_; }

 protected:
  void clear_scratch() {
    bufs_.clear();
    scratch_bytes_ = 0;
  }

 private:
  std::vector<std::unique_ptr<uint8_t[]>> bufs_;
  size_t scratch_bytes_ = 0;
  bool direct_cells_ = false;
};

// A partial-stripe write whose cells this process writes into the shard files itself
// (client/README.md "Partial stripes on the direct path"), made by ShardIo::direct_stripe under
// the caller's stripe lock. It holds the write leases of the stripe's k+p shards and a range
// lock on each cell for its lifetime (so the engines tell its change in progress from damage).
// Use: read_cell() each data cell, prepare() the cells to write, write_and_finish(). Any
// failure before write_and_finish() has changed no byte: the caller then does the write
// through the engines, still under its stripe lock.
class DirectStripe {
 public:
  virtual ~DirectStripe() = default;
  // Data cell i whole into `into` with its version (0: never written), from the shard file,
  // verified against its sidecar (read-only). An error: not served directly (pending, torn,
  // corrupt, unreadable), the caller reads the stripe through the engines.
  virtual Status read_cell(uint32_t i, uint8_t* into, uint64_t* version) = 0;
  struct Cell {
    uint32_t i = 0;           // index in the stripe (0..k+p)
    const uint8_t* cell;      // the whole new cell (its record is computed from it)
    uint64_t lo = 0, hi = 0;  // the bytes of it to write, [lo, hi) inside the cell
    rpc::RecWire rw;          // version (parity: and the k data versions)
    uint64_t logical_end = 0;
  };
  // Stores every cell's new record as pending next to its current one (one kShardCommit
  // kCommitPrepare per server rank). Not OK (a lease recalled, an engine error): nothing is
  // written; the records stay pending and are settled to the old bytes.
  virtual Status prepare(std::vector<Cell> cells) = 0;
  // Writes the prepared cells' bytes in order, calling after_cell(i) after cell i (test
  // faults) and after_cell(UINT32_MAX) once all are written, then sends the finish (one
  // kShardCommit kCommitFinish per server rank for the cells written) together with the
  // caller's kUnlock to `unlock_server` (-1: none, the lock stays held for a next step; body
  // `unlock_ok` when every cell was written, else
  // `unlock_failed`, which keeps the intent) in one round trip, and waits for all. *redo: a
  // lease was recalled before the finish (a change through the engine raced it): the caller
  // must write its range again (through the engines, under a new stripe lock).
  // With `detached` (session 12, client/README.md "Partial stripes: the finish not waited"):
  // once every cell is written, the finish and the unlock are sent and not waited for
  // (*detached = true, OK): the connection's completion thread collects their answer, and a
  // failure there is the object's late error (its next sync or close).
  virtual Status write_and_finish(const std::function<void(uint32_t)>& after_cell,
                                  int unlock_server, std::string unlock_ok,
                                  std::string unlock_failed, bool* redo,
                                  bool* detached = nullptr) = 0;
};

class ShardIo {
 public:
  virtual ~ShardIo() = default;
  // A new, empty set of ops for a container with checksum settings `csum`.
  virtual std::unique_ptr<ShardOps> ops(const rpc::CsumWire& csum) = 0;
  // Makes durable (Engine::sync) every engine written through this ShardIo, or named by
  // written(), since the last sync; OK at once when there is none. Engines whose sync failed
  // stay in the set.
  virtual Status sync() = 0;
  // Ends whatever the ShardIo holds at the servers (direct-path leases); before pool close.
  virtual void close() {}
  // Waits until every write that returned has its commit answered (DirectShardIo: commit
  // pipelining, client/README.md); nothing to do for a ShardIo whose writes wait for it.
  virtual void drain() {}
  // drain(), then the first error a write to object `oid` of container `cont` met after its
  // call returned (a pipelined commit that failed, a redo that failed, an engine excluded while
  // its commit was in flight), taken: a later sync() does not report it again. OK when there is
  // none. Array::close / Container::close_object (MPI_File_close, dfs_release): a close that
  // returned success must not have lost a write (client/README.md "Commit pipelining").
  virtual Status close_object(const Uuid& cont, const ObjectId& oid) {
    (void)cont, (void)oid;
    return Status::OK();
  }
  // A direct partial-stripe write of the stripe whose cells are `cells` (k+p, in stripe
  // order, each whole at shard-local `local`, cell `cell` bytes, records `specs`), or nullptr
  // when it cannot be served directly (an engine not on this node, a lease refused, the
  // direct path off): the caller writes through the engines.
  virtual std::unique_ptr<DirectStripe> direct_stripe(const rpc::CsumWire& csum,
                                                      const std::vector<ShardId>& cells,
                                                      const std::vector<rpc::RecWire>& specs,
                                                      uint64_t local, uint64_t cell) {
    (void)csum, (void)cells, (void)specs, (void)local, (void)cell;
    return nullptr;
  }
  // Records a write to `engine` made outside the ops (KV puts and removes). Called once the
  // write has returned, so a sync that starts later covers it.
  void written(uint32_t engine);

 protected:
  // The written set, emptied.
  std::set<uint32_t> take_written();

 private:
  std::mutex written_mu_;
  std::set<uint32_t> written_;
};

// The pool connection's ShardIo, made at first use: a DirectShardIo over an RpcShardIo unless
// $EDAOS_DIRECT is 0 (direct_shard_io.cpp), else the RpcShardIo alone.
ShardIo& shard_io(PoolState& p);
// Gives back this process's direct-path leases of the pool (before its servers close it).
void shard_io_close(PoolState& p);

// The implementations (shard_io.cpp, direct_shard_io.cpp).
std::shared_ptr<ShardIo> make_rpc_shard_io(PoolState* p);
// Direct for engines whose server rank runs on this node (same processor name), `rpc` for the
// others and for what the direct path does not do (client/README.md, "Direct path").
std::shared_ptr<ShardIo> make_direct_shard_io(PoolState* p, std::shared_ptr<ShardIo> rpc);
// $EDAOS_DIRECT: "0" off, "1" or "auto" (default) on for co-located engines.
bool direct_enabled();

// Removes the data of several objects of container `c` (arrays and KVs alike: every shard on
// a writable engine, as Array::destroy and KV::destroy do) with one set of shard ops: one
// kShardVec message per server rank for all of them (session 12: the namespace's background
// destroyer hands over every object queued meanwhile), so an engine sees the removals of all
// of them as one run (Engine::obj_punch_many: one write transaction). (*results)[i] is
// oids[i]'s outcome (the first failing shard's status); returns the first failure.
Status destroy_objects(const std::shared_ptr<ContState>& c, const std::vector<ObjectId>& oids,
                       std::vector<Status>* results);

// The wire address of shard `s` of pool `p` (every shard op's body starts with it).
rpc::ShardAddr shard_addr(const PoolState* p, const ShardId& s);

// The counters behind objstore::direct_stats() (objstore.hpp).
struct DirectCounters {
  std::atomic<uint64_t> writes{0}, reads{0}, leases{0}, commits{0}, stale{0}, read_fallbacks{0},
      refused{0}, fds_closed{0};
  // Session 8: partial EC stripes written directly, and those the direct path gave back to
  // the engines after starting (a cell not verified, a lease refused or recalled).
  std::atomic<uint64_t> partial_stripes{0}, partial_fallbacks{0};
  // Session 9 (commit pipelining): calls that returned before their commits were answered,
  // calls that waited for the window or for an overlapping call in flight, drains that waited.
  std::atomic<uint64_t> pipelined{0}, pipeline_waits{0}, drains{0};
  // Session 10: pipelined calls whose commits went in one kShardCommit per server rank with
  // other calls' (client/README.md "Commit coalescing").
  std::atomic<uint64_t> coalesced{0};
};
DirectCounters& direct_counters();

}  // namespace edaos::objstore::client

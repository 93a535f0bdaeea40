// The service loop that runs on designated server ranks (execution model: README.md here).
//
// One progress thread per server rank receives every request for the engines that rank hosts
// (engine e of a pool is hosted by server index e % nservers) and sends nothing but what the
// service threads hand back; it polls the transport with backoff, so an idle server sleeps
// instead of burning a core. Storage work runs on a small pool of service threads
// (EDAOS_SERVER_THREADS): each engine has a FIFO queue drained by one thread at a time, pool
// and container ops go to one control queue, stripe locks to one lock queue. Idle service
// threads sleep on a condition variable. Handlers never block on other ranks: a stripe lock
// that is held is answered later, by the thread that serves its unlock.
//
// Server index 0 is the pool service ("lead"): it also owns the pool's metadata store
// (containers, labels, object-ID allocators, attributes).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::vos {
class Engine;
class PoolStore;
class MetaPageWriter;
}  // namespace edaos::objstore::vos

namespace edaos::objstore::server {

class Server {
 public:
  // `t` must outlive the server. `index`: this rank's position among the server ranks.
  Server(rpc::Transport* t, int index, int nservers);
  ~Server();
  void start();
  // Stops the loop once every queued request is served and its reply sent, closes every engine
  // (releasing locks).
  void stop();
  // Service threads started by start(): EDAOS_SERVER_THREADS (1..64), else min(cores, 4).
  size_t service_threads() const { return workers_.size(); }
  // How the server learns that a client process has ended (a stripe lock it holds is then
  // released, see README "Stripe locks"): gone(rank) is true only when that rank's process is
  // known to have exited. Set before start(); without it no holder is ever considered gone.
  void set_peer_gone(std::function<bool(int rank)> gone) { peer_gone_ = std::move(gone); }
  // Requests the progress thread served itself (serve_inline), for tests and benchmarks.
  uint64_t inline_served() const { return inline_served_.load(); }
  // Requests (and parts of split vectors) handed to a service thread through a queue: each
  // costs a second thread wake-up on its way to the reply. For tests and benchmarks.
  uint64_t handoffs() const { return handoffs_.load(); }
  // kShardVec requests split per engine (server_split.cpp); parts of one vector that were all
  // being served at once (counted only under EDAOS_TEST_FAULT=vec-parts-meet). For tests.
  uint64_t vec_splits() const { return vec_splits_.load(); }
  uint64_t vec_parts_met() const { return vec_parts_met_.load(); }
  // Direct-path write leases held (granted, not released, recalled or closed); for tests.
  size_t lease_count();

 private:
  struct PoolServe;
  void loop();
  // The progress thread's share of a request: checks the header, answers what needs no storage
  // (malformed, wrong version, kShutdown) and queues the rest on the queue route() names.
  void accept(rpc::Incoming& in);
  // Appends `in` (moved out) to queue `key`, marking the queue ready when it was idle.
  void enqueue(std::string key, rpc::Incoming& in);
  // Runs one request on a service thread (or inline for the few the progress thread answers).
  void handle(rpc::Incoming& in);
  // Serves `in` on the progress thread when it is a short read (inline_op) and the server has
  // nothing else to do; false: queue it as usual.
  bool serve_inline(rpc::Incoming& in, const std::string& key);
  static bool inline_op(const rpc::Incoming& in);
  // Queue of a request: "C" control, "L" stripe locks, "V" + client rank (leases, commits,
  // syncs of named engines, malformed vectors), else pool uuid + engine id; kSplitQueue for a
  // kShardVec that spans several engines (split_vec).
  static std::string route(const rpc::Incoming& in);
  // server_split.cpp: per-engine queues for kShardVec (README "Execution model").
  struct VecPiece;
  struct VecJoin;
  static std::string engine_key(const rpc::ShardAddr& a);
  // Each op of vector `in` with its engine's queue; false when the vector is malformed.
  static bool parse_vec(const rpc::Incoming& in, std::vector<VecPiece>* out);
  static std::string route_vec(const rpc::Incoming& in);
  // Queues one part per engine of `in` (moved out); the last part served answers the client.
  void split_vec(rpc::Incoming& in);
  // A part about to be served (the vec-parts-meet test fault waits here).
  void part_started(const rpc::Incoming& in);
  // The reply to `in`: to its client, or, for a part, into its vector's join.
  void reply_to(const rpc::Incoming& in, std::string rep);
  void reply_to(const rpc::Incoming& in, rpc::Buffer buf, size_t data_off, size_t data_len);
  void join_part(const rpc::Incoming& in, rpc::Buffer buf);
  // Bytes a kArrayRead op of a vector puts in the reply (server_shard.cpp); false: malformed.
  static bool vec_read_bytes(const std::string& body, uint64_t* bytes);
  static inline const std::string kSplitQueue = "S";
  void serve();  // a service thread
  void serve_batch(const std::string& key, std::deque<rpc::Incoming>& batch);
  // kKvPut / kKvRemove: served by serve_kv_changes, never by dispatch.
  static bool is_kv_change(const rpc::Incoming& in);
  // batch[first, last), all KV changes of one engine queue: one kv_apply (one LMDB commit),
  // then every reply (README "Group commit").
  void serve_kv_changes(std::deque<rpc::Incoming>& batch, size_t first, size_t last);
  // kKvVec (metadata, session 6): the KV ops of one client call to this rank, in order per
  // engine, each engine's consecutive changes in one kv_apply; one reply after every commit.
  std::string op_kv_vec(rpc::Reader& r);
  // Magic, length and protocol version; false when the request was dropped or answered.
  bool header_ok(rpc::Incoming& in);
  // Transport calls that service threads make: serialised by tx_mu_ (every transport's reply
  // side is thread-safe today; the lock keeps one rule for all replies, README "Execution
  // model"). poll_request stays on the progress thread, outside tx_mu_.
  void send(int dest, int tag, std::string rep);
  void send(int dest, int tag, rpc::Buffer buf);
  // A bulk reply with a data section (rpc::Transport::reply: payload bytes [data_off,
  // data_off + data_len) are read data the transport may move by themselves).
  void send(int dest, int tag, rpc::Buffer buf, size_t data_off, size_t data_len);
  rpc::Buffer reply_buffer(size_t n);
  std::string dispatch(rpc::Incoming& in, bool* deferred);
  PoolServe* pool(const Uuid& u);
  // --- session 10 lazy7: engines open at first use (README "Engines open at first use") ---
  struct EngineSlot;
  // Engine `id` of `pool`, opened now if it was not yet (never on the progress thread: there an
  // engine not open yet is answered EDAOS_BUSY, see serve_inline). Null with *st: pool not
  // served, engine not hosted, down (EDAOS_UNREACH), or a transient open failure.
  vos::Engine* engine(const Uuid& pool, uint32_t id, Status* st);
  // Opens slot `s` (engine `id` of `ps`) unless it is open or down; see engine().
  vos::Engine* open_slot(PoolServe& ps, uint32_t id, EngineSlot& s, Status* st);
  // A slot whose state is settled (open: *e; down: *st): true; false while it is to be opened.
  static bool settled(uint32_t id, const EngineSlot& s, vos::Engine** e, Status* st);
  // Opens every engine of `ps` not opened yet, in parallel (pool query, container purge, object
  // listing); the first transient failure, else OK (engines found lost are marked down).
  Status open_all(PoolServe& ps);
  // Whether every engine `in` names is open, down or elsewhere (serve_inline never opens one).
  bool inline_engines_ready(const rpc::Incoming& in);
  std::atomic<uint64_t> engines_opened_{0};  // at connections and at first use (logged at stop)

  std::string op_pool_serve(rpc::Reader& r);
  std::string op_pool_close(rpc::Reader& r);
  std::string op_pool_query(rpc::Reader& r);
  std::string op_pool_exclude(rpc::Reader& r);
  std::string op_pool_set_identity(rpc::Reader& r);
  std::string op_cont(rpc::Op op, rpc::Reader& r);
  // *replied = true when the op sent its reply itself (bulk reads).
  std::string op_io(rpc::Op op, rpc::Reader& r, const rpc::Incoming& in, bool* replied);
  // server_locks.cpp: stripe locks (README "Stripe locks").
  std::string op_lock(rpc::Reader& r, const rpc::Incoming& in, bool* deferred);
  std::string op_unlock(rpc::Reader& r, const rpc::Incoming& in);
  std::string op_lock_cancel(rpc::Reader& r, const rpc::Incoming& in);
  std::string op_intent(rpc::Op op, rpc::Reader& r);
  // server_shard.cpp: the shard ops of one call in one message (kShardVec, replies itself) and
  // the sync of named engines (kSyncEngines).
  std::string op_shard_vec(rpc::Reader& r, const rpc::Incoming& in, bool* replied);
  std::string op_sync_engines(rpc::Reader& r);
  // server_shard.cpp, the direct path (issue 15 item 1): leases on shards for clients on this
  // node, their commits and releases; recall() marks the write leases of a shard a remote
  // mutation is about to change (their next commit is answered kCommitStale).
  std::string op_shard_lease(rpc::Reader& r, const rpc::Incoming& in);
  std::string op_shard_commit(rpc::Reader& r, const rpc::Incoming& in);
  std::string op_shard_release(rpc::Reader& r, const rpc::Incoming& in);
  void recall(const rpc::ShardAddr& a);
  // kPoolClose (op_pool_close); when that closed the pool on this server, every write lease
  // on its shards goes too (holders that never released them: killed, or a lost release).
  std::string op_pool_close_leases(rpc::Reader& r);
  // A stripe lock's holder or waiter (the kLock call: rank and reply tag) and the intent to
  // record when it is granted.
  struct LockWaiter {
    int rank = -1, tag = 0;
    rpc::IntentWire intent;
  };
  struct StripeLock {
    LockWaiter holder;
    std::deque<LockWaiter> waiters;
  };
  using LockMap = std::map<std::string, StripeLock>;
  // Records `w`'s intent under `key` at its engine; *orphan = a killed process left one there.
  Status set_intent(const std::string& key, const rpc::IntentWire& w, bool* orphan);
  // The holder of `it` is done (unlock, cancel) or gone: grants the lock to the next waiter
  // that is alive and whose intent can be recorded (`holder_gone`: its reply says a killed
  // process left the stripe marked), else frees it.
  void pass_lock(LockMap::iterator it, bool holder_gone);
  // Lock queue, every kSweepPeriod while waiters exist: frees the locks whose holder is gone
  // and drops waiters that are gone.
  void sweep_locks();
  // The progress thread's side of sweep_locks(): queues a sweep on the lock queue.
  void queue_lock_sweep();
  bool peer_gone(int rank) const { return peer_gone_ && peer_gone_(rank); }

  rpc::Transport* t_;
  int index_, nservers_;
  std::atomic<bool> stop_{false};
  std::thread th_;
  // pools_ and each PoolServe: changed (serve, close, identity) under a unique lock, read under
  // a shared one (engine batches hold it for the batch, so a pool closes between batches).
  std::shared_mutex pools_mu_;
  std::map<Uuid, std::unique_ptr<PoolServe>> pools_;
  // Stripe locks: key -> holder and waiters; present = held. Only the lock queue touches it.
  LockMap locks_;
  std::atomic<size_t> lock_waiters_{0};  // waiters in locks_ (read by the progress thread)
  std::function<bool(int)> peer_gone_;   // set_peer_gone()
  // Queues (see route()). A queue is `ready` while listed in ready_, `busy` while a service
  // thread drains it; never both, so one engine is served by one thread at a time, in order.
  struct Queue {
    std::deque<rpc::Incoming> q;
    bool ready = false, busy = false;
  };
  std::mutex q_mu_;
  std::condition_variable q_cv_;     // work listed in ready_, or quit_
  std::condition_variable idle_cv_;  // a batch finished (stop() waits for queued_ == 0)
  std::map<std::string, Queue> queues_;
  std::deque<std::string> ready_;
  size_t queued_ = 0;       // requests accepted and not yet answered (or deferred)
  size_t busy_queues_ = 0;  // queues a service thread is draining
  bool inline_ok_ = true;   // $EDAOS_SERVER_INLINE != 0
  std::atomic<uint64_t> inline_served_{0};
  std::atomic<uint64_t> handoffs_{0};           // incremented under q_mu_
  std::array<uint64_t, 128> handoffs_by_op_{};  // under q_mu_; logged at stop (op 127: >= 127)
  std::atomic<uint64_t> vec_splits_{0}, vec_parts_met_{0};
  bool meet_parts_ = false;  // EDAOS_TEST_FAULT=vec-parts-meet
  bool quit_ = false;
  std::vector<std::thread> workers_;
  std::mutex tx_mu_;
  // Direct-path write leases (server_shard.cpp). lease_mu_ is held across a commit's check and
  // its engine call and across a recall, so a remote change and a commit never interleave.
  struct Lease {
    std::string shard;  // pool, engine, cont, oid, shard
    int client = -1;
    uint64_t map_version = 0;
    uint32_t meta_slot = 0;  // its count in the metadata page (vos::meta_page_slot)
  };
  // Does shard `a` have a live direct-path write lease? Only then can a direct write's commit be
  // in flight on it (a size query then probes the data file for the writer's lock).
  bool write_leased(const rpc::ShardAddr& a);
  // Removes lease l from both tables (lease_mu_ held).
  void forget_lease(std::map<uint64_t, Lease>::iterator l);
  // The size-change page (server_shard.cpp, client/README.md "Size bound"): shared memory a
  // direct reader on this node maps read-only; per slot (a hash of the shard) a generation
  // bumped around every change that may lower a shard's logical end (truncate, removal), and a
  // count of such changes in progress. Made at the first lease; nullptr when it cannot be.
  struct LeasePage;
  std::shared_ptr<LeasePage> page_;
  bool page_tried_ = false;
  // page_, made on first use (nullptr when the system cannot make one); lease_mu_ held.
  const std::shared_ptr<LeasePage>& lease_page_locked();
  // Around a change that may lower the logical end of shard `a` (begin, then end).
  void size_change(const rpc::ShardAddr& a, bool begin);
  // The metadata page (session 11; vos/meta_reader.hpp, vos/README.md "Readers of meta.mdb"):
  // per engine a generation bumped after every request that may change its sizes, per shard slot
  // the count of live write leases, so the node's local stats skip the probes and log reads
  // these make unnecessary. Made in the constructor, never replaced; nullptr when the system
  // cannot make one (readers then probe and read the logs as before).
  std::shared_ptr<vos::MetaPageWriter> meta_page_;
  // Per pool, the page slots of write leases recalled here and how many: a recalled holder may
  // still hold its lock (until its refused commit is redone through the engine), so they stay
  // counted in the page, and write_leased() answers true for their shards, until the pool
  // closes on this server (lease_mu_; at most kMetaPageSlots entries per pool).
  std::map<Uuid, std::map<uint32_t, uint32_t>> recalled_;
  // After a request of engine `engine` that may have changed its sizes.log or `arrays` records,
  // before its reply.
  void meta_changed(uint32_t engine);
  // Names the page in <pool_dir>/metapage.<index> (kServeEngines); a failure only logs.
  void publish_meta_page(const std::string& pool_dir);
  std::mutex lease_mu_;
  uint64_t next_lease_ = 1;
  std::map<uint64_t, Lease> leases_;
  std::map<std::string, std::vector<uint64_t>> shard_leases_;  // live write leases per shard
};

}  // namespace edaos::objstore::server

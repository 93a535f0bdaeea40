#include "server/server.hpp"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "common/backoff.hpp"
#include "common/log.hpp"
#include "common/parallel.hpp"
#include "ec/checksum.hpp"
#include "edaos/objstore/pool_map.hpp"
#include "server/server_meta.hpp"
#include "server/wire_specs.hpp"
#include "vos/engine.hpp"
#include "vos/identity.hpp"
#include "vos/meta_reader.hpp"
#include "vos/pool_store.hpp"

EDAOS_LOG_FACILITY(server);

namespace edaos::objstore::server {

using rpc::Op;
using rpc::Reader;
using rpc::Writer;

using rpc::EngineHealth;

// An engine this rank hosts (session 10, README "Engines open at first use"): not opened yet
// (checked at the connection: directory, identity, FORMAT), open, or down. `state` is stored
// with release order after `eng` or `down` is set, so a reader that loads kOpen or kDown sees
// them; `mu` is held while the engine opens, so it opens once. Slots are made by phase 2 of a
// connection (under the unique lock of pools_mu_) and never erased while the pool is served;
// only phase 2 moves a slot back from kDown (an admin connection's transient failure, retried).
struct Server::EngineSlot {
  struct Down {
    EngineHealth health;
    Status why;
  };
  enum : int { kUnopened = 0, kOpen = 1, kDown = 2 };
  std::atomic<int> state{kUnopened};
  std::mutex mu;
  std::unique_ptr<vos::Engine> eng;  // kOpen
  Down down;                         // kDown
};

struct Server::PoolServe {
  using Slot = EngineSlot;
  using Down = EngineSlot::Down;
  std::string dir;
  vos::PoolHeader hdr;
  uint64_t quota = 0;  // bytes per engine
  int refs = 0;        // lead: counted by phase 1; other servers: by phase 2
  std::map<uint32_t, std::unique_ptr<Slot>> slots;  // every engine this rank hosts
  std::unique_ptr<vos::PoolStore> psvc;             // lead server only
};

namespace {

// Threads that open a pool's engines at its first connection (op_pool_serve).
constexpr size_t kEngineOpenThreads = 8;
// How long transient open failures (EMFILE, EIO, a lock still held by an exiting process, ...)
// are retried before the connection fails. They never mark an engine down.
constexpr auto kTransientRetry = std::chrono::milliseconds(2000);

// Test hook: EDAOS_FAULT_ENGINE_OPEN="<engine>:<ERRNO>[:<count>[:check|use]],..." makes opening
// engine <engine> fail with that errno (EMFILE, ENFILE, ENOMEM, EIO, EROFS, EACCES, or EBUSY for
// a held lock), the first <count> times in this process or always (empty count). Session 10:
// an attempt is a connection's check of the engine (check_engine_once) or its open
// (open_engine_once, at first use); `check` or `use` limits the rule to one of them.
struct FaultRule {
  uint32_t engine;
  int err;
  std::atomic<long> left;  // < 0: always
  int where;               // 0 both, 1 check only, 2 open only
};
std::vector<std::unique_ptr<FaultRule>>& fault_rules() {
  static std::vector<std::unique_ptr<FaultRule>> rules = [] {
    std::vector<std::unique_ptr<FaultRule>> r;
    const char* v = std::getenv("EDAOS_FAULT_ENGINE_OPEN");
    if (!v) return r;
    std::stringstream ss(v);
    for (std::string item; std::getline(ss, item, ',');) {
      std::stringstream is(item);
      std::string eng, name, count, where;
      std::getline(is, eng, ':');
      std::getline(is, name, ':');
      std::getline(is, count, ':');
      std::getline(is, where, ':');
      static const std::pair<const char*, int> kNames[] = {
          {"EMFILE", EMFILE}, {"ENFILE", ENFILE}, {"ENOMEM", ENOMEM}, {"EIO", EIO},
          {"EROFS", EROFS},   {"EACCES", EACCES}, {"EBUSY", EBUSY}};
      int err = 0;
      for (auto& [n, e] : kNames)
        if (name == n) err = e;
      if (eng.empty() || !err) continue;
      auto rule = std::make_unique<FaultRule>();
      rule->engine = static_cast<uint32_t>(std::strtoul(eng.c_str(), nullptr, 10));
      rule->err = err;
      rule->left = count.empty() ? -1 : std::strtol(count.c_str(), nullptr, 10);
      rule->where = where == "check" ? 1 : where == "use" ? 2 : 0;
      r.push_back(std::move(rule));
    }
    return r;
  }();
  return rules;
}
// The injected failure for one attempt of `engine` (`open`: an open, else a check), or OK.
Status injected_fault(uint32_t engine, const std::string& dir, bool open) {
  for (auto& r : fault_rules()) {
    if (r->engine != engine || r->where == (open ? 1 : 2)) continue;
    long left = r->left.load();
    while (left > 0 && !r->left.compare_exchange_weak(left, left - 1)) {
    }
    if (left == 0) continue;
    if (r->err == EBUSY)
      return Status(EDAOS_BUSY, "pool in use by a process that holds " + dir +
                                    "/LOCK (fault injected by EDAOS_FAULT_ENGINE_OPEN)");
    return Status(r->err == ENOMEM ? EDAOS_NOMEM : EDAOS_IO,
                  "open " + dir + ": " + std::strerror(r->err) +
                      " (fault injected by EDAOS_FAULT_ENGINE_OPEN)");
  }
  return Status::OK();
}

// One engine opened (or not) at a connection.
struct EngineOpen {
  std::unique_ptr<vos::Engine> eng;
  EngineHealth health = EngineHealth::kUp;  // kLost, or kUnavailable for a transient failure
  Status why;
};

Status no_identity(const std::string& dir, const vos::PoolHeader& hdr) {
  return Status(EDAOS_FORMAT, "engine directory " + dir +
                                  " records no pool identity (IDENTITY is missing) although "
                                  "every engine of pool " +
                                  hdr.uuid.to_string() +
                                  " has one: it is not this pool's engine; left untouched");
}

// One attempt: the directory, its identity, the engine itself. A missing directory, an
// unrecognisable format and a foreign or (in a pool with identity) absent identity make the
// engine lost; everything else that fails is transient.
EngineOpen open_engine_once(const std::string& pool_dir, const vos::PoolHeader& hdr, uint32_t e,
                            uint64_t quota) {
  EngineOpen out;
  const std::string dir = pool_dir + "/" + vos::engine_dir_name(e);
  auto lost = [&](Status st) {
    out.health = EngineHealth::kLost;
    out.why = std::move(st);
    return std::move(out);
  };
  auto transient = [&](Status st) {
    out.health = EngineHealth::kUnavailable;
    out.why = std::move(st);
    out.eng.reset();
    return std::move(out);
  };
  struct stat sb;
  if (::stat(dir.c_str(), &sb) != 0) {
    if (errno == ENOENT)
      return lost(Status(EDAOS_NONEXIST, "engine directory " + dir + " is missing"));
    return transient(Status(EDAOS_IO, "engine directory " + dir + ": " + std::strerror(errno)));
  }
  if (!S_ISDIR(sb.st_mode)) return lost(Status(EDAOS_FORMAT, dir + " is not a directory"));
  std::string why;
  bool upgrade = false;
  switch (vos::check_engine_identity(dir, hdr.uuid, e, &why)) {
    case vos::IdentityCheck::kMatch:
      break;
    case vos::IdentityCheck::kAbsent:
      if (hdr.identity) return lost(no_identity(dir, hdr));
      upgrade = true;  // made by a build that recorded none: recorded below, under its lock
      break;
    case vos::IdentityCheck::kForeign:
      return lost(Status(EDAOS_FORMAT, why + "; left untouched"));
    case vos::IdentityCheck::kDamaged:
      return lost(Status(EDAOS_FORMAT, why));
    case vos::IdentityCheck::kReadError:
      return transient(Status(EDAOS_IO, why));
  }
  if (Status f = injected_fault(e, dir, true); !f.ok()) return transient(f);
  vos::Engine::Options o;
  o.dir = dir;
  o.ntargets = hdr.ntargets;
  o.quota_bytes = quota;
  auto eng = vos::Engine::open(o);
  if (!eng.ok()) {
    switch (eng.status().code()) {
      case EDAOS_NONEXIST:
      case EDAOS_FORMAT:
      case EDAOS_INVAL:
        return lost(eng.status());
      default:
        return transient(eng.status());
    }
  }
  if (upgrade) {
    Status st = vos::write_engine_identity(dir, vos::EngineIdentity{hdr.uuid, e});
    if (!st.ok()) return transient(st);
    EDAOS_LOG(info, "engine %s: pool identity recorded (%s)", dir.c_str(),
              hdr.uuid.to_string().c_str());
  }
  out.eng = std::move(eng).value();
  return out;
}

// The checks of open_engine_once that need neither the engine's lock nor its LMDB (session 10:
// a connection runs them for the engines it does not open): the directory, its identity and
// FORMAT, classified exactly as open_engine_once classifies them. health kUp with no engine:
// the engine may be opened at its first use; *upgrade: it records no identity yet (a pool of an
// older build), so it must be opened now (the identity is written under its lock before the
// connection may mark the pool as carrying identities).
EngineOpen check_engine_once(const std::string& pool_dir, const vos::PoolHeader& hdr, uint32_t e,
                             bool* upgrade) {
  EngineOpen out;
  const std::string dir = pool_dir + "/" + vos::engine_dir_name(e);
  auto set = [&](EngineHealth h, Status st) {
    out.health = h;
    out.why = std::move(st);
    return std::move(out);
  };
  // The identity first: a matching IDENTITY inside proves the directory is there and is one
  // (one stat less per engine); any other answer is judged after the directory itself, in the
  // order of open_engine_once.
  std::string why;
  *upgrade = false;
  vos::IdentityCheck id = vos::check_engine_identity(dir, hdr.uuid, e, &why);
  if (id != vos::IdentityCheck::kMatch) {
    struct stat sb;
    if (::stat(dir.c_str(), &sb) != 0) {
      if (errno == ENOENT)
        return set(EngineHealth::kLost,
                   Status(EDAOS_NONEXIST, "engine directory " + dir + " is missing"));
      return set(EngineHealth::kUnavailable,
                 Status(EDAOS_IO, "engine directory " + dir + ": " + std::strerror(errno)));
    }
    if (!S_ISDIR(sb.st_mode))
      return set(EngineHealth::kLost, Status(EDAOS_FORMAT, dir + " is not a directory"));
    why.clear();
    id = vos::check_engine_identity(dir, hdr.uuid, e, &why);  // the directory may have come
  }
  switch (id) {
    case vos::IdentityCheck::kMatch:
      break;
    case vos::IdentityCheck::kAbsent:
      if (hdr.identity) return set(EngineHealth::kLost, no_identity(dir, hdr));
      *upgrade = true;
      return out;
    case vos::IdentityCheck::kForeign:
      return set(EngineHealth::kLost, Status(EDAOS_FORMAT, why + "; left untouched"));
    case vos::IdentityCheck::kDamaged:
      return set(EngineHealth::kLost, Status(EDAOS_FORMAT, why));
    case vos::IdentityCheck::kReadError:
      return set(EngineHealth::kUnavailable, Status(EDAOS_IO, why));
  }
  // The injected open failures (EDAOS_FAULT_ENGINE_OPEN) apply to every attempt to open the
  // engine's files, these checks included: a rule without a count fails the connection, as it
  // did when the connection opened every engine.
  if (Status fi = injected_fault(e, dir, false); !fi.ok())
    return set(EngineHealth::kUnavailable, fi);
  Status f = vos::Engine::check_format(dir, hdr.ntargets);
  switch (f.code()) {
    case EDAOS_OK:
      return out;
    case EDAOS_NONEXIST:
    case EDAOS_FORMAT:
    case EDAOS_INVAL:
      return set(EngineHealth::kLost, f);
    default:
      return set(EngineHealth::kUnavailable, f);
  }
}

// Retries transient failures of `once` with growing pauses for up to kTransientRetry.
template <class Once>
EngineOpen with_retries(Once&& once) {
  auto deadline = std::chrono::steady_clock::now() + kTransientRetry;
  auto pause = std::chrono::milliseconds(10);
  for (;;) {
    EngineOpen r = once();
    if (r.health != EngineHealth::kUnavailable || std::chrono::steady_clock::now() >= deadline)
      return r;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

EngineOpen open_engine(const std::string& pool_dir, const vos::PoolHeader& hdr, uint32_t e,
                       uint64_t quota) {
  return with_retries([&] { return open_engine_once(pool_dir, hdr, e, quota); });
}

EngineOpen check_engine(const std::string& pool_dir, const vos::PoolHeader& hdr, uint32_t e,
                        bool* upgrade) {
  return with_retries([&] { return check_engine_once(pool_dir, hdr, e, upgrade); });
}

// The error of an engine that failed to open with a transient error (after the retries), at a
// connection or at the engine's first use: the same class and words either way.
Status transient_open_failure(const std::string& dir, uint32_t e, const Status& st,
                              bool first_use) {
  return Status(st.code(), "engine " + std::to_string(e) + " (" + dir + "/" +
                               vos::engine_dir_name(e) + ") cannot be opened: " + st.message() +
                               " (a transient error" +
                               (first_use ? " at the engine's first use" : "") + ": retried for " +
                               std::to_string(kTransientRetry.count() / 1000) +
                               " s; the engine is not marked down)");
}

// Set on the progress thread while it serves a request inline (Server::serve_inline): engines
// that are not open yet are not opened there (an open takes milliseconds, seconds when it
// walks); Server::engine() answers as if they were elsewhere.
thread_local bool t_inline = false;

// The pool service store, retrying a held lock (an exiting owner) and transient errors the same
// way. EDAOS_BUSY after the retries names the owner.
Result<std::unique_ptr<vos::PoolStore>> open_pool_service(const std::string& dir) {
  auto deadline = std::chrono::steady_clock::now() + kTransientRetry;
  auto pause = std::chrono::milliseconds(10);
  for (;;) {
    auto ps = vos::PoolStore::open(dir);
    if (ps.ok()) return ps;
    edaos_status_t c = ps.status().code();
    bool transient = c != EDAOS_FORMAT && c != EDAOS_NONEXIST && c != EDAOS_INVAL;
    if (!transient || std::chrono::steady_clock::now() >= deadline) return ps.status();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(250));
  }
}

std::string encode_keys(const std::vector<std::string>& keys) {
  Writer w;
  w.put<uint32_t>(static_cast<uint32_t>(keys.size()));
  for (auto& k : keys) w.str(k);
  return w.take();
}

Status bad_body() { return Status(EDAOS_PROTO, "malformed request body"); }

// The body of a kKvPut / kKvGet / kKvRemove after its ShardAddr, alone or as a kKvVec entry
// (client/kv.cpp encode_kv): checksum spec (put, get), flags (put), dkey, akey, value (put).
struct KvBody {
  rpc::CsumWire cw;
  uint32_t flags = 0;
  std::string dkey, akey, value;
};
bool decode_kv(rpc::Reader& r, rpc::Op op, KvBody* b) {
  if (op != rpc::Op::kKvRemove) b->cw = rpc::CsumWire::decode(r);
  if (op == rpc::Op::kKvPut) b->flags = r.get<uint32_t>();
  b->dkey = r.str();
  b->akey = r.str();
  if (op == rpc::Op::kKvPut) b->value = r.str();
  return r.ok();
}

}  // namespace

namespace {

// A boolean switch from the environment: "0" off, "1" on, anything else the default.
bool env_flag(const char* name, bool dflt) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  if (std::strcmp(v, "0") == 0) return false;
  if (std::strcmp(v, "1") == 0) return true;
  EDAOS_LOG(warn, "%s=%s is not 0 or 1: using the default", name, v);
  return dflt;
}

// A count from the environment in [lo, hi], else the default.
long env_count(const char* name, long dflt, long lo, long hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (end && *end == '\0' && n >= lo && n <= hi) return n;
  EDAOS_LOG(warn, "%s=%s is not a number in %ld..%ld: using the default", name, v, lo, hi);
  return dflt;
}

// Service threads: EDAOS_SERVER_THREADS when it is a number in 1..64, else one per core up to 4
// (the server shares its node with the job's ranks; storage calls mostly wait on the disk).
size_t service_thread_count() {
  unsigned hw = std::thread::hardware_concurrency();
  return static_cast<size_t>(
      env_count("EDAOS_SERVER_THREADS", std::clamp<long>(hw ? hw : 1, 1, 4), 1, 64));
}

// Requests a service thread takes from one queue in one pass (fairness between engines).
constexpr size_t kMaxBatch = 64;

// Inline service (Server::serve_inline): at most this many read ops and bytes in the request,
// so the progress thread is never away from the transport for more than one short read.
constexpr uint32_t kInlineMaxOps = 16;
constexpr uint64_t kInlineMaxBytes = uint64_t{1} << 20;
// ... or, for a vector of size queries (and at most kInlineMaxOps reads), this many ops.
constexpr uint32_t kInlineMaxSizeOps = 64;
// ... and at most this many keys per KV listing.
constexpr uint32_t kInlineMaxKeys = 1024;

// Stripe-lock sweeps (Server::sweep_locks): how often, and the source that marks one in the
// lock queue (no client has a negative rank).
constexpr auto kSweepPeriod = std::chrono::milliseconds(500);
constexpr int kSweepSource = -1;

const std::string kControlQueue = "C";
const std::string kLockQueue = "L";

}  // namespace

Server::Server(rpc::Transport* t, int index, int nservers)
    : t_(t), index_(index), nservers_(nservers), meta_page_(vos::MetaPageWriter::create()) {}

Server::~Server() { stop(); }

void Server::start() {
  stop_ = false;
  quit_ = false;
  inline_ok_ = env_flag("EDAOS_SERVER_INLINE", true);
  const char* fault = std::getenv("EDAOS_TEST_FAULT");
  meet_parts_ = fault && std::string(fault) == "vec-parts-meet";
  size_t n = service_thread_count();
  for (size_t i = 0; i < n; ++i) {
    try {
      workers_.emplace_back([this] { serve(); });
    } catch (const std::system_error& e) {
      if (workers_.empty()) throw;  // not one service thread: the server cannot run
      EDAOS_LOG(warn, "only %zu of %zu service threads started: %s", workers_.size(), n, e.what());
      break;
    }
  }
  th_ = std::thread([this] { loop(); });
}

void Server::stop() {
  if (!th_.joinable()) return;
  stop_ = true;
  th_.join();  // returns once every queued request is served and every reply sent
  {
    std::lock_guard<std::mutex> g(q_mu_);
    quit_ = true;
  }
  q_cv_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
  EDAOS_LOG(info,
            "server %d: %" PRIu64 " requests served by the progress thread, %" PRIu64
            " handed to service threads, %" PRIu64 " engines opened",
            index_, inline_served_.load(), handoffs_.load(), engines_opened_.load());
  std::string by_op;
  for (size_t op = 0; op < handoffs_by_op_.size(); ++op)
    if (handoffs_by_op_[op])
      by_op += " " + std::to_string(op) + ":" + std::to_string(handoffs_by_op_[op]);
  if (!by_op.empty()) EDAOS_LOG(info, "server %d: hand-offs by op:%s", index_, by_op.c_str());
  queues_.clear();
  ready_.clear();
  pools_.clear();
}

void Server::send(int dest, int tag, std::string rep) {
  std::lock_guard<std::mutex> g(tx_mu_);
  t_->reply(dest, tag, std::move(rep));
}

void Server::send(int dest, int tag, rpc::Buffer buf) {
  std::lock_guard<std::mutex> g(tx_mu_);
  t_->reply(dest, tag, std::move(buf));
}

void Server::send(int dest, int tag, rpc::Buffer buf, size_t data_off, size_t data_len) {
  std::lock_guard<std::mutex> g(tx_mu_);
  t_->reply(dest, tag, std::move(buf), data_off, data_len);
}

rpc::Buffer Server::reply_buffer(size_t n) {
  std::lock_guard<std::mutex> g(tx_mu_);
  return t_->reply_buffer(n);
}

// The progress thread: receive, queue, advance replies. Nothing here touches storage, so a
// slow disk never delays the next receive. The one "get next request" call is wait_request.
void Server::loop() {
  pthread_setname_np(pthread_self(), "edaos-progress");  // named for counts (rpc_bench --counts)
  Backoff bo(1000);
  rpc::Incoming in;
  rpc::Clock::time_point last_sweep = rpc::Clock::now();
  for (;;) {
    bool busy = false;
    while (t_->wait_request(
        &in, busy ? rpc::Clock::now() : rpc::Clock::now() + std::chrono::milliseconds(100))) {
      accept(in);
      busy = true;
    }
    bool sending;
    {
      std::lock_guard<std::mutex> g(tx_mu_);
      sending = t_->progress_replies();
    }
    if (stop_.load(std::memory_order_relaxed) && !sending) {
      std::lock_guard<std::mutex> g(q_mu_);
      if (queued_ == 0) break;
    }
    // Stripe locks whose holder has exited (README "Stripe locks"): looked for while someone
    // waits for a lock, at most once per kSweepPeriod.
    if (peer_gone_ && lock_waiters_.load() > 0 && rpc::Clock::now() - last_sweep >= kSweepPeriod) {
      queue_lock_sweep();
      last_sweep = rpc::Clock::now();
    }
    if (busy)
      bo.reset();
    else
      bo.pause();
  }
}

std::string Server::route(const rpc::Incoming& in) {
  switch (static_cast<Op>(in.hdr.op)) {
    case Op::kLock:
    case Op::kUnlock:
    case Op::kLockCancel:
      return kLockQueue;
    case Op::kKvPut:
    case Op::kKvGet:
    case Op::kKvRemove:
    case Op::kKvListDkeys:
    case Op::kKvListAkeys:
    case Op::kObjPunch: {
      // Every shard op starts with its ShardAddr: its engine names the queue.
      Reader r(in.body(), in.body_len());
      rpc::ShardAddr a = rpc::ShardAddr::decode(r);
      if (!r.ok()) return kControlQueue;  // answered there as a malformed body
      std::string key(reinterpret_cast<const char*>(a.pool.b), sizeof a.pool.b);
      key.append(reinterpret_cast<const char*>(&a.engine), sizeof a.engine);
      return key;
    }
    case Op::kShardVec:
      // Per engine: a vector of one engine to its queue, one of several split per engine
      // (server_split.cpp), so one engine's requests keep their arrival order.
      return route_vec(in);
    case Op::kKvVec:
    case Op::kSyncEngines:
    case Op::kShardLease:
    case Op::kShardCommit:
    case Op::kShardRelease:
      // These span the engines of this rank: one queue per client rank keeps each client's
      // calls in order, different clients run on different threads, and every engine call
      // takes the engine's own mutex (README "Thread safety").
      return "V" + std::to_string(in.source);
    default:  // pool service, containers, multi-engine ops (sync, purge, lists, intents)
      return kControlQueue;
  }
}

void Server::accept(rpc::Incoming& in) {
  const rpc::RequestHeader& h = in.hdr;
  if (h.magic != rpc::kMagic || in.buf.size() < sizeof h + h.body_len ||
      h.version != rpc::kProtocolVersion || static_cast<Op>(h.op) == Op::kShutdown) {
    handle(in);  // dropped, refused or answered here: no storage involved
    return;
  }
  std::string key = route(in);
  if (serve_inline(in, key)) return;
  if (key == kSplitQueue)
    split_vec(in);
  else
    enqueue(std::move(key), in);
}

void Server::enqueue(std::string key, rpc::Incoming& in) {
  std::lock_guard<std::mutex> g(q_mu_);
  Queue& q = queues_[key];
  if (in.source != kSweepSource) {
    ++handoffs_;
    ++handoffs_by_op_[std::min<size_t>(in.hdr.op, handoffs_by_op_.size() - 1)];
  }
  q.q.push_back(std::move(in));
  in = rpc::Incoming{};
  ++queued_;
  if (!q.busy && !q.ready) {
    q.ready = true;
    ready_.push_back(std::move(key));
    q_cv_.notify_one();
  }
}

void Server::queue_lock_sweep() {
  rpc::Incoming sweep;
  sweep.source = kSweepSource;
  enqueue(kLockQueue, sweep);
}

namespace {

// A KV read the progress thread may serve itself (Server::inline_op): a get, or a key listing of
// at most kInlineMaxKeys keys. `body` is the op's body (ShardAddr first).
bool inline_kv_read(Op op, const char* body, size_t len) {
  if (op == Op::kKvGet) return true;      // one value: one LMDB lookup
  if (op == Op::kKvGetSize) return true;  // and the sizes of one array's shards (session 8)
  if (op != Op::kKvListDkeys && op != Op::kKvListAkeys) return false;
  Reader r(body, len);
  (void)rpc::ShardAddr::decode(r);
  if (op == Op::kKvListAkeys) (void)r.str();  // dkey
  (void)r.str();                              // anchor
  const uint32_t max = r.get<uint32_t>();
  return r.ok() && max <= kInlineMaxKeys;
}

}  // namespace

// Inline service (README "Execution model"): a request that only reads a little, arriving at
// a server with nothing queued and no service thread at work, is served by the progress thread
// itself; handing it to a service thread would cost a second thread wake-up per round trip.
bool Server::inline_op(const rpc::Incoming& in) {
  const Op vop = static_cast<Op>(in.hdr.op);
  if (vop != Op::kShardVec && vop != Op::kKvVec)
    return inline_kv_read(vop, in.body(), in.body_len());
  Reader r(in.body(), in.body_len());
  if (vop == Op::kKvVec) {
    // The KV reads of a stat or a lookup: gets and short dkey listings only (no change: a put
    // or a removal is an LMDB commit, which stays with the service threads).
    const uint32_t n = r.get<uint32_t>();
    if (!r.ok() || n == 0 || n > kInlineMaxOps) return false;
    for (uint32_t i = 0; i < n; ++i) {
      const Op op = static_cast<Op>(r.get<uint16_t>());
      const std::string body = r.str();
      if (!r.ok() || op == Op::kKvListAkeys || !inline_kv_read(op, body.data(), body.size()))
        return false;
    }
    return true;
  }
  // Reads and size queries. A file's size asks every shard of its object, one op per shard
  // (a stat of a file striped over a 20-engine pool: 20 ops): size ops only read a shard's
  // size, so more of them may go inline than reads.
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > kInlineMaxSizeOps) return false;
  uint64_t bytes = 0;
  uint32_t reads = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const Op op = static_cast<Op>(r.get<uint16_t>());
    const std::string body = r.str();
    (void)r.get<uint64_t>();  // bulk length: reads and sizes carry none
    if (!r.ok() || (op != Op::kArrayRead && op != Op::kArraySize)) return false;
    if (op == Op::kArrayRead) {
      if (++reads > kInlineMaxOps) return false;
      Reader br(body);
      (void)rpc::ShardAddr::decode(br);
      (void)rpc::CsumWire::decode(br);
      (void)br.get<uint64_t>();  // offset
      const uint64_t len = br.get<uint64_t>();
      if (!br.ok() || len > kInlineMaxBytes - bytes) return false;
      bytes += len;
    }
  }
  return true;
}

bool Server::serve_inline(rpc::Incoming& in, const std::string& key) {
  if (!inline_ok_ || !inline_op(in)) return false;
  {
    // Only the progress thread queues requests, so an idle queue stays idle while it serves
    // this one: the request keeps its place in its queue's order. No service thread at work
    // means no engine mutex is held by a long write or sync that could stall this thread.
    std::lock_guard<std::mutex> g(q_mu_);
    if (busy_queues_ != 0 || !ready_.empty()) return false;
    auto it = queues_.find(key);
    if (it != queues_.end() && (!it->second.q.empty() || it->second.busy || it->second.ready))
      return false;
  }
  // A pool being opened or closed holds pools_mu_ for long: queue rather than wait for it.
  std::shared_lock<std::shared_mutex> g(pools_mu_, std::try_to_lock);
  if (!g.owns_lock()) return false;
  // An engine not open yet opens on a service thread (an open takes milliseconds, seconds when
  // it walks its targets). t_inline makes Server::engine() refuse to open one, should anything
  // reach an engine the check below did not see (kKvGetSize then answers kSizeElsewhere).
  if (!inline_engines_ready(in)) return false;
  ++inline_served_;  // before the reply goes: a caller that has its answer sees the count
  t_inline = true;
  handle(in);
  t_inline = false;
  return true;
}

bool Server::inline_engines_ready(const rpc::Incoming& in) {
  // `op`'s engine is open (or down, or elsewhere); for kKvGetSize, whose array may have shards
  // on any engine of the pool, every engine of the pool this rank hosts (until they are all
  // open, such a request goes to a service thread, which opens the array's engines and answers
  // the sizes: the client's round trip stays one).
  auto ready = [&](Op op, const char* body, size_t len) {
    Reader r(body, len);
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    if (!r.ok()) return true;  // malformed: answered as such, nothing opens
    PoolServe* ps = pool(a.pool);
    if (!ps) return true;
    auto unopened = [](const std::unique_ptr<EngineSlot>& sl) {
      return sl->state.load(std::memory_order_acquire) == EngineSlot::kUnopened;
    };
    if (op == Op::kKvGetSize) {
      for (auto& [id, sl] : ps->slots)
        if (unopened(sl)) return false;
      return true;
    }
    auto it = ps->slots.find(a.engine);
    return it == ps->slots.end() || !unopened(it->second);
  };
  const Op vop = static_cast<Op>(in.hdr.op);
  if (vop != Op::kShardVec && vop != Op::kKvVec) return ready(vop, in.body(), in.body_len());
  Reader r(in.body(), in.body_len());
  const uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    const Op op = static_cast<Op>(r.get<uint16_t>());
    const std::string body = r.str();
    if (vop == Op::kShardVec) (void)r.get<uint64_t>();  // bulk length
    if (r.ok() && !ready(op, body.data(), body.size())) return false;
  }
  return true;
}

// A service thread: takes the oldest ready queue, drains up to kMaxBatch of its requests in
// order, gives it back (ready again when more arrived meanwhile). Sleeps while nothing is ready.
void Server::serve() {
  pthread_setname_np(pthread_self(), "edaos-svc");
  std::unique_lock<std::mutex> lk(q_mu_);
  for (;;) {
    q_cv_.wait(lk, [this] { return quit_ || !ready_.empty(); });
    if (ready_.empty()) return;  // quit_
    std::string key = std::move(ready_.front());
    ready_.pop_front();
    Queue& q = queues_[key];
    q.ready = false;
    q.busy = true;
    ++busy_queues_;
    std::deque<rpc::Incoming> batch;
    if (q.q.size() <= kMaxBatch) {
      batch.swap(q.q);
    } else {
      for (size_t i = 0; i < kMaxBatch; ++i) {
        batch.push_back(std::move(q.q.front()));
        q.q.pop_front();
      }
    }
    lk.unlock();
    serve_batch(key, batch);
    const size_t n = batch.size();
    batch.clear();
    lk.lock();
    queued_ -= n;
    q.busy = false;
    --busy_queues_;
    if (!q.q.empty()) {
      q.ready = true;
      ready_.push_back(key);
      q_cv_.notify_one();
    } else if (key != kControlQueue && key != kLockQueue) {
      queues_.erase(key);  // engine queues come and go with their traffic
    }
  }
}

bool Server::is_kv_change(const rpc::Incoming& in) {
  const Op op = static_cast<Op>(in.hdr.op);
  return op == Op::kKvPut || op == Op::kKvRemove;
}

void Server::serve_batch(const std::string& key, std::deque<rpc::Incoming>& batch) {
  if (key != kControlQueue) {
    // Engine and lock queues only look pools up: a pool closes between batches.
    std::shared_lock<std::shared_mutex> g(pools_mu_);
    // Group commit (README "Group commit"): on an engine queue, each run of consecutive KV
    // puts/removes is one LMDB transaction, answered after its commit. Runs are cut at every
    // other request, so each request still sees exactly the changes received before it.
    for (size_t i = 0; i < batch.size();) {
      if (batch[i].source == kSweepSource) {  // queued by the progress thread, no reply
        sweep_locks();
        ++i;
        continue;
      }
      size_t j = i;
      while (j < batch.size() && is_kv_change(batch[j])) ++j;
      if (j == i) {
        handle(batch[i++]);
        continue;
      }
      serve_kv_changes(batch, i, j);
      i = j;
    }
    return;
  }
  for (auto& in : batch) {
    Op op = static_cast<Op>(in.hdr.op);
    if (op == Op::kPoolServe || op == Op::kPoolClose || op == Op::kPoolSetIdentity) {
      std::unique_lock<std::shared_mutex> g(pools_mu_);
      handle(in);
    } else {
      std::shared_lock<std::shared_mutex> g(pools_mu_);
      handle(in);
    }
  }
}

bool Server::header_ok(rpc::Incoming& in) {
  const rpc::RequestHeader& h = in.hdr;
  if (h.magic != rpc::kMagic || in.buf.size() < sizeof h + h.body_len) {
    EDAOS_LOG(error, "dropping malformed request from rank %d", in.source);
    return false;
  }
  if (h.version != rpc::kProtocolVersion) {
    send(in.source, h.reply_tag,
         rpc::make_reply(Status(EDAOS_PROTO, "protocol version " + std::to_string(h.version) +
                                                 " not supported (server speaks " +
                                                 std::to_string(rpc::kProtocolVersion) + ")")));
    return false;
  }
  return true;
}

void Server::serve_kv_changes(std::deque<rpc::Incoming>& batch, size_t first, size_t last) {
  struct Change {
    rpc::Incoming* in = nullptr;
    Status st;  // a request that cannot join the group (bad body, engine down): its answer
    KvBody kv;
  };
  std::vector<Change> reqs;
  reqs.reserve(last - first);
  std::vector<vos::Engine::KvChange> changes;
  std::vector<size_t> which;  // request index of each change
  vos::Engine* e = nullptr;
  for (size_t i = first; i < last; ++i) {
    rpc::Incoming& in = batch[i];
    if (!header_ok(in)) continue;
    reqs.emplace_back();
    Change& c = reqs.back();
    c.in = &in;
    const Op op = static_cast<Op>(in.hdr.op);
    Reader r(in.body(), in.body_len());
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    if (!decode_kv(r, op, &c.kv)) {
      c.st = bad_body();
      continue;
    }
    vos::Engine* ce = engine(a.pool, a.engine, &c.st);
    if (!ce) continue;
    if (e && ce != e) {  // one queue is one engine; never group across engines
      c.st = Status(EDAOS_PROTO, "KV change for another engine in an engine queue");
      continue;
    }
    e = ce;
    vos::Engine::KvChange k;
    k.remove = op == Op::kKvRemove;
    k.ref = shard_ref(a);
    k.flags = c.kv.flags;
    k.cs = csum_spec(c.kv.cw);
    changes.push_back(k);
    which.push_back(reqs.size() - 1);
  }
  for (size_t k = 0; k < changes.size(); ++k) {  // views into reqs (no longer resized)
    const KvBody& b = reqs[which[k]].kv;
    changes[k].dkey = b.dkey;
    changes[k].akey = b.akey;
    changes[k].value = b.value;
  }
  if (e) {
    std::vector<Status> results;
    const Status commit = e->kv_apply(changes, &results);
    // Replies only now: nothing is acknowledged before its transaction is committed, and a
    // failed commit fails every change of the group.
    for (size_t k = 0; k < changes.size(); ++k)
      reqs[which[k]].st = commit.ok() ? results[k] : commit;
  }
  for (Change& c : reqs) send(c.in->source, c.in->hdr.reply_tag, rpc::make_reply(c.st));
}

std::string Server::op_kv_vec(Reader& r) {
  struct VecOp {
    Op op = Op::kKvGet;
    Status st;                     // its outcome (a get's value in `value`)
    vos::Engine* e = nullptr;      // null: failed before reaching an engine
    vos::Engine::KvChange change;  // puts and removes (views into `kv`)
    KvBody kv;                     // a listing: dkey = anchor; value: a get's or listing's
    uint32_t oid_off = 0;          // kKvGetSize: where the value names the array
    uint32_t map_version = 0;      // kKvGetSize: the client's pool-map version
    rpc::ShardAddr addr;           // kKvGetSize: pool and container of the array
    std::string guard;             // kKvRemoveIf: the bytes the value must hold at oid_off
  };
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps)
    return rpc::make_reply(Status(EDAOS_PROTO, "kKvVec: bad op count " + std::to_string(n)));
  std::vector<VecOp> ops(n);
  for (VecOp& o : ops) {
    o.op = static_cast<Op>(r.get<uint16_t>());
    const std::string body = r.str();
    if (!r.ok()) return rpc::make_reply(bad_body());
    if (o.op != Op::kKvPut && o.op != Op::kKvGet && o.op != Op::kKvRemove &&
        o.op != Op::kKvListDkeys && o.op != Op::kKvGetSize && o.op != Op::kKvTakeArray &&
        o.op != Op::kKvRemoveIf) {
      o.st = Status(EDAOS_PROTO, "kKvVec: op " + std::to_string(static_cast<int>(o.op)) +
                                     " is not a KV put, get, get-with-size, remove or dkey "
                                     "listing");
      continue;
    }
    Reader br(body);
    const rpc::ShardAddr a = rpc::ShardAddr::decode(br);
    bool ok;
    if (o.op == Op::kKvListDkeys) {
      o.kv.dkey = br.str();             // the anchor
      o.kv.flags = br.get<uint32_t>();  // at most this many keys
      ok = br.ok();
    } else if (o.op == Op::kKvGetSize || o.op == Op::kKvTakeArray) {
      ok = decode_kv(br, Op::kKvGet, &o.kv);
      o.oid_off = br.get<uint32_t>();
      if (o.op == Op::kKvGetSize) o.map_version = br.get<uint32_t>();
      o.addr = a;
      ok = ok && br.ok();
    } else if (o.op == Op::kKvRemoveIf) {
      ok = decode_kv(br, Op::kKvGet, &o.kv);
      o.oid_off = br.get<uint32_t>();
      o.guard = br.str();
      ok = ok && br.ok() && !o.guard.empty();
    } else {
      ok = decode_kv(br, o.op, &o.kv);
    }
    if (!ok) {
      o.st = bad_body();
      continue;
    }
    o.e = engine(a.pool, a.engine, &o.st);
    o.change.remove = o.op == Op::kKvRemove || o.op == Op::kKvRemoveIf;
    o.change.ref = shard_ref(a);
    o.change.flags = o.kv.flags;
    o.change.cs = csum_spec(o.kv.cw);
  }
  // Per engine, in the order of the vector: each run of consecutive changes is one kv_apply
  // (one LMDB transaction, nested per change), a get sees every change before it. Engines are
  // independent of each other, as separate messages to them would be.
  std::vector<vos::Engine*> engines;
  for (const VecOp& o : ops)
    if (o.e && std::find(engines.begin(), engines.end(), o.e) == engines.end())
      engines.push_back(o.e);
  for (vos::Engine* e : engines) {
    std::vector<VecOp*> run;
    auto apply = [&] {
      if (run.empty()) return;
      std::vector<vos::Engine::KvChange> changes;
      changes.reserve(run.size());
      for (VecOp* o : run) {
        o->change.dkey = o->kv.dkey;
        o->change.akey = o->kv.akey;
        o->change.value = o->kv.value;
        if (o->op == Op::kKvRemoveIf) {  // the whole dkey, while (dkey, akey) holds the guard
          o->change.akey = {};
          o->change.guarded = true;
          o->change.guard_akey = o->kv.akey;
          o->change.guard = o->guard;
          o->change.guard_off = o->oid_off;
        }
        changes.push_back(o->change);
      }
      std::vector<Status> results;
      const Status commit = e->kv_apply(changes, &results);
      // A failed commit fails every change of the run: none took effect.
      for (size_t k = 0; k < run.size(); ++k) run[k]->st = commit.ok() ? results[k] : commit;
      run.clear();
    };
    for (VecOp& o : ops) {
      if (o.e != e) continue;
      if (o.op == Op::kKvPut || o.op == Op::kKvRemove || o.op == Op::kKvRemoveIf) {
        run.push_back(&o);
        continue;
      }
      apply();
      if (o.op == Op::kKvListDkeys) {
        bool eof = false;
        auto keys = e->kv_list_dkeys(o.change.ref, o.kv.dkey, std::max(o.change.flags, 1u), &eof);
        if (keys.ok()) {
          o.kv.value = std::string(1, eof ? '\1' : '\0') + encode_keys(keys.value());
        } else {
          o.st = keys.status();
        }
        continue;
      }
      auto v = e->kv_get(o.change.ref, o.kv.dkey, o.kv.akey, o.change.cs);
      if (!v.ok()) {
        o.st = v.status();
      } else if (o.op == Op::kKvTakeArray) {
        // The value, then the removal of its whole dkey when it names a byte array (the
        // caller destroys the array; the entry goes first, as a client's get + remove do).
        // Session 9: the removal is guarded by the OID just read (decided in its own
        // transaction), so it never removes an entry another request put there in between;
        // then the new value is read and judged again (a few times at most).
        std::string val = std::move(v).value();
        bool take = meta_names_array(val, o.oid_off), taken = false;
        for (int tries = 0; take && !taken; ++tries) {
          if (tries == 4) {  // changed under us every time: leave it
            o.st = Status(EDAOS_BUSY, "dkey '" + o.kv.dkey + "' changed during its removal");
            break;
          }
          vos::Engine::KvChange c;
          c.remove = c.guarded = true;
          c.ref = o.change.ref;
          c.dkey = o.kv.dkey;
          c.guard_akey = o.kv.akey;
          c.guard_off = o.oid_off;
          c.guard = std::string_view(val).substr(o.oid_off, rpc::kKvOidBytes);
          c.cs = o.change.cs;
          std::vector<Status> results;
          const Status commit = e->kv_apply({c}, &results);
          const Status st = commit.ok() ? results[0] : commit;
          if (st.ok()) {
            taken = true;
          } else if (st.code() != EDAOS_EXIST) {
            o.st = st;
          } else {
            auto again = e->kv_get(o.change.ref, o.kv.dkey, o.kv.akey, o.change.cs);
            o.st = again.status();
            if (!again.ok()) break;
            val = std::move(again).value();
            take = meta_names_array(val, o.oid_off);
            continue;
          }
          break;
        }
        Writer vw;
        vw.str(val);
        vw.put<uint8_t>(taken ? 1 : 0);
        o.kv.value = vw.take();
      } else if (o.op == Op::kKvGetSize) {
        // The value, then the sizes of the array it names, read after it (server_meta.cpp).
        Writer vw;
        vw.str(v.value());
        PoolServe* ps = pool(o.addr.pool);
        const Uuid pu = o.addr.pool;
        vw.buf() += meta_array_sizes(
            ps ? ps->dir : std::string(), pu, o.addr.cont, v.value(), o.oid_off, o.map_version,
            [&](uint32_t id) {
              Status ignored;
              return engine(pu, id, &ignored);
            },
            [&](uint32_t id, const vos::ShardRef& ref) {
              rpc::ShardAddr a;
              a.pool = pu;
              a.engine = id;
              a.cont = ref.cont;
              a.oid = ref.oid;
              a.shard = ref.shard;
              a.target = ref.target;
              return write_leased(a);
            });
        o.kv.value = vw.take();
      } else {
        o.kv.value = std::move(v).value();
      }
    }
    apply();
  }
  // Replies only now, after every commit: nothing is acknowledged before it is in its engine.
  Writer w;
  for (const VecOp& o : ops) {
    w.put<int32_t>(static_cast<int32_t>(o.st.code()));
    const bool data = o.op == Op::kKvGet || o.op == Op::kKvListDkeys || o.op == Op::kKvGetSize ||
                      o.op == Op::kKvTakeArray;
    w.str(o.st.ok() ? (data ? o.kv.value : std::string()) : o.st.message());
  }
  return rpc::make_reply(Status::OK(), 0, 0, w.buf());
}

void Server::handle(rpc::Incoming& in) {
  if (!header_ok(in)) return;
  bool deferred = false;
  if (in.whole) part_started(in);
  std::string rep = dispatch(in, &deferred);
  if (!deferred) reply_to(in, std::move(rep));
}

Server::PoolServe* Server::pool(const Uuid& u) {
  auto it = pools_.find(u);
  return it == pools_.end() ? nullptr : it->second.get();
}

namespace {
Status down_status(uint32_t id, const Status& why) {
  return Status(EDAOS_UNREACH, "engine " + std::to_string(id) + " is down: " + why.message());
}
}  // namespace

bool Server::settled(uint32_t id, const EngineSlot& s, vos::Engine** e, Status* st) {
  switch (s.state.load(std::memory_order_acquire)) {
    case PoolServe::Slot::kOpen:
      *e = s.eng.get();
      return true;
    case PoolServe::Slot::kDown:
      *st = down_status(id, s.down.why);
      *e = nullptr;
      return true;
    default:
      return false;
  }
}

vos::Engine* Server::engine(const Uuid& p, uint32_t id, Status* st) {
  PoolServe* ps = pool(p);
  if (!ps) {
    *st = Status(EDAOS_NONEXIST, "pool " + p.to_string() + " not served by this rank");
    return nullptr;
  }
  auto it = ps->slots.find(id);
  if (it == ps->slots.end()) {
    *st = Status(EDAOS_INVAL, "engine " + std::to_string(id) + " is not hosted by this rank");
    return nullptr;
  }
  PoolServe::Slot& s = *it->second;
  if (vos::Engine* e = nullptr; settled(id, s, &e, st)) return e;
  if (t_inline) {  // never opened on the progress thread (serve_inline checked the rest)
    *st = Status(EDAOS_BUSY, "engine " + std::to_string(id) + " is not open yet");
    return nullptr;
  }
  return open_slot(*ps, id, s, st);
}

// The first use of an engine (README "Engines open at first use"): opened as a connection used
// to open it (open_engine: retries for kTransientRetry). A transient failure is answered with the
// connection's words and leaves the engine unopened (the next request tries again); an engine
// found lost now is marked down, as the connection would have marked it.
vos::Engine* Server::open_slot(PoolServe& ps, uint32_t id, EngineSlot& s, Status* st) {
  std::lock_guard<std::mutex> g(s.mu);
  if (vos::Engine* e = nullptr; settled(id, s, &e, st)) return e;
  EngineOpen r = open_engine(ps.dir, ps.hdr, id, ps.quota);
  if (r.eng) {
    s.eng = std::move(r.eng);
    s.state.store(PoolServe::Slot::kOpen, std::memory_order_release);
    engines_opened_.fetch_add(1, std::memory_order_relaxed);
    return s.eng.get();
  }
  if (r.health == EngineHealth::kUnavailable) {
    *st = transient_open_failure(ps.dir, id, r.why, true);
    EDAOS_LOG(warn, "%s", st->message().c_str());
    return nullptr;
  }
  EDAOS_LOG(warn, "engine %u of pool %s is lost (down), found at its first use: %s", id,
            ps.dir.c_str(), r.why.to_string().c_str());
  s.down = {r.health, r.why};
  s.state.store(PoolServe::Slot::kDown, std::memory_order_release);
  *st = down_status(id, s.down.why);
  return nullptr;
}

Status Server::open_all(PoolServe& ps) {
  std::vector<std::pair<uint32_t, PoolServe::Slot*>> todo;
  for (auto& [id, sp] : ps.slots)
    if (sp->state.load(std::memory_order_acquire) == PoolServe::Slot::kUnopened)
      todo.emplace_back(id, sp.get());
  if (todo.empty()) return Status::OK();
  // In parallel, as a connection used to open them (each engine is its own directory, lock and
  // LMDB environment): the caller waits for the slowest engine, not the sum.
  std::vector<Status> sts(todo.size());
  for_each_parallel(todo.size(), kEngineOpenThreads, [&](size_t i) {
    (void)open_slot(ps, todo[i].first, *todo[i].second, &sts[i]);
  });
  for (size_t i = 0; i < todo.size(); ++i)
    if (!sts[i].ok() &&
        todo[i].second->state.load(std::memory_order_acquire) != PoolServe::Slot::kDown)
      return sts[i];  // transient: the caller fails (a down engine is reported as down)
  return Status::OK();
}

std::string Server::dispatch(rpc::Incoming& in, bool* deferred) {
  Reader r(in.body(), in.body_len());
  Op op = static_cast<Op>(in.hdr.op);
  switch (op) {
    case Op::kPoolServe:
      return op_pool_serve(r);
    case Op::kPoolClose:
      return op_pool_close_leases(r);
    case Op::kPoolQuery:
      return op_pool_query(r);
    case Op::kPoolExclude:
      return op_pool_exclude(r);
    case Op::kPoolSetIdentity:
      return op_pool_set_identity(r);
    case Op::kContCreate:
    case Op::kContGet:
    case Op::kContUpdate:
    case Op::kContDestroy:
    case Op::kContDestroyBegin:
    case Op::kContList:
    case Op::kOidAlloc:
    case Op::kAttrSet:
    case Op::kAttrGet:
    case Op::kAttrDel:
    case Op::kAttrList:
      return op_cont(op, r);
    case Op::kLock:
      return op_lock(r, in, deferred);
    case Op::kUnlock:
      return op_unlock(r, in);
    case Op::kLockCancel:
      return op_lock_cancel(r, in);
    case Op::kIntentList:
    case Op::kIntentClear:
      return op_intent(op, r);
    case Op::kShardVec:
      return op_shard_vec(r, in, deferred);
    case Op::kKvVec:
      return op_kv_vec(r);
    case Op::kSyncEngines:
      return op_sync_engines(r);
    case Op::kShardLease:
      return op_shard_lease(r, in);
    case Op::kShardCommit:
      return op_shard_commit(r, in);
    case Op::kShardRelease:
      return op_shard_release(r, in);
    case Op::kShutdown:
      stop_ = true;
      return rpc::make_reply(Status::OK());
    default:
      return op_io(op, r, in, deferred);
  }
}

std::string Server::op_pool_serve(Reader& r) {
  std::string dir = r.str();
  uint8_t phase = r.get<uint8_t>(), flags = r.get<uint8_t>();
  if (!r.ok() || (phase != rpc::kServePoolService && phase != rpc::kServeEngines))
    return rpc::make_reply(bad_body());
  const bool admin = flags & rpc::kServeAdmin;

  std::string blob;
  auto hdr = vos::PoolStore::read_header(dir, &blob);
  if (!hdr.ok()) return rpc::make_reply(hdr.status().with_context("pool " + dir));
  PoolServe* ps = pool(hdr->uuid);

  if (phase == rpc::kServePoolService) {
    // The pool lock first: a job that loses it has touched nothing.
    if (index_ != 0) return rpc::make_reply(Status(EDAOS_INVAL, "not the pool service rank"));
    if (!ps) {
      auto st = open_pool_service(dir);
      if (!st.ok()) return rpc::make_reply(st.status().with_context("pool service of " + dir));
      auto owned = std::make_unique<PoolServe>();
      owned->dir = dir;
      owned->hdr = hdr.value();
      owned->psvc = std::move(st).value();
      ps = owned.get();
      pools_[hdr->uuid] = std::move(owned);
    }
    ps->refs++;
    Writer w;
    w.uuid(ps->hdr.uuid);
    return rpc::make_reply(Status::OK(), 0, 0, w.buf());
  }

  // Phase 2: this server's engines.
  auto map = PoolMap::decode(blob);
  if (!map.ok()) return rpc::make_reply(map.status().with_context("pool map of " + dir));
  std::unique_ptr<PoolServe> owned;
  if (!ps) {
    if (index_ == 0)
      return rpc::make_reply(
          Status(EDAOS_PROTO, "engines of pool " + dir + " asked for before its pool service"));
    owned = std::make_unique<PoolServe>();
    owned->dir = dir;
    owned->hdr = hdr.value();
    ps = owned.get();
  }
  ps->hdr = hdr.value();  // the identity flag may have been set since
  ps->quota = hdr->nengines ? hdr->quota_bytes / hdr->nengines : 0;
  // Engines to (re)try: hosted, not open, not excluded, not lost. Session 10 (README "Engines
  // open at first use"): an ordinary connection only checks them (directory, identity, FORMAT:
  // what makes an engine lost) and opens each at the first request that needs it; an
  // administrative connection (`edaos pool query`, `pool exclude`) and an engine that must
  // record its identity (a pool of an older build) open here, as before.
  struct Todo {
    uint32_t id;
    bool open;
    EngineOpen r;
  };
  std::vector<Todo> todo;
  for (uint32_t e = static_cast<uint32_t>(index_); e < hdr->nengines;
       e += static_cast<uint32_t>(nservers_)) {
    auto sl = ps->slots.find(e);
    if (sl != ps->slots.end()) {
      const int state = sl->second->state.load(std::memory_order_acquire);
      if (state != PoolServe::Slot::kDown) continue;  // open, or checked already
      if (sl->second->down.health != EngineHealth::kUnavailable) continue;
    }
    todo.push_back({e, admin, {}});
  }
  const std::map<uint32_t, bool> excluded = [&] {
    std::map<uint32_t, bool> x;
    for (const Todo& t : todo)
      x[t.id] = t.id < map->engines.size() && map->engines[t.id].state != EngineState::kUp;
    return x;
  }();
  for (Todo& t : todo) {
    if (excluded.at(t.id) || t.open) continue;
    bool upgrade = false;
    t.r = check_engine(dir, hdr.value(), t.id, &upgrade);
    t.open = upgrade && t.r.health == EngineHealth::kUp;
  }
  // Engines open in parallel (each is its own directory, lock and LMDB environment, so nothing
  // is shared): the connection waits for the slowest engine instead of the sum (a lock file, an
  // LMDB open and write, the size-log replay and maybe a walk of the target directories each).
  std::vector<Todo*> to_open;
  for (Todo& t : todo)
    if (t.open && !excluded.at(t.id)) to_open.push_back(&t);
  for_each_parallel(to_open.size(), kEngineOpenThreads, [&](size_t i) {
    to_open[i]->r = open_engine(dir, hdr.value(), to_open[i]->id, ps->quota);
  });
  if (!admin) {
    // A transient failure fails the connection: nothing opened now stays open, nothing is
    // marked down.
    for (const Todo& t : todo)
      if (!excluded.at(t.id) && t.r.health == EngineHealth::kUnavailable)
        return rpc::make_reply(transient_open_failure(dir, t.id, t.r.why, false));
  }
  for (Todo& t : todo) {
    auto& sp = ps->slots[t.id];
    if (!sp) sp = std::make_unique<PoolServe::Slot>();
    PoolServe::Slot& sl = *sp;
    if (excluded.at(t.id)) {
      sl.down = {EngineHealth::kExcluded, Status(EDAOS_UNREACH, "excluded in the pool map")};
      sl.state.store(PoolServe::Slot::kDown, std::memory_order_release);
    } else if (t.r.eng) {
      sl.eng = std::move(t.r.eng);
      sl.state.store(PoolServe::Slot::kOpen, std::memory_order_release);
      engines_opened_.fetch_add(1, std::memory_order_relaxed);
    } else if (t.r.health == EngineHealth::kUp) {
      sl.state.store(PoolServe::Slot::kUnopened, std::memory_order_release);  // at first use
    } else {
      EDAOS_LOG(warn, "engine %u of pool %s is %s: %s", t.id, dir.c_str(),
                t.r.health == EngineHealth::kLost ? "lost (down)" : "unavailable",
                t.r.why.to_string().c_str());
      sl.down = {t.r.health, t.r.why};
      sl.state.store(PoolServe::Slot::kDown, std::memory_order_release);
    }
  }
  if (owned) pools_[hdr->uuid] = std::move(owned);
  if (index_ != 0) ps->refs++;
  publish_meta_page(dir);  // session 11: the node's local stats read the page it names
  // Unopened engines answer "up": they passed every check that makes an engine lost.
  Writer w;
  w.uuid(ps->hdr.uuid);
  w.put<uint32_t>(static_cast<uint32_t>(ps->slots.size()));
  for (auto& [id, sp] : ps->slots) {
    if (sp->state.load(std::memory_order_acquire) != PoolServe::Slot::kDown)
      w.put(id).put(static_cast<uint8_t>(EngineHealth::kUp)).put<int32_t>(EDAOS_OK).str("");
    else
      w.put(id)
          .put(static_cast<uint8_t>(sp->down.health))
          .put<int32_t>(sp->down.why.code())
          .str(sp->down.why.message());
  }
  return rpc::make_reply(Status::OK(), 0, 0, w.buf());
}

std::string Server::op_pool_set_identity(Reader& r) {
  PoolServe* ps = pool(r.uuid());
  if (!ps || !ps->psvc) return rpc::make_reply(Status(EDAOS_INVAL, "not the pool service rank"));
  Status st = vos::PoolStore::set_identity_flag(ps->dir);
  if (st.ok()) {
    ps->hdr.identity = true;
    EDAOS_LOG(info, "pool %s: every engine carries the pool identity", ps->dir.c_str());
  }
  return rpc::make_reply(st);
}

std::string Server::op_pool_close(Reader& r) {
  Uuid u = r.uuid();
  auto it = pools_.find(u);
  if (it == pools_.end()) return rpc::make_reply(Status::OK());
  if (--it->second->refs <= 0) {
    size_t opened = 0;
    for (auto& [id, sp] : it->second->slots)
      if (sp->state.load(std::memory_order_acquire) == PoolServe::Slot::kOpen) {
        (void)sp->eng->sync();
        ++opened;
      }
    EDAOS_LOG(info, "pool %s closed: %zu of the %zu engines this rank hosts were opened",
              it->second->dir.c_str(), opened, it->second->slots.size());
    pools_.erase(it);
  }
  return rpc::make_reply(Status::OK());
}

// An operator excludes engines (`edaos pool exclude`), or a client is about to write while
// engines are lost: those engines miss the write, so they are excluded in the persistent pool
// map and stay down for every later connection (their cells are rebuilt from redundancy on
// read) instead of serving stale data.
std::string Server::op_pool_exclude(Reader& r) {
  Uuid u = r.uuid();
  uint32_t n = r.get<uint32_t>();
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < n && r.ok(); ++i) ids.push_back(r.get<uint32_t>());
  if (!r.ok()) return rpc::make_reply(bad_body());
  PoolServe* ps = pool(u);
  if (!ps || !ps->psvc) return rpc::make_reply(Status(EDAOS_INVAL, "not the pool service rank"));
  std::string blob;
  auto hdr = vos::PoolStore::read_header(ps->dir, &blob);
  if (!hdr.ok()) return rpc::make_reply(hdr.status());
  auto map = PoolMap::decode(blob);
  if (!map.ok()) return rpc::make_reply(map.status());
  bool changed = false;
  for (uint32_t id : ids)
    if (id < map->engines.size() && map->engines[id].state == EngineState::kUp) {
      map->engines[id].state = EngineState::kDown;
      changed = true;
      EDAOS_LOG(warn, "engine %u of pool %s excluded in the pool map", id, ps->dir.c_str());
    }
  if (changed) {
    map->version++;
    Status st = vos::PoolStore::write_pool_map(ps->dir, map->encode());
    if (!st.ok()) return rpc::make_reply(st);
  }
  return rpc::make_reply(Status::OK(), map->version);
}

std::string Server::op_pool_query(Reader& r) {
  PoolServe* ps = pool(r.uuid());
  if (!ps) return rpc::make_reply(Status(EDAOS_NONEXIST, "pool not served"));
  // The space figures come from the engines themselves: engines not opened yet open now (in
  // parallel; README "Engines open at first use"). One that fails with a transient error fails
  // the query with the connection's words; one found lost is reported down.
  if (Status st = open_all(*ps); !st.ok()) return rpc::make_reply(st);
  Writer w;
  w.put<uint32_t>(static_cast<uint32_t>(ps->slots.size()));
  for (auto& [id, sl] : ps->slots) {
    if (sl->state.load(std::memory_order_acquire) == PoolServe::Slot::kOpen) {
      vos::EngineSpace sp = sl->eng->space();
      w.put(id).put<int32_t>(EDAOS_OK).put(sp.total).put(sp.free).put(sp.used);
    } else {
      w.put(id)
          .put<int32_t>(sl->down.why.code())
          .put<uint64_t>(0)
          .put<uint64_t>(0)
          .put<uint64_t>(0);
    }
  }
  return rpc::make_reply(Status::OK(), 0, 0, w.buf());
}

std::string Server::op_cont(Op op, Reader& r) {
  Uuid pu = r.uuid();
  PoolServe* ps = pool(pu);
  if (!ps) return rpc::make_reply(Status(EDAOS_NONEXIST, "pool not served"));
  if (!ps->psvc) return rpc::make_reply(Status(EDAOS_INVAL, "not the pool service rank"));
  vos::PoolStore& db = *ps->psvc;
  switch (op) {
    case Op::kContCreate: {
      Uuid cu = r.uuid();
      std::string label = r.str(), rec = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.cont_create(cu, label, rec));
    }
    case Op::kContGet: {
      bool by_label = r.get<uint8_t>() != 0;
      Uuid cu = r.uuid();
      std::string label = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      if (by_label) {
        auto u = db.cont_lookup_label(label);
        if (!u.ok()) return rpc::make_reply(u.status());
        cu = u.value();
      }
      auto rec = db.cont_get(cu);
      if (!rec.ok()) return rpc::make_reply(rec.status());
      auto destroying = db.cont_destroying(cu);
      if (!destroying.ok()) return rpc::make_reply(destroying.status());
      Writer w;
      w.uuid(cu).str(rec.value()).put<uint8_t>(destroying.value() ? 1 : 0);
      return rpc::make_reply(Status::OK(), 0, 0, w.buf());
    }
    case Op::kContUpdate: {
      Uuid cu = r.uuid();
      std::string label = r.str(), rec = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.cont_update(cu, label, rec));
    }
    case Op::kContDestroy: {
      Uuid cu = r.uuid();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.cont_destroy(cu));
    }
    case Op::kContDestroyBegin: {
      Uuid cu = r.uuid();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.cont_mark_destroying(cu));
    }
    case Op::kContList: {
      auto l = db.cont_list();
      if (!l.ok()) return rpc::make_reply(l.status());
      auto marked = db.cont_list_destroying();
      if (!marked.ok()) return rpc::make_reply(marked.status());
      std::set<Uuid> destroying(marked->begin(), marked->end());
      Writer w;
      w.put<uint32_t>(static_cast<uint32_t>(l->size()));
      for (auto& [u, label] : l.value())
        w.uuid(u).str(label).put<uint8_t>(destroying.count(u) ? 1 : 0);
      return rpc::make_reply(Status::OK(), 0, 0, w.buf());
    }
    case Op::kOidAlloc: {
      Uuid cu = r.uuid();
      uint64_t n = r.get<uint64_t>();
      if (!r.ok() || n == 0) return rpc::make_reply(bad_body());
      auto first = db.alloc_oids(cu, n);
      if (!first.ok()) return rpc::make_reply(first.status());
      return rpc::make_reply(Status::OK(), first.value());
    }
    case Op::kAttrSet: {
      Uuid cu = r.uuid();
      std::string name = r.str(), value = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.attr_set(cu, name, value));
    }
    case Op::kAttrGet: {
      Uuid cu = r.uuid();
      std::string name = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      auto v = db.attr_get(cu, name);
      if (!v.ok()) return rpc::make_reply(v.status());
      return rpc::make_reply(Status::OK(), 0, 0, v.value());
    }
    case Op::kAttrDel: {
      Uuid cu = r.uuid();
      std::string name = r.str();
      if (!r.ok()) return rpc::make_reply(bad_body());
      return rpc::make_reply(db.attr_del(cu, name));
    }
    case Op::kAttrList: {
      Uuid cu = r.uuid();
      auto v = db.attr_list(cu);
      if (!v.ok()) return rpc::make_reply(v.status());
      return rpc::make_reply(Status::OK(), 0, 0, encode_keys(v.value()));
    }
    default:
      return rpc::make_reply(Status(EDAOS_NOTSUP, "unknown container op"));
  }
}

std::string Server::op_io(Op op, Reader& r, const rpc::Incoming& in, bool* replied) {
  switch (op) {
    case Op::kArrayWrite:
    case Op::kArrayRead:
    case Op::kArrayPunch:
    case Op::kArrayTruncate:
    case Op::kArraySize:
    case Op::kSync:
      // Protocol 5: array shard ops come only inside kShardVec, syncs as kSyncEngines.
      return rpc::make_reply(Status(EDAOS_NOTSUP, "op " + std::to_string(in.hdr.op) +
                                                      " is served only inside kShardVec / as "
                                                      "kSyncEngines (protocol 5)"));
    default:
      break;
  }
  if (op == Op::kContPurge || op == Op::kListObjects) {
    Uuid pu = r.uuid();
    Uuid cu = r.uuid();
    PoolServe* ps = pool(pu);
    if (!ps) return rpc::make_reply(Status(EDAOS_NONEXIST, "pool not served"));
    // Every engine of the rank holds some of the container: all open now.
    if (Status st = open_all(*ps); !st.ok()) return rpc::make_reply(st);
    std::vector<std::pair<uint32_t, vos::Engine*>> up;
    for (auto& [id, sl] : ps->slots)
      if (sl->state.load(std::memory_order_acquire) == PoolServe::Slot::kOpen)
        up.emplace_back(id, sl->eng.get());
    if (op == Op::kListObjects) {
      std::set<ObjectId> all;
      for (auto& [id, e] : up) {
        auto l = e->list_objects(cu);
        if (!l.ok()) return rpc::make_reply(l.status());
        all.insert(l->begin(), l->end());
      }
      Writer w;
      w.put<uint32_t>(static_cast<uint32_t>(all.size()));
      for (auto& o : all) w.oid(o);
      return rpc::make_reply(Status::OK(), 0, 0, w.buf());
    }
    for (auto& [id, e] : up) {
      Status st = e->cont_destroy(cu);
      meta_changed(id);
      if (!st.ok()) return rpc::make_reply(st.with_context("engine " + std::to_string(id)));
    }
    if (op == Op::kContPurge) {
      // Hosted engines that are down keep the container's data: the destroy is not complete.
      // Excluded engines are out of the pool for good (their contents are stale anyway).
      std::string missed;
      for (auto& [id, sl] : ps->slots) {
        if (sl->state.load(std::memory_order_acquire) != PoolServe::Slot::kDown) continue;
        const PoolServe::Down& d = sl->down;
        if (d.health == EngineHealth::kExcluded) continue;
        missed += (missed.empty() ? "" : "; ") + std::string("engine ") + std::to_string(id) +
                  " (" + d.why.message() + ")";
      }
      if (!missed.empty())
        return rpc::make_reply(
            Status(EDAOS_UNREACH, "the container's data is still on down engines: " + missed));
    }
    return rpc::make_reply(Status::OK());
  }

  rpc::ShardAddr a = rpc::ShardAddr::decode(r);
  if (!r.ok()) return rpc::make_reply(bad_body());
  Status st;
  vos::Engine* e = engine(a.pool, a.engine, &st);
  if (!e) return rpc::make_reply(st);
  vos::ShardRef ref = shard_ref(a);

  switch (op) {
    case Op::kKvGet: {
      KvBody b;
      if (!decode_kv(r, op, &b)) return rpc::make_reply(bad_body());
      auto v = e->kv_get(ref, b.dkey, b.akey, csum_spec(b.cw));
      if (!v.ok()) return rpc::make_reply(v.status());
      return rpc::make_reply(Status::OK(), 0, 0, v.value());
    }
    case Op::kKvListDkeys:
    case Op::kKvListAkeys: {
      std::string dkey = op == Op::kKvListAkeys ? r.str() : std::string();
      std::string anchor = r.str();
      uint32_t max = r.get<uint32_t>();
      if (!r.ok()) return rpc::make_reply(bad_body());
      bool eof = false;
      auto keys = op == Op::kKvListDkeys ? e->kv_list_dkeys(ref, anchor, max, &eof)
                                         : e->kv_list_akeys(ref, dkey, anchor, max, &eof);
      if (!keys.ok()) return rpc::make_reply(keys.status());
      return rpc::make_reply(Status::OK(), eof ? 1 : 0, 0, encode_keys(keys.value()));
    }
    case Op::kObjPunch: {
      Status pst = e->obj_punch(ref);
      meta_changed(a.engine);
      return rpc::make_reply(pst);
    }
    default:
      return rpc::make_reply(Status(EDAOS_NOTSUP, "unknown op " + std::to_string(in.hdr.op)));
  }
}

// Intents left by a killed process (orphans) of every engine of a pool this rank hosts, and
// clearing one once its stripe is re-encoded.
std::string Server::op_intent(Op op, Reader& r) {
  Uuid pu = r.uuid();
  PoolServe* ps = pool(pu);
  if (!ps) return rpc::make_reply(Status(EDAOS_NONEXIST, "pool not served"));
  if (op == Op::kIntentClear) {
    uint32_t id = r.get<uint32_t>();
    std::string key = r.str();
    if (!r.ok()) return rpc::make_reply(bad_body());
    Status st;
    vos::Engine* e = engine(pu, id, &st);
    if (!e) return rpc::make_reply(st);
    return rpc::make_reply(e->intent_clear(key));
  }
  if (!r.ok()) return rpc::make_reply(bad_body());
  Writer w;
  std::vector<std::pair<uint32_t, std::pair<std::string, std::string>>> all;
  for (auto& [id, sl] : ps->slots) {
    int state = sl->state.load(std::memory_order_acquire);
    if (state == PoolServe::Slot::kDown) continue;  // as before: down engines are not asked
    if (state == PoolServe::Slot::kUnopened) {
      // Session 10 (vos/README.md "Intents and lazily opened engines"): orphans are the marks an
      // engine's log holds when it opens, and only an open engine writes its log; a log that is
      // absent or empty therefore holds none, and the engine stays closed. Any other engine
      // opens now, so its orphans are listed (and recovered) before any read of the pool.
      Status sst;
      if (!vos::Engine::intents_pending(ps->dir + "/" + vos::engine_dir_name(id), &sst) &&
          sst.ok() && sl->state.load(std::memory_order_acquire) == PoolServe::Slot::kUnopened)
        continue;
      Status ost;
      if (!open_slot(*ps, id, *sl, &ost)) {
        if (sl->state.load(std::memory_order_acquire) == PoolServe::Slot::kDown) continue;
        return rpc::make_reply(ost);  // transient: the listing fails, the caller says so
      }
    }
    for (auto& o : sl->eng->intent_orphans()) all.emplace_back(id, std::move(o));
  }
  w.put<uint32_t>(static_cast<uint32_t>(all.size()));
  for (auto& [id, o] : all) w.put(id).str(o.first).str(o.second);
  return rpc::make_reply(Status::OK(), 0, 0, w.buf());
}

}  // namespace edaos::objstore::server

// Byte-array objects: the EC / replication data path.
//
// Geometry. A logical offset o falls in chunk c = o / chunk (dkey c, served by group
// layout.group_of(chunk_dkey_hash(c))). Replicated and single-shard classes store chunk c at
// shard-local offset c*chunk on every replica. EC classes split a chunk into stripes of k cells
// (chunk is rounded up to a whole number of stripes); cell i of stripe s of chunk c is stored
// by data shard i at shard-local offset (c*stripes_per_chunk + s)*cell, and parity shard j
// holds parity cell j of that stripe at the same offset. Shard files are sparse: chunks of
// other groups are holes.
//
// Versions (objstore/README.md, "Stripe versions"). Every EC cell write carries the writer's
// version stamp; a parity cell records the k data versions it encodes. Reconstruction combines
// only cells of one consistent version (ec/stripe_versions.hpp) and fails with EDAOS_DEGRADED
// naming the stripe when none has k cells, so a write killed between its data and parity never
// turns another, acknowledged cell into garbage.
// Writes. Full stripes are encoded here and sent to all k+p shards at once (zero-copy when a
// cell is contiguous in the caller's buffers). Partial stripes take the stripe lock at the
// group's leader engine, which records an intent for the stripe first; the writer reads the
// data cells with their versions (rebuilding a missing one from a consistent set), merges,
// re-encodes and writes the touched data bytes plus all parity cells, then unlocks (clearing
// the intent). Intents left by a killed process are re-encoded from the data cells at the
// first array open of a pool connection (recover_orphans).
// Reads. Data cells are read straight into the caller's buffers; a stripe whose read fails
// (engine down, checksum mismatch after one retry, I/O error) is rebuilt from k cells of one
// version, and a cell that failed verification is rewritten (repaired) under the stripe lock.
// Sizes. A group's size is known when a shard holding its size record answers (EC: any parity
// shard, or every data shard); when a group cannot answer, get_size fails (never a short size).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "client/client_internal.hpp"
#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "ec/checksum.hpp"
#include "ec/codec.hpp"
#include "ec/stripe_versions.hpp"
#include "vos/engine.hpp"

EDAOS_LOG_FACILITY(array);

namespace edaos::objstore::client {

using rpc::Call;
using rpc::Op;
using rpc::Reader;
using rpc::Writer;

namespace {

// Caller's scatter-gather list with prefix sums, addressed by request-relative offsets.
template <typename V>
class SgList {
 public:
  using Ptr = decltype(V::base);  // void* for reads, const void* for writes
  SgList(const V* iov, size_t n) : iov_(iov, iov + n) {
    uint64_t o = 0;
    for (auto& v : iov_) {
      start_.push_back(o);
      o += v.len;
    }
    total_ = o;
  }
  uint64_t total() const { return total_; }
  // Pointer to [rel, rel+len) when it lies inside one iovec, else nullptr.
  Ptr contiguous(uint64_t rel, uint64_t len) const {
    size_t i = find(rel);
    if (i >= iov_.size()) return nullptr;
    uint64_t in = rel - start_[i];
    if (in + len > iov_[i].len) return nullptr;
    return const_cast<char*>(static_cast<const char*>(iov_[i].base)) + in;
  }
  void gather(uint64_t rel, uint64_t len, void* dst) const {
    char* d = static_cast<char*>(dst);
    for (size_t i = find(rel); len && i < iov_.size(); ++i) {
      uint64_t in = rel - start_[i];
      uint64_t k = std::min<uint64_t>(len, iov_[i].len - in);
      std::memcpy(d, static_cast<const char*>(iov_[i].base) + in, k);
      d += k;
      rel += k;
      len -= k;
    }
  }
  void scatter(uint64_t rel, uint64_t len, const void* src) const {
    const char* s = static_cast<const char*>(src);
    for (size_t i = find(rel); len && i < iov_.size(); ++i) {
      uint64_t in = rel - start_[i];
      uint64_t k = std::min<uint64_t>(len, iov_[i].len - in);
      std::memcpy(const_cast<char*>(static_cast<const char*>(iov_[i].base)) + in, s, k);
      s += k;
      rel += k;
      len -= k;
    }
  }

 private:
  size_t find(uint64_t rel) const {
    auto it = std::upper_bound(start_.begin(), start_.end(), rel);
    size_t i = static_cast<size_t>(it - start_.begin());
    i = i ? i - 1 : 0;
    while (i < iov_.size() && iov_[i].len == 0 && start_[i] <= rel) ++i;  // skip empty iovecs
    return i;
  }
  std::vector<V> iov_;
  std::vector<uint64_t> start_;
  uint64_t total_ = 0;
};

constexpr size_t kBatchBytes = size_t{64} << 20;  // bytes of scratch + payload in flight per call
constexpr size_t kBatchCalls = 256;               // requests in flight per call

bool is_shard_failure(edaos_status_t c) {
  return c == EDAOS_UNREACH || c == EDAOS_CSUM || c == EDAOS_IO || c == EDAOS_FORMAT;
}

// ---- version stamps: unique per writer, only compared for equality ----
// (microseconds since the epoch, at least the last stamp + 1) << 16 | 16 random bits drawn once
// per process. Never 0 (a hole) nor ec::kAnyVersion.
uint64_t new_version() {
  static const uint64_t proc = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) ^ static_cast<uint64_t>(::getpid()) * 0x9E37u) & 0xffff;
  }();
  static std::atomic<uint64_t> last{0};
  constexpr uint64_t kMask = (uint64_t{1} << 48) - 1;
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()) &
      kMask;
  uint64_t cur = last.load(std::memory_order_relaxed), next;
  do {
    next = std::max(now, cur + 1) & kMask;
    if (next == 0) next = 1;
  } while (!last.compare_exchange_weak(cur, next, std::memory_order_relaxed));
  return (next << 16) | proc;
}

// ---- test-only fault injection (EDAOS_TEST_FAULT), see objstore/README.md "Faults" ----
enum class Fault {
  kNone,
  kPartialDataOnly,
  kPartialOneParity,
  kFullDataOnly,
  kNoRecovery,
  kPartialBeforeFinish,
  kPartialFinishSent  // session 12
};
Fault test_fault() {
  static const Fault f = [] {
    const char* v = std::getenv("EDAOS_TEST_FAULT");
    if (!v) return Fault::kNone;
    std::string s = v;
    if (s == "ec-partial-data-only") return Fault::kPartialDataOnly;
    if (s == "ec-partial-one-parity") return Fault::kPartialOneParity;
    if (s == "ec-full-data-only") return Fault::kFullDataOnly;
    if (s == "no-recovery") return Fault::kNoRecovery;
    if (s == "ec-partial-before-finish") return Fault::kPartialBeforeFinish;
    if (s == "ec-partial-finish-sent") return Fault::kPartialFinishSent;
    return Fault::kNone;
  }();
  return f;
}
[[noreturn]] void stop_for_test(const char* where) {
  std::fprintf(stderr, "edaos: EDAOS_TEST_FAULT: process stopped %s\n", where);
  std::fflush(stderr);
  ::_exit(86);  // as kill -9 there would: no destructor, no unlock, no disconnect
}

// What recovery needs to re-encode a stripe whose intent a killed process left (the payload of
// the intent, recorded by the group leader's engine). Version 1.
struct IntentPayload {
  Uuid cont;
  ObjectId oid;
  uint64_t chunk = 0;
  uint32_t cell = 0, group = 0;
  uint64_t c = 0, s = 0;
  std::string encode() const {
    Writer w;
    w.put<uint8_t>(1).uuid(cont).oid(oid).put(chunk).put(cell).put(group).put(c).put(s);
    return w.take();
  }
  static bool decode(const std::string& b, IntentPayload* p) {
    Reader r(b);
    if (r.get<uint8_t>() != 1) return false;
    p->cont = r.uuid();
    p->oid = r.oid();
    p->chunk = r.get<uint64_t>();
    p->cell = r.get<uint32_t>();
    p->group = r.get<uint32_t>();
    p->c = r.get<uint64_t>();
    p->s = r.get<uint64_t>();
    return r.ok() && p->chunk > 0 && p->cell > 0;
  }
};

// Runs a batch once it holds enough calls or bytes, so no call puts more than kBatchCalls
// requests (and kBatchBytes of scratch) in flight.
Status flush_if_full(ShardOps& b, bool force = false) {
  if (!force && b.count() < kBatchCalls && b.scratch_bytes() < kBatchBytes) return Status::OK();
  b.run();
  Status st;
  for (size_t i = 0; i < b.count() && st.ok(); ++i) st = b.status(i);
  b.clear();
  return st;
}

class ArrayImpl final : public Array {
 public:
  ArrayImpl(std::shared_ptr<ContState> c, ObjectId oid, uint64_t chunk, Layout layout,
            std::shared_ptr<const ec::Codec> codec)
      : c_(std::move(c)), oid_(oid), layout_(std::move(layout)), codec_(std::move(codec)) {
    rt_ = c_->pool->rt;
    const ObjClass& oc = layout_.oclass;
    ec_ = oc.kind == ResilKind::kErasure;
    k_ = ec_ ? oc.data : 1;
    p_ = ec_ ? oc.redun : 0;
    reps_ = ec_ ? 1 : layout_.group_size;
    cell_ = ec_ ? c_->props.ec_cell_sz : chunk;
    stripe_ = cell_ * k_;
    spc_ = ec_ ? (chunk + stripe_ - 1) / stripe_ : 1;
    chunk_ = ec_ ? spc_ * stripe_ : chunk;
    csum_ = c_->csum();
  }
  // A handle closed (MPI_File_close, dfs_release) has every commit of the connection's direct
  // writes answered, so a reader that opens the object after it (after the close's barrier)
  // finds them applied, sizes included (client/README.md "Commit pipelining"). A late error is
  // kept for the next sync; close() reports it.
  ~ArrayImpl() override {
    if (c_->pool->io) c_->pool->io->drain();
  }
  Status close() override {
    if (!c_->pool->io) return Status::OK();
    return c_->pool->io->close_object(c_->uuid, oid_);
  }

  ObjectId oid() const override { return oid_; }
  uint64_t chunk_size() const override { return chunk_; }

  Status write(uint64_t off, const ConstIoVec* iov, size_t n) override {
    SgList<ConstIoVec> sg(iov, n);
    uint64_t len = sg.total();
    if (len == 0) return Status::OK();
    Status st = ec_ ? ec_write(off, sg) : rep_write(off, sg, len);
    if (st.ok()) rt_->counters.bytes_written += len;
    return st;
  }

  Status read(uint64_t off, const IoVec* iov, size_t n) override {
    SgList<IoVec> sg(iov, n);
    uint64_t len = sg.total();
    if (len == 0) return Status::OK();
    Status st = ec_ ? ec_read(off, sg) : rep_read(off, sg, len);
    if (st.ok()) rt_->counters.bytes_read += len;
    return st;
  }

  Result<uint64_t> read_size_hint(uint64_t off, const IoVec* iov, size_t n) override {
    SgList<IoVec> sg(iov, n);
    uint64_t len = sg.total(), known = 0;
    if (len == 0) return known;
    EDAOS_RETURN_IF_ERROR(ec_ ? ec_read(off, sg, &known) : rep_read(off, sg, len, &known));
    rt_->counters.bytes_read += len;
    return known;
  }

  Status punch(uint64_t off, uint64_t len) override;
  Result<uint64_t> get_size() override;
  Status set_size(uint64_t size) override;
  Status destroy() override;

  // Re-encodes the parity of stripe (c, s) of group g from its data cells under the stripe
  // lock, and clears the intent a killed process left for it at `orphan_engine` (recovery).
  Status recover_stripe(uint32_t g, uint64_t c, uint64_t s, uint32_t orphan_engine,
                        const std::string& key);

 private:
  uint32_t group_of_chunk(uint64_t c) const { return layout_.group_of(chunk_dkey_hash(c)); }
  const ShardLoc& loc(uint32_t g, uint32_t i) const { return layout_.at(g, i); }
  // Reads, size queries, reconstruction and intent recovery use readable() (up and not drilled
  // by $EDAOS_ENGINES_DOWN); writes, punches, truncations and the stripe leader use writable()
  // (up: a drilled engine is serving, so writes reach it and it never misses data).
  bool readable(uint32_t g, uint32_t i) const { return c_->pool->readable(loc(g, i).engine); }
  bool writable(uint32_t g, uint32_t i) const { return c_->pool->writable(loc(g, i).engine); }

  // Shard i of group g of this object.
  ShardId sid(uint32_t g, uint32_t i) const {
    ShardId id;
    id.cont = c_->uuid;
    id.oid = oid_;
    id.engine = loc(g, i).engine;
    id.shard = g * layout_.group_size + i;
    id.target = loc(g, i).target;
    return id;
  }
  std::unique_ptr<ShardOps> ops() const { return shard_io(*c_->pool).ops(csum_); }

  // The record layout of shard i (and, for writes, the stamp): EC data/parity cells carry
  // versions; replicas only bind their checksums to `version`.
  rpc::RecWire rec(uint32_t i, uint64_t version = 0, const uint64_t* vec = nullptr) const {
    rpc::RecWire w;
    w.version = version;
    if (!ec_) return w;
    w.kind = i < k_ ? 1 : 2;
    w.unit = static_cast<uint32_t>(cell_);
    w.k = k_;
    if (i >= k_ && vec) w.vec.assign(vec, vec + k_);
    return w;
  }

  void add_write(ShardOps& b, uint32_t g, uint32_t i, uint64_t local, const void* data,
                 uint64_t len, uint64_t logical_end, const rpc::RecWire& rw) {
    b.write(sid(g, i), local, {ConstIoVec{data, len}}, logical_end, rw);
  }

  // Runs a set of reads; out[i] is the status of read i.
  static void run_reads(ShardOps& b, std::vector<Status>* out) {
    b.run();
    out->assign(b.count(), Status());
    for (size_t i = 0; i < b.count(); ++i) (*out)[i] = b.status(i);
  }

  Status check_group_writable(uint32_t g) const {
    uint32_t down = 0;
    std::vector<uint32_t> engines;
    for (uint32_t i = 0; i < layout_.group_size; ++i)
      if (!writable(g, i)) {
        ++down;
        engines.push_back(loc(g, i).engine);
      }
    uint32_t tolerate = ec_ ? p_ : reps_ - 1;
    if (down > tolerate)
      return Status(EDAOS_DEGRADED, std::to_string(down) + " of the " +
                                        std::to_string(layout_.group_size) + " engines of a " +
                                        layout_.oclass.name() + " group are down (tolerates " +
                                        std::to_string(tolerate) + ")");
    if (down) return c_->pool->exclude_before_write(engines);
    return Status::OK();
  }

  static Status first_error(ShardOps& b) {
    for (size_t i = 0; i < b.count(); ++i) EDAOS_RETURN_IF_ERROR(b.status(i));
    return Status::OK();
  }

  // ---- replication / single shard -----------------------------------------------------------
  Status rep_write(uint64_t off, const SgList<ConstIoVec>& sg, uint64_t len) {
    auto b_ops = ops();
    ShardOps& b = *b_ops;
    EDAOS_RETURN_IF_ERROR(add_rep_write(b, off, sg, len, true));
    return flush_if_full(b, true);
  }

 public:
  // Whether add_rep_write serves this array (replica and single-shard classes; EC writes need
  // their stripe logic and go through write()).
  bool shares_writes() const { return !ec_; }
  // The shard ops a replica write of [off, off + len) adds: one per chunk touched and replica.
  uint64_t rep_write_ops(uint64_t off, uint64_t len) const {
    if (len == 0) return 0;
    return ((off + len - 1) / chunk_ - off / chunk_ + 1) * reps_;
  }
  // Adds the shard ops of a replica write to `b` (a set that may hold other arrays' ops of the
  // same container: write_arrays). `flush`: runs `b` whenever it is full (a call of its own);
  // without, the caller keeps `b` within kBatchCalls / kBatchBytes and runs it.
  Status add_rep_write(ShardOps& b, uint64_t off, const SgList<ConstIoVec>& sg, uint64_t len,
                       bool flush) {
    const rpc::RecWire rw = rec(0, new_version());
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t k = std::min(len - done, chunk_ - r);
      uint32_t g = group_of_chunk(c);
      EDAOS_RETURN_IF_ERROR(check_group_writable(g));
      const void* p = sg.contiguous(done, k);
      if (!p) {
        uint8_t* s = b.scratch(k);
        sg.gather(done, k, s);
        p = s;
      }
      for (uint32_t j = 0; j < reps_; ++j)
        if (writable(g, j)) add_write(b, g, j, c * chunk_ + r, p, k, o + k, rw);
      done += k;
      if (flush) EDAOS_RETURN_IF_ERROR(flush_if_full(b));
    }
    return Status::OK();
  }

 private:
  // *known (when non-null): raised to the largest logical end the serving shards reported.
  Status rep_read(uint64_t off, const SgList<IoVec>& sg, uint64_t len, uint64_t* known = nullptr) {
    struct Piece {
      uint64_t rel, len, local, c;
      uint32_t g, replica;
      void* dst;
      bool scratch;
    };
    std::vector<Piece> pieces;
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t k = std::min(len - done, chunk_ - r);
      pieces.push_back(Piece{done, k, c * chunk_ + r, c, group_of_chunk(c), 0, nullptr, false});
      done += k;
    }
    for (size_t start = 0; start < pieces.size();) {
      // One round: at most kBatchCalls pieces (one call each) and kBatchBytes of scratch.
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      size_t end = start;
      for (; end < pieces.size() && end - start < kBatchCalls && b.scratch_bytes() < kBatchBytes;
           ++end) {
        Piece& pc = pieces[end];
        pc.dst = sg.contiguous(pc.rel, pc.len);
        pc.scratch = pc.dst == nullptr;
        if (pc.scratch) pc.dst = b.scratch(pc.len);
      }
      // Try replicas in turn, starting from one chosen by chunk to spread the load.
      std::vector<std::vector<uint32_t>> failed(end - start);
      std::vector<size_t> todo;
      for (size_t i = start; i < end; ++i) todo.push_back(i);
      for (uint32_t attempt = 0; attempt < reps_ && !todo.empty(); ++attempt) {
        auto rb_ops = ops();
        ShardOps& rb = *rb_ops;
        std::vector<size_t> in_batch;
        for (size_t i : todo) {
          Piece& pc = pieces[i];
          uint32_t j = static_cast<uint32_t>((pc.c + attempt) % reps_);
          if (!readable(pc.g, j)) {
            failed[i - start].push_back(j);
            continue;
          }
          pc.replica = j;
          add_read(rb, pc.g, j, pc.local, pc.dst, pc.len);
          in_batch.push_back(i);
        }
        std::vector<Status> sts;
        run_reads(rb, &sts);
        std::vector<size_t> next;
        for (size_t q = 0; q < in_batch.size(); ++q) {
          size_t i = in_batch[q];
          if (sts[q].ok()) {
            if (known) *known = std::max(*known, rb.value(q));
            continue;
          }
          if (!is_shard_failure(sts[q].code())) return sts[q];
          failed[i - start].push_back(pieces[i].replica);
          last_failure_ = sts[q];
          next.push_back(i);
        }
        for (size_t i : todo)
          if (std::find(in_batch.begin(), in_batch.end(), i) == in_batch.end()) next.push_back(i);
        todo = std::move(next);
      }
      if (!todo.empty()) {
        const Piece& pc = pieces[todo[0]];
        if (reps_ == 1 && !last_failure_.ok() && readable(pc.g, 0))
          return last_failure_;  // one copy, and it is corrupt: say so (EDAOS_CSUM, shard, file)
        return Status(EDAOS_DEGRADED, "no readable replica of " + oid_.to_string() +
                                          " could serve chunk " + std::to_string(pc.c) +
                                          (last_failure_.ok() ? std::string(" (engines down)")
                                                              : ": " + last_failure_.message()));
      }
      // Repair replicas that failed while another one served the data.
      auto fix_ops = ops();
      ShardOps& fix = *fix_ops;
      const rpc::RecWire rw = rec(0, new_version());
      for (size_t i = start; i < end; ++i) {
        Piece& pc = pieces[i];
        for (uint32_t j : failed[i - start]) {
          if (!readable(pc.g, j) || !writable(pc.g, j)) continue;
          rt_->counters.degraded_reads++;
          rt_->counters.repairs++;
          add_write(fix, pc.g, j, pc.local, pc.dst, pc.len, 0, rw);
        }
      }
      fix.run();
      for (size_t i = start; i < end; ++i)
        if (pieces[i].scratch) sg.scatter(pieces[i].rel, pieces[i].len, pieces[i].dst);
      start = end;
    }
    return Status::OK();
  }

  void add_read(ShardOps& b, uint32_t g, uint32_t i, uint64_t local, void* dst, uint64_t len) {
    b.read(sid(g, i), local, {IoVec{dst, len}}, rec(i), nullptr);
  }

  // ---- erasure coding -----------------------------------------------------------------------
  uint64_t stripe_local(uint64_t c, uint64_t s) const { return (c * spc_ + s) * cell_; }

  std::string lock_key(uint64_t c, uint64_t s) const {
    Writer w;
    w.uuid(c_->uuid).oid(oid_).put(c).put(s);
    return w.take();
  }
  std::string stripe_name(uint64_t c, uint64_t s) const {
    return "stripe " + std::to_string(s) + " of chunk " + std::to_string(c) + " of " +
           oid_.to_string();
  }

  // The shard whose engine serializes partial writes of a group and keeps their intents: the
  // first writable parity shard, else the first writable shard. Every client of the job
  // computes the same one (writability does not depend on EDAOS_ENGINES_DOWN).
  uint32_t leader_index(uint32_t g) const {
    for (uint32_t i = k_; i < layout_.group_size; ++i)
      if (writable(g, i)) return i;
    for (uint32_t i = 0; i < k_; ++i)
      if (writable(g, i)) return i;
    return k_ < layout_.group_size ? k_ : 0;
  }

  struct StripeLock {
    std::string key;
    int rank = -1;
    rpc::IntentWire intent;
    bool orphan = false;  // a killed process had left an intent for this stripe
  };
  Status lock_stripe(uint32_t g, uint64_t c, uint64_t s, StripeLock* lk) {
    const uint32_t li = leader_index(g);
    lk->key = lock_key(c, s);
    lk->rank = c_->pool->server_of(loc(g, li).engine);
    lk->intent.has = true;
    lk->intent.pool = c_->pool->map.pool_uuid;
    lk->intent.engine = loc(g, li).engine;
    IntentPayload ip;
    ip.cont = c_->uuid;
    ip.oid = oid_;
    ip.chunk = chunk_;
    ip.cell = static_cast<uint32_t>(cell_);
    ip.group = g;
    ip.c = c;
    ip.s = s;
    lk->intent.payload = ip.encode();
    Call call;
    call.server = lk->rank;
    call.op = Op::kLock;
    Writer w;
    w.str(lk->key);
    lk->intent.encode(w, true);
    call.body = w.take();
    rt_->counters.rpcs++;
    EDAOS_RETURN_IF_ERROR(rt_->rpc->call(&call));
    lk->orphan = call.rep.value != 0;
    return Status::OK();
  }
  // Unlocks; `clear`: the stripe is consistent again, its intent goes. A write that failed
  // half-way keeps it, so the next connection re-encodes the stripe.
  // (A batch of one, so rpc_round_trips_for_testing() counts it as the direct path's unlock,
  // sent with its finish, is counted.)
  Status unlock_stripe(const StripeLock& lk, bool clear) {
    Batch b(rt_);
    b.add(lk.rank, Op::kUnlock)->body = unlock_body(lk, clear);
    b.run();
    return b[0].status();
  }
  static std::string unlock_body(const StripeLock& lk, bool clear) {
    Writer w;
    w.str(lk.key);
    rpc::IntentWire iw = lk.intent;
    iw.has = iw.has && clear;
    iw.encode(w, false);
    return w.take();
  }

  // Cell buffers of degraded reads' stripes, kept per thread between reads (up to kSpareBytes):
  // a degraded read rebuilds every stripe of the call, and fresh zeroed buffers of (k+p) cells
  // per stripe cost it a page fault and a memset per page (11% + 12% of a degraded IOR-easy
  // read). Only the rebuilds of ec_read use them: a partial-stripe write through the engines
  // that sent its cells from a reused buffer ran 1.4-1.7x slower (real IOR-hard EC_2P1G1
  // remote writes, 3 runs each, 22-30 vs 26-52 MiB/s; cause in UCX's send path not found).
  static constexpr size_t kSpareBytes = size_t{8} << 20;
  struct SpareCells {
    std::vector<std::vector<uint8_t>> bufs;
    size_t bytes = 0;
  };
  static SpareCells& spare_cells() {
    thread_local SpareCells s;
    return s;
  }
  // A buffer of `n` bytes, contents undefined (read_stripes zeroes what it does not read).
  static std::vector<uint8_t> take_cells(size_t n) {
    SpareCells& s = spare_cells();
    for (size_t i = s.bufs.size(); i-- > 0;) {
      if (s.bufs[i].capacity() < n) continue;
      std::vector<uint8_t> b = std::move(s.bufs[i]);
      s.bufs.erase(s.bufs.begin() + static_cast<std::ptrdiff_t>(i));
      s.bytes -= b.capacity();
      b.resize(n);
      return b;
    }
    return std::vector<uint8_t>(n);
  }
  static void give_cells(std::vector<uint8_t>&& b) {
    SpareCells& s = spare_cells();
    if (b.capacity() == 0 || s.bytes + b.capacity() > kSpareBytes) return;
    s.bytes += b.capacity();
    s.bufs.push_back(std::move(b));
  }

  // A stripe as read for a partial write, a rebuild or a repair.
  struct StripeRead {
    StripeRead() = default;
    StripeRead(StripeRead&&) = default;
    StripeRead& operator=(StripeRead&& o) {
      if (pooled) give_cells(std::move(cells));
      pooled = o.pooled;
      cells = std::move(o.cells);
      versions = std::move(o.versions);
      present = std::move(o.present);
      bad = std::move(o.bad);
      verified = std::move(o.verified);
      hole = std::move(o.hole);
      csum = std::move(o.csum);
      cv = std::move(o.cv);
      parity_read = o.parity_read;
      clen = o.clen;
      return *this;
    }
    ~StripeRead() {
      if (pooled) give_cells(std::move(cells));
    }
    bool pooled = false;               // `cells` came from, and goes back to, spare_cells()
    std::vector<uint8_t> cells;        // k+p cells of cell_ bytes
    std::vector<uint64_t> versions;    // k: the version of each data cell in `cells`
    std::vector<bool> present, bad;    // k+p: read / failed verification on a live engine
    std::vector<bool> verified, hole;  // k+p: the engine checked the bytes / no record
    std::vector<uint64_t> csum;        // k+p: the record's bound checksum
    std::vector<ec::CellVersions> cv;  // k+p: what each cell read said about itself
    bool parity_read = false;
    uint64_t clen = 0;  // cell size
    uint8_t* cell(uint32_t i) { return cells.data() + static_cast<size_t>(i) * clen; }
  };

  // Reads the data cells of a stripe with their records; when one is missing (down, torn,
  // corrupt) or `want_parity`, the parity cells too. Missing data cells are rebuilt from k cells
  // of one consistent version (ec::choose_stripe_version); present data cells keep their own
  // bytes and versions. No consistent set of k cells: EDAOS_DEGRADED naming the stripe and what
  // each cell said.
  Status read_stripe(uint32_t g, uint64_t c, uint64_t s, bool want_parity, StripeRead* sr) {
    std::vector<StripeRead> one(1);
    std::vector<Status> st;
    EDAOS_RETURN_IF_ERROR(read_stripes({StripeAt{g, c, s}}, want_parity, &one, &st));
    *sr = std::move(one[0]);
    return st[0];
  }

  struct StripeAt {
    uint32_t g;
    uint64_t c, s;
  };
  // read_stripe for many stripes at once: every cell of every stripe asked in one round of
  // calls (the parity cells in that round too when a data cell's engine is known to be
  // unreadable), the parity of stripes whose data cells then failed in a second round. A
  // degraded IOR-easy read of 1 MiB on EC_2P1G1 was 8 serial round trips, now 1. The returned
  // status is an error that is not a stripe's own (the stripes' own outcome is in `out_st`).
  // `pooled`: the cell buffers come from spare_cells() (degraded reads of ec_read).
  Status read_stripes(const std::vector<StripeAt>& at, bool want_parity,
                      std::vector<StripeRead>* out, std::vector<Status>* out_st,
                      bool pooled = false) {
    const uint32_t n = k_ + p_;
    out->resize(at.size());
    out_st->assign(at.size(), Status());
    std::vector<std::vector<std::vector<uint8_t>>> states(at.size());
    std::vector<Status> failure(at.size());
    for (size_t x = 0; x < at.size(); ++x) {
      StripeRead* sr = &(*out)[x];
      sr->clen = cell_;
      if (pooled) {
        if (sr->cells.size() != static_cast<size_t>(n) * cell_) {
          if (sr->pooled) give_cells(std::move(sr->cells));
          sr->cells = take_cells(static_cast<size_t>(n) * cell_);
          sr->pooled = true;
        }
      } else {
        sr->cells.assign(static_cast<size_t>(n) * cell_, 0);
      }
      sr->versions.assign(k_, 0);
      sr->present.assign(n, false);
      sr->bad.assign(n, false);
      sr->verified.assign(n, false);
      sr->hole.assign(n, false);
      sr->csum.assign(n, 0);
      sr->cv.assign(n, ec::CellVersions{});
      sr->parity_read = false;
      states[x].assign(n, {});
    }
    // One round: cells [from, to) of each stripe x with fetch[x] set.
    auto fetch = [&](const std::vector<std::pair<uint32_t, uint32_t>>& range) -> Status {
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      std::vector<std::pair<size_t, uint32_t>> asked;  // (stripe, cell)
      for (size_t x = 0; x < at.size(); ++x) {
        const auto [from, to] = range[x];
        const uint64_t local = stripe_local(at[x].c, at[x].s);
        for (uint32_t i = from; i < to; ++i) {
          if (!readable(at[x].g, i)) continue;
          b.read(sid(at[x].g, i), local, {IoVec{(*out)[x].cell(i), cell_}}, rec(i), &states[x][i]);
          asked.emplace_back(x, i);
        }
      }
      std::vector<Status> sts;
      run_reads(b, &sts);
      for (size_t q = 0; q < asked.size(); ++q) {
        const auto [x, i] = asked[q];
        StripeRead* sr = &(*out)[x];
        if (!sts[q].ok()) {
          if (!is_shard_failure(sts[q].code())) return sts[q];
          if (sts[q].code() != EDAOS_UNREACH) sr->bad[i] = true;
          failure[x] = sts[q];
          continue;
        }
        Reader r(states[x][i].data(), states[x][i].size());
        const uint32_t flags = r.get<uint32_t>(), nvec = r.get<uint32_t>();
        const uint64_t version = r.get<uint64_t>(), csum = r.get<uint64_t>();
        ec::CellVersions& v = sr->cv[i];
        v.present = r.ok() && flags != 0 && nvec == (i < k_ ? 0 : k_);
        if (!v.present) return Status(EDAOS_PROTO, "bad record state from an engine");
        v.n = 1;
        v.version[0] = version;
        if (i >= k_)
          for (uint32_t j = 0; j < k_; ++j) v.vec[0].push_back(r.get<uint64_t>());
        sr->present[i] = true;
        sr->verified[i] = (flags & vos::UnitState::kVerified) != 0;
        sr->hole[i] = (flags & vos::UnitState::kHole) != 0;
        sr->csum[i] = csum;
      }
      return Status::OK();
    };
    std::vector<std::pair<uint32_t, uint32_t>> range(at.size());
    for (size_t x = 0; x < at.size(); ++x) {
      bool parity = want_parity;
      for (uint32_t i = 0; i < k_ && !parity; ++i) parity = !readable(at[x].g, i);
      range[x] = {0, parity ? n : k_};
      (*out)[x].parity_read = parity;
    }
    EDAOS_RETURN_IF_ERROR(fetch(range));
    bool again = false;
    std::vector<bool> all_data(at.size(), true);
    for (size_t x = 0; x < at.size(); ++x) {
      for (uint32_t i = 0; i < k_; ++i) all_data[x] = all_data[x] && (*out)[x].present[i];
      const bool more = !all_data[x] && !(*out)[x].parity_read;
      range[x] = more ? std::make_pair(k_, n) : std::make_pair(0u, 0u);
      if (more) (*out)[x].parity_read = again = true;
    }
    if (again) EDAOS_RETURN_IF_ERROR(fetch(range));
    for (size_t x = 0; x < at.size(); ++x) {
      StripeRead& sr = (*out)[x];
      // Reused buffers: a cell that was not read holds zeros, as a fresh one does.
      for (uint32_t i = 0; pooled && i < n; ++i)
        if (!sr.present[i]) std::memset(sr.cell(i), 0, cell_);
      for (uint32_t i = 0; i < k_; ++i)
        if (sr.present[i]) sr.versions[i] = sr.cv[i].version[0];
      if (!all_data[x]) (*out_st)[x] = rebuild_stripe(at[x], failure[x], &sr);
    }
    return Status::OK();
  }

  // The second half of read_stripe: a stripe with a data cell missing, rebuilt from k cells of
  // one consistent version.
  Status rebuild_stripe(const StripeAt& at, Status failure, StripeRead* sr) {
    const uint32_t n = k_ + p_;
    const uint32_t g = at.g;
    const uint64_t c = at.c, s = at.s;
    // Cells are combined: each must match its record (checked here when the engine did not,
    // i.e. with checksums off); one that does not is torn or corrupt, as if unreadable.
    for (uint32_t i = 0; i < n; ++i) {
      if (!sr->present[i] || sr->verified[i] || cell_matches_record(g, i, c, s, *sr)) continue;
      sr->present[i] = false;
      sr->bad[i] = true;
      sr->cv[i].present = false;
      rt_->counters.csum_errors++;
      failure = Status(EDAOS_CSUM, stripe_name(c, s) + ": cell " + std::to_string(i) +
                                       " does not match its record");
    }

    ec::StripeChoice ch;
    if (!ec::choose_stripe_version(k_, p_, sr->cv, &ch) || ch.nusable < k_) {
      uint32_t have = 0;
      for (uint32_t i = 0; i < n; ++i) have += sr->present[i] ? 1 : 0;
      std::string why = have < k_ ? "only " + std::to_string(have) + " of " + std::to_string(n) +
                                        " cells readable, need " + std::to_string(k_)
                                  : "the readable cells are not of one version (a write was "
                                    "interrupted between its cells), cannot rebuild";
      return Status(EDAOS_DEGRADED, stripe_name(c, s) + ": " + why + " [" +
                                        ec::describe_stripe_versions(k_, sr->cv) + "]" +
                                        (failure.ok() ? "" : "; last error: " + failure.message()));
    }
    // Rebuild every cell that is not consistent with the chosen version, then put back the
    // present data cells' own bytes: they are valid, only the missing ones need rebuilding.
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> keep;
    for (uint32_t i = 0; i < k_; ++i)
      if (sr->present[i] && !ch.usable[i])
        keep.emplace_back(i, std::vector<uint8_t>(sr->cell(i), sr->cell(i) + cell_));
    std::vector<uint8_t*> ptrs(n);
    bool pres[64];
    for (uint32_t i = 0; i < n; ++i) {
      ptrs[i] = sr->cell(i);
      pres[i] = ch.usable[i];
    }
    EDAOS_RETURN_IF_ERROR(codec_->decode(ptrs.data(), pres, cell_));
    for (auto& [i, bytes] : keep) std::memcpy(sr->cell(i), bytes.data(), cell_);
    for (uint32_t i = 0; i < k_; ++i)
      if (!sr->present[i]) sr->versions[i] = ch.versions[i];
    rt_->counters.degraded_reads++;
    return Status::OK();
  }

  // Do cell i's bytes in `sr` match the record the engine returned with them?
  bool cell_matches_record(uint32_t g, uint32_t i, uint64_t c, uint64_t s, StripeRead& sr) {
    const uint8_t* b = sr.cell(i);
    if (sr.hole[i]) return std::all_of(b, b + cell_, [](uint8_t x) { return x == 0; });
    vos::ShardRef ref;
    ref.cont = c_->uuid;
    ref.oid = oid_;
    ref.shard = g * layout_.group_size + i;
    ref.target = loc(g, i).target;
    const uint64_t raw = ec::csum_compute(CsumType::kCrc32c, b, cell_, 0);
    return vos::bind_unit_csum(raw, ref, stripe_local(c, s) / cell_, sr.cv[i].version[0]) ==
           sr.csum[i];
  }

  // Parity of the data cells of `sr`, into its parity cells.
  void encode_parity(StripeRead& sr) {
    std::vector<const uint8_t*> data(k_);
    std::vector<uint8_t*> parity(p_);
    for (uint32_t i = 0; i < k_; ++i) data[i] = sr.cell(i);
    for (uint32_t j = 0; j < p_; ++j) parity[j] = sr.cell(k_ + j);
    codec_->encode(data.data(), parity.data(), cell_);
  }

  // Under the stripe lock: rewrites the cells of a stripe that failed verification on live
  // engines (data cells with the version they were rebuilt at, parity re-encoded from the data
  // with their versions). Best effort: a repair that cannot be done leaves the stripe as it is.
  void repair_stripe(uint32_t g, uint64_t c, uint64_t s) {
    StripeLock lk;
    if (!lock_stripe(g, c, s, &lk).ok()) return;
    StripeRead sr;
    bool consistent = !lk.orphan;
    if (read_stripe(g, c, s, true, &sr).ok()) {
      encode_parity(sr);
      const uint64_t local = stripe_local(c, s);
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      const uint64_t v = new_version();
      for (uint32_t i = 0; i < k_ + p_; ++i) {
        // A stripe a killed writer left marked gets all its parity re-encoded, as recovery does.
        const bool rewrite = sr.bad[i] || (lk.orphan && i >= k_);
        if (!rewrite || !writable(g, i)) continue;
        add_write(b, g, i, local, sr.cell(i), cell_, 0,
                  i < k_ ? rec(i, sr.versions[i]) : rec(i, v, sr.versions.data()));
      }
      b.run();
      consistent = first_error(b).ok();
      for (size_t i = 0; i < b.count(); ++i)
        if (b.status(i).ok()) rt_->counters.repairs++;
    }
    (void)unlock_stripe(lk, consistent);
  }

  // A partial-stripe write on the direct path (client/README.md "Partial stripes on the direct
  // path"), under the stripe lock `lk`: the data cells and their versions read from the shard
  // files, the touched bytes and the parity written into them between a prepare (pending
  // records) and a finish sent with the unlock. false: not served directly, nothing written,
  // the lock still held (the caller goes through the engines). true: done and unlocked, *st
  // the outcome, *redo: a lease was recalled before the finish, the range must be written
  // again through the engines.
  bool direct_partial(uint32_t g, uint64_t c, uint64_t s, uint64_t a, uint64_t bnd,
                      const SgList<ConstIoVec>& sg, uint64_t rel, uint64_t logical_end,
                      const StripeLock& lk, bool unlock, Status* st, bool* redo) {
    const uint32_t n = k_ + p_;
    std::vector<ShardId> cells(n);
    std::vector<rpc::RecWire> specs(n);
    for (uint32_t i = 0; i < n; ++i) {
      // Every engine of the group readable (so writable): a down or drilled one leaves the
      // stripe to the engines' path, which rebuilds and skips it.
      if (!readable(g, i)) return false;
      cells[i] = sid(g, i);
      specs[i] = rec(i);
    }
    const uint64_t local = stripe_local(c, s);
    std::unique_ptr<DirectStripe> ds =
        shard_io(*c_->pool).direct_stripe(csum_, cells, specs, local, cell_);
    if (!ds) return false;
    auto& dc = direct_counters();
    StripeRead sr;
    sr.clen = cell_;
    sr.cells.assign(static_cast<size_t>(n) * cell_, 0);
    sr.versions.assign(k_, 0);
    for (uint32_t i = 0; i < k_; ++i) {
      Status rs = ds->read_cell(i, sr.cell(i), &sr.versions[i]);
      if (!rs.ok()) {
        EDAOS_LOG(debug, "partial stripe through the engines: %s", rs.message().c_str());
        dc.partial_fallbacks++;
        return false;
      }
    }
    const uint64_t v = new_version();
    sg.gather(rel, bnd - a, sr.cells.data() + a);
    encode_parity(sr);
    std::vector<uint64_t> vec = sr.versions;
    std::vector<DirectStripe::Cell> w;
    for (uint32_t i = 0; i < k_; ++i) {
      const uint64_t lo = std::max<uint64_t>(a, uint64_t{i} * cell_);
      const uint64_t hi = std::min<uint64_t>(bnd, uint64_t{i + 1} * cell_);
      if (lo >= hi) continue;
      vec[i] = v;
      DirectStripe::Cell x;
      x.i = i;
      x.cell = sr.cell(i);
      x.lo = lo - uint64_t{i} * cell_;
      x.hi = hi - uint64_t{i} * cell_;
      x.rw = rec(i, v);
      x.logical_end = logical_end;
      w.push_back(std::move(x));
    }
    for (uint32_t j = 0; j < p_; ++j) {
      DirectStripe::Cell x;
      x.i = k_ + j;
      x.cell = sr.cell(k_ + j);
      x.lo = 0;
      x.hi = cell_;
      x.rw = rec(k_ + j, v, vec.data());
      x.logical_end = logical_end;
      w.push_back(std::move(x));
    }
    Status ps = ds->prepare(std::move(w));
    if (!ps.ok()) {
      EDAOS_LOG(debug, "partial stripe through the engines: %s", ps.message().c_str());
      dc.partial_fallbacks++;
      return false;
    }
    // The test faults of the engines' path, at the same points (objstore/README.md "Faults").
    uint32_t last_data = 0;
    for (uint32_t i = 0; i < k_; ++i)
      if (vec[i] == v) last_data = i;
    auto after_cell = [&](uint32_t i) {
      const Fault f = test_fault();
      if (f == Fault::kPartialDataOnly && i == last_data)
        stop_for_test("after the data cells of a partial-stripe write, before its parity");
      if (f == Fault::kPartialOneParity && i == k_)
        stop_for_test("after the data and the first parity cell of a partial-stripe write");
      if (f == Fault::kPartialBeforeFinish && i == UINT32_MAX)
        stop_for_test("after the cells of a direct partial-stripe write, before its finish");
    };
    bool detached = false;
    *st = ds->write_and_finish(after_cell, unlock ? lk.rank : -1, unlock_body(lk, true),
                               unlock_body(lk, false), redo, &detached);
    // The kill drill of the step whose finish is sent and not answered (fault_s12_ec.sh).
    if (detached && test_fault() == Fault::kPartialFinishSent)
      stop_for_test("after a direct partial-stripe write returned, its finish not answered");
    if (*redo)
      dc.partial_fallbacks++;
    else if (st->ok())
      dc.partial_stripes++;
    return true;
  }

  Status partial_write(uint32_t g, uint64_t c, uint64_t s, uint64_t a, uint64_t bnd,
                       const SgList<ConstIoVec>& sg, uint64_t rel, uint64_t logical_end,
                       bool allow_direct = true) {
    StripeLock lk;
    EDAOS_RETURN_IF_ERROR(lock_stripe(g, c, s, &lk));
    rt_->counters.partial_stripe_writes++;
    if (allow_direct) {
      // At most p data cells per step (client/README.md "Partial stripes on the direct path"):
      // a writer killed inside the pwrite of a data cell leaves that cell torn, which the old
      // parity and the other old data cells rebuild only while at most p - 1 cells are already
      // new. A range touching more (IOR-hard pieces across two cells of a 2+1 stripe) goes in
      // steps, each a consistent stripe, the last one with the unlock.
      const uint64_t step = uint64_t{p_} * cell_;
      for (uint64_t at = a; at < bnd;) {
        const uint64_t end = std::min<uint64_t>(bnd, (at / cell_) * cell_ + step);
        const bool last = end == bnd;
        Status dst;
        bool redo = false;
        if (!direct_partial(g, c, s, at, end, sg, rel + (at - a), logical_end, lk, last, &dst,
                            &redo)) {
          // Not served directly, nothing of [at, bnd) written: through the engines below.
          rel += at - a;
          a = at;
          allow_direct = false;
          break;
        }
        if (!dst.ok()) {
          if (!last) (void)unlock_stripe(lk, false);  // the intent stays: recovery re-encodes
          return dst;
        }
        if (redo) {
          // A change through an engine raced the finish: the step goes again, last writer wins
          // (under the lock still held, or a new one when the unlock went with the finish).
          if (last) return partial_write(g, c, s, at, bnd, sg, rel + (at - a), logical_end, false);
          rel += at - a;
          a = at;
          allow_direct = false;
          break;
        }
        if (last) return dst;
        at = end;
      }
    }
    StripeRead sr;
    Status st = read_stripe(g, c, s, false, &sr);
    if (st.ok()) {
      const uint64_t v = new_version();
      sg.gather(rel, bnd - a, sr.cells.data() + a);
      encode_parity(sr);
      std::vector<uint64_t> vec = sr.versions;
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      const uint64_t local = stripe_local(c, s);
      for (uint32_t i = 0; i < k_; ++i) {
        const uint64_t lo = std::max<uint64_t>(a, uint64_t{i} * cell_);
        const uint64_t hi = std::min<uint64_t>(bnd, uint64_t{i + 1} * cell_);
        const bool touched = lo < hi;
        if (touched) vec[i] = v;
        if (!writable(g, i)) continue;
        if (sr.bad[i] || (touched && !sr.present[i])) {
          // Bytes on that engine unknown (torn, or not read): the whole cell, as encoded.
          add_write(b, g, i, local, sr.cell(i), cell_, logical_end,
                    rec(i, touched ? v : sr.versions[i]));
        } else if (touched) {
          add_write(b, g, i, local + (lo - uint64_t{i} * cell_), sr.cells.data() + lo, hi - lo,
                    logical_end, rec(i, v));
        }
      }
      if (test_fault() == Fault::kPartialDataOnly) {
        b.run();
        stop_for_test("after the data cells of a partial-stripe write, before its parity");
      }
      for (uint32_t j = 0; j < p_; ++j) {
        if (writable(g, k_ + j))
          add_write(b, g, k_ + j, local, sr.cell(k_ + j), cell_, logical_end,
                    rec(k_ + j, v, vec.data()));
        if (test_fault() == Fault::kPartialOneParity) {
          b.run();
          stop_for_test("after the data and the first parity cell of a partial-stripe write");
        }
      }
      b.run();
      st = first_error(b);
    }
    Status ust = unlock_stripe(lk, st.ok());
    return st.ok() ? ust : st;
  }

  Status ec_write(uint64_t off, const SgList<ConstIoVec>& sg) {
    uint64_t len = sg.total();
    auto b_ops = ops();
    ShardOps& b = *b_ops;
    // Only full stripes go into b (partial ones run under their stripe lock, partial_write):
    // their cells may be written directly on this node's engines.
    b.allow_direct_cells();
    const uint64_t v = new_version();
    const std::vector<uint64_t> vvec(k_, v);
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t s = r / stripe_, a = r % stripe_;
      uint64_t bnd = std::min<uint64_t>(stripe_, a + (len - done));
      uint32_t g = group_of_chunk(c);
      EDAOS_RETURN_IF_ERROR(check_group_writable(g));
      if (a != 0 || bnd != stripe_) {
        EDAOS_RETURN_IF_ERROR(partial_write(g, c, s, a, bnd, sg, done, o + (bnd - a)));
        done += bnd - a;
        continue;
      }
      // A run of n whole stripes inside chunk c: each shard's cells of consecutive stripes
      // are contiguous in its local space, so one RPC per shard carries the whole run. All of
      // its cells get version v; the parity of each stripe encodes k cells at v.
      uint64_t n = std::min<uint64_t>((len - done) / stripe_, spc_ - s);
      n = std::min<uint64_t>(n, std::max<uint64_t>(1, kBatchBytes / 4 / stripe_));
      rt_->counters.full_stripe_writes += n;
      uint64_t logical_end = o + n * stripe_;
      std::vector<std::vector<ConstIoVec>> data(k_);
      std::vector<uint8_t*> parity_run(p_);
      for (uint32_t j = 0; j < p_; ++j) parity_run[j] = b.scratch(n * cell_);
      std::vector<const uint8_t*> dptr(k_);
      std::vector<uint8_t*> pptr(p_);
      for (uint64_t t = 0; t < n; ++t) {
        uint64_t rel = done + t * stripe_;
        for (uint32_t i = 0; i < k_; ++i) {
          const void* p = sg.contiguous(rel + uint64_t{i} * cell_, cell_);
          if (!p) {
            uint8_t* sc = b.scratch(cell_);
            sg.gather(rel + uint64_t{i} * cell_, cell_, sc);
            p = sc;
          }
          dptr[i] = static_cast<const uint8_t*>(p);
          // Merge with the previous piece when the caller's buffer is contiguous.
          auto& vv = data[i];
          if (!vv.empty() && static_cast<const uint8_t*>(vv.back().base) + vv.back().len == p)
            vv.back().len += cell_;
          else
            vv.push_back(ConstIoVec{p, cell_});
        }
        for (uint32_t j = 0; j < p_; ++j) pptr[j] = parity_run[j] + t * cell_;
        codec_->encode(dptr.data(), pptr.data(), cell_);
      }
      uint64_t local = stripe_local(c, s);
      for (uint32_t i = 0; i < k_; ++i)
        if (writable(g, i)) b.write(sid(g, i), local, std::move(data[i]), logical_end, rec(i, v));
      if (test_fault() == Fault::kFullDataOnly) {
        b.run();
        stop_for_test("after the data cells of a full-stripe write, before its parity");
      }
      for (uint32_t j = 0; j < p_; ++j)
        if (writable(g, k_ + j))
          add_write(b, g, k_ + j, local, parity_run[j], n * cell_, logical_end,
                    rec(k_ + j, v, vvec.data()));
      done += n * stripe_;
      EDAOS_RETURN_IF_ERROR(flush_if_full(b));
    }
    return flush_if_full(b, true);
  }

  Status ec_read(uint64_t off, const SgList<IoVec>& sg, uint64_t* known = nullptr) {
    uint64_t len = sg.total();
    struct Piece {
      uint64_t rel, len, local, c, s;
      uint32_t g, cell;
      void* dst;
      bool scratch;
    };
    for (uint64_t done = 0; done < len;) {
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      std::vector<Piece> pieces;
      // Direct reads of the data cells: one round holds at most kBatchCalls pieces (each at
      // most one call) and kBatchBytes of scratch.
      while (done < len && pieces.size() < kBatchCalls && b.scratch_bytes() < kBatchBytes) {
        uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
        uint64_t s = r / stripe_, q = r % stripe_;
        uint32_t i = static_cast<uint32_t>(q / cell_);
        uint64_t in = q % cell_;
        uint64_t k = std::min<uint64_t>(len - done, cell_ - in);
        Piece pc{done, k, stripe_local(c, s) + in, c, s, group_of_chunk(c), i, nullptr, false};
        pc.dst = sg.contiguous(done, k);
        pc.scratch = pc.dst == nullptr;
        if (pc.scratch) pc.dst = b.scratch(k);
        pieces.push_back(pc);
        done += k;
      }
      // One call per shard and run of shard-contiguous pieces (consecutive stripes of a
      // chunk); a failed call sends each of its pieces to the rebuild path.
      struct Plan {
        uint32_t g, cell;
        uint64_t local, end;
        std::vector<size_t> pieces;
      };
      std::vector<Plan> plans;
      std::map<std::pair<uint32_t, uint32_t>, size_t> open;  // (group, cell) -> plan
      for (size_t q = 0; q < pieces.size(); ++q) {
        Piece& pc = pieces[q];
        if (!readable(pc.g, pc.cell)) continue;
        auto key = std::make_pair(pc.g, pc.cell);
        auto it = open.find(key);
        if (it != open.end() && plans[it->second].end == pc.local) {
          plans[it->second].end += pc.len;
          plans[it->second].pieces.push_back(q);
        } else {
          open[key] = plans.size();
          plans.push_back(Plan{pc.g, pc.cell, pc.local, pc.local + pc.len, {q}});
        }
      }
      for (const Plan& pl : plans) {
        std::vector<IoVec> dst;
        for (size_t q : pl.pieces) dst.push_back(IoVec{pieces[q].dst, pieces[q].len});
        b.read(sid(pl.g, pl.cell), pl.local, std::move(dst), rec(pl.cell), nullptr);
      }
      std::vector<Status> sts;
      run_reads(b, &sts);
      std::vector<bool> ok(pieces.size(), false), failed_live(pieces.size(), false);
      for (size_t q = 0; q < plans.size(); ++q) {
        if (sts[q].ok()) {
          for (size_t pi : plans[q].pieces) ok[pi] = true;
          if (known) *known = std::max(*known, b.value(q));
        } else if (!is_shard_failure(sts[q].code())) {
          return sts[q];
        } else if (sts[q].code() != EDAOS_UNREACH) {
          for (size_t pi : plans[q].pieces) failed_live[pi] = true;
        }
      }
      // Rebuild what could not be read directly, every such stripe of this round read in one
      // round of calls (read_stripes), then repair the cells that failed verification on a
      // live engine.
      std::map<std::pair<uint64_t, uint64_t>, size_t> which;  // (chunk, stripe) -> index
      std::vector<StripeAt> want;
      std::vector<bool> live_bad;
      for (size_t q = 0; q < pieces.size(); ++q) {
        if (ok[q]) continue;
        const Piece& pc = pieces[q];
        auto [it, fresh] = which.emplace(std::make_pair(pc.c, pc.s), want.size());
        if (fresh) {
          want.push_back(StripeAt{pc.g, pc.c, pc.s});
          live_bad.push_back(false);
        }
        if (failed_live[q]) live_bad[it->second] = true;
      }
      // Stripes are read kBatchBytes / 2 of cells at a time (a 2+1 round of 256 pieces would
      // otherwise hold 48 MiB), each slice's pieces copied out before the next slice is read.
      const size_t per = std::max<size_t>(1, kBatchBytes / 2 / ((k_ + p_) * cell_));
      for (size_t from = 0; from < want.size(); from += per) {
        const size_t to = std::min(want.size(), from + per);
        std::vector<StripeAt> slice(want.begin() + from, want.begin() + to);
        std::vector<StripeRead> rebuilt;
        std::vector<Status> st;
        EDAOS_RETURN_IF_ERROR(read_stripes(slice, false, &rebuilt, &st, true));
        for (size_t x = 0; x < slice.size(); ++x) {
          EDAOS_RETURN_IF_ERROR(st[x]);
          bool any_bad = live_bad[from + x];
          for (uint32_t i = 0; i < k_ + p_; ++i) any_bad = any_bad || rebuilt[x].bad[i];
          if (any_bad) repair_stripe(slice[x].g, slice[x].c, slice[x].s);
        }
        for (size_t q = 0; q < pieces.size(); ++q) {
          const Piece& pc = pieces[q];
          if (ok[q]) continue;
          const size_t x = which.at(std::make_pair(pc.c, pc.s));
          if (x < from || x >= to) continue;
          uint64_t in = pc.local - stripe_local(pc.c, pc.s);
          std::memcpy(pc.dst, rebuilt[x - from].cell(pc.cell) + in, pc.len);
        }
      }
      for (const Piece& pc : pieces)
        if (pc.scratch) sg.scatter(pc.rel, pc.len, pc.dst);
    }
    return Status::OK();
  }

  std::shared_ptr<ContState> c_;
  Runtime* rt_;
  ObjectId oid_;
  Layout layout_;
  std::shared_ptr<const ec::Codec> codec_;
  rpc::CsumWire csum_;
  bool ec_ = false;
  uint32_t k_ = 1, p_ = 0, reps_ = 1;
  uint64_t cell_ = 0, stripe_ = 0, spc_ = 1, chunk_ = 0;
  Status last_failure_;  // rep_read: the last shard failure seen (for the error message)
};

Status ArrayImpl::recover_stripe(uint32_t g, uint64_t c, uint64_t s, uint32_t orphan_engine,
                                 const std::string& key) {
  for (uint32_t i = 0; i < k_; ++i)
    if (!readable(g, i))
      return Status(EDAOS_DEGRADED, stripe_name(c, s) + ": data cell " + std::to_string(i) +
                                        " is not readable; left for a later connection");
  StripeLock lk;
  EDAOS_RETURN_IF_ERROR(lock_stripe(g, c, s, &lk));
  Status st;
  if (lk.orphan || lk.intent.engine != orphan_engine) {
    StripeRead sr;
    st = read_stripe(g, c, s, false, &sr);
    if (st.ok()) {
      encode_parity(sr);
      const uint64_t local = stripe_local(c, s), v = new_version();
      auto b_ops = ops();
      ShardOps& b = *b_ops;
      for (uint32_t i = 0; i < k_ + p_; ++i) {
        if (!writable(g, i)) continue;
        if (i < k_ && !sr.bad[i]) continue;  // data cells are the truth; rewrite torn ones only
        add_write(b, g, i, local, sr.cell(i), cell_, 0,
                  i < k_ ? rec(i, sr.versions[i]) : rec(i, v, sr.versions.data()));
      }
      b.run();
      st = first_error(b);
      if (st.ok()) rt_->counters.repairs++;
    }
  }
  Status ust = unlock_stripe(lk, st.ok());  // clears the intent at the current leader
  if (st.ok() && ust.ok() && lk.intent.engine != orphan_engine) {
    Call call;
    call.server = c_->pool->server_of(orphan_engine);
    call.op = Op::kIntentClear;
    Writer w;
    w.uuid(c_->pool->map.pool_uuid).put(orphan_engine).str(key);
    call.body = w.take();
    rt_->counters.rpcs++;
    ust = rt_->rpc->call(&call);
  }
  return st.ok() ? ust : st;
}

Status ArrayImpl::punch(uint64_t off, uint64_t len) {
  if (len == 0) return Status::OK();
  auto b_ops = ops();
  ShardOps& b = *b_ops;
  if (ec_) {
    // Partial stripes at the edges become zero writes (parity must follow); whole stripes
    // are deallocated on every shard (their records go with them: holes).
    std::vector<uint8_t> zeros;
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t s = r / stripe_, a = r % stripe_;
      uint64_t bnd = std::min<uint64_t>(stripe_, a + (len - done));
      uint32_t g = group_of_chunk(c);
      if (a == 0 && bnd == stripe_) {
        for (uint32_t i = 0; i < k_ + p_; ++i) {
          if (!writable(g, i)) continue;
          b.punch(sid(g, i), stripe_local(c, s), cell_, rec(i));
        }
        EDAOS_RETURN_IF_ERROR(flush_if_full(b));
      } else {
        zeros.assign(bnd - a, 0);
        ConstIoVec z{zeros.data(), zeros.size()};
        SgList<ConstIoVec> sg(&z, 1);
        EDAOS_RETURN_IF_ERROR(partial_write(g, c, s, a, bnd, sg, 0, 0));
      }
      done += bnd - a;
    }
    return flush_if_full(b, true);
  }
  for (uint64_t done = 0; done < len;) {
    uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
    uint64_t k = std::min(len - done, chunk_ - r);
    uint32_t g = group_of_chunk(c);
    for (uint32_t j = 0; j < reps_; ++j) {
      if (!writable(g, j)) continue;
      b.punch(sid(g, j), c * chunk_ + r, k, rec(j));
    }
    done += k;
    EDAOS_RETURN_IF_ERROR(flush_if_full(b));
  }
  return flush_if_full(b, true);
}

// The size is the largest logical end recorded on any shard. Every write records its end on
// every shard it writes: all replicas (RP), all parity shards and the data shards it touches
// (EC). So a group knows its size when one replica answers (RP, S), or one parity shard, or all
// of its data shards (EC). A group that cannot answer makes the size unknown: EDAOS_DEGRADED,
// never a smaller size.
Result<uint64_t> ArrayImpl::get_size() {
  const uint32_t gs = layout_.group_size;
  std::vector<uint8_t> answered(static_cast<size_t>(layout_.ngroups) * gs, 0);
  uint64_t size = 0;
  auto b_ops = ops();
  ShardOps& b = *b_ops;
  std::vector<std::pair<uint32_t, uint32_t>> who;
  auto collect = [&]() -> Status {
    b.run();
    for (size_t q = 0; q < b.count(); ++q) {
      Status st = b.status(q);
      if (!st.ok() && !is_shard_failure(st.code())) return st;
      if (!st.ok()) continue;
      answered[static_cast<size_t>(who[q].first) * gs + who[q].second] = 1;
      size = std::max(size, b.value(q));
    }
    b.clear();
    who.clear();
    return Status::OK();
  };
  for (uint32_t g = 0; g < layout_.ngroups; ++g)
    for (uint32_t i = 0; i < gs; ++i) {
      if (!readable(g, i)) continue;
      b.size(sid(g, i));
      who.emplace_back(g, i);
      if (b.count() >= kBatchCalls) EDAOS_RETURN_IF_ERROR(collect());
    }
  EDAOS_RETURN_IF_ERROR(collect());
  for (uint32_t g = 0; g < layout_.ngroups; ++g) {
    const uint8_t* a = &answered[static_cast<size_t>(g) * gs];
    bool known = false, all_data = true;
    if (ec_) {
      for (uint32_t j = k_; j < gs; ++j) known = known || a[j];
      for (uint32_t i = 0; i < k_; ++i) all_data = all_data && a[i];
      known = known || all_data;
    } else {
      for (uint32_t i = 0; i < gs; ++i) known = known || a[i];
    }
    if (known) continue;
    std::string engines;
    for (uint32_t i = 0; i < gs; ++i)
      if (!a[i]) engines += (engines.empty() ? "" : ",") + std::to_string(loc(g, i).engine);
    return Status(EDAOS_DEGRADED, "size of " + oid_.to_string() + " (" + layout_.oclass.name() +
                                      ") is unknown: group " + std::to_string(g) +
                                      " has no readable shard holding its size (engines " +
                                      engines + " down or failing)");
  }
  return size;
}

Status ArrayImpl::set_size(uint64_t size) {
  auto cur = get_size();
  if (!cur.ok()) return cur.status();
  if (size < cur.value()) {
    // Zero the tail of the chunk holding the new end, then drop whole chunks beyond it on
    // every shard and record the exact size.
    uint64_t cn = size / chunk_;
    uint64_t tail_end = std::min(cur.value(), (cn + 1) * chunk_);
    if (tail_end > size) EDAOS_RETURN_IF_ERROR(punch(size, tail_end - size));
    uint64_t local_keep = ec_ ? (cn + 1) * spc_ * cell_ : (cn + 1) * chunk_;
    if (size % chunk_ == 0) local_keep = ec_ ? cn * spc_ * cell_ : cn * chunk_;
    auto b_ops = ops();
    ShardOps& b = *b_ops;
    for (uint32_t g = 0; g < layout_.ngroups; ++g)
      for (uint32_t i = 0; i < layout_.group_size; ++i) {
        if (!writable(g, i)) continue;
        b.truncate(sid(g, i), local_keep, size, rec(i));
        EDAOS_RETURN_IF_ERROR(flush_if_full(b));
      }
    return flush_if_full(b, true);
  }
  if (size == cur.value()) return Status::OK();
  // Extension: record the new end on every writable shard of the group holding it.
  uint64_t c = (size - 1) / chunk_;
  uint32_t g = group_of_chunk(c);
  auto b_ops = ops();
  ShardOps& b = *b_ops;
  for (uint32_t i = 0; i < layout_.group_size; ++i)
    if (writable(g, i)) add_write(b, g, i, 0, nullptr, 0, size, rec(i, new_version()));
  b.run();
  return first_error(b);
}

Status ArrayImpl::destroy() {
  auto b_ops = ops();
  ShardOps& b = *b_ops;
  for (uint32_t g = 0; g < layout_.ngroups; ++g)
    for (uint32_t i = 0; i < layout_.group_size; ++i) {
      if (!writable(g, i)) continue;
      b.remove(sid(g, i));
      EDAOS_RETURN_IF_ERROR(flush_if_full(b));
    }
  return flush_if_full(b, true);
}

Result<std::unique_ptr<ArrayImpl>> make_array(std::shared_ptr<ContState> c, ObjectId oid,
                                              uint64_t chunk) {
  if (otype_of(oid) != ObjType::kArray)
    return Status(EDAOS_INVAL, "object " + oid.to_string() + " is not a byte array");
  auto layout = compute_layout(c->pool->map, oid);
  if (!layout.ok()) return layout.status();
  if (chunk == 0) chunk = c->props.chunk_size;
  if (chunk == 0) return Status(EDAOS_INVAL, "chunk size 0");
  const ObjClass& oc = layout->oclass;
  std::shared_ptr<const ec::Codec> codec;
  if (oc.kind == ResilKind::kErasure) {
    if (c->props.ec_cell_sz == 0) return Status(EDAOS_INVAL, "ec_cell_sz 0");
    auto cd = ec::Codec::get(static_cast<int>(oc.data), static_cast<int>(oc.redun));
    if (!cd.ok()) return cd.status();
    codec = cd.value();
  }
  return std::make_unique<ArrayImpl>(std::move(c), oid, chunk, std::move(layout).value(),
                                     std::move(codec));
}

// ---- recovery of stripes a killed process left marked (intents) ----

// Asks every server for the pool's orphan intents and re-encodes each stripe from its data
// cells (recover_stripe). A stripe whose data cells are not all readable stays marked for a
// later connection; its reconstruction meanwhile refuses inconsistent cells.
void recover_orphans(const std::shared_ptr<PoolState>& ps) {
  Runtime* rt = ps->rt;
  Batch b(rt);
  for (int srv : rt->servers) {
    Writer w;
    w.uuid(ps->map.pool_uuid);
    b.add(srv, Op::kIntentList)->body = w.take();
  }
  b.run();
  size_t found = 0, done = 0;
  for (size_t q = 0; q < b.size(); ++q) {
    if (!b[q].status().ok()) continue;
    Reader r(b[q].payload);
    const uint32_t n = r.get<uint32_t>();
    for (uint32_t i = 0; i < n && r.ok(); ++i) {
      const uint32_t engine = r.get<uint32_t>();
      const std::string key = r.str(), payload = r.str();
      IntentPayload ip;
      if (!r.ok() || !IntentPayload::decode(payload, &ip)) continue;
      ++found;
      auto cs = std::make_shared<ContState>();
      cs->pool = ps;
      cs->uuid = ip.cont;
      cs->props.ec_cell_sz = ip.cell;
      cs->props.chunk_size = ip.chunk;
      cs->props.cksum = CsumType::kOff;  // EC records are kept regardless
      auto a = make_array(cs, ip.oid, ip.chunk);
      Status st =
          a.ok() ? a.value()->recover_stripe(ip.group, ip.c, ip.s, engine, key) : a.status();
      if (st.ok()) {
        ++done;
      } else {
        EDAOS_LOG(warn, "stripe %llu of chunk %llu of %s left inconsistent by a killed job: %s",
                  static_cast<unsigned long long>(ip.s), static_cast<unsigned long long>(ip.c),
                  ip.oid.to_string().c_str(), st.to_string().c_str());
      }
    }
  }
  if (found)
    EDAOS_LOG(warn, "pool %s: %zu stripes left marked by a killed job, %zu re-encoded",
              ps->path.c_str(), found, done);
}

// Pool connections whose orphans this process already looked for.
std::mutex g_recovered_mu;
std::vector<std::weak_ptr<PoolState>> g_recovered;

void recover_once(const std::shared_ptr<PoolState>& ps) {
  if (test_fault() == Fault::kNoRecovery) return;
  {
    std::lock_guard<std::mutex> lk(g_recovered_mu);
    bool seen = false;
    for (auto it = g_recovered.begin(); it != g_recovered.end();) {
      auto p = it->lock();
      if (!p) {
        it = g_recovered.erase(it);
        continue;
      }
      seen = seen || p == ps;
      ++it;
    }
    if (seen) return;
    g_recovered.push_back(ps);
  }
  recover_orphans(ps);
}

}  // namespace

Result<std::unique_ptr<Array>> open_array(std::shared_ptr<ContState> c, ObjectId oid,
                                          uint64_t chunk) {
  auto a = make_array(c, oid, chunk);
  if (!a.ok()) return a.status();
  recover_once(c->pool);
  return std::unique_ptr<Array>(std::move(a).value());
}

Status write_arrays(std::shared_ptr<ContState> c, std::vector<ArrayWrite>* ws) {
  if (!ws) return Status(EDAOS_INVAL, "write_arrays: writes is null");
  recover_once(c->pool);
  auto b_ops = shard_io(*c->pool).ops(c->csum());
  ShardOps& b = *b_ops;
  struct Pending {
    size_t w;         // index in *ws
    size_t from, to;  // its ops in b
  };
  std::vector<Pending> pending;
  std::vector<std::unique_ptr<ArrayImpl>> held;  // the arrays of the ops in b
  auto run = [&] {
    if (pending.empty()) return;
    b.run();
    for (const Pending& p : pending) {
      ArrayWrite& w = (*ws)[p.w];
      for (size_t i = p.from; i < p.to && w.status.ok(); ++i) w.status = b.status(i);
      if (w.status.ok()) c->pool->rt->counters.bytes_written += w.len;
    }
    b.clear();
    pending.clear();
    held.clear();
  };
  for (size_t i = 0; i < ws->size(); ++i) {
    ArrayWrite& w = (*ws)[i];
    w.status = Status::OK();
    if (w.len == 0) continue;
    if (!w.data) {
      w.status = Status(EDAOS_INVAL, "write_arrays: no data for " + w.oid.to_string());
      continue;
    }
    auto a = make_array(c, w.oid, w.chunk_size);
    if (!a.ok()) {
      w.status = a.status();
      continue;
    }
    const uint64_t nops = a.value()->rep_write_ops(w.offset, w.len);
    if (!a.value()->shares_writes() || nops > kBatchCalls / 2) {
      w.status = static_cast<Array&>(*a.value()).write(w.offset, w.data, w.len);  // alone
      continue;
    }
    if (b.count() + nops > kBatchCalls) run();
    const size_t from = b.count();
    ConstIoVec iov{w.data, w.len};
    Status st = a.value()->add_rep_write(b, w.offset, SgList<ConstIoVec>(&iov, 1), w.len, false);
    if (!st.ok()) w.status = st;  // ops it added run with the set; the write reports its error
    pending.push_back(Pending{i, from, b.count()});
    held.push_back(std::move(a).value());
  }
  run();
  for (const ArrayWrite& w : *ws)
    if (!w.status.ok()) return w.status;
  return Status::OK();
}

}  // namespace edaos::objstore::client

// Key-value objects. A dkey lives in the group chosen by its hash. Values are replicated on
// that group's shards: every replica for RP classes, p+1 shards for EC classes (the same
// fault tolerance without striping small values), one shard for S classes. The first live
// shard of the group is the primary: it decides insert-only puts, so concurrent exclusive
// creates of one key have exactly one winner.
#include <algorithm>
#include <deque>
#include <set>

#include "client/client_internal.hpp"
#include "client/local_meta.hpp"
#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "vos/engine.hpp"

EDAOS_LOG_FACILITY(kv);

namespace edaos::objstore::client {

// batch.cpp: this thread sent a message (started outside Batch::run), for the round-trip count.
void note_sent();

using rpc::Call;
using rpc::Op;
using rpc::Reader;
using rpc::Writer;

namespace {

// Storage keys are never empty; the flat-KV akey "" is stored as a single NUL byte.
std::string akey_wire(const std::string& a) { return a.empty() ? std::string(1, '\0') : a; }

bool shard_failure(edaos_status_t c) {
  return c == EDAOS_UNREACH || c == EDAOS_CSUM || c == EDAOS_IO;
}

std::vector<std::string> decode_keys(const std::string& payload) {
  Reader r(payload);
  uint32_t n = r.get<uint32_t>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(r.str());
  return out;
}

class KvImpl final : public KV {
 public:
  KvImpl(std::shared_ptr<ContState> c, ObjectId oid, Layout layout)
      : c_(std::move(c)), rt_(c_->pool->rt), oid_(oid), layout_(std::move(layout)) {
    const ObjClass& oc = layout_.oclass;
    copies_ = oc.kind == ResilKind::kErasure ? oc.redun + 1 : layout_.group_size;
    copies_ = std::min(copies_, layout_.group_size);
  }
  ObjectId oid() const override { return oid_; }

  Status put(const std::string& dkey, const std::string& akey, const std::string& value,
             uint32_t flags) override {
    return put_flagged(dkey, akey, value, flags);
  }

  Status merge_times(const std::string& dkey, const std::string& akey, uint32_t guard_off,
                     const std::string& guard, uint32_t time_off,
                     const std::vector<struct timespec>& times) override {
    EDAOS_ASSIGN_OR_RETURN(std::string spec, merge_spec(guard_off, guard, time_off, times));
    return put_flagged(dkey, akey, spec, vos::kMergeTimes);
  }

  std::unique_ptr<KvRequest> start_merge_times(const std::string& dkey, const std::string& akey,
                                               uint32_t guard_off, const std::string& guard,
                                               uint32_t time_off,
                                               const std::vector<struct timespec>& times) override;

 private:
  // put and merge_times: the first live copy decides (insert-only, update-only, the guard of a
  // merge), then the others follow: a put unconditionally, a merge with the same spec (its
  // result is the same wherever it applies: the maximum of each time).
  Status put_flagged(const std::string& dkey, const std::string& akey, const std::string& value,
                     uint32_t flags) {
    static_assert(KV::kInsertOnly == vos::kInsertOnly && KV::kUpdateOnly == vos::kUpdateOnly);
    uint32_t g = group(dkey);
    EDAOS_RETURN_IF_ERROR(prepare_write(g));
    auto live = live_shards(g, /*write=*/true);
    if (live.empty()) return no_replica(dkey);
    // The primary decides conditional puts; the others follow unconditionally.
    const std::string ak = akey_wire(akey);
    Status st = one(g, live[0], Op::kKvPut, dkey, ak, &value, flags, nullptr);
    written(g, live[0]);
    if (!st.ok()) return st;
    const uint32_t follow = flags & vos::kMergeTimes;
    Batch b(rt_);
    for (size_t i = 1; i < live.size(); ++i)
      add(b, g, live[i], Op::kKvPut, dkey, ak, &value, follow);
    b.run();
    for (size_t i = 1; i < live.size(); ++i) written(g, live[i]);
    for (size_t i = 0; i < b.size(); ++i) {
      // A follower missing what the first copy merged into (a race with a removal) is fine.
      if (follow && b[i].status().code() == EDAOS_NONEXIST) continue;
      EDAOS_RETURN_IF_ERROR(b[i].status());
    }
    return Status::OK();
  }

 public:
  Result<std::string> get(const std::string& dkey, const std::string& akey) override {
    uint32_t g = group(dkey);
    Status last = no_replica(dkey);
    {
      KvOp op;
      op.kind = KvOp::kGet;
      op.dkey = dkey;
      op.akey = akey;
      if (local_get(&op)) {
        if (!op.status.ok()) return op.status;
        return std::move(op.value);
      }
    }
    for (uint32_t i : live_shards(g)) {
      Call call;
      Status st = one(g, i, Op::kKvGet, dkey, akey_wire(akey), nullptr, 0, &call);
      if (st.ok()) return std::move(call.payload);
      if (!shard_failure(st.code())) return st;
      last = st;
    }
    return last;
  }

  Status remove(const std::string& dkey, const std::string& akey) override {
    uint32_t g = group(dkey);
    EDAOS_RETURN_IF_ERROR(prepare_write(g));
    auto live = live_shards(g, /*write=*/true);
    if (live.empty()) return no_replica(dkey);
    Status st = one(g, live[0], Op::kKvRemove, dkey, akey, nullptr, 0, nullptr);
    written(g, live[0]);
    if (!st.ok()) return st;
    Batch b(rt_);
    for (size_t i = 1; i < live.size(); ++i)
      add(b, g, live[i], Op::kKvRemove, dkey, akey, nullptr, 0);
    b.run();
    for (size_t i = 1; i < live.size(); ++i) written(g, live[i]);
    return Status::OK();  // a replica missing the key already is fine
  }

  Status run(std::vector<KvOp>* ops) override {
    for (size_t first = 0; first < ops->size(); first += kRunChunk) {
      RunChunk c(this, ops, first, std::min(ops->size(), first + kRunChunk));
      c.start();
      c.finish();
    }
    return first_failure(*ops);
  }

  std::unique_ptr<KvRequest> start(std::vector<KvOp>* ops) override;

  // Every group's first live copy, one kKvVec message per server rank, merged in byte order.
  Result<std::vector<std::string>> list_dkeys(const std::string& anchor, uint32_t max,
                                              bool* eof) override {
    if (max == 0) max = 1;
    VecRound v(this);
    for (uint32_t g = 0; g < layout_.ngroups; ++g) {
      auto live = live_shards(g);
      if (live.empty()) return no_replica("(listing)");
      v.add(g, live[0], Op::kKvListDkeys, anchor, std::string(), nullptr, max);
    }
    v.run();
    std::set<std::string> merged;
    bool all_eof = true;
    for (uint32_t g = 0; g < layout_.ngroups; ++g) {
      EDAOS_RETURN_IF_ERROR(v.status(g));
      const std::string& data = v.value(g);
      if (data.empty()) return Status(EDAOS_PROTO, "kKvVec: listing without its eof flag");
      if (data[0] == 0) all_eof = false;
      for (auto& k : decode_keys(data.substr(1))) merged.insert(std::move(k));
    }
    std::vector<std::string> out(merged.begin(), merged.end());
    bool truncated = out.size() > max;
    if (truncated) out.resize(max);
    if (eof) *eof = all_eof && !truncated;
    return out;
  }

  Result<std::vector<std::string>> list_akeys(const std::string& dkey, const std::string& anchor,
                                              uint32_t max, bool* eof) override {
    uint32_t g = group(dkey);
    auto live = live_shards(g);
    if (live.empty()) return no_replica(dkey);
    Call call;
    Writer w;
    w.str(dkey).str(anchor).put(max ? max : 1);
    EDAOS_RETURN_IF_ERROR(call_body(g, live[0], Op::kKvListAkeys, w.take(), &call));
    if (eof) *eof = call.rep.value != 0;
    auto keys = decode_keys(call.payload);
    for (auto& k : keys)
      if (k == std::string(1, '\0')) k.clear();
    return keys;
  }

  // The punch of every shard on a live engine, one kShardVec message per server rank (the
  // shard data path groups them), instead of one kObjPunch message per shard.
  Status destroy() override {
    auto io = shard_io(*c_->pool).ops(c_->csum());
    for (uint32_t g = 0; g < layout_.ngroups; ++g)
      for (uint32_t i = 0; i < layout_.group_size; ++i) {
        const ShardLoc& l = layout_.at(g, i);
        if (!c_->pool->writable(l.engine)) continue;
        ShardId s;
        s.cont = c_->uuid;
        s.oid = oid_;
        s.engine = l.engine;
        s.shard = g * layout_.group_size + i;
        s.target = l.target;
        io->remove(s);
      }
    io->run();
    for (size_t i = 0; i < io->count(); ++i) EDAOS_RETURN_IF_ERROR(io->status(i));
    return Status::OK();
  }

 private:
  uint32_t group(const std::string& dkey) const {
    return layout_.group_of(dkey_hash(dkey.data(), dkey.size()));
  }
  // Copies of group g that reads may use, or (write) that a write must reach: engines drilled
  // by $EDAOS_ENGINES_DOWN are avoided by reads only (see PoolState::readable / writable).
  std::vector<uint32_t> live_shards(uint32_t g, bool write = false) const {
    std::vector<uint32_t> v;
    for (uint32_t i = 0; i < copies_; ++i) {
      uint32_t e = layout_.at(g, i).engine;
      if (write ? c_->pool->writable(e) : c_->pool->readable(e)) v.push_back(i);
    }
    return v;
  }
  // Before a write to group g: a copy it skips (a lost engine) is excluded first, as byte
  // arrays do, so it never serves the value it missed.
  Status prepare_write(uint32_t g) const {
    std::vector<uint32_t> skipped;
    for (uint32_t i = 0; i < copies_; ++i)
      if (!c_->pool->writable(layout_.at(g, i).engine)) skipped.push_back(layout_.at(g, i).engine);
    return skipped.empty() ? Status::OK() : c_->pool->exclude_before_write(skipped);
  }
  // Copy i of group g was changed (or may have been): the next sync covers its engine.
  void written(uint32_t g, uint32_t i) const {
    shard_io(*c_->pool).written(layout_.at(g, i).engine);
  }
  Status no_replica(const std::string& dkey) const {
    return Status(EDAOS_DEGRADED,
                  "every engine holding key '" + dkey + "' of " + oid_.to_string() + " is down");
  }
  Call* prep(Batch& b, uint32_t g, uint32_t i, Op op) {
    Call* call = b.add(c_->pool->server_of(layout_.at(g, i).engine), op);
    Writer w;
    shard_addr(g, i).encode(w);
    call->body = w.take();
    return call;
  }
  // The body of a kKvPut/kKvGet/kKvRemove after its ShardAddr (the same in a kKvVec entry).
  void encode_kv(Writer& w, Op op, const std::string& dkey, const std::string& akey,
                 const std::string* value, uint32_t flags) const {
    if (op == Op::kKvPut || op == Op::kKvGet) c_->csum().encode(w);
    if (op == Op::kKvPut) w.put(flags);
    w.str(dkey).str(akey);
    if (value) w.str(*value);
  }
  void add(Batch& b, uint32_t g, uint32_t i, Op op, const std::string& dkey,
           const std::string& akey, const std::string* value, uint32_t flags) {
    Call* call = prep(b, g, i, op);
    Writer w;
    encode_kv(w, op, dkey, akey, value, flags);
    call->body += w.buf();
  }
  Status one(uint32_t g, uint32_t i, Op op, const std::string& dkey, const std::string& akey,
             const std::string* value, uint32_t flags, Call* out) {
    Batch b(rt_);
    add(b, g, i, op, dkey, akey, value, flags);
    b.run();
    if (out) {
      out->rep = b[0].rep;
      out->payload = std::move(b[0].payload);
    }
    return b[0].status();
  }
  Status call_body(uint32_t g, uint32_t i, Op op, std::string body, Call* out) {
    Batch b(rt_);
    Call* call = prep(b, g, i, op);
    call->body += body;
    b.run();
    out->rep = b[0].rep;
    out->payload = std::move(b[0].payload);
    return b[0].status();
  }

  // run(): ops per round of messages (bounds the requests one client queues on a server).
  static constexpr size_t kRunChunk = 512;

  static Op wire_op(const KvOp& op) {
    switch (op.kind) {
      case KvOp::kPut:
        return Op::kKvPut;
      case KvOp::kGet:
        return Op::kKvGet;
      case KvOp::kGetArraySize:
        return Op::kKvGetSize;
      case KvOp::kTakeArray:
        return Op::kKvTakeArray;
      default:
        // Session 9: a kRemove with a value is guarded (kKvRemoveIf): the whole dkey goes only
        // while the value under (dkey, akey) holds those bytes at oid_off; EDAOS_EXIST when it
        // holds others (nothing removed). objstore.hpp's KvOp does not say so yet.
        return op.value.empty() ? Op::kKvRemove : Op::kKvRemoveIf;
    }
  }
  static bool guarded_remove(const KvOp& op) {
    return op.kind == KvOp::kRemove && !op.value.empty();
  }
  static bool is_get(const KvOp& op) {
    return op.kind == KvOp::kGet || op.kind == KvOp::kGetArraySize;
  }

 public:
  // A get (kGet / kGetArraySize) answered from the engine's metadata on this node, when its
  // first live copy is there (client/local_meta.hpp): the same copy the server path asks first,
  // so the same answer. True: *op settled (value or EDAOS_NONEXIST; for kGetArraySize the size
  // too when the value names a byte array). False: *op unchanged, the server is asked.
  bool local_get(KvOp* op) { return local_get_with(*c_, oid_, layout_, copies_, op); }

  // local_get for KV `oid` of container `c` placed by `layout` with `copies` copies per group
  // (kv_local_get_at needs no handle).
  static bool local_get_with(ContState& c, const ObjectId& oid, const Layout& layout,
                             uint32_t copies, KvOp* op) {
    if (!is_get(*op) || op->dkey.empty() || !local_meta_enabled()) return false;
    const uint32_t g = layout.group_of(dkey_hash(op->dkey.data(), op->dkey.size()));
    // The first copy reads may use (live_shards(g)[0]).
    uint32_t first = copies;
    for (uint32_t i = 0; i < copies && first == copies; ++i)
      if (c.pool->readable(layout.at(g, i).engine)) first = i;
    if (first == copies) return false;
    const ShardLoc& l = layout.at(g, first);
    std::string value;
    Status st;
    if (local_kv_get(c, oid, l.engine, g * layout.group_size + first, l.target, op->dkey,
                     akey_wire(op->akey), &value, &st) != LocalGet::kValue)
      return false;
    uint64_t size = 0;
    bool sized = false;
    if (st.ok() && op->kind == KvOp::kGetArraySize) {
      ObjectId aoid;
      if (value.size() >= 16 && op->oid_off <= value.size() - 16) {
        for (int b = 7; b >= 0; --b) {
          aoid.hi = (aoid.hi << 8) | static_cast<unsigned char>(value[op->oid_off + b]);
          aoid.lo = (aoid.lo << 8) | static_cast<unsigned char>(value[op->oid_off + 8 + b]);
        }
      }
      if (!(aoid == ObjectId{}) && otype_of(aoid) == ObjType::kArray) {
        // The size of the OID in the value read, read after it (as the server does).
        if (!local_array_size(c, aoid, &size)) {
          local_meta_counters().unsized.fetch_add(1, std::memory_order_relaxed);
          return false;  // the server gives both, in one round trip when it can
        }
        sized = true;
        local_meta_counters().sized.fetch_add(1, std::memory_order_relaxed);
      }
    }
    op->status = st;
    op->value = std::move(value);
    op->size_known = sized;
    op->size = size;
    op->taken = false;
    return true;
  }

 private:
  // A kKvGetSize reply's data: the value, then the SizeWire (rpc/proto.hpp). Sets op.value, and
  // op.size / op.size_known when the server gave the logical end of every shard of the array
  // the value names, each where this client's pool map places it; the size is then what
  // ArrayImpl::get_size computes from the same answers (the largest logical end of the
  // readable shards; every group must have a readable shard that holds its size). Anything
  // else leaves size_known false (the caller asks the size itself). False: malformed reply.
  bool take_value_and_size(const std::string& data, KvOp* op) const {
    Reader r(data);
    op->value = r.str();
    const uint8_t state = r.get<uint8_t>();
    (void)r.get<uint32_t>();  // the server's map version (the shard places are compared below)
    if (!r.ok()) return false;
    if (state != rpc::kSizeGiven) return true;
    const uint32_t n = r.get<uint32_t>();
    if (!r.ok() || op->oid_off > op->value.size() || op->value.size() - op->oid_off < 16)
      return r.ok();
    ObjectId oid;
    for (int b = 7; b >= 0; --b) {
      oid.hi = (oid.hi << 8) | static_cast<unsigned char>(op->value[op->oid_off + b]);
      oid.lo = (oid.lo << 8) | static_cast<unsigned char>(op->value[op->oid_off + 8 + b]);
    }
    auto layout = compute_layout(c_->pool->map, oid);
    if (!layout.ok() || layout->shards.size() != n) return true;
    const Layout& l = layout.value();
    std::vector<uint64_t> ends(n);
    for (uint32_t s = 0; s < n; ++s) {
      const uint32_t engine = r.get<uint32_t>(), target = r.get<uint32_t>();
      ends[s] = r.get<uint64_t>();
      if (!r.ok()) return false;
      if (engine != l.shards[s].engine || target != l.shards[s].target) return true;
    }
    uint64_t size = 0;
    if (!size_from_ends(*c_->pool, l, ends, &size)) return true;  // get_size: EDAOS_DEGRADED
    op->size = size;
    op->size_known = true;
    return true;
  }

  // One kKvVec message per server rank (protocol 7): the ops of one round of run() that go to
  // engines of that rank, in op order, each with exactly its single call's body. The server
  // applies each engine's consecutive changes in one LMDB transaction and answers after the
  // commit; every op gets its own status back.
  class VecRound {
   public:
    explicit VecRound(KvImpl* kv) : kv_(kv), b_(kv->rt_) {}
    // Queues an op for copy i of group g; returns its slot (for status / value).
    size_t add(uint32_t g, uint32_t i, Op op, const std::string& dkey, const std::string& akey,
               const std::string* value, uint32_t flags) {
      const int server = kv_->c_->pool->server_of(kv_->layout_.at(g, i).engine);
      Msg* m = nullptr;
      for (Msg& x : msgs_)
        if (x.server == server && x.slots.size() < rpc::kVecMaxOps && x.body.size() < kVecBytes)
          m = &x;
      if (!m) {
        msgs_.push_back(Msg{server, {}, {}});
        m = &msgs_.back();
      }
      Writer w;
      kv_->shard_addr(g, i).encode(w);
      if (op == Op::kKvListDkeys) {
        w.str(dkey).put(flags);  // anchor, at most `flags` keys
      } else if (op == Op::kKvGetSize) {
        // A get's body, where the value names the array (`flags`), this client's map version.
        kv_->encode_kv(w, Op::kKvGet, dkey, akey, nullptr, 0);
        w.put(flags).put(kv_->c_->pool->map.version);
      } else if (op == Op::kKvTakeArray) {
        kv_->encode_kv(w, Op::kKvGet, dkey, akey, nullptr, 0);  // the get's body, the offset
        w.put(flags);
      } else if (op == Op::kKvRemoveIf) {
        kv_->encode_kv(w, Op::kKvGet, dkey, akey, nullptr, 0);  // the get's body, the offset,
        w.put(flags).str(value ? *value : std::string());       // the guard
      } else {
        kv_->encode_kv(w, op, dkey, akey, value, flags);
      }
      Writer e;
      e.put(static_cast<uint16_t>(op)).str(w.buf());
      m->body += e.buf();
      m->slots.push_back(out_.size());
      out_.emplace_back();
      return out_.size() - 1;
    }
    // Sends every message (all in flight at once) and waits for all; decodes every op's result.
    void run() {
      start();
      finish();
    }
    // Sends every message without waiting for a reply (KV::start).
    void start() {
      for (Msg& m : msgs_) {
        rpc::Call* c = b_.add(m.server, Op::kKvVec);
        Writer w;
        w.put(static_cast<uint32_t>(m.slots.size()));
        c->body = w.take() + m.body;
        calls_.push_back(c);
        kv_->rt_->rpc->start(c);  // Batch::run below counts it and does not start it again
        note_sent();
      }
    }
    // Waits for every message start() sent; decodes every op's result.
    void finish() {
      b_.run();
      for (size_t k = 0; k < msgs_.size(); ++k) {
        const Msg& m = msgs_[k];
        Status st = calls_[k]->status();
        Reader r(calls_[k]->payload);
        for (size_t slot : m.slots) {
          Result& o = out_[slot];
          if (!st.ok()) {
            o.st = st;
            continue;
          }
          const auto code = static_cast<edaos_status_t>(r.get<int32_t>());
          std::string data = r.str();
          if (!r.ok()) {
            o.st = Status(EDAOS_PROTO,
                          "kKvVec: short reply from server rank " + std::to_string(m.server));
          } else if (code == EDAOS_OK) {
            o.value = std::move(data);
          } else {
            o.st = Status(code, std::move(data));
          }
        }
      }
    }
    const Status& status(size_t slot) const { return out_[slot].st; }
    std::string& value(size_t slot) { return out_[slot].value; }
    size_t messages() const { return msgs_.size(); }

   private:
    static constexpr size_t kVecBytes = size_t{16} << 20;  // body bytes per message
    struct Msg {
      int server;
      std::string body;
      std::vector<size_t> slots;
    };
    struct Result {
      Status st;
      std::string value;
    };
    KvImpl* kv_;
    Batch b_;
    std::deque<Msg> msgs_;
    std::vector<Result> out_;
    std::vector<rpc::Call*> calls_;
  };

  rpc::ShardAddr shard_addr(uint32_t g, uint32_t i) const {
    const ShardLoc& l = layout_.at(g, i);
    rpc::ShardAddr a;
    a.pool = c_->pool->map.pool_uuid;
    a.engine = l.engine;
    a.cont = c_->uuid;
    a.oid = oid_;
    a.shard = g * layout_.group_size + i;
    a.target = l.target;
    return a;
  }

  // ops [first, last) of run(): each op as its single call would do it, all in flight at once,
  // one message per server rank and round. start() sends the first round (the first copy of
  // every op) and returns; finish() waits for it, then runs the further rounds (gets asking
  // their next copy, the other copies of the changes) to the end.
  class RunChunk {
   public:
    RunChunk(KvImpl* kv, std::vector<KvOp>* ops, size_t first, size_t last) : kv_(kv), ops_(ops) {
      // A size asked with a get covers every write of this process that returned: its
      // pipelined commits applied first (client/README.md "Commit pipelining"; else the servers
      // see the writer's lock and leave the size to a second round trip).
      for (size_t i = first; i < last; ++i)
        if ((*ops)[i].kind == KvOp::kGetArraySize) {
          if (kv->c_->pool->io) kv->c_->pool->io->drain();
          break;
        }
      std::set<uint32_t> prepared;
      bool changed = false;
      for (size_t i = first; i < last; ++i) {
        KvOp& op = (*ops)[i];
        op.status = Status::OK();
        op.size_known = false;
        op.size = 0;
        op.taken = false;
        if (op.kind != KvOp::kPut && op.kind != KvOp::kGet && op.kind != KvOp::kRemove &&
            op.kind != KvOp::kGetArraySize && op.kind != KvOp::kTakeArray) {
          op.status = Status(EDAOS_INVAL, "KV::run: unknown op kind " + std::to_string(op.kind));
          continue;
        }
        if (op.dkey.empty()) {
          op.status = Status(EDAOS_INVAL, "empty dkey");
          continue;
        }
        const bool write = !is_get(op);
        Pending p;
        p.op = i;
        p.g = kv->group(op.dkey);
        if (write && !prepared.count(p.g)) {
          Status st = kv->prepare_write(p.g);
          if (!st.ok()) {
            op.status = st;
            continue;
          }
          prepared.insert(p.g);
        }
        p.live = kv->live_shards(p.g, write);
        if (p.live.empty()) {
          op.status = kv->no_replica(op.dkey);
          continue;
        }
        // Answered on this node, no message; only before the vector's first change, which
        // must reach the server before a later get of the same key reads it.
        if (write) changed = true;
        if (!write && !changed && kv->local_get(&op)) continue;
        // As the single calls: puts and gets name the flat-KV akey "" by its wire form, a
        // remove with an empty akey removes the whole dkey.
        // A guarded remove names the akey whose value it checks (by its wire form, as a get).
        p.akey = op.kind == KvOp::kRemove && !guarded_remove(op) ? op.akey : akey_wire(op.akey);
        todo_.push_back(std::move(p));
      }
      for (Pending& p : todo_) round_.push_back(&p);
    }

    // Round 1: the first copy of every op (it decides conditional puts, like put() and
    // remove()), sent without waiting.
    void start() { send_round(); }

    void finish() {
      bool first_round = true;
      while (v_) {
        v_->finish();
        std::vector<Pending*> again;
        for (size_t k = 0; k < round_.size(); ++k) {
          Pending* p = round_[k];
          KvOp& op = (*ops_)[p->op];
          Status st = v_->status(slot_[k]);
          if (is_get(op)) {
            if (st.ok() && op.kind == KvOp::kGetArraySize) {
              if (!kv_->take_value_and_size(v_->value(slot_[k]), &op))
                st = Status(EDAOS_PROTO, "kKvVec: malformed get-with-size reply");
            } else if (st.ok()) {
              op.value = std::move(v_->value(slot_[k]));
            } else if (shard_failure(st.code()) && ++p->next < p->live.size()) {
              again.push_back(p);  // gets that meet a failed copy ask the next one
              continue;
            }
            op.status = st;
            continue;
          }
          if (first_round) kv_->written(p->g, p->live[0]);
          if (st.ok() && op.kind == KvOp::kTakeArray) {
            // The value read, then whether its dkey went.
            Reader r(v_->value(slot_[k]));
            op.value = r.str();
            op.taken = r.get<uint8_t>() == 1;
            if (!r.ok()) st = Status(EDAOS_PROTO, "kKvVec: malformed take reply");
          }
          op.status = st;
          if (st.ok() && p->live.size() > 1 && (op.kind != KvOp::kTakeArray || op.taken))
            follow_.push_back(p);
        }
        round_ = std::move(again);
        first_round = false;
        v_.reset();
        send_round();
      }
      follow();
    }

   private:
    struct Pending {
      size_t op;   // index in *ops
      uint32_t g;  // its dkey's group
      std::vector<uint32_t> live;
      size_t next = 0;   // gets: the copy to ask next
      std::string akey;  // the wire akey of a put
    };

    void send_round() {
      if (round_.empty()) return;
      v_ = std::make_unique<VecRound>(kv_);
      slot_.clear();
      for (Pending* p : round_) {
        KvOp& op = (*ops_)[p->op];
        const uint32_t copy = p->live[is_get(op) ? p->next : 0];
        const bool with_value = op.kind == KvOp::kPut || guarded_remove(op);
        slot_.push_back(v_->add(p->g, copy, wire_op(op), op.dkey, p->akey,
                                with_value ? &op.value : nullptr,
                                op.kind == KvOp::kPut ? op.flags : op.oid_off));
      }
      v_->start();
    }

    // Round 2: the other copies of every change that succeeded on its first one, in op order
    // (so changes of one key reach each copy in the order the first copy applied them).
    void follow() {
      if (follow_.empty()) return;
      VecRound v(kv_);
      struct Sent {
        Pending* p;
        std::vector<size_t> slots;
      };
      std::vector<Sent> sent;
      for (Pending* p : follow_) {
        KvOp& op = (*ops_)[p->op];
        uint32_t flags = op.kind == KvOp::kPut ? op.flags & vos::kMergeTimes : 0;
        // A take's other copies remove the whole dkey, as the first copy did, guarded by the
        // OID it took (session 9): a copy where a concurrent rename already put its entry
        // keeps it. A guarded remove's copies are guarded alike.
        const bool take = op.kind == KvOp::kTakeArray;
        Op wop = wire_op(op);
        const std::string* value =
            op.kind == KvOp::kPut || guarded_remove(op) ? &op.value : nullptr;
        std::string guard;
        if (take) {
          wop = Op::kKvRemove;
          if (op.value.size() >= rpc::kKvOidBytes &&
              op.oid_off <= op.value.size() - rpc::kKvOidBytes) {
            guard = op.value.substr(op.oid_off, rpc::kKvOidBytes);
            wop = Op::kKvRemoveIf;
            value = &guard;
          }
        }
        if (wop == Op::kKvRemoveIf) flags = op.oid_off;
        const std::string& akey = take && wop == Op::kKvRemove ? std::string() : p->akey;
        sent.push_back({p, {}});
        for (size_t i = 1; i < p->live.size(); ++i)
          sent.back().slots.push_back(v.add(p->g, p->live[i], wop, op.dkey, akey, value, flags));
      }
      v.run();
      for (const Sent& s : sent) {
        KvOp& op = (*ops_)[s.p->op];
        for (size_t i = 1; i < s.p->live.size(); ++i) kv_->written(s.p->g, s.p->live[i]);
        // As the single calls: a put's follower error fails the put (a merge's follower
        // missing the value is fine); a remove's follower missing the key already is fine.
        if (op.kind == KvOp::kRemove || op.kind == KvOp::kTakeArray) continue;
        for (size_t slot : s.slots) {
          const Status& st = v.status(slot);
          if (st.ok()) continue;
          if ((op.flags & vos::kMergeTimes) && st.code() == EDAOS_NONEXIST) continue;
          if (op.status.ok()) op.status = st;
        }
      }
    }

    KvImpl* kv_;
    std::vector<KvOp>* ops_;
    std::deque<Pending> todo_;  // stable addresses for round_ / follow_
    std::vector<Pending*> round_, follow_;
    std::unique_ptr<VecRound> v_;  // the round in flight
    std::vector<size_t> slot_;     // its slot of every op of round_
  };

  // KV::start's request: the chunks of run(), the first one's first round in flight.
  class Request final : public KvRequest {
   public:
    Request(KvImpl* kv, std::vector<KvOp>* ops) : kv_(kv), ops_(ops) { begin(); }
    // A request owning its ops (start_merge_times).
    Request(KvImpl* kv, std::vector<KvOp> ops) : kv_(kv), owned_(std::move(ops)), ops_(&owned_) {
      begin();
    }
    // A request that failed before sending anything.
    explicit Request(Status failed) : kv_(nullptr), ops_(&owned_), done_(true), result_(failed) {}
    ~Request() override { (void)wait(); }
    Status wait() override {
      if (done_) return result_;
      done_ = true;
      if (first_) {
        first_->finish();
        first_.reset();
        for (size_t first = kRunChunk; first < ops_->size(); first += kRunChunk) {
          RunChunk c(kv_, ops_, first, std::min(ops_->size(), first + kRunChunk));
          c.start();
          c.finish();
        }
      }
      result_ = first_failure(*ops_);
      return result_;
    }

   private:
    void begin() {
      if (ops_->empty()) return;
      first_ = std::make_unique<RunChunk>(kv_, ops_, 0, std::min(ops_->size(), kRunChunk));
      first_->start();
    }
    KvImpl* kv_;
    std::vector<KvOp> owned_;
    std::vector<KvOp>* ops_;
    std::unique_ptr<RunChunk> first_;
    bool done_ = false;
    Status result_;
  };

  // The value of a kMergeTimes put.
  static Result<std::string> merge_spec(uint32_t guard_off, const std::string& guard,
                                        uint32_t time_off,
                                        const std::vector<struct timespec>& times) {
    vos::TimeMerge m;
    m.guard_off = guard_off;
    m.guard = guard;
    m.time_off = time_off;
    if (times.size() > 64) return Status(EDAOS_INVAL, "merge_times: more than 64 times");
    for (const struct timespec& t : times) {
      if (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= 1000000000L)
        return Status(EDAOS_INVAL, "merge_times: time out of range");
      m.times.emplace_back(static_cast<uint64_t>(t.tv_sec), static_cast<uint32_t>(t.tv_nsec));
    }
    return vos::encode_time_merge(m);
  }

  static Status first_failure(const std::vector<KvOp>& ops) {
    for (const KvOp& op : ops)
      if (!op.status.ok()) return op.status;
    return Status::OK();
  }

  std::shared_ptr<ContState> c_;
  Runtime* rt_;
  ObjectId oid_;
  Layout layout_;
  uint32_t copies_ = 1;
};

std::unique_ptr<KvRequest> KvImpl::start(std::vector<KvOp>* ops) {
  return std::make_unique<Request>(this, ops);
}

std::unique_ptr<KvRequest> KvImpl::start_merge_times(const std::string& dkey,
                                                     const std::string& akey, uint32_t guard_off,
                                                     const std::string& guard, uint32_t time_off,
                                                     const std::vector<struct timespec>& times) {
  auto spec = merge_spec(guard_off, guard, time_off, times);
  if (!spec.ok()) return std::make_unique<Request>(spec.status());
  std::vector<KvOp> ops(1);
  ops[0].kind = KvOp::kPut;
  ops[0].dkey = dkey;
  ops[0].akey = akey;
  ops[0].value = std::move(spec).value();
  ops[0].flags = vos::kMergeTimes;
  return std::make_unique<Request>(this, std::move(ops));
}

}  // namespace

bool kv_local_get(KV& kv, KvOp* op) {
  auto* k = dynamic_cast<KvImpl*>(&kv);
  return k && k->local_get(op);
}

bool kv_local_get_at(ContState& c, const ObjectId& kv, KvOp* op) {
  if (otype_of(kv) == ObjType::kArray || !c.pool) return false;  // open_kv refuses it
  // The layout of the last KV this thread read (a stat loop reads one directory): placement is
  // a pure function of the pool map (its pool and version) and the OID.
  struct Last {
    Uuid pool;
    uint32_t version = 0;
    ObjectId oid;
    bool valid = false;
    Layout layout;
    uint32_t copies = 0;
  };
  thread_local Last last;
  const PoolMap& map = c.pool->map;
  if (!last.valid || !(last.oid == kv) || !(last.pool == map.pool_uuid) ||
      last.version != map.version) {
    last.valid = false;
    auto l = compute_layout(map, kv);
    if (!l.ok()) return false;
    last.layout = std::move(l).value();
    const ObjClass& oc = last.layout.oclass;
    last.copies = oc.kind == ResilKind::kErasure ? oc.redun + 1 : last.layout.group_size;
    last.copies = std::min(last.copies, last.layout.group_size);
    last.pool = map.pool_uuid;
    last.version = map.version;
    last.oid = kv;
    last.valid = true;
  }
  return KvImpl::local_get_with(c, kv, last.layout, last.copies, op);
}

Result<std::unique_ptr<KV>> open_kv(std::shared_ptr<ContState> c, ObjectId oid) {
  if (otype_of(oid) == ObjType::kArray)
    return Status(EDAOS_INVAL, "object " + oid.to_string() + " is a byte array, not a KV");
  auto layout = compute_layout(c->pool->map, oid);
  if (!layout.ok()) return layout.status();
  return std::unique_ptr<KV>(new KvImpl(std::move(c), oid, std::move(layout).value()));
}

}  // namespace edaos::objstore::client

namespace edaos::objstore {
void fail_kv_group_commits_for_testing(int n) { vos::fail_kv_group_commits_for_testing(n); }
}  // namespace edaos::objstore

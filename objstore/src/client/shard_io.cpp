// RpcShardIo: the shard ops of one set go to the server ranks hosting their engines, one
// kShardVec message per server rank (split only past kVecMaxOps ops or kVecBytes of data).
#include "client/shard_io.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "ec/checksum.hpp"
#include "rpc/transport.hpp"

namespace edaos::objstore::client {

using rpc::Call;
using rpc::Writer;

namespace {

// Bytes of data (written or read) per kShardVec message; a larger op goes alone.
constexpr uint64_t kVecBytes = uint64_t{16} << 20;

class RpcShardIo;

class RpcShardOps final : public ShardOps {
 public:
  RpcShardOps(PoolState* p, RpcShardIo* io, const rpc::CsumWire& csum)
      : p_(p), rt_(p->rt), io_(io), csum_(csum) {}

  size_t write(const ShardId& s, uint64_t local, std::vector<ConstIoVec> data, uint64_t logical_end,
               const rpc::RecWire& rw) override {
    Entry& e = add(s, rpc::Op::kArrayWrite, true);
    Writer w;
    csum_.encode(w);
    const bool has = csum_.type != CsumType::kOff;
    uint64_t cs = 0;
    for (const ConstIoVec& v : data) {
      if (has) cs = ec::csum_compute(csum_.type, v.base, v.len, cs);
      e.bytes += v.len;
    }
    w.put(local).put<uint8_t>(has).put(cs).put(logical_end);
    rw.encode(w);
    e.body += w.buf();
    e.out = std::move(data);
    return ops_.size() - 1;
  }

  size_t read(const ShardId& s, uint64_t local, std::vector<IoVec> into, const rpc::RecWire& rw,
              std::vector<uint8_t>* state) override {
    Entry& e = add(s, rpc::Op::kArrayRead, false);
    uint64_t len = 0;
    for (const IoVec& v : into) len += v.len;
    Writer w;
    csum_.encode(w);
    w.put(local).put(len);
    rw.encode(w);
    w.put<uint8_t>(state ? 1 : 0);
    e.body += w.buf();
    if (state) {
      state->assign(rpc::StateWire::size(rw.kind == 2 ? rw.k : 0), 0);
      into.push_back(IoVec{state->data(), state->size()});
      e.has_state = true;
    }
    e.bytes = len + (state ? state->size() : 0);
    e.local = local;
    e.len = len;
    e.in = std::move(into);
    return ops_.size() - 1;
  }

  size_t punch(const ShardId& s, uint64_t local, uint64_t len, const rpc::RecWire& rw) override {
    return records_op(s, rpc::Op::kArrayPunch, local, len, rw);
  }

  size_t truncate(const ShardId& s, uint64_t local_keep, uint64_t logical,
                  const rpc::RecWire& rw) override {
    return records_op(s, rpc::Op::kArrayTruncate, local_keep, logical, rw);
  }

  size_t size(const ShardId& s) override {
    add(s, rpc::Op::kArraySize, false);
    return ops_.size() - 1;
  }

  size_t remove(const ShardId& s) override {
    add(s, rpc::Op::kObjPunch, true);
    return ops_.size() - 1;
  }

  void run() override;

  size_t count() const override { return ops_.size(); }
  Status status(size_t i) const override { return ops_[i].st; }
  uint64_t value(size_t i) const override { return ops_[i].value; }
  void clear() override {
    ops_.clear();
    ran_ = 0;
    clear_scratch();
  }

 private:
  struct Entry {
    int server = -1;
    uint32_t engine = 0;
    rpc::Op op = rpc::Op::kArraySize;
    bool mutates = false, has_state = false;
    std::string body;             // the op's body (its single-op form)
    std::vector<ConstIoVec> out;  // write: the data
    std::vector<IoVec> in;        // read: where the bytes (and the record state) go
    uint64_t bytes = 0;           // data written or read
    Status st;
    uint64_t value = 0;           // size, read: the shard's logical end
    uint64_t csum = 0;            // read: the engine's checksum of the bytes it sent
    uint64_t local = 0, len = 0;  // read: the shard range
    // read: answered rpc::kCommitInFlight (st is EDAOS_CSUM with the engine's message) / no
    // longer retried (still in flight when EDAOS_RPC_TIMEOUT ran out)
    bool in_flight = false, gave_up = false;
  };

  // kArrayPunch / kArrayTruncate: two u64 arguments, then the checksum spec and the records.
  size_t records_op(const ShardId& s, rpc::Op op, uint64_t a, uint64_t b, const rpc::RecWire& rw) {
    Entry& e = add(s, op, true);
    Writer w;
    w.put(a).put(b);
    csum_.encode(w);
    rw.encode(w);
    e.body += w.buf();
    return ops_.size() - 1;
  }

  Entry& add(const ShardId& s, rpc::Op op, bool mutates) {
    ops_.emplace_back();
    Entry& e = ops_.back();
    e.server = p_->server_of(s.engine);
    e.engine = s.engine;
    e.op = op;
    e.mutates = mutates;
    Writer w;
    shard_addr(p_, s).encode(w);
    e.body = w.take();
    return e;
  }

  void send(const std::vector<size_t>& idx);
  void wait_in_flight(const std::vector<size_t>& idx);

  // A read's status after the end-to-end check of its bytes (all but the record state).
  Status verify(const Entry& e) {
    if (!e.st.ok() || csum_.type == CsumType::kOff) return e.st;
    uint64_t cs = 0;
    const size_t n = e.in.size() - (e.has_state ? 1 : 0);
    for (size_t i = 0; i < n; ++i) cs = ec::csum_compute(csum_.type, e.in[i].base, e.in[i].len, cs);
    if (cs != e.csum) {
      rt_->counters.csum_errors++;
      return Status(EDAOS_CSUM,
                    "checksum mismatch on transfer from engine " + std::to_string(e.engine));
    }
    return e.st;
  }

  PoolState* p_;
  Runtime* rt_;
  RpcShardIo* io_;
  rpc::CsumWire csum_;
  std::vector<Entry> ops_;
  size_t ran_ = 0;
};

class RpcShardIo final : public ShardIo {
 public:
  explicit RpcShardIo(PoolState* p) : p_(p) {}
  std::unique_ptr<ShardOps> ops(const rpc::CsumWire& csum) override {
    return std::make_unique<RpcShardOps>(p_, this, csum);
  }

  // One kSyncEngines per server rank hosting engines written since the last sync. An engine
  // whose sync fails stays in the set (the next sync asks again).
  Status sync() override {
    std::set<uint32_t> todo = take_written();
    if (todo.empty()) return Status::OK();
    std::map<int, std::vector<uint32_t>> by_server;
    for (uint32_t e : todo) by_server[p_->server_of(e)].push_back(e);
    Batch b(p_->rt);
    std::vector<const std::vector<uint32_t>*> who;
    for (auto& [srv, engines] : by_server) {
      Writer w;
      w.uuid(p_->map.pool_uuid).put<uint32_t>(static_cast<uint32_t>(engines.size()));
      for (uint32_t e : engines) w.put(e);
      b.add(srv, rpc::Op::kSyncEngines)->body = w.take();
      who.push_back(&engines);
    }
    b.run();
    Status first;
    for (size_t i = 0; i < b.size(); ++i) {
      Status st = b[i].status();
      if (st.ok()) continue;
      for (uint32_t e : *who[i]) written(e);
      if (first.ok()) first = st;
    }
    return first;
  }

 private:
  PoolState* p_;
};

void RpcShardOps::run() {
  std::vector<size_t> idx;
  for (size_t i = ran_; i < ops_.size(); ++i) idx.push_back(i);
  ran_ = ops_.size();
  if (idx.empty()) return;
  send(idx);
  // Marked once done (whatever the outcome: a failed write may have reached the disk), so a
  // sync that starts after this call returns covers it.
  for (size_t i : idx)
    if (ops_[i].mutates) io_->written(ops_[i].engine);
  wait_in_flight(idx);
  std::vector<size_t> retry;
  for (size_t i : idx) {
    if (ops_[i].op != rpc::Op::kArrayRead) continue;
    ops_[i].st = verify(ops_[i]);
    if (ops_[i].st.code() == EDAOS_CSUM && !ops_[i].gave_up) retry.push_back(i);
  }
  if (retry.empty()) return;
  // The bytes were damaged on the way (or read while a writer changed them): once more.
  rt_->counters.csum_retries += retry.size();
  send(retry);
  wait_in_flight(retry);
  for (size_t i : retry) {
    ops_[i].st = verify(ops_[i]);
    if (ops_[i].st.code() == EDAOS_CSUM) rt_->counters.csum_errors++;
  }
}

// Reads answered "commit in flight" (a direct writer of the engine's node wrote their units
// and holds its range lock until its commit is answered): read again after a pause (1 ms,
// doubling up to 50 ms: the writer is waiting for one round trip, never spin) until the engine
// answers otherwise, at most EDAOS_RPC_TIMEOUT; then EDAOS_CSUM naming the shard and range.
// A writer that was killed left no lock (its locks died with its file descriptions): its units
// are reported at once.
void RpcShardOps::wait_in_flight(const std::vector<size_t>& idx) {
  std::vector<size_t> again;
  for (size_t i : idx)
    if (ops_[i].in_flight) again.push_back(i);
  if (again.empty()) return;
  using Clock = rpc::Clock;
  const Clock::duration limit = rpc::rpc_timeout();
  const Clock::time_point start = Clock::now();
  std::chrono::milliseconds pause(1);
  while (!again.empty()) {
    const Clock::duration spent = Clock::now() - start;
    if (spent >= limit) break;
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, limit - spent));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
    send(again);
    again.erase(
        std::remove_if(again.begin(), again.end(), [this](size_t i) { return !ops_[i].in_flight; }),
        again.end());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  for (size_t i : again) {
    Entry& e = ops_[i];
    e.in_flight = false;
    e.gave_up = true;
    if (e.op == rpc::Op::kArraySize) {
      e.st = Status(EDAOS_BUSY, "size of a shard on engine " + std::to_string(e.engine) +
                                    ": a direct write past its end was still uncommitted after " +
                                    std::to_string(secs) + " s (EDAOS_RPC_TIMEOUT)");
      continue;
    }
    rt_->counters.csum_errors++;
    e.st = Status(EDAOS_CSUM, "read of bytes [" + std::to_string(e.local) + ", " +
                                  std::to_string(e.local + e.len) + ") of a shard on engine " +
                                  std::to_string(e.engine) + ": a direct write was still " +
                                  "uncommitted after " + std::to_string(secs) +
                                  " s (EDAOS_RPC_TIMEOUT): " + e.st.message());
  }
}

// Sends ops `idx` in kShardVec messages, one per server rank (more past the caps), and fills
// each op's status and values.
void RpcShardOps::send(const std::vector<size_t>& idx) {
  struct Msg {
    int server;
    std::vector<size_t> ops;
    uint64_t bytes = 0;
    std::vector<rpc::VecEntry> table;
    std::vector<char> msgs;
  };
  std::vector<Msg> msgs;
  std::map<int, size_t> open;  // server -> the message being filled
  for (size_t i : idx) {
    const Entry& e = ops_[i];
    auto it = open.find(e.server);
    if (it == open.end() || msgs[it->second].ops.size() >= rpc::kVecMaxOps ||
        msgs[it->second].bytes + e.bytes > kVecBytes) {
      open[e.server] = msgs.size();
      msgs.push_back(Msg{e.server, {}, 0, {}, {}});
      it = open.find(e.server);
    }
    Msg& m = msgs[it->second];
    m.ops.push_back(i);
    m.bytes += e.bytes;
  }
  Batch b(rt_);
  for (Msg& m : msgs) {
    Call* c = b.add(m.server, rpc::Op::kShardVec);
    Writer w;
    w.put<uint32_t>(static_cast<uint32_t>(m.ops.size()));
    m.table.assign(m.ops.size(), rpc::VecEntry{});
    m.msgs.assign(rpc::kVecMsgMax, 0);
    c->bulk_in.push_back(IoVec{m.table.data(), m.table.size() * sizeof(rpc::VecEntry)});
    for (size_t i : m.ops) {
      const Entry& e = ops_[i];
      w.put<uint16_t>(static_cast<uint16_t>(e.op)).str(e.body);
      w.put<uint64_t>(e.op == rpc::Op::kArrayRead ? 0 : e.bytes);
      c->bulk_out.insert(c->bulk_out.end(), e.out.begin(), e.out.end());
      c->bulk_in.insert(c->bulk_in.end(), e.in.begin(), e.in.end());
    }
    c->bulk_in.push_back(IoVec{m.msgs.data(), m.msgs.size()});
    c->body = w.take();
  }
  b.run();
  for (size_t q = 0; q < msgs.size(); ++q) {
    const Msg& m = msgs[q];
    const Status whole = b[q].status();
    size_t moff = 0;
    for (size_t j = 0; j < m.ops.size(); ++j) {
      Entry& e = ops_[m.ops[j]];
      e.value = e.csum = 0;
      e.in_flight = false;
      if (!whole.ok()) {
        e.st = whole;
        continue;
      }
      const rpc::VecEntry& ve = m.table[j];
      if (ve.status != EDAOS_OK) {
        const size_t k = std::min<size_t>(ve.msg_len, m.msgs.size() - moff);
        // Reads of units a direct writer has not committed yet, and (session 9) sizes of a
        // shard with such units past its end: asked again (wait_in_flight).
        e.in_flight = ve.status == rpc::kCommitInFlight &&
                      (e.op == rpc::Op::kArrayRead || e.op == rpc::Op::kArraySize);
        e.st = Status(e.in_flight && e.op == rpc::Op::kArrayRead
                          ? EDAOS_CSUM
                          : (e.in_flight ? EDAOS_BUSY : static_cast<edaos_status_t>(ve.status)),
                      std::string(&m.msgs[moff], k));
        moff += k;
        continue;
      }
      e.st = Status::OK();
      if (e.op == rpc::Op::kArrayRead) {
        e.csum = ve.value;
        e.value = ve.value2;
      } else {
        e.value = ve.value;
      }
    }
  }
}

}  // namespace

void ShardIo::written(uint32_t engine) {
  std::lock_guard<std::mutex> g(written_mu_);
  written_.insert(engine);
}

std::set<uint32_t> ShardIo::take_written() {
  std::lock_guard<std::mutex> g(written_mu_);
  std::set<uint32_t> out;
  out.swap(written_);
  return out;
}

rpc::ShardAddr shard_addr(const PoolState* p, const ShardId& s) {
  rpc::ShardAddr a;
  a.pool = p->map.pool_uuid;
  a.engine = s.engine;
  a.cont = s.cont;
  a.oid = s.oid;
  a.shard = s.shard;
  a.target = s.target;
  return a;
}

std::shared_ptr<ShardIo> make_rpc_shard_io(PoolState* p) { return std::make_shared<RpcShardIo>(p); }

void shard_io_close(PoolState& p) {
  if (p.io) p.io->close();
}

ShardIo& shard_io(PoolState& p) {
  std::call_once(p.io_once, [&p] {
    auto rpc = make_rpc_shard_io(&p);
    p.io = direct_enabled() ? make_direct_shard_io(&p, std::move(rpc)) : std::move(rpc);
  });
  return *p.io;
}

}  // namespace edaos::objstore::client

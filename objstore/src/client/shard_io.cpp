// RpcShardIo: shard ops as RPCs to the server ranks hosting their engines.
#include "client/shard_io.hpp"

#include "ec/checksum.hpp"

namespace edaos::objstore::client {

using rpc::Call;
using rpc::Writer;

namespace {

class RpcShardOps final : public ShardOps {
 public:
  RpcShardOps(PoolState* p, const rpc::CsumWire& csum) : p_(p), rt_(p->rt), csum_(csum), b_(rt_) {}

  size_t write(const ShardId& s, uint64_t local, std::vector<ConstIoVec> data, uint64_t logical_end,
               const rpc::RecWire& rw) override {
    Call* call = add(s, rpc::Op::kArrayWrite);
    Writer w;
    csum_.encode(w);
    const bool has = csum_.type != CsumType::kOff;
    uint64_t cs = 0;
    if (has)
      for (const ConstIoVec& v : data) cs = ec::csum_compute(csum_.type, v.base, v.len, cs);
    w.put(local).put<uint8_t>(has).put(cs).put(logical_end);
    rw.encode(w);
    call->body += w.buf();
    call->bulk_out = std::move(data);
    return ops_.size() - 1;
  }

  size_t read(const ShardId& s, uint64_t local, std::vector<IoVec> into, const rpc::RecWire& rw,
              std::vector<uint8_t>* state) override {
    Call* call = add(s, rpc::Op::kArrayRead);
    uint64_t len = 0;
    for (const IoVec& v : into) len += v.len;
    Writer w;
    csum_.encode(w);
    w.put(local).put(len);
    rw.encode(w);
    w.put<uint8_t>(state ? 1 : 0);
    call->body += w.buf();
    if (state) {
      state->assign(rpc::StateWire::size(rw.kind == 2 ? rw.k : 0), 0);
      into.push_back(IoVec{state->data(), state->size()});
    }
    call->bulk_in = std::move(into);
    ops_.back().read = true;
    ops_.back().has_state = state != nullptr;
    return ops_.size() - 1;
  }

  size_t punch(const ShardId& s, uint64_t local, uint64_t len, const rpc::RecWire& rw) override {
    Call* call = add(s, rpc::Op::kArrayPunch);
    Writer w;
    w.put(local).put(len);
    csum_.encode(w);
    rw.encode(w);
    call->body += w.buf();
    return ops_.size() - 1;
  }

  size_t truncate(const ShardId& s, uint64_t local_keep, uint64_t logical,
                  const rpc::RecWire& rw) override {
    Call* call = add(s, rpc::Op::kArrayTruncate);
    Writer w;
    w.put(local_keep).put(logical);
    csum_.encode(w);
    rw.encode(w);
    call->body += w.buf();
    return ops_.size() - 1;
  }

  size_t size(const ShardId& s) override {
    add(s, rpc::Op::kArraySize);
    return ops_.size() - 1;
  }

  size_t remove(const ShardId& s) override {
    add(s, rpc::Op::kObjPunch);
    return ops_.size() - 1;
  }

  void run() override {
    b_.run();
    std::vector<size_t> retry;
    for (size_t i = ran_; i < ops_.size(); ++i) {
      ops_[i].st = b_[i].status();
      ops_[i].value = b_[i].rep.value;
      if (!ops_[i].read) continue;
      ops_[i].st = verify(b_[i], ops_[i]);
      if (ops_[i].st.code() == EDAOS_CSUM) retry.push_back(i);
    }
    if (!retry.empty()) {
      // The bytes were damaged on the way (or read while a writer changed them): once more.
      rt_->counters.csum_retries += retry.size();
      Batch again(rt_);
      for (size_t i : retry) {
        Call* c = again.add(b_[i].server, b_[i].op);
        c->body = b_[i].body;
        c->bulk_in = b_[i].bulk_in;
      }
      again.run();
      for (size_t j = 0; j < retry.size(); ++j) {
        Entry& o = ops_[retry[j]];
        o.st = verify(again[j], o);
        if (o.st.code() == EDAOS_CSUM) rt_->counters.csum_errors++;
      }
    }
    ran_ = ops_.size();
  }

  size_t count() const override { return ops_.size(); }
  Status status(size_t i) const override { return ops_[i].st; }
  uint64_t value(size_t i) const override { return ops_[i].value; }
  void clear() override {
    b_.clear();
    ops_.clear();
    ran_ = 0;
    clear_scratch();
  }

 private:
  struct Entry {
    bool read = false, has_state = false;
    Status st;
    uint64_t value = 0;
  };

  Call* add(const ShardId& s, rpc::Op op) {
    Call* call = b_.add(p_->server_of(s.engine), op);
    rpc::ShardAddr a;
    a.pool = p_->map.pool_uuid;
    a.engine = s.engine;
    a.cont = s.cont;
    a.oid = s.oid;
    a.shard = s.shard;
    a.target = s.target;
    Writer w;
    a.encode(w);
    call->body = w.take();
    ops_.push_back(Entry{});
    return call;
  }

  // The call's status, including the end-to-end checksum over its data pieces (all but a record
  // read's state).
  Status verify(Call& call, const Entry& o) {
    Status st = call.status();
    if (!st.ok() || csum_.type == CsumType::kOff) return st;
    uint64_t cs = 0;
    const size_t n = call.bulk_in.size() - (o.has_state ? 1 : 0);
    for (size_t i = 0; i < n; ++i)
      cs = ec::csum_compute(csum_.type, call.bulk_in[i].base, call.bulk_in[i].len, cs);
    if (cs != call.rep.value) {
      rt_->counters.csum_errors++;
      return Status(EDAOS_CSUM, "checksum mismatch on transfer from engine");
    }
    return st;
  }

  PoolState* p_;
  Runtime* rt_;
  rpc::CsumWire csum_;
  Batch b_;
  std::vector<Entry> ops_;
  size_t ran_ = 0;
};

class RpcShardIo final : public ShardIo {
 public:
  explicit RpcShardIo(PoolState* p) : p_(p) {}
  std::unique_ptr<ShardOps> ops(const rpc::CsumWire& csum) override {
    return std::make_unique<RpcShardOps>(p_, csum);
  }

 private:
  PoolState* p_;
};

}  // namespace

ShardIo& shard_io(PoolState& p) {
  std::call_once(p.io_once, [&p] { p.io = std::make_shared<RpcShardIo>(&p); });
  return *p.io;
}

}  // namespace edaos::objstore::client

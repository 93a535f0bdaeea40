// Shard ops in vectors (issue 15 item 3, issue 17): the ops of one client call that go to this
// server rank arrive in one kShardVec message and are answered by one reply; kSyncEngines
// makes only the named engines durable. See objstore/src/client/README.md ("Data path").
//
// Each op of a vector has exactly the body of its single-op form (kArrayWrite, kArrayRead,
// kArrayPunch, kArrayTruncate, kArraySize, kObjPunch) and runs as that op would, in order. One
// failing op fails alone: its entry carries the status and message, the others go on.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ec/checksum.hpp"
#include "server/server.hpp"
#include "server/wire_specs.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::server {

using rpc::Op;
using rpc::Reader;

namespace {

constexpr uint64_t kMaxReadBytes = uint64_t{1} << 31;  // per vector, as per single read

Status malformed() { return Status(EDAOS_PROTO, "malformed request body"); }

// The lease table's name of a shard.
std::string lease_key(const rpc::ShardAddr& a) {
  rpc::Writer w;
  w.uuid(a.pool).put(a.engine).uuid(a.cont).oid(a.oid).put(a.shard);
  return w.take();
}

// One op of a vector as received.
struct VecOp {
  Op op = Op::kArraySize;
  std::string body;
  const char* bulk = nullptr;
  uint64_t bulk_len = 0;
  // kArrayRead: the bytes asked, the record-state trailer, and where both go in the reply.
  uint64_t read_len = 0;
  size_t trailer = 0;
  uint64_t data_off = 0;
};

bool vec_op_known(Op op) {
  switch (op) {
    case Op::kArrayWrite:
    case Op::kArrayRead:
    case Op::kArrayPunch:
    case Op::kArrayTruncate:
    case Op::kArraySize:
    case Op::kObjPunch:
      return true;
    default:
      return false;
  }
}

// The read's length and trailer, from its body (before anything runs).
bool size_read(VecOp* o) {
  Reader r(o->body);
  (void)rpc::ShardAddr::decode(r);
  (void)rpc::CsumWire::decode(r);
  (void)r.get<uint64_t>();
  o->read_len = r.get<uint64_t>();
  rpc::RecWire rw = rpc::RecWire::decode(r);
  const bool want_state = r.get<uint8_t>() != 0;
  if (!r.ok() || o->read_len > kMaxReadBytes || !rec_wire_ok(rw)) return false;
  o->trailer = want_state ? rpc::StateWire::size(rw.kind == 2 ? rw.k : 0) : 0;
  return true;
}

// Runs one op on its engine. Reads put their bytes (and trailer) at `out`.
Status run_vec_op(vos::Engine* e, const rpc::ShardAddr& a, Reader& r, const VecOp& o, char* out,
                  rpc::VecEntry* ent) {
  const vos::ShardRef ref = shard_ref(a);
  switch (o.op) {
    case Op::kArrayWrite: {
      rpc::CsumWire cw = rpc::CsumWire::decode(r);
      const uint64_t off = r.get<uint64_t>();
      const bool has_csum = r.get<uint8_t>() != 0;
      const uint64_t in_csum = r.get<uint64_t>(), logical_end = r.get<uint64_t>();
      rpc::RecWire rw = rpc::RecWire::decode(r);
      if (!r.ok() || !rec_wire_ok(rw)) return malformed();
      const uint64_t* pc = has_csum && cw.srv_verify ? &in_csum : nullptr;
      return e->array_write(ref, off, o.bulk, o.bulk_len, csum_spec(cw), pc, logical_end,
                            record_spec(rw), write_stamp(rw));
    }
    case Op::kArrayRead: {
      rpc::CsumWire cw = rpc::CsumWire::decode(r);
      const uint64_t off = r.get<uint64_t>(), len = r.get<uint64_t>();
      rpc::RecWire rw = rpc::RecWire::decode(r);
      const bool want_state = r.get<uint8_t>() != 0;
      if (!r.ok()) return malformed();
      uint64_t out_csum = 0;
      vos::UnitState state;
      EDAOS_RETURN_IF_ERROR(e->array_read(ref, off, len, out, csum_spec(cw),
                                          cw.type != CsumType::kOff ? &out_csum : nullptr,
                                          record_spec(rw), want_state ? &state : nullptr));
      if (want_state) {
        rpc::Writer tw;
        tw.put<uint32_t>(state.flags).put<uint32_t>(static_cast<uint32_t>(state.vec.size()));
        tw.put(state.version).put(state.csum);
        for (uint64_t v : state.vec) tw.put(v);
        std::string t = tw.take();
        t.resize(o.trailer, '\0');
        std::memcpy(out + len, t.data(), o.trailer);
      }
      ent->value = out_csum;
      auto end = e->array_logical_end(ref);
      ent->value2 = end.ok() ? end.value() : 0;
      return Status::OK();
    }
    case Op::kArrayPunch: {
      const uint64_t off = r.get<uint64_t>(), len = r.get<uint64_t>();
      rpc::CsumWire cw = rpc::CsumWire::decode(r);
      rpc::RecWire rw = rpc::RecWire::decode(r);
      if (!r.ok() || !rec_wire_ok(rw)) return malformed();
      return e->array_punch(ref, off, len, csum_spec(cw), record_spec(rw), write_stamp(rw));
    }
    case Op::kArrayTruncate: {
      const uint64_t local = r.get<uint64_t>(), logical = r.get<uint64_t>();
      rpc::CsumWire cw = rpc::CsumWire::decode(r);
      rpc::RecWire rw = rpc::RecWire::decode(r);
      if (!r.ok() || !rec_wire_ok(rw)) return malformed();
      return e->array_truncate(ref, local, logical, csum_spec(cw), record_spec(rw),
                               write_stamp(rw));
    }
    case Op::kArraySize: {
      EDAOS_ASSIGN_OR_RETURN(uint64_t end, e->array_logical_end(ref));
      ent->value = end;
      return Status::OK();
    }
    case Op::kObjPunch:
      return e->obj_punch(ref);
    default:
      return Status(EDAOS_NOTSUP,
                    "op " + std::to_string(static_cast<int>(o.op)) + " is not a shard op");
  }
}

}  // namespace

std::string Server::op_shard_vec(Reader& r, const rpc::Incoming& in, bool* replied) {
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps) return rpc::make_reply(malformed());
  std::vector<VecOp> ops(n);
  uint64_t bulk = 0, data = 0;
  for (VecOp& o : ops) {
    o.op = static_cast<Op>(r.get<uint16_t>());
    o.body = r.str();
    o.bulk_len = r.get<uint64_t>();
    if (!r.ok() || !vec_op_known(o.op) || o.bulk_len > in.bulk_len() - bulk)
      return rpc::make_reply(malformed());
    o.bulk = in.bulk() + bulk;
    bulk += o.bulk_len;
    if (o.op == Op::kArrayRead) {
      if (!size_read(&o)) return rpc::make_reply(malformed());
      o.data_off = data;
      data += o.read_len + o.trailer;
      if (data > kMaxReadBytes) return rpc::make_reply(malformed());
    }
  }
  if (bulk != in.bulk_len()) return rpc::make_reply(malformed());

  const size_t head = sizeof(rpc::ReplyHeader), table = sizeof(rpc::VecEntry) * n;
  rpc::Buffer buf = t_->reply_buffer(head + table + data);
  char* const out = buf.data() + head + table;
  std::string msgs;
  for (uint32_t i = 0; i < n; ++i) {
    const VecOp& o = ops[i];
    rpc::VecEntry ent{};
    Reader br(o.body);
    rpc::ShardAddr a = rpc::ShardAddr::decode(br);
    Status st = br.ok() ? Status::OK() : malformed();
    vos::Engine* e = st.ok() ? engine(a.pool, a.engine, &st) : nullptr;
    if (e && o.op != Op::kArrayRead && o.op != Op::kArraySize) recall(a);
    if (e) st = run_vec_op(e, a, br, o, out + o.data_off, &ent);
    if (!st.ok()) {
      if (o.op == Op::kArrayRead) std::memset(out + o.data_off, 0, o.read_len + o.trailer);
      ent = rpc::VecEntry{};
      ent.status = st.code();
      const size_t room = rpc::kVecMsgMax - msgs.size();
      ent.msg_len = static_cast<uint32_t>(std::min(room, st.message().size()));
      msgs.append(st.message(), 0, ent.msg_len);
    }
    std::memcpy(buf.data() + head + sizeof ent * i, &ent, sizeof ent);
  }
  buf.resize(head + table + data + msgs.size());
  std::memcpy(buf.data() + head + table + data, msgs.data(), msgs.size());
  rpc::ReplyHeader h{};
  h.status = EDAOS_OK;
  h.payload_len = table + data + msgs.size();
  std::memcpy(buf.data(), &h, sizeof h);
  t_->reply(in.source, in.hdr.reply_tag, std::move(buf));
  *replied = true;
  return {};
}

std::string Server::op_sync_engines(Reader& r) {
  const Uuid pu = r.uuid();
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n > 1u << 20) return rpc::make_reply(malformed());
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t id = r.get<uint32_t>();
    if (!r.ok()) return rpc::make_reply(malformed());
    Status st;
    vos::Engine* e = engine(pu, id, &st);
    if (e) st = e->sync();
    if (!st.ok()) return rpc::make_reply(st.with_context("sync of engine " + std::to_string(id)));
  }
  return rpc::make_reply(Status::OK());
}

// ---------------------------------------------------------------- direct path (leases)

void Server::recall(const rpc::ShardAddr& a) {
  std::lock_guard<std::mutex> g(lease_mu_);
  if (shard_leases_.empty()) return;
  auto it = shard_leases_.find(lease_key(a));
  if (it == shard_leases_.end()) return;
  for (uint64_t id : it->second) {
    auto l = leases_.find(id);
    if (l != leases_.end()) l->second.recalled = true;
  }
  shard_leases_.erase(it);
}

std::string Server::op_shard_lease(Reader& r, const rpc::Incoming& in) {
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps) return rpc::make_reply(malformed());
  rpc::Writer out;
  for (uint32_t i = 0; i < n; ++i) {
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    const rpc::CsumWire cw = rpc::CsumWire::decode(r);
    const bool write = r.get<uint8_t>() != 0;
    const uint64_t map_version = r.get<uint64_t>();
    if (!r.ok()) return rpc::make_reply(malformed());
    Status st;
    vos::Engine* e = engine(a.pool, a.engine, &st);
    vos::Engine::DirectGrant g;
    if (e) st = e->direct_grant(shard_ref(a), csum_spec(cw), write, &g);
    out.put<int32_t>(static_cast<int32_t>(st.code())).str(st.ok() ? std::string() : st.message());
    if (!st.ok()) continue;
    uint64_t id = 0;
    if (write) {
      std::lock_guard<std::mutex> lk(lease_mu_);
      id = next_lease_++;
      Lease& l = leases_[id];
      l.shard = lease_key(a);
      l.client = in.source;
      l.map_version = map_version;
      shard_leases_[l.shard].push_back(id);
    }
    out.str(g.path).str(g.sidecar).put<uint8_t>(g.records ? 1 : 0).put(g.logical_end).put(id);
  }
  return rpc::make_reply(Status::OK(), 0, 0, out.buf());
}

std::string Server::op_shard_commit(Reader& r, const rpc::Incoming& in) {
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps) return rpc::make_reply(malformed());
  rpc::Writer out;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t id = r.get<uint64_t>(), map_version = r.get<uint64_t>();
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    const rpc::CsumWire cw = rpc::CsumWire::decode(r);
    const uint64_t logical_end = r.get<uint64_t>();
    const uint32_t m = r.get<uint32_t>();
    if (!r.ok() || m > rpc::kCommitMaxRecords) return rpc::make_reply(malformed());
    std::vector<vos::Engine::DirectRecord> recs(m);
    for (auto& x : recs) {
      x.unit = r.get<uint64_t>();
      x.version = r.get<uint64_t>();
      x.csum = r.get<uint64_t>();
    }
    if (!r.ok()) return rpc::make_reply(malformed());
    Status st;
    bool stale = false;
    vos::Engine* e = engine(a.pool, a.engine, &st);
    if (e) {
      // Held across the check and the engine call: a recall (a remote change of this shard)
      // is either wholly before this commit (stale) or after it.
      std::lock_guard<std::mutex> lk(lease_mu_);
      auto l = leases_.find(id);
      stale = l == leases_.end() || l->second.recalled || l->second.client != in.source ||
              l->second.shard != lease_key(a) || l->second.map_version != map_version;
      if (stale && l != leases_.end() && l->second.recalled) leases_.erase(l);
      if (!stale) st = e->direct_commit(shard_ref(a), csum_spec(cw), std::move(recs), logical_end);
    }
    out.put<int32_t>(stale ? rpc::kCommitStale : static_cast<int32_t>(st.code()));
    out.str(stale || st.ok() ? std::string() : st.message());
  }
  return rpc::make_reply(Status::OK(), 0, 0, out.buf());
}

std::string Server::op_shard_release(Reader& r, const rpc::Incoming& in) {
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n > (1u << 20)) return rpc::make_reply(malformed());
  std::lock_guard<std::mutex> lk(lease_mu_);
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t id = r.get<uint64_t>();
    if (!r.ok()) return rpc::make_reply(malformed());
    auto l = leases_.find(id);
    if (l == leases_.end() || l->second.client != in.source) continue;
    auto s = shard_leases_.find(l->second.shard);
    if (s != shard_leases_.end()) {
      auto& v = s->second;
      v.erase(std::remove(v.begin(), v.end(), id), v.end());
      if (v.empty()) shard_leases_.erase(s);
    }
    leases_.erase(l);
  }
  return rpc::make_reply(Status::OK());
}

}  // namespace edaos::objstore::server

// Shard ops in vectors (issue 15 item 3, issue 17): the ops of one client call that go to this
// server rank arrive in one kShardVec message and are answered by one reply; kSyncEngines
// makes only the named engines durable. See objstore/src/client/README.md ("Data path").
//
// Each op of a vector has exactly the body of its single-op form (kArrayWrite, kArrayRead,
// kArrayPunch, kArrayTruncate, kArraySize, kObjPunch) and runs as that op would, in order. One
// failing op fails alone: its entry carries the status and message, the others go on.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/log.hpp"
#include "common/parallel.hpp"
#include "ec/checksum.hpp"
#include "server/server.hpp"
#include "server/wire_specs.hpp"
#include "vos/engine.hpp"
#include "vos/meta_reader.hpp"

EDAOS_LOG_FACILITY(server);

namespace edaos::objstore::server {

using rpc::Op;
using rpc::Reader;

namespace {

constexpr uint64_t kMaxReadBytes = uint64_t{1} << 31;  // per vector, as per single read
// Engines of one kSyncEngines synced at once, at most (op_sync_engines).
constexpr size_t kSyncThreads = 8;

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
// A read that failed on units a direct writer is still committing sets *in_flight.
// `leased`: the shard has a live direct-path write lease (only then can a direct write be in
// flight on it, so only then does a size query probe for one).
Status run_vec_op(vos::Engine* e, const rpc::ShardAddr& a, Reader& r, const VecOp& o, char* out,
                  rpc::VecEntry* ent, bool* in_flight, bool leased) {
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
      EDAOS_RETURN_IF_ERROR(e->array_read(
          ref, off, len, out, csum_spec(cw), cw.type != CsumType::kOff ? &out_csum : nullptr,
          record_spec(rw), want_state ? &state : nullptr, in_flight));
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
      // Session 9 (client/README.md "Commit pipelining"): a direct write call returns before
      // its commit, which raises the end, is applied; its writer holds an OFD lock on the units
      // it wrote until then. A lock at or past the end: the client asks again (as a read of
      // units in flight). No lock: every such write that returned is applied, and the end read
      // again covers it (a commit applied between the two reads released its lock after).
      if (in_flight && leased) {
        if (e->direct_write_past(ref, end)) {
          *in_flight = true;
          return Status(EDAOS_BUSY, "a direct write past the logical end " + std::to_string(end) +
                                        " is being committed");
        }
        EDAOS_ASSIGN_OR_RETURN(end, e->array_logical_end(ref));
      }
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

bool Server::vec_read_bytes(const std::string& body, uint64_t* bytes) {
  VecOp o;
  o.body = body;
  if (!size_read(&o)) return false;
  *bytes = o.read_len + o.trailer;
  return true;
}

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
  rpc::Buffer buf = reply_buffer(head + table + data);
  char* const out = buf.data() + head + table;
  std::string msgs;
  auto put_entry = [&](uint32_t i, rpc::VecEntry ent, const Status& st, bool in_flight) {
    if (!st.ok()) {
      const VecOp& o = ops[i];
      if (o.op == Op::kArrayRead) std::memset(out + o.data_off, 0, o.read_len + o.trailer);
      ent = rpc::VecEntry{};
      ent.status = in_flight ? rpc::kCommitInFlight : st.code();
      const size_t room = rpc::kVecMsgMax - msgs.size();
      ent.msg_len = static_cast<uint32_t>(std::min(room, st.message().size()));
      msgs.append(st.message(), 0, ent.msg_len);
    }
    std::memcpy(buf.data() + head + sizeof ent * i, &ent, sizeof ent);
  };
  for (uint32_t i = 0; i < n; ++i) {
    const VecOp& o = ops[i];
    rpc::VecEntry ent{};
    Reader br(o.body);
    rpc::ShardAddr a = rpc::ShardAddr::decode(br);
    Status st = br.ok() ? Status::OK() : malformed();
    vos::Engine* e = st.ok() ? engine(a.pool, a.engine, &st) : nullptr;
    if (e && o.op == Op::kObjPunch) {
      // Session 12: a run of removals of one engine (the background destroyer's punches of
      // several objects) is one Engine::obj_punch_many, so they share one write transaction,
      // and shards that hold nothing cost none. Each keeps the single op's recall and size
      // bracket (the whole run inside one bracket per shard).
      std::vector<rpc::ShardAddr> as{a};
      uint32_t end = i + 1;
      for (; end < n && ops[end].op == Op::kObjPunch; ++end) {
        Reader nr(ops[end].body);
        rpc::ShardAddr na = rpc::ShardAddr::decode(nr);
        if (!nr.ok() || na.pool != a.pool || na.engine != a.engine) break;
        as.push_back(na);
      }
      std::vector<vos::ShardRef> refs;
      for (const rpc::ShardAddr& x : as) {
        recall(x);
        size_change(x, true);
        refs.push_back(shard_ref(x));
      }
      std::vector<Status> res;
      e->obj_punch_many(refs, &res);
      for (const rpc::ShardAddr& x : as) size_change(x, false);
      meta_changed(a.engine);
      for (uint32_t k = i; k < end; ++k) put_entry(k, rpc::VecEntry{}, res[k - i], false);
      i = end - 1;
      continue;
    }
    if (e && o.op != Op::kArrayRead && o.op != Op::kArraySize) recall(a);
    // Changes that may lower the shard's logical end end the direct readers' size bounds.
    const bool lowers = e && (o.op == Op::kArrayTruncate || o.op == Op::kObjPunch);
    if (lowers) size_change(a, true);
    bool in_flight = false;
    const bool leased = e && o.op == Op::kArraySize && write_leased(a);
    if (e) st = run_vec_op(e, a, br, o, out + o.data_off, &ent, &in_flight, leased);
    if (lowers) size_change(a, false);
    if (e && o.op != Op::kArrayRead && o.op != Op::kArraySize) meta_changed(a.engine);
    put_entry(i, ent, st, in_flight);
  }
  buf.resize(head + table + data + msgs.size());
  std::memcpy(buf.data() + head + table + data, msgs.data(), msgs.size());
  rpc::ReplyHeader h{};
  h.status = EDAOS_OK;
  h.payload_len = table + data + msgs.size();
  std::memcpy(buf.data(), &h, sizeof h);
  reply_to(in, std::move(buf), table, data);  // the reads' bytes: the reply's data section
  *replied = true;
  return {};
}

// The engines of one sync are synced in parallel (each engine has its own mutex and files):
// fdatasync is a wait for the disk, and the disk (and ext4's journal) takes many at once about
// as fast as one, so a sync of 20 engines with thousands of dirty files (`edaos fs copy`, a
// checkpoint of many small files) costs the slowest engine, not the sum (session 10: 2000 small
// files copied, the final sync was ~2,000 serial fdatasyncs, most of the copy's time).
std::string Server::op_sync_engines(Reader& r) {
  const Uuid pu = r.uuid();
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n > 1u << 20) return rpc::make_reply(malformed());
  std::vector<uint32_t> ids(n);
  for (uint32_t i = 0; i < n; ++i) {
    ids[i] = r.get<uint32_t>();
    if (!r.ok()) return rpc::make_reply(malformed());
  }
  std::vector<Status> results(n);
  std::vector<vos::Engine*> engines(n);
  for (uint32_t i = 0; i < n; ++i) engines[i] = engine(pu, ids[i], &results[i]);
  for_each_parallel(n, kSyncThreads, [&](size_t i) {
    if (engines[i]) results[i] = engines[i]->sync();
  });
  for (uint32_t i = 0; i < n; ++i)
    if (!results[i].ok())
      return rpc::make_reply(results[i].with_context("sync of engine " + std::to_string(ids[i])));
  return rpc::make_reply(Status::OK());
}

// ---------------------------------------------------------------- direct path (leases)

// The size-change page: kLeasePageSlots u64 generations, then as many u64 counts of changes in
// progress, in a memfd that processes of this node open through /proc (rpc/README.md "Size
// bound"). Only this server writes it, with atomic adds.
struct Server::LeasePage {
  int fd = -1;
  uint64_t* map = nullptr;
  std::string path;
  ~LeasePage() {
    if (map) ::munmap(map, rpc::kLeasePageBytes);
    if (fd >= 0) ::close(fd);
  }
  uint64_t* gen(uint32_t slot) { return map + slot; }
  uint64_t* busy(uint32_t slot) { return map + rpc::kLeasePageSlots + slot; }
  // A new page; nullptr when the system cannot make one (direct reads then carry no bound).
  static std::shared_ptr<LeasePage> create() {
    auto pg = std::make_shared<LeasePage>();
    pg->fd = ::memfd_create("edaos-size-changes", MFD_CLOEXEC);
    if (pg->fd < 0 || ::ftruncate(pg->fd, static_cast<off_t>(rpc::kLeasePageBytes)) != 0)
      return nullptr;
    void* m = ::mmap(nullptr, rpc::kLeasePageBytes, PROT_READ | PROT_WRITE, MAP_SHARED, pg->fd, 0);
    if (m == MAP_FAILED) return nullptr;
    pg->map = static_cast<uint64_t*>(m);
    pg->path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(pg->fd);
    return pg;
  }
};

namespace {

// The page slot of a shard: only this server computes it (the lease reply carries it).
uint32_t page_slot(const std::string& key) {
  return static_cast<uint32_t>(std::hash<std::string>{}(key) % rpc::kLeasePageSlots);
}

uint64_t load(const uint64_t* p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void add(uint64_t* p, uint64_t v) { (void)__atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }

}  // namespace

const std::shared_ptr<Server::LeasePage>& Server::lease_page_locked() {
  if (!page_tried_) {
    page_tried_ = true;
    page_ = LeasePage::create();
  }
  return page_;
}

void Server::size_change(const rpc::ShardAddr& a, bool begin) {
  std::lock_guard<std::mutex> g(lease_mu_);
  if (!lease_page_locked()) return;
  const uint32_t slot = page_slot(lease_key(a));
  // begin: counted in progress, then a new generation; end: a new generation, then done. A
  // reader that saw neither change of the generation read before the change began.
  if (begin) {
    add(page_->busy(slot), 1);
    add(page_->gen(slot), 1);
  } else {
    add(page_->gen(slot), 1);
    add(page_->busy(slot), ~uint64_t{0});
  }
}

// A recalled lease is forgotten at once: its holder's next commit names an id the table no
// longer has, which is answered kCommitStale like a recall, so nothing waits for a holder that
// may never come back (a killed client).
void Server::recall(const rpc::ShardAddr& a) {
  std::lock_guard<std::mutex> g(lease_mu_);
  if (shard_leases_.empty()) return;
  auto it = shard_leases_.find(lease_key(a));
  if (it == shard_leases_.end()) return;
  for (uint64_t id : it->second) {
    auto l = leases_.find(id);
    if (l == leases_.end()) continue;
    // Its holder may still hold a lock on the file (a pipelined commit that will be refused
    // and redone through the engine, or a write under the lease it does not know is gone):
    // the slot stays counted until the pool closes here.
    ++recalled_[a.pool][l->second.meta_slot];
    leases_.erase(l);
  }
  shard_leases_.erase(it);
}

// The metadata page (session 11): see server.hpp and vos/meta_reader.hpp.
void Server::meta_changed(uint32_t engine) {
  if (meta_page_) meta_page_->bump_engine(engine);
}

void Server::publish_meta_page(const std::string& pool_dir) {
  if (!meta_page_) return;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return;
  Status st = meta_page_->publish(pool_dir, index_, host);
  if (!st.ok())
    EDAOS_LOG(info, "metadata page not published (local stats probe shard files): %s",
              st.to_string().c_str());
}

void Server::forget_lease(std::map<uint64_t, Lease>::iterator l) {
  if (meta_page_) meta_page_->add_lease(l->second.meta_slot, -1);
  auto s = shard_leases_.find(l->second.shard);
  if (s != shard_leases_.end()) {
    auto& v = s->second;
    v.erase(std::remove(v.begin(), v.end(), l->first), v.end());
    if (v.empty()) shard_leases_.erase(s);
  }
  leases_.erase(l);
}

std::string Server::op_pool_close_leases(Reader& r) {
  Reader peek = r;
  const Uuid pool = peek.uuid();
  std::string reply = op_pool_close(r);
  // The last connection closed the pool here (pools_mu_ is held): no holder can commit under
  // its leases any more, including one that never released them (killed, or its release was
  // lost). Leases of a pool still served by other connections stay.
  if (peek.ok() && pools_.find(pool) == pools_.end()) {
    rpc::Writer w;
    w.uuid(pool);
    const std::string prefix = w.take();  // lease_key starts with the pool
    std::lock_guard<std::mutex> lk(lease_mu_);
    for (auto l = leases_.begin(); l != leases_.end();) {
      auto next = std::next(l);
      if (l->second.shard.compare(0, prefix.size(), prefix) == 0) forget_lease(l);
      l = next;
    }
    if (auto rc = recalled_.find(pool); rc != recalled_.end()) {
      if (meta_page_)
        for (const auto& [slot, n] : rc->second)
          meta_page_->add_lease(slot, -static_cast<int64_t>(n));
      recalled_.erase(rc);
    }
  }
  return reply;
}

size_t Server::lease_count() {
  std::lock_guard<std::mutex> lk(lease_mu_);
  return leases_.size();
}

std::string Server::op_shard_lease(Reader& r, const rpc::Incoming& in) {
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps) return rpc::make_reply(malformed());
  std::shared_ptr<LeasePage> page;
  {
    std::lock_guard<std::mutex> lk(lease_mu_);
    page = lease_page_locked();
  }
  rpc::Writer out;
  out.str(page ? page->path : std::string());
  for (uint32_t i = 0; i < n; ++i) {
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    const rpc::CsumWire cw = rpc::CsumWire::decode(r);
    const bool write = r.get<uint8_t>() != 0;
    const uint64_t map_version = r.get<uint64_t>();
    const rpc::RecWire rw = rpc::RecWire::decode(r);
    if (!r.ok() || !rec_wire_ok(rw)) return rpc::make_reply(malformed());
    Status st;
    vos::Engine* e = engine(a.pool, a.engine, &st);
    vos::Engine::DirectGrant g;
    // The logical end is a bound for the reader only if no change that may lower it was in
    // progress or happened while the engine read it (generation unchanged across the grant).
    const uint32_t slot = page_slot(lease_key(a));
    const uint64_t busy0 = page ? load(page->busy(slot)) : 1;
    const uint64_t gen0 = page ? load(page->gen(slot)) : 0;
    if (e) st = e->direct_grant(shard_ref(a), csum_spec(cw), record_spec(rw), write, &g);
    const bool bound = page && busy0 == 0 && load(page->gen(slot)) == gen0;
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
      l.meta_slot = vos::meta_page_slot(a.pool, a.engine, a.cont, a.oid, a.shard);
      // Counted before the grant is answered: the holder cannot lock a file before that.
      if (meta_page_) meta_page_->add_lease(l.meta_slot, 1);
      shard_leases_[l.shard].push_back(id);
    }
    out.str(g.path).str(g.sidecar).put<uint8_t>(g.records ? 1 : 0).put(g.logical_end).put(id);
    out.put(slot).put(gen0).put<uint8_t>(bound ? 1 : 0);
  }
  return rpc::make_reply(Status::OK(), 0, 0, out.buf());
}

std::string Server::op_shard_commit(Reader& r, const rpc::Incoming& in) {
  // The count's top bits name the mode (rpc::kCommitModeShift; session 8, direct partial
  // stripes): commit, prepare (pending records before the writer's data) or finish.
  const uint32_t head = r.get<uint32_t>();
  const uint32_t n = head & rpc::kCommitCountMask, mode = head >> rpc::kCommitModeShift;
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps || mode > rpc::kCommitFinish)
    return rpc::make_reply(malformed());
  const auto cmode = static_cast<vos::Engine::CommitMode>(mode);
  rpc::Writer out;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t id = r.get<uint64_t>(), map_version = r.get<uint64_t>();
    const rpc::ShardAddr a = rpc::ShardAddr::decode(r);
    const rpc::CsumWire cw = rpc::CsumWire::decode(r);
    const rpc::RecWire rw = rpc::RecWire::decode(r);
    const uint64_t logical_end = r.get<uint64_t>();
    const uint32_t m = r.get<uint32_t>();
    if (!r.ok() || !rec_wire_ok(rw) || m > rpc::kCommitMaxRecords)
      return rpc::make_reply(malformed());
    // Parity records carry the k data versions they encode.
    const uint32_t nvec = rw.kind == 2 ? rw.k : 0;
    std::vector<vos::Engine::DirectRecord> recs(m);
    for (auto& x : recs) {
      x.unit = r.get<uint64_t>();
      x.version = r.get<uint64_t>();
      x.csum = r.get<uint64_t>();
      for (uint32_t j = 0; j < nvec && r.ok(); ++j) x.vec.push_back(r.get<uint64_t>());
    }
    if (!r.ok()) return rpc::make_reply(malformed());
    Status st;
    bool stale = false;
    int32_t code = 0;
    vos::Engine* e = engine(a.pool, a.engine, &st);
    if (e) {
      // Held across the check and the engine call: a recall (a remote change of this shard)
      // is either wholly before this commit (stale) or after it.
      std::lock_guard<std::mutex> lk(lease_mu_);
      auto l = leases_.find(id);
      stale = l == leases_.end() || l->second.client != in.source ||
              l->second.shard != lease_key(a) || l->second.map_version != map_version;
      if (cmode == vos::Engine::CommitMode::kFinish) {
        // Session 12 (protocol 9): a finish goes whatever the lease's state. It only drops prev
        // of units still pending with exactly these records, whose bytes the writer wrote
        // wholly before sending it (what a reader's settling does); a unit holding another
        // record (a change through the engine replaced it: EDAOS_EXIST) is answered stale.
        st = e->direct_commit(shard_ref(a), csum_spec(cw), record_spec(rw), std::move(recs),
                              logical_end, cmode);
        meta_changed(a.engine);
        if (st.code() == EDAOS_EXIST)
          code = rpc::kCommitStale;
        else if (st.ok() && stale)
          code = rpc::kFinishLeaseGone;
        stale = code == rpc::kCommitStale;
        if (code != 0) st = Status::OK();
      } else if (!stale) {
        st = e->direct_commit(shard_ref(a), csum_spec(cw), record_spec(rw), std::move(recs),
                              logical_end, cmode);
        meta_changed(a.engine);
      }
    }
    if (stale) code = rpc::kCommitStale;
    out.put<int32_t>(code != 0 ? code : static_cast<int32_t>(st.code()));
    out.str(code != 0 || st.ok() ? std::string() : st.message());
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
    if (l != leases_.end() && l->second.client == in.source) forget_lease(l);
  }
  return rpc::make_reply(Status::OK());
}

bool Server::write_leased(const rpc::ShardAddr& a) {
  std::lock_guard<std::mutex> lk(lease_mu_);
  if (!shard_leases_.empty() && shard_leases_.count(lease_key(a)) != 0) return true;
  // Session 11: a recalled lease's holder may still hold its lock (its pipelined commit is
  // refused and redone through the engine while it holds it), so a shard whose slot had a
  // lease recalled is probed until the pool closes here (a shared slot only costs a probe).
  auto rc = recalled_.find(a.pool);
  return rc != recalled_.end() &&
         rc->second.count(vos::meta_page_slot(a.pool, a.engine, a.cont, a.oid, a.shard)) != 0;
}

}  // namespace edaos::objstore::server

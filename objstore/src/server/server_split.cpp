// Per-engine queues for kShardVec (README "Execution model", transports session 6): a vector
// whose ops all name one engine goes to that engine's queue; a vector that spans several
// engines of this rank is split into one part per engine, each a kShardVec of that engine's
// ops (in their order) queued on the engine's queue, so the parts run at once on different
// service threads; the thread that finishes the last part joins their replies in the whole
// vector's op order and answers the client.
#include <cstdlib>
#include <cstring>
#include <map>

#include "server/server.hpp"

namespace edaos::objstore::server {

using rpc::Op;
using rpc::Reader;
using rpc::Writer;

// One op of a vector as the progress thread parses it to route it.
struct Server::VecPiece {
  Op op = Op::kArraySize;
  std::string body;
  size_t bulk_off = 0;
  uint64_t bulk_len = 0;
  uint64_t read_bytes = 0;  // kArrayRead: bytes (and trailer) its reply carries
  std::string key;          // its engine's queue
};

struct Server::VecJoin {
  int source = -1;
  int32_t tag = 0;
  std::vector<uint32_t> op_part, op_local;  // per op of the whole: its part, its place there
  std::vector<uint64_t> read_bytes;         // per op of the whole
  std::vector<uint32_t> part_ops;           // ops per part
  std::mutex mu;
  std::condition_variable cv;  // EDAOS_TEST_FAULT=vec-parts-meet only
  size_t started = 0, left = 0;
  std::vector<rpc::Buffer> got;  // per part: its reply (header + payload)
};

std::string Server::engine_key(const rpc::ShardAddr& a) {
  std::string key(reinterpret_cast<const char*>(a.pool.b), sizeof a.pool.b);
  key.append(reinterpret_cast<const char*>(&a.engine), sizeof a.engine);
  return key;
}

bool Server::parse_vec(const rpc::Incoming& in, std::vector<VecPiece>* out) {
  Reader r(in.body(), in.body_len());
  const uint32_t n = r.get<uint32_t>();
  if (!r.ok() || n == 0 || n > rpc::kVecMaxOps) return false;
  out->assign(n, VecPiece{});
  size_t bulk = 0;
  for (VecPiece& p : *out) {
    p.op = static_cast<Op>(r.get<uint16_t>());
    p.body = r.str();
    p.bulk_len = r.get<uint64_t>();
    if (!r.ok() || p.bulk_len > in.bulk_len() - bulk) return false;
    p.bulk_off = bulk;
    bulk += p.bulk_len;
    Reader br(p.body);
    const rpc::ShardAddr a = rpc::ShardAddr::decode(br);
    if (!br.ok()) return false;
    p.key = engine_key(a);
    if (p.op == Op::kArrayRead && !vec_read_bytes(p.body, &p.read_bytes)) return false;
  }
  return bulk == in.bulk_len();
}

std::string Server::route_vec(const rpc::Incoming& in) {
  std::vector<VecPiece> ops;
  // A malformed vector is answered by its handler, on the client's own queue.
  if (!parse_vec(in, &ops)) return "V" + std::to_string(in.source);
  for (const VecPiece& p : ops)
    if (p.key != ops[0].key) return kSplitQueue;
  return ops[0].key;
}

void Server::split_vec(rpc::Incoming& in) {
  std::vector<VecPiece> ops;
  if (!parse_vec(in, &ops)) {  // route_vec said it parses
    enqueue("V" + std::to_string(in.source), in);
    return;
  }
  auto j = std::make_shared<VecJoin>();
  j->source = in.source;
  j->tag = in.hdr.reply_tag;
  std::map<std::string, uint32_t> part_of;
  std::vector<const std::string*> keys;
  for (const VecPiece& p : ops) {
    auto it = part_of.emplace(p.key, static_cast<uint32_t>(keys.size())).first;
    if (it->second == keys.size()) {
      keys.push_back(&it->first);
      j->part_ops.push_back(0);
    }
    j->op_part.push_back(it->second);
    j->op_local.push_back(j->part_ops[it->second]++);
    j->read_bytes.push_back(p.read_bytes);
  }
  j->left = keys.size();
  j->got.resize(keys.size());
  vec_splits_++;
  for (uint32_t k = 0; k < keys.size(); ++k) {
    Writer w;
    w.put<uint32_t>(j->part_ops[k]);
    size_t bulk = 0;
    for (size_t i = 0; i < ops.size(); ++i)
      if (j->op_part[i] == k) {
        w.put<uint16_t>(static_cast<uint16_t>(ops[i].op)).str(ops[i].body);
        w.put<uint64_t>(ops[i].bulk_len);
        bulk += ops[i].bulk_len;
      }
    const std::string& body = w.buf();
    rpc::Incoming part;
    part.source = in.source;
    part.hdr = in.hdr;
    part.hdr.body_len = static_cast<uint32_t>(body.size());
    part.buf.resize(sizeof part.hdr + body.size() + bulk);
    char* o = part.buf.data();
    std::memcpy(o, &part.hdr, sizeof part.hdr);
    std::memcpy(o + sizeof part.hdr, body.data(), body.size());
    o += sizeof part.hdr + body.size();
    for (size_t i = 0; i < ops.size(); ++i)
      if (j->op_part[i] == k && ops[i].bulk_len) {
        std::memcpy(o, in.bulk() + ops[i].bulk_off, ops[i].bulk_len);
        o += ops[i].bulk_len;
      }
    part.whole = j;
    part.part = k;
    enqueue(*keys[k], part);
  }
  in = rpc::Incoming{};
}

void Server::part_started(const rpc::Incoming& in) {
  if (!meet_parts_) return;
  // Test only (EDAOS_TEST_FAULT=vec-parts-meet): every part waits, at most 10 s, until all
  // parts of its vector are being served; counted when they all were at once.
  auto* j = static_cast<VecJoin*>(in.whole.get());
  std::unique_lock<std::mutex> lk(j->mu);
  ++j->started;
  j->cv.notify_all();
  if (j->cv.wait_for(lk, std::chrono::seconds(10),
                     [j] { return j->started == j->part_ops.size(); }))
    vec_parts_met_++;
}

void Server::reply_to(const rpc::Incoming& in, std::string rep) {
  if (!in.whole) {
    send(in.source, in.hdr.reply_tag, std::move(rep));
    return;
  }
  rpc::Buffer b;
  b.resize(rep.size());
  std::memcpy(b.data(), rep.data(), rep.size());
  join_part(in, std::move(b));
}

void Server::reply_to(const rpc::Incoming& in, rpc::Buffer buf, size_t data_off, size_t data_len) {
  if (!in.whole)
    send(in.source, in.hdr.reply_tag, std::move(buf), data_off, data_len);
  else
    join_part(in, std::move(buf));
}

void Server::join_part(const rpc::Incoming& in, rpc::Buffer buf) {
  auto* j = static_cast<VecJoin*>(in.whole.get());
  {
    std::lock_guard<std::mutex> g(j->mu);
    j->got[in.part] = std::move(buf);
    if (--j->left != 0) return;
  }
  // The last part: every reply is in, no other thread touches the join any more.
  const size_t head = sizeof(rpc::ReplyHeader), n = j->op_part.size();
  const size_t parts = j->got.size();
  std::vector<size_t> dcur(parts), mcur(parts), mend(parts);
  for (size_t p = 0; p < parts; ++p) {
    const rpc::Buffer& b = j->got[p];
    rpc::ReplyHeader h{};
    if (b.size() >= head) std::memcpy(&h, b.data(), head);
    if (b.size() < head || h.status != EDAOS_OK) {
      // A part failed as a whole (not one of its ops): so does the vector.
      send(j->source, j->tag,
           b.size() >= head ? std::string(b.data(), b.size())
                            : rpc::make_reply(Status(EDAOS_PROTO, "empty reply of a vector part")));
      return;
    }
    uint64_t data = 0;
    for (size_t i = 0; i < n; ++i)
      if (j->op_part[i] == p) data += j->read_bytes[i];
    dcur[p] = head + sizeof(rpc::VecEntry) * j->part_ops[p];
    mcur[p] = dcur[p] + data;
    mend[p] = b.size();
    if (mcur[p] > mend[p]) {
      send(j->source, j->tag, rpc::make_reply(Status(EDAOS_PROTO, "short reply of a vector part")));
      return;
    }
  }
  uint64_t data = 0;
  for (uint64_t d : j->read_bytes) data += d;
  const size_t table = sizeof(rpc::VecEntry) * n;
  rpc::Buffer out = reply_buffer(head + table + data + rpc::kVecMsgMax);
  char* const tab = out.data() + head;
  char* d = tab + table;
  std::string msgs;
  for (size_t i = 0; i < n; ++i) {
    const size_t p = j->op_part[i];
    const char* b = j->got[p].data();
    rpc::VecEntry e{};
    std::memcpy(&e, b + head + sizeof e * j->op_local[i], sizeof e);
    if (j->read_bytes[i]) {
      std::memcpy(d, b + dcur[p], j->read_bytes[i]);
      d += j->read_bytes[i];
      dcur[p] += j->read_bytes[i];
    }
    if (e.status != EDAOS_OK) {
      const size_t k = std::min<size_t>(e.msg_len, mend[p] - mcur[p]);
      const size_t take = std::min(k, rpc::kVecMsgMax - msgs.size());
      msgs.append(b + mcur[p], take);
      mcur[p] += k;
      e.msg_len = static_cast<uint32_t>(take);
    }
    std::memcpy(tab + sizeof e * i, &e, sizeof e);
  }
  out.resize(head + table + data + msgs.size());
  std::memcpy(out.data() + head + table + data, msgs.data(), msgs.size());
  rpc::ReplyHeader h{};
  h.status = EDAOS_OK;
  h.payload_len = table + data + msgs.size();
  std::memcpy(out.data(), &h, sizeof h);
  send(j->source, j->tag, std::move(out), table, data);
}

}  // namespace edaos::objstore::server

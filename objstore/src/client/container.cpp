// Container handles: properties, object IDs, object handles, sync, attributes.
#include <algorithm>
#include <mutex>
#include <set>

#include "client/client_internal.hpp"
#include "client/shard_io.hpp"

namespace edaos::objstore {

namespace client {
Result<std::unique_ptr<Array>> open_array(std::shared_ptr<ContState> c, ObjectId oid,
                                          uint64_t chunk);
Result<std::unique_ptr<KV>> open_kv(std::shared_ptr<ContState> c, ObjectId oid);
Status write_arrays(std::shared_ptr<ContState> c, std::vector<ArrayWrite>* writes);
}  // namespace client

using rpc::Op;
using rpc::Reader;
using rpc::Writer;

namespace {
// Largest range of object IDs one handle reserves at a time.
constexpr uint64_t kOidRangeMax = 1024;
}  // namespace

Container::Container(std::shared_ptr<client::ContState> s) : s_(std::move(s)) {}
const Uuid& Container::uuid() const { return s_->uuid; }
const ContainerProps& Container::props() const { return s_->props; }
const PoolMap& Container::pool_map() const { return s_->pool->map; }

Status Container::set_prop(const std::string& key, const std::string& value) {
  EDAOS_RETURN_IF_ERROR(refresh());
  ContainerProps p = s_->props;
  EDAOS_RETURN_IF_ERROR(set_property(&p, key, value));
  for (const std::string* cls : {&p.oclass, &p.file_oclass, &p.dir_oclass}) {
    if (cls->empty()) continue;
    auto oc = ObjClass::parse(*cls);
    if (!oc.ok()) return oc.status();
    EDAOS_RETURN_IF_ERROR(validate_for_pool(oc.value(), s_->pool->map));
    EDAOS_RETURN_IF_ERROR(validate_for_rd_fac(oc.value(), static_cast<int>(p.rd_fac)));
  }
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid).str(p.label).str(encode(p));
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_->pool, Op::kContUpdate, w.take()));
  s_->props = std::move(p);
  return Status::OK();
}

Status Container::refresh() {
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).put<uint8_t>(0).uuid(s_->uuid).str("");
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_->pool, Op::kContGet, w.take(), &c));
  Reader r(c.payload);
  (void)r.uuid();
  auto p = decode_props(r.str());
  if (!p.ok()) return p.status();
  s_->props = std::move(p).value();
  return Status::OK();
}

Result<ObjectId> Container::alloc_oid(const ObjClass& oc, ObjType type) {
  EDAOS_RETURN_IF_ERROR(validate_for_pool(oc, s_->pool->map));
  EDAOS_RETURN_IF_ERROR(validate_for_rd_fac(oc, static_cast<int>(s_->props.rd_fac)));
  std::lock_guard<std::mutex> lk(s_->oid_mu);
  if (s_->oid_next == s_->oid_end) {
    // The first ID of a handle costs one call as before; later ranges double up to
    // kOidRangeMax, so a handle that creates n objects pays about log2(n) + n / kOidRangeMax
    // pool-service commits instead of n.
    const uint64_t want = s_->oid_batch == 0 ? 1 : std::min(s_->oid_batch * 2, kOidRangeMax);
    Writer w;
    w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid).put<uint64_t>(want);
    rpc::Call c;
    EDAOS_RETURN_IF_ERROR(client::lead_call(*s_->pool, Op::kOidAlloc, w.take(), &c));
    s_->oid_next = c.rep.value;
    s_->oid_end = c.rep.value + want;
    s_->oid_batch = want;
  }
  return make_oid(oc, type, 0, s_->oid_next++);
}

Result<std::unique_ptr<Array>> Container::open_array(ObjectId oid, uint64_t chunk_size) {
  return client::open_array(s_, oid, chunk_size);
}

Result<std::unique_ptr<KV>> Container::open_kv(ObjectId oid) { return client::open_kv(s_, oid); }

Status Container::write_arrays(std::vector<ArrayWrite>* writes) {
  return client::write_arrays(s_, writes);
}

// Only the engines this process wrote (through any handle of the pool connection) since its
// last sync: the engines nobody here wrote have nothing of ours to make durable.
Status Container::sync() { return client::shard_io(*s_->pool).sync(); }

Status Container::close_object(ObjectId oid) {
  // No shard path yet: nothing was written through this connection.
  if (!s_->pool->io) return Status::OK();
  return client::shard_io(*s_->pool).close_object(s_->uuid, oid);
}

namespace client {

Status destroy_objects(const std::shared_ptr<ContState>& c, const std::vector<ObjectId>& oids,
                       std::vector<Status>* results) {
  results->assign(oids.size(), Status::OK());
  auto io = shard_io(*c->pool).ops(c->csum());
  std::vector<size_t> owner;  // per op: its object
  Status first;
  auto run = [&] {
    io->run();
    for (size_t k = 0; k < io->count(); ++k) {
      Status st = io->status(k);
      if (st.ok() || !(*results)[owner[k]].ok()) continue;
      (*results)[owner[k]] = st;
      if (first.ok()) first = st;
    }
    io->clear();
    owner.clear();
  };
  for (size_t i = 0; i < oids.size(); ++i) {
    auto layout = compute_layout(c->pool->map, oids[i]);
    if (!layout.ok()) {
      (*results)[i] = layout.status();
      if (first.ok()) first = layout.status();
      continue;
    }
    const Layout& l = layout.value();
    // Up to kVecMaxOps per set: the set's ops to one server rank stay one message.
    if (io->count() + size_t{l.ngroups} * l.group_size > rpc::kVecMaxOps && io->count()) run();
    for (uint32_t g = 0; g < l.ngroups; ++g)
      for (uint32_t k = 0; k < l.group_size; ++k) {
        const ShardLoc& loc = l.at(g, k);
        if (!c->pool->writable(loc.engine)) continue;
        ShardId s;
        s.cont = c->uuid;
        s.oid = oids[i];
        s.engine = loc.engine;
        s.shard = g * l.group_size + k;
        s.target = loc.target;
        io->remove(s);
        owner.push_back(i);
      }
  }
  if (io->count()) run();
  return first;
}

}  // namespace client

Result<std::vector<ObjectId>> Container::list_objects() {
  client::Batch b(s_->pool->rt);
  for (int srv : s_->pool->rt->servers) {
    Writer w;
    w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid);
    b.add(srv, Op::kListObjects)->body = w.take();
  }
  b.run();
  std::set<ObjectId> all;
  for (size_t i = 0; i < b.size(); ++i) {
    EDAOS_RETURN_IF_ERROR(b[i].status());
    Reader r(b[i].payload);
    uint32_t n = r.get<uint32_t>();
    for (uint32_t j = 0; j < n && r.ok(); ++j) all.insert(r.oid());
  }
  return std::vector<ObjectId>(all.begin(), all.end());
}

Status Container::attr_set(const std::string& name, const std::string& value) {
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid).str(name).str(value);
  return client::lead_call(*s_->pool, Op::kAttrSet, w.take());
}

Result<std::string> Container::attr_get(const std::string& name) {
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid).str(name);
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_->pool, Op::kAttrGet, w.take(), &c));
  return std::move(c.payload);
}

Result<std::vector<std::string>> Container::attr_list() {
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid);
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_->pool, Op::kAttrList, w.take(), &c));
  Reader r(c.payload);
  uint32_t n = r.get<uint32_t>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n && r.ok(); ++i) out.push_back(r.str());
  return out;
}

Status Container::attr_del(const std::string& name) {
  Writer w;
  w.uuid(s_->pool->map.pool_uuid).uuid(s_->uuid).str(name);
  return client::lead_call(*s_->pool, Op::kAttrDel, w.take());
}

}  // namespace edaos::objstore

// Pools: create, connect, query, disconnect; container management through the pool service.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "client/client_internal.hpp"
#include "client/local_meta.hpp"
#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "edaos/objstore/collectives.hpp"
#include "vos/pool_store.hpp"

EDAOS_LOG_FACILITY(client);

namespace edaos::objstore {

using client::EngineHealth;
using client::PoolState;
using client::Runtime;
using rpc::Op;
using rpc::Reader;
using rpc::Writer;

namespace {

uint32_t env_u32(const char* name, uint32_t def) {
  const char* v = std::getenv(name);
  if (!v || !*v) return def;
  char* end = nullptr;
  unsigned long x = std::strtoul(v, &end, 10);
  return end && *end == '\0' && x > 0 && x < 100000 ? static_cast<uint32_t>(x) : def;
}

Runtime* need_runtime(Status* st) {
  Runtime* rt = client::runtime();
  if (!rt)
    *st =
        Status(EDAOS_NOTINIT,
               "edaos is not initialized (call edaos_init, or link libedaos_init / libedaos_mpio)");
  return rt;
}

std::vector<uint32_t> engines_down_from_env() {
  std::vector<uint32_t> down;
  const char* v = std::getenv("EDAOS_ENGINES_DOWN");
  if (!v) return down;
  std::stringstream ss(v);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    unsigned long x = std::strtoul(item.c_str(), &end, 10);
    if (!item.empty() && end && *end == '\0') down.push_back(static_cast<uint32_t>(x));
  }
  return down;
}

std::string last_component(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// Closes what a failed connect opened: the lead's phase-1 reference and the phase-2
// references of the other servers that answered OK.
void undo_serve(Runtime* rt, const Uuid& pool, const std::vector<int>& servers) {
  client::Batch undo(rt);
  for (int srv : servers) {
    Writer u;
    u.uuid(pool);
    undo.add(srv, Op::kPoolClose)->body = u.take();
  }
  undo.run();
}

std::string serve_body(const std::string& path, uint8_t phase, bool admin) {
  Writer w;
  w.str(path).put<uint8_t>(phase).put<uint8_t>(admin ? rpc::kServeAdmin : 0);
  return w.take();
}

// Rank 0 of a connect: the lead takes the pool lock (phase 1), then every server opens the
// engines it hosts (phase 2); builds this connection's view of the engines.
Status connect_root(Runtime* rt, const std::string& path, bool admin, PoolState* ps) {
  std::string blob;
  auto hdr = vos::PoolStore::read_header(path, &blob);
  if (!hdr.ok()) {
    if (hdr.status().code() == EDAOS_NONEXIST)
      return Status(EDAOS_NONEXIST,
                    hdr.status().message() + " (create it with `edaos pool create`)");
    return hdr.status().with_context("pool " + path);
  }
  auto map = PoolMap::decode(blob);
  if (!map.ok()) return map.status().with_context("pool map of " + path);
  ps->map = std::move(map).value();
  ps->quota_bytes = hdr->quota_bytes;
  const size_t n = ps->map.engines.size();
  ps->why_down.assign(n, "");
  ps->health.assign(n, EngineHealth::kUp);
  ps->drilled.assign(n, false);
  for (auto& e : ps->map.engines)
    if (e.state != EngineState::kUp) {
      ps->health[e.id] = EngineHealth::kExcluded;
      ps->why_down[e.id] = "excluded in the pool map";
    }

  // Phase 1: the pool lock. A job that loses it has opened nothing.
  rpc::Call lock;
  lock.server = rt->servers[0];
  lock.op = Op::kPoolServe;
  lock.body = serve_body(path, rpc::kServePoolService, admin);
  rt->counters.rpcs++;
  Status st = rt->rpc->call(&lock);
  if (!st.ok()) {
    if (st.code() == EDAOS_BUSY) return st.with_context("cannot connect to " + path);
    return st;
  }
  // Phase 2: the engines, on every server at once.
  client::Batch b(rt);
  for (int s : rt->servers)
    b.add(s, Op::kPoolServe)->body = serve_body(path, rpc::kServeEngines, admin);
  b.run();
  Status first;
  std::vector<int> undo = {rt->servers[0]};
  for (size_t i = 0; i < b.size(); ++i) {
    Status bst = b[i].status();
    if (!bst.ok()) {
      if (first.ok()) first = bst;
      continue;
    }
    if (i > 0) undo.push_back(b[i].server);
    Reader r(b[i].payload);
    (void)r.uuid();
    uint32_t cnt = r.get<uint32_t>();
    for (uint32_t j = 0; j < cnt && r.ok(); ++j) {
      uint32_t id = r.get<uint32_t>();
      auto h = static_cast<EngineHealth>(r.get<uint8_t>());
      int32_t code = r.get<int32_t>();
      std::string msg = r.str();
      if (id >= n || h == EngineHealth::kUp) continue;
      ps->health[id] = h;
      ps->why_down[id] = msg.empty() ? edaos_status_describe(code) : msg;
    }
    if (!r.ok()) first = Status(EDAOS_PROTO, "bad pool serve reply");
  }
  if (!first.ok()) {
    undo_serve(rt, hdr->uuid, undo);  // nothing stays locked
    if (first.code() == EDAOS_BUSY) return first.with_context("cannot connect to " + path);
    return first.with_context("cannot connect to " + path);
  }
  // Engines that all belong elsewhere: the POOL file does not describe them. Refuse rather
  // than treat every engine as lost (a write would then exclude them all).
  uint32_t live = 0, lost = 0, unrecognised = 0;
  std::string example;
  for (size_t e = 0; e < n; ++e) {
    if (ps->health[e] == EngineHealth::kUp) ++live;
    if (ps->health[e] != EngineHealth::kLost) continue;
    ++lost;
    if (ps->why_down[e].find("belongs to pool") != std::string::npos ||
        ps->why_down[e].find("records no pool identity") != std::string::npos) {
      ++unrecognised;
      if (example.empty()) example = ps->why_down[e];
    }
  }
  if (live == 0 && unrecognised > 0) {
    undo_serve(rt, hdr->uuid, undo);
    return Status(EDAOS_FORMAT, "none of the engines of " + path + " belongs to pool " +
                                    hdr->uuid.to_string() + " named by its POOL file (" + example +
                                    "); nothing was changed");
  }
  // A pool of an older build: once every engine in the map carries the identity, say so in
  // POOL, so an engine without one is refused from then on.
  if (!hdr->identity && lost == 0) {
    bool all = true;
    for (size_t e = 0; e < n; ++e)
      all = all && (ps->health[e] == EngineHealth::kUp || ps->health[e] == EngineHealth::kExcluded);
    if (all) {
      Writer w;
      w.uuid(hdr->uuid);
      Status ist = client::lead_call(*ps, Op::kPoolSetIdentity, w.take());
      if (!ist.ok())
        EDAOS_LOG(warn, "pool %s: cannot record the identity flag: %s", path.c_str(),
                  ist.to_string().c_str());
    }
  }
  // The read-side drill of this job.
  for (uint32_t d : engines_down_from_env())
    if (d < n && ps->health[d] == EngineHealth::kUp) {
      ps->drilled[d] = true;
      ps->why_down[d] = "down for this job's reads (EDAOS_ENGINES_DOWN)";
    }
  for (auto& e : ps->map.engines)
    e.state = ps->readable(e.id) ? EngineState::kUp : EngineState::kDown;
  return Status::OK();
}

}  // namespace

Status client::PoolState::exclude_before_write(const std::vector<uint32_t>& down_engines) {
  std::lock_guard<std::mutex> lk(excl_mu);
  if (excluded.size() != map.engines.size()) excluded.assign(map.engines.size(), false);
  std::vector<uint32_t> todo;
  for (uint32_t e : down_engines) {
    if (e >= excluded.size() || excluded[e]) continue;
    const EngineHealth h = e < health.size() ? health[e] : EngineHealth::kLost;
    if (h == EngineHealth::kExcluded) continue;
    if (h == EngineHealth::kUp)  // drilled: serving, so a write must reach it
      return Status(EDAOS_DEGRADED,
                    "a write may not skip engine " + std::to_string(e) +
                        ": it is down only for this job's reads (EDAOS_ENGINES_DOWN), and a drill "
                        "never excludes an engine");
    if (h == EngineHealth::kUnavailable)
      return Status(EDAOS_UNREACH, "a write may not skip engine " + std::to_string(e) +
                                       ": it could not be opened (" + why_down[e] +
                                       "), which is not a reason to exclude it");
    todo.push_back(e);
  }
  if (todo.empty()) return Status::OK();
  Writer w;
  w.uuid(map.pool_uuid).put<uint32_t>(static_cast<uint32_t>(todo.size()));
  for (uint32_t e : todo) w.put(e);
  EDAOS_RETURN_IF_ERROR(client::lead_call(*this, Op::kPoolExclude, w.take()));
  for (uint32_t e : todo) excluded[e] = true;
  return Status::OK();
}

Status Pool::create(const std::string& path, const PoolCreateOptions& opts, MPI_Comm comm) {
  Status st;
  Runtime* rt = need_runtime(&st);
  if (!rt) return st;
  int me = 0;
  MPI_Comm_rank(comm, &me);
  if (me == 0) {
    uint32_t nservers = static_cast<uint32_t>(rt->servers.size());
    PoolMap map;
    map.version = 1;
    map.pool_uuid = Uuid::generate();
    map.label = opts.label.empty() ? last_component(path) : opts.label;
    uint32_t nengines =
        opts.engines ? opts.engines : nservers * env_u32("EDAOS_ENGINES_PER_SERVER", 8);
    uint32_t ntargets = opts.targets ? opts.targets : env_u32("EDAOS_TARGETS_PER_ENGINE", 4);
    // Fault domains: the node of the server rank that will host each engine.
    std::map<std::string, uint32_t> domain_of;
    for (uint32_t e = 0; e < nengines; ++e) {
      const std::string& host = rt->hosts[static_cast<size_t>(rt->servers[e % nservers])];
      auto [it, inserted] = domain_of.emplace(host, static_cast<uint32_t>(domain_of.size()));
      EngineInfo info;
      info.id = e;
      info.domain = it->second;
      info.domain_name = host;
      info.ntargets = ntargets;
      info.state = EngineState::kUp;
      map.engines.push_back(info);
    }
    vos::PoolHeader h;
    h.uuid = map.pool_uuid;
    h.label = map.label;
    h.nengines = nengines;
    h.ntargets = ntargets;
    h.quota_bytes = opts.size_bytes;
    h.ctime = static_cast<uint64_t>(std::time(nullptr));
    if (nengines == 0 || ntargets == 0)
      st = Status(EDAOS_INVAL, "a pool needs at least one engine and one target");
    else if (opts.size_bytes != 0 && opts.size_bytes / nengines < kMinEngineQuotaBytes)
      st = Status(EDAOS_INVAL, "pool size " + format_ibytes(opts.size_bytes) +
                                   " is too small for " + std::to_string(nengines) +
                                   " engines: each engine needs at least " +
                                   format_ibytes(kMinEngineQuotaBytes) + ", so the pool at least " +
                                   format_ibytes(kMinEngineQuotaBytes * nengines));
    else
      st = vos::PoolStore::create(path, h, map.encode());
    if (st.ok())
      EDAOS_LOG(info, "created pool %s (%s): %u engines x %u targets", path.c_str(),
                h.uuid.to_string().c_str(), nengines, ntargets);
  }
  return coll::bcast_status(st, 0, comm);
}

Result<std::shared_ptr<Pool>> Pool::connect(const std::string& path, MPI_Comm comm,
                                            const ConnectOptions& opts) {
  Status st;
  Runtime* rt = need_runtime(&st);
  if (!rt) return st;
  auto ps = std::make_shared<PoolState>();
  ps->rt = rt;
  ps->path = path;
  int me = 0;
  MPI_Comm_rank(comm, &me);
  if (me == 0) st = connect_root(rt, path, opts.admin, ps.get());
  // The map and the engines' states travel with the status: one broadcast (two past 4 KiB).
  Writer w;
  if (me == 0 && st.ok()) {
    w.str(ps->map.encode()).put<uint64_t>(ps->quota_bytes);
    for (size_t i = 0; i < ps->map.engines.size(); ++i)
      w.str(ps->why_down[i])
          .put(static_cast<uint8_t>(ps->health[i]))
          .put<uint8_t>(ps->drilled[i] ? 1 : 0);
  }
  std::string extra = w.take();
  st = coll::bcast_status(st, 0, comm, {&extra});
  if (!st.ok()) return st;
  if (me != 0) {
    Reader r(extra);
    auto map = PoolMap::decode(r.str());
    if (!map.ok()) return map.status();
    ps->map = std::move(map).value();
    ps->quota_bytes = r.get<uint64_t>();
    for (size_t i = 0; i < ps->map.engines.size(); ++i) {
      ps->why_down.push_back(r.str());
      ps->health.push_back(static_cast<EngineHealth>(r.get<uint8_t>()));
      ps->drilled.push_back(r.get<uint8_t>() != 0);
    }
  }
  // The connection's own communicator (disconnect's barrier and status) is duplicated without
  // waiting: a blocking MPI_Comm_dup synchronizes the ranks, which cost 18-36 ms at 4 ranks on
  // 2 cores; the duplicate is completed when a collective of the connection needs it.
  ps->rank = me;
  MPI_Comm_idup(comm, &ps->comm, &ps->comm_req);
  ps->connected = true;
  client::shard_io(*ps);  // direct or not is decided per engine at connect
  return std::make_shared<Pool>(ps);
}

MPI_Comm PoolState::connection_comm() {
  coll::wait(&comm_req);
  return comm;
}

Pool::Pool(std::shared_ptr<PoolState> s) : s_(std::move(s)) {}

Pool::~Pool() {
  if (s_ && s_->connected && client::runtime()) {
    client::shard_io_close(*s_);
    client::local_meta_close(*s_);
    // Not collective here: only the connect root closes, which is what disconnect does too.
    if (s_->rank == 0) {
      client::Batch b(s_->rt);
      for (int srv : s_->rt->servers) {
        Writer w;
        w.uuid(s_->map.pool_uuid);
        b.add(srv, Op::kPoolClose)->body = w.take();
      }
      b.run();
    }
    // The duplicate's completion needs the other ranks to make MPI progress (any MPI call:
    // their own release, a barrier, MPI_Finalize); by now it is usually long complete.
    s_->connection_comm();
    MPI_Comm_free(&s_->comm);
    s_->connected = false;
  }
}

Status Pool::disconnect() {
  if (!s_->connected) return Status::OK();
  client::shard_io_close(*s_);
  client::local_meta_close(*s_);  // the readers of this connection go before the servers close
  MPI_Comm comm = s_->connection_comm();
  coll::barrier(comm);
  Status st;
  if (s_->rank == 0) {
    client::Batch b(s_->rt);
    for (int srv : s_->rt->servers) {
      Writer w;
      w.uuid(s_->map.pool_uuid);
      b.add(srv, Op::kPoolClose)->body = w.take();
    }
    b.run();
    for (size_t i = 0; i < b.size() && st.ok(); ++i) st = b[i].status();
  }
  st = coll::bcast_status(st, 0, comm);
  MPI_Comm_free(&s_->comm);
  s_->connected = false;
  return st;
}

const PoolMap& Pool::map() const { return s_->map; }

Status Pool::exclude(const std::vector<uint32_t>& engines) {
  for (uint32_t e : engines)
    if (e >= s_->map.engines.size())
      return Status(EDAOS_INVAL, "engine " + std::to_string(e) + " is not in the pool (it has " +
                                     std::to_string(s_->map.engines.size()) + " engines, 0.." +
                                     std::to_string(s_->map.engines.size() - 1) + ")");
  Writer w;
  w.uuid(s_->map.pool_uuid).put<uint32_t>(static_cast<uint32_t>(engines.size()));
  for (uint32_t e : engines) w.put(e);
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_, Op::kPoolExclude, w.take(), &c));
  std::lock_guard<std::mutex> lk(s_->excl_mu);
  if (s_->excluded.size() != s_->map.engines.size())
    s_->excluded.assign(s_->map.engines.size(), false);
  for (uint32_t e : engines) {
    s_->map.engines[e].state = EngineState::kDown;
    s_->why_down[e] = "excluded in the pool map";
    if (e < s_->health.size()) s_->health[e] = EngineHealth::kExcluded;
    s_->excluded[e] = true;
  }
  s_->map.version = static_cast<uint32_t>(c.rep.value);
  return Status::OK();
}

Result<PoolInfo> Pool::query() {
  PoolInfo info;
  info.uuid = s_->map.pool_uuid;
  info.label = s_->map.label;
  info.path = s_->path;
  info.map_version = s_->map.version;
  info.engines = s_->map.num_engines();
  for (auto& e : s_->map.engines) {
    EngineStatus es;
    es.id = e.id;
    es.domain = e.domain;
    es.domain_name = e.domain_name;
    es.targets = e.ntargets;
    es.up = s_->readable(e.id);
    es.why_down = s_->why_down[e.id];
    info.targets += e.ntargets;
    if (!es.up) {
      info.engines_down++;
      info.targets_disabled += e.ntargets;
    }
    info.engine_status.push_back(es);
  }
  client::Batch b(s_->rt);
  for (int srv : s_->rt->servers) {
    Writer w;
    w.uuid(s_->map.pool_uuid);
    b.add(srv, Op::kPoolQuery)->body = w.take();
  }
  b.run();
  for (size_t i = 0; i < b.size(); ++i) {
    EDAOS_RETURN_IF_ERROR(b[i].status());
    Reader r(b[i].payload);
    uint32_t n = r.get<uint32_t>();
    for (uint32_t j = 0; j < n && r.ok(); ++j) {
      uint32_t id = r.get<uint32_t>();
      int32_t code = r.get<int32_t>();
      uint64_t total = r.get<uint64_t>(), free = r.get<uint64_t>();
      (void)r.get<uint64_t>();
      if (id < info.engine_status.size() && code == EDAOS_OK) {
        info.engine_status[id].total = total;
        info.engine_status[id].free = free;
      }
    }
  }
  // Engines of one pool share a file system: count it once per distinct (total) reading
  // would be guesswork, so the pool total is the quota when set, else the sum over engines
  // of their share of the file system.
  uint32_t up = info.engines - info.engines_down;
  for (auto& e : info.engine_status)
    if (e.up) {
      info.total += e.total / (up ? up : 1);
      info.free += e.free / (up ? up : 1);
    }
  return info;
}

// --------------------------------------------------------------------------------------------
// Containers

namespace {

Status validate_props(const PoolMap& map, const ContainerProps& p) {
  for (const std::string* cls : {&p.oclass, &p.file_oclass, &p.dir_oclass}) {
    if (cls->empty()) continue;
    auto oc = ObjClass::parse(*cls);
    if (!oc.ok()) return oc.status();
    EDAOS_RETURN_IF_ERROR(validate_for_pool(oc.value(), map));
    EDAOS_RETURN_IF_ERROR(validate_for_rd_fac(oc.value(), static_cast<int>(p.rd_fac)));
  }
  return Status::OK();
}

Result<std::shared_ptr<Container>> open_record(std::shared_ptr<PoolState> ps, const Uuid& u,
                                               const std::string& rec) {
  auto props = decode_props(rec);
  if (!props.ok()) return props.status().with_context("container " + u.to_string());
  auto cs = std::make_shared<client::ContState>();
  cs->pool = std::move(ps);
  cs->uuid = u;
  cs->props = std::move(props).value();
  return std::make_shared<Container>(cs);
}

struct ContRecord {
  Uuid uuid;
  std::string record;
  bool destroying = false;
};

Result<ContRecord> cont_get(PoolState& ps, const std::string& label_or_uuid) {
  auto u = Uuid::parse(label_or_uuid);
  Writer w;
  w.uuid(ps.map.pool_uuid).put<uint8_t>(u.ok() ? 0 : 1).uuid(u.ok() ? u.value() : Uuid{});
  w.str(label_or_uuid);
  rpc::Call c;
  Status st = client::lead_call(ps, Op::kContGet, w.take(), &c);
  if (!st.ok()) {
    if (st.code() == EDAOS_NONEXIST)
      return Status(EDAOS_NONEXIST, "no container '" + label_or_uuid + "' in pool " + ps.map.label);
    return st;
  }
  Reader r(c.payload);
  ContRecord out;
  out.uuid = r.uuid();
  out.record = r.str();
  out.destroying = r.get<uint8_t>() != 0;
  if (!r.ok()) return Status(EDAOS_PROTO, "bad container record reply");
  return out;
}

Status destroying_error(PoolState& ps, const std::string& name) {
  return Status(EDAOS_NONEXIST, "container '" + name + "' in pool " + ps.map.label +
                                    " is being destroyed (an earlier destroy did not finish): "
                                    "destroy it again to finish (edaos container destroy " +
                                    ps.path + " " + name + ")");
}

// Test hook: EDAOS_FAULT_CONT_DESTROY=after-mark|after-purge kills the process (SIGKILL) at that
// point of a container destroy.
void destroy_fault_point(const char* point) {
  const char* v = std::getenv("EDAOS_FAULT_CONT_DESTROY");
  if (v && std::strcmp(v, point) == 0) std::raise(SIGKILL);
}

}  // namespace

Result<std::shared_ptr<Container>> Pool::cont_create(const std::string& label,
                                                     ContainerProps props) {
  if (label.empty() || label.size() > 127)
    return Status(EDAOS_INVAL, "container label must be 1 to 127 characters");
  if (Uuid::parse(label).ok())
    return Status(EDAOS_INVAL, "container label '" + label + "' looks like a UUID");
  props.label = label;
  // Owner and group are the creating user's, with DAOS's default ACL (stored; not enforced).
  if (props.owner.empty()) {
    const passwd* pw = getpwuid(geteuid());
    props.owner = (pw ? std::string(pw->pw_name) : std::to_string(geteuid())) + "@";
  }
  if (props.group.empty()) {
    const group* gr = getgrgid(getegid());
    props.group = (gr ? std::string(gr->gr_name) : std::to_string(getegid())) + "@";
  }
  if (props.acl.empty()) props.acl = "A::OWNER@:rwdtTaAo, A:G:GROUP@:rwtT";
  EDAOS_RETURN_IF_ERROR(validate_props(s_->map, props));
  Uuid u = Uuid::generate();
  std::string rec = encode(props);
  Writer w;
  w.uuid(s_->map.pool_uuid).uuid(u).str(label).str(rec);
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_, Op::kContCreate, w.take()));
  return open_record(s_, u, rec);
}

Result<std::shared_ptr<Container>> Pool::cont_open(const std::string& label_or_uuid) {
  auto got = cont_get(*s_, label_or_uuid);
  if (!got.ok()) return got.status();
  if (got->destroying) return destroying_error(*s_, label_or_uuid);
  return open_record(s_, got->uuid, got->record);
}

// Crash-safe order: mark the record (durable), purge the data on every engine, then remove the
// record. A kill or a down engine leaves a marked container that cannot be opened and that the
// next destroy finishes; never a data set without a record.
Status Pool::cont_destroy(const std::string& label_or_uuid) {
  auto got = cont_get(*s_, label_or_uuid);
  if (!got.ok()) return got.status();
  Writer w;
  w.uuid(s_->map.pool_uuid).uuid(got->uuid);
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_, Op::kContDestroyBegin, w.buf()));
  destroy_fault_point("after-mark");
  client::Batch b(s_->rt);
  for (int srv : s_->rt->servers) b.add(srv, Op::kContPurge)->body = w.buf();
  b.run();
  for (size_t i = 0; i < b.size(); ++i) {
    Status st = b[i].status();
    if (st.ok()) continue;
    return Status(st.code(), "container '" + label_or_uuid +
                                 "' is only partly destroyed: " + st.message() +
                                 ". It stays marked as being destroyed (it "
                                 "cannot be opened); destroy it again once the engines are back "
                                 "(or excluded) to finish");
  }
  destroy_fault_point("after-purge");
  return client::lead_call(*s_, Op::kContDestroy, w.buf());
}

Result<std::vector<std::pair<Uuid, std::string>>> Pool::cont_list() {
  Writer w;
  w.uuid(s_->map.pool_uuid);
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_, Op::kContList, w.take(), &c));
  Reader r(c.payload);
  std::vector<std::pair<Uuid, std::string>> out;
  uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Uuid u = r.uuid();
    out.emplace_back(u, r.str());
    (void)r.get<uint8_t>();
  }
  if (!r.ok()) return Status(EDAOS_PROTO, "bad container list reply");
  return out;
}

Result<std::vector<Uuid>> Pool::cont_destroying() {
  Writer w;
  w.uuid(s_->map.pool_uuid);
  rpc::Call c;
  EDAOS_RETURN_IF_ERROR(client::lead_call(*s_, Op::kContList, w.take(), &c));
  Reader r(c.payload);
  std::vector<Uuid> out;
  uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Uuid u = r.uuid();
    (void)r.str();
    if (r.get<uint8_t>() != 0) out.push_back(u);
  }
  if (!r.ok()) return Status(EDAOS_PROTO, "bad container list reply");
  return out;
}

}  // namespace edaos::objstore

// Metadata reads without the server (session 10): see local_meta.hpp.
#include "client/local_meta.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/log.hpp"
#include "ec/checksum.hpp"
#include "vos/meta_reader.hpp"

EDAOS_LOG_FACILITY(client);

namespace edaos::objstore::client {

namespace {

std::atomic<int> g_override{-1};

std::atomic<int> g_page_override{-1};

bool page_enabled() {
  const int o = g_page_override.load(std::memory_order_relaxed);
  if (o >= 0) return o != 0;
  static const bool on = [] {
    const char* v = std::getenv("EDAOS_META_PAGE");
    return !v || std::strcmp(v, "0") != 0;
  }();
  return on;
}

bool env_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("EDAOS_LOCAL_META");
    return !v || std::strcmp(v, "0") != 0;
  }();
  return on;
}

// The readers of one connection: which engines are on this node (their server rank runs on
// this host, as the direct path decides), and each one's reader, opened at first use.
struct PoolMeta {
  Uuid pool;
  uint32_t map_version = 0;
  std::mutex mu;
  std::vector<char> local;       // per engine: its server rank runs on this node
  std::vector<char> owner_here;  // per engine: its server rank is this process
  std::vector<char> tried;       // per engine: the reader was opened (or failed to open)
  std::vector<std::shared_ptr<vos::MetaReader>> readers;
  // Per server rank of this node: its metadata page (session 11), opened at first use; null
  // when it has none (an older server, no memfd): that server's shards are probed and their
  // engines' logs read at every size, as before.
  std::map<int, std::shared_ptr<vos::MetaPageView>> pages;
  // Session 12: the sizes of objects settled here, each with the sum of the generations of its
  // shards' engines loaded before its shards were read (generations only grow, so an equal sum
  // means none of them moved): while the sum is unchanged and no shard is write-leased, the size
  // is what a read now would give, as for the per-engine records it was made of.
  struct ObjKey {
    Uuid cont;
    ObjectId oid;
    bool operator==(const ObjKey& o) const { return cont == o.cont && oid == o.oid; }
  };
  struct ObjHash {
    size_t operator()(const ObjKey& k) const {
      return static_cast<size_t>(vos::meta_page_base(Uuid{}, k.cont, k.oid));
    }
  };
  struct Sized {
    uint64_t gen_sum = 0, size = 0, base = 0;
    struct Shard {
      uint32_t engine;
      bool readable;
      const uint64_t* gen;      // null when not readable
      vos::MetaPageView* page;  // null when not readable
    };
    std::vector<Shard> shards;
  };
  std::unordered_map<ObjKey, Sized, ObjHash> sized;
};

const std::string& this_host() {
  static const std::string h = [] {
    char b[256] = {};
    return ::gethostname(b, sizeof b - 1) == 0 ? std::string(b) : std::string();
  }();
  return h;
}

struct Registry {
  std::mutex mu;
  std::map<const PoolState*, std::shared_ptr<PoolMeta>> pools;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed
  return *r;
}

std::shared_ptr<PoolMeta> pool_meta(PoolState& p) {
  if (!p.connected || !p.rt) return nullptr;
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto& slot = r.pools[&p];
  if (slot && slot->pool == p.map.pool_uuid && slot->map_version == p.map.version) return slot;
  auto m = std::make_shared<PoolMeta>();
  m->pool = p.map.pool_uuid;
  m->map_version = p.map.version;
  const size_t n = p.map.engines.size();
  m->local.assign(n, 0);
  m->owner_here.assign(n, 0);
  m->tried.assign(n, 0);
  m->readers.resize(n);
  const auto& hosts = p.rt->hosts;
  const int me_rank = p.rt->rank;
  const std::string me = me_rank >= 0 && me_rank < static_cast<int>(hosts.size())
                             ? hosts[static_cast<size_t>(me_rank)]
                             : std::string();
  for (uint32_t e = 0; e < n; ++e) {
    const int srv = p.server_of(e);
    m->local[e] = !me.empty() && srv >= 0 && srv < static_cast<int>(hosts.size()) &&
                  hosts[static_cast<size_t>(srv)] == me;
    m->owner_here[e] = srv == me_rank;
  }
  slot = m;
  return m;
}

// The reader of local engine `engine` (m->mu held), opened at its first use.
vos::MetaReader* reader_locked(PoolState& p, PoolMeta& m, uint32_t engine) {
  if (!m.tried[engine]) {
    m.tried[engine] = 1;
    char name[32];
    std::snprintf(name, sizeof name, "/engine-%04u", engine);
    auto r = vos::MetaReader::open(p.path + name, m.owner_here[engine] != 0);
    if (r.ok()) {
      m.readers[engine] = std::move(r).value();
    } else if (m.owner_here[engine] && r.status().code() == EDAOS_UNREACH) {
      // This process's server has not opened the engine yet (engines open at their first use
      // since session 10): read through the server now, try the reader again next time.
      m.tried[engine] = 0;
    } else {
      EDAOS_LOG(info, "engine %u: metadata read through its server (%s)", engine,
                r.status().to_string().c_str());
    }
  }
  return m.readers[engine].get();
}

std::shared_ptr<vos::MetaReader> reader_of(PoolState& p, uint32_t engine) {
  if (!local_meta_enabled()) return nullptr;
  auto m = pool_meta(p);
  if (!m || engine >= m->local.size() || !m->local[engine] || !p.readable(engine)) return nullptr;
  std::lock_guard<std::mutex> g(m->mu);
  reader_locked(p, *m, engine);
  return m->readers[engine];
}

// The metadata page of the server rank of local engine `engine` (m->mu held), opened once per
// connection; nullptr without one (or with the pages turned off).
vos::MetaPageView* page_locked(PoolState& p, PoolMeta& m, uint32_t engine) {
  if (!page_enabled()) return nullptr;
  const int srv = p.server_of(engine);
  auto it = m.pages.find(srv);
  if (it != m.pages.end()) return it->second.get();
  std::shared_ptr<vos::MetaPageView> v;
  auto r = vos::MetaPageView::open(p.path, srv, this_host());
  if (r.ok())
    v = std::move(r).value();
  else
    EDAOS_LOG(info, "server %d: no metadata page (%s): local sizes probe shard files", srv,
              r.status().to_string().c_str());
  return m.pages.emplace(srv, std::move(v)).first->second.get();
}

}  // namespace

bool local_meta_enabled() {
  const int o = g_override.load(std::memory_order_relaxed);
  return o >= 0 ? o != 0 : env_enabled();
}

void set_local_meta_for_testing(int on) { g_override.store(on < 0 ? -1 : (on ? 1 : 0)); }

void set_meta_page_for_testing(int on) { g_page_override.store(on < 0 ? -1 : (on ? 1 : 0)); }

uint64_t local_meta_gets_for_testing() { return local_meta_counters().gets.load(); }

uint64_t local_meta_probes_for_testing() { return local_meta_counters().probes.load(); }

uint64_t local_meta_log_reads_for_testing() { return vos::meta_reader_log_reads_for_testing(); }

LocalMetaCounters& local_meta_counters() {
  static LocalMetaCounters c;
  return c;
}

void local_meta_close(PoolState& p) {
  std::shared_ptr<PoolMeta> m;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    auto it = r.pools.find(&p);
    if (it == r.pools.end()) return;
    m = std::move(it->second);
    r.pools.erase(it);
  }
  // The readers go when the last call using one returns (they are shared pointers).
}

LocalGet local_kv_get(ContState& c, const ObjectId& kv, uint32_t engine, uint32_t shard,
                      uint32_t target, const std::string& dkey, const std::string& akey,
                      std::string* value, Status* st) {
  auto r = reader_of(*c.pool, engine);
  if (!r) return LocalGet::kNo;
  vos::ShardRef ref;
  ref.cont = c.uuid;
  ref.oid = kv;
  ref.shard = shard;
  ref.target = target;
  Status s = r->kv_get(ref, dkey, akey, &ec::csum_compute, value);
  LocalMetaCounters& n = local_meta_counters();
  if (s.ok()) {
    *st = Status::OK();
  } else if (s.code() == EDAOS_NONEXIST) {
    *st = Status(EDAOS_NONEXIST, "no akey '" + akey + "' under dkey '" + dkey + "'");
  } else {
    n.fallbacks.fetch_add(1, std::memory_order_relaxed);
    EDAOS_LOG(debug, "local get of %s in engine %u: %s (asking the server)", kv.to_string().c_str(),
              engine, s.to_string().c_str());
    return LocalGet::kNo;
  }
  n.gets.fetch_add(1, std::memory_order_relaxed);
  return LocalGet::kValue;
}

bool size_from_ends(const PoolState& p, const Layout& l, const std::vector<uint64_t>& ends,
                    uint64_t* size) {
  const bool ec = l.oclass.kind == ResilKind::kErasure;
  const uint32_t k = ec ? l.oclass.data : 0, gs = l.group_size;
  uint64_t s = 0;
  for (uint32_t g = 0; g < l.ngroups; ++g) {
    bool known = false, all_data = true;
    for (uint32_t i = 0; i < gs; ++i) {
      const bool readable = p.readable(l.at(g, i).engine);
      if (readable) s = std::max(s, ends[static_cast<size_t>(g) * gs + i]);
      if (ec && i < k)
        all_data = all_data && readable;
      else
        known = known || readable;
    }
    if (!known && !(ec && all_data)) return false;  // get_size says EDAOS_DEGRADED
  }
  *size = s;
  return true;
}

namespace {

// The size settled for (cont, oid) earlier in this connection, if none of its engines' generations
// moved since and none of its shards is write-leased now (m.mu held).
bool cached_size(const PoolState& p, PoolMeta& m, const PoolMeta::ObjKey& k, uint64_t* size) {
  auto it = m.sized.find(k);
  if (it == m.sized.end()) return false;
  const PoolMeta::Sized& z = it->second;
  uint64_t sum = 0;
  for (size_t s = 0; s < z.shards.size(); ++s) {
    const PoolMeta::Sized::Shard& sh = z.shards[s];
    if (p.readable(sh.engine) != sh.readable) return false;
    if (!sh.readable) continue;
    if (sh.page->leases(vos::meta_page_slot_of(z.base, static_cast<uint32_t>(s))) != 0)
      return false;
    sum += __atomic_load_n(sh.gen, __ATOMIC_SEQ_CST);
  }
  if (sum != z.gen_sum) return false;
  *size = z.size;
  return true;
}

std::atomic<uint64_t> g_cached_sizes{0};

}  // namespace

uint64_t local_meta_cached_sizes_for_testing() { return g_cached_sizes.load(); }

bool local_array_size(ContState& c, const ObjectId& oid, uint64_t* size) {
  PoolState& p = *c.pool;
  if (!local_meta_enabled()) return false;
  auto m = pool_meta(p);  // keeps the readers and pages below alive for this call
  if (!m) return false;
  const PoolMeta::ObjKey okey{c.uuid, oid};
  if (page_enabled()) {
    std::lock_guard<std::mutex> g(m->mu);
    if (cached_size(p, *m, okey, size)) {
      g_cached_sizes.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  auto layout = compute_layout(p.map, oid);
  if (!layout.ok()) return false;
  const Layout& l = layout.value();
  const size_t n = l.shards.size();
  // Per shard: its engine's reader (null: a shard reads may not use) and its server's page.
  // Scratch kept per thread: a stat allocates nothing here once warm.
  struct Scratch {
    std::vector<vos::MetaReader*> rd;
    std::vector<vos::MetaPageView*> pg;
    std::vector<vos::ShardRef> refs, mine;
    std::vector<uint64_t> ends, e;
    std::vector<char> done;
    std::vector<size_t> idx;
  };
  thread_local Scratch sc;
  auto& [rd, pg, refs, mine, ends, e, done, idx] = sc;
  rd.assign(n, nullptr);
  pg.assign(n, nullptr);
  refs.resize(n);
  {
    // Every shard a read may use must be on an engine read here; the others do not count.
    std::lock_guard<std::mutex> g(m->mu);
    for (size_t s = 0; s < n; ++s) {
      const uint32_t eng = l.shards[s].engine;
      if (!p.readable(eng)) continue;
      if (eng >= m->local.size() || !m->local[eng]) return false;
      rd[s] = reader_locked(p, *m, eng);
      if (!rd[s]) return false;
      pg[s] = page_locked(p, *m, eng);
      refs[s].cont = c.uuid;
      refs[s].oid = oid;
      refs[s].shard = static_cast<uint32_t>(s);
      refs[s].target = l.shards[s].target;
    }
  }
  // The generations this size will be valid under, loaded before anything is read (session 12):
  // kept only when every readable shard's server has a page and no shard is write-leased.
  uint64_t gen_sum = 0;
  bool keep = true;
  for (size_t s = 0; s < n; ++s) {
    if (!rd[s]) continue;
    if (!pg[s]) {
      keep = false;
      break;
    }
    gen_sum += __atomic_load_n(pg[s]->engine_gen(l.shards[s].engine), __ATOMIC_SEQ_CST);
  }
  ends.assign(n, 0);
  uint64_t check = 0;
  if (!size_from_ends(p, l, ends, &check)) return false;  // degraded: get_size's own error
  LocalMetaCounters& cnt = local_meta_counters();
  // A direct write that returned holds its lock until its commit (which raises the end) is
  // applied: none may be held when the sizes are read (the log read comes after this).
  // Session 12: an absent shard file no longer spares its engine's log (sessions 10-11 skipped
  // it): a truncate that extends a shard with no data writes a size record and no file, so a
  // file set to 77 bytes by set_size alone was read as 0 bytes without a page
  // (S12StatTest.RepeatedStatsComeFromTheCacheAndEveryCompletedChangeIsSeen, page off).
  //
  // Session 11: with the server's metadata page, a shard whose slot counts no live write lease
  // is not probed: a direct writer locks only files it holds a write lease on, and the server
  // counts a lease before it answers the grant and uncounts it at its release (after the
  // holder's commits are answered) or the pool's close (a recalled lease stays counted: its
  // holder may still write under it) — exactly the leases the server's own size queries
  // (kArraySize, kKvGetSize: write_leased) probe for. A shared slot only costs a probe.
  const uint64_t base = vos::meta_page_base(p.map.pool_uuid, c.uuid, oid);
  for (size_t s = 0; s < n; ++s) {
    if (!rd[s]) continue;
    if (pg[s] && pg[s]->leases(vos::meta_page_slot_of(base, static_cast<uint32_t>(s))) == 0)
      continue;
    keep = false;
    cnt.probes.fetch_add(1, std::memory_order_relaxed);
    const auto f = rd[s]->probe_file(refs[s]);
    if (f == vos::MetaReader::ShardFile::kLocked) {
      cnt.locked.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  // Session 12: the ends the readers' records already settle under their engines' current
  // generations (no transaction, no log read); then one log read and one transaction per engine
  // for the rest of its shards.
  done.assign(n, 0);
  for (size_t s = 0; s < n; ++s)
    if (rd[s] && pg[s] &&
        rd[s]->cached_end(refs[s], pg[s]->engine_gen(l.shards[s].engine), &ends[s]))
      done[s] = 1;
  for (size_t s = 0; s < n; ++s) {
    if (!rd[s] || done[s]) continue;
    mine.clear();
    idx.clear();
    for (size_t t = s; t < n; ++t)
      if (rd[t] == rd[s] && !done[t]) {
        mine.push_back(refs[t]);
        idx.push_back(t);
        done[t] = 1;
      }
    // With the page, the log is read only when the engine's generation moved since this reader
    // last read it (vos::MetaReader::logical_ends).
    const uint64_t* gen = pg[s] ? pg[s]->engine_gen(l.shards[s].engine) : nullptr;
    Status st = rd[s]->logical_ends(mine, &e, nullptr, gen);
    if (!st.ok()) {
      EDAOS_LOG(debug, "local size of %s: %s (asking the servers)", oid.to_string().c_str(),
                st.to_string().c_str());
      return false;
    }
    for (size_t j = 0; j < idx.size(); ++j) ends[idx[j]] = e[j];
  }
  if (!size_from_ends(p, l, ends, size)) return false;
  if (keep) {
    PoolMeta::Sized z;
    z.gen_sum = gen_sum;
    z.size = *size;
    z.base = base;
    z.shards.resize(n);
    for (size_t s = 0; s < n; ++s) {
      const uint32_t eng = l.shards[s].engine;
      z.shards[s] = {eng, rd[s] != nullptr, rd[s] ? pg[s]->engine_gen(eng) : nullptr,
                     rd[s] ? pg[s] : nullptr};
    }
    std::lock_guard<std::mutex> g(m->mu);
    if (m->sized.size() >= (size_t{1} << 16)) m->sized.clear();
    m->sized[okey] = std::move(z);
  }
  return true;
}

}  // namespace edaos::objstore::client

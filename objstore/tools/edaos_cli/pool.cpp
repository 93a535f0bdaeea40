// `edaos pool ...`: create, query (DAOS's layout), list-cont, exclude, reintegrate.
#include <mpi.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli.hpp"
#include "edaos/objstore/props.hpp"

namespace edaos::cli {

using objstore::Pool;
using objstore::PoolInfo;

namespace {

bool parse_u32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *out = static_cast<uint32_t>(std::stoul(s));
  return true;
}

// DAOS pool label rules: 1..127 of [A-Za-z0-9._:-], not a UUID.
bool valid_label(const std::string& l) {
  if (l.empty() || l.size() > 127) return false;
  for (char ch : l)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == ':' ||
          ch == '-'))
      return false;
  return !objstore::Uuid::parse(l).ok();
}

uint64_t allocated(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) return 0;
  return static_cast<uint64_t>(sb.st_blocks) * 512;
}

// quota_bytes of <pool>/POOL (0: none, the file system's space).
uint64_t pool_quota(const std::string& dir) {
  std::ifstream in(dir + "/POOL");
  std::string line;
  for (int i = 0; i < 12 && std::getline(in, line); ++i)
    if (line.rfind("quota_bytes ", 0) == 0) return std::strtoull(line.c_str() + 12, nullptr, 10);
  return 0;
}

struct Tier {
  uint64_t total = 0, free = 0, min = 0, max = 0, mean = 0;
};

std::string tier_lines(int n, const char* name, const Tier& t) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "- Storage tier %d (%s):\n  Total size: %s\n  Free: %s, min:%s, max:%s, mean:%s\n",
                n, name, format_si_bytes(t.total).c_str(), format_si_bytes(t.free).c_str(),
                format_si_bytes(t.min).c_str(), format_si_bytes(t.max).c_str(),
                format_si_bytes(t.mean).c_str());
  return buf;
}

// Ranges "0-2,5" of engine ids, as DAOS prints rank sets.
std::string ranges(const std::vector<uint32_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(ids[i]);
    if (j > i) out += "-" + std::to_string(ids[j]);
    i = j + 1;
  }
  return out;
}

// The pool query text. Tier 1 (NVMe) is the data (shard files), tier 0 (SCM) the metadata
// (LMDB): both grow into the pool directory's file system, so both report its free space;
// tier 0's total is the metadata in use plus that free space. min/max/mean are per target.
std::string format_pool_query(const PoolInfo& q, uint64_t quota) {
  uint32_t up = q.engines - q.engines_down;
  uint32_t up_targets = q.targets - q.targets_disabled;
  Tier data;
  std::vector<double> per_target;
  uint64_t meta = allocated(q.path + "/psvc/data.mdb");
  for (auto& e : q.engine_status) {
    if (!e.up) continue;
    char dir[32];
    std::snprintf(dir, sizeof dir, "/engine-%04u", e.id);
    meta += allocated(q.path + dir + "/meta.mdb");
    // Without a quota every engine reports the whole (shared) file system: count a share.
    uint64_t total = quota ? e.total : e.total / (up ? up : 1);
    uint64_t free = quota ? e.free : e.free / (up ? up : 1);
    data.total += total;
    data.free += free;
    for (uint32_t t = 0; t < e.targets; ++t)
      per_target.push_back(static_cast<double>(free) / e.targets);
  }
  if (!per_target.empty()) {
    auto [mn, mx] = std::minmax_element(per_target.begin(), per_target.end());
    data.min = static_cast<uint64_t>(*mn);
    data.max = static_cast<uint64_t>(*mx);
    double sum = 0;
    for (double v : per_target) sum += v;
    data.mean = static_cast<uint64_t>(sum / static_cast<double>(per_target.size()));
  }
  Tier md = data;
  md.total = meta + data.free;

  std::vector<uint32_t> down;
  for (auto& e : q.engine_status)
    if (!e.up) down.push_back(e.id);
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Pool %s, ntarget=%u, disabled=%u, leader=0, version=%u, state=%s\n",
                q.uuid.to_string().c_str(), q.targets, q.targets_disabled, q.map_version,
                down.empty() ? "Ready" : "Degraded");
  out += buf;
  out += "Pool label: " + q.label + "\n";
  out += "Pool health info:\n";
  if (!down.empty()) out += "- Disabled ranks: " + ranges(down) + "\n";
  out += "- Rebuild idle, 0 objs, 0 recs\n";
  out += "Pool space info:\n";
  out += "- Target(VOS) count:" + std::to_string(up_targets) + "\n";
  out += tier_lines(0, "SCM", md);
  out += tier_lines(1, "NVMe", data);
  return out;
}

Outcome pool_create(const Args& a) {
  if (a.pos.size() != 1) return usage_error("expected one pool path");
  objstore::PoolCreateOptions o;
  o.label = a.get("label");
  if (a.has("label") && !valid_label(o.label))
    return usage_error("bad pool label '" + o.label +
                       "' (1 to 127 of A-Z a-z 0-9 . _ : -, not a UUID)");
  if (a.has("engines") && (!parse_u32(a.get("engines"), &o.engines) || o.engines == 0))
    return usage_error("bad --engines '" + a.get("engines") + "' (a number >= 1)");
  if (a.has("targets") && (!parse_u32(a.get("targets"), &o.targets) || o.targets == 0))
    return usage_error("bad --targets '" + a.get("targets") + "' (a number >= 1)");
  if (a.has("size")) {
    auto s = objstore::parse_size(a.get("size"));
    if (!s.ok()) return usage_from_status(s.status());
    o.size_bytes = s.value();
  }
  std::string path = resolve_pool(a.pos[0]);
  if (o.label.empty()) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    std::string last = p.substr(p.rfind('/') == std::string::npos ? 0 : p.rfind('/') + 1);
    if (!valid_label(last))
      return usage_error("the directory name '" + last +
                         "' is not a valid pool label: give one with --label");
  }
  Status st = Pool::create(path, o, MPI_COMM_SELF);
  // EDAOS_INVAL from create is always about the options (e.g. --size below the minimum).
  if (st.code() == EDAOS_INVAL) return usage_from_status(st);
  if (!st.ok()) return from_status(st);
  std::shared_ptr<Pool> pool;
  Outcome c = connect_pool(path, &pool);
  if (!c.ok()) return c;
  auto q = pool->query();
  if (!q.ok()) return from_status(q.status());
  std::printf("Pool created\n------------\n");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"  UUID", ": " + q->uuid.to_string()},
      {"  Label", ": " + q->label},
      {"  Path", ": " + path},
      {"  Engines", ": " + std::to_string(q->engines) + " (" +
                        std::to_string(q->engines ? q->targets / q->engines : 0) +
                        " targets each)"},
      {"  Total targets", ": " + std::to_string(q->targets)},
      {"  Total size", ": " + (o.size_bytes ? format_si_bytes(o.size_bytes)
                                            : std::string("file-system space (no quota)"))},
  };
  std::fputs(format_entity(rows).c_str(), stdout);
  return ok();
}

Outcome pool_query(const Args& a) {
  if (a.pos.size() > 1) return usage_error("expected at most one pool");
  Target t;
  Outcome o = pick_target(a, false, &t);
  if (!o.ok()) return o;
  std::shared_ptr<Pool> pool;
  o = connect_pool(t.pool, &pool, /*admin=*/true);
  if (!o.ok()) return o;
  auto q = pool->query();
  if (!q.ok()) return from_status(q.status());
  std::fputs(format_pool_query(q.value(), pool_quota(t.pool)).c_str(), stdout);
  return ok();
}

}  // namespace

Outcome list_containers(const Args& a) {
  if (a.pos.size() > 1) return usage_error("expected at most one pool");
  Target t;
  Outcome o = pick_target(a, false, &t);
  if (!o.ok()) return o;
  std::shared_ptr<Pool> pool;
  o = connect_pool(t.pool, &pool);
  if (!o.ok()) return o;
  auto l = pool->cont_list();
  if (!l.ok()) return from_status(l.status());
  if (l->empty()) {
    std::printf("No containers.\n");
    return ok();
  }
  auto marked = pool->cont_destroying();
  if (!marked.ok()) return from_status(marked.status());
  auto list = l.value();
  std::sort(list.begin(), list.end(),
            [](const auto& x, const auto& y) { return x.second < y.second; });
  std::vector<std::vector<std::string>> rows;
  for (auto& [u, label] : list) {
    bool destroying = std::find(marked->begin(), marked->end(), u) != marked->end();
    // An unfinished destroy shows, so it can be finished with `container destroy`.
    rows.push_back({label + (destroying ? " (being destroyed)" : ""), u.to_string()});
  }
  std::printf("Containers in pool %s:\n", pool->map().label.c_str());
  std::fputs(format_table({"Label", "UUID"}, rows, "  ").c_str(), stdout);
  return ok();
}

namespace {

Outcome pool_exclude(const Args& a) {
  std::string spec = a.has("engine") ? a.get("engine") : a.get("rank");
  if (spec.empty()) return usage_error("which engine? (--engine=N[,M...])");
  if (a.pos.size() > 1) return usage_error("expected at most one pool");
  std::vector<uint32_t> ids;
  spec += ",";
  for (size_t s = 0, e; (e = spec.find(',', s)) != std::string::npos; s = e + 1) {
    uint32_t id = 0;
    if (!parse_u32(spec.substr(s, e - s), &id))
      return usage_error("bad engine id '" + spec.substr(s, e - s) + "'");
    ids.push_back(id);
  }
  Target t;
  Outcome o = pick_target(a, false, &t);
  if (!o.ok()) return o;
  std::shared_ptr<Pool> pool;
  // Administrative: an engine that cannot be opened is exactly what an operator excludes.
  o = connect_pool(t.pool, &pool, /*admin=*/true);
  if (!o.ok()) return o;
  Status st = pool->exclude(ids);
  if (!st.ok()) return from_status(st);
  std::string list = spec.substr(0, spec.size() - 1);
  std::printf(
      "Engine%s %s of pool %s excluded (pool map version %u); reintegration needs a "
      "rebuild, which edaos does not implement\n",
      ids.size() > 1 ? "s" : "", list.c_str(), pool->map().label.c_str(), pool->map().version);
  return ok();
}

Outcome pool_reintegrate(const Args& a) {
  (void)a;
  return runtime_error(
      "not supported: reintegration needs a rebuild of the engine's data, which edaos does not "
      "implement; an excluded engine stays out of the pool");
}

}  // namespace

std::vector<Command> pool_commands() {
  return {
      {"pool",
       "create",
       "[--label=L] [--engines=N] [--targets=N] [--size=S] <path>",
       "create a pool directory (engines are the fault domains)",
       {{"label", true, "pool label (default: the directory name)"},
        {"engines", true, "number of engines (default: servers x $EDAOS_ENGINES_PER_SERVER, 8)"},
        {"targets", true, "targets per engine (default: $EDAOS_TARGETS_PER_ENGINE, 4)"},
        {"size", true, "quota over all engines, e.g. 10G, 512GiB (default: no quota)"}},
       pool_create,
       {}},
      {"pool",
       "query",
       "[<pool>]",
       "show targets, disabled engines, rebuild state and space per tier",
       {{"pool", true, "pool (instead of the argument)"}},
       pool_query,
       {}},
      {"pool",
       "list-cont",
       "[<pool>]",
       "list the containers of a pool",
       {{"pool", true, "pool (instead of the argument)"}},
       list_containers,
       {"list-containers"}},
      {"pool",
       "exclude",
       "--engine=N[,M...] [<pool>]",
       "persist engines as down in the pool map (DAOS dmg pool exclude)",
       {{"engine", true, "engine id"},
        {"rank", true, "engine id (DAOS name)"},
        {"pool", true, "pool (instead of the argument)"}},
       pool_exclude,
       {}},
      {"pool",
       "reintegrate",
       "--engine=N [<pool>]",
       "bring an excluded engine back (refused: needs a rebuild)",
       {{"engine", true, "engine id"},
        {"rank", true, "engine id (DAOS name)"},
        {"pool", true, "pool (instead of the argument)"}},
       pool_reintegrate,
       {}},
  };
}

}  // namespace edaos::cli

// `edaos container ...`: create, destroy, query, list, get-prop, set-prop.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "cli.hpp"
#include "edaos/objstore/oclass.hpp"
#include "edaos/objstore/props.hpp"

namespace edaos::cli {

using objstore::Container;
using objstore::ContainerProps;
using objstore::ObjClass;
using objstore::Pool;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Builds the properties of a new container from the command line (no pool needed): every
// malformed value is a usage error.
Outcome build_props(const Args& a, ContainerProps* p) {
  if (a.has("type")) {
    auto t = objstore::parse_cont_type(a.get("type"));
    if (!t.ok()) return usage_from_status(t.status());
    p->type = t.value();
  }
  if (a.has("chunk-size")) {
    Status st = objstore::set_property(p, "chunk_size", a.get("chunk-size"));
    if (!st.ok()) return usage_from_status(st);
  }
  if (a.has("properties")) {
    Status st = objstore::apply_properties(p, a.get("properties"));
    if (!st.ok()) return usage_from_status(st);
  }
  for (auto [opt, key] : {std::pair<const char*, const char*>{"oclass", "oclass"},
                          {"file-oclass", "file_oclass"},
                          {"dir-oclass", "dir_oclass"}}) {
    if (!a.has(opt)) continue;
    Status st = objstore::set_property(p, key, a.get(opt));
    if (!st.ok()) return usage_from_status(st);
  }
  return ok();
}

std::string class_row(const std::string& set, int rd_fac, bool dir, const objstore::PoolMap& m) {
  if (!set.empty()) return set;
  return objstore::default_oclass(rd_fac, dir, m).name() + " (automatic)";
}

Outcome cont_create(const Args& a) {
  Target t;
  Outcome o;
  std::string label;
  if (a.has("label")) {
    o = pick_target(a, false, &t);
    label = a.get("label");
  } else {
    o = pick_target(a, true, &t);
    label = t.cont;
  }
  if (!o.ok()) return o;
  if (a.pos.size() > 2) return usage_error("unexpected argument '" + a.pos.back() + "'");
  ContainerProps props;
  o = build_props(a, &props);
  if (!o.ok()) return o;
  std::shared_ptr<Pool> pool;
  o = connect_pool(t.pool, &pool);
  if (!o.ok()) return o;
  auto c = pool->cont_create(label, props);
  if (!c.ok()) return from_status(c.status());
  const auto& cp = c.value()->props();
  std::printf("Successfully created container %s\n", c.value()->uuid().to_string().c_str());
  std::fputs(format_entity({{"  Container UUID", c.value()->uuid().to_string()},
                            {"  Container Label", cp.label},
                            {"  Container Type", objstore::cont_type_name(cp.type)}})
                 .c_str(),
             stdout);
  return ok();
}

Outcome cont_destroy(const Args& a) {
  Target t;
  Outcome o = pick_target(a, true, &t);
  if (!o.ok()) return o;
  if (a.pos.size() > 2) return usage_error("unexpected argument '" + a.pos.back() + "'");
  std::shared_ptr<Pool> pool;
  o = connect_pool(t.pool, &pool);
  if (!o.ok()) return o;
  Status st = pool->cont_destroy(t.cont);
  if (!st.ok()) return from_status(st);
  std::printf("Successfully destroyed container %s\n", t.cont.c_str());
  return ok();
}

Outcome cont_query(const Args& a) {
  Target t;
  Outcome o = pick_target(a, true, &t);
  if (!o.ok()) return o;
  if (a.pos.size() > 2) return usage_error("unexpected argument '" + a.pos.back() + "'");
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> c;
  o = open_cont(t, &pool, &c);
  if (!o.ok()) return o;
  const ContainerProps& p = c->props();
  auto objs = c->list_objects();
  if (!objs.ok()) return from_status(objs.status());
  const auto& m = pool->map();
  int rf = static_cast<int>(p.rd_fac);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Container UUID", c->uuid().to_string()},
      {"Container Label", p.label},
      {"Container Type", objstore::cont_type_name(p.type)},
      {"Pool UUID", m.pool_uuid.to_string()},
      {"Container redundancy factor", std::to_string(p.rd_fac)},
      {"Container redundancy level", p.rd_lvl == objstore::RedunLevel::kNode ? "node" : "rank"},
      {"Health", p.status == objstore::ContStatus::kUnclean ? "UNCLEAN" : "HEALTHY"},
      {"Layout version", std::to_string(p.layout_version)},
      {"Number of objects", std::to_string(objs->size())},
      {"Object Class", class_row(p.oclass, rf, false, m)},
      {"Dir Object Class", class_row(p.dir_oclass.empty() ? p.oclass : p.dir_oclass, rf, true, m)},
      {"File Object Class",
       class_row(p.file_oclass.empty() ? p.oclass : p.file_oclass, rf, false, m)},
      {"Chunk Size", objstore::format_ibytes(p.chunk_size)},
      {"EC Cell Size", objstore::format_ibytes(p.ec_cell_sz)},
      {"Checksum", std::string(objstore::csum_type_name(p.cksum)) +
                       (p.srv_cksum ? ", verified by servers" : "")},
  };
  std::fputs(format_entity(rows).c_str(), stdout);
  return ok();
}

// The key of a describe() row: the text in the last parentheses.
std::string row_key(const std::string& desc) {
  size_t l = desc.rfind('('), r = desc.rfind(')');
  return l == std::string::npos || r == std::string::npos ? desc : desc.substr(l + 1, r - l - 1);
}

Outcome cont_get_prop(const Args& a) {
  Target t;
  Outcome o = pick_target(a, true, &t);
  if (!o.ok()) return o;
  if (a.pos.size() > 2) return usage_error("unexpected argument '" + a.pos.back() + "'");
  auto rows = objstore::describe(ContainerProps{});
  std::set<std::string> known, want;
  for (auto& r : rows) known.insert(row_key(r.first));
  if (a.has("properties")) {
    std::string spec = a.get("properties") + ",";
    for (size_t s = 0, e; (e = spec.find(',', s)) != std::string::npos; s = e + 1) {
      std::string k = lower(spec.substr(s, e - s));
      if (k.empty() || k == "all") continue;
      if (k == "rf") k = "rd_fac";
      if (k == "rf_lvl") k = "rd_lvl";
      if (!known.count(k)) return usage_error("unknown property '" + spec.substr(s, e - s) + "'");
      want.insert(k);
    }
  }
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> c;
  o = open_cont(t, &pool, &c);
  if (!o.ok()) return o;
  std::vector<std::vector<std::string>> table;
  for (auto& r : objstore::describe(c->props()))
    if (want.empty() || want.count(row_key(r.first))) table.push_back({r.first, r.second});
  std::printf("Properties for container %s\n", t.cont.c_str());
  std::fputs(format_table({"Name", "Value"}, table).c_str(), stdout);
  return ok();
}

Outcome cont_set_prop(const Args& a) {
  Target t;
  size_t next = 0;
  Outcome o = pick_target(a, true, &t, &next);
  if (!o.ok()) return o;
  std::string spec = a.get("properties");
  for (size_t i = next; i < a.pos.size(); ++i) spec += (spec.empty() ? "" : ",") + a.pos[i];
  if (spec.empty()) return usage_error("no properties given (--properties=key:value,...)");
  ContainerProps check;
  Status st = objstore::apply_properties(&check, spec);
  if (!st.ok()) return usage_from_status(st);
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> c;
  o = open_cont(t, &pool, &c);
  if (!o.ok()) return o;
  // Validate the whole change against the current properties before storing any of it.
  ContainerProps next_props = c->props();
  st = objstore::apply_properties(&next_props, spec);
  if (!st.ok()) return from_status(st);
  spec += ",";
  for (size_t s = 0, e; (e = spec.find(',', s)) != std::string::npos; s = e + 1) {
    std::string item = spec.substr(s, e - s);
    if (item.empty()) continue;
    size_t colon = item.find(':');
    st = c->set_prop(item.substr(0, colon), item.substr(colon + 1));
    if (!st.ok()) return from_status(st);
  }
  std::printf("Properties were successfully set\n");
  return ok();
}

const OptSpec kPoolOpt{"pool", true, "pool (instead of the first argument)"};
const OptSpec kContOpt{"cont", true, "container label or UUID (instead of the argument)"};

}  // namespace

std::vector<Command> container_commands() {
  return {
      {"container",
       "create",
       "[options] [<pool>] <label>",
       "create a container with properties and object classes",
       {{"type", true, "container type: POSIX (default), HDF5, unknown"},
        {"chunk-size", true, "file chunk size, e.g. 2097152 or 2MiB (default 1 MiB)"},
        {"properties", true, "key:value,... e.g. rd_fac:3,ec_cell_sz:131072,cksum:crc32"},
        {"oclass", true, "default object class, e.g. EC_16P3GX"},
        {"file-oclass", true, "object class of files"},
        {"dir-oclass", true, "object class of directories"},
        {"label", true, "container label (instead of the argument)"},
        kPoolOpt},
       cont_create,
       {}},
      {"container",
       "destroy",
       "[--force] [<pool>] <cont>",
       "destroy a container and all its data",
       {{"force", false, "accepted for compatibility (edaos tracks no open handles)", 'f'},
        kPoolOpt,
        kContOpt},
       cont_destroy,
       {}},
      {"container",
       "query",
       "[<pool>] <cont>",
       "show a container's identity, redundancy, classes and object count",
       {kPoolOpt, kContOpt},
       cont_query,
       {}},
      {"container",
       "list",
       "[<pool>]",
       "list the containers of a pool",
       {kPoolOpt},
       list_containers,
       {"ls"}},
      {"container",
       "get-prop",
       "[--properties=a,b] [<pool>] <cont>",
       "show container properties",
       {{"properties", true, "only these properties (keys, comma-separated)"}, kPoolOpt, kContOpt},
       cont_get_prop,
       {}},
      {"container",
       "set-prop",
       "[<pool>] <cont> [--properties=]key:value[,...]",
       "change container properties (status:healthy clears UNCLEAN)",
       {{"properties", true, "key:value,..."}, kPoolOpt, kContOpt},
       cont_set_prop,
       {}},
  };
}

}  // namespace edaos::cli

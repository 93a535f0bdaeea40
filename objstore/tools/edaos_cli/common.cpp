// Pool and container resolution shared by the command families: pool paths and labels,
// daos:// URIs, the DAOS_POOL / DAOS_CONT defaults, connecting.
#include <dirent.h>
#include <mpi.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "cli.hpp"

namespace edaos::cli {

using objstore::Container;
using objstore::Pool;

Outcome from_status(const Status& st) {
  std::string msg = st.message().empty() ? edaos_status_describe(st.code()) : st.message();
  return {st.code() == EDAOS_BUSY ? kExitBusy : kExitRuntime, msg};
}

Outcome usage_from_status(const Status& st) {
  return {kExitUsage, st.message().empty() ? edaos_status_describe(st.code()) : st.message()};
}

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool is_pool_dir(const std::string& dir) {
  struct stat sb;
  return ::stat((dir + "/POOL").c_str(), &sb) == 0 && S_ISREG(sb.st_mode);
}

// The "label" and "uuid" header lines of <dir>/POOL (see the pool format in the README).
bool pool_names(const std::string& dir, std::string* label, std::string* uuid) {
  std::ifstream in(dir + "/POOL");
  if (!in) return false;
  std::string line;
  for (int i = 0; i < 12 && std::getline(in, line); ++i) {
    if (line.rfind("label ", 0) == 0) *label = line.substr(6);
    if (line.rfind("uuid ", 0) == 0) *uuid = line.substr(5);
    if (line == "end") break;
  }
  return true;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "." ? "./" + name : dir + "/" + name;
}

}  // namespace

std::string pool_home() {
  std::string p = env("EDAOS_POOL");
  if (p.empty()) p = env("DAOS_POOL");
  size_t s = p.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

std::string resolve_pool(const std::string& arg) {
  std::string a = arg.empty() ? objstore::default_pool_path() : arg;
  if (a.find('/') != std::string::npos || a == "." || a == "..") return a;
  const std::string home = pool_home();
  if (is_pool_dir(join(home, a))) return join(home, a);
  if (DIR* d = opendir(home.c_str())) {
    std::string found;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string label, uuid;
      if (pool_names(join(home, name), &label, &uuid) && (label == a || uuid == a)) {
        found = join(home, name);
        break;
      }
    }
    closedir(d);
    if (!found.empty()) return found;
  }
  if (is_pool_dir("./" + a)) return "./" + a;
  return join(home, a);
}

std::string default_cont() {
  for (const char* n : {"DAOS_CONT", "DAOS_CONTAINER", "EDAOS_CONT"})
    if (!env(n).empty()) return env(n);
  return "";
}

bool is_daos_uri(const std::string& s) { return s.rfind("daos://", 0) == 0; }

Result<DaosUri> parse_daos_uri(const std::string& s) {
  if (!is_daos_uri(s)) return Status(EDAOS_INVAL, "'" + s + "' is not a daos://<pool>/<cont> URI");
  std::string rest = s.substr(7);
  size_t a = rest.find('/');
  if (a == std::string::npos || a == 0)
    return Status(EDAOS_INVAL, "URI '" + s + "' names no container (daos://<pool>/<cont>/path)");
  size_t b = rest.find('/', a + 1);
  DaosUri u;
  u.pool = resolve_pool(rest.substr(0, a));
  u.cont = rest.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (u.cont.empty())
    return Status(EDAOS_INVAL, "URI '" + s + "' names no container (daos://<pool>/<cont>/path)");
  u.path = b == std::string::npos ? "/" : rest.substr(b);
  if (u.path.empty()) u.path = "/";
  return u;
}

Outcome pick_target(const Args& a, bool need_cont, Target* t, size_t* next_pos) {
  size_t i = 0;
  if (a.has("pool")) {
    t->pool_arg = a.get("pool");
  } else if (i < a.pos.size()) {
    t->pool_arg = a.pos[i++];
  }
  if (a.has("cont")) {
    t->cont = a.get("cont");
  } else if (need_cont && i < a.pos.size()) {
    t->cont = a.pos[i++];
  }
  if (t->cont.empty() && need_cont) t->cont = default_cont();
  if (t->pool_arg.empty() && objstore::default_pool_path().empty())
    return usage_error("no pool given (argument, --pool, or $DAOS_POOL)");
  t->pool = resolve_pool(t->pool_arg);
  if (t->pool_arg.empty()) t->pool_arg = t->pool;
  if (need_cont && t->cont.empty())
    return usage_error("no container given (argument, --cont, or $DAOS_CONT)");
  if (next_pos) *next_pos = i;
  return ok();
}

Outcome connect_pool(const std::string& path, std::shared_ptr<Pool>* out) {
  auto p = Pool::connect(path, MPI_COMM_SELF);
  if (!p.ok()) return from_status(p.status());
  *out = std::move(p).value();
  return ok();
}

Outcome open_cont(const Target& t, std::shared_ptr<Pool>* pool, std::shared_ptr<Container>* cont) {
  Outcome o = connect_pool(t.pool, pool);
  if (!o.ok()) return o;
  auto c = (*pool)->cont_open(t.cont);
  if (!c.ok()) return from_status(c.status());
  *cont = std::move(c).value();
  return ok();
}

}  // namespace edaos::cli

// The resolver of pool specs and daos: names (edaos/objstore/names.hpp).
#include "edaos/objstore/names.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <vector>

#include "edaos/objstore/objstore.hpp"
#include "vos/pool_store.hpp"

namespace edaos::objstore {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir == ".") return "./" + name;
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// The pool directory in `home` whose label or UUID is `name`, or "".
std::string find_by_label(const std::string& home, const std::string& name) {
  DIR* d = ::opendir(home.c_str());
  if (!d) return "";
  std::vector<std::string> entries;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") entries.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : entries) {
    std::string dir = join(home, n);
    if (!is_pool_dir(dir)) continue;
    auto h = vos::PoolStore::read_header(dir, nullptr);
    if (h.ok() && (h->label == name || h->uuid.to_string() == name)) return dir;
  }
  return "";
}

// Components of a path, empty ones (repeated '/') dropped; *absolute when it starts with '/'.
std::vector<std::string> components(const std::string& p, bool* absolute) {
  *absolute = !p.empty() && p[0] == '/';
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string normalize_path(const std::string& p) {
  bool abs = false;
  auto comps = components(p, &abs);
  std::string out = abs ? "/" : "";
  for (size_t i = 0; i < comps.size(); ++i) out += (i ? "/" : "") + comps[i];
  return out.empty() ? "/" : out;
}

Status bad_name(const std::string& name, const std::string& why) {
  return Status(EDAOS_INVAL, "'" + name + "' " + why +
                                 " (daos:/PATH with $DAOS_POOL and $DAOS_CONT, or "
                                 "daos://POOL/CONTAINER/PATH)");
}

}  // namespace

bool is_pool_path(const std::string& spec) {
  return spec.find('/') != std::string::npos || spec == "." || spec == "..";
}

bool is_pool_dir(const std::string& dir) {
  struct stat sb;
  return ::stat(join(dir, "POOL").c_str(), &sb) == 0 && S_ISREG(sb.st_mode);
}

std::string default_pool_spec() {
  for (const char* v : {"EDAOS_POOL", "DAOS_POOL"})
    if (std::string s = env(v); !s.empty()) return s;
  return "./edaos-pool";
}

std::string pool_home() {
  std::string p;
  for (const char* v : {"EDAOS_POOL", "DAOS_POOL"})
    if (p = env(v); !p.empty()) break;
  if (!is_pool_path(p)) return ".";
  p = strip_trailing_slashes(p);
  if (p == "." || p == "..") return p + "/..";
  size_t s = p.rfind('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

Result<std::string> resolve_pool(const std::string& spec) {
  if (spec.empty()) return Status(EDAOS_INVAL, "empty pool name");
  if (is_pool_path(spec)) return strip_trailing_slashes(spec);
  const std::string home = pool_home();
  if (is_pool_dir(join(home, spec))) return join(home, spec);
  if (std::string found = find_by_label(home, spec); !found.empty()) return found;
  if (home != "." && is_pool_dir("./" + spec)) return "./" + spec;
  return join(home, spec);
}

Result<std::string> default_container() {
  if (std::string e = env("EDAOS_CONT"); !e.empty()) return e;
  std::string a = env("DAOS_CONT"), b = env("DAOS_CONTAINER");
  if (!a.empty() && !b.empty() && a != b)
    return Status(EDAOS_INVAL, "DAOS_CONT='" + a + "' and DAOS_CONTAINER='" + b +
                                   "' name different containers: unset one (or set "
                                   "EDAOS_CONT, which takes precedence)");
  return a.empty() ? b : a;
}

bool is_daos_name(const std::string& name) { return name.compare(0, 5, "daos:") == 0; }

Result<DaosName> parse_daos_name(const std::string& name) {
  std::string rest = is_daos_name(name) ? name.substr(5) : name;
  DaosName out;
  if (rest.compare(0, 2, "//") != 0) {
    // daos:PATH / daos:/PATH: the pool and container of the environment.
    out.pool_spec = default_pool_spec();
    EDAOS_ASSIGN_OR_RETURN(out.pool, resolve_pool(out.pool_spec));
    EDAOS_ASSIGN_OR_RETURN(out.cont, default_container());
    if (out.cont.empty())
      return bad_name(name, "names no container: set DAOS_CONT (or DAOS_CONTAINER)");
    out.path = rest.empty() ? "" : normalize_path("/" + rest);
    out.pool_exists = is_pool_dir(out.pool);
    return out;
  }
  rest = rest.substr(2);
  bool abs = false;
  std::vector<std::string> comps = components(rest, &abs);
  if (comps.empty() && !abs) return bad_name(name, "names no pool");
  size_t next = 0;  // first component after the pool
  const bool path_form = abs || (!comps.empty() && (comps[0] == "." || comps[0] == ".."));
  if (!path_form) {
    out.pool_spec = comps[0];
    EDAOS_ASSIGN_OR_RETURN(out.pool, resolve_pool(out.pool_spec));
    out.pool_exists = is_pool_dir(out.pool);
    next = 1;
  } else {
    // Walk the path: the first pool directory, or the first absent / empty directory (where a
    // pool would be created). "." and ".." (and "/") are never created as pools: they are
    // only walked through, or taken when they already are pools.
    std::string prefix = abs ? "/" : "";
    bool found = false;
    if (abs && is_pool_dir("/")) {
      found = true;
      out.pool = "/";
      out.pool_exists = true;
    }
    for (size_t i = 0; i < comps.size() && !found; ++i) {
      prefix = prefix.empty() ? comps[i] : join(prefix, comps[i]);
      const bool dots = comps[i] == "." || comps[i] == "..";
      vos::PoolDirState ds = vos::inspect_pool_dir(prefix);
      switch (ds.kind) {
        case vos::PoolDirState::kPool:
          found = out.pool_exists = true;
          break;
        case vos::PoolDirState::kDamaged:
          return vos::damaged_pool_error(prefix, ds.what);
        case vos::PoolDirState::kAbsent:
        case vos::PoolDirState::kEmpty:
        case vos::PoolDirState::kCreating:
          found = !dots;
          break;
        case vos::PoolDirState::kOther:
          if (ds.entry.empty())
            return Status(EDAOS_NOTDIR, "'" + name + "': " + prefix + ": " + ds.what);
          break;  // a parent directory: walk on
      }
      if (found) {
        out.pool = prefix;
        next = i + 1;
      }
    }
    if (!found)
      return Status(EDAOS_NONEXIST, "'" + name + "': no pool along " + (abs ? "/" : "") + rest);
    out.pool_spec = out.pool;
  }
  if (next >= comps.size()) return bad_name(name, "names no container");
  out.cont = comps[next];
  std::string path;
  for (size_t i = next + 1; i < comps.size(); ++i) path += "/" + comps[i];
  if (path.empty() && !rest.empty() && rest.back() == '/' && next + 1 == comps.size()) path = "/";
  out.path = path;
  return out;
}

}  // namespace edaos::objstore

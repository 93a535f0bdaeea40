// Pool and container resolution shared by the command families, through objstore's one
// resolver (edaos/objstore/names.hpp): pool paths and labels, daos:// URIs, the DAOS_POOL /
// DAOS_CONT defaults; connecting.
#include <mpi.h>

#include "cli.hpp"
#include "edaos/objstore/names.hpp"

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

std::string resolve_pool(const std::string& arg) {
  auto dir = objstore::resolve_pool(arg.empty() ? objstore::default_pool_spec() : arg);
  return dir.ok() ? dir.value() : arg;  // only an empty spec fails, and it is never empty here
}

bool is_daos_uri(const std::string& s) { return s.rfind("daos://", 0) == 0; }

Result<DaosUri> parse_daos_uri(const std::string& s) {
  if (!is_daos_uri(s)) return Status(EDAOS_INVAL, "'" + s + "' is not a daos://<pool>/<cont> URI");
  EDAOS_ASSIGN_OR_RETURN(objstore::DaosName n, objstore::parse_daos_name(s));
  DaosUri u;
  u.pool = n.pool;
  u.pool_spec = n.pool_spec;
  u.cont = n.cont;
  u.path = n.path.empty() ? "/" : n.path;
  return u;
}

Outcome uri_error(const Status& st) {
  return st.code() == EDAOS_INVAL ? usage_from_status(st) : from_status(st);
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
  if (t->cont.empty() && need_cont) {
    auto c = objstore::default_container();
    if (!c.ok()) return usage_from_status(c.status());
    t->cont = c.value();
  }
  t->pool = resolve_pool(t->pool_arg);
  if (t->pool_arg.empty()) t->pool_arg = t->pool;
  if (need_cont && t->cont.empty())
    return usage_error("no container given (argument, --cont, or $DAOS_CONT)");
  if (next_pos) *next_pos = i;
  return ok();
}

Outcome connect_pool(const std::string& path, std::shared_ptr<Pool>* out, bool admin) {
  objstore::ConnectOptions co;
  co.admin = admin;
  auto p = Pool::connect(path, MPI_COMM_SELF, co);
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

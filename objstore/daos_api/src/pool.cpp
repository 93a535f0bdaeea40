// Pools: name resolution, connect / disconnect / query, handle sharing, container listing.

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "daos_internal.hpp"
#include "edaos/objstore/names.hpp"

namespace edaos::daosapi {

namespace {

std::string absolute(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

constexpr uint32_t kPoolGlobMagic = 0x48504445;  // "EDPH"
constexpr uint32_t kGlobVersion = 1;

void fill_space(const objstore::PoolInfo& pi, daos_pool_info_t* info) {
  auto& sp = info->pi_space;
  sp = daos_pool_space{};
  sp.ps_ntargets = pi.targets - pi.targets_disabled;
  sp.ps_space.s_total[DAOS_MEDIA_NVME] = pi.total;
  sp.ps_space.s_free[DAOS_MEDIA_NVME] = pi.free;
  const uint32_t up = pi.engines - pi.engines_down;
  uint64_t min = UINT64_MAX, max = 0, sum = 0, n = 0;
  for (const auto& e : pi.engine_status) {
    if (!e.up || e.targets == 0) continue;
    // Same accounting as Pool::query: each up engine owns its share of the file system.
    const uint64_t per_target = e.free / (up ? up : 1) / e.targets;
    min = std::min(min, per_target);
    max = std::max(max, per_target);
    sum += per_target * e.targets;
    n += e.targets;
  }
  sp.ps_free_min[DAOS_MEDIA_NVME] = n ? min : 0;
  sp.ps_free_max[DAOS_MEDIA_NVME] = max;
  sp.ps_free_mean[DAOS_MEDIA_NVME] = n ? sum / n : 0;
}

Status fill_info(PoolImpl& p, daos_pool_info_t* info, d_rank_list_t** ranks) {
  EDAOS_ASSIGN_OR_RETURN(objstore::PoolInfo pi, p.pool->query());
  if (info) {
    std::memcpy(info->pi_uuid, pi.uuid.b, sizeof info->pi_uuid);
    info->pi_ntargets = pi.targets;
    info->pi_nnodes = pi.engines;
    info->pi_ndisabled = pi.targets_disabled;
    info->pi_map_ver = pi.map_version;
    info->pi_leader = 0;
    if (info->pi_bits & DPI_SPACE) fill_space(pi, info);
    if (info->pi_bits & DPI_REBUILD_STATUS) {
      info->pi_rebuild_st = daos_rebuild_status{};
      info->pi_rebuild_st.rs_state = DRS_NOT_STARTED;
      if (pi.engines_down) info->pi_rebuild_st.rs_flags = DAOS_RSF_DEGRADED;
    }
  }
  if (ranks) {
    const bool want_up = info && (info->pi_bits & DPI_ENGINES_ENABLED);
    std::vector<uint32_t> ids;
    for (const auto& e : pi.engine_status)
      if (e.up == want_up) ids.push_back(e.id);
    d_rank_list_t* l = d_rank_list_alloc(static_cast<uint32_t>(ids.size()));
    if (!l) return Status(EDAOS_NOMEM, "rank list");
    for (size_t i = 0; i < ids.size(); ++i) l->rl_ranks[i] = ids[i];
    *ranks = l;
  }
  return Status::OK();
}

}  // namespace

// Pool labels, UUIDs and paths resolve exactly as at every other door (objstore's one resolver,
// objstore/README.md "Names"); DAOS answers -DER_NONEXIST when no pool is there.
Result<std::string> resolve_pool_name(const std::string& name) {
  if (name.empty()) return Status(EDAOS_INVAL, "empty pool name");
  EDAOS_ASSIGN_OR_RETURN(std::string dir, objstore::resolve_pool(name));
  if (!objstore::is_pool_dir(dir))
    return Status(EDAOS_NONEXIST, "no pool named '" + name +
                                      "' (no pool directory, label or UUID "
                                      "matches it in " +
                                      objstore::pool_home() + ")");
  return dir;
}

Result<std::shared_ptr<PoolImpl>> connect_pool(const std::string& name, unsigned flags) {
  EDAOS_ASSIGN_OR_RETURN(std::string path, resolve_pool_name(name));
  auto p = std::make_shared<PoolImpl>();
  p->path = absolute(path);
  p->flags = flags;
  EDAOS_ASSIGN_OR_RETURN(p->pool, Pool::connect(p->path, MPI_COMM_SELF));
  return p;
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int daos_pool_connect(const char* pool, const char* sys, unsigned int flags, daos_handle_t* poh,
                      daos_pool_info_t* info, daos_event_t* ev) {
  (void)sys;
  return guard_der(__func__, [&]() -> int {
    if (!initialized()) {
      note(current_call(), "daos_init was not called");
      return -DER_UNINIT;
    }
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      if (pool == nullptr || poh == nullptr) {
        note(current_call(), "pool and poh must not be NULL");
        return -DER_INVAL;
      }
      const unsigned mode = flags & DAOS_PC_MASK;
      if ((mode != DAOS_PC_RO && mode != DAOS_PC_RW && mode != DAOS_PC_EX) ||
          (flags & ~DAOS_PC_MASK)) {
        note(current_call(), "flags must be one of DAOS_PC_RO, DAOS_PC_RW, DAOS_PC_EX");
        return -DER_INVAL;
      }
      auto p = connect_pool(pool, flags);
      if (!p.ok()) return fail_der(current_call(), p.status());
      if (info) {
        Status st = fill_info(*p.value(), info, nullptr);
        if (!st.ok()) return fail_der(current_call(), st);
      }
      *poh = Registry::get().add_pool(std::move(p).value());
      return 0;
    });
  });
}

int daos_pool_disconnect(daos_handle_t poh, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto p = Registry::get().take_pool(poh);
      if (!p) {
        note(current_call(), "invalid pool handle");
        return -DER_NO_HDL;
      }
      // Containers and mounts opened through it keep the connection until they close; the
      // last reference disconnects.
      if (p.use_count() == 1 && p->pool.use_count() == 1)
        return fail_der(current_call(), p->pool->disconnect());
      return 0;
    });
  });
}

int daos_pool_local2global(daos_handle_t poh, d_iov_t* glob) {
  return guard_der(__func__, [&]() -> int {
    auto p = Registry::get().pool(poh);
    if (!p) return -DER_NO_HDL;
    const auto& uuid = p->pool->map().pool_uuid;
    Writer w;
    w.u32(kPoolGlobMagic).u32(kGlobVersion).bytes(uuid.b, sizeof uuid.b).str(p->path).u32(p->flags);
    return export_global(w.buf(), glob, -DER_TRUNC, -DER_INVAL);
  });
}

int daos_pool_global2local(d_iov_t glob, daos_handle_t* poh) {
  return guard_der(__func__, [&]() -> int {
    if (!initialized()) return -DER_UNINIT;
    if (poh == nullptr || glob.iov_buf == nullptr || glob.iov_len > glob.iov_buf_len) {
      note(current_call(), "bad arguments");
      return -DER_INVAL;
    }
    Reader r(glob.iov_buf, glob.iov_len);
    uint32_t magic = 0, version = 0, flags = 0;
    objstore::Uuid uuid;
    std::string path;
    if (!r.u32(&magic) || magic != kPoolGlobMagic || !r.u32(&version) || version != kGlobVersion ||
        !r.bytes(uuid.b, sizeof uuid.b) || !r.str(&path) || !r.u32(&flags) || !r.done()) {
      note(current_call(), "not a serialized pool handle");
      return -DER_INVAL;
    }
    auto p = std::make_shared<PoolImpl>();
    p->path = path;
    p->flags = flags;
    auto pool = Pool::connect(path, MPI_COMM_SELF);
    if (!pool.ok()) return fail_der(current_call(), pool.status());
    p->pool = std::move(pool).value();
    if (p->pool->map().pool_uuid != uuid) {
      (void)p->pool->disconnect();
      note(current_call(), "the pool at " + path + " is not pool " + uuid.to_string());
      return -DER_NONEXIST;
    }
    *poh = Registry::get().add_pool(std::move(p));
    return 0;
  });
}

int daos_pool_query(daos_handle_t poh, d_rank_list_t** ranks, daos_pool_info_t* info,
                    daos_prop_t* pool_prop, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto p = Registry::get().pool(poh);
      if (!p) return -DER_NO_HDL;
      if (pool_prop) {
        // Validate before allocating anything.
        for (uint32_t i = 0; pool_prop->dpp_entries && i < pool_prop->dpp_nr; ++i)
          if (pool_prop->dpp_entries[i].dpe_type != DAOS_PROP_PO_LABEL) {
            note(current_call(), "only DAOS_PROP_PO_LABEL can be queried");
            return -DER_NOTSUPPORTED;
          }
      }
      Status st = fill_info(*p, info, ranks);
      if (!st.ok()) return fail_der(current_call(), st);
      if (pool_prop) {
        if (pool_prop->dpp_entries == nullptr) {
          daos_prop_t* all = daos_prop_alloc(1);
          if (!all) return -DER_NOMEM;
          pool_prop->dpp_nr = all->dpp_nr;
          pool_prop->dpp_entries = all->dpp_entries;
          std::free(all);
          pool_prop->dpp_entries[0].dpe_type = DAOS_PROP_PO_LABEL;
        }
        const std::string& label = p->pool->map().label;
        for (uint32_t i = 0; i < pool_prop->dpp_nr; ++i) {
          int rc = daos_prop_entry_set_str(&pool_prop->dpp_entries[i], label.c_str(), label.size());
          if (rc) return rc;
        }
      }
      return 0;
    });
  });
}

int daos_pool_list_cont(daos_handle_t poh, daos_size_t* ncont, struct daos_pool_cont_info* cbuf,
                        daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto p = Registry::get().pool(poh);
      if (!p) return -DER_NO_HDL;
      if (ncont == nullptr) return -DER_INVAL;
      auto list = p->pool->cont_list();
      if (!list.ok()) return fail_der(current_call(), list.status());
      const daos_size_t cap = *ncont;
      *ncont = list->size();
      if (cbuf == nullptr) return 0;
      for (size_t i = 0; i < list->size() && i < cap; ++i) {
        std::memcpy(cbuf[i].pci_uuid, (*list)[i].first.b, sizeof cbuf[i].pci_uuid);
        std::snprintf(cbuf[i].pci_label, sizeof cbuf[i].pci_label, "%s", (*list)[i].second.c_str());
      }
      return cap < list->size() ? -DER_TRUNC : 0;
    });
  });
}

}  // extern "C"

// Containers: create / open / close / destroy / query / set-prop, handle sharing, attributes.
#include <cstring>

#include "daos_internal.hpp"

namespace edaos::daosapi {

namespace {

constexpr uint32_t kContGlobMagic = 0x48434445;  // "EDCH"
constexpr uint32_t kGlobVersion = 1;

// DAOS_PC_RO pool connections and DAOS_COO_RO container handles only read.
bool pool_read_only(const PoolImpl& p) { return (p.flags & DAOS_PC_MASK) == DAOS_PC_RO; }
int refuse_read_only(const char* what) {
  note(current_call(), std::string("the ") + what + " handle is read-only");
  return -DER_NO_PERM;
}

// Creates a container with label `label` (empty: from the properties, else generated).
int create(daos_handle_t poh, const char* label, daos_prop_t* prop, uuid_t* uuid,
           const char* call) {
  auto p = Registry::get().pool(poh);
  if (!p) {
    note(call, "invalid pool handle");
    return -DER_NO_HDL;
  }
  if (pool_read_only(*p)) return refuse_read_only("pool");
  objstore::ContainerProps props;
  props.type = objstore::ContType::kUnknown;  // DAOS's default layout
  Status st = apply_daos_props(prop, &props, true);
  if (!st.ok()) return fail_der(call, st);
  if (label != nullptr) {
    if (!daos_label_is_valid(label)) {
      note(call, std::string("invalid container label '") + label + "'");
      return -DER_INVAL;
    }
    props.label = label;
  }
  // edaos containers always have a label (see daos_cont.h).
  if (props.label.empty()) props.label = "container_" + objstore::Uuid::generate().to_string();
  const std::string lbl = props.label;
  auto c = p->pool->cont_create(lbl, std::move(props));
  if (!c.ok()) return fail_der(call, c.status());
  if (uuid != nullptr) std::memcpy(*uuid, c.value()->uuid().b, sizeof(uuid_t));
  return 0;
}

std::shared_ptr<ContImpl> cont_or_note(daos_handle_t coh, const char* call) {
  auto c = Registry::get().cont(coh);
  if (!c) note(call, "invalid container handle");
  return c;
}

}  // namespace

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

extern "C" {

int daos_cont_create(daos_handle_t poh, uuid_t* uuid, daos_prop_t* cont_prop, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      return create(poh, nullptr, cont_prop, uuid, current_call());
    });
  });
}

int daos_cont_create_with_label(daos_handle_t poh, const char* label, daos_prop_t* cont_prop,
                                uuid_t* uuid, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      if (label == nullptr) {
        note(current_call(), "label is NULL");
        return -DER_INVAL;
      }
      return create(poh, label, cont_prop, uuid, current_call());
    });
  });
}

int daos_cont_open(daos_handle_t poh, const char* cont, unsigned int flags, daos_handle_t* coh,
                   daos_cont_info_t* info, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto p = Registry::get().pool(poh);
      if (!p) {
        note(current_call(), "invalid pool handle");
        return -DER_NO_HDL;
      }
      const unsigned mode = flags & DAOS_COO_IO_BASE_MASK;
      if (cont == nullptr || coh == nullptr ||
          (mode != DAOS_COO_RO && mode != DAOS_COO_RW && mode != DAOS_COO_EX) ||
          (flags & ~DAOS_COO_MASK)) {
        note(current_call(), "cont and coh must be set, flags one of DAOS_COO_RO/RW/EX");
        return -DER_INVAL;
      }
      if (mode != DAOS_COO_RO && pool_read_only(*p)) return refuse_read_only("pool");
      auto c = p->pool->cont_open(cont);
      if (!c.ok()) return fail_der(current_call(), c.status());
      auto impl = std::make_shared<ContImpl>();
      impl->pool = p;
      impl->cont = std::move(c).value();
      impl->flags = flags;
      if (info != nullptr) {
        *info = daos_cont_info_t{};
        std::memcpy(info->ci_uuid, impl->cont->uuid().b, sizeof info->ci_uuid);
      }
      *coh = Registry::get().add_cont(std::move(impl));
      return 0;
    });
  });
}

int daos_cont_close(daos_handle_t coh, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      return Registry::get().take_cont(coh) ? 0
                                            : (note(current_call(), "invalid handle"), -DER_NO_HDL);
    });
  });
}

int daos_cont_destroy(daos_handle_t poh, const char* cont, int force, daos_event_t* ev) {
  (void)force;
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto p = Registry::get().pool(poh);
      if (!p) return -DER_NO_HDL;
      if (cont == nullptr) return -DER_INVAL;
      if (pool_read_only(*p)) return refuse_read_only("pool");
      return fail_der(current_call(), p->pool->cont_destroy(cont));
    });
  });
}

int daos_cont_query(daos_handle_t coh, daos_cont_info_t* info, daos_prop_t* cont_prop,
                    daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (info != nullptr) {
        *info = daos_cont_info_t{};
        std::memcpy(info->ci_uuid, c->cont->uuid().b, sizeof info->ci_uuid);
      }
      if (cont_prop == nullptr) return 0;
      Status st = c->cont->refresh();
      if (!st.ok()) return fail_der(current_call(), st);
      return query_daos_props(c->cont->props(), cont_prop);
    });
  });
}

int daos_cont_set_prop(daos_handle_t coh, daos_prop_t* prop, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (c->flags & DAOS_COO_RO) return refuse_read_only("container");
      return fail_der(current_call(), set_daos_props(*c->cont, prop));
    });
  });
}

int daos_cont_local2global(daos_handle_t coh, d_iov_t* glob) {
  return guard_der(__func__, [&]() -> int {
    auto c = cont_or_note(coh, current_call());
    if (!c) return -DER_NO_HDL;
    const auto& pu = c->pool->pool->map().pool_uuid;
    const auto& cu = c->cont->uuid();
    Writer w;
    w.u32(kContGlobMagic).u32(kGlobVersion).bytes(pu.b, sizeof pu.b).bytes(cu.b, sizeof cu.b);
    w.u32(c->flags);
    return export_global(w.buf(), glob, -DER_TRUNC, -DER_INVAL);
  });
}

int daos_cont_global2local(daos_handle_t poh, d_iov_t glob, daos_handle_t* coh) {
  return guard_der(__func__, [&]() -> int {
    auto p = Registry::get().pool(poh);
    if (!p) return -DER_NO_HDL;
    if (coh == nullptr || glob.iov_buf == nullptr || glob.iov_len > glob.iov_buf_len)
      return -DER_INVAL;
    Reader r(glob.iov_buf, glob.iov_len);
    uint32_t magic = 0, version = 0, flags = 0;
    objstore::Uuid pu, cu;
    if (!r.u32(&magic) || magic != kContGlobMagic || !r.u32(&version) || version != kGlobVersion ||
        !r.bytes(pu.b, sizeof pu.b) || !r.bytes(cu.b, sizeof cu.b) || !r.u32(&flags) || !r.done()) {
      note(current_call(), "not a serialized container handle");
      return -DER_INVAL;
    }
    if (pu != p->pool->map().pool_uuid) {
      note(current_call(), "the container handle belongs to pool " + pu.to_string());
      return -DER_INVAL;
    }
    auto c = p->pool->cont_open(cu.to_string());
    if (!c.ok()) return fail_der(current_call(), c.status());
    auto impl = std::make_shared<ContImpl>();
    impl->pool = p;
    impl->cont = std::move(c).value();
    impl->flags = flags;
    *coh = Registry::get().add_cont(std::move(impl));
    return 0;
  });
}

int daos_cont_list_attr(daos_handle_t coh, char* buffer, size_t* size, daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (size == nullptr) return -DER_INVAL;
      auto names = c->cont->attr_list();
      if (!names.ok()) return fail_der(current_call(), names.status());
      std::string all;
      for (const auto& n : names.value()) all.append(n).push_back('\0');
      if (buffer != nullptr && *size > 0)
        std::memcpy(buffer, all.data(), std::min(*size, all.size()));
      *size = all.size();
      return 0;
    });
  });
}

int daos_cont_get_attr(daos_handle_t coh, int n, char const* const names[], void* const values[],
                       size_t sizes[], daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (n <= 0 || names == nullptr || sizes == nullptr) return -DER_INVAL;
      for (int i = 0; i < n; ++i) {
        if (names[i] == nullptr || *names[i] == '\0') return -DER_INVAL;
        auto v = c->cont->attr_get(names[i]);
        if (!v.ok()) return fail_der(current_call(), v.status());
        if (values != nullptr && values[i] != nullptr)
          std::memcpy(values[i], v->data(), std::min(sizes[i], v->size()));
        sizes[i] = v->size();
      }
      return 0;
    });
  });
}

int daos_cont_set_attr(daos_handle_t coh, int n, char const* const names[],
                       void const* const values[], size_t const sizes[], daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (n <= 0 || names == nullptr || values == nullptr || sizes == nullptr) return -DER_INVAL;
      if (c->flags & DAOS_COO_RO) return refuse_read_only("container");
      for (int i = 0; i < n; ++i)
        if (names[i] == nullptr || *names[i] == '\0' ||
            std::strlen(names[i]) > DAOS_ATTR_NAME_MAX || values[i] == nullptr || sizes[i] == 0) {
          note(current_call(), "attribute " + std::to_string(i) + ": empty name or value");
          return -DER_INVAL;
        }
      for (int i = 0; i < n; ++i) {
        Status st =
            c->cont->attr_set(names[i], std::string(static_cast<const char*>(values[i]), sizes[i]));
        if (!st.ok()) return fail_der(current_call(), st);
      }
      return 0;
    });
  });
}

int daos_cont_del_attr(daos_handle_t coh, int n, char const* const names[], daos_event_t* ev) {
  return guard_der(__func__, [&]() -> int {
    return run_with_event(ev, -DER_INVAL, [&]() -> int {
      auto c = cont_or_note(coh, current_call());
      if (!c) return -DER_NO_HDL;
      if (n <= 0 || names == nullptr) return -DER_INVAL;
      if (c->flags & DAOS_COO_RO) return refuse_read_only("container");
      for (int i = 0; i < n; ++i) {
        if (names[i] == nullptr) return -DER_INVAL;
        Status st = c->cont->attr_del(names[i]);
        if (!st.ok()) return fail_der(current_call(), st);
      }
      return 0;
    });
  });
}

}  // extern "C"

#include "edaos/objstore/pool_map.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "common/codec.hpp"

namespace edaos::objstore {

namespace {
constexpr char kMagic[4] = {'E', 'D', 'P', 'M'};
constexpr uint16_t kFormatVersion = 1;
constexpr size_t kMaxEngines = 1u << 20;
constexpr size_t kMaxName = 1u << 20;  // label, domain name

Status format_error(const std::string& what) { return Status(EDAOS_FORMAT, "pool map: " + what); }
}  // namespace

uint32_t PoolMap::num_domains() const {
  std::vector<uint32_t> d;
  d.reserve(engines.size());
  for (const auto& e : engines) d.push_back(e.domain);
  std::sort(d.begin(), d.end());
  return static_cast<uint32_t>(std::unique(d.begin(), d.end()) - d.begin());
}

uint32_t PoolMap::num_targets() const {
  uint32_t n = 0;
  for (const auto& e : engines) n += e.ntargets;
  return n;
}

uint32_t PoolMap::num_up() const {
  uint32_t n = 0;
  for (const auto& e : engines) n += e.state == EngineState::kUp ? 1 : 0;
  return n;
}

Status PoolMap::validate() const {
  if (engines.empty()) return Status(EDAOS_NOENGINE, "pool map has no engines");
  for (size_t i = 0; i < engines.size(); ++i) {
    const EngineInfo& e = engines[i];
    if (e.id != i)
      return Status(EDAOS_INVAL, "pool map: engine at index " + std::to_string(i) + " has id " +
                                     std::to_string(e.id) + " (ids must equal their index)");
    if (e.ntargets == 0)
      return Status(EDAOS_INVAL, "pool map: engine " + std::to_string(i) + " has no targets");
    if (e.state != EngineState::kUp && e.state != EngineState::kDown)
      return Status(EDAOS_INVAL, "pool map: engine " + std::to_string(i) + " has unknown state " +
                                     std::to_string(static_cast<unsigned>(e.state)));
  }
  return Status::OK();
}

PoolMap PoolMap::uniform(uint32_t domains, uint32_t engines_per_domain, uint32_t targets) {
  PoolMap m;
  for (uint32_t d = 0; d < domains; ++d)
    for (uint32_t j = 0; j < engines_per_domain; ++j) {
      EngineInfo e;
      e.id = m.num_engines();
      e.domain = d;
      e.domain_name = "node" + std::to_string(d);
      e.ntargets = targets;
      m.engines.push_back(e);
    }
  return m;
}

std::string PoolMap::encode() const {
  codec::Encoder w;
  codec::frame_begin(&w, kMagic, kFormatVersion);
  w.u32(version);
  w.bytes(pool_uuid.b, 16);
  w.str32(label);
  w.u32(num_engines());
  for (const auto& e : engines) {
    w.u32(e.id);
    w.u32(e.domain);
    w.u32(e.ntargets);
    w.u8(static_cast<uint8_t>(e.state));
    w.str32(e.domain_name);
  }
  codec::frame_end(&w);
  return w.take();
}

Result<PoolMap> PoolMap::decode(const std::string& bytes) {
  std::string_view payload;
  EDAOS_RETURN_IF_ERROR(
      codec::frame_open(bytes, kMagic, kFormatVersion, "pool map", "a pool map", &payload));
  codec::Decoder r(payload);
  PoolMap m;
  uint32_t n = 0;
  if (!r.u32(&m.version) || !r.bytes(m.pool_uuid.b, 16) || !r.str32(&m.label, kMaxName) ||
      !r.u32(&n))
    return format_error("truncated payload header");
  if (n > kMaxEngines || n > r.remaining() / 13)
    return format_error("engine count " + std::to_string(n) + " does not fit the payload");
  m.engines.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    EngineInfo& e = m.engines[i];
    uint8_t st = 0;
    if (!r.u32(&e.id) || !r.u32(&e.domain) || !r.u32(&e.ntargets) || !r.u8(&st) ||
        !r.str32(&e.domain_name, kMaxName))
      return format_error("truncated at engine " + std::to_string(i));
    e.state = static_cast<EngineState>(st);
  }
  if (r.remaining() != 0)
    return format_error(std::to_string(r.remaining()) + " unexpected bytes after the engines");
  if (n > 0) {  // an empty map is legal on disk (a pool being created); it just cannot place
    if (Status st = m.validate(); !st.ok()) return Status(EDAOS_FORMAT, st.message());
  }
  return m;
}

}  // namespace edaos::objstore

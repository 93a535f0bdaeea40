// The pool map: which engines make up a pool, which node (domain) each runs on, and how many
// targets each has. Placement is a pure function of (pool map, object ID), so every client and
// every later job that reads the same map finds the same shards.
//
// Persisted with encode()/decode() (format below, and in objstore/src/placement/README.md).
//
// Plain values: copyable, no I/O, no global state; the member functions are pure, so a const
// map may be read from several threads. The map a pool connection holds is Pool::map().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

// Values are stored in the pool map: never renumber.
enum class EngineState : uint8_t { kUp = 0, kDown = 1 };

struct EDAOS_CXX_API EngineInfo {
  uint32_t id = 0;          // == index in PoolMap::engines
  uint32_t domain = 0;      // node (fault domain above the engine); engines of a node share it
  std::string domain_name;  // node name, e.g. the host name of the server rank
  uint32_t ntargets = 1;    // targets of this engine, >= 1
  EngineState state = EngineState::kUp;
};

struct EDAOS_CXX_API PoolMap {
  uint32_t version = 1;  // bumped on every change (engine state, ...)
  Uuid pool_uuid;
  std::string label;
  std::vector<EngineInfo> engines;  // index == id

  uint32_t num_engines() const { return static_cast<uint32_t>(engines.size()); }
  uint32_t num_domains() const;  // distinct `domain` values
  uint32_t num_targets() const;  // sum of ntargets
  uint32_t num_up() const;       // engines in state kUp

  // EDAOS_NOENGINE for a map without engines; EDAOS_INVAL naming the engine when an id does not
  // equal its index or an engine has no targets.
  Status validate() const;

  // A map of `domains` nodes with `engines_per_domain` engines of `targets` targets each, all
  // up; domain d is named "node<d>", engine ids are domain-major. For tests and tools.
  static PoolMap uniform(uint32_t domains, uint32_t engines_per_domain, uint32_t targets);

  // Versioned binary form (all integers little-endian):
  //   "EDPM" magic | u16 format version (1) | u16 flags (0) | u32 payload length |
  //   payload | u32 CRC-32 (IEEE) of every preceding byte
  //   payload v1: u32 map version | 16 B pool uuid | str label | u32 n |
  //               n x { u32 id | u32 domain | u32 ntargets | u8 state | str domain_name }
  //   str = u32 length + bytes.
  // Never fails (validate() first to store only a sound map).
  std::string encode() const;
  // EDAOS_FORMAT naming what is wrong: truncated input, bad magic, unknown format version,
  // checksum mismatch, trailing bytes, or engines that fail validate() (an empty engine list
  // decodes fine).
  static Result<PoolMap> decode(const std::string& bytes);
};

}  // namespace edaos::objstore

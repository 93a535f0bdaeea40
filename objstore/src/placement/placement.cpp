// Placement algorithm (see objstore/src/placement/README.md, "Placement algorithm").
//
// 1. Engines are grouped by domain (sorted by domain id, then engine id).
// 2. A per-object seed is mixed from the oid. A start engine is drawn uniformly over all
//    engines with jump consistent hash (Lamping & Veach); its domain goes first, the other
//    domains follow in a seeded Fisher-Yates order, and each domain's engine list is rotated
//    by a seeded offset (the start domain's by the start engine's position).
// 3. Those per-domain lists are interleaved round-robin into a cyclic sequence of all engines.
//    With equal-sized domains any window of <= num_domains consecutive positions holds
//    distinct domains, also across the wrap.
// 4. Shard s (group-major) wants sequence position s mod E. If that engine is already in the
//    group, or its domain is over the group's domain "level" (1 + the least use among domains
//    that still have a free engine), or it has already been used in this lap, the next
//    acceptable engine in sequence order is taken instead. For equal domains this never
//    triggers; it repairs unequal domain sizes.
// 5. The k-th shard of the object on engine e uses target (off_e + k) mod ntargets_e, with
//    off_e drawn by jump hash from (seed, e).

#include "placement/placement.hpp"

#include <algorithm>
#include <numeric>

#include "common/codec.hpp"
#include "common/log.hpp"
#include "placement/wire_internal.hpp"

namespace edaos::objstore {

const ShardLoc& Layout::at(uint32_t group, uint32_t idx) const {
  EDAOS_ASSERT(group < ngroups && idx < group_size);
  return shards[static_cast<size_t>(group) * group_size + idx];
}

uint32_t Layout::group_of(uint64_t h) const {
  return ngroups <= 1 ? 0 : static_cast<uint32_t>(h % ngroups);
}

uint32_t group_count(const ObjClass& oc, const PoolMap& map) {
  if (oc.groups != 0) return oc.groups;
  const uint32_t gsz = std::max<uint32_t>(1, oc.group_size());
  return std::min(kMaxGroups, std::max<uint32_t>(1, map.num_targets() / gsz));
}

namespace {

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n >= 1 (multiply-shift on the high 32 bits; bias < n / 2^32).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
};

}  // namespace

Result<Layout> compute_layout(const PoolMap& map, ObjectId oid) {
  const ObjClass oc = oclass_of(oid);
  if (Status st = oc.validate(); !st.ok())
    return Status(EDAOS_INVAL, "object " + oid.to_string() + ": " + st.message());
  EDAOS_RETURN_IF_ERROR(validate_for_pool(oc, map));

  const uint32_t E = map.num_engines();
  Layout lo;
  lo.oclass = oc;
  lo.group_size = oc.group_size();
  lo.ngroups = group_count(oc, map);
  const uint32_t gsz = lo.group_size;

  // 1. engines by (domain, id); domain index per engine.
  std::vector<uint32_t> by_dom(E);
  std::iota(by_dom.begin(), by_dom.end(), 0u);
  auto dom_less = [&](uint32_t a, uint32_t b) {
    return map.engines[a].domain < map.engines[b].domain;
  };
  if (!std::is_sorted(by_dom.begin(), by_dom.end(), dom_less))  // usual maps are domain-major
    std::stable_sort(by_dom.begin(), by_dom.end(), dom_less);
  std::vector<uint32_t> dom_first, dom_size, dom_of(E);
  for (uint32_t i = 0; i < E; ++i) {
    if (i == 0 || map.engines[by_dom[i]].domain != map.engines[by_dom[i - 1]].domain) {
      dom_first.push_back(i);
      dom_size.push_back(0);
    }
    ++dom_size.back();
    dom_of[by_dom[i]] = static_cast<uint32_t>(dom_first.size() - 1);
  }
  const auto D = static_cast<uint32_t>(dom_first.size());

  // 2. seed, start engine, domain order, per-domain rotation.
  const uint64_t seed = wire::mix64(oid.lo ^ wire::mix64(oid.hi));
  SplitMix rng{seed};
  const uint32_t start_pos = wire::jump_hash(seed, E);  // position in by_dom
  const uint32_t start_dom = dom_of[by_dom[start_pos]];
  std::vector<uint32_t> dom_order(D);
  std::iota(dom_order.begin(), dom_order.end(), 0u);
  std::swap(dom_order[0], dom_order[start_dom]);
  for (uint32_t i = D; i > 2; --i) {  // shuffle dom_order[1..D-1]
    const uint32_t j = 1 + rng.below(i - 1);
    std::swap(dom_order[i - 1], dom_order[j]);
  }
  std::vector<uint32_t> rot(D);
  for (uint32_t d = 0; d < D; ++d)
    rot[d] = d == start_dom ? start_pos - dom_first[d] : wire::jump_hash(rng.next(), dom_size[d]);

  // 3. round-robin interleave into the cyclic sequence.
  std::vector<uint32_t> seq;
  seq.reserve(E);
  for (uint32_t round = 0; seq.size() < E; ++round)
    for (uint32_t d : dom_order)
      if (round < dom_size[d]) seq.push_back(by_dom[dom_first[d] + (rot[d] + round) % dom_size[d]]);

  // 4. engines for every shard.
  lo.shards.resize(static_cast<size_t>(lo.ngroups) * gsz);
  std::vector<uint32_t> used(E, 0);     // shards of this object per engine
  std::vector<uint8_t> in_group(E, 0);  // engine already in the current group
  std::vector<uint32_t> dom_cnt(D, 0);  // shards of the current group per domain
  for (uint32_t g = 0; g < lo.ngroups; ++g) {
    const size_t base = static_cast<size_t>(g) * gsz;
    for (uint32_t i = 0; i < gsz; ++i) {
      const uint64_t s = base + i;
      const auto pos = static_cast<uint32_t>(s % E);
      const auto lap = static_cast<uint32_t>(s / E);
      // With D >= gsz some domain is still unused at every slot, so the level is 1.
      uint32_t level = 1;
      if (D < gsz) {
        level = UINT32_MAX;
        for (uint32_t d = 0; d < D; ++d)
          if (dom_cnt[d] < dom_size[d]) level = std::min(level, dom_cnt[d] + 1);
      }
      uint32_t pick = UINT32_MAX;
      for (int pass = 0; pass < 2 && pick == UINT32_MAX; ++pass)
        for (uint32_t q = 0; q < E; ++q) {
          const uint32_t e = seq[(pos + q) % E];
          if (in_group[e] || dom_cnt[dom_of[e]] >= level) continue;
          if (pass == 0 && used[e] > lap) continue;  // prefer engines not yet used this lap
          pick = e;
          break;
        }
      EDAOS_ASSERT(pick != UINT32_MAX);  // gsz <= E guarantees a free engine
      in_group[pick] = 1;
      ++dom_cnt[dom_of[pick]];
      lo.shards[base + i].engine = pick;
      lo.shards[base + i].target = used[pick]++;  // visit index; mapped to a target below
    }
    for (uint32_t i = 0; i < gsz; ++i) {
      const uint32_t e = lo.shards[base + i].engine;
      in_group[e] = 0;
      dom_cnt[dom_of[e]] = 0;
    }
  }

  // 5. targets: k-th visit of engine e -> (off_e + k) mod ntargets_e.
  std::vector<uint32_t> off(E, UINT32_MAX);
  for (ShardLoc& sl : lo.shards) {
    const uint32_t nt = map.engines[sl.engine].ntargets;
    if (off[sl.engine] == UINT32_MAX)
      off[sl.engine] =
          wire::jump_hash(wire::mix64(seed ^ (0x5851F42D4C957F2Dull * (sl.engine + 1ull))), nt);
    sl.target = static_cast<uint32_t>((static_cast<uint64_t>(off[sl.engine]) + sl.target) % nt);
  }
  return lo;
}

uint64_t dkey_hash(const void* key, size_t len) {
  const auto* p = static_cast<const uint8_t*>(key);
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64 offset basis
  for (size_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;  // FNV-1a 64 prime
  }
  return codec::fmix64(h);
}

}  // namespace edaos::objstore

// edaos-placement-bench: how fast compute_layout() runs and how evenly it spreads shards.
//
//   edaos-placement-bench [--domains N] [--engines N] [--targets N] [--objects N]
//                         [--oclass NAME]... [--seed N]
//
// For each object class (default: S1 RP_3G1 EC_2P1GX EC_16P3GX, skipping those the pool cannot
// hold) it computes layouts for --objects consecutive object IDs, reports layouts/s and
// shards/s, and prints per-engine and per-target load: min / mean / max, max/min ratio,
// coefficient of variation, and a histogram of engine loads relative to the mean.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "placement/placement.hpp"

using namespace edaos::objstore;

namespace {

struct Options {
  uint32_t domains = 8, engines = 2, targets = 8;
  uint64_t objects = 100000, seed = 1;
  std::vector<std::string> classes;
};

void usage() {
  std::fprintf(stderr,
               "usage: edaos-placement-bench [--domains N] [--engines N (per domain)] "
               "[--targets N (per engine)] [--objects N] [--oclass NAME]... [--seed N]\n");
}

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-h" || a == "--help") return false;
    if ((v = (a == "--domains" || a == "--engines" || a == "--targets" || a == "--objects" ||
              a == "--oclass" || a == "--seed")
                 ? next()
                 : nullptr) == nullptr) {
      std::fprintf(stderr, "bad or incomplete argument '%s'\n", a.c_str());
      return false;
    }
    const unsigned long long n = std::strtoull(v, nullptr, 10);
    if (a == "--domains") o->domains = static_cast<uint32_t>(n);
    if (a == "--engines") o->engines = static_cast<uint32_t>(n);
    if (a == "--targets") o->targets = static_cast<uint32_t>(n);
    if (a == "--objects") o->objects = n;
    if (a == "--seed") o->seed = n;
    if (a == "--oclass") o->classes.push_back(v);
  }
  if (o->classes.empty()) o->classes = {"S1", "RP_3G1", "EC_2P1GX", "EC_16P3GX"};
  return o->domains > 0 && o->engines > 0 && o->targets > 0 && o->objects > 0;
}

struct Stats {
  double min, mean, max, cv;
};
Stats stats(const std::vector<uint64_t>& v) {
  Stats s{1e300, 0, 0, 0};
  for (uint64_t x : v) {
    s.min = std::min(s.min, static_cast<double>(x));
    s.max = std::max(s.max, static_cast<double>(x));
    s.mean += static_cast<double>(x);
  }
  s.mean /= static_cast<double>(v.size());
  double var = 0;
  for (uint64_t x : v) var += (static_cast<double>(x) - s.mean) * (static_cast<double>(x) - s.mean);
  s.cv = s.mean > 0 ? std::sqrt(var / static_cast<double>(v.size())) / s.mean : 0;
  return s;
}

void print_stats(const char* what, const std::vector<uint64_t>& v) {
  const Stats s = stats(v);
  std::printf("  %-8s min %.0f  mean %.1f  max %.0f  max/min %.3f  cv %.4f\n", what, s.min, s.mean,
              s.max, s.min > 0 ? s.max / s.min : INFINITY, s.cv);
}

// Histogram of loads relative to the mean, in 2% buckets from -10% to +10% (clamped).
void print_histogram(const std::vector<uint64_t>& v) {
  const Stats s = stats(v);
  if (s.mean <= 0) return;
  const int kBuckets = 11;
  std::vector<int> h(kBuckets, 0);
  for (uint64_t x : v) {
    const double dev = (static_cast<double>(x) - s.mean) / s.mean * 100.0;
    int b = static_cast<int>(std::lround(dev / 2.0)) + kBuckets / 2;
    h[static_cast<size_t>(std::clamp(b, 0, kBuckets - 1))]++;
  }
  const int peak = *std::max_element(h.begin(), h.end());
  std::printf("  engine load vs mean:\n");
  for (int b = 0; b < kBuckets; ++b) {
    const int pct = (b - kBuckets / 2) * 2;
    const int bar = peak ? h[static_cast<size_t>(b)] * 50 / peak : 0;
    std::printf("    %s%+3d%% %5d |%s\n", b == 0 ? "<=" : (b == kBuckets - 1 ? ">=" : "  "), pct,
                h[static_cast<size_t>(b)], std::string(static_cast<size_t>(bar), '#').c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_args(argc, argv, &o)) {
    usage();
    return 2;
  }
  const PoolMap map = PoolMap::uniform(o.domains, o.engines, o.targets);
  std::printf("pool: %u domains x %u engines x %u targets = %u engines, %u targets; %llu objects\n",
              o.domains, o.engines, o.targets, map.num_engines(), map.num_targets(),
              static_cast<unsigned long long>(o.objects));
  int rc = 0;
  for (const std::string& name : o.classes) {
    auto oc = ObjClass::parse(name);
    if (!oc.ok()) {
      std::fprintf(stderr, "%s\n", oc.status().to_string().c_str());
      rc = 2;
      continue;
    }
    if (edaos::Status st = validate_for_pool(*oc, map); !st.ok()) {
      std::printf("\n%s: skipped (%s)\n", oc->name().c_str(), st.message().c_str());
      continue;
    }
    std::vector<uint64_t> per_engine(map.num_engines(), 0), per_target(map.num_targets(), 0);
    std::vector<uint32_t> first_target(map.num_engines(), 0);
    for (uint32_t e = 1; e < map.num_engines(); ++e)
      first_target[e] = first_target[e - 1] + map.engines[e - 1].ntargets;
    uint64_t shards = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t n = 0; n < o.objects; ++n) {
      const ObjectId oid = make_oid(*oc, ObjType::kArray, o.seed, n);
      auto lo = compute_layout(map, oid);
      if (!lo.ok()) {
        std::fprintf(stderr, "%s\n", lo.status().to_string().c_str());
        return 1;
      }
      for (const ShardLoc& s : lo->shards) {
        ++per_engine[s.engine];
        ++per_target[first_target[s.engine] + s.target];
      }
      shards += lo->shards.size();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n%s: %u groups x %u shards; %.0f layouts/s, %.2f M shards/s (%.3f s)\n",
                oc->name().c_str(), group_count(*oc, map), oc->group_size(),
                static_cast<double>(o.objects) / secs, static_cast<double>(shards) / secs / 1e6,
                secs);
    print_stats("engines", per_engine);
    print_stats("targets", per_target);
    print_histogram(per_engine);
  }
  return rc;
}

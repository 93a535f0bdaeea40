// Version consistency of one erasure-coded stripe: see stripe_versions.hpp.
#include "ec/stripe_versions.hpp"

#include <cinttypes>
#include <cstdio>

namespace edaos::objstore::ec {

namespace {

bool same(uint64_t a, uint64_t b) { return a == b || a == kAnyVersion || b == kAnyVersion; }

bool data_at(const CellVersions& c, uint64_t v) {
  for (uint32_t i = 0; i < c.n && i < 2; ++i)
    if (same(c.version[i], v)) return true;
  return false;
}

bool parity_encodes(const CellVersions& c, const std::vector<uint64_t>& w) {
  for (uint32_t i = 0; i < c.n && i < 2; ++i) {
    if (c.vec[i].size() != w.size()) continue;
    bool all = true;
    for (size_t j = 0; j < w.size() && all; ++j) all = same(c.vec[i][j], w[j]);
    if (all) return true;
  }
  return false;
}

StripeChoice evaluate(uint32_t k, uint32_t p, const std::vector<CellVersions>& cells,
                      const std::vector<uint64_t>& w) {
  StripeChoice c;
  c.versions = w;
  c.usable.assign(k + p, false);
  for (uint32_t i = 0; i < k + p; ++i) {
    const CellVersions& cell = cells[i];
    if (!cell.present) continue;
    bool ok = i < k ? data_at(cell, w[i]) : parity_encodes(cell, w);
    if (!ok) continue;
    c.usable[i] = true;
    c.nusable++;
    if (i < k) c.nusable_data++;
  }
  return c;
}

}  // namespace

bool choose_stripe_version(uint32_t k, uint32_t p, const std::vector<CellVersions>& cells,
                           StripeChoice* out) {
  if (cells.size() != static_cast<size_t>(k) + p || k == 0) return false;
  std::vector<std::vector<uint64_t>> candidates;
  bool all_data = true;
  for (uint32_t i = 0; i < k; ++i) all_data = all_data && cells[i].present && cells[i].n > 0;
  if (all_data) {
    std::vector<uint64_t> w(k);
    for (uint32_t i = 0; i < k; ++i) w[i] = cells[i].version[0];
    candidates.push_back(std::move(w));
  }
  for (uint32_t j = 0; j < p; ++j) {
    const CellVersions& c = cells[k + j];
    if (!c.present) continue;
    for (uint32_t v = 0; v < c.n && v < 2; ++v) {
      if (c.vec[v].size() != k) continue;
      bool seen = false;
      for (const auto& w : candidates) seen = seen || w == c.vec[v];
      if (!seen) candidates.push_back(c.vec[v]);
    }
  }
  if (candidates.empty()) return false;
  StripeChoice best;
  bool have = false;
  for (const auto& w : candidates) {
    StripeChoice c = evaluate(k, p, cells, w);
    if (!have || c.nusable > best.nusable ||
        (c.nusable == best.nusable && c.nusable_data > best.nusable_data)) {
      best = std::move(c);
      have = true;
    }
  }
  *out = std::move(best);
  return true;
}

std::string describe_stripe_versions(uint32_t k, const std::vector<CellVersions>& cells) {
  std::string s;
  char buf[64];
  for (size_t i = 0; i < cells.size(); ++i) {
    const CellVersions& c = cells[i];
    if (!s.empty()) s += ' ';
    if (i < k)
      std::snprintf(buf, sizeof buf, "d%zu", i);
    else
      std::snprintf(buf, sizeof buf, "p%zu", i - k);
    s += buf;
    if (!c.present) {
      s += " -";
      continue;
    }
    for (uint32_t v = 0; v < c.n && v < 2; ++v) {
      s += v ? "|" : " ";
      if (i < k) {
        std::snprintf(buf, sizeof buf, "%" PRIx64, c.version[v]);
        s += buf;
      } else {
        s += '[';
        for (size_t j = 0; j < c.vec[v].size(); ++j) {
          std::snprintf(buf, sizeof buf, "%s%" PRIx64, j ? "," : "", c.vec[v][j]);
          s += buf;
        }
        s += ']';
      }
    }
  }
  return s;
}

}  // namespace edaos::objstore::ec

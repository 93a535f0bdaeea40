// Codec unit tests: both backends against an independent scalar oracle, incremental parity
// updates, every (or a sample of every) erasure pattern, argument checks, instance sharing,
// and the decode-plan LRU.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <tuple>

#include "ec/codec.hpp"
#include "ec/gf256.hpp"
#include "unit_ec_support.hpp"

#if EDAOS_HAVE_ISAL
#include <isa-l/erasure_code.h>
#endif

namespace edaos::objstore::ec {
namespace {

using testing::SplitMix64;
using testing::Stripe;

std::vector<Backend> backends() {
  std::vector<Backend> b{Backend::kReference};
  if (isal_available()) b.push_back(Backend::kIsal);
  return b;
}

std::shared_ptr<const Codec> make(int k, int p, Backend b, size_t cache = 64) {
  CodecOptions o;
  o.backend = b;
  o.decode_cache_entries = cache;
  auto r = Codec::create(k, p, o);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.value();
}

// Scalar oracle: parity straight from the definition, one byte at a time.
std::vector<std::vector<uint8_t>> oracle_parity(const Codec& c, Stripe& s) {
  std::vector<std::vector<uint8_t>> out(static_cast<size_t>(c.p()), std::vector<uint8_t>(s.len, 0));
  for (int j = 0; j < c.p(); j++) {
    for (size_t b = 0; b < s.len; b++) {
      uint8_t acc = 0;
      for (int i = 0; i < c.k(); i++) acc ^= gf::mul(c.coef(j, i), s.cell(i)[b]);
      out[static_cast<size_t>(j)][b] = acc;
    }
  }
  return out;
}

// All subsets of {0..m-1} with 1..maxsize elements, as bitmasks.
void subsets(int m, int maxsize, int start, uint64_t cur, int size, std::vector<uint64_t>* out) {
  if (size > 0) out->push_back(cur);
  if (size == maxsize) return;
  for (int i = start; i < m; i++)
    subsets(m, maxsize, i + 1, cur | (uint64_t{1} << i), size + 1, out);
}

// Erasure patterns with 1..p cells: all of them when there are few, else every single
// erasure plus a fixed random sample of larger ones.
std::vector<uint64_t> patterns(int k, int p, size_t budget, uint64_t seed) {
  const int m = k + p;
  std::vector<uint64_t> all;
  subsets(m, p, 0, 0, 0, &all);
  if (all.size() <= budget) return all;
  std::vector<uint64_t> out;
  for (int i = 0; i < m; i++) out.push_back(uint64_t{1} << i);
  SplitMix64 rng(seed);
  while (out.size() < budget) {
    const int n = 2 + static_cast<int>(rng.below(static_cast<uint64_t>(std::max(1, p - 1))));
    uint64_t mask = 0;
    while (__builtin_popcountll(mask) < std::min(n, p))
      mask |= uint64_t{1} << rng.below(static_cast<uint64_t>(m));
    out.push_back(mask);
  }
  // Always include "all parity lost" and "first p data cells lost".
  out.push_back(((uint64_t{1} << p) - 1) << k);
  out.push_back((uint64_t{1} << std::min(p, k)) - 1);
  return out;
}

// Copies `truth` into `s`, scribbles over the cells in `mask`, decodes, and checks every cell.
void expect_decodes(const Codec& c, Stripe& s, const std::vector<std::vector<uint8_t>>& truth,
                    uint64_t mask) {
  const int m = c.k() + c.p();
  bool present[kMaxK + kMaxP] = {};
  for (int i = 0; i < m; i++) {
    present[i] = !(mask & (uint64_t{1} << i));
    if (present[i]) {
      std::memcpy(s.cell(i), truth[static_cast<size_t>(i)].data(), s.len);
    } else {
      std::memset(s.cell(i), 0xA5 ^ i, s.len);
    }
  }
  Status st = c.decode(s.data(), present, s.len);
  ASSERT_TRUE(st.ok()) << st.to_string();
  for (int i = 0; i < m; i++) {
    ASSERT_EQ(0, std::memcmp(s.cell(i), truth[static_cast<size_t>(i)].data(), s.len))
        << c.k() << "+" << c.p() << " len " << s.len << " mask 0x" << std::hex << mask << std::dec
        << " cell " << i << " backend " << backend_name(c.backend());
  }
}

using Param = std::tuple<std::pair<int, int>, size_t>;

class CodecP : public ::testing::TestWithParam<Param> {
 protected:
  int k() const { return std::get<0>(GetParam()).first; }
  int p() const { return std::get<0>(GetParam()).second; }
  size_t len() const { return std::get<1>(GetParam()); }
  uint64_t seed() const { return (uint64_t(k()) << 40) ^ (uint64_t(p()) << 32) ^ len(); }
};

TEST_P(CodecP, EncodeMatchesOracleOnEveryBackend) {
  for (size_t misalign : {size_t{0}, size_t{3}}) {
    Stripe s(k(), p(), len(), misalign);
    SplitMix64 rng(seed() + misalign);
    s.fill_data(rng);
    std::vector<std::vector<uint8_t>> want;
    for (Backend b : backends()) {
      auto c = make(k(), p(), b);
      if (want.empty()) want = oracle_parity(*c, s);
      for (int j = 0; j < p(); j++) std::memset(s.cell(k() + j), 0x5A, len());
      c->encode(s.cdata(), s.parity(), len());
      for (int j = 0; j < p(); j++) {
        ASSERT_EQ(0, std::memcmp(s.cell(k() + j), want[static_cast<size_t>(j)].data(), len()))
            << "parity " << j << " backend " << backend_name(b) << " misalign " << misalign;
      }
    }
  }
}

TEST_P(CodecP, ApplyDeltaEqualsFullReencode) {
  for (Backend b : backends()) {
    auto c = make(k(), p(), b);
    Stripe s(k(), p(), len());
    SplitMix64 rng(seed() ^ 0xde17a);
    s.fill_data(rng);
    c->encode(s.cdata(), s.parity(), len());
    std::vector<uint8_t> fresh(len()), delta(len());
    // Several updates to different (and repeated) cells, applied incrementally.
    for (int round = 0; round < 4; round++) {
      const int idx = static_cast<int>(rng.below(static_cast<uint64_t>(k())));
      rng.fill(fresh.data(), len());
      for (size_t i = 0; i < len(); i++) delta[i] = s.cell(idx)[i] ^ fresh[i];
      std::memcpy(s.cell(idx), fresh.data(), len());
      c->apply_delta(idx, delta.data(), s.parity(), len());
    }
    Stripe full(k(), p(), len());
    for (int i = 0; i < k(); i++) std::memcpy(full.cell(i), s.cell(i), len());
    c->encode(full.cdata(), full.parity(), len());
    for (int j = 0; j < p(); j++) {
      ASSERT_EQ(0, std::memcmp(s.cell(k() + j), full.cell(k() + j), len()))
          << "parity " << j << " backend " << backend_name(b);
    }
  }
}

TEST_P(CodecP, DecodeRecoversErasurePatterns) {
  if (p() == 0) GTEST_SKIP() << "no parity";
  const size_t budget = len() > 8192 ? 16 : 400;
  const auto pats = patterns(k(), p(), budget, seed());
  for (Backend b : backends()) {
    auto c = make(k(), p(), b);
    Stripe s(k(), p(), len(), 1);
    SplitMix64 rng(seed() ^ 0xdec0de);
    s.fill_data(rng);
    c->encode(s.cdata(), s.parity(), len());
    const auto truth = s.snapshot();
    for (uint64_t mask : pats) {
      ASSERT_NO_FATAL_FAILURE(expect_decodes(*c, s, truth, mask));
    }
  }
}

TEST_P(CodecP, MoreThanPErasuresIsDegraded) {
  const int m = k() + p();
  if (p() + 1 > m) GTEST_SKIP();
  for (Backend b : backends()) {
    auto c = make(k(), p(), b);
    Stripe s(k(), p(), len());
    SplitMix64 rng(seed());
    s.fill_data(rng);
    c->encode(s.cdata(), s.parity(), len());
    const auto before = s.snapshot();
    bool present[kMaxK + kMaxP] = {};
    for (int i = 0; i < m; i++) present[i] = i > p();  // cells 0..p missing: p+1 of them
    Status st = c->decode(s.data(), present, len());
    ASSERT_EQ(EDAOS_DEGRADED, st.code());
    EXPECT_NE(std::string::npos,
              st.message().find(std::to_string(p() + 1) + " of " + std::to_string(m)))
        << st.message();
    EXPECT_EQ(before, s.snapshot()) << "cells must be untouched on failure";
  }
}

const std::vector<std::pair<int, int>> kShapes = {
    {1, 0}, {1, 1}, {1, 3},  {2, 1},  {2, 2},  {3, 3},  {4, 2},  {5, 1}, {6, 3},
    {8, 2}, {8, 3}, {10, 4}, {12, 6}, {16, 3}, {20, 5}, {32, 1}, {32, 6}};

INSTANTIATE_TEST_SUITE_P(Shapes, CodecP,
                         ::testing::Combine(::testing::ValuesIn(kShapes),
                                            ::testing::Values(1, 15, 31, 32, 33, 100, 4099,
                                                              65536 + 13)),
                         [](const ::testing::TestParamInfo<Param>& i) {
                           return std::to_string(std::get<0>(i.param).first) + "p" +
                                  std::to_string(std::get<0>(i.param).second) + "_" +
                                  std::to_string(std::get<1>(i.param));
                         });

// ---- matrix ------------------------------------------------------------------------------

TEST(EcMatrix, ParityRowsAreIsalCauchyOrAllOnes) {
  for (int k = 1; k <= kMaxK; k++) {
    for (int p = 1; p <= kMaxP; p++) {
      auto c = Codec::get(k, p);
      ASSERT_TRUE(c.ok());
      for (int j = 0; j < p; j++) {
        for (int i = 0; i < k; i++) {
          const uint8_t want = p == 1 ? 1 : gf::inv(static_cast<uint8_t>((k + j) ^ i));
          ASSERT_EQ(want, (*c)->coef(j, i)) << k << "+" << p << " row " << j << " col " << i;
        }
      }
#if EDAOS_HAVE_ISAL
      std::vector<uint8_t> isal(static_cast<size_t>((k + p) * k));
      if (p == 1) {
        gf_gen_rs_matrix(isal.data(), k + p, k);
      } else {
        gf_gen_cauchy1_matrix(isal.data(), k + p, k);
      }
      for (int j = 0; j < p; j++) {
        for (int i = 0; i < k; i++)
          ASSERT_EQ(isal[static_cast<size_t>((k + j) * k + i)], (*c)->coef(j, i));
      }
#endif
    }
  }
}

TEST(EcMatrix, GfArithmeticMatchesIsal) {
  for (int a = 0; a < 256; a++) {
    if (a != 0) {
      ASSERT_EQ(1, gf::mul(static_cast<uint8_t>(a), gf::inv(static_cast<uint8_t>(a))));
    }
#if EDAOS_HAVE_ISAL
    for (int b = 0; b < 256; b++) {
      ASSERT_EQ(gf_mul(static_cast<unsigned char>(a), static_cast<unsigned char>(b)),
                gf::mul(static_cast<uint8_t>(a), static_cast<uint8_t>(b)));
    }
    if (a != 0) {
      ASSERT_EQ(gf_inv(static_cast<unsigned char>(a)), gf::inv(static_cast<uint8_t>(a)));
    }
#endif
  }
}

// ---- argument checks, sharing ------------------------------------------------------------

TEST(EcCodec, GetRejectsOutOfRangeShapes) {
  for (auto [k, p] : std::vector<std::pair<int, int>>{{0, 1}, {33, 1}, {-1, 0}, {4, -1}, {4, 7}}) {
    auto r = Codec::get(k, p);
    ASSERT_FALSE(r.ok()) << k << "+" << p;
    EXPECT_EQ(EDAOS_INVAL, r.status().code());
    EXPECT_NE(std::string::npos, r.status().message().find(std::to_string(k < 1 || k > 32 ? k : p)))
        << r.status().message();
  }
}

TEST(EcCodec, IsalBackendUnavailableIsNotSupported) {
  if (isal_available()) GTEST_SKIP() << "ISA-L is compiled in";
  CodecOptions o;
  o.backend = Backend::kIsal;
  auto r = Codec::create(4, 2, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(EDAOS_NOTSUP, r.status().code());
}

TEST(EcCodec, AutoBackendPrefersIsal) {
  auto c = Codec::get(4, 2);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(isal_available() ? Backend::kIsal : Backend::kReference, (*c)->backend());
}

TEST(EcCodec, GetReturnsOneSharedInstancePerShape) {
  auto a = Codec::get(8, 2), b = Codec::get(8, 2), c = Codec::get(8, 3);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a.value().get(), b.value().get());
  EXPECT_NE(a.value().get(), c.value().get());
  EXPECT_EQ(8, (*a)->k());
  EXPECT_EQ(2, (*a)->p());
}

TEST(EcCodec, ConcurrentGetReturnsTheSameInstance) {
  constexpr int kThreads = 8;
  std::vector<std::vector<const Codec*>> seen(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&, t] {
      ready++;
      while (ready.load() < kThreads) std::this_thread::yield();
      // Different threads walk the shapes in different orders to collide on creation.
      for (int n = 0; n < 7 * 33; n++) {
        const int idx = (n * (2 * t + 1)) % (7 * 33);
        auto r = Codec::get(1 + idx % 32, idx / 33);
        seen[static_cast<size_t>(t)].push_back(r.ok() ? r.value().get() : nullptr);
      }
    });
  }
  for (auto& th : ts) th.join();
  for (int idx = 0; idx < 7 * 33; idx++) {
    std::set<const Codec*> ptrs;
    for (int t = 0; t < kThreads; t++) {
      for (int n = 0; n < 7 * 33; n++) {
        if ((n * (2 * t + 1)) % (7 * 33) == idx)
          ptrs.insert(seen[static_cast<size_t>(t)][static_cast<size_t>(n)]);
      }
    }
    ASSERT_EQ(1u, ptrs.size()) << "shape index " << idx;
    ASSERT_NE(nullptr, *ptrs.begin());
  }
}

TEST(EcCodec, ZeroParityIsANoOp) {
  auto c = Codec::get(4, 0);
  ASSERT_TRUE(c.ok());
  Stripe s(4, 0, 100);
  SplitMix64 rng(7);
  s.fill_data(rng);
  const auto before = s.snapshot();
  (*c)->encode(s.cdata(), s.parity(), 100);
  EXPECT_EQ(before, s.snapshot());
  bool present[4] = {true, true, true, true};
  EXPECT_TRUE((*c)->decode(s.data(), present, 100).ok());
  present[2] = false;
  EXPECT_EQ(EDAOS_DEGRADED, (*c)->decode(s.data(), present, 100).code());
}

TEST(EcCodec, ZeroLengthIsFine) {
  for (Backend b : backends()) {
    auto c = make(4, 2, b);
    uint8_t dummy[6] = {};
    uint8_t* cells[6];
    for (auto& q : cells) q = dummy;
    c->encode(cells, cells + 4, 0);
    c->apply_delta(1, dummy, cells + 4, 0);
    bool present[6] = {false, true, true, true, true, false};
    EXPECT_TRUE(c->decode(cells, present, 0).ok());
  }
}

TEST(EcCodec, XorParityWhenPIsOne) {
  for (Backend b : backends()) {
    auto c = make(5, 1, b);
    Stripe s(5, 1, 1000);
    SplitMix64 rng(11);
    s.fill_data(rng);
    c->encode(s.cdata(), s.parity(), 1000);
    for (size_t i = 0; i < 1000; i++) {
      uint8_t x = 0;
      for (int d = 0; d < 5; d++) x ^= s.cell(d)[i];
      ASSERT_EQ(x, s.cell(5)[i]);
    }
  }
}

// ---- decode-plan cache -------------------------------------------------------------------

TEST(EcDecodeCache, LruEvictsLeastRecentlyUsedAndStaysCorrect) {
  for (Backend b : backends()) {
    auto c = make(6, 3, b, /*cache=*/4);
    Stripe s(6, 3, 777);
    SplitMix64 rng(3);
    s.fill_data(rng);
    c->encode(s.cdata(), s.parity(), 777);
    const auto truth = s.snapshot();
    const uint64_t A = 0x1, B = 0x2, C = 0x6, D = 0x1c0, E = 0x101;
    auto run = [&](uint64_t m) { ASSERT_NO_FATAL_FAILURE(expect_decodes(*c, s, truth, m)); };
    auto stats = [&] { return c->decode_cache_stats(); };

    run(A), run(B), run(C), run(D);  // 4 misses, cache full: D C B A
    EXPECT_EQ(0u, stats().hits);
    EXPECT_EQ(4u, stats().misses);
    EXPECT_EQ(4u, stats().entries);
    EXPECT_EQ(4u, stats().capacity);
    run(A);  // hit; order A D C B
    EXPECT_EQ(1u, stats().hits);
    run(E);  // miss, evicts B (least recently used); order E A D C
    EXPECT_EQ(5u, stats().misses);
    EXPECT_EQ(1u, stats().evictions);
    EXPECT_EQ(4u, stats().entries);
    run(A), run(D), run(C);  // all still cached
    EXPECT_EQ(4u, stats().hits);
    EXPECT_EQ(5u, stats().misses);
    run(B);  // was evicted: miss again, evicts E; order B C D A
    EXPECT_EQ(6u, stats().misses);
    EXPECT_EQ(2u, stats().evictions);
    run(E);  // E was evicted: miss
    EXPECT_EQ(7u, stats().misses);
    run(B);  // still cached
    EXPECT_EQ(5u, stats().hits);
  }
}

TEST(EcDecodeCache, ZeroCapacityNeverCaches) {
  auto c = make(4, 2, Backend::kAuto, 0);
  Stripe s(4, 2, 64);
  SplitMix64 rng(5);
  s.fill_data(rng);
  c->encode(s.cdata(), s.parity(), 64);
  const auto truth = s.snapshot();
  for (int i = 0; i < 3; i++) expect_decodes(*c, s, truth, 0x3);
  EXPECT_EQ(0u, c->decode_cache_stats().hits);
  EXPECT_EQ(3u, c->decode_cache_stats().misses);
  EXPECT_EQ(0u, c->decode_cache_stats().entries);
}

TEST(EcDecodeCache, ConcurrentDecodesWithEvictionAreCorrect) {
  for (Backend b : backends()) {
    auto c = make(8, 3, b, /*cache=*/3);
    Stripe ref(8, 3, 2048);
    SplitMix64 rng(9);
    ref.fill_data(rng);
    c->encode(ref.cdata(), ref.parity(), 2048);
    const auto truth = ref.snapshot();
    const auto pats = patterns(8, 3, 1000, 1);
    std::atomic<int> failures{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++) {
      ts.emplace_back([&, t] {
        Stripe s(8, 3, 2048);
        for (size_t n = static_cast<size_t>(t); n < pats.size(); n += 3) {
          const uint64_t mask = pats[n];
          bool present[11] = {};
          for (int i = 0; i < 11; i++) {
            present[i] = !(mask & (uint64_t{1} << i));
            if (present[i]) {
              std::memcpy(s.cell(i), truth[static_cast<size_t>(i)].data(), 2048);
            } else {
              std::memset(s.cell(i), 0, 2048);
            }
          }
          if (!c->decode(s.data(), present, 2048).ok() || s.snapshot() != truth) failures++;
        }
      });
    }
    for (auto& th : ts) th.join();
    EXPECT_EQ(0, failures.load()) << backend_name(b);
    EXPECT_LE(c->decode_cache_stats().entries, 3u);
    EXPECT_GT(c->decode_cache_stats().evictions, 0u);
  }
}

}  // namespace
}  // namespace edaos::objstore::ec

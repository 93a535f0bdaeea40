// Golden corpora for the erasure code and the checksums (STYLE.md section 7, after Ceph's
// ceph_erasure_code_non_regression --create/--check).
//
// test/golden/ec/<k>p<p>_<len>.bin holds the p parity cells (parity 0 first, each len bytes)
// of a stripe whose data cell i is `len` bytes of SplitMix64 output seeded with
// golden_seed(k, len, i). test/golden/ec/crc.txt holds checksums of fixed inputs. Every build
// checks that both backends reproduce these bytes and that decoding recovers them: a change
// to the matrix, the field or a kernel that would make old parity unreadable fails here.
//
// Regenerate (only for an intentional, documented format change):
//   EDAOS_GOLDEN_CREATE=1 test_objstore_ec_unit --gtest_filter='EcGolden.Create'
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "ec/checksum.hpp"
#include "ec/codec.hpp"
#include "unit_ec_support.hpp"

namespace edaos::objstore::ec {
namespace {

using testing::SplitMix64;
using testing::Stripe;

struct Shape {
  int k, p;
};
const Shape kShapes[] = {{2, 1}, {2, 2}, {4, 2}, {8, 2}, {8, 3}, {16, 3}};
const size_t kLens[] = {31, 512, 4099};

uint64_t golden_seed(int k, size_t len, int cell) {
  return 0xEDA05EC000000000ull ^ (uint64_t(k) << 32) ^ (uint64_t(len) << 8) ^ uint64_t(cell);
}

std::string parity_path(int k, int p, size_t len) {
  return testing::golden_dir() + "/" + std::to_string(k) + "p" + std::to_string(p) + "_" +
         std::to_string(len) + ".bin";
}

void fill_golden_data(Stripe& s) {
  for (int i = 0; i < s.k; i++) {
    SplitMix64 rng(golden_seed(s.k, s.len, i));
    rng.fill(s.cell(i), s.len);
  }
}

bool creating() {
  const char* v = std::getenv("EDAOS_GOLDEN_CREATE");
  return v != nullptr && std::string(v) == "1";
}

std::vector<Backend> backends() {
  std::vector<Backend> b{Backend::kReference};
  if (isal_available()) b.push_back(Backend::kIsal);
  return b;
}

// crc.txt inputs: "check" is ASCII 123456789; "prng:<hex>" is SplitMix64 bytes from that seed.
struct CrcCase {
  std::string input;
  size_t len;
};
std::vector<uint8_t> crc_input(const CrcCase& c) {
  if (c.input == "check")
    return std::vector<uint8_t>({'1', '2', '3', '4', '5', '6', '7', '8', '9'});
  std::vector<uint8_t> v(c.len);
  SplitMix64 rng(std::stoull(c.input.substr(5), nullptr, 16));
  rng.fill(v.data(), v.size());
  return v;
}
const std::pair<CsumType, const char*> kCrcTypes[] = {
    {CsumType::kCrc32, "crc32"}, {CsumType::kCrc32c, "crc32c"}, {CsumType::kCrc64, "crc64"}};
const uint64_t kCrcSeeds[] = {0, 0x0123456789ABCDEFull};

std::vector<CrcCase> crc_cases() {
  std::vector<CrcCase> v{{"check", 9}};
  for (size_t n : {0, 1, 7, 8, 63, 4099, 65536}) v.push_back({"prng:5eed", n});
  return v;
}

TEST(EcGolden, Create) {
  if (!creating()) GTEST_SKIP() << "set EDAOS_GOLDEN_CREATE=1 to rewrite test/golden/ec";
  auto ref = [](int k, int p) {
    CodecOptions o;
    o.backend = Backend::kReference;  // the reference backend defines the bytes
    return Codec::create(k, p, o).value();
  };
  for (const Shape& sh : kShapes) {
    for (size_t len : kLens) {
      Stripe s(sh.k, sh.p, len);
      fill_golden_data(s);
      ref(sh.k, sh.p)->encode(s.cdata(), s.parity(), len);
      std::ofstream f(parity_path(sh.k, sh.p, len), std::ios::binary | std::ios::trunc);
      ASSERT_TRUE(f) << parity_path(sh.k, sh.p, len);
      for (int j = 0; j < sh.p; j++) {
        f.write(reinterpret_cast<const char*>(s.cell(sh.k + j)), static_cast<std::streamsize>(len));
      }
    }
  }
  std::ofstream f(testing::golden_dir() + "/crc.txt", std::ios::trunc);
  ASSERT_TRUE(f);
  f << "# edaos checksum corpus (unit_ec_golden.cpp): <type> <input> <len> <seed> <value>, hex.\n"
       "# input \"check\" = ASCII 123456789; \"prng:<hex>\" = SplitMix64 bytes from that seed.\n";
  for (const auto& [t, name] : kCrcTypes) {
    for (const CrcCase& c : crc_cases()) {
      const auto in = crc_input(c);
      for (uint64_t seed : kCrcSeeds) {
        char line[160];
        std::snprintf(line, sizeof line, "%s %s %zu %" PRIx64 " %" PRIx64 "\n", name,
                      c.input.c_str(), in.size(), seed,
                      csum_compute_with(Backend::kReference, t, in.data(), in.size(), seed));
        f << line;
      }
    }
  }
}

class EcGoldenP : public ::testing::TestWithParam<std::tuple<Shape, size_t>> {};

TEST_P(EcGoldenP, EncodeReproducesAndDecodeRecovers) {
  if (creating()) GTEST_SKIP() << "creating";
  const auto [sh, len] = GetParam();
  const int m = sh.k + sh.p;
  std::ifstream f(parity_path(sh.k, sh.p, len), std::ios::binary);
  ASSERT_TRUE(f) << "missing " << parity_path(sh.k, sh.p, len)
                 << " (regenerate: EDAOS_GOLDEN_CREATE=1, see unit_ec_golden.cpp)";
  std::vector<uint8_t> golden((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
  ASSERT_EQ(static_cast<size_t>(sh.p) * len, golden.size());

  for (Backend b : backends()) {
    SCOPED_TRACE(backend_name(b));
    CodecOptions o;
    o.backend = b;
    auto c = Codec::create(sh.k, sh.p, o).value();
    Stripe s(sh.k, sh.p, len);
    fill_golden_data(s);
    c->encode(s.cdata(), s.parity(), len);
    for (int j = 0; j < sh.p; j++) {
      ASSERT_EQ(0, std::memcmp(s.cell(sh.k + j), golden.data() + static_cast<size_t>(j) * len, len))
          << "parity " << j << " differs from " << parity_path(sh.k, sh.p, len);
    }
    const auto truth = s.snapshot();

    // Erasure patterns: every single erasure; p erasures exhaustively when there are at most
    // 200 such patterns, else 64 sampled ones plus the all-parity and first-data patterns.
    std::vector<uint64_t> pats;
    for (int i = 0; i < m; i++) pats.push_back(uint64_t{1} << i);
    std::vector<uint64_t> pmasks;
    for (uint64_t mask = 0; mask < (uint64_t{1} << m); mask++) {
      if (__builtin_popcountll(mask) == sh.p) pmasks.push_back(mask);
    }
    if (pmasks.size() <= 200) {
      pats.insert(pats.end(), pmasks.begin(), pmasks.end());
    } else {
      SplitMix64 rng(golden_seed(sh.k, len, 99));
      for (int n = 0; n < 64; n++) pats.push_back(pmasks[rng.below(pmasks.size())]);
      pats.push_back(((uint64_t{1} << sh.p) - 1) << sh.k);
      pats.push_back((uint64_t{1} << sh.p) - 1);
    }
    bool present[kMaxK + kMaxP] = {};
    for (uint64_t mask : pats) {
      for (int i = 0; i < m; i++) {
        present[i] = !(mask & (uint64_t{1} << i));
        if (present[i]) {
          std::memcpy(s.cell(i), truth[static_cast<size_t>(i)].data(), len);
        } else {
          std::memset(s.cell(i), 0xEE, len);
        }
      }
      Status st = c->decode(s.data(), present, len);
      ASSERT_TRUE(st.ok()) << st.to_string();
      ASSERT_EQ(truth, s.snapshot()) << "mask 0x" << std::hex << mask;
    }

    // p+1 erasures cannot be rebuilt.
    for (int first = 0; first + sh.p + 1 <= m; first += sh.p + 1) {
      for (int i = 0; i < m; i++) present[i] = i < first || i > first + sh.p;
      Status st = c->decode(s.data(), present, len);
      EXPECT_EQ(EDAOS_DEGRADED, st.code()) << st.to_string();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, EcGoldenP,
                         ::testing::Combine(::testing::ValuesIn(kShapes),
                                            ::testing::ValuesIn(kLens)),
                         [](const ::testing::TestParamInfo<std::tuple<Shape, size_t>>& i) {
                           return std::to_string(std::get<0>(i.param).k) + "p" +
                                  std::to_string(std::get<0>(i.param).p) + "_" +
                                  std::to_string(std::get<1>(i.param));
                         });

TEST(EcGolden, ChecksumsReproduce) {
  if (creating()) GTEST_SKIP() << "creating";
  std::ifstream f(testing::golden_dir() + "/crc.txt");
  ASSERT_TRUE(f) << "missing " << testing::golden_dir() << "/crc.txt";
  std::string line;
  int checked = 0;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string type, input, seed_hex, value_hex;
    size_t len = 0;
    ASSERT_TRUE(in >> type >> input >> len >> seed_hex >> value_hex) << line;
    auto t = parse_csum_type(type);
    ASSERT_TRUE(t.ok()) << line;
    const auto data = crc_input({input, len});
    ASSERT_EQ(len, data.size()) << line;
    const uint64_t seed = std::stoull(seed_hex, nullptr, 16);
    const uint64_t want = std::stoull(value_hex, nullptr, 16);
    for (Backend b : backends()) {
      EXPECT_EQ(want, csum_compute_with(b, t.value(), data.data(), len, seed))
          << line << " backend " << backend_name(b);
    }
    checked++;
  }
  EXPECT_EQ(3 * 8 * 2, checked);
}

}  // namespace
}  // namespace edaos::objstore::ec

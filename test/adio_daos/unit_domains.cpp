// File domains of two-phase I/O (adio_daos/src/coll/file_domains.cpp): they cover the access
// range exactly, do not overlap, are in order, and with a stripe every inner boundary is a
// multiple of it (so aggregators write whole EC stripes).
#include <gtest/gtest.h>

#include "coll/coll_internal.hpp"

using edaos::adio::coll::calc_file_domains;

namespace {

void check(int64_t lo, int64_t hi, int nagg, int64_t stripe, int64_t min_fd) {
  std::vector<int64_t> fs, fe;
  calc_file_domains(lo, hi, nagg, stripe, min_fd, &fs, &fe);
  ASSERT_EQ(fs.size(), static_cast<size_t>(nagg));
  int64_t next = lo;
  for (int i = 0; i < nagg; ++i) {
    if (fe[i] < fs[i]) {  // empty domain: all later ones empty too
      for (int j = i; j < nagg; ++j) EXPECT_LT(fe[j], fs[j]) << i << " " << j;
      break;
    }
    EXPECT_EQ(fs[i], next) << "domain " << i;
    if (stripe > 0 && i > 0) {
      EXPECT_EQ(fs[i] % stripe, 0) << "domain " << i;
    }
    if (stripe > 0 && fe[i] != hi) {
      EXPECT_EQ((fe[i] + 1) % stripe, 0) << "domain " << i;
    }
    next = fe[i] + 1;
  }
  EXPECT_EQ(next, hi + 1);
}

}  // namespace

TEST(FileDomains, CoverAlignAndOrder) {
  for (int nagg : {1, 2, 3, 4, 7})
    for (int64_t stripe : {0, 4096, 8192, 3 * 131072})
      for (auto [lo, hi] : std::vector<std::pair<int64_t, int64_t>>{
               {0, 0}, {0, 99}, {5, 5000}, {4095, 4096}, {100000, 1 << 22}, {7, 9 * 131072 + 3}})
        for (int64_t mfd : {0, 65536}) check(lo, hi, nagg, stripe, mfd);
}

TEST(FileDomains, EvenSplitWithoutStripe) {
  std::vector<int64_t> fs, fe;
  calc_file_domains(0, 999, 4, 0, 0, &fs, &fe);
  EXPECT_EQ(fs, (std::vector<int64_t>{0, 250, 500, 750}));
  EXPECT_EQ(fe, (std::vector<int64_t>{249, 499, 749, 999}));
  // Stripe 256 over [10, 999]: 4 stripes, one per aggregator, first starts at 10.
  calc_file_domains(10, 999, 4, 256, 0, &fs, &fe);
  EXPECT_EQ(fs, (std::vector<int64_t>{10, 256, 512, 768}));
  EXPECT_EQ(fe, (std::vector<int64_t>{255, 511, 767, 999}));
}

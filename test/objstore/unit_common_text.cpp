// The base layer's text helpers (objstore/src/common/text.hpp) that the property and size
// parsers use: lower, split, all_digits, parse_u64 (trim and printable are covered through
// the hint grammars in test/hints).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/text.hpp"

namespace text = edaos::text;

TEST(Text, LowerIsAsciiOnly) {
  EXPECT_EQ(text::lower("EC_16P3GX KiB"), "ec_16p3gx kib");
  EXPECT_EQ(text::lower(std::string("\xc3\x89-Z", 4)), std::string("\xc3\x89-z", 4));
  EXPECT_EQ(text::lower(""), "");
}

TEST(Text, SplitKeepsEmptyPieces) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(text::split("a:1,b:2", ','), (V{"a:1", "b:2"}));
  EXPECT_EQ(text::split("a,,b", ','), (V{"a", "", "b"}));
  EXPECT_EQ(text::split("a,", ','), (V{"a", ""}));
  EXPECT_EQ(text::split(",a", ','), (V{"", "a"}));
  EXPECT_EQ(text::split("", ','), (V{""}));
  EXPECT_EQ(text::split("abc", ','), (V{"abc"}));
}

TEST(Text, ParseU64TakesDigitsOnlyAndRefusesOverflow) {
  uint64_t v = 7;
  EXPECT_TRUE(text::parse_u64("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(text::parse_u64("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_TRUE(text::parse_u64("000000000000000000000042", &v));  // leading zeros: no overflow
  EXPECT_EQ(v, 42u);
  v = 7;
  for (const char* bad : {"18446744073709551616", "99999999999999999999", "", "-1", "+1", " 1",
                          "1 ", "1.5", "0x10", "12a"}) {
    EXPECT_FALSE(text::parse_u64(bad, &v)) << bad;
    EXPECT_EQ(v, 7u) << bad;
  }
  EXPECT_TRUE(text::all_digits("0123456789"));
  EXPECT_FALSE(text::all_digits(""));
  EXPECT_FALSE(text::all_digits("1/"));
  EXPECT_FALSE(text::all_digits("1:"));
}

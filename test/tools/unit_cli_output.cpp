// The edaos tool's formatting against DAOS's: go-humanize Bytes (pool query sizes) and the
// txtfmt table/entity layouts (cases from DAOS's txtfmt tests, minus trailing blanks).
#include <gtest/gtest.h>

#include "cli.hpp"

using edaos::cli::format_entity;
using edaos::cli::format_si_bytes;
using edaos::cli::format_table;

TEST(CliOutput, SiBytesLikeHumanize) {
  EXPECT_EQ(format_si_bytes(0), "0 B");
  EXPECT_EQ(format_si_bytes(9), "9 B");
  EXPECT_EQ(format_si_bytes(10), "10 B");
  EXPECT_EQ(format_si_bytes(999), "999 B");
  EXPECT_EQ(format_si_bytes(1000), "1.0 kB");
  EXPECT_EQ(format_si_bytes(1500), "1.5 kB");
  EXPECT_EQ(format_si_bytes(6500000000ull), "6.5 GB");
  EXPECT_EQ(format_si_bytes(6000000000000ull), "6.0 TB");
  EXPECT_EQ(format_si_bytes(194000000000000ull), "194 TB");
  EXPECT_EQ(format_si_bytes(200000000000000ull), "200 TB");
  EXPECT_EQ(format_si_bytes(100000000000ull), "100 GB");
  EXPECT_EQ(format_si_bytes(18446744073709551615ull), "18 EB");
}

TEST(CliOutput, TableLikeTxtfmt) {
  EXPECT_EQ(format_table({"One", "Two", "Three"}, {{"1", "2", "3"}, {"4", "5", "6"}}),
            "One Two Three\n--- --- -----\n1   2   3\n4   5   6\n");
  EXPECT_EQ(format_table({"One", "Two"}, {{"1", "2"}, {"too darn long"}}),
            "One           Two\n---           ---\n1             2\ntoo darn long None\n");
  EXPECT_EQ(format_table({"One"}, {}), "One\n---\n");
  EXPECT_EQ(format_table({"Label", "UUID"}, {{"c", "u"}}, "  "),
            "  Label UUID\n  ----- ----\n  c     u\n");
}

TEST(CliOutput, EntityLikeTxtfmt) {
  EXPECT_EQ(format_entity({{"a", "b"}}), "a b\n");
  EXPECT_EQ(format_entity({{"a", "b"}, {"c", "d"}, {"bananas", "grapes"}}),
            "a       b\nc       d\nbananas grapes\n");
}

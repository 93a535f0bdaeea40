// The base layer's cb_config_list grammar, without the hints module on top (its full tables
// run through the hints wrapper in test/hints/unit_cb_config.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/cb_config.hpp"

namespace edaos {
namespace {

TEST(CbConfigBase, CleanValueLeavesAdjustedUntouched) {
  std::string why = "unchanged";
  auto list = parse_cb_config_list("nodeA:2,*:1", &why);
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  EXPECT_EQ(list->text, "nodeA:2,*:1");
  ASSERT_EQ(list->entries.size(), 2u);
  EXPECT_EQ(list->entries[0].host, "nodeA");
  EXPECT_EQ(list->entries[0].count, 2);
  EXPECT_TRUE(list->entries[1].wildcard);
  EXPECT_EQ(why, "unchanged");
}

TEST(CbConfigBase, SaysWhyAValueWasCleaned) {
  std::string why;
  auto quoted = parse_cb_config_list("'*:8'", &why);
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->text, "*:8");
  EXPECT_EQ(why, "quotes are not part of the cb_config_list grammar");
  why.clear();
  auto blanks = parse_cb_config_list(" nodeA : 2 ", &why);
  ASSERT_TRUE(blanks.ok());
  EXPECT_EQ(blanks->text, "nodeA:2");
  EXPECT_EQ(why, "blanks are not part of host names");
  EXPECT_TRUE(parse_cb_config_list(" nodeA ").ok());  // no out-parameter: still accepted
}

TEST(CbConfigBase, ErrorsQuoteTheValue) {
  auto bad = parse_cb_config_list("nodeA:1:2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), EDAOS_INVAL);
  EXPECT_EQ(bad.status().message(), "more than one ':' in an entry in \"nodeA:1:2\"");
  auto ctl = parse_cb_config_list("a\x01:x");
  ASSERT_FALSE(ctl.ok());
  EXPECT_NE(ctl.status().message().find("a\\x01:x"), std::string::npos) << ctl.status().message();
}

TEST(CbConfigBase, SelectsRanksAsRomio) {
  const std::vector<std::string> hosts = {"A", "B", "A", "B"};
  auto two = parse_cb_config_list("*:2");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(select_cb_ranks(*two, hosts, 4), (std::vector<int>{0, 2, 1, 3}));
  EXPECT_EQ(select_cb_ranks(*two, hosts, 3), (std::vector<int>{0, 2, 1}));
  auto first = parse_cb_config_list("*:*");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(select_cb_ranks(*first, hosts, 3), (std::vector<int>{0, 1, 2}));
  auto only_b = parse_cb_config_list("B:*,*:0");
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(select_cb_ranks(*only_b, hosts, 4), (std::vector<int>{1, 3}));
  EXPECT_TRUE(select_cb_ranks(*two, hosts, 0).empty());
  auto none = parse_cb_config_list("C:1");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(select_cb_ranks(*none, hosts, 4).empty());
}

}  // namespace
}  // namespace edaos

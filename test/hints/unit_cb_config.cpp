// cb_config_list: parsing table and aggregator selection table (ROMIO semantics).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edaos/hints/cb_config.hpp"
#include "unit_test_util.hpp"

namespace edaos::hints {
namespace {

struct ParseCase {
  const char* text;
  bool ok;
  const char* normalized;  // when ok
  size_t entries;
  bool adjusted;  // a kAdjusted warning is expected
};

class CbParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(CbParse, Grammar) {
  const ParseCase& c = GetParam();
  std::vector<Warning> ws;
  auto list = parse_cb_config_list(c.text, &ws);
  ASSERT_EQ(list.ok(), c.ok) << c.text << ": " << list.status().message();
  if (!c.ok) {
    EXPECT_EQ(list.status().code(), EDAOS_INVAL);
    return;
  }
  EXPECT_EQ(list->text, c.normalized);
  EXPECT_EQ(list->entries.size(), c.entries);
  EXPECT_EQ(ws.size(), c.adjusted ? 1u : 0u) << test::describe(ws);
}

const ParseCase kParseCases[] = {
    {"*:1", true, "*:1", 1, false},
    {"*:8", true, "*:8", 1, false},
    {"*:*", true, "*:*", 1, false},
    {"*:0", true, "*:0", 1, false},
    {"*", true, "*", 1, false},
    {"nodeA", true, "nodeA", 1, false},
    {"nodeA:2,nodeB:1", true, "nodeA:2,nodeB:1", 2, false},
    {"box12:30,*:0", true, "box12:30,*:0", 2, false},
    {"n01,n11,n21,n31,n41", true, "n01,n11,n21,n31,n41", 5, false},
    {"x1000c0s0b0n0.hostmgmt:4", true, "x1000c0s0b0n0.hostmgmt:4", 1, false},
    {"nodeA:1,", true, "nodeA:1,", 1, false},  // trailing comma, as ROMIO accepts
    {"nodeA:99999999999999", true, "nodeA:99999999999999", 1, false},
    {"\"*:8\"", true, "*:8", 1, true},  // quotes removed with a warning
    {"'*:8'", true, "*:8", 1, true},
    {" nodeA : 2 , nodeB ", true, "nodeA:2,nodeB", 2, true},
    {"", false, "", 0, false},
    {"   ", false, "", 0, false},
    {"\"\"", false, "", 0, false},
    {"\"\"\"*:8\"\"\"", false, "", 0, false},  // only one pair of quotes is removed
    {"node\"A:1", false, "", 0, false},
    {",nodeA", false, "", 0, false},
    {"nodeA,,nodeB", false, "", 0, false},
    {"*x:1", false, "", 0, false},
    {"**", false, "", 0, false},
    {"nodeA:", false, "", 0, false},
    {":2", false, "", 0, false},
    {"nodeA:1:2", false, "", 0, false},
    {"nodeA:-1", false, "", 0, false},
    {"nodeA:8x", false, "", 0, false},
    {"nodeA:**", false, "", 0, false},
    {"node A:1", false, "", 0, false},
};

INSTANTIATE_TEST_SUITE_P(Table, CbParse, ::testing::ValuesIn(kParseCases));

TEST(CbParse, EntriesAndCounts) {
  auto list = parse_cb_config_list("nodeA:3,*:*,nodeB,*:0");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->entries.size(), 4u);
  EXPECT_FALSE(list->entries[0].wildcard);
  EXPECT_EQ(list->entries[0].host, "nodeA");
  EXPECT_EQ(list->entries[0].count, 3);
  EXPECT_TRUE(list->entries[1].wildcard);
  EXPECT_EQ(list->entries[1].count, CbConfigEntry::kAll);
  EXPECT_EQ(list->entries[2].count, 1);  // missing ":N" means 1
  EXPECT_EQ(list->entries[3].count, 0);
  EXPECT_FALSE(list->first_ranks);
  EXPECT_TRUE(parse_cb_config_list("*:*")->first_ranks);
  EXPECT_FALSE(parse_cb_config_list("*:*,")->first_ranks);
}

TEST(CbParse, QuoteWarningNamesKeyAndValue) {
  std::vector<Warning> ws;
  auto list = parse_cb_config_list("\"*:8\"", &ws, "romio_edaos_server_list");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].kind, WarningKind::kAdjusted);
  EXPECT_EQ(ws[0].key, "romio_edaos_server_list");
  EXPECT_EQ(ws[0].used, "*:8");
  EXPECT_NE(ws[0].message.find("\"\"*:8\"\""), std::string::npos) << ws[0].message;
}

struct SelectCase {
  const char* name;
  const char* list;
  std::vector<std::string> hosts;
  int cb_nodes;
  std::vector<int> expect;
};

class CbSelect : public ::testing::TestWithParam<SelectCase> {};

TEST_P(CbSelect, RomioOrder) {
  const SelectCase& c = GetParam();
  auto list = parse_cb_config_list(c.list);
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(select_aggregators(*list, c.hosts, c.cb_nodes), c.expect) << c.list;
}

const std::vector<std::string> kAABB = {"A", "A", "B", "B"};
const std::vector<std::string> kABAB = {"A", "B", "A", "B"};
const std::vector<std::string> kN123 = {"n1", "n2", "n2", "n3"};
const std::vector<std::string> kBAAB = {"B", "A", "A", "B"};
const std::vector<std::string> k3x4 = {"a", "a", "a", "a", "b", "b", "b", "b", "c", "c", "c", "c"};

const SelectCase kSelectCases[] = {
    {"OnePerNode", "*:1", kAABB, 4, {0, 2}},
    {"TwoPerNode", "*:2", kAABB, 4, {0, 1, 2, 3}},
    {"TwoPerNodeInterleaved", "*:2", kABAB, 4, {0, 2, 1, 3}},
    {"CbNodesLimitsWildcard", "*:2", kABAB, 3, {0, 2, 1}},
    {"CbNodesOne", "*:1", kAABB, 1, {0}},
    {"CbNodesZeroOrLess", "*:1", kAABB, 0, {}},
    {"EightPerNodeTakesAll", "*:8", kAABB, 4, {0, 1, 2, 3}},
    {"AllIsRankOrder", "*:*", kABAB, 4, {0, 1, 2, 3}},
    {"AllLimited", "*:*", kABAB, 3, {0, 1, 2}},
    {"AllWithCommaGroupsByHost", "*:*,", kABAB, 4, {0, 2, 1, 3}},
    {"WildcardCountStarIsCbNodes", "*:*,A:1", kAABB, 2, {0, 1}},
    {"DefaultCountIsOne", "*", kAABB, 4, {0, 2}},
    {"NamedHost", "B:1", kAABB, 4, {2}},
    {"NamedHostMissingCount", "B", kAABB, 4, {2}},
    {"NamedHostTwo", "B:2", kAABB, 4, {2, 3}},
    {"NamedHostAll", "B:*", kAABB, 4, {2, 3}},
    {"NamedHostAllLimited", "a:*", k3x4, 3, {0, 1, 2}},
    {"NamedThenWildcard", "B:1,*:1", kAABB, 4, {2, 0}},
    {"NamedTwiceFirstWins", "B:1,B:2", kAABB, 4, {2}},
    {"WildcardTwice", "*:1,*:1", kAABB, 4, {0, 2}},
    {"StarZeroAlone", "*:0", kAABB, 4, {}},
    {"NamedThenStarZero", "B:2,*:0", kAABB, 4, {2, 3}},
    {"StarZeroBlocksLater", "*:0,B:1", kAABB, 4, {}},
    {"UnknownHost", "nohost:1", kAABB, 4, {}},
    {"UnknownThenWildcard", "nohost:1,*:1", kAABB, 4, {0, 2}},
    {"HostZeroExcludes", "A:0,*:1", kAABB, 4, {2}},
    {"ThreeNodesOnePer", "*:1", kN123, 4, {0, 1, 3}},
    {"ThreeNodesTwoPer", "*:2", kN123, 4, {0, 1, 2, 3}},
    {"ThreeNodesNamed", "n2:1", kN123, 4, {1}},
    {"ThreeNodesLimit", "*:1", kN123, 2, {0, 1}},
    {"SplitHostRanks", "*:2", kBAAB, 4, {0, 3, 1, 2}},
    {"SplitHostOnePer", "*:1", kBAAB, 4, {0, 1}},
    {"NamedBeforeWildcardOrder", "A:1,*:1", kBAAB, 4, {1, 0}},
    {"BigNodes", "*:2", k3x4, 12, {0, 1, 4, 5, 8, 9}},
    {"BigNodesLimit", "*:2", k3x4, 5, {0, 1, 4, 5, 8}},
    {"CaseSensitiveNames", "b:1", kAABB, 4, {}},
    {"NoHosts", "*:1", {}, 4, {}},
};

INSTANTIATE_TEST_SUITE_P(Table, CbSelect, ::testing::ValuesIn(kSelectCases),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace edaos::hints

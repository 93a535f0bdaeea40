// ROMIO_HINTS grammar: table of texts -> pairs and warnings, and the checked-in hint files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edaos/hints/hintfile.hpp"
#include "unit_test_util.hpp"

namespace edaos::hints {
namespace {

using test::kinds;
using WK = WarningKind;

struct FileCase {
  const char* name;
  std::string text;
  KeyValues expect;
  std::vector<WK> warnings;
};

class HintFileTable : public ::testing::TestWithParam<FileCase> {};

TEST_P(HintFileTable, ParsesAsRomio) {
  const FileCase& c = GetParam();
  std::vector<Warning> ws;
  auto kv = parse_hint_file(c.text, &ws, "hints.txt");
  ASSERT_TRUE(kv.ok()) << kv.status().message();
  EXPECT_EQ(*kv, c.expect);
  EXPECT_EQ(kinds(ws), c.warnings) << test::describe(ws);
}

const FileCase kFileCases[] = {
    {"Empty", "", {}, {}},
    {"OnePair", "cb_buffer_size 1048576\n", {{"cb_buffer_size", "1048576"}}, {}},
    {"NoFinalNewline", "cb_nodes 2", {{"cb_nodes", "2"}}, {}},
    {"TabsAndBlanks", " \tcb_nodes \t 2 \t\n", {{"cb_nodes", "2"}}, {}},
    {"Crlf", "cb_nodes 2\r\nstriping_unit 4\r\n", {{"cb_nodes", "2"}, {"striping_unit", "4"}}, {}},
    {"BlankLines", "\n\n  \n\t\ncb_nodes 2\n\n", {{"cb_nodes", "2"}}, {}},
    {"Comment", "# cb_nodes 4\ncb_nodes 2\n", {{"cb_nodes", "2"}}, {}},
    {"CommentNoSpace", "#cb_nodes 4\n", {}, {}},
    {"IndentedComment", "   # cb_nodes 4 more words\n", {}, {}},
    {"KeyWithoutValue",
     "cb_nodes\ncb_buffer_size 8\n",
     {{"cb_buffer_size", "8"}},
     {WK::kMalformedLine}},
    {"ThreeWords", "cb_config_list *:2 extra\n", {}, {WK::kMalformedLine}},
    {"TrailingComment", "romio_cb_write enable # yes\n", {}, {WK::kMalformedLine}},
    {"DuplicateFirstWins",
     "ind_rd_buffer_size 49\nind_rd_buffer_size 60\n",
     {{"ind_rd_buffer_size", "49"}},
     {WK::kDuplicateKey}},
    {"DuplicateAfterMalformed",
     "cb_nodes\ncb_nodes 3\ncb_nodes 4\n",
     {{"cb_nodes", "3"}},
     {WK::kMalformedLine, WK::kDuplicateKey}},
    {"KeysAreCaseSensitive",
     "CB_NODES 2\ncb_nodes 3\n",
     {{"CB_NODES", "2"}, {"cb_nodes", "3"}},
     {}},
    {"ValuesKeptVerbatim",
     "cb_config_list \"*:8\"\nx ENABLE\n",
     {{"cb_config_list", "\"*:8\""}, {"x", "ENABLE"}},
     {}},
    {"NulEndsFile",
     std::string("cb_nodes 2\n") + '\0' + "cb_buffer_size 8\n",
     {{"cb_nodes", "2"}},
     {WK::kFile}},
    {"UnknownKeysKept", "romio_lustre_foo 1\n", {{"romio_lustre_foo", "1"}}, {}},
};

INSTANTIATE_TEST_SUITE_P(Grammar, HintFileTable, ::testing::ValuesIn(kFileCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(HintFile, WarningsNameFileLineAndKey) {
  std::vector<Warning> ws;
  auto kv = parse_hint_file("cb_nodes 1\n\ncb_nodes 2\nfoo\n", &ws, "/etc/h");
  ASSERT_TRUE(kv.ok());
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].origin, "/etc/h:3");
  EXPECT_EQ(ws[0].key, "cb_nodes");
  EXPECT_EQ(ws[0].value, "2");
  EXPECT_NE(ws[0].message.find("line 1"), std::string::npos) << ws[0].message;
  EXPECT_EQ(ws[1].origin, "/etc/h:4");
  EXPECT_NE(ws[1].message.find("\"foo\""), std::string::npos) << ws[1].message;
  EXPECT_EQ(to_string(ws[1]).rfind("edaos hints: /etc/h:4: ignoring malformed line", 0), 0u)
      << to_string(ws[1]);
}

TEST(HintFile, LargerThanRomioReadsIsWarnedNotDropped) {
  std::string text(5000, '\n');
  text += "cb_nodes 2\n";
  std::vector<Warning> ws;
  auto kv = parse_hint_file(text, &ws);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(*kv, (KeyValues{{"cb_nodes", "2"}}));
  EXPECT_EQ(kinds(ws), std::vector<WK>{WK::kFile});
}

TEST(HintFile, TooLargeIsAnError) {
  auto kv = parse_hint_file(std::string(kMaxHintFileBytes + 1, '\n'), nullptr);
  EXPECT_EQ(kv.status().code(), EDAOS_TOOBIG);
}

struct DataCase {
  const char* file;
  KeyValues expect;
  std::vector<WK> warnings;
};

class HintFileData : public ::testing::TestWithParam<DataCase> {};

TEST_P(HintFileData, CheckedInFile) {
  const DataCase& c = GetParam();
  std::vector<Warning> ws;
  auto kv = parse_hint_file(test::read_data(c.file), &ws, c.file);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(*kv, c.expect);
  EXPECT_EQ(kinds(ws), c.warnings) << test::describe(ws);
}

const DataCase kDataCases[] = {
    {"hintfile_seed_aurora.txt",
     {{"romio_cb_write", "enable"},
      {"romio_cb_read", "enable"},
      {"cb_buffer_size", "16777216"},
      {"cb_config_list", "*:8"},
      {"striping_unit", "2097152"}},
     {}},
    {"hintfile_comments.txt",
     {{"cb_buffer_size", "1048576"}, {"romio_ds_read", "disable"}, {"striping_unit", "65536"}},
     {}},
    {"hintfile_malformed.txt",
     {{"cb_buffer_size", "4194304"}, {"ind_rd_buffer_size", "1048576"}},
     {WK::kMalformedLine, WK::kMalformedLine, WK::kMalformedLine, WK::kMalformedLine}},
    {"hintfile_duplicates.txt",
     {{"ind_rd_buffer_size", "49"}, {"romio_no_indep_rw", "true"}, {"romio_cb_read", "enable"}},
     {WK::kDuplicateKey, WK::kDuplicateKey}},
};

INSTANTIATE_TEST_SUITE_P(Data, HintFileData, ::testing::ValuesIn(kDataCases), [](const auto& p) {
  std::string n = p.param.file;
  return n.substr(9, n.size() - 13);  // hintfile_<x>.txt -> <x>
});

}  // namespace
}  // namespace edaos::hints

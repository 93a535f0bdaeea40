// resolve(): precedence and every interaction as a table of (inputs -> effective hints).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "edaos/hints/registry.hpp"
#include "edaos/hints/resolve.hpp"
#include "unit_test_util.hpp"

namespace edaos::hints {
namespace {

using test::kinds;
using WK = WarningKind;

struct ResolveCase {
  const char* name;
  int nprocs;
  KeyValues file;
  KeyValues info;
  KeyValues expect;  // reported values; "<absent>" = not listed
  std::vector<WK> warnings;
  std::function<void(const EffectiveHints&)> check = nullptr;
  std::vector<std::string> hosts = {};
  Features features = {};
};

class ResolveTable : public ::testing::TestWithParam<ResolveCase> {};

TEST_P(ResolveTable, EffectiveHints) {
  const ResolveCase& c = GetParam();
  Inputs in;
  in.nprocs = c.nprocs;
  in.file = c.file;
  in.file_origin = "hints.txt";
  in.info = c.info;
  in.rank_hosts = c.hosts;
  in.features = c.features;
  EffectiveHints h = resolve(in);
  for (const auto& [k, v] : c.expect) {
    const std::string* got = h.find(k);
    if (v == "<absent>") {
      EXPECT_EQ(got, nullptr) << k << " should not be listed";
    } else {
      ASSERT_NE(got, nullptr) << k << " not listed";
      EXPECT_EQ(*got, v) << k;
    }
  }
  EXPECT_EQ(kinds(h.warnings), c.warnings) << test::describe(h.warnings);
  for (const Warning& w : h.warnings) EXPECT_FALSE(w.message.empty());
  if (c.check) c.check(h);
}

const ResolveCase kCases[] = {
    {"Defaults",
     4,
     {},
     {},
     {{"cb_buffer_size", "16777216"},
      {"romio_cb_read", "automatic"},
      {"romio_cb_write", "automatic"},
      {"cb_nodes", "4"},
      {"romio_no_indep_rw", "false"},
      {"ind_rd_buffer_size", "4194304"},
      {"ind_wr_buffer_size", "<absent>"},
      {"romio_ds_read", "automatic"},
      {"romio_ds_write", "disable"},
      {"striping_unit", "0"},
      {"striping_factor", "<absent>"},
      {"romio_min_fdomain_size", "<absent>"},
      {"cb_config_list", "*:1"},
      {"romio_daos_chunk_size", "0"},
      {"romio_daos_obj_class", "OC_UNKNOWN"},
      {"romio_edaos_obj_class", "OC_UNKNOWN"},
      {"romio_edaos_server_list", "*:1"},
      {"romio_filesystem_type", std::string(kEdaosFilesystemType)},
      {"romio_aggregator_list", "<absent>"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.cb_nodes, 4);
       EXPECT_EQ(h.cb_buffer_size, 16777216);
       EXPECT_EQ(h.ind_wr_buffer_size, 524288);
       EXPECT_FALSE(h.deferred_open);
       EXPECT_TRUE(h.aggregators.empty());
     }},
    {"FileOverridesDefault",
     4,
     {{"cb_buffer_size", "1048576"}},
     {},
     {{"cb_buffer_size", "1048576"}},
     {}},
    {"InfoOverridesFile",
     4,
     {{"cb_buffer_size", "1048576"}},
     {{"cb_buffer_size", "2097152"}},
     {{"cb_buffer_size", "2097152"}},
     {}},
    {"InvalidInfoHidesFileAndFallsBackToDefault",
     4,
     {{"cb_buffer_size", "1048576"}},
     {{"cb_buffer_size", "abc"}},
     {{"cb_buffer_size", "16777216"}},
     {WK::kInvalidValue},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.warnings[0].key, "cb_buffer_size");
       EXPECT_EQ(h.warnings[0].value, "abc");
       EXPECT_EQ(h.warnings[0].used, "16777216");
       EXPECT_EQ(h.warnings[0].origin, "MPI_Info");
       EXPECT_EQ(to_string(h.warnings[0]),
                 "edaos hints: ignoring invalid value \"abc\" for hint \"cb_buffer_size\" (from "
                 "MPI_Info): not an integer; using default \"16777216\"");
     }},
    {"SeedAuroraFile",
     64,
     {{"romio_cb_write", "enable"},
      {"romio_cb_read", "enable"},
      {"cb_buffer_size", "16777216"},
      {"cb_config_list", "*:8"},
      {"striping_unit", "2097152"}},
     {},
     {{"romio_cb_write", "enable"},
      {"romio_cb_read", "enable"},
      {"cb_buffer_size", "16777216"},
      {"cb_config_list", "*:8"},
      {"striping_unit", "2097152"},
      {"cb_nodes", "64"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.cb_read, Tristate::kEnable);
       EXPECT_EQ(h.cb_write, Tristate::kEnable);
       EXPECT_EQ(h.striping_unit, 2097152);
       EXPECT_EQ(h.cb_config_list, "*:8");
     }},
    // ROMIO's own syshints test: the file's romio_no_indep_rw=true forces cb_read back to
    // enable although MPI_Info said disable.
    {"RomioSyshintsTest",
     4,
     {{"romio_cb_read", "enable"}, {"ind_rd_buffer_size", "49"}, {"romio_no_indep_rw", "true"}},
     {{"romio_cb_read", "disable"}},
     {{"romio_cb_read", "enable"},
      {"romio_cb_write", "enable"},
      {"ind_rd_buffer_size", "49"},
      {"romio_no_indep_rw", "true"}},
     {WK::kOverridden},
     [](const EffectiveHints& h) {
       EXPECT_TRUE(h.no_indep_rw);
       EXPECT_TRUE(h.deferred_open);
       EXPECT_EQ(h.warnings[0].key, "romio_cb_read");
     }},
    {"NoIndepRwForcesCollectiveBuffering",
     4,
     {},
     {{"romio_no_indep_rw", "true"}},
     {{"romio_cb_read", "enable"}, {"romio_cb_write", "enable"}, {"romio_no_indep_rw", "true"}},
     {},
     [](const EffectiveHints& h) { EXPECT_TRUE(h.deferred_open); }},
    {"NoIndepRwOverridesWriteDisable",
     4,
     {},
     {{"romio_cb_write", "disable"}, {"romio_no_indep_rw", "TRUE"}},
     {{"romio_cb_write", "enable"}, {"romio_no_indep_rw", "TRUE"}},
     {WK::kOverridden}},
    {"NoIndepRwWithoutDeferredOpenSupport",
     4,
     {},
     {{"romio_no_indep_rw", "true"}},
     {{"romio_no_indep_rw", "true"}, {"romio_cb_write", "enable"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_TRUE(h.no_indep_rw);
       EXPECT_FALSE(h.deferred_open);
     },
     {},
     Features{false, false}},
    {"NoIndepRwFalse",
     4,
     {},
     {{"romio_no_indep_rw", "false"}, {"romio_cb_write", "enable"}},
     {{"romio_no_indep_rw", "false"}, {"romio_cb_write", "enable"}, {"romio_cb_read", "automatic"}},
     {},
     [](const EffectiveHints& h) { EXPECT_FALSE(h.deferred_open); }},
    {"CbDisableKeepsNoIndepFalse",
     4,
     {},
     {{"romio_cb_read", "disable"}},
     {{"romio_cb_read", "disable"}, {"romio_no_indep_rw", "false"}},
     {}},
    {"NoIndepRwInvalid",
     4,
     {},
     {{"romio_no_indep_rw", "yes"}},
     {{"romio_no_indep_rw", "false"}},
     {WK::kInvalidValue}},
    {"EnumSpellings",
     4,
     {},
     {{"romio_cb_read", "ENABLE"}, {"romio_cb_write", "requested"}, {"romio_ds_read", "AUTOMATIC"}},
     {{"romio_cb_read", "ENABLE"}, {"romio_cb_write", "enable"}, {"romio_ds_read", "AUTOMATIC"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.cb_read, Tristate::kEnable);
       EXPECT_EQ(h.cb_write, Tristate::kEnable);
       EXPECT_EQ(h.ds_read, Tristate::kAutomatic);
     }},
    {"EnumMixedCaseIsInvalid",
     4,
     {{"romio_cb_write", "disable"}},
     {{"romio_cb_write", "Enable"}},
     {{"romio_cb_write", "automatic"}},
     {WK::kInvalidValue}},
    {"CbNodesWithinRange",
     4,
     {},
     {{"cb_nodes", "2"}},
     {{"cb_nodes", "2"}},
     {},
     [](const EffectiveHints& h) { EXPECT_EQ(h.cb_nodes, 2); }},
    {"CbNodesCappedAtNprocs", 4, {}, {{"cb_nodes", "8"}}, {{"cb_nodes", "4"}}, {WK::kAdjusted}},
    {"CbNodesZero", 4, {{"cb_nodes", "0"}}, {}, {{"cb_nodes", "4"}}, {WK::kAdjusted}},
    {"CbNodesNegative", 4, {}, {{"cb_nodes", "-3"}}, {{"cb_nodes", "4"}}, {WK::kAdjusted}},
    {"CbNodesGarbage", 4, {}, {{"cb_nodes", "2x"}}, {{"cb_nodes", "4"}}, {WK::kInvalidValue}},
    {"CbNodesHuge",
     4,
     {},
     {{"cb_nodes", "99999999999999999999"}},
     {{"cb_nodes", "4"}},
     {WK::kInvalidValue}},
    {"BufferSizesValidated",
     4,
     {},
     {{"cb_buffer_size", "0"}, {"ind_rd_buffer_size", "-1"}, {"ind_wr_buffer_size", "16M"}},
     {{"cb_buffer_size", "16777216"}, {"ind_rd_buffer_size", "4194304"}},
     {WK::kInvalidValue, WK::kInvalidValue, WK::kInvalidValue}},
    {"BlanksAroundValuesIgnored",
     4,
     {},
     {{"cb_buffer_size", " 1024 "}},
     {{"cb_buffer_size", "1024"}},
     {}},
    {"DsWriteForcedOff",
     4,
     {},
     {{"romio_ds_write", "enable"}, {"ind_wr_buffer_size", "1024"}},
     {{"romio_ds_write", "disable"}, {"ind_wr_buffer_size", "<absent>"}},
     {WK::kOverridden},
     [](const EffectiveHints& h) { EXPECT_EQ(h.ind_wr_buffer_size, 1024); }},
    {"DsWriteWithDriverSupport",
     4,
     {},
     {{"romio_ds_write", "enable"}},
     {{"romio_ds_write", "enable"}, {"ind_wr_buffer_size", "524288"}},
     {},
     nullptr,
     {},
     Features{true, true}},
    {"QuotedValue",
     4,
     {{"romio_cb_write", "'enable'"}},
     {},
     {{"romio_cb_write", "enable"}},
     {WK::kAdjusted}},
    {"QuotedCbConfigList",
     4,
     {{"cb_config_list", "\"*:2\""}},
     {},
     {{"cb_config_list", "*:2"}},
     {WK::kAdjusted},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.warnings[0].origin, "hints.txt");
       EXPECT_NE(h.warnings[0].message.find("hints.txt"), std::string::npos);
     }},
    {"InvalidCbConfigList",
     4,
     {},
     {{"cb_config_list", "*x:1"}},
     {{"cb_config_list", "*:1"}},
     {WK::kInvalidValue}},
    {"UserCbConfigListListedInProcessingOrder",
     4,
     {},
     {{"striping_factor", "4"}, {"cb_config_list", "*:2"}, {"romio_min_fdomain_size", "4096"}},
     {{"striping_factor", "4"}, {"cb_config_list", "*:2"}, {"romio_min_fdomain_size", "4096"}},
     {},
     [](const EffectiveHints& h) {
       std::vector<std::string> tail;
       for (size_t i = h.info.size() - 4; i < h.info.size(); ++i) tail.push_back(h.info[i].first);
       EXPECT_EQ(tail, (std::vector<std::string>{"cb_config_list", "romio_min_fdomain_size",
                                                 "striping_factor", "romio_filesystem_type"}));
     }},
    {"UnknownKeysIgnored",
     4,
     {{"romio_lustre_co_ratio", "2"}},
     {{"access_style", "read_once"}},
     {{"romio_lustre_co_ratio", "<absent>"}, {"access_style", "<absent>"}},
     {WK::kUnknownKey, WK::kUnknownKey}},
    {"ReportedKeysCannotBeSet",
     4,
     {},
     {{"romio_aggregator_list", "0 1"}, {"romio_filesystem_type", "UFS"}},
     {{"romio_aggregator_list", "<absent>"},
      {"romio_filesystem_type", std::string(kEdaosFilesystemType)}},
     {WK::kUnknownKey, WK::kUnknownKey}},
    {"DaosDriverNames",
     4,
     {},
     {{"romio_daos_obj_class", "EC_4P2GX"}, {"romio_daos_chunk_size", "2097152"}},
     {{"romio_daos_obj_class", "EC_4P2GX"},
      {"romio_daos_chunk_size", "2097152"},
      {"romio_edaos_obj_class", "EC_4P2GX"},
      {"romio_edaos_chunk_size", "2097152"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.obj_class, "EC_4P2GX");
       EXPECT_EQ(h.chunk_size, 2097152);
     }},
    {"EdaosNamesWin",
     4,
     {{"romio_edaos_obj_class", "OC_RP_3G1"}},
     {{"romio_daos_obj_class", "EC_4P2GX"},
      {"romio_edaos_chunk_size", "1048576"},
      {"romio_daos_chunk_size", "2097152"},
      {"romio_edaos_cell_size", "65536"}},
     {{"romio_edaos_obj_class", "OC_RP_3G1"},
      {"romio_edaos_chunk_size", "1048576"},
      {"romio_edaos_cell_size", "65536"}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.obj_class, "OC_RP_3G1");
       EXPECT_EQ(h.chunk_size, 1048576);
       EXPECT_EQ(h.cell_size, 65536);
     }},
    {"ObjectClassValidated",
     4,
     {},
     {{"romio_edaos_obj_class", "EC_4Q2"}},
     {{"romio_edaos_obj_class", "OC_UNKNOWN"}},
     {WK::kInvalidValue}},
    {"CellSizeMustDivideChunk",
     4,
     {},
     {{"romio_edaos_chunk_size", "1000000"}, {"romio_edaos_cell_size", "65536"}},
     {{"romio_edaos_cell_size", "0"}},
     {WK::kInvalidValue}},
    {"ServerListValidated",
     4,
     {{"romio_edaos_server_list", "n1:2,*:0"}},
     {},
     {{"romio_edaos_server_list", "n1:2,*:0"}},
     {},
     [](const EffectiveHints& h) { EXPECT_EQ(h.server_list, "n1:2,*:0"); }},
    {"AggregatorsFromHosts",
     4,
     {{"cb_config_list", "*:1"}},
     {},
     {{"cb_nodes", "2"}, {"romio_aggregator_list", "0 2 "}},
     {},
     [](const EffectiveHints& h) {
       EXPECT_EQ(h.aggregators, (std::vector<int>{0, 2}));
       EXPECT_EQ(h.server_ranks, (std::vector<int>{0, 2}));
       EXPECT_EQ(h.cb_nodes, 2);
       EXPECT_EQ(h.info.back().first, "romio_aggregator_list");
     },
     {"A", "A", "B", "B"}},
    {"AggregatorsLimitedByCbNodes",
     4,
     {{"cb_config_list", "*:2"}},
     {{"cb_nodes", "3"}},
     {{"cb_nodes", "3"}, {"romio_aggregator_list", "0 2 1 "}},
     {},
     nullptr,
     {"A", "B", "A", "B"}},
    {"NoMatchFallsBackToDefault",
     4,
     {},
     {{"cb_config_list", "nohost:1"}},
     {{"cb_nodes", "2"}, {"cb_config_list", "nohost:1"}, {"romio_aggregator_list", "0 2 "}},
     {WK::kAdjusted},
     nullptr,
     {"A", "A", "B", "B"}},
    {"WrongHostCountIgnored",
     4,
     {},
     {},
     {{"romio_aggregator_list", "<absent>"}},
     {WK::kIgnored},
     nullptr,
     {"A", "B"}},
};

INSTANTIATE_TEST_SUITE_P(Table, ResolveTable, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(Resolve, DefaultListingOrderMatchesRomioDaosDriver) {
  Inputs in;
  in.nprocs = 2;
  EffectiveHints h = resolve(in);
  std::vector<std::string> keys;
  for (const auto& kv : h.info) keys.push_back(kv.first);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "romio_daos_chunk_size", "romio_daos_obj_class", "romio_edaos_obj_class",
                      "romio_edaos_chunk_size", "romio_edaos_cell_size", "romio_edaos_server_list",
                      "cb_buffer_size", "romio_cb_read", "romio_cb_write", "cb_nodes",
                      "romio_no_indep_rw", "ind_rd_buffer_size", "romio_ds_read", "romio_ds_write",
                      "striping_unit", "cb_config_list", "romio_filesystem_type"}));
}

TEST(Resolve, PrintFormatIsRomios) {
  Inputs in;
  in.nprocs = 2;
  EffectiveHints h = resolve(in);
  std::string out = format_romio_print(h);
  // printf("key = %-25s value = %-10s\n", key, value)
  EXPECT_NE(out.find("key = cb_buffer_size            value = 16777216  \n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("key = cb_nodes                  value = 2         \n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("key = romio_filesystem_type     value = " +
                     std::string(kEdaosFilesystemType) + "\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), static_cast<long>(h.info.size()));
}

TEST(Resolve, AggregatorListTruncatedLikeRomio) {
  EffectiveHints h;
  std::vector<int> ranks;
  for (int r = 0; r < 1000; ++r) ranks.push_back(r);
  set_selected_ranks(h, ranks, {0});
  const std::string* list = h.find("romio_aggregator_list");
  ASSERT_NE(list, nullptr);
  EXPECT_LT(list->size(), kMaxInfoVal);
  EXPECT_GT(list->size(), kMaxInfoVal - 6);
  EXPECT_EQ(list->back(), ' ');
  EXPECT_EQ(h.cb_nodes, 1000);
  EXPECT_EQ(*h.find("cb_nodes"), "1000");
}

// Only the warnings about situations where ROMIO itself prints or fails reach stderr by default
// (issue 13): a cb_config_list that does not parse or matches no process. Values ROMIO ignores
// silently (romio_no_indep_rw=1, "yes" for an enable hint, cb_nodes out of range, quotes) do not.
TEST(Resolve, OnlyWarningsRomioWouldGiveAreLoud) {
  auto loud = [](const KeyValues& info, const std::vector<std::string>& hosts) {
    Inputs in;
    in.nprocs = static_cast<int>(hosts.size());
    in.info = info;
    in.rank_hosts = hosts;
    std::vector<std::string> out;
    for (const Warning& w : resolve(in).warnings)
      if (romio_would_warn(w)) out.push_back(w.key);
    return out;
  };
  const std::vector<std::string> hosts = {"a", "a", "b", "b"};
  EXPECT_TRUE(loud({{"romio_no_indep_rw", "1"},
                    {"romio_cb_write", "yes"},
                    {"cb_nodes", "99"},
                    {"cb_buffer_size", "\"65536\""},
                    {"ind_rd_buffer_size", "abc"}},
                   hosts)
                  .empty());
  EXPECT_EQ(loud({{"cb_config_list", "c:1"}}, hosts), std::vector<std::string>{"cb_config_list"});
  EXPECT_EQ(loud({{"cb_config_list", "a:1:2"}}, hosts), std::vector<std::string>{"cb_config_list"});
  EXPECT_TRUE(loud({{"cb_config_list", "b:1,a:1"}}, hosts).empty());
}

TEST(Resolve, AgreementUsesCanonicalValues) {
  Inputs a, b;
  a.nprocs = b.nprocs = 4;
  a.info = {{"romio_cb_write", "ENABLE"}, {"cb_buffer_size", "+1024"}};
  b.info = {{"romio_cb_write", "enable"}, {"cb_buffer_size", "1024"}};
  EXPECT_EQ(resolve(a).agreed, resolve(b).agreed);
  b.info = {{"romio_cb_write", "disable"}};
  EXPECT_NE(resolve(a).agreed, resolve(b).agreed);
  // Only must-agree keys take part.
  for (const auto& [k, v] : resolve(a).agreed) {
    const HintSpec* s = find_hint(k);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->scope, Scope::kAgree) << k;
  }
}

// MPI_File_set_info / set_view: start from the open-time hints.
TEST(Resolve, UpdateKeepsOpenTimeHints) {
  Inputs open;
  open.nprocs = 4;
  open.info = {{"cb_nodes", "8"}, {"romio_no_indep_rw", "true"}, {"cb_config_list", "*:2"}};
  open.rank_hosts = {"A", "A", "B", "B"};
  EffectiveHints h = resolve(open);
  ASSERT_EQ(h.aggregators, (std::vector<int>{0, 1, 2, 3}));
  ASSERT_TRUE(h.deferred_open);

  // The same info again (HDF5 passes it to every set_view): nothing changes, no warning but the
  // ds_write one is not repeated either.
  Inputs same;
  same.nprocs = 4;
  same.info = open.info;
  same.previous = &h;
  EffectiveHints h2 = resolve(same);
  EXPECT_TRUE(h2.warnings.empty()) << test::describe(h2.warnings);
  EXPECT_EQ(h2.info, h.info);

  // A different cb_nodes or cb_config_list is ignored, with a warning each.
  Inputs change;
  change.nprocs = 4;
  change.info = {{"cb_nodes", "1"},
                 {"cb_config_list", "*:1"},
                 {"cb_buffer_size", "4096"},
                 {"romio_cb_write", "disable"}};
  change.previous = &h;
  EffectiveHints h3 = resolve(change);
  EXPECT_EQ(kinds(h3.warnings), (std::vector<WK>{WK::kIgnored, WK::kIgnored}))
      << test::describe(h3.warnings);
  EXPECT_EQ(h3.aggregators, h.aggregators);
  EXPECT_EQ(*h3.find("cb_nodes"), "4");
  EXPECT_EQ(h3.cb_buffer_size, 4096);
  // romio_cb_write=disable overrides an earlier romio_no_indep_rw.
  EXPECT_EQ(h3.cb_write, Tristate::kDisable);
  EXPECT_FALSE(h3.no_indep_rw);
  EXPECT_EQ(*h3.find("romio_no_indep_rw"), "false");

  // An invalid value keeps the current one.
  Inputs bad;
  bad.nprocs = 4;
  bad.info = {{"cb_buffer_size", "x"}};
  bad.previous = &h3;
  EffectiveHints h4 = resolve(bad);
  EXPECT_EQ(h4.cb_buffer_size, 4096);
  ASSERT_EQ(h4.warnings.size(), 1u);
  EXPECT_NE(h4.warnings[0].message.find("using current \"4096\""), std::string::npos)
      << h4.warnings[0].message;
}

TEST(Registry, EveryEntryIsConsistent) {
  for (const HintSpec& s : registry()) {
    EXPECT_EQ(find_hint(s.key), &s);
    EXPECT_FALSE(s.meaning.empty()) << s.key;
    if (s.type == HintType::kReport || s.key == "cb_nodes") continue;
    auto p = parse_value(s, s.default_value);
    EXPECT_TRUE(p.ok()) << s.key << ": default \"" << s.default_value << "\" "
                        << p.status().message();
  }
  EXPECT_EQ(find_hint("CB_NODES"), nullptr);
}

TEST(Registry, ObjectClasses) {
  for (const char* ok : {"S1", "SX", "OC_S32", "RP_2G1", "RP_3GX", "OC_RP_4G1", "EC_4P2G1",
                         "EC_16P3GX", "OC_EC_2P1G32", "OC_UNKNOWN", "UNKNOWN"})
    EXPECT_TRUE(is_valid_object_class(ok)) << ok;
  for (const char* bad : {"", "S", "SY", "RP_2", "RP_G1", "EC_4P2", "EC_4Q2G1", "EC_P2G1",
                          "ec_4p2g1", "OC_", "EC_4P2GY", "RP_2G1x"})
    EXPECT_FALSE(is_valid_object_class(bad)) << bad;
}

}  // namespace
}  // namespace edaos::hints

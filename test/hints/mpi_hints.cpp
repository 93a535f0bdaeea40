// Multi-rank hints tests: ROMIO_HINTS read on rank 0 and shared, precedence per rank, agreement
// across ranks, ROMIO_PRINT_HINTS, and aggregator selection across (simulated) nodes.
//
// Aggregator expectations for launches with several host names come from the test registration
// (EDAOS_HINTS_AGG_CASES, see test/hints/CMakeLists.txt), so each host layout states its own
// answers; without it the single-host answers below are checked.
#include <gtest/gtest.h>
#include <mpi.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edaos/hints/hints.hpp"

namespace edaos::hints {
namespace {

int rank_of(MPI_Comm c = MPI_COMM_WORLD) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}
int size_of(MPI_Comm c = MPI_COMM_WORLD) {
  int n = 0;
  MPI_Comm_size(c, &n);
  return n;
}

// A hints file written by rank 0 only, in a directory only rank 0 is told about.
class TempHintFile {
 public:
  explicit TempHintFile(const std::string& text) {
    if (rank_of() == 0) {
      char tmpl[] = "/tmp/edaos-hints-XXXXXX";
      int fd = mkstemp(tmpl);
      path_ = tmpl;
      if (fd >= 0) {
        ssize_t n = write(fd, text.data(), text.size());
        (void)n;
        close(fd);
      }
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  ~TempHintFile() {
    MPI_Barrier(MPI_COMM_WORLD);
    if (!path_.empty()) unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Sets ROMIO_HINTS to `path` on rank 0 and to a missing file elsewhere: if any other rank read
// the file itself, it would not find it.
class RomioHintsEnv {
 public:
  explicit RomioHintsEnv(const std::string& path) {
    if (rank_of() == 0)
      setenv("ROMIO_HINTS", path.c_str(), 1);
    else
      setenv("ROMIO_HINTS", "/nonexistent/edaos-hints", 1);
  }
  ~RomioHintsEnv() { unsetenv("ROMIO_HINTS"); }
};

struct Captured {
  std::vector<Warning> warnings;
  std::string printed;
  CollectiveOptions opts() {
    CollectiveOptions o;
    o.system_path = nullptr;  // never read the machine's /etc/romio-hints in tests
    o.warning_sink = [this](const Warning& w, int) { warnings.push_back(w); };
    o.print_sink = [this](const std::string& s) { printed += s; };
    o.print = 0;
    return o;
  }
};

MPI_Info make_info(const KeyValues& kv) {
  MPI_Info info = MPI_INFO_NULL;
  MPI_Info_create(&info);
  for (const auto& [k, v] : kv) MPI_Info_set(info, k.c_str(), v.c_str());
  return info;
}

TEST(Share, FileReadOnRankZeroAndShared) {
  TempHintFile file("cb_buffer_size 1048576\nromio_cb_write enable\ncb_config_list *:8\n");
  RomioHintsEnv env(file.path());
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, cap.opts());
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_buffer_size, 1048576);
  EXPECT_EQ(h->cb_write, Tristate::kEnable);
  EXPECT_EQ(h->cb_config_list, "*:8");
  EXPECT_EQ(*h->find("cb_config_list"), "*:8");
  EXPECT_TRUE(cap.warnings.empty());
}

TEST(Share, LoadHintFileCollective) {
  TempHintFile file("# c\ncb_nodes 1\ncb_nodes 2\nbad line here\n");
  RomioHintsEnv env(file.path());
  auto f = load_hint_file_collective(MPI_COMM_WORLD, nullptr);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->path, file.path().empty() ? f->path : file.path());
  EXPECT_EQ(f->hints, (KeyValues{{"cb_nodes", "1"}}));
  EXPECT_EQ(f->warnings.size(), 2u);  // duplicate + malformed, identical on every rank
}

// A hints file longer than the first broadcast's head (4 KiB) arrives whole on every rank.
TEST(Share, LongHintFileArrivesWhole) {
  std::string text;
  while (text.size() < 3 * 4096) text += "# a comment line that pads the file past the head\n";
  text += "cb_nodes 3\n";
  TempHintFile file(text);
  RomioHintsEnv env(file.path());
  auto f = load_hint_file_collective(MPI_COMM_WORLD, nullptr);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->hints, (KeyValues{{"cb_nodes", "3"}}));
  // The one warning names the whole size: every rank parsed all the bytes.
  ASSERT_EQ(f->warnings.size(), 1u);
  EXPECT_NE(f->warnings[0].message.find("file is " + std::to_string(text.size()) + " bytes"),
            std::string::npos)
      << f->warnings[0].message;
}

// The MPI-IO driver passes the object store's polite wait (CollectiveWait): every collective of
// the call goes through it, so a rank that arrives early sleeps in the caller's wait instead of
// polling MPI's progress engine on a core the late rank needs (blocking MPI_Bcast/MPI_Allreduce
// did: here the early ranks' thread then burned most of the late rank's 300 ms).
TEST(Share, EveryCollectiveGoesThroughTheCallersWait) {
  TempHintFile file("cb_buffer_size 1048576\n");
  RomioHintsEnv env(file.path());
  Captured cap;
  CollectiveOptions o = cap.opts();
  int waits = 0;
  o.wait = [&waits](MPI_Request* r) {
    ++waits;
    int done = 0;
    while (MPI_Test(r, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done) usleep(200);
    return MPI_SUCCESS;
  };
  const bool late = rank_of() == size_of() - 1;
  if (late) usleep(300 * 1000);
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, o);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_buffer_size, 1048576);
  // The hints file, the processor names, rank 0's view, the agreement: one wait each.
  EXPECT_EQ(waits, 4);
  const double cpu_ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  if (!late && size_of() > 1) {
    EXPECT_LT(cpu_ms, 100.0) << "an early rank polled while it waited";
  }
}

TEST(Share, UnreadableRomioHintsWarnsOnce) {
  setenv("ROMIO_HINTS", "/nonexistent/edaos-hints", 1);
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, cap.opts());
  unsetenv("ROMIO_HINTS");
  ASSERT_TRUE(h.ok());
  if (rank_of() == 0) {
    ASSERT_EQ(cap.warnings.size(), 1u);
    EXPECT_EQ(cap.warnings[0].kind, WarningKind::kFile);
  } else {
    EXPECT_TRUE(cap.warnings.empty());  // reported once, by rank 0
  }
}

TEST(Share, InfoOverridesFileOnEveryRank) {
  TempHintFile file("cb_buffer_size 1048576\nstriping_unit 65536\n");
  RomioHintsEnv env(file.path());
  MPI_Info info = make_info({{"cb_buffer_size", "2097152"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_buffer_size, 2097152);
  EXPECT_EQ(h->striping_unit, 65536);
}

TEST(Share, MismatchAcrossRanksIsDetected) {
  if (size_of() < 2) GTEST_SKIP() << "needs 2 ranks";
  const int last = size_of() - 1;
  MPI_Info info = make_info({{"cb_buffer_size", rank_of() == last ? "1048576" : "16777216"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), EDAOS_INVAL);
  EXPECT_EQ(h.status().message(),
            "hint \"cb_buffer_size\" not same across processes: rank 0 has \"16777216\", rank " +
                std::to_string(last) + " has \"1048576\"");
}

TEST(Share, MissingOnSomeRanksIsAMismatch) {
  if (size_of() < 2) GTEST_SKIP() << "needs 2 ranks";
  // Only rank 1 asks for romio_cb_write=disable: the others use the default.
  MPI_Info info = rank_of() == 1 ? make_info({{"romio_cb_write", "disable"}}) : MPI_INFO_NULL;
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("\"romio_cb_write\""), std::string::npos)
      << h.status().message();
  EXPECT_NE(h.status().message().find("rank 1 has \"disable\""), std::string::npos)
      << h.status().message();
}

TEST(Share, SameMeaningDifferentSpellingAgrees) {
  MPI_Info info = make_info({{"romio_cb_write", rank_of() % 2 ? "ENABLE" : "enable"},
                             {"cb_nodes", rank_of() % 2 ? "+1" : "1"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_write, Tristate::kEnable);
  EXPECT_EQ(h->cb_nodes, 1);
}

TEST(Share, InvalidValueOnOneRankWarnsThereAndFallsBack) {
  if (size_of() < 2) GTEST_SKIP() << "needs 2 ranks";
  // Rank 1's invalid value falls back to the default, which is what the others use.
  MPI_Info info = rank_of() == 1 ? make_info({{"cb_buffer_size", "lots"}}) : MPI_INFO_NULL;
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_buffer_size, 16777216);
  if (rank_of() == 1) {
    ASSERT_EQ(cap.warnings.size(), 1u);
    EXPECT_EQ(cap.warnings[0].key, "cb_buffer_size");
    EXPECT_EQ(cap.warnings[0].value, "lots");
  } else {
    EXPECT_TRUE(cap.warnings.empty());
  }
}

TEST(Share, FileWarningsReportedByRankZeroOnly) {
  TempHintFile file("cb_buffer_size big\ncb_nodes\n");
  RomioHintsEnv env(file.path());
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, cap.opts());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(cap.warnings.size(), rank_of() == 0 ? 2u : 0u);
  EXPECT_EQ(h->warnings.size(), 2u);  // but every rank has them in the result
}

TEST(Share, CbConfigListIsRankZeros) {
  if (size_of() < 2) GTEST_SKIP() << "needs 2 ranks";
  MPI_Info info = make_info({{"cb_config_list", rank_of() == 0 ? "*:2" : "*:1"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_config_list, "*:2");
  EXPECT_EQ(*h->find("cb_config_list"), "*:2");
  if (rank_of() != 0) {
    ASSERT_EQ(cap.warnings.size(), 1u);
    EXPECT_EQ(cap.warnings[0].kind, WarningKind::kOverridden);
  }
}

TEST(Share, PrintHintsOnRankZeroOnly) {
  setenv("ROMIO_PRINT_HINTS", "1", 1);
  Captured cap;
  CollectiveOptions o = cap.opts();
  o.print = -1;  // from the environment, as at open
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, o);
  unsetenv("ROMIO_PRINT_HINTS");
  ASSERT_TRUE(h.ok());
  if (rank_of() == 0) {
    EXPECT_EQ(cap.printed, format_romio_print(*h));
    EXPECT_NE(cap.printed.find("key = cb_buffer_size            value = 16777216  \n"),
              std::string::npos)
        << cap.printed;
    EXPECT_NE(cap.printed.find("key = romio_aggregator_list"), std::string::npos);
  } else {
    EXPECT_TRUE(cap.printed.empty());
  }
  // Unset: nothing is printed.
  Captured quiet;
  CollectiveOptions q = quiet.opts();
  q.print = -1;
  ASSERT_TRUE(resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, q).ok());
  EXPECT_TRUE(quiet.printed.empty());
}

TEST(Share, GetInfoReturnsEffectiveValues) {
  MPI_Info info = make_info({{"romio_no_indep_rw", "true"}, {"cb_nodes", "100000"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_TRUE(h.ok());
  MPI_Info out = to_mpi_info(*h);
  KeyValues back = info_to_pairs(out);
  MPI_Info_free(&out);
  KeyValues expect;
  for (const auto& kv : h->info)
    if (!kv.second.empty()) expect.push_back(kv);
  EXPECT_EQ(back, expect);
  auto get = [&](const char* k) {
    for (const auto& kv : back)
      if (kv.first == k) return kv.second;
    return std::string("<absent>");
  };
  EXPECT_EQ(get("romio_cb_write"), "enable");
  EXPECT_EQ(get("romio_cb_read"), "enable");
  EXPECT_EQ(get("cb_nodes"), std::to_string(h->aggregators.size()));
}

TEST(Share, SetInfoAfterOpenKeepsAggregators) {
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, cap.opts());
  ASSERT_TRUE(h.ok());
  MPI_Info info = make_info({{"cb_config_list", "*:*"}, {"cb_buffer_size", "4096"}});
  Captured cap2;
  CollectiveOptions o = cap2.opts();
  o.previous = &h.value();
  auto h2 = resolve_collective(MPI_COMM_WORLD, info, o);
  MPI_Info_free(&info);
  ASSERT_TRUE(h2.ok()) << h2.status().message();
  EXPECT_EQ(h2->aggregators, h->aggregators);
  EXPECT_EQ(h2->cb_buffer_size, 4096);
  EXPECT_EQ(cap2.warnings.size(), rank_of() == 0 ? 1u : 0u);
}

std::vector<std::string> names() {
  // Every rank's processor name, on every rank (reference data for the checks below).
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  std::vector<char> all(static_cast<size_t>(size_of()) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                MPI_CHAR, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size_of(); ++r)
    out.emplace_back(&all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME]);
  return out;
}

TEST(Aggregators, GatherProcessorNames) {
  auto gathered = gather_processor_names(MPI_COMM_WORLD);
  auto all = names();  // collective: every rank calls it
  if (rank_of() == 0)
    EXPECT_EQ(gathered, all);
  else
    EXPECT_TRUE(gathered.empty());
}

struct AggCase {
  std::string list;
  int cb_nodes = 0;  // 0: not given
  std::vector<int> expect;
};

std::vector<int> parse_ranks(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, '.');)
    if (!t.empty()) out.push_back(std::atoi(t.c_str()));
  return out;
}

// EDAOS_HINTS_AGG_CASES = case{/case}; case = <cb_config_list>[@<cb_nodes>]=<rank>{.<rank>}
std::vector<AggCase> cases_from_env() {
  std::vector<AggCase> out;
  const char* env = std::getenv("EDAOS_HINTS_AGG_CASES");
  if (env == nullptr) {
    // One host: "*:1" gives rank 0, "*:2" ranks 0-1, "*:*" everyone, "<host>:1" rank 0.
    int n = size_of();
    std::vector<int> all;
    for (int r = 0; r < n; ++r) all.push_back(r);
    out.push_back({"*:1", 0, {0}});
    out.push_back({"*:2", 0, n >= 2 ? std::vector<int>{0, 1} : std::vector<int>{0}});
    out.push_back({"*:*", 0, all});
    out.push_back({names()[0] + ":1", 0, {0}});
    out.push_back({"*:*", 1, {0}});
    return out;
  }
  std::stringstream ss(env);
  for (std::string c; std::getline(ss, c, '/');) {
    size_t eq = c.rfind('=');
    AggCase a;
    a.list = c.substr(0, eq);
    if (size_t at = a.list.rfind('@'); at != std::string::npos) {
      a.cb_nodes = std::atoi(a.list.c_str() + at + 1);
      a.list.resize(at);
    }
    a.expect = parse_ranks(c.substr(eq + 1));
    out.push_back(a);
  }
  return out;
}

TEST(Aggregators, SelectionAcrossNodes) {
  if (const char* hosts = std::getenv("EDAOS_EXPECT_HOSTS")) {
    std::vector<std::string> want;
    std::stringstream ss(hosts);
    for (std::string h; std::getline(ss, h, ',');) want.push_back(h);
    ASSERT_EQ(names(), want) << "launcher did not give the expected host names";
  }
  for (const AggCase& c : cases_from_env()) {
    SCOPED_TRACE("cb_config_list=" + c.list + " cb_nodes=" + std::to_string(c.cb_nodes));
    KeyValues kv = {{"cb_config_list", c.list}};
    if (c.cb_nodes > 0) kv.emplace_back("cb_nodes", std::to_string(c.cb_nodes));
    MPI_Info info = make_info(kv);
    Captured cap;
    auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
    MPI_Info_free(&info);
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ(h->aggregators, c.expect);
    EXPECT_EQ(h->cb_nodes, static_cast<int>(c.expect.size()));
    std::string list;
    for (int r : c.expect) list += std::to_string(r) + " ";
    EXPECT_EQ(*h->find("romio_aggregator_list"), list);
  }
}

TEST(Aggregators, ServerListUsesTheSameGrammar) {
  MPI_Info info = make_info({{"romio_edaos_server_list", "*:1"}});
  Captured cap;
  auto h = resolve_collective(MPI_COMM_WORLD, info, cap.opts());
  MPI_Info_free(&info);
  ASSERT_TRUE(h.ok());
  // One server per distinct host, at the lowest rank of each host.
  std::vector<int> expect;
  std::vector<std::string> seen;
  auto all = names();
  for (int r = 0; r < size_of(); ++r)
    if (std::find(seen.begin(), seen.end(), all[static_cast<size_t>(r)]) == seen.end()) {
      seen.push_back(all[static_cast<size_t>(r)]);
      expect.push_back(r);
    }
  EXPECT_EQ(h->server_ranks, expect);
}

// Run by a dedicated registration that sets ROMIO_HINTS and ROMIO_PRINT_HINTS in the launcher's
// environment and checks stdout: the default options read both, as the MPI-IO driver will.
TEST(Share, FromLauncherEnvironment) {
  if (std::getenv("EDAOS_HINTS_LAUNCHER_ENV") == nullptr) GTEST_SKIP() << "not that launch";
  CollectiveOptions o;
  o.system_path = nullptr;
  auto h = resolve_collective(MPI_COMM_WORLD, MPI_INFO_NULL, o);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->cb_config_list, "*:8");
  EXPECT_EQ(h->cb_read, Tristate::kEnable);
  EXPECT_EQ(h->cb_write, Tristate::kEnable);
  EXPECT_EQ(h->striping_unit, 2097152);
  EXPECT_EQ(h->aggregators.size(), static_cast<size_t>(size_of()));  // one host, 8 per node
}

}  // namespace
}  // namespace edaos::hints

// Replays the checked-in fuzz corpora through the fuzzers' entry points in every build, so the
// harness cannot rot while EDAOS_BUILD_FUZZERS is off.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_entry.hpp"
#include "unit_test_util.hpp"

namespace edaos::hints {
namespace {

std::vector<std::string> corpus(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(FuzzReplay, HintFileCorpus) {
  auto files = corpus(test::data_path("fuzz/hintfile"));
  ASSERT_GE(files.size(), 5u);
  for (const std::string& f : files) {
    std::string data = slurp(f);
    SCOPED_TRACE(f);
    EXPECT_EQ(fuzz::hintfile_one_input(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
              0);
  }
  // The checked-in hint files are good seeds too.
  for (const char* name :
       {"hintfile_seed_aurora.txt", "hintfile_comments.txt", "hintfile_malformed.txt",
        "hintfile_duplicates.txt", "hintfile_invalid_values.txt", "hintfile_quoted.txt"}) {
    std::string data = test::read_data(name);
    EXPECT_EQ(fuzz::hintfile_one_input(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
              0);
  }
}

TEST(FuzzReplay, CbConfigCorpus) {
  auto files = corpus(test::data_path("fuzz/cb_config"));
  ASSERT_GE(files.size(), 5u);
  for (const std::string& f : files) {
    std::string data = slurp(f);
    SCOPED_TRACE(f);
    EXPECT_EQ(fuzz::cb_config_one_input(reinterpret_cast<const uint8_t*>(data.data()), data.size()),
              0);
  }
}

}  // namespace
}  // namespace edaos::hints

// Helpers shared by the hints unit tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edaos/hints/warning.hpp"

namespace edaos::hints::test {

inline std::string data_path(const std::string& name) {
  return std::string(EDAOS_HINTS_TEST_DATA) + "/" + name;
}

inline std::string read_data(const std::string& name) {
  std::ifstream f(data_path(name), std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<WarningKind> kinds(const std::vector<Warning>& ws) {
  std::vector<WarningKind> out;
  for (const Warning& w : ws) out.push_back(w.kind);
  return out;
}

inline std::string describe(const std::vector<Warning>& ws) {
  std::string s;
  for (const Warning& w : ws)
    s += "  [" + std::string(warning_kind_name(w.kind)) + "] " + w.message + "\n";
  return s;
}

}  // namespace edaos::hints::test

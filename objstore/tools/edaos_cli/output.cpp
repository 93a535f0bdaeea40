// Output helpers of the edaos tool: DAOS-style tables and entity lists, SI sizes, the progress
// bar of `fs copy`. Binary sizes (KiB, MiB) come from props.hpp's format_ibytes.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli.hpp"
#include "edaos/objstore/props.hpp"

namespace edaos::cli {

namespace {

std::string rstrip(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_table(const std::vector<std::string>& titles,
                         const std::vector<std::vector<std::string>>& rows,
                         const std::string& indent) {
  std::vector<size_t> w(titles.size());
  for (size_t c = 0; c < titles.size(); ++c) w[c] = titles[c].size();
  for (auto& r : rows)
    for (size_t c = 0; c < titles.size() && c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = indent;
    for (size_t c = 0; c < titles.size(); ++c)
      s += pad(c < cells.size() ? cells[c] : std::string("None"), w[c] + 1);
    return rstrip(s) + "\n";
  };
  std::vector<std::string> dashes;
  for (auto& t : titles) dashes.emplace_back(t.size(), '-');
  std::string out = line(titles) + line(dashes);
  for (auto& r : rows) out += line(r);
  return out;
}

std::string format_entity(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t w = 0;
  for (auto& r : rows) w = std::max(w, r.first.size());
  std::string out;
  for (auto& r : rows) out += rstrip(pad(r.first, w + 1) + r.second) + "\n";
  return out;
}

std::string format_si_bytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  char buf[64];
  if (bytes < 10) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
  }
  const double s = static_cast<double>(bytes);
  int e = static_cast<int>(std::floor(std::log(s) / std::log(1000.0)));
  e = std::min(e, 6);
  const double val = std::floor(s / std::pow(1000.0, e) * 10 + 0.5) / 10;
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val, kUnits[e]);
  return buf;
}

Progress::Progress(uint64_t total_bytes, bool enabled)
    : total_(total_bytes), on_(enabled && isatty(STDOUT_FILENO)) {}

void Progress::add(uint64_t bytes, uint64_t files) {
  done_ += bytes;
  files_ += files;
  draw(false);
}

void Progress::draw(bool force) {
  if (!on_) return;
  double t = now_s();
  if (!force && t - last_ < 0.1) return;
  last_ = t;
  const int width = 30;
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  frac = std::min(1.0, frac);
  int fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '=');
  if (fill < width) bar += '>';
  bar = pad(bar, width);
  std::printf("\r[%s] %3d%%  %s / %s  %llu files", bar.c_str(), static_cast<int>(frac * 100),
              objstore::format_ibytes(done_).c_str(), objstore::format_ibytes(total_).c_str(),
              static_cast<unsigned long long>(files_));
  std::fflush(stdout);
}

void Progress::finish() {
  if (!on_) return;
  draw(true);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace edaos::cli

#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

std::mutex g_mu;
edaos_log_sink_fn g_sink = nullptr;
void* g_sink_arg = nullptr;
std::atomic<int> g_rank{-1};
FILE* g_file = nullptr;
const auto g_t0 = std::chrono::steady_clock::now();

const char* level_name(edaos_log_level_t l) {
  static const char* names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRIT", "OFF"};
  return names[l < 0 || l > EDAOS_LOG_OFF ? EDAOS_LOG_OFF : l];
}

bool parse_level(const std::string& s, edaos_log_level_t* out) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  for (int i = 0; i <= EDAOS_LOG_OFF; ++i)
    if (s == names[i]) {
      *out = static_cast<edaos_log_level_t>(i);
      return true;
    }
  if (s == "warning") {
    *out = EDAOS_LOG_WARN;
    return true;
  }
  return false;
}

FILE* out_file() {
  if (g_file) return g_file;
  const char* path = std::getenv("EDAOS_LOG_FILE");
  if (path && *path) {
    std::string p;
    for (const char* c = path; *c; ++c) {
      if (c[0] == '%' && c[1] == 'r') {
        p += std::to_string(g_rank.load() < 0 ? 0 : g_rank.load());
        ++c;
      } else if (c[0] == '%' && c[1] == 'p') {
        p += std::to_string(getpid());
        ++c;
      } else {
        p += *c;
      }
    }
    g_file = std::fopen(p.c_str(), "a");
  }
  if (!g_file) g_file = stderr;
  return g_file;
}

}  // namespace

extern "C" {

void edaos_log_set_sink(edaos_log_sink_fn fn, void* arg) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_sink = fn;
  g_sink_arg = arg;
}

void edaos_log_set_rank(int rank) { g_rank.store(rank); }

edaos_log_level_t edaos_log_threshold(const char* facility) {
  edaos_log_level_t def = EDAOS_LOG_WARN, mine = EDAOS_LOG_OFF;
  bool have_mine = false;
  const char* env = std::getenv("EDAOS_LOG");
  if (!env) return def;
  std::string spec(env);
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string item =
        spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = item.find('=');
    edaos_log_level_t l;
    if (eq == std::string::npos) {
      if (parse_level(item, &l)) def = l;
    } else if (item.compare(0, eq, facility) == 0 && eq == std::strlen(facility) &&
               parse_level(item.substr(eq + 1), &l)) {
      mine = l;
      have_mine = true;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return have_mine ? mine : def;
}

void edaos_log_emit(edaos_log_level_t level, const char* facility, const char* fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_t0).count();
  char line[2200];
  std::snprintf(line, sizeof line, "edaos[%d] %.6f %s %s: %s", g_rank.load(), t, level_name(level),
                facility, msg);
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_sink) {
    g_sink(g_sink_arg, level, facility, line);
    return;
  }
  FILE* f = out_file();
  std::fprintf(f, "%s\n", line);
  std::fflush(f);
}

}  // extern "C"

// edaos-ior: an IOR-compatible bandwidth benchmark for the four ways into edaos (and the MPI
// library's own MPI-IO / a local file system as baselines). Options, phases and output follow
// IOR's (https://github.com/hpc/ior, doc/USER_GUIDE); see benchmarks/README.md.
//
//   mpiexec -n 4 edaos-ior -a MPIIO -b 4m -t 1m -s 4 -w -r -W -R -i 3 -o daos:/ior.dat -k
//
// Layout (IOR's): rank r's transfer j of segment s is at data offset
//   shared file  s * (ranks * block) + r * block + j * xfer
//   -F           s * block + j * xfer   in file <name>.<r as %08d>
// Each iteration: write phase (-w), read-back check (-W), read phase (-r, verified with -R),
// then the file is removed unless -k. A phase's time runs from the barrier before open to the
// last rank's close (open, transfers, -e sync, close); pattern generation and verification are
// not timed. Bandwidth = all ranks' bytes / that time.
#include "ior.hpp"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "edaos/objstore/objstore.hpp"
#ifdef EDAOS_IOR_HAVE_MPIO
#include "edaos/adio_daos/adio_daos.h"
#endif
#ifdef EDAOS_IOR_HAVE_HDF5
#include <hdf5.h>
#endif

namespace edaos::bench {

namespace {
int g_rank = 0, g_size = 1;
}

void fatal(const std::string& msg) {
  std::fprintf(stderr, "edaos-ior [rank %d]: %s\n", g_rank, msg.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

MPI_Info make_info(const IorOptions& o) {
  if (o.hints.empty()) return MPI_INFO_NULL;
  MPI_Info info;
  MPI_Info_create(&info);
  for (const auto& [k, v] : o.hints) MPI_Info_set(info, k.c_str(), v.c_str());
  return info;
}

namespace {

// ---- option parsing ----------------------------------------------------------------------------

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: edaos-ior [options]   (IOR's option letters; sizes take k, m, g suffixes)\n"
      "  -a API      POSIX | MPIIO | HDF5 | DFS                         [POSIX]\n"
      "  -b N        block size: contiguous bytes per rank per segment  [1m]\n"
      "  -t N        transfer size (divides -b)                          [256k]\n"
      "  -s N        segment count                                       [1]\n"
      "  -F          file per process (<file>.%%08d)\n"
      "  -c          collective I/O (MPIIO: *_at_all; HDF5: H5FD_MPIO_COLLECTIVE)\n"
      "  -C          reorder ranks for reads: rank r reads what rank r+Q wrote\n"
      "  -Q N        shift for -C, in ranks                              [1]\n"
      "  -e          sync after the write phase (fsync, MPI_File_sync, H5Fflush, dfs sync)\n"
      "  -w / -r     write / read phase (neither: both)\n"
      "  -W          read back after writing and check every byte (not timed)\n"
      "  -R          check every byte read in the read phase (not timed)\n"
      "  -G N        data signature (seed of the pattern)                 [0]\n"
      "  -i N        iterations                                          [1]\n"
      "  -o NAME     file: a path, ufs:path, daos:/path, daos://POOL/CONT/path [testFile]\n"
      "  -k          keep the file\n"
      "  -d S        delay between iterations (s)\n"
      "  -O k=v,...  IOR directives (summaryFormat=JSON, summaryFile=F, checkRead=1, ...)\n"
      "              or MPI-IO hints (cb_buffer_size=16777216, IOR_HINT__MPI__key=v)\n"
      "  -U FILE     hints file: lines 'IOR_HINT__MPI__key=value', 'key=value' or 'key value'\n"
      "  -J FILE     write the results as JSON to FILE ('-' = stdout)\n"
      "  -q          only the summary\n"
      "  --verify-iter N          iteration tag expected when reading without -w  [0]\n"
      "  --idle S   no I/O: after setup (store started, DFS pool connected) every rank sleeps S\n"
      "             seconds; prints each rank's CPU time in that window (/proc/self/stat)\n"
      "  --dfs.pool P --dfs.cont C --dfs.oclass C --dfs.dir_oclass C --dfs.chunk_size N\n"
      "Also read: ROMIO_HINTS (by the MPI-IO layer), IOR_HINT__MPI__<key>=<value> variables.\n");
}

uint64_t parse_size(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) throw std::invalid_argument("bad size: " + s);
  uint64_t mult = 1;
  if (*end) {
    switch (*end) {
      case 'k':
      case 'K':
        mult = 1ull << 10;
        break;
      case 'm':
      case 'M':
        mult = 1ull << 20;
        break;
      case 'g':
      case 'G':
        mult = 1ull << 30;
        break;
      case 't':
      case 'T':
        mult = 1ull << 40;
        break;
      default:
        throw std::invalid_argument("bad size: " + s);
    }
    if (end[1] && !(end[1] == 'i' || end[1] == 'b' || end[1] == 'B'))
      throw std::invalid_argument("bad size: " + s);
  }
  return static_cast<uint64_t>(v * static_cast<double>(mult));
}

bool truthy(const std::string& v) { return v != "0" && v != "false" && v != "no"; }

void add_hint(IorOptions* o, std::string k, const std::string& v) {
  const std::string pfx = "IOR_HINT__MPI__";
  if (has_prefix(k, pfx.c_str())) k = k.substr(pfx.size());
  for (auto& h : o->hints)
    if (h.first == k) {
      h.second = v;
      return;
    }
  o->hints.emplace_back(k, v);
}

// One IOR directive (the long names -O takes and IOR scripts use) or, failing that, a hint.
void apply_directive(IorOptions* o, const std::string& k, const std::string& v) {
  if (k == "api")
    o->api = v;
  else if (k == "blockSize")
    o->block = parse_size(v);
  else if (k == "transferSize")
    o->xfer = parse_size(v);
  else if (k == "segmentCount")
    o->segments = parse_size(v);
  else if (k == "filePerProc")
    o->fpp = truthy(v);
  else if (k == "collective")
    o->collective = truthy(v);
  else if (k == "reorderTasks")
    o->reorder = truthy(v);
  else if (k == "taskPerNodeOffset")
    o->reorder_shift = std::atoi(v.c_str());
  else if (k == "fsync")
    o->fsync = truthy(v);
  else if (k == "writeFile")
    o->write = truthy(v);
  else if (k == "readFile")
    o->read = truthy(v);
  else if (k == "checkWrite")
    o->check_write = truthy(v);
  else if (k == "checkRead")
    o->check_read = truthy(v);
  else if (k == "repetitions")
    o->iterations = std::atoi(v.c_str());
  else if (k == "testFile")
    o->file = v;
  else if (k == "keepFile")
    o->keep = truthy(v);
  else if (k == "setTimeStampSignature")
    o->seed = parse_size(v);
  else if (k == "interTestDelay")
    o->inter_delay = std::atof(v.c_str());
  else if (k == "summaryFile")
    o->json_file = v;
  else if (k == "summaryFormat") {
    if (v == "JSON" || v == "json") o->json_stdout = true;
  } else
    add_hint(o, k, v);
}

void read_hints_file(IorOptions* o, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read hints file " + path);
  for (std::string line; std::getline(in, line);) {
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b);
    size_t eq = line.find('='), sp = line.find_first_of(" \t");
    size_t cut = eq != std::string::npos && (sp == std::string::npos || eq < sp) ? eq : sp;
    if (cut == std::string::npos) throw std::invalid_argument("hints file line: " + line);
    std::string k = line.substr(0, cut), v = line.substr(cut + 1);
    size_t vb = v.find_first_not_of(" \t"), ve = v.find_last_not_of(" \t\r");
    v = vb == std::string::npos ? "" : v.substr(vb, ve - vb + 1);
    add_hint(o, k, v);
  }
}

IorOptions parse(int argc, char** argv) {
  IorOptions o;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (has_prefix(kv, "IOR_HINT__MPI__")) {
      size_t eq = kv.find('=');
      if (eq != std::string::npos) add_hint(&o, kv.substr(0, eq), kv.substr(eq + 1));
    }
  }
  bool json_dash = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument("option " + a + " needs a value");
      return argv[++i];
    };
    if (has_prefix(a, "--")) {  // --dfs.x=v, --dfs.x v, --verify-iter N
      std::string k = a.substr(2), v;
      size_t eq = k.find('=');
      if (eq != std::string::npos) {
        v = k.substr(eq + 1);
        k = k.substr(0, eq);
      } else if (k != "help") {
        v = next();
      }
      if (k == "help") {
        usage(stdout);
        std::exit(0);
      } else if (k == "dfs.pool")
        o.dfs_pool = v;
      else if (k == "dfs.cont")
        o.dfs_cont = v;
      else if (k == "dfs.oclass")
        o.dfs_oclass = v;
      else if (k == "dfs.dir_oclass")
        o.dfs_dir_oclass = v;
      else if (k == "dfs.chunk_size")
        o.dfs_chunk = parse_size(v);
      else if (k == "verify-iter")
        o.verify_iter = std::atoi(v.c_str());
      else if (k == "idle")
        o.idle_seconds = std::atof(v.c_str());
      else
        throw std::invalid_argument("unknown option " + a);
      continue;
    }
    if (a.size() != 2 || a[0] != '-') throw std::invalid_argument("unknown option " + a);
    switch (a[1]) {
      case 'a':
        o.api = next();
        break;
      case 'b':
        o.block = parse_size(next());
        break;
      case 't':
        o.xfer = parse_size(next());
        break;
      case 's':
        o.segments = parse_size(next());
        break;
      case 'F':
        o.fpp = true;
        break;
      case 'c':
        o.collective = true;
        break;
      case 'C':
        o.reorder = true;
        break;
      case 'Q':
        o.reorder_shift = std::atoi(next().c_str());
        break;
      case 'e':
        o.fsync = true;
        break;
      case 'w':
        o.write = true;
        break;
      case 'r':
        o.read = true;
        break;
      case 'W':
        o.check_write = true;
        break;
      case 'R':
        o.check_read = true;
        break;
      case 'G':
        o.seed = parse_size(next());
        break;
      case 'i':
        o.iterations = std::atoi(next().c_str());
        break;
      case 'o':
        o.file = next();
        break;
      case 'k':
        o.keep = true;
        break;
      case 'd':
        o.inter_delay = std::atof(next().c_str());
        break;
      case 'q':
        o.quiet = true;
        break;
      case 'U':
        read_hints_file(&o, next());
        break;
      case 'J': {
        o.json_file = next();
        json_dash = o.json_file == "-";
        break;
      }
      case 'O': {
        std::stringstream ss(next());
        for (std::string kv; std::getline(ss, kv, ',');) {
          size_t eq = kv.find('=');
          if (eq == std::string::npos) throw std::invalid_argument("-O wants key=value: " + kv);
          apply_directive(&o, kv.substr(0, eq), kv.substr(eq + 1));
        }
        break;
      }
      case 'h':
        usage(stdout);
        std::exit(0);
      default:
        throw std::invalid_argument("unknown option " + a);
    }
  }
  if (json_dash) {
    o.json_file.clear();
    o.json_stdout = true;
  }
  if (!o.write && !o.read) o.write = o.read = true;
  for (auto& c : o.api) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (o.xfer == 0 || o.block == 0 || o.segments == 0 || o.iterations < 1)
    throw std::invalid_argument("-b, -t, -s and -i must be positive");
  if (o.block % o.xfer != 0) throw std::invalid_argument("-b must be a multiple of -t");
  return o;
}

// ---- phases ------------------------------------------------------------------------------------

struct PhaseTimes {
  double open = 0, io = 0, close = 0, total = 0;  // seconds (max over ranks / job-wide)
  double lat_mean = 0, lat_max = 0;               // per transfer (s)
  uint64_t bytes = 0, ops = 0;                    // all ranks
  uint64_t errors = 0;                            // mismatched bytes, all ranks
};

struct Run {
  IorOptions o;
  std::unique_ptr<Backend> be;
  std::vector<uint8_t> buf, expect;
  uint64_t file_size = 0;  // data bytes of one file
  uint64_t per_rank = 0;   // bytes one rank moves per phase
  std::string api_desc;
  int printed_mismatches = 0;
};

std::string file_of(const IorOptions& o, int owner) {
  if (!o.fpp) return o.file;
  char sfx[16];
  std::snprintf(sfx, sizeof sfx, ".%08d", owner);
  return o.file + sfx;
}

uint64_t offset_of(const IorOptions& o, int owner, uint64_t seg, uint64_t j) {
  uint64_t in_block = j * o.xfer;
  if (o.fpp) return seg * o.block + in_block;
  return seg * (static_cast<uint64_t>(g_size) * o.block) + static_cast<uint64_t>(owner) * o.block +
         in_block;
}

// Counts the bytes of `got` that differ from `want`; reports the first few per rank.
uint64_t compare(Run& r, const uint8_t* got, const uint8_t* want, uint64_t len, uint64_t off,
                 const std::string& file, const char* phase) {
  if (std::memcmp(got, want, len) == 0) return 0;
  uint64_t bad = 0;
  for (uint64_t i = 0; i < len; ++i) {
    if (got[i] == want[i]) continue;
    if (bad == 0 && r.printed_mismatches < 3) {
      ++r.printed_mismatches;
      std::fprintf(stderr,
                   "edaos-ior [rank %d]: %s: %s offset %" PRIu64 ": expected 0x%02x, read 0x%02x\n",
                   g_rank, phase, file.c_str(), off + i, want[i], got[i]);
    }
    ++bad;
  }
  return bad;
}

// One timed phase. write: generate and write; else read (and verify when `verify`).
// `tag`: the iteration tag of the data (written, or expected). `timed` false: a check pass.
PhaseTimes phase(Run& r, bool write, int tag, bool verify, const char* name) {
  const IorOptions& o = r.o;
  int owner = g_rank;
  if (!write && o.reorder) owner = ((g_rank + o.reorder_shift) % g_size + g_size) % g_size;
  std::string file = file_of(o, owner);
  MPI_Comm comm = o.fpp ? MPI_COMM_SELF : MPI_COMM_WORLD;
  uint64_t key = pattern_key(o.seed, tag, owner);
  const uint64_t per_block = o.block / o.xfer;
  uint64_t errors = 0, ops = 0;
  double untimed = 0, lat_sum = 0, lat_max = 0;

  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  r.be->open(file, comm, write, write, r.file_size);
  double t1 = MPI_Wtime();
  for (uint64_t s = 0; s < o.segments; ++s) {
    for (uint64_t j = 0; j < per_block; ++j) {
      uint64_t off = offset_of(o, owner, s, j);
      if (write) {
        double g = MPI_Wtime();
        pattern_fill(r.buf.data(), o.xfer, off, key);
        untimed += MPI_Wtime() - g;
      } else if (verify) {
        std::memset(r.buf.data(), 0, o.xfer);  // a read that does not land is seen
      }
      double a = MPI_Wtime();
      if (write)
        r.be->write(off, r.buf.data(), o.xfer);
      else
        r.be->read(off, r.buf.data(), o.xfer);
      double l = MPI_Wtime() - a;
      lat_sum += l;
      lat_max = std::max(lat_max, l);
      ++ops;
      if (!write && verify) {
        double g = MPI_Wtime();
        pattern_fill(r.expect.data(), o.xfer, off, key);
        errors += compare(r, r.buf.data(), r.expect.data(), o.xfer, off, file, name);
        untimed += MPI_Wtime() - g;
      }
    }
  }
  if (write && o.fsync) r.be->fsync();
  double t2 = MPI_Wtime() - untimed;
  r.be->close();
  double t3 = MPI_Wtime() - untimed;

  double local[5] = {t1 - t0, t2 - t1, t3 - t2, t3, lat_max}, mx[5];
  MPI_Allreduce(local, mx, 5, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  double start = 0, lat_tot = 0;
  MPI_Allreduce(&t0, &start, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&lat_sum, &lat_tot, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  uint64_t cnt[2] = {ops, errors}, tot[2];
  MPI_Allreduce(cnt, tot, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  PhaseTimes p;
  p.open = mx[0];
  p.io = mx[1];
  p.close = mx[2];
  p.total = mx[3] - start;
  p.lat_max = mx[4];
  p.ops = tot[0];
  p.errors = tot[1];
  p.lat_mean = p.ops ? lat_tot / static_cast<double>(p.ops) : 0;
  p.bytes = p.ops * o.xfer;
  return p;
}

// ---- reporting ---------------------------------------------------------------------------------

constexpr double kMiB = 1024.0 * 1024.0;

struct Sample {
  int iter;
  std::string op;
  PhaseTimes t;
  double mib() const { return t.total > 0 ? static_cast<double>(t.bytes) / kMiB / t.total : 0; }
  double iops() const { return t.total > 0 ? static_cast<double>(t.ops) / t.total : 0; }
};

struct Summary {
  std::string op;
  double max_mib = 0, min_mib = 0, mean_mib = 0, sd_mib = 0, max_ops = 0, min_ops = 0, mean_ops = 0,
         mean_s = 0, lat = 0;
  int n = 0;
};

Summary summarize(const std::vector<Sample>& v, const std::string& op) {
  Summary s;
  s.op = op;
  std::vector<const Sample*> m;
  for (const auto& x : v)
    if (x.op == op) m.push_back(&x);
  if (m.empty()) return s;
  s.n = static_cast<int>(m.size());
  s.max_mib = s.min_mib = m[0]->mib();
  s.max_ops = s.min_ops = m[0]->iops();
  for (auto* x : m) {
    s.max_mib = std::max(s.max_mib, x->mib());
    s.min_mib = std::min(s.min_mib, x->mib());
    s.max_ops = std::max(s.max_ops, x->iops());
    s.min_ops = std::min(s.min_ops, x->iops());
    s.mean_mib += x->mib() / s.n;
    s.mean_ops += x->iops() / s.n;
    s.mean_s += x->t.total / s.n;
    s.lat += x->t.lat_mean / s.n;
  }
  for (auto* x : m) s.sd_mib += (x->mib() - s.mean_mib) * (x->mib() - s.mean_mib) / s.n;
  s.sd_mib = std::sqrt(s.sd_mib);
  return s;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
      continue;
    }
    o += c;
  }
  return o;
}

std::string to_json(const Run& r, const std::vector<Sample>& samples,
                    const std::vector<Summary>& sums, uint64_t errors, const std::string& cmd,
                    const char* began, const std::string& stats_json) {
  const IorOptions& o = r.o;
  std::ostringstream j;
  j.precision(6);
  j << std::boolalpha;
  j << "{\"tool\":\"edaos-ior\",\"began\":\"" << began << "\",\"command\":\"" << json_escape(cmd)
    << "\",\"params\":{\"api\":\"" << json_escape(r.api_desc) << "\",\"ranks\":" << g_size
    << ",\"blockSize\":" << o.block << ",\"transferSize\":" << o.xfer
    << ",\"segmentCount\":" << o.segments << ",\"filePerProc\":" << o.fpp
    << ",\"collective\":" << o.collective << ",\"reorderTasks\":" << o.reorder
    << ",\"fsync\":" << o.fsync << ",\"repetitions\":" << o.iterations << ",\"testFile\":\""
    << json_escape(o.file) << "\",\"aggregateBytes\":" << r.per_rank * g_size << ",\"hints\":{";
  for (size_t i = 0; i < o.hints.size(); ++i)
    j << (i ? "," : "") << "\"" << json_escape(o.hints[i].first) << "\":\""
      << json_escape(o.hints[i].second) << "\"";
  j << "}},\"tests\":[";
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    j << (i ? "," : "") << "{\"iteration\":" << s.iter << ",\"access\":\"" << s.op
      << "\",\"bwMiB\":" << s.mib() << ",\"iops\":" << s.iops() << ",\"latency\":" << s.t.lat_mean
      << ",\"latencyMax\":" << s.t.lat_max << ",\"openTime\":" << s.t.open
      << ",\"wrRdTime\":" << s.t.io << ",\"closeTime\":" << s.t.close
      << ",\"totalTime\":" << s.t.total << ",\"bytes\":" << s.t.bytes << ",\"ops\":" << s.t.ops
      << ",\"errors\":" << s.t.errors << "}";
  }
  j << "],\"summary\":[";
  bool first = true;
  for (const auto& s : sums) {
    if (s.n == 0) continue;
    j << (first ? "" : ",") << "{\"operation\":\"" << s.op << "\",\"bwMaxMIB\":" << s.max_mib
      << ",\"bwMinMIB\":" << s.min_mib << ",\"bwMeanMIB\":" << s.mean_mib
      << ",\"bwStdMIB\":" << s.sd_mib << ",\"OPsMax\":" << s.max_ops << ",\"OPsMin\":" << s.min_ops
      << ",\"OPsMean\":" << s.mean_ops << ",\"MeanTime\":" << s.mean_s << ",\"latency\":" << s.lat
      << ",\"reps\":" << s.n << "}";
    first = false;
  }
  j << "],\"verifyErrors\":" << errors;
  j << stats_json;
  j << "}";
  return j.str();
}

// CPU seconds (user + system) this process used so far, from /proc/self/stat (fields 14, 15).
double process_cpu_seconds() {
  FILE* f = std::fopen("/proc/self/stat", "r");
  if (!f) return -1;
  char line[4096];
  size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  line[n] = 0;
  const char* p = std::strrchr(line, ')');  // the command name may hold spaces
  if (!p) return -1;
  unsigned long long ut = 0, st = 0;
  // After ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15).
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// --idle: every rank sleeps (no MPI call in the window), then reports the CPU its process
// used meanwhile: what an idle server rank (progress thread) and an idle client cost.
int idle_run(const IorOptions& o) {
  MPI_Barrier(MPI_COMM_WORLD);
  double c0 = process_cpu_seconds(), w0 = MPI_Wtime();
  usleep(static_cast<useconds_t>(o.idle_seconds * 1e6));
  double c1 = process_cpu_seconds(), w1 = MPI_Wtime();
  double pct = 100.0 * (c1 - c0) / (w1 - w0);
  std::vector<double> all(static_cast<size_t>(g_size));
  MPI_Gather(&pct, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  std::vector<int> servers;
  if (edaos::objstore::is_initialized()) servers = edaos::objstore::server_ranks();
  if (g_rank == 0) {
    std::ostringstream j;
    j << "{\"tool\":\"edaos-ior\",\"idleSeconds\":" << (w1 - w0)
      << ",\"storeRunning\":" << (edaos::objstore::is_initialized() ? "true" : "false")
      << ",\"ranks\":[";
    std::printf("idle for %.2f s (%s); CPU used per rank, %% of one core:\n", w1 - w0,
                edaos::objstore::is_initialized() ? "object store running" : "no object store");
    for (int r = 0; r < g_size; ++r) {
      bool srv = std::find(servers.begin(), servers.end(), r) != servers.end();
      std::printf("  rank %d (%s): %.2f%%\n", r, srv ? "server + client" : "client", all[r]);
      j << (r ? "," : "") << "{\"rank\":" << r << ",\"server\":" << (srv ? "true" : "false")
        << ",\"cpuPercent\":" << all[r] << "}";
    }
    j << "]}";
    if (!o.json_file.empty()) {
      if (FILE* f = std::fopen(o.json_file.c_str(), "w")) {
        std::fprintf(f, "%s\n", j.str().c_str());
        std::fclose(f);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace edaos::bench

using namespace edaos::bench;

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);

  Run r;
  try {
    r.o = parse(argc, argv);
  } catch (const std::exception& e) {
    if (g_rank == 0) {
      std::fprintf(stderr, "edaos-ior: %s\n", e.what());
      usage(stderr);
    }
    MPI_Finalize();
    return 2;
  }
  IorOptions& o = r.o;
  std::string why;
  if (o.api == "POSIX")
    r.be = make_posix_backend(o, &why);
  else if (o.api == "MPIIO")
    r.be = make_mpiio_backend(o, &why);
  else if (o.api == "HDF5")
    r.be = make_hdf5_backend(o, &why);
  else if (o.api == "DFS")
    r.be = make_dfs_backend(o, &why);
  else
    why = "unknown -a " + o.api + " (POSIX, MPIIO, HDF5, DFS)";
  if (!r.be) {
    if (g_rank == 0) std::fprintf(stderr, "edaos-ior: %s\n", why.c_str());
    MPI_Finalize();
    return 2;
  }
  if (o.idle_seconds > 0) {
    int rc = idle_run(o);
    r.be.reset();
    MPI_Finalize();
    return rc;
  }
  r.buf.resize(o.xfer);
  r.expect.resize(o.xfer);
  r.per_rank = o.segments * o.block;
  r.file_size = o.fpp ? r.per_rank : r.per_rank * static_cast<uint64_t>(g_size);

  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  char began[64];
  time_t now = time(nullptr);
  strftime(began, sizeof began, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  bool text = !o.json_stdout;
  if (g_rank == 0 && text) {
    std::printf("edaos-ior: began %s\nCommand line        : %s\n", began, cmd.c_str());
    std::printf("api                 : %s\n", o.api.c_str());
    std::printf("test filename       : %s\n", o.file.c_str());
    std::printf("access              : %s\n", o.fpp ? "file-per-process" : "single-shared-file");
    std::printf("ordering in a file  : sequential\nordering inter file : %s\n",
                o.reorder ? "constant task offset" : "no tasks offsets");
    std::printf("tasks               : %d\nrepetitions         : %d\n", g_size, o.iterations);
    std::printf("xfersize            : %" PRIu64 " bytes\nblocksize           : %" PRIu64
                " bytes\nsegments            : %" PRIu64 "\naggregate filesize  : %.2f MiB\n",
                o.xfer, o.block, o.segments, static_cast<double>(r.per_rank) * g_size / kMiB);
    for (const auto& [k, v] : o.hints)
      std::printf("hint                : %s = %s\n", k.c_str(), v.c_str());
    if (!o.quiet)
      std::printf("\n%-7s %10s %10s %11s %10s %9s %9s %9s %9s %9s %4s\n", "access", "bw(MiB/s)",
                  "IOPS", "Latency(s)", "block(KiB)", "xfer(KiB)", "open(s)", "wr/rd(s)",
                  "close(s)", "total(s)", "iter");
  }

  std::vector<Sample> samples;
  uint64_t errors = 0;
  auto row = [&](const Sample& s) {
    if (g_rank != 0 || !text || o.quiet) return;
    std::printf("%-7s %10.2f %10.1f %11.6f %10.0f %9.2f %9.4f %9.4f %9.4f %9.4f %4d\n",
                s.op.c_str(), s.mib(), s.iops(), s.t.lat_mean,
                static_cast<double>(o.block) / 1024.0, static_cast<double>(o.xfer) / 1024.0,
                s.t.open, s.t.io, s.t.close, s.t.total, s.iter);
    std::fflush(stdout);
  };
  for (int it = 0; it < o.iterations; ++it) {
    int tag = o.write ? it : o.verify_iter;
    if (o.write) {
      Sample s{it, "write", phase(r, true, tag, false, "write")};
      if (r.api_desc.empty()) r.api_desc = r.be->describe();
      row(s);
      samples.push_back(s);
      if (o.check_write) {
        PhaseTimes c = phase(r, false, tag, true, "write check");
        errors += c.errors;
        if (g_rank == 0 && c.errors)
          std::printf("WARNING: incorrect data on write check, iteration %d: %" PRIu64
                      " bytes differ\n",
                      it, c.errors);
      }
    }
    if (o.read) {
      Sample s{it, "read", phase(r, false, tag, o.check_read, "read")};
      if (r.api_desc.empty()) r.api_desc = r.be->describe();
      errors += s.t.errors;
      row(s);
      if (g_rank == 0 && s.t.errors)
        std::printf("WARNING: incorrect data on read, iteration %d: %" PRIu64 " bytes differ\n", it,
                    s.t.errors);
      samples.push_back(s);
    }
    if (o.write && !o.keep) {
      if (o.fpp)
        r.be->remove(file_of(o, g_rank), MPI_COMM_SELF);
      else
        r.be->remove(o.file, MPI_COMM_WORLD);
      MPI_Barrier(MPI_COMM_WORLD);
    }
    if (o.inter_delay > 0 && it + 1 < o.iterations)
      usleep(static_cast<useconds_t>(o.inter_delay * 1e6));
  }

  std::vector<Summary> sums = {summarize(samples, "write"), summarize(samples, "read")};
  // The store's counters summed over the ranks (collective: every rank joins).
  std::string stats_json;
  int store_up = edaos::objstore::is_initialized() ? 1 : 0, all_up = 0;
  MPI_Allreduce(&store_up, &all_up, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (all_up) {
    auto st = edaos::objstore::stats();
    uint64_t mine[7] = {st.rpcs,
                        st.bytes_written,
                        st.bytes_read,
                        st.full_stripe_writes,
                        st.partial_stripe_writes,
                        st.degraded_reads,
                        st.csum_errors},
             sum[7];
    MPI_Reduce(mine, sum, 7, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    std::ostringstream j;
    j << ",\"edaosStats\":{\"rpcs\":" << sum[0] << ",\"bytesWritten\":" << sum[1]
      << ",\"bytesRead\":" << sum[2] << ",\"fullStripeWrites\":" << sum[3]
      << ",\"partialStripeWrites\":" << sum[4] << ",\"degradedReads\":" << sum[5]
      << ",\"csumErrors\":" << sum[6] << "}";
#ifdef EDAOS_IOR_HAVE_MPIO
    // The MPI-IO driver's counters (daos: files only): how collective calls were served.
    edaos_mpio_stats_t ms{};
    edaos_mpio_get_stats(&ms);
    uint64_t mm[7] = {ms.ms_indep_calls, ms.ms_coll_calls,   ms.ms_coll_twophase,
                      ms.ms_coll_rounds, ms.ms_agg_io_calls, ms.ms_agg_io_bytes,
                      ms.ms_sieved_reads},
             msum[7];
    MPI_Reduce(mm, msum, 7, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    j << ",\"mpioStats\":{\"indepCalls\":" << msum[0] << ",\"collCalls\":" << msum[1]
      << ",\"collTwoPhase\":" << msum[2] << ",\"collRounds\":" << msum[3]
      << ",\"aggIoCalls\":" << msum[4] << ",\"aggIoBytes\":" << msum[5]
      << ",\"sievedReads\":" << msum[6] << "}";
#endif
    stats_json = j.str();
    if (g_rank == 0 && text && !o.quiet)
      std::printf("edaos store counters (all ranks): %" PRIu64 " RPCs, %" PRIu64 " full / %" PRIu64
                  " partial stripe writes, %" PRIu64 " degraded reads\n",
                  sum[0], sum[3], sum[4], sum[5]);
  }
  if (g_rank == 0) {
    if (text) {
      std::printf("\nSummary of all tests (%s):\n", r.api_desc.c_str());
      std::printf("%-9s %10s %10s %10s %9s %11s %11s %11s %9s %11s %6s %4s %4s %4s %10s %9s\n",
                  "Operation", "Max(MiB)", "Min(MiB)", "Mean(MiB)", "StdDev", "Max(OPs)",
                  "Min(OPs)", "Mean(OPs)", "Mean(s)", "Latency(s)", "#Tasks", "reps", "fPP", "seg",
                  "blksiz", "xsize");
      for (const auto& s : sums)
        if (s.n)
          std::printf(
              "%-9s %10.2f %10.2f %10.2f %9.2f %11.2f %11.2f %11.2f %9.5f %11.6f %6d %4d "
              "%4d %4" PRIu64 " %10" PRIu64 " %9" PRIu64 "\n",
              s.op.c_str(), s.max_mib, s.min_mib, s.mean_mib, s.sd_mib, s.max_ops, s.min_ops,
              s.mean_ops, s.mean_s, s.lat, g_size, s.n, o.fpp ? 1 : 0, o.segments, o.block, o.xfer);
      if (o.check_write || o.check_read)
        std::printf("Verification: %s (%" PRIu64 " bytes differ)\n", errors ? "FAILED" : "passed",
                    errors);
    }
    std::string js = to_json(r, samples, sums, errors, cmd, began, stats_json);
    if (o.json_stdout) std::printf("%s\n", js.c_str());
    if (!o.json_file.empty()) {
      FILE* f = std::fopen(o.json_file.c_str(), "w");
      if (!f)
        std::fprintf(stderr, "edaos-ior: cannot write %s\n", o.json_file.c_str());
      else {
        std::fprintf(f, "%s\n", js.c_str());
        std::fclose(f);
      }
    }
    std::fflush(stdout);
  }
  r.be.reset();  // collective for DFS (unmount, disconnect)
#ifdef EDAOS_IOR_HAVE_HDF5
  H5close();  // before the store stops in MPI_Finalize (the VOL connector needs it)
#endif
  MPI_Finalize();
  return errors ? 1 : 0;
}

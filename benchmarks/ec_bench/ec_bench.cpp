// edaos-ec-bench: throughput of the erasure codec and the checksums, next to a memcpy
// baseline measured in the same run on the same buffers (so ratios survive noisy VMs).
//
//   edaos-ec-bench [--json] [--quick] [--min-time S] [--backend auto|isal|reference]
//
// For each k+p in {2+1, 4+2, 8+2, 16+3} and cell size in {64 KiB, 128 KiB, 1 MiB}:
//   memcpy   copy of the k data cells (k*cell bytes) into another buffer
//   encode   Codec::encode of one stripe
//   dec1     Codec::decode with data cell 0 missing (a degraded read of one lost engine)
//   decP     Codec::decode with data cells 0..p-1 missing
// For each cell size: crc32, crc32c, crc64 over a 16 MiB buffer in cell-sized calls, and
// memcpy of the same 16 MiB in cell-sized pieces. Every figure is GB/s (1e9 bytes/s) of
// *data* bytes (parity bytes are not counted), best of 3 runs of at least --min-time each.
// Buffers hold non-zero pseudo-random bytes.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ec/checksum.hpp"
#include "ec/codec.hpp"

namespace {

using edaos::objstore::CsumType;
using namespace edaos::objstore::ec;

struct Options {
  bool json = false;
  double min_time = 0.09;  // seconds per run; 3 runs per figure (about 17 s in total)
  Backend backend = Backend::kAuto;
  bool quick = false;  // tiny sizes and times: a smoke run that only proves the tool works
};

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t[], FreeDeleter>;

Buffer alloc(size_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, std::max<size_t>(n, 64)) != 0) {
    std::fprintf(stderr, "edaos-ec-bench: out of memory (%zu bytes)\n", n);
    std::exit(1);
  }
  return Buffer(static_cast<uint8_t*>(p));
}

void fill_random(uint8_t* p, size_t n, uint64_t seed) {
  uint64_t s = seed;  // SplitMix64
  for (size_t i = 0; i < n; i += 8) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    std::memcpy(p + i, &z, std::min<size_t>(8, n - i));
  }
  for (size_t i = 0; i < n; i++) p[i] |= (p[i] == 0);  // strictly non-zero bytes
}

// Best-of-3 throughput in GB/s of `bytes` per call of fn.
double measure(const Options& o, size_t bytes, const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  fn();  // warm-up: page faults, table builds, caches
  double best = 0;
  for (int run = 0; run < 3; run++) {
    size_t calls = 0;
    const auto t0 = clock::now();
    double el = 0;
    do {
      fn();
      calls++;
      el = std::chrono::duration<double>(clock::now() - t0).count();
    } while (el < o.min_time);
    best = std::max(best, static_cast<double>(bytes) * static_cast<double>(calls) / el / 1e9);
  }
  return best;
}

std::string size_name(size_t n) {
  return n >= (1u << 20) ? std::to_string(n >> 20) + "MiB" : std::to_string(n >> 10) + "KiB";
}

struct Row {
  std::string op;
  int k = 0, p = 0;
  size_t cell = 0;
  double gbps = 0, memcpy_gbps = 0;
};

void usage() {
  std::fprintf(stderr,
               "usage: edaos-ec-bench [--json] [--quick] [--min-time S] "
               "[--backend auto|isal|reference]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--quick") {
      o.quick = true;
      o.min_time = 0.005;
    } else if (a == "--min-time" && i + 1 < argc) {
      o.min_time = std::atof(argv[++i]);
    } else if (a == "--backend" && i + 1 < argc) {
      const std::string b = argv[++i];
      if (b == "auto") {
        o.backend = Backend::kAuto;
      } else if (b == "isal") {
        o.backend = Backend::kIsal;
      } else if (b == "reference") {
        o.backend = Backend::kReference;
      } else {
        usage();
      }
    } else {
      usage();
    }
  }

  const std::vector<std::pair<int, int>> shapes = {{2, 1}, {4, 2}, {8, 2}, {16, 3}};
  std::vector<size_t> cells = {64 << 10, 128 << 10, 1 << 20};
  if (o.quick) cells = {4099};
  std::vector<Row> rows;
  Backend used = o.backend;

  for (auto [k, p] : shapes) {
    CodecOptions co;
    co.backend = o.backend;
    auto r = Codec::create(k, p, co);
    if (!r.ok()) {
      std::fprintf(stderr, "edaos-ec-bench: %s\n", r.status().to_string().c_str());
      return 1;
    }
    auto codec = r.value();
    used = codec->backend();
    for (size_t cell : cells) {
      const size_t m = static_cast<size_t>(k + p);
      Buffer stripe = alloc(m * cell), copy = alloc(static_cast<size_t>(k) * cell);
      fill_random(stripe.get(), m * cell, 42 + static_cast<uint64_t>(k) * cell);
      std::vector<uint8_t*> ptr(m);
      for (size_t i = 0; i < m; i++) ptr[i] = stripe.get() + i * cell;
      const size_t data_bytes = static_cast<size_t>(k) * cell;
      codec->encode(ptr.data(), ptr.data() + k, cell);

      Row base{"memcpy", k, p, cell, 0, 0};
      base.gbps =
          measure(o, data_bytes, [&] { std::memcpy(copy.get(), stripe.get(), data_bytes); });
      auto add = [&](const char* op, const std::function<void()>& fn) {
        Row row{op, k, p, cell, measure(o, data_bytes, fn), base.gbps};
        rows.push_back(row);
      };
      rows.push_back({"memcpy", k, p, cell, base.gbps, base.gbps});
      add("encode", [&] { codec->encode(ptr.data(), ptr.data() + k, cell); });
      std::vector<char> present(m, 1);
      present[0] = 0;
      add("decode1", [&] {
        (void)codec->decode(ptr.data(), reinterpret_cast<const bool*>(present.data()), cell);
      });
      for (int i = 0; i < std::min(p, k); i++) present[static_cast<size_t>(i)] = 0;
      add("decodeP", [&] {
        (void)codec->decode(ptr.data(), reinterpret_cast<const bool*>(present.data()), cell);
      });
    }
  }

  // Checksums: a 16 MiB buffer (1 MiB in --quick) walked in cell-sized calls.
  const size_t total = o.quick ? (1u << 20) : (16u << 20);
  Buffer buf = alloc(total), dst = alloc(total);
  fill_random(buf.get(), total, 7);
  const std::pair<CsumType, const char*> csums[] = {
      {CsumType::kCrc32, "crc32"}, {CsumType::kCrc32c, "crc32c"}, {CsumType::kCrc64, "crc64"}};
  for (size_t cell : cells) {
    const size_t n = total / cell * cell;
    const double mc = measure(o, n, [&] {
      for (size_t off = 0; off + cell <= n; off += cell) {
        std::memcpy(dst.get() + off, buf.get() + off, cell);
      }
    });
    rows.push_back({"memcpy", 0, 0, cell, mc, mc});
    for (auto [t, name] : csums) {
      volatile uint64_t sink = 0;
      const double g = measure(o, n, [&] {
        uint64_t acc = 0;
        for (size_t off = 0; off + cell <= n; off += cell) {
          acc ^= csum_compute_with(used, t, buf.get() + off, cell);
        }
        sink = sink ^ acc;
      });
      rows.push_back({name, 0, 0, cell, g, mc});
    }
  }

  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  const unsigned ncpu = std::thread::hardware_concurrency();

  if (o.json) {
    std::printf(
        "{\"tool\":\"edaos-ec-bench\",\"date\":\"%s\",\"host\":\"%s\",\"cpus\":%u,"
        "\"backend\":\"%s\",\"min_time\":%g,\"unit\":\"GB/s of data bytes\",\"results\":[",
        date, host, ncpu, backend_name(used), o.min_time);
    for (size_t i = 0; i < rows.size(); i++) {
      const Row& r = rows[i];
      std::printf(
          "%s\n {\"op\":\"%s\",\"k\":%d,\"p\":%d,\"cell\":%zu,\"gbps\":%.3f,"
          "\"memcpy_gbps\":%.3f,\"ratio_memcpy\":%.3f}",
          i ? "," : "", r.op.c_str(), r.k, r.p, r.cell, r.gbps, r.memcpy_gbps,
          r.gbps / r.memcpy_gbps);
    }
    std::printf("\n]}\n");
    return 0;
  }

  std::printf(
      "edaos-ec-bench  %s  host=%s  cpus=%u  backend=%s  GB/s of data bytes "
      "(x = ratio to memcpy in the same run)\n\n",
      date, host, ncpu, backend_name(used));
  std::printf("%-5s %-7s %8s %16s %16s %16s\n", "k+p", "cell", "memcpy", "encode", "decode(1)",
              "decode(p)");
  for (size_t i = 0; i < rows.size(); i++) {
    if (rows[i].op != "memcpy" || rows[i].k == 0) continue;
    const Row& mc = rows[i];
    std::printf("%2d+%-2d %-7s %8.2f", mc.k, mc.p, size_name(mc.cell).c_str(), mc.gbps);
    for (size_t j = i + 1; j < rows.size() && rows[j].op != "memcpy"; j++) {
      std::printf(" %8.2f (x%4.2f)", rows[j].gbps, rows[j].gbps / mc.gbps);
    }
    std::printf("\n");
  }
  std::printf("\n%-7s %8s %16s %16s %16s\n", "cell", "memcpy", "crc32", "crc32c", "crc64");
  for (size_t i = 0; i < rows.size(); i++) {
    if (rows[i].op != "memcpy" || rows[i].k != 0) continue;
    const Row& mc = rows[i];
    std::printf("%-7s %8.2f", size_name(mc.cell).c_str(), mc.gbps);
    for (size_t j = i + 1; j < rows.size() && rows[j].op != "memcpy"; j++) {
      std::printf(" %8.2f (x%4.2f)", rows[j].gbps, rows[j].gbps / mc.gbps);
    }
    std::printf("\n");
  }
  return 0;
}

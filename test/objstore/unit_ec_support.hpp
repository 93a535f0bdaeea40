// Helpers shared by the unit_ec_*.cpp tests: a fixed PRNG (the golden corpora depend on its
// exact output: never change it), stripe buffers, and the golden-data directory.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace edaos::objstore::ec::testing {

// SplitMix64 (Steele, Lea, Flood 2014). Bytes are taken little-endian from each output.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  void fill(uint8_t* p, size_t n) {
    while (n > 0) {
      const uint64_t v = next();
      for (int b = 0; b < 8 && n > 0; b++, n--) *p++ = static_cast<uint8_t>(v >> (8 * b));
    }
  }

 private:
  uint64_t s_;
};

// k+p cells of `len` bytes each, allocated with a configurable misalignment so kernels are
// exercised on unaligned addresses too.
struct Stripe {
  Stripe(int k_, int p_, size_t len_, size_t misalign = 0) : k(k_), p(p_), len(len_) {
    store.resize(static_cast<size_t>(k + p));
    for (auto& s : store) s.assign(len + misalign + 1, 0);
    for (auto& s : store) ptr.push_back(s.data() + misalign);
  }
  uint8_t* cell(int i) { return ptr[static_cast<size_t>(i)]; }
  uint8_t* const* data() { return ptr.data(); }
  uint8_t* const* parity() { return ptr.data() + k; }
  const uint8_t* const* cdata() { return ptr.data(); }
  void fill_data(SplitMix64& rng) {
    for (int i = 0; i < k; i++) rng.fill(cell(i), len);
  }
  std::vector<std::vector<uint8_t>> snapshot() const {
    std::vector<std::vector<uint8_t>> out;
    for (auto* q : ptr) out.emplace_back(q, q + len);
    return out;
  }

  int k, p;
  size_t len;
  std::vector<std::vector<uint8_t>> store;
  std::vector<uint8_t*> ptr;
};

// $EDAOS_TEST_DATA/ec when set (ctest sets it), else test/golden/ec next to this source file.
inline std::string golden_dir() {
  if (const char* d = std::getenv("EDAOS_TEST_DATA"); d != nullptr && *d != '\0') {
    return std::string(d) + "/ec";
  }
  std::string f = __FILE__;
  return f.substr(0, f.find_last_of('/')) + "/../golden/ec";
}

}  // namespace edaos::objstore::ec::testing

// Reed-Solomon erasure codec over GF(2^8) for k data + p parity cells (edaos_os_ec).
//
// A stripe is k data cells followed by p parity cells, all `len` bytes. Parity row j is
//   parity[j] = sum_i coef(j, i) * data[i]        (GF(2^8), polynomial 0x11d)
// with the systematic generator matrix of gf::generator_matrix(): ISA-L's Cauchy matrix
// (gf_gen_cauchy1_matrix, as DAOS uses) for p >= 2, all ones (plain XOR) for p == 1. Any k of
// the k+p cells reconstruct the rest (the code is MDS for every supported k, p). The matrix is
// part of the on-disk format: parity written by one build is read by the next, so it never
// changes; test/golden/ec pins it.
//
// Backends: ISA-L (SIMD, chosen when the library was built with EDAOS_HAVE_ISAL) and a portable
// reference backend. Both produce identical bytes; the reference one is also what the tests
// compare ISA-L against.
//
// Thread-safety: a Codec is immutable after creation except for its decode-table cache, which
// is internally locked. All methods may be called concurrently from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ec/backend.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::objstore::ec {

constexpr int kMaxK = 32;
constexpr int kMaxP = 6;
// Decode plans kept per Codec (LRU). One plan is at most 38 + 6*32 + 32*32*6 bytes (~6.4 KiB).
constexpr size_t kDefaultDecodeCacheEntries = 64;

struct CodecOptions {
  Backend backend = Backend::kAuto;
  // Decode plans cached by erasure pattern; 0 disables the cache (every decode rebuilds).
  size_t decode_cache_entries = kDefaultDecodeCacheEntries;
};

// Counters of one Codec's decode-plan cache (monotonic except `entries`).
struct DecodeCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  size_t entries = 0;
  size_t capacity = 0;
};

class DecodeCache;  // codec.cpp

class Codec {  // immutable after creation, thread-safe, shared
 public:
  // Cached per (k,p): tables are built once and shared by all callers, for the life of the
  // process. k in [1,32], p in [0,6] (p=0: no parity, encode is a no-op). Uses Backend::kAuto
  // and kDefaultDecodeCacheEntries. Out-of-range k or p: EDAOS_INVAL naming the value.
  static Result<std::shared_ptr<const Codec>> get(int k, int p);
  // A private, uncached instance with explicit options (tests, benchmarks). Backend::kIsal in
  // a build without ISA-L is EDAOS_NOTSUP.
  static Result<std::shared_ptr<const Codec>> create(int k, int p, const CodecOptions& opts);

  ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  int k() const { return k_; }
  int p() const { return p_; }
  // The backend actually in use (never kAuto).
  Backend backend() const { return backend_; }
  // Generator coefficient of parity row j (0 <= j < p) for data cell i (0 <= i < k).
  uint8_t coef(int j, int i) const;

  // data: k pointers to len bytes each; parity: p pointers to len bytes each (written).
  // Any len (no padding or alignment needed). Parity must not overlap data.
  void encode(const uint8_t* const* data, uint8_t* const* parity, size_t len) const;

  // Incremental parity update when data cell `idx` changes: parity[j] ^= coef(j,idx)*(old^new).
  // delta = old XOR new (len bytes). Lets a partial-stripe writer update parity without
  // reading all k cells. Updates from different cells commute (XOR), so concurrent writers of
  // different cells only need the parity read-modify-write itself to be serialized.
  void apply_delta(int idx, const uint8_t* delta, uint8_t* const* parity, size_t len) const;

  // cells: k+p pointers (data cells first, then parity), each len bytes; `present[i]` says
  // which hold valid bytes. Rebuilds every missing cell in place (data and parity) from the
  // first k present cells. EDAOS_DEGRADED (message names the counts) if more than p are
  // missing; cells are then left untouched.
  Status decode(uint8_t* const* cells, const bool* present, size_t len) const;

  DecodeCacheStats decode_cache_stats() const;

 private:
  Codec(int k, int p, Backend backend, size_t cache_entries);
  struct Plan;
  std::shared_ptr<const Plan> build_plan(uint64_t missing_mask) const;
  // dst[r] = sum_i rows[r*k + i] * src[i] for r < nrows, through the active backend.
  void apply_rows(int nrows, const uint8_t* rows, const uint8_t* isal_tbls,
                  const uint8_t* const* src, uint8_t* const* dst, size_t len) const;

  const int k_;
  const int p_;
  const Backend backend_;
  std::vector<uint8_t> matrix_;       // (k+p) x k generator, row-major
  std::vector<uint8_t> encode_tbls_;  // ISA-L expanded tables for the p parity rows
  std::unique_ptr<DecodeCache> cache_;
};

}  // namespace edaos::objstore::ec

// Reed-Solomon codec: matrix setup, the two backends, the decode-plan LRU and the per-(k,p)
// instance cache. Design notes: objstore/src/ec/README.md.
#include "ec/codec.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/log.hpp"
#include "ec/gf256.hpp"

#if EDAOS_HAVE_ISAL
#include <isa-l/erasure_code.h>
#endif

EDAOS_LOG_FACILITY(ec);

namespace edaos::objstore::ec {

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::kAuto:
      return "auto";
    case Backend::kIsal:
      return "isal";
    case Backend::kReference:
      return "reference";
  }
  return "?";
}

bool isal_available() {
#if EDAOS_HAVE_ISAL
  return true;
#else
  return false;
#endif
}

namespace {

// ISA-L takes int lengths; longer regions are processed in pieces of this size.
constexpr size_t kMaxIsalChunk = size_t{1} << 30;
int popcount64(uint64_t v) { return __builtin_popcountll(v); }

}  // namespace

// ---- decode plans ------------------------------------------------------------------------

// How to rebuild one erasure pattern: read `sources` (k cell indices), write `targets`.
// rows[t*k + i] is the coefficient of source i in target t.
struct Codec::Plan {
  std::vector<int> sources;
  std::vector<int> targets;
  std::vector<uint8_t> rows;
  std::vector<uint8_t> isal_tbls;
};

// LRU of decode plans keyed by the bitmask of missing cells (k+p <= 38 bits). Plans are
// shared_ptr so a plan evicted while another thread decodes with it stays alive.
class DecodeCache {
 public:
  explicit DecodeCache(size_t capacity) : capacity_(capacity) {}

  template <typename T>
  std::shared_ptr<const T> find(uint64_t key) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) {
      stats_.misses++;
      return nullptr;
    }
    stats_.hits++;
    lru_.splice(lru_.begin(), lru_, it->second);
    return std::static_pointer_cast<const T>(it->second->second);
  }

  // Inserts `v` unless another thread got there first; returns the cached value either way.
  template <typename T>
  std::shared_ptr<const T> insert(uint64_t key, std::shared_ptr<const T> v) {
    if (capacity_ == 0) return v;
    std::lock_guard<std::mutex> g(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) return std::static_pointer_cast<const T>(it->second->second);
    lru_.emplace_front(key, std::move(v));
    index_[key] = lru_.begin();
    while (lru_.size() > capacity_) {
      index_.erase(lru_.back().first);
      lru_.pop_back();
      stats_.evictions++;
    }
    return std::static_pointer_cast<const T>(lru_.front().second);
  }

  DecodeCacheStats stats() const {
    std::lock_guard<std::mutex> g(mu_);
    DecodeCacheStats s = stats_;
    s.entries = lru_.size();
    s.capacity = capacity_;
    return s;
  }

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<const void>>;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
  DecodeCacheStats stats_;
};

// ---- construction ------------------------------------------------------------------------

Codec::Codec(int k, int p, Backend backend, size_t cache_entries)
    : k_(k),
      p_(p),
      backend_(backend),
      matrix_(gf::generator_matrix(k, p)),
      cache_(std::make_unique<DecodeCache>(cache_entries)) {
#if EDAOS_HAVE_ISAL
  if (backend_ == Backend::kIsal && p_ > 0) {
    encode_tbls_.resize(static_cast<size_t>(32 * k_ * p_));
    ec_init_tables(k_, p_, matrix_.data() + k_ * k_, encode_tbls_.data());
  }
#endif
}

Codec::~Codec() = default;

Result<std::shared_ptr<const Codec>> Codec::create(int k, int p, const CodecOptions& opts) {
  if (k < 1 || k > kMaxK) {
    return Status(EDAOS_INVAL, "EC data cell count k=" + std::to_string(k) + " out of range [1," +
                                   std::to_string(kMaxK) + "]");
  }
  if (p < 0 || p > kMaxP) {
    return Status(EDAOS_INVAL, "EC parity cell count p=" + std::to_string(p) + " out of range [0," +
                                   std::to_string(kMaxP) + "]");
  }
  Backend b = opts.backend;
  if (b == Backend::kAuto) b = isal_available() ? Backend::kIsal : Backend::kReference;
  if (b == Backend::kIsal && !isal_available()) {
    return Status(EDAOS_NOTSUP, "EC backend isal requested but this build has no ISA-L");
  }
  std::shared_ptr<const Codec> c(new Codec(k, p, b, opts.decode_cache_entries));
  EDAOS_LOG(debug, "codec %d+%d backend=%s", k, p, backend_name(b));
  return c;
}

Result<std::shared_ptr<const Codec>> Codec::get(int k, int p) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, std::shared_ptr<const Codec>> codecs;
  std::lock_guard<std::mutex> g(mu);
  auto it = codecs.find({k, p});
  if (it != codecs.end()) return it->second;
  // Built under the lock: it takes microseconds and guarantees a single instance per (k,p).
  auto r = create(k, p, CodecOptions{});
  if (r.ok()) codecs.emplace(std::make_pair(k, p), r.value());
  return r;
}

uint8_t Codec::coef(int j, int i) const { return matrix_[static_cast<size_t>((k_ + j) * k_ + i)]; }

DecodeCacheStats Codec::decode_cache_stats() const { return cache_->stats(); }

// ---- kernels -----------------------------------------------------------------------------

void Codec::apply_rows(int nrows, const uint8_t* rows, const uint8_t* isal_tbls,
                       const uint8_t* const* src, uint8_t* const* dst, size_t len) const {
  if (nrows == 0 || len == 0) return;
#if EDAOS_HAVE_ISAL
  if (backend_ == Backend::kIsal) {
    uint8_t* s[kMaxK];
    uint8_t* d[kMaxP];
    for (size_t off = 0; off < len; off += kMaxIsalChunk) {
      const size_t n = std::min(kMaxIsalChunk, len - off);
      // ISA-L's prototypes are not const-correct; it only reads sources and tables.
      for (int i = 0; i < k_; i++) s[i] = const_cast<uint8_t*>(src[i]) + off;
      for (int r = 0; r < nrows; r++) d[r] = dst[r] + off;
      ec_encode_data(static_cast<int>(n), k_, nrows, const_cast<uint8_t*>(isal_tbls), s, d);
    }
    return;
  }
#endif
  (void)isal_tbls;
  for (int r = 0; r < nrows; r++) {
    const uint8_t* row = rows + static_cast<size_t>(r * k_);
    gf::mul_set_region(row[0], src[0], dst[r], len);
    for (int i = 1; i < k_; i++) gf::mul_xor_region(row[i], src[i], dst[r], len);
  }
}

void Codec::encode(const uint8_t* const* data, uint8_t* const* parity, size_t len) const {
  if (p_ == 0 || len == 0) return;
  if (p_ == 1) {  // the p == 1 row is all ones
    gf::xor_sources(k_, data, parity[0], len);
    return;
  }
  apply_rows(p_, matrix_.data() + k_ * k_, encode_tbls_.data(), data, parity, len);
}

void Codec::apply_delta(int idx, const uint8_t* delta, uint8_t* const* parity, size_t len) const {
  if (p_ == 0 || len == 0) return;
  if (p_ == 1) {
    gf::xor_region(delta, parity[0], len);
    return;
  }
#if EDAOS_HAVE_ISAL
  if (backend_ == Backend::kIsal) {
    uint8_t* d[kMaxP];
    for (size_t off = 0; off < len; off += kMaxIsalChunk) {
      const size_t n = std::min(kMaxIsalChunk, len - off);
      for (int j = 0; j < p_; j++) d[j] = parity[j] + off;
      ec_encode_data_update(static_cast<int>(n), k_, p_, idx,
                            const_cast<uint8_t*>(encode_tbls_.data()),
                            const_cast<uint8_t*>(delta) + off, d);
    }
    return;
  }
#endif
  for (int j = 0; j < p_; j++) gf::mul_xor_region(coef(j, idx), delta, parity[j], len);
}

// ---- decode ------------------------------------------------------------------------------

std::shared_ptr<const Codec::Plan> Codec::build_plan(uint64_t missing_mask) const {
  const int m = k_ + p_;
  auto plan = std::make_shared<Plan>();
  for (int i = 0; i < m; i++) {
    if (missing_mask & (uint64_t{1} << i)) {
      plan->targets.push_back(i);
    } else if (static_cast<int>(plan->sources.size()) < k_) {
      plan->sources.push_back(i);
    }
  }
  const size_t uk = static_cast<size_t>(k_);
  // B = generator rows of the sources; data = B^-1 * sources.
  std::vector<uint8_t> b(uk * uk), binv(uk * uk);
  for (size_t r = 0; r < uk; r++) {
    std::memcpy(&b[r * uk], &matrix_[static_cast<size_t>(plan->sources[r]) * uk], uk);
  }
  if (!gf::invert(b.data(), binv.data(), k_)) return nullptr;  // not MDS: cannot happen
  // A missing data cell t is row t of B^-1; a missing parity cell is its generator row
  // times B^-1.
  plan->rows.assign(plan->targets.size() * uk, 0);
  for (size_t t = 0; t < plan->targets.size(); t++) {
    uint8_t* out = &plan->rows[t * uk];
    const int cell = plan->targets[t];
    if (cell < k_) {
      std::memcpy(out, &binv[static_cast<size_t>(cell) * uk], uk);
      continue;
    }
    const uint8_t* g = &matrix_[static_cast<size_t>(cell) * uk];
    for (size_t j = 0; j < uk; j++) {
      if (g[j] == 0) continue;
      for (size_t c = 0; c < uk; c++) out[c] ^= gf::mul(g[j], binv[j * uk + c]);
    }
  }
#if EDAOS_HAVE_ISAL
  if (backend_ == Backend::kIsal) {
    const int nt = static_cast<int>(plan->targets.size());
    plan->isal_tbls.resize(static_cast<size_t>(32 * k_ * nt));
    ec_init_tables(k_, nt, plan->rows.data(), plan->isal_tbls.data());
  }
#endif
  return plan;
}

Status Codec::decode(uint8_t* const* cells, const bool* present, size_t len) const {
  const int m = k_ + p_;
  uint64_t missing = 0;
  for (int i = 0; i < m; i++) {
    if (!present[i]) missing |= uint64_t{1} << i;
  }
  const int nmissing = popcount64(missing);
  if (nmissing == 0) return Status::OK();
  if (nmissing > p_) {
    return Status(EDAOS_DEGRADED, std::to_string(nmissing) + " of " + std::to_string(m) +
                                      " cells of a " + std::to_string(k_) + "+" +
                                      std::to_string(p_) + " stripe missing; at most " +
                                      std::to_string(p_) + " can be rebuilt");
  }
  if (len == 0) return Status::OK();

  if (p_ == 1) {  // XOR code: the missing cell is the XOR of all the others
    const uint8_t* src[kMaxK];
    int n = 0, target = 0;
    for (int i = 0; i < m; i++) {
      if (present[i]) {
        src[n++] = cells[i];
      } else {
        target = i;
      }
    }
    gf::xor_sources(n, src, cells[target], len);
    return Status::OK();
  }

  std::shared_ptr<const Plan> plan = cache_->find<Plan>(missing);
  if (!plan) {
    // Built outside the cache lock: inversion is O(k^3) and must not stall other decoders.
    plan = build_plan(missing);
    if (!plan) {
      return Status(EDAOS_INTERNAL, "EC " + std::to_string(k_) + "+" + std::to_string(p_) +
                                        " decode matrix is singular");
    }
    EDAOS_LOG(debug, "codec %d+%d: decode plan for mask 0x%llx (%d missing)", k_, p_,
              static_cast<unsigned long long>(missing), nmissing);
    plan = cache_->insert<Plan>(missing, std::move(plan));
  }
  const uint8_t* src[kMaxK];
  uint8_t* dst[kMaxP];
  for (int i = 0; i < k_; i++) src[i] = cells[plan->sources[static_cast<size_t>(i)]];
  for (int t = 0; t < nmissing; t++) dst[t] = cells[plan->targets[static_cast<size_t>(t)]];
  apply_rows(nmissing, plan->rows.data(), plan->isal_tbls.data(), src, dst, len);
  return Status::OK();
}

}  // namespace edaos::objstore::ec

// Portable GF(2^8): log/antilog tables for scalar work, a full 64 KiB product table for the
// reference region kernels. Built once, on first use, thread-safely (function-local static).
#include "ec/gf256.hpp"

#include <cstring>
#include <utility>

namespace edaos::objstore::ec::gf {
namespace {

struct Tables {
  uint8_t exp[512];  // exp[i] = 2^i, doubled so exp[log a + log b] needs no modulo
  uint8_t log[256];  // log[0] unused
  uint8_t prod[256][256];

  Tables() {
    unsigned x = 1;
    for (int i = 0; i < 255; i++) {
      exp[i] = static_cast<uint8_t>(x);
      log[x] = static_cast<uint8_t>(i);
      x <<= 1;
      if (x & 0x100) x ^= kPoly;
    }
    for (int i = 255; i < 512; i++) exp[i] = exp[i - 255];
    log[0] = 0;
    for (int a = 0; a < 256; a++) {
      for (int b = 0; b < 256; b++) {
        prod[a][b] = (a == 0 || b == 0) ? 0 : exp[log[a] + log[b]];
      }
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint8_t mul(uint8_t a, uint8_t b) { return tables().prod[a][b]; }

uint8_t inv(uint8_t a) {
  if (a == 0) return 0;
  const Tables& t = tables();
  return t.exp[255 - t.log[a]];
}

const uint8_t* mul_row(uint8_t c) { return tables().prod[c]; }

std::vector<uint8_t> generator_matrix(int k, int p) {
  const int m = k + p;
  std::vector<uint8_t> a(static_cast<size_t>(m) * static_cast<size_t>(k), 0);
  for (int i = 0; i < k; i++) a[static_cast<size_t>(i * k + i)] = 1;
  for (int i = k; i < m; i++) {
    for (int j = 0; j < k; j++) {
      a[static_cast<size_t>(i * k + j)] = (p == 1) ? 1 : inv(static_cast<uint8_t>(i ^ j));
    }
  }
  return a;
}

bool invert(uint8_t* a, uint8_t* out, int n) {
  const size_t un = static_cast<size_t>(n);
  std::memset(out, 0, un * un);
  for (size_t i = 0; i < un; i++) out[i * un + i] = 1;
  for (size_t col = 0; col < un; col++) {
    // Find a pivot row at or below `col` and swap it up.
    size_t piv = col;
    while (piv < un && a[piv * un + col] == 0) piv++;
    if (piv == un) return false;
    if (piv != col) {
      for (size_t j = 0; j < un; j++) {
        std::swap(a[piv * un + j], a[col * un + j]);
        std::swap(out[piv * un + j], out[col * un + j]);
      }
    }
    // Scale the pivot row to 1, then clear the column in every other row.
    const uint8_t* r = mul_row(inv(a[col * un + col]));
    for (size_t j = 0; j < un; j++) {
      a[col * un + j] = r[a[col * un + j]];
      out[col * un + j] = r[out[col * un + j]];
    }
    for (size_t i = 0; i < un; i++) {
      const uint8_t f = a[i * un + col];
      if (i == col || f == 0) continue;
      const uint8_t* fr = mul_row(f);
      for (size_t j = 0; j < un; j++) {
        a[i * un + j] ^= fr[a[col * un + j]];
        out[i * un + j] ^= fr[out[col * un + j]];
      }
    }
  }
  return true;
}

namespace {

// 64 bytes per step as a GCC/clang vector. Single pass: every source is read once and the
// destination written once, which beats ISA-L's dot product for an all-ones row. The body is
// compiled three times (baseline, AVX2, AVX-512) and picked once with __builtin_cpu_supports.
// Not target_clones: its IFUNC resolver runs before the ThreadSanitizer runtime is up and
// crashes TSan builds at load time.
typedef uint64_t V64 __attribute__((vector_size(64), aligned(1)));

__attribute__((always_inline)) inline void xor_body(int n, const uint8_t* const* src, uint8_t* dst,
                                                    size_t len) {
  size_t off = 0;
  for (; off + sizeof(V64) <= len; off += sizeof(V64)) {
    V64 acc, v;
    std::memcpy(&acc, src[0] + off, sizeof acc);
    for (int i = 1; i < n; i++) {
      std::memcpy(&v, src[i] + off, sizeof v);
      acc ^= v;
    }
    std::memcpy(dst + off, &acc, sizeof acc);
  }
  for (; off < len; off++) {
    uint8_t a = src[0][off];
    for (int i = 1; i < n; i++) a ^= src[i][off];
    dst[off] = a;
  }
}

using XorFn = void (*)(int, const uint8_t* const*, uint8_t*, size_t);

void xor_default(int n, const uint8_t* const* src, uint8_t* dst, size_t len) {
  xor_body(n, src, dst, len);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) void xor_avx2(int n, const uint8_t* const* src, uint8_t* dst,
                                              size_t len) {
  xor_body(n, src, dst, len);
}
__attribute__((target("avx512f"))) void xor_avx512(int n, const uint8_t* const* src, uint8_t* dst,
                                                   size_t len) {
  xor_body(n, src, dst, len);
}
XorFn pick_xor() {
  if (__builtin_cpu_supports("avx512f")) return xor_avx512;
  if (__builtin_cpu_supports("avx2")) return xor_avx2;
  return xor_default;
}
#else
XorFn pick_xor() { return xor_default; }
#endif

}  // namespace

void xor_sources(int n, const uint8_t* const* src, uint8_t* dst, size_t len) {
  static const XorFn fn = pick_xor();
  fn(n, src, dst, len);
}

void xor_region(const uint8_t* src, uint8_t* dst, size_t len) {
  const uint8_t* s[2] = {dst, src};
  xor_sources(2, s, dst, len);
}

void mul_xor_region(uint8_t c, const uint8_t* src, uint8_t* dst, size_t len) {
  if (c == 0) return;
  if (c == 1) return xor_region(src, dst, len);
  const uint8_t* r = mul_row(c);
  for (size_t i = 0; i < len; i++) dst[i] ^= r[src[i]];
}

void mul_set_region(uint8_t c, const uint8_t* src, uint8_t* dst, size_t len) {
  if (c == 0) {
    std::memset(dst, 0, len);
  } else if (c == 1) {
    if (dst != src) std::memmove(dst, src, len);
  } else {
    const uint8_t* r = mul_row(c);
    for (size_t i = 0; i < len; i++) dst[i] = r[src[i]];
  }
}

}  // namespace edaos::objstore::ec::gf

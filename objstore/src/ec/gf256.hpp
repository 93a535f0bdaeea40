// Portable GF(2^8) arithmetic and the code's generator matrix (private to src/ec).
//
// The field is GF(2)[x] / (x^8 + x^4 + x^3 + x^2 + 1), polynomial 0x11d, generator 2: the same
// field ISA-L's gf_mul/gf_inv and its erasure-code kernels use, so the reference backend and the
// ISA-L backend produce identical bytes from identical matrices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edaos::objstore::ec::gf {

constexpr unsigned kPoly = 0x11d;

uint8_t mul(uint8_t a, uint8_t b);
// Multiplicative inverse; inv(0) is 0 (never used on a valid matrix).
uint8_t inv(uint8_t a);
// 256-byte row r with r[x] = c * x: the reference backend's per-coefficient lookup table.
const uint8_t* mul_row(uint8_t c);

// The (k+p) x k systematic generator matrix, row-major: rows 0..k-1 are the identity, rows
// k..k+p-1 produce parity. For p >= 2 the parity rows are ISA-L's gf_gen_cauchy1_matrix
// (a[i][j] = 1 / (i ^ j)), the matrix DAOS uses; for p == 1 the single row is all ones (the
// first parity row of ISA-L's gf_gen_rs_matrix), so parity is the XOR of the data. See
// objstore/src/ec/README.md for why.
std::vector<uint8_t> generator_matrix(int k, int p);

// Inverts the n x n row-major matrix `a` into `out` (Gauss-Jordan). Returns false when `a`
// is singular. `a` is clobbered.
bool invert(uint8_t* a, uint8_t* out, int n);

// dst[i] ^= c * src[i] for i < len.
void mul_xor_region(uint8_t c, const uint8_t* src, uint8_t* dst, size_t len);
// dst[i] = c * src[i] for i < len.
void mul_set_region(uint8_t c, const uint8_t* src, uint8_t* dst, size_t len);
// dst[i] = src[0][i] ^ ... ^ src[n-1][i] for i < len (n >= 1). dst may be one of the sources.
void xor_sources(int n, const uint8_t* const* src, uint8_t* dst, size_t len);
// dst[i] ^= src[i] for i < len.
void xor_region(const uint8_t* src, uint8_t* dst, size_t len);

}  // namespace edaos::objstore::ec::gf

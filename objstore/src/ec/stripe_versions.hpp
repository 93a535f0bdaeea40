// Version consistency of one erasure-coded stripe (write-hole protection), edaos_os_ec.
//
// Every EC cell on an engine carries a record bound to its bytes (objstore/README.md, "Stripe
// versions"): a data cell is "at version v" when its bytes match the record written with v; a
// parity cell is at a *vector* of k data versions, the versions of the data cells it encodes.
// After a crash a cell can match two records (the change in flight and the one before), so a
// present cell contributes up to two versions (data) or two vectors (parity).
//
// Reconstruction may only combine cells of one consistent version: a vector W of k data
// versions such that every data cell used is at W[i] and every parity cell used encodes W.
// choose_stripe_version() finds the W that the most present cells agree on. Pure functions,
// no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edaos::objstore::ec {

// The version of cells written before versions existed (engine format 1-3, converted): such a
// cell is consistent with any version, and a parity entry of it with any data version (no
// worse than before versions; such stripes regain the check when rewritten). The engine uses
// the same value (vos::kLegacyVersion).
constexpr uint64_t kAnyVersion = 1;

// What one cell of a stripe says about itself. A cell that could not be read, or whose bytes
// match none of its records (torn, corrupt), is not present.
struct CellVersions {
  bool present = false;
  uint32_t n = 0;                // versions (data) or vectors (parity) below: 0..2
  uint64_t version[2] = {0, 0};  // data cells: the versions its bytes are at (0 = a hole)
  std::vector<uint64_t> vec[2];  // parity cells: the k data versions it encodes
};

struct StripeChoice {
  std::vector<uint64_t> versions;  // W: the version of every data cell (k)
  std::vector<bool> usable;        // k + p: cell is present and consistent with W
  uint32_t nusable = 0;
  uint32_t nusable_data = 0;
};

// cells: k data cells then p parity cells. Candidates are every vector a present parity cell
// encodes and, when every data cell is present, the data cells' own versions (their first
// version each). The candidate with the most usable cells wins (ties: more usable data cells,
// then the earlier candidate). Returns false (and `out` untouched) when no cell is present or
// nothing is consistent enough to give a candidate; the caller checks out->nusable >= k
// before decoding.
bool choose_stripe_version(uint32_t k, uint32_t p, const std::vector<CellVersions>& cells,
                           StripeChoice* out);

// One line per cell for error messages: "d0 v=1a2b d1 - p0 [1a2b,0]".
std::string describe_stripe_versions(uint32_t k, const std::vector<CellVersions>& cells);

}  // namespace edaos::objstore::ec

// Datatype flattening (adio_daos/src/flatten.cpp): the envelope walk must give exactly the
// blocks the pack probe finds, for every combiner and the shapes that break naive flatteners
// (holes, negative and out-of-order displacements, resized types, zero-length blocks,
// nested types, named pair types). Also checks the per-type cache survives free/reuse.
#include <gtest/gtest.h>
#include <mpi.h>

#include <vector>

#include "adio_internal.hpp"

using edaos::adio::flatten;
using edaos::adio::flatten_by_pack;

namespace {

void expect_same(MPI_Datatype t, const char* what) {
  auto a = flatten(t);
  auto b = flatten_by_pack(t);
  EXPECT_EQ(a->size, b->size) << what;
  EXPECT_EQ(a->extent, b->extent) << what;
  EXPECT_EQ(a->lb, b->lb) << what;
  EXPECT_EQ(a->off, b->off) << what;
  EXPECT_EQ(a->len, b->len) << what;
  int64_t sum = 0;
  for (auto l : a->len) sum += l;
  EXPECT_EQ(sum, a->size) << what;
}

MPI_Datatype commit(MPI_Datatype t) {
  MPI_Type_commit(&t);
  return t;
}

}  // namespace

TEST(Flatten, MatchesPackProbe) {
  std::vector<std::pair<MPI_Datatype, const char*>> ts;
  MPI_Datatype t, u;
  ts.push_back({MPI_INT, "int"});
  ts.push_back({MPI_SHORT_INT, "short_int"});
  ts.push_back({MPI_LONG_DOUBLE_INT, "long_double_int"});
  MPI_Type_contiguous(5, MPI_DOUBLE, &t);
  ts.push_back({commit(t), "contig"});
  MPI_Type_vector(4, 2, -3, MPI_INT, &t);
  ts.push_back({commit(t), "vector negative stride"});
  MPI_Type_create_hvector(3, 1, 13, MPI_SHORT, &t);
  ts.push_back({commit(t), "hvector odd stride"});
  int bl[4] = {1, 0, 3, 2}, ds[4] = {5, 1, -4, 9};
  MPI_Type_indexed(4, bl, ds, MPI_INT, &t);
  ts.push_back({commit(t), "indexed"});
  MPI_Aint hd[3] = {-100, 50, 0};
  int hb[3] = {2, 2, 2};
  MPI_Type_create_hindexed(3, hb, hd, MPI_CHAR, &t);
  ts.push_back({commit(t), "hindexed"});
  int ib[3] = {7, 0, 2};
  MPI_Type_create_indexed_block(3, 2, ib, MPI_FLOAT, &t);
  ts.push_back({commit(t), "indexed_block"});
  MPI_Aint hb2[2] = {8, -8};
  MPI_Type_create_hindexed_block(2, 1, hb2, MPI_DOUBLE, &t);
  ts.push_back({commit(t), "hindexed_block"});
  MPI_Type_vector(2, 1, 2, MPI_INT, &u);
  MPI_Type_create_resized(u, -4, 40, &t);
  MPI_Type_free(&u);
  ts.push_back({commit(t), "resized"});
  int sb[3] = {1, 2, 1};
  MPI_Aint sd[3] = {0, 8, 64};
  MPI_Datatype st[3] = {MPI_CHAR, MPI_INT, ts.back().first};
  MPI_Type_create_struct(3, sb, sd, st, &t);
  ts.push_back({commit(t), "struct nested resized"});
  MPI_Type_contiguous(3, ts.back().first, &t);
  ts.push_back({commit(t), "contig of struct"});
  int sz[3] = {4, 5, 6}, sub[3] = {2, 3, 2}, start[3] = {1, 1, 3};
  MPI_Type_create_subarray(3, sz, sub, start, MPI_ORDER_FORTRAN, MPI_SHORT, &t);
  ts.push_back({commit(t), "subarray"});
  int sz2[2] = {4, 5}, sub2[2] = {3, 2}, st2[2] = {1, 2};
  MPI_Type_create_subarray(2, sz2, sub2, st2, MPI_ORDER_C, ts[5].first, &t);  // of hvector
  ts.push_back({commit(t), "subarray of noncontiguous"});
  int sz1[1] = {10}, sub1[1] = {0}, st1[1] = {0};
  MPI_Type_create_subarray(1, sz1, sub1, st1, MPI_ORDER_C, MPI_INT, &t);
  ts.push_back({commit(t), "empty subarray"});
  int gs[2] = {5, 7}, di[2] = {MPI_DISTRIBUTE_CYCLIC, MPI_DISTRIBUTE_BLOCK},
      da[2] = {2, MPI_DISTRIBUTE_DFLT_DARG}, ps[2] = {2, 2};
  MPI_Type_create_darray(4, 3, 2, gs, di, da, ps, MPI_ORDER_C, MPI_INT, &t);
  ts.push_back({commit(t), "darray"});
  MPI_Type_dup(ts[5].first, &t);
  ts.push_back({t, "dup"});
  MPI_Type_contiguous(0, MPI_INT, &t);
  ts.push_back({commit(t), "empty"});
  for (auto& [ty, name] : ts) expect_same(ty, name);
  // Cache: a second call gives the cached object; a freed and recreated type is re-flattened.
  EXPECT_EQ(flatten(ts[3].first).get(), flatten(ts[3].first).get());
  for (auto& [ty, name] : ts) {
    int ni, na, nd, comb;
    MPI_Type_get_envelope(ty, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED) MPI_Type_free(&ty);
  }
  MPI_Type_vector(3, 1, 4, MPI_INT, &t);
  MPI_Type_commit(&t);
  expect_same(t, "recreated");
  MPI_Type_free(&t);
}

namespace {

// Oracle: the byte-by-byte walk of `count` copies of `fl` at `base`, merged into segments.
std::vector<std::pair<int64_t, int64_t>> walk(const edaos::adio::Flat& fl, int64_t base,
                                              int64_t first_byte, int64_t nbytes) {
  std::vector<int64_t> pos;  // position of every data byte of one copy
  for (size_t j = 0; j < fl.off.size(); ++j)
    for (int64_t b = 0; b < fl.len[j]; ++b) pos.push_back(fl.off[j] + b);
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t k = first_byte; k < first_byte + nbytes; ++k) {
    int64_t o = base + (k / fl.size) * fl.extent + pos[static_cast<size_t>(k % fl.size)];
    if (!out.empty() && out.back().first + out.back().second == o)
      ++out.back().second;
    else
      out.push_back({o, 1});
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> pairs(const std::vector<edaos::adio::Seg>& s) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto& x : s) out.push_back({x.off, x.len});
  return out;
}

}  // namespace

// memory_segments and view_segments (with their one-segment path for dense types) give the
// byte walk's segments, for dense types (byte, int, contiguous, dense resized) and others.
TEST(Flatten, SegmentsMatchByteWalk) {
  std::vector<std::pair<MPI_Datatype, const char*>> ts;
  MPI_Datatype t, u;
  ts.push_back({MPI_BYTE, "byte"});
  ts.push_back({MPI_INT, "int"});
  MPI_Type_contiguous(3, MPI_DOUBLE, &t);
  ts.push_back({commit(t), "contig"});
  MPI_Type_create_resized(MPI_INT, -4, 4, &t);
  ts.push_back({commit(t), "int resized lb -4"});
  MPI_Type_create_resized(MPI_INT, 0, 8, &t);
  ts.push_back({commit(t), "int with trailing hole"});
  MPI_Type_vector(3, 2, 3, MPI_SHORT, &u);
  MPI_Type_create_resized(u, 0, 18, &t);
  MPI_Type_free(&u);
  ts.push_back({commit(t), "vector resized"});
  MPI_Type_vector(2, 1, -2, MPI_INT, &t);
  ts.push_back({commit(t), "vector negative stride"});
  std::vector<char> buf(4096);
  for (auto& [ty, name] : ts) {
    auto fl = flatten(ty);
    if (fl->size == 0) continue;
    char* base = buf.data() + 1024;
    for (int64_t count : {0, 1, 5}) {
      auto want = walk(*fl, reinterpret_cast<intptr_t>(base), 0, count * fl->size);
      EXPECT_EQ(pairs(edaos::adio::memory_segments(base, count, ty)), want) << name << count;
    }
    edaos::adio::File f;
    f.view.disp = 100;
    f.view.ft = fl;
    for (int64_t first : {int64_t{0}, int64_t{1}, fl->size, 2 * fl->size + 1})
      for (int64_t n : {int64_t{0}, int64_t{1}, fl->size, 3 * fl->size + 2})
        EXPECT_EQ(pairs(edaos::adio::view_segments(f, first, n)), walk(*fl, 100, first, n))
            << name << " first " << first << " n " << n;
  }
  for (auto& [ty, name] : ts) {
    int ni, na, nd, comb;
    MPI_Type_get_envelope(ty, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED) MPI_Type_free(&ty);
  }
}

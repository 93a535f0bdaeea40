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

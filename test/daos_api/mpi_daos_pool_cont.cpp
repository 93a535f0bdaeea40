// Multi-rank tests of daos.h: library init, pools, containers and their properties, handle
// sharing between ranks, events; every documented error code.
#include <unistd.h>

#include <set>
#include <vector>

#include "daos_test_support.hpp"

using namespace edaos;
using namespace edaos::test;

namespace {

[[maybe_unused]] auto* const g_env = ::testing::AddGlobalTestEnvironment(new DaosEnv);

using DaosPool = PoolTest;
using DaosCont = PoolTest;
using DaosEvent = PoolTest;

std::string uuid_str(const uuid_t u) {
  objstore::Uuid x;
  std::memcpy(x.b, u, sizeof x.b);
  return x.to_string();
}

TEST(DaosInit, ReferenceCounted) {
  // The environment holds one reference; more are counted, and fini without init fails.
  ASSERT_DER_OK(daos_init());
  ASSERT_DER_OK(daos_init());
  EXPECT_DER(daos_fini(), 0);
  EXPECT_DER(daos_fini(), 0);
}

TEST_F(DaosPool, ConnectByLabelPathAndUuid) {
  daos_handle_t poh;
  daos_pool_info_t info = {};
  info.pi_bits = DPI_SPACE | DPI_REBUILD_STATUS;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, &info, nullptr));
  EXPECT_TRUE(daos_handle_is_valid(poh));
  EXPECT_EQ(info.pi_nnodes, kEngines);
  EXPECT_EQ(info.pi_ntargets, kEngines * 2);
  EXPECT_EQ(info.pi_ndisabled, 0u);
  EXPECT_EQ(info.pi_space.ps_ntargets, kEngines * 2);
  EXPECT_GT(info.pi_space.ps_space.s_total[DAOS_MEDIA_NVME], 0u);
  EXPECT_GT(info.pi_space.ps_space.s_free[DAOS_MEDIA_NVME], 0u);
  EXPECT_LE(info.pi_space.ps_free_min[DAOS_MEDIA_NVME], info.pi_space.ps_free_max[DAOS_MEDIA_NVME]);
  EXPECT_EQ(info.pi_rebuild_st.rs_flags, 0);
  const std::string uuid = uuid_str(info.pi_uuid);
  // The same pool by path and by UUID (independent connections of this rank).
  daos_handle_t by_path, by_uuid;
  ASSERT_DER_OK(
      daos_pool_connect(path().c_str(), "daos_server", DAOS_PC_RO, &by_path, nullptr, nullptr));
  ASSERT_DER_OK(daos_pool_connect(uuid.c_str(), nullptr, DAOS_PC_EX, &by_uuid, nullptr, nullptr));
  daos_pool_info_t i2 = {};
  ASSERT_DER_OK(daos_pool_query(by_uuid, nullptr, &i2, nullptr, nullptr));
  EXPECT_EQ(uuid_str(i2.pi_uuid), uuid);
  EXPECT_DER(daos_pool_disconnect(by_path, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(by_uuid, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosPool, ErrorCodes) {
  daos_handle_t poh;
  EXPECT_DER(daos_pool_connect("no_such_pool", nullptr, DAOS_PC_RW, &poh, nullptr, nullptr),
             -DER_NONEXIST);
  EXPECT_DER(
      daos_pool_connect((path() + "-missing").c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr),
      -DER_NONEXIST);
  EXPECT_DER(daos_pool_connect(nullptr, nullptr, DAOS_PC_RW, &poh, nullptr, nullptr), -DER_INVAL);
  EXPECT_DER(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, nullptr, nullptr, nullptr),
             -DER_INVAL);
  EXPECT_DER(daos_pool_connect(label().c_str(), nullptr, 0, &poh, nullptr, nullptr), -DER_INVAL);
  EXPECT_DER(
      daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RO | DAOS_PC_RW, &poh, nullptr, nullptr),
      -DER_INVAL);
  EXPECT_DER(
      daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW | 0x100, &poh, nullptr, nullptr),
      -DER_INVAL);
  // Closed, never issued and invalid handles.
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  ASSERT_DER_OK(daos_pool_disconnect(poh, nullptr));
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), -DER_NO_HDL);
  daos_pool_info_t info = {};
  EXPECT_DER(daos_pool_query(poh, nullptr, &info, nullptr, nullptr), -DER_NO_HDL);
  EXPECT_DER(daos_pool_query(DAOS_HDL_INVAL, nullptr, &info, nullptr, nullptr), -DER_NO_HDL);
  daos_handle_t bogus = {0x12345};
  EXPECT_DER(daos_pool_disconnect(bogus, nullptr), -DER_NO_HDL);
  d_iov_t g = {nullptr, 0, 0};
  EXPECT_DER(daos_pool_local2global(poh, &g), -DER_NO_HDL);
  // A container handle is not a pool handle.
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  int rc =
      on_root([&] { return daos_cont_create_with_label(poh, "c", nullptr, nullptr, nullptr); });
  ASSERT_EQ(rc, 0);
  daos_handle_t coh;
  ASSERT_DER_OK(daos_cont_open(poh, "c", DAOS_COO_RW, &coh, nullptr, nullptr));
  EXPECT_DER(daos_pool_query(coh, nullptr, &info, nullptr, nullptr), -DER_NO_HDL);
  EXPECT_DER(daos_cont_close(poh, nullptr), -DER_NO_HDL);
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosPool, QueryRanksPropsAndContainerList) {
  daos_handle_t poh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  daos_pool_info_t info = {};
  d_rank_list_t* ranks = nullptr;
  ASSERT_DER_OK(daos_pool_query(poh, &ranks, &info, nullptr, nullptr));
  ASSERT_NE(ranks, nullptr);
  EXPECT_EQ(ranks->rl_nr, 0u);  // no engine is down
  d_rank_list_free(ranks);
  info.pi_bits = DPI_ENGINES_ENABLED;
  ASSERT_DER_OK(daos_pool_query(poh, &ranks, &info, nullptr, nullptr));
  ASSERT_EQ(ranks->rl_nr, kEngines);
  for (uint32_t i = 0; i < kEngines; ++i) EXPECT_EQ(ranks->rl_ranks[i], i);
  d_rank_list_free(ranks);
  // Pool label property.
  daos_prop_t* prop = daos_prop_alloc(0);
  ASSERT_DER_OK(daos_pool_query(poh, nullptr, nullptr, prop, nullptr));
  ASSERT_EQ(prop->dpp_nr, 1u);
  EXPECT_EQ(prop->dpp_entries[0].dpe_type, static_cast<uint32_t>(DAOS_PROP_PO_LABEL));
  EXPECT_EQ(std::string(prop->dpp_entries[0].dpe_str), label());
  daos_prop_free(prop);
  prop = daos_prop_alloc(1);
  prop->dpp_entries[0].dpe_type = DAOS_PROP_PO_ACL;
  EXPECT_DER(daos_pool_query(poh, nullptr, nullptr, prop, nullptr), -DER_NOTSUPPORTED);
  daos_prop_free(prop);
  // Containers.
  int rc = on_root([&] {
    int r = daos_cont_create_with_label(poh, "beta", nullptr, nullptr, nullptr);
    return r ? r : daos_cont_create_with_label(poh, "alpha", nullptr, nullptr, nullptr);
  });
  ASSERT_EQ(rc, 0);
  daos_size_t n = 0;
  ASSERT_DER_OK(daos_pool_list_cont(poh, &n, nullptr, nullptr));
  EXPECT_EQ(n, 2u);
  std::vector<daos_pool_cont_info> conts(1);
  n = 1;
  EXPECT_DER(daos_pool_list_cont(poh, &n, conts.data(), nullptr), -DER_TRUNC);
  EXPECT_EQ(n, 2u);
  conts.resize(2);
  ASSERT_DER_OK(daos_pool_list_cont(poh, &n, conts.data(), nullptr));
  std::set<std::string> labels = {conts[0].pci_label, conts[1].pci_label};
  EXPECT_EQ(labels, (std::set<std::string>{"alpha", "beta"}));
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosPool, GlobalHandleSharedFromRankZero) {
  // IOR's pattern: rank 0 connects, the others receive the global handle.
  daos_handle_t poh = DAOS_HDL_INVAL;
  if (rank() == 0)
    ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  // The size query, then a short buffer.
  if (rank() == 0) {
    d_iov_t g = {nullptr, 0, 0};
    ASSERT_DER_OK(daos_pool_local2global(poh, &g));
    ASSERT_GT(g.iov_buf_len, 16u);
    std::vector<char> small(g.iov_buf_len - 1);
    const size_t need = g.iov_buf_len;
    d_iov_set(&g, small.data(), small.size());
    EXPECT_DER(daos_pool_local2global(poh, &g), -DER_TRUNC);
    EXPECT_EQ(g.iov_buf_len, need);
    EXPECT_DER(daos_pool_local2global(poh, nullptr), -DER_INVAL);
  }
  std::string blob = share([&](d_iov_t* g) { return daos_pool_local2global(poh, g); });
  if (rank() != 0) {
    d_iov_t g;
    d_iov_set(&g, blob.data(), blob.size());
    ASSERT_DER_OK(daos_pool_global2local(g, &poh));
    // A damaged buffer.
    std::string bad = blob;
    bad[0] ^= 1;
    d_iov_t gb;
    d_iov_set(&gb, bad.data(), bad.size());
    daos_handle_t other;
    EXPECT_DER(daos_pool_global2local(gb, &other), -DER_INVAL);
    d_iov_set(&gb, blob.data(), blob.size() - 1);
    EXPECT_DER(daos_pool_global2local(gb, &other), -DER_INVAL);
  }
  daos_pool_info_t info = {};
  ASSERT_DER_OK(daos_pool_query(poh, nullptr, &info, nullptr, nullptr));
  EXPECT_EQ(info.pi_nnodes, kEngines);
  // Every rank sees the container rank 0 creates through its own handle.
  int rc = on_root(
      [&] { return daos_cont_create_with_label(poh, "shared", nullptr, nullptr, nullptr); });
  ASSERT_EQ(rc, 0);
  daos_handle_t coh;
  ASSERT_DER_OK(daos_cont_open(poh, "shared", DAOS_COO_RO, &coh, nullptr, nullptr));
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosCont, CreateWithPropertiesAndQuery) {
  daos_handle_t poh, coh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  uuid_t uuid;
  int rc = on_root([&] {
    daos_prop_t* p = daos_prop_alloc(8);
    p->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
    p->dpp_entries[0].dpe_val = DAOS_PROP_CO_REDUN_RF1;
    p->dpp_entries[1].dpe_type = DAOS_PROP_CO_EC_CELL_SZ;
    p->dpp_entries[1].dpe_val = 64 << 10;
    p->dpp_entries[2].dpe_type = DAOS_PROP_CO_CSUM;
    p->dpp_entries[2].dpe_val = DAOS_PROP_CO_CSUM_CRC32;
    p->dpp_entries[3].dpe_type = DAOS_PROP_CO_CSUM_SERVER_VERIFY;
    p->dpp_entries[3].dpe_val = DAOS_PROP_CO_CSUM_SV_ON;
    p->dpp_entries[4].dpe_type = DAOS_PROP_CO_CSUM_CHUNK_SIZE;
    p->dpp_entries[4].dpe_val = 16 << 10;
    p->dpp_entries[5].dpe_type = EDAOS_PROP_CO_CHUNK_SIZE;
    p->dpp_entries[5].dpe_val = 2 << 20;
    p->dpp_entries[6].dpe_type = EDAOS_PROP_CO_FILE_OCLASS;
    p->dpp_entries[6].dpe_val = OC_EC_2P1GX;
    p->dpp_entries[7].dpe_type = EDAOS_PROP_CO_DIR_OCLASS;
    p->dpp_entries[7].dpe_val = OC_RP_2G1;
    int r = daos_cont_create_with_label(poh, "props", p, &uuid, nullptr);
    daos_prop_free(p);
    return r;
  });
  ASSERT_EQ(rc, 0);
  daos_cont_info_t ci = {};
  ASSERT_DER_OK(daos_cont_open(poh, "props", DAOS_COO_RW, &coh, &ci, nullptr));
  if (rank() == 0) {
    EXPECT_EQ(uuid_str(ci.ci_uuid), uuid_str(uuid));
  }
  // Open by UUID gives the same container.
  daos_handle_t coh2;
  ASSERT_DER_OK(
      daos_cont_open(poh, uuid_str(ci.ci_uuid).c_str(), DAOS_COO_RO, &coh2, nullptr, nullptr));
  daos_cont_info_t ci2 = {};
  daos_prop_t* all = daos_prop_alloc(0);
  ASSERT_DER_OK(daos_cont_query(coh2, &ci2, all, nullptr));
  EXPECT_EQ(uuid_str(ci2.ci_uuid), uuid_str(ci.ci_uuid));
  auto val = [&](uint32_t t) { return daos_prop_entry_get(all, t)->dpe_val; };
  ASSERT_NE(daos_prop_entry_get(all, DAOS_PROP_CO_LABEL), nullptr);
  EXPECT_STREQ(daos_prop_entry_get(all, DAOS_PROP_CO_LABEL)->dpe_str, "props");
  EXPECT_EQ(val(DAOS_PROP_CO_LAYOUT_TYPE), static_cast<uint64_t>(DAOS_PROP_CO_LAYOUT_UNKNOWN));
  EXPECT_EQ(val(DAOS_PROP_CO_REDUN_FAC), 1u);
  EXPECT_EQ(val(DAOS_PROP_CO_EC_CELL_SZ), 64u << 10);
  EXPECT_EQ(val(DAOS_PROP_CO_CSUM), static_cast<uint64_t>(DAOS_PROP_CO_CSUM_CRC32));
  EXPECT_EQ(val(DAOS_PROP_CO_CSUM_SERVER_VERIFY), static_cast<uint64_t>(DAOS_PROP_CO_CSUM_SV_ON));
  EXPECT_EQ(val(DAOS_PROP_CO_CSUM_CHUNK_SIZE), 16u << 10);
  EXPECT_EQ(val(EDAOS_PROP_CO_CHUNK_SIZE), 2u << 20);
  EXPECT_EQ(val(EDAOS_PROP_CO_FILE_OCLASS), static_cast<uint64_t>(OC_EC_2P1GX));
  EXPECT_EQ(val(EDAOS_PROP_CO_DIR_OCLASS), static_cast<uint64_t>(OC_RP_2G1));
  EXPECT_EQ(val(EDAOS_PROP_CO_OCLASS), static_cast<uint64_t>(OC_UNKNOWN));
  struct daos_co_status cs;
  daos_prop_val_2_co_status(val(DAOS_PROP_CO_STATUS), &cs);
  EXPECT_EQ(cs.dcs_status, DAOS_PROP_CO_HEALTHY);
  ASSERT_NE(daos_prop_entry_get(all, DAOS_PROP_CO_OWNER), nullptr);
  EXPECT_EQ(std::string(daos_prop_entry_get(all, DAOS_PROP_CO_OWNER)->dpe_str).back(), '@');
  daos_prop_free(all);
  // Specific entries.
  daos_prop_t* some = daos_prop_alloc(2);
  some->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
  some->dpp_entries[1].dpe_type = DAOS_PROP_CO_LABEL;
  ASSERT_DER_OK(daos_cont_query(coh, nullptr, some, nullptr));
  EXPECT_EQ(some->dpp_entries[0].dpe_val, 1u);
  EXPECT_STREQ(some->dpp_entries[1].dpe_str, "props");
  daos_prop_free(some);
  some = daos_prop_alloc(1);
  some->dpp_entries[0].dpe_type = DAOS_PROP_CO_ROOTS;
  EXPECT_DER(daos_cont_query(coh, nullptr, some, nullptr), -DER_NOTSUPPORTED);
  daos_prop_free(some);
  EXPECT_DER(daos_cont_close(coh2, nullptr), 0);
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

// Creates a container from one property entry on rank 0 and returns the code.
int create_one(daos_handle_t poh, const char* label, uint32_t type, uint64_t val) {
  daos_prop_t* p = daos_prop_alloc(1);
  p->dpp_entries[0].dpe_type = type;
  p->dpp_entries[0].dpe_val = val;
  int rc = daos_cont_create_with_label(poh, label, p, nullptr, nullptr);
  daos_prop_free(p);
  return rc;
}

TEST_F(DaosCont, CreateErrorCodes) {
  daos_handle_t poh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  if (rank() == 0) {
    ASSERT_DER_OK(daos_cont_create_with_label(poh, "dup", nullptr, nullptr, nullptr));
    EXPECT_DER(daos_cont_create_with_label(poh, "dup", nullptr, nullptr, nullptr), -DER_EXIST);
    EXPECT_DER(daos_cont_create_with_label(poh, "bad label", nullptr, nullptr, nullptr),
               -DER_INVAL);
    EXPECT_DER(daos_cont_create_with_label(poh, nullptr, nullptr, nullptr, nullptr), -DER_INVAL);
    EXPECT_DER(daos_cont_create_with_label(DAOS_HDL_INVAL, "x", nullptr, nullptr, nullptr),
               -DER_NO_HDL);
    // Values edaos refuses, and DAOS features it does not implement.
    EXPECT_DER(create_one(poh, "rf9", DAOS_PROP_CO_REDUN_FAC, 9), -DER_INVAL);
    EXPECT_DER(create_one(poh, "cell", DAOS_PROP_CO_EC_CELL_SZ, 100), -DER_INVAL);
    EXPECT_DER(create_one(poh, "sv", DAOS_PROP_CO_CSUM_SERVER_VERIFY, DAOS_PROP_CO_CSUM_SV_ON),
               -DER_INVAL);  // server verify needs a checksum
    EXPECT_DER(create_one(poh, "sha", DAOS_PROP_CO_CSUM, DAOS_PROP_CO_CSUM_SHA256),
               -DER_NOTSUPPORTED);
    EXPECT_DER(create_one(poh, "comp", DAOS_PROP_CO_COMPRESS, DAOS_PROP_CO_COMPRESS_LZ4),
               -DER_NOTSUPPORTED);
    EXPECT_DER(create_one(poh, "pda", DAOS_PROP_CO_EC_PDA, 1), -DER_NOTSUPPORTED);
    EXPECT_DER(create_one(poh, "lay", DAOS_PROP_CO_LAYOUT_TYPE, DAOS_PROP_CO_LAYOUT_SPARK),
               -DER_NOTSUPPORTED);
    EXPECT_DER(create_one(poh, "oc", EDAOS_PROP_CO_OCLASS, 12345), -DER_INVAL);
    // A class wider than the pool (4 engines) or weaker than the redundancy factor.
    EXPECT_DER(create_one(poh, "wide", EDAOS_PROP_CO_FILE_OCLASS, OC_EC_4P2GX), -DER_INVAL);
    daos_prop_t* p = daos_prop_alloc(2);
    p->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
    p->dpp_entries[0].dpe_val = 2;
    p->dpp_entries[1].dpe_type = EDAOS_PROP_CO_FILE_OCLASS;
    p->dpp_entries[1].dpe_val = OC_EC_2P1GX;
    EXPECT_DER(daos_cont_create_with_label(poh, "weak", p, nullptr, nullptr), -DER_INVAL);
    daos_prop_free(p);
    // Nothing was created by the refused calls.
    daos_size_t n = 0;
    ASSERT_DER_OK(daos_pool_list_cont(poh, &n, nullptr, nullptr));
    EXPECT_EQ(n, 1u);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosCont, OpenCloseDestroyErrors) {
  daos_handle_t poh, coh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  EXPECT_DER(daos_cont_open(poh, "missing", DAOS_COO_RW, &coh, nullptr, nullptr), -DER_NONEXIST);
  EXPECT_DER(daos_cont_open(poh, "00000000-0000-4000-8000-000000000000", DAOS_COO_RW, &coh, nullptr,
                            nullptr),
             -DER_NONEXIST);
  int rc =
      on_root([&] { return daos_cont_create_with_label(poh, "c1", nullptr, nullptr, nullptr); });
  ASSERT_EQ(rc, 0);
  EXPECT_DER(daos_cont_open(poh, "c1", 0, &coh, nullptr, nullptr), -DER_INVAL);
  EXPECT_DER(daos_cont_open(poh, "c1", DAOS_COO_RO | DAOS_COO_RW, &coh, nullptr, nullptr),
             -DER_INVAL);
  EXPECT_DER(daos_cont_open(poh, "c1", DAOS_COO_RW | (1u << 12), &coh, nullptr, nullptr),
             -DER_INVAL);
  EXPECT_DER(daos_cont_open(poh, nullptr, DAOS_COO_RW, &coh, nullptr, nullptr), -DER_INVAL);
  EXPECT_DER(daos_cont_open(DAOS_HDL_INVAL, "c1", DAOS_COO_RW, &coh, nullptr, nullptr),
             -DER_NO_HDL);
  ASSERT_DER_OK(daos_cont_open(poh, "c1", DAOS_COO_RW | DAOS_COO_FORCE, &coh, nullptr, nullptr));
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_cont_close(coh, nullptr), -DER_NO_HDL);
  daos_cont_info_t ci;
  EXPECT_DER(daos_cont_query(coh, &ci, nullptr, nullptr), -DER_NO_HDL);
  MPI_Barrier(MPI_COMM_WORLD);
  rc = on_root([&] { return daos_cont_destroy(poh, "c1", 0, nullptr); });
  EXPECT_EQ(rc, 0);
  EXPECT_DER(daos_cont_open(poh, "c1", DAOS_COO_RW, &coh, nullptr, nullptr), -DER_NONEXIST);
  MPI_Barrier(MPI_COMM_WORLD);
  rc = on_root([&] { return daos_cont_destroy(poh, "c1", 1, nullptr); });
  EXPECT_EQ(rc, -DER_NONEXIST);
  EXPECT_DER(daos_cont_destroy(DAOS_HDL_INVAL, "c1", 1, nullptr), -DER_NO_HDL);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosCont, ReadOnlyPoolAndContainerHandles) {
  daos_handle_t rw, ro, coh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &rw, nullptr, nullptr));
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RO, &ro, nullptr, nullptr));
  int rc = on_root([&] { return daos_cont_create_with_label(rw, "c", nullptr, nullptr, nullptr); });
  ASSERT_EQ(rc, 0);
  // A read-only pool connection creates, destroys and writes nothing.
  EXPECT_DER(daos_cont_create_with_label(ro, "x", nullptr, nullptr, nullptr), -DER_NO_PERM);
  uuid_t u;
  EXPECT_ERRNO(dfs_cont_create(ro, &u, nullptr, nullptr, nullptr), EPERM);
  EXPECT_DER(daos_cont_open(ro, "c", DAOS_COO_RW, &coh, nullptr, nullptr), -DER_NO_PERM);
  EXPECT_DER(daos_cont_destroy(ro, "c", 1, nullptr), -DER_NO_PERM);
  ASSERT_DER_OK(daos_cont_open(ro, "c", DAOS_COO_RO, &coh, nullptr, nullptr));
  // A read-only container handle changes no property or attribute.
  daos_prop_t* p = daos_prop_alloc(1);
  p->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
  p->dpp_entries[0].dpe_val = 1;
  EXPECT_DER(daos_cont_set_prop(coh, p, nullptr), -DER_NO_PERM);
  daos_prop_free(p);
  const char* names[] = {"n"};
  const void* vals[] = {"v"};
  const size_t sizes[] = {1};
  EXPECT_DER(daos_cont_set_attr(coh, 1, names, vals, sizes, nullptr), -DER_NO_PERM);
  EXPECT_DER(daos_cont_del_attr(coh, 1, names, nullptr), -DER_NO_PERM);
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(ro, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(rw, nullptr), 0);
}

TEST_F(DaosCont, UnlabelledCreateSetPropAndAttributes) {
  daos_handle_t poh, coh;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  uuid_t uuid = {};
  int rc = on_root([&] { return daos_cont_create(poh, &uuid, nullptr, nullptr); });
  ASSERT_EQ(rc, 0);
  MPI_Bcast(uuid, sizeof uuid, MPI_BYTE, 0, MPI_COMM_WORLD);
  ASSERT_DER_OK(daos_cont_open(poh, uuid_str(uuid).c_str(), DAOS_COO_RW, &coh, nullptr, nullptr));
  daos_prop_t* q = daos_prop_alloc(1);
  q->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
  ASSERT_DER_OK(daos_cont_query(coh, nullptr, q, nullptr));
  // A generated label (edaos containers always have one).
  EXPECT_EQ(std::string(q->dpp_entries[0].dpe_str).rfind("container_", 0), 0u);
  daos_prop_free(q);
  MPI_Barrier(MPI_COMM_WORLD);
  // Relabel and change the redundancy factor on rank 0; everyone sees it.
  rc = on_root([&] {
    daos_prop_t* p = daos_prop_alloc(2);
    p->dpp_entries[0].dpe_type = DAOS_PROP_CO_LABEL;
    daos_prop_entry_set_str(&p->dpp_entries[0], "renamed", 7);
    p->dpp_entries[1].dpe_type = DAOS_PROP_CO_REDUN_FAC;
    p->dpp_entries[1].dpe_val = 1;
    int r = daos_cont_set_prop(coh, p, nullptr);
    daos_prop_free(p);
    if (r) return r;
    // Refused changes leave the container as it is.
    p = daos_prop_alloc(2);
    p->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
    p->dpp_entries[0].dpe_val = 3;
    p->dpp_entries[1].dpe_type = DAOS_PROP_CO_LAYOUT_TYPE;
    p->dpp_entries[1].dpe_val = DAOS_PROP_CO_LAYOUT_POSIX;
    r = daos_cont_set_prop(coh, p, nullptr) == -DER_INVAL ? 0 : -1;
    daos_prop_free(p);
    return r;
  });
  ASSERT_EQ(rc, 0);
  daos_handle_t coh2;
  ASSERT_DER_OK(daos_cont_open(poh, "renamed", DAOS_COO_RO, &coh2, nullptr, nullptr));
  q = daos_prop_alloc(1);
  q->dpp_entries[0].dpe_type = DAOS_PROP_CO_REDUN_FAC;
  ASSERT_DER_OK(daos_cont_query(coh2, nullptr, q, nullptr));
  EXPECT_EQ(q->dpp_entries[0].dpe_val, 1u);
  daos_prop_free(q);
  // User attributes.
  MPI_Barrier(MPI_COMM_WORLD);
  rc = on_root([&] {
    const char* names[] = {"a1", "a2"};
    const void* vals[] = {"value-one", "2"};
    const size_t sizes[] = {9, 1};
    return daos_cont_set_attr(coh, 2, names, vals, sizes, nullptr);
  });
  ASSERT_EQ(rc, 0);
  size_t lsize = 0;
  ASSERT_DER_OK(daos_cont_list_attr(coh2, nullptr, &lsize, nullptr));
  EXPECT_EQ(lsize, 6u);  // "a1\0a2\0"
  char lbuf[16] = {};
  ASSERT_DER_OK(daos_cont_list_attr(coh2, lbuf, &lsize, nullptr));
  EXPECT_STREQ(lbuf, "a1");
  EXPECT_STREQ(lbuf + 3, "a2");
  const char* names[] = {"a1"};
  char v1[4] = {};
  void* vals[] = {v1};
  size_t sizes[] = {sizeof v1};
  ASSERT_DER_OK(daos_cont_get_attr(coh2, 1, names, vals, sizes, nullptr));
  EXPECT_EQ(sizes[0], 9u);                // full size
  EXPECT_EQ(std::string(v1, 4), "valu");  // truncated copy
  const char* missing[] = {"nope"};
  EXPECT_DER(daos_cont_get_attr(coh2, 1, missing, vals, sizes, nullptr), -DER_NONEXIST);
  const void* empty_val[] = {""};
  const size_t zero[] = {0};
  EXPECT_DER(daos_cont_set_attr(coh, 1, names, empty_val, zero, nullptr), -DER_INVAL);
  MPI_Barrier(MPI_COMM_WORLD);
  rc = on_root([&] { return daos_cont_del_attr(coh, 1, names, nullptr); });
  EXPECT_EQ(rc, 0);
  EXPECT_DER(daos_cont_get_attr(coh2, 1, names, vals, sizes, nullptr), -DER_NONEXIST);
  EXPECT_DER(daos_cont_close(coh2, nullptr), 0);
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosCont, GlobalHandleSharedFromRankZero) {
  daos_handle_t poh, coh = DAOS_HDL_INVAL;
  ASSERT_DER_OK(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, nullptr));
  if (rank() == 0) {
    ASSERT_DER_OK(daos_cont_create_with_label(poh, "g", nullptr, nullptr, nullptr));
    ASSERT_DER_OK(daos_cont_open(poh, "g", DAOS_COO_RW, &coh, nullptr, nullptr));
  }
  std::string blob = share([&](d_iov_t* g) { return daos_cont_local2global(coh, g); });
  if (rank() != 0) {
    d_iov_t g;
    d_iov_set(&g, blob.data(), blob.size());
    EXPECT_DER(daos_cont_global2local(DAOS_HDL_INVAL, g, &coh), -DER_NO_HDL);
    ASSERT_DER_OK(daos_cont_global2local(poh, g, &coh));
    std::string bad = blob;
    bad[bad.size() / 2] ^= 0x5a;  // another pool or container
    d_iov_set(&g, bad.data(), bad.size());
    daos_handle_t other;
    const int r = daos_cont_global2local(poh, g, &other);
    EXPECT_TRUE(r == -DER_INVAL || r == -DER_NONEXIST) << der(r);
  }
  daos_cont_info_t ci = {};
  ASSERT_DER_OK(daos_cont_query(coh, &ci, nullptr, nullptr));
  EXPECT_DER(daos_cont_close(coh, nullptr), 0);
  EXPECT_DER(daos_pool_disconnect(poh, nullptr), 0);
}

TEST_F(DaosEvent, QueuePollAndTest) {
  daos_handle_t eqh, poh;
  ASSERT_DER_OK(daos_eq_create(&eqh));
  daos_event_t ev1, ev2, ev3;
  ASSERT_DER_OK(daos_event_init(&ev1, eqh, nullptr));
  ASSERT_DER_OK(daos_event_init(&ev2, eqh, nullptr));
  ASSERT_DER_OK(daos_event_init(&ev3, DAOS_HDL_INVAL, nullptr));  // no queue
  EXPECT_DER(daos_event_init(&ev3, eqh, &ev1), -DER_NOSYS);       // parents
  // Operations with events return 0 and complete the event with the result.
  EXPECT_DER(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &poh, nullptr, &ev1), 0);
  EXPECT_EQ(ev1.ev_error, 0);
  EXPECT_DER(daos_pool_connect("no_such_pool", nullptr, DAOS_PC_RW, &poh, nullptr, &ev2), 0);
  EXPECT_EQ(ev2.ev_error, -DER_NONEXIST);
  // An event still completed (not polled) cannot be reused.
  daos_handle_t p2;
  EXPECT_DER(daos_pool_connect(label().c_str(), nullptr, DAOS_PC_RW, &p2, nullptr, &ev1),
             -DER_INVAL);
  daos_event_t* got[4] = {};
  EXPECT_EQ(daos_eq_query(eqh, DAOS_EQR_ALL, 0, nullptr), 2);
  EXPECT_EQ(daos_eq_poll(eqh, 1, DAOS_EQ_WAIT, 4, got), 2);
  EXPECT_EQ(got[0], &ev1);
  EXPECT_EQ(got[1], &ev2);
  EXPECT_EQ(daos_eq_poll(eqh, 0, DAOS_EQ_NOWAIT, 4, got), 0);
  EXPECT_DER(daos_eq_poll(eqh, 0, DAOS_EQ_NOWAIT, 0, got), -DER_INVAL);
  // A private event, tested.
  daos_pool_info_t info = {};
  bool done = false;
  ASSERT_DER_OK(daos_event_test(&ev3, 0, &done));
  EXPECT_FALSE(done);  // never launched
  EXPECT_DER(daos_pool_query(poh, nullptr, &info, nullptr, &ev3), 0);
  ASSERT_DER_OK(daos_event_test(&ev3, DAOS_EQ_WAIT, &done));
  EXPECT_TRUE(done);
  EXPECT_EQ(ev3.ev_error, 0);
  EXPECT_EQ(info.pi_nnodes, kEngines);
  EXPECT_DER(daos_pool_disconnect(poh, &ev1), 0);
  EXPECT_EQ(ev1.ev_error, 0);
  // A failing operation: the handle is gone now; the code arrives through the event.
  EXPECT_DER(daos_pool_disconnect(poh, &ev3), 0);
  ASSERT_DER_OK(daos_event_test(&ev3, 0, &done));
  EXPECT_TRUE(done);
  EXPECT_EQ(ev3.ev_error, -DER_NO_HDL);
  // The queue is busy while events are initialized on it; daos_fini refuses while it exists.
  EXPECT_DER(daos_eq_destroy(eqh, 0), -DER_BUSY);
  EXPECT_DER(daos_fini(), -DER_BUSY);
  ASSERT_DER_OK(daos_event_fini(&ev1));
  ASSERT_DER_OK(daos_event_fini(&ev2));
  ASSERT_DER_OK(daos_event_fini(&ev3));
  EXPECT_DER(daos_event_fini(&ev3), -DER_INVAL);
  EXPECT_DER(daos_eq_destroy(eqh, 0), 0);
  EXPECT_DER(daos_eq_destroy(eqh, 0), -DER_NO_HDL);
  EXPECT_DER(daos_eq_create(nullptr), -DER_INVAL);
}

}  // namespace

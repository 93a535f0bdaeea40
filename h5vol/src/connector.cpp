// The connector class: registration, connector info, introspection, runtime (MPI, the object
// store and the cached pool connection).
#include <cstdlib>

#include "h5vol_internal.hpp"

namespace edaos::h5vol {
namespace {

std::mutex g_rt_mu;
bool g_we_init_mpi = false;    // MPI_Init_thread was called by the connector
bool g_we_init_store = false;  // objstore::init was called by the connector

herr_t initialize(hid_t) { return errors_init() ? 0 : -1; }

// Releases what the connector set up itself: the store and MPI (pool connections are objstore's
// shared ones, closed by objstore::finalize, whoever calls it). Runs from the terminate
// callback, or at exit (registered when the connector first initializes anything): HDF5's own
// exit handler runs after the store's static destructors, too late for the store.
void teardown() {
  std::lock_guard<std::mutex> lk(g_rt_mu);
  if (g_we_init_store) {
    (void)objstore::finalize();
    g_we_init_store = false;
  }
  if (g_we_init_mpi) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
    g_we_init_mpi = false;
  }
}

herr_t terminate() {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    teardown();
    errors_term();
    return 0;
  });
}

// ---- connector info: {comm, info}, not owned (see h5vol.h) -------------------------------
void* info_copy(const void* info) {
  auto* n = new (std::nothrow) Info;
  if (n && info) *n = *static_cast<const Info*>(info);
  return n;
}
herr_t info_cmp(int* cmp, const void* a, const void* b) {
  const auto* x = static_cast<const Info*>(a);
  const auto* y = static_cast<const Info*>(b);
  *cmp = 0;
  if (!x || !y) {
    *cmp = (x != nullptr) - (y != nullptr);
    return 0;
  }
  if (x->comm != y->comm) *cmp = x->comm < y->comm ? -1 : 1;
  return 0;
}
herr_t info_free(void* info) {
  delete static_cast<Info*>(info);
  return 0;
}
// The string form carries nothing: communicators do not survive a round trip through text.
herr_t info_to_str(const void*, char** str) {
  *str = static_cast<char*>(H5allocate_memory(1, false));
  if (*str) (*str)[0] = '\0';
  return 0;
}
herr_t str_to_info(const char*, void** info) {
  *info = new (std::nothrow) Info;
  return *info ? 0 : -1;
}

// ---- introspection -------------------------------------------------------------------------
herr_t get_conn_cls(void*, H5VL_get_conn_lvl_t, const H5VL_class_t** cls) {
  *cls = &g_class;
  return 0;
}
herr_t get_cap_flags(const void*, uint64_t* flags) {
  *flags = g_class.cap_flags;
  return 0;
}
herr_t opt_query(void*, H5VL_subclass_t, int, uint64_t* flags) {
  *flags = 0;  // no optional (native-only) operation is supported
  return 0;
}

}  // namespace

constexpr uint64_t kCaps =
    H5VL_CAP_FLAG_ATTR_BASIC | H5VL_CAP_FLAG_ATTR_MORE | H5VL_CAP_FLAG_DATASET_BASIC |
    H5VL_CAP_FLAG_DATASET_MORE | H5VL_CAP_FLAG_FILE_BASIC | H5VL_CAP_FLAG_FILE_MORE |
    H5VL_CAP_FLAG_GROUP_BASIC | H5VL_CAP_FLAG_GROUP_MORE | H5VL_CAP_FLAG_LINK_BASIC |
    H5VL_CAP_FLAG_LINK_MORE | H5VL_CAP_FLAG_OBJECT_BASIC | H5VL_CAP_FLAG_OBJECT_MORE |
    H5VL_CAP_FLAG_STORED_DATATYPES | H5VL_CAP_FLAG_CREATION_ORDER | H5VL_CAP_FLAG_ITERATE |
    H5VL_CAP_FLAG_BY_IDX | H5VL_CAP_FLAG_GET_PLIST | H5VL_CAP_FLAG_FLUSH_REFRESH |
    H5VL_CAP_FLAG_HARD_LINKS | H5VL_CAP_FLAG_SOFT_LINKS | H5VL_CAP_FLAG_FILL_VALUES |
    H5VL_CAP_FLAG_STORAGE_SIZE;

const H5VL_class_t g_class = {
    H5VL_VERSION,
    static_cast<H5VL_class_value_t>(H5VL_EDAOS_VALUE),
    H5VL_EDAOS_NAME,
    H5VL_EDAOS_VERSION,
    kCaps,
    initialize,
    terminate,
    {sizeof(Info), info_copy, info_cmp, info_free, info_to_str, str_to_info},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
    {attr_create, attr_open, attr_read, attr_write, attr_get, attr_specific, attr_optional,
     attr_close},
    {dataset_create, dataset_open, dataset_read, dataset_write, dataset_get, dataset_specific,
     dataset_optional, dataset_close},
    {datatype_commit, datatype_open, datatype_get, datatype_specific, datatype_optional,
     datatype_close},
    {file_create, file_open, file_get, file_specific, file_optional, file_close},
    {group_create, group_open, group_get, group_specific, group_optional, group_close},
    {link_create, link_copy, link_move, link_get, link_specific, link_optional},
    {object_open, object_copy, object_get, object_specific, object_optional},
    {get_conn_cls, get_cap_flags, opt_query},
    {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr},
    {token_cmp, token_to_str, token_from_str},
    nullptr,
};

hid_t connector_id() {
  hid_t id = H5I_INVALID_HID;
  H5E_BEGIN_TRY { id = H5VLget_connector_id_by_name(H5VL_EDAOS_NAME); }
  H5E_END_TRY
  if (id >= 0) return id;
  return H5VLregister_connector(&g_class, H5P_DEFAULT);
}

MPI_Comm fapl_comm(hid_t fapl) {
  MPI_Comm out = MPI_COMM_NULL;
  const void* vinfo = nullptr;
  void* info = nullptr;
  if (fapl >= 0 && H5Pget_vol_info(fapl, &info) >= 0 && info) vinfo = info;
  const auto* i = static_cast<const Info*>(vinfo);
  if (i && i->comm != MPI_COMM_NULL) {
    objstore::coll::dup(i->comm, &out);
  } else {
    MPI_Comm c = MPI_COMM_NULL;
    MPI_Info mi = MPI_INFO_NULL;
    H5E_BEGIN_TRY {
      if (fapl >= 0 && H5Pget_mpi_params(fapl, &c, &mi) < 0) c = MPI_COMM_NULL;
    }
    H5E_END_TRY
    if (mi != MPI_INFO_NULL) MPI_Info_free(&mi);
    if (c != MPI_COMM_NULL) {
      out = c;  // already a duplicate
    } else {
      // No communicator given (H5P_DEFAULT or a serial driver): the file is this process's
      // alone, as with HDF5's native sec2 driver. (h5_api_test_parallel creates its test
      // file on rank 0 only, with H5P_DEFAULT.)
      objstore::coll::dup(MPI_COMM_SELF, &out);
    }
  }
  if (info) {
    hid_t id = connector_id();
    H5VLfree_connector_info(id, info);
    H5VLclose(id);
  }
  return out;
}

// Makes sure MPI is up (initializing it with MPI_THREAD_MULTIPLE for programs that never
// called MPI_Init); returns false when that is impossible.
static bool ensure_mpi() {
  int inited = 0;
  MPI_Initialized(&inited);
  if (inited) return true;
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
    return false;
  g_we_init_mpi = true;
  return true;
}

Result<std::shared_ptr<objstore::Pool>> runtime_pool(MPI_Comm comm) {
  std::lock_guard<std::mutex> lk(g_rt_mu);
  static bool at_exit = false;
  if (!at_exit) {
    at_exit = true;
    std::atexit(teardown);
  }
  if (!objstore::is_initialized()) {
    if (!ensure_mpi()) return Status(EDAOS_NOTINIT, "cannot initialize MPI");
    // The store's communicator: the file's when MPI was initialized by the application,
    // MPI_COMM_WORLD when the connector initialized MPI itself.
    EDAOS_RETURN_IF_ERROR(objstore::init(g_we_init_mpi ? MPI_COMM_WORLD : comm));
    g_we_init_store = true;
  }
  // The default pool (a path or a label: objstore's resolver), through objstore's shared
  // connection cache, created when missing (atomically, in an empty or absent directory only).
  std::string path = objstore::default_pool_path();
  objstore::SharedPoolOptions so;
  so.create = true;
  auto p = objstore::Pool::shared(path, comm, so);
  if (!p.ok()) return p.status().with_context("pool " + path);
  return p.value();
}

}  // namespace edaos::h5vol

using namespace edaos::h5vol;

extern "C" {

hid_t H5VL_edaos_register(void) {
  return guarded<hid_t>(__func__, H5I_INVALID_HID, [&]() { return connector_id(); });
}

herr_t H5Pset_fapl_edaos(hid_t fapl, MPI_Comm comm, MPI_Info info) {
  return guarded<herr_t>(__func__, -1, [&]() -> herr_t {
    if (comm == MPI_COMM_NULL) {
      H5VL_EDAOS_ERR("H5Pset_fapl_edaos: communicator is MPI_COMM_NULL");
      return -1;
    }
    hid_t id = connector_id();
    if (id < 0) {
      H5VL_EDAOS_ERR("cannot register the edaos VOL connector");
      return -1;
    }
    Info i{comm, info};
    herr_t r = H5Pset_vol(fapl, id, &i);
    H5VLclose(id);
    return r;
  });
}

}  // extern "C"

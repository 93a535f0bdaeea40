// Private declarations shared by the connector's source files (one file per VOL class).
#pragma once

#include <H5VLconnector.h>
#include <hdf5.h>
#include <mpi.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edaos/h5vol/h5vol.h"
#include "edaos/objstore/collectives.hpp"
#include "edaos/objstore/objstore.hpp"

namespace edaos::h5vol {

using objstore::ObjectId;

// ---- errors (errors.cpp) -----------------------------------------------------------------
// Pushes `msg` on the HDF5 error stack under the connector's own error class.
void push_error(const char* func, int line, const std::string& msg);
void push_status(const char* func, int line, const Status& st, const std::string& what);
bool errors_init();
void errors_term();
#define H5VL_EDAOS_ERR(msg) ::edaos::h5vol::push_error(__func__, __LINE__, (msg))
#define H5VL_EDAOS_ERR_ST(st, what) ::edaos::h5vol::push_status(__func__, __LINE__, (st), (what))

// ---- connector info and runtime (connector.cpp) ------------------------------------------
struct Info {
  MPI_Comm comm = MPI_COMM_NULL;  // not owned
  MPI_Info info = MPI_INFO_NULL;  // not owned
};
extern const H5VL_class_t g_class;
hid_t connector_id();
// Makes sure MPI and the object store are up (collective over `comm`), then returns the
// cached connection to the pool (connecting, creating the pool if missing, over `comm`).
Result<std::shared_ptr<objstore::Pool>> runtime_pool(MPI_Comm comm);
// The communicator a file opened with `fapl` is collective over (a duplicate: caller frees).
MPI_Comm fapl_comm(hid_t fapl);

// ---- objects -------------------------------------------------------------------------------
struct File;

// Base of every object handed to HDF5. `file` keeps the file alive.
struct Obj {
  H5I_type_t type = H5I_BADID;
  File* file = nullptr;
  ObjectId oid;  // the object's metadata KV (attributes: the owning object's)
  // Absolute path the object was opened or created by ("" when anonymous or opened by token
  // or index): the H5Iget_name answer while that path still leads to the object.
  std::string path;
  virtual ~Obj();
};

struct File : Obj {
  std::string name;
  unsigned flags = 0;
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0, size = 1;
  std::shared_ptr<objstore::Pool> pool;
  std::shared_ptr<objstore::Container> cont;
  hid_t fapl = H5I_INVALID_HID, fcpl = H5I_INVALID_HID;
  std::atomic<int> refs{1};
  std::mutex mu;  // serializes this process's read-modify-write of counters
  ~File() override;
  bool writable() const { return (flags & H5F_ACC_RDWR) != 0; }
};
void file_ref(File* f);
void file_unref(File* f);
// Whether an HDF5 file ID currently refers to `f` (H5Iget_file_id reuses it when one does).
bool file_has_id(File* f);

struct Group : Obj {
  hid_t gcpl = H5I_INVALID_HID;
  ~Group() override;
};

// Dataset storage geometry: element coordinates -> byte offset in the data array.
struct Layout {
  int rank = 0;
  bool chunked = false;
  size_t esize = 0;            // file element size
  std::vector<hsize_t> dims;   // contiguous: fixed dims
  std::vector<hsize_t> chunk;  // chunked: chunk dims
  std::vector<hsize_t> grid;   // chunked: chunks per dim (dim 0 unbounded)
  uint64_t chunk_bytes = 0;
  // Byte offset of the element with coordinates `c`.
  uint64_t offset(const hsize_t* c) const;
};

// Objects keep datatypes encoded (H5Tencode) and decode them per call (ScopedType): a datatype
// ID held open would count as one of the application's (H5Fget_obj_count(H5F_OBJ_ALL, ...)).
struct Dataset : Obj {
  std::string ftype;  // encoded file datatype
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  hid_t dapl = H5I_INVALID_HID;
  ObjectId data_oid;  // byte array (fixed-size types) or KV (variable-length types)
  bool vlen = false;
  Layout layout;
  std::unique_ptr<objstore::Array> arr;
  std::unique_ptr<objstore::KV> vkv;
  ~Dataset() override;
};

struct Datatype : Obj {
  std::string dtype;  // encoded
  hid_t tcpl = H5I_INVALID_HID;
  ~Datatype() override;
};

struct Attr : Obj {
  std::string name;
  std::string atype;  // encoded
  hid_t space = H5I_INVALID_HID, acpl = H5I_INVALID_HID;
  ~Attr() override;
};

// ---- metadata layout (util.cpp) -------------------------------------------------------------
// Every object has a KV: dkey "M" holds its metadata (akeys below), dkey "L<name>" one link,
// dkey "A<name>" one attribute.
constexpr const char* kMeta = "M";
constexpr char kLinkPrefix = 'L';
constexpr char kAttrPrefix = 'A';
namespace akey {
constexpr const char* kType = "type";    // "G", "D", "T"
constexpr const char* kDtype = "dtype";  // H5Tencode
constexpr const char* kSpace = "space";  // H5Sencode2
constexpr const char* kCpl = "cpl";      // H5Pencode2 of the gcpl / dcpl / tcpl
constexpr const char* kData = "data";    // 16-byte OID of the data object
constexpr const char* kLinkCtr = "lctr";
constexpr const char* kAttrCtr = "actr";
constexpr const char* kRefs = "refs";
constexpr const char* kTypeRef = "tref";  // 16-byte OID of a committed datatype used
}  // namespace akey

struct LinkRec {
  H5L_type_t kind = H5L_TYPE_HARD;
  uint64_t corder = 0;
  ObjectId target;
  std::string soft;
  std::string encode() const;
  static Result<LinkRec> decode(const std::string& s);
};

struct AttrRec {
  uint64_t corder = 0;
  std::string dtype, space;  // encoded
  std::string data;          // file format; variable-length strings as (flag, len, bytes)
  // The committed datatype the attribute was created with (it holds a reference to it), when
  // `has_tref`; stored as 16 trailing bytes (records without them have none).
  bool has_tref = false;
  ObjectId tref;
  std::string encode() const;
  static Result<AttrRec> decode(const std::string& s);
};

std::string oid_bytes(const ObjectId& o);
ObjectId oid_from_bytes(const std::string& s);
std::string u64_bytes(uint64_t v);
uint64_t u64_from(const std::string& s);

std::string encode_type(hid_t t);
std::string encode_space(hid_t s);
std::string encode_plist(hid_t p);
hid_t decode_type(const std::string& s);
hid_t decode_space(const std::string& s);
hid_t decode_plist(const std::string& s);

// A datatype ID decoded from its encoding for the duration of one call.
class ScopedType {
 public:
  explicit ScopedType(const std::string& enc) : id_(decode_type(enc)) {}
  ~ScopedType() {
    if (id_ >= 0) H5Tclose(id_);
  }
  ScopedType(const ScopedType&) = delete;
  ScopedType& operator=(const ScopedType&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
};

Result<std::unique_ptr<objstore::KV>> open_kv(File* f, const ObjectId& oid);
// Object type letter of `oid` ('G', 'D', 'T').
Result<char> object_kind(File* f, const ObjectId& oid);
H5I_type_t kind_to_itype(char k);
H5O_type_t kind_to_otype(char k);

// Collective over f->comm: waits until every rank has arrived, runs `fn` on rank 0 and
// broadcasts its status and result bytes, so every rank returns the same outcome. `local` is
// the outcome of this rank's own argument checks: when any rank's is an error, `fn` does not
// run and every rank fails (EDAOS_REMOTE where the local checks passed).
Status collective(File* f, const Status& local, const std::function<Result<std::string>()>& fn,
                  std::string* out);
Status collective(File* f, const std::function<Result<std::string>()>& fn, std::string* out);

// Allocator for variable-length data handed to the application: the transfer property list's
// (H5Pset_vlen_mem_manager; H5Dvlen_get_buf_size counts through it), else malloc.
struct VlenAlloc {
  H5MM_allocate_t fn = nullptr;
  void* info = nullptr;
  void* operator()(size_t n) const { return fn ? fn(n, info) : malloc(n); }
};
VlenAlloc vlen_alloc(hid_t dxpl);

// ---- argument checks (util.cpp) -------------------------------------------------------------
// EDAOS_INVAL unless `id` is H5P_DEFAULT or a property list of class `cls` (or derived from it).
Status check_plist(hid_t id, hid_t cls, const char* what);
// EDAOS_INVAL unless `id` is a datatype / dataspace ID.
Status check_type(hid_t id);
Status check_space(hid_t id);
// The link access property list of a by-name or by-index location.
Status check_loc(const H5VL_loc_params_t* lp);
// The first failed status of `all`, or OK. (Argument checks: every rank passes the same
// arguments, so a failure here needs no agreement.)
Status first_error(std::initializer_list<Status> all);

// ---- name resolution (util.cpp) -------------------------------------------------------------
struct Target {
  ObjectId oid;
  char kind = 0;
};
// Resolves a path (absolute or relative to `start`), following soft links.
Result<Target> resolve_path(File* f, const ObjectId& start, const std::string& path);
// Resolves a location (self / by name / by index / by token) relative to `obj`.
Result<Target> resolve_loc(Obj* obj, const H5VL_loc_params_t* lp);
// Absolute path of `name` relative to an object whose path is `base` ("" when unknown).
std::string join_path(const std::string& base, const std::string& name);
// Absolute path of a location relative to `o` (by self or by name; "" otherwise).
std::string loc_path(const Obj* o, const H5VL_loc_params_t* lp);
// Splits "a/b/c" into the parent path "a/b" and the last name "c".
void split_path(const std::string& path, std::string* parent, std::string* name);
// Links of a group in the order asked for (name or creation order).
// The records of (*out)[from..] (names without their dkey prefix) with one vector get
// (KV::run: one message per server rank instead of one round trip per name), decoded.
template <typename Rec>
Status fetch_records(objstore::KV* kv, char prefix, std::vector<std::pair<std::string, Rec>>* out,
                     size_t from) {
  if (from >= out->size()) return Status::OK();
  std::vector<objstore::KvOp> ops(out->size() - from);
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].kind = objstore::KvOp::kGet;
    ops[i].dkey = std::string(1, prefix) + (*out)[from + i].first;
  }
  EDAOS_RETURN_IF_ERROR(kv->run(&ops));
  for (size_t i = 0; i < ops.size(); ++i) {
    auto rec = Rec::decode(ops[i].value);
    if (!rec.ok()) return rec.status();
    (*out)[from + i].second = std::move(rec).value();
  }
  return Status::OK();
}

Result<std::vector<std::pair<std::string, LinkRec>>> list_links(File* f, const ObjectId& group,
                                                                H5_index_t idx,
                                                                H5_iter_order_t order);
// Parent group (after creating missing groups when `intermediate`) and last name of `path`.
// Rank-0 only (inside collective()).
Result<std::pair<ObjectId, std::string>> parent_for_create(File* f, const ObjectId& start,
                                                           const std::string& path,
                                                           bool intermediate);
// Where a create of a named object puts its link: an optional `name` (anonymous objects have
// none) resolved from `start` as parent_for_create does (intermediate groups per `lcpl`), and
// EDAOS_EXIST before the object is made when the link is already there (the insert at the end
// checks again). Rank-0 only.
struct NewLink {
  bool named = false;
  ObjectId parent;
  std::string last;
};
Result<NewLink> new_link_place(File* f, const ObjectId& start, const char* name, hid_t lcpl);
// Links `target` at `place` when it is named (EDAOS_EXIST if present meanwhile). Rank-0 only.
Status link_new_object(File* f, const NewLink& place, const ObjectId& target);
// Creates a link `name` in `group` (EDAOS_EXIST if present). Rank-0 only.
Status insert_link(File* f, const ObjectId& group, const std::string& name, LinkRec rec);
// Creates an empty object KV of kind `k`, with extra metadata akeys. Rank-0 only.
Result<ObjectId> create_object(File* f, char k,
                               const std::vector<std::pair<std::string, std::string>>& meta);
Result<uint64_t> bump_counter(File* f, objstore::KV* kv, const char* akey);
// Adds `delta` to the object's reference count (hard links, users of a committed type).
Status adjust_refs(File* f, const ObjectId& oid, int delta);
// The OID of `type` when it is a datatype committed in the file of `f` (datasets and
// attributes created with it hold a reference to it, as in HDF5).
bool committed_type_oid(File* f, hid_t type, ObjectId* out);
bool intermediate_groups(hid_t lcpl);

// ---- per-class entry points --------------------------------------------------------------------
// file.cpp
void* file_create(const char* name, unsigned flags, hid_t fcpl, hid_t fapl, hid_t dxpl, void** req);
void* file_open(const char* name, unsigned flags, hid_t fapl, hid_t dxpl, void** req);
herr_t file_get(void* obj, H5VL_file_get_args_t* args, hid_t dxpl, void** req);
herr_t file_specific(void* obj, H5VL_file_specific_args_t* args, hid_t dxpl, void** req);
herr_t file_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t file_close(void* file, hid_t dxpl, void** req);
// group.cpp
void* group_create(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t lcpl, hid_t gcpl,
                   hid_t gapl, hid_t dxpl, void** req);
void* group_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t gapl, hid_t dxpl,
                 void** req);
herr_t group_get(void* obj, H5VL_group_get_args_t* args, hid_t dxpl, void** req);
herr_t group_specific(void* obj, H5VL_group_specific_args_t* args, hid_t dxpl, void** req);
herr_t group_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t group_close(void* grp, hid_t dxpl, void** req);
Obj* open_by_target(File* f, const Target& t);
// link.cpp
herr_t link_create(H5VL_link_create_args_t* args, void* obj, const H5VL_loc_params_t* lp,
                   hid_t lcpl, hid_t lapl, hid_t dxpl, void** req);
herr_t link_copy(void* src, const H5VL_loc_params_t* lp1, void* dst, const H5VL_loc_params_t* lp2,
                 hid_t lcpl, hid_t lapl, hid_t dxpl, void** req);
herr_t link_move(void* src, const H5VL_loc_params_t* lp1, void* dst, const H5VL_loc_params_t* lp2,
                 hid_t lcpl, hid_t lapl, hid_t dxpl, void** req);
herr_t link_get(void* obj, const H5VL_loc_params_t* lp, H5VL_link_get_args_t* args, hid_t dxpl,
                void** req);
herr_t link_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_link_specific_args_t* args,
                     hid_t dxpl, void** req);
herr_t link_optional(void* obj, const H5VL_loc_params_t* lp, H5VL_optional_args_t* args, hid_t dxpl,
                     void** req);
// dataset.cpp
void* dataset_create(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t lcpl,
                     hid_t type, hid_t space, hid_t dcpl, hid_t dapl, hid_t dxpl, void** req);
void* dataset_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t dapl, hid_t dxpl,
                   void** req);
herr_t dataset_read(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[],
                    hid_t file_space[], hid_t dxpl, void* buf[], void** req);
herr_t dataset_write(size_t count, void* dset[], hid_t mem_type[], hid_t mem_space[],
                     hid_t file_space[], hid_t dxpl, const void* buf[], void** req);
herr_t dataset_get(void* obj, H5VL_dataset_get_args_t* args, hid_t dxpl, void** req);
herr_t dataset_specific(void* obj, H5VL_dataset_specific_args_t* args, hid_t dxpl, void** req);
herr_t dataset_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t dataset_close(void* dset, hid_t dxpl, void** req);
Dataset* dataset_load(File* f, const ObjectId& oid, hid_t dapl);
// datatype.cpp
void* datatype_commit(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t type,
                      hid_t lcpl, hid_t tcpl, hid_t tapl, hid_t dxpl, void** req);
void* datatype_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t tapl,
                    hid_t dxpl, void** req);
herr_t datatype_get(void* obj, H5VL_datatype_get_args_t* args, hid_t dxpl, void** req);
herr_t datatype_specific(void* obj, H5VL_datatype_specific_args_t* args, hid_t dxpl, void** req);
herr_t datatype_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t datatype_close(void* dt, hid_t dxpl, void** req);
Datatype* datatype_load(File* f, const ObjectId& oid);
// attr.cpp
void* attr_create(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t type, hid_t space,
                  hid_t acpl, hid_t aapl, hid_t dxpl, void** req);
void* attr_open(void* obj, const H5VL_loc_params_t* lp, const char* name, hid_t aapl, hid_t dxpl,
                void** req);
herr_t attr_read(void* attr, hid_t mem_type, void* buf, hid_t dxpl, void** req);
herr_t attr_write(void* attr, hid_t mem_type, const void* buf, hid_t dxpl, void** req);
herr_t attr_get(void* obj, H5VL_attr_get_args_t* args, hid_t dxpl, void** req);
herr_t attr_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_attr_specific_args_t* args,
                     hid_t dxpl, void** req);
herr_t attr_optional(void* obj, H5VL_optional_args_t* args, hid_t dxpl, void** req);
herr_t attr_close(void* attr, hid_t dxpl, void** req);
Result<uint64_t> count_attrs(File* f, const ObjectId& oid);
// object.cpp
void* object_open(void* obj, const H5VL_loc_params_t* lp, H5I_type_t* opened_type, hid_t dxpl,
                  void** req);
herr_t object_copy(void* src, const H5VL_loc_params_t* lp1, const char* src_name, void* dst,
                   const H5VL_loc_params_t* lp2, const char* dst_name, hid_t ocpypl, hid_t lcpl,
                   hid_t dxpl, void** req);
herr_t object_get(void* obj, const H5VL_loc_params_t* lp, H5VL_object_get_args_t* args, hid_t dxpl,
                  void** req);
herr_t object_specific(void* obj, const H5VL_loc_params_t* lp, H5VL_object_specific_args_t* args,
                       hid_t dxpl, void** req);
herr_t object_optional(void* obj, const H5VL_loc_params_t* lp, H5VL_optional_args_t* args,
                       hid_t dxpl, void** req);
Status fill_object_info(File* f, const Target& t, unsigned fields, H5O_info2_t* info);
// token.cpp
herr_t token_cmp(void* obj, const H5O_token_t* t1, const H5O_token_t* t2, int* cmp);
herr_t token_to_str(void* obj, H5I_type_t type, const H5O_token_t* t, char** str);
herr_t token_from_str(void* obj, H5I_type_t type, const char* str, H5O_token_t* t);
H5O_token_t oid_to_token(const ObjectId& o);
ObjectId token_to_oid(const H5O_token_t& t);

// Runs `body`, turning exceptions into an HDF5 error and `fail`.
template <typename R, typename F>
R guarded(const char* func, R fail, F&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    push_error(func, 0, "out of memory");
  } catch (const std::exception& e) {
    push_error(func, 0, std::string("internal error: ") + e.what());
  } catch (...) {
    push_error(func, 0, "internal error");
  }
  return fail;
}

}  // namespace edaos::h5vol

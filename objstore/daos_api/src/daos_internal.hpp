// Private state of the DAOS API library (libedaos_daos): the handle registry, library
// initialization, error mapping, events and the exception guards every extern "C" entry point
// goes through. See objstore/daos_api/README.md for the design.
#pragma once

#include <daos.h>
#include <daos_fs.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"

namespace edaos::daosapi {

using objstore::Container;
using objstore::Dfs;
using objstore::DfsObj;
using objstore::Pool;

// ---- handles ---------------------------------------------------------------------------------

// Cookie low nibble = handle type (DAOS's DAOS_HTYPE_* values); the rest is a counter that is
// never reused, so a closed handle is always recognised (-DER_NO_HDL).
enum HandleType : uint64_t { kTypeEq = 1, kTypePool = 3, kTypeCont = 5 };

struct PoolImpl {
  std::shared_ptr<Pool> pool;
  std::string path;  // absolute path of the pool directory
  unsigned flags = 0;
};

struct ContImpl {
  std::shared_ptr<PoolImpl> pool;  // keeps the connection while the container is open
  std::shared_ptr<Container> cont;
  unsigned flags = 0;
};

struct EqImpl;

// The mount behind a dfs_t.
struct MountImpl {
  enum Kind { kMount = 1, kConnect = 2 };
  std::mutex mu;
  Kind kind = kMount;
  int amode = O_RDWR;
  std::shared_ptr<PoolImpl> pool;
  std::shared_ptr<ContImpl> cont;
  std::unique_ptr<Dfs> fs;
  daos_handle_t poh{0}, coh{0};  // the handles it was mounted over (owned when kConnect)
  std::string prefix;            // dfs_set_prefix, without a trailing '/'
  int pool_refs = 0, cont_refs = 0;
  std::string connect_pool, connect_cont;  // dfs_connect cache keys
};

// An open dfs_obj_t. dfs_dup of a symbolic link shares `o` (a link handle has no state).
struct ObjImpl {
  std::shared_ptr<MountImpl> m;
  std::shared_ptr<DfsObj> o;
  int flags = 0;
};

// Registers and finds handles. Thread-safe.
class Registry {
 public:
  static Registry& get();

  daos_handle_t add_pool(std::shared_ptr<PoolImpl> p);
  daos_handle_t add_cont(std::shared_ptr<ContImpl> c);
  daos_handle_t add_eq(std::shared_ptr<EqImpl> e);
  std::shared_ptr<PoolImpl> pool(daos_handle_t h);
  std::shared_ptr<ContImpl> cont(daos_handle_t h);
  std::shared_ptr<EqImpl> eq(daos_handle_t h);
  // Remove and return (nullptr when not registered).
  std::shared_ptr<PoolImpl> take_pool(daos_handle_t h);
  std::shared_ptr<ContImpl> take_cont(daos_handle_t h);
  std::shared_ptr<EqImpl> take_eq(daos_handle_t h);
  size_t eq_count();

  dfs_t* add_mount(std::shared_ptr<MountImpl> m);
  dfs_obj_t* add_obj(std::shared_ptr<ObjImpl> o);
  std::shared_ptr<MountImpl> mount(const dfs_t* d);
  std::shared_ptr<ObjImpl> obj(const dfs_obj_t* o);
  std::shared_ptr<MountImpl> take_mount(dfs_t* d);
  std::shared_ptr<ObjImpl> take_obj(dfs_obj_t* o);

  // Drops every handle (the last daos_fini, MPI_Finalize). Their objects are destroyed here,
  // while the store still runs; the user's pointers and cookies become invalid.
  void clear();

 private:
  Registry() = default;
  uint64_t next_cookie(HandleType t);
  std::mutex mu_;
  uint64_t counter_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<PoolImpl>> pools_;
  std::unordered_map<uint64_t, std::shared_ptr<ContImpl>> conts_;
  std::unordered_map<uint64_t, std::shared_ptr<EqImpl>> eqs_;
  std::unordered_map<const dfs_t*, std::shared_ptr<MountImpl>> mounts_;
  std::unordered_map<const dfs_obj_t*, std::shared_ptr<ObjImpl>> objs_;
};

// ---- library state ---------------------------------------------------------------------------

// True between a successful daos_init and the daos_fini that drops the last reference.
bool initialized();

// The dfs_connect cache (dfs.cpp): drops every cached pool/container reference.
void dfs_cache_clear();

// ---- errors ----------------------------------------------------------------------------------

// edaos status -> negative DER code (daos_* calls) / errno (dfs_* calls); a DER code -> errno
// (for dfs_* calls made of daos_* calls).
int der_of(const Status& st);
int errno_of(const Status& st);
int errno_of_der(int der);
// Records the failure message for edaos_daos_last_error() and logs it at debug level
// (facility "daos"). Returns der_of / errno_of.
int fail_der(const char* call, const Status& st);
int fail_errno(const char* call, const Status& st);
// Records a message for a failure that has no Status (argument checks).
void note(const char* call, const std::string& msg);

// Name of the API call the calling thread is in (set by the guards below; "" outside).
const char* current_call();

// Runs `body` and turns exceptions into -DER_NOMEM / -DER_MISC (daos) or ENOMEM / EIO (dfs).
// `call` (the entry point's name) is current_call() while body runs.
int guard_der(const char* call, const std::function<int()>& body) noexcept;
int guard_errno(const char* call, const std::function<int()>& body) noexcept;

// ---- events ----------------------------------------------------------------------------------

// Runs `op` and delivers its result: without an event, returns it; with one, checks the event
// is ready (else returns `bad_event` without running op), runs op, stores the result in
// ev->ev_error, completes the event (queues it on its EQ) and returns 0.
int run_with_event(daos_event_t* ev, int bad_event, const std::function<int()>& op);

// ---- shared helpers --------------------------------------------------------------------------

// The one place that turns a DAOS pool name (label, UUID or path) into an edaos pool path (see
// daos_pool.h). When objstore gets a shared `daos:` name resolver, point this at it.
Result<std::string> resolve_pool_name(const std::string& name);

// Connects a pool by name for this process alone (MPI_COMM_SELF).
Result<std::shared_ptr<PoolImpl>> connect_pool(const std::string& name, unsigned flags);

// Applies a daos_prop_t to `p` (all or nothing): a label entry sets p->label (checked by
// Pool::cont_create), the others go through objstore::set_property; creating allows the
// create-time types (layout type and version, owner, group).
Status apply_daos_props(const daos_prop_t* prop, objstore::ContainerProps* p, bool creating);

// Sets the entries of `prop` on an open container (all translated first: a bad entry changes
// nothing; then one Container::set_prop per entry).
Status set_daos_props(Container& c, const daos_prop_t* prop);
// Fills `prop` from `p` (daos_cont_query semantics). Returns 0 or a negative DER code.
int query_daos_props(const objstore::ContainerProps& p, daos_prop_t* prop);

// Class ID <-> edaos class name ("" for OC_UNKNOWN / 0).
Result<std::string> oclass_name_of(daos_oclass_id_t id);
daos_oclass_id_t oclass_id_of(const objstore::ObjClass& oc);
// Of a class name ("" or a name that does not parse: OC_UNKNOWN).
daos_oclass_id_t oclass_id_of_name(const std::string& name);

// Byte serialization of global handles.
class Writer {
 public:
  Writer& u32(uint32_t v);
  Writer& u64(uint64_t v);
  Writer& bytes(const void* p, size_t n);
  Writer& str(const std::string& s);
  const std::string& buf() const { return b_; }

 private:
  std::string b_;
};
class Reader {
 public:
  Reader(const void* p, size_t n) : p_(static_cast<const char*>(p)), n_(n) {}
  bool u32(uint32_t* v);
  bool u64(uint64_t* v);
  bool bytes(void* out, size_t n);
  bool str(std::string* s);
  bool done() const { return off_ == n_; }

 private:
  const char* p_;
  size_t n_, off_ = 0;
};

// Copies `blob` into glob following DAOS's two-step protocol (NULL buffer: report the size).
// `too_short` is what a short buffer returns (-DER_TRUNC or ENOBUFS), `inval` the code for a
// NULL glob.
int export_global(const std::string& blob, d_iov_t* glob, int too_short, int inval);

}  // namespace edaos::daosapi

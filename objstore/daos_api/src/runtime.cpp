// daos_init / daos_fini, the handle registry, error mapping and the exception guards.
#include <mpi.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "daos_internal.hpp"
#include "edaos/objstore/log.h"

namespace edaos::daosapi {

// ---- registry --------------------------------------------------------------------------------

// Never destroyed: handles a program leaves open must not be torn down by static destructors
// after MPI is gone (they would talk to the store). Everything in it stays reachable.
Registry& Registry::get() {
  static Registry* r = new Registry();
  return *r;
}

uint64_t Registry::next_cookie(HandleType t) { return (++counter_ << 4) | t; }

namespace {
template <typename M>
typename M::mapped_type find(std::mutex& mu, M& map, uint64_t key) {
  std::lock_guard<std::mutex> lk(mu);
  auto it = map.find(key);
  return it == map.end() ? nullptr : it->second;
}
template <typename M, typename K>
typename M::mapped_type take(std::mutex& mu, M& map, const K& key) {
  std::lock_guard<std::mutex> lk(mu);
  auto it = map.find(key);
  if (it == map.end()) return nullptr;
  auto v = std::move(it->second);
  map.erase(it);
  return v;
}
}  // namespace

daos_handle_t Registry::add_pool(std::shared_ptr<PoolImpl> p) {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t c = next_cookie(kTypePool);
  pools_.emplace(c, std::move(p));
  return daos_handle_t{c};
}
daos_handle_t Registry::add_cont(std::shared_ptr<ContImpl> c) {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t k = next_cookie(kTypeCont);
  conts_.emplace(k, std::move(c));
  return daos_handle_t{k};
}
daos_handle_t Registry::add_eq(std::shared_ptr<EqImpl> e) {
  std::lock_guard<std::mutex> lk(mu_);
  uint64_t k = next_cookie(kTypeEq);
  eqs_.emplace(k, std::move(e));
  return daos_handle_t{k};
}
std::shared_ptr<PoolImpl> Registry::pool(daos_handle_t h) { return find(mu_, pools_, h.cookie); }
std::shared_ptr<ContImpl> Registry::cont(daos_handle_t h) { return find(mu_, conts_, h.cookie); }
std::shared_ptr<EqImpl> Registry::eq(daos_handle_t h) { return find(mu_, eqs_, h.cookie); }
std::shared_ptr<PoolImpl> Registry::take_pool(daos_handle_t h) {
  return take(mu_, pools_, h.cookie);
}
std::shared_ptr<ContImpl> Registry::take_cont(daos_handle_t h) {
  return take(mu_, conts_, h.cookie);
}
std::shared_ptr<EqImpl> Registry::take_eq(daos_handle_t h) { return take(mu_, eqs_, h.cookie); }
size_t Registry::eq_count() {
  std::lock_guard<std::mutex> lk(mu_);
  return eqs_.size();
}

// dfs_t and dfs_obj_t are opaque tags: the registry maps their addresses to the state, so a
// released or never-issued pointer is refused (EINVAL) instead of being dereferenced.
}  // namespace edaos::daosapi

struct dfs {
  char tag;
};
struct dfs_obj {
  char tag;
};

namespace edaos::daosapi {

dfs_t* Registry::add_mount(std::shared_ptr<MountImpl> m) {
  auto* d = new dfs_t();
  std::lock_guard<std::mutex> lk(mu_);
  mounts_.emplace(d, std::move(m));
  return d;
}
dfs_obj_t* Registry::add_obj(std::shared_ptr<ObjImpl> o) {
  auto* d = new dfs_obj_t();
  std::lock_guard<std::mutex> lk(mu_);
  objs_.emplace(d, std::move(o));
  return d;
}
std::shared_ptr<MountImpl> Registry::mount(const dfs_t* d) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = mounts_.find(d);
  return it == mounts_.end() ? nullptr : it->second;
}
std::shared_ptr<ObjImpl> Registry::obj(const dfs_obj_t* o) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = objs_.find(o);
  return it == objs_.end() ? nullptr : it->second;
}
std::shared_ptr<MountImpl> Registry::take_mount(dfs_t* d) {
  auto m = take(mu_, mounts_, static_cast<const dfs_t*>(d));
  if (m) delete d;
  return m;
}
std::shared_ptr<ObjImpl> Registry::take_obj(dfs_obj_t* o) {
  auto v = take(mu_, objs_, static_cast<const dfs_obj_t*>(o));
  if (v) delete o;
  return v;
}

void Registry::clear() {
  // Objects first (a handle that wrote records its mtime through its mount), then mounts,
  // containers and pools (the last reference to a pool disconnects it). The maps are moved out
  // so the destructors run without the registry lock. The dfs_t / dfs_obj_t tags the program
  // still holds are left allocated: their addresses must not be handed out again.
  decltype(objs_) objs;
  decltype(mounts_) mounts;
  decltype(conts_) conts;
  decltype(pools_) pools;
  {
    std::lock_guard<std::mutex> lk(mu_);
    objs.swap(objs_);
    mounts.swap(mounts_);
    conts.swap(conts_);
    pools.swap(pools_);
  }
  objs.clear();
  mounts.clear();
  conts.clear();
  pools.clear();
}

// ---- library state ---------------------------------------------------------------------------

namespace {

std::mutex g_init_mu;
int g_refs = 0;
bool g_own_store = false;  // daos_init started the store (no MPI_Init wrapper did)
bool g_own_mpi = false;    // daos_init initialized MPI (a program that does not use MPI)
std::atomic<bool> g_initialized{false};

// A program that never used MPI itself: stop the store and MPI when it exits.
void finish_at_exit() {
  std::lock_guard<std::mutex> lk(g_init_mu);
  int fin = 0;
  MPI_Finalized(&fin);
  if (fin) return;
  if (objstore::is_initialized()) {
    dfs_cache_clear();
    Registry::get().clear();
    (void)objstore::finalize();
  }
  g_initialized = false;
  PMPI_Finalize();
}

thread_local std::string t_last_error;

edaos_log_level_t log_threshold() {
  static const edaos_log_level_t t = edaos_log_threshold("daos");
  return t;
}

}  // namespace

bool initialized() { return g_initialized.load(); }

// ---- errors ----------------------------------------------------------------------------------

int der_of(const Status& st) {
  switch (st.code()) {
    case EDAOS_OK:
      return 0;
    case EDAOS_INVAL:
    case EDAOS_NOENGINE:
    case EDAOS_XDEV:
    case EDAOS_ISDIR:
    case EDAOS_LOOP:
      return -DER_INVAL;
    case EDAOS_NOSPACE:
      return -DER_NOSPACE;
    case EDAOS_DEGRADED:
      return -DER_RF;
    case EDAOS_NOMEM:
      return -DER_NOMEM;
    case EDAOS_NONEXIST:
      return -DER_NONEXIST;
    case EDAOS_EXIST:
      return -DER_EXIST;
    case EDAOS_IO:
      return -DER_IO;
    case EDAOS_CSUM:
      return -DER_CSUM;
    case EDAOS_BUSY:
    case EDAOS_NOTEMPTY:
      return -DER_BUSY;
    case EDAOS_NOTSUP:
      return -DER_NOTSUPPORTED;
    case EDAOS_PERM:
    case EDAOS_RDONLY:
      return -DER_NO_PERM;
    case EDAOS_UNREACH:
      return -DER_UNREACH;
    case EDAOS_PROTO:
      return -DER_PROTO;
    case EDAOS_NOTDIR:
      return -DER_NOTDIR;
    case EDAOS_NAMETOOLONG:
      return -DER_KEY2BIG;
    case EDAOS_NOTINIT:
      return -DER_UNINIT;
    case EDAOS_SHUTDOWN:
      return -DER_SHUTDOWN;
    case EDAOS_TOOBIG:
      return -DER_OVERFLOW;
    case EDAOS_FORMAT:
      return -DER_DF_INVAL;
    case EDAOS_CANCELED:
      return -DER_CANCELED;
    default:  // REMOTE, INTERNAL
      return -DER_MISC;
  }
}

int errno_of(const Status& st) {
  switch (st.code()) {
    case EDAOS_OK:
      return 0;
    case EDAOS_NOENGINE:  // a class too wide for the pool: DFS reports EINVAL
      return EINVAL;
    case EDAOS_RDONLY:  // a change on a read-only mount: DFS reports EPERM
      return EPERM;
    default:
      return objstore::dfs_errno(st);
  }
}

int errno_of_der(int der) {
  switch (der < 0 ? -der : der) {
    case 0:
      return 0;
    case DER_NO_PERM:
      return EPERM;
    case DER_NONEXIST:
    case DER_ENOENT:
      return ENOENT;
    case DER_INVAL:
    case DER_NO_HDL:
      return EINVAL;
    case DER_KEY2BIG:
    case DER_REC2BIG:
      return E2BIG;
    case DER_EXIST:
      return EEXIST;
    case DER_UNREACH:
      return EHOSTUNREACH;
    case DER_NOSPACE:
      return ENOSPC;
    case DER_ALREADY:
      return EALREADY;
    case DER_NOMEM:
      return ENOMEM;
    case DER_TIMEDOUT:
      return ETIMEDOUT;
    case DER_BUSY:
    case DER_EQ_BUSY:
      return EBUSY;
    case DER_AGAIN:
      return EAGAIN;
    case DER_PROTO:
      return EPROTO;
    case DER_CANCELED:
      return ECANCELED;
    case DER_OVERFLOW:
      return EOVERFLOW;
    case DER_BADPATH:
    case DER_NOTDIR:
      return ENOTDIR;
    case DER_NOTSUPPORTED:
      return ENOTSUP;
    default:
      return EIO;
  }
}

void note(const char* call, const std::string& msg) {
  t_last_error = std::string(call) + ": " + msg;
  if (log_threshold() <= EDAOS_LOG_DEBUG)
    edaos_log_emit(EDAOS_LOG_DEBUG, "daos", "%s", t_last_error.c_str());
}

int fail_der(const char* call, const Status& st) {
  if (st.ok()) return 0;
  note(call, st.to_string());
  return der_of(st);
}

int fail_errno(const char* call, const Status& st) {
  if (st.ok()) return 0;
  note(call, st.to_string());
  return errno_of(st);
}

namespace {
thread_local const char* t_call = "";

// Sets t_call for the extent of one entry point (restored: entry points call each other).
class CallScope {
 public:
  explicit CallScope(const char* call) : saved_(t_call) { t_call = call; }
  ~CallScope() { t_call = saved_; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  const char* saved_;
};

int guard(const char* call, const std::function<int()>& body, int nomem, int other) noexcept {
  CallScope scope(call);
  try {
    return body();
  } catch (const std::bad_alloc&) {
    note(call, "out of memory");
    return nomem;
  } catch (const std::exception& e) {
    note(call, std::string("internal error: ") + e.what());
    edaos_log_emit(EDAOS_LOG_ERROR, "daos", "%s: unexpected exception: %s", call, e.what());
    return other;
  } catch (...) {
    note(call, "internal error");
    return other;
  }
}
}  // namespace

const char* current_call() { return t_call; }

int guard_der(const char* call, const std::function<int()>& body) noexcept {
  return guard(call, body, -DER_NOMEM, -DER_MISC);
}
int guard_errno(const char* call, const std::function<int()>& body) noexcept {
  return guard(call, body, ENOMEM, EIO);
}

// ---- serialization ---------------------------------------------------------------------------

Writer& Writer::u32(uint32_t v) {
  for (int i = 0; i < 4; ++i) b_.push_back(static_cast<char>(v >> (8 * i)));
  return *this;
}
Writer& Writer::u64(uint64_t v) {
  for (int i = 0; i < 8; ++i) b_.push_back(static_cast<char>(v >> (8 * i)));
  return *this;
}
Writer& Writer::bytes(const void* p, size_t n) {
  b_.append(static_cast<const char*>(p), n);
  return *this;
}
Writer& Writer::str(const std::string& s) {
  u32(static_cast<uint32_t>(s.size()));
  b_ += s;
  return *this;
}
bool Reader::u32(uint32_t* v) {
  if (n_ - off_ < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>(p_[off_++])} << (8 * i);
  return true;
}
bool Reader::u64(uint64_t* v) {
  if (n_ - off_ < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) *v |= uint64_t{static_cast<uint8_t>(p_[off_++])} << (8 * i);
  return true;
}
bool Reader::bytes(void* out, size_t n) {
  if (n_ - off_ < n) return false;
  std::memcpy(out, p_ + off_, n);
  off_ += n;
  return true;
}
bool Reader::str(std::string* s) {
  uint32_t n = 0;
  if (!u32(&n) || n_ - off_ < n) return false;
  s->assign(p_ + off_, n);
  off_ += n;
  return true;
}

int export_global(const std::string& blob, d_iov_t* glob, int too_short, int inval) {
  if (glob == nullptr) return inval;
  if (glob->iov_buf == nullptr) {
    glob->iov_buf_len = blob.size();
    glob->iov_len = 0;
    return 0;
  }
  if (glob->iov_buf_len < blob.size()) {
    glob->iov_buf_len = blob.size();
    return too_short;
  }
  std::memcpy(glob->iov_buf, blob.data(), blob.size());
  glob->iov_len = blob.size();
  return 0;
}

}  // namespace edaos::daosapi

using namespace edaos;
using namespace edaos::daosapi;

// Called (hidden, through the weak reference in the MPI_Finalize wrapper compiled into this
// library) before the store stops: drops every handle the program left open.
extern "C" __attribute__((visibility("hidden"))) void edaos_daos_release_handles(void) {
  try {
    dfs_cache_clear();
    Registry::get().clear();
  } catch (...) {
  }
}

extern "C" {

const char* edaos_daos_last_error(void) { return t_last_error.c_str(); }

int daos_init(void) {
  return guard_der(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(g_init_mu);
    if (g_refs > 0) {
      ++g_refs;
      return 0;
    }
    int flag = 0;
    MPI_Finalized(&flag);
    if (flag) {
      note(current_call(), "MPI is already finalized");
      return -DER_UNINIT;
    }
    MPI_Initialized(&flag);
    if (!flag) {
      // A program without MPI: become a one-process MPI job (MPICH singleton) that hosts every
      // engine of the pools it connects.
      int provided = 0;
      if (PMPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        note(current_call(), "MPI_Init_thread failed");
        return -DER_MISC;
      }
      if (!g_own_mpi) std::atexit(finish_at_exit);
      g_own_mpi = true;
    }
    if (!objstore::is_initialized()) {
      Status st = objstore::init(MPI_COMM_WORLD);
      if (!st.ok()) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        if (rank == 0)
          std::fprintf(stderr, "edaos: daos_init: cannot start the object store: %s\n",
                       st.to_string().c_str());
        (void)fail_der(current_call(), st);
        return st.code() == EDAOS_NOTSUP ? -DER_NOSYS : -DER_MISC;
      }
      g_own_store = true;
    }
    g_refs = 1;
    g_initialized = true;
    return 0;
  });
}

int daos_fini(void) {
  return guard_der(__func__, [&]() -> int {
    std::lock_guard<std::mutex> lk(g_init_mu);
    if (g_refs == 0) {
      note(current_call(), "daos_init was not called");
      return -DER_UNINIT;
    }
    if (g_refs > 1) {
      --g_refs;
      return 0;
    }
    if (Registry::get().eq_count() > 0) {
      note(current_call(), "event queues are still open");
      return -DER_BUSY;
    }
    g_refs = 0;
    g_initialized = false;
    dfs_cache_clear();
    Registry::get().clear();
    if (g_own_store) {
      g_own_store = false;
      return fail_der(current_call(), objstore::finalize());
    }
    return 0;
  });
}

const char* d_errstr(int errnum) {
  switch (errnum < 0 ? -errnum : errnum) {
    case 0:
      return "DER_SUCCESS";
#define EDAOS_DER_NAME_(name, value, desc) \
  case value:                              \
    return #name;
      EDAOS_DER_LIST(EDAOS_DER_NAME_)
#undef EDAOS_DER_NAME_
    default:
      return "DER_UNKNOWN";
  }
}

const char* d_errdesc(int errnum) {
  switch (errnum < 0 ? -errnum : errnum) {
    case 0:
      return "Success";
#define EDAOS_DER_DESC_(name, value, desc) \
  case value:                              \
    return desc;
      EDAOS_DER_LIST(EDAOS_DER_DESC_)
#undef EDAOS_DER_DESC_
    default: {
      static thread_local char buf[48];
      std::snprintf(buf, sizeof buf, "Unknown error %d", errnum);
      return buf;
    }
  }
}

d_rank_list_t* d_rank_list_alloc(uint32_t size) {
  auto* l = static_cast<d_rank_list_t*>(std::calloc(1, sizeof(d_rank_list_t)));
  if (l == nullptr) return nullptr;
  if (size > 0) {
    l->rl_ranks = static_cast<d_rank_t*>(std::calloc(size, sizeof(d_rank_t)));
    if (l->rl_ranks == nullptr) {
      std::free(l);
      return nullptr;
    }
  }
  l->rl_nr = size;
  return l;
}

void d_rank_list_free(d_rank_list_t* l) {
  if (l == nullptr) return;
  std::free(l->rl_ranks);
  std::free(l);
}

}  // extern "C"

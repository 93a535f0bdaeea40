// The MPI_File_* entry points (PMPI profiling interface), each also defined as PMPI_File_*.
//
// Handles: a daos file's MPI_File is the address of its edaos::adio::File, registered in a
// table; any other handle (MPI_FILE_NULL included) is the MPI library's own and every call on
// it goes to the MPI library's PMPI_File_* function of the same name (EDAOS_REAL, see
// objstore/src/pmpi/mpi_real.hpp) with the same arguments, untouched. Table lookups compare
// pointers only: a foreign handle is never dereferenced.
//
// For daos files the wrappers check arguments in ROMIO's order and with ROMIO's error classes,
// convert pointers and counts, call the operations table (fns.cpp) and fill MPI_Status (byte
// count through MPI_Status_set_elements_x). Errors go through the file's error handler
// (MPI_ERRORS_RETURN by default for files, inherited from MPI_FILE_NULL at open).
// Nonblocking calls return generalized requests (MPI_Wait/Test and the *all/any/some variants
// work on them as on any request): independent ones complete from a pool thread or the thread
// that waits, collective ones from the handle's collective worker (see nonblocking()).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "adio_internal.hpp"
#include "edaos/adio_daos/adio_daos.h"

#define EDAOS_PMPI extern "C" __attribute__((visibility("default")))

namespace edaos::adio {

Counters g_counters;

namespace {

std::mutex g_mu;
std::unordered_set<File*> g_files;
std::map<MPI_Fint, File*> g_fint;
MPI_Fint g_next_fint = 1 << 30;  // above anything ROMIO's own table hands out
std::map<MPI_Errhandler, MPI_File_errhandler_function*> g_errh_fns;
MPI_Errhandler g_null_errh = MPI_ERRORS_RETURN;  // handler of MPI_FILE_NULL (for daos opens)

File* lookup(MPI_File fh) {
  if (fh == MPI_FILE_NULL) return nullptr;
  File* f = reinterpret_cast<File*>(fh);
  std::lock_guard<std::mutex> lk(g_mu);
  return g_files.count(f) ? f : nullptr;
}

bool is_daos_name(const char* name) { return name && std::strncmp(name, "daos:", 5) == 0; }

// Runs error handler `eh` for `code` on file `fh`; returns the code for the caller to return.
int invoke(MPI_Errhandler eh, MPI_File fh, int code) {
  if (code == MPI_SUCCESS || eh == MPI_ERRORS_RETURN) return code;
  MPI_File_errhandler_function* fn = nullptr;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_errh_fns.find(eh);
    if (it != g_errh_fns.end()) fn = it->second;
  }
  if (fn) {
    MPI_File h = fh;
    int c = code;
    fn(&h, &c);
    return code;
  }
  // MPI_ERRORS_ARE_FATAL, MPI_ERRORS_ABORT or a handler we did not see created.
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(code, msg, &len);
  std::fprintf(stderr, "edaos: fatal MPI-IO error: %s\n", msg);
  std::fflush(stderr);
  PMPI_Abort(MPI_COMM_WORLD, code);
  return code;
}

int raise(File* f, int code) {
  return invoke(f ? f->errh : g_null_errh, reinterpret_cast<MPI_File>(f), code);
}

int err(File* f, int cls, const std::string& msg) { return raise(f, make_error(cls, msg)); }

void set_status(MPI_Status* st, int64_t bytes) {
  if (st == MPI_STATUS_IGNORE) return;
  PMPI_Status_set_elements_x(st, MPI_BYTE, static_cast<MPI_Count>(bytes));
  PMPI_Status_set_cancelled(st, 0);
}

// ---- generalized requests ----
//
// Nonblocking accesses return generalized requests of one MPIX_Grequest_class whose wait and
// poll functions MPICH calls *without* its global lock. The access runs on a pool thread
// (independent) or the handle's collective worker, and its MPI traffic (store RPCs, two-phase
// messages) needs that lock: a caller spinning in MPI_Wait's progress loop held it almost all
// the time, and a noncontiguous iwrite took 8-11x its blocking time (issue 13 item 7, see
// adio_daos/README.md). So MPI_Wait sleeps in wait_fn until the access completes, MPI_Test's
// poll_fn waits at most kPollWait, and an independent access no pool thread has started yet
// (all busy) is run by the thread that waits or tests (its `job`), as a blocking call would.

struct Done {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;             // the request is complete (MPI_Grequest_complete has returned)
  std::atomic<bool> claimed{false};  // the job has been taken by a thread
  std::function<void()> job;         // independent accesses: the access and its completion
  MPI_Request req = MPI_REQUEST_NULL;
  int64_t bytes = 0;
  int rc = MPI_SUCCESS;
  // Runs the job unless another thread took it.
  void run_if_unclaimed() {
    if (job && !claimed.exchange(true)) job();
  }
  // Completes the request with rc/bytes already set (called once, by whoever ran the access).
  void complete() {
    MPI_Request h = req;
    PMPI_Grequest_complete(h);
    std::lock_guard<std::mutex> lk(mu);
    finished = true;
    cv.notify_all();
  }
};
using DonePtr = std::shared_ptr<Done>;

constexpr auto kPollWait = std::chrono::microseconds(200);

Done& done_of(void* extra) { return **static_cast<DonePtr*>(extra); }

int greq_query(void* extra, MPI_Status* st) {
  Done& d = done_of(extra);
  PMPI_Status_set_elements_x(st, MPI_BYTE, static_cast<MPI_Count>(d.bytes));
  PMPI_Status_set_cancelled(st, 0);
  st->MPI_SOURCE = MPI_UNDEFINED;
  st->MPI_TAG = MPI_UNDEFINED;
  return d.rc;
}
int greq_free(void* extra) {
  delete static_cast<DonePtr*>(extra);
  return MPI_SUCCESS;
}
int greq_cancel(void*, int) { return MPI_SUCCESS; }
int greq_poll(void* extra, MPI_Status*) {
  Done& d = done_of(extra);
  d.run_if_unclaimed();
  std::unique_lock<std::mutex> lk(d.mu);
  d.cv.wait_for(lk, kPollWait, [&] { return d.finished; });
  return MPI_SUCCESS;
}
int greq_wait(int count, void** extras, double, MPI_Status*) {
  for (int i = 0; i < count; ++i) {
    Done& d = done_of(extras[i]);
    d.run_if_unclaimed();
    std::unique_lock<std::mutex> lk(d.mu);
    d.cv.wait(lk, [&] { return d.finished; });
  }
  return MPI_SUCCESS;
}

// A new request whose state is `d` (d->req set). MPI_SUCCESS or an MPI error code.
int start_request(const DonePtr& d, MPI_Request* req) {
  static MPIX_Grequest_class cls = [] {
    MPIX_Grequest_class c{};
    PMPIX_Grequest_class_create(greq_query, greq_free, greq_cancel, greq_poll, greq_wait, &c);
    return c;
  }();
  auto* holder = new DonePtr(d);
  int r = PMPIX_Grequest_class_allocate(cls, holder, req);
  if (r != MPI_SUCCESS) {
    delete holder;
    *req = MPI_REQUEST_NULL;
    return r;
  }
  d->req = *req;
  return MPI_SUCCESS;
}

// ---- checks ----

bool is_named(MPI_Datatype t) {
  int ni, na, nd, comb;
  PMPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
  return comb == MPI_COMBINER_NAMED;
}

enum class Ptr { kExplicit, kIndividual, kShared };

// Bytes of view data that count x t occupy in the file: the native size, or with an external32
// view the size of its external32 packing. MPI_SUCCESS or an error code.
int data_bytes(const File* f, int64_t count, MPI_Datatype t, int64_t* n) {
  if (!f->view.external32) {
    MPI_Count size = 0;
    PMPI_Type_size_x(t, &size);
    *n = static_cast<int64_t>(size) * count;
    return MPI_SUCCESS;
  }
  MPI_Count ext = 0;
  if (count > 0 && single_basic_type(t) == MPI_DATATYPE_NULL)
    return make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                      f->filename +
                          ": external32 accesses with a datatype that mixes basic types (a struct "
                          "of int and double, MPI_DOUBLE_INT, ...) are not supported: MPICH's "
                          "MPI_Pack_external handles one basic type per datatype");
  if (PMPI_Pack_external_size_c("external32", static_cast<MPI_Count>(count), t, &ext) !=
      MPI_SUCCESS)
    return make_error(MPI_ERR_TYPE,
                      f->filename + ": the datatype has no external32 representation");
  *n = static_cast<int64_t>(ext);
  return MPI_SUCCESS;
}

// Checks an access of count x t; `*n` gets its bytes of view data (data_bytes).
int check_io(File* f, Ptr ptr, MPI_Offset off, int64_t count, MPI_Datatype t, bool write,
             const char* fn, int64_t* n) {
  *n = 0;
  std::string where = std::string(fn) + " on " + f->filename;
  if (count < 0) return make_error(MPI_ERR_COUNT, where + ": negative count");
  if (t == MPI_DATATYPE_NULL)
    return make_error(MPI_ERR_TYPE, where + ": datatype is MPI_DATATYPE_NULL");
  if (ptr == Ptr::kExplicit && off < 0) return make_error(MPI_ERR_ARG, where + ": negative offset");
  if (ptr != Ptr::kShared && (f->amode & MPI_MODE_SEQUENTIAL))
    return make_error(MPI_ERR_UNSUPPORTED_OPERATION,
                      where + ": file opened with MPI_MODE_SEQUENTIAL allows shared pointers only");
  if (write && (f->amode & MPI_MODE_RDONLY))
    return make_error(MPI_ERR_READ_ONLY, where + ": file opened MPI_MODE_RDONLY");
  if (!write && (f->amode & MPI_MODE_WRONLY))
    return make_error(MPI_ERR_ACCESS, where + ": file opened MPI_MODE_WRONLY");
  if (int rc = data_bytes(f, count, t, n); rc != MPI_SUCCESS) return rc;
  if (f->view.etype_size > 0 && *n % f->view.etype_size != 0)
    return make_error(MPI_ERR_IO, where + ": only an integral number of etypes can be accessed");
  return MPI_SUCCESS;
}

// ---- external32 (MPI-3.1 13.5.2) ----
//
// With an external32 view the data of an access is the external32 packing of count x t
// (MPI_Pack_external): the driver moves those bytes as MPI_BYTE through the view, which is
// flattened in the external32 representation (flatten_external32), and converts at the ends:
// writes pack before the access, reads unpack after it. Status counts stay native bytes.
struct Ext32 {
  void* user = nullptr;  // the caller's buffer
  int64_t count = 0;
  MPI_Datatype type = MPI_DATATYPE_NULL;  // the caller's type (a dup when owns_type)
  bool owns_type = false;
  int64_t native = 0;     // native bytes of count x type
  std::vector<char> buf;  // the external32 bytes
  ~Ext32() {
    if (owns_type) PMPI_Type_free(&type);
  }
  // Native bytes for `bytes` bytes of external32 data moved (short accesses: proportional).
  int64_t native_of(int64_t bytes) const {
    if (bytes >= static_cast<int64_t>(buf.size())) return native;
    if (static_cast<int64_t>(buf.size()) == native) return bytes;
    return buf.empty() ? 0 : bytes * native / static_cast<int64_t>(buf.size());
  }
  // After a read of the first `bytes` bytes into buf: converts them into the caller's buffer
  // and returns the native byte count. Bytes not read keep the caller's values (a short read
  // unpacks the caller's own data, repacked, behind them).
  int finish_read(int64_t bytes, int64_t* native_bytes) {
    *native_bytes = 0;
    if (bytes < static_cast<int64_t>(buf.size())) {
      std::vector<char> cur(buf.size());
      MPI_Aint pos = 0;
      if (PMPI_Pack_external_c("external32", user, count, type, cur.data(),
                               static_cast<MPI_Aint>(cur.size()), &pos) != MPI_SUCCESS)
        return make_error(MPI_ERR_CONVERSION, "external32: cannot convert the read data");
      std::copy(buf.begin(), buf.begin() + bytes, cur.begin());
      buf.swap(cur);
    }
    MPI_Aint pos = 0;
    if (PMPI_Unpack_external_c("external32", buf.data(), static_cast<MPI_Aint>(buf.size()), &pos,
                               user, count, type) != MPI_SUCCESS)
      return make_error(MPI_ERR_CONVERSION, "external32: cannot convert the read data");
    *native_bytes = native_of(bytes);
    return MPI_SUCCESS;
  }
};
using Ext32Ptr = std::shared_ptr<Ext32>;

// With an external32 view: the conversion of an access of n data bytes (writes: packed now);
// `keep_type`: the caller's derived type is duplicated (a read unpacks after the call returns).
// nullptr for native views.
int ext32_start(File* f, const void* buf, int64_t count, MPI_Datatype t, int64_t n, bool write,
                bool keep_type, Ext32Ptr* out) {
  out->reset();
  if (!f->view.external32) return MPI_SUCCESS;
  auto x = std::make_shared<Ext32>();
  x->user = const_cast<void*>(buf);
  x->count = count;
  x->type = t;
  MPI_Count size = 0;
  PMPI_Type_size_x(t, &size);
  x->native = static_cast<int64_t>(size) * count;
  x->buf.resize(static_cast<size_t>(n));
  if (write) {
    MPI_Aint pos = 0;
    if (PMPI_Pack_external_c("external32", buf, count, t, x->buf.data(), static_cast<MPI_Aint>(n),
                             &pos) != MPI_SUCCESS)
      return make_error(MPI_ERR_CONVERSION, f->filename + ": cannot convert to external32");
  } else if (keep_type && !is_named(t)) {
    if (PMPI_Type_dup(t, &x->type) != MPI_SUCCESS) return make_error(MPI_ERR_TYPE, f->filename);
    x->owns_type = true;
  }
  *out = std::move(x);
  return MPI_SUCCESS;
}

// Native bytes after an access that moved `bytes` data bytes (reads: converted into the
// caller's buffer first).
int ext32_finish(Ext32* x, bool write, int rc, int64_t* bytes) {
  if (!x) return rc;
  if (write || rc != MPI_SUCCESS) {
    *bytes = x->native_of(*bytes);
    return rc;
  }
  return x->finish_read(*bytes, bytes);
}

// Offset in etype units at the end of the file, through the view (ROMIO ADIOI_Get_eof_offset).
int64_t eof_offset(File* f, int64_t fsize) {
  const Flat& ft = *f->view.ft;
  int64_t esz = f->view.etype_size;
  if (fsize <= f->view.disp || ft.size == 0) return 0;
  int64_t rel = fsize - f->view.disp;
  int64_t tile = rel / ft.extent, within = rel % ft.extent;
  int64_t data = tile * ft.size;
  for (size_t i = 0; i < ft.off.size(); ++i) {
    if (ft.off[i] >= within) break;
    data += std::min(ft.len[i], within - ft.off[i]);
  }
  return (data + esz - 1) / esz;
}

enum class Kind { kIndep, kColl, kOrdered };

// ---- collective accesses ----
//
// A collective access is prepared on the calling thread (argument check, offset from the
// explicit offset or the individual pointer) and run by coll_run, which agrees on errors over
// f->comm, computes the ordered-mode offset, and calls the collective driver functions.
// Blocking calls run it in place. Nonblocking and split collectives queue it on the handle's
// CollWorker: one thread per handle that runs the queue in initiation order (MPI requires every
// rank to initiate a handle's collectives in the same order, so the workers of all ranks meet
// in the same operation), completes each request, and touches f->comm only while the calling
// threads don't: every other collective entry point of the handle first waits until the worker
// is idle (drain). The worker does not hold f->mu, so independent calls and messages between
// the ranks go on while a collective is pending (no deadlock when a rank waits for a message
// from a rank that has not initiated the collective yet).

struct CollTask {
  Kind kind = Kind::kColl;
  bool write = false;
  int local_rc = MPI_SUCCESS;  // this rank's argument check
  int64_t data_off = 0;        // byte offset in the view's data (not for ordered)
  const void* buf = nullptr;
  int64_t count = 0;
  MPI_Datatype type = MPI_DATATYPE_NULL;
  bool owns_type = false;  // a dup made at initiation (the caller may free its type)
  Ext32Ptr ext32;          // external32 view: buf/count/type are its bytes as MPI_BYTE
  std::function<void(int rc, int64_t bytes)> done;
};

}  // namespace

struct CollWorker {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<CollTask> q;
  bool busy = false, stop = false;
  std::thread th;
};

namespace {

// The collective part: error agreement, ordered offset, two-phase or independent driver call.
// Returns the agreed code; `agreed_ok` tells whether the arguments were accepted on every rank.
int coll_run(File* f, const CollTask& t, int64_t* bytes, bool* agreed_ok) {
  *bytes = 0;
  *agreed_ok = false;
  int rc = agree_error(f->comm, t.local_rc);
  if (rc != MPI_SUCCESS) return rc;
  *agreed_ok = true;
  int64_t data_off = t.data_off;
  if (t.kind == Kind::kOrdered) {
    // Ranks in rank order from the shared pointer: exscan of the sizes, one fetch-add.
    int64_t n = 0;
    data_bytes(f, t.count, t.type, &n);  // checked at initiation
    int64_t esz = f->view.etype_size;
    int64_t etypes = n / esz;
    int64_t before = 0, total = 0, base = 0;
    PMPI_Exscan(&etypes, &before, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (f->rank == 0) before = 0;
    PMPI_Allreduce(&etypes, &total, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (f->rank == 0) rc = f->fns->shared_fetch_add(f, total, &base);
    PMPI_Bcast(&base, 1, MPI_INT64_T, 0, f->comm);
    rc = agree_error(f->comm, rc);
    if (rc != MPI_SUCCESS) return rc;
    data_off = (base + before) * esz;
  }
  g_counters.coll_calls++;
  return t.write ? f->fns->write_coll(f, data_off, t.buf, t.count, t.type, bytes)
                 : f->fns->read_coll(f, data_off, const_cast<void*>(t.buf), t.count, t.type, bytes);
}

void worker_loop(File* f, CollWorker* w) {
  std::unique_lock<std::mutex> lk(w->mu);
  for (;;) {
    w->cv.wait(lk, [w] { return w->stop || !w->q.empty(); });
    if (w->q.empty()) return;  // stop
    CollTask t = std::move(w->q.front());
    w->q.pop_front();
    w->busy = true;
    lk.unlock();
    int64_t bytes = 0;
    bool agreed = false;
    int rc;
    try {
      rc = coll_run(f, t, &bytes, &agreed);
    } catch (const std::bad_alloc&) {
      rc = make_error(MPI_ERR_NO_MEM, f->filename + ": out of memory in a nonblocking collective");
    } catch (const std::exception& e) {
      rc = make_error(MPI_ERR_INTERN, f->filename + ": " + e.what());
    }
    if (t.owns_type) PMPI_Type_free(&t.type);
    rc = ext32_finish(t.ext32.get(), t.write, rc, &bytes);
    t.done(rc, rc == MPI_SUCCESS ? bytes : 0);
    lk.lock();
    w->busy = false;
    w->cv.notify_all();
  }
}

// Waits until the handle's queued collectives have run (before any other collective call).
void drain(File* f) {
  CollWorker* w = f->coll_worker;
  if (!w) return;
  std::unique_lock<std::mutex> lk(w->mu);
  w->cv.wait(lk, [w] { return w->q.empty() && !w->busy; });
}

// Drains and joins the worker (close).
void stop_worker(File* f) {
  CollWorker* w = f->coll_worker;
  if (!w) return;
  {
    std::lock_guard<std::mutex> lk(w->mu);
    w->stop = true;
    w->cv.notify_all();
  }
  w->th.join();
  delete w;
  f->coll_worker = nullptr;
}

void enqueue(File* f, CollTask t) {
  if (!f->coll_worker) {
    auto* w = new CollWorker;
    w->th = std::thread(worker_loop, f, w);
    f->coll_worker = w;
  }
  std::lock_guard<std::mutex> lk(f->coll_worker->mu);
  f->coll_worker->q.push_back(std::move(t));
  f->coll_worker->cv.notify_all();
}

// Checks the arguments and computes the data offset of a collective access (f->mu held).
// Returns the number of etypes it moves the individual pointer by (0 for other pointers).
int64_t coll_prepare(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count,
                     MPI_Datatype t, bool write, Kind kind, const char* fn, CollTask* task) {
  task->kind = kind;
  task->write = write;
  task->buf = buf;
  task->count = count;
  task->type = t;
  int64_t n = 0;
  task->local_rc = check_io(f, ptr, off, count, t, write, fn, &n);
  if (task->local_rc == MPI_SUCCESS)
    task->local_rc = ext32_start(f, buf, count, t, n, write, true, &task->ext32);
  if (task->ext32) {  // the access moves the external32 bytes
    task->buf = task->ext32->buf.data();
    task->count = n;
    task->type = MPI_BYTE;
  }
  if (task->local_rc != MPI_SUCCESS || kind == Kind::kOrdered) return 0;
  int64_t esz = f->view.etype_size;
  int64_t etypes = n / esz;
  if (ptr == Ptr::kExplicit) {
    task->data_off = off * esz;
    return 0;
  }
  task->data_off = f->fp * esz;
  return etypes;
}

// The common body of every blocking data access call on a daos file.
int do_io_impl(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
               MPI_Status* st, bool write, Kind kind, const char* fn) {
  if (kind != Kind::kIndep) {
    drain(f);
    std::lock_guard<std::mutex> lk(f->mu);
    CollTask task;
    int64_t advance = coll_prepare(f, ptr, off, buf, count, t, write, kind, fn, &task);
    int64_t bytes = 0;
    bool agreed = false;
    int rc = coll_run(f, task, &bytes, &agreed);
    if (agreed) f->fp += advance;
    rc = ext32_finish(task.ext32.get(), write, rc, &bytes);
    set_status(st, rc == MPI_SUCCESS ? bytes : 0);
    return rc == MPI_SUCCESS ? rc : raise(f, rc);
  }
  std::lock_guard<std::mutex> lk(f->mu);
  int64_t n = 0;
  int rc = check_io(f, ptr, off, count, t, write, fn, &n);
  Ext32Ptr x;
  if (rc == MPI_SUCCESS) rc = ext32_start(f, buf, count, t, n, write, false, &x);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  int64_t esz = f->view.etype_size;
  int64_t etypes = n / esz;
  int64_t data_off = 0;
  int64_t bytes = 0;
  if (ptr == Ptr::kExplicit) {
    data_off = off * esz;
  } else if (ptr == Ptr::kIndividual) {
    data_off = f->fp * esz;
  } else {
    int64_t old = 0;
    rc = f->fns->shared_fetch_add(f, etypes, &old);
    if (rc != MPI_SUCCESS) return raise(f, rc);
    data_off = old * esz;
  }
  g_counters.indep_calls++;
  if (x) {  // the access moves the external32 bytes
    buf = x->buf.data();
    count = n;
    t = MPI_BYTE;
  }
  rc = write ? f->fns->write_strided(f, data_off, buf, count, t, &bytes)
             : f->fns->read_strided(f, data_off, const_cast<void*>(buf), count, t, &bytes);
  rc = ext32_finish(x.get(), write, rc, &bytes);
  if (ptr == Ptr::kIndividual) f->fp += etypes;
  set_status(st, bytes);
  return rc == MPI_SUCCESS ? rc : raise(f, rc);
}

// Queues a nonblocking or split collective: prepared (pointer moved) now, run by the worker.
// The caller's datatype is duplicated unless named, since it may be freed before completion.
int coll_start(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
               bool write, Kind kind, const char* fn,
               std::function<void(int rc, int64_t bytes)> done) {
  CollTask task;
  {
    std::lock_guard<std::mutex> lk(f->mu);
    int64_t advance = coll_prepare(f, ptr, off, buf, count, t, write, kind, fn, &task);
    if (task.local_rc == MPI_SUCCESS) f->fp += advance;
  }
  if (task.local_rc == MPI_SUCCESS && !task.ext32 && !is_named(t)) {
    int r = PMPI_Type_dup(t, &task.type);
    if (r != MPI_SUCCESS) task.local_rc = r;
    task.owns_type = r == MPI_SUCCESS;
    if (r != MPI_SUCCESS) task.type = t;
  }
  task.done = std::move(done);
  enqueue(f, std::move(task));
  return MPI_SUCCESS;
}

// Threads that run the store I/O of independent nonblocking accesses: at most
// EDAOS_MPIO_IO_THREADS (default 4, 1..64), started on demand, detached and parked on a
// condition variable when idle (never destroyed: a pending request must not outlive its
// thread). A program may initiate thousands of requests before it waits; they queue here
// instead of each taking a thread. If no thread can be started at all, the access runs on the
// calling thread (the request is complete on return, which MPI allows).
class IoPool {
 public:
  static IoPool& get() {
    static IoPool* p = new IoPool();  // leaked on purpose: parked threads use it until exit
    return *p;
  }
  void run(std::function<void()> job) {
    std::unique_lock<std::mutex> lk(mu_);
    q_.push_back(std::move(job));
    if (idle_ == 0 && nthreads_ < max_) {
      try {
        std::thread([this] { loop(); }).detach();
        ++nthreads_;
      } catch (const std::system_error&) {
        if (nthreads_ == 0) {  // nobody will take it: run it here
          auto j = std::move(q_.back());
          q_.pop_back();
          lk.unlock();
          j();
          return;
        }
      }
    }
    cv_.notify_one();
  }

 private:
  IoPool() {
    const char* e = std::getenv("EDAOS_MPIO_IO_THREADS");
    int n = e ? std::atoi(e) : 4;
    max_ = n < 1 ? 1 : n > 64 ? 64 : n;
  }
  void loop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lk, [this] { return !q_.empty(); });
      --idle_;
      auto j = std::move(q_.front());
      q_.pop_front();
      lk.unlock();
      j();
      lk.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  int max_ = 4, nthreads_ = 0, idle_ = 0;
};

// Nonblocking access. Independent: arguments checked, pointers advanced and the access
// flattened on the calling thread; the store I/O runs on the I/O pool above, which completes
// the generalized request (MPI_Grequest_complete; MPI_THREAD_MULTIPLE is always provided), so
// the I/O overlaps the caller's work. Collective: queued on the handle's worker (above), which
// completes the request. Errors found after initiation come back from MPI_Wait/Test.
int nonblocking_impl(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count,
                     MPI_Datatype t, bool write, Kind kind, const char* fn, MPI_Request* req) {
  if (kind != Kind::kIndep) {
    auto d = std::make_shared<Done>();
    if (int r = start_request(d, req); r != MPI_SUCCESS) return raise(f, r);
    return coll_start(f, ptr, off, buf, count, t, write, kind, fn, [d](int rc, int64_t bytes) {
      d->rc = rc;
      d->bytes = bytes;
      d->complete();
    });
  }
  std::vector<Piece> pieces;
  Ext32Ptr x;
  {
    std::lock_guard<std::mutex> lk(f->mu);
    int64_t n = 0;
    int rc = check_io(f, ptr, off, count, t, write, fn, &n);
    if (rc == MPI_SUCCESS) rc = ext32_start(f, buf, count, t, n, write, true, &x);
    if (rc != MPI_SUCCESS) {
      *req = MPI_REQUEST_NULL;
      return raise(f, rc);
    }
    int64_t esz = f->view.etype_size;
    int64_t etypes = n / esz;
    int64_t data_off = 0;
    if (ptr == Ptr::kExplicit) {
      data_off = off * esz;
    } else if (ptr == Ptr::kIndividual) {
      data_off = f->fp * esz;
      f->fp += etypes;
    } else {
      int64_t old = 0;
      rc = f->fns->shared_fetch_add(f, etypes, &old);
      if (rc != MPI_SUCCESS) {
        *req = MPI_REQUEST_NULL;
        return raise(f, rc);
      }
      data_off = old * esz;
    }
    if (x) {  // the access moves the external32 bytes
      buf = x->buf.data();
      count = n;
      t = MPI_BYTE;
    }
    if (n > 0) pieces = zip(view_segments(*f, data_off, n), memory_segments(buf, count, t));
  }
  g_counters.indep_calls++;
  auto d = std::make_shared<Done>();
  if (int r = start_request(d, req); r != MPI_SUCCESS) return raise(f, r);
  {
    std::lock_guard<std::mutex> lk(f->inflight_mu);
    ++f->inflight;
  }
  auto shared = std::make_shared<std::vector<Piece>>(std::move(pieces));
  // The access; run once, by a pool thread or by a thread waiting for the request.
  Done* dp = d.get();  // the job is owned by *d
  d->job = [f, dp, write, shared, x]() {
    const std::vector<Piece>& p = *shared;
    int64_t bytes = 0;
    int rc = MPI_SUCCESS;
    bool locked = false;
    if (f->atomic) {
      Status ls = file_lock(f);
      if (ls.ok())
        locked = true;
      else
        rc = to_mpi_error(ls, f->filename);
    }
    // It may run inside MPICH's wait/poll callbacks: no exception may leave it.
    try {
      if (rc == MPI_SUCCESS) rc = write ? pieces_write(f, p, &bytes) : pieces_read(f, p, &bytes);
      rc = ext32_finish(x.get(), write, rc, &bytes);
    } catch (const std::bad_alloc&) {
      rc = make_error(MPI_ERR_NO_MEM, f->filename + ": out of memory in a nonblocking access");
    } catch (const std::exception& e) {
      rc = make_error(MPI_ERR_INTERN, f->filename + ": " + e.what());
    }
    if (locked) file_unlock(f);
    dp->bytes = rc == MPI_SUCCESS ? bytes : 0;
    dp->rc = rc;
    {
      // Last touch of f: close waits for inflight == 0.
      std::lock_guard<std::mutex> lk(f->inflight_mu);
      --f->inflight;
      f->inflight_cv.notify_all();
    }
    dp->complete();
  };
  IoPool::get().run([d]() { d->run_if_unclaimed(); });
  return MPI_SUCCESS;
}

// No exception leaves an entry point (STYLE.md section 4): out of memory becomes
// MPI_ERR_NO_MEM, anything else MPI_ERR_INTERN, through the file's error handler.
template <typename Fn>
int guarded(File* f, const char* fn, Fn&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return err(f, MPI_ERR_NO_MEM, std::string(fn) + ": out of memory");
  } catch (const std::exception& e) {
    return err(f, MPI_ERR_INTERN, std::string(fn) + ": " + e.what());
  }
}

int do_io(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
          MPI_Status* st, bool write, Kind kind, const char* fn) {
  return guarded(f, fn,
                 [&] { return do_io_impl(f, ptr, off, buf, count, t, st, write, kind, fn); });
}

int nonblocking(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                bool write, Kind kind, const char* fn, MPI_Request* req) {
  return guarded(
      f, fn, [&] { return nonblocking_impl(f, ptr, off, buf, count, t, write, kind, fn, req); });
}

// Split collectives: begin queues the access on the handle's worker (as a nonblocking
// collective), end waits for it and reports through the file's error handler.
struct SplitDone {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = MPI_SUCCESS;
  int64_t bytes = 0;
};

int split_begin(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                bool write, Kind kind, const char* fn) {
  if (f->split_kind != 0)
    return err(
        f, MPI_ERR_IO,
        std::string(fn) + " on " + f->filename + ": a split collective is already in progress");
  auto sd = std::make_shared<SplitDone>();
  f->split_kind = write ? 2 : 1;
  f->split_done = sd;
  return coll_start(f, ptr, off, buf, count, t, write, kind, fn, [sd](int rc, int64_t bytes) {
    std::lock_guard<std::mutex> lk(sd->mu);
    sd->rc = rc;
    sd->bytes = bytes;
    sd->done = true;
    sd->cv.notify_all();
  });
}

int split_end(File* f, MPI_Status* st, bool write, const char* fn) {
  if (f->split_kind != (write ? 2 : 1))
    return err(f, MPI_ERR_IO,
               std::string(fn) + " on " + f->filename + ": no matching split collective begin");
  auto sd = std::static_pointer_cast<SplitDone>(f->split_done);
  f->split_kind = 0;
  f->split_done.reset();
  std::unique_lock<std::mutex> lk(sd->mu);
  sd->cv.wait(lk, [&] { return sd->done; });
  set_status(st, sd->bytes);
  return sd->rc == MPI_SUCCESS ? MPI_SUCCESS : raise(f, sd->rc);
}

}  // namespace
}  // namespace edaos::adio

using namespace edaos;
using namespace edaos::adio;

// ============================================================================================
// Files: open, close, delete, size, group, amode, info
// ============================================================================================

EDAOS_PMPI int MPI_File_open(MPI_Comm comm, const char* filename, int amode, MPI_Info info,
                             MPI_File* fh) {
  if (!is_daos_name(filename)) return EDAOS_REAL(PMPI_File_open)(comm, filename, amode, info, fh);
  try {
    int inter = 0;
    if (comm == MPI_COMM_NULL)
      return invoke(g_null_errh, MPI_FILE_NULL,
                    make_error(MPI_ERR_COMM, "MPI_File_open: MPI_COMM_NULL"));
    PMPI_Comm_test_inter(comm, &inter);
    if (inter)
      return invoke(g_null_errh, MPI_FILE_NULL,
                    make_error(MPI_ERR_COMM, "MPI_File_open: intercommunicators are not allowed"));
    std::string where = std::string("MPI_File_open ") + filename;
    int acc = ((amode & MPI_MODE_RDONLY) ? 1 : 0) + ((amode & MPI_MODE_RDWR) ? 1 : 0) +
              ((amode & MPI_MODE_WRONLY) ? 1 : 0);
    int rc = MPI_SUCCESS;
    if (acc != 1)
      rc = make_error(MPI_ERR_AMODE, where +
                                         ": exactly one of MPI_MODE_RDONLY, MPI_MODE_RDWR, "
                                         "MPI_MODE_WRONLY must be given");
    else if ((amode & MPI_MODE_RDONLY) && (amode & (MPI_MODE_CREATE | MPI_MODE_EXCL)))
      rc = make_error(MPI_ERR_AMODE,
                      where + ": MPI_MODE_CREATE or MPI_MODE_EXCL with MPI_MODE_RDONLY");
    else if ((amode & MPI_MODE_RDWR) && (amode & MPI_MODE_SEQUENTIAL))
      rc = make_error(MPI_ERR_AMODE, where + ": MPI_MODE_SEQUENTIAL with MPI_MODE_RDWR");
    if (rc != MPI_SUCCESS) {
      *fh = MPI_FILE_NULL;
      return invoke(g_null_errh, MPI_FILE_NULL, rc);
    }
    File* f = nullptr;
    rc = kEdaosFns.open(comm, filename, amode, info, &f);
    if (rc != MPI_SUCCESS) {
      *fh = MPI_FILE_NULL;
      return invoke(g_null_errh, MPI_FILE_NULL, rc);
    }
    {
      std::lock_guard<std::mutex> lk(g_mu);
      f->errh = g_null_errh;
      g_files.insert(f);
    }
    *fh = reinterpret_cast<MPI_File>(f);
    return MPI_SUCCESS;
  } catch (const std::bad_alloc&) {
    return invoke(g_null_errh, MPI_FILE_NULL,
                  make_error(MPI_ERR_NO_MEM, "MPI_File_open: out of memory"));
  } catch (const std::exception& e) {
    return invoke(g_null_errh, MPI_FILE_NULL,
                  make_error(MPI_ERR_INTERN, std::string("MPI_File_open: ") + e.what()));
  }
}

EDAOS_PMPI int MPI_File_close(MPI_File* fh) {
  File* f = fh ? lookup(*fh) : nullptr;
  if (!f) return EDAOS_REAL(PMPI_File_close)(fh);
  int rc;
  stop_worker(f);  // runs the queued collectives first (close is collective)
  {
    // Nonblocking accesses still running (erroneous without a wait, but never a crash).
    std::unique_lock<std::mutex> lk(f->inflight_mu);
    f->inflight_cv.wait(lk, [f] { return f->inflight == 0; });
  }
  {
    std::lock_guard<std::mutex> lk(f->mu);
    rc = f->fns->close(f);
  }
  {
    std::lock_guard<std::mutex> lk(g_mu);
    g_files.erase(f);
    if (f->fint) g_fint.erase(f->fint);
  }
  MPI_Errhandler eh = f->errh;
  f->magic = 0;
  delete f;
  *fh = MPI_FILE_NULL;
  return invoke(eh, MPI_FILE_NULL, rc);
}

EDAOS_PMPI int MPI_File_delete(const char* filename, MPI_Info info) {
  if (!is_daos_name(filename)) return EDAOS_REAL(PMPI_File_delete)(filename, info);
  return invoke(g_null_errh, MPI_FILE_NULL, kEdaosFns.delete_file(filename, info));
}

EDAOS_PMPI int MPI_File_set_size(MPI_File fh, MPI_Offset size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_size)(fh, size);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = size < 0 ? make_error(MPI_ERR_ARG, "MPI_File_set_size: negative size") : MPI_SUCCESS;
  rc = agree_error(f->comm, rc);
  if (rc == MPI_SUCCESS) rc = f->fns->resize(f, size);
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_preallocate(MPI_File fh, MPI_Offset size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_preallocate)(fh, size);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = size < 0 ? make_error(MPI_ERR_ARG, "MPI_File_preallocate: negative size") : MPI_SUCCESS;
  if (rc == MPI_SUCCESS && (f->amode & MPI_MODE_RDONLY))
    rc = make_error(MPI_ERR_READ_ONLY, "MPI_File_preallocate: file opened MPI_MODE_RDONLY");
  rc = agree_error(f->comm, rc);
  if (rc == MPI_SUCCESS) rc = f->fns->preallocate(f, size);
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_get_size(MPI_File fh, MPI_Offset* size) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_size)(fh, size);
  std::lock_guard<std::mutex> lk(f->mu);
  int64_t s = 0;
  int rc = f->fns->get_size(f, &s);
  if (rc == MPI_SUCCESS) *size = s;
  return raise(f, rc);
}

EDAOS_PMPI int MPI_File_get_group(MPI_File fh, MPI_Group* group) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_group)(fh, group);
  return raise(f, PMPI_Comm_group(f->comm, group));
}

EDAOS_PMPI int MPI_File_get_amode(MPI_File fh, int* amode) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_amode)(fh, amode);
  *amode = f->amode;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_set_info(MPI_File fh, MPI_Info info) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_info)(fh, info);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->set_info(f, info));
}

EDAOS_PMPI int MPI_File_get_info(MPI_File fh, MPI_Info* info_used) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_info)(fh, info_used);
  std::lock_guard<std::mutex> lk(f->mu);
  *info_used = hints::to_mpi_info(f->hints);
  return MPI_SUCCESS;
}

// ============================================================================================
// Views
// ============================================================================================

// Data representations ROMIO accepts (either case); "internal" is the native layout.
bool datarep_known(const char* d, bool* external32) {
  if (!d) return false;
  *external32 = std::strcmp(d, "external32") == 0 || std::strcmp(d, "EXTERNAL32") == 0;
  return *external32 || std::strcmp(d, "native") == 0 || std::strcmp(d, "NATIVE") == 0 ||
         std::strcmp(d, "internal") == 0 || std::strcmp(d, "INTERNAL") == 0;
}

// Checks in ROMIO's order and with its classes (MPI_File_set_view, ADIO_Set_view); a refused
// view leaves the current one in place.
EDAOS_PMPI int MPI_File_set_view(MPI_File fh, MPI_Offset disp, MPI_Datatype etype,
                                 MPI_Datatype filetype, const char* datarep, MPI_Info info) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_view)(fh, disp, etype, filetype, datarep, info);
  drain(f);
  std::lock_guard<std::mutex> lk(f->mu);
  std::string where = "MPI_File_set_view on " + f->filename;
  int rc = MPI_SUCCESS;
  bool seq = f->amode & MPI_MODE_SEQUENTIAL, e32 = false;
  int64_t esz = 0, fsz = 0;
  FlatPtr eflat, fflat;
  if (disp < 0 && disp != MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG, where + ": negative displacement");
  else if (etype == MPI_DATATYPE_NULL)
    rc = make_error(MPI_ERR_ARG, where + ": etype is MPI_DATATYPE_NULL");
  else if (filetype == MPI_DATATYPE_NULL)
    rc = make_error(MPI_ERR_ARG, where + ": filetype is MPI_DATATYPE_NULL");
  else if (seq && disp != MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG,
                    where + ": a MPI_MODE_SEQUENTIAL file takes MPI_DISPLACEMENT_CURRENT only");
  else if (!seq && disp == MPI_DISPLACEMENT_CURRENT)
    rc = make_error(MPI_ERR_ARG, where + ": MPI_DISPLACEMENT_CURRENT without MPI_MODE_SEQUENTIAL");
  else if (!datarep_known(datarep, &e32))
    rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                    where + ": data representation \"" + (datarep ? datarep : "(null)") +
                        "\" is not supported (native, internal, external32)");
  if (rc == MPI_SUCCESS && e32 &&
      (single_basic_type(etype) == MPI_DATATYPE_NULL ||
       single_basic_type(filetype) == MPI_DATATYPE_NULL))
    rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                    where +
                        ": external32 views whose etype or filetype mixes basic types are not "
                        "supported (MPICH's MPI_Pack_external handles one basic type)");
  if (rc == MPI_SUCCESS) {
    eflat = e32 ? flatten_external32(etype) : flatten(etype);
    fflat = e32 ? flatten_external32(filetype) : flatten(filetype);
    if (!eflat || !fflat)
      rc = make_error(MPI_ERR_UNSUPPORTED_DATAREP,
                      where + ": the view's types have no external32 layout edaos can compute");
  }
  if (rc == MPI_SUCCESS) {
    esz = eflat->size;
    fsz = fflat->size;
    if (esz <= 0 || fsz % esz != 0)
      rc = make_error(MPI_ERR_ARG, where + ": filetype must be made of whole etypes");
  }
  bool writable = !(f->amode & MPI_MODE_RDONLY);
  if (rc == MPI_SUCCESS) {
    for (auto [flat, kind] : {std::pair{eflat, "etype"}, std::pair{fflat, "filetype"}}) {
      std::string why = view_type_error(*flat, writable);
      if (!why.empty()) {
        rc = make_error(MPI_ERR_IO, where + ": " + kind + ": " + why);
        break;
      }
    }
  }
  rc = agree_error(f->comm, rc);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  if (disp == MPI_DISPLACEMENT_CURRENT) {
    int64_t sfp = 0;
    rc = f->fns->shared_fetch_add(f, 0, &sfp);
    disp = static_cast<MPI_Offset>(view_byte_offset(*f, sfp * f->view.etype_size));
  }
  rc = f->fns->set_info(f, info);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  for (MPI_Datatype* t : {&f->view.etype, &f->view.filetype})
    if (!is_named(*t)) PMPI_Type_free(t);
  if (is_named(etype))
    f->view.etype = etype;
  else
    PMPI_Type_dup(etype, &f->view.etype);
  if (is_named(filetype))
    f->view.filetype = filetype;
  else
    PMPI_Type_dup(filetype, &f->view.filetype);
  f->view.disp = disp;
  f->view.etype_size = esz;
  f->view.ft = fflat;
  f->view.external32 = e32;
  f->datarep = e32 ? "external32" : (*datarep == 'i' || *datarep == 'I') ? "internal" : "native";
  f->fp = 0;
  return raise(f, f->fns->shared_set(f, 0));
}

EDAOS_PMPI int MPI_File_get_view(MPI_File fh, MPI_Offset* disp, MPI_Datatype* etype,
                                 MPI_Datatype* filetype, char* datarep) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_view)(fh, disp, etype, filetype, datarep);
  std::lock_guard<std::mutex> lk(f->mu);
  *disp = f->view.disp;
  // Copies of derived types as ROMIO makes them (a committed contiguous of one), so programs
  // see the same combiners on both kinds of files.
  auto copy = [](MPI_Datatype t, MPI_Datatype* out) {
    if (is_named(t)) {
      *out = t;
      return;
    }
    PMPI_Type_contiguous(1, t, out);
    PMPI_Type_commit(out);
  };
  copy(f->view.etype, etype);
  copy(f->view.filetype, filetype);
  if (datarep) std::snprintf(datarep, MPI_MAX_DATAREP_STRING, "%s", f->datarep.c_str());
  return MPI_SUCCESS;
}

// ============================================================================================
// Data access. Families are generated from one body each; the int and MPI_Count (_c) variants
// share it.
// ============================================================================================

#define EDAOS_AT(NAME, BUFT, WRITE, KIND, CT)                                                    \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype, \
                      MPI_Status* status) {                                                      \
    File* f = lookup(fh);                                                                        \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype, status);                \
    return do_io(f, Ptr::kExplicit, offset, buf, count, datatype, status, WRITE, KIND, #NAME);   \
  }
#define EDAOS_FP(NAME, BUFT, WRITE, PTR, KIND, CT)                             \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype,  \
                      MPI_Status* status) {                                    \
    File* f = lookup(fh);                                                      \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype, status);      \
    return do_io(f, PTR, 0, buf, count, datatype, status, WRITE, KIND, #NAME); \
  }
#define EDAOS_IAT(NAME, BUFT, WRITE, KIND, CT)                                                   \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype, \
                      MPI_Request* request) {                                                    \
    File* f = lookup(fh);                                                                        \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype, request);               \
    return nonblocking(f, Ptr::kExplicit, offset, buf, count, datatype, WRITE, KIND, #NAME,      \
                       request);                                                                 \
  }
#define EDAOS_IFP(NAME, BUFT, WRITE, PTR, KIND, CT)                                   \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype,         \
                      MPI_Request* request) {                                         \
    File* f = lookup(fh);                                                             \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype, request);            \
    return nonblocking(f, PTR, 0, buf, count, datatype, WRITE, KIND, #NAME, request); \
  }

// Explicit offsets
EDAOS_AT(MPI_File_read_at, void*, false, Kind::kIndep, int)
EDAOS_AT(MPI_File_read_at_all, void*, false, Kind::kColl, int)
EDAOS_AT(MPI_File_write_at, const void*, true, Kind::kIndep, int)
EDAOS_AT(MPI_File_write_at_all, const void*, true, Kind::kColl, int)
EDAOS_AT(MPI_File_read_at_c, void*, false, Kind::kIndep, MPI_Count)
EDAOS_AT(MPI_File_read_at_all_c, void*, false, Kind::kColl, MPI_Count)
EDAOS_AT(MPI_File_write_at_c, const void*, true, Kind::kIndep, MPI_Count)
EDAOS_AT(MPI_File_write_at_all_c, const void*, true, Kind::kColl, MPI_Count)
EDAOS_IAT(MPI_File_iread_at, void*, false, Kind::kIndep, int)
EDAOS_IAT(MPI_File_iwrite_at, const void*, true, Kind::kIndep, int)
EDAOS_IAT(MPI_File_iread_at_all, void*, false, Kind::kColl, int)
EDAOS_IAT(MPI_File_iwrite_at_all, const void*, true, Kind::kColl, int)
EDAOS_IAT(MPI_File_iread_at_c, void*, false, Kind::kIndep, MPI_Count)
EDAOS_IAT(MPI_File_iwrite_at_c, const void*, true, Kind::kIndep, MPI_Count)
EDAOS_IAT(MPI_File_iread_at_all_c, void*, false, Kind::kColl, MPI_Count)
EDAOS_IAT(MPI_File_iwrite_at_all_c, const void*, true, Kind::kColl, MPI_Count)

// Individual file pointers
EDAOS_FP(MPI_File_read, void*, false, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_FP(MPI_File_read_all, void*, false, Ptr::kIndividual, Kind::kColl, int)
EDAOS_FP(MPI_File_write, const void*, true, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_FP(MPI_File_write_all, const void*, true, Ptr::kIndividual, Kind::kColl, int)
EDAOS_FP(MPI_File_read_c, void*, false, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_read_all_c, void*, false, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_FP(MPI_File_write_c, const void*, true, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_write_all_c, const void*, true, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_IFP(MPI_File_iread, void*, false, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iwrite, const void*, true, Ptr::kIndividual, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iread_all, void*, false, Ptr::kIndividual, Kind::kColl, int)
EDAOS_IFP(MPI_File_iwrite_all, const void*, true, Ptr::kIndividual, Kind::kColl, int)
EDAOS_IFP(MPI_File_iread_c, void*, false, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_c, const void*, true, Ptr::kIndividual, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iread_all_c, void*, false, Ptr::kIndividual, Kind::kColl, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_all_c, const void*, true, Ptr::kIndividual, Kind::kColl, MPI_Count)

// Shared file pointer
EDAOS_FP(MPI_File_read_shared, void*, false, Ptr::kShared, Kind::kIndep, int)
EDAOS_FP(MPI_File_write_shared, const void*, true, Ptr::kShared, Kind::kIndep, int)
EDAOS_FP(MPI_File_read_shared_c, void*, false, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_write_shared_c, const void*, true, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iread_shared, void*, false, Ptr::kShared, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iwrite_shared, const void*, true, Ptr::kShared, Kind::kIndep, int)
EDAOS_IFP(MPI_File_iread_shared_c, void*, false, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_IFP(MPI_File_iwrite_shared_c, const void*, true, Ptr::kShared, Kind::kIndep, MPI_Count)
EDAOS_FP(MPI_File_read_ordered, void*, false, Ptr::kShared, Kind::kOrdered, int)
EDAOS_FP(MPI_File_write_ordered, const void*, true, Ptr::kShared, Kind::kOrdered, int)
EDAOS_FP(MPI_File_read_ordered_c, void*, false, Ptr::kShared, Kind::kOrdered, MPI_Count)
EDAOS_FP(MPI_File_write_ordered_c, const void*, true, Ptr::kShared, Kind::kOrdered, MPI_Count)

// Split collectives
#define EDAOS_SPLIT_AT(NAME, BUFT, WRITE, CT)                                                      \
  EDAOS_PMPI int NAME(MPI_File fh, MPI_Offset offset, BUFT buf, CT count, MPI_Datatype datatype) { \
    File* f = lookup(fh);                                                                          \
    if (!f) return EDAOS_REAL(P##NAME)(fh, offset, buf, count, datatype);                          \
    return split_begin(f, Ptr::kExplicit, offset, buf, count, datatype, WRITE, Kind::kColl,        \
                       #NAME);                                                                     \
  }
#define EDAOS_SPLIT_FP(NAME, BUFT, WRITE, PTR, CT)                                  \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype) {     \
    File* f = lookup(fh);                                                           \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype);                   \
    return split_begin(f, PTR, 0, buf, count, datatype, WRITE, Kind::kColl, #NAME); \
  }
#define EDAOS_SPLIT_END(NAME, BUFT, WRITE)                         \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, MPI_Status* status) { \
    File* f = lookup(fh);                                          \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, status);           \
    return split_end(f, status, WRITE, #NAME);                     \
  }

EDAOS_SPLIT_AT(MPI_File_read_at_all_begin, void*, false, int)
EDAOS_SPLIT_AT(MPI_File_write_at_all_begin, const void*, true, int)
EDAOS_SPLIT_AT(MPI_File_read_at_all_begin_c, void*, false, MPI_Count)
EDAOS_SPLIT_AT(MPI_File_write_at_all_begin_c, const void*, true, MPI_Count)
EDAOS_SPLIT_FP(MPI_File_read_all_begin, void*, false, Ptr::kIndividual, int)
EDAOS_SPLIT_FP(MPI_File_write_all_begin, const void*, true, Ptr::kIndividual, int)
EDAOS_SPLIT_FP(MPI_File_read_all_begin_c, void*, false, Ptr::kIndividual, MPI_Count)
EDAOS_SPLIT_FP(MPI_File_write_all_begin_c, const void*, true, Ptr::kIndividual, MPI_Count)
EDAOS_SPLIT_END(MPI_File_read_at_all_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_at_all_end, const void*, true)
EDAOS_SPLIT_END(MPI_File_read_all_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_all_end, const void*, true)
EDAOS_SPLIT_END(MPI_File_read_ordered_end, void*, false)
EDAOS_SPLIT_END(MPI_File_write_ordered_end, const void*, true)

#define EDAOS_SPLIT_ORD(NAME, BUFT, WRITE, CT)                                                  \
  EDAOS_PMPI int NAME(MPI_File fh, BUFT buf, CT count, MPI_Datatype datatype) {                 \
    File* f = lookup(fh);                                                                       \
    if (!f) return EDAOS_REAL(P##NAME)(fh, buf, count, datatype);                               \
    return split_begin(f, Ptr::kShared, 0, buf, count, datatype, WRITE, Kind::kOrdered, #NAME); \
  }
EDAOS_SPLIT_ORD(MPI_File_read_ordered_begin, void*, false, int)
EDAOS_SPLIT_ORD(MPI_File_write_ordered_begin, const void*, true, int)
EDAOS_SPLIT_ORD(MPI_File_read_ordered_begin_c, void*, false, MPI_Count)
EDAOS_SPLIT_ORD(MPI_File_write_ordered_begin_c, const void*, true, MPI_Count)

// ============================================================================================
// Positions
// ============================================================================================

EDAOS_PMPI int MPI_File_seek(MPI_File fh, MPI_Offset offset, int whence) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_seek)(fh, offset, whence);
  std::lock_guard<std::mutex> lk(f->mu);
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION, "MPI_File_seek: MPI_MODE_SEQUENTIAL file");
  int64_t base = 0;
  if (whence == MPI_SEEK_CUR) {
    base = f->fp;
  } else if (whence == MPI_SEEK_END) {
    int64_t size = 0;
    int rc = f->fns->get_size(f, &size);
    if (rc != MPI_SUCCESS) return raise(f, rc);
    base = eof_offset(f, size);
  } else if (whence != MPI_SEEK_SET) {
    return err(f, MPI_ERR_ARG, "MPI_File_seek: invalid whence");
  }
  if (base + offset < 0) return err(f, MPI_ERR_ARG, "MPI_File_seek: negative resulting offset");
  f->fp = base + offset;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_position(MPI_File fh, MPI_Offset* offset) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_position)(fh, offset);
  std::lock_guard<std::mutex> lk(f->mu);
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION, "MPI_File_get_position: MPI_MODE_SEQUENTIAL file");
  *offset = f->fp;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_byte_offset(MPI_File fh, MPI_Offset offset, MPI_Offset* disp) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_byte_offset)(fh, offset, disp);
  std::lock_guard<std::mutex> lk(f->mu);
  if (offset < 0) return err(f, MPI_ERR_ARG, "MPI_File_get_byte_offset: negative offset");
  if (f->amode & MPI_MODE_SEQUENTIAL)
    return err(f, MPI_ERR_UNSUPPORTED_OPERATION,
               "MPI_File_get_byte_offset: MPI_MODE_SEQUENTIAL file");
  *disp = view_byte_offset(*f, offset * f->view.etype_size);
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_seek_shared(MPI_File fh, MPI_Offset offset, int whence) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_seek_shared)(fh, offset, whence);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  int rc = MPI_SUCCESS;
  int64_t base = 0;
  if (whence == MPI_SEEK_CUR) {
    rc = f->fns->shared_fetch_add(f, 0, &base);
  } else if (whence == MPI_SEEK_END) {
    int64_t size = 0;
    rc = f->fns->get_size(f, &size);
    base = eof_offset(f, size);
  } else if (whence != MPI_SEEK_SET) {
    rc = make_error(MPI_ERR_ARG, "MPI_File_seek_shared: invalid whence");
  }
  if (rc == MPI_SUCCESS && base + offset < 0)
    rc = make_error(MPI_ERR_ARG, "MPI_File_seek_shared: negative resulting offset");
  // Collective: the arguments must agree; rank 0's result is used.
  int64_t target = base + offset;
  rc = agree_error(f->comm, rc);
  if (rc != MPI_SUCCESS) return raise(f, rc);
  PMPI_Bcast(&target, 1, MPI_INT64_T, 0, f->comm);
  return raise(f, f->fns->shared_set(f, target));
}

EDAOS_PMPI int MPI_File_get_position_shared(MPI_File fh, MPI_Offset* offset) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_position_shared)(fh, offset);
  std::lock_guard<std::mutex> lk(f->mu);
  int64_t v = 0;
  int rc = f->fns->shared_fetch_add(f, 0, &v);
  if (rc == MPI_SUCCESS) *offset = v;
  return raise(f, rc);
}

// The extent in the file: the native extent, or with an external32 view the extent of the
// type's external32 layout (flatten_external32; MPI-3.1 13.5.1).
int type_extent_in_file(File* f, MPI_Datatype t, int64_t* extent, const char* fn) {
  if (t == MPI_DATATYPE_NULL) return err(f, MPI_ERR_TYPE, std::string(fn) + ": MPI_DATATYPE_NULL");
  std::lock_guard<std::mutex> lk(f->mu);
  FlatPtr fl = f->view.external32 ? flatten_external32(t) : flatten(t);
  if (!fl)
    return err(f, MPI_ERR_UNSUPPORTED_DATAREP,
               std::string(fn) + ": the type has no external32 layout edaos can compute");
  *extent = fl->extent;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_type_extent(MPI_File fh, MPI_Datatype datatype, MPI_Aint* extent) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_type_extent)(fh, datatype, extent);
  int64_t e = 0;
  int rc = type_extent_in_file(f, datatype, &e, "MPI_File_get_type_extent");
  if (rc == MPI_SUCCESS) *extent = static_cast<MPI_Aint>(e);
  return rc;
}

EDAOS_PMPI int MPI_File_get_type_extent_c(MPI_File fh, MPI_Datatype datatype, MPI_Count* extent) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_type_extent_c)(fh, datatype, extent);
  int64_t e = 0;
  int rc = type_extent_in_file(f, datatype, &e, "MPI_File_get_type_extent_c");
  if (rc == MPI_SUCCESS) *extent = static_cast<MPI_Count>(e);
  return rc;
}

// ============================================================================================
// Consistency
// ============================================================================================

EDAOS_PMPI int MPI_File_set_atomicity(MPI_File fh, int flag) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_atomicity)(fh, flag);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->set_atomicity(f, flag != 0));
}

EDAOS_PMPI int MPI_File_get_atomicity(MPI_File fh, int* flag) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_atomicity)(fh, flag);
  *flag = f->atomic ? 1 : 0;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_sync(MPI_File fh) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_sync)(fh);
  drain(f);  // collective: queued nonblocking collectives go first
  std::lock_guard<std::mutex> lk(f->mu);
  return raise(f, f->fns->flush(f));
}

// ============================================================================================
// Error handlers, Fortran handles
// ============================================================================================

EDAOS_PMPI int MPI_File_create_errhandler(MPI_File_errhandler_function* fn,
                                          MPI_Errhandler* errhandler) {
  int rc = EDAOS_REAL(PMPI_File_create_errhandler)(fn, errhandler);
  if (rc == MPI_SUCCESS) {
    std::lock_guard<std::mutex> lk(g_mu);
    g_errh_fns[*errhandler] = fn;
  }
  return rc;
}

EDAOS_PMPI int MPI_File_set_errhandler(MPI_File fh, MPI_Errhandler errhandler) {
  if (fh == MPI_FILE_NULL) {
    int rc = EDAOS_REAL(PMPI_File_set_errhandler)(fh, errhandler);
    if (rc == MPI_SUCCESS) {
      std::lock_guard<std::mutex> lk(g_mu);
      g_null_errh = errhandler;
    }
    return rc;
  }
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_set_errhandler)(fh, errhandler);
  if (errhandler == MPI_ERRHANDLER_NULL)
    return err(f, MPI_ERR_ARG, "MPI_File_set_errhandler: MPI_ERRHANDLER_NULL");
  f->errh = errhandler;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_get_errhandler(MPI_File fh, MPI_Errhandler* errhandler) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_get_errhandler)(fh, errhandler);
  *errhandler = f->errh;
  return MPI_SUCCESS;
}

EDAOS_PMPI int MPI_File_call_errhandler(MPI_File fh, int errorcode) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_call_errhandler)(fh, errorcode);
  invoke(f->errh, fh, errorcode);
  return MPI_SUCCESS;
}

EDAOS_PMPI MPI_Fint MPI_File_c2f(MPI_File fh) {
  File* f = lookup(fh);
  if (!f) return EDAOS_REAL(PMPI_File_c2f)(fh);
  std::lock_guard<std::mutex> lk(g_mu);
  if (!f->fint) {
    f->fint = g_next_fint++;
    g_fint[f->fint] = f;
  }
  return f->fint;
}

EDAOS_PMPI MPI_File MPI_File_f2c(MPI_Fint fh) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_fint.find(fh);
    if (it != g_fint.end()) return reinterpret_cast<MPI_File>(it->second);
  }
  return EDAOS_REAL(PMPI_File_f2c)(fh);
}

// Error strings of the driver's codes (see error_string in errors.cpp); all others: PMPI.
EDAOS_PMPI int MPI_Error_string(int errorcode, char* string, int* resultlen) {
  if (const std::string* s = error_string(errorcode)) {
    std::snprintf(string, MPI_MAX_ERROR_STRING, "%s", s->c_str());
    *resultlen = static_cast<int>(std::min<size_t>(s->size(), MPI_MAX_ERROR_STRING - 1));
    return MPI_SUCCESS;
  }
  return EDAOS_REAL(PMPI_Error_string)(errorcode, string, resultlen);
}

// ============================================================================================
// Profiling names: every entry point above is also PMPI_<name> (the same function), so programs
// and tools that call the profiling interface (Darshan's MPI-IO wrappers call PMPI_File_*)
// reach the driver: LD_PRELOAD=libdarshan.so:libedaos_mpio.so stacks. Pass-through calls use
// EDAOS_REAL, never these names.
// ============================================================================================

EDAOS_PROFILING_ALIAS(MPI_Error_string)
EDAOS_PROFILING_ALIAS(MPI_File_c2f)
EDAOS_PROFILING_ALIAS(MPI_File_call_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_close)
EDAOS_PROFILING_ALIAS(MPI_File_create_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_delete)
EDAOS_PROFILING_ALIAS(MPI_File_f2c)
EDAOS_PROFILING_ALIAS(MPI_File_get_amode)
EDAOS_PROFILING_ALIAS(MPI_File_get_atomicity)
EDAOS_PROFILING_ALIAS(MPI_File_get_byte_offset)
EDAOS_PROFILING_ALIAS(MPI_File_get_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_get_group)
EDAOS_PROFILING_ALIAS(MPI_File_get_info)
EDAOS_PROFILING_ALIAS(MPI_File_get_position)
EDAOS_PROFILING_ALIAS(MPI_File_get_position_shared)
EDAOS_PROFILING_ALIAS(MPI_File_get_size)
EDAOS_PROFILING_ALIAS(MPI_File_get_type_extent)
EDAOS_PROFILING_ALIAS(MPI_File_get_type_extent_c)
EDAOS_PROFILING_ALIAS(MPI_File_get_view)
EDAOS_PROFILING_ALIAS(MPI_File_iread)
EDAOS_PROFILING_ALIAS(MPI_File_iread_all)
EDAOS_PROFILING_ALIAS(MPI_File_iread_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_c)
EDAOS_PROFILING_ALIAS(MPI_File_iread_shared)
EDAOS_PROFILING_ALIAS(MPI_File_iread_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_all)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_c)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_shared)
EDAOS_PROFILING_ALIAS(MPI_File_iwrite_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_open)
EDAOS_PROFILING_ALIAS(MPI_File_preallocate)
EDAOS_PROFILING_ALIAS(MPI_File_read)
EDAOS_PROFILING_ALIAS(MPI_File_read_all)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_at)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_begin)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_c)
EDAOS_PROFILING_ALIAS(MPI_File_read_ordered_end)
EDAOS_PROFILING_ALIAS(MPI_File_read_shared)
EDAOS_PROFILING_ALIAS(MPI_File_read_shared_c)
EDAOS_PROFILING_ALIAS(MPI_File_seek)
EDAOS_PROFILING_ALIAS(MPI_File_seek_shared)
EDAOS_PROFILING_ALIAS(MPI_File_set_atomicity)
EDAOS_PROFILING_ALIAS(MPI_File_set_errhandler)
EDAOS_PROFILING_ALIAS(MPI_File_set_info)
EDAOS_PROFILING_ALIAS(MPI_File_set_size)
EDAOS_PROFILING_ALIAS(MPI_File_set_view)
EDAOS_PROFILING_ALIAS(MPI_File_sync)
EDAOS_PROFILING_ALIAS(MPI_File_write)
EDAOS_PROFILING_ALIAS(MPI_File_write_all)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_at)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_all_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_at_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_begin)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_begin_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_c)
EDAOS_PROFILING_ALIAS(MPI_File_write_ordered_end)
EDAOS_PROFILING_ALIAS(MPI_File_write_shared)
EDAOS_PROFILING_ALIAS(MPI_File_write_shared_c)

// ============================================================================================
// The driver's own C surface (adio_daos.h)
// ============================================================================================

EDAOS_PMPI int edaos_mpio_is_daos_file(MPI_File fh) { return lookup(fh) ? 1 : 0; }

EDAOS_PMPI int edaos_mpio_is_daos_name(const char* filename) {
  return is_daos_name(filename) ? 1 : 0;
}

EDAOS_PMPI void edaos_mpio_get_stats(edaos_mpio_stats_t* out) {
  out->ms_indep_calls = g_counters.indep_calls;
  out->ms_coll_calls = g_counters.coll_calls;
  out->ms_coll_twophase = g_counters.coll_twophase;
  out->ms_coll_rounds = g_counters.coll_rounds;
  out->ms_agg_io_calls = g_counters.agg_io_calls;
  out->ms_agg_io_bytes = g_counters.agg_io_bytes;
  out->ms_sieved_reads = g_counters.sieved_reads;
}

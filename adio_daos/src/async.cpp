// The asynchronous machinery of the MPI_File_* layer: generalized requests (completed
// without MPICH's global lock), the I/O pool that runs independent nonblocking accesses, the
// per-handle collective worker that runs nonblocking and split collectives in initiation
// order, and the split collective begin/end pair. Every access is prepared by prepare_access
// (access.cpp) on the calling thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "mpiio_internal.hpp"

namespace edaos::adio {

namespace {

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

// ---- nonblocking and split collectives ----
//
// A collective access is prepared on the calling thread (prepare_access) and run by coll_run
// (access.cpp). Blocking calls run it in place. Nonblocking and split collectives queue it on
// the handle's
// CollWorker: one thread per handle that runs the queue in initiation order (MPI requires every
// rank to initiate a handle's collectives in the same order, so the workers of all ranks meet
// in the same operation), completes each request, and touches f->comm only while the calling
// threads don't: every other collective entry point of the handle first waits until the worker
// is idle (drain). The worker does not hold f->mu, so independent calls and messages between
// the ranks go on while a collective is pending (no deadlock when a rank waits for a message
// from a rank that has not initiated the collective yet).

struct CollTask {
  Access a;                // buf/count/type: a dup of the caller's type when owns_type
  bool owns_type = false;  // a dup made at initiation (the caller may free its type)
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
      rc = coll_run(f, t.a, &bytes, &agreed);
    } catch (const std::bad_alloc&) {
      rc = make_error(MPI_ERR_NO_MEM, f->filename + ": out of memory in a nonblocking collective");
    } catch (const std::exception& e) {
      rc = make_error(MPI_ERR_INTERN, f->filename + ": " + e.what());
    }
    if (t.owns_type) PMPI_Type_free(&t.a.type);
    rc = ext32_finish(t.a.ext32.get(), t.a.write, rc, &bytes);
    t.done(rc, rc == MPI_SUCCESS ? bytes : 0);
    lk.lock();
    w->busy = false;
    w->cv.notify_all();
  }
}

}  // namespace

void drain(File* f) {
  CollWorker* w = f->coll_worker;
  if (!w) return;
  std::unique_lock<std::mutex> lk(w->mu);
  w->cv.wait(lk, [w] { return w->q.empty() && !w->busy; });
}

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

namespace {

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

// Queues a nonblocking or split collective: prepared (pointer moved) now, run by the worker.
// The caller's datatype is duplicated unless named, since it may be freed before completion.
int coll_start(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
               bool write, Kind kind, const char* fn,
               std::function<void(int rc, int64_t bytes)> done) {
  CollTask task;
  {
    std::lock_guard<std::mutex> lk(f->mu);
    prepare_access(f, ptr, off, buf, count, t, write, kind, true, fn, &task.a);
    if (task.a.rc == MPI_SUCCESS) f->fp += task.a.advance;
  }
  if (task.a.rc == MPI_SUCCESS && !task.a.ext32 && !is_named(t)) {
    int r = PMPI_Type_dup(t, &task.a.type);
    if (r != MPI_SUCCESS) task.a.rc = r;
    task.owns_type = r == MPI_SUCCESS;
    if (r != MPI_SUCCESS) task.a.type = t;
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
    Access a;
    int rc = prepare_access(f, ptr, off, buf, count, t, write, kind, true, fn, &a);
    if (rc != MPI_SUCCESS) {
      *req = MPI_REQUEST_NULL;
      return raise(f, rc);
    }
    f->fp += a.advance;
    x = a.ext32;
    if (a.n > 0)
      pieces = zip(view_segments(*f, a.data_off, a.n), memory_segments(a.buf, a.count, a.type));
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
    // It may run inside MPICH's wait/poll callbacks: no exception may leave it.
    try {
      rc = write ? f->fns->write_list(f, p, &bytes) : f->fns->read_list(f, p, &bytes);
      rc = ext32_finish(x.get(), write, rc, &bytes);
    } catch (const std::bad_alloc&) {
      rc = make_error(MPI_ERR_NO_MEM, f->filename + ": out of memory in a nonblocking access");
    } catch (const std::exception& e) {
      rc = make_error(MPI_ERR_INTERN, f->filename + ": " + e.what());
    }
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

}  // namespace

int nonblocking(File* f, Ptr ptr, MPI_Offset off, const void* buf, int64_t count, MPI_Datatype t,
                bool write, Kind kind, const char* fn, MPI_Request* req) {
  return guarded(
      f, fn, [&] { return nonblocking_impl(f, ptr, off, buf, count, t, write, kind, fn, req); });
}

namespace {

// Split collectives: begin queues the access on the handle's worker (as a nonblocking
// collective), end waits for it and reports through the file's error handler.
struct SplitDone {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = MPI_SUCCESS;
  int64_t bytes = 0;
};

}  // namespace

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

}  // namespace edaos::adio

// RPC transport: how clients reach server ranks and how server ranks answer.
//
// The interface is transport-neutral (no MPI type in it): every implementation keeps its
// per-call state behind Call::ts. Implementations: MpiTransport (transport_mpi.hpp, over a
// private duplicate of the job's communicator; needs MPI_THREAD_MULTIPLE) and the in-process
// LoopbackFabric (transport_loopback.hpp, unit tests without MPI). The runtime
// (src/runtime) picks one and hands it to the client half and to the Server.
//
// Peers are named by their rank in the job (Call::server, Incoming::source, reply's dest): the
// runtime's server table maps a server index to the rank that serves it.
//
// Client contract: fill a Call, start() it, then wait() on one or many calls. Requests and
// bulk data go out of the caller's buffers; bulk read replies land in `bulk_in`. Buffers must
// stay valid until wait() returns. A call that has no reply within the RPC timeout
// (EDAOS_RPC_TIMEOUT, rpc_timeout()) completes with EDAOS_UNREACH: a dead or silent peer is an
// error, never a hang.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"
#include "rpc/proto.hpp"

namespace edaos::objstore::rpc {

using Clock = std::chrono::steady_clock;

// How long a call waits for its reply before it fails with EDAOS_UNREACH: $EDAOS_RPC_TIMEOUT
// in seconds (a decimal number; 0 = wait forever), default kDefaultRpcTimeoutSec. Read once.
inline constexpr double kDefaultRpcTimeoutSec = 60;
Clock::duration rpc_timeout();
// Parses an EDAOS_RPC_TIMEOUT value; false when it is not a number >= 0.
bool parse_rpc_timeout(const char* text, Clock::duration* out);

// A transport's private state for one call (request handles, datatypes...).
struct CallState {
  virtual ~CallState() = default;
};

struct Call {
  // --- filled by the caller ---
  int server = -1;  // the server's rank in the job (an entry of the runtime's server table)
  Op op = Op::kSync;
  std::string body;                  // encoded op body
  std::vector<ConstIoVec> bulk_out;  // data appended to the request, not copied
  std::vector<IoVec> bulk_in;        // reply payload lands here; empty: payload -> `payload`
  // --- results, valid after wait() ---
  ReplyHeader rep{};
  std::string payload;  // reply payload when bulk_in is empty
  std::string err_msg;  // server's message when rep.status != OK
  // OK, or the server's status with its message, or a transport failure.
  Status status() const;

  // --- transport internals ---
  int tag = 0;  // reply tag; 0 = not started
  bool done = false;
  bool reply_received = false;
  RequestHeader hdr{};
  Clock::time_point deadline = Clock::time_point::max();
  Status local_error;
  std::unique_ptr<CallState> ts;

  // Resets the results and fills hdr for a new start() with reply tag `tag`.
  void prepare(int tag, uint64_t seq);
  // Marks the call failed because its peer did not answer in time.
  void time_out();
  // Takes a whole reply message (header + message or payload) that did not go to bulk_in.
  void take_reply(const char* buf, size_t n);
  // Takes a whole reply message into rep and, for a call with bulk_in, its payload scattered
  // into bulk_in (a payload larger than bulk_in fails with EDAOS_PROTO); marks it received.
  void take_reply_scattered(const char* buf, size_t n);
  // The reply was received over [rep][bulk_in...] (`bytes` in all): checks its length and
  // takes an error reply's message from bulk_in, where it landed.
  void take_bulk_reply(size_t bytes);
  // Marks the call complete (reply in, send finished): gives a bare error status its text.
  void finish();
};

// A byte buffer that grows without zero-filling (std::string::resize writes every new byte,
// which on the I/O path is a wasted pass over up to a whole transfer) and keeps its memory for
// the next message.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    p_ = std::move(o.p_);
    size_ = o.size_;
    cap_ = o.cap_;
    o.size_ = o.cap_ = 0;
    return *this;
  }
  char* data() { return p_.get(); }
  const char* data() const { return p_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  // Gives the memory up without freeing it (a transport that cannot take an operation back
  // leaves it to that operation); the buffer is empty afterwards.
  void leak() {
    (void)p_.release();
    size_ = cap_ = 0;
  }
  // New bytes are uninitialised; existing bytes up to min(size(), n) are kept.
  void resize(size_t n) {
    if (n > cap_) {
      std::unique_ptr<char[]> q(new char[n]);
      if (size_) std::memcpy(q.get(), p_.get(), size_);
      p_ = std::move(q);
      cap_ = n;
    }
    size_ = n;
  }

 private:
  std::unique_ptr<char[]> p_;
  size_t size_ = 0, cap_ = 0;
};

// A request received by a server.
struct Incoming {
  int source = -1;  // the client's rank in the job
  RequestHeader hdr{};
  Buffer buf;  // whole message; body at sizeof(RequestHeader), bulk after the body
  // Server use only, never set by a transport: this request is part `part` of one the server
  // split (a kShardVec per engine); its reply goes to `whole`, not to the client.
  std::shared_ptr<void> whole;
  uint32_t part = 0;
  const char* body() const { return buf.data() + sizeof(RequestHeader); }
  size_t body_len() const { return hdr.body_len; }
  const char* bulk() const { return body() + hdr.body_len; }
  size_t bulk_len() const { return buf.size() - sizeof(RequestHeader) - hdr.body_len; }
};

// Recycled bulk-reply buffers (thread-safe): at most kMaxSpare buffers and kMaxSpareBytes in
// all, the oldest dropped first.
class SparePool {
 public:
  // A buffer of exactly `n` bytes (contents undefined), reused when one is large enough.
  Buffer take(size_t n);
  void give(Buffer b);

 private:
  static constexpr size_t kMaxSpare = 16;
  static constexpr size_t kMaxSpareBytes = size_t{64} << 20;
  std::mutex mu_;
  std::vector<Buffer> spare_;
  size_t bytes_ = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Client side. start() posts the reply receive, then sends the request; the call's deadline
  // is now + rpc_timeout().
  virtual void start(Call* c) = 0;
  // Waits until every call completes (reply, transport error, or deadline passed: then
  // EDAOS_UNREACH). Never spins without yielding.
  virtual void wait(Call* const* calls, size_t n) = 0;
  // start + wait for one call; returns its status. A kLock call that ends without its reply
  // (time-out, transport error) is withdrawn at the server with a kLockCancel, so a grant that
  // comes too late never leaves the stripe locked by a caller that is not waiting for it.
  Status call(Call* c);

  // Server side (one receiving thread). Returns true and fills `in` when a request arrives
  // before `deadline`, false once the deadline has passed (a deadline in the past: a poll).
  // Sleeps on the transport's wait object meanwhile (MPI: a backoff poll) and advances
  // pending replies.
  virtual bool wait_request(Incoming* in, Clock::time_point deadline) = 0;
  bool poll_request(Incoming* in) { return wait_request(in, Clock::time_point::min()); }
  // Sends a reply; `buf` starts with a ReplyHeader and is owned by the transport until sent.
  // reply(), reply_buffer() and progress_replies() may be called from any server thread.
  virtual void reply(int dest, int tag, std::string buf) = 0;
  // Bulk replies: a buffer of at least `n` bytes (contents undefined, size() == n), recycled
  // from replies already sent, to fill and pass to reply(Buffer) (which owns it until sent).
  virtual Buffer reply_buffer(size_t n) = 0;
  virtual void reply(int dest, int tag, Buffer buf) = 0;
  // A bulk reply whose payload holds one data section: payload bytes [data_off, data_off +
  // data_len) (offsets after the ReplyHeader), typically the bytes of reads, with small parts
  // (a table, messages) around it. The caller's bulk_in gets the same payload bytes in the same
  // places on every transport. A transport that can move the section by itself (UCX: as its
  // own contiguous message, received straight into the caller's bulk_in, so rendezvous moves
  // it with one copy) does so; the default sends `buf` whole.
  virtual void reply(int dest, int tag, Buffer buf, size_t data_off, size_t data_len) {
    (void)data_off;
    (void)data_len;
    reply(dest, tag, std::move(buf));
  }
  // Advances pending replies; returns true while some are still in flight.
  virtual bool progress_replies() = 0;
};

// How long a client thread waiting for replies keeps polling its transport after the last
// progress before it sleeps on the transport's wait object (transports that have one: UCX):
// $EDAOS_RPC_SPIN_US microseconds (0..1000), default kDefaultSpinUs. Read once. Bounded and
// short: a reply that comes later wakes the thread through the wait object.
inline constexpr long kDefaultSpinUs = 1000;
Clock::duration client_spin();

// How long one client thread polls before it sleeps, adapted to the replies it gets (session
// 8; UCX's wait keeps one per thread). A wait is cut into gaps: the time from its start or its
// last progress to its next progress. A short poll puts a thread wake-up into every call that
// a longer one would have caught (IOR-hard: each reply comes within a few hundred us); a long
// poll burns the core the server needs when replies come later anyway (mdtest's creates with
// 4 ranks on 2 cores: a few ms). So the window follows the recent gaps:
//  - avg: a moving average (1/4 weight) of the gaps, slept ones included, gaps shorter than
//    kSpinFloor left out (a rendezvous step or a send's end, not a server's answer);
//  - target: 2 x avg + kSpinFloor, at most `cap` ($EDAOS_RPC_SPIN_US), or 0 (sleep at once)
//    when avg itself is beyond the cap (the reply is not expected within any allowed poll);
//  - a gap longer than a window that was not 0 wasted that poll: the next window is at most
//    half of it (below kSpinFloor: 0); any other gap sets the window to target;
//  - oversubscribed process: a thread polls only while fewer than max(1, cpus - 1) other
//    threads of its process poll (the rest sleep at once), so pollers leave a core free;
//  - oversubscribed node: when the job has more ranks on this node than this process has CPUs
//    ($MPI_LOCALNRANKS from MPICH's launcher, $OMPI_COMM_WORLD_LOCAL_SIZE from Open MPI), no
//    thread polls: every poller would take a core from a rank (or the server) with work
//    (mdtest, 4 ranks on 2 cores: the job's CPU time 31-36 s with polls, 6 s without).
// Bounded (never above cap; the transport yields the core between polls), and a thread whose
// window is 0 still learns from its gaps (measured across its sleeps), so short replies bring
// the poll back. $EDAOS_RPC_SPIN_ADAPT=0: the window is always `cap` (the session-7 rule).
class SpinPolicy {
 public:
  static constexpr Clock::duration kSpinFloor = std::chrono::microseconds(20);
  SpinPolicy(Clock::duration cap, bool adapt, int cpus, int local_ranks = 1);
  // The process's default: cap client_spin(), adapt per $EDAOS_RPC_SPIN_ADAPT, the CPUs this
  // process may run on, the job's ranks on this node (launcher's variables; 1 if none).
  static SpinPolicy from_environment();
  // How long to poll after the last progress, with `others` other threads of the process
  // polling now.
  Clock::duration window(int others) const;
  // A gap of the thread's wait ended with progress after `gap` (the thread slept in it or not).
  void record(Clock::duration gap);
  Clock::duration average() const { return avg_; }

 private:
  Clock::duration cap_, avg_, window_;
  bool adapt_;
  int cpus_, local_ranks_;
};

// The client wait of every transport with a wait object (UCX, libfabric; session 9: one
// loop, not a copy per transport). `lk` holds the transport's lock on entry and on return.
// round(&progressed): one pass under the lock (progress the endpoint, test the calls); true
// once every call is done, *progressed when something moved (a call completed, the endpoint
// had work). After the last progress the thread polls, yielding the core and the lock between
// passes, for the window of its thread's SpinPolicy (`*pollers` counts the threads of the
// transport polling now, under the lock); then sleep(now) sleeps on the wait object (called
// under the lock; it may drop and retake it) until news or the calls' nearest deadline. Each
// gap between progress events, sleeps included, teaches the policy.
void poll_then_sleep(std::unique_lock<std::mutex>& lk, int* pollers,
                     const std::function<bool(bool* progressed)>& round,
                     const std::function<void(Clock::time_point now)>& sleep);
// This thread's wake fd (an eventfd, made on first use, closed when the thread ends): another
// thread of the process writes it to wake this one out of a transport's poll(). -1 when the
// system gives none (sleeps are then kept short).
int thread_wake_fd();
// now + d, saturated (a duration of max() means never).
Clock::time_point deadline_after(Clock::duration d);

// The client wait loop every polling transport shares: round(&progressed) takes one pass over
// the calls (under the transport's lock) and returns true once all are done; between passes
// that completed nothing the thread backs off (yield, then short sleeps).
void wait_rounds(const std::function<bool(bool* progressed)>& round);
// One pass over `calls`: test(c) for each one not done (true: it completed now). Returns true
// when all are done; sets *progressed when one completed.
bool test_calls(Call* const* calls, size_t n, const std::function<bool(Call*)>& test,
                bool* progressed);
// The end of a call's test: true (done) once the reply is in and no send is in flight
// (finish()); or when it failed or its deadline passed without a reply (time_out(), then
// abandon(c) gives the call's operations back). False while it is still under way.
bool settle_call(Call* c, bool sends_in_flight, const std::function<void(Call*)>& abandon);
// How long a server thread may sleep on its wait fd: until `deadline` (at most 1 s), or 1 ms
// while replies are in flight (their progress may come with no event).
int sleep_ms(Clock::time_point deadline, Clock::time_point now, bool sending);

// Builds a reply buffer: header (+ error message or payload).
std::string make_reply(const Status& st, uint64_t value = 0, uint64_t value2 = 0,
                       std::string_view payload = {});

}  // namespace edaos::objstore::rpc

// Transport-neutral parts of the RPC layer: call results, reply building, the RPC timeout,
// recycled reply buffers.
#include "rpc/transport.hpp"

#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/backoff.hpp"
#include "common/log.hpp"

EDAOS_LOG_FACILITY(rpc);

namespace edaos::objstore::rpc {

namespace {
// How long Transport::call waits for the answer to the kLockCancel of a lock it gave up on.
constexpr auto kLockCancelWait = std::chrono::seconds(5);
}  // namespace

bool parse_rpc_timeout(const char* text, Clock::duration* out) {
  if (!text || !*text) return false;
  char* end = nullptr;
  double s = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(s) || s < 0) return false;
  if (s == 0 || s > 1e9) {
    *out = Clock::duration::max();
    return true;
  }
  *out = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  return true;
}

Clock::duration rpc_timeout() {
  static const Clock::duration t = [] {
    Clock::duration d = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(kDefaultRpcTimeoutSec));
    const char* e = std::getenv("EDAOS_RPC_TIMEOUT");
    if (e && *e && !parse_rpc_timeout(e, &d))
      EDAOS_LOG(warn, "EDAOS_RPC_TIMEOUT='%s' is not a number of seconds >= 0: using %g s", e,
                kDefaultRpcTimeoutSec);
    return d;
  }();
  return t;
}

Clock::duration client_spin() {
  static const Clock::duration d = [] {
    long us = kDefaultSpinUs;
    if (const char* e = std::getenv("EDAOS_RPC_SPIN_US"); e && *e) {
      char* end = nullptr;
      const long v = std::strtol(e, &end, 10);
      if (end && *end == '\0' && v >= 0 && v <= 1000)
        us = v;
      else
        EDAOS_LOG(warn, "EDAOS_RPC_SPIN_US='%s' is not a number in 0..1000: using %ld", e,
                  kDefaultSpinUs);
    }
    return std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(us));
  }();
  return d;
}

SpinPolicy::SpinPolicy(Clock::duration cap, bool adapt, int cpus, int local_ranks)
    : cap_(cap),
      avg_(cap / 4),
      window_(cap),
      adapt_(adapt),
      cpus_(std::max(cpus, 1)),
      local_ranks_(std::max(local_ranks, 1)) {}

SpinPolicy SpinPolicy::from_environment() {
  const char* e = std::getenv("EDAOS_RPC_SPIN_ADAPT");
  const bool adapt = !(e && std::strcmp(e, "0") == 0);
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  int local = 1;
  for (const char* v : {"MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"})
    if (const char* x = std::getenv(v); x && std::atoi(x) > 0) {
      local = std::atoi(x);
      break;
    }
  return SpinPolicy(client_spin(), adapt, cpus, local);
}

Clock::duration SpinPolicy::window(int others) const {
  if (!adapt_) return cap_;
  if (local_ranks_ > cpus_ || others >= std::max(1, cpus_ - 1)) return Clock::duration::zero();
  return window_;
}

void SpinPolicy::record(Clock::duration gap) {
  if (!adapt_) return;
  // A gap shorter than the floor (a rendezvous step, a send's completion right after the
  // request) is caught by any poll and says nothing about how long the server takes.
  if (gap < kSpinFloor) return;
  avg_ += (gap - avg_) / 4;
  Clock::duration target = Clock::duration::zero();
  if (avg_ <= cap_) target = std::min(cap_, 2 * avg_ + kSpinFloor);
  if (window_ > Clock::duration::zero() && gap > window_) {
    const Clock::duration half = window_ / 2;
    window_ = std::min(target, half < kSpinFloor ? Clock::duration::zero() : half);
  } else {
    window_ = target;
  }
}

void Call::prepare(int t, uint64_t seq) {
  tag = t;
  done = false;
  reply_received = false;
  local_error = Status::OK();
  rep = ReplyHeader{};
  payload.clear();
  err_msg.clear();
  hdr = RequestHeader{kMagic,
                      kProtocolVersion,
                      static_cast<uint16_t>(op),
                      tag,
                      static_cast<uint32_t>(body.size()),
                      seq,
                      0};
  deadline = deadline_after(rpc_timeout());
}

Clock::time_point deadline_after(Clock::duration d) {
  const Clock::time_point now = Clock::now();
  return d >= Clock::time_point::max() - now ? Clock::time_point::max() : now + d;
}

Status Transport::call(Call* c) {
  start(c);
  wait(&c, 1);
  if (c->op == Op::kLock && !c->reply_received && c->tag != 0) {
    Reader r(c->body.data(), c->body.size());
    const std::string key = r.str();
    if (r.ok()) {
      Call cancel;
      cancel.server = c->server;
      cancel.op = Op::kLockCancel;
      Writer w;
      w.str(key).put<int32_t>(c->tag);
      cancel.body = w.take();
      start(&cancel);
      // Best effort, bounded: a server that did not answer the lock may not answer this.
      cancel.deadline = std::min(cancel.deadline, deadline_after(kLockCancelWait));
      Call* cp = &cancel;
      wait(&cp, 1);
    }
  }
  return c->status();
}

void wait_rounds(const std::function<bool(bool*)>& round) {
  Backoff bo;
  for (;;) {
    bool progressed = false;
    if (round(&progressed)) return;
    if (progressed)
      bo.reset();
    else
      bo.pause();
  }
}

int thread_wake_fd() {
  struct Fd {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ~Fd() {
      if (fd >= 0) close(fd);
    }
  };
  thread_local Fd f;
  return f.fd;
}

void poll_then_sleep(std::unique_lock<std::mutex>& lk, int* pollers,
                     const std::function<bool(bool*)>& round,
                     const std::function<void(Clock::time_point)>& sleep) {
  thread_local SpinPolicy policy = SpinPolicy::from_environment();
  Clock::time_point last = Clock::now();
  bool polling = false;  // counted in *pollers
  auto stop_polling = [&] {
    if (polling) --*pollers;
    polling = false;
  };
  for (;;) {
    bool progressed = false;
    if (round(&progressed)) {
      stop_polling();
      policy.record(Clock::now() - last);
      return;
    }
    const Clock::time_point now = Clock::now();
    if (progressed) {
      policy.record(now - last);
      last = now;
      continue;
    }
    if (now - last < policy.window(*pollers - (polling ? 1 : 0))) {
      // Other threads may use the endpoint meanwhile, and on a full machine the core goes to
      // whoever is runnable (the server thread that will answer): a spin that only polled cost
      // the quiet 2-core VM a third of IOR-hard's rates against the yielding wait before it.
      if (!polling) ++*pollers;
      polling = true;
      lk.unlock();
      sched_yield();
      lk.lock();
      continue;
    }
    stop_polling();
    sleep(now);
  }
}

bool test_calls(Call* const* calls, size_t n, const std::function<bool(Call*)>& test,
                bool* progressed) {
  bool all = true;
  for (size_t i = 0; i < n; ++i) {
    if (calls[i]->done) continue;
    if (test(calls[i]))
      *progressed = true;
    else
      all = false;
  }
  return all;
}

bool settle_call(Call* c, bool sends_in_flight, const std::function<void(Call*)>& abandon) {
  if (c->local_error.ok() && c->reply_received && !sends_in_flight) {
    c->finish();
    return true;
  }
  if (!c->local_error.ok() || (!c->reply_received && Clock::now() >= c->deadline)) {
    if (c->local_error.ok()) c->time_out();
    abandon(c);
    return true;
  }
  return false;
}

int sleep_ms(Clock::time_point deadline, Clock::time_point now, bool sending) {
  long ms = 1000;
  if (deadline != Clock::time_point::max())
    ms = std::min<long>(ms, std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
  if (sending) ms = std::min<long>(ms, 1);
  return static_cast<int>(std::max<long>(ms, 0));
}

void Call::time_out() {
  const double s = std::chrono::duration<double>(rpc_timeout()).count();
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "no reply from server rank %d to op %u within %g s (EDAOS_RPC_TIMEOUT): peer "
                "dead or silent",
                server, static_cast<unsigned>(op), s);
  local_error = Status(EDAOS_UNREACH, buf);
}

void Call::take_reply(const char* buf, size_t n) {
  if (n < sizeof(ReplyHeader)) {
    local_error = Status(EDAOS_PROTO, "short reply");
    return;
  }
  std::memcpy(&rep, buf, sizeof rep);
  const char* rest = buf + sizeof rep;
  const size_t len = n - sizeof rep;
  if (rep.status != EDAOS_OK)
    err_msg.assign(rest, std::min<size_t>(len, rep.msg_len));
  else
    payload.assign(rest, len);
}

void Call::take_reply_scattered(const char* buf, size_t n) {
  reply_received = true;
  if (bulk_in.empty() || n < sizeof(ReplyHeader)) {
    take_reply(buf, n);
    return;
  }
  std::memcpy(&rep, buf, sizeof rep);
  const char* p = buf + sizeof rep;
  size_t left = n - sizeof rep;
  if (rep.status != EDAOS_OK) {
    err_msg.assign(p, std::min<size_t>(left, rep.msg_len));
    return;
  }
  for (const IoVec& v : bulk_in) {
    if (!left) break;
    const size_t k = std::min(left, v.len);
    std::memcpy(v.base, p, k);
    p += k;
    left -= k;
  }
  if (left) local_error = Status(EDAOS_PROTO, "reply larger than the call's buffers");
}

void Call::take_bulk_reply(size_t bytes) {
  reply_received = true;
  if (bytes < sizeof(ReplyHeader)) {
    local_error = Status(EDAOS_PROTO, "short reply");
    return;
  }
  if (rep.status == EDAOS_OK || rep.msg_len == 0) return;
  size_t want = std::min<size_t>(rep.msg_len, bytes - sizeof(ReplyHeader));
  for (const IoVec& v : bulk_in) {
    if (want == 0) break;
    const size_t k = std::min(want, v.len);
    err_msg.append(static_cast<const char*>(v.base), k);
    want -= k;
  }
}

void Call::finish() {
  done = true;
  ts.reset();
  if (rep.status != EDAOS_OK && err_msg.empty()) err_msg = edaos_status_describe(rep.status);
}

Status Call::status() const {
  if (!local_error.ok()) return local_error;
  if (rep.status == EDAOS_OK) return Status::OK();
  return Status(static_cast<edaos_status_t>(rep.status), err_msg);
}

std::string make_reply(const Status& st, uint64_t value, uint64_t value2,
                       std::string_view payload) {
  ReplyHeader h{};
  h.status = st.code();
  h.value = value;
  h.value2 = value2;
  std::string out(sizeof h, '\0');
  if (!st.ok()) {
    h.msg_len = static_cast<uint32_t>(st.message().size());
    std::memcpy(out.data(), &h, sizeof h);
    out += st.message();
    return out;
  }
  h.payload_len = payload.size();
  std::memcpy(out.data(), &h, sizeof h);
  out.append(payload.data(), payload.size());
  return out;
}

Buffer SparePool::take(size_t n) {
  Buffer b;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // The smallest spare that is large enough; else a new buffer.
    size_t best = spare_.size();
    for (size_t i = 0; i < spare_.size(); ++i)
      if (spare_[i].capacity() >= n &&
          (best == spare_.size() || spare_[i].capacity() < spare_[best].capacity()))
        best = i;
    if (best < spare_.size()) {
      bytes_ -= spare_[best].capacity();
      b = std::move(spare_[best]);
      spare_.erase(spare_.begin() + static_cast<std::ptrdiff_t>(best));
    }
  }
  b.resize(0);
  b.resize(n);
  return b;
}

void SparePool::give(Buffer b) {
  if (b.capacity() == 0 || b.capacity() > kMaxSpareBytes) return;
  std::lock_guard<std::mutex> lk(mu_);
  while (!spare_.empty() &&
         (spare_.size() >= kMaxSpare || bytes_ + b.capacity() > kMaxSpareBytes)) {
    bytes_ -= spare_.front().capacity();  // the oldest goes
    spare_.erase(spare_.begin());
  }
  bytes_ += b.capacity();
  spare_.push_back(std::move(b));
}

}  // namespace edaos::objstore::rpc

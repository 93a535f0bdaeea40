#include "rpc/transport_ucx.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/log.hpp"

EDAOS_LOG_FACILITY(rpc);

namespace edaos::objstore::rpc {

namespace {

// Tag layout: kind (3 bits) | sender's job rank (29 bits, requests) | id (32 bits: a split
// request's id, or the call's reply tag). A message of more than kUcxSplit payload bytes is
// split: its head (headers, body) and its payload travel as two messages, so the payload is
// one contiguous buffer on both sides and UCX can move it by zero-copy rendezvous (CMA on one
// node) instead of packing an iovec through bounce buffers.
enum : uint64_t { kReqRest = 1, kReq = 2, kReqSplit = 3, kRep = 4, kRepSplit = 5, kRepRest = 6 };
constexpr int kKindShift = 61;
uint64_t make_tag(uint64_t kind, int rank, uint32_t id) {
  return kind << kKindShift | uint64_t{static_cast<uint32_t>(rank) & 0x1fffffffu} << 32 | id;
}
uint64_t kind_of(uint64_t tag) { return tag >> kKindShift; }
int rank_of(uint64_t tag) { return static_cast<int>((tag >> 32) & 0x1fffffffu); }
uint32_t id_of(uint64_t tag) { return static_cast<uint32_t>(tag); }
constexpr uint64_t kRequestMask = uint64_t{3} << 62;               // kReq or kReqSplit
constexpr uint64_t kReplyHeadMask = ~(uint64_t{1} << kKindShift);  // kRep or kRepSplit
constexpr uint64_t kExact = ~uint64_t{0};
constexpr size_t kUcxSplit = size_t{16} << 10;
// A reply head receive holds any unsplit reply.
constexpr size_t kReplyHeadMax = sizeof(ReplyHeader) + kUcxSplit;
// A split reply's head is its ReplyHeader alone (the whole payload follows), or, for a reply
// with a data section (Transport::reply with data_off/data_len), [ReplyHeader, u64 data_off,
// u64 data_len, the payload before the section, the payload after it]: only the section
// follows, received straight into the caller's bytes at data_off.
constexpr size_t kSectionHead = sizeof(ReplyHeader) + 2 * sizeof(uint64_t);

// How long an ended call waits for UCX to give its buffers back (cancel, forced close).
constexpr Clock::duration kCancelWait = std::chrono::seconds(2);

// The UCX side of one call.
struct UcxCall final : CallState {
  std::vector<ucp_dt_iov_t> siov, siov2, riov;  // described to UCX: live until the ops end
  void* sreq = nullptr;                         // the request (or its head) send, while in flight
  void* sreq2 = nullptr;                        // a split request's payload send
  void* rreq = nullptr;                         // the reply receive in progress (head, then rest)
  bool rest = false;                            // rreq receives a split reply's payload
  bool section = false;                         // ... or only its data section
  size_t section_len = 0;
  Buffer head;       // the reply head (an unsplit reply whole)
  std::string rbuf;  // a split reply's payload when the call has no bulk_in
};

UcxCall* state(Call* c) { return static_cast<UcxCall*>(c->ts.get()); }

ucp_request_param_t dt_param(size_t pieces, bool always_request) {
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_DATATYPE | (always_request ? UCP_OP_ATTR_FLAG_NO_IMM_CMPL : 0);
  p.datatype = pieces == 1 ? ucp_dt_make_contig(1) : ucp_dt_make_iov();
  return p;
}

// Buffer and count for a UCX call over `iov`: the one piece itself, else the iovec.
const void* dt_buffer(const std::vector<ucp_dt_iov_t>& iov) {
  return iov.size() == 1 ? iov[0].buffer : static_cast<const void*>(iov.data());
}
size_t dt_count(const std::vector<ucp_dt_iov_t>& iov) {
  return iov.size() == 1 ? iov[0].length : iov.size();
}

// EDAOS_TEST_FAULT=ucx-stop-after-head (tests only, objstore/README.md "Faults"): a split reply
// stops its process (SIGSTOP) once its head is sent, before its payload.
bool stop_after_head() {
  const char* f = std::getenv("EDAOS_TEST_FAULT");
  return f && std::strcmp(f, "ucx-stop-after-head") == 0;
}
// EDAOS_TEST_FAULT=ucx-stop-before-rest (tests only): a split request stops its process
// (SIGSTOP) once its head is sent, before its payload.
bool stop_before_rest() {
  const char* f = std::getenv("EDAOS_TEST_FAULT");
  return f && std::strcmp(f, "ucx-stop-before-rest") == 0;
}

Status ucx_error(edaos_status_t code, const std::string& what, ucs_status_t st) {
  return Status(code, "UCX: " + what + ": " + ucs_status_string(st));
}

// Copies `n` bytes into the byte stream `into` describes, starting at stream offset `off`.
// False when the stream is shorter than off + n.
bool scatter_at(const std::vector<IoVec>& into, size_t off, const char* src, size_t n) {
  for (const IoVec& v : into) {
    if (n == 0) return true;
    if (off >= v.len) {
      off -= v.len;
      continue;
    }
    const size_t k = std::min(n, v.len - off);
    std::memcpy(static_cast<char*>(v.base) + off, src, k);
    src += k;
    n -= k;
    off = 0;
  }
  return n == 0;
}

// The pieces of stream `into` that hold bytes [off, off + n), adjacent pieces joined (one piece:
// a contiguous receive). Empty when the stream is shorter.
std::vector<ucp_dt_iov_t> pieces_at(const std::vector<IoVec>& into, size_t off, size_t n) {
  std::vector<ucp_dt_iov_t> out;
  for (const IoVec& v : into) {
    if (n == 0) break;
    if (off >= v.len) {
      off -= v.len;
      continue;
    }
    char* b = static_cast<char*>(v.base) + off;
    const size_t k = std::min(n, v.len - off);
    if (!out.empty() && static_cast<char*>(out.back().buffer) + out.back().length == b)
      out.back().length += k;
    else
      out.push_back({b, k});
    n -= k;
    off = 0;
  }
  if (n != 0) out.clear();
  return out;
}

}  // namespace

// A thread sleeping in sleep_locked: the server thread (waiting for requests) or a client thread
// (waiting for `calls`).
struct UcxTransport::Sleeper {
  Call* const* calls = nullptr;
  size_t n = 0;
  bool server = false;
  int wake_fd = thread_wake_fd();
  bool woken = false;  // its wake fd was written (drained when it wakes)
};

// A request the server thread is receiving: a large one still moving (rendezvous), or a split
// one whose payload has not come yet. Completed by later progress while the thread serves
// others; handed out by wait_request once whole (and after the earlier ones of its sender).
struct UcxTransport::Arriving {
  Incoming in;
  uint64_t tag = 0;     // the head's sender tag
  void* req = nullptr;  // the receive in progress (the head, then the payload)
  bool rest = false;    // the head is in; the payload of a split request is awaited or moving
  bool done = false;    // whole
  bool failed = false;  // lost (an error or a stalled sender): dropped
  Clock::time_point born, limit;
};

struct UcxTransport::Pending {
  void* req = nullptr;
  void* req2 = nullptr;  // a split reply's payload send
  std::string buf;       // the reply's bytes (or bulk): owned until the sends end
  Buffer bulk;
};

std::unique_ptr<UcxTransport> UcxTransport::open(int rank, Status* err) {
  std::unique_ptr<UcxTransport> t(new UcxTransport());
  t->rank_ = rank;
  // UCX 1.13 leaves its shared-memory transports (sysv, posix, cma) out of endpoints with
  // peer error handling: opt-in only, for jobs that want a killed peer detected (tcp/verbs).
  const char* pe = std::getenv("EDAOS_UCX_PEER_ERRORS");
  t->peer_errors_ = pe && std::strcmp(pe, "1") == 0;
  ucp_config_t* cfg = nullptr;
  ucs_status_t st = ucp_config_read(nullptr, nullptr, &cfg);
  if (st != UCS_OK) {
    *err = ucx_error(EDAOS_NOTSUP, "cannot read the configuration (UCX_* variables)", st);
    return nullptr;
  }
  ucp_params_t p{};
  p.field_mask = UCP_PARAM_FIELD_FEATURES;
  p.features = UCP_FEATURE_TAG | UCP_FEATURE_WAKEUP;
  st = ucp_init(&p, cfg, &t->ctx_);
  ucp_config_release(cfg);
  if (st != UCS_OK) {
    t->ctx_ = nullptr;
    *err = ucx_error(EDAOS_NOTSUP, "cannot initialise", st);
    return nullptr;
  }
  ucp_worker_params_t wp{};
  wp.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  wp.thread_mode = UCS_THREAD_MODE_SERIALIZED;  // every call is under mu_
  st = ucp_worker_create(t->ctx_, &wp, &t->worker_);
  if (st != UCS_OK) {
    t->worker_ = nullptr;
    *err = ucx_error(EDAOS_NOTSUP, "cannot create a worker", st);
    return nullptr;
  }
  st = ucp_worker_get_efd(t->worker_, &t->efd_);
  if (st != UCS_OK) {
    *err = ucx_error(EDAOS_NOTSUP, "the worker has no event fd", st);
    return nullptr;
  }
  ucp_address_t* a = nullptr;
  size_t n = 0;
  st = ucp_worker_get_address(t->worker_, &a, &n);
  if (st != UCS_OK) {
    *err = ucx_error(EDAOS_NOTSUP, "cannot get the worker address", st);
    return nullptr;
  }
  t->addr_.assign(reinterpret_cast<const char*>(a), n);
  ucp_worker_release_address(t->worker_, a);
  return t;
}

UcxTransport::~UcxTransport() {
  if (worker_) {
    std::lock_guard<std::mutex> lk(mu_);
    // Replies still in flight get a bounded time, then every endpoint is closed; a forced
    // close completes what is left (cancelled) before the worker goes.
    const Clock::time_point limit = Clock::now() + kCancelWait;
    while (!pending_.empty() && Clock::now() < limit) {
      progress_locked();
      reap_locked();
      if (!pending_.empty()) sched_yield();
    }
    for (size_t r = 0; r < eps_.size(); ++r) drop_ep_locked(static_cast<int>(r));
    progress_locked();
    for (auto& p : pending_)
      for (void* r : {p->req, p->req2})
        if (r) ucp_request_free(r);
    pending_.clear();
    for (auto& st : stuck_) {
      auto* u = static_cast<UcxCall*>(st.get());
      for (void* r : {u->sreq, u->sreq2, u->rreq})
        if (r) ucp_request_free(r);
    }
    stuck_.clear();
    for (auto& a : arriving_)
      if (a->req) {
        ucp_request_cancel(worker_, a->req);
        if (!end_request_locked(&a->req, nullptr, nullptr, Clock::now() + kCancelWait))
          a->in.buf.leak();  // UCX may still write it
      }
    arriving_.clear();
    ucp_worker_destroy(worker_);
  }
  if (ctx_) ucp_cleanup(ctx_);
}

void UcxTransport::set_peers(std::vector<std::string> addrs) {
  std::lock_guard<std::mutex> lk(mu_);
  peers_ = std::move(addrs);
  eps_.assign(peers_.size(), nullptr);
  ep_failed_.assign(peers_.size(), 0);
}

void UcxTransport::on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status) {
  // Runs inside ucp_worker_progress, so under mu_. The endpoint is replaced on its next use.
  auto* t = static_cast<UcxTransport*>(arg);
  for (size_t r = 0; r < t->eps_.size(); ++r)
    if (t->eps_[r] == ep) {
      t->ep_failed_[r] = 1;
      EDAOS_LOG(warn, "UCX: connection to rank %zu failed: %s", r, ucs_status_string(status));
    }
}

ucp_ep_h UcxTransport::ep_locked(int rank) {
  if (rank < 0 || static_cast<size_t>(rank) >= peers_.size()) return nullptr;
  if (ep_failed_[static_cast<size_t>(rank)]) drop_ep_locked(rank);
  ucp_ep_h& ep = eps_[static_cast<size_t>(rank)];
  if (!ep) {
    ucp_ep_params_t p{};
    p.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    p.address = reinterpret_cast<const ucp_address_t*>(peers_[static_cast<size_t>(rank)].data());
    if (peer_errors_) {
      p.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
      p.err_mode = UCP_ERR_HANDLING_MODE_PEER;
      p.err_handler.cb = &UcxTransport::on_ep_error;
      p.err_handler.arg = this;
    }
    ucs_status_t st = ucp_ep_create(worker_, &p, &ep);
    if (st != UCS_OK) {
      EDAOS_LOG(warn, "UCX: cannot connect to rank %d: %s", rank, ucs_status_string(st));
      ep = nullptr;
    }
  }
  return ep;
}

// Closes rank's endpoint. With peer error handling the close is forced: its operations still
// in flight end as cancelled at once. Without it a forced close is undefined for the peer, so
// the endpoint is flushed (bounded by kCancelWait).
void UcxTransport::drop_ep_locked(int rank) {
  ucp_ep_h& ep = eps_[static_cast<size_t>(rank)];
  ep_failed_[static_cast<size_t>(rank)] = 0;
  if (!ep) return;
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
  p.flags = peer_errors_ ? UCP_EP_CLOSE_FLAG_FORCE : 0;
  void* r = ucp_ep_close_nbx(ep, &p);
  ep = nullptr;
  if (UCS_PTR_IS_PTR(r)) end_request_locked(&r, nullptr, nullptr, Clock::now() + kCancelWait);
}

unsigned UcxTransport::progress_locked() {
  unsigned events = 0, k;
  while ((k = ucp_worker_progress(worker_)) != 0) events += k;
  return events;
}

// Progresses until request *req ends or `limit` passes. Ended: frees it, sets *req to null,
// stores its status (and a receive's info when `info`), returns true.
bool UcxTransport::end_request_locked(void** req, ucs_status_t* st, ucp_tag_recv_info_t* info,
                                      Clock::time_point limit) {
  for (;;) {
    ucs_status_t s;
    if (info) {
      ucp_tag_recv_info_t i{};
      s = ucp_tag_recv_request_test(*req, &i);
      if (s != UCS_INPROGRESS) *info = i;
    } else {
      s = ucp_request_check_status(*req);
    }
    if (s != UCS_INPROGRESS) {
      ucp_request_free(*req);
      *req = nullptr;
      if (st) *st = s;
      return true;
    }
    if (Clock::now() >= limit) return false;
    progress_locked();
  }
}

// Sends `iov` (one piece: contiguous) on `tag`; *req gets the request while in flight.
Status UcxTransport::send_locked(ucp_ep_h ep, const std::vector<ucp_dt_iov_t>& iov, uint64_t tag,
                                 void** req) {
  ucp_request_param_t p = dt_param(iov.size(), false);
  void* s = ucp_tag_send_nbx(ep, dt_buffer(iov), dt_count(iov), tag, &p);
  if (UCS_PTR_IS_ERR(s)) return ucx_error(EDAOS_UNREACH, "send failed", UCS_PTR_STATUS(s));
  *req = s;  // null: already sent
  return Status::OK();
}

// Posts a receive of `tag` (under `mask`) into `iov`; *req gets the request.
Status UcxTransport::recv_locked(const std::vector<ucp_dt_iov_t>& iov, uint64_t tag, uint64_t mask,
                                 void** req) {
  ucp_request_param_t p = dt_param(iov.size(), true);
  void* r =
      ucp_tag_recv_nbx(worker_, const_cast<void*>(dt_buffer(iov)), dt_count(iov), tag, mask, &p);
  if (UCS_PTR_IS_ERR(r))
    return ucx_error(EDAOS_UNREACH, "cannot post a receive", UCS_PTR_STATUS(r));
  *req = r;
  return Status::OK();
}

void UcxTransport::start(Call* c) {
  std::lock_guard<std::mutex> lk(mu_);
  c->prepare(kFirstReplyTag + static_cast<int>(tag_seq_++ % (INT_MAX - kFirstReplyTag)), seq_++);
  c->ts = std::make_unique<UcxCall>();
  UcxCall* u = state(c);
  ucp_ep_h ep = ep_locked(c->server);
  if (!ep) {
    c->local_error =
        Status(EDAOS_UNREACH, "UCX: no endpoint for rank " + std::to_string(c->server));
    return;
  }
  // Reply head first, so the server's answer always finds a posted receive.
  u->head.resize(kReplyHeadMax);
  u->riov.assign(1, {u->head.data(), kReplyHeadMax});
  c->local_error = recv_locked(u->riov, make_tag(kRep, 0, static_cast<uint32_t>(c->tag)),
                               kReplyHeadMask, &u->rreq);
  if (!c->local_error.ok()) return;
  u->siov.push_back({&c->hdr, sizeof c->hdr});
  if (!c->body.empty()) u->siov.push_back({c->body.data(), c->body.size()});
  std::vector<ucp_dt_iov_t> bulk;
  size_t bulk_bytes = 0;
  for (auto& v : c->bulk_out)
    if (v.len) {
      bulk.push_back({const_cast<void*>(v.base), v.len});
      bulk_bytes += v.len;
    }
  if (bulk_bytes <= kUcxSplit) {
    u->siov.insert(u->siov.end(), bulk.begin(), bulk.end());
    c->local_error = send_locked(ep, u->siov, make_tag(kReq, rank_, 0), &u->sreq);
  } else {
    const uint32_t id = id_seq_++;
    c->local_error = send_locked(ep, u->siov, make_tag(kReqSplit, rank_, id), &u->sreq);
    if (c->local_error.ok() && stop_before_rest()) {
      // Test only: a client that stops between its request's head and payload (the server
      // must keep serving the others meanwhile).
      if (u->sreq) end_request_locked(&u->sreq, nullptr, nullptr, Clock::now() + kCancelWait);
      raise(SIGSTOP);
    }
    u->siov2 = std::move(bulk);
    if (c->local_error.ok())
      c->local_error = send_locked(ep, u->siov2, make_tag(kReqRest, rank_, id), &u->sreq2);
  }
  if (!c->local_error.ok())
    c->local_error = Status(c->local_error.code(), "request to rank " + std::to_string(c->server) +
                                                       ": " + c->local_error.message());
}

// Ends a failed or timed-out call: its receive is cancelled. Sends still in flight: with peer
// error handling the endpoint is closed (forced), which cancels them; without it they stay
// owned by the transport (stuck_) until UCX completes them, like the other transports' (the
// caller's bulk_out may still be read if the peer resumes).
void UcxTransport::abandon_locked(Call* c) {
  UcxCall* u = state(c);
  const Clock::time_point limit = Clock::now() + kCancelWait;
  if (u->rreq) {
    ucp_request_cancel(worker_, u->rreq);
    if (!end_request_locked(&u->rreq, nullptr, nullptr, limit) && peer_errors_) {
      // Matched and still receiving from a silent peer: closing the connection ends it.
      drop_ep_locked(c->server);
      end_request_locked(&u->rreq, nullptr, nullptr, limit + kCancelWait);
    }
    if (u->rreq)
      EDAOS_LOG(error, "UCX: a reply receive from rank %d did not end after cancel", c->server);
  }
  for (void** s : {&u->sreq, &u->sreq2})
    if (*s && peer_errors_) {
      if (ucp_request_check_status(*s) == UCS_INPROGRESS) drop_ep_locked(c->server);
      end_request_locked(s, nullptr, nullptr, limit + kCancelWait);
    }
  if (u->rreq || u->sreq || u->sreq2) stuck_.push_back(std::move(c->ts));
  c->ts.reset();
  c->done = true;
}

// Returns true when the call has completed (reply received and sends finished, or failed).
bool UcxTransport::test_call_locked(Call* c) {
  if (c->done) return true;
  UcxCall* u = state(c);
  for (void** s : {&u->sreq, &u->sreq2}) {
    ucs_status_t st = UCS_OK;
    if (c->local_error.ok() && *s &&
        end_request_locked(s, &st, nullptr, Clock::time_point::min()) && st != UCS_OK)
      c->local_error =
          ucx_error(EDAOS_UNREACH, "request to rank " + std::to_string(c->server) + " failed", st);
  }
  ucp_tag_recv_info_t info{};
  ucs_status_t st = UCS_OK;
  if (c->local_error.ok() && !c->reply_received && u->rreq &&
      end_request_locked(&u->rreq, &st, &info, Clock::time_point::min())) {
    if (st == UCS_ERR_MESSAGE_TRUNCATED) {
      c->local_error = Status(EDAOS_PROTO, "reply larger than the call's buffers");
    } else if (st != UCS_OK) {
      c->local_error =
          ucx_error(EDAOS_UNREACH, "reply from rank " + std::to_string(c->server) + " failed", st);
    } else if (u->section) {
      // A reply's data section, after its head (rep and the other payload bytes) came.
      if (info.length != u->section_len)
        c->local_error = Status(EDAOS_PROTO, "reply data section of the wrong length");
      else if (c->bulk_in.empty())
        c->payload = std::move(u->rbuf);
      else
        c->take_bulk_reply(sizeof(ReplyHeader) + c->rep.payload_len);
      c->reply_received = true;
    } else if (u->rest) {
      // A split reply's payload, after its head (rep) came.
      if (c->bulk_in.empty())
        c->payload.assign(u->rbuf.data(), info.length);
      else
        c->take_bulk_reply(sizeof(ReplyHeader) + info.length);
      c->reply_received = true;
    } else if (kind_of(info.sender_tag) != kRepSplit) {
      c->take_reply_scattered(u->head.data(), info.length);
    } else if (info.length >= kSectionHead) {
      start_section_locked(c, info.length);
    } else if (info.length != sizeof(ReplyHeader)) {
      c->local_error = Status(EDAOS_PROTO, "bad split reply head");
    } else {
      // The payload follows: straight into bulk_in (one piece: contiguous, zero-copy
      // rendezvous), or, without bulk_in, into the payload once its length is known.
      std::memcpy(&c->rep, u->head.data(), sizeof c->rep);
      u->rest = true;
      const uint64_t tag = make_tag(kRepRest, 0, static_cast<uint32_t>(c->tag));
      if (!c->bulk_in.empty()) {
        u->riov.clear();
        for (auto& v : c->bulk_in)
          if (v.len) u->riov.push_back({v.base, v.len});
        if (u->riov.empty()) u->riov.push_back({u->head.data(), 0});
        c->local_error = recv_locked(u->riov, tag, kExact, &u->rreq);
      }
    }
  }
  if (c->local_error.ok() && u->rest && !u->rreq && !c->reply_received && c->bulk_in.empty()) {
    ucp_tag_recv_info_t pi{};
    const uint64_t tag = make_tag(kRepRest, 0, static_cast<uint32_t>(c->tag));
    if (ucp_tag_message_h msg = ucp_tag_probe_nb(worker_, tag, kExact, 1, &pi)) {
      u->rbuf.resize(pi.length);
      ucp_request_param_t p = dt_param(1, true);
      void* r = ucp_tag_msg_recv_nbx(worker_, u->rbuf.data(), pi.length, msg, &p);
      if (UCS_PTR_IS_ERR(r))
        c->local_error = ucx_error(EDAOS_UNREACH, "cannot receive the reply", UCS_PTR_STATUS(r));
      else
        u->rreq = r;
    }
  }
  return settle_call(c, u->sreq || u->sreq2, [this](Call* x) { abandon_locked(x); });
}

// A split reply's head with a data section came (`n` bytes in u->head): takes rep and the
// payload bytes around the section into bulk_in (or the payload), then receives the section
// in place: one contiguous receive when its bytes are one piece of the caller's memory.
void UcxTransport::start_section_locked(Call* c, size_t n) {
  UcxCall* u = state(c);
  const char* h = u->head.data();
  std::memcpy(&c->rep, h, sizeof c->rep);
  uint64_t off = 0, len = 0;
  std::memcpy(&off, h + sizeof(ReplyHeader), sizeof off);
  std::memcpy(&len, h + sizeof(ReplyHeader) + sizeof off, sizeof len);
  const uint64_t total = c->rep.payload_len, around = n - kSectionHead;
  if (c->rep.status != EDAOS_OK || off > total || len > total - off || around != total - len) {
    c->local_error = Status(EDAOS_PROTO, "bad split reply head");
    return;
  }
  std::vector<IoVec> one;
  if (c->bulk_in.empty()) {
    u->rbuf.resize(total);
    one.push_back(IoVec{u->rbuf.data(), total});
  }
  const std::vector<IoVec>& into = c->bulk_in.empty() ? one : c->bulk_in;
  const char* p = h + kSectionHead;
  u->riov = pieces_at(into, off, len);
  if (u->riov.empty() || !scatter_at(into, 0, p, off) ||
      !scatter_at(into, off + len, p + off, total - off - len)) {
    c->local_error = Status(EDAOS_PROTO, "reply larger than the call's buffers");
    return;
  }
  u->rest = u->section = true;
  u->section_len = len;
  c->local_error =
      recv_locked(u->riov, make_tag(kRepRest, 0, static_cast<uint32_t>(c->tag)), kExact, &u->rreq);
}

// Progresses and tests the calls. After the last progress the thread polls (yielding the core
// between polls) for the window its SpinPolicy gives, then sleeps on the worker's event fd (a
// reply wakes the thread: once per reply, with no other thread involved) until the earliest
// deadline of the calls (then test_call_locked times them out), at most 1 s, or 1 ms while a
// send of theirs is in flight (as the server's sleep: a send's progress may come with no
// event). Each gap between progress events (sleeps included) teaches the policy.
void UcxTransport::wait(Call* const* calls, size_t n) {
  Sleeper me;
  me.calls = calls;
  me.n = n;
  std::unique_lock<std::mutex> lk(mu_);
  poll_then_sleep(
      lk, &pollers_,
      [&](bool* progressed) {
        progress_locked();
        if (test_calls(
                calls, n, [this](Call* c) { return test_call_locked(c); }, progressed))
          return true;
        // A test may have posted a receive (a split reply's rest) that has work to progress.
        if (!*progressed && ucp_worker_progress(worker_) != 0) *progressed = true;
        return false;
      },
      [&](Clock::time_point now) {
        Clock::time_point deadline = Clock::time_point::max();
        bool sending = false;
        for (size_t i = 0; i < n; ++i) {
          Call* c = calls[i];
          if (c->done) continue;
          deadline = std::min(deadline, c->deadline);
          const UcxCall* u = state(c);
          if (u && (u->sreq || u->sreq2)) sending = true;
        }
        sleep_locked(lk, &me, sleep_ms(deadline, now, sending));
      });
}

bool UcxTransport::has_news_locked(const Sleeper& s) {
  if (s.server) {
    ucp_tag_recv_info_t info{};
    if (ucp_tag_probe_nb(worker_, make_tag(kReq, 0, 0), kRequestMask, 0, &info)) return true;
    for (const auto& a : arriving_) {  // a request it is receiving moved on
      if (a->req && ucp_request_check_status(a->req) != UCS_INPROGRESS) return true;
      if (a->rest && !a->req && !a->done &&
          ucp_tag_probe_nb(worker_, make_tag(kReqRest, a->in.source, id_of(a->tag)), kExact, 0,
                           &info))
        return true;
    }
    return false;
  }
  for (size_t i = 0; i < s.n; ++i) {
    Call* c = s.calls[i];
    if (c->done || !c->ts) continue;
    const UcxCall* u = state(c);
    for (void* r : {u->sreq, u->sreq2, u->rreq})
      if (r && ucp_request_check_status(r) != UCS_INPROGRESS) return true;
    if (u->rest && !u->rreq && !c->reply_received) {  // a split reply's rest, probed
      ucp_tag_recv_info_t info{};
      const uint64_t tag = make_tag(kRepRest, 0, static_cast<uint32_t>(c->tag));
      if (ucp_tag_probe_nb(worker_, tag, kExact, 0, &info)) return true;
    }
  }
  return false;
}

void UcxTransport::wake_others_locked(const Sleeper* self) {
  for (Sleeper* s : sleepers_) {
    if (s == self || s->woken || !has_news_locked(*s)) continue;
    const uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof one) == sizeof one) s->woken = true;
  }
}

bool UcxTransport::sleep_locked(std::unique_lock<std::mutex>& lk, Sleeper* me, int ms) {
  // Before the arm drains the worker's event fd: whoever sleeps and has news is woken.
  wake_others_locked(me);
  if (ucp_worker_arm(worker_) == UCS_ERR_BUSY) return false;  // events came in: progress
  if (me->wake_fd < 0) ms = std::min(ms, 1);  // nobody can wake this thread: keep it short
  sleepers_.push_back(me);
  lk.unlock();
  pollfd pfd[2] = {{efd_, POLLIN, 0}, {me->wake_fd, POLLIN, 0}};
  poll(pfd, me->wake_fd >= 0 ? 2 : 1, ms);
  lk.lock();
  sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), me));
  if (me->woken) {
    uint64_t v = 0;
    if (read(me->wake_fd, &v, sizeof v) < 0) {
      // EAGAIN only (non-blocking, written once): nothing to drain.
    }
    me->woken = false;
  }
  return true;
}

// Posts the receive of probed message `msg` (`len` bytes) at `dst`; *req gets the request.
ucs_status_t UcxTransport::recv_msg_locked(ucp_tag_message_h msg, char* dst, size_t len,
                                           void** req) {
  ucp_request_param_t p = dt_param(1, true);
  void* r = ucp_tag_msg_recv_nbx(worker_, dst, len, msg, &p);
  if (UCS_PTR_IS_ERR(r)) return UCS_PTR_STATUS(r);
  *req = r;
  return UCS_OK;
}

// Moves `a` on as far as the worker's state allows: ends its receive, starts a split request's
// payload receive once that message is there. Sets a.done or a.failed; a sender that stalls
// past a.limit (the RPC timeout from the head's arrival) loses its request: the receive is
// cancelled (with peer error handling its connection is closed), and a buffer UCX may still
// write is left to it.
void UcxTransport::advance_locked(Arriving& a) {
  for (;;) {
    ucs_status_t st = UCS_OK;
    if (a.req) {
      if (!end_request_locked(&a.req, &st, nullptr, Clock::time_point::min())) break;
      if (st != UCS_OK) {
        EDAOS_LOG(warn, "UCX: request from rank %d lost: %s", a.in.source, ucs_status_string(st));
        a.failed = true;
        return;
      }
      if (a.rest || kind_of(a.tag) != kReqSplit) {
        a.done = true;
        return;
      }
      a.rest = true;
    }
    // A split request's payload follows as its own message: into the buffer after the head.
    const uint64_t rest = make_tag(kReqRest, a.in.source, id_of(a.tag));
    ucp_tag_recv_info_t ri{};
    ucp_tag_message_h rm = ucp_tag_probe_nb(worker_, rest, kExact, 1, &ri);
    if (!rm) break;
    const size_t at = a.in.buf.size();
    a.in.buf.resize(at + ri.length);
    st = recv_msg_locked(rm, a.in.buf.data() + at, ri.length, &a.req);
    if (st != UCS_OK) {
      EDAOS_LOG(warn, "UCX: request from rank %d lost: %s", a.in.source, ucs_status_string(st));
      a.failed = true;
      return;
    }
  }
  if (Clock::now() < a.limit) return;
  ucs_status_t st = UCS_ERR_TIMED_OUT;
  if (a.req) {
    ucp_request_cancel(worker_, a.req);
    if (peer_errors_) drop_ep_locked(a.in.source);
    end_request_locked(&a.req, &st, nullptr, Clock::now() + kCancelWait);
    if (a.req) {
      // UCX still owns the memory: the request and its buffer are left to it.
      a.req = nullptr;
      a.in.buf.leak();
    }
  }
  EDAOS_LOG(warn, "UCX: request from rank %d lost: %s", a.in.source,
            ucs_status_string(st == UCS_OK ? UCS_ERR_TIMED_OUT : st));
  a.failed = true;
}

// Session 9: the server thread waits as client threads do (poll_then_sleep): after the last
// progress (a request taken in, a reply's send moving on) it polls for its SpinPolicy's window
// before it sleeps, so the acknowledgement of a reply's section and the next request of a
// client calling back to back are caught without a wake-up; when requests come further apart
// than the cap ($EDAOS_RPC_SPIN_US) the window is 0 and it sleeps at once (idle: unchanged).
bool UcxTransport::wait_request(Incoming* in, Clock::time_point deadline) {
  std::unique_lock<std::mutex> lk(mu_);
  bool got = false, young = false;
  poll_then_sleep(
      lk, &pollers_,
      [&](bool* progressed) {
        if (progress_locked() > 0) *progressed = true;
        reap_locked();
        // Every request that came is taken in (up to kMaxArriving at once): a small one
        // usually completes at once, a large one moves on with later progress.
        ucp_tag_recv_info_t info{};
        while (arriving_.size() < kMaxArriving) {
          ucp_tag_message_h msg =
              ucp_tag_probe_nb(worker_, make_tag(kReq, 0, 0), kRequestMask, 1, &info);
          if (!msg) break;
          *progressed = true;
          auto a = std::make_unique<Arriving>();
          a->tag = info.sender_tag;
          a->in.source = rank_of(a->tag);
          a->in.buf = std::move(in->buf);  // the caller's buffer (its memory is reused) or none
          a->in.buf.resize(info.length);
          a->born = Clock::now();
          a->limit = deadline_after(rpc_timeout());
          const ucs_status_t st = recv_msg_locked(msg, a->in.buf.data(), info.length, &a->req);
          if (st != UCS_OK) {
            EDAOS_LOG(warn, "UCX: request from rank %d lost: %s", a->in.source,
                      ucs_status_string(st));
            continue;
          }
          arriving_.push_back(std::move(a));
        }
        // Hand out the first whole request whose sender has none still arriving before it (a
        // client's requests keep their order); drop the lost ones.
        young = false;
        for (size_t i = 0; i < arriving_.size();) {
          Arriving& a = *arriving_[i];
          if (!a.done) advance_locked(a);
          if (a.failed) {
            arriving_.erase(arriving_.begin() + static_cast<std::ptrdiff_t>(i));
            continue;
          }
          bool blocked = false;
          for (size_t j = 0; j < i && !blocked; ++j)
            blocked = arriving_[j]->in.source == a.in.source;
          if (a.done && !blocked) {
            in->source = a.in.source;
            in->buf = std::move(a.in.buf);
            if (in->buf.size() < sizeof(RequestHeader))
              in->hdr = RequestHeader{};
            else
              std::memcpy(&in->hdr, in->buf.data(), sizeof in->hdr);
            arriving_.erase(arriving_.begin() + static_cast<std::ptrdiff_t>(i));
            got = true;
            return true;
          }
          if (!a.done && Clock::now() - a.born < kArrivingYoung) young = true;
          ++i;
        }
        return Clock::now() >= deadline;
      },
      [&](Clock::time_point now) {
        // Sleep on the event fd. Replies in flight need progress that no incoming event may
        // announce (a socket that drains): then wake every millisecond until they are sent.
        // Requests still arriving are woken for by their messages (and by a client thread
        // whose progress moved them, has_news_locked); the timeout is a bound: 1 ms while one
        // is young, 10 ms for a sender that has stalled (its request is dropped at its RPC
        // timeout).
        Sleeper me;
        me.server = true;
        int ms = sleep_ms(deadline, now, !pending_.empty() || young);
        if (!arriving_.empty()) ms = std::min(ms, 10);
        sleep_locked(lk, &me, ms);
      });
  return got;
}

bool UcxTransport::reap_locked() {
  for (size_t i = 0; i < pending_.size();) {
    Pending& p = *pending_[i];
    ucs_status_t st = UCS_OK;
    for (void** r : {&p.req, &p.req2})
      if (*r) {
        ucs_status_t s = ucp_request_check_status(*r);
        if (s == UCS_INPROGRESS) {
          st = s;
          continue;
        }
        if (s != UCS_OK)
          EDAOS_LOG(warn, "UCX: a reply was not delivered: %s", ucs_status_string(s));
        ucp_request_free(*r);
        *r = nullptr;
      }
    if (st == UCS_INPROGRESS) {
      ++i;
      continue;
    }
    if (p.bulk.capacity() > 0) spare_.give(std::move(p.bulk));
    pending_[i] = std::move(pending_.back());
    pending_.pop_back();
  }
  for (size_t i = 0; i < stuck_.size();) {
    auto* u = static_cast<UcxCall*>(stuck_[i].get());
    for (void** r : {&u->sreq, &u->sreq2, &u->rreq})
      if (*r) end_request_locked(r, nullptr, nullptr, Clock::time_point::min());
    if (u->sreq || u->sreq2 || u->rreq) {
      ++i;
      continue;
    }
    stuck_[i] = std::move(stuck_.back());
    stuck_.pop_back();
  }
  return !pending_.empty();
}

// A reply of more than kReplyHeadMax bytes goes as its ReplyHeader (kRepSplit) and then its
// payload (kRepRest, contiguous: zero-copy rendezvous into the caller's buffer).
void UcxTransport::send_reply(int dest, int tag, std::unique_ptr<Pending> p, const void* data,
                              size_t n) {
  const char* d = static_cast<const char*>(data);
  if (n <= kReplyHeadMax)
    send_parts(dest, tag, std::move(p), d, n, nullptr, 0);
  else
    send_parts(dest, tag, std::move(p), d, sizeof(ReplyHeader), d + sizeof(ReplyHeader),
               n - sizeof(ReplyHeader));
}

// Sends a reply as `head` alone (kRep), or as `head` (kRepSplit) then `rest` (kRepRest) when
// rest_n > 0. Both stay owned by `p` until the sends end.
void UcxTransport::send_parts(int dest, int tag, std::unique_ptr<Pending> p, const char* head,
                              size_t head_n, const char* rest, size_t rest_n) {
  std::lock_guard<std::mutex> lk(mu_);
  ucp_ep_h ep = ep_locked(dest);
  if (!ep) {
    EDAOS_LOG(warn, "UCX: reply to rank %d dropped: no endpoint", dest);
    return;
  }
  const uint32_t id = static_cast<uint32_t>(tag);
  Status st;
  if (rest_n == 0) {
    st = send_locked(ep, {{const_cast<char*>(head), head_n}}, make_tag(kRep, 0, id), &p->req);
  } else {
    st = send_locked(ep, {{const_cast<char*>(head), head_n}}, make_tag(kRepSplit, 0, id), &p->req);
    if (st.ok() && stop_after_head()) {
      // Test only: a server that stops between the head and the payload (the caller must
      // report it as unreachable after the RPC timeout).
      if (p->req) end_request_locked(&p->req, nullptr, nullptr, Clock::now() + kCancelWait);
      raise(SIGSTOP);
    }
    if (st.ok())
      st =
          send_locked(ep, {{const_cast<char*>(rest), rest_n}}, make_tag(kRepRest, 0, id), &p->req2);
  }
  if (!st.ok()) EDAOS_LOG(warn, "UCX: reply to rank %d: %s", dest, st.message().c_str());
  if (p->req || p->req2) {
    pending_.push_back(std::move(p));
    // A sleeping wait_request re-sleeps with a short timeout (the progress thread's own
    // replies, sent while it is awake, need no wake-up).
    for (Sleeper* s : sleepers_)
      if (s->server && !s->woken) {
        const uint64_t one = 1;
        if (write(s->wake_fd, &one, sizeof one) == sizeof one) s->woken = true;
      }
    return;
  }
  if (p->bulk.capacity() > 0) spare_.give(std::move(p->bulk));
}

void UcxTransport::reply(int dest, int tag, std::string buf) {
  auto p = std::make_unique<Pending>();
  p->buf = std::move(buf);
  const void* d = p->buf.data();
  const size_t n = p->buf.size();
  send_reply(dest, tag, std::move(p), d, n);
}

Buffer UcxTransport::reply_buffer(size_t n) { return spare_.take(n); }

void UcxTransport::reply(int dest, int tag, Buffer buf) {
  auto p = std::make_unique<Pending>();
  p->bulk = std::move(buf);
  const void* d = p->bulk.data();
  const size_t n = p->bulk.size();
  send_reply(dest, tag, std::move(p), d, n);
}

void UcxTransport::reply(int dest, int tag, Buffer buf, size_t data_off, size_t data_len) {
  const size_t payload = buf.size() >= sizeof(ReplyHeader) ? buf.size() - sizeof(ReplyHeader) : 0;
  // Worth its own message only past the split size, and only when the bytes around it fit a
  // reply head receive; else the reply goes whole (split or not) as any other.
  if (data_off > payload || data_len > payload - data_off || data_len <= kUcxSplit ||
      kSectionHead + (payload - data_len) > kReplyHeadMax) {
    reply(dest, tag, std::move(buf));
    return;
  }
  auto p = std::make_unique<Pending>();
  const char* pay = buf.data() + sizeof(ReplyHeader);
  const uint64_t off = data_off, len = data_len;
  p->buf.reserve(kSectionHead + payload - data_len);
  p->buf.append(buf.data(), sizeof(ReplyHeader));
  p->buf.append(reinterpret_cast<const char*>(&off), sizeof off);
  p->buf.append(reinterpret_cast<const char*>(&len), sizeof len);
  p->buf.append(pay, data_off);
  p->buf.append(pay + data_off + data_len, payload - data_off - data_len);
  p->bulk = std::move(buf);
  const char* head = p->buf.data();
  const size_t head_n = p->buf.size();
  const char* section = p->bulk.data() + sizeof(ReplyHeader) + data_off;
  send_parts(dest, tag, std::move(p), head, head_n, section, data_len);
}

bool UcxTransport::progress_replies() {
  std::lock_guard<std::mutex> lk(mu_);
  progress_locked();
  return reap_locked();
}

}  // namespace edaos::objstore::rpc

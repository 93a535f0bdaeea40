#include "rpc/transport_ofi.hpp"

#include <poll.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>
#include <rdma/fi_tagged.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/backoff.hpp"
#include "common/log.hpp"

EDAOS_LOG_FACILITY(rpc);

namespace edaos::objstore::rpc {

namespace {

// A message up to this size (frame included) travels in its envelope, one tagged message.
constexpr size_t kOfiEager = size_t{64} << 10;
// Request envelopes a server keeps posted.
constexpr int kOfiSlots = 8;
// How long an ended call waits for libfabric to give its buffers back (cancel).
constexpr Clock::duration kCancelWait = std::chrono::seconds(2);

// Tag layout: kind (2 bits) | sender's job rank (30 bits) | id (32 bits: a rest's id, or the
// call's reply tag).
enum : uint64_t { kRepRest = 0, kReqEnv = 1, kRepEnv = 2, kReqRest = 3 };
uint64_t make_tag(uint64_t kind, int rank, uint32_t id) {
  return kind << 62 | (uint64_t{static_cast<uint32_t>(rank) & 0x3fffffffu} << 32) | id;
}
constexpr uint64_t kAnyRankAndId = (uint64_t{1} << 62) - 1;

// RMA (session 9): payloads of at least this many bytes move by fi_read / fi_write when the
// provider offers FI_RMA ($EDAOS_OFI_RMA_MIN overrides; "off": never). Measured on tcp
// (benchmarks/README.md "Session 9: native6"): from 16 KiB a read's reply by fi_write costs
// the server thread one wake-up and ~100 us of CPU against 1.3-3.9 and 155-175 us tagged, and
// a registration costs 0.1-0.2 us; below it the payload rides in the envelope anyway.
constexpr size_t kOfiRmaMin = size_t{16} << 10;
// At most this many registered pieces per direction of a call (else: tagged).
constexpr size_t kOfiRmaPieces = 4;
// How long the server waits for a request payload it reads by RMA: this plus 1 ms per 64 KiB
// (64 MiB/s), at most the RPC timeout.
constexpr Clock::duration kRmaFetchWait = std::chrono::seconds(2);
constexpr size_t kRmaFetchBytesPerMs = size_t{64} << 10;
// Offers kept at most (a request whose reply never comes leaves one; the oldest goes).
constexpr size_t kOfiMaxOffers = 4096;
// In Frame::rest: the envelope ends with RMA descriptors (requests), or the reply's payload
// (rest & ~kRmaFlag bytes) was written into the caller's offered buffers (replies).
constexpr uint64_t kRmaFlag = uint64_t{1} << 63;

// EDAOS_TEST_FAULT=ofi-stop-before-rest (tests only, objstore/README.md "Faults"): a request
// sent in two tagged messages stops its process (SIGSTOP) once its envelope is sent.
bool stop_before_rest() {
  const char* f = std::getenv("EDAOS_TEST_FAULT");
  return f && std::strcmp(f, "ofi-stop-before-rest") == 0;
}

// One registered piece, as named on the wire.
struct RmaDesc {
  uint64_t addr = 0;  // virtual address (FI_MR_VIRT_ADDR) or offset in the region (0)
  uint64_t key = 0;
  uint64_t len = 0;
};
// The last bytes of an envelope with kRmaFlag: nout pieces of the request's payload, then nin
// pieces offered for the reply's payload, then this trailer.
struct RmaTrailer {
  uint32_t nout = 0, nin = 0;
};
static_assert(sizeof(RmaDesc) == 24 && sizeof(RmaTrailer) == 8, "RMA wire structs");

uint64_t offer_key(int rank, int tag) {
  return uint64_t{static_cast<uint32_t>(rank)} << 32 | static_cast<uint32_t>(tag);
}

std::string fi_text(int err) { return fi_strerror(err < 0 ? -err : err); }

}  // namespace

// The head of every envelope.
struct OfiTransport::Frame {
  uint64_t rest = 0;  // bytes that follow as a second message; 0: the message follows here
  uint32_t id = 0;    // the rest's tag id (requests)
  int32_t src = 0;    // sender's job rank
};
static_assert(sizeof(OfiTransport::Frame) == 16, "Frame is a 16-byte wire header");

struct OfiTransport::Op {
  fi_context2 ctx;  // first: libfabric hands its address back in the completion
  Slot* slot = nullptr;
  Pending* owner = nullptr;  // an RMA write of this reply
  bool posted = false, done = false;
  bool deferred = false;  // a send the provider could not take yet (in deferred_)
  fi_addr_t to = FI_ADDR_UNSPEC;
  uint64_t tag = 0;
  int err = 0;     // fi_errno when the operation failed
  size_t len = 0;  // bytes received
  std::vector<iovec> iov;
  void reset() {
    posted = done = deferred = false;
    err = 0;
    len = 0;
  }
  bool busy() const { return posted && !done; }
};

struct OfiTransport::Slot {
  Op op;
  Buffer buf;
};

struct OfiTransport::Pending {
  Op env, rest;
  Frame frame;
  std::string buf;
  Buffer bulk, stage;
  // Where the reply goes and its bytes (in buf or bulk).
  int dest = -1, tag = 0;
  const char* data = nullptr;
  size_t n = 0;
  // RMA writes of the payload into the caller's offered buffers; the envelope is posted once
  // they all completed (head_posted), whole and tagged when one failed.
  Op rma[kOfiRmaPieces];
  size_t nrma = 0;
  bool rma_failed = false, head_posted = false;
  bool rma_busy() const {
    for (size_t i = 0; i < nrma; ++i)
      if (rma[i].busy()) return true;
    return false;
  }
};

namespace {

// The libfabric side of one call.
struct OfiCall final : CallState {
  OfiTransport::Op send_env, send_rest, recv_env, recv_rest;
  OfiTransport::Frame frame;
  // RMA: the regions of bulk_out / bulk_in, their descriptors + trailer (sent at the end of
  // the envelope), counted in *regions while open. Closed when the call ends.
  std::vector<fid_mr*> mrs;
  std::string rma_blob;
  int64_t* regions = nullptr;
  void close_regions() {
    for (fid_mr* m : mrs) fi_close(&m->fid);
    if (regions) *regions -= static_cast<int64_t>(mrs.size());
    mrs.clear();
  }
  ~OfiCall() override { close_regions(); }
  Buffer env;    // the reply envelope
  Buffer rest;   // the reply's rest when it cannot go straight to [rep, bulk_in]
  Buffer stage;  // the request packed, when it has more pieces than the provider's iov limit
  bool rest_direct = false;
  bool idle() const {
    return !send_env.busy() && !send_rest.busy() && !recv_env.busy() && !recv_rest.busy();
  }
};

OfiCall* state(Call* c) { return static_cast<OfiCall*>(c->ts.get()); }

}  // namespace

std::unique_ptr<OfiTransport> OfiTransport::open(int rank, Status* err) {
  fi_info* hints = fi_allocinfo();
  if (!hints) {
    *err = Status(EDAOS_NOMEM, "libfabric: fi_allocinfo failed");
    return nullptr;
  }
  size_t rma_min = kOfiRmaMin;
  if (const char* e = std::getenv("EDAOS_OFI_RMA_MIN"); e && *e) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(e, &end, 10);
    if (std::strcmp(e, "off") == 0)
      rma_min = 0;
    else if (end && *end == '\0' && v > 0)
      rma_min = static_cast<size_t>(v);
    else
      EDAOS_LOG(warn, "EDAOS_OFI_RMA_MIN='%s' is neither a byte count nor 'off': using %zu", e,
                rma_min);
  }
  hints->caps = FI_TAGGED | FI_RMA;
  hints->mode = FI_CONTEXT | FI_CONTEXT2;
  hints->ep_attr->type = FI_EP_RDM;
  hints->domain_attr->threading = FI_THREAD_DOMAIN;  // every call is under mu_
  hints->domain_attr->av_type = FI_AV_TABLE;
  // Registration modes this transport handles (not FI_MR_LOCAL: local buffers go undescribed).
  hints->domain_attr->mr_mode = FI_MR_VIRT_ADDR | FI_MR_ALLOCATED | FI_MR_PROV_KEY | FI_MR_ENDPOINT;
  fi_info* list = nullptr;
  int ret = rma_min ? fi_getinfo(FI_VERSION(1, 9), nullptr, nullptr, 0, hints, &list) : -FI_ENODATA;
  bool with_rma = ret == 0 && list;
  if (!with_rma) {  // tagged messages only
    if (list) fi_freeinfo(list);
    list = nullptr;
    hints->caps = FI_TAGGED;
    hints->domain_attr->mr_mode = 0;
    ret = fi_getinfo(FI_VERSION(1, 9), nullptr, nullptr, 0, hints, &list);
  }
  fi_freeinfo(hints);
  if (ret != 0 || !list) {
    const char* p = std::getenv("FI_PROVIDER");
    *err = Status(EDAOS_NOTSUP, "libfabric: no provider offers FI_EP_RDM with tagged messages" +
                                    std::string(p ? " (FI_PROVIDER=" + std::string(p) + ")" : "") +
                                    ": " + fi_text(ret));
    return nullptr;
  }
  // The first provider whose endpoint opens with a CQ that has a wait fd.
  std::string why;
  for (fi_info* fi = list; fi; fi = fi->next) {
    std::unique_ptr<OfiTransport> t(new OfiTransport());
    t->rank_ = rank;
    t->info_ = fi_dupinfo(fi);
    t->prov_ = fi->fabric_attr->prov_name ? fi->fabric_attr->prov_name : "?";
    const char* step = "fi_fabric";
    // A step that fails leaves its object null, so the destructor closes only what opened.
    ret = fi_fabric(fi->fabric_attr, &t->fabric_, nullptr);
    if (ret != 0) t->fabric_ = nullptr;
    if (ret == 0) {
      step = "fi_domain";
      ret = fi_domain(t->fabric_, fi, &t->domain_, nullptr);
      if (ret != 0) t->domain_ = nullptr;
    }
    if (ret == 0) {
      fi_cq_attr cq{};
      cq.format = FI_CQ_FORMAT_TAGGED;
      cq.wait_obj = FI_WAIT_FD;
      step = "fi_cq_open (FI_WAIT_FD)";
      ret = fi_cq_open(t->domain_, &cq, &t->cq_, nullptr);
      if (ret != 0) t->cq_ = nullptr;
    }
    if (ret == 0) {
      step = "FI_GETWAIT";
      ret = fi_control(&t->cq_->fid, FI_GETWAIT, &t->wait_fd_);
    }
    if (ret == 0) {
      fi_av_attr av{};
      av.type = FI_AV_TABLE;
      step = "fi_av_open";
      ret = fi_av_open(t->domain_, &av, &t->av_, nullptr);
      if (ret != 0) t->av_ = nullptr;
    }
    if (ret == 0) {
      step = "fi_endpoint";
      ret = fi_endpoint(t->domain_, fi, &t->ep_, nullptr);
      if (ret != 0) t->ep_ = nullptr;
    }
    if (ret == 0) ret = fi_ep_bind(t->ep_, &t->cq_->fid, FI_TRANSMIT | FI_RECV);
    if (ret == 0) ret = fi_ep_bind(t->ep_, &t->av_->fid, 0);
    if (ret == 0) {
      step = "fi_enable";
      ret = fi_enable(t->ep_);
    }
    if (ret == 0) {
      char name[256];
      size_t len = sizeof name;
      step = "fi_getname";
      ret = fi_getname(&t->ep_->fid, name, &len);
      if (ret == 0) t->addr_.assign(name, len);
    }
    if (ret == 0) {
      step = "eventfd";
      t->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (t->wake_fd_ < 0) ret = -FI_EOTHER;
    }
    if (ret == 0) {
      t->iov_limit_ = std::max<size_t>(1, std::min(fi->tx_attr->iov_limit, fi->rx_attr->iov_limit));
      if (with_rma && (fi->caps & FI_RMA)) {
        const int mm = fi->domain_attr->mr_mode;
        t->rma_ = true;
        t->rma_min_ = rma_min;
        t->mr_virt_ = mm & FI_MR_VIRT_ADDR;
        t->mr_prov_key_ = mm & FI_MR_PROV_KEY;
        t->mr_endpoint_ = mm & FI_MR_ENDPOINT;
        // Without send-after-write order the reply envelope could be seen before the payload
        // written ahead of it: the writes then complete only once delivered.
        t->rma_dc_ = !(fi->tx_attr->msg_order & FI_ORDER_SAW);
      }
      fi_freeinfo(list);
      EDAOS_LOG(debug, "libfabric: provider %s, iov limit %zu, RMA %s (from %zu bytes)",
                t->prov_.c_str(), t->iov_limit_, t->rma_ ? "on" : "off", t->rma_min_);
      return t;
    }
    why += (why.empty() ? "" : "; ") + t->prov_ + ": " + step + ": " + fi_text(ret);
  }
  fi_freeinfo(list);
  *err = Status(EDAOS_NOTSUP, "libfabric: no provider could open an endpoint: " + why);
  return nullptr;
}

OfiTransport::~OfiTransport() {
  if (ep_) {
    std::lock_guard<std::mutex> lk(mu_);
    const Clock::time_point limit = Clock::now() + kCancelWait;
    while (!pending_.empty() && Clock::now() < limit) {
      drain_cq_locked();
      if (reap_locked()) sched_yield();
    }
    while (!deferred_.empty()) undefer_locked(deferred_.front());
    for (auto& fe : fetching_)  // payload reads still under way: their buffers go with them
      for (auto& op : fe->ops)
        if (op->busy()) {
          fi_cancel(&ep_->fid, op.get());
          if (!end_op_locked(op.get(), Clock::now() + kCancelWait)) {
            (void)op.release();
            fe->in.buf.leak();
          }
        }
    for (auto& s : slots_)
      if (s->op.busy()) {
        fi_cancel(&ep_->fid, &s->op);
        end_op_locked(&s->op, Clock::now() + kCancelWait);
      }
    fi_close(&ep_->fid);
  }
  if (av_) fi_close(&av_->fid);
  if (cq_) fi_close(&cq_->fid);
  if (domain_) fi_close(&domain_->fid);
  if (fabric_) fi_close(&fabric_->fid);
  if (info_) fi_freeinfo(info_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void OfiTransport::set_peers(std::vector<std::string> addrs) {
  std::lock_guard<std::mutex> lk(mu_);
  addrs_ = addrs;
  peers_.assign(addrs.size(), FI_ADDR_NOTAVAIL);
  for (size_t r = 0; r < addrs.size(); ++r) {
    int n = fi_av_insert(av_, addrs[r].data(), 1, &peers_[r], 0, nullptr);
    if (n != 1) {
      EDAOS_LOG(warn, "libfabric: cannot insert rank %zu's address", r);
      peers_[r] = FI_ADDR_NOTAVAIL;
    }
  }
}

// Forgets rank r's connection and makes a new one on the next message. An RMA access to a
// region its owner has closed (a call abandoned while the server still had to read or write
// it) makes the tcp provider close the connection on the owner's side; the server's sends to
// it then fail ("not connected") until the address is inserted afresh.
void OfiTransport::reset_peer_locked(int r) {
  if (r < 0 || static_cast<size_t>(r) >= peers_.size() || r >= static_cast<int>(addrs_.size()))
    return;
  if (peers_[r] != FI_ADDR_NOTAVAIL) fi_av_remove(av_, &peers_[r], 1, 0);
  peers_[r] = FI_ADDR_NOTAVAIL;
  if (fi_av_insert(av_, addrs_[r].data(), 1, &peers_[r], 0, nullptr) != 1) {
    EDAOS_LOG(warn, "libfabric: cannot insert rank %d's address again", r);
    peers_[r] = FI_ADDR_NOTAVAIL;
  } else {
    EDAOS_LOG(info, "libfabric: connection to rank %d reset", r);
  }
}

void OfiTransport::drain_cq_locked() { (void)drain_cq_counted_locked(); }

// Reads every completion; returns how many. A reply whose RMA writes all completed gets its
// envelope posted here, by whichever thread read the last one; threads sleeping on the CQ are
// woken when completions were read for them (the CQ's wait fd does not stay readable).
size_t OfiTransport::drain_cq_counted_locked() {
  fi_cq_tagged_entry e[16];
  size_t count = 0;
  Pending* ready[16];
  for (;;) {
    size_t nready = 0;
    auto complete = [&](Op* op) {
      op->done = true;
      ++count;
      if (op->slot) arrived_.push_back(op->slot);
      if (op->owner && nready < 16) ready[nready++] = op->owner;
    };
    ssize_t n = fi_cq_read(cq_, e, 16);
    if (n > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        auto* op = static_cast<Op*>(e[i].op_context);
        if (!op) continue;
        op->len = e[i].len;
        complete(op);
      }
    } else if (n == -FI_EAVAIL) {
      fi_cq_err_entry ee{};
      if (fi_cq_readerr(cq_, &ee, 0) > 0 && ee.op_context) {
        auto* op = static_cast<Op*>(ee.op_context);
        op->err = ee.err ? ee.err : FI_EOTHER;
        op->len = ee.len;
        complete(op);
      }
    } else {
      break;  // -FI_EAGAIN: empty
    }
    for (size_t i = 0; i < nready; ++i)
      if (!ready[i]->head_posted && !ready[i]->rma_busy()) post_head_locked(ready[i]);
  }
  retry_deferred_locked();
  if (count) wake_sleepers_locked();
  return count;
}

void OfiTransport::wake_sleepers_locked() {
  const uint64_t one = 1;
  for (int fd : sleepers_) (void)!write(fd, &one, sizeof one);
  sleepers_.clear();  // each is woken once; it re-registers when it sleeps again
  if (server_sleeping_) {
    (void)!write(wake_fd_, &one, sizeof one);
    server_sleeping_ = false;
  }
}

// Posts an RMA read (into `local`) or write (from `local`) of `len` bytes at the peer's
// (addr, key). Retried while the provider says -FI_EAGAIN (connection setup, full queue), for
// a bounded time.
int OfiTransport::post_rma_locked(Op* op, bool write, char* local, size_t len, int peer,
                                  uint64_t addr, uint64_t key) {
  if (peer < 0 || static_cast<size_t>(peer) >= peers_.size() || peers_[peer] == FI_ADDR_NOTAVAIL)
    return -FI_EINVAL;
  op->reset();
  iovec iov{local, len};
  fi_rma_iov riov{addr, len, key};
  fi_msg_rma msg{};
  msg.msg_iov = &iov;
  msg.iov_count = 1;
  msg.addr = peers_[peer];
  msg.rma_iov = &riov;
  msg.rma_iov_count = 1;
  msg.context = op;
  const uint64_t flags = FI_COMPLETION | (write && rma_dc_ ? FI_DELIVERY_COMPLETE : 0);
  const Clock::time_point limit = Clock::now() + kCancelWait;
  for (;;) {
    ssize_t ret = write ? fi_writemsg(ep_, &msg, flags) : fi_readmsg(ep_, &msg, flags);
    if (ret == 0) {
      op->posted = true;
      return 0;
    }
    if (ret != -FI_EAGAIN || Clock::now() >= limit) return static_cast<int>(ret);
    drain_cq_locked();
  }
}

// Posts a tagged send of `parts` (packed into *stage when they exceed the iov limit). A send
// the provider cannot take yet (-FI_EAGAIN: a connection still being set up, a full queue) is
// deferred and retried in order by drain_cq_locked; it counts as in flight meanwhile.
int OfiTransport::post_send_locked(Op* op, int dest, uint64_t tag,
                                   const std::vector<ConstIoVec>& parts, Buffer* stage) {
  if (dest < 0 || static_cast<size_t>(dest) >= peers_.size() || peers_[dest] == FI_ADDR_NOTAVAIL)
    return -FI_EINVAL;
  op->reset();
  op->iov.clear();
  size_t total = 0;
  for (auto& p : parts)
    if (p.len) {
      op->iov.push_back({const_cast<void*>(p.base), p.len});
      total += p.len;
    }
  if (op->iov.size() > iov_limit_) {
    stage->resize(total);
    size_t at = 0;
    for (auto& v : op->iov) {
      std::memcpy(stage->data() + at, v.iov_base, v.iov_len);
      at += v.iov_len;
    }
    op->iov.assign(1, iovec{stage->data(), total});
  }
  op->to = peers_[dest];
  op->tag = tag;
  op->posted = true;
  if (deferred_.empty()) {
    ssize_t ret = fi_tsendv(ep_, op->iov.data(), nullptr, op->iov.size(), op->to, tag, op);
    if (ret == 0) return 0;
    if (ret != -FI_EAGAIN) {
      op->posted = false;
      return static_cast<int>(ret);
    }
  }
  op->deferred = true;
  deferred_.push_back(op);
  return 0;
}

void OfiTransport::retry_deferred_locked() {
  while (!deferred_.empty()) {
    Op* op = deferred_.front();
    ssize_t ret = fi_tsendv(ep_, op->iov.data(), nullptr, op->iov.size(), op->to, op->tag, op);
    if (ret == -FI_EAGAIN) return;
    deferred_.pop_front();
    op->deferred = false;
    if (ret != 0) {
      op->done = true;
      op->err = static_cast<int>(-ret);
    }
  }
}

// Takes a deferred send back (its call ended): it completes as cancelled.
void OfiTransport::undefer_locked(Op* op) {
  if (!op->deferred) return;
  deferred_.erase(std::remove(deferred_.begin(), deferred_.end(), op), deferred_.end());
  op->deferred = false;
  op->done = true;
  op->err = FI_ECANCELED;
}

int OfiTransport::post_recv_locked(Op* op, int src, uint64_t tag, uint64_t ignore,
                                   const std::vector<IoVec>& parts) {
  (void)src;  // matching is by tag: the sender's rank is in it
  op->reset();
  op->iov.clear();
  for (auto& p : parts)
    if (p.len) op->iov.push_back({p.base, p.len});
  const Clock::time_point limit = Clock::now() + kCancelWait;
  for (;;) {
    ssize_t ret =
        fi_trecvv(ep_, op->iov.data(), nullptr, op->iov.size(), FI_ADDR_UNSPEC, tag, ignore, op);
    if (ret == 0) {
      op->posted = true;
      return 0;
    }
    if (ret != -FI_EAGAIN || Clock::now() >= limit) return static_cast<int>(ret);
    drain_cq_locked();
  }
}

// Reads the CQ until `op` completes or `limit` passes.
bool OfiTransport::end_op_locked(Op* op, Clock::time_point limit) {
  while (op->busy()) {
    if (Clock::now() >= limit) return false;
    drain_cq_locked();
  }
  return true;
}

void OfiTransport::start(Call* c) {
  std::lock_guard<std::mutex> lk(mu_);
  c->prepare(kFirstReplyTag + static_cast<int>(tag_seq_++ % (INT_MAX - kFirstReplyTag)), seq_++);
  c->ts = std::make_unique<OfiCall>();
  OfiCall* u = state(c);
  // Reply envelope first, so the server's answer always finds a posted receive.
  u->env.resize(kOfiEager);
  int ret = post_recv_locked(&u->recv_env, c->server,
                             make_tag(kRepEnv, c->server, static_cast<uint32_t>(c->tag)), 0,
                             {{u->env.data(), kOfiEager}});
  if (ret != 0) {
    c->local_error =
        Status(EDAOS_UNREACH, "libfabric: cannot post the reply receive: " + fi_text(ret));
    return;
  }
  std::vector<ConstIoVec> parts{{&c->hdr, sizeof c->hdr}, {c->body.data(), c->body.size()}};
  size_t total = sizeof c->hdr + c->body.size();
  u->frame.src = rank_;
  // RMA: bulk_out read by the server, bulk_in offered for the reply, when large enough.
  RmaTrailer tr;
  if (rma_) {
    auto pieces = [](const auto& v, size_t* bytes) {
      size_t k = 0;
      for (auto& p : v)
        if (p.len) {
          ++k;
          *bytes += p.len;
        }
      return k;
    };
    size_t out_bytes = 0, in_bytes = 0;
    const size_t out_n = pieces(c->bulk_out, &out_bytes), in_n = pieces(c->bulk_in, &in_bytes);
    const bool out = out_bytes >= rma_min_ && out_n <= kOfiRmaPieces;
    const bool in = in_bytes >= rma_min_ && in_n <= kOfiRmaPieces;
    const size_t env = sizeof(Frame) + total + (out ? 0 : out_bytes) +
                       ((out ? out_n : 0) + (in ? in_n : 0)) * sizeof(RmaDesc) + sizeof tr;
    if ((out || in) && env <= kOfiEager) {
      u->regions = &counts_.regions;
      std::string descs;
      auto reg = [&](void* base, size_t len, uint64_t access) {
        fid_mr* mr = nullptr;
        int r = fi_mr_reg(domain_, base, len, access, 0, mr_prov_key_ ? 0 : mr_key_seq_++, 0, &mr,
                          nullptr);
        if (r == 0 && mr_endpoint_) {
          r = fi_mr_bind(mr, &ep_->fid, 0);
          if (r == 0) r = fi_mr_enable(mr);
          if (r != 0) fi_close(&mr->fid);
        }
        if (r != 0) {
          EDAOS_LOG(debug, "libfabric: fi_mr_reg of %zu bytes: %s", len, fi_text(r).c_str());
          return false;
        }
        u->mrs.push_back(mr);
        ++counts_.regions;
        RmaDesc d;
        d.addr = mr_virt_ ? reinterpret_cast<uint64_t>(base) : 0;
        d.key = fi_mr_key(mr);
        d.len = len;
        descs.append(reinterpret_cast<const char*>(&d), sizeof d);
        return true;
      };
      bool ok = true;
      if (out)
        for (auto& v : c->bulk_out)
          if (ok && v.len) ok = reg(const_cast<void*>(v.base), v.len, FI_REMOTE_READ);
      if (in)
        for (auto& v : c->bulk_in)
          if (ok && v.len) ok = reg(v.base, v.len, FI_REMOTE_WRITE);
      if (ok) {
        tr.nout = out ? static_cast<uint32_t>(out_n) : 0;
        tr.nin = in ? static_cast<uint32_t>(in_n) : 0;
        u->rma_blob = std::move(descs);
        u->rma_blob.append(reinterpret_cast<const char*>(&tr), sizeof tr);
      } else {
        u->close_regions();  // tagged after all
      }
    }
  }
  if (tr.nout == 0)
    for (auto& v : c->bulk_out) {
      parts.push_back(v);
      total += v.len;
      counts_.tagged_payload += v.len;
    }
  if (!u->rma_blob.empty()) {
    u->frame.rest = kRmaFlag;
    parts.push_back({u->rma_blob.data(), u->rma_blob.size()});
    parts.insert(parts.begin(), ConstIoVec{&u->frame, sizeof u->frame});
    ret = post_send_locked(&u->send_env, c->server, make_tag(kReqEnv, rank_, 0), parts, &u->stage);
  } else if (total + sizeof(Frame) <= kOfiEager) {
    parts.insert(parts.begin(), ConstIoVec{&u->frame, sizeof u->frame});
    ret = post_send_locked(&u->send_env, c->server, make_tag(kReqEnv, rank_, 0), parts, &u->stage);
  } else {
    u->frame.rest = total;
    u->frame.id = id_seq_++;
    ret = post_send_locked(&u->send_env, c->server, make_tag(kReqEnv, rank_, 0),
                           {{&u->frame, sizeof u->frame}}, &u->stage);
    if (ret == 0 && stop_before_rest()) {
      // Test only: a client that stops between its request's envelope and its rest (the
      // server must keep serving the others meanwhile). The envelope is sent first.
      const Clock::time_point limit = Clock::now() + kCancelWait;
      while (u->send_env.busy() && Clock::now() < limit) drain_cq_locked();
      raise(SIGSTOP);
    }
    if (ret == 0)
      ret = post_send_locked(&u->send_rest, c->server, make_tag(kReqRest, rank_, u->frame.id),
                             parts, &u->stage);
  }
  if (ret != 0)
    c->local_error = Status(EDAOS_UNREACH, "libfabric: cannot send the request to rank " +
                                               std::to_string(c->server) + ": " + fi_text(ret));
}

// Ends a failed or timed-out call: receives are cancelled, sends get a bounded time. What
// libfabric still holds after that stays alive (stuck_) until it completes; the caller's
// buffers are never written after this returns unless a cancel failed (logged).
void OfiTransport::abandon_locked(Call* c) {
  OfiCall* u = state(c);
  // First, so the server can no longer read or write the caller's buffers by RMA.
  u->close_regions();
  const Clock::time_point limit = Clock::now() + kCancelWait;
  undefer_locked(&u->send_rest);
  undefer_locked(&u->send_env);
  for (Op* op : {&u->recv_env, &u->recv_rest, &u->send_env, &u->send_rest})
    if (op->busy()) {
      fi_cancel(&ep_->fid, op);
      end_op_locked(op, limit);
    }
  if (u->recv_rest.busy() && u->rest_direct)
    EDAOS_LOG(error, "libfabric: a reply receive from rank %d could not be cancelled", c->server);
  if (!u->idle()) stuck_.push_back(std::move(c->ts));
  c->ts.reset();
  c->done = true;
}

bool OfiTransport::test_call_locked(Call* c) {
  if (c->done) return true;
  OfiCall* u = state(c);
  for (const Op* op : {&u->send_env, &u->send_rest})
    if (c->local_error.ok() && op->done && op->err)
      c->local_error =
          Status(EDAOS_UNREACH, "libfabric: request to rank " + std::to_string(c->server) +
                                    " failed: " + fi_text(op->err));
  auto recv_failed = [&](const Op& op) {
    c->local_error =
        op.err == FI_ETRUNC
            ? Status(EDAOS_PROTO, "reply larger than the call's buffers")
            : Status(EDAOS_UNREACH, "libfabric: reply from rank " + std::to_string(c->server) +
                                        " failed: " + fi_text(op.err));
  };
  if (c->local_error.ok() && !c->reply_received && u->recv_env.done && !u->recv_rest.posted) {
    Frame f;
    if (u->recv_env.err) {
      recv_failed(u->recv_env);
    } else if (u->recv_env.len < sizeof f) {
      c->local_error = Status(EDAOS_PROTO, "short reply");
    } else {
      std::memcpy(&f, u->env.data(), sizeof f);
      if (f.rest & kRmaFlag) {
        // The payload was written into bulk_in before this envelope was sent.
        const uint64_t n = f.rest & ~kRmaFlag;
        size_t room = 0;
        for (auto& v : c->bulk_in) room += v.len;
        if (u->mrs.empty() || u->recv_env.len < sizeof f + sizeof c->rep || n > room) {
          c->local_error = Status(EDAOS_PROTO, "libfabric: bad RMA reply envelope");
        } else {
          std::memcpy(&c->rep, u->env.data() + sizeof f, sizeof c->rep);
          ++counts_.rma_replies;
          c->take_bulk_reply(sizeof c->rep + n);
        }
      } else if (f.rest == 0) {
        c->take_reply_scattered(u->env.data() + sizeof f, u->recv_env.len - sizeof f);
      } else {
        // The rest goes straight into [rep, bulk_in] when the provider takes that many pieces.
        std::vector<IoVec> parts;
        size_t pieces = 1;
        for (auto& v : c->bulk_in) pieces += v.len ? 1 : 0;
        u->rest_direct = !c->bulk_in.empty() && pieces <= iov_limit_;
        if (u->rest_direct) {
          parts.push_back({&c->rep, sizeof c->rep});
          for (auto& v : c->bulk_in) parts.push_back(v);
        } else {
          u->rest.resize(f.rest);
          parts.push_back({u->rest.data(), f.rest});
        }
        int ret = post_recv_locked(&u->recv_rest, c->server,
                                   make_tag(kRepRest, c->server, static_cast<uint32_t>(c->tag)), 0,
                                   parts);
        if (ret != 0)
          c->local_error =
              Status(EDAOS_UNREACH, "libfabric: cannot post the reply receive: " + fi_text(ret));
      }
    }
  }
  if (c->local_error.ok() && !c->reply_received && u->recv_rest.done) {
    if (u->recv_rest.err)
      recv_failed(u->recv_rest);
    else if (u->rest_direct)
      c->take_bulk_reply(u->recv_rest.len);
    else
      c->take_reply_scattered(u->rest.data(), u->recv_rest.len);
  }
  return settle_call(c, u->send_env.busy() || u->send_rest.busy(),
                     [this](Call* x) { abandon_locked(x); });
}

// Reads the CQ and tests the calls; after the last progress the thread polls for its
// SpinPolicy's window, then sleeps on the CQ's wait fd and its own eventfd until the calls'
// nearest deadline, at most 1 s, or 1 ms while a send of theirs is in flight or deferred.
void OfiTransport::wait(Call* const* calls, size_t n) {
  std::unique_lock<std::mutex> lk(mu_);
  poll_then_sleep(
      lk, &pollers_,
      [&](bool* progressed) {
        if (drain_cq_counted_locked() > 0) *progressed = true;
        return test_calls(
            calls, n, [this](Call* c) { return test_call_locked(c); }, progressed);
      },
      [&](Clock::time_point now) {
        Clock::time_point deadline = Clock::time_point::max();
        bool sending = !deferred_.empty();
        for (size_t i = 0; i < n; ++i) {
          Call* c = calls[i];
          if (c->done) continue;
          deadline = std::min(deadline, c->deadline);
          const OfiCall* u = state(c);
          if (u && (u->send_env.busy() || u->send_rest.busy())) sending = true;
        }
        sleep_client_locked(lk, sleep_ms(deadline, now, sending));
      });
}

void OfiTransport::sleep_client_locked(std::unique_lock<std::mutex>& lk, int ms) {
  fid* fids[1] = {&cq_->fid};
  if (fi_trywait(fabric_, fids, 1) != FI_SUCCESS) return;  // completions pending
  const int me = thread_wake_fd();
  if (me < 0) ms = std::min(ms, 1);  // nobody can wake this thread: keep it short
  if (me >= 0) sleepers_.push_back(me);
  lk.unlock();
  pollfd pfd[2] = {{wait_fd_, POLLIN, 0}, {me, POLLIN, 0}};
  poll(pfd, me >= 0 ? 2 : 1, ms);
  lk.lock();
  sleepers_.erase(std::remove(sleepers_.begin(), sleepers_.end(), me), sleepers_.end());
  if (me >= 0) {
    uint64_t v;
    (void)!read(me, &v, sizeof v);  // EAGAIN when nobody wrote it
  }
}

void OfiTransport::post_slots_locked() {
  if (slots_.empty())
    for (int i = 0; i < kOfiSlots; ++i) {
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->op.slot = slots_.back().get();
      slots_.back()->buf.resize(kOfiEager);
    }
  for (auto& s : slots_)
    if (!s->op.posted) {
      int ret = post_recv_locked(&s->op, -1, make_tag(kReqEnv, 0, 0), kAnyRankAndId,
                                 {{s->buf.data(), kOfiEager}});
      if (ret != 0)
        EDAOS_LOG(warn, "libfabric: cannot post a request receive: %s", fi_text(ret).c_str());
    }
}

// The next whole request, taken in order (a client's requests keep theirs): a payload read
// by RMA or a tagged rest that completed (fetching_), else the envelopes that arrived. False
// when none is whole yet; *young when one is still arriving since less than 10 ms.
bool OfiTransport::take_request_locked(Incoming* in, bool* young) {
  *young = false;
  for (;;) {
    // A request whose payload needs no read (a read's envelope offering its buffers) or whose
    // read already completed is handed out in this same pass.
    if (!fetching_.empty() && next_fetch_locked(in, young)) return true;
    if (arrived_.empty()) return false;
    Slot* s = arrived_.front();
    arrived_.pop_front();
    Frame f;
    const bool ok = !s->op.err && s->op.len >= sizeof f;
    if (ok) std::memcpy(&f, s->buf.data(), sizeof f);
    if (!ok) {
      EDAOS_LOG(warn, "libfabric: bad request envelope (%zu bytes): %s", s->op.len,
                s->op.err ? fi_text(s->op.err).c_str() : "short");
    } else if (f.rest & kRmaFlag) {
      // Its payload is read while the thread serves others (next_fetch_locked hands it out).
      start_fetch_locked(f, s->buf.data(), s->op.len, std::move(in->buf));
      s->op.posted = false;
      post_slots_locked();
      drain_cq_locked();  // moves the reads just posted (tcp's progress is manual)
      continue;
    } else if (f.rest == 0) {
      in->buf.resize(s->op.len - sizeof f);
      std::memcpy(in->buf.data(), s->buf.data() + sizeof f, in->buf.size());
    }
    s->op.posted = false;  // reposted below, before a rest is awaited
    post_slots_locked();
    if (!ok) continue;
    in->source = f.src;
    if (f.rest != 0) {
      // The rest goes straight into the request buffer by a tagged receive that completes
      // while the thread serves others (fetching_, handed out by next_fetch_locked, in the
      // sender's order); a sender that stops sending is given up after the RPC timeout.
      // Until session 10 the thread waited for it here, so one stalled sender held up
      // every other client for that long.
      auto fe = std::make_unique<Fetch>();
      fe->tagged = true;
      fe->in.source = f.src;
      fe->in.buf = std::move(in->buf);
      fe->in.buf.resize(f.rest);
      fe->ops.push_back(std::make_unique<Op>());
      const int ret = post_recv_locked(fe->ops.back().get(), f.src, make_tag(kReqRest, f.src, f.id),
                                       0, {{fe->in.buf.data(), f.rest}});
      if (ret != 0) {
        EDAOS_LOG(warn, "libfabric: cannot receive a request from rank %d: %s", f.src,
                  fi_text(ret).c_str());
        continue;
      }
      fe->born = Clock::now();
      fe->limit = deadline_after(rpc_timeout());
      fetching_.push_back(std::move(fe));
      drain_cq_locked();  // a rest already there completes at once
      continue;
    }
    if (in->buf.size() < sizeof(RequestHeader))
      in->hdr = RequestHeader{};
    else
      std::memcpy(&in->hdr, in->buf.data(), sizeof in->hdr);
    bool behind = false;  // an earlier request of its sender is still being read
    for (auto& fe : fetching_) behind = behind || fe->in.source == in->source;
    if (behind) {
      auto fe = std::make_unique<Fetch>();
      fe->in.source = in->source;
      fe->in.hdr = in->hdr;
      fe->in.buf = std::move(in->buf);
      fe->born = Clock::now();
      fe->limit = Clock::time_point::max();
      fetching_.push_back(std::move(fe));
      continue;
    }
    return true;
  }
}

bool OfiTransport::wait_request(Incoming* in, Clock::time_point deadline) {
  for (;;) {
    std::unique_lock<std::mutex> lk(mu_);
    post_slots_locked();
    drain_cq_locked();
    reap_locked();
    bool young = false;
    if (take_request_locked(in, &young)) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    fid* fids[1] = {&cq_->fid};
    if (fi_trywait(fabric_, fids, 1) != FI_SUCCESS) continue;  // completions pending
    // Replies in flight may need progress no completion announces: wake every millisecond.
    // Payloads being read complete with an event; the timeout bounds the check of their
    // limits: 1 ms while one is young, then 10 ms. (Polling here first, as UCX's server thread
    // does since session 9, was measured in session 10 on the loaded 2-core VM: 2.5-3x the
    // latency and the CPU per 47008-byte request; not kept.)
    int ms = sleep_ms(deadline, now, !pending_.empty() || young);
    if (!fetching_.empty()) ms = std::min(ms, 10);
    server_sleeping_ = true;  // a client thread that reads completions wakes it
    lk.unlock();
    pollfd pfd[2] = {{wait_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(pfd, 2, ms) > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      (void)!read(wake_fd_, &v, sizeof v);
    }
    lk.lock();
    server_sleeping_ = false;
  }
}

// A request envelope with RMA descriptors (`env`, `env_len` bytes, frame included): the
// message is what lies between the frame and the descriptors; its payload (if named) is read
// from the client's registered buffers into the request's buffer after it, by reads that
// complete while the thread serves others (fetching_, handed out by next_fetch_locked); the
// offered reply buffers are kept for reply(). `buf` is memory to reuse for the request.
void OfiTransport::start_fetch_locked(const Frame& f, const char* env, size_t env_len, Buffer buf) {
  RmaTrailer tr;
  if (env_len < sizeof f + sizeof(RequestHeader) + sizeof tr) {
    EDAOS_LOG(warn, "libfabric: short RMA request envelope from rank %d", f.src);
    return;
  }
  std::memcpy(&tr, env + env_len - sizeof tr, sizeof tr);
  const size_t nd = size_t{tr.nout} + tr.nin;
  if (tr.nout > kOfiRmaPieces || tr.nin > kOfiRmaPieces ||
      env_len < sizeof f + sizeof(RequestHeader) + nd * sizeof(RmaDesc) + sizeof tr) {
    EDAOS_LOG(warn, "libfabric: bad RMA request envelope from rank %d", f.src);
    return;
  }
  RmaDesc d[2 * kOfiRmaPieces];
  const char* dp = env + env_len - sizeof tr - nd * sizeof(RmaDesc);
  std::memcpy(d, dp, nd * sizeof(RmaDesc));
  const char* msg = env + sizeof f;
  const size_t msg_len = static_cast<size_t>(dp - msg);
  auto fe = std::make_unique<Fetch>();
  fe->in.source = f.src;
  fe->in.buf = std::move(buf);
  for (uint32_t i = 0; i < tr.nout; ++i) fe->out += d[i].len;
  fe->in.buf.resize(msg_len + fe->out);
  std::memcpy(fe->in.buf.data(), msg, msg_len);
  std::memcpy(&fe->in.hdr, msg, sizeof fe->in.hdr);
  if (tr.nin) {
    if (offers_.size() >= kOfiMaxOffers) offers_.erase(offers_.begin());
    offers_.emplace_back(
        offer_key(f.src, fe->in.hdr.reply_tag),
        std::string(reinterpret_cast<const char*>(d + tr.nout), tr.nin * sizeof(RmaDesc)));
  }
  // A payload over a live connection comes in ms; one that does not come within a few seconds
  // (its owner stopped, or the connection broke: an access to a region its owner closed is
  // not answered) is given up then.
  const Clock::duration bound =
      kRmaFetchWait + std::chrono::milliseconds(fe->out / kRmaFetchBytesPerMs);
  fe->born = Clock::now();
  fe->limit = deadline_after(std::min(rpc_timeout(), bound));
  size_t at = msg_len;
  for (uint32_t i = 0; i < tr.nout; ++i) {
    fe->ops.push_back(std::make_unique<Op>());
    const int ret = post_rma_locked(fe->ops.back().get(), false, fe->in.buf.data() + at, d[i].len,
                                    f.src, d[i].addr, d[i].key);
    if (ret != 0) {
      fe->ops.pop_back();
      fe->why = fi_text(ret);
      break;
    }
    at += d[i].len;
  }
  fetching_.push_back(std::move(fe));
}

// The first request of fetching_ that is whole and has no earlier one of its sender before it
// (a client's requests keep their order), moved to *in; null when none. Requests whose
// payload failed or did not come in time are answered EDAOS_UNREACH and dropped (the
// sender's connection is made afresh: on tcp a failed access breaks it).
bool OfiTransport::next_fetch_locked(Incoming* in, bool* young) {
  *young = false;
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < fetching_.size();) {
    Fetch& fe = *fetching_[i];
    bool busy = false;
    for (auto& op : fe.ops) busy = busy || op->busy();
    if (busy && now >= fe.limit) {
      for (auto& op : fe.ops)
        if (op->busy()) {
          fi_cancel(&ep_->fid, op.get());
          if (!end_op_locked(op.get(), Clock::now() + kCancelWait)) {
            (void)op.release();  // libfabric still owns the operation and the buffer
            fe.in.buf.leak();
          }
        }
      fe.ops.erase(std::remove(fe.ops.begin(), fe.ops.end(), nullptr), fe.ops.end());
      if (fe.why.empty()) fe.why = "its payload never came";
      busy = false;
    }
    if (!busy)
      for (auto& op : fe.ops)
        if (op->err && fe.why.empty()) fe.why = fi_text(op->err);
    if (!busy && !fe.why.empty() && fe.tagged) {
      // No header came, so no reply can be addressed: the sender's call times out.
      EDAOS_LOG(warn, "libfabric: request from rank %d lost: %s", fe.in.source,
                fe.why == "its payload never came" ? "its data never came" : fe.why.c_str());
      fetching_.erase(fetching_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (!busy && !fe.why.empty()) {
      const int src = fe.in.source;
      const int tag = fe.in.hdr.reply_tag;
      EDAOS_LOG(warn, "libfabric: request from rank %d lost: %s", src, fe.why.c_str());
      reset_peer_locked(src);
      offers_.erase(std::remove_if(offers_.begin(), offers_.end(),
                                   [&](const auto& o) { return o.first == offer_key(src, tag); }),
                    offers_.end());
      auto p = std::make_unique<Pending>();
      p->buf = make_reply(Status(
          EDAOS_UNREACH, "libfabric: the server could not read the request's payload: " + fe.why));
      p->dest = src;
      p->tag = tag;
      p->data = p->buf.data();
      p->n = p->buf.size();
      post_tagged_reply_locked(p.get());
      if (p->env.busy() || p->rest.busy()) pending_.push_back(std::move(p));
      fetching_.erase(fetching_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    bool blocked = false;
    for (size_t j = 0; j < i && !blocked; ++j) blocked = fetching_[j]->in.source == fe.in.source;
    if (!busy && !blocked) {
      counts_.rma_read += fe.out;
      if (fe.tagged) {
        if (fe.in.buf.size() < sizeof(RequestHeader))
          fe.in.hdr = RequestHeader{};
        else
          std::memcpy(&fe.in.hdr, fe.in.buf.data(), sizeof fe.in.hdr);
      }
      in->source = fe.in.source;
      in->hdr = fe.in.hdr;
      in->buf = std::move(fe.in.buf);
      fetching_.erase(fetching_.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
    if (busy && now - fe.born < std::chrono::milliseconds(10)) *young = true;
    ++i;
  }
  return false;
}

bool OfiTransport::reap_locked() {
  for (size_t i = 0; i < pending_.size();) {
    Pending& p = *pending_[i];
    if (!p.head_posted || p.env.busy() || p.rest.busy() || p.rma_busy()) {
      ++i;
      continue;
    }
    if (p.env.err || p.rest.err) {
      const int e = p.env.err ? p.env.err : p.rest.err;
      EDAOS_LOG(warn, "libfabric: a reply to rank %d was not delivered: %s", p.dest,
                fi_text(e).c_str());
      if (e == FI_ENOTCONN || e == FI_ECONNRESET || e == FI_ECONNABORTED) reset_peer_locked(p.dest);
    }
    if (p.bulk.capacity() > 0) spare_.give(std::move(p.bulk));
    pending_[i] = std::move(pending_.back());
    pending_.pop_back();
  }
  for (size_t i = 0; i < stuck_.size();)
    if (static_cast<OfiCall*>(stuck_[i].get())->idle()) {
      stuck_[i] = std::move(stuck_.back());
      stuck_.pop_back();
    } else {
      ++i;
    }
  return !pending_.empty();
}

// Sends p's reply (dest, tag, data, n set). When the call offered buffers for a payload this
// large (and it fits them), the payload is fi_written there first and the envelope follows
// from drain_cq_locked once the writes completed; else the reply goes tagged.
void OfiTransport::send_reply(int dest, int tag, std::unique_ptr<Pending> p, const char* data,
                              size_t n) {
  std::lock_guard<std::mutex> lk(mu_);
  p->dest = dest;
  p->tag = tag;
  p->data = data;
  p->n = n;
  std::string offer;
  if (!offers_.empty()) {
    const uint64_t key = offer_key(dest, tag);
    for (auto it = offers_.begin(); it != offers_.end(); ++it)
      if (it->first == key) {
        offer = std::move(it->second);
        offers_.erase(it);
        break;
      }
  }
  const size_t payload = n >= sizeof(ReplyHeader) ? n - sizeof(ReplyHeader) : 0;
  size_t room = 0;
  const size_t nd = offer.size() / sizeof(RmaDesc);
  RmaDesc d[kOfiRmaPieces];
  if (nd > 0 && nd <= kOfiRmaPieces) {
    std::memcpy(d, offer.data(), nd * sizeof(RmaDesc));
    for (size_t i = 0; i < nd; ++i) room += d[i].len;
  }
  if (rma_ && payload >= rma_min_ && payload <= room) {
    // The payload scattered over the offered pieces as the caller's bulk_in would take it.
    size_t at = 0;
    for (size_t i = 0; i < nd && at < payload && !p->rma_failed; ++i) {
      const size_t k = std::min<size_t>(d[i].len, payload - at);
      Op* op = &p->rma[p->nrma];
      op->owner = p.get();
      int ret = post_rma_locked(op, true, const_cast<char*>(data) + sizeof(ReplyHeader) + at, k,
                                dest, d[i].addr, d[i].key);
      if (ret != 0) {
        EDAOS_LOG(debug, "libfabric: RMA write to rank %d: %s", dest, fi_text(ret).c_str());
        p->rma_failed = true;
      } else {
        ++p->nrma;
      }
      at += k;
    }
    if (!p->rma_busy()) post_head_locked(p.get());
  } else {
    post_tagged_reply_locked(p.get());
  }
  if (!p->head_posted || p->env.busy() || p->rest.busy()) {
    pending_.push_back(std::move(p));
    // A sleeping wait_request re-checks with a short timeout until the reply is out.
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
    return;
  }
  if (p->bulk.capacity() > 0) spare_.give(std::move(p->bulk));
}

// The envelope of a reply whose RMA writes all ended: Frame + ReplyHeader when they all
// succeeded, else the whole reply tagged (the caller's buffers get it from the tagged path).
void OfiTransport::post_head_locked(Pending* p) {
  bool ok = !p->rma_failed;
  for (size_t i = 0; i < p->nrma; ++i)
    if (p->rma[i].err) {
      EDAOS_LOG(debug, "libfabric: RMA write to rank %d failed: %s", p->dest,
                fi_text(p->rma[i].err).c_str());
      ok = false;
    }
  if (!ok) reset_peer_locked(p->dest);
  if (!ok) {
    post_tagged_reply_locked(p);
    return;
  }
  const size_t payload = p->n - sizeof(ReplyHeader);
  p->frame.src = rank_;
  p->frame.rest = kRmaFlag | payload;
  counts_.rma_written += payload;
  p->head_posted = true;
  int ret =
      post_send_locked(&p->env, p->dest, make_tag(kRepEnv, rank_, static_cast<uint32_t>(p->tag)),
                       {{&p->frame, sizeof p->frame}, {p->data, sizeof(ReplyHeader)}}, &p->stage);
  if (ret != 0)
    EDAOS_LOG(warn, "libfabric: reply to rank %d failed: %s", p->dest, fi_text(ret).c_str());
}

void OfiTransport::post_tagged_reply_locked(Pending* p) {
  const int dest = p->dest, tag = p->tag;
  const char* data = p->data;
  const size_t n = p->n;
  p->frame.src = rank_;
  p->frame.rest = 0;
  p->head_posted = true;
  if (n > sizeof(ReplyHeader)) counts_.tagged_payload += n - sizeof(ReplyHeader);
  int ret;
  if (n + sizeof(Frame) <= kOfiEager) {
    ret = post_send_locked(&p->env, dest, make_tag(kRepEnv, rank_, static_cast<uint32_t>(tag)),
                           {{&p->frame, sizeof p->frame}, {data, n}}, &p->stage);
  } else {
    p->frame.rest = n;
    ret = post_send_locked(&p->env, dest, make_tag(kRepEnv, rank_, static_cast<uint32_t>(tag)),
                           {{&p->frame, sizeof p->frame}}, &p->stage);
    if (ret == 0)
      ret = post_send_locked(&p->rest, dest, make_tag(kRepRest, rank_, static_cast<uint32_t>(tag)),
                             {{data, n}}, &p->stage);
  }
  if (ret != 0)
    EDAOS_LOG(warn, "libfabric: reply to rank %d failed: %s", dest, fi_text(ret).c_str());
}

void OfiTransport::reply(int dest, int tag, std::string buf) {
  auto p = std::make_unique<Pending>();
  p->buf = std::move(buf);
  const char* d = p->buf.data();
  const size_t n = p->buf.size();
  send_reply(dest, tag, std::move(p), d, n);
}

Buffer OfiTransport::reply_buffer(size_t n) { return spare_.take(n); }

void OfiTransport::reply(int dest, int tag, Buffer buf) {
  auto p = std::make_unique<Pending>();
  p->bulk = std::move(buf);
  const char* d = p->bulk.data();
  const size_t n = p->bulk.size();
  send_reply(dest, tag, std::move(p), d, n);
}

OfiTransport::Counts OfiTransport::counts() {
  std::lock_guard<std::mutex> lk(mu_);
  return counts_;
}

bool OfiTransport::progress_replies() {
  std::lock_guard<std::mutex> lk(mu_);
  drain_cq_locked();
  return reap_locked();
}

}  // namespace edaos::objstore::rpc

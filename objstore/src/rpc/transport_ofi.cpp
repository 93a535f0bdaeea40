#include "rpc/transport_ofi.hpp"

#include <poll.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_tagged.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
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

// The head of every envelope.
struct Frame {
  uint64_t rest = 0;  // bytes that follow as a second message; 0: the message follows here
  uint32_t id = 0;    // the rest's tag id (requests)
  int32_t src = 0;    // sender's job rank
};
static_assert(sizeof(Frame) == 16, "Frame is a 16-byte wire header");

std::string fi_text(int err) { return fi_strerror(err < 0 ? -err : err); }

}  // namespace

struct OfiTransport::Op {
  fi_context2 ctx;  // first: libfabric hands its address back in the completion
  Slot* slot = nullptr;
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
};

namespace {

// The libfabric side of one call.
struct OfiCall final : CallState {
  OfiTransport::Op send_env, send_rest, recv_env, recv_rest;
  Frame frame;
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
  hints->caps = FI_TAGGED;
  hints->mode = FI_CONTEXT | FI_CONTEXT2;
  hints->ep_attr->type = FI_EP_RDM;
  hints->domain_attr->threading = FI_THREAD_DOMAIN;  // every call is under mu_
  hints->domain_attr->av_type = FI_AV_TABLE;
  fi_info* list = nullptr;
  int ret = fi_getinfo(FI_VERSION(1, 9), nullptr, nullptr, 0, hints, &list);
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
      fi_freeinfo(list);
      EDAOS_LOG(debug, "libfabric: provider %s, iov limit %zu", t->prov_.c_str(), t->iov_limit_);
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
  peers_.assign(addrs.size(), FI_ADDR_NOTAVAIL);
  for (size_t r = 0; r < addrs.size(); ++r) {
    int n = fi_av_insert(av_, addrs[r].data(), 1, &peers_[r], 0, nullptr);
    if (n != 1) {
      EDAOS_LOG(warn, "libfabric: cannot insert rank %zu's address", r);
      peers_[r] = FI_ADDR_NOTAVAIL;
    }
  }
}

void OfiTransport::drain_cq_locked() {
  fi_cq_tagged_entry e[16];
  for (;;) {
    ssize_t n = fi_cq_read(cq_, e, 16);
    if (n > 0) {
      for (ssize_t i = 0; i < n; ++i) {
        auto* op = static_cast<Op*>(e[i].op_context);
        if (!op) continue;
        op->done = true;
        op->len = e[i].len;
        if (op->slot) arrived_.push_back(op->slot);
      }
      continue;
    }
    if (n == -FI_EAVAIL) {
      fi_cq_err_entry ee{};
      if (fi_cq_readerr(cq_, &ee, 0) > 0 && ee.op_context) {
        auto* op = static_cast<Op*>(ee.op_context);
        op->done = true;
        op->err = ee.err ? ee.err : FI_EOTHER;
        op->len = ee.len;
        if (op->slot) arrived_.push_back(op->slot);
      }
      continue;
    }
    break;  // -FI_EAGAIN: empty
  }
  retry_deferred_locked();
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
  for (auto& v : c->bulk_out) {
    parts.push_back(v);
    total += v.len;
  }
  u->frame.src = rank_;
  if (total + sizeof(Frame) <= kOfiEager) {
    parts.insert(parts.begin(), ConstIoVec{&u->frame, sizeof u->frame});
    ret = post_send_locked(&u->send_env, c->server, make_tag(kReqEnv, rank_, 0), parts, &u->stage);
  } else {
    u->frame.rest = total;
    u->frame.id = id_seq_++;
    ret = post_send_locked(&u->send_env, c->server, make_tag(kReqEnv, rank_, 0),
                           {{&u->frame, sizeof u->frame}}, &u->stage);
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
      if (f.rest == 0) {
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

void OfiTransport::wait(Call* const* calls, size_t n) {
  wait_rounds([&](bool* progressed) {
    std::lock_guard<std::mutex> lk(mu_);
    drain_cq_locked();
    return test_calls(
        calls, n, [this](Call* c) { return test_call_locked(c); }, progressed);
  });
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

bool OfiTransport::wait_request(Incoming* in, Clock::time_point deadline) {
  for (;;) {
    std::unique_lock<std::mutex> lk(mu_);
    post_slots_locked();
    drain_cq_locked();
    reap_locked();
    if (!arrived_.empty()) {
      Slot* s = arrived_.front();
      arrived_.pop_front();
      Frame f;
      const bool ok = !s->op.err && s->op.len >= sizeof f;
      if (ok) std::memcpy(&f, s->buf.data(), sizeof f);
      if (!ok) {
        EDAOS_LOG(warn, "libfabric: bad request envelope (%zu bytes): %s", s->op.len,
                  s->op.err ? fi_text(s->op.err).c_str() : "short");
      } else if (f.rest == 0) {
        in->buf.resize(s->op.len - sizeof f);
        std::memcpy(in->buf.data(), s->buf.data() + sizeof f, in->buf.size());
      }
      s->op.posted = false;  // reposted below, before a rest is awaited
      post_slots_locked();
      if (!ok) continue;
      in->source = f.src;
      if (f.rest != 0) {
        // The rest goes straight into the request buffer. A sender that stops sending is given
        // up after the RPC timeout.
        in->buf.resize(f.rest);
        auto rop = std::make_unique<Op>();
        int ret = post_recv_locked(rop.get(), f.src, make_tag(kReqRest, f.src, f.id), 0,
                                   {{in->buf.data(), f.rest}});
        if (ret != 0) {
          EDAOS_LOG(warn, "libfabric: cannot receive a request from rank %d: %s", f.src,
                    fi_text(ret).c_str());
          continue;
        }
        const Clock::time_point limit = deadline_after(rpc_timeout());
        while (rop->busy() && Clock::now() < limit) {
          lk.unlock();
          sched_yield();
          lk.lock();
          drain_cq_locked();
        }
        if (rop->busy()) {
          fi_cancel(&ep_->fid, rop.get());
          if (!end_op_locked(rop.get(), Clock::now() + kCancelWait)) {
            (void)rop.release();  // libfabric still owns the operation and the buffer
            in->buf.leak();
          }
          EDAOS_LOG(warn, "libfabric: request from rank %d lost: its data never came", f.src);
          continue;
        }
        if (rop->err) {
          EDAOS_LOG(warn, "libfabric: request from rank %d lost: %s", f.src,
                    fi_text(rop->err).c_str());
          continue;
        }
      }
      if (in->buf.size() < sizeof(RequestHeader))
        in->hdr = RequestHeader{};
      else
        std::memcpy(&in->hdr, in->buf.data(), sizeof in->hdr);
      return true;
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    fid* fids[1] = {&cq_->fid};
    if (fi_trywait(fabric_, fids, 1) != FI_SUCCESS) continue;  // completions pending
    // Replies in flight may need progress no completion announces: wake every millisecond.
    const bool sending = !pending_.empty();
    lk.unlock();
    pollfd pfd[2] = {{wait_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(pfd, 2, sleep_ms(deadline, now, sending)) > 0 && (pfd[1].revents & POLLIN)) {
      uint64_t v;
      (void)!read(wake_fd_, &v, sizeof v);
    }
  }
}

bool OfiTransport::reap_locked() {
  for (size_t i = 0; i < pending_.size();) {
    Pending& p = *pending_[i];
    if (p.env.busy() || p.rest.busy()) {
      ++i;
      continue;
    }
    if (p.env.err || p.rest.err)
      EDAOS_LOG(warn, "libfabric: a reply was not delivered: %s",
                fi_text(p.env.err ? p.env.err : p.rest.err).c_str());
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

void OfiTransport::send_reply(int dest, int tag, std::unique_ptr<Pending> p, const char* data,
                              size_t n) {
  std::lock_guard<std::mutex> lk(mu_);
  p->frame.src = rank_;
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
  if (p->env.busy() || p->rest.busy()) {
    pending_.push_back(std::move(p));
    // A sleeping wait_request re-checks with a short timeout until the reply is out.
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
    return;
  }
  if (p->bulk.capacity() > 0) spare_.give(std::move(p->bulk));
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

bool OfiTransport::progress_replies() {
  std::lock_guard<std::mutex> lk(mu_);
  drain_cq_locked();
  return reap_locked();
}

}  // namespace edaos::objstore::rpc

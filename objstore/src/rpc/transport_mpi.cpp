#include "rpc/transport_mpi.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>

#include "common/backoff.hpp"
#include "common/log.hpp"

EDAOS_LOG_FACILITY(rpc);

namespace edaos::objstore::rpc {

namespace {

// Caps one hindexed block so lengths fit MPI's int counts.
constexpr size_t kMaxBlock = size_t{1} << 30;

// Builds an hindexed byte type over absolute addresses (used with MPI_BOTTOM).
MPI_Datatype make_type(const std::vector<std::pair<const void*, size_t>>& pieces) {
  std::vector<int> lens;
  std::vector<MPI_Aint> displs;
  for (auto& [p, n] : pieces) {
    const char* c = static_cast<const char*>(p);
    for (size_t done = 0; done < n;) {
      size_t k = std::min(kMaxBlock, n - done);
      MPI_Aint a;
      MPI_Get_address(c + done, &a);
      lens.push_back(static_cast<int>(k));
      displs.push_back(a);
      done += k;
    }
  }
  MPI_Datatype t;
  MPI_Type_create_hindexed(static_cast<int>(lens.size()), lens.data(), displs.data(), MPI_BYTE, &t);
  MPI_Type_commit(&t);
  return t;
}

void free_type(MPI_Datatype* t) {
  if (*t != MPI_DATATYPE_NULL) MPI_Type_free(t);
  *t = MPI_DATATYPE_NULL;
}

// The MPI side of one call.
struct MpiCall final : CallState {
  bool posted_recv = false;  // reply goes straight into bulk_in (a receive was posted)
  MPI_Request sreq = MPI_REQUEST_NULL;
  MPI_Request rreq = MPI_REQUEST_NULL;
  MPI_Datatype stype = MPI_DATATYPE_NULL;
  MPI_Datatype rtype = MPI_DATATYPE_NULL;
};

MpiCall* state(Call* c) { return static_cast<MpiCall*>(c->ts.get()); }

}  // namespace

MpiTransport::MpiTransport(MPI_Comm comm) {
  MPI_Comm_dup(comm, &comm_);
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  int flag = 0;
  int* ub = nullptr;
  MPI_Comm_get_attr(comm_, MPI_TAG_UB, &ub, &flag);
  if (flag && ub) tag_ub_ = *ub;
}

MpiTransport::~MpiTransport() {
  for (auto& p : pending_) MPI_Wait(&p->req, MPI_STATUS_IGNORE);
  // Requests still being received (their senders stopped): bounded, then given up; a matched
  // receive cannot be cancelled, so its buffer is left to MPI.
  const Clock::time_point limit = Clock::now() + std::chrono::seconds(2);
  for (auto& r : recvs_) {
    int flag = 0;
    while (MPI_Test(&r->req, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && !flag &&
           Clock::now() < limit)
      sched_yield();
    if (!flag) {
      MPI_Request_free(&r->req);
      r->in.buf.leak();
    }
  }
  recvs_.clear();
  // Abandoned sends go to a peer that stopped answering: do not wait for them.
  for (auto& a : abandoned_) {
    if (a.req != MPI_REQUEST_NULL) MPI_Request_free(&a.req);
    free_type(&a.type);
  }
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

int MpiTransport::next_tag() {
  uint32_t span = static_cast<uint32_t>(std::min(tag_ub_, INT_MAX - 1) - kFirstReplyTag);
  return kFirstReplyTag + static_cast<int>(tag_seq_.fetch_add(1) % span);
}

void MpiTransport::start(Call* c) {
  c->prepare(next_tag(), seq_.fetch_add(1));
  c->ts = std::make_unique<MpiCall>();
  MpiCall* m = state(c);
  // Reply first, so the server's answer always finds a posted receive.
  m->posted_recv = !c->bulk_in.empty();
  if (m->posted_recv) {
    std::vector<std::pair<const void*, size_t>> in{{&c->rep, sizeof c->rep}};
    for (auto& v : c->bulk_in)
      if (v.len) in.emplace_back(v.base, v.len);
    m->rtype = make_type(in);
    if (MPI_Irecv(MPI_BOTTOM, 1, m->rtype, c->server, c->tag, comm_, &m->rreq) != MPI_SUCCESS)
      c->local_error = Status(EDAOS_UNREACH, "cannot post reply receive");
  }
  std::vector<std::pair<const void*, size_t>> out{{&c->hdr, sizeof c->hdr},
                                                  {c->body.data(), c->body.size()}};
  for (auto& v : c->bulk_out)
    if (v.len) out.emplace_back(v.base, v.len);
  m->stype = make_type(out);
  if (MPI_Isend(MPI_BOTTOM, 1, m->stype, c->server, kRequestTag, comm_, &m->sreq) != MPI_SUCCESS)
    c->local_error =
        Status(EDAOS_UNREACH, "cannot send request to rank " + std::to_string(c->server));
}

// Ends a call that failed or timed out: its requests are cancelled; a send MPI cannot cancel
// (its peer stopped answering) is kept and tested later, so nothing waits on it.
void MpiTransport::abandon(Call* c) {
  MpiCall* m = state(c);
  int flag = 0;
  if (m->rreq != MPI_REQUEST_NULL) {
    MPI_Cancel(&m->rreq);
    MPI_Wait(&m->rreq, MPI_STATUS_IGNORE);  // a cancelled receive always completes
  }
  free_type(&m->rtype);
  if (m->sreq != MPI_REQUEST_NULL) {
    MPI_Cancel(&m->sreq);
    MPI_Test(&m->sreq, &flag, MPI_STATUS_IGNORE);
    if (!flag) {
      std::lock_guard<std::mutex> lk(abandoned_mu_);
      abandoned_.push_back({m->sreq, m->stype});
      m->sreq = MPI_REQUEST_NULL;
      m->stype = MPI_DATATYPE_NULL;
    }
  }
  free_type(&m->stype);
  c->ts.reset();
  c->done = true;
}

void MpiTransport::test_abandoned() {
  std::lock_guard<std::mutex> lk(abandoned_mu_);
  for (size_t i = 0; i < abandoned_.size();) {
    int flag = 0;
    MPI_Test(&abandoned_[i].req, &flag, MPI_STATUS_IGNORE);
    if (flag) {
      free_type(&abandoned_[i].type);
      abandoned_[i] = abandoned_.back();
      abandoned_.pop_back();
    } else {
      ++i;
    }
  }
}

// Returns true when the call has completed (reply received and send finished).
bool MpiTransport::test_call(Call* c) {
  if (c->done) return true;
  MpiCall* m = state(c);
  if (!c->local_error.ok()) {
    abandon(c);
    return true;
  }
  int flag = 0;
  if (m->sreq != MPI_REQUEST_NULL) {
    MPI_Test(&m->sreq, &flag, MPI_STATUS_IGNORE);
    if (flag) free_type(&m->stype);
  }
  if (!c->reply_received && m->posted_recv) {
    MPI_Status st;
    MPI_Test(&m->rreq, &flag, &st);
    if (flag) {
      free_type(&m->rtype);
      int bytes = 0;
      MPI_Get_count(&st, MPI_BYTE, &bytes);
      c->take_bulk_reply(static_cast<size_t>(bytes));
    }
  } else if (!c->reply_received) {
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(c->server, c->tag, comm_, &flag, &msg, &st);
    if (flag) {
      int bytes = 0;
      MPI_Get_count(&st, MPI_BYTE, &bytes);
      std::string buf(static_cast<size_t>(bytes), '\0');
      MPI_Mrecv(buf.data(), bytes, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
      c->take_reply(buf.data(), buf.size());
      c->reply_received = true;
    }
  }
  return settle_call(c, m->sreq != MPI_REQUEST_NULL, [this](Call* x) { abandon(x); });
}

void MpiTransport::wait(Call* const* calls, size_t n) {
  wait_rounds([&](bool* progressed) {
    return test_calls(
        calls, n, [this](Call* c) { return test_call(c); }, progressed);
  });
  if (!abandoned_.empty()) test_abandoned();
}

bool MpiTransport::post_receives() {
  bool started = false;
  while (recvs_.size() < kMaxRecvsInFlight) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    MPI_Improbe(MPI_ANY_SOURCE, kRequestTag, comm_, &flag, &msg, &st);
    if (!flag) break;
    int bytes = 0;
    MPI_Get_count(&st, MPI_BYTE, &bytes);
    auto r = std::make_unique<InRecv>();
    r->in.source = st.MPI_SOURCE;
    r->in.buf.resize(static_cast<size_t>(bytes));
    if (MPI_Imrecv(r->in.buf.data(), bytes, MPI_BYTE, &msg, &r->req) != MPI_SUCCESS) {
      EDAOS_LOG(warn, "request of %d bytes from rank %d lost: MPI_Imrecv failed", bytes,
                st.MPI_SOURCE);
      continue;
    }
    recvs_.push_back(std::move(r));
    started = true;
  }
  return started;
}

bool MpiTransport::take_received(Incoming* in) {
  while (!recvs_.empty()) {
    InRecv& r = *recvs_.front();
    int flag = 0;
    if (MPI_Test(&r.req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
      EDAOS_LOG(warn, "request from rank %d lost: its receive failed", r.in.source);
      recvs_.erase(recvs_.begin());
      continue;
    }
    if (!flag) return false;
    *in = std::move(r.in);
    recvs_.erase(recvs_.begin());
    if (in->buf.size() < sizeof(RequestHeader))
      in->hdr = RequestHeader{};
    else
      std::memcpy(&in->hdr, in->buf.data(), sizeof in->hdr);
    return true;
  }
  return false;
}

bool MpiTransport::wait_request(Incoming* in, Clock::time_point deadline) {
  // MPI has no wait object to sleep on: poll with backoff (sleeps of up to 1 ms when idle).
  // The backoff persists across calls, so an idle server that wakes at every deadline does
  // not start over with the yield phase each time.
  for (;;) {
    const bool started = post_receives();
    if (take_received(in)) {
      recv_bo_.reset();
      xfer_bo_.reset();
      return true;
    }
    progress_replies();
    if (Clock::now() >= deadline) return false;
    if (started || !recvs_.empty()) {
      // A receive is moving: yield rather than sleep (its end would be seen up to 1 ms late),
      // for at most 2 ms without progress (a sender that stopped), then sleeps of up to 50 us.
      recv_bo_.reset();
      if (started) xfer_bo_.reset();
      xfer_bo_.pause();
      continue;
    }
    // Pause even while replies are in flight: a tight loop here would hold MPI's global lock
    // against the application's threads (a client in this process among them).
    recv_bo_.pause();
  }
}

void MpiTransport::reply(int dest, int tag, std::string buf) {
  if (buf.size() > static_cast<size_t>(INT_MAX)) {
    EDAOS_LOG(error, "reply of %zu bytes too large", buf.size());
    return;
  }
  auto p = std::make_unique<Pending>();
  p->buf = std::move(buf);
  MPI_Isend(p->buf.data(), static_cast<int>(p->buf.size()), MPI_BYTE, dest, tag, comm_, &p->req);
  std::lock_guard<std::mutex> lk(pending_mu_);
  pending_.push_back(std::move(p));
}

Buffer MpiTransport::reply_buffer(size_t n) { return spare_.take(n); }

void MpiTransport::reply(int dest, int tag, Buffer buf) {
  if (buf.size() > static_cast<size_t>(INT_MAX)) {
    EDAOS_LOG(error, "reply of %zu bytes too large", buf.size());
    return;
  }
  auto p = std::make_unique<Pending>();
  p->bulk = std::move(buf);
  MPI_Isend(p->bulk.data(), static_cast<int>(p->bulk.size()), MPI_BYTE, dest, tag, comm_, &p->req);
  std::lock_guard<std::mutex> lk(pending_mu_);
  pending_.push_back(std::move(p));
}

bool MpiTransport::progress_replies() {
  std::vector<Buffer> sent;
  bool left;
  {
    std::lock_guard<std::mutex> lk(pending_mu_);
    for (size_t i = 0; i < pending_.size();) {
      int flag = 0;
      MPI_Test(&pending_[i]->req, &flag, MPI_STATUS_IGNORE);
      if (flag) {
        if (pending_[i]->bulk.capacity() > 0) sent.push_back(std::move(pending_[i]->bulk));
        pending_[i] = std::move(pending_.back());
        pending_.pop_back();
      } else {
        ++i;
      }
    }
    left = !pending_.empty();
  }
  for (auto& b : sent) spare_.give(std::move(b));
  return left;
}

}  // namespace edaos::objstore::rpc

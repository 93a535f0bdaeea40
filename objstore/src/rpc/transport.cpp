#include "rpc/transport.hpp"

#include <algorithm>
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

}  // namespace

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
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

int MpiTransport::next_tag() {
  uint32_t span = static_cast<uint32_t>(std::min(tag_ub_, INT_MAX - 1) - kFirstReplyTag);
  return kFirstReplyTag + static_cast<int>(tag_seq_.fetch_add(1) % span);
}

void MpiTransport::start(Call* c) {
  c->done = false;
  c->reply_received = false;
  c->local_error = Status::OK();
  c->rep = ReplyHeader{};
  c->payload.clear();
  c->err_msg.clear();
  c->tag = next_tag();
  c->hdr = RequestHeader{kMagic,
                         kProtocolVersion,
                         static_cast<uint16_t>(c->op),
                         c->tag,
                         static_cast<uint32_t>(c->body.size()),
                         seq_.fetch_add(1),
                         0};
  // Reply first, so the server's answer always finds a posted receive.
  c->posted_recv = !c->bulk_in.empty();
  if (c->posted_recv) {
    std::vector<std::pair<const void*, size_t>> in{{&c->rep, sizeof c->rep}};
    for (auto& v : c->bulk_in)
      if (v.len) in.emplace_back(v.base, v.len);
    c->rtype = make_type(in);
    if (MPI_Irecv(MPI_BOTTOM, 1, c->rtype, c->server, c->tag, comm_, &c->rreq) != MPI_SUCCESS)
      c->local_error = Status(EDAOS_UNREACH, "cannot post reply receive");
  }
  std::vector<std::pair<const void*, size_t>> out{{&c->hdr, sizeof c->hdr},
                                                  {c->body.data(), c->body.size()}};
  for (auto& v : c->bulk_out)
    if (v.len) out.emplace_back(v.base, v.len);
  c->stype = make_type(out);
  if (MPI_Isend(MPI_BOTTOM, 1, c->stype, c->server, kRequestTag, comm_, &c->sreq) != MPI_SUCCESS)
    c->local_error =
        Status(EDAOS_UNREACH, "cannot send request to rank " + std::to_string(c->server));
}

// Returns true when the call has completed (reply received and send finished).
bool MpiTransport::test_call(Call* c) {
  if (c->done) return true;
  if (!c->local_error.ok()) {
    if (c->sreq != MPI_REQUEST_NULL) MPI_Cancel(&c->sreq);
    if (c->rreq != MPI_REQUEST_NULL) MPI_Cancel(&c->rreq);
    free_type(&c->stype);
    free_type(&c->rtype);
    c->done = true;
    return true;
  }
  int flag = 0;
  if (c->sreq != MPI_REQUEST_NULL) {
    MPI_Test(&c->sreq, &flag, MPI_STATUS_IGNORE);
    if (flag) free_type(&c->stype);
  }
  if (!c->reply_received && c->posted_recv) {
    MPI_Status st;
    MPI_Test(&c->rreq, &flag, &st);
    if (flag) {
      free_type(&c->rtype);
      int bytes = 0;
      MPI_Get_count(&st, MPI_BYTE, &bytes);
      if (bytes < static_cast<int>(sizeof(ReplyHeader))) {
        c->local_error = Status(EDAOS_PROTO, "short reply");
      } else if (c->rep.status != EDAOS_OK && c->rep.msg_len > 0) {
        // An error reply's message landed in the bulk buffers: take it from there.
        size_t want =
            std::min<size_t>(c->rep.msg_len, static_cast<size_t>(bytes) - sizeof(ReplyHeader));
        for (const IoVec& v : c->bulk_in) {
          if (want == 0) break;
          const size_t k = std::min(want, v.len);
          c->err_msg.append(static_cast<const char*>(v.base), k);
          want -= k;
        }
      }
      c->reply_received = true;
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
      if (buf.size() < sizeof(ReplyHeader)) {
        c->local_error = Status(EDAOS_PROTO, "short reply");
      } else {
        std::memcpy(&c->rep, buf.data(), sizeof c->rep);
        if (c->rep.status != EDAOS_OK)
          c->err_msg = buf.substr(sizeof c->rep, c->rep.msg_len);
        else
          c->payload = buf.substr(sizeof c->rep);
      }
      c->reply_received = true;
    }
  }
  if (c->reply_received && c->sreq == MPI_REQUEST_NULL) {
    c->done = true;
    if (c->rep.status != EDAOS_OK && c->err_msg.empty())
      c->err_msg = edaos_status_describe(c->rep.status);
  }
  return c->done;
}

void MpiTransport::wait(Call* const* calls, size_t n) {
  Backoff bo;
  for (;;) {
    bool all = true, progressed = false;
    for (size_t i = 0; i < n; ++i) {
      if (calls[i]->done) continue;
      if (test_call(calls[i]))
        progressed = true;
      else
        all = false;
    }
    if (all) return;
    if (progressed)
      bo.reset();
    else
      bo.pause();
  }
}

bool MpiTransport::poll_request(Incoming* in) {
  int flag = 0;
  MPI_Message msg;
  MPI_Status st;
  MPI_Improbe(MPI_ANY_SOURCE, kRequestTag, comm_, &flag, &msg, &st);
  if (!flag) return false;
  int bytes = 0;
  MPI_Get_count(&st, MPI_BYTE, &bytes);
  in->buf.resize(static_cast<size_t>(bytes));
  MPI_Mrecv(in->buf.data(), bytes, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
  in->source = st.MPI_SOURCE;
  if (in->buf.size() < sizeof(RequestHeader)) {
    in->hdr = RequestHeader{};
    return true;
  }
  std::memcpy(&in->hdr, in->buf.data(), sizeof in->hdr);
  return true;
}

void MpiTransport::reply(int dest, int tag, std::string buf) {
  if (buf.size() > static_cast<size_t>(INT_MAX)) {
    EDAOS_LOG(error, "reply of %zu bytes too large", buf.size());
    return;
  }
  auto p = std::make_unique<Pending>();
  p->buf = std::move(buf);
  MPI_Isend(p->buf.data(), static_cast<int>(p->buf.size()), MPI_BYTE, dest, tag, comm_, &p->req);
  pending_.push_back(std::move(p));
}

Buffer MpiTransport::reply_buffer(size_t n) {
  // The smallest spare that is large enough; else a new buffer.
  size_t best = spare_.size();
  for (size_t i = 0; i < spare_.size(); ++i)
    if (spare_[i].capacity() >= n &&
        (best == spare_.size() || spare_[i].capacity() < spare_[best].capacity()))
      best = i;
  Buffer b;
  if (best < spare_.size()) {
    spare_bytes_ -= spare_[best].capacity();
    b = std::move(spare_[best]);
    spare_.erase(spare_.begin() + static_cast<std::ptrdiff_t>(best));
  }
  b.resize(0);
  b.resize(n);
  return b;
}

void MpiTransport::reply(int dest, int tag, Buffer buf) {
  if (buf.size() > static_cast<size_t>(INT_MAX)) {
    EDAOS_LOG(error, "reply of %zu bytes too large", buf.size());
    return;
  }
  auto p = std::make_unique<Pending>();
  p->bulk = std::move(buf);
  MPI_Isend(p->bulk.data(), static_cast<int>(p->bulk.size()), MPI_BYTE, dest, tag, comm_, &p->req);
  pending_.push_back(std::move(p));
}

bool MpiTransport::progress_replies() {
  for (size_t i = 0; i < pending_.size();) {
    int flag = 0;
    MPI_Test(&pending_[i]->req, &flag, MPI_STATUS_IGNORE);
    if (flag) {
      Buffer& b = pending_[i]->bulk;
      if (b.capacity() > 0 && b.capacity() <= kMaxSpareBytes) {
        while (!spare_.empty() &&
               (spare_.size() >= kMaxSpare || spare_bytes_ + b.capacity() > kMaxSpareBytes)) {
          spare_bytes_ -= spare_.front().capacity();  // the oldest goes
          spare_.erase(spare_.begin());
        }
        spare_bytes_ += b.capacity();
        spare_.push_back(std::move(b));
      }
      pending_[i] = std::move(pending_.back());
      pending_.pop_back();
    } else {
      ++i;
    }
  }
  return !pending_.empty();
}

}  // namespace edaos::objstore::rpc

// RPC transport: how clients reach server ranks and how server ranks answer.
//
// The interface hides MPI so a native UCX/libfabric transport can follow. The first (and so
// far only) implementation, MpiTransport, runs over a private duplicate of the job's
// communicator; it requires MPI_THREAD_MULTIPLE because the server progress thread and the
// application's threads call MPI concurrently.
//
// Client contract: fill a Call, start() it, then wait() on one or many calls. Requests and
// bulk data go out without copies (an hindexed datatype over the caller's buffers); bulk read
// replies land straight in `bulk_in` buffers. Buffers must stay valid until wait() returns.
#pragma once

#include <mpi.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"
#include "rpc/proto.hpp"

namespace edaos::objstore::rpc {

struct Call {
  // --- filled by the caller ---
  int server = -1;  // rank in the transport's communicator
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
  int tag = 0;
  bool done = false;
  bool posted_recv = false;  // reply goes straight into bulk_in (a receive was posted)
  bool reply_received = false;
  RequestHeader hdr{};
  MPI_Request sreq = MPI_REQUEST_NULL;
  MPI_Request rreq = MPI_REQUEST_NULL;
  MPI_Datatype stype = MPI_DATATYPE_NULL;
  MPI_Datatype rtype = MPI_DATATYPE_NULL;
  Status local_error;
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
  int source = -1;
  RequestHeader hdr{};
  Buffer buf;  // whole message; body at sizeof(RequestHeader), bulk after the body
  const char* body() const { return buf.data() + sizeof(RequestHeader); }
  size_t body_len() const { return hdr.body_len; }
  const char* bulk() const { return body() + hdr.body_len; }
  size_t bulk_len() const { return buf.size() - sizeof(RequestHeader) - hdr.body_len; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Client side. start() posts the reply receive, then sends the request.
  virtual void start(Call* c) = 0;
  // Waits until every call completes (successfully or not). Never spins without yielding.
  virtual void wait(Call* const* calls, size_t n) = 0;
  // start + wait for one call; returns its status.
  Status call(Call* c) {
    start(c);
    wait(&c, 1);
    return c->status();
  }

  // Server side. Non-blocking: returns true and fills `in` when a request was waiting.
  virtual bool poll_request(Incoming* in) = 0;
  // Sends a reply; `buf` starts with a ReplyHeader and is owned by the transport until sent.
  virtual void reply(int dest, int tag, std::string buf) = 0;
  // Bulk replies: a buffer of at least `n` bytes (contents undefined, size() == n), recycled
  // from replies already sent, to fill and pass to reply_buffer (which owns it until sent).
  virtual Buffer reply_buffer(size_t n) = 0;
  virtual void reply(int dest, int tag, Buffer buf) = 0;
  // Advances pending replies; returns true while some are still in flight.
  virtual bool progress_replies() = 0;
};

// Builds a reply buffer: header (+ error message or payload).
std::string make_reply(const Status& st, uint64_t value = 0, uint64_t value2 = 0,
                       std::string_view payload = {});

class MpiTransport final : public Transport {
 public:
  // Duplicates `comm`; the duplicate is freed by the destructor (call it before MPI_Finalize).
  explicit MpiTransport(MPI_Comm comm);
  ~MpiTransport() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  MPI_Comm comm() const { return comm_; }

  void start(Call* c) override;
  void wait(Call* const* calls, size_t n) override;
  bool poll_request(Incoming* in) override;
  void reply(int dest, int tag, std::string buf) override;
  Buffer reply_buffer(size_t n) override;
  void reply(int dest, int tag, Buffer buf) override;
  bool progress_replies() override;

 private:
  int next_tag();
  bool test_call(Call* c);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 0, tag_ub_ = 32767;
  std::atomic<uint32_t> tag_seq_{0};
  std::atomic<uint64_t> seq_{0};
  struct Pending {
    MPI_Request req = MPI_REQUEST_NULL;
    std::string buf;  // must not move while the send is in flight: held by unique_ptr
    Buffer bulk;      // or this one (bulk replies), recycled when sent
  };
  std::vector<std::unique_ptr<Pending>> pending_;  // server thread only
  // Sent bulk-reply buffers kept for reuse (server thread only): at most kMaxSpare buffers and
  // kMaxSpareBytes in all (the oldest go first).
  static constexpr size_t kMaxSpare = 16;
  static constexpr size_t kMaxSpareBytes = size_t{64} << 20;
  std::vector<Buffer> spare_;
  size_t spare_bytes_ = 0;
};

}  // namespace edaos::objstore::rpc

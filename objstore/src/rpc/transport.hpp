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
#include <memory>
#include <string>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"
#include "rpc/proto.hpp"

namespace edaos::objstore::rpc {

struct Call {
  // --- filled by the caller ---
  int server = -1;                    // rank in the transport's communicator
  Op op = Op::kSync;
  std::string body;                   // encoded op body
  std::vector<ConstIoVec> bulk_out;   // data appended to the request, not copied
  std::vector<IoVec> bulk_in;         // reply payload lands here; empty: payload -> `payload`
  // --- results, valid after wait() ---
  ReplyHeader rep{};
  std::string payload;                // reply payload when bulk_in is empty
  std::string err_msg;                // server's message when rep.status != OK
  // OK, or the server's status with its message, or a transport failure.
  Status status() const;

  // --- transport internals ---
  int tag = 0;
  bool done = false;
  bool posted_recv = false;     // reply goes straight into bulk_in (a receive was posted)
  bool reply_received = false;
  RequestHeader hdr{};
  MPI_Request sreq = MPI_REQUEST_NULL;
  MPI_Request rreq = MPI_REQUEST_NULL;
  MPI_Datatype stype = MPI_DATATYPE_NULL;
  MPI_Datatype rtype = MPI_DATATYPE_NULL;
  Status local_error;
};

// A request received by a server.
struct Incoming {
  int source = -1;
  RequestHeader hdr{};
  std::string buf;  // whole message; body at sizeof(RequestHeader), bulk after the body
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
  };
  std::vector<std::unique_ptr<Pending>> pending_;  // server thread only
};

}  // namespace edaos::objstore::rpc

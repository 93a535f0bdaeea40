// The MPI transport: RPCs over a private duplicate of the job's communicator.
//
// Requests go to kRequestTag with an hindexed datatype over the caller's buffers (no copy on
// the client side); bulk read replies are received straight into bulk_in. Needs
// MPI_THREAD_MULTIPLE: the server thread and the application's threads call MPI at once.
// No wait object exists: wait() and wait_request() poll with backoff.
//
// Server side, receives are posted ahead: every request MPI_Improbe finds gets its own
// MPI_Imrecv at once (up to kMaxRecvsInFlight), completed by later passes of wait_request, so
// the server thread never blocks inside a receive (a large request's rendezvous moves while it
// accepts and serves others) and requests are handed out in the order they were matched (the
// order of one sender's messages holds). While receives are in flight the thread yields
// instead of sleeping.
#pragma once

#include <mpi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/backoff.hpp"
#include "rpc/transport.hpp"

namespace edaos::objstore::rpc {

class MpiTransport final : public Transport {
 public:
  // Duplicates `comm`; the duplicate is freed by the destructor (call it before MPI_Finalize).
  explicit MpiTransport(MPI_Comm comm);
  ~MpiTransport() override;
  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return comm_; }

  void start(Call* c) override;
  void wait(Call* const* calls, size_t n) override;
  bool wait_request(Incoming* in, Clock::time_point deadline) override;
  void reply(int dest, int tag, std::string buf) override;
  Buffer reply_buffer(size_t n) override;
  void reply(int dest, int tag, Buffer buf) override;
  bool progress_replies() override;

 private:
  int next_tag();
  bool test_call(Call* c);
  void abandon(Call* c);
  // Starts a receive for every request that has arrived (up to kMaxRecvsInFlight in flight);
  // true when one started.
  bool post_receives();
  // Hands out the oldest receive when it has completed.
  bool take_received(Incoming* in);
  void test_abandoned();

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 0, tag_ub_ = 32767;
  std::atomic<uint32_t> tag_seq_{0};
  std::atomic<uint64_t> seq_{0};
  struct Pending {
    MPI_Request req = MPI_REQUEST_NULL;
    std::string buf;  // must not move while the send is in flight: held by unique_ptr
    Buffer bulk;      // or this one (bulk replies), recycled when sent
  };
  std::mutex pending_mu_;
  std::vector<std::unique_ptr<Pending>> pending_;
  SparePool spare_;
  Backoff recv_bo_{1000};  // wait_request's (one receiving thread)
  Backoff xfer_bo_{50};    // ... while receives are in flight
  // Requests being received (MPI_Imrecv), in match order; the receiving thread's only.
  static constexpr size_t kMaxRecvsInFlight = 16;
  struct InRecv {
    MPI_Request req = MPI_REQUEST_NULL;
    Incoming in;
  };
  std::vector<std::unique_ptr<InRecv>> recvs_;
  // Sends of timed-out calls that MPI could not cancel: tested until they finish.
  struct Abandoned {
    MPI_Request req = MPI_REQUEST_NULL;
    MPI_Datatype type = MPI_DATATYPE_NULL;
  };
  std::mutex abandoned_mu_;
  std::vector<Abandoned> abandoned_;
};

}  // namespace edaos::objstore::rpc

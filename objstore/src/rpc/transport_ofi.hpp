// The libfabric transport: RPCs as tagged messages on one FI_EP_RDM endpoint per process.
//
// The provider is libfabric's choice among those offering FI_EP_RDM + FI_TAGGED + a CQ with
// FI_WAIT_FD (FI_PROVIDER narrows it: tcp, shm...). One endpoint, completion queue and
// address vector per process, shared by the client threads and the server thread (every
// libfabric call under mu_, FI_THREAD_DOMAIN). Each rank's endpoint name is exchanged once at
// start by the runtime (set_peers fills the address vector).
//
// Wire: every message is an envelope, a 16-byte Frame (rest length, id, sender rank) followed
// by the message itself when it fits in kOfiEager bytes; a larger message follows the envelope
// as a second tagged message (the "rest") that the receiver posts straight into its final
// buffer: the server's request buffer, or the caller's [ReplyHeader, bulk_in] for bulk reads.
// A request is [RequestHeader, body, bulk_out]; a reply is [ReplyHeader, payload]. Servers keep
// kOfiSlots envelope receives posted.
//
// Progress: the server thread sleeps in poll() on the CQ's wait fd once fi_trywait says no
// completion is pending. Client waits read the CQ and pause with Backoff between tries.
#pragma once

#include <rdma/fabric.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::rpc {

class OfiTransport final : public Transport {
 public:
  // Opens the fabric, endpoint, CQ and AV for job rank `rank`; null with *err set when no
  // provider fits.
  static std::unique_ptr<OfiTransport> open(int rank, Status* err);
  ~OfiTransport() override;
  OfiTransport(const OfiTransport&) = delete;
  OfiTransport& operator=(const OfiTransport&) = delete;

  const std::string& address() const { return addr_; }
  // The provider in use (fi_info's prov_name), for logs and benchmarks.
  const std::string& provider() const { return prov_; }
  // Every rank's endpoint name (index = job rank); call once, before any RPC.
  void set_peers(std::vector<std::string> addrs);

  void start(Call* c) override;
  void wait(Call* const* calls, size_t n) override;
  bool wait_request(Incoming* in, Clock::time_point deadline) override;
  void reply(int dest, int tag, std::string buf) override;
  Buffer reply_buffer(size_t n) override;
  void reply(int dest, int tag, Buffer buf) override;
  bool progress_replies() override;

  struct Op;  // one posted operation (transport_ofi.cpp)

 private:
  struct Pending;
  struct Slot;
  OfiTransport() = default;
  void drain_cq_locked();
  int post_send_locked(Op* op, int dest, uint64_t tag, const std::vector<ConstIoVec>& parts,
                       Buffer* stage);
  int post_recv_locked(Op* op, int src, uint64_t tag, uint64_t ignore,
                       const std::vector<IoVec>& parts);
  bool end_op_locked(Op* op, Clock::time_point limit);
  void retry_deferred_locked();
  void undefer_locked(Op* op);
  bool test_call_locked(Call* c);
  void abandon_locked(Call* c);
  void post_slots_locked();
  void send_reply(int dest, int tag, std::unique_ptr<Pending> p, const char* data, size_t n);
  bool reap_locked();

  std::mutex mu_;
  fi_info* info_ = nullptr;
  fid_fabric* fabric_ = nullptr;
  fid_domain* domain_ = nullptr;
  fid_ep* ep_ = nullptr;
  fid_av* av_ = nullptr;
  fid_cq* cq_ = nullptr;
  int wait_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: a reply was left in flight (wakes wait_request)
  size_t iov_limit_ = 1;
  int rank_ = 0;
  std::string addr_, prov_;
  std::vector<fi_addr_t> peers_;
  uint32_t tag_seq_ = 0, id_seq_ = 0;
  uint64_t seq_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;       // posted request envelopes (servers)
  std::deque<Slot*> arrived_;                      // completed envelopes, in arrival order
  std::deque<Op*> deferred_;                       // sends waiting for the provider, in order
  std::vector<std::unique_ptr<Pending>> pending_;  // replies in flight
  std::vector<std::unique_ptr<CallState>> stuck_;  // abandoned operations libfabric kept
  SparePool spare_;
};

}  // namespace edaos::objstore::rpc

// The UCX transport: RPCs as UCP tagged messages between the job's processes.
//
// One UCP context and worker per process, shared by the client threads and the server thread
// (every worker call under mu_). Each rank's worker address is exchanged once at start by the
// runtime (set_peers); endpoints are created on first use. Peer error handling is opt-in
// ($EDAOS_UCX_PEER_ERRORS=1): UCX 1.13 then leaves out its shared-memory transports and runs
// over tcp even on one node; without it a dead peer is found by the RPC timeout.
//
// Wire: a request is one tagged message over [RequestHeader, body, bulk_out] (kReq | source
// rank); a reply is one message [ReplyHeader, payload] (kRep | reply tag) received into a
// head buffer. A payload of more than 16 KiB travels as its own contiguous message after the
// head (kReqSplit/kReqRest, kRepSplit/kRepRest): received straight into the server's request
// buffer or the caller's bulk_in, so UCX's rendezvous moves it with one copy (CMA,
// process_vm_readv, on one node when ptrace is allowed); an iovec payload would go through
// bounce buffers. A reply with a data section (a kShardVec read: table, bytes, messages) sends
// only the section after the head (which carries the table and messages), so the bytes of a
// read into one contiguous buffer are one contiguous receive into the application's memory.
//
// Progress: every waiting thread (the server thread for requests, a client thread for its
// calls' replies) sleeps in poll() on the worker's event fd after ucp_worker_arm, so the
// message it waits for wakes it once, directly (no backoff sleeps, no wake-up through another
// thread). A client first polls the worker (yielding the core) after its last progress, for
// the window its thread's SpinPolicy gives (at most $EDAOS_RPC_SPIN_US microseconds, default
// kDefaultSpinUs; 0 when its recent replies came later than that). Threads share the worker: a
// thread whose progress took in what another sleeping thread waits for (a reply of its calls, a
// request for the server) wakes that thread through its own eventfd before it arms the worker (an
// arm drains the worker's event fd, so the sleeper's poll would otherwise miss the event).
#pragma once

#include <ucp/api/ucp.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rpc/transport.hpp"

namespace edaos::objstore::rpc {

class UcxTransport final : public Transport {
 public:
  // Opens the context and worker for job rank `rank`; null with *err set when UCX cannot start.
  static std::unique_ptr<UcxTransport> open(int rank, Status* err);
  ~UcxTransport() override;
  UcxTransport(const UcxTransport&) = delete;
  UcxTransport& operator=(const UcxTransport&) = delete;

  // This worker's address, to exchange with the job.
  const std::string& address() const { return addr_; }
  // Every rank's worker address (index = job rank); call once, before any RPC.
  void set_peers(std::vector<std::string> addrs);

  void start(Call* c) override;
  void wait(Call* const* calls, size_t n) override;
  bool wait_request(Incoming* in, Clock::time_point deadline) override;
  void reply(int dest, int tag, std::string buf) override;
  Buffer reply_buffer(size_t n) override;
  void reply(int dest, int tag, Buffer buf) override;
  void reply(int dest, int tag, Buffer buf, size_t data_off, size_t data_len) override;
  bool progress_replies() override;

 private:
  struct Pending;
  struct Sleeper;
  UcxTransport() = default;
  ucp_ep_h ep_locked(int rank);
  void drop_ep_locked(int rank);
  unsigned progress_locked();  // worker events progressed
  bool test_call_locked(Call* c);
  void abandon_locked(Call* c);
  bool end_request_locked(void** req, ucs_status_t* st, ucp_tag_recv_info_t* info,
                          Clock::time_point limit);
  Status send_locked(ucp_ep_h ep, const std::vector<ucp_dt_iov_t>& iov, uint64_t tag, void** req);
  Status recv_locked(const std::vector<ucp_dt_iov_t>& iov, uint64_t tag, uint64_t mask, void** req);
  struct Arriving;
  ucs_status_t recv_msg_locked(ucp_tag_message_h msg, char* dst, size_t len, void** req);
  void advance_locked(Arriving& a);
  void start_section_locked(Call* c, size_t n);
  void send_reply(int dest, int tag, std::unique_ptr<Pending> p, const void* data, size_t n);
  void send_parts(int dest, int tag, std::unique_ptr<Pending> p, const char* head, size_t head_n,
                  const char* rest, size_t rest_n);
  bool reap_locked();
  // Sleeps (mu_ held on entry and on return) on the worker's event fd and on `me`'s wake fd
  // for at most `ms`; false without sleeping when the worker has events to progress first.
  bool sleep_locked(std::unique_lock<std::mutex>& lk, Sleeper* me, int ms);
  // Wakes every sleeping thread but `self` that has something to take (see Progress above).
  void wake_others_locked(const Sleeper* self);
  bool has_news_locked(const Sleeper& s);
  static void on_ep_error(void* arg, ucp_ep_h ep, ucs_status_t status);

  std::mutex mu_;  // the worker, eps_, pending_
  ucp_context_h ctx_ = nullptr;
  ucp_worker_h worker_ = nullptr;
  int efd_ = -1;
  int rank_ = 0;
  std::string addr_;
  std::vector<std::string> peers_;
  std::vector<ucp_ep_h> eps_;
  std::vector<char> ep_failed_;
  uint32_t tag_seq_ = 0, id_seq_ = 0;
  uint64_t seq_ = 0;
  std::vector<std::unique_ptr<Pending>> pending_;  // replies in flight
  std::vector<std::unique_ptr<CallState>> stuck_;  // ended calls whose operations UCX still has
  std::vector<Sleeper*> sleepers_;                 // threads in sleep_locked's poll()
  // Requests being received by the server thread (wait_request), in arrival order.
  static constexpr size_t kMaxArriving = 64;
  static constexpr Clock::duration kArrivingYoung = std::chrono::milliseconds(10);
  std::vector<std::unique_ptr<Arriving>> arriving_;
  int pollers_ = 0;           // threads polling in wait() and wait_request()
  bool peer_errors_ = false;  // $EDAOS_UCX_PEER_ERRORS=1
  SparePool spare_;
};

}  // namespace edaos::objstore::rpc

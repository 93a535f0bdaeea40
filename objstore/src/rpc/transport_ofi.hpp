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
// RMA (session 9), when the provider offers FI_RMA: a request whose bulk_out is at least
// rma_min() bytes registers those buffers (fi_mr_reg, at most kOfiRmaPieces pieces) and names
// them (address, key, length) at the end of its envelope instead of carrying the bytes; the
// server fi_reads them into its request buffer, serving others meanwhile (fetching_). A call
// whose bulk_in is that large offers it the same way, and a reply whose payload is that large
// and fits is fi_written into it by the server, whose reply envelope (Frame + ReplyHeader) follows
// only once the writes completed (and, on providers that do not order a send after a write, with
// FI_DELIVERY_COMPLETE). Regions are registered per call and closed when the call ends (abandoned
// calls first, so nothing writes into the caller's buffers after wait() returns). EDAOS_OFI_RMA_MIN
// (bytes; "off" disables RMA) overrides the threshold.
//
// Progress: the server thread sleeps in poll() on the CQ's wait fd once fi_trywait says no
// completion is pending. Client waits poll and then sleep the same way, as UCX's do
// (poll_then_sleep, the thread's SpinPolicy); a thread that reads completions wakes the others
// sleeping on the endpoint through their eventfds.
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
  // Payloads at least this large move by RMA (0: the provider has no FI_RMA or it is off).
  size_t rma_min() const { return rma_ ? rma_min_ : 0; }
  // What moved how, this process (tests and benchmarks).
  struct Counts {
    uint64_t rma_read = 0;        // server: request payload bytes fetched by fi_read
    uint64_t rma_written = 0;     // server: reply payload bytes put by fi_write
    uint64_t tagged_payload = 0;  // request bulk and reply payload bytes sent in tagged messages
    uint64_t rma_replies = 0;     // client: replies whose payload came by RMA
    int64_t regions = 0;          // client: memory regions registered now
  };
  Counts counts();

  void start(Call* c) override;
  void wait(Call* const* calls, size_t n) override;
  bool wait_request(Incoming* in, Clock::time_point deadline) override;
  void reply(int dest, int tag, std::string buf) override;
  Buffer reply_buffer(size_t n) override;
  void reply(int dest, int tag, Buffer buf) override;
  bool progress_replies() override;

  struct Op;     // one posted operation (transport_ofi.cpp)
  struct Frame;  // the head of every message (transport_ofi.cpp)

 private:
  struct Pending;
  struct Slot;
  // A request being taken in: its payload read by RMA, its rest received by a tagged message
  // (session 10), or a request queued behind one of its sender's that is (a client's requests
  // keep their order).
  struct Fetch {
    Incoming in;
    std::vector<std::unique_ptr<Op>> ops;  // the reads (none: whole already)
    bool tagged = false;  // the rest of a two-message request (no RMA): header not known yet
    size_t out = 0;       // payload bytes read
    std::string why;      // why it failed ("": not failed)
    Clock::time_point born, limit;
  };
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
  size_t drain_cq_counted_locked();
  void post_head_locked(Pending* p);
  void post_tagged_reply_locked(Pending* p);
  int post_rma_locked(Op* op, bool write, char* local, size_t len, int peer, uint64_t addr,
                      uint64_t key);
  void wake_sleepers_locked();
  void reset_peer_locked(int r);
  void sleep_client_locked(std::unique_lock<std::mutex>& lk, int ms);
  void start_fetch_locked(const Frame& f, const char* env, size_t env_len, Buffer buf);
  bool next_fetch_locked(Incoming* in, bool* young);
  bool take_request_locked(Incoming* in, bool* young);

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
  std::vector<std::string> addrs_;  // every rank's endpoint name (reset_peer_locked)
  uint32_t tag_seq_ = 0, id_seq_ = 0;
  uint64_t seq_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;       // posted request envelopes (servers)
  std::deque<Slot*> arrived_;                      // completed envelopes, in arrival order
  std::deque<std::unique_ptr<Fetch>> fetching_;    // requests taken in, in arrival order
  std::deque<Op*> deferred_;                       // sends waiting for the provider, in order
  std::vector<std::unique_ptr<Pending>> pending_;  // replies in flight
  std::vector<std::unique_ptr<CallState>> stuck_;  // abandoned operations libfabric kept
  SparePool spare_;
  // RMA (session 9).
  bool rma_ = false;     // the provider offers FI_RMA and it is not turned off
  bool rma_dc_ = false;  // writes ask FI_DELIVERY_COMPLETE (no send-after-write order)
  bool mr_virt_ = false, mr_prov_key_ = false, mr_endpoint_ = false;
  size_t rma_min_ = 0;
  uint64_t mr_key_seq_ = 1;
  // Reply buffers offered by requests, by (client rank, reply tag), oldest first (bounded).
  std::vector<std::pair<uint64_t, std::string>> offers_;
  Counts counts_;
  // Threads sleeping on the CQ: client threads' wake fds; the server thread's flag.
  std::vector<int> sleepers_;
  bool server_sleeping_ = false;
  int pollers_ = 0;
};

}  // namespace edaos::objstore::rpc

#include "rpc/transport_loopback.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>

namespace edaos::objstore::rpc {

class LoopbackFabric::ServerEnd final : public Transport {
 public:
  ServerEnd(LoopbackFabric* f) : f_(f) {}
  void start(Call* c) override {
    c->local_error = Status(EDAOS_NOTSUP, "a loopback server endpoint sends no requests");
    c->done = true;
  }
  void wait(Call* const*, size_t) override {}
  bool wait_request(Incoming* in, Clock::time_point deadline) override {
    std::unique_lock<std::mutex> lk(mu_);
    if (!cv_.wait_until(lk, deadline, [this] { return !q_.empty(); })) return false;
    *in = std::move(q_.front());
    q_.pop_front();
    return true;
  }
  void reply(int, int tag, std::string buf) override { f_->deliver(tag, buf.data(), buf.size()); }
  Buffer reply_buffer(size_t n) override { return f_->spare_.take(n); }
  void reply(int, int tag, Buffer buf) override {
    f_->deliver(tag, buf.data(), buf.size());
    f_->spare_.give(std::move(buf));
  }
  bool progress_replies() override { return false; }  // replies are delivered at once

  void push(Incoming in) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      q_.push_back(std::move(in));
    }
    cv_.notify_one();
  }

 private:
  LoopbackFabric* f_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Incoming> q_;
};

class LoopbackFabric::ClientEnd final : public Transport {
 public:
  ClientEnd(LoopbackFabric* f) : f_(f) {}
  void start(Call* c) override {
    c->prepare(next_tag(), seq_.fetch_add(1));
    if (c->server < 0 || c->server >= f_->nservers()) {
      c->local_error =
          Status(EDAOS_UNREACH, "no loopback server rank " + std::to_string(c->server));
      c->done = true;
      return;
    }
    Incoming in;
    in.source = f_->client_rank();
    in.hdr = c->hdr;
    size_t n = sizeof c->hdr + c->body.size();
    for (auto& v : c->bulk_out) n += v.len;
    in.buf.resize(n);
    char* p = in.buf.data();
    std::memcpy(p, &c->hdr, sizeof c->hdr);
    p += sizeof c->hdr;
    if (!c->body.empty()) std::memcpy(p, c->body.data(), c->body.size());
    p += c->body.size();
    for (auto& v : c->bulk_out) {
      if (v.len) std::memcpy(p, v.base, v.len);
      p += v.len;
    }
    {
      std::lock_guard<std::mutex> lk(f_->mu_);
      f_->calls_[c->tag] = c;
    }
    f_->servers_[static_cast<size_t>(c->server)]->push(std::move(in));
  }
  void wait(Call* const* calls, size_t n) override {
    std::unique_lock<std::mutex> lk(f_->mu_);
    for (;;) {
      bool all = true;
      Clock::time_point next = Clock::time_point::max();
      const Clock::time_point now = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        Call* c = calls[i];
        if (c->done) continue;
        if (now >= c->deadline) {
          f_->calls_.erase(c->tag);
          c->time_out();
          c->done = true;
          continue;
        }
        all = false;
        next = std::min(next, c->deadline);
      }
      if (all) return;
      if (next == Clock::time_point::max())
        f_->cv_.wait(lk);
      else
        f_->cv_.wait_until(lk, next);
    }
  }
  bool wait_request(Incoming*, Clock::time_point) override { return false; }
  void reply(int, int, std::string) override {}
  Buffer reply_buffer(size_t n) override { return f_->spare_.take(n); }
  void reply(int, int, Buffer) override {}
  bool progress_replies() override { return false; }

 private:
  int next_tag() {
    return kFirstReplyTag + static_cast<int>(tag_seq_.fetch_add(1) %
                                             static_cast<uint32_t>(INT_MAX - kFirstReplyTag));
  }
  LoopbackFabric* f_;
  std::atomic<uint32_t> tag_seq_{0};
  std::atomic<uint64_t> seq_{0};
};

LoopbackFabric::LoopbackFabric(int nservers) {
  client_ = std::make_unique<ClientEnd>(this);
  for (int i = 0; i < nservers; ++i) servers_.push_back(std::make_unique<ServerEnd>(this));
}

LoopbackFabric::~LoopbackFabric() = default;

Transport* LoopbackFabric::client() { return client_.get(); }
Transport* LoopbackFabric::server(int i) { return servers_.at(static_cast<size_t>(i)).get(); }

void LoopbackFabric::deliver(int tag, const char* buf, size_t n) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = calls_.find(tag);
    if (it == calls_.end()) return;  // its caller gave up (timeout)
    Call* c = it->second;
    calls_.erase(it);
    c->take_reply_scattered(buf, n);
    c->finish();
  }
  cv_.notify_all();
}

}  // namespace edaos::objstore::rpc

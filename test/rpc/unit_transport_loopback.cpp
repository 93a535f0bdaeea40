// The transport-neutral Call and the loopback transport, without MPI: request and reply bytes
// as sent, bulk replies scattered into the caller's buffers, error replies, a silent server
// reported as EDAOS_UNREACH after the RPC timeout (this binary runs with EDAOS_RPC_TIMEOUT=1),
// late replies to a timed-out call dropped, wait_request's deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "rpc/transport.hpp"
#include "rpc/transport_loopback.hpp"

namespace rpc = edaos::objstore::rpc;
using edaos::Status;
using edaos::objstore::ConstIoVec;
using edaos::objstore::IoVec;

namespace {

// Serves one request on `t`: hands it to `fn`, which returns the reply bytes.
template <class Fn>
std::thread serve_one(rpc::Transport* t, Fn fn) {
  return std::thread([t, fn] {
    rpc::Incoming in;
    if (!t->wait_request(&in, rpc::Clock::now() + std::chrono::seconds(30))) return;
    std::string rep = fn(in);
    t->reply(in.source, in.hdr.reply_tag, std::move(rep));
  });
}

}  // namespace

TEST(TransportTimeout, ParsesEnvironmentValues) {
  rpc::Clock::duration d{};
  EXPECT_TRUE(rpc::parse_rpc_timeout("2.5", &d));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), 2500);
  EXPECT_TRUE(rpc::parse_rpc_timeout("0", &d));
  EXPECT_EQ(d, rpc::Clock::duration::max());  // 0: wait forever
  EXPECT_FALSE(rpc::parse_rpc_timeout("-1", &d));
  EXPECT_FALSE(rpc::parse_rpc_timeout("abc", &d));
  EXPECT_FALSE(rpc::parse_rpc_timeout("5s", &d));
  EXPECT_FALSE(rpc::parse_rpc_timeout("", &d));
  EXPECT_FALSE(rpc::parse_rpc_timeout("nan", &d));
  // This binary's ctest environment sets 1 second.
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(rpc::rpc_timeout()).count(),
            1000);
}

TEST(Loopback, RequestBytesArriveAndPayloadComesBack) {
  rpc::LoopbackFabric f(2);
  std::string bulk1 = "first-bulk-", bulk2(100000, 'z');
  bulk2[777] = 'q';
  auto th = serve_one(f.server(1), [&](rpc::Incoming& in) {
    EXPECT_EQ(in.source, f.client_rank());
    EXPECT_EQ(in.hdr.magic, rpc::kMagic);
    EXPECT_EQ(in.hdr.version, rpc::kProtocolVersion);
    EXPECT_EQ(in.hdr.op, static_cast<uint16_t>(rpc::Op::kPoolQuery));
    EXPECT_EQ(std::string(in.body(), in.body_len()), "the-body");
    EXPECT_EQ(std::string(in.bulk(), in.bulk_len()), bulk1 + bulk2);
    return rpc::make_reply(Status::OK(), 42, 43, "answer:" + std::to_string(in.bulk_len()));
  });
  rpc::Call c;
  c.server = 1;
  c.op = rpc::Op::kPoolQuery;
  c.body = "the-body";
  c.bulk_out = {ConstIoVec{bulk1.data(), bulk1.size()}, ConstIoVec{bulk2.data(), bulk2.size()}};
  Status st = f.client()->call(&c);
  th.join();
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(c.rep.value, 42u);
  EXPECT_EQ(c.rep.value2, 43u);
  EXPECT_EQ(c.payload, "answer:" + std::to_string(bulk1.size() + bulk2.size()));
}

TEST(Loopback, BulkReplyIsScatteredIntoCallerBuffers) {
  rpc::LoopbackFabric f(1);
  std::string data(5000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
  std::thread th([&] {
    rpc::Incoming in;
    ASSERT_TRUE(f.server(0)->wait_request(&in, rpc::Clock::now() + std::chrono::seconds(30)));
    rpc::Buffer b = f.server(0)->reply_buffer(sizeof(rpc::ReplyHeader) + data.size());
    rpc::ReplyHeader h{};
    h.payload_len = data.size();
    std::memcpy(b.data(), &h, sizeof h);
    std::memcpy(b.data() + sizeof h, data.data(), data.size());
    f.server(0)->reply(in.source, in.hdr.reply_tag, std::move(b));
  });
  std::vector<char> a(1234), b(5000 - 1234);
  rpc::Call c;
  c.server = 0;
  c.op = rpc::Op::kArrayRead;
  c.bulk_in = {IoVec{a.data(), a.size()}, IoVec{b.data(), b.size()}};
  Status st = f.client()->call(&c);
  th.join();
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(std::string(a.begin(), a.end()) + std::string(b.begin(), b.end()), data);
  EXPECT_TRUE(c.payload.empty());
}

TEST(Loopback, ReplyLargerThanBuffersIsAProtocolError) {
  rpc::LoopbackFabric f(1);
  auto th = serve_one(f.server(0), [](rpc::Incoming&) {
    return rpc::make_reply(Status::OK(), 0, 0, std::string(64, 'x'));
  });
  std::vector<char> small(16);
  rpc::Call c;
  c.server = 0;
  c.op = rpc::Op::kArrayRead;
  c.bulk_in = {IoVec{small.data(), small.size()}};
  Status st = f.client()->call(&c);
  th.join();
  EXPECT_EQ(st.code(), EDAOS_PROTO) << st.to_string();
}

TEST(Loopback, ErrorReplyCarriesStatusAndMessage) {
  rpc::LoopbackFabric f(1);
  for (bool with_bulk : {false, true}) {
    auto th = serve_one(f.server(0), [](rpc::Incoming&) {
      return rpc::make_reply(Status(EDAOS_NONEXIST, "no such container 'x'"));
    });
    std::vector<char> buf(8);
    rpc::Call c;
    c.server = 0;
    c.op = rpc::Op::kPoolQuery;
    if (with_bulk) c.bulk_in = {IoVec{buf.data(), buf.size()}};
    Status st = f.client()->call(&c);
    th.join();
    EXPECT_EQ(st.code(), EDAOS_NONEXIST) << st.to_string();
    EXPECT_EQ(st.message(), "no such container 'x'");
  }
}

TEST(Loopback, UnknownServerIsUnreachable) {
  rpc::LoopbackFabric f(2);
  rpc::Call c;
  c.server = 5;
  Status st = f.client()->call(&c);
  EXPECT_EQ(st.code(), EDAOS_UNREACH) << st.to_string();
}

TEST(Loopback, SilentServerIsUnreachableAfterTheTimeoutAndLateReplyIsDropped) {
  rpc::LoopbackFabric f(2);
  rpc::Call quiet, ok;
  quiet.server = 0;  // nobody serves index 0 until the call has timed out
  quiet.op = rpc::Op::kPoolQuery;
  ok.server = 1;
  ok.op = rpc::Op::kPoolQuery;
  auto th = serve_one(f.server(1), [](rpc::Incoming&) { return rpc::make_reply(Status::OK(), 7); });
  const auto t0 = rpc::Clock::now();
  f.client()->start(&quiet);
  f.client()->start(&ok);
  rpc::Call* both[] = {&quiet, &ok};
  f.client()->wait(both, 2);
  const auto waited = rpc::Clock::now() - t0;
  th.join();
  EXPECT_TRUE(ok.status().ok()) << ok.status().to_string();
  EXPECT_EQ(ok.rep.value, 7u);
  Status st = quiet.status();
  EXPECT_EQ(st.code(), EDAOS_UNREACH) << st.to_string();
  EXPECT_NE(st.message().find("EDAOS_RPC_TIMEOUT"), std::string::npos) << st.message();
  EXPECT_GE(waited, rpc::rpc_timeout());  // it waited for the peer, it did not fail early
  // The server wakes up and answers the abandoned call: nothing lands in it.
  rpc::Incoming in;
  ASSERT_TRUE(f.server(0)->wait_request(&in, rpc::Clock::now() + std::chrono::seconds(30)));
  f.server(0)->reply(in.source, in.hdr.reply_tag, rpc::make_reply(Status::OK(), 99));
  EXPECT_EQ(quiet.status().code(), EDAOS_UNREACH);
  EXPECT_EQ(quiet.rep.value, 0u);
  // A new call to the same server works.
  rpc::Call again;
  again.server = 0;
  auto th2 =
      serve_one(f.server(0), [](rpc::Incoming&) { return rpc::make_reply(Status::OK(), 11); });
  EXPECT_TRUE(f.client()->call(&again).ok());
  th2.join();
  EXPECT_EQ(again.rep.value, 11u);
}

TEST(Loopback, WaitRequestReturnsAtItsDeadline) {
  rpc::LoopbackFabric f(1);
  rpc::Incoming in;
  EXPECT_FALSE(f.server(0)->poll_request(&in));
  const auto t0 = rpc::Clock::now();
  EXPECT_FALSE(f.server(0)->wait_request(&in, t0 + std::chrono::milliseconds(50)));
  EXPECT_GE(rpc::Clock::now() - t0, std::chrono::milliseconds(50));
}

TEST(Loopback, RepliesFromManyThreadsReachTheirCalls) {
  rpc::LoopbackFabric f(1);
  constexpr int kCalls = 64;
  std::vector<rpc::Call> calls(kCalls);
  std::vector<rpc::Call*> ptrs;
  for (int i = 0; i < kCalls; ++i) {
    calls[i].server = 0;
    calls[i].body = std::to_string(i);
    f.client()->start(&calls[i]);
    ptrs.push_back(&calls[i]);
  }
  // Receive everything on one thread, answer from four (reply is callable from any thread).
  std::vector<rpc::Incoming> got(kCalls);
  for (auto& in : got)
    ASSERT_TRUE(f.server(0)->wait_request(&in, rpc::Clock::now() + std::chrono::seconds(30)));
  std::vector<std::thread> th;
  for (int t = 0; t < 4; ++t)
    th.emplace_back([&, t] {
      for (int i = t; i < kCalls; i += 4) {
        std::string body(got[i].body(), got[i].body_len());
        f.server(0)->reply(got[i].source, got[i].hdr.reply_tag,
                           rpc::make_reply(Status::OK(), std::stoull(body) * 3));
      }
    });
  for (auto& t : th) t.join();
  f.client()->wait(ptrs.data(), ptrs.size());
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(calls[i].status().ok()) << i;
    EXPECT_EQ(calls[i].rep.value, static_cast<uint64_t>(i) * 3);
  }
}

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

// Session 8: the client poll window a UCX waiter uses (rpc::SpinPolicy), driven with gaps.
namespace {
using std::chrono::microseconds;
constexpr rpc::Clock::duration kCap = microseconds(1000);
}  // namespace

TEST(SpinPolicy, RepliesWithinTheCapKeepAPollThatCatchesThem) {
  rpc::SpinPolicy p(kCap, true, 8);
  for (int i = 0; i < 20; ++i) p.record(microseconds(150));
  // About twice the usual gap plus the floor: the next 150 us reply is caught by the poll.
  EXPECT_GE(p.window(0), microseconds(150));
  EXPECT_LE(p.window(0), microseconds(2 * 150 + 20 + 5));
  // Gaps near the cap: the poll grows to the cap, never past it.
  for (int i = 0; i < 20; ++i) p.record(microseconds(900));
  EXPECT_EQ(p.window(0), kCap);
}

TEST(SpinPolicy, RepliesLaterThanTheCapSleepAtOnceAndShortOnesBringThePollBack) {
  rpc::SpinPolicy p(kCap, true, 8);
  EXPECT_EQ(p.window(0), kCap);  // a new thread polls as the session-7 rule did
  p.record(microseconds(4000));  // one reply 4 ms late: the average passes the cap
  EXPECT_EQ(p.window(0), rpc::Clock::duration::zero());
  for (int i = 0; i < 10; ++i) p.record(microseconds(3000));
  EXPECT_EQ(p.window(0), rpc::Clock::duration::zero());
  // Replies come quickly again (measured across the sleeps): the poll returns once the
  // average is back within the cap.
  int calls = 0;
  while (p.window(0) == rpc::Clock::duration::zero() && calls < 50) {
    p.record(microseconds(100));
    ++calls;
  }
  EXPECT_GT(p.window(0), microseconds(100));
  EXPECT_LE(calls, 10);
}

TEST(SpinPolicy, AWastedPollHalvesTheNextOne) {
  rpc::SpinPolicy p(kCap, true, 8);
  for (int i = 0; i < 20; ++i) p.record(microseconds(200));
  const rpc::Clock::duration w = p.window(0);
  ASSERT_GT(w, microseconds(200));
  p.record(w + microseconds(300));  // the poll ran out, the thread slept: wasted
  EXPECT_LE(p.window(0), w / 2);
  EXPECT_GT(p.window(0), rpc::Clock::duration::zero());  // the average is still short
  p.record(microseconds(200));                           // caught: back to twice the average
  EXPECT_GT(p.window(0), w / 2);
  // Polls shorter than the floor are not worth it: a wasted one sets the window to 0.
  rpc::SpinPolicy q(microseconds(30), true, 8);
  for (int i = 0; i < 20; ++i) q.record(microseconds(25));
  ASSERT_EQ(q.window(0), microseconds(30));
  q.record(microseconds(31));
  EXPECT_EQ(q.window(0), rpc::Clock::duration::zero());
}

TEST(SpinPolicy, OversubscribedProcessLeavesACoreFree) {
  rpc::SpinPolicy two(kCap, true, 2);
  EXPECT_EQ(two.window(0), kCap);
  EXPECT_EQ(two.window(1), rpc::Clock::duration::zero());  // one poller already: sleep
  rpc::SpinPolicy four(kCap, true, 4);
  EXPECT_EQ(four.window(2), kCap);
  EXPECT_EQ(four.window(3), rpc::Clock::duration::zero());
  rpc::SpinPolicy one(kCap, true, 1);
  EXPECT_EQ(one.window(0), kCap);  // one thread may always poll
  EXPECT_EQ(one.window(1), rpc::Clock::duration::zero());
}

TEST(SpinPolicy, GapsShorterThanTheFloorDoNotPullThePollDown) {
  rpc::SpinPolicy p(kCap, true, 8);
  for (int i = 0; i < 20; ++i) {
    p.record(microseconds(300));  // the server's answer
    p.record(microseconds(3));    // the rendezvous step right after it
  }
  EXPECT_GE(p.window(0), microseconds(2 * 300));
}

TEST(SpinPolicy, AJobWithMoreRanksOnTheNodeThanCpusNeverPolls) {
  rpc::SpinPolicy full(kCap, true, 2, 4);  // mdtest: 4 ranks on 2 cores
  for (int i = 0; i < 10; ++i) full.record(microseconds(100));
  EXPECT_EQ(full.window(0), rpc::Clock::duration::zero());
  rpc::SpinPolicy fits(kCap, true, 2, 2);  // IOR-hard: 2 ranks on 2 cores
  for (int i = 0; i < 10; ++i) fits.record(microseconds(100));
  EXPECT_GT(fits.window(0), microseconds(100));
  rpc::SpinPolicy fixed(kCap, false, 2, 4);  // EDAOS_RPC_SPIN_ADAPT=0: the session-7 rule
  EXPECT_EQ(fixed.window(0), kCap);
}

TEST(SpinPolicy, FixedRuleAndZeroCap) {
  rpc::SpinPolicy fixed(kCap, false, 2);
  for (int i = 0; i < 10; ++i) fixed.record(microseconds(5000));
  EXPECT_EQ(fixed.window(0), kCap);
  EXPECT_EQ(fixed.window(5), kCap);
  rpc::SpinPolicy none(rpc::Clock::duration::zero(), true, 8);
  for (int i = 0; i < 10; ++i) none.record(microseconds(1));
  EXPECT_EQ(none.window(0), rpc::Clock::duration::zero());
}

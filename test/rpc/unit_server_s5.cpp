// The server's progress thread and stripe locks over the loopback transport, without MPI
// (transports, session 5; src/server/README.md "Execution model" and "Stripe locks"):
// - a short read arriving at an idle server is served by the progress thread itself (no hand-off
//   to a service thread), a write or a read while other work is queued is not; since session 7
//   KV reads too (gets, short key listings, alone or in a kKvVec), KV changes are not;
// - a kLock call whose caller gave up (time-out: this binary runs with EDAOS_RPC_TIMEOUT=1) is
//   withdrawn, so the lock is not granted to nobody later and the next locker gets it;
// - an unlock by a rank that does not hold the lock is refused.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "loopback_server.hpp"
#include "rpc/transport.hpp"
#include "rpc/transport_loopback.hpp"
#include "server/server.hpp"

namespace rpc = edaos::objstore::rpc;
using edaos::Status;
using edaos::objstore::Uuid;
using edaos::objstore::server::Server;

namespace {

class ServerS5 : public LoopbackServerTest {
 protected:
  rpc::Transport* client() { return fabric_->client(); }

  // A kShardVec of one op (`op`) on a pool this server does not serve: every op fails on the
  // server with EDAOS_NONEXIST, which is all these tests need (who served it, in what order).
  static std::string vec_body(rpc::Op op, uint64_t len) {
    rpc::Writer ob;
    rpc::ShardAddr a;
    a.pool = Uuid::generate();
    a.encode(ob);
    rpc::CsumWire{}.encode(ob);
    ob.put<uint64_t>(0);  // offset
    if (op == rpc::Op::kArrayRead) {
      ob.put<uint64_t>(len);  // length
      rpc::RecWire{}.encode(ob);
      ob.put<uint8_t>(0);  // want_state
    }
    rpc::Writer w;
    w.put<uint32_t>(1).put<uint16_t>(static_cast<uint16_t>(op)).str(ob.take());
    w.put<uint64_t>(0);  // bulk length
    return w.take();
  }
  // A kShardVec of `n` kArraySize ops, one per engine 0..n-1 of one pool.
  static std::string size_vec_body(uint32_t n) {
    const Uuid pool = Uuid::generate();
    rpc::Writer w;
    w.put<uint32_t>(n);
    for (uint32_t e = 0; e < n; ++e) {
      rpc::Writer ob;
      rpc::ShardAddr a;
      a.pool = pool;
      a.engine = e;
      a.encode(ob);
      rpc::CsumWire{}.encode(ob);
      ob.put<uint64_t>(0);
      w.put<uint16_t>(static_cast<uint16_t>(rpc::Op::kArraySize)).str(ob.take());
      w.put<uint64_t>(0);  // bulk length
    }
    return w.take();
  }
  // The body of a single KV op (as client/kv.cpp sends it) on a pool this server does not
  // serve; listings ask for `max` keys.
  static std::string kv_body(rpc::Op op, uint32_t max = 64) {
    rpc::Writer w;
    rpc::ShardAddr a;
    a.pool = Uuid::generate();
    a.encode(w);
    if (op == rpc::Op::kKvListDkeys || op == rpc::Op::kKvListAkeys) {
      if (op == rpc::Op::kKvListAkeys) w.str("dkey");
      w.str("");  // anchor
      w.put<uint32_t>(max);
      return w.take();
    }
    rpc::CsumWire{}.encode(w);
    if (op == rpc::Op::kKvPut) w.put<uint32_t>(0);  // flags
    w.str("dkey").str("akey");
    if (op == rpc::Op::kKvPut) w.str("value");
    return w.take();
  }
  static std::string kv_vec_body(const std::vector<rpc::Op>& ops) {
    rpc::Writer w;
    w.put<uint32_t>(static_cast<uint32_t>(ops.size()));
    for (rpc::Op op : ops) w.put<uint16_t>(static_cast<uint16_t>(op)).str(kv_body(op));
    return w.take();
  }
  Status lock(rpc::Call* c, const std::string& key) {
    c->server = 0;
    c->op = rpc::Op::kLock;
    rpc::Writer w;
    w.str(key);
    rpc::IntentWire{}.encode(w, true);
    c->body = w.take();
    return client()->call(c);
  }
  Status unlock(const std::string& key) {
    rpc::Call c;
    c.server = 0;
    c.op = rpc::Op::kUnlock;
    rpc::Writer w;
    w.str(key);
    rpc::IntentWire{}.encode(w, false);
    c.body = w.take();
    return client()->call(&c);
  }
};

TEST_F(ServerS5, ShortReadAtAnIdleServerIsServedInline) {
  const uint64_t before = server_->inline_served(), handed = server_->handoffs();
  for (int i = 0; i < 3; ++i) {
    rpc::Call c;
    c.server = 0;
    c.op = rpc::Op::kShardVec;
    c.body = vec_body(rpc::Op::kArrayRead, 47008);
    EXPECT_TRUE(client()->call(&c).ok());  // the vector itself is answered OK...
    ASSERT_GE(c.payload.size(), sizeof(rpc::VecEntry));
    rpc::VecEntry e{};
    std::memcpy(&e, c.payload.data(), sizeof e);
    EXPECT_EQ(e.status, EDAOS_NONEXIST);  // ...its op failed: pool not served
  }
  EXPECT_EQ(server_->inline_served(), before + 3);
  EXPECT_EQ(server_->handoffs(), handed);  // no service thread was woken for them
}

// Session 7: the KV reads of a metadata stat or lookup (a kKvVec of gets and short dkey
// listings, a single get or key listing) are served inline too: no hand-off to a service
// thread. Changes (puts, removals: LMDB commits) still go to the queues.
TEST_F(ServerS5, KvReadsAtAnIdleServerAreServedInline) {
  const uint64_t before = server_->inline_served(), handed = server_->handoffs();
  rpc::Call vec;
  vec.server = 0;
  vec.op = rpc::Op::kKvVec;
  vec.body = kv_vec_body({rpc::Op::kKvGet, rpc::Op::kKvListDkeys, rpc::Op::kKvGet});
  ASSERT_TRUE(client()->call(&vec).ok()) << vec.status().to_string();
  rpc::Reader r(vec.payload);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.get<int32_t>(), EDAOS_NONEXIST);  // each op failed: pool not served
    (void)r.str();
  }
  EXPECT_TRUE(r.ok());
  for (rpc::Op op : {rpc::Op::kKvGet, rpc::Op::kKvListDkeys, rpc::Op::kKvListAkeys}) {
    rpc::Call c;
    c.server = 0;
    c.op = op;
    c.body = kv_body(op);
    EXPECT_EQ(client()->call(&c).code(), EDAOS_NONEXIST);
  }
  EXPECT_EQ(server_->inline_served(), before + 4);
  EXPECT_EQ(server_->handoffs(), handed);
}

// Session 7: a file's size query asks every shard of its object (a stat in a 20-engine pool:
// one kArraySize per engine in one vector); it was split per engine and handed to the service
// threads (20 hand-offs per stat), now it is served inline as a whole.
TEST_F(ServerS5, SizeQueryOverManyEnginesIsServedInline) {
  const uint64_t before = server_->inline_served(), handed = server_->handoffs();
  rpc::Call c;
  c.server = 0;
  c.op = rpc::Op::kShardVec;
  c.body = size_vec_body(20);
  ASSERT_TRUE(client()->call(&c).ok()) << c.status().to_string();
  ASSERT_GE(c.payload.size(), 20 * sizeof(rpc::VecEntry));
  for (int i = 0; i < 20; ++i) {
    rpc::VecEntry e{};
    std::memcpy(&e, c.payload.data() + i * sizeof e, sizeof e);
    EXPECT_EQ(e.status, EDAOS_NONEXIST);  // pool not served
  }
  EXPECT_EQ(server_->inline_served(), before + 1);
  EXPECT_EQ(server_->handoffs(), handed);
}

TEST_F(ServerS5, KvChangesAndLongListingsGoToTheQueues) {
  const uint64_t before = server_->inline_served(), handed = server_->handoffs();
  rpc::Call vec;
  vec.server = 0;
  vec.op = rpc::Op::kKvVec;
  vec.body = kv_vec_body({rpc::Op::kKvGet, rpc::Op::kKvPut});
  ASSERT_TRUE(client()->call(&vec).ok()) << vec.status().to_string();
  rpc::Call put;
  put.server = 0;
  put.op = rpc::Op::kKvPut;
  put.body = kv_body(rpc::Op::kKvPut);
  EXPECT_EQ(client()->call(&put).code(), EDAOS_NONEXIST);
  rpc::Call list;
  list.server = 0;
  list.op = rpc::Op::kKvListDkeys;
  list.body = kv_body(rpc::Op::kKvListDkeys, 100000);
  EXPECT_EQ(client()->call(&list).code(), EDAOS_NONEXIST);
  EXPECT_EQ(server_->inline_served(), before);
  EXPECT_EQ(server_->handoffs(), handed + 3);
}

TEST_F(ServerS5, WritesAndLargeReadsGoToTheQueues) {
  const uint64_t before = server_->inline_served();
  rpc::Call w;
  w.server = 0;
  w.op = rpc::Op::kShardVec;
  w.body = vec_body(rpc::Op::kArrayWrite, 0);
  EXPECT_TRUE(client()->call(&w).ok());
  rpc::Call big;
  big.server = 0;
  big.op = rpc::Op::kShardVec;
  big.body = vec_body(rpc::Op::kArrayRead, uint64_t{4} << 20);
  EXPECT_TRUE(client()->call(&big).ok());
  EXPECT_EQ(server_->inline_served(), before);
}

TEST_F(ServerS5, ManyCallsInFlightAreAllAnswered) {
  // A lock waiter keeps nothing queued (it is deferred), so queue real work instead: many
  // calls started at once; whatever ran inline, every one is answered.
  std::vector<rpc::Call> calls(32);
  std::vector<rpc::Call*> ptrs;
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i].server = 0;
    calls[i].op = rpc::Op::kShardVec;
    calls[i].body = vec_body(i % 2 ? rpc::Op::kArrayWrite : rpc::Op::kArrayRead, 100);
    client()->start(&calls[i]);
    ptrs.push_back(&calls[i]);
  }
  client()->wait(ptrs.data(), ptrs.size());
  for (auto& c : calls) EXPECT_TRUE(c.status().ok()) << c.status().to_string();
}

TEST_F(ServerS5, TimedOutLockWaiterIsNotGrantedLater) {
  rpc::Call holder;
  ASSERT_TRUE(lock(&holder, "stripe-1").ok());
  // Held: this caller waits longer than EDAOS_RPC_TIMEOUT (1 s) and gives up.
  rpc::Call waiter;
  Status st = lock(&waiter, "stripe-1");
  EXPECT_EQ(st.code(), EDAOS_UNREACH) << st.to_string();
  ASSERT_TRUE(unlock("stripe-1").ok());
  // Without the withdrawal the lock would now belong to the waiter that left: this call would
  // wait behind it and time out too.
  rpc::Call next;
  st = lock(&next, "stripe-1");
  EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_TRUE(unlock("stripe-1").ok());
}

TEST_F(ServerS5, UnlockOfAFreeLockIsRefused) {
  Status st = unlock("stripe-2");
  EXPECT_EQ(st.code(), EDAOS_INVAL) << st.to_string();
}

}  // namespace

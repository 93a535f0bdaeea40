// Per-engine queues for kShardVec (transports, session 6; src/server/README.md "Execution
// model"), the Server over the loopback transport without MPI. ctest runs this binary with
// EDAOS_SERVER_THREADS=4 and EDAOS_TEST_FAULT=vec-parts-meet: every part of a split vector
// waits (at most 10 s) until all parts of its vector are being served, and the server counts
// the parts that met - which they only can when they run at once on different threads.
// - a vector whose ops name two engines is split, its parts run at the same time, and the
//   joined reply has every op's entry, bytes and message in the vector's op order;
// - a vector of one engine is not split;
// - a malformed vector is answered EDAOS_PROTO as before.
// The ops name pools this server does not serve, so each op fails with a message naming its
// pool: enough to see where each op's answer went.
#include <gtest/gtest.h>

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
using edaos::objstore::ConstIoVec;
using edaos::objstore::Uuid;
using edaos::objstore::server::Server;

namespace {

struct VecOp {
  rpc::Op op;
  Uuid pool;
  uint32_t engine;
  uint64_t len;  // read: bytes asked; write: bytes sent
};

class ServerS6 : public LoopbackServerTest {
 protected:
  // A kShardVec call of `ops`; write payload from `bulk` (kept alive by the caller).
  rpc::Call vec(const std::vector<VecOp>& ops, const std::string& bulk) {
    rpc::Writer w;
    w.put<uint32_t>(static_cast<uint32_t>(ops.size()));
    rpc::Call c;
    c.server = 0;
    c.op = rpc::Op::kShardVec;
    size_t at = 0;
    for (const VecOp& o : ops) {
      rpc::Writer ob;
      rpc::ShardAddr a;
      a.pool = o.pool;
      a.engine = o.engine;
      a.encode(ob);
      rpc::CsumWire{}.encode(ob);
      ob.put<uint64_t>(0);  // offset
      if (o.op == rpc::Op::kArrayRead) {
        ob.put<uint64_t>(o.len);
        rpc::RecWire{}.encode(ob);
        ob.put<uint8_t>(0);  // want_state
      } else {
        ob.put<uint8_t>(0).put<uint64_t>(0).put<uint64_t>(o.len);  // no checksum, logical end
        rpc::RecWire{}.encode(ob);
      }
      w.put<uint16_t>(static_cast<uint16_t>(o.op)).str(ob.take());
      const uint64_t b = o.op == rpc::Op::kArrayWrite ? o.len : 0;
      w.put<uint64_t>(b);
      if (b) c.bulk_out.push_back(ConstIoVec{bulk.data() + at, b});
      at += b;
    }
    c.body = w.take();
    return c;
  }
};

TEST_F(ServerS6, VectorOverTwoEnginesRunsAsPartsAtOnceAndJoinsInOpOrder) {
  const Uuid p1 = Uuid::generate(), p2 = Uuid::generate();
  const std::vector<VecOp> ops = {{rpc::Op::kArrayRead, p1, 0, 20000},
                                  {rpc::Op::kArrayWrite, p2, 1, 3000},
                                  {rpc::Op::kArrayRead, p2, 1, 100},
                                  {rpc::Op::kArrayRead, p1, 0, 30000}};
  const std::string bulk(3000, 'w');
  rpc::Call c = vec(ops, bulk);
  ASSERT_TRUE(fabric_->client()->call(&c).ok()) << c.status().to_string();
  EXPECT_EQ(server_->vec_splits(), 1u);
  EXPECT_EQ(server_->vec_parts_met(), 2u) << "the two parts did not run at the same time";
  // Table, the reads' bytes (zeros: they failed) in op order, then the messages in op order.
  const size_t table = sizeof(rpc::VecEntry) * ops.size(), data = 20000 + 100 + 30000;
  ASSERT_GT(c.payload.size(), table + data);
  size_t moff = table + data;
  for (size_t i = 0; i < ops.size(); ++i) {
    rpc::VecEntry e{};
    std::memcpy(&e, c.payload.data() + sizeof e * i, sizeof e);
    EXPECT_EQ(e.status, EDAOS_NONEXIST) << i;
    const std::string msg = c.payload.substr(moff, e.msg_len);
    moff += e.msg_len;
    EXPECT_NE(msg.find(ops[i].pool.to_string()), std::string::npos) << i << ": " << msg;
  }
  EXPECT_EQ(moff, c.payload.size());
  EXPECT_EQ(c.payload.find_first_not_of('\0', table), table + data);
}

TEST_F(ServerS6, VectorOfOneEngineIsNotSplit) {
  const Uuid p = Uuid::generate();
  const std::string bulk(10, 'x');  // outlives the call: bulk_out points into it
  rpc::Call c = vec({{rpc::Op::kArrayRead, p, 3, 100}, {rpc::Op::kArrayWrite, p, 3, 10}}, bulk);
  ASSERT_TRUE(fabric_->client()->call(&c).ok()) << c.status().to_string();
  EXPECT_EQ(server_->vec_splits(), 0u);
}

TEST_F(ServerS6, ManySplitVectorsInFlightAreAllAnswered) {
  const Uuid p = Uuid::generate();
  std::vector<rpc::Call> calls;
  for (int i = 0; i < 16; ++i)
    calls.push_back(vec({{rpc::Op::kArrayRead, p, 0, 64}, {rpc::Op::kArrayRead, p, 1, 64}}, ""));
  std::vector<rpc::Call*> ptrs;
  for (auto& c : calls) {
    fabric_->client()->start(&c);
    ptrs.push_back(&c);
  }
  fabric_->client()->wait(ptrs.data(), ptrs.size());
  for (auto& c : calls) {
    ASSERT_TRUE(c.status().ok()) << c.status().to_string();
    EXPECT_GE(c.payload.size(), 2 * sizeof(rpc::VecEntry) + 128);
  }
  EXPECT_EQ(server_->vec_splits(), calls.size());
}

TEST_F(ServerS6, MalformedVectorIsRefused) {
  rpc::Call c;
  c.server = 0;
  c.op = rpc::Op::kShardVec;
  rpc::Writer w;
  w.put<uint32_t>(2).put<uint16_t>(static_cast<uint16_t>(rpc::Op::kArrayRead)).str("short");
  c.body = w.take();
  EXPECT_EQ(fabric_->client()->call(&c).code(), EDAOS_PROTO);
  EXPECT_EQ(server_->vec_splits(), 0u);
}

}  // namespace

// The server's translation of wire records into engine arguments, shared by the single-op
// handlers (server.cpp) and the vector handler (server_shard.cpp).
#pragma once

#include "ec/checksum.hpp"
#include "rpc/proto.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::server {

inline vos::CsumSpec csum_spec(const rpc::CsumWire& c) {
  vos::CsumSpec s;
  s.type = c.type;
  s.chunk = c.chunk ? c.chunk : 32768;
  s.fn = &ec::csum_compute;
  return s;
}

inline vos::RecordSpec record_spec(const rpc::RecWire& w) {
  vos::RecordSpec s;
  s.kind = static_cast<vos::RecordKind>(w.kind);
  s.unit = w.unit;
  s.k = w.k;
  return s;
}

inline vos::WriteStamp write_stamp(const rpc::RecWire& w) {
  return vos::WriteStamp{w.version, w.vec.empty() ? nullptr : w.vec.data()};
}

// A RecWire the engine can use: a known kind, and no vector or one of k data versions (the
// engine requires it for parity writes of data).
inline bool rec_wire_ok(const rpc::RecWire& w) {
  if (w.kind > static_cast<uint8_t>(vos::RecordKind::kEcParity)) return false;
  return w.vec.empty() || w.vec.size() == w.k;
}

inline vos::ShardRef shard_ref(const rpc::ShardAddr& a) {
  vos::ShardRef r;
  r.cont = a.cont;
  r.oid = a.oid;
  r.shard = a.shard;
  r.target = a.target;
  return r;
}

}  // namespace edaos::objstore::server

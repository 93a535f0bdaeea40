// The edaos RPC protocol: every wire struct and the protocol version, in one place.
//
// A request is one MPI message on the RPC communicator with tag kRequestTag:
//   RequestHeader (fixed, 32 bytes) | op body (wire.hpp encoding) | bulk data (raw bytes)
// body_len tells where the body ends; bulk data runs to the end of the message.
// A reply is one message on the tag the request names (reply_tag):
//   ReplyHeader (fixed, 48 bytes) | payload
// Bulk read replies put the data straight after the header, so the client can receive them
// into the caller's buffers without a copy. A server that fails sends the header alone.
//
// Version rule: any change to a struct or body layout bumps kProtocolVersion; a server refuses
// a request whose version differs (EDAOS_PROTO).
#pragma once

#include <cstdint>

namespace edaos::objstore::rpc {

inline constexpr uint32_t kMagic = 0x45444153;  // "EDAS"
// Version 2 (pool half of issue 12): kPoolServe phases and health, kPoolSetIdentity,
// kContDestroyBegin. Version 3 (data half): versioned array ops (RecWire, StateWire), stripe
// intents on kLock/kUnlock, kIntentList, kIntentClear. Version 4 (data path, issues 15 and 17):
// kShardVec (the shard ops of one call to one server rank in one message), kSyncEngines.
// Version 5 (issue 15 item 1, the direct path): kShardLease, kShardCommit, kShardRelease; the
// single-op kArray*, kObjPunch and kSync requests are gone (kShardVec / kSyncEngines).
// Version 6 (second wave, session 5): kKvPut flag vos::kMergeTimes (its value is a time merge,
// issue 17); kLockCancel (issue 16); the kShardLease reply's size-change page slot and record
// kind, kShardCommit's record kind (issue 15, direct path).
// Version 7 (metadata, session 6): kKvVec (the KV ops of one KV::run to one server rank).
// Version 8 (session 8): kShardCommit modes (kCommitPrepare, kCommitFinish; data path) and
// kKvGetSize / kKvTakeArray inside kKvVec (metadata).
// Version 9 (session 12 ec12): a kCommitFinish is applied whatever its lease's state;
// kFinishLeaseGone (end of this file).
inline constexpr uint16_t kProtocolVersion = 9;
inline constexpr int kRequestTag = 1;
inline constexpr int kFirstReplyTag = 64;

enum class Op : uint16_t {
  kShutdown = 1,         // local only: stops the progress thread
  kPoolServe = 2,        // body: path, u8 phase (kServe*), u8 flags (kServeAdmin)
                         // reply: pool uuid [phase 2: per-engine health list, see server.cpp]
  kPoolClose = 3,        // body: pool uuid
  kPoolQuery = 4,        // body: pool uuid            reply: per-engine space
  kPoolExclude = 5,      // lead: pool uuid, engine ids: persist them as down in the pool map
  kPoolSetIdentity = 6,  // lead: pool uuid: every engine carries the identity, say so in POOL
  kContCreate = 10,      // lead server: pool, uuid, label, record
  kContGet = 11,         // lead: pool, uuid or label  reply: uuid, record, u8 destroying
  kContUpdate = 12,      // lead: pool, uuid, label, record
  kContDestroy = 13,     // lead: pool, uuid (removes the record; after kContPurge succeeded)
  kContList = 14,        // lead: pool               reply: list of (uuid, label, u8 destroying)
  kContPurge = 15,       // every server: pool, uuid (drop the container's data on its engines;
                         // EDAOS_UNREACH naming hosted engines that are down and not excluded)
  kOidAlloc = 16,        // lead: pool, cont, count   reply: first
  kAttrSet = 17,         // lead: pool, cont, name, value
  kAttrGet = 18,
  kAttrDel = 19,
  kAttrList = 20,
  kContDestroyBegin = 21,  // lead: pool, uuid (durable destroy mark, before any data goes)
  kArrayWrite = 30,        // shard ref, csum, off, csum, logical_end, RecWire | bulk
  kArrayRead = 31,         // shard ref, csum, off, len, RecWire, u8 want_state  reply: out_csum |
                           // bulk (+ StateWire when want_state)
  kArrayPunch = 32,        // shard ref, off, len, csum, RecWire
  kArrayTruncate = 33,     // shard ref, local size, logical size, csum, RecWire
  kArraySize = 34,         // reply: logical end
  kShardVec = 35,          // u32 n | n x (u16 op, str body, u64 bulk_len) | the bulk of every op
                           // in order. Each op is one of kArrayWrite..kArraySize or kObjPunch
                           // with that op's body; all run in order on this server rank.
                           // Reply: n x VecEntry | every read's bytes (+ StateWire) in order
                           // | the failed ops' messages (at most kVecMsgMax bytes in all)
  kShardLease = 36,        // u32 n | n x (ShardAddr, CsumWire, u8 write, u64 pool-map version,
                           // RecWire: the shard's record kind, unit and k)
                           // reply payload: str size-change page ("" = none) | n x (i32
                           // status, str message, and when OK: str data file, str sidecar, u8
                           // records, u64 logical end, u64 lease id (0 for a read), u32 page
                           // slot, u64 generation, u8 1 = the logical end is a bound)
  kShardCommit = 37,       // u32 n | n x (u64 lease, u64 pool-map version, ShardAddr, CsumWire,
                           // RecWire (kind, unit, k), u64 logical end, u32 m, m x unit record
                           // (+ k x u64 data versions for EC parity))
                           // reply payload: n x (i32 status or kCommitStale, str message)
  kShardRelease = 38,      // u32 n | n x u64 lease
  kKvPut = 40,
  kKvGet = 41,
  kKvRemove = 42,
  kKvListDkeys = 43,
  kKvListAkeys = 44,
  kObjPunch = 45,
  kListObjects = 46,
  kLock = 50,         // key, IntentWire; reply when granted (queued while held), value = 1 when
                      // the stripe had an intent left by a killed process
  kUnlock = 51,       // key, IntentWire (clears the intent)
  kIntentList = 52,   // pool uuid  reply: orphan intents of the pool's engines on this server
  kIntentClear = 53,  // pool uuid, engine, key
  kLockCancel = 54,   // key, i32 reply tag of a kLock call its caller gave up on (time-out):
                      // drops that waiter, or releases the lock when it was granted to it
  kSync = 60,         // every engine of the pool on that server
  kSyncEngines = 61,  // pool uuid, u32 n, n x u32 engine (hosted by this rank): sync those
  // metadata, session 5: kKvPut's u32 flags may carry vos::kMergeTimes (1 << 2); the value is
  // then a vos::encode_time_merge spec, applied by the engine inside its transaction.
  // metadata, session 6
  kKvVec = 70,  // u32 n (1..kVecMaxOps) | n x (u16 op, str body): op is kKvPut, kKvGet,
                // kKvRemove or kKvListDkeys with exactly that op's single-call body (ShardAddr
                // first). Run in order per engine; each engine's consecutive changes are one
                // LMDB transaction (group commit), answered after its commit. Reply payload:
                // n x (i32 status, str data): data = a get's value, a listing's u8 eof + u32
                // count + keys (str each); a failed op's message; else empty.
  // --- session 8 meta5 (protocol version 8) ---
  kKvGetSize = 71,    // only inside kKvVec: a kKvGet body | u32 oid offset | u32 client pool-map
                      // version. The get, then (same service pass, after it) the logical end of
                      // every shard of the byte array whose OID is at that offset of the value
                      // (u64 hi LE, u64 lo LE). Reply data: str value | SizeWire (below).
  kKvTakeArray = 72,  // only inside kKvVec: a kKvGet body | u32 oid offset. The get, then, when
                      // the value holds a byte array's OID at that offset, the removal of the
                      // whole dkey (same service pass, after the get). Status: the get's, else
                      // the removal's. Reply data: str value | u8 1 = removed, 0 = left alone.
                      // Session 9: the removal is guarded by the OID read (see kKvRemoveIf).
  // --- session 9 meta6 (no version bump: only inside kKvVec, and a job's clients and servers
  // are one build; an older server answers the op EDAOS_PROTO) ---
  kKvRemoveIf = 73,  // only inside kKvVec: a kKvGet body | u32 offset | str guard (non-empty).
                     // Removes the whole dkey only while the value under (dkey, akey) holds
                     // the guard bytes at the offset, decided in the removal's transaction
                     // (a change of the run, like kKvRemove). EDAOS_EXIST: the value holds
                     // other bytes (nothing changed); EDAOS_NONEXIST: no such value.
};
// kKvTakeArray / kKvRemoveIf: bytes of an OID in a value (u64 hi LE, u64 lo LE).
inline constexpr uint32_t kKvOidBytes = 16;

// kPoolServe phases. Phase 1 goes to the lead alone and takes the pool lock (psvc/LOCK) first,
// so of two jobs connecting at once exactly one proceeds and the other touches no engine;
// phase 2 goes to every server, which opens the engines it hosts.
inline constexpr uint8_t kServePoolService = 1;
inline constexpr uint8_t kServeEngines = 2;
// kPoolServe flags: an administrative connection (pool query / exclude) reports engines that
// fail to open with a transient error as unavailable instead of failing the connection.
inline constexpr uint8_t kServeAdmin = 1;

// Per-engine health in the phase-2 reply of kPoolServe (wire values: never renumber).
enum class EngineHealth : uint8_t {
  kUp = 0,
  kLost = 1,         // directory missing, format or identity unrecognisable or foreign
  kExcluded = 2,     // excluded in the pool map (not opened)
  kUnavailable = 3,  // transient open error (administrative connections only)
};

struct RequestHeader {
  uint32_t magic;
  uint16_t version;
  uint16_t op;
  int32_t reply_tag;
  uint32_t body_len;
  uint64_t seq;
  uint64_t reserved;
};
static_assert(sizeof(RequestHeader) == 32);

struct ReplyHeader {
  int32_t status;    // edaos_status_t
  uint32_t msg_len;  // length of an error message following the header (status != OK)
  uint64_t value;    // op-specific scalar (out checksum, logical end, first oid...)
  uint64_t value2;
  uint64_t payload_len;
  uint64_t reserved[2];
};
static_assert(sizeof(ReplyHeader) == 48);

// One op's result in a kShardVec reply. value: kArrayRead the checksum of the bytes sent (as
// ReplyHeader::value of kArrayRead), kArraySize the logical end; value2: kArrayRead the shard's
// recorded logical end (so a reader learns the size is at least that without asking).
// A failed read's bytes are still sent (zeros): every op's place in the reply is fixed.
struct VecEntry {
  int32_t status;    // edaos_status_t
  uint32_t msg_len;  // bytes of this op's message in the message area (status != OK)
  uint64_t value;
  uint64_t value2;
};
static_assert(sizeof(VecEntry) == 24);
inline constexpr uint32_t kVecMaxOps = 1024;  // ops per kShardVec message
inline constexpr uint32_t kVecMsgMax = 4096;  // bytes of messages per kShardVec reply

// kShardCommit: one unit record of a direct write, u64 unit | u64 version | u64 bound checksum
// (vos::bind_unit_csum over the unit's bytes: cksum_size of the container's type, or an EC cell
// in crc32c) | for EC parity, k x u64 data versions. Per-lease result of a commit that was
// not applied because a remote write, punch, truncate or removal of the shard recalled the
// lease, or the pool-map version changed: the holder re-acquires (and redoes its writes
// through the engine). A wire value only, never returned to a caller.
inline constexpr int32_t kCommitStale = 1;
inline constexpr uint32_t kCommitMaxRecords = 1u << 20;  // unit records per lease per commit

// direct path, session 5 (protocol version 6): the size-change page a server shares with the
// direct readers of its node (rpc/README.md "Size bound"): kLeasePageSlots u64 generations,
// then kLeasePageSlots u64 counts of changes in progress. The kShardLease reply names it
// (/proc/<pid>/fd/<n>) and gives each granted shard its slot and the generation its logical
// end was read at.
inline constexpr uint32_t kLeasePageSlots = 65536;
inline constexpr size_t kLeasePageBytes = size_t{2} * kLeasePageSlots * sizeof(uint64_t);

// --- session 7 ec4 (issue 15, direct path): readers while a commit is in flight ---
// VecEntry::status of a kArrayRead whose units failed verification while a direct writer of
// the engine's node held an OFD write lock on them (it wrote them, its kShardCommit is not
// applied yet): not corruption. The message says which unit. The client reads again with a
// backoff until the lock is gone, bounded by EDAOS_RPC_TIMEOUT, then reports EDAOS_CSUM
// (client/README.md "Readers while a commit is in flight"). A wire value only (positive, like
// kCommitStale), never returned to a caller.
inline constexpr int32_t kCommitInFlight = 2;

// --- session 8 ec5 (issue 15, direct partial EC stripes) ---
// kShardCommit's leading u32 carries the count in its low 30 bits and a mode in its top two:
// kCommitRecords (0, as before: pending + drop-prev at once, the data already written),
// kCommitPrepare (store the records pending next to the current ones, before the writer's
// pwrite), kCommitFinish (drop prev of the units still pending with exactly these records).
// Both are checked against the lease like a commit (kCommitStale). Protocol version 8.
inline constexpr uint32_t kCommitModeShift = 30;
inline constexpr uint32_t kCommitCountMask = (1u << kCommitModeShift) - 1;
inline constexpr uint32_t kCommitRecords = 0, kCommitPrepare = 1, kCommitFinish = 2;

// --- session 8 meta5 (issue 17): the size part of a kKvGetSize reply (SizeWire) ---
// u8 state | u32 pool-map version the server placed the object with | when state is
// kSizeGiven: u32 n (ngroups x group_size of that layout) | n x (u32 engine, u32 target,
// u64 logical end), shards in layout order. Any other state carries no shards and the client
// asks the size itself (client/README.md "A get with the size of the array it names").
inline constexpr uint8_t kSizeGiven = 0;      // every shard of the array answered, in one pass
inline constexpr uint8_t kSizeNoArray = 1;    // the value holds no byte-array OID there
inline constexpr uint8_t kSizeElsewhere = 2;  // a shard's engine is not served (up) by this rank
inline constexpr uint8_t kSizeFailed =
    3;  // no layout (pool map) or a shard's size failed; or a direct write past a shard's end is
        // being committed (session 9)

}  // namespace edaos::objstore::rpc

#include <vector>

#include "rpc/wire.hpp"

namespace edaos::objstore::rpc {

// Addresses one object shard on one engine of a pool (first field of every I/O body).
struct ShardAddr {
  Uuid pool;
  uint32_t engine = 0;
  Uuid cont;
  ObjectId oid;
  uint32_t shard = 0;
  uint32_t target = 0;
  void encode(Writer& w) const {
    w.uuid(pool).put(engine).uuid(cont).oid(oid).put(shard).put(target);
  }
  static ShardAddr decode(Reader& r) {
    ShardAddr a;
    a.pool = r.uuid();
    a.engine = r.get<uint32_t>();
    a.cont = r.uuid();
    a.oid = r.oid();
    a.shard = r.get<uint32_t>();
    a.target = r.get<uint32_t>();
    return a;
  }
};

// The container's checksum settings, sent with every I/O so servers keep no container state.
struct CsumWire {
  CsumType type = CsumType::kOff;
  uint32_t chunk = 32768;
  bool srv_verify = false;  // srv_cksum: verify the client's checksum on receipt
  void encode(Writer& w) const {
    w.put(static_cast<uint8_t>(type)).put(chunk).put(static_cast<uint8_t>(srv_verify));
  }
  static CsumWire decode(Reader& r) {
    CsumWire c;
    c.type = static_cast<CsumType>(r.get<uint8_t>());
    c.chunk = r.get<uint32_t>();
    c.srv_verify = r.get<uint8_t>() != 0;
    return c;
  }
};

// How a shard keeps records and what a write stamps on them (vos::RecordSpec and
// vos::WriteStamp): kind 0 = replica/single shard (checksum records while checksums are on),
// 1 = EC data cell, 2 = EC parity cell; unit = the EC cell size; k = data cells per stripe;
// version = the writer's stamp; vec = the k data versions a parity write encodes.
struct RecWire {
  uint8_t kind = 0;
  uint32_t unit = 0;
  uint32_t k = 0;
  uint64_t version = 0;
  std::vector<uint64_t> vec;
  void encode(Writer& w) const {
    w.put(kind).put(unit).put(k).put(version).put<uint32_t>(static_cast<uint32_t>(vec.size()));
    for (uint64_t v : vec) w.put(v);
  }
  static RecWire decode(Reader& r) {
    RecWire x;
    x.kind = r.get<uint8_t>();
    x.unit = r.get<uint32_t>();
    x.k = r.get<uint32_t>();
    x.version = r.get<uint64_t>();
    uint32_t n = r.get<uint32_t>();
    if (n > 256) {  // no stripe is that wide: an invalid kind the server refuses
      x.kind = 0xff;
      return x;
    }
    for (uint32_t i = 0; i < n && r.ok(); ++i) x.vec.push_back(r.get<uint64_t>());
    return x;
  }
};

// The record state a record read returns after the cell's bytes (vos::UnitState):
// u32 flags | u32 nvec | u64 version | u64 bound checksum | nvec x u64 data versions.
struct StateWire {
  static constexpr size_t kFixed = 24;
  static size_t size(uint32_t k) { return kFixed + 8 * static_cast<size_t>(k); }
};

// A stripe lock's intent: the group leader engine that keeps it and what recovery needs.
struct IntentWire {
  bool has = false;
  Uuid pool;
  uint32_t engine = 0;
  std::string payload;  // kLock only
  void encode(Writer& w, bool with_payload) const {
    w.put<uint8_t>(has ? 1 : 0);
    if (!has) return;
    w.uuid(pool).put(engine);
    if (with_payload) w.str(payload);
  }
  static IntentWire decode(Reader& r, bool with_payload) {
    IntentWire x;
    x.has = r.get<uint8_t>() != 0;
    if (!x.has) return x;
    x.pool = r.uuid();
    x.engine = r.get<uint32_t>();
    if (with_payload) x.payload = r.str();
    return x;
  }
};

// --- session 12 ec12 (issue 15, direct partial EC stripes: the finish not waited) ---
// A kShardCommit in kCommitFinish mode is applied whatever the state of its lease (protocol
// version 9): it only drops prev of units still pending with exactly the writer's records, whose
// bytes the writer wrote wholly before sending it, which is what a reader's settling would do.
// Per entry: EDAOS_OK (finished), kFinishLeaseGone (finished, but the lease was recalled or is of
// another pool-map version: the holder drops it), kCommitStale (a unit holds another record: a
// change through the engine replaced this write's, client/README.md). A wire value only.
inline constexpr int32_t kFinishLeaseGone = 3;

}  // namespace edaos::objstore::rpc

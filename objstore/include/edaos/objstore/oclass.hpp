// Object classes: how an object's data is protected (none, replicated, erasure-coded) and over
// how many redundancy groups it is spread. Names and semantics follow DAOS
// (src/include/daos_obj_class.h): "S1", "SX", "RP_2G1", "RP_4G1", "EC_16P3GX", "EC_16P3G32".
//
// A *redundancy group* is one set of shards that together hold one copy of a piece of data:
//   S<n>       no protection; n groups of 1 shard.
//   RP_<r>G<n> r-way replication; n groups of r shards (r replicas).
//   EC_<k>P<p>G<n>  Reed-Solomon k data + p parity; n groups of k+p shards.
// G<n> is an exact group count; GX means "as many groups as the pool allows", resolved against
// the pool map by group_count() (placement.hpp). Each dkey of an object lives in exactly one
// group (Layout::group_of).
//
// Every function here is pure (no I/O, no store, no global state): thread-safe, not
// collective; results are values the caller owns. The PoolMap arguments are only read.
#pragma once

#include <cstdint>
#include <string>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

struct PoolMap;

// Values are stored in object IDs: never renumber.
enum class ResilKind : uint8_t { kNone = 0, kReplica = 1, kErasure = 2 };
// Values are stored in object IDs: never renumber.
enum class ObjType : uint8_t {
  kMultiLevel = 0,  // dkey -> akey -> single values / array extents
  kArray = 1,       // byte array (a file): dkey = chunk index
  kFlatKV = 2,      // flat key-value (one akey per dkey)
};

// The largest group count an object ID can carry (16-bit field). DAOS uses the same limit
// (MAX_NUM_GROUPS).
inline constexpr uint32_t kMaxGroups = 65535;

struct EDAOS_CXX_API ObjClass {
  ResilKind kind = ResilKind::kNone;
  uint32_t data = 1;    // S: 1, RP: 1, EC: k
  uint32_t redun = 0;   // S: 0, RP: replicas-1, EC: p
  uint32_t groups = 1;  // number of redundancy groups; 0 = "X" (as many as the pool allows)

  uint32_t group_size() const { return data + redun; }
  uint32_t replicas() const { return kind == ResilKind::kReplica ? redun + 1 : 1; }
  // Failures one group survives: RP r-1, EC p, S 0.
  uint32_t tolerated_failures() const { return redun; }
  bool is_gx() const { return groups == 0; }

  // Canonical DAOS spelling: "S1", "S4", "SX", "RP_2G1", "RP_3GX", "EC_16P3GX", "EC_16P3G32".
  // An invalid class prints as "INVALID(kind=..,data=..,redun=..,groups=..)".
  std::string name() const;

  // OK when the class is one DAOS defines: S, RP_<r> with r in {2,3,4,5,6,8,12,16,24,32,48,64,
  // 128}, EC_<k>P<p> with (k,p) in {2P1,2P2,4P1,4P2,4P3,8P1,8P2,8P3,16P1,16P2,16P3}, and
  // groups <= kMaxGroups. Otherwise EDAOS_INVAL describing the field.
  Status validate() const;

  // Parses a class name, case-insensitive, with an optional "OC_" prefix (DAOS's C constant
  // names, e.g. "OC_EC_16P3GX"). Any G<n> with 1 <= n <= 65535 is accepted (DAOS predefines
  // 1,2,4,6,8,12,16,32 but encodes any count in the OID). Anything else is EDAOS_INVAL naming
  // the input and listing the grammar.
  static Result<ObjClass> parse(const std::string& s);

  friend bool operator==(const ObjClass& a, const ObjClass& b) {
    return a.kind == b.kind && a.data == b.data && a.redun == b.redun && a.groups == b.groups;
  }
  friend bool operator!=(const ObjClass& a, const ObjClass& b) { return !(a == b); }
};

// ---- Object ID layout ----------------------------------------------------------------------
//
//   oid.hi  bit 63..62  ObjType                     (2 bits)
//           bit 61..60  ResilKind                   (2 bits; value 3 reserved)
//           bit 59..55  data - 1                    (5 bits: data 1..32)
//           bit 54..48  redun                       (7 bits: 0..127, RP_128 has redun 127)
//           bit 47..32  groups, 0 = X               (16 bits: 1..65535)
//           bit 31..0   allocator sequence, high part  (kOidSeqHiBits = 32 bits)
//   oid.lo  bit 63..0   allocator sequence, low part
//
// The class occupies the high 32 bits of `hi` (as types.hpp promises) and leaves 96 bits for
// the container's OID allocator. The class bits are part of the ID, so an object keeps its class
// for life, and GX stays symbolic: it is resolved against the pool map at layout time.
inline constexpr int kOidSeqHiBits = 32;
inline constexpr uint64_t kOidSeqHiMask = (uint64_t{1} << kOidSeqHiBits) - 1;

// Builds an object ID. `seq_hi` is masked to its low kOidSeqHiBits bits. `oc` should satisfy
// oc.validate(); fields wider than their bit field are masked.
EDAOS_CXX_API ObjectId make_oid(ObjClass oc, ObjType type, uint64_t seq_hi, uint64_t seq_lo);
// Decodes the class / type bits. The result may be invalid for an ID not made by make_oid
// (check ObjClass::validate()).
EDAOS_CXX_API ObjClass oclass_of(ObjectId oid);
EDAOS_CXX_API ObjType otype_of(ObjectId oid);

// Refuses a class the pool cannot hold, with EDAOS_NOENGINE and a message naming both numbers:
//  - a group needs group_size() distinct engines (an engine is the fault domain):
//      "object class EC_16P3GX needs 19 engines (fault domains), pool has 4"
//  - G<n> needs n * group_size() targets, so that no two shards of the object share a target
//    (DAOS refuses the same: grp_nr * grp_size > target_nr):
//      "object class RP_2G32 needs 64 targets (32 groups x 2 shards), pool has 16"
//    GX always fits (it is sized from the pool).
// An invalid class is EDAOS_INVAL; an empty or malformed map is EDAOS_NOENGINE / EDAOS_INVAL.
EDAOS_CXX_API Status validate_for_pool(const ObjClass& oc, const PoolMap& map);

// Refuses a class that tolerates fewer failures than the container's redundancy factor, with
// EDAOS_INVAL naming class and rd_fac. DAOS semantics: RP needs replicas > rd_fac, EC needs
// p >= rd_fac, S only with rd_fac 0. rd_fac outside 0..4 is EDAOS_INVAL.
EDAOS_CXX_API Status validate_for_rd_fac(const ObjClass& oc, int rd_fac);

// The class DAOS picks when the container names none (DAOS dc_set_oclass() for DFS objects;
// "domains" below is the number of engines, edaos's fault domain):
//   directories: rd_fac 0 -> S1, rd_fac n -> RP_<n+1>G1.
//   files (byte arrays), always GX:
//     rd_fac 0 -> SX
//     rd_fac 1 -> EC_16P1 (>= 18 domains), EC_8P1 (>= 10), EC_4P1 (>= 6), EC_2P1 (>= 3),
//                 else RP_2
//     rd_fac 2 -> EC_16P2 (>= 20), EC_8P2 (>= 12), EC_4P2 (>= 8), EC_2P2 (>= 4), else RP_3
//     rd_fac 3 -> EC_16P3 (>= 22), EC_8P3 (>= 14), EC_4P3 (>= 10), else RP_4
//     rd_fac 4 -> RP_5 (DAOS has no EC class for rd_fac 4)
// The result may still be too wide for a tiny pool (RP_4G1 on 3 engines): validate_for_pool()
// reports that with both numbers, as DAOS does at create time.
EDAOS_CXX_API ObjClass default_oclass(int rd_fac, bool directory, const PoolMap& map);

}  // namespace edaos::objstore

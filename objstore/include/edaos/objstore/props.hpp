// Container properties: what `daos container create --properties=...`, `set-prop` and
// `get-prop` handle, with DAOS names and DAOS's printing, plus the edaos/DFS create options
// chunk_size, oclass, file_oclass and dir_oclass as properties.
//
//   edaos container create --properties=rd_fac:3,ec_cell_sz:131072,cksum:crc32,srv_cksum:on
//
// Settable keys (case-insensitive; values as DAOS accepts them):
//   label            1..127 chars of [A-Za-z0-9._:-], not a UUID
//   cksum            off | crc32 | crc32c | crc64 (DAOS's crc16/sha*/adler32 are refused)
//   cksum_size       size > 0 and < 4 GiB                     (DAOS default 32 KiB)
//   srv_cksum        on | off (on needs cksum != off)
//   rd_fac (rf)      0..4 (DAOS_RF_MAX)
//   rd_lvl (rf_lvl)  rank | node | 1 | 2
//   ec_cell_sz       size, 4 KiB..1 MiB, multiple of 32 (DAOS daos_ec_cs_valid; default 128 KiB)
//   status           healthy (clears UNCLEAN, as `daos cont set-prop ... status:HEALTHY`)
//   dedup, compression, encryption   off (the only value edaos implements)
//   dedup_threshold  size > 0
//   chunk_size       size > 0 (edaos; DFS --chunk-size; default 1 MiB)
//   oclass, file_oclass, dir_oclass  object class name or empty for automatic (edaos; DFS
//                    --oclass/--file-oclass/--dir-oclass); stored in canonical form
// Sizes: a number with an optional unit, as DAOS (go-humanize) parses them: B, K/KB = 1000,
// KI/KIB = 1024, M/MB, MI/MIB, G/GB, GI/GIB, T/TB, TI/TIB; e.g. 131072, 128KiB, "1 MiB".
// Read-only keys (set by the tool, not by a user): owner, group, acl, layout_type,
// layout_version, alloc_oid, max_snapshot.
// Cross-checks after every change: srv_cksum:on needs a checksum, and every object class set
// must satisfy rd_fac (validate_for_rd_fac).
//
// Every function here is pure: no I/O, no store, no global state. Thread-safe, not
// collective; results are values the caller owns; the const char* names are static strings.
// Whether a class fits a pool is not checked here (Container::set_prop and
// Pool::cont_create do it with validate_for_pool).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore {

// Values are stored: never renumber. DAOS layout types (DAOS_PROP_CO_LAYOUT_*).
enum class ContType : uint8_t { kUnknown = 0 /* plain */, kPosix = 1, kHdf5 = 2 };
enum class ContStatus : uint8_t { kHealthy = 0, kUnclean = 1 };
// Fault-domain level of the rd_fac guarantee (DAOS_PROP_CO_REDUN_RANK / _NODE).
enum class RedunLevel : uint8_t { kRank = 1, kNode = 2 };

// "unknown", "POSIX", "HDF5" (DAOS spelling); "invalid" for values outside the enum.
EDAOS_CXX_API const char* cont_type_name(ContType t);
// Accepts the names above, case-insensitive; anything else is EDAOS_INVAL.
EDAOS_CXX_API Result<ContType> parse_cont_type(const std::string& s);

struct EDAOS_CXX_API ContainerProps {
  std::string label;
  ContType type = ContType::kPosix;
  uint64_t chunk_size = 1 << 20;    // DFS default
  uint32_t ec_cell_sz = 128 << 10;  // DAOS_EC_CELL_DEF
  uint32_t rd_fac = 0;
  // edaos treats the engine as the fault domain and spreads over nodes when it can; the level
  // is recorded and printed but placement does not consult it.
  RedunLevel rd_lvl = RedunLevel::kRank;
  CsumType cksum = CsumType::kOff;
  uint32_t cksum_size = 32768;
  bool srv_cksum = false;
  std::string oclass;       // default object class, "" = automatic (default_oclass)
  std::string file_oclass;  // class of files (byte arrays), "" = oclass or automatic
  std::string dir_oclass;   // class of directories, "" = oclass or automatic
  std::string owner;        // "user@"
  std::string group;        // "group@"
  std::string acl;          // DAOS ACE strings, ", "-separated, e.g. "A::OWNER@:rwdtTaAo"
  ContStatus status = ContStatus::kHealthy;
  uint32_t layout_version = 1;
  uint64_t alloc_oid = 0;  // highest allocated OID sequence
  uint64_t dedup_threshold = 4096;
  uint32_t max_snapshot = 0;

  friend EDAOS_CXX_API bool operator==(const ContainerProps& a, const ContainerProps& b);
  friend bool operator!=(const ContainerProps& a, const ContainerProps& b) { return !(a == b); }
};

// Applies "key:value[,key:value...]" (the first ':' of an item splits key from value; an empty
// spec is a no-op). All or nothing: on error *p is unchanged. Unknown key, read-only key,
// duplicate key, missing ':' or a bad value is EDAOS_INVAL with a message naming the key and
// the value.
EDAOS_CXX_API Status apply_properties(ContainerProps* p, const std::string& spec);
// Sets one property (same rules, including the cross-checks); on error *p is unchanged.
EDAOS_CXX_API Status set_property(ContainerProps* p, const std::string& key,
                                  const std::string& value);

// Rows for `container get-prop`, as `daos container get-prop` prints them: first column
// "<description> (<key>)", second the value in DAOS's format ("32 KiB", "HEALTHY", "crc32",
// "not set" for an empty string), rows sorted by key (DAOS lists all properties by key).
// The edaos extras chunk_size, oclass, file_oclass and dir_oclass are listed among them.
EDAOS_CXX_API std::vector<std::pair<std::string, std::string>> describe(const ContainerProps& p);

// Never fails. Versioned binary form:
//   "EDCP" magic | u16 format version (1) | u16 flags | u32 payload length | payload |
//   u32 CRC-32 of every preceding byte.
// The payload is a list of {u16 tag, u32 length, value} records; a reader skips tags it does
// not know, so fields can be added without a version bump.
EDAOS_CXX_API std::string encode(const ContainerProps& p);
// EDAOS_FORMAT naming the problem (truncated, bad magic, unknown version, checksum mismatch,
// bad record).
EDAOS_CXX_API Result<ContainerProps> decode_props(const std::string& bytes);

// "32 KiB", "1.0 MiB", "4.0 KiB", "512 B": go-humanize IBytes, which `daos` uses for sizes.
// Never fails.
EDAOS_CXX_API std::string format_ibytes(uint64_t bytes);
// Parses a size as described above; EDAOS_INVAL naming the text.
EDAOS_CXX_API Result<uint64_t> parse_size(const std::string& s);

}  // namespace edaos::objstore

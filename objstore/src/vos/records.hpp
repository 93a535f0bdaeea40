// Per-unit records of a shard (the sidecar `<shard>.csum`, format 2): encoding, decoding and the
// binding of a checksum to its extent and version. Private to the vos component; the formats
// are documented in objstore/src/vos/README.md ("Record sidecar").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos::detail {

constexpr char kRecMagic[8] = {'E', 'D', 'C', 'S', 'U', 'M', '0', '2'};
constexpr char kLegacyRecMagic[8] = {'E', 'D', 'C', 'S', 'U', 'M', '0', '1'};
constexpr uint32_t kRecFormat = 2;
constexpr uint64_t kRecHdr = 32;
constexpr uint64_t kRecEntryBase = 40;
// Format-1 sidecar (engine formats 1-3): 24-byte entries of u64 csum, u64 prev, u32 flags.
constexpr uint64_t kLegacyEntry = 24;

// State flags of one side (current or previous) of an entry.
constexpr uint32_t kRecCur = 1;     // version, csum (and vec) describe the unit's bytes
constexpr uint32_t kRecUnprot = 4;  // written without checksums: bytes are not verified
// Entry flag: a change is in flight (or was, when its process was killed): `prev` describes
// the state before it, and the bytes are at cur or prev (or torn).
constexpr uint32_t kRecPending = 2;

struct RecHeader {
  uint32_t unit = 0;
  CsumType type = CsumType::kOff;
  RecordKind kind = RecordKind::kAuto;
  uint32_t nvec = 0;  // kEcParity: k
  uint64_t entry_size() const { return kRecEntryBase + 16ull * nvec; }
};

// One side of an entry. flags == 0: empty (no record: the unit must read as zeros).
struct RecState {
  uint32_t flags = 0;
  uint64_t version = 0;
  uint64_t csum = 0;
  std::vector<uint64_t> vec;
};

struct RecEntry {
  RecState cur;
  bool pending = false;
  RecState prev;
};

// Checks a caller's CsumSpec: known type, a function and a chunk size when the type is on.
Status check_csum_spec(const CsumSpec& cs);

std::string encode_rec_header(const RecHeader& h);
// OK with *have = false for an empty file (or one shorter than the header: a torn creation,
// which can only hold no entries). *legacy = true for a format-1 sidecar (its header is then
// decoded into h: unit = chunk, type; kind kAuto). Bad magic/version -> EDAOS_FORMAT.
Status decode_rec_header(const char* buf, size_t got, const std::string& path, RecHeader* h,
                         bool* have, bool* legacy);
void append_rec_entry(const RecHeader& h, const RecEntry& e, std::string* out);
RecEntry decode_rec_entry(const RecHeader& h, const char* p);

// The stored checksum of a unit: the raw checksum of its bytes mixed with where it lives and
// the version that wrote it, so bytes moved to another unit, shard or file, or an older copy
// of them, do not verify.
uint64_t bind_csum(uint64_t raw, const ShardRef& ref, uint64_t unit_index, uint64_t version);

}  // namespace edaos::objstore::vos::detail

namespace edaos::objstore::vos {

// What a call finds about a shard's sidecar (Engine::rec_open; engine_records.cpp and
// engine_direct.cpp).
struct Engine::RecFile {
  std::string path;     // <data file>.csum
  int fd = -1;          // -1: there is no sidecar file
  bool have = false;    // a valid (format-2) header
  detail::RecHeader h;  // when have
  CsumFn fn = nullptr;  // computes raw checksums of type h.type
};

// Session 12 (engine_direct.cpp; client/README.md "Partial stripes: the finish not waited"):
// direct_verify of one EC data cell (unit `unit`, its bytes at `bytes`) for a partial-stripe
// writer that holds the stripe's lock and the cell's range lock, where a pending entry whose
// bytes match its new record (cur) counts as that record. Such an entry is this process's own
// earlier write of the stripe whose finish is still in flight, or a killed writer's cell whose
// bytes it wrote wholly; an engine settles both to cur on access, so this is the record the
// engine would give. A pending entry whose bytes do not match cur fails (EDAOS_CSUM), as in
// direct_verify. Declared here rather than in engine.hpp (not this session's file).
Status direct_verify_writer_cell(int sidecar_fd, const std::string& sidecar, const ShardRef& ref,
                                 const CsumSpec& cs, const RecordSpec& rs, uint64_t unit,
                                 const char* bytes, uint64_t* version);

}  // namespace edaos::objstore::vos

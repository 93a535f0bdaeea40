// Pool identity of an engine directory (local I/O only, no MPI).
//
//   <pool>/engine-NNNN/IDENTITY    which pool (UUID) and which engine index the directory is
//
// Written once, atomically, when the engine is formatted by `PoolStore::create` (or, for an
// engine made by a build that recorded no identity, by the first server of a newer build that
// opens it: the upgrade in place). Never changed afterwards. Kept in a file of its own, apart
// from FORMAT and meta.mdb, so the engine format version can evolve independently.
// Exact format: objstore/src/vos/README.md, "Pool identity".
#pragma once

#include <cstdint>
#include <string>

#include "edaos/objstore/status.hpp"
#include "edaos/objstore/types.hpp"

namespace edaos::objstore::vos {

// Version written into IDENTITY; read_engine_identity refuses others with EDAOS_FORMAT.
constexpr uint32_t kIdentityFormatVersion = 1;

struct EngineIdentity {
  Uuid pool;
  uint32_t engine = 0;
};

// Reads <engine_dir>/IDENTITY. EDAOS_NONEXIST when there is none; EDAOS_FORMAT when its contents
// are not an identity record (bad magic or version, missing field, failed integrity check);
// EDAOS_IO (message with the errno text) when it cannot be read.
Result<EngineIdentity> read_engine_identity(const std::string& engine_dir);
// Writes <engine_dir>/IDENTITY atomically (temp + fsync + rename + fsync of the directory).
Status write_engine_identity(const std::string& engine_dir, const EngineIdentity& id);

// What an engine directory's identity says about it, for a pool `pool` expecting it as engine
// `engine`.
enum class IdentityCheck {
  kMatch,     // IDENTITY names this pool and this engine index
  kAbsent,    // no IDENTITY (an engine of an older build: upgrade when the pool allows it)
  kForeign,   // IDENTITY names another pool or another engine index (`why` names both)
  kDamaged,   // IDENTITY is unreadable as a record (`why` says what is wrong)
  kReadError  // IDENTITY could not be read (I/O error: transient, `why` has the errno text)
};
IdentityCheck check_engine_identity(const std::string& engine_dir, const Uuid& pool,
                                    uint32_t engine, std::string* why);

}  // namespace edaos::objstore::vos

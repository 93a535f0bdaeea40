// Pool identity of an engine directory: <engine>/IDENTITY.
#include "vos/identity.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "vos/vos_internal.hpp"

namespace edaos::objstore::vos {

namespace {

constexpr char kIdentityMagic[] = "EDAOS-ENGINE-ID";
constexpr char kIdentityFile[] = "/IDENTITY";

std::string encode_identity(const EngineIdentity& id) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s %u\npool %s\nengine %u\n", kIdentityMagic,
                kIdentityFormatVersion, id.pool.to_string().c_str(), id.engine);
  std::string s = buf;
  std::snprintf(buf, sizeof buf, "fnv64 %016" PRIx64 "\n", detail::fnv1a64(s.data(), s.size()));
  return s + buf;
}

}  // namespace

Result<EngineIdentity> read_engine_identity(const std::string& engine_dir) {
  const std::string path = engine_dir + kIdentityFile;
  std::string text;
  Status st = detail::read_file(path, &text);
  if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, path + " is missing");
  if (!st.ok()) return Status(EDAOS_IO, st.message());
  auto bad = [&](const char* why) { return Status(EDAOS_FORMAT, path + ": " + why); };
  // Four lines: magic + version, pool, engine, fnv64 of the first three.
  size_t sum_at = text.find("fnv64 ");
  if (sum_at == std::string::npos) return bad("not a pool identity record (no checksum line)");
  char magic[32] = {}, uuid[64] = {};
  unsigned ver = 0, engine = 0;
  if (std::sscanf(text.c_str(), "%31s %u\npool %63s\nengine %u\n", magic, &ver, uuid, &engine) !=
          4 ||
      std::string(magic) != kIdentityMagic)
    return bad("not a pool identity record");
  if (ver != kIdentityFormatVersion)
    return bad(("identity format version " + std::to_string(ver) + " is not supported").c_str());
  char* end = nullptr;
  uint64_t want = std::strtoull(text.c_str() + sum_at + 6, &end, 16);
  if (end != text.c_str() + sum_at + 6 + 16 || want != detail::fnv1a64(text.data(), sum_at))
    return bad("integrity check failed (file damaged)");
  auto u = Uuid::parse(uuid);
  if (!u.ok()) return bad("bad pool uuid");
  EngineIdentity id;
  id.pool = u.value();
  id.engine = engine;
  return id;
}

Status write_engine_identity(const std::string& engine_dir, const EngineIdentity& id) {
  return detail::write_file_atomic(engine_dir + kIdentityFile, encode_identity(id));
}

IdentityCheck check_engine_identity(const std::string& engine_dir, const Uuid& pool,
                                    uint32_t engine, std::string* why) {
  auto id = read_engine_identity(engine_dir);
  if (!id.ok()) {
    *why = id.status().message();
    switch (id.status().code()) {
      case EDAOS_NONEXIST:
        return IdentityCheck::kAbsent;
      case EDAOS_FORMAT:
        return IdentityCheck::kDamaged;
      default:
        return IdentityCheck::kReadError;
    }
  }
  if (id->pool == pool && id->engine == engine) return IdentityCheck::kMatch;
  *why = engine_dir + " belongs to pool " + id->pool.to_string() + " as engine " +
         std::to_string(id->engine) + ", not to pool " + pool.to_string() + " as engine " +
         std::to_string(engine);
  return IdentityCheck::kForeign;
}

}  // namespace edaos::objstore::vos

// Record sidecar format 2: see records.hpp and objstore/src/vos/README.md ("Record sidecar").
#include "vos/records.hpp"

#include <cstring>

#include "common/codec.hpp"
#include "vos/vos_internal.hpp"

namespace edaos::objstore::vos::detail {

namespace {

void put_vec(const RecHeader& h, const RecState& s, std::string* out) {
  for (uint32_t i = 0; i < h.nvec; ++i) put_le64(out, i < s.vec.size() ? s.vec[i] : 0);
}

}  // namespace

Status check_csum_spec(const CsumSpec& cs) {
  if (cs.type == CsumType::kOff) return Status::OK();
  if (static_cast<unsigned>(cs.type) > static_cast<unsigned>(CsumType::kCrc64))
    return Status(EDAOS_INVAL, "unknown checksum type " + std::to_string(unsigned(cs.type)));
  if (!cs.fn) return Status(EDAOS_INVAL, "checksum type set without a checksum function");
  if (cs.chunk == 0) return Status(EDAOS_INVAL, "checksum chunk size is 0");
  return Status::OK();
}

std::string encode_rec_header(const RecHeader& h) {
  std::string s(kRecMagic, 8);
  put_le32(&s, kRecFormat);
  put_le32(&s, h.unit);
  s.push_back(static_cast<char>(h.type));
  s.push_back(static_cast<char>(h.kind));
  put_le<uint16_t>(&s, static_cast<uint16_t>(h.nvec));
  s.resize(kRecHdr, '\0');
  return s;
}

Status decode_rec_header(const char* buf, size_t got, const std::string& path, RecHeader* h,
                         bool* have, bool* legacy) {
  *have = false;
  *legacy = false;
  if (got < kRecHdr) return Status::OK();
  const bool v2 = std::memcmp(buf, kRecMagic, 8) == 0;
  const bool v1 = std::memcmp(buf, kLegacyRecMagic, 8) == 0;
  if (!v1 && !v2) return Status(EDAOS_FORMAT, path + ": bad record sidecar header");
  const uint32_t ver = get_le32(buf + 8), unit = get_le32(buf + 12);
  const uint8_t type = static_cast<uint8_t>(buf[16]);
  if (ver != (v2 ? kRecFormat : 1) || unit == 0 || type == 0 ||
      type > static_cast<uint8_t>(CsumType::kCrc64))
    return Status(EDAOS_FORMAT, path + ": bad record sidecar header");
  h->unit = unit;
  h->type = static_cast<CsumType>(type);
  h->kind = RecordKind::kAuto;
  h->nvec = 0;
  if (v2) {
    const uint8_t kind = static_cast<uint8_t>(buf[17]);
    if (kind > static_cast<uint8_t>(RecordKind::kEcParity))
      return Status(EDAOS_FORMAT, path + ": unknown record kind " + std::to_string(kind));
    h->kind = static_cast<RecordKind>(kind);
    h->nvec = get_le16(buf + 18);
    if ((h->kind == RecordKind::kEcParity) != (h->nvec > 0))
      return Status(EDAOS_FORMAT, path + ": bad record vector length");
  }
  *have = true;
  *legacy = v1;
  return Status::OK();
}

void append_rec_entry(const RecHeader& h, const RecEntry& e, std::string* out) {
  uint32_t flags = e.cur.flags | (e.pending ? kRecPending : 0);
  put_le32(out, flags);
  put_le32(out, e.pending ? e.prev.flags : 0);
  put_le64(out, e.cur.version);
  put_le64(out, e.cur.csum);
  put_le64(out, e.pending ? e.prev.version : 0);
  put_le64(out, e.pending ? e.prev.csum : 0);
  put_vec(h, e.cur, out);
  put_vec(h, e.pending ? e.prev : RecState{}, out);
}

RecEntry decode_rec_entry(const RecHeader& h, const char* p) {
  RecEntry e;
  const uint32_t flags = get_le32(p);
  e.cur.flags = flags & (kRecCur | kRecUnprot);
  e.pending = (flags & kRecPending) != 0;
  e.cur.version = get_le64(p + 8);
  e.cur.csum = get_le64(p + 16);
  if (e.pending) {
    e.prev.flags = get_le32(p + 4) & (kRecCur | kRecUnprot);
    e.prev.version = get_le64(p + 24);
    e.prev.csum = get_le64(p + 32);
  }
  if (h.nvec) {
    const char* v = p + kRecEntryBase;
    e.cur.vec.resize(h.nvec);
    for (uint32_t i = 0; i < h.nvec; ++i) e.cur.vec[i] = get_le64(v + 8 * i);
    if (e.pending) {
      e.prev.vec.resize(h.nvec);
      for (uint32_t i = 0; i < h.nvec; ++i) e.prev.vec[i] = get_le64(v + 8 * (h.nvec + i));
    }
  }
  return e;
}

uint64_t bind_csum(uint64_t raw, const ShardRef& ref, uint64_t unit_index, uint64_t version) {
  uint64_t cont_hi = get_le64(reinterpret_cast<const char*>(ref.cont.b));
  uint64_t cont_lo = get_le64(reinterpret_cast<const char*>(ref.cont.b) + 8);
  uint64_t h = 0x45444153524543ull;  // "EDASREC"
  for (uint64_t v :
       {raw, cont_hi, cont_lo, ref.oid.hi, ref.oid.lo, uint64_t{ref.shard}, unit_index, version})
    h = codec::fmix64(h ^ codec::fmix64(v + 0x9e3779b97f4a7c15ull));
  return h;
}

}  // namespace edaos::objstore::vos::detail

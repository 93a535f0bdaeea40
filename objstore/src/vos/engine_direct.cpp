// Direct writers and readers (issue 15 item 1): a client on the engine's node moves shard bytes
// with pwrite/pread on the data file itself; the engine keeps the records and sizes. See
// objstore/src/vos/README.md ("Direct writers") and objstore/src/client/README.md.
//
// A unit written directly has no record until direct_commit stores the writer's bound
// checksum, so bytes written but never committed (a writer killed before its commit) fail
// verification like any unit whose bytes do not match its record: they never read as data.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "vos/engine.hpp"
#include "vos/engine_internal.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

namespace edaos::objstore::vos {

using detail::kRecCur;
using detail::kRecHdr;
using detail::kRecUnprot;
using detail::RecEntry;
using detail::RecHeader;

namespace {

// The records a direct reader or writer expects: a kAuto shard's while checksums are on (type
// and unit of `cs`), an EC cell's always (crc32c over the cell; parity with k data versions).
RecHeader direct_header(const CsumSpec& cs, const RecordSpec& rs) {
  RecHeader h;
  if (rs.kind == RecordKind::kAuto) {
    h.unit = cs.chunk;
    h.type = cs.type;
    h.kind = RecordKind::kAuto;
    h.nvec = 0;
  } else {
    h.unit = rs.unit;
    h.type = CsumType::kCrc32c;
    h.kind = rs.kind;
    h.nvec = rs.kind == RecordKind::kEcParity ? rs.k : 0;
  }
  return h;
}

Status check_direct_spec(const CsumSpec& cs, const RecordSpec& rs) {
  if (rs.kind == RecordKind::kAuto) return Status::OK();
  if (rs.kind != RecordKind::kEcData && rs.kind != RecordKind::kEcParity)
    return Status(EDAOS_INVAL, "direct access: unknown record kind");
  if (rs.unit == 0 || !cs.fn) return Status(EDAOS_INVAL, "direct access: EC cell size 0");
  if (rs.kind == RecordKind::kEcParity && (rs.k == 0 || rs.k > 255))
    return Status(EDAOS_INVAL, "direct access: EC parity with k = " + std::to_string(rs.k));
  return Status::OK();
}

bool all_zero(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

// Unit u's bytes in the data file, checked against each of `states`: at[i] = they match
// states[i] (a record's bound checksum, written without checksums, or no record: zeros).
Status unit_at(int fd, const std::string& path, uint64_t U, CsumFn fn, CsumType t,
               const ShardRef& ref, uint64_t u,
               std::initializer_list<const detail::RecState*> states, bool* at) {
  std::string b(U, '\0');
  if (fd >= 0) {
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, b.data(), U, u * U, path));
    (void)got;  // zeros past the end
  }
  for (const detail::RecState* st : states) {
    if (st->flags & kRecUnprot)
      *at = true;
    else if (st->flags & kRecCur)
      *at = fn && detail::bind_csum(fn(t, b.data(), U, 0), ref, u, st->version) == st->csum;
    else
      *at = all_zero(b.data(), U);
    ++at;
  }
  return Status::OK();
}

// A pending entry a killed process left: do unit u's bytes in the data file match its prev
// record and not its cur one (then the change never reached the bytes)?
Result<bool> pending_at_prev(int fd, const std::string& path, uint64_t U, CsumFn fn, CsumType t,
                             const ShardRef& ref, uint64_t u, const RecEntry& e) {
  bool at[2] = {false, false};
  EDAOS_RETURN_IF_ERROR(unit_at(fd, path, U, fn, t, ref, u, {&e.cur, &e.prev}, at));
  return !at[0] && at[1];
}

Status not_direct(const std::string& path, const std::string& why) {
  return Status(EDAOS_NOTSUP, "no direct access to " + path + ": " + why);
}

}  // namespace

Status Engine::direct_grant(const ShardRef& ref, const CsumSpec& cs, const RecordSpec& rs,
                            bool write, DirectGrant* g) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_direct_spec(cs, rs));
  // Before the engine mutex: array_logical_end takes it.
  EDAOS_ASSIGN_OR_RETURN(uint64_t end, array_logical_end(ref));
  std::lock_guard<std::mutex> lk(mu_);
  g->path = shard_data_path(ref);
  g->sidecar = g->path + ".csum";
  if (legacy_) return not_direct(g->path, "the engine holds legacy records");
  if (write && opts_.quota_bytes > 0) return not_direct(g->path, "the engine has a quota");
  // A writer changes the target files behind the engine: the used-bytes counter is marked
  // dirty first (vos/README.md "Used-bytes counter"), as every engine write path does.
  if (write) EDAOS_RETURN_IF_ERROR(mark_changed());
  const bool csum_on = cs.type != CsumType::kOff;
  const bool ec = rs.kind != RecordKind::kAuto;
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(g->path, write));
  const RecHeader want = direct_header(cs, rs);
  const bool records = ec || csum_on;
  // Opened without `want` (a mismatch is a refusal here, not an error); the header is written
  // for a writer whose shard has none yet.
  RecFile rf;
  EDAOS_RETURN_IF_ERROR(rec_open(ref, f, nullptr, cs, false, &rf));
  if (rf.have && !records) return not_direct(g->path, "the shard keeps records, checksums are off");
  if (rf.have && (rf.h.kind != want.kind || rf.h.unit != want.unit || rf.h.type != want.type ||
                  rf.h.nvec != want.nvec))
    return not_direct(g->path, "the shard keeps other records than the request");
  if (write && records && !rf.have) EDAOS_RETURN_IF_ERROR(rec_open(ref, f, &want, cs, true, &rf));
  g->records = records;
  g->logical_end = end;
  return Status::OK();
}

Status Engine::direct_commit(const ShardRef& ref, const CsumSpec& cs, const RecordSpec& rs,
                             std::vector<DirectRecord> recs, uint64_t logical_end,
                             CommitMode mode) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_direct_spec(cs, rs));
  const bool csum_on = cs.type != CsumType::kOff;
  if (!recs.empty() && !csum_on && rs.kind == RecordKind::kAuto)
    return Status(EDAOS_INVAL, "direct commit: records without checksums");
  std::lock_guard<std::mutex> lk(mu_);
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, false));
  if (!f) return Status(EDAOS_NONEXIST, "direct commit: " + path + " does not exist");
  // The writer changed the file behind the engine's cached state: its size (reads, punch and
  // truncate use it), its allocation (recounted lazily) and its dirtiness (sync()).
  f->size = detail::file_size_or(f->fd, f->size);
  note_growth(path);
  if (!recs.empty()) {
    const RecHeader want = direct_header(cs, rs);
    RecFile rf;
    EDAOS_RETURN_IF_ERROR(rec_open(ref, f, &want, cs, true, &rf));
    const uint64_t esz = rf.h.entry_size();
    std::sort(recs.begin(), recs.end(),
              [](const DirectRecord& a, const DirectRecord& b) { return a.unit < b.unit; });
    for (size_t i = 0; i < recs.size(); ++i) {
      if (i > 0 && recs[i].unit == recs[i - 1].unit)
        return Status(EDAOS_INVAL, "direct commit: two records for one unit of " + path);
      if (recs[i].vec.size() != want.nvec)
        return Status(EDAOS_INVAL, "direct commit: a record of " + path + " has " +
                                       std::to_string(recs[i].vec.size()) + " data versions, " +
                                       std::to_string(want.nvec) + " expected");
      if (rs.kind != RecordKind::kAuto && recs[i].version == 0)
        return Status(EDAOS_INVAL, "direct commit: an EC cell of " + path + " without a version");
    }
    if (mode == CommitMode::kFinish) {
      // Only the units still pending with exactly the writer's record; a reader may have
      // settled one already (it then holds that record, not pending). A unit holding any
      // other record was changed through the engine since the prepare (after a recall): when
      // its bytes match that record, the change came after the writer's bytes (superseded,
      // consistent); when they do not, the writer's pwrite came after the change and the unit
      // fails verification: EDAOS_EXIST naming it, once the others are finished (session 12:
      // the server applies a finish whatever its lease's state, kCommitStale only for this).
      std::string replaced;
      for (const DirectRecord& d : recs) {
        std::string raw, commit;
        EDAOS_RETURN_IF_ERROR(rec_load(rf, d.unit, d.unit, &raw));
        const RecEntry e = detail::decode_rec_entry(rf.h, raw.data());
        const bool ours = (e.cur.flags & kRecCur) && e.cur.version == d.version &&
                          e.cur.csum == d.csum && e.cur.vec == d.vec;
        if (!ours) {
          // (Pending with another writer's record: a later prepare; the bytes are at its prev
          // until that writer's pwrite.)
          bool at[2] = {false, false};
          EDAOS_RETURN_IF_ERROR(unit_at(f->fd, path, rf.h.unit, rf.fn, rf.h.type, ref, d.unit,
                                        {&e.cur, &e.prev}, at));
          if (!at[0] && !(e.pending && at[1]) && replaced.empty())
            replaced = std::to_string(d.unit);
          continue;
        }
        if (!e.pending) continue;
        RecEntry ce;
        ce.cur = e.cur;
        detail::append_rec_entry(rf.h, ce, &commit);
        EDAOS_RETURN_IF_ERROR(rec_commit(rf, d.unit, commit));
      }
      EDAOS_RETURN_IF_ERROR(raise_logical_end(ref, logical_end));
      if (!replaced.empty())
        return Status(EDAOS_EXIST, "direct finish: unit " + replaced + " of " + path +
                                       " holds another record (a later change replaced it)");
      return Status::OK();
    }
    // Runs of consecutive units: one pending write (old state kept as prev), then (kCommit)
    // one commit; kPrepare stops after the pending write (the data comes after it).
    for (size_t i = 0; i < recs.size();) {
      size_t j = i;
      while (j + 1 < recs.size() && recs[j + 1].unit == recs[j].unit + 1) ++j;
      const uint64_t first = recs[i].unit, last = recs[j].unit;
      std::string raw, pend, commit;
      EDAOS_RETURN_IF_ERROR(rec_load(rf, first, last, &raw));
      for (size_t k = i; k <= j; ++k) {
        const uint64_t u = recs[k].unit;
        RecEntry old = detail::decode_rec_entry(rf.h, raw.data() + (u - first) * esz);
        if (old.pending && mode == CommitMode::kPrepare) {
          // Left by a killed process (a live one holds its units' range lock and never
          // reaches here: its stripe lock is ours now): keep the record its bytes match.
          EDAOS_ASSIGN_OR_RETURN(
              bool at_prev, pending_at_prev(f->fd, path, rf.h.unit, rf.fn, rf.h.type, ref, u, old));
          if (at_prev) old.cur = old.prev;
          old.pending = false;
        }
        RecEntry pe;
        pe.cur.flags = kRecCur;
        pe.cur.version = recs[k].version;
        pe.cur.csum = recs[k].csum;
        pe.cur.vec = recs[k].vec;
        pe.pending = true;
        pe.prev = old.cur;
        detail::append_rec_entry(rf.h, pe, &pend);
        RecEntry ce;
        ce.cur = pe.cur;
        detail::append_rec_entry(rf.h, ce, &commit);
      }
      EDAOS_RETURN_IF_ERROR(
          detail::pwrite_full(rf.fd, pend.data(), pend.size(), kRecHdr + first * esz, rf.path));
      if (mode == CommitMode::kCommit) EDAOS_RETURN_IF_ERROR(rec_commit(rf, first, commit));
      note_growth(rf.path);
      i = j + 1;
    }
  }
  return raise_logical_end(ref, logical_end);
}

bool direct_write_in_flight(int fd, uint64_t off, uint64_t len) {
  if (fd < 0 || len == 0) return false;
  struct flock fl {};
  fl.l_type = F_RDLCK;  // conflicts with write locks only: the ones direct writers take
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(off);
  fl.l_len = static_cast<off_t>(len);
  if (::fcntl(fd, F_OFD_GETLK, &fl) != 0) return false;
  return fl.l_type == F_WRLCK;
}

bool Engine::direct_write_past(const ShardRef& ref, uint64_t end) const {
  const int fd = ::open(shard_data_path(ref).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = direct_write_in_flight(fd, end, static_cast<uint64_t>(INT64_MAX) - end);
  ::close(fd);
  return busy;
}

namespace {

// direct_verify's body; `settled_pending`: a pending entry whose bytes match its cur record
// verifies as that record (direct_verify_writer_cell).
Status verify_units(int sidecar_fd, const std::string& sidecar, const ShardRef& ref,
                    const CsumSpec& cs, const RecordSpec& rs, uint64_t first, uint64_t last,
                    const char* const* units, uint64_t* versions, UnitState* first_state,
                    bool settled_pending) {
  const RecHeader want = direct_header(cs, rs);
  const uint64_t U = want.unit;
  if (want.type == CsumType::kOff || !cs.fn || U == 0)
    return Status(EDAOS_INVAL, "direct_verify: no checksums");
  auto mismatch = [&](uint64_t u, const char* why) {
    return Status(EDAOS_CSUM, "direct read of " + sidecar.substr(0, sidecar.size() - 5) +
                                  ": unit at offset " + std::to_string(u * U) + " " + why);
  };
  std::string raw;
  if (sidecar_fd >= 0) {
    char hb[kRecHdr];
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(sidecar_fd, hb, kRecHdr, 0, sidecar));
    RecHeader h;
    bool have = false, legacy = false;
    EDAOS_RETURN_IF_ERROR(detail::decode_rec_header(hb, got, sidecar, &h, &have, &legacy));
    if (have && (legacy || h.kind != want.kind || h.unit != want.unit || h.type != want.type))
      return mismatch(first, "has records the reader does not check itself");
    raw.assign((last - first + 1) * want.entry_size(), '\0');
    if (have) {
      EDAOS_ASSIGN_OR_RETURN(size_t n,
                             detail::pread_full(sidecar_fd, raw.data(), raw.size(),
                                                kRecHdr + first * want.entry_size(), sidecar));
      (void)n;  // zero-filled past the end: empty entries
    }
  } else {
    raw.assign((last - first + 1) * want.entry_size(), '\0');
  }
  for (uint64_t u = first; u <= last; ++u) {
    const RecEntry e = detail::decode_rec_entry(want, raw.data() + (u - first) * want.entry_size());
    const char* p = units[u - first];
    if (e.pending && !settled_pending) return mismatch(u, "is being changed");
    if (e.cur.flags & kRecCur) {
      if (detail::bind_csum(cs.fn(want.type, p, U, 0), ref, u, e.cur.version) != e.cur.csum)
        return mismatch(u, "does not match its record");
    } else if (!(e.cur.flags & kRecUnprot) && !all_zero(p, U)) {
      return mismatch(u, "holds data but has no record");
    }
    if (versions) versions[u - first] = (e.cur.flags & kRecCur) ? e.cur.version : 0;
    if (first_state && u == first) {
      const bool cur = (e.cur.flags & kRecCur) != 0;
      first_state->flags = (cur ? UnitState::kAtCur : UnitState::kHole) | UnitState::kVerified;
      first_state->version = cur ? e.cur.version : 0;
      first_state->csum = cur ? e.cur.csum : 0;
      first_state->vec = cur ? e.cur.vec : std::vector<uint64_t>();
      first_state->vec.resize(want.nvec, 0);
    }
  }
  return Status::OK();
}

}  // namespace

Status direct_verify(int sidecar_fd, const std::string& sidecar, const ShardRef& ref,
                     const CsumSpec& cs, const RecordSpec& rs, uint64_t first, uint64_t last,
                     const char* const* units, uint64_t* versions, UnitState* first_state) {
  return verify_units(sidecar_fd, sidecar, ref, cs, rs, first, last, units, versions, first_state,
                      false);
}

Status direct_verify_writer_cell(int sidecar_fd, const std::string& sidecar, const ShardRef& ref,
                                 const CsumSpec& cs, const RecordSpec& rs, uint64_t unit,
                                 const char* bytes, uint64_t* version) {
  return verify_units(sidecar_fd, sidecar, ref, cs, rs, unit, unit, &bytes, version, nullptr, true);
}

}  // namespace edaos::objstore::vos

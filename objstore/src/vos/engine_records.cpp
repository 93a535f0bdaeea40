// Byte-array shards of an engine: data files and their record sidecars (format 2).
//
// Every unit of a shard with records (EC cells always; replicas and single shards while
// checksums are on) has an entry: the version that last wrote it and the checksum of its bytes
// bound to (cont, oid, shard, unit index, version). A change stores the new entry with the old
// one kept as `prev` and marked pending, then changes the data, then stores the entry again
// without `prev`. Reads verify units against their entry; a pending entry can only be seen
// after a kill (calls hold the engine mutex), and is resolved to whichever record the bytes
// match. See objstore/src/vos/README.md ("Record sidecar").
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstring>

#include "common/log.hpp"
#include "vos/engine.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::kRecCur;
using detail::kRecEntryBase;
using detail::kRecHdr;
using detail::kRecUnprot;
using detail::RecEntry;
using detail::RecHeader;
using detail::RecState;

namespace {

std::atomic<FaultHook> g_fault_hook{nullptr};
void fault_point(const char* name) {
  if (FaultHook h = g_fault_hook.load(std::memory_order_relaxed)) h(name);
}

bool is_ec(RecordKind k) { return k != RecordKind::kAuto; }

// The header a request implies: EC kinds always (crc32c over whole cells), kAuto only while
// checksums are on (cs.type over cs.chunk).
bool implied_header(const RecordSpec& rs, const CsumSpec& cs, RecHeader* h) {
  if (is_ec(rs.kind)) {
    h->unit = rs.unit;
    h->type = CsumType::kCrc32c;
    h->kind = rs.kind;
    h->nvec = rs.kind == RecordKind::kEcParity ? rs.k : 0;
    return true;
  }
  if (cs.type == CsumType::kOff) return false;
  h->unit = cs.chunk;
  h->type = cs.type;
  h->kind = RecordKind::kAuto;
  h->nvec = 0;
  return true;
}

Status check_records(const RecordSpec& rs, const CsumSpec& cs, const WriteStamp* st) {
  if (!is_ec(rs.kind)) return Status::OK();
  if (static_cast<unsigned>(rs.kind) > static_cast<unsigned>(RecordKind::kEcParity))
    return Status(EDAOS_INVAL, "unknown record kind");
  if (rs.unit == 0) return Status(EDAOS_INVAL, "EC records: cell size is 0");
  if (!cs.fn) return Status(EDAOS_INVAL, "EC records need a checksum function");
  if (rs.kind == RecordKind::kEcParity && (rs.k == 0 || rs.k > 255))
    return Status(EDAOS_INVAL, "EC parity records: k = " + std::to_string(rs.k));
  if (st && st->version == 0) return Status(EDAOS_INVAL, "EC write without a version");
  if (st && rs.kind == RecordKind::kEcParity && !st->vec)
    return Status(EDAOS_INVAL, "EC parity write without the data versions it encodes");
  return Status::OK();
}

const char* kind_name(RecordKind k) {
  switch (k) {
    case RecordKind::kEcData:
      return "EC data";
    case RecordKind::kEcParity:
      return "EC parity";
    default:
      return "checksum";
  }
}

std::string describe(const RecHeader& h) {
  std::string s = std::string(kind_name(h.kind)) + " records " + csum_type_name(h.type) + "/" +
                  std::to_string(h.unit);
  if (h.nvec) s += " k=" + std::to_string(h.nvec);
  return s;
}

bool all_zero(const char* p, size_t n) {
  static const char kZeros[4096] = {};
  while (n >= sizeof kZeros) {
    if (std::memcmp(p, kZeros, sizeof kZeros) != 0) return false;
    p += sizeof kZeros;
    n -= sizeof kZeros;
  }
  return std::memcmp(p, kZeros, n) == 0;
}

std::string shard_name(const ShardRef& ref) {
  return ref.cont.to_string() + "/" + ref.oid.to_string() + "." + std::to_string(ref.shard);
}

// Does a unit whose bytes are `unit` (raw checksum computed lazily) match state s?
class UnitBytes {
 public:
  UnitBytes(const char* p, size_t n, CsumFn fn, CsumType t) : p_(p), n_(n), fn_(fn), t_(t) {}
  uint64_t raw() {
    if (!have_raw_) {
      raw_ = fn_(t_, p_, n_, 0);
      have_raw_ = true;
    }
    return raw_;
  }
  bool zero() {
    if (zero_ < 0) zero_ = all_zero(p_, n_) ? 1 : 0;
    return zero_ == 1;
  }
  bool matches(const RecState& s, const ShardRef& ref, uint64_t u) {
    if (s.flags & kRecUnprot) return true;
    if (s.flags & kRecCur) return detail::bind_csum(raw(), ref, u, s.version) == s.csum;
    return zero();
  }

 private:
  const char* p_;
  size_t n_;
  CsumFn fn_;
  CsumType t_;
  bool have_raw_ = false;
  uint64_t raw_ = 0;
  int zero_ = -1;
};

}  // namespace

void set_fault_hook_for_testing(FaultHook hook) {
  g_fault_hook.store(hook, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- sidecar access

Status Engine::rec_open(const ShardRef& ref, OpenFile* data, const RecHeader* want,
                        const CsumSpec& cs, bool create, RecFile* rf) {
  rf->path = shard_data_path(ref) + ".csum";
  EDAOS_ASSIGN_OR_RETURN(OpenFile * sf, open_file(rf->path, create && want));
  rf->fd = sf ? sf->fd : -1;
  bool legacy = false;
  if (sf) {
    if (!sf->hdr_known) {
      char buf[kRecHdr];
      EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(rf->fd, buf, kRecHdr, 0, rf->path));
      sf->hdr.assign(buf, got);
      sf->hdr_known = true;
    }
    EDAOS_RETURN_IF_ERROR(detail::decode_rec_header(sf->hdr.data(), sf->hdr.size(), rf->path,
                                                    &rf->h, &rf->have, &legacy));
  }
  if (legacy) {
    // A format-1 sidecar (written before format 4): convert it before anything uses it.
    RecHeader target = want ? *want : rf->h;
    EDAOS_RETURN_IF_ERROR(ensure_records_format());
    EDAOS_RETURN_IF_ERROR(rec_convert_legacy(ref, data, target, cs, rf));
  } else if (!sf && legacy_ && want && is_ec(want->kind) && data && data->size > 0) {
    // An EC shard a format 1-3 engine stored without checksums: its cells carry no record.
    EDAOS_RETURN_IF_ERROR(ensure_records_format());
    EDAOS_RETURN_IF_ERROR(rec_convert_legacy(ref, data, *want, cs, rf));
  }
  if (!rf->have && rf->fd >= 0 && create && want) {
    EDAOS_RETURN_IF_ERROR(ensure_records_format());
    const std::string hdr = detail::encode_rec_header(*want);
    EDAOS_RETURN_IF_ERROR(detail::pwrite_full(rf->fd, hdr.data(), hdr.size(), 0, rf->path));
    note_growth(rf->path);
    auto it = fds_.find(rf->path);
    if (it != fds_.end()) {
      it->second.hdr = hdr;
      it->second.hdr_known = true;
    }
    rf->have = true;
    rf->h = *want;
  } else if (rf->have && want &&
             (rf->h.kind != want->kind || rf->h.unit != want->unit || rf->h.type != want->type ||
              rf->h.nvec != want->nvec)) {
    return Status(EDAOS_INVAL, "shard " + shard_data_path(ref) + " has " + describe(rf->h) +
                                   ", request uses " + describe(*want));
  } else if (!rf->have && want) {
    rf->h = *want;  // no sidecar (or no header yet): every entry is empty
  }
  rf->fn = known_fn(cs.fn, rf->h.type);
  return Status::OK();
}

Status Engine::rec_load(RecFile& rf, uint64_t first, uint64_t last, std::string* raw) {
  const uint64_t esz = rf.h.entry_size();
  raw->assign((last - first + 1) * esz, '\0');
  if (rf.fd < 0 || !rf.have) return Status::OK();  // beyond the end: empty entries
  EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(rf.fd, raw->data(), raw->size(),
                                                        kRecHdr + first * esz, rf.path));
  (void)got;
  return Status::OK();
}

uint64_t bind_unit_csum(uint64_t raw, const ShardRef& ref, uint64_t unit_index, uint64_t version) {
  return detail::bind_csum(raw, ref, unit_index, version);
}

Status Engine::rec_verify(const ShardRef& ref, RecFile& rf, uint64_t first, uint64_t last,
                          const char* buf, UnitState* state, bool check_bytes, int data_fd,
                          bool* in_flight) {
  const uint64_t U = rf.h.unit, esz = rf.h.entry_size();
  std::string raw;
  EDAOS_RETURN_IF_ERROR(rec_load(rf, first, last, &raw));
  if (!rf.fn && rf.have) return Status(EDAOS_INVAL, "no checksum function for " + describe(rf.h));
  for (uint64_t u = first; u <= last; ++u) {
    RecEntry e = detail::decode_rec_entry(rf.h, raw.data() + (u - first) * esz);
    UnitBytes bytes(buf + (u - first) * U, U, rf.fn, rf.h.type);
    const bool was_pending = e.pending;
    const uint64_t uoff = u * U;
    auto corrupt = [&](const std::string& why) {
      // Checked under the engine mutex, so a commit cannot slip in between: the writer holds
      // its lock until its commit, which takes this mutex, has been answered.
      if (direct_write_in_flight(data_fd, uoff, U)) {
        if (in_flight) *in_flight = true;
        return Status(EDAOS_CSUM, "unit at offset " + std::to_string(uoff) + " of shard " +
                                      shard_name(ref) + " (" + shard_data_path(ref) +
                                      ") is being written directly: commit in flight (" + why +
                                      ")");
      }
      EDAOS_LOG(warn, "%s: unit at offset %" PRIu64 " of %s: %s", shard_name(ref).c_str(), uoff,
                rf.path.c_str(), why.c_str());
      return Status(EDAOS_CSUM, "on-disk data of shard " + shard_name(ref) + " (" +
                                    shard_data_path(ref) + ") is corrupt: chunk at offset " +
                                    std::to_string(uoff) + " " + why);
    };
    if (e.pending) {
      // Left by a process killed inside a change: keep whichever record the bytes match. Or
      // a direct partial-stripe writer's change in progress (session 8: its records are stored
      // pending before its pwrite, and it holds the units' range lock until its finish): the
      // bytes it has not written yet match prev, the ones it has match cur. Answered as they
      // are but not stored: settling it now would leave cur = prev under its coming pwrite.
      const bool live = direct_write_in_flight(data_fd, uoff, U);
      if (bytes.matches(e.cur, ref, u)) {
        e.pending = false;
      } else if (bytes.matches(e.prev, ref, u)) {
        e.cur = e.prev;
        e.pending = false;
      } else {
        return corrupt("matches neither the record of an interrupted change (" +
                       detail::hex64(e.cur.version) + ") nor the one before it (" +
                       detail::hex64(e.prev.version) + ")");
      }
      std::string enc;
      detail::append_rec_entry(rf.h, e, &enc);
      if (live) {
        EDAOS_LOG(debug, "%s: unit at offset %" PRIu64 " is being written directly: read at %s",
                  shard_name(ref).c_str(), uoff, detail::hex64(e.cur.version).c_str());
      } else {
        EDAOS_RETURN_IF_ERROR(mark_changed());
        EDAOS_RETURN_IF_ERROR(
            detail::pwrite_full(rf.fd, enc.data(), enc.size(), kRecHdr + u * esz, rf.path));
        note_growth(rf.path);
        EDAOS_LOG(info,
                  "%s: interrupted change of unit at offset %" PRIu64 " resolved to version %s",
                  shard_name(ref).c_str(), uoff, detail::hex64(e.cur.version).c_str());
      }
    } else if (!check_bytes) {
      // Only the record is wanted (its version); the caller verifies bytes it combines.
    } else if (e.cur.flags & kRecCur) {
      if (!bytes.matches(e.cur, ref, u))
        return corrupt("has checksum " +
                       detail::hex64(detail::bind_csum(bytes.raw(), ref, u, e.cur.version)) +
                       ", stored " + detail::hex64(e.cur.csum) + " (version " +
                       detail::hex64(e.cur.version) + ")");
    } else if (!(e.cur.flags & kRecUnprot) && !bytes.zero()) {
      return corrupt("holds data but has no checksum record (sidecar " + rf.path +
                     (rf.fd < 0 ? " missing" : " truncated or zeroed") + ")");
    }
    if (state && u == first) {
      state->flags = (e.cur.flags & kRecCur) ? UnitState::kAtCur : UnitState::kHole;
      if (check_bytes || was_pending) state->flags |= UnitState::kVerified;
      state->version = (e.cur.flags & kRecCur) ? e.cur.version : 0;
      state->csum = (e.cur.flags & kRecCur) ? e.cur.csum : 0;
      state->vec = (e.cur.flags & kRecCur) ? e.cur.vec : std::vector<uint64_t>(rf.h.nvec, 0);
      state->vec.resize(rf.h.nvec, 0);
    }
  }
  return Status::OK();
}

Status Engine::rec_prepare(const ShardRef& ref, int fd, RecFile& rf, uint64_t first, uint64_t last,
                           const UnitFull& full, const UnitEdit& edit, RecChange change,
                           const WriteStamp& st, std::string* commit) {
  const bool to_empty = change == RecChange::kEmpty;
  const uint64_t U = rf.h.unit, esz = rf.h.entry_size();
  if (!rf.fn) return Status(EDAOS_INVAL, "no checksum function for " + describe(rf.h));
  std::string raw, pend, scratch;
  EDAOS_RETURN_IF_ERROR(rec_load(rf, first, last, &raw));
  pend.reserve(raw.size());
  commit->clear();
  commit->reserve(raw.size());
  for (uint64_t u = first; u <= last; ++u) {
    RecEntry old = detail::decode_rec_entry(rf.h, raw.data() + (u - first) * esz);
    const uint64_t uoff = u * U;
    const char* src = full ? full(uoff) : nullptr;
    const bool need_old = (!src && !to_empty) || old.pending;
    if (need_old) {
      scratch.resize(U);
      if (fd >= 0) {
        EDAOS_ASSIGN_OR_RETURN(size_t got,
                               detail::pread_full(fd, scratch.data(), U, uoff, rf.path));
        (void)got;
      } else {
        std::memset(scratch.data(), 0, U);
      }
    }
    if (old.pending) {  // left by a killed process: settle which record the old bytes are at
      UnitBytes bytes(scratch.data(), U, rf.fn, rf.h.type);
      if (!bytes.matches(old.cur, ref, u) && bytes.matches(old.prev, ref, u)) old.cur = old.prev;
      old.pending = false;
    }
    RecState next;
    if (!to_empty) {
      if (!src) {
        edit(uoff, scratch.data());
        src = scratch.data();
      }
      if (change == RecChange::kEdit && !(old.cur.flags & kRecCur)) {
        next = old.cur;  // punch/truncate of an unrecorded or unprotected unit: stays so
      } else {
        next.flags = kRecCur;
        next.version = change == RecChange::kEdit && st.version == 0 ? old.cur.version : st.version;
        next.csum = detail::bind_csum(rf.fn(rf.h.type, src, U, 0), ref, u, next.version);
        if (rf.h.nvec) {
          if (st.vec)
            next.vec.assign(st.vec, st.vec + rf.h.nvec);
          else
            next.vec = old.cur.vec;
        }
      }
    }
    RecEntry pe;
    pe.cur = next;
    pe.pending = true;
    pe.prev = old.cur;
    detail::append_rec_entry(rf.h, pe, &pend);
    RecEntry ce;
    ce.cur = next;
    detail::append_rec_entry(rf.h, ce, commit);
  }
  EDAOS_RETURN_IF_ERROR(
      detail::pwrite_full(rf.fd, pend.data(), pend.size(), kRecHdr + first * esz, rf.path));
  note_growth(rf.path);
  return Status::OK();
}

Status Engine::rec_commit(RecFile& rf, uint64_t first, const std::string& commit) {
  if (commit.empty()) return Status::OK();
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(rf.fd, commit.data(), commit.size(),
                                            kRecHdr + first * rf.h.entry_size(), rf.path));
  note_growth(rf.path);
  return Status::OK();
}

Status Engine::rec_convert_legacy(const ShardRef& ref, OpenFile* data, const RecHeader& target,
                                  const CsumSpec& cs, RecFile* rf) {
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  const bool old_sidecar = rf->have;      // a format-1 header was decoded into rf->h
  const RecHeader old = rf->h;
  const uint64_t size = data ? data->size : 0;
  const int dfd = data ? data->fd : -1;
  CsumFn fn = known_fn(cs.fn, target.type);
  CsumFn old_fn = old_sidecar ? known_fn(cs.fn, old.type) : nullptr;
  if (!fn || (old_sidecar && !old_fn))
    return Status(EDAOS_INVAL, "cannot convert the legacy records of " + shard_data_path(ref) +
                                   ": no checksum function known");
  // Format-1 entries: a chunk is good when its bytes match the stored checksum or the previous
  // one (the format-1 rule); a bad chunk leaves its units without a record, so they keep
  // failing verification instead of being blessed.
  std::vector<bool> bad;
  if (old_sidecar) {
    const uint64_t n = (size + old.unit - 1) / old.unit;
    std::string ents(n * detail::kLegacyEntry, '\0'), chunk(old.unit, '\0');
    EDAOS_ASSIGN_OR_RETURN(size_t got,
                           detail::pread_full(rf->fd, ents.data(), ents.size(), kRecHdr, rf->path));
    (void)got;
    bad.assign(n, false);
    for (uint64_t c = 0; c < n; ++c) {
      const char* e = ents.data() + c * detail::kLegacyEntry;
      const uint32_t flags = static_cast<uint8_t>(e[16]);
      if (!(flags & 1)) continue;
      EDAOS_ASSIGN_OR_RETURN(
          size_t g2, detail::pread_full(dfd, chunk.data(), old.unit, c * old.unit, rf->path));
      (void)g2;
      const uint64_t have = old_fn(old.type, chunk.data(), old.unit, 0);
      bad[c] = have != detail::get_le64(e) && !((flags & 2) && have == detail::get_le64(e + 8));
    }
  }
  const uint64_t U = target.unit, n = (size + U - 1) / U;
  std::string out = detail::encode_rec_header(target), unit(U, '\0');
  for (uint64_t u = 0; u < n; ++u) {
    RecEntry e;
    bool ok = true;
    if (old_sidecar) {
      for (uint64_t c = u * U / old.unit; c < bad.size() && c * old.unit < (u + 1) * U; ++c)
        ok = ok && !bad[c];
    }
    if (ok) {
      EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(dfd, unit.data(), U, u * U, rf->path));
      (void)got;
      e.cur.flags = kRecCur;
      e.cur.version = kLegacyVersion;
      e.cur.csum = detail::bind_csum(fn(target.type, unit.data(), U, 0), ref, u, kLegacyVersion);
      e.cur.vec.assign(target.nvec, kLegacyVersion);
    }
    detail::append_rec_entry(target, e, &out);
  }
  // Replace the sidecar in one step: a kill leaves either the legacy file or the converted one.
  if (rf->fd >= 0) {
    auto it = fds_.find(rf->path);
    if (it != fds_.end()) {
      settle(it->second);
      used_bytes_ = used_bytes_ > it->second.blocks ? used_bytes_ - it->second.blocks : 0;
      it->second.blocks = 0;
    }
    forget_fd(rf->path);
  }
  EDAOS_RETURN_IF_ERROR(detail::write_file_atomic(rf->path, out));
  absent_.erase(rf->path);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * sf, open_file(rf->path, false));
  if (!sf) return Status(EDAOS_IO, "converted sidecar " + rf->path + " vanished");
  used_bytes_ += sf->blocks;
  rf->fd = sf->fd;
  rf->have = true;
  rf->h = target;
  EDAOS_LOG(info, "%s: legacy records converted (%" PRIu64 " units, %s)", rf->path.c_str(), n,
            old_sidecar ? "format-1 sidecar" : "no sidecar");
  return Status::OK();
}

// ---------------------------------------------------------------- arrays

Status Engine::array_write(const ShardRef& ref, uint64_t off, const void* data, size_t len,
                           const CsumSpec& cs, const uint64_t* in_csum, uint64_t logical_end,
                           const RecordSpec& rs, const WriteStamp& st) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_records(rs, cs, len > 0 ? &st : nullptr));
  if (len > 0 && !data) return Status(EDAOS_INVAL, "array_write: null buffer");
  if (off + len < off) return Status(EDAOS_INVAL, "array_write: offset overflow");
  const bool csum_on = cs.type != CsumType::kOff;
  if (csum_on && in_csum) {
    uint64_t got = cs.fn(cs.type, data, len, 0);
    if (got != *in_csum)
      return Status(EDAOS_CSUM, "checksum of " + std::to_string(len) + " bytes received for " +
                                    shard_data_path(ref) + " at offset " + std::to_string(off) +
                                    " is " + detail::hex64(got) + ", client sent " +
                                    detail::hex64(*in_csum));
  }
  std::lock_guard<std::mutex> g(mu_);
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  if (is_ec(rs.kind)) fns_[static_cast<unsigned>(CsumType::kCrc32c)] = cs.fn;
  if (len == 0) return raise_logical_end(ref, logical_end);
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change

  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, true));
  const int fd = f->fd;
  const uint64_t old_size = f->size;
  RecHeader want;
  const bool wants = implied_header(rs, cs, &want);

  // Is the whole range already allocated (an overwrite needs no new space)? Ranges this engine
  // wrote or reserved since the file was opened are known; bytes at or past the end are not
  // allocated (nothing is ever reserved beyond the size). Otherwise only the quota needs the
  // answer: without one, fallocate below is harmless on allocated blocks.
  bool allocated = f->allocated(off, off + len);
  if (!allocated && opts_.quota_bytes > 0) {
    if (off < old_size) {
      off_t hole = ::lseek(fd, static_cast<off_t>(off), SEEK_HOLE);
      allocated = hole >= 0 && static_cast<uint64_t>(hole) >= off + len;
    }
    if (!allocated) {
      uint64_t need = len + 2 * 4096;
      if (wants) need += (len / want.unit + 2) * want.entry_size() + 4096;
      settle_all();
      uint64_t used = used_bytes_ + db_->allocated_bytes();
      if (used + need > opts_.quota_bytes)
        return Status(EDAOS_NOSPACE, "engine " + opts_.dir + " quota of " +
                                         std::to_string(opts_.quota_bytes) +
                                         " bytes would be exceeded (" + std::to_string(used) +
                                         " used, write of " + std::to_string(len) + " bytes)");
    }
  }
  // Reserve the blocks first: when the file system is full this fails before any byte changes.
  if (!allocated) {
    if (::fallocate(fd, 0, static_cast<off_t>(off), static_cast<off_t>(len)) != 0) {
      int err = errno;
      if (err != EOPNOTSUPP && err != ENOSYS) {
        if (::ftruncate(fd, static_cast<off_t>(old_size)) != 0) {
          // Best effort: a larger size only adds a hole.
        }
        f->size = detail::file_size_or(fd, old_size);
        f->alloc.clear();
        note_growth(path);
        return detail::errno_status(err, "allocate " + std::to_string(len) + " bytes in " + path);
      }
    } else {
      f->size = std::max<uint64_t>(f->size, off + len);  // mode 0 extends the file
      f->mark_allocated(off, off + len);
      note_growth(path);
    }
  }
  // Records first (keeping the previous ones), then the data, then the records again without
  // the previous ones: see rec_prepare.
  const char* src = static_cast<const char*>(data);
  RecFile rf;
  EDAOS_RETURN_IF_ERROR(rec_open(ref, f, wants ? &want : nullptr, cs, true, &rf));
  std::string commit;
  uint64_t first = 0;
  if (rf.have) {
    const uint64_t U = rf.h.unit;
    first = off / U;
    const uint64_t last = (off + len - 1) / U;
    if (wants) {
      auto full = [&](uint64_t uoff) -> const char* {
        return uoff >= off && uoff + U <= off + len ? src + (uoff - off) : nullptr;
      };
      auto edit = [&](uint64_t uoff, char* unit) {
        uint64_t b = std::max(uoff, off), e = std::min(uoff + U, off + len);
        if (b < e) std::memcpy(unit + (b - uoff), src + (b - off), e - b);
      };
      EDAOS_RETURN_IF_ERROR(
          rec_prepare(ref, fd, rf, first, last, full, edit, RecChange::kWrite, st, &commit));
    } else if (is_ec(rf.h.kind)) {
      return Status(EDAOS_INVAL, "shard " + path + " has " + describe(rf.h) +
                                     ", request writes without records");
    } else {
      // Written without checksums: the units are unprotected from now on (not verified), so
      // turning checksums back on does not make acknowledged bytes unreadable.
      std::string ents;
      RecEntry e;
      e.cur.flags = kRecUnprot;
      for (uint64_t u = first; u <= last; ++u) detail::append_rec_entry(rf.h, e, &ents);
      EDAOS_RETURN_IF_ERROR(detail::pwrite_full(rf.fd, ents.data(), ents.size(),
                                                kRecHdr + first * rf.h.entry_size(), rf.path));
      note_growth(rf.path);
    }
  }
  fault_point("array_write:records");
  Status wst = detail::pwrite_full(fd, data, len, off, path);
  note_growth(path);
  if (!wst.ok()) {
    // Give back what this write appended (best effort; the write is not acknowledged). The
    // pending records stay: the bytes match the old ones, so the next read resolves them.
    if (off + len > old_size && ::ftruncate(fd, static_cast<off_t>(old_size)) != 0) {
      // Best effort: a larger size only adds a hole.
    }
    f->size = detail::file_size_or(fd, old_size);
    f->alloc.clear();
    return wst;
  }
  f->size = std::max<uint64_t>(f->size, off + len);
  f->mark_allocated(off, off + len);
  fault_point("array_write:data");
  EDAOS_RETURN_IF_ERROR(rec_commit(rf, first, commit));
  return raise_logical_end(ref, logical_end);
}

Status Engine::array_read(const ShardRef& ref, uint64_t off, size_t len, void* out,
                          const CsumSpec& cs, uint64_t* out_csum, const RecordSpec& rs,
                          UnitState* state, bool* in_flight) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_records(rs, cs, nullptr));
  if (len > 0 && !out) return Status(EDAOS_INVAL, "array_read: null buffer");
  if (off + len < off) return Status(EDAOS_INVAL, "array_read: offset overflow");
  if (state && (!is_ec(rs.kind) || off % rs.unit != 0 || len != rs.unit))
    return Status(EDAOS_INVAL, "a record read covers exactly one EC cell");
  const bool csum_on = cs.type != CsumType::kOff;
  std::lock_guard<std::mutex> g(mu_);
  if (csum_on) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  if (is_ec(rs.kind)) fns_[static_cast<unsigned>(CsumType::kCrc32c)] = cs.fn;
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, false));
  const int fd = f ? f->fd : -1;
  char* o = static_cast<char*>(out);
  auto finish = [&]() {
    if (csum_on && out_csum) *out_csum = cs.fn(cs.type, o, len, 0);
    return Status::OK();
  };
  if (len == 0) return finish();

  RecHeader want;
  const bool verify = (state || csum_on) && implied_header(rs, cs, &want);
  RecFile rf;
  if (verify) EDAOS_RETURN_IF_ERROR(rec_open(ref, f, &want, cs, false, &rf));
  // A replica or single shard never written with checksums has no sidecar: nothing to verify
  // (an EC shard always has records, so its units without one must be holes).
  if (!verify || (rf.fd < 0 && !is_ec(want.kind))) {
    if (fd < 0) {
      std::memset(o, 0, len);
    } else {
      EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, o, len, off, path));
      (void)got;
    }
    return finish();
  }
  const uint64_t U = rf.h.unit, first = off / U, last = (off + len - 1) / U;
  const uint64_t xoff = first * U, xlen = (last - first + 1) * U;
  std::string scratch;
  char* buf = o;
  if (xoff != off || xlen != len) {
    scratch.resize(xlen);
    buf = scratch.data();
  }
  if (fd < 0) {
    std::memset(buf, 0, xlen);
  } else {
    EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, buf, xlen, xoff, path));
    (void)got;
  }
  // A record read with checksums off checks only what a killed process left pending: the
  // caller verifies the bytes it combines (a partial-stripe write only needs the versions).
  EDAOS_RETURN_IF_ERROR(
      rec_verify(ref, rf, first, last, buf, state, csum_on || !state, fd, in_flight));
  if (buf != o) std::memcpy(o, buf + (off - xoff), len);
  return finish();
}

Status Engine::array_punch(const ShardRef& ref, uint64_t off, uint64_t len, const CsumSpec& cs,
                           const RecordSpec& rs, const WriteStamp& st) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_records(rs, cs, nullptr));
  if (off + len < off) return Status(EDAOS_INVAL, "array_punch: offset overflow");
  std::lock_guard<std::mutex> g(mu_);
  if (len == 0) return Status::OK();
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, false));
  if (!f) return Status::OK();
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  const int fd = f->fd;
  const uint64_t size = f->size;
  if (off >= size) return Status::OK();  // nothing stored there: already a hole
  const uint64_t plen = std::min<uint64_t>(len, size - off), pend = off + plen;
  f->alloc.clear();  // holes appear: later writes there must reserve again
  note_growth(path);
  RecHeader want;
  const bool wants = implied_header(rs, cs, &want);
  RecFile rf;
  EDAOS_RETURN_IF_ERROR(rec_open(ref, f, wants ? &want : nullptr, cs, false, &rf));
  std::string commit;
  uint64_t first = 0;
  if (rf.have) {
    // Units entirely inside lose their record (a hole needs none); the others are recomputed.
    const uint64_t U = rf.h.unit;
    first = off / U;
    const uint64_t last = (pend - 1) / U;
    auto zero = [&](uint64_t uoff, char* unit) {
      uint64_t b = std::max(uoff, off), e = std::min(uoff + U, pend);
      if (b < e) std::memset(unit + (b - uoff), 0, e - b);
    };
    for (uint64_t u = first; u <= last;) {
      const bool inside = u * U >= off && (u + 1) * U <= pend;
      uint64_t v = u;
      while (v + 1 <= last && ((v + 1) * U >= off && (v + 2) * U <= pend) == inside) ++v;
      std::string part;
      EDAOS_RETURN_IF_ERROR(rec_prepare(ref, fd, rf, u, v, nullptr, zero,
                                        inside ? RecChange::kEmpty : RecChange::kEdit, st, &part));
      commit += part;
      u = v + 1;
    }
  }
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                  static_cast<off_t>(plen)) != 0) {
    if (errno != EOPNOTSUPP && errno != ENOSYS) return detail::errno_status(errno, "punch " + path);
    std::string zeros(std::min<uint64_t>(plen, 1 << 20), '\0');
    for (uint64_t done = 0; done < plen;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), plen - done));
      EDAOS_RETURN_IF_ERROR(detail::pwrite_full(fd, zeros.data(), n, off + done, path));
      done += n;
    }
  }
  return rec_commit(rf, first, commit);
}

Status Engine::array_truncate(const ShardRef& ref, uint64_t local_size, uint64_t logical_size,
                              const CsumSpec& cs, const RecordSpec& rs, const WriteStamp& st) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_records(rs, cs, nullptr));
  std::lock_guard<std::mutex> g(mu_);
  EDAOS_RETURN_IF_ERROR(mark_changed());  // before the target files change
  const std::string path = shard_data_path(ref);
  EDAOS_ASSIGN_OR_RETURN(OpenFile * f, open_file(path, local_size > 0));
  if (f) {
    const int fd = f->fd;
    const uint64_t old_size = f->size;
    f->alloc.clear();
    RecHeader want;
    const bool wants = implied_header(rs, cs, &want);
    RecFile rf;
    std::string commit;
    uint64_t first = 0, keep = 0;
    if (local_size < old_size) {
      EDAOS_RETURN_IF_ERROR(rec_open(ref, f, wants ? &want : nullptr, cs, false, &rf));
    }
    if (rf.have) {
      // Records first: the cut unit's tail becomes zeros and later units disappear. They are
      // marked pending (bytes then match either state) until the data file is cut.
      const uint64_t U = rf.h.unit, esz = rf.h.entry_size();
      keep = (local_size + U - 1) / U;
      struct stat sst;
      uint64_t nent = 0;
      if (::fstat(rf.fd, &sst) == 0 && static_cast<uint64_t>(sst.st_size) > kRecHdr)
        nent = (static_cast<uint64_t>(sst.st_size) - kRecHdr + esz - 1) / esz;
      const uint64_t units = std::max((old_size + U - 1) / U, nent);
      first = local_size / U;
      if (first < units) {
        auto zero = [&](uint64_t uoff, char* unit) {
          if (local_size > uoff)
            std::memset(unit + (local_size - uoff), 0, U - (local_size - uoff));
        };
        const bool cut = local_size % U != 0;
        if (cut)
          EDAOS_RETURN_IF_ERROR(
              rec_prepare(ref, fd, rf, first, first, nullptr, zero, RecChange::kEdit, st, &commit));
        std::string rest;
        if (first + (cut ? 1 : 0) < units)
          EDAOS_RETURN_IF_ERROR(rec_prepare(ref, fd, rf, first + (cut ? 1 : 0), units - 1, nullptr,
                                            zero, RecChange::kEmpty, st, &rest));
      }
    }
    if (::ftruncate(fd, static_cast<off_t>(local_size)) != 0) {
      int err = errno;
      f->size = detail::file_size_or(fd, old_size);
      return detail::errno_status(err, "truncate " + path);
    }
    f->size = local_size;
    note_growth(path);
    if (rf.have) {
      EDAOS_RETURN_IF_ERROR(rec_commit(rf, first, commit));
      if (::ftruncate(rf.fd, static_cast<off_t>(kRecHdr + keep * rf.h.entry_size())) != 0)
        return detail::errno_status(errno, "truncate " + rf.path);
      note_growth(rf.path);
    }
  }
  return set_logical_end_exact(ref, logical_size);
}

}  // namespace edaos::objstore::vos

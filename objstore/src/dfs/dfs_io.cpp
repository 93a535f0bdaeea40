// The POSIX namespace: file data. This file owns read (short at end of file, the size asked
// only when the read may have run past it), read_full,
// write, punch and set_size on an open file handle, the access-mode checks (EDAOS_PERM on a
// handle opened without the needed access), sync (which records a pending mtime), and stat of an
// open handle (EDAOS_NONEXIST when its name now names another object).
#include <algorithm>
#include <vector>

#include "dfs/dfs_internal.hpp"

namespace edaos::objstore {

using namespace dfs;

namespace {

Status need_file(const ObjState& s) {
  if (S_ISDIR(s.mode)) return Status(EDAOS_ISDIR, q(s.name) + " is a directory");
  if (!S_ISREG(s.mode)) return Status(EDAOS_INVAL, q(s.name) + " is not a regular file");
  return Status::OK();
}

Status need_write(const ObjState& s) {
  EDAOS_RETURN_IF_ERROR(need_file(s));
  if (s.flags == O_RDONLY) return Status(EDAOS_PERM, q(s.name) + " is open read-only");
  return Status::OK();
}

}  // namespace

Result<uint64_t> DfsObj::read(uint64_t off, const IoVec* iov, size_t n) {
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  if (s_->flags == O_WRONLY) return Status(EDAOS_PERM, q(s_->name) + " is open write-only");
  if (n && !iov) return Status(EDAOS_INVAL, "read: iov is null");
  uint64_t want = 0;
  for (size_t i = 0; i < n; ++i) want += iov[i].len;
  if (want == 0) return uint64_t{0};
  // The whole range is read first; the replies say how far the shards that served it know the
  // file to extend. Only a read that may have run past the end asks for the size (as DAOS's
  // dfs_read asks only on a short array read).
  EDAOS_ASSIGN_OR_RETURN(uint64_t size, s_->arr->read_size_hint(off, iov, n));
  if (size < off + want) {
    EDAOS_ASSIGN_OR_RETURN(size, s_->arr->get_size());
  }
  return off >= size ? 0 : std::min(want, size - off);
}

Status DfsObj::read_full(uint64_t off, const IoVec* iov, size_t n) {
  uint64_t known = 0;
  return read_full(off, iov, n, &known);
}

Status DfsObj::read_full(uint64_t off, const IoVec* iov, size_t n, uint64_t* known_end) {
  *known_end = 0;
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  if (s_->flags == O_WRONLY) return Status(EDAOS_PERM, q(s_->name) + " is open write-only");
  if (n && !iov) return Status(EDAOS_INVAL, "read: iov is null");
  EDAOS_ASSIGN_OR_RETURN(*known_end, s_->arr->read_size_hint(off, iov, n));
  return Status::OK();
}

Status DfsObj::write(uint64_t off, const ConstIoVec* iov, size_t n) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  if (n && !iov) return Status(EDAOS_INVAL, "write: iov is null");
  if (s_->wrote.exchange(true)) {
    s_->dirty = true;
    return s_->arr->write(off, iov, n);
  }
  // The first write through the handle: mtime/ctime = now (the time the write starts) merged
  // into the entry while the data goes out, so a create + write + release pays no separate
  // round trip for the times. A merge that fails is retried at release (dirty).
  auto d = kv(*s_->m, s_->parent);
  if (!d.ok()) {
    s_->dirty = true;
    return s_->arr->write(off, iov, n);
  }
  const struct timespec t = now();
  auto req = d.value()->start_merge_times(s_->name, kEntryAkey, kEntryOidOff, encode_oid(s_->oid),
                                          kEntryMtimeOff, {t, t});
  Status st = s_->arr->write(off, iov, n);
  Status ms = req->wait();
  if (!ms.ok() && ms.code() != EDAOS_NONEXIST) s_->dirty = true;
  return st;
}

Result<uint64_t> DfsObj::get_size() {
  EDAOS_RETURN_IF_ERROR(need_file(*s_));
  return s_->arr->get_size();
}

Status DfsObj::set_size(uint64_t size) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  EDAOS_RETURN_IF_ERROR(s_->arr->set_size(size));
  return s_->flush_times();
}

Status DfsObj::punch(uint64_t off, uint64_t len) {
  EDAOS_RETURN_IF_ERROR(need_write(*s_));
  s_->dirty = true;
  return s_->arr->punch(off, len);
}

Status DfsObj::sync() {
  if (s_->dirty.load()) EDAOS_RETURN_IF_ERROR(s_->flush_times());
  s_->m->reaper.drain();  // objects of this mount's removes: destroyed before the sync
  return s_->m->cont->sync();
}

Result<DfsStat> DfsObj::stat() {
  const MountState& m = *s_->m;
  if (!S_ISREG(s_->mode)) {
    EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(m, s_->parent, s_->name));
    if (e.oid != s_->oid || (e.mode & S_IFMT) != (s_->mode & S_IFMT))
      return Status(EDAOS_NONEXIST, q(s_->name) + " was replaced");
    return stat_of(m, e);
  }
  // A file handle knows its object: the entry get and the size query go out together (one
  // round trip); the size is kept only when the entry still names this object.
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(m, s_->parent));
  std::vector<KvOp> ops(1);
  ops[0].kind = KvOp::kGet;
  ops[0].dkey = s_->name;
  ops[0].akey = kEntryAkey;
  auto req = d->start(&ops);
  Result<uint64_t> size = s_->arr->get_size();
  Status st = req->wait();
  if (!st.ok()) {
    if (st.code() == EDAOS_NONEXIST) return Status(EDAOS_NONEXIST, q(s_->name) + " was removed");
    return st;
  }
  EDAOS_ASSIGN_OR_RETURN(Entry e, decode_entry(ops[0].value));
  if (e.oid != s_->oid || !S_ISREG(e.mode))
    return Status(EDAOS_NONEXIST, q(s_->name) + " was replaced");
  if (!size.ok()) return size.status();
  DfsStat out = stat_fields(e);
  out.size = size.value();
  return out;
}

}  // namespace edaos::objstore

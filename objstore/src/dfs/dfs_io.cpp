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
  s_->dirty = true;
  return s_->arr->write(off, iov, n);
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
  return s_->m->cont->sync();
}

Result<DfsStat> DfsObj::stat() {
  EDAOS_ASSIGN_OR_RETURN(Entry e, get_entry(*s_->m, s_->parent, s_->name));
  if (e.oid != s_->oid || (e.mode & S_IFMT) != (s_->mode & S_IFMT))
    return Status(EDAOS_NONEXIST, q(s_->name) + " was replaced");
  return stat_of(*s_->m, e);
}

}  // namespace edaos::objstore

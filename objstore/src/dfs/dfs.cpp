// The POSIX namespace over KV (directories) and byte-array (files) objects: mount and handles.
// This file owns mounting (finding or creating the superblock and the root, collectively over a
// communicator), the Dfs and DfsObj handle objects and their accessors, the handle state's
// deferred mtime update at release, handle serialization, and the status -> errno mapping.
// The other operations live next door: dfs_path.cpp (entry lookup, path walk), dfs_entries.cpp
// (create, open, remove, rename), dfs_attr.cpp (stat, readdir, chmod/chown/utimens, directory
// attributes), dfs_io.cpp (file data and size); records: dfs_format.cpp; C API: dfs_c_api.cpp.
// Design, formats and crash behaviour: README.md in this directory.
#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "common/log.hpp"
#include "dfs/dfs_internal.hpp"
#include "edaos/objstore/collectives.hpp"

EDAOS_LOG_FACILITY(dfs);

namespace edaos::objstore {

using namespace dfs;

namespace {

// Mount on this rank alone: find the superblock, or create it (and the root) when allowed.
Status mount_local(MountState* m) {
  Container& c = *m->cont;
  auto attr = c.attr_get(kSbAttr);
  if (attr.ok()) {
    EDAOS_ASSIGN_OR_RETURN(m->sb_oid, ObjectId::parse(attr.value()));
  } else if (attr.status().code() != EDAOS_NONEXIST) {
    return attr.status();
  } else {
    // No namespace yet (or a creator crashed before recording it): every mounter computes the
    // same reserved IDs from the container's properties, so concurrent creators meet there.
    EDAOS_ASSIGN_OR_RETURN(ObjClass oc, pick_class(*m, "", "", true));
    EDAOS_RETURN_IF_ERROR(validate_for_pool(oc, c.pool_map()));
    m->sb_oid = make_oid(oc, ObjType::kMultiLevel, kReservedSeqHi, 0);
  }
  EDAOS_ASSIGN_OR_RETURN(auto sb, kv(*m, m->sb_oid));
  auto v = sb->get(kSbDkey, kSbDkey);
  if (v.ok()) {
    EDAOS_ASSIGN_OR_RETURN(Superblock s, decode_sb(v.value()));
    m->root_oid = s.root;
    if (!attr.ok() && !m->rdonly) EDAOS_RETURN_IF_ERROR(c.attr_set(kSbAttr, m->sb_oid.to_string()));
    return Status::OK();
  }
  if (v.status().code() != EDAOS_NONEXIST) return v.status();
  if (attr.ok())
    return Status(EDAOS_FORMAT, "namespace superblock " + m->sb_oid.to_string() + " is missing");
  if (m->rdonly)
    return Status(EDAOS_NONEXIST, "container " + c.props().label +
                                      " has no POSIX namespace yet "
                                      "(mount it read-write once)");
  // Create: root directory record, root entry, superblock (insert-only: first one wins), and
  // last the attribute that makes the namespace findable.
  ObjectId root = make_oid(oclass_of(m->sb_oid), ObjType::kMultiLevel, kReservedSeqHi, 1);
  EDAOS_ASSIGN_OR_RETURN(auto rkv, kv(*m, root));
  DirRecord rdr{m->sb_oid, kRootName, "", 0};
  Status st = rkv->put(kDotDot, kDirAkey, encode_dir(rdr), KV::kInsertOnly);
  if (!st.ok() && st.code() != EDAOS_EXIST) return st;
  Entry re;
  re.mode = S_IFDIR | 0755;
  re.oid = root;
  re.uid = static_cast<uint32_t>(geteuid());
  re.gid = static_cast<uint32_t>(getegid());
  re.atime = re.mtime = re.ctime = now();
  st = sb->put(kRootName, kEntryAkey, encode_entry(re), KV::kInsertOnly);
  if (!st.ok() && st.code() != EDAOS_EXIST) return st;
  Superblock s;
  s.root = root;
  st = sb->put(kSbDkey, kSbDkey, encode_sb(s), KV::kInsertOnly);
  if (st.code() == EDAOS_EXIST) {
    EDAOS_ASSIGN_OR_RETURN(auto cur, sb->get(kSbDkey, kSbDkey));
    EDAOS_ASSIGN_OR_RETURN(s, decode_sb(cur));
  } else if (!st.ok()) {
    return st;
  }
  m->root_oid = s.root;
  return c.attr_set(kSbAttr, m->sb_oid.to_string());
}

}  // namespace

namespace dfs {

Result<std::unique_ptr<DfsObj>> make_obj(const std::shared_ptr<MountState>& m, const Loc& l,
                                         int flags) {
  auto s = std::make_shared<ObjState>();
  s->m = m;
  s->mode = l.e.mode;
  s->oid = l.e.oid;
  s->chunk_size = S_ISREG(l.e.mode) ? l.e.chunk_size : 0;
  s->flags = flags & O_ACCMODE;
  s->parent = l.dir;
  s->name = l.name;
  s->symlink = l.e.symlink;
  if (S_ISREG(l.e.mode)) {
    EDAOS_ASSIGN_OR_RETURN(s->arr, m->cont->open_array(l.e.oid, l.e.chunk_size));
  }
  return std::make_unique<DfsObj>(std::move(s));
}

Status ObjState::flush_times() {
  dirty = false;
  EDAOS_ASSIGN_OR_RETURN(auto d, kv(*m, parent));
  const struct timespec t = now();
  // Absent, or naming another object (replaced meanwhile): nothing to record.
  Status st =
      d->merge_times(name, kEntryAkey, kEntryOidOff, encode_oid(oid), kEntryMtimeOff, {t, t});
  return st.code() == EDAOS_NONEXIST ? Status::OK() : st;
}

ObjState::~ObjState() {
  if (dirty.load() && m && m->cont) {
    Status st = flush_times();
    if (!st.ok()) EDAOS_LOG_ST(warn, st, "release %s: mtime not recorded", name.c_str());
  }
}

}  // namespace dfs

Dfs::Dfs(std::shared_ptr<MountState> s) : s_(std::move(s)) {}

Dfs::~Dfs() { (void)umount(); }

Result<std::unique_ptr<Dfs>> Dfs::mount(std::shared_ptr<Container> cont, MPI_Comm comm, int flags) {
  if (!cont) return Status(EDAOS_INVAL, "mount: container is null");
  const int acc = flags & O_ACCMODE;
  if (acc != O_RDONLY && acc != O_RDWR)
    return Status(EDAOS_INVAL, "mount: flags must be O_RDONLY or O_RDWR");
  auto m = std::make_shared<MountState>();
  m->cont = std::move(cont);
  m->rdonly = acc == O_RDONLY;
  Status st;
  if (m->cont->props().type != ContType::kPosix)
    st = Status(EDAOS_INVAL, std::string("container ") + m->cont->props().label + " is of type " +
                                 cont_type_name(m->cont->props().type) + ", not POSIX");
  if (comm == MPI_COMM_NULL) {
    if (st.ok()) st = mount_local(m.get());
  } else {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && st.ok()) st = mount_local(m.get());
    struct {
      int32_t code;
      uint64_t ids[4];
      char msg[512];
    } b = {};
    if (rank == 0) {
      b.code = st.code();
      b.ids[0] = m->sb_oid.hi;
      b.ids[1] = m->sb_oid.lo;
      b.ids[2] = m->root_oid.hi;
      b.ids[3] = m->root_oid.lo;
      std::snprintf(b.msg, sizeof b.msg, "%s", st.message().c_str());
    }
    coll::bcast(&b, sizeof b, MPI_BYTE, 0, comm);
    if (rank != 0) {
      st = b.code == EDAOS_OK ? Status::OK() : Status(static_cast<edaos_status_t>(b.code), b.msg);
      m->sb_oid = ObjectId{b.ids[0], b.ids[1]};
      m->root_oid = ObjectId{b.ids[2], b.ids[3]};
    }
  }
  if (!st.ok()) return st.with_context("mount");
  return std::make_unique<Dfs>(std::move(m));
}

Status Dfs::umount() {
  if (s_) {
    s_->mounted = false;
    s_->reaper.drain();  // the objects of this mount's removes are gone when it returns
  }
  return Status::OK();
}

bool Dfs::read_only() const { return s_->rdonly; }

const std::shared_ptr<Container>& Dfs::container() const { return s_->cont; }

ObjectId Dfs::root_oid() const { return s_->root_oid; }

ObjectId Dfs::superblock_oid() const { return s_->sb_oid; }

Result<std::string> Dfs::obj_serialize(const DfsObj& obj) const {
  const ObjState& o = *obj.state();
  if (S_ISLNK(o.mode)) return Status(EDAOS_INVAL, "a symbolic link handle cannot be serialized");
  HandleBlob h;
  h.cont = s_->cont->uuid();
  h.mode = o.mode;
  h.flags = o.flags;
  h.oid = o.oid;
  h.chunk_size = o.chunk_size;
  h.parent = o.parent;
  h.name = o.name;
  return encode_handle(h);
}

Result<std::unique_ptr<DfsObj>> Dfs::obj_deserialize(const std::string& blob, int flags) {
  EDAOS_RETURN_IF_ERROR(check_mounted(*s_));
  EDAOS_ASSIGN_OR_RETURN(HandleBlob h, decode_handle(blob));
  if (h.cont != s_->cont->uuid())
    return Status(EDAOS_INVAL, "serialized handle belongs to container " + h.cont.to_string());
  if (!S_ISREG(h.mode) && !S_ISDIR(h.mode))
    return Status(EDAOS_FORMAT, "serialized handle of an unknown type");
  if (flags != -1 && (flags & O_ACCMODE) != O_RDONLY && (flags & O_ACCMODE) != O_WRONLY &&
      (flags & O_ACCMODE) != O_RDWR)
    return Status(EDAOS_INVAL, "bad access mode in flags " + std::to_string(flags));
  int acc = flags == -1 ? (h.flags & O_ACCMODE) : (flags & O_ACCMODE);
  if (s_->rdonly && acc != O_RDONLY) return Status(EDAOS_RDONLY, "namespace is mounted read-only");
  Loc l;
  l.dir = h.parent;
  l.name = h.name;
  l.e.mode = h.mode;
  l.e.oid = h.oid;
  l.e.chunk_size = h.chunk_size;
  return make_obj(s_, l, acc);
}

DfsObj::DfsObj(std::shared_ptr<ObjState> s) : s_(std::move(s)) {}

DfsObj::~DfsObj() = default;

mode_t DfsObj::mode() const { return static_cast<mode_t>(s_->mode); }

ObjectId DfsObj::oid() const { return s_->oid; }

ObjClass DfsObj::oclass() const { return oclass_of(s_->oid); }

uint64_t DfsObj::chunk_size() const { return s_->chunk_size; }

int DfsObj::flags() const { return s_->flags; }

const std::string& DfsObj::symlink_target() const { return s_->symlink; }

const std::string& DfsObj::name() const {
  static const std::string kEmpty;
  return s_->parent == s_->m->sb_oid ? kEmpty : s_->name;
}

int dfs_errno(edaos_status_t code) {
  switch (code) {
    case EDAOS_OK:
      return 0;
    case EDAOS_NONEXIST:
      return ENOENT;
    case EDAOS_EXIST:
      return EEXIST;
    case EDAOS_NOTDIR:
      return ENOTDIR;
    case EDAOS_ISDIR:
      return EISDIR;
    case EDAOS_NOTEMPTY:
      return ENOTEMPTY;
    case EDAOS_NAMETOOLONG:
      return ENAMETOOLONG;
    case EDAOS_LOOP:
      return ELOOP;
    case EDAOS_PERM:
      return EPERM;
    case EDAOS_RDONLY:
      return EROFS;
    case EDAOS_NOTSUP:
      return ENOTSUP;
    case EDAOS_INVAL:
      return EINVAL;
    case EDAOS_NOTINIT:
      return EINVAL;
    case EDAOS_NOSPACE:
      return ENOSPC;
    case EDAOS_NOMEM:
      return ENOMEM;
    case EDAOS_BUSY:
      return EBUSY;
    case EDAOS_TOOBIG:
      return E2BIG;
    case EDAOS_XDEV:
      return EXDEV;
    case EDAOS_CANCELED:
      return ECANCELED;
    default:
      return EIO;
  }
}

}  // namespace edaos::objstore

// Open and delete of `daos:` files (ROMIO's ADIOI_DAOS_OpenColl / ADIOI_DAOS_Delete).
//
// Names: objstore's one resolver (edaos/objstore/names.hpp; grammar in objstore/README.md,
// "Names"), as ROMIO's DAOS driver accepts them, with edaos pools being directories:
//   daos:/dir/file            pool $DAOS_POOL (or $EDAOS_POOL, default ./edaos-pool; a path
//   daos:dir/file             or a label), container $DAOS_CONT (or $DAOS_CONTAINER); the path
//                             is inside the container (a relative one from its root)
//   daos://POOL/CONT/dir/file pool and container named explicitly (DUNS direct form): POOL a
//                             label / UUID / name in the pool home, or a path (./p, /abs/p)
// Pool connections: objstore's shared cache (Pool::shared), one per pool per process.
// Open is collective: rank 0 resolves the name and hints, creates what MPI_MODE_CREATE allows
// (pool, only in an empty or absent directory; container; file), broadcasts the outcome and
// the file handle; every rank returns the same error class.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdlib>
#include <random>

#include "adio_internal.hpp"
#include "edaos/objstore/names.hpp"

namespace edaos::adio {
namespace {

using objstore::Container;
using objstore::Dfs;
using objstore::Pool;

}  // namespace

// Splits a daos: name into pool directory, container label and path in the container.
Result<std::string> parse_daos_name(const std::string& name, std::string* pool, std::string* cont) {
  EDAOS_ASSIGN_OR_RETURN(objstore::DaosName n, objstore::parse_daos_name(name));
  if (n.path.empty() || n.path == "/")
    return Status(EDAOS_INVAL, "'" + name +
                                   "' names no file (daos:/PATH with $DAOS_POOL and "
                                   "$DAOS_CONT, or daos://POOL/CONTAINER/PATH)");
  *pool = n.pool;
  *cont = n.cont;
  return n.path;
}

namespace {

int64_t stripe_of(const File& f) {
  if (f.hints.striping_unit > 0) return f.hints.striping_unit;
  objstore::ObjClass oc = f.obj->oclass();
  if (oc.kind == objstore::ResilKind::kErasure) {
    int64_t cell = f.hints.cell_size > 0 ? f.hints.cell_size : f.cont->props().ec_cell_sz;
    return int64_t{oc.data} * cell;
  }
  return 0;
}

// Rank 0: the container's lock KV (container attribute Dfs::kMpioLockKvAttr, which `edaos fs
// check` knows), created if missing.
Result<std::string> lock_kv_oid(Container& c) {
  auto a = c.attr_get(Dfs::kMpioLockKvAttr);
  if (a.ok()) return a.value();
  if (a.status().code() != EDAOS_NONEXIST) return a.status();
  objstore::ObjClass oc =
      objstore::default_oclass(static_cast<int>(c.props().rd_fac), true, c.pool_map());
  EDAOS_ASSIGN_OR_RETURN(auto oid, c.alloc_oid(oc, objstore::ObjType::kMultiLevel));
  EDAOS_RETURN_IF_ERROR(c.attr_set(Dfs::kMpioLockKvAttr, oid.to_string()));
  return oid.to_string();
}

}  // namespace

int ADIOI_EDAOS_Open(MPI_Comm comm, const char* filename, int amode, MPI_Info info, File** out) {
  auto f = std::make_unique<File>();
  f->fns = &kEdaosFns;
  f->filename = filename;
  f->amode = amode;
  objstore::coll::dup(comm, &f->comm);
  PMPI_Comm_rank(f->comm, &f->rank);
  PMPI_Comm_size(f->comm, &f->nprocs);
  auto fail = [&](int code) {
    PMPI_Comm_free(&f->comm);
    return code;
  };
  // Rank 0 resolves the name (it reads the file system, which a racing job may change) and
  // tells the others, so every rank uses the same pool.
  Status nst;
  if (f->rank == 0) {
    auto path = parse_daos_name(filename, &f->pool_path, &f->cont_label);
    if (path.ok())
      f->path = path.value();
    else
      nst = path.status();
  }
  nst = objstore::coll::bcast_status(nst, 0, f->comm, {&f->pool_path, &f->cont_label, &f->path});
  if (!nst.ok())
    return fail(nst.code() == EDAOS_INVAL ? make_error(MPI_ERR_BAD_FILE, nst.message())
                                          : to_mpi_error(nst, filename));
  if (!objstore::is_initialized())
    return fail(make_error(MPI_ERR_IO, std::string(filename) +
                                           ": the edaos object store is not running (MPI_Init "
                                           "did not go through libedaos_mpio, or it failed)"));

  hints::CollectiveOptions ho;
  ho.features.data_sieving_writes = false;
  ho.features.deferred_open = false;
  ho.warning_sink = hint_warning_sink;
  ho.wait = [](MPI_Request* r) { return objstore::coll::wait(r); };
  auto h = hints::resolve_collective(f->comm, info, ho);
  if (!h.ok()) return fail(make_error(MPI_ERR_NOT_SAME, h.status().message()));
  f->hints = std::move(h).value();

  bool create = amode & MPI_MODE_CREATE;
  objstore::SharedPoolOptions so;
  so.create = create;
  auto p = Pool::shared(f->pool_path, f->comm, so);
  if (!p.ok()) {
    Status st = p.status();
    return fail(to_mpi_error(st, std::string(filename) + ": pool " + f->pool_path));
  }
  f->pool = p.value();

  // Container: rank 0 opens or creates, then the others open.
  Status st;
  if (f->rank == 0) {
    auto c = f->pool->cont_open(f->cont_label);
    if (!c.ok() && c.status().code() == EDAOS_NONEXIST && create) {
      objstore::ContainerProps props;
      c = f->pool->cont_create(f->cont_label, props);
      if (!c.ok() && c.status().code() == EDAOS_EXIST) c = f->pool->cont_open(f->cont_label);
    }
    if (c.ok())
      f->cont = c.value();
    else
      st = c.status().with_context("container " + f->cont_label);
  }
  st = objstore::coll::bcast_status(st, 0, f->comm);
  if (st.ok() && f->rank != 0) {
    auto c = f->pool->cont_open(f->cont_label);
    if (c.ok())
      f->cont = c.value();
    else
      st = c.status().with_context("container " + f->cont_label);
  }
  if (int rc = agree_error(f->comm, to_mpi_error(st, filename)); rc != MPI_SUCCESS) return fail(rc);

  bool rdonly = amode & MPI_MODE_RDONLY;
  auto m = Dfs::mount(f->cont, f->comm, rdonly ? O_RDONLY : O_RDWR);
  if (!m.ok()) return fail(to_mpi_error(m.status(), std::string(filename) + ": mount"));
  f->dfs = std::move(m).value();

  int acc = rdonly ? O_RDONLY : (amode & MPI_MODE_WRONLY) ? O_WRONLY : O_RDWR;
  int flags = acc;
  if (create) flags |= O_CREAT;
  if (amode & MPI_MODE_EXCL) flags |= O_EXCL;
  std::string blob, lock_oid, nonce;
  if (f->rank == 0) {
    std::string oclass;
    if (f->hints.obj_class != "OC_UNKNOWN" && !f->hints.obj_class.empty()) {
      oclass = f->hints.obj_class;
      if (oclass.compare(0, 3, "OC_") == 0) oclass = oclass.substr(3);
    }
    mode_t mode = S_IFREG | 0644;
    auto o = f->dfs->open(f->path, mode, flags, oclass, static_cast<uint64_t>(f->hints.chunk_size));
    if (o.ok()) {
      f->obj = std::move(o).value();
      if (!f->obj->is_file()) st = Status(EDAOS_ISDIR, f->path + " is not a regular file");
    } else {
      st = o.status();
    }
    if (st.ok()) {
      auto b = f->dfs->obj_serialize(*f->obj);
      if (b.ok())
        blob = b.value();
      else
        st = b.status();
    }
    if (st.ok()) {
      auto l = lock_kv_oid(*f->cont);
      if (l.ok())
        lock_oid = l.value();
      else
        st = l.status().with_context("lock object");
    }
    std::random_device rd;
    nonce = std::to_string(rd()) + std::to_string(rd());
  }
  st = objstore::coll::bcast_status(st, 0, f->comm, {&blob, &lock_oid, &nonce});
  if (!st.ok()) return fail(to_mpi_error(st, filename));
  if (f->rank != 0) {
    auto o = f->dfs->obj_deserialize(blob, acc);
    if (o.ok())
      f->obj = std::move(o).value();
    else
      st = o.status();
  }
  if (st.ok()) {
    auto oid = objstore::ObjectId::parse(lock_oid);
    if (!oid.ok()) {
      st = oid.status();
    } else {
      auto kv = f->cont->open_kv(oid.value());
      if (kv.ok())
        f->lock_kv = std::move(kv).value();
      else
        st = kv.status();
    }
  }
  f->lock_dkey = f->obj ? f->obj->oid().to_string() + "." + nonce : nonce;
  if (int rc = agree_error(f->comm, to_mpi_error(st, filename)); rc != MPI_SUCCESS) return fail(rc);

  f->stripe_unit = stripe_of(*f);
  f->view.ft = flatten(MPI_BYTE);
  // Shared pointer starts at 0 (or the end with MPI_MODE_APPEND, as the individual pointer).
  int64_t start = 0;
  int rc = MPI_SUCCESS;
  if (amode & MPI_MODE_APPEND) {
    int64_t size = 0;
    rc = ADIOI_EDAOS_GetSize(f.get(), &size);
    start = size;
  }
  f->fp = start;
  if (rc == MPI_SUCCESS) rc = ADIOI_EDAOS_SharedSet(f.get(), start);
  if (rc != MPI_SUCCESS) {
    f->obj.reset();
    return fail(rc);
  }
  *out = f.release();
  return MPI_SUCCESS;
}

// Not collective: this process's shared connection, or a new one on MPI_COMM_SELF; `create`
// (the POSIX view's O_CREAT, as MPI_MODE_CREATE) creates a missing pool.
Result<std::shared_ptr<Pool>> independent_pool(const std::string& pool, bool create) {
  if (!create) return Pool::shared_local(pool);
  objstore::SharedPoolOptions so;
  so.create = true;
  return Pool::shared(pool, MPI_COMM_SELF, so);
}

void release_pools() { objstore::release_shared_pools(); }

int ADIOI_EDAOS_Delete(const char* filename, MPI_Info) {
  std::string pool, cont;
  auto path = parse_daos_name(filename, &pool, &cont);
  if (!path.ok())
    return path.status().code() == EDAOS_INVAL
               ? make_error(MPI_ERR_BAD_FILE, path.status().message())
               : to_mpi_error(path.status(), filename);
  if (!objstore::is_initialized())
    return make_error(MPI_ERR_IO,
                      std::string(filename) + ": the edaos object store is not running");
  auto r = independent_pool(pool);
  if (!r.ok()) return to_mpi_error(r.status(), std::string(filename) + ": pool " + pool);
  auto c = r.value()->cont_open(cont);
  if (!c.ok()) return to_mpi_error(c.status(), std::string(filename) + ": container " + cont);
  auto m = Dfs::mount(c.value(), MPI_COMM_NULL, O_RDWR);
  if (!m.ok()) return to_mpi_error(m.status(), std::string(filename) + ": mount");
  Status st = m.value()->unlink(path.value());
  (void)m.value()->umount();
  return to_mpi_error(st, filename);
}

}  // namespace edaos::adio

// Called by MPI_Finalize (objstore/src/pmpi/init_wrappers.cpp) before the store stops, so the
// pool connections (and their communicators) are closed while the servers still answer.
extern "C" void edaos_mpio_release_pools(void) {
  edaos::adio::release_posix_files();
  edaos::adio::release_pools();
}

// edaos-ior -a DFS: the native POSIX namespace (objstore/include/edaos/objstore/dfs.hpp), as
// IOR's DFS backend uses libdfs. Names by objstore's one resolver (dfs_name in ior.hpp):
//   daos:/dir/file (or a plain path)  pool --dfs.pool, else $EDAOS_POOL / $DAOS_POOL;
//                                      container --dfs.cont, else $EDAOS_CONT, $DAOS_CONT /
//                                      $DAOS_CONTAINER
//   daos://POOL/CONT/dir/file          POOL: a label or directory name, or a path (./p, /abs/p)
// The pool is objstore's shared connection (Pool::shared, collective over MPI_COMM_WORLD), made
// when the backend is; a missing pool (in an empty or absent directory) or container is created
// (container: type POSIX, default properties). Shared files: rank 0 opens (creating it with
// --dfs.oclass and
// --dfs.chunk_size), broadcasts the serialized handle, every rank deserializes it (DAOS's
// local2global), so one lookup serves the job.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"
#include "ior.hpp"

namespace edaos::bench {
namespace {

using objstore::Dfs;
using objstore::DfsObj;

void check(const edaos::Status& st, const std::string& what) {
  if (!st.ok()) fatal(what + ": " + st.to_string());
}

class DfsBackend final : public Backend {
 public:
  explicit DfsBackend(const IorOptions& o) : o_(o) {
    if (!objstore::is_initialized()) {
      check(objstore::init(MPI_COMM_WORLD), "edaos init");
      we_initialized_ = true;
    }
    where_ = dfs_name(o.file, o.dfs_pool, o.dfs_cont);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    objstore::SharedPoolOptions so;
    so.create = true;
    auto pool = timed_pool_connect(
        "edaos-ior", [&] { return objstore::Pool::shared(where_.pool, MPI_COMM_WORLD, so); });
    check(pool.status(), "pool " + where_.pool);
    pool_ = pool.value();
    // Rank 0 creates a missing container; everybody then opens it.
    int rc = 0;
    std::string msg;
    if (rank == 0) {
      auto c = pool_->cont_open(where_.cont);
      if (!c.ok() && c.status().code() == EDAOS_NONEXIST) {
        objstore::ContainerProps p;
        p.type = objstore::ContType::kPosix;
        c = pool_->cont_create(where_.cont, p);
      }
      if (!c.ok()) {
        rc = 1;
        msg = c.status().to_string();
      }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc != 0) fatal("container " + where_.cont + ": " + (rank == 0 ? msg : "failed on rank 0"));
    auto c = pool_->cont_open(where_.cont);
    check(c.status(), "container open " + where_.cont);
    auto m = Dfs::mount(c.value(), MPI_COMM_WORLD, O_RDWR);
    check(m.status(), "dfs mount");
    dfs_ = std::move(m.value());
  }

  ~DfsBackend() override {
    obj_.reset();
    if (dfs_) (void)dfs_->umount();
    dfs_.reset();
    pool_.reset();  // the shared connection stays until finalize
    if (we_initialized_) (void)objstore::finalize();
  }

  std::string describe() const override {
    return "DFS" + (oclass_.empty() ? std::string() : " (" + oclass_ + ")");
  }

  void open(const std::string& name, MPI_Comm comm, bool create, bool write, uint64_t) override {
    std::string path = dfs_name(name, o_.dfs_pool, o_.dfs_cont).path;
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int flags = write ? O_RDWR : O_RDONLY;
    std::string blob, err;
    if (rank == 0) {
      auto r = create
                   ? dfs_->open(path, S_IFREG | 0644, flags | O_CREAT, o_.dfs_oclass, o_.dfs_chunk)
                   : dfs_->lookup(path, flags);
      if (r.ok()) {
        obj_ = std::move(r.value());
        auto b = dfs_->obj_serialize(*obj_);
        if (b.ok())
          blob = b.value();
        else
          err = b.status().to_string();
      } else {
        err = r.status().to_string();
      }
    }
    if (size > 1) {
      // The handle, or an empty blob and the error, from rank 0.
      std::string wire = blob.empty() ? "E" + err : "H" + blob;
      int n = static_cast<int>(wire.size());
      MPI_Bcast(&n, 1, MPI_INT, 0, comm);
      wire.resize(static_cast<size_t>(n));
      MPI_Bcast(wire.data(), n, MPI_CHAR, 0, comm);
      if (wire[0] == 'E') fatal("open " + path + ": " + wire.substr(1));
      if (rank != 0) {
        auto h = dfs_->obj_deserialize(wire.substr(1), flags);
        check(h.status(), "open " + path);
        obj_ = std::move(h.value());
      }
    } else if (!err.empty()) {
      fatal("open " + path + ": " + err);
    }
    oclass_ = obj_->oclass().name();
  }

  void write(uint64_t off, const void* buf, uint64_t len) override {
    check(obj_->write(off, buf, len), "dfs write");
  }

  void read(uint64_t off, void* buf, uint64_t len) override {
    // read_full: the caller knows the size, so no size round trip per call (holes and bytes past
    // the end read as zeros, which verification reports).
    objstore::IoVec v{buf, len};
    check(obj_->read_full(off, &v, 1), "dfs read");
  }

  void fsync() override { check(obj_->sync(), "dfs sync"); }

  void close() override { obj_.reset(); }

  void remove(const std::string& name, MPI_Comm comm) override {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
      auto st = dfs_->remove(dfs_name(name, o_.dfs_pool, o_.dfs_cont).path);
      if (!st.ok() && st.code() != EDAOS_NONEXIST) check(st, "dfs remove");
    }
    MPI_Barrier(comm);
  }

 private:
  IorOptions o_;
  DfsName where_;
  bool we_initialized_ = false;
  std::shared_ptr<objstore::Pool> pool_;
  std::unique_ptr<Dfs> dfs_;
  std::unique_ptr<DfsObj> obj_;
  std::string oclass_;
};

}  // namespace

std::unique_ptr<Backend> make_dfs_backend(const IorOptions& o, std::string*) {
  return std::make_unique<DfsBackend>(o);
}

}  // namespace edaos::bench

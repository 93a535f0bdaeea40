// edaos-ior -a MPIIO: MPI_File_open / write_at(_all) / read_at(_all) / sync / close.
// The name goes to MPI_File_open unchanged: with libedaos_mpio linked (the default build) or
// preloaded, "daos:" names are served by edaos and every other name by the MPI library's own
// MPI-IO (ROMIO: plain paths and "ufs:" names).
#include <climits>

#include "ior.hpp"
#ifdef EDAOS_IOR_HAVE_MPIO
#include "edaos/adio_daos/adio_daos.h"
#endif

namespace edaos::bench {
namespace {

std::string mpi_error(int rc) {
  char s[MPI_MAX_ERROR_STRING] = {};
  int n = 0;
  MPI_Error_string(rc, s, &n);
  return std::string(s, static_cast<size_t>(n));
}

class MpiioBackend final : public Backend {
 public:
  explicit MpiioBackend(const IorOptions& o) : collective_(o.collective), info_(make_info(o)) {}
  ~MpiioBackend() override {
    if (info_ != MPI_INFO_NULL) MPI_Info_free(&info_);
  }

  std::string describe() const override {
    std::string d = "MPIIO";
#ifdef EDAOS_IOR_HAVE_MPIO
    d += served_by_edaos_ ? " (edaos)" : " (MPI library)";
#endif
    return d + (collective_ ? ", collective" : ", independent");
  }

  void open(const std::string& name, MPI_Comm comm, bool create, bool write, uint64_t) override {
    name_ = name;
    int amode = write ? MPI_MODE_RDWR : MPI_MODE_RDONLY;
    if (create) amode |= MPI_MODE_CREATE;
    int rc = MPI_File_open(comm, name.c_str(), amode, info_, &fh_);
    if (rc != MPI_SUCCESS) fatal("MPI_File_open " + name + ": " + mpi_error(rc));
#ifdef EDAOS_IOR_HAVE_MPIO
    served_by_edaos_ = edaos_mpio_is_daos_file(fh_) != 0;
#endif
  }

  void write(uint64_t off, const void* buf, uint64_t len) override {
    MPI_Status st;
    int rc = collective_ ? MPI_File_write_at_all(fh_, static_cast<MPI_Offset>(off), buf, count(len),
                                                 MPI_BYTE, &st)
                         : MPI_File_write_at(fh_, static_cast<MPI_Offset>(off), buf, count(len),
                                             MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) fatal("MPI_File_write_at " + name_ + ": " + mpi_error(rc));
    check_count(st, len, "write");
  }

  void read(uint64_t off, void* buf, uint64_t len) override {
    MPI_Status st;
    int rc = collective_ ? MPI_File_read_at_all(fh_, static_cast<MPI_Offset>(off), buf, count(len),
                                                MPI_BYTE, &st)
                         : MPI_File_read_at(fh_, static_cast<MPI_Offset>(off), buf, count(len),
                                            MPI_BYTE, &st);
    if (rc != MPI_SUCCESS) fatal("MPI_File_read_at " + name_ + ": " + mpi_error(rc));
  }

  void fsync() override {
    int rc = MPI_File_sync(fh_);
    if (rc != MPI_SUCCESS) fatal("MPI_File_sync " + name_ + ": " + mpi_error(rc));
  }

  void close() override {
    int rc = MPI_File_close(&fh_);
    if (rc != MPI_SUCCESS) fatal("MPI_File_close " + name_ + ": " + mpi_error(rc));
  }

  void remove(const std::string& name, MPI_Comm comm) override {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
      int rc = MPI_File_delete(name.c_str(), info_);
      if (rc != MPI_SUCCESS) {
        int cls = 0;
        MPI_Error_class(rc, &cls);
        if (cls != MPI_ERR_NO_SUCH_FILE) fatal("MPI_File_delete " + name + ": " + mpi_error(rc));
      }
    }
    MPI_Barrier(comm);
  }

 private:
  static int count(uint64_t len) {
    if (len > static_cast<uint64_t>(INT_MAX)) fatal("transfer size above 2 GiB");
    return static_cast<int>(len);
  }
  void check_count(const MPI_Status& st, uint64_t len, const char* what) {
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    if (static_cast<uint64_t>(n) != len)
      fatal(std::string("short ") + what + " on " + name_ + ": " + std::to_string(n) + " of " +
            std::to_string(len) + " bytes");
  }

  bool collective_;
  MPI_Info info_;
  MPI_File fh_ = MPI_FILE_NULL;
  std::string name_;
  bool served_by_edaos_ = false;
};

}  // namespace

std::unique_ptr<Backend> make_mpiio_backend(const IorOptions& o, std::string*) {
  return std::make_unique<MpiioBackend>(o);
}

}  // namespace edaos::bench

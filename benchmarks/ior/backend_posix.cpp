// edaos-ior -a POSIX: open/pread/pwrite/fsync/close on a local path (a "ufs:" prefix is
// stripped; "daos:" names are refused: they have no local path without a FUSE mount).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ior.hpp"

namespace edaos::bench {
namespace {

std::string local_path(const std::string& name) {
  if (has_prefix(name, "daos:"))
    fatal("-a POSIX needs a local path; " + name + " is an edaos name (use -a MPIIO or DFS)");
  return has_prefix(name, "ufs:") ? name.substr(4) : name;
}

class PosixBackend final : public Backend {
 public:
  std::string describe() const override { return "POSIX"; }

  void open(const std::string& name, MPI_Comm comm, bool create, bool write,
            uint64_t size) override {
    path_ = local_path(name);
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    int flags = write ? O_RDWR : O_RDONLY;
    // Shared file: rank 0 creates it, the others open it once it exists (as IOR does).
    if (create && rank == 0) {
      fd_ = ::open(path_.c_str(), flags | O_CREAT, 0644);
      if (fd_ < 0) fatal("create " + path_ + ": " + std::strerror(errno));
    }
    MPI_Barrier(comm);
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), flags);
      if (fd_ < 0) fatal("open " + path_ + ": " + std::strerror(errno));
    }
  }

  void write(uint64_t off, const void* buf, uint64_t len) override {
    auto* p = static_cast<const char*>(buf);
    while (len > 0) {
      ssize_t n = ::pwrite(fd_, p, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fatal("pwrite " + path_ + ": " + std::strerror(n < 0 ? errno : EIO));
      p += n;
      off += static_cast<uint64_t>(n);
      len -= static_cast<uint64_t>(n);
    }
  }

  void read(uint64_t off, void* buf, uint64_t len) override {
    auto* p = static_cast<char*>(buf);
    while (len > 0) {
      ssize_t n = ::pread(fd_, p, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fatal("pread " + path_ + ": " + std::strerror(errno));
      if (n == 0) {  // short file: the rest reads as zeros, verification reports it
        std::memset(p, 0, len);
        return;
      }
      p += n;
      off += static_cast<uint64_t>(n);
      len -= static_cast<uint64_t>(n);
    }
  }

  void fsync() override {
    if (::fsync(fd_) != 0) fatal("fsync " + path_ + ": " + std::strerror(errno));
  }

  void close() override {
    if (fd_ >= 0 && ::close(fd_) != 0) fatal("close " + path_ + ": " + std::strerror(errno));
    fd_ = -1;
  }

  void remove(const std::string& name, MPI_Comm comm) override {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    std::string p = local_path(name);
    if (rank == 0 && ::unlink(p.c_str()) != 0 && errno != ENOENT)
      fatal("unlink " + p + ": " + std::strerror(errno));
    MPI_Barrier(comm);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

std::unique_ptr<Backend> make_posix_backend(const IorOptions&, std::string*) {
  return std::make_unique<PosixBackend>();
}

}  // namespace edaos::bench

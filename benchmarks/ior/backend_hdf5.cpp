// edaos-ior -a HDF5: one file, one 1-D dataset "ior" of bytes holding the same data layout as
// the other backends (transfer i is the hyperslab at its data offset). The file access list
// is H5Pset_fapl_mpio(comm, hints), so HDF5's MPI-IO driver runs on top of MPI_File_* (edaos
// for "daos:" names, ROMIO otherwise). With HDF5_VOL_CONNECTOR=edaos (and HDF5_PLUGIN_PATH)
// HDF5 routes the same calls to the edaos VOL connector instead; the "daos:" prefix is then
// stripped (the connector names its container after the file name). -c selects
// H5FD_MPIO_COLLECTIVE transfers.
#include <cstdlib>

#include "ior.hpp"

#ifdef EDAOS_IOR_HAVE_HDF5
#include <hdf5.h>

namespace edaos::bench {
namespace {

bool vol_from_env() {
  const char* v = std::getenv("HDF5_VOL_CONNECTOR");
  return v && *v && !has_prefix(v, "native");
}

class Hdf5Backend final : public Backend {
 public:
  explicit Hdf5Backend(const IorOptions& o) : collective_(o.collective), info_(make_info(o)) {}
  ~Hdf5Backend() override {
    if (info_ != MPI_INFO_NULL) MPI_Info_free(&info_);
  }

  std::string describe() const override {
    std::string d = "HDF5";
    if (vol_from_env())
      d += " (VOL " + std::string(std::getenv("HDF5_VOL_CONNECTOR")) + ")";
    else
      d += " (MPI-IO driver)";
    return d + (collective_ ? ", collective" : ", independent");
  }

  void open(const std::string& name, MPI_Comm comm, bool create, bool write,
            uint64_t size) override {
    name_ = file_name(name);
    hid_t fapl = make_fapl(comm);
    if (create) {
      fid_ = H5Fcreate(name_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
      if (fid_ < 0) fatal("H5Fcreate " + name_ + " failed");
      hsize_t dims[1] = {size};
      hid_t space = H5Screate_simple(1, dims, nullptr);
      hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
      H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
      dset_ = H5Dcreate2(fid_, "ior", H5T_NATIVE_UCHAR, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
      H5Pclose(dcpl);
      H5Sclose(space);
      if (dset_ < 0) fatal("H5Dcreate2 ior in " + name_ + " failed");
    } else {
      fid_ = H5Fopen(name_.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
      if (fid_ < 0) fatal("H5Fopen " + name_ + " failed");
      dset_ = H5Dopen2(fid_, "ior", H5P_DEFAULT);
      if (dset_ < 0) fatal("H5Dopen2 ior in " + name_ + " failed");
    }
    H5Pclose(fapl);
    fspace_ = H5Dget_space(dset_);
    dxpl_ = H5Pcreate(H5P_DATASET_XFER);
    if (collective_) H5Pset_dxpl_mpio(dxpl_, H5FD_MPIO_COLLECTIVE);
  }

  void write(uint64_t off, const void* buf, uint64_t len) override {
    hid_t m = select(off, len);
    if (H5Dwrite(dset_, H5T_NATIVE_UCHAR, m, fspace_, dxpl_, buf) < 0)
      fatal("H5Dwrite " + name_ + " failed");
  }

  void read(uint64_t off, void* buf, uint64_t len) override {
    hid_t m = select(off, len);
    if (H5Dread(dset_, H5T_NATIVE_UCHAR, m, fspace_, dxpl_, buf) < 0)
      fatal("H5Dread " + name_ + " failed");
  }

  void fsync() override {
    if (H5Fflush(fid_, H5F_SCOPE_GLOBAL) < 0) fatal("H5Fflush " + name_ + " failed");
  }

  void close() override {
    if (mspace_ >= 0) H5Sclose(mspace_);
    H5Sclose(fspace_);
    H5Pclose(dxpl_);
    H5Dclose(dset_);
    if (H5Fclose(fid_) < 0) fatal("H5Fclose " + name_ + " failed");
    mspace_ = fspace_ = dxpl_ = dset_ = fid_ = H5I_INVALID_HID;
    mspace_len_ = 0;
  }

  void remove(const std::string& name, MPI_Comm comm) override {
    // H5Fdelete is collective over the access list's communicator (rank 0 deletes).
    hid_t fapl = make_fapl(comm);
    herr_t rc = H5Fdelete(file_name(name).c_str(), fapl);
    H5Pclose(fapl);
    if (rc < 0) fatal("H5Fdelete " + file_name(name) + " failed");
  }

 private:
  static std::string file_name(const std::string& name) {
    return vol_from_env() && has_prefix(name, "daos:") ? name.substr(5) : name;
  }
  hid_t make_fapl(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (H5Pset_fapl_mpio(fapl, comm, info_) < 0) fatal("H5Pset_fapl_mpio failed");
    // All ranks make the same metadata calls: let HDF5 do metadata I/O collectively.
    H5Pset_all_coll_metadata_ops(fapl, true);
    H5Pset_coll_metadata_write(fapl, true);
    return fapl;
  }
  // Selects [off, off + len) in the file space; returns the matching memory space (kept
  // between calls of one length).
  hid_t select(uint64_t off, uint64_t len) {
    hsize_t start[1] = {off}, count[1] = {len};
    if (H5Sselect_hyperslab(fspace_, H5S_SELECT_SET, start, nullptr, count, nullptr) < 0)
      fatal("H5Sselect_hyperslab failed");
    if (len != mspace_len_) {
      if (mspace_ >= 0) H5Sclose(mspace_);
      mspace_ = H5Screate_simple(1, count, nullptr);
      mspace_len_ = len;
    }
    return mspace_;
  }

  bool collective_;
  MPI_Info info_;
  std::string name_;
  hid_t fid_ = H5I_INVALID_HID, dset_ = H5I_INVALID_HID, fspace_ = H5I_INVALID_HID;
  hid_t dxpl_ = H5I_INVALID_HID, mspace_ = H5I_INVALID_HID;
  uint64_t mspace_len_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_hdf5_backend(const IorOptions& o, std::string*) {
  return std::make_unique<Hdf5Backend>(o);
}

}  // namespace edaos::bench

#else

namespace edaos::bench {
std::unique_ptr<Backend> make_hdf5_backend(const IorOptions&, std::string* why) {
  *why = "this edaos-ior was built without HDF5 (parallel HDF5 >= 1.14 not found)";
  return nullptr;
}
}  // namespace edaos::bench

#endif

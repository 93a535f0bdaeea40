// Store status -> MPI error code. One table (kClassOf) maps every status code to the MPI error
// class a user can act on; the message travels as the code's error string (MPI_Add_error_code
// + MPI_Add_error_string), so MPI_Error_string says what happened and MPI_Error_class gives the
// class. Codes are cached per distinct message; past kMaxCodes messages the bare class is used.
#include <map>
#include <mutex>

#include "adio_internal.hpp"

namespace edaos::adio {
namespace {

constexpr size_t kMaxCodes = 512;
std::mutex g_mu;
std::map<std::pair<int, std::string>, int> g_codes;
std::map<int, std::string> g_strings;  // code -> message (see error_string)

struct ClassOf {
  edaos_status_t code;
  int mpi_class;
};
// The mapping table (README "Error mapping").
const ClassOf kClassOf[] = {
    {EDAOS_NONEXIST, MPI_ERR_NO_SUCH_FILE},
    {EDAOS_EXIST, MPI_ERR_FILE_EXISTS},
    {EDAOS_PERM, MPI_ERR_ACCESS},
    {EDAOS_RDONLY, MPI_ERR_READ_ONLY},
    {EDAOS_NOSPACE, MPI_ERR_NO_SPACE},
    {EDAOS_NOTDIR, MPI_ERR_BAD_FILE},
    {EDAOS_ISDIR, MPI_ERR_BAD_FILE},
    {EDAOS_NAMETOOLONG, MPI_ERR_BAD_FILE},
    {EDAOS_LOOP, MPI_ERR_BAD_FILE},
    {EDAOS_FORMAT, MPI_ERR_BAD_FILE},
    {EDAOS_BUSY, MPI_ERR_FILE_IN_USE},
    {EDAOS_NOMEM, MPI_ERR_NO_MEM},
    {EDAOS_NOTSUP, MPI_ERR_UNSUPPORTED_OPERATION},
    {EDAOS_INVAL, MPI_ERR_ARG},
};

}  // namespace

int make_error(int mpi_class, const std::string& msg) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto key = std::make_pair(mpi_class, msg);
  auto it = g_codes.find(key);
  if (it != g_codes.end()) return it->second;
  if (g_codes.size() >= kMaxCodes) return mpi_class;
  int code = 0;
  if (PMPI_Add_error_code(mpi_class, &code) != MPI_SUCCESS) return mpi_class;
  std::string s = "edaos: " + msg;
  if (s.size() >= MPI_MAX_ERROR_STRING) s.resize(MPI_MAX_ERROR_STRING - 1);
  PMPI_Add_error_string(code, s.c_str());
  g_codes.emplace(key, code);
  g_strings.emplace(code, s);
  return code;
}

const std::string* error_string(int code) {
  std::lock_guard<std::mutex> lk(g_mu);
  auto it = g_strings.find(code);
  return it == g_strings.end() ? nullptr : &it->second;
}

int status_class(const Status& st) {
  if (st.ok()) return MPI_SUCCESS;
  for (const auto& c : kClassOf)
    if (c.code == st.code()) return c.mpi_class;
  return MPI_ERR_IO;
}

int to_mpi_error(const Status& st, const std::string& what) {
  if (st.ok()) return MPI_SUCCESS;
  return make_error(status_class(st), what + ": " + st.to_string());
}

int agree_error(MPI_Comm comm, int code) {
  int nprocs = 1, rank = 0;
  PMPI_Comm_size(comm, &nprocs);
  PMPI_Comm_rank(comm, &rank);
  if (nprocs == 1) return code;
  // The lowest failing rank is the reference.
  int mine = code == MPI_SUCCESS ? nprocs : rank;
  int first = nprocs;
  objstore::coll::allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == nprocs) return MPI_SUCCESS;
  int cls = MPI_SUCCESS;
  if (code != MPI_SUCCESS) PMPI_Error_class(code, &cls);
  objstore::coll::bcast(&cls, 1, MPI_INT, first, comm);
  if (code != MPI_SUCCESS) return code;
  return make_error(
      cls, "operation failed on rank " + std::to_string(first) + " of the file's communicator");
}

}  // namespace edaos::adio

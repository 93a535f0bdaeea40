// Private declarations of the edaos MPI-IO driver: the file handle, the ADIO-style table of
// operations, datatype flattening, file views and access lists.
//
// Layering (see README.md, "Source map"):
//   wrappers.cpp   MPI_File_* entry points only (pass-through of non-daos files to PMPI)
//   handles.cpp access.cpp async.cpp   the layer under them (mpiio_internal.hpp): handle
//                  table and error handlers; the one access preparation and the blocking
//                  access; requests, I/O pool, collective worker, split collectives
//   fns.cpp        the operations table (AdioFns): every data access goes through it
//   open/close/io/hints/fcntl/resize/shared_fp.cpp   the operations
//   coll/          two-phase collective buffering (file domains, requests, exchange)
//   flatten.cpp    datatype -> (offset, length) lists, cached per type
//   errors.cpp     Status -> MPI error code (class + message), error handler dispatch
#pragma once

#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../../objstore/src/pmpi/mpi_real.hpp"  // EDAOS_REAL: the MPI library's PMPI_*
#include "edaos/hints/hints.hpp"
#include "edaos/objstore/collectives.hpp"
#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"
#include "edaos/objstore/status.hpp"

namespace edaos::adio {

// ---- datatypes ----------------------------------------------------------------------------

// One instance of a datatype as a list of (displacement, length) blocks in type-map order,
// adjacent blocks merged. Displacements are relative to the buffer origin (can be negative).
// Instance i of a count sits at i * extent.
struct Flat {
  std::vector<int64_t> off;
  std::vector<int64_t> len;
  std::vector<int64_t> prefix;  // prefix[i] = sum of len[0..i)
  int64_t size = 0;             // MPI_Type_size
  int64_t lb = 0, extent = 0;   // MPI_Type_get_extent
  bool contiguous() const {
    return off.size() <= 1 && (off.empty() || (off[0] == 0 && len[0] == extent));
  }
};
using FlatPtr = std::shared_ptr<const Flat>;

// Flattens `t` through MPI_Type_get_envelope/get_contents (subarray, darray and named types with
// holes through a pack probe). Cached on the type as an attribute (freed with the type).
FlatPtr flatten(MPI_Datatype t);
// Same without the cache and the envelope walk: the pack probe only (test oracle).
FlatPtr flatten_by_pack(MPI_Datatype t);
// The type map of `t` in the external32 representation (MPI-3.1 13.5.1): basic types take their
// external32 sizes (MPI_Pack_external_size), displacements of count-based constructors
// (contiguous, vector, indexed, subarray) scale with them, byte displacements and resized
// bounds are taken as they are. The native flat when the sizes agree (every type without
// long, unsigned long, wchar_t). nullptr when it cannot be computed (a darray of such types).
// Cached on the type.
FlatPtr flatten_external32(MPI_Datatype t);
// The one basic type `t` is made of, or MPI_DATATYPE_NULL when it mixes several (or is a pair
// type such as MPI_DOUBLE_INT). MPICH 4.0.2's MPI_Pack_external handles only types of one basic
// type (it crashes on the others), so external32 accesses check this first.
MPI_Datatype single_basic_type(MPI_Datatype t);
// What makes `t` unusable as an etype or filetype (MPI-3.1 13.3, checked as ROMIO's
// ADIO_Set_view does: negative displacements, then decreasing ones, then overlapping ones
// when the file is writable), or "" when nothing does.
std::string view_type_error(const Flat& t, bool writable);

// A byte range.
struct Seg {
  int64_t off;
  int64_t len;
};

// One piece of an access: `len` bytes at file offset `foff` <-> memory address `maddr`.
struct Piece {
  int64_t foff;
  int64_t maddr;  // absolute address (MPI_Aint)
  int64_t len;
};

// ---- the file -----------------------------------------------------------------------------

struct AdioFns;

inline constexpr uint64_t kFileMagic = 0x6564616f734d5049ull;  // "edaosMPI"

struct View {
  MPI_Offset disp = 0;
  MPI_Datatype etype = MPI_BYTE;     // as given (predefined) or our duplicate
  MPI_Datatype filetype = MPI_BYTE;  // as given (predefined) or our duplicate
  FlatPtr ft;                        // filetype in the file's representation
  int64_t etype_size = 1;            // in the file's representation
  bool external32 = false;           // data representation external32 (else native/internal)
};

struct CollWorker;  // async.cpp: runs this handle's nonblocking/split collectives in order

struct File {
  uint64_t magic = kFileMagic;
  const AdioFns* fns = nullptr;
  MPI_Comm comm = MPI_COMM_NULL;  // duplicate of the open communicator (private traffic)
  int rank = 0, nprocs = 1;
  std::string filename;  // as passed to MPI_File_open
  std::string pool_path, cont_label, path;
  int amode = 0;
  std::shared_ptr<objstore::Pool> pool;
  std::shared_ptr<objstore::Container> cont;
  std::shared_ptr<objstore::Dfs> dfs;
  std::unique_ptr<objstore::DfsObj> obj;
  hints::EffectiveHints hints;
  int64_t stripe_unit = 0;  // file domain alignment (striping_unit hint, else k * ec_cell_sz)
  MPI_Errhandler errh = MPI_ERRORS_RETURN;
  View view;
  int64_t fp = 0;  // individual file pointer, etype units relative to the view
  bool atomic = false;
  std::string datarep = "native";
  std::vector<char> cb_buf;  // collective buffer, allocated on first use (aggregators)
  MPI_Fint fint = 0;
  // Lock/shared-pointer KV of this file (shared_fp.cpp).
  std::unique_ptr<objstore::KV> lock_kv;
  std::string lock_dkey;
  std::mutex mu;  // serializes this handle's operations across threads
  // Split collective in progress.
  // Nonblocking independent accesses in flight (async.cpp); close waits for zero.
  std::mutex inflight_mu;
  std::condition_variable inflight_cv;
  int inflight = 0;
  int split_kind = 0;                // 0 none, 1 read, 2 write
  std::shared_ptr<void> split_done;  // the begun split collective's completion (async.cpp)
  // Nonblocking and split collectives in initiation order, run by one thread per handle on
  // `comm`; every other collective call of the handle waits until it is idle (async.cpp).
  CollWorker* coll_worker = nullptr;
};

// ---- the operations table (ROMIO's ADIOI_Fns) ---------------------------------------------

// All return an MPI error code (MPI_SUCCESS or a code from to_mpi_error). `bytes` gets the number
// of bytes moved.
struct AdioFns {
  int (*open)(MPI_Comm comm, const char* name, int amode, MPI_Info info, File** out);
  int (*close)(File* f);
  int (*delete_file)(const char* name, MPI_Info info);
  // Contiguous byte range [off, off+len) of the file <-> contiguous memory (the runs of the
  // two-phase collective buffer). Reads move exactly len bytes: holes and bytes past the end
  // read as zeros (the caller knows the size). In atomic mode the file lock is held.
  int (*read_contig)(File* f, int64_t off, void* buf, int64_t len, int64_t* bytes);
  int (*write_contig)(File* f, int64_t off, const void* buf, int64_t len, int64_t* bytes);
  // List I/O: pieces already mapped through the view (file offset <-> memory address), as
  // pieces_read/pieces_write move them; in atomic mode under the file lock. The nonblocking
  // independent path (flattened at initiation) and the collective fallbacks call these.
  int (*read_list)(File* f, const std::vector<Piece>& pieces, int64_t* bytes);
  int (*write_list)(File* f, const std::vector<Piece>& pieces, int64_t* bytes);
  // View-relative data offset (bytes of view data) with any memory type.
  int (*read_strided)(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                      int64_t* bytes);
  int (*write_strided)(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
                       int64_t* bytes);
  // Collective (every rank of f->comm).
  int (*read_coll)(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                   int64_t* bytes);
  int (*write_coll)(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
                    int64_t* bytes);
  int (*get_size)(File* f, int64_t* size);
  int (*resize)(File* f, int64_t size);       // collective
  int (*preallocate)(File* f, int64_t size);  // collective
  int (*flush)(File* f);                      // collective
  int (*set_info)(File* f, MPI_Info info);    // collective
  int (*set_atomicity)(File* f, bool on);     // collective
  // Shared file pointer (etype units), atomically fetch-and-add.
  int (*shared_fetch_add)(File* f, int64_t add, int64_t* old);
  int (*shared_set)(File* f, int64_t value);  // collective
};

extern const AdioFns kEdaosFns;

// ---- operations (ROMIO naming: ADIOI_EDAOS_*) -----------------------------------------------

int ADIOI_EDAOS_Open(MPI_Comm comm, const char* name, int amode, MPI_Info info, File** out);
int ADIOI_EDAOS_Close(File* f);
int ADIOI_EDAOS_Delete(const char* name, MPI_Info info);
int ADIOI_EDAOS_ReadContig(File* f, int64_t off, void* buf, int64_t len, int64_t* bytes);
int ADIOI_EDAOS_WriteContig(File* f, int64_t off, const void* buf, int64_t len, int64_t* bytes);
int ADIOI_EDAOS_ReadList(File* f, const std::vector<Piece>& pieces, int64_t* bytes);
int ADIOI_EDAOS_WriteList(File* f, const std::vector<Piece>& pieces, int64_t* bytes);
int ADIOI_EDAOS_ReadStrided(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                            int64_t* bytes);
int ADIOI_EDAOS_WriteStrided(File* f, int64_t data_off, const void* buf, int64_t count,
                             MPI_Datatype t, int64_t* bytes);
int ADIOI_EDAOS_ReadColl(File* f, int64_t data_off, void* buf, int64_t count, MPI_Datatype t,
                         int64_t* bytes);
int ADIOI_EDAOS_WriteColl(File* f, int64_t data_off, const void* buf, int64_t count, MPI_Datatype t,
                          int64_t* bytes);
int ADIOI_EDAOS_GetSize(File* f, int64_t* size);
int ADIOI_EDAOS_Resize(File* f, int64_t size);
int ADIOI_EDAOS_Preallocate(File* f, int64_t size);
int ADIOI_EDAOS_Flush(File* f);
int ADIOI_EDAOS_SetInfo(File* f, MPI_Info info);
int ADIOI_EDAOS_SetAtomicity(File* f, bool on);
int ADIOI_EDAOS_SharedFetchAdd(File* f, int64_t add, int64_t* old);
int ADIOI_EDAOS_SharedSet(File* f, int64_t value);

// ---- helpers shared by the operations -------------------------------------------------------

// File byte segments of `nbytes` bytes of view data starting at view data offset `data_off`,
// in data order, adjacent segments merged.
std::vector<Seg> view_segments(const File& f, int64_t data_off, int64_t nbytes);
// Memory segments (absolute addresses) of count x t at buf, in data order, merged.
std::vector<Seg> memory_segments(const void* buf, int64_t count, MPI_Datatype t);
// Zips file and memory segments (same total) into pieces.
std::vector<Piece> zip(const std::vector<Seg>& file, const std::vector<Seg>& mem);
// Absolute byte offset of view data offset `data_off` (get_byte_offset).
int64_t view_byte_offset(const File& f, int64_t data_off);

// Executes pieces against the store independently (write: one call per contiguous file run;
// read: data sieving when it helps). `*bytes` gets the bytes moved (reads: short at EOF).
int pieces_write(File* f, const std::vector<Piece>& pieces, int64_t* bytes);
int pieces_read(File* f, const std::vector<Piece>& pieces, int64_t* bytes);

// Locking through the file's lock KV (shared_fp.cpp): whole-file mutex used by atomic mode and
// the shared file pointer.
Status file_lock(File* f);
void file_unlock(File* f);

// ---- counters (edaos_mpio_get_stats) --------------------------------------------------------

struct Counters {
  std::atomic<uint64_t> indep_calls{0}, coll_calls{0}, coll_twophase{0}, coll_rounds{0},
      agg_io_calls{0}, agg_io_bytes{0}, sieved_reads{0};
};
extern Counters g_counters;

// ---- names and pools (open.cpp) -----------------------------------------------------------

// Splits a daos: name into pool directory and container label with objstore's resolver
// (objstore::parse_daos_name); returns the path in the container (EDAOS_INVAL with a message
// saying what is missing, also when the name gives no file).
Result<std::string> parse_daos_name(const std::string& name, std::string* pool, std::string* cont);
// Not collective: the process's shared connection to `pool` (objstore::Pool::shared_local), or
// a new one on MPI_COMM_SELF (`create`: a missing pool is created, as MPI_MODE_CREATE does).
Result<std::shared_ptr<objstore::Pool>> independent_pool(const std::string& pool,
                                                         bool create = false);
// At MPI_Finalize: drops the cached pool connections / the POSIX layer's open files.
void release_pools();
void release_posix_files();

// ---- hints (hints.cpp) ----------------------------------------------------------------------

// The driver's sink for hint warnings: stderr only where ROMIO would print or fail (or under
// ROMIO_PRINT_HINTS), else the edaos log at info level, facility "hints".
void hint_warning_sink(const hints::Warning& w, int rank);

// ---- errors -------------------------------------------------------------------------------

// An MPI error code of `mpi_class` whose error string is `msg` (MPI_Add_error_code/string,
// cached per message; after kMaxCodes distinct messages, the bare class).
int make_error(int mpi_class, const std::string& msg);
// The message of a code made by make_error, or nullptr. MPICH 4.0.2 encodes codes added to a
// predefined class without its "dynamic" bit, so its MPI_Error_string prints garbage for them;
// the MPI_Error_string wrapper answers from this table instead.
const std::string* error_string(int code);
// The MPI error class for a store status, and a code carrying "<what>: <status message>".
int status_class(const Status& st);
int to_mpi_error(const Status& st, const std::string& what);
// Returns the same code on every rank of comm: the first non-success code of the lowest rank
// (other ranks get a code of the same class).
int agree_error(MPI_Comm comm, int code);

}  // namespace edaos::adio

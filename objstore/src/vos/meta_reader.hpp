// Read-only access to an engine's metadata from a process of its node that is not its owner (or
// from another thread of the owner's process): KV values from meta.mdb and array logical sizes
// from meta.mdb + sizes.log, without a message to the server (session 10, issue 17;
// objstore/src/vos/README.md "Readers of meta.mdb", objstore/src/dfs/README.md "Metadata reads
// without the server").
//
// The engine's environment runs with LMDB's lock file (LmdbEnv shared mode), so a read
// transaction here is registered in its reader table and its snapshot stays valid while it runs.
// A MetaReader never writes anything into the engine directory except its reader slot.
//
// Every call answers exactly what the owner would answer at some moment during the call, or
// fails; a caller treats any failure other than EDAOS_NONEXIST of kv_get as "ask the server".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edaos/objstore/status.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {

namespace detail {
struct ReaderEnv;  // meta_reader.cpp
}

class MetaReader {
 public:
  // Opens the reader of `engine_dir` (<pool>/engine-NNNN). Its FORMAT must be version 2-4
  // (EDAOS_NOTSUP otherwise: a version-1 engine has no size log yet). `owner_here`: this
  // process owns the engine (its server runs here): the reader then reads only through the
  // owner's environment (LMDB allows one environment per file per process) and fails
  // EDAOS_NOTCONN while the owner has it closed. Readers of one file in one process share one
  // environment.
  static Result<std::unique_ptr<MetaReader>> open(const std::string& engine_dir, bool owner_here);
  ~MetaReader();
  MetaReader(const MetaReader&) = delete;
  MetaReader& operator=(const MetaReader&) = delete;

  // The value of (dkey, akey) of shard `ref`, verified against its stored checksum (any type the
  // codec knows: `fn`). EDAOS_NONEXIST: no such entry in the snapshot read. Long entries
  // (dkey + akey > kShortKvKeyBytes): EDAOS_NOTSUP. A checksum mismatch: EDAOS_CSUM.
  Status kv_get(const ShardRef& ref, std::string_view dkey, std::string_view akey, CsumFn fn,
                std::string* value);

  // The logical end of each shard (all of this engine), as Engine::array_logical_end: the
  // largest of its `arrays` record and its size records in sizes.log after its last removal
  // record. sizes.log is read first, then one read transaction: a fold commits `arrays` before it
  // empties the log, so what a fold moved is in one or the other. `skip_log` (optional, one per
  // ref): the shard's data file was absent when probed (probe_file), so no completed write has a
  // size record of it in the log (a write creates the file before its record; a removal
  // removes both): only its `arrays` record counts. When every ref skips it, the log is not read.
  Status logical_ends(const std::vector<ShardRef>& refs, std::vector<uint64_t>* ends,
                      const std::vector<char>* skip_log = nullptr);

  // The shard's data file: absent, present, or present with a direct writer's write lock
  // anywhere on it (a returned direct write whose commit, which raises the logical end, may not
  // be applied yet). kLocked also when the probe itself fails.
  enum class ShardFile { kAbsent, kPresent, kLocked };
  ShardFile probe_file(const ShardRef& ref) const;

  const std::string& dir() const { return dir_; }

 private:
  MetaReader() = default;
  std::string dir_;
  std::shared_ptr<detail::ReaderEnv> env_;
  int log_fd_ = -1;
};

// Tests: a hook called at the named points of a size-log fold (Engine, engine_sizes.cpp):
// "fold:in-transaction" (the fold's LMDB write transaction open, its records put, not
// committed) and "fold:committed" (committed, the log not yet emptied), so a test can kill the
// process there. nullptr disables it. Process-wide.
void set_fold_hook_for_testing(FaultHook hook);

// <engine_dir>/tgt-T/<cont>/<oid>.<shard> (the layout of objstore/src/vos/README.md).
std::string shard_data_path(const std::string& engine_dir, const ShardRef& ref);

}  // namespace edaos::objstore::vos

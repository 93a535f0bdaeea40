// The `edaos` command-line tool: shared pieces of the command families (pool.cpp,
// container.cpp, fs.cpp), the argument parser and output helpers (output.cpp), pool and
// container resolution (common.cpp). main.cpp starts MPI and the object store and dispatches.
//
// Every command runs its body on rank 0 of the job only (other ranks wait for the exit status),
// and connects pools with MPI_COMM_SELF: the tool is normally a one-rank job that hosts every
// engine, and under `mpiexec -n N` the other ranks just serve.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edaos/objstore/objstore.hpp"

namespace edaos::cli {

// Exit statuses (documented in objstore/tools/README.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntime = 1,  // the operation failed (store error, not found, class too wide, ...)
  kExitUsage = 2,    // the command line is wrong: unknown command/option, missing or malformed
                     // argument (bad size, class name, property, URI)
  kExitBusy = 3,     // the pool is in use by another job (EDAOS_BUSY)
};

// One option a command accepts. `takes_value`: --name=V or --name V; otherwise a flag.
struct OptSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
  std::string help;
  char short_name = 0;  // e.g. 'l' for -l (0: none)
};

// A parsed command line: options by name (flags map to "") and positionals in order.
struct Args {
  std::map<std::string, std::string> opts;
  std::vector<std::string> pos;
  bool has(const std::string& k) const { return opts.count(k) != 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opts.find(k);
    return it == opts.end() ? def : it->second;
  }
};

// What a command body reports: an exit code and, when not OK, one line for stderr (without
// the "edaos: <command>: " prefix, which the dispatcher adds).
struct Outcome {
  int code = kExitOk;
  std::string msg;
  bool ok() const { return code == kExitOk; }
};
inline Outcome ok() { return {}; }
inline Outcome usage_error(std::string msg) { return {kExitUsage, std::move(msg)}; }
inline Outcome runtime_error(std::string msg) { return {kExitRuntime, std::move(msg)}; }
// kExitBusy for EDAOS_BUSY, else kExitRuntime; the message is the status's message (or its
// code's description when empty).
Outcome from_status(const Status& st);
// Usage error carrying a status's message (local validation of an argument failed).
Outcome usage_from_status(const Status& st);

struct Command {
  std::string family;    // "pool", "container", "fs", "" (top level)
  std::string name;      // "create", ...
  std::string synopsis;  // "[options] <pool> <cont>"
  std::string summary;   // one line
  std::vector<OptSpec> opts;
  Outcome (*run)(const Args&);
  std::vector<std::string> aliases;  // other names of `name` ("ls" for "list")
};

// `pool list-cont` and `container list`: the containers of the pool (pool.cpp).
Outcome list_containers(const Args& a);

// Command tables of each family.
std::vector<Command> pool_commands();
std::vector<Command> container_commands();
std::vector<Command> fs_commands();

// ---- output (output.cpp) -----------------------------------------------------------------

// A table as DAOS's txtfmt prints it: a title row, a row of dashes, then the rows; each column
// padded to its widest cell plus one space (trailing spaces are dropped). `indent` is prepended
// to every line.
std::string format_table(const std::vector<std::string>& titles,
                         const std::vector<std::vector<std::string>>& rows,
                         const std::string& indent = "");
// "key value" rows with the keys padded to the widest (txtfmt.FormatEntity without a title).
std::string format_entity(const std::vector<std::pair<std::string, std::string>>& rows);
// go-humanize Bytes (SI units, as `daos pool query` prints sizes): "6.0 TB", "512 B", "12 kB".
std::string format_si_bytes(uint64_t bytes);
// A progress line for terminals: "\r[=====>    ]  42%  12 MiB / 30 MiB  3 files".
class Progress {
 public:
  // Enabled when stdout is a terminal (isatty) and `enabled` is true.
  Progress(uint64_t total_bytes, bool enabled);
  void add(uint64_t bytes, uint64_t files);
  void finish();
  bool active() const { return on_; }

 private:
  void draw(bool force);
  uint64_t total_, done_ = 0, files_ = 0;
  bool on_;
  double last_ = 0;
};

// ---- pools and containers (common.cpp) ----------------------------------------------------

// Resolves a pool argument to its directory with objstore::resolve_pool (the grammar of
// objstore/README.md, "Names"); empty: the default spec ($EDAOS_POOL, $DAOS_POOL,
// ./edaos-pool).
std::string resolve_pool(const std::string& arg);

// A parsed daos://<pool>/<cont>[/path] URI (path always absolute, "/" by default).
struct DaosUri {
  std::string pool;       // resolved directory
  std::string pool_spec;  // as written (for messages)
  std::string cont;
  std::string path;
};
bool is_daos_uri(const std::string& s);
// objstore::parse_daos_name restricted to the daos:// form.
Result<DaosUri> parse_daos_uri(const std::string& s);
// A URI that does not parse: a usage error (exit 2) for bad syntax (EDAOS_INVAL), else the
// status's outcome (no pool along a path, a damaged pool: exit 1).
Outcome uri_error(const Status& st);

// The pool and container named by a command: --pool/--cont options, else the positionals in
// order (pool, then container), else the environment (objstore::default_container: a
// DAOS_CONT / DAOS_CONTAINER conflict is a usage error). Sets *next_pos to the index of the first
// positional not consumed. `need_cont`: a missing container is a usage error.
struct Target {
  std::string pool;  // resolved directory
  std::string pool_arg;
  std::string cont;
};
Outcome pick_target(const Args& a, bool need_cont, Target* t, size_t* next_pos = nullptr);

// Connects to a pool (MPI_COMM_SELF). The error outcome names the pool. `admin`: an
// administrative connection (objstore::ConnectOptions::admin; pool query and exclude).
Outcome connect_pool(const std::string& path, std::shared_ptr<objstore::Pool>* out,
                     bool admin = false);
// Connects and opens a container.
Outcome open_cont(const Target& t, std::shared_ptr<objstore::Pool>* pool,
                  std::shared_ptr<objstore::Container>* cont);

}  // namespace edaos::cli

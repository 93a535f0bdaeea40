// edaos object store: the one resolver of pool names and `daos:` file names.
//
// Every door uses these functions (the MPI-IO driver, the HDF5 connector, the benchmarks, the
// `edaos` tool), so a name means the same thing everywhere. The grammar is documented once, in
// objstore/README.md, "Names: pools, containers and daos: files"; in short:
//
//   pool spec     a path (contains '/', or is "." or ".."): that pool directory;
//                 a bare word: a pool label, UUID or directory name, looked up in the pool home
//   daos:PATH, daos:/PATH       pool $EDAOS_POOL / $DAOS_POOL (default ./edaos-pool),
//                               container $EDAOS_CONT, else $DAOS_CONT / $DAOS_CONTAINER
//   daos://POOL/CONT[/PATH]     POOL a bare word (label, UUID, directory name in the pool home),
//                               or a path starting with '/', "./" or "../": then the pool is the
//                               first directory along it that is a pool (see parse_daos_name)
//
// Resolution reads only the file system (POOL headers); it never creates or changes anything
// and needs neither MPI nor a running store. Not collective: callers that need every rank to
// agree resolve on one rank and broadcast (the MPI-IO driver does).
#pragma once

#include <string>

#include "edaos/objstore/status.hpp"

namespace edaos::objstore {

// True when `spec` is in path form: it contains '/', or is "." or "..".
EDAOS_CXX_API bool is_pool_path(const std::string& spec);
// The directory in which bare pool names are looked up and created: the parent directory of
// the spec $EDAOS_POOL (else $DAOS_POOL) when that is a path, else ".".
EDAOS_CXX_API std::string pool_home();
// The default pool spec, unresolved: $EDAOS_POOL, else $DAOS_POOL, else "./edaos-pool".
EDAOS_CXX_API std::string default_pool_spec();
// The directory a pool spec names. Path form: the path itself (trailing '/' removed). Bare
// word w: <home>/w when that is a pool directory, else the pool directory in <home> whose
// label or UUID is w, else ./w when that is a pool directory, else <home>/w (where a pool of
// that name is created). EDAOS_INVAL for an empty spec. Never fails otherwise: whether a pool
// is there is the caller's question (is_pool_dir, or connect's EDAOS_NONEXIST).
EDAOS_CXX_API Result<std::string> resolve_pool(const std::string& spec);
// True when `dir` holds a pool (its POOL file).
EDAOS_CXX_API bool is_pool_dir(const std::string& dir);

// The container named by the environment: $EDAOS_CONT when set, else $DAOS_CONT or
// $DAOS_CONTAINER (the Aurora guide uses both names); when both of these are set and differ,
// EDAOS_INVAL naming both values (no silent choice). "" when none is set.
EDAOS_CXX_API Result<std::string> default_container();

struct DaosName {
  std::string pool;          // pool directory
  std::string pool_spec;     // the pool as the name (or the environment) gave it
  std::string cont;          // container label or UUID
  std::string path;          // absolute path in the container; "" when the name has none
  bool pool_exists = false;  // a pool is at `pool` (else: where one would be created)
};

// True for names with the "daos:" prefix.
EDAOS_CXX_API bool is_daos_name(const std::string& name);
// Parses a daos: name (the prefix is optional: "PATH" alone is taken as "daos:PATH").
//   daos:PATH, daos:/PATH  pool: the default spec, resolved; container: default_container()
//                          (EDAOS_INVAL when none); path: "/PATH".
//   daos://POOL/CONT[/PATH]
//       POOL a bare word: resolve_pool(POOL); CONT the next component.
//       POOL in path form (the text after "daos://" starts with '/', "./", "../", or is "."
//       or ".." followed by '/'): the components are walked from the left; the pool is the
//       first prefix that is a pool directory; a prefix that is absent or an empty directory
//       is where the pool would be created (pool_exists false) and ends the walk; a prefix
//       that is any other existing directory (a parent such as "." or "..") is walked
//       through, never taken as the pool. So "daos://../c/x" never makes ".." a pool.
//       A prefix that is a damaged pool (engines without POOL) is EDAOS_FORMAT; a file that
//       is not a directory is EDAOS_NOTDIR. The component after the pool is the container.
//   Repeated '/' count as one; a trailing '/' of PATH is dropped (PATH "/" stays "/").
// EDAOS_INVAL, with the name and the expected form, for: no pool, no container, an empty
// container component, an environment container conflict.
EDAOS_CXX_API Result<DaosName> parse_daos_name(const std::string& name);

}  // namespace edaos::objstore

#!/usr/bin/env bash
# Every arrow points down: objstore (its base layer: include/edaos/objstore + src/common) <-
# hints <- adio_daos / h5vol <- benchmarks. Checks the two places an arrow can run back up:
#   1. #include lines in the sources (a module including a header of a module above it, hints
#      reaching past the base into the object store, the base including the rest of objstore);
#   2. DT_NEEDED of the built libraries (a library linking a library above it).
#   check_layering.sh <source dir> [<build dir>]     (no build dir: the include check only)
set -euo pipefail
src=$1 build=${2:-}
bad=0

# includes <what> <files...>: prints "file:line: #include ..." for every quoted include.
includes() { grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null || true; }
files_under() { find "$@" -type f \( -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) 2>/dev/null; }
# forbid <rule> <regex of forbidden include targets> <dirs...>
forbid() {
  local rule=$1 re=$2
  shift 2
  mapfile -t fs < <(files_under "$@")
  ((${#fs[@]})) || return 0
  local hits
  hits=$(includes "${fs[@]}" | grep -E "#[[:space:]]*include[[:space:]]*\"($re)" || true)
  if [[ -n $hits ]]; then
    echo "layering: $rule:" >&2
    echo "${hits//$src\//}" | sed 's/^/  /' >&2
    bad=1
  fi
}

up_from_objstore='edaos/hints/|edaos/adio_daos/|edaos/h5vol/|hints_internal|adio_internal'
forbid "objstore includes a module above it" "$up_from_objstore" "$src/objstore"
forbid "hints includes a module above it" 'edaos/adio_daos/|edaos/h5vol/|adio_internal' \
  "$src/hints"
# hints may use the base only: the public status/log/cb_config headers and src/common.
forbid "hints includes objstore beyond the base layer" \
  'edaos/objstore/(objstore|dfs|names|props|oclass|pool_map|types)|(client|server|rpc|vos|ec|placement|dfs|api|pmpi)/' \
  "$src/hints"
# The base includes nothing of the object store but its own headers.
forbid "the base layer (objstore/src/common) includes the rest of objstore" \
  '(client|server|rpc|vos|ec|placement|dfs|api|pmpi)/|edaos/objstore/(objstore|dfs|names|props|oclass|pool_map)' \
  "$src/objstore/src/common"

if [[ -n $build ]]; then
  # needed <library file> <regex of libraries it must not need>
  needed() {
    local lib=$1 re=$2 hits
    [[ -f $lib ]] || return 0
    hits=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -E "$re" || true)
    if [[ -n $hits ]]; then
      echo "layering: ${lib#$build/} links a library above it: $hits" >&2
      bad=1
    fi
  }
  for lib in objstore/libedaos_objstore.so objstore/daos_api/libedaos_daos.so; do
    needed "$build/$lib" 'libedaos_(hints|mpio|h5vol)'
  done
  needed "$build/hints/libedaos_hints.so" 'libedaos_(objstore|mpio|h5vol|daos)'
  [[ -f $build/objstore/libedaos_objstore.so ]] || { echo "layering: no objstore library in $build" >&2; bad=1; }
fi

if ((bad)); then exit 1; fi
echo "layering: every include and library arrow points down"

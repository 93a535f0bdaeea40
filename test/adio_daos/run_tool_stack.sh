#!/bin/sh
# run_tool_stack.sh MPIEXEC NP TOOL LIB APP [FIRST]: a profiling tool built like Darshan's
# LD_PRELOAD library (TOOL, tool_shim.c) is preloaded in front of libedaos_mpio (LIB), as
# `LD_PRELOAD=libdarshan.so:libedaos_mpio.so`, and the unmodified APP runs on a daos: file and
# on a plain file. Both must work, the daos: file must be served by edaos (so MPI_Init, reached
# through the tool's PMPI_Init, started the store), the tool must have seen every call once, and
# no call may come back into the tool (max depth 1: edaos never calls a PMPI_File_* name). The
# pool directory is fresh, so the store's first open of its files fails with ENOENT through the
# tool's open wrapper: the POSIX view must still see that the store is calling (it deadlocked
# while the driver held its pool-cache lock across a connect; with objstore's shared
# connections it looked the store's own files up in the store instead). The view logs every
# lookup of a stripped name (EDAOS_LOG=posix=debug): none may name a file of the pool.
# FIRST (sanitizer builds: the ASan runtime) is preloaded before everything.
set -e
mpiexec=$1; np=$2; tool=$3; lib=$4; app=$5
pre="$tool:$lib"
if [ -n "$6" ]; then pre="$6:$pre"; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-tool-XXXXXX")
trap 'rm -rf "$dir"' EXIT
for name in daos:/stacked.dat "$dir/plain.dat"; do
  out=$("$mpiexec" -n "$np" -genv LD_PRELOAD "$pre" -genv DAOS_POOL "$dir/pool" \
        -genv DAOS_CONT stack -genv EDAOS_LOG posix=debug "$app" "$name" 2>"$dir/err")
  echo "$out"
  cat "$dir/err" >&2
  if grep -F "looked up as daos:$dir/pool" "$dir/err" >/dev/null; then
    echo "FAILED: the store's own files were looked up as daos: names"; exit 1
  fi
  echo "$out" | grep -q "verify: ok" || { echo "FAILED: $name not verified"; exit 1; }
  case $name in
    daos:*) echo "$out" | grep -q "fstype: EDAOS" || { echo "FAILED: not served by edaos"; exit 1; }
            want="tool: opens 1 (daos 1) write_all 1 closes 1 max depth 1" ;;
    *)      echo "$out" | grep -q "fstype: EDAOS" && { echo "FAILED: plain file served by edaos"; exit 1; }
            want="tool: opens 1 (daos 0) write_all 1 closes 1 max depth 1" ;;
  esac
  echo "$out" | grep -qF "$want" || { echo "FAILED: expected '$want'"; exit 1; }
done

#!/bin/sh
# run_nb_strided.sh MPIEXEC LIB BENCH [FIRST]: a tiny run of edaos-nb-strided (blocking vs
# nonblocking noncontiguous I/O) on a daos: file under LD_PRELOAD and on a plain file, so the
# benchmark never bit-rots; only "verify ok" is checked (figures: adio_daos/README.md).
set -e
mpiexec=$1; lib=$2; bench=$3
if [ -n "$4" ]; then lib="$4:$lib"; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-nb-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$mpiexec" -n 2 -genv LD_PRELOAD "$lib" -genv DAOS_POOL "$dir/pool" -genv DAOS_CONT nb \
  "$bench" daos:/nb.dat 64 1 | tee "$dir/out"
grep -q "verify ok" "$dir/out"
"$mpiexec" -n 2 "$bench" "$dir/plain.dat" 64 1 | tee "$dir/out"
grep -q "verify ok" "$dir/out"

#!/bin/sh
# run_preload.sh MPIEXEC NP LIB APP [FIRST]: runs the unmodified APP under
# `mpiexec -genv LD_PRELOAD LIB` on a daos: file in a fresh pool directory, then on a plain file
# (pass-through), and checks that the first was served by edaos and the second by the MPI
# library. FIRST (sanitizer builds: the ASan runtime) is preloaded before LIB.
set -e
mpiexec=$1; np=$2; lib=$3; app=$4
if [ -n "$5" ]; then lib="$5:$lib"; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-preload-XXXXXX")
trap 'rm -rf "$dir"' EXIT
out=$("$mpiexec" -n "$np" -genv LD_PRELOAD "$lib" -genv DAOS_POOL "$dir/pool" \
      -genv DAOS_CONT preload -genv ROMIO_PRINT_HINTS 1 "$app" daos:/preload.dat)
echo "$out"
# ROMIO_PRINT_HINTS: rank 0 prints the hints at open, in ROMIO's format.
echo "$out" | grep -q "^key = cb_buffer_size" || { echo "no ROMIO_PRINT_HINTS output"; exit 1; }
echo "$out" | grep -q "fstype: EDAOS" || { echo "daos: file not served by edaos"; exit 1; }
echo "$out" | grep -q "verify: ok" || exit 1
out=$("$mpiexec" -n "$np" -genv LD_PRELOAD "$lib" "$app" "$dir/plain.dat")
echo "$out"
echo "$out" | grep -q "fstype: EDAOS" && { echo "plain file served by edaos"; exit 1; }
echo "$out" | grep -q "verify: ok" || exit 1
test -s "$dir/plain.dat"

#!/bin/sh
# run_app.sh MPIEXEC NP APP: runs APP (linked with libedaos_mpio) on a daos: file in a fresh
# pool directory, then on a plain file in the same temp dir (pass-through to MPICH's ROMIO).
set -e
mpiexec=$1; np=$2; app=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-app-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$mpiexec" -n "$np" -genv DAOS_POOL "$dir/pool" -genv DAOS_CONT apps "$app" daos:/out.dat
"$mpiexec" -n "$np" "$app" "$dir/plain.dat"
test -s "$dir/plain.dat"

#!/bin/bash
# The connector as a plugin: an unmodified HDF5 program writes a file through it, then HDF5's
# own h5dump reads that file through it; the dump must match the expected text.
#   plugin_h5dump.sh <mpiexec> <plain_hdf5> <h5dump> <plugin dir> <expected dump> [<preload>]
# <preload>: the ASan runtime in sanitizer builds (the programs are not instrumented, the
# plugin is).
set -eu
MPIEXEC=$1 PROG=$2 H5DUMP=$3 PLUGIN_DIR=$4 EXPECTED=$5 PRELOAD=${6:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edaos-h5plugin-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export EDAOS_POOL=$WORK/pool HDF5_VOL_CONNECTOR=edaos HDF5_PLUGIN_PATH=$PLUGIN_DIR
genv=()
[ -n "$PRELOAD" ] && genv=(-genv LD_PRELOAD "$PRELOAD")
"$MPIEXEC" "${genv[@]}" -n 1 "$PROG" dump.h5
"$MPIEXEC" "${genv[@]}" -n 1 "$H5DUMP" -d /data -A 0 dump.h5 >dump.txt 2>dump.err || { cat dump.err; exit 1; }
"$MPIEXEC" "${genv[@]}" -n 1 "$H5DUMP" --vol-name=edaos -d /data dump.h5 >dump2.txt 2>dump2.err || { cat dump2.err; exit 1; }
diff -u "$EXPECTED" dump.txt
grep -q '"units"' dump2.txt || { echo "attribute missing from h5dump --vol-name output"; cat dump2.txt; exit 1; }
echo "h5dump output matches"

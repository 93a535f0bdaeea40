#!/usr/bin/env bash
# The Aurora guide's DFS example as a user builds and runs it: installs the build tree into a
# temporary prefix, compiles guide_dfs_example.c with `pkg-config --cflags --libs edaos-daos`
# (the -ldaos -ldfs equivalent), creates a pool and one POSIX container per run with the edaos
# tool, runs the example at 1, 2, 3 and 4 ranks with DAOS_POOL / DAOS_CONT set as on Aurora,
# and checks every byte it wrote from a separate job (guide_check.c).
#   guide_example.sh <build dir> <test source dir> <mpiexec>
set -euo pipefail
build=$1 src=$2 mpiexec=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edaos-guide-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs edaos-daos)
echo "pkg-config --cflags --libs edaos-daos: $flags"
for prog in guide_dfs_example guide_check; do
  mpicc -o "$tmp/$prog" "$src/$prog.c" $flags -Wl,-rpath,"$tmp/prefix/lib"
done
cd "$tmp"
edaos=$tmp/prefix/bin/edaos
"$edaos" pool create --engines 4 --targets 2 ./pool >/dev/null
export DAOS_POOL=pool  # a label, resolved in the current directory
for np in 1 2 3 4; do
  "$edaos" container create --type=POSIX pool "guide$np" >/dev/null
  DAOS_CONT="guide$np" "$mpiexec" -n "$np" "$tmp/guide_dfs_example"
  "$mpiexec" -n 1 "$tmp/guide_check" pool "guide$np" "$np"
done

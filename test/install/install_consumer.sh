#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds downstream programs against it,
# with find_package(edaos [COMPONENTS daos]) and with pkg-config (edaos, edaos-daos), and runs
# them.
#   install_consumer.sh <build dir> <source dir of the consumer> <mpiexec>
set -euo pipefail
build=$1 src=$2 mpiexec=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/edaos-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src" -B "$tmp/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_RPATH="$tmp/prefix/lib" >/dev/null
cmake --build "$tmp/cmake-build" >/dev/null
"$mpiexec" -n 1 "$tmp/cmake-build/consumer" "$tmp/pool1"
"$mpiexec" -n 1 "$tmp/cmake-build/daos_consumer" "$tmp/pool1" cmake-cont
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
mpicc -o "$tmp/pc-consumer" "$src/consumer.c" $(pkg-config --cflags --libs edaos) \
      -Wl,-rpath,"$tmp/prefix/lib"
"$mpiexec" -n 1 "$tmp/pc-consumer" "$tmp/pool2"
mpicc -o "$tmp/pc-daos-consumer" "$src/daos_consumer.c" $(pkg-config --cflags --libs edaos-daos) \
      -Wl,-rpath,"$tmp/prefix/lib"
"$mpiexec" -n 2 "$tmp/pc-daos-consumer" "$tmp/pool2" pc-cont-$$

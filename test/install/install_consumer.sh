#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds two downstream programs
# against it, one with find_package(edaos) and one with pkg-config, and runs them.
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
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
mpicc -o "$tmp/pc-consumer" "$src/consumer.c" $(pkg-config --cflags --libs edaos) \
      -Wl,-rpath,"$tmp/prefix/lib"
"$mpiexec" -n 1 "$tmp/pc-consumer" "$tmp/pool2"

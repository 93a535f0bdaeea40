#!/usr/bin/env bash
# Configures and builds edaos in ${EDAOS_BUILD_DIR:-build} (after installing what is missing).
# Extra arguments go to cmake's configure step, e.g. -DEDAOS_SANITIZE="address;undefined".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${EDAOS_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DEDAOS_WERROR=ON \
  -DEDAOS_DEPS_PREFIX="${EDAOS_DEPS_PREFIX:-/opt/edaos-deps}" "$@" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
echo "[build] configured $build ($(grep -E 'HDF5|ISA' "$build.configure.log" | tr '\n' ' '))"
if ! cmake --build "$build" -j "$(nproc)" >"$build.build.log" 2>&1; then
  grep -E -A8 "error|FAILED" "$build.build.log" | head -n 150
  echo "[build] FAILED (full log: $build.build.log)"
  exit 1
fi
echo "[build] built $build"

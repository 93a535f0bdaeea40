#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the demo MPI job on the default
# pool (./edaos-pool under the directory you run it from, or $EDAOS_POOL).
#   EDAOS_DEMO_RANKS  ranks of the demo job (default 4)
set -euo pipefail
here=$(pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/build.sh"
build=${EDAOS_BUILD_DIR:-build}
case $build in /*) ;; *) build=$repo/$build ;; esac
ranks=${EDAOS_DEMO_RANKS:-4}
cd "$here"
echo "[demo] mpiexec -n $ranks edaos-demo   (pool: ${EDAOS_POOL:-${DAOS_POOL:-./edaos-pool}})"
exec mpiexec -n "$ranks" "$build/objstore/tools/edaos-demo" "$@"

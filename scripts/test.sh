#!/usr/bin/env bash
# The test suite: installs what is missing, builds, runs every ctest test. The last lines are
# ctest's summary. Extra arguments go to ctest (e.g. -L unit, -R hints).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
t0=$(date +%s)
bash scripts/build.sh
echo "[test] dependencies + build: $(( $(date +%s) - t0 )) s"
cd "${EDAOS_BUILD_DIR:-build}"
exec ctest --output-on-failure -j 2 "$@"

#!/usr/bin/env bash
# Fixture of the benchmark smoke tests: fresh pools (8 engines) <dir>/<name> for each name,
# made with the edaos tool so no test depends on a pool being created inside MPI_File_open.
#   make_pools.sh <edaos tool> <dir> <name>...
set -euo pipefail
tool=$1 dir=$2
shift 2
mkdir -p "$dir"
for n in "$@"; do
  rm -rf "${dir:?}/$n"
  "$tool" pool create --engines=8 --targets=1 "$dir/$n" >/dev/null
done

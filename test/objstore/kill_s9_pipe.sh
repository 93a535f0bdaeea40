#!/usr/bin/env bash
# Kill drill of commit pipelining (pipe_job_s9_pipe.cpp): a job writes and syncs IOR-hard pieces
# directly, then is killed with SIGKILL while its later writes' commits are in flight; a new job
# (direct, then through the engines) finds every synced byte and never reads unsynced bytes
# that are neither old nor new.
#   kill_s9_pipe.sh <mpiexec> <pipe_job_s9_pipe> [ranks]
set -euo pipefail
mpiexec=$1 prog=$2 np=${3:-2}
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-s9pipe-XXXXXX")
trap 'rm -rf "$dir"' EXIT
pool=$dir/pool
set +e
out=$(EDAOS_DIRECT=1 EDAOS_DIRECT_PIPELINE=8 "$mpiexec" -n "$np" "$prog" write "$pool" 2>&1)
rc=$?
set -e
echo "$out" | grep -v "^$" | head -n 20
echo "$out" | grep -q "^acknowledged and synced" || { echo "writer did not sync (rc $rc)"; exit 1; }
[ "$rc" -ne 0 ] || { echo "writer was expected to die"; exit 1; }
if echo "$out" | grep -q "the unsynced writes returned"; then
  echo "the writes were not pipelined (the kill point was never reached)"; exit 1
fi
EDAOS_DIRECT=1 "$mpiexec" -n "$np" "$prog" verify "$pool"
EDAOS_DIRECT=0 "$mpiexec" -n "$np" "$prog" verify "$pool"

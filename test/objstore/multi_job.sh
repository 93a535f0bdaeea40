#!/usr/bin/env bash
# Multi-job objstore scenarios, each a sequence of separate mpiexec runs on one pool directory.
#   multi_job.sh <mpiexec> <objstore_job> restart|kill|sync-kill|in-use|direct-kill
set -euo pipefail
mpiexec=$1 prog=$2 scenario=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-multijob-XXXXXX")
trap 'rm -rf "$dir"' EXIT
pool=$dir/pool

case $scenario in
  restart)
    # Job 1 (2 ranks) writes and ends normally; job 2 (3 ranks) reads it all back.
    "$mpiexec" -n 2 "$prog" write "$pool"
    "$mpiexec" -n 3 "$prog" verify "$pool"
    ;;
  kill | sync-kill)
    # Job 1 acknowledges its writes, then every rank is killed with SIGKILL (no disconnect;
    # sync-kill: each rank synced the engines it wrote first, which is all a sync asks).
    # Job 2 must find every acknowledged byte.
    sync=""
    [ "$scenario" = sync-kill ] && sync=--sync
    set +e
    out=$("$mpiexec" -n 2 "$prog" write "$pool" $sync --kill 2>&1)
    rc=$?
    set -e
    echo "$out" | grep -v "^$" | head -n 20
    echo "$out" | grep -q "^acknowledged" || { echo "writer did not acknowledge (rc $rc)"; exit 1; }
    [ "$rc" -ne 0 ] || { echo "writer was expected to die"; exit 1; }
    "$mpiexec" -n 2 "$prog" verify "$pool"
    ;;
  direct-kill)
    # Job 1 writes (directly into the shard files: one node), syncs, then overwrites the middle
    # of its regions and is killed with SIGKILL between that data and its commit. Job 2: every
    # synced byte reads back exactly; a unit of the unsynced overwrite reads as the old data or
    # fails with a checksum error, never as other bytes.
    set +e
    out=$(EDAOS_DIRECT=1 "$mpiexec" -n 2 "$prog" write "$pool" --sync --kill-uncommitted 2>&1)
    rc=$?
    set -e
    echo "$out" | grep -v "^$" | head -n 20
    echo "$out" | grep -q "^acknowledged" || { echo "writer did not acknowledge (rc $rc)"; exit 1; }
    [ "$rc" -ne 0 ] || { echo "writer was expected to die"; exit 1; }
    EDAOS_DIRECT=1 "$mpiexec" -n 2 "$prog" verify "$pool" --uncommitted
    EDAOS_DIRECT=0 "$mpiexec" -n 2 "$prog" verify "$pool" --uncommitted
    ;;
  in-use)
    # Job 1 holds the pool; job 2 must get "pool in use by <host>:<pid>"; after job 1 ends,
    # a third job connects fine.
    "$mpiexec" -n 2 "$prog" write "$pool" --hold "$dir/release" &
    holder=$!
    for _ in $(seq 1 600); do [ -f "$pool.ready" ] && break; sleep 0.1; done
    [ -f "$pool.ready" ] || { echo "holder job never became ready"; kill $holder; exit 1; }
    set +e
    "$mpiexec" -n 1 "$prog" expect-busy "$pool"
    rc=$?
    set -e
    touch "$dir/release"
    wait $holder
    [ "$rc" -eq 0 ] || { echo "second job did not get a clear pool-in-use error"; exit 1; }
    "$mpiexec" -n 1 "$prog" verify "$pool"
    ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

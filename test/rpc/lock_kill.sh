#!/usr/bin/env bash
# A stripe-lock holder that dies (lock_kill_job.cpp), then the whole stripe checked:
#   lock_kill.sh <mpiexec> <lock_kill_job> <fault_job> exit|sigkill
# 1. fault_job setup: EC_2P1G1 object with 4 KiB cells filled with pattern A.
# 2. one job of 3 ranks (-disable-auto-cleanup: the job outlives rank 1): rank 1 dies holding
#    the lock of stripe 0 (exit: inside its partial write, data cell written, parity not;
#    sigkill: SIGKILL, from rank 2, at a random point of a loop of partial writes); rank 2's
#    partial write to the same stripe must complete (not time out after EDAOS_RPC_TIMEOUT=30)
#    and read back.
# 3. recovery off, each engine down in turn: every read of the object succeeds with pattern A
#    outside [0, 6000) and A or B inside (the stripe is consistent: rank 2's write re-encoded
#    its parity over the dead holder's torn cell).
set -euo pipefail
mpiexec=$1 prog=$2 fault_job=$3 mode=$4
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-lockkill-XXXXXX")
# Rank 0 serves until this file exists (or 150 s): a failed run leaves no server behind.
trap 'touch "$dir/pool.lock-kill-done"; sleep 0.2; rm -rf "$dir"' EXIT
pool=$dir/pool
export EDAOS_SERVER_RANKS=${EDAOS_SERVER_RANKS:-*:1}

"$mpiexec" -n 1 "$fault_job" setup "$pool" >/dev/null
set +e
# Each rank under a shell that turns a death by signal into exit status 3 (hydra ends the whole
# job when one of its processes dies of a signal, -disable-auto-cleanup or not) and ignores the
# SIGUSR1 hydra sends the survivors of a failed process.
out=$(EDAOS_RPC_TIMEOUT=30 timeout -s KILL 200 "$mpiexec" -disable-auto-cleanup -n 3 \
  bash -c 'trap "" USR1; "$0" "$@" || exit 3' "$prog" "$pool" "$mode" 2222 2>&1)
rc=$?
set -e
echo "$out" | grep -v "^$" | head -n 20
echo "job exit status $rc (rank 1 was expected to die)"
if ! echo "$out" | grep -q "^lock-kill: write done in .* read back ok"; then
  echo "FAIL: the partial-stripe write after the holder's death did not complete"
  exit 1
fi
fails=0
for down in "" 0 1 2 3 4 5; do
  rc=0
  vout=$(EDAOS_TEST_FAULT=no-recovery EDAOS_ENGINES_DOWN=$down \
    "$mpiexec" -n 1 "$fault_job" verify "$pool" EC_2P1G1 0 6000 --all-ok 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: verify with engines down '$down' (rc $rc)"
    echo "$vout" | head -n 8
    fails=$((fails + 1))
  fi
done
[ "$fails" -eq 0 ] || exit 1
echo "all checks passed"

#!/usr/bin/env bash
# Session 11: readers of meta.mdb killed -9 (vos/README.md "Readers of meta.mdb", "Stale slots").
# Client ranks of a job stat files through the engines' meta.mdb themselves (a reader slot each
# in meta.mdb-lock); the job is killed -9 in the middle of its stat phase, three times. Another
# user keeps each lock file in use meanwhile (fault_helper share-lock: as a process of the node
# still using the environment would), so LMDB does not re-initialise the reader table at the
# next open and the killed readers' slots are still there. Each next job's owner must clear
# them (mdb_reader_check: "N reader slot(s) of dead processes cleared" in its log), meta.mdb
# must not grow from cycle to cycle, and the files read back right after the three kills.
#   fault_s11_readers.sh <edaos> <mpiexec> <edaos-mdtest> <fault_helper>
EDAOS=$1 MPIEXEC=$2 MDTEST=$3 HELPER=$4
source "$(dirname "$0")/lib.sh"

run_ok "$EDAOS" pool create --engines 2 --targets 1 pr
run_ok "$EDAOS" container create pr c
mdtest() {  # mdtest ARGS...: one job of 3 ranks, rank 0 serving both engines
  "$MPIEXEC" -n 3 "$MDTEST" -a DFS --dfs.pool "$T/pr" --dfs.cont c -d daos:/m -n 300 -w 64 -F "$@"
}
EDAOS_LOG=warn mdtest -C >out.c 2>err.c || bad "create phase: $(tail -n 3 err.c)"

# The lock files exist once a job has opened the engines; another user keeps them in use.
exec 7> >("$HELPER" share-lock pr/engine-0000/meta.mdb-lock pr/engine-0001/meta.mdb-lock >held)
for i in $(seq 1 200); do [ -s held ] && break; sleep 0.05; done
check 'grep -q "^held$" held' "share-lock: $(cat held)"

# Waits (up to 120 s) until the shell test $1 holds.
wait_until() {
  local i
  for i in $(seq 1 2400); do
    if eval "$1"; then return 0; fi
    sleep 0.05
  done
  return 1
}
# The ranks of the job started as process $1: its descendants running edaos-mdtest (each rank
# is a process group of its own under the launcher's proxy, so the job is killed rank by rank).
ranks_of() {
  local p
  for p in $(pgrep -P "$1"); do
    if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = edaos-mdtest ]; then echo "$p"; fi
    ranks_of "$p"
  done
}
# Ranks of job $1 that have an engine's meta.mdb-lock mapped.
mapping_lock() {
  local p n=0
  for p in $(ranks_of "$1"); do
    if grep -q "/meta.mdb-lock" "/proc/$p/maps" 2>/dev/null; then n=$((n + 1)); fi
  done
  echo $n
}
sizes=""
for cycle in 1 2 3; do
  rm -f err.k
  # Stats until killed (many iterations), ranks 1 and 2 reading meta.mdb themselves.
  EDAOS_LOG=warn mdtest -T -i 100000 >out.k 2>err.k &
  job=$!
  # Killed once every rank has meta.mdb-lock mapped (the owner and both readers): the readers'
  # slots are taken, the stat phase is running.
  check 'wait_until "[ \$(mapping_lock $job) -ge 3 ] || ! kill -0 $job 2>/dev/null"' \
    "cycle $cycle: no reader of meta.mdb in the stat job"
  check 'kill -0 $job 2>/dev/null' "cycle $cycle: the stat job ended early: $(tail -n 3 err.k)"
  kill -9 $(ranks_of $job) 2>/dev/null || true
  wait $job 2>/dev/null || true
  # The next job: the owners open (clearing the dead readers' slots), files are created and
  # removed (LMDB commits that would need new pages while a stale slot pinned a snapshot).
  EDAOS_LOG=info mdtest -d daos:/n$cycle -C -r >out.n 2>err.n || bad "cycle $cycle: $(tail -n 3 err.n)"
  cleared=$(sed -n 's/.*: \([0-9]*\) reader slot(s) of dead processes cleared (open).*/\1/p' err.n |
    awk '{s += $1} END {print s + 0}')
  s=$(($(stat -c %s pr/engine-0000/meta.mdb) + $(stat -c %s pr/engine-0001/meta.mdb)))
  sizes="$sizes $s"
  echo "cycle $cycle: $cleared slot(s) of killed readers cleared at open; meta.mdb $s bytes"
  check '[ "$cleared" -ge 1 ]' "cycle $cycle: no slot of the killed readers was cleared"
done
exec 7>&-
# The files of the first job, after three kills of their readers (one job: 2 s here).
EDAOS_LOG=warn mdtest -E -e 64 >out.r 2>err.r || bad "read: $(tail -n 3 err.r)"
check 'grep -q "^Verification of file contents: passed (0 files differ)$" out.r' \
  "files differ: $(grep Verification out.r)"
read -r first _ third <<<"$sizes"
# Growth from the first cycle to the third: a stale slot pinning a snapshot keeps every page
# freed after it from being reused (vos/README.md: 148 MiB after 6000 commits without the check).
check '[ $third -le $((first + 1048576)) ]' "meta.mdb grew from $first to $third bytes over the kill cycles"
finish

#!/usr/bin/env bash
# Pool creation and connection races (issue 13 item 1, issue 12).
#  - Every rank opens its own file on MPI_COMM_SELF while the pool does not exist yet (4 and 6
#    ranks, repeated): creation is atomic and idempotent, every open succeeds.
#  - Two jobs doing that at once on one fresh pool: the pool is created once and complete; a
#    job either succeeds or gets the clear "pool in use by host:pid".
#  - Two jobs started at the same moment on one existing pool, each holding it: exactly one
#    wins, the other gets "pool in use by host:pid", and nothing stays locked.
#   fault_races.sh <mpiexec> <libedaos_mpio> <fault_app> <edaos> [rounds]
MPIEXEC=$1 MPIO=$2 APP=$3 EDAOS=$4 ROUNDS=${5:-4}
source "$(dirname "$0")/lib.sh"

mpiio() {  # mpiio POOL NP ARGS...
  local pool=$1 np=$2
  shift 2
  "$MPIEXEC" -n "$np" -genv LD_PRELOAD "$MPIO" -genv DAOS_POOL "$pool" -genv DAOS_CONT c "$APP" "$@"
}

note "COMM_SELF opens on a pool that does not exist yet"
for np in 4 6; do
  for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$T/self"
    rc=0
    mpiio "$T/self" "$np" self daos:/f >out.s 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then bad "np $np round $r: $(grep -v '^$' out.s | head -3)"; continue; fi
    run_ok "$EDAOS" fs ls "daos://$T/self/c/"
    check '[ "$(wc -l <out)" -eq "$np" ]' "np $np round $r: files: $(tr '\n' ' ' <out)"
  done
done

note "two jobs creating the same pool at once"
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$T/two"
  mpiio "$T/two" 3 self daos:/a >out.a 2>&1 &
  pa=$!
  mpiio "$T/two" 3 self daos:/b >out.b 2>&1 &
  pb=$!
  ra=0 rb=0
  wait $pa || ra=$?
  wait $pb || rb=$?
  for j in a b; do
    f=out.$j
    if ! grep -q "^ok$" $f && grep -v "pool in use by [^ ]*:[0-9]*" $f | grep -q "open daos"; then
      bad "round $r job $j failed without 'pool in use': $(grep -v '^$' $f | head -3)"
    fi
  done
  check '[ $ra -eq 0 ] || [ $rb -eq 0 ]' "round $r: both jobs failed"
  run_ok "$EDAOS" pool query "$T/two"
  check '[ -f "$T/two/POOL" ] && [ ! -e "$T/two/CREATING" ]' "round $r: pool incomplete"
done

note "two jobs started at the same moment on one existing pool"
# More engines than the default: a longer window in which two jobs could split their locks.
run_ok "$EDAOS" pool create --engines 16 --targets 1 "$T/held"
run_ok mpiio "$T/held" 2 write daos:/seed.dat 1000
# Waits (up to 120 s) until the shell test $1 holds.
wait_until() {
  local i
  for i in $(seq 1 2400); do
    if eval "$1"; then return 0; fi
    sleep 0.05
  done
  return 1
}
for r in $(seq 1 "$ROUNDS"); do
  # Both jobs open at the same instant: once both have started (each says so in ready.<job>),
  # the script creates `go`, which every rank of both polls for (1 ms). Before session 11 they
  # opened at a fixed moment 4 s ahead. The winner keeps the file open until `release` (the
  # loser has finished: its 2 s retry of the held lock is over), at most 8 s as before; were
  # both to win, neither finishes before those 8 s and the round fails as before.
  rm -f go release ready.a ready.b
  export FAULT_APP_GO=$T/go FAULT_APP_RELEASE=$T/release
  FAULT_APP_READY=$T/ready.a mpiio "$T/held" 2 hold daos:/h.dat 8 >out.a 2>&1 &
  pa=$!
  FAULT_APP_READY=$T/ready.b mpiio "$T/held" 2 hold daos:/h.dat 8 >out.b 2>&1 &
  pb=$!
  check 'wait_until "[ -e ready.a ] && [ -e ready.b ] || ! kill -0 $pa 2>/dev/null || ! kill -0 $pb 2>/dev/null"' \
    "round $r: the jobs did not start"
  touch go
  wait_until "! kill -0 $pa 2>/dev/null || ! kill -0 $pb 2>/dev/null" || true
  touch release
  ra=0 rb=0
  wait $pa || ra=$?
  wait $pb || rb=$?
  wins=0
  for j in a b; do
    if grep -q "^opened$" out.$j && grep -q "^ok$" out.$j; then
      wins=$((wins + 1))
    elif ! grep -q "pool in use by [^ ]*:[0-9]*" out.$j; then
      bad "round $r job $j: neither won nor got 'pool in use by host:pid': $(grep -v '^$' out.$j | head -3)"
    fi
  done
  echo "round $r: exits $ra $rb, $wins winner(s): $(grep -ho 'pool in use by [^ ]*' out.a out.b | head -1)"
  check '[ $wins -eq 1 ]' "round $r: $wins jobs won (want exactly 1)"
  # The loser left nothing locked: a new job connects at once.
  run_ok "$EDAOS" pool query "$T/held"
done
unset FAULT_APP_GO FAULT_APP_RELEASE
finish

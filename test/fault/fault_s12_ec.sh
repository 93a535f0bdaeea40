#!/usr/bin/env bash
# Kill drill of direct partial-stripe writes whose finish is not waited (session 12; client/
# README.md "Partial stripes: the finish not waited"), a sequence of separate jobs
# (test/objstore/fault_job.cpp):
#   fault_s12_ec.sh <mpiexec> <fault_job>
# 1. setup (a pool per range): objects of EC_2P1G1 and EC_4P2G1 (4 KiB cells), pattern A.
# 2. a job with EDAOS_DIRECT_PARTIAL_ASYNC=1 overwrites a range with pattern B on the direct path
#    and stops (EDAOS_TEST_FAULT=ec-partial-finish-sent, _exit as kill -9 there would) right
#    after its first step returned: its cells are in the shard files, its finish (and, for a
#    one-step range, the stripe's unlock) sent or not yet on the wire, nothing answered. The
#    stripe lock dies with the process (the server releases it, the intent stays).
# 3. with recovery off, with no engine and with every engine (2+1) or pair (4+2) treated as
#    down: every read succeeds (each cell settles to the record its bytes match), A outside the
#    range, A or B inside. 4. the same with recovery on (the intent re-encoded), no engine
#    down.
# Ranges: one step of EC_2P1G1 and of EC_4P2G1, and a range across two cells of EC_2P1G1
# (two steps of p = 1 cell: stopped after the first, the stripe half new).
set -euo pipefail
mpiexec=$1 prog=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-s12ec-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fails=0

run() { "$mpiexec" -n 1 "$prog" "$@"; }

verify_all() {  # <class> <off> <len> <downsets...>; $VERIFY_FAULT
  local cls=$1 off=$2 len=$3 out rc
  shift 3
  for down in "$@"; do
    rc=0
    out=$(EDAOS_TEST_FAULT=${VERIFY_FAULT:-} EDAOS_ENGINES_DOWN=$down \
      run verify "$pool" "$cls" "$off" "$len" --all-ok 2>&1) || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAIL: $cls [$off, $((off + len))) down='$down' rc=$rc"
      echo "$out" | head -n 8
      fails=$((fails + 1))
    fi
  done
}

interrupted() {  # <class> <off> <len>
  local rc=0 out
  out=$(EDAOS_DIRECT_PARTIAL_ASYNC=1 EDAOS_TEST_FAULT=ec-partial-finish-sent \
    run write "$pool" "$1" "$2" "$3" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] || ! echo "$out" | grep -q "EDAOS_TEST_FAULT: process stopped after a direct partial-stripe write returned"; then
    echo "FAIL: the writer was not stopped with its finish in flight (rc $rc): $out"
    exit 1
  fi
  echo "writer stopped with its finish in flight ($1 [$2, $(($2 + $3))))"
}

singles="0 1 2 3 4 5"
pairs=""
for a in 0 1 2 3 4 5; do for b in 0 1 2 3 4 5; do [ "$a" -lt "$b" ] && pairs="$pairs $a,$b"; done; done

n=0
for spec in "EC_2P1G1 5000 100" "EC_4P2G1 5000 100" "EC_2P1G1 12200 200"; do
  # A pool of its own per range: the verification expects pattern A outside it.
  n=$((n + 1))
  pool=$dir/pool$n
  run setup "$pool" >/dev/null
  set -- $spec
  if [ "$1" = EC_2P1G1 ]; then downs="$singles"; else downs="$pairs"; fi
  interrupted "$1" "$2" "$3"
  VERIFY_FAULT=no-recovery verify_all "$1" "$2" "$3" "" $downs
  # After recovery (the intent re-encoded), every engine up (the suite's time: the states
  # before recovery are the ones this window adds; objstore_s8_ec_fault.before-finish checks
  # recovery with engines down).
  verify_all "$1" "$2" "$3" ""
done

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"

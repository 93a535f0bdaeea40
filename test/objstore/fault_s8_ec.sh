#!/usr/bin/env bash
# Kill drills of direct partial-stripe writes (session 8; objstore/README.md "Stripe versions
# and the write hole"), each a sequence of separate jobs on one pool (fault_job.cpp):
#   fault_s8_ec.sh <mpiexec> <fault_job> before-finish
# 1. setup: objects of EC_2P1G1 and EC_4P2G1 filled with pattern A.
# 2. a job overwrites [5000, 5100) with pattern B on the direct path and stops
#    (EDAOS_TEST_FAULT=ec-partial-before-finish, as kill -9 there would) after its data and
#    parity cells are in the shard files and before its finish: the records are pending.
# 3. with recovery off, with no engine and with every engine (2+1) or pair (4+2) treated as
#    down: every read must succeed (each cell settles to the record its bytes match: the new
#    one everywhere, one consistent version), A outside the range, A or B inside.
# 4. the same with recovery on (the intent the writer left is re-encoded).
set -euo pipefail
mpiexec=$1 prog=$2 scenario=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-s8ec-XXXXXX")
trap 'rm -rf "$dir"' EXIT
pool=$dir/pool
fails=0

run() { "$mpiexec" -n 1 "$prog" "$@"; }

verify_all() {  # <class> <off> <len> <downsets...>; $VERIFY_FAULT, $ALL_OK
  local cls=$1 off=$2 len=$3 out rc
  shift 3
  for down in "$@"; do
    rc=0
    out=$(EDAOS_TEST_FAULT=${VERIFY_FAULT:-} EDAOS_ENGINES_DOWN=$down \
      run verify "$pool" "$cls" "$off" "$len" ${ALL_OK:-} 2>&1) || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "FAIL: $cls down='$down' rc=$rc"
      echo "$out" | head -n 8
      fails=$((fails + 1))
    fi
  done
}

interrupted() {  # <fault> <class> <off> <len>
  local rc=0 out
  out=$(EDAOS_TEST_FAULT=$1 run write "$pool" "$2" "$3" "$4" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ] || ! echo "$out" | grep -q "EDAOS_TEST_FAULT: process stopped"; then
    echo "FAIL: the writer was not stopped by EDAOS_TEST_FAULT=$1 (rc $rc): $out"
    exit 1
  fi
  echo "writer stopped ($1, $2 [$3, $(($3 + $4))))"
}

singles="0 1 2 3 4 5"
pairs=""
for a in 0 1 2 3 4 5; do for b in 0 1 2 3 4 5; do [ "$a" -lt "$b" ] && pairs="$pairs $a,$b"; done; done

run setup "$pool" >/dev/null

case $scenario in
  before-finish)
    interrupted ec-partial-before-finish EC_2P1G1 5000 100
    VERIFY_FAULT=no-recovery ALL_OK=--all-ok verify_all EC_2P1G1 5000 100 "" $singles
    ALL_OK=--all-ok verify_all EC_2P1G1 5000 100 "" $singles
    interrupted ec-partial-before-finish EC_4P2G1 5000 100
    VERIFY_FAULT=no-recovery ALL_OK=--all-ok verify_all EC_4P2G1 5000 100 "" $pairs
    ALL_OK=--all-ok verify_all EC_4P2G1 5000 100 "" $pairs
    ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"

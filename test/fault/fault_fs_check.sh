#!/usr/bin/env bash
# `edaos fs check` knows the MPI-IO driver's lock / shared-file-pointer object (issue 12): a
# container that MPI-IO used with atomic mode and shared pointers reports no leaked object,
# also after a job was killed with the file open, and --remove leaves the lock object alone.
#   fault_fs_check.sh <edaos> <mpiexec> <libedaos_mpio> <fault_app>
EDAOS=$1 MPIEXEC=$2 MPIO=$3 APP=$4
source "$(dirname "$0")/lib.sh"

mpiio() {
  local np=$1
  shift
  "$MPIEXEC" -n "$np" -genv LD_PRELOAD "$MPIO" -genv DAOS_POOL "$T/p" -genv DAOS_CONT c "$APP" "$@"
}
run_ok mpiio 2 shared daos:/shared.log
rc=0
mpiio 2 shared daos:/killed.log kill >out.k 2>&1 || rc=$?
check '[ $rc -ne 0 ] && grep -q "killing with the file open" out.k' "the job was not killed: $(cat out.k)"
run_ok "$EDAOS" fs check p c
grep -q "Number of leaked OIDs in namespace = 0$" out || bad "fs check: $(cat out)"
run_ok "$EDAOS" fs check --remove p c
grep -q "Number of leaked OIDs in namespace = 0$" out || bad "fs check --remove: $(cat out)"
# The lock object still works: the next job's shared-pointer writes go through.
run_ok mpiio 2 shared daos:/again.log
run_ok "$EDAOS" fs check p c
grep -q "Number of leaked OIDs in namespace = 0$" out || bad "fs check after reuse: $(cat out)"
finish

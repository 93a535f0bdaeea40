#!/usr/bin/env bash
# One daos: name grammar at every door (issue 14, issue 12 item 4, issue 13 item 8): the tool,
# the MPI-IO driver and the benchmarks resolve the same names to the same pool and container.
#  - daos://./p/c/x and daos://../c/x never turn a parent directory into a pool;
#  - daos:///abs/pool/cont/x and the README's daos://./edaos-pool/mycont/inputs work;
#  - DAOS_POOL may be a label (DAOS_POOL=datascience); DAOS_CONT and DAOS_CONTAINER are both
#    accepted, and refused when they differ.
#   fault_names.sh <edaos> <mpiexec> <libedaos_mpio> <fault_app> <edaos-ior> [<h5vol plugin dir>]
EDAOS=$1 MPIEXEC=$2 MPIO=$3 APP=$4 IOR=$5 H5VOL=${6:-}
source "$(dirname "$0")/lib.sh"

mpiio() {  # mpiio NP ARGS...: the MPI-IO program, driver preloaded, environment passed on
  local np=$1
  shift
  "$MPIEXEC" -n "$np" -genv LD_PRELOAD "$MPIO" "$APP" "$@"
}
ls_names() { (cd "$1" && ls -A | tr '\n' ' '); }

mkdir -p inputs/sub && echo hello >inputs/a.txt && head -c 100000 /dev/urandom >inputs/sub/b.bin
run_ok "$EDAOS" pool create --engines 4 --targets 1 ./edaos-pool
run_ok "$EDAOS" container create ./edaos-pool mycont

note "the README's forms through the tool"
run_ok "$EDAOS" fs copy --src ./inputs --dst daos://./edaos-pool/mycont/inputs
run_ok "$EDAOS" fs copy --src "daos://$T/edaos-pool/mycont/inputs" --dst "$T/back"
check 'diff -r inputs back >/dev/null' "copy out of daos:///abs/... differs"
run_ok "$EDAOS" fs ls daos://edaos-pool/mycont/inputs
check '[ "$(tr "\n" " " <out)" = "a.txt sub/ " ]' "bare name: $(cat out)"
run_ok "$EDAOS" fs cat "daos:///$T//edaos-pool//mycont/inputs/a.txt"
check '[ "$(cat out)" = hello ]' "repeated slashes: $(cat out)"
run_ok "$EDAOS" fs ls daos://./edaos-pool/mycont/
run_ok "$EDAOS" fs ls "daos://../$(basename "$T")/edaos-pool/mycont/inputs/"
check '[ "$(tr "\n" " " <out)" = "a.txt sub/ " ]' "../ form: $(cat out)"

note "daos://./p/c/x and daos://../c/x: no parent directory becomes a pool"
mkdir -p work/sub && echo keep >work/precious.txt
(cd work/sub && mpiio 1 write daos://./p/c/x 5000) >out.m 2>&1 || bad "daos://./p/c/x: $(cat out.m)"
check '[ "$(ls_names work/sub)" = "p " ] && [ -f work/sub/p/POOL ]' "cwd: $(ls_names work/sub)"
rc=0
(cd work/sub && mpiio 1 write daos://../c/x 5000) >out.m 2>&1 || rc=$?
check '[ $rc -ne 0 ] && grep -q "names no file" out.m' "daos://../c/x: $(head -c 300 out.m)"
check '[ "$(ls_names work)" = "precious.txt sub " ]' "parent: $(ls_names work)"
rc=0
(cd work/sub && mpiio 1 write daos://../precious.txt/c/x 5000) >out.m 2>&1 || rc=$?
check '[ $rc -ne 0 ] && grep -q "not a directory" out.m' "file as pool: $(head -c 300 out.m)"
(cd work/sub && "$EDAOS" fs ls daos://../c/x) >out 2>err || true
check 'grep -q "no pool at ../c" err' "tool on daos://../c/x: $(cat err)"
(cd work && mpiio 2 read daos://./sub/p/c/x 5000) >out.m 2>&1 || bad "read via ./sub/p: $(cat out.m)"
mpiio 2 read "daos://$T/work/sub/p/c/x" 5000 >out.m 2>&1 || bad "read via /abs: $(cat out.m)"
# Creation only in an empty or absent directory: MPI_MODE_CREATE never makes a non-empty one a
# pool.
mkdir -p full && echo keep >full/x
rc=0
DAOS_POOL=$T/full DAOS_CONT=c mpiio 1 write daos:/x 100 >out.m 2>&1 || rc=$?
check '[ $rc -ne 0 ] && grep -q "is not empty" out.m && [ "$(ls_names full)" = "x " ]' \
  "non-empty dir: $(ls_names full) $(head -c 300 out.m)"

note "pools by label in DAOS_POOL, DAOS_CONT / DAOS_CONTAINER"
run_ok "$EDAOS" pool create --label datascience --engines 4 --targets 1 ./ds-dir
run_ok "$EDAOS" container create datascience exp1
DAOS_POOL=datascience DAOS_CONTAINER=exp1 mpiio 2 write daos:/f.dat 70000 >out.m 2>&1 ||
  bad "DAOS_POOL=label DAOS_CONTAINER: $(cat out.m)"
DAOS_POOL=datascience DAOS_CONT=exp1 mpiio 2 read daos:/f.dat 70000 >out.m 2>&1 ||
  bad "DAOS_POOL=label DAOS_CONT: $(cat out.m)"
run_ok "$EDAOS" fs ls daos://datascience/exp1/
check '[ "$(cat out)" = f.dat ]' "label URI: $(cat out)"
check '[ ! -e datascience ]' "a pool directory named after the label was created"
rc=0
DAOS_POOL=datascience DAOS_CONT=exp1 DAOS_CONTAINER=other mpiio 1 read daos:/f.dat 70000 >out.m 2>&1 ||
  rc=$?
check '[ $rc -ne 0 ] && grep -q "DAOS_CONT=.exp1. and DAOS_CONTAINER=.other. name different containers" out.m' \
  "container conflict at MPI-IO: $(head -c 300 out.m)"
DAOS_POOL=datascience DAOS_CONT=exp1 DAOS_CONTAINER=other run_fail 2 \
  "container query: DAOS_CONT='exp1' and DAOS_CONTAINER='other' name different containers" \
  "$EDAOS" container query
DAOS_POOL=datascience DAOS_CONTAINER=exp1 run_ok "$EDAOS" container query
DAOS_POOL=datascience DAOS_CONT=exp1 DAOS_CONTAINER=exp1 run_ok "$EDAOS" container query

note "the benchmarks: edaos-ior -a DFS and -a MPIIO with the same names"
run_ok "$MPIEXEC" -n 2 "$IOR" -a DFS -b 64k -t 16k -w -r -W -k -o daos://./edaos-pool/mycont/ior.dfs
run_ok "$MPIEXEC" -n 2 "$IOR" -a DFS -b 64k -t 16k -r -R -k -o "daos://$T/edaos-pool/mycont/ior.dfs"
DAOS_POOL=datascience DAOS_CONTAINER=exp1 run_ok "$MPIEXEC" -n 2 "$IOR" -a DFS -b 64k -t 16k \
  -w -r -W -k -o daos:/ior.env
run_ok "$EDAOS" fs ls daos://datascience/exp1/
check 'grep -q "^ior.env$" out' "ior -a DFS with DAOS_POOL=label: $(cat out)"
run_ok "$MPIEXEC" -n 2 "$IOR" -a MPIIO -b 64k -t 16k -w -r -W -k \
  -o "daos://$T/edaos-pool/mycont/ior.mpiio"
run_ok "$EDAOS" fs ls daos://edaos-pool/mycont/
check 'grep -q "^ior.mpiio$" out && grep -q "^ior.dfs$" out' "ior files: $(tr '\n' ' ' <out)"
if [ -n "$H5VOL" ]; then
  note "the HDF5 connector: its pool is the same default pool, here a label"
  DAOS_POOL=datascience HDF5_VOL_CONNECTOR=edaos HDF5_PLUGIN_PATH=$H5VOL run_ok "$MPIEXEC" -n 2 \
    "$IOR" -a HDF5 -b 64k -t 16k -w -r -W -k -o daos:/vol.h5
  run_ok "$EDAOS" container list datascience
  check 'grep -q "vol.h5" out' "the connector's container is not in pool datascience: $(cat out)"
  check '[ ! -e datascience ] && [ ! -e edaos-pool/vol.h5 ]' "the connector made a pool of its own"
fi
finish

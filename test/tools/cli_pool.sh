#!/usr/bin/env bash
# edaos pool ...: help, usage errors, create, query (golden), labels, degraded view, pool in use,
# and the tool under mpiexec.
#   cli_pool.sh <edaos> <golden-dir> <cli_helper> <mpiexec>
source "$(dirname "$0")/lib.sh"
HELPER=$1 MPIEXEC=$2

note "help and version"
run_ok "$EDAOS" --help
grep -q "container create" "$T/out" || bad "--help lists no container create"
run_ok "$EDAOS" pool --help
run_ok "$EDAOS" pool create --help
grep -q -- "--engines" "$T/out" || bad "pool create --help has no --engines"
run_ok "$EDAOS" version
grep -q "^edaos version " "$T/out" || bad "version line"

note "usage errors (exit 2, one line)"
run_fail 2 "unknown command 'bogus'" "$EDAOS" bogus
run_fail 2 "pool: unknown command 'bogus'" "$EDAOS" pool bogus
run_fail 2 "pool create: unknown option --bogus" "$EDAOS" pool create --bogus=1 "$T/x"
run_fail 2 "pool create: expected one pool path" "$EDAOS" pool create
run_fail 2 "bad --engines 'abc'" "$EDAOS" pool create --engines=abc "$T/x"
run_fail 2 "option --targets needs a value" "$EDAOS" pool create "$T/x" --targets
run_fail 2 "10Q" "$EDAOS" pool create --size=10Q "$T/x"
run_fail 2 "bad pool label" "$EDAOS" pool create --label='a b' "$T/x"

note "create and query"
run_ok "$EDAOS" pool create --engines 8 --targets 2 "$T/p1"
golden pool_create.txt
run_fail 1 "exist" "$EDAOS" pool create --engines 8 --targets 2 "$T/p1"
run_ok "$EDAOS" pool query "$T/p1"
golden pool_query.txt
grep -q "^Pool [0-9a-f-]*, ntarget=16, disabled=0" "$T/out" || bad "pool query first line"
note "bare names: directory name, label, UUID, \$EDAOS_POOL / \$DAOS_POOL"
run_ok "$EDAOS" pool query p1
golden pool_query.txt
run_ok "$EDAOS" pool create --label tank --engines 4 --targets 1 "$T/dir-of-tank"
run_ok "$EDAOS" pool query tank
grep -q "Pool label: tank" "$T/out" || bad "label lookup"
uuid=$(sed -n 's/^Pool \([0-9a-f-]*\),.*/\1/p' "$T/out")
run_ok "$EDAOS" pool query "$uuid"
grep -q "Pool label: tank" "$T/out" || bad "UUID lookup"
EDAOS_POOL=$T/p1 run_ok "$EDAOS" pool query
grep -q "Pool label: p1" "$T/out" || bad "\$EDAOS_POOL default"
cd "$T"
run_ok env -u EDAOS_POOL DAOS_POOL=tank "$EDAOS" pool query
grep -q "Pool label: tank" "$T/out" || bad "\$DAOS_POOL label default"
run_fail 1 "no pool at" "$EDAOS" pool query "$T/none"
run_fail 2 "expected at most one pool" "$EDAOS" pool query a b

note "degraded view (engines down for this job)"
EDAOS_ENGINES_DOWN=3,4 run_ok "$EDAOS" pool query "$T/p1"
golden pool_query_degraded.txt

note "list-cont, exclude, reintegrate"
run_ok "$EDAOS" pool list-cont "$T/p1"
[ "$(cat "$T/out")" = "No containers." ] || bad "empty list-cont"
run_ok "$EDAOS" pool create --engines 6 --targets 2 "$T/px"
run_fail 2 "which engine" "$EDAOS" pool exclude "$T/px"
run_fail 2 "bad engine id 'x'" "$EDAOS" pool exclude --engine=1,x "$T/px"
run_fail 1 "engine 9 is not in the pool \(it has 6 engines, 0..5\)" \
  "$EDAOS" pool exclude --engine=9 "$T/px"
run_ok "$EDAOS" pool exclude --engine=2,3 "$T/px"
grep -q "^Engines 2,3 of pool px excluded (pool map version 2)" "$T/out" || { bad "exclude"; cat "$T/out"; }
run_ok "$EDAOS" pool query "$T/px"
grep -q "ntarget=12, disabled=4, leader=0, version=2, state=Degraded" "$T/out" || bad "excluded query"
grep -q "^- Disabled ranks: 2-3$" "$T/out" || bad "excluded ranks"
run_ok "$EDAOS" pool exclude --rank=3 "$T/px"
grep -q "version 2)" "$T/out" || bad "excluding again changes nothing"
run_fail 1 "reintegrate: not supported: reintegration needs a rebuild" \
  "$EDAOS" pool reintegrate --engine=3 "$T/p1"

note "pool in use by another job: exit 3"
"$HELPER" hold "$T/p1" "$T/release" &
holder=$!
for _ in $(seq 1 300); do [ -f "$T/p1.ready" ] && break; sleep 0.1; done
[ -f "$T/p1.ready" ] || bad "holder never became ready"
run_fail 3 "pool query: cannot connect to .*pool in use by [^ ]+:[0-9]+" "$EDAOS" pool query "$T/p1"
touch "$T/release"
wait $holder || bad "holder failed"
run_ok "$EDAOS" pool query "$T/p1"

note "under mpiexec"
run_ok "$MPIEXEC" -n 1 "$EDAOS" pool query "$T/p1"
golden pool_query.txt
run_ok "$MPIEXEC" -n 2 "$EDAOS" pool list-cont "$T/p1"
rc=0; "$MPIEXEC" -n 2 "$EDAOS" pool query "$T/none" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || bad "mpiexec -n 2 error exit $rc"
finish

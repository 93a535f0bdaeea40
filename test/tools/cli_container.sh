#!/usr/bin/env bash
# edaos container ...: the seed's create command, query / get-prop / list layouts (golden),
# set-prop, destroy, environment defaults, and the exit code and one-line message of bad input.
#   cli_container.sh <edaos> <golden-dir> <cli_helper> <mpiexec>
source "$(dirname "$0")/lib.sh"
HELPER=$1
SEED_PROPS=rd_fac:3,ec_cell_sz:131072,cksum:crc32,srv_cksum:on
cd "$T"

run_ok "$EDAOS" pool create --engines 8 --targets 2 "$T/small"
run_ok "$EDAOS" pool create --engines 20 --targets 1 "$T/big"

note "the seed's create command"
run_fail 1 "container create: object class EC_16P3GX needs 19 engines \(fault domains\), pool has 8$" \
  "$EDAOS" container create --type=POSIX --chunk-size=2097152 --properties=$SEED_PROPS \
  --file-oclass=EC_16P3GX --dir-oclass=RP_4G1 "$T/small" seedcont
run_ok "$EDAOS" container create --type=POSIX --chunk-size=2097152 --properties=$SEED_PROPS \
  --file-oclass=EC_16P3GX --dir-oclass=RP_4G1 "$T/big" seedcont
golden container_create.txt
run_ok "$EDAOS" container query "$T/big" seedcont
golden container_query_seed.txt
run_ok "$EDAOS" container get-prop "$T/big" seedcont
golden container_get_prop_seed.txt
run_ok "$EDAOS" cont get-prop --properties=label,rd_fac,cksum,status "$T/big" seedcont
golden container_get_prop_some.txt

note "bad input: exit 2 for the command line, 1 for what the pool refuses"
run_fail 2 "unknown object class 'EC_17P3GX'" \
  "$EDAOS" container create --file-oclass=EC_17P3GX "$T/small" c
run_fail 2 "object class EC_2P1GX does not meet the container's rd_fac 3" \
  "$EDAOS" container create --properties=rd_fac:3 --file-oclass=EC_2P1GX "$T/small" c
run_ok "$EDAOS" pool create --engines 3 --targets 1 "$T/tiny"
run_fail 1 "object class RP_4G1 needs 4 engines \(fault domains\), pool has 3" \
  "$EDAOS" container create --dir-oclass=RP_4G1 "$T/tiny" c
run_fail 2 "property cksum: invalid value 'md5'" \
  "$EDAOS" container create --properties=cksum:md5 "$T/small" c
run_fail 2 "nokey" "$EDAOS" container create --properties=nokey:1 "$T/small" c
run_fail 2 "rd_fac" "$EDAOS" container create --properties=rd_fac "$T/small" c
run_fail 2 "abc" "$EDAOS" container create --chunk-size=abc "$T/small" c
run_fail 2 "no container given" "$EDAOS" container create "$T/small"
run_fail 2 "unknown option --bogus" "$EDAOS" container query --bogus "$T/small" c

note "create, duplicate, list"
run_ok "$EDAOS" container create --properties=rd_fac:1,cksum:crc32,srv_cksum:on \
  --file-oclass=EC_2P1GX --dir-oclass=RP_2G1 "$T/small" c1
run_ok "$EDAOS" container create --type=HDF5 --label=c2 "$T/small"
run_fail 1 "c1" "$EDAOS" container create "$T/small" c1
run_ok "$EDAOS" container list "$T/small"
golden container_list.txt
run_ok "$EDAOS" pool list-cont "$T/small"
golden container_list.txt
run_ok "$EDAOS" container query "$T/small" c1
golden container_query_small.txt

note "unknown container: exit 1"
for cmd in query get-prop destroy; do
  run_fail 1 "container $cmd: no container 'nope' in pool small" "$EDAOS" container $cmd "$T/small" nope
done
run_fail 1 "no container 'nope'" "$EDAOS" container set-prop "$T/small" nope status:healthy

note "set-prop"
run_ok "$EDAOS" container set-prop "$T/small" c1 status:HEALTHY
grep -q "Properties were successfully set" "$T/out" || bad "set-prop message"
run_ok "$EDAOS" container set-prop "$T/small" c1 --properties=label:renamed,cksum_size:64KiB
run_ok "$EDAOS" container get-prop --properties=label,cksum_size,status "$T/small" renamed
golden container_get_prop_set.txt
run_fail 2 "property cksum: invalid value 'bogus'" \
  "$EDAOS" container set-prop "$T/small" renamed cksum:bogus
run_fail 2 "owner" "$EDAOS" container set-prop "$T/small" renamed owner:someone@
run_fail 2 "srv_cksum" "$EDAOS" container set-prop "$T/small" c2 srv_cksum:on
run_fail 2 "no properties given" "$EDAOS" container set-prop "$T/small" renamed
run_fail 2 "unknown property 'colour'" "$EDAOS" container get-prop --properties=colour "$T/small" renamed

note "environment defaults (DAOS_POOL, DAOS_CONT) and labels"
DAOS_POOL=$T/small DAOS_CONT=renamed run_ok env -u EDAOS_POOL "$EDAOS" container query
grep -q "Container Label *renamed" "$T/out" || bad "DAOS_POOL/DAOS_CONT defaults"
run_ok env -u EDAOS_POOL "$EDAOS" container query small renamed
grep -q "Container Label *renamed" "$T/out" || bad "bare pool name in cwd"

note "pool in use: exit 3"
"$HELPER" hold "$T/small" "$T/release" &
holder=$!
for _ in $(seq 1 300); do [ -f "$T/small.ready" ] && break; sleep 0.1; done
run_fail 3 "container create: cannot connect to .*pool in use by" \
  "$EDAOS" container create "$T/small" c3
touch "$T/release"
wait $holder || bad "holder failed"

note "destroy"
run_ok "$EDAOS" container destroy --force "$T/small" c2
grep -q "Successfully destroyed container c2" "$T/out" || bad "destroy message"
run_ok "$EDAOS" container destroy "$T/small" renamed
run_ok "$EDAOS" container list "$T/small"
[ "$(cat "$T/out")" = "No containers." ] || bad "list after destroy"
finish

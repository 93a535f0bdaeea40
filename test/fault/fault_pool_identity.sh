#!/usr/bin/env bash
# Pool identity (issue 12 item 4). A missing, foreign or damaged POOL never re-creates a pool
# over existing engines (clear error, nothing changed, the data readable again once POOL is
# restored); an engine directory of another pool is refused as lost and left untouched; a pool
# of a build that recorded no identity opens and is upgraded in place; pools are created only in
# empty or absent directories; `pool create --size` below the minimum is refused.
#   fault_pool_identity.sh <edaos> <fault_helper> [<mpiexec> <libedaos_mpio> <fault_app>]
EDAOS=$1 HELPER=$2 MPIEXEC=${3:-} MPIO=${4:-} APP=${5:-}
source "$(dirname "$0")/lib.sh"

mpiio() {  # mpiio NP ARGS...: the MPI-IO program with the driver preloaded (skipped without)
  local np=$1
  shift
  "$MPIEXEC" -n "$np" -genv LD_PRELOAD "$MPIO" "$APP" "$@"
}
# Checksums of everything that holds data or identity (not LOCK files, which name the owner,
# nor LMDB's reader tables `meta.mdb-lock` (session 10), which any reader process rewrites,
# nor `metapage.S` (session 11), which names the serving process's shared page and is
# rewritten by every job whose servers serve the engines, before the pool service is checked).
fingerprint() {
  (cd "$1" && find . -type f ! -name LOCK ! -name '*-lock' ! -name '*.tmp' ! -name 'metapage.*' \
     -exec md5sum {} + | sort)
}

head -c 3000000 /dev/urandom >data.bin
head -c 2000000 /dev/urandom >other.bin
run_ok "$EDAOS" pool create --engines 4 --targets 2 p
run_ok "$EDAOS" container create --properties=rd_fac:1 --file-oclass=RP_2G1 --dir-oclass=RP_2G1 p c
run_ok "$EDAOS" fs copy --src data.bin --dst daos://p/c/d.bin
uuid=$(grep -a '^uuid ' p/POOL | cut -d' ' -f2)
check '[ -n "$uuid" ]' "no uuid in p/POOL"
check '[ ! -e p/CREATE.lock ] && [ ! -e p/CREATING ]' "creation left its lock or marker"
fingerprint p >p.before

note "POOL missing: nothing re-creates the pool; everything refuses with the same message"
mv p/POOL POOL.saved
run_fail 1 "pool create: damaged pool at .*p: it holds 4 engine directories and the pool service \(psvc\) but no POOL file .*nothing was changed" \
  "$EDAOS" pool create p
run_fail 1 "damaged pool at" "$EDAOS" pool create --engines 8 "$T/p"
run_fail 1 "fs cat: .*damaged pool at .*no POOL file" "$EDAOS" fs cat daos://p/c/d.bin
run_fail 1 "damaged pool at" "$EDAOS" pool query p
if [ -n "$APP" ]; then
  # MPI_MODE_CREATE must not make a pool of it either.
  rc=0
  mpiio 2 write "daos://p/c/new.dat" 1000 >out.mpi 2>&1 || rc=$?
  check '[ $rc -ne 0 ]' "MPI-IO create on a pool without POOL succeeded"
  check 'grep -q "damaged pool at" out.mpi' "MPI-IO error does not say the pool is damaged: $(head -c 300 out.mpi)"
fi
check '[ ! -e p/POOL ]' "something wrote a new p/POOL"
mv POOL.saved p/POOL
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin
check '[ "$(grep -a "^uuid " p/POOL | cut -d" " -f2)" = "$uuid" ]' "pool UUID changed"
fingerprint p >p.after
check 'diff -q p.before p.after >/dev/null' "pool contents changed: $(diff p.before p.after | head -5)"

note "a POOL file of another pool: refused naming both UUIDs, nothing changed"
run_ok "$EDAOS" pool create --engines 4 --targets 2 q
quuid=$(grep -a '^uuid ' q/POOL | cut -d' ' -f2)
cp p/POOL p.POOL
cp q/POOL p/POOL
run_fail 1 "fs cat: .*pool service .*p/psvc belongs to pool $uuid, but .*p/POOL names pool $quuid .*nothing was changed" \
  "$EDAOS" fs cat daos://p/c/d.bin
run_fail 1 "belongs to pool $uuid" "$EDAOS" container list p
run_fail 1 "a pool already exists" "$EDAOS" pool create p
if [ -n "$APP" ]; then
  rc=0
  mpiio 2 write "daos://p/c/new.dat" 1000 >out.mpi 2>&1 || rc=$?
  check '[ $rc -ne 0 ] && grep -q "belongs to pool $uuid" out.mpi' "MPI-IO on a foreign POOL: $(head -c 300 out.mpi)"
fi
cp p.POOL p/POOL
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin
fingerprint p >p.after
check 'diff -q p.before p.after >/dev/null' "pool contents changed: $(diff p.before p.after | head -5)"

note "an engine directory of another pool moved in: lost (down) for reads, left untouched"
run_ok "$EDAOS" container create --properties=rd_fac:1 --file-oclass=RP_2G1 --dir-oclass=RP_2G1 q c
run_ok "$EDAOS" fs copy --src other.bin --dst daos://q/c/d.bin
mv p/engine-0001 p.e1
cp -a q/engine-0001 p/engine-0001
fingerprint p/engine-0001 >e1.before
for i in 1 2; do
  run_ok "$EDAOS" fs cat daos://p/c/d.bin
  same out data.bin
done
EDAOS_LOG=warn "$EDAOS" fs ls daos://p/c/ >/dev/null 2>warn.log || true
check 'grep -q "engine-0001 belongs to pool $quuid as engine 1, not to pool $uuid" warn.log' \
  "no warning naming both pools: $(head -c 300 warn.log)"
check '[ "$(map_state p)" = "version=1 disabled=1 " ]' "pool map: $(map_state p)"
fingerprint p/engine-0001 >e1.after
check 'diff -q e1.before e1.after >/dev/null' "the foreign engine directory was changed"
rm -rf p/engine-0001
mv p.e1 p/engine-0001
check '[ "$(map_state p)" = "version=1 " ]' "pool map after the engine came back: $(map_state p)"
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin

note "an engine that lost its IDENTITY in a pool that has one: lost, not adopted"
mv p/engine-0002/IDENTITY id2.saved
check '[ "$(map_state p)" = "version=1 disabled=2 " ]' "pool map: $(map_state p)"
check '[ ! -e p/engine-0002/IDENTITY ]' "an engine without identity was adopted"
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin
mv id2.saved p/engine-0002/IDENTITY

note "a pool of an older build (no identity anywhere) opens and is upgraded in place"
run_ok "$HELPER" strip-identity p
run_ok "$HELPER" has-identity p
check '[ "$(tr "\n" " " <out)" = "pool 0 engine-0000 0 engine-0001 0 engine-0002 0 engine-0003 0 " ]' \
  "strip-identity left: $(tr '\n' ' ' <out)"
mv p/engine-0003 p.e3  # an engine away during the upgrade: POOL keeps no identity flag yet
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin
run_ok "$HELPER" has-identity p
check '[ "$(tr "\n" " " <out)" = "pool 0 engine-0000 1 engine-0001 1 engine-0002 1 engine-0003 0 " ]' \
  "partial upgrade: $(tr '\n' ' ' <out)"
mv p.e3 p/engine-0003
run_ok "$EDAOS" pool query p
run_ok "$HELPER" has-identity p
check '[ "$(tr "\n" " " <out)" = "pool 1 engine-0000 1 engine-0001 1 engine-0002 1 engine-0003 1 " ]' \
  "upgrade: $(tr '\n' ' ' <out)"
check '[ "$(map_state p)" = "version=1 " ]' "pool map after the upgrade: $(map_state p)"
run_ok "$EDAOS" fs cat daos://p/c/d.bin
same out data.bin

note "pools are created only in empty or absent directories"
mkdir -p notempty && touch notempty/keep
run_fail 1 "cannot create a pool at .*notempty: the directory is not empty \(it holds 'keep'\)" \
  "$EDAOS" pool create notempty
check '[ "$(ls notempty)" = keep ]' "pool create changed a non-empty directory"
mkdir -p empty
run_ok "$EDAOS" pool create --engines 2 --targets 1 empty
check '[ -f empty/POOL ] && [ ! -e empty/CREATE.lock ]' "no pool in the empty directory"
# An interrupted creation (marker and half the engines) is finished by the next one.
mkdir -p interrupted/engine-0000/tgt-0 interrupted/psvc
echo x >interrupted/CREATING
run_ok "$EDAOS" pool create --engines 3 --targets 1 interrupted
check '[ -f interrupted/POOL ] && [ ! -e interrupted/CREATING ] && [ -d interrupted/engine-0002 ]' \
  "interrupted creation not finished"
run_ok "$EDAOS" pool query interrupted

note "pool create --size below the minimum (1 MiB per engine)"
run_fail 2 "pool create: pool size 5 B is too small for 8 engines: each engine needs at least 1.0 MiB, so the pool at least 8.0 MiB" \
  "$EDAOS" pool create --engines 8 --size 5 small
check '[ ! -e small/POOL ]' "a pool was created with a too small size"
run_fail 2 "too small for 4 engines" "$EDAOS" pool create --engines 4 --size 3MiB small
run_ok "$EDAOS" pool create --engines 4 --targets 1 --size 4MiB small
check 'grep -aq "^quota_bytes 4194304$" small/POOL' "quota not recorded"
finish

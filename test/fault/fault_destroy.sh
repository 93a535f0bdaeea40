#!/usr/bin/env bash
# Container destroy is crash-safe (issue 12): the record is marked before any data goes and
# removed last, so a kill -9 or a down engine leaves a container marked "being destroyed"
# (listed, refused at open) that the next `container destroy` finishes; never data without a
# record (orphans no tool finds).
#   fault_destroy.sh <edaos>
EDAOS=$1
source "$(dirname "$0")/lib.sh"

head -c 3000000 /dev/urandom >data.bin
run_ok "$EDAOS" pool create --engines 3 --targets 2 p
# Shard files of a container (its data on every engine).
shards() { find p -path "*/tgt-*/$1/*" -type f | wc -l; }
make_cont() {  # make_cont LABEL: a container holding a copy of data.bin; prints its UUID
  "$EDAOS" container create --properties=rd_fac:1 --file-oclass=RP_2G1 --dir-oclass=RP_2G1 p "$1" |
    sed -n 's/^Successfully created container //p'
  "$EDAOS" fs copy --src data.bin --dst "daos://p/$1/d.bin" >/dev/null
}

note "an engine down during the destroy: refused to finish, marked, finished later"
u=$(make_cont c)
check '[ "$(shards "$u")" -gt 0 ]' "container c has no shard files"
victim=$(find p -path "*/tgt-*/$u/*" -type f | head -1 | sed 's#^p/\(engine-[0-9]*\)/.*#\1#')
mv "p/$victim" victim.away
run_fail 1 "container destroy: container 'c' is only partly destroyed: the container's data is still on down engines: engine [0-9]+ \(engine directory .* is missing\).*destroy it again" \
  "$EDAOS" container destroy p c
run_ok "$EDAOS" container list p
grep -q "^  c (being destroyed) $u" out || bad "list does not show the unfinished destroy: $(cat out)"
run_fail 1 "container 'c' in pool p is being destroyed .*destroy it again" "$EDAOS" container query p c
run_fail 1 "is being destroyed" "$EDAOS" fs cat daos://p/c/d.bin
mv victim.away "p/$victim"
check '[ "$(shards "$u")" -gt 0 ]' "the down engine lost its data while away"
run_ok "$EDAOS" container destroy p c
check '[ "$(shards "$u")" -eq 0 ]' "orphaned shard files of c: $(find p -path "*/$u/*" -type f)"
run_ok "$EDAOS" container list p
check '[ "$(cat out)" = "No containers." ]' "container list: $(cat out)"

note "kill -9 after the mark, and after the purge: the next destroy finishes"
for point in after-mark after-purge; do
  u=$(make_cont "k-$point")
  rc=0
  EDAOS_FAULT_CONT_DESTROY=$point "$EDAOS" container destroy p "k-$point" >/dev/null 2>&1 || rc=$?
  check '[ $rc -eq 137 ]' "destroy was not killed at $point (exit $rc)"
  run_ok "$EDAOS" container list p
  grep -q "k-$point (being destroyed)" out || bad "$point: not listed as being destroyed: $(cat out)"
  run_fail 1 "is being destroyed" "$EDAOS" container query p "k-$point"
  run_ok "$EDAOS" container destroy p "k-$point"
  check '[ "$(shards "$u")" -eq 0 ]' "$point: orphaned shard files"
  run_ok "$EDAOS" container list p
  check '[ "$(cat out)" = "No containers." ]' "$point: container list: $(cat out)"
done

note "an excluded engine does not block a destroy"
u=$(make_cont e)
run_ok "$EDAOS" pool exclude --engine=2 p
run_ok "$EDAOS" container destroy p e
run_ok "$EDAOS" container list p
check '[ "$(cat out)" = "No containers." ]' "container list: $(cat out)"
finish

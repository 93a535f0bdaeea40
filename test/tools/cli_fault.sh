#!/usr/bin/env bash
# Fault drills through the tool, MPI-IO and HDF5-on-MPI-IO (label fault): the reproductions of
# issue 12. Never a wrong byte with exit 0:
#  - shard files damaged between jobs (zeroed 64K, truncated, flipped, an older copy, sidecar
#    truncated or zeroed): RP_2G1 prints the right bytes (repaired from the other replica), S1
#    exits 1 with a checksum error naming the shard;
#  - sizes: a file whose shards are down is an error (exit 1), not an empty or short file;
#    reads through MPI-IO and HDF5 (edaos-ior -r -R) fail instead of coming back short;
#  - the EC write hole: an IOR job stopped between a stripe's data and parity
#    (EDAOS_TEST_FAULT), then `fs cat` with each engine down.
#   cli_fault.sh <edaos> <golden-dir> <cli_helper> <mpiexec> <edaos-ior> <libedaos_mpio.so>
source "$(dirname "$0")/lib.sh"
HELPER=$1 MPIEXEC=$2 IOR=$3 MPIO=$4
cd "$T"
unset EDAOS_ENGINES_DOWN EDAOS_TEST_FAULT || true

run_ok "$EDAOS" pool create --engines 4 --targets 2 "$T/p"
run_ok "$EDAOS" container create --type=POSIX \
  --properties=rd_fac:1,cksum:crc32,srv_cksum:on --file-oclass=RP_2G1 "$T/p" rp
run_ok "$EDAOS" container create --type=POSIX \
  --properties=rd_fac:0,cksum:crc32,srv_cksum:on --file-oclass=S1 "$T/p" s1
head -c 8388608 /dev/urandom >big
head -c 8388608 /dev/urandom >big2

cont_uuid() {  # <cont>
  "$EDAOS" container query "$T/p" "$1" | sed -n 's/^ *Container UUID *//p'
}
# The data file of shard <n> of the only byte array of a container (the namespace keeps its
# directories in KV objects, which have no shard files).
shard_file() {  # <cont> <shard>
  find "$T/p" -path "*/$(cont_uuid "$1")/*" -name "*.$2" -size +64k | head -n 1
}
engine_of() { echo "$1" | sed -n 's#.*/engine-0*\([0-9][0-9]*\)/.*#\1#p'; }

# damage <kind> <data file> [<older copy>]
damage() {
  case $1 in
    zero) dd if=/dev/zero of="$2" bs=64K seek=5 count=1 conv=notrunc status=none ;;
    truncate) truncate -s 0 "$2" ;;
    flip) printf '\x5a' | dd of="$2" bs=1 seek=300001 count=1 conv=notrunc status=none ;;
    older) cp "$3" "$2" ;;
    sidecar-truncate) truncate -s 0 "$2.csum" ;;
    sidecar-zero) dd if=/dev/zero of="$2.csum" bs=1 seek=32 count=400 conv=notrunc status=none ;;
  esac
}

for cont in rp s1; do
  note "$cont: 8 MiB copied in, 64 KiB of one shard file zeroed (the issue's reproduction)"
  run_ok "$EDAOS" fs copy --src big --dst daos://p/$cont/f
  f=$(shard_file $cont 0)
  [ -n "$f" ] || { bad "no shard file for $cont"; continue; }
  cp "$f" "$T/older"  # the data file as of the first copy
  damage zero "$f"
  if [ $cont = rp ]; then
    run_ok "$EDAOS" fs cat daos://p/rp/f
    cmp -s "$T/out" big || bad "rp: fs cat printed wrong bytes after the first copy was zeroed"
  else
    run_fail 1 "fs cat: on-disk data of shard .*$(basename "$f") .* is corrupt: chunk at offset" \
      "$EDAOS" fs cat daos://p/s1/f
  fi
  note "$cont: rewritten, then each kind of damage"
  run_ok "$EDAOS" fs copy --src big2 --dst daos://p/$cont/f
  for kind in zero truncate flip older sidecar-truncate sidecar-zero; do
    damage $kind "$f" "$T/older"
    if [ $cont = rp ]; then
      run_ok "$EDAOS" fs cat daos://p/rp/f
      cmp -s "$T/out" big2 || bad "rp, $kind: fs cat printed wrong bytes"
      run_ok "$EDAOS" fs cat daos://p/rp/f  # repaired: still right
      cmp -s "$T/out" big2 || bad "rp, $kind: wrong bytes after the repair"
    else
      run_fail 1 "fs cat: on-disk data of shard .*$(basename "$f") .* is corrupt: chunk at offset" \
        "$EDAOS" fs cat daos://p/s1/f
      # What was printed before the error (whole verified pieces) must be a prefix of the file.
      cmp -s "$T/out" <(head -c "$(stat -c %s "$T/out")" big2) ||
        bad "s1, $kind: wrong bytes printed before the error"
      run_ok "$EDAOS" fs copy --src big2 --dst daos://p/s1/f  # rewritten: healthy again
    fi
  done
done

note "sizes: the engines holding a file down"
run_ok "$EDAOS" container create --type=POSIX --properties=rd_fac:0 --file-oclass=S1 "$T/p" sz
run_ok "$EDAOS" container create --type=POSIX --chunk-size=1MiB --properties=rd_fac:0 \
  --file-oclass=SX "$T/p" sx
run_ok "$EDAOS" fs copy --src big --dst daos://p/sz/f
run_ok "$EDAOS" fs copy --src big --dst daos://p/sx/f
e=$(engine_of "$(shard_file sz 0)")
EDAOS_ENGINES_DOWN=$e run_fail 1 "fs cat: .*(down|unknown|no readable)" "$EDAOS" fs cat daos://p/sz/f
[ -s "$T/out" ] && bad "S1 with its engine down: fs cat printed $(stat -c %s "$T/out") bytes"
EDAOS_ENGINES_DOWN=0,1,2,3 run_fail 1 "fs cat: .*(down|unknown|no readable)" \
  "$EDAOS" fs cat daos://p/sz/f
for e in 0 1 2 3; do  # SX spans every engine: its size needs all of them
  EDAOS_ENGINES_DOWN=$e run_fail 1 "fs (stat|cat): .*(down|unknown|no readable)" \
    "$EDAOS" fs cat daos://p/sx/f
  [ -s "$T/out" ] && bad "SX with engine $e down: fs cat printed a short file"
done
run_ok "$EDAOS" fs cat daos://p/sx/f
cmp -s "$T/out" big || bad "SX: wrong bytes with every engine up"

note "MPI-IO and HDF5 reads (edaos-ior -r -R) with the file's engine down fail, not short"
export EDAOS_POOL=$T/p DAOS_CONT=sz
known=$(shard_file sz 0)
for api in MPIIO HDF5; do
  rc=0
  "$MPIEXEC" -n 1 -genv LD_PRELOAD "$MPIO" "$IOR" -a $api -b 2m -t 1m -w -k -o daos:/ior.$api -q \
    >"$T/ior.out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || { bad "$api write failed (rc $rc)"; cat "$T/ior.out"; continue; }
  mine=$(find "$T/p" -path "*/$(cont_uuid sz)/*" -name '*.0' -size +64k | { grep -vxF "$known" ||
    true; } | head -n 1)
  known=$(printf '%s\n%s' "$known" "$mine")
  e=$(engine_of "$mine")
  rc=0
  EDAOS_ENGINES_DOWN=$e "$MPIEXEC" -n 1 -genv LD_PRELOAD "$MPIO" "$IOR" -a $api -b 2m -t 1m -r -R \
    -k -o daos:/ior.$api -q >"$T/ior.out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    bad "$api read with engine $e down succeeded"
    cat "$T/ior.out"
  elif grep -qi "mismatch\|wrong" "$T/ior.out"; then
    bad "$api read with engine $e down returned wrong bytes"
  else
    echo "ok: $api read with engine $e down failed (rc $rc): $(grep -i error "$T/ior.out" | head -n 1)"
  fi
done
unset DAOS_CONT
export EDAOS_POOL=$T/default-pool

note "EC write hole: an IOR job stopped between a stripe's data and parity"
run_ok "$EDAOS" container create --type=POSIX \
  --properties=rd_fac:1,cksum:crc32,srv_cksum:on --file-oclass=EC_2P1G1 "$T/p" ec
head -c 4194304 /dev/urandom >orig
run_ok "$EDAOS" fs copy --src orig --dst daos://p/ec/h
rc=0
EDAOS_POOL=$T/p DAOS_CONT=ec EDAOS_TEST_FAULT=ec-partial-data-only "$MPIEXEC" -n 1 \
  -genv LD_PRELOAD "$MPIO" "$IOR" -a MPIIO -b 1m -t 4k -w -k -i 1 -o daos:/h -q \
  >"$T/ior.out" 2>&1 || rc=$?
grep -q "EDAOS_TEST_FAULT: process stopped" "$T/ior.out" || { bad "IOR was not stopped (rc $rc)"; cat "$T/ior.out"; }
refused=0
for e in 0 1 2 3; do
  rc=0
  EDAOS_TEST_FAULT=no-recovery EDAOS_ENGINES_DOWN=$e "$EDAOS" fs cat daos://p/ec/h >"$T/out" \
    2>"$T/err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    grep -q "not of one version" "$T/err" || bad "engine $e down: unexpected error: $(cat "$T/err")"
    refused=$((refused + 1))
  elif ! cmp -s <(tail -c +4097 "$T/out") <(tail -c +4097 orig); then
    bad "engine $e down: bytes outside the interrupted 4 KiB write differ"
  fi
done
[ "$refused" -gt 0 ] || bad "no read with an engine down noticed the interrupted write"
echo "ok: $refused of 4 one-engine-down reads refused before recovery"
run_ok "$EDAOS" fs cat daos://p/ec/h  # every engine up: re-encodes the stripe
for e in 0 1 2 3; do
  EDAOS_ENGINES_DOWN=$e run_ok "$EDAOS" fs cat daos://p/ec/h
  cmp -s <(tail -c +4097 "$T/out") <(tail -c +4097 orig) ||
    bad "engine $e down, after recovery: bytes outside the interrupted write differ"
done

finish

#!/bin/bash
# Fault drill through the HDF5 VOL connector (label fault): a dataset's shard file damaged
# between jobs (zeroed, truncated, an older copy) reads back right with RP_2G1 (repaired from the
# other replica) and fails with an HDF5 error with S1; with engines treated as down a read
# either returns the right values or fails. Never wrong values with success.
#   fault_h5vol.sh <mpiexec> <fault_h5vol_app> <edaos tool> <plugin dir> [<preload>]
set -eu
MPIEXEC=$1 APP=$2 EDAOS=$3 PLUGIN_DIR=$4 PRELOAD=${5:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/edaos-h5fault-XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
export EDAOS_POOL=$W/pool HDF5_VOL_CONNECTOR=edaos HDF5_PLUGIN_PATH=$PLUGIN_DIR EDAOS_LOG=error
genv=()
[ -n "$PRELOAD" ] && genv=(-genv LD_PRELOAD "$PRELOAD")
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
app() { "$MPIEXEC" "${genv[@]}" -n 1 "$APP" "$@"; }
rc_of() { local rc=0; "$@" >/dev/null 2>"$W/err" || rc=$?; echo $rc; }

"$EDAOS" pool create --engines 4 --targets 2 "$W/pool" >/dev/null
for cls in RP_2G1 S1; do
  file=f_$cls.h5
  app create $file
  "$EDAOS" container set-prop "$W/pool" $file \
    --properties=cksum:crc32,srv_cksum:on,file_oclass:$cls >/dev/null
  app write $file
  uuid=$("$EDAOS" container query "$W/pool" $file | sed -n 's/^ *Container UUID *//p')
  shard=$(find "$W/pool" -path "*/$uuid/*" -name '*.0' -size +64k | head -n 1)
  [ -n "$shard" ] || { bad "$cls: no shard file"; continue; }
  for kind in zero truncate; do
    case $kind in
      zero) dd if=/dev/zero of="$shard" bs=64K seek=5 count=1 conv=notrunc status=none ;;
      truncate) truncate -s 0 "$shard" ;;
    esac
    rc=$(rc_of app read $file)
    if [ $cls = RP_2G1 ]; then
      [ "$rc" = 0 ] || bad "$cls $kind: read failed (rc $rc): $(head -n 3 "$W/err")"
    else
      [ "$rc" = 11 ] || bad "$cls $kind: expected an HDF5 read error, rc $rc"
      app rewrite $file  # healthy again
    fi
    echo "ok: $cls, shard $kind: read rc $rc"
  done
  # Engines treated as down: right values or an error, never wrong values.
  for e in 0 1 2 3; do
    rc=$(EDAOS_ENGINES_DOWN=$e rc_of app read $file)
    [ "$rc" = 3 ] && bad "$cls engine $e down: WRONG values with success"
    echo "ok: $cls, engine $e down: read rc $rc"
  done
done
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"

# Shared helpers of the edaos tool tests (sourced). Each test script gets:
#   $EDAOS  the tool     $GOLDEN  golden directory     $T  a fresh temp directory (removed at exit)
# and these functions:
#   run_ok CMD...                 CMD must exit 0; its stdout goes to $T/out
#   run_fail RC REGEX CMD...      CMD must exit RC with exactly one stderr line matching REGEX
#   mask                          stdin -> stdout with UUIDs, sizes, times, user names masked
#   golden NAME                   compare masked $T/out with $GOLDEN/NAME (EDAOS_GOLDEN_UPDATE=1
#                                 rewrites the file instead)
set -euo pipefail
EDAOS=$1
GOLDEN=$2
shift 2
T=$(mktemp -d "${TMPDIR:-/tmp}/edaos-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
# A pool home of our own: bare pool names resolve inside $T.
export EDAOS_POOL=$T/default-pool
# Library warnings (EDAOS_LOG=warn in the test environment) would add stderr lines.
export EDAOS_LOG=error
unset DAOS_POOL DAOS_CONT DAOS_CONTAINER EDAOS_CONT || true
fails=0

note() { echo "--- $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

run_ok() {
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    bad "exit $rc from: $*"; cat "$T/err"; return 0
  fi
  if [ -s "$T/err" ]; then bad "stderr not empty from: $*"; cat "$T/err"; fi
}

run_fail() {
  local want=$1 re=$2 rc=0
  shift 2
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  local lines
  lines=$(wc -l <"$T/err")
  if [ "$rc" -ne "$want" ]; then bad "exit $rc (want $want) from: $*"; cat "$T/err"; return 0; fi
  if [ "$lines" -ne 1 ]; then bad "$lines stderr lines (want 1) from: $*"; cat "$T/err"; return 0; fi
  if ! grep -Eq -- "$re" "$T/err"; then bad "stderr of '$*' does not match /$re/:"; cat "$T/err"; fi
  echo "ok ($rc): $(cat "$T/err")"
}

mask() {
  sed -E \
    -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<UUID>/g' \
    -e 's/[0-9]+(\.[0-9])? (B|kB|MB|GB|TB|PB|EB)/<SIZE>/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[- ][0-9]{2}:[0-9]{2}:[0-9]{2}/<TIME>/g' \
    -e 's/^(Owner \(owner\) +|Group \(group\) +)[^ ]+@$/\1<NAME>@/' \
    -e 's/runtime: [0-9]+ sec/runtime: <N> sec/g' \
    -e 's/(OID *[:=] +)[0-9a-f]+\.[0-9a-f]+/\1<OID>/' \
    -e 's/^(  (Owner|Group): +).*/\1<NAME>/' \
    -e "s#$T#<TMP>#g"
}

golden() {
  local name=$1
  mask <"$T/out" >"$T/masked"
  if [ "${EDAOS_GOLDEN_UPDATE:-0}" = 1 ]; then
    cp "$T/masked" "$GOLDEN/$name"
    echo "updated $GOLDEN/$name"
  elif ! diff -u "$GOLDEN/$name" "$T/masked"; then
    bad "output differs from golden $name"
  fi
}

finish() {
  if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"
}

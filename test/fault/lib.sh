# Shared helpers of the fault drills (sourced). Each script gets $T, a fresh temp directory
# (removed at exit) that is also the current directory, hence the pool home (bare pool names
# resolve in it; EDAOS_POOL and DAOS_POOL are unset), and:
#   run_ok CMD...               CMD must exit 0; stdout in $T/out, stderr in $T/err
#   run_fail RC REGEX CMD...    CMD must exit RC and its stderr must match REGEX
#   check COND MSG              records a failure unless COND (a shell test) holds
#   same A B                    files A and B must be byte-identical
#   finish                      exit 1 if any check failed
set -euo pipefail
T=$(mktemp -d "${TMPDIR:-/tmp}/edaos-fault-XXXXXX")
trap 'rm -rf "$T"' EXIT
export EDAOS_LOG=error
unset EDAOS_POOL DAOS_POOL DAOS_CONT DAOS_CONTAINER EDAOS_CONT EDAOS_ENGINES_DOWN EDAOS_FAULT_ENGINE_OPEN \
  EDAOS_FAULT_CONT_DESTROY || true
cd "$T"
fails=0

note() { echo "--- $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

run_ok() {
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 0 ]; then bad "exit $rc from: $*"; cat "$T/err"; fi
  return 0
}

run_fail() {
  local want=$1 re=$2 rc=0
  shift 2
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne "$want" ]; then bad "exit $rc (want $want) from: $*"; cat "$T/err"; return 0; fi
  if ! grep -Eq -- "$re" "$T/err"; then bad "stderr of '$*' does not match /$re/:"; cat "$T/err"; return 0; fi
  echo "ok ($rc): $(head -c 400 "$T/err")"
}

check() { if ! eval "$1"; then bad "$2"; fi; }

same() { if ! cmp -s "$1" "$2"; then bad "$1 and $2 differ"; fi; }

# "version=N" and the disabled engines of `edaos pool query` (one line).
map_state() {
  "$EDAOS" pool query "$1" 2>&1 | sed -n -e 's/.*\(version=[0-9]*\).*/\1/p' \
    -e 's/^- Disabled ranks: \(.*\)/disabled=\1/p' | tr '\n' ' '
}

finish() {
  if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"
}
